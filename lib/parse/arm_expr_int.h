/* Internals of the ARM expression evaluator (lib/parse/arm_expr*.c,
 * arm_func_*.c): the syntax tree, the evaluation context and the helpers
 * every function group shares.  Not seen outside lib/parse. */
#ifndef NSGSIM_ARM_EXPR_INT_H
#define NSGSIM_ARM_EXPR_INT_H

#include "parse/arm_expr.h"

/* Deepest nesting of calls, member and index accesses in one expression,
 * and of user-defined function calls inside each other. */
#define NS_ARM_MAX_DEPTH 64
/* env->max_string when the walker leaves it 0. */
#define NS_ARM_DEFAULT_MAX_STRING (4u << 20)

typedef enum ns_arm_kind {
	NS_ARM_STR,    /* s/slen: the decoded literal */
	NS_ARM_INT,    /* i */
	NS_ARM_LIT,    /* a bare true, false or null: i is the cJSON type */
	NS_ARM_CALL,   /* s: name ("ns.name" for a user function); args */
	NS_ARM_MEMBER, /* s: the member; args[0]: the object */
	NS_ARM_INDEX,  /* args[0]: the value, args[1]: the index */
} ns_arm_kind;

typedef struct ns_arm_node {
	ns_arm_kind kind;
	size_t off, end; /* byte span in the expression text */
	char *s;
	size_t slen;
	int64_t i;
	struct ns_arm_node **args;
	size_t nargs;
} ns_arm_node;

/* A lambda's variables, innermost first. */
typedef struct ns_arm_scope {
	const char *name;
	const cJSON *val;
	const struct ns_arm_scope *up;
} ns_arm_scope;

typedef struct ns_arm_ctx {
	const ns_arm_env *env;
	const char *text; /* the whole template string, for origins */
	size_t base;      /* offset of text[0] in what the caller reports */
	ns_arm_error *err;
	int depth;  /* current evaluation nesting */
	int fdepth; /* user-defined functions inside each other */
	const ns_arm_scope *scope;
	size_t max_string;
} ns_arm_ctx;

/* A function: argv holds argc evaluated, known arguments, or is NULL for a
 * NS_ARM_LAZY function, which evaluates call->args itself. */
typedef int (*ns_arm_fn)(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                         cJSON **out);

enum {
	NS_ARM_LAZY = 1,          /* short-circuits or takes lambdas */
	NS_ARM_TAKES_UNKNOWN = 2, /* sees unknown arguments instead of propagating them */
	NS_ARM_DEEP_UNKNOWN = 4,  /* unknown if an unknown is anywhere inside an argument
	                           * (it compares or prints whole values) */
};

typedef struct ns_arm_func {
	const char *name;
	int min, max; /* arity; max -1 for any */
	unsigned flags;
	ns_arm_fn fn;
} ns_arm_func;

extern const ns_arm_func ns_arm_funcs_string[];
extern const ns_arm_func ns_arm_funcs_array[];
extern const ns_arm_func ns_arm_funcs_lambda[];
extern const ns_arm_func ns_arm_funcs_logic[];
extern const ns_arm_func ns_arm_funcs_deploy[];
extern const ns_arm_func ns_arm_func_list; /* list*() */

/* Parsing (arm_expr.c). */
int ns_arm_parse(const char *text, size_t len, size_t base, ns_arm_node **out, ns_arm_error *err);
void ns_arm_node_free(ns_arm_node *n);

/* Evaluation (arm_eval.c). */
int ns_arm_eval_node(ns_arm_ctx *c, const ns_arm_node *n, cJSON **out);
/* Evaluates a template value (strings as expressions, objects and arrays
 * member by member) with c's env: user functions' outputs. */
int ns_arm_eval_value(ns_arm_ctx *c, const cJSON *v, cJSON **out);
int ns_arm_call_lambda(ns_arm_ctx *c, const ns_arm_node *lambda, const cJSON *const *vals,
                       size_t nvals, cJSON **out);
/* Whether n is a lambda(...) call with nparams variable names. */
int ns_arm_check_lambda(ns_arm_ctx *c, const ns_arm_node *call, size_t argi, size_t nparams);
int ns_arm_call_user(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                     cJSON **out);

/* Errors and limits (arm_eval.c). */
int ns_arm_fail(ns_arm_ctx *c, size_t off, int code, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/* "NAME: argument I is TYPE; expected WHAT" */
int ns_arm_type_error(ns_arm_ctx *c, const ns_arm_node *call, size_t argi, const cJSON *got,
                      const char *want);
int ns_arm_charge(ns_arm_ctx *c, size_t off, uint64_t units);
const char *ns_arm_type_name(const cJSON *v);
int ns_arm_nomem(ns_arm_ctx *c, size_t off);

/* Values (arm_value.c). */
int ns_arm_mk_string(ns_arm_ctx *c, const ns_arm_node *call, const char *s, size_t n, cJSON **out);
int ns_arm_mk_int(ns_arm_ctx *c, const ns_arm_node *call, int64_t v, cJSON **out);
int ns_arm_mk_bool(ns_arm_ctx *c, const ns_arm_node *call, bool v, cJSON **out);
/* An array or object about to hold n items: within max_string. */
int ns_arm_check_items(ns_arm_ctx *c, const ns_arm_node *call, size_t n);
int ns_arm_dup(ns_arm_ctx *c, const ns_arm_node *call, const cJSON *v, cJSON **out);
bool ns_arm_get_int(const cJSON *v, int64_t *out);
/* Deep equality as equals() documents: strings case-sensitive, object
 * keys compared without case. */
bool ns_arm_equal(const cJSON *a, const cJSON *b);
cJSON *ns_arm_get_member(const cJSON *obj, const char *name);
/* The value as text for concat/format/string(): strings as they are,
 * numbers in decimal, booleans True/False (string()) or true/false. */
int ns_arm_to_text(ns_arm_ctx *c, const ns_arm_node *call, const cJSON *v, bool dotnet, char **out);
/* An unknown whose origin is the call's source text. */
int ns_arm_unknown_of(ns_arm_ctx *c, const ns_arm_node *n, cJSON **out);

/* A growing string bounded by max_string. */
typedef struct ns_arm_buf {
	char *p;
	size_t n, cap;
} ns_arm_buf;
int ns_arm_buf_put(ns_arm_ctx *c, const ns_arm_node *call, ns_arm_buf *b, const char *s, size_t n);
/* Hands b over as a string value (frees b). */
int ns_arm_buf_done(ns_arm_ctx *c, const ns_arm_node *call, ns_arm_buf *b, cJSON **out);

/* Hashes (arm_hash.c). */
void ns_arm_guid(const char *const *args, size_t n, char out[37]);
void ns_arm_sha1(const unsigned char *data, size_t n, unsigned char out[20]);

#endif
