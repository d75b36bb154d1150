/* The resources of an ARM template: each one evaluated (copy loops,
 * conditions, child resources nested with relative types and names, nested
 * inline deployments in inner or outer scope) and handed to its reader as a
 * REST-shaped resource with the id Azure would give it.
 *
 * https://learn.microsoft.com/azure/azure-resource-manager/templates/copy-resources
 * https://learn.microsoft.com/azure/azure-resource-manager/templates/conditional-resource-deployment
 * https://learn.microsoft.com/azure/azure-resource-manager/templates/child-resource-name-type
 * https://learn.microsoft.com/azure/azure-resource-manager/templates/linked-templates#nested-template
 * Bicep's languageVersion 2.0 output keys resources by symbolic name:
 * https://learn.microsoft.com/azure/azure-resource-manager/templates/syntax#resources */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "parse/arm_template.h"

static int walk_resources(ns_tpl_scope *s, const cJSON *list, const char *parent_type,
                          const char *parent_name);

/* Members of a template resource that are template logic, not resource
 * content. */
static bool is_template_logic(const char *key)
{
	static const char *const keys[] = {"copy",      "condition", "dependsOn",
	                                   "resources", "comments",  "existing"};
	for (size_t i = 0; i < NS_ARRAY_LEN(keys); i++)
		if (ns_ieq(key, keys[i]))
			return true;
	return false;
}

/* "Microsoft.Network/virtualNetworks/subnets" from a child's relative
 * "subnets" (or its full type, which Azure accepts too). */
static const char *full_type(ns_pctx *c, const char *parent_type, const char *type)
{
	if (!parent_type || strchr(type, '/'))
		return type;
	return ns_arena_printf(&c->m->arena, "%s/%s", parent_type, type);
}

static size_t segments(const char *s)
{
	size_t n = 1;
	for (; *s; s++)
		n += *s == '/';
	return n;
}

/* A child's name is relative to its parent's unless it already has as many
 * segments as its type has names. */
static const char *full_name(ns_pctx *c, const char *type, const char *parent_name,
                             const char *name)
{
	if (!parent_name || segments(name) + 1 >= segments(type))
		return name;
	return ns_arena_printf(&c->m->arena, "%s/%s", parent_name, name);
}

/* The id Azure gives a resource group's resource:
 * /subscriptions/S/resourceGroups/G/providers/NS/t1/n1[/t2/n2...]. */
static const char *resource_id(ns_tpl_scope *s, const char *type, const char *name)
{
	ns_buf b;
	ns_buf_init(&b);
	ns_buf_printf(&b, "/subscriptions/%s/resourceGroups/%s/providers/", s->env.subscription_id,
	              s->env.resource_group);
	const char *slash = strchr(type, '/');
	ns_buf_put(&b, type, slash ? (size_t)(slash - type) : strlen(type));
	for (const char *t = slash, *n = name; t && *t;) {
		const char *te = strchr(t + 1, '/'), *ne = strchr(n, '/');
		ns_buf_put(&b, t, te ? (size_t)(te - t) : strlen(t));
		ns_buf_puts(&b, "/");
		ns_buf_put(&b, n, ne ? (size_t)(ne - n) : strlen(n));
		t = te;
		n = ne ? ne + 1 : n + strlen(n);
	}
	const char *id = b.failed ? NULL : ns_arena_strdup(&s->c->m->arena, b.data);
	ns_buf_free(&b);
	return id;
}

static int note_skipped(ns_tpl_scope *s, const char *name, const char *fmt, const char *what)
{
	return ns_model_note(s->c->m, NSGSIM_NOTE_SKIPPED, s->c->file, s->c->ptr, name, fmt, what);
}

/* false: not deployed.  A condition that cannot be known is an error: the
 * resource may or may not exist. */
static int condition_holds(ns_tpl_scope *s, const cJSON *res, bool *holds)
{
	*holds = true;
	if (!cJSON_GetObjectItem(res, "condition"))
		return 0;
	cJSON *v;
	int rc = ns_tpl_member(s, res, "condition", cJSON_True, &v);
	if (rc == 0)
		*holds = cJSON_IsTrue(v);
	cJSON_Delete(v);
	return rc;
}

static int count_resource(ns_tpl_scope *s)
{
	if (++*s->n_resources <= NS_TPL_MAX_RESOURCES)
		return 0;
	return ns_pfail(s->c, NSGSIM_E_LIMIT,
	                "more than %d resources in one template (Azure's limit, copies counted)",
	                NS_TPL_MAX_RESOURCES);
}

/* The resource with its content evaluated, type and name made full, and
 * the id Azure gives it. */
