/* What the walker (eval/walk.h) calls out of line: the flow as the matchers
 * see it, its endpoints, and the recording of a walk's trace and per-rule
 * detail.
 *
 * May touch: lib/base, the compiled policy and the matchers (eval/match.h). */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "eval/walk.h"

/* ---- the flow ---------------------------------------------------------------------- */

void ns_flowv_of(const nsgsim_flow *flow, int sport, ns_flowv *f)
{
	f->proto = flow->protocol;
	f->family = flow->src.family;
	f->src = ns_ip_value(&flow->src);
	f->dst = ns_ip_value(&flow->dst);
	bool no_ports = flow->protocol != NS_PROTO_TCP && flow->protocol != NS_PROTO_UDP;
	f->sport = no_ports ? -1 : sport;
	f->dport = no_ports ? -1 : flow->dst_port;
	f->slot = ns_proto_slot(flow->protocol);
	f->sni[0] = ns_surely_not_internet(f->family, f->src);
	f->sni[1] = ns_surely_not_internet(f->family, f->dst);
	f->global = false;
}

/* ---- endpoints ---------------------------------------------------------------------- */

const ns_eprec *ns_endpoint_of(const nsgsim_policy *p, int family, ns_u128 a)
{
	uint32_t r = family == 4 ? ns_imap_get(&p->ep4, (uint32_t)a) : ns_imap6_get(&p->ep6, a);
	return &p->recs[r];
}

void ns_flow_endpoints(const nsgsim_policy *p, const ns_flowv *f, const ns_eprec **src,
                       const ns_eprec **dst)
{
	if (f->global) { /* the policy-wide classes hold the endpoint records */
		*src = &p->recs[f->ep[0]];
		*dst = &p->recs[f->ep[1]];
		return;
	}
	*src = ns_endpoint_of(p, f->family, f->src);
	*dst = ns_endpoint_of(p, f->family, f->dst);
}

/* ---- recording a walk ------------------------------------------------------------------ */

void ns_trace_side(nsgsim_side_result *s, const ns_endpoint *ep, int way, int endpoint)
{
	const ns_csubnet *cs = ep->subnet;
	memset(s, 0, sizeof *s);
	s->endpoint = endpoint;
	s->direction = way == NS_WAY_IN ? NSGSIM_INBOUND : NSGSIM_OUTBOUND;
	s->nic = ep->nic ? ep->nic->n->id : NULL;
	s->subnet = cs->s->id;
	s->vnet = cs->vnet->v->id;
	s->admin_skipped = cs->admin_skip_reason;
	s->verdict = NSGSIM_ALLOW;
}

void ns_rule_ref(const ns_crule *r, nsgsim_rule_ref *out)
{
	memset(out, 0, sizeof *out);
	if (!r)
		return;
	out->name = r->r->name;
	out->id = r->r->id;
	out->priority = r->priority;
	out->access = r->access;
	out->is_default = r->r->is_default;
}

static void push_layer(nsgsim_side_result *s, const ns_step *st, const ns_crule *r)
{
	nsgsim_layer_result *l = &s->layers[s->n_layers++];
	l->layer = st->layer;
	l->resource = st->resource;
	l->applied_to = st->applied_to;
	l->matched = r != NULL;
	ns_rule_ref(r, &l->rule);
	/* Which membership brought an admin level here (lib/compile/membership.c). */
	const ns_member *mb = r ? r->member : NULL;
	for (int w = 0; !mb && w < 2; w++)
		if (st->chain[w] && st->chain[w]->n > 0)
			mb = st->chain[w]->rules[0].member;
	if (mb) {
		l->member_group = mb->group_id;
		l->member_kind = mb->sm ? "static" : "policy";
		l->member_by = mb->sm ? mb->sm->id : mb->def->id;
		l->member_assignment = mb->asg ? mb->asg->id : NULL;
	}
}

void ns_walk_record(ns_walk_log *log, const nsgsim_policy *p, const ns_flowv *f,
                    const ns_endpoint *ep, const ns_step *s, int way, const ns_crule *r)
{
	(void)ep;
	(void)way;
	/* The platform layer shows only when it decides: it is no resource of
	 * the input, and a trace of every outbound flow would name it. */
	if (s->layer == NSGSIM_LAYER_PLATFORM && !r)
		return;
	if (log->trace)
		push_layer(log->trace, s, r);
	ns_walk_detail *d = log->detail;
	if (!d)
		return;
	/* Layer i of the trace: the i-th step recorded. */
	size_t i = (size_t)d->walked++;
	d->start[i] = d->rules->n;
	if (d->rc == 0)
		d->rc = ns_linear_detail(p, s->chain[way], f, ep->subnet, d->rules);
	d->start[i + 1] = d->rules->n;
}

/* ---- source ports ----------------------------------------------------------------------- */

int ns_walk_next_sport(const ns_endpoint *ep, int way, int port, int best, int mode)
{
	for (size_t i = 0; i < ep->n_steps[way]; i++) {
		const ns_chain *ch = ep->steps[way][i].chain[way];
		if (mode != NS_MATCH_LINEAR && ch->cls)
			best = ns_cls_next_sport(ch->cls, port, best);
		else
			best = ns_linear_next_sport(ch, port, best);
	}
	return best;
}
