/* The set queries against the single-flow evaluation.
 *
 * On random environments (tests/genenv.h: every input shape, tags, ASGs,
 * admin levels, IPv6), random reach queries -- to a NIC, a subnet, an
 * address, a prefix, a service tag; from everything, a prefix, a NIC --
 * are checked against the contract of nsgsim.h:
 *
 * - every flow inside a region gets from nsgsim_eval exactly the region's
 *   verdict, deciding layer, rule and endpoint (random points in every
 *   region; Unmodelled regions: nsgsim_eval says NSGSIM_E_NOT_MODELLED);
 * - the regions are disjoint and cover the query's space (random flows,
 *   aimed at the rules' edges like the differential test's: those in the
 *   space lie in exactly one region, the others in none);
 * - a region never mixes ported and portless protocols;
 * - --allowed-only keeps exactly the allowed part.
 *
 * And diffs between two environments: random flows on which the two
 * evaluations differ lie in a change, and every point of a change differs. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eval/walk.h"
#include "files.h"
#include "nsgsim.h"

#include "genenv.h"

static int failures;

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		if (failures++ < 20)                                                               \
			print_error(__VA_ARGS__);                                                  \
	} while (0)

typedef struct counts {
	long queries, regions, points, outside, flows_in_space, diffs, changes, diff_points;
	long unmodelled, allowed_only;
	long verdicts[4];
} counts;

/* ---- the query's space, as the test sees it ----------------------------------------- */

/* A set of addresses as ranges, each of a family.  family: the family
 * of the first range (where the test aims its flows). */
typedef struct aset {
	ns_u128 lo[96], hi[96];
	int fam[96];
	int n;
	int family;
	bool all;      /* every address of the families of `of` */
	unsigned fams; /* bit 4 / 6: the families it has */
} aset;

static bool aset_has(const aset *s, int family, ns_u128 a)
{
	if (s->all)
		return (s->fams >> family) & 1;
	for (int i = 0; i < s->n; i++)
		if (s->fam[i] == family && a >= s->lo[i] && a <= s->hi[i])
			return true;
	return false;
}

static void aset_add_f(aset *s, int family, ns_u128 lo, ns_u128 hi)
{
	assert_true(s->n < 96);
	s->lo[s->n] = lo;
	s->hi[s->n] = hi;
	s->fam[s->n] = family;
	if (!s->n)
		s->family = family;
	s->fams |= 1u << family;
	s->n++;
}

static void aset_add(aset *s, ns_u128 lo, ns_u128 hi)
{
	aset_add_f(s, s->family, lo, hi);
}

static void aset_add_pset(aset *s, const ns_pset *ps)
{
	for (size_t i = 0; i < ps->n4; i++)
		aset_add_f(s, 4, ps->v4[i].lo, ps->v4[i].hi);
	for (size_t i = 0; i < ps->n6; i++)
		aset_add_f(s, 6, ps->v6[i].lo, ps->v6[i].hi);
}

static char *fmt_addr(char *buf, size_t cap, int family, ns_u128 a, int plen)
{
	ns_format_prefix(buf, cap, family, a, plen);
	return buf;
}

