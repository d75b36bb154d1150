/* The compiled match structures: per-chain classifiers, policy-wide classes
 * and the endpoint map.
 *
 * A chain (an NSG in one direction, or one admin level) is a list of rules
 * tried in order; the first rule whose five fields all match decides.  The
 * linear scan in lib/eval.c tests every field of every rule until one
 * matches: about 8 us for a 1,000-rule chain.  Here each field maps the flow
 * to an equivalence class instead, and each class carries the bitset of the
 * rules it satisfies (bit i = rule i, rules numbered in evaluation order):
 *
 *   flow --> dport class (TCP / UDP, protocol folded in) -> bitset M
 *        --> sport class                                 -> bitset S
 *        --> source address class                        -> bitset A
 *        --> destination address class                   -> bitset D
 *
 *   M & S & A & D, scanned word by word from rule 0: the lowest set bit is
 *   the first matching rule, so the scan stops at the first non-zero word.
 *
 * A field's classes come from a sweep over its key space (addresses per
 * family, ports).  Every rule contributes the intervals it matches; their
 * endpoints cut the key space into elementary intervals, and every key of an
 * elementary interval is matched by the same rules.  Sweeping the intervals
 * in order keeps the bitset of the rules "on" at the current key (a bit is
 * toggled where a rule's interval starts and again where it ends) and a
 * Zobrist hash of it (the XOR of a random key per rule that is on), so equal
 * bitsets are found by hash without hashing their words.  Equal bitsets
 * become one class; neighbouring intervals of the same class merge.  All
 * fields of a chain share one class table, so a bitset that two fields both
 * need (all rules, none) is stored once.
 *
 * A field's intervals are an ns_imap: the sorted starts, a class per
 * interval, and a small trie over the key (a root of up to 16 bits, crowded
 * buckets split by 8 more bits at any depth) down to a handful of
 * intervals, searched by a branchless binary lifting ("interval maps"
 * below).  The
 * AND is vectorised with AVX2 when the CPU has it (chosen when the
 * classifier is built; NSGSIM_NO_SIMD=1 forces the scalar loop).
 *
 * Three things the plain AND does not capture, handled beside it:
 *
 * - VirtualNetwork means a different set in each subnet that evaluates the
 *   chain (ns_csubnet.vnet_tag), and one NSG can sit on subnets of many
 *   VNets.  Instead of a classifier per context, a VirtualNetwork side counts
 *   as "any address" in the address classes, and two extra bitsets mark the
 *   rules with such a side.  Only when the lowest candidate is one of those
 *   rules is the flow's address looked up in the context's own set (small:
 *   the VNet, its peers, the routes), and the rule dropped if it is not in
 *   it.  Most flows never pay for it; none pays more than two small searches.
 *   When the policy-wide classes already say which sets hold the address
 *   (and for portless flows, which would otherwise walk candidates one by
 *   one), the check is a mask instead: vallow[k], the rules that survive
 *   when the sides of bits k are outside the set, ANDed with the rest.
 *
 * - ICMP, ESP and AH have no ports: a rule matches them only when both its
 *   port clauses are any (SEMANTICS.md §11.5).  Per protocol one bitset
 *   holds "protocol matches and no port clause" (it replaces M & S), and a
 *   second "protocol matches and a port clause", which tells whether a rule
 *   that matched but for its ports came before the winner: the
 *   PORTLESS_PROTOCOL assumption.
 *
 * - The linear scan records the assumptions of every rule it tests, not only
 *   of the winner (nsgsim.h, NSGSIM_ASSUMPTION_MAP).  Those that do not
 *   depend on the addresses matching (an Internet-tag or VirtualNetwork side
 *   of a rule whose protocol matches) need only the lowest such rule index
 *   per protocol: the bit is set when the winner is at or after it and the
 *   address condition holds.  So the common case costs two compares.
 *
 * The endpoint map is an interval map as well: from an address to the NIC
 * that holds it, else the first subnet whose prefix holds it (with the
 * ambiguity flag lib/eval.c's find_endpoint computes), in one search.
 *
 * End to end, a flow meets three or four chains.  Rather than searching
 * each chain's maps for the same fields, the policy-wide classes
 * ("policy-wide classes" below) refine every field by all classifiers, the
 * endpoint map and the subnets' VirtualNetwork sets at once: a flow is
 * classified once, and a chain turns the policy-wide class into its own
 * class bitset with one load.
 *
 * Every structure is built at compile time and never written afterwards, so
 * any number of threads may read it; nothing here allocates during
 * evaluation. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define NS_HAVE_X86 1
#endif

#include "compile/classify.h"

/* ---- lookups ---------------------------------------------------------------- */

/* An index entry (see "interval maps" below): a leaf, the first interval
 * its key range can hold and the number of lifting steps it needs in bits
 * 27-30; or, with the top bit set, a child node: its first entry in l2 and
 * in bits 27-30 how many more key bits it spends. */
#define IM_CHILD       0x80000000u
#define IM_FIELD_SHIFT 27
#define IM_POS_MASK    ((1u << IM_FIELD_SHIFT) - 1)
/* A leaf whose keys all lie in one interval holds that interval's value
 * itself, marked by this step count (leaves otherwise take at most 14). */
#define IM_INLINE 15u

/* Binary lifting from a leaf: steps top, top/2, ..., 1, each clamped to
 * the last interval; the comparison is a conditional move.  Intervals after
 * the leaf's own start above the key, so the clamp only keeps the reads in
 * bounds.  Most leaves need no step or one or two. */
static inline uint32_t lift(const uint32_t *sv, uint32_t last, uint32_t key, uint32_t e)
{
	uint32_t pos = e & IM_POS_MASK;
	for (uint32_t step = (1u << (e >> IM_FIELD_SHIFT)) >> 1; step; step >>= 1) {
		uint32_t q = pos + step < last ? pos + step : last;
		pos = sv[2 * q] <= key ? q : pos;
	}
	return sv[2 * pos + 1];
}

/* The leaf entry of a key: the root bucket, then down the children. */
#define IMAP_LEAF(m, key, e)                                                                       \
	do {                                                                                       \
		uint32_t sh_ = (m)->shift1;                                                        \
		(e) = (m)->l1[(uint32_t)((key) >> sh_)];                                           \
		while ((e)&IM_CHILD) {                                                             \
			uint32_t b_ = ((e) >> IM_FIELD_SHIFT) & 15;                                \
			sh_ -= b_;                                                                 \
			(e) = (m)->l2[((e)&IM_POS_MASK) +                                          \
			              ((uint32_t)((key) >> sh_) & ((1u << b_) - 1))];              \
		}                                                                                  \
	} while (0)

static inline uint32_t imap_get(const ns_imap *m, uint32_t key)
{
	uint32_t e;
	IMAP_LEAF(m, key, e);
	if ((e >> IM_FIELD_SHIFT) == IM_INLINE)
		return e & IM_POS_MASK;
	return lift(m->sv, m->n - 1, key, e);
}

static inline uint32_t imap6_get(const ns_imap6 *m, ns_u128 key)
{
	uint32_t e;
	IMAP_LEAF(m, key, e);
	if ((e >> IM_FIELD_SHIFT) == IM_INLINE)
		return e & IM_POS_MASK;
	uint32_t pos = e & IM_POS_MASK, last = m->n - 1;
	for (uint32_t step = (1u << (e >> IM_FIELD_SHIFT)) >> 1; step; step >>= 1) {
		uint32_t q = pos + step < last ? pos + step : last;
		pos = m->starts[q] <= key ? q : pos;
	}
	return m->val[pos];
}

static inline void prefetch(const void *p)
{
	__builtin_prefetch(p, 0, 3);
}

static bool in_set(const ns_pset *s, int family, ns_u128 a)
{
	return family == 4 ? ns_pset_contains4(s, (uint32_t)a) : ns_pset_contains6(s, a);
}

/* Slot of a flow protocol (ICMP 1, TCP 6, UDP 17, ESP 50, AH 51). */
static int proto_slot(int proto)
{
	return proto == NS_PROTO_TCP    ? NS_PSLOT_TCP
	       : proto == NS_PROTO_UDP  ? NS_PSLOT_UDP
	       : proto == NS_PROTO_ICMP ? NS_PSLOT_ICMP
	       : proto == NS_PROTO_ESP  ? NS_PSLOT_ESP
	                                : NS_PSLOT_AH;
}

/* Index of a portless protocol's slot in pl_match / pl_ports. */
static int portless_index(int slot)
{
	return slot == NS_PSLOT_ICMP ? 0 : slot == NS_PSLOT_ESP ? 1 : 2;
}

/* ---- one chain: finding the first match ------------------------------------------- */

/* A flow's class bitsets in one chain: protocol and destination port (or
 * the portless protocol's), source port, source and destination address. */
typedef struct ns_cls_probe {
	const uint64_t *m, *s, *a, *d;
} ns_cls_probe;

static void ns_cls_prefetch(const ns_cls *c, const ns_flowv *f)
{
	if (f->family == 4) {
		prefetch(&c->src4.l1[(uint32_t)f->src >> c->src4.shift1]);
		prefetch(&c->dst4.l1[(uint32_t)f->dst >> c->dst4.shift1]);
	}
	if (f->proto == NS_PROTO_TCP || f->proto == NS_PROTO_UDP) {
		const ns_imap *m = &c->dport[f->proto == NS_PROTO_UDP];
		prefetch(&m->l1[(uint32_t)f->dport >> m->shift1]);
	}
}

/* The class bitsets of a flow from its policy-wide classes. */
static void locate_global(const ns_cls *c, const ns_flowv *f, ns_cls_probe *q)
{
	bool v4 = f->family == 4;
	q->a = c->bits + c->tx[v4 ? NS_F_SRC4 : NS_F_SRC6][f->gc[0]];
	q->d = c->bits + c->tx[v4 ? NS_F_DST4 : NS_F_DST6][f->gc[1]];
	if (f->proto == NS_PROTO_TCP || f->proto == NS_PROTO_UDP) {
		q->m = c->bits + c->tx[f->proto == NS_PROTO_UDP ? NS_F_UDP : NS_F_TCP][f->gc[2]];
		q->s = c->has_sport ? c->bits + c->tx[NS_F_SPORT][f->gc[3]] : q->a;
	} else {
		q->m = c->bits + c->pl_match[portless_index(proto_slot(f->proto))];
		q->s = q->a;
	}
}

static void ns_cls_locate(const ns_cls *c, const ns_flowv *f, ns_cls_probe *q)
{
	if (f->global && c->tx[0]) {
		locate_global(c, f, q);
		return;
	}
	if (f->family == 4) {
		q->a = c->bits + imap_get(&c->src4, (uint32_t)f->src);
		q->d = c->bits + imap_get(&c->dst4, (uint32_t)f->dst);
	} else {
		q->a = c->bits + imap6_get(&c->src6, f->src);
		q->d = c->bits + imap6_get(&c->dst6, f->dst);
	}
	if (f->proto == NS_PROTO_TCP || f->proto == NS_PROTO_UDP) {
		q->m = c->bits + imap_get(&c->dport[f->proto == NS_PROTO_UDP], (uint32_t)f->dport);
		/* Without source-port clauses S is all ones: AND A twice instead. */
		q->s = c->has_sport ? c->bits + imap_get(&c->sport, (uint32_t)f->sport) : q->a;
	} else {
		q->m = c->bits + c->pl_match[portless_index(proto_slot(f->proto))];
		q->s = q->a;
	}
}

/* Whether the flow's addresses are in the context's VirtualNetwork set,
 * looked up only when a candidate rule needs it (-1: not yet known). */
typedef struct vn_state {
	const ns_csubnet *ctx;
	const ns_flowv *f;
	int src_in, dst_in;
} vn_state;

