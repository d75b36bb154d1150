/* A focused compile (nsgsim_loader_set_focus; issue 18's lazy compile) answers
 * every flow between its focus addresses exactly as the full compile does,
 * refuses -- never answers differently -- a flow that meets an NSG outside
 * the focus, refuses the set queries, and fails and notes exactly as the full
 * compile on the same input.
 *
 * Every fixture environment (the semantics cases, the example, the flow
 * logs' and effective-rules environments) is compiled whole and, for random
 * flows between its addresses, compiled again with the flow's two addresses
 * as the focus; the two are compared on eval (both renders, verbose),
 * source-port ranges, eval_batch, eval_at at the NICs that hold the focus
 * addresses, explain, notes and stats -- and so is a focused query load of
 * the full compile saved as a compiled policy file, which reads only the
 * rule blocks its focus needs.  Hand-written inputs put an error and a note
 * in an NSG outside the focus. */
#define _POSIX_C_SOURCE 200809L
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nsgsim.h"
#include "policy_addrs.h"

#define TAGS "fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json"

typedef struct tally {
	int envs, focused, answered, refused, unbuilt_nsgs;
	int file_loads, nsgs_undecoded; /* focused loads of a compiled policy file */
} tally;

/* An input: an environment path, an optional ARM parameters file, the tags
 * tried first (the input is compiled without them when it fails with them). */
typedef struct input {
	const char *env, *params, *tags;
} input;

static int compile_env(const input *in, const char *tags, int build, const nsgsim_ip *focus,
                       size_t n_focus, nsgsim_policy **out, nsgsim_error *err)
{
	nsgsim_loader *l = nsgsim_loader_new();
	assert_non_null(l);
	assert_int_equal(nsgsim_loader_set_build(l, build), 0);
	assert_int_equal(nsgsim_loader_set_focus(l, focus, n_focus), 0);
	int rc = in->params ? nsgsim_loader_add_parameters(l, in->params, err) : 0;
	if (rc == 0)
		rc = nsgsim_loader_add_env(l, in->env, err);
	if (rc == 0 && tags)
		rc = nsgsim_loader_add_service_tags(l, tags, err);
	if (rc == 0)
		rc = nsgsim_compile(l, out, err);
	nsgsim_loader_free(l);
	return rc;
}

static void same_text(const char *a, const char *b, const char *what, const char *env)
{
	if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
		fail_msg("%s: %s differs:\n--- full\n%s\n--- focused\n%s", env, what,
		         a ? a : "(null)", b ? b : "(null)");
}

static void same_notes(const nsgsim_policy *a, const nsgsim_policy *b, const char *env)
{
	assert_int_equal(nsgsim_policy_note_count(a), nsgsim_policy_note_count(b));
	for (size_t i = 0; i < nsgsim_policy_note_count(a); i++) {
		nsgsim_note x, y;
		assert_int_equal(nsgsim_policy_note(a, i, &x), 0);
		assert_int_equal(nsgsim_policy_note(b, i, &y), 0);
		assert_int_equal(x.kind, y.kind);
		same_text(x.message, y.message, "a note", env);
		same_text(x.resource, y.resource, "a note's resource", env);
	}
	nsgsim_stats sa, sb;
	nsgsim_policy_stats(a, &sa);
	nsgsim_policy_stats(b, &sb);
	assert_memory_equal(&sa, &sb, sizeof sa);
}

static char *render(const nsgsim_policy *p, const nsgsim_flow *f, const nsgsim_result *r,
                    int format)
{
	char *text = NULL;
	assert_int_equal(nsgsim_result_render(p, f, r, format, 1, &text, NULL), 0);
	return text;
}

/* Both answer f alike: the same code, and the same renders when it is 0.
 * Returns the code. */