/* A random target or source: its text and its set (one family). */
static void random_side(const nsgsim_policy *p, pool *pl, rng *r, bool source, char *text,
                        size_t cap, aset *s)
{
	memset(s, 0, sizeof *s);
	int family = chance(r, 80) || pl->nm6 == 0 ? 4 : 6;
	s->family = family;
	unsigned k = below(r, source ? 4 : 5);
	if (k == 0 && p->n_nics) {
		const ns_cnic *cn = &p->nics[below(r, (uint32_t)p->n_nics)];
		snprintf(text, cap, "%s", chance(r, 50) ? cn->n->id : cn->n->name);
		/* A NIC name need not be unique: then the id. */
		for (size_t i = 0; i < p->n_nics; i++)
			if (&p->nics[i] != cn && ns_ieq(p->nics[i].n->name, text))
				snprintf(text, cap, "%s", cn->n->id);
		for (size_t i = 0; i < cn->n->n_ipconfigs; i++) {
			const ns_ipconfig *ipc = &cn->n->ipconfigs[i];
			if (ipc->has_ip)
				aset_add_f(s, ipc->family, ipc->ip, ipc->ip);
		}
		if (s->n)
			return;
		s->family = family;
	}
	if (k == 1 && p->n_subnets) {
		const ns_csubnet *cs = &p->subnets[below(r, (uint32_t)p->n_subnets)];
		snprintf(text, cap, "%s", cs->s->id);
		if (cs->prefixes.n4 + cs->prefixes.n6 <= 96) {
			aset_add_pset(s, &cs->prefixes);
			if (s->n)
				return;
		}
		s->family = family;
	}
	if (k == 2 && !source && p->internet.n4 + p->internet.n6 <= 96) {
		snprintf(text, cap, "Internet");
		aset_add_pset(s, &p->internet);
		return;
	}
	/* An address (k 3) or a prefix around one. */
	ns_u128 a = pick_addr(pl, r, family, chance(r, 70));
	int bits = family == 4 ? 32 : 128;
	int plen = k == 3 ? bits : bits - (int)below(r, family == 4 ? 12 : 24);
	ns_u128 mask = plen == 0 ? 0 : ~(ns_u128)0 << (bits - plen);
	if (family == 4)
		mask &= 0xFFFFFFFFu;
	ns_u128 lo = a & mask, hi = lo | ~mask;
	if (family == 4)
		hi &= 0xFFFFFFFFu;
	char b[64];
	snprintf(text, cap, "%s", fmt_addr(b, sizeof b, family, lo, plen));
	aset_add(s, lo, hi);
}

/* ---- checking one query ---------------------------------------------------------------- */

static unsigned proto_bit(int proto)
{
	switch (proto) {
	case NSGSIM_PROTO_TCP:
		return NSGSIM_PBIT_TCP;
	case NSGSIM_PROTO_UDP:
		return NSGSIM_PBIT_UDP;
	case NSGSIM_PROTO_ICMP:
		return NSGSIM_PBIT_ICMP;
	case NSGSIM_PROTO_ESP:
		return NSGSIM_PBIT_ESP;
	default:
		return NSGSIM_PBIT_AH;
	}
}

static int proto_of_bit(unsigned bit)
{
	return bit == NSGSIM_PBIT_TCP    ? NSGSIM_PROTO_TCP
	       : bit == NSGSIM_PBIT_UDP  ? NSGSIM_PROTO_UDP
	       : bit == NSGSIM_PBIT_ICMP ? NSGSIM_PROTO_ICMP
	       : bit == NSGSIM_PBIT_ESP  ? NSGSIM_PROTO_ESP
	                                 : NSGSIM_PROTO_AH;
}

static ns_u128 in_range(rng *r, ns_u128 lo, ns_u128 hi)
{
	ns_u128 w = hi - lo;
	if (w == ~(ns_u128)0)
		return ((ns_u128)rnd(r) << 64) | rnd(r);
	ns_u128 x = ((ns_u128)rnd(r) << 64) | rnd(r);
	switch (below(r, 4)) {
	case 0:
		return lo;
	case 1:
		return hi;
	default:
		return lo + x % (w + 1);
	}
}

static int ip_range_pick(rng *r, const nsgsim_regions *rs, size_t i, int field, size_t n,
                         nsgsim_ip *out)
{
	nsgsim_ip lo, hi;
	assert_int_equal(
	        nsgsim_region_range(rs, i, field, below(r, (uint32_t)n), &lo, &hi, NULL, NULL), 0);
	ns_u128 v = in_range(r, ns_ip_to_u128(&lo), ns_ip_to_u128(&hi));
	ns_ip_from_u128(out, lo.family, v);
	return 0;
}

