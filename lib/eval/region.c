/* The partition of a region by the walk (eval/region.h).
 *
 * The chains a walk meets are the steps of the source endpoint (Outbound)
 * and of the destination endpoint (Inbound); for a diff, those of both
 * policies.  The sources of a region are split into alternatives, groups
 * of sources that walk alike; an alternative's chains only hold for its
 * own addresses, and a marker per alternative (a pseudo-rule matching
 * exactly them) says at the end which alternative a piece belongs to.  So
 * one partition serves every source at once, and the destination's chains
 * -- usually the large ones -- are cut once, not once per source.
 *
 * A node of the partition is a box and, per chain, the rules that can
 * still match some flow of it, in priority order.  A node is decided when,
 * in every chain, the first such rule matches all of the box: that rule is
 * the chain's first match for every flow of the box, and the walker
 * (NS_MATCH_GIVEN) turns the chains' matches into the outcome.  Otherwise
 * the box is cut on the next field -- destination, protocol, source,
 * destination port, source port -- at every boundary of the remaining
 * rules' sets there: a sweep over those boundaries keeps the set of rules
 * holding the current key (and a Zobrist hash of it), and the pieces
 * holding the same rules become one child, whose field is the list of
 * those pieces.  After the last field, every rule left holds the whole box.
 *
 * So the work follows the rules that matter: those that miss the box are
 * dropped at the root, and a child only sees the rules holding its pieces.
 *
 * May touch: lib/base, the compiled policy and the walker. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "eval/region.h"

/* The order fields are cut in: the address sets (service tags: hundreds of
 * ranges) before the ports (a few), so that the costly sweeps run once
 * near the root and the many small ones below. */
enum { L_DST, L_PROTO, L_SRC, L_DPORT, L_SPORT, L_LEAF };

/* A chain the walks meet: walk w's side (0 source, 1 destination), step k;
 * a source chain holds for alternative alt's addresses only.  A marker
 * (ch NULL) is alternative alt's pseudo-rule. */
typedef struct rchain {
	const ns_chain *ch;
	const ns_csubnet *ctx;
	int w, side, k; /* w -1: a guard, in no walk */
	long alt;       /* -1: every source */
} rchain;

/* A rule that can still match: rule `rule` of chain `c`. */
typedef struct cand {
	uint32_t c;
	uint32_t rule;
} cand;

/* Room for n elements of size elem in *buf (capacity *cap); 0 or -1. */
static int room(void *buf, size_t *cap, size_t n, size_t elem)
{
	void **b = buf;
	if (n <= *cap && *b)
		return 0;
	size_t c = *cap ? *cap : 16;
	while (c < n)
		c *= 2;
	void *nb = realloc(*b, c * elem);
	if (!nb)
		return -1;
	*b = nb;
	*cap = c;
	return 0;
}

/* What a split at one level needs, kept across the splits of that level:
 * one split per level is under way at a time (a split recurses only into
 * deeper levels), so its buffers serve every split of the level without
 * an allocation each (malloc and memset were a fifth of a lint). */
typedef struct lscratch {
	ns_vec events;    /* event */
	struct group *gs; /* the groups; their piece vectors kept */
	size_t n_gs, cap_gs;
	uint64_t *gbits; /* the groups' candidate bits, words each */
	size_t cap_gbits;
	int32_t *count;
	size_t cap_count;
	uint64_t *bits;
	size_t cap_bits;
	uint32_t *index;
	size_t cap_index;
	struct cand *sub; /* the candidates of the child being walked */
	size_t cap_sub;
} lscratch;

typedef struct part {
	ns_rquery *q;
	const ns_rspec *spec;
	rchain *chains;
	size_t n_chains;
	/* The chains of alternative a are [alt_first[a], alt_first[a + 1]),
	 * its marker first; the destination's follow them all. */
	size_t *alt_first;
	size_t dst_first;
	size_t guard_first; /* the guards' chains come last */
	uint32_t *win;      /* scratch: a winner per chain */
	ns_rhit *hits;      /* scratch for q->visit: a leaf's rules */
	lscratch lv[L_LEAF + 1];
} part;

static const ns_crule *rule_of(const part *pt, cand c)
{
	const ns_chain *ch = pt->chains[c.c].ch;
	return ch ? &ch->rules[c.rule] : NULL;
}

