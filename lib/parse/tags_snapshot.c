/* Service-tags snapshots: a loaded service-tags set in a versioned,
 * little-endian binary form that loads in a few milliseconds, where
 * Microsoft's 4 MB JSON download takes tens (cJSON, then 95,000 prefixes
 * parsed one by one).  Reading one fills exactly the ns_model tag state that
 * lib/parse/load_tags.c fills from the JSON (tags, tag_index, cloud, changeNumber,
 * the prefix count against NSGSIM_LIMIT_TOTAL_PREFIXES), so every later
 * stage is unchanged.  No cJSON or libcidr here.
 *
 * Format version 1.  Integers are little-endian; nothing is padded or
 * aligned.
 *
 *   header, 24 bytes
 *     0   magic           "NSGSIMT\0"
 *     8   u32 version     NS_SNAPSHOT_VERSION; another one: rebuild the snapshot
 *     12  u32 checksum    CRC-32 of the payload
 *     16  u64 length      of the payload, which is the rest of the file exactly
 *   payload
 *     str source          the base name of the JSON file the tags were read from
 *     str cloud           the top-level "cloud"; null when the source has none
 *     i64 changeNumber    -1 when the source has none
 *     u32 tag count
 *     then per tag, in the source's order:
 *       str name          not empty; unique, compared case-insensitively
 *       str region        null when the source has none
 *       u32 feature count, then each networkFeatures entry as a str (not null)
 *       u64 prefix count  the addressPrefixes listed in the source: what the
 *                         JSON path counts against NSGSIM_LIMIT_TOTAL_PREFIXES
 *       u32 n4, u32 n6    merged ranges per family; n4 + n6 <= prefix count
 *       n4 x (u32 lo, u32 hi)      IPv4 ranges
 *       n6 x (u128 lo, u128 hi)    IPv6 ranges, 16 bytes each
 *       each family's ranges as ns_pset keeps them (lib/base/prefixset.h): lo <= hi,
 *       sorted, neither overlapping nor touching (hi + 1 < the next lo)
 *   str: a u32 byte count (0xFFFFFFFF: null), then the bytes, no NUL among them
 *
 * The checksum is CRC-32 with the IEEE polynomial (zlib's crc32, as gzip and
 * PNG use; `zlib.crc32` in Python checks one).  It is there for accidental
 * damage -- a copy cut short, flipped bits -- and CRC-32 guarantees to catch
 * every burst of damaged bits up to 32 long and any one or two flipped bits
 * in files of this size, which FNV-1a does not promise; sliced by 8 it costs
 * about a cycle a byte (under a millisecond for the full download's
 * snapshot).  It is no defence against a crafted file, and needs to be none:
 * the reader checks every length, count, limit and invariant itself.
 *
 * Every accepted snapshot is exactly what the writer makes of the tags it
 * holds (nothing is optional, padded or reorderable), so reading a snapshot
 * and writing it back gives the same bytes; fuzz/fuzz_snapshot.c checks it. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/parse.h"

#define NULL_STR 0xFFFFFFFFu
/* The smallest tag: a 1-byte name, a null region, no features, the prefix
 * count and both range counts. */
#define MIN_TAG_BYTES (4 + 1 + 4 + 4 + 8 + 4 + 4)

/* ---- CRC-32 ---------------------------------------------------------------- */

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static ns_u128 le128(const unsigned char *p)
{
	return (ns_u128)le64(p) | (ns_u128)le64(p + 8) << 64;
}

/* Slicing-by-8.  The 8 KB of tables are built on the stack at each call
 * (about 4,000 operations): the library keeps no global state. */
uint32_t ns_crc32(uint32_t crc, const void *data, size_t len)
{
	uint32_t t[8][256];
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		t[0][i] = c;
	}
	for (int s = 1; s < 8; s++)
		for (int i = 0; i < 256; i++)
			t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
	const unsigned char *p = data;
	crc = ~crc;
	for (; len >= 8; p += 8, len -= 8) {
		uint32_t a = crc ^ le32(p), b = le32(p + 4);
		crc = t[7][a & 0xFF] ^ t[6][(a >> 8) & 0xFF] ^ t[5][(a >> 16) & 0xFF] ^
		      t[4][a >> 24] ^ t[3][b & 0xFF] ^ t[2][(b >> 8) & 0xFF] ^
		      t[1][(b >> 16) & 0xFF] ^ t[0][b >> 24];
	}
	for (; len > 0; p++, len--)
		crc = t[0][(crc ^ *p) & 0xFF] ^ (crc >> 8);
	return ~crc;
}

