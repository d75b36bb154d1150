/* Template parameter values the user gives: the deployment parameters file
 * (`az deployment group create --parameters @file.json`) and NAME=VALUE
 * pairs, and how the template walker reads them for a parameter's declared
 * type.
 *
 * The parameters file: {"$schema": ".../deploymentParameters.json#",
 * "contentVersion": ..., "parameters": {"name": {"value": V}}}, where a
 * value may instead be a Key Vault reference {"reference": {"keyVault":
 * ..., "secretName": ...}}
 * (https://learn.microsoft.com/azure/azure-resource-manager/templates/parameter-files).
 * The Azure CLI also takes the bare {"name": {"value": V}} object.  A
 * NAME=VALUE pair is typed as its declaration says, as the CLI does for
 * inline parameters: a string stays text, int/bool/array/object are JSON.
 * Comments are allowed (lib/parse/json_comments.c). */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "parse/arm_template.h"
#include "parse/load.h"

static int store_param(ns_pctx *c, const char *name, const char *text, int kind)
{
	ns_param_rec r = {ns_arena_strdup(&c->m->arena, name), ns_arena_strdup(&c->m->arena, text),
	                  kind, c->file};
	if (!r.name || !r.text)
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	return ns_push(c, &c->m->params, &r);
}

static int read_param_entry(ns_pctx *c, const cJSON *entry)
{
	if (!cJSON_IsObject(entry))
		return ns_pfail(c, NSGSIM_E_SHAPE,
		                "expected {\"value\": ...} or a Key Vault {\"reference\": ...}");
	const cJSON *value = cJSON_GetObjectItem(entry, "value");
	if (cJSON_GetObjectItem(entry, "reference"))
		return store_param(c, entry->string, "a Key Vault secret reference",
		                   NS_PARAM_UNKNOWN);
	if (!value)
		return ns_pfail(c, NSGSIM_E_MISSING_FIELD,
		                "expected {\"value\": ...} or a Key Vault {\"reference\": ...}");
	char *text = cJSON_PrintUnformatted(value);
	if (!text)
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	int rc = store_param(c, entry->string, text, NS_PARAM_JSON);
	cJSON_free(text);
	return rc;
}

/* The object that maps names to {"value": ...}: the file's "parameters",
 * or the file itself (the bare form). */
static const cJSON *param_object(ns_pctx *c, const cJSON *root, size_t *mark)
{
	const cJSON *inner = cJSON_GetObjectItem(root, "parameters");
	const char *schema = ns_raw_string(root, "$schema");
	if (cJSON_IsObject(inner) && (schema || cJSON_GetObjectItem(root, "contentVersion") ||
	                              !cJSON_GetObjectItem(inner, "value"))) {
		*mark = ns_ptr_key(c, "parameters");
		return inner;
	}
	*mark = c->len;
	return root;
}

static int parse_params_document(ns_pctx *c, const cJSON *root)
{
	if (!cJSON_IsObject(root))
		return ns_pfail(
		        c, NSGSIM_E_SHAPE,
		        "expected a deployment parameters file: {\"parameters\": {\"name\": "
		        "{\"value\": ...}}}");
	if (cJSON_GetObjectItem(root, "resources"))
		return ns_pfail(c, NSGSIM_E_SHAPE,
		                "this is a template, not a parameters file: give it with --env");
	size_t mark;
	const cJSON *obj = param_object(c, root, &mark);
	const cJSON *entry;
	cJSON_ArrayForEach(entry, obj)
	{
		if (obj == root && entry->string[0] == '$')
			continue; /* "$schema" of a bare file */
		if (obj == root && strcmp(entry->string, "contentVersion") == 0)
			continue;
		size_t m2 = ns_ptr_key(c, entry->string);
		int rc = read_param_entry(c, entry);
		if (rc != 0)
			return rc;
		ns_ptr_pop(c, m2);
	}
	ns_ptr_pop(c, mark);
	return 0;
}

int ns_load_params_text(ns_model *m, const char *name, const char *text, size_t len,
                        nsgsim_error *err)
{
	return ns_parse_with(m, name, text, len, parse_params_document, err);
}

int ns_set_param(ns_model *m, const char *name, const char *value, nsgsim_error *err)
{
	ns_pctx c;
	ns_pctx_init(&c, m, "NAME=VALUE", err);
	if (!*name)
		return ns_pfail(&c, NSGSIM_E_INVALID_ARG, "a parameter needs a name (NAME=VALUE)");
	return store_param(&c, name, value, NS_PARAM_TEXT);
}

/* ---- reading a given value for its declared type --------------------------------- */

static const ns_param_rec *find_given(const ns_model *m, const char *name)
{
	const ns_param_rec *recs = m->params.data;
	for (size_t i = m->params.n; i-- > 0;)
		if (ns_ieq(recs[i].name, name))
			return &recs[i];
	return NULL;
}

/* NAME=VALUE for a declared type: strings as they are, the rest as JSON
 * (ints and bools are JSON literals too). */
static cJSON *text_for_type(const char *text, const char *type)
{
	if (!type || ns_ieq(type, "string") || ns_ieq(type, "securestring"))
		return cJSON_CreateString(text);
	return cJSON_Parse(text);
}

int ns_arm_given_param(ns_pctx *c, const char *name, const char *type, cJSON **out)
{
	*out = NULL;
	const ns_param_rec *r = find_given(c->m, name);
	if (!r)
		return 0;
	if (r->kind == NS_PARAM_UNKNOWN) {
		*out = ns_arm_unknown(r->text);
		return *out ? 0 : ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	}
	*out = r->kind == NS_PARAM_JSON ? cJSON_Parse(r->text) : text_for_type(r->text, type);
	if (!*out && errno == ENOMEM)
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	if (!*out)
		return ns_pfail(
		        c, NSGSIM_E_SHAPE,
		        "parameter '%s' is declared %s, but the value given (%s) is '%.100s'", name,
		        type ? type : "without a type", r->origin, r->text);
	return 0;
}
