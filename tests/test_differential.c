/* Differential tests: the compiled engine against the linear reference.
 *
 * Random environments (VNets with IPv4 and IPv6 spaces, peerings, route
 * tables, subnets with special names and delegations, NICs with ASGs and the
 * odd duplicate address, NSGs shared across VNets, one large NSG now and
 * then, AVNM managers with one or two levels, ties, empty lists, network
 * groups as addresses; service tags from the trimmed fixture file, or a
 * synthetic file that overrides Internet) are written as JSON, loaded
 * through the public loader and compiled.  Flows are aimed at the edges of
 * every rule's sets and port ranges, at NIC addresses and subnet edges, and
 * at random addresses.  Every flow is evaluated with both engines -- end to
 * end, in batches, one-sided at a NIC, and chain by chain in every subnet
 * context -- and every field must agree: verdict, decided layer, endpoint,
 * rule, the per-layer trace and the assumption bits.  The seed is fixed; a
 * disagreement prints the environment's number and the flow. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eval/walk.h"
#include "files.h"
#include "nsgsim.h"

#include "genenv.h"

/* ---- comparing ---------------------------------------------------------------------------- */

static int failures;

static void flow_text(const nsgsim_flow *f, char *buf, size_t cap)
{
	char s[64], d[64];
	ns_format_prefix(s, sizeof s, f->src.family, ns_ip_to_u128(&f->src), -1);
	ns_format_prefix(d, sizeof d, f->dst.family, ns_ip_to_u128(&f->dst), -1);
	snprintf(buf, cap, "proto %d %s:%d %s:%d", f->protocol, s, f->src_port, d, f->dst_port);
}

static void report(int env, const nsgsim_flow *f, const char *what)
{
	char t[256];
	flow_text(f, t, sizeof t);
	if (failures < 20)
		print_error("env %d: %s: %s\n", env, t, what);
	failures++;
}

static bool same_rule(const nsgsim_rule_ref *a, const nsgsim_rule_ref *b)
{
	return a->name == b->name && a->id == b->id && a->priority == b->priority &&
	       a->access == b->access && a->is_default == b->is_default;
}

static const char *diff_results(const nsgsim_result *a, const nsgsim_result *b)
{
	if (a->verdict != b->verdict)
		return "verdict";
	if (a->decided_layer != b->decided_layer)
		return "decided layer";
	if (a->decided_endpoint != b->decided_endpoint)
		return "decided endpoint";
	if (!same_rule(&a->decided_rule, &b->decided_rule))
		return "decided rule";
	if (a->decided_resource != b->decided_resource)
		return "decided resource";
	if (a->assumptions != b->assumptions)
		return "assumptions";
	if (a->src_port != b->src_port || a->src_modelled != b->src_modelled ||
	    a->dst_modelled != b->dst_modelled || a->one_sided != b->one_sided)
		return "ports or modelled flags";
	if (a->n_sides != b->n_sides)
		return "number of sides";
	for (int s = 0; s < a->n_sides; s++) {
		const nsgsim_side_result *x = &a->sides[s], *y = &b->sides[s];
		if (x->endpoint != y->endpoint || x->direction != y->direction ||
		    x->nic != y->nic || x->subnet != y->subnet || x->vnet != y->vnet ||
		    x->verdict != y->verdict || x->admin_skipped != y->admin_skipped ||
		    x->n_layers != y->n_layers)
			return "side";
		for (int l = 0; l < x->n_layers; l++) {
			const nsgsim_layer_result *u = &x->layers[l], *v = &y->layers[l];
			if (u->layer != v->layer || u->resource != v->resource ||
			    u->applied_to != v->applied_to || u->matched != v->matched ||
			    !same_rule(&u->rule, &v->rule))
				return "layer trace";
		}
	}
	return NULL;
}

