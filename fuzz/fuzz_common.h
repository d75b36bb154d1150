/* Shared by the libFuzzer targets in fuzz/: invariant checks on results and
 * an exerciser that runs every query of the public API over a compiled
 * policy.  The targets see the library's internals (policy.h) only to list
 * the NICs and endpoint addresses of a policy built from fuzzed input; the
 * public API has no enumeration. */
#ifndef NSGSIM_FUZZ_COMMON_H
#define NSGSIM_FUZZ_COMMON_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsgsim.h"
#include "compile/policy.h"

#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__,       \
			        #cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* A failed call: the code is one of the table, err->code agrees and the
 * message is not empty. */
static inline void fuzz_check_error(int rc, const nsgsim_error *err)
{
	FUZZ_CHECK(rc < 0);
	FUZZ_CHECK(rc != NSGSIM_E_INTERNAL);
	FUZZ_CHECK(err->code == rc);
	FUZZ_CHECK(nsgsim_error_name(rc) != NULL);
	FUZZ_CHECK(memchr(err->message, '\0', sizeof err->message) != NULL);
	FUZZ_CHECK(err->message[0] != '\0');
	FUZZ_CHECK(memchr(err->file, '\0', sizeof err->file) != NULL);
	FUZZ_CHECK(memchr(err->pointer, '\0', sizeof err->pointer) != NULL);
	FUZZ_CHECK(memchr(err->resource, '\0', sizeof err->resource) != NULL);
	char buf[4096];
	int n = nsgsim_error_format(err, buf, sizeof buf);
	FUZZ_CHECK(n > 0);
}

/* A string the library printed as JSON must be JSON. */
static inline void fuzz_check_json(const char *text)
{
	FUZZ_CHECK(text != NULL);
	cJSON *doc = cJSON_Parse(text);
	if (!doc)
		fprintf(stderr, "not JSON:\n%s\n", text);
	FUZZ_CHECK(doc != NULL);
	cJSON_Delete(doc);
}

static inline int fuzz_valid_layer(int layer)
{
	return layer >= NSGSIM_LAYER_NONE && layer <= NSGSIM_LAYER_PLATFORM;
}

/* The documented shape of a result from nsgsim_eval / nsgsim_eval_at. */
static inline void fuzz_check_result(const nsgsim_result *r)
{
	FUZZ_CHECK(r->verdict == NSGSIM_ALLOW || r->verdict == NSGSIM_DENY);
	FUZZ_CHECK(r->n_sides >= 0 && r->n_sides <= 2);
	FUZZ_CHECK(fuzz_valid_layer(r->decided_layer));
	FUZZ_CHECK((r->decided_layer == NSGSIM_LAYER_NONE) == (r->decided_rule.name == NULL));
	FUZZ_CHECK(r->decided_endpoint >= NSGSIM_ENDPOINT_NONE &&
	           r->decided_endpoint <= NSGSIM_ENDPOINT_DESTINATION);
	if (r->decided_rule.name) {
		FUZZ_CHECK(r->decided_rule.access >= NSGSIM_ACCESS_ALLOW &&
		           r->decided_rule.access <= NSGSIM_ACCESS_ALWAYS_ALLOW);
		FUZZ_CHECK(r->decided_resource != NULL);
	}
	/* A deny is always some rule's doing. */
	if (r->verdict == NSGSIM_DENY) {
		FUZZ_CHECK(r->decided_rule.name != NULL);
		FUZZ_CHECK(r->decided_rule.access == NSGSIM_ACCESS_DENY);
	}
	FUZZ_CHECK(r->src_port == NSGSIM_PORT_ANY || (r->src_port >= 0 && r->src_port <= 65535));
	for (int s = 0; s < r->n_sides; s++) {
		const nsgsim_side_result *side = &r->sides[s];
		FUZZ_CHECK(side->verdict == NSGSIM_ALLOW || side->verdict == NSGSIM_DENY);
		FUZZ_CHECK(side->endpoint == NSGSIM_ENDPOINT_SOURCE ||
		           side->endpoint == NSGSIM_ENDPOINT_DESTINATION);
		FUZZ_CHECK(side->direction == NSGSIM_INBOUND || side->direction == NSGSIM_OUTBOUND);
		FUZZ_CHECK(side->n_layers >= 0 && side->n_layers <= NSGSIM_MAX_LAYERS);
		FUZZ_CHECK(side->subnet != NULL);
		for (int l = 0; l < side->n_layers; l++) {
			const nsgsim_layer_result *lr = &side->layers[l];
			FUZZ_CHECK(lr->layer >= NSGSIM_LAYER_ADMIN &&
			           lr->layer <= NSGSIM_LAYER_PLATFORM);
			FUZZ_CHECK(lr->resource != NULL);
			FUZZ_CHECK(!lr->matched || lr->rule.name != NULL);
		}
	}
	/* Only the last side evaluated can deny. */
	for (int s = 0; s + 1 < r->n_sides; s++)
		FUZZ_CHECK(r->sides[s].verdict == NSGSIM_ALLOW);
	if (r->n_sides > 0)
		FUZZ_CHECK(r->verdict == r->sides[r->n_sides - 1].verdict);
}

