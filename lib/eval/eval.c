/* Evaluation: the reference (linear) evaluator, and the same walk over the
 * compiled classifiers of lib/classify.c.
 *
 * At one endpoint, for one direction (SEMANTICS.md §0; network-security-
 * group-how-it-works.md; concept-security-admins.md):
 *
 *   Inbound:  [admin rules of the VNet, one level per manager]
 *             -> [NSG of the subnet] -> [NSG of the NIC]
 *   Outbound: [admin rules] -> [NSG of the NIC] -> [NSG of the subnet]
 *
 * Within a layer the first matching rule by ascending priority decides.
 * An admin Deny ends with Deny, AlwaysAllow ends with Allow and skips both
 * NSGs, Allow (or no match) falls through.  A layer without an NSG allows;
 * both NSGs must allow.  End to end, the source endpoint is evaluated
 * Outbound and then the destination Inbound, and both must allow.
 *
 * The engines differ only in how a chain's first match and a flow's
 * endpoints are found: NSGSIM_ENGINE_LINEAR scans every rule (the reference,
 * which tests and fuzzers compare against), NSGSIM_ENGINE_COMPILED looks the
 * flow up in the chain's classifier.  Everything else -- the layer walk, the
 * trace, the assumptions -- is the one code path below.
 *
 * Nothing here allocates: the result is caller-owned and every string in it
 * points into the policy. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "compile/classify.h"

typedef struct ns_endpoint {
	const ns_cnic *nic;
	const ns_csubnet *subnet;
	bool ambiguous;
} ns_endpoint;

static bool portless(int proto)
{
	return proto != NS_PROTO_TCP && proto != NS_PROTO_UDP;
}

static bool in_set(const ns_pset *s, int family, ns_u128 a)
{
	return family == 4 ? ns_pset_contains4(s, (uint32_t)a) : ns_pset_contains6(s, a);
}

/* ---- endpoints ------------------------------------------------------------ */

/* The NIC whose ipConfiguration holds the address, else the subnet whose
 * prefix holds it (SEMANTICS.md §0; issue "evaluate end to end"). */
static bool find_endpoint(const nsgsim_policy *p, int family, ns_u128 ip, ns_endpoint *ep)
{
	memset(ep, 0, sizeof *ep);
	size_t lo = 0, hi = p->n_endpoints;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const ns_endpoint_ip *e = &p->endpoints[mid];
		if (e->family < family || (e->family == family && e->ip < ip))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < p->n_endpoints && p->endpoints[lo].family == family && p->endpoints[lo].ip == ip) {
		const ns_endpoint_ip *e = &p->endpoints[lo];
		ep->nic = e->nic;
		ep->subnet = e->subnet;
		ep->ambiguous = lo + 1 < p->n_endpoints && p->endpoints[lo + 1].family == family &&
		                p->endpoints[lo + 1].ip == ip && p->endpoints[lo + 1].nic != e->nic;
		return ep->subnet != NULL;
	}
	for (size_t i = 0; i < p->n_subnets; i++) {
		if (!in_set(&p->subnets[i].prefixes, family, ip))
			continue;
		if (ep->subnet) {
			ep->ambiguous = true;
			break;
		}
		ep->subnet = &p->subnets[i];
	}
	return ep->subnet != NULL;
}

/* ---- one rule ------------------------------------------------------------------ */

typedef struct ns_match {
	bool proto, src, sport, dst, dport;
} ns_match;

static bool ports_match(const ns_cside *s, int port)
{
	if (s->n_ports == 0)
		return true;
	if (port < 0)
		return false; /* SEMANTICS.md §11.5: only an any-port clause */
	for (size_t i = 0; i < s->n_ports; i++)
		if (port >= s->ports[i].lo && port <= s->ports[i].hi)
			return true;
	return false;
}

static bool addr_match(const ns_cside *s, const ns_csubnet *ctx, int family, ns_u128 a)
{
	const ns_pset *set = ns_side_set(s, ctx);
	return !set || in_set(set, family, a);
}

/* "'*' ... encompasses TCP, UDP, and ICMP" (network-security-groups-
 * overview.md); ESP and AH too by SEMANTICS.md §11 decision 4. */
static bool proto_match(int rule_proto, int flow_proto)
{
	return rule_proto == NS_PROTO_ANY || rule_proto == flow_proto;
}

static ns_match match_rule(const ns_crule *r, const ns_flowv *f, const ns_csubnet *ctx)
{
	ns_match m;
	m.proto = proto_match(r->protocol, f->proto);
	m.src = addr_match(&r->src, ctx, f->family, f->src);
	m.dst = addr_match(&r->dst, ctx, f->family, f->dst);
	m.sport = ports_match(&r->src, f->sport);
	m.dport = ports_match(&r->dst, f->dport);
	return m;
}

static bool all_match(ns_match m)
{
	return m.proto && m.src && m.dst && m.sport && m.dport;
}

/* Whether an address is in the subnet's VirtualNetwork set only through a
 * route prefix (SEMANTICS.md §11, computed tags). */