/* The sources a chain's rules hold for: an alternative's, or all. */
static const ns_ilist *alt_src(const part *pt, cand c)
{
	long a = pt->chains[c.c].alt;
	return a < 0 ? NULL : &pt->spec->alts[a].src;
}

/* ---- a rule's sets -------------------------------------------------------------- */

static const int slot_proto[NS_PSLOTS] = {NS_PROTO_ICMP, NS_PROTO_TCP, NS_PROTO_UDP, NS_PROTO_ESP,
                                          NS_PROTO_AH};

/* Whether rule r matches protocol slot s (portless protocols: only a rule
 * without port clauses, SEMANTICS.md §11 decision 5). */
static bool rule_proto(const ns_crule *r, int s)
{
	if (!ns_proto_matches(r->protocol, slot_proto[s]))
		return false;
	return s == NS_PSLOT_TCP || s == NS_PSLOT_UDP ||
	       (r->src.n_ports == 0 && r->dst.n_ports == 0);
}

unsigned ns_rule_protos(const ns_crule *r)
{
	unsigned m = 0;
	for (int s = 0; s < NS_PSLOTS; s++)
		if (rule_proto(r, s))
			m |= NS_PBIT(s);
	return m;
}

static unsigned rule_protos(const ns_crule *r)
{
	return r ? ns_rule_protos(r) : NS_PBITS_ALL; /* a marker: every protocol */
}

/* Whether the port ranges (any order, overlapping) cover every key of a. */
static bool ports_cover(const ns_cside *s, ns_ilist a)
{
	if (s->n_ports == 0)
		return true;
	for (size_t i = 0; i < a.n; i++) {
		ns_u128 cur = a.v[i].lo;
		for (;;) {
			ns_u128 best = 0;
			bool found = false;
			for (size_t k = 0; k < s->n_ports; k++)
				if (s->ports[k].lo <= cur && cur <= s->ports[k].hi &&
				    (!found || s->ports[k].hi > best)) {
					best = s->ports[k].hi;
					found = true;
				}
			if (!found)
				return false;
			if (best >= a.v[i].hi)
				break;
			cur = best + 1;
		}
	}
	return true;
}

/* Whether candidate c matches every flow of the box in the fields from
 * level on. */
static bool covers(const part *pt, cand c, const ns_box *b, int level)
{
	const ns_crule *r = rule_of(pt, c);
	const ns_ilist *alt = alt_src(pt, c);
	if (level <= L_SRC && alt && !ns_il_subset(b->src, *alt))
		return false;
	if (!r) /* a marker: its alternative's sources, every flow of them */
		return true;
	const ns_csubnet *ctx = pt->chains[c.c].ctx;
	int fam = pt->q->family;
	if (level <= L_DST && !ns_il_in_pset(b->dst, ns_side_set(&r->dst, ctx), fam))
		return false;
	if (level <= L_PROTO && (b->protos & ~rule_protos(r)) != 0)
		return false;
	if (level <= L_SRC && !ns_il_in_pset(b->src, ns_side_set(&r->src, ctx), fam))
		return false;
	if (ns_box_ported(b) && level <= L_DPORT && !ports_cover(&r->dst, b->dport))
		return false;
	return !ns_box_ported(b) || level > L_SPORT || ports_cover(&r->src, b->sport);
}

/* Whether rule r can match some flow of the box (a first, cheap filter);
 * src: the box's sources this chain holds for. */
static bool meets(const part *pt, const ns_crule *r, const ns_csubnet *ctx, const ns_box *b,
                  ns_ilist src)
{
	int fam = pt->q->family;
	return (b->protos & rule_protos(r)) &&
	       ns_il_meets_pset(b->dst, ns_side_set(&r->dst, ctx), fam) &&
	       ns_il_meets_pset(src, ns_side_set(&r->src, ctx), fam);
}

/* ---- the leaves ------------------------------------------------------------------- */

/* Ids of two policies compiled apart are equal strings, not pointers. */
static bool same_id(const char *a, const char *b)
{
	return a == b || (a && b && ns_ieq(a, b));
}

