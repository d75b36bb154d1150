/* Rendering the regions of nsgsim_reach and nsgsim_diff: the documented
 * JSON object ({"query", "regions"} or {"query", "changes", "summary"}), or
 * a table, one region a line.  Formats and never evaluates.
 *
 * May touch: lib/base, the compiled policy and the regions (eval/region.h). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "eval/region.h"
#include "report/report.h"

/* In the order the JSON lists them. */
static const struct {
	int slot;
	const char *name, *lower;
} protos[] = {{NS_PSLOT_TCP, "Tcp", "tcp"},
              {NS_PSLOT_UDP, "Udp", "udp"},
              {NS_PSLOT_ICMP, "Icmp", "icmp"},
              {NS_PSLOT_ESP, "Esp", "esp"},
              {NS_PSLOT_AH, "Ah", "ah"}};

static const char *verdict_name(int v)
{
	return v == NSGSIM_ALLOW ? "Allow" : v == NSGSIM_DENY ? "Deny" : "Unmodelled";
}

static const char *endpoint_name(int e)
{
	return e == NSGSIM_ENDPOINT_SOURCE        ? "source"
	       : e == NSGSIM_ENDPOINT_DESTINATION ? "destination"
	                                          : NULL;
}

/* Where a list's items go: the JSON (every item, quoted) or the table (the
 * first max, then how many more). */
typedef struct items {
	ns_buf *b;
	bool json;
	size_t n, max;
} items;

static void item(items *it, const char *text)
{
	if (it->json || it->n < it->max) {
		ns_buf_puts(it->b, it->n ? (it->json ? ", " : ",") : "");
		if (it->json)
			ns_buf_json_string(it->b, text);
		else
			ns_buf_puts(it->b, text);
	}
	it->n++;
}

static void items_end(items *it)
{
	if (!it->json && it->n > it->max)
		ns_buf_printf(it->b, " (+%zu more)", it->n - it->max);
}

/* The largest k such that the block of 2^k keys at lo is aligned and ends
 * by hi. */
static int block_bits(ns_u128 lo, ns_u128 hi, int bits)
{
	int k = 0;
	while (k < bits && ((lo >> k) & 1) == 0) {
		if (k + 1 == 128) /* the whole IPv6 space */
			return lo == 0 && hi == ~(ns_u128)0 ? 128 : k;
		ns_u128 last = lo + (((ns_u128)1 << (k + 1)) - 1);
		if (last > hi)
			break;
		k++;
	}
	return k;
}

/* The minimal CIDR prefixes of [lo, hi], in order. */
static void each_cidr(items *it, int family, ns_u128 lo, ns_u128 hi)
{
	int bits = family == 4 ? 32 : 128;
	for (;;) {
		int k = block_bits(lo, hi, bits);
		char text[64];
		ns_format_prefix(text, sizeof text, family, lo, bits - k);
		item(it, text);
		ns_u128 last = k == 128 ? ~(ns_u128)0 : lo + (((ns_u128)1 << k) - 1);
		if (last >= hi)
			return;
		lo = last + 1;
	}
}

static void addrs(ns_buf *b, int family, ns_ilist l, bool json)
{
	items it = {b, json, 0, 8};
	for (size_t i = 0; i < l.n; i++)
		each_cidr(&it, family, l.v[i].lo, l.v[i].hi);
	items_end(&it);
}

static void ports(ns_buf *b, ns_ilist l, bool json)
{
	items it = {b, json, 0, 12};
	for (size_t i = 0; i < l.n; i++) {
		char text[16];
		if (l.v[i].lo == l.v[i].hi)
			snprintf(text, sizeof text, "%u", (unsigned)l.v[i].lo);
		else
			snprintf(text, sizeof text, "%u-%u", (unsigned)l.v[i].lo,
			         (unsigned)l.v[i].hi);
		item(&it, text);
	}
	items_end(&it);
}

static void proto_list(ns_buf *b, unsigned bits, bool json)
{
	items it = {b, json, 0, 8};
	for (size_t i = 0; i < NS_ARRAY_LEN(protos); i++)
		if (bits & NS_PBIT(protos[i].slot))
			item(&it, json ? protos[i].name : protos[i].lower);
}

/* ---- JSON ---------------------------------------------------------------------------- */

static void j_decided(ns_buf *b, const ns_rout *o)
{
	ns_buf_puts(b, "{\"verdict\": ");
	ns_buf_json_string(b, verdict_name(o->verdict));
	ns_buf_puts(b, ", \"decidedBy\": {\"layer\": ");
	ns_buf_json_string(b, nsgsim_layer_name(o->layer));
	ns_buf_puts(b, ", \"rule\": ");
	ns_buf_json_string(b, o->rule ? o->rule->r->name : NULL);
	ns_buf_puts(b, ", \"endpoint\": ");
	ns_buf_json_string(b, endpoint_name(o->endpoint));
	ns_buf_puts(b, "}}");
}

static void j_fields(ns_buf *b, const ns_piece *pc)
{
	ns_buf_puts(b, "\"protocols\": [");
	proto_list(b, pc->box.protos, true);
	ns_buf_puts(b, "], \"sources\": [");
	addrs(b, pc->family, pc->box.src, true);
	ns_buf_puts(b, "], \"sourcePorts\": [");
	ports(b, pc->box.sport, true);
	ns_buf_puts(b, "], \"destinations\": [");
	addrs(b, pc->family, pc->box.dst, true);
	ns_buf_puts(b, "], \"destinationPorts\": [");
	ports(b, pc->box.dport, true);
	ns_buf_puts(b, "]");
}

