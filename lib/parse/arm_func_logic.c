/* Numeric, comparison, logical and conversion functions.
 * https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-numeric
 * https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-comparison
 * https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-logical
 * https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-object#json
 *
 * if(): the logical page says only the branch the condition names is
 * evaluated, so a reference() in the other branch does no harm; with an
 * unknown condition the result is unknown.  and()/or() stop at the first
 * argument that decides them; an unknown argument leaves the result
 * unknown unless a later known one decides it.  Integers are 64-bit (exact to 2^53: values are
 * cJSON doubles); an overflow, a division or modulo by zero is an error. */
#define _POSIX_C_SOURCE 200809L
#include "parse/arm_expr_int.h"

#include "nsgsim.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int ints(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, int64_t *a, int64_t *b)
{
	if (!ns_arm_get_int(argv[0], a))
		return ns_arm_type_error(c, call, 0, argv[0], "an integer");
	if (!ns_arm_get_int(argv[1], b))
		return ns_arm_type_error(c, call, 1, argv[1], "an integer");
	return 0;
}

static int overflow(ns_arm_ctx *c, const ns_arm_node *call)
{
	return ns_arm_fail(c, call->off, NSGSIM_E_SHAPE, "%s: the result overflows 64 bits",
	                   call->s);
}

/* One function per operator: +, -, *, /, %. */
static int arith(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, char op, cJSON **out)
{
	int64_t a, b, r = 0;
	int rc = ints(c, call, argv, &a, &b);
	if (rc)
		return rc;
	if ((op == '/' || op == '%') && b == 0)
		return ns_arm_fail(c, call->args[1]->off, NSGSIM_E_SHAPE, "%s: division by zero",
		                   call->s);
	if ((op == '/' || op == '%') && a == INT64_MIN && b == -1)
		return overflow(c, call);
	bool ov = false;
	switch (op) {
	case '+':
		ov = __builtin_add_overflow(a, b, &r);
		break;
	case '-':
		ov = __builtin_sub_overflow(a, b, &r);
		break;
	case '*':
		ov = __builtin_mul_overflow(a, b, &r);
		break;
	case '/':
		r = a / b;
		break;
	default:
		r = a % b;
	}
	return ov ? overflow(c, call) : ns_arm_mk_int(c, call, r, out);
}

#define ARITH(fname, op)                                                                           \
	static int fname(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,        \
	                 cJSON **out)                                                              \
	{                                                                                          \
		(void)argc;                                                                        \
		return arith(c, call, argv, op, out);                                              \
	}
ARITH(f_add, '+')
ARITH(f_sub, '-')
ARITH(f_mul, '*')
ARITH(f_div, '/')
ARITH(f_mod, '%')

/* max/min: integers, or one array of them. */
static int extreme(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, bool max,
                   cJSON **out)
{
	bool is_list = argc == 1 && cJSON_IsArray(argv[0]);
	const cJSON *list = is_list ? argv[0]->child : NULL;
	size_t n = is_list ? (size_t)cJSON_GetArraySize(argv[0]) : argc;
	if (n == 0)
		return ns_arm_fail(c, call->off, NSGSIM_E_SHAPE, "%s: the array is empty", call->s);
	int64_t best = 0;
	for (size_t i = 0; i < n; i++) {
		const cJSON *v = is_list ? list : argv[i];
		int64_t x;
		if (!ns_arm_get_int(v, &x))
			return ns_arm_type_error(c, call, is_list ? 0 : i, v,
			                         "integers or an array of integers");
		if (i == 0 || (max ? x > best : x < best))
			best = x;
		if (is_list)
			list = list->next;
	}
	return ns_arm_mk_int(c, call, best, out);
}

static int f_max(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	return extreme(c, call, argv, argc, true, out);
}

static int f_min(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	return extreme(c, call, argv, argc, false, out);
}

static int f_equals(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argc;
	return ns_arm_mk_bool(c, call, ns_arm_equal(argv[0], argv[1]), out);
}

