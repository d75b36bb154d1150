/* AVNM security admin rules: which rules reach which subnet, in which order.
 *
 * A rule collection applies to the VNets (or subnets) that are members of
 * its appliesToGroups, static or added by Azure Policy (SEMANTICS.md §6.1;
 * lib/compile/membership.c).  The rules of one
 * network manager that reach a subnet form one level, ordered by priority
 * across all the manager's collections (concept-enforcement.md; §6.2); the
 * levels of several managers are ordered highest scope first (§11
 * decision 2).  The orders and scopes themselves are Azure's rules, in
 * lib/compile/azure.c.
 *
 * May touch: lib/base, the model and the compiled policy. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compile/azure.h"
#include "compile/compile.h"

/* ---- references -------------------------------------------------------------- */

static int check_references(nsgsim_policy *p, nsgsim_error *err)
{
	ns_model *m = &p->m;
	for (size_t i = 0; i < m->net_groups.n; i++) {
		const ns_net_group *g = NS_VEC_AT(&m->net_groups, ns_net_group, i);
		if (!ns_map_get(&p->mgr_by_id, g->manager_id))
			return ns_dangling(err, &g->loc, g->id, "network manager", g->manager_id);
	}
	for (size_t i = 0; i < m->static_members.n; i++) {
		const ns_static_member *s = NS_VEC_AT(&m->static_members, ns_static_member, i);
		if (!ns_map_get(&p->group_by_id, s->group_id))
			return ns_dangling(err, &s->loc, s->id, "network group", s->group_id);
		if (!ns_map_get(&p->vnet_by_id, s->resource_id) &&
		    !ns_map_get(&p->subnet_by_id, s->resource_id))
			return ns_dangling(err, &s->resource_loc, s->id,
			                   "virtual network or subnet", s->resource_id);
	}
	for (size_t i = 0; i < m->admin_configs.n; i++) {
		const ns_admin_config *c = NS_VEC_AT(&m->admin_configs, ns_admin_config, i);
		if (!ns_map_get(&p->mgr_by_id, c->manager_id))
			return ns_dangling(err, &c->loc, c->id, "network manager", c->manager_id);
	}
	for (size_t i = 0; i < m->rule_collections.n; i++) {
		const ns_rule_collection *c =
		        NS_VEC_AT(&m->rule_collections, ns_rule_collection, i);
		if (!ns_map_get(&p->cfg_by_id, c->config_id))
			return ns_dangling(err, &c->loc, c->id, "security admin configuration",
			                   c->config_id);
		for (size_t k = 0; k < c->n_groups; k++)
			if (!ns_map_get(&p->group_by_id, c->group_ids[k]))
				return ns_dangling(err, &c->group_locs[k], c->id, "network group",
				                   c->group_ids[k]);
	}
	for (size_t i = 0; i < m->admin_rules.n; i++) {
		const ns_rule *r = NS_VEC_AT(&m->admin_rules, ns_rule, i);
		if (!ns_map_get(&p->coll_by_id, r->parent_id))
			return ns_dangling(err, &r->loc, r->id, "rule collection", r->parent_id);
	}
	return 0;
}

static const ns_manager *manager_of_collection(const nsgsim_policy *p, const char *coll_id,
                                               const ns_admin_config **cfg)
{
	const ns_rule_collection *c = ns_map_get(&p->coll_by_id, coll_id);
	*cfg = c ? ns_map_get(&p->cfg_by_id, c->config_id) : NULL;
	return *cfg ? ns_map_get(&p->mgr_by_id, (*cfg)->manager_id) : NULL;
}

/* "The priority number must be unique for each rule in the collection"
 * (SPEC AdminPropertiesFormat; SEMANTICS.md §6.1).  Equal priorities in
 * different collections of one manager are accepted with a warning
 * (§11 decision 3). */
static int check_admin_priorities(nsgsim_policy *p, nsgsim_error *err)
{
	ns_model *m = &p->m;
	for (size_t i = 0; i < m->admin_rules.n; i++) {
		const ns_rule *a = NS_VEC_AT(&m->admin_rules, ns_rule, i);
		const ns_admin_config *ca;
		const ns_manager *ma = manager_of_collection(p, a->parent_id, &ca);
		for (size_t k = 0; k < i; k++) {
			const ns_rule *b = NS_VEC_AT(&m->admin_rules, ns_rule, k);
			if (a->priority != b->priority || ns_ieq(a->id, b->id))
				continue;
			if (ns_ieq(a->parent_id, b->parent_id))
				return ns_fail(
				        err, NSGSIM_E_DUP_PRIORITY, a->loc.file, a->loc.pointer,
				        a->id,
				        "priority %d is used by both '%s' and '%s' in one rule "
				        "collection; priorities must be unique per collection",
				        a->priority, b->name, a->name);
			const ns_admin_config *cb;
			if (a->direction == b->direction &&
			    manager_of_collection(p, b->parent_id, &cb) == ma)
				ns_model_note(
				        &p->m, NSGSIM_NOTE_WARNING, a->loc.file, a->loc.pointer,
				        a->id,
				        "priority %d is also used by '%s' in another rule "
				        "collection; ties are ordered Deny, AlwaysAllow, Allow, "
				        "then by collection id and rule name (an assumption: "
				        "Azure does not document it)",
				        a->priority, b->name);
		}
	}
	return 0;
}

