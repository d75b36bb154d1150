/* The parse stage for environment JSON: every shape Azure tools print, turned
 * into the flat model of parse/model.h.  This file finds the resources in a
 * document and hands each to its reader by type (load_nsg.c, load_net.c,
 * load_avnm.c, over the context of pctx.c); it also checks the JSON text
 * (size, depth, \u escapes, duplicate keys) before cJSON reads it.  Only the
 * parse stage includes cJSON; the service-tags download is read without it
 * (lib/parse/json_flat.c, lib/parse/load_tags.c).
 *
 * Shapes (DESIGN.md, "parse"): a single resource, an array, a REST list
 * {"value": [...]}, an ARM template or export {"resources": [...]}; each
 * resource either REST/ARM-shaped (fields under "properties") or flattened
 * as `az ... list/show` prints it (fields at the top level).  Children are
 * nested in their parent or standalone with their own type. */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/parse.h"
#include "parse/json_flat.h"
#include "parse/arm_template.h"
#include "parse/tf.h"
#include "parse/load.h"

/* ---- dispatch by resource type ------------------------------------------------- */

typedef int (*resource_fn)(ns_pctx *c, const cJSON *res, const char *type);

static const struct {
	const char *type;
	resource_fn fn;
} resource_types[] = {
        {"Microsoft.Network/networkSecurityGroups", ns_parse_nsg},
        {"Microsoft.Network/networkSecurityGroups/securityRules", ns_parse_standalone_rule},
        {"Microsoft.Network/networkSecurityGroups/defaultSecurityRules",
         ns_parse_standalone_default_rule},
        {"Microsoft.Network/virtualNetworks", ns_parse_vnet},
        {"Microsoft.Network/virtualNetworks/subnets", ns_parse_standalone_subnet},
        {"Microsoft.Network/virtualNetworks/virtualNetworkPeerings", ns_parse_standalone_peering},
        {"Microsoft.Network/networkInterfaces", ns_parse_nic},
        {"Microsoft.Network/applicationSecurityGroups", ns_parse_asg},
        {"Microsoft.Network/routeTables", ns_parse_route_table},
        {"Microsoft.Network/routeTables/routes", ns_parse_standalone_route},
        {"Microsoft.Network/networkManagers", ns_parse_manager},
        {"Microsoft.Network/networkManagers/networkGroups", ns_parse_net_group},
        {"Microsoft.Network/networkManagers/networkGroups/staticMembers", ns_parse_static_member},
        {"Microsoft.Network/networkManagers/securityAdminConfigurations", ns_parse_admin_config},
        {"Microsoft.Network/networkManagers/securityAdminConfigurations/ruleCollections",
         ns_parse_rule_collection},
        {"Microsoft.Network/networkManagers/securityAdminConfigurations/ruleCollections/rules",
         ns_parse_admin_rule},
        {"Microsoft.Authorization/policyDefinitions", ns_parse_policy_def},
        {"Microsoft.Authorization/policyAssignments", ns_parse_policy_asg},
};

static int parse_resource(ns_pctx *c, const cJSON *res);

bool ns_resource_type_known(const char *type)
{
	for (size_t i = 0; i < NS_ARRAY_LEN(resource_types); i++)
		if (ns_ieq(type, resource_types[i].type))
			return true;
	return false;
}

/* One REST/ARM-shaped resource, read at the context's current pointer: the
 * entry for readers that translate another format (a template's evaluated
 * resources, a Terraform plan's) into resources. */
int ns_parse_resource(ns_pctx *c, const cJSON *res)
{
	return parse_resource(c, res);
}

static int parse_resource_array(ns_pctx *c, const cJSON *arr)
{
	size_t i = 0;
	const cJSON *item;
	cJSON_ArrayForEach(item, arr)
	{
		size_t mark = ns_ptr_index(c, i++);
		int rc = parse_resource(c, item);
		if (rc != 0)
			return rc;
		ns_ptr_pop(c, mark);
	}
	return 0;
}

