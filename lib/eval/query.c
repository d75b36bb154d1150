/* The address sets a set query names (--to, --from) and their split by the
 * endpoint map.
 *
 * A TARGET or SOURCE is, in this order: "*" or "any" (every address); a NIC
 * by id or unique name (the addresses of its ipConfigurations); a subnet by
 * id or unique name (its prefixes); the computed tags Internet and
 * AzureLoadBalancer, or a service tag of the tags file (names compare
 * without case, as Azure's do); else an IP address or CIDR prefix.
 *
 * May touch: lib/base, what parse exposes (the address parser), the
 * compiled policy. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "eval/query.h"

static int add_all(ns_arena *ar, ns_addrs *out)
{
	for (int f = 0; f < 2; f++)
		if (ns_il_one(ar, 0, ns_key_max(f ? 6 : 4), &out->fam[f]) != 0)
			return -1;
	return 0;
}

static int add_pset(ns_arena *ar, const ns_pset *s, ns_addrs *out)
{
	for (int f = 0; f < 2; f++)
		if (ns_il_of_pset(ar, s, f ? 6 : 4, &out->fam[f]) != 0)
			return -1;
	return 0;
}

static int add_nic(ns_arena *ar, const ns_cnic *cn, ns_addrs *out)
{
	ns_psb b;
	ns_psb_init(&b);
	int rc = 0;
	for (size_t k = 0; k < cn->n->n_ipconfigs && rc == 0; k++) {
		const ns_ipconfig *ipc = &cn->n->ipconfigs[k];
		if (!ipc->has_ip)
			continue;
		rc = ipc->family == 4 ? ns_psb_add4(&b, (uint32_t)ipc->ip, (uint32_t)ipc->ip)
		                      : ns_psb_add6(&b, ipc->ip, ipc->ip);
	}
	ns_pset s = {0};
	if (rc == 0)
		rc = ns_psb_finish(&b, &s);
	ns_psb_free(&b);
	if (rc == 0)
		rc = add_pset(ar, &s, out);
	ns_pset_free(&s);
	return rc;
}

/* A NIC whose only addresses are known after deployment (unknown-nic-address). */
static bool address_unknown(const ns_cnic *cn)
{
	bool unknown = false;
	for (size_t k = 0; k < cn->n->n_ipconfigs; k++) {
		if (cn->n->ipconfigs[k].has_ip)
			return false;
		unknown |= cn->n->ipconfigs[k].ip_unknown;
	}
	return unknown;
}

/* A resource by id, else by a name only one of them has; *dup when two do. */
static const ns_cnic *nic_named(const nsgsim_policy *p, const char *text, bool *dup)
{
	const ns_cnic *found = ns_map_get(&p->nic_by_id, text);
	for (size_t i = 0; !found && i < p->n_nics; i++)
		if (ns_ieq(p->nics[i].n->name, text)) {
			for (size_t k = i + 1; k < p->n_nics; k++)
				*dup |= ns_ieq(p->nics[k].n->name, text);
			found = &p->nics[i];
		}
	return found;
}

static const ns_csubnet *subnet_named(const nsgsim_policy *p, const char *text, bool *dup)
{
	const ns_csubnet *found = ns_map_get(&p->subnet_by_id, text);
	for (size_t i = 0; !found && i < p->n_subnets; i++)
		if (ns_ieq(p->subnets[i].s->name, text)) {
			for (size_t k = i + 1; k < p->n_subnets; k++)
				*dup |= ns_ieq(p->subnets[k].s->name, text);
			found = &p->subnets[i];
		}
	return found;
}

static const ns_pset *tag_named(const nsgsim_policy *p, const char *text)
{
	if (ns_ieq(text, NS_TAG_INTERNET))
		return &p->internet;
	if (ns_ieq(text, NS_TAG_LOAD_BALANCER))
		return &p->load_balancer;
	const ns_tag *t = ns_map_get(&p->m.tag_index, text);
	return t ? &t->set : NULL;
}

static int by_name(const nsgsim_policy *p, const char *text, const char *what, ns_arena *ar,
                   ns_addrs *out, nsgsim_error *err, bool *found)
{
	bool dup = false;
	*found = true;
	const ns_cnic *cn = nic_named(p, text, &dup);
	if (cn && !dup && address_unknown(cn))
		return ns_fail(
		        err, NSGSIM_E_UNEVALUATED, "", "", cn->n->id,
		        "%s: NIC '%s' has no address before deployment (a plan's dynamic "
		        "private IP): give its subnet, or evaluate flows at it with eval --at",
		        what, cn->n->name);
	if (cn && !dup)
		return add_nic(ar, cn, out) == 0 ? 0 : NSGSIM_E_NOMEM;
	const ns_csubnet *cs = cn ? NULL : subnet_named(p, text, &dup);
	if (dup)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", text,
		               "%s: more than one %s is named '%s'; give its id", what,
		               cn ? "NIC" : "subnet", text);
	if (cs)
		return add_pset(ar, &cs->prefixes, out) == 0 ? 0 : NSGSIM_E_NOMEM;
	if (ns_ieq(text, NS_TAG_VIRTUAL_NETWORK))
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", text,
		               "%s: VirtualNetwork means a different set at each subnet; give a "
		               "subnet, a NIC or a prefix",
		               what);
	const ns_pset *t = tag_named(p, text);
	if (t)
		return add_pset(ar, t, out) == 0 ? 0 : NSGSIM_E_NOMEM;
	*found = false;
	return 0;
}