/* nsgsim_explain on every layer of every side: the detail ends at the
 * layer's matched rule, or lists the whole chain when nothing matched. */
static inline void fuzz_explain_all(const nsgsim_policy *p, const nsgsim_flow *flow,
                                    const nsgsim_result *r)
{
	static nsgsim_rule_detail detail[256];
	for (int s = 0; s < r->n_sides; s++) {
		for (int l = 0; l < r->sides[s].n_layers; l++) {
			const nsgsim_layer_result *lr = &r->sides[s].layers[l];
			size_t n = 0;
			nsgsim_error err;
			int rc = nsgsim_explain(p, flow, r, s, l, detail, 256, &n, &err);
			if (rc != 0)
				fuzz_check_error(rc, &err);
			FUZZ_CHECK(rc == 0);
			/* Counting only (cap 0) gives the same count. */
			size_t n0 = 0;
			FUZZ_CHECK(nsgsim_explain(p, flow, r, s, l, NULL, 0, &n0, NULL) == 0);
			FUZZ_CHECK(n0 == n);
			if (lr->matched) {
				FUZZ_CHECK(n >= 1);
				if (n <= 256) {
					const nsgsim_rule_detail *d = &detail[n - 1];
					FUZZ_CHECK(d->protocol_matched && d->source_matched &&
					           d->source_port_matched &&
					           d->destination_matched &&
					           d->destination_port_matched);
					FUZZ_CHECK(d->rule.id == lr->rule.id);
				}
			}
			for (size_t i = 0; i < n && i < 256; i++) {
				FUZZ_CHECK(detail[i].rule.name != NULL);
				if (detail[i].source_matched)
					FUZZ_CHECK(detail[i].source_matched_by != NULL);
				if (detail[i].destination_matched)
					FUZZ_CHECK(detail[i].destination_matched_by != NULL);
			}
		}
	}
	/* Out-of-range sides and layers are refused. */
	size_t n = 0;
	FUZZ_CHECK(nsgsim_explain(p, flow, r, r->n_sides, 0, detail, 256, &n, NULL) ==
	           NSGSIM_E_INVALID_ARG);
	FUZZ_CHECK(nsgsim_explain(p, flow, r, -1, 0, detail, 256, &n, NULL) ==
	           NSGSIM_E_INVALID_ARG);
}

/* Both formats, plain and verbose; the JSON must parse. */
static inline void fuzz_render_all(const nsgsim_policy *p, const nsgsim_flow *flow,
                                   const nsgsim_result *r)
{
	for (int verbose = 0; verbose < 2; verbose++) {
		for (int fmt = NSGSIM_FORMAT_JSON; fmt <= NSGSIM_FORMAT_TABLE; fmt++) {
			char *out = NULL;
			nsgsim_error err;
			int rc = nsgsim_result_render(p, flow, r, (nsgsim_format)fmt, verbose, &out,
			                              &err);
			if (rc != 0)
				fuzz_check_error(rc, &err);
			FUZZ_CHECK(rc == 0);
			FUZZ_CHECK(out != NULL);
			if (fmt == NSGSIM_FORMAT_JSON)
				fuzz_check_json(out);
			nsgsim_free(out);
		}
	}
}

/* Source-port ranges: contiguous from 0 to 65535 (one range for portless
 * protocols), merged, and in agreement with nsgsim_eval at a probe port. */
