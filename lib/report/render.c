/* Rendering a result: the documented JSON object (the CLI's --json and the
 * Python binding's to_dict()), and a short human explanation, one line per
 * layer, in the spirit of NSG diagnostics and Cisco's packet-tracer. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile/policy.h"

NSGSIM_EXPORT const char *nsgsim_layer_name(int layer)
{
	switch (layer) {
	case NSGSIM_LAYER_NONE:
		return "None";
	case NSGSIM_LAYER_ADMIN:
		return "AdminRule";
	case NSGSIM_LAYER_SUBNET_NSG:
		return "SubnetNsg";
	case NSGSIM_LAYER_NIC_NSG:
		return "NicNsg";
	}
	return NULL;
}

static const char *endpoint_name(int endpoint)
{
	return endpoint == NSGSIM_ENDPOINT_SOURCE        ? "source"
	       : endpoint == NSGSIM_ENDPOINT_DESTINATION ? "destination"
	                                                 : NULL;
}

static const char *leaf(const char *id)
{
	const char *s = id ? strrchr(id, '/') : NULL;
	return s ? s + 1 : id ? id : "-";
}

void ns_ip_text(const nsgsim_ip *ip, char *buf, size_t cap);

void ns_ip_text(const nsgsim_ip *ip, char *buf, size_t cap)
{
	ns_u128 v = 0;
	int n = ip->family == 4 ? 4 : 16;
	for (int i = 0; i < n; i++)
		v = (v << 8) | ip->bytes[i];
	ns_format_prefix(buf, cap, ip->family, v, -1);
}

/* ---- JSON ------------------------------------------------------------------- */

static void j_key(ns_buf *b, bool *first, const char *key)
{
	ns_buf_puts(b, *first ? "" : ", ");
	*first = false;
	ns_buf_json_string(b, key);
	ns_buf_puts(b, ": ");
}

static void j_rule(ns_buf *b, const nsgsim_rule_ref *r)
{
	if (!r->name) {
		ns_buf_puts(b, "null");
		return;
	}
	ns_buf_puts(b, "{\"name\": ");
	ns_buf_json_string(b, r->name);
	ns_buf_printf(b, ", \"priority\": %d, \"access\": ", r->priority);
	ns_buf_json_string(b, ns_access_text(r->access));
	ns_buf_puts(b, ", \"id\": ");
	ns_buf_json_string(b, r->id);
	ns_buf_puts(b, "}");
}

static void j_port(ns_buf *b, int port)
{
	if (port < 0)
		ns_buf_puts(b, "null");
	else
		ns_buf_printf(b, "%d", port);
}

static void j_flow(ns_buf *b, const nsgsim_flow *flow, int src_port)
{
	char src[64], dst[64];
	ns_ip_text(&flow->src, src, sizeof src);
	ns_ip_text(&flow->dst, dst, sizeof dst);
	ns_buf_puts(b, "{\"protocol\": ");
	ns_buf_json_string(b, ns_protocol_text(flow->protocol));
	ns_buf_puts(b, ", \"source\": ");
	ns_buf_json_string(b, src);
	ns_buf_puts(b, ", \"sourcePort\": ");
	j_port(b, src_port);
	ns_buf_puts(b, ", \"destination\": ");
	ns_buf_json_string(b, dst);
	ns_buf_puts(b, ", \"destinationPort\": ");
	j_port(b, flow->dst_port);
	ns_buf_puts(b, "}");
}

static void j_detail(ns_buf *b, const nsgsim_rule_detail *d)
{
	ns_buf_puts(b, "{\"name\": ");
	ns_buf_json_string(b, d->rule.name);
	ns_buf_printf(
	        b,
	        ", \"priority\": %d, \"access\": \"%s\", \"protocolMatched\": %s, "
	        "\"sourceMatched\": %s, \"sourcePortMatched\": %s, \"destinationMatched\": %s, "
	        "\"destinationPortMatched\": %s, \"sourceMatchedBy\": ",
	        d->rule.priority, ns_access_text(d->rule.access),
	        d->protocol_matched ? "true" : "false", d->source_matched ? "true" : "false",
	        d->source_port_matched ? "true" : "false",
	        d->destination_matched ? "true" : "false",
	        d->destination_port_matched ? "true" : "false");
	ns_buf_json_string(b, d->source_matched_by);
	ns_buf_puts(b, ", \"destinationMatchedBy\": ");
	ns_buf_json_string(b, d->destination_matched_by);
	ns_buf_puts(b, "}");
}

