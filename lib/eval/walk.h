/* The walk through Azure's layers: one walker for every evaluation.
 *
 * An endpoint's steps (compile/policy.h) are its layers in the order a
 * direction's traffic meets them, built once from Azure's rules
 * (lib/compile/azure.c).  The walker runs them: at each step the layer's
 * first matching rule decides what happens (ns_crule.ends: go on, or end
 * with Allow or Deny); a step without a match goes on; a walk that runs out
 * of steps allows.  End to end, the source endpoint is walked Outbound and
 * then the destination Inbound, and both must allow (SEMANTICS.md §0).
 *
 * The walker is inline and takes its matcher as a constant (ns_match_mode),
 * so each caller gets a copy specialised for it: the traced evaluation and
 * eval_at (compiled or linear), the source-port split, explain's per-rule
 * detail, and the batch's global path, all from this one definition.
 * Nothing here allocates unless the caller asks for per-rule detail.
 *
 * May touch: lib/base, the compiled policy and the matchers (eval/match.h). */
#ifndef NSGSIM_WALK_H
#define NSGSIM_WALK_H

#include "eval/match.h"

/* How a walk finds a chain's first match. */
enum ns_match_mode {
	NS_MATCH_LINEAR,   /* the reference scan of every rule */
	NS_MATCH_COMPILED, /* the chain's classifier, any flow */
	/* The classifier on the policy-wide classes: the flow has them
	 * (f->global) and the policy folded the VirtualNetwork sets in. */
	NS_MATCH_GLOBAL,
	/* Each step's winner given by the caller: a region's, which the set
	 * queries found for all its flows at once (lib/eval/region.c). */
	NS_MATCH_GIVEN,
};

/* What decided a side: the layer, the rule and the resource. */
typedef struct ns_decision {
	int layer;
	const ns_crule *rule;
	const char *resource;
} ns_decision;

/* The per-rule detail of every layer a walk meets: the rules tried up to
 * the winner, as NSG diagnostics reports them.  Recording it allocates. */
typedef struct ns_walk_detail {
	ns_vec *rules;                       /* nsgsim_rule_detail */
	size_t start[NSGSIM_MAX_LAYERS + 1]; /* layer i: rules[start[i] .. start[i+1]) */
	int walked;                          /* layers met */
	int rc;                              /* NSGSIM_E_NOMEM once recording failed */
} ns_walk_detail;

/* What a walk records besides its verdict, when the caller asks. */
typedef struct ns_walk_log {
	nsgsim_side_result *trace; /* the per-layer trace, or NULL */
	ns_walk_detail *detail;    /* or NULL */
} ns_walk_log;

/* The end-to-end answer without the per-layer trace. */
typedef struct ns_outcome {
	int verdict, layer, endpoint;
	const ns_crule *rule;
	const char *resource;
	unsigned assumptions;
} ns_outcome;

/* ---- lib/eval/walk.c ------------------------------------------------------- */

/* The endpoint record of an address: the one endpoint lookup (recs[0], not
 * modelled, when no NIC or subnet holds it). */
const ns_eprec *ns_endpoint_of(const nsgsim_policy *p, int family, ns_u128 a);
/* The records of a flow's source and destination: from its policy-wide
 * classes when it has them, else through the map. */
void ns_flow_endpoints(const nsgsim_policy *p, const ns_flowv *f, const ns_eprec **src,
                       const ns_eprec **dst);

/* A rule as the public results name it (all zero for NULL). */
void ns_rule_ref(const ns_crule *r, nsgsim_rule_ref *out);
/* Starts a side's trace at endpoint ep, walked in direction way as the
 * flow's endpoint (NSGSIM_ENDPOINT_*). */
void ns_trace_side(nsgsim_side_result *s, const ns_endpoint *ep, int way, int endpoint);
/* Records step s (its chain's winner r, or NULL) of a walk. */
void ns_walk_record(ns_walk_log *log, const nsgsim_policy *p, const ns_flowv *f,
                    const ns_endpoint *ep, const ns_step *s, int way, const ns_crule *r);

/* The smallest source-port boundary above port among the chains of an
 * endpoint's walk in direction way, or best. */
int ns_walk_next_sport(const ns_endpoint *ep, int way, int port, int best, int mode);

/* ---- the walker -------------------------------------------------------------- */

/* The first match of step k's chain by the chosen matcher. */
static inline const ns_crule *ns_walk_match(const nsgsim_policy *p, const ns_chain *ch, size_t k,
                                            ns_gside *sd, int mode, unsigned *assume)
{
	uint32_t i;
	if (mode == NS_MATCH_GIVEN)
		i = sd->given[k];
	else if (mode == NS_MATCH_LINEAR || !ch->cls) /* not built: never in practice */
		i = (uint32_t)ns_linear_first(p, ch, sd->f, sd->ctx, assume);
	else if (mode == NS_MATCH_GLOBAL)
		i = ns_cls_gfirst(ch->cls, ch->rules, sd, assume);
	else
		i = ns_cls_first(p, ch->cls, ch->rules, sd->f, sd->ctx, assume);
	return i < ch->n ? &ch->rules[i] : NULL;
}

