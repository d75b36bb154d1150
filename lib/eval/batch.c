/* Evaluating many flows (nsgsim_eval_batch): each flow straight through
 * the same walker as nsgsim_eval, without the trace.
 *
 * The common flow of a trace -- TCP or UDP with a source port, on a policy
 * with policy-wide classes that hold the VirtualNetwork sets -- takes the
 * walker's global path (NS_MATCH_GLOBAL): each chain's match inline
 * (ns_cls_gfirst), and what a side fixes for all its chains (ns_gside)
 * computed once.  Measured under callgrind on the bench's hub workload, the
 * general path spent more instructions on the walk (arguments, engine and
 * trace tests, calls per chain) than on matching.  Every other flow takes
 * the general path; both give the same answer (tests/test_differential.c
 * compares the batch with the linear engine).
 *
 * Nothing here allocates.
 *
 * May touch: lib/base, the compiled policy and the walker (eval/walk.h). */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "eval/eval.h"

static void decision_of(nsgsim_decision *d, const ns_outcome *o, int src_port)
{
	d->status = 0;
	d->verdict = o->verdict;
	d->decided_layer = o->layer;
	d->decided_endpoint = o->endpoint;
	ns_rule_ref(o->rule, &d->decided_rule);
	d->decided_resource = o->resource;
	d->assumptions = o->assumptions;
	d->src_port = src_port;
}

static void decision_fail(nsgsim_decision *d, int status)
{
	memset(d, 0, sizeof *d);
	d->status = status;
}

/* The general path: what nsgsim_eval_engine does, without the trace. */
static void eval_one_decision(const nsgsim_policy *p, const nsgsim_flow *flow, int engine,
                              nsgsim_decision *d)
{
	int rc = ns_check_flow(p, flow, d, NULL);
	if (rc != 0) {
		decision_fail(d, rc);
		return;
	}
	ns_flowv f;
	ns_flow_prepare(p, flow, flow->src_port, engine, &f);
	const ns_eprec *src, *dst;
	if ((rc = ns_resolve_endpoints(p, &f, &src, &dst, NULL)) != 0) {
		decision_fail(d, rc);
		return;
	}
	ns_outcome o;
	int port = ns_eval_flow(p, flow, &f, src, dst, engine, &o);
	decision_of(d, &o, port);
}

/* eval_one_decision for a flow that can take the global path; false (and
 * nothing written) when it cannot. */
static bool eval_fast(const nsgsim_policy *p, const nsgsim_flow *flow, nsgsim_decision *out)
{
	/* Every source port, and ns_check_flow's errors, take the general path. */
	int proto = flow->protocol;
	bool ported = proto == NS_PROTO_TCP || proto == NS_PROTO_UDP;
	if (ported ? flow->src_port < 0 || flow->src_port > 65535 || flow->dst_port < 0 ||
	                     flow->dst_port > 65535
	           : proto != NS_PROTO_ICMP && proto != NS_PROTO_ESP && proto != NS_PROTO_AH)
		return false;
	if ((flow->src.family != 4 && flow->src.family != 6) ||
	    flow->src.family != flow->dst.family)
		return false;
	ns_flowv f;
	ns_flowv_of(flow, flow->src_port, &f);
	ns_cls_global_classes(p->cls, &f);
	const ns_eprec *src = &p->recs[f.ep[0]], *dst = &p->recs[f.ep[1]];
	if (!src->ep && !dst->ep) {
		decision_fail(out, NSGSIM_E_NOT_MODELLED);
		return true;
	}
	ns_outcome o;
	ns_walk_flow(p, &f, src, dst, NS_MATCH_GLOBAL, NULL, &o, NULL);
	decision_of(out, &o, flow->src_port);
	return true;
}

/* A batch evaluates its flows one after the other, each straight through,
 * and prefetches the first index entries of a flow a few places ahead.
 * Measured on the bench environment, this beats walking a group of flows
 * in lockstep through their chains: the work per flow is bound by
 * instructions rather than by memory once the policy-wide classes replace
 * the per-chain searches, and interleaving flows only costs bookkeeping
 * and branch predictions. */
enum { BATCH_AHEAD = 4 };

static void eval_batch_compiled(const nsgsim_policy *p, const nsgsim_flow *flows, size_t n,
                                nsgsim_decision *out)
{
	bool fast = p->cls->global && p->cls->vsets_folded;
	for (size_t i = 0; i < n; i++) {
		if (i + BATCH_AHEAD < n) {
			const nsgsim_flow *a = &flows[i + BATCH_AHEAD];
			if ((a->src.family == 4 || a->src.family == 6) &&
			    a->src.family == a->dst.family)
				ns_cls_global_prefetch(p->cls, a->src.family, ns_ip_value(&a->src),
				                       ns_ip_value(&a->dst));
		}
		if (!fast || !eval_fast(p, &flows[i], &out[i]))
			eval_one_decision(p, &flows[i], NSGSIM_ENGINE_COMPILED, &out[i]);
	}
}

NSGSIM_EXPORT int nsgsim_eval_batch(const nsgsim_policy *p, const nsgsim_flow *flows, size_t n,
                                    int engine, nsgsim_decision *out, nsgsim_error *err)
{
	if (!p || (n && (!flows || !out)))
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "",
		               "policy, flows and out are required");
	int rc = ns_check_engine(engine, err);
	if (rc != 0)
		return rc;
	uint64_t limit = p->m.limits[NSGSIM_LIMIT_BATCH_FLOWS];
	if (limit && n > limit)
		return ns_fail(err, NSGSIM_E_LIMIT, "", "", "",
		               "%zu flows in one batch; the limit is %llu "
		               "(NSGSIM_LIMIT_BATCH_FLOWS)",
		               n, (unsigned long long)limit);
	if (engine == NSGSIM_ENGINE_COMPILED && p->cls) {
		eval_batch_compiled(p, flows, n, out);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		eval_one_decision(p, &flows[i], engine, &out[i]);
	return 0;
}
