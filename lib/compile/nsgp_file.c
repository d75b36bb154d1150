/* Compiled policy files: the header, the checksum, the mapping and the
 * public API (include/nsgsim.h; the format is lib/compile/nsgp.h's).
 *
 * Saving writes the model the policy was compiled from, in sections
 * (lib/compile/nsgp.h), with the compile's notes after the parse stage's.
 * Loading maps the file read-only (MAP_PRIVATE), checks the header and the
 * directory's CRC-32C, reads the sections into an empty loader's model
 * (each checked against its CRC-32C as it is read) and compiles it; the
 * compile's notes come again from the compile.  A query build keeps the
 * mapping (the strings point into it), and a focused one checks but does
 * not decode the rule blocks of NSGs outside the focus, and keeps the saved
 * notes; every
 * other build copies every string and array into the model's arena, so
 * nothing points into the mapping, which is unmapped before compile.
 *
 * May touch: lib/base, the model, the compiled policy, lib/parse's loader. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compile/compile.h"
#include "compile/nsgp.h"
#include "parse/parse.h"

#define DIR_ENTRY 20 /* u64 offset, u64 length, u32 CRC-32C */

static uint64_t le64(const unsigned char *p)
{
	return (uint64_t)ns_nsgp_le32(p) | (uint64_t)ns_nsgp_le32(p + 4) << 32;
}

static void put_le(unsigned char *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* The header, the directory and w's sections, in one buffer. */
static int lay_out(const ns_nsgp_wr *w, void **buf, size_t *len, nsgsim_error *err)
{
	size_t n = w->section_ends.n;
	size_t dir = 4 + n * DIR_ENTRY;
	size_t total = NS_NSGP_HEADER_SIZE + dir + w->sections.len;
	unsigned char *d = malloc(total);
	if (!d)
		return ns_fail(err, NSGSIM_E_NOMEM, "", "", "", "out of memory");
	memcpy(d + NS_NSGP_HEADER_SIZE + dir, w->sections.data ? w->sections.data : "",
	       w->sections.len);
	unsigned char *e = d + NS_NSGP_HEADER_SIZE;
	put_le(e, n, 4);
	size_t start = 0;
	for (size_t k = 0; k < n; k++) {
		size_t end = *NS_VEC_AT(&w->section_ends, size_t, k);
		const unsigned char *sec = d + NS_NSGP_HEADER_SIZE + dir + start;
		put_le(e + 4 + k * DIR_ENTRY, NS_NSGP_HEADER_SIZE + dir + start, 8);
		put_le(e + 12 + k * DIR_ENTRY, end - start, 8);
		put_le(e + 20 + k * DIR_ENTRY, ns_nsgp_crc32c(0, sec, end - start), 4);
		start = end;
	}
	memcpy(d, NS_NSGP_MAGIC, NS_NSGP_MAGIC_LEN);
	put_le(d + 8, NS_NSGP_VERSION, 4);
	put_le(d + 12, ns_nsgp_crc32c(0, e, dir), 4);
	put_le(d + 16, total - NS_NSGP_HEADER_SIZE, 8);
	*buf = d;
	*len = total;
	return 0;
}

void ns_nsgp_reseal(unsigned char *d, size_t len)
{
	if (len < NS_NSGP_HEADER_SIZE + 4)
		return;
	put_le(d + 8, NS_NSGP_VERSION, 4);
	put_le(d + 16, len - NS_NSGP_HEADER_SIZE, 8);
	unsigned char *e = d + NS_NSGP_HEADER_SIZE;
	uint64_t n = ns_nsgp_le32(e);
	if (n > (len - NS_NSGP_HEADER_SIZE - 4) / DIR_ENTRY)
		return;
	for (uint64_t k = 0; k < n; k++) {
		unsigned char *x = e + 4 + k * DIR_ENTRY;
		uint64_t off = le64(x), sz = le64(x + 8);
		if (off <= len && sz <= len - off)
			put_le(x + 16, ns_nsgp_crc32c(0, d + off, (size_t)sz), 4);
	}
	put_le(d + 12, ns_nsgp_crc32c(0, e, 4 + (size_t)n * DIR_ENTRY), 4);
}

NSGSIM_EXPORT int nsgsim_policy_save_buffer(const nsgsim_policy *p, void **buf, size_t *len,
                                            nsgsim_error *err)
{
	if (!p || !buf || !len)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "",
		               "policy, buf and len are required");
	*buf = NULL;
	*len = 0;
	if (p->m.lines_omitted || p->m.notes_frozen)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "",
		               "this policy was loaded with NSGSIM_BUILD_QUERY, without its input "
		               "lines or the rules outside its focus: load it with another build "
		               "to save it");
	ns_nsgp_wr w;
	ns_nsgp_wr_init(&w);
	int rc = 0;
	ns_nsgp_put_model(&w, &p->m, p->n_parse_notes, err, &rc);
	if (rc == 0 && (w.failed || w.sections.failed))
		rc = ns_fail(err, NSGSIM_E_NOMEM, "", "", "", "out of memory");
	if (rc == 0 && w.too_big)
		rc = ns_fail(err, NSGSIM_E_LIMIT, "", "", "",
		             "the policy is too large for a compiled policy file (a count or a "
		             "string of 2^32 or more)");
	if (rc == 0)
		rc = lay_out(&w, buf, len, err);
	ns_nsgp_wr_free(&w);
	return rc;
}