static int port_pick(rng *r, const nsgsim_regions *rs, size_t i, int field, size_t n)
{
	int lo, hi;
	assert_int_equal(
	        nsgsim_region_range(rs, i, field, below(r, (uint32_t)n), NULL, NULL, &lo, &hi), 0);
	return (int)in_range(r, (ns_u128)lo, (ns_u128)hi);
}

/* A random flow of region i. */
static void region_flow(rng *r, const nsgsim_regions *rs, size_t i, const nsgsim_region *g,
                        nsgsim_flow *f)
{
	memset(f, 0, sizeof *f);
	unsigned bits[5];
	int nb = 0;
	for (unsigned b = 1; b <= NSGSIM_PBIT_AH; b <<= 1)
		if (g->protocols & b)
			bits[nb++] = b;
	f->protocol = proto_of_bit(bits[below(r, (uint32_t)nb)]);
	ip_range_pick(r, rs, i, NSGSIM_FIELD_SOURCES, g->n_sources, &f->src);
	ip_range_pick(r, rs, i, NSGSIM_FIELD_DESTINATIONS, g->n_destinations, &f->dst);
	bool ported = f->protocol == NSGSIM_PROTO_TCP || f->protocol == NSGSIM_PROTO_UDP;
	f->src_port = ported ? port_pick(r, rs, i, NSGSIM_FIELD_SOURCE_PORTS, g->n_source_ports)
	                     : NSGSIM_PORT_ANY;
	f->dst_port =
	        ported ? port_pick(r, rs, i, NSGSIM_FIELD_DESTINATION_PORTS, g->n_destination_ports)
	               : NSGSIM_PORT_ANY;
}

static const char *name_or_dash(const char *s)
{
	return s ? s : "-";
}

/* Whether nsgsim_eval gives the flow the outcome d. */
static bool eval_agrees(const nsgsim_policy *p, const nsgsim_flow *f, const nsgsim_decided *d,
                        char *why, size_t cap)
{
	nsgsim_result res;
	int rc = nsgsim_eval(p, f, &res, NULL);
	if (d->verdict == NSGSIM_UNMODELLED) {
		snprintf(why, cap, "Unmodelled region, eval status %d", rc);
		return rc == NSGSIM_E_NOT_MODELLED;
	}
	if (rc != 0) {
		snprintf(why, cap, "eval status %d", rc);
		return false;
	}
	snprintf(why, cap, "region %d %d %s %d, eval %d %d %s %d", d->verdict, d->layer,
	         name_or_dash(d->rule.name), d->endpoint, res.verdict, res.decided_layer,
	         name_or_dash(res.decided_rule.name), res.decided_endpoint);
	return res.verdict == d->verdict && res.decided_layer == d->layer &&
	       res.decided_endpoint == d->endpoint && res.decided_rule.name == d->rule.name &&
	       res.decided_rule.id == d->rule.id && res.decided_resource == d->resource;
}

static void flow_text(const nsgsim_flow *f, char *buf, size_t cap)
{
	char s[64], d[64];
	ns_format_prefix(s, sizeof s, f->src.family, ns_ip_to_u128(&f->src), -1);
	ns_format_prefix(d, sizeof d, f->dst.family, ns_ip_to_u128(&f->dst), -1);
	snprintf(buf, cap, "proto %d %s:%d -> %s:%d", f->protocol, s, f->src_port, d, f->dst_port);
}

