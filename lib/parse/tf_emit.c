/* Terraform values written as REST properties, keeping where each came
 * from so that an error in the REST reader names the Terraform attribute
 * (module.hub.azurerm_subnet.app: /planned_values/.../values/address_prefixes)
 * rather than a property the file does not have.  azurerm's conventions
 * (the provider's resource documentation): an unset string is "", an unset
 * list [], both mean absent; ids are strings where REST nests {"id": ...}. */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/arm_expr.h"
#include "parse/tf.h"

/* ---- where things came from ------------------------------------------------------- */

void ns_tf_map_add(ns_tf_tr *t, const char *rest, const char *file)
{
	if (t->rc)
		return;
	if (t->n_map == t->cap_map) {
		size_t cap = t->cap_map ? t->cap_map * 2 : 32;
		ns_tf_map *grown = realloc(t->map, cap * sizeof *grown);
		if (!grown) {
			t->rc = NSGSIM_E_NOMEM;
			return;
		}
		t->map = grown;
		t->cap_map = cap;
	}
	char *r = strdup(rest), *f = strdup(file);
	if (!r || !f) {
		free(r);
		free(f);
		t->rc = NSGSIM_E_NOMEM;
		return;
	}
	t->map[t->n_map++] = (ns_tf_map){r, f};
}

void ns_tf_tr_free(ns_tf_tr *t)
{
	for (size_t i = 0; i < t->n_map; i++) {
		free(t->map[i].rest);
		free(t->map[i].file);
	}
	free(t->map);
	t->map = NULL;
	t->n_map = t->cap_map = 0;
}

/* The longest recorded REST pointer that p starts with (segment-wise),
 * replaced by where it came from. */
const char *ns_tf_remap(void *ctx, const char *p, char *buf, size_t cap)
{
	const ns_tf_tr *t = ctx;
	const ns_tf_map *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; i < t->n_map; i++) {
		size_t len = strlen(t->map[i].rest);
		if ((!best || len > best_len) && strncmp(p, t->map[i].rest, len) == 0 &&
		    (p[len] == '\0' || p[len] == '/')) {
			best = &t->map[i];
			best_len = len;
		}
	}
	snprintf(buf, cap, "%s%s", best ? best->file : t->in->ptr, p + best_len);
	return buf;
}

/* base/key (base alone without a key), cut at cap. */
static void join(char *dst, size_t cap, const char *base, const char *key)
{
	size_t n = 0;
	for (const char *p = base; *p && n + 1 < cap; p++)
		dst[n++] = *p;
	if (key && n + 1 < cap)
		dst[n++] = '/';
	for (const char *p = key; p && *p && n + 1 < cap; p++)
		dst[n++] = *p;
	dst[n] = '\0';
}

void ns_tf_blk_child(ns_tf_blk *child, const ns_tf_blk *parent, cJSON *obj, const char *rest_key,
                     const cJSON *vals, const cJSON *unk, const cJSON *expr, const char *file_key)
{
	child->tr = parent->tr;
	child->obj = obj;
	child->vals = vals;
	child->unk = unk;
	child->expr = expr;
	join(child->rest, sizeof child->rest, parent->rest, rest_key);
	join(child->file, sizeof child->file, parent->file, file_key);
	ns_tf_map_add(child->tr, child->rest, child->file);
}

cJSON *ns_tf_put(ns_tf_blk *b, const char *rest_key, const char *tf_key, cJSON *v)
{
	if (!v || !(cJSON_IsArray(b->obj) ? cJSON_AddItemToArray(b->obj, v)
	                                  : cJSON_AddItemToObject(b->obj, rest_key, v))) {
		cJSON_Delete(v);
		b->tr->rc = NSGSIM_E_NOMEM;
		return NULL;
	}
	char rest[sizeof b->rest + 64], file[sizeof b->file + 64];
	join(rest, sizeof rest, b->rest, rest_key);
	join(file, sizeof file, b->file, tf_key);
	ns_tf_map_add(b->tr, rest, file);
	return v;
}