/* Per-rule detail of a layer (allocates: rendering is not the hot path). */
static int layer_details(const nsgsim_policy *p, const nsgsim_flow *flow, const nsgsim_result *r,
                         int side, int layer, nsgsim_rule_detail **out, size_t *n)
{
	*out = NULL;
	size_t count;
	int rc = nsgsim_explain(p, flow, r, side, layer, NULL, 0, &count, NULL);
	if (rc != 0)
		return rc;
	*out = calloc(count + 1, sizeof **out);
	if (!*out)
		return NSGSIM_E_NOMEM;
	return nsgsim_explain(p, flow, r, side, layer, *out, count, n, NULL);
}

static int j_layers(ns_buf *b, const nsgsim_policy *p, const nsgsim_flow *flow,
                    const nsgsim_result *r, int side, bool verbose)
{
	const nsgsim_side_result *s = &r->sides[side];
	ns_buf_puts(b, "[");
	for (int i = 0; i < s->n_layers; i++) {
		const nsgsim_layer_result *l = &s->layers[i];
		ns_buf_puts(b, i ? ", {\"layer\": " : "{\"layer\": ");
		ns_buf_json_string(b, nsgsim_layer_name(l->layer));
		ns_buf_puts(b, ", \"resource\": ");
		ns_buf_json_string(b, l->resource);
		ns_buf_puts(b, ", \"appliedTo\": ");
		ns_buf_json_string(b, l->applied_to);
		ns_buf_puts(b, ", \"matchedRule\": ");
		j_rule(b, &l->rule);
		if (verbose) {
			nsgsim_rule_detail *d;
			size_t n = 0;
			int rc = layer_details(p, flow, r, side, i, &d, &n);
			if (rc != 0) {
				free(d);
				return rc;
			}
			ns_buf_puts(b, ", \"rules\": [");
			for (size_t k = 0; k < n; k++) {
				ns_buf_puts(b, k ? ", " : "");
				j_detail(b, &d[k]);
			}
			ns_buf_puts(b, "]");
			free(d);
		}
		ns_buf_puts(b, "}");
	}
	ns_buf_puts(b, "]");
	return 0;
}

static void j_assumptions(ns_buf *b, unsigned bits)
{
	ns_buf_puts(b, "[");
	bool first = true;
	for (unsigned bit = 1; bit; bit <<= 1) {
		if (!(bits & bit) || !nsgsim_assumption_key(bit))
			continue;
		ns_buf_puts(b, first ? "{\"id\": " : ", {\"id\": ");
		first = false;
		ns_buf_json_string(b, nsgsim_assumption_key(bit));
		ns_buf_puts(b, ", \"description\": ");
		ns_buf_json_string(b, nsgsim_assumption_text(bit));
		ns_buf_puts(b, "}");
	}
	ns_buf_puts(b, "]");
}

#define NS_MAX_PORT_RANGES 256

static int j_source_ports(ns_buf *b, const nsgsim_policy *p, const nsgsim_flow *flow)
{
	nsgsim_port_outcome *o = calloc(NS_MAX_PORT_RANGES, sizeof *o);
	size_t n = 0;
	if (!o)
		return NSGSIM_E_NOMEM;
	int rc = nsgsim_eval_source_ports(p, flow, o, NS_MAX_PORT_RANGES, &n, NULL);
	if (rc == 0) {
		ns_buf_puts(b, "[");
		for (size_t i = 0; i < n && i < NS_MAX_PORT_RANGES; i++) {
			ns_buf_printf(b, "%s{\"from\": %d, \"to\": %d, \"verdict\": \"%s\", ",
			              i ? ", " : "", o[i].lo, o[i].hi,
			              o[i].verdict == NSGSIM_DENY ? "Deny" : "Allow");
			ns_buf_puts(b, "\"decidedBy\": {\"layer\": ");
			ns_buf_json_string(b, nsgsim_layer_name(o[i].decided_layer));
			ns_buf_puts(b, ", \"rule\": ");
			ns_buf_json_string(b, o[i].decided_rule.name);
			ns_buf_puts(b, ", \"endpoint\": ");
			ns_buf_json_string(b, endpoint_name(o[i].decided_endpoint));
			ns_buf_puts(b, "}}");
		}
		ns_buf_puts(b, "]");
	}
	free(o);
	return rc;
}