static const char *diff_decision(const nsgsim_decision *d, int rc, const nsgsim_result *r)
{
	if (d->status != rc)
		return "batch status";
	if (rc != 0)
		return NULL;
	if (d->verdict != r->verdict || d->decided_layer != r->decided_layer ||
	    d->decided_endpoint != r->decided_endpoint ||
	    !same_rule(&d->decided_rule, &r->decided_rule) ||
	    d->decided_resource != r->decided_resource || d->assumptions != r->assumptions ||
	    d->src_port != r->src_port)
		return "batch decision";
	return NULL;
}

typedef struct counts {
	long flows, chain_checks, at_checks, envs, denies, errors;
	long endpoint_checks, endpoint_nics, endpoint_ambiguous;
	long deep_maps;   /* crowded environments whose address maps are 2+ levels deep */
	long wide_checks; /* chain checks of a 16-word chain (its own AVX2 scan) */
	unsigned assumption_bits;
} counts;

/* Every chain the policy has, in every subnet context, for one flow. */
static void check_chains(const nsgsim_policy *p, const nsgsim_flow *flow, int env, counts *k)
{
	ns_flowv f, fg;
	ns_flowv_of(flow, flow->src_port < 0 ? 1024 : flow->src_port, &f);
	fg = f;
	ns_cls_global_classes(p->cls, &fg); /* the policy-wide path, when built */
	for (size_t s = 0; s < p->n_subnets; s++) {
		const ns_csubnet *ctx = &p->subnets[s];
		const ns_chain *chains[64];
		size_t n = 0;
		for (size_t i = 0; i < p->n_nsgs && n + 2 <= 64; i++) {
			chains[n++] = &p->nsgs[i].in;
			chains[n++] = &p->nsgs[i].out;
		}
		for (size_t i = 0; i < ctx->n_levels && n + 2 <= 64; i++) {
			chains[n++] = &ctx->levels[i].in;
			chains[n++] = &ctx->levels[i].out;
		}
		for (size_t i = 0; i < n; i++) {
			unsigned al = 0, ac = 0, ag = 0;
			size_t wl = ns_linear_first(p, chains[i], &f, ctx, &al);
			assert_non_null(chains[i]->cls);
			const ns_cls *c = chains[i]->cls;
			uint32_t wc = ns_cls_first(p, c, chains[i]->rules, &f, ctx, &ac);
			uint32_t wg = ns_cls_first(p, c, chains[i]->rules, &fg, ctx, &ag);
			/* The batch classifies the flow itself. */
			uint32_t wb;
			unsigned ab;
			ns_cls_first_batch(p, c, chains[i]->rules, &f, 1, ctx, &wb, &ab);
			k->chain_checks++;
			k->wide_checks += c->words == 16;
			if (wl != wc || al != ac || wl != wg || al != ag || wl != wb || al != ab) {
				char what[300];
				snprintf(what, sizeof what,
				         "chain %zu of %zu rules in subnet %zu: linear %zu/%#x, "
				         "compiled "
				         "%u/%#x, global classes %u/%#x, batch %u/%#x",
				         i, chains[i]->n, s, wl, al, wc, ac, wg, ag, wb, ab);
				report(env, flow, what);
			}
		}
	}
}

/* The endpoint map against a brute-force reading of the model: the first
 * NIC (in input order) whose ipConfiguration holds the address, ambiguous
 * when the next holder is another NIC; else the first subnet whose prefix
 * holds it, ambiguous when another does too. */
static void expected_endpoint(const nsgsim_policy *p, int family, ns_u128 a, const ns_cnic **nic,
                              const ns_csubnet **subnet, bool *amb)
{
	const ns_cnic *holders[2] = {NULL, NULL};
	const ns_csubnet *first_subnet = NULL;
	size_t n = 0;
	*amb = false;
	for (size_t i = 0; i < p->n_nics && n < 2; i++) {
		const ns_cnic *cn = &p->nics[i];
		for (size_t k = 0; k < cn->n->n_ipconfigs && n < 2; k++) {
			const ns_ipconfig *ipc = &cn->n->ipconfigs[k];
			if (!ipc->has_ip || ipc->family != family || ipc->ip != a)
				continue;
			if (n == 0)
				first_subnet = ipc->subnet_id ? ns_map_get(&p->subnet_by_id,
				                                           ipc->subnet_id)
				                              : cn->subnet;
			holders[n++] = cn;
		}
	}
	if (n > 0) {
		*nic = holders[0];
		*subnet = first_subnet;
		*amb = n > 1 && holders[1] != holders[0];
		return;
	}
	*nic = NULL;
	*subnet = NULL;
	for (size_t i = 0; i < p->n_subnets; i++) {
		if (!ns_pset_contains(&p->subnets[i].prefixes, family, a))
			continue;
		if (*subnet) {
			*amb = true;
			return;
		}
		*subnet = &p->subnets[i];
	}
}