cJSON *ns_tf_unknown(ns_tf_blk *b, const char *tf_key, const char *why)
{
	char origin[600];
	if (why)
		snprintf(origin, sizeof origin, "%s", why);
	else
		snprintf(origin, sizeof origin, "%s's %s, known only after apply",
		         b->tr->in->address, tf_key);
	return ns_arm_unknown(origin);
}

static bool is_unknown(const ns_tf_blk *b, const char *tf_key)
{
	const cJSON *u = cJSON_GetObjectItem(b->unk, tf_key);
	if (cJSON_IsTrue(u))
		return true;
	const cJSON *e, *list = cJSON_IsArray(u) ? u : NULL;
	cJSON_ArrayForEach(e, list) if (cJSON_IsTrue(e)) return true;
	return false;
}

/* ---- attributes ------------------------------------------------------------------ */

static int string_of(ns_tf_blk *b, const char *tf_key, bool want_id, const char **out,
                     const char **why)
{
	int rc = ns_tf_string(b->tr->d, b->tr->in, b->vals, b->unk, b->expr, tf_key, want_id, out,
	                      why);
	if (rc != 0)
		b->tr->rc = rc;
	return rc;
}

void ns_tf_put_str(ns_tf_blk *b, const char *tf_key, const char *rest_key)
{
	const char *s, *why;
	if (string_of(b, tf_key, false, &s, &why) != 0)
		return;
	if (s)
		ns_tf_put(b, rest_key, tf_key, cJSON_CreateString(s));
	else if (why)
		ns_tf_put(b, rest_key, tf_key, ns_tf_unknown(b, tf_key, why));
}

void ns_tf_put_num(ns_tf_blk *b, const char *tf_key, const char *rest_key)
{
	const cJSON *v = cJSON_GetObjectItem(b->vals, tf_key);
	if (v && !cJSON_IsNull(v))
		ns_tf_put(b, rest_key, tf_key, cJSON_Duplicate(v, true));
	else if (is_unknown(b, tf_key))
		ns_tf_put(b, rest_key, tf_key, ns_tf_unknown(b, tf_key, NULL));
}

void ns_tf_put_bool(ns_tf_blk *b, const char *tf_key, const char *rest_key)
{
	ns_tf_put_num(b, tf_key, rest_key);
}

void ns_tf_put_strs(ns_tf_blk *b, const char *tf_key, const char *rest_key)
{
	const cJSON *v = cJSON_GetObjectItem(b->vals, tf_key);
	if (is_unknown(b, tf_key))
		ns_tf_put(b, rest_key, tf_key, ns_tf_unknown(b, tf_key, NULL));
	else if (cJSON_IsArray(v) && cJSON_GetArraySize(v) > 0)
		ns_tf_put(b, rest_key, tf_key, cJSON_Duplicate(v, true));
	else if (v && !cJSON_IsArray(v) && !cJSON_IsNull(v))
		ns_tf_put(b, rest_key, tf_key, cJSON_Duplicate(v, true)); /* the reader says what */
}

void ns_tf_put_ref(ns_tf_blk *b, const char *tf_key, const char *rest_key)
{
	const char *s, *why;
	if (string_of(b, tf_key, true, &s, &why) != 0 || (!s && !why))
		return;
	cJSON *ref = ns_tf_put(b, rest_key, tf_key, cJSON_CreateObject());
	if (!ref)
		return;
	ns_tf_blk rb;
	ns_tf_blk_child(&rb, b, ref, rest_key, b->vals, b->unk, b->expr, NULL);
	ns_tf_put(&rb, "id", NULL, s ? cJSON_CreateString(s) : ns_tf_unknown(b, tf_key, why));
	/* "/subnet/id" names the attribute itself (subnet_id) */
	char rest[sizeof b->rest + 64], file[sizeof b->file + 64];
	snprintf(rest, sizeof rest, "%s/%s", rb.rest, "id");
	snprintf(file, sizeof file, "%s/%s", b->file, tf_key);
	ns_tf_map_add(b->tr, rest, file);
	snprintf(rest, sizeof rest, "%s", rb.rest);
	ns_tf_map_add(b->tr, rest, file);
}

