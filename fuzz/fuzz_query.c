/* libFuzzer target: arbitrary bytes as a set query over a fixed policy.
 *
 * The policy is the bundled example, built once (example_policy.h).  Input
 * bytes:
 *
 *   0      protocols (nsgsim_proto_bits, & 31; 0 means all five)
 *   1      flags: bit 0 allowed_only; bit 1 no source (every address);
 *          bit 2 rules (for the diff)
 *   ...    the target text, up to the first NUL or newline; then the
 *          source text (the rest)
 *
 * The texts go to the query parser (an IP, a CIDR, a NIC or subnet by name
 * or id, a service tag).  A refused query is a well-formed error of the
 * table with a message (e.g. NSGSIM_E_NOT_FOUND, _BAD_PREFIX, _HOST_BITS,
 * _NOT_MODELLED, _LIMIT; never _INTERNAL or _NOMEM); an
 * accepted one keeps the contract (reach_check.h), and the diff of the
 * policy against itself over the same query is accepted or refused alike
 * and has no change. */
#define _POSIX_C_SOURCE 200809L
#include "example_policy.h"
#include "reach_check.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static nsgsim_policy *policy;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	policy = fuzz_example_policy(argv, "fuzz_query");
	return 0;
}

static int refused_well(int rc, const nsgsim_error *err)
{
	fuzz_check_error(rc, err);
	FUZZ_CHECK(rc != NSGSIM_E_NOMEM && err->message[0] != '\0');
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size > 512)
		return 0;
	char text[512];
	memcpy(text, data + 2, size - 2);
	text[size - 2] = '\0';
	size_t cut = strcspn(text, "\n");
	char *from = NULL;
	if (cut < size - 2) {
		text[cut] = '\0';
		from = text + cut + 1;
	}
	nsgsim_query q = {text, (data[1] & 2) ? NULL : from, data[0] & 31u, data[1] & 1,
	                  (data[1] & 4) != 0};
	nsgsim_regions *r = NULL;
	nsgsim_error err;
	int rc = nsgsim_reach(policy, &q, &r, &err);
	if (rc != 0) {
		refused_well(rc, &err);
		FUZZ_CHECK(r == NULL);
	} else {
		fuzz_check_regions(NULL, policy, r, &q);
		nsgsim_regions_free(r);
	}
	nsgsim_regions *d = NULL;
	int drc = nsgsim_diff(policy, policy, &q, &d, &err);
	if (drc != 0) {
		refused_well(drc, &err);
		FUZZ_CHECK(d == NULL);
		return 0;
	}
	FUZZ_CHECK(nsgsim_regions_count(d) == 0);
	size_t opened = 1, closed = 1;
	nsgsim_regions_summary(d, &opened, &closed);
	FUZZ_CHECK(opened == 0 && closed == 0);
	fuzz_check_render(d);
	nsgsim_regions_free(d);
	return 0;
}