bool ns_rout_same(const ns_rout *a, const ns_rout *b, bool rule_too)
{
	if (a->verdict != b->verdict)
		return false;
	if (!rule_too)
		return true;
	return a->layer == b->layer && a->endpoint == b->endpoint &&
	       same_id(a->rule ? a->rule->r->id : NULL, b->rule ? b->rule->r->id : NULL) &&
	       same_id(a->resource, b->resource);
}

static ns_rout walk_outcome(const nsgsim_policy *p, const ns_endpoint *src, const ns_endpoint *dst,
                            const uint32_t *const given[2])
{
	ns_rout r = {NS_UNMODELLED, NSGSIM_LAYER_NONE, NSGSIM_ENDPOINT_NONE, NULL, NULL};
	if (!src && !dst)
		return r;
	ns_eprec rs = {src, false}, rd = {dst, false};
	ns_flowv none;
	memset(&none, 0, sizeof none);
	ns_outcome o;
	ns_walk_flow(p, &none, &rs, &rd, NS_MATCH_GIVEN, NULL, &o, given);
	return (ns_rout){o.verdict, o.layer, o.endpoint, o.rule, o.resource};
}

/* The given winners of walk w over chains [from, to). */
static void given_of(const part *pt, size_t from, size_t to, int w,
                     uint32_t given[2][NSGSIM_MAX_LAYERS])
{
	for (size_t c = from; c < to; c++) {
		const rchain *rc = &pt->chains[c];
		if (rc->ch && rc->w == w)
			given[rc->side][rc->k] = pt->win[c];
	}
}

/* Every remaining rule of each chain matches the whole box: the first is
 * the chain's match; the marker left says whose sources these are. */
static int leaf(part *pt, const ns_box *b, const cand *cs, size_t n)
{
	long alt = -1;
	for (size_t i = n; i-- > 0;) {
		const rchain *rc = &pt->chains[cs[i].c];
		if (!rc->ch)
			alt = rc->alt;
	}
	if (alt < 0)
		return 0; /* sources of no alternative: outside the query */
	size_t a0 = pt->alt_first[alt], a1 = pt->alt_first[alt + 1];
	for (size_t c = a0; c < a1; c++)
		pt->win[c] = pt->chains[c].ch ? (uint32_t)pt->chains[c].ch->n : 0;
	for (size_t c = pt->dst_first; c < pt->n_chains; c++)
		pt->win[c] = (uint32_t)pt->chains[c].ch->n;
	for (size_t i = n; i-- > 0;)
		pt->win[cs[i].c] = cs[i].rule;
	ns_piece pc;
	memset(&pc, 0, sizeof pc);
	pc.box = *b;
	pc.family = pt->q->family;
	const ns_ralt *ra = &pt->spec->alts[alt];
	for (int w = 0; w < pt->q->n_walks; w++) {
		uint32_t given[2][NSGSIM_MAX_LAYERS];
		given_of(pt, a0, a1, w, given);
		given_of(pt, pt->dst_first, pt->n_chains, w, given);
		const uint32_t *g[2] = {given[0], given[1]};
		pc.out[w] = walk_outcome(pt->spec->p[w], ra->ep[w], pt->spec->dst[w], g);
	}
	if (pt->q->visit) {
		uint32_t given[2][NSGSIM_MAX_LAYERS];
		given_of(pt, a0, a1, 0, given);
		given_of(pt, pt->dst_first, pt->n_chains, 0, given);
		size_t nh = 0;
		for (size_t i = 0; i < n; i++) {
			const rchain *rc = &pt->chains[cs[i].c];
			bool mine = (cs[i].c >= a0 && cs[i].c < a1) ||
			            (cs[i].c >= pt->dst_first && cs[i].c < pt->guard_first);
			if (rc->ch && rc->w == 0 && mine)
				pt->hits[nh++] =
				        (ns_rhit){(uint32_t)rc->side, (uint32_t)rc->k, cs[i].rule};
		}
		ns_rvisit v = {
		        {ra->ep[0], pt->spec->dst[0]}, {given[0], given[1]}, pt->hits, nh, &pc};
		pt->q->visit(pt->q->visit_ctx, &v);
		return 0;
	}
	if (pt->q->changed_only && ns_rout_same(&pc.out[0], &pc.out[1], pt->q->rules_too))
		return 0;
	if (pt->q->pieces.n >= pt->q->limit)
		return NSGSIM_E_LIMIT;
	ns_piece *slot = ns_vec_push(&pt->q->pieces);
	if (!slot)
		return NSGSIM_E_NOMEM;
	*slot = pc;
	return 0;
}

