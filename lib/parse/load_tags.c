/* The parse stage for service tags: Microsoft's weekly download
 * (ServiceTags_Public_*.json and the AzureGovernment / China files, where
 * changeNumber is a number) and the REST serviceTags list response (where it
 * is a string).  SEMANTICS.md §4.4, §4.5, T21.
 *
 * Read with lib/parse/json_flat.c, not cJSON: the download is 4 MB of ~100,000
 * prefix strings, and a tree of heap nodes cost a cold `nsgsim eval` most of
 * its time.  The reading rules are those of the environment files
 * (lib/parse/pctx.c): keys match ignoring ASCII case, a field is looked for
 * under "properties" first, JSON null is absent. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "parse/json_flat.h"
#include "parse/load.h"

/* The value of key in obj, or 0 when absent or JSON null. */
static uint32_t member(const ns_jdoc *d, uint32_t obj, const char *key, uint32_t *key_node)
{
	uint32_t k = ns_jkey(d, obj, key);
	if (!k || ns_jis(d, k + 1, NS_J_NULL))
		return 0;
	*key_node = k;
	return k + 1;
}

/* Pushes key node k's name (as the file spells it) onto the pointer. */
static size_t push_key(ns_pctx *c, const ns_jdoc *d, uint32_t k)
{
	char name[256]; /* keys found by ns_jkey are short */
	ns_jstr_decode(d, k, name);
	return ns_ptr_key(c, name);
}

/* As ns_prop (lib/parse/pctx.c): key under the tag's "properties" object,
 * else at its top level; pushes where it was found. */
static uint32_t prop(ns_pctx *c, const ns_jdoc *d, uint32_t res, const char *key, size_t *mark)
{
	uint32_t pk, k, props = member(d, res, "properties", &pk), v;
	if (props && ns_jis(d, props, NS_J_OBJECT) && (v = member(d, props, key, &k))) {
		*mark = ns_ptr_key(c, "properties"); /* as ns_prop writes it */
		push_key(c, d, k);
		return v;
	}
	if (!(v = member(d, res, key, &k)))
		return 0;
	*mark = push_key(c, d, k);
	return v;
}

/* As ns_ptr_prop: where key belongs in res, for "missing" errors. */
static size_t ptr_prop(ns_pctx *c, const ns_jdoc *d, uint32_t res, const char *key)
{
	size_t mark = c->len;
	uint32_t pk, props = member(d, res, "properties", &pk);
	if (props && ns_jis(d, props, NS_J_OBJECT))
		ns_ptr_key(c, "properties");
	ns_ptr_key(c, key);
	return mark;
}

/* As ns_json_string: a string, not an ARM template expression, copied into
 * the model's arena. */
static int json_string(ns_pctx *c, const ns_jdoc *d, uint32_t v, const char **out)
{
	if (!ns_jis(d, v, NS_J_STRING))
		return ns_pfail(c, NSGSIM_E_SHAPE, "expected a string");
	char *s = ns_jstr_dup(d, v, &c->m->arena);
	if (!s)
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	if (ns_is_expression(s))
		return ns_pfail(c, NSGSIM_E_UNEVALUATED,
		                "'%s' is an unevaluated ARM template expression; evaluate the "
		                "template first (e.g. export the deployed resources)",
		                s);
	*out = s;
	return 0;
}

static int opt_string(ns_pctx *c, const ns_jdoc *d, uint32_t res, const char *key, const char **out)
{
	size_t mark;
	*out = NULL;
	uint32_t v = prop(c, d, res, key, &mark);
	if (!v)
		return 0;
	int rc = json_string(c, d, v, out);
	if (rc == 0)
		ns_ptr_pop(c, mark);
	return rc;
}

static int opt_string_array(ns_pctx *c, const ns_jdoc *d, uint32_t res, const char *key,
                            const char ***out, size_t *n)
{
	size_t mark;
	*out = NULL;
	*n = 0;
	uint32_t arr = prop(c, d, res, key, &mark);
	if (!arr)
		return 0;
	if (!ns_jis(d, arr, NS_J_ARRAY))
		return ns_pfail(c, NSGSIM_E_SHAPE, "expected an array of strings");
	*out = ns_arena_alloc(&c->m->arena, ((size_t)ns_jat(d, arr)->len + 1) * sizeof **out);
	if (!*out)
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	size_t i = 0;
	for (uint32_t e = ns_jfirst(d, arr); e; e = ns_jnext(d, e), i++) {
		size_t m2 = ns_ptr_index(c, i);
		int rc = json_string(c, d, e, &(*out)[i]);
		if (rc != 0)
			return rc;
		ns_ptr_pop(c, m2);
	}
	*n = i;
	ns_ptr_pop(c, mark);
	return 0;
}