/* ---- network groups whose members the input does not say ------------------------ */

/* Whether an admin rule uses the group: its collection applies to it, or a
 * side names it as an address. */
static bool group_used(const nsgsim_policy *p, const char *group_id)
{
	for (size_t i = 0; i < p->m.admin_rules.n; i++) {
		const ns_rule *r = NS_VEC_AT(&p->m.admin_rules, ns_rule, i);
		const ns_rule_collection *c = ns_map_get(&p->coll_by_id, r->parent_id);
		for (size_t k = 0; c && k < c->n_groups; k++)
			if (ns_ieq(c->group_ids[k], group_id))
				return true;
		const ns_side *sides[2] = {&r->src, &r->dst};
		for (int s = 0; s < 2; s++)
			for (size_t k = 0; k < sides[s]->n_addrs; k++)
				if (sides[s]->addrs[k].kind == NS_ADDR_NET_GROUP &&
				    ns_ieq(sides[s]->addrs[k].text, group_id))
					return true;
	}
	return false;
}

/* Most estates fill network groups through Azure Policy
 * (concept-network-groups.md: "dynamic membership ... using Azure Policy";
 * lib/compile/membership.c): a group used by admin rules with no static
 * member and no assigned policy definition in the input is a group whose
 * members are unknown, not an empty one.
 * Its rules are applied to nothing -- the only answer the input supports --
 * with a warning, and every subnet in the reach of its manager carries the
 * assumption, so that no answer there hides it. */
static int mark_unknown_groups(nsgsim_policy *p)
{
	for (size_t i = 0; i < p->m.net_groups.n; i++) {
		const ns_net_group *g = NS_VEC_AT(&p->m.net_groups, ns_net_group, i);
		if (ns_group_has_members(p, g->id) || !group_used(p, g->id))
			continue;
		if (ns_model_note(&p->m, NSGSIM_NOTE_WARNING, g->loc.file, g->loc.pointer, g->id,
		                  "network group '%s' has no static members and no Azure Policy "
		                  "in the input: its members are unknown, and its admin rules are "
		                  "applied to none (results that could depend on it say "
		                  "empty-network-group)",
		                  g->name) != 0)
			return -1;
		const ns_manager *mg = ns_map_get(&p->mgr_by_id, g->manager_id);
		for (size_t k = 0; mg && k < p->n_subnets; k++)
			if (ns_azure_in_scope(mg, p->subnets[k].vnet->v->id))
				p->subnets[k].unknown_group = true;
	}
	return 0;
}

/* ---- levels -------------------------------------------------------------------- */

/* The membership that puts the subnet (or its VNet) in the group, static
 * members first, or NULL. */
static const ns_member *group_has(const nsgsim_policy *p, const char *group_id,
                                  const ns_csubnet *cs)
{
	const ns_member *v = ns_member_of(p, group_id, cs->vnet->v->id);
	const ns_member *s = ns_member_of(p, group_id, cs->s->id);
	return v && (v->sm || !s || !s->sm) ? v : s;
}

static const ns_member *collection_applies(const nsgsim_policy *p, const ns_rule_collection *c,
                                           const ns_csubnet *cs)
{
	for (size_t k = 0; k < c->n_groups; k++) {
		const ns_member *mb = group_has(p, c->group_ids[k], cs);
		if (mb)
			return mb;
	}
	return NULL;
}

/* A side that lists VirtualNetwork beside other items becomes, at this
 * subnet, one set: the others and the subnet's VirtualNetwork. */
static int join_vnet(nsgsim_policy *p, const ns_csubnet *cs, ns_cside *side, nsgsim_error *err)
{
	if (!side->vnet_mixed || !side->vnet_tag)
		return 0;
	ns_psb b;
	ns_psb_init(&b);
	ns_pset *set = ns_policy_new_set(p);
	int rc = !set || ns_psb_add_set(&b, &cs->vnet_tag) != 0 ||
	                         (side->set && ns_psb_add_set(&b, side->set) != 0) ||
	                         ns_psb_finish(&b, set) != 0
	                 ? ns_nomem(err)
	                 : 0;
	ns_psb_free(&b);
	if (rc == 0) {
		side->set = set;
		side->vnet_tag = false;
	}
	return rc;
}

