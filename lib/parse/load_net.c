/* The parse stage for the network around the NSGs: virtual networks and their
 * subnets and peerings, NICs and their ipConfigurations, application
 * security groups, route tables and routes (SPEC virtualNetwork.json,
 * networkInterface.json, applicationSecurityGroup.json, routeTable.json). */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/load.h"

/* ---- virtual networks --------------------------------------------------------- */

/* A subnet has addressPrefix, or addressPrefixes (dual stack). */
static int parse_subnet(ns_pctx *c, const cJSON *res, const char *vnet_id, const char *type)
{
	ns_subnet s = {0};
	int rc = ns_identify(c, res, type, vnet_id, "subnets", &s.loc, &s.id, &s.name, &s.vnet_id);
	if (rc != 0)
		return rc;
	const char *single;
	const char **plural;
	ns_loc *plural_locs;
	size_t n_plural;
	if ((rc = ns_opt_string(c, res, "addressPrefix", &single)) != 0 ||
	    (rc = ns_opt_string_array(c, res, "addressPrefixes", &plural, &plural_locs, &n_plural,
	                              NULL)) != 0)
		return rc;
	if (single) {
		size_t mark;
		ns_prop(c, res, "addressPrefix", &mark);
		ns_loc loc = ns_loc_here(c);
		ns_ptr_pop(c, mark);
		rc = ns_parse_prefix_list(c, &single, &loc, 1, &s.prefixes);
		s.n_prefixes = 1;
	} else if (n_plural) {
		rc = ns_parse_prefix_list(c, plural, plural_locs, n_plural, &s.prefixes);
		s.n_prefixes = n_plural;
	} else {
		size_t mark = ns_ptr_prop(c, res, "addressPrefix");
		rc = ns_pfail(c, NSGSIM_E_MISSING_FIELD,
		              "a subnet needs 'addressPrefix' or 'addressPrefixes'");
		ns_ptr_pop(c, mark);
	}
	if (rc != 0)
		return rc;
	if ((rc = ns_opt_ref(c, res, "networkSecurityGroup", &s.nsg_id, &s.nsg_loc)) != 0 ||
	    (rc = ns_opt_ref(c, res, "routeTable", &s.route_table_id, &s.route_table_loc)) != 0)
		return rc;
	/* Delegations name the services in the subnet (SEMANTICS.md §6.4). */
	size_t mark;
	const cJSON *dels = ns_prop(c, res, "delegations", &mark);
	if (cJSON_IsArray(dels)) {
		size_t n = (size_t)cJSON_GetArraySize(dels);
		s.services = ns_arena_alloc(&c->m->arena, (n + 1) * sizeof *s.services);
		if (!s.services)
			return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
		const cJSON *d;
		size_t i = 0;
		cJSON_ArrayForEach(d, dels)
		{
			size_t m2 = ns_ptr_index(c, i++);
			const char *svc = NULL;
			if (cJSON_IsObject(d) &&
			    (rc = ns_opt_string(c, d, "serviceName", &svc)) != 0)
				return rc;
			if (svc)
				s.services[s.n_services++] = svc;
			ns_ptr_pop(c, m2);
		}
	}
	if (dels)
		ns_ptr_pop(c, mark);
	/* An Application Gateway shows up as applicationGatewayIPConfigurations. */
	const cJSON *agw = ns_prop(c, res, "applicationGatewayIPConfigurations", &mark);
	if (agw) {
		if (cJSON_IsArray(agw) && cJSON_GetArraySize(agw) > 0) {
			const char **svcs =
			        ns_arena_alloc(&c->m->arena, (s.n_services + 2) * sizeof *svcs);
			if (!svcs)
				return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
			for (size_t i = 0; i < s.n_services; i++)
				svcs[i] = s.services[i];
			svcs[s.n_services++] = "Microsoft.Network/applicationGateways";
			s.services = svcs;
		}
		ns_ptr_pop(c, mark);
	}
	return ns_push(c, &c->m->subnets, &s);
}

