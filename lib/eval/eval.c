/* Evaluation of one flow: end to end (nsgsim_eval), at one NIC as IP flow
 * verify does (nsgsim_eval_at), and split by source port
 * (nsgsim_eval_source_ports).  Each is the walker (eval/walk.h) with the
 * chosen engine: NSGSIM_ENGINE_LINEAR scans every rule (the reference,
 * which tests and fuzzers compare against), NSGSIM_ENGINE_COMPILED looks
 * the flow up in the chains' classifiers.  Everything else -- the layer
 * order, the trace, the assumptions -- is the one walk.
 *
 * Nothing here allocates: the result is caller-owned and every string in it
 * points into the policy.
 *
 * May touch: lib/base, the compiled policy and the walker (eval/walk.h). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "eval/eval.h"

static bool portless(int proto)
{
	return proto != NS_PROTO_TCP && proto != NS_PROTO_UDP;
}

/* ---- checks and preparation ------------------------------------------------------- */

int ns_check_flow(const nsgsim_policy *p, const nsgsim_flow *flow, const void *out,
                  nsgsim_error *err)
{
	if (!p || !flow || !out)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "",
		               "policy, flow and out are required");
	if ((flow->src.family != 4 && flow->src.family != 6) ||
	    flow->src.family != flow->dst.family)
		return ns_fail(err, NSGSIM_E_BAD_FLOW, "", "", "",
		               "source and destination must both be IPv4 or both IPv6");
	if (flow->protocol != NSGSIM_PROTO_TCP && flow->protocol != NSGSIM_PROTO_UDP &&
	    flow->protocol != NSGSIM_PROTO_ICMP && flow->protocol != NSGSIM_PROTO_ESP &&
	    flow->protocol != NSGSIM_PROTO_AH)
		return ns_fail(err, NSGSIM_E_BAD_FLOW, "", "", "", "unknown protocol %d",
		               flow->protocol);
	if (!portless(flow->protocol) && (flow->dst_port < 0 || flow->dst_port > 65535 ||
	                                  flow->src_port < -1 || flow->src_port > 65535))
		return ns_fail(err, NSGSIM_E_BAD_FLOW, "", "", "",
		               "TCP and UDP need a destination port 0-65535 and a source port "
		               "0-65535 or NSGSIM_PORT_ANY");
	return 0;
}

int ns_check_engine(int engine, nsgsim_error *err)
{
	if (engine == NSGSIM_ENGINE_LINEAR || engine == NSGSIM_ENGINE_COMPILED)
		return 0;
	return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "",
	               "engine must be NSGSIM_ENGINE_LINEAR or NSGSIM_ENGINE_COMPILED");
}

void ns_flow_prepare(const nsgsim_policy *p, const nsgsim_flow *flow, int sport, int engine,
                     ns_flowv *f)
{
	ns_flowv_of(flow, sport, f);
	if (engine == NSGSIM_ENGINE_COMPILED && p->cls)
		ns_cls_global_classes(p->cls, f);
}

/* Another source port of the same flow. */
static void flow_set_sport(const nsgsim_policy *p, ns_flowv *f, int port)
{
	f->sport = port;
	if (f->global)
		ns_cls_global_classes(p->cls, f);
}

int ns_resolve_endpoints(const nsgsim_policy *p, const ns_flowv *f, const ns_eprec **src,
                         const ns_eprec **dst, nsgsim_error *err)
{
	ns_flow_endpoints(p, f, src, dst);
	if (!(*src)->ep && !(*dst)->ep)
		return ns_fail(err, NSGSIM_E_NOT_MODELLED, "", "", "",
		               "neither the source nor the destination address belongs to a NIC or "
		               "subnet in the input; check the addresses");
	if (!p->focused) /* the usual policy: no endpoint is unbuilt */
		return 0;
	int rc = ns_check_focus((*src)->ep, "source", err);
	return rc != 0 ? rc : ns_check_focus((*dst)->ep, "destination", err);
}

static int mode_of(int engine)
{
	return engine == NSGSIM_ENGINE_LINEAR ? NS_MATCH_LINEAR : NS_MATCH_COMPILED;
}

/* The walk at one source port with the chosen engine; the sides' trace
 * goes to full when it is not NULL. */
static void eval_once(const nsgsim_policy *p, const ns_flowv *f, const ns_eprec *src,
                      const ns_eprec *dst, int engine, ns_outcome *o, nsgsim_result *full)
{
	if (engine == NSGSIM_ENGINE_LINEAR)
		ns_walk_flow(p, f, src, dst, NS_MATCH_LINEAR, full, o, NULL);
	else
		ns_walk_flow(p, f, src, dst, NS_MATCH_COMPILED, full, o, NULL);
}

