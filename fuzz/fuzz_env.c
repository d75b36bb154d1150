/* libFuzzer target: arbitrary bytes as one environment JSON document.
 *
 * Loads a small fixed service-tags file (env_tags.h, so that fixture
 * environments naming service tags compile) and then the bytes with
 * nsgsim_loader_add_env_buffer, compiles, and when the
 * policy compiles runs every query over it (fuzz_common.h): effective rules
 * of each NIC, flows between its endpoints, rendering and explain.  Also
 * checks the loader's documented failure behaviour: a failed add leaves it as
 * it was (empty, which compiles), and a failed compile leaves its content in
 * place (compiling again fails the same way). */
#define _POSIX_C_SOURCE 200809L
#include "env_tags.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nsgsim_loader *l = nsgsim_loader_new();
	FUZZ_CHECK(l != NULL);
	nsgsim_error err;
	nsgsim_policy *p = NULL;
	FUZZ_CHECK(nsgsim_loader_add_service_tags_buffer(l, "tags.json", fuzz_env_tags,
	                                                 sizeof fuzz_env_tags - 1, NULL) == 0);
	int rc = nsgsim_loader_add_env_buffer(l, "fuzz.json", (const char *)data, size, &err);
	if (rc != 0) {
		fuzz_check_error(rc, &err);
		FUZZ_CHECK(strcmp(err.file, "fuzz.json") == 0);
		rc = nsgsim_compile(l, &p, &err);
		FUZZ_CHECK(rc == 0);
		nsgsim_stats st;
		nsgsim_policy_stats(p, &st);
		FUZZ_CHECK(st.nics == 0 && st.nsgs == 0 && st.vnets == 0 && st.subnets == 0);
		FUZZ_CHECK(st.service_tags == 16);
		nsgsim_policy_free(p);
		nsgsim_loader_free(l);
		return 0;
	}
	rc = nsgsim_compile(l, &p, &err);
	if (rc != 0) {
		fuzz_check_error(rc, &err);
		FUZZ_CHECK(p == NULL);
		nsgsim_error err2;
		nsgsim_policy *p2 = NULL;
		int rc2 = nsgsim_compile(l, &p2, &err2);
		FUZZ_CHECK(rc2 == rc);
		FUZZ_CHECK(p2 == NULL);
		FUZZ_CHECK(strcmp(err.message, err2.message) == 0);
		FUZZ_CHECK(strcmp(err.pointer, err2.pointer) == 0);
		nsgsim_loader_free(l);
		return 0;
	}
	FUZZ_CHECK(p != NULL);
	/* The content moved into the policy: the loader is empty now. */
	nsgsim_policy *empty = NULL;
	FUZZ_CHECK(nsgsim_compile(l, &empty, NULL) == 0);
	nsgsim_stats st;
	nsgsim_policy_stats(empty, &st);
	FUZZ_CHECK(st.nics == 0 && st.nsgs == 0 && st.nsg_rules == 0);
	nsgsim_policy_free(empty);
	nsgsim_loader_free(l);

	fuzz_exercise_policy(p);
	/* Every finding names a known check, a level and a resource. */
	nsgsim_findings *fs = NULL;
	rc = nsgsim_lint(p, &fs, &err);
	if (rc != 0)
		fuzz_check_error(rc, &err);
	for (size_t i = 0; rc == 0 && i < nsgsim_findings_count(fs); i++) {
		nsgsim_finding f;
		FUZZ_CHECK(nsgsim_findings_get(fs, i, &f) == 0);
		FUZZ_CHECK(f.id && f.resource && f.message && f.evidence && f.file && f.pointer);
		FUZZ_CHECK(nsgsim_level_name(f.level) != NULL);
	}
	nsgsim_findings_free(fs);
	nsgsim_policy_free(p);
	return 0;
}