void ns_tf_put_id(ns_tf_blk *b, const char *tf_key, const char *rest_key)
{
	const char *s, *why;
	if (string_of(b, tf_key, true, &s, &why) != 0 || (!s && !why))
		return;
	ns_tf_put(b, rest_key, tf_key, s ? cJSON_CreateString(s) : ns_tf_unknown(b, tf_key, why));
}

/* The id (or attribute) a target stands for. */
static const char *target_value(ns_tf_doc *d, const ns_tf_target *t)
{
	if (!t->attr[0] || strcmp(t->attr, "id") == 0)
		return ns_tf_id(d, (ns_tf_inst *)t->inst);
	const cJSON *v = ns_tf_attr(t->inst, t->attr);
	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

static int ids_from_refs(ns_tf_blk *b, const char *tf_key, cJSON *arr, const char **why)
{
	ns_tf_doc *d = b->tr->d;
	ns_tf_target *t = malloc(NS_TF_MAX_TARGETS * sizeof *t);
	if (!t)
		return NSGSIM_E_NOMEM;
	size_t n;
	int rc = ns_tf_resolve(d, b->tr->in, cJSON_GetObjectItem(b->expr, tf_key), true, t,
	                       NS_TF_MAX_TARGETS, &n, why);
	for (size_t i = 0; rc == 0 && i < n && !*why; i++) {
		const char *s = target_value(d, &t[i]);
		if (!s)
			*why = t[i].inst->id_why ? t[i].inst->id_why
			                         : ns_tf_printf(d, "%s.%s, known only after apply",
			                                        t[i].inst->address, t[i].attr);
		else if (!cJSON_AddItemToArray(arr, cJSON_CreateString(s)))
			rc = NSGSIM_E_NOMEM;
	}
	free(t);
	return rc;
}

int ns_tf_ids(ns_tf_blk *b, const char *tf_key, cJSON **out, const char **why)
{
	*out = NULL;
	*why = NULL;
	const cJSON *v = cJSON_GetObjectItem(b->vals, tf_key);
	bool unknown = is_unknown(b, tf_key);
	if (!unknown && (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0))
		return 0;
	cJSON *arr = cJSON_CreateArray();
	if (!arr)
		return NSGSIM_E_NOMEM;
	int rc = 0;
	if (!unknown) {
		const cJSON *e;
		cJSON_ArrayForEach(
		        e, v) if (cJSON_IsString(e) && e->valuestring[0] &&
		                  !cJSON_AddItemToArray(arr, cJSON_CreateString(e->valuestring)))
		        rc = NSGSIM_E_NOMEM;
	} else {
		rc = ids_from_refs(b, tf_key, arr, why);
	}
	if (rc != 0 || *why || cJSON_GetArraySize(arr) == 0) {
		cJSON_Delete(arr);
		return rc;
	}
	*out = arr;
	return 0;
}

void ns_tf_put_id_objects(ns_tf_blk *b, const char *tf_key, const char *rest_key,
                          const char *member)
{
	cJSON *ids;
	const char *why;
	int rc = ns_tf_ids(b, tf_key, &ids, &why);
	if (rc != 0) {
		b->tr->rc = rc;
		return;
	}
	if (!ids) {
		if (why)
			ns_tf_put(b, rest_key, tf_key, ns_tf_unknown(b, tf_key, why));
		return;
	}
	cJSON *arr = ns_tf_put(b, rest_key, tf_key, cJSON_CreateArray());
	const cJSON *e, *list = arr ? ids : NULL;
	cJSON_ArrayForEach(e, list)
	{
		cJSON *ref = cJSON_CreateObject();
		if (!ref || !cJSON_AddStringToObject(ref, member, e->valuestring) ||
		    !cJSON_AddItemToArray(arr, ref)) {
			cJSON_Delete(ref);
			b->tr->rc = NSGSIM_E_NOMEM;
			break;
		}
	}
	cJSON_Delete(ids);
}

void ns_tf_put_refs(ns_tf_blk *b, const char *tf_key, const char *rest_key)
{
	ns_tf_put_id_objects(b, tf_key, rest_key, "id");
}
