/* The parse stage for Azure Policy definitions and assignments that fill
 * AVNM network groups (dynamic membership): definitions in mode
 * Microsoft.Network.Data whose then.effect is addToNetworkGroup, and the
 * assignments that give them a scope and parameter values.
 *
 * Sources (SEMANTICS.md §6.1):
 * - concept-azure-policy-integration.md: mode "Microsoft.Network.Data",
 *   effect "addToNetworkGroup" with details.networkGroupId (a full resource
 *   id), "Azure Policy currently only supports the definition of network
 *   group membership for virtual networks", and the assignment's scope
 *   decides which VNets are evaluated.
 * - how-to-exclude-elements.md (how-to-define-network-group-membership-azure-
 *   policy.md): the fields the conditions may test (Name, Id, tags['x'],
 *   subscription and resource group) and the operators (contains,
 *   notContains, in, notIn, equals, notEquals, exists).
 * - governance/policy/concepts/definition-structure-policy-rule.md: allOf,
 *   anyOf, not; like/notLike take one '*' wildcard; conditions compare case-
 *   insensitively.
 *
 * Every shape is read: REST and ARM (fields under "properties"), and
 * `az policy definition list` / `az policy assignment list` (flattened).
 * Definitions of any other mode or effect are skipped with a note. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "parse/load.h"

/* ---- operands ------------------------------------------------------------------ */

/* "[parameters('x')]" (spaces allowed): the parameter's name, else NULL. */
static const char *param_ref(ns_pctx *c, const char *s)
{
	char name[256];
	size_t k = 0;
	const char *p = s;
	while (*p == ' ')
		p++;
	if (*p++ != '[')
		return NULL;
	while (*p == ' ')
		p++;
	if (strncasecmp(p, "parameters(", 11) != 0)
		return NULL;
	p += 11;
	while (*p == ' ')
		p++;
	if (*p++ != '\'')
		return NULL;
	while (*p && *p != '\'' && k + 1 < sizeof name)
		name[k++] = *p++;
	name[k] = '\0';
	if (*p++ != '\'')
		return NULL;
	while (*p == ' ')
		p++;
	if (*p++ != ')')
		return NULL;
	while (*p == ' ')
		p++;
	if (strcmp(p, "]") != 0 || k == 0)
		return NULL;
	return ns_arena_strdup(&c->m->arena, name);
}

/* One scalar as text: a string, a number or a bool. */
static int scalar_text(ns_pctx *c, const cJSON *v, const char **out)
{
	if (cJSON_IsRaw(v))
		return ns_fail_unknown(c, v);
	if (cJSON_IsString(v))
		*out = ns_arena_strdup(&c->m->arena, v->valuestring);
	else if (cJSON_IsBool(v))
		*out = cJSON_IsTrue(v) ? "true" : "false";
	else if (cJSON_IsNumber(v))
		*out = ns_arena_printf(&c->m->arena, "%g", v->valuedouble);
	else
		return ns_pfail(c, NSGSIM_E_SHAPE, "expected a string, a number or a bool");
	return *out ? 0 : ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
}

/* A value: one scalar, or an array of them. */
static int read_values(ns_pctx *c, const cJSON *v, const char ***out, size_t *n, bool *is_array)
{
	*is_array = cJSON_IsArray(v);
	size_t cap = *is_array ? (size_t)cJSON_GetArraySize(v) : 1;
	*out = ns_arena_alloc(&c->m->arena, (cap + 1) * sizeof **out);
	if (!*out)
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	*n = 0;
	if (!*is_array) {
		*n = 1;
		return scalar_text(c, v, &(*out)[0]);
	}
	const cJSON *item;
	cJSON_ArrayForEach(item, v)
	{
		size_t mark = ns_ptr_index(c, *n);
		int rc = scalar_text(c, item, &(*out)[*n]);
		if (rc != 0)
			return rc;
		ns_ptr_pop(c, mark);
		(*n)++;
	}
	return 0;
}

/* {"x": {"defaultValue": ...}} in a definition, {"x": {"value": ...}} in an
 * assignment. */
