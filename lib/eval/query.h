/* The sets a set query names, and their split by endpoint
 * (lib/eval/query.c).
 *
 * May touch: lib/base, what parse exposes, the compiled policy. */
#ifndef NSGSIM_QUERY_H
#define NSGSIM_QUERY_H

#include "eval/region.h"

/* Addresses of both families: fam[0] IPv4, fam[1] IPv6. */
typedef struct ns_addrs {
	ns_ilist fam[2];
} ns_addrs;

/* The addresses a --to or --from text names in a policy (what: the
 * option, for errors). */
int ns_query_addrs(const nsgsim_policy *p, const char *text, const char *what, ns_arena *ar,
                   ns_addrs *out, nsgsim_error *err);

/* The addresses within a list of the endpoints that walk like ep (ep NULL:
 * not modelled). */
typedef struct ns_epgroup {
	const ns_endpoint *ep;
	ns_vec ivls; /* ns_ivl, sorted */
} ns_epgroup;

/* Whether two endpoints give every flow of direction way (NS_WAY_*) the
 * same outcome: the same chains, from the same VirtualNetwork set. */
bool ns_same_walk(const ns_endpoint *a, const ns_endpoint *b, int way);

/* Splits a list of one family by the endpoint map into groups of endpoints
 * that walk alike in direction way (ns_epgroup, in the order met); 0 or -1
 * when out of memory (free the groups either way). */
int ns_split_by_endpoint(const nsgsim_policy *p, int family, ns_ilist a, int way, ns_vec *groups);
void ns_epgroups_free(ns_vec *groups);

#endif