bool ns_tags_snapshot_detect(const void *data, size_t len)
{
	size_t n = len < NS_SNAPSHOT_MAGIC_LEN ? len : NS_SNAPSHOT_MAGIC_LEN;
	return data && n > 0 && memcmp(data, NS_SNAPSHOT_MAGIC, n) == 0;
}

/* ---- reading ------------------------------------------------------------------- */

#define NO_TAG SIZE_MAX
#define NO_SUB SIZE_MAX

typedef struct reader {
	ns_model *m;
	const char *file;
	nsgsim_error *err;
	const unsigned char *data;
	size_t len, pos;
	const char *resource; /* the tag being read, for errors */
	/* Where in the snapshot, made into a pointer (/tags/17/ranges4/3) only
	 * for an error: a full download has 3,000 tags. */
	size_t tag, sub;
	const char *field;
} reader;

static void where(reader *r, size_t tag, const char *field, size_t sub)
{
	r->tag = tag;
	r->field = field;
	r->sub = sub;
}

static void format_ptr(const reader *r, char *buf, size_t cap)
{
	if (r->tag == NO_TAG)
		snprintf(buf, cap, "/%s", r->field);
	else if (!r->field)
		snprintf(buf, cap, "/tags/%zu", r->tag);
	else if (r->sub == NO_SUB)
		snprintf(buf, cap, "/tags/%zu/%s", r->tag, r->field);
	else
		snprintf(buf, cap, "/tags/%zu/%s/%zu", r->tag, r->field, r->sub);
}

/* Fails with code at the reader's place; the message starts with the byte
 * offset. */