bool ns_via_route(const ns_csubnet *ctx, int family, ns_u128 a)
{
	if (!in_set(&ctx->vnet_tag, family, a) || in_set(&ctx->vnet->peered, family, a))
		return false;
	return !(family == 4 && a == 0xA83F8110u); /* 168.63.129.16 */
}

/* Private and special IPv4 ranges that are outside Internet both in
 * nsgsim's default and in Azure's own expansion (SEMANTICS.md §4.2): for
 * these the Internet tag's exact contents cannot change an answer. */
bool ns_surely_not_internet(int family, ns_u128 a)
{
	if (family != 4)
		return false;
	uint32_t x = (uint32_t)a;
	switch (x >> 24) {
	case 0:   /* 0.0.0.0/8 */
	case 10:  /* 10.0.0.0/8 */
	case 127: /* 127.0.0.0/8 */
		return true;
	case 100: /* 100.64.0.0/10 */
		return (x & 0xFFC00000u) == 0x64400000u;
	case 169: /* 169.254.0.0/16 */
		return (x & 0xFFFF0000u) == 0xA9FE0000u;
	case 172: /* 172.16.0.0/12 */
		return (x & 0xFFF00000u) == 0xAC100000u;
	case 192: /* 192.168.0.0/16 */
		return (x & 0xFFFF0000u) == 0xC0A80000u;
	default: /* 224.0.0.0/3 */
		return (x >> 24) >= 224;
	}
}

static unsigned side_assumptions(const nsgsim_policy *p, const ns_cside *s, const ns_csubnet *ctx,
                                 int family, ns_u128 a)
{
	unsigned bits = 0;
	if (s->tag && s->set == &p->internet && !p->internet_overridden &&
	    !ns_surely_not_internet(family, a))
		bits |= NSGSIM_ASSUME_INTERNET_TAG;
	if (s->vnet_tag && ns_via_route(ctx, family, a))
		bits |= NSGSIM_ASSUME_VNET_TAG_ROUTES;
	return bits;
}

/* The assumptions a tested rule's outcome rested on. */
static unsigned rule_assumptions(const nsgsim_policy *p, const ns_crule *r, const ns_flowv *f,
                                 const ns_csubnet *ctx, ns_match m)
{
	if (!m.proto)
		return 0;
	unsigned bits = side_assumptions(p, &r->src, ctx, f->family, f->src) |
	                side_assumptions(p, &r->dst, ctx, f->family, f->dst);
	if (f->sport < 0 && m.src && m.dst && (!m.sport || !m.dport))
		bits |= NSGSIM_ASSUME_PORTLESS_PROTOCOL;
	if (all_match(m) && r->protocol == NS_PROTO_ANY &&
	    (f->proto == NS_PROTO_ESP || f->proto == NS_PROTO_AH))
		bits |= NSGSIM_ASSUME_ANY_PROTOCOL;
	return bits;
}

static const ns_crule *first_match(const nsgsim_policy *p, const ns_chain *ch, const ns_flowv *f,
                                   const ns_csubnet *ctx, unsigned *assume)
{
	for (size_t i = 0; i < ch->n; i++) {
		const ns_crule *r = &ch->rules[i];
		ns_match m = match_rule(r, f, ctx);
		*assume |= rule_assumptions(p, r, f, ctx, m);
		if (all_match(m))
			return r;
	}
	return NULL;
}

size_t ns_linear_first(const nsgsim_policy *p, const ns_chain *ch, const ns_flowv *f,
                       const ns_csubnet *ctx, unsigned *assume)
{
	const ns_crule *r = first_match(p, ch, f, ctx, assume);
	return r ? (size_t)(r - ch->rules) : ch->n;
}

/* The first match of a chain with the chosen engine. */
static const ns_crule *match_chain(const nsgsim_policy *p, const ns_chain *ch, const ns_flowv *f,
                                   const ns_csubnet *ctx, unsigned *assume, int engine)
{
	if (engine == NSGSIM_ENGINE_COMPILED && ch->cls) {
		uint32_t i = ns_cls_first(p, ch->cls, ch->rules, f, ctx, assume);
		return i < ch->n ? &ch->rules[i] : NULL;
	}
	return first_match(p, ch, f, ctx, assume);
}

static bool endpoint_of_record(const ns_eprec *r, ns_endpoint *ep)
{
	ep->nic = r->nic;
	ep->subnet = r->subnet;
	ep->ambiguous = r->ambiguous;
	return ep->subnet != NULL;
}

static bool find_endpoint_engine(const nsgsim_policy *p, int family, ns_u128 ip, int engine,
                                 ns_endpoint *ep)
{
	if (engine != NSGSIM_ENGINE_COMPILED || !p->cls)
		return find_endpoint(p, family, ip, ep);
	return endpoint_of_record(ns_cls_endpoint(p->cls, family, ip), ep);
}

/* ---- one side ---------------------------------------------------------------------- */

static void rule_ref(const ns_crule *r, nsgsim_rule_ref *out)
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

static nsgsim_layer_result *push_layer(nsgsim_side_result *s, int layer, const char *resource,
                                       const char *applied_to, const ns_crule *r)
{
	nsgsim_layer_result *l = &s->layers[s->n_layers++];
	l->layer = layer;
	l->resource = resource;
	l->applied_to = applied_to;
	l->matched = r != NULL;
	rule_ref(r, &l->rule);
	return l;
}

