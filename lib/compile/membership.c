/* Network group membership: the static members, and the VNets that Azure
 * Policy adds (dynamic membership).
 *
 * A definition in mode Microsoft.Network.Data with the addToNetworkGroup
 * effect adds to details.networkGroupId every virtual network its "if"
 * condition holds for, within the scope of each of its assignments; only
 * virtual networks can be policy members ("Azure Policy currently only
 * supports the definition of network group membership for virtual
 * networks", concept-azure-policy-integration.md; SEMANTICS.md §6.1).  A
 * definition without an assignment adds nobody.  Conditions are Azure
 * Policy's (governance/policy/concepts/definition-structure-policy-rule.md):
 * allOf/anyOf/not, and string comparisons that ignore case; like/notLike
 * match '*' against any run of characters.  The fields are those the AVNM
 * editor offers (how-to-exclude-elements.md): name, id, tags, and the
 * subscription and resource group the VNet's id names.
 *
 * May touch: lib/base, the model and the compiled policy. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compile/compile.h"

/* ---- what a condition reads of a VNet ---------------------------------------- */

/* The text after "/<segment>/" in a resource id, up to the next '/'. */
static const char *id_part(ns_arena *a, const char *id, const char *segment, bool through)
{
	size_t n = strlen(segment);
	for (const char *p = id; (p = strchr(p, '/')) != NULL; p++) {
		if (strncasecmp(p + 1, segment, n) != 0 || p[1 + n] != '/')
			continue;
		const char *v = p + 2 + n;
		const char *end = strchr(v, '/');
		size_t len = end ? (size_t)(end - v) : strlen(v);
		return through ? ns_arena_printf(a, "%.*s", (int)(v + len - id), id)
		               : ns_arena_printf(a, "%.*s", (int)len, v);
	}
	return NULL;
}

/* The field's value at the VNet, or NULL when it has none. */
static const char *field_value(nsgsim_policy *p, const ns_cond *k, const ns_vnet *v)
{
	switch (k->field) {
	case NS_FIELD_NAME:
		return v->name;
	case NS_FIELD_ID:
		return v->id;
	case NS_FIELD_LOCATION:
		return v->location;
	case NS_FIELD_TYPE:
		return "Microsoft.Network/virtualNetworks";
	case NS_FIELD_TAG:
		/* Tag names ignore case in Azure Policy. */
		for (size_t i = 0; i < v->n_tags; i++)
			if (ns_ieq(v->tag_keys[i], k->arg))
				return v->tag_values[i];
		return NULL;
	case NS_FIELD_SUBSCRIPTION_ID:
		return id_part(&p->arena, v->id, "subscriptions", false);
	case NS_FIELD_SUBSCRIPTION_RES_ID:
		return id_part(&p->arena, v->id, "subscriptions", true);
	case NS_FIELD_RG_NAME:
		return id_part(&p->arena, v->id, "resourceGroups", false);
	case NS_FIELD_RG_ID:
		return id_part(&p->arena, v->id, "resourceGroups", true);
	}
	return NULL;
}

