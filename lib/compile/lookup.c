/* Lookups in a compiled policy by the names and ids a user or a result
 * gives: a NIC, the endpoint of a NIC or subnet.  (An address's endpoint
 * is found through the endpoint map: lib/eval/endpoint.c.)
 *
 * May touch: lib/base, the model and the compiled policy. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "compile/policy.h"

enum { MAX_SUGGESTIONS = 3 };

/* The NIC names nearest to a misspelt one: those at the smallest distance,
 * if it is within a third of its length (at least 2) edits, so a typo
 * finds its NIC and an unrelated word finds nothing. */
static size_t nearest_nics(const nsgsim_policy *p, const char *want, const char **out)
{
	size_t best = strlen(want) / 3 > 2 ? strlen(want) / 3 : 2, n = 0;
	for (size_t i = 0; i < p->n_nics; i++) {
		const char *name = p->nics[i].n->name;
		size_t d = name ? ns_edit_distance(want, name) : SIZE_MAX;
		if (d < best)
			n = 0, best = d;
		if (d == best && n < MAX_SUGGESTIONS)
			out[n++] = name;
	}
	return n;
}

static void fail_not_found(const nsgsim_policy *p, const char *nic, nsgsim_error *err)
{
	const char *near[MAX_SUGGESTIONS];
	size_t n = nearest_nics(p, nic, near);
	char hint[400] = "";
	size_t used = 0;
	for (size_t i = 0; i < n && used < sizeof hint; i++)
		used += (size_t)snprintf(hint + used, sizeof hint - used, "%s'%.80s'%s",
		                         i == 0       ? " (did you mean "
		                         : i + 1 == n ? " or "
		                                      : ", ",
		                         near[i], i + 1 == n ? "?)" : "");
	ns_fail(err, NSGSIM_E_NOT_FOUND, "", "", nic,
	        "no network interface named '%s' (by name or id) is in the input%s; it has "
	        "%zu NICs (`nsgsim list nics` lists them)",
	        nic, hint, p->n_nics);
}

const ns_cnic *ns_find_nic(const nsgsim_policy *p, const char *nic, nsgsim_error *err)
{
	if (!nic) {
		ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "", "a NIC name or id is required");
		return NULL;
	}
	const ns_cnic *found = ns_map_get(&p->nic_by_id, nic);
	if (found)
		return found;
	for (size_t i = 0; i < p->n_nics; i++) {
		if (!ns_ieq(p->nics[i].n->name, nic))
			continue;
		if (found) {
			ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", nic,
			        "more than one NIC is named '%s' ('%s' and '%s'); give its id", nic,
			        found->n->id, p->nics[i].n->id);
			return NULL;
		}
		found = &p->nics[i];
	}
	if (!found)
		fail_not_found(p, nic, err);
	return found;
}

const ns_endpoint *ns_find_endpoint(const nsgsim_policy *p, const char *nic_id,
                                    const char *subnet_id)
{
	const ns_csubnet *cs = subnet_id ? ns_map_get(&p->subnet_by_id, subnet_id) : NULL;
	if (!cs) /* every endpoint a result names is in a subnet */
		return NULL;
	if (!nic_id)
		return cs->alone;
	const ns_cnic *cn = ns_map_get(&p->nic_by_id, nic_id);
	for (size_t i = 0; cn && i < cn->n_eps; i++)
		if (cn->eps[i].subnet == cs)
			return &cn->eps[i];
	return NULL;
}

int ns_check_whole(const nsgsim_policy *p, const char *what, nsgsim_error *err)
{
	if (!p || !p->focused)
		return 0;
	return ns_fail(err, NSGSIM_E_OUT_OF_FOCUS, "", "", "",
	               "%s needs the whole policy, and this one was compiled for a focus "
	               "(nsgsim_loader_set_focus): compile it without one",
	               what);
}

int ns_focus_error(const ns_endpoint *ep, const char *side, nsgsim_error *err)
{
	const char *where = ep->nic ? ep->nic->n->id : ep->subnet ? ep->subnet->s->id : "";
	return ns_fail(err, NSGSIM_E_OUT_OF_FOCUS, "", "", where,
	               "the %s meets an NSG outside the focus the policy was compiled for "
	               "(nsgsim_loader_set_focus): compile it with this flow's addresses in the "
	               "focus, or without one",
	               side);
}

bool ns_group_has_members(const nsgsim_policy *p, const char *group_id)
{
	for (size_t i = 0; i < p->n_members; i++)
		if (ns_ieq(p->members[i].group_id, group_id))
			return true;
	for (size_t i = 0; i < p->n_policy_groups; i++)
		if (ns_ieq(p->policy_groups[i], group_id))
			return true;
	return false;
}
