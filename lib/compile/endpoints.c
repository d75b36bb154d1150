/* Endpoints: where Azure evaluates an address, built once for every caller.
 *
 * An endpoint is a NIC in one of its subnets, or a subnet alone (an address
 * in a subnet's prefix that no ipConfiguration holds: a private endpoint, a
 * PaaS address).  Each holds, per direction, the steps its traffic meets in
 * Azure's order (ns_azure_layer_order, lib/compile/azure.c).
 *
 * The endpoint map finds an address's endpoint in one search: an interval
 * map whose intervals are the NIC addresses (one address each) and, between
 * them, the parts of the subnets' prefixes; its value is a record (the
 * endpoint, and whether another NIC or subnet holds the address too).  The
 * NIC that holds an address wins over the subnet whose prefix holds it
 * (SEMANTICS.md §0; issue "evaluate end to end"); of several subnets, the
 * first in input order.
 *
 * May touch: lib/base, the model and the compiled policy. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "compile/azure.h"
#include "compile/cls_build.h"
#include "compile/compile.h"

/* ---- the endpoints and their steps ------------------------------------------ */

static int make_steps(nsgsim_policy *p, ns_endpoint *ep)
{
	for (int way = NS_WAY_IN; way <= NS_WAY_OUT; way++) {
		ns_step buf[NSGSIM_MAX_LAYERS];
		size_t n = ns_azure_layer_order(p, ep->subnet, ep->nic, way, buf);
		ns_step *steps = ns_arena_alloc(&p->arena, (n + 1) * sizeof *steps);
		if (!steps)
			return -1;
		memcpy(steps, buf, n * sizeof *steps);
		ep->steps[way] = steps;
		ep->n_steps[way] = (uint8_t)n;
		for (size_t i = 0; i < n; i++)
			for (int w = NS_WAY_IN; w <= NS_WAY_OUT; w++)
				if (steps[i].chain[w] && steps[i].chain[w]->unbuilt)
					ep->unbuilt = true;
	}
	ep->assume = ep->subnet ? ns_azure_endpoint_assumptions(ep->subnet) : 0;
	if (ep->nic)
		for (size_t i = 0; i < ep->nic->n->n_ipconfigs; i++)
			if (ep->nic->n->ipconfigs[i].ip_unknown)
				ep->assume |= NSGSIM_ASSUME_UNKNOWN_NIC_ADDRESS;
	return 0;
}

/* The subnet of an ipConfiguration, else the NIC's (as the NIC's address
 * is evaluated there). */
static ns_csubnet *ipconfig_subnet(const nsgsim_policy *p, const ns_cnic *cn,
                                   const ns_ipconfig *ipc)
{
	return ipc->subnet_id ? ns_map_get(&p->subnet_by_id, ipc->subnet_id) : cn->subnet;
}

/* The NIC's endpoint in subnet cs, or NULL. */
static ns_endpoint *nic_endpoint(const ns_cnic *cn, const ns_csubnet *cs)
{
	for (size_t i = 0; i < cn->n_eps; i++)
		if (cn->eps[i].subnet == cs)
			return (ns_endpoint *)&cn->eps[i];
	return NULL;
}

static size_t count_endpoints(const nsgsim_policy *p)
{
	size_t n = p->n_subnets;
	for (size_t i = 0; i < p->n_nics; i++)
		n += 1 + p->nics[i].n->n_ipconfigs;
	return n;
}

/* A NIC's endpoints: the primary first (its subnet, or none), then one per
 * other subnet its ipConfigurations are in. */
static void add_nic_endpoints(nsgsim_policy *p, ns_cnic *cn)
{
	ns_endpoint *eps = &p->endpoints[p->n_endpoints];
	cn->eps = eps;
	eps[0] = (ns_endpoint){.nic = cn, .subnet = cn->subnet};
	cn->n_eps = 1;
	for (size_t k = 0; k < cn->n->n_ipconfigs; k++) {
		const ns_csubnet *cs = ipconfig_subnet(p, cn, &cn->n->ipconfigs[k]);
		if (cs && !nic_endpoint(cn, cs))
			eps[cn->n_eps++] = (ns_endpoint){.nic = cn, .subnet = cs};
	}
	p->n_endpoints += cn->n_eps;
}

