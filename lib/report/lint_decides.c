/* never-decides: a rule (NSG or admin) that is the first match of its layer
 * in no end-to-end evaluation that reaches that layer, at any endpoint.
 *
 * Exact, by the set engine: one walk over every flow (every protocol, every
 * source, every destination of each family, modelled or not), whose leaves
 * (ns_rquery.visit) give, for a set of flows at once, the winner of every
 * step of the source's Outbound and the destination's Inbound walk and
 * every rule that matches all of those flows.  A rule decides when it is
 * the winner of a step the walk reaches (no earlier step ended it); a rule
 * that matches flows it does not decide is kept from them by what the
 * evidence names: the winner of its own step, or the rule that ended the
 * walk before its layer.  Nothing is sampled.
 *
 * The walk's items (a destination group each, eval/region.h's ns_rplan)
 * run apart, on threads with nsgsim_lint_options.jobs, each into a state
 * of its own, merged into the whole in item order: what an item adds to a
 * rule's evidence is what it would add walked after the items before it
 * (a rule's first blockers until it decides, at most MAX_BLOCKERS), so the
 * findings are those of one walk in order, for any number of threads.
 *
 * May touch: lib/base, the compiled policy and eval/region.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eval/region.h"
#include "report/jobs.h"
#include "report/lint.h"
#include "report/report.h"

#define MAX_BLOCKERS 4

typedef struct rstate {
	bool present, decides, matched;
	const ns_crule *by[MAX_BLOCKERS]; /* what ends the flows it matches first */
	const char *by_res[MAX_BLOCKERS];
	size_t n_by;
} rstate;

typedef struct dctx {
	const nsgsim_policy *p;
	nsgsim_findings *fs;
	uintptr_t base[2];
	size_t n[2];
	rstate *st; /* NSG rules, then admin rules */
} dctx;

/* The state of a rule: NULL for one of neither vector (none in practice). */
static rstate *state_of(dctx *d, const ns_crule *r)
{
	uintptr_t a = (uintptr_t)r->r;
	for (int v = 0; v < 2; v++)
		if (d->n[v] && a >= d->base[v] && a < d->base[v] + d->n[v] * sizeof(ns_rule))
			return &d->st[(v ? d->n[0] : 0) + (a - d->base[v]) / sizeof(ns_rule)];
	return NULL;
}

static void blocked(dctx *d, const ns_crule *r, const ns_crule *by, const char *res)
{
	rstate *s = state_of(d, r);
	if (!s)
		return;
	s->matched = true;
	if (s->decides || !by)
		return;
	for (size_t i = 0; i < s->n_by; i++)
		if (s->by[i]->r == by->r)
			return;
	if (s->n_by < MAX_BLOCKERS) {
		s->by_res[s->n_by] = res;
		s->by[s->n_by++] = by;
	}
}

static const char *res_or_empty(const char *s)
{
	return s ? s : "";
}

static const ns_chain *step_chain(const ns_endpoint *ep, int side, size_t k)
{
	int way = side == 0 ? NS_WAY_OUT : NS_WAY_IN;
	return ep->steps[way][k].chain[way];
}

/* One leaf: walk its steps as ns_walk_flow does, noting for each step
 * whether the walk reaches it and, if not, the rule that ended it first. */