static int same_eval(const nsgsim_policy *a, const nsgsim_policy *b, const nsgsim_flow *f,
                     const char *env)
{
	nsgsim_result ra, rb;
	nsgsim_error ea = {0}, eb = {0};
	int ca = nsgsim_eval(a, f, &ra, &ea), cb = nsgsim_eval(b, f, &rb, &eb);
	if (ca != cb)
		fail_msg("%s: eval returns %d full, %d focused (%s)", env, ca, cb, eb.message);
	if (ca != 0) {
		same_text(ea.message, eb.message, "an eval error", env);
		return ca;
	}
	for (int format = NSGSIM_FORMAT_TABLE; format <= NSGSIM_FORMAT_JSON; format++) {
		char *x = render(a, f, &ra, format), *y = render(b, f, &rb, format);
		same_text(x, y, "eval --verbose", env);
		nsgsim_free(x);
		nsgsim_free(y);
	}
	for (int side = 0; side < ra.n_sides; side++)
		for (int layer = 0; layer < ra.sides[side].n_layers; layer++) {
			size_t na = 0, nb = 0;
			assert_int_equal(nsgsim_explain(a, f, &ra, side, layer, NULL, 0, &na, NULL),
			                 0);
			assert_int_equal(nsgsim_explain(b, f, &rb, side, layer, NULL, 0, &nb, NULL),
			                 0);
			assert_int_equal(na, nb);
		}
	nsgsim_port_outcome pa[64], pb[64];
	size_t na = 0, nb = 0;
	int sa = nsgsim_eval_source_ports(a, f, pa, 64, &na, NULL);
	int sb = nsgsim_eval_source_ports(b, f, pb, 64, &nb, NULL);
	assert_int_equal(sa, sb);
	assert_int_equal(na, nb);
	for (size_t i = 0; sa == 0 && i < na && i < 64; i++) {
		assert_int_equal(pa[i].lo, pb[i].lo);
		assert_int_equal(pa[i].hi, pb[i].hi);
		assert_int_equal(pa[i].verdict, pb[i].verdict);
		same_text(pa[i].decided_rule.id, pb[i].decided_rule.id, "a port range's rule", env);
	}
	return 0;
}

/* eval_at at every NIC holding one of the focus addresses, both ways. */
static void same_eval_at(const nsgsim_policy *a, const nsgsim_policy *b, const nsgsim_flow *f,
                         const char *env)
{
	for (size_t i = 0; i < a->n_nics; i++) {
		const ns_nic *n = a->nics[i].n;
		for (size_t k = 0; k < n->n_ipconfigs; k++) {
			const ns_ipconfig *c = &n->ipconfigs[k];
			nsgsim_ip ip;
			if (!c->has_ip)
				continue;
			ip_of_u128(&ip, c->family, c->ip);
			int way = memcmp(&ip, &f->dst, sizeof ip) == 0   ? NSGSIM_INBOUND
			          : memcmp(&ip, &f->src, sizeof ip) == 0 ? NSGSIM_OUTBOUND
			                                                 : 0;
			if (!way)
				continue;
			nsgsim_result ra, rb;
			nsgsim_error ea = {0}, eb = {0};
			int ca = nsgsim_eval_at(a, f, n->id, way, &ra, &ea);
			int cb = nsgsim_eval_at(b, f, n->id, way, &rb, &eb);
			if (ca != cb)
				fail_msg("%s: eval_at %s returns %d full, %d focused (%s)", env,
				         n->id, ca, cb, eb.message);
			if (ca == 0) {
				char *x = render(a, f, &ra, NSGSIM_FORMAT_JSON);
				char *y = render(b, f, &rb, NSGSIM_FORMAT_JSON);
				same_text(x, y, "eval --at", env);
				nsgsim_free(x);
				nsgsim_free(y);
			}
		}
	}
}

/* Flows the focus does not name: refused, or answered as the full policy
 * answers them. */
static void other_flows(const nsgsim_policy *a, const nsgsim_policy *b, const addrs *ad,
                        uint64_t *seed, const char *env, tally *t)
{
	for (int i = 0; i < 12; i++) {
		nsgsim_flow g = random_flow(ad, seed);
		nsgsim_result rb;
		int cb = nsgsim_eval(b, &g, &rb, NULL);
		if (cb == NSGSIM_E_OUT_OF_FOCUS) {
			t->refused++;
			continue;
		}
		same_eval(a, b, &g, env);
	}
}