static unsigned admin_assumptions(const ns_csubnet *cs, const ns_admin_level *lvl,
                                  const ns_crule *r)
{
	unsigned bits = NSGSIM_ASSUME_ADMIN_DEPLOYED;
	if (cs->n_levels > 1)
		bits |= NSGSIM_ASSUME_MANAGER_LEVELS;
	if (lvl->mgr->n_scope_mgmt_groups > 0)
		bits |= NSGSIM_ASSUME_MGMT_GROUP_SCOPE;
	if (r->tie)
		bits |= NSGSIM_ASSUME_ADMIN_PRIORITY_TIE;
	if ((r->r->src.form == NS_FORM_ITEMS && r->r->src.n_addrs == 0) ||
	    (r->r->dst.form == NS_FORM_ITEMS && r->r->dst.n_addrs == 0) || r->r->src.n_ports == 0 ||
	    r->r->dst.n_ports == 0)
		bits |= NSGSIM_ASSUME_EMPTY_ADMIN_LIST;
	if (r->access == NS_ACCESS_ALWAYS_ALLOW && cs->vnet->intent_service &&
	    cs->intent_setting == NS_INTENT_ALLOW_RULES_ONLY)
		bits |= NSGSIM_ASSUME_ALWAYS_ALLOW_INTENT;
	return bits;
}

/* What decided a side: the layer, the rule and the resource. */
typedef struct ns_decision {
	int layer;
	const ns_crule *rule;
	const char *resource;
} ns_decision;

/* Walks one side's layers and returns its verdict; fills the trace *out
 * when it is not NULL (the batch path does without). */
static int eval_side(const nsgsim_policy *p, const ns_flowv *f, const ns_endpoint *ep, int dir,
                     int endpoint, int engine, nsgsim_side_result *out, ns_decision *dec,
                     unsigned *assume)
{
	const ns_csubnet *cs = ep->subnet;
	memset(dec, 0, sizeof *dec);
	if (out) {
		memset(out, 0, sizeof *out);
		out->endpoint = endpoint;
		out->direction = dir == NS_DIR_INBOUND ? NSGSIM_INBOUND : NSGSIM_OUTBOUND;
		out->nic = ep->nic ? ep->nic->n->id : NULL;
		out->subnet = cs->s->id;
		out->vnet = cs->vnet->v->id;
		out->admin_skipped = cs->admin_skip_reason;
		out->verdict = NSGSIM_ALLOW;
	}
	if (cs->admin_exempt_service &&
	    strcmp(cs->admin_exempt_service, "Application Gateway") == 0)
		*assume |= NSGSIM_ASSUME_APP_GATEWAY_NOT_ISOLATED;
	/* Admin rules first: "Security admin rules have a higher priority than
	 * NSGs and are evaluated before NSG rules." (concept-security-admins.md) */
	int n_layers = 0;
	for (size_t i = 0; i < cs->n_levels && n_layers < NSGSIM_MAX_LAYERS - 2; i++) {
		const ns_admin_level *lvl = &cs->levels[i];
		const ns_chain *ch = dir == NS_DIR_INBOUND ? &lvl->in : &lvl->out;
		const ns_crule *r = match_chain(p, ch, f, cs, assume, engine);
		n_layers++;
		if (out)
			push_layer(out, NSGSIM_LAYER_ADMIN, lvl->mgr->id, cs->vnet->v->id, r);
		if (!r)
			continue;
		*assume |= admin_assumptions(cs, lvl, r);
		*dec = (ns_decision){NSGSIM_LAYER_ADMIN, r, lvl->mgr->id};
		/* "If you create an Always Allow or Deny rule, traffic evaluation
		 * terminates after the security admin rule is evaluated." */
		if (r->access == NS_ACCESS_DENY) {
			if (out)
				out->verdict = NSGSIM_DENY;
			return NSGSIM_DENY;
		}
		if (r->access == NS_ACCESS_ALWAYS_ALLOW)
			return NSGSIM_ALLOW;
	}
	/* "Inbound: subnet NSG then NIC NSG; outbound: NIC NSG then subnet NSG"
	 * (network-security-group-how-it-works.md). */
	const ns_cnsg *nic_nsg = ep->nic ? ep->nic->nsg : NULL;
	const ns_cnsg *order[2] = {cs->nsg, nic_nsg};
	int layers[2] = {NSGSIM_LAYER_SUBNET_NSG, NSGSIM_LAYER_NIC_NSG};
	const char *applied[2] = {cs->s->id, ep->nic ? ep->nic->n->id : NULL};
	for (int k = 0; k < 2; k++) {
		int j = dir == NS_DIR_INBOUND ? k : 1 - k;
		const ns_cnsg *g = order[j];
		if (!g) /* "A layer with no NSG allows everything" */
			continue;
		const ns_crule *r = match_chain(p, dir == NS_DIR_INBOUND ? &g->in : &g->out, f, cs,
		                                assume, engine);
		if (out)
			push_layer(out, layers[j], g->g->id, applied[j], r);
		if (!r)
			continue;
		*dec = (ns_decision){layers[j], r, g->g->id};
		if (r->access == NS_ACCESS_DENY) {
			if (out)
				out->verdict = NSGSIM_DENY;
			return NSGSIM_DENY;
		}
	}
	return NSGSIM_ALLOW;
}

