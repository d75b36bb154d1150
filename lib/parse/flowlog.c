/* Azure flow logs, read for `nsgsim replay` (include/nsgsim.h, "flow logs").
 *
 * Shapes (Microsoft Learn, "Flow logging for network security groups" and
 * "Virtual network flow logs", log format sections):
 *   NSG flow logs v1/v2: {"records": [{resourceId, macAddress?, properties:
 *     {Version, flows: [{rule, flows: [{mac, flowTuples: ["..."]}]}]}}]}
 *     v1 tuple: ts_s,src,dst,sport,dport,T|U,I|O,A|D
 *     v2 tuple: ts_s,src,dst,sport,dport,T|U,I|O,A|D,B|C|E,pkts_s2d,bytes_s2d,pkts_d2s,bytes_d2s
 *     (the counters are empty on a B record)
 *   VNet flow logs v4: {"records": [{targetResourceID, macAddress, flowLogVersion,
 *     flowRecords: {flows: [{aclID, flowGroups: [{rule, flowTuples: ["..."]}]}]}}]}
 *     tuple: ts_ms,src,dst,sport,dport,proto_number,I|O,B|C|E|D,encryption,pkts..,bytes..
 *     (state D: the flow was denied)
 *
 * The text is parsed by the flat JSON reader (lib/parse/json_flat.c): a
 * document is a handful of allocations, strings are read in place, and the
 * reader keeps its buffers from one file to the next, so a tuple costs no
 * allocation.  The tuple itself is split by hand (the fields are plain
 * ASCII). */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "base/base.h"
#include "parse/json_flat.h"
#include "parse/parse.h"

/* Bytes one file may decompress to: a day of hourly blobs of a busy NIC
 * is far below; a gzip bomb stops here. */
#define FLOWLOG_MAX_BYTES (1ull << 30)
#define FLOWLOG_MAX_DEPTH 64

typedef struct sbuf {
	char *s;
	size_t cap;
} sbuf;

struct nsgsim_flowlog {
	ns_buf text; /* the file, or its decompressed bytes */
	ns_jdoc doc;
	sbuf rule, acl, target, mac, rec_mac, scratch;
};

/* Where the walk is, for error pointers. */
typedef struct walk {
	nsgsim_flowlog *r;
	const char *name;
	const char *text;
	nsgsim_flowlog_fn fn;
	void *ctx;
	nsgsim_error *err;
	nsgsim_flowlog_tuple t;
	int v4;
} walk;

NSGSIM_EXPORT nsgsim_flowlog *nsgsim_flowlog_new(void)
{
	nsgsim_flowlog *r = calloc(1, sizeof *r);
	if (r)
		ns_buf_init(&r->text);
	return r;
}

NSGSIM_EXPORT void nsgsim_flowlog_free(nsgsim_flowlog *r)
{
	if (!r)
		return;
	ns_buf_free(&r->text);
	ns_jdoc_free(&r->doc);
	sbuf *bufs[] = {&r->rule, &r->acl, &r->target, &r->mac, &r->rec_mac, &r->scratch};
	for (size_t i = 0; i < NS_ARRAY_LEN(bufs); i++)
		free(bufs[i]->s);
	free(r);
}

NSGSIM_EXPORT int nsgsim_flowlog_pointer(const nsgsim_flowlog_tuple *t, char *buf, size_t cap)
{
	if (!t)
		return 0;
	if (t->version == 4)
		return snprintf(buf, cap,
		                "/records/%d/flowRecords/flows/%d/flowGroups/%d/flowTuples/%d",
		                t->record, t->flow_index, t->group, t->index);
	return snprintf(buf, cap, "/records/%d/properties/flows/%d/flows/%d/flowTuples/%d",
	                t->record, t->flow_index, t->group, t->index);
}

/* ---- errors ------------------------------------------------------------------ */

