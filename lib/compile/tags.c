/* Address sets of the compile stage: the computed tags (VirtualNetwork per
 * subnet, Internet, AzureLoadBalancer; what they hold is in
 * lib/compile/azure.c), service tags, ASGs and CIDR lists, and the compiled
 * sides of a rule.
 *
 * May touch: lib/base, the model and the compiled policy. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "compile/azure.h"
#include "compile/compile.h"

static int add_text_prefix(ns_psb *b, const char *text)
{
	int family, plen;
	ns_u128 addr;
	if (ns_parse_prefix(text, &family, &addr, &plen, NULL, NULL, NULL) != 0)
		return -1;
	ns_addr a = {.kind = NS_ADDR_CIDR, .family = family, .addr = addr, .plen = plen};
	return ns_add_addr(b, &a);
}

static int set_from_texts(ns_pset *out, const char *const *texts, size_t n)
{
	ns_psb b;
	ns_psb_init(&b);
	for (size_t i = 0; i < n; i++) {
		if (add_text_prefix(&b, texts[i]) != 0) {
			ns_psb_free(&b);
			return -1;
		}
	}
	int rc = ns_psb_finish(&b, out);
	ns_psb_free(&b);
	return rc;
}

static int set_from_list(ns_pset *out, ns_prefix_list l)
{
	return set_from_texts(out, l.texts, l.n);
}

/* Internet as nsgsim defines it (ns_azure_internet_excluded). */
static int default_internet(ns_pset *out)
{
	ns_prefix_list excluded = ns_azure_internet_excluded();
	ns_pset universe = {0}, minus = {0};
	ns_psb b;
	ns_psb_init(&b);
	int rc = set_from_list(&universe, ns_azure_internet_universe());
	for (size_t i = 0; rc == 0 && i < excluded.n; i++)
		rc = add_text_prefix(&b, excluded.texts[i]);
	if (rc == 0)
		rc = ns_psb_finish(&b, &minus);
	if (rc == 0)
		rc = ns_pset_subtract(&universe, &minus, out);
	ns_psb_free(&b);
	ns_pset_free(&universe);
	ns_pset_free(&minus);
	return rc;
}

int ns_compile_builtin_tags(nsgsim_policy *p, nsgsim_error *err)
{
	const ns_tag *internet = ns_map_get(&p->m.tag_index, NS_TAG_INTERNET);
	const ns_tag *alb = ns_map_get(&p->m.tag_index, NS_TAG_LOAD_BALANCER);
	static const char *const any[] = {"0.0.0.0/0", "::/0"};
	int rc = internet ? ns_pset_copy(&internet->set, &p->internet)
	                  : default_internet(&p->internet);
	if (rc == 0)
		rc = alb ? ns_pset_copy(&alb->set, &p->load_balancer)
		         : set_from_list(&p->load_balancer, ns_azure_load_balancer());
	if (rc == 0)
		rc = set_from_texts(&p->any, any, 2);
	/* The platform tags, unless the input defines them (ns_azure_platform_tag). */
	for (int i = 0; rc == 0 && i < NS_AZURE_PLATFORM_TAGS; i++) {
		const char *prefix;
		ns_azure_platform_tag(i, NULL, &prefix);
		rc = set_from_texts(&p->platform_tags[i], &prefix, prefix ? 1 : 0);
	}
	p->internet_overridden = internet != NULL;
	if (ns_map_get(&p->m.tag_index, NS_TAG_VIRTUAL_NETWORK))
		ns_model_note(&p->m, NSGSIM_NOTE_WARNING, p->m.tags_file, "",
		              NS_TAG_VIRTUAL_NETWORK,
		              "the service-tags input defines VirtualNetwork; it is ignored, "
		              "because VirtualNetwork is computed per virtual network "
		              "(docs/SEMANTICS.md §4.2)");
	return rc == 0 ? 0 : ns_nomem(err);
}

/* ---- tags by name ------------------------------------------------------------ */

typedef struct tag_ref {
	const ns_pset *set; /* NULL with vnet set: VirtualNetwork */
	bool vnet;
	const char *name; /* canonical spelling */
	const ns_tag *tag;
} tag_ref;

