/* nsgsim_lint and the shadowed-rule analysis behind it.
 *
 * - Every rule reported shadowed is never the first match: random flows
 *   inside it, at each subnet its NSG is attached to, meet an earlier rule
 *   in the reference scan (random environments of tests/genenv.h).
 * - A rule the reference scan shows deciding a flow is never reported.
 * - A hand-made environment gets exactly the findings it should, with their
 *   levels, rules, evidence and locations. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <malloc.h>

#include "eval/region.h"
#include "eval/shadow.h"
#include "eval/walk.h"
#include "files.h"
#include "nsgsim.h"

#include "genenv.h"

/* ---- random environments ----------------------------------------------------- */

static size_t attachments(const nsgsim_policy *p, const ns_cnsg *g, const ns_csubnet **out)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_subnets; i++)
		if (p->subnets[i].nsg == g)
			out[n++] = &p->subnets[i];
	for (size_t i = 0; i < p->n_nics; i++)
		for (size_t e = 0; p->nics[i].nsg == g && e < p->nics[i].n_eps; e++) {
			size_t k = 0;
			while (k < n && out[k] != p->nics[i].eps[e].subnet)
				k++;
			if (k == n && p->nics[i].eps[e].subnet)
				out[n++] = p->nics[i].eps[e].subnet;
		}
	return n;
}

/* A random key of the side's set at ctx for a family; false when it has none. */
static bool side_addr(rng *r, const ns_cside *s, const ns_csubnet *ctx, int fam, ns_u128 *out)
{
	const ns_pset *set = s->any_addr ? NULL : ns_side_set(s, ctx);
	if (!set) {
		*out = fam == 4 ? (ns_u128)(uint32_t)rnd(r)
		                : ((ns_u128)rnd(r) << 64) | (ns_u128)rnd(r);
		return true;
	}
	size_t n = fam == 4 ? set->n4 : set->n6;
	if (n == 0)
		return false;
	size_t i = below(r, (uint32_t)n);
	ns_u128 lo = fam == 4 ? set->v4[i].lo : set->v6[i].lo;
	ns_u128 hi = fam == 4 ? set->v4[i].hi : set->v6[i].hi;
	ns_u128 span = hi - lo;
	*out = span == ~(ns_u128)0 ? lo + rnd(r)
	                           : lo + (((ns_u128)rnd(r) << 64 | rnd(r)) % (span + 1));
	return true;
}

static int pick_port(rng *r, const ns_cside *s)
{
	if (s->n_ports == 0)
		return (int)below(r, 65536);
	const ns_port_range *pr = &s->ports[below(r, (uint32_t)s->n_ports)];
	return pr->lo + (int)below(r, (uint32_t)(pr->hi - pr->lo + 1));
}

static const int slot_protos[NS_PSLOTS] = {NSGSIM_PROTO_ICMP, NSGSIM_PROTO_TCP, NSGSIM_PROTO_UDP,
                                           NSGSIM_PROTO_ESP, NSGSIM_PROTO_AH};

/* A random flow the rule matches at ctx; false when none was found. */
static bool flow_in_rule(rng *r, const ns_crule *cr, const ns_csubnet *ctx, ns_flowv *f)
{
	unsigned slots = ns_rule_protos(cr);
	if (!slots)
		return false;
	int slot;
	do
		slot = (int)below(r, NS_PSLOTS);
	while (!(slots & NS_PBIT(slot)));
	int fam = chance(r, 70) ? 4 : 6;
	ns_u128 src, dst;
	if (!side_addr(r, &cr->src, ctx, fam, &src) || !side_addr(r, &cr->dst, ctx, fam, &dst))
		return false;
	nsgsim_flow fl;
	memset(&fl, 0, sizeof fl);
	fl.protocol = slot_protos[slot];
	ns_ip_from_u128(&fl.src, fam, src);
	ns_ip_from_u128(&fl.dst, fam, dst);
	bool ported = slot == NS_PSLOT_TCP || slot == NS_PSLOT_UDP;
	fl.src_port = ported ? pick_port(r, &cr->src) : NSGSIM_PORT_ANY;
	fl.dst_port = ported ? pick_port(r, &cr->dst) : NSGSIM_PORT_ANY;
	ns_flowv_of(&fl, fl.src_port, f);
	return true;
}

