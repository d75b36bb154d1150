/* Interval lists: sets of keys (addresses of one family, ports) as sorted,
 * disjoint, non-adjacent inclusive intervals, the fields of the regions the
 * set queries compute.  Lists are immutable views into an arena; every
 * operation that makes one allocates it there (NULL/-1 when out of memory).
 *
 * May touch: lib/base. */
#ifndef NSGSIM_ILIST_H
#define NSGSIM_ILIST_H

#include "base/base.h"

typedef struct ns_ivl {
	ns_u128 lo, hi;
} ns_ivl;

typedef struct ns_ilist {
	const ns_ivl *v;
	size_t n;
} ns_ilist;

/* The largest key of a field: addresses of family 4 or 6, or ports (0). */
static inline ns_u128 ns_key_max(int family)
{
	return family == 6 ? ~(ns_u128)0 : family == 4 ? (ns_u128)UINT32_MAX : (ns_u128)65535;
}

static inline bool ns_il_empty(ns_ilist a)
{
	return a.n == 0;
}

/* One interval [lo, hi]. */
int ns_il_one(ns_arena *ar, ns_u128 lo, ns_u128 hi, ns_ilist *out);
/* A copy of the intervals of b (any order, overlapping, touching) as a list. */
int ns_il_from(ns_arena *ar, const ns_ivl *b, size_t n, ns_ilist *out);
/* A copy of intervals already sorted, disjoint and not touching. */
int ns_il_copy(ns_arena *ar, const ns_ivl *v, size_t n, ns_ilist *out);
/* Appends [lo, hi] to a vector of ns_ivl built in ascending order, joining
 * it to the last interval when they touch; -1 when out of memory. */
int ns_ivl_append(ns_vec *v, ns_u128 lo, ns_u128 hi);
/* The union of k lists (a pairwise merge: linear in their size times
 * log k). */
int ns_il_union(ns_arena *ar, const ns_ilist *lists, size_t k, ns_ilist *out);
/* The set's ranges of one family as a list. */
int ns_il_of_pset(ns_arena *ar, const ns_pset *s, int family, ns_ilist *out);

int ns_il_and(ns_arena *ar, ns_ilist a, ns_ilist b, ns_ilist *out);
int ns_il_minus(ns_arena *ar, ns_ilist a, ns_ilist b, ns_ilist *out);
int ns_il_or(ns_arena *ar, ns_ilist a, ns_ilist b, ns_ilist *out);
/* a with the set of one family (NULL: everything) intersected. */
int ns_il_and_pset(ns_arena *ar, ns_ilist a, const ns_pset *s, int family, ns_ilist *out);

bool ns_il_equal(ns_ilist a, ns_ilist b);
bool ns_il_contains(ns_ilist a, ns_u128 x);
/* Whether every key of a is in b. */
bool ns_il_subset(ns_ilist a, ns_ilist b);
/* Whether a and the set of one family share a key; whether a lies in it. */
bool ns_il_meets_pset(ns_ilist a, const ns_pset *s, int family);
bool ns_il_in_pset(ns_ilist a, const ns_pset *s, int family);
uint64_t ns_il_hash(ns_ilist a, uint64_t h);
/* Keys in the list (saturating at UINT64_MAX). */
uint64_t ns_il_size(ns_ilist a);

#endif
