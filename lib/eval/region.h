/* Regions: the walk over sets of flows.
 *
 * A region is a product: protocols x source intervals x source-port
 * intervals x destination intervals x destination-port intervals (no ports
 * for ICMP, ESP and AH).  ns_region_partition cuts a region into pieces on
 * each of which every chain a walk meets has one first match, finds those
 * matches by splitting field by field on the rules that can still match,
 * and hands them to the one walker (eval/walk.h, NS_MATCH_GIVEN) for the
 * piece's outcome.  Nothing is sampled and no address is enumerated: every
 * flow of a piece gets its outcome from nsgsim_eval.
 *
 * Queries allocate (in the arena they are given) and stop at their limit
 * with NSGSIM_E_LIMIT.
 *
 * May touch: lib/base, the compiled policy and the walker. */
#ifndef NSGSIM_REGION_H
#define NSGSIM_REGION_H

#include "base/ilist.h"
#include "eval/walk.h"

/* Protocols of a region: bit NS_PSLOT_* of each. */
#define NS_PBIT(slot)   (1u << (slot))
#define NS_PBITS_PORTED (NS_PBIT(NS_PSLOT_TCP) | NS_PBIT(NS_PSLOT_UDP))
#define NS_PBITS_ALL    0x1Fu

typedef struct ns_box {
	unsigned protos;                 /* all ported (TCP, UDP) or all portless */
	ns_ilist src, sport, dst, dport; /* no ports (n 0) in a portless box */
} ns_box;

static inline bool ns_box_ported(const ns_box *b)
{
	return (b->protos & NS_PBITS_PORTED) != 0;
}

/* The outcome of a region: what nsgsim_eval says of each of its flows.
 * verdict NSGSIM_ALLOW, NSGSIM_DENY, or NS_UNMODELLED (neither endpoint is
 * modelled: nsgsim_eval refuses such a flow). */
#define NS_UNMODELLED 3
typedef struct ns_rout {
	int verdict, layer, endpoint;
	const ns_crule *rule;
	const char *resource;
} ns_rout;

bool ns_rout_same(const ns_rout *a, const ns_rout *b, bool rule_too);

/* The protocol slots (NS_PBIT of NS_PSLOT_*) a rule can match: a portless
 * protocol only by a rule without port clauses (SEMANTICS.md §11 decision 5). */
unsigned ns_rule_protos(const ns_crule *r);

/* Sources that walk alike: their addresses and, under each policy, the
 * endpoint that evaluates them Outbound (NULL: not modelled). */
typedef struct ns_ralt {
	ns_ilist src;
	const ns_endpoint *ep[2];
} ns_ralt;

/* A diff's guard: the rules that differ between the two policies in the
 * chains of one side (the destination's, or alternative alt's sources'),
 * read in the context of that side's subnet under one policy.  When the
 * chains of both policies are the same steps and differ only in these
 * rules, a flow that none of them matches meets the same first match in
 * every chain of both walks, so its outcome cannot change. */
typedef struct ns_rguard {
	const ns_chain *ch;
	const ns_csubnet *ctx;
	long alt; /* -1: the destination's */
} ns_rguard;

/* What a partition walks: the policies (one for reach, before and after
 * for diff), the alternatives of sources, and the endpoint of the
 * destinations under each policy (NULL: not modelled).  With guarded set
 * (a diff only), a box that no guard rule can match is dropped without
 * being cut further: every change lies inside the guards' rules. */
typedef struct ns_rspec {
	const nsgsim_policy *p[2];
	const ns_ralt *alts;
	size_t n_alts;
	const ns_endpoint *dst[2];
	bool guarded;
	const ns_rguard *guards;
	size_t n_guards;
} ns_rspec;

/* A region and its outcome under each walk (one for reach, two for diff). */
typedef struct ns_piece {
	ns_box box;
	int family;
	ns_rout out[2];
} ns_piece;

/* A rule that matches every flow of a leaf: rule `rule` of the chain of
 * step k on side `side` (0 the source's Outbound, 1 the destination's
 * Inbound). */
typedef struct ns_rhit {
	uint32_t side, k, rule;
} ns_rhit;

/* A leaf of a reach, as ns_rquery.visit sees it: the endpoints walked, the
 * winner of each of their steps (a chain's n: none) and every rule that
 * matches all of the leaf's flows, in chain order. */
