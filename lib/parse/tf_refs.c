/* What a plan does not know yet, recovered from its configuration: the
 * id of a subnet to be created is absent from the association that uses it
 * ("known after apply", after_unknown), but the association's
 * configuration says `subnet_id = azurerm_subnet.hub.id` ("references"),
 * and the subnet's id is built the way Azure builds it.  References are
 * followed through module calls (var.x is the call's expression in the
 * parent), module outputs (module.m.out is the output's expression in the
 * child) and count/for_each (each.key, count.index: the instance with the
 * same index).  Format: https://developer.hashicorp.com/terraform/internals/
 * json-format ("Expression Representation": references). */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/tf.h"

/* ---- addresses ------------------------------------------------------------------ */

/* Skips "[...]" at p (quotes and all); returns the end. */
static const char *skip_index(const char *p)
{
	if (*p != '[')
		return p;
	for (p++; *p && *p != ']'; p++)
		if (*p == '"')
			for (p++; *p && *p != '"'; p++)
				if (*p == '\\' && p[1])
					p++;
	return *p ? p + 1 : p;
}

const cJSON *ns_tf_config_module(const cJSON *root_cfg, const char *module)
{
	const cJSON *mod = root_cfg;
	const char *p = module;
	while (mod && *p) {
		if (strncmp(p, "module.", 7) != 0)
			return NULL;
		p += 7;
		size_t len = strcspn(p, ".[");
		char name[256];
		if (len >= sizeof name)
			return NULL;
		memcpy(name, p, len);
		name[len] = '\0';
		p = skip_index(p + len);
		if (*p == '.')
			p++;
		const cJSON *call =
		        cJSON_GetObjectItem(cJSON_GetObjectItem(mod, "module_calls"), name);
		mod = cJSON_GetObjectItem(call, "module");
	}
	return mod;
}

/* A reference split: head.name[index].rest (rest may be empty). */
typedef struct ref_parts {
	char head[128], name[128], index[128], rest[128];
	bool has_index;
} ref_parts;

static bool copy_part(char *dst, size_t cap, const char *s, size_t len)
{
	if (len >= cap)
		return false;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return true;
}

static bool split_ref(const char *r, ref_parts *p)
{
	memset(p, 0, sizeof *p);
	size_t len = strcspn(r, ".[");
	if (!copy_part(p->head, sizeof p->head, r, len) || r[len] != '.')
		return false;
	r += len + 1;
	len = strcspn(r, ".[");
	if (!copy_part(p->name, sizeof p->name, r, len))
		return false;
	r += len;
	if (*r == '[') {
		const char *end = skip_index(r);
		if (end - r < 2 ||
		    !copy_part(p->index, sizeof p->index, r + 1, (size_t)(end - r - 2)))
			return false;
		p->has_index = true;
		r = end;
	}
	if (*r == '.')
		r++;
	return copy_part(p->rest, sizeof p->rest, r, strlen(r));
}

/* The module instance above `module`, and the call that made it. */
static void parent_module(const char *module, char *parent, size_t cap, char *call, size_t call_cap,
                          const char **index_out)
{
	const char *last = module, *p = module;
	while ((p = strstr(p, "module.")) != NULL) {
		if (p == module || p[-1] == '.')
			last = p;
		p += 7;
	}
	size_t plen = last > module ? (size_t)(last - module - 1) : 0;
	copy_part(parent, cap, module, plen < cap ? plen : 0);
	const char *name = last + 7;
	size_t nlen = strcspn(name, ".[");
	if (!copy_part(call, call_cap, name, nlen))
		call[0] = '\0';
	*index_out = name[nlen] == '[' ? name + nlen : NULL;
}

/* ---- resolving -------------------------------------------------------------------- */

typedef struct ref_ctx {
	ns_tf_doc *d;
	bool many;
	ns_tf_target *out;
	size_t cap, n;
	const char *why;
} ref_ctx;