static void check_points(int env, const nsgsim_policy *p, rng *r, const nsgsim_regions *rs,
                         const char *what, counts *k)
{
	for (size_t i = 0; i < nsgsim_regions_count(rs); i++) {
		nsgsim_region g;
		assert_int_equal(nsgsim_regions_get(rs, i, &g), 0);
		bool ported = g.protocols & (NSGSIM_PBIT_TCP | NSGSIM_PBIT_UDP);
		bool portless = g.protocols & ~(unsigned)(NSGSIM_PBIT_TCP | NSGSIM_PBIT_UDP);
		if ((ported && portless) || (ported != (g.n_destination_ports > 0)) ||
		    !g.n_sources || !g.n_destinations)
			FAIL("env %d %s: region %zu mixes protocols or has an empty field\n", env,
			     what, i);
		k->regions++;
		k->verdicts[g.decided.verdict & 3]++;
		for (int t = 0; t < 6; t++) {
			nsgsim_flow f;
			region_flow(r, rs, i, &g, &f);
			char why[400], ft[200];
			k->points++;
			if (!nsgsim_region_contains(rs, i, &f))
				FAIL("env %d %s: a point of region %zu is not in it\n", env, what,
				     i);
			if (!eval_agrees(p, &f, &g.decided, why, sizeof why)) {
				flow_text(&f, ft, sizeof ft);
				FAIL("env %d %s: region %zu, %s: %s\n", env, what, i, ft, why);
			}
		}
	}
}

/* A random flow of the pool with protocols from the query's. */
static void pool_flow(pool *pl, rng *r, const aset *to, const aset *from, unsigned protos,
                      nsgsim_flow *f)
{
	make_flow(pl, r, f);
	/* Aim half of them into the space: an address of each side's set. */
	if (chance(r, 60) && to->n) {
		int i = (int)below(r, (uint32_t)to->n);
		int family = to->fam[i];
		ns_ip_from_u128(&f->dst, family, in_range(r, to->lo[i], to->hi[i]));
		if (f->src.family != family || (from->n && chance(r, 60))) {
			int j = from->n ? (int)below(r, (uint32_t)from->n) : 0;
			bool modelled = chance(r, 60) && (family == 4 ? pl->nm4 : pl->nm6);
			ns_u128 a = from->n && from->fam[j] == family
			                    ? in_range(r, from->lo[j], from->hi[j])
			                    : pick_addr(pl, r, family, modelled);
			ns_ip_from_u128(&f->src, family, a);
		}
	}
	if (!(protos & proto_bit(f->protocol)) && chance(r, 80)) {
		unsigned b;
		do
			b = 1u << below(r, 5);
		while (!(protos & b));
		f->protocol = proto_of_bit(b);
		bool ported = f->protocol == NSGSIM_PROTO_TCP || f->protocol == NSGSIM_PROTO_UDP;
		f->dst_port = ported ? (int)below(r, 65536) : NSGSIM_PORT_ANY;
	}
	if ((f->protocol == NSGSIM_PROTO_TCP || f->protocol == NSGSIM_PROTO_UDP) && f->src_port < 0)
		f->src_port = (int)below(r, 65536);
}

static void check_cover(int env, const nsgsim_policy *p, pool *pl, rng *r, const nsgsim_regions *rs,
                        const aset *to, const aset *from, unsigned protos, bool allowed_only,
                        const char *what, counts *k)
{
	for (int t = 0; t < 160; t++) {
		nsgsim_flow f;
		pool_flow(pl, r, to, from, protos, &f);
		bool in = f.src.family == f.dst.family &&
		          aset_has(to, f.dst.family, ns_ip_to_u128(&f.dst)) &&
		          aset_has(from, f.src.family, ns_ip_to_u128(&f.src)) &&
		          (protos & proto_bit(f.protocol));
		nsgsim_result res;
		int erc = in ? nsgsim_eval(p, &f, &res, NULL) : 0;
		if (in && allowed_only)
			in = erc == 0 && res.verdict == NSGSIM_ALLOW;
		size_t hits = 0, at = 0;
		for (size_t i = 0; i < nsgsim_regions_count(rs); i++)
			if (nsgsim_region_contains(rs, i, &f)) {
				hits++;
				at = i;
			}
		char ft[200];
		flow_text(&f, ft, sizeof ft);
		if (hits != (in ? 1u : 0u))
			FAIL("env %d %s: %s (%s the space) is in %zu regions\n", env, what, ft,
			     in ? "in" : "outside", hits);
		k->flows_in_space += in;
		k->outside += !in;
		if (in && hits == 1) {
			nsgsim_region g;
			char why[400];
			nsgsim_regions_get(rs, at, &g);
			if (!eval_agrees(p, &f, &g.decided, why, sizeof why))
				FAIL("env %d %s: %s: %s\n", env, what, ft, why);
		}
	}
}