static inline void fuzz_check_source_ports(const nsgsim_policy *p, const nsgsim_flow *flow,
                                           const nsgsim_result *any_port, int probe)
{
	static nsgsim_port_outcome o[1024];
	size_t n = 0;
	nsgsim_error err;
	nsgsim_flow f = *flow;
	f.src_port = NSGSIM_PORT_ANY;
	int rc = nsgsim_eval_source_ports(p, &f, o, 1024, &n, &err);
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(n >= 1);
	int portless = flow->protocol != NSGSIM_PROTO_TCP && flow->protocol != NSGSIM_PROTO_UDP;
	size_t m = n < 1024 ? n : 1024;
	FUZZ_CHECK(o[0].lo == 0);
	for (size_t i = 0; i < m; i++) {
		FUZZ_CHECK(o[i].lo <= o[i].hi);
		FUZZ_CHECK(o[i].verdict == NSGSIM_ALLOW || o[i].verdict == NSGSIM_DENY);
		FUZZ_CHECK((o[i].decided_layer == NSGSIM_LAYER_NONE) ==
		           (o[i].decided_rule.name == NULL));
		if (i > 0) {
			FUZZ_CHECK(o[i].lo == o[i - 1].hi + 1);
			FUZZ_CHECK(!(o[i].verdict == o[i - 1].verdict &&
			             o[i].decided_layer == o[i - 1].decided_layer &&
			             o[i].decided_endpoint == o[i - 1].decided_endpoint &&
			             o[i].decided_rule.id == o[i - 1].decided_rule.id));
		}
	}
	if (n <= 1024)
		FUZZ_CHECK(o[n - 1].hi == (portless ? 0 : 65535));
	if (portless) {
		FUZZ_CHECK(n == 1);
		return;
	}
	/* The any-port evaluation agrees: uniform iff one range; a deny anywhere
	 * is reported. */
	if (any_port) {
		FUZZ_CHECK((any_port->src_port == NSGSIM_PORT_ANY) == (n == 1));
		int any_deny = 0;
		for (size_t i = 0; i < m; i++)
			any_deny |= o[i].verdict == NSGSIM_DENY;
		if (n <= 1024)
			FUZZ_CHECK((any_port->verdict == NSGSIM_DENY) == any_deny);
	}
	/* A single port gets the outcome of its range. */
	f.src_port = probe & 0xFFFF;
	nsgsim_result one;
	FUZZ_CHECK(nsgsim_eval(p, &f, &one, NULL) == 0);
	for (size_t i = 0; i < m; i++) {
		if (f.src_port < o[i].lo || f.src_port > o[i].hi)
			continue;
		FUZZ_CHECK(one.verdict == o[i].verdict);
		FUZZ_CHECK(one.decided_layer == o[i].decided_layer);
		FUZZ_CHECK(one.decided_rule.id == o[i].decided_rule.id);
	}
}

static inline int fuzz_same_rule(const nsgsim_rule_ref *a, const nsgsim_rule_ref *b)
{
	return a->name == b->name && a->id == b->id && a->priority == b->priority &&
	       a->access == b->access && a->is_default == b->is_default;
}

/* Two results of one policy, field by field (strings are the policy's, so
 * pointers must agree). */
static inline int fuzz_same_result(const nsgsim_result *a, const nsgsim_result *b)
{
	if (a->verdict != b->verdict || a->decided_layer != b->decided_layer ||
	    a->decided_endpoint != b->decided_endpoint ||
	    !fuzz_same_rule(&a->decided_rule, &b->decided_rule) ||
	    a->decided_resource != b->decided_resource || a->n_sides != b->n_sides ||
	    a->assumptions != b->assumptions || a->src_port != b->src_port ||
	    a->src_modelled != b->src_modelled || a->dst_modelled != b->dst_modelled ||
	    a->one_sided != b->one_sided)
		return 0;
	for (int s = 0; s < a->n_sides; s++) {
		const nsgsim_side_result *x = &a->sides[s], *y = &b->sides[s];
		if (x->endpoint != y->endpoint || x->direction != y->direction ||
		    x->nic != y->nic || x->subnet != y->subnet || x->vnet != y->vnet ||
		    x->verdict != y->verdict || x->admin_skipped != y->admin_skipped ||
		    x->n_layers != y->n_layers)
			return 0;
		for (int l = 0; l < x->n_layers; l++) {
			const nsgsim_layer_result *m = &x->layers[l], *n = &y->layers[l];
			if (m->layer != n->layer || m->resource != n->resource ||
			    m->applied_to != n->applied_to || m->matched != n->matched ||
			    !fuzz_same_rule(&m->rule, &n->rule))
				return 0;
		}
	}
	return 1;
}