static int make_endpoints(nsgsim_policy *p)
{
	p->endpoints = ns_arena_alloc(&p->arena, (count_endpoints(p) + 1) * sizeof *p->endpoints);
	if (!p->endpoints)
		return -1;
	for (size_t i = 0; i < p->n_subnets; i++) {
		ns_endpoint *ep = &p->endpoints[p->n_endpoints++];
		*ep = (ns_endpoint){.subnet = &p->subnets[i]};
		p->subnets[i].alone = ep;
	}
	for (size_t i = 0; i < p->n_nics; i++)
		add_nic_endpoints(p, &p->nics[i]);
	for (size_t i = 0; i < p->n_endpoints; i++)
		if (make_steps(p, &p->endpoints[i]) != 0)
			return -1;
	return 0;
}

/* ---- the NICs' addresses ------------------------------------------------------ */

typedef struct nic_addr {
	int family;
	ns_u128 ip;
	const ns_cnic *nic;
	const ns_endpoint *ep; /* NULL: the address's NIC is in no subnet */
	const ns_ipconfig *ipc;
} nic_addr;

static int cmp_nic_addr(const void *pa, const void *pb)
{
	const nic_addr *a = pa, *b = pb;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->ip != b->ip)
		return a->ip < b->ip ? -1 : 1;
	return 0;
}

/* Every NIC address, sorted; an address two NICs hold is evaluated at the
 * first of them, with a warning. */
static int nic_addresses(nsgsim_policy *p, nic_addr **out, size_t *n_out)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_nics; i++)
		n += p->nics[i].n->n_ipconfigs;
	nic_addr *a = malloc((n + 1) * sizeof *a);
	if (!a)
		return -1;
	n = 0;
	for (size_t i = 0; i < p->n_nics; i++) {
		const ns_cnic *cn = &p->nics[i];
		for (size_t k = 0; k < cn->n->n_ipconfigs; k++) {
			const ns_ipconfig *ipc = &cn->n->ipconfigs[k];
			if (!ipc->has_ip)
				continue;
			const ns_csubnet *cs = ipconfig_subnet(p, cn, ipc);
			a[n++] = (nic_addr){ipc->family, ipc->ip, cn,
			                    cs ? nic_endpoint(cn, cs) : NULL, ipc};
		}
	}
	qsort(a, n, sizeof *a, cmp_nic_addr);
	for (size_t i = 1; i < n; i++)
		if (cmp_nic_addr(&a[i - 1], &a[i]) == 0 && a[i - 1].nic != a[i].nic)
			ns_model_note(
			        &p->m, NSGSIM_NOTE_WARNING, a[i].ipc->loc.file,
			        a[i].ipc->loc.pointer, a[i].nic->n->id,
			        "address %s is also used by NIC '%s'; flows to it are evaluated "
			        "at '%s'",
			        a[i].ipc->ip_text, a[i - 1].nic->n->name, a[i - 1].nic->n->name);
	*out = a;
	*n_out = n;
	return 0;
}

/* ---- the map: one family's intervals ------------------------------------------ */

typedef struct ep_build {
	const nsgsim_policy *p;
	const nic_addr *addrs; /* sorted */
	size_t n_addrs;
	ns_vec recs;          /* ns_eprec */
	uint32_t *subnet_rec; /* per subnet and ambiguity: record + 1 */
	uint64_t *active;     /* the subnets whose prefixes hold the current key */
	size_t active_words;
} ep_build;

static int64_t new_record(ep_build *eb, const ns_endpoint *ep, bool amb)
{
	ns_eprec *r = ns_vec_push(&eb->recs);
	if (!r)
		return -1;
	*r = (ns_eprec){ep, amb};
	return (int64_t)eb->recs.n - 1;
}

static int64_t subnet_record(ep_build *eb, size_t s, bool amb)
{
	uint32_t *slot = &eb->subnet_rec[s * 2 + amb];
	if (!*slot) {
		int64_t r = new_record(eb, eb->p->subnets[s].alone, amb);
		if (r < 0)
			return -1;
		*slot = (uint32_t)r + 1;
	}
	return *slot - 1;
}

/* The record of a key no NIC holds: the first active subnet, ambiguous
 * when another is active too; record 0 when none is. */
static int64_t subnet_record_here(ep_build *eb)
{
	size_t first = SIZE_MAX;
	bool amb = false;
	for (size_t k = 0; k < eb->active_words && !amb; k++) {
		uint64_t w = eb->active[k];
		if (!w)
			continue;
		if (first == SIZE_MAX) {
			first = k * 64 + (size_t)__builtin_ctzll(w);
			amb = (w & (w - 1)) != 0;
		} else {
			amb = true;
		}
	}
	return first == SIZE_MAX ? 0 : subnet_record(eb, first, amb);
}