static int read_params(ns_pctx *c, const cJSON *res, const char *member, ns_policy_param **out,
                       size_t *n)
{
	size_t mark;
	*n = 0;
	const cJSON *obj = ns_prop(c, res, "parameters", &mark);
	if (!obj)
		return 0;
	if (!cJSON_IsObject(obj))
		return ns_expected(c, obj, "an object of parameters");
	size_t cap = (size_t)cJSON_GetArraySize(obj);
	*out = ns_arena_alloc(&c->m->arena, (cap + 1) * sizeof **out);
	if (!*out)
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	const cJSON *p;
	cJSON_ArrayForEach(p, obj)
	{
		size_t m2 = ns_ptr_key(c, p->string);
		if (!cJSON_IsObject(p))
			return ns_expected(c, p, "{\"value\": ...}");
		ns_policy_param *pp = &(*out)[(*n)++];
		*pp = (ns_policy_param){.name = ns_arena_strdup(&c->m->arena, p->string)};
		const cJSON *v = cJSON_GetObjectItem(p, member);
		if (v && !cJSON_IsNull(v)) {
			size_t m3 = ns_ptr_key(c, v->string);
			pp->loc = ns_loc_here(c);
			bool arr;
			int rc = read_values(c, v, &pp->values, &pp->n_values, &arr);
			if (rc != 0)
				return rc;
			pp->has_value = true;
			ns_ptr_pop(c, m3);
		}
		ns_ptr_pop(c, m2);
	}
	ns_ptr_pop(c, mark);
	return 0;
}

/* ---- conditions ------------------------------------------------------------------ */

static const struct {
	const char *key;
	int op;
} ops[] = {
        {"equals", NS_OP_EQUALS},
        {"notEquals", NS_OP_NOT_EQUALS},
        {"like", NS_OP_LIKE},
        {"notLike", NS_OP_NOT_LIKE},
        {"contains", NS_OP_CONTAINS},
        {"notContains", NS_OP_NOT_CONTAINS},
        {"in", NS_OP_IN},
        {"notIn", NS_OP_NOT_IN},
        {"exists", NS_OP_EXISTS},
};

/* Operators Azure Policy has that nsgsim does not evaluate (and the AVNM
 * editor does not offer). */
static const char *const other_ops[] = {
        "match",       "matchInsensitively", "notMatch", "notMatchInsensitively",
        "containsKey", "notContainsKey",     "less",     "lessOrEquals",
        "greater",     "greaterOrEquals"};

/* The field of a condition: "field" names a property of the VNet, "value"
 * a template function of its scope (how-to-exclude-elements.md). */
