/* Small building blocks: arena, vectors, string buffers, a case-insensitive
 * map and the error table. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

/* ---- error table --------------------------------------------------------- */

NSGSIM_EXPORT const char *nsgsim_strerror(int code)
{
	switch (code) {
#define NS_X_MSG(name, value, msg)                                                                 \
	case value:                                                                                \
		return msg;
		NSGSIM_ERRNO_MAP(NS_X_MSG)
#undef NS_X_MSG
	}
	return "unknown error code";
}

NSGSIM_EXPORT const char *nsgsim_error_name(int code)
{
	switch (code) {
#define NS_X_NAME(name, value, msg)                                                                \
	case value:                                                                                \
		return "NSGSIM_E_" #name;
		NSGSIM_ERRNO_MAP(NS_X_NAME)
#undef NS_X_NAME
	}
	return NULL;
}

NSGSIM_EXPORT const char *nsgsim_assumption_key(unsigned bit)
{
	switch (bit) {
#define NS_X_KEY(name, b, key, text)                                                               \
	case b:                                                                                    \
		return key;
		NSGSIM_ASSUMPTION_MAP(NS_X_KEY)
#undef NS_X_KEY
	}
	return NULL;
}

NSGSIM_EXPORT const char *nsgsim_assumption_text(unsigned bit)
{
	switch (bit) {
#define NS_X_TEXT(name, b, key, text)                                                              \
	case b:                                                                                    \
		return text;
		NSGSIM_ASSUMPTION_MAP(NS_X_TEXT)
#undef NS_X_TEXT
	}
	return NULL;
}

NSGSIM_EXPORT size_t nsgsim_struct_size(const char *name)
{
	static const struct {
		const char *name;
		size_t size;
	} sizes[] = {
	        {"nsgsim_error", sizeof(nsgsim_error)},
	        {"nsgsim_note", sizeof(nsgsim_note)},
	        {"nsgsim_stats", sizeof(nsgsim_stats)},
	        {"nsgsim_ip", sizeof(nsgsim_ip)},
	        {"nsgsim_flow", sizeof(nsgsim_flow)},
	        {"nsgsim_rule_ref", sizeof(nsgsim_rule_ref)},
	        {"nsgsim_layer_result", sizeof(nsgsim_layer_result)},
	        {"nsgsim_side_result", sizeof(nsgsim_side_result)},
	        {"nsgsim_result", sizeof(nsgsim_result)},
	        {"nsgsim_decision", sizeof(nsgsim_decision)},
	        {"nsgsim_port_outcome", sizeof(nsgsim_port_outcome)},
	        {"nsgsim_rule_detail", sizeof(nsgsim_rule_detail)},
	        {"nsgsim_tags_info", sizeof(nsgsim_tags_info)},
	        {"nsgsim_query", sizeof(nsgsim_query)},
	        {"nsgsim_decided", sizeof(nsgsim_decided)},
	        {"nsgsim_region", sizeof(nsgsim_region)},
	        {"nsgsim_resource", sizeof(nsgsim_resource)},
	        {"nsgsim_location", sizeof(nsgsim_location)},
	        {"nsgsim_finding", sizeof(nsgsim_finding)},
	        {"nsgsim_flowlog_tuple", sizeof(nsgsim_flowlog_tuple)},
	};
	for (size_t i = 0; name && i < NS_ARRAY_LEN(sizes); i++)
		if (strcmp(name, sizes[i].name) == 0)
			return sizes[i].size;
	return 0;
}

NSGSIM_EXPORT const char *nsgsim_version(void)
{
	return NSGSIM_VERSION_STRING;
}

