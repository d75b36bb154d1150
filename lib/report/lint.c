/* nsgsim_lint: findings about resources and rules, each computed from the
 * compiled policy (never read off one rule's text), each with the resource,
 * the rule, where it was read, what to do and the evidence.
 *
 * May touch: lib/base, the compiled policy and eval/shadow.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compile/policy.h"
#include "eval/region.h"
#include "eval/shadow.h"
#include "report/jobs.h"
#include "report/lint.h"
#include "report/report.h"

void ns_lint_add(nsgsim_findings *fs, const char *id, int level, const char *resource,
                 const ns_rule *rule, const ns_loc *loc, const char *message, ns_buf *evidence)
{
	nsgsim_finding *f = fs->failed ? NULL : ns_vec_push(&fs->v);
	const char *ev = evidence && !evidence->failed && evidence->data
	                         ? ns_arena_strdup(&fs->ar, evidence->data)
	                         : "{}";
	if (!f || !message || !ev) {
		fs->failed = true;
		return;
	}
	int line = 0;
	if (loc && loc->file && loc->pointer) {
		char *key = ns_arena_printf(&fs->ar, "%s\x1f%s", loc->file, loc->pointer);
		if (!key) {
			fs->failed = true;
			return;
		}
		line = (int)(uintptr_t)ns_map_get(&fs->p->m.lines, key);
	}
	*f = (nsgsim_finding){id,
	                      level,
	                      resource,
	                      rule ? rule->id : NULL,
	                      loc && loc->file ? loc->file : "",
	                      loc && loc->pointer ? loc->pointer : "",
	                      message,
	                      ev,
	                      line};
}

void ns_lint_adopt(nsgsim_findings *fs, const nsgsim_finding *f)
{
	nsgsim_finding *to = fs->failed ? NULL : ns_vec_push(&fs->v);
	const char *msg = ns_arena_strdup(&fs->ar, f->message);
	const char *ev = ns_arena_strdup(&fs->ar, f->evidence);
	if (!to || !msg || !ev) {
		fs->failed = true;
		return;
	}
	*to = *f;
	to->message = msg;
	to->evidence = ev;
}

void ns_lint_progress(nsgsim_findings *fs, uint64_t from, uint64_t to, size_t i, size_t n)
{
	uint64_t at = from + (n ? (to - from) * (uint64_t)i / n : to - from);
	if (!fs->progress || at <= fs->shown)
		return;
	fs->shown = at;
	fs->progress(fs->progress_ctx, at, NS_LINT_UNITS);
}

/* ---- where an NSG is attached ---------------------------------------------------- */

/* The subnets an NSG is evaluated at: those it is on, and those of the NICs
 * it is on (VirtualNetwork and ASGs are read there). */
static size_t attachments(const nsgsim_policy *p, const ns_cnsg *g, const ns_csubnet **out)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_subnets; i++)
		if (p->subnets[i].nsg == g)
			out[n++] = &p->subnets[i];
	for (size_t i = 0; i < p->n_nics; i++) {
		if (p->nics[i].nsg != g)
			continue;
		for (size_t e = 0; e < p->nics[i].n_eps; e++) {
			const ns_csubnet *cs = p->nics[i].eps[e].subnet;
			size_t k = 0;
			while (k < n && out[k] != cs)
				k++;
			if (cs && k == n)
				out[n++] = cs;
		}
	}
	return n;
}

/* ---- shadowed-rule --------------------------------------------------------------- */

static const char *access_word(int access)
{
	return access == NS_ACCESS_DENY           ? "Deny"
	       : access == NS_ACCESS_ALWAYS_ALLOW ? "AlwaysAllow"
	                                          : "Allow";
}

