/* Service-tags snapshots (lib/parse/tags_snapshot.c): the format, the round trip
 * JSON -> snapshot -> load, and the reader's answer to every kind of damage.
 *
 * - A snapshot built here byte by byte from the format's description (the
 *   comment at the top of lib/parse/tags_snapshot.c) must equal the library's: the
 *   format cannot change by accident without its version.
 * - Loading the snapshot of a tags file gives the same model (every tag's
 *   ranges, region, features, prefix count; cloud, changeNumber) and the
 *   same answers: every fixture's flow table and every NIC's effective rules,
 *   compared with the JSON load's.
 * - Damage: a cut at every byte offset, a wrong magic, version or checksum,
 *   lengths past the end, unsorted / overlapping / touching ranges, a
 *   duplicate or empty name, a limit exceeded -- each with its code, pointer,
 *   resource and message.
 *
 * Only fixtures/ is needed; Microsoft's real downloads are round-tripped too
 * when $NSGSIM_SHARED_DATA has them. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "files.h"
#include "flowtable.h"
#include "nsgsim.h"
#include "compile/policy.h"

#define TRIMMED "fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json"
#define REST    "fixtures/service_tags/rest_servicetags_list.json"

/* ---- helpers ------------------------------------------------------------- */

static void expect_ok(int rc, const nsgsim_error *err, const char *what)
{
	if (rc != 0) {
		char buf[2600];
		nsgsim_error_format(err, buf, sizeof buf);
		fail_msg("%s: expected success, got %s: %s", what,
		         nsgsim_error_name(rc) ? nsgsim_error_name(rc) : "?", buf);
	}
}

static void expect_error(int rc, const nsgsim_error *err, int code, const char *pointer,
                         const char *resource, const char *needle, const char *what)
{
	char buf[2600];
	nsgsim_error_format(err, buf, sizeof buf);
	if (rc != code)
		fail_msg("%s: expected %s, got %s: %s", what, nsgsim_error_name(code),
		         nsgsim_error_name(rc) ? nsgsim_error_name(rc) : "0", buf);
	assert_int_equal(err->code, code);
	if (pointer && strcmp(err->pointer, pointer) != 0)
		fail_msg("%s: pointer '%s', expected '%s' (%s)", what, err->pointer, pointer, buf);
	if (resource && strcmp(err->resource, resource) != 0)
		fail_msg("%s: resource '%s', expected '%s' (%s)", what, err->resource, resource,
		         buf);
	if (needle && !strstr(err->message, needle))
		fail_msg("%s: message lacks '%s': %s", what, needle, buf);
}

/* The message of a snapshot error starts with the byte offset. */
static void expect_offset(const nsgsim_error *err, size_t offset)
{
	char want[64];
	snprintf(want, sizeof want, "at byte offset %zu: ", offset);
	if (strncmp(err->message, want, strlen(want)) != 0)
		fail_msg("message '%s' does not start with '%s'", err->message, want);
}

/* A loader holding the tags of a buffer (named name). */
static nsgsim_loader *tags_loader(const char *name, const void *data, size_t len)
{
	nsgsim_loader *l = nsgsim_loader_new();
	assert_non_null(l);
	nsgsim_error err = {0};
	expect_ok(nsgsim_loader_add_service_tags_buffer(l, name, data, len, &err), &err, name);
	return l;
}

/* The snapshot of a tags buffer; free with nsgsim_free. */
static unsigned char *snapshot_of(const char *name, const void *data, size_t len, size_t *out)
{
	nsgsim_loader *l = tags_loader(name, data, len);
	void *buf = NULL;
	nsgsim_error err = {0};
	expect_ok(nsgsim_loader_service_tags_snapshot(l, &buf, out, &err), &err, "snapshot");
	nsgsim_loader_free(l);
	assert_non_null(buf);
	return buf;
}

static unsigned char *snapshot_of_file(const char *path, size_t *out)
{
	size_t len;
	char *json = test_read_file(path, &len);
	unsigned char *snap = snapshot_of(path, json, len, out);
	free(json);
	return snap;
}