/* The candidates of word k that survive the VirtualNetwork check, lowest
 * first: a rule with a VirtualNetwork side whose address is outside the
 * context's set drops out.  Only the lowest survivor matters, so rules
 * above it are never checked. */
static uint64_t vnet_filter(const ns_cls *c, size_t k, uint64_t w, vn_state *v)
{
	uint64_t vs = c->bits[c->vnet_src + k], vd = c->bits[c->vnet_dst + k];
	while (w) {
		uint64_t b = w & (0 - w);
		if (!(b & (vs | vd)))
			return w;
		if ((b & vs) && v->src_in < 0)
			v->src_in = in_set(&v->ctx->vnet_tag, v->f->family, v->f->src);
		if ((b & vd) && v->dst_in < 0)
			v->dst_in = in_set(&v->ctx->vnet_tag, v->f->family, v->f->dst);
		if ((!(b & vs) || v->src_in) && (!(b & vd) || v->dst_in))
			return w;
		w ^= b;
	}
	return 0;
}

/* vnet_filter, after the common case inline: the lowest candidate has no
 * VirtualNetwork side, so nothing needs looking up (measured: most calls
 * of vnet_filter returned at once, for more than the test costs). */
static inline uint64_t vnet_check(const ns_cls *c, size_t k, uint64_t w, vn_state *v)
{
	uint64_t b = w & (0 - w);
	if (!(b & (c->bits[c->vnet_src + k] | c->bits[c->vnet_dst + k])))
		return w;
	return vnet_filter(c, k, w, v);
}

static uint32_t scan_scalar(const ns_cls *c, const ns_cls_probe *q, vn_state *v)
{
	for (size_t k = 0; k < c->words; k++) {
		uint64_t w = q->m[k] & q->s[k] & q->a[k] & q->d[k];
		if (!w)
			continue;
		if (c->has_vnet && !(w = vnet_check(c, k, w, v)))
			continue;
		return (uint32_t)(k * 64 + (size_t)__builtin_ctzll(w));
	}
	return c->n;
}

#ifdef NS_HAVE_X86
/* Four words at a time; chosen at build time when the CPU has AVX2, so the
 * default build stays portable (function multiversioning by hand). */
__attribute__((target("avx2"))) static uint32_t scan_avx2(const ns_cls *c, const ns_cls_probe *q,
                                                          vn_state *v)
{
	for (size_t k = 0; k < c->words; k += 4) {
		__m256i x = _mm256_and_si256(
		        _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(q->m + k)),
		                         _mm256_loadu_si256((const __m256i *)(q->s + k))),
		        _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(q->a + k)),
		                         _mm256_loadu_si256((const __m256i *)(q->d + k))));
		if (_mm256_testz_si256(x, x))
			continue;
		for (size_t j = k; j < k + 4; j++) {
			uint64_t w = q->m[j] & q->s[j] & q->a[j] & q->d[j];
			if (w && c->has_vnet)
				w = vnet_check(c, j, w, v);
			if (w)
				return (uint32_t)(j * 64 + (size_t)__builtin_ctzll(w));
		}
	}
	return c->n;
}
#endif

static uint32_t ns_cls_scan(const nsgsim_policy *p, const ns_cls *c, const ns_crule *rules,
                            const ns_cls_probe *q, const ns_flowv *f, const ns_csubnet *ctx,
                            unsigned *assume)
{
	vn_state v = {ctx, f, -1, -1};
	int slot = f->slot;
	uint32_t win;
	unsigned bits = 0;
	if (f->global && p->cls->vset_of) {
		/* The policy-wide classes know the VirtualNetwork sets. */
		unsigned k = p->cls->vset_of[ctx - p->subnets];
		v.src_in = (int)((f->vm[0] >> k) & 1);
		v.dst_in = (int)((f->vm[1] >> k) & 1);
	}
	if (slot == NS_PSLOT_TCP || slot == NS_PSLOT_UDP) {
#ifdef NS_HAVE_X86
		win = c->avx2 ? scan_avx2(c, q, &v) : scan_scalar(c, q, &v);
#else
		win = scan_scalar(c, q, &v);
#endif
	} else {
		/* ICMP, ESP, AH: as on the global path (ns_cls_gfirst), two
		 * scans with the VirtualNetwork check as a mask.  The two
		 * lookups it needs cost less than walking the candidates one by
		 * one, which a portless flow mostly did to the end of the
		 * chain. */
		const uint64_t *x = q->a;
		if (c->has_vnet) {
			if (v.src_in < 0)
				v.src_in = in_set(&ctx->vnet_tag, f->family, f->src);
			if (v.dst_in < 0)
				v.dst_in = in_set(&ctx->vnet_tag, f->family, f->dst);
			unsigned outside = (unsigned)!v.src_in | (unsigned)!v.dst_in << 1;
			if (outside)
				x = c->bits + c->vallow[outside];
		}
		int pl = portless_index(slot);
		win = c->scan5(c, q->m, q->a, q->a, q->d, x);
		if (c->scan5(c, c->bits + c->pl_ports[pl], q->a, q->a, q->d, x) < win)
			bits |= NSGSIM_ASSUME_PORTLESS_PROTOCOL;
		if (win < c->n && rules[win].protocol == NS_PROTO_ANY && slot != NS_PSLOT_ICMP)
			bits |= NSGSIM_ASSUME_ANY_PROTOCOL;
	}
	if (c->n == 0) {
		*assume |= bits;
		return win;
	}
	/* The rules tested: up to the winner, or all of them. */
	uint32_t last = win < c->n ? win : c->n - 1;
	if ((c->first_inet[slot][0] <= last && !f->sni[0]) ||
	    (c->first_inet[slot][1] <= last && !f->sni[1]))
		bits |= NSGSIM_ASSUME_INTERNET_TAG;
	if (ctx->vnet_routes &&
	    ((c->first_vnet[slot][0] <= last && ns_via_route(ctx, f->family, f->src)) ||
	     (c->first_vnet[slot][1] <= last && ns_via_route(ctx, f->family, f->dst))))
		bits |= NSGSIM_ASSUME_VNET_TAG_ROUTES;
	*assume |= bits;
	return win;
}

/* ---- one chain, the global path -------------------------------------------------------
 *
 * The common case end to end: the flow has its policy-wide classes and the
 * policy knows which VirtualNetwork sets hold its addresses.  Then nothing
 * is left to find out lazily: the VirtualNetwork check becomes a fifth
 * bitset (vallow, chosen by which of the two addresses are outside the
 * context's set) ANDed with the others, and a chain is a few loads, one
 * scan (two for a portless protocol) and a few compares (ns_cls_gfirst in
 * classify.h).  Measured under callgrind on the bench's hub workload, a
 * chain went from about 265 instructions to about 150 this way, before
 * lib/eval.c's batch path inlined it. */

static uint32_t scan5_scalar(const ns_cls *c, const uint64_t *m, const uint64_t *s,
                             const uint64_t *a, const uint64_t *d, const uint64_t *x)
{
	for (uint32_t k = 0; k < c->words; k++) {
		uint64_t w = m[k] & s[k] & a[k] & d[k] & x[k];
		if (w)
			return k * 64 + (uint32_t)__builtin_ctzll(w);
	}
	return c->n;
}

#ifdef NS_HAVE_X86
/* m & s & a & d & x for words k..k+3. */
__attribute__((target("avx2"))) static inline __m256i
and5_avx2(const uint64_t *m, const uint64_t *s, const uint64_t *a, const uint64_t *d,
          const uint64_t *x, uint32_t k)
{
	__m256i v =
	        _mm256_and_si256(_mm256_and_si256(_mm256_loadu_si256((const __m256i *)(m + k)),
	                                          _mm256_loadu_si256((const __m256i *)(s + k))),
	                         _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(a + k)),
	                                          _mm256_loadu_si256((const __m256i *)(d + k))));
	return _mm256_and_si256(v, _mm256_loadu_si256((const __m256i *)(x + k)));
}

/* Bit i set when lane i of v is zero. */
__attribute__((target("avx2"))) static inline unsigned zero_lanes(__m256i v)
{
	return (unsigned)_mm256_movemask_pd(
	        _mm256_castsi256_pd(_mm256_cmpeq_epi64(v, _mm256_setzero_si256())));
}

__attribute__((target("avx2"))) static uint32_t scan5_avx2(const ns_cls *c, const uint64_t *m,
                                                           const uint64_t *s, const uint64_t *a,
                                                           const uint64_t *d, const uint64_t *x)
{
	for (uint32_t k = 0; k < c->words; k += 4) {
		__m256i v = and5_avx2(m, s, a, d, x, k);
		if (_mm256_testz_si256(v, v))
			continue;
		/* The first non-zero lane, then its word again in a scalar. */
		uint32_t j = k + (uint32_t)__builtin_ctz(~zero_lanes(v) & 0xFu);
		uint64_t w = m[j] & s[j] & a[j] & d[j] & x[j];
		return j * 64 + (uint32_t)__builtin_ctzll(w);
	}
	return c->n;
}

/* scan5_avx2 for chains of 16 words (769 to 1,024 rules): all sixteen
 * words in one pass and one branch, instead of a loop that exits at an
 * unpredictable place.  Measured on the bench's 1,000-rule chain, 8-10%
 * less time per batched flow; on the 4,000-rule chain a 16-word block was
 * slower than four words at a time, so only this size takes it. */
__attribute__((target("avx2"))) static uint32_t scan5_avx2_16(const ns_cls *c, const uint64_t *m,
                                                              const uint64_t *s, const uint64_t *a,
                                                              const uint64_t *d, const uint64_t *x)
{
	unsigned zero = zero_lanes(and5_avx2(m, s, a, d, x, 0)) |
	                zero_lanes(and5_avx2(m, s, a, d, x, 4)) << 4 |
	                zero_lanes(and5_avx2(m, s, a, d, x, 8)) << 8 |
	                zero_lanes(and5_avx2(m, s, a, d, x, 12)) << 12;
	if (zero == 0xFFFFu)
		return c->n;
	uint32_t j = (uint32_t)__builtin_ctz(~zero);
	uint64_t w = m[j] & s[j] & a[j] & d[j] & x[j];
	return j * 64 + (uint32_t)__builtin_ctzll(w);
}
#endif

static uint32_t first_global(const nsgsim_policy *p, const ns_cls *c, const ns_crule *rules,
                             const ns_flowv *f, const ns_csubnet *ctx, unsigned *assume)
{
	ns_gside sd;
	ns_gside_init(&sd, p, f, ctx);
	return ns_cls_gfirst(c, rules, &sd, assume);
}

uint32_t ns_cls_first(const nsgsim_policy *p, const ns_cls *c, const ns_crule *rules,
                      const ns_flowv *f, const ns_csubnet *ctx, unsigned *assume)
{
	if (f->global && c->tx[0] && p->cls->vset_of)
		return first_global(p, c, rules, f, ctx, assume);
	ns_cls_probe q;
	ns_cls_locate(c, f, &q);
	return ns_cls_scan(p, c, rules, &q, f, ctx, assume);
}

/* Many flows through one chain, each looked up straight through with the
 * maps of a flow a few places ahead prefetched (see eval_batch_compiled in
 * lib/eval.c for why not in lockstep). */
static inline void global_classes(const ns_cls_store *st, ns_flowv *f);

/* What a batch through one chain fixes for all its flows, for the IPv4
 * TCP/UDP loop below. */
typedef struct chain_batch {
	const ns_cls_store *st;
	const ns_cls *c;
	const ns_imap *src, *dst;
	const uint32_t *vm_src, *vm_dst;            /* VirtualNetwork sets per class */
	const uint32_t *tx_src, *tx_dst, *tx_sport; /* class -> bitset offset */
	unsigned vset;                              /* the context's bit in vm_* */
} chain_batch;

