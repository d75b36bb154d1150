/* libFuzzer target: arbitrary bytes as one environment JSON document.
 *
 * Loads a small fixed service-tags file (env_tags.h, so that fixture
 * environments naming service tags compile) and then the bytes with
 * nsgsim_loader_add_env_buffer, compiles, and when the
 * policy compiles runs every query over it (fuzz_common.h): effective rules
 * of each NIC, flows between its endpoints, rendering and explain.  Also
 * checks the loader's documented failure behaviour: a failed add leaves it as
 * it was (empty, which compiles), and a failed compile leaves its content in
 * place (compiling again fails the same way).  The input compiled with a
 * focus on two of its addresses answers a flow between them alike, and read
 * one element at a time it fails or saves exactly as read whole. */
#define _POSIX_C_SOURCE 200809L
#include "env_tags.h"
#include "fuzz_common.h"
#include "parse/load.h"
#include "parse/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input read one element at a time (ns_load_env_split, what a file of
 * 8 MB or more gets) and read whole: the same code and message, or policies
 * that save to the same bytes. */
static int read_saved(const uint8_t *data, size_t size, bool split, void **buf, size_t *len,
                      nsgsim_error *err)
{
	nsgsim_loader *l = nsgsim_loader_new();
	FUZZ_CHECK(l != NULL);
	FUZZ_CHECK(nsgsim_loader_set_build(l, NSGSIM_BUILD_MINIMAL) == 0);
	int rc = split ? ns_load_env_split(ns_loader_model(l), "fuzz.json", (const char *)data,
	                                   size, err)
	               : nsgsim_loader_add_env_buffer(l, "fuzz.json", (const char *)data, size, err);
	nsgsim_policy *p = NULL;
	if (rc == 0)
		rc = nsgsim_compile(l, &p, err);
	if (rc == 0)
		FUZZ_CHECK(nsgsim_policy_save_buffer(p, buf, len, NULL) == 0);
	nsgsim_policy_free(p);
	nsgsim_loader_free(l);
	return rc;
}

static void check_split(const uint8_t *data, size_t size)
{
	void *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	nsgsim_error ea, eb;
	int rb = read_saved(data, size, true, &b, &nb, &eb);
	if (rb != NS_SPLIT_FALLBACK) {
		int ra = read_saved(data, size, false, &a, &na, &ea);
		FUZZ_CHECK(ra == rb);
		FUZZ_CHECK(ra != 0 || (na == nb && memcmp(a, b, na) == 0));
		FUZZ_CHECK(ra == 0 || (strcmp(ea.message, eb.message) == 0 &&
		                       strcmp(ea.pointer, eb.pointer) == 0));
	}
	nsgsim_free(a);
	nsgsim_free(b);
}

/* The same input compiled with a focus on two of its addresses
 * (nsgsim_loader_set_focus): it compiles (the full compile did), with the
 * same notes, and a flow between them gets the full compile's answer. */
static void check_focus(const nsgsim_policy *full, const uint8_t *data, size_t size)
{
	nsgsim_ip focus[2] = {fuzz_some_address(full, 0), fuzz_some_address(full, 1)};
	nsgsim_loader *l = nsgsim_loader_new();
	FUZZ_CHECK(l != NULL);
	FUZZ_CHECK(nsgsim_loader_set_build(l, NSGSIM_BUILD_QUERY) == 0);
	FUZZ_CHECK(nsgsim_loader_set_focus(l, focus, 2) == 0);
	FUZZ_CHECK(nsgsim_loader_add_service_tags_buffer(l, "tags.json", fuzz_env_tags,
	                                                 sizeof fuzz_env_tags - 1, NULL) == 0);
	nsgsim_error err;
	nsgsim_policy *p = NULL;
	FUZZ_CHECK(nsgsim_loader_add_env_buffer(l, "fuzz.json", (const char *)data, size, &err) ==
	           0);
	FUZZ_CHECK(nsgsim_compile(l, &p, &err) == 0);
	nsgsim_loader_free(l);
	FUZZ_CHECK(nsgsim_policy_note_count(p) == nsgsim_policy_note_count(full));
	fuzz_same_focus_answers(full, p, focus);
	nsgsim_policy_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_split(data, size);
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
	check_focus(p, data, size);
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
