/* The base room: small building blocks every stage may use (an arena,
 * vectors, string buffers, case-insensitive strings and maps, errors).
 *
 * May touch: the C library and include/nsgsim.h only.  Nothing here knows
 * about Azure, JSON or a stage; nothing here is exported. */
#ifndef NSGSIM_BASE_H
#define NSGSIM_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nsgsim.h"
#include "base/prefixset.h"

#define NS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- memory: an arena for strings and fixed arrays --------------------- */

typedef struct ns_arena_block ns_arena_block;
typedef struct ns_arena {
	ns_arena_block *head;
	ns_arena_block *spare; /* emptied by ns_arena_reset, used before malloc */
} ns_arena;

void *ns_arena_alloc(ns_arena *a, size_t size); /* zeroed; NULL when out of memory */
/* The same, not zeroed: for memory the caller fills at once. */
void *ns_arena_alloc_raw(ns_arena *a, size_t size);
char *ns_arena_strdup(ns_arena *a, const char *s);
char *ns_arena_strndup(ns_arena *a, const char *s, size_t n);
char *ns_arena_printf(ns_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *ns_arena_vprintf(ns_arena *a, const char *fmt, va_list ap)
        __attribute__((format(printf, 2, 0)));
void ns_arena_free(ns_arena *a);
/* Empties the arena for reuse, keeping its blocks: scratch space for work
 * done again and again (every earlier allocation is invalid after it). */
void ns_arena_reset(ns_arena *a);

/* A growable array of fixed-size elements (malloc'd). */
typedef struct ns_vec {
	void *data;
	size_t n, cap, elem;
} ns_vec;

void ns_vec_init(ns_vec *v, size_t elem);
void *ns_vec_push(ns_vec *v); /* zeroed new element, or NULL when out of memory */
/* Room for extra more elements without moving; 0 or -1 (no memory). */
int ns_vec_reserve(ns_vec *v, size_t extra);
void ns_vec_free(ns_vec *v);
#define NS_VEC_AT(v, T, i) (&((T *)(v)->data)[i])

/* A growable string (malloc'd).  Once an allocation fails, `failed` stays set
 * and further appends do nothing, so writers check once at the end. */
typedef struct ns_buf {
	char *data;
	size_t len, cap;
	bool failed;
} ns_buf;

void ns_buf_init(ns_buf *b);
void ns_buf_put(ns_buf *b, const char *s, size_t n);
/* Room for exactly n more bytes (and the NUL), in one allocation; false
 * when out of memory (then failed is set). */
bool ns_buf_reserve(ns_buf *b, size_t n);
void ns_buf_puts(ns_buf *b, const char *s);
void ns_buf_printf(ns_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ns_buf_json_string(ns_buf *b, const char *s); /* quoted and escaped; NULL -> null */
void ns_buf_free(ns_buf *b);
/* The end of a render into b: *out = its text (0), or b freed and
 * NSGSIM_E_NOMEM with err filled (resource names the call's subject). */
int ns_buf_take(ns_buf *b, char **out, nsgsim_error *err, const char *resource);

/* ---- strings and errors ------------------------------------------------ */

bool ns_ieq(const char *a, const char *b); /* ASCII case-insensitive equality */
bool ns_ieqn(const char *a, const char *b, size_t n);
uint64_t ns_ihash(const char *s); /* case-insensitive (ASCII), 8 bytes a step */
/* The first byte of text[0..len) that starts a malformed UTF-8 sequence
 * (RFC 3629: no overlong form, no surrogate, nothing above U+10FFFF), or
 * NULL when there is none. */
const char *ns_utf8_malformed(const char *text, size_t len);
/* Edit distance without case (a swap of neighbours counts one), for "did
 * you mean" suggestions; names
 * longer than NS_EDIT_MAX count as SIZE_MAX away. */
#define NS_EDIT_MAX 128
size_t ns_edit_distance(const char *a, const char *b);

/* SplitMix64's finaliser: a well-mixed 64-bit hash of x (the classifier's
 * class keys, the region queries' Zobrist keys and merge keys). */
static inline uint64_t ns_splitmix64(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

/* Sets err (when not NULL) and returns code. */
int ns_fail(nsgsim_error *err, int code, const char *file, const char *pointer,
            const char *resource, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* A case-insensitive map from string keys to pointers (open addressing). */
typedef struct ns_map {
	const char **keys;
	void **vals;
	uint64_t *hashes; /* ns_ihash of each slot's key */
	size_t cap, n;
} ns_map;

void ns_map_init(ns_map *m);
/* Puts or replaces; 0, or -1 when out of memory (a replacement never is). */
int ns_map_put(ns_map *m, const char *key, void *val);
void *ns_map_get(const ns_map *m, const char *key);
/* Removes key (nothing when absent); never allocates. */
void ns_map_del(ns_map *m, const char *key);
/* The value under key; when there is none, puts val there and returns NULL
 * (one hash for both).  *rc -1: no memory (nothing put). */
void *ns_map_get_or_put(ns_map *m, const char *key, void *val, int *rc);
void ns_map_free(ns_map *m);

#endif