static void covering_evidence(ns_buf *b, const ns_chain *ch, const bool *cover, int access,
                              const ns_csubnet *const *at, size_t n_at, bool *conflict)
{
	*conflict = false;
	ns_buf_puts(b, "{\"coveredBy\": [");
	bool first = true;
	for (size_t i = 0; i < ch->n; i++) {
		if (!cover[i])
			continue;
		const ns_crule *h = &ch->rules[i];
		*conflict |= h->access != access;
		ns_buf_printf(b, "%s{\"name\": ", first ? "" : ", ");
		ns_buf_json_string(b, h->r->name);
		ns_buf_printf(b, ", \"priority\": %d, \"access\": \"%s\", \"id\": ", h->priority,
		              access_word(h->access));
		ns_buf_json_string(b, h->r->id);
		ns_buf_puts(b, "}");
		first = false;
	}
	ns_buf_puts(b, "], \"attachments\": [");
	for (size_t i = 0; i < n_at; i++) {
		ns_buf_puts(b, i ? ", " : "");
		ns_buf_json_string(b, at[i]->s->id);
	}
	ns_buf_printf(b, "], \"kind\": \"%s\"}",
	              first       ? "matches-nothing"
	              : *conflict ? "conflicting"
	                          : "redundant");
}

/* What a shadowed-rule finding says, by what covers the rule. */
static const char *shadow_message(ns_arena *ar, const ns_cnsg *g, const ns_crule *r, bool none,
                                  bool conflict)
{
	const char *what =
	        none && ns_rule_protos(r) == 0
	                ? "matches no flow: an ICMP, ESP or AH flow matches a rule only "
	                  "when its port clauses are any (docs/SEMANTICS.md §11 decision "
	                  "5); drop its ports or its protocol"
	        : none     ? "matches no flow at any subnet or NIC the NSG is attached to: "
	                     "fix or remove it"
	        : conflict ? "never decides: rules of higher priority with another access "
	                     "match every flow it matches (see evidence); move it before "
	                     "them, or remove it"
	                   : "is redundant: rules of higher priority with the same access "
	                     "match every flow it matches (see evidence); remove it";
	return ns_arena_printf(ar, "rule '%s' (priority %d, %s) of NSG '%s' %s", r->r->name,
	                       r->priority, access_word(r->access), g->g->name, what);
}

static void shadow_finding(nsgsim_findings *fs, const ns_cnsg *g, const ns_chain *ch, size_t k,
                           const bool *cover, const ns_csubnet *const *at, size_t n_at)
{
	const ns_crule *r = &ch->rules[k];
	ns_buf ev;
	ns_buf_init(&ev);
	bool conflict;
	covering_evidence(&ev, ch, cover, r->access, at, n_at, &conflict);
	bool none = true;
	for (size_t i = 0; i < ch->n; i++)
		none &= !cover[i];
	const char *msg = shadow_message(&fs->ar, g, r, none, conflict);
	ns_lint_add(fs, "shadowed-rule", conflict ? NSGSIM_LEVEL_ERROR : NSGSIM_LEVEL_WARNING,
	            g->g->id, r->r, &r->r->loc, msg, &ev);
	ns_buf_free(&ev);
}

/* Rule k is shadowed when it is at every attachment; cover collects the
 * covering rules of all of them.  -1 when out of memory. */
static int chain_shadows(nsgsim_findings *fs, const ns_cnsg *g, const ns_chain *ch,
                         const ns_csubnet *const *at, size_t n_at)
{
	ns_shadow_ctx **sc = calloc(n_at, sizeof *sc);
	bool *cover = calloc(ch->n + 1, sizeof *cover), *one = calloc(ch->n + 1, sizeof *one);
	int rc = sc && cover && one ? 0 : -1;
	for (size_t a = 0; rc == 0 && a < n_at; a++)
		rc = (sc[a] = ns_shadow_new(ch, at[a])) ? 0 : -1;
	for (size_t k = 0; rc == 0 && k < ch->n; k++) {
		if (ch->rules[k].r->is_default) /* Azure's own: not the user's to fix */
			continue;
		memset(cover, 0, ch->n * sizeof *cover);
		bool all = true;
		for (size_t a = 0; all && a < n_at; a++) {
			int v = ns_shadowed(sc[a], k, one);
			if (v < 0)
				rc = -1;
			all = v == NS_SHADOW_YES;
			for (size_t i = 0; all && i < ch->n; i++)
				cover[i] |= one[i];
		}
		if (rc == 0 && all)
			shadow_finding(fs, g, ch, k, cover, at, n_at);
	}
	for (size_t a = 0; sc && a < n_at; a++)
		ns_shadow_free(sc[a]);
	free(sc);
	free(cover);
	free(one);
	return rc;
}