typedef struct ns_rvisit {
	const ns_endpoint *ep[2];
	const uint32_t *given[2];
	const ns_rhit *hits;
	size_t n_hits;
	const ns_piece *piece;
} ns_rvisit;

typedef void (*ns_rvisit_fn)(void *ctx, const ns_rvisit *v);
/* Before the destination group j of n of a family is partitioned. */
typedef void (*ns_rgroup_fn)(void *ctx, int family, size_t j, size_t n);

typedef struct ns_rquery {
	int family;
	ns_arena *arena; /* the boxes' lists */
	ns_vec pieces;   /* ns_piece */
	uint64_t limit;  /* pieces at most (NSGSIM_LIMIT_QUERY_REGIONS) */
	int n_walks;     /* 1: reach; 2: diff (out[0] before, out[1] after) */
	/* diff: keep only pieces whose verdicts differ (or, with rules_too, the
	 * deciding rule) */
	bool changed_only, rules_too;
	/* reach: when set, each leaf goes to visit (walk 0) instead of
	 * q->pieces, so no limit applies (lint's never-decides) */
	ns_rvisit_fn visit;
	void *visit_ctx;
	ns_rgroup_fn group; /* with visit: the progress (or NULL) */
} ns_rquery;

/* Appends to q->pieces the pieces of box (its sources: those of the
 * alternatives) under the walks of spec (q->n_walks of them): 0,
 * NSGSIM_E_NOMEM or NSGSIM_E_LIMIT. */
int ns_region_partition(ns_rquery *q, const ns_rspec *spec, const ns_box *box);

/* Merges pieces with the same outcomes that differ in one field only, until
 * none do; 0 or NSGSIM_E_NOMEM. */
int ns_region_merge(ns_rquery *q);

/* The result of nsgsim_reach or nsgsim_diff. */
struct nsgsim_regions {
	ns_arena arena;
	ns_piece *pieces;
	size_t n;
	bool diff;
	/* The query as given, for the JSON; and a diff's counts. */
	const char *to, *from;
	unsigned protocols;
	bool allowed_only, rules;
	size_t opened, closed;
	bool raw; /* ns_reach_raw: the pieces as the partition left them */
};

/* nsgsim_reach without merging or sorting: the same flows and answers in
 * more, smaller regions, sooner -- for callers that only read them (lint). */
int ns_reach_raw(const nsgsim_policy *p, const nsgsim_query *query, nsgsim_regions **out,
                 nsgsim_error *err);

/* nsgsim_reach with allowed_only set, and beside its result the pieces it
 * leaves out (those not allowed, as the partition left them: unmerged) in
 * *rest (n_rest of them; malloc'd, free()d by the caller, their lists in
 * the result's arena, so valid while the result is): one partition for
 * what a query allows and what it does not. */
int ns_reach_and_rest(const nsgsim_policy *p, const nsgsim_query *query, nsgsim_regions **out,
                      ns_piece **rest, size_t *n_rest, nsgsim_error *err);

/* ns_reach_raw's walk over the same flows, each leaf handed to fn and none
 * kept: 0, NSGSIM_E_NOMEM, or the query's errors. */
int ns_reach_visit(const nsgsim_policy *p, const nsgsim_query *query, ns_rvisit_fn fn,
                   ns_rgroup_fn group, void *ctx, nsgsim_error *err);

/* ns_reach_visit cut into items that can run apart (on threads): one item
 * per destination group of each family, in the order ns_reach_visit walks
 * them.  The plan is read-only once made, so items may run at once, each
 * calling fn with its own ctx. */
typedef struct ns_rplan ns_rplan;
/* 0, NSGSIM_E_NOMEM, or the query's errors (then *out is NULL). */
int ns_reach_plan(const nsgsim_policy *p, const nsgsim_query *query, ns_rplan **out,
                  nsgsim_error *err);
size_t ns_rplan_items(const ns_rplan *pl);
/* The leaves of item i to fn: 0, NSGSIM_E_NOMEM. */
int ns_rplan_visit(const ns_rplan *pl, size_t i, ns_rvisit_fn fn, void *ctx);
void ns_rplan_free(ns_rplan *pl);

/* Whether a flow (family, addresses, ports; -1 for none) lies in a box. */
bool ns_box_contains(const ns_box *b, int slot, ns_u128 src, int sport, ns_u128 dst, int dport);

#endif