static int resolve_tag(nsgsim_policy *p, const ns_addr *a, const char *resource, tag_ref *out,
                       nsgsim_error *err)
{
	memset(out, 0, sizeof *out);
	if (ns_ieq(a->text, NS_TAG_VIRTUAL_NETWORK)) {
		out->vnet = true;
		out->name = NS_TAG_VIRTUAL_NETWORK;
		return 0;
	}
	if (ns_ieq(a->text, NS_TAG_INTERNET) || ns_ieq(a->text, NS_TAG_LOAD_BALANCER)) {
		bool inet = ns_ieq(a->text, NS_TAG_INTERNET);
		out->set = inet ? &p->internet : &p->load_balancer;
		out->name = inet ? NS_TAG_INTERNET : NS_TAG_LOAD_BALANCER;
		return 0;
	}
	const ns_tag *t = ns_map_get(&p->m.tag_index, a->text);
	if (t) {
		out->set = &t->set;
		out->name = t->name;
		out->tag = t;
		return 0;
	}
	for (int i = 0; i < NS_AZURE_PLATFORM_TAGS; i++) {
		const char *name = ns_azure_platform_tag(i, NULL, NULL);
		if (ns_ieq(a->text, name)) {
			out->set = &p->platform_tags[i];
			out->name = name;
			return 0;
		}
	}
	/* Classic names are rejected by ARM (docs/SEMANTICS.md §1.3). */
	const char *hint = "";
	if (ns_ieq(a->text, "VIRTUAL_NETWORK") || ns_ieq(a->text, "AZURE_LOADBALANCER") ||
	    ns_ieq(a->text, "Any"))
		hint = "; classic spellings and 'Any' are not valid in ARM (use VirtualNetwork, "
		       "AzureLoadBalancer or '*')";
	else if (!p->m.has_tags)
		hint = "; no service-tags file was given (--service-tags)";
	return ns_fail(err, NSGSIM_E_UNKNOWN_TAG, a->loc.file, a->loc.pointer, resource,
	               "'%s' is not a known service tag%s", a->text, hint);
}

/* ---- VirtualNetwork per subnet ------------------------------------------------- */

static int peered_spaces(nsgsim_policy *p, nsgsim_error *err)
{
	ns_psb *b = calloc(p->n_vnets + 1, sizeof *b);
	if (!b)
		return ns_nomem(err);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < p->n_vnets; i++)
		if (ns_psb_add_set(&b[i], &p->vnets[i].space) != 0)
			rc = ns_nomem(err);
	for (size_t i = 0; rc == 0 && i < p->m.peerings.n; i++) {
		const ns_peering *pr = NS_VEC_AT(&p->m.peerings, ns_peering, i);
		ns_cvnet *local = ns_map_get(&p->vnet_by_id, pr->vnet_id);
		if (!local) {
			rc = ns_dangling(err, &pr->loc, pr->id, "virtual network", pr->vnet_id);
			break;
		}
		const ns_cvnet *remote = ns_map_get(&p->vnet_by_id, pr->remote_vnet_id);
		if (!remote && !pr->n_remote_space) {
			rc = ns_dangling(err, &pr->remote_loc, pr->id, "virtual network",
			                 pr->remote_vnet_id);
			break;
		}
		/* SEMANTICS.md §11: peering Connected and allowVirtualNetworkAccess. */
		if (!pr->connected || !pr->allow_vnet_access)
			continue;
		size_t k = (size_t)(local - p->vnets);
		if (remote) {
			rc = ns_psb_add_set(&b[k], &remote->space);
		} else {
			ns_model_note(&p->m, NSGSIM_NOTE_WARNING, pr->remote_loc.file,
			              pr->remote_loc.pointer, pr->id,
			              "the peered virtual network is not in the input; its "
			              "remoteAddressSpace is used");
			for (size_t j = 0; j < pr->n_remote_space && rc == 0; j++)
				rc = ns_add_addr(&b[k], &pr->remote_space[j]);
		}
		if (rc != 0)
			rc = ns_nomem(err);
	}
	for (size_t i = 0; i < p->n_vnets; i++) {
		if (rc == 0 && ns_psb_finish(&b[i], &p->vnets[i].peered) != 0)
			rc = ns_nomem(err);
		ns_psb_free(&b[i]);
	}
	free(b);
	return rc;
}

