/* A large environment array read one element at a time (lib/parse/load_env.c,
 * ns_load_env_text_split; issue 18's memory) gives exactly what reading the
 * whole tree gives: every fixture environment file is read both ways (the
 * split forced with a threshold of 0), compiled and saved, and the two
 * compiled policy files -- which hold the whole model, the notes and every
 * input line -- must be the same bytes.  Damaged copies (truncations, byte
 * changes, a repeated key after a bad rule) must fail with the same code,
 * message and pointer both ways. */
#define _POSIX_C_SOURCE 200809L
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "files.h"
#include "nsgsim.h"
#include "parse/load.h"
#include "parse/parse.h"

typedef struct outcome {
	bool split; /* read element by element (not fallen back to the whole tree) */
	int rc;
	nsgsim_error err;
	void *saved;
	size_t saved_len;
	size_t notes;
} outcome;

/* Reads text into a new loader (split or whole), compiles and saves. */
static outcome load(const char *name, const char *text, size_t len, bool split, int build)
{
	outcome o = {0};
	nsgsim_loader *l = nsgsim_loader_new();
	assert_non_null(l);
	assert_int_equal(nsgsim_loader_set_build(l, build), 0);
	if (split) {
		o.rc = ns_load_env_split(ns_loader_model(l), name, text, len, &o.err);
		o.split = o.rc != NS_SPLIT_FALLBACK;
		if (!o.split)
			o.rc = ns_load_env_text_split(ns_loader_model(l), name, text, len, SIZE_MAX,
			                              &o.err);
	} else
		o.rc = nsgsim_loader_add_env_buffer(l, name, text, len, &o.err);
	nsgsim_policy *p = NULL;
	if (o.rc == 0)
		o.rc = nsgsim_compile(l, &p, &o.err);
	if (o.rc == 0) {
		o.notes = nsgsim_policy_note_count(p);
		if (build != NSGSIM_BUILD_QUERY)
			assert_int_equal(nsgsim_policy_save_buffer(p, &o.saved, &o.saved_len, NULL),
			                 0);
	}
	nsgsim_policy_free(p);
	nsgsim_loader_free(l);
	return o;
}

/* Whether text was read split; fails when the two reads differ. */
static bool same_outcome(const char *what, const char *text, size_t len, int build)
{
	outcome a = load("env.json", text, len, false, build);
	outcome b = load("env.json", text, len, true, build);
	if (a.rc != b.rc)
		fail_msg("%s: whole %d (%s at %s), split %d (%s at %s)", what, a.rc, a.err.message,
		         a.err.pointer, b.rc, b.err.message, b.err.pointer);
	if (a.rc != 0) {
		if (strcmp(a.err.message, b.err.message) != 0 ||
		    strcmp(a.err.pointer, b.err.pointer) != 0 ||
		    strcmp(a.err.file, b.err.file) != 0)
			fail_msg("%s: whole '%s' at %s, split '%s' at %s", what, a.err.message,
			         a.err.pointer, b.err.message, b.err.pointer);
	} else {
		assert_int_equal(a.notes, b.notes);
		if (a.saved_len != b.saved_len ||
		    (a.saved_len && memcmp(a.saved, b.saved, a.saved_len) != 0))
			fail_msg("%s: the policies read whole and split save differently", what);
	}
	nsgsim_free(a.saved);
	nsgsim_free(b.saved);
	return b.split;
}

static const char *const patterns[] = {
        "fixtures/example/env/*.json", "fixtures/semantics/*/env/*.json",
        "fixtures/flow_logs/env/*/*.json", "fixtures/effective_myers/*/env/*.json"};

