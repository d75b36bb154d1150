/* The compile stage: validates the model, resolves references by id
 * (case-insensitively, as ARM compares them), computes the address sets and
 * orders the rules, then builds the endpoints (lib/compile/endpoints.c) and
 * the match structures (lib/compile/cls_*.c).  The output is one immutable
 * nsgsim_policy.
 *
 * May touch: lib/base, the model and what parse exposes (parse/parse.h). */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "compile/azure.h"
#include "compile/classifier.h"
#include "compile/compile.h"
#include "compile/nsgp.h"

/* ---- indexes by id ---------------------------------------------------------- */

/* Builds an id index over a vector; the first definition of an id wins and
 * a later one is checked by same() (NULL: containers, always the same). */
typedef bool (*same_fn)(const void *a, const void *b);

static int index_vec_first(ns_map *map, ns_vec *v, size_t id_offset, same_fn same,
                           size_t loc_offset, bool *first, nsgsim_error *err)
{
	for (size_t i = 0; i < v->n; i++) {
		char *item = (char *)v->data + i * v->elem;
		const char *id = *(const char **)(item + id_offset);
		int put_rc;
		void *prev = ns_map_get_or_put(map, id, item, &put_rc);
		if (put_rc != 0)
			return ns_nomem(err);
		if (first)
			first[i] = !prev;
		if (prev) {
			if (same && !same(prev, item)) {
				const ns_loc *a = (const ns_loc *)((char *)prev + loc_offset);
				const ns_loc *b = (const ns_loc *)(item + loc_offset);
				return ns_fail(err, NSGSIM_E_DUPLICATE, b->file, b->pointer, id,
				               "defined again, differently (first at %s:%s)",
				               a->file, a->pointer);
			}
		}
	}
	return 0;
}

static int index_vec(ns_map *map, ns_vec *v, size_t id_offset, same_fn same, size_t loc_offset,
                     nsgsim_error *err)
{
	return index_vec_first(map, v, id_offset, same, loc_offset, NULL, err);
}

static bool same_addrs(const ns_addr *a, size_t na, const ns_addr *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!ns_ieq(a[i].text, b[i].text))
			return false;
	return true;
}

static bool same_side(const ns_side *a, const ns_side *b)
{
	if (a->form != b->form || a->n_asgs != b->n_asgs || a->n_ports != b->n_ports ||
	    !same_addrs(a->addrs, a->n_addrs, b->addrs, b->n_addrs))
		return false;
	for (size_t i = 0; i < a->n_asgs; i++)
		if (!ns_ieq(a->asg_ids[i], b->asg_ids[i]))
			return false;
	return memcmp(a->ports, b->ports, a->n_ports * sizeof *a->ports) == 0;
}

/* The same rule seen twice (an NSG listing and `az network nsg rule list`)
 * is fine; two different rules under one id are not. */
static bool same_rule(const void *pa, const void *pb)
{
	const ns_rule *a = pa, *b = pb;
	return a->priority == b->priority && a->access == b->access &&
	       a->direction == b->direction && a->protocol == b->protocol &&
	       a->is_default == b->is_default && same_side(&a->src, &b->src) &&
	       same_side(&a->dst, &b->dst);
}

static bool same_subnet(const void *pa, const void *pb)
{
	const ns_subnet *a = pa, *b = pb;
	return same_addrs(a->prefixes, a->n_prefixes, b->prefixes, b->n_prefixes) &&
	       ns_ieq(a->nsg_id, b->nsg_id) && ns_ieq(a->route_table_id, b->route_table_id);
}

static bool same_nic(const void *pa, const void *pb)
{
	const ns_nic *a = pa, *b = pb;
	if (a->n_ipconfigs != b->n_ipconfigs || !ns_ieq(a->nsg_id, b->nsg_id))
		return false;
	for (size_t i = 0; i < a->n_ipconfigs; i++)
		if (!ns_ieq(a->ipconfigs[i].ip_text, b->ipconfigs[i].ip_text) ||
		    !ns_ieq(a->ipconfigs[i].subnet_id, b->ipconfigs[i].subnet_id))
			return false;
	return true;
}

#define INDEX(map, vec, T, same)                                                                   \
	index_vec(&p->map, &m->vec, offsetof(T, id), same, offsetof(T, loc), err)

/* rule_first[i]: whether m->rules[i] is the first definition of its id
 * (compile_nsg_rules drops the others without hashing ids again).  After
 * the NSGs' shells, so that a focused load of a policy file has read the
 * rule blocks its focus needs (read_rule_blocks). */
static int index_rules(nsgsim_policy *p, bool **rule_first, nsgsim_error *err)
{
	if (!(*rule_first = calloc(p->m.rules.n + 1, sizeof **rule_first)))
		return ns_nomem(err);
	ns_map rules;
	ns_map_init(&rules);
	int rc = index_vec_first(&rules, &p->m.rules, offsetof(ns_rule, id), same_rule,
	                         offsetof(ns_rule, loc), *rule_first, err);
	ns_map_free(&rules);
	return rc;
}