static int rfail(reader *r, int code, size_t at, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int rfail(reader *r, int code, size_t at, const char *fmt, ...)
{
	char msg[400], ptr[96];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	format_ptr(r, ptr, sizeof ptr);
	return ns_fail(r->err, code, r->file, ptr, r->resource, "at byte offset %zu: %s", at, msg);
}

static int nomem(reader *r)
{
	char ptr[96];
	format_ptr(r, ptr, sizeof ptr);
	return ns_fail(r->err, NSGSIM_E_NOMEM, r->file, ptr, r->resource, "out of memory");
}

/* The next n bytes must be there. */
static int need(reader *r, uint64_t n, const char *what)
{
	if (n <= r->len - r->pos)
		return 0;
	return rfail(r, NSGSIM_E_SNAPSHOT, r->pos,
	             "expected %s (%llu bytes) but %zu bytes are left: the snapshot is corrupt",
	             what, (unsigned long long)n, r->len - r->pos);
}

static int read_u32(reader *r, const char *what, uint32_t *out)
{
	int rc = need(r, 4, what);
	if (rc == 0) {
		*out = le32(r->data + r->pos);
		r->pos += 4;
	}
	return rc;
}

static int read_u64(reader *r, const char *what, uint64_t *out)
{
	int rc = need(r, 8, what);
	if (rc == 0) {
		*out = le64(r->data + r->pos);
		r->pos += 8;
	}
	return rc;
}

/* A str into the model's arena; NULL for null when nullable. */
static int read_str(reader *r, const char *what, bool nullable, const char **out)
{
	size_t at = r->pos;
	uint32_t n;
	int rc = read_u32(r, what, &n);
	if (rc != 0)
		return rc;
	*out = NULL;
	if (n == NULL_STR) {
		if (nullable)
			return 0;
		return rfail(r, NSGSIM_E_SNAPSHOT, at, "expected %s, found null", what);
	}
	if ((rc = need(r, n, what)) != 0)
		return rc;
	const char *s = (const char *)r->data + r->pos;
	if (memchr(s, '\0', n))
		return rfail(r, NSGSIM_E_SNAPSHOT, at, "%s holds a NUL byte", what);
	if (!(*out = ns_arena_strndup(&r->m->arena, s, n)))
		return nomem(r);
	r->pos += n;
	return 0;
}

static void format_range(char *buf, size_t cap, int family, ns_u128 lo, ns_u128 hi)
{
	char a[64], b[64];
	ns_format_prefix(a, sizeof a, family, lo, -1);
	ns_format_prefix(b, sizeof b, family, hi, -1);
	snprintf(buf, cap, "%s-%s", a, b);
}

/* Range k of a family, decoded: lo <= hi and after range k-1 with a gap. */
static int check_range(reader *r, size_t tag, int family, size_t k, ns_u128 lo, ns_u128 hi,
                       ns_u128 prev_hi, ns_u128 max)
{
	if (lo <= hi && (k == 0 || (prev_hi < max && lo > prev_hi + 1)))
		return 0;
	char this[140], prev[64];
	format_range(this, sizeof this, family, lo, hi);
	where(r, tag, family == 4 ? "ranges4" : "ranges6", k);
	if (lo > hi)
		return rfail(r, NSGSIM_E_SNAPSHOT, r->pos, "range %s ends before it starts", this);
	ns_format_prefix(prev, sizeof prev, family, prev_hi, -1);
	return rfail(r, NSGSIM_E_SNAPSHOT, r->pos,
	             "range %s does not start after the previous one's end (%s) plus one: "
	             "ranges must be sorted, disjoint and not touching",
	             this, prev);
}

static int read_ranges4(reader *r, size_t tag, uint32_t n, ns_pset *s)
{
	where(r, tag, "ranges4", NO_SUB);
	int rc = need(r, (uint64_t)n * 8, "the tag's IPv4 ranges");
	if (rc != 0 || n == 0)
		return rc;
	if (!(s->v4 = malloc((size_t)n * sizeof *s->v4)))
		return nomem(r);
	uint32_t prev = 0;
	for (size_t k = 0; k < n; k++) {
		uint32_t lo = le32(r->data + r->pos), hi = le32(r->data + r->pos + 4);
		if ((rc = check_range(r, tag, 4, k, lo, hi, prev, UINT32_MAX)) != 0)
			return rc;
		s->v4[k] = (ns_range4){lo, hi};
		s->n4 = k + 1;
		prev = hi;
		r->pos += 8;
	}
	return 0;
}

static int read_ranges6(reader *r, size_t tag, uint32_t n, ns_pset *s)
{
	where(r, tag, "ranges6", NO_SUB);
	int rc = need(r, (uint64_t)n * 32, "the tag's IPv6 ranges");
	if (rc != 0 || n == 0)
		return rc;
	if (!(s->v6 = malloc((size_t)n * sizeof *s->v6)))
		return nomem(r);
	ns_u128 prev = 0;
	for (size_t k = 0; k < n; k++) {
		ns_u128 lo = le128(r->data + r->pos), hi = le128(r->data + r->pos + 16);
		if ((rc = check_range(r, tag, 6, k, lo, hi, prev, ~(ns_u128)0)) != 0)
			return rc;
		s->v6[k] = (ns_range6){lo, hi};
		s->n6 = k + 1;
		prev = hi;
		r->pos += 32;
	}
	return 0;
}

static int read_features(reader *r, size_t tag, ns_tag *t)
{
	where(r, tag, "networkFeatures", NO_SUB);
	size_t at = r->pos;
	uint32_t n;
	int rc = read_u32(r, "the networkFeatures count", &n);
	if (rc != 0 || n == 0)
		return rc;
	if (n > (r->len - r->pos) / 4)
		return rfail(r, NSGSIM_E_SNAPSHOT, at,
		             "%u networkFeatures need at least %llu bytes but %zu are left", n,
		             (unsigned long long)n * 4, r->len - r->pos);
	const char **f = ns_arena_alloc(&r->m->arena, ((size_t)n + 1) * sizeof *f);
	if (!f)
		return nomem(r);
	for (size_t k = 0; k < n; k++) {
		where(r, tag, "networkFeatures", k);
		if ((rc = read_str(r, "a networkFeatures entry", false, &f[k])) != 0)
			return rc;
	}
	t->features = f;
	t->n_features = n;
	return 0;
}

/* The prefix count, counted against NSGSIM_LIMIT_TOTAL_PREFIXES as the JSON
 * path counts a tag's addressPrefixes. */
static int read_prefix_count(reader *r, size_t tag, ns_tag *t)
{
	where(r, tag, "prefixes", NO_SUB);
	size_t at = r->pos;
	uint64_t n;
	int rc = read_u64(r, "the prefix count", &n);
	if (rc != 0)
		return rc;
	uint64_t limit = r->m->limits[NSGSIM_LIMIT_TOTAL_PREFIXES];
	if (n > limit || r->m->n_prefixes > limit - n || (uint64_t)(size_t)n != n)
		return rfail(r, NSGSIM_E_LIMIT, at,
		             "%llu more prefixes make more than %llu addresses in all "
		             "(NSGSIM_LIMIT_TOTAL_PREFIXES)",
		             (unsigned long long)n, (unsigned long long)limit);
	ns_model_count_prefixes(r->m, (size_t)n);
	t->n_prefixes = (size_t)n;
	return 0;
}

static int read_tag(reader *r, size_t tag)
{
	ns_tag t = {0};
	r->resource = NULL;
	where(r, tag, "name", NO_SUB);
	size_t name_at = r->pos, at;
	int rc = read_str(r, "a tag name", false, &t.name);
	if (rc != 0)
		return rc;
	if (!t.name[0])
		return rfail(r, NSGSIM_E_SNAPSHOT, name_at,
		             "the tag name is empty: every tag has a name");
	r->resource = t.name;
	where(r, tag, "region", NO_SUB);
	if ((rc = read_str(r, "the region", true, &t.region)) != 0 ||
	    (rc = read_features(r, tag, &t)) != 0 || (rc = read_prefix_count(r, tag, &t)) != 0)
		return rc;
	uint32_t n4, n6;
	where(r, tag, "ranges4", NO_SUB);
	at = r->pos;
	if ((rc = read_u32(r, "the IPv4 range count", &n4)) != 0)
		return rc;
	where(r, tag, "ranges6", NO_SUB);
	if ((rc = read_u32(r, "the IPv6 range count", &n6)) != 0)
		return rc;
	if ((uint64_t)n4 + n6 > t.n_prefixes) {
		where(r, tag, "ranges4", NO_SUB);
		return rfail(r, NSGSIM_E_SNAPSHOT, at,
		             "%u IPv4 and %u IPv6 ranges from %zu prefixes: merging prefixes "
		             "never makes more ranges than prefixes",
		             n4, n6, t.n_prefixes);
	}
	if ((rc = read_ranges4(r, tag, n4, &t.set)) != 0 ||
	    (rc = read_ranges6(r, tag, n6, &t.set)) != 0)
		goto fail;
	where(r, tag, "name", NO_SUB);
	if (ns_map_get(&r->m->tag_index, t.name)) {
		rc = rfail(r, NSGSIM_E_DUPLICATE, name_at, "service tag '%s' appears twice",
		           t.name);
		goto fail;
	}
	ns_tag *slot = ns_vec_push(&r->m->tags); /* reserved: does not move */
	if (!slot) {
		rc = nomem(r);
		goto fail;
	}
	if (ns_map_put(&r->m->tag_index, t.name, slot) != 0) {
		r->m->tags.n--;
		rc = nomem(r);
		goto fail;
	}
	*slot = t;
	return 0;
fail:
	ns_pset_free(&t.set);
	return rc;
}

/* The header, then the payload; fills m's tags.  On failure the caller
 * (lib/parse/loader.c) drops what was read. */
static int snapshot_read(ns_model *m, const char *name, const void *data, size_t len,
                         bool check_crc, nsgsim_error *err)
{
	reader r = {.m = m, .file = name, .err = err, .data = data, .len = len};
	uint64_t max = m->limits[NSGSIM_LIMIT_FILE_BYTES];
	if (len > max)
		return ns_fail(
		        err, NSGSIM_E_LIMIT, name, "", "",
		        "the input has %zu bytes; the limit is %llu (NSGSIM_LIMIT_FILE_BYTES)", len,
		        (unsigned long long)max);
	where(&r, NO_TAG, "header/magic", NO_SUB);
	if (len < NS_SNAPSHOT_MAGIC_LEN || !ns_tags_snapshot_detect(data, len))
		return rfail(&r, NSGSIM_E_SNAPSHOT, len,
		             "the file ends inside the magic bytes of a service-tags snapshot "
		             "header (%d bytes): the snapshot is truncated",
		             NS_SNAPSHOT_MAGIC_LEN);
	where(&r, NO_TAG, "header/version", NO_SUB);
	if (len < 12)
		return rfail(&r, NSGSIM_E_SNAPSHOT, len,
		             "the file ends inside the snapshot header (%d bytes): the snapshot "
		             "is truncated",
		             NS_SNAPSHOT_HEADER_SIZE);
	uint32_t version = le32(r.data + 8);
	if (version != NS_SNAPSHOT_VERSION)
		return rfail(&r, NSGSIM_E_SNAPSHOT_VERSION, 8,
		             "the snapshot has format version %u; this nsgsim (%s) reads version "
		             "%u: rebuild the snapshot with `nsgsim snapshot-tags` from the "
		             "service-tags JSON",
		             version, NSGSIM_VERSION_STRING, NS_SNAPSHOT_VERSION);
	if (len < NS_SNAPSHOT_HEADER_SIZE) {
		where(&r, NO_TAG, "header", NO_SUB);
		return rfail(&r, NSGSIM_E_SNAPSHOT, len,
		             "the file ends inside the snapshot header (%d bytes): the snapshot "
		             "is truncated",
		             NS_SNAPSHOT_HEADER_SIZE);
	}
	uint64_t payload = le64(r.data + 16);
	size_t have = len - NS_SNAPSHOT_HEADER_SIZE;
	if (payload != have) {
		where(&r, NO_TAG, "header/length", NO_SUB);
		return rfail(&r, NSGSIM_E_SNAPSHOT, 16,
		             "the header gives %llu bytes of payload but the file has %zu after "
		             "the header: the snapshot is %s",
		             (unsigned long long)payload, have,
		             payload > have ? "truncated" : "followed by other bytes");
	}
	uint32_t want = le32(r.data + 12);
	uint32_t got = check_crc ? ns_crc32(0, r.data + NS_SNAPSHOT_HEADER_SIZE, have) : want;
	if (got != want) {
		where(&r, NO_TAG, "header/checksum", NO_SUB);
		return rfail(&r, NSGSIM_E_SNAPSHOT, 12,
		             "the payload's CRC-32 is 0x%08x but the header says 0x%08x: the "
		             "snapshot is damaged; rebuild it with `nsgsim snapshot-tags`",
		             got, want);
	}
	r.pos = NS_SNAPSHOT_HEADER_SIZE;

	int rc;
	uint64_t change;
	where(&r, NO_TAG, "source", NO_SUB);
	if ((rc = read_str(&r, "the source file name", false, &m->tags_source)) != 0)
		return rc;
	where(&r, NO_TAG, "cloud", NO_SUB);
	if ((rc = read_str(&r, "the cloud", true, &m->tags_cloud)) != 0)
		return rc;
	where(&r, NO_TAG, "changeNumber", NO_SUB);
	if ((rc = read_u64(&r, "the changeNumber", &change)) != 0)
		return rc;
	/* Any value: the REST list's string changeNumber may be negative. */
	m->tags_change_number = (long long)(int64_t)change;
	where(&r, NO_TAG, "tags", NO_SUB);
	size_t at = r.pos;
	uint32_t n;
	if ((rc = read_u32(&r, "the tag count", &n)) != 0)
		return rc;
	if (n > (len - r.pos) / MIN_TAG_BYTES)
		return rfail(&r, NSGSIM_E_SNAPSHOT, at,
		             "%u tags need at least %llu bytes but %zu are left", n,
		             (unsigned long long)n * MIN_TAG_BYTES, len - r.pos);
	/* Room for every tag at once: the index can point at them as they are
	 * read (n is bounded by the bytes left). */
	if (n > m->tags.cap) {
		void *d = realloc(m->tags.data, (size_t)n * sizeof(ns_tag));
		if (!d)
			return nomem(&r);
		m->tags.data = d;
		m->tags.cap = n;
	}
	for (size_t i = 0; i < n; i++)
		if ((rc = read_tag(&r, i)) != 0)
			return rc;
	r.resource = NULL;
	if (r.pos != len) {
		where(&r, n, NULL, NO_SUB);
		return rfail(&r, NSGSIM_E_SNAPSHOT, r.pos,
		             "%zu bytes follow the last of the %u tags the snapshot announces",
		             len - r.pos, n);
	}
	return 0;
}

int ns_tags_snapshot_read(ns_model *m, const char *name, const void *data, size_t len,
                          nsgsim_error *err)
{
	return snapshot_read(m, name, data, len, true, err);
}

int ns_tags_snapshot_read_embedded(ns_model *m, const char *name, const void *data, size_t len,
                                   nsgsim_error *err)
{
	return snapshot_read(m, name, data, len, false, err);
}

/* ---- writing ---------------------------------------------------------------------- */

typedef struct writer {
	unsigned char *p;
	size_t pos;
} writer;

static void put32(writer *w, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		w->p[w->pos++] = (unsigned char)(v >> (8 * i));
}

static void put64(writer *w, uint64_t v)
{
	put32(w, (uint32_t)v);
	put32(w, (uint32_t)(v >> 32));
}

static void put128(writer *w, ns_u128 v)
{
	put64(w, (uint64_t)v);
	put64(w, (uint64_t)(v >> 64));
}

static void put_str(writer *w, const char *s)
{
	if (!s) {
		put32(w, NULL_STR);
		return;
	}
	size_t n = strlen(s);
	put32(w, (uint32_t)n);
	memcpy(w->p + w->pos, s, n);
	w->pos += n;
}

/* What a str takes; 0 when it cannot be one (4 GiB or more). */
static size_t str_size(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return n < NULL_STR ? 4 + n : 0;
}

static const char *base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;
	return slash ? slash + 1 : path ? path : "";
}