/* Every fixture file, both builds: the same policy either way. */
static void test_fixture_files_read_the_same(void **state)
{
	(void)state;
	int files = 0, arrays = 0;
	for (size_t k = 0; k < sizeof patterns / sizeof patterns[0]; k++) {
		glob_t g;
		if (glob(patterns[k], 0, NULL, &g) != 0)
			continue;
		for (size_t i = 0; i < g.gl_pathc; i++) {
			size_t len;
			char *text = test_read_file(g.gl_pathv[i], &len);
			arrays += same_outcome(g.gl_pathv[i], text, len, NSGSIM_BUILD_MINIMAL);
			same_outcome(g.gl_pathv[i], text, len, NSGSIM_BUILD_QUERY);
			files++;
			free(text);
		}
		globfree(&g);
	}
	printf("# %d fixture files read whole and split alike (%d of them arrays of resources, "
	       "read split)\n",
	       files, arrays);
	assert_true(files > 100);
	assert_true(arrays > 50);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Truncations and byte changes of array files fail (or load) alike. */
static void test_damaged_copies_fail_alike(void **state)
{
	(void)state;
	static const char *const files[] = {
	        "fixtures/example/env/nsgs-rg-prod.json", "fixtures/example/env/nsg-dev-rules.json",
	        "fixtures/example/env/asgs.json",
	        "fixtures/semantics/w1_four_vms/env/networkInterfaces.json"};
	static const char bytes[] = "{}[],:\"\\ x0\n";
	uint64_t seed = 0x2545F4914F6CDD1DULL;
	int split = 0, tried = 0;
	for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
		size_t len;
		char *text = test_read_file(files[k], &len);
		char *copy = malloc(len + 1);
		for (size_t cut = 0; cut < len; cut += 1 + len / 97) {
			char what[600];
			snprintf(what, sizeof what, "%s cut at %zu", files[k], cut);
			same_outcome(what, text, cut, NSGSIM_BUILD_MINIMAL);
		}
		for (int n = 0; n < 150; n++) {
			memcpy(copy, text, len + 1);
			size_t at = (size_t)(rnd(&seed) % len);
			copy[at] = bytes[rnd(&seed) % (sizeof bytes - 1)];
			char what[600];
			snprintf(what, sizeof what, "%s with byte %zu changed", files[k], at);
			split += same_outcome(what, copy, len, NSGSIM_BUILD_MINIMAL);
			tried++;
		}
		free(copy);
		free(text);
	}
	/* Most changes leave the array's shape, so the split read ran. */
	assert_true(split > tried / 3);
}

/* A bad rule in the first element and a repeated key in the last: the whole
 * tree's key check runs before any resource is read, so both ways report
 * the repeated key; without it, the bad rule. */
static void test_a_later_repeated_key_is_reported_first(void **state)
{
	(void)state;
	static const char *bad_priority =
	        "[{\"type\":\"Microsoft.Network/networkSecurityGroups\",\"name\":\"a\",\"id\":"
	        "\"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
	        "Microsoft.Network/networkSecurityGroups/a\",\"properties\":{\"securityRules\":[{"
	        "\"name\":\"r\",\"properties\":{\"priority\":99999,\"access\":\"Allow\","
	        "\"direction\":\"Inbound\",\"protocol\":\"Tcp\",\"sourceAddressPrefix\":\"*\","
	        "\"sourcePortRange\":\"*\",\"destinationAddressPrefix\":\"*\","
	        "\"destinationPortRange\":\"22\"}}]}},\n"
	        "{\"type\":\"Microsoft.Network/applicationSecurityGroups\",\"name\":\"g\",\"id\":"
	        "\"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
	        "Microsoft.Network/applicationSecurityGroups/g\"%s}]";
	char text[2048];
	snprintf(text, sizeof text, bad_priority, ",\"name\":\"again\"");
	same_outcome("a repeated key after a bad rule", text, strlen(text), NSGSIM_BUILD_MINIMAL);
	outcome o = load("env.json", text, strlen(text), true, NSGSIM_BUILD_MINIMAL);
	assert_false(o.split); /* the key check made it read the whole tree */
	assert_int_equal(o.rc, NSGSIM_E_SHAPE);
	assert_non_null(strstr(o.err.message, "appears twice"));
	snprintf(text, sizeof text, bad_priority, "");
	same_outcome("a bad rule alone", text, strlen(text), NSGSIM_BUILD_MINIMAL);
	o = load("env.json", text, strlen(text), true, NSGSIM_BUILD_MINIMAL);
	assert_true(o.split);
	assert_int_equal(o.rc, NSGSIM_E_PRIORITY_RANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_fixture_files_read_the_same),
	        cmocka_unit_test(test_damaged_copies_fail_alike),
	        cmocka_unit_test(test_a_later_repeated_key_is_reported_first),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