static int build_indexes(nsgsim_policy *p, nsgsim_error *err)
{
	ns_model *m = &p->m;
	ns_map subnets_seen, nics_seen, admin_rules;
	ns_map_init(&subnets_seen);
	ns_map_init(&nics_seen);
	ns_map_init(&admin_rules);
	int rc;
	if ((rc = INDEX(rt_by_id, route_tables, ns_route_table, NULL)) == 0 &&
	    (rc = INDEX(mgr_by_id, managers, ns_manager, NULL)) == 0 &&
	    (rc = INDEX(group_by_id, net_groups, ns_net_group, NULL)) == 0 &&
	    (rc = INDEX(cfg_by_id, admin_configs, ns_admin_config, NULL)) == 0 &&
	    (rc = INDEX(coll_by_id, rule_collections, ns_rule_collection, NULL)) == 0) {
		if ((rc = index_vec(&admin_rules, &m->admin_rules, offsetof(ns_rule, id), same_rule,
		                    offsetof(ns_rule, loc), err)) == 0 &&
		    (rc = index_vec(&subnets_seen, &m->subnets, offsetof(ns_subnet, id),
		                    same_subnet, offsetof(ns_subnet, loc), err)) == 0)
			rc = index_vec(&nics_seen, &m->nics, offsetof(ns_nic, id), same_nic,
			               offsetof(ns_nic, loc), err);
	}
	ns_map_free(&subnets_seen);
	ns_map_free(&nics_seen);
	ns_map_free(&admin_rules);
	return rc;
}

/* Whether item i of vec is the first definition of its id (duplicates that
 * passed the sameness check are dropped). */
static bool first_of_id(const ns_vec *v, size_t i, size_t id_offset, ns_map *seen, int *rc,
                        nsgsim_error *err)
{
	const char *item = (const char *)v->data + i * v->elem;
	const char *id = *(const char *const *)(item + id_offset);
	int put_rc;
	if (ns_map_get_or_put(seen, id, (void *)item, &put_rc))
		return false;
	if (put_rc != 0)
		*rc = ns_nomem(err);
	return true;
}

/* ---- NSGs ---------------------------------------------------------------------- */

static ns_port_range all_ports = {0, 65535}; /* shared, never written */

static int default_side(nsgsim_policy *p, const ns_nsg *g, const char *text, ns_side *side)
{
	side->form = NS_FORM_PREFIX;
	side->addrs = ns_arena_alloc(&p->arena, sizeof *side->addrs);
	if (!side->addrs)
		return -1;
	side->n_addrs = 1;
	side->addrs[0].kind = strcmp(text, "*") == 0 ? NS_ADDR_ANY : NS_ADDR_TAG;
	side->addrs[0].text = text;
	side->addrs[0].loc = g->loc;
	side->ports = &all_ports;
	side->n_ports = 1;
	return 0;
}

/* Azure's default rules (ns_azure_default_rules), added to an NSG whose
 * input does not list them. */
static int add_default_rules(nsgsim_policy *p, const ns_nsg *g, ns_vec *out)
{
	size_t n;
	const ns_default_rule *default_rules = ns_azure_default_rules(&n);
	for (size_t i = 0; i < n; i++) {
		ns_rule *r = ns_arena_alloc(&p->arena, sizeof *r);
		ns_rule **slot = r ? ns_vec_push(out) : NULL;
		if (!slot)
			return -1;
		r->name = default_rules[i].name;
		r->id = ns_arena_printf(&p->arena, "%s/defaultSecurityRules/%s", g->id, r->name);
		r->parent_id = g->id;
		r->loc = g->loc;
		r->priority = default_rules[i].priority;
		r->access = default_rules[i].access;
		r->direction = default_rules[i].direction;
		r->protocol = NS_PROTO_ANY;
		r->is_default = true;
		if (!r->id || default_side(p, g, default_rules[i].src, &r->src) != 0 ||
		    default_side(p, g, default_rules[i].dst, &r->dst) != 0)
			return -1;
		*slot = r;
	}
	return 0;
}

static int cmp_rule_ptr(const void *pa, const void *pb)
{
	const ns_rule *a = *(const ns_rule *const *)pa, *b = *(const ns_rule *const *)pb;
	if (a->priority != b->priority)
		return a->priority < b->priority ? -1 : 1;
	return a->is_default - b->is_default;
}

/* Most inputs list an NSG's rules by priority already: no sort then. */
static bool sorted_rules(const ns_vec *rules)
{
	for (size_t i = 1; i < rules->n; i++)
		if (cmp_rule_ptr(NS_VEC_AT(rules, ns_rule *, i - 1),
		                 NS_VEC_AT(rules, ns_rule *, i)) > 0)
			return false;
	return true;
}

/* "You can't create two security rules with the same priority and
 * direction." (network-security-groups-overview.md; SEMANTICS.md §1.3) */
