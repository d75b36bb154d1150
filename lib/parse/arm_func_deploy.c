/* Deployment and resource functions: parameters, variables, copyIndex,
 * subscription, resourceGroup, deployment, environment, tenant, the
 * resourceId family; reference(), list*(), pickZones() and the like are
 * unknown offline.
 * https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-deployment
 * https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-scope
 * https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-resource
 * resourceId([subscriptionId], [resourceGroupName], resourceType,
 * resourceName1, [resourceName2], ...) gives
 * /subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{type1}/{name1}/{type2}/{name2};
 * the type is the first argument with a '/', and it needs as many names as
 * it has segments after the namespace.  subscriptionResourceId has no
 * resourceGroups segment, tenantResourceId no subscription either, and
 * extensionResourceId appends /providers/... to the id it is given. */
#define _POSIX_C_SOURCE 200809L
#include "parse/arm_expr_int.h"

#include "nsgsim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ZERO_GUID "00000000-0000-0000-0000-000000000000"

static const char *or_default(const char *v, const char *d)
{
	return v && *v ? v : d;
}

static int from_callback(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv,
                         int (*cb)(void *, const char *, cJSON **, ns_arm_error *), cJSON **out)
{
	if (!cJSON_IsString(argv[0]))
		return ns_arm_type_error(c, call, 0, argv[0], "a string (a name)");
	if (!cb)
		return ns_arm_fail(c, call->off, NSGSIM_E_SHAPE, "%s: not available here", call->s);
	int rc = cb(c->env->user, argv[0]->valuestring, out, c->err);
	if (rc) {
		c->err->code = rc;
		c->err->offset = call->off;
		if (!c->err->msg[0])
			snprintf(c->err->msg, sizeof c->err->msg, "%s: no '%s'", call->s,
			         argv[0]->valuestring);
	}
	return rc;
}

static int f_parameters(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                        cJSON **out)
{
	(void)argc;
	return from_callback(c, call, argv, c->env->parameter, out);
}

static int f_variables(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                       cJSON **out)
{
	(void)argc;
	return from_callback(c, call, argv, c->env->variable, out);
}

/* copyIndex(), copyIndex(offset), copyIndex('loop'), copyIndex('loop', offset). */
static int f_copyindex(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                       cJSON **out)
{
	const char *loop = NULL;
	int64_t off = 0, ix = 0;
	size_t oi = 0;
	if (argc > 0 && cJSON_IsString(argv[0]))
		loop = argv[0]->valuestring, oi = 1;
	if (argc > oi && !ns_arm_get_int(argv[oi], &off))
		return ns_arm_type_error(c, call, oi, argv[oi], "an integer (the offset)");
	if (argc > oi + 1 || (argc == 2 && !loop))
		return ns_arm_type_error(c, call, 0, argv[0], "a string (the loop name)");
	if (!c->env->copy_index)
		return ns_arm_fail(c, call->off, NSGSIM_E_SHAPE,
		                   "copyIndex: only inside a copy loop");
	int rc = c->env->copy_index(c->env->user, loop, &ix, c->err);
	if (rc) {
		c->err->code = rc;
		c->err->offset = call->off;
		return rc;
	}
	if (__builtin_add_overflow(ix, off, &ix))
		return ns_arm_fail(c, call->off, NSGSIM_E_SHAPE, "copyIndex: offset overflows");
	return ns_arm_mk_int(c, call, ix, out);
}

static int add_str(ns_arm_ctx *c, const ns_arm_node *call, cJSON *o, const char *k, const char *v)
{
	return cJSON_AddStringToObject(o, k, v) ? 0 : ns_arm_nomem(c, call->off);
}

static int f_subscription(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                          cJSON **out)
{
	(void)argv;
	(void)argc;
	const char *sub = or_default(c->env->subscription_id, ZERO_GUID);
	char id[256];
	snprintf(id, sizeof id, "/subscriptions/%s", sub);
	*out = cJSON_CreateObject();
	int rc = *out ? add_str(c, call, *out, "id", id) : ns_arm_nomem(c, call->off);
	if (rc == 0)
		rc = add_str(c, call, *out, "subscriptionId", sub);
	if (rc == 0)
		rc = add_str(c, call, *out, "tenantId", or_default(c->env->tenant_id, ZERO_GUID));
	if (rc == 0)
		rc = add_str(c, call, *out, "displayName", sub);
	return rc;
}

