/* The ARM template expression language (lib/parse/arm_expr*.c): parses and
 * evaluates one template string value ("[concat('a', parameters('p'))]")
 * into a JSON value.  Parse stage only: values are cJSON, owned by the
 * caller.  The template walker (lib/parse/arm_template.c) supplies what an
 * expression may ask for through ns_arm_env's callbacks.
 *
 * Language reference:
 * https://learn.microsoft.com/azure/azure-resource-manager/templates/template-expressions
 * and the function reference, template-functions*.md in the same folder. */
#ifndef NSGSIM_ARM_EXPR_H
#define NSGSIM_ARM_EXPR_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Values that cannot be known offline (reference(), list*(), newGuid(),
 * utcNow() outside a parameter default, ...) evaluate to an "unknown": a
 * cJSON item of type cJSON_Raw (parsed JSON never has one) whose valuestring
 * says where it came from, e.g. "reference('vnet1').outputs.id".  Any
 * operation on an unknown yields an unknown (concat, member access,
 * functions), except where the answer does not depend on it (if() whose
 * condition is known takes the branch it names; and/or short-circuit as
 * Azure documents).  The walker decides whether the unknown matters. */
bool ns_arm_is_unknown(const cJSON *v);
cJSON *ns_arm_unknown(const char *origin);

typedef struct ns_arm_error {
	int code;      /* NSGSIM_E_* (SHAPE: bad syntax or types; LIMIT; NOMEM; UNEVALUATED) */
	size_t offset; /* byte offset in the expression text where it went wrong */
	char msg[256]; /* what was expected, naming the function */
} ns_arm_error;

/* What an expression sees of its template and deployment.  Callbacks return
 * 0 with *out a new value the evaluator owns, or a negative NSGSIM_E_* with
 * err->msg filled (e.g. "no parameter 'x'"). */
typedef struct ns_arm_env {
	void *user;
	/* parameters('name'): the parameter's value (ARM compares names without case). */
	int (*parameter)(void *user, const char *name, cJSON **out, ns_arm_error *err);
	/* variables('name'): the variable's value, evaluated by the walker. */
	int (*variable)(void *user, const char *name, cJSON **out, ns_arm_error *err);
	/* copyIndex([loopName], [offset]): loop is NULL for the innermost resource
	 * or property loop. The evaluator adds the offset. */
	int (*copy_index)(void *user, const char *loop, int64_t *out, ns_arm_error *err);
	/* The template's "functions" array (user-defined functions; NULL if
	 * none).  Inside one, parameters() are its arguments and nothing else
	 * of the template is visible, as Azure documents. */
	const cJSON *functions;
	/* The deployment: subscription(), resourceGroup(), deployment(),
	 * environment(), tenant().  NULL fields get documented placeholders. */
	const char *subscription_id; /* a GUID */
	const char *tenant_id;
	const char *resource_group; /* name */
	const char *location;       /* the resource group's location */
	const char *deployment_name;
	/* Work budget shared by all evaluations of one template: every node
	 * evaluated and every 64 bytes of string built costs one; at zero,
	 * NSGSIM_E_LIMIT. */
	uint64_t *budget;
	/* The longest string or array a function may build (bytes / items). */
	size_t max_string;
} ns_arm_env;

/* Whether a template string is an expression: "[" ... "]" and not "[[". */
bool ns_arm_is_expression(const char *s);

/* Evaluates one JSON string value of a template.  An expression gives its
 * value (any JSON type); a literal gives a string, with a leading "[["
 * unescaped to "[".  Returns 0 with *out set (caller cJSON_Delete()s it), or
 * a negative NSGSIM_E_* with *err filled and *out NULL. */
int ns_arm_eval(const ns_arm_env *env, const char *text, cJSON **out, ns_arm_error *err);

/* ARM's uniqueString(): the 13-character base-32 string of Azure's 64-bit
 * hash of the arguments, as Azure computes it.  out has room for 14 bytes. */
int ns_arm_unique_string(const char *const *args, size_t n, char out[14]); /* 0 or NSGSIM_E_NOMEM */

#endif