/* The NSGs as items (report/jobs.h): each NSG's findings built apart and
 * added in NSG order. */
typedef struct spar {
	const nsgsim_policy *p;
	nsgsim_findings *fs;
	nsgsim_findings **part;
	int *rc;
} spar;

static void nsg_work(void *ctx, size_t i)
{
	spar *sp = ctx;
	const nsgsim_policy *p = sp->p;
	nsgsim_findings *fs = sp->part[i] = calloc(1, sizeof *fs);
	const ns_csubnet **at = calloc(p->n_subnets + 1, sizeof *at);
	if (!fs || !at) {
		free(at);
		sp->rc[i] = -1;
		return;
	}
	ns_vec_init(&fs->v, sizeof(nsgsim_finding));
	fs->p = p;
	const ns_cnsg *g = &p->nsgs[i];
	size_t n = attachments(p, g, at);
	if (n == 0)
		ns_lint_add(fs, "unattached-nsg", NSGSIM_LEVEL_WARNING, g->g->id, NULL, &g->g->loc,
		            ns_arena_printf(&fs->ar,
		                            "NSG '%s' is attached to no subnet and no network "
		                            "interface: "
		                            "its rules affect nothing; attach it or delete it",
		                            g->g->name),
		            NULL);
	int rc = n ? chain_shadows(fs, g, &g->in, at, n) : 0;
	if (rc == 0 && n)
		rc = chain_shadows(fs, g, &g->out, at, n);
	sp->rc[i] = rc;
	free(at);
}

static void nsg_commit(void *ctx, size_t i)
{
	spar *sp = ctx;
	nsgsim_findings *f = sp->part[i];
	for (size_t k = 0; f && sp->rc[i] == 0 && k < f->v.n; k++)
		ns_lint_adopt(sp->fs, NS_VEC_AT(&f->v, nsgsim_finding, k));
	if (f)
		sp->fs->failed |= f->failed;
	nsgsim_findings_free(f);
	sp->part[i] = NULL;
}

static void nsg_tick(void *ctx, size_t done, size_t n)
{
	spar *sp = ctx;
	ns_lint_progress(sp->fs, NS_STAGE_SHADOW, NS_STAGE_DECIDES, done, n);
}

static int check_nsgs(const nsgsim_policy *p, nsgsim_findings *fs)
{
	size_t n = p->n_nsgs;
	spar sp = {p, fs, calloc(n + 1, sizeof *sp.part), calloc(n + 1, sizeof *sp.rc)};
	int rc = sp.part && sp.rc ? 0 : -1;
	if (rc == 0 && ns_jobs_run(fs->jobs, n, nsg_work, nsg_commit, nsg_tick, &sp) != 0)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (sp.rc[i] != 0)
			rc = -1;
	for (size_t i = 0; sp.part && i < n; i++)
		nsgsim_findings_free(sp.part[i]);
	free(sp.part);
	free(sp.rc);
	return rc;
}

/* ---- resources that affect nothing ----------------------------------------------- */

static bool asg_named(const nsgsim_policy *p, const char *id)
{
	for (size_t i = 0; i < p->m.rules.n; i++) {
		const ns_rule *r = NS_VEC_AT(&p->m.rules, ns_rule, i);
		const ns_side *sides[2] = {&r->src, &r->dst};
		for (int s = 0; s < 2; s++)
			for (size_t k = 0; sides[s]->form == NS_FORM_ASGS && k < sides[s]->n_asgs;
			     k++)
				if (ns_ieq(sides[s]->asg_ids[k], id))
					return true;
	}
	return false;
}

static void check_asgs(const nsgsim_policy *p, nsgsim_findings *fs)
{
	for (size_t i = 0; i < p->n_asgs; i++) {
		const ns_casg *a = &p->asgs[i];
		bool named = asg_named(p, a->a->id), empty = ns_pset_is_empty(&a->members);
		if (named && !empty)
			continue;
		ns_lint_add(
		        fs, "unused-asg", NSGSIM_LEVEL_NOTE, a->a->id, NULL, &a->a->loc,
		        !named ? ns_arena_printf(
		                         &fs->ar,
		                         "application security group '%s' is named by no NSG "
		                         "rule: it affects nothing; use it or delete it",
		                         a->a->name)
		               : ns_arena_printf(
		                         &fs->ar,
		                         "application security group '%s' has no member "
		                         "ipConfiguration: the rules that name it match nothing",
		                         a->a->name),
		        NULL);
	}
}

