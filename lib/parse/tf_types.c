/* The azurerm network resources, each translated into its REST shape (the
 * attribute names of the azurerm provider's documentation of each resource,
 * the same inline and standalone) and read by the environment readers; the
 * association resources (subnet/NIC to NSG, route table, ASG) and network
 * manager deployments are links, applied to the resources they name.
 * Renamed spellings of azurerm 3, 4 and 5 are read alike: a subnet's
 * address_prefix and address_prefixes, the NIC's and subnet's own
 * network_security_group_id of older versions, the VNet subnet block's
 * security_group and route_table_id. */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/tf.h"

typedef void (*tf_read_fn)(ns_tf_blk *props);

/* ---- blocks ----------------------------------------------------------------------- */

typedef void (*tf_block_fn)(ns_tf_blk *elem, size_t k);

static bool props_of(ns_tf_blk *elem, ns_tf_blk *props);

/* A named child resource nested in its parent ({"name", "properties"}: an
 * NSG's rules, a route table's routes): fields fills the properties. */
static void named_child(ns_tf_blk *elem, tf_read_fn fields)
{
	ns_tf_put_str(elem, "name", "name");
	ns_tf_blk p;
	if (props_of(elem, &p))
		fields(&p);
}

/* A list (or set) of nested blocks at tf_key, each becoming an object of
 * the REST array rest_key; fn fills each (NULL: a named child whose
 * properties `fields` fills). */
static void each_block(ns_tf_blk *b, const char *tf_key, const char *rest_key, tf_block_fn fn,
                       tf_read_fn fields)
{
	const cJSON *blocks = cJSON_GetObjectItem(b->vals, tf_key);
	const cJSON *unk = cJSON_GetObjectItem(b->unk, tf_key);
	if (cJSON_IsTrue(unk)) {
		/* Computed blocks the configuration does not set (a VNet's subnet
		 * with standalone subnets, an NSG's security_rule with standalone
		 * rules) are what the standalone resources make. */
		if (cJSON_GetObjectItem(b->expr, tf_key))
			ns_tf_put(b, rest_key, tf_key, ns_tf_unknown(b, tf_key, NULL));
		return;
	}
	if (!cJSON_IsArray(blocks) || cJSON_GetArraySize(blocks) == 0)
		return;
	cJSON *arr = ns_tf_put(b, rest_key, tf_key, cJSON_CreateArray());
	ns_tf_blk ab;
	if (!arr)
		return;
	ns_tf_blk_child(&ab, b, arr, rest_key, blocks, unk, NULL, tf_key);
	size_t k = 0;
	const cJSON *blk;
	cJSON_ArrayForEach(blk, blocks)
	{
		char idx[24];
		snprintf(idx, sizeof idx, "%zu", k);
		cJSON *elem = ns_tf_put(&ab, idx, idx, cJSON_CreateObject());
		if (!elem)
			return;
		ns_tf_blk eb;
		ns_tf_blk_child(&eb, &ab, elem, idx, blk, cJSON_GetArrayItem(unk, (int)k),
		                ns_tf_config_block(b->expr, tf_key, blk, k), idx);
		if (cJSON_IsObject(blk) && fn)
			fn(&eb, k);
		else if (cJSON_IsObject(blk))
			named_child(&eb, fields);
		k++;
	}
}

/* The "properties" object of a nested REST resource, over the same values. */
static bool props_of(ns_tf_blk *elem, ns_tf_blk *props)
{
	cJSON *p = ns_tf_put(elem, "properties", NULL, cJSON_CreateObject());
	if (!p)
		return false;
	ns_tf_blk_child(props, elem, p, "properties", elem->vals, elem->unk, elem->expr, NULL);
	return true;
}

/* ---- links ------------------------------------------------------------------------ */

static const ns_tf_link *find_link(ns_tf_doc *d, int kind, const char *target, size_t *from)
{
	for (size_t i = from ? *from : 0; i < d->n_links; i++)
		if (d->links[i].kind == kind && ns_ieq(d->links[i].target, target)) {
			if (from)
				*from = i + 1;
			d->links[i].used = true;
			return &d->links[i];
		}
	return NULL;
}

