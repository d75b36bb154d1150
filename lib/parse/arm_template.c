/* A template's scope: parameters (the user's values, or a nested inner-scope
 * deployment's, else the default), variables (variable copy loops
 * included), and the evaluation of template values, property copy loops
 * expanded (https://learn.microsoft.com/azure/azure-resource-manager/templates/copy-properties,
 * copy-variables).  Values are evaluated when first asked for and kept, as
 * ARM's validation does; a variable that refers to itself is an error. */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "parse/arm_template.h"

static int fail_msg(ns_arm_error *err, int code, const char *fmt, const char *name)
{
	snprintf(err->msg, sizeof err->msg, fmt, name);
	err->code = code;
	return code;
}

/* Evaluates fn at the pointer base + key path, outside every copy loop
 * (parameters and variables do not see the resource being evaluated), then
 * puts the caller's pointer and loops back. */
typedef struct saved_pos {
	char ptr[sizeof(((ns_pctx *)0)->ptr)];
	size_t len;
	int n_loops;
} saved_pos;

static void enter_decl(ns_tpl_scope *s, saved_pos *p, const char *section, const char *name)
{
	memcpy(p->ptr, s->c->ptr, s->c->len + 1);
	p->len = s->c->len;
	p->n_loops = s->n_loops;
	s->n_loops = 0;
	size_t n = strlen(s->base);
	if (n >= sizeof s->c->ptr)
		n = 0;
	memcpy(s->c->ptr, s->base, n);
	s->c->ptr[n] = '\0';
	s->c->len = n;
	ns_ptr_key(s->c, section);
	if (name)
		ns_ptr_key(s->c, name);
}

static void leave_decl(ns_tpl_scope *s, const saved_pos *p)
{
	memcpy(s->c->ptr, p->ptr, p->len + 1);
	s->c->len = p->len;
	s->n_loops = p->n_loops;
}

/* Marks name busy in s->busy[kind]; an error if it already is. */
static int claim(ns_tpl_scope *s, const char *kind, const char *name, ns_arm_error *err)
{
	char key[300];
	snprintf(key, sizeof key, "%s:%s", kind, name);
	if (cJSON_GetObjectItem(s->busy, key))
		return fail_msg(err, NSGSIM_E_SHAPE, "'%s' refers to itself", name);
	return cJSON_AddTrueToObject(s->busy, key) ? 0 : NSGSIM_E_NOMEM;
}

static void release(ns_tpl_scope *s, const char *kind, const char *name)
{
	char key[300];
	snprintf(key, sizeof key, "%s:%s", kind, name);
	cJSON_DeleteItemFromObject(s->busy, key);
}

/* ---- parameters ----------------------------------------------------------------- */

static bool type_is(const char *type, const char *a, const char *b)
{
	return type && (ns_ieq(type, a) || (b && ns_ieq(type, b)));
}

/* Whether v has the declared type (an unknown has every type). */
static bool has_type(const cJSON *v, const char *type)
{
	if (!type || ns_arm_is_unknown(v))
		return true;
	if (type_is(type, "string", "securestring"))
		return cJSON_IsString(v);
	if (type_is(type, "int", NULL))
		return cJSON_IsNumber(v) && v->valuedouble >= -9.2e18 && v->valuedouble <= 9.2e18 &&
		       v->valuedouble == (double)(long long)v->valuedouble;
	if (type_is(type, "bool", NULL))
		return cJSON_IsBool(v);
	if (type_is(type, "array", NULL))
		return cJSON_IsArray(v);
	if (type_is(type, "object", "secureobject"))
		return cJSON_IsObject(v);
	return true;
}

static bool loosely_equal(const cJSON *a, const cJSON *b)
{
	if (cJSON_IsString(a) && cJSON_IsString(b))
		return ns_ieq(a->valuestring, b->valuestring);
	return cJSON_Compare(a, b, false);
}

