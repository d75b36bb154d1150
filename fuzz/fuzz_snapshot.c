/* libFuzzer target: arbitrary bytes as a service-tags snapshot (the reader
 * of lib/parse/tags_snapshot.c).
 *
 * Inputs that do not start with the snapshot's magic are the JSON path's
 * business (fuzz_tags) and are skipped.  Each input is loaded twice: as it
 * is, which exercises the header's checks (version, length, CRC-32), and
 * with its header resealed (the payload's true length and checksum), so
 * that mutations reach the payload's reader instead of all failing the
 * checksum.  For each load:
 *
 * - a failure is a snapshot error from the table (NSGSIM_E_SNAPSHOT,
 *   _SNAPSHOT_VERSION, _DUPLICATE, _LIMIT) naming the buffer, a pointer
 *   into the snapshot and the byte offset, and leaves the loader without
 *   tags;
 * - a success holds sets that keep ns_pset's invariants and unique names,
 *   and writing it back gives exactly the bytes read (an accepted snapshot
 *   is canonical); the tags then go through compile, evaluation and
 *   effective rules (tags_env.h) as fuzz_tags' do. */
#define _POSIX_C_SOURCE 200809L
#include "fuzz_common.h"
#include "tags_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "snap.nst"

static void check_failure(int rc, const nsgsim_error *err, const nsgsim_loader *l)
{
	fuzz_check_error(rc, err);
	FUZZ_CHECK(rc == NSGSIM_E_SNAPSHOT || rc == NSGSIM_E_SNAPSHOT_VERSION ||
	           rc == NSGSIM_E_DUPLICATE || rc == NSGSIM_E_LIMIT || rc == NSGSIM_E_NOMEM);
	FUZZ_CHECK(strcmp(err->file, NAME) == 0);
	if (rc != NSGSIM_E_NOMEM) {
		FUZZ_CHECK(err->pointer[0] == '/');
		FUZZ_CHECK(strncmp(err->message, "at byte offset ", 15) == 0);
	}
	nsgsim_tags_info info;
	FUZZ_CHECK(nsgsim_loader_service_tags_info(l, &info) == NSGSIM_E_INVALID_ARG);
}

static void check_sets(const ns_model *m)
{
	for (size_t i = 0; i < m->tags.n; i++) {
		const ns_tag *t = NS_VEC_AT(&m->tags, ns_tag, i);
		FUZZ_CHECK(t->name && t->name[0]);
		FUZZ_CHECK(ns_map_get(&m->tag_index, t->name) == t);
		FUZZ_CHECK(t->set.n4 + t->set.n6 <= t->n_prefixes);
		for (size_t k = 0; k < t->set.n4; k++) {
			FUZZ_CHECK(t->set.v4[k].lo <= t->set.v4[k].hi);
			if (k)
				FUZZ_CHECK((uint64_t)t->set.v4[k - 1].hi + 1 < t->set.v4[k].lo);
		}
		for (size_t k = 0; k < t->set.n6; k++) {
			FUZZ_CHECK(t->set.v6[k].lo <= t->set.v6[k].hi);
			if (k)
				FUZZ_CHECK(t->set.v6[k - 1].hi < t->set.v6[k].lo &&
				           t->set.v6[k].lo - t->set.v6[k - 1].hi > 1);
		}
	}
	FUZZ_CHECK(m->tag_index.n == m->tags.n);
}

/* Loads bytes; on success checks them and returns the first tag names
 * (strdup'd, up to 2) in names. */
static void load_one(const uint8_t *data, size_t size, char *names[2])
{
	nsgsim_loader *l = nsgsim_loader_new();
	FUZZ_CHECK(l != NULL);
	nsgsim_error err;
	int rc = nsgsim_loader_add_service_tags_buffer(l, NAME, (const char *)data, size, &err);
	if (rc != 0) {
		check_failure(rc, &err, l);
		nsgsim_loader_free(l);
		return;
	}
	ns_model *m = ns_loader_model(l);
	check_sets(m);
	nsgsim_tags_info info;
	FUZZ_CHECK(nsgsim_loader_service_tags_info(l, &info) == 0);
	FUZZ_CHECK(info.snapshot == 1 && info.tags == m->tags.n);
	void *out = NULL;
	size_t len = 0;
	rc = nsgsim_loader_service_tags_snapshot(l, &out, &len, &err);
	if (rc != 0)
		fuzz_check_error(rc, &err);
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(len == size && memcmp(out, data, size) == 0);
	nsgsim_free(out);
	for (size_t i = 0; i < m->tags.n && i < 2; i++)
		names[i] = strdup(NS_VEC_AT(&m->tags, ns_tag, i)->name);
	nsgsim_policy *p = NULL;
	rc = nsgsim_compile(l, &p, &err);
	nsgsim_loader_free(l);
	if (rc != 0) {
		fuzz_check_error(rc, &err);
		return;
	}
	nsgsim_stats st;
	nsgsim_policy_stats(p, &st);
	FUZZ_CHECK(st.service_tags == info.tags);
	nsgsim_policy_free(p);
}

/* The header of a copy made right: the payload's length and checksum. */
static uint8_t *resealed(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size);
	FUZZ_CHECK(copy != NULL);
	memcpy(copy, data, size);
	uint64_t payload = size - NS_SNAPSHOT_HEADER_SIZE;
	uint32_t crc = ns_crc32(0, copy + NS_SNAPSHOT_HEADER_SIZE, payload);
	for (int i = 0; i < 4; i++)
		copy[12 + i] = (uint8_t)(crc >> (8 * i));
	for (int i = 0; i < 8; i++)
		copy[16 + i] = (uint8_t)(payload >> (8 * i));
	return copy;
}

static void run(const uint8_t *data, size_t size)
{
	char *names[2] = {NULL, NULL};
	load_one(data, size, names);
	for (int i = 0; i < 2; i++) {
		if (names[i])
			with_tag(data, size, names[i]);
		free(names[i]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ns_tags_snapshot_detect(data, size))
		return 0;
	run(data, size);
	if (size >= NS_SNAPSHOT_HEADER_SIZE) {
		uint8_t *copy = resealed(data, size);
		if (memcmp(copy, data, NS_SNAPSHOT_HEADER_SIZE) != 0)
			run(copy, size);
		free(copy);
	}
	return 0;
}