/* greater & co.: two integers or two strings (ordinal). */
static int compare(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, int *cmp)
{
	int64_t a, b;
	if (cJSON_IsString(argv[0]) && cJSON_IsString(argv[1])) {
		int r = strcmp(argv[0]->valuestring, argv[1]->valuestring);
		*cmp = (r > 0) - (r < 0);
		return 0;
	}
	if (!ns_arm_get_int(argv[0], &a))
		return ns_arm_type_error(c, call, 0, argv[0], "an integer or a string");
	if (!ns_arm_get_int(argv[1], &b))
		return ns_arm_type_error(c, call, 1, argv[1],
		                         cJSON_IsString(argv[0]) ? "a string" : "an integer");
	*cmp = (a > b) - (a < b);
	return 0;
}

#define COMPARE(fname, test)                                                                       \
	static int fname(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,        \
	                 cJSON **out)                                                              \
	{                                                                                          \
		(void)argc;                                                                        \
		int cmp = 0, rc = compare(c, call, argv, &cmp);                                    \
		return rc ? rc : ns_arm_mk_bool(c, call, test, out);                               \
	}
COMPARE(f_greater, cmp > 0)
COMPARE(f_greater_eq, cmp >= 0)
COMPARE(f_less, cmp < 0)
COMPARE(f_less_eq, cmp <= 0)

/* and/or: decided = the value that ends the evaluation (false / true). */
static int junction(ns_arm_ctx *c, const ns_arm_node *call, bool decided, cJSON **out)
{
	bool unknown = false;
	for (size_t i = 0; i < call->nargs; i++) {
		cJSON *v = NULL;
		int rc = ns_arm_eval_node(c, call->args[i], &v);
		if (rc)
			return rc;
		bool u = ns_arm_is_unknown(v), b = cJSON_IsTrue(v);
		bool ok = u || cJSON_IsBool(v);
		if (!ok) {
			rc = ns_arm_type_error(c, call, i, v, "a boolean");
			cJSON_Delete(v);
			return rc;
		}
		cJSON_Delete(v);
		unknown |= u;
		if (!u && b == decided)
			return ns_arm_mk_bool(c, call, decided, out);
	}
	return unknown ? ns_arm_unknown_of(c, call, out) : ns_arm_mk_bool(c, call, !decided, out);
}

static int f_and(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argv;
	(void)argc;
	return junction(c, call, false, out);
}

static int f_or(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argv;
	(void)argc;
	return junction(c, call, true, out);
}

static int f_not(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argc;
	if (!cJSON_IsBool(argv[0]))
		return ns_arm_type_error(c, call, 0, argv[0], "a boolean");
	return ns_arm_mk_bool(c, call, !cJSON_IsTrue(argv[0]), out);
}

static int f_if(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argv;
	(void)argc;
	cJSON *cond = NULL;
	int rc = ns_arm_eval_node(c, call->args[0], &cond);
	if (rc)
		return rc;
	bool u = ns_arm_is_unknown(cond), t = cJSON_IsTrue(cond);
	if (!u && !cJSON_IsBool(cond))
		rc = ns_arm_type_error(c, call, 0, cond, "a boolean");
	cJSON_Delete(cond);
	if (rc)
		return rc;
	if (u)
		return ns_arm_unknown_of(c, call, out);
	return ns_arm_eval_node(c, call->args[t ? 1 : 2], out);
}

/* coalesce: the first argument that is not null; later ones are not
 * evaluated. */
static int f_coalesce(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                      cJSON **out)
{
	(void)argv;
	for (size_t i = 0; i < argc; i++) {
		int rc = ns_arm_eval_node(c, call->args[i], out);
		if (rc || !cJSON_IsNull(*out))
			return rc;
		cJSON_Delete(*out);
		*out = NULL;
	}
	*out = cJSON_CreateNull();
	return *out ? 0 : ns_arm_nomem(c, call->off);
}

