/* Compiled policy files: the primitives both sides share (lib/compile/nsgp.h).
 *
 * May touch: lib/base, the model. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile/nsgp.h"

/* ---- the checksum ------------------------------------------------------------- */

/* CRC-32C (Castagnoli, reflected 0x82F63B78; iSCSI's, ext4's): the x86-64
 * SSE4.2 crc32 instruction when the CPU has it, eight bytes a step, else
 * slice-by-8 tables built on the stack (no globals).  Both give the same
 * value; tests/test_nsgp.c checks the standard check value and that the two
 * agree. */
static uint32_t crc32c_soft(uint32_t crc, const unsigned char *p, size_t len)
{
	uint32_t t[8][256];
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0x82F63B78u ^ (c >> 1) : c >> 1;
		t[0][i] = c;
	}
	for (int s = 1; s < 8; s++)
		for (int i = 0; i < 256; i++)
			t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
	for (; len >= 8; p += 8, len -= 8) {
		uint32_t a = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		                    (uint32_t)p[3] << 24);
		uint32_t b = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
		             (uint32_t)p[7] << 24;
		crc = t[7][a & 0xFF] ^ t[6][(a >> 8) & 0xFF] ^ t[5][(a >> 16) & 0xFF] ^
		      t[4][a >> 24] ^ t[3][b & 0xFF] ^ t[2][(b >> 8) & 0xFF] ^
		      t[1][(b >> 16) & 0xFF] ^ t[0][b >> 24];
	}
	for (; len > 0; p++, len--)
		crc = t[0][(crc ^ *p) & 0xFF] ^ (crc >> 8);
	return crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define NS_CRC32C_HW 1
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const unsigned char *p,
                                                            size_t len)
{
	uint64_t c = crc;
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t w;
		memcpy(&w, p, 8); /* little-endian: x86-64 */
		c = __builtin_ia32_crc32di(c, w);
	}
	uint32_t c32 = (uint32_t)c;
	for (; len > 0; p++, len--)
		c32 = __builtin_ia32_crc32qi(c32, *p);
	return c32;
}
#endif

/* a(x) * b(x) modulo the CRC-32C polynomial, reflected (zlib's multmodp). */
static uint32_t multmodp(uint32_t a, uint32_t b)
{
	uint32_t m = 1u << 31, p = 0;
	for (;;) {
		if (a & m) {
			p ^= b;
			if ((a & (m - 1)) == 0)
				break;
		}
		m >>= 1;
		b = b & 1 ? (b >> 1) ^ 0x82F63B78u : b >> 1;
	}
	return p;
}

/* The CRC-32C of A then B from crc(A), crc(B) and B's length (zlib's
 * crc32_combine): crc(A) times x^(8 len) mod P, plus crc(B). */
static uint32_t crc32c_combine(uint32_t crc_a, uint32_t crc_b, size_t len_b)
{
	uint32_t sq = 1u << 30; /* x^1, then x^2, x^4, ... by squaring */
	uint32_t p = 1u << 31;  /* x^0 */
	uint64_t n = (uint64_t)len_b * 8;
	for (; n; n >>= 1) {
		if (n & 1)
			p = multmodp(sq, p);
		sq = multmodp(sq, sq);
	}
	return multmodp(p, crc_a) ^ crc_b;
}

uint32_t ns_nsgp_crc32c_sw(uint32_t crc, const void *data, size_t len)
{
	return ~crc32c_soft(~crc, data, len);
}

#ifdef NS_CRC32C_HW
/* Three streams at once (the instruction's latency is three times its
 * throughput), thirds of the first 3 * third bytes, combined, then the
 * rest as one stream. */
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw3(uint32_t crc, const unsigned char *p,
                                                             size_t len)
{
	size_t third = len / 3 / 8 * 8;
	const unsigned char *pa = p, *pb = p + third, *pc = p + 2 * third;
	uint64_t a = (uint32_t)~crc, b = 0xFFFFFFFFu, c = 0xFFFFFFFFu;
	for (size_t i = 0; i < third; i += 8) {
		uint64_t wa, wb, wc;
		memcpy(&wa, pa + i, 8);
		memcpy(&wb, pb + i, 8);
		memcpy(&wc, pc + i, 8);
		a = __builtin_ia32_crc32di(a, wa);
		b = __builtin_ia32_crc32di(b, wb);
		c = __builtin_ia32_crc32di(c, wc);
	}
	uint32_t v = crc32c_combine(~(uint32_t)a, ~(uint32_t)b, third);
	v = crc32c_combine(v, ~(uint32_t)c, third);
	return ~crc32c_hw(~v, p + 3 * third, len - 3 * third);
}
#endif