/* The record of NIC address *pi (the first of its equal addresses:
 * ambiguous when the next names another NIC), stepping *pi past them. */
static int64_t nic_record_here(ep_build *eb, size_t *pi)
{
	const nic_addr *a = &eb->addrs[*pi], *end = eb->addrs + eb->n_addrs;
	bool amb = a + 1 < end && cmp_nic_addr(a, a + 1) == 0 && a[1].nic != a->nic;
	int64_t r = new_record(eb, a->ep, amb);
	while (*pi < eb->n_addrs && cmp_nic_addr(&eb->addrs[*pi], a) == 0)
		(*pi)++;
	return r;
}

/* The cut points of one family: every subnet prefix's ends and every NIC
 * address and the one after it; sorted, distinct, from 0. */
static ns_u128 *family_cuts(const ep_build *eb, int family, size_t *m_out)
{
	const nsgsim_policy *p = eb->p;
	ns_u128 kmax = family == 4 ? (ns_u128)UINT32_MAX : ~(ns_u128)0;
	size_t n = 1;
	for (size_t i = 0; i < p->n_subnets; i++)
		n += 2 * (family == 4 ? p->subnets[i].prefixes.n4 : p->subnets[i].prefixes.n6);
	n += 2 * eb->n_addrs;
	ns_u128 *b = malloc(n * sizeof *b);
	if (!b)
		return NULL;
	size_t m = 0;
	b[m++] = 0;
	for (size_t i = 0; i < p->n_subnets; i++) {
		const ns_pset *s = &p->subnets[i].prefixes;
		size_t k = family == 4 ? s->n4 : s->n6;
		for (size_t j = 0; j < k; j++) {
			ns_u128 hi = family == 4 ? s->v4[j].hi : s->v6[j].hi;
			b[m++] = family == 4 ? s->v4[j].lo : s->v6[j].lo;
			if (hi < kmax)
				b[m++] = hi + 1;
		}
	}
	for (size_t i = 0; i < eb->n_addrs; i++) {
		const nic_addr *a = &eb->addrs[i];
		if (a->family != family)
			continue;
		b[m++] = a->ip;
		if (a->ip < kmax)
			b[m++] = a->ip + 1;
	}
	*m_out = ns_sort_unique_u128(b, m);
	return b;
}

/* Subnet start and end events at the cut points: the events of cut j are
 * ev[cnt[j-1] .. cnt[j]), subnet ev[e] entering (delta +1) or leaving. */
typedef struct ep_events {
	size_t *cnt;
	uint32_t *ev;
	int *delta;
} ep_events;

static void add_event(ep_events *x, int pass, size_t at, uint32_t subnet, int delta)
{
	if (pass == 0) {
		x->cnt[at + 1]++;
		return;
	}
	x->ev[x->cnt[at]] = subnet;
	x->delta[x->cnt[at]++] = delta;
}

static int family_events(const ep_build *eb, int family, const ns_u128 *b, size_t m, ep_events *x)
{
	const nsgsim_policy *p = eb->p;
	ns_u128 kmax = family == 4 ? (ns_u128)UINT32_MAX : ~(ns_u128)0;
	size_t n_rng = 0;
	for (size_t i = 0; i < p->n_subnets; i++)
		n_rng += family == 4 ? p->subnets[i].prefixes.n4 : p->subnets[i].prefixes.n6;
	x->cnt = calloc(m + 1, sizeof *x->cnt);
	x->ev = malloc((2 * n_rng + 1) * sizeof *x->ev);
	x->delta = malloc((2 * n_rng + 1) * sizeof *x->delta);
	if (!x->cnt || !x->ev || !x->delta)
		return -1;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < p->n_subnets; i++) {
			const ns_pset *s = &p->subnets[i].prefixes;
			size_t k = family == 4 ? s->n4 : s->n6;
			for (size_t j = 0; j < k; j++) {
				ns_u128 lo = family == 4 ? s->v4[j].lo : s->v6[j].lo;
				ns_u128 hi = family == 4 ? s->v4[j].hi : s->v6[j].hi;
				add_event(x, pass, ns_find_u128(b, m, lo), (uint32_t)i, 1);
				if (hi < kmax)
					add_event(x, pass, ns_find_u128(b, m, hi + 1), (uint32_t)i,
					          -1);
			}
		}
		if (pass == 0)
			for (size_t j = 0; j < m; j++)
				x->cnt[j + 1] += x->cnt[j];
	}
	return 0;
}

/* The intervals of one family: NIC addresses are one-address intervals;
 * elsewhere the first subnet holding the address; else record 0. */
