/* `nsgsim show`: the model a policy was compiled from, written back as one
 * REST-shaped {"value": [...]} document with Azure's property names
 * (SPEC networkSecurityGroup.json, virtualNetwork.json,
 * networkInterface.json, routeTable.json, networkManager*.json).  Children
 * are nested in their parents the way a GET returns them; network manager
 * resources are top-level, as Azure lists them.  The loader reads the
 * output back to the same model, so the answers are the same
 * (tests/test_show.c checks it).
 *
 * May touch: lib/base, the compiled policy (its model). */
#include <stdio.h>
#include <string.h>

#include "compile/policy.h"
#include "report/jw.h"
#include "report/report.h"
#include "report/show.h"

static void jw_kraw(jw *w, const char *key, const char *raw)
{
	jw_key(w, key);
	ns_buf_puts(w->b, raw);
}

static void jw_kint(jw *w, const char *key, long long v)
{
	jw_key(w, key);
	ns_buf_printf(w->b, "%lld", v);
}

/* {"id": ...} as a member, the way references are written. */
static void jw_kref(jw *w, const char *key, const char *id)
{
	jw_key(w, key);
	jw_open(w, "{");
	jw_kstr(w, "id", id);
	jw_close(w, "}");
}

static void jw_ref_array(jw *w, const char *key, const char *const *ids, size_t n)
{
	jw_key(w, key);
	jw_open(w, "[");
	for (size_t i = 0; i < n; i++) {
		jw_sep(w);
		jw_open(w, "{");
		jw_kstr(w, "id", ids[i]);
		jw_close(w, "}");
	}
	jw_close(w, "]");
}

static void jw_str_array(jw *w, const char *key, const char *const *s, size_t n)
{
	jw_key(w, key);
	jw_open(w, "[");
	for (size_t i = 0; i < n; i++)
		jw_str(w, s[i]);
	jw_close(w, "]");
}

static void jw_addr_texts(jw *w, const char *key, const ns_addr *a, size_t n)
{
	jw_key(w, key);
	jw_open(w, "[");
	for (size_t i = 0; i < n; i++)
		jw_str(w, a[i].text);
	jw_close(w, "]");
}

/* Opens a resource object: id, name, type, then "properties": {. */
static void res_open(jw *w, const char *id, const char *name, const char *type)
{
	jw_sep(w);
	jw_open(w, "{");
	jw_kstr(w, "id", id);
	jw_kstr(w, "name", name ? name : "");
	if (type)
		jw_kstr(w, "type", type);
	jw_key(w, "properties");
	jw_open(w, "{");
}

static void res_close(jw *w)
{
	jw_close(w, "}");
	jw_close(w, "}");
}

/* The last segment of an id: the name of a resource the model keeps none for. */
static const char *last_segment(const char *id)
{
	const char *s = strrchr(id, '/');
	return s ? s + 1 : id;
}

/* ---- rules ------------------------------------------------------------------- */

/* Any protocol as the input spells it: '*' in an NSG rule, Any in an admin rule. */
static const char *proto_text(int proto, bool admin)
{
	const char *name = ns_protocol_name(proto);
	return name ? name : admin ? "Any" : "*";
}

static const char *access_text(int access)
{
	return access == NS_ACCESS_ALLOW  ? "Allow"
	       : access == NS_ACCESS_DENY ? "Deny"
	                                  : "AlwaysAllow";
}

static void port_text(const ns_port_range *r, char *buf, size_t cap)
{
	if (r->lo == 0 && r->hi == 65535)
		snprintf(buf, cap, "*");
	else if (r->lo == r->hi)
		snprintf(buf, cap, "%u", (unsigned)r->lo);
	else
		snprintf(buf, cap, "%u-%u", (unsigned)r->lo, (unsigned)r->hi);
}

static void ports(jw *w, const char *one, const char *many, const ns_side *s)
{
	char buf[32];
	if (!s->ports_plural && s->n_ports == 1) {
		port_text(&s->ports[0], buf, sizeof buf);
		jw_kstr(w, one, buf);
		return;
	}
	jw_key(w, many);
	jw_open(w, "[");
	for (size_t i = 0; i < s->n_ports; i++) {
		port_text(&s->ports[i], buf, sizeof buf);
		jw_str(w, buf);
	}
	jw_close(w, "]");
}

/* sourceAddressPrefix, sourceAddressPrefixes or sourceApplicationSecurityGroups:
 * the one the input used (ns_side_form). */