typedef struct tally {
	long shadowed, samples, decided_checked, undecided;
	int per_rule; /* flows tried per rule (fewer in the quick mode of valgrind and TSan) */
} tally;

/* One chain at one attachment: the two directions of the contract. */
static void check_chain(const nsgsim_policy *p, const ns_chain *ch, const ns_csubnet *ctx, rng *r,
                        pool *pl, int env, tally *t)
{
	ns_shadow_ctx *sc = ns_shadow_new(ch, ctx);
	assert_non_null(sc);
	bool *cover = calloc(ch->n + 1, sizeof *cover);
	int *verdict = calloc(ch->n + 1, sizeof *verdict);
	assert_true(cover && verdict);
	for (size_t k = 0; k < ch->n; k++) {
		verdict[k] = ns_shadowed(sc, k, cover);
		assert_true(verdict[k] >= 0);
		t->undecided += verdict[k] == NS_SHADOW_UNDECIDED;
		if (verdict[k] != NS_SHADOW_YES)
			continue;
		t->shadowed++;
		for (int i = 0; i < 2 * t->per_rule; i++) {
			ns_flowv f;
			if (!flow_in_rule(r, &ch->rules[k], ctx, &f))
				continue;
			unsigned a = 0;
			size_t w = ns_linear_first(p, ch, &f, ctx, &a);
			if (w >= k)
				fail_msg("env %d: rule %s reported shadowed, but a flow in it "
				         "reaches "
				         "it (first match %zu of %zu)",
				         env, ch->rules[k].r->name, w, k);
			t->samples++;
		}
	}
	/* Flows that some rule decides: that rule is never reported.  Flows
	 * inside each rule, and flows between the environment's endpoints. */
	for (size_t k = 0; k < ch->n + 40; k++)
		for (int i = 0; i < t->per_rule; i++) {
			ns_flowv f;
			if (k < ch->n && !flow_in_rule(r, &ch->rules[k], ctx, &f))
				continue;
			if (k >= ch->n) {
				nsgsim_flow fl;
				make_flow(pl, r, &fl);
				ns_flowv_of(&fl, fl.src_port < 0 ? 1024 : fl.src_port, &f);
			}
			unsigned a = 0;
			size_t w = ns_linear_first(p, ch, &f, ctx, &a);
			if (w < ch->n && verdict[w] == NS_SHADOW_YES)
				fail_msg("env %d: rule %s decides a flow but is reported shadowed",
				         env, ch->rules[w].r->name);
			t->decided_checked += w < ch->n;
		}
	free(cover);
	free(verdict);
	ns_shadow_free(sc);
}

static void test_shadowed_rules_never_decide(void **state)
{
	(void)state;
	bool quick = getenv("NSGSIM_TEST_QUICK") != NULL;
	tally t = {0, 0, 0, 0, quick ? 2 : 10};
	int envs = quick ? 4 : 24;
	for (int env = 0; env < envs; env++) {
		genv g;
		genpolicy gp = genenv_compile(env, &g);
		assert_non_null(gp.p);
		const nsgsim_policy *p = gp.p;
		const ns_csubnet **at = calloc(p->n_subnets + 1, sizeof *at);
		pool pl;
		build_pool(p, &pl, &g.r);
		for (size_t i = 0; i < p->n_nsgs; i++) {
			size_t n = attachments(p, &p->nsgs[i], at);
			if (quick && p->nsgs[i].in.n + p->nsgs[i].out.n > 80)
				continue; /* the large NSGs: the full run has them */
			for (size_t a = 0; a < n; a++) {
				check_chain(p, &p->nsgs[i].in, at[a], &g.r, &pl, env, &t);
				check_chain(p, &p->nsgs[i].out, at[a], &g.r, &pl, env, &t);
			}
		}
		pool_free(&pl);
		free(at);
		nsgsim_findings *fs = NULL;
		if (!quick) /* the whole lint once per environment: no crash, no leak */
			assert_int_equal(nsgsim_lint(p, &fs, NULL), 0);
		nsgsim_findings_free(fs);
		genpolicy_free(&gp);
	}
	printf("lint: %ld shadowed (rule, attachment) pairs, %ld flows inside them all taken "
	       "earlier; %ld deciding flows checked; %ld undecided\n",
	       t.shadowed, t.samples, t.decided_checked, t.undecided);
	assert_true(t.shadowed >= 10 && t.samples >= 100); /* the environments exercise it */
	assert_true(t.decided_checked >= (quick ? 300 : 1000));
}