static inline uint32_t port_class(const ns_cls_store *st, int field, int port)
{
	return st->gport[field] ? st->gport[field][port]
	                        : imap_get(&st->gmap[field], (uint32_t)port);
}

/* ns_cls_gfirst for an IPv4 TCP or UDP flow with a source port, in a
 * context without VNET_TAG_ROUTES, on a chain with rules: the same answer
 * with only what such a flow needs -- no endpoint records, no copy of the
 * flow, the chain's tables hoisted.  Measured on the bench's 1,000-rule
 * chain, this loop takes about 15% less time per flow than classifying
 * each flow in full and calling ns_cls_gfirst (the scan stays a call:
 * inlining it into the loop was measured slower). */
static inline uint32_t first_ipv4_ported(const chain_batch *b, const ns_flowv *f, unsigned *assume)
{
	const ns_cls *c = b->c;
	uint32_t cs = imap_get(b->src, (uint32_t)f->src), cd = imap_get(b->dst, (uint32_t)f->dst);
	int field = f->slot == NS_PSLOT_UDP ? NS_F_UDP : NS_F_TCP;
	const uint64_t *a = c->bits + b->tx_src[cs], *d = c->bits + b->tx_dst[cd];
	const uint64_t *m = c->bits + c->tx[field][port_class(b->st, field, f->dport)];
	const uint64_t *s =
	        c->has_sport ? c->bits + b->tx_sport[port_class(b->st, NS_F_SPORT, f->sport)] : a;
	const uint64_t *x = a;
	if (c->has_vnet) {
		unsigned outside = (~(b->vm_src[cs] >> b->vset) & 1u) |
		                   ((~(b->vm_dst[cd] >> b->vset) & 1u) << 1);
		if (outside)
			x = c->bits + c->vallow[outside];
	}
	uint32_t win = c->scan5(c, m, s, a, d, x);
	uint32_t last = win < c->n ? win : c->n - 1;
	*assume = (c->first_inet[f->slot][0] <= last && !f->sni[0]) ||
	                          (c->first_inet[f->slot][1] <= last && !f->sni[1])
	                  ? NSGSIM_ASSUME_INTERNET_TAG
	                  : 0;
	return win;
}

void ns_cls_first_batch(const nsgsim_policy *p, const ns_cls *c, const ns_crule *rules,
                        const ns_flowv *f, size_t n, const ns_csubnet *ctx, uint32_t *win,
                        unsigned *assume)
{
	enum { AHEAD = 4 };
	const ns_cls_store *st = p->cls;
	if (st && st->global && c->tx[0] && st->vset_of) {
		chain_batch b = {st,
		                 c,
		                 &st->gmap[NS_F_SRC4],
		                 &st->gmap[NS_F_DST4],
		                 st->gvm[NS_F_SRC4],
		                 st->gvm[NS_F_DST4],
		                 c->tx[NS_F_SRC4],
		                 c->tx[NS_F_DST4],
		                 c->tx[NS_F_SPORT],
		                 st->vset_of[ctx - p->subnets]};
		/* VNET_TAG_ROUTES needs the context's routes: the full path. */
		bool lean_ok = !ctx->vnet_routes && c->n > 0;
		for (size_t i = 0; i < n; i++) {
			if (i + AHEAD < n)
				ns_cls_global_prefetch(st, f[i + AHEAD].family, f[i + AHEAD].src,
				                       f[i + AHEAD].dst);
			const ns_flowv *fi = &f[i];
			if (lean_ok && fi->family == 4 && fi->sport >= 0 &&
			    (fi->slot == NS_PSLOT_TCP || fi->slot == NS_PSLOT_UDP)) {
				win[i] = first_ipv4_ported(&b, fi, &assume[i]);
				continue;
			}
			ns_flowv g = *fi;
			global_classes(st, &g);
			ns_gside sd;
			ns_gside_init(&sd, p, &g, ctx);
			assume[i] = 0;
			win[i] = ns_cls_gfirst(c, rules, &sd, &assume[i]);
		}
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (i + AHEAD < n)
			ns_cls_prefetch(c, &f[i + AHEAD]);
		assume[i] = 0;
		win[i] = ns_cls_first(p, c, rules, &f[i], ctx, &assume[i]);
	}
}

int ns_cls_next_sport(const ns_cls *c, int port, int best)
{
	/* The first boundary above port. */
	size_t lo = 0, hi = c->n_sbounds;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if ((int)c->sbounds[mid] <= port)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < c->n_sbounds && (int)c->sbounds[lo] < best)
		return (int)c->sbounds[lo];
	return best;
}

/* ---- endpoints -------------------------------------------------------------------- */

const ns_eprec *ns_cls_endpoint(const ns_cls_store *st, int family, ns_u128 a)
{
	uint32_t r = family == 4 ? imap_get(&st->ep4, (uint32_t)a) : imap6_get(&st->ep6, a);
	return &st->recs[r];
}

void ns_cls_global_classes(const ns_cls_store *st, ns_flowv *f)
{
	global_classes(st, f);
}

static inline void global_classes(const ns_cls_store *st, ns_flowv *f)
{
	f->global = st->global;
	if (!st->global)
		return;
	int fs, fd;
	if (f->family == 4) {
		f->gc[0] = imap_get(&st->gmap[NS_F_SRC4], (uint32_t)f->src);
		f->gc[1] = imap_get(&st->gmap[NS_F_DST4], (uint32_t)f->dst);
		fs = NS_F_SRC4;
		fd = NS_F_DST4;
	} else {
		f->gc[0] = imap6_get(&st->gmap6[0], f->src);
		f->gc[1] = imap6_get(&st->gmap6[1], f->dst);
		fs = NS_F_SRC6;
		fd = NS_F_DST6;
	}
	f->gf[0] = (uint8_t)fs;
	f->gf[1] = (uint8_t)fd;
	f->gf[2] = f->proto == NS_PROTO_UDP ? NS_F_UDP : NS_F_TCP;
	f->inet_off[0] = f->sni[0] ? UINT32_MAX : 0;
	f->inet_off[1] = f->sni[1] ? UINT32_MAX : 0;
	f->ep[0] = st->gep[fs][f->gc[0]];
	f->ep[1] = st->gep[fd][f->gc[1]];
	f->vm[0] = st->gvm[fs][f->gc[0]];
	f->vm[1] = st->gvm[fd][f->gc[1]];
	if (f->proto == NS_PROTO_TCP || f->proto == NS_PROTO_UDP) {
		int fm = f->proto == NS_PROTO_UDP ? NS_F_UDP : NS_F_TCP;
		f->gc[2] = port_class(st, fm, f->dport);
		/* No source port yet (every source port): set when one is. */
		f->gc[3] = f->sport < 0 ? 0 : port_class(st, NS_F_SPORT, f->sport);
	} else {
		f->gc[2] = f->gc[3] = 0;
	}
}

void ns_cls_global_prefetch(const ns_cls_store *st, int family, ns_u128 src, ns_u128 dst)
{
	if (!st->global)
		return;
	if (family == 4) {
		prefetch(&st->gmap[NS_F_SRC4].l1[(uint32_t)src >> st->gmap[NS_F_SRC4].shift1]);
		prefetch(&st->gmap[NS_F_DST4].l1[(uint32_t)dst >> st->gmap[NS_F_DST4].shift1]);
	} else {
		prefetch(&st->gmap6[0].l1[(uint32_t)(src >> st->gmap6[0].shift1)]);
		prefetch(&st->gmap6[1].l1[(uint32_t)(dst >> st->gmap6[1].shift1)]);
	}
}

/* ======================================================================================
 * Building
 * ====================================================================================== */

/* A growable array of fixed-size elements; -1 when out of memory. */
typedef struct gvec {
	void *data;
	size_t n, cap, elem;
} gvec;

static void gv_init(gvec *v, size_t elem)
{
	memset(v, 0, sizeof *v);
	v->elem = elem;
}

static int gv_reserve(gvec *v, size_t extra)
{
	if (v->n + extra <= v->cap)
		return 0;
	size_t cap = v->cap ? v->cap : 16;
	while (cap < v->n + extra)
		cap *= 2;
	void *d = realloc(v->data, cap * v->elem);
	if (!d)
		return -1;
	v->data = d;
	v->cap = cap;
	return 0;
}

static void *gv_push(gvec *v)
{
	if (gv_reserve(v, 1) != 0)
		return NULL;
	return (char *)v->data + v->elem * v->n++;
}

static void gv_free(gvec *v)
{
	free(v->data);
	v->data = NULL;
	v->n = v->cap = 0;
}

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

/* ---- the class table: distinct bitsets, found by their Zobrist hash ------------------ */

typedef struct ctab {
	size_t words;
	gvec bits;       /* uint64_t, classes * words */
	gvec hash;       /* uint64_t per class */
	uint32_t *slots; /* open addressing: class + 1, 0 = empty */
	size_t n_slots;
	uint64_t *keys; /* a random key per rule */
} ctab;

static int ct_init(ctab *t, size_t n_rules, size_t words)
{
	memset(t, 0, sizeof *t);
	t->words = words;
	gv_init(&t->bits, sizeof(uint64_t));
	gv_init(&t->hash, sizeof(uint64_t));
	t->n_slots = 1024;
	t->slots = calloc(t->n_slots, sizeof *t->slots);
	t->keys = malloc((n_rules + 1) * sizeof *t->keys);
	if (!t->slots || !t->keys)
		return -1;
	for (size_t i = 0; i < n_rules; i++)
		t->keys[i] = splitmix64(i * 0x2545F4914F6CDD1Dull + 1);
	return 0;
}

static void ct_free(ctab *t)
{
	gv_free(&t->bits);
	gv_free(&t->hash);
	free(t->slots);
	free(t->keys);
}

static uint64_t ct_hash_of(const ctab *t, const uint64_t *b)
{
	uint64_t h = 0;
	for (size_t k = 0; k < t->words; k++)
		for (uint64_t w = b[k]; w; w &= w - 1)
			h ^= t->keys[k * 64 + (size_t)__builtin_ctzll(w)];
	return h;
}

static int ct_grow(ctab *t)
{
	size_t n = t->n_slots * 2;
	uint32_t *s = calloc(n, sizeof *s);
	if (!s)
		return -1;
	const uint64_t *hs = t->hash.data;
	for (size_t c = 0; c < t->hash.n; c++) {
		size_t i = (size_t)hs[c] & (n - 1);
		while (s[i])
			i = (i + 1) & (n - 1);
		s[i] = (uint32_t)c + 1;
	}
	free(t->slots);
	t->slots = s;
	t->n_slots = n;
	return 0;
}

/* The offset (in words) of the class equal to b, added when new; -1 when out
 * of memory. */
static int64_t ct_intern(ctab *t, const uint64_t *b, uint64_t h)
{
	size_t i = (size_t)h & (t->n_slots - 1);
	const uint64_t *hs = t->hash.data;
	for (; t->slots[i]; i = (i + 1) & (t->n_slots - 1)) {
		size_t c = t->slots[i] - 1;
		if (hs[c] == h &&
		    memcmp((const uint64_t *)t->bits.data + c * t->words, b, t->words * 8) == 0)
			return (int64_t)(c * t->words);
	}
	size_t c = t->hash.n;
	if (c >= UINT32_MAX / 2 || (c + 1) * t->words > UINT32_MAX ||
	    gv_reserve(&t->bits, t->words) != 0 || !gv_push(&t->hash))
		return -1;
	memcpy((uint64_t *)t->bits.data + c * t->words, b, t->words * 8);
	t->bits.n += t->words;
	((uint64_t *)t->hash.data)[c] = h;
	t->slots[i] = (uint32_t)c + 1;
	if ((c + 1) * 2 > t->n_slots && ct_grow(t) != 0)
		return -1;
	return (int64_t)(c * t->words);
}

