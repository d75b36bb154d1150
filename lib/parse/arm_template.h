/* The ARM template walker (lib/parse/arm_template.c, arm_resources.c,
 * arm_params.c): evaluates a template's parameters, variables, copy loops
 * and conditions with the expression evaluator (arm_expr.h) and hands each
 * evaluated resource to the environment readers (load.h).  Parse stage
 * only.
 *
 * Template structure:
 * https://learn.microsoft.com/azure/azure-resource-manager/templates/syntax
 * Limits ("Template limits"):
 * https://learn.microsoft.com/azure/azure-resource-manager/templates/best-practices#template-limits
 */
#ifndef NSGSIM_ARM_TEMPLATE_H
#define NSGSIM_ARM_TEMPLATE_H

#include "parse/arm_expr.h"
#include "parse/load.h"

/* Azure's: a copy loop has at most 800 iterations, a template at most 800
 * resources (copies counted), 256 parameters and 256 variables, 4 MB. */
#define NS_TPL_MAX_COPY      800
#define NS_TPL_MAX_RESOURCES 800
#define NS_TPL_MAX_PARAMS    256
#define NS_TPL_MAX_VARS      256
#define NS_TPL_MAX_BYTES     (4u << 20)
/* nsgsim's own: nested deployments inside each other, copy loops inside
 * each other, evaluation work per file, the longest string built. */
#define NS_TPL_MAX_NESTING 32
#define NS_TPL_MAX_LOOPS   16
#define NS_TPL_BUDGET      (64u * 1000 * 1000)
#define NS_TPL_MAX_STRING  (4u << 20)

typedef struct ns_tpl_loop {
	const char *name; /* the copy's name; NULL for none */
	int64_t index;
} ns_tpl_loop;

/* What one template's expressions see: its parameters and variables, the
 * copy loops around the value being evaluated, the deployment. */
typedef struct ns_tpl_scope {
	ns_pctx *c;
	const cJSON *tpl;
	const char *base;     /* the template's JSON pointer in the file ("" at the top) */
	const cJSON *given;   /* an inner-scope nested deployment's evaluated
	                         "parameters"; NULL: the user's values */
	cJSON *params, *vars; /* evaluated values, by name */
	cJSON *busy;          /* names being evaluated, to catch cycles */
	ns_arm_env env;
	ns_tpl_loop loops[NS_TPL_MAX_LOOPS];
	int n_loops;
	int depth;           /* of nested deployments */
	size_t *n_resources; /* deployed resources counted so far (shared) */
	bool reported;       /* c->err holds an error raised inside a callback */
} ns_tpl_scope;

/* A template document (lib/parse/arm_resources.c). */
int ns_tpl_walk(ns_pctx *c, const cJSON *tpl);

/* ---- lib/parse/arm_template.c ---- */
int ns_tpl_scope_init(ns_tpl_scope *s, ns_pctx *c, const cJSON *tpl, const char *base,
                      const cJSON *given, const ns_tpl_scope *outer);
void ns_tpl_scope_free(ns_tpl_scope *s);
/* Every declared parameter has a value of its type, among its allowed
 * values; an error names the first that does not. */
int ns_tpl_check_params(ns_tpl_scope *s);
/* The value of v with every expression evaluated and property copy loops
 * expanded, at c's current pointer.  An expression that fails becomes an
 * unknown that says why (ns_arm_unknown("error: ...")), so that it matters
 * only where a reader uses it; fails only when out of memory or over a
 * limit. */
int ns_tpl_value(ns_tpl_scope *s, const cJSON *v, cJSON **out);
/* A member of an object (a resource's "name", a copy's "count") that must
 * be known: a string, integer or bool as asked; an error naming it when it
 * is not.  *out is the caller's. */
int ns_tpl_member(ns_tpl_scope *s, const cJSON *obj, const char *key, int type, cJSON **out);

/* ---- lib/parse/arm_params.c ---- */
/* The value the user gave for a parameter (NULL when none), read for its
 * declared type. */
int ns_arm_given_param(ns_pctx *c, const char *name, const char *type, cJSON **out);
int ns_load_params_text(ns_model *m, const char *name, const char *text, size_t len,
                        nsgsim_error *err);
int ns_set_param(ns_model *m, const char *name, const char *value, nsgsim_error *err);

#endif