/* ---- cutting a field ---------------------------------------------------------------- */

typedef struct event {
	ns_u128 at;
	int32_t slot; /* a candidate, or -1 for the box itself */
	int32_t delta;
} event;

static void sort_events128(event *v, size_t n);
static void sort_events64(event *v, size_t n);

/* a before b: on all 128 bits, or (narrow: every key of the field is below
 * 2^64 -- IPv4 addresses, ports) on the low 64, the cheaper compare. */
static inline bool event_before(ns_u128 a, ns_u128 b, bool narrow)
{
	return narrow ? (uint64_t)a < (uint64_t)b : a < b;
}

/* Events by position: a quicksort without qsort's call per comparison (the
 * sweeps' sorting was most of a query's time), inlined into one function
 * per key width. */
static inline __attribute__((always_inline)) void sort_events_by(event *v, size_t n, bool narrow)
{
	while (n > 16) {
		ns_u128 pivot = v[n / 2].at;
		size_t i = 0, j = n - 1;
		for (;;) {
			while (event_before(v[i].at, pivot, narrow))
				i++;
			while (event_before(pivot, v[j].at, narrow))
				j--;
			if (i >= j)
				break;
			event t = v[i];
			v[i++] = v[j];
			v[j--] = t;
		}
		/* Recurse on the smaller part, loop on the larger. */
		size_t left = j + 1;
		void (*sort)(event *, size_t) = narrow ? sort_events64 : sort_events128;
		if (left < n - left) {
			sort(v, left);
			v += left;
			n -= left;
		} else {
			sort(v + left, n - left);
			n = left;
		}
	}
	for (size_t i = 1; i < n; i++) {
		event x = v[i];
		size_t j = i;
		for (; j > 0 && event_before(x.at, v[j - 1].at, narrow); j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

static void sort_events128(event *v, size_t n)
{
	sort_events_by(v, n, false);
}

static void sort_events64(event *v, size_t n)
{
	sort_events_by(v, n, true);
}

/* kmax: the largest key of the field. */
static void sort_events(event *v, size_t n, ns_u128 kmax)
{
	if (kmax < ((ns_u128)1 << 64) - 1)
		sort_events64(v, n);
	else
		sort_events128(v, n);
}

typedef struct group {
	uint64_t hash;
	size_t bits;   /* the candidates holding its pieces: at gbits + bits */
	ns_vec pieces; /* ns_ivl */
} group;

typedef struct cut {
	lscratch *ls; /* the level's buffers: events, groups, index */
	size_t index_cap;
	size_t words;
	ns_u128 kmax;
	ns_u128 span_lo, span_hi; /* of the box's list */
} cut;

static int add_interval(cut *ct, ns_u128 lo, ns_u128 hi, int32_t slot)
{
	if (hi < ct->span_lo || lo > ct->span_hi)
		return 0;
	event *a = ns_vec_push(&ct->ls->events);
	if (!a)
		return -1;
	*a = (event){lo, slot, 1};
	if (hi == ct->kmax)
		return 0;
	event *b = ns_vec_push(&ct->ls->events);
	if (!b)
		return -1;
	*b = (event){hi + 1, slot, -1};
	return 0;
}

/* The intervals of a set of one family (NULL: every address), within the
 * box's span and, when alt is given, within alt's list. */
static int add_set(cut *ct, const ns_pset *set, int fam, const ns_ilist *alt, int32_t slot)
{
	if (!set && !alt)
		return add_interval(ct, 0, ct->kmax, slot);
	if (!set) {
		for (size_t i = 0; i < alt->n; i++)
			if (add_interval(ct, alt->v[i].lo, alt->v[i].hi, slot) != 0)
				return -1;
		return 0;
	}
	size_t n = fam == 4 ? set->n4 : set->n6, j = 0;
	for (size_t k = 0; k < n; k++) {
		ns_u128 lo = fam == 4 ? set->v4[k].lo : set->v6[k].lo;
		ns_u128 hi = fam == 4 ? set->v4[k].hi : set->v6[k].hi;
		if (hi < ct->span_lo)
			continue;
		if (lo > ct->span_hi)
			break;
		if (!alt) {
			if (add_interval(ct, lo, hi, slot) != 0)
				return -1;
			continue;
		}
		/* The set's range within alt's intervals. */
		while (j < alt->n && alt->v[j].hi < lo)
			j++;
		for (size_t i = j; i < alt->n && alt->v[i].lo <= hi; i++) {
			ns_u128 a = alt->v[i].lo > lo ? alt->v[i].lo : lo;
			ns_u128 b = alt->v[i].hi < hi ? alt->v[i].hi : hi;
			if (add_interval(ct, a, b, slot) != 0)
				return -1;
		}
	}
	return 0;
}

static int add_ports(cut *ct, const ns_cside *s, int32_t slot)
{
	if (s->n_ports == 0)
		return add_interval(ct, 0, 65535, slot);
	for (size_t k = 0; k < s->n_ports; k++)
		if (add_interval(ct, s->ports[k].lo, s->ports[k].hi, slot) != 0)
			return -1;
	return 0;
}

/* Candidate c's intervals in the field of level. */
static int add_candidate(const part *pt, cut *ct, cand c, int32_t slot, int level)
{
	const ns_crule *r = rule_of(pt, c);
	const ns_ilist *alt = alt_src(pt, c);
	if (!r) /* a marker: its sources, any destination or port */
		return level == L_SRC ? add_set(ct, NULL, 0, alt, slot)
		                      : add_interval(ct, 0, ct->kmax, slot);
	if (level == L_DPORT || level == L_SPORT)
		return add_ports(ct, level == L_SPORT ? &r->src : &r->dst, slot);
	const ns_cside *s = level == L_SRC ? &r->src : &r->dst;
	return add_set(ct, ns_side_set(s, pt->chains[c.c].ctx), pt->q->family,
	               level == L_SRC ? alt : NULL, slot);
}

static group *find_group(cut *ct, uint64_t hash, const uint64_t *bits)
{
	lscratch *ls = ct->ls;
	size_t i = (size_t)hash & (ct->index_cap - 1);
	for (; ls->index[i]; i = (i + 1) & (ct->index_cap - 1)) {
		group *g = &ls->gs[ls->index[i] - 1];
		if (g->hash == hash && memcmp(ls->gbits + g->bits, bits, ct->words * 8) == 0)
			return g;
	}
	if ((ls->n_gs + 1) * 2 > ct->index_cap)
		return NULL; /* the index is sized for every piece: never */
	if (ls->n_gs == ls->cap_gs) {
		size_t cap = ls->cap_gs ? 2 * ls->cap_gs : 16;
		group *gs = realloc(ls->gs, cap * sizeof *gs);
		if (!gs)
			return NULL;
		for (size_t k = ls->cap_gs; k < cap; k++)
			ns_vec_init(&gs[k].pieces, sizeof(ns_ivl));
		ls->gs = gs;
		ls->cap_gs = cap;
	}
	if (room(&ls->gbits, &ls->cap_gbits, (ls->n_gs + 1) * ct->words, 8) != 0)
		return NULL;
	group *g = &ls->gs[ls->n_gs++];
	ls->index[i] = (uint32_t)ls->n_gs;
	g->hash = hash;
	g->bits = (ls->n_gs - 1) * ct->words;
	g->pieces.n = 0;
	memcpy(ls->gbits + g->bits, bits, ct->words * 8);
	return g;
}

/* The sweep: after the events of each cut point, the piece up to the next
 * cut point holds the active candidates. */
static int sweep_groups(cut *ct, size_t n)
{
	lscratch *ls = ct->ls;
	event *ev = ls->events.data;
	size_t ne = ls->events.n;
	sort_events(ev, ne, ct->kmax);
	/* Room for a group per piece, at most half full. */
	ct->index_cap = 16;
	while (ct->index_cap < 2 * (ne + 2))
		ct->index_cap *= 2;
	if (room(&ls->count, &ls->cap_count, n + 1, sizeof *ls->count) != 0 ||
	    room(&ls->bits, &ls->cap_bits, ct->words + 1, 8) != 0 ||
	    room(&ls->index, &ls->cap_index, ct->index_cap, sizeof *ls->index) != 0)
		return -1;
	int32_t *count = ls->count;
	uint64_t *bits = ls->bits;
	memset(count, 0, (n + 1) * sizeof *count);
	memset(bits, 0, (ct->words + 1) * 8);
	memset(ls->index, 0, ct->index_cap * sizeof *ls->index);
	ls->n_gs = 0;
	int rc = 0;
	uint64_t hash = 0;
	int in_box = 0;
	for (size_t e = 0; e < ne && rc == 0;) {
		ns_u128 at = ev[e].at;
		for (; e < ne && ev[e].at == at; e++) {
			int32_t s = ev[e].slot;
			if (s < 0) {
				in_box += ev[e].delta;
				continue;
			}
			int before = count[s] > 0;
			count[s] += ev[e].delta;
			if (before != (count[s] > 0)) {
				bits[s / 64] ^= 1ull << (s % 64);
				hash ^= ns_splitmix64((uint64_t)s + 1);
			}
		}
		if (in_box <= 0)
			continue;
		ns_u128 end = e < ne ? ev[e].at - 1 : ct->kmax;
		group *g = find_group(ct, hash, bits);
		if (!g || ns_ivl_append(&g->pieces, at, end) != 0)
			rc = -1;
	}
	return rc;
}

static int node(part *pt, const ns_box *b, const cand *cs, size_t n, int level);

/* The candidates of a child: those whose bit is set. */
static int child(part *pt, const ns_box *b, const cand *cs, size_t n, const uint64_t *bits,
                 int level)
{
	lscratch *ls = &pt->lv[level];
	if (room(&ls->sub, &ls->cap_sub, n + 1, sizeof *ls->sub) != 0)
		return NSGSIM_E_NOMEM;
	cand *sub = ls->sub;
	size_t m = 0;
	for (size_t w = 0; w * 64 < n; w++)
		for (uint64_t x = bits[w]; x; x &= x - 1)
			sub[m++] = cs[w * 64 + (size_t)__builtin_ctzll(x)];
	return node(pt, b, sub, m, level);
}

/* The field of a level in a box. */
static ns_ilist *field_of(ns_box *b, int level)
{
	return level == L_DST     ? &b->dst
	       : level == L_DPORT ? &b->dport
	       : level == L_SPORT ? &b->sport
	                          : &b->src;
}

static int split_field(part *pt, const ns_box *b, const cand *cs, size_t n, int level)
{
	ns_box copy = *b;
	ns_ilist box = *field_of(&copy, level);
	cut ct;
	memset(&ct, 0, sizeof ct);
	ct.ls = &pt->lv[level];
	ct.ls->events.n = 0;
	ct.words = (n + 63) / 64 + 1;
	ct.kmax = level == L_DPORT || level == L_SPORT ? 65535 : ns_key_max(pt->q->family);
	ct.span_lo = box.v[0].lo;
	ct.span_hi = box.v[box.n - 1].hi;
	int rc = ns_vec_reserve(&ct.ls->events, 2 * (box.n + n)) == 0 ? 0 : -1;
	for (size_t i = 0; i < box.n && rc == 0; i++)
		rc = add_interval(&ct, box.v[i].lo, box.v[i].hi, -1);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = add_candidate(pt, &ct, cs[i], (int32_t)i, level);
	if (rc == 0)
		rc = sweep_groups(&ct, n);
	rc = rc ? NSGSIM_E_NOMEM : 0;
	lscratch *ls = ct.ls;
	for (size_t i = 0; i < ls->n_gs && rc == 0; i++) {
		ns_ilist *f = field_of(&copy, level);
		/* The sweep met the pieces in order and joined touching ones. */
		const group *g = &ls->gs[i];
		if (ns_il_copy(pt->q->arena, g->pieces.data, g->pieces.n, f) != 0) {
			rc = NSGSIM_E_NOMEM;
			break;
		}
		rc = child(pt, &copy, cs, n, ls->gbits + g->bits, level + 1);
	}
	return rc;
}

/* Protocols: those whose remaining rules are the same go together, ported
 * and portless apart. */
static int split_protos(part *pt, const ns_box *b, const cand *cs, size_t n)
{
	size_t words = (n + 63) / 64 + 1;
	lscratch *ls = &pt->lv[L_PROTO];
	if (room(&ls->bits, &ls->cap_bits, NS_PSLOTS * words, 8) != 0)
		return NSGSIM_E_NOMEM;
	uint64_t *bits = ls->bits;
	memset(bits, 0, NS_PSLOTS * words * 8);
	for (size_t i = 0; i < n; i++) {
		unsigned m = rule_protos(rule_of(pt, cs[i]));
		for (int s = 0; s < NS_PSLOTS; s++)
			if (m & NS_PBIT(s))
				bits[s * words + i / 64] |= 1ull << (i % 64);
	}
	unsigned done = 0;
	int rc = 0;
	for (int s = 0; s < NS_PSLOTS && rc == 0; s++) {
		if (!(b->protos & NS_PBIT(s)) || (done & NS_PBIT(s)))
			continue;
		bool port_s = NS_PBIT(s) & NS_PBITS_PORTED;
		ns_box c = *b;
		c.protos = 0;
		for (int t = s; t < NS_PSLOTS; t++) {
			bool port_t = NS_PBIT(t) & NS_PBITS_PORTED;
			if ((b->protos & NS_PBIT(t)) && port_t == port_s &&
			    memcmp(&bits[s * words], &bits[t * words], words * 8) == 0)
				c.protos |= NS_PBIT(t);
		}
		done |= c.protos;
		if (!port_s)
			c.sport = c.dport = (ns_ilist){NULL, 0};
		rc = child(pt, &c, cs, n, &bits[s * words], L_SRC);
	}
	return rc;
}

/* Whether every chain's first remaining rule matches the whole box in the
 * fields from level on. */
static bool decided(const part *pt, const ns_box *b, const cand *cs, size_t n, int level)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && cs[i].c == cs[i - 1].c)
			continue;
		if (cs[i].c >= pt->guard_first)
			break; /* guards take no part in the walks */
		if (!covers(pt, cs[i], b, level))
			return false;
	}
	return true;
}