NSGSIM_EXPORT int nsgsim_policy_save(const nsgsim_policy *p, const char *path, nsgsim_error *err)
{
	if (!path)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "", "path is required");
	void *buf;
	size_t len;
	int rc = nsgsim_policy_save_buffer(p, &buf, &len, err);
	if (rc != 0)
		return rc;
	FILE *f = fopen(path, "wb");
	bool ok = f && fwrite(buf, 1, len, f) == len;
	int saved = errno;
	if (f && fclose(f) != 0)
		ok = false, saved = errno;
	free(buf);
	if (!ok)
		return ns_fail(err, NSGSIM_E_IO, path, "", "", "cannot write the file: %s",
		               strerror(saved));
	return 0;
}

NSGSIM_EXPORT int nsgsim_policy_file_detect(const void *data, size_t len)
{
	return data && len >= NS_NSGP_MAGIC_LEN &&
	       memcmp(data, NS_NSGP_MAGIC, NS_NSGP_MAGIC_LEN) == 0;
}

/* The directory after the header: its checksum (the header's), then
 * sections that follow it back to back and end with the file. */
static int read_directory(ns_nsgp_rd *r, ns_nsgp_section **out)
{
	const unsigned char *e = r->d + NS_NSGP_HEADER_SIZE;
	r->pos = NS_NSGP_HEADER_SIZE;
	ns_nsgp_at(r, "/directory");
	size_t n = ns_nsgp_get_count(r, "sections", DIR_ENTRY);
	if (!r->rc && n < NS_NSGP_SECTIONS_MIN)
		return ns_nsgp_fail(r, "%zu sections; a policy file has at least %d", n,
		                    NS_NSGP_SECTIONS_MIN);
	if (r->rc)
		return r->rc;
	size_t dir = 4 + n * DIR_ENTRY;
	uint32_t want = ns_nsgp_le32(r->d + 12);
	uint32_t got = ns_nsgp_crc32c(0, e, dir);
	if (got != want) {
		ns_nsgp_at(r, "/header/checksum");
		r->pos = 12;
		return ns_nsgp_fail(r,
		                    "the directory's CRC-32C is 0x%08x but the header says 0x%08x: "
		                    "the file is damaged; compile the policy again",
		                    got, want);
	}
	ns_nsgp_section *sec = ns_arena_alloc_raw(&r->m->arena, n * sizeof *sec);
	if (!sec)
		return ns_nsgp_nomem(r);
	uint64_t at = NS_NSGP_HEADER_SIZE + dir;
	for (size_t k = 0; k < n; k++) {
		const unsigned char *x = e + 4 + k * DIR_ENTRY;
		uint64_t off = le64(x), len = le64(x + 8);
		ns_nsgp_at_i(r, "/directory/%zu", k);
		r->pos = (size_t)(x - r->d);
		if (off != at)
			return ns_nsgp_fail(
			        r, "section %zu starts at %llu; the one before ends at %llu", k,
			        (unsigned long long)off, (unsigned long long)at);
		if (len > r->len - at)
			return ns_nsgp_fail(
			        r,
			        "section %zu has %llu bytes but the file has %llu after "
			        "its start: the file is truncated",
			        k, (unsigned long long)len, (unsigned long long)(r->len - at));
		sec[k] = (ns_nsgp_section){(size_t)off, (size_t)(off + len), ns_nsgp_le32(x + 16)};
		at += len;
	}
	if (at != r->len) {
		ns_nsgp_at(r, "/directory");
		r->pos = (size_t)at;
		return ns_nsgp_fail(r, "%llu bytes follow the last section",
		                    (unsigned long long)(r->len - at));
	}
	*out = sec;
	r->n_sec = n;
	return 0;
}

