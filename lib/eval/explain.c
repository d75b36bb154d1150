/* Explaining a result: the per-rule detail of the layers it walked, as NSG
 * diagnostics reports it (nsgsim_explain), and a report that carries
 * everything a result's rendering needs (the detail when verbose, the
 * source-port split when the ports disagree), so that lib/report formats
 * and never evaluates.  The detail comes from the walker itself: the side
 * is walked again with a log that records each layer's rules.  These
 * allocate; they are queries, not the evaluation's hot path.
 *
 * May touch: lib/base, the compiled policy and the walker (eval/walk.h). */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "eval/eval.h"

/* Walks side `side` of result r again with a detail log; the rules go to
 * *rules and each layer's start to start[].  NSGSIM_E_INVALID_ARG when the
 * result does not belong to this policy and flow. */
static int walk_detail(const nsgsim_policy *p, const nsgsim_flow *flow, const nsgsim_result *r,
                       int side, ns_vec *rules, size_t start[NSGSIM_MAX_LAYERS + 1])
{
	const nsgsim_side_result *s = &r->sides[side];
	const ns_endpoint *ep = ns_find_endpoint(p, s->nic, s->subnet);
	int way = s->direction == NSGSIM_INBOUND ? NS_WAY_IN : NS_WAY_OUT;
	if (!ep || s->n_layers > ep->n_steps[way] || ep->unbuilt)
		return NSGSIM_E_INVALID_ARG;
	ns_flowv f;
	ns_flow_prepare(p, flow, r->src_port == NSGSIM_PORT_ANY ? 0 : r->src_port,
	                NSGSIM_ENGINE_COMPILED, &f);
	ns_walk_detail detail = {rules, {0}, 0, 0};
	ns_walk_log log = {NULL, &detail};
	ns_decision d;
	unsigned assume = 0;
	ns_walk_side(p, &f, ep, way, NS_MATCH_COMPILED, &log, &d, &assume, NULL);
	if (detail.rc != 0)
		return detail.rc;
	/* The walk meets the layers the result names (the same flow, port and
	 * policy walk the same way). */
	if (detail.walked < s->n_layers)
		return NSGSIM_E_INVALID_ARG;
	memcpy(start, detail.start, sizeof detail.start);
	return 0;
}

NSGSIM_EXPORT int nsgsim_explain(const nsgsim_policy *p, const nsgsim_flow *flow,
                                 const nsgsim_result *result, int side, int layer,
                                 nsgsim_rule_detail *out, size_t cap, size_t *n, nsgsim_error *err)
{
	if (!p || !flow || !result || !n || (cap && !out) || side < 0 || side >= result->n_sides ||
	    layer < 0 || layer >= result->sides[side].n_layers)
		return ns_fail(
		        err, NSGSIM_E_INVALID_ARG, "", "", "",
		        "explain needs a policy, the flow, its result and a valid side/layer");
	ns_vec rules;
	ns_vec_init(&rules, sizeof(nsgsim_rule_detail));
	size_t start[NSGSIM_MAX_LAYERS + 1];
	int rc = walk_detail(p, flow, result, side, &rules, start);
	if (rc == NSGSIM_E_INVALID_ARG)
		rc = ns_fail(err, rc, "", "", "", "the result does not belong to this policy");
	else if (rc != 0)
		rc = ns_fail(err, rc, "", "", "", "out of memory");
	if (rc == 0) {
		*n = start[layer + 1] - start[layer];
		const nsgsim_rule_detail *d = rules.data;
		for (size_t i = 0; i < *n && i < cap; i++) /* *n > 0: d is not NULL */
			out[i] = d[start[layer] + i];
	}
	ns_vec_free(&rules);
	return rc;
}

/* ---- a report for rendering --------------------------------------------------------- */

int ns_report_build(const nsgsim_policy *p, const nsgsim_flow *flow, const nsgsim_result *r,
                    bool verbose, ns_report *rep)
{
	memset(rep, 0, sizeof *rep);
	rep->flow = flow;
	rep->result = r;
	rep->verbose = verbose;
	for (int i = 0; i < 2; i++)
		ns_vec_init(&rep->rules[i], sizeof(nsgsim_rule_detail));
	for (int i = 0; verbose && i < r->n_sides && i < 2; i++) {
		int rc = walk_detail(p, flow, r, i, &rep->rules[i], rep->start[i]);
		if (rc != 0)
			return rc;
	}
	if (r->assumptions & NSGSIM_ASSUME_SOURCE_PORTS_DIFFER) {
		rep->ports = calloc(NS_REPORT_PORTS, sizeof *rep->ports);
		if (!rep->ports)
			return NSGSIM_E_NOMEM;
		rep->ports_rc = nsgsim_eval_source_ports(p, flow, rep->ports, NS_REPORT_PORTS,
		                                         &rep->n_ports, NULL);
	}
	return 0;
}

void ns_report_free(ns_report *rep)
{
	for (int i = 0; i < 2; i++)
		ns_vec_free(&rep->rules[i]);
	free(rep->ports);
	rep->ports = NULL;
}