/* like: '*' matches any run of characters, case ignored. */
static bool like(const char *s, const char *pat)
{
	const char *star = NULL, *resume = NULL;
	while (*s) {
		if (*pat == '*') {
			star = pat++;
			resume = s;
		} else if (*pat && tolower((unsigned char)*pat) == tolower((unsigned char)*s)) {
			pat++;
			s++;
		} else if (star) {
			pat = star + 1;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

static bool icontains(const char *s, const char *part)
{
	size_t n = strlen(part);
	for (; *s; s++)
		if (strncasecmp(s, part, n) == 0)
			return true;
	return n == 0;
}

/* ---- parameters ------------------------------------------------------------------ */

static const ns_policy_param *find_param(const ns_policy_param *ps, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (ns_ieq(ps[i].name, name) && ps[i].has_value)
			return &ps[i];
	return NULL;
}

/* The operand of a leaf under an assignment: its literal, or the value of
 * the parameter it names (the assignment's, else the definition's
 * defaultValue). */
static int operand(const ns_policy_def *d, const ns_policy_asg *a, const ns_cond *k,
                   const char *const **vals, size_t *n, nsgsim_error *err)
{
	if (!k->param) {
		*vals = k->values;
		*n = k->n_values;
		return 0;
	}
	const ns_policy_param *pp = find_param(a->params, a->n_params, k->param);
	if (!pp)
		pp = find_param(d->params, d->n_params, k->param);
	if (!pp)
		return ns_fail(err, NSGSIM_E_UNEVALUATED, k->loc.file, k->loc.pointer, a->id,
		               "parameter '%s' of policy definition '%s' has no value: assignment "
		               "'%s' does not give it and the definition has no defaultValue",
		               k->param, d->name, a->name);
	*vals = pp->values;
	*n = pp->n_values;
	return 0;
}

/* ---- conditions ------------------------------------------------------------------- */

static int eval_leaf(nsgsim_policy *p, const ns_policy_def *d, const ns_policy_asg *a,
                     const ns_cond *k, const ns_vnet *v, bool *out, nsgsim_error *err)
{
	const char *const *vals = NULL;
	size_t n = 0;
	int rc = operand(d, a, k, &vals, &n, err);
	if (rc != 0)
		return rc;
	const char *f = field_value(p, k, v);
	if (k->op == NS_OP_EXISTS) {
		*out = (f != NULL) == (n > 0 && ns_ieq(vals[0], "true"));
		return 0;
	}
	/* A field the VNet does not have compares as empty text. */
	const char *s = f ? f : "";
	const char *v0 = n > 0 ? vals[0] : "";
	bool r = false;
	switch (k->op) {
	case NS_OP_EQUALS:
	case NS_OP_NOT_EQUALS:
		r = ns_ieq(s, v0);
		break;
	case NS_OP_LIKE:
	case NS_OP_NOT_LIKE:
		r = like(s, v0);
		break;
	case NS_OP_CONTAINS:
	case NS_OP_NOT_CONTAINS:
		r = icontains(s, v0);
		break;
	case NS_OP_IN:
	case NS_OP_NOT_IN:
		for (size_t i = 0; i < n && !r; i++)
			r = ns_ieq(s, vals[i]);
		break;
	}
	bool negated = k->op == NS_OP_NOT_EQUALS || k->op == NS_OP_NOT_LIKE ||
	               k->op == NS_OP_NOT_CONTAINS || k->op == NS_OP_NOT_IN;
	*out = negated ? !r : r;
	return 0;
}

static int eval_cond(nsgsim_policy *p, const ns_policy_def *d, const ns_policy_asg *a,
                     const ns_cond *k, const ns_vnet *v, bool *out, nsgsim_error *err)
{
	if (k->kind == NS_COND_LEAF)
		return eval_leaf(p, d, a, k, v, out, err);
	/* Every child is evaluated, so that a parameter without a value is an
	 * error whatever the VNet. */
	bool all = true, any = false;
	for (size_t i = 0; i < k->n_kids; i++) {
		bool r;
		int rc = eval_cond(p, d, a, &k->kids[i], v, &r, err);
		if (rc != 0)
			return rc;
		all = all && r;
		any = any || r;
	}
	*out = k->kind == NS_COND_ALL ? all : k->kind == NS_COND_ANY ? any : !all;
	return 0;
}

/* An assignment covers the resources under its scope.  A management group
 * scope covers every VNet: the input has no management-group hierarchy,
 * as for network managers (README, "Input formats"). */
static bool in_scope(const char *scope, const char *id)
{
	if (strstr(scope, "/providers/Microsoft.Management/managementGroups/") ||
	    strncasecmp(scope, "/providers/Microsoft.Management/managementGroups/", 48) == 0)
		return true;
	size_t n = strlen(scope);
	while (n > 0 && scope[n - 1] == '/')
		n--;
	return strncasecmp(scope, id, n) == 0 && (id[n] == '/' || id[n] == '\0');
}

/* notScopes: "the scopes to exclude" from the assignment
 * (governance/policy/concepts/assignment-structure.md). */
static bool excluded(const ns_policy_asg *a, const char *id)
{
	for (size_t i = 0; i < a->n_not_scopes; i++) {
		size_t n = strlen(a->not_scopes[i]);
		while (n > 0 && a->not_scopes[i][n - 1] == '/')
			n--;
		if (n > 0 && strncasecmp(a->not_scopes[i], id, n) == 0 &&
		    (id[n] == '/' || id[n] == '\0'))
			return true;
	}
	return false;
}

/* ---- the members ------------------------------------------------------------------- */

static int push_member(ns_vec *out, const ns_member *m, nsgsim_error *err)
{
	ns_member *slot = ns_vec_push(out);
	if (!slot)
		return ns_nomem(err);
	*slot = *m;
	return 0;
}

/* Whether an earlier element of v (ns_policy_def or ns_policy_asg, both
 * starting with their id) has this id. */
_Static_assert(offsetof(ns_policy_def, id) == 0 && offsetof(ns_policy_asg, id) == 0,
               "seen_before reads the id first");

static bool seen_before(const ns_vec *v, size_t i, const char *id)
{
	for (size_t k = 0; k < i; k++)
		if (ns_ieq(*(const char *const *)((const char *)v->data + k * v->elem), id))
			return true;
	return false;
}

static int policy_members(nsgsim_policy *p, ns_vec *out, ns_vec *groups, nsgsim_error *err)
{
	ns_model *m = &p->m;
	for (size_t i = 0; i < m->policy_defs.n; i++) {
		const ns_policy_def *d = NS_VEC_AT(&m->policy_defs, ns_policy_def, i);
		if (seen_before(&m->policy_defs, i, d->id))
			continue; /* the same definition in two listings */
		if (!ns_map_get(&p->group_by_id, d->group_id))
			return ns_dangling(err, &d->group_loc, d->id, "network group", d->group_id);
		size_t assigned = 0;
		for (size_t k = 0; k < m->policy_asgs.n; k++) {
			const ns_policy_asg *a = NS_VEC_AT(&m->policy_asgs, ns_policy_asg, k);
			if (!ns_ieq(a->def_id, d->id) || seen_before(&m->policy_asgs, k, a->id))
				continue;
			if (assigned++ == 0) {
				const char **slot = ns_vec_push(groups);
				if (!slot)
					return ns_nomem(err);
				*slot = d->group_id;
			}
			for (size_t v = 0; v < p->n_vnets; v++) {
				const ns_vnet *vn = p->vnets[v].v;
				bool hit;
				int rc = eval_cond(p, d, a, &d->cond, vn, &hit, err);
				if (rc != 0)
					return rc;
				if (!hit || !in_scope(a->scope, vn->id) || excluded(a, vn->id))
					continue;
				ns_member mb = {d->group_id, vn->id, NULL, d, a};
				if ((rc = push_member(out, &mb, err)) != 0)
					return rc;
			}
		}
		if (assigned == 0 &&
		    ns_model_note(m, NSGSIM_NOTE_WARNING, d->loc.file, d->loc.pointer, d->id,
		                  "policy definition '%s' has no assignment in the input: it adds "
		                  "no virtual network to network group '%s'",
		                  d->name, d->group_id) != 0)
			return ns_nomem(err);
	}
	return 0;
}

const ns_member *ns_member_of(const nsgsim_policy *p, const char *group_id, const char *resource_id)
{
	char small[1024];
	size_t n = strlen(group_id) + strlen(resource_id) + 2;
	char *key = n <= sizeof small ? small : malloc(n);
	if (!key) { /* no memory for the key: the same answer, slowly */
		for (size_t i = 0; i < p->n_members; i++)
			if (ns_ieq(p->members[i].group_id, group_id) &&
			    ns_ieq(p->members[i].resource_id, resource_id))
				return &p->members[i];
		return NULL;
	}
	size_t g = strlen(group_id);
	memcpy(key, group_id, g);
	key[g] = '|';
	memcpy(key + g + 1, resource_id, n - g - 1); /* with its NUL */
	const ns_member *mb = ns_map_get(&p->member_by_key, key);
	if (key != small)
		free(key);
	return mb;
}

int ns_compile_members(nsgsim_policy *p, nsgsim_error *err)
{
	ns_model *m = &p->m;
	ns_vec out, groups;
	ns_vec_init(&out, sizeof(ns_member));
	ns_vec_init(&groups, sizeof(const char *));
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < m->static_members.n; i++) {
		const ns_static_member *sm = NS_VEC_AT(&m->static_members, ns_static_member, i);
		ns_member mb = {sm->group_id, sm->resource_id, sm, NULL, NULL};
		rc = push_member(&out, &mb, err);
	}
	if (rc == 0)
		rc = policy_members(p, &out, &groups, err);
	if (rc == 0) {
		p->members = ns_arena_alloc(&p->arena, (out.n + 1) * sizeof *p->members);
		p->policy_groups =
		        ns_arena_alloc(&p->arena, (groups.n + 1) * sizeof *p->policy_groups);
		if (!p->members || !p->policy_groups) {
			rc = ns_nomem(err);
		} else {
			if (out.n)
				memcpy(p->members, out.data, out.n * sizeof *p->members);
			if (groups.n)
				memcpy(p->policy_groups, groups.data,
				       groups.n * sizeof *p->policy_groups);
			p->n_members = out.n;
			p->n_policy_groups = groups.n;
		}
	}
	/* An index, for the subnets x rules x groups lookups of the admin compile. */
	for (size_t i = 0; rc == 0 && i < p->n_members; i++) {
		const ns_member *mb = &p->members[i];
		const char *key =
		        ns_arena_printf(&p->arena, "%s|%s", mb->group_id, mb->resource_id);
		if (!key || (!ns_map_get(&p->member_by_key, key) &&
		             ns_map_put(&p->member_by_key, key, (void *)mb) != 0))
			rc = ns_nomem(err);
	}
	ns_vec_free(&out);
	ns_vec_free(&groups);
	return rc;
}