static int f_resourcegroup(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                           cJSON **out)
{
	(void)argv;
	(void)argc;
	const char *rg = or_default(c->env->resource_group, "resource-group");
	char id[512];
	snprintf(id, sizeof id, "/subscriptions/%s/resourceGroups/%s",
	         or_default(c->env->subscription_id, ZERO_GUID), rg);
	*out = cJSON_CreateObject();
	int rc = *out ? add_str(c, call, *out, "id", id) : ns_arm_nomem(c, call->off);
	if (rc == 0)
		rc = add_str(c, call, *out, "name", rg);
	if (rc == 0)
		rc = add_str(c, call, *out, "type", "Microsoft.Resources/resourceGroups");
	if (rc == 0)
		rc = add_str(c, call, *out, "location", or_default(c->env->location, "westus"));
	if (rc == 0 && !cJSON_AddObjectToObject(*out, "tags"))
		rc = ns_arm_nomem(c, call->off);
	return rc;
}

/* templateLink exists only for a linked deployment: unknown here. */
static int f_deployment(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                        cJSON **out)
{
	(void)argv;
	(void)argc;
	*out = cJSON_CreateObject();
	cJSON *props = *out ? cJSON_AddObjectToObject(*out, "properties") : NULL;
	cJSON *link = ns_arm_unknown("deployment().properties.templateLink");
	if (!props || !link) {
		cJSON_Delete(link);
		return ns_arm_nomem(c, call->off);
	}
	cJSON_AddItemToObject(props, "templateLink", link);
	int rc = add_str(c, call, *out, "name", or_default(c->env->deployment_name, "deployment"));
	if (rc == 0)
		rc = add_str(c, call, *out, "location", or_default(c->env->location, "westus"));
	return rc;
}

static int f_tenant(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argv;
	(void)argc;
	const char *t = or_default(c->env->tenant_id, ZERO_GUID);
	char id[128];
	snprintf(id, sizeof id, "/tenants/%s", t);
	*out = cJSON_CreateObject();
	int rc = *out ? add_str(c, call, *out, "id", id) : ns_arm_nomem(c, call->off);
	if (rc == 0)
		rc = add_str(c, call, *out, "tenantId", t);
	return rc;
}

/* The public cloud, as environment() documents it for AzureCloud. */
static const char azure_cloud[] =
        "{\"name\":\"AzureCloud\",\"gallery\":\"https://gallery.azure.com/\","
        "\"graph\":\"https://graph.windows.net/\",\"portal\":\"https://portal.azure.com\","
        "\"graphAudience\":\"https://graph.windows.net/\","
        "\"activeDirectoryDataLake\":\"https://datalake.azure.net/\","
        "\"batch\":\"https://batch.core.windows.net/\",\"media\":\"https://rest.media.azure.net\","
        "\"sqlManagement\":\"https://management.core.windows.net:8443/\","
        "\"vmImageAliasDoc\":\"https://raw.githubusercontent.com/Azure/azure-rest-api-specs/"
        "master/arm-compute/quickstart-templates/aliases.json\","
        "\"resourceManager\":\"https://management.azure.com/\","
        "\"authentication\":{\"loginEndpoint\":\"https://login.microsoftonline.com/\","
        "\"audiences\":[\"https://management.core.windows.net/\","
        "\"https://management.azure.com/\"],\"tenant\":\"common\",\"identityProvider\":\"AAD\"},"
        "\"suffixes\":{\"acrLoginServer\":\".azurecr.io\","
        "\"azureDatalakeAnalyticsCatalogAndJob\":\"azuredatalakeanalytics.net\","
        "\"azureDatalakeStoreFileSystem\":\"azuredatalakestore.net\","
        "\"azureFrontDoorEndpointSuffix\":\"azurefd.net\",\"keyvaultDns\":\".vault.azure.net\","
        "\"sqlServerHostname\":\".database.windows.net\",\"storage\":\"core.windows.net\"}}";