/* Loads a snapshot buffer as "snap.nst"; returns the status. */
static int load_snapshot(const void *data, size_t len, nsgsim_error *err)
{
	nsgsim_loader *l = nsgsim_loader_new();
	assert_non_null(l);
	memset(err, 0, sizeof *err);
	int rc = nsgsim_loader_add_service_tags_buffer(l, "snap.nst", data, len, err);
	if (rc != 0)
		assert_string_equal(err->file, "snap.nst");
	nsgsim_loader_free(l);
	return rc;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Every tag of a and b alike, the index too. */
static void assert_same_tags(const ns_model *a, const ns_model *b)
{
	assert_true(a->has_tags && b->has_tags);
	assert_true(same_str(a->tags_cloud, b->tags_cloud));
	assert_true(a->tags_change_number == b->tags_change_number);
	assert_true(same_str(a->tags_source, b->tags_source));
	assert_int_equal(a->tags.n, b->tags.n);
	assert_int_equal(a->tag_index.n, b->tag_index.n);
	for (size_t i = 0; i < a->tags.n; i++) {
		const ns_tag *x = NS_VEC_AT(&a->tags, ns_tag, i);
		const ns_tag *y = NS_VEC_AT(&b->tags, ns_tag, i);
		assert_string_equal(x->name, y->name);
		if (!same_str(x->region, y->region))
			fail_msg("tag %s: region '%s' vs '%s'", x->name,
			         x->region ? x->region : "(null)",
			         y->region ? y->region : "(null)");
		assert_int_equal(x->n_features, y->n_features);
		for (size_t f = 0; f < x->n_features; f++)
			assert_string_equal(x->features[f], y->features[f]);
		assert_int_equal(x->n_prefixes, y->n_prefixes);
		if (!ns_pset_equal(&x->set, &y->set))
			fail_msg("tag %s: the ranges differ", x->name);
		assert_ptr_equal(ns_map_get(&a->tag_index, x->name), x);
		assert_ptr_equal(ns_map_get(&b->tag_index, y->name), y);
	}
}

/* ---- a snapshot built by hand, from the format's description ---------------- */

typedef struct bbuf {
	unsigned char *p;
	size_t len, cap;
} bbuf;

static void b_put(bbuf *b, const void *data, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void b_u32(bbuf *b, uint32_t v)
{
	unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
	                      (unsigned char)(v >> 24)};
	b_put(b, x, 4);
}

static void b_u64(bbuf *b, uint64_t v)
{
	b_u32(b, (uint32_t)v);
	b_u32(b, (uint32_t)(v >> 32));
}

static void b_u128(bbuf *b, ns_u128 v)
{
	b_u64(b, (uint64_t)v);
	b_u64(b, (uint64_t)(v >> 64));
}

static void b_str(bbuf *b, const char *s)
{
	if (!s) {
		b_u32(b, 0xFFFFFFFFu);
		return;
	}
	b_u32(b, (uint32_t)strlen(s));
	b_put(b, s, strlen(s));
}

typedef struct ttag {
	const char *name, *region;
	const char *features[3];
	uint32_t n_features;
	uint64_t prefixes;
	uint32_t n4, n6;
	uint32_t r4[3][2];
	ns_u128 r6[3][2];
} ttag;

typedef struct tsnap {
	uint32_t version;
	const char *source, *cloud;
	int64_t change;
	ttag tags[4];
	uint32_t n_tags;
} tsnap;

/* Where build() put things. */
typedef struct offsets {
	size_t source, cloud, change, n_tags, end;
	size_t name[4], region[4], features[4], prefixes[4], n4[4], n6[4];
	size_t r4[4][3], r6[4][3];
} offsets;

static ns_u128 v6(uint64_t hi, uint64_t lo)
{
	return (ns_u128)hi << 64 | lo;
}

/* What the library must make of TINY_JSON (ranges merged by hand). */
static const char TINY_JSON[] =
        "{\"changeNumber\": 42, \"cloud\": \"Public\", \"values\": [\n"
        " {\"name\": \"Alpha\", \"id\": \"Alpha\", \"properties\": {\"region\": \"westeurope\",\n"
        "  \"addressPrefixes\": [\"10.0.1.0/24\", \"192.168.0.0/16\", \"10.0.0.0/24\",\n"
        "                      \"2001:db8::/32\"], \"networkFeatures\": [\"NSG\", \"API\"]}},\n"
        " {\"name\": \"Beta\", \"properties\": {\"addressPrefixes\": []}},\n"
        " {\"name\": \"Gamma\", \"properties\": {\"region\": \"\", \"addressPrefixes\":\n"
        "  [\"fe80::/10\", \"10.0.0.5/32\", \"fd00::/8\"]}}]}\n";

static tsnap tiny(void)
{
	tsnap s = {
	        .version = 1, .source = "tiny.json", .cloud = "Public", .change = 42, .n_tags = 3};
	s.tags[0] = (ttag){.name = "Alpha",
	                   .region = "westeurope",
	                   .features = {"NSG", "API"},
	                   .n_features = 2,
	                   .prefixes = 4,
	                   .n4 = 2,
	                   .n6 = 1,
	                   .r4 = {{0x0A000000u, 0x0A0001FFu}, {0xC0A80000u, 0xC0A8FFFFu}}};
	s.tags[0].r6[0][0] = v6(0x20010db800000000ull, 0);
	s.tags[0].r6[0][1] = v6(0x20010db8ffffffffull, ~0ull);
	s.tags[1] = (ttag){.name = "Beta"};
	s.tags[2] = (ttag){.name = "Gamma",
	                   .region = "",
	                   .prefixes = 3,
	                   .n4 = 1,
	                   .n6 = 2,
	                   .r4 = {{0x0A000005u, 0x0A000005u}}};
	s.tags[2].r6[0][0] = v6(0xfd00000000000000ull, 0);
	s.tags[2].r6[0][1] = v6(0xfdffffffffffffffull, ~0ull);
	s.tags[2].r6[1][0] = v6(0xfe80000000000000ull, 0);
	s.tags[2].r6[1][1] = v6(0xfebfffffffffffffull, ~0ull);
	return s;
}

/* The header (magic, version, CRC-32 and length of the payload) over a
 * payload built in b from byte 24. */
static void seal(bbuf *b, uint32_t version)
{
	size_t payload = b->len - 24;
	memcpy(b->p, "NSGSIMT", 8);
	unsigned char *h = b->p + 8;
	uint32_t crc = ns_crc32(0, b->p + 24, payload);
	uint32_t words[2] = {version, crc};
	for (int w = 0; w < 2; w++)
		for (int i = 0; i < 4; i++)
			h[4 * w + i] = (unsigned char)(words[w] >> (8 * i));
	for (int i = 0; i < 8; i++)
		b->p[16 + i] = (unsigned char)((uint64_t)payload >> (8 * i));
}

static unsigned char *build(const tsnap *s, size_t *len, offsets *o)
{
	bbuf b = {0};
	offsets dummy;
	if (!o)
		o = &dummy;
	unsigned char zero[24] = {0};
	b_put(&b, zero, 24);
	o->source = b.len;
	b_str(&b, s->source);
	o->cloud = b.len;
	b_str(&b, s->cloud);
	o->change = b.len;
	b_u64(&b, (uint64_t)s->change);
	o->n_tags = b.len;
	b_u32(&b, s->n_tags);
	for (uint32_t i = 0; i < s->n_tags && i < 4; i++) {
		const ttag *t = &s->tags[i];
		o->name[i] = b.len;
		b_str(&b, t->name);
		o->region[i] = b.len;
		b_str(&b, t->region);
		o->features[i] = b.len;
		b_u32(&b, t->n_features);
		for (uint32_t f = 0; f < t->n_features && f < 3; f++)
			b_str(&b, t->features[f]);
		o->prefixes[i] = b.len;
		b_u64(&b, t->prefixes);
		o->n4[i] = b.len;
		b_u32(&b, t->n4);
		o->n6[i] = b.len;
		b_u32(&b, t->n6);
		for (uint32_t k = 0; k < t->n4 && k < 3; k++) {
			o->r4[i][k] = b.len;
			b_u32(&b, t->r4[k][0]);
			b_u32(&b, t->r4[k][1]);
		}
		for (uint32_t k = 0; k < t->n6 && k < 3; k++) {
			o->r6[i][k] = b.len;
			b_u128(&b, t->r6[k][0]);
			b_u128(&b, t->r6[k][1]);
		}
	}
	o->end = b.len;
	seal(&b, s->version);
	*len = b.len;
	return b.p;
}

/* Builds s and loads it; returns the status with err filled. */
static int load_built(const tsnap *s, nsgsim_error *err, offsets *o)
{
	size_t len;
	unsigned char *snap = build(s, &len, o);
	int rc = load_snapshot(snap, len, err);
	free(snap);
	return rc;
}

/* ---- the format ------------------------------------------------------------------ */

static void test_crc32(void **state)
{
	(void)state;
	/* The check value of CRC-32/ISO-HDLC (zlib's crc32). */
	assert_int_equal(ns_crc32(0, "123456789", 9), 0xCBF43926u);
	assert_int_equal(ns_crc32(0, "", 0), 0);
	static const char text[] = "The quick brown fox jumps over the lazy dog";
	assert_int_equal(ns_crc32(0, text, strlen(text)), 0x414FA339u);
	/* In pieces of any size, the same. */
	for (size_t cut = 0; cut <= strlen(text); cut++)
		assert_int_equal(ns_crc32(ns_crc32(0, text, cut), text + cut, strlen(text) - cut),
		                 0x414FA339u);
}

/* The library writes exactly the bytes the format describes. */
static void test_format_is_as_documented(void **state)
{
	(void)state;
	size_t got_len, want_len;
	unsigned char *got =
	        snapshot_of("some/dir/tiny.json", TINY_JSON, strlen(TINY_JSON), &got_len);
	tsnap s = tiny();
	unsigned char *want = build(&s, &want_len, NULL);
	assert_int_equal(got_len, want_len);
	assert_memory_equal(got, want, want_len);
	/* And the hand-built one loads. */
	nsgsim_error err;
	expect_ok(load_snapshot(want, want_len, &err), &err, "hand-built snapshot");
	nsgsim_free(got);
	free(want);
}

/* ---- the round trip ------------------------------------------------------------------ */

/* JSON -> snapshot -> load gives the same model as the JSON, and writing it
 * again gives the same bytes. */
static void round_trip(const char *path)
{
	size_t json_len, snap_len, again_len;
	char *json = test_read_file(path, &json_len);
	nsgsim_loader *from_json = tags_loader(path, json, json_len);
	void *snap = NULL;
	nsgsim_error err = {0};
	expect_ok(nsgsim_loader_service_tags_snapshot(from_json, &snap, &snap_len, &err), &err,
	          path);
	nsgsim_loader *from_snap = tags_loader("copy.nst", snap, snap_len);
	assert_same_tags(ns_loader_model(from_json), ns_loader_model(from_snap));
	assert_int_equal(ns_loader_model(from_json)->n_prefixes,
	                 ns_loader_model(from_snap)->n_prefixes);

	nsgsim_tags_info a, b;
	assert_int_equal(nsgsim_loader_service_tags_info(from_json, &a), 0);
	assert_int_equal(nsgsim_loader_service_tags_info(from_snap, &b), 0);
	assert_int_equal(a.tags, b.tags);
	assert_true(a.prefixes == b.prefixes && a.ranges == b.ranges);
	assert_true(a.change_number == b.change_number);
	assert_string_equal(a.cloud, b.cloud);
	assert_string_equal(a.source, b.source);
	assert_string_equal(a.file, path);
	assert_string_equal(b.file, "copy.nst");
	assert_int_equal(a.snapshot, 0);
	assert_int_equal(b.snapshot, 1);

	void *again = NULL;
	expect_ok(nsgsim_loader_service_tags_snapshot(from_snap, &again, &again_len, &err), &err,
	          "snapshot of the snapshot");
	assert_int_equal(again_len, snap_len);
	assert_memory_equal(again, snap, snap_len);

	/* Compiled, the policies hold the same tags too. */
	nsgsim_policy *p = NULL, *q = NULL;
	expect_ok(nsgsim_compile(from_json, &p, &err), &err, "compile (JSON)");
	expect_ok(nsgsim_compile(from_snap, &q, &err), &err, "compile (snapshot)");
	assert_same_tags(&p->m, &q->m);
	nsgsim_policy_free(p);
	nsgsim_policy_free(q);
	nsgsim_loader_free(from_json);
	nsgsim_loader_free(from_snap);
	nsgsim_free(snap);
	nsgsim_free(again);
	free(json);
}

static void test_round_trip_fixtures(void **state)
{
	(void)state;
	round_trip(TRIMMED);
	round_trip(REST); /* changeNumber a string, no networkFeatures */
	round_trip("fixtures/semantics/t22_regional_service_tags/service_tags.json");
	round_trip("fixtures/effective_myers/internet_override_tags.json");
}

/* Microsoft's real downloads, when $NSGSIM_SHARED_DATA has them (make
 * check-c sets it to ../shared/data); skipped, and said so, otherwise. */
static void test_round_trip_shared_downloads(void **state)
{
	(void)state;
	const char *data = getenv("NSGSIM_SHARED_DATA");
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/service_tags", data ? data : "");
	DIR *d = data && *data ? opendir(dir) : NULL;
	if (!d) {
		printf("[  SKIPPED ] test_round_trip_shared_downloads: %s%s; the real "
		       "service-tags downloads were not round-tripped\n",
		       data && *data ? dir : "NSGSIM_SHARED_DATA is not set",
		       data && *data ? " not found" : "");
		skip();
	}
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d)) != NULL) {
		size_t k = strlen(e->d_name);
		if (strncmp(e->d_name, "ServiceTags_", 12) != 0 || k < 5 ||
		    strcmp(e->d_name + k - 5, ".json") != 0)
			continue;
		char path[4400];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		round_trip(path);
		n++;
	}
	closedir(d);
	printf("  %d downloads: the same tags through a snapshot\n", n);
	assert_true(n > 0);
}