/* ---- end to end ------------------------------------------------------------------- */

/* An address as a number: big-endian bytes, read 4 or 8 at a time. */
static inline uint64_t be64(const uint8_t *b)
{
	uint64_t x;
	memcpy(&x, b, sizeof x);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	x = __builtin_bswap64(x); /* one instruction: every flow reads two */
#endif
	return x;
}

static inline uint32_t be32(const uint8_t *b)
{
	uint32_t x;
	memcpy(&x, b, sizeof x);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	x = __builtin_bswap32(x);
#endif
	return x;
}

static inline ns_u128 ip_value(const nsgsim_ip *ip)
{
	if (ip->family == 4)
		return be32(ip->bytes);
	return ((ns_u128)be64(ip->bytes) << 64) | be64(ip->bytes + 8);
}

static int slot_of(int proto)
{
	switch (proto) {
	case NS_PROTO_TCP:
		return NS_PSLOT_TCP;
	case NS_PROTO_UDP:
		return NS_PSLOT_UDP;
	case NS_PROTO_ICMP:
		return NS_PSLOT_ICMP;
	case NS_PROTO_ESP:
		return NS_PSLOT_ESP;
	default:
		return NS_PSLOT_AH;
	}
}

void ns_flowv_of(const nsgsim_flow *flow, int sport, ns_flowv *f)
{
	f->proto = flow->protocol;
	f->family = flow->src.family;
	f->src = ip_value(&flow->src);
	f->dst = ip_value(&flow->dst);
	bool no_ports = portless(flow->protocol);
	f->sport = no_ports ? -1 : sport;
	f->dport = no_ports ? -1 : flow->dst_port;
	f->slot = slot_of(flow->protocol);
	f->sni[0] = ns_surely_not_internet(f->family, f->src);
	f->sni[1] = ns_surely_not_internet(f->family, f->dst);
	f->global = false;
}

/* The flow as the chosen engine sees it: with its policy-wide classes for
 * the compiled one. */