static void set_why(ref_ctx *r, const char *fmt, const char *a, const char *b)
{
	if (!r->why)
		r->why = ns_tf_printf(r->d, fmt, a, b ? b : "");
}

static int push_target(ref_ctx *r, const ns_tf_inst *in, const char *attr)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->out[i].inst == in)
			return 0;
	if (r->n == r->cap)
		return ns_pfail(r->d->c, NSGSIM_E_LIMIT,
		                "a reference names more than %d resource instances",
		                NS_TF_MAX_TARGETS);
	r->out[r->n].inst = in;
	copy_part(r->out[r->n].attr, sizeof r->out[r->n].attr, attr,
	          strlen(attr) < sizeof r->out[r->n].attr ? strlen(attr) : 0);
	r->n++;
	return 0;
}

static const ns_tf_inst *first_instance(ns_tf_doc *d, const char *module, const char *type,
                                        const char *name)
{
	char key[600];
	snprintf(key, sizeof key, "%s\x1f%s.%s", module, type, name);
	size_t first = (size_t)ns_map_get(&d->by_resource, key);
	return first ? &d->insts[first - 1] : NULL;
}

static const ns_tf_inst *next_instance(ns_tf_doc *d, const ns_tf_inst *in)
{
	return in->next ? &d->insts[in->next - 1] : NULL;
}

/* The instances of type.name in module: the one with the index the
 * reference gives, else the only one, else the one with the index of
 * the instance that refers (each.key, count.index), else (a list) all. */
static int add_resource(ref_ctx *r, const char *module, const ref_parts *p, const char *own_index)
{
	const ns_tf_inst *first = first_instance(r->d, module, p->head, p->name);
	char what[300];
	snprintf(what, sizeof what, "%s%s%s.%s", module, *module ? "." : "", p->head, p->name);
	if (!first) {
		set_why(r, "%s, which the plan does not hold", what, NULL);
		return 0;
	}
	const char *want = p->has_index ? p->index : NULL;
	if (!want && !next_instance(r->d, first))
		return push_target(r, first, p->rest);
	if (!want && own_index)
		want = own_index;
	for (const ns_tf_inst *in = first; in; in = next_instance(r->d, in)) {
		if (want ? in->index && strcmp(in->index, want) == 0 : r->many) {
			int rc = push_target(r, in, p->rest);
			if (rc != 0 || want)
				return rc;
		}
	}
	if (want)
		set_why(r, "%s[%s], which the plan does not hold", what, want);
	else if (!r->many)
		set_why(r, "%s, which has several instances%s", what,
		        " (the configuration does not say which)");
	return 0;
}

static int resolve_in(ref_ctx *r, const char *module, const cJSON *cfg_module,
                      const char *own_index, const cJSON *cfg_res, const cJSON *expr,
                      const char *attr, int hops);

/* var.x in a module: the module call's expression for x, in the parent. */
static int follow_var(ref_ctx *r, const char *module, const ref_parts *p, int hops)
{
	if (!*module) {
		set_why(r, "var.%s, a root variable%s", p->name,
		        " whose value the plan does not show");
		return 0;
	}
	char parent[512], call[128];
	const char *idx;
	parent_module(module, parent, sizeof parent, call, sizeof call, &idx);
	char own[128] = "";
	if (idx) {
		const char *end = skip_index(idx);
		copy_part(own, sizeof own, idx + 1, end - idx >= 2 ? (size_t)(end - idx - 2) : 0);
	}
	const cJSON *cfg_parent = ns_tf_config_module(r->d->config_root, parent);
	const cJSON *e = cJSON_GetObjectItem(
	        cJSON_GetObjectItem(
	                cJSON_GetObjectItem(cJSON_GetObjectItem(cfg_parent, "module_calls"), call),
	                "expressions"),
	        p->name);
	if (!e) {
		set_why(r, "var.%s of module %s, which its call does not set", p->name, module);
		return 0;
	}
	return resolve_in(r, parent, cfg_parent, *own ? own : NULL, NULL, e, NULL, hops + 1);
}