static int check_nsg_priorities(const ns_vec *rules, nsgsim_error *err)
{
	const ns_rule *const *r = rules->data;
	for (size_t i = 1; i < rules->n; i++) {
		if (r[i]->priority != r[i - 1]->priority || r[i]->is_default ||
		    r[i - 1]->is_default)
			continue;
		return ns_fail(err, NSGSIM_E_DUP_PRIORITY, r[i]->loc.file, r[i]->loc.pointer,
		               r[i]->id,
		               "priority %d is used by both '%s' and '%s' in the same NSG and "
		               "direction; priorities must be unique per direction",
		               r[i]->priority, r[i - 1]->name, r[i]->name);
	}
	return 0;
}

/* build false: outside the focus, the rules are checked (ns_check_rule) and
 * the chain is marked unbuilt. */
static int compile_nsg_chain(nsgsim_policy *p, ns_cnsg *cg, ns_vec *rules, int dir, bool build,
                             nsgsim_error *err)
{
	ns_vec sel;
	ns_vec_init(&sel, sizeof(ns_rule *));
	int rc = 0;
	for (size_t i = 0; i < rules->n; i++) {
		ns_rule *r = *NS_VEC_AT(rules, ns_rule *, i);
		ns_rule **slot = NULL;
		if (r->direction == dir && !(slot = ns_vec_push(&sel))) {
			rc = ns_nomem(err);
			goto out;
		} else if (r->direction == dir) {
			*slot = r;
		}
	}
	if (!sorted_rules(&sel))
		qsort(sel.data, sel.n, sizeof(ns_rule *), cmp_rule_ptr);
	if ((rc = check_nsg_priorities(&sel, err)) != 0)
		goto out;
	ns_chain *ch = dir == NS_DIR_INBOUND ? &cg->in : &cg->out;
	ch->rules = ns_arena_alloc(&p->arena, (sel.n + 1) * sizeof *ch->rules);
	if (!ch->rules) {
		rc = ns_nomem(err);
		goto out;
	}
	ch->unbuilt = !build;
	for (size_t i = 0; i < sel.n && rc == 0; i++) {
		const ns_rule *r = *NS_VEC_AT(&sel, ns_rule *, i);
		ns_crule *cr = &ch->rules[ch->n++];
		rc = build ? ns_compile_rule(p, r, cr, err) : ns_check_rule(p, r, cr, err);
	}
out:
	ns_vec_free(&sel);
	return rc;
}

/* The NSGs, without their rules yet: subnets and NICs point at them. */
static int compile_nsg_shells(nsgsim_policy *p, nsgsim_error *err)
{
	ns_model *m = &p->m;
	ns_map seen;
	ns_map_init(&seen);
	p->nsgs = ns_arena_alloc(&p->arena, (m->nsgs.n + 1) * sizeof *p->nsgs);
	int rc = p->nsgs ? 0 : ns_nomem(err);
	for (size_t i = 0; rc == 0 && i < m->nsgs.n; i++) {
		if (!first_of_id(&m->nsgs, i, offsetof(ns_nsg, id), &seen, &rc, err))
			continue;
		ns_cnsg *cg = &p->nsgs[p->n_nsgs++];
		cg->g = NS_VEC_AT(&m->nsgs, ns_nsg, i);
		if (ns_map_put(&p->nsg_by_id, cg->g->id, cg) != 0)
			rc = ns_nomem(err);
	}
	ns_map_free(&seen);
	return rc;
}

/* Attaches every rule (nested or standalone) to its NSG, adds the default
 * rules where the input has none, and compiles both directions -- only
 * checks them for an NSG outside the focus (needed NULL: every NSG). */