static void j_query(ns_buf *b, const nsgsim_regions *r)
{
	ns_buf_puts(b, "{\"query\": {\"to\": ");
	ns_buf_json_string(b, r->to);
	ns_buf_puts(b, ", \"from\": ");
	ns_buf_json_string(b, r->from);
	ns_buf_puts(b, ", \"protocols\": [");
	proto_list(b, r->protocols, true);
	ns_buf_puts(b, "]");
	if (r->diff)
		ns_buf_printf(b, ", \"rules\": %s}", r->rules ? "true" : "false");
	else
		ns_buf_printf(b, ", \"allowedOnly\": %s}", r->allowed_only ? "true" : "false");
}

static void render_json(ns_buf *b, const nsgsim_regions *r)
{
	j_query(b, r);
	ns_buf_puts(b, r->diff ? ",\n \"changes\": [" : ",\n \"regions\": [");
	for (size_t i = 0; i < r->n; i++) {
		const ns_piece *pc = &r->pieces[i];
		ns_buf_puts(b, i ? ",\n  {" : "\n  {");
		if (r->diff) {
			j_fields(b, pc);
			ns_buf_puts(b, ", \"before\": ");
			j_decided(b, &pc->out[0]);
			ns_buf_puts(b, ", \"after\": ");
			j_decided(b, &pc->out[1]);
		} else {
			ns_buf_puts(b, "\"verdict\": ");
			ns_buf_json_string(b, verdict_name(pc->out[0].verdict));
			ns_buf_puts(b, ", ");
			j_fields(b, pc);
			ns_buf_puts(b, ", \"decidedBy\": {\"layer\": ");
			ns_buf_json_string(b, nsgsim_layer_name(pc->out[0].layer));
			ns_buf_puts(b, ", \"rule\": ");
			ns_buf_json_string(b, pc->out[0].rule ? pc->out[0].rule->r->name : NULL);
			ns_buf_puts(b, ", \"endpoint\": ");
			ns_buf_json_string(b, endpoint_name(pc->out[0].endpoint));
			ns_buf_puts(b, "}");
		}
		ns_buf_puts(b, "}");
	}
	ns_buf_puts(b, r->n ? "\n ]" : "]");
	if (r->diff)
		ns_buf_printf(b, ",\n \"summary\": {\"opened\": %zu, \"closed\": %zu}", r->opened,
		              r->closed);
	ns_buf_puts(b, "}\n");
}

/* ---- text ------------------------------------------------------------------------------ */

static const char *leaf(const char *id)
{
	const char *s = id ? strrchr(id, '/') : NULL;
	return s ? s + 1 : id ? id : "-";
}

static const char *t_verdict(const ns_rout *o)
{
	return o->verdict == NSGSIM_ALLOW  ? "ALLOW"
	       : o->verdict == NSGSIM_DENY ? "DENY"
	                                   : "UNMODELLED";
}

/* What decided: "by LAYER RULE (resource, endpoint)". */
static void t_decided(ns_buf *b, const ns_rout *o)
{
	if (o->rule)
		ns_buf_printf(b, "by %s %s (%s, %s)", nsgsim_layer_name(o->layer), o->rule->r->name,
		              leaf(o->resource), endpoint_name(o->endpoint));
	else if (o->verdict != NS_UNMODELLED)
		ns_buf_puts(b, "no rule matched");
	else
		ns_buf_puts(b, "(neither endpoint is a NIC or subnet of the input)");
}

/* One region a line: the verdict (a diff's before -> after), the flows,
 * what decided. */
static void t_region(ns_buf *b, const ns_piece *pc, const nsgsim_regions *r)
{
	if (r->diff)
		ns_buf_printf(b, "  %s -> %s  ", t_verdict(&pc->out[0]), t_verdict(&pc->out[1]));
	else
		ns_buf_printf(b, "  %-5s  ", t_verdict(&pc->out[0]));
	proto_list(b, pc->box.protos, false);
	ns_buf_puts(b, "  ");
	addrs(b, pc->family, pc->box.dst, false);
	if (pc->box.dport.n) {
		ns_buf_puts(b, ":");
		ports(b, pc->box.dport, false);
	}
	ns_buf_puts(b, "  from ");
	addrs(b, pc->family, pc->box.src, false);
	if (pc->box.sport.n && !(pc->box.sport.n == 1 && pc->box.sport.v[0].lo == 0 &&
	                         pc->box.sport.v[0].hi == 65535)) {
		ns_buf_puts(b, " source ports ");
		ports(b, pc->box.sport, false);
	}
	ns_buf_puts(b, "  ");
	if (r->diff) {
		ns_buf_puts(b, "before ");
		t_decided(b, &pc->out[0]);
		ns_buf_puts(b, "; after ");
	}
	t_decided(b, &pc->out[r->diff ? 1 : 0]);
	ns_buf_puts(b, "\n");
}

static void render_text(ns_buf *b, const nsgsim_regions *r)
{
	if (r->diff)
		ns_buf_printf(b, "%zu region%s changed (%zu opened, %zu closed)%s\n", r->n,
		              r->n == 1 ? "" : "s", r->opened, r->closed, r->n ? ":" : "");
	else
		ns_buf_printf(b, "%zu region%s to %s from %s%s\n", r->n, r->n == 1 ? "" : "s",
		              r->to ? r->to : "*", r->from ? r->from : "*", r->n ? ":" : "");
	for (size_t i = 0; i < r->n; i++)
		t_region(b, &r->pieces[i], r);
}

NSGSIM_EXPORT int nsgsim_regions_render(const nsgsim_regions *r, nsgsim_format format, char **out,
                                        nsgsim_error *err)
{
	if (!r || !out)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "",
		               "regions and out are required");
	ns_buf b;
	ns_buf_init(&b);
	if (format == NSGSIM_FORMAT_JSON)
		render_json(&b, r);
	else
		render_text(&b, r);
	return ns_buf_take(&b, out, err, "");
}
