/* The parse context shared by the parse-stage readers of environment JSON
 * (load_nsg.c, load_net.c, load_avnm.c, load_env.c): where in which file a
 * value is (the JSON pointer, for errors), and the readers of fields, ids
 * and address lists over cJSON. */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/load.h"

/* ---- parse context: file, JSON pointer, error -------------------------- */

void ns_pctx_init(ns_pctx *c, ns_model *m, const char *file, nsgsim_error *err)
{
	c->m = m;
	c->file = file;
	c->err = err;
	c->len = 0;
	c->ptr[0] = '\0';
	c->resource = NULL;
	c->evaluated = false;
	c->text_len = 0;
	c->remap = NULL;
	c->remap_ctx = NULL;
	c->label = NULL;
}

/* The pointer errors and locations name: the file's, through remap. */
const char *ns_ptr_file(ns_pctx *c, char *buf, size_t cap)
{
	return c->remap ? c->remap(c->remap_ctx, c->ptr, buf, cap) : c->ptr;
}

size_t ns_ptr_key(ns_pctx *c, const char *key)
{
	size_t mark = c->len;
	if (c->len + 2 < sizeof c->ptr)
		c->ptr[c->len++] = '/';
	/* RFC 6901: '~' is written ~0 and '/' is written ~1.  Runs without
	 * either are copied whole (this runs for every property read). */
	for (const char *k = key; *k && c->len + 3 < sizeof c->ptr;) {
		size_t run = strcspn(k, "~/"), room = sizeof c->ptr - 3 - c->len;
		if (run > room)
			run = room;
		memcpy(c->ptr + c->len, k, run);
		c->len += run;
		k += run;
		if (*k && c->len + 3 < sizeof c->ptr) {
			c->ptr[c->len++] = '~';
			c->ptr[c->len++] = *k == '~' ? '0' : '1';
			k++;
		} else if (run == room) {
			break;
		}
	}
	c->ptr[c->len] = '\0';
	return mark;
}

size_t ns_ptr_index(ns_pctx *c, size_t i)
{
	char num[24], *p = num + sizeof num; /* not snprintf: once per service tag */
	*--p = '\0';
	do
		*--p = (char)('0' + i % 10);
	while (i /= 10);
	return ns_ptr_key(c, p);
}

void ns_ptr_pop(ns_pctx *c, size_t mark)
{
	c->len = mark;
	c->ptr[mark] = '\0';
}

ns_loc ns_loc_here(ns_pctx *c)
{
	char buf[sizeof c->ptr];
	ns_loc l = {c->file, ns_arena_strdup(&c->m->arena, ns_ptr_file(c, buf, sizeof buf))};
	return l;
}

int ns_pfail(ns_pctx *c, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	char buf[sizeof c->ptr];
	return ns_fail(c->err, code, c->file, ns_ptr_file(c, buf, sizeof buf), ns_pctx_resource(c),
	               "%s", msg);
}

int ns_fail_unknown(ns_pctx *c, const cJSON *v)
{
	const char *origin = v->valuestring ? v->valuestring : "";
	if (strncmp(origin, "error: ", 7) == 0)
		return ns_pfail(c, NSGSIM_E_UNEVALUATED, "this value could not be evaluated: %s",
		                origin + 7);
	return ns_pfail(c, NSGSIM_E_UNEVALUATED,
	                "this value cannot be known before deployment (it depends on %s)", origin);
}

int ns_expected(ns_pctx *c, const cJSON *v, const char *what)
{
	if (cJSON_IsRaw(v))
		return ns_fail_unknown(c, v);
	return ns_pfail(c, NSGSIM_E_SHAPE, "expected %s", what);
}

/* cJSON_GetObjectItem, the first member whose key equals key ignoring ASCII
 * case, without its tolower() a character: ns_prop runs it twice for every
 * property a rule has, and it was a tenth of loading a large estate. */