static int compile_nsg_rules(nsgsim_policy *p, const bool *rule_first, const bool *needed,
                             nsgsim_error *err)
{
	ns_model *m = &p->m;
	ns_vec *vecs = calloc(p->n_nsgs + 1, sizeof *vecs);
	if (!vecs)
		return ns_nomem(err);
	for (size_t i = 0; i < p->n_nsgs; i++)
		ns_vec_init(&vecs[i], sizeof(ns_rule *));
	int rc = 0;
	/* Rules come grouped by NSG: the last parent's lookup is reused for the
	 * same id (exactly the same text, so the same entry). */
	const char *last_parent = NULL;
	ns_cnsg *last_cg = NULL;
	for (size_t i = 0; rc == 0 && i < m->rules.n; i++) {
		if (!rule_first[i])
			continue;
		ns_rule *r = NS_VEC_AT(&m->rules, ns_rule, i);
		ns_cnsg *cg;
		if (last_parent && r->parent_id &&
		    (r->parent_id == last_parent || strcmp(r->parent_id, last_parent) == 0)) {
			cg = last_cg;
		} else {
			cg = ns_map_get(&p->nsg_by_id, r->parent_id);
			last_parent = r->parent_id;
			last_cg = cg;
		}
		ns_rule **slot = NULL;
		if (!cg)
			rc = ns_dangling(err, &r->loc, r->id, "network security group",
			                 r->parent_id);
		else if (!(slot = ns_vec_push(&vecs[cg - p->nsgs])))
			rc = ns_nomem(err);
		else
			*slot = r;
	}
	for (size_t i = 0; rc == 0 && i < p->n_nsgs; i++) {
		ns_cnsg *cg = &p->nsgs[i];
		if (add_default_rules(p, cg->g, &vecs[i]) != 0)
			rc = ns_nomem(err);
		size_t n = vecs[i].n + cg->deferred_rules;
		if (rc == 0 && n > p->m.limits[NSGSIM_LIMIT_RULES_PER_NSG] + 6)
			rc = ns_fail(
			        err, NSGSIM_E_LIMIT, cg->g->loc.file, cg->g->loc.pointer, cg->g->id,
			        "%zu rules; the limit is %llu (NSGSIM_LIMIT_RULES_PER_NSG)", n - 6,
			        (unsigned long long)p->m.limits[NSGSIM_LIMIT_RULES_PER_NSG]);
		if (rc == 0 && n > 1000 + 6)
			ns_model_note(
			        &p->m, NSGSIM_NOTE_LIMIT, cg->g->loc.file, cg->g->loc.pointer,
			        cg->g->id,
			        "%zu rules; Azure allows 1,000 per NSG (azure-virtual-network-"
			        "limits.md)",
			        n);
		bool build = !needed || needed[i];
		if (rc == 0)
			rc = compile_nsg_chain(p, cg, &vecs[i], NS_DIR_INBOUND, build, err);
		if (rc == 0)
			rc = compile_nsg_chain(p, cg, &vecs[i], NS_DIR_OUTBOUND, build, err);
	}
	for (size_t i = 0; i < p->n_nsgs; i++)
		ns_vec_free(&vecs[i]);
	free(vecs);
	return rc;
}

/* ---- the focus (nsgsim_loader_set_focus) ------------------------------------------ */

static void mark_nsg(const nsgsim_policy *p, const ns_cnsg *cg, bool *needed)
{
	if (cg)
		needed[cg - p->nsgs] = true;
}

/* A NIC holding the address: its NSG and the NSGs of every subnet it has an
 * endpoint in (lib/compile/endpoints.c). */
static void mark_nic(const nsgsim_policy *p, const ns_cnic *cn, int family, ns_u128 v, bool *needed)
{
	bool holds = false;
	for (size_t k = 0; k < cn->n->n_ipconfigs; k++) {
		const ns_ipconfig *ipc = &cn->n->ipconfigs[k];
		holds |= ipc->has_ip && ipc->family == family && ipc->ip == v;
	}
	if (!holds)
		return;
	mark_nsg(p, cn->nsg, needed);
	if (cn->subnet)
		mark_nsg(p, cn->subnet->nsg, needed);
	for (size_t k = 0; k < cn->n->n_ipconfigs; k++) {
		const char *sid = cn->n->ipconfigs[k].subnet_id;
		const ns_csubnet *cs = sid ? ns_map_get(&p->subnet_by_id, sid) : NULL;
		if (cs)
			mark_nsg(p, cs->nsg, needed);
	}
}

/* needed[i]: NSG i is on an endpoint that may hold a focus address -- a NIC
 * with that address, a subnet whose prefixes hold it.  A superset of what
 * the endpoint map picks, so every walk of a focus flow meets built chains;
 * any other walk is refused (ns_endpoint.unbuilt). */
static void mark_focus(const nsgsim_policy *p, bool *needed)
{
	for (size_t f = 0; f < p->m.n_focus; f++) {
		int family = p->m.focus[f].family;
		ns_u128 v = ns_ip_to_u128(&p->m.focus[f]);
		for (size_t i = 0; i < p->n_subnets; i++)
			if (ns_pset_contains(&p->subnets[i].prefixes, family, v))
				mark_nsg(p, p->subnets[i].nsg, needed);
		for (size_t i = 0; i < p->n_nics; i++)
			mark_nic(p, &p->nics[i], family, v, needed);
	}
}

/* The NSGs a compile builds: every one (NULL) without a focus, or when the
 * classifiers are built (they read every chain). */
static int focus_nsgs(nsgsim_policy *p, bool **needed, nsgsim_error *err)
{
	*needed = NULL;
	p->focused = p->m.n_focus > 0 && p->m.build != NSGSIM_BUILD_FULL;
	if (!p->focused)
		return 0;
	if (!(*needed = calloc(p->n_nsgs + 1, sizeof **needed)))
		return ns_nomem(err);
	mark_focus(p, *needed);
	return 0;
}

/* A focused query load of a compiled policy file left its rule blocks
 * unread (ns_model.rule_blocks): the blocks of the NSGs the focus needs are
 * read now (and any whose parent is no NSG, for compile's error), the
 * others only counted -- their chains stay unbuilt, as any outside a focus. */
static int read_rule_blocks(nsgsim_policy *p, const bool *needed, nsgsim_error *err)
{
	ns_model *m = &p->m;
	int rc = 0;
	for (size_t k = 0; rc == 0 && k < m->rule_blocks.n; k++) {
		const ns_rule_block *b = NS_VEC_AT(&m->rule_blocks, ns_rule_block, k);
		ns_cnsg *cg = ns_map_get(&p->nsg_by_id, b->parent);
		if (!cg || !needed || needed[cg - p->nsgs])
			rc = ns_nsgp_read_block(m, k, err);
		else
			cg->deferred_rules += b->n_first;
	}
	return rc;
}