static int64_t ct_intern_plain(ctab *t, const uint64_t *b)
{
	return ct_intern(t, b, ct_hash_of(t, b));
}

/* ---- the sweep: one field's elementary intervals and their classes ------------------ */

/* A group: ranges (sorted, disjoint, not touching) shared by some rules. */
typedef struct sweep_in {
	gvec rng;      /* ns_range6: ranges of all groups */
	gvec rng_off;  /* size_t: group g's ranges are [rng_off[g], rng_off[g+1]) */
	gvec rules;    /* uint32_t: rules of all groups */
	gvec rule_off; /* size_t */
	uint64_t *any; /* rules that match every key */
	ns_u128 kmax;  /* the largest key */
} sweep_in;

static int sw_init(sweep_in *in, size_t words, ns_u128 kmax)
{
	gv_init(&in->rng, sizeof(ns_range6));
	gv_init(&in->rng_off, sizeof(size_t));
	gv_init(&in->rules, sizeof(uint32_t));
	gv_init(&in->rule_off, sizeof(size_t));
	in->kmax = kmax;
	in->any = calloc(words, sizeof *in->any);
	size_t *a = gv_push(&in->rng_off), *b = gv_push(&in->rule_off);
	if (!in->any || !a || !b)
		return -1;
	*a = *b = 0;
	return 0;
}

static void sw_free(sweep_in *in)
{
	gv_free(&in->rng);
	gv_free(&in->rng_off);
	gv_free(&in->rules);
	gv_free(&in->rule_off);
	free(in->any);
}

static size_t sw_groups(const sweep_in *in)
{
	return in->rng_off.n - 1;
}

static int sw_add_range(sweep_in *in, ns_u128 lo, ns_u128 hi)
{
	ns_range6 *r = gv_push(&in->rng);
	if (!r)
		return -1;
	r->lo = lo;
	r->hi = hi;
	return 0;
}

static int sw_add_rule(sweep_in *in, uint32_t rule)
{
	uint32_t *r = gv_push(&in->rules);
	if (!r)
		return -1;
	*r = rule;
	return 0;
}

/* Closes the group whose ranges and rules were added since the last close. */
static int sw_close_group(sweep_in *in)
{
	size_t *a = gv_push(&in->rng_off), *b = gv_push(&in->rule_off);
	if (!a || !b)
		return -1;
	*a = in->rng.n;
	*b = in->rules.n;
	return 0;
}

static int cmp_u128(const void *pa, const void *pb)
{
	ns_u128 a = *(const ns_u128 *)pa, b = *(const ns_u128 *)pb;
	return a < b ? -1 : a > b;
}

