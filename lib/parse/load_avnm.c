/* The parse stage for Azure Virtual Network Manager resources: network
 * managers, network groups and their static members, security admin
 * configurations, rule collections and admin rules
 * (SPEC networkManager*.json; SEMANTICS.md §6.1). */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "parse/load.h"

int ns_parse_manager(ns_pctx *c, const cJSON *res, const char *type)
{
	ns_manager mgr = {0};
	int rc = ns_identify(c, res, type, NULL, NULL, &mgr.loc, &mgr.id, &mgr.name, NULL);
	if (rc != 0)
		return rc;
	size_t mark;
	const cJSON *scopes = ns_prop(c, res, "networkManagerScopes", &mark);
	if (scopes) {
		if ((rc = ns_opt_string_array(c, scopes, "managementGroups", &mgr.scope_mgmt_groups,
		                              NULL, &mgr.n_scope_mgmt_groups, NULL)) != 0 ||
		    (rc = ns_opt_string_array(c, scopes, "subscriptions", &mgr.scope_subscriptions,
		                              NULL, &mgr.n_scope_subscriptions, NULL)) != 0)
			return rc;
		ns_ptr_pop(c, mark);
	}
	return ns_push(c, &c->m->managers, &mgr);
}

int ns_parse_net_group(ns_pctx *c, const cJSON *res, const char *type)
{
	ns_net_group g = {0};
	int rc = ns_identify(c, res, type, NULL, NULL, &g.loc, &g.id, &g.name, &g.manager_id);
	if (rc != 0)
		return rc;
	return ns_push(c, &c->m->net_groups, &g);
}

int ns_parse_static_member(ns_pctx *c, const cJSON *res, const char *type)
{
	ns_static_member s = {0};
	const char *name;
	int rc = ns_identify(c, res, type, NULL, NULL, &s.loc, &s.id, &name, &s.group_id);
	if (rc == 0)
		rc = ns_req_string(c, res, "resourceId", &s.resource_id);
	if (rc != 0)
		return rc;
	size_t mark;
	ns_prop(c, res, "resourceId", &mark);
	s.resource_loc = ns_loc_here(c);
	ns_ptr_pop(c, mark);
	return ns_push(c, &c->m->static_members, &s);
}

/* applyOnNetworkIntentPolicyBasedServices: array of None | All |
 * AllowRulesOnly (SPEC; SEMANTICS.md §6.4). */