static void test_info(void **state)
{
	(void)state;
	nsgsim_loader *l = tags_loader("dir/tiny.json", TINY_JSON, strlen(TINY_JSON));
	nsgsim_tags_info info;
	assert_int_equal(nsgsim_loader_service_tags_info(l, &info), 0);
	assert_int_equal(info.tags, 3);
	assert_true(info.prefixes == 7);
	assert_int_equal(info.ranges, 6);
	assert_true(info.change_number == 42);
	assert_string_equal(info.cloud, "Public");
	assert_string_equal(info.file, "dir/tiny.json");
	assert_string_equal(info.source, "tiny.json");
	assert_int_equal(info.snapshot, 0);
	nsgsim_loader_free(l);
	/* No tags: nothing to describe or write. */
	l = nsgsim_loader_new();
	assert_int_equal(nsgsim_loader_service_tags_info(l, &info), NSGSIM_E_INVALID_ARG);
	void *buf = (void *)1;
	size_t len = 1;
	nsgsim_error err = {0};
	expect_error(nsgsim_loader_service_tags_snapshot(l, &buf, &len, &err), &err,
	             NSGSIM_E_INVALID_ARG, "", "", "no service tags", "snapshot without tags");
	assert_null(buf);
	assert_int_equal(len, 0);
	assert_int_equal(nsgsim_loader_service_tags_snapshot(NULL, &buf, &len, NULL),
	                 NSGSIM_E_INVALID_ARG);
	assert_int_equal(nsgsim_loader_service_tags_snapshot(l, NULL, &len, NULL),
	                 NSGSIM_E_INVALID_ARG);
	nsgsim_loader_free(l);
}

