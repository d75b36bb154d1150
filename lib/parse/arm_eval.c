/* Evaluation of a parsed ARM expression: literals, member and index access,
 * function dispatch (case-insensitive names over the arm_func_*.c tables),
 * unknown propagation, the work budget and errors.
 *
 * https://learn.microsoft.com/azure/azure-resource-manager/templates/template-expressions
 * Member access on an object compares names without case, as ARM does for
 * property names; an index on an array is an integer, on an object a string
 * (the key, again without case). */
#define _POSIX_C_SOURCE 200809L
#include "parse/arm_expr_int.h"

#include "nsgsim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int ns_arm_fail(ns_arm_ctx *c, size_t off, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err->msg, sizeof c->err->msg, fmt, ap);
	va_end(ap);
	c->err->code = code;
	c->err->offset = off;
	return code;
}

int ns_arm_nomem(ns_arm_ctx *c, size_t off)
{
	return ns_arm_fail(c, off, NSGSIM_E_NOMEM, "out of memory");
}

const char *ns_arm_type_name(const cJSON *v)
{
	if (!v || cJSON_IsNull(v))
		return "null";
	if (cJSON_IsBool(v))
		return "a boolean";
	int64_t i;
	if (cJSON_IsNumber(v))
		return ns_arm_get_int(v, &i) ? "an integer" : "a decimal number";
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsObject(v))
		return "an object";
	return "unknown";
}

int ns_arm_type_error(ns_arm_ctx *c, const ns_arm_node *call, size_t argi, const cJSON *got,
                      const char *want)
{
	size_t off = argi < call->nargs ? call->args[argi]->off : call->off;
	return ns_arm_fail(c, off, NSGSIM_E_SHAPE, "%s: argument %zu is %s; expected %s", call->s,
	                   argi + 1, ns_arm_type_name(got), want);
}

int ns_arm_charge(ns_arm_ctx *c, size_t off, uint64_t units)
{
	uint64_t *b = c->env->budget;
	if (!b)
		return 0;
	if (*b < units) {
		*b = 0;
		return ns_arm_fail(c, off, NSGSIM_E_LIMIT,
		                   "evaluation work budget exhausted (the template does too much "
		                   "work: copy loops, range() or long strings)");
	}
	*b -= units;
	return 0;
}

int ns_arm_unknown_of(ns_arm_ctx *c, const ns_arm_node *n, cJSON **out)
{
	size_t a = n->off - c->base, e = n->end - c->base;
	size_t len = strlen(c->text);
	if (a > len)
		a = len;
	if (e > len || e < a)
		e = len;
	char *s = strndup(c->text + a, e - a);
	*out = s ? ns_arm_unknown(s) : NULL;
	free(s);
	return *out ? 0 : ns_arm_nomem(c, n->off);
}

static const ns_arm_func *const tables[] = {ns_arm_funcs_string, ns_arm_funcs_array,
                                            ns_arm_funcs_lambda, ns_arm_funcs_logic,
                                            ns_arm_funcs_deploy};

static const ns_arm_func *lookup(const char *name)
{
	for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
		for (const ns_arm_func *f = tables[t]; f->name; f++)
			if (strcasecmp(f->name, name) == 0)
				return f;
	/* listKeys, listSecrets, ...:
	 * https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-resource#list
	 */
	return strncasecmp(name, "list", 4) == 0 ? &ns_arm_func_list : NULL;
}

static int check_arity(ns_arm_ctx *c, const ns_arm_node *n, const ns_arm_func *f)
{
	int k = (int)n->nargs;
	if (k >= f->min && (f->max < 0 || k <= f->max))
		return 0;
	if (f->min == f->max)
		return ns_arm_fail(c, n->off, NSGSIM_E_SHAPE, "%s: takes %d argument%s, got %d",
		                   n->s, f->min, f->min == 1 ? "" : "s", k);
	if (f->max < 0)
		return ns_arm_fail(c, n->off, NSGSIM_E_SHAPE,
		                   "%s: takes at least %d argument%s, got %d", n->s, f->min,
		                   f->min == 1 ? "" : "s", k);
	return ns_arm_fail(c, n->off, NSGSIM_E_SHAPE, "%s: takes %d to %d arguments, got %d", n->s,
	                   f->min, f->max, k);
}

static void free_args(cJSON **argv, size_t n)
{
	for (size_t i = 0; argv && i < n; i++) /* NULL when calloc failed */
		cJSON_Delete(argv[i]);
	free(argv);
}

static bool has_unknown(const cJSON *v)
{
	if (ns_arm_is_unknown(v))
		return true;
	for (const cJSON *k = v->child; k; k = k->next)
		if (has_unknown(k))
			return true;
	return false;
}

/* Evaluates every argument; *unknown says whether one is unknown (deep:
 * anywhere inside one). */
static int eval_args(ns_arm_ctx *c, const ns_arm_node *n, bool deep, cJSON ***argv, bool *unknown)
{
	*argv = calloc(n->nargs ? n->nargs : 1, sizeof **argv);
	if (!*argv)
		return ns_arm_nomem(c, n->off);
	*unknown = false;
	for (size_t i = 0; i < n->nargs; i++) {
		int rc = ns_arm_eval_node(c, n->args[i], &(*argv)[i]);
		if (rc)
			return rc;
		*unknown |= deep ? has_unknown((*argv)[i]) : ns_arm_is_unknown((*argv)[i]);
	}
	return 0;
}