/* A reference the association sets: {"id": value}, from the association. */
static void put_link(ns_tf_blk *b, const char *rest_key, const ns_tf_link *l)
{
	cJSON *ref = cJSON_CreateObject();
	if (ref && !cJSON_AddStringToObject(ref, "id", l->value)) {
		cJSON_Delete(ref);
		ref = NULL;
	}
	if (!ns_tf_put(b, rest_key, NULL, ref))
		return;
	char rest[sizeof b->rest + 64];
	snprintf(rest, sizeof rest, "%s/%s", b->rest, rest_key);
	ns_tf_map_add(b->tr, rest, l->ptr);
}

/* A subnet's NSG and route table: its association resources', else its own. */
static void subnet_links(ns_tf_blk *props, const char *subnet_id, const char *nsg_key,
                         const char *rt_key)
{
	ns_tf_doc *d = props->tr->d;
	const ns_tf_link *l = subnet_id ? find_link(d, NS_TF_SUBNET_NSG, subnet_id, NULL) : NULL;
	if (l)
		put_link(props, "networkSecurityGroup", l);
	else
		ns_tf_put_ref(props, nsg_key, "networkSecurityGroup");
	l = subnet_id ? find_link(d, NS_TF_SUBNET_ROUTE_TABLE, subnet_id, NULL) : NULL;
	if (l)
		put_link(props, "routeTable", l);
	else
		ns_tf_put_ref(props, rt_key, "routeTable");
}

/* ---- NSGs ------------------------------------------------------------------------ */

/* The same attributes inline (security_rule) and standalone. */
static void rule_fields(ns_tf_blk *p)
{
	static const char *const strs[][2] = {
	        {"protocol", "protocol"},
	        {"access", "access"},
	        {"direction", "direction"},
	        {"description", "description"},
	        {"source_port_range", "sourcePortRange"},
	        {"destination_port_range", "destinationPortRange"},
	        {"source_address_prefix", "sourceAddressPrefix"},
	        {"destination_address_prefix", "destinationAddressPrefix"},
	};
	static const char *const lists[][2] = {
	        {"source_port_ranges", "sourcePortRanges"},
	        {"destination_port_ranges", "destinationPortRanges"},
	        {"source_address_prefixes", "sourceAddressPrefixes"},
	        {"destination_address_prefixes", "destinationAddressPrefixes"},
	};
	for (size_t i = 0; i < NS_ARRAY_LEN(strs); i++)
		ns_tf_put_str(p, strs[i][0], strs[i][1]);
	for (size_t i = 0; i < NS_ARRAY_LEN(lists); i++)
		ns_tf_put_strs(p, lists[i][0], lists[i][1]);
	ns_tf_put_num(p, "priority", "priority");
	ns_tf_put_refs(p, "source_application_security_group_ids",
	               "sourceApplicationSecurityGroups");
	ns_tf_put_refs(p, "destination_application_security_group_ids",
	               "destinationApplicationSecurityGroups");
}

static void read_nsg(ns_tf_blk *props)
{
	each_block(props, "security_rule", "securityRules", NULL, rule_fields);
}

/* ---- VNets and subnets ---------------------------------------------------------------- */

static void prefixes(ns_tf_blk *p)
{
	ns_tf_put_str(p, "address_prefix", "addressPrefix");
	ns_tf_put_strs(p, "address_prefixes", "addressPrefixes");
}

static void inline_subnet(ns_tf_blk *elem, size_t k)
{
	(void)k;
	const char *name = ns_raw_string(elem->vals, "name");
	const char *id = ns_raw_string(elem->vals, "id");
	char *built = NULL;
	if ((!id || !*id) && name)
		id = built = ns_tf_printf(elem->tr->d, "%s/subnets/%s", elem->tr->in->id, name);
	ns_tf_put_str(elem, "name", "name");
	if (id)
		ns_tf_put(elem, "id", built ? "name" : "id", cJSON_CreateString(id));
	ns_tf_blk p;
	if (!props_of(elem, &p))
		return;
	prefixes(&p);
	subnet_links(&p, id, "security_group", "route_table_id");
}