int ns_query_addrs(const nsgsim_policy *p, const char *text, const char *what, ns_arena *ar,
                   ns_addrs *out, nsgsim_error *err)
{
	memset(out, 0, sizeof *out);
	if (!text || !text[0])
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "", "%s: an address is required",
		               what);
	if (strcmp(text, "*") == 0 || ns_ieq(text, "any"))
		return add_all(ar, out) == 0
		               ? 0
		               : ns_fail(err, NSGSIM_E_NOMEM, "", "", "", "out of memory");
	bool found;
	int rc = by_name(p, text, what, ar, out, err, &found);
	if (rc == NSGSIM_E_NOMEM)
		return ns_fail(err, rc, "", "", "", "out of memory");
	if (rc != 0 || found)
		return rc;
	int family, plen;
	ns_u128 addr;
	nsgsim_error perr;
	if (ns_parse_prefix(text, &family, &addr, &plen, NULL, text, &perr) != 0) {
		if (!ns_looks_like_tag(text) && text[0] != '/')
			return ns_fail(err, perr.code, "", "", text, "%s: %s", what, perr.message);
		return ns_fail(err, NSGSIM_E_NOT_FOUND, "", "", text,
		               "%s: '%s' is not a NIC, a subnet or a service tag of the input, nor "
		               "an address",
		               what, text);
	}
	ns_u128 lo, hi;
	if (family == 4) {
		ns_range4 r = ns_range4_of_prefix((uint32_t)addr, plen);
		lo = r.lo;
		hi = r.hi;
	} else {
		ns_range6 r = ns_range6_of_prefix(addr, plen);
		lo = r.lo;
		hi = r.hi;
	}
	if (ns_il_one(ar, lo, hi, &out->fam[family == 6]) != 0)
		return ns_fail(err, NSGSIM_E_NOMEM, "", "", "", "out of memory");
	return 0;
}

/* ---- by endpoint -------------------------------------------------------------------- */

/* Interval i of the endpoint map of a family: its start and record. */
static ns_u128 map_start(const nsgsim_policy *p, int family, uint32_t i)
{
	return family == 4 ? (ns_u128)p->ep4.sv[2 * i] : p->ep6.starts[i];
}

static uint32_t map_val(const nsgsim_policy *p, int family, uint32_t i)
{
	return family == 4 ? p->ep4.sv[2 * i + 1] : p->ep6.val[i];
}

static uint32_t map_n(const nsgsim_policy *p, int family)
{
	return family == 4 ? p->ep4.n : p->ep6.n;
}

/* The map interval holding key x. */
static uint32_t map_find(const nsgsim_policy *p, int family, ns_u128 x)
{
	uint32_t lo = 0, hi = map_n(p, family);
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (map_start(p, family, mid) <= x)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Whether two endpoints walk the same way in direction way: the same
 * chains in the same order, seen from the same VirtualNetwork set.  Such
 * endpoints give every flow the same outcome (the outcome names the layer,
 * the rule, the NSG or manager and the endpoint's role, never the endpoint
 * itself), so one walk serves all their addresses. */
bool ns_same_walk(const ns_endpoint *a, const ns_endpoint *b, int way)
{
	if (a == b)
		return true;
	if (!a || !b || a->n_steps[way] != b->n_steps[way])
		return false;
	for (size_t k = 0; k < a->n_steps[way]; k++) {
		const ns_step *x = &a->steps[way][k], *y = &b->steps[way][k];
		if (x->layer != y->layer || x->chain[way] != y->chain[way] ||
		    x->resource != y->resource)
			return false;
	}
	return a->subnet == b->subnet ||
	       (a->subnet && b->subnet &&
	        ns_pset_equal(&a->subnet->vnet_tag, &b->subnet->vnet_tag));
}

static ns_epgroup *group_of(ns_vec *groups, const ns_endpoint *ep, int way)
{
	ns_epgroup *g = groups->data;
	for (size_t i = 0; i < groups->n; i++)
		if (ns_same_walk(g[i].ep, ep, way))
			return &g[i];
	ns_epgroup *n = ns_vec_push(groups);
	if (n) {
		n->ep = ep;
		ns_vec_init(&n->ivls, sizeof(ns_ivl));
	}
	return n;
}

int ns_split_by_endpoint(const nsgsim_policy *p, int family, ns_ilist a, int way, ns_vec *groups)
{
	ns_vec_init(groups, sizeof(ns_epgroup));
	uint32_t n = map_n(p, family);
	ns_u128 kmax = ns_key_max(family);
	for (size_t i = 0; i < a.n; i++) {
		ns_u128 lo = a.v[i].lo;
		for (uint32_t k = map_find(p, family, lo); k < n; k++) {
			ns_u128 end = k + 1 < n ? map_start(p, family, k + 1) - 1 : kmax;
			ns_u128 hi = end < a.v[i].hi ? end : a.v[i].hi;
			ns_epgroup *g = group_of(groups, p->recs[map_val(p, family, k)].ep, way);
			if (!g || ns_ivl_append(&g->ivls, lo, hi) != 0)
				return -1;
			if (hi == a.v[i].hi)
				break;
			lo = hi + 1;
		}
	}
	return 0;
}

void ns_epgroups_free(ns_vec *groups)
{
	ns_epgroup *g = groups->data;
	for (size_t i = 0; i < groups->n; i++)
		ns_vec_free(&g[i].ivls);
	ns_vec_free(groups);
}