int ns_parse_admin_config(ns_pctx *c, const cJSON *res, const char *type)
{
	ns_admin_config cfg = {0};
	int rc = ns_identify(c, res, type, NULL, NULL, &cfg.loc, &cfg.id, &cfg.name,
	                     &cfg.manager_id);
	if (rc != 0)
		return rc;
	const char **vals;
	ns_loc *locs;
	size_t n;
	if ((rc = ns_opt_string_array(c, res, "applyOnNetworkIntentPolicyBasedServices", &vals,
	                              &locs, &n, NULL)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (ns_ieq(vals[i], "All")) {
			cfg.apply_on_intent = NS_INTENT_ALL;
		} else if (ns_ieq(vals[i], "AllowRulesOnly")) {
			if (cfg.apply_on_intent != NS_INTENT_ALL)
				cfg.apply_on_intent = NS_INTENT_ALLOW_RULES_ONLY;
		} else if (!ns_ieq(vals[i], "None")) {
			return ns_fail(
			        c->err, NSGSIM_E_SHAPE, locs[i].file, locs[i].pointer,
			        ns_pctx_resource(c),
			        "'%s' is not a valid applyOnNetworkIntentPolicyBasedServices "
			        "value (expected None, All or AllowRulesOnly)",
			        vals[i]);
		}
	}
	return ns_push(c, &c->m->admin_configs, &cfg);
}

int ns_parse_rule_collection(ns_pctx *c, const cJSON *res, const char *type)
{
	ns_rule_collection rc_ = {0};
	int rc =
	        ns_identify(c, res, type, NULL, NULL, &rc_.loc, &rc_.id, &rc_.name, &rc_.config_id);
	if (rc != 0)
		return rc;
	size_t mark;
	const cJSON *groups = ns_prop(c, res, "appliesToGroups", &mark);
	if (!groups) {
		mark = ns_ptr_prop(c, res, "appliesToGroups");
		rc = ns_pfail(c, NSGSIM_E_MISSING_FIELD,
		              "a rule collection needs 'appliesToGroups' (required by the API)");
		ns_ptr_pop(c, mark);
		return rc;
	}
	if (!cJSON_IsArray(groups))
		return ns_expected(c, groups, "an array of {\"networkGroupId\": ...}");
	size_t n = (size_t)cJSON_GetArraySize(groups);
	rc_.group_ids = ns_arena_alloc(&c->m->arena, (n + 1) * sizeof *rc_.group_ids);
	rc_.group_locs = ns_arena_alloc(&c->m->arena, (n + 1) * sizeof *rc_.group_locs);
	if (!rc_.group_ids || !rc_.group_locs)
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	const cJSON *item;
	cJSON_ArrayForEach(item, groups)
	{
		size_t m2 = ns_ptr_index(c, rc_.n_groups);
		if (!cJSON_IsObject(item))
			return ns_expected(c, item, "{\"networkGroupId\": ...}");
		if ((rc = ns_req_string(c, item, "networkGroupId", &rc_.group_ids[rc_.n_groups])) !=
		    0)
			return rc;
		size_t m3 = ns_ptr_key(c, "networkGroupId");
		rc_.group_locs[rc_.n_groups++] = ns_loc_here(c);
		ns_ptr_pop(c, m3);
		ns_ptr_pop(c, m2);
	}
	ns_ptr_pop(c, mark);
	return ns_push(c, &c->m->rule_collections, &rc_);
}

/* AzurePlatformDNS/IMDS/LKM are not supported in admin rules
 * (concept-limitations.md; SEMANTICS.md §4.3). */
static bool platform_tag(const char *tag)
{
	return ns_ieq(tag, "AzurePlatformDNS") || ns_ieq(tag, "AzurePlatformIMDS") ||
	       ns_ieq(tag, "AzurePlatformLKM");
}

static int parse_admin_item(ns_pctx *c, const cJSON *item, ns_addr *a)
{
	if (!cJSON_IsObject(item))
		return ns_expected(c, item, "{\"addressPrefix\": ..., \"addressPrefixType\": ...}");
	const char *prefix, *ptype;
	int rc = ns_req_string(c, item, "addressPrefix", &prefix);
	if (rc == 0)
		rc = ns_req_string(c, item, "addressPrefixType", &ptype);
	if (rc != 0)
		return rc;
	size_t mark = ns_ptr_key(c, "addressPrefix");
	a->text = prefix;
	a->loc = ns_loc_here(c);
	if (ns_ieq(ptype, "IPPrefix")) {
		if (strcmp(prefix, "*") == 0) {
			a->kind = NS_ADDR_ANY;
		} else {
			a->kind = NS_ADDR_CIDR;
			rc = ns_parse_prefix(prefix, &a->family, &a->addr, &a->plen, &a->loc,
			                     ns_pctx_resource(c), c->err);
		}
	} else if (ns_ieq(ptype, "ServiceTag")) {
		a->kind = NS_ADDR_TAG;
		if (platform_tag(prefix))
			rc = ns_pfail(c, NSGSIM_E_UNSUPPORTED,
			              "service tag '%s' is not supported in security admin rules",
			              prefix);
	} else if (ns_ieq(ptype, "NetworkGroup")) {
		a->kind = NS_ADDR_NET_GROUP;
	} else {
		ns_ptr_pop(c, mark);
		mark = ns_ptr_key(c, "addressPrefixType");
		rc = ns_pfail(
		        c, NSGSIM_E_SHAPE,
		        "'%s' is not a valid addressPrefixType (expected IPPrefix, ServiceTag "
		        "or NetworkGroup)",
		        ptype);
	}
	if (rc == 0)
		ns_ptr_pop(c, mark);
	return rc;
}

/* sources/destinations: an empty or absent list means any (SEMANTICS.md
 * §11 decision 7: the portal's "left blank"). */
static int parse_admin_addrs(ns_pctx *c, const cJSON *res, const char *key, ns_side *side)
{
	side->form = NS_FORM_ITEMS;
	size_t mark;
	const cJSON *arr = ns_prop(c, res, key, &mark);
	if (!arr)
		return 0;
	if (!cJSON_IsArray(arr))
		return ns_expected(c, arr, "an array of address prefix items");
	size_t n = (size_t)cJSON_GetArraySize(arr);
	ns_ptr_pop(c, mark);
	int rc0 = ns_count_addresses(c, res, key, n);
	if (rc0 != 0)
		return rc0;
	ns_prop(c, res, key, &mark);
	side->addrs = ns_arena_alloc(&c->m->arena, (n + 1) * sizeof *side->addrs);
	if (!side->addrs)
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	const cJSON *item;
	cJSON_ArrayForEach(item, arr)
	{
		size_t m2 = ns_ptr_index(c, side->n_addrs);
		int rc = parse_admin_item(c, item, &side->addrs[side->n_addrs]);
		if (rc != 0)
			return rc;
		side->n_addrs++;
		ns_ptr_pop(c, m2);
	}
	ns_ptr_pop(c, mark);
	return 0;
}

static int parse_admin_ports(ns_pctx *c, const cJSON *res, const char *key, ns_side *side)
{
	const char **texts;
	ns_loc *locs;
	size_t n;
	int rc = ns_opt_string_array(c, res, key, &texts, &locs, &n, NULL);
	if (rc != 0)
		return rc;
	side->ports = ns_arena_alloc(&c->m->arena, (n + 1) * sizeof *side->ports);
	if (!side->ports)
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		rc = ns_parse_port_range(texts[i], &side->ports[i], &locs[i], ns_pctx_resource(c),
		                         c->err);
		if (rc != 0)
			return rc;
	}
	side->n_ports = n;
	return 0;
}