static void read_vnet(ns_tf_blk *props)
{
	cJSON *space = ns_tf_put(props, "addressSpace", "address_space", cJSON_CreateObject());
	if (space) {
		ns_tf_blk sb;
		ns_tf_blk_child(&sb, props, space, "addressSpace", props->vals, props->unk,
		                props->expr, NULL);
		ns_tf_put_strs(&sb, "address_space", "addressPrefixes");
	}
	each_block(props, "subnet", "subnets", inline_subnet, NULL);
}

static void delegation(ns_tf_blk *elem, size_t k)
{
	(void)k;
	ns_tf_put_str(elem, "name", "name");
	const cJSON *sd =
	        cJSON_GetArrayItem(cJSON_GetObjectItem(elem->vals, "service_delegation"), 0);
	ns_tf_blk p;
	if (!sd || !props_of(elem, &p))
		return;
	ns_tf_blk sp;
	ns_tf_blk_child(&sp, &p, p.obj, NULL, sd, NULL, NULL, "service_delegation/0");
	ns_tf_put_str(&sp, "name", "serviceName");
}

static void read_subnet(ns_tf_blk *props)
{
	prefixes(props);
	subnet_links(props, props->tr->in->id, "network_security_group_id", "route_table_id");
	each_block(props, "delegation", "delegations", delegation, NULL);
}

static void read_peering(ns_tf_blk *props)
{
	ns_tf_put_ref(props, "remote_virtual_network_id", "remoteVirtualNetwork");
	ns_tf_put_bool(props, "allow_virtual_network_access", "allowVirtualNetworkAccess");
}

/* ---- NICs, ASGs, route tables ------------------------------------------------------- */

static void ipconfig_asgs(ns_tf_blk *p)
{
	ns_tf_doc *d = p->tr->d;
	size_t from = 0;
	const ns_tf_link *l = find_link(d, NS_TF_NIC_ASG, p->tr->in->id, &from);
	if (!l) {
		ns_tf_put_refs(p, "application_security_group_ids", "applicationSecurityGroups");
		return;
	}
	/* azurerm applies the association to every ipConfiguration of the NIC */
	cJSON *arr = ns_tf_put(p, "applicationSecurityGroups", NULL, cJSON_CreateArray());
	ns_tf_blk ab;
	if (!arr)
		return;
	ns_tf_blk_child(&ab, p, arr, "applicationSecurityGroups", NULL, NULL, NULL, NULL);
	size_t k = 0;
	for (; l; l = find_link(d, NS_TF_NIC_ASG, p->tr->in->id, &from)) {
		char idx[24];
		snprintf(idx, sizeof idx, "%zu", k++);
		put_link(&ab, idx, l);
	}
}

static void ipconfig(ns_tf_blk *elem, size_t k)
{
	(void)k;
	ns_tf_put_str(elem, "name", "name");
	ns_tf_blk p;
	if (!props_of(elem, &p))
		return;
	ns_tf_put_str(&p, "private_ip_address", "privateIPAddress");
	ns_tf_put_ref(&p, "subnet_id", "subnet");
	ipconfig_asgs(&p);
}

static void read_nic(ns_tf_blk *props)
{
	const ns_tf_link *l = find_link(props->tr->d, NS_TF_NIC_NSG, props->tr->in->id, NULL);
	if (l)
		put_link(props, "networkSecurityGroup", l);
	else
		ns_tf_put_ref(props, "network_security_group_id", "networkSecurityGroup");
	each_block(props, "ip_configuration", "ipConfigurations", ipconfig, NULL);
}

static void route_fields(ns_tf_blk *p)
{
	ns_tf_put_str(p, "address_prefix", "addressPrefix");
	ns_tf_put_str(p, "next_hop_type", "nextHopType");
	ns_tf_put_str(p, "next_hop_in_ip_address", "nextHopIpAddress");
}

static void read_route_table(ns_tf_blk *props)
{
	each_block(props, "route", "routes", NULL, route_fields);
}

/* Azure Policy for network groups (lib/parse/load_policy.c): azurerm gives
 * policy_rule and parameters as JSON text (jsonencode), read as JSON here;
 * text that is not JSON stays a string, which the reader refuses. */