/* ---- never-decides ------------------------------------------------------------ */

/* A random flow inside a rule (addresses read at ctx), as the public API takes it. */
static bool public_flow_in_rule(rng *r, const ns_crule *cr, const ns_csubnet *ctx, nsgsim_flow *fl)
{
	unsigned slots = ns_rule_protos(cr);
	if (!slots)
		return false;
	int slot;
	do
		slot = (int)below(r, NS_PSLOTS);
	while (!(slots & NS_PBIT(slot)));
	int fam = chance(r, 70) ? 4 : 6;
	ns_u128 src, dst;
	if (!side_addr(r, &cr->src, ctx, fam, &src) || !side_addr(r, &cr->dst, ctx, fam, &dst))
		return false;
	memset(fl, 0, sizeof *fl);
	fl->protocol = slot_protos[slot];
	ns_ip_from_u128(&fl->src, fam, src);
	ns_ip_from_u128(&fl->dst, fam, dst);
	bool ported = slot == NS_PSLOT_TCP || slot == NS_PSLOT_UDP;
	fl->src_port = ported ? pick_port(r, &cr->src) : NSGSIM_PORT_ANY;
	fl->dst_port = ported ? pick_port(r, &cr->dst) : NSGSIM_PORT_ANY;
	return true;
}

static bool reported(const char *const *ids, size_t n, const char *id)
{
	for (size_t i = 0; id && i < n; i++)
		if (strcmp(ids[i], id) == 0)
			return true;
	return false;
}

/* The flow through eval: no layer it reaches is decided by a reported rule.
 * Returns the number of layers a rule decided. */
static int check_eval(const nsgsim_policy *p, const nsgsim_flow *fl, const char *const *ids,
                      size_t n, int env)
{
	nsgsim_result res;
	if (nsgsim_eval(p, fl, &res, NULL) != 0)
		return 0;
	int decided = 0;
	for (int s = 0; s < res.n_sides; s++)
		for (int l = 0; l < res.sides[s].n_layers; l++) {
			const nsgsim_layer_result *lr = &res.sides[s].layers[l];
			if (!lr->matched)
				continue;
			decided++;
			if (reported(ids, n, lr->rule.id))
				fail_msg("env %d: rule %s decides layer %s of a flow but is "
				         "reported "
				         "never-decides",
				         env, lr->rule.id, nsgsim_layer_name(lr->layer));
		}
	return decided;
}

/* nsgsim_lint_opts with threads gives the findings of one thread, in the
 * same order, with every field equal (the partitions run apart and are
 * merged in order). */
static void test_jobs_give_the_same_findings(void **state)
{
	(void)state;
	int envs = getenv("NSGSIM_TEST_QUICK") ? 4 : 16;
	size_t compared = 0;
	for (int env = 0; env < envs; env++) {
		genv g;
		genpolicy gp = genenv_compile(env, &g);
		assert_non_null(gp.p);
		nsgsim_findings *one = NULL;
		assert_int_equal(nsgsim_lint(gp.p, &one, NULL), 0);
		for (int jobs = 2; jobs <= 3; jobs++) {
			nsgsim_lint_options o = {NULL, NULL, jobs};
			nsgsim_findings *many = NULL;
			assert_int_equal(nsgsim_lint_opts(gp.p, &o, &many, NULL), 0);
			assert_int_equal(nsgsim_findings_count(many), nsgsim_findings_count(one));
			for (size_t i = 0; i < nsgsim_findings_count(one); i++) {
				nsgsim_finding a, b;
				assert_int_equal(nsgsim_findings_get(one, i, &a), 0);
				assert_int_equal(nsgsim_findings_get(many, i, &b), 0);
				assert_string_equal(a.id, b.id);
				assert_int_equal(a.level, b.level);
				assert_string_equal(a.resource, b.resource);
				assert_true(a.rule == b.rule ||
				            (a.rule && b.rule && !strcmp(a.rule, b.rule)));
				assert_string_equal(a.message, b.message);
				assert_string_equal(a.evidence, b.evidence);
				assert_int_equal(a.line, b.line);
				compared++;
			}
			nsgsim_findings_free(many);
		}
		nsgsim_findings_free(one);
		genpolicy_free(&gp);
	}
	print_message("jobs: %zu findings compared\n", compared);
}