/* Walks one side: endpoint ep in direction way (NS_WAY_*).  Returns the
 * side's verdict; *dec names what decided (rule NULL when nothing
 * matched); the assumptions are ORed into *assume.  log may be NULL. */
static inline int ns_walk_side(const nsgsim_policy *p, const ns_flowv *f, const ns_endpoint *ep,
                               int way, int mode, ns_walk_log *log, ns_decision *dec,
                               unsigned *assume, const uint32_t *given)
{
	ns_gside sd = {ep->subnet, f, 0, {-1, -1}, given};
	if (mode == NS_MATCH_GLOBAL)
		ns_gside_init(&sd, f, ep->subnet);
	*assume |= ep->assume;
	dec->rule = NULL;
	const ns_step *s = ep->steps[way], *end = s + ep->n_steps[way];
	for (; s < end; s++) {
		const ns_crule *r = ns_walk_match(p, s->chain[way], (size_t)(s - ep->steps[way]),
		                                  &sd, mode, assume);
		if (log)
			ns_walk_record(log, p, f, ep, s, way, r);
		if (!r)
			continue;
		*assume |= r->assume;
		*dec = (ns_decision){s->layer, r, s->resource};
		if (r->ends) {
			if (log && log->trace && r->ends == NSGSIM_DENY)
				log->trace->verdict = NSGSIM_DENY;
			return r->ends;
		}
	}
	return NSGSIM_ALLOW;
}

/* What decided after a side's walk (SEMANTICS.md §0: for Deny the rule
 * that denied, for Allow the last rule that allowed on the last side). */
static inline void ns_outcome_decide(ns_outcome *o, const ns_decision *d, int endpoint)
{
	o->layer = d->rule ? d->layer : NSGSIM_LAYER_NONE;
	o->endpoint = endpoint;
	o->resource = d->rule ? d->resource : NULL;
	o->rule = d->rule;
}

/* An address another NIC or subnet holds too; an address inside a subnet
 * that no ipConfiguration holds, evaluated at the subnet alone (a private
 * endpoint, a PaaS address -- or a typo). */
static inline unsigned ns_endpoint_assumptions(const ns_eprec *src, const ns_eprec *dst)
{
	unsigned a = 0;
	if (src->ambiguous || dst->ambiguous)
		a |= NSGSIM_ASSUME_AMBIGUOUS_ENDPOINT;
	if ((src->ep && !src->ep->nic) || (dst->ep && !dst->ep->nic))
		a |= NSGSIM_ASSUME_UNASSIGNED_ADDRESS;
	return a;
}

/* A flow end to end at one source port: Outbound at the source's endpoint
 * when it has one, then Inbound at the destination's; both must allow.
 * With full, each side's trace goes to full->sides.  given: the winners of
 * the source's and the destination's steps for NS_MATCH_GIVEN, else NULL. */
static inline void ns_walk_flow(const nsgsim_policy *p, const ns_flowv *f, const ns_eprec *src,
                                const ns_eprec *dst, int mode, nsgsim_result *full, ns_outcome *o,
                                const uint32_t *const *given)
{
	ns_decision d;
	ns_walk_log log = {NULL, NULL};
	o->verdict = NSGSIM_ALLOW;
	o->layer = o->endpoint = 0;
	o->rule = NULL;
	o->resource = NULL;
	/* What the endpoints rest on holds whether or not a side is walked. */
	o->assumptions = ns_endpoint_assumptions(src, dst);
	if (src->ep) {
		if (full) {
			log.trace = &full->sides[full->n_sides++];
			ns_trace_side(log.trace, src->ep, NS_WAY_OUT, NSGSIM_ENDPOINT_SOURCE);
		}
		int v = ns_walk_side(p, f, src->ep, NS_WAY_OUT, mode, full ? &log : NULL, &d,
		                     &o->assumptions, given ? given[0] : NULL);
		ns_outcome_decide(o, &d, NSGSIM_ENDPOINT_SOURCE);
		if (v == NSGSIM_DENY) {
			o->verdict = NSGSIM_DENY;
			return;
		}
	}
	if (dst->ep) {
		if (full) {
			log.trace = &full->sides[full->n_sides++];
			ns_trace_side(log.trace, dst->ep, NS_WAY_IN, NSGSIM_ENDPOINT_DESTINATION);
		}
		o->verdict = ns_walk_side(p, f, dst->ep, NS_WAY_IN, mode, full ? &log : NULL, &d,
		                          &o->assumptions, given ? given[1] : NULL);
		ns_outcome_decide(o, &d, NSGSIM_ENDPOINT_DESTINATION);
	}
	if (o->layer == NSGSIM_LAYER_NONE)
		o->endpoint = NSGSIM_ENDPOINT_NONE;
}

#endif