/* Position of key in the sorted, distinct b[0..m). */
static size_t find_u128(const ns_u128 *b, size_t m, ns_u128 key)
{
	size_t lo = 0, hi = m;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (b[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The sweep's result: interval starts and their class offsets. */
typedef struct sweep_out {
	gvec starts; /* ns_u128 */
	gvec vals;   /* uint32_t */
} sweep_out;

/* Appends one interval start and its class; false when out of memory. */
static bool sweep_emit(sweep_out *o, ns_u128 start, uint32_t val)
{
	ns_u128 *s = gv_push(&o->starts);
	uint32_t *v = gv_push(&o->vals);
	if (!s || !v)
		return false;
	*s = start;
	*v = val;
	return true;
}

static int sweep(ctab *t, const sweep_in *in, sweep_out *out)
{
	gv_init(&out->starts, sizeof(ns_u128));
	gv_init(&out->vals, sizeof(uint32_t));
	const ns_range6 *rng = in->rng.data;
	size_t n_rng = in->rng.n, n_groups = sw_groups(in);
	const size_t *roff = in->rng_off.data, *uoff = in->rule_off.data;
	const uint32_t *rules = in->rules.data;
	ns_u128 *b = malloc((2 * n_rng + 1) * sizeof *b);
	size_t *cnt = NULL;
	uint32_t *ev = NULL;
	uint64_t *cur = malloc(t->words * sizeof *cur);
	int rc = -1;
	if (!b || !cur)
		goto out;
	/* Elementary intervals: cut at 0 and at every lo and hi + 1. */
	size_t m = 0;
	b[m++] = 0;
	for (size_t i = 0; i < n_rng; i++) {
		b[m++] = rng[i].lo;
		if (rng[i].hi < in->kmax)
			b[m++] = rng[i].hi + 1;
	}
	qsort(b, m, sizeof *b, cmp_u128);
	size_t u = 1;
	for (size_t i = 1; i < m; i++)
		if (b[i] != b[u - 1])
			b[u++] = b[i];
	m = u;
	/* Toggle events per elementary interval, grouped by position. */
	cnt = calloc(m + 1, sizeof *cnt);
	ev = malloc((2 * n_rng + 1) * sizeof *ev);
	if (!cnt || !ev)
		goto out;
	for (size_t i = 0; i < n_rng; i++) {
		cnt[find_u128(b, m, rng[i].lo) + 1]++;
		if (rng[i].hi < in->kmax)
			cnt[find_u128(b, m, rng[i].hi + 1) + 1]++;
	}
	for (size_t j = 0; j < m; j++)
		cnt[j + 1] += cnt[j];
	for (size_t g = 0; g < n_groups; g++) {
		for (size_t i = roff[g]; i < roff[g + 1]; i++) {
			ev[cnt[find_u128(b, m, rng[i].lo)]++] = (uint32_t)g;
			if (rng[i].hi < in->kmax)
				ev[cnt[find_u128(b, m, rng[i].hi + 1)]++] = (uint32_t)g;
		}
	}
	/* cnt[j] now ends position j's events; they start at cnt[j - 1]. */
	memcpy(cur, in->any, t->words * sizeof *cur);
	uint64_t h = ct_hash_of(t, cur);
	int64_t last = -1;
	size_t e = 0;
	for (size_t j = 0; j < m; j++) {
		for (; e < cnt[j]; e++) {
			size_t g = ev[e];
			for (size_t k = uoff[g]; k < uoff[g + 1]; k++) {
				uint32_t r = rules[k];
				cur[r / 64] ^= 1ull << (r % 64);
				h ^= t->keys[r];
			}
		}
		int64_t c = ct_intern(t, cur, h);
		if (c < 0)
			goto out;
		if (c == last)
			continue;
		if (!sweep_emit(out, b[j], (uint32_t)c))
			goto out;
		last = c;
	}
	rc = 0;
out:
	free(b);
	free(cnt);
	free(ev);
	free(cur);
	return rc;
}

static void sweep_out_free(sweep_out *o)
{
	gv_free(&o->starts);
	gv_free(&o->vals);
}

/* ---- laying out the block a classifier owns ---------------------------------------- */

/* Sizes first, then one aligned allocation, then the copies: a classifier is
 * one contiguous block, freed at once and counted exactly. */
typedef struct layout {
	size_t size;
	char *base; /* NULL while sizing */
} layout;

static void *lay(layout *l, size_t bytes, size_t align)
{
	l->size = (l->size + align - 1) & ~(align - 1);
	void *p = l->base ? l->base + l->size : NULL;
	l->size += bytes;
	return p;
}

static uint32_t ceil_log2(size_t n)
{
	uint32_t k = 0;
	while (((size_t)1 << k) < n)
		k++;
	return k;
}

/* ---- interval maps ------------------------------------------------------------------
 *
 * A map's intervals are found through a small trie over the key.  The
 * root, l1, is indexed by the key's top k1 bits (about log2(n) of them, at
 * most 16).  Rule sets crowd some regions, though (the spokes' 10.x
 * prefixes, the host addresses of ASG members, a service tag's many small
 * ranges), so a bucket holding more than LEAF_MAX interval starts becomes a
 * child node of l2, indexed by the next 8 bits (fewer at the first level
 * below the root, so that later levels fall on whole bytes), and so on
 * down, within a budget of l2 entries; the most crowded buckets are split
 * first.  A leaf names the first interval that can hold its keys and how
 * many lifting steps (2^k, ..., 2, 1, conditional moves) find the last
 * start <= key from there.  Measured on the bench's policies, the two-level
 * index this replaced (one optional split) left most destination lookups
 * seven or eight steps deep in the 10.x buckets; here most take none to two.
 * Starts and values are interleaved, so the last step's cache line holds the
 * value too.  A leaf whose keys all fall in one interval (no steps) holds
 * the interval's value instead (IM_INLINE), so most lookups end at the leaf. */
enum { LEAF_MAX = 4, MAX_LEAF_STEPS = IM_INLINE - 1 };

typedef struct imap_plan {
	gvec l1, l2; /* uint32_t */
	uint32_t shift1;
} imap_plan;

/* The interval holding key (the last start <= key); i is a lower bound. */
static uint32_t holding(const ns_u128 *s, uint32_t n, uint32_t i, ns_u128 key)
{
	while (i + 1 < n && s[i + 1] <= key)
		i++;
	return i;
}

/* A bucket that may become a child node: where its entry is (l2 when
 * in_l2), the keys it covers ([base, base + 2^shift)) and the intervals
 * that can hold them ([lo, hi]). */
typedef struct im_bucket {
	ns_u128 base;
	uint32_t shift, entry, lo, hi;
	bool in_l2;
} im_bucket;

/* The candidates form a max-heap by the number of intervals, so that the
 * budget goes to the most crowded buckets at any depth. */
static uint32_t bucket_size(const im_bucket *b)
{
	return b->hi - b->lo;
}

static void heap_up(im_bucket *h, size_t i)
{
	while (i > 0 && bucket_size(&h[(i - 1) / 2]) < bucket_size(&h[i])) {
		im_bucket t = h[i];
		h[i] = h[(i - 1) / 2];
		h[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

static im_bucket heap_pop(gvec *v)
{
	im_bucket *h = v->data, top = h[0];
	h[0] = h[--v->n];
	for (size_t i = 0;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < v->n && bucket_size(&h[l]) > bucket_size(&h[m]))
			m = l;
		if (r < v->n && bucket_size(&h[r]) > bucket_size(&h[m]))
			m = r;
		if (m == i)
			break;
		im_bucket t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
	return top;
}

/* Fills the 2^bits entries of a node covering [base, base + 2^(shift+bits))
 * from interval lo on, each a leaf; the crowded ones join the heap. */
static int fill_node(const ns_u128 *s, uint32_t n, uint32_t *dst, bool in_l2, uint32_t first,
                     ns_u128 base, uint32_t bits, uint32_t shift, uint32_t lo, gvec *heap)
{
	uint32_t j = lo;
	for (uint32_t k = 0; k < (1u << bits); k++) {
		ns_u128 key = base + ((ns_u128)k << shift);
		ns_u128 after = key + ((ns_u128)1 << shift);
		j = holding(s, n, j, key);
		/* Its last reachable interval: the one holding its last key
		 * (after wraps to 0 past the end of the key space). */
		uint32_t end = after == 0 ? n - 1 : holding(s, n, j, after - 1);
		dst[k] = ceil_log2(end - j + 1) << IM_FIELD_SHIFT | j;
		if (end - j + 1 > LEAF_MAX && shift > 0) {
			im_bucket *bk = gv_push(heap);
			if (!bk)
				return -1;
			*bk = (im_bucket){key, shift, first + k, j, end, in_l2};
			heap_up(heap->data, heap->n - 1);
		}
	}
	return 0;
}

static int plan_imap(const sweep_out *o, uint32_t keybits, imap_plan *pl)
{
	const ns_u128 *s = o->starts.data;
	uint32_t n = (uint32_t)o->starts.n;
	uint32_t k1 = ceil_log2(n) + 1;
	if (k1 > 16)
		k1 = 16;
	if (k1 > keybits)
		k1 = keybits;
	pl->shift1 = keybits - k1;
	gv_init(&pl->l1, sizeof(uint32_t));
	gv_init(&pl->l2, sizeof(uint32_t));
	gvec heap;
	gv_init(&heap, sizeof(im_bucket));
	int rc = -1;
	if (n > IM_POS_MASK || gv_reserve(&pl->l1, 1u << k1) != 0)
		goto out;
	pl->l1.n = 1u << k1;
	if (fill_node(s, n, pl->l1.data, false, 0, 0, k1, pl->shift1, 0, &heap) != 0)
		goto out;
	size_t budget = 4 * (size_t)n + 4096;
	while (heap.n) {
		im_bucket bk = heap_pop(&heap);
		uint32_t bits = bk.shift % 8 ? bk.shift % 8 : 8;
		/* Past the budget, only leaves too deep to encode are split. */
		if (ceil_log2(bk.hi - bk.lo + 1) <= MAX_LEAF_STEPS &&
		    pl->l2.n + (1u << bits) > budget)
			continue;
		uint32_t first = (uint32_t)pl->l2.n;
		if (first > IM_POS_MASK || gv_reserve(&pl->l2, 1u << bits) != 0)
			goto out;
		pl->l2.n += 1u << bits;
		uint32_t *l2 = pl->l2.data;
		if (fill_node(s, n, l2 + first, true, first, bk.base, bits, bk.shift - bits, bk.lo,
		              &heap) != 0)
			goto out;
		uint32_t *parent = bk.in_l2 ? l2 : pl->l1.data;
		parent[bk.entry] = IM_CHILD | bits << IM_FIELD_SHIFT | first;
	}
	rc = 0;
out:
	gv_free(&heap);
	return rc;
}

static void plan_free(imap_plan *pl)
{
	gv_free(&pl->l1);
	gv_free(&pl->l2);
}

/* Leaves of one interval take its value in place of its position, when the
 * value fits: the lookup then ends at the leaf, one dependent load sooner
 * (most leaves are such). */
static void inline_leaves(uint32_t *entry, size_t n, const uint32_t *vals)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t e = entry[i];
		if ((e & IM_CHILD) || (e >> IM_FIELD_SHIFT) != 0)
			continue;
		uint32_t v = vals[e & IM_POS_MASK];
		if (v <= IM_POS_MASK)
			entry[i] = IM_INLINE << IM_FIELD_SHIFT | v;
	}
}

/* Lays out an ns_imap of a sweep's result and its plan; fills it when
 * l->base is set. */
static void lay_imap(layout *l, const sweep_out *o, const imap_plan *pl, ns_imap *m)
{
	uint32_t n = (uint32_t)o->starts.n;
	uint32_t *l1 = lay(l, pl->l1.n * sizeof *l1, 64);
	uint32_t *l2 = lay(l, pl->l2.n * sizeof *l2, 64);
	uint32_t *sv = lay(l, 2 * n * sizeof *sv, 64);
	if (!l->base)
		return;
	memcpy(l1, pl->l1.data, pl->l1.n * sizeof *l1);
	if (pl->l2.n) /* no child nodes: l2.data may be NULL */
		memcpy(l2, pl->l2.data, pl->l2.n * sizeof *l2);
	const ns_u128 *s = o->starts.data;
	const uint32_t *v = o->vals.data;
	inline_leaves(l1, pl->l1.n, v);
	inline_leaves(l2, pl->l2.n, v);
	for (uint32_t i = 0; i < n; i++) {
		sv[2 * i] = (uint32_t)s[i];
		sv[2 * i + 1] = v[i];
	}
	*m = (ns_imap){l1, l2, sv, n, pl->shift1};
}

static void lay_imap6(layout *l, const sweep_out *o, const imap_plan *pl, ns_imap6 *m)
{
	uint32_t n = (uint32_t)o->starts.n;
	uint32_t *l1 = lay(l, pl->l1.n * sizeof *l1, 64);
	uint32_t *l2 = lay(l, pl->l2.n * sizeof *l2, 64);
	ns_u128 *starts = lay(l, n * sizeof *starts, 64);
	uint32_t *val = lay(l, n * sizeof *val, 64);
	if (!l->base)
		return;
	memcpy(l1, pl->l1.data, pl->l1.n * sizeof *l1);
	if (pl->l2.n) /* no child nodes: l2.data may be NULL */
		memcpy(l2, pl->l2.data, pl->l2.n * sizeof *l2);
	memcpy(starts, o->starts.data, n * sizeof *starts);
	memcpy(val, o->vals.data, n * sizeof *val);
	inline_leaves(l1, pl->l1.n, val);
	inline_leaves(l2, pl->l2.n, val);
	*m = (ns_imap6){l1, l2, starts, val, n, pl->shift1};
}

/* ---- the fields of a chain --------------------------------------------------------- */

static void set_bit(uint64_t *b, size_t i)
{
	b[i / 64] |= 1ull << (i % 64);
}

typedef struct rule_set {
	const ns_pset *set;
	uint32_t rule;
} rule_set;

static int cmp_rule_set(const void *pa, const void *pb)
{
	const rule_set *a = pa, *b = pb;
	if (a->set != b->set)
		return (uintptr_t)a->set < (uintptr_t)b->set ? -1 : 1;
	return a->rule < b->rule ? -1 : a->rule > b->rule;
}

/* One address field (source or destination) in one family.  A side that
 * is '*' or VirtualNetwork counts as any address (VirtualNetwork is
 * checked per context, see the top of the file); sides that name the same
 * set (a service tag, an ASG) form one group. */
static int address_field(ctab *t, const ns_chain *ch, bool source, int family, sweep_out *out)
{
	sweep_in in;
	ns_u128 kmax = family == 4 ? (ns_u128)UINT32_MAX : ~(ns_u128)0;
	rule_set *rs = malloc((ch->n + 1) * sizeof *rs);
	int rc = -1;
	if (sw_init(&in, t->words, kmax) != 0 || !rs)
		goto out;
	size_t n_rs = 0;
	for (size_t i = 0; i < ch->n; i++) {
		const ns_cside *s = source ? &ch->rules[i].src : &ch->rules[i].dst;
		if (s->any_addr || s->vnet_tag || !s->set)
			set_bit(in.any, i);
		else
			rs[n_rs++] = (rule_set){s->set, (uint32_t)i};
	}
	qsort(rs, n_rs, sizeof *rs, cmp_rule_set);
	for (size_t i = 0; i < n_rs;) {
		const ns_pset *set = rs[i].set;
		size_t j = i;
		for (; j < n_rs && rs[j].set == set; j++)
			if (sw_add_rule(&in, rs[j].rule) != 0)
				goto out;
		if (family == 4)
			for (size_t k = 0; k < set->n4; k++)
				if (sw_add_range(&in, set->v4[k].lo, set->v4[k].hi) != 0)
					goto out;
		if (family == 6)
			for (size_t k = 0; k < set->n6; k++)
				if (sw_add_range(&in, set->v6[k].lo, set->v6[k].hi) != 0)
					goto out;
		if (sw_close_group(&in) != 0)
			goto out;
		i = j;
	}
	rc = sweep(t, &in, out);
out:
	sw_free(&in);
	free(rs);
	return rc;
}

static int cmp_port_range(const void *pa, const void *pb)
{
	const ns_port_range *a = pa, *b = pb;
	return a->lo != b->lo ? (a->lo < b->lo ? -1 : 1) : (a->hi < b->hi ? -1 : a->hi > b->hi);
}

/* A port field: the destination port of TCP or UDP (proto), or the source
 * port (proto 0: every protocol, since M already holds the protocol).
 * Rules whose protocol cannot match are in no class. */
static int port_field(ctab *t, const ns_chain *ch, bool source, int proto, sweep_out *out)
{
	sweep_in in;
	ns_port_range *tmp = NULL;
	size_t cap = 0;
	int rc = -1;
	if (sw_init(&in, t->words, 65535) != 0)
		goto out;
	for (size_t i = 0; i < ch->n; i++) {
		const ns_crule *r = &ch->rules[i];
		const ns_cside *s = source ? &r->src : &r->dst;
		if (proto && r->protocol != NS_PROTO_ANY && r->protocol != proto)
			continue;
		if (s->n_ports == 0) {
			set_bit(in.any, i);
			continue;
		}
		/* The clause's ranges as written may overlap: merge them, since
		 * the sweep toggles a rule's bit at each end. */
		if (s->n_ports > cap) {
			cap = s->n_ports;
			ns_port_range *nt = realloc(tmp, cap * sizeof *tmp);
			if (!nt)
				goto out;
			tmp = nt;
		}
		memcpy(tmp, s->ports, s->n_ports * sizeof *tmp);
		qsort(tmp, s->n_ports, sizeof *tmp, cmp_port_range);
		uint32_t lo = tmp[0].lo, hi = tmp[0].hi;
		for (size_t k = 1; k <= s->n_ports; k++) {
			if (k < s->n_ports && tmp[k].lo <= hi + 1) {
				if (tmp[k].hi > hi)
					hi = tmp[k].hi;
				continue;
			}
			if (sw_add_range(&in, lo, hi) != 0)
				goto out;
			if (k < s->n_ports) {
				lo = tmp[k].lo;
				hi = tmp[k].hi;
			}
		}
		if (sw_add_rule(&in, (uint32_t)i) != 0 || sw_close_group(&in) != 0)
			goto out;
	}
	rc = sweep(t, &in, out);
out:
	free(tmp);
	sw_free(&in);
	return rc;
}

static bool proto_matches(int rule_proto, int proto)
{
	return rule_proto == NS_PROTO_ANY || rule_proto == proto;
}

static const int slot_proto[NS_PSLOTS] = {NS_PROTO_ICMP, NS_PROTO_TCP, NS_PROTO_UDP, NS_PROTO_ESP,
                                          NS_PROTO_AH};

/* The Internet-tag test of lib/eval.c's side_assumptions. */
static bool internet_side(const nsgsim_policy *p, const ns_cside *s)
{
	return s->tag && s->set == &p->internet && !p->internet_overridden;
}

static int cmp_u32(const void *pa, const void *pb)
{
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	return a < b ? -1 : a > b;
}

static bool have_avx2(void)
{
#ifdef NS_HAVE_X86
	const char *off = getenv("NSGSIM_NO_SIMD");
	if (off && *off && strcmp(off, "0") != 0)
		return false;
	return __builtin_cpu_supports("avx2");
#else
	return false;
#endif
}

#define F_SRC4  NS_F_SRC4
#define F_DST4  NS_F_DST4
#define F_SRC6  NS_F_SRC6
#define F_DST6  NS_F_DST6
#define F_SPORT NS_F_SPORT
#define F_TCP   NS_F_TCP
#define F_UDP   NS_F_UDP
#define F_COUNT NS_F_COUNT

ns_cls *ns_cls_build(const nsgsim_policy *p, const ns_chain *ch)
{
	size_t n = ch->n;
	size_t words = ((n + 255) / 256) * 4;
	if (words == 0)
		words = 4;
	ctab t;
	sweep_out f[F_COUNT];
	imap_plan plan[F_COUNT];
	memset(f, 0, sizeof f);
	memset(plan, 0, sizeof plan);
	size_t n_sport_ranges = 0;
	for (size_t i = 0; i < n; i++)
		n_sport_ranges += ch->rules[i].src.n_ports;
	uint64_t *tmp = calloc(words * 4, sizeof *tmp);
	uint32_t *sb = malloc((2 * n_sport_ranges + 1) * sizeof *sb);
	ns_cls *c = NULL, hdr;
	memset(&hdr, 0, sizeof hdr);
	if (ct_init(&t, n, words) != 0 || !tmp || !sb)
		goto fail;
	hdr.n = (uint32_t)n;
	hdr.words = (uint32_t)words;
	/* The fields. */
	if (address_field(&t, ch, true, 4, &f[F_SRC4]) != 0 ||
	    address_field(&t, ch, false, 4, &f[F_DST4]) != 0 ||
	    address_field(&t, ch, true, 6, &f[F_SRC6]) != 0 ||
	    address_field(&t, ch, false, 6, &f[F_DST6]) != 0 ||
	    port_field(&t, ch, true, 0, &f[F_SPORT]) != 0 ||
	    port_field(&t, ch, false, NS_PROTO_TCP, &f[F_TCP]) != 0 ||
	    port_field(&t, ch, false, NS_PROTO_UDP, &f[F_UDP]) != 0)
		goto fail;
	/* Portless protocols, VirtualNetwork sides, first assumption rules. */
	for (int k = 0; k < 3; k++) {
		int proto = k == 0 ? NS_PROTO_ICMP : k == 1 ? NS_PROTO_ESP : NS_PROTO_AH;
		uint64_t *none = tmp, *some = tmp + words;
		memset(tmp, 0, 2 * words * sizeof *tmp);
		for (size_t i = 0; i < n; i++) {
			const ns_crule *r = &ch->rules[i];
			if (!proto_matches(r->protocol, proto))
				continue;
			set_bit(r->src.n_ports == 0 && r->dst.n_ports == 0 ? none : some, i);
		}
		int64_t a = ct_intern_plain(&t, none), b = ct_intern_plain(&t, some);
		if (a < 0 || b < 0)
			goto fail;
		hdr.pl_match[k] = (uint32_t)a;
		hdr.pl_ports[k] = (uint32_t)b;
	}
	memset(tmp, 0, 2 * words * sizeof *tmp);
	for (int s = 0; s < NS_PSLOTS; s++)
		for (int d = 0; d < 2; d++)
			hdr.first_inet[s][d] = hdr.first_vnet[s][d] = NS_CLS_NONE;
	size_t n_sb = 0;
	for (size_t i = 0; i < n; i++) {
		const ns_crule *r = &ch->rules[i];
		if (r->src.vnet_tag)
			set_bit(tmp, i);
		if (r->dst.vnet_tag)
			set_bit(tmp + words, i);
		hdr.has_vnet |= r->src.vnet_tag || r->dst.vnet_tag;
		hdr.has_sport |= r->src.n_ports > 0;
		for (int s = 0; s < NS_PSLOTS; s++) {
			if (!proto_matches(r->protocol, slot_proto[s]))
				continue;
			const ns_cside *sides[2] = {&r->src, &r->dst};
			for (int d = 0; d < 2; d++) {
				if (internet_side(p, sides[d]) &&
				    hdr.first_inet[s][d] == NS_CLS_NONE)
					hdr.first_inet[s][d] = (uint32_t)i;
				if (sides[d]->vnet_tag && hdr.first_vnet[s][d] == NS_CLS_NONE)
					hdr.first_vnet[s][d] = (uint32_t)i;
			}
		}
		for (size_t k = 0; k < r->src.n_ports; k++) {
			sb[n_sb++] = r->src.ports[k].lo;
			sb[n_sb++] = (uint32_t)r->src.ports[k].hi + 1;
		}
	}
	{
		int64_t a = ct_intern_plain(&t, tmp), b = ct_intern_plain(&t, tmp + words);
		if (a < 0 || b < 0)
			goto fail;
		hdr.vnet_src = (uint32_t)a;
		hdr.vnet_dst = (uint32_t)b;
		/* The masks of the global path (ns_cls_first_global): each
		 * combination of sides outside the VirtualNetwork set. */
		uint64_t *vs = tmp, *vd = tmp + words, *x = tmp + 2 * words;
		for (unsigned k = 1; k < 4; k++) {
			memset(x, 0, words * sizeof *x);
			for (size_t i = 0; i < n; i++)
				set_bit(x, i);
			for (size_t w = 0; w < words; w++)
				x[w] &= ~(((k & 1) ? vs[w] : 0) | ((k & 2) ? vd[w] : 0));
			int64_t o = ct_intern_plain(&t, x);
			if (o < 0)
				goto fail;
			hdr.vallow[k] = (uint32_t)o;
		}
	}
	qsort(sb, n_sb, sizeof *sb, cmp_u32);
	size_t u = 0;
	for (size_t i = 0; i < n_sb; i++)
		if (u == 0 || sb[i] != sb[u - 1])
			sb[u++] = sb[i];
	n_sb = u;
	hdr.avx2 = have_avx2();
#ifdef NS_HAVE_X86
	hdr.scan5 = !hdr.avx2 ? scan5_scalar : hdr.words == 16 ? scan5_avx2_16 : scan5_avx2;
#else
	hdr.scan5 = scan5_scalar;
#endif

	static const uint32_t keybits[F_COUNT] = {32, 32, 128, 128, 16, 16, 16};
	for (int i = 0; i < F_COUNT; i++)
		if (plan_imap(&f[i], keybits[i], &plan[i]) != 0)
			goto fail;
	/* One block: the header, the bitsets, the maps. */
	layout l = {0, NULL};
	for (int pass = 0; pass < 2; pass++) {
		ns_cls *hp = lay(&l, sizeof *hp, 64);
		uint64_t *bits = lay(&l, t.bits.n * sizeof *bits, 64);
		ns_cls tmpc = hdr;
		lay_imap(&l, &f[F_SRC4], &plan[F_SRC4], &tmpc.src4);
		lay_imap(&l, &f[F_DST4], &plan[F_DST4], &tmpc.dst4);
		lay_imap6(&l, &f[F_SRC6], &plan[F_SRC6], &tmpc.src6);
		lay_imap6(&l, &f[F_DST6], &plan[F_DST6], &tmpc.dst6);
		lay_imap(&l, &f[F_SPORT], &plan[F_SPORT], &tmpc.sport);
		lay_imap(&l, &f[F_TCP], &plan[F_TCP], &tmpc.dport[0]);
		lay_imap(&l, &f[F_UDP], &plan[F_UDP], &tmpc.dport[1]);
		uint32_t *sbounds = lay(&l, (n_sb + 1) * sizeof *sbounds, 16);
		if (pass == 1) {
			memcpy(bits, t.bits.data, t.bits.n * sizeof *bits);
			memcpy(sbounds, sb, n_sb * sizeof *sbounds);
			tmpc.bits = bits;
			tmpc.sbounds = sbounds;
			tmpc.n_sbounds = (uint32_t)n_sb;
			tmpc.bytes = l.size;
			tmpc.mem = l.base;
			*hp = tmpc;
			c = hp;
			break;
		}
		size_t size = (l.size + 63) & ~(size_t)63;
		l.base = aligned_alloc(64, size);
		if (!l.base)
			goto fail;
		l.size = 0;
	}
fail:
	for (int i = 0; i < F_COUNT; i++) {
		sweep_out_free(&f[i]);
		plan_free(&plan[i]);
	}
	ct_free(&t);
	free(tmp);
	free(sb);
	return c;
}

void ns_cls_free(ns_cls *c)
{
	if (c)
		free(c->mem);
}

/* ---- the endpoint map ------------------------------------------------------------------ */

typedef struct ep_build {
	gvec recs;            /* ns_eprec */
	uint32_t *subnet_rec; /* per subnet and ambiguity: record + 1 */
} ep_build;

static int64_t subnet_record(ep_build *eb, const nsgsim_policy *p, size_t s, bool amb)
{
	uint32_t *slot = &eb->subnet_rec[s * 2 + amb];
	if (*slot)
		return *slot - 1;
	ns_eprec *r = gv_push(&eb->recs);
	if (!r)
		return -1;
	*r = (ns_eprec){NULL, &p->subnets[s], amb};
	*slot = (uint32_t)eb->recs.n;
	return (int64_t)eb->recs.n - 1;
}

/* The intervals of one family: NIC addresses are one-address intervals;
 * elsewhere the first subnet holding the address (and whether another one
 * does too); else record 0. */
static int endpoint_family(const nsgsim_policy *p, ep_build *eb, int family, sweep_out *out)
{
	gv_init(&out->starts, sizeof(ns_u128));
	gv_init(&out->vals, sizeof(uint32_t));
	ns_u128 kmax = family == 4 ? (ns_u128)UINT32_MAX : ~(ns_u128)0;
	size_t n_rng = 0;
	for (size_t i = 0; i < p->n_subnets; i++)
		n_rng += family == 4 ? p->subnets[i].prefixes.n4 : p->subnets[i].prefixes.n6;
	size_t n_pts = 0;
	for (size_t i = 0; i < p->n_endpoints; i++)
		n_pts += p->endpoints[i].family == family;
	size_t sw = (p->n_subnets + 63) / 64 + 1;
	ns_u128 *b = malloc((2 * n_rng + 2 * n_pts + 1) * sizeof *b);
	int *delta = NULL;
	uint64_t *active = calloc(sw, sizeof *active);
	size_t *cnt = NULL;
	uint32_t *ev = NULL;
	int rc = -1;
	if (!b || !active)
		goto out;
	size_t m = 0;
	b[m++] = 0;
	for (size_t i = 0; i < p->n_subnets; i++) {
		const ns_pset *s = &p->subnets[i].prefixes;
		size_t k = family == 4 ? s->n4 : s->n6;
		for (size_t j = 0; j < k; j++) {
			ns_u128 lo = family == 4 ? s->v4[j].lo : s->v6[j].lo;
			ns_u128 hi = family == 4 ? s->v4[j].hi : s->v6[j].hi;
			b[m++] = lo;
			if (hi < kmax)
				b[m++] = hi + 1;
		}
	}
	for (size_t i = 0; i < p->n_endpoints; i++) {
		const ns_endpoint_ip *e = &p->endpoints[i];
		if (e->family != family)
			continue;
		b[m++] = e->ip;
		if (e->ip < kmax)
			b[m++] = e->ip + 1;
	}
	qsort(b, m, sizeof *b, cmp_u128);
	size_t u = 1;
	for (size_t i = 1; i < m; i++)
		if (b[i] != b[u - 1])
			b[u++] = b[i];
	m = u;
	/* Subnet start/end events: +(s+1) at the start, -(s+1) at the end. */
	cnt = calloc(m + 1, sizeof *cnt);
	ev = malloc((2 * n_rng + 1) * sizeof *ev);
	delta = malloc((2 * n_rng + 1) * sizeof *delta);
	if (!cnt || !ev || !delta)
		goto out;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < p->n_subnets; i++) {
			const ns_pset *s = &p->subnets[i].prefixes;
			size_t k = family == 4 ? s->n4 : s->n6;
			for (size_t j = 0; j < k; j++) {
				ns_u128 lo = family == 4 ? s->v4[j].lo : s->v6[j].lo;
				ns_u128 hi = family == 4 ? s->v4[j].hi : s->v6[j].hi;
				size_t a = find_u128(b, m, lo);
				if (pass == 0) {
					cnt[a + 1]++;
				} else {
					ev[cnt[a]] = (uint32_t)i;
					delta[cnt[a]++] = 1;
				}
				if (hi < kmax) {
					size_t z = find_u128(b, m, hi + 1);
					if (pass == 0) {
						cnt[z + 1]++;
					} else {
						ev[cnt[z]] = (uint32_t)i;
						delta[cnt[z]++] = -1;
					}
				}
			}
		}
		if (pass == 0)
			for (size_t j = 0; j < m; j++)
				cnt[j + 1] += cnt[j];
	}
	/* The sweep; NIC addresses are walked in step (p->endpoints is sorted). */
	size_t e = 0, pi = 0;
	while (pi < p->n_endpoints && p->endpoints[pi].family != family)
		pi++;
	int64_t last = -1;
	for (size_t j = 0; j < m; j++) {
		for (; e < cnt[j]; e++) {
			/* A subnet's own prefixes are disjoint: a toggle is exact. */
			uint32_t s = ev[e];
			if (delta[e] > 0)
				active[s / 64] |= 1ull << (s % 64);
			else
				active[s / 64] &= ~(1ull << (s % 64));
		}
		int64_t rec = 0;
		if (pi < p->n_endpoints && p->endpoints[pi].family == family &&
		    p->endpoints[pi].ip == b[j]) {
			/* As find_endpoint: the first of the equal addresses in the
			 * sorted array; ambiguous when the next names another NIC. */
			const ns_endpoint_ip *ep = &p->endpoints[pi];
			bool amb = pi + 1 < p->n_endpoints &&
			           p->endpoints[pi + 1].family == family &&
			           p->endpoints[pi + 1].ip == ep->ip &&
			           p->endpoints[pi + 1].nic != ep->nic;
			ns_eprec *r = gv_push(&eb->recs);
			if (!r)
				goto out;
			*r = (ns_eprec){ep->nic, ep->subnet, amb};
			rec = (int64_t)eb->recs.n - 1;
			while (pi < p->n_endpoints && p->endpoints[pi].family == family &&
			       p->endpoints[pi].ip == ep->ip)
				pi++;
		} else {
			size_t first = SIZE_MAX;
			bool amb = false;
			for (size_t k = 0; k < sw && !amb; k++) {
				if (!active[k])
					continue;
				size_t bit = (size_t)__builtin_ctzll(active[k]);
				if (first == SIZE_MAX) {
					first = k * 64 + bit;
					amb = (active[k] & (active[k] - 1)) != 0;
				} else {
					amb = true;
				}
			}
			if (first != SIZE_MAX && (rec = subnet_record(eb, p, first, amb)) < 0)
				goto out;
		}
		if (rec == last)
			continue;
		if (!sweep_emit(out, b[j], (uint32_t)rec))
			goto out;
		last = rec;
	}
	rc = 0;
out:
	free(b);
	free(active);
	free(cnt);
	free(ev);
	free(delta);
	return rc;
}

static int build_endpoints(nsgsim_policy *p, ns_cls_store *st)
{
	ep_build eb;
	gv_init(&eb.recs, sizeof(ns_eprec));
	eb.subnet_rec = calloc(2 * p->n_subnets + 2, sizeof *eb.subnet_rec);
	sweep_out o4, o6;
	imap_plan p4, p6;
	memset(&o4, 0, sizeof o4);
	memset(&o6, 0, sizeof o6);
	memset(&p4, 0, sizeof p4);
	memset(&p6, 0, sizeof p6);
	ns_eprec *none = eb.subnet_rec ? gv_push(&eb.recs) : NULL;
	int rc = -1;
	if (!none)
		goto out;
	memset(none, 0, sizeof *none);
	if (endpoint_family(p, &eb, 4, &o4) != 0 || endpoint_family(p, &eb, 6, &o6) != 0)
		goto out;
	if (plan_imap(&o4, 32, &p4) != 0 || plan_imap(&o6, 128, &p6) != 0)
		goto out;
	layout l = {0, NULL};
	for (int pass = 0; pass < 2; pass++) {
		ns_eprec *recs = lay(&l, eb.recs.n * sizeof *recs, 64);
		lay_imap(&l, &o4, &p4, &st->ep4);
		lay_imap6(&l, &o6, &p6, &st->ep6);
		if (pass == 1) {
			memcpy(recs, eb.recs.data, eb.recs.n * sizeof *recs);
			st->recs = recs;
			st->n_recs = eb.recs.n;
			st->bytes += l.size;
			rc = 0;
			break;
		}
		l.base = aligned_alloc(64, (l.size + 63) & ~(size_t)63);
		if (!l.base)
			goto out;
		st->ep_mem = l.base;
		l.size = 0;
	}
out:
	sweep_out_free(&o4);
	sweep_out_free(&o6);
	plan_free(&p4);
	plan_free(&p6);
	gv_free(&eb.recs);
	free(eb.subnet_rec);
	return rc;
}

/* ---- policy-wide classes -----------------------------------------------------------------
 *
 * An end-to-end flow meets three or four chains, and each would search its
 * own maps for the same addresses and ports.  Instead, each field's key
 * space is cut at the boundaries of every classifier at once; an
 * elementary interval is then described by the tuple of the classes it has
 * in each classifier, and equal tuples are one policy-wide class.  A flow
 * is classified once (four searches), and a chain finds its class bitset
 * with one load from its translation table tx[field][global class].
 *
 * The address fields are cut at two more partitions, so that the same
 * search answers two more questions: the endpoint map (which NIC or subnet
 * holds the address) and the distinct VirtualNetwork sets of the subnets
 * (a bitmask per class: which of them hold the address).
 *
 * The tables cost (global classes x classifiers) words per field, so they
 * are built only within a budget; without them every chain searches its
 * own maps, which is slower but gives the same answer. */

/* One partition of a field: interval starts and a value per interval. */
typedef struct gsrc {
	const uint32_t *sv;    /* start/value pairs (32-bit keys), or */
	const ns_u128 *starts; /* 128-bit starts and */
	const uint32_t *val;   /* their values */
	uint32_t n;
} gsrc;

static ns_u128 gs_start(const gsrc *g, uint32_t i)
{
	return g->sv ? g->sv[2 * i] : g->starts[i];
}

static uint32_t gs_val(const gsrc *g, uint32_t i)
{
	return g->sv ? g->sv[2 * i + 1] : g->val[i];
}

static gsrc gsrc_of(const ns_cls *c, int f)
{
	gsrc g = {NULL, NULL, NULL, 0};
	const ns_imap *m = f == NS_F_SRC4    ? &c->src4
	                   : f == NS_F_DST4  ? &c->dst4
	                   : f == NS_F_SPORT ? &c->sport
	                   : f == NS_F_TCP   ? &c->dport[0]
	                   : f == NS_F_UDP   ? &c->dport[1]
	                                     : NULL;
	if (m) {
		g.sv = m->sv;
		g.n = m->n;
	} else {
		const ns_imap6 *m6 = f == NS_F_SRC6 ? &c->src6 : &c->dst6;
		g.starts = m6->starts;
		g.val = m6->val;
		g.n = m6->n;
	}
	return g;
}

typedef struct gfield {
	sweep_out o; /* global intervals -> global class */
	imap_plan plan;
	gvec tuples; /* uint32_t: class g's value in partition k at [g * K + k] */
	uint32_t n;  /* global classes */
} gfield;

static uint64_t tuple_hash(const uint32_t *t, size_t n)
{
	uint64_t h = 0xCBF29CE484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ t[i]) * 0x100000001B3ull;
	return splitmix64(h);
}

/* One field's global intervals and classes from K partitions; -1 when out
 * of memory or over the budget (*budget counts down the tuple words). */
static int global_field(const gsrc *src, size_t K, gfield *g, size_t *budget)
{
	size_t total = 0;
	for (size_t k = 0; k < K; k++)
		total += src[k].n;
	gv_init(&g->o.starts, sizeof(ns_u128));
	gv_init(&g->o.vals, sizeof(uint32_t));
	gv_init(&g->tuples, sizeof(uint32_t));
	g->n = 0;
	ns_u128 *b = malloc((total + 2) * sizeof *b);
	uint32_t *cursor = calloc(K + 1, sizeof *cursor), *cur = malloc((K + 1) * sizeof *cur);
	uint64_t *hashes = NULL;
	size_t n_slots = 1024, m = 0;
	uint32_t *slots = calloc(n_slots, sizeof *slots);
	int rc = -1;
	if (!b || !cursor || !cur || !slots)
		goto out;
	b[m++] = 0; /* the key space starts there even with no partition */
	for (size_t k = 0; k < K; k++)
		for (uint32_t i = 0; i < src[k].n; i++)
			b[m++] = gs_start(&src[k], i);
	qsort(b, m, sizeof *b, cmp_u128);
	size_t u = 0;
	for (size_t i = 0; i < m; i++)
		if (u == 0 || b[i] != b[u - 1])
			b[u++] = b[i];
	m = u;
	int64_t last = -1;
	for (size_t j = 0; j < m; j++) {
		for (size_t k = 0; k < K; k++) {
			while (cursor[k] + 1 < src[k].n && gs_start(&src[k], cursor[k] + 1) <= b[j])
				cursor[k]++;
			cur[k] = gs_val(&src[k], cursor[k]);
		}
		uint64_t h = tuple_hash(cur, K);
		size_t i = (size_t)h & (n_slots - 1);
		uint32_t cls = UINT32_MAX;
		for (; slots[i]; i = (i + 1) & (n_slots - 1)) {
			uint32_t k = slots[i] - 1;
			const uint32_t *tp = (const uint32_t *)g->tuples.data + (size_t)k * K;
			if (hashes[k] == h && (K == 0 || memcmp(tp, cur, K * sizeof *cur) == 0)) {
				cls = k;
				break;
			}
		}
		if (cls == UINT32_MAX) {
			if (*budget < K || gv_reserve(&g->tuples, K) != 0)
				goto out;
			*budget -= K;
			if (K) /* no classifier at all: one empty tuple */
				memcpy((uint32_t *)g->tuples.data + g->tuples.n, cur,
				       K * sizeof *cur);
			g->tuples.n += K;
			cls = g->n++;
			uint64_t *nh = realloc(hashes, g->n * sizeof *nh);
			if (!nh)
				goto out;
			hashes = nh;
			hashes[cls] = h;
			slots[i] = cls + 1;
			if (g->n * 2 > n_slots) {
				size_t ns = n_slots * 2;
				uint32_t *s2 = calloc(ns, sizeof *s2);
				if (!s2)
					goto out;
				for (uint32_t k = 0; k < g->n; k++) {
					size_t q = (size_t)hashes[k] & (ns - 1);
					while (s2[q])
						q = (q + 1) & (ns - 1);
					s2[q] = k + 1;
				}
				free(slots);
				slots = s2;
				n_slots = ns;
			}
		}
		if ((int64_t)cls == last)
			continue;
		if (!sweep_emit(&g->o, b[j], cls))
			goto out;
		last = cls;
	}
	rc = 0;
out:
	free(b);
	free(cursor);
	free(cur);
	free(hashes);
	free(slots);
	return rc;
}

static void gfield_free(gfield *g)
{
	sweep_out_free(&g->o);
	plan_free(&g->plan);
	gv_free(&g->tuples);
}

/* The distinct VirtualNetwork sets of the subnets as one partition per
 * family: the value of an interval is the bitmask of the sets holding it.
 * Fills st->vset_of; 1 when there are more than 32 distinct sets. */
static int vnet_partition(const nsgsim_policy *p, ns_cls_store *st, sweep_out out[2])
{
	const ns_pset *sets[32];
	size_t n = 0;
	st->vset_of = malloc(p->n_subnets + 1);
	if (!st->vset_of)
		return -1;
	for (size_t i = 0; i < p->n_subnets; i++) {
		size_t k = 0;
		while (k < n && !ns_pset_equal(sets[k], &p->subnets[i].vnet_tag))
			k++;
		if (k == n) {
			if (n == 32)
				return 1;
			sets[n++] = &p->subnets[i].vnet_tag;
		}
		st->vset_of[i] = (uint8_t)k;
	}
	for (int fam = 0; fam < 2; fam++) {
		sweep_out *o = &out[fam];
		gv_init(&o->starts, sizeof(ns_u128));
		gv_init(&o->vals, sizeof(uint32_t));
		ns_u128 kmax = fam == 0 ? (ns_u128)UINT32_MAX : ~(ns_u128)0;
		gvec b;
		gv_init(&b, sizeof(ns_u128));
		ns_u128 *z = gv_push(&b);
		if (!z)
			return -1;
		*z = 0;
		for (size_t k = 0; k < n; k++) {
			size_t cnt = fam == 0 ? sets[k]->n4 : sets[k]->n6;
			for (size_t i = 0; i < cnt; i++) {
				ns_u128 lo = fam == 0 ? sets[k]->v4[i].lo : sets[k]->v6[i].lo;
				ns_u128 hi = fam == 0 ? sets[k]->v4[i].hi : sets[k]->v6[i].hi;
				/* One push at a time: a push may move the array. */
				ns_u128 *x = gv_push(&b);
				if (x)
					*x = lo;
				ns_u128 *y = x && hi < kmax ? gv_push(&b) : NULL;
				if (y)
					*y = hi + 1;
				if (!x || (hi < kmax && !y)) {
					gv_free(&b);
					return -1;
				}
			}
		}
		qsort(b.data, b.n, sizeof(ns_u128), cmp_u128);
		const ns_u128 *bs = b.data;
		int64_t last = -1;
		for (size_t j = 0; j < b.n; j++) {
			if (j && bs[j] == bs[j - 1])
				continue;
			uint32_t mask = 0;
			for (size_t k = 0; k < n; k++)
				mask |= (uint32_t)in_set(sets[k], fam == 0 ? 4 : 6, bs[j]) << k;
			if ((int64_t)mask == last)
				continue;
			ns_u128 *sp = gv_push(&o->starts);
			uint32_t *vp = gv_push(&o->vals);
			if (!sp || !vp) {
				gv_free(&b);
				return -1;
			}
			*sp = bs[j];
			*vp = mask;
			last = mask;
		}
		gv_free(&b);
	}
	return 0;
}

static gsrc gsrc_sweep(const sweep_out *o)
{
	gsrc g = {NULL, o->starts.data, o->vals.data, (uint32_t)o->starts.n};
	return g;
}

/* Direct tables for the port fields of the policy-wide maps: 128 KB each
 * when the classes fit 16 bits.  Measured under callgrind, the two interval
 * searches per flow cost more instructions than the rest of classifying
 * it; the tables are read with the flow's other lookups and stay cached
 * for the ports a trace repeats.  Without them (out of memory, too many
 * classes) the maps answer the same. */
static void build_port_tables(ns_cls_store *st)
{
	static const int fields[3] = {NS_F_SPORT, NS_F_TCP, NS_F_UDP};
	for (int i = 0; i < 3; i++)
		if (st->n_global[fields[i]] > 65536)
			return;
	uint16_t *t = malloc(3 * 65536 * sizeof *t);
	if (!t)
		return;
	for (int i = 0; i < 3; i++) {
		uint16_t *row = t + (size_t)i * 65536;
		const ns_imap *m = &st->gmap[fields[i]];
		for (uint32_t port = 0; port < 65536; port++)
			row[port] = (uint16_t)imap_get(m, port);
		st->gport[fields[i]] = row;
	}
	st->gport_mem = t;
	st->global_bytes += 3 * 65536 * sizeof *t;
	st->bytes += 3 * 65536 * sizeof *t;
}

/* Builds the policy-wide maps and every classifier's translation tables,
 * or leaves st->global unset when they would take too much memory. */
static int build_global(const nsgsim_policy *p, ns_cls_store *st)
{
	static const uint32_t keybits[NS_F_COUNT] = {32, 32, 128, 128, 16, 16, 16};
	gfield g[NS_F_COUNT];
	sweep_out vn[2];
	memset(g, 0, sizeof g);
	memset(vn, 0, sizeof vn);
	size_t C = st->n, K = C + 2;
	gsrc *src = malloc((K + 1) * sizeof *src);
	size_t cls_bytes = 0;
	for (size_t c = 0; c < C; c++)
		cls_bytes += st->all[c]->bytes;
	/* At most 2x the classifiers plus 16 MB, in 32-bit words. */
	size_t budget = (2 * cls_bytes + (16u << 20)) / 4;
	const char *off = getenv("NSGSIM_NO_GLOBAL"); /* tests take the fallback */
	if (off && *off && strcmp(off, "0") != 0) {
		free(src);
		return 0;
	}
	int rc = src ? vnet_partition(p, st, vn) : -1;
	if (rc != 0) { /* more than 32 VirtualNetwork sets: without them */
		free(st->vset_of);
		st->vset_of = NULL;
	}
	rc = src ? 0 : 1;
	for (int f = 0; f < NS_F_COUNT && rc == 0; f++) {
		size_t k = 0;
		for (size_t c = 0; c < C; c++)
			src[k++] = gsrc_of(st->all[c], f);
		bool addr = f <= NS_F_DST6;
		if (addr) {
			/* The endpoint map, and the VirtualNetwork sets. */
			bool v4 = f == NS_F_SRC4 || f == NS_F_DST4;
			src[k++] = v4 ? (gsrc){st->ep4.sv, NULL, NULL, st->ep4.n}
			              : (gsrc){NULL, st->ep6.starts, st->ep6.val, st->ep6.n};
			if (st->vset_of)
				src[k++] = gsrc_sweep(&vn[v4 ? 0 : 1]);
		}
		if (global_field(src, k, &g[f], &budget) != 0 ||
		    plan_imap(&g[f].o, keybits[f], &g[f].plan) != 0)
			rc = 1; /* over the budget, or out of memory: go without */
	}
	if (rc == 0) {
		layout l = {0, NULL};
		for (int pass = 0; pass < 2; pass++) {
			for (int f = 0; f < NS_F_COUNT; f++) {
				size_t k = f <= NS_F_DST6 ? C + 1 + (st->vset_of != NULL) : C;
				if (f == NS_F_SRC6 || f == NS_F_DST6)
					lay_imap6(&l, &g[f].o, &g[f].plan,
					          &st->gmap6[f - NS_F_SRC6]);
				else
					lay_imap(&l, &g[f].o, &g[f].plan, &st->gmap[f]);
				const uint32_t *t = g[f].tuples.data;
				for (size_t c = 0; c < k; c++) {
					uint32_t *tx = lay(&l, (g[f].n + 1) * sizeof *tx, 64);
					if (!l.base)
						continue;
					for (uint32_t j = 0; j < g[f].n; j++)
						tx[j] = t[(size_t)j * k + c];
					if (c < C)
						st->all[c]->tx[f] = tx;
					else if (c == C)
						st->gep[f] = tx;
					else
						st->gvm[f] = tx;
				}
				if (f <= NS_F_DST6 && !st->vset_of) {
					/* No sets folded in: every mask is 0, never read. */
					uint32_t *z = lay(&l, (g[f].n + 1) * sizeof *z, 64);
					if (l.base)
						st->gvm[f] = memset(z, 0, (g[f].n + 1) * sizeof *z);
				}
				st->n_global[f] = g[f].n;
			}
			if (pass == 1) {
				st->global = true;
				st->global_bytes = l.size;
				st->bytes += l.size;
				break;
			}
			l.base = aligned_alloc(64, (l.size + 63) & ~(size_t)63);
			if (!l.base)
				break;
			st->global_mem = l.base;
			l.size = 0;
		}
	}
	if (st->global)
		build_port_tables(st);
	for (int f = 0; f < NS_F_COUNT; f++)
		gfield_free(&g[f]);
	sweep_out_free(&vn[0]);
	sweep_out_free(&vn[1]);
	free(src);
	return 0;
}

/* ---- the policy -------------------------------------------------------------------------- */

static int store_add(ns_cls_store *st, ns_cls *c)
{
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 16;
		ns_cls **a = realloc(st->all, cap * sizeof *a);
		if (!a)
			return -1;
		st->all = a;
		st->cap = cap;
	}
	st->all[st->n++] = c;
	st->bytes += c->bytes;
	return 0;
}

