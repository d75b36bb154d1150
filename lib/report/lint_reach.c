/* The lint checks that are reachability questions, answered exactly by
 * nsgsim_reach: every flow to each NIC (and to each subnet no NIC is in),
 * from every IPv4 address, TCP and UDP.
 *   exposed-port  a high-risk port reachable from the Internet tag, with the
 *                 deciding rule, the Internet sources and every layer's rule;
 *   open-to-any   a port that every source address reaches (the union of the
 *                 allowed regions, not one rule's text).
 *
 * The targets are items (report/jobs.h): each builds its findings apart,
 * added to the whole in target order, so that they are the same, in the
 * same order, on any number of threads.
 *
 * May touch: lib/base, the compiled policy, eval/region.h (the regions'
 * boxes) and the public evaluation API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/region.h"
#include "report/jobs.h"
#include "report/lint.h"
#include "report/report.h"

/* Ports an attacker looks for first (SSH, RDP, Telnet, SMB, RPC, NetBIOS,
 * SQL Server, MySQL, PostgreSQL, WinRM, Redis, MongoDB): the list,
 * as CIS and Azure's Defender recommendations name them. */
static const int risky_ports[] = {22,   23,   135,  139,  445,  1433, 3306,
                                  3389, 5432, 5985, 5986, 6379, 27017};

static const char *proto_name(int slot)
{
	return slot == NS_PSLOT_TCP ? "Tcp" : "Udp";
}

/* Every layer's deciding rule for one flow of the region: the allowing path. */
static void path_evidence(ns_buf *b, const nsgsim_policy *p, const nsgsim_flow *flow)
{
	nsgsim_result res;
	ns_buf_puts(b, ", \"path\": [");
	if (nsgsim_eval(p, flow, &res, NULL) == 0) {
		bool first = true;
		for (int s = 0; s < res.n_sides; s++)
			for (int l = 0; l < res.sides[s].n_layers; l++) {
				const nsgsim_layer_result *lr = &res.sides[s].layers[l];
				ns_buf_puts(b, first ? "{\"layer\": " : ", {\"layer\": ");
				ns_buf_json_string(b, nsgsim_layer_name(lr->layer));
				ns_buf_puts(b, ", \"rule\": ");
				ns_buf_json_string(b, lr->matched ? lr->rule.name : NULL);
				ns_buf_puts(b, ", \"resource\": ");
				ns_buf_json_string(b, lr->resource);
				ns_buf_puts(b, "}");
				first = false;
			}
	}
	ns_buf_puts(b, "]");
}

static void sources_evidence(ns_buf *b, ns_ilist src)
{
	ns_buf_puts(b, ", \"internetSources\": [");
	for (size_t i = 0; i < src.n && i < 8; i++) {
		char lo[64], hi[64];
		ns_format_prefix(lo, sizeof lo, 4, src.v[i].lo, 32);
		ns_format_prefix(hi, sizeof hi, 4, src.v[i].hi, 32);
		ns_buf_printf(b, "%s\"%.*s-%.*s\"", i ? ", " : "", (int)strcspn(lo, "/"), lo,
		              (int)strcspn(hi, "/"), hi);
	}
	ns_buf_printf(b, "], \"internetRanges\": %zu", src.n);
}

typedef struct target {
	const char *id, *name, *what; /* what: "network interface", "subnet" */
	const ns_loc *loc;
	bool own_ip; /* the evidence's flow goes to ip (a twin's regions are read) */
	ns_u128 ip;
} target;

/* The risky ports one rule opens at one target, and a flow of each kind for
 * the evidence. */
typedef struct opening {
	const ns_piece *piece; /* the first region it allows one of them in */
	ns_ilist inet;         /* that region's Internet sources */
	int first_slot, first_port;
	bool ports[2][sizeof risky_ports / sizeof risky_ports[0]];
} opening;