static int parse_peering(ns_pctx *c, const cJSON *res, const char *vnet_id, const char *type)
{
	ns_peering p = {0};
	int rc = ns_identify(c, res, type, vnet_id, "virtualNetworkPeerings", &p.loc, &p.id,
	                     &p.name, &p.vnet_id);
	if (rc != 0)
		return rc;
	if ((rc = ns_opt_ref(c, res, "remoteVirtualNetwork", &p.remote_vnet_id, &p.remote_loc)) !=
	    0)
		return rc;
	if (!p.remote_vnet_id) {
		size_t mark = ns_ptr_prop(c, res, "remoteVirtualNetwork");
		rc = ns_pfail(c, NSGSIM_E_MISSING_FIELD, "a peering needs 'remoteVirtualNetwork'");
		ns_ptr_pop(c, mark);
		return rc;
	}
	const char *state;
	if ((rc = ns_opt_string(c, res, "peeringState", &state)) != 0)
		return rc;
	/* Only a Connected peering carries traffic; an export without the
	 * (read-only) state is taken as connected. */
	p.connected = !state || ns_ieq(state, "Connected");
	size_t mark;
	const cJSON *allow = ns_prop(c, res, "allowVirtualNetworkAccess", &mark);
	p.allow_vnet_access = true; /* the API default */
	if (allow) {
		if (!cJSON_IsBool(allow))
			return ns_expected(c, allow, "true or false");
		p.allow_vnet_access = cJSON_IsTrue(allow);
		ns_ptr_pop(c, mark);
	}
	const cJSON *ras = ns_prop(c, res, "remoteAddressSpace", &mark);
	if (ras) {
		const char **texts;
		ns_loc *locs;
		if ((rc = ns_opt_string_array(c, ras, "addressPrefixes", &texts, &locs,
		                              &p.n_remote_space, NULL)) != 0 ||
		    (rc = ns_parse_prefix_list(c, texts, locs, p.n_remote_space,
		                               &p.remote_space)) != 0)
			return rc;
		ns_ptr_pop(c, mark);
	}
	return ns_push(c, &c->m->peerings, &p);
}

static int nested_subnet(ns_pctx *c, const cJSON *child, const char *vnet_id)
{
	return parse_subnet(c, child, vnet_id, NULL);
}

static int nested_peering(ns_pctx *c, const cJSON *child, const char *vnet_id)
{
	return parse_peering(c, child, vnet_id, NULL);
}

/* Location and tags, for Azure Policy conditions (lib/compile/membership.c):
 * top-level in every shape.  A value that is not a plain string (an unknown
 * of a template) is left out, so that a condition on it does not match. */
static int vnet_policy_fields(ns_pctx *c, const cJSON *res, ns_vnet *v)
{
	const char *loc = ns_raw_string(res, "location");
	if (loc && !(v->location = ns_arena_strdup(&c->m->arena, loc)))
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	const cJSON *tags = cJSON_GetObjectItem(res, "tags");
	if (!cJSON_IsObject(tags))
		return 0;
	size_t n = (size_t)cJSON_GetArraySize(tags);
	v->tag_keys = ns_arena_alloc(&c->m->arena, (n + 1) * sizeof *v->tag_keys);
	v->tag_values = ns_arena_alloc(&c->m->arena, (n + 1) * sizeof *v->tag_values);
	if (!v->tag_keys || !v->tag_values)
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	const cJSON *t;
	cJSON_ArrayForEach(t, tags)
	{
		if (!cJSON_IsString(t))
			continue;
		v->tag_keys[v->n_tags] = ns_arena_strdup(&c->m->arena, t->string);
		v->tag_values[v->n_tags] = ns_arena_strdup(&c->m->arena, t->valuestring);
		if (!v->tag_keys[v->n_tags] || !v->tag_values[v->n_tags])
			return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
		v->n_tags++;
	}
	return 0;
}