int ns_parse_admin_rule(ns_pctx *c, const cJSON *res, const char *type)
{
	ns_rule r = {0};
	int rc = ns_identify(c, res, type, NULL, NULL, &r.loc, &r.id, &r.name, &r.parent_id);
	if (rc != 0)
		return rc;
	const char *kind = NULL;
	if ((rc = ns_opt_string(c, res, "kind", &kind)) != 0)
		return rc;
	size_t mark;
	const cJSON *flag = ns_prop(c, res, "flag", &mark);
	if (flag)
		ns_ptr_pop(c, mark);
	/* Kind Default selects a built-in rule by its flag; its contents are
	 * not in the input, so it cannot be modelled faithfully. */
	if ((kind && ns_ieq(kind, "Default")) || flag) {
		mark = ns_ptr_key(c, "kind");
		rc = ns_pfail(c, NSGSIM_E_UNSUPPORTED,
		              "admin rules of kind 'Default' (built-in rules chosen by 'flag') are "
		              "not supported: their contents are not in the input; replace it with "
		              "an equivalent 'Custom' rule");
		ns_ptr_pop(c, mark);
		return rc;
	}
	if (kind && !ns_ieq(kind, "Custom")) {
		mark = ns_ptr_key(c, "kind");
		rc = ns_pfail(c, NSGSIM_E_SHAPE, "'%s' is not a valid kind (expected Custom)",
		              kind);
		ns_ptr_pop(c, mark);
		return rc;
	}
	/* AdminPropertiesFormat: protocol, access, direction and priority are
	 * required; priority 1-4096 (SPEC; SEMANTICS.md §6.1, T1). */
	if ((rc = ns_parse_protocol(c, res, &r.protocol)) != 0 ||
	    (rc = ns_parse_access(c, res, true, &r.access)) != 0 ||
	    (rc = ns_parse_priority(c, res, 1, 4096, true, &r.priority)) != 0 ||
	    (rc = ns_parse_direction(c, res, &r.direction)) != 0 ||
	    (rc = parse_admin_addrs(c, res, "sources", &r.src)) != 0 ||
	    (rc = parse_admin_addrs(c, res, "destinations", &r.dst)) != 0 ||
	    (rc = parse_admin_ports(c, res, "sourcePortRanges", &r.src)) != 0 ||
	    (rc = parse_admin_ports(c, res, "destinationPortRanges", &r.dst)) != 0)
		return rc;
	return ns_push(c, &c->m->admin_rules, &r);
}