static void check_endpoint(const nsgsim_policy *p, const nsgsim_flow *flow, int env, counts *k)
{
	ns_flowv f;
	ns_flowv_of(flow, 0, &f);
	ns_cls_global_classes(p->cls, &f);
	for (int side = 0; side < 2; side++) {
		ns_u128 a = side ? f.dst : f.src;
		const ns_cnic *nic;
		const ns_csubnet *subnet;
		bool amb;
		expected_endpoint(p, f.family, a, &nic, &subnet, &amb);
		const ns_eprec *r = ns_endpoint_of(p, f.family, a);
		bool ok = r->ambiguous == amb;
		if (subnet)
			ok = ok && r->ep && r->ep->nic == nic && r->ep->subnet == subnet;
		else
			ok = ok && !r->ep;
		/* The policy-wide classes fold the same map in. */
		if (f.global)
			ok = ok && &p->recs[f.ep[side]] == r;
		k->endpoint_checks++;
		k->endpoint_nics += nic != NULL;
		k->endpoint_ambiguous += amb;
		if (!ok)
			report(env, flow, side ? "destination endpoint" : "source endpoint");
	}
}

/* How many child levels an index entry of an interval map has below it
 * (lib/compile/cls_imap.c, "interval maps": the top bit marks a child node, bits
 * 27-30 its key bits, the low bits its first entry in l2). */
static int entry_depth(const ns_imap *m, uint32_t e)
{
	if (!(e & 0x80000000u))
		return 0;
	int deepest = 0;
	for (uint32_t k = 0; k < 1u << ((e >> 27) & 15); k++) {
		int d = entry_depth(m, m->l2[(e & 0x7FFFFFFu) + k]);
		deepest = d > deepest ? d : deepest;
	}
	return 1 + deepest;
}

static int deepest_level(const ns_imap *m)
{
	int deepest = 0;
	for (uint32_t i = 0; i < 1u << (32 - m->shift1); i++) {
		int d = entry_depth(m, m->l1[i]);
		deepest = d > deepest ? d : deepest;
	}
	return deepest;
}

