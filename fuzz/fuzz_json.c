/* libFuzzer target: arbitrary bytes as JSON, read by both of nsgsim's JSON
 * paths: lib/parse/json_flat.c (service tags) and ns_parse_json_text (environment
 * files: its prescan, cJSON, its duplicate-key walk).
 *
 * json_flat.c is the stricter: it must never accept what the cJSON path
 * refuses, and where both accept they must read the same tree.  Two
 * exceptions, both valid JSON that cJSON 1.7.15 refuses: a UTF-8 byte-order
 * mark in a document of under five bytes ("\xEF\xBB\xBF" "2",
 * tests/regressions/json/bom-short-document), and, in cJSON as released
 * (not Debian's), a number of more than 63 characters.  Every error is well-formed,
 * and a failed parse leaves nothing allocated. */
#define _POSIX_C_SOURCE 200809L
#include "fuzz_common.h"
#include "parse/load.h"

#include "../tests/json_oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ns_model m;
	ns_model_init(&m);
	const char *text = (const char *)data;
	ns_jdoc d;
	nsgsim_error e1, e2;
	cJSON *c = NULL;
	int mine = ns_jdoc_parse(&d, "doc.json", text, size, m.limits[NSGSIM_LIMIT_JSON_DEPTH], &e1);
	int theirs = ns_parse_json_text(&m, "doc.json", text, size, &c, &e2);
	if (mine != 0) {
		fuzz_check_error(mine, &e1);
		FUZZ_CHECK(d.nodes == NULL && d.n == 0);
	}
	if (theirs != 0)
		fuzz_check_error(theirs, &e2);
	if (mine == 0) {
		bool short_bom = size <= 4 && size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0;
		FUZZ_CHECK(theirs == 0 || short_bom || json_has_long_number(&d));
		FUZZ_CHECK(theirs != 0 || json_same_tree(&d, 0, c));
		ns_jdoc_free(&d);
	}
	cJSON_Delete(c);
	ns_model_free(&m);
	return 0;
}