static void visit(void *ctx, const ns_rvisit *v)
{
	dctx *d = ctx;
	const ns_crule *ender[2][NSGSIM_MAX_LAYERS];
	const char *ender_res[2][NSGSIM_MAX_LAYERS];
	bool reached[2][NSGSIM_MAX_LAYERS];
	const ns_crule *denied = NULL; /* a Deny ends both sides */
	const char *denied_res = NULL;
	for (int s = 0; s < 2; s++) {
		const ns_endpoint *ep = v->ep[s];
		int way = s == 0 ? NS_WAY_OUT : NS_WAY_IN;
		const ns_crule *end = denied;
		const char *end_res = denied_res;
		for (size_t k = 0; ep && k < ep->n_steps[way]; k++) {
			reached[s][k] = end == NULL;
			ender[s][k] = end;
			ender_res[s][k] = end_res;
			if (end)
				continue;
			const ns_chain *ch = step_chain(ep, s, k);
			uint32_t w = v->given[s][k];
			if (w >= ch->n)
				continue;
			const ns_crule *r = &ch->rules[w];
			rstate *st = state_of(d, r);
			if (st)
				st->decides = st->matched = true;
			if (r->ends) {
				end = r;
				end_res = ep->steps[way][k].resource;
				if (r->ends == NSGSIM_DENY) {
					denied = r;
					denied_res = end_res;
				}
			}
		}
	}
	for (size_t i = 0; i < v->n_hits; i++) {
		const ns_rhit *h = &v->hits[i];
		const ns_endpoint *ep = v->ep[h->side];
		int way = h->side == 0 ? NS_WAY_OUT : NS_WAY_IN;
		const ns_chain *ch = step_chain(ep, (int)h->side, h->k);
		uint32_t w = v->given[h->side][h->k];
		if (w == h->rule && reached[h->side][h->k])
			continue; /* it decides here (marked above) */
		if (reached[h->side][h->k])
			blocked(d, &ch->rules[h->rule], &ch->rules[w],
			        ep->steps[way][h->k].resource);
		else
			blocked(d, &ch->rules[h->rule], ender[h->side][h->k],
			        ender_res[h->side][h->k]);
	}
}

/* The items of the walk, run apart and merged in order. */
typedef struct dpar {
	dctx *d;
	const ns_rplan *pl;
	rstate **st; /* each item's state until merged */
	int *rc;
	uint64_t from, to; /* the stage's progress units */
} dpar;

static void item_work(void *ctx, size_t i)
{
	dpar *dp = ctx;
	dctx local = *dp->d;
	local.st = calloc(local.n[0] + local.n[1] + 1, sizeof *local.st);
	dp->rc[i] = local.st ? ns_rplan_visit(dp->pl, i, visit, &local) : NSGSIM_E_NOMEM;
	dp->st[i] = local.st;
}

/* Item i's state into the whole, as if walked after the items before it. */
static void item_commit(void *ctx, size_t i)
{
	dpar *dp = ctx;
	rstate *all = dp->d->st, *mine = dp->st[i];
	size_t n = dp->d->n[0] + dp->d->n[1];
	for (size_t k = 0; mine && k < n; k++) {
		rstate *a = &all[k];
		const rstate *m = &mine[k];
		if (!m->matched)
			continue;
		a->matched = true;
		for (size_t b = 0; !a->decides && b < m->n_by; b++) {
			size_t j = 0;
			while (j < a->n_by && a->by[j]->r != m->by[b]->r)
				j++;
			if (j == a->n_by && a->n_by < MAX_BLOCKERS) {
				a->by_res[a->n_by] = m->by_res[b];
				a->by[a->n_by++] = m->by[b];
			}
		}
		a->decides |= m->decides;
	}
	free(mine);
	dp->st[i] = NULL;
}

static void item_tick(void *ctx, size_t done, size_t n)
{
	dpar *dp = ctx;
	ns_lint_progress(dp->d->fs, dp->from, dp->to, done, n);
}

/* Every flow of one family's space: 0, -1 out of memory, 1 when it cannot
 * be answered exactly. */
static int walk_family(dctx *d, const char *space, uint64_t from, uint64_t to)
{
	nsgsim_query q = {space, space, 0, 0, 0};
	ns_rplan *pl = NULL;
	int st = ns_reach_plan(d->p, &q, &pl, NULL);
	if (st != 0)
		return st == NSGSIM_E_NOMEM ? -1 : st == NSGSIM_E_NOT_MODELLED ? 0 : 1;
	size_t n = ns_rplan_items(pl);
	dpar dp = {d, pl, calloc(n + 1, sizeof *dp.st), calloc(n + 1, sizeof *dp.rc), from, to};
	int rc = dp.st && dp.rc ? 0 : -1;
	if (rc == 0 && ns_jobs_run(d->fs->jobs, n, item_work, item_commit, item_tick, &dp) != 0)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (dp.rc[i] != 0)
			rc = dp.rc[i] == NSGSIM_E_NOMEM ? -1 : 1;
	for (size_t i = 0; dp.st && i < n; i++)
		free(dp.st[i]);
	free(dp.st);
	free(dp.rc);
	ns_rplan_free(pl);
	return rc;
}