static int change_number(ns_pctx *c, const ns_jdoc *d, long long *out)
{
	uint32_t k = ns_jkey(d, 0, "changeNumber"), v = k + 1;
	*out = -1;
	if (!k)
		return 0;
	size_t mark = ns_ptr_key(c, "changeNumber");
	if (ns_jis(d, v, NS_J_NUMBER)) {
		double x;
		if (ns_jnumber(d, v, &x) != 0)
			return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
		if (!(x >= 0 && x < 9e15))
			return ns_pfail(c, NSGSIM_E_SHAPE, "changeNumber %g is not a count", x);
		*out = (long long)x;
	} else if (ns_jis(d, v, NS_J_STRING)) {
		const char *s = ns_jstr_dup(d, v, &c->m->arena);
		if (!s)
			return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
		char *end;
		*out = strtoll(s, &end, 10);
		if (*end || end == s)
			return ns_pfail(c, NSGSIM_E_SHAPE, "changeNumber '%s' is not a number", s);
	} else {
		return ns_pfail(c, NSGSIM_E_SHAPE, "changeNumber must be a number or a string");
	}
	ns_ptr_pop(c, mark);
	return 0;
}

/* One prefix string; its JSON pointer is written only for an error: a full
 * download has 95,000 of them. */
static int add_prefix(ns_pctx *c, const ns_jdoc *d, uint32_t item, size_t i, ns_psb *b)
{
	char buf[128]; /* ns_parse_prefix refuses anything longer */
	const char *text = buf;
	if (ns_jis(d, item, NS_J_STRING) && ns_jat(d, item)->len < sizeof buf)
		ns_jstr_decode(d, item, buf);
	else if (ns_jis(d, item, NS_J_STRING) && !(text = ns_jstr_dup(d, item, &c->m->arena)))
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	int family, plen;
	ns_u128 addr;
	if (!ns_jis(d, item, NS_J_STRING) ||
	    ns_parse_prefix(text, &family, &addr, &plen, NULL, NULL, NULL) != 0) {
		ns_ptr_index(c, i);
		if (!ns_jis(d, item, NS_J_STRING))
			return ns_pfail(c, NSGSIM_E_SHAPE, "expected a CIDR prefix string");
		ns_loc loc = {c->file, c->ptr};
		return ns_parse_prefix(text, &family, &addr, &plen, &loc, c->resource, c->err);
	}
	int rc;
	if (family == 4) {
		ns_range4 r = ns_range4_of_prefix((uint32_t)addr, plen);
		rc = ns_psb_add4(b, r.lo, r.hi);
	} else {
		ns_range6 r = ns_range6_of_prefix(addr, plen);
		rc = ns_psb_add6(b, r.lo, r.hi);
	}
	return rc != 0 ? ns_pfail(c, NSGSIM_E_NOMEM, "out of memory") : 0;
}

static int tag_prefixes(ns_pctx *c, const ns_jdoc *d, uint32_t v, ns_tag *t, ns_psb *b)
{
	size_t mark;
	uint32_t arr = prop(c, d, v, "addressPrefixes", &mark);
	if (!arr) {
		mark = ptr_prop(c, d, v, "addressPrefixes");
		int rc = ns_pfail(c, NSGSIM_E_MISSING_FIELD,
		                  "a service tag needs 'addressPrefixes'");
		ns_ptr_pop(c, mark);
		return rc;
	}
	if (!ns_jis(d, arr, NS_J_ARRAY))
		return ns_pfail(c, NSGSIM_E_SHAPE, "expected an array of prefixes");
	if (ns_model_count_prefixes(c->m, ns_jat(d, arr)->len) != 0)
		return ns_pfail(c, NSGSIM_E_LIMIT,
		                "more than %llu addresses in all (NSGSIM_LIMIT_TOTAL_PREFIXES)",
		                (unsigned long long)c->m->limits[NSGSIM_LIMIT_TOTAL_PREFIXES]);
	size_t i = 0;
	for (uint32_t e = ns_jfirst(d, arr); e; e = ns_jnext(d, e), i++) {
		int rc = add_prefix(c, d, e, i, b);
		if (rc != 0)
			return rc;
	}
	t->n_prefixes = i;
	ns_ptr_pop(c, mark);
	return ns_psb_finish(b, &t->set) != 0 ? ns_pfail(c, NSGSIM_E_NOMEM, "out of memory") : 0;
}