/* The set queries need every chain. */
static void refuses_set_queries(const nsgsim_policy *full, const nsgsim_policy *b)
{
	nsgsim_findings *fs = NULL;
	assert_int_equal(nsgsim_lint(b, &fs, NULL), NSGSIM_E_OUT_OF_FOCUS);
	assert_null(fs);
	nsgsim_matrix *m = NULL;
	assert_int_equal(nsgsim_matrix_build(b, NSGSIM_MATRIX_BY_SUBNET, &m, NULL),
	                 NSGSIM_E_OUT_OF_FOCUS);
	if (b->n_nics) {
		char *text = NULL;
		nsgsim_error err = {0};
		assert_int_equal(
		        nsgsim_effective(b, b->nics[0].n->id, NSGSIM_FORMAT_JSON, &text, &err),
		        NSGSIM_E_OUT_OF_FOCUS);
		assert_non_null(strstr(err.message, "focus"));
		nsgsim_query q = {0};
		q.to = b->nics[0].n->id;
		nsgsim_regions *r = NULL;
		assert_int_equal(nsgsim_reach(b, &q, &r, NULL), NSGSIM_E_OUT_OF_FOCUS);
		assert_int_equal(nsgsim_diff(full, b, &q, &r, NULL), NSGSIM_E_OUT_OF_FOCUS);
	}
}

static void batch_alike(const nsgsim_policy *a, const nsgsim_policy *b, const nsgsim_flow *f)
{
	nsgsim_flow fl[4] = {*f, *f, *f, *f};
	fl[1].protocol = NSGSIM_PROTO_ICMP;
	fl[1].src_port = fl[1].dst_port = NSGSIM_PORT_ANY;
	fl[2].protocol = NSGSIM_PROTO_TCP;
	fl[2].src_port = 40000;
	fl[2].dst_port = 443;
	fl[3].protocol = NSGSIM_PROTO_UDP;
	fl[3].src_port = 53;
	fl[3].dst_port = 53;
	nsgsim_decision da[4], db[4];
	assert_int_equal(nsgsim_eval_batch(a, fl, 4, NSGSIM_ENGINE_COMPILED, da, NULL), 0);
	assert_int_equal(nsgsim_eval_batch(b, fl, 4, NSGSIM_ENGINE_COMPILED, db, NULL), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(da[i].status, db[i].status);
		assert_int_equal(da[i].verdict, db[i].verdict);
		assert_int_equal(da[i].decided_layer, db[i].decided_layer);
		same_text(da[i].decided_rule.id, db[i].decided_rule.id, "a batch rule", "batch");
	}
}

static size_t unbuilt_nsgs(const nsgsim_policy *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_nsgs; i++)
		n += p->nsgs[i].in.unbuilt;
	return n;
}

/* Under NSGSIM_TEST_QUICK (the sanitizer and valgrind runs) three focus
 * flows an environment instead of ten. */
static int flows_per_env(void)
{
	const char *q = getenv("NSGSIM_TEST_QUICK");
	return q && *q && strcmp(q, "0") != 0 ? 3 : 10;
}

/* The NSGs whose rules a focused load of a compiled policy file left
 * undecoded. */
static size_t undecoded_nsgs(const nsgsim_policy *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_nsgs; i++)
		n += p->nsgs[i].deferred_rules > 0;
	return n;
}

/* A focused query load of the compiled policy file at path: it reads the
 * rule blocks its focus needs and leaves the rest, answers as the full
 * compile, keeps the saved notes, and refuses show and saving, which need
 * every rule. */