/* module.m.out: the output's expression, in the child module instance. */
static int follow_output(ref_ctx *r, const char *module, const cJSON *cfg_module,
                         const ref_parts *p, const char *own_index, int hops)
{
	char child[600];
	snprintf(child, sizeof child, "%s%smodule.%s", module, *module ? "." : "", p->name);
	if (p->has_index) {
		size_t len = strlen(child);
		snprintf(child + len, sizeof child - len, "[%s]", p->index);
	} else {
		/* an instance of a module with count or for_each: the only one, or
		 * the one with the referring instance's index */
		size_t clen = strlen(child);
		const char *found = NULL;
		for (size_t i = 0; i < r->d->n; i++) {
			const char *m = r->d->insts[i].module;
			if (strncmp(m, child, clen) == 0 && m[clen] == '[') {
				const char *end = skip_index(m + clen);
				char idx[128];
				copy_part(idx, sizeof idx, m + clen + 1,
				          end - (m + clen) >= 2 ? (size_t)(end - m - clen - 2) : 0);
				if (own_index && strcmp(idx, own_index) == 0) {
					found = m;
					break;
				}
				if (found && strncmp(found, m, (size_t)(end - m)) != 0) {
					set_why(r, "module.%s, which has several instances%s",
					        p->name, " (the configuration does not say which)");
					return 0;
				}
				found = m;
			}
		}
		if (found) {
			size_t end = (size_t)(skip_index(found + clen) - found);
			copy_part(child, sizeof child, found, end);
		}
	}
	const char *out_name = p->rest;
	char first[128];
	size_t len = strcspn(out_name, ".[");
	copy_part(first, sizeof first, out_name, len < sizeof first ? len : 0);
	const cJSON *cfg_child = cJSON_GetObjectItem(
	        cJSON_GetObjectItem(cJSON_GetObjectItem(cfg_module, "module_calls"), p->name),
	        "module");
	const cJSON *e = cJSON_GetObjectItem(
	        cJSON_GetObjectItem(cJSON_GetObjectItem(cfg_child, "outputs"), first),
	        "expression");
	if (!e) {
		set_why(r, "module.%s.%s, an output the configuration does not show", p->name,
		        first);
		return 0;
	}
	return resolve_in(r, child, cfg_child, NULL, NULL, e, NULL, hops + 1);
}

static bool is_index_hint(const char *ref)
{
	return strncmp(ref, "each.key", 8) == 0 || strncmp(ref, "count.index", 11) == 0 ||
	       strncmp(ref, "each.value", 10) == 0;
}

static int resolve_one(ref_ctx *r, const char *ref, const char *module, const cJSON *cfg_module,
                       const char *own_index, const cJSON *cfg_res, const char *attr, int hops)
{
	ref_parts p;
	if (!split_ref(ref, &p)) {
		set_why(r, "%s%s, which nsgsim cannot follow", ref, NULL);
		return 0;
	}
	if (attr && !p.rest[0]) /* each.value.id: the attribute the loop's item was taken at */
		copy_part(p.rest, sizeof p.rest, attr,
		          strlen(attr) < sizeof p.rest ? strlen(attr) : 0);
	if (strcmp(p.head, "var") == 0)
		return follow_var(r, module, &p, hops);
	if (strcmp(p.head, "module") == 0)
		return follow_output(r, module, cfg_module, &p, own_index, hops);
	if (strcmp(p.head, "each") == 0 && strcmp(p.name, "value") == 0) {
		const cJSON *fe = cJSON_GetObjectItem(cfg_res, "for_each_expression");
		if (fe)
			return resolve_in(r, module, cfg_module, own_index, NULL, fe, p.rest,
			                  hops + 1);
		return 0;
	}
	if (strcmp(p.head, "local") == 0) {
		set_why(r, "local.%s (the plan does not show the values of locals)%s", p.name,
		        NULL);
		return 0;
	}
	if (strcmp(p.head, "data") == 0 || strcmp(p.head, "each") == 0 ||
	    strcmp(p.head, "count") == 0 || strcmp(p.head, "path") == 0 ||
	    strcmp(p.head, "terraform") == 0 || strcmp(p.head, "self") == 0) {
		if (strcmp(p.head, "data") == 0)
			set_why(r, "%s, a data source%s", ref,
			        " whose value the plan does not show");
		return 0;
	}
	return add_resource(r, module, &p, own_index);
}