static void test_never_decides_is_exact(void **state)
{
	(void)state;
	bool quick = getenv("NSGSIM_TEST_QUICK") != NULL;
	int envs = quick ? 4 : 24, per_rule = quick ? 3 : 8;
	long findings = 0, inside = 0, deciding = 0;
	for (int env = 0; env < envs; env++) {
		genv g;
		genpolicy gp = genenv_compile(env, &g);
		assert_non_null(gp.p);
		const nsgsim_policy *p = gp.p;
		nsgsim_findings *fs = NULL;
		assert_int_equal(nsgsim_lint(p, &fs, NULL), 0);
		size_t n = 0;
		const char **ids = calloc(nsgsim_findings_count(fs) + 1, sizeof *ids);
		for (size_t i = 0; i < nsgsim_findings_count(fs); i++) {
			nsgsim_finding f;
			assert_int_equal(nsgsim_findings_get(fs, i, &f), 0);
			if (strcmp(f.id, "never-decides") == 0 ||
			    strcmp(f.id, "shadowed-rule") == 0)
				ids[n++] = f.rule;
			findings += strcmp(f.id, "never-decides") == 0;
		}
		/* Flows inside every rule of every chain an endpoint walks (the
		 * reported ones among them), read at that endpoint's subnet. */
		for (size_t e = 0; e < p->n_endpoints; e++) {
			const ns_endpoint *ep = &p->endpoints[e];
			for (int way = 0; way < 2; way++)
				for (size_t k = 0; k < ep->n_steps[way]; k++) {
					const ns_chain *ch = ep->steps[way][k].chain[way];
					for (size_t j = 0; j < ch->n; j++) {
						bool rep = reported(ids, n, ch->rules[j].r->id);
						for (int t = 0; t < (rep ? per_rule : 2); t++) {
							nsgsim_flow fl;
							if (!public_flow_in_rule(&g.r,
							                         &ch->rules[j],
							                         ep->subnet, &fl))
								continue;
							inside += rep;
							deciding += check_eval(p, &fl, ids, n, env);
						}
					}
				}
		}
		/* Flows between the environment's endpoints and beyond. */
		pool pl;
		build_pool(p, &pl, &g.r);
		for (int t = 0; t < (quick ? 300 : 3000); t++) {
			nsgsim_flow fl;
			make_flow(&pl, &g.r, &fl);
			if (fl.src_port == NSGSIM_PORT_ANY && fl.dst_port != NSGSIM_PORT_ANY)
				fl.src_port = 40000;
			deciding += check_eval(p, &fl, ids, n, env);
		}
		pool_free(&pl);
		free(ids);
		nsgsim_findings_free(fs);
		genpolicy_free(&gp);
	}
	printf("lint: %ld never-decides findings, %ld flows inside them, %ld deciding layers "
	       "checked\n",
	       findings, inside, deciding);
	assert_true(findings >= 5 && inside >= 50);
	assert_true(deciding >= (quick ? 500 : 5000));
}

/* ---- a hand-made environment ---------------------------------------------------- */

#define RULE(name, prio, access, proto, src, dport)                                                \
	"{\"name\": \"" name "\", \"properties\": {\"priority\": " #prio ", \"access\": \"" access \
	"\", \"direction\": \"Inbound\", \"protocol\": \"" proto                                   \
	"\", \"sourceAddressPrefix\": \"" src                                                      \
	"\", \"sourcePortRange\": \"*\", \"destinationAddressPrefix\": \"*\", "                    \
	"\"destinationPortRange\": \"" dport "\"}}"