static void opening_evidence(ns_buf *ev, const nsgsim_policy *p, const target *t, const opening *op)
{
	const ns_rout *o = &op->piece->out[0];
	ns_buf_puts(ev, "{\"ports\": [");
	bool first = true;
	for (int s = 0; s < 2; s++)
		for (size_t k = 0; k < sizeof risky_ports / sizeof risky_ports[0]; k++)
			if (op->ports[s][k]) {
				ns_buf_printf(ev, "%s{\"protocol\": \"%s\", \"port\": %d}",
				              first ? "" : ", ", proto_name(NS_PSLOT_TCP + s),
				              risky_ports[k]);
				first = false;
			}
	ns_buf_puts(ev, "], \"decidedBy\": {\"layer\": ");
	ns_buf_json_string(ev, nsgsim_layer_name(o->layer));
	ns_buf_puts(ev, ", \"rule\": ");
	ns_buf_json_string(ev, o->rule ? o->rule->r->name : NULL);
	ns_buf_puts(ev, ", \"access\": ");
	ns_buf_json_string(ev, o->rule ? ns_access_text(o->rule->access) : NULL);
	ns_buf_puts(ev, "}");
	sources_evidence(ev, op->inet);
	nsgsim_flow flow;
	memset(&flow, 0, sizeof flow);
	flow.protocol = op->first_slot == NS_PSLOT_TCP ? NSGSIM_PROTO_TCP : NSGSIM_PROTO_UDP;
	ns_ip_from_u128(&flow.src, 4, op->inet.v[0].lo);
	ns_ip_from_u128(&flow.dst, 4, t->own_ip ? t->ip : op->piece->box.dst.v[0].lo);
	flow.src_port = (int)op->piece->box.sport.v[0].lo;
	flow.dst_port = op->first_port;
	path_evidence(ev, p, &flow);
	ns_buf_puts(ev, "}");
}

static void port_list_text(const opening *op, char *buf, size_t cap)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int s = 0; s < 2; s++)
		for (size_t k = 0; k < sizeof risky_ports / sizeof risky_ports[0]; k++)
			if (op->ports[s][k] && used < cap)
				used += (size_t)snprintf(buf + used, cap - used, "%s%s %d",
				                         used ? ", " : "", s ? "udp" : "tcp",
				                         risky_ports[k]);
}

static void exposed(nsgsim_findings *fs, const nsgsim_policy *p, const target *t, const opening *op)
{
	const ns_rout *o = &op->piece->out[0];
	bool always = o->rule && o->rule->access == NS_ACCESS_ALWAYS_ALLOW;
	ns_buf ev;
	ns_buf_init(&ev);
	opening_evidence(&ev, p, t, op);
	char ports[400];
	port_list_text(op, ports, sizeof ports);
	const char *by = !o->rule                         ? "no rule (no NSG on the way)"
	                 : always                         ? "the AlwaysAllow admin rule"
	                 : o->layer == NSGSIM_LAYER_ADMIN ? "the admin rule"
	                                                  : "the NSG rule";
	ns_lint_add(fs, "exposed-port", always ? NSGSIM_LEVEL_ERROR : NSGSIM_LEVEL_WARNING, t->id,
	            o->rule ? o->rule->r : NULL, t->loc,
	            ns_arena_printf(&fs->ar,
	                            "%s '%s' is reachable from the Internet on high-risk ports "
	                            "(%s), allowed by %s%s%s%s%s; restrict the sources or close "
	                            "the ports",
	                            t->what, t->name, ports, by, o->rule ? " '" : "",
	                            o->rule ? o->rule->r->name : "", o->rule ? "'" : "",
	                            always ? " (no NSG can close what it opens)" : ""),
	            &ev);
	ns_buf_free(&ev);
}

/* The Internet sources of a region, less Azure's own platform address
 * (168.63.129.16, the AzureLoadBalancer tag): public, so in the Internet
 * tag, but Azure's health probes and DNS, not an attacker. */
static int internet_sources(ns_arena *ar, const nsgsim_policy *p, ns_ilist src, ns_ilist *out)
{
	ns_ilist inet, lb;
	if (ns_il_and_pset(ar, src, &p->internet, 4, &inet) != 0 ||
	    ns_il_and_pset(ar, inet, &p->load_balancer, 4, &lb) != 0)
		return -1;
	return ns_il_minus(ar, inet, lb, out);
}

/* exposed-port for one target's regions: a finding per allowing rule, with
 * every risky port it opens to the Internet there. */