static int resolve_in(ref_ctx *r, const char *module, const cJSON *cfg_module,
                      const char *own_index, const cJSON *cfg_res, const cJSON *expr,
                      const char *attr, int hops)
{
	if (hops > NS_TF_MAX_HOPS) {
		set_why(r, "a chain of more than 16 module variables and outputs%s%s", "", NULL);
		return 0;
	}
	const cJSON *refs = cJSON_GetObjectItem(expr, "references");
	bool by_index = attr != NULL; /* for_each over another resource: same keys */
	const cJSON *ref;
	cJSON_ArrayForEach(ref, refs) if (cJSON_IsString(ref) && is_index_hint(ref->valuestring))
	        by_index = true;
	cJSON_ArrayForEach(ref, refs)
	{
		if (!cJSON_IsString(ref))
			continue;
		int rc = resolve_one(r, ref->valuestring, module, cfg_module,
		                     by_index ? own_index : NULL, cfg_res, attr, hops);
		if (rc != 0)
			return rc;
	}
	if (!r->n && !cJSON_GetArraySize(refs))
		set_why(r, "an expression that names no resource%s%s", "", NULL);
	return 0;
}

int ns_tf_resolve(ns_tf_doc *d, const ns_tf_inst *from, const cJSON *expr, bool many,
                  ns_tf_target *out, size_t cap, size_t *n, const char **why)
{
	ref_ctx r = {.d = d, .many = many, .out = out, .cap = cap};
	*n = 0;
	*why = NULL;
	if (!expr) {
		*why = "no configuration (the document has none for this resource)";
		return 0;
	}
	int rc = resolve_in(&r, from->module, from->config_module, from->index, from->config, expr,
	                    NULL, 0);
	if (rc != 0)
		return rc;
	if (!many && r.n > 1) {
		*why = ns_tf_printf(d, "several resources (%s and %s)", r.out[0].inst->address,
		                    r.out[1].inst->address);
		return 0;
	}
	*n = r.n;
	*why = r.n ? NULL : r.why ? r.why : "references the plan does not resolve";
	return 0;
}

/* ---- values ---------------------------------------------------------------------- */

const cJSON *ns_tf_attr(const ns_tf_inst *in, const char *path)
{
	const cJSON *v = in->values;
	const char *p = path;
	while (v && *p) {
		char key[128];
		if (*p == '[') {
			const char *end = skip_index(p);
			if (end - p < 2 ||
			    !copy_part(key, sizeof key, p + 1, (size_t)(end - p - 2)))
				return NULL;
			if (key[0] == '"') {
				key[strlen(key) - 1] = '\0';
				v = cJSON_GetObjectItem(v, key + 1);
			} else {
				v = cJSON_GetArrayItem(v, atoi(key));
			}
			p = end;
		} else {
			size_t len = strcspn(p, ".[");
			if (!copy_part(key, sizeof key, p, len))
				return NULL;
			v = cJSON_IsArray(v) ? cJSON_GetArrayItem(v, atoi(key))
			                     : cJSON_GetObjectItem(v, key);
			p += len;
		}
		if (*p == '.')
			p++;
	}
	return v;
}