int ns_parse_vnet(ns_pctx *c, const cJSON *res, const char *type)
{
	ns_vnet v = {0};
	int rc = ns_identify(c, res, type, NULL, NULL, &v.loc, &v.id, &v.name, NULL);
	if (rc != 0)
		return rc;
	size_t mark;
	const cJSON *space = ns_prop(c, res, "addressSpace", &mark);
	if (!space) {
		mark = ns_ptr_prop(c, res, "addressSpace");
		rc = ns_pfail(c, NSGSIM_E_MISSING_FIELD, "a virtual network needs 'addressSpace'");
		ns_ptr_pop(c, mark);
		return rc;
	}
	const char **texts;
	ns_loc *locs;
	if ((rc = ns_opt_string_array(c, space, "addressPrefixes", &texts, &locs, &v.n_space,
	                              NULL)) != 0 ||
	    (rc = ns_parse_prefix_list(c, texts, locs, v.n_space, &v.space)) != 0)
		return rc;
	ns_ptr_pop(c, mark);
	if ((rc = vnet_policy_fields(c, res, &v)) != 0 ||
	    (rc = ns_each_child(c, res, "subnets", v.id, nested_subnet)) != 0 ||
	    (rc = ns_each_child(c, res, "virtualNetworkPeerings", v.id, nested_peering)) != 0)
		return rc;
	return ns_push(c, &c->m->vnets, &v);
}

/* ---- NICs, ASGs, route tables ------------------------------------------------ */

static int parse_ipconfig(ns_pctx *c, const cJSON *res, ns_ipconfig *ip)
{
	ip->loc = ns_loc_here(c);
	int rc = ns_opt_string(c, res, "name", &ip->name);
	const char *addr = NULL;
	size_t mark;
	const cJSON *v = ns_prop(c, res, "privateIPAddress", &mark);
	if (v && cJSON_IsRaw(v)) {
		/* A dynamic address in a plan: kept as an assumption of every
		 * answer at the NIC (NSGSIM_ASSUME_UNKNOWN_NIC_ADDRESS). */
		ip->ip_unknown = true;
		ns_ptr_pop(c, mark);
	} else if (v) {
		ns_ptr_pop(c, mark);
		if (rc == 0)
			rc = ns_opt_string(c, res, "privateIPAddress", &addr);
	}
	if (rc != 0)
		return rc;
	if (addr) {
		ns_prop(c, res, "privateIPAddress", &mark);
		if (ns_parse_ip(addr, &ip->family, &ip->ip) != 0)
			return ns_pfail(c, NSGSIM_E_BAD_PREFIX,
			                "'%s' is not an IP address (expected e.g. 10.0.0.4)", addr);
		ip->has_ip = true;
		ip->ip_text = addr;
		ns_ptr_pop(c, mark);
	}
	if ((rc = ns_opt_ref(c, res, "subnet", &ip->subnet_id, &ip->subnet_loc)) != 0 ||
	    (rc = ns_opt_ref_array(c, res, "applicationSecurityGroups", &ip->asg_ids, &ip->asg_locs,
	                           &ip->n_asgs)) != 0)
		return rc;
	return 0;
}

/* "00-0D-3A-F8-78-56" (REST), "00:0d:3a:f8:78:56" or "000D3AF87856" (flow
 * logs): twelve hex digits, kept upper case without separators. */
static int parse_mac(ns_pctx *c, const cJSON *res, ns_nic *n)
{
	const char *text;
	int rc = ns_opt_string(c, res, "macAddress", &text);
	if (rc != 0 || !text || !*text)
		return rc;
	char hex[13];
	size_t k = 0;
	for (const char *p = text; *p && k <= 12; p++) {
		if (*p == '-' || *p == ':')
			continue;
		if (k == 12 || !isxdigit((unsigned char)*p)) {
			k = 13;
			break;
		}
		hex[k++] = (char)toupper((unsigned char)*p);
	}
	if (k != 12) {
		size_t mark;
		ns_prop(c, res, "macAddress", &mark);
		rc = ns_pfail(c, NSGSIM_E_SHAPE,
		              "'%s' is not a MAC address (expected e.g. 00-0D-3A-F8-78-56)", text);
		ns_ptr_pop(c, mark);
		return rc;
	}
	hex[12] = '\0';
	n->mac = ns_arena_strdup(&c->m->arena, hex);
	n->mac_text = text;
	return n->mac ? 0 : ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
}