static int check_exposed(nsgsim_findings *fs, const nsgsim_policy *p, const target *t,
                         const nsgsim_regions *r, ns_arena *ar)
{
	ns_vec ops;
	ns_vec_init(&ops, sizeof(opening));
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < r->n; i++) {
		const ns_piece *pc = &r->pieces[i];
		if (pc->out[0].verdict != NSGSIM_ALLOW || !ns_box_ported(&pc->box))
			continue;
		ns_ilist inet;
		if ((rc = internet_sources(ar, p, pc->box.src, &inet)) != 0 || ns_il_empty(inet))
			continue;
		opening *op = NULL;
		for (size_t k = 0; k < ops.n && !op; k++)
			if (NS_VEC_AT(&ops, opening, k)->piece->out[0].rule == pc->out[0].rule)
				op = NS_VEC_AT(&ops, opening, k);
		for (int s = NS_PSLOT_TCP; s <= NS_PSLOT_UDP; s++)
			for (size_t k = 0; k < sizeof risky_ports / sizeof risky_ports[0]; k++) {
				if (!(pc->box.protos & NS_PBIT(s)) ||
				    !ns_il_contains(pc->box.dport, (ns_u128)risky_ports[k]))
					continue;
				if (!op && !(op = ns_vec_push(&ops))) {
					rc = -1;
					break;
				}
				if (!op->piece)
					*op = (opening){pc, inet, s, risky_ports[k], {{false}}};
				op->ports[s - NS_PSLOT_TCP][k] = true;
			}
	}
	for (size_t k = 0; rc == 0 && k < ops.n; k++)
		exposed(fs, p, t, NS_VEC_AT(&ops, opening, k));
	ns_vec_free(&ops);
	return rc;
}

/* open-to-any at the ports of open (a list of port ranges). */
static void report_open(nsgsim_findings *fs, const target *t, int slot, ns_ilist open)
{
	char ports[200] = "";
	size_t used = 0;
	for (size_t k = 0; k < open.n && used < sizeof ports; k++)
		used += (size_t)snprintf(ports + used, sizeof ports - used,
		                         open.v[k].lo == open.v[k].hi ? "%s%d" : "%s%d-%d",
		                         k ? "," : "", (int)open.v[k].lo, (int)open.v[k].hi);
	ns_lint_add(fs, "open-to-any", NSGSIM_LEVEL_WARNING, t->id, NULL, t->loc,
	            ns_arena_printf(&fs->ar,
	                            "%s %s on %s '%s' %s allowed from every IPv4 address (taken "
	                            "together, the allowing rules leave no source out); restrict "
	                            "%s to the sources that need %s",
	                            slot == NS_PSLOT_TCP ? "tcp" : "udp", ports, t->what, t->name,
	                            open.n == 1 && open.v[0].lo == open.v[0].hi ? "is" : "are",
	                            open.n == 1 && open.v[0].lo == open.v[0].hi ? "it" : "them",
	                            open.n == 1 && open.v[0].lo == open.v[0].hi ? "it" : "them"),
	            NULL);
}

/* open-to-any: destination ports that every source address reaches, for
 * every source port.  The regions partition all flows to the target, so
 * those are the ports no denied region holds (no enumeration, no union of
 * sources). */
static int check_open(nsgsim_findings *fs, const target *t, const nsgsim_regions *r, ns_arena *ar)
{
	for (int s = NS_PSLOT_TCP; s <= NS_PSLOT_UDP; s++) {
		ns_ilist denied = {NULL, 0}, all, open;
		for (size_t i = 0; i < r->n; i++) {
			const ns_piece *pc = &r->pieces[i];
			if (pc->out[0].verdict != NSGSIM_ALLOW && (pc->box.protos & NS_PBIT(s)) &&
			    ns_il_or(ar, denied, pc->box.dport, &denied) != 0)
				return -1;
		}
		if (ns_il_one(ar, 0, 65535, &all) != 0 || ns_il_minus(ar, all, denied, &open) != 0)
			return -1;
		if (!ns_il_empty(open))
			report_open(fs, t, s, open);
	}
	return 0;
}

static int check_regions(nsgsim_findings *fs, const nsgsim_policy *p, const target *t,
                         const nsgsim_regions *r)
{
	ns_arena ar = {0};
	int rc = check_exposed(fs, p, t, r, &ar);
	if (rc == 0)
		rc = check_open(fs, t, r, &ar);
	ns_arena_free(&ar);
	return rc;
}

/* The regions of every flow to a target; NULL when there is nothing to ask
 * (no address, over a limit), *rc -1 when out of memory. */
static nsgsim_regions *regions_to(const nsgsim_policy *p, const char *id, int *rc)
{
	nsgsim_query q = {id, "0.0.0.0/0", NSGSIM_PBIT_TCP | NSGSIM_PBIT_UDP, 0, 0};
	nsgsim_regions *r = NULL;
	int st = ns_reach_raw(p, &q, &r, NULL);
	*rc = st == NSGSIM_E_NOMEM ? -1 : 0;
	return st == 0 ? r : NULL;
}

/* A NIC with one address in one subnet: NICs alike in subnet and NSG get
 * the same answers but for their own address, so one partition serves them
 * all (the bench estate: 40 NICs, a handful of kinds). */