const cJSON *ns_tf_config_block(const cJSON *expressions, const char *key, const cJSON *block,
                                size_t k)
{
	const cJSON *blocks = cJSON_GetObjectItem(expressions, key);
	if (!cJSON_IsArray(blocks))
		return NULL;
	const char *name = ns_raw_string(block, "name");
	const cJSON *b;
	cJSON_ArrayForEach(b, blocks)
	{
		const cJSON *cv =
		        cJSON_GetObjectItem(cJSON_GetObjectItem(b, "name"), "constant_value");
		if (name && cJSON_IsString(cv) && strcmp(cv->valuestring, name) == 0)
			return b;
	}
	/* a set is ordered by Terraform, not as written: by position only when
	 * no block names itself */
	cJSON_ArrayForEach(b, blocks) if (cJSON_GetObjectItem(b, "name")) return NULL;
	return cJSON_GetArrayItem(blocks, (int)k);
}

static bool unknown_flag(const cJSON *unk, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItem(unk, key));
}

int ns_tf_string(ns_tf_doc *d, const ns_tf_inst *in, const cJSON *vals, const cJSON *unk,
                 const cJSON *expr, const char *key, bool want_id, const char **out,
                 const char **why)
{
	*out = NULL;
	*why = NULL;
	const cJSON *v = cJSON_GetObjectItem(vals, key);
	if (cJSON_IsString(v) && v->valuestring[0]) {
		*out = v->valuestring;
		return 0;
	}
	if (!unknown_flag(unk, key))
		return 0; /* absent ("" means absent) */
	ns_tf_target t;
	size_t n;
	int rc = ns_tf_resolve(d, in, cJSON_GetObjectItem(expr, key), false, &t, 1, &n, why);
	if (rc != 0 || n == 0)
		return rc;
	if (want_id && (!t.attr[0] || strcmp(t.attr, "id") == 0)) {
		*out = ns_tf_id(d, (ns_tf_inst *)t.inst);
		if (!*out)
			*why = t.inst->id_why;
		return 0;
	}
	const cJSON *tv = ns_tf_attr(t.inst, t.attr[0] ? t.attr : "id");
	if (cJSON_IsString(tv) && tv->valuestring[0])
		*out = tv->valuestring;
	else if (!t.attr[0] || strcmp(t.attr, "id") == 0)
		*out = ns_tf_id(d, (ns_tf_inst *)t.inst);
	/* (a .name that values lack stays unknown: the block label is not the Azure name) */
	if (!*out)
		*why = ns_tf_printf(d, "%s.%s, known only after apply", t.inst->address, t.attr);
	return 0;
}

/* ---- ids ------------------------------------------------------------------------- */

static const char *id_failed(ns_tf_inst *in, const char *why)
{
	in->id_state = 2;
	in->id = NULL;
	in->id_why = why;
	return NULL;
}

static const char *subscription_for(ns_tf_doc *d, ns_tf_inst *in)
{
	if (d->subscription_default && !d->subscription_noted) {
		d->subscription_noted = true;
		if (ns_model_note(d->c->m, NSGSIM_NOTE_WARNING, d->c->file, in->ptr, in->address,
		                  "ids of resources to be created are built with subscription %s "
		                  "(the azurerm provider block sets no subscription_id; give "
		                  "--subscription)",
		                  d->subscription) != 0)
			return NULL;
	}
	return d->subscription;
}

/* /subscriptions/S/resourceGroups/G/providers/Microsoft.Network/virtualNetworks/P/subnets/N */
static const char *group_id(ns_tf_doc *d, ns_tf_inst *in, const ns_tf_kind *k, const char *rg,
                            const char *name)
{
	const char *sub = subscription_for(d, in);
	const char *slash = strrchr(k->rest_type, '/');
	const char *first_slash = strchr(k->rest_type, '/');
	if (!k->parent_name || slash == first_slash)
		return ns_tf_printf(d, "/subscriptions/%s/resourceGroups/%s/providers/%s/%s", sub,
		                    rg, k->rest_type, name);
	const char *why;
	const char *parent;
	if (ns_tf_string(d, in, in->values, in->unknown,
	                 cJSON_GetObjectItem(in->config, "expressions"), k->parent_name, false,
	                 &parent, &why) != 0)
		return NULL;
	if (!parent)
		return id_failed(
		        in, ns_tf_printf(d, "%s is %s", k->parent_name, why ? why : "not set"));
	return ns_tf_printf(d, "/subscriptions/%s/resourceGroups/%s/providers/%.*s/%s%s/%s", sub,
	                    rg, (int)(slash - k->rest_type), k->rest_type, parent, slash, name);
}