static const char lint_env[] =
        "{\"value\": ["
        "{\"id\": \"" RG "/networkSecurityGroups/nsg1\", \"name\": \"nsg1\", \"type\": "
        "\"Microsoft.Network/networkSecurityGroups\", \"properties\": {\"securityRules\": "
        "[" RULE("Deny-SSH", 100, "Deny", "Tcp", "*", "22") "," RULE(
                "Allow-SSH-Corp", 200, "Allow", "Tcp", "10.0.0.0/8",
                "22") "," RULE("Deny-SSH-Again", 300, "Deny", "Tcp", "*",
                               "22") "," RULE("Allow-Https", 400, "Allow", "Tcp", "*",
                                              "443") "," RULE("Esp-With-Port", 500, "Allow", "Esp",
                                                              "*", "500") "]}},"
                                                                          "{\"id\": \"" RG
                                                                          "/networkSecurityGroups/"
                                                                          "nsg-spare\", \"name\": "
                                                                          "\"nsg-spare\", "
                                                                          "\"type\": "
                                                                          "\"Microsoft.Network/"
                                                                          "networkSecurityGroups\","
                                                                          " \"properties\": "
                                                                          "{\"securityRules\": "
                                                                          "[]}},"
                                                                          "{\"id\": \"" RG
                                                                          "/applicationSecurityGrou"
                                                                          "ps/asg-idle\", "
                                                                          "\"name\": \"asg-idle\", "
                                                                          "\"type\": "
                                                                          "\"Microsoft.Network/"
                                                                          "applicationSecurityGroup"
                                                                          "s\"},"
                                                                          "{\"id\": \"" RG
                                                                          "/virtualNetworks/v\", "
                                                                          "\"name\": \"v\", "
                                                                          "\"type\": "
                                                                          "\"Microsoft.Network/"
                                                                          "virtualNetworks\", "
                                                                          "\"properties\": "
                                                                          "{\"addressSpace\": "
                                                                          "{\"addressPrefixes\": "
                                                                          "[\"10.0.0.0/16\"]}, "
                                                                          "\"subnets\": ["
                                                                          "{\"name\": \"guarded\", "
                                                                          "\"properties\": "
                                                                          "{\"addressPrefix\": "
                                                                          "\"10.0.1.0/24\", "
                                                                          "\"networkSecurityGroup\""
                                                                          ": {\"id\": \"" RG
                                                                          "/networkSecurityGroups/"
                                                                          "nsg1\"}}},"
                                                                          "{\"name\": \"open\", "
                                                                          "\"properties\": "
                                                                          "{\"addressPrefix\": "
                                                                          "\"10.0.2.0/24\"}}]}},"
                                                                          "{\"id\": \"" RG
                                                                          "/networkInterfaces/"
                                                                          "nic-open\", \"name\": "
                                                                          "\"nic-open\", \"type\": "
                                                                          "\"Microsoft.Network/"
                                                                          "networkInterfaces\", "
                                                                          "\"properties\": "
                                                                          "{\"ipConfigurations\": "
                                                                          "[{\"name\": \"c\", "
                                                                          "\"properties\": "
                                                                          "{\"privateIPAddress\": "
                                                                          "\"10.0.2.4\", "
                                                                          "\"subnet\": "
                                                                          "{\"id\": \"" RG
                                                                          "/virtualNetworks/v/"
                                                                          "subnets/open\"}}}]}}"
                                                                          "]}";

static const nsgsim_finding *find(const nsgsim_findings *fs, const char *id, const char *rule_tail,
                                  nsgsim_finding *buf)
{
	for (size_t i = 0; i < nsgsim_findings_count(fs); i++) {
		nsgsim_findings_get(fs, i, buf);
		if (strcmp(buf->id, id) != 0)
			continue;
		const char *what = buf->rule ? buf->rule : buf->resource;
		size_t n = strlen(what), m = strlen(rule_tail);
		if (n >= m && strcmp(what + n - m, rule_tail) == 0)
			return buf;
	}
	return NULL;
}