static int check_allowed(ns_tpl_scope *s, const cJSON *decl, const char *name, const cJSON *v)
{
	const cJSON *allowed = cJSON_GetObjectItem(decl, "allowedValues");
	if (!cJSON_IsArray(allowed) || ns_arm_is_unknown(v))
		return 0;
	const cJSON *a;
	cJSON_ArrayForEach(a, allowed) if (loosely_equal(a, v)) return 0;
	/* An array value must hold only allowed items. */
	if (cJSON_IsArray(v)) {
		const cJSON *item;
		cJSON_ArrayForEach(item, v)
		{
			bool ok = false;
			cJSON_ArrayForEach(a, allowed) ok = ok || loosely_equal(a, item);
			if (!ok)
				goto bad;
		}
		return 0;
	}
bad:;
	char *text = cJSON_PrintUnformatted(v);
	int rc = ns_pfail(s->c, NSGSIM_E_SHAPE,
	                  "parameter '%s': %.100s is not one of its allowedValues", name,
	                  text ? text : "the value");
	cJSON_free(text);
	return rc;
}

/* minValue/maxValue of an int, minLength/maxLength of a string or array
 * (syntax.md, "Parameters"; parameters.md "Length constraints", "Integer
 * constraints"): Resource Manager refuses a value outside them. */
static int check_bounds(ns_tpl_scope *s, const cJSON *decl, const char *name, const cJSON *v)
{
	static const char *const keys[][2] = {{"minValue", "maxValue"}, {"minLength", "maxLength"}};
	if (ns_arm_is_unknown(v))
		return 0;
	bool number = cJSON_IsNumber(v);
	if (!number && !cJSON_IsString(v) && !cJSON_IsArray(v))
		return 0;
	double have = number              ? v->valuedouble
	              : cJSON_IsString(v) ? (double)strlen(v->valuestring)
	                                  : (double)cJSON_GetArraySize(v);
	for (int k = 0; k < 2; k++) {
		const char *key = keys[number ? 0 : 1][k];
		const cJSON *b = cJSON_GetObjectItem(decl, key);
		if (!cJSON_IsNumber(b) ||
		    (k == 0 ? have >= b->valuedouble : have <= b->valuedouble))
			continue;
		return ns_pfail(s->c, NSGSIM_E_SHAPE, "parameter '%s': %s %.0f is %s its %s %.0f",
		                name, number ? "the value" : "the length", have,
		                k == 0 ? "below" : "above", key, b->valuedouble);
	}
	return 0;
}

/* A value an inner-scope nested deployment passes: {"value": V}. */
static int inner_given(ns_tpl_scope *s, const char *name, cJSON **out)
{
	*out = NULL;
	const cJSON *g = cJSON_GetObjectItem(s->given, name);
	if (!g)
		return 0;
	const cJSON *v = cJSON_IsObject(g) ? cJSON_GetObjectItem(g, "value") : NULL;
	if (cJSON_IsObject(g) && cJSON_GetObjectItem(g, "reference"))
		*out = ns_arm_unknown("a Key Vault secret reference");
	else if (v)
		*out = cJSON_Duplicate(v, true);
	else if (ns_arm_is_unknown(g))
		*out = cJSON_Duplicate(g, true);
	else
		return ns_pfail(
		        s->c, NSGSIM_E_SHAPE,
		        "the nested deployment passes parameter '%s' without {\"value\": ...}",
		        name);
	return *out ? 0 : ns_pfail(s->c, NSGSIM_E_NOMEM, "out of memory");
}

/* The parameter's value: given, else its default; at the pointer of its
 * declaration. */
static int param_value(ns_tpl_scope *s, const cJSON *decl, const char *name, cJSON **out)
{
	const char *type = ns_raw_string(decl, "type");
	int rc = s->given ? inner_given(s, name, out) : ns_arm_given_param(s->c, name, type, out);
	if (rc == 0 && !*out) {
		const cJSON *def = cJSON_GetObjectItem(decl, "defaultValue");
		if (!def)
			return ns_pfail(s->c, NSGSIM_E_MISSING_FIELD,
			                "parameter '%s' has no value and no default: give it with "
			                "--parameters %s=VALUE or in a parameters file",
			                name, name);
		size_t mark = ns_ptr_key(s->c, "defaultValue");
		rc = ns_tpl_value(s, def, out);
		ns_ptr_pop(s->c, mark);
	}
	if (rc == 0 && !has_type(*out, type))
		rc = ns_pfail(s->c, NSGSIM_E_SHAPE,
		              "parameter '%s' is declared %s; its value is not", name, type);
	if (rc == 0)
		rc = check_allowed(s, decl, name, *out);
	if (rc == 0)
		rc = check_bounds(s, decl, name, *out);
	if (rc != 0) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	return rc;
}

