/* Rendering a result: the documented JSON object (the CLI's --json and the
 * Python binding's to_dict()), and a short human explanation, one line per
 * layer, in the spirit of NSG diagnostics and Cisco's packet-tracer.
 *
 * This formats a report (eval/eval.h: the result, its per-rule detail and
 * its source-port split, all computed by the eval stage) and evaluates
 * nothing.
 *
 * May touch: lib/base and the reports of the eval stage (eval/eval.h). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

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

static void ip_text(const nsgsim_ip *ip, char *buf, size_t cap)
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
	ip_text(&flow->src, src, sizeof src);
	ip_text(&flow->dst, dst, sizeof dst);
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

/* The rules layer `layer` of side `side` tried (verbose reports only). */
static const nsgsim_rule_detail *layer_rules(const ns_report *rep, int side, int layer, size_t *n)
{
	const size_t *start = rep->start[side];
	*n = start[layer + 1] - start[layer];
	if (*n == 0) /* no rules at all: the vector may hold no memory */
		return NULL;
	return (const nsgsim_rule_detail *)rep->rules[side].data + start[layer];
}

static void j_layers(ns_buf *b, const ns_report *rep, int side)
{
	const nsgsim_side_result *s = &rep->result->sides[side];
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
		if (l->member_kind) {
			ns_buf_puts(b, ", \"membership\": {\"networkGroup\": ");
			ns_buf_json_string(b, l->member_group);
			ns_buf_puts(b, ", \"kind\": ");
			ns_buf_json_string(b, l->member_kind);
			ns_buf_puts(b, l->member_assignment ? ", \"policyDefinition\": "
			                                    : ", \"staticMember\": ");
			ns_buf_json_string(b, l->member_by);
			if (l->member_assignment) {
				ns_buf_puts(b, ", \"policyAssignment\": ");
				ns_buf_json_string(b, l->member_assignment);
			}
			ns_buf_puts(b, "}");
		}
		if (rep->verbose) {
			size_t n;
			const nsgsim_rule_detail *d = layer_rules(rep, side, i, &n);
			ns_buf_puts(b, ", \"rules\": [");
			for (size_t k = 0; k < n; k++) {
				ns_buf_puts(b, k ? ", " : "");
				j_detail(b, &d[k]);
			}
			ns_buf_puts(b, "]");
		}
		ns_buf_puts(b, "}");
	}
	ns_buf_puts(b, "]");
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

static int j_source_ports(ns_buf *b, const ns_report *rep)
{
	const nsgsim_port_outcome *o = rep->ports;
	size_t n = rep->n_ports;
	int rc = rep->ports_rc;
	if (rc == 0) {
		ns_buf_puts(b, "[");
		for (size_t i = 0; i < n && i < NS_REPORT_PORTS; i++) {
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
	return rc;
}

static int render_json(ns_buf *b, const ns_report *rep)
{
	const nsgsim_result *r = rep->result;
	const nsgsim_flow *flow = rep->flow;
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
		j_layers(b, rep, i);
		ns_buf_puts(b, "}");
	}
	ns_buf_puts(b, "]");
	j_key(b, &first, "assumptions");
	j_assumptions(b, r->assumptions);
	if (r->assumptions & NSGSIM_ASSUME_SOURCE_PORTS_DIFFER) {
		j_key(b, &first, "sourcePorts");
		int rc = j_source_ports(b, rep);
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

static void t_layers(ns_buf *b, const ns_report *rep, int side)
{
	const nsgsim_side_result *s = &rep->result->sides[side];
	if (s->admin_skipped)
		ns_buf_printf(b, "     note: %s\n", s->admin_skipped);
	if (s->n_layers == 0)
		ns_buf_puts(b, "     no admin rules and no NSG here: allowed\n");
	for (int i = 0; i < s->n_layers; i++) {
		const nsgsim_layer_result *l = &s->layers[i];
		const char *what = l->layer == NSGSIM_LAYER_ADMIN      ? "network manager"
		                   : l->layer == NSGSIM_LAYER_PLATFORM ? "host services"
		                                                       : "NSG";
		ns_buf_printf(b, "  %d. %-10s %s %s: ", i + 1, nsgsim_layer_name(l->layer), what,
		              leaf(l->resource));
		if (l->matched)
			t_rule(b, &l->rule);
		else
			ns_buf_puts(b, "no rule matched, continue");
		ns_buf_puts(b, "\n");
		if (l->member_kind && l->member_assignment)
			ns_buf_printf(b, "     member of %s by policy %s (assignment %s)\n",
			              leaf(l->member_group), leaf(l->member_by),
			              leaf(l->member_assignment));
		else if (l->member_kind)
			ns_buf_printf(b, "     static member of %s\n", leaf(l->member_group));
		if (!rep->verbose)
			continue;
		size_t n;
		const nsgsim_rule_detail *d = layer_rules(rep, side, i, &n);
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
	}
}

static void render_text(ns_buf *b, const ns_report *rep)
{
	const nsgsim_result *r = rep->result;
	const nsgsim_flow *flow = rep->flow;
	char src[64], dst[64];
	ip_text(&flow->src, src, sizeof src);
	ip_text(&flow->dst, dst, sizeof dst);
	/* An IPv6 address with a port is bracketed (RFC 3986), as flows are
	 * written: [2001:db8::1]:443. */
	bool ported = flow->dst_port >= 0;
	bool src6 = ported && flow->src.family == 6, dst6 = ported && flow->dst.family == 6;
	ns_buf_printf(b, "Flow: %s %s%s%s", ns_protocol_text(flow->protocol), src6 ? "[" : "", src,
	              src6 ? "]" : "");
	if (r->src_port >= 0)
		ns_buf_printf(b, ":%d", r->src_port);
	else if (ported)
		ns_buf_puts(b, ":any");
	ns_buf_printf(b, " -> %s%s%s", dst6 ? "[" : "", dst, dst6 ? "]" : "");
	if (ported)
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
		t_layers(b, rep, i);
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
		const nsgsim_port_outcome *o = rep->ports;
		size_t n = rep->n_ports;
		if (rep->ports_rc == 0) {
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
}

int ns_render_report(const ns_report *rep, nsgsim_format format, ns_buf *b)
{
	if (format == NSGSIM_FORMAT_JSON)
		return render_json(b, rep);
	render_text(b, rep);
	return 0;
}
