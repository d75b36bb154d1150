/* The parse stage for environment JSON: every shape Azure tools print, turned
 * into the flat model of internal.h.  Only the parse stage (lib/load_*.c)
 * includes cJSON; the service-tags download is read without it
 * (lib/json_flat.c, lib/load_tags.c).
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
}

size_t ns_ptr_key(ns_pctx *c, const char *key)
{
	size_t mark = c->len;
	if (c->len + 2 < sizeof c->ptr)
		c->ptr[c->len++] = '/';
	/* RFC 6901: '~' is written ~0 and '/' is written ~1. */
	for (const char *k = key; *k && c->len + 3 < sizeof c->ptr; k++) {
		if (*k == '~' || *k == '/') {
			c->ptr[c->len++] = '~';
			c->ptr[c->len++] = *k == '~' ? '0' : '1';
		} else {
			c->ptr[c->len++] = *k;
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
	ns_loc l = {c->file, ns_arena_strdup(&c->m->arena, c->ptr)};
	return l;
}

int ns_pfail(ns_pctx *c, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return ns_fail(c->err, code, c->file, c->ptr, c->resource, "%s", msg);
}

/* A raw string member, expressions and all (for notes about skipped input). */
static const char *raw_string(const cJSON *res, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(res, key);
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
	const cJSON *props = cJSON_GetObjectItem(res, "properties");
	if (cJSON_IsObject(props)) {
		const cJSON *v = cJSON_GetObjectItem(props, key);
		if (v && !cJSON_IsNull(v)) {
			*mark = ns_ptr_key(c, "properties");
			ns_ptr_key(c, v->string);
			return v;
		}
	}
	const cJSON *v = cJSON_GetObjectItem(res, key);
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
	if (cJSON_IsObject(cJSON_GetObjectItem(res, "properties")))
		ns_ptr_key(c, "properties");
	ns_ptr_key(c, key);
	return mark;
}

/* A string value: checks the type and refuses template expressions.
 * Returns 0 with *out set (arena copy), or a negative code. */
int ns_json_string(ns_pctx *c, const cJSON *v, const char **out)
{
	if (!cJSON_IsString(v))
		return ns_pfail(c, NSGSIM_E_SHAPE, "expected a string");
	if (ns_is_expression(v->valuestring))
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
static int opt_ref(ns_pctx *c, const cJSON *res, const char *key, const char **out, ns_loc *loc)
{
	size_t mark;
	*out = NULL;
	const cJSON *v = ns_prop(c, res, key, &mark);
	if (!v)
		return 0;
	int rc;
	if (cJSON_IsString(v)) { /* already an id (seen in some exports) */
		rc = ns_json_string(c, v, out);
	} else if (cJSON_IsObject(v)) {
		const cJSON *id = cJSON_GetObjectItem(v, "id");
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
static int opt_ref_array(ns_pctx *c, const cJSON *res, const char *key, const char ***ids,
                         ns_loc **locs, size_t *n)
{
	size_t mark;
	*ids = NULL;
	*locs = NULL;
	*n = 0;
	const cJSON *arr = ns_prop(c, res, key, &mark);
	if (!arr)
		return 0;
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
		const cJSON *id = cJSON_IsObject(item) ? cJSON_GetObjectItem(item, "id") : item;
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
static const char *synth_id(ns_pctx *c, const char *type, const char *name)
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
	if (b.failed)
		goto fail;
	const char *id = ns_arena_strdup(&c->m->arena, b.data);
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
	if (!*id && *name && parent_id && segment)
		*id = ns_arena_printf(&c->m->arena, "%s/%s/%s", parent_id, segment, *name);
	else if (!*id && *name && type)
		*id = synth_id(c, type, *name);
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

/* ---- NSG rules -------------------------------------------------------------- */

static int parse_enum(ns_pctx *c, const cJSON *res, const char *key, const char *const *names,
                      const int *values, size_t n, int code, const char *expected, int *out)
{
	const char *s;
	int rc = ns_req_string(c, res, key, &s);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (ns_ieq(s, names[i])) {
			*out = values[i];
			return 0;
		}
	}
	size_t mark;
	ns_prop(c, res, key, &mark);
	rc = ns_pfail(c, code, "'%s' is not a valid %s (expected %s)", s, key, expected);
	ns_ptr_pop(c, mark);
	return rc;
}

/* Protocol enums: NSG "Tcp, Udp, Icmp, Esp, *, Ah"; admin "Tcp, Udp, Icmp,
 * Esp, Any, Ah" (SPEC networkSecurityGroup.json and
 * networkManagerSecurityAdminConfiguration.json; SEMANTICS.md T1). */
int ns_parse_protocol(ns_pctx *c, const cJSON *res, int *out)
{
	static const char *const names[] = {"Tcp", "Udp", "Icmp", "Esp", "Ah", "*", "Any"};
	static const int values[] = {NS_PROTO_TCP, NS_PROTO_UDP, NS_PROTO_ICMP, NS_PROTO_ESP,
	                             NS_PROTO_AH,  NS_PROTO_ANY, NS_PROTO_ANY};
	return parse_enum(c, res, "protocol", names, values, NS_ARRAY_LEN(names),
	                  NSGSIM_E_BAD_PROTOCOL, "Tcp, Udp, Icmp, Esp, Ah, '*' or Any", out);
}

int ns_parse_direction(ns_pctx *c, const cJSON *res, int *out)
{
	static const char *const names[] = {"Inbound", "Outbound"};
	static const int values[] = {NS_DIR_INBOUND, NS_DIR_OUTBOUND};
	return parse_enum(c, res, "direction", names, values, 2, NSGSIM_E_BAD_DIRECTION,
	                  "Inbound or Outbound", out);
}

int ns_parse_access(ns_pctx *c, const cJSON *res, bool admin, int *out)
{
	static const char *const names[] = {"Allow", "Deny", "AlwaysAllow"};
	static const int values[] = {NS_ACCESS_ALLOW, NS_ACCESS_DENY, NS_ACCESS_ALWAYS_ALLOW};
	return parse_enum(c, res, "access", names, values, admin ? 3 : 2, NSGSIM_E_BAD_ACCESS,
	                  admin ? "Allow, Deny or AlwaysAllow" : "Allow or Deny", out);
}

int ns_parse_priority(ns_pctx *c, const cJSON *res, int lo, int hi, bool check, int *out)
{
	size_t mark;
	const cJSON *v = ns_prop(c, res, "priority", &mark);
	if (!v) {
		mark = ns_ptr_prop(c, res, "priority");
		int rc = ns_pfail(c, NSGSIM_E_MISSING_FIELD, "missing required field 'priority'");
		ns_ptr_pop(c, mark);
		return rc;
	}
	if (cJSON_IsString(v) && ns_is_expression(v->valuestring))
		return ns_pfail(c, NSGSIM_E_UNEVALUATED,
		                "'%s' is an unevaluated ARM template expression", v->valuestring);
	if (!cJSON_IsNumber(v))
		return ns_pfail(c, NSGSIM_E_SHAPE, "priority must be an integer");
	/* Range first: casting an out-of-range double is undefined behaviour. */
	if (v->valuedouble < (check ? lo : 0) || v->valuedouble > (check ? hi : 65535))
		return ns_pfail(c, NSGSIM_E_PRIORITY_RANGE, "priority %g is outside %d-%d",
		                v->valuedouble, check ? lo : 0, check ? hi : 65535);
	if (v->valuedouble != (double)(int)v->valuedouble)
		return ns_pfail(c, NSGSIM_E_SHAPE, "priority must be an integer");
	if (check && (v->valuedouble < lo || v->valuedouble > hi))
		return ns_pfail(c, NSGSIM_E_PRIORITY_RANGE, "priority %.0f is outside %d-%d",
		                v->valuedouble, lo, hi);
	*out = (int)v->valuedouble;
	ns_ptr_pop(c, mark);
	return 0;
}

/* One address as written in an NSG rule's singular or plural field. */
static int parse_nsg_addr(ns_pctx *c, const char *text, bool plural, ns_addr *a)
{
	a->text = text;
	a->loc = ns_loc_here(c);
	if (strcmp(text, "*") == 0 || ns_looks_like_tag(text)) {
		/* SEMANTICS.md §1.3 / T9: tags and '*' only go in the singular
		 * field; the API answers SecurityRuleParameterContainsUnsupportedValue. */
		if (plural)
			return ns_pfail(c, NSGSIM_E_TAG_IN_PREFIXES,
			                "'%s' is not allowed in a plural ...AddressPrefixes array: "
			                "service tags and '*' only go in the singular field",
			                text);
		a->kind = strcmp(text, "*") == 0 ? NS_ADDR_ANY : NS_ADDR_TAG;
		return 0;
	}
	a->kind = NS_ADDR_CIDR;
	return ns_parse_prefix(text, &a->family, &a->addr, &a->plen, &a->loc, c->resource, c->err);
}

/* sourceAddressPrefix / sourceAddressPrefixes / sourceApplicationSecurityGroups:
 * exactly one, non-empty (SEMANTICS.md §1.3; the API's error "must specify a
 * non empty value for exactly one of ..."). */
static int parse_nsg_side_addrs(ns_pctx *c, const cJSON *res, const char *which, ns_side *side)
{
	char k_prefix[64], k_prefixes[64], k_asgs[64];
	snprintf(k_prefix, sizeof k_prefix, "%sAddressPrefix", which);
	snprintf(k_prefixes, sizeof k_prefixes, "%sAddressPrefixes", which);
	snprintf(k_asgs, sizeof k_asgs, "%sApplicationSecurityGroups", which);

	const char *single;
	const char **plural;
	ns_loc *plural_locs;
	size_t n_plural;
	int rc = ns_opt_string(c, res, k_prefix, &single);
	if (rc == 0)
		rc = ns_opt_string_array(c, res, k_prefixes, &plural, &plural_locs, &n_plural,
		                         NULL);
	if (rc == 0)
		rc = opt_ref_array(c, res, k_asgs, &side->asg_ids, &side->asg_locs, &side->n_asgs);
	if (rc != 0)
		return rc;
	bool has_single = single && single[0];
	int forms = (has_single ? 1 : 0) + (n_plural ? 1 : 0) + (side->n_asgs ? 1 : 0);
	if (forms != 1) {
		size_t mark = ns_ptr_prop(c, res, k_prefix);
		rc = ns_pfail(c, NSGSIM_E_ADDRESS_SIDE,
		              "%s a non-empty value for exactly one of %s, %s, %s",
		              forms ? "found more than one; specify" : "specify", k_prefix,
		              k_prefixes, k_asgs);
		ns_ptr_pop(c, mark);
		return rc;
	}
	if (side->n_asgs) {
		side->form = NS_FORM_ASGS;
		return 0;
	}
	side->form = has_single ? NS_FORM_PREFIX : NS_FORM_PREFIXES;
	size_t n = has_single ? 1 : n_plural;
	if ((rc = ns_count_addresses(c, res, k_prefixes, n)) != 0)
		return rc;
	side->addrs = ns_arena_alloc(&c->m->arena, n * sizeof *side->addrs);
	if (!side->addrs)
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	side->n_addrs = n;
	for (size_t i = 0; i < n; i++) {
		size_t mark;
		if (has_single) {
			ns_prop(c, res, k_prefix, &mark);
		} else {
			ns_prop(c, res, k_prefixes, &mark);
			ns_ptr_index(c, i);
		}
		rc = parse_nsg_addr(c, has_single ? single : plural[i], !has_single,
		                    &side->addrs[i]);
		if (rc != 0)
			return rc;
		ns_ptr_pop(c, mark);
	}
	return 0;
}

/* Port ranges: singular or plural, exactly one non-empty. */
static int parse_nsg_ports(ns_pctx *c, const cJSON *res, const char *which, ns_side *side)
{
	char k_one[64], k_many[64];
	snprintf(k_one, sizeof k_one, "%sPortRange", which);
	snprintf(k_many, sizeof k_many, "%sPortRanges", which);
	const char *single;
	const char **plural;
	size_t n_plural;
	int rc = ns_opt_string(c, res, k_one, &single);
	if (rc == 0)
		rc = ns_opt_string_array(c, res, k_many, &plural, NULL, &n_plural, NULL);
	if (rc != 0)
		return rc;
	bool has_single = single && single[0];
	if (has_single == (n_plural > 0)) {
		size_t mark = ns_ptr_prop(c, res, k_one);
		rc = ns_pfail(c, has_single ? NSGSIM_E_BAD_PORT : NSGSIM_E_MISSING_FIELD,
		              "specify exactly one of %s or a non-empty %s", k_one, k_many);
		ns_ptr_pop(c, mark);
		return rc;
	}
	size_t n = has_single ? 1 : n_plural;
	side->ports = ns_arena_alloc(&c->m->arena, n * sizeof *side->ports);
	if (!side->ports)
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	side->n_ports = n;
	for (size_t i = 0; i < n; i++) {
		size_t mark;
		ns_prop(c, res, has_single ? k_one : k_many, &mark);
		if (!has_single)
			ns_ptr_index(c, i);
		ns_loc loc = {c->file, c->ptr};
		rc = ns_parse_port_range(has_single ? single : plural[i], &side->ports[i], &loc,
		                         c->resource, c->err);
		if (rc != 0)
			return rc;
		ns_ptr_pop(c, mark);
	}
	return 0;
}

int ns_parse_nsg_rule(ns_pctx *c, const cJSON *res, const char *nsg_id, bool is_default,
                      const char *type)
{
	const char *saved_resource = c->resource;
	ns_rule r = {0};
	r.is_default = is_default;
	r.loc = ns_loc_here(c);
	int rc = ns_resource_identity(c, res, type, nsg_id,
	                              is_default ? "defaultSecurityRules" : "securityRules", &r.id,
	                              &r.name);
	if (rc != 0)
		return rc;
	r.parent_id = nsg_id ? nsg_id : ns_parent_id(c, r.id);
	if (!r.parent_id)
		return ns_pfail(c, NSGSIM_E_SHAPE, "cannot tell which NSG rule '%s' belongs to",
		                r.id);
	/* SPEC networkSecurityGroup.json: protocol, access, priority and
	 * direction are required; priority 100-4096 (SEMANTICS.md §1.1, T1). */
	if ((rc = ns_parse_protocol(c, res, &r.protocol)) != 0 ||
	    (rc = ns_parse_access(c, res, false, &r.access)) != 0 ||
	    (rc = ns_parse_priority(c, res, 100, 4096, !is_default, &r.priority)) != 0 ||
	    (rc = ns_parse_direction(c, res, &r.direction)) != 0 ||
	    (rc = parse_nsg_side_addrs(c, res, "source", &r.src)) != 0 ||
	    (rc = parse_nsg_side_addrs(c, res, "destination", &r.dst)) != 0 ||
	    (rc = parse_nsg_ports(c, res, "source", &r.src)) != 0 ||
	    (rc = parse_nsg_ports(c, res, "destination", &r.dst)) != 0)
		return rc;
	ns_rule *slot = ns_vec_push(&c->m->rules);
	if (!slot)
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	*slot = r;
	c->resource = saved_resource;
	return 0;
}

/* Children nested in an array property of their parent. */
typedef int (*child_fn)(ns_pctx *c, const cJSON *child, const char *parent_id);

static int each_child(ns_pctx *c, const cJSON *res, const char *key, const char *parent_id,
                      child_fn fn)
{
	size_t mark;
	const cJSON *arr = ns_prop(c, res, key, &mark);
	if (!arr)
		return 0;
	if (!cJSON_IsArray(arr))
		return ns_pfail(c, NSGSIM_E_SHAPE, "expected '%s' to be an array", key);
	size_t i = 0;
	const cJSON *item;
	const char *saved = c->resource;
	cJSON_ArrayForEach(item, arr)
	{
		size_t m2 = ns_ptr_index(c, i++);
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

static int nested_rule(ns_pctx *c, const cJSON *child, const char *nsg_id)
{
	return ns_parse_nsg_rule(c, child, nsg_id, false, NULL);
}

/* defaultSecurityRules are read-only in the API (SPEC networkSecurityGroup.json):
 * every NSG has Azure's six, whatever a template or export lists.  nsgsim
 * always uses Azure's six and says so when the input lists others. */
static int check_default_rules(ns_pctx *c, const cJSON *res)
{
	static const char *const names[] = {
	        "AllowVnetInBound",  "AllowAzureLoadBalancerInBound", "DenyAllInBound",
	        "AllowVnetOutBound", "AllowInternetOutBound",         "DenyAllOutBound"};
	size_t mark;
	const cJSON *defaults = ns_prop(c, res, "defaultSecurityRules", &mark);
	if (!defaults)
		return 0;
	bool standard = cJSON_IsArray(defaults);
	const cJSON *item;
	cJSON_ArrayForEach(item, defaults)
	{
		const char *name = raw_string(item, "name");
		bool known = false;
		for (size_t i = 0; name && i < NS_ARRAY_LEN(names); i++)
			known = known || ns_ieq(name, names[i]);
		standard = standard && known;
	}
	int rc = 0;
	if (!standard || cJSON_GetArraySize(defaults) != (int)NS_ARRAY_LEN(names))
		rc = ns_model_note(
		        c->m, NSGSIM_NOTE_WARNING, c->file, c->ptr, c->resource,
		        "the input lists defaultSecurityRules other than Azure's six; they "
		        "are read-only in Azure, so Azure's own six defaults are used");
	ns_ptr_pop(c, mark);
	return rc;
}

static int parse_nsg(ns_pctx *c, const cJSON *res, const char *type)
{
	ns_nsg g = {0};
	g.loc = ns_loc_here(c);
	int rc = ns_resource_identity(c, res, type, NULL, NULL, &g.id, &g.name);
	if (rc != 0)
		return rc;
	if ((rc = check_default_rules(c, res)) != 0 ||
	    (rc = each_child(c, res, "securityRules", g.id, nested_rule)) != 0)
		return rc;
	ns_nsg *slot = ns_vec_push(&c->m->nsgs);
	if (!slot)
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	*slot = g;
	return 0;
}

static int standalone_rule(ns_pctx *c, const cJSON *res, const char *type)
{
	return ns_parse_nsg_rule(c, res, NULL, false, type);
}

static int standalone_default_rule(ns_pctx *c, const cJSON *res, const char *type)
{
	(void)type;
	const char *id = raw_string(res, "id");
	return ns_model_note(c->m, NSGSIM_NOTE_SKIPPED, c->file, c->ptr,
	                     id ? id : raw_string(res, "name"),
	                     "default security rules are read-only; Azure's six are used");
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
		                         c->resource, c->err);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* ---- virtual networks --------------------------------------------------------- */

/* A subnet has addressPrefix, or addressPrefixes (dual stack). */
static int parse_subnet(ns_pctx *c, const cJSON *res, const char *vnet_id, const char *type)
{
	ns_subnet s = {0};
	s.loc = ns_loc_here(c);
	int rc = ns_resource_identity(c, res, type, vnet_id, "subnets", &s.id, &s.name);
	if (rc != 0)
		return rc;
	s.vnet_id = vnet_id ? vnet_id : ns_parent_id(c, s.id);
	const char *single;
	const char **plural;
	ns_loc *plural_locs;
	size_t n_plural;
	if ((rc = ns_opt_string(c, res, "addressPrefix", &single)) != 0 ||
	    (rc = ns_opt_string_array(c, res, "addressPrefixes", &plural, &plural_locs, &n_plural,
	                              NULL)) != 0)
		return rc;
	if (single) {
		size_t mark;
		ns_prop(c, res, "addressPrefix", &mark);
		ns_loc loc = ns_loc_here(c);
		ns_ptr_pop(c, mark);
		rc = ns_parse_prefix_list(c, &single, &loc, 1, &s.prefixes);
		s.n_prefixes = 1;
	} else if (n_plural) {
		rc = ns_parse_prefix_list(c, plural, plural_locs, n_plural, &s.prefixes);
		s.n_prefixes = n_plural;
	} else {
		size_t mark = ns_ptr_prop(c, res, "addressPrefix");
		rc = ns_pfail(c, NSGSIM_E_MISSING_FIELD,
		              "a subnet needs 'addressPrefix' or 'addressPrefixes'");
		ns_ptr_pop(c, mark);
	}
	if (rc != 0)
		return rc;
	if ((rc = opt_ref(c, res, "networkSecurityGroup", &s.nsg_id, &s.nsg_loc)) != 0 ||
	    (rc = opt_ref(c, res, "routeTable", &s.route_table_id, &s.route_table_loc)) != 0)
		return rc;
	/* Delegations name the services in the subnet (SEMANTICS.md §6.4). */
	size_t mark;
	const cJSON *dels = ns_prop(c, res, "delegations", &mark);
	if (cJSON_IsArray(dels)) {
		size_t n = (size_t)cJSON_GetArraySize(dels);
		s.services = ns_arena_alloc(&c->m->arena, (n + 1) * sizeof *s.services);
		if (!s.services)
			return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
		const cJSON *d;
		size_t i = 0;
		cJSON_ArrayForEach(d, dels)
		{
			size_t m2 = ns_ptr_index(c, i++);
			const char *svc = NULL;
			if (cJSON_IsObject(d) &&
			    (rc = ns_opt_string(c, d, "serviceName", &svc)) != 0)
				return rc;
			if (svc)
				s.services[s.n_services++] = svc;
			ns_ptr_pop(c, m2);
		}
	}
	if (dels)
		ns_ptr_pop(c, mark);
	/* An Application Gateway shows up as applicationGatewayIPConfigurations. */
	const cJSON *agw = ns_prop(c, res, "applicationGatewayIPConfigurations", &mark);
	if (agw) {
		if (cJSON_IsArray(agw) && cJSON_GetArraySize(agw) > 0) {
			const char **svcs =
			        ns_arena_alloc(&c->m->arena, (s.n_services + 2) * sizeof *svcs);
			if (!svcs)
				return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
			for (size_t i = 0; i < s.n_services; i++)
				svcs[i] = s.services[i];
			svcs[s.n_services++] = "Microsoft.Network/applicationGateways";
			s.services = svcs;
		}
		ns_ptr_pop(c, mark);
	}
	ns_subnet *slot = ns_vec_push(&c->m->subnets);
	if (!slot)
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	*slot = s;
	return 0;
}

static int parse_peering(ns_pctx *c, const cJSON *res, const char *vnet_id, const char *type)
{
	ns_peering p = {0};
	p.loc = ns_loc_here(c);
	int rc = ns_resource_identity(c, res, type, vnet_id, "virtualNetworkPeerings", &p.id,
	                              &p.name);
	if (rc != 0)
		return rc;
	p.vnet_id = vnet_id ? vnet_id : ns_parent_id(c, p.id);
	if ((rc = opt_ref(c, res, "remoteVirtualNetwork", &p.remote_vnet_id, &p.remote_loc)) != 0)
		return rc;
	if (!p.remote_vnet_id) {
		size_t mark = ns_ptr_prop(c, res, "remoteVirtualNetwork");
		rc = ns_pfail(c, NSGSIM_E_MISSING_FIELD, "a peering needs 'remoteVirtualNetwork'");
		ns_ptr_pop(c, mark);
		return rc;
	}
	const char *state;
	if ((rc = ns_opt_string(c, res, "peeringState", &state)) != 0)
		return rc;
	/* Only a Connected peering carries traffic; an export without the
	 * (read-only) state is taken as connected. */
	p.connected = !state || ns_ieq(state, "Connected");
	size_t mark;
	const cJSON *allow = ns_prop(c, res, "allowVirtualNetworkAccess", &mark);
	p.allow_vnet_access = true; /* the API default */
	if (allow) {
		if (!cJSON_IsBool(allow))
			return ns_pfail(c, NSGSIM_E_SHAPE, "expected true or false");
		p.allow_vnet_access = cJSON_IsTrue(allow);
		ns_ptr_pop(c, mark);
	}
	const cJSON *ras = ns_prop(c, res, "remoteAddressSpace", &mark);
	if (ras) {
		const char **texts;
		ns_loc *locs;
		if ((rc = ns_opt_string_array(c, ras, "addressPrefixes", &texts, &locs,
		                              &p.n_remote_space, NULL)) != 0 ||
		    (rc = ns_parse_prefix_list(c, texts, locs, p.n_remote_space,
		                               &p.remote_space)) != 0)
			return rc;
		ns_ptr_pop(c, mark);
	}
	ns_peering *slot = ns_vec_push(&c->m->peerings);
	if (!slot)
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	*slot = p;
	return 0;
}

static int nested_subnet(ns_pctx *c, const cJSON *child, const char *vnet_id)
{
	return parse_subnet(c, child, vnet_id, NULL);
}

static int nested_peering(ns_pctx *c, const cJSON *child, const char *vnet_id)
{
	return parse_peering(c, child, vnet_id, NULL);
}

static int parse_vnet(ns_pctx *c, const cJSON *res, const char *type)
{
	ns_vnet v = {0};
	v.loc = ns_loc_here(c);
	int rc = ns_resource_identity(c, res, type, NULL, NULL, &v.id, &v.name);
	if (rc != 0)
		return rc;
	size_t mark;
	const cJSON *space = ns_prop(c, res, "addressSpace", &mark);
	if (!space) {
		mark = ns_ptr_prop(c, res, "addressSpace");
		rc = ns_pfail(c, NSGSIM_E_MISSING_FIELD, "a virtual network needs 'addressSpace'");
		ns_ptr_pop(c, mark);
		return rc;
	}
	const char **texts;
	ns_loc *locs;
	if ((rc = ns_opt_string_array(c, space, "addressPrefixes", &texts, &locs, &v.n_space,
	                              NULL)) != 0 ||
	    (rc = ns_parse_prefix_list(c, texts, locs, v.n_space, &v.space)) != 0)
		return rc;
	ns_ptr_pop(c, mark);
	if ((rc = each_child(c, res, "subnets", v.id, nested_subnet)) != 0 ||
	    (rc = each_child(c, res, "virtualNetworkPeerings", v.id, nested_peering)) != 0)
		return rc;
	ns_vnet *slot = ns_vec_push(&c->m->vnets);
	if (!slot)
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	*slot = v;
	return 0;
}

/* ---- NICs, ASGs, route tables ------------------------------------------------ */

static int parse_ipconfig(ns_pctx *c, const cJSON *res, ns_ipconfig *ip)
{
	ip->loc = ns_loc_here(c);
	int rc = ns_opt_string(c, res, "name", &ip->name);
	const char *addr;
	if (rc == 0)
		rc = ns_opt_string(c, res, "privateIPAddress", &addr);
	if (rc != 0)
		return rc;
	if (addr) {
		size_t mark;
		ns_prop(c, res, "privateIPAddress", &mark);
		if (ns_parse_ip(addr, &ip->family, &ip->ip) != 0)
			return ns_pfail(c, NSGSIM_E_BAD_PREFIX,
			                "'%s' is not an IP address (expected e.g. 10.0.0.4)", addr);
		ip->has_ip = true;
		ip->ip_text = addr;
		ns_ptr_pop(c, mark);
	}
	if ((rc = opt_ref(c, res, "subnet", &ip->subnet_id, &ip->subnet_loc)) != 0 ||
	    (rc = opt_ref_array(c, res, "applicationSecurityGroups", &ip->asg_ids, &ip->asg_locs,
	                        &ip->n_asgs)) != 0)
		return rc;
	return 0;
}

static int parse_nic(ns_pctx *c, const cJSON *res, const char *type)
{
	ns_nic n = {0};
	n.loc = ns_loc_here(c);
	int rc = ns_resource_identity(c, res, type, NULL, NULL, &n.id, &n.name);
	if (rc == 0)
		rc = opt_ref(c, res, "networkSecurityGroup", &n.nsg_id, &n.nsg_loc);
	if (rc != 0)
		return rc;
	size_t mark;
	const cJSON *arr = ns_prop(c, res, "ipConfigurations", &mark);
	if (arr) {
		if (!cJSON_IsArray(arr))
			return ns_pfail(c, NSGSIM_E_SHAPE, "expected an array");
		size_t cnt = (size_t)cJSON_GetArraySize(arr);
		n.ipconfigs = ns_arena_alloc(&c->m->arena, (cnt + 1) * sizeof *n.ipconfigs);
		if (!n.ipconfigs)
			return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
		const cJSON *item;
		cJSON_ArrayForEach(item, arr)
		{
			size_t m2 = ns_ptr_index(c, n.n_ipconfigs);
			if (!cJSON_IsObject(item))
				return ns_pfail(c, NSGSIM_E_SHAPE, "expected an object");
			if ((rc = parse_ipconfig(c, item, &n.ipconfigs[n.n_ipconfigs])) != 0)
				return rc;
			n.n_ipconfigs++;
			ns_ptr_pop(c, m2);
		}
		ns_ptr_pop(c, mark);
	}
	ns_nic *slot = ns_vec_push(&c->m->nics);
	if (!slot)
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	*slot = n;
	return 0;
}

static int parse_asg(ns_pctx *c, const cJSON *res, const char *type)
{
	ns_asg a = {0};
	a.loc = ns_loc_here(c);
	int rc = ns_resource_identity(c, res, type, NULL, NULL, &a.id, &a.name);
	if (rc != 0)
		return rc;
	ns_asg *slot = ns_vec_push(&c->m->asgs);
	if (!slot)
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	*slot = a;
	return 0;
}

static int parse_route(ns_pctx *c, const cJSON *res, const char *rt_id, const char *type)
{
	ns_route r = {0};
	r.loc = ns_loc_here(c);
	int rc = ns_resource_identity(c, res, type, rt_id, "routes", &r.id, &r.name);
	if (rc != 0)
		return rc;
	r.route_table_id = rt_id ? rt_id : ns_parent_id(c, r.id);
	const char *prefix;
	if ((rc = ns_req_string(c, res, "addressPrefix", &prefix)) != 0 ||
	    (rc = ns_opt_string(c, res, "nextHopType", &r.next_hop_type)) != 0)
		return rc;
	size_t mark;
	ns_prop(c, res, "addressPrefix", &mark);
	r.prefix.text = prefix;
	r.prefix.loc = ns_loc_here(c);
	/* Routes may name a service tag since 2022 (SEMANTICS.md §4.1). */
	if (ns_looks_like_tag(prefix)) {
		r.prefix.kind = NS_ADDR_TAG;
	} else {
		r.prefix.kind = NS_ADDR_CIDR;
		rc = ns_parse_prefix(prefix, &r.prefix.family, &r.prefix.addr, &r.prefix.plen,
		                     &r.prefix.loc, c->resource, c->err);
		if (rc != 0)
			return rc;
	}
	ns_ptr_pop(c, mark);
	ns_route *slot = ns_vec_push(&c->m->routes);
	if (!slot)
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	*slot = r;
	return 0;
}

static int nested_route(ns_pctx *c, const cJSON *child, const char *rt_id)
{
	return parse_route(c, child, rt_id, NULL);
}

static int standalone_route(ns_pctx *c, const cJSON *res, const char *type)
{
	return parse_route(c, res, NULL, type);
}

static int parse_route_table(ns_pctx *c, const cJSON *res, const char *type)
{
	ns_route_table t = {0};
	t.loc = ns_loc_here(c);
	int rc = ns_resource_identity(c, res, type, NULL, NULL, &t.id, &t.name);
	if (rc == 0)
		rc = each_child(c, res, "routes", t.id, nested_route);
	if (rc != 0)
		return rc;
	ns_route_table *slot = ns_vec_push(&c->m->route_tables);
	if (!slot)
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	*slot = t;
	return 0;
}

static int standalone_subnet(ns_pctx *c, const cJSON *res, const char *type)
{
	return parse_subnet(c, res, NULL, type);
}

static int standalone_peering(ns_pctx *c, const cJSON *res, const char *type)
{
	return parse_peering(c, res, NULL, type);
}

/* ---- dispatch by resource type ------------------------------------------------- */

typedef int (*resource_fn)(ns_pctx *c, const cJSON *res, const char *type);

static const struct {
	const char *type;
	resource_fn fn;
} resource_types[] = {
        {"Microsoft.Network/networkSecurityGroups", parse_nsg},
        {"Microsoft.Network/networkSecurityGroups/securityRules", standalone_rule},
        {"Microsoft.Network/networkSecurityGroups/defaultSecurityRules", standalone_default_rule},
        {"Microsoft.Network/virtualNetworks", parse_vnet},
        {"Microsoft.Network/virtualNetworks/subnets", standalone_subnet},
        {"Microsoft.Network/virtualNetworks/virtualNetworkPeerings", standalone_peering},
        {"Microsoft.Network/networkInterfaces", parse_nic},
        {"Microsoft.Network/applicationSecurityGroups", parse_asg},
        {"Microsoft.Network/routeTables", parse_route_table},
        {"Microsoft.Network/routeTables/routes", standalone_route},
        {"Microsoft.Network/networkManagers", ns_parse_manager},
        {"Microsoft.Network/networkManagers/networkGroups", ns_parse_net_group},
        {"Microsoft.Network/networkManagers/networkGroups/staticMembers", ns_parse_static_member},
        {"Microsoft.Network/networkManagers/securityAdminConfigurations", ns_parse_admin_config},
        {"Microsoft.Network/networkManagers/securityAdminConfigurations/ruleCollections",
         ns_parse_rule_collection},
        {"Microsoft.Network/networkManagers/securityAdminConfigurations/ruleCollections/rules",
         ns_parse_admin_rule},
};

static int parse_resource(ns_pctx *c, const cJSON *res, const char *parent_type,
                          const char *parent_name);

/* ARM templates nest child resources in "resources" with a type and name
 * relative to the parent. */
static int parse_template_children(ns_pctx *c, const cJSON *res, const char *type, const char *name)
{
	const cJSON *kids = cJSON_GetObjectItem(res, "resources");
	if (!kids)
		return 0;
	size_t mark = ns_ptr_key(c, "resources");
	if (!cJSON_IsArray(kids))
		return ns_pfail(c, NSGSIM_E_SHAPE, "expected 'resources' to be an array");
	size_t i = 0;
	const cJSON *kid;
	cJSON_ArrayForEach(kid, kids)
	{
		size_t m2 = ns_ptr_index(c, i++);
		int rc = parse_resource(c, kid, type, name);
		if (rc != 0)
			return rc;
		ns_ptr_pop(c, m2);
	}
	ns_ptr_pop(c, mark);
	return 0;
}

/* Template logic nsgsim does not evaluate: copy loops and conditions.  A
 * resource with "condition": false is not deployed, so it is skipped. */
static int template_logic(ns_pctx *c, const cJSON *res, bool *skip)
{
	*skip = false;
	const cJSON *copy = cJSON_GetObjectItem(res, "copy");
	if (copy) {
		size_t mark = ns_ptr_key(c, "copy");
		const cJSON *count = cJSON_GetObjectItem(copy, "count");
		if (count)
			ns_ptr_key(c, "count");
		char count_text[64] = "?";
		if (cJSON_IsString(count))
			snprintf(count_text, sizeof count_text, "'%.50s'", count->valuestring);
		else if (cJSON_IsNumber(count))
			snprintf(count_text, sizeof count_text, "%.0f", count->valuedouble);
		const char *name = raw_string(res, "name");
		int rc = ns_pfail(
		        c, NSGSIM_E_UNEVALUATED,
		        "a template copy loop (count %s, name '%s'); evaluate the template "
		        "first (e.g. export the deployed resources)",
		        count_text, name ? name : "?");
		ns_ptr_pop(c, mark);
		return rc;
	}
	const cJSON *cond = cJSON_GetObjectItem(res, "condition");
	if (!cond)
		return 0;
	size_t mark = ns_ptr_key(c, "condition");
	const char *s;
	int rc = cJSON_IsString(cond) ? ns_json_string(c, cond, &s) : 0;
	if (rc == 0 && cJSON_IsFalse(cond)) {
		*skip = true;
		rc = ns_model_note(c->m, NSGSIM_NOTE_SKIPPED, c->file, c->ptr,
		                   raw_string(res, "name"),
		                   "resource with condition false skipped");
	}
	if (rc == 0)
		ns_ptr_pop(c, mark);
	return rc;
}

/* ARM template children have a type and name relative to their parent. */
static int parse_template_child(ns_pctx *c, const cJSON *res, const char *parent_type,
                                const char *parent_name, const char *type)
{
	const char *name;
	int rc = ns_req_string(c, res, "name", &name);
	if (rc != 0)
		return rc;
	const char *full_type = ns_arena_printf(&c->m->arena, "%s/%s", parent_type, type);
	const char *full_name = ns_arena_printf(&c->m->arena, "%s/%s", parent_name, name);
	cJSON *dup = cJSON_Duplicate(res, 1);
	cJSON *n = full_name ? cJSON_CreateString(full_name) : NULL;
	cJSON *t = full_type ? cJSON_CreateString(full_type) : NULL;
	if (!dup || !n || !t) {
		cJSON_Delete(dup);
		cJSON_Delete(n);
		cJSON_Delete(t);
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	}
	cJSON_ReplaceItemInObject(dup, "name", n);
	cJSON_ReplaceItemInObject(dup, "type", t);
	rc = parse_resource(c, dup, NULL, NULL);
	cJSON_Delete(dup);
	return rc;
}

static int parse_resource(ns_pctx *c, const cJSON *res, const char *parent_type,
                          const char *parent_name)
{
	c->resource = NULL;
	if (!cJSON_IsObject(res))
		return ns_pfail(c, NSGSIM_E_SHAPE, "expected a resource object");
	const char *type;
	int rc = ns_req_string(c, res, "type", &type);
	if (rc != 0)
		return rc;
	if (parent_type)
		return parse_template_child(c, res, parent_type, parent_name, type);
	if (ns_model_resource_count(c->m) >= c->m->limits[NSGSIM_LIMIT_RESOURCES])
		return ns_pfail(c, NSGSIM_E_LIMIT,
		                "more than %llu resources (NSGSIM_LIMIT_RESOURCES)",
		                (unsigned long long)c->m->limits[NSGSIM_LIMIT_RESOURCES]);
	for (size_t i = 0; i < NS_ARRAY_LEN(resource_types); i++) {
		if (!ns_ieq(type, resource_types[i].type))
			continue;
		bool skip;
		if ((rc = template_logic(c, res, &skip)) != 0 || skip)
			return rc;
		rc = resource_types[i].fn(c, res, resource_types[i].type);
		if (rc == 0 && cJSON_GetObjectItem(res, "resources")) {
			const char *name;
			if ((rc = ns_req_string(c, res, "name", &name)) != 0)
				return rc;
			rc = parse_template_children(c, res, resource_types[i].type, name);
		}
		return rc;
	}
	const char *id = raw_string(res, "id");
	return ns_model_note(c->m, NSGSIM_NOTE_SKIPPED, c->file, c->ptr,
	                     id ? id : raw_string(res, "name"),
	                     "resource type '%s' is not modelled; skipped", type);
}

static int parse_resource_array(ns_pctx *c, const cJSON *arr)
{
	size_t i = 0;
	const cJSON *item;
	cJSON_ArrayForEach(item, arr)
	{
		size_t mark = ns_ptr_index(c, i++);
		int rc = parse_resource(c, item, NULL, NULL);
		if (rc != 0)
			return rc;
		ns_ptr_pop(c, mark);
	}
	return 0;
}

static int parse_document(ns_pctx *c, const cJSON *root)
{
	if (cJSON_IsArray(root))
		return parse_resource_array(c, root);
	if (!cJSON_IsObject(root))
		return ns_pfail(c, NSGSIM_E_SHAPE,
		                "expected a resource, an array, {\"value\": [...]} or "
		                "{\"resources\": [...]}");
	const char *const lists[] = {"value", "resources"};
	for (size_t i = 0; i < NS_ARRAY_LEN(lists); i++) {
		const cJSON *arr = cJSON_GetObjectItem(root, lists[i]);
		if (arr && !cJSON_GetObjectItem(root, "type")) {
			size_t mark = ns_ptr_key(c, lists[i]);
			if (!cJSON_IsArray(arr))
				return ns_pfail(c, NSGSIM_E_SHAPE, "expected an array");
			int rc = parse_resource_array(c, arr);
			ns_ptr_pop(c, mark);
			return rc;
		}
	}
	return parse_resource(c, root, NULL, NULL);
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
                        nsgsim_error *err)
{
	uint64_t depth = 0;
	bool in_string = false;
	for (size_t i = 0; i < len; i++) {
		char ch = text[i];
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

int ns_check_input_size(const ns_model *m, const char *name, size_t len, nsgsim_error *err)
{
	if (len <= m->limits[NSGSIM_LIMIT_FILE_BYTES])
		return 0;
	return ns_fail(err, NSGSIM_E_LIMIT, name, "", "",
	               "the input has %zu bytes; the limit is %llu (NSGSIM_LIMIT_FILE_BYTES)", len,
	               (unsigned long long)m->limits[NSGSIM_LIMIT_FILE_BYTES]);
}

int ns_parse_json_text(ns_model *m, const char *name, const char *text, size_t len, cJSON **out,
                       nsgsim_error *err)
{
	*out = NULL;
	int rc = ns_check_input_size(m, name, len, err);
	if (rc != 0)
		return rc;
	rc = prescan_json(name, text, len, m->limits[NSGSIM_LIMIT_JSON_DEPTH], err);
	if (rc != 0)
		return rc;
	const char *end = NULL;
	errno = 0;
	*out = cJSON_ParseWithLengthOpts(text, len, &end, false);
	/* cJSON reports running out of memory as a parse failure. */
	if (!*out && errno == ENOMEM)
		return ns_fail(err, NSGSIM_E_NOMEM, name, "", "", "out of memory");
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
	rc = fn(&c, root);
	cJSON_Delete(root);
	return rc;
}

int ns_load_env_text(ns_model *m, const char *name, const char *text, size_t len, nsgsim_error *err)
{
	return ns_parse_with(m, name, text, len, parse_document, err);
}
