/* nsgsim_policy_show: the REST JSON it writes loads back to the same
 * answers, and showing that gives the same bytes.
 *
 * For every fixture environment (the example, every fixtures/semantics and
 * fixtures/effective_myers scenario) and for random environments (tests/genenv.h):
 * show as JSON, load the text back with the same service tags, compile, and
 * compare the two policies -- the stats, every NIC's effective rules (the
 * az list-effective-nsg JSON) and the verdict, deciding layer, endpoint,
 * rule, resource and assumptions of a few thousand flows aimed at the
 * edges of every rule.  Then show(show(x)) must equal show(x). */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "eval/walk.h"
#include "files.h"
#include "nsgsim.h"

#include "genenv.h"

#define EXAMPLE_TAGS "fixtures/service_tags/ServiceTags_Public_20251013_example_tags.json"

static char *show(const nsgsim_policy *p, int format)
{
	char *out = NULL;
	nsgsim_error err = {0};
	assert_int_equal(nsgsim_policy_show(p, format, &out, &err), 0);
	assert_non_null(out);
	return out;
}

/* The policy from an environment text and service tags (tags NULL: none). */
static nsgsim_policy *load_text(const char *json, const char *tags, size_t tags_len)
{
	nsgsim_loader *l = nsgsim_loader_new();
	nsgsim_error err = {0};
	nsgsim_policy *p = NULL;
	int rc = nsgsim_loader_add_env_buffer(l, "show.json", json, strlen(json), &err);
	if (rc == 0 && tags)
		rc = nsgsim_loader_add_service_tags_buffer(l, "tags.json", tags, tags_len, &err);
	if (rc == 0)
		rc = nsgsim_compile(l, &p, &err);
	nsgsim_loader_free(l);
	if (rc != 0) {
		char buf[3000];
		nsgsim_error_format(&err, buf, sizeof buf);
		fail_msg("the show output does not load back: %s", buf);
	}
	return p;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static const char *diff_results(const nsgsim_result *a, const nsgsim_result *b)
{
	if (a->verdict != b->verdict)
		return "verdict";
	if (a->decided_layer != b->decided_layer || a->decided_endpoint != b->decided_endpoint)
		return "decided layer or endpoint";
	const nsgsim_rule_ref *x = &a->decided_rule, *y = &b->decided_rule;
	if (!same_str(x->name, y->name) || !same_str(x->id, y->id) || x->priority != y->priority ||
	    x->access != y->access || x->is_default != y->is_default)
		return "decided rule";
	if (!same_str(a->decided_resource, b->decided_resource))
		return "decided resource";
	if (a->assumptions != b->assumptions)
		return "assumptions";
	if (a->src_modelled != b->src_modelled || a->dst_modelled != b->dst_modelled ||
	    a->n_sides != b->n_sides)
		return "modelled flags or sides";
	return NULL;
}

/* The same answers from a and b; r picks the flows. */
static void compare(const char *what, const nsgsim_policy *a, const nsgsim_policy *b, rng *r,
                    int n_flows)
{
	nsgsim_stats sa, sb;
	nsgsim_policy_stats(a, &sa);
	nsgsim_policy_stats(b, &sb);
	if (memcmp(&sa, &sb, sizeof sa) != 0)
		fail_msg("%s: the stats differ after show", what);
	size_t n = nsgsim_policy_resource_count(a, NSGSIM_RESOURCE_NIC);
	assert_int_equal(n, nsgsim_policy_resource_count(b, NSGSIM_RESOURCE_NIC));
	for (size_t i = 0; i < n; i++) {
		nsgsim_resource nic;
		assert_int_equal(nsgsim_policy_resource(a, NSGSIM_RESOURCE_NIC, i, &nic), 0);
		char *ea = NULL, *eb = NULL;
		int ra = nsgsim_effective(a, nic.id, NSGSIM_FORMAT_JSON, &ea, NULL);
		int rb = nsgsim_effective(b, nic.id, NSGSIM_FORMAT_JSON, &eb, NULL);
		assert_int_equal(ra, rb);
		if (ra == 0 && strcmp(ea, eb) != 0)
			fail_msg("%s: effective rules of %s differ after show", what, nic.id);
		nsgsim_free(ea);
		nsgsim_free(eb);
	}
	pool pl;
	build_pool(a, &pl, r);
	for (int i = 0; i < n_flows; i++) {
		nsgsim_flow f;
		make_flow(&pl, r, &f);
		nsgsim_result x, y;
		int rx = nsgsim_eval(a, &f, &x, NULL), ry = nsgsim_eval(b, &f, &y, NULL);
		assert_int_equal(rx, ry);
		const char *d = rx == 0 ? diff_results(&x, &y) : NULL;
		if (d)
			fail_msg("%s: flow %d: the %s differs after show", what, i, d);
	}
	pool_free(&pl);
}

/* show, load back, compare, and show again: the same bytes. */
static void round_trip(const char *what, const nsgsim_policy *p, const char *tags, size_t tags_len,
                       uint64_t seed, int n_flows)
{
	char *j1 = show(p, NSGSIM_SHOW_JSON);
	nsgsim_policy *q = load_text(j1, tags, tags_len);
	rng r = {seed};
	/* Nothing new to note: the output says nothing the loader doubts. */
	if (nsgsim_policy_note_count(q) > nsgsim_policy_note_count(p))
		fail_msg("%s: loading the show output adds notes", what);
	compare(what, p, q, &r, n_flows);
	char *j2 = show(q, NSGSIM_SHOW_JSON);
	if (strcmp(j1, j2) != 0)
		fail_msg("%s: show(show(x)) differs from show(x)", what);
	nsgsim_free(j1);
	nsgsim_free(j2);
	nsgsim_policy_free(q);
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* A fixture's env/ with its tags file (tags "" or missing: none). */
static void check_fixture(const char *env, const char *tags)
{
	nsgsim_loader *l = nsgsim_loader_new();
	nsgsim_error err = {0};
	nsgsim_policy *p = NULL;
	assert_int_equal(nsgsim_loader_add_env(l, env, &err), 0);
	char *t = NULL;
	size_t tlen = 0;
	if (tags[0] && exists(tags)) {
		t = test_read_file(tags, &tlen);
		assert_int_equal(nsgsim_loader_add_service_tags_buffer(l, tags, t, tlen, &err), 0);
	}
	int rc = nsgsim_compile(l, &p, &err);
	nsgsim_loader_free(l);
	if (rc != 0) { /* fixtures/semantics/invalid: not an environment to show */
		free(t);
		return;
	}
	round_trip(env, p, t, tlen, 0x5E0A5E0Aull, 3000);
	nsgsim_policy_free(p);
	free(t);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int fixtures_under(const char *root, const char *tags)
{
	DIR *d = opendir(root);
	assert_non_null(d);
	char *names[256];
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL && n < 256)
		if (e->d_name[0] != '.')
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof *names, cmp_str);
	int count = 0;
	for (size_t i = 0; i < n; i++) {
		char env[512], own[512];
		snprintf(env, sizeof env, "%s/%s/env", root, names[i]);
		snprintf(own, sizeof own, "%s/%s/service_tags.json", root, names[i]);
		if (exists(env)) {
			check_fixture(env, exists(own) ? own : tags);
			count++;
		}
		free(names[i]);
	}
	return count;
}

static void test_example(void **state)
{
	(void)state;
	check_fixture("fixtures/example/env", EXAMPLE_TAGS);
}

static void test_semantics_fixtures(void **state)
{
	(void)state;
	assert_true(fixtures_under("fixtures/semantics", "") >= 20);
}

static void test_effective_myers_fixtures(void **state)
{
	(void)state;
	assert_true(fixtures_under("fixtures/effective_myers",
	                           "fixtures/effective_myers/internet_override_tags.json") >= 5);
}

static void test_random_environments(void **state)
{
	(void)state;
	int shown = 0;
	for (int env = 0; env < 40; env++) {
		genv g;
		genpolicy gp = genenv_compile(env, &g);
		if (gp.p) {
			char what[32];
			snprintf(what, sizeof what, "random env %d", env);
			round_trip(what, gp.p, gp.tags, strlen(gp.tags),
			           0xC0FFEEull + (uint64_t)env, 1000);
			shown++;
		}
		genpolicy_free(&gp);
	}
	assert_true(shown >= 30);
}

/* The rule sides come out in the field the input used. */
static void test_forms_as_written(void **state)
{
	(void)state;
	static const char env[] =
	        "{\"value\": [{\"id\": \"" RG "/networkSecurityGroups/n\", \"name\": \"n\","
	        " \"type\": \"Microsoft.Network/networkSecurityGroups\", \"properties\":"
	        " {\"securityRules\": [{\"name\": \"r\", \"properties\": {\"protocol\": \"Tcp\","
	        " \"sourceAddressPrefixes\": [\"10.0.0.0/24\"], \"sourcePortRanges\": [\"80\"],"
	        " \"destinationAddressPrefix\": \"10.1.0.0/16\", \"destinationPortRange\":"
	        " \"1000-2000\", \"access\": \"Deny\", \"priority\": 200, \"direction\":"
	        " \"Inbound\"}}]}}]}";
	nsgsim_policy *p = load_text(env, NULL, 0);
	char *j = show(p, NSGSIM_SHOW_JSON);
	assert_non_null(strstr(j, "\"sourceAddressPrefixes\": [\n"));
	assert_non_null(strstr(j, "\"sourcePortRanges\": [\n"));
	assert_non_null(strstr(j, "\"destinationAddressPrefix\": \"10.1.0.0/16\""));
	assert_non_null(strstr(j, "\"destinationPortRange\": \"1000-2000\""));
	assert_null(strstr(j, "AllowVnetInBound")); /* no default rules */
	char *t = show(p, NSGSIM_SHOW_TEXT);
	assert_non_null(strstr(t, "       1  network security groups\n"));
	assert_non_null(strstr(t, "nsgsim-rg (default)"));
	nsgsim_free(t);
	nsgsim_free(j);
	nsgsim_error err = {0};
	char *out = (char *)1;
	assert_int_equal(nsgsim_policy_show(p, 7, &out, &err), NSGSIM_E_INVALID_ARG);
	assert_int_equal(nsgsim_policy_show(NULL, NSGSIM_SHOW_JSON, &out, &err),
	                 NSGSIM_E_INVALID_ARG);
	nsgsim_policy_free(p);
}

/* Skipped resources are listed with the reason. */
static void test_text_lists_skipped(void **state)
{
	(void)state;
	static const char env[] =
	        "{\"value\": [{\"id\": \"" RG "/loadBalancers/lb\","
	        " \"name\": \"lb\", \"type\": \"Microsoft.Network/loadBalancers\"}]}";
	nsgsim_policy *p = load_text(env, NULL, 0);
	char *t = show(p, NSGSIM_SHOW_TEXT);
	assert_non_null(
	        strstr(t, "\nSkipped\n  - resource type 'Microsoft.Network/loadBalancers'"));
	assert_non_null(strstr(t, "/loadBalancers/lb\n"));
	nsgsim_free(t);
	nsgsim_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_forms_as_written),
	        cmocka_unit_test(test_text_lists_skipped),
	        cmocka_unit_test(test_example),
	        cmocka_unit_test(test_semantics_fixtures),
	        cmocka_unit_test(test_effective_myers_fixtures),
	        cmocka_unit_test(test_random_environments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
