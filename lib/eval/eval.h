/* The eval stage's entry points: what its files share (checking a flow,
 * the walk over every source port) and what it offers the report stage (a
 * result with everything its rendering needs).
 *
 * May touch: lib/base, the compiled policy and the walker (eval/walk.h). */
#ifndef NSGSIM_EVAL_H
#define NSGSIM_EVAL_H

#include "eval/walk.h"

/* ---- lib/eval/eval.c -------------------------------------------------------- */

/* NSGSIM_E_INVALID_ARG / NSGSIM_E_BAD_FLOW for arguments no evaluation
 * takes; 0 for a flow that can be evaluated. */
int ns_check_flow(const nsgsim_policy *p, const nsgsim_flow *flow, const void *out,
                  nsgsim_error *err);
int ns_check_engine(int engine, nsgsim_error *err);
/* The flow at source port sport as the engine sees it (with its
 * policy-wide classes for the compiled one). */
void ns_flow_prepare(const nsgsim_policy *p, const nsgsim_flow *flow, int sport, int engine,
                     ns_flowv *f);
/* The endpoints of a prepared flow; NSGSIM_E_NOT_MODELLED when neither
 * address is modelled. */
int ns_resolve_endpoints(const nsgsim_policy *p, const ns_flowv *f, const ns_eprec **src,
                         const ns_eprec **dst, nsgsim_error *err);
/* A flow end to end, every source port when it has none: the outcome, and
 * the source port to report (NSGSIM_PORT_ANY when every port agreed; f is
 * left at the port the outcome is for). */
int ns_eval_flow(const nsgsim_policy *p, const nsgsim_flow *flow, ns_flowv *f, const ns_eprec *src,
                 const ns_eprec *dst, int engine, ns_outcome *o);

/* ---- lib/eval/explain.c: a result with what its rendering needs ------------- */

/* The port ranges a report keeps (the JSON shows as many, the text 64). */
#define NS_REPORT_PORTS 256

typedef struct ns_report {
	const nsgsim_flow *flow;
	const nsgsim_result *result;
	/* With verbose: per side, the rules each layer tried (NSG diagnostics'
	 * detail), layer i's in rules[side][start[side][i] .. start[side][i+1]). */
	bool verbose;
	ns_vec rules[2];
	size_t start[2][NSGSIM_MAX_LAYERS + 1];
	/* When the verdict differs between source ports
	 * (NSGSIM_ASSUME_SOURCE_PORTS_DIFFER): the first ranges, how many there
	 * are in all, and the status of the split. */
	nsgsim_port_outcome *ports;
	size_t n_ports;
	int ports_rc;
} ns_report;

/* Fills *rep for a result of this policy and flow; 0, NSGSIM_E_NOMEM, or
 * NSGSIM_E_INVALID_ARG when the result does not belong to the policy.
 * Free it with ns_report_free either way. */
int ns_report_build(const nsgsim_policy *p, const nsgsim_flow *flow, const nsgsim_result *r,
                    bool verbose, ns_report *rep);
void ns_report_free(ns_report *rep);

#endif