/* ---- every source port ------------------------------------------------------------ */

/* The smallest source-port boundary above port among the rules the flow's
 * walks meet: where the outcome may change. */
static int next_src_boundary(const ns_eprec *src, const ns_eprec *dst, int port, int engine)
{
	int best = 65536, mode = mode_of(engine);
	if (src->ep)
		best = ns_walk_next_sport(src->ep, NS_WAY_OUT, port, best, mode);
	if (dst->ep)
		best = ns_walk_next_sport(dst->ep, NS_WAY_IN, port, best, mode);
	return best;
}

static bool same_outcome(const ns_outcome *a, const ns_outcome *b)
{
	const char *ida = a->rule ? a->rule->r->id : NULL, *idb = b->rule ? b->rule->r->id : NULL;
	return a->verdict == b->verdict && a->layer == b->layer && a->endpoint == b->endpoint &&
	       ida == idb;
}

int ns_eval_flow(const nsgsim_policy *p, const nsgsim_flow *flow, ns_flowv *f, const ns_eprec *src,
                 const ns_eprec *dst, int engine, ns_outcome *o)
{
	if (portless(flow->protocol) || flow->src_port != NSGSIM_PORT_ANY) {
		eval_once(p, f, src, dst, engine, o, NULL);
		return flow->src_port;
	}
	/* Every source port: one evaluation per range between rule boundaries.
	 * The result reported is the first denied range, if any. */
	ns_outcome cur;
	bool uniform = true;
	int at = 0;
	for (int port = 0; port <= 65535; port = next_src_boundary(src, dst, port, engine)) {
		flow_set_sport(p, f, port);
		eval_once(p, f, src, dst, engine, port == 0 ? o : &cur, NULL);
		if (port == 0)
			continue;
		if (!same_outcome(o, &cur))
			uniform = false;
		if (o->verdict != NSGSIM_DENY && cur.verdict == NSGSIM_DENY) {
			unsigned keep = o->assumptions;
			*o = cur;
			o->assumptions |= keep;
			at = port;
		} else {
			o->assumptions |= cur.assumptions;
		}
	}
	flow_set_sport(p, f, at);
	if (uniform)
		return NSGSIM_PORT_ANY;
	o->assumptions |= NSGSIM_ASSUME_SOURCE_PORTS_DIFFER;
	return at;
}

static void fill_result(nsgsim_result *out, const ns_outcome *o)
{
	out->verdict = o->verdict;
	out->decided_layer = o->layer;
	out->decided_endpoint = o->endpoint;
	out->decided_resource = o->resource;
	ns_rule_ref(o->rule, &out->decided_rule);
	out->assumptions = o->assumptions;
}

/* The checks of a call with a flow and an engine. */
static int check_call(const nsgsim_policy *p, const nsgsim_flow *flow, const void *out, int engine,
                      nsgsim_error *err)
{
	int rc = ns_check_flow(p, flow, out, err);
	return rc != 0 ? rc : ns_check_engine(engine, err);
}

/* ---- end to end -------------------------------------------------------------------- */

NSGSIM_EXPORT int nsgsim_eval_engine(const nsgsim_policy *p, const nsgsim_flow *flow, int engine,
                                     nsgsim_result *out, nsgsim_error *err)
{
	int rc = check_call(p, flow, out, engine, err);
	if (rc != 0)
		return rc;
	ns_flowv f;
	ns_flow_prepare(p, flow, flow->src_port, engine, &f);
	const ns_eprec *src, *dst;
	if ((rc = ns_resolve_endpoints(p, &f, &src, &dst, err)) != 0)
		return rc;
	memset(out, 0, sizeof *out);
	ns_outcome o;
	if (portless(flow->protocol) || flow->src_port != NSGSIM_PORT_ANY) {
		eval_once(p, &f, src, dst, engine, &o, out);
		out->src_port = flow->src_port;
	} else {
		out->src_port = ns_eval_flow(p, flow, &f, src, dst, engine, &o);
		/* Again at the port reported, for the per-layer trace. */
		ns_outcome again;
		eval_once(p, &f, src, dst, engine, &again, out);
	}
	out->src_modelled = src->ep != NULL;
	out->dst_modelled = dst->ep != NULL;
	fill_result(out, &o);
	return 0;
}