static void flow_prepare(const nsgsim_policy *p, const nsgsim_flow *flow, int sport, int engine,
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

/* The end-to-end answer without the per-layer trace. */
typedef struct ns_outcome {
	int verdict, layer, endpoint;
	const ns_crule *rule;
	const char *resource;
	unsigned assumptions;
} ns_outcome;

static void decide(ns_outcome *o, const ns_decision *d, int endpoint)
{
	o->layer = d->rule ? d->layer : NSGSIM_LAYER_NONE;
	o->endpoint = endpoint;
	o->resource = d->rule ? d->resource : NULL;
	o->rule = d->rule;
}

/* One evaluation at one source port; the sides' trace goes to full when it
 * is not NULL. */
static void eval_once(const nsgsim_policy *p, const ns_flowv *f, const ns_endpoint *src,
                      const ns_endpoint *dst, int engine, ns_outcome *o, nsgsim_result *full)
{
	ns_decision d;
	memset(o, 0, sizeof *o);
	o->verdict = NSGSIM_ALLOW;
	if (src->subnet) {
		nsgsim_side_result *s = full ? &full->sides[full->n_sides++] : NULL;
		int v = eval_side(p, f, src, NS_DIR_OUTBOUND, NSGSIM_ENDPOINT_SOURCE, engine, s, &d,
		                  &o->assumptions);
		decide(o, &d, NSGSIM_ENDPOINT_SOURCE);
		if (v == NSGSIM_DENY) {
			o->verdict = NSGSIM_DENY;
			return;
		}
	}
	if (dst->subnet) {
		nsgsim_side_result *s = full ? &full->sides[full->n_sides++] : NULL;
		o->verdict = eval_side(p, f, dst, NS_DIR_INBOUND, NSGSIM_ENDPOINT_DESTINATION,
		                       engine, s, &d, &o->assumptions);
		decide(o, &d, NSGSIM_ENDPOINT_DESTINATION);
	}
	if (src->ambiguous || dst->ambiguous)
		o->assumptions |= NSGSIM_ASSUME_AMBIGUOUS_ENDPOINT;
	if (o->layer == NSGSIM_LAYER_NONE)
		o->endpoint = NSGSIM_ENDPOINT_NONE;
}

static int check_flow(const nsgsim_policy *p, const nsgsim_flow *flow, const void *out,
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

static int check_engine(int engine, nsgsim_error *err)
{
	if (engine == NSGSIM_ENGINE_LINEAR || engine == NSGSIM_ENGINE_COMPILED)
		return 0;
	return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "",
	               "engine must be NSGSIM_ENGINE_LINEAR or NSGSIM_ENGINE_COMPILED");
}

/* The smallest source-port boundary above port among the rules that can
 * see this flow: where the outcome may change. */
static int next_src_boundary_chain(const ns_chain *ch, int port, int best, int engine)
{
	if (engine == NSGSIM_ENGINE_COMPILED && ch->cls)
		return ns_cls_next_sport(ch->cls, port, best);
	for (size_t i = 0; i < ch->n; i++) {
		const ns_cside *s = &ch->rules[i].src;
		for (size_t k = 0; k < s->n_ports; k++) {
			int lo = s->ports[k].lo, hi1 = s->ports[k].hi + 1;
			if (lo > port && lo < best)
				best = lo;
			if (hi1 > port && hi1 < best)
				best = hi1;
		}
	}
	return best;
}

static int next_src_boundary(const ns_endpoint *eps[2], int port, int engine)
{
	int best = 65536;
	for (int e = 0; e < 2; e++) {
		const ns_csubnet *cs = eps[e]->subnet;
		if (!cs)
			continue;
		for (size_t i = 0; i < cs->n_levels; i++) {
			best = next_src_boundary_chain(&cs->levels[i].in, port, best, engine);
			best = next_src_boundary_chain(&cs->levels[i].out, port, best, engine);
		}
		const ns_cnsg *gs[2] = {cs->nsg, eps[e]->nic ? eps[e]->nic->nsg : NULL};
		for (int g = 0; g < 2; g++) {
			if (!gs[g])
				continue;
			best = next_src_boundary_chain(&gs[g]->in, port, best, engine);
			best = next_src_boundary_chain(&gs[g]->out, port, best, engine);
		}
	}
	return best;
}

static bool same_outcome(const ns_outcome *a, const ns_outcome *b)
{
	const char *ida = a->rule ? a->rule->r->id : NULL, *idb = b->rule ? b->rule->r->id : NULL;
	return a->verdict == b->verdict && a->layer == b->layer && a->endpoint == b->endpoint &&
	       ida == idb;
}

static int resolve_endpoints(const nsgsim_policy *p, const ns_flowv *f, int engine,
                             ns_endpoint *src, ns_endpoint *dst, nsgsim_error *err)
{
	bool s, d;
	if (f->global) { /* the policy-wide classes hold the endpoint records */
		s = endpoint_of_record(&p->cls->recs[f->ep[0]], src);
		d = endpoint_of_record(&p->cls->recs[f->ep[1]], dst);
	} else {
		s = find_endpoint_engine(p, f->family, f->src, engine, src);
		d = find_endpoint_engine(p, f->family, f->dst, engine, dst);
	}
	if (!s && !d)
		return ns_fail(err, NSGSIM_E_NOT_MODELLED, "", "", "",
		               "neither the source nor the destination address belongs to a NIC or "
		               "subnet in the input; check the addresses");
	return 0;
}

/* A flow end to end, every source port when it has none: the outcome, the
 * source port it is for (*at) and the one to report (the return value:
 * NSGSIM_PORT_ANY when every port agreed). */
static int eval_flow(const nsgsim_policy *p, const nsgsim_flow *flow, ns_flowv *f,
                     const ns_endpoint *src, const ns_endpoint *dst, int engine, ns_outcome *o,
                     int *at)
{
	*at = f->sport;
	if (portless(flow->protocol) || flow->src_port != NSGSIM_PORT_ANY) {
		eval_once(p, f, src, dst, engine, o, NULL);
		return flow->src_port;
	}
	/* Every source port: one evaluation per range between rule boundaries.
	 * The result reported is the first denied range, if any. */
	const ns_endpoint *eps[2] = {src, dst};
	ns_outcome cur;
	bool uniform = true;
	*at = 0;
	for (int port = 0; port <= 65535; port = next_src_boundary(eps, port, engine)) {
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
			*at = port;
		} else {
			o->assumptions |= cur.assumptions;
		}
	}
	flow_set_sport(p, f, *at);
	if (uniform)
		return NSGSIM_PORT_ANY;
	o->assumptions |= NSGSIM_ASSUME_SOURCE_PORTS_DIFFER;
	return *at;
}

static void fill_result(nsgsim_result *out, const ns_outcome *o)
{
	out->verdict = o->verdict;
	out->decided_layer = o->layer;
	out->decided_endpoint = o->endpoint;
	out->decided_resource = o->resource;
	rule_ref(o->rule, &out->decided_rule);
	out->assumptions = o->assumptions;
}

NSGSIM_EXPORT int nsgsim_eval_engine(const nsgsim_policy *p, const nsgsim_flow *flow, int engine,
                                     nsgsim_result *out, nsgsim_error *err)
{
	int rc = check_flow(p, flow, out, err);
	if (rc == 0)
		rc = check_engine(engine, err);
	if (rc != 0)
		return rc;
	ns_flowv f;
	flow_prepare(p, flow, flow->src_port, engine, &f);
	ns_endpoint src, dst;
	if ((rc = resolve_endpoints(p, &f, engine, &src, &dst, err)) != 0)
		return rc;
	memset(out, 0, sizeof *out);
	ns_outcome o;
	int at;
	if (portless(flow->protocol) || flow->src_port != NSGSIM_PORT_ANY) {
		eval_once(p, &f, &src, &dst, engine, &o, out);
		out->src_port = flow->src_port;
	} else {
		out->src_port = eval_flow(p, flow, &f, &src, &dst, engine, &o, &at);
		/* Again at the port reported, for the per-layer trace. */
		ns_outcome again;
		eval_once(p, &f, &src, &dst, engine, &again, out);
	}
	out->src_modelled = src.subnet != NULL;
	out->dst_modelled = dst.subnet != NULL;
	fill_result(out, &o);
	return 0;
}

