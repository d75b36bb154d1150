/* Shared by the parse-stage readers of JSON (lib/parse/pctx.c, load_*.c)
 * only: the parse context and helpers over cJSON.  Nothing outside the
 * parse stage includes this. */
#ifndef NSGSIM_LOAD_H
#define NSGSIM_LOAD_H

#include <cjson/cJSON.h>
#include <stdarg.h>

#include "parse/parse.h"

typedef struct ns_pctx {
	ns_model *m;
	const char *file;
	nsgsim_error *err;
	const char *resource; /* id of the resource being read, for errors */
	bool evaluated;       /* a template's evaluated values: strings are literal */
	size_t text_len;      /* bytes in the document being read */
	size_t len;
	char ptr[1024]; /* the JSON pointer of the value being read */
	/* A reader that translates another format (a Terraform plan) into
	 * REST-shaped resources names its own input in errors and locations:
	 * remap turns the pointer into the translated resource into the
	 * pointer into the file, and label replaces the resource id. */
	const char *(*remap)(void *ctx, const char *ptr, char *buf, size_t cap);
	void *remap_ctx;
	const char *label;
} ns_pctx;

void ns_pctx_init(ns_pctx *c, ns_model *m, const char *file, nsgsim_error *err);
/* The resource errors name: the label of a translated one, else its id. */
static inline const char *ns_pctx_resource(const ns_pctx *c)
{
	return c->label ? c->label : c->resource;
}
/* The current pointer as the file names it (through remap); buf holds it
 * when remapped. */