/* With the engines of nsgsim.h (fuzz.mk defines FUZZ_HAVE_ENGINES when the
 * header declares nsgsim_eval_engine): the linear reference, the compiled
 * classifier and the batch API give identical answers. */
static inline void fuzz_check_engines(const nsgsim_policy *p, const nsgsim_flow *flow, int rc,
                                      const nsgsim_result *r)
{
#ifdef FUZZ_HAVE_ENGINES
	nsgsim_result lin, com;
	int rl = nsgsim_eval_engine(p, flow, NSGSIM_ENGINE_LINEAR, &lin, NULL);
	int rcom = nsgsim_eval_engine(p, flow, NSGSIM_ENGINE_COMPILED, &com, NULL);
	FUZZ_CHECK(rl == rc && rcom == rc);
	if (rc == 0) {
		if (!fuzz_same_result(&lin, r) || !fuzz_same_result(&com, r))
			fprintf(stderr,
			        "engines differ: linear verdict %d layer %d rule %s; compiled "
			        "verdict %d layer %d rule %s; default verdict %d rule %s\n",
			        lin.verdict, lin.decided_layer,
			        lin.decided_rule.name ? lin.decided_rule.name : "-", com.verdict,
			        com.decided_layer,
			        com.decided_rule.name ? com.decided_rule.name : "-", r->verdict,
			        r->decided_rule.name ? r->decided_rule.name : "-");
		FUZZ_CHECK(fuzz_same_result(&lin, r));
		FUZZ_CHECK(fuzz_same_result(&com, r));
	}
	for (int engine = NSGSIM_ENGINE_LINEAR; engine <= NSGSIM_ENGINE_COMPILED; engine++) {
		nsgsim_decision d;
		FUZZ_CHECK(nsgsim_eval_batch(p, flow, 1, engine, &d, NULL) == 0);
		FUZZ_CHECK(d.status == rc);
		if (rc != 0)
			continue;
		FUZZ_CHECK(d.verdict == r->verdict && d.decided_layer == r->decided_layer &&
		           d.decided_endpoint == r->decided_endpoint &&
		           fuzz_same_rule(&d.decided_rule, &r->decided_rule) &&
		           d.decided_resource == r->decided_resource &&
		           d.assumptions == r->assumptions && d.src_port == r->src_port);
	}
#else
	(void)p;
	(void)flow;
	(void)rc;
	(void)r;
#endif
}

/* Everything one may ask about one flow. */
static inline void fuzz_eval_flow(const nsgsim_policy *p, const nsgsim_flow *flow, int probe)
{
	nsgsim_result r;
	nsgsim_error err;
	memset(&r, 0xA5, sizeof r); /* eval must fill every field it reports */
	int rc = nsgsim_eval(p, flow, &r, &err);
	fuzz_check_engines(p, flow, rc, &r);
	if (rc == NSGSIM_E_NOT_MODELLED) {
		fuzz_check_error(rc, &err);
		return;
	}
	if (rc != 0)
		fuzz_check_error(rc, &err);
	FUZZ_CHECK(rc == 0);
	fuzz_check_result(&r);
	fuzz_render_all(p, flow, &r);
	fuzz_explain_all(p, flow, &r);
	fuzz_check_source_ports(p, flow, flow->src_port == NSGSIM_PORT_ANY ? &r : NULL, probe);
}

/* One side at a NIC, both directions, when the flow has what that needs. */
static inline void fuzz_ip_of(nsgsim_ip *ip, int family, ns_u128 v);

static inline void fuzz_eval_at_one(const nsgsim_policy *p, const nsgsim_flow *flow,
                                    const char *nic, int dir)
{
	nsgsim_result r;
	nsgsim_error err;
	int rc = nsgsim_eval_at(p, flow, nic, dir, &r, &err);
	if (rc != 0) {
		fuzz_check_error(rc, &err);
		return;
	}
	FUZZ_CHECK(r.n_sides == 1 && r.one_sided);
	fuzz_check_result(&r);
	fuzz_render_all(p, flow, &r);
	fuzz_explain_all(p, flow, &r);
}

