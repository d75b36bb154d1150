/* A `terraform show -json` document, plan or state: its resource instances
 * (planned_values or values, every child_modules level), each with what the
 * plan does not know yet (resource_changes[].change.after_unknown) and its
 * configuration (configuration.root_module and module_calls), then read
 * resource by resource (lib/parse/tf_types.c).
 *
 * Format: https://developer.hashicorp.com/terraform/internals/json-format
 * ("Values Representation", "Plan Representation", "Configuration
 * Representation").  A plan's planned_values is the state after apply, so a
 * resource the plan deletes (actions ["delete"]) is absent from it. */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/tf.h"

bool ns_tf_is_document(const cJSON *root)
{
	return cJSON_IsObject(root) &&
	       cJSON_IsString(cJSON_GetObjectItem(root, "format_version")) &&
	       !cJSON_GetObjectItem(root, "type") &&
	       (cJSON_GetObjectItem(root, "planned_values") ||
	        cJSON_GetObjectItem(root, "values") ||
	        cJSON_GetObjectItem(root, "terraform_version"));
}

char *ns_tf_printf(ns_tf_doc *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = ns_arena_vprintf(&d->c->m->arena, fmt, ap);
	va_end(ap);
	d->nomem |= !s;
	return s;
}

/* ---- instances ------------------------------------------------------------------ */

static int nomem(ns_tf_doc *d)
{
	return ns_pfail(d->c, NSGSIM_E_NOMEM, "out of memory");
}

static const char *arena_str(ns_tf_doc *d, const char *s)
{
	return ns_arena_strdup(&d->c->m->arena, s ? s : "");
}

/* The index of an address as written there ([0], ["a"]), or NULL. */
static const char *address_index(ns_tf_doc *d, const char *address)
{
	size_t len = strlen(address);
	if (len < 3 || address[len - 1] != ']')
		return NULL;
	const char *open = NULL;
	for (const char *p = address; *p; p++) /* the last '[' outside quotes */
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++)
				if (*p == '\\' && p[1])
					p++;
			if (!*p)
				break;
		} else if (*p == '[') {
			open = p;
		}
	if (!open)
		return NULL;
	char *index =
	        ns_arena_strndup(&d->c->m->arena, open + 1, (size_t)(address + len - 1 - open - 1));
	d->nomem |= !index;
	return index;
}

static const char *resource_key(ns_tf_doc *d, const char *module, const char *type,
                                const char *name)
{
	return ns_tf_printf(d, "%s\x1f%s.%s", module, type, name);
}

static int add_instance(ns_tf_doc *d, const cJSON *res, const char *module)
{
	const char *mode = ns_raw_string(res, "mode");
	const char *type = ns_raw_string(res, "type"), *name = ns_raw_string(res, "name");
	const char *address = ns_raw_string(res, "address");
	if (mode && strcmp(mode, "managed") != 0)
		return 0; /* data sources: their values are already in what uses them */
	if (!type || !name || !address)
		return ns_pfail(d->c, NSGSIM_E_MISSING_FIELD,
		                "a Terraform resource needs 'address', 'type' and 'name'");
	const cJSON *values = cJSON_GetObjectItem(res, "values");
	if (values && !cJSON_IsObject(values)) {
		size_t mark = ns_ptr_key(d->c, "values");
		int rc = ns_pfail(d->c, NSGSIM_E_SHAPE, "expected an object");
		ns_ptr_pop(d->c, mark);
		return rc;
	}
	const cJSON *id = cJSON_GetObjectItem(values, "id");
	if (id && !cJSON_IsString(id) && !cJSON_IsNull(id)) {
		size_t mark = ns_ptr_key(d->c, "values");
		size_t m2 = ns_ptr_key(d->c, "id");
		const char *label = d->c->label;
		d->c->label = address;
		int rc = ns_pfail(d->c, NSGSIM_E_SHAPE, "expected a string (an Azure resource id)");
		d->c->label = label;
		ns_ptr_pop(d->c, m2);
		ns_ptr_pop(d->c, mark);
		return rc;
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		ns_tf_inst *grown = realloc(d->insts, cap * sizeof *grown);
		if (!grown)
			return nomem(d);
		d->insts = grown;
		d->cap = cap;
	}
	ns_tf_inst *in = &d->insts[d->n];
	memset(in, 0, sizeof *in);
	size_t mark = ns_ptr_key(d->c, "values");
	in->ptr = arena_str(d, d->c->ptr);
	ns_ptr_pop(d->c, mark);
	in->address = arena_str(d, address);
	in->module = arena_str(d, module);
	in->type = arena_str(d, type);
	in->name = arena_str(d, name);
	in->index = address_index(d, address);
	in->values = values;
	const char *key = resource_key(d, module, type, name);
	if (!in->ptr || !in->address || !in->module || !in->type || !in->name || !key)
		return nomem(d);
	size_t first = (size_t)ns_map_get(&d->by_resource, key);
	if (first) { /* chain after the last instance of the same resource */
		size_t k = first - 1;
		while (d->insts[k].next)
			k = d->insts[k].next - 1;
		d->insts[k].next = d->n + 1;
	} else if (ns_map_put(&d->by_resource, key, (void *)(d->n + 1)) != 0) {
		return nomem(d);
	}
	d->n++;
	return 0;
}