const char *ns_ptr_file(ns_pctx *c, char *buf, size_t cap);
size_t ns_ptr_key(ns_pctx *c, const char *key);
size_t ns_ptr_index(ns_pctx *c, size_t i);
void ns_ptr_pop(ns_pctx *c, size_t mark);
ns_loc ns_loc_here(ns_pctx *c);
int ns_pfail(ns_pctx *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* NSGSIM_E_UNEVALUATED for an unknown value (ns_arm_is_unknown) read where
 * it matters: what it depends on, or why it could not be evaluated. */
int ns_fail_unknown(ns_pctx *c, const cJSON *v);
/* NSGSIM_E_SHAPE "expected <what>", or ns_fail_unknown for an unknown. */
int ns_expected(ns_pctx *c, const cJSON *v, const char *what);

size_t ns_ptr_prop(ns_pctx *c, const cJSON *res, const char *key);
const cJSON *ns_prop(ns_pctx *c, const cJSON *res, const char *key, size_t *mark);
int ns_json_string(ns_pctx *c, const cJSON *v, const char **out);
int ns_opt_string(ns_pctx *c, const cJSON *res, const char *key, const char **out);
int ns_req_string(ns_pctx *c, const cJSON *res, const char *key, const char **out);
int ns_opt_string_array(ns_pctx *c, const cJSON *res, const char *key, const char ***out,
                        ns_loc **locs, size_t *n, bool *present);
/* A string member of a JSON object, without checks (NULL when absent). */
const char *ns_raw_string(const cJSON *res, const char *key);
/* {"id": ...} references: one (NULL when absent, with its location), or an array. */
int ns_opt_ref(ns_pctx *c, const cJSON *res, const char *key, const char **out, ns_loc *loc);
int ns_opt_ref_array(ns_pctx *c, const cJSON *res, const char *key, const char ***ids,
                     ns_loc **locs, size_t *n);
const char *ns_parent_id(ns_pctx *c, const char *id);
int ns_resource_identity(ns_pctx *c, const cJSON *res, const char *type, const char *parent_id,
                         const char *segment, const char **id, const char **name);
/* Where a resource starts (*loc), its identity (ns_resource_identity) and,
 * when parent is not NULL, its parent's id: the enclosing resource's when
 * nested (parent_id), else read off its own id. */
int ns_identify(ns_pctx *c, const cJSON *res, const char *type, const char *parent_id,
                const char *segment, ns_loc *loc, const char **id, const char **name,
                const char **parent);
/* Appends a copy of *item to one of the model's vectors; NSGSIM_E_NOMEM
 * with the context's location when it cannot. */
int ns_push(ns_pctx *c, ns_vec *vec, const void *item);
/* Children nested in an array property of their parent, each an object. */
typedef int (*ns_child_fn)(ns_pctx *c, const cJSON *child, const char *parent_id);
int ns_each_child(ns_pctx *c, const cJSON *res, const char *key, const char *parent_id,
                  ns_child_fn fn);
int ns_parse_protocol(ns_pctx *c, const cJSON *res, int *out);
int ns_parse_direction(ns_pctx *c, const cJSON *res, int *out);
int ns_parse_access(ns_pctx *c, const cJSON *res, bool admin, int *out);
int ns_parse_priority(ns_pctx *c, const cJSON *res, int lo, int hi, bool check, int *out);
int ns_parse_prefix_list(ns_pctx *c, const char **texts, const ns_loc *locs, size_t n,
                         ns_addr **out);

/* NSGs and their rules (lib/parse/load_nsg.c). */
int ns_parse_nsg(ns_pctx *c, const cJSON *res, const char *type);
int ns_parse_standalone_rule(ns_pctx *c, const cJSON *res, const char *type);
int ns_parse_standalone_default_rule(ns_pctx *c, const cJSON *res, const char *type);

/* VNets, subnets, peerings, NICs, ASGs, route tables (lib/parse/load_net.c). */
int ns_parse_vnet(ns_pctx *c, const cJSON *res, const char *type);
int ns_parse_standalone_subnet(ns_pctx *c, const cJSON *res, const char *type);
int ns_parse_standalone_peering(ns_pctx *c, const cJSON *res, const char *type);
int ns_parse_nic(ns_pctx *c, const cJSON *res, const char *type);
int ns_parse_asg(ns_pctx *c, const cJSON *res, const char *type);
int ns_parse_route_table(ns_pctx *c, const cJSON *res, const char *type);
int ns_parse_standalone_route(ns_pctx *c, const cJSON *res, const char *type);

/* AVNM resources (lib/parse/load_avnm.c). */
int ns_parse_manager(ns_pctx *c, const cJSON *res, const char *type);
int ns_parse_net_group(ns_pctx *c, const cJSON *res, const char *type);
int ns_parse_static_member(ns_pctx *c, const cJSON *res, const char *type);
int ns_parse_admin_config(ns_pctx *c, const cJSON *res, const char *type);
int ns_parse_rule_collection(ns_pctx *c, const cJSON *res, const char *type);
int ns_parse_admin_rule(ns_pctx *c, const cJSON *res, const char *type);

/* Azure Policy definitions and assignments for network groups (lib/parse/load_policy.c). */
int ns_parse_policy_def(ns_pctx *c, const cJSON *res, const char *type);
int ns_parse_policy_asg(ns_pctx *c, const cJSON *res, const char *type);

/* One REST/ARM-shaped resource object (its "type" decides the reader), at
 * c's current pointer (lib/parse/load_env.c): for the readers of other
 * formats that translate into resources. */
int ns_parse_resource(ns_pctx *c, const cJSON *res);

/* NSGSIM_E_LIMIT when len is over NSGSIM_LIMIT_FILE_BYTES. */
int ns_check_input_size(const ns_model *m, const char *name, size_t len, nsgsim_error *err);
/* An unevaluated ARM template expression: "[...]" ("[[" escapes a literal). */
bool ns_is_expression(const char *s);
/* A copy of text with line and block comments blanked (*out NULL when it has
 * none); NSGSIM_E_NOMEM (lib/parse/json_comments.c). */
int ns_json_strip_comments(const char *text, size_t len, char **out);
/* Whether a resource type has a reader (lib/parse/load_env.c). */
bool ns_resource_type_known(const char *type);
/* Parses JSON text (comments allowed); a syntax error names line and column. */
int ns_parse_json_text(ns_model *m, const char *name, const char *text, size_t len, cJSON **out,
                       nsgsim_error *err);
int ns_count_addresses(ns_pctx *c, const cJSON *res, const char *key, size_t n);
typedef int (*ns_document_fn)(ns_pctx *c, const cJSON *root);
int ns_parse_with(ns_model *m, const char *name, const char *text, size_t len, ns_document_fn fn,
                  nsgsim_error *err);
int ns_load_env_text(ns_model *m, const char *name, const char *text, size_t len,
                     nsgsim_error *err);
/* From this size up, an environment that is an array of resources is read
 * one element at a time (lib/parse/load_env.c): the same model, a fraction
 * of the memory. */
#define NS_SPLIT_MIN_BYTES ((size_t)8 << 20)
/* The split read alone: 0, an error, or NS_SPLIT_FALLBACK (nothing added)
 * when the document is not an array of resources or an element is not JSON
 * on its own. */
#define NS_SPLIT_FALLBACK 1
int ns_load_env_split(ns_model *m, const char *name, const char *text, size_t len,
                      nsgsim_error *err);
/* ns_load_env_text with another threshold (tests: 0 splits every file). */
int ns_load_env_text_split(ns_model *m, const char *name, const char *text, size_t len,
                           size_t split_min, nsgsim_error *err);
int ns_load_tags_text(ns_model *m, const char *name, const char *text, size_t len,
                      nsgsim_error *err);

#endif