static void nsg_side(jw *w, const char *which, const ns_side *s)
{
	char key[64];
	if (s->form == NS_FORM_ASGS) {
		snprintf(key, sizeof key, "%sApplicationSecurityGroups", which);
		jw_ref_array(w, key, s->asg_ids, s->n_asgs);
	} else if (s->form == NS_FORM_PREFIX && s->n_addrs == 1) {
		snprintf(key, sizeof key, "%sAddressPrefix", which);
		jw_kstr(w, key, s->addrs[0].text);
	} else {
		snprintf(key, sizeof key, "%sAddressPrefixes", which);
		jw_addr_texts(w, key, s->addrs, s->n_addrs);
	}
	char one[64], many[64];
	snprintf(one, sizeof one, "%sPortRange", which);
	snprintf(many, sizeof many, "%sPortRanges", which);
	ports(w, one, many, s);
}

static void nsg_rule(jw *w, const ns_rule *r)
{
	res_open(w, r->id, r->name, "Microsoft.Network/networkSecurityGroups/securityRules");
	jw_kstr(w, "protocol", proto_text(r->protocol, false));
	nsg_side(w, "source", &r->src);
	nsg_side(w, "destination", &r->dst);
	jw_kstr(w, "access", access_text(r->access));
	jw_kint(w, "priority", r->priority);
	jw_kstr(w, "direction", r->direction == NS_DIR_INBOUND ? "Inbound" : "Outbound");
	res_close(w);
}

static const char *admin_type_text(int kind)
{
	return kind == NS_ADDR_NET_GROUP ? "NetworkGroup"
	       : kind == NS_ADDR_TAG     ? "ServiceTag"
	                                 : "IPPrefix";
}

static void admin_items(jw *w, const char *key, const ns_side *s)
{
	jw_key(w, key);
	jw_open(w, "[");
	for (size_t i = 0; i < s->n_addrs; i++) {
		jw_sep(w);
		jw_open(w, "{");
		jw_kstr(w, "addressPrefix", s->addrs[i].text);
		jw_kstr(w, "addressPrefixType", admin_type_text(s->addrs[i].kind));
		jw_close(w, "}");
	}
	jw_close(w, "]");
}

static void admin_rule(jw *w, const ns_rule *r)
{
	jw_sep(w);
	jw_open(w, "{");
	jw_kstr(w, "id", r->id);
	jw_kstr(w, "name", r->name ? r->name : "");
	jw_kstr(w, "type",
	        "Microsoft.Network/networkManagers/securityAdminConfigurations/ruleCollections/"
	        "rules");
	jw_kstr(w, "kind", "Custom");
	jw_key(w, "properties");
	jw_open(w, "{");
	jw_kstr(w, "protocol", proto_text(r->protocol, true));
	admin_items(w, "sources", &r->src);
	admin_items(w, "destinations", &r->dst);
	ports(w, "", "sourcePortRanges",
	      &(ns_side){.ports = r->src.ports, .n_ports = r->src.n_ports, .ports_plural = true});
	ports(w, "", "destinationPortRanges",
	      &(ns_side){.ports = r->dst.ports, .n_ports = r->dst.n_ports, .ports_plural = true});
	jw_kstr(w, "access", access_text(r->access));
	jw_kint(w, "priority", r->priority);
	jw_kstr(w, "direction", r->direction == NS_DIR_INBOUND ? "Inbound" : "Outbound");
	res_close(w);
}

/* ---- resources by kind ------------------------------------------------------- */

static void nsgs(jw *w, const ns_model *m)
{
	for (size_t i = 0; i < m->nsgs.n; i++) {
		const ns_nsg *g = NS_VEC_AT(&m->nsgs, ns_nsg, i);
		res_open(w, g->id, g->name, "Microsoft.Network/networkSecurityGroups");
		jw_key(w, "securityRules");
		jw_open(w, "[");
		for (size_t k = 0; k < m->rules.n; k++) {
			const ns_rule *r = NS_VEC_AT(&m->rules, ns_rule, k);
			if (!r->is_default && ns_ieq(r->parent_id, g->id))
				nsg_rule(w, r);
		}
		jw_close(w, "]");
		res_close(w);
	}
}

static void asgs(jw *w, const ns_model *m)
{
	for (size_t i = 0; i < m->asgs.n; i++) {
		const ns_asg *a = NS_VEC_AT(&m->asgs, ns_asg, i);
		res_open(w, a->id, a->name, "Microsoft.Network/applicationSecurityGroups");
		res_close(w);
	}
}