uint32_t ns_nsgp_crc32c(uint32_t crc, const void *data, size_t len)
{
#ifdef NS_CRC32C_HW
	if (__builtin_cpu_supports("sse4.2"))
		return len >= 3 * 4096 ? crc32c_hw3(crc, data, len) : ~crc32c_hw(~crc, data, len);
#endif
	return ns_nsgp_crc32c_sw(crc, data, len);
}

/* ---- writing ------------------------------------------------------------------ */

void ns_nsgp_u8(ns_nsgp_wr *w, unsigned v)
{
	char c = (char)(unsigned char)v;
	ns_buf_put(&w->b, &c, 1);
}

void ns_nsgp_u32(ns_nsgp_wr *w, uint32_t v)
{
	char c[4];
	for (int i = 0; i < 4; i++)
		c[i] = (char)(unsigned char)(v >> (8 * i));
	ns_buf_put(&w->b, c, 4);
}

void ns_nsgp_u64(ns_nsgp_wr *w, uint64_t v)
{
	ns_nsgp_u32(w, (uint32_t)v);
	ns_nsgp_u32(w, (uint32_t)(v >> 32));
}

void ns_nsgp_u128(ns_nsgp_wr *w, ns_u128 v)
{
	ns_nsgp_u64(w, (uint64_t)v);
	ns_nsgp_u64(w, (uint64_t)(v >> 64));
}

void ns_nsgp_i32(ns_nsgp_wr *w, int v)
{
	ns_nsgp_u32(w, (uint32_t)v);
}

void ns_nsgp_count(ns_nsgp_wr *w, size_t n)
{
	if (n >= UINT32_MAX)
		w->too_big = true;
	ns_nsgp_u32(w, (uint32_t)n);
}

