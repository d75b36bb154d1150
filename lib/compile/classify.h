/* The compiled match structures (lib/classify.c) and what the evaluator
 * (lib/eval.c) shares with them.  Internal: nothing here is exported. */
#ifndef NSGSIM_CLASSIFY_H
#define NSGSIM_CLASSIFY_H

#include "compile/policy.h"

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
	 * endpoint records of the source and destination; and which distinct
	 * VirtualNetwork sets (bit k of ns_cls_store.vset_of) hold them. */
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

/* An interval map over 32-bit keys (IPv4 addresses, ports): the sorted
 * starts of n intervals that tile the key space (starts[0] == 0) and a value
 * per interval, found through a small trie over the key's bits (see
 * lib/classify.c, "Interval maps"). */
typedef struct ns_imap {
	const uint32_t *l1; /* the root, by the key's top bits: a leaf or a child node */
	const uint32_t *l2; /* the child nodes */
	const uint32_t *sv; /* start and value of each interval, interleaved */
	uint32_t n;
	uint32_t shift1; /* root bucket = key >> shift1 */
} ns_imap;

/* The same over 128-bit keys (IPv6 addresses). */
typedef struct ns_imap6 {
	const uint32_t *l1;
	const uint32_t *l2;
	const ns_u128 *starts;
	const uint32_t *val;
	uint32_t n;
	uint32_t shift1;
} ns_imap6;

/* The fields of a flow that classifiers map to classes. */
enum { NS_F_SRC4, NS_F_DST4, NS_F_SRC6, NS_F_DST6, NS_F_SPORT, NS_F_TCP, NS_F_UDP, NS_F_COUNT };

/* Slots of the five flow protocols in the per-protocol tables. */
enum { NS_PSLOT_ICMP, NS_PSLOT_TCP, NS_PSLOT_UDP, NS_PSLOT_ESP, NS_PSLOT_AH, NS_PSLOTS };

#define NS_CLS_NONE UINT32_MAX

struct ns_cls;
/* The scan of the global path: the index of the lowest bit of
 * m & s & a & d & x, or c->n (AVX2 or scalar, chosen when built). */
typedef uint32_t (*ns_scan5_fn)(const struct ns_cls *c, const uint64_t *m, const uint64_t *s,
                                const uint64_t *a, const uint64_t *d, const uint64_t *x);

/* One chain's classifier; see the comment at the top of lib/classify.c. */
typedef struct ns_cls {
	uint32_t n;     /* rules in the chain */
	uint32_t words; /* 64-bit words per bitset, a multiple of 4 */
	const uint64_t *bits;
	/* Values of every map are offsets (in words) into bits. */
	ns_imap src4, dst4;
	ns_imap6 src6, dst6;
	ns_imap sport;               /* unused when !has_sport */
	ns_imap dport[2];            /* TCP, UDP; the protocol is folded in */
	uint32_t pl_match[3];        /* ICMP, ESP, AH: protocol and no port clause */
	uint32_t pl_ports[3];        /* ... protocol and a port clause (assumption §11.5) */
	uint32_t vnet_src, vnet_dst; /* rules whose side is VirtualNetwork */
	/* The rules that can still match when the source (bit 0) and the
	 * destination (bit 1) are outside the context's VirtualNetwork set:
	 * vallow[k] drops the VirtualNetwork sides of the bits of k.  vallow[0]
	 * is never read (nothing to drop). */
	uint32_t vallow[4];
	bool has_sport, has_vnet;
	bool avx2; /* scan four words at a time (chosen when built) */
	ns_scan5_fn scan5;
	/* Lowest rule index per protocol slot whose side is the Internet tag or
	 * VirtualNetwork: an assumption bit rests on it when the match is at or
	 * after it.  NS_CLS_NONE when there is none. */
	uint32_t first_inet[NS_PSLOTS][2], first_vnet[NS_PSLOTS][2];
	/* Sorted distinct source-port boundaries (lo and hi+1 of every source
	 * port range), for the every-source-port mode. */
	const uint32_t *sbounds;
	uint32_t n_sbounds;
	size_t bytes; /* the one block this classifier owns */
	void *mem;
	/* From a policy-wide class of each field to this chain's class bitset
	 * (offsets into bits); NULL when the policy has no global classes. */
	const uint32_t *tx[NS_F_COUNT];
} ns_cls;

/* Where an address belongs: what find_endpoint in lib/eval.c computes. */
typedef struct ns_eprec {
	const ns_cnic *nic;
	const ns_csubnet *subnet;
	bool ambiguous;
} ns_eprec;