static bool simple_nic(const ns_cnic *cn)
{
	return cn->subnet && cn->n_eps == 1 && cn->n->n_ipconfigs == 1 &&
	       cn->n->ipconfigs[0].has_ip && cn->n->ipconfigs[0].family == 4;
}

static bool set_splits(const ns_pset *s, ns_u128 a, ns_u128 b)
{
	return s && ns_pset_contains(s, 4, a) != ns_pset_contains(s, 4, b);
}

static bool chain_splits(const ns_chain *ch, ns_u128 a, ns_u128 b)
{
	for (size_t i = 0; i < ch->n; i++) {
		const ns_crule *r = &ch->rules[i];
		if ((!r->src.vnet_tag && set_splits(r->src.set, a, b)) ||
		    (!r->dst.vnet_tag && set_splits(r->dst.set, a, b)))
			return true;
	}
	return false;
}

/* Whether no rule, VirtualNetwork or tag of the policy tells address a
 * from b: then two NICs alike otherwise answer alike, each for itself. */
static bool interchangeable(const nsgsim_policy *p, ns_u128 a, ns_u128 b)
{
	if (set_splits(&p->internet, a, b) || set_splits(&p->load_balancer, a, b))
		return false;
	for (size_t i = 0; i < p->n_nsgs; i++)
		if (chain_splits(&p->nsgs[i].in, a, b) || chain_splits(&p->nsgs[i].out, a, b))
			return false;
	for (size_t i = 0; i < p->n_subnets; i++) {
		const ns_csubnet *cs = &p->subnets[i];
		if (set_splits(&cs->vnet_tag, a, b))
			return false;
		for (size_t k = 0; k < cs->n_levels; k++)
			if (chain_splits(&cs->levels[k].in, a, b) ||
			    chain_splits(&cs->levels[k].out, a, b))
				return false;
	}
	return true;
}

/* Alike: the same subnet, NSG and ASGs, and addresses no rule tells apart. */
static bool twins(const nsgsim_policy *p, const ns_cnic *a, const ns_cnic *b)
{
	if (!simple_nic(a) || !simple_nic(b) || a->subnet != b->subnet || a->nsg != b->nsg)
		return false;
	const ns_ipconfig *x = &a->n->ipconfigs[0], *y = &b->n->ipconfigs[0];
	if (x->n_asgs != y->n_asgs)
		return false;
	for (size_t i = 0; i < x->n_asgs; i++)
		if (!ns_ieq(x->asg_ids[i], y->asg_ids[i]))
			return false;
	return interchangeable(p, x->ip, y->ip);
}

static target nic_target(const ns_cnic *cn)
{
	return (target){cn->n->id,   cn->n->name,    "network interface",
	                &cn->n->loc, simple_nic(cn), simple_nic(cn) ? cn->n->ipconfigs[0].ip : 0};
}

/* The targets as items: NICs (each the lead of its twins, those after it
 * alike, or one of them), then the subnets. */
typedef struct rpar {
	const nsgsim_policy *p;
	nsgsim_findings *fs;
	size_t *lead;           /* per NIC: the NIC whose partition serves it (SIZE_MAX: none) */
	bool *covered;          /* per NIC: answered (by its lead, or on its own) */
	nsgsim_findings **part; /* per item: its findings until added */
	bool *got;              /* per item: its regions were had */
	int *rc;
} rpar;

static nsgsim_findings *part_new(const rpar *rp)
{
	nsgsim_findings *f = calloc(1, sizeof *f);
	if (f) {
		ns_vec_init(&f->v, sizeof(nsgsim_finding));
		f->p = rp->p;
	}
	return f;
}

/* The findings of lead i and of its twins k > i for which take[k] (NULL:
 * every twin of the plan): 0, -1 out of memory; *got whether the regions
 * were had. */
static int lead_findings(const rpar *rp, size_t i, const bool *skip, nsgsim_findings *out,
                         bool *got)
{
	const nsgsim_policy *p = rp->p;
	int rc = 0;
	nsgsim_regions *r = regions_to(p, p->nics[i].n->id, &rc);
	*got = r != NULL;
	for (size_t k = i; r && rc == 0 && k < p->n_nics; k++) {
		if (k != i &&
		    (skip ? skip[k] || !twins(p, &p->nics[i], &p->nics[k]) : rp->lead[k] != i))
			continue;
		target t = nic_target(&p->nics[k]);
		rc = check_regions(out, p, &t, r);
	}
	nsgsim_regions_free(r);
	return rc;
}