static int evaluated_resource(ns_tpl_scope *s, const cJSON *res, const char *type, const char *name,
                              cJSON **out)
{
	if (!(*out = cJSON_CreateObject()))
		return ns_pfail(s->c, NSGSIM_E_NOMEM, "out of memory");
	int rc = 0;
	for (const cJSON *m = res->child; m && rc == 0; m = m->next) {
		if (is_template_logic(m->string) || ns_ieq(m->string, "type") ||
		    ns_ieq(m->string, "name") || ns_ieq(m->string, "id"))
			continue;
		size_t mark = ns_ptr_key(s->c, m->string);
		cJSON *v = NULL;
		rc = ns_tpl_value(s, m, &v);
		if (rc == 0 && !cJSON_AddItemToObject(*out, m->string, v)) {
			cJSON_Delete(v);
			rc = ns_pfail(s->c, NSGSIM_E_NOMEM, "out of memory");
		}
		if (rc == 0)
			ns_ptr_pop(s->c, mark);
	}
	const char *id = rc == 0 ? resource_id(s, type, name) : NULL;
	if (rc == 0 && (!id || !cJSON_AddStringToObject(*out, "id", id) ||
	                !cJSON_AddStringToObject(*out, "name", name) ||
	                !cJSON_AddStringToObject(*out, "type", type)))
		rc = ns_pfail(s->c, NSGSIM_E_NOMEM, "out of memory");
	if (rc != 0) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	return rc;
}

static int walk_nested(ns_tpl_scope *s, const cJSON *res, const char *name);

/* A modelled resource: evaluated, read, then its children. */
static int deploy_resource(ns_tpl_scope *s, const cJSON *res, const char *type, const char *name)
{
	cJSON *ev;
	int rc = count_resource(s);
	if (rc == 0)
		rc = evaluated_resource(s, res, type, name, &ev);
	if (rc != 0)
		return rc;
	bool was = s->c->evaluated;
	s->c->evaluated = true;
	rc = ns_parse_resource(s->c, ev);
	s->c->evaluated = was;
	cJSON_Delete(ev);
	const cJSON *kids = cJSON_GetObjectItem(res, "resources");
	if (rc == 0 && kids) {
		size_t mark = ns_ptr_key(s->c, "resources");
		rc = walk_resources(s, kids, type, name);
		if (rc == 0)
			ns_ptr_pop(s->c, mark);
	}
	return rc;
}

/* One instance of a resource (one copy index, or the only one). */
static int walk_instance(ns_tpl_scope *s, const cJSON *res, const char *parent_type,
                         const char *parent_name)
{
	cJSON *t = NULL, *n = NULL;
	int rc = ns_tpl_member(s, res, "type", cJSON_String, &t);
	if (rc == 0)
		rc = ns_tpl_member(s, res, "name", cJSON_String, &n);
	const char *type = rc == 0 ? full_type(s->c, parent_type, t->valuestring) : NULL;
	const char *name = type ? full_name(s->c, type, parent_name, n->valuestring) : NULL;
	if (rc == 0 && (!type || !name || !(type = ns_arena_strdup(&s->c->m->arena, type)) ||
	                !(name = ns_arena_strdup(&s->c->m->arena, name))))
		rc = ns_pfail(s->c, NSGSIM_E_NOMEM, "out of memory");
	cJSON_Delete(t);
	cJSON_Delete(n);
	if (rc != 0)
		return rc;
	bool deployments = ns_ieq(type, "Microsoft.Resources/deployments");
	if (!deployments && !ns_resource_type_known(type))
		return note_skipped(s, name, "resource type '%s' is not modelled; skipped", type);
	bool holds;
	if ((rc = condition_holds(s, res, &holds)) != 0)
		return rc;
	if (!holds)
		return note_skipped(s, name, "%s with condition false: not deployed, skipped",
		                    type);
	return deployments ? walk_nested(s, res, name) : deploy_resource(s, res, type, name);
}

/* A resource copy loop: one instance per index, copyIndex() naming it. */
static int walk_copies(ns_tpl_scope *s, const cJSON *res, const cJSON *copy,
                       const char *parent_type, const char *parent_name)
{
	size_t mark = ns_ptr_key(s->c, "copy");
	cJSON *count = NULL, *loop_name = NULL;
	int rc = ns_tpl_member(s, copy, "count", cJSON_Number, &count);
	if (rc == 0)
		rc = ns_tpl_member(s, copy, "name", cJSON_String, &loop_name);
	if (rc == 0 && (count->valuedouble < 0 || count->valuedouble > NS_TPL_MAX_COPY ||
	                count->valuedouble != (double)(int)count->valuedouble)) {
		size_t m2 = ns_ptr_key(s->c, "count");
		rc = ns_pfail(s->c,
		              count->valuedouble > NS_TPL_MAX_COPY ? NSGSIM_E_LIMIT
		                                                   : NSGSIM_E_SHAPE,
		              "a copy count of %g: an integer 0-%d (Azure's limit)",
		              count->valuedouble, NS_TPL_MAX_COPY);
		ns_ptr_pop(s->c, m2);
	}
	if (rc == 0 && s->n_loops >= NS_TPL_MAX_LOOPS)
		rc = ns_pfail(s->c, NSGSIM_E_LIMIT, "copy loops nested deeper than %d",
		              NS_TPL_MAX_LOOPS);
	if (rc == 0) {
		ns_ptr_pop(s->c, mark);
		int slot = s->n_loops++, n = (int)count->valuedouble;
		for (int i = 0; i < n && rc == 0; i++) {
			s->loops[slot] = (ns_tpl_loop){loop_name->valuestring, i};
			rc = walk_instance(s, res, parent_type, parent_name);
		}
		s->n_loops = slot;
	}
	cJSON_Delete(count);
	cJSON_Delete(loop_name);
	return rc;
}

