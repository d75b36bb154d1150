/* Building the match structures of a whole policy: a classifier per NSG
 * chain, one per distinct admin level chain, then the policy-wide classes
 * (compile/classifier.h).  The endpoint map is built before, by
 * lib/compile/endpoints.c.
 *
 * May touch: lib/base and the compiled policy (compile/policy.h). */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compile/azure.h"
#include "compile/cls_build.h"

static int store_add(ns_cls_store *st, ns_cls *c)
{
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 16;
		ns_cls **a = realloc(st->all, cap * sizeof *a);
		if (!a)
			return -1;
		st->all = a;
		st->cap = cap;
	}
	st->all[st->n++] = c;
	st->bytes += c->bytes;
	return 0;
}

static int build_chain(const nsgsim_policy *p, ns_cls_store *st, ns_chain *ch)
{
	ns_cls *c = ns_cls_build(p, ch);
	if (!c || store_add(st, c) != 0) {
		ns_cls_free(c);
		return -1;
	}
	ch->cls = c;
	return 0;
}

/* Admin levels are per subnet, but the subnets a rule collection reaches
 * mostly see the same rules: chains with the same rules in the same order
 * share one classifier (the compiled sides are copies of one compile, but
 * for the VirtualNetwork each subnet joins into a mixed side). */
typedef struct admin_key {
	uint64_t hash;
	const ns_chain *ch;
} admin_key;

static uint64_t chain_hash(const ns_chain *ch)
{
	uint64_t h = ns_splitmix64(ch->n);
	for (size_t i = 0; i < ch->n; i++)
		h = ns_splitmix64(h ^ (uint64_t)(uintptr_t)ch->rules[i].r);
	return h;
}

/* A side that joined VirtualNetwork with other items holds a set of its
 * subnet's own (lib/compile/admin.c): the same rule is the same side only
 * where those sets are equal. */
static bool same_side(const ns_cside *a, const ns_cside *b)
{
	return !a->vnet_mixed || a->set == b->set ||
	       (a->set && b->set && ns_pset_equal(a->set, b->set));
}

static bool same_rules(const ns_chain *a, const ns_chain *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->rules[i].r != b->rules[i].r ||
		    !same_side(&a->rules[i].src, &b->rules[i].src) ||
		    !same_side(&a->rules[i].dst, &b->rules[i].dst))
			return false;
	return true;
}

static int build_admin(const nsgsim_policy *p, ns_cls_store *st)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_subnets; i++)
		n += 2 * p->subnets[i].n_levels;
	size_t cap = 16;
	while (cap < 2 * n)
		cap *= 2;
	admin_key *tab = calloc(cap, sizeof *tab);
	if (!tab)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < p->n_subnets && rc == 0; i++) {
		for (size_t k = 0; k < p->subnets[i].n_levels && rc == 0; k++) {
			ns_admin_level *lvl = &p->subnets[i].levels[k];
			ns_chain *chs[2] = {&lvl->in, &lvl->out};
			for (int d = 0; d < 2 && rc == 0; d++) {
				uint64_t h = chain_hash(chs[d]);
				size_t j = (size_t)h & (cap - 1);
				for (; tab[j].ch; j = (j + 1) & (cap - 1))
					if (tab[j].hash == h && same_rules(tab[j].ch, chs[d]))
						break;
				if (tab[j].ch) {
					chs[d]->cls = tab[j].ch->cls;
					continue;
				}
				rc = build_chain(p, st, chs[d]);
				tab[j] = (admin_key){h, chs[d]};
			}
		}
	}
	free(tab);
	return rc;
}

/* Whether VirtualNetwork holds addresses outside the peered spaces (other
 * than 168.63.129.16): only then can the VNET_TAG_ROUTES assumption arise. */
static bool has_route_addresses(const ns_csubnet *cs)
{
	ns_pset extra = {0};
	if (ns_pset_subtract(&cs->vnet_tag, &cs->vnet->peered, &extra) != 0)
		return true; /* unsure: take the exact path */
	bool more = extra.n6 > 0 || extra.n4 > 1 ||
	            (extra.n4 == 1 &&
	             !(extra.v4[0].lo == NS_AZURE_HOST_IP && extra.v4[0].hi == NS_AZURE_HOST_IP));
	ns_pset_free(&extra);
	return more;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int ns_classify_build(nsgsim_policy *p, nsgsim_error *err)
{
	double t0 = now_ms();
	ns_cls_store *st = calloc(1, sizeof *st);
	if (!st)
		return ns_fail(err, NSGSIM_E_NOMEM, "", "", "", "out of memory");
	p->cls = st;
	st->avx2 = ns_have_avx2();
	int rc = 0;
	for (size_t i = 0; i < p->n_subnets; i++)
		p->subnets[i].vnet_routes = has_route_addresses(&p->subnets[i]);
	for (size_t i = 0; i < p->n_nsgs && rc == 0; i++)
		if ((rc = build_chain(p, st, &p->nsgs[i].in)) == 0)
			rc = build_chain(p, st, &p->nsgs[i].out);
	for (size_t i = 0; i < NS_ARRAY_LEN(p->platform) && rc == 0; i++)
		if ((rc = build_chain(p, st, &p->platform[i].in)) == 0)
			rc = build_chain(p, st, &p->platform[i].out);
	if (rc == 0)
		rc = build_admin(p, st);
	st->bytes += p->ep_bytes; /* the endpoint map is counted with them */
	if (rc == 0)
		rc = ns_build_global(p, st);
	st->build_ms = now_ms() - t0;
	if (rc != 0)
		return ns_fail(err, NSGSIM_E_NOMEM, "", "", "",
		               "out of memory while building the match structures");
	return 0;
}

void ns_classify_free(nsgsim_policy *p)
{
	ns_cls_store *st = p->cls;
	if (!st)
		return;
	for (size_t i = 0; i < st->n; i++)
		ns_cls_free(st->all[i]);
	free(st->all);
	free(st->global_mem);
	free(st->gport_mem);
	free(st);
	p->cls = NULL;
}