/* ---- the platform layer ----------------------------------------------------------- */

/* The platform's rules (ns_azure_platform_rules) as a chain per variant:
 * variant v leaves out the services of bits v.  Each is named PlatformRule,
 * as flow logs name the platform's decisions, and ends the walk with Allow. */
static int compile_platform(nsgsim_policy *p, nsgsim_error *err)
{
	size_t n;
	const ns_platform_rule *pr = ns_azure_platform_rules(&n);
	for (int v = 0; v < NS_PLATFORM_VARIANTS; v++) {
		ns_chain *ch = &p->platform[v].out;
		ch->rules = ns_arena_alloc(&p->arena, (n + 1) * sizeof *ch->rules);
		if (!ch->rules)
			return ns_nomem(err);
		for (size_t i = 0; i < n; i++) {
			if (pr[i].service & v)
				continue;
			ns_rule *r = ns_arena_alloc(&p->arena, sizeof *r);
			ns_addr *dst = ns_arena_alloc(&p->arena, sizeof *dst);
			ns_port_range *port = ns_arena_alloc(&p->arena, sizeof *port);
			if (!r || !dst || !port)
				return ns_nomem(err);
			*port = (ns_port_range){pr[i].port, pr[i].port};
			*dst = (ns_addr){
			        .kind = NS_ADDR_CIDR, .family = 4, .addr = pr[i].addr, .plen = 32};
			dst->text = ns_arena_printf(&p->arena, "%u.%u.%u.%u", pr[i].addr >> 24,
			                            (pr[i].addr >> 16) & 255,
			                            (pr[i].addr >> 8) & 255, pr[i].addr & 255);
			r->name = "PlatformRule";
			r->id = ns_arena_printf(&p->arena, "%s/%s", NS_PLATFORM_RESOURCE,
			                        pr[i].what);
			r->parent_id = NS_PLATFORM_RESOURCE;
			r->priority = 0; /* before every rule; the chain keeps the table order */
			r->access = NS_ACCESS_ALWAYS_ALLOW;
			r->direction = NS_DIR_OUTBOUND;
			r->protocol = pr[i].protocol;
			r->src = (ns_side){
			        .form = NS_FORM_PREFIX, .ports = &all_ports, .n_ports = 1};
			r->src.addrs = ns_arena_alloc(&p->arena, sizeof *r->src.addrs);
			if (!r->id || !dst->text || !r->src.addrs)
				return ns_nomem(err);
			r->src.n_addrs = 1;
			r->src.addrs[0] = (ns_addr){.kind = NS_ADDR_ANY, .text = "*"};
			r->dst = (ns_side){.form = NS_FORM_PREFIX,
			                   .addrs = dst,
			                   .n_addrs = 1,
			                   .ports = port,
			                   .n_ports = 1};
			ns_crule *cr = &ch->rules[ch->n++];
			int rc = ns_compile_rule(p, r, cr, err);
			if (rc != 0)
				return rc;
			cr->ends = NSGSIM_ALLOW;
			cr->assume = NSGSIM_ASSUME_PLATFORM_SERVICES;
		}
	}
	return 0;
}

/* ---- virtual networks, subnets, NICs ------------------------------------------ */

static int compile_vnets(nsgsim_policy *p, nsgsim_error *err)
{
	ns_model *m = &p->m;
	ns_map seen;
	ns_map_init(&seen);
	int rc = 0;
	p->vnets = ns_arena_alloc(&p->arena, (m->vnets.n + 1) * sizeof *p->vnets);
	if (!p->vnets)
		rc = ns_nomem(err);
	ns_psb b;
	ns_psb_init(&b);
	for (size_t i = 0; rc == 0 && i < m->vnets.n; i++) {
		if (!first_of_id(&m->vnets, i, offsetof(ns_vnet, id), &seen, &rc, err))
			continue;
		ns_cvnet *cv = &p->vnets[p->n_vnets++];
		cv->v = NS_VEC_AT(&m->vnets, ns_vnet, i);
		for (size_t k = 0; k < cv->v->n_space && rc == 0; k++)
			rc = ns_add_addr(&b, &cv->v->space[k]);
		if (rc != 0 || ns_psb_finish(&b, &cv->space) != 0 ||
		    ns_map_put(&p->vnet_by_id, cv->v->id, cv) != 0)
			rc = ns_nomem(err);
	}
	ns_psb_free(&b);
	ns_map_free(&seen);
	return rc;
}