/* Everything classify.c builds for a policy. */
typedef struct ns_cls_store {
	ns_cls **all; /* distinct classifiers (admin levels share them) */
	size_t n, cap;
	ns_eprec *recs; /* recs[0]: no endpoint */
	size_t n_recs;
	ns_imap ep4;
	ns_imap6 ep6;
	void *ep_mem;
	/* Policy-wide classes: every field's partition refined by all the
	 * classifiers at once, so that a flow is classified once and each chain
	 * translates (lib/classify.c, "policy-wide classes"). */
	bool global;
	ns_imap gmap[NS_F_COUNT]; /* the IPv4 and port fields */
	ns_imap6 gmap6[2];        /* the IPv6 source and destination */
	uint32_t n_global[NS_F_COUNT];
	/* Per global class of the address fields: the endpoint record and the
	 * VirtualNetwork sets holding it. */
	const uint32_t *gep[4], *gvm[4];
	/* Per port (0-65535) the policy-wide class of the port fields
	 * (NS_F_SPORT, NS_F_TCP, NS_F_UDP; NULL for the others, or when the
	 * classes do not fit 16 bits or the memory was not there): one load
	 * instead of an interval search. */
	const uint16_t *gport[NS_F_COUNT];
	void *gport_mem;
	/* Per subnet: the bit of its VirtualNetwork set in gvm (distinct sets,
	 * at most 32), or 0xFF when the sets are not folded in. */
	uint8_t *vset_of;
	void *global_mem;
	size_t global_bytes;
	bool avx2;
	double build_ms; /* wall time of ns_classify_build */
	size_t bytes;
} ns_cls_store;

/* Builds every chain's classifier and the endpoint maps (compile_all calls it
 * last).  0 or NSGSIM_E_NOMEM / NSGSIM_E_LIMIT with err filled. */
int ns_classify_build(nsgsim_policy *p, nsgsim_error *err);
void ns_classify_free(nsgsim_policy *p);

/* One chain: builds a classifier on its own (benchmarks, tests).  NULL when
 * out of memory. */
ns_cls *ns_cls_build(const nsgsim_policy *p, const ns_chain *ch);
void ns_cls_free(ns_cls *c);

/* The index of the first rule of the chain that matches, or c->n; ORs the
 * assumption bits the linear scan would collect into *assume. */
uint32_t ns_cls_first(const nsgsim_policy *p, const ns_cls *c, const ns_crule *rules,
                      const ns_flowv *f, const ns_csubnet *ctx, unsigned *assume);

/* ns_cls_first for n flows, prefetching ahead; win[i] and assume[i] (set,
 * not ORed) for each. */
void ns_cls_first_batch(const nsgsim_policy *p, const ns_cls *c, const ns_crule *rules,
                        const ns_flowv *f, size_t n, const ns_csubnet *ctx, uint32_t *win,
                        unsigned *assume);

/* Sets f->gc and f->global from the policy-wide maps, when the policy has
 * them. */
void ns_cls_global_classes(const ns_cls_store *st, ns_flowv *f);
/* Prefetches the first index entries of a later flow's addresses. */
void ns_cls_global_prefetch(const ns_cls_store *st, int family, ns_u128 src, ns_u128 dst);

/* The endpoint record of an address (recs[0] when it is not modelled). */
const ns_eprec *ns_cls_endpoint(const ns_cls_store *st, int family, ns_u128 a);

/* The smallest source-port boundary of the chain above port, or best. */
int ns_cls_next_sport(const ns_cls *c, int port, int best);

/* ---- the global path (lib/classify.c, "one chain, the global path") ----
 *
 * Inline here so that lib/eval.c's batch path walks a side's chains with
 * no call per chain but the scan's.  Usable when f->global is set and the
 * policy folded the VirtualNetwork sets into its classes (vset_of). */

/* What one evaluating subnet (a side of the flow) fixes for all its
 * chains.  On the caller's stack: the policy is never written. */
typedef struct ns_gside {
	const ns_csubnet *ctx;
	const ns_flowv *f;
	unsigned outside; /* vallow index: bit 0 source, bit 1 destination outside */
	int via[2];       /* ns_via_route of source, destination; -1 until needed */
} ns_gside;

bool ns_via_route(const ns_csubnet *ctx, int family, ns_u128 a);

static inline void ns_gside_init(ns_gside *sd, const nsgsim_policy *p, const ns_flowv *f,
                                 const ns_csubnet *ctx)
{
	unsigned k = p->cls->vset_of[ctx - p->subnets];
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
		win = c->scan5(c, m, s, a, d, x);
	} else {
		/* ICMP, ESP, AH (SEMANTICS.md §11.5): the winner is the first
		 * rule of the protocol without a port clause that matches; a
		 * rule with a port clause that matches but for its ports before
		 * it makes the PORTLESS_PROTOCOL assumption.  The two sets are
		 * disjoint, so two scans give what ns_cls_first's candidate walk
		 * gives. */
		int pl = slot == NS_PSLOT_ICMP ? 0 : slot == NS_PSLOT_ESP ? 1 : 2;
		win = c->scan5(c, bits + c->pl_match[pl], a, a, d, x);
		if (c->scan5(c, bits + c->pl_ports[pl], a, a, d, x) < win)
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

/* Helpers of lib/eval.c the classifier shares. */
bool ns_surely_not_internet(int family, ns_u128 a);

/* The reference linear scan of one chain (lib/eval.c), for tests and
 * benchmarks: the index of the first matching rule, or ch->n. */
size_t ns_linear_first(const nsgsim_policy *p, const ns_chain *ch, const ns_flowv *f,
                       const ns_csubnet *ctx, unsigned *assume);
void ns_flowv_of(const nsgsim_flow *flow, int sport, ns_flowv *f);

#endif
