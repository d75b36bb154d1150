/* nsgsim_reach and nsgsim_diff: the set queries over the whole header
 * space, and the accessors of their result.
 *
 * A query's space -- protocols x SOURCE x every source port x TARGET x
 * every destination port, per address family -- is first cut by the
 * endpoint map on both sides into groups of endpoints that walk alike
 * (ns_same_walk), then each pair of groups is partitioned by the walk
 * (lib/eval/region.c), and the pieces that share an outcome and differ in
 * one field are merged.  A diff walks both policies at once and keeps the
 * pieces whose outcomes differ; a pair of groups whose walks are the same
 * chains in both policies cannot differ and is skipped.
 *
 * May touch: lib/base, what parse exposes, the compiled policy, the walker. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "eval/query.h"

static int nomem(nsgsim_error *err)
{
	return ns_fail(err, NSGSIM_E_NOMEM, "", "", "", "out of memory");
}

static nsgsim_regions *regions_new(const nsgsim_query *q)
{
	nsgsim_regions *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->to = q->to ? ns_arena_strdup(&r->arena, q->to) : NULL;
	r->from = q->from ? ns_arena_strdup(&r->arena, q->from) : NULL;
	if ((q->to && !r->to) || (q->from && !r->from)) {
		ns_arena_free(&r->arena);
		free(r);
		return NULL;
	}
	r->protocols = q->protocols ? q->protocols : NSGSIM_PBITS_ALL;
	r->allowed_only = q->allowed_only != 0;
	r->rules = q->rules != 0;
	return r;
}

NSGSIM_EXPORT void nsgsim_regions_free(nsgsim_regions *r)
{
	if (!r)
		return;
	ns_arena_free(&r->arena);
	free(r->pieces);
	free(r);
}

/* ---- boxes ------------------------------------------------------------------------- */

static int as_list(ns_arena *ar, const ns_epgroup *g, ns_ilist *out)
{
	return ns_il_copy(ar, g->ivls.data, g->ivls.n, out);
}

/* The boxes of a query: the ported protocols with every port, the
 * portless ones without ports. */
static int make_boxes(ns_rquery *q, unsigned protos, ns_ilist src, ns_ilist dst, ns_box out[2],
                      int *n)
{
	ns_ilist ports;
	if (ns_il_one(q->arena, 0, 65535, &ports) != 0)
		return -1;
	*n = 0;
	if (protos & NS_PBITS_PORTED)
		out[(*n)++] = (ns_box){protos & NS_PBITS_PORTED, src, ports, dst, ports};
	if (protos & ~NS_PBITS_PORTED)
		out[(*n)++] = (ns_box){protos & ~NS_PBITS_PORTED, src, {NULL, 0}, dst, {NULL, 0}};
	return 0;
}

/* Partitions the flows from the alternatives' sources to dst. */
static int partition(ns_rquery *q, const ns_rspec *spec, unsigned protos, ns_ilist dst)
{
	ns_ilist *lists = malloc((spec->n_alts + 1) * sizeof *lists);
	if (!lists)
		return NSGSIM_E_NOMEM;
	for (size_t a = 0; a < spec->n_alts; a++)
		lists[a] = spec->alts[a].src;
	ns_ilist src;
	ns_box boxes[2];
	int nb = 0, rc = 0;
	if (ns_il_union(q->arena, lists, spec->n_alts, &src) != 0 ||
	    make_boxes(q, protos, src, dst, boxes, &nb) != 0)
		rc = NSGSIM_E_NOMEM;
	for (int i = 0; i < nb && rc == 0; i++) {
		/* A visit keeps no piece: the boxes of each partition go once it ends. */
		ns_arena scratch = {0}, *keep = q->arena;
		if (q->visit)
			q->arena = &scratch;
		rc = ns_region_partition(q, spec, &boxes[i]);
		q->arena = keep;
		ns_arena_free(&scratch);
	}
	free(lists);
	return rc;
}

/* ---- ordering -------------------------------------------------------------------------- */

static int cmp_first(ns_ilist a, ns_ilist b)
{
	if (!a.n || !b.n)
		return (a.n > 0) - (b.n > 0);
	return a.v[0].lo < b.v[0].lo ? -1 : a.v[0].lo > b.v[0].lo;
}

/* By family, destination, destination port, source, then protocols. */
static int cmp_piece(const void *pa, const void *pb)
{
	const ns_piece *a = pa, *b = pb;
	int c;
	if (a->family != b->family)
		return a->family - b->family;
	if ((c = cmp_first(a->box.dst, b->box.dst)) ||
	    (c = cmp_first(a->box.dport, b->box.dport)) ||
	    (c = cmp_first(a->box.src, b->box.src)) || (c = cmp_first(a->box.sport, b->box.sport)))
		return c;
	return (int)a->box.protos - (int)b->box.protos;
}