static int render_json(ns_buf *b, const nsgsim_policy *p, const nsgsim_flow *flow,
                       const nsgsim_result *r, bool verbose)
{
	bool first = true;
	ns_buf_puts(b, "{");
	j_key(b, &first, "verdict");
	ns_buf_json_string(b, r->verdict == NSGSIM_DENY ? "Deny" : "Allow");
	j_key(b, &first, "decidedBy");
	ns_buf_puts(b, "{\"layer\": ");
	ns_buf_json_string(b, nsgsim_layer_name(r->decided_layer));
	ns_buf_puts(b, ", \"rule\": ");
	ns_buf_json_string(b, r->decided_rule.name);
	ns_buf_puts(b, ", \"endpoint\": ");
	ns_buf_json_string(b, endpoint_name(r->decided_endpoint));
	ns_buf_puts(b, ", \"resource\": ");
	ns_buf_json_string(b, r->decided_resource);
	if (r->decided_rule.name)
		ns_buf_printf(b, ", \"priority\": %d, \"access\": \"%s\"", r->decided_rule.priority,
		              ns_access_text(r->decided_rule.access));
	ns_buf_puts(b, "}");
	j_key(b, &first, "flow");
	j_flow(b, flow, r->src_port);
	j_key(b, &first, "evaluations");
	ns_buf_puts(b, "[");
	for (int i = 0; i < r->n_sides; i++) {
		const nsgsim_side_result *s = &r->sides[i];
		ns_buf_puts(b, i ? ", {\"endpoint\": " : "{\"endpoint\": ");
		ns_buf_json_string(b, endpoint_name(s->endpoint));
		ns_buf_puts(b, ", \"direction\": ");
		ns_buf_json_string(b, s->direction == NSGSIM_INBOUND ? "Inbound" : "Outbound");
		ns_buf_puts(b, ", \"nic\": ");
		ns_buf_json_string(b, s->nic);
		ns_buf_puts(b, ", \"subnet\": ");
		ns_buf_json_string(b, s->subnet);
		ns_buf_puts(b, ", \"verdict\": ");
		ns_buf_json_string(b, s->verdict == NSGSIM_DENY ? "Deny" : "Allow");
		ns_buf_puts(b, ", \"adminRulesSkipped\": ");
		ns_buf_json_string(b, s->admin_skipped);
		ns_buf_puts(b, ", \"layers\": ");
		int rc = j_layers(b, p, flow, r, i, verbose);
		if (rc != 0)
			return rc;
		ns_buf_puts(b, "}");
	}
	ns_buf_puts(b, "]");
	j_key(b, &first, "assumptions");
	j_assumptions(b, r->assumptions);
	if (r->assumptions & NSGSIM_ASSUME_SOURCE_PORTS_DIFFER) {
		j_key(b, &first, "sourcePorts");
		int rc = j_source_ports(b, p, flow);
		if (rc != 0)
			return rc;
	}
	ns_buf_puts(b, "}\n");
	return 0;
}

/* ---- text ------------------------------------------------------------------- */

static void t_rule(ns_buf *b, const nsgsim_rule_ref *r)
{
	ns_buf_printf(b, "%s%s (priority %d, %s)", r->is_default ? "default rule " : "", r->name,
	              r->priority, ns_access_text(r->access));
}

static int t_layers(ns_buf *b, const nsgsim_policy *p, const nsgsim_flow *flow,
                    const nsgsim_result *r, int side, bool verbose)
{
	const nsgsim_side_result *s = &r->sides[side];
	if (s->admin_skipped)
		ns_buf_printf(b, "     note: %s\n", s->admin_skipped);
	if (s->n_layers == 0)
		ns_buf_puts(b, "     no admin rules and no NSG here: allowed\n");
	for (int i = 0; i < s->n_layers; i++) {
		const nsgsim_layer_result *l = &s->layers[i];
		const char *what = l->layer == NSGSIM_LAYER_ADMIN ? "network manager" : "NSG";
		ns_buf_printf(b, "  %d. %-10s %s %s: ", i + 1, nsgsim_layer_name(l->layer), what,
		              leaf(l->resource));
		if (l->matched)
			t_rule(b, &l->rule);
		else
			ns_buf_puts(b, "no rule matched, continue");
		ns_buf_puts(b, "\n");
		if (!verbose)
			continue;
		nsgsim_rule_detail *d;
		size_t n = 0;
		int rc = layer_details(p, flow, r, side, i, &d, &n);
		if (rc != 0) {
			free(d);
			return rc;
		}
		for (size_t k = 0; k < n; k++)
			ns_buf_printf(b,
			              "       %5d %-32s proto:%s src:%s(%s) sport:%s dst:%s(%s) "
			              "dport:%s\n",
			              d[k].rule.priority, d[k].rule.name,
			              d[k].protocol_matched ? "yes" : "no",
			              d[k].source_matched ? "yes" : "no",
			              d[k].source_matched_by ? d[k].source_matched_by : "-",
			              d[k].source_port_matched ? "yes" : "no",
			              d[k].destination_matched ? "yes" : "no",
			              d[k].destination_matched_by ? d[k].destination_matched_by
			                                          : "-",
			              d[k].destination_port_matched ? "yes" : "no");
		free(d);
	}
	return 0;
}