static int parse_resource(ns_pctx *c, const cJSON *res)
{
	c->resource = NULL;
	if (!cJSON_IsObject(res))
		return ns_pfail(c, NSGSIM_E_SHAPE, "expected a resource object");
	const char *type;
	int rc = ns_req_string(c, res, "type", &type);
	if (rc != 0)
		return rc;
	if (ns_model_resource_count(c->m) >= c->m->limits[NSGSIM_LIMIT_RESOURCES])
		return ns_pfail(c, NSGSIM_E_LIMIT,
		                "more than %llu resources (NSGSIM_LIMIT_RESOURCES)",
		                (unsigned long long)c->m->limits[NSGSIM_LIMIT_RESOURCES]);
	for (size_t i = 0; i < NS_ARRAY_LEN(resource_types); i++)
		if (ns_ieq(type, resource_types[i].type))
			return resource_types[i].fn(c, res, resource_types[i].type);
	const char *id = ns_raw_string(res, "id");
	return ns_model_note(c->m, NSGSIM_NOTE_SKIPPED, c->file, c->ptr,
	                     id ? id : ns_raw_string(res, "name"),
	                     "resource type '%s' is not modelled; skipped", type);
}

/* ---- documents that are JSON but not an environment ------------------------- */

static bool contains(const char *s, const char *part)
{
	return s && strstr(s, part);
}

static const cJSON *first_item(const cJSON *root, const char *key)
{
	const cJSON *arr = cJSON_GetObjectItem(root, key);
	return cJSON_IsArray(arr) ? arr->child : NULL;
}

/* What a document that is not an environment looks like, and what to do. */
static const char *not_an_environment(const cJSON *root)
{
	const char *schema = ns_raw_string(root, "$schema");
	if (contains(schema, "deploymentParameters") ||
	    (!cJSON_GetObjectItem(root, "resources") &&
	     cJSON_GetObjectItem(root, "contentVersion") &&
	     cJSON_IsObject(cJSON_GetObjectItem(root, "parameters"))))
		return "this is a deployment parameters file, not an environment: give it with "
		       "--parameters, and the template with --env";
	const cJSON *item = first_item(root, "value");
	if (cJSON_GetObjectItem(item, "effectiveSecurityRules"))
		return "this is `az network nic list-effective-nsg` output (the effective rules "
		       "Azure computed), not an environment: give the NSGs, subnets and NICs as "
		       "--env; `nsgsim effective` prints the same table from them";
	item = first_item(root, "records");
	if (item && (cJSON_GetObjectItem(item, "flowRecords") ||
	             cJSON_GetObjectItem(cJSON_GetObjectItem(item, "properties"), "flows")))
		return "this is an NSG or VNet flow log (records[]), not an environment";
	item = first_item(root, "values");
	if (cJSON_GetObjectItem(root, "changeNumber") ||
	    (item &&
	     cJSON_GetObjectItem(cJSON_GetObjectItem(item, "properties"), "addressPrefixes")))
		return "this is a service-tags download, not an environment: give it with "
		       "--service-tags";
	return NULL;
}

/* An ARM template, an export or Bicep output: an object with "resources"
 * (an array, or with languageVersion 2.0 an object of symbolic names). */
static bool is_template(const cJSON *root)
{
	const cJSON *res = cJSON_GetObjectItem(root, "resources");
	return res && !cJSON_GetObjectItem(root, "type") &&
	       (cJSON_IsArray(res) || cJSON_IsObject(res) ||
	        contains(ns_raw_string(root, "$schema"), "deploymentTemplate"));
}

static int parse_document(ns_pctx *c, const cJSON *root)
{
	if (cJSON_IsArray(root))
		return parse_resource_array(c, root);
	if (!cJSON_IsObject(root))
		return ns_pfail(c, NSGSIM_E_SHAPE,
		                "expected a resource, an array, {\"value\": [...]} or "
		                "{\"resources\": [...]}");
	if (ns_tf_is_document(root))
		return ns_tf_walk(c, root);
	const char *what = not_an_environment(root);
	if (what)
		return ns_pfail(c, NSGSIM_E_SHAPE, "%s", what);
	if (is_template(root))
		return ns_tpl_walk(c, root);
	const cJSON *arr = cJSON_GetObjectItem(root, "value");
	if (arr && !cJSON_GetObjectItem(root, "type")) {
		size_t mark = ns_ptr_key(c, "value");
		if (!cJSON_IsArray(arr))
			return ns_pfail(c, NSGSIM_E_SHAPE, "expected an array");
		int rc = parse_resource_array(c, arr);
		ns_ptr_pop(c, mark);
		return rc;
	}
	return parse_resource(c, root);
}