static int walk_resource(ns_tpl_scope *s, const cJSON *res, const char *parent_type,
                         const char *parent_name)
{
	s->c->resource = NULL;
	if (!cJSON_IsObject(res))
		return ns_pfail(s->c, NSGSIM_E_SHAPE, "expected a resource object");
	if (cJSON_IsTrue(cJSON_GetObjectItem(res, "existing")))
		return note_skipped(
		        s, ns_raw_string(res, "name"),
		        "%s: a reference to an existing resource, not defined here; skipped",
		        "'existing: true'");
	const cJSON *copy = cJSON_GetObjectItem(res, "copy");
	if (cJSON_IsObject(copy))
		return walk_copies(s, res, copy, parent_type, parent_name);
	return walk_instance(s, res, parent_type, parent_name);
}

/* An array of resources, or (languageVersion 2.0) an object of them keyed
 * by symbolic name. */
static int walk_resources(ns_tpl_scope *s, const cJSON *list, const char *parent_type,
                          const char *parent_name)
{
	if (!cJSON_IsArray(list) && !cJSON_IsObject(list))
		return ns_pfail(
		        s->c, NSGSIM_E_SHAPE,
		        "expected 'resources' to be an array (or, with languageVersion 2.0, "
		        "an object keyed by symbolic name)");
	size_t i = 0;
	for (const cJSON *r = list->child; r; r = r->next, i++) {
		size_t mark =
		        cJSON_IsArray(list) ? ns_ptr_index(s->c, i) : ns_ptr_key(s->c, r->string);
		int rc = walk_resource(s, r, parent_type, parent_name);
		if (rc != 0)
			return rc;
		ns_ptr_pop(s->c, mark);
	}
	return 0;
}

/* ---- nested deployments ---------------------------------------------------------- */

static int walk_template(ns_tpl_scope *s)
{
	int rc = ns_tpl_check_params(s);
	const cJSON *vars = cJSON_GetObjectItem(s->tpl, "variables");
	if (rc == 0 && cJSON_GetArraySize(vars) > NS_TPL_MAX_VARS)
		rc = ns_pfail(s->c, NSGSIM_E_LIMIT, "more than %d variables (Azure's limit)",
		              NS_TPL_MAX_VARS);
	const cJSON *list = cJSON_GetObjectItem(s->tpl, "resources");
	if (rc != 0 || !list)
		return rc;
	size_t mark = ns_ptr_key(s->c, "resources");
	rc = walk_resources(s, list, NULL, NULL);
	if (rc == 0)
		ns_ptr_pop(s->c, mark);
	return rc;
}

/* expressionEvaluationOptions.scope: "inner" gives the nested template its
 * own parameters and variables; "outer" (the default) evaluates it in the
 * parent's. */
static bool inner_scope(const cJSON *props)
{
	const cJSON *opts = cJSON_GetObjectItem(props, "expressionEvaluationOptions");
	const char *scope = ns_raw_string(opts, "scope");
	return scope && ns_ieq(scope, "inner");
}

/* An inner-scope deployment's target: resourceGroup and subscriptionId of
 * the deployment resource, else the parent's. */
static int inner_target(ns_tpl_scope *s, const cJSON *res, ns_tpl_scope *in)
{
	static const char *const keys[] = {"subscriptionId", "resourceGroup"};
	const char **fields[] = {&in->env.subscription_id, &in->env.resource_group};
	for (int k = 0; k < 2; k++) {
		if (!cJSON_GetObjectItem(res, keys[k]))
			continue;
		cJSON *v;
		int rc = ns_tpl_member(s, res, keys[k], cJSON_String, &v);
		if (rc != 0)
			return rc;
		*fields[k] = ns_arena_strdup(&s->c->m->arena, v->valuestring);
		cJSON_Delete(v);
		if (!*fields[k])
			return ns_pfail(s->c, NSGSIM_E_NOMEM, "out of memory");
	}
	return 0;
}