static void test_findings_of_a_known_environment(void **state)
{
	(void)state;
	nsgsim_loader *l = nsgsim_loader_new();
	nsgsim_error err = {0};
	nsgsim_policy *p = NULL;
	assert_int_equal(
	        nsgsim_loader_add_env_buffer(l, "lint.json", lint_env, strlen(lint_env), &err), 0);
	assert_int_equal(nsgsim_compile(l, &p, &err), 0);
	nsgsim_loader_free(l);
	nsgsim_findings *fs = NULL;
	assert_int_equal(nsgsim_lint(p, &fs, &err), 0);
	nsgsim_finding f;
	/* Allow-SSH-Corp: behind Deny-SSH, another access: an error. */
	assert_non_null(find(fs, "shadowed-rule", "/securityRules/Allow-SSH-Corp", &f));
	assert_int_equal(f.level, NSGSIM_LEVEL_ERROR);
	assert_non_null(strstr(f.message, "never decides"));
	assert_non_null(strstr(f.evidence, "\"kind\": \"conflicting\""));
	assert_non_null(strstr(f.evidence, "\"name\": \"Deny-SSH\""));
	assert_string_equal(f.file, "lint.json");
	assert_string_equal(f.pointer, "/value/0/properties/securityRules/1");
	/* Deny-SSH-Again: redundant, a warning; covered by Deny-SSH alone (Allow-SSH-Corp
	 * takes nothing: Deny-SSH was first). */
	assert_non_null(find(fs, "shadowed-rule", "/securityRules/Deny-SSH-Again", &f));
	assert_int_equal(f.level, NSGSIM_LEVEL_WARNING);
	assert_non_null(strstr(f.evidence, "\"kind\": \"redundant\""));
	assert_null(strstr(f.evidence, "Allow-SSH-Corp"));
	/* An ESP rule with a port matches nothing (docs/SEMANTICS.md §11 decision 5). */
	assert_non_null(find(fs, "shadowed-rule", "/securityRules/Esp-With-Port", &f));
	assert_non_null(strstr(f.message, "decision 5"));
	/* Deny-SSH and Allow-Https decide flows: not reported. */
	assert_null(find(fs, "shadowed-rule", "/securityRules/Deny-SSH", &f));
	assert_null(find(fs, "shadowed-rule", "/securityRules/Allow-Https", &f));
	assert_non_null(find(fs, "unattached-nsg", "/nsg-spare", &f));
	assert_null(f.rule);
	assert_non_null(find(fs, "unused-asg", "/asg-idle", &f));
	assert_int_equal(f.level, NSGSIM_LEVEL_NOTE);
	assert_non_null(find(fs, "no-filtering", "/nic-open", &f));
	assert_non_null(find(fs, "no-filtering", "/subnets/open", &f));
	assert_null(find(fs, "no-filtering", "/subnets/guarded", &f));
	/* Reachability: nic-open takes everything; the guarded subnet (no NIC)
	 * takes 443 from every address, through Allow-Https. */
	assert_non_null(find(fs, "exposed-port", "/nic-open", &f));
	assert_null(f.rule); /* nothing decides: no NSG on the way */
	assert_non_null(strstr(f.message, "tcp 22, tcp 23"));
	assert_non_null(strstr(f.evidence, "\"internetSources\": ["));
	assert_non_null(strstr(f.evidence, "\"path\": [")); /* every layer's rule */
	assert_non_null(find(fs, "open-to-any", "/subnets/guarded", &f));
	assert_non_null(strstr(f.message, "tcp 443 on subnet 'guarded'"));
	/* What open-to-any says, eval says on random sources and source ports. */
	rng r = {0x1717};
	for (int i = 0; i < 200; i++) {
		nsgsim_flow fl;
		char text[96];
		snprintf(text, sizeof text, "tcp %u.%u.%u.%u:%u 10.0.1.9:443", below(&r, 256),
		         below(&r, 256), below(&r, 256), below(&r, 256), below(&r, 65536));
		assert_int_equal(nsgsim_flow_parse(text, &fl, NULL), 0);
		nsgsim_result res;
		int rc = nsgsim_eval(p, &fl, &res, NULL);
		if (rc ==
		    NSGSIM_E_NOT_MODELLED) /* the source inside another modelled subnet: none */
			continue;
		assert_int_equal(rc, 0);
		if (res.verdict != NSGSIM_ALLOW)
			fail_msg("open-to-any said 443 is open from every source, but %s is denied",
			         text);
	}
	assert_non_null(find(fs, "open-to-any", "/nic-open", &f));
	assert_non_null(strstr(f.message, "tcp 0-65535"));
	assert_null(find(fs, "exposed-port", "/subnets/guarded", &f)); /* 22 is denied there */
	assert_int_equal(nsgsim_findings_count(fs), 11);
	assert_int_equal(nsgsim_findings_get(fs, 11, &f), NSGSIM_E_INVALID_ARG);
	assert_string_equal(nsgsim_level_name(NSGSIM_LEVEL_ERROR), "error");
	assert_null(nsgsim_level_name(9));
	nsgsim_findings_free(fs);
	nsgsim_policy_free(p);
}

int main(void)
{
	/* The analysis allocates and frees per chain; without this glibc hands
	 * the heap top back and takes it again tens of thousands of times, and
	 * the test spends most of its time in the kernel. */
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_shadowed_rules_never_decide),
	        cmocka_unit_test(test_findings_of_a_known_environment),
	        cmocka_unit_test(test_never_decides_is_exact),
	        cmocka_unit_test(test_jobs_give_the_same_findings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
