/* Tests for loading service tags (lib/parse/load_tags.c) and resolving them in NSG
 * rules (lib/compile/tags.c), over the public API only.
 *
 * - Microsoft's real downloads under $NSGSIM_SHARED_DATA/service_tags/ (the
 *   tests that need them skip, and say so, when that folder is absent);
 * - the repo's own fixtures/service_tags/ files (always present);
 * - small buffers built here for the error paths: the exact code and JSON
 *   pointer are part of the contract. */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nsgsim.h"

/* ---- helpers ---- */

/* Fails the test with the whole error when rc is not 0. */
static void expect_ok(int rc, const nsgsim_error *err, const char *what)
{
	if (rc != 0) {
		char buf[2600];
		nsgsim_error_format(err, buf, sizeof buf);
		fail_msg("%s: expected success, got %s (%d): %s", what,
		         nsgsim_error_name(rc) ? nsgsim_error_name(rc) : "?", rc, buf);
	}
}

/* Fails the test unless rc is the expected code. */
static void expect_code(int rc, int want, const nsgsim_error *err, const char *what)
{
	if (rc != want) {
		char buf[2600];
		nsgsim_error_format(err, buf, sizeof buf);
		fail_msg("%s: expected %s, got %s (%d): %s", what, nsgsim_error_name(want),
		         nsgsim_error_name(rc) ? nsgsim_error_name(rc) : "?", rc, buf);
	}
	assert_int_equal(err->code, want);
	assert_true(err->message[0] != '\0');
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Loads a tags buffer and compiles it with an empty environment. */
static int load_tags_buffer(const char *json, nsgsim_error *err)
{
	nsgsim_loader *l = nsgsim_loader_new();
	assert_non_null(l);
	int rc = nsgsim_loader_add_service_tags_buffer(l, "tags.json", json, strlen(json), err);
	nsgsim_loader_free(l);
	return rc;
}

/* Loads a tags file and compiles it with an empty environment; returns the
 * number of tags the policy holds. */
static size_t compile_tags_file(const char *path)
{
	nsgsim_error err = {0};
	nsgsim_loader *l = nsgsim_loader_new();
	assert_non_null(l);
	expect_ok(nsgsim_loader_add_service_tags(l, path, &err), &err, path);
	nsgsim_policy *p = NULL;
	expect_ok(nsgsim_compile(l, &p, &err), &err, path);
	nsgsim_loader_free(l);
	assert_non_null(p);
	nsgsim_stats st;
	nsgsim_policy_stats(p, &st);
	nsgsim_policy_free(p);
	return st.service_tags;
}

/* ---- (a) Microsoft's downloads, from $NSGSIM_SHARED_DATA ---- */

/* The tag counts of data/README.md (the number of entries in "values"). */
static const struct {
	const char *file;
	size_t tags;
} shared_files[] = {
        {"ServiceTags_Public_20250414.json", 2819},
        {"ServiceTags_Public_20251013.json", 3039},
        {"ServiceTags_Public_20251028.json", 3039},
        {"ServiceTags_Public_20251109.json", 3041},
        {"ServiceTags_AzureGovernment_20260629.json", 299},
        {"ServiceTags_AzureGovernment_20260720.json", 299},
        {"ServiceTags_China_20260713.json", 327},
        {"ServiceTags_China_20260720.json", 327},
};

static void test_shared_downloads(void **state)
{
	(void)state;
	const char *data = getenv("NSGSIM_SHARED_DATA");
	char dir[4096];
	struct stat st;
	snprintf(dir, sizeof dir, "%s/service_tags", data ? data : "");
	if (!data || !*data) {
		printf("[  SKIPPED ] test_shared_downloads: NSGSIM_SHARED_DATA is not set; "
		       "the real service-tags downloads were not tested\n");
		skip();
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		printf("[  SKIPPED ] test_shared_downloads: %s not found (NSGSIM_SHARED_DATA=%s); "
		       "the real service-tags downloads were not tested\n",
		       dir, data);
		skip();
	}
	for (size_t i = 0; i < sizeof shared_files / sizeof shared_files[0]; i++) {
		char path[4200];
		snprintf(path, sizeof path, "%s/%s", dir, shared_files[i].file);
		size_t n = compile_tags_file(path);
		printf("  %-45s %zu tags\n", shared_files[i].file, n);
		if (n != shared_files[i].tags)
			fail_msg("%s: %zu tags, expected %zu", path, n, shared_files[i].tags);
	}
}

/* ---- (b) the repo's fixtures ---- */

static void test_fixture_trimmed(void **state)
{
	(void)state;
	assert_int_equal(compile_tags_file("fixtures/service_tags/"
	                                   "ServiceTags_Public_20251109_trimmed.json"),
	                 16);
}

/* The REST shape: changeNumber is a string ("63"), no networkFeatures. */
static void test_fixture_rest_list(void **state)
{
	(void)state;
	assert_int_equal(compile_tags_file("fixtures/service_tags/rest_servicetags_list.json"), 5);
}

/* ---- (c) errors, with their exact code and pointer ---- */

static void test_bad_prefix(void **state)
{
	(void)state;
	static const char json[] =
	        "{\"changeNumber\": 1, \"cloud\": \"Public\", \"values\": [\n"
	        "  {\"name\": \"T\", \"id\": \"T\", \"properties\": {\"changeNumber\": 1,\n"
	        "   \"addressPrefixes\": [\"10.0.0.0/8\", \"10.0.0.300/32\"]}}]}\n";
	nsgsim_error err = {0};
	expect_code(load_tags_buffer(json, &err), NSGSIM_E_BAD_PREFIX, &err, "bad prefix");
	assert_string_equal(err.pointer, "/values/0/properties/addressPrefixes/1");
	assert_string_equal(err.file, "tags.json");
}

static void test_host_bits(void **state)
{
	(void)state;
	static const char json[] =
	        "{\"changeNumber\": 1, \"cloud\": \"Public\", \"values\": [\n"
	        "  {\"name\": \"T\", \"properties\": {\"addressPrefixes\": [\"10.0.0.1/16\"]}}]}";
	nsgsim_error err = {0};
	expect_code(load_tags_buffer(json, &err), NSGSIM_E_HOST_BITS, &err, "host bits");
	assert_string_equal(err.pointer, "/values/0/properties/addressPrefixes/0");
	assert_non_null(strstr(err.message, "10.0.0.0/16"));
}

static void test_bad_change_number(void **state)
{
	(void)state;
	static const char json[] = "{\"changeNumber\": \"abc\", \"cloud\": \"Public\", \"values\": "
	                           "[{\"name\": \"T\", \"properties\": {\"addressPrefixes\": "
	                           "[\"10.0.0.0/16\"]}}]}";
	nsgsim_error err = {0};
	expect_code(load_tags_buffer(json, &err), NSGSIM_E_SHAPE, &err, "changeNumber abc");
	assert_string_equal(err.pointer, "/changeNumber");
}

/* Keys match without case; the pointer writes "properties" as ns_prop does
 * for environment files, whatever the file's spelling, and the key as the
 * file spells it. */
static void test_pointer_spelling(void **state)
{
	(void)state;
	static const char json[] = "{\"values\": [{\"NAME\": \"T\", \"Properties\": "
	                           "{\"AddressPrefixes\": 5}}]}";
	nsgsim_error err = {0};
	expect_code(load_tags_buffer(json, &err), NSGSIM_E_SHAPE, &err, "prefixes not an array");
	assert_string_equal(err.pointer, "/values/0/properties/AddressPrefixes");
	assert_string_equal(err.resource, "T");
}

/* An empty name could never be used in a rule: refused, as a snapshot
 * refuses it. */
static void test_empty_tag_name(void **state)
{
	(void)state;
	static const char json[] = "{\"values\": [{\"name\": \"\", \"properties\": "
	                           "{\"addressPrefixes\": [\"10.0.0.0/16\"]}}]}";
	nsgsim_error err = {0};
	expect_code(load_tags_buffer(json, &err), NSGSIM_E_SHAPE, &err, "empty name");
	assert_string_equal(err.pointer, "/values/0/name");
	assert_non_null(strstr(err.message, "empty"));
}

/* At most one tags source per loader; the first one stays usable. */
static void test_second_tags_source(void **state)
{
	(void)state;
	static const char json[] = "{\"changeNumber\": 1, \"cloud\": \"Public\", \"values\": "
	                           "[{\"name\": \"T\", \"properties\": {\"addressPrefixes\": "
	                           "[\"10.0.0.0/16\"]}}]}";
	nsgsim_error err = {0};
	nsgsim_loader *l = nsgsim_loader_new();
	assert_non_null(l);
	expect_ok(nsgsim_loader_add_service_tags_buffer(l, "first.json", json, strlen(json), &err),
	          &err, "first tags source");
	expect_code(
	        nsgsim_loader_add_service_tags_buffer(l, "second.json", json, strlen(json), &err),
	        NSGSIM_E_INVALID_ARG, &err, "second tags source");
	nsgsim_policy *p = NULL;
	expect_ok(nsgsim_compile(l, &p, &err), &err, "compile after the refused second source");
	nsgsim_stats st;
	nsgsim_policy_stats(p, &st);
	assert_int_equal(st.service_tags, 1);
	nsgsim_policy_free(p);
	nsgsim_loader_free(l);
}

/* A failed tags file leaves the loader as it was: the addresses it counted
 * against NSGSIM_LIMIT_TOTAL_PREFIXES are given back, and a second file may
 * follow. */
static void test_failed_tags_source_rolls_back(void **state)
{
	(void)state;
	static const char bad[] = "{\"values\": [{\"name\": \"A\", \"properties\": "
	                          "{\"addressPrefixes\": [\"10.0.0.0/16\", \"10.1.0.0/16\", "
	                          "\"10.2.0.300/32\"]}}]}";
	static const char good[] = "{\"values\": [{\"name\": \"B\", \"properties\": "
	                           "{\"addressPrefixes\": [\"10.0.0.0/16\", \"10.1.0.0/16\"]}}]}";
	nsgsim_error err = {0};
	nsgsim_loader *l = nsgsim_loader_new();
	assert_non_null(l);
	assert_int_equal(nsgsim_loader_set_limit(l, NSGSIM_LIMIT_TOTAL_PREFIXES, 3), 0);
	expect_code(nsgsim_loader_add_service_tags_buffer(l, "bad.json", bad, strlen(bad), &err),
	            NSGSIM_E_BAD_PREFIX, &err, "bad tags file");
	expect_ok(nsgsim_loader_add_service_tags_buffer(l, "good.json", good, strlen(good), &err),
	          &err, "good tags file after a failed one (2 of 3 addresses)");
	nsgsim_policy *p = NULL;
	expect_ok(nsgsim_compile(l, &p, &err), &err, "compile");
	nsgsim_stats st;
	nsgsim_policy_stats(p, &st);
	assert_int_equal(st.service_tags, 1);
	nsgsim_policy_free(p);
	nsgsim_loader_free(l);
}

/* ---- (d) a tag named in an NSG rule is looked up case-insensitively ---- */

static const char tiny_tags[] =
        "{\"changeNumber\": 1, \"cloud\": \"Public\", \"values\": [\n"
        "  {\"name\": \"Storage.WestEurope\", \"id\": \"Storage.WestEurope\",\n"
        "   \"properties\": {\"region\": \"westeurope\", \"addressPrefixes\": "
        "[\"20.38.108.0/23\"], \"networkFeatures\": [\"NSG\"]}}]}\n";

/* Compiles the tiny tags with one NSG whose single rule has dst. */
static int compile_nsg_with_destination(const char *dst, nsgsim_error *err)
{
	char env[2048];
	snprintf(env, sizeof env,
	         "{\"id\": \"/subscriptions/s/resourceGroups/rg/providers/"
	         "Microsoft.Network/networkSecurityGroups/n\",\n"
	         " \"name\": \"n\", \"type\": \"Microsoft.Network/networkSecurityGroups\",\n"
	         " \"properties\": {\"securityRules\": [{\"name\": \"r\", \"properties\": {\n"
	         "   \"protocol\": \"Tcp\", \"sourcePortRange\": \"*\", "
	         "\"destinationPortRange\": \"443\",\n"
	         "   \"sourceAddressPrefix\": \"*\", \"destinationAddressPrefix\": \"%s\",\n"
	         "   \"access\": \"Allow\", \"priority\": 100, \"direction\": \"Outbound\"}}]}}\n",
	         dst);
	nsgsim_loader *l = nsgsim_loader_new();
	assert_non_null(l);
	expect_ok(nsgsim_loader_add_env_buffer(l, "nsg.json", env, strlen(env), err), err,
	          "env buffer");
	expect_ok(nsgsim_loader_add_service_tags_buffer(l, "tags.json", tiny_tags,
	                                                strlen(tiny_tags), err),
	          err, "tags buffer");
	nsgsim_policy *p = NULL;
	int rc = nsgsim_compile(l, &p, err);
	nsgsim_loader_free(l);
	if (rc == 0) {
		nsgsim_stats st;
		nsgsim_policy_stats(p, &st);
		assert_int_equal(st.nsgs, 1);
		/* nsg_rules counts the six default rules the NSG gets too. */
		assert_int_equal(st.nsg_rules, 1 + 6);
		assert_int_equal(st.service_tags, 1);
	}
	nsgsim_policy_free(p);
	return rc;
}

static void test_tag_case_insensitive(void **state)
{
	(void)state;
	nsgsim_error err = {0};
	expect_ok(compile_nsg_with_destination("Storage.WestEurope", &err), &err, "exact case");
	expect_ok(compile_nsg_with_destination("storage.westeurope", &err), &err, "lower case");
	expect_ok(compile_nsg_with_destination("STORAGE.WESTEUROPE", &err), &err, "upper case");
}

static void test_unknown_tag(void **state)
{
	(void)state;
	nsgsim_error err = {0};
	expect_code(compile_nsg_with_destination("Storage.NoSuchRegion", &err),
	            NSGSIM_E_UNKNOWN_TAG, &err, "unknown tag");
	if (!ends_with(err.pointer, "/destinationAddressPrefix"))
		fail_msg("pointer '%s' does not end with /destinationAddressPrefix", err.pointer);
	assert_string_equal(err.file, "nsg.json");
	assert_non_null(strstr(err.message, "Storage.NoSuchRegion"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_shared_downloads),
	        cmocka_unit_test(test_fixture_trimmed),
	        cmocka_unit_test(test_fixture_rest_list),
	        cmocka_unit_test(test_bad_prefix),
	        cmocka_unit_test(test_host_bits),
	        cmocka_unit_test(test_bad_change_number),
	        cmocka_unit_test(test_pointer_spelling),
	        cmocka_unit_test(test_empty_tag_name),
	        cmocka_unit_test(test_second_tags_source),
	        cmocka_unit_test(test_failed_tags_source_rolls_back),
	        cmocka_unit_test(test_tag_case_insensitive),
	        cmocka_unit_test(test_unknown_tag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
