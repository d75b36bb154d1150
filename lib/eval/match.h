/* Finding a chain's first match: the running side of the compiled match
 * structures (compile/classifier.h is the contract with the building side)
 * and the reference linear scan, with the flow as both see it.
 *
 * Evaluation never allocates: everything here reads the policy and writes
 * only the caller's stack.
 *
 * May touch: lib/base, the compiled policy, compile/classifier.h and
 * compile/azure.h. */
#ifndef NSGSIM_MATCH_H
#define NSGSIM_MATCH_H

#include <string.h>

#include "compile/azure.h"
#include "compile/classifier.h"

/* The flow as the matchers see it. */
typedef struct ns_flowv {
	int proto;
	int family;
	ns_u128 src, dst;
	int sport, dport; /* -1 for protocols without ports */
	int slot;         /* NS_PSLOT_* of proto */
	bool sni[2];      /* ns_surely_not_internet of src, dst */
	/* Set by ns_cls_global_classes when global: the policy-wide classes of
	 * the source, destination, destination port and source port; the
	 * endpoint records of the source and destination (indexes into
	 * nsgsim_policy.recs); and which distinct VirtualNetwork sets (bit
	 * ns_csubnet.vset) hold them. */
	bool global;
	uint32_t gc[4];
	uint32_t ep[2];
	uint32_t vm[2];
	/* Also set when global, for ns_cls_gfirst: the fields (NS_F_*) whose
	 * translation tables gc[0..2] index (the family's addresses, the
	 * protocol's destination port), and per address 0 when it may be in
	 * the Internet tag (!sni), else UINT32_MAX, so that a rule index
	 * ORed with it compares as "never". */
	uint8_t gf[3];
	uint32_t inet_off[2];
} ns_flowv;

/* Big-endian bytes as a number, read 8 or 4 at a time. */
static inline uint64_t ns_be64(const uint8_t *b)
{
	uint64_t x;
	memcpy(&x, b, sizeof x);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	x = __builtin_bswap64(x); /* one instruction: every flow reads two */
#endif
	return x;
}

static inline uint32_t ns_be32(const uint8_t *b)
{
	uint32_t x;
	memcpy(&x, b, sizeof x);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	x = __builtin_bswap32(x);
#endif
	return x;
}

/* An address of the public API as a number. */
static inline ns_u128 ns_ip_value(const nsgsim_ip *ip)
{
	if (ip->family == 4)
		return ns_be32(ip->bytes);
	return ((ns_u128)ns_be64(ip->bytes) << 64) | ns_be64(ip->bytes + 8);
}

/* The flow of the public API at source port sport (-1 for none yet). */
void ns_flowv_of(const nsgsim_flow *flow, int sport, ns_flowv *f);

/* ---- the scans (lib/eval/cls_scan.c, lib/eval/cls_scan_avx2.c) --------- */

/* The index of the lowest bit of m & s & a & d & x, or c->n. */
typedef uint32_t (*ns_scan5_fn)(const ns_cls *c, const uint64_t *m, const uint64_t *s,
                                const uint64_t *a, const uint64_t *d, const uint64_t *x);

/* The code of each enum ns_scan_kind (a constant table, not state). */
extern const ns_scan5_fn ns_scan5_of[NS_SCAN_KINDS];

static inline uint32_t ns_scan5(const ns_cls *c, const uint64_t *m, const uint64_t *s,
                                const uint64_t *a, const uint64_t *d, const uint64_t *x)
{
	/* A chain of at most 64 rules (the admin levels, the platform's) is
	 * its first word, the words past its rules all zero: ANDed inline, it
	 * costs a fifth of the call through the table. */
	if (c->n <= 64) {
		uint64_t w = m[0] & s[0] & a[0] & d[0] & x[0];
		return w ? (uint32_t)__builtin_ctzll(w) : c->n;
	}
	return ns_scan5_of[c->scan](c, m, s, a, d, x);
}

/* ---- one chain (lib/eval/cls_lookup.c, lib/eval/cls_batch.c) ------------ */

/* The index of the first rule of the chain that matches, or c->n; ORs the
 * assumption bits the linear scan would collect into *assume.  ctx is the
 * subnet that evaluates (its VirtualNetwork set). */
uint32_t ns_cls_first(const nsgsim_policy *p, const ns_cls *c, const ns_crule *rules,
                      const ns_flowv *f, const ns_csubnet *ctx, unsigned *assume);

/* ns_cls_first for n flows, prefetching ahead; win[i] and assume[i] (set,
 * not ORed) for each. */
void ns_cls_first_batch(const nsgsim_policy *p, const ns_cls *c, const ns_crule *rules,
                        const ns_flowv *f, size_t n, const ns_csubnet *ctx, uint32_t *win,
                        unsigned *assume);

/* Sets f->gc, f->ep and f->global from the policy-wide maps, when the
 * policy has them. */
void ns_cls_global_classes(const ns_cls_store *st, ns_flowv *f);
/* Prefetches the first index entries of a later flow's addresses. */
void ns_cls_global_prefetch(const ns_cls_store *st, int family, ns_u128 src, ns_u128 dst);

