/* Evaluation: the reference (linear) evaluator.
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
 * Nothing here allocates: the result is caller-owned and every string in it
 * points into the policy. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "policy.h"

void ns_ip_from_u128(nsgsim_ip *ip, int family, ns_u128 v);
ns_u128 ns_ip_to_u128(const nsgsim_ip *ip);

/* The flow as the matcher sees it. */
typedef struct ns_flowv {
	int proto;
	int family;
	ns_u128 src, dst;
	int sport, dport; /* -1 for protocols without ports */
} ns_flowv;

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
static bool via_route(const ns_csubnet *ctx, int family, ns_u128 a)
{
	if (!in_set(&ctx->vnet_tag, family, a) || in_set(&ctx->vnet->peered, family, a))
		return false;
	return !(family == 4 && a == 0xA83F8110u); /* 168.63.129.16 */
}

/* Private and special IPv4 ranges that are outside Internet both in
 * nsgsim's default and in Azure's own expansion (SEMANTICS.md §4.2): for
 * these the Internet tag's exact contents cannot change an answer. */
static bool surely_not_internet(int family, ns_u128 a)
{
	static const struct {
		uint32_t net, mask;
	} ranges[] = {{0x0A000000u, 0xFF000000u}, {0xAC100000u, 0xFFF00000u},
	              {0xC0A80000u, 0xFFFF0000u}, {0x64400000u, 0xFFC00000u},
	              {0x7F000000u, 0xFF000000u}, {0xA9FE0000u, 0xFFFF0000u},
	              {0xE0000000u, 0xE0000000u}, {0x00000000u, 0xFF000000u}};
	if (family != 4)
		return false;
	for (size_t i = 0; i < NS_ARRAY_LEN(ranges); i++)
		if (((uint32_t)a & ranges[i].mask) == ranges[i].net)
			return true;
	return false;
}