/* After compile the loader is empty: there is nothing to snapshot. */
static void test_snapshot_after_compile(void **state)
{
	(void)state;
	nsgsim_loader *l = tags_loader("tiny.json", TINY_JSON, strlen(TINY_JSON));
	nsgsim_policy *p = NULL;
	nsgsim_error err = {0};
	expect_ok(nsgsim_compile(l, &p, &err), &err, "compile");
	void *buf = NULL;
	size_t len;
	assert_int_equal(nsgsim_loader_service_tags_snapshot(l, &buf, &len, &err),
	                 NSGSIM_E_INVALID_ARG);
	nsgsim_policy_free(p);
	nsgsim_loader_free(l);
}

/* The same input gives the same bytes: twice over, and from another
 * directory (only the base name is recorded). */
static void test_deterministic(void **state)
{
	(void)state;
	size_t len1, len2;
	unsigned char *a = snapshot_of_file(TRIMMED, &len1);
	unsigned char *b = snapshot_of_file(TRIMMED, &len2);
	assert_int_equal(len1, len2);
	assert_memory_equal(a, b, len1);
	size_t json_len, len3;
	char *json = test_read_file(TRIMMED, &json_len);
	unsigned char *c = snapshot_of("/elsewhere/ServiceTags_Public_20251109_trimmed.json", json,
	                               json_len, &len3);
	assert_int_equal(len1, len3);
	assert_memory_equal(a, c, len1);
	nsgsim_free(a);
	nsgsim_free(b);
	nsgsim_free(c);
	free(json);
}

/* ---- the same answers ------------------------------------------------------------ */

static nsgsim_policy *fixture_policy(const char *env, const char *tags_name, const void *tags,
                                     size_t len)
{
	nsgsim_loader *l = nsgsim_loader_new();
	assert_non_null(l);
	nsgsim_error err = {0};
	nsgsim_policy *p = NULL;
	expect_ok(nsgsim_loader_add_env(l, env, &err), &err, env);
	expect_ok(nsgsim_loader_add_service_tags_buffer(l, tags_name, tags, len, &err), &err,
	          tags_name);
	expect_ok(nsgsim_compile(l, &p, &err), &err, env);
	nsgsim_loader_free(l);
	return p;
}

static void assert_same_text(char *a, char *b, const char *what)
{
	assert_non_null(a);
	assert_non_null(b);
	if (strcmp(a, b) != 0)
		fail_msg("%s: the outputs differ:\n%s\n--- vs ---\n%s", what, a, b);
	nsgsim_free(a);
	nsgsim_free(b);
}

/* Every flow of the fixture's table and every NIC's effective rules, with
 * the JSON tags and with their snapshot. */