/* Azure Policy definitions and assignments live at a scope, not in a
 * resource group: <scope>/providers/Microsoft.Authorization/<type>/<name>,
 * the scope an attribute names, else the deployment's subscription. */
static const char *policy_id(ns_tf_doc *d, ns_tf_inst *in, const ns_tf_kind *k, const char *name)
{
	static const char *const scopes[] = {"management_group_id", "subscription_id",
	                                     "resource_group_id", "resource_id"};
	const cJSON *expr = cJSON_GetObjectItem(in->config, "expressions");
	for (size_t i = 0; i < NS_ARRAY_LEN(scopes); i++) {
		const char *scope, *why;
		if (!cJSON_GetObjectItem(in->values, scopes[i]) &&
		    !cJSON_GetObjectItem(expr, scopes[i]))
			continue;
		if (ns_tf_string(d, in, in->values, in->unknown, expr, scopes[i], true, &scope,
		                 &why) != 0)
			return NULL;
		if (!scope)
			continue;
		return ns_arena_printf(&d->c->m->arena, "%s/providers/%s/%s", scope, k->rest_type,
		                       name);
	}
	const char *sub = subscription_for(d, in);
	return sub ? ns_arena_printf(&d->c->m->arena, "/subscriptions/%s/providers/%s/%s", sub,
	                             k->rest_type, name)
	           : NULL;
}

static const char *build_id(ns_tf_doc *d, ns_tf_inst *in, const ns_tf_kind *k)
{
	const cJSON *expr = cJSON_GetObjectItem(in->config, "expressions");
	const char *name, *why;
	if (ns_tf_string(d, in, in->values, in->unknown, expr, "name", false, &name, &why) != 0)
		return NULL;
	if (!name)
		return id_failed(in, why ? why : "it has no name");
	if (strncmp(k->rest_type, "Microsoft.Authorization/", 24) == 0)
		return policy_id(d, in, k, name);
	if (k->parent_id) {
		const char *parent;
		if (ns_tf_string(d, in, in->values, in->unknown, expr, k->parent_id, true, &parent,
		                 &why) != 0)
			return NULL;
		if (!parent)
			return id_failed(in, ns_tf_printf(d, "%s is %s", k->parent_id,
			                                  why ? why : "not set"));
		const char *seg = strrchr(k->rest_type, '/');
		return ns_tf_printf(d, "%s%s/%s", parent, seg, name);
	}
	const char *rg;
	if (ns_tf_string(d, in, in->values, in->unknown, expr, "resource_group_name", false, &rg,
	                 &why) != 0)
		return NULL;
	if (!rg)
		return id_failed(
		        in, ns_tf_printf(d, "resource_group_name is %s", why ? why : "not set"));
	return group_id(d, in, k, rg, name);
}

const char *ns_tf_id(ns_tf_doc *d, ns_tf_inst *in)
{
	if (in->id_state == 2)
		return in->id;
	if (in->id_state == 1)
		return id_failed(in, "its id depends on itself");
	const char *known = ns_raw_string(in->values, "id");
	if (known && *known) {
		in->id_state = 2;
		return in->id = known;
	}
	const ns_tf_kind *k = ns_tf_kind_of(in->type);
	if (!k || !k->rest_type)
		return id_failed(in, ns_tf_printf(d,
		                                  "%s, whose id is known only "
		                                  "after apply",
		                                  in->address));
	in->id_state = 1;
	const char *id = build_id(d, in, k);
	if (in->id_state == 2) /* failed inside */
		return NULL;
	in->id_state = 2;
	in->id = id;
	if (!id) {
		in->id_why = "out of memory";
		d->nomem = true;
	}
	return id;
}