/* The evaluated value of a declared parameter, kept in s->params. */
static int resolve_param(ns_tpl_scope *s, const cJSON *decl, const char *name, const cJSON **out,
                         ns_arm_error *err)
{
	if ((*out = cJSON_GetObjectItem(s->params, name)))
		return 0;
	int rc = claim(s, "parameter", name, err);
	if (rc != 0)
		return rc;
	saved_pos pos;
	enter_decl(s, &pos, "parameters", name);
	cJSON *v = NULL;
	rc = param_value(s, decl, name, &v);
	leave_decl(s, &pos);
	release(s, "parameter", name);
	if (rc != 0) {
		s->reported = true;
		return fail_msg(err, rc, "parameter '%s' has no usable value", name);
	}
	if (!cJSON_AddItemToObject(s->params, name, v)) {
		cJSON_Delete(v);
		return NSGSIM_E_NOMEM;
	}
	*out = v;
	return 0;
}

static int parameter_cb(void *user, const char *name, cJSON **out, ns_arm_error *err)
{
	ns_tpl_scope *s = user;
	const cJSON *decl = cJSON_GetObjectItem(cJSON_GetObjectItem(s->tpl, "parameters"), name);
	if (!cJSON_IsObject(decl))
		return fail_msg(err, NSGSIM_E_SHAPE, "the template declares no parameter '%s'",
		                name);
	const cJSON *v;
	int rc = resolve_param(s, decl, decl->string, &v, err);
	if (rc == 0 && !(*out = cJSON_Duplicate(v, true)))
		rc = NSGSIM_E_NOMEM;
	return rc;
}

int ns_tpl_check_params(ns_tpl_scope *s)
{
	const cJSON *decls = cJSON_GetObjectItem(s->tpl, "parameters");
	if (decls && !cJSON_IsObject(decls))
		return ns_pfail(s->c, NSGSIM_E_SHAPE, "expected 'parameters' to be an object");
	if (cJSON_GetArraySize(decls) > NS_TPL_MAX_PARAMS)
		return ns_pfail(s->c, NSGSIM_E_LIMIT, "more than %d parameters (Azure's limit)",
		                NS_TPL_MAX_PARAMS);
	const cJSON *d;
	cJSON_ArrayForEach(d, decls)
	{
		ns_arm_error err = {0};
		const cJSON *v;
		if (!cJSON_IsObject(d)) {
			size_t mark = ns_ptr_key(s->c, "parameters");
			ns_ptr_key(s->c, d->string);
			int rc = ns_pfail(s->c, NSGSIM_E_SHAPE, "expected a parameter declaration");
			ns_ptr_pop(s->c, mark);
			return rc;
		}
		int rc = resolve_param(s, d, d->string, &v, &err);
		if (rc != 0)
			return s->reported ? rc : ns_pfail(s->c, rc, "%s", err.msg);
	}
	return 0;
}

/* ---- variables ------------------------------------------------------------------- */

/* {"name", "count", "input"} of a copy loop: the array of its inputs, each
 * evaluated with copyIndex(name) = i. */
static int copy_array(ns_tpl_scope *s, const cJSON *loop, const char *name, cJSON **out);

/* A variable's declaration: a member of "variables", or an item of its
 * "copy" array (variable copy loops). */
static int variable_decl(ns_tpl_scope *s, const char *name, const cJSON **decl, bool *is_copy)
{
	const cJSON *vars = cJSON_GetObjectItem(s->tpl, "variables");
	*is_copy = false;
	*decl = NULL;
	const cJSON *copies = cJSON_GetObjectItem(vars, "copy");
	if (cJSON_IsArray(copies)) {
		const cJSON *item;
		cJSON_ArrayForEach(item, copies)
		{
			const char *n = ns_raw_string(item, "name");
			if (n && ns_ieq(n, name)) {
				*decl = item;
				*is_copy = true;
				return 0;
			}
		}
	}
	if (!ns_ieq(name, "copy") || !cJSON_IsArray(copies))
		*decl = cJSON_GetObjectItem(vars, name);
	return 0;
}