static void check_reach(int env, const nsgsim_policy *p, pool *pl, rng *r, counts *k)
{
	char to_text[600], from_text[600], what[1400];
	aset to, from;
	random_side(p, pl, r, false, to_text, sizeof to_text, &to);
	bool has_from = chance(r, 50);
	if (has_from) {
		random_side(p, pl, r, true, from_text, sizeof from_text, &from);
		if (!(from.fams & to.fams))
			has_from = false;
	}
	if (!has_from)
		from = (aset){.family = to.family, .all = true, .fams = to.fams};
	unsigned protos = chance(r, 50) ? NSGSIM_PBITS_ALL : 1u + below(r, NSGSIM_PBITS_ALL);
	bool allowed_only = chance(r, 20);
	nsgsim_query q = {to_text, has_from ? from_text : NULL, protos, allowed_only, 0};
	snprintf(what, sizeof what, "reach --to %s --from %s protocols %#x%s", to_text,
	         has_from ? from_text : "*", protos, allowed_only ? " --allowed-only" : "");
	nsgsim_regions *rs = NULL;
	nsgsim_error err = {0};
	int rc = nsgsim_reach(p, &q, &rs, &err);
	if (rc == NSGSIM_E_NOT_MODELLED) {
		/* Only when no address of the target is modelled: none of the
		 * pool's modelled addresses may lie in it (but the last of each
		 * family, a fallback build_pool adds whether modelled or not). */
		k->unmodelled++;
		for (int fam = 4; fam <= 6; fam += 2) {
			size_t n = (fam == 4 ? pl->nm4 : pl->nm6) - 1;
			const ns_u128 *m = fam == 4 ? pl->mod4 : pl->mod6;
			for (size_t i = 0; i < n; i++)
				if ((to.fams & (1u << fam)) && aset_has(&to, fam, m[i]))
					FAIL("env %d %s: not modelled, but the target holds a "
					     "modelled "
					     "address\n",
					     env, what);
		}
		return;
	}
	if (rc != 0) {
		FAIL("env %d %s: status %d: %s\n", env, what, rc, err.message);
		return;
	}
	k->queries++;
	k->allowed_only += allowed_only;
	check_points(env, p, r, rs, what, k);
	check_cover(env, p, pl, r, rs, &to, &from, protos, allowed_only, what, k);
	if (allowed_only)
		for (size_t i = 0; i < nsgsim_regions_count(rs); i++) {
			nsgsim_region g;
			nsgsim_regions_get(rs, i, &g);
			if (g.decided.verdict != NSGSIM_ALLOW)
				FAIL("env %d %s: a region that is not allowed\n", env, what);
		}
	char *json = NULL;
	assert_int_equal(nsgsim_regions_render(rs, NSGSIM_FORMAT_JSON, &json, NULL), 0);
	assert_non_null(strstr(json, "\"regions\": ["));
	nsgsim_free(json);
	nsgsim_regions_free(rs);
}

/* ---- diff ------------------------------------------------------------------------------- */

static bool same_answer(const nsgsim_policy *a, const nsgsim_policy *b, const nsgsim_flow *f,
                        int *va, int *vb)
{
	nsgsim_result ra, rb;
	int ea = nsgsim_eval(a, f, &ra, NULL), eb = nsgsim_eval(b, f, &rb, NULL);
	*va = ea == NSGSIM_E_NOT_MODELLED ? NSGSIM_UNMODELLED : ea ? -1 : ra.verdict;
	*vb = eb == NSGSIM_E_NOT_MODELLED ? NSGSIM_UNMODELLED : eb ? -1 : rb.verdict;
	return *va == *vb;
}