static void json_attr(ns_tf_blk *b, const char *tf_key, const char *rest_key)
{
	const cJSON *v = cJSON_GetObjectItem(b->vals, tf_key);
	if (cJSON_IsString(v) && v->valuestring[0]) {
		cJSON *j = cJSON_Parse(v->valuestring);
		ns_tf_put(b, rest_key, tf_key, j ? j : cJSON_CreateString(v->valuestring));
	} else if (cJSON_IsObject(v)) {
		ns_tf_put(b, rest_key, tf_key, cJSON_Duplicate(v, true));
	} else if (cJSON_IsTrue(cJSON_GetObjectItem(b->unk, tf_key))) {
		ns_tf_put(b, rest_key, tf_key, ns_tf_unknown(b, tf_key, NULL));
	}
}

static void read_policy_def(ns_tf_blk *props)
{
	ns_tf_put_str(props, "mode", "mode");
	json_attr(props, "policy_rule", "policyRule");
	json_attr(props, "parameters", "parameters");
}

static void read_policy_asg(ns_tf_blk *props)
{
	ns_tf_put_id(props, "policy_definition_id", "policyDefinitionId");
	static const char *const scopes[] = {"management_group_id", "subscription_id",
	                                     "resource_group_id", "resource_id"};
	for (size_t i = 0; i < NS_ARRAY_LEN(scopes); i++)
		if (cJSON_GetObjectItem(props->vals, scopes[i]) ||
		    cJSON_IsTrue(cJSON_GetObjectItem(props->unk, scopes[i]))) {
			ns_tf_put_id(props, scopes[i], "scope");
			break;
		}
	ns_tf_put_strs(props, "not_scopes", "notScopes");
	json_attr(props, "parameters", "parameters");
}

static void read_nothing(ns_tf_blk *props)
{
	(void)props;
}

/* ---- network manager ------------------------------------------------------------------ */

static void read_manager(ns_tf_blk *props)
{
	const cJSON *scope = cJSON_GetArrayItem(cJSON_GetObjectItem(props->vals, "scope"), 0);
	if (!scope)
		return;
	cJSON *s = ns_tf_put(props, "networkManagerScopes", "scope", cJSON_CreateObject());
	if (!s)
		return;
	ns_tf_blk sb;
	ns_tf_blk_child(&sb, props, s, "networkManagerScopes", scope,
	                cJSON_GetArrayItem(cJSON_GetObjectItem(props->unk, "scope"), 0), NULL,
	                "scope/0");
	ns_tf_put_strs(&sb, "subscription_ids", "subscriptions");
	ns_tf_put_strs(&sb, "management_group_ids", "managementGroups");
}

static void read_static_member(ns_tf_blk *props)
{
	ns_tf_put_id(props, "target_virtual_network_id", "resourceId");
}

static void read_admin_config(ns_tf_blk *props)
{
	ns_tf_put_strs(props, "apply_on_network_intent_policy_based_services",
	               "applyOnNetworkIntentPolicyBasedServices");
}

static void read_collection(ns_tf_blk *props)
{
	ns_tf_put_id_objects(props, "network_group_ids", "appliesToGroups", "networkGroupId");
}

static void admin_address(ns_tf_blk *elem, size_t k)
{
	(void)k;
	ns_tf_put_str(elem, "address_prefix", "addressPrefix");
	ns_tf_put_str(elem, "address_prefix_type", "addressPrefixType");
}

static void read_admin_rule(ns_tf_blk *props)
{
	ns_tf_put_str(props, "action", "access");
	ns_tf_put_str(props, "direction", "direction");
	ns_tf_put_str(props, "protocol", "protocol");
	ns_tf_put_num(props, "priority", "priority");
	ns_tf_put_strs(props, "source_port_ranges", "sourcePortRanges");
	ns_tf_put_strs(props, "destination_port_ranges", "destinationPortRanges");
	each_block(props, "source", "sources", admin_address, NULL);
	each_block(props, "destination", "destinations", admin_address, NULL);
}

/* ---- the types --------------------------------------------------------------------------- */