static int variable_cb(void *user, const char *name, cJSON **out, ns_arm_error *err)
{
	ns_tpl_scope *s = user;
	const cJSON *v = cJSON_GetObjectItem(s->vars, name);
	if (!v) {
		const cJSON *decl;
		bool is_copy;
		variable_decl(s, name, &decl, &is_copy);
		if (!decl)
			return fail_msg(err, NSGSIM_E_SHAPE,
			                "the template declares no variable '%s'", name);
		int rc = claim(s, "variable", name, err);
		if (rc != 0)
			return rc;
		saved_pos pos;
		enter_decl(s, &pos, "variables", is_copy ? "copy" : decl->string);
		cJSON *val = NULL;
		rc = is_copy ? copy_array(s, decl, name, &val) : ns_tpl_value(s, decl, &val);
		leave_decl(s, &pos);
		release(s, "variable", name);
		if (rc != 0) {
			s->reported = true;
			return fail_msg(err, rc, "variable '%s' could not be evaluated", name);
		}
		if (!cJSON_AddItemToObject(s->vars, name, val)) {
			cJSON_Delete(val);
			return NSGSIM_E_NOMEM;
		}
		v = val;
	}
	return (*out = cJSON_Duplicate(v, true)) ? 0 : NSGSIM_E_NOMEM;
}

static int copy_index_cb(void *user, const char *loop, int64_t *out, ns_arm_error *err)
{
	ns_tpl_scope *s = user;
	for (int i = s->n_loops; i-- > 0;) {
		const ns_tpl_loop *l = &s->loops[i];
		if (!loop || (l->name && ns_ieq(l->name, loop))) {
			*out = l->index;
			return 0;
		}
	}
	return loop ? fail_msg(err, NSGSIM_E_SHAPE, "copyIndex('%s') outside that copy loop", loop)
	            : fail_msg(err, NSGSIM_E_SHAPE, "copyIndex() outside a copy loop%s", "");
}

/* ---- values ---------------------------------------------------------------------- */

static bool fatal(int rc)
{
	return rc == NSGSIM_E_NOMEM || rc == NSGSIM_E_LIMIT;
}

/* One string: its value, or an unknown naming the error. */
static int eval_string(ns_tpl_scope *s, const char *text, cJSON **out)
{
	ns_arm_error err = {0};
	int rc = ns_arm_eval(&s->env, text, out, &err);
	if (rc == 0)
		return 0;
	if (s->reported)
		return rc;
	if (fatal(rc))
		return ns_pfail(s->c, rc, "%s (in '%.200s')", err.msg, text);
	char origin[512];
	snprintf(origin, sizeof origin, "error: %s (in '%.200s')", err.msg, text);
	*out = ns_arm_unknown(origin);
	return *out ? 0 : ns_pfail(s->c, NSGSIM_E_NOMEM, "out of memory");
}

static cJSON *unknown_for(ns_tpl_scope *s, const char *what)
{
	char origin[300];
	snprintf(origin, sizeof origin, "error: %s at %.200s", what, s->c->ptr);
	return ns_arm_unknown(origin);
}

/* A copy loop's count: a known integer 0..800, else *count = -1 and *why
 * set (the caller decides whether that matters). */
static int copy_count(ns_tpl_scope *s, const cJSON *loop, int64_t *count, cJSON **why)
{
	*count = -1;
	*why = NULL;
	cJSON *v = NULL;
	size_t mark = ns_ptr_key(s->c, "count");
	const cJSON *raw = cJSON_GetObjectItem(loop, "count");
	int rc = raw ? ns_tpl_value(s, raw, &v) : 0;
	if (rc != 0)
		return rc;
	if (ns_arm_is_unknown(v)) {
		*why = v;
		v = NULL;
	} else if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e15 ||
	           v->valuedouble != (double)(int64_t)v->valuedouble) {
		*why = unknown_for(s, "a copy count must be a non-negative integer");
	} else if (v->valuedouble > NS_TPL_MAX_COPY) {
		rc = ns_pfail(s->c, NSGSIM_E_LIMIT, "a copy count of %.0f; Azure's limit is %d",
		              v->valuedouble, NS_TPL_MAX_COPY);
	} else {
		*count = (int64_t)v->valuedouble;
	}
	cJSON_Delete(v);
	ns_ptr_pop(s->c, mark);
	return rc;
}