NSGSIM_EXPORT int nsgsim_eval(const nsgsim_policy *p, const nsgsim_flow *flow, nsgsim_result *out,
                              nsgsim_error *err)
{
	return nsgsim_eval_engine(p, flow, NSGSIM_ENGINE_COMPILED, out, err);
}

/* ---- batches ------------------------------------------------------------------------- */

static void decision_of(nsgsim_decision *d, const ns_outcome *o, int src_port)
{
	d->status = 0;
	d->verdict = o->verdict;
	d->decided_layer = o->layer;
	d->decided_endpoint = o->endpoint;
	rule_ref(o->rule, &d->decided_rule);
	d->decided_resource = o->resource;
	d->assumptions = o->assumptions;
	d->src_port = src_port;
}

static void decision_fail(nsgsim_decision *d, int status)
{
	memset(d, 0, sizeof *d);
	d->status = status;
}

static void eval_one_decision(const nsgsim_policy *p, const nsgsim_flow *flow, int engine,
                              nsgsim_decision *d)
{
	int rc = check_flow(p, flow, d, NULL);
	if (rc != 0) {
		decision_fail(d, rc);
		return;
	}
	ns_flowv f;
	flow_prepare(p, flow, flow->src_port, engine, &f);
	ns_endpoint src, dst;
	if ((rc = resolve_endpoints(p, &f, engine, &src, &dst, NULL)) != 0) {
		decision_fail(d, rc);
		return;
	}
	ns_outcome o;
	int at;
	int port = eval_flow(p, flow, &f, &src, &dst, engine, &o, &at);
	decision_of(d, &o, port);
}

/* ---- the batch's fast path -----------------------------------------------------------
 *
 * The common flow of a trace -- TCP or UDP with a source port, on a policy
 * with policy-wide classes that hold the VirtualNetwork sets -- walks the
 * same layers as eval_once/eval_side, but with each chain's match inline
 * (ns_cls_gfirst), no trace, and what a side fixes for all its chains
 * (ns_gside) computed once.  Measured under callgrind on the bench's hub
 * workload, the general path spent more instructions on the walk
 * (arguments, engine and trace tests, calls per chain) than on matching.
 * Every other flow takes eval_one_decision; both give the same answer
 * (tests/test_differential.c compares the batch with the linear engine). */

static const ns_crule *gmatch(const nsgsim_policy *p, const ns_chain *ch, ns_gside *sd,
                              unsigned *assume)
{
	if (!ch->cls) /* not built: the reference scan (never in practice) */
		return first_match(p, ch, sd->f, sd->ctx, assume);
	uint32_t i = ns_cls_gfirst(ch->cls, ch->rules, sd, assume);
	return i < ch->n ? &ch->rules[i] : NULL;
}

/* eval_side without the trace. */
static int gside_eval(const nsgsim_policy *p, const ns_flowv *f, const ns_endpoint *ep, int dir,
                      ns_decision *dec, unsigned *assume)
{
	const ns_csubnet *cs = ep->subnet;
	ns_gside sd;
	ns_gside_init(&sd, p, f, cs);
	dec->rule = NULL;
	if (cs->admin_exempt_service &&
	    strcmp(cs->admin_exempt_service, "Application Gateway") == 0)
		*assume |= NSGSIM_ASSUME_APP_GATEWAY_NOT_ISOLATED;
	size_t n_levels =
	        cs->n_levels < NSGSIM_MAX_LAYERS - 2 ? cs->n_levels : NSGSIM_MAX_LAYERS - 2;
	for (size_t i = 0; i < n_levels; i++) {
		const ns_admin_level *lvl = &cs->levels[i];
		const ns_crule *r =
		        gmatch(p, dir == NS_DIR_INBOUND ? &lvl->in : &lvl->out, &sd, assume);
		if (!r)
			continue;
		*assume |= admin_assumptions(cs, lvl, r);
		*dec = (ns_decision){NSGSIM_LAYER_ADMIN, r, lvl->mgr->id};
		if (r->access == NS_ACCESS_DENY)
			return NSGSIM_DENY;
		if (r->access == NS_ACCESS_ALWAYS_ALLOW)
			return NSGSIM_ALLOW;
	}
	const ns_cnsg *nic_nsg = ep->nic ? ep->nic->nsg : NULL;
	const ns_cnsg *first = dir == NS_DIR_INBOUND ? cs->nsg : nic_nsg;
	const ns_cnsg *second = dir == NS_DIR_INBOUND ? nic_nsg : cs->nsg;
	int l_first = dir == NS_DIR_INBOUND ? NSGSIM_LAYER_SUBNET_NSG : NSGSIM_LAYER_NIC_NSG;
	int l_second = dir == NS_DIR_INBOUND ? NSGSIM_LAYER_NIC_NSG : NSGSIM_LAYER_SUBNET_NSG;
	for (int k = 0; k < 2; k++) {
		const ns_cnsg *g = k ? second : first;
		if (!g)
			continue;
		const ns_crule *r =
		        gmatch(p, dir == NS_DIR_INBOUND ? &g->in : &g->out, &sd, assume);
		if (!r)
			continue;
		*dec = (ns_decision){k ? l_second : l_first, r, g->g->id};
		if (r->access == NS_ACCESS_DENY)
			return NSGSIM_DENY;
	}
	return NSGSIM_ALLOW;
}

