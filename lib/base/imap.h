/* Interval maps: a partition of a key space (IPv4 addresses, ports, IPv6
 * addresses) into intervals, each with a 32-bit value, found through a
 * small trie over the key's bits and a branchless binary lifting.
 *
 * This header is the layout and its lookup, which every stage may read;
 * lib/compile/cls_imap.c plans and lays out a map (its comment explains the
 * trie: a root of up to 16 bits, crowded buckets split by 8 more bits at any
 * depth, leaves of a handful of intervals, one-interval leaves that hold
 * their value).  A finished map is immutable.
 *
 * May touch: the C library and lib/base/prefixset.h (for ns_u128). */
#ifndef NSGSIM_IMAP_H
#define NSGSIM_IMAP_H

#include <stdint.h>

#include "base/prefixset.h"

/* An interval map over 32-bit keys (IPv4 addresses, ports): the sorted
 * starts of n intervals that tile the key space (starts[0] == 0) and a value
 * per interval. */
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

/* An index entry: a leaf, the first interval
 * its key range can hold and the number of lifting steps it needs in bits
 * 27-30; or, with the top bit set, a child node: its first entry in l2 and
 * in bits 27-30 how many more key bits it spends. */
#define NS_IM_CHILD       0x80000000u
#define NS_IM_FIELD_SHIFT 27
#define NS_IM_POS_MASK    ((1u << NS_IM_FIELD_SHIFT) - 1)
/* A leaf whose keys all lie in one interval holds that interval's value
 * itself, marked by this step count (leaves otherwise take at most 14). */
#define NS_IM_INLINE 15u

/* Binary lifting from a leaf: steps top, top/2, ..., 1, each clamped to
 * the last interval; the comparison is a conditional move.  Intervals after
 * the leaf's own start above the key, so the clamp only keeps the reads in
 * bounds.  Most leaves need no step or one or two. */
static inline uint32_t ns_imap_lift(const uint32_t *sv, uint32_t last, uint32_t key, uint32_t e)
{
	uint32_t pos = e & NS_IM_POS_MASK;
	for (uint32_t step = (1u << (e >> NS_IM_FIELD_SHIFT)) >> 1; step; step >>= 1) {
		uint32_t q = pos + step < last ? pos + step : last;
		pos = sv[2 * q] <= key ? q : pos;
	}
	return sv[2 * pos + 1];
}

/* The leaf entry of a key: the root bucket, then down the children. */
#define NS_IMAP_LEAF(m, key, e)                                                                    \
	do {                                                                                       \
		uint32_t sh_ = (m)->shift1;                                                        \
		(e) = (m)->l1[(uint32_t)((key) >> sh_)];                                           \
		while ((e)&NS_IM_CHILD) {                                                          \
			uint32_t b_ = ((e) >> NS_IM_FIELD_SHIFT) & 15;                             \
			sh_ -= b_;                                                                 \
			(e) = (m)->l2[((e)&NS_IM_POS_MASK) +                                       \
			              ((uint32_t)((key) >> sh_) & ((1u << b_) - 1))];              \
		}                                                                                  \
	} while (0)

static inline uint32_t ns_imap_get(const ns_imap *m, uint32_t key)
{
	uint32_t e;
	NS_IMAP_LEAF(m, key, e);
	if ((e >> NS_IM_FIELD_SHIFT) == NS_IM_INLINE)
		return e & NS_IM_POS_MASK;
	return ns_imap_lift(m->sv, m->n - 1, key, e);
}

static inline uint32_t ns_imap6_get(const ns_imap6 *m, ns_u128 key)
{
	uint32_t e;
	NS_IMAP_LEAF(m, key, e);
	if ((e >> NS_IM_FIELD_SHIFT) == NS_IM_INLINE)
		return e & NS_IM_POS_MASK;
	uint32_t pos = e & NS_IM_POS_MASK, last = m->n - 1;
	for (uint32_t step = (1u << (e >> NS_IM_FIELD_SHIFT)) >> 1; step; step >>= 1) {
		uint32_t q = pos + step < last ? pos + step : last;
		pos = m->starts[q] <= key ? q : pos;
	}
	return m->val[pos];
}

#endif
