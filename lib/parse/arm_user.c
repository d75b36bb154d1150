/* User-defined functions ("functions" of a template, called as
 * namespace.name(...)) and the evaluation of template values they return.
 * https://learn.microsoft.com/azure/azure-resource-manager/templates/user-defined-functions
 * Inside a function, parameters() are its arguments; variables, copyIndex
 * and the template's parameters are not visible, as the page documents.
 * Functions may call other user functions, at most NS_ARM_MAX_DEPTH deep. */
#define _POSIX_C_SOURCE 200809L
#include "parse/arm_expr_int.h"

#include "nsgsim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct ufn_frame {
	const cJSON *params; /* the function's "parameters" array */
	cJSON **argv;
	size_t argc;
} ufn_frame;

static int ufn_parameter(void *user, const char *name, cJSON **out, ns_arm_error *err)
{
	const ufn_frame *f = user;
	size_t i = 0;
	for (const cJSON *p = f->params ? f->params->child : NULL; p; p = p->next, i++) {
		const cJSON *pn = cJSON_GetObjectItem(p, "name");
		if (cJSON_IsString(pn) && strcasecmp(pn->valuestring, name) == 0 && i < f->argc) {
			*out = cJSON_Duplicate(f->argv[i], true);
			return *out ? 0 : NSGSIM_E_NOMEM;
		}
	}
	snprintf(err->msg, sizeof err->msg, "no parameter '%s' in this user function", name);
	return NSGSIM_E_SHAPE;
}

static int ufn_variable(void *user, const char *name, cJSON **out, ns_arm_error *err)
{
	(void)user;
	*out = NULL;
	snprintf(err->msg, sizeof err->msg, "a user-defined function cannot read variables ('%s')",
	         name);
	return NSGSIM_E_SHAPE;
}

static int ufn_copy_index(void *user, const char *loop, int64_t *out, ns_arm_error *err)
{
	(void)user;
	(void)loop;
	*out = 0;
	snprintf(err->msg, sizeof err->msg, "a user-defined function cannot use copyIndex");
	return NSGSIM_E_SHAPE;
}

/* The member "name" of namespace "ns" (both without case). */
static const cJSON *find_function(const cJSON *functions, const char *ns, size_t nslen,
                                  const char *name)
{
	for (const cJSON *g = functions ? functions->child : NULL; g; g = g->next) {
		const cJSON *n = cJSON_GetObjectItem(g, "namespace");
		if (!cJSON_IsString(n) || strlen(n->valuestring) != nslen ||
		    strncasecmp(n->valuestring, ns, nslen) != 0)
			continue;
		const cJSON *fn = cJSON_GetObjectItem(cJSON_GetObjectItem(g, "members"), name);
		if (cJSON_IsObject(fn))
			return fn;
	}
	return NULL;
}

static int eval_string(ns_arm_ctx *c, const char *s, cJSON **out)
{
	if (!ns_arm_is_expression(s)) {
		bool esc = s[0] == '[' && s[1] == '[' && s[strlen(s) - 1] == ']';
		*out = cJSON_CreateString(s + (esc ? 1 : 0));
		return *out ? 0 : ns_arm_nomem(c, 0);
	}
	ns_arm_node *root = NULL;
	int rc = ns_arm_parse(s + 1, strlen(s) - 2, 1, &root, c->err);
	if (rc)
		return rc;
	ns_arm_ctx sub = *c;
	sub.text = s;
	sub.base = 0;
	sub.scope = NULL;
	rc = ns_arm_eval_node(&sub, root, out);
	ns_arm_node_free(root);
	return rc;
}

int ns_arm_eval_value(ns_arm_ctx *c, const cJSON *v, cJSON **out)
{
	*out = NULL;
	if (cJSON_IsString(v))
		return eval_string(c, v->valuestring, out);
	if (!cJSON_IsArray(v) && !cJSON_IsObject(v)) {
		*out = cJSON_Duplicate(v, false);
		return *out ? 0 : ns_arm_nomem(c, 0);
	}
	*out = cJSON_IsArray(v) ? cJSON_CreateArray() : cJSON_CreateObject();
	if (!*out)
		return ns_arm_nomem(c, 0);
	for (const cJSON *k = v->child; k; k = k->next) {
		cJSON *e = NULL;
		int rc = ns_arm_charge(c, 0, 1);
		if (rc == 0)
			rc = ns_arm_eval_value(c, k, &e);
		if (rc) {
			cJSON_Delete(*out);
			*out = NULL;
			return rc;
		}
		if (cJSON_IsArray(v))
			cJSON_AddItemToArray(*out, e);
		else
			cJSON_AddItemToObject(*out, k->string, e);
	}
	return 0;
}

static int run_function(ns_arm_ctx *c, const ns_arm_node *call, const cJSON *fn, cJSON **argv,
                        size_t argc, cJSON **out)
{
	const cJSON *params = cJSON_GetObjectItem(fn, "parameters");
	size_t want = cJSON_IsArray(params) ? (size_t)cJSON_GetArraySize(params) : 0;
	const cJSON *value = cJSON_GetObjectItem(cJSON_GetObjectItem(fn, "output"), "value");
	if (argc != want)
		return ns_arm_fail(c, call->off, NSGSIM_E_SHAPE,
		                   "%s: takes %zu argument%s, got %zu", call->s, want,
		                   want == 1 ? "" : "s", argc);
	if (!value)
		return ns_arm_fail(c, call->off, NSGSIM_E_SHAPE, "%s: the function has no output",
		                   call->s);
	ufn_frame f = {cJSON_IsArray(params) ? params : NULL, argv, argc};
	ns_arm_env env = *c->env;
	env.user = &f;
	env.parameter = ufn_parameter;
	env.variable = ufn_variable;
	env.copy_index = ufn_copy_index;
	ns_arm_ctx sub = *c;
	sub.env = &env;
	sub.fdepth++;
	int rc = ns_arm_eval_value(&sub, value, out);
	if (rc && strncmp(c->err->msg, "in ", 3) != 0) {
		/* where it went wrong is in the function's text: name the
		 * innermost function, report the outermost call */
		char inner[sizeof c->err->msg];
		memcpy(inner, c->err->msg, sizeof inner);
		snprintf(c->err->msg, sizeof c->err->msg, "in %.60s: %.180s", call->s, inner);
	}
	if (rc)
		c->err->offset = call->off;
	return rc;
}

int ns_arm_call_user(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	const char *dot = strchr(call->s, '.');
	const cJSON *fn =
	        find_function(c->env->functions, call->s, (size_t)(dot - call->s), dot + 1);
	if (!fn)
		return ns_arm_fail(c, call->off, NSGSIM_E_SHAPE,
		                   "unknown function '%s' (not in the template's functions)",
		                   call->s);
	if (c->fdepth >= NS_ARM_MAX_DEPTH)
		return ns_arm_fail(c, call->off, NSGSIM_E_LIMIT,
		                   "%s: user-defined functions nested too deeply (at most %d)",
		                   call->s, NS_ARM_MAX_DEPTH);
	return run_function(c, call, fn, argv, argc, out);
}