static int compare_fixture(const char *dir)
{
	char env[512], tags[512], table[512];
	struct stat st;
	snprintf(table, sizeof table, "%s/flows.txt", dir);
	FILE *f = fopen(table, "r");
	if (!f)
		return 0;
	snprintf(env, sizeof env, "%s/env", dir);
	snprintf(tags, sizeof tags, "%s/service_tags.json", dir);
	if (stat(tags, &st) != 0)
		snprintf(tags, sizeof tags, "%s", TRIMMED);
	size_t json_len, snap_len;
	char *json = test_read_file(tags, &json_len);
	unsigned char *snap = snapshot_of(tags, json, json_len, &snap_len);
	nsgsim_policy *p = fixture_policy(env, tags, json, json_len);
	nsgsim_policy *q = fixture_policy(env, "tags.nst", snap, snap_len);

	char line[1024];
	int lineno = 0, rows = 0;
	while (fgets(line, sizeof line, f)) {
		flow_row row;
		int k = flow_row_parse(line, ++lineno, &row);
		assert_true(k >= 0);
		if (k == 0)
			continue;
		rows++;
		nsgsim_flow flow;
		nsgsim_error err = {0};
		expect_ok(nsgsim_flow_parse(row.flow, &flow, &err), &err, row.flow);
		nsgsim_result a, b;
		int ra, rb;
		if (row.at[0]) {
			int d = strcmp(row.direction, "inbound") == 0 ? NSGSIM_INBOUND
			                                              : NSGSIM_OUTBOUND;
			ra = nsgsim_eval_at(p, &flow, row.at, d, &a, &err);
			rb = nsgsim_eval_at(q, &flow, row.at, d, &b, &err);
		} else {
			ra = nsgsim_eval(p, &flow, &a, &err);
			rb = nsgsim_eval(q, &flow, &b, &err);
		}
		assert_int_equal(ra, 0);
		assert_int_equal(rb, 0);
		assert_int_equal(a.verdict, b.verdict);
		assert_int_equal(a.decided_layer, b.decided_layer);
		assert_int_equal(a.decided_endpoint, b.decided_endpoint);
		assert_true(same_str(a.decided_rule.name, b.decided_rule.name));
		assert_int_equal(a.assumptions, b.assumptions);
		char *ta = NULL, *tb = NULL;
		expect_ok(nsgsim_result_render(p, &flow, &a, NSGSIM_FORMAT_JSON, 1, &ta, &err),
		          &err, "render");
		expect_ok(nsgsim_result_render(q, &flow, &b, NSGSIM_FORMAT_JSON, 1, &tb, &err),
		          &err, "render");
		assert_same_text(ta, tb, row.flow);
	}
	fclose(f);
	assert_int_equal(p->n_nics, q->n_nics);
	for (size_t i = 0; i < p->n_nics; i++) {
		char *ta = NULL, *tb = NULL;
		nsgsim_error err = {0};
		const char *id = p->nics[i].n->id;
		expect_ok(nsgsim_effective(p, id, NSGSIM_FORMAT_JSON, &ta, &err), &err, id);
		expect_ok(nsgsim_effective(q, id, NSGSIM_FORMAT_JSON, &tb, &err), &err, id);
		assert_same_text(ta, tb, id);
	}
	nsgsim_policy_free(p);
	nsgsim_policy_free(q);
	nsgsim_free(snap);
	free(json);
	return rows;
}

static void test_same_answers(void **state)
{
	(void)state;
	int rows = compare_fixture("fixtures/example");
	DIR *d = opendir("fixtures/semantics");
	assert_non_null(d);
	struct dirent *e;
	int dirs = 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char dir[512];
		snprintf(dir, sizeof dir, "fixtures/semantics/%s", e->d_name);
		int n = compare_fixture(dir);
		rows += n;
		dirs += n > 0;
	}
	closedir(d);
	assert_true(dirs >= 30);
	assert_true(rows >= 100);
	print_message("%d flows in %d fixtures: the same with the snapshot\n", rows, dirs + 1);
}

/* ---- damage ------------------------------------------------------------------------ */

/* Cut at every byte offset: an error every time, never a crash. */
static void test_truncated_everywhere(void **state)
{
	(void)state;
	tsnap s = tiny();
	size_t len;
	unsigned char *full = build(&s, &len, NULL);
	for (size_t cut = 0; cut < len; cut++) {
		unsigned char *copy =
		        malloc(cut ? cut : 1); /* exactly cut bytes: ASan sees overreads */
		assert_non_null(copy);
		memcpy(copy, full, cut);
		nsgsim_error err;
		int rc = load_snapshot(copy, cut, &err);
		free(copy);
		if (cut == 0) { /* nothing: not a snapshot, and empty JSON */
			assert_int_equal(rc, NSGSIM_E_JSON);
			continue;
		}
		const char *ptr = cut < 8 ? "/header/magic" : cut < 24 ? NULL : "/header/length";
		expect_error(rc, &err, NSGSIM_E_SNAPSHOT, ptr, "", "truncated", "cut");
		assert_true(strncmp(err.message, "at byte offset ", 15) == 0);
	}
	/* The header sealed over a payload cut short: each field's own check. */
	for (size_t cut = 24; cut < len; cut++) {
		bbuf b = {0};
		b_put(&b, full, cut);
		seal(&b, 1);
		nsgsim_error err;
		int rc = load_snapshot(b.p, b.len, &err);
		free(b.p);
		expect_error(rc, &err, NSGSIM_E_SNAPSHOT, NULL, NULL, NULL, "sealed cut");
		if (!strstr(err.message, "bytes are left") && !strstr(err.message, "need at least"))
			fail_msg("cut at %zu: %s", cut, err.message);
		assert_true(strncmp(err.pointer, "/", 1) == 0);
	}
	free(full);
}

/* A cut of the real fixture's snapshot, every 499 bytes. */
static void test_truncated_fixture(void **state)
{
	(void)state;
	size_t len;
	unsigned char *full = snapshot_of_file(TRIMMED, &len);
	for (size_t cut = 0; cut < len; cut += 499) {
		nsgsim_error err;
		assert_true(load_snapshot(full, cut, &err) < 0);
	}
	nsgsim_error err;
	expect_ok(load_snapshot(full, len, &err), &err, "whole");
	nsgsim_free(full);
}

static void test_bad_magic_is_json(void **state)
{
	(void)state;
	tsnap s = tiny();
	size_t len;
	unsigned char *snap = build(&s, &len, NULL);
	snap[6] = 'X'; /* NSGSIMX: not a snapshot, so (bad) JSON */
	nsgsim_error err;
	expect_error(load_snapshot(snap, len, &err), &err, NSGSIM_E_JSON, NULL, NULL, NULL,
	             "bad magic");
	assert_null(strstr(err.message, "snapshot"));
	snap[6] = 'T';
	snap[7] = '!'; /* the magic's NUL is part of it */
	expect_error(load_snapshot(snap, len, &err), &err, NSGSIM_E_JSON, NULL, NULL, NULL,
	             "bad magic NUL");
	free(snap);
}