static int add_route_prefixes(nsgsim_policy *p, const ns_route_table *rt, ns_psb *b,
                              nsgsim_error *err)
{
	for (size_t i = 0; i < p->m.routes.n; i++) {
		const ns_route *r = NS_VEC_AT(&p->m.routes, ns_route, i);
		if (!ns_ieq(r->route_table_id, rt->id))
			continue;
		int rc;
		if (r->prefix.kind == NS_ADDR_TAG) {
			tag_ref t;
			if ((rc = resolve_tag(p, &r->prefix, r->id, &t, err)) != 0)
				return rc;
			if (t.vnet)
				return ns_fail(
				        err, NSGSIM_E_UNSUPPORTED, r->prefix.loc.file,
				        r->prefix.loc.pointer, r->id,
				        "a route to the VirtualNetwork tag is not supported");
			rc = ns_psb_add_set(b, t.set);
		} else {
			rc = ns_add_addr(b, &r->prefix);
		}
		if (rc != 0)
			return ns_nomem(err);
	}
	return 0;
}

/* "VirtualNetwork (as seen from the evaluated endpoint): its VNet's address
 * space, the address spaces of VNets peered with it, the prefixes of the
 * routes in the route table associated with the endpoint's subnet, and
 * 168.63.129.16/32" (docs/SEMANTICS.md §11, computed tags; service-tags-overview.md) */
int ns_compile_vnet_tags(nsgsim_policy *p, nsgsim_error *err)
{
	int rc = peered_spaces(p, err);
	for (size_t i = 0; rc == 0 && i < p->m.routes.n; i++) {
		const ns_route *r = NS_VEC_AT(&p->m.routes, ns_route, i);
		if (!ns_map_get(&p->rt_by_id, r->route_table_id))
			rc = ns_dangling(err, &r->loc, r->id, "route table", r->route_table_id);
	}
	ns_psb b;
	ns_psb_init(&b);
	for (size_t i = 0; rc == 0 && i < p->n_subnets; i++) {
		ns_csubnet *cs = &p->subnets[i];
		if (ns_psb_add_set(&b, &cs->vnet->peered) != 0 ||
		    ns_psb_add4(&b, NS_AZURE_HOST_IP, NS_AZURE_HOST_IP) != 0)
			rc = ns_nomem(err);
		if (rc == 0 && cs->rt)
			rc = add_route_prefixes(p, cs->rt, &b, err);
		if (rc == 0 && ns_psb_finish(&b, &cs->vnet_tag) != 0)
			rc = ns_nomem(err);
	}
	ns_psb_free(&b);
	return rc;
}

/* ---- rule sides ----------------------------------------------------------------- */

/* Finishes a builder into a set the policy owns. */
static int finish_owned_set(nsgsim_policy *p, ns_psb *b, const ns_pset **out, nsgsim_error *err)
{
	ns_pset *set = ns_policy_new_set(p);
	if (!set || ns_psb_finish(b, set) != 0)
		return ns_nomem(err);
	*out = set;
	return 0;
}

/* build false: the checks and notes only (ns_check_rule). */
static int union_asgs(nsgsim_policy *p, const ns_rule *r, const ns_side *side, ns_cside *out,
                      bool build, nsgsim_error *err)
{
	if (side->n_asgs > 10)
		ns_model_note(&p->m, NSGSIM_NOTE_LIMIT, r->loc.file, r->loc.pointer, r->id,
		              "%zu ASGs on one side of a rule; Azure allows 10", side->n_asgs);
	ns_psb b;
	ns_psb_init(&b);
	int rc = 0;
	for (size_t i = 0; i < side->n_asgs && rc == 0; i++) {
		const ns_casg *ca = ns_map_get(&p->asg_by_id, side->asg_ids[i]);
		if (!ca)
			rc = ns_dangling(err, &side->asg_locs[i], r->id,
			                 "application security group", side->asg_ids[i]);
		else if (!build)
			continue;
		else if (side->n_asgs == 1)
			out->set = &ca->members;
		else if (ns_psb_add_set(&b, &ca->members) != 0)
			rc = ns_nomem(err);
	}
	/* Several ASGs on a side mean any of them (docs/SEMANTICS.md §5, [INFERRED]). */
	if (rc == 0 && build && side->n_asgs > 1)
		rc = finish_owned_set(p, &b, &out->set, err);
	ns_psb_free(&b);
	return rc;
}