static void route_tables(jw *w, const ns_model *m)
{
	for (size_t i = 0; i < m->route_tables.n; i++) {
		const ns_route_table *t = NS_VEC_AT(&m->route_tables, ns_route_table, i);
		res_open(w, t->id, t->name, "Microsoft.Network/routeTables");
		jw_key(w, "routes");
		jw_open(w, "[");
		for (size_t k = 0; k < m->routes.n; k++) {
			const ns_route *r = NS_VEC_AT(&m->routes, ns_route, k);
			if (!ns_ieq(r->route_table_id, t->id))
				continue;
			res_open(w, r->id, r->name, "Microsoft.Network/routeTables/routes");
			jw_kstr(w, "addressPrefix", r->prefix.text);
			if (r->next_hop_type)
				jw_kstr(w, "nextHopType", r->next_hop_type);
			res_close(w);
		}
		jw_close(w, "]");
		res_close(w);
	}
}

static void subnet(jw *w, const ns_subnet *s)
{
	res_open(w, s->id, s->name, "Microsoft.Network/virtualNetworks/subnets");
	if (s->n_prefixes == 1)
		jw_kstr(w, "addressPrefix", s->prefixes[0].text);
	else if (s->n_prefixes > 1)
		jw_addr_texts(w, "addressPrefixes", s->prefixes, s->n_prefixes);
	if (s->nsg_id)
		jw_kref(w, "networkSecurityGroup", s->nsg_id);
	if (s->route_table_id)
		jw_kref(w, "routeTable", s->route_table_id);
	if (s->n_services) {
		/* An Application Gateway was read as a service too (lib/parse/load_net.c);
		 * a delegation to it reads back the same. */
		jw_key(w, "delegations");
		jw_open(w, "[");
		for (size_t i = 0; i < s->n_services; i++) {
			jw_sep(w);
			jw_open(w, "{");
			jw_kstr(w, "name", s->services[i]);
			jw_key(w, "properties");
			jw_open(w, "{");
			jw_kstr(w, "serviceName", s->services[i]);
			jw_close(w, "}");
			jw_close(w, "}");
		}
		jw_close(w, "]");
	}
	res_close(w);
}

static void peering(jw *w, const ns_peering *p)
{
	res_open(w, p->id, p->name, "Microsoft.Network/virtualNetworks/virtualNetworkPeerings");
	if (p->remote_vnet_id)
		jw_kref(w, "remoteVirtualNetwork", p->remote_vnet_id);
	jw_kstr(w, "peeringState", p->connected ? "Connected" : "Disconnected");
	jw_kraw(w, "allowVirtualNetworkAccess", p->allow_vnet_access ? "true" : "false");
	if (p->n_remote_space) {
		jw_key(w, "remoteAddressSpace");
		jw_open(w, "{");
		jw_addr_texts(w, "addressPrefixes", p->remote_space, p->n_remote_space);
		jw_close(w, "}");
	}
	res_close(w);
}

static void vnets(jw *w, const ns_model *m)
{
	for (size_t i = 0; i < m->vnets.n; i++) {
		const ns_vnet *v = NS_VEC_AT(&m->vnets, ns_vnet, i);
		if (v->location || v->n_tags) {
			/* What Azure Policy conditions read: top-level, before properties. */
			jw_sep(w);
			jw_open(w, "{");
			jw_kstr(w, "id", v->id);
			jw_kstr(w, "name", v->name ? v->name : "");
			jw_kstr(w, "type", "Microsoft.Network/virtualNetworks");
			if (v->location)
				jw_kstr(w, "location", v->location);
			if (v->n_tags) {
				jw_key(w, "tags");
				jw_open(w, "{");
				for (size_t k = 0; k < v->n_tags; k++)
					jw_kstr(w, v->tag_keys[k], v->tag_values[k]);
				jw_close(w, "}");
			}
			jw_key(w, "properties");
			jw_open(w, "{");
		} else {
			res_open(w, v->id, v->name, "Microsoft.Network/virtualNetworks");
		}
		jw_key(w, "addressSpace");
		jw_open(w, "{");
		jw_addr_texts(w, "addressPrefixes", v->space, v->n_space);
		jw_close(w, "}");
		jw_key(w, "subnets");
		jw_open(w, "[");
		for (size_t k = 0; k < m->subnets.n; k++) {
			const ns_subnet *s = NS_VEC_AT(&m->subnets, ns_subnet, k);
			if (ns_ieq(s->vnet_id, v->id))
				subnet(w, s);
		}
		jw_close(w, "]");
		jw_key(w, "virtualNetworkPeerings");
		jw_open(w, "[");
		for (size_t k = 0; k < m->peerings.n; k++) {
			const ns_peering *p = NS_VEC_AT(&m->peerings, ns_peering, k);
			if (ns_ieq(p->vnet_id, v->id))
				peering(w, p);
		}
		jw_close(w, "]");
		res_close(w);
	}
}