#define NET "Microsoft.Network/"
#define MGR NET "networkManagers/"

static const struct {
	ns_tf_kind k;
	tf_read_fn read;
} kinds[] = {
        {{"azurerm_network_security_group", NET "networkSecurityGroups", NULL, NULL}, read_nsg},
        {{"azurerm_network_security_rule", NET "networkSecurityGroups/securityRules",
          "network_security_group_name", NULL},
         rule_fields},
        {{"azurerm_application_security_group", NET "applicationSecurityGroups", NULL, NULL},
         read_nothing},
        {{"azurerm_virtual_network", NET "virtualNetworks", NULL, NULL}, read_vnet},
        {{"azurerm_subnet", NET "virtualNetworks/subnets", "virtual_network_name", NULL},
         read_subnet},
        {{"azurerm_virtual_network_peering", NET "virtualNetworks/virtualNetworkPeerings",
          "virtual_network_name", NULL},
         read_peering},
        {{"azurerm_network_interface", NET "networkInterfaces", NULL, NULL}, read_nic},
        {{"azurerm_route_table", NET "routeTables", NULL, NULL}, read_route_table},
        {{"azurerm_route", NET "routeTables/routes", "route_table_name", NULL}, route_fields},
        {{"azurerm_network_manager", NET "networkManagers", NULL, NULL}, read_manager},
        {{"azurerm_network_manager_network_group", MGR "networkGroups", NULL, "network_manager_id"},
         read_nothing},
        {{"azurerm_network_manager_static_member", MGR "networkGroups/staticMembers", NULL,
          "network_group_id"},
         read_static_member},
        {{"azurerm_network_manager_security_admin_configuration", MGR "securityAdminConfigurations",
          NULL, "network_manager_id"},
         read_admin_config},
        {{"azurerm_network_manager_admin_rule_collection",
          MGR "securityAdminConfigurations/ruleCollections", NULL,
          "security_admin_configuration_id"},
         read_collection},
        {{"azurerm_network_manager_admin_rule",
          MGR "securityAdminConfigurations/ruleCollections/rules", NULL,
          "admin_rule_collection_id"},
         read_admin_rule},
        {{"azurerm_policy_definition", "Microsoft.Authorization/policyDefinitions", NULL, NULL},
         read_policy_def},
        {{"azurerm_subscription_policy_assignment", "Microsoft.Authorization/policyAssignments",
          NULL, NULL},
         read_policy_asg},
        {{"azurerm_resource_group_policy_assignment", "Microsoft.Authorization/policyAssignments",
          NULL, NULL},
         read_policy_asg},
        {{"azurerm_management_group_policy_assignment", "Microsoft.Authorization/policyAssignments",
          NULL, NULL},
         read_policy_asg},
        {{"azurerm_resource_policy_assignment", "Microsoft.Authorization/policyAssignments", NULL,
          NULL},
         read_policy_asg},
        {{"azurerm_subnet_network_security_group_association", NULL, NULL, NULL}, NULL},
        {{"azurerm_subnet_route_table_association", NULL, NULL, NULL}, NULL},
        {{"azurerm_network_interface_security_group_association", NULL, NULL, NULL}, NULL},
        {{"azurerm_network_interface_application_security_group_association", NULL, NULL, NULL},
         NULL},
        {{"azurerm_network_manager_deployment", NULL, NULL, NULL}, NULL},
};

static size_t kind_index(const char *tf_type)
{
	for (size_t i = 0; i < NS_ARRAY_LEN(kinds); i++)
		if (strcmp(kinds[i].k.tf_type, tf_type) == 0)
			return i;
	return NS_ARRAY_LEN(kinds);
}

const ns_tf_kind *ns_tf_kind_of(const char *tf_type)
{
	size_t i = kind_index(tf_type);
	return i < NS_ARRAY_LEN(kinds) ? &kinds[i].k : NULL;
}

/* ---- errors at a Terraform attribute ------------------------------------------------------ */