static int f_environment(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                         cJSON **out)
{
	(void)argv;
	(void)argc;
	*out = cJSON_Parse(azure_cloud);
	return *out ? 0 : ns_arm_nomem(c, call->off);
}

/* Appends /providers/{ns}/{t1}/{n1}/... for argv[ti] = type and the names
 * after it. */
static int put_typed(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, size_t ti,
                     ns_arm_buf *b)
{
	const char *type = argv[ti]->valuestring, *slash = strchr(type, '/');
	size_t want = 0, have = 0, tlen = strlen(type);
	while (tlen && type[tlen - 1] == '/')
		tlen--; /* 'Microsoft.Network/virtualNetworks/' is common, and accepted */
	for (const char *p = slash; p && p < type + tlen; p++)
		want += *p == '/';
	for (size_t i = ti + 1; i < argc; i++) {
		have++;
		for (const char *p = argv[i]->valuestring; *p; p++)
			have += *p == '/';
	}
	if (!slash || slash == type || want != have || slash >= type + tlen)
		return ns_arm_fail(c, call->off, NSGSIM_E_SHAPE,
		                   "%s: type '%s' needs %zu name segment%s, got %zu", call->s, type,
		                   want, want == 1 ? "" : "s", have);
	int rc = ns_arm_buf_put(c, call, b, "/providers/", 11);
	if (rc == 0)
		rc = ns_arm_buf_put(c, call, b, type, (size_t)(slash - type));
	const char *seg = slash + 1;
	for (size_t i = ti + 1; i < argc && rc == 0; i++) {
		/* a name with '/' covers several type segments */
		for (const char *nm = argv[i]->valuestring; rc == 0;) {
			size_t tl = strcspn(seg, "/"), nl = strcspn(nm, "/");
			rc = ns_arm_buf_put(c, call, b, "/", 1);
			if (rc == 0)
				rc = ns_arm_buf_put(c, call, b, seg, tl);
			if (rc == 0)
				rc = ns_arm_buf_put(c, call, b, "/", 1);
			if (rc == 0)
				rc = ns_arm_buf_put(c, call, b, nm, nl);
			seg += tl + (seg[tl] == '/');
			if (!nm[nl])
				break;
			nm += nl + 1;
		}
	}
	return rc;
}

static int all_strings(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                       size_t *ti)
{
	*ti = argc;
	for (size_t i = 0; i < argc; i++) {
		if (!cJSON_IsString(argv[i]))
			return ns_arm_type_error(c, call, i, argv[i], "a string");
		if (*ti == argc && strchr(argv[i]->valuestring, '/'))
			*ti = i;
	}
	if (*ti == argc)
		return ns_arm_fail(c, call->off, NSGSIM_E_SHAPE,
		                   "%s: expected a resource type (namespace/type)", call->s);
	return 0;
}

typedef enum { ID_GROUP, ID_SUB, ID_TENANT, ID_EXT, ID_MG } id_scope;

static int scope_prefix(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t ti, id_scope s,
                        ns_arm_buf *b)
{
	size_t max_lead[] = {2, 1, 0, 1, 1};
	if (ti > max_lead[s] || (s == ID_EXT && ti != 1))
		return ns_arm_fail(
		        c, call->off, NSGSIM_E_SHAPE,
		        "%s: %zu argument%s before the resource type; expected at most %zu",
		        call->s, ti, ti == 1 ? "" : "s", max_lead[s]);
	const char *sub = or_default(c->env->subscription_id, ZERO_GUID);
	const char *rg = or_default(c->env->resource_group, "resource-group");
	if (s == ID_GROUP && ti == 2)
		sub = argv[0]->valuestring, rg = argv[1]->valuestring;
	else if (s == ID_GROUP && ti == 1)
		rg = argv[0]->valuestring;
	else if (s == ID_SUB && ti == 1)
		sub = argv[0]->valuestring;
	char head[1024];
	int n = 0;
	if (s == ID_GROUP)
		n = snprintf(head, sizeof head, "/subscriptions/%s/resourceGroups/%s", sub, rg);
	else if (s == ID_SUB)
		n = snprintf(head, sizeof head, "/subscriptions/%s", sub);
	else if (s == ID_MG)
		n = snprintf(head, sizeof head,
		             "/providers/Microsoft.Management/managementGroups/%s",
		             argv[0]->valuestring);
	if (s == ID_EXT)
		return ns_arm_buf_put(c, call, b, argv[0]->valuestring,
		                      strlen(argv[0]->valuestring));
	if (n < 0 || (size_t)n >= sizeof head)
		return ns_arm_fail(c, call->off, NSGSIM_E_SHAPE, "%s: names too long", call->s);
	return ns_arm_buf_put(c, call, b, head, (size_t)n);
}