/* Moves the query's pieces into the result, merged and sorted; with
 * allowed_only, the others to rest when it is given. */
static int move_pieces(ns_rquery *q, nsgsim_regions *r, ns_vec *rest, nsgsim_error *err)
{
	if (r->allowed_only) {
		ns_piece *ps = q->pieces.data;
		size_t m = 0;
		for (size_t i = 0; i < q->pieces.n; i++) {
			if (ps[i].out[0].verdict == NSGSIM_ALLOW) {
				ps[m++] = ps[i];
				continue;
			}
			ns_piece *slot = rest ? ns_vec_push(rest) : NULL;
			if (rest && !slot)
				return nomem(err);
			if (slot)
				*slot = ps[i];
		}
		q->pieces.n = m;
	}
	if (!r->raw && ns_region_merge(q) != 0)
		return nomem(err);
	if (!r->raw && q->pieces.n > 1) /* an empty vector has no data: qsort wants one */
		qsort(q->pieces.data, q->pieces.n, sizeof(ns_piece), cmp_piece);
	r->pieces = q->pieces.data;
	r->n = q->pieces.n;
	ns_vec_init(&q->pieces, sizeof(ns_piece));
	return 0;
}

/* The end of a query that got this far with rc: the result in *out, or
 * everything freed. */
static int finish(int rc, ns_rquery *q, nsgsim_regions *r, nsgsim_regions **out, nsgsim_error *err,
                  ns_vec *rest)
{
	if (rc == 0)
		rc = move_pieces(q, r, rest, err);
	ns_vec_free(&q->pieces);
	if (rc != 0) {
		nsgsim_regions_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

static int query_fail(int rc, const ns_rquery *q, nsgsim_error *err)
{
	if (rc == NSGSIM_E_LIMIT)
		return ns_fail(err, rc, "", "", "",
		               "the query needs more than %llu regions "
		               "(NSGSIM_LIMIT_QUERY_REGIONS); narrow --to or --from",
		               (unsigned long long)q->limit);
	return rc == NSGSIM_E_NOMEM ? nomem(err) : rc;
}

/* ---- reach ------------------------------------------------------------------------------ */

/* The pieces of one family: the sources split into alternatives, once for
 * each group of targets. */
static int reach_family(ns_rquery *q, const nsgsim_policy *p, unsigned protos, ns_ilist from,
                        ns_ilist to)
{
	ns_vec src, dst;
	int rc = 0;
	if (ns_split_by_endpoint(p, q->family, from, NS_WAY_OUT, &src) != 0 ||
	    ns_split_by_endpoint(p, q->family, to, NS_WAY_IN, &dst) != 0)
		rc = NSGSIM_E_NOMEM;
	const ns_epgroup *gs = src.data, *gd = dst.data;
	ns_ralt *alts = calloc(src.n + 1, sizeof *alts);
	if (!alts)
		rc = NSGSIM_E_NOMEM;
	for (size_t i = 0; i < src.n && rc == 0; i++) {
		alts[i].ep[0] = gs[i].ep;
		if (as_list(q->arena, &gs[i], &alts[i].src) != 0)
			rc = NSGSIM_E_NOMEM;
	}
	for (size_t j = 0; j < dst.n && rc == 0; j++) {
		if (q->group)
			q->group(q->visit_ctx, q->family, j, dst.n);
		ns_ilist list;
		ns_rspec spec = {{p, NULL}, alts, src.n, {gd[j].ep, NULL}, false, NULL, 0};
		rc = as_list(q->arena, &gd[j], &list) != 0 ? NSGSIM_E_NOMEM
		                                           : partition(q, &spec, protos, list);
	}
	free(alts);
	ns_epgroups_free(&src);
	ns_epgroups_free(&dst);
	return rc;
}

/* Whether some address of the target belongs to a NIC or subnet: reach
 * answers what reaches a modelled target (its other addresses, and every
 * unmodelled source, are external, as in nsgsim_eval). */
static int target_modelled(const nsgsim_policy *p, const ns_addrs *to, bool *out)
{
	*out = false;
	for (int f = 0; f < 2 && !*out; f++) {
		if (!to->fam[f].n)
			continue;
		ns_vec dst;
		if (ns_split_by_endpoint(p, f ? 6 : 4, to->fam[f], NS_WAY_IN, &dst) != 0)
			return NSGSIM_E_NOMEM;
		const ns_epgroup *gd = dst.data;
		for (size_t j = 0; j < dst.n; j++)
			*out |= gd[j].ep != NULL;
		ns_epgroups_free(&dst);
	}
	return 0;
}

static int check_query(const nsgsim_query *q, nsgsim_regions **out, nsgsim_error *err)
{
	if (!q || !out)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "", "query and out are required");
	*out = NULL;
	if (q->protocols & ~(unsigned)NSGSIM_PBITS_ALL)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "",
		               "protocols: only the NSGSIM_PBIT_* bits");
	return 0;
}