/* eval_one_decision for a flow that can take the fast path; false (and
 * nothing written) when it cannot. */
static bool eval_fast(const nsgsim_policy *p, const nsgsim_flow *flow, nsgsim_decision *out)
{
	/* Every source port, and check_flow's errors, take the general path. */
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
	const ns_cls_store *st = p->cls;
	ns_endpoint src, dst;
	bool s = endpoint_of_record(&st->recs[f.ep[0]], &src);
	bool d = endpoint_of_record(&st->recs[f.ep[1]], &dst);
	if (!s && !d) {
		decision_fail(out, NSGSIM_E_NOT_MODELLED);
		return true;
	}
	/* As eval_once. */
	ns_decision dec;
	ns_outcome o;
	memset(&o, 0, sizeof o);
	o.verdict = NSGSIM_ALLOW;
	if (s) {
		int v = gside_eval(p, &f, &src, NS_DIR_OUTBOUND, &dec, &o.assumptions);
		decide(&o, &dec, NSGSIM_ENDPOINT_SOURCE);
		if (v == NSGSIM_DENY) {
			o.verdict = NSGSIM_DENY;
			goto done;
		}
	}
	if (d) {
		o.verdict = gside_eval(p, &f, &dst, NS_DIR_INBOUND, &dec, &o.assumptions);
		decide(&o, &dec, NSGSIM_ENDPOINT_DESTINATION);
	}
	if (src.ambiguous || dst.ambiguous)
		o.assumptions |= NSGSIM_ASSUME_AMBIGUOUS_ENDPOINT;
	if (o.layer == NSGSIM_LAYER_NONE)
		o.endpoint = NSGSIM_ENDPOINT_NONE;
done:
	decision_of(out, &o, flow->src_port);
	return true;
}

/* A batch evaluates its flows one after the other, each straight through
 * (eval_flow), and prefetches the first index entries of a flow a few
 * places ahead.  Measured on the bench environment, this beats walking a
 * group of flows in lockstep through their chains: the work per flow is
 * bound by instructions rather than by memory once the policy-wide classes
 * replace the per-chain searches, and interleaving flows only costs
 * bookkeeping and branch predictions. */
enum { BATCH_AHEAD = 4 };

