/* The resources of a compiled policy by kind, in input order: what
 * `nsgsim list` prints and what a "not found" message can point to.
 *
 * May touch: lib/base, the model and the compiled policy. */
#include <stddef.h>

#include "compile/policy.h"

/* The model record behind entry i of a kind: its id, name and location
 * come first in every record type (lib/parse/model.h). */
typedef struct res_view {
	const char *id, *name;
	ns_loc loc;
} res_view;

static int view_of(const nsgsim_policy *p, int kind, size_t i, res_view *v)
{
	switch (kind) {
	case NSGSIM_RESOURCE_NIC:
		if (i >= p->n_nics)
			return -1;
		*v = (res_view){p->nics[i].n->id, p->nics[i].n->name, p->nics[i].n->loc};
		return 0;
	case NSGSIM_RESOURCE_SUBNET:
		if (i >= p->n_subnets)
			return -1;
		*v = (res_view){p->subnets[i].s->id, p->subnets[i].s->name, p->subnets[i].s->loc};
		return 0;
	case NSGSIM_RESOURCE_NSG:
		if (i >= p->n_nsgs)
			return -1;
		*v = (res_view){p->nsgs[i].g->id, p->nsgs[i].g->name, p->nsgs[i].g->loc};
		return 0;
	case NSGSIM_RESOURCE_ASG:
		if (i >= p->n_asgs)
			return -1;
		*v = (res_view){p->asgs[i].a->id, p->asgs[i].a->name, p->asgs[i].a->loc};
		return 0;
	case NSGSIM_RESOURCE_MANAGER: {
		if (i >= p->m.managers.n)
			return -1;
		const ns_manager *mg = NS_VEC_AT(&p->m.managers, ns_manager, i);
		*v = (res_view){mg->id, mg->name, mg->loc};
		return 0;
	}
	}
	return -1;
}

NSGSIM_EXPORT size_t nsgsim_policy_resource_count(const nsgsim_policy *policy, int kind)
{
	if (!policy)
		return 0;
	switch (kind) {
	case NSGSIM_RESOURCE_NIC:
		return policy->n_nics;
	case NSGSIM_RESOURCE_SUBNET:
		return policy->n_subnets;
	case NSGSIM_RESOURCE_NSG:
		return policy->n_nsgs;
	case NSGSIM_RESOURCE_ASG:
		return policy->n_asgs;
	case NSGSIM_RESOURCE_MANAGER:
		return policy->m.managers.n;
	}
	return 0;
}

NSGSIM_EXPORT int nsgsim_policy_resource(const nsgsim_policy *policy, int kind, size_t index,
                                         nsgsim_resource *out)
{
	res_view v;
	if (!policy || !out || view_of(policy, kind, index, &v) != 0)
		return NSGSIM_E_INVALID_ARG;
	out->id = v.id;
	out->name = v.name ? v.name : "";
	out->file = v.loc.file ? v.loc.file : "";
	out->pointer = v.loc.pointer ? v.loc.pointer : "";
	return 0;
}