/* The addresses of from and to (every address of to's families when from
 * is NULL). */
static int resolve(const nsgsim_policy *p, const nsgsim_query *q, ns_arena *ar, ns_addrs *to,
                   ns_addrs *from, nsgsim_error *err)
{
	int rc = ns_query_addrs(p, q->to, "the target (to)", ar, to, err);
	if (rc == 0 && q->from)
		rc = ns_query_addrs(p, q->from, "the source (from)", ar, from, err);
	for (int f = 0; rc == 0 && !q->from && f < 2; f++)
		if (to->fam[f].n && ns_il_one(ar, 0, ns_key_max(f ? 6 : 4), &from->fam[f]) != 0)
			rc = nomem(err);
	return rc;
}

/* resolve, and the target must hold a modelled address: reach answers
 * what can reach a NIC or subnet of the input. */
static int resolve_target(const nsgsim_policy *p, const nsgsim_query *q, ns_arena *ar, ns_addrs *to,
                          ns_addrs *from, nsgsim_error *err)
{
	int rc = resolve(p, q, ar, to, from, err);
	bool modelled = false;
	if (rc == 0 && target_modelled(p, to, &modelled) != 0)
		rc = nomem(err);
	else if (rc == 0 && !modelled)
		rc = ns_fail(err, NSGSIM_E_NOT_MODELLED, "", "", "",
		             "no address of the target (to) '%s' belongs to a NIC or subnet in the "
		             "input: reach answers what can reach a modelled target",
		             q->to);
	return rc;
}

static int reach(const nsgsim_policy *p, const nsgsim_query *query, bool raw, nsgsim_regions **out,
                 nsgsim_error *err, ns_rvisit_fn fn, ns_rgroup_fn group, void *ctx, ns_vec *rest);

NSGSIM_EXPORT int nsgsim_reach(const nsgsim_policy *p, const nsgsim_query *query,
                               nsgsim_regions **out, nsgsim_error *err)
{
	return reach(p, query, false, out, err, NULL, NULL, NULL, NULL);
}

int ns_reach_raw(const nsgsim_policy *p, const nsgsim_query *query, nsgsim_regions **out,
                 nsgsim_error *err)
{
	return reach(p, query, true, out, err, NULL, NULL, NULL, NULL);
}

int ns_reach_and_rest(const nsgsim_policy *p, const nsgsim_query *query, nsgsim_regions **out,
                      ns_piece **rest, size_t *n_rest, nsgsim_error *err)
{
	ns_vec v;
	ns_vec_init(&v, sizeof(ns_piece));
	*rest = NULL;
	*n_rest = 0;
	if (!query || !query->allowed_only)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "", "allowed_only is required");
	int rc = reach(p, query, false, out, err, NULL, NULL, NULL, &v);
	if (rc != 0) {
		ns_vec_free(&v);
		return rc;
	}
	*rest = v.data;
	*n_rest = v.n;
	return 0;
}

int ns_reach_visit(const nsgsim_policy *p, const nsgsim_query *query, ns_rvisit_fn fn,
                   ns_rgroup_fn group, void *ctx, nsgsim_error *err)
{
	nsgsim_regions *r = NULL;
	int rc = reach(p, query, true, &r, err, fn, group, ctx, NULL);
	nsgsim_regions_free(r);
	return rc;
}

static int reach(const nsgsim_policy *p, const nsgsim_query *query, bool raw, nsgsim_regions **out,
                 nsgsim_error *err, ns_rvisit_fn fn, ns_rgroup_fn group, void *ctx, ns_vec *rest)
{
	int rc = check_query(query, out, err);
	if (rc != 0)
		return rc;
	if (!p || !query->to)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "",
		               "reach needs a policy and a target (to)");
	if ((rc = ns_check_whole(p, "reach", err)) != 0)
		return rc;
	nsgsim_regions *r = regions_new(query);
	if (!r)
		return nomem(err);
	r->raw = raw;
	ns_addrs to, from;
	ns_rquery q = {0,   &r->arena, {0},   p->m.limits[NSGSIM_LIMIT_QUERY_REGIONS],
	               1,   false,     false, fn,
	               ctx, group};
	ns_vec_init(&q.pieces, sizeof(ns_piece));
	rc = resolve_target(p, query, &r->arena, &to, &from, err);
	bool any = false;
	for (int f = 0; rc == 0 && f < 2; f++) {
		if (!to.fam[f].n || !from.fam[f].n)
			continue;
		any = true;
		q.family = f ? 6 : 4;
		rc = query_fail(reach_family(&q, p, r->protocols, from.fam[f], to.fam[f]), &q, err);
	}
	if (rc == 0 && !any)
		rc = ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "",
		             "the source (from) and the target (to) share no address family");
	return finish(rc, &q, r, out, err, rest);
}

