/* The parse stage for service tags: Microsoft's weekly download
 * (ServiceTags_Public_*.json and the AzureGovernment / China files, where
 * changeNumber is a number) and the REST serviceTags list response (where it
 * is a string).  SEMANTICS.md §4.4, §4.5, T21. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "load.h"

static int change_number(ns_pctx *c, const cJSON *root, long long *out)
{
	const cJSON *v = cJSON_GetObjectItem(root, "changeNumber");
	*out = -1;
	if (!v)
		return 0;
	size_t mark = ns_ptr_key(c, "changeNumber");
	if (cJSON_IsNumber(v)) {
		if (!(v->valuedouble >= 0 && v->valuedouble < 9e15))
			return ns_pfail(c, NSGSIM_E_SHAPE, "changeNumber %g is not a count",
			                v->valuedouble);
		*out = (long long)v->valuedouble;
	} else if (cJSON_IsString(v)) {
		char *end;
		*out = strtoll(v->valuestring, &end, 10);
		if (*end || end == v->valuestring)
			return ns_pfail(c, NSGSIM_E_SHAPE, "changeNumber '%s' is not a number",
			                v->valuestring);
	} else {
		return ns_pfail(c, NSGSIM_E_SHAPE, "changeNumber must be a number or a string");
	}
	ns_ptr_pop(c, mark);
	return 0;
}

/* The prefixes of one tag.  The JSON pointer of each is written only for an
 * error: a full download has 95,000 of them. */
static int add_tag_prefixes(ns_pctx *c, const cJSON *arr, ns_psb *b, size_t *count)
{
	size_t i = 0;
	const cJSON *item;
	cJSON_ArrayForEach(item, arr)
	{
		int family, plen, rc;
		ns_u128 addr;
		if (!cJSON_IsString(item) || ns_parse_prefix(item->valuestring, &family, &addr,
		                                             &plen, NULL, NULL, NULL) != 0) {
			ns_ptr_index(c, i);
			if (!cJSON_IsString(item))
				return ns_pfail(c, NSGSIM_E_SHAPE, "expected a CIDR prefix string");
			ns_loc loc = {c->file, c->ptr};
			return ns_parse_prefix(item->valuestring, &family, &addr, &plen, &loc,
			                       c->resource, c->err);
		}
		if (family == 4) {
			ns_range4 r = ns_range4_of_prefix((uint32_t)addr, plen);
			rc = ns_psb_add4(b, r.lo, r.hi);
		} else {
			ns_range6 r = ns_range6_of_prefix(addr, plen);
			rc = ns_psb_add6(b, r.lo, r.hi);
		}
		if (rc != 0)
			return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
		i++;
	}
	*count = i;
	return 0;
}

static int parse_tag(ns_pctx *c, const cJSON *v, ns_psb *b)
{
	ns_tag t = {0};
	int rc = ns_req_string(c, v, "name", &t.name);
	if (rc != 0)
		return rc;
	if (!t.name[0]) { /* no rule could name it */
		size_t mark;
		ns_prop(c, v, "name", &mark);
		return ns_pfail(c, NSGSIM_E_SHAPE, "a service tag's name must not be empty");
	}
	c->resource = t.name;
	if ((rc = ns_opt_string(c, v, "region", &t.region)) != 0 ||
	    (rc = ns_opt_string_array(c, v, "networkFeatures", &t.features, NULL, &t.n_features,
	                              NULL)) != 0)
		return rc;
	size_t mark;
	const cJSON *arr = ns_prop(c, v, "addressPrefixes", &mark);
	if (!arr) {
		mark = ns_ptr_prop(c, v, "addressPrefixes");
		rc = ns_pfail(c, NSGSIM_E_MISSING_FIELD, "a service tag needs 'addressPrefixes'");
		ns_ptr_pop(c, mark);
		return rc;
	}
	if (!cJSON_IsArray(arr))
		return ns_pfail(c, NSGSIM_E_SHAPE, "expected an array of prefixes");
	if (ns_model_count_prefixes(c->m, (size_t)cJSON_GetArraySize(arr)) != 0)
		return ns_pfail(c, NSGSIM_E_LIMIT,
		                "more than %llu addresses in all (NSGSIM_LIMIT_TOTAL_PREFIXES)",
		                (unsigned long long)c->m->limits[NSGSIM_LIMIT_TOTAL_PREFIXES]);
	if ((rc = add_tag_prefixes(c, arr, b, &t.n_prefixes)) != 0)
		return rc;
	ns_ptr_pop(c, mark);
	if (ns_psb_finish(b, &t.set) != 0)
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	if (ns_map_get(&c->m->tag_index, t.name)) {
		ns_pset_free(&t.set);
		return ns_pfail(c, NSGSIM_E_DUPLICATE, "service tag '%s' appears twice", t.name);
	}
	if (ns_map_put(&c->m->tag_index, t.name, (void *)t.name) != 0) {
		ns_pset_free(&t.set);
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	}
	ns_tag *slot = ns_vec_push(&c->m->tags);
	if (!slot) {
		ns_pset_free(&t.set);
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	}
	*slot = t;
	return 0;
}

static int parse_tags_document(ns_pctx *c, const cJSON *root)
{
	if (!cJSON_IsObject(root))
		return ns_pfail(c, NSGSIM_E_SHAPE,
		                "expected a service-tags object {\"changeNumber\", \"cloud\", "
		                "\"values\": [...]}");
	int rc = change_number(c, root, &c->m->tags_change_number);
	if (rc != 0)
		return rc;
	const cJSON *cloud = cJSON_GetObjectItem(root, "cloud");
	if (cJSON_IsString(cloud))
		c->m->tags_cloud = ns_arena_strdup(&c->m->arena, cloud->valuestring);
	const cJSON *values = cJSON_GetObjectItem(root, "values");
	if (!values) {
		size_t mark = ns_ptr_key(c, "values");
		rc = ns_pfail(c, NSGSIM_E_MISSING_FIELD, "a service-tags file needs 'values'");
		ns_ptr_pop(c, mark);
		return rc;
	}
	size_t mark = ns_ptr_key(c, "values");
	if (!cJSON_IsArray(values))
		return ns_pfail(c, NSGSIM_E_SHAPE, "expected 'values' to be an array");
	ns_psb b;
	ns_psb_init(&b);
	size_t i = 0;
	const cJSON *v;
	cJSON_ArrayForEach(v, values)
	{
		size_t m2 = ns_ptr_index(c, i++);
		rc = cJSON_IsObject(v) ? parse_tag(c, v, &b)
		                       : ns_pfail(c, NSGSIM_E_SHAPE, "expected a tag object");
		if (rc != 0)
			break;
		c->resource = NULL;
		ns_ptr_pop(c, m2);
	}
	ns_psb_free(&b);
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
 * (lib/loader.c) undoes a failure. */
int ns_load_tags_text(ns_model *m, const char *name, const char *text, size_t len,
                      nsgsim_error *err)
{
	return ns_parse_with(m, name, text, len, parse_tags_document, err);
}