static void target_work(void *ctx, size_t it)
{
	rpar *rp = ctx;
	const nsgsim_policy *p = rp->p;
	nsgsim_findings *f = rp->part[it] = part_new(rp);
	if (!f) {
		rp->rc[it] = -1;
		return;
	}
	if (it < p->n_nics) {
		if (rp->lead[it] == it)
			rp->rc[it] = lead_findings(rp, it, NULL, f, &rp->got[it]);
		return;
	}
	const ns_csubnet *cs = &p->subnets[it - p->n_nics];
	bool has_nic = false;
	for (size_t k = 0; k < p->n_nics && !has_nic; k++)
		has_nic = p->nics[k].subnet == cs;
	if (has_nic || cs->admin_exempt_service) /* asked at its NICs; Azure's appliances */
		return;
	target t = {cs->s->id, cs->s->name, "subnet", &cs->s->loc, false, 0};
	nsgsim_regions *r = regions_to(p, cs->s->id, &rp->rc[it]);
	if (r && rp->rc[it] == 0)
		rp->rc[it] = check_regions(f, p, &t, r);
	nsgsim_regions_free(r);
}

static void adopt_all(nsgsim_findings *fs, nsgsim_findings *f)
{
	for (size_t k = 0; k < f->v.n; k++)
		ns_lint_adopt(fs, NS_VEC_AT(&f->v, nsgsim_finding, k));
	fs->failed |= f->failed;
}

/* In target order: a lead's findings cover its twins; a NIC whose lead had
 * no regions is asked now, as the lead of the twins left (what one walk in
 * order does). */
static void target_commit(void *ctx, size_t it)
{
	rpar *rp = ctx;
	const nsgsim_policy *p = rp->p;
	nsgsim_findings *f = rp->part[it];
	if (f && it < p->n_nics && rp->rc[it] == 0) {
		size_t l = rp->lead[it];
		if (l == it && rp->got[it])
			for (size_t k = it; k < p->n_nics; k++)
				rp->covered[k] |= rp->lead[k] == it;
		else if (l != SIZE_MAX && l != it && !rp->covered[it]) {
			bool got = false;
			rp->rc[it] = lead_findings(rp, it, rp->covered, f, &got);
			for (size_t k = it; got && k < p->n_nics; k++)
				if (k == it ||
				    (!rp->covered[k] && twins(p, &p->nics[it], &p->nics[k])))
					rp->covered[k] = true;
		}
	}
	if (f && rp->rc[it] == 0)
		adopt_all(rp->fs, f);
	if (f)
		nsgsim_findings_free(f);
	rp->part[it] = NULL;
}

static void target_tick(void *ctx, size_t done, size_t n)
{
	rpar *rp = ctx;
	ns_lint_progress(rp->fs, NS_STAGE_REACH, NS_LINT_UNITS, done, n);
}

int ns_lint_reach(const nsgsim_policy *p, nsgsim_findings *fs)
{
	size_t n = p->n_nics + p->n_subnets;
	rpar rp = {p,
	           fs,
	           calloc(p->n_nics + 1, sizeof *rp.lead),
	           calloc(p->n_nics + 1, sizeof *rp.covered),
	           calloc(n + 1, sizeof *rp.part),
	           calloc(n + 1, sizeof *rp.got),
	           calloc(n + 1, sizeof *rp.rc)};
	int rc = rp.lead && rp.covered && rp.part && rp.got && rp.rc ? 0 : -1;
	/* The plan: each NIC's lead, the first NIC alike before it. */
	for (size_t i = 0; rc == 0 && i < p->n_nics; i++)
		rp.lead[i] = SIZE_MAX;
	for (size_t i = 0; rc == 0 && i < p->n_nics; i++) {
		if (rp.lead[i] != SIZE_MAX || !p->nics[i].subnet)
			continue;
		rp.lead[i] = i;
		for (size_t k = i + 1; k < p->n_nics; k++)
			if (rp.lead[k] == SIZE_MAX && twins(p, &p->nics[i], &p->nics[k]))
				rp.lead[k] = i;
	}
	if (rc == 0 && ns_jobs_run(fs->jobs, n, target_work, target_commit, target_tick, &rp) != 0)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (rp.rc[i] != 0)
			rc = -1;
	for (size_t i = 0; rp.part && i < n; i++)
		nsgsim_findings_free(rp.part[i]);
	free(rp.lead);
	free(rp.covered);
	free(rp.part);
	free(rp.got);
	free(rp.rc);
	return rc;
}