/* The admin rules compiled once, with each one's collection, configuration
 * and manager looked up once (not per subnet and level). */
typedef struct admin_rules {
	const ns_crule *all;
	const ns_rule_collection **coll;
	const ns_admin_config **cfg;
	const ns_manager **mgr;
} admin_rules;

static int build_level(nsgsim_policy *p, const admin_rules *ar, const ns_manager *mgr,
                       ns_csubnet *cs, int intent_setting, ns_admin_level *lvl, nsgsim_error *err)
{
	ns_model *m = &p->m;
	lvl->mgr = mgr;
	lvl->intent_policy = intent_setting;
	ns_crule *in = ns_arena_alloc(&p->arena, (m->admin_rules.n + 1) * sizeof *in);
	ns_crule *out = ns_arena_alloc(&p->arena, (m->admin_rules.n + 1) * sizeof *out);
	if (!in || !out)
		return ns_nomem(err);
	const ns_crule *all = ar->all;
	for (size_t i = 0; i < m->admin_rules.n; i++) {
		const ns_admin_config *cfg = ar->cfg[i];
		const ns_member *mb = NULL;
		if (ar->mgr[i] != mgr || !(mb = collection_applies(p, ar->coll[i], cs)))
			continue;
		if (!lvl->cfg)
			lvl->cfg = cfg;
		if (cs->vnet->intent_service &&
		    !ns_azure_kept_by_intent(intent_setting, all[i].access))
			continue;
		ns_crule *r =
		        all[i].direction == NS_DIR_INBOUND ? &in[lvl->in.n++] : &out[lvl->out.n++];
		*r = all[i];
		r->member = mb;
		int rc = join_vnet(p, cs, &r->src, err);
		if (rc == 0)
			rc = join_vnet(p, cs, &r->dst, err);
		if (rc != 0)
			return rc;
	}
	qsort(in, lvl->in.n, sizeof *in, ns_azure_cmp_admin_rule);
	qsort(out, lvl->out.n, sizeof *out, ns_azure_cmp_admin_rule);
	for (size_t i = 1; i < lvl->in.n; i++)
		if (in[i].priority == in[i - 1].priority)
			in[i].tie = in[i - 1].tie = true;
	for (size_t i = 1; i < lvl->out.n; i++)
		if (out[i].priority == out[i - 1].priority)
			out[i].tie = out[i - 1].tie = true;
	lvl->in.rules = in;
	lvl->out.rules = out;
	if (lvl->in.n + lvl->out.n > 100)
		ns_model_note(
		        m, NSGSIM_NOTE_LIMIT, mgr->loc.file, mgr->loc.pointer, mgr->id,
		        "%zu admin rules reach subnet '%s' from one manager; Azure allows 100 "
		        "per level (concept-limitations.md)",
		        lvl->in.n + lvl->out.n, cs->s->name);
	return 0;
}

/* Whether any of the manager's collections reaches the subnet. */
static bool manager_reaches(const nsgsim_policy *p, const admin_rules *ar, const ns_manager *mgr,
                            const ns_csubnet *cs)
{
	for (size_t i = 0; i < p->m.admin_rules.n; i++)
		if (ar->mgr[i] == mgr && collection_applies(p, ar->coll[i], cs))
			return true;
	return false;
}

/* What a match of each admin rule at this subnet rests on, now that its
 * levels and intent setting are known. */
static void mark_admin_assumptions(ns_csubnet *cs)
{
	for (size_t i = 0; i < cs->n_levels; i++) {
		ns_admin_level *lvl = &cs->levels[i];
		ns_chain *chs[2] = {&lvl->in, &lvl->out};
		for (int d = 0; d < 2; d++)
			for (size_t k = 0; k < chs[d]->n; k++)
				chs[d]->rules[k].assume =
				        ns_azure_admin_assumptions(cs, lvl, &chs[d]->rules[k]);
	}
}