/* The flow at the NIC in both directions: as given (an address not the
 * NIC's is a clean error), and with the NIC's side set to its first
 * address of the flow's family, so that the evaluation itself is reached. */
static inline void fuzz_eval_at_nic(const nsgsim_policy *p, const nsgsim_flow *flow,
                                    const ns_cnic *cn)
{
	const ns_ipconfig *own = NULL;
	for (size_t i = 0; i < cn->n->n_ipconfigs && !own; i++)
		if (cn->n->ipconfigs[i].has_ip && cn->n->ipconfigs[i].family == flow->src.family)
			own = &cn->n->ipconfigs[i];
	for (int dir = NSGSIM_INBOUND; dir <= NSGSIM_OUTBOUND; dir++) {
		fuzz_eval_at_one(p, flow, cn->n->id, dir);
		if (!own)
			continue;
		nsgsim_flow g = *flow;
		fuzz_ip_of(dir == NSGSIM_INBOUND ? &g.dst : &g.src, own->family, own->ip);
		fuzz_eval_at_one(p, &g, cn->n->name, dir);
	}
}

static inline void fuzz_ip_of(nsgsim_ip *ip, int family, ns_u128 v)
{
	memset(ip, 0, sizeof *ip);
	ip->family = family;
	int n = family == 4 ? 4 : 16;
	for (int i = n - 1; i >= 0; i--) {
		ip->bytes[i] = (uint8_t)(v & 0xFF);
		v >>= 8;
	}
}

/* A NIC address of the policy, with its NIC. */
typedef struct fuzz_addr {
	int family;
	ns_u128 ip;
	const ns_cnic *nic;
} fuzz_addr;

/* The first (up to cap) NIC addresses in input order. */
static size_t fuzz_nic_addrs(const nsgsim_policy *p, fuzz_addr *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_nics && n < cap; i++) {
		const ns_cnic *cn = &p->nics[i];
		for (size_t k = 0; k < cn->n->n_ipconfigs && n < cap; k++) {
			const ns_ipconfig *ipc = &cn->n->ipconfigs[k];
			if (ipc->has_ip)
				out[n++] = (fuzz_addr){ipc->family, ipc->ip, cn};
		}
	}
	return n;
}

/* An address of the policy: the first NIC's, else one in the first subnet's
 * first prefix, else 10.0.0.4. */
static inline nsgsim_ip fuzz_some_address(const nsgsim_policy *p, int which)
{
	nsgsim_ip ip;
	fuzz_ip_of(&ip, 4, 0x0A000004u);
	if (which == 0 && p->n_nics && p->nics[0].n->n_ipconfigs &&
	    p->nics[0].n->ipconfigs[0].has_ip)
		fuzz_ip_of(&ip, p->nics[0].n->ipconfigs[0].family, p->nics[0].n->ipconfigs[0].ip);
	else if (which == 1 && p->n_subnets && p->subnets[0].s->n_prefixes &&
	         p->subnets[0].s->prefixes[0].kind == NS_ADDR_CIDR)
		fuzz_ip_of(&ip, p->subnets[0].s->prefixes[0].family,
		           p->subnets[0].s->prefixes[0].addr + 4);
	return ip;
}

/* A flow between the two focus addresses, both ways: the focused policy p
 * answers it as the full one does. */
static inline void fuzz_same_focus_answers(const nsgsim_policy *full, const nsgsim_policy *p,
                                           const nsgsim_ip focus[2])
{
	for (int dir = 0; dir < 2 && focus[0].family == focus[1].family; dir++) {
		nsgsim_flow f = {NSGSIM_PROTO_TCP, focus[dir], focus[1 - dir], 50000, 443};
		nsgsim_result a, b;
		int ra = nsgsim_eval(full, &f, &a, NULL), rb = nsgsim_eval(p, &f, &b, NULL);
		FUZZ_CHECK(ra == rb);
		if (ra != 0)
			continue;
		const char *x = a.decided_rule.id, *y = b.decided_rule.id;
		FUZZ_CHECK(a.verdict == b.verdict && a.decided_layer == b.decided_layer);
		FUZZ_CHECK((x == NULL) == (y == NULL) && (!x || strcmp(x, y) == 0));
	}
}

/* Effective rules of each NIC (by name and by id), and flows between the
 * policy's own endpoint addresses; bounded so that one input stays cheap. */