/* An error at node `node` (its line and column) with pointer text ptr. */
static int fail_node(walk *w, uint32_t node, int code, const char *ptr, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
static int fail_node(walk *w, uint32_t node, int code, const char *ptr, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	int rc = ns_fail(w->err, code, w->name, ptr, "", "%s", msg);
	if (w->err) {
		uint32_t at = ns_jat(&w->r->doc, node)->at;
		ns_json_line_col(w->text, w->text + at, &w->err->line, &w->err->column);
	}
	return rc;
}

static const char *type_name(int type)
{
	static const char *const names[] = {"null",     "false",    "true",     "a number",
	                                    "a string", "an array", "an object"};
	return type >= 0 && type <= NS_J_OBJECT ? names[type] : "?";
}

/* ---- strings ------------------------------------------------------------------- */

static int sbuf_fit(sbuf *b, size_t n)
{
	if (n + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < n + 1)
		cap *= 2;
	char *s = realloc(b->s, cap);
	if (!s)
		return -1;
	b->s = s;
	b->cap = cap;
	return 0;
}

/* The decoded string node s into b; NSGSIM_E_NOMEM or 0. */
static int take_string(walk *w, uint32_t s, sbuf *b)
{
	const ns_jnode *n = ns_jat(&w->r->doc, s);
	if (sbuf_fit(b, n->len) != 0)
		return ns_fail(w->err, NSGSIM_E_NOMEM, w->name, "", "", "out of memory");
	if (n->escaped)
		ns_jstr_decode(&w->r->doc, s, b->s);
	else {
		memcpy(b->s, w->text + n->at, n->len);
		b->s[n->len] = '\0';
	}
	return 0;
}

/* The value of key in obj, of the type wanted (or 0 when absent and
 * optional); an error names the pointer ptr/key. */
static int get_member(walk *w, uint32_t obj, const char *key, int type, bool required,
                      const char *ptr, uint32_t *out)
{
	*out = 0;
	uint32_t k = ns_jkey(&w->r->doc, obj, key);
	if (!k) {
		if (!required)
			return 0;
		return fail_node(w, obj, NSGSIM_E_MISSING_FIELD, ptr,
		                 "expected a \"%s\" member (%s)", key, type_name(type));
	}
	uint32_t v = k + 1;
	int got = ns_jat(&w->r->doc, v)->type;
	if (got != type) {
		if (!required && got == NS_J_NULL)
			return 0;
		char p[256];
		snprintf(p, sizeof p, "%s/%s", ptr, key);
		return fail_node(w, v, NSGSIM_E_SHAPE, p, "expected %s, not %s", type_name(type),
		                 type_name(got));
	}
	*out = v;
	return 0;
}

/* ---- one tuple ---------------------------------------------------------------- */

static bool parse_u64(const char *s, size_t n, unsigned long long *out)
{
	if (n == 0 || n > 19)
		return false;
	unsigned long long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* A dotted quad, fast; else any form ns_parse_ip takes (IPv6). */
static bool parse_addr(const char *s, size_t n, nsgsim_ip *ip)
{
	unsigned parts[4], k = 0, v = 0, digits = 0;
	size_t i = 0;
	for (; i < n; i++) {
		char c = s[i];
		if (c >= '0' && c <= '9') {
			v = v * 10 + (unsigned)(c - '0');
			if (++digits > 3 || v > 255)
				break;
		} else if (c == '.' && digits && k < 3) {
			parts[k++] = v;
			v = digits = 0;
		} else {
			break;
		}
	}
	if (i == n && k == 3 && digits) {
		parts[3] = v;
		memset(ip, 0, sizeof *ip);
		ip->family = 4;
		for (int j = 0; j < 4; j++)
			ip->bytes[j] = (uint8_t)parts[j];
		return true;
	}
	char tmp[64];
	if (n == 0 || n >= sizeof tmp)
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	int family;
	ns_u128 a;
	if (ns_parse_ip(tmp, &family, &a) != 0)
		return false;
	ns_ip_from_u128(ip, family, a);
	return true;
}

#define MAX_FIELDS 16

static const char *const v2_fields[] = {"time",
                                        "source address",
                                        "destination address",
                                        "source port",
                                        "destination port",
                                        "protocol (T or U)",
                                        "direction (I or O)",
                                        "decision (A or D)",
                                        "state (B, C or E)",
                                        "packets sent",
                                        "bytes sent",
                                        "packets received",
                                        "bytes received"};
static const char *const v4_fields[] = {"time",
                                        "source address",
                                        "destination address",
                                        "source port",
                                        "destination port",
                                        "protocol number",
                                        "direction (I or O)",
                                        "state (B, C, E or D)",
                                        "encryption",
                                        "packets sent",
                                        "bytes sent",
                                        "packets received",
                                        "bytes received"};

static int bad_field(walk *w, uint32_t node, int k, const char *s, size_t n)
{
	char ptr[160];
	nsgsim_flowlog_pointer(&w->t, ptr, sizeof ptr);
	const char *what = (w->v4 ? v4_fields : v2_fields)[k];
	return fail_node(w, node, NSGSIM_E_BAD_FLOW, ptr,
	                 "field %d of the tuple, the %s, is '%.*s'; expected %s%s", k + 1, what,
	                 (int)(n > 64 ? 64 : n), s,
	                 k == 0   ? "a decimal timestamp"
	                 : k <= 2 ? "an IP address"
	                 : k <= 4 ? "a port 0-65535"
	                          : what,
	                 k >= 9 ? " (a decimal count, or empty)" : "");
}

static int one_tuple(walk *w, uint32_t node)
{
	const ns_jnode *jn = ns_jat(&w->r->doc, node);
	char ptr[160];
	if (jn->type != NS_J_STRING) {
		nsgsim_flowlog_pointer(&w->t, ptr, sizeof ptr);
		return fail_node(w, node, NSGSIM_E_SHAPE, ptr, "expected a tuple string, not %s",
		                 type_name(jn->type));
	}
	const char *s = w->text + jn->at;
	size_t len = jn->len;
	if (jn->escaped) {
		if (take_string(w, node, &w->r->scratch) != 0)
			return NSGSIM_E_NOMEM;
		s = w->r->scratch.s;
		len = strlen(s);
	}
	const char *f[MAX_FIELDS];
	size_t fl[MAX_FIELDS];
	int nf = 0;
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == ',') {
			if (nf == MAX_FIELDS)
				break;
			f[nf] = s + start;
			fl[nf++] = i - start;
			start = i + 1;
		}
	}
	int want_min = w->v4 ? 13 : 8;
	if (nf < want_min || (w->v4 && nf != 13) || (!w->v4 && nf != 8 && nf != 13)) {
		nsgsim_flowlog_pointer(&w->t, ptr, sizeof ptr);
		return fail_node(w, node, NSGSIM_E_BAD_FLOW, ptr,
		                 "the tuple has %d comma-separated fields; expected %s", nf,
		                 w->v4 ? "13 (version 4)" : "8 (version 1) or 13 (version 2)");
	}
	nsgsim_flowlog_tuple *t = &w->t;
	t->offset = jn->at;
	unsigned long long ts;
	if (!parse_u64(f[0], fl[0], &ts))
		return bad_field(w, node, 0, f[0], fl[0]);
	t->time_ms = (long long)(w->v4 ? ts : ts * 1000ull);
	if (!parse_addr(f[1], fl[1], &t->flow.src))
		return bad_field(w, node, 1, f[1], fl[1]);
	if (!parse_addr(f[2], fl[2], &t->flow.dst) || t->flow.dst.family != t->flow.src.family)
		return bad_field(w, node, 2, f[2], fl[2]);
	unsigned port;
	if (!ns_parse_decimal(f[3], fl[3], 65535, &port))
		return bad_field(w, node, 3, f[3], fl[3]);
	t->flow.src_port = (int)port;
	if (!ns_parse_decimal(f[4], fl[4], 65535, &port))
		return bad_field(w, node, 4, f[4], fl[4]);
	t->flow.dst_port = (int)port;
	if (w->v4) {
		unsigned proto;
		if (!ns_parse_decimal(f[5], fl[5], 255, &proto))
			return bad_field(w, node, 5, f[5], fl[5]);
		t->flow.protocol = (int)proto;
	} else if (fl[5] == 1 && (f[5][0] == 'T' || f[5][0] == 'U')) {
		t->flow.protocol = f[5][0] == 'T' ? NSGSIM_PROTO_TCP : NSGSIM_PROTO_UDP;
	} else {
		return bad_field(w, node, 5, f[5], fl[5]);
	}
	if (t->flow.protocol != NSGSIM_PROTO_TCP && t->flow.protocol != NSGSIM_PROTO_UDP) {
		t->flow.src_port = NSGSIM_PORT_ANY; /* ports of a portless protocol mean nothing */
		t->flow.dst_port = NSGSIM_PORT_ANY;
	}
	if (fl[6] != 1 || (f[6][0] != 'I' && f[6][0] != 'O'))
		return bad_field(w, node, 6, f[6], fl[6]);
	t->direction = f[6][0] == 'I' ? NSGSIM_INBOUND : NSGSIM_OUTBOUND;
	int first_counter = 9;
	if (w->v4) {
		char st = fl[7] == 1 ? f[7][0] : 0;
		if (st != 'B' && st != 'C' && st != 'E' && st != 'D')
			return bad_field(w, node, 7, f[7], fl[7]);
		t->decision = st == 'D' ? NSGSIM_DENY : NSGSIM_ALLOW;
		t->state = st == 'D' ? 'B' : st;
	} else {
		if (fl[7] != 1 || (f[7][0] != 'A' && f[7][0] != 'D'))
			return bad_field(w, node, 7, f[7], fl[7]);
		t->decision = f[7][0] == 'A' ? NSGSIM_ALLOW : NSGSIM_DENY;
		t->state = 'B';
		if (nf == 13) {
			char st = fl[8] == 1 ? f[8][0] : 0;
			if (st != 'B' && st != 'C' && st != 'E')
				return bad_field(w, node, 8, f[8], fl[8]);
			t->state = st;
		}
	}
	unsigned long long c[4] = {0, 0, 0, 0};
	for (int k = first_counter; k < nf && k < 13; k++)
		if (fl[k] && !parse_u64(f[k], fl[k], &c[k - first_counter]))
			return bad_field(w, node, k, f[k], fl[k]);
	t->packets_out = c[0];
	t->bytes_out = c[1];
	t->packets_in = c[2];
	t->bytes_in = c[3];
	return w->fn(w->ctx, t);
}