static int build_subnet_levels(nsgsim_policy *p, const admin_rules *ar, const ns_manager **mgrs,
                               size_t n_mgrs, ns_csubnet *cs, nsgsim_error *err)
{
	/* Subnets of Bastion, Firewall, gateways, Route Server, App Gateway:
	 * "security admin rules don't affect the resources in the subnet"
	 * (concept-security-admins.md; SEMANTICS.md §6.4). */
	cs->intent_setting = -1;
	if (cs->admin_exempt_service) {
		cs->admin_skip_reason = ns_arena_printf(&p->arena,
		                                        "security admin rules do not apply in "
		                                        "service subnets such as %s "
		                                        "(concept-security-admins.md)",
		                                        cs->admin_exempt_service);
		return cs->admin_skip_reason ? 0 : ns_nomem(err);
	}
	cs->levels = ns_arena_alloc(&p->arena, (n_mgrs + 1) * sizeof *cs->levels);
	if (!cs->levels)
		return ns_nomem(err);
	/* "the setting of the network manager instance with the highest scope
	 * is used" (concept-security-admins.md; W9). */
	int intent_setting = -1;
	for (size_t i = 0; i < n_mgrs; i++) {
		if (!ns_azure_in_scope(mgrs[i], cs->vnet->v->id) ||
		    !manager_reaches(p, ar, mgrs[i], cs))
			continue;
		ns_admin_level *lvl = &cs->levels[cs->n_levels++];
		int rc = build_level(p, ar, mgrs[i], cs, intent_setting, lvl, err);
		if (rc != 0)
			return rc;
		if (intent_setting < 0) {
			intent_setting = lvl->cfg ? lvl->cfg->apply_on_intent : NS_INTENT_NONE;
			/* Re-filter the first level now that the setting is known. */
			*lvl = (ns_admin_level){0};
			if ((rc = build_level(p, ar, mgrs[i], cs, intent_setting, lvl, err)) != 0)
				return rc;
		}
	}
	cs->intent_setting = intent_setting;
	mark_admin_assumptions(cs);
	if (cs->vnet->intent_service && cs->n_levels > 0) {
		cs->admin_skip_reason = ns_arena_printf(
		        &p->arena,
		        "the virtual network holds %s (a network intent policy): %s "
		        "(applyOnNetworkIntentPolicyBasedServices of the highest-scope manager)",
		        cs->vnet->intent_service,
		        intent_setting == NS_INTENT_ALL ? "all admin rules apply"
		        : intent_setting == NS_INTENT_ALLOW_RULES_ONLY
		                ? "only Allow and AlwaysAllow admin rules apply"
		                : "admin rules are skipped");
		if (!cs->admin_skip_reason)
			return ns_nomem(err);
	}
	return 0;
}

int ns_compile_admin(nsgsim_policy *p, nsgsim_error *err)
{
	ns_model *m = &p->m;
	int rc = check_references(p, err);
	if (rc == 0)
		rc = ns_compile_members(p, err);
	if (rc == 0)
		rc = check_admin_priorities(p, err);
	if (rc == 0 && mark_unknown_groups(p) != 0)
		rc = ns_nomem(err);
	if (rc != 0)
		return rc;
	size_t n = m->admin_rules.n + 1;
	ns_crule *all = ns_arena_alloc(&p->arena, n * sizeof *all);
	admin_rules ar = {all, ns_arena_alloc(&p->arena, n * sizeof *ar.coll),
	                  ns_arena_alloc(&p->arena, n * sizeof *ar.cfg),
	                  ns_arena_alloc(&p->arena, n * sizeof *ar.mgr)};
	const ns_manager **mgrs = calloc(m->managers.n + 1, sizeof *mgrs);
	if (!all || !ar.coll || !ar.cfg || !ar.mgr || !mgrs) {
		free(mgrs);
		return ns_nomem(err);
	}
	size_t prefixes = 0;
	for (size_t i = 0; rc == 0 && i < m->admin_rules.n; i++) {
		const ns_rule *r = NS_VEC_AT(&m->admin_rules, ns_rule, i);
		all[i].collection_id = r->parent_id;
		rc = ns_compile_rule(p, r, &all[i], err);
		prefixes += r->src.n_addrs + r->dst.n_addrs;
		/* check_references found every collection */
		ar.coll[i] = ns_map_get(&p->coll_by_id, r->parent_id);
		ar.mgr[i] = manager_of_collection(p, r->parent_id, &ar.cfg[i]);
	}
	p->n_admin_rules = m->admin_rules.n;
	if (prefixes > 20000)
		ns_model_note(m, NSGSIM_NOTE_LIMIT, "", "", "",
		              "%zu IP prefixes in admin rules; Azure allows 20,000 in all",
		              prefixes);
	size_t n_mgrs = 0;
	ns_map seen;
	ns_map_init(&seen);
	for (size_t i = 0; rc == 0 && i < m->managers.n; i++) {
		const ns_manager *mg = NS_VEC_AT(&m->managers, ns_manager, i);
		if (!ns_map_get(&seen, mg->id)) {
			mgrs[n_mgrs++] = mg;
			if (ns_map_put(&seen, mg->id, (void *)mg) != 0)
				rc = ns_nomem(err);
		}
	}
	ns_map_free(&seen);
	qsort(mgrs, n_mgrs, sizeof *mgrs, ns_azure_cmp_manager);
	for (size_t i = 0; rc == 0 && i < p->n_subnets; i++)
		rc = build_subnet_levels(p, &ar, mgrs, n_mgrs, &p->subnets[i], err);
	free(mgrs);
	return rc;
}