/* ---- a visit in items ---------------------------------------------------------------------- */

typedef struct rfam {
	int family;
	ns_ralt *alts;
	size_t n_alts;
	ns_vec dst; /* ns_epgroup */
} rfam;

struct ns_rplan {
	const nsgsim_policy *p;
	nsgsim_regions *r; /* the query's addresses, in its arena */
	unsigned protos;
	uint64_t limit;
	rfam fam[2];
	int n_fam;
};

void ns_rplan_free(ns_rplan *pl)
{
	if (!pl)
		return;
	for (int f = 0; f < pl->n_fam; f++) {
		free(pl->fam[f].alts);
		ns_epgroups_free(&pl->fam[f].dst);
	}
	nsgsim_regions_free(pl->r);
	free(pl);
}

size_t ns_rplan_items(const ns_rplan *pl)
{
	size_t n = 0;
	for (int f = 0; f < pl->n_fam; f++)
		n += pl->fam[f].dst.n;
	return n;
}

/* A family's source alternatives and destination groups (reach_family's). */
static int plan_family(ns_rplan *pl, rfam *rf, ns_ilist from, ns_ilist to)
{
	ns_vec src;
	int rc = 0;
	ns_vec_init(&rf->dst, sizeof(ns_epgroup));
	if (ns_split_by_endpoint(pl->p, rf->family, from, NS_WAY_OUT, &src) != 0 ||
	    ns_split_by_endpoint(pl->p, rf->family, to, NS_WAY_IN, &rf->dst) != 0)
		rc = NSGSIM_E_NOMEM;
	const ns_epgroup *gs = src.data;
	rf->alts = calloc(src.n + 1, sizeof *rf->alts);
	if (!rf->alts)
		rc = NSGSIM_E_NOMEM;
	for (size_t i = 0; i < src.n && rc == 0; i++) {
		rf->alts[i].ep[0] = gs[i].ep;
		if (as_list(&pl->r->arena, &gs[i], &rf->alts[i].src) != 0)
			rc = NSGSIM_E_NOMEM;
	}
	rf->n_alts = src.n;
	ns_epgroups_free(&src);
	return rc;
}

int ns_reach_plan(const nsgsim_policy *p, const nsgsim_query *query, ns_rplan **out,
                  nsgsim_error *err)
{
	nsgsim_regions *dummy = NULL;
	int rc = check_query(query, &dummy, err);
	if (rc != 0)
		return rc;
	*out = NULL;
	if (!p || !query->to)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "",
		               "reach needs a policy and a target (to)");
	if ((rc = ns_check_whole(p, "reach", err)) != 0)
		return rc;
	ns_rplan *pl = calloc(1, sizeof *pl);
	if (!pl || !(pl->r = regions_new(query))) {
		free(pl);
		return nomem(err);
	}
	pl->p = p;
	pl->protos = pl->r->protocols;
	pl->limit = p->m.limits[NSGSIM_LIMIT_QUERY_REGIONS];
	ns_addrs to, from;
	rc = resolve_target(p, query, &pl->r->arena, &to, &from, err);
	bool any = false;
	for (int f = 0; rc == 0 && f < 2; f++) {
		if (!to.fam[f].n || !from.fam[f].n)
			continue;
		any = true;
		rfam *rf = &pl->fam[pl->n_fam++];
		rf->family = f ? 6 : 4;
		if (plan_family(pl, rf, from.fam[f], to.fam[f]) != 0)
			rc = nomem(err);
	}
	if (rc == 0 && !any)
		rc = ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "",
		             "the source (from) and the target (to) share no address family");
	if (rc != 0) {
		ns_rplan_free(pl);
		return rc;
	}
	*out = pl;
	return 0;
}