/* ---- files ------------------------------------------------------------------- */

/* cJSON 1.7 reads a \u escape that lacks four hex digits as U+0000, which
 * would silently cut the string short: refused here, as a \u0000 is. */
static int check_u_escape(const char *name, const char *text, size_t len, size_t i,
                          nsgsim_error *err)
{
	if (text[i + 1] != 'u')
		return 0;
	for (size_t k = i + 2; k < i + 6; k++)
		if (k >= len || !isxdigit((unsigned char)text[k]))
			return ns_json_fail_at(name, text, text + i, NSGSIM_E_JSON, err,
			                       "malformed JSON (an invalid escape in a string)");
	if (strncmp(text + i + 2, "0000", 4) == 0)
		return ns_json_fail_at(name, text, text + i, NSGSIM_E_JSON, err,
		                       "a \\u0000 (NUL) escape in a string");
	return 0;
}

/* Before cJSON sees the text: nesting depth (a limit, where cJSON's own is
 * 1000 and recursive), and NUL bytes, raw or escaped, which would silently
 * cut a C string short. */
static int prescan_json(const char *name, const char *text, size_t len, uint64_t max_depth,
                        ns_vec *lines, nsgsim_error *err)
{
	uint64_t depth = 0;
	uint32_t line = 1;
	bool in_string = false;
	for (size_t i = 0; i < len; i++) {
		if (in_string) /* to the next quote, backslash, newline or NUL */
			i = (size_t)(ns_json_plain_run(text + i, text + len) - text);
		if (i == len)
			break;
		char ch = text[i];
		line += ch == '\n';
		if (ch == '\0')
			return ns_json_fail_at(name, text, text + i, NSGSIM_E_JSON, err,
			                       "a NUL byte in the input");
		if (in_string) {
			if (ch == '\\' && i + 1 < len) {
				int rc = check_u_escape(name, text, len, i, err);
				if (rc != 0)
					return rc;
				i++;
			} else if (ch == '"') {
				in_string = false;
			}
		} else if (ch == '"') {
			in_string = true;
		} else if (ch == '[' || ch == '{') {
			if (++depth > max_depth)
				return ns_json_fail_at(
				        name, text, text + i, NSGSIM_E_LIMIT, err,
				        "JSON nested deeper than NSGSIM_LIMIT_JSON_DEPTH");
			uint32_t *at = ns_vec_push(lines);
			if (!at)
				return ns_fail(err, NSGSIM_E_NOMEM, name, "", "", "out of memory");
			*at = line;
		} else if ((ch == ']' || ch == '}') && depth > 0) {
			depth--;
		}
	}
	return 0;
}

/* One step of the path down to a value, kept on the stack while walking:
 * the JSON pointer is written only when there is something to report. */
typedef struct json_step {
	const struct json_step *up;
	const char *key; /* NULL: an array element */
	size_t index;
} json_step;

static void push_path(ns_pctx *c, const json_step *s)
{
	if (!s)
		return;
	push_path(c, s->up);
	if (s->key)
		ns_ptr_key(c, s->key);
	else
		ns_ptr_index(c, s->index);
}

/* The index of the first member of obj whose key repeats an earlier one's
 * (ns_first_repeated_key), or SIZE_MAX when none does. */
static int first_repeated_key(ns_pctx *c, const cJSON *obj, size_t *out)
{
	ns_key_ref small[16], *keys = small;
	size_t n = 0;
	for (const cJSON *a = obj->child; a; a = a->next)
		n++;
	if (n > NS_ARRAY_LEN(small) && !(keys = malloc(n * sizeof *keys)))
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	uint32_t i = 0;
	for (const cJSON *a = obj->child; a; a = a->next, i++)
		keys[i] = (ns_key_ref){a->string, strlen(a->string), i};
	uint32_t first = ns_first_repeated_key(keys, n);
	*out = first == UINT32_MAX ? SIZE_MAX : first;
	if (keys != small)
		free(keys);
	return 0;
}

/* A key twice in one object: cJSON keeps both and lookups (which, like
 * ARM, ignore case) would silently take the first.  Reported in the order
 * a depth-first walk meets them. */