/* The header's checks, the directory, then the sections into r->m. */
static int read_file(ns_nsgp_rd *r)
{
	ns_nsgp_at(r, "/header/magic");
	if (r->len < NS_NSGP_MAGIC_LEN || !nsgsim_policy_file_detect(r->d, r->len)) {
		r->pos = 0;
		return ns_nsgp_fail(
		        r, r->len < NS_NSGP_MAGIC_LEN && memcmp(r->d, NS_NSGP_MAGIC, r->len) == 0
		                   ? "the file ends inside the magic bytes of a compiled "
		                     "policy file: it is truncated"
		                   : "not a compiled policy file (no \"NSGSIMP\" magic); "
		                     "make one with `nsgsim compile`");
	}
	ns_nsgp_at(r, "/header/version");
	r->pos = r->len < 12 ? r->len : 8;
	if (r->len < 12)
		return ns_nsgp_fail(r,
		                    "the file ends inside the header (%d bytes): it is truncated",
		                    NS_NSGP_HEADER_SIZE);
	uint32_t version = ns_nsgp_le32(r->d + 8);
	if (version != NS_NSGP_VERSION) {
		ns_nsgp_fail(r,
		             "the file has format version %u; this nsgsim (%s) reads version %u: "
		             "compile the policy again with `nsgsim compile`",
		             version, NSGSIM_VERSION_STRING, NS_NSGP_VERSION);
		r->err->code = r->rc = NSGSIM_E_POLICY_FILE_VERSION;
		return r->rc;
	}
	ns_nsgp_at(r, "/header");
	if (r->len < NS_NSGP_HEADER_SIZE) {
		r->pos = r->len;
		return ns_nsgp_fail(r,
		                    "the file ends inside the header (%d bytes): it is truncated",
		                    NS_NSGP_HEADER_SIZE);
	}
	uint64_t payload = le64(r->d + 16);
	size_t have = r->len - NS_NSGP_HEADER_SIZE;
	if (payload != have) {
		ns_nsgp_at(r, "/header/length");
		r->pos = 16;
		return ns_nsgp_fail(r,
		                    "the header gives %llu bytes of payload but the file has %zu "
		                    "after the header: the file is %s",
		                    (unsigned long long)payload, have,
		                    payload > have ? "truncated" : "followed by other bytes");
	}
	ns_nsgp_section *sec = NULL;
	if (read_directory(r, &sec) != 0)
		return r->rc;
	r->sec = sec;
	return ns_nsgp_get_model(r);
}

static bool loader_empty(const ns_model *m)
{
	return ns_model_resource_count(m) == 0 && !m->has_tags && m->params.n == 0 &&
	       m->lines.n == 0;
}

