/* Lambda functions: map, filter, reduce, sort, toObject, mapValues, groupBy
 * with lambda('x', ..., body) and lambdaVariables('x').
 * https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-lambda
 * A lambda is only an argument of these functions, never a value; map and
 * filter pass the index as an optional second variable, reduce as an
 * optional third, as Bicep's (x, i) => ... compiles. */
#define _POSIX_C_SOURCE 200809L
#include "parse/arm_expr_int.h"

#include "nsgsim.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int ns_arm_check_lambda(ns_arm_ctx *c, const ns_arm_node *call, size_t argi, size_t nparams)
{
	const ns_arm_node *l = call->args[argi];
	bool is = l->kind == NS_ARM_CALL && strcasecmp(l->s, "lambda") == 0;
	if (!is || l->nargs < nparams + 1 || l->nargs > nparams + 2)
		return ns_arm_fail(c, l->off, NSGSIM_E_SHAPE,
		                   "%s: argument %zu must be lambda() with %zu variable%s", call->s,
		                   argi + 1, nparams, nparams == 1 ? "" : "s");
	for (size_t i = 0; i + 1 < l->nargs; i++)
		if (l->args[i]->kind != NS_ARM_STR)
			return ns_arm_fail(c, l->args[i]->off, NSGSIM_E_SHAPE,
			                   "lambda: variable names are string literals");
	return 0;
}

int ns_arm_call_lambda(ns_arm_ctx *c, const ns_arm_node *lambda, const cJSON *const *vals,
                       size_t nvals, cJSON **out)
{
	ns_arm_scope sc[4];
	const ns_arm_scope *saved = c->scope;
	size_t np = lambda->nargs - 1;
	for (size_t i = 0; i < np && i < nvals && i < 4; i++) {
		sc[i] = (ns_arm_scope){lambda->args[i]->s, vals[i], c->scope};
		c->scope = &sc[i];
	}
	int rc = ns_arm_eval_node(c, lambda->args[np], out);
	c->scope = saved;
	return rc;
}

static int f_lambda(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argv;
	(void)argc;
	(void)out;
	return ns_arm_fail(c, call->off, NSGSIM_E_SHAPE,
	                   "lambda: only an argument of map, filter, reduce, sort, toObject, "
	                   "mapValues or groupBy");
}

static int f_lambdavariables(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                             cJSON **out)
{
	(void)argc;
	if (!cJSON_IsString(argv[0]))
		return ns_arm_type_error(c, call, 0, argv[0], "a string");
	for (const ns_arm_scope *s = c->scope; s; s = s->up)
		if (strcmp(s->name, argv[0]->valuestring) == 0)
			return ns_arm_dup(c, call, s->val, out);
	return ns_arm_fail(c, call->off, NSGSIM_E_SHAPE,
	                   "lambdaVariables: no lambda variable '%s' here", argv[0]->valuestring);
}

/* Evaluates args[0] (the collection) and checks args[li] is a lambda. */
static int prologue(ns_arm_ctx *c, const ns_arm_node *call, size_t li, size_t np, bool object,
                    cJSON **coll)
{
	int rc = ns_arm_check_lambda(c, call, li, np);
	if (rc == 0)
		rc = ns_arm_eval_node(c, call->args[0], coll);
	if (rc == 0 && !ns_arm_is_unknown(*coll) &&
	    !(object ? cJSON_IsObject(*coll) : cJSON_IsArray(*coll)))
		rc = ns_arm_type_error(c, call, 0, *coll, object ? "an object" : "an array");
	return rc;
}

/* map and filter; filter keeps the items whose lambda gives true. */
static int map_filter(ns_arm_ctx *c, const ns_arm_node *call, bool filter, cJSON **out)
{
	cJSON *arr = NULL;
	int rc = prologue(c, call, 1, 1, false, &arr);
	if (rc == 0 && ns_arm_is_unknown(arr))
		rc = ns_arm_unknown_of(c, call, out);
	else if (rc == 0 && !(*out = cJSON_CreateArray()))
		rc = ns_arm_nomem(c, call->off);
	int64_t i = 0;
	for (cJSON *v = arr && !ns_arm_is_unknown(arr) ? arr->child : NULL; v && rc == 0;
	     v = v->next, i++) {
		cJSON *ix = cJSON_CreateNumber((double)i), *r = NULL;
		const cJSON *vals[2] = {v, ix};
		rc = ix ? ns_arm_call_lambda(c, call->args[1], vals, 2, &r) : ns_arm_nomem(c, 0);
		cJSON_Delete(ix);
		if (rc == 0 && filter && ns_arm_is_unknown(r)) {
			cJSON_Delete(*out);
			rc = ns_arm_unknown_of(c, call, out);
			cJSON_Delete(r);
			break;
		}
		if (rc == 0 && filter && !cJSON_IsBool(r))
			rc = ns_arm_fail(c, call->args[1]->off, NSGSIM_E_SHAPE,
			                 "filter: the lambda gave %s; expected a boolean",
			                 ns_arm_type_name(r));
		if (rc == 0)
			rc = ns_arm_check_items(c, call, (size_t)i + 1);
		cJSON *keep = NULL;
		if (rc == 0 && filter && cJSON_IsTrue(r))
			rc = ns_arm_dup(c, call, v, &keep);
		else if (rc == 0 && !filter)
			keep = r, r = NULL;
		if (rc == 0 && keep)
			cJSON_AddItemToArray(*out, keep);
		cJSON_Delete(r);
	}
	cJSON_Delete(arr);
	return rc;
}