static int read_field(ns_pctx *c, const char *text, bool is_value, ns_cond *k)
{
	if (!(k->field_text = ns_arena_strdup(&c->m->arena, text)))
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	if (!is_value) {
		static const struct {
			const char *name;
			int field;
		} plain[] = {{"name", NS_FIELD_NAME},
		             {"fullName", NS_FIELD_NAME},
		             {"id", NS_FIELD_ID},
		             {"location", NS_FIELD_LOCATION},
		             {"type", NS_FIELD_TYPE}};
		for (size_t i = 0; i < NS_ARRAY_LEN(plain); i++)
			if (ns_ieq(text, plain[i].name)) {
				k->field = plain[i].field;
				return 0;
			}
		/* tags['x'], tags["x"], tags[x], tags.x */
		if (strncasecmp(text, "tags", 4) == 0 && (text[4] == '[' || text[4] == '.')) {
			const char *p = text + 5;
			size_t n = strlen(p);
			if (text[4] == '[') {
				if (n < 1 || p[n - 1] != ']')
					goto bad;
				n--;
				if (n >= 2 && (p[0] == '\'' || p[0] == '"') && p[n - 1] == p[0]) {
					p++;
					n -= 2;
				}
			}
			if (n == 0)
				goto bad;
			k->field = NS_FIELD_TAG;
			k->arg = ns_arena_printf(&c->m->arena, "%.*s", (int)n, p);
			return k->arg ? 0 : ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
		}
		goto bad;
	}
	char norm[128];
	size_t n = 0;
	for (const char *p = text; *p && n + 1 < sizeof norm; p++)
		if (*p != ' ')
			norm[n++] = (char)((*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p);
	norm[n] = '\0';
	static const struct {
		const char *expr;
		int field;
	} funcs[] = {{"[subscription().subscriptionid]", NS_FIELD_SUBSCRIPTION_ID},
	             {"[subscription().id]", NS_FIELD_SUBSCRIPTION_RES_ID},
	             {"[resourcegroup().name]", NS_FIELD_RG_NAME},
	             {"[resourcegroup().id]", NS_FIELD_RG_ID},
	             {"[field('name')]", NS_FIELD_NAME},
	             {"[field('id')]", NS_FIELD_ID}};
	for (size_t i = 0; i < NS_ARRAY_LEN(funcs); i++)
		if (strcmp(norm, funcs[i].expr) == 0) {
			k->field = funcs[i].field;
			return 0;
		}
	if (strstr(norm, "subscription().") || strstr(norm, "resourcegroup()."))
		return ns_pfail(
		        c, NSGSIM_E_UNEVALUATED,
		        "'%s' is not in the input (only the subscription id and the resource "
		        "group's name and id follow from a VNet's id)",
		        text);
	return ns_pfail(c, NSGSIM_E_UNSUPPORTED,
	                "the value '%s' is not supported in a network group condition (expected "
	                "[subscription().subscriptionId], [subscription().id], "
	                "[resourceGroup().name] or [resourceGroup().id])",
	                text);
bad:
	return ns_pfail(c, NSGSIM_E_UNSUPPORTED,
	                "the field '%s' is not supported in a network group condition (expected "
	                "name, id, location, type or tags['x']; how-to-exclude-elements.md)",
	                text);
}

static int read_leaf(ns_pctx *c, const cJSON *obj, ns_cond *k)
{
	k->kind = NS_COND_LEAF;
	const cJSON *f = cJSON_GetObjectItem(obj, "field");
	bool is_value = false;
	if (!f) {
		f = cJSON_GetObjectItem(obj, "value");
		is_value = true;
	}
	if (cJSON_GetObjectItem(obj, "count"))
		return ns_pfail(
		        c, NSGSIM_E_UNSUPPORTED,
		        "'count' expressions are not supported in network group conditions");
	if (!f)
		return ns_pfail(c, NSGSIM_E_SHAPE,
		                "expected a condition (\"field\" or \"value\" with an operator) or "
		                "allOf, anyOf, not");
	size_t mark = ns_ptr_key(c, f->string);
	if (!cJSON_IsString(f))
		return ns_expected(c, f, "a string");
	int rc = read_field(c, f->valuestring, is_value, k);
	if (rc != 0)
		return rc;
	ns_ptr_pop(c, mark);
	const cJSON *operand = NULL;
	for (const cJSON *m = obj->child; m; m = m->next) {
		if (m == f)
			continue;
		for (size_t i = 0; i < NS_ARRAY_LEN(ops); i++)
			if (ns_ieq(m->string, ops[i].key)) {
				if (operand) {
					mark = ns_ptr_key(c, m->string);
					return ns_pfail(c, NSGSIM_E_SHAPE,
					                "a condition has one operator; this one "
					                "has '%s' and '%s'",
					                k->op_text, m->string);
				}
				operand = m;
				k->op = ops[i].op;
				k->op_text = ops[i].key;
			}
		for (size_t i = 0; i < NS_ARRAY_LEN(other_ops); i++)
			if (ns_ieq(m->string, other_ops[i])) {
				ns_ptr_key(c, m->string);
				return ns_pfail(
				        c, NSGSIM_E_UNSUPPORTED,
				        "the operator '%s' is not supported in network group "
				        "conditions (equals, notEquals, like, notLike, "
				        "contains, notContains, in, notIn, exists are)",
				        m->string);
			}
	}
	if (!operand)
		return ns_pfail(c, NSGSIM_E_MISSING_FIELD,
		                "the condition on '%s' has no operator (equals, notEquals, like, "
		                "notLike, contains, notContains, in, notIn or exists)",
		                f->valuestring);
	mark = ns_ptr_key(c, operand->string);
	k->loc = ns_loc_here(c);
	if (cJSON_IsString(operand) && (k->param = param_ref(c, operand->valuestring)) != NULL) {
		ns_ptr_pop(c, mark);
		return 0;
	}
	if (cJSON_IsString(operand) && ns_is_expression(operand->valuestring))
		return ns_pfail(c, NSGSIM_E_UNEVALUATED,
		                "'%s' is an expression nsgsim does not evaluate in a policy "
		                "condition (only [parameters('name')] is)",
		                operand->valuestring);
	bool arr;
	if ((rc = read_values(c, operand, &k->values, &k->n_values, &arr)) != 0)
		return rc;
	bool list_op = k->op == NS_OP_IN || k->op == NS_OP_NOT_IN;
	if (list_op != arr)
		return ns_pfail(c, NSGSIM_E_SHAPE, "'%s' takes %s", k->op_text,
		                list_op ? "an array of values" : "one value, not an array");
	if (k->op == NS_OP_EXISTS && !ns_ieq(k->values[0], "true") &&
	    !ns_ieq(k->values[0], "false"))
		return ns_pfail(c, NSGSIM_E_SHAPE, "'exists' takes true or false");
	if ((k->op == NS_OP_LIKE || k->op == NS_OP_NOT_LIKE) && strchr(k->values[0], '*') &&
	    strchr(k->values[0], '*') != strrchr(k->values[0], '*'))
		return ns_pfail(c, NSGSIM_E_SHAPE,
		                "a '%s' value has at most one '*' wildcard "
		                "(definition-structure-policy-rule.md)",
		                k->op_text);
	ns_ptr_pop(c, mark);
	return 0;
}

static int read_cond(ns_pctx *c, const cJSON *v, ns_cond *k, int depth)
{
	if (!cJSON_IsObject(v))
		return ns_expected(c, v, "a condition object");
	if (depth > 64)
		return ns_pfail(c, NSGSIM_E_LIMIT, "conditions nested deeper than 64");
	static const struct {
		const char *key;
		int kind;
	} logic[] = {{"allOf", NS_COND_ALL}, {"anyOf", NS_COND_ANY}, {"not", NS_COND_NOT}};
	for (size_t i = 0; i < NS_ARRAY_LEN(logic); i++) {
		const cJSON *sub = cJSON_GetObjectItem(v, logic[i].key);
		if (!sub)
			continue;
		size_t mark = ns_ptr_key(c, sub->string);
		k->kind = logic[i].kind;
		if (k->kind == NS_COND_NOT) {
			k->kids = ns_arena_alloc(&c->m->arena, sizeof *k->kids);
			if (!k->kids)
				return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
			memset(k->kids, 0, sizeof *k->kids);
			k->n_kids = 1;
			int rc = read_cond(c, sub, k->kids, depth + 1);
			if (rc != 0)
				return rc;
		} else {
			if (!cJSON_IsArray(sub))
				return ns_expected(c, sub, "an array of conditions");
			size_t n = (size_t)cJSON_GetArraySize(sub);
			k->kids = ns_arena_alloc(&c->m->arena, (n + 1) * sizeof *k->kids);
			if (!k->kids)
				return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
			memset(k->kids, 0, (n + 1) * sizeof *k->kids);
			const cJSON *item;
			cJSON_ArrayForEach(item, sub)
			{
				size_t m2 = ns_ptr_index(c, k->n_kids);
				int rc = read_cond(c, item, &k->kids[k->n_kids++], depth + 1);
				if (rc != 0)
					return rc;
				ns_ptr_pop(c, m2);
			}
		}
		ns_ptr_pop(c, mark);
		return 0;
	}
	return read_leaf(c, v, k);
}

/* ---- resources ------------------------------------------------------------------- */

/* A string member of obj at the current pointer (NULL when absent). */
static int member_string(ns_pctx *c, const cJSON *obj, const char *key, const char **out,
                         ns_loc *loc)
{
	*out = NULL;
	const cJSON *v = cJSON_GetObjectItem(obj, key);
	if (!v || cJSON_IsNull(v))
		return 0;
	size_t mark = ns_ptr_key(c, v->string);
	if (loc)
		*loc = ns_loc_here(c);
	if (!cJSON_IsString(v))
		return ns_expected(c, v, "a string");
	*out = ns_arena_strdup(&c->m->arena, v->valuestring);
	if (!*out)
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	ns_ptr_pop(c, mark);
	return 0;
}

int ns_parse_policy_def(ns_pctx *c, const cJSON *res, const char *type)
{
	ns_policy_def d = {0};
	const char *mode = NULL;
	int rc = ns_identify(c, res, type, NULL, NULL, &d.loc, &d.id, &d.name, NULL);
	if (rc == 0)
		rc = ns_opt_string(c, res, "mode", &mode);
	if (rc != 0)
		return rc;
	size_t mark;
	const cJSON *rule = ns_prop(c, res, "policyRule", &mark);
	const cJSON *then = cJSON_GetObjectItem(rule, "then");
	const char *effect = ns_raw_string(then, "effect");
	if (!mode || !ns_ieq(mode, "Microsoft.Network.Data") || !effect ||
	    !ns_ieq(effect, "addToNetworkGroup")) {
		if (rule)
			ns_ptr_pop(c, mark);
		return ns_model_note(c->m, NSGSIM_NOTE_SKIPPED, c->file, c->ptr, d.id,
		                     "policy definition '%s' does not add to a network group (mode "
		                     "'%s', effect '%s'); skipped",
		                     d.name, mode ? mode : "", effect ? effect : "");
	}
	if (!cJSON_IsObject(rule))
		return ns_expected(c, rule, "a policyRule object");
	size_t m2 = ns_ptr_key(c, "then");
	const cJSON *details = cJSON_GetObjectItem(then, "details");
	if (!cJSON_IsObject(details)) {
		ns_ptr_key(c, "details");
		return ns_pfail(c, NSGSIM_E_MISSING_FIELD,
		                "an addToNetworkGroup effect needs details.networkGroupId");
	}
	size_t m3 = ns_ptr_key(c, "details");
	if ((rc = member_string(c, details, "networkGroupId", &d.group_id, &d.group_loc)) != 0)
		return rc;
	if (!d.group_id) {
		ns_ptr_key(c, "networkGroupId");
		return ns_pfail(c, NSGSIM_E_MISSING_FIELD,
		                "an addToNetworkGroup effect needs details.networkGroupId");
	}
	if (ns_is_expression(d.group_id)) {
		ns_ptr_key(c, "networkGroupId");
		return ns_pfail(c, NSGSIM_E_UNEVALUATED,
		                "networkGroupId must be the group's resource id, not an expression "
		                "(concept-azure-policy-integration.md)");
	}
	ns_ptr_pop(c, m3);
	ns_ptr_pop(c, m2);
	const cJSON *cond = cJSON_GetObjectItem(rule, "if");
	m2 = ns_ptr_key(c, "if");
	if (!cond)
		return ns_pfail(c, NSGSIM_E_MISSING_FIELD, "a policyRule needs 'if'");
	if ((rc = read_cond(c, cond, &d.cond, 0)) != 0)
		return rc;
	ns_ptr_pop(c, m2);
	ns_ptr_pop(c, mark);
	if ((rc = read_params(c, res, "defaultValue", &d.params, &d.n_params)) != 0)
		return rc;
	return ns_push(c, &c->m->policy_defs, &d);
}

int ns_parse_policy_asg(ns_pctx *c, const cJSON *res, const char *type)
{
	ns_policy_asg a = {0};
	int rc = ns_identify(c, res, type, NULL, NULL, &a.loc, &a.id, &a.name, NULL);
	if (rc == 0)
		rc = ns_req_string(c, res, "policyDefinitionId", &a.def_id);
	if (rc == 0)
		rc = ns_opt_string(c, res, "scope", &a.scope);
	if (rc == 0)
		rc = ns_opt_string_array(c, res, "notScopes", &a.not_scopes, NULL, &a.n_not_scopes,
		                         NULL);
	if (rc != 0)
		return rc;
	size_t mark;
	ns_prop(c, res, "policyDefinitionId", &mark);
	a.def_loc = ns_loc_here(c);
	ns_ptr_pop(c, mark);
	/* An ARM template's assignment has no scope property: it is the scope
	 * it is deployed at, the part of its id before the provider. */
	if (!a.scope) {
		const char *p = strstr(a.id, "/providers/Microsoft.Authorization/");
		if (!p) {
			mark = ns_ptr_prop(c, res, "scope");
			return ns_pfail(c, NSGSIM_E_MISSING_FIELD,
			                "a policy assignment needs 'scope' (or an id under it)");
		}
		a.scope = ns_arena_printf(&c->m->arena, "%.*s", (int)(p - a.id), a.id);
		if (!a.scope)
			return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	}
	if ((rc = read_params(c, res, "value", &a.params, &a.n_params)) != 0)
		return rc;
	return ns_push(c, &c->m->policy_asgs, &a);
}