/* The nested template with its own scope: the deployment's "parameters"
 * (evaluated in the parent's scope) are its parameter values.  (Errors are
 * reported with the pointer where they happened; popping after one does not
 * change them.) */
static int walk_inner(ns_tpl_scope *s, const cJSON *res, const cJSON *props, const cJSON *tpl)
{
	size_t mark = ns_ptr_key(s->c, "properties");
	size_t m2 = ns_ptr_key(s->c, "parameters");
	const cJSON *raw = cJSON_GetObjectItem(props, "parameters");
	cJSON *given = NULL;
	int rc = raw ? ns_tpl_value(s, raw, &given) : 0;
	ns_ptr_pop(s->c, m2);
	if (rc == 0 && !given && !(given = cJSON_CreateObject()))
		rc = ns_pfail(s->c, NSGSIM_E_NOMEM, "out of memory");
	ns_ptr_key(s->c, "template");
	const char *base = ns_arena_strdup(&s->c->m->arena, s->c->ptr);
	ns_ptr_pop(s->c, mark);
	if (rc == 0 && !base)
		rc = ns_pfail(s->c, NSGSIM_E_NOMEM, "out of memory");
	ns_tpl_scope in;
	bool made = false;
	if (rc == 0) {
		rc = ns_tpl_scope_init(&in, s->c, tpl, base, given, s);
		made = true;
	}
	if (rc == 0)
		rc = inner_target(s, res, &in);
	if (rc == 0) {
		ns_ptr_key(s->c, "properties");
		ns_ptr_key(s->c, "template");
		rc = walk_template(&in);
		ns_ptr_pop(s->c, mark);
	}
	if (made)
		ns_tpl_scope_free(&in);
	cJSON_Delete(given);
	return rc;
}

static int walk_nested(ns_tpl_scope *s, const cJSON *res, const char *name)
{
	const cJSON *props = cJSON_GetObjectItem(res, "properties");
	const cJSON *tpl = cJSON_GetObjectItem(props, "template");
	if (cJSON_GetObjectItem(props, "templateLink"))
		return ns_model_note(s->c->m, NSGSIM_NOTE_WARNING, s->c->file, s->c->ptr, name,
		                     "a linked template (templateLink) is not available offline: "
		                     "the resources it deploys are not modelled");
	if (!cJSON_IsObject(tpl))
		return note_skipped(s, name, "%s without an inline template; skipped",
		                    "a nested deployment");
	if (s->depth + 1 > NS_TPL_MAX_NESTING)
		return ns_pfail(s->c, NSGSIM_E_LIMIT, "nested deployments deeper than %d",
		                NS_TPL_MAX_NESTING);
	if (inner_scope(props))
		return walk_inner(s, res, props, tpl);
	/* Outer scope: the nested template's resources, with the parent's
	 * parameters and variables. */
	const cJSON *list = cJSON_GetObjectItem(tpl, "resources");
	if (!list)
		return 0;
	size_t mark = ns_ptr_key(s->c, "properties");
	ns_ptr_key(s->c, "template");
	ns_ptr_key(s->c, "resources");
	s->depth++;
	int rc = walk_resources(s, list, NULL, NULL);
	s->depth--;
	if (rc == 0)
		ns_ptr_pop(s->c, mark);
	return rc;
}

/* ---- the document ------------------------------------------------------------- */

static int note_deployment(ns_pctx *c)
{
	const ns_model *m = c->m;
	if (m->subscription_set && m->resource_group_set && m->location_set)
		return 0;
	return ns_model_note(c->m, NSGSIM_NOTE_WARNING, c->file, "", NULL,
	                     "template evaluated for subscription %s, resource group '%s', "
	                     "location '%s' (%s: set them with --subscription, "
	                     "--resource-group, --location)",
	                     m->subscription_id, m->resource_group, m->location,
	                     "defaults where not given");
}

int ns_tpl_walk(ns_pctx *c, const cJSON *tpl)
{
	if (c->text_len > NS_TPL_MAX_BYTES)
		return ns_pfail(c, NSGSIM_E_LIMIT,
		                "the template has %zu bytes; Azure's limit is %u (4 MB)",
		                c->text_len, NS_TPL_MAX_BYTES);
	uint64_t budget = NS_TPL_BUDGET;
	size_t n_resources = 0;
	ns_tpl_scope s;
	int rc = ns_tpl_scope_init(&s, c, tpl, "", NULL, NULL);
	s.env.budget = &budget;
	s.n_resources = &n_resources;
	if (rc == 0)
		rc = note_deployment(c);
	if (rc == 0)
		rc = walk_template(&s);
	ns_tpl_scope_free(&s);
	return rc;
}
