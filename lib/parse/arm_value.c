/* Values the ARM evaluator builds: every string and array goes through
 * these, so env->max_string and the work budget (one unit per 64 bytes)
 * hold everywhere. */
#define _POSIX_C_SOURCE 200809L
#include "parse/arm_expr_int.h"

#include "nsgsim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int too_long(ns_arm_ctx *c, const ns_arm_node *call, size_t n, const char *what)
{
	return ns_arm_fail(c, call->off, NSGSIM_E_LIMIT,
	                   "%s: the %s would have %zu %s (at most %zu)",
	                   call->kind == NS_ARM_CALL ? call->s : "expression", what, n,
	                   strcmp(what, "string") == 0 ? "bytes" : "items", c->max_string);
}

int ns_arm_mk_string(ns_arm_ctx *c, const ns_arm_node *call, const char *s, size_t n, cJSON **out)
{
	if (n > c->max_string)
		return too_long(c, call, n, "string");
	int rc = ns_arm_charge(c, call->off, n / 64);
	if (rc)
		return rc;
	char *t = strndup(s, n);
	*out = t ? cJSON_CreateString(t) : NULL;
	free(t);
	return *out ? 0 : ns_arm_nomem(c, call->off);
}

int ns_arm_mk_int(ns_arm_ctx *c, const ns_arm_node *call, int64_t v, cJSON **out)
{
	*out = cJSON_CreateNumber((double)v);
	return *out ? 0 : ns_arm_nomem(c, call->off);
}

int ns_arm_mk_bool(ns_arm_ctx *c, const ns_arm_node *call, bool v, cJSON **out)
{
	*out = cJSON_CreateBool(v);
	return *out ? 0 : ns_arm_nomem(c, call->off);
}

int ns_arm_check_items(ns_arm_ctx *c, const ns_arm_node *call, size_t n)
{
	if (n > c->max_string || n > INT32_MAX)
		return too_long(c, call, n, "array");
	return ns_arm_charge(c, call->off, n / 64);
}

static size_t weight(const cJSON *v)
{
	size_t w = 1;
	if (cJSON_IsString(v) || ns_arm_is_unknown(v))
		w += strlen(v->valuestring) / 64;
	for (const cJSON *k = v->child; k; k = k->next)
		w += weight(k);
	return w;
}

int ns_arm_dup(ns_arm_ctx *c, const ns_arm_node *call, const cJSON *v, cJSON **out)
{
	int rc = ns_arm_charge(c, call->off, weight(v) / 8);
	if (rc)
		return rc;
	*out = cJSON_Duplicate(v, true);
	return *out ? 0 : ns_arm_nomem(c, call->off);
}

bool ns_arm_get_int(const cJSON *v, int64_t *out)
{
	if (!cJSON_IsNumber(v))
		return false;
	double d = v->valuedouble;
	if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
		return false;
	*out = (int64_t)d; /* in range: no undefined conversion; libm not needed */
	return (double)*out == d;
}

static bool equal_objects(const cJSON *a, const cJSON *b)
{
	if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
		return false;
	for (const cJSON *k = a->child; k; k = k->next) {
		const cJSON *o = ns_arm_get_member(b, k->string);
		if (!o || !ns_arm_equal(k, o))
			return false;
	}
	return true;
}

/* https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-comparison#equals
 */
bool ns_arm_equal(const cJSON *a, const cJSON *b)
{
	if (cJSON_IsBool(a) && cJSON_IsBool(b))
		return cJSON_IsTrue(a) == cJSON_IsTrue(b);
	if ((a->type & 0xFF) != (b->type & 0xFF))
		return false;
	if (cJSON_IsNumber(a))
		return a->valuedouble == b->valuedouble;
	if (cJSON_IsString(a))
		return strcmp(a->valuestring, b->valuestring) == 0;
	if (cJSON_IsObject(a))
		return equal_objects(a, b);
	if (cJSON_IsArray(a)) {
		const cJSON *x = a->child, *y = b->child;
		for (; x && y; x = x->next, y = y->next)
			if (!ns_arm_equal(x, y))
				return false;
		return !x && !y;
	}
	return true; /* null */
}

int ns_arm_to_text(ns_arm_ctx *c, const ns_arm_node *call, const cJSON *v, bool dotnet, char **out)
{
	char num[32];
	const char *s = NULL;
	int64_t i;
	if (cJSON_IsString(v))
		s = v->valuestring;
	else if (ns_arm_get_int(v, &i))
		snprintf(num, sizeof num, "%lld", (long long)i), s = num;
	else if (cJSON_IsNumber(v))
		snprintf(num, sizeof num, "%.17g", v->valuedouble), s = num;
	else if (cJSON_IsBool(v))
		s = cJSON_IsTrue(v) ? (dotnet ? "True" : "true") : (dotnet ? "False" : "false");
	else if (cJSON_IsNull(v))
		s = dotnet ? "" : "null";
	if (s) {
		*out = strdup(s);
		return *out ? 0 : ns_arm_nomem(c, call->off);
	}
	*out = cJSON_PrintUnformatted(v);
	if (!*out)
		return ns_arm_nomem(c, call->off);
	size_t n = strlen(*out);
	if (n > c->max_string) {
		free(*out);
		*out = NULL;
		return too_long(c, call, n, "string");
	}
	return ns_arm_charge(c, call->off, n / 64);
}

int ns_arm_buf_put(ns_arm_ctx *c, const ns_arm_node *call, ns_arm_buf *b, const char *s, size_t n)
{
	if (n > c->max_string || b->n + n > c->max_string)
		return too_long(c, call, b->n + n, "string");
	if (b->n + n + 1 > b->cap) {
		size_t cap = (b->n + n + 1) * 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return ns_arm_nomem(c, call->off);
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
	return 0;
}

int ns_arm_buf_done(ns_arm_ctx *c, const ns_arm_node *call, ns_arm_buf *b, cJSON **out)
{
	int rc = ns_arm_mk_string(c, call, b->p ? b->p : "", b->n, out);
	free(b->p);
	b->p = NULL;
	b->n = b->cap = 0;
	return rc;
}