int ns_rplan_visit(const ns_rplan *pl, size_t i, ns_rvisit_fn fn, void *ctx)
{
	int f = 0;
	while (f < pl->n_fam && i >= pl->fam[f].dst.n)
		i -= pl->fam[f++].dst.n;
	if (f == pl->n_fam)
		return NSGSIM_E_INVALID_ARG;
	const rfam *rf = &pl->fam[f];
	const ns_epgroup *gd = rf->dst.data;
	ns_arena ar = {0};
	ns_rquery q = {rf->family, &ar, {0}, pl->limit, 1, false, false, fn, ctx, NULL};
	ns_vec_init(&q.pieces, sizeof(ns_piece));
	ns_ilist list;
	ns_rspec spec = {{pl->p, NULL}, rf->alts, rf->n_alts, {gd[i].ep, NULL}, false, NULL, 0};
	int rc = as_list(&ar, &gd[i], &list) != 0 ? NSGSIM_E_NOMEM
	                                          : partition(&q, &spec, pl->protos, list);
	ns_vec_free(&q.pieces);
	ns_arena_free(&ar);
	return rc;
}

/* ---- diff -------------------------------------------------------------------------------- */

/* The groups of both policies over one list: each before-group split by
 * the after map. */
typedef struct pairgroup {
	const ns_endpoint *ep[2]; /* before, after */
	ns_ilist list;
	bool same; /* walks the same chains in both (by content) */
} pairgroup;

static bool same_crule(const ns_crule *a, const ns_crule *b);

static bool same_cside(const ns_cside *a, const ns_cside *b)
{
	if (a->any_addr != b->any_addr || a->vnet_tag != b->vnet_tag || a->n_ports != b->n_ports ||
	    (a->set == NULL) != (b->set == NULL) || (a->set && !ns_pset_equal(a->set, b->set)))
		return false;
	return a->n_ports == 0 || memcmp(a->ports, b->ports, a->n_ports * sizeof *a->ports) == 0;
}

static bool same_crule(const ns_crule *a, const ns_crule *b)
{
	return a->priority == b->priority && a->access == b->access && a->protocol == b->protocol &&
	       a->ends == b->ends && ns_ieq(a->r->id, b->r->id) && ns_ieq(a->r->name, b->r->name) &&
	       same_cside(&a->src, &b->src) && same_cside(&a->dst, &b->dst);
}

/* Whether two endpoints of the two policies walk the same chains by
 * content in direction way (then no flow's outcome differs there). */
static bool same_across(const ns_endpoint *a, const ns_endpoint *b, int way)
{
	if (!a || !b)
		return a == b;
	if (a->n_steps[way] != b->n_steps[way] ||
	    !ns_pset_equal(&a->subnet->vnet_tag, &b->subnet->vnet_tag))
		return false;
	for (size_t k = 0; k < a->n_steps[way]; k++) {
		const ns_step *x = &a->steps[way][k], *y = &b->steps[way][k];
		const ns_chain *cx = x->chain[way], *cy = y->chain[way];
		if (x->layer != y->layer || !ns_ieq(x->resource, y->resource) || cx->n != cy->n)
			return false;
		for (size_t i = 0; i < cx->n; i++)
			if (!same_crule(&cx->rules[i], &cy->rules[i]))
				return false;
	}
	return true;
}

static int pair_groups(ns_rquery *q, const nsgsim_policy *pb, const nsgsim_policy *pa,
                       ns_ilist list, int way, ns_vec *out)
{
	ns_vec_init(out, sizeof(pairgroup));
	ns_vec gb;
	int rc = ns_split_by_endpoint(pb, q->family, list, way, &gb) != 0 ? -1 : 0;
	const ns_epgroup *b = gb.data;
	for (size_t i = 0; i < gb.n && rc == 0; i++) {
		ns_ilist part;
		ns_vec ga;
		if (as_list(q->arena, &b[i], &part) != 0 ||
		    ns_split_by_endpoint(pa, q->family, part, way, &ga) != 0)
			rc = -1;
		const ns_epgroup *a = ga.data;
		for (size_t j = 0; j < ga.n && rc == 0; j++) {
			pairgroup *g = ns_vec_push(out);
			if (!g || as_list(q->arena, &a[j], &g->list) != 0) {
				rc = -1;
				break;
			}
			g->ep[0] = b[i].ep;
			g->ep[1] = a[j].ep;
			g->same = same_across(b[i].ep, a[j].ep, way);
		}
		ns_epgroups_free(&ga);
	}
	ns_epgroups_free(&gb);
	return rc;
}

/* ---- the guard: where two policies' chains differ ---------------------------------------- */

/* Whether two endpoints of the two policies meet the same layers of the same
 * resources in direction way, over subnets whose VirtualNetwork is the same
 * (then their chains differ at most in rules). */
static bool same_steps(const ns_endpoint *a, const ns_endpoint *b, int way)
{
	if (a->n_steps[way] != b->n_steps[way] || !a->subnet || !b->subnet ||
	    !ns_pset_equal(&a->subnet->vnet_tag, &b->subnet->vnet_tag))
		return false;
	for (size_t k = 0; k < a->n_steps[way]; k++)
		if (a->steps[way][k].layer != b->steps[way][k].layer ||
		    !ns_ieq(a->steps[way][k].resource, b->steps[way][k].resource))
			return false;
	return true;
}

