/* Compiled policy files: the primitives both sides share (lib/compile/nsgp.h).
 *
 * May touch: lib/base, the model. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "compile/nsgp.h"

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

void ns_nsgp_str(ns_nsgp_wr *w, const char *s)
{
	if (!s) {
		ns_nsgp_u32(w, NS_NSGP_NULL_STR);
		return;
	}
	size_t n = strlen(s);
	ns_nsgp_count(w, n);
	ns_buf_put(&w->b, s, n);
}

/* ---- reading ------------------------------------------------------------------ */

void ns_nsgp_at(ns_nsgp_rd *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->where, sizeof r->where, fmt, ap);
	va_end(ap);
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
	r->rc = ns_fail(r->err, NSGSIM_E_POLICY_FILE, r->file, r->where, "",
	                "at byte offset %zu: %s", r->pos, msg);
	return r->rc;
}

int ns_nsgp_nomem(ns_nsgp_rd *r)
{
	if (!r->rc)
		r->rc = ns_fail(r->err, NSGSIM_E_NOMEM, r->file, r->where, "", "out of memory");
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

unsigned ns_nsgp_get_u8(ns_nsgp_rd *r, const char *what)
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

uint32_t ns_nsgp_get_u32(ns_nsgp_rd *r, const char *what)
{
	const unsigned char *p = take(r, 4, what);
	return p ? le32(p) : 0;
}

uint64_t ns_nsgp_get_u64(ns_nsgp_rd *r, const char *what)
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

int ns_nsgp_get_i32(ns_nsgp_rd *r, const char *what)
{
	return (int)(int32_t)ns_nsgp_get_u32(r, what);
}

int ns_nsgp_get_range(ns_nsgp_rd *r, const char *what, int lo, int hi)
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

const char *ns_nsgp_get_str(ns_nsgp_rd *r, const char *what, bool nullable)
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
	const unsigned char *p = take(r, n, what);
	if (!p)
		return NULL;
	if (memchr(p, '\0', n)) {
		r->pos -= n;
		ns_nsgp_fail(r, "%s holds a NUL byte", what);
		return NULL;
	}
	char *s = ns_arena_strndup(&r->m->arena, (const char *)p, n);
	if (!s)
		ns_nsgp_nomem(r);
	return s;
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