static void check_groups(const nsgsim_policy *p, nsgsim_findings *fs)
{
	for (size_t i = 0; i < p->m.net_groups.n; i++) {
		const ns_net_group *g = NS_VEC_AT(&p->m.net_groups, ns_net_group, i);
		if (!ns_group_has_members(p, g->id))
			ns_lint_add(fs, "empty-network-group", NSGSIM_LEVEL_WARNING, g->id, NULL,
			            &g->loc,
			            ns_arena_printf(
			                    &fs->ar,
			                    "network group '%s' has no static members and no Azure "
			                    "Policy in the input: its admin rules apply to no VNet "
			                    "here "
			                    "(add its members, or export its policy definitions)",
			                    g->name),
			            NULL);
	}
}

/* ---- no-filtering and broad-always-allow ------------------------------------------ */

/* Whether an endpoint meets an admin level or an NSG (the platform layer
 * filters nothing). */
static bool has_filter(const ns_endpoint *ep)
{
	for (int way = NS_WAY_IN; way <= NS_WAY_OUT; way++)
		for (size_t k = 0; k < ep->n_steps[way]; k++)
			if (ep->steps[way][k].layer != NSGSIM_LAYER_PLATFORM)
				return true;
	return false;
}

/* Whether a NIC in the subnet has an NSG (or admin rules) of its own: then
 * the subnet is open only at addresses no NIC holds, which is no finding. */
static bool subnet_has_filtered_nic(const nsgsim_policy *p, const ns_csubnet *cs)
{
	for (size_t i = 0; i < p->n_endpoints; i++) {
		const ns_endpoint *ep = &p->endpoints[i];
		if (ep->nic && ep->subnet == cs && has_filter(ep))
			return true;
	}
	return false;
}

static void check_endpoints(const nsgsim_policy *p, nsgsim_findings *fs)
{
	for (size_t i = 0; i < p->n_endpoints; i++) {
		const ns_endpoint *ep = &p->endpoints[i];
		/* Service subnets (Bastion, Firewall, gateways, Route Server, App
		 * Gateway) host Azure's own appliances, which admin rules skip by
		 * design (concept-security-admins.md) and most of which take no NSG:
		 * an open one there is no finding. */
		if (!ep->subnet || has_filter(ep) || ep->subnet->admin_exempt_service ||
		    (!ep->nic && subnet_has_filtered_nic(p, ep->subnet)))
			continue;
		const char *what = ep->nic ? "network interface" : "subnet";
		const char *name = ep->nic ? ep->nic->n->name : ep->subnet->s->name;
		const char *id = ep->nic ? ep->nic->n->id : ep->subnet->s->id;
		const ns_loc *loc = ep->nic ? &ep->nic->n->loc : &ep->subnet->s->loc;
		ns_lint_add(fs, "no-filtering", NSGSIM_LEVEL_WARNING, id, NULL, loc,
		            ns_arena_printf(
		                    &fs->ar,
		                    "nothing filters the traffic of %s '%s': no NSG on it%s and no "
		                    "admin rule applies, so Azure allows every flow; attach an NSG",
		                    what, name, ep->nic ? " or its subnet" : ""),
		            NULL);
	}
}

static bool names_everything_or_internet(const ns_side *s)
{
	if (s->n_addrs == 0 && s->form == NS_FORM_ITEMS)
		return true; /* empty means any (docs/SEMANTICS.md §11 decision 7) */
	for (size_t i = 0; i < s->n_addrs; i++) {
		const ns_addr *a = &s->addrs[i];
		if (a->kind == NS_ADDR_ANY ||
		    (a->kind == NS_ADDR_TAG && ns_ieq(a->text, "Internet")) ||
		    (a->kind == NS_ADDR_CIDR && a->plen == 0))
			return true;
	}
	return false;
}