/* The rules of two chains (before x, after y) that are not the same rule
 * at the same place of both: the chains are walked together in priority
 * order, and a pair is kept out only when equal (same_crule).  So the
 * rules kept out are the same sequence in both chains, and a flow that no
 * kept rule matches has the same first match in both. */
static void changed_rules(const ns_chain *x, const ns_chain *y, ns_chain *gx, ns_chain *gy)
{
	size_t i = 0, j = 0;
	while (i < x->n || j < y->n) {
		bool both = i < x->n && j < y->n;
		if (both && x->rules[i].priority == y->rules[j].priority) {
			if (!same_crule(&x->rules[i], &y->rules[j])) {
				gx->rules[gx->n++] = x->rules[i];
				gy->rules[gy->n++] = y->rules[j];
			}
			i++;
			j++;
		} else if (j >= y->n || (i < x->n && x->rules[i].priority < y->rules[j].priority)) {
			gx->rules[gx->n++] = x->rules[i++];
		} else {
			gy->rules[gy->n++] = y->rules[j++];
		}
	}
}

static size_t rules_on_way(const ns_endpoint *ep, int way)
{
	size_t n = 0;
	for (size_t k = 0; k < ep->n_steps[way]; k++)
		n += ep->steps[way][k].chain[way]->n;
	return n;
}

/* The two guards (before's rules, after's) of one side: alternative alt's
 * sources (way out) or the destination (way in, alt -1). */
static int side_guards(ns_rquery *q, const ns_endpoint *const ep[2], int way, long alt,
                       ns_rguard *out)
{
	ns_chain *g[2];
	for (int w = 0; w < 2; w++) {
		g[w] = ns_arena_alloc(q->arena, sizeof *g[w]);
		size_t cap = rules_on_way(ep[w], way) + 1;
		if (!g[w] || !(g[w]->rules = ns_arena_alloc(q->arena, cap * sizeof(ns_crule))))
			return NSGSIM_E_NOMEM;
	}
	for (size_t k = 0; k < ep[0]->n_steps[way]; k++)
		changed_rules(ep[0]->steps[way][k].chain[way], ep[1]->steps[way][k].chain[way],
		              g[0], g[1]);
	for (int w = 0; w < 2; w++)
		out[w] = (ns_rguard){g[w], ep[w]->subnet, alt};
	return 0;
}

/* The guards of a diff's partition, when every side that walks differently
 * meets the same steps in both policies (spec->guarded then); otherwise
 * none, and the partition cuts everything.  0 or NSGSIM_E_NOMEM. */
static int build_guards(ns_rquery *q, ns_rspec *spec, const bool *alt_same, bool dst_same)
{
	spec->guarded = false;
	const ns_endpoint *const *d = spec->dst;
	if (!d[0] || !d[1] || !same_steps(d[0], d[1], NS_WAY_IN))
		return 0;
	for (size_t a = 0; a < spec->n_alts; a++) {
		const ns_endpoint *const *s = spec->alts[a].ep;
		if (!alt_same[a] && (!s[0] || !s[1] || !same_steps(s[0], s[1], NS_WAY_OUT)))
			return 0;
	}
	ns_rguard *g = ns_arena_alloc(q->arena, (2 * spec->n_alts + 2) * sizeof *g);
	if (!g)
		return NSGSIM_E_NOMEM;
	size_t n = 0;
	for (size_t a = 0; a < spec->n_alts; a++) {
		if (alt_same[a])
			continue;
		if (side_guards(q, spec->alts[a].ep, NS_WAY_OUT, (long)a, &g[n]) != 0)
			return NSGSIM_E_NOMEM;
		n += 2;
	}
	if (!dst_same) {
		if (side_guards(q, d, NS_WAY_IN, -1, &g[n]) != 0)
			return NSGSIM_E_NOMEM;
		n += 2;
	}
	spec->guards = g;
	spec->n_guards = n;
	spec->guarded = true;
	return 0;
}

/* The flows to one target group: every source group, but those that walk
 * the same chains in both policies when the target does too (no flow of
 * theirs can differ), and those unmodelled in both when it is too.  Within
 * the rest, only where the chains differ (build_guards). */