NSGSIM_EXPORT int nsgsim_eval(const nsgsim_policy *p, const nsgsim_flow *flow, nsgsim_result *out,
                              nsgsim_error *err)
{
	return nsgsim_eval_engine(p, flow, NSGSIM_ENGINE_COMPILED, out, err);
}

/* ---- source-port ranges ------------------------------------------------------------- */

static nsgsim_port_outcome port_outcome(int lo, int hi, const ns_outcome *o)
{
	nsgsim_port_outcome r = {lo, hi, o->verdict, o->layer, o->endpoint, {0}};
	ns_rule_ref(o->rule, &r.decided_rule);
	return r;
}

NSGSIM_EXPORT int nsgsim_eval_source_ports(const nsgsim_policy *p, const nsgsim_flow *flow,
                                           nsgsim_port_outcome *out, size_t cap, size_t *n,
                                           nsgsim_error *err)
{
	int engine = NSGSIM_ENGINE_COMPILED;
	int rc = ns_check_flow(p, flow, flow, err);
	if (rc != 0)
		return rc;
	if (!n || (cap && !out))
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "", "n and out are required");
	ns_flowv f;
	ns_flow_prepare(p, flow, 0, engine, &f);
	const ns_eprec *src, *dst;
	if ((rc = ns_resolve_endpoints(p, &f, &src, &dst, err)) != 0)
		return rc;
	nsgsim_port_outcome last = {0};
	ns_outcome cur;
	*n = 0;
	int end = portless(flow->protocol) ? 0 : 65535;
	for (int port = 0; port <= end; port = next_src_boundary(src, dst, port, engine)) {
		if (!portless(flow->protocol))
			flow_set_sport(p, &f, port);
		eval_once(p, &f, src, dst, engine, &cur, NULL);
		int next = port == end ? end + 1 : next_src_boundary(src, dst, port, engine);
		int hi = next > end ? end : next - 1;
		const char *id = cur.rule ? cur.rule->r->id : NULL;
		bool same = *n > 0 && last.verdict == cur.verdict &&
		            last.decided_layer == cur.layer &&
		            last.decided_endpoint == cur.endpoint && last.decided_rule.id == id;
		if (same) {
			last.hi = hi;
			if (*n <= cap)
				out[*n - 1] = last;
			continue;
		}
		last = port_outcome(port, hi, &cur);
		if (*n < cap)
			out[*n] = last;
		(*n)++;
		if (port == end)
			break;
	}
	return 0;
}

/* ---- one side at a named NIC (IP flow verify) ---------------------------------------- */

/* IP flow verify evaluates a NIC's own traffic: the address on the NIC's
 * side (the destination inbound, the source outbound) must be one of its
 * ipConfigurations' -- a typo would otherwise get the NIC's answer.  A NIC
 * with no known address (a dynamic one not yet assigned) takes any. */
static int check_nic_address(const ns_cnic *cn, const ns_flowv *f, int way, nsgsim_error *err)
{
	ns_u128 mine = way == NS_WAY_IN ? f->dst : f->src;
	bool known = false;
	char list[256] = "";
	size_t used = 0;
	for (size_t i = 0; i < cn->n->n_ipconfigs; i++) {
		const ns_ipconfig *ipc = &cn->n->ipconfigs[i];
		if (!ipc->has_ip)
			continue;
		if (ipc->family == f->family && ipc->ip == mine)
			return 0;
		known = true;
		if (used < sizeof list)
			used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
			                         used ? ", " : "",
			                         ipc->ip_text ? ipc->ip_text : "?");
	}
	if (!known)
		return 0;
	return ns_fail(err, NSGSIM_E_BAD_FLOW, "", "", cn->n->id,
	               "the %s address is not one of NIC %s's (%s): --at evaluates the NIC's "
	               "own traffic, so the %s must be its address",
	               way == NS_WAY_IN ? "destination" : "source", cn->n->name, list,
	               way == NS_WAY_IN ? "destination of an inbound flow"
	                                : "source of an outbound flow");
}