static int fail_at(ns_tf_doc *d, const ns_tf_inst *in, const char *attr, int code, const char *msg)
{
	ns_pctx *c = d->c;
	char saved[sizeof c->ptr];
	size_t saved_len = c->len;
	memcpy(saved, c->ptr, c->len + 1);
	snprintf(c->ptr, sizeof c->ptr, "%s%s%s", in->ptr, attr ? "/" : "", attr ? attr : "");
	c->len = strlen(c->ptr);
	const char *label = c->label;
	c->label = in->address;
	int rc = ns_pfail(c, code, "%s", msg);
	c->label = label;
	memcpy(c->ptr, saved, saved_len + 1);
	c->len = saved_len;
	return rc;
}

static int fail_unknown(ns_tf_doc *d, const ns_tf_inst *in, const char *attr, const char *why)
{
	char msg[700];
	snprintf(msg, sizeof msg, "this value cannot be known before deployment (it depends on %s)",
	         why ? why : "a value known only after apply");
	return fail_at(d, in, attr, NSGSIM_E_UNEVALUATED, msg);
}

/* ---- links ---------------------------------------------------------------------------------- */

static int push_link(ns_tf_doc *d, const ns_tf_link *l)
{
	if (d->n_links == d->cap_links) {
		size_t cap = d->cap_links ? d->cap_links * 2 : 16;
		ns_tf_link *grown = realloc(d->links, cap * sizeof *grown);
		if (!grown)
			return ns_pfail(d->c, NSGSIM_E_NOMEM, "out of memory");
		d->links = grown;
		d->cap_links = cap;
	}
	d->links[d->n_links++] = *l;
	return 0;
}

/* An id attribute of a link resource, which must be known. */
static int link_id(ns_tf_doc *d, ns_tf_inst *in, const char *attr, const char **out)
{
	const char *why;
	int rc =
	        ns_tf_string(d, in, in->values, in->unknown,
	                     cJSON_GetObjectItem(in->config, "expressions"), attr, true, out, &why);
	if (rc != 0)
		return rc;
	if (!*out && why)
		return fail_unknown(d, in, attr, why);
	if (!*out)
		return fail_at(d, in, attr, NSGSIM_E_MISSING_FIELD, "expected an id");
	return 0;
}

static int association(ns_tf_doc *d, ns_tf_inst *in, int kind, const char *target_attr,
                       const char *value_attr)
{
	ns_tf_link l = {.kind = kind, .from = in};
	int rc = link_id(d, in, target_attr, &l.target);
	if (rc == 0)
		rc = link_id(d, in, value_attr, &l.value);
	if (rc != 0)
		return rc;
	l.ptr = ns_tf_printf(d, "%s/%s", in->ptr, value_attr);
	return l.ptr ? push_link(d, &l) : ns_pfail(d->c, NSGSIM_E_NOMEM, "out of memory");
}

/* A network manager deployment commits configurations (scope_access
 * SecurityAdmin: security admin configurations); once the input holds one,
 * a configuration no deployment lists is not deployed (how-to-deploy-
 * configuration in the AVNM docs: a configuration takes effect only when
 * deployed). */
static int deployment(ns_tf_doc *d, ns_tf_inst *in)
{
	const char *access = ns_raw_string(in->values, "scope_access");
	if (!access || !ns_ieq(access, "SecurityAdmin"))
		return 0;
	d->has_deployments = true;
	ns_tf_tr t = {.d = d, .in = in};
	ns_tf_blk b = {.tr = &t,
	               .vals = in->values,
	               .unk = in->unknown,
	               .expr = cJSON_GetObjectItem(in->config, "expressions")};
	cJSON *ids;
	const char *why;
	int rc = ns_tf_ids(&b, "configuration_ids", &ids, &why);
	ns_tf_tr_free(&t);
	if (rc != 0)
		return ns_pfail(d->c, rc, "out of memory");
	if (!ids && why)
		return fail_unknown(d, in, "configuration_ids", why);
	const cJSON *e;
	cJSON_ArrayForEach(e, ids)
	{
		ns_tf_link l = {.kind = NS_TF_DEPLOYED,
		                .from = in,
		                .target = ns_arena_strdup(&d->c->m->arena, e->valuestring)};
		if (!l.target || (rc = push_link(d, &l)) != 0)
			break;
	}
	cJSON_Delete(ids);
	return rc;
}

