/* libFuzzer target: arbitrary bytes as a compiled policy file (.nsgp; the
 * reader of lib/compile/nsgp_file.c and nsgp_model.c).
 *
 * Inputs that do not start with the file's magic are skipped.  Each input is
 * loaded twice: as it is, which exercises the header's checks (version,
 * length, CRC-32), and with its header resealed (the payload's true length
 * and checksum), so that mutations reach the model's reader -- as a crafted
 * file would.  For each load:
 *
 * - a failure of the reader is NSGSIM_E_POLICY_FILE(_VERSION) (or _LIMIT,
 *   _NOMEM, a tags-snapshot error inside) naming the buffer, a pointer and
 *   the byte offset; a model the reader accepts may still fail to compile,
 *   with an error of the table, as any input may;
 * - a policy that compiles saves, and that file loads and saves to the same
 *   bytes again (what was read is kept whole); the policy then goes through
 *   notes, effective rules and flows between its own endpoints
 *   (fuzz_common.h). */
#define _POSIX_C_SOURCE 200809L
#include "fuzz_common.h"
#include "compile/nsgp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "fuzz.nsgp"

static void check_reader_failure(int rc, const nsgsim_error *err)
{
	fuzz_check_error(rc, err);
	FUZZ_CHECK(rc == NSGSIM_E_POLICY_FILE || rc == NSGSIM_E_POLICY_FILE_VERSION ||
	           rc == NSGSIM_E_NOMEM || rc == NSGSIM_E_LIMIT);
	FUZZ_CHECK(strcmp(err->file, NAME) == 0);
	if (rc != NSGSIM_E_NOMEM) {
		FUZZ_CHECK(err->pointer[0] == '/');
		FUZZ_CHECK(strncmp(err->message, "at byte offset ", 15) == 0);
	}
}

static void run(const uint8_t *data, size_t size)
{
	nsgsim_loader *l = nsgsim_loader_new();
	FUZZ_CHECK(l != NULL);
	nsgsim_error err;
	int rc = nsgsim_loader_add_policy_buffer(l, NAME, data, size, &err);
	if (rc != 0) {
		check_reader_failure(rc, &err);
		nsgsim_loader_free(l);
		return;
	}
	nsgsim_policy *p = NULL;
	rc = nsgsim_compile(l, &p, &err);
	nsgsim_loader_free(l);
	if (rc != 0) {
		fuzz_check_error(rc, &err);
		return;
	}
	void *a = NULL, *b = NULL;
	size_t la = 0, lb = 0;
	rc = nsgsim_policy_save_buffer(p, &a, &la, &err);
	if (rc == 0) {
		nsgsim_policy *q = NULL;
		rc = nsgsim_policy_load_buffer(NAME, a, la, &q, &err);
		if (rc != 0)
			fuzz_check_error(rc, &err);
		FUZZ_CHECK(rc == 0 || rc == NSGSIM_E_NOMEM);
		if (q) {
			FUZZ_CHECK(nsgsim_policy_save_buffer(q, &b, &lb, &err) == 0);
			FUZZ_CHECK(la == lb && memcmp(a, b, la) == 0);
			nsgsim_policy_free(q);
		}
	} else {
		fuzz_check_error(rc, &err);
	}
	nsgsim_free(a);
	nsgsim_free(b);
	fuzz_exercise_policy(p);
	nsgsim_policy_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!nsgsim_policy_file_detect(data, size))
		return 0;
	run(data, size);
	if (size >= NS_NSGP_HEADER_SIZE) {
		uint8_t *copy = malloc(size);
		FUZZ_CHECK(copy != NULL);
		memcpy(copy, data, size);
		uint64_t payload = size - NS_NSGP_HEADER_SIZE;
		uint32_t crc = ns_nsgp_crc32c(0, copy + NS_NSGP_HEADER_SIZE, payload);
		copy[8] = NS_NSGP_VERSION;
		copy[9] = copy[10] = copy[11] = 0;
		for (int i = 0; i < 4; i++)
			copy[12 + i] = (uint8_t)(crc >> (8 * i));
		for (int i = 0; i < 8; i++)
			copy[16 + i] = (uint8_t)(payload >> (8 * i));
		if (memcmp(copy, data, NS_NSGP_HEADER_SIZE) != 0)
			run(copy, size);
		free(copy);
	}
	return 0;
}