static void mark_present(dctx *d)
{
	const nsgsim_policy *p = d->p;
	for (size_t i = 0; i < p->n_endpoints; i++) {
		const ns_endpoint *ep = &p->endpoints[i];
		for (int way = 0; way < 2; way++)
			for (size_t k = 0; k < ep->n_steps[way]; k++) {
				const ns_chain *ch = ep->steps[way][k].chain[way];
				for (size_t j = 0; ch && j < ch->n; j++) {
					rstate *st = state_of(d, &ch->rules[j]);
					if (st)
						st->present = true;
				}
			}
	}
}

static const char *access_word(int access)
{
	return access == NS_ACCESS_DENY           ? "Deny"
	       : access == NS_ACCESS_ALWAYS_ALLOW ? "AlwaysAllow"
	                                          : "Allow";
}

static bool already_shadowed(const nsgsim_findings *fs, const ns_rule *r)
{
	for (size_t i = 0; i < fs->v.n; i++) {
		const nsgsim_finding *f = NS_VEC_AT(&fs->v, nsgsim_finding, i);
		if (f->rule == r->id && strcmp(f->id, "shadowed-rule") == 0)
			return true;
	}
	return false;
}

static void report(nsgsim_findings *fs, const ns_rule *r, const rstate *st, bool admin)
{
	ns_buf ev;
	ns_buf_init(&ev);
	ns_buf_puts(&ev, "{\"endedFirstBy\": [");
	for (size_t i = 0; i < st->n_by; i++) {
		const ns_crule *b = st->by[i];
		ns_buf_printf(&ev, "%s{\"name\": ", i ? ", " : "");
		ns_buf_json_string(&ev, b->r->name);
		ns_buf_printf(&ev,
		              ", \"priority\": %d, \"access\": \"%s\", \"resource\": ", b->priority,
		              access_word(b->access));
		ns_buf_json_string(&ev, res_or_empty(st->by_res[i]));
		ns_buf_puts(&ev, ", \"id\": ");
		ns_buf_json_string(&ev, b->r->id);
		ns_buf_puts(&ev, "}");
	}
	ns_buf_printf(&ev, "], \"kind\": \"%s\"}",
	              st->matched ? "pre-empted" : "matches-no-reached-flow");
	const char *why =
	        st->matched ? "every flow it matches is decided first by another rule (of "
	                      "higher priority in its layer, or of an earlier layer: see "
	                      "evidence); move it, or remove it"
	                    : "matches no flow at any subnet or NIC where it applies (its "
	                      "addresses are nowhere its layer is evaluated); fix or remove it";
	const char *msg = ns_arena_printf(
	        &fs->ar, "%s rule '%s' (priority %d, %s) decides no flow: %s",
	        admin ? "admin" : "NSG", r->name, r->priority, access_word(r->access), why);
	ns_lint_add(fs, "never-decides", NSGSIM_LEVEL_WARNING,
	            admin || !r->parent_id ? r->id : r->parent_id, r, &r->loc, msg, &ev);
	ns_buf_free(&ev);
}

int ns_lint_decides(const nsgsim_policy *p, nsgsim_findings *fs)
{
	dctx d = {p,
	          fs,
	          {(uintptr_t)p->m.rules.data, (uintptr_t)p->m.admin_rules.data},
	          {p->m.rules.n, p->m.admin_rules.n},
	          NULL};
	d.st = calloc(d.n[0] + d.n[1] + 1, sizeof *d.st);
	if (!d.st)
		return -1;
	mark_present(&d);
	/* IPv4 takes nearly all the time: 95% of the stage, IPv6 the rest. */
	uint64_t span = NS_STAGE_REACH - NS_STAGE_DECIDES, mid = NS_STAGE_DECIDES + span * 95 / 100;
	int rc = walk_family(&d, "0.0.0.0/0", NS_STAGE_DECIDES, mid);
	if (rc == 0)
		rc = walk_family(&d, "::/0", mid, NS_STAGE_REACH); /* 1: report nothing */
	for (int v = 0; rc == 0 && v < 2; v++)
		for (size_t i = 0; i < d.n[v]; i++) {
			const rstate *st = &d.st[(v ? d.n[0] : 0) + i];
			const ns_rule *r =
			        NS_VEC_AT(v ? &p->m.admin_rules : &p->m.rules, ns_rule, i);
			if (st->present && !st->decides && !r->is_default &&
			    !already_shadowed(fs, r))
				report(fs, r, st, v == 1);
		}
	free(d.st);
	return rc < 0 ? -1 : 0;
}