static int f_bool(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argc;
	const cJSON *v = argv[0];
	int64_t i;
	if (cJSON_IsBool(v))
		return ns_arm_mk_bool(c, call, cJSON_IsTrue(v), out);
	if (ns_arm_get_int(v, &i))
		return ns_arm_mk_bool(c, call, i != 0, out);
	if (cJSON_IsString(v) &&
	    (strcasecmp(v->valuestring, "true") == 0 || strcasecmp(v->valuestring, "false") == 0))
		return ns_arm_mk_bool(c, call, strcasecmp(v->valuestring, "true") == 0, out);
	return ns_arm_type_error(c, call, 0, v, "a boolean, an integer or 'true'/'false'");
}

static int f_int(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argc;
	const cJSON *v = argv[0];
	int64_t i;
	if (ns_arm_get_int(v, &i))
		return ns_arm_mk_int(c, call, i, out);
	if (cJSON_IsString(v)) {
		ns_arm_node lit = {.kind = NS_ARM_INT};
		ns_arm_error e = {0};
		const char *s = v->valuestring;
		while (*s == ' ')
			s++;
		if (*s == '+')
			s++;
		ns_arm_node *n = NULL;
		if (*s && ns_arm_parse(s, strlen(s), 0, &n, &e) == 0 && n->kind == NS_ARM_INT)
			lit.i = n->i, i = 1;
		else
			i = 0;
		ns_arm_node_free(n);
		if (i)
			return ns_arm_mk_int(c, call, lit.i, out);
	}
	return ns_arm_type_error(c, call, 0, v, "an integer or a string of one");
}

static int f_string(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argc;
	char *t = NULL;
	int rc = ns_arm_to_text(c, call, argv[0], true, &t);
	if (rc)
		return rc;
	rc = ns_arm_mk_string(c, call, t, strlen(t), out);
	free(t);
	return rc;
}

static int f_json(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argc;
	if (!cJSON_IsString(argv[0]))
		return ns_arm_type_error(c, call, 0, argv[0], "a string of JSON");
	int rc = ns_arm_charge(c, call->off, strlen(argv[0]->valuestring) / 64);
	if (rc)
		return rc;
	*out = cJSON_Parse(argv[0]->valuestring);
	if (!*out)
		return ns_arm_fail(c, call->args[0]->off, NSGSIM_E_SHAPE,
		                   "json: the argument is not valid JSON");
	return 0;
}

static int f_true(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argv;
	(void)argc;
	return ns_arm_mk_bool(c, call, true, out);
}

static int f_false(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argv;
	(void)argc;
	return ns_arm_mk_bool(c, call, false, out);
}

static int f_null(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argv;
	(void)argc;
	*out = cJSON_CreateNull();
	return *out ? 0 : ns_arm_nomem(c, call->off);
}

const ns_arm_func ns_arm_funcs_logic[] = {
        {"add", 2, 2, 0, f_add},
        {"sub", 2, 2, 0, f_sub},
        {"mul", 2, 2, 0, f_mul},
        {"div", 2, 2, 0, f_div},
        {"mod", 2, 2, 0, f_mod},
        {"max", 1, -1, 0, f_max},
        {"min", 1, -1, 0, f_min},
        {"equals", 2, 2, NS_ARM_DEEP_UNKNOWN, f_equals},
        {"greater", 2, 2, 0, f_greater},
        {"greaterOrEquals", 2, 2, 0, f_greater_eq},
        {"less", 2, 2, 0, f_less},
        {"lessOrEquals", 2, 2, 0, f_less_eq},
        {"and", 1, -1, NS_ARM_LAZY, f_and},
        {"or", 1, -1, NS_ARM_LAZY, f_or},
        {"not", 1, 1, 0, f_not},
        {"if", 3, 3, NS_ARM_LAZY, f_if},
        {"coalesce", 1, -1, NS_ARM_LAZY, f_coalesce},
        {"bool", 1, 1, 0, f_bool},
        {"int", 1, 1, 0, f_int},
        {"string", 1, 1, NS_ARM_DEEP_UNKNOWN, f_string},
        {"json", 1, 1, 0, f_json},
        {"true", 0, 0, 0, f_true},
        {"false", 0, 0, 0, f_false},
        {"null", 0, 0, 0, f_null},
        {NULL, 0, 0, 0, NULL},
};