/* Whether a guard rule can still match some flow of the box: candidates
 * keep their chains' order, and the guards' chains are the last. */
static bool guard_left(const part *pt, const cand *cs, size_t n)
{
	return n > 0 && cs[n - 1].c >= pt->guard_first;
}

static int node(part *pt, const ns_box *b, const cand *cs, size_t n, int level)
{
	if (pt->spec->guarded && !guard_left(pt, cs, n))
		return 0; /* no flow of the box can change (ns_rguard) */
	if (level == L_LEAF || decided(pt, b, cs, n, level))
		return leaf(pt, b, cs, n);
	switch (level) {
	case L_PROTO:
		return split_protos(pt, b, cs, n);
	case L_DPORT:
	case L_SPORT:
		if (!ns_box_ported(b))
			return leaf(pt, b, cs, n);
		/* fall through */
	default:
		return split_field(pt, b, cs, n, level);
	}
}

/* ---- the root ------------------------------------------------------------------------- */

static int add_chain(part *pt, const ns_chain *ch, const ns_csubnet *ctx, int w, int side, int k,
                     long alt)
{
	pt->chains[pt->n_chains++] = (rchain){ch, ctx, w, side, k, alt};
	return 0;
}

static void add_steps(part *pt, int w, int side, const ns_endpoint *ep, long alt)
{
	int way = side == 0 ? NS_WAY_OUT : NS_WAY_IN;
	for (int k = 0; ep && k < ep->n_steps[way]; k++)
		add_chain(pt, ep->steps[way][k].chain[way], ep->subnet, w, side, k, alt);
}