static const cJSON *get_item(const cJSON *obj, const char *key)
{
	if (!obj || !key)
		return NULL;
	for (const cJSON *a = obj->child; a; a = a->next) {
		const unsigned char *x = (const unsigned char *)a->string,
		                    *y = (const unsigned char *)key;
		if (!x || (x[0] | 0x20) != (y[0] | 0x20))
			continue;
		if (strcmp((const char *)x, key) == 0)
			return a;
		for (;; x++, y++) {
			unsigned cx = *x, cy = *y;
			cx += (cx - 'A' < 26u) << 5;
			cy += (cy - 'A' < 26u) << 5;
			if (cx != cy)
				break;
			if (!cx)
				return a;
		}
	}
	return NULL;
}

/* A raw string member, expressions and all (for notes about skipped input). */
const char *ns_raw_string(const cJSON *res, const char *key)
{
	const cJSON *v = get_item(res, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ARM template expressions are strings in brackets; "[[" escapes a literal. */
bool ns_is_expression(const char *s)
{
	size_t n = strlen(s);
	return n >= 2 && s[0] == '[' && s[1] != '[' && s[n - 1] == ']';
}

/* Reads key from the resource's "properties" when it has them (REST/ARM
 * shape), else from its top level (az shape).  Pushes the pointer of what it
 * found; the caller pops to *mark.  NULL (nothing pushed) when absent or
 * JSON null. */
const cJSON *ns_prop(ns_pctx *c, const cJSON *res, const char *key, size_t *mark)
{
	const cJSON *props = get_item(res, "properties");
	if (cJSON_IsObject(props)) {
		const cJSON *v = get_item(props, key);
		if (v && !cJSON_IsNull(v)) {
			*mark = ns_ptr_key(c, "properties");
			ns_ptr_key(c, v->string);
			return v;
		}
	}
	const cJSON *v = get_item(res, key);
	if (!v || cJSON_IsNull(v))
		return NULL;
	*mark = ns_ptr_key(c, v->string);
	return v;
}

/* Pushes the pointer where key belongs in res: under "properties" when the
 * resource has them (REST shape), else at its top level. */
size_t ns_ptr_prop(ns_pctx *c, const cJSON *res, const char *key)
{
	size_t mark = c->len;
	if (cJSON_IsObject(get_item(res, "properties")))
		ns_ptr_key(c, "properties");
	ns_ptr_key(c, key);
	return mark;
}

/* A string value: checks the type and refuses template expressions.
 * Returns 0 with *out set (arena copy), or a negative code. */
int ns_json_string(ns_pctx *c, const cJSON *v, const char **out)
{
	if (cJSON_IsRaw(v))
		return ns_fail_unknown(c, v);
	if (c->evaluated && cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 1e15 &&
	    v->valuedouble == (double)(long long)v->valuedouble) {
		/* A template's integer where the API takes a string
		 * ("destinationPortRange": 3389, or an int parameter): Resource
		 * Manager deploys it as its decimal text (README, "ARM templates"). */
		*out = ns_arena_printf(&c->m->arena, "%lld", (long long)v->valuedouble);
		return *out ? 0 : ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	}
	if (!cJSON_IsString(v))
		return ns_pfail(c, NSGSIM_E_SHAPE, "expected a string");
	if (!c->evaluated && ns_is_expression(v->valuestring))
		return ns_pfail(c, NSGSIM_E_UNEVALUATED,
		                "'%s' is an unevaluated ARM template expression; evaluate the "
		                "template first (e.g. export the deployed resources)",
		                v->valuestring);
	*out = ns_arena_strdup(&c->m->arena, v->valuestring);
	return *out ? 0 : ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
}

/* Optional string property: *out stays NULL when absent. */
int ns_opt_string(ns_pctx *c, const cJSON *res, const char *key, const char **out)
{
	size_t mark;
	*out = NULL;
	const cJSON *v = ns_prop(c, res, key, &mark);
	if (!v)
		return 0;
	int rc = ns_json_string(c, v, out);
	if (rc == 0)
		ns_ptr_pop(c, mark);
	return rc;
}

int ns_req_string(ns_pctx *c, const cJSON *res, const char *key, const char **out)
{
	int rc = ns_opt_string(c, res, key, out);
	if (rc == 0 && !*out) {
		size_t mark = ns_ptr_prop(c, res, key);
		rc = ns_pfail(c, NSGSIM_E_MISSING_FIELD, "missing required field '%s'", key);
		ns_ptr_pop(c, mark);
	}
	return rc;
}

/* An optional {"id": "..."} reference. */
int ns_opt_ref(ns_pctx *c, const cJSON *res, const char *key, const char **out, ns_loc *loc)
{
	size_t mark;
	*out = NULL;
	const cJSON *v = ns_prop(c, res, key, &mark);
	if (!v)
		return 0;
	int rc;
	if (cJSON_IsString(v)) { /* already an id (seen in some exports) */
		rc = ns_json_string(c, v, out);
	} else if (cJSON_IsRaw(v)) {
		rc = ns_fail_unknown(c, v);
	} else if (cJSON_IsObject(v)) {
		const cJSON *id = get_item(v, "id");
		size_t m2 = ns_ptr_key(c, "id");
		rc = id ? ns_json_string(c, id, out)
		        : ns_pfail(c, NSGSIM_E_MISSING_FIELD, "a reference needs an 'id'");
		if (rc == 0) {
			*loc = ns_loc_here(c);
			ns_ptr_pop(c, m2);
		}
	} else {
		rc = ns_pfail(c, NSGSIM_E_SHAPE, "expected an object {\"id\": ...}");
	}
	if (rc == 0) {
		if (!cJSON_IsObject(v))
			*loc = ns_loc_here(c);
		ns_ptr_pop(c, mark);
	}
	return rc;
}

/* An optional array of {"id": ...} (or of id strings). */
int ns_opt_ref_array(ns_pctx *c, const cJSON *res, const char *key, const char ***ids,
                     ns_loc **locs, size_t *n)
{
	size_t mark;
	*ids = NULL;
	*locs = NULL;
	*n = 0;
	const cJSON *arr = ns_prop(c, res, key, &mark);
	if (!arr)
		return 0;
	if (cJSON_IsRaw(arr))
		return ns_fail_unknown(c, arr);
	if (!cJSON_IsArray(arr))
		return ns_pfail(c, NSGSIM_E_SHAPE, "expected an array of {\"id\": ...}");
	size_t count = (size_t)cJSON_GetArraySize(arr);
	*ids = ns_arena_alloc(&c->m->arena, (count + 1) * sizeof **ids);
	*locs = ns_arena_alloc(&c->m->arena, (count + 1) * sizeof **locs);
	if (!*ids || !*locs)
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	size_t i = 0;
	const cJSON *item;
	cJSON_ArrayForEach(item, arr)
	{
		size_t m2 = ns_ptr_index(c, i);
		if (cJSON_IsRaw(item))
			return ns_fail_unknown(c, item);
		const cJSON *id = cJSON_IsObject(item) ? get_item(item, "id") : item;
		size_t m3 = cJSON_IsObject(item) ? ns_ptr_key(c, "id") : c->len;
		int rc = id ? ns_json_string(c, id, &(*ids)[i])
		            : ns_pfail(c, NSGSIM_E_MISSING_FIELD, "a reference needs an 'id'");
		if (rc != 0)
			return rc;
		(*locs)[i] = ns_loc_here(c);
		ns_ptr_pop(c, m3);
		ns_ptr_pop(c, m2);
		i++;
	}
	*n = i;
	ns_ptr_pop(c, mark);
	return 0;
}

/* An optional array of strings. */
int ns_opt_string_array(ns_pctx *c, const cJSON *res, const char *key, const char ***out,
                        ns_loc **locs, size_t *n, bool *present)
{
	size_t mark;
	*out = NULL;
	if (locs)
		*locs = NULL;
	*n = 0;
	if (present)
		*present = false;
	const cJSON *arr = ns_prop(c, res, key, &mark);
	if (!arr)
		return 0;
	if (cJSON_IsRaw(arr))
		return ns_fail_unknown(c, arr);
	if (!cJSON_IsArray(arr))
		return ns_pfail(c, NSGSIM_E_SHAPE, "expected an array of strings");
	if (present)
		*present = true;
	size_t count = (size_t)cJSON_GetArraySize(arr);
	*out = ns_arena_alloc(&c->m->arena, (count + 1) * sizeof **out);
	if (locs)
		*locs = ns_arena_alloc(&c->m->arena, (count + 1) * sizeof **locs);
	if (!*out || (locs && !*locs))
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	size_t i = 0;
	const cJSON *item;
	cJSON_ArrayForEach(item, arr)
	{
		size_t m2 = ns_ptr_index(c, i);
		int rc = ns_json_string(c, item, &(*out)[i]);
		if (rc != 0)
			return rc;
		if (locs)
			(*locs)[i] = ns_loc_here(c);
		ns_ptr_pop(c, m2);
		i++;
	}
	*n = i;
	ns_ptr_pop(c, mark);
	return 0;
}

/* ---- ids ------------------------------------------------------------------ */

/* The id of a resource without one (hand-written or ARM template input):
 * "/providers/<ns>/<type1>/<name1>/<type2>/<name2>", the shape of a real ARM
 * id, so that parent ids derive the same way. */
static const char *synth_id(ns_pctx *c, const char *type, const char *name, bool *nomem)
{
	ns_buf b;
	ns_buf_init(&b);
	ns_buf_puts(&b, "/providers/");
	const char *t = type;
	const char *slash = strchr(t, '/');
	if (!slash)
		goto fail;
	ns_buf_put(&b, t, (size_t)(slash - t)); /* namespace */
	t = slash + 1;
	const char *n = name;
	while (*t) {
		const char *te = strchr(t, '/');
		size_t tl = te ? (size_t)(te - t) : strlen(t);
		const char *ne = strchr(n, '/');
		size_t nl = ne ? (size_t)(ne - n) : strlen(n);
		if (nl == 0)
			goto fail;
		ns_buf_puts(&b, "/");
		ns_buf_put(&b, t, tl);
		ns_buf_puts(&b, "/");
		ns_buf_put(&b, n, nl);
		t += tl + (te ? 1 : 0);
		n += nl + (ne ? 1 : 0);
		if ((te == NULL) != (ne == NULL))
			goto fail;
	}
	if (b.failed) {
		*nomem = true;
		goto fail;
	}
	const char *id = ns_arena_strdup(&c->m->arena, b.data);
	*nomem = !id;
	ns_buf_free(&b);
	return id;
fail:
	ns_buf_free(&b);
	return NULL;
}

/* "<parent>/<type>/<name>" -> "<parent>" (ARM ids alternate type and name). */
const char *ns_parent_id(ns_pctx *c, const char *id)
{
	const char *end = id + strlen(id);
	int slashes = 0;
	while (end > id) {
		end--;
		if (*end == '/' && ++slashes == 2)
			return ns_arena_strndup(&c->m->arena, id, (size_t)(end - id));
	}
	return NULL;
}

/* The last segment of an id, the resource's name. */
static const char *id_leaf(const char *id)
{
	const char *s = strrchr(id, '/');
	return s ? s + 1 : id;
}

/* Identity of a resource: its id, else one made from parent id, child
 * segment and name (nested children), else one made from type and name. */
int ns_resource_identity(ns_pctx *c, const cJSON *res, const char *type, const char *parent_id,
                         const char *segment, const char **id, const char **name)
{
	int rc = ns_opt_string(c, res, "id", id);
	if (rc == 0)
		rc = ns_opt_string(c, res, "name", name);
	if (rc != 0)
		return rc;
	bool nomem = false;
	if (!*id && *name && parent_id && segment) {
		*id = ns_arena_printf(&c->m->arena, "%s/%s/%s", parent_id, segment, *name);
		nomem = !*id;
	} else if (!*id && *name && type) {
		*id = synth_id(c, type, *name, &nomem);
	}
	if (nomem)
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	if (!*id) {
		size_t mark = ns_ptr_key(c, "id");
		rc = ns_pfail(c, NSGSIM_E_MISSING_FIELD,
		              "a resource needs an 'id' or a 'name' (with its 'type')");
		ns_ptr_pop(c, mark);
		return rc;
	}
	if (!*name || strchr(*name, '/'))
		*name = ns_arena_strdup(&c->m->arena, id_leaf(*id));
	c->resource = *id;
	return 0;
}

int ns_identify(ns_pctx *c, const cJSON *res, const char *type, const char *parent_id,
                const char *segment, ns_loc *loc, const char **id, const char **name,
                const char **parent)
{
	*loc = ns_loc_here(c);
	int rc = ns_resource_identity(c, res, type, parent_id, segment, id, name);
	if (rc == 0 && parent)
		*parent = parent_id ? parent_id : ns_parent_id(c, *id);
	return rc;
}

/* ---- address lists (VNet spaces, subnet prefixes, routes) ---------------- */

/* Enforces NSGSIM_LIMIT_PREFIXES_PER_RULE and NSGSIM_LIMIT_TOTAL_PREFIXES. */
int ns_count_addresses(ns_pctx *c, const cJSON *res, const char *key, size_t n)
{
	int rc = 0;
	size_t mark = ns_ptr_prop(c, res, key);
	if (n > c->m->limits[NSGSIM_LIMIT_PREFIXES_PER_RULE])
		rc = ns_pfail(c, NSGSIM_E_LIMIT,
		              "%zu addresses on one side; the limit is %llu "
		              "(NSGSIM_LIMIT_PREFIXES_PER_RULE)",
		              n, (unsigned long long)c->m->limits[NSGSIM_LIMIT_PREFIXES_PER_RULE]);
	else if (ns_model_count_prefixes(c->m, n) != 0)
		rc = ns_pfail(c, NSGSIM_E_LIMIT,
		              "more than %llu addresses in all (NSGSIM_LIMIT_TOTAL_PREFIXES)",
		              (unsigned long long)c->m->limits[NSGSIM_LIMIT_TOTAL_PREFIXES]);
	ns_ptr_pop(c, mark);
	return rc;
}

int ns_parse_prefix_list(ns_pctx *c, const char **texts, const ns_loc *locs, size_t n,
                         ns_addr **out)
{
	if (ns_model_count_prefixes(c->m, n) != 0)
		return ns_pfail(c, NSGSIM_E_LIMIT,
		                "more than %llu addresses in all (NSGSIM_LIMIT_TOTAL_PREFIXES)",
		                (unsigned long long)c->m->limits[NSGSIM_LIMIT_TOTAL_PREFIXES]);
	*out = ns_arena_alloc(&c->m->arena, (n + 1) * sizeof **out);
	if (!*out)
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		ns_addr *a = &(*out)[i];
		a->kind = NS_ADDR_CIDR;
		a->text = texts[i];
		a->loc = locs[i];
		int rc = ns_parse_prefix(texts[i], &a->family, &a->addr, &a->plen, &locs[i],
		                         ns_pctx_resource(c), c->err);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* ---- children and the model ------------------------------------------------- */

int ns_each_child(ns_pctx *c, const cJSON *res, const char *key, const char *parent_id,
                  ns_child_fn fn)
{
	size_t mark;
	const cJSON *arr = ns_prop(c, res, key, &mark);
	if (!arr)
		return 0;
	if (cJSON_IsRaw(arr))
		return ns_fail_unknown(c, arr);
	if (!cJSON_IsArray(arr))
		return ns_pfail(c, NSGSIM_E_SHAPE, "expected '%s' to be an array", key);
	size_t i = 0;
	const cJSON *item;
	const char *saved = c->resource;
	cJSON_ArrayForEach(item, arr)
	{
		size_t m2 = ns_ptr_index(c, i++);
		if (cJSON_IsRaw(item))
			return ns_fail_unknown(c, item);
		if (!cJSON_IsObject(item))
			return ns_pfail(c, NSGSIM_E_SHAPE, "expected an object");
		int rc = fn(c, item, parent_id);
		if (rc != 0)
			return rc;
		c->resource = saved;
		ns_ptr_pop(c, m2);
	}
	ns_ptr_pop(c, mark);
	return 0;
}

int ns_push(ns_pctx *c, ns_vec *vec, const void *item)
{
	void *slot = ns_vec_push(vec);
	if (!slot)
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	memcpy(slot, item, vec->elem);
	return 0;
}