static int build_chain(const nsgsim_policy *p, ns_cls_store *st, ns_chain *ch)
{
	ns_cls *c = ns_cls_build(p, ch);
	if (!c || store_add(st, c) != 0) {
		ns_cls_free(c);
		return -1;
	}
	ch->cls = c;
	return 0;
}

/* Admin levels are per subnet, but the subnets a rule collection reaches
 * mostly see the same rules: chains with the same rules in the same order
 * share one classifier (the compiled sides are copies of one compile). */
typedef struct admin_key {
	uint64_t hash;
	const ns_chain *ch;
} admin_key;

static uint64_t chain_hash(const ns_chain *ch)
{
	uint64_t h = splitmix64(ch->n);
	for (size_t i = 0; i < ch->n; i++)
		h = splitmix64(h ^ (uint64_t)(uintptr_t)ch->rules[i].r);
	return h;
}

static bool same_rules(const ns_chain *a, const ns_chain *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->rules[i].r != b->rules[i].r)
			return false;
	return true;
}

static int build_admin(const nsgsim_policy *p, ns_cls_store *st)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_subnets; i++)
		n += 2 * p->subnets[i].n_levels;
	size_t cap = 16;
	while (cap < 2 * n)
		cap *= 2;
	admin_key *tab = calloc(cap, sizeof *tab);
	if (!tab)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < p->n_subnets && rc == 0; i++) {
		for (size_t k = 0; k < p->subnets[i].n_levels && rc == 0; k++) {
			ns_admin_level *lvl = &p->subnets[i].levels[k];
			ns_chain *chs[2] = {&lvl->in, &lvl->out};
			for (int d = 0; d < 2 && rc == 0; d++) {
				uint64_t h = chain_hash(chs[d]);
				size_t j = (size_t)h & (cap - 1);
				for (; tab[j].ch; j = (j + 1) & (cap - 1))
					if (tab[j].hash == h && same_rules(tab[j].ch, chs[d]))
						break;
				if (tab[j].ch) {
					chs[d]->cls = tab[j].ch->cls;
					continue;
				}
				rc = build_chain(p, st, chs[d]);
				tab[j] = (admin_key){h, chs[d]};
			}
		}
	}
	free(tab);
	return rc;
}