/* The chains: per alternative its marker and its sources' chains under
 * each policy; then the destination's. */
static int gather_chains(part *pt)
{
	const ns_rspec *sp = pt->spec;
	int nw = pt->q->n_walks;
	size_t max = sp->n_alts * (1 + (size_t)nw * NSGSIM_MAX_LAYERS) +
	             (size_t)nw * NSGSIM_MAX_LAYERS + sp->n_guards;
	pt->chains = malloc((max + 1) * sizeof *pt->chains);
	pt->alt_first = malloc((sp->n_alts + 1) * sizeof *pt->alt_first);
	pt->win = malloc((max + 1) * sizeof *pt->win);
	if (!pt->chains || !pt->alt_first || !pt->win)
		return -1;
	for (size_t a = 0; a < sp->n_alts; a++) {
		pt->alt_first[a] = pt->n_chains;
		add_chain(pt, NULL, NULL, 0, 0, 0, (long)a);
		for (int w = 0; w < nw; w++)
			add_steps(pt, w, 0, sp->alts[a].ep[w], (long)a);
	}
	pt->alt_first[sp->n_alts] = pt->dst_first = pt->n_chains;
	for (int w = 0; w < nw; w++)
		add_steps(pt, w, 1, sp->dst[w], -1);
	pt->guard_first = pt->n_chains;
	for (size_t g = 0; g < sp->n_guards; g++)
		add_chain(pt, sp->guards[g].ch, sp->guards[g].ctx, -1, sp->guards[g].alt < 0, 0,
		          sp->guards[g].alt);
	return 0;
}