static void test_wrong_version(void **state)
{
	(void)state;
	uint32_t versions[] = {0, 2, 0xFFFFFFFFu};
	for (size_t i = 0; i < NS_ARRAY_LEN(versions); i++) {
		tsnap s = tiny();
		s.version = versions[i];
		nsgsim_error err;
		expect_error(load_built(&s, &err, NULL), &err, NSGSIM_E_SNAPSHOT_VERSION,
		             "/header/version", "",
		             "rebuild the snapshot with `nsgsim snapshot-tags`", "version");
		char v[64];
		snprintf(v, sizeof v, "format version %u", versions[i]);
		assert_non_null(strstr(err.message, v));
		expect_offset(&err, 8);
	}
	/* A header cut right after a wrong version still says so. */
	tsnap s = tiny();
	s.version = 7;
	size_t len;
	unsigned char *snap = build(&s, &len, NULL);
	nsgsim_error err;
	expect_error(load_snapshot(snap, 12, &err), &err, NSGSIM_E_SNAPSHOT_VERSION,
	             "/header/version", "", "version 7", "short wrong version");
	free(snap);
}

static void test_bad_checksum(void **state)
{
	(void)state;
	tsnap s = tiny();
	size_t len;
	offsets o;
	unsigned char *snap = build(&s, &len, &o);
	for (size_t at = 12; at < len; at += (at < 24 ? 1 : 7)) {
		if (at >= 16 && at < 24)
			continue; /* the length: a different error */
		snap[at] ^= 0x10;
		nsgsim_error err;
		expect_error(load_snapshot(snap, len, &err), &err, NSGSIM_E_SNAPSHOT,
		             "/header/checksum", "", "CRC-32", "flipped bit");
		expect_offset(&err, 12);
		snap[at] ^= 0x10;
	}
	nsgsim_error err;
	expect_ok(load_snapshot(snap, len, &err), &err, "restored");
	/* A byte appended, or the length field changed. */
	unsigned char *longer = malloc(len + 1);
	memcpy(longer, snap, len);
	longer[len] = 0;
	expect_error(load_snapshot(longer, len + 1, &err), &err, NSGSIM_E_SNAPSHOT,
	             "/header/length", "", "followed by other bytes", "appended byte");
	expect_offset(&err, 16);
	free(longer);
	snap[16] ^= 1;
	expect_error(load_snapshot(snap, len, &err), &err, NSGSIM_E_SNAPSHOT, "/header/length", "",
	             "the header gives", "length field");
	free(snap);
}

/* Lengths and counts that point past the end (the checksum made right). */
static void test_lengths_past_the_end(void **state)
{
	(void)state;
	nsgsim_error err;
	offsets o;
	tsnap s = tiny();
	s.tags[2].prefixes = 200; /* room for the range counts below */
	size_t len;
	unsigned char *snap = build(&s, &len, &o);

	/* Each patch rewrites one u32 field, then reseals. */
	struct {
		size_t at;
		uint32_t value;
		const char *ptr, *resource, *needle;
	} patches[] = {
	        {o.source, 1000000, "/source", "", "expected the source file name (1000000 bytes)"},
	        {o.cloud, 0x7FFFFFFF, "/cloud", "", "bytes are left"},
	        {o.n_tags, 0xFFFFFFFE, "/tags", "", "4294967294 tags need at least"},
	        {o.n_tags, 4, "/tags/3/name", "", "expected a tag name"},
	        {o.n_tags, 2, "/tags/2", "", "bytes follow the last of the 2 tags"},
	        {o.name[0], 5000, "/tags/0/name", "", "expected a tag name (5000 bytes)"},
	        {o.region[0], 0x7FFFFFFF, "/tags/0/region", "Alpha", "bytes are left"},
	        {o.features[0], 0x40000000, "/tags/0/networkFeatures", "Alpha",
	         "1073741824 networkFeatures need at least"},
	        {o.features[0] + 4, 300, "/tags/0/networkFeatures/0", "Alpha",
	         "a networkFeatures entry (300 bytes)"},
	        {o.n4[2], 100, "/tags/2/ranges4", "Gamma", "the tag's IPv4 ranges (800 bytes)"},
	        {o.n6[2], 3, "/tags/2/ranges6", "Gamma", "the tag's IPv6 ranges"},
	};
	for (size_t i = 0; i < NS_ARRAY_LEN(patches); i++) {
		bbuf b = {malloc(len), len, len};
		memcpy(b.p, snap, len);
		for (int k = 0; k < 4; k++)
			b.p[patches[i].at + k] = (unsigned char)(patches[i].value >> (8 * k));
		seal(&b, 1);
		expect_error(load_snapshot(b.p, b.len, &err), &err, NSGSIM_E_SNAPSHOT,
		             patches[i].ptr, patches[i].resource, patches[i].needle,
		             patches[i].ptr);
		free(b.p);
	}
	/* The offset is the field's. */
	bbuf b = {malloc(len), len, len};
	memcpy(b.p, snap, len);
	b.p[o.name[0] + 1] = 0x13; /* 0x1305 bytes */
	seal(&b, 1);
	expect_error(load_snapshot(b.p, b.len, &err), &err, NSGSIM_E_SNAPSHOT, "/tags/0/name", "",
	             "bytes are left", "name length");
	expect_offset(&err, o.name[0] + 4);
	free(b.p);
	free(snap);
}