static void check_env(int env, counts *k)
{
	genv g;
	genpolicy gp = genenv_compile(env, &g);
	nsgsim_policy *p = gp.p;
	if (!p) {
		char buf[3000];
		nsgsim_error_format(&gp.err, buf, sizeof buf);
		print_error("env %d does not compile: %s\n", env, buf);
		failures++;
		genpolicy_free(&gp);
		return;
	}
	k->envs++;
	if (g.crowded && p->cls->global)
		k->deep_maps += deepest_level(&p->cls->gmap[NS_F_DST4]) >= 2 &&
		                deepest_level(&p->cls->gmap[NS_F_SRC4]) >= 2;
	pool pl;
	build_pool(p, &pl, &g.r);
	enum { N = 160 };
	nsgsim_flow flows[N];
	nsgsim_result lin[N], cmp;
	int rcs[N];
	nsgsim_decision dec[N];
	for (int i = 0; i < N; i++) {
		make_flow(&pl, &g.r, &flows[i]);
		rcs[i] = nsgsim_eval_engine(p, &flows[i], NSGSIM_ENGINE_LINEAR, &lin[i], NULL);
		int rc2 = nsgsim_eval_engine(p, &flows[i], NSGSIM_ENGINE_COMPILED, &cmp, NULL);
		k->flows++;
		if (rcs[i] != rc2) {
			report(env, &flows[i], "status");
			continue;
		}
		if (rcs[i] != 0) {
			k->errors++;
			continue;
		}
		k->denies += lin[i].verdict == NSGSIM_DENY;
		k->assumption_bits |= lin[i].assumptions;
		const char *d = diff_results(&lin[i], &cmp);
		if (d)
			report(env, &flows[i], d);
		if (i % 4 == 0)
			check_chains(p, &flows[i], env, k);
		check_endpoint(p, &flows[i], env, k);
	}
	for (int e = 0; e < 2; e++) {
		int engine = e ? NSGSIM_ENGINE_COMPILED : NSGSIM_ENGINE_LINEAR;
		assert_int_equal(nsgsim_eval_batch(p, flows, N, engine, dec, NULL), 0);
		for (int i = 0; i < N; i++) {
			const char *d = diff_decision(&dec[i], rcs[i], &lin[i]);
			if (!d)
				continue;
			char what[400];
			snprintf(what, sizeof what,
			         "%s (%s engine): got status %d verdict %d layer %d endpoint %d "
			         "rule "
			         "%s assumptions %#x; linear: status %d verdict %d layer %d "
			         "endpoint "
			         "%d rule %s assumptions %#x",
			         d, e ? "compiled" : "linear", dec[i].status, dec[i].verdict,
			         dec[i].decided_layer, dec[i].decided_endpoint,
			         dec[i].decided_rule.name ? dec[i].decided_rule.name : "-",
			         dec[i].assumptions, rcs[i], lin[i].verdict, lin[i].decided_layer,
			         lin[i].decided_endpoint,
			         lin[i].decided_rule.name ? lin[i].decided_rule.name : "-",
			         lin[i].assumptions);
			report(env, &flows[i], what);
		}
	}
	/* One side at a NIC, both directions. */
	for (size_t i = 0; i < p->n_nics && i < 8; i++) {
		for (int j = 0; j < 4; j++) {
			nsgsim_flow f = flows[below(&g.r, N)];
			if (f.src_port < 0)
				f.src_port = 1024;
			int dir = j % 2 ? NSGSIM_INBOUND : NSGSIM_OUTBOUND;
			nsgsim_result a, b;
			int ra = nsgsim_eval_at_engine(p, &f, p->nics[i].n->id, dir,
			                               NSGSIM_ENGINE_LINEAR, &a, NULL);
			int rb = nsgsim_eval_at_engine(p, &f, p->nics[i].n->id, dir,
			                               NSGSIM_ENGINE_COMPILED, &b, NULL);
			k->at_checks++;
			const char *d = ra != rb ? "eval_at status"
			                : ra     ? NULL
			                         : diff_results(&a, &b);
			if (d)
				report(env, &f, d);
		}
	}
	pool_free(&pl);
	genpolicy_free(&gp);
}

static void test_engines_agree(void **state)
{
	(void)state;
	counts k;
	memset(&k, 0, sizeof k);
	failures = 0;
	for (int env = 0; env < 90; env++)
		check_env(env, &k);
	printf("differential: %ld environments (%ld with deep address maps), %ld flows (%ld "
	       "denied, %ld errors), %ld chain checks, %ld one-sided checks, assumption bits seen "
	       "%#x, %d disagreements; %ld checks of 16-word chains\n",
	       k.envs, k.deep_maps, k.flows, k.denies, k.errors, k.chain_checks, k.at_checks,
	       k.assumption_bits, failures, k.wide_checks);
	printf("differential: %ld endpoint lookups checked against the model (%ld at NICs, %ld "
	       "ambiguous)\n",
	       k.endpoint_checks, k.endpoint_nics, k.endpoint_ambiguous);
	assert_int_equal(failures, 0);
	assert_true(k.endpoint_nics >= 1000 && k.endpoint_ambiguous >= 10);
	assert_true(k.envs >= 85);
	/* The crowded environments (every tenth) reach deep index levels. */
	assert_true(k.deep_maps >= 5);
	/* Some chains have 769-1,024 rules: the scan that takes all sixteen
	 * words at once (lib/compile/cls_imap.c, scan5_avx2_16) is compared too. */
	assert_true(k.wide_checks >= 100);
	/* The generator reaches the assumptions that depend on tested rules. */
	unsigned want = NSGSIM_ASSUME_INTERNET_TAG | NSGSIM_ASSUME_VNET_TAG_ROUTES |
	                NSGSIM_ASSUME_PORTLESS_PROTOCOL | NSGSIM_ASSUME_ANY_PROTOCOL |
	                NSGSIM_ASSUME_AMBIGUOUS_ENDPOINT | NSGSIM_ASSUME_SOURCE_PORTS_DIFFER;
	assert_int_equal(k.assumption_bits & want, want);
}

