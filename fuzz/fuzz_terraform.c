/* libFuzzer target: arbitrary bytes as one `terraform show -json` document
 * (lib/parse/tf_*.c).  Seeds are the Terraform fixtures, whole and minified
 * (fuzz/make_corpus.py); the dictionary holds the format's keys and the
 * azurerm attribute names (fuzz/terraform.dict).
 *
 * Checks: a failed load names the buffer and a known error; a document that
 * loads compiles or fails cleanly; every note names where it came from; a
 * compiled policy answers every query (fuzz_common.h); loading the same bytes
 * again gives the same answer (references are resolved deterministically). */
#define _POSIX_C_SOURCE 200809L
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nsgsim_error err, err2;
	nsgsim_policy *p, *p2;
	int rc = fuzz_load_env("plan.json", (const char *)data, size, NULL, &p, &err);
	int rc2 = fuzz_load_env("plan.json", (const char *)data, size, NULL, &p2, &err2);
	FUZZ_CHECK(rc == rc2);
	if (rc != 0) {
		fuzz_check_error(rc, &err);
		FUZZ_CHECK(strcmp(err.message, err2.message) == 0);
		FUZZ_CHECK(strcmp(err.pointer, err2.pointer) == 0);
		FUZZ_CHECK(strcmp(err.resource, err2.resource) == 0);
		FUZZ_CHECK(p == NULL && p2 == NULL);
		return 0;
	}
	nsgsim_stats a, b;
	nsgsim_policy_stats(p, &a);
	nsgsim_policy_stats(p2, &b);
	FUZZ_CHECK(a.nsgs == b.nsgs && a.nsg_rules == b.nsg_rules && a.nics == b.nics &&
	           a.subnets == b.subnets && a.vnets == b.vnets);
	for (size_t i = 0; i < nsgsim_policy_note_count(p); i++) {
		nsgsim_note n;
		FUZZ_CHECK(nsgsim_policy_note(p, i, &n) == 0);
		FUZZ_CHECK(n.message && n.message[0] && n.file && n.pointer);
	}
	nsgsim_policy_free(p2);
	fuzz_exercise_policy(p);
	nsgsim_policy_free(p);
	return 0;
}