static int compile_subnets(nsgsim_policy *p, nsgsim_error *err)
{
	ns_model *m = &p->m;
	ns_map seen;
	ns_map_init(&seen);
	int rc = 0;
	p->subnets = ns_arena_alloc(&p->arena, (m->subnets.n + 1) * sizeof *p->subnets);
	if (!p->subnets)
		rc = ns_nomem(err);
	ns_psb b;
	ns_psb_init(&b);
	for (size_t i = 0; rc == 0 && i < m->subnets.n; i++) {
		if (!first_of_id(&m->subnets, i, offsetof(ns_subnet, id), &seen, &rc, err))
			continue;
		ns_csubnet *cs = &p->subnets[p->n_subnets++];
		const ns_subnet *s = cs->s = NS_VEC_AT(&m->subnets, ns_subnet, i);
		cs->vnet = ns_map_get(&p->vnet_by_id, s->vnet_id);
		if (!cs->vnet) {
			rc = ns_dangling(err, &s->loc, s->id, "virtual network", s->vnet_id);
			break;
		}
		if (s->nsg_id && !(cs->nsg = ns_map_get(&p->nsg_by_id, s->nsg_id))) {
			rc = ns_dangling(err, &s->nsg_loc, s->id, "network security group",
			                 s->nsg_id);
			break;
		}
		if (s->route_table_id && !(cs->rt = ns_map_get(&p->rt_by_id, s->route_table_id))) {
			rc = ns_dangling(err, &s->route_table_loc, s->id, "route table",
			                 s->route_table_id);
			break;
		}
		cs->admin_exempt_service = ns_azure_admin_exempt_service(s);
		if (!cs->vnet->intent_service)
			cs->vnet->intent_service = ns_azure_intent_service(s);
		for (size_t k = 0; k < s->n_prefixes && rc == 0; k++)
			rc = ns_add_addr(&b, &s->prefixes[k]);
		if (rc != 0 || ns_psb_finish(&b, &cs->prefixes) != 0 ||
		    ns_map_put(&p->subnet_by_id, s->id, cs) != 0)
			rc = ns_nomem(err);
	}
	ns_psb_free(&b);
	ns_map_free(&seen);
	return rc;
}

/* A template or plan that deploys a NIC into a network it does not create
 * (an existing VNet, given by id or parameter) cannot say what that subnet's
 * NSG and routes are: the NIC is left out with a note, as a REST export
 * that misses the subnet is an error. */
static bool deploys_into_existing(nsgsim_policy *p, const ns_nic *n, int *rc)
{
	for (size_t k = 0; k < n->n_ipconfigs; k++) {
		const ns_ipconfig *ipc = &n->ipconfigs[k];
		if (ipc->subnet_id && !ns_map_get(&p->subnet_by_id, ipc->subnet_id)) {
			*rc = ns_model_note(&p->m, NSGSIM_NOTE_SKIPPED, ipc->subnet_loc.file,
			                    ipc->subnet_loc.pointer, n->id,
			                    "the NIC is deployed into subnet '%s', which the input "
			                    "does not create (an existing network): it is not "
			                    "evaluated; give that network with another --env",
			                    ipc->subnet_id);
			return true;
		}
	}
	return false;
}

static int compile_nics(nsgsim_policy *p, nsgsim_error *err)
{
	ns_model *m = &p->m;
	ns_map seen;
	ns_map_init(&seen);
	int rc = 0;
	p->nics = ns_arena_alloc(&p->arena, (m->nics.n + 1) * sizeof *p->nics);
	if (!p->nics)
		rc = ns_nomem(err);
	for (size_t i = 0; rc == 0 && i < m->nics.n; i++) {
		if (!first_of_id(&m->nics, i, offsetof(ns_nic, id), &seen, &rc, err))
			continue;
		ns_cnic *cn = &p->nics[p->n_nics++];
		const ns_nic *n = cn->n = NS_VEC_AT(&m->nics, ns_nic, i);
		if (n->nsg_id && !(cn->nsg = ns_map_get(&p->nsg_by_id, n->nsg_id))) {
			rc = ns_dangling(err, &n->nsg_loc, n->id, "network security group",
			                 n->nsg_id);
			break;
		}
		if (n->from_code && deploys_into_existing(p, n, &rc)) {
			p->n_nics--;
			continue;
		}
		for (size_t k = 0; k < n->n_ipconfigs && rc == 0; k++) {
			const ns_ipconfig *ipc = &n->ipconfigs[k];
			ns_csubnet *cs = NULL;
			if (ipc->subnet_id &&
			    !(cs = ns_map_get(&p->subnet_by_id, ipc->subnet_id))) {
				rc = ns_dangling(err, &ipc->subnet_loc, n->id, "subnet",
				                 ipc->subnet_id);
				break;
			}
			if (!cn->subnet)
				cn->subnet = cs;
			if (cs && cn->subnet && cs->vnet != cn->subnet->vnet) {
				rc = ns_fail(err, NSGSIM_E_SHAPE, ipc->subnet_loc.file,
				             ipc->subnet_loc.pointer, n->id,
				             "all ipConfigurations of a NIC must be in one virtual "
				             "network");
				break;
			}
			if (ipc->n_asgs > 20)
				ns_model_note(&p->m, NSGSIM_NOTE_LIMIT, ipc->loc.file,
				              ipc->loc.pointer, n->id,
				              "%zu ASGs on one IP configuration; Azure allows 20",
				              ipc->n_asgs);
		}
		if (rc == 0 && ns_map_put(&p->nic_by_id, n->id, cn) != 0)
			rc = ns_nomem(err);
	}
	ns_map_free(&seen);
	return rc;
}