/* The batch API's own contract: limits, arguments, per-flow status. */
static void test_batch_contract(void **state)
{
	(void)state;
	nsgsim_loader *l = nsgsim_loader_new();
	nsgsim_error err = {0};
	nsgsim_policy *p = NULL;
	assert_int_equal(nsgsim_loader_add_env(l, "fixtures/example/env", &err), 0);
	assert_int_equal(nsgsim_loader_add_service_tags(l, TAGS_FILE, &err), 0);
	assert_int_equal(nsgsim_loader_set_limit(l, NSGSIM_LIMIT_BATCH_FLOWS, 3), 0);
	assert_int_equal(nsgsim_compile(l, &p, &err), 0);
	nsgsim_loader_free(l);
	nsgsim_flow f[4];
	nsgsim_decision d[4];
	assert_int_equal(nsgsim_flow_parse("tcp 10.1.1.4:50000 10.1.2.4:1433", &f[0], &err), 0);
	assert_int_equal(nsgsim_flow_parse("tcp 8.8.8.8:1 9.9.9.9:2", &f[1], &err), 0);
	f[2] = f[0];
	f[2].protocol = 99;
	assert_int_equal(nsgsim_eval_batch(p, f, 4, NSGSIM_ENGINE_COMPILED, d, &err),
	                 NSGSIM_E_LIMIT);
	assert_int_equal(err.code, NSGSIM_E_LIMIT);
	assert_int_equal(nsgsim_eval_batch(p, f, 3, 7, d, &err), NSGSIM_E_INVALID_ARG);
	assert_int_equal(nsgsim_eval_batch(p, NULL, 3, NSGSIM_ENGINE_COMPILED, d, &err),
	                 NSGSIM_E_INVALID_ARG);
	assert_int_equal(nsgsim_eval_batch(p, f, 0, NSGSIM_ENGINE_COMPILED, NULL, &err), 0);
	assert_int_equal(nsgsim_eval_batch(p, f, 3, NSGSIM_ENGINE_COMPILED, d, &err), 0);
	assert_int_equal(d[0].status, 0);
	assert_int_equal(d[0].verdict, NSGSIM_ALLOW);
	assert_string_equal(d[0].decided_rule.name, "Allow-Web-To-Sql");
	assert_int_equal(d[1].status, NSGSIM_E_NOT_MODELLED);
	assert_int_equal(d[2].status, NSGSIM_E_BAD_FLOW);
	nsgsim_result r;
	assert_int_equal(nsgsim_eval_engine(p, &f[0], 7, &r, &err), NSGSIM_E_INVALID_ARG);
	nsgsim_policy_free(p);
}

/* A 1,000-rule chain whose rule i alone matches destination port 1000 + i,
 * so that the winner walks through every one of its sixteen words: the
 * batch, a single evaluation and the linear scan must each name rule i
 * (and the default rules at the end for other ports, with the
 * VirtualNetwork check of AllowVnetInBound in the last word). */
