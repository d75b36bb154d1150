/* The compiled match structures: per-chain classifiers and policy-wide
 * classes.  This header is the contract between building them (compile:
 * lib/compile/cls_*.c) and running them (eval: lib/eval/cls_*.c), the way
 * DPDK's lib/acl keeps acl_bld.c apart from acl_run_*.c: the layouts below,
 * and nothing else, are what the two sides share.
 *
 * A chain (an NSG in one direction, or one admin level) is a list of rules
 * tried in order; the first rule whose five fields all match decides.  The
 * linear scan in lib/eval/linear.c tests every field of every rule until one
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
 * A field's intervals are an ns_imap (lib/base/imap.h): the sorted starts,
 * a class per interval, and a small trie over the key (a root of up to 16
 * bits, crowded buckets split by 8 more bits at any depth) down to a
 * handful of intervals, searched by a branchless binary lifting
 * (lib/compile/cls_imap.c).  The
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
 *   port clauses are any (SEMANTICS.md §11 decision 5).  Per protocol one bitset
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
 * The endpoint map (lib/compile/endpoints.c) is an interval map as well:
 * from an address to the NIC that holds it, else the first subnet whose
 * prefix holds it, in one search.
 *
 * End to end, a flow meets three or four chains.  Rather than searching
 * each chain's maps for the same fields, the policy-wide classes
 * (lib/compile/cls_global.c) refine every field by all classifiers, the
 * endpoint map and the subnets' VirtualNetwork sets at once: a flow is
 * classified once, and a chain turns the policy-wide class into its own
 * class bitset with one load.
 *
 * Every structure is built at compile time and never written afterwards, so
 * any number of threads may read it; nothing here allocates during
 * evaluation.
 *
 * May touch: lib/base and the compiled policy (compile/policy.h). */
#ifndef NSGSIM_CLASSIFIER_H
#define NSGSIM_CLASSIFIER_H

#include "compile/policy.h"

/* The fields of a flow that classifiers map to classes. */
enum { NS_F_SRC4, NS_F_DST4, NS_F_SRC6, NS_F_DST6, NS_F_SPORT, NS_F_TCP, NS_F_UDP, NS_F_COUNT };

/* Slots of the five flow protocols in the per-protocol tables. */
enum { NS_PSLOT_ICMP, NS_PSLOT_TCP, NS_PSLOT_UDP, NS_PSLOT_ESP, NS_PSLOT_AH, NS_PSLOTS };

/* Slot of a flow protocol (ICMP 1, TCP 6, UDP 17, ESP 50, AH 51). */
static inline int ns_proto_slot(int proto)
{
	return proto == NS_PROTO_TCP    ? NS_PSLOT_TCP
	       : proto == NS_PROTO_UDP  ? NS_PSLOT_UDP
	       : proto == NS_PROTO_ICMP ? NS_PSLOT_ICMP
	       : proto == NS_PROTO_ESP  ? NS_PSLOT_ESP
	                                : NS_PSLOT_AH;
}

/* Index of a portless protocol's slot in pl_match / pl_ports. */
static inline int ns_portless_index(int slot)
{
	return slot == NS_PSLOT_ICMP ? 0 : slot == NS_PSLOT_ESP ? 1 : 2;
}

#define NS_CLS_NONE UINT32_MAX

/* Which scan of the five bitsets a classifier takes, chosen when it is
 * built from the CPU (NSGSIM_NO_SIMD=1 forces the scalar one); the running
 * side maps a kind to its code (lib/eval/cls_scan.c). */
enum ns_scan_kind {
	NS_SCAN_SCALAR,  /* one word at a time */
	NS_SCAN_AVX2,    /* four words at a time */
	NS_SCAN_AVX2_16, /* a chain of exactly 16 words in one pass */
	NS_SCAN_KINDS
};

/* One chain's classifier; see the comment at the top of this file. */
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
	bool avx2;    /* scan four words at a time (chosen when built) */
	uint8_t scan; /* enum ns_scan_kind */
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

/* Everything the classifier build makes for a policy. */
typedef struct ns_cls_store {
	ns_cls **all; /* distinct classifiers (admin levels share them) */
	size_t n, cap;
	/* Policy-wide classes: every field's partition refined by all the
	 * classifiers at once, so that a flow is classified once and each chain
	 * translates (lib/compile/cls_global.c). */
	bool global;
	ns_imap gmap[NS_F_COUNT]; /* the IPv4 and port fields */
	ns_imap6 gmap6[2];        /* the IPv6 source and destination */
	uint32_t n_global[NS_F_COUNT];
	/* Per global class of the address fields: the endpoint record (an
	 * index into nsgsim_policy.recs) and the VirtualNetwork sets holding
	 * it. */
	const uint32_t *gep[4], *gvm[4];
	/* Per port (0-65535) the policy-wide class of the port fields
	 * (NS_F_SPORT, NS_F_TCP, NS_F_UDP; NULL for the others, or when the
	 * classes do not fit 16 bits or the memory was not there): one load
	 * instead of an interval search. */
	const uint16_t *gport[NS_F_COUNT];
	void *gport_mem;
	/* The subnets' VirtualNetwork sets are folded into gvm (at most 32
	 * distinct sets; ns_csubnet.vset is a subnet's bit). */
	bool vsets_folded;
	void *global_mem;
	size_t global_bytes;
	bool avx2;
	double build_ms; /* wall time of ns_classify_build */
	size_t bytes;
} ns_cls_store;

/* Builds every chain's classifier and the policy-wide classes (compile's
 * last step, after the endpoints).  0 or NSGSIM_E_NOMEM with err filled. */
int ns_classify_build(nsgsim_policy *p, nsgsim_error *err);
void ns_classify_free(nsgsim_policy *p);

/* One chain: builds a classifier on its own (benchmarks, tests).  NULL when
 * out of memory. */
ns_cls *ns_cls_build(const nsgsim_policy *p, const ns_chain *ch);
void ns_cls_free(ns_cls *c);

#endif