/* The candidates at the root: every marker, and the rules that can match
 * some flow of the box (an alternative's: of its sources). */
static cand *root_candidates(part *pt, const ns_box *box, size_t *n)
{
	size_t total = 0;
	for (size_t c = 0; c < pt->n_chains; c++)
		total += pt->chains[c].ch ? pt->chains[c].ch->n : 1;
	cand *cs = malloc((total + 1) * sizeof *cs);
	ns_ilist *srcs = calloc(pt->spec->n_alts + 1, sizeof *srcs);
	if (!cs || !srcs) {
		free(cs);
		free(srcs);
		return NULL;
	}
	*n = 0;
	for (size_t c = 0; c < pt->n_chains; c++) {
		const rchain *rc = &pt->chains[c];
		ns_ilist src = box->src;
		if (rc->alt >= 0 && !rc->ch &&
		    ns_il_and(pt->q->arena, box->src, pt->spec->alts[rc->alt].src,
		              &srcs[rc->alt]) != 0)
			goto fail;
		if (rc->alt >= 0)
			src = srcs[rc->alt];
		if (!rc->ch) {
			if (src.n)
				cs[(*n)++] = (cand){(uint32_t)c, 0};
			continue;
		}
		for (size_t i = 0; i < rc->ch->n; i++)
			if (meets(pt, &rc->ch->rules[i], rc->ctx, box, src))
				cs[(*n)++] = (cand){(uint32_t)c, (uint32_t)i};
	}
	free(srcs);
	return cs;
fail:
	free(cs);
	free(srcs);
	return NULL;
}

