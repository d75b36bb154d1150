/* uniqueString() and guid() (lib/parse/arm_hash.c) against outputs of
 * Azure's own implementations; the source of each pair is named next to
 * it.  Also SHA-1 against the FIPS 180 examples, and both functions through
 * the evaluator. */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsgsim.h"
#include "parse/arm_expr_int.h"

/* Evaluates text in an empty environment; returns the string or NULL. */
static char *eval_str(const char *text, int *rc, char *msg, size_t cap)
{
	uint64_t budget = 100000;
	ns_arm_env env = {.resource_group = "rg1", .budget = &budget, .max_string = 4096};
	cJSON *out = NULL;
	ns_arm_error err;
	*rc = ns_arm_eval(&env, text, &out, &err);
	snprintf(msg, cap, "%s", *rc ? err.msg : "");
	char *s = out && cJSON_IsString(out) ? strdup(out->valuestring) : NULL;
	cJSON_Delete(out);
	return s;
}

static void expect_str(const char *text, const char *want)
{
	int rc;
	char msg[256];
	char *got = eval_str(text, &rc, msg, sizeof msg);
	if (rc || !got || strcmp(got, want) != 0)
		fail_msg("%s: want %s, got %s (%s)", text, want, got ? got : "nothing", msg);
	free(got);
}

static void expect_err(const char *text, const char *part)
{
	int rc;
	char msg[256];
	char *got = eval_str(text, &rc, msg, sizeof msg);
	if (rc != NSGSIM_E_SHAPE || !strstr(msg, part))
		fail_msg("%s: want an error with '%s', got %d '%s'", text, part, rc, msg);
	free(got);
}

/* ---- uniqueString and guid against Azure's outputs ---- */

typedef struct hash_case {
	const char *args[4];
	const char *want;
	const char *source;
} hash_case;

static void test_unique_string(void **state)
{
	(void)state;
	static const hash_case cases[] = {
	        /* deployed, as quoted in Kingsland.ArmLinter's
	         * src/Kingsland.ArmLinter/Functions/ArmFunctions_UniqueString.cs */
	        {{"aaa"}, "zavj67f3en4hc", "Kingsland.ArmLinter"},
	        {{"bbb"}, "w5eragfxe33cy", "Kingsland.ArmLinter"},
	        {{"zzz"}, "cryksdzzzawae", "Kingsland.ArmLinter"},
	        {{"xxx", "yyy", "zzz"}, "lghi7k5js7itq", "Kingsland.ArmLinter"},
	        /* Azure's own reimplementation, Azure/terraform-provider-azapi
	         * internal/services/functions/unique_string_function_test.go: 63
	         * bytes, so several blocks and a 7-byte tail */
	        {{"/subscriptions/00000000-0000-0000-0000-000000000000", "resource-id"},
	         "cwvxuqg24sifi",
	         "terraform-provider-azapi"},
	        /* Azure joins the arguments with '-' before hashing */
	        {{"xxx-yyy-zzz"}, "lghi7k5js7itq", "Kingsland.ArmLinter (join)"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t n = 0;
		while (n < 4 && cases[i].args[n])
			n++;
		char out[14];
		assert_int_equal(ns_arm_unique_string(cases[i].args, n, out), 0);
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("uniqueString #%zu (%s): got %s, want %s", i, cases[i].source, out,
			         cases[i].want);
	}
	expect_str("[uniqueString('aaa')]", "zavj67f3en4hc");
	expect_str("[uniqueString('xxx', 'yyy', 'zzz')]", "lghi7k5js7itq");
	expect_str("[string(length(uniqueString(resourceGroup().id)))]", "13");
	expect_err("[uniqueString(1)]", "uniqueString: argument 1 is an integer");
	expect_err("[uniqueString()]", "at least 1 argument");
}

/* No published outputs of Azure's guid() were found: the oracle is Python's
 * uuid.uuid5 in the ARM namespace 11fb06fb-712d-4ddd-98c7-e71bbd588830 over
 * the '-'-joined UTF-8 arguments -- the construction Azure's Terraform
 * verified modules use to give role assignments the names Bicep's guid()
 * gives (e.g. uuidv5("11fb06fb-...", join("-", [...])) in
 * Azure/terraform-azurerm-avm-* role assignment code). */
static void test_guid(void **state)
{
	(void)state;
	static const struct {
		const char *args[3];
		const char *want;
	} cases[] = {
	        {{"a"}, "3703365d-5a9f-59b4-bca7-b9681389e4c1"},
	        {{"hello", "world"}, "a5b868f8-11fe-567a-ace0-e77cc87f104e"},
	        {{"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1",
	          "Contributor"},
	         "a0e610cb-cb5d-541c-82d2-14bc551ba533"},
	        {{"\xc3\xa9"}, "00e3d13f-31a7-5e5b-ac3b-5598870502dd"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t n = 0;
		while (n < 3 && cases[i].args[n])
			n++;
		char out[37];
		ns_arm_guid(cases[i].args, n, out);
		assert_string_equal(out, cases[i].want);
	}
	char hundred[101];
	memset(hundred, 'x', 100);
	hundred[100] = '\0';
	const char *h[] = {hundred};
	char out[37];
	ns_arm_guid(h, 1, out);
	assert_string_equal(out, "c9f4a406-c04e-5138-8137-5a71684983e7");

	/* SHA-1 itself: the FIPS 180 examples */
	static const struct {
		const char *in, *hex;
	} sha[] = {
	        {"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
	        {"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
	        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	         "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
	};
	for (size_t i = 0; i < sizeof sha / sizeof sha[0]; i++) {
		unsigned char d[20];
		char hex[41];
		ns_arm_sha1((const unsigned char *)sha[i].in, strlen(sha[i].in), d);
		for (int k = 0; k < 20; k++)
			snprintf(hex + 2 * k, 3, "%02x", d[k]);
		assert_string_equal(hex, sha[i].hex);
	}
	expect_str("[guid('hello', 'world')]", "a5b868f8-11fe-567a-ace0-e77cc87f104e");
	expect_str("[string(length(guid('a')))]", "36");
	expect_str("[string(equals(guid('a', 'b'), guid('a-b')))]", "True");
	expect_str("[string(equals(guid('a', 'b'), guid('b', 'a')))]", "False");
	expect_err("[guid(createArray())]", "guid: argument 1 is an array");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_unique_string),
	        cmocka_unit_test(test_guid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