/* The smallest source-port boundary of the chain above port, or best. */
int ns_cls_next_sport(const ns_cls *c, int port, int best);

/* ---- one chain, the reference (lib/eval/linear.c) ------------------------ */

/* The reference linear scan of one chain: the index of the first matching
 * rule, or ch->n. */
size_t ns_linear_first(const nsgsim_policy *p, const ns_chain *ch, const ns_flowv *f,
                       const ns_csubnet *ctx, unsigned *assume);
/* The smallest source-port boundary of any rule of the chain above port,
 * or best. */
int ns_linear_next_sport(const ns_chain *ch, int port, int best);

/* Per rule of a chain, in order up to and including the first that
 * matches, what matched (NSG diagnostics' detail); 0 or NSGSIM_E_NOMEM.
 * Appends to out (nsgsim_rule_detail); allocates (not evaluation's hot
 * path). */
int ns_linear_detail(const nsgsim_policy *p, const ns_chain *ch, const ns_flowv *f,
                     const ns_csubnet *ctx, ns_vec *out);

/* ---- the global path ------------------------------------------------------
 *
 * Inline so that the walker's batch path meets a side's chains with no call
 * per chain but the scan's.  Usable when f->global is set and the policy
 * folded the VirtualNetwork sets into its classes (vsets_folded). */

/* What one evaluating subnet (a side of the flow) fixes for all its
 * chains.  On the caller's stack: the policy is never written. */
typedef struct ns_gside {
	const ns_csubnet *ctx;
	const ns_flowv *f;
	unsigned outside; /* vallow index: bit 0 source, bit 1 destination outside */
	int via[2];       /* ns_via_route of source, destination; -1 until needed */
	/* NS_MATCH_GIVEN: the winner of each step of the side's walk, found by
	 * the caller (lib/eval/region.c); NULL otherwise. */
	const uint32_t *given;
} ns_gside;

static inline void ns_gside_init(ns_gside *sd, const ns_flowv *f, const ns_csubnet *ctx)
{
	unsigned k = ctx->vset;
	sd->ctx = ctx;
	sd->f = f;
	sd->outside = (~(f->vm[0] >> k) & 1u) | ((~(f->vm[1] >> k) & 1u) << 1);
	sd->via[0] = sd->via[1] = -1;
}

/* ns_cls_first on the global path. */
static inline uint32_t ns_cls_gfirst(const ns_cls *c, const ns_crule *rules, ns_gside *sd,
                                     unsigned *assume)
{
	const ns_flowv *f = sd->f;
	const uint64_t *bits = c->bits;
	const uint64_t *a = bits + c->tx[f->gf[0]][f->gc[0]];
	const uint64_t *d = bits + c->tx[f->gf[1]][f->gc[1]];
	const uint64_t *x = c->has_vnet && sd->outside ? bits + c->vallow[sd->outside] : a;
	int slot = f->slot;
	uint32_t win;
	if (slot == NS_PSLOT_TCP || slot == NS_PSLOT_UDP) {
		const uint64_t *m = bits + c->tx[f->gf[2]][f->gc[2]];
		/* ANDing a bitset twice changes nothing: a stands in for "all
		 * rules". */
		const uint64_t *s = c->has_sport ? bits + c->tx[NS_F_SPORT][f->gc[3]] : a;
		win = ns_scan5(c, m, s, a, d, x);
	} else {
		/* ICMP, ESP, AH (SEMANTICS.md §11 decision 5): the winner is the first
		 * rule of the protocol without a port clause that matches; a
		 * rule with a port clause that matches but for its ports before
		 * it makes the PORTLESS_PROTOCOL assumption.  The two sets are
		 * disjoint, so two scans give what ns_cls_first's candidate walk
		 * gives. */
		int pl = ns_portless_index(slot);
		win = ns_scan5(c, bits + c->pl_match[pl], a, a, d, x);
		if (ns_scan5(c, bits + c->pl_ports[pl], a, a, d, x) < win)
			*assume |= NSGSIM_ASSUME_PORTLESS_PROTOCOL;
		if (win < c->n && rules[win].protocol == NS_PROTO_ANY && slot != NS_PSLOT_ICMP)
			*assume |= NSGSIM_ASSUME_ANY_PROTOCOL;
	}
	if (c->n == 0)
		return win;
	/* The assumptions of the rules tested (up to the winner, or all), as
	 * ns_cls_first's general path records them. */
	uint32_t last = win < c->n ? win : c->n - 1;
	if ((c->first_inet[slot][0] | f->inet_off[0]) <= last ||
	    (c->first_inet[slot][1] | f->inet_off[1]) <= last)
		*assume |= NSGSIM_ASSUME_INTERNET_TAG;
	if (sd->ctx->vnet_routes) {
		for (int e = 0; e < 2; e++) {
			if (c->first_vnet[slot][e] > last)
				continue;
			if (sd->via[e] < 0)
				sd->via[e] = ns_via_route(sd->ctx, f->family, e ? f->dst : f->src);
			if (sd->via[e]) {
				*assume |= NSGSIM_ASSUME_VNET_TAG_ROUTES;
				break;
			}
		}
	}
	return win;
}

#endif