static int f_map(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argv;
	(void)argc;
	return map_filter(c, call, false, out);
}

static int f_filter(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argv;
	(void)argc;
	return map_filter(c, call, true, out);
}

static int f_reduce(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argv;
	(void)argc;
	cJSON *arr = NULL;
	int rc = prologue(c, call, 2, 2, false, &arr);
	if (rc == 0)
		rc = ns_arm_eval_node(c, call->args[1], out);
	if (rc == 0 && ns_arm_is_unknown(arr)) {
		cJSON_Delete(*out);
		rc = ns_arm_unknown_of(c, call, out);
	}
	int64_t i = 0;
	for (cJSON *v = rc == 0 ? arr->child : NULL; v && rc == 0; v = v->next, i++) {
		cJSON *ix = cJSON_CreateNumber((double)i), *r = NULL;
		const cJSON *vals[3] = {*out, v, ix};
		rc = ix ? ns_arm_call_lambda(c, call->args[2], vals, 3, &r) : ns_arm_nomem(c, 0);
		cJSON_Delete(ix);
		cJSON_Delete(*out);
		*out = r;
	}
	cJSON_Delete(arr);
	return rc;
}

/* Whether a sorts before b by the lambda; *u set if it said unknown. */
static int before(ns_arm_ctx *c, const ns_arm_node *call, const cJSON *a, const cJSON *b, bool *r)
{
	const cJSON *vals[2] = {a, b};
	cJSON *v = NULL;
	int rc = ns_arm_call_lambda(c, call->args[1], vals, 2, &v);
	if (rc == 0 && !cJSON_IsBool(v))
		rc = ns_arm_fail(c, call->args[1]->off, NSGSIM_E_SHAPE,
		                 "sort: the lambda gave %s; expected a boolean",
		                 ns_arm_type_name(v));
	*r = cJSON_IsTrue(v);
	cJSON_Delete(v);
	return rc;
}

/* A stable merge sort of items[0..n) through tmp. */
static int merge_sort(ns_arm_ctx *c, const ns_arm_node *call, cJSON **items, cJSON **tmp, size_t n)
{
	if (n < 2)
		return 0;
	size_t h = n / 2, i = 0, j = h, k = 0;
	int rc = merge_sort(c, call, items, tmp, h);
	if (rc == 0)
		rc = merge_sort(c, call, items + h, tmp, n - h);
	while (rc == 0 && i < h && j < n) {
		bool b = false;
		rc = before(c, call, items[j], items[i], &b);
		tmp[k++] = b ? items[j++] : items[i++];
	}
	while (rc == 0 && i < h)
		tmp[k++] = items[i++];
	while (rc == 0 && j < n)
		tmp[k++] = items[j++];
	if (rc == 0)
		memcpy(items, tmp, n * sizeof *items);
	return rc;
}

static int f_sort(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argv;
	(void)argc;
	cJSON *arr = NULL;
	int rc = prologue(c, call, 1, 2, false, &arr);
	if (rc || ns_arm_is_unknown(arr)) {
		*out = arr;
		return rc;
	}
	size_t n = (size_t)cJSON_GetArraySize(arr), i = 0;
	cJSON **items = calloc(n + 1, sizeof *items), **tmp = calloc(n + 1, sizeof *tmp);
	rc = items && tmp ? 0 : ns_arm_nomem(c, call->off);
	while (rc == 0 && arr->child)
		items[i++] = cJSON_DetachItemViaPointer(arr, arr->child);
	if (rc == 0)
		rc = merge_sort(c, call, items, tmp, n);
	for (i = 0; rc == 0 && i < n; i++)
		cJSON_AddItemToArray(arr, items[i]);
	for (i = 0; rc && items && i < n; i++)
		cJSON_Delete(items[i]);
	free(items);
	free(tmp);
	*out = arr;
	return rc;
}