static inline void fuzz_exercise_policy(const nsgsim_policy *p)
{
	nsgsim_stats st;
	nsgsim_policy_stats(p, &st);
	size_t nn = nsgsim_policy_note_count(p);
	for (size_t i = 0; i < nn; i++) {
		nsgsim_note note;
		FUZZ_CHECK(nsgsim_policy_note(p, i, &note) == 0);
		FUZZ_CHECK(note.message != NULL);
	}
	nsgsim_note note;
	FUZZ_CHECK(nsgsim_policy_note(p, nn, &note) == NSGSIM_E_INVALID_ARG);

	for (size_t i = 0; i < p->n_nics && i < 4; i++) {
		const char *names[2] = {p->nics[i].n->name, p->nics[i].n->id};
		for (int k = 0; k < 2; k++) {
			for (int fmt = NSGSIM_FORMAT_JSON; fmt <= NSGSIM_FORMAT_TABLE; fmt++) {
				char *out = NULL;
				nsgsim_error err;
				int rc = nsgsim_effective(p, names[k], (nsgsim_format)fmt, &out,
				                          &err);
				if (rc != 0) {
					/* Only an ambiguous name may fail. */
					fuzz_check_error(rc, &err);
					FUZZ_CHECK(k == 0 && rc == NSGSIM_E_INVALID_ARG);
					FUZZ_CHECK(out == NULL);
					continue;
				}
				if (fmt == NSGSIM_FORMAT_JSON)
					fuzz_check_json(out);
				nsgsim_free(out);
			}
		}
	}

	/* Flows from and to the first NIC addresses, and to/from the outside. */
	fuzz_addr addrs[4];
	size_t ne = fuzz_nic_addrs(p, addrs, 4);
	for (size_t i = 0; i < ne; i++) {
		const fuzz_addr *a = &addrs[i];
		nsgsim_flow f;
		memset(&f, 0, sizeof f);
		fuzz_ip_of(&f.src, a->family, a->ip);
		/* Outside: 93.184.216.34 or 2001:4860:4860::8888. */
		ns_u128 outside = a->family == 4 ? (ns_u128)0x5DB8D822u
		                                 : ((ns_u128)0x20014860u << 96) | 0x8888u;
		fuzz_ip_of(&f.dst, a->family, outside);
		f.protocol = NSGSIM_PROTO_TCP;
		f.src_port = 50000;
		f.dst_port = 443;
		fuzz_eval_flow(p, &f, 1234);
		nsgsim_flow g = f;
		g.src = f.dst;
		g.dst = f.src;
		g.src_port = NSGSIM_PORT_ANY;
		g.dst_port = 22;
		fuzz_eval_flow(p, &g, 40000);
		if (a->nic)
			fuzz_eval_at_nic(p, &f, a->nic);
		for (size_t j = 0; j < ne; j++) {
			const fuzz_addr *b = &addrs[j];
			if (b->family != a->family)
				continue;
			nsgsim_flow h;
			memset(&h, 0, sizeof h);
			fuzz_ip_of(&h.src, a->family, a->ip);
			fuzz_ip_of(&h.dst, b->family, b->ip);
			h.protocol = (i + j) % 2 ? NSGSIM_PROTO_UDP : NSGSIM_PROTO_ICMP;
			h.src_port = NSGSIM_PORT_ANY;
			h.dst_port = h.protocol == NSGSIM_PROTO_UDP ? 53 : NSGSIM_PORT_ANY;
			fuzz_eval_flow(p, &h, 1024);
		}
	}
}

/* One environment document (with a parameters file when params is not
 * NULL), compiled; *p NULL on failure. */
static inline int fuzz_load_env(const char *name, const char *text, size_t size,
                                const char *params, nsgsim_policy **p, nsgsim_error *err)
{
	nsgsim_loader *l = nsgsim_loader_new();
	FUZZ_CHECK(l != NULL);
	*p = NULL;
	int rc = params ? nsgsim_loader_add_parameters_buffer(l, "params.json", params,
	                                                      strlen(params), err)
	                : 0;
	FUZZ_CHECK(rc == 0 || rc == NSGSIM_E_NOMEM);
	if (rc == 0)
		rc = nsgsim_loader_add_env_buffer(l, name, text, size, err);
	if (rc == 0)
		rc = nsgsim_compile(l, p, err);
	nsgsim_loader_free(l);
	return rc;
}

#endif