static void ipconfig(jw *w, const ns_ipconfig *ip)
{
	jw_sep(w);
	jw_open(w, "{");
	if (ip->name)
		jw_kstr(w, "name", ip->name);
	jw_key(w, "properties");
	jw_open(w, "{");
	if (ip->has_ip)
		jw_kstr(w, "privateIPAddress", ip->ip_text);
	if (ip->subnet_id)
		jw_kref(w, "subnet", ip->subnet_id);
	if (ip->n_asgs)
		jw_ref_array(w, "applicationSecurityGroups", ip->asg_ids, ip->n_asgs);
	jw_close(w, "}");
	jw_close(w, "}");
}

static void nics(jw *w, const ns_model *m)
{
	for (size_t i = 0; i < m->nics.n; i++) {
		const ns_nic *n = NS_VEC_AT(&m->nics, ns_nic, i);
		res_open(w, n->id, n->name, "Microsoft.Network/networkInterfaces");
		if (n->nsg_id)
			jw_kref(w, "networkSecurityGroup", n->nsg_id);
		if (n->mac_text)
			jw_kstr(w, "macAddress", n->mac_text);
		jw_key(w, "ipConfigurations");
		jw_open(w, "[");
		for (size_t k = 0; k < n->n_ipconfigs; k++)
			ipconfig(w, &n->ipconfigs[k]);
		jw_close(w, "]");
		res_close(w);
	}
}

static void managers(jw *w, const ns_model *m)
{
	for (size_t i = 0; i < m->managers.n; i++) {
		const ns_manager *g = NS_VEC_AT(&m->managers, ns_manager, i);
		res_open(w, g->id, g->name, "Microsoft.Network/networkManagers");
		jw_key(w, "networkManagerScopes");
		jw_open(w, "{");
		jw_str_array(w, "managementGroups", g->scope_mgmt_groups, g->n_scope_mgmt_groups);
		jw_str_array(w, "subscriptions", g->scope_subscriptions, g->n_scope_subscriptions);
		jw_close(w, "}");
		res_close(w);
	}
	for (size_t i = 0; i < m->net_groups.n; i++) {
		const ns_net_group *g = NS_VEC_AT(&m->net_groups, ns_net_group, i);
		res_open(w, g->id, g->name, "Microsoft.Network/networkManagers/networkGroups");
		res_close(w);
	}
	for (size_t i = 0; i < m->static_members.n; i++) {
		const ns_static_member *s = NS_VEC_AT(&m->static_members, ns_static_member, i);
		res_open(w, s->id, last_segment(s->id),
		         "Microsoft.Network/networkManagers/networkGroups/staticMembers");
		jw_kstr(w, "resourceId", s->resource_id);
		res_close(w);
	}
}

static void admin_configs(jw *w, const ns_model *m)
{
	for (size_t i = 0; i < m->admin_configs.n; i++) {
		const ns_admin_config *c = NS_VEC_AT(&m->admin_configs, ns_admin_config, i);
		res_open(w, c->id, c->name,
		         "Microsoft.Network/networkManagers/securityAdminConfigurations");
		const char *intent = c->apply_on_intent == NS_INTENT_ALL ? "All"
		                     : c->apply_on_intent == NS_INTENT_ALLOW_RULES_ONLY
		                             ? "AllowRulesOnly"
		                             : "None";
		jw_str_array(w, "applyOnNetworkIntentPolicyBasedServices", &intent, 1);
		res_close(w);
	}
	for (size_t i = 0; i < m->rule_collections.n; i++) {
		const ns_rule_collection *c =
		        NS_VEC_AT(&m->rule_collections, ns_rule_collection, i);
		res_open(w, c->id, c->name,
		         "Microsoft.Network/networkManagers/securityAdminConfigurations/"
		         "ruleCollections");
		jw_key(w, "appliesToGroups");
		jw_open(w, "[");
		for (size_t k = 0; k < c->n_groups; k++) {
			jw_sep(w);
			jw_open(w, "{");
			jw_kstr(w, "networkGroupId", c->group_ids[k]);
			jw_close(w, "}");
		}
		jw_close(w, "]");
		res_close(w);
	}
	for (size_t i = 0; i < m->admin_rules.n; i++)
		admin_rule(w, NS_VEC_AT(&m->admin_rules, ns_rule, i));
}