static uint64_t hash_exact(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

static bool index_grow(ns_nsgp_wr *w)
{
	size_t cap = w->cap ? 2 * w->cap : 1024;
	const char **keys = calloc(cap, sizeof *keys);
	uint32_t *vals = calloc(cap, sizeof *vals);
	if (!keys || !vals) {
		free(keys);
		free(vals);
		return false;
	}
	for (size_t i = 0; i < w->cap; i++)
		if (w->keys[i]) {
			size_t k = (size_t)hash_exact(w->keys[i]) & (cap - 1);
			while (keys[k])
				k = (k + 1) & (cap - 1);
			keys[k] = w->keys[i];
			vals[k] = w->vals[i];
		}
	free(w->keys);
	free(w->vals);
	w->keys = keys;
	w->vals = vals;
	w->cap = cap;
	return true;
}

void ns_nsgp_str(ns_nsgp_wr *w, const char *s)
{
	if (!s || w->failed) {
		ns_nsgp_u32(w, NS_NSGP_NULL_STR);
		return;
	}
	if (2 * (w->n_strs + 1) > w->cap && !index_grow(w)) {
		w->failed = true;
		return;
	}
	size_t k = (size_t)hash_exact(s) & (w->cap - 1);
	while (w->keys[k] && strcmp(w->keys[k], s) != 0)
		k = (k + 1) & (w->cap - 1);
	if (!w->keys[k]) {
		if (w->n_strs >= UINT32_MAX - 1 || strlen(s) >= UINT32_MAX)
			w->too_big = true;
		w->keys[k] = s;
		w->vals[k] = (uint32_t)w->n_strs++;
		ns_buf_put(&w->table, s, strlen(s) + 1);
	}
	ns_nsgp_u32(w, w->vals[k]);
}

void ns_nsgp_wr_init(ns_nsgp_wr *w)
{
	memset(w, 0, sizeof *w);
	ns_buf_init(&w->b);
	ns_buf_init(&w->table);
	ns_buf_init(&w->sections);
	ns_vec_init(&w->section_ends, sizeof(size_t));
}

void ns_nsgp_wr_free(ns_nsgp_wr *w)
{
	ns_buf_free(&w->b);
	ns_buf_free(&w->table);
	ns_buf_free(&w->sections);
	ns_vec_free(&w->section_ends);
	free(w->keys);
	free(w->vals);
}

void ns_nsgp_end_section(ns_nsgp_wr *top, ns_nsgp_wr *w)
{
	ns_nsgp_wr head;
	ns_nsgp_wr_init(&head);
	ns_nsgp_count(&head, w->n_strs);
	ns_nsgp_u64(&head, w->table.len);
	ns_buf_put(&top->sections, head.b.data ? head.b.data : "", head.b.len);
	ns_buf_put(&top->sections, w->table.data ? w->table.data : "", w->table.len);
	ns_buf_put(&top->sections, w->b.data ? w->b.data : "", w->b.len);
	top->too_big |= w->too_big || head.too_big;
	top->failed |= w->failed || w->b.failed || w->table.failed || head.b.failed;
	size_t *end = ns_vec_push(&top->section_ends);
	if (end)
		*end = top->sections.len;
	else
		top->failed = true;
	ns_nsgp_wr_free(&head);
	ns_nsgp_wr_free(w);
}

/* ---- reading ------------------------------------------------------------------ */

void ns_nsgp_at(ns_nsgp_rd *r, const char *where)
{
	r->where_fmt = where;
	r->where_has_i = false;
}

void ns_nsgp_at_i(ns_nsgp_rd *r, const char *fmt, size_t i)
{
	r->where_fmt = fmt;
	r->where_i = i;
	r->where_has_i = true;
}

/* The pointer of an error, formatted now (a record's index is the only
 * argument a where has). */
static void where_text(const ns_nsgp_rd *r, char *out, size_t size)
{
	const char *f = r->where_fmt ? r->where_fmt : "";
	if (!r->where_has_i) {
		snprintf(out, size, "%s", f);
		return;
	}
	const char *pc = strstr(f, "%zu");
	if (!pc) {
		snprintf(out, size, "%s", f);
		return;
	}
	snprintf(out, size, "%.*s%zu%s", (int)(pc - f), f, r->where_i, pc + 3);
}

int ns_nsgp_fail(ns_nsgp_rd *r, const char *fmt, ...)
{
	if (r->rc)
		return r->rc;
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	char where[192];
	where_text(r, where, sizeof where);
	r->rc = ns_fail(r->err, NSGSIM_E_POLICY_FILE, r->file, where, "", "at byte offset %zu: %s",
	                r->pos, msg);
	return r->rc;
}

int ns_nsgp_nomem(ns_nsgp_rd *r)
{
	if (!r->rc) {
		char where[192];
		where_text(r, where, sizeof where);
		r->rc = ns_fail(r->err, NSGSIM_E_NOMEM, r->file, where, "", "out of memory");
	}
	return r->rc;
}

static const unsigned char *take(ns_nsgp_rd *r, size_t n, const char *what)
{
	if (r->rc)
		return NULL;
	if (r->len - r->pos < n) {
		ns_nsgp_fail(r,
		             "the file ends inside %s (%zu bytes, %zu left): the file is "
		             "truncated",
		             what, n, r->len - r->pos);
		return NULL;
	}
	const unsigned char *p = r->d + r->pos;
	r->pos += n;
	return p;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

unsigned ns_nsgp_get_u8_slow(ns_nsgp_rd *r, const char *what)
{
	const unsigned char *p = take(r, 1, what);
	return p ? *p : 0;
}

bool ns_nsgp_get_bool(ns_nsgp_rd *r, const char *what)
{
	unsigned v = ns_nsgp_get_u8(r, what);
	if (v > 1) {
		r->pos--;
		ns_nsgp_fail(r, "%s is %u; a flag is 0 or 1", what, v);
	}
	return v == 1;
}

uint32_t ns_nsgp_get_u32_slow(ns_nsgp_rd *r, const char *what)
{
	const unsigned char *p = take(r, 4, what);
	return p ? le32(p) : 0;
}

uint64_t ns_nsgp_get_u64_slow(ns_nsgp_rd *r, const char *what)
{
	const unsigned char *p = take(r, 8, what);
	return p ? (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32 : 0;
}

ns_u128 ns_nsgp_get_u128(ns_nsgp_rd *r, const char *what)
{
	uint64_t lo = ns_nsgp_get_u64(r, what);
	uint64_t hi = ns_nsgp_get_u64(r, what);
	return (ns_u128)hi << 64 | lo;
}

int ns_nsgp_get_range_slow(ns_nsgp_rd *r, const char *what, int lo, int hi)
{
	int v = ns_nsgp_get_i32(r, what);
	if (!r->rc && (v < lo || v > hi)) {
		r->pos -= 4;
		ns_nsgp_fail(r, "%s is %d; it must lie in %d..%d", what, v, lo, hi);
		return lo;
	}
	return v;
}

size_t ns_nsgp_get_count(ns_nsgp_rd *r, const char *what, size_t min_bytes)
{
	uint32_t n = ns_nsgp_get_u32(r, what);
	if (r->rc)
		return 0;
	if (min_bytes && n > (r->len - r->pos) / min_bytes) {
		r->pos -= 4;
		ns_nsgp_fail(r, "%u %s need at least %llu bytes but %zu are left", n, what,
		             (unsigned long long)n * min_bytes, r->len - r->pos - 4);
		return 0;
	}
	return n;
}

const char *ns_nsgp_get_str_slow(ns_nsgp_rd *r, const char *what, bool nullable)
{
	uint32_t n = ns_nsgp_get_u32(r, what);
	if (r->rc)
		return NULL;
	if (n == NS_NSGP_NULL_STR) {
		if (!nullable) {
			r->pos -= 4;
			ns_nsgp_fail(r, "%s is null; it is required", what);
		}
		return NULL;
	}
	if (n >= r->n_strs) {
		r->pos -= 4;
		ns_nsgp_fail(r, "%s is string %u; the table has %zu", what, n, r->n_strs);
		return NULL;
	}
	return r->strs[n];
}

int ns_nsgp_get_table(ns_nsgp_rd *r)
{
	ns_nsgp_at(r, "/strings");
	size_t n = ns_nsgp_get_count(r, "strings", 1);
	uint64_t bytes = ns_nsgp_get_u64(r, "the string table's length");
	if (r->rc)
		return r->rc;
	if (bytes > r->len - r->pos) {
		r->pos -= 8;
		return ns_nsgp_fail(r, "a string table of %llu bytes but %zu are left",
		                    (unsigned long long)bytes, r->len - r->pos - 8);
	}
	/* Both filled below (the block copied whole, each pointer set). */
	const char *block = NULL;
	if (r->borrow)
		block = (const char *)r->d + r->pos;
	else if (bytes && (block = ns_arena_alloc_raw(&r->m->arena, (size_t)bytes)) != NULL)
		memcpy((char *)block, r->d + r->pos, (size_t)bytes);
	r->strs = n ? ns_arena_alloc_raw(&r->m->arena, n * sizeof *r->strs) : NULL;
	if ((bytes && !block) || (n && !r->strs))
		return ns_nsgp_nomem(r);
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		const char *end =
		        off < bytes ? memchr(block + off, '\0', (size_t)bytes - off) : NULL;
		if (!end) {
			r->pos += off;
			return ns_nsgp_fail(r,
			                    "string %zu of %zu is not NUL-terminated within the "
			                    "table",
			                    i, n);
		}
		r->strs[i] = block + off;
		off = (size_t)(end - block) + 1;
	}
	if (off != bytes) {
		r->pos += off;
		return ns_nsgp_fail(r, "%llu bytes follow the last of the %zu strings",
		                    (unsigned long long)(bytes - off), n);
	}
	/* Every string came from UTF-8 JSON (RFC 8259 §8.1), and the output
	 * nsgsim writes from them must stay UTF-8. */
	const char *bad = ns_utf8_malformed(block, (size_t)bytes);
	if (bad) {
		r->pos += (size_t)(bad - block);
		return ns_nsgp_fail(r, "malformed UTF-8 (byte 0x%02X) in the string table",
		                    (unsigned char)*bad);
	}
	r->n_strs = n;
	r->pos += (size_t)bytes;
	return 0;
}

int ns_nsgp_open_section(ns_nsgp_rd *r, size_t k)
{
	if (r->rc)
		return r->rc;
	if (ns_nsgp_check_section(r, k) != 0)
		return r->rc;
	const ns_nsgp_section *s = &r->sec[k];
	r->len = s->end;
	r->strs = NULL;
	r->n_strs = 0;
	return ns_nsgp_get_table(r);
}

int ns_nsgp_check_section(ns_nsgp_rd *r, size_t k)
{
	const ns_nsgp_section *s = &r->sec[k];
	r->pos = s->start;
	ns_nsgp_at_i(r, "/sections/%zu", k);
	uint32_t got = ns_nsgp_crc32c(0, r->d + s->start, s->end - s->start);
	if (got != s->crc)
		return ns_nsgp_fail(r,
		                    "section %zu's CRC-32C is 0x%08x but the directory says "
		                    "0x%08x: the file is damaged; compile the policy again",
		                    k, got, s->crc);
	return 0;
}

void *ns_nsgp_array(ns_nsgp_rd *r, size_t n, size_t size)
{
	if (r->rc || n == 0)
		return NULL;
	void *a = ns_arena_alloc(&r->m->arena, n * size);
	if (!a)
		ns_nsgp_nomem(r);
	return a;
}