/* An admin rule may name a network group as an address: the address spaces of
 * its member VNets and subnets, static or by policy
 * (concept-security-admin-rules-network-group.md). */
static int add_group_addresses(nsgsim_policy *p, const ns_rule *r, const ns_addr *a, ns_psb *b,
                               bool build, nsgsim_error *err)
{
	if (!ns_map_get(&p->group_by_id, a->text))
		return ns_dangling(err, &a->loc, r->id, "network group", a->text);
	for (size_t i = 0; i < p->n_members; i++) {
		const ns_member *mb = &p->members[i];
		if (!ns_ieq(mb->group_id, a->text))
			continue;
		const ns_cvnet *v = ns_map_get(&p->vnet_by_id, mb->resource_id);
		const ns_csubnet *s = ns_map_get(&p->subnet_by_id, mb->resource_id);
		if (!v && !s)
			return ns_dangling(err, mb->sm ? &mb->sm->resource_loc : &mb->def->loc,
			                   mb->sm ? mb->sm->id : mb->def->id,
			                   "virtual network or subnet", mb->resource_id);
		if (build && ns_psb_add_set(b, v ? &v->space : &s->prefixes) != 0)
			return ns_nomem(err);
	}
	return 0;
}

static int feature_note(nsgsim_policy *p, const ns_rule *r, const ns_addr *a, const ns_tag *t)
{
	if (!t || t->n_features == 0)
		return 0;
	for (size_t i = 0; i < t->n_features; i++)
		if (ns_ieq(t->features[i], "NSG"))
			return 0;
	return ns_model_note(&p->m, NSGSIM_NOTE_WARNING, a->loc.file, a->loc.pointer, r->id,
	                     "service tag '%s' does not list NSG in its networkFeatures; Azure "
	                     "may not accept it in a rule",
	                     t->name);
}

static int compile_addrs(nsgsim_policy *p, const ns_rule *r, const ns_side *side, ns_cside *out,
                         bool build, nsgsim_error *err)
{
	if (side->n_addrs == 0) { /* admin: empty means any (docs/SEMANTICS.md §11 decision 7) */
		out->any_addr = true;
		return 0;
	}
	for (size_t i = 0; i < side->n_addrs; i++) {
		if (side->addrs[i].kind == NS_ADDR_ANY) {
			out->any_addr = true;
			return 0;
		}
	}
	ns_psb b;
	ns_psb_init(&b);
	int rc = 0;
	bool single_set = false;
	for (size_t i = 0; i < side->n_addrs && rc == 0; i++) {
		const ns_addr *a = &side->addrs[i];
		if (a->kind == NS_ADDR_CIDR) {
			if (build && ns_add_addr(&b, a) != 0)
				rc = ns_nomem(err);
		} else if (a->kind == NS_ADDR_NET_GROUP) {
			rc = add_group_addresses(p, r, a, &b, build, err);
		} else {
			tag_ref t;
			if ((rc = resolve_tag(p, a, r->id, &t, err)) != 0)
				break;
			feature_note(p, r, a, t.tag);
			out->tag = t.name;
			if (!build) {
				continue;
			} else if (side->n_addrs == 1) {
				out->vnet_tag = t.vnet;
				out->set = t.set;
				single_set = true;
			} else if (t.vnet) {
				/* An admin side may list VirtualNetwork beside prefixes and
				 * tags (only admin sides take several items with tags): the
				 * side is their union, VirtualNetwork as seen from each
				 * evaluated VNet (concept-security-admins.md, "service tags"
				 * in the source and destination lists). */
				out->vnet_tag = true;
				out->vnet_mixed = true;
			} else if (ns_psb_add_set(&b, t.set) != 0) {
				rc = ns_nomem(err);
			}
		}
	}
	if (rc == 0 && build && !single_set)
		rc = finish_owned_set(p, &b, &out->set, err);
	ns_psb_free(&b);
	return rc;
}