static void test_wide_chain_every_word(void **state)
{
	(void)state;
	enum { RULES = 1000, FLOWS = RULES + 2 };
	sbuf b = {0};
	put(&b, "{\"value\":[{\"name\":\"wide\",\"id\":\"" RG "/networkSecurityGroups/wide\","
	        "\"type\":\"Microsoft.Network/networkSecurityGroups\",\"properties\":{"
	        "\"securityRules\":[");
	for (int i = 0; i < RULES; i++)
		put(&b,
		    "{\"name\":\"r%d\",\"properties\":{\"protocol\":\"Tcp\",\"access\":\"%s\","
		    "\"priority\":%d,\"direction\":\"Inbound\",\"sourceAddressPrefix\":\"*\","
		    "\"destinationAddressPrefix\":\"*\",\"sourcePortRange\":\"*\","
		    "\"destinationPortRange\":\"%d\"}},",
		    i, i % 2 ? "Deny" : "Allow", 100 + i, 1000 + i);
	close_list(&b, ']');
	put(&b, "}},{\"name\":\"v\",\"id\":\"" RG "/virtualNetworks/v\","
	        "\"type\":\"Microsoft.Network/virtualNetworks\",\"properties\":{"
	        "\"addressSpace\":{\"addressPrefixes\":[\"10.0.0.0/16\"]},\"subnets\":[{"
	        "\"name\":\"s\",\"id\":\"" RG "/virtualNetworks/v/subnets/s\",\"properties\":{"
	        "\"addressPrefix\":\"10.0.0.0/24\",\"networkSecurityGroup\":{\"id\":\"" RG
	        "/networkSecurityGroups/wide\"}}}]}}]}");
	size_t tags_len;
	char *tags = test_read_file(TAGS_FILE, &tags_len);
	nsgsim_loader *l = nsgsim_loader_new();
	nsgsim_error err = {0};
	nsgsim_policy *p = NULL;
	assert_int_equal(nsgsim_loader_add_env_buffer(l, "wide.json", b.p, b.n, &err), 0);
	assert_int_equal(
	        nsgsim_loader_add_service_tags_buffer(l, "tags.json", tags, tags_len, &err), 0);
	assert_int_equal(nsgsim_compile(l, &p, &err), 0);
	nsgsim_loader_free(l);
	free(b.p);
	free(tags);
	const ns_chain *ch = &p->nsgs[0].in;
	const ns_csubnet *ctx = &p->subnets[0];
	assert_non_null(ch->cls);
	assert_int_equal(ch->cls->words, 16);
	assert_true(p->cls->global);
	static ns_flowv fv[FLOWS];
	static uint32_t win[FLOWS], want[FLOWS];
	static unsigned as[FLOWS];
	for (int i = 0; i < FLOWS; i++) {
		nsgsim_flow f;
		char text[96];
		/* The last two: port 80 from inside the VNet (AllowVnetInBound)
		 * and from the Internet (DenyAllInBound). */
		snprintf(text, sizeof text, "tcp %s:40000 10.0.0.4:%d",
		         i == RULES + 1 ? "8.8.8.8" : "10.0.0.5", i < RULES ? 1000 + i : 80);
		assert_int_equal(nsgsim_flow_parse(text, &f, &err), 0);
		ns_flowv_of(&f, f.src_port, &fv[i]);
		want[i] = i < RULES ? (uint32_t)i : i == RULES ? RULES : RULES + 2;
	}
	ns_cls_first_batch(p, ch->cls, ch->rules, fv, FLOWS, ctx, win, as);
	for (int i = 0; i < FLOWS; i++) {
		unsigned al = 0, ag = 0;
		ns_flowv g = fv[i];
		ns_cls_global_classes(p->cls, &g);
		uint32_t single = ns_cls_first(p, ch->cls, ch->rules, &g, ctx, &ag);
		size_t linear = ns_linear_first(p, ch, &fv[i], ctx, &al);
		if (win[i] != want[i] || single != want[i] || linear != want[i] || as[i] != al ||
		    ag != al)
			print_error("flow %d: want rule %u, batch %u/%#x, single %u/%#x, linear "
			            "%zu/%#x\n",
			            i, want[i], win[i], as[i], single, ag, linear, al);
		assert_int_equal(win[i], want[i]);
		assert_int_equal(single, want[i]);
		assert_int_equal(linear, want[i]);
		assert_int_equal(as[i], al);
	}
	nsgsim_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_engines_agree),
	        cmocka_unit_test(test_batch_contract),
	        cmocka_unit_test(test_wide_chain_every_word),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
