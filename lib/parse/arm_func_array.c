/* ARM array and object functions, and those that work on strings and
 * arrays alike (concat, contains, empty, first, last, length, skip, take).
 * https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-array
 * https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-object
 * contains() on a string is case-sensitive, on an object it looks for a
 * key without case; union() of objects merges (nested objects too, later
 * values win), of arrays keeps each distinct value once. */
#define _POSIX_C_SOURCE 200809L
#include "parse/arm_expr_int.h"

#include "nsgsim.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int new_array(ns_arm_ctx *c, const ns_arm_node *call, cJSON **out)
{
	*out = cJSON_CreateArray();
	return *out ? 0 : ns_arm_nomem(c, call->off);
}

/* Appends a copy of v to arr, which has *n items (counted here: cJSON's
 * own count walks the list). */
static int push(ns_arm_ctx *c, const ns_arm_node *call, cJSON *arr, const cJSON *v, size_t *n)
{
	cJSON *d = NULL;
	int rc = ns_arm_check_items(c, call, *n + 1);
	if (rc == 0)
		rc = ns_arm_dup(c, call, v, &d);
	if (rc == 0) {
		cJSON_AddItemToArray(arr, d);
		++*n;
	}
	return rc;
}

static int f_array(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argc;
	if (cJSON_IsArray(argv[0]))
		return ns_arm_dup(c, call, argv[0], out);
	size_t cnt = 0;
	int rc = new_array(c, call, out);
	return rc ? rc : push(c, call, *out, argv[0], &cnt);
}

/* createArray and createObject hold unknown values as they are: the walker
 * sees which item is unknown. */
static int f_createarray(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                         cJSON **out)
{
	size_t cnt = 0;
	int rc = new_array(c, call, out);
	for (size_t i = 0; i < argc && rc == 0; i++)
		rc = push(c, call, *out, argv[i], &cnt);
	return rc;
}

static int f_createobject(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                          cJSON **out)
{
	if (argc % 2)
		return ns_arm_fail(c, call->off, NSGSIM_E_SHAPE,
		                   "createObject: takes key, value pairs; got %zu arguments", argc);
	*out = cJSON_CreateObject();
	int rc = *out ? ns_arm_check_items(c, call, argc / 2) : ns_arm_nomem(c, call->off);
	for (size_t i = 0; i < argc && rc == 0; i += 2) {
		if (ns_arm_is_unknown(argv[i])) {
			cJSON_Delete(*out);
			return ns_arm_unknown_of(c, call, out); /* which key is not known */
		}
		if (!cJSON_IsString(argv[i]))
			return ns_arm_type_error(c, call, i, argv[i], "a string (a key)");
		cJSON *d = NULL;
		rc = ns_arm_dup(c, call, argv[i + 1], &d);
		if (rc == 0)
			cJSON_DeleteItemFromObject(*out, argv[i]->valuestring);
		if (rc == 0)
			cJSON_AddItemToObject(*out, argv[i]->valuestring, d);
	}
	return rc;
}

static int concat_arrays(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                         cJSON **out)
{
	size_t cnt = 0;
	int rc = new_array(c, call, out);
	for (size_t i = 0; i < argc && rc == 0; i++) {
		if (cJSON_IsNull(argv[i]))
			continue;
		if (!cJSON_IsArray(argv[i]))
			return ns_arm_type_error(c, call, i, argv[i], "arrays like argument 1");
		for (const cJSON *v = argv[i]->child; v && rc == 0; v = v->next)
			rc = push(c, call, *out, v, &cnt);
	}
	return rc;
}

/* concat(arg1, ...): all arrays, or strings (integers and booleans print
 * as text); a null argument adds nothing. */