static nsgsim_policy *load_file_focused(const char *path, const nsgsim_ip *focus, size_t n)
{
	nsgsim_loader *l = nsgsim_loader_new();
	nsgsim_error err = {0};
	assert_int_equal(nsgsim_loader_set_build(l, NSGSIM_BUILD_QUERY), 0);
	assert_int_equal(nsgsim_loader_set_focus(l, focus, n), 0);
	if (nsgsim_loader_add_policy_file(l, path, &err) != 0)
		fail_msg("%s: %s", path, err.message);
	nsgsim_policy *p = NULL;
	if (nsgsim_compile(l, &p, &err) != 0)
		fail_msg("%s: the focused load's compile fails: %s", path, err.message);
	nsgsim_loader_free(l);
	assert_true(p->focused);
	char *text = NULL;
	assert_int_equal(nsgsim_policy_show(p, NSGSIM_SHOW_TEXT, &text, &err),
	                 NSGSIM_E_OUT_OF_FOCUS);
	assert_null(text);
	void *buf = NULL;
	size_t len = 0;
	assert_int_equal(nsgsim_policy_save_buffer(p, &buf, &len, &err), NSGSIM_E_INVALID_ARG);
	assert_null(buf);
	return p;
}

/* The full compile a saved to a file, for load_file_focused. */
static void save_to(const nsgsim_policy *a, char *path)
{
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	nsgsim_error err = {0};
	if (nsgsim_policy_save(a, path, &err) != 0)
		fail_msg("%s: %s", path, err.message);
}

static void check_env(const input *in, int n_flows, tally *t)
{
	const char *tags = in->tags, *env = in->env;
	nsgsim_policy *a = NULL;
	nsgsim_error err = {0};
	if (compile_env(in, tags, NSGSIM_BUILD_MINIMAL, NULL, 0, &a, &err) != 0) {
		tags = NULL;
		if (compile_env(in, tags, NSGSIM_BUILD_MINIMAL, NULL, 0, &a, &err) != 0)
			return;
	}
	t->envs++;
	char path[] = "/tmp/nsgsim-test-focus-XXXXXX";
	save_to(a, path);
	uint64_t seed = 0x9E3779B97F4A7C15ULL ^ strlen(env);
	addrs ad = {.n = 0};
	collect_addrs(a, &ad, &seed);
	for (int i = 0; i < n_flows; i++) {
		nsgsim_flow f = random_flow(&ad, &seed);
		nsgsim_ip focus[2] = {f.src, f.dst};
		nsgsim_policy *b = NULL;
		if (compile_env(in, tags, NSGSIM_BUILD_QUERY, focus, 2, &b, &err) != 0)
			fail_msg("%s: the focused compile fails: %s", env, err.message);
		assert_true(b->focused);
		t->focused++;
		t->unbuilt_nsgs += (int)unbuilt_nsgs(b);
		same_notes(a, b, env);
		if (same_eval(a, b, &f, env) == 0)
			t->answered++;
		same_eval_at(a, b, &f, env);
		batch_alike(a, b, &f);
		uint64_t same_others = seed; /* the file's load meets the same other flows */
		other_flows(a, b, &ad, &seed, env, t);
		refuses_set_queries(a, b);
		nsgsim_policy_free(b);
		/* The same focus from the compiled policy file. */
		nsgsim_policy *c = load_file_focused(path, focus, 2);
		t->file_loads++;
		t->nsgs_undecoded += (int)undecoded_nsgs(c);
		same_notes(a, c, env);
		same_eval(a, c, &f, env);
		same_eval_at(a, c, &f, env);
		batch_alike(a, c, &f);
		other_flows(a, c, &ad, &same_others, env, t);
		refuses_set_queries(a, c);
		nsgsim_policy_free(c);
	}
	unlink(path);
	nsgsim_policy_free(a);
}