/* The tuples of one array (flowTuples). */
static int tuples(walk *w, uint32_t arr)
{
	int i = 0;
	for (uint32_t e = ns_jfirst(&w->r->doc, arr); e; e = ns_jnext(&w->r->doc, e), i++) {
		w->t.index = i;
		int rc = one_tuple(w, e);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* ---- records ------------------------------------------------------------------- */

/* v1/v2: properties.flows[{rule, flows[{mac, flowTuples}]}] */
static int nsg_record(walk *w, uint32_t rec, const char *rptr)
{
	char ptr[200];
	uint32_t props, flows, v;
	int rc;
	if ((rc = get_member(w, rec, "properties", NS_J_OBJECT, true, rptr, &props)) != 0)
		return rc;
	snprintf(ptr, sizeof ptr, "%s/properties", rptr);
	w->t.version = 2;
	if ((rc = get_member(w, props, "Version", NS_J_NUMBER, false, ptr, &v)) != 0)
		return rc;
	if (v) {
		double d = 0;
		ns_jnumber(&w->r->doc, v, &d);
		if (d != 1 && d != 2) {
			snprintf(ptr, sizeof ptr, "%s/properties/Version", rptr);
			return fail_node(w, v, NSGSIM_E_UNSUPPORTED, ptr,
			                 "NSG flow log version %g; expected 1 or 2", d);
		}
		w->t.version = (int)d;
	}
	if ((rc = get_member(w, props, "flows", NS_J_ARRAY, true, ptr, &flows)) != 0)
		return rc;
	int fi = 0;
	for (uint32_t f = ns_jfirst(&w->r->doc, flows); f; f = ns_jnext(&w->r->doc, f), fi++) {
		w->t.flow_index = fi;
		snprintf(ptr, sizeof ptr, "%s/properties/flows/%d", rptr, fi);
		if (!ns_jis(&w->r->doc, f, NS_J_OBJECT))
			return fail_node(w, f, NSGSIM_E_SHAPE, ptr,
			                 "expected an object {rule, flows}");
		uint32_t rule, groups;
		if ((rc = get_member(w, f, "rule", NS_J_STRING, true, ptr, &rule)) != 0 ||
		    (rc = get_member(w, f, "flows", NS_J_ARRAY, true, ptr, &groups)) != 0)
			return rc;
		if ((rc = take_string(w, rule, &w->r->rule)) != 0)
			return rc;
		w->t.rule = w->r->rule.s;
		int gi = 0;
		for (uint32_t g = ns_jfirst(&w->r->doc, groups); g;
		     g = ns_jnext(&w->r->doc, g), gi++) {
			char gptr[240];
			snprintf(gptr, sizeof gptr, "%s/flows/%d", ptr, gi);
			w->t.group = gi;
			if (!ns_jis(&w->r->doc, g, NS_J_OBJECT))
				return fail_node(w, g, NSGSIM_E_SHAPE, gptr,
				                 "expected an object {mac, flowTuples}");
			uint32_t mac, tup;
			if ((rc = get_member(w, g, "mac", NS_J_STRING, false, gptr, &mac)) != 0 ||
			    (rc = get_member(w, g, "flowTuples", NS_J_ARRAY, true, gptr, &tup)) !=
			            0)
				return rc;
			if (mac) {
				if ((rc = take_string(w, mac, &w->r->mac)) != 0)
					return rc;
				w->t.mac = w->r->mac.s;
			} else {
				w->t.mac = w->r->rec_mac.s ? w->r->rec_mac.s : "";
			}
			if ((rc = tuples(w, tup)) != 0)
				return rc;
		}
	}
	return 0;
}

/* v4: flowRecords.flows[{aclID, flowGroups[{rule, flowTuples}]}] */
static int vnet_record(walk *w, uint32_t rec, const char *rptr)
{
	char ptr[200];
	uint32_t fr, flows, v, target;
	int rc;
	w->t.version = 4;
	if ((rc = get_member(w, rec, "flowLogVersion", NS_J_NUMBER, false, rptr, &v)) != 0)
		return rc;
	if (v) {
		double d = 0;
		ns_jnumber(&w->r->doc, v, &d);
		if (d != 4) {
			snprintf(ptr, sizeof ptr, "%s/flowLogVersion", rptr);
			return fail_node(w, v, NSGSIM_E_UNSUPPORTED, ptr,
			                 "VNet flow log version %g; expected 4", d);
		}
	}
	if ((rc = get_member(w, rec, "targetResourceID", NS_J_STRING, false, rptr, &target)) != 0)
		return rc;
	if (target) {
		if ((rc = take_string(w, target, &w->r->target)) != 0)
			return rc;
		w->t.target = w->r->target.s;
	}
	if ((rc = get_member(w, rec, "flowRecords", NS_J_OBJECT, true, rptr, &fr)) != 0)
		return rc;
	snprintf(ptr, sizeof ptr, "%s/flowRecords", rptr);
	if ((rc = get_member(w, fr, "flows", NS_J_ARRAY, true, ptr, &flows)) != 0)
		return rc;
	int fi = 0;
	for (uint32_t f = ns_jfirst(&w->r->doc, flows); f; f = ns_jnext(&w->r->doc, f), fi++) {
		w->t.flow_index = fi;
		snprintf(ptr, sizeof ptr, "%s/flowRecords/flows/%d", rptr, fi);
		if (!ns_jis(&w->r->doc, f, NS_J_OBJECT))
			return fail_node(w, f, NSGSIM_E_SHAPE, ptr,
			                 "expected an object {aclID, flowGroups}");
		uint32_t acl, groups;
		if ((rc = get_member(w, f, "aclID", NS_J_STRING, false, ptr, &acl)) != 0 ||
		    (rc = get_member(w, f, "flowGroups", NS_J_ARRAY, true, ptr, &groups)) != 0)
			return rc;
		w->t.acl = "";
		if (acl) {
			if ((rc = take_string(w, acl, &w->r->acl)) != 0)
				return rc;
			w->t.acl = w->r->acl.s;
		}
		int gi = 0;
		for (uint32_t g = ns_jfirst(&w->r->doc, groups); g;
		     g = ns_jnext(&w->r->doc, g), gi++) {
			char gptr[240];
			snprintf(gptr, sizeof gptr, "%s/flowGroups/%d", ptr, gi);
			w->t.group = gi;
			if (!ns_jis(&w->r->doc, g, NS_J_OBJECT))
				return fail_node(w, g, NSGSIM_E_SHAPE, gptr,
				                 "expected an object {rule, flowTuples}");
			uint32_t rule, tup;
			if ((rc = get_member(w, g, "rule", NS_J_STRING, true, gptr, &rule)) != 0 ||
			    (rc = get_member(w, g, "flowTuples", NS_J_ARRAY, true, gptr, &tup)) !=
			            0)
				return rc;
			if ((rc = take_string(w, rule, &w->r->rule)) != 0)
				return rc;
			w->t.rule = w->r->rule.s;
			if ((rc = tuples(w, tup)) != 0)
				return rc;
		}
	}
	return 0;
}

static int walk_doc(walk *w)
{
	ns_jdoc *d = &w->r->doc;
	uint32_t records = 0;
	int rc;
	if (ns_jis(d, 0, NS_J_ARRAY))
		records = 0; /* a bare array of records */
	else if (!ns_jis(d, 0, NS_J_OBJECT))
		return fail_node(w, 0, NSGSIM_E_SHAPE, "",
		                 "expected a flow log {\"records\": [...]}, not %s",
		                 type_name(ns_jat(d, 0)->type));
	else if ((rc = get_member(w, 0, "records", NS_J_ARRAY, true, "", &records)) != 0)
		return rc;
	int ri = 0;
	for (uint32_t rec = ns_jfirst(d, records); rec; rec = ns_jnext(d, rec), ri++) {
		char rptr[64];
		snprintf(rptr, sizeof rptr, "/records/%d", ri);
		if (!ns_jis(d, rec, NS_J_OBJECT))
			return fail_node(w, rec, NSGSIM_E_SHAPE, rptr,
			                 "expected a record object, not %s",
			                 type_name(ns_jat(d, rec)->type));
		memset(&w->t, 0, sizeof w->t);
		w->t.file = w->name;
		w->t.record = ri;
		w->t.acl = w->t.target = w->t.mac = w->t.rule = "";
		uint32_t mac;
		if ((rc = get_member(w, rec, "macAddress", NS_J_STRING, false, rptr, &mac)) != 0)
			return rc;
		if (mac) {
			if ((rc = take_string(w, mac, &w->r->rec_mac)) != 0)
				return rc;
			w->t.mac = w->r->rec_mac.s;
		} else if (w->r->rec_mac.s) {
			w->r->rec_mac.s[0] = '\0';
		}
		if (ns_jkey(d, rec, "flowRecords")) {
			w->v4 = 1;
			rc = vnet_record(w, rec, rptr);
		} else if (ns_jkey(d, rec, "properties")) {
			w->v4 = 0;
			uint32_t rid;
			if ((rc = get_member(w, rec, "resourceId", NS_J_STRING, false, rptr,
			                     &rid)) != 0)
				return rc;
			if (rid) {
				if ((rc = take_string(w, rid, &w->r->acl)) != 0)
					return rc;
				w->t.acl = w->r->acl.s;
			}
			rc = nsg_record(w, rec, rptr);
		} else {
			rc = fail_node(w, rec, NSGSIM_E_MISSING_FIELD, rptr,
			               "expected \"properties\" (an NSG flow log record) or "
			               "\"flowRecords\" (a VNet flow log record)");
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* ---- gzip ----------------------------------------------------------------------- */

static int gunzip(nsgsim_flowlog *r, const char *name, const unsigned char *data, size_t len,
                  nsgsim_error *err)
{
	r->text.len = 0;
	r->text.failed = false;
	z_stream z;
	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, 15 + 32) != Z_OK)
		return ns_fail(err, NSGSIM_E_NOMEM, name, "", "", "out of memory (zlib)");
	z.next_in = (unsigned char *)(uintptr_t)data;
	z.avail_in = (uInt)(len > UINT32_MAX ? UINT32_MAX : len);
	size_t left = len - z.avail_in;
	int rc = 0;
	char chunk[65536];
	for (;;) {
		z.next_out = (unsigned char *)chunk;
		z.avail_out = sizeof chunk;
		int zr = inflate(&z, Z_NO_FLUSH);
		size_t got = sizeof chunk - z.avail_out;
		if (got)
			ns_buf_put(&r->text, chunk, got);
		if (r->text.failed) {
			rc = ns_fail(err, NSGSIM_E_NOMEM, name, "", "", "out of memory");
			break;
		}
		if (r->text.len > FLOWLOG_MAX_BYTES) {
			rc = ns_fail(err, NSGSIM_E_LIMIT, name, "", "",
			             "the gzip data decompresses to more than %llu bytes",
			             (unsigned long long)FLOWLOG_MAX_BYTES);
			break;
		}
		if (z.avail_in == 0 && left) {
			z.avail_in = (uInt)(left > UINT32_MAX ? UINT32_MAX : left);
			left -= z.avail_in;
		}
		if (zr == Z_STREAM_END) {
			if (z.avail_in == 0)
				break;
			inflateReset(&z); /* another gzip member follows */
			continue;
		}
		if (zr == Z_BUF_ERROR && z.avail_in == 0) {
			rc = ns_fail(
			        err, NSGSIM_E_IO, name, "", "",
			        "the gzip data is truncated (at byte %zu of the compressed input)",
			        len);
			break;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			rc = ns_fail(err, NSGSIM_E_IO, name, "", "",
			             "corrupt gzip data at byte %zu of the compressed input: %s",
			             (size_t)(z.next_in - data), z.msg ? z.msg : "inflate failed");
			break;
		}
	}
	inflateEnd(&z);
	return rc;
}

/* ---- entry points ------------------------------------------------------------------ */

static int read_text(nsgsim_flowlog *r, const char *name, const char *text, size_t len,
                     nsgsim_flowlog_fn fn, void *ctx, nsgsim_error *err)
{
	ns_jdoc_free(&r->doc);
	int rc = ns_jdoc_parse(&r->doc, name, text, len, FLOWLOG_MAX_DEPTH, err);
	if (rc != 0)
		return rc;
	walk w = {.r = r, .name = name, .text = text, .fn = fn, .ctx = ctx, .err = err};
	return walk_doc(&w);
}

NSGSIM_EXPORT int nsgsim_flowlog_read_buffer(nsgsim_flowlog *r, const char *name, const void *data,
                                             size_t len, nsgsim_flowlog_fn fn, void *ctx,
                                             nsgsim_error *err)
{
	if (err)
		memset(err, 0, sizeof *err);
	if (!r || !fn || (!data && len))
		return ns_fail(err, NSGSIM_E_INVALID_ARG, name ? name : "", "", "",
		               "a reader, a callback and the data are required");
	if (!name)
		name = "";
	const unsigned char *b = data;
	if (len >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
		int rc = gunzip(r, name, b, len, err);
		if (rc != 0)
			return rc;
		ns_buf_put(&r->text, "", 0);
		return read_text(r, name, r->text.data, r->text.len, fn, ctx, err);
	}
	return read_text(r, name, len ? data : "", len, fn, ctx, err);
}

static int read_one_file(nsgsim_flowlog *r, const char *path, nsgsim_flowlog_fn fn, void *ctx,
                         nsgsim_error *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return ns_fail(err, NSGSIM_E_IO, path, "", "", "cannot open: %s", strerror(errno));
	ns_buf raw;
	ns_buf_init(&raw);
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && raw.len <= FLOWLOG_MAX_BYTES)
		ns_buf_put(&raw, chunk, n);
	bool bad = ferror(f);
	fclose(f);
	int rc = 0;
	if (bad)
		rc = ns_fail(err, NSGSIM_E_IO, path, "", "", "read error");
	else if (raw.failed)
		rc = ns_fail(err, NSGSIM_E_NOMEM, path, "", "", "out of memory");
	else if (raw.len > FLOWLOG_MAX_BYTES)
		rc = ns_fail(err, NSGSIM_E_LIMIT, path, "", "", "the file has more than %llu bytes",
		             (unsigned long long)FLOWLOG_MAX_BYTES);
	else
		rc = nsgsim_flowlog_read_buffer(r, path, raw.data ? raw.data : "", raw.len, fn, ctx,
		                                err);
	ns_buf_free(&raw);
	return rc;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int read_dir(nsgsim_flowlog *r, const char *path, nsgsim_flowlog_fn fn, void *ctx,
                    nsgsim_error *err, int depth)
{
	if (depth > 32)
		return ns_fail(err, NSGSIM_E_LIMIT, path, "", "", "directories nested too deep");
	DIR *d = opendir(path);
	if (!d)
		return ns_fail(err, NSGSIM_E_IO, path, "", "", "cannot open: %s", strerror(errno));
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			char **nn = realloc(names, nc * sizeof *nn);
			if (!nn) {
				rc = NSGSIM_E_NOMEM;
				break;
			}
			names = nn;
			cap = nc;
		}
		if (!(names[n] = strdup(e->d_name))) {
			rc = NSGSIM_E_NOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (rc != 0)
		rc = ns_fail(err, NSGSIM_E_NOMEM, path, "", "", "out of memory");
	if (n)
		qsort(names, n, sizeof *names, cmp_names);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		size_t need = strlen(path) + strlen(names[i]) + 2;
		char *full = malloc(need);
		if (!full) {
			rc = ns_fail(err, NSGSIM_E_NOMEM, path, "", "", "out of memory");
			break;
		}
		snprintf(full, need, "%s/%s", path, names[i]);
		struct stat st;
		if (stat(full, &st) != 0)
			rc = ns_fail(err, NSGSIM_E_IO, full, "", "", "cannot stat: %s",
			             strerror(errno));
		else if (S_ISDIR(st.st_mode))
			rc = read_dir(r, full, fn, ctx, err, depth + 1);
		else if (ends_with(names[i], ".json") || ends_with(names[i], ".gz"))
			rc = read_one_file(r, full, fn, ctx, err);
		free(full);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

NSGSIM_EXPORT int nsgsim_flowlog_read(nsgsim_flowlog *r, const char *path, nsgsim_flowlog_fn fn,
                                      void *ctx, nsgsim_error *err)
{
	if (err)
		memset(err, 0, sizeof *err);
	if (!r || !path || !fn)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, path ? path : "", "", "",
		               "a reader, a path and a callback are required");
	struct stat st;
	if (stat(path, &st) != 0)
		return ns_fail(err, NSGSIM_E_IO, path, "", "", "cannot open: %s", strerror(errno));
	if (S_ISDIR(st.st_mode))
		return read_dir(r, path, fn, ctx, err, 0);
	return read_one_file(r, path, fn, ctx, err);
}
