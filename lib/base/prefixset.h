/* Address sets as merged, sorted, disjoint intervals per family.
 *
 * Every address set nsgsim meets (a rule's CIDR list, a service tag, the
 * members of an ASG, the computed VirtualNetwork/Internet/AzureLoadBalancer
 * tags) becomes one ns_pset.  Membership is a binary search over the interval
 * starts; a trie would only pay for longest-prefix match, which NSG rules do
 * not need (DESIGN.md, "Address sets").
 *
 * Invariants of a finished set, per family: ranges sorted by lo, lo <= hi,
 * and consecutive ranges neither overlap nor touch (prev.hi + 1 < next.lo).
 * A finished set is immutable and may be read from many threads.
 */
#ifndef NSGSIM_PREFIXSET_H
#define NSGSIM_PREFIXSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

__extension__ typedef unsigned __int128 ns_u128;

typedef struct ns_range4 {
	uint32_t lo, hi;
} ns_range4;

typedef struct ns_range6 {
	ns_u128 lo, hi;
} ns_range6;

typedef struct ns_pset {
	ns_range4 *v4;
	size_t n4;
	ns_range6 *v6;
	size_t n6;
} ns_pset;

/* Collects ranges in any order, with overlaps; ns_psb_finish merges them. */
typedef struct ns_psb {
	ns_range4 *v4;
	size_t n4, cap4;
	ns_range6 *v6;
	size_t n6, cap6;
} ns_psb;

/* Range of a prefix: plen 0..32 (v4) or 0..128 (v6); host bits are ignored. */
ns_range4 ns_range4_of_prefix(uint32_t addr, int plen);
ns_range6 ns_range6_of_prefix(ns_u128 addr, int plen);

void ns_psb_init(ns_psb *b);
/* Each returns 0, or -1 when out of memory (the builder is unchanged then). */
int ns_psb_add4(ns_psb *b, uint32_t lo, uint32_t hi);
int ns_psb_add6(ns_psb *b, ns_u128 lo, ns_u128 hi);
int ns_psb_add_set(ns_psb *b, const ns_pset *s);
/* Sorts and merges into *out (which it owns afterwards; free with
 * ns_pset_free) and resets the builder to empty.  Returns 0 or -1 (out of
 * memory; *out is left empty and the builder keeps its contents). */
int ns_psb_finish(ns_psb *b, ns_pset *out);
void ns_psb_free(ns_psb *b);

void ns_pset_free(ns_pset *s); /* accepts NULL and empty sets */
bool ns_pset_is_empty(const ns_pset *s);
bool ns_pset_equal(const ns_pset *a, const ns_pset *b);
/* Branchless binary search; never allocates. */
bool ns_pset_contains4(const ns_pset *s, uint32_t addr);
bool ns_pset_contains6(const ns_pset *s, ns_u128 addr);
/* Either family; family 4 holds the IPv4 address in the low 32 bits. */
static inline bool ns_pset_contains(const ns_pset *s, int family, ns_u128 addr)
{
	return family == 4 ? ns_pset_contains4(s, (uint32_t)addr) : ns_pset_contains6(s, addr);
}
/* out = a minus b.  Returns 0 or -1 (out of memory; *out left empty). */
int ns_pset_subtract(const ns_pset *a, const ns_pset *b, ns_pset *out);
/* out = a deep copy of a. Returns 0 or -1. */
int ns_pset_copy(const ns_pset *a, ns_pset *out);

/* The minimal list of CIDR prefixes that covers exactly the set, IPv4 first,
 * each family in ascending address order -- the way Azure's effective
 * security rules print an expanded tag ("10.0.0.0/15", "168.63.129.16/32").
 * Calls fn for each; stops and returns fn's value when it is non-zero.
 * family is 4 or 6; for 4, addr holds the IPv4 address in its low 32 bits. */
typedef int (*ns_cidr_fn)(void *ctx, int family, ns_u128 addr, int plen);
int ns_pset_each_cidr(const ns_pset *s, ns_cidr_fn fn, void *ctx);
size_t ns_pset_cidr_count(const ns_pset *s);

/* Canonical text of a prefix ("10.0.0.0/16", "2001:db8::/32"; inet_ntop
 * form for IPv6), or of an address when plen < 0.  Returns the length
 * written (without NUL), truncating to cap-1 like snprintf. */
size_t ns_format_prefix(char *buf, size_t cap, int family, ns_u128 addr, int plen);

#endif