static int walk_module(ns_tf_doc *d, const cJSON *mod, int depth)
{
	if (!cJSON_IsObject(mod))
		return ns_pfail(d->c, NSGSIM_E_SHAPE, "expected a module object");
	if (depth > NS_TF_MAX_HOPS * 4)
		return ns_pfail(d->c, NSGSIM_E_LIMIT, "modules nested more than %d deep",
		                NS_TF_MAX_HOPS * 4);
	const char *module = ns_raw_string(mod, "address");
	const cJSON *arr = cJSON_GetObjectItem(mod, "resources");
	size_t mark = ns_ptr_key(d->c, "resources");
	int rc = 0;
	if (arr && !cJSON_IsArray(arr))
		rc = ns_pfail(d->c, NSGSIM_E_SHAPE, "expected an array");
	size_t i = 0;
	const cJSON *res, *list = rc == 0 ? arr : NULL;
	cJSON_ArrayForEach(res, list)
	{
		size_t m2 = ns_ptr_index(d->c, i++);
		rc = cJSON_IsObject(res)
		             ? add_instance(d, res, module ? module : "")
		             : ns_pfail(d->c, NSGSIM_E_SHAPE, "expected a resource object");
		if (rc != 0)
			return rc;
		ns_ptr_pop(d->c, m2);
	}
	ns_ptr_pop(d->c, mark);
	if (rc != 0)
		return rc;
	arr = cJSON_GetObjectItem(mod, "child_modules");
	mark = ns_ptr_key(d->c, "child_modules");
	if (arr && !cJSON_IsArray(arr))
		return ns_pfail(d->c, NSGSIM_E_SHAPE, "expected an array");
	i = 0;
	cJSON_ArrayForEach(res, arr)
	{
		size_t m2 = ns_ptr_index(d->c, i++);
		if ((rc = walk_module(d, res, depth + 1)) != 0)
			return rc;
		ns_ptr_pop(d->c, m2);
	}
	ns_ptr_pop(d->c, mark);
	return 0;
}

/* ---- what the plan does not know, and the configuration ------------------------ */

static int index_changes(ns_tf_doc *d)
{
	const cJSON *ch;
	cJSON_ArrayForEach(ch, cJSON_GetObjectItem(d->root, "resource_changes"))
	{
		const char *address = ns_raw_string(ch, "address");
		if (address && ns_map_put(&d->changes, address, (void *)ch) != 0)
			return nomem(d);
	}
	return 0;
}

static void attach_config(ns_tf_doc *d)
{
	const cJSON *root_cfg = d->config_root;
	for (size_t i = 0; i < d->n; i++) {
		ns_tf_inst *in = &d->insts[i];
		const cJSON *ch = ns_map_get(&d->changes, in->address);
		const cJSON *unk =
		        cJSON_GetObjectItem(cJSON_GetObjectItem(ch, "change"), "after_unknown");
		in->unknown = cJSON_IsObject(unk) ? unk : NULL;
		in->config_module = root_cfg ? ns_tf_config_module(root_cfg, in->module) : NULL;
		const cJSON *r;
		cJSON_ArrayForEach(r, cJSON_GetObjectItem(in->config_module, "resources"))
		{
			const char *type = ns_raw_string(r, "type"),
			           *name = ns_raw_string(r, "name");
			const char *mode = ns_raw_string(r, "mode");
			if (type && name && strcmp(type, in->type) == 0 &&
			    strcmp(name, in->name) == 0 &&
			    (!mode || strcmp(mode, "managed") == 0)) {
				in->config = r;
				break;
			}
		}
	}
}

