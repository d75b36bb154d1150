/* Shared by the parse-stage files (lib/load_*.c) only: the parse context and
 * helpers over cJSON.  Nothing outside the parse stage includes this. */
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
	size_t len;
	char ptr[1024]; /* the JSON pointer of the value being read */
} ns_pctx;

void ns_pctx_init(ns_pctx *c, ns_model *m, const char *file, nsgsim_error *err);
size_t ns_ptr_key(ns_pctx *c, const char *key);
size_t ns_ptr_index(ns_pctx *c, size_t i);
void ns_ptr_pop(ns_pctx *c, size_t mark);
ns_loc ns_loc_here(ns_pctx *c);
int ns_pfail(ns_pctx *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

size_t ns_ptr_prop(ns_pctx *c, const cJSON *res, const char *key);
const cJSON *ns_prop(ns_pctx *c, const cJSON *res, const char *key, size_t *mark);
int ns_json_string(ns_pctx *c, const cJSON *v, const char **out);
int ns_opt_string(ns_pctx *c, const cJSON *res, const char *key, const char **out);
int ns_req_string(ns_pctx *c, const cJSON *res, const char *key, const char **out);
int ns_opt_string_array(ns_pctx *c, const cJSON *res, const char *key, const char ***out,
                        ns_loc **locs, size_t *n, bool *present);
const char *ns_parent_id(ns_pctx *c, const char *id);
int ns_resource_identity(ns_pctx *c, const cJSON *res, const char *type, const char *parent_id,
                         const char *segment, const char **id, const char **name);
int ns_parse_protocol(ns_pctx *c, const cJSON *res, int *out);
int ns_parse_direction(ns_pctx *c, const cJSON *res, int *out);
int ns_parse_access(ns_pctx *c, const cJSON *res, bool admin, int *out);
int ns_parse_priority(ns_pctx *c, const cJSON *res, int lo, int hi, bool check, int *out);
int ns_parse_prefix_list(ns_pctx *c, const char **texts, const ns_loc *locs, size_t n,
                         ns_addr **out);

/* AVNM resources (lib/load_avnm.c). */
int ns_parse_manager(ns_pctx *c, const cJSON *res, const char *type);
int ns_parse_net_group(ns_pctx *c, const cJSON *res, const char *type);
int ns_parse_static_member(ns_pctx *c, const cJSON *res, const char *type);
int ns_parse_admin_config(ns_pctx *c, const cJSON *res, const char *type);
int ns_parse_rule_collection(ns_pctx *c, const cJSON *res, const char *type);
int ns_parse_admin_rule(ns_pctx *c, const cJSON *res, const char *type);

/* NSGSIM_E_LIMIT when len is over NSGSIM_LIMIT_FILE_BYTES. */
int ns_check_input_size(const ns_model *m, const char *name, size_t len, nsgsim_error *err);
/* An unevaluated ARM template expression: "[...]" ("[[" escapes a literal). */
bool ns_is_expression(const char *s);
/* Parses JSON text; a syntax error names line and column. */
int ns_parse_json_text(ns_model *m, const char *name, const char *text, size_t len, cJSON **out,
                       nsgsim_error *err);
int ns_count_addresses(ns_pctx *c, const cJSON *res, const char *key, size_t n);
typedef int (*ns_document_fn)(ns_pctx *c, const cJSON *root);
int ns_parse_with(ns_model *m, const char *name, const char *text, size_t len, ns_document_fn fn,
                  nsgsim_error *err);
int ns_load_env_text(ns_model *m, const char *name, const char *text, size_t len,
                     nsgsim_error *err);
int ns_load_tags_text(ns_model *m, const char *name, const char *text, size_t len,
                      nsgsim_error *err);

#endif
