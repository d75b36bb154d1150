/* libFuzzer target: arbitrary bytes as a compiled policy file (.nsgp; the
 * reader of lib/compile/nsgp_file.c and nsgp_model.c).
 *
 * Inputs that do not start with the file's magic are skipped.  Each input is
 * loaded twice: as it is, which exercises the header's and the directory's
 * checks (version, length, the CRC-32Cs), and resealed (ns_nsgp_reseal: the
 * payload's true length, each section's and the directory's checksum), so
 * that mutations reach the model's reader -- as a crafted file would.  Each
 * is also loaded focused from a file (a query build, its rule blocks read
 * only as the focus needs them).  For each load:
 *
 * - a failure of the reader is NSGSIM_E_POLICY_FILE(_VERSION) (or _LIMIT,
 *   _NOMEM, a tags-snapshot error inside) naming the buffer, a pointer and
 *   the byte offset; a model the reader accepts may still fail to compile,
 *   with an error of the table, as any input may;
 * - a policy that compiles saves, and that file loads and saves to the same
 *   bytes again (what was read is kept whole); the policy then goes through
 *   notes, effective rules and flows between its own endpoints
 *   (fuzz_common.h). */
#define _GNU_SOURCE /* memfd_create */
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "compile/nsgp.h"

/* The same bytes loaded focused from a file (a memfd: the query build maps
 * it and reads the rule blocks its focus needs): it loads (the whole file
 * did), and compiles -- or fails on a limit, whose count may come from a
 * block it did not read -- and a flow between the focus addresses gets the
 * full load's answer. */
static void check_focused_file(const nsgsim_policy *full, const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz.nsgp", MFD_CLOEXEC);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size);
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	nsgsim_ip focus[2] = {fuzz_some_address(full, 0), fuzz_some_address(full, 1)};
	nsgsim_loader *l = nsgsim_loader_new();
	FUZZ_CHECK(l != NULL);
	FUZZ_CHECK(nsgsim_loader_set_build(l, NSGSIM_BUILD_QUERY) == 0);
	FUZZ_CHECK(nsgsim_loader_set_focus(l, focus, 2) == 0);
	nsgsim_error err;
	FUZZ_CHECK(nsgsim_loader_add_policy_file(l, path, &err) == 0);
	close(fd);
	nsgsim_policy *p = NULL;
	int rc = nsgsim_compile(l, &p, &err);
	nsgsim_loader_free(l);
	FUZZ_CHECK(rc == 0 || rc == NSGSIM_E_LIMIT);
	if (p)
		fuzz_same_focus_answers(full, p, focus);
	nsgsim_policy_free(p);
}

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
	check_focused_file(p, data, size);
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
		ns_nsgp_reseal(copy, size);
		if (memcmp(copy, data, size) != 0)
			run(copy, size);
		free(copy);
	}
	return 0;
}