static int diff_target(ns_rquery *q, const nsgsim_policy *const pol[2], unsigned protos,
                       const pairgroup *gs, size_t ns, const pairgroup *gd)
{
	ns_ralt *alts = calloc(ns + 1, sizeof *alts);
	bool *alt_same = calloc(ns + 1, sizeof *alt_same);
	int rc = alts && alt_same ? 0 : NSGSIM_E_NOMEM;
	size_t n = 0;
	bool dst_none = !gd->ep[0] && !gd->ep[1];
	for (size_t i = 0; i < ns && rc == 0; i++) {
		if ((gs[i].same && gd->same) || (dst_none && !gs[i].ep[0] && !gs[i].ep[1]))
			continue;
		alt_same[n] = gs[i].same;
		alts[n++] = (ns_ralt){gs[i].list, {gs[i].ep[0], gs[i].ep[1]}};
	}
	ns_rspec spec = {{pol[0], pol[1]}, alts, n, {gd->ep[0], gd->ep[1]}, false, NULL, 0};
	if (rc == 0 && n)
		rc = build_guards(q, &spec, alt_same, gd->same);
	if (rc == 0 && n)
		rc = partition(q, &spec, protos, gd->list);
	free(alts);
	free(alt_same);
	return rc;
}

static int diff_family(ns_rquery *q, const nsgsim_policy *const pol[2], unsigned protos,
                       ns_ilist from, ns_ilist to)
{
	ns_vec src, dst;
	int rc = 0;
	if (pair_groups(q, pol[0], pol[1], from, NS_WAY_OUT, &src) != 0 ||
	    pair_groups(q, pol[0], pol[1], to, NS_WAY_IN, &dst) != 0)
		rc = NSGSIM_E_NOMEM;
	const pairgroup *gs = src.data, *gd = dst.data;
	for (size_t j = 0; j < dst.n && rc == 0; j++)
		rc = diff_target(q, pol, protos, gs, src.n, &gd[j]);
	ns_vec_free(&src);
	ns_vec_free(&dst);
	return rc;
}

/* A name of either policy (a NIC, a subnet, a tag), or an address. */
static int resolve_either(const nsgsim_policy *const pol[2], const char *text, const char *what,
                          ns_arena *ar, ns_addrs *out, nsgsim_error *err)
{
	memset(out, 0, sizeof *out);
	if (!text) {
		for (int f = 0; f < 2; f++)
			if (ns_il_one(ar, 0, ns_key_max(f ? 6 : 4), &out->fam[f]) != 0)
				return nomem(err);
		return 0;
	}
	ns_addrs x[2];
	int rc[2];
	nsgsim_error e[2];
	for (int k = 0; k < 2; k++)
		rc[k] = ns_query_addrs(pol[k], text, what, ar, &x[k], &e[k]);
	if (rc[0] && rc[1]) {
		if (err)
			*err = e[1];
		return rc[1];
	}
	for (int f = 0; f < 2; f++) {
		ns_ilist a = rc[0] ? x[1].fam[f] : x[0].fam[f];
		if (!rc[0] && !rc[1] && ns_il_or(ar, x[0].fam[f], x[1].fam[f], &a) != 0)
			return nomem(err);
		out->fam[f] = a;
	}
	return 0;
}

static void count_changes(nsgsim_regions *r)
{
	for (size_t i = 0; i < r->n; i++) {
		bool was = r->pieces[i].out[0].verdict == NSGSIM_ALLOW;
		bool is = r->pieces[i].out[1].verdict == NSGSIM_ALLOW;
		r->opened += !was && is;
		r->closed += was && !is;
	}
}

NSGSIM_EXPORT int nsgsim_diff(const nsgsim_policy *before, const nsgsim_policy *after,
                              const nsgsim_query *query, nsgsim_regions **out, nsgsim_error *err)
{
	int rc = check_query(query, out, err);
	if (rc != 0)
		return rc;
	if (!before || !after)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "", "diff needs two policies");
	if ((rc = ns_check_whole(before, "diff", err)) != 0 ||
	    (rc = ns_check_whole(after, "diff", err)) != 0)
		return rc;
	nsgsim_regions *r = regions_new(query);
	if (!r)
		return nomem(err);
	r->diff = true;
	r->allowed_only = false;
	const nsgsim_policy *pol[2] = {before, after};
	ns_addrs to, from;
	ns_rquery q = {0,
	               &r->arena,
	               {0},
	               after->m.limits[NSGSIM_LIMIT_QUERY_REGIONS],
	               2,
	               true,
	               query->rules != 0,
	               NULL,
	               NULL,
	               NULL};
	ns_vec_init(&q.pieces, sizeof(ns_piece));
	rc = resolve_either(pol, query->to, "the target (to)", &r->arena, &to, err);
	if (rc == 0)
		rc = resolve_either(pol, query->from, "the source (from)", &r->arena, &from, err);
	for (int f = 0; rc == 0 && f < 2; f++) {
		if (!to.fam[f].n || !from.fam[f].n)
			continue;
		q.family = f ? 6 : 4;
		rc = query_fail(diff_family(&q, pol, r->protocols, from.fam[f], to.fam[f]), &q,
		                err);
	}
	if ((rc = finish(rc, &q, r, out, err, NULL)) == 0)
		count_changes(r);
	return rc;
}