static int render_text(ns_buf *b, const nsgsim_policy *p, const nsgsim_flow *flow,
                       const nsgsim_result *r, bool verbose)
{
	char src[64], dst[64];
	ns_ip_text(&flow->src, src, sizeof src);
	ns_ip_text(&flow->dst, dst, sizeof dst);
	ns_buf_printf(b, "Flow: %s %s", ns_protocol_text(flow->protocol), src);
	if (r->src_port >= 0)
		ns_buf_printf(b, ":%d", r->src_port);
	else if (flow->dst_port >= 0)
		ns_buf_puts(b, ":any");
	ns_buf_printf(b, " -> %s", dst);
	if (flow->dst_port >= 0)
		ns_buf_printf(b, ":%d", flow->dst_port);
	ns_buf_puts(b, "\n");
	if (r->one_sided)
		ns_buf_puts(b, "One side only (as IP flow verify):\n");
	else if (!r->src_modelled)
		ns_buf_printf(b, "Source %s: not a modelled endpoint, nothing evaluated there\n",
		              src);
	for (int i = 0; i < r->n_sides; i++) {
		const nsgsim_side_result *s = &r->sides[i];
		bool is_src = s->endpoint == NSGSIM_ENDPOINT_SOURCE;
		ns_buf_printf(b, "%s %s: %s%s, subnet %s, %s\n", is_src ? "Source" : "Destination",
		              is_src ? src : dst, s->nic ? "NIC " : "no NIC",
		              s->nic ? leaf(s->nic) : "", leaf(s->subnet),
		              s->direction == NSGSIM_INBOUND ? "Inbound" : "Outbound");
		int rc = t_layers(b, p, flow, r, i, verbose);
		if (rc != 0)
			return rc;
	}
	if (r->one_sided)
		;
	else if (!r->dst_modelled)
		ns_buf_printf(b,
		              "Destination %s: not a modelled endpoint, nothing evaluated there\n",
		              dst);
	else if (r->n_sides == 1 && r->sides[0].endpoint == NSGSIM_ENDPOINT_SOURCE)
		ns_buf_printf(b, "Destination %s: not evaluated, the source already denied\n", dst);
	ns_buf_printf(b, "Verdict: %s", r->verdict == NSGSIM_DENY ? "DENY" : "ALLOW");
	if (r->decided_rule.name) {
		ns_buf_printf(b, " by %s ", nsgsim_layer_name(r->decided_layer));
		t_rule(b, &r->decided_rule);
		ns_buf_printf(b, " of %s at the %s", leaf(r->decided_resource),
		              endpoint_name(r->decided_endpoint));
	} else {
		ns_buf_puts(b, " (no rule matched: no NSG and no matching admin rule)");
	}
	ns_buf_puts(b, "\n");
	if (r->assumptions & NSGSIM_ASSUME_SOURCE_PORTS_DIFFER) {
		nsgsim_port_outcome o[64];
		size_t n = 0;
		if (nsgsim_eval_source_ports(p, flow, o, 64, &n, NULL) == 0) {
			ns_buf_puts(b, "Not every source port gets the same answer:\n");
			for (size_t i = 0; i < n && i < 64; i++)
				ns_buf_printf(
				        b, "  source ports %5d-%-5d %-5s by %s %s\n", o[i].lo,
				        o[i].hi, o[i].verdict == NSGSIM_DENY ? "DENY" : "ALLOW",
				        nsgsim_layer_name(o[i].decided_layer),
				        o[i].decided_rule.name ? o[i].decided_rule.name : "-");
			if (n > 64)
				ns_buf_printf(b, "  ... %zu ranges in all\n", n);
		}
	} else if (r->src_port < 0 && flow->dst_port >= 0) {
		ns_buf_puts(b, "The same answer holds for every source port.\n");
	}
	for (unsigned bit = 1; bit; bit <<= 1)
		if ((r->assumptions & bit) && bit != NSGSIM_ASSUME_SOURCE_PORTS_DIFFER &&
		    nsgsim_assumption_text(bit))
			ns_buf_printf(b, "Assumption: %s\n", nsgsim_assumption_text(bit));
	return 0;
}

NSGSIM_EXPORT int nsgsim_result_render(const nsgsim_policy *p, const nsgsim_flow *flow,
                                       const nsgsim_result *r, nsgsim_format format, int verbose,
                                       char **out, nsgsim_error *err)
{
	if (!p || !flow || !r || !out)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "",
		               "policy, flow, result and out are required");
	*out = NULL;
	ns_buf b;
	ns_buf_init(&b);
	int rc = format == NSGSIM_FORMAT_JSON ? render_json(&b, p, flow, r, verbose != 0)
	                                      : render_text(&b, p, flow, r, verbose != 0);
	if (rc == 0 && b.failed)
		rc = NSGSIM_E_NOMEM;
	if (rc != 0) {
		ns_buf_free(&b);
		return ns_fail(err, rc, "", "", "", "%s", nsgsim_strerror(rc));
	}
	*out = b.data;
	return 0;
}