static unsigned side_assumptions(const nsgsim_policy *p, const ns_cside *s, const ns_csubnet *ctx,
                                 int family, ns_u128 a)
{
	unsigned bits = 0;
	if (s->tag && s->set == &p->internet && !p->internet_overridden &&
	    !surely_not_internet(family, a))
		bits |= NSGSIM_ASSUME_INTERNET_TAG;
	if (s->vnet_tag && via_route(ctx, family, a))
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

static void eval_side(const nsgsim_policy *p, const ns_flowv *f, const ns_endpoint *ep, int dir,
                      int endpoint, nsgsim_side_result *out, ns_decision *dec, unsigned *assume)
{
	const ns_csubnet *cs = ep->subnet;
	memset(out, 0, sizeof *out);
	memset(dec, 0, sizeof *dec);
	out->endpoint = endpoint;
	out->direction = dir == NS_DIR_INBOUND ? NSGSIM_INBOUND : NSGSIM_OUTBOUND;
	out->nic = ep->nic ? ep->nic->n->id : NULL;
	out->subnet = cs->s->id;
	out->vnet = cs->vnet->v->id;
	out->admin_skipped = cs->admin_skip_reason;
	out->verdict = NSGSIM_ALLOW;
	if (cs->admin_exempt_service &&
	    strcmp(cs->admin_exempt_service, "Application Gateway") == 0)
		*assume |= NSGSIM_ASSUME_APP_GATEWAY_NOT_ISOLATED;
	/* Admin rules first: "Security admin rules have a higher priority than
	 * NSGs and are evaluated before NSG rules." (concept-security-admins.md) */
	for (size_t i = 0; i < cs->n_levels && out->n_layers < NSGSIM_MAX_LAYERS - 2; i++) {
		const ns_admin_level *lvl = &cs->levels[i];
		const ns_chain *ch = dir == NS_DIR_INBOUND ? &lvl->in : &lvl->out;
		const ns_crule *r = first_match(p, ch, f, cs, assume);
		push_layer(out, NSGSIM_LAYER_ADMIN, lvl->mgr->id, cs->vnet->v->id, r);
		if (!r)
			continue;
		*assume |= admin_assumptions(cs, lvl, r);
		*dec = (ns_decision){NSGSIM_LAYER_ADMIN, r, lvl->mgr->id};
		/* "If you create an Always Allow or Deny rule, traffic evaluation
		 * terminates after the security admin rule is evaluated." */
		if (r->access == NS_ACCESS_DENY) {
			out->verdict = NSGSIM_DENY;
			return;
		}
		if (r->access == NS_ACCESS_ALWAYS_ALLOW)
			return;
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
		const ns_crule *r =
		        first_match(p, dir == NS_DIR_INBOUND ? &g->in : &g->out, f, cs, assume);
		push_layer(out, layers[j], g->g->id, applied[j], r);
		if (!r)
			continue;
		*dec = (ns_decision){layers[j], r, g->g->id};
		if (r->access == NS_ACCESS_DENY) {
			out->verdict = NSGSIM_DENY;
			return;
		}
	}
}

/* ---- end to end ------------------------------------------------------------------- */

static void flowv_of(const nsgsim_flow *flow, int sport, ns_flowv *f)
{
	f->proto = flow->protocol;
	f->family = flow->src.family;
	f->src = ns_ip_to_u128(&flow->src);
	f->dst = ns_ip_to_u128(&flow->dst);
	bool no_ports = portless(flow->protocol);
	f->sport = no_ports ? -1 : sport;
	f->dport = no_ports ? -1 : flow->dst_port;
}

static void decide(nsgsim_result *out, const ns_decision *d, int endpoint)
{
	out->decided_layer = d->rule ? d->layer : NSGSIM_LAYER_NONE;
	out->decided_endpoint = endpoint;
	out->decided_resource = d->rule ? d->resource : NULL;
	rule_ref(d->rule, &out->decided_rule);
}

static void eval_once(const nsgsim_policy *p, const ns_flowv *f, const ns_endpoint *src,
                      const ns_endpoint *dst, nsgsim_result *out)
{
	ns_decision d;
	out->verdict = NSGSIM_ALLOW;
	out->src_modelled = src->subnet != NULL;
	out->dst_modelled = dst->subnet != NULL;
	if (src->subnet) {
		nsgsim_side_result *s = &out->sides[out->n_sides++];
		eval_side(p, f, src, NS_DIR_OUTBOUND, NSGSIM_ENDPOINT_SOURCE, s, &d,
		          &out->assumptions);
		decide(out, &d, NSGSIM_ENDPOINT_SOURCE);
		if (s->verdict == NSGSIM_DENY) {
			out->verdict = NSGSIM_DENY;
			return;
		}
	}
	if (dst->subnet) {
		nsgsim_side_result *s = &out->sides[out->n_sides++];
		eval_side(p, f, dst, NS_DIR_INBOUND, NSGSIM_ENDPOINT_DESTINATION, s, &d,
		          &out->assumptions);
		decide(out, &d, NSGSIM_ENDPOINT_DESTINATION);
		out->verdict = s->verdict;
	}
	if (src->ambiguous || dst->ambiguous)
		out->assumptions |= NSGSIM_ASSUME_AMBIGUOUS_ENDPOINT;
	if (out->decided_layer == NSGSIM_LAYER_NONE)
		out->decided_endpoint = NSGSIM_ENDPOINT_NONE;
}

static int check_flow(const nsgsim_policy *p, const nsgsim_flow *flow, nsgsim_result *out,
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

/* The smallest source-port boundary above port among the rules that can
 * see this flow: where the outcome may change. */
static int next_src_boundary_chain(const ns_chain *ch, int port, int best)
{
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

static int next_src_boundary(const ns_endpoint *eps[2], int port)
{
	int best = 65536;
	for (int e = 0; e < 2; e++) {
		const ns_csubnet *cs = eps[e]->subnet;
		if (!cs)
			continue;
		for (size_t i = 0; i < cs->n_levels; i++) {
			best = next_src_boundary_chain(&cs->levels[i].in, port, best);
			best = next_src_boundary_chain(&cs->levels[i].out, port, best);
		}
		const ns_cnsg *gs[2] = {cs->nsg, eps[e]->nic ? eps[e]->nic->nsg : NULL};
		for (int g = 0; g < 2; g++) {
			if (!gs[g])
				continue;
			best = next_src_boundary_chain(&gs[g]->in, port, best);
			best = next_src_boundary_chain(&gs[g]->out, port, best);
		}
	}
	return best;
}

static bool same_outcome(const nsgsim_result *a, const nsgsim_result *b)
{
	return a->verdict == b->verdict && a->decided_layer == b->decided_layer &&
	       a->decided_endpoint == b->decided_endpoint &&
	       a->decided_rule.id == b->decided_rule.id;
}

static int resolve_endpoints(const nsgsim_policy *p, const ns_flowv *f, ns_endpoint *src,
                             ns_endpoint *dst, nsgsim_error *err)
{
	bool s = find_endpoint(p, f->family, f->src, src);
	bool d = find_endpoint(p, f->family, f->dst, dst);
	if (!s && !d)
		return ns_fail(err, NSGSIM_E_NOT_MODELLED, "", "", "",
		               "neither the source nor the destination address belongs to a NIC or "
		               "subnet in the input; check the addresses");
	return 0;
}

NSGSIM_EXPORT int nsgsim_eval(const nsgsim_policy *p, const nsgsim_flow *flow, nsgsim_result *out,
                              nsgsim_error *err)
{
	int rc = check_flow(p, flow, out, err);
	if (rc != 0)
		return rc;
	ns_flowv f;
	flowv_of(flow, flow->src_port, &f);
	ns_endpoint src, dst;
	if ((rc = resolve_endpoints(p, &f, &src, &dst, err)) != 0)
		return rc;
	memset(out, 0, sizeof *out);
	out->src_port = flow->src_port;
	if (portless(flow->protocol) || flow->src_port != NSGSIM_PORT_ANY) {
		eval_once(p, &f, &src, &dst, out);
		return 0;
	}
	/* Every source port: one evaluation per range between rule boundaries. */
	const ns_endpoint *eps[2] = {&src, &dst};
	nsgsim_result cur;
	bool uniform = true;
	for (int port = 0; port <= 65535; port = next_src_boundary(eps, port)) {
		memset(&cur, 0, sizeof cur);
		f.sport = port;
		eval_once(p, &f, &src, &dst, &cur);
		cur.src_port = port;
		if (port == 0) {
			*out = cur;
			continue;
		}
		if (!same_outcome(out, &cur))
			uniform = false;
		/* The result reported is the first denied range, if any. */
		if (out->verdict != NSGSIM_DENY && cur.verdict == NSGSIM_DENY) {
			unsigned keep = out->assumptions;
			*out = cur;
			out->assumptions |= keep;
		} else {
			out->assumptions |= cur.assumptions;
		}
	}
	if (uniform)
		out->src_port = NSGSIM_PORT_ANY;
	else
		out->assumptions |= NSGSIM_ASSUME_SOURCE_PORTS_DIFFER;
	return 0;
}

NSGSIM_EXPORT int nsgsim_eval_source_ports(const nsgsim_policy *p, const nsgsim_flow *flow,
                                           nsgsim_port_outcome *out, size_t cap, size_t *n,
                                           nsgsim_error *err)
{
	nsgsim_result cur;
	int rc = check_flow(p, flow, &cur, err);
	if (rc != 0)
		return rc;
	if (!n || (cap && !out))
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "", "n and out are required");
	ns_flowv f;
	flowv_of(flow, 0, &f);
	ns_endpoint src, dst;
	if ((rc = resolve_endpoints(p, &f, &src, &dst, err)) != 0)
		return rc;
	const ns_endpoint *eps[2] = {&src, &dst};
	nsgsim_port_outcome last = {0};
	*n = 0;
	int end = portless(flow->protocol) ? 0 : 65535;
	for (int port = 0; port <= end; port = next_src_boundary(eps, port)) {
		memset(&cur, 0, sizeof cur);
		f.sport = portless(flow->protocol) ? -1 : port;
		eval_once(p, &f, &src, &dst, &cur);
		int next = port == end ? end + 1 : next_src_boundary(eps, port);
		bool same = *n > 0 && last.verdict == cur.verdict &&
		            last.decided_layer == cur.decided_layer &&
		            last.decided_endpoint == cur.decided_endpoint &&
		            last.decided_rule.id == cur.decided_rule.id;
		if (same) {
			last.hi = (next > end ? end : next - 1);
			if (*n <= cap)
				out[*n - 1] = last;
			continue;
		}
		last = (nsgsim_port_outcome){port,
		                             next > end ? end : next - 1,
		                             cur.verdict,
		                             cur.decided_layer,
		                             cur.decided_endpoint,
		                             cur.decided_rule};
		if (*n < cap)
			out[*n] = last;
		(*n)++;
		if (port == end)
			break;
	}
	return 0;
}

/* ---- one side at a named NIC (IP flow verify) ---------------------------------------- */

NSGSIM_EXPORT int nsgsim_eval_at(const nsgsim_policy *p, const nsgsim_flow *flow, const char *nic,
                                 int direction, nsgsim_result *out, nsgsim_error *err)
{
	int rc = check_flow(p, flow, out, err);
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
	flowv_of(flow, flow->src_port, &f);
	ns_endpoint ep = {cn, cn->subnet, false};
	memset(out, 0, sizeof *out);
	out->src_port = flow->src_port;
	int dir = direction == NSGSIM_INBOUND ? NS_DIR_INBOUND : NS_DIR_OUTBOUND;
	int endpoint = dir == NS_DIR_INBOUND ? NSGSIM_ENDPOINT_DESTINATION : NSGSIM_ENDPOINT_SOURCE;
	ns_decision d;
	out->n_sides = 1;
	out->one_sided = 1;
	out->src_modelled = endpoint == NSGSIM_ENDPOINT_SOURCE;
	out->dst_modelled = endpoint == NSGSIM_ENDPOINT_DESTINATION;
	eval_side(p, &f, &ep, dir, endpoint, &out->sides[0], &d, &out->assumptions);
	out->verdict = out->sides[0].verdict;
	decide(out, &d, endpoint);
	if (out->decided_layer == NSGSIM_LAYER_NONE)
		out->decided_endpoint = NSGSIM_ENDPOINT_NONE;
	return 0;
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
	flowv_of(flow, result->src_port == NSGSIM_PORT_ANY ? 0 : result->src_port, &f);
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