/* ---- reading a result ---------------------------------------------------------------------- */

NSGSIM_EXPORT size_t nsgsim_regions_count(const nsgsim_regions *r)
{
	return r ? r->n : 0;
}

NSGSIM_EXPORT void nsgsim_regions_summary(const nsgsim_regions *r, size_t *opened, size_t *closed)
{
	if (opened)
		*opened = r ? r->opened : 0;
	if (closed)
		*closed = r ? r->closed : 0;
}

static nsgsim_decided decided_of(const ns_rout *o)
{
	nsgsim_decided d = {o->verdict, o->layer, o->endpoint, {0}, o->resource};
	ns_rule_ref(o->rule, &d.rule);
	return d;
}

NSGSIM_EXPORT int nsgsim_regions_get(const nsgsim_regions *r, size_t i, nsgsim_region *out)
{
	if (!r || !out || i >= r->n)
		return NSGSIM_E_INVALID_ARG;
	const ns_piece *pc = &r->pieces[i];
	memset(out, 0, sizeof *out);
	out->protocols = pc->box.protos;
	out->family = pc->family;
	out->n_sources = pc->box.src.n;
	out->n_source_ports = pc->box.sport.n;
	out->n_destinations = pc->box.dst.n;
	out->n_destination_ports = pc->box.dport.n;
	out->decided = decided_of(&pc->out[r->diff ? 1 : 0]);
	if (r->diff)
		out->before = decided_of(&pc->out[0]);
	return 0;
}

static const ns_ilist *field_list(const ns_piece *pc, int field)
{
	switch (field) {
	case NSGSIM_FIELD_SOURCES:
		return &pc->box.src;
	case NSGSIM_FIELD_SOURCE_PORTS:
		return &pc->box.sport;
	case NSGSIM_FIELD_DESTINATIONS:
		return &pc->box.dst;
	case NSGSIM_FIELD_DESTINATION_PORTS:
		return &pc->box.dport;
	}
	return NULL;
}

static void ip_of(nsgsim_ip *ip, int family, ns_u128 v)
{
	memset(ip, 0, sizeof *ip);
	ip->family = family;
	int n = family == 4 ? 4 : 16;
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		ip->bytes[i] = (uint8_t)v;
}

NSGSIM_EXPORT int nsgsim_region_range(const nsgsim_regions *r, size_t i, int field, size_t k,
                                      nsgsim_ip *lo_ip, nsgsim_ip *hi_ip, int *lo_port,
                                      int *hi_port)
{
	if (!r || i >= r->n)
		return NSGSIM_E_INVALID_ARG;
	const ns_ilist *l = field_list(&r->pieces[i], field);
	if (!l || k >= l->n)
		return NSGSIM_E_INVALID_ARG;
	ns_ivl v = l->v[k];
	bool addr = field == NSGSIM_FIELD_SOURCES || field == NSGSIM_FIELD_DESTINATIONS;
	if (addr && lo_ip)
		ip_of(lo_ip, r->pieces[i].family, v.lo);
	if (addr && hi_ip)
		ip_of(hi_ip, r->pieces[i].family, v.hi);
	if (!addr && lo_port)
		*lo_port = (int)v.lo;
	if (!addr && hi_port)
		*hi_port = (int)v.hi;
	return 0;
}

NSGSIM_EXPORT int nsgsim_region_contains(const nsgsim_regions *r, size_t i, const nsgsim_flow *flow)
{
	if (!r || !flow || i >= r->n || flow->src.family != r->pieces[i].family ||
	    flow->dst.family != flow->src.family)
		return 0;
	int proto = flow->protocol;
	if (proto != NSGSIM_PROTO_TCP && proto != NSGSIM_PROTO_UDP && proto != NSGSIM_PROTO_ICMP &&
	    proto != NSGSIM_PROTO_ESP && proto != NSGSIM_PROTO_AH)
		return 0;
	bool ported = proto == NSGSIM_PROTO_TCP || proto == NSGSIM_PROTO_UDP;
	if (ported && (flow->src_port < 0 || flow->dst_port < 0))
		return 0;
	return ns_box_contains(&r->pieces[i].box, ns_proto_slot(proto), ns_ip_value(&flow->src),
	                       ported ? flow->src_port : -1, ns_ip_value(&flow->dst),
	                       ported ? flow->dst_port : -1);
}