static int tag_name(ns_pctx *c, const ns_jdoc *d, uint32_t v, const char **name)
{
	int rc = opt_string(c, d, v, "name", name);
	if (rc == 0 && !*name) {
		size_t mark = ptr_prop(c, d, v, "name");
		rc = ns_pfail(c, NSGSIM_E_MISSING_FIELD, "missing required field 'name'");
		ns_ptr_pop(c, mark);
	}
	if (rc == 0 && !(*name)[0]) { /* no rule could name it */
		size_t mark;
		prop(c, d, v, "name", &mark);
		return ns_pfail(c, NSGSIM_E_SHAPE, "a service tag's name must not be empty");
	}
	return rc;
}

static int add_tag(ns_pctx *c, ns_tag *t)
{
	int rc = 0;
	if (ns_map_get(&c->m->tag_index, t->name))
		rc = ns_pfail(c, NSGSIM_E_DUPLICATE, "service tag '%s' appears twice", t->name);
	else if (ns_map_put(&c->m->tag_index, t->name, (void *)t->name) != 0)
		rc = ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	ns_tag *slot = rc == 0 ? ns_vec_push(&c->m->tags) : NULL;
	if (rc == 0 && !slot)
		rc = ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	if (rc != 0) {
		ns_pset_free(&t->set);
		return rc;
	}
	*slot = *t;
	return 0;
}

static int parse_tag(ns_pctx *c, const ns_jdoc *d, uint32_t v, ns_psb *b)
{
	ns_tag t = {0};
	int rc = tag_name(c, d, v, &t.name);
	if (rc != 0)
		return rc;
	c->resource = t.name;
	if ((rc = opt_string(c, d, v, "region", &t.region)) != 0 ||
	    (rc = opt_string_array(c, d, v, "networkFeatures", &t.features, &t.n_features)) != 0 ||
	    (rc = tag_prefixes(c, d, v, &t, b)) != 0)
		return rc;
	return add_tag(c, &t);
}

static int parse_values(ns_pctx *c, const ns_jdoc *d, uint32_t values)
{
	ns_psb b;
	ns_psb_init(&b);
	size_t i = 0;
	int rc = 0;
	for (uint32_t v = ns_jfirst(d, values); v; v = ns_jnext(d, v)) {
		size_t m2 = ns_ptr_index(c, i++);
		rc = ns_jis(d, v, NS_J_OBJECT)
		             ? parse_tag(c, d, v, &b)
		             : ns_pfail(c, NSGSIM_E_SHAPE, "expected a tag object");
		if (rc != 0)
			break;
		c->resource = NULL;
		ns_ptr_pop(c, m2);
	}
	ns_psb_free(&b);
	return rc;
}

static int parse_tags_document(ns_pctx *c, const ns_jdoc *d)
{
	if (!ns_jis(d, 0, NS_J_OBJECT))
		return ns_pfail(c, NSGSIM_E_SHAPE,
		                "expected a service-tags object {\"changeNumber\", \"cloud\", "
		                "\"values\": [...]}");
	int rc = change_number(c, d, &c->m->tags_change_number);
	if (rc != 0)
		return rc;
	uint32_t cloud = ns_jkey(d, 0, "cloud");
	if (cloud && ns_jis(d, cloud + 1, NS_J_STRING))
		c->m->tags_cloud = ns_jstr_dup(d, cloud + 1, &c->m->arena);
	uint32_t values = ns_jkey(d, 0, "values");
	size_t mark = ns_ptr_key(c, "values");
	if (!values)
		rc = ns_pfail(c, NSGSIM_E_MISSING_FIELD, "a service-tags file needs 'values'");
	else if (!ns_jis(d, values + 1, NS_J_ARRAY))
		rc = ns_pfail(c, NSGSIM_E_SHAPE, "expected 'values' to be an array");
	else
		rc = parse_values(c, d, values + 1);
	if (rc != 0)
		return rc;
	ns_ptr_pop(c, mark);
	/* The index is rebuilt last to point at the tags: vector growth moved
	 * them while they were read. */
	ns_map_free(&c->m->tag_index);
	for (size_t k = 0; k < c->m->tags.n; k++) {
		ns_tag *t = NS_VEC_AT(&c->m->tags, ns_tag, k);
		if (ns_map_put(&c->m->tag_index, t->name, t) != 0)
			return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	}
	return 0;
}

/* Parses a service-tags JSON document into m's tags; the caller
 * (lib/parse/loader.c) undoes a failure. */
int ns_load_tags_text(ns_model *m, const char *name, const char *text, size_t len,
                      nsgsim_error *err)
{
	int rc = ns_check_input_size(m, name, len, err);
	if (rc != 0)
		return rc;
	ns_jdoc d;
	if ((rc = ns_jdoc_parse(&d, name, text, len, m->limits[NSGSIM_LIMIT_JSON_DEPTH], err)) != 0)
		return rc;
	ns_pctx c;
	ns_pctx_init(&c, m, name, err);
	rc = parse_tags_document(&c, &d);
	ns_jdoc_free(&d);
	return rc;
}