/* borrow: data outlives the model (a mapping the model will own). */
static int add_policy(nsgsim_loader *l, const char *name, const void *data, size_t len, bool borrow,
                      nsgsim_error *err)
{
	if (!name)
		name = "";
	if (!l || (!data && len))
		return ns_fail(err, NSGSIM_E_INVALID_ARG, name, "", "",
		               "loader and data are required");
	if (!data)
		data = "";
	ns_model *lm = ns_loader_model(l);
	if (!loader_empty(lm))
		return ns_fail(err, NSGSIM_E_INVALID_ARG, name, "", "",
		               "a compiled policy file loads into an empty loader: give it alone, "
		               "without --env or --service-tags");
	ns_model m;
	ns_model_init(&m);
	m.build = lm->build;
	if (ns_model_set_focus(&m, lm->focus, lm->n_focus) != 0) {
		ns_model_free(&m);
		return ns_fail(err, NSGSIM_E_NOMEM, name, "", "", "out of memory");
	}
	nsgsim_error scratch;
	ns_nsgp_rd r = {.d = data,
	                .len = len,
	                .m = &m,
	                .file = name,
	                .err = err ? err : &scratch,
	                .borrow = borrow};
	int rc = read_file(&r);
	if (rc != 0) {
		ns_model_free(&m);
		return rc;
	}
	m.from_policy_file = true;
	ns_model_free(lm);
	*lm = m;
	return 0;
}

NSGSIM_EXPORT int nsgsim_loader_add_policy_buffer(nsgsim_loader *l, const char *name,
                                                  const void *data, size_t len, nsgsim_error *err)
{
	return add_policy(l, name, data, len, false, err);
}

/* The file mapped read-only; *len 0 and *map NULL for an empty file. */
static int map_file(const char *path, void **map, size_t *len, nsgsim_error *err)
{
	*map = NULL;
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ns_fail(err, NSGSIM_E_IO, path, "", "", "cannot open the file: %s",
		               strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return ns_fail(err, NSGSIM_E_IO, path, "", "", "not a regular file");
	}
	if (st.st_size > 0) {
		void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED) {
			int e = errno;
			close(fd);
			return ns_fail(err, NSGSIM_E_IO, path, "", "", "cannot map the file: %s",
			               strerror(e));
		}
		*map = p;
		*len = (size_t)st.st_size;
	}
	close(fd);
	return 0;
}

NSGSIM_EXPORT int nsgsim_loader_add_policy_file(nsgsim_loader *l, const char *path,
                                                nsgsim_error *err)
{
	if (!l || !path)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "",
		               "loader and path are required");
	void *map;
	size_t len;
	int rc = map_file(path, &map, &len, err);
	if (rc != 0)
		return rc;
	/* A query build (a question or two, then exit: the CLI's one flow) keeps
	 * the mapping for the policy's strings instead of copying them (9.6 MB
	 * on the 14,000-rule estate, a third of its page faults); other builds
	 * copy and unmap, so a long-lived policy does not depend on the file. */
	bool borrow = map && ns_loader_model(l)->build == NSGSIM_BUILD_QUERY;
	rc = add_policy(l, path, map ? map : "", len, borrow, err);
	if (rc == 0 && borrow) {
		ns_model *lm = ns_loader_model(l);
		lm->map = map;
		lm->map_len = len;
	} else if (map) {
		munmap(map, len);
	}
	return rc;
}

static int
load_with(int (*add)(nsgsim_loader *, const char *, const void *, size_t, nsgsim_error *),
          const char *name, const void *data, size_t len, nsgsim_policy **out, nsgsim_error *err)
{
	if (!out)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "", "out is required");
	*out = NULL;
	nsgsim_loader *l = nsgsim_loader_new();
	if (!l)
		return ns_fail(err, NSGSIM_E_NOMEM, "", "", "", "out of memory");
	int rc = add ? add(l, name, data, len, err) : nsgsim_loader_add_policy_file(l, name, err);
	if (rc == 0)
		rc = nsgsim_compile(l, out, err);
	nsgsim_loader_free(l);
	return rc;
}

NSGSIM_EXPORT int nsgsim_policy_load(const char *path, nsgsim_policy **out, nsgsim_error *err)
{
	if (!path)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "", "path is required");
	return load_with(NULL, path, NULL, 0, out, err);
}

NSGSIM_EXPORT int nsgsim_policy_load_buffer(const char *name, const void *data, size_t len,
                                            nsgsim_policy **out, nsgsim_error *err)
{
	return load_with(nsgsim_loader_add_policy_buffer, name ? name : "", data, len, out, err);
}