/* ---- ASGs: members and their virtual network --------------------------------- */

/* "All network interfaces assigned to an application security group have to
 * exist in the same virtual network that the first network interface
 * assigned to the application security group is in."
 * (application-security-groups.md; SEMANTICS.md §1.3, T10) */
static int compile_asgs(nsgsim_policy *p, nsgsim_error *err)
{
	ns_model *m = &p->m;
	ns_map seen;
	ns_map_init(&seen);
	int rc = 0;
	p->asgs = ns_arena_alloc(&p->arena, (m->asgs.n + 1) * sizeof *p->asgs);
	if (!p->asgs)
		return ns_nomem(err);
	for (size_t i = 0; rc == 0 && i < m->asgs.n; i++) {
		if (!first_of_id(&m->asgs, i, offsetof(ns_asg, id), &seen, &rc, err))
			continue;
		ns_casg *ca = &p->asgs[p->n_asgs++];
		ca->a = NS_VEC_AT(&m->asgs, ns_asg, i);
		if (ns_map_put(&p->asg_by_id, ca->a->id, ca) != 0)
			rc = ns_nomem(err);
	}
	ns_map_free(&seen);
	if (rc != 0)
		return rc;
	ns_psb *builders = calloc(p->n_asgs + 1, sizeof *builders);
	const ns_nic **first_nic = calloc(p->n_asgs + 1, sizeof *first_nic);
	if (!builders || !first_nic) {
		free(builders);
		free(first_nic);
		return ns_nomem(err);
	}
	for (size_t i = 0; i < p->n_nics && rc == 0; i++) {
		const ns_cnic *cn = &p->nics[i];
		for (size_t k = 0; k < cn->n->n_ipconfigs && rc == 0; k++) {
			const ns_ipconfig *ipc = &cn->n->ipconfigs[k];
			for (size_t a = 0; a < ipc->n_asgs && rc == 0; a++) {
				ns_casg *ca = ns_map_get(&p->asg_by_id, ipc->asg_ids[a]);
				if (!ca) {
					rc = ns_dangling(err, &ipc->asg_locs[a], cn->n->id,
					                 "application security group",
					                 ipc->asg_ids[a]);
					break;
				}
				size_t idx = (size_t)(ca - p->asgs);
				const ns_cvnet *vnet = cn->subnet ? cn->subnet->vnet : NULL;
				if (ca->vnet && vnet && ca->vnet != vnet) {
					rc = ns_fail(
					        err, NSGSIM_E_ASG_VNETS, ipc->asg_locs[a].file,
					        ipc->asg_locs[a].pointer, cn->n->id,
					        "application security group '%s' has members in "
					        "virtual networks '%s' (NIC '%s') and '%s' (NIC "
					        "'%s'); all must be in one virtual network",
					        ca->a->name, ca->vnet->v->name,
					        first_nic[idx]->name, vnet->v->name, cn->n->name);
					break;
				}
				if (!ca->vnet) {
					ca->vnet = vnet;
					first_nic[idx] = cn->n;
				}
				if (!ipc->has_ip)
					continue;
				ns_addr host = {.family = ipc->family,
				                .addr = ipc->ip,
				                .plen = ipc->family == 4 ? 32 : 128};
				if (ns_add_addr(&builders[idx], &host) != 0)
					rc = ns_nomem(err);
			}
		}
	}
	for (size_t i = 0; i < p->n_asgs; i++) {
		if (rc == 0 && ns_psb_finish(&builders[i], &p->asgs[i].members) != 0)
			rc = ns_nomem(err);
		ns_psb_free(&builders[i]);
	}
	free(builders);
	free(first_nic);
	return rc;
}

/* ---- the policy ---------------------------------------------------------------- */

static void policy_free_sets(nsgsim_policy *p)
{
	for (size_t i = 0; i < p->owned_sets.n; i++)
		ns_pset_free(*NS_VEC_AT(&p->owned_sets, ns_pset *, i));
	ns_vec_free(&p->owned_sets);
	for (size_t i = 0; i < p->n_vnets; i++) {
		ns_pset_free(&p->vnets[i].space);
		ns_pset_free(&p->vnets[i].peered);
	}
	for (size_t i = 0; i < p->n_subnets; i++) {
		ns_pset_free(&p->subnets[i].prefixes);
		ns_pset_free(&p->subnets[i].vnet_tag);
	}
	for (size_t i = 0; i < p->n_asgs; i++)
		ns_pset_free(&p->asgs[i].members);
	ns_pset_free(&p->internet);
	ns_pset_free(&p->load_balancer);
	for (size_t i = 0; i < NS_ARRAY_LEN(p->platform_tags); i++)
		ns_pset_free(&p->platform_tags[i]);
	ns_pset_free(&p->any);
}