/* ---- Azure Policy for network groups, as REST prints it ---------------------- */

static void policy_values(jw *w, const char *key, const char *const *vals, size_t n, bool list)
{
	if (list || n != 1)
		jw_str_array(w, key, vals, n);
	else
		jw_kstr(w, key, vals[0]);
}

static void policy_cond(jw *w, const ns_cond *k)
{
	jw_open(w, "{");
	if (k->kind == NS_COND_NOT) {
		jw_key(w, "not");
		policy_cond(w, &k->kids[0]);
	} else if (k->kind != NS_COND_LEAF) {
		jw_key(w, k->kind == NS_COND_ALL ? "allOf" : "anyOf");
		jw_open(w, "[");
		for (size_t i = 0; i < k->n_kids; i++) {
			jw_sep(w);
			policy_cond(w, &k->kids[i]);
		}
		jw_close(w, "]");
	} else {
		jw_kstr(w, k->field_text[0] == '[' ? "value" : "field", k->field_text);
		if (k->param) {
			char ref[300];
			snprintf(ref, sizeof ref, "[parameters('%s')]", k->param);
			jw_kstr(w, k->op_text, ref);
		} else {
			policy_values(w, k->op_text, k->values, k->n_values,
			              k->op == NS_OP_IN || k->op == NS_OP_NOT_IN);
		}
	}
	jw_close(w, "}");
}

static void policy_params(jw *w, const char *member, const ns_policy_param *ps, size_t n)
{
	if (n == 0)
		return;
	jw_key(w, "parameters");
	jw_open(w, "{");
	for (size_t i = 0; i < n; i++) {
		jw_key(w, ps[i].name);
		jw_open(w, "{");
		if (ps[i].has_value)
			policy_values(w, member, ps[i].values, ps[i].n_values, false);
		jw_close(w, "}");
	}
	jw_close(w, "}");
}

static void policies(jw *w, const ns_model *m)
{
	for (size_t i = 0; i < m->policy_defs.n; i++) {
		const ns_policy_def *d = NS_VEC_AT(&m->policy_defs, ns_policy_def, i);
		res_open(w, d->id, d->name, "Microsoft.Authorization/policyDefinitions");
		jw_kstr(w, "mode", "Microsoft.Network.Data");
		jw_key(w, "policyRule");
		jw_open(w, "{");
		jw_key(w, "if");
		policy_cond(w, &d->cond);
		jw_key(w, "then");
		jw_open(w, "{");
		jw_kstr(w, "effect", "addToNetworkGroup");
		jw_key(w, "details");
		jw_open(w, "{");
		jw_kstr(w, "networkGroupId", d->group_id);
		jw_close(w, "}");
		jw_close(w, "}");
		jw_close(w, "}");
		policy_params(w, "defaultValue", d->params, d->n_params);
		res_close(w);
	}
	for (size_t i = 0; i < m->policy_asgs.n; i++) {
		const ns_policy_asg *a = NS_VEC_AT(&m->policy_asgs, ns_policy_asg, i);
		res_open(w, a->id, a->name, "Microsoft.Authorization/policyAssignments");
		jw_kstr(w, "policyDefinitionId", a->def_id);
		jw_kstr(w, "scope", a->scope);
		if (a->n_not_scopes)
			jw_str_array(w, "notScopes", a->not_scopes, a->n_not_scopes);
		policy_params(w, "value", a->params, a->n_params);
		res_close(w);
	}
}

void ns_show_json(const nsgsim_policy *p, ns_buf *b)
{
	jw w = {b, 0, true};
	jw_open(&w, "{");
	jw_key(&w, "value");
	jw_open(&w, "[");
	nsgs(&w, &p->m);
	asgs(&w, &p->m);
	route_tables(&w, &p->m);
	vnets(&w, &p->m);
	nics(&w, &p->m);
	managers(&w, &p->m);
	admin_configs(&w, &p->m);
	policies(&w, &p->m);
	jw_close(&w, "]");
	jw_close(&w, "}");
	ns_buf_puts(b, "\n");
}