NSGSIM_EXPORT int nsgsim_eval_at_engine(const nsgsim_policy *p, const nsgsim_flow *flow,
                                        const char *nic, int direction, int engine,
                                        nsgsim_result *out, nsgsim_error *err)
{
	int rc = check_call(p, flow, out, engine, err);
	if (rc != 0)
		return rc;
	if (direction != NSGSIM_INBOUND && direction != NSGSIM_OUTBOUND)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "",
		               "direction must be NSGSIM_INBOUND or NSGSIM_OUTBOUND");
	const ns_cnic *cn = ns_find_nic(p, nic, err);
	if (!cn)
		return err ? err->code : NSGSIM_E_NOT_FOUND;
	if (!cn->subnet)
		return ns_fail(err, NSGSIM_E_NOT_MODELLED, "", "", cn->n->id,
		               "the NIC has no subnet in the input");
	if (flow->src_port == NSGSIM_PORT_ANY && !portless(flow->protocol))
		return ns_fail(err, NSGSIM_E_BAD_FLOW, "", "", "",
		               "a one-sided evaluation needs a source port");
	ns_flowv f;
	ns_flow_prepare(p, flow, flow->src_port, engine, &f);
	const ns_endpoint *ep = &cn->eps[0]; /* the NIC in its primary subnet */
	int way = direction == NSGSIM_INBOUND ? NS_WAY_IN : NS_WAY_OUT;
	if ((rc = check_nic_address(cn, &f, way, err)) != 0 ||
	    (rc = ns_check_focus(ep, "NIC", err)) != 0)
		return rc;
	int endpoint = way == NS_WAY_IN ? NSGSIM_ENDPOINT_DESTINATION : NSGSIM_ENDPOINT_SOURCE;
	memset(out, 0, sizeof *out);
	out->src_port = flow->src_port;
	out->n_sides = 1;
	out->one_sided = 1;
	out->src_modelled = endpoint == NSGSIM_ENDPOINT_SOURCE;
	out->dst_modelled = endpoint == NSGSIM_ENDPOINT_DESTINATION;
	ns_walk_log log = {&out->sides[0], NULL};
	ns_trace_side(log.trace, ep, way, endpoint);
	ns_decision d;
	ns_outcome o;
	memset(&o, 0, sizeof o);
	if (engine == NSGSIM_ENGINE_LINEAR)
		o.verdict = ns_walk_side(p, &f, ep, way, NS_MATCH_LINEAR, &log, &d, &o.assumptions,
		                         NULL);
	else
		o.verdict = ns_walk_side(p, &f, ep, way, NS_MATCH_COMPILED, &log, &d,
		                         &o.assumptions, NULL);
	ns_outcome_decide(&o, &d, endpoint);
	if (o.layer == NSGSIM_LAYER_NONE)
		o.endpoint = NSGSIM_ENDPOINT_NONE;
	fill_result(out, &o);
	return 0;
}

NSGSIM_EXPORT int nsgsim_eval_at(const nsgsim_policy *p, const nsgsim_flow *flow, const char *nic,
                                 int direction, nsgsim_result *out, nsgsim_error *err)
{
	return nsgsim_eval_at_engine(p, flow, nic, direction, NSGSIM_ENGINE_COMPILED, out, err);
}

/* ---- where an address is evaluated ------------------------------------------------- */

NSGSIM_EXPORT int nsgsim_locate(const nsgsim_policy *p, const nsgsim_ip *ip, nsgsim_location *out)
{
	if (!p || !ip || !out || (ip->family != 4 && ip->family != 6))
		return NSGSIM_E_INVALID_ARG;
	memset(out, 0, sizeof *out);
	const ns_eprec *rec = ns_endpoint_of(p, ip->family, ns_ip_value(ip));
	out->ambiguous = rec->ambiguous;
	if (!rec->ep)
		return 0;
	if (rec->ep->nic) {
		out->nic = rec->ep->nic->n->id;
		out->nic_name = rec->ep->nic->n->name;
	}
	if (rec->ep->subnet) {
		out->subnet = rec->ep->subnet->s->id;
		out->subnet_name = rec->ep->subnet->s->name;
	}
	return 0;
}

NSGSIM_EXPORT const char *nsgsim_nic_by_mac(const nsgsim_policy *p, const char *mac)
{
	if (!p || !mac)
		return NULL;
	char want[13];
	size_t k = 0;
	for (const char *c = mac; *c; c++)
		if (*c != '-' && *c != ':') {
			if (k == 12)
				return NULL; /* longer than a MAC */
			want[k++] = (char)(*c >= 'a' && *c <= 'f' ? *c - 'a' + 'A' : *c);
		}
	want[k] = '\0';
	for (size_t i = 0; k == 12 && i < p->n_nics; i++)
		if (p->nics[i].n->mac && strcmp(p->nics[i].n->mac, want) == 0)
			return p->nics[i].n->id;
	return NULL;
}