static void eval_batch_compiled(const nsgsim_policy *p, const nsgsim_flow *flows, size_t n,
                                nsgsim_decision *out)
{
	bool fast = p->cls->global && p->cls->vset_of;
	for (size_t i = 0; i < n; i++) {
		if (i + BATCH_AHEAD < n) {
			const nsgsim_flow *a = &flows[i + BATCH_AHEAD];
			if ((a->src.family == 4 || a->src.family == 6) &&
			    a->src.family == a->dst.family)
				ns_cls_global_prefetch(p->cls, a->src.family, ip_value(&a->src),
				                       ip_value(&a->dst));
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
	int rc = check_engine(engine, err);
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

NSGSIM_EXPORT int nsgsim_eval_source_ports(const nsgsim_policy *p, const nsgsim_flow *flow,
                                           nsgsim_port_outcome *out, size_t cap, size_t *n,
                                           nsgsim_error *err)
{
	int engine = NSGSIM_ENGINE_COMPILED;
	int rc = check_flow(p, flow, flow, err);
	if (rc != 0)
		return rc;
	if (!n || (cap && !out))
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "", "n and out are required");
	ns_flowv f;
	flow_prepare(p, flow, 0, engine, &f);
	ns_endpoint src, dst;
	if ((rc = resolve_endpoints(p, &f, engine, &src, &dst, err)) != 0)
		return rc;
	const ns_endpoint *eps[2] = {&src, &dst};
	nsgsim_port_outcome last = {0};
	ns_outcome cur;
	*n = 0;
	int end = portless(flow->protocol) ? 0 : 65535;
	for (int port = 0; port <= end; port = next_src_boundary(eps, port, engine)) {
		if (!portless(flow->protocol))
			flow_set_sport(p, &f, port);
		eval_once(p, &f, &src, &dst, engine, &cur, NULL);
		int next = port == end ? end + 1 : next_src_boundary(eps, port, engine);
		const char *id = cur.rule ? cur.rule->r->id : NULL;
		bool same = *n > 0 && last.verdict == cur.verdict &&
		            last.decided_layer == cur.layer &&
		            last.decided_endpoint == cur.endpoint && last.decided_rule.id == id;
		if (same) {
			last.hi = (next > end ? end : next - 1);
			if (*n <= cap)
				out[*n - 1] = last;
			continue;
		}
		last = (nsgsim_port_outcome){port,         next > end ? end : next - 1,
		                             cur.verdict,  cur.layer,
		                             cur.endpoint, {0}};
		rule_ref(cur.rule, &last.decided_rule);
		if (*n < cap)
			out[*n] = last;
		(*n)++;
		if (port == end)
			break;
	}
	return 0;
}

/* ---- one side at a named NIC (IP flow verify) ---------------------------------------- */

NSGSIM_EXPORT int nsgsim_eval_at_engine(const nsgsim_policy *p, const nsgsim_flow *flow,
                                        const char *nic, int direction, int engine,
                                        nsgsim_result *out, nsgsim_error *err)
{
	int rc = check_flow(p, flow, out, err);
	if (rc == 0)
		rc = check_engine(engine, err);
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
	flow_prepare(p, flow, flow->src_port, engine, &f);
	ns_endpoint ep = {cn, cn->subnet, false};
	memset(out, 0, sizeof *out);
	out->src_port = flow->src_port;
	int dir = direction == NSGSIM_INBOUND ? NS_DIR_INBOUND : NS_DIR_OUTBOUND;
	int endpoint = dir == NS_DIR_INBOUND ? NSGSIM_ENDPOINT_DESTINATION : NSGSIM_ENDPOINT_SOURCE;
	ns_decision d;
	ns_outcome o;
	memset(&o, 0, sizeof o);
	out->n_sides = 1;
	out->one_sided = 1;
	out->src_modelled = endpoint == NSGSIM_ENDPOINT_SOURCE;
	out->dst_modelled = endpoint == NSGSIM_ENDPOINT_DESTINATION;
	o.verdict =
	        eval_side(p, &f, &ep, dir, endpoint, engine, &out->sides[0], &d, &o.assumptions);
	decide(&o, &d, endpoint);
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

/* ---- per-rule detail ------------------------------------------------------------------ */

static const char *matched_by(const nsgsim_policy *p, const ns_crule *r, bool source,
                              const ns_csubnet *ctx, int family, ns_u128 a)
{
	const ns_cside *cs = source ? &r->src : &r->dst;
	const ns_side *s = source ? &r->r->src : &r->r->dst;
	if (cs->any_addr)
		return "*";
	if (!addr_match(cs, ctx, family, a))
		return NULL;
	if (s->form == NS_FORM_ASGS) {
		for (size_t i = 0; i < s->n_asgs; i++) {
			const ns_casg *g = ns_map_get(&p->asg_by_id, s->asg_ids[i]);
			if (g && in_set(&g->members, family, a))
				return g->a->name;
		}
		return NULL;
	}
	if (cs->tag && s->n_addrs == 1)
		return cs->tag;
	for (size_t i = 0; i < s->n_addrs; i++) {
		const ns_addr *x = &s->addrs[i];
		if (x->kind == NS_ADDR_CIDR && x->family == family) {
			ns_u128 mask =
			        x->plen == 0 ? 0
			                     : ~(ns_u128)0 << ((family == 4 ? 32 : 128) - x->plen);
			if (family == 4)
				mask &= 0xFFFFFFFFu;
			if ((a & mask) == x->addr)
				return x->text;
		} else if (x->kind != NS_ADDR_CIDR) {
			return x->text; /* a tag or group inside a list */
		}
	}
	return NULL;
}

static const ns_chain *layer_chain(const nsgsim_policy *p, const nsgsim_side_result *s,
                                   const nsgsim_layer_result *l, const ns_csubnet **ctx)
{
	int dir = s->direction == NSGSIM_INBOUND ? NS_DIR_INBOUND : NS_DIR_OUTBOUND;
	*ctx = ns_map_get(&p->subnet_by_id, s->subnet);
	if (!*ctx)
		return NULL;
	const ns_cnsg *g = NULL;
	if (l->layer == NSGSIM_LAYER_ADMIN) {
		for (size_t i = 0; i < (*ctx)->n_levels; i++)
			if ((*ctx)->levels[i].mgr->id == l->resource)
				return dir == NS_DIR_INBOUND ? &(*ctx)->levels[i].in
				                             : &(*ctx)->levels[i].out;
		return NULL;
	}
	g = ns_map_get(&p->nsg_by_id, l->resource);
	return g ? (dir == NS_DIR_INBOUND ? &g->in : &g->out) : NULL;
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
	const nsgsim_side_result *s = &result->sides[side];
	const ns_csubnet *ctx;
	const ns_chain *ch = layer_chain(p, s, &s->layers[layer], &ctx);
	if (!ch)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "",
		               "the result does not belong to this policy");
	ns_flowv f;
	ns_flowv_of(flow, result->src_port == NSGSIM_PORT_ANY ? 0 : result->src_port, &f);
	*n = 0;
	for (size_t i = 0; i < ch->n; i++) {
		const ns_crule *r = &ch->rules[i];
		ns_match m = match_rule(r, &f, ctx);
		if (*n < cap) {
			nsgsim_rule_detail *d = &out[*n];
			rule_ref(r, &d->rule);
			d->protocol_matched = m.proto;
			d->source_matched = m.src;
			d->source_port_matched = m.sport;
			d->destination_matched = m.dst;
			d->destination_port_matched = m.dport;
			d->source_matched_by = matched_by(p, r, true, ctx, f.family, f.src);
			d->destination_matched_by = matched_by(p, r, false, ctx, f.family, f.dst);
		}
		(*n)++;
		if (all_match(m))
			break;
	}
	return 0;
}