static int resource_id(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                       id_scope s, cJSON **out)
{
	size_t ti;
	int rc = all_strings(c, call, argv, argc, &ti);
	if (rc == 0 && s == ID_EXT && ti == 0 && argc > 1)
		ti = 1 + (size_t)(strchr(argv[1]->valuestring, '/') ? 0 : argc); /* id, type */
	if (rc == 0 && s == ID_MG && ti == 0)
		return ns_arm_unknown_of(c, call, out); /* the current management group */
	ns_arm_buf b = {0};
	if (rc == 0)
		rc = scope_prefix(c, call, argv, ti, s, &b);
	if (rc == 0)
		rc = put_typed(c, call, argv, argc, ti, &b);
	if (rc) {
		free(b.p);
		return rc;
	}
	return ns_arm_buf_done(c, call, &b, out);
}

#define RESOURCE_ID(fname, scope)                                                                  \
	static int fname(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,        \
	                 cJSON **out)                                                              \
	{                                                                                          \
		return resource_id(c, call, argv, argc, scope, out);                               \
	}
RESOURCE_ID(f_resourceid, ID_GROUP)
RESOURCE_ID(f_subscriptionresourceid, ID_SUB)
RESOURCE_ID(f_tenantresourceid, ID_TENANT)
RESOURCE_ID(f_extensionresourceid, ID_EXT)
RESOURCE_ID(f_managementgroupresourceid, ID_MG)

/* What only a deployment knows: reference(), list*(), pickZones(), ... */
static int f_runtime(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argv;
	(void)argc;
	return ns_arm_unknown_of(c, call, out);
}

const ns_arm_func ns_arm_func_list = {"list*", 0, -1, NS_ARM_TAKES_UNKNOWN, f_runtime};

const ns_arm_func ns_arm_funcs_deploy[] = {
        {"parameters", 1, 1, 0, f_parameters},
        {"variables", 1, 1, 0, f_variables},
        {"copyIndex", 0, 2, 0, f_copyindex},
        {"subscription", 0, 0, 0, f_subscription},
        {"resourceGroup", 0, 0, 0, f_resourcegroup},
        {"deployment", 0, 0, 0, f_deployment},
        {"tenant", 0, 0, 0, f_tenant},
        {"environment", 0, 0, 0, f_environment},
        {"resourceId", 2, -1, 0, f_resourceid},
        {"subscriptionResourceId", 2, -1, 0, f_subscriptionresourceid},
        {"tenantResourceId", 2, -1, 0, f_tenantresourceid},
        {"extensionResourceId", 3, -1, 0, f_extensionresourceid},
        {"managementGroupResourceId", 2, -1, 0, f_managementgroupresourceid},
        {"reference", 1, 3, NS_ARM_TAKES_UNKNOWN, f_runtime},
        {"pickZones", 3, 5, NS_ARM_TAKES_UNKNOWN, f_runtime},
        {"providers", 1, 2, NS_ARM_TAKES_UNKNOWN, f_runtime},
        {"managementGroup", 0, 1, NS_ARM_TAKES_UNKNOWN, f_runtime},
        {"getSecret", 1, 1, NS_ARM_TAKES_UNKNOWN, f_runtime},
        {NULL, 0, 0, 0, NULL},
};
