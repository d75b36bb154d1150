/* libFuzzer target: arbitrary bytes as a service-tags file.
 *
 * Loads the bytes with nsgsim_loader_add_service_tags_buffer and compiles
 * with an empty environment.  When the tags load, the first few tag names
 * are also used in a small fixed environment (one NIC, one NSG whose rules
 * name the tag, tags_env.h) so that the tag's prefix set goes through
 * compile, evaluation and the expansion of effective rules. */
#define _POSIX_C_SOURCE 200809L
#include "fuzz_common.h"
#include "tags_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nsgsim_loader *l = nsgsim_loader_new();
	FUZZ_CHECK(l != NULL);
	nsgsim_error err;
	int rc = nsgsim_loader_add_service_tags_buffer(l, "tags.json", (const char *)data, size,
	                                               &err);
	if (rc != 0) {
		fuzz_check_error(rc, &err);
		FUZZ_CHECK(strcmp(err.file, "tags.json") == 0);
	}
	nsgsim_policy *p = NULL;
	int crc = nsgsim_compile(l, &p, &err);
	nsgsim_loader_free(l);
	if (crc != 0) {
		fuzz_check_error(crc, &err);
		FUZZ_CHECK(p == NULL);
		return 0;
	}
	nsgsim_stats st;
	nsgsim_policy_stats(p, &st);
	if (rc != 0)
		FUZZ_CHECK(st.service_tags == 0); /* a failed file leaves nothing behind */
	/* A name given twice (tag names compare case-insensitively) is
	 * NSGSIM_E_DUPLICATE, never a silent choice of one of them. */
	for (size_t i = 0; i < p->m.tags.n && p->m.tags.n <= 256; i++)
		for (size_t j = i + 1; j < p->m.tags.n; j++)
			FUZZ_CHECK(!ns_ieq(NS_VEC_AT(&p->m.tags, ns_tag, i)->name,
			                   NS_VEC_AT(&p->m.tags, ns_tag, j)->name));
	/* Copy a few names out: the policy owns them. */
	char *names[3] = {NULL, NULL, NULL};
	for (size_t i = 0; rc == 0 && i < p->m.tags.n && i < 3; i++)
		names[i] = strdup(NS_VEC_AT(&p->m.tags, ns_tag, i)->name);
	nsgsim_policy_free(p);
	for (int i = 0; i < 3; i++) {
		if (names[i])
			with_tag(data, size, names[i]);
		free(names[i]);
	}
	return 0;
}