static void check_diff(int env, const nsgsim_policy *pa, const nsgsim_policy *pb, pool *pl, rng *r,
                       counts *k, int probes)
{
	char to_text[600], what[700];
	aset to, from = {.all = true, .fams = 1u << 4 | 1u << 6};
	bool whole = chance(r, 40);
	random_side(pb, pl, r, false, to_text, sizeof to_text, &to);
	from.family = to.family;
	nsgsim_query q = {whole ? NULL : to_text, NULL, 0, 0, 0};
	snprintf(what, sizeof what, "diff --to %s", whole ? "(everything)" : to_text);
	nsgsim_regions *rs = NULL;
	nsgsim_error err = {0};
	int rc = nsgsim_diff(pa, pb, &q, &rs, &err);
	if (rc != 0) {
		FAIL("env %d %s: status %d: %s\n", env, what, rc, err.message);
		return;
	}
	k->diffs++;
	/* Every point of a change: the two answers differ as the change says. */
	for (size_t i = 0; i < nsgsim_regions_count(rs); i++) {
		nsgsim_region g;
		nsgsim_regions_get(rs, i, &g);
		k->changes++;
		for (int t = 0; t < 4; t++) {
			nsgsim_flow f;
			region_flow(r, rs, i, &g, &f);
			char why[400], ft[200];
			int va, vb;
			k->diff_points++;
			if (same_answer(pa, pb, &f, &va, &vb) || va != g.before.verdict ||
			    vb != g.decided.verdict) {
				flow_text(&f, ft, sizeof ft);
				FAIL("env %d %s: change %zu (%d -> %d), %s: eval %d -> %d\n", env,
				     what, i, g.before.verdict, g.decided.verdict, ft, va, vb);
			}
			if (!eval_agrees(pb, &f, &g.decided, why, sizeof why) ||
			    !eval_agrees(pa, &f, &g.before, why, sizeof why)) {
				flow_text(&f, ft, sizeof ft);
				FAIL("env %d %s: change %zu, %s: %s\n", env, what, i, ft, why);
			}
		}
	}
	/* Every flow whose answers differ lies in a change. */
	for (int t = 0; t < probes; t++) {
		nsgsim_flow f;
		pool_flow(pl, r, &to, &from, NSGSIM_PBITS_ALL, &f);
		int va, vb;
		bool in = whole || (f.src.family == f.dst.family &&
		                    aset_has(&to, f.dst.family, ns_ip_to_u128(&f.dst)));
		if (!in || same_answer(pa, pb, &f, &va, &vb))
			continue;
		size_t hits = 0;
		for (size_t i = 0; i < nsgsim_regions_count(rs); i++)
			hits += nsgsim_region_contains(rs, i, &f) != 0;
		if (hits != 1) {
			char ft[200];
			flow_text(&f, ft, sizeof ft);
			FAIL("env %d %s: %s differs (%d -> %d) but is in %zu changes\n", env, what,
			     ft, va, vb, hits);
		}
	}
	nsgsim_regions_free(rs);
}

/* ---- the tests ------------------------------------------------------------------------------ */

/* NSGSIM_TEST_QUICK=1 (make valgrind: memcheck runs this 40 times slower)
 * takes every step-th estate and scales the coverage floors alike; the
 * steps of the diffs are prime to 3, so that the estates compared with
 * themselves (env % 3 == 0) are not all that is left. */
static int stride(int quick_step)
{
	const char *q = getenv("NSGSIM_TEST_QUICK");
	return q && *q && strcmp(q, "0") != 0 ? quick_step : 1;
}