int ns_region_partition(ns_rquery *q, const ns_rspec *spec, const ns_box *box)
{
	part pt;
	memset(&pt, 0, sizeof pt);
	for (int l = 0; l <= L_LEAF; l++)
		ns_vec_init(&pt.lv[l].events, sizeof(event));
	pt.q = q;
	pt.spec = spec;
	size_t n = 0;
	cand *cs = NULL;
	int rc = NSGSIM_E_NOMEM;
	if (gather_chains(&pt) == 0 && (cs = root_candidates(&pt, box, &n)) != NULL &&
	    (!q->visit || (pt.hits = malloc((n + 1) * sizeof *pt.hits)) != NULL))
		rc = box->src.n && box->dst.n ? node(&pt, box, cs, n, L_DST) : 0;
	for (int l = 0; l <= L_LEAF; l++) {
		lscratch *ls = &pt.lv[l];
		for (size_t k = 0; k < ls->cap_gs; k++)
			ns_vec_free(&ls->gs[k].pieces);
		free(ls->gs);
		ns_vec_free(&ls->events);
		free(ls->gbits);
		free(ls->count);
		free(ls->bits);
		free(ls->index);
		free(ls->sub);
	}
	free(pt.hits);
	free(cs);
	free(pt.chains);
	free(pt.alt_first);
	free(pt.win);
	return rc;
}

bool ns_box_contains(const ns_box *b, int slot, ns_u128 src, int sport, ns_u128 dst, int dport)
{
	if (!(b->protos & NS_PBIT(slot)) || !ns_il_contains(b->src, src) ||
	    !ns_il_contains(b->dst, dst))
		return false;
	if (!ns_box_ported(b))
		return true;
	return sport >= 0 && dport >= 0 && ns_il_contains(b->sport, (ns_u128)sport) &&
	       ns_il_contains(b->dport, (ns_u128)dport);
}