static int copy_array(ns_tpl_scope *s, const cJSON *loop, const char *name, cJSON **out)
{
	int64_t count;
	cJSON *why;
	int rc = copy_count(s, loop, &count, &why);
	if (rc != 0 || why) {
		*out = why;
		return rc;
	}
	if (s->n_loops >= NS_TPL_MAX_LOOPS)
		return ns_pfail(s->c, NSGSIM_E_LIMIT, "copy loops nested deeper than %d",
		                NS_TPL_MAX_LOOPS);
	const cJSON *input = cJSON_GetObjectItem(loop, "input");
	if (!(*out = cJSON_CreateArray()))
		return ns_pfail(s->c, NSGSIM_E_NOMEM, "out of memory");
	size_t mark = ns_ptr_key(s->c, "input");
	int slot = s->n_loops++;
	for (int64_t i = 0; i < count && rc == 0; i++) {
		s->loops[slot] = (ns_tpl_loop){name, i};
		cJSON *item = NULL;
		rc = input ? ns_tpl_value(s, input, &item) : 0;
		if (rc == 0 && !item)
			item = unknown_for(s, "a copy loop needs an 'input'");
		if (rc == 0 && !cJSON_AddItemToArray(*out, item))
			rc = ns_pfail(s->c, NSGSIM_E_NOMEM, "out of memory");
	}
	s->n_loops = slot;
	ns_ptr_pop(s->c, mark);
	if (rc != 0) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	return rc;
}

/* An object's "copy" array: each loop makes the property it names. */
static int property_loops(ns_tpl_scope *s, const cJSON *copies, cJSON *obj)
{
	size_t mark = ns_ptr_key(s->c, "copy"), i = 0;
	const cJSON *loop;
	int rc = 0;
	cJSON_ArrayForEach(loop, copies)
	{
		size_t m2 = ns_ptr_index(s->c, i++);
		cJSON *name = NULL, *arr = NULL;
		rc = ns_tpl_member(s, loop, "name", cJSON_String, &name);
		if (rc == 0)
			rc = copy_array(s, loop, name->valuestring, &arr);
		if (rc == 0 && !cJSON_AddItemToObject(obj, name->valuestring, arr)) {
			cJSON_Delete(arr);
			rc = ns_pfail(s->c, NSGSIM_E_NOMEM, "out of memory");
		}
		cJSON_Delete(name);
		if (rc != 0)
			break;
		ns_ptr_pop(s->c, m2);
	}
	if (rc == 0)
		ns_ptr_pop(s->c, mark);
	return rc;
}

static int add_evaluated(ns_tpl_scope *s, cJSON *to, const cJSON *member)
{
	size_t mark = cJSON_IsObject(to) ? ns_ptr_key(s->c, member->string) : 0;
	cJSON *v = NULL;
	int rc = ns_tpl_value(s, member, &v);
	if (rc != 0)
		return rc;
	bool ok = cJSON_IsObject(to) ? cJSON_AddItemToObject(to, member->string, v)
	                             : cJSON_AddItemToArray(to, v);
	if (!ok) {
		cJSON_Delete(v);
		return ns_pfail(s->c, NSGSIM_E_NOMEM, "out of memory");
	}
	if (cJSON_IsObject(to))
		ns_ptr_pop(s->c, mark);
	return 0;
}