/* ---- the subscription ids are built with ---------------------------------------- */

static const char *id_subscription(ns_tf_doc *d, const char *id)
{
	if (!id || strncmp(id, "/subscriptions/", 15) != 0)
		return NULL;
	size_t len = strcspn(id + 15, "/");
	char *sub = len ? ns_arena_strndup(&d->c->m->arena, id + 15, len) : NULL;
	d->nomem |= len && !sub;
	return sub;
}

/* The user's --subscription; else the provider's subscription_id; else
 * that of an id the document already holds; else the default, noted where
 * an id is built with it (ids are then placeholders; answers are the
 * same). */
static int pick_subscription(ns_tf_doc *d)
{
	ns_model *m = d->c->m;
	if (m->subscription_set) {
		d->subscription = m->subscription_id;
		return 0;
	}
	const cJSON *prov = cJSON_GetObjectItem(
	        cJSON_GetObjectItem(cJSON_GetObjectItem(d->root, "configuration"),
	                            "provider_config"),
	        "azurerm");
	const cJSON *sub = cJSON_GetObjectItem(
	        cJSON_GetObjectItem(cJSON_GetObjectItem(prov, "expressions"), "subscription_id"),
	        "constant_value");
	if (cJSON_IsString(sub) && sub->valuestring[0]) {
		d->subscription = arena_str(d, sub->valuestring);
		return d->subscription ? 0 : nomem(d);
	}
	for (size_t i = 0; i < d->n && !d->subscription; i++)
		d->subscription = id_subscription(d, ns_raw_string(d->insts[i].values, "id"));
	if (d->subscription)
		return 0;
	d->subscription = m->subscription_id;
	d->subscription_default = true;
	return 0;
}

/* ---- the document ------------------------------------------------------------------ */

static int read_all(ns_tf_doc *d)
{
	int rc;
	for (size_t i = 0; i < d->n; i++) {
		if ((rc = ns_tf_collect_link(d, &d->insts[i])) != 0)
			return rc;
	}
	for (size_t i = 0; i < d->n; i++)
		if ((rc = ns_tf_read_instance(d, &d->insts[i])) != 0)
			return rc;
	return ns_tf_report_links(d);
}

/* A string that could not be made reads as absent or unknown: never an
 * answer, so the whole read fails. */
static int check_nomem(ns_tf_doc *d, int rc)
{
	if (d->nomem && (rc == 0 || rc == NSGSIM_E_NOMEM || rc == NSGSIM_E_UNEVALUATED))
		return ns_pfail(d->c, NSGSIM_E_NOMEM, "out of memory");
	return rc;
}

int ns_tf_walk(ns_pctx *c, const cJSON *root)
{
	ns_tf_doc d = {.c = c, .root = root};
	d.config_root =
	        cJSON_GetObjectItem(cJSON_GetObjectItem(root, "configuration"), "root_module");
	ns_map_init(&d.by_resource);
	ns_map_init(&d.changes);
	const char *top = "planned_values";
	const cJSON *vals = cJSON_GetObjectItem(root, top);
	if (!vals)
		vals = cJSON_GetObjectItem(root, top = "values");
	int rc = 0;
	const cJSON *mod = cJSON_GetObjectItem(vals, "root_module");
	if (vals && !cJSON_IsObject(vals)) {
		size_t mark = ns_ptr_key(c, top);
		rc = ns_pfail(c, NSGSIM_E_SHAPE, "expected an object");
		ns_ptr_pop(c, mark);
	} else if (mod) {
		size_t mark = ns_ptr_key(c, top);
		size_t m2 = ns_ptr_key(c, "root_module");
		rc = walk_module(&d, mod, 0);
		ns_ptr_pop(c, m2);
		ns_ptr_pop(c, mark);
	}
	if (rc == 0)
		rc = index_changes(&d);
	if (rc == 0) {
		attach_config(&d);
		rc = pick_subscription(&d);
	}
	if (rc == 0)
		rc = read_all(&d);
	rc = check_nomem(&d, rc);
	free(d.insts);
	free(d.links);
	ns_map_free(&d.by_resource);
	ns_map_free(&d.changes);
	return rc;
}