static int check_duplicate_keys(ns_pctx *c, const cJSON *v, const json_step *path)
{
	size_t i = 0, repeat = SIZE_MAX;
	if (cJSON_IsObject(v) && v->child) {
		int rc = first_repeated_key(c, v, &repeat);
		if (rc != 0)
			return rc;
	}
	for (const cJSON *a = v->child; a; a = a->next, i++) {
		json_step here = {path, cJSON_IsObject(v) ? a->string : NULL, i};
		if (i == repeat) {
			push_path(c, &here);
			return ns_pfail(c, NSGSIM_E_SHAPE,
			                "the key '%s' appears twice in one object", a->string);
		}
		if (cJSON_IsObject(a) || cJSON_IsArray(a)) {
			int rc = check_duplicate_keys(c, a, &here);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

/* The lines objects start on, as the prescan found them: containers in
 * document order, which is the order of a walk of cJSON's tree (each
 * container before its members).  Objects down to MAX_LINE_DEPTH (a rule
 * of a whole-NSG file is at depth 5) go to m->lines under "file\x1fpointer"
 * for the findings' line (nsgsim_finding.line, SARIF's region). */
#define MAX_LINE_DEPTH 6

/* The object at c's pointer starts on line. */
static int record_line(ns_pctx *c, uint32_t line)
{
	/* "file\x1fpointer", joined by hand: once per object of the input */
	size_t nf = strlen(c->file), np = strlen(c->ptr);
	char *key = ns_arena_alloc(&c->m->arena, nf + np + 2);
	if (key) {
		memcpy(key, c->file, nf);
		key[nf] = '\x1f';
		memcpy(key + nf + 1, c->ptr, np);
		key[nf + 1 + np] = '\0';
	}
	if (!key || ns_model_put_line(c->m, key, line) != 0)
		return ns_fail(c->err, NSGSIM_E_NOMEM, c->file, "", "", "out of memory");
	return 0;
}

static int record_lines(ns_pctx *c, const cJSON *v, const uint32_t *lines, size_t n_lines,
                        size_t *next, int depth)
{
	if (*next >= n_lines)
		return 0;
	uint32_t line = lines[(*next)++];
	if (cJSON_IsObject(v) && depth <= MAX_LINE_DEPTH) {
		int rc = record_line(c, line);
		if (rc != 0)
			return rc;
	}
	size_t i = 0;
	for (const cJSON *a = v->child; a; a = a->next, i++) {
		if (!cJSON_IsObject(a) && !cJSON_IsArray(a))
			continue;
		size_t mark = cJSON_IsObject(v) ? ns_ptr_key(c, a->string) : ns_ptr_index(c, i);
		int rc = record_lines(c, a, lines, n_lines, next, depth + 1);
		ns_ptr_pop(c, mark);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int ns_check_input_size(const ns_model *m, const char *name, size_t len, nsgsim_error *err)
{
	if (len <= m->limits[NSGSIM_LIMIT_FILE_BYTES])
		return 0;
	return ns_fail(err, NSGSIM_E_LIMIT, name, "", "",
	               "the input has %zu bytes; the limit is %llu (NSGSIM_LIMIT_FILE_BYTES)", len,
	               (unsigned long long)m->limits[NSGSIM_LIMIT_FILE_BYTES]);
}

static int parse_json_clean(ns_model *m, const char *name, const char *text, size_t len,
                            cJSON **out, nsgsim_error *err);

/* Bicep source is not JSON: say what to do instead of "malformed JSON". */
static bool looks_like_bicep(const char *name, const char *text, size_t len)
{
	size_t n = strlen(name);
	if (n > 6 && ns_ieq(name + n - 6, ".bicep"))
		return true;
	static const char *const words[] = {"param ",       "resource ", "targetScope", "var ",
	                                    "module ",      "metadata ", "output ",     "import ",
	                                    "@description", "@secure",   "extension "};
	size_t i = 0;
	while (i < len && isspace((unsigned char)text[i]))
		i++;
	for (size_t k = 0; k < NS_ARRAY_LEN(words); k++)
		if (len - i >= strlen(words[k]) &&
		    strncmp(text + i, words[k], strlen(words[k])) == 0)
			return true;
	return false;
}

int ns_parse_json_text(ns_model *m, const char *name, const char *text, size_t len, cJSON **out,
                       nsgsim_error *err)
{
	*out = NULL;
	int rc = ns_check_input_size(m, name, len, err);
	if (rc != 0)
		return rc;
	char *clean;
	if (ns_json_strip_comments(text, len, &clean) != 0)
		return ns_fail(err, NSGSIM_E_NOMEM, name, "", "", "out of memory");
	rc = parse_json_clean(m, name, clean ? clean : text, len, out, err);
	free(clean);
	if (rc == NSGSIM_E_JSON && looks_like_bicep(name, text, len))
		return ns_fail(err, NSGSIM_E_SHAPE, name, "", "",
		               "this looks like Bicep source, not JSON: compile it with `az bicep "
		               "build --file %s` and give the .json it writes",
		               name);
	return rc;
}

static int parse_json_clean(ns_model *m, const char *name, const char *text, size_t len,
                            cJSON **out, nsgsim_error *err)
{
	int rc;
	rc = ns_json_check_text(name, text, len, err); /* as the service-tags reader */
	if (rc != 0)
		return rc;
	ns_vec lines;
	ns_vec_init(&lines, sizeof(uint32_t));
	rc = prescan_json(name, text, len, m->limits[NSGSIM_LIMIT_JSON_DEPTH], &lines, err);
	if (rc != 0) {
		ns_vec_free(&lines);
		return rc;
	}
	const char *end = NULL;
	errno = 0;
	*out = cJSON_ParseWithLengthOpts(text, len, &end, false);
	/* cJSON reports running out of memory as a parse failure. */
	if (!*out && errno == ENOMEM) {
		ns_vec_free(&lines);
		return ns_fail(err, NSGSIM_E_NOMEM, name, "", "", "out of memory");
	}
	if (*out) {
		/* Anything but whitespace after the value is an error too. */
		const char *p = end;
		while (p < text + len && isspace((unsigned char)*p))
			p++;
		if (p == text + len) {
			ns_pctx c;
			ns_pctx_init(&c, m, name, err);
			rc = cJSON_IsObject(*out) || cJSON_IsArray(*out)
			             ? check_duplicate_keys(&c, *out, NULL)
			             : 0;
			size_t next = 0;
			/* A query build answers flows, not findings: their lines are
			 * left out (the policy cannot be saved then). */
			bool want_lines = m->build != NSGSIM_BUILD_QUERY;
			if (!want_lines && cJSON_IsObject(*out) && lines.n)
				m->lines_omitted = true;
			if (rc == 0 && want_lines &&
			    (cJSON_IsObject(*out) || cJSON_IsArray(*out))) {
				ns_ptr_pop(&c, 0);
				rc = record_lines(&c, *out, lines.data, lines.n, &next, 0);
			}
			ns_vec_free(&lines);
			if (rc != 0) {
				cJSON_Delete(*out);
				*out = NULL;
			}
			return rc;
		}
		cJSON_Delete(*out);
		*out = NULL;
		end = p;
	}
	ns_vec_free(&lines);
	if (!end || end < text || end > text + len)
		end = text + len;
	return ns_json_fail_at(name, text, end, NSGSIM_E_JSON, err, "malformed JSON");
}

/* Parses text as JSON and hands the document to fn with a fresh context. */
int ns_parse_with(ns_model *m, const char *name, const char *text, size_t len, ns_document_fn fn,
                  nsgsim_error *err)
{
	const char *file = ns_arena_strdup(&m->arena, name);
	if (!file)
		return ns_fail(err, NSGSIM_E_NOMEM, name, "", "", "out of memory");
	cJSON *root;
	int rc = ns_parse_json_text(m, file, text, len, &root, err);
	if (rc != 0)
		return rc;
	ns_pctx c;
	ns_pctx_init(&c, m, file, err);
	c.text_len = len;
	rc = fn(&c, root);
	cJSON_Delete(root);
	return rc;
}

/* ---- a large array of resources, element by element ------------------------------ */

/* cJSON's tree of a whole file is 5-8 times the file (a node of 64 bytes and
 * two allocations a value): at 200,000 rules it was most of the peak memory
 * (issue 18).  An environment that is `[...]` or `{"value": [...]}` is read
 * one element at a time instead, which gives the same model, notes, lines
 * and errors as the whole tree (tests/test_split.c compares the saved policy
 * files byte for byte); anything else, or any element cJSON refuses alone,
 * is read whole. */
typedef struct span {
	size_t lo, hi; /* an element's text: [lo, hi) */
} span;

static size_t skip_ws(const char *t, size_t i, size_t len)
{
	while (i < len && isspace((unsigned char)t[i]))
		i++;
	return i;
}

/* Where the array element at i ends: the ',' or ']' after it at depth 0
 * (strings and nesting followed; cJSON checks the element), or 0. */
static size_t element_end(const char *t, size_t i, size_t len)
{
	size_t depth = 0;
	for (; i < len; i++) {
		char ch = t[i];
		if (ch == '"') { /* to the closing quote, past escapes */
			for (i++;; i++) {
				i = (size_t)(ns_json_plain_run(t + i, t + len) - t);
				if (i >= len)
					return 0;
				if (t[i] == '"')
					break;
				if (t[i] == '\\' && ++i >= len) /* past the escaped character */
					return 0;
			}
		} else if (ch == '{' || ch == '[') {
			depth++;
		} else if ((ch == '}' || ch == ']') && depth > 0) {
			depth--;
		} else if (depth == 0 && (ch == ',' || ch == ']' || ch == '}')) {
			return ch == '}' ? 0 : i;
		}
	}
	return 0;
}

/* The elements of `[e, ...]` or (*keyed) `{"value": [e, ...]}` with nothing
 * else in the document; false for any other shape. */
static bool split_elements(const char *t, size_t len, bool *keyed, ns_vec *out)
{
	size_t i = skip_ws(t, 0, len);
	*keyed = i < len && t[i] == '{';
	if (*keyed) {
		i = skip_ws(t, i + 1, len);
		if (len - i < 7 || memcmp(t + i, "\"value\"", 7) != 0)
			return false;
		i = skip_ws(t, i + 7, len);
		if (i >= len || t[i] != ':')
			return false;
		i = skip_ws(t, i + 1, len);
	}
	if (i >= len || t[i] != '[')
		return false;
	i = skip_ws(t, i + 1, len);
	if (i >= len || t[i] == ']')
		return false; /* empty: nothing to gain */
	for (;;) {
		size_t end = element_end(t, i, len);
		span *s = end > i ? ns_vec_push(out) : NULL;
		if (!s)
			return false;
		*s = (span){i, end};
		i = end + 1;
		if (t[end] == ']')
			break;
		i = skip_ws(t, i, len);
	}
	if (*keyed) {
		i = skip_ws(t, i, len);
		if (i >= len || t[i] != '}')
			return false;
		i++;
	}
	return skip_ws(t, i, len) == len;
}

/* One element parsed alone; NULL when cJSON refuses it (or runs out of
 * memory, which reading the whole document then reports). */
static cJSON *parse_element(const char *t, const span *s)
{
	const char *end = NULL;
	cJSON *v = cJSON_ParseWithLengthOpts(t + s->lo, s->hi - s->lo, &end, false);
	if (v && (!end || skip_ws(t, (size_t)(end - t), s->hi) != s->hi)) {
		cJSON_Delete(v);
		v = NULL;
	}
	return v;
}

typedef struct split_doc {
	const char *text;
	bool keyed;
	const ns_vec *spans, *lines;
	bool want_lines;
	size_t next_line;
} split_doc;

/* What the whole tree's first walks do to element i at c's pointer: the
 * duplicate-key check and its objects' lines.  NS_SPLIT_FALLBACK for an element
 * that is not JSON alone or repeats a key. */
static int check_element(ns_pctx *c, split_doc *d, const cJSON *v)
{
	if (!v)
		return NS_SPLIT_FALLBACK;
	if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
		return 0;
	nsgsim_error scratch;
	nsgsim_error *keep = c->err;
	c->err = &scratch;
	size_t mark = c->len;
	int rc = check_duplicate_keys(c, v, NULL);
	ns_ptr_pop(c, mark);
	c->err = keep;
	if (rc != 0)
		return rc == NSGSIM_E_NOMEM ? rc : NS_SPLIT_FALLBACK;
	return d->want_lines ? record_lines(c, v, d->lines->data, d->lines->n, &d->next_line,
	                                    d->keyed ? 2 : 1)
	                     : 0;
}

/* After element `from` failed: the elements after it are checked as the
 * whole tree would have checked them before any resource was read, so that
 * a later syntax error or repeated key is the one reported. */
static int check_rest(ns_pctx *c, split_doc *d, size_t from)
{
	for (size_t i = from; i < d->spans->n; i++) {
		cJSON *v = parse_element(d->text, NS_VEC_AT(d->spans, span, i));
		size_t mark = ns_ptr_index(c, i);
		int rc = check_element(c, d, v);
		ns_ptr_pop(c, mark);
		cJSON_Delete(v);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* The root's lines: the object of {"value": [...]} (line 1 of its prescan)
 * and the array, which records nothing but takes its place in the order. */
static int root_lines(ns_pctx *c, split_doc *d)
{
	if (!d->keyed) {
		d->next_line = 1;
		return 0;
	}
	if (!d->want_lines) {
		c->m->lines_omitted = c->m->lines_omitted || d->lines->n > 0;
		return 0;
	}
	d->next_line = 2;
	return d->lines->n ? record_line(c, *(const uint32_t *)d->lines->data) : 0;
}

static int parse_split(ns_pctx *c, split_doc *d)
{
	int rc = root_lines(c, d);
	size_t top = d->keyed ? ns_ptr_key(c, "value") : 0;
	for (size_t i = 0; rc == 0 && i < d->spans->n; i++) {
		cJSON *v = parse_element(d->text, NS_VEC_AT(d->spans, span, i));
		/* `az network nic list-effective-nsg` output: read whole for its message */
		if (i == 0 && d->keyed && cJSON_GetObjectItem(v, "effectiveSecurityRules"))
			rc = NS_SPLIT_FALLBACK;
		size_t mark = ns_ptr_index(c, i);
		if (rc == 0)
			rc = check_element(c, d, v);
		if (rc == 0 && (rc = parse_resource(c, v)) != 0) {
			ns_ptr_pop(c, mark);
			int later = check_rest(c, d, i + 1);
			rc = later != 0 ? later : rc;
		}
		ns_ptr_pop(c, mark);
		cJSON_Delete(v);
	}
	ns_ptr_pop(c, top);
	return rc;
}

/* The document read element by element, or NS_SPLIT_FALLBACK (nothing added to
 * the model) when it is not an array of resources or an element is not
 * JSON on its own. */
int ns_load_env_split(ns_model *m, const char *name, const char *text, size_t len,
                      nsgsim_error *err)
{
	char *clean = NULL;
	if (ns_check_input_size(m, name, len, err) != 0 ||
	    ns_json_strip_comments(text, len, &clean) != 0)
		return NS_SPLIT_FALLBACK;
	const char *t = clean ? clean : text;
	ns_vec lines, spans;
	ns_vec_init(&lines, sizeof(uint32_t));
	ns_vec_init(&spans, sizeof(span));
	bool keyed = false;
	int rc = NS_SPLIT_FALLBACK;
	nsgsim_error scratch;
	const char *file = ns_arena_strdup(&m->arena, name);
	/* The shape first (one light scan): a large document of another shape is
	 * then read whole without the whole-text checks run twice. */
	if (file && split_elements(t, len, &keyed, &spans) &&
	    ns_json_check_text(name, t, len, &scratch) == 0 &&
	    prescan_json(name, t, len, m->limits[NSGSIM_LIMIT_JSON_DEPTH], &lines, &scratch) == 0) {
		split_doc d = {t, keyed, &spans, &lines, m->build != NSGSIM_BUILD_QUERY, 0};
		ns_model_mark mark = ns_model_mark_now(m);
		bool omitted = m->lines_omitted;
		ns_pctx c;
		ns_pctx_init(&c, m, file, err);
		c.text_len = len;
		rc = parse_split(&c, &d);
		if (rc == NS_SPLIT_FALLBACK) {
			ns_model_rollback(m, &mark);
			m->lines_omitted = omitted;
		}
	}
	ns_vec_free(&lines);
	ns_vec_free(&spans);
	free(clean);
	return rc;
}

int ns_load_env_text_split(ns_model *m, const char *name, const char *text, size_t len,
                           size_t split_min, nsgsim_error *err)
{
	if (len >= split_min) {
		int rc = ns_load_env_split(m, name, text, len, err);
		if (rc != NS_SPLIT_FALLBACK)
			return rc;
	}
	return ns_parse_with(m, name, text, len, parse_document, err);
}

int ns_load_env_text(ns_model *m, const char *name, const char *text, size_t len, nsgsim_error *err)
{
	return ns_load_env_text_split(m, name, text, len, NS_SPLIT_MIN_BYTES, err);
}