static int compile_side(nsgsim_policy *p, const ns_rule *r, const ns_side *side, ns_cside *out,
                        bool build, nsgsim_error *err)
{
	/* A range covering every port is the same as no port clause. */
	out->ports = side->ports;
	out->n_ports = side->n_ports;
	for (size_t i = 0; i < side->n_ports; i++)
		if (side->ports[i].lo == 0 && side->ports[i].hi == 65535)
			out->n_ports = 0;
	size_t n_addrs = side->form == NS_FORM_ASGS ? side->n_asgs : side->n_addrs;
	if (n_addrs > 4000)
		ns_model_note(&p->m, NSGSIM_NOTE_LIMIT, r->loc.file, r->loc.pointer, r->id,
		              "%zu addresses on one side of a rule; Azure allows 4,000", n_addrs);
	if (side->form == NS_FORM_ASGS)
		return union_asgs(p, r, side, out, build, err);
	return compile_addrs(p, r, side, out, build, err);
}

/* "If you specify an application security group as the source and
 * destination in a security rule, the network interfaces in both
 * application security groups must exist in the same virtual network."
 * (application-security-groups.md; SEMANTICS.md §1.3) */
static int check_asg_pair(const nsgsim_policy *p, const ns_rule *r, nsgsim_error *err)
{
	if (r->src.form != NS_FORM_ASGS || r->dst.form != NS_FORM_ASGS)
		return 0;
	for (size_t i = 0; i < r->src.n_asgs; i++) {
		const ns_casg *a = ns_map_get(&p->asg_by_id, r->src.asg_ids[i]);
		for (size_t k = 0; k < r->dst.n_asgs; k++) {
			const ns_casg *b = ns_map_get(&p->asg_by_id, r->dst.asg_ids[k]);
			if (a && b && a->vnet && b->vnet && a->vnet != b->vnet)
				return ns_fail(
				        err, NSGSIM_E_ASG_VNETS, r->dst.asg_locs[k].file,
				        r->dst.asg_locs[k].pointer, r->id,
				        "source ASG '%s' has members in virtual network '%s' and "
				        "destination ASG '%s' in '%s'; both must be in one "
				        "virtual network",
				        a->a->name, a->vnet->v->name, b->a->name, b->vnet->v->name);
		}
	}
	return 0;
}

static int compile_rule(nsgsim_policy *p, const ns_rule *r, ns_crule *out, bool build,
                        nsgsim_error *err)
{
	int rc0 = check_asg_pair(p, r, err);
	if (rc0 != 0)
		return rc0;
	out->r = r;
	out->priority = r->priority;
	out->access = r->access;
	out->direction = r->direction;
	out->protocol = r->protocol;
	out->ends = ns_azure_match_ends(r->access);
	int rc = compile_side(p, r, &r->src, &out->src, build, err);
	if (rc == 0)
		rc = compile_side(p, r, &r->dst, &out->dst, build, err);
	/* A platform tag the input does not define means what nsgsim takes it
	 * to (ns_azure_platform_tag): the platform-services assumption. */
	for (int i = 0; rc == 0 && i < NS_AZURE_PLATFORM_TAGS; i++)
		if (out->src.set == &p->platform_tags[i] || out->dst.set == &p->platform_tags[i])
			out->assume |= NSGSIM_ASSUME_PLATFORM_SERVICES;
	return rc;
}

int ns_compile_rule(nsgsim_policy *p, const ns_rule *r, ns_crule *out, nsgsim_error *err)
{
	return compile_rule(p, r, out, true, err);
}

/* The rule as ns_compile_rule sees it -- the same errors and notes -- without
 * its address sets: the sides of out are left without a set, so the chain
 * that holds it must never be walked (ns_chain.unbuilt). */
int ns_check_rule(nsgsim_policy *p, const ns_rule *r, ns_crule *out, nsgsim_error *err)
{
	return compile_rule(p, r, out, false, err);
}