static void copy_field(char *dst, size_t cap, const char *src)
{
	if (!src) {
		dst[0] = '\0';
		return;
	}
	size_t n = strlen(src);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int ns_fail(nsgsim_error *err, int code, const char *file, const char *pointer,
            const char *resource, const char *fmt, ...)
{
	if (!err)
		return code;
	err->code = code;
	err->line = 0;
	err->column = 0;
	copy_field(err->file, sizeof err->file, file);
	copy_field(err->pointer, sizeof err->pointer, pointer);
	copy_field(err->resource, sizeof err->resource, resource);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	return code;
}

NSGSIM_EXPORT int nsgsim_error_format(const nsgsim_error *err, char *buf, size_t cap)
{
	if (!err || (!buf && cap))
		return 0;
	char where[80] = "";
	if (err->line > 0)
		snprintf(where, sizeof where, "%s%d:%d", err->file[0] ? ":" : "line ", err->line,
		         err->column);
	const char *sep_file = err->file[0] || where[0] ? ": " : "";
	const char *sep_ptr = err->pointer[0] ? ": " : "";
	const char *sep_res = err->resource[0] ? ": " : "";
	const char *name = nsgsim_error_name(err->code);
	return snprintf(buf, cap, "%s%s%s%s%s%s%s%s [%s]", err->file, where, sep_file, err->pointer,
	                sep_ptr, err->resource, sep_res, err->message, name ? name : "?");
}

/* ---- arena ------------------------------------------------------------------ */

struct ns_arena_block {
	ns_arena_block *next;
	size_t used, cap;
	_Alignas(16) unsigned char data[];
};

#define NS_ARENA_BLOCK (64 * 1024)

void *ns_arena_alloc_raw(ns_arena *a, size_t size)
{
	size = (size + 15) & ~(size_t)15;
	ns_arena_block *b = a->head;
	if (!b || b->cap - b->used < size) {
		size_t cap = size > NS_ARENA_BLOCK ? size : NS_ARENA_BLOCK;
		ns_arena_block **sp = &a->spare; /* a block a reset emptied, if one fits */
		while (*sp && (*sp)->cap < size)
			sp = &(*sp)->next;
		if (*sp) {
			b = *sp;
			*sp = b->next;
		} else if (!(b = malloc(sizeof *b + cap))) {
			return NULL;
		} else {
			b->cap = cap;
		}
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	void *p = b->data + b->used;
	b->used += size;
	return p;
}

void *ns_arena_alloc(ns_arena *a, size_t size)
{
	void *p = ns_arena_alloc_raw(a, size);
	if (p)
		memset(p, 0, size);
	return p;
}

char *ns_arena_strndup(ns_arena *a, const char *s, size_t n)
{
	char *p = ns_arena_alloc_raw(a, n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

char *ns_arena_strdup(ns_arena *a, const char *s)
{
	return s ? ns_arena_strndup(a, s, strlen(s)) : NULL;
}

char *ns_arena_vprintf(ns_arena *a, const char *fmt, va_list ap)
{
	va_list again;
	va_copy(again, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	char *p = n >= 0 ? ns_arena_alloc(a, (size_t)n + 1) : NULL;
	if (p)
		vsnprintf(p, (size_t)n + 1, fmt, again);
	va_end(again);
	return p;
}

char *ns_arena_printf(ns_arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = ns_arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

static void free_blocks(ns_arena_block *b)
{
	while (b) {
		ns_arena_block *next = b->next;
		free(b);
		b = next;
	}
}

void ns_arena_free(ns_arena *a)
{
	free_blocks(a->head);
	free_blocks(a->spare);
	a->head = a->spare = NULL;
}

void ns_arena_reset(ns_arena *a)
{
	while (a->head) { /* every block to the spare list, emptied */
		ns_arena_block *b = a->head;
		a->head = b->next;
		b->next = a->spare;
		a->spare = b;
	}
}

/* ---- vectors ---------------------------------------------------------------- */

void ns_vec_init(ns_vec *v, size_t elem)
{
	v->data = NULL;
	v->n = v->cap = 0;
	v->elem = elem;
}

int ns_vec_reserve(ns_vec *v, size_t extra)
{
	if (v->n + extra <= v->cap)
		return 0;
	size_t cap = v->cap ? v->cap : 8;
	while (cap < v->n + extra)
		cap *= 2;
	void *d = realloc(v->data, cap * v->elem);
	if (!d)
		return -1;
	v->data = d;
	v->cap = cap;
	return 0;
}

void *ns_vec_push(ns_vec *v)
{
	if (ns_vec_reserve(v, 1) != 0)
		return NULL;
	void *p = (char *)v->data + v->n * v->elem;
	memset(p, 0, v->elem);
	v->n++;
	return p;
}

void ns_vec_free(ns_vec *v)
{
	free(v->data);
	v->data = NULL;
	v->n = v->cap = 0;
}

/* ---- string buffers ---------------------------------------------------------- */

void ns_buf_init(ns_buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->failed = false;
}

static bool buf_reserve(ns_buf *b, size_t extra)
{
	if (b->failed)
		return false;
	if (b->len + extra + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra + 1)
		cap *= 2;
	char *d = realloc(b->data, cap);
	if (!d) {
		b->failed = true;
		return false;
	}
	b->data = d;
	b->cap = cap;
	return true;
}

bool ns_buf_reserve(ns_buf *b, size_t n)
{
	if (b->failed)
		return false;
	if (b->len + n + 1 <= b->cap)
		return true;
	char *d = realloc(b->data, b->len + n + 1);
	if (!d) {
		b->failed = true;
		return false;
	}
	b->data = d;
	b->cap = b->len + n + 1;
	return true;
}

void ns_buf_put(ns_buf *b, const char *s, size_t n)
{
	if (!buf_reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void ns_buf_puts(ns_buf *b, const char *s)
{
	ns_buf_put(b, s, strlen(s));
}

void ns_buf_printf(ns_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !buf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void ns_buf_json_string(ns_buf *b, const char *s)
{
	if (!s) {
		ns_buf_puts(b, "null");
		return;
	}
	ns_buf_put(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		/* A run that needs no escape goes in at once. */
		size_t run = 0;
		while (p[run] >= 0x20 && p[run] != '"' && p[run] != '\\')
			run++;
		if (run) {
			ns_buf_put(b, (const char *)p, run);
			p += run - 1;
			continue;
		}
		switch (*p) {
		case '"':
			ns_buf_puts(b, "\\\"");
			break;
		case '\\':
			ns_buf_puts(b, "\\\\");
			break;
		case '\n':
			ns_buf_puts(b, "\\n");
			break;
		case '\t':
			ns_buf_puts(b, "\\t");
			break;
		case '\r':
			ns_buf_puts(b, "\\r");
			break;
		default:
			if (*p < 0x20)
				ns_buf_printf(b, "\\u%04x", *p);
			else
				ns_buf_put(b, (const char *)p, 1);
		}
	}
	ns_buf_put(b, "\"", 1);
}

void ns_buf_free(ns_buf *b)
{
	free(b->data);
	ns_buf_init(b);
}

int ns_buf_take(ns_buf *b, char **out, nsgsim_error *err, const char *resource)
{
	if (b->failed) {
		ns_buf_free(b);
		return ns_fail(err, NSGSIM_E_NOMEM, "", "", resource, "out of memory");
	}
	*out = b->data;
	return 0;
}

/* ---- case-insensitive strings and map ------------------------------------- */

static inline unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

bool ns_ieq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	/* Ids are mostly spelled alike: the library's strcmp is many bytes a
	 * step, and only a difference sends us through the byte loop. */
	if (strcmp(a, b) == 0)
		return true;
	while (*a && lower((unsigned char)*a) == lower((unsigned char)*b)) {
		a++;
		b++;
	}
	return *a == '\0' && *b == '\0';
}

bool ns_ieqn(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return false;
		if (a[i] == '\0')
			return true;
	}
	return true;
}

static size_t min3(size_t x, size_t y, size_t z)
{
	size_t m = x < y ? x : y;
	return m < z ? m : z;
}

/* Optimal string alignment: Levenshtein plus a swap of two neighbours as
 * one edit, the commonest typo ("nci" for "nic"). */
size_t ns_edit_distance(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	if (na > NS_EDIT_MAX || nb > NS_EDIT_MAX)
		return SIZE_MAX;
	size_t rows[3][NS_EDIT_MAX + 1]; /* the rows i-2, i-1 and i of the table */
	size_t *two = rows[0], *prev = rows[1], *cur = rows[2];
	for (size_t j = 0; j <= nb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= na; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= nb; j++) {
			int ca = lower((unsigned char)a[i - 1]),
			    cb = lower((unsigned char)b[j - 1]);
			cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb));
			if (i > 1 && j > 1 && ca == lower((unsigned char)b[j - 2]) &&
			    lower((unsigned char)a[i - 2]) == cb && two[j - 2] + 1 < cur[j])
				cur[j] = two[j - 2] + 1;
		}
		size_t *t = two;
		two = prev;
		prev = cur;
		cur = t;
	}
	return prev[nb];
}

/* Case-insensitive, eight bytes a step (ARM ids are 100-200 characters
 * long and a map lookup used to spend most of its time here).  Setting bit
 * 0x20 of every byte folds A-Z onto a-z -- and a few punctuation pairs
 * ('@' and '`', '[' and '{') onto each other, which only makes those keys
 * share a hash: equality is still ns_ieq's.  The final mix makes the low
 * bits, which pick the slot, depend on every byte. */
static uint64_t ihash_len(const char *s, size_t n)
{
	const uint64_t fold = 0x2020202020202020ULL;
	uint64_t h = 0x9E3779B97F4A7C15ULL ^ n;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		h = (h ^ (w | fold)) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	if (i < n) {
		uint64_t w = 0;
		memcpy(&w, s + i, n - i);
		h = (h ^ (w | fold)) * 0xff51afd7ed558ccdULL;
	}
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

uint64_t ns_ihash(const char *s)
{
	return ihash_len(s, strlen(s));
}

void ns_map_init(ns_map *m)
{
	m->keys = NULL;
	m->vals = NULL;
	m->hashes = NULL;
	m->cap = m->n = 0;
}

static int map_grow(ns_map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64;
	const char **keys = calloc(cap, sizeof *keys);
	void **vals = calloc(cap, sizeof *vals);
	uint64_t *hashes = malloc(cap * sizeof *hashes);
	if (!keys || !vals || !hashes) {
		free(keys);
		free(vals);
		free(hashes);
		return -1;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->keys[i])
			continue;
		size_t j = m->hashes[i] & (cap - 1);
		while (keys[j])
			j = (j + 1) & (cap - 1);
		keys[j] = m->keys[i];
		vals[j] = m->vals[i];
		hashes[j] = m->hashes[i];
	}
	free(m->keys);
	free(m->vals);
	free(m->hashes);
	m->keys = keys;
	m->vals = vals;
	m->hashes = hashes;
	m->cap = cap;
	return 0;
}

/* A slot holds the key's hash beside it, so a probe compares strings only
 * where the hashes agree (almost always the key itself). */
/* The slot holding key (hash h), or the empty slot where it would go; the
 * map has a free slot (cap > n). */
static size_t find_slot(const ns_map *m, const char *key, uint64_t h)
{
	size_t j = h & (m->cap - 1);
	while (m->keys[j] && !(m->hashes[j] == h && ns_ieq(m->keys[j], key)))
		j = (j + 1) & (m->cap - 1);
	return j;
}

static void fill_slot(ns_map *m, size_t j, const char *key, void *val, uint64_t h)
{
	m->keys[j] = key;
	m->vals[j] = val;
	m->hashes[j] = h;
	m->n++;
}

int ns_map_put(ns_map *m, const char *key, void *val)
{
	uint64_t h = ns_ihash(key);
	size_t j = m->cap ? find_slot(m, key, h) : 0;
	if (m->cap && m->keys[j]) { /* a replacement never grows the map */
		m->vals[j] = val;
		return 0;
	}
	if ((m->n + 1) * 2 > m->cap) {
		if (map_grow(m) != 0)
			return -1;
		j = find_slot(m, key, h);
	}
	fill_slot(m, j, key, val, h);
	return 0;
}

void *ns_map_get_or_put(ns_map *m, const char *key, void *val, int *rc)
{
	*rc = 0;
	if ((m->n + 1) * 2 > m->cap && map_grow(m) != 0) {
		*rc = -1;
		return NULL;
	}
	uint64_t h = ns_ihash(key);
	size_t j = find_slot(m, key, h);
	if (m->keys[j])
		return m->vals[j];
	fill_slot(m, j, key, val, h);
	return NULL;
}

void *ns_map_get(const ns_map *m, const char *key)
{
	if (!m->cap || !key)
		return NULL;
	size_t j = find_slot(m, key, ns_ihash(key));
	return m->keys[j] ? m->vals[j] : NULL;
}

/* Backward-shift deletion (Knuth, TAOCP 6.4, Algorithm R): the entries
 * after the hole that may move into it do, so probes never meet a gap
 * inside a run and the map needs no tombstones. */
void ns_map_del(ns_map *m, const char *key)
{
	if (!m->cap || !key)
		return;
	size_t mask = m->cap - 1, hole = find_slot(m, key, ns_ihash(key));
	if (!m->keys[hole])
		return;
	m->n--;
	for (size_t j = hole;;) {
		m->keys[hole] = NULL;
		size_t home;
		do { /* the next entry whose home is not cyclically in (hole, j] */
			j = (j + 1) & mask;
			if (!m->keys[j])
				return;
			home = m->hashes[j] & mask;
		} while (hole <= j ? hole < home && home <= j : hole < home || home <= j);
		m->keys[hole] = m->keys[j];
		m->vals[hole] = m->vals[j];
		m->hashes[hole] = m->hashes[j];
		hole = j;
	}
}

void ns_map_free(ns_map *m)
{
	free(m->keys);
	free(m->vals);
	free(m->hashes);
	ns_map_init(m);
}

/* The length of the UTF-8 sequence at p (RFC 3629: no overlong form, no
 * surrogate, nothing above U+10FFFF), or 0 when it is malformed. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	size_t n;
	unsigned lo = 0x80, hi = 0xBF; /* the range of the second byte */
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		n = 2;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		n = 3, lo = p[0] == 0xE0 ? 0xA0 : lo, hi = p[0] == 0xED ? 0x9F : hi;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		n = 4, lo = p[0] == 0xF0 ? 0x90 : lo, hi = p[0] == 0xF4 ? 0x8F : hi;
	else
		return 0;
	if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	return n;
}

const char *ns_utf8_malformed(const char *text, size_t len)
{
	if (len == 0)
		return NULL; /* text may be NULL then */
	const unsigned char *p = (const unsigned char *)text, *end = p + len;
	const uint64_t high = 0x8080808080808080ull;
	while (p < end) {
		uint64_t w[4];
		if (end - p >= 32 &&
		    (memcpy(w, p, 32), ((w[0] | w[1] | w[2] | w[3]) & high) == 0)) {
			p += 32; /* 32 ASCII bytes, the usual case: no decoding */
			continue;
		}
		if (end - p >= 8 && (memcpy(w, p, 8), (w[0] & high) == 0)) {
			p += 8;
			continue;
		}
		if (*p < 0x80) {
			p++;
			continue;
		}
		size_t n = utf8_len(p, end);
		if (n == 0)
			return (const char *)p;
		p += n;
	}
	return NULL;
}