/* The exact size of m's snapshot, or 0 when a count does not fit its field. */
static size_t snapshot_size(const ns_model *m, const char *source)
{
	size_t size = NS_SNAPSHOT_HEADER_SIZE + 8 + 4, k;
	if (m->tags.n > UINT32_MAX || !(k = str_size(source)))
		return 0;
	size += k;
	if (!(k = str_size(m->tags_cloud)))
		return 0;
	size += k;
	for (size_t i = 0; i < m->tags.n; i++) {
		const ns_tag *t = NS_VEC_AT(&m->tags, ns_tag, i);
		if (t->set.n4 > UINT32_MAX || t->set.n6 > UINT32_MAX || t->n_features > UINT32_MAX)
			return 0;
		if (!(k = str_size(t->name)))
			return 0;
		size += k;
		if (!(k = str_size(t->region)))
			return 0;
		size += k + 4 + 8 + 4 + 4 + t->set.n4 * 8 + t->set.n6 * 32;
		for (size_t f = 0; f < t->n_features; f++) {
			if (!(k = str_size(t->features[f])))
				return 0;
			size += k;
		}
	}
	return size;
}

int ns_tags_snapshot_write(const ns_model *m, void **buf, size_t *len, nsgsim_error *err)
{
	*buf = NULL;
	*len = 0;
	if (!m->has_tags)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "",
		               "no service tags were loaded: load a service-tags file first");
	const char *source = m->tags_source ? m->tags_source : base_name(m->tags_file);
	size_t size = snapshot_size(m, source);
	if (size == 0)
		return ns_fail(err, NSGSIM_E_LIMIT, m->tags_file, "", "",
		               "the service tags are too large for a snapshot (a count or a "
		               "string of 2^32 or more)");
	writer w = {malloc(size), NS_SNAPSHOT_HEADER_SIZE};
	if (!w.p)
		return ns_fail(err, NSGSIM_E_NOMEM, m->tags_file, "", "", "out of memory");
	put_str(&w, source);
	put_str(&w, m->tags_cloud);
	put64(&w, (uint64_t)(int64_t)m->tags_change_number);
	put32(&w, (uint32_t)m->tags.n);
	for (size_t i = 0; i < m->tags.n; i++) {
		const ns_tag *t = NS_VEC_AT(&m->tags, ns_tag, i);
		put_str(&w, t->name);
		put_str(&w, t->region);
		put32(&w, (uint32_t)t->n_features);
		for (size_t f = 0; f < t->n_features; f++)
			put_str(&w, t->features[f]);
		put64(&w, (uint64_t)t->n_prefixes);
		put32(&w, (uint32_t)t->set.n4);
		put32(&w, (uint32_t)t->set.n6);
		for (size_t k = 0; k < t->set.n4; k++) {
			put32(&w, t->set.v4[k].lo);
			put32(&w, t->set.v4[k].hi);
		}
		for (size_t k = 0; k < t->set.n6; k++) {
			put128(&w, t->set.v6[k].lo);
			put128(&w, t->set.v6[k].hi);
		}
	}
	if (w.pos != size) {
		free(w.p);
		return ns_fail(err, NSGSIM_E_INTERNAL, m->tags_file, "", "",
		               "snapshot size %zu, wrote %zu", size, w.pos);
	}
	size_t payload = size - NS_SNAPSHOT_HEADER_SIZE;
	w.pos = 0;
	memcpy(w.p, NS_SNAPSHOT_MAGIC, NS_SNAPSHOT_MAGIC_LEN); /* with its NUL */
	w.pos = NS_SNAPSHOT_MAGIC_LEN;
	put32(&w, NS_SNAPSHOT_VERSION);
	put32(&w, ns_crc32(0, w.p + NS_SNAPSHOT_HEADER_SIZE, payload));
	put64(&w, payload);
	*buf = w.p;
	*len = size;
	return 0;
}