static int eval_container(ns_tpl_scope *s, const cJSON *v, cJSON **out)
{
	bool obj = cJSON_IsObject(v);
	if (!(*out = obj ? cJSON_CreateObject() : cJSON_CreateArray()))
		return ns_pfail(s->c, NSGSIM_E_NOMEM, "out of memory");
	size_t i = 0;
	const cJSON *copies = NULL;
	int rc = 0;
	for (const cJSON *m = v->child; m && rc == 0; m = m->next, i++) {
		if (obj && ns_ieq(m->string, "copy") && cJSON_IsArray(m)) {
			copies = m;
			continue;
		}
		size_t mark = obj ? s->c->len : ns_ptr_index(s->c, i);
		rc = add_evaluated(s, *out, m);
		if (rc == 0)
			ns_ptr_pop(s->c, mark);
	}
	if (rc == 0 && copies)
		rc = property_loops(s, copies, *out);
	if (rc != 0) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	return rc;
}

int ns_tpl_value(ns_tpl_scope *s, const cJSON *v, cJSON **out)
{
	*out = NULL;
	if (cJSON_IsString(v))
		return eval_string(s, v->valuestring, out);
	if (cJSON_IsObject(v) || cJSON_IsArray(v))
		return eval_container(s, v, out);
	return (*out = cJSON_Duplicate(v, true)) ? 0
	                                         : ns_pfail(s->c, NSGSIM_E_NOMEM, "out of memory");
}

static const char *type_name(int type)
{
	return type == cJSON_String ? "a string" : type == cJSON_Number ? "an integer" : "a bool";
}

int ns_tpl_member(ns_tpl_scope *s, const cJSON *obj, const char *key, int type, cJSON **out)
{
	*out = NULL;
	const cJSON *raw = cJSON_GetObjectItem(obj, key);
	size_t mark = ns_ptr_key(s->c, key);
	if (!raw) {
		int rc = ns_pfail(s->c, NSGSIM_E_MISSING_FIELD, "missing required field '%s'", key);
		ns_ptr_pop(s->c, mark);
		return rc;
	}
	int rc = ns_tpl_value(s, raw, out);
	if (rc == 0 && ns_arm_is_unknown(*out))
		rc = ns_fail_unknown(s->c, *out);
	else if (rc == 0 && !(type == cJSON_Number   ? cJSON_IsNumber(*out)
	                      : type == cJSON_String ? cJSON_IsString(*out)
	                                             : cJSON_IsBool(*out)))
		rc = ns_pfail(s->c, NSGSIM_E_SHAPE, "expected '%s' to be %s", key, type_name(type));
	if (rc != 0) {
		cJSON_Delete(*out);
		*out = NULL;
		return rc;
	}
	ns_ptr_pop(s->c, mark);
	return 0;
}

/* ---- the scope ------------------------------------------------------------------- */

int ns_tpl_scope_init(ns_tpl_scope *s, ns_pctx *c, const cJSON *tpl, const char *base,
                      const cJSON *given, const ns_tpl_scope *outer)
{
	memset(s, 0, sizeof *s);
	s->c = c;
	s->tpl = tpl;
	s->base = base;
	s->given = given;
	s->params = cJSON_CreateObject();
	s->vars = cJSON_CreateObject();
	s->busy = cJSON_CreateObject();
	if (!s->params || !s->vars || !s->busy)
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	s->env.user = s;
	s->env.parameter = parameter_cb;
	s->env.variable = variable_cb;
	s->env.copy_index = copy_index_cb;
	const cJSON *fns = cJSON_GetObjectItem(tpl, "functions");
	s->env.functions = cJSON_IsArray(fns) ? fns : NULL;
	s->env.max_string = NS_TPL_MAX_STRING;
	if (outer) {
		s->env.budget = outer->env.budget;
		s->env.subscription_id = outer->env.subscription_id;
		s->env.resource_group = outer->env.resource_group;
		s->env.location = outer->env.location;
		s->depth = outer->depth + 1;
		s->n_resources = outer->n_resources;
	} else {
		s->env.subscription_id = c->m->subscription_id;
		s->env.resource_group = c->m->resource_group;
		s->env.location = c->m->location;
	}
	s->env.deployment_name = "nsgsim";
	return 0;
}

void ns_tpl_scope_free(ns_tpl_scope *s)
{
	cJSON_Delete(s->params);
	cJSON_Delete(s->vars);
	cJSON_Delete(s->busy);
}