static void check_always_allow(const nsgsim_policy *p, nsgsim_findings *fs)
{
	for (size_t i = 0; i < p->m.admin_rules.n; i++) {
		const ns_rule *r = NS_VEC_AT(&p->m.admin_rules, ns_rule, i);
		if (r->access != NS_ACCESS_ALWAYS_ALLOW || !names_everything_or_internet(&r->src))
			continue;
		ns_lint_add(fs, "broad-always-allow", NSGSIM_LEVEL_ERROR, r->id, r, &r->loc,
		            ns_arena_printf(
		                    &fs->ar,
		                    "AlwaysAllow admin rule '%s' (priority %d) allows from the "
		                    "Internet "
		                    "or every address: no NSG can deny what it opens; narrow its "
		                    "sources or make it Allow",
		                    r->name, r->priority),
		            NULL);
	}
}

/* ---- the API ------------------------------------------------------------------------ */

NSGSIM_EXPORT int nsgsim_lint(const nsgsim_policy *p, nsgsim_findings **out, nsgsim_error *err)
{
	return nsgsim_lint_progress(p, NULL, NULL, out, err);
}

NSGSIM_EXPORT int nsgsim_lint_progress(const nsgsim_policy *p, nsgsim_progress_fn fn, void *ctx,
                                       nsgsim_findings **out, nsgsim_error *err)
{
	nsgsim_lint_options o = {fn, ctx, 1};
	return nsgsim_lint_opts(p, &o, out, err);
}

NSGSIM_EXPORT int nsgsim_lint_opts(const nsgsim_policy *p, const nsgsim_lint_options *opts,
                                   nsgsim_findings **out, nsgsim_error *err)
{
	nsgsim_lint_options none = {NULL, NULL, 1};
	if (!opts)
		opts = &none;
	if (!p || !out)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "",
		               "policy and out are required");
	*out = NULL;
	int rc0 = ns_check_whole(p, "lint", err);
	if (rc0 != 0)
		return rc0;
	nsgsim_findings *fs = calloc(1, sizeof *fs);
	if (!fs)
		return ns_fail(err, NSGSIM_E_NOMEM, "", "", "", "out of memory");
	ns_vec_init(&fs->v, sizeof(nsgsim_finding));
	fs->p = p;
	fs->progress = opts->progress;
	fs->progress_ctx = opts->progress_ctx;
	fs->jobs = opts->jobs > 1 ? opts->jobs : 1;
	int rc = check_nsgs(p, fs);
	check_asgs(p, fs);
	check_groups(p, fs);
	check_endpoints(p, fs);
	check_always_allow(p, fs);
	if (rc == 0)
		rc = ns_lint_decides(p, fs);
	if (rc == 0)
		rc = ns_lint_reach(p, fs);
	if (rc != 0 || fs->failed) {
		nsgsim_findings_free(fs);
		return ns_fail(err, NSGSIM_E_NOMEM, "", "", "", "out of memory");
	}
	ns_lint_progress(fs, NS_LINT_UNITS, NS_LINT_UNITS, 0, 0);
	*out = fs;
	return 0;
}

NSGSIM_EXPORT size_t nsgsim_findings_count(const nsgsim_findings *fs)
{
	return fs ? fs->v.n : 0;
}

NSGSIM_EXPORT int nsgsim_findings_get(const nsgsim_findings *fs, size_t i, nsgsim_finding *out)
{
	if (!fs || !out || i >= fs->v.n)
		return NSGSIM_E_INVALID_ARG;
	*out = *NS_VEC_AT(&fs->v, nsgsim_finding, i);
	return 0;
}

NSGSIM_EXPORT void nsgsim_findings_free(nsgsim_findings *fs)
{
	if (!fs)
		return;
	ns_vec_free(&fs->v);
	ns_arena_free(&fs->ar);
	free(fs);
}

NSGSIM_EXPORT const char *nsgsim_level_name(int level)
{
	return level == NSGSIM_LEVEL_NOTE      ? "note"
	       : level == NSGSIM_LEVEL_WARNING ? "warning"
	       : level == NSGSIM_LEVEL_ERROR   ? "error"
	                                       : NULL;
}