static int endpoint_family(ep_build *eb, int family, ns_sweep_out *out)
{
	ns_sweep_out_init(out);
	size_t m = 0;
	ns_u128 *b = family_cuts(eb, family, &m);
	ep_events x = {NULL, NULL, NULL};
	int rc = -1;
	memset(eb->active, 0, eb->active_words * sizeof *eb->active);
	if (!b || family_events(eb, family, b, m, &x) != 0)
		goto out;
	size_t e = 0, pi = 0;
	while (pi < eb->n_addrs && eb->addrs[pi].family != family)
		pi++;
	int64_t last = -1;
	for (size_t j = 0; j < m; j++) {
		for (; e < x.cnt[j]; e++) {
			/* A subnet's own prefixes are disjoint: a toggle is exact. */
			uint32_t s = x.ev[e];
			if (x.delta[e] > 0)
				eb->active[s / 64] |= 1ull << (s % 64);
			else
				eb->active[s / 64] &= ~(1ull << (s % 64));
		}
		bool at_nic = pi < eb->n_addrs && eb->addrs[pi].family == family &&
		              eb->addrs[pi].ip == b[j];
		int64_t rec = at_nic ? nic_record_here(eb, &pi) : subnet_record_here(eb);
		if (rec < 0 || !ns_sweep_emit(out, b[j], (uint32_t)rec, &last))
			goto out;
	}
	rc = 0;
out:
	free(b);
	free(x.cnt);
	free(x.ev);
	free(x.delta);
	return rc;
}

/* ---- the map: both families in one block ---------------------------------------- */

static int lay_map(nsgsim_policy *p, ep_build *eb, const ns_sweep_out o[2],
                   const ns_imap_plan plan[2])
{
	ns_layout l = {0, NULL};
	for (int pass = 0; pass < 2; pass++) {
		ns_eprec *recs = ns_lay(&l, eb->recs.n * sizeof *recs, 64);
		ns_lay_imap(&l, &o[0], &plan[0], &p->ep4);
		ns_lay_imap6(&l, &o[1], &plan[1], &p->ep6);
		if (pass == 1) {
			memcpy(recs, eb->recs.data, eb->recs.n * sizeof *recs);
			p->recs = recs;
			p->n_recs = eb->recs.n;
			p->ep_bytes = l.size;
			return 0;
		}
		l.base = aligned_alloc(64, (l.size + 63) & ~(size_t)63);
		if (!l.base)
			return -1;
		p->ep_mem = l.base;
		l.size = 0;
	}
	return -1;
}

static int build_map(nsgsim_policy *p, const nic_addr *addrs, size_t n_addrs)
{
	ep_build eb = {p, addrs, n_addrs, {0}, NULL, NULL, (p->n_subnets + 63) / 64 + 1};
	ns_vec_init(&eb.recs, sizeof(ns_eprec));
	eb.subnet_rec = calloc(2 * p->n_subnets + 2, sizeof *eb.subnet_rec);
	eb.active = calloc(eb.active_words, sizeof *eb.active);
	ns_sweep_out o[2];
	ns_imap_plan plan[2];
	memset(o, 0, sizeof o);
	memset(plan, 0, sizeof plan);
	int rc = -1;
	/* Record 0: not modelled. */
	if (eb.subnet_rec && eb.active && new_record(&eb, NULL, false) == 0 &&
	    endpoint_family(&eb, 4, &o[0]) == 0 && endpoint_family(&eb, 6, &o[1]) == 0 &&
	    ns_plan_imap(&o[0], 32, false, &plan[0]) == 0 &&
	    ns_plan_imap(&o[1], 128, false, &plan[1]) == 0)
		rc = lay_map(p, &eb, o, plan);
	for (int i = 0; i < 2; i++) {
		ns_sweep_out_free(&o[i]);
		ns_plan_free(&plan[i]);
	}
	ns_vec_free(&eb.recs);
	free(eb.subnet_rec);
	free(eb.active);
	return rc;
}

int ns_compile_endpoints(nsgsim_policy *p, nsgsim_error *err)
{
	nic_addr *addrs = NULL;
	size_t n = 0;
	int rc = make_endpoints(p) == 0 && nic_addresses(p, &addrs, &n) == 0 &&
	                         build_map(p, addrs, n) == 0
	                 ? 0
	                 : ns_fail(err, NSGSIM_E_NOMEM, "", "", "",
	                           "out of memory while building the endpoint map");
	free(addrs);
	return rc;
}