static void test_fixture_envs(void **state)
{
	(void)state;
	static const char *patterns[] = {"fixtures/semantics/*/env", "fixtures/example/env",
	                                 "fixtures/flow_logs/env/*",
	                                 "fixtures/effective_myers/*/env"};
	tally t = {0};
	for (size_t i = 0; i < sizeof patterns / sizeof patterns[0]; i++) {
		glob_t g;
		if (glob(patterns[i], 0, NULL, &g) != 0)
			continue;
		for (size_t k = 0; k < g.gl_pathc; k++) {
			input in = {g.gl_pathv[k], NULL, TAGS};
			check_env(&in, flows_per_env(), &t);
		}
		globfree(&g);
	}
	printf("# %d environments, %d focused compiles (%d NSGs left unbuilt), %d focus flows "
	       "answered alike, %d other flows refused; %d focused loads of their compiled "
	       "policy files (%d NSGs with their rules left undecoded)\n",
	       t.envs, t.focused, t.unbuilt_nsgs, t.answered, t.refused, t.file_loads,
	       t.nsgs_undecoded);
	/* Not vacuous: NSGs were left out, flows answered, others refused. */
	int k = flows_per_env();
	assert_true(t.envs >= 40);
	assert_true(t.unbuilt_nsgs > 5 * k);
	assert_true(t.answered > 20 * k);
	assert_true(t.refused > 2 * k);
	assert_int_equal(t.file_loads, t.focused);
	assert_true(t.nsgs_undecoded > 5 * k);
}

/* The ARM quickstart templates (with their parameters where given): two
 * focus flows each, every eighth template under NSGSIM_TEST_QUICK. */
static void test_arm_templates(void **state)
{
	(void)state;
	glob_t g;
	assert_int_equal(glob("fixtures/arm_quickstart/templates/*/azuredeploy.json", 0, NULL, &g),
	                 0);
	tally t = {0};
	size_t step = flows_per_env() == 10 ? 1 : 8;
	for (size_t k = 0; k < g.gl_pathc; k += step) {
		char params[600];
		const char *dir = strrchr(g.gl_pathv[k], '/');
		const char *name = dir - 1;
		while (name > g.gl_pathv[k] && name[-1] != '/')
			name--;
		snprintf(params, sizeof params,
		         "fixtures/arm_quickstart/params/%.*s/azuredeploy.parameters.json",
		         (int)(dir - name), name);
		FILE *f = fopen(params, "r");
		if (f)
			fclose(f);
		input in = {g.gl_pathv[k], f ? params : NULL,
		            "fixtures/arm_quickstart/service_tags_used.json"};
		check_env(&in, 2, &t);
	}
	globfree(&g);
	printf("# %d templates, %d focused compiles (%d NSGs left unbuilt), %d focus flows "
	       "answered alike, %d other flows refused\n",
	       t.envs, t.focused, t.unbuilt_nsgs, t.answered, t.refused);
	assert_true(t.envs >= (int)(200 / step));
	assert_true(t.answered > (int)(60 / step));
}

/* ---- errors and notes outside the focus ------------------------------------------------- */

#define SUB  "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg"
#define NSGS SUB "/providers/Microsoft.Network/networkSecurityGroups/"

static const char *two_nsgs_fmt =
        "["
        "{\"id\":\"" SUB "/providers/Microsoft.Network/virtualNetworks/v\","
        "\"name\":\"v\",\"type\":\"Microsoft.Network/virtualNetworks\","
        "\"properties\":{\"addressSpace\":{\"addressPrefixes\":[\"10.0.0.0/16\"]},"
        "\"subnets\":[{\"id\":\"" SUB "/providers/Microsoft.Network/virtualNetworks/v/"
        "subnets/a\",\"name\":\"a\",\"properties\":{\"addressPrefix\":\"10.0.1.0/24\","
        "\"networkSecurityGroup\":{\"id\":\"" NSGS "nsg-a\"}}},"
        "{\"id\":\"" SUB "/providers/Microsoft.Network/virtualNetworks/v/subnets/b\","
        "\"name\":\"b\",\"properties\":{\"addressPrefix\":\"10.0.2.0/24\","
        "\"networkSecurityGroup\":{\"id\":\"" NSGS "nsg-b\"}}}]}},"
        "{\"id\":\"" NSGS "nsg-a\",\"name\":\"nsg-a\","
        "\"type\":\"Microsoft.Network/networkSecurityGroups\",\"properties\":{"
        "\"securityRules\":[{\"name\":\"web\",\"properties\":{\"priority\":100,"
        "\"access\":\"Allow\",\"direction\":\"Inbound\",\"protocol\":\"Tcp\","
        "\"sourceAddressPrefix\":\"*\",\"sourcePortRange\":\"*\","
        "\"destinationAddressPrefix\":\"*\",\"destinationPortRange\":\"443\"}}]}},"
        "{\"id\":\"" NSGS "nsg-b\",\"name\":\"nsg-b\","
        "\"type\":\"Microsoft.Network/networkSecurityGroups\",\"properties\":{"
        "\"securityRules\":[%s]}}]";