static int eval_call(ns_arm_ctx *c, const ns_arm_node *n, cJSON **out)
{
	bool user = strchr(n->s, '.') != NULL;
	const ns_arm_func *f = user ? NULL : lookup(n->s);
	if (!f && !user)
		return ns_arm_fail(c, n->off, NSGSIM_E_SHAPE,
		                   "unknown function '%s' (not an ARM template function)", n->s);
	if (f) {
		int rc = check_arity(c, n, f);
		if (rc)
			return rc;
		if (f->flags & NS_ARM_LAZY)
			return f->fn(c, n, NULL, n->nargs, out);
	}
	cJSON **argv = NULL;
	bool unknown = false;
	int rc = eval_args(c, n, f && (f->flags & NS_ARM_DEEP_UNKNOWN), &argv, &unknown);
	if (rc == 0 && unknown && !(f && (f->flags & NS_ARM_TAKES_UNKNOWN)))
		rc = ns_arm_unknown_of(c, n, out);
	else if (rc == 0)
		rc = f ? f->fn(c, n, argv, n->nargs, out)
		       : ns_arm_call_user(c, n, argv, n->nargs, out);
	free_args(argv, n->nargs);
	return rc;
}

cJSON *ns_arm_get_member(const cJSON *obj, const char *name)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	return v ? v : cJSON_GetObjectItem(obj, name);
}

static int take_child(ns_arm_ctx *c, const ns_arm_node *n, cJSON *from, cJSON *child, cJSON **out)
{
	/* Detach rather than copy: the container is ours and about to go. */
	if (cJSON_IsArray(from) || cJSON_IsObject(from))
		*out = cJSON_DetachItemViaPointer(from, child);
	else
		*out = cJSON_Duplicate(child, true);
	return *out ? 0 : ns_arm_nomem(c, n->off);
}

static int eval_member(ns_arm_ctx *c, const ns_arm_node *n, cJSON *base, cJSON **out)
{
	if (!cJSON_IsObject(base))
		return ns_arm_fail(c, n->off, NSGSIM_E_SHAPE,
		                   "property '%s' of %s: expected an object", n->s,
		                   ns_arm_type_name(base));
	cJSON *v = ns_arm_get_member(base, n->s);
	if (!v)
		return ns_arm_fail(c, n->off, NSGSIM_E_SHAPE,
		                   "the object has no property '%s' (use tryGet() or ?. when it "
		                   "may be absent)",
		                   n->s);
	return take_child(c, n, base, v, out);
}

static int eval_index(ns_arm_ctx *c, const ns_arm_node *n, cJSON *base, const cJSON *ix,
                      cJSON **out)
{
	int64_t i;
	if (cJSON_IsArray(base)) {
		int len = cJSON_GetArraySize(base);
		if (!ns_arm_get_int(ix, &i))
			return ns_arm_fail(c, n->args[1]->off, NSGSIM_E_SHAPE,
			                   "array index is %s; expected an integer",
			                   ns_arm_type_name(ix));
		if (i < 0 || i >= len)
			return ns_arm_fail(c, n->args[1]->off, NSGSIM_E_SHAPE,
			                   "array index %lld out of range (the array has %d items)",
			                   (long long)i, len);
		return take_child(c, n, base, cJSON_GetArrayItem(base, (int)i), out);
	}
	if (cJSON_IsObject(base) && cJSON_IsString(ix)) {
		cJSON *v = ns_arm_get_member(base, ix->valuestring);
		if (!v)
			return ns_arm_fail(c, n->args[1]->off, NSGSIM_E_SHAPE,
			                   "the object has no property '%s'", ix->valuestring);
		return take_child(c, n, base, v, out);
	}
	return ns_arm_fail(c, n->off, NSGSIM_E_SHAPE,
	                   "index %s into %s: expected an array with an integer or an object "
	                   "with a string",
	                   ns_arm_type_name(ix), ns_arm_type_name(base));
}

static int eval_access(ns_arm_ctx *c, const ns_arm_node *n, cJSON **out)
{
	cJSON *base = NULL, *ix = NULL;
	int rc = ns_arm_eval_node(c, n->args[0], &base);
	if (rc == 0 && n->kind == NS_ARM_INDEX)
		rc = ns_arm_eval_node(c, n->args[1], &ix);
	if (rc == 0 && (ns_arm_is_unknown(base) || ns_arm_is_unknown(ix)))
		rc = ns_arm_unknown_of(c, n, out);
	else if (rc == 0 && n->kind == NS_ARM_MEMBER)
		rc = eval_member(c, n, base, out);
	else if (rc == 0)
		rc = eval_index(c, n, base, ix, out);
	cJSON_Delete(base);
	cJSON_Delete(ix);
	return rc;
}

static int eval_leaf(ns_arm_ctx *c, const ns_arm_node *n, cJSON **out)
{
	switch (n->kind) {
	case NS_ARM_STR:
		return ns_arm_mk_string(c, n, n->s, n->slen, out);
	case NS_ARM_INT:
		return ns_arm_mk_int(c, n, n->i, out);
	default:
		*out = n->i == cJSON_True    ? cJSON_CreateTrue()
		       : n->i == cJSON_False ? cJSON_CreateFalse()
		                             : cJSON_CreateNull();
		return *out ? 0 : ns_arm_nomem(c, n->off);
	}
}

int ns_arm_eval_node(ns_arm_ctx *c, const ns_arm_node *n, cJSON **out)
{
	*out = NULL;
	int rc = ns_arm_charge(c, n->off, 1);
	if (rc)
		return rc;
	if (++c->depth > 2 * NS_ARM_MAX_DEPTH) {
		c->depth--;
		return ns_arm_fail(c, n->off, NSGSIM_E_LIMIT, "expression nested too deeply");
	}
	if (n->kind == NS_ARM_CALL)
		rc = eval_call(c, n, out);
	else if (n->kind == NS_ARM_MEMBER || n->kind == NS_ARM_INDEX)
		rc = eval_access(c, n, out);
	else
		rc = eval_leaf(c, n, out);
	c->depth--;
	if (rc) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	return rc;
}