static void test_reach_agrees_with_eval(void **state)
{
	(void)state;
	counts k;
	memset(&k, 0, sizeof k);
	failures = 0;
	int step = stride(6);
	for (int env = 0; env < 60; env += step) {
		genv g;
		genpolicy gp = genenv_compile(env, &g);
		assert_non_null(gp.p);
		pool pl;
		build_pool(gp.p, &pl, &g.r);
		/* Eight: nearly half the random targets hold no modelled address
		 * (the Internet, outside prefixes), which reach refuses. */
		for (int i = 0; i < 8; i++)
			check_reach(env, gp.p, &pl, &g.r, &k);
		pool_free(&pl);
		genpolicy_free(&gp);
	}
	printf("reach: %ld queries (%ld --allowed-only, %ld not modelled), %ld regions (%ld allow, "
	       "%ld deny, %ld unmodelled), %ld points in regions, %ld flows in the spaces, %ld "
	       "outside, %d failures\n",
	       k.queries, k.allowed_only, k.unmodelled, k.regions, k.verdicts[NSGSIM_ALLOW],
	       k.verdicts[NSGSIM_DENY], k.verdicts[NSGSIM_UNMODELLED], k.points, k.flows_in_space,
	       k.outside, failures);
	assert_int_equal(failures, 0);
	assert_true(k.queries >= 250 / step);
	assert_true(k.verdicts[NSGSIM_ALLOW] > 500 / step && k.verdicts[NSGSIM_DENY] > 500 / step);
	assert_true(k.flows_in_space > 10000 / step && k.allowed_only > 20 / step);
}

static void test_diff_agrees_with_eval(void **state)
{
	(void)state;
	counts k;
	memset(&k, 0, sizeof k);
	failures = 0;
	/* Neighbouring environments share little; an environment against the
	 * next seed's is a change in everything, one against itself none. */
	int step = stride(5);
	for (int env = 0; env < 24; env += step) {
		genv ga, gb;
		genpolicy a = genenv_compile(env, &ga);
		genpolicy b = genenv_compile(env % 3 == 0 ? env : env + 1000, &gb);
		assert_non_null(a.p);
		assert_non_null(b.p);
		pool pl;
		build_pool(b.p, &pl, &gb.r);
		for (int i = 0; i < 3; i++)
			check_diff(env, a.p, b.p, &pl, &gb.r, &k, 300);
		pool_free(&pl);
		genpolicy_free(&a);
		genpolicy_free(&b);
	}
	printf("diff: %ld diffs, %ld changes, %ld points in changes, %d failures\n", k.diffs,
	       k.changes, k.diff_points, failures);
	assert_int_equal(failures, 0);
	assert_true(k.changes > 100 / step);
}

/* A pull request's diff: the same estate with one to three rules whose
 * access swaps and as many TCP rules turned UDP (genenv.h, edit_rules).  The
 * chains then differ only in those rules, which is where a diff cuts
 * (lib/eval/reach.c, build_guards); the probes make sure nothing outside is
 * missed. */
static void test_diff_of_small_changes(void **state)
{
	(void)state;
	counts k;
	memset(&k, 0, sizeof k);
	failures = 0;
	int step = stride(4);
	for (int env = 0; env < 18; env += step) {
		genv ga, gb;
		genpolicy a = genenv_compile(env, &ga);
		genpolicy b = genenv_compile_edited(env, &gb, 1 + env % 3,
		                                    0xED17ull * (uint64_t)(env + 1));
		assert_non_null(a.p);
		assert_non_null(b.p);
		pool pl;
		build_pool(b.p, &pl, &gb.r);
		for (int i = 0; i < 4; i++)
			check_diff(env, a.p, b.p, &pl, &gb.r, &k, 1500);
		pool_free(&pl);
		genpolicy_free(&a);
		genpolicy_free(&b);
	}
	printf("small changes: %ld diffs, %ld changes, %ld points in changes, %d failures\n",
	       k.diffs, k.changes, k.diff_points, failures);
	assert_int_equal(failures, 0);
	assert_true(k.changes > 50 / step);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_reach_agrees_with_eval),
	        cmocka_unit_test(test_diff_agrees_with_eval),
	        cmocka_unit_test(test_diff_of_small_changes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
