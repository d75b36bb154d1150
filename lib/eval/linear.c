/* The reference: a chain's first match by testing every field of every
 * rule in order (NSGSIM_ENGINE_LINEAR), which the compiled engine, the
 * tests and the fuzzers are held to; and, from the same tests, the per-rule
 * detail NSG diagnostics reports.
 *
 * May touch: lib/base, the compiled policy and compile/azure.h. */
#include "eval/match.h"

typedef struct ns_match {
	bool proto, src, sport, dst, dport;
} ns_match;

static bool ports_match(const ns_cside *s, int port)
{
	if (s->n_ports == 0)
		return true;
	if (port < 0)
		return false; /* SEMANTICS.md §11 decision 5: only an any-port clause */
	for (size_t i = 0; i < s->n_ports; i++)
		if (port >= s->ports[i].lo && port <= s->ports[i].hi)
			return true;
	return false;
}

static bool addr_match(const ns_cside *s, const ns_csubnet *ctx, int family, ns_u128 a)
{
	const ns_pset *set = ns_side_set(s, ctx);
	return !set || ns_pset_contains(set, family, a);
}

static ns_match match_rule(const ns_crule *r, const ns_flowv *f, const ns_csubnet *ctx)
{
	ns_match m;
	m.proto = ns_proto_matches(r->protocol, f->proto);
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

static unsigned side_assumptions(const nsgsim_policy *p, const ns_cside *s, const ns_csubnet *ctx,
                                 int family, ns_u128 a)
{
	unsigned bits = 0;
	if (ns_internet_side(p, s) && !ns_surely_not_internet(family, a))
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

size_t ns_linear_first(const nsgsim_policy *p, const ns_chain *ch, const ns_flowv *f,
                       const ns_csubnet *ctx, unsigned *assume)
{
	for (size_t i = 0; i < ch->n; i++) {
		const ns_crule *r = &ch->rules[i];
		ns_match m = match_rule(r, f, ctx);
		*assume |= rule_assumptions(p, r, f, ctx, m);
		if (all_match(m))
			return i;
	}
	return ch->n;
}

int ns_linear_next_sport(const ns_chain *ch, int port, int best)
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

/* ---- per-rule detail --------------------------------------------------------------- */

static bool prefix_holds(const ns_addr *x, int family, ns_u128 a)
{
	ns_u128 mask = x->plen == 0 ? 0 : ~(ns_u128)0 << ((family == 4 ? 32 : 128) - x->plen);
	if (family == 4)
		mask &= 0xFFFFFFFFu;
	return (a & mask) == x->addr;
}

/* What on a rule's side matched the address: "*", a prefix as written, a
 * tag or an ASG's name; NULL when nothing did. */
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
			if (g && ns_pset_contains(&g->members, family, a))
				return g->a->name;
		}
		return NULL;
	}
	if (cs->tag && s->n_addrs == 1)
		return cs->tag;
	for (size_t i = 0; i < s->n_addrs; i++) {
		const ns_addr *x = &s->addrs[i];
		if (x->kind == NS_ADDR_CIDR && x->family == family) {
			if (prefix_holds(x, family, a))
				return x->text;
		} else if (x->kind != NS_ADDR_CIDR) {
			return x->text; /* a tag or group inside a list */
		}
	}
	return NULL;
}

static void rule_detail(const nsgsim_policy *p, const ns_crule *r, const ns_flowv *f,
                        const ns_csubnet *ctx, ns_match m, nsgsim_rule_detail *d)
{
	d->rule = (nsgsim_rule_ref){r->r->name, r->r->id, r->priority, r->access, r->r->is_default};
	d->protocol_matched = m.proto;
	d->source_matched = m.src;
	d->source_port_matched = m.sport;
	d->destination_matched = m.dst;
	d->destination_port_matched = m.dport;
	d->source_matched_by = matched_by(p, r, true, ctx, f->family, f->src);
	d->destination_matched_by = matched_by(p, r, false, ctx, f->family, f->dst);
}

int ns_linear_detail(const nsgsim_policy *p, const ns_chain *ch, const ns_flowv *f,
                     const ns_csubnet *ctx, ns_vec *out)
{
	for (size_t i = 0; i < ch->n; i++) {
		const ns_crule *r = &ch->rules[i];
		ns_match m = match_rule(r, f, ctx);
		nsgsim_rule_detail *d = ns_vec_push(out);
		if (!d)
			return NSGSIM_E_NOMEM;
		rule_detail(p, r, f, ctx, m, d);
		if (all_match(m))
			break;
	}
	return 0;
}