static void test_bad_strings(void **state)
{
	(void)state;
	nsgsim_error err;
	offsets o;
	tsnap s = tiny();
	s.tags[1].name = "";
	expect_error(load_built(&s, &err, &o), &err, NSGSIM_E_SNAPSHOT, "/tags/1/name", "",
	             "the tag name is empty", "empty name");
	expect_offset(&err, o.name[1]);

	s = tiny();
	s.tags[1].name = NULL;
	expect_error(load_built(&s, &err, &o), &err, NSGSIM_E_SNAPSHOT, "/tags/1/name", "",
	             "expected a tag name, found null", "null name");
	s = tiny();
	s.source = NULL;
	expect_error(load_built(&s, &err, &o), &err, NSGSIM_E_SNAPSHOT, "/source", "", "found null",
	             "null source");
	s = tiny();
	s.tags[0].features[1] = NULL;
	expect_error(load_built(&s, &err, &o), &err, NSGSIM_E_SNAPSHOT, "/tags/0/networkFeatures/1",
	             "Alpha", "found null", "null feature");

	/* A NUL inside a string. */
	size_t len;
	s = tiny();
	unsigned char *snap = build(&s, &len, &o);
	bbuf b = {snap, len, len};
	b.p[o.region[0] + 4 + 3] = '\0';
	seal(&b, 1);
	expect_error(load_snapshot(b.p, b.len, &err), &err, NSGSIM_E_SNAPSHOT, "/tags/0/region",
	             "Alpha", "NUL byte", "NUL in region");
	free(snap);

	/* Null cloud and region are fine: the source had none. */
	s = tiny();
	s.cloud = NULL;
	s.tags[0].region = NULL;
	expect_ok(load_built(&s, &err, &o), &err, "null cloud and region");
}

static void test_duplicate_name(void **state)
{
	(void)state;
	nsgsim_error err;
	offsets o;
	tsnap s = tiny();
	s.tags[2].name = "ALPHA"; /* names compare case-insensitively, as in the JSON */
	expect_error(load_built(&s, &err, &o), &err, NSGSIM_E_DUPLICATE, "/tags/2/name", "ALPHA",
	             "service tag 'ALPHA' appears twice", "duplicate");
	expect_offset(&err, o.name[2]);
}