int ns_parse_nic(ns_pctx *c, const cJSON *res, const char *type)
{
	ns_nic n = {.from_code = c->evaluated};
	int rc = ns_identify(c, res, type, NULL, NULL, &n.loc, &n.id, &n.name, NULL);
	if (rc == 0)
		rc = ns_opt_ref(c, res, "networkSecurityGroup", &n.nsg_id, &n.nsg_loc);
	if (rc == 0)
		rc = parse_mac(c, res, &n);
	if (rc != 0)
		return rc;
	size_t mark;
	const cJSON *arr = ns_prop(c, res, "ipConfigurations", &mark);
	if (arr) {
		if (!cJSON_IsArray(arr))
			return ns_expected(c, arr, "an array");
		size_t cnt = (size_t)cJSON_GetArraySize(arr);
		n.ipconfigs = ns_arena_alloc(&c->m->arena, (cnt + 1) * sizeof *n.ipconfigs);
		if (!n.ipconfigs)
			return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
		const cJSON *item;
		cJSON_ArrayForEach(item, arr)
		{
			size_t m2 = ns_ptr_index(c, n.n_ipconfigs);
			if (!cJSON_IsObject(item))
				return ns_expected(c, item, "an object");
			if ((rc = parse_ipconfig(c, item, &n.ipconfigs[n.n_ipconfigs])) != 0)
				return rc;
			n.n_ipconfigs++;
			ns_ptr_pop(c, m2);
		}
		ns_ptr_pop(c, mark);
	}
	return ns_push(c, &c->m->nics, &n);
}

int ns_parse_asg(ns_pctx *c, const cJSON *res, const char *type)
{
	ns_asg a = {0};
	int rc = ns_identify(c, res, type, NULL, NULL, &a.loc, &a.id, &a.name, NULL);
	if (rc != 0)
		return rc;
	return ns_push(c, &c->m->asgs, &a);
}

static int parse_route(ns_pctx *c, const cJSON *res, const char *rt_id, const char *type)
{
	ns_route r = {0};
	int rc = ns_identify(c, res, type, rt_id, "routes", &r.loc, &r.id, &r.name,
	                     &r.route_table_id);
	if (rc != 0)
		return rc;
	const char *prefix;
	if ((rc = ns_req_string(c, res, "addressPrefix", &prefix)) != 0 ||
	    (rc = ns_opt_string(c, res, "nextHopType", &r.next_hop_type)) != 0)
		return rc;
	size_t mark;
	ns_prop(c, res, "addressPrefix", &mark);
	r.prefix.text = prefix;
	r.prefix.loc = ns_loc_here(c);
	/* Routes may name a service tag since 2022 (SEMANTICS.md §4.1). */
	if (ns_looks_like_tag(prefix)) {
		r.prefix.kind = NS_ADDR_TAG;
	} else {
		r.prefix.kind = NS_ADDR_CIDR;
		rc = ns_parse_prefix(prefix, &r.prefix.family, &r.prefix.addr, &r.prefix.plen,
		                     &r.prefix.loc, ns_pctx_resource(c), c->err);
		if (rc != 0)
			return rc;
	}
	ns_ptr_pop(c, mark);
	return ns_push(c, &c->m->routes, &r);
}

static int nested_route(ns_pctx *c, const cJSON *child, const char *rt_id)
{
	return parse_route(c, child, rt_id, NULL);
}

int ns_parse_standalone_route(ns_pctx *c, const cJSON *res, const char *type)
{
	return parse_route(c, res, NULL, type);
}

int ns_parse_route_table(ns_pctx *c, const cJSON *res, const char *type)
{
	ns_route_table t = {0};
	int rc = ns_identify(c, res, type, NULL, NULL, &t.loc, &t.id, &t.name, NULL);
	if (rc == 0)
		rc = ns_each_child(c, res, "routes", t.id, nested_route);
	if (rc != 0)
		return rc;
	return ns_push(c, &c->m->route_tables, &t);
}

int ns_parse_standalone_subnet(ns_pctx *c, const cJSON *res, const char *type)
{
	return parse_subnet(c, res, NULL, type);
}

int ns_parse_standalone_peering(ns_pctx *c, const cJSON *res, const char *type)
{
	return parse_peering(c, res, NULL, type);
}