/* toObject(array, key lambda, [value lambda]) and groupBy(array, key
 * lambda): keys must be strings. */
static int keyed(ns_arm_ctx *c, const ns_arm_node *call, bool group, cJSON **out)
{
	cJSON *arr = NULL;
	int rc = prologue(c, call, 1, 1, false, &arr);
	if (rc == 0 && call->nargs > 2)
		rc = ns_arm_check_lambda(c, call, 2, 1);
	if (rc == 0 && ns_arm_is_unknown(arr))
		rc = ns_arm_unknown_of(c, call, out);
	else if (rc == 0 && !(*out = cJSON_CreateObject()))
		rc = ns_arm_nomem(c, call->off);
	for (cJSON *v = rc == 0 && !ns_arm_is_unknown(arr) ? arr->child : NULL; v && rc == 0;
	     v = v->next) {
		const cJSON *vals[1] = {v};
		cJSON *k = NULL, *val = NULL;
		rc = ns_arm_call_lambda(c, call->args[1], vals, 1, &k);
		if (rc == 0 && ns_arm_is_unknown(k)) {
			cJSON_Delete(k);
			cJSON_Delete(*out);
			rc = ns_arm_unknown_of(c, call, out);
			break;
		}
		if (rc == 0 && !cJSON_IsString(k))
			rc = ns_arm_fail(c, call->args[1]->off, NSGSIM_E_SHAPE,
			                 "%s: the key lambda gave %s; expected a string", call->s,
			                 ns_arm_type_name(k));
		if (rc == 0 && call->nargs > 2)
			rc = ns_arm_call_lambda(c, call->args[2], vals, 1, &val);
		else if (rc == 0)
			rc = ns_arm_dup(c, call, v, &val);
		cJSON *have = rc == 0 ? ns_arm_get_member(*out, k->valuestring) : NULL;
		if (rc == 0 && group && !have) {
			have = cJSON_AddArrayToObject(*out, k->valuestring);
			rc = have ? 0 : ns_arm_nomem(c, call->off);
		}
		if (rc == 0 && group)
			cJSON_AddItemToArray(have, val), val = NULL;
		else if (rc == 0 && have)
			cJSON_ReplaceItemInObjectCaseSensitive(*out, have->string, val), val = NULL;
		else if (rc == 0)
			cJSON_AddItemToObject(*out, k->valuestring, val), val = NULL;
		cJSON_Delete(k);
		cJSON_Delete(val);
	}
	cJSON_Delete(arr);
	return rc;
}

static int f_toobject(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                      cJSON **out)
{
	(void)argv;
	(void)argc;
	return keyed(c, call, false, out);
}

static int f_groupby(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argv;
	(void)argc;
	return keyed(c, call, true, out);
}

static int f_mapvalues(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                       cJSON **out)
{
	(void)argv;
	(void)argc;
	cJSON *obj = NULL;
	int rc = prologue(c, call, 1, 1, true, &obj);
	if (rc || ns_arm_is_unknown(obj)) {
		*out = obj;
		return rc;
	}
	for (cJSON *v = obj->child; v && rc == 0;) {
		const cJSON *vals[1] = {v};
		cJSON *r = NULL, *next = v->next;
		rc = ns_arm_call_lambda(c, call->args[1], vals, 1, &r);
		if (rc == 0)
			cJSON_ReplaceItemInObjectCaseSensitive(obj, v->string, r);
		v = next;
	}
	*out = obj;
	return rc;
}

const ns_arm_func ns_arm_funcs_lambda[] = {
        {"lambda", 1, -1, NS_ARM_LAZY, f_lambda},
        {"lambdaVariables", 1, 1, 0, f_lambdavariables},
        {"map", 2, 2, NS_ARM_LAZY, f_map},
        {"filter", 2, 2, NS_ARM_LAZY, f_filter},
        {"reduce", 3, 3, NS_ARM_LAZY, f_reduce},
        {"sort", 2, 2, NS_ARM_LAZY, f_sort},
        {"toObject", 2, 3, NS_ARM_LAZY, f_toobject},
        {"groupBy", 2, 2, NS_ARM_LAZY, f_groupby},
        {"mapValues", 2, 2, NS_ARM_LAZY, f_mapvalues},
        {NULL, 0, 0, 0, NULL},
};