/* Whether VirtualNetwork holds addresses outside the peered spaces (other
 * than 168.63.129.16): only then can the VNET_TAG_ROUTES assumption arise. */
static bool has_route_addresses(const ns_csubnet *cs)
{
	ns_pset extra = {0};
	if (ns_pset_subtract(&cs->vnet_tag, &cs->vnet->peered, &extra) != 0)
		return true; /* unsure: take the exact path */
	bool more = extra.n6 > 0 || extra.n4 > 1 ||
	            (extra.n4 == 1 &&
	             !(extra.v4[0].lo == 0xA83F8110u && extra.v4[0].hi == 0xA83F8110u));
	ns_pset_free(&extra);
	return more;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int ns_classify_build(nsgsim_policy *p, nsgsim_error *err)
{
	double t0 = now_ms();
	ns_cls_store *st = calloc(1, sizeof *st);
	if (!st)
		return ns_fail(err, NSGSIM_E_NOMEM, "", "", "", "out of memory");
	p->cls = st;
	st->avx2 = have_avx2();
	int rc = 0;
	for (size_t i = 0; i < p->n_subnets; i++)
		p->subnets[i].vnet_routes = has_route_addresses(&p->subnets[i]);
	for (size_t i = 0; i < p->n_nsgs && rc == 0; i++)
		if ((rc = build_chain(p, st, &p->nsgs[i].in)) == 0)
			rc = build_chain(p, st, &p->nsgs[i].out);
	if (rc == 0)
		rc = build_admin(p, st);
	if (rc == 0)
		rc = build_endpoints(p, st);
	if (rc == 0)
		rc = build_global(p, st);
	st->build_ms = now_ms() - t0;
	if (rc != 0)
		return ns_fail(err, NSGSIM_E_NOMEM, "", "", "",
		               "out of memory while building the match structures");
	return 0;
}

void ns_classify_free(nsgsim_policy *p)
{
	ns_cls_store *st = p->cls;
	if (!st)
		return;
	for (size_t i = 0; i < st->n; i++)
		ns_cls_free(st->all[i]);
	free(st->all);
	free(st->ep_mem);
	free(st->global_mem);
	free(st->gport_mem);
	free(st->vset_of);
	free(st);
	p->cls = NULL;
}