int ns_tf_collect_link(ns_tf_doc *d, ns_tf_inst *in)
{
	static const struct {
		const char *type;
		int kind;
		const char *target, *value;
	} assoc[] = {
	        {"azurerm_subnet_network_security_group_association", NS_TF_SUBNET_NSG, "subnet_id",
	         "network_security_group_id"},
	        {"azurerm_subnet_route_table_association", NS_TF_SUBNET_ROUTE_TABLE, "subnet_id",
	         "route_table_id"},
	        {"azurerm_network_interface_security_group_association", NS_TF_NIC_NSG,
	         "network_interface_id", "network_security_group_id"},
	        {"azurerm_network_interface_application_security_group_association", NS_TF_NIC_ASG,
	         "network_interface_id", "application_security_group_id"},
	};
	for (size_t i = 0; i < NS_ARRAY_LEN(assoc); i++)
		if (strcmp(in->type, assoc[i].type) == 0) {
			return association(d, in, assoc[i].kind, assoc[i].target, assoc[i].value);
		}
	if (strcmp(in->type, "azurerm_network_manager_deployment") == 0) {
		return deployment(d, in);
	}
	return 0;
}

int ns_tf_report_links(ns_tf_doc *d)
{
	for (size_t i = 0; i < d->n_links; i++) {
		const ns_tf_link *l = &d->links[i];
		if (l->used || l->kind == NS_TF_DEPLOYED)
			continue;
		int rc = ns_model_note(
		        d->c->m, NSGSIM_NOTE_WARNING, d->c->file, l->from->ptr, l->from->address,
		        "associates %s, which the input does not hold; ignored", l->target);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* ---- one instance ------------------------------------------------------------------------------
 */

static bool deployed(ns_tf_doc *d, const char *id)
{
	for (size_t i = 0; i < d->n_links; i++) {
		const ns_tf_link *l = &d->links[i];
		size_t len = strlen(l->target);
		if (l->kind == NS_TF_DEPLOYED && ns_ieqn(id, l->target, len) &&
		    (id[len] == '\0' || id[len] == '/'))
			return true;
	}
	return false;
}

/* Once the input deploys configurations, those it does not deploy (and
 * their collections and rules) are left out, the configuration noted. */
static int undeployed(ns_tf_doc *d, const ns_tf_inst *in, const char *id, bool *skip)
{
	*skip = d->has_deployments && strstr(id, "/securityAdminConfigurations/") &&
	        !deployed(d, id);
	if (!*skip || strcmp(in->type, "azurerm_network_manager_security_admin_configuration") != 0)
		return 0;
	return ns_model_note(d->c->m, NSGSIM_NOTE_SKIPPED, d->c->file, in->ptr, in->address,
	                     "no azurerm_network_manager_deployment (scope_access SecurityAdmin) "
	                     "in the input deploys this configuration; its rules do not apply");
}

static int unknown_nic_note(ns_tf_doc *d, const ns_tf_inst *in)
{
	const cJSON *ipc;
	size_t k = 0;
	cJSON_ArrayForEach(ipc, cJSON_GetObjectItem(in->unknown, "ip_configuration"))
	{
		if (cJSON_IsTrue(cJSON_GetObjectItem(ipc, "private_ip_address"))) {
			char ptr[1100];
			snprintf(ptr, sizeof ptr, "%s/ip_configuration/%zu/private_ip_address",
			         in->ptr, k);
			return ns_model_note(d->c->m, NSGSIM_NOTE_WARNING, d->c->file, ptr,
			                     in->address,
			                     "its private IP address is known only after apply: "
			                     "answers at this NIC "
			                     "carry the unknown-nic-address assumption, and a flow "
			                     "finds it only "
			                     "with --at");
		}
		k++;
	}
	return 0;
}

static cJSON *rest_resource(ns_tf_tr *t, const ns_tf_kind *k, tf_read_fn read)
{
	ns_tf_inst *in = t->in;
	cJSON *res = cJSON_CreateObject();
	const char *leaf = strrchr(in->id, '/');
	if (!res || !cJSON_AddStringToObject(res, "type", k->rest_type) ||
	    !cJSON_AddStringToObject(res, "id", in->id) ||
	    !cJSON_AddStringToObject(res, "name", leaf ? leaf + 1 : in->id) ||
	    (strcmp(in->type, "azurerm_network_manager_admin_rule") == 0 &&
	     !cJSON_AddStringToObject(res, "kind", "Custom"))) {
		cJSON_Delete(res);
		return NULL;
	}
	/* What Azure Policy conditions read of a VNet: top-level, as REST has it. */
	if (strcmp(in->type, "azurerm_virtual_network") == 0) {
		const cJSON *loc = cJSON_GetObjectItem(in->values, "location");
		const cJSON *tags = cJSON_GetObjectItem(in->values, "tags");
		if ((cJSON_IsString(loc) &&
		     !cJSON_AddItemToObject(res, "location", cJSON_Duplicate(loc, true))) ||
		    (cJSON_IsObject(tags) &&
		     !cJSON_AddItemToObject(res, "tags", cJSON_Duplicate(tags, true)))) {
			cJSON_Delete(res);
			return NULL;
		}
	}
	ns_tf_map_add(t, "", in->ptr);
	ns_tf_blk top = {.tr = t,
	                 .obj = res,
	                 .vals = in->values,
	                 .unk = in->unknown,
	                 .expr = cJSON_GetObjectItem(in->config, "expressions")};
	snprintf(top.file, sizeof top.file, "%s", in->ptr);
	ns_tf_blk props;
	if (!props_of(&top, &props)) {
		cJSON_Delete(res);
		return NULL;
	}
	read(&props);
	return res;
}

static int parse_translated(ns_tf_doc *d, ns_tf_tr *t, const cJSON *res)
{
	ns_pctx *c = d->c;
	char saved[sizeof c->ptr];
	size_t saved_len = c->len;
	memcpy(saved, c->ptr, c->len + 1);
	bool was = c->evaluated;
	c->len = 0;
	c->ptr[0] = '\0';
	c->evaluated = true;
	c->label = t->in->address;
	c->remap = ns_tf_remap;
	c->remap_ctx = t;
	int rc = ns_parse_resource(c, res);
	c->remap = NULL;
	c->remap_ctx = NULL;
	c->label = NULL;
	c->evaluated = was;
	memcpy(c->ptr, saved, saved_len + 1);
	c->len = saved_len;
	return rc;
}

int ns_tf_read_instance(ns_tf_doc *d, ns_tf_inst *in)
{
	size_t i = kind_index(in->type);
	if (i == NS_ARRAY_LEN(kinds))
		return ns_model_note(d->c->m, NSGSIM_NOTE_SKIPPED, d->c->file, in->ptr, in->address,
		                     "Terraform resource type '%s' is not modelled; skipped",
		                     in->type);
	if (!kinds[i].k.rest_type)
		return 0;
	if (!ns_tf_id(d, in) && d->nomem)
		return ns_pfail(d->c, NSGSIM_E_NOMEM, "out of memory");
	if (!in->id)
		return fail_at(d, in, NULL, NSGSIM_E_UNEVALUATED,
		               ns_tf_printf(d, "its Azure id cannot be built: %s",
		                            in->id_why ? in->id_why : "out of memory"));
	bool skip;
	int rc = undeployed(d, in, in->id, &skip);
	if (rc != 0 || skip)
		return rc;
	if (strcmp(in->type, "azurerm_network_interface") == 0 &&
	    (rc = unknown_nic_note(d, in)) != 0)
		return rc;
	ns_tf_tr t = {.d = d, .in = in};
	cJSON *res = rest_resource(&t, &kinds[i].k, kinds[i].read);
	if (!res || t.rc) {
		cJSON_Delete(res);
		ns_tf_tr_free(&t);
		/* failures other than memory were reported where they happened */
		return t.rc && t.rc != NSGSIM_E_NOMEM
		               ? t.rc
		               : ns_pfail(d->c, NSGSIM_E_NOMEM, "out of memory");
	}
	rc = parse_translated(d, &t, res);
	cJSON_Delete(res);
	ns_tf_tr_free(&t);
	return rc;
}