static int compile_text(const char *rules_b, const nsgsim_ip *focus, size_t n, int build,
                        nsgsim_policy **out, nsgsim_error *err)
{
	size_t cap = strlen(two_nsgs_fmt) + strlen(rules_b) + 1;
	char *json = malloc(cap);
	assert_non_null(json);
	snprintf(json, cap, two_nsgs_fmt, rules_b);
	nsgsim_loader *l = nsgsim_loader_new();
	assert_int_equal(nsgsim_loader_set_build(l, build), 0);
	assert_int_equal(nsgsim_loader_set_focus(l, focus, n), 0);
	int rc = nsgsim_loader_add_env_buffer(l, "two.json", json, strlen(json), err);
	if (rc == 0)
		rc = nsgsim_compile(l, out, err);
	nsgsim_loader_free(l);
	free(json);
	return rc;
}

static nsgsim_flow flow_of(const char *text)
{
	nsgsim_flow f;
	assert_int_equal(nsgsim_flow_parse(text, &f, NULL), 0);
	return f;
}

/* nsg-b (subnet b) is outside a focus on subnet a: its errors are the full
 * compile's errors all the same. */
static void test_errors_outside_the_focus(void **state)
{
	(void)state;
	nsgsim_flow f = flow_of("tcp 93.184.216.34:5000 10.0.1.4:443");
	nsgsim_ip focus[2] = {f.src, f.dst};
	static const char *bad[] = {
	        /* an unknown service tag */
	        "{\"name\":\"t\",\"properties\":{\"priority\":100,\"access\":\"Allow\","
	        "\"direction\":\"Inbound\",\"protocol\":\"Tcp\",\"sourceAddressPrefix\":"
	        "\"NoSuchTag\",\"sourcePortRange\":\"*\",\"destinationAddressPrefix\":\"*\","
	        "\"destinationPortRange\":\"22\"}}",
	        /* two rules of one priority and direction */
	        "{\"name\":\"x\",\"properties\":{\"priority\":200,\"access\":\"Allow\","
	        "\"direction\":\"Inbound\",\"protocol\":\"Tcp\",\"sourceAddressPrefix\":\"*\","
	        "\"sourcePortRange\":\"*\",\"destinationAddressPrefix\":\"*\","
	        "\"destinationPortRange\":\"22\"}},"
	        "{\"name\":\"y\",\"properties\":{\"priority\":200,\"access\":\"Deny\","
	        "\"direction\":\"Inbound\",\"protocol\":\"Tcp\",\"sourceAddressPrefix\":\"*\","
	        "\"sourcePortRange\":\"*\",\"destinationAddressPrefix\":\"*\","
	        "\"destinationPortRange\":\"23\"}}",
	        /* an ASG that is not in the input */
	        "{\"name\":\"g\",\"properties\":{\"priority\":300,\"access\":\"Allow\","
	        "\"direction\":\"Inbound\",\"protocol\":\"Tcp\","
	        "\"sourceApplicationSecurityGroups\":"
	        "[{\"id\":\"" SUB "/providers/Microsoft.Network/applicationSecurityGroups/none\"}],"
	        "\"sourcePortRange\":\"*\",\"destinationAddressPrefix\":\"*\","
	        "\"destinationPortRange\":\"22\"}}"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		nsgsim_policy *a = NULL, *b = NULL;
		nsgsim_error ea = {0}, eb = {0};
		int ca = compile_text(bad[i], NULL, 0, NSGSIM_BUILD_MINIMAL, &a, &ea);
		int cb = compile_text(bad[i], focus, 2, NSGSIM_BUILD_QUERY, &b, &eb);
		assert_true(ca < 0);
		assert_int_equal(ca, cb);
		same_text(ea.message, eb.message, "the error", bad[i]);
		same_text(ea.pointer, eb.pointer, "the error's pointer", bad[i]);
		assert_null(b);
	}
}