/* Ranges out of order, overlapping, touching, reversed. */
static void test_bad_ranges(void **state)
{
	(void)state;
	nsgsim_error err;
	offsets o;
	tsnap s = tiny();
	uint32_t t0 = s.tags[0].r4[0][0], t1 = s.tags[0].r4[0][1];
	s.tags[0].r4[0][0] = s.tags[0].r4[1][0];
	s.tags[0].r4[0][1] = s.tags[0].r4[1][1];
	s.tags[0].r4[1][0] = t0;
	s.tags[0].r4[1][1] = t1;
	expect_error(load_built(&s, &err, &o), &err, NSGSIM_E_SNAPSHOT, "/tags/0/ranges4/1",
	             "Alpha", "sorted, disjoint and not touching", "unsorted v4");
	expect_offset(&err, o.r4[0][1]);
	assert_non_null(strstr(err.message, "10.0.0.0-10.0.1.255"));

	s = tiny();
	s.tags[0].r4[1][0] = 0x0A000100u; /* overlaps 10.0.0.0-10.0.1.255 */
	expect_error(load_built(&s, &err, &o), &err, NSGSIM_E_SNAPSHOT, "/tags/0/ranges4/1",
	             "Alpha", "disjoint", "overlapping v4");

	s = tiny();
	s.tags[0].r4[1][0] = 0x0A000200u; /* touches: 10.0.1.255 + 1 */
	expect_error(load_built(&s, &err, &o), &err, NSGSIM_E_SNAPSHOT, "/tags/0/ranges4/1",
	             "Alpha", "not touching", "touching v4");

	s = tiny();
	s.tags[0].r4[0][1] = 0x09000000u; /* hi < lo */
	expect_error(load_built(&s, &err, &o), &err, NSGSIM_E_SNAPSHOT, "/tags/0/ranges4/0",
	             "Alpha", "ends before it starts", "reversed v4");
	expect_offset(&err, o.r4[0][0]);

	s = tiny();
	s.tags[0].r4[0][1] = 0xFFFFFFFFu; /* the first range ends at the top: no room after */
	s.tags[0].r4[0][0] = 0xFFFFFF00u;
	expect_error(load_built(&s, &err, &o), &err, NSGSIM_E_SNAPSHOT, "/tags/0/ranges4/1",
	             "Alpha", "255.255.255.255", "after the top");

	s = tiny();
	ns_u128 lo = s.tags[2].r6[0][0], hi = s.tags[2].r6[0][1];
	s.tags[2].r6[0][0] = s.tags[2].r6[1][0];
	s.tags[2].r6[0][1] = s.tags[2].r6[1][1];
	s.tags[2].r6[1][0] = lo;
	s.tags[2].r6[1][1] = hi;
	expect_error(load_built(&s, &err, &o), &err, NSGSIM_E_SNAPSHOT, "/tags/2/ranges6/1",
	             "Gamma", "sorted", "unsorted v6");
	expect_offset(&err, o.r6[2][1]);
	assert_non_null(strstr(err.message, "fd00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));

	s = tiny();
	s.tags[2].r6[1][0] = s.tags[2].r6[0][1] + 1; /* touching */
	expect_error(load_built(&s, &err, &o), &err, NSGSIM_E_SNAPSHOT, "/tags/2/ranges6/1",
	             "Gamma", "not touching", "touching v6");

	s = tiny();
	s.tags[2].r6[1][1] = s.tags[2].r6[1][0] - 1;
	expect_error(load_built(&s, &err, &o), &err, NSGSIM_E_SNAPSHOT, "/tags/2/ranges6/1",
	             "Gamma", "ends before it starts", "reversed v6");

	/* More ranges than prefixes: merging never makes that. */
	s = tiny();
	s.tags[0].prefixes = 2;
	expect_error(load_built(&s, &err, &o), &err, NSGSIM_E_SNAPSHOT, "/tags/0/ranges4", "Alpha",
	             "never makes more ranges than prefixes", "ranges > prefixes");
	expect_offset(&err, o.n4[0]);
}

/* NSGSIM_LIMIT_TOTAL_PREFIXES counts the prefixes the source listed, as the
 * JSON path counts them; NSGSIM_LIMIT_FILE_BYTES the snapshot's bytes. */
static void test_limits(void **state)
{
	(void)state;
	size_t len, json_len;
	unsigned char *snap = snapshot_of_file(TRIMMED, &len);
	char *json = test_read_file(TRIMMED, &json_len);
	const uint64_t total = 22113; /* fixtures/service_tags/README.md */
	for (int k = 0; k < 2; k++) {
		const void *data = k ? (const void *)snap : json;
		size_t n = k ? len : json_len;
		nsgsim_error err = {0};
		nsgsim_loader *l = nsgsim_loader_new();
		nsgsim_loader_set_limit(l, NSGSIM_LIMIT_TOTAL_PREFIXES, total);
		expect_ok(nsgsim_loader_add_service_tags_buffer(l, "t", data, n, &err), &err,
		          "at the limit");
		nsgsim_loader_free(l);
		l = nsgsim_loader_new();
		nsgsim_loader_set_limit(l, NSGSIM_LIMIT_TOTAL_PREFIXES, total - 1);
		expect_error(nsgsim_loader_add_service_tags_buffer(l, "t", data, n, &err), &err,
		             NSGSIM_E_LIMIT, NULL, "AzureCloud", "NSGSIM_LIMIT_TOTAL_PREFIXES",
		             "one under the limit");
		if (k) {
			assert_string_equal(err.pointer, "/tags/15/prefixes");
			assert_true(strncmp(err.message, "at byte offset ", 15) == 0);
		}
		nsgsim_loader_free(l);
	}
	/* A prefix count near 2^64 cannot wrap the total. */
	tsnap s = tiny();
	s.tags[1].prefixes = UINT64_MAX;
	nsgsim_error err;
	offsets o;
	expect_error(load_built(&s, &err, &o), &err, NSGSIM_E_LIMIT, "/tags/1/prefixes", "Beta",
	             "NSGSIM_LIMIT_TOTAL_PREFIXES", "2^64 prefixes");
	expect_offset(&err, o.prefixes[1]);

	nsgsim_loader *l = nsgsim_loader_new();
	nsgsim_loader_set_limit(l, NSGSIM_LIMIT_FILE_BYTES, 1000);
	expect_error(
	        nsgsim_loader_add_service_tags_buffer(l, "big.nst", (const char *)snap, len, &err),
	        &err, NSGSIM_E_LIMIT, "", "", "NSGSIM_LIMIT_FILE_BYTES", "file bytes");
	nsgsim_loader_free(l);
	nsgsim_free(snap);
	free(json);
}

/* A damaged snapshot leaves the loader without tags, and counts nothing:
 * a good one loads after it. */
static void test_failure_leaves_loader_as_before(void **state)
{
	(void)state;
	tsnap s = tiny();
	s.tags[2].name = "alpha";
	size_t len, good_len;
	unsigned char *bad = build(&s, &len, NULL);
	s = tiny();
	unsigned char *good = build(&s, &good_len, NULL);
	nsgsim_loader *l = nsgsim_loader_new();
	nsgsim_loader_set_limit(l, NSGSIM_LIMIT_TOTAL_PREFIXES, 7);
	nsgsim_error err;
	nsgsim_tags_info info;
	assert_int_equal(
	        nsgsim_loader_add_service_tags_buffer(l, "bad.nst", (const char *)bad, len, &err),
	        NSGSIM_E_DUPLICATE);
	assert_int_equal(nsgsim_loader_service_tags_info(l, &info), NSGSIM_E_INVALID_ARG);
	assert_int_equal(ns_loader_model(l)->n_prefixes, 0);
	expect_ok(nsgsim_loader_add_service_tags_buffer(l, "good.nst", (const char *)good, good_len,
	                                                &err),
	          &err, "good after bad");
	assert_int_equal(nsgsim_loader_service_tags_info(l, &info), 0);
	assert_int_equal(info.tags, 3);
	assert_string_equal(info.file, "good.nst");
	assert_int_equal(info.snapshot, 1);
	/* A second source is refused, snapshot or not. */
	expect_error(nsgsim_loader_add_service_tags_buffer(l, "again.nst", (const char *)good,
	                                                   good_len, &err),
	             &err, NSGSIM_E_INVALID_ARG, NULL, NULL, "already loaded from good.nst",
	             "second source");
	nsgsim_loader_free(l);
	free(bad);
	free(good);
}

/* From a file, as the CLI loads it. */
static void test_file(void **state)
{
	(void)state;
	size_t len;
	unsigned char *snap = snapshot_of_file(TRIMMED, &len);
	char path[] = "/tmp/nsgsim-test-snapshot-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(snap, 1, len, f), len);
	fclose(f);
	nsgsim_loader *l = nsgsim_loader_new();
	nsgsim_error err = {0};
	expect_ok(nsgsim_loader_add_service_tags(l, path, &err), &err, path);
	nsgsim_tags_info info;
	assert_int_equal(nsgsim_loader_service_tags_info(l, &info), 0);
	assert_int_equal(info.tags, 16);
	assert_string_equal(info.file, path);
	assert_string_equal(info.source, "ServiceTags_Public_20251109_trimmed.json");
	assert_true(info.change_number == 376);
	nsgsim_loader_free(l);
	remove(path);
	nsgsim_free(snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_crc32),
	        cmocka_unit_test(test_format_is_as_documented),
	        cmocka_unit_test(test_round_trip_fixtures),
	        cmocka_unit_test(test_round_trip_shared_downloads),
	        cmocka_unit_test(test_info),
	        cmocka_unit_test(test_snapshot_after_compile),
	        cmocka_unit_test(test_deterministic),
	        cmocka_unit_test(test_same_answers),
	        cmocka_unit_test(test_truncated_everywhere),
	        cmocka_unit_test(test_truncated_fixture),
	        cmocka_unit_test(test_bad_magic_is_json),
	        cmocka_unit_test(test_wrong_version),
	        cmocka_unit_test(test_bad_checksum),
	        cmocka_unit_test(test_lengths_past_the_end),
	        cmocka_unit_test(test_bad_strings),
	        cmocka_unit_test(test_duplicate_name),
	        cmocka_unit_test(test_bad_ranges),
	        cmocka_unit_test(test_limits),
	        cmocka_unit_test(test_failure_leaves_loader_as_before),
	        cmocka_unit_test(test_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