NSGSIM_EXPORT void nsgsim_policy_free(nsgsim_policy *p)
{
	if (!p)
		return;
	ns_classify_free(p);
	free(p->ep_mem);
	policy_free_sets(p);
	ns_map *maps[] = {&p->nsg_by_id, &p->vnet_by_id, &p->subnet_by_id, &p->nic_by_id,
	                  &p->asg_by_id, &p->rt_by_id,   &p->mgr_by_id,    &p->group_by_id,
	                  &p->cfg_by_id, &p->coll_by_id, &p->member_by_key};
	for (size_t i = 0; i < NS_ARRAY_LEN(maps); i++)
		ns_map_free(maps[i]);
	ns_model_free(&p->m);
	ns_arena_free(&p->arena);
	free(p);
}

static int compile_all(nsgsim_policy *p, nsgsim_error *err)
{
	int rc;
	bool *needed = NULL;
	bool *rule_first = NULL;
	if ((rc = build_indexes(p, err)) != 0 || (rc = ns_compile_builtin_tags(p, err)) != 0 ||
	    (rc = compile_vnets(p, err)) != 0 || (rc = compile_nsg_shells(p, err)) != 0 ||
	    (rc = compile_subnets(p, err)) != 0 || (rc = compile_nics(p, err)) != 0 ||
	    (rc = compile_asgs(p, err)) != 0 || (rc = ns_compile_vnet_tags(p, err)) != 0 ||
	    (rc = focus_nsgs(p, &needed, err)) != 0 ||
	    (rc = read_rule_blocks(p, needed, err)) != 0 ||
	    (rc = index_rules(p, &rule_first, err)) != 0 ||
	    (rc = compile_nsg_rules(p, rule_first, needed, err)) != 0 ||
	    (rc = compile_platform(p, err)) != 0 || (rc = ns_compile_admin(p, err)) != 0 ||
	    (rc = ns_compile_endpoints(p, err)) != 0) {
		free(rule_first);
		free(needed);
		return rc;
	}
	free(rule_first);
	free(needed);
	/* Without classifiers every walk takes the reference scan (eval/walk.h):
	 * the same answers, nothing built that a few evaluations would not repay. */
	return p->m.build != NSGSIM_BUILD_FULL ? 0 : ns_classify_build(p, err);
}

NSGSIM_EXPORT int nsgsim_compile(nsgsim_loader *loader, nsgsim_policy **out, nsgsim_error *err)
{
	if (!loader || !out)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "",
		               "loader and out are required");
	*out = NULL;
	nsgsim_policy *p = calloc(1, sizeof *p);
	if (!p)
		return ns_nomem(err);
	ns_model *lm = ns_loader_model(loader);
	size_t notes_before = lm->notes.n;
	p->m = *lm; /* move; the loader gets it back on failure */
	p->n_parse_notes = notes_before;
	ns_vec_init(&p->owned_sets, sizeof(ns_pset *));
	int rc = compile_all(p, err);
	if (p->m.notes_failed && (rc == 0 || rc == NSGSIM_E_NOMEM))
		rc = ns_nomem(err); /* a failed note's NSGSIM_E_NOMEM did not fill err */
	if (rc != 0) {
		p->m.notes.n = notes_before;
		*lm = p->m;
		ns_model_init(&p->m);
		nsgsim_policy_free(p);
		return rc;
	}
	ns_model_init(lm);
	*out = p;
	return 0;
}

/* ---- notes and stats ----------------------------------------------------------- */

NSGSIM_EXPORT size_t nsgsim_policy_note_count(const nsgsim_policy *p)
{
	return p ? p->m.notes.n : 0;
}

NSGSIM_EXPORT int nsgsim_policy_note(const nsgsim_policy *p, size_t i, nsgsim_note *out)
{
	if (!p || !out || i >= p->m.notes.n)
		return NSGSIM_E_INVALID_ARG;
	const ns_note_rec *r = NS_VEC_AT(&p->m.notes, ns_note_rec, i);
	out->kind = r->kind;
	out->message = r->message;
	out->file = r->file ? r->file : "";
	out->pointer = r->pointer ? r->pointer : "";
	out->resource = r->resource ? r->resource : "";
	return 0;
}

NSGSIM_EXPORT void nsgsim_policy_stats(const nsgsim_policy *p, nsgsim_stats *s)
{
	if (!s)
		return;
	memset(s, 0, sizeof *s);
	if (!p)
		return;
	s->vnets = p->n_vnets;
	s->subnets = p->n_subnets;
	s->nics = p->n_nics;
	s->nsgs = p->n_nsgs;
	for (size_t i = 0; i < p->n_nsgs; i++)
		s->nsg_rules += p->nsgs[i].in.n + p->nsgs[i].out.n + p->nsgs[i].deferred_rules;
	s->asgs = p->n_asgs;
	s->route_tables = p->m.route_tables.n;
	s->network_managers = p->mgr_by_id.n;
	s->admin_rules = p->n_admin_rules;
	s->service_tags = p->m.tags.n;
}