/* A note from an NSG outside the focus (more than 4,000 addresses on a side) is
 * there too; the focus flow is answered, the flow into subnet b refused;
 * a full build ignores the focus. */
static void test_notes_outside_the_focus(void **state)
{
	(void)state;
	static char rules[80000] = "{\"name\":\"many\",\"properties\":{\"priority\":100,\"access\":"
	                           "\"Allow\",\"direction\":\"Inbound\",\"protocol\":\"Tcp\","
	                           "\"sourceAddressPrefix\":\"*\",\"sourcePortRange\":\"*\","
	                           "\"destinationAddressPrefixes\":[";
	for (int i = 0; i < 4001; i++) {
		char one[40];
		snprintf(one, sizeof one, "%s\"10.%d.%d.0/24\"", i ? "," : "", 100 + i / 256,
		         i % 256);
		if (strlen(rules) + strlen(one) + 64 >= sizeof rules)
			break;
		strcat(rules, one);
	}
	strcat(rules, "],\"destinationPortRange\":\"22\"}}");
	nsgsim_flow f = flow_of("tcp 93.184.216.34:5000 10.0.1.4:443");
	nsgsim_ip focus[2] = {f.src, f.dst};
	nsgsim_policy *a = NULL, *b = NULL, *c = NULL;
	nsgsim_error err = {0};
	assert_int_equal(compile_text(rules, NULL, 0, NSGSIM_BUILD_MINIMAL, &a, &err), 0);
	assert_int_equal(compile_text(rules, focus, 2, NSGSIM_BUILD_QUERY, &b, &err), 0);
	assert_int_equal(compile_text(rules, focus, 2, NSGSIM_BUILD_FULL, &c, &err), 0);
	same_notes(a, b, "notes");
	assert_true(b->focused);
	assert_false(c->focused);
	assert_int_equal(unbuilt_nsgs(b), 1);
	assert_int_equal(unbuilt_nsgs(c), 0);
	assert_int_equal(same_eval(a, b, &f, "focus flow"), 0);
	nsgsim_flow g = flow_of("tcp 93.184.216.34:5000 10.0.2.4:22");
	nsgsim_result r;
	nsgsim_error e = {0};
	assert_int_equal(nsgsim_eval(b, &g, &r, &e), NSGSIM_E_OUT_OF_FOCUS);
	assert_non_null(strstr(e.message, "outside the focus"));
	assert_int_equal(nsgsim_eval(c, &g, &r, NULL), 0);
	nsgsim_findings *fs = NULL;
	assert_int_equal(nsgsim_lint(c, &fs, NULL), 0);
	nsgsim_findings_free(fs);
	nsgsim_policy_free(a);
	nsgsim_policy_free(b);
	nsgsim_policy_free(c);
}

static void test_bad_focus(void **state)
{
	(void)state;
	nsgsim_loader *l = nsgsim_loader_new();
	nsgsim_ip ip = {.family = 5};
	assert_int_equal(nsgsim_loader_set_focus(NULL, NULL, 0), NSGSIM_E_INVALID_ARG);
	assert_int_equal(nsgsim_loader_set_focus(l, NULL, 1), NSGSIM_E_INVALID_ARG);
	assert_int_equal(nsgsim_loader_set_focus(l, &ip, 1), NSGSIM_E_INVALID_ARG);
	assert_int_equal(nsgsim_loader_set_focus(l, &ip, NSGSIM_FOCUS_MAX + 1),
	                 NSGSIM_E_INVALID_ARG);
	ip.family = 4;
	assert_int_equal(nsgsim_loader_set_focus(l, &ip, 1), 0);
	assert_int_equal(nsgsim_loader_set_focus(l, NULL, 0), 0);
	nsgsim_loader_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_fixture_envs),
	        cmocka_unit_test(test_arm_templates),
	        cmocka_unit_test(test_errors_outside_the_focus),
	        cmocka_unit_test(test_notes_outside_the_focus),
	        cmocka_unit_test(test_bad_focus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