static int f_concat(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	size_t first = 0;
	while (first < argc && cJSON_IsNull(argv[first]))
		first++;
	if (first < argc && cJSON_IsArray(argv[first]))
		return concat_arrays(c, call, argv, argc, out);
	ns_arm_buf b = {0};
	int rc = 0;
	for (size_t i = 0; i < argc && rc == 0; i++) {
		if (cJSON_IsNull(argv[i]))
			continue;
		if (cJSON_IsArray(argv[i]) || cJSON_IsObject(argv[i])) {
			rc = ns_arm_type_error(c, call, i, argv[i], "strings or arrays");
			break;
		}
		char *t = NULL;
		rc = ns_arm_to_text(c, call, argv[i], false, &t);
		if (rc == 0)
			rc = ns_arm_buf_put(c, call, &b, t, strlen(t));
		free(t);
	}
	if (rc) {
		free(b.p);
		return rc;
	}
	return ns_arm_buf_done(c, call, &b, out);
}

static int f_contains(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                      cJSON **out)
{
	(void)argc;
	const cJSON *box = argv[0], *item = argv[1];
	bool r = false;
	if (cJSON_IsArray(box)) {
		for (const cJSON *v = box->child; v && !r; v = v->next)
			r = ns_arm_equal(v, item);
	} else if (cJSON_IsObject(box) || cJSON_IsString(box)) {
		char *t = NULL;
		if (cJSON_IsArray(item) || cJSON_IsObject(item) || cJSON_IsNull(item))
			return ns_arm_type_error(c, call, 1, item, "a string or an integer");
		int rc = ns_arm_to_text(c, call, item, false, &t);
		if (rc)
			return rc;
		r = cJSON_IsObject(box) ? ns_arm_get_member(box, t) != NULL
		                        : strstr(box->valuestring, t) != NULL;
		free(t);
	} else {
		return ns_arm_type_error(c, call, 0, box, "an array, object or string");
	}
	return ns_arm_mk_bool(c, call, r, out);
}

static int f_empty(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argc;
	const cJSON *v = argv[0];
	if (cJSON_IsNull(v))
		return ns_arm_mk_bool(c, call, true, out);
	if (cJSON_IsString(v))
		return ns_arm_mk_bool(c, call, v->valuestring[0] == '\0', out);
	if (cJSON_IsArray(v) || cJSON_IsObject(v))
		return ns_arm_mk_bool(c, call, v->child == NULL, out);
	return ns_arm_type_error(c, call, 0, v, "an array, object or string");
}

