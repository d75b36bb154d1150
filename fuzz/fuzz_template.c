/* libFuzzer target: arbitrary bytes as one ARM template (the walker of
 * lib/parse/arm_template.c, arm_resources.c, arm_params.c over the expression
 * evaluator), loaded with a fixed set of parameter values so that templates
 * that need them evaluate (prefix, count, ports, a subnet prefix, an object).
 * Seeds: fixtures/arm/ and the smallest quickstart templates of
 * fixtures/arm_quickstart (fuzz/make_corpus.py); dictionary fuzz/template.dict.
 *
 * Checks: a failure is a well-formed error naming the buffer; loading the
 * same bytes again gives the same answer; a template that compiles shows as
 * REST JSON that loads back and shows the same bytes (nsgsim_policy_show's
 * contract), and answers every query (fuzz_common.h). */
#define _POSIX_C_SOURCE 200809L
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char params[] = "{\"parameters\": {\"prefix\": {\"value\": \"app\"}, "
                             "\"count\": {\"value\": 2}, \"ports\": {\"value\": [22, 443]}, "
                             "\"subnetPrefix\": {\"value\": \"10.0.1.0/24\"}, "
                             "\"settings\": {\"value\": {\"name\": \"n\", \"count\": 1}}}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nsgsim_error err, err2;
	nsgsim_policy *p, *p2;
	int rc = fuzz_load_env("template.json", (const char *)data, size, params, &p, &err);
	int rc2 = fuzz_load_env("template.json", (const char *)data, size, params, &p2, &err2);
	FUZZ_CHECK(rc == rc2);
	if (rc != 0) {
		fuzz_check_error(rc, &err);
		FUZZ_CHECK(strcmp(err.file, "template.json") == 0 || err.file[0] == '\0' ||
		           strcmp(err.file, "params.json") == 0);
		FUZZ_CHECK(strcmp(err.message, err2.message) == 0);
		FUZZ_CHECK(strcmp(err.pointer, err2.pointer) == 0);
		return 0;
	}
	nsgsim_policy_free(p2);
	char *shown = NULL;
	rc = nsgsim_policy_show(p, NSGSIM_SHOW_JSON, &shown, &err);
	if (rc == 0) {
		/* what was shown loads back and shows the same */
		nsgsim_policy *back;
		int brc = fuzz_load_env("shown.json", shown, strlen(shown), NULL, &back, &err2);
		if (brc == 0) {
			char *again = NULL;
			FUZZ_CHECK(nsgsim_policy_show(back, NSGSIM_SHOW_JSON, &again, &err2) == 0);
			FUZZ_CHECK(strcmp(shown, again) == 0);
			nsgsim_free(again);
			nsgsim_policy_free(back);
		} else {
			fuzz_check_error(brc, &err2);
		}
		nsgsim_free(shown);
	} else {
		fuzz_check_error(rc, &err);
	}
	fuzz_exercise_policy(p);
	nsgsim_policy_free(p);
	return 0;
}