static size_t utf8_len(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static int f_length(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argc;
	const cJSON *v = argv[0];
	if (cJSON_IsString(v))
		return ns_arm_mk_int(c, call, (int64_t)utf8_len(v->valuestring), out);
	if (cJSON_IsArray(v) || cJSON_IsObject(v))
		return ns_arm_mk_int(c, call, cJSON_GetArraySize(v), out);
	if (cJSON_IsNull(v))
		return ns_arm_mk_int(c, call, 0, out);
	return ns_arm_type_error(c, call, 0, v, "an array, object or string");
}

static int first_last(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, bool last, cJSON **out)
{
	const cJSON *v = argv[0];
	if (cJSON_IsString(v)) {
		size_t n = strlen(v->valuestring);
		return ns_arm_mk_string(c, call, v->valuestring + (last && n ? n - 1 : 0),
		                        n ? 1 : 0, out);
	}
	if (!cJSON_IsArray(v))
		return ns_arm_type_error(c, call, 0, v, "an array or a string");
	int n = cJSON_GetArraySize(v);
	if (n == 0) {
		*out = cJSON_CreateNull();
		return *out ? 0 : ns_arm_nomem(c, call->off);
	}
	return ns_arm_dup(c, call, cJSON_GetArrayItem(v, last ? n - 1 : 0), out);
}

static int f_first(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argc;
	return first_last(c, call, argv, false, out);
}

static int f_last(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argc;
	return first_last(c, call, argv, true, out);
}

/* skip/take: a count below zero counts as zero, past the end as the end. */
static int skip_take(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, bool take, cJSON **out)
{
	int64_t k;
	if (!ns_arm_get_int(argv[1], &k))
		return ns_arm_type_error(c, call, 1, argv[1], "an integer");
	const cJSON *v = argv[0];
	int64_t n = cJSON_IsString(v) ? (int64_t)strlen(v->valuestring) : cJSON_GetArraySize(v);
	k = k < 0 ? 0 : k > n ? n : k;
	int64_t from = take ? 0 : k, to = take ? k : n;
	if (cJSON_IsString(v))
		return ns_arm_mk_string(c, call, v->valuestring + from, (size_t)(to - from), out);
	if (!cJSON_IsArray(v))
		return ns_arm_type_error(c, call, 0, v, "an array or a string");
	size_t cnt = 0;
	int rc = new_array(c, call, out);
	int64_t i = 0;
	for (const cJSON *e = v->child; e && rc == 0; e = e->next, i++)
		if (i >= from && i < to)
			rc = push(c, call, *out, e, &cnt);
	return rc;
}

static int f_skip(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argc;
	return skip_take(c, call, argv, false, out);
}

static int f_take(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argc;
	return skip_take(c, call, argv, true, out);
}

/* range(startIndex, count): count at most 10000, as documented. */
static int f_range(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argc;
	int64_t start, count;
	if (!ns_arm_get_int(argv[0], &start))
		return ns_arm_type_error(c, call, 0, argv[0], "an integer");
	if (!ns_arm_get_int(argv[1], &count))
		return ns_arm_type_error(c, call, 1, argv[1], "an integer");
	if (count < 0 || count > 10000 || start > INT32_MAX - count || start < INT32_MIN)
		return ns_arm_fail(c, call->off, NSGSIM_E_SHAPE,
		                   "range: count %lld must be 0 to 10000 and start + count at most "
		                   "2147483647",
		                   (long long)count);
	int rc = ns_arm_check_items(c, call, (size_t)count);
	if (rc == 0)
		rc = new_array(c, call, out);
	for (int64_t i = 0; i < count && rc == 0; i++) {
		cJSON *v = NULL;
		rc = ns_arm_mk_int(c, call, start + i, &v);
		if (rc == 0)
			cJSON_AddItemToArray(*out, v);
	}
	return rc;
}

static bool in_array(const cJSON *arr, const cJSON *v)
{
	for (const cJSON *e = arr->child; e; e = e->next)
		if (ns_arm_equal(e, v))
			return true;
	return false;
}

static int same_kind(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc)
{
	bool arr = cJSON_IsArray(argv[0]);
	for (size_t i = 0; i < argc; i++)
		if (arr ? !cJSON_IsArray(argv[i]) : !cJSON_IsObject(argv[i]))
			return ns_arm_type_error(c, call, i, argv[i],
			                         arr ? "an array like argument 1"
			                             : "an object (or all arrays)");
	return 0;
}

static int merge_into(ns_arm_ctx *c, const ns_arm_node *call, cJSON *dst, const cJSON *src)
{
	for (const cJSON *k = src->child; k; k = k->next) {
		cJSON *have = ns_arm_get_member(dst, k->string);
		if (have && cJSON_IsObject(have) && cJSON_IsObject(k)) {
			int rc = merge_into(c, call, have, k);
			if (rc)
				return rc;
			continue;
		}
		cJSON *d = NULL;
		int rc = ns_arm_dup(c, call, k, &d);
		if (rc)
			return rc;
		if (have)
			cJSON_ReplaceItemInObjectCaseSensitive(dst, have->string, d);
		else
			cJSON_AddItemToObject(dst, k->string, d);
	}
	return 0;
}

static int f_union(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	int rc = same_kind(c, call, argv, argc);
	if (rc)
		return rc;
	size_t cnt = 0;
	bool arr = cJSON_IsArray(argv[0]);
	*out = arr ? cJSON_CreateArray() : cJSON_CreateObject();
	if (!*out)
		return ns_arm_nomem(c, call->off);
	for (size_t i = 0; i < argc && rc == 0; i++) {
		if (!arr) {
			rc = merge_into(c, call, *out, argv[i]);
			continue;
		}
		for (const cJSON *v = argv[i]->child; v && rc == 0; v = v->next) {
			rc = ns_arm_charge(c, call->off, cnt / 64); /* in_array walks cnt */
			if (rc == 0 && !in_array(*out, v))
				rc = push(c, call, *out, v, &cnt);
		}
	}
	return rc;
}

static bool in_all(cJSON **argv, size_t argc, const cJSON *v, const char *key)
{
	for (size_t i = 1; i < argc; i++) {
		const cJSON *o = key ? ns_arm_get_member(argv[i], key) : NULL;
		if (key ? !o || !ns_arm_equal(o, v) : !in_array(argv[i], v))
			return false;
	}
	return true;
}

static int f_intersection(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                          cJSON **out)
{
	int rc = same_kind(c, call, argv, argc);
	if (rc)
		return rc;
	size_t others = 0;
	for (size_t i = 1; i < argc; i++)
		others += (size_t)cJSON_GetArraySize(argv[i]);
	size_t cnt = 0;
	bool arr = cJSON_IsArray(argv[0]);
	*out = arr ? cJSON_CreateArray() : cJSON_CreateObject();
	if (!*out)
		return ns_arm_nomem(c, call->off);
	for (const cJSON *v = argv[0]->child; v && rc == 0; v = v->next) {
		rc = ns_arm_charge(c, call->off, others / 64 + 1); /* in_all walks them */
		if (rc || !in_all(argv, argc, v, arr ? NULL : v->string))
			continue;
		if (arr && !in_array(*out, v))
			rc = push(c, call, *out, v, &cnt);
		else if (!arr && !ns_arm_get_member(*out, v->string)) {
			cJSON *d = NULL;
			rc = ns_arm_dup(c, call, v, &d);
			if (rc == 0)
				cJSON_AddItemToObject(*out, v->string, d);
		}
	}
	return rc;
}

static int f_join(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argc;
	if (!cJSON_IsArray(argv[0]))
		return ns_arm_type_error(c, call, 0, argv[0], "an array");
	if (!cJSON_IsString(argv[1]))
		return ns_arm_type_error(c, call, 1, argv[1], "a string");
	ns_arm_buf b = {0};
	int rc = ns_arm_buf_put(c, call, &b, "", 0);
	for (const cJSON *v = argv[0]->child; v && rc == 0; v = v->next) {
		char *t = NULL;
		if (v != argv[0]->child)
			rc = ns_arm_buf_put(c, call, &b, argv[1]->valuestring,
			                    strlen(argv[1]->valuestring));
		if (rc == 0 && (cJSON_IsArray(v) || cJSON_IsObject(v)))
			rc = ns_arm_type_error(c, call, 0, v, "an array of strings");
		if (rc == 0)
			rc = ns_arm_to_text(c, call, v, false, &t);
		if (rc == 0)
			rc = ns_arm_buf_put(c, call, &b, t, strlen(t));
		free(t);
	}
	if (rc) {
		free(b.p);
		return rc;
	}
	return ns_arm_buf_done(c, call, &b, out);
}

static int by_key(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	int r = strcasecmp(x->string, y->string);
	return r ? r : strcmp(x->string, y->string);
}

/* items(object): [{key, value}], sorted by key as the page says. */
static int f_items(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argc;
	if (!cJSON_IsObject(argv[0]))
		return ns_arm_type_error(c, call, 0, argv[0], "an object");
	size_t n = (size_t)cJSON_GetArraySize(argv[0]), i = 0;
	cJSON **ks = calloc(n ? n : 1, sizeof *ks);
	int rc = ks ? new_array(c, call, out) : ns_arm_nomem(c, call->off);
	for (cJSON *k = argv[0]->child; k && rc == 0; k = k->next)
		ks[i++] = k;
	if (rc == 0)
		qsort(ks, n, sizeof *ks, by_key);
	for (i = 0; i < n && rc == 0; i++) {
		cJSON *e = cJSON_CreateObject(), *v = NULL;
		if (!e || !cJSON_AddStringToObject(e, "key", ks[i]->string))
			rc = ns_arm_nomem(c, call->off);
		if (rc == 0)
			rc = ns_arm_dup(c, call, ks[i], &v);
		if (rc == 0)
			cJSON_AddItemToObject(e, "value", v);
		if (e)
			cJSON_AddItemToArray(*out, e);
	}
	free(ks);
	return rc;
}

static int f_objectkeys(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                        cJSON **out)
{
	(void)argc;
	if (!cJSON_IsObject(argv[0]))
		return ns_arm_type_error(c, call, 0, argv[0], "an object");
	int rc = new_array(c, call, out);
	for (cJSON *k = argv[0]->child; k && rc == 0; k = k->next) {
		cJSON *s = NULL;
		rc = ns_arm_mk_string(c, call, k->string, strlen(k->string), &s);
		if (rc == 0)
			cJSON_AddItemToArray(*out, s);
	}
	return rc;
}

/* tryGet(object, key) / tryGet(array, index): null when absent (Bicep's
 * ?. and ?[] compile to it). */
static int f_tryget(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	const cJSON *v = argv[0];
	for (size_t i = 1; i < argc && v; i++) {
		int64_t ix;
		if (cJSON_IsObject(v) && cJSON_IsString(argv[i]))
			v = ns_arm_get_member(v, argv[i]->valuestring);
		else if (cJSON_IsArray(v) && ns_arm_get_int(argv[i], &ix))
			v = ix >= 0 && ix < cJSON_GetArraySize(v) ? cJSON_GetArrayItem(v, (int)ix)
			                                          : NULL;
		else if (cJSON_IsNull(v))
			v = NULL;
		else
			return ns_arm_type_error(c, call, i, argv[i],
			                         "a key of the object or an index of the array");
	}
	if (!v) {
		*out = cJSON_CreateNull();
		return *out ? 0 : ns_arm_nomem(c, call->off);
	}
	return ns_arm_dup(c, call, v, out);
}

static int f_flatten(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argc;
	if (!cJSON_IsArray(argv[0]))
		return ns_arm_type_error(c, call, 0, argv[0], "an array of arrays");
	size_t cnt = 0;
	int rc = new_array(c, call, out);
	for (const cJSON *a = argv[0]->child; a && rc == 0; a = a->next) {
		if (!cJSON_IsArray(a))
			return ns_arm_type_error(c, call, 0, a, "an array of arrays");
		for (const cJSON *v = a->child; v && rc == 0; v = v->next)
			rc = push(c, call, *out, v, &cnt);
	}
	return rc;
}

const ns_arm_func ns_arm_funcs_array[] = {
        {"array", 1, 1, 0, f_array},
        {"createArray", 0, -1, NS_ARM_TAKES_UNKNOWN, f_createarray},
        {"createObject", 0, -1, NS_ARM_TAKES_UNKNOWN, f_createobject},
        {"concat", 1, -1, 0, f_concat},
        {"contains", 2, 2, NS_ARM_DEEP_UNKNOWN, f_contains},
        {"empty", 1, 1, 0, f_empty},
        {"length", 1, 1, 0, f_length},
        {"first", 1, 1, 0, f_first},
        {"last", 1, 1, 0, f_last},
        {"skip", 2, 2, 0, f_skip},
        {"take", 2, 2, 0, f_take},
        {"range", 2, 2, 0, f_range},
        {"union", 1, -1, NS_ARM_DEEP_UNKNOWN, f_union},
        {"intersection", 1, -1, NS_ARM_DEEP_UNKNOWN, f_intersection},
        {"join", 2, 2, NS_ARM_DEEP_UNKNOWN, f_join},
        {"items", 1, 1, 0, f_items},
        {"objectKeys", 1, 1, 0, f_objectkeys},
        {"tryGet", 2, -1, 0, f_tryget},
        {"flatten", 1, 1, 0, f_flatten},
        {NULL, 0, 0, 0, NULL},
};
