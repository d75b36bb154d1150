/* A strict RFC 8259 reader that keeps a document as one flat array of nodes
 * pointing into the text, for the one big input: Microsoft's service-tags
 * download (4 MB, ~100,000 strings).  cJSON makes a heap node and a heap
 * string of each value and frees them one by one; on that file its parse and
 * free were three quarters of a cold `nsgsim eval` (issue 5).  Here a whole
 * document is a handful of allocations (the node array, the stack, scratch
 * for the duplicate-key check), and a string is read in place.
 *
 * Part of the parse stage; it uses no cJSON.  Environment files stay on
 * cJSON (lib/parse/load_env.c): they are small and read through many helpers. */
#ifndef NSGSIM_JSON_FLAT_H
#define NSGSIM_JSON_FLAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse/parse.h"

/* The first byte at or after p (end when none) that ends a plain run
 * inside a JSON string: a quote, a backslash or a control character (a
 * newline, a NUL).  Eight bytes a step: each test below may flag a word
 * that holds no such byte (a borrow), never miss one that does, and a
 * flagged word is read byte by byte.  Every scan of the input's text uses
 * it: ids are 100-200 characters long, and strings are most of an estate. */
static inline const char *ns_json_plain_run(const char *p, const char *end)
{
	const uint64_t ones = 0x0101010101010101ULL, hi = 0x8080808080808080ULL;
	while (end - p >= 8) {
		uint64_t w;
		__builtin_memcpy(&w, p, 8);
		uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
		uint64_t t = ((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w);
		if (t & hi)
			break;
		p += 8;
	}
	while (p < end && (unsigned char)*p >= 0x20 && *p != '"' && *p != '\\')
		p++;
	return p;
}

enum { NS_J_NULL, NS_J_FALSE, NS_J_TRUE, NS_J_NUMBER, NS_J_STRING, NS_J_ARRAY, NS_J_OBJECT };

/* One value, or one key of an object.  Node 0 is the document's value, so
 * 0 also means "none" wherever a node index is returned.
 *
 * A container's first child follows it (index + 1).  An array's elements
 * are chained by `next`; an object's keys are, and each key's value is the
 * node after the key. */
typedef struct ns_jnode {
	uint32_t at;  /* offset of the value; of a string's first byte after the quote */
	uint32_t len; /* string or number: bytes of its text; array or object: members */
	uint32_t next;
	uint8_t type;
	uint8_t escaped; /* a string with backslash escapes: decode before use */
} ns_jnode;

typedef struct ns_jdoc {
	const char *text;
	ns_jnode *nodes;
	uint32_t n, cap;
} ns_jdoc;

/* Parses text (len bytes; a UTF-8 byte-order mark is skipped) into d.
 * Refuses, with the line and column: malformed JSON, a NUL byte or a \u0000
 * escape, unescaped control characters in strings, lone UTF-16 surrogates,
 * a key twice in one object (ASCII case ignored, as Azure does: the error's
 * pointer names it), nesting deeper than max_depth (NSGSIM_E_LIMIT).  On
 * failure d is left empty; ns_jdoc_free is safe either way. */
int ns_jdoc_parse(ns_jdoc *d, const char *name, const char *text, size_t len, uint64_t max_depth,
                  nsgsim_error *err);
void ns_jdoc_free(ns_jdoc *d);

static inline const ns_jnode *ns_jat(const ns_jdoc *d, uint32_t i)
{
	return &d->nodes[i];
}
static inline uint32_t ns_jfirst(const ns_jdoc *d, uint32_t container)
{
	return d->nodes[container].len ? container + 1 : 0;
}
static inline uint32_t ns_jnext(const ns_jdoc *d, uint32_t i)
{
	return d->nodes[i].next;
}
static inline bool ns_jis(const ns_jdoc *d, uint32_t i, int type)
{
	return d->nodes[i].type == type;
}

/* The key node of obj whose name equals key ignoring ASCII case (the first
 * one, as cJSON_GetObjectItem finds it), or 0.  Its value is the next node.
 * key is shorter than 42 bytes (nsgsim's are): an escaped key is decoded on
 * the stack only when it could be that short. */
uint32_t ns_jkey(const ns_jdoc *d, uint32_t obj, const char *key);

/* Decodes string node s into out, which holds at least its len + 1 bytes
 * (decoding never lengthens), NUL-terminated; returns the decoded length. */
size_t ns_jstr_decode(const ns_jdoc *d, uint32_t s, char *out);
/* The decoded string in the arena, or NULL when out of memory. */
char *ns_jstr_dup(const ns_jdoc *d, uint32_t s, ns_arena *a);
/* A number node's value, as strtod reads it (all of it, however long);
 * -1 when out of memory. */
int ns_jnumber(const ns_jdoc *d, uint32_t num, double *out);

/* One key of an object, decoded (s need not end in NUL), and where it stands
 * in the object (pos grows in document order). */
typedef struct ns_key_ref {
	const char *s;
	size_t n;
	uint32_t pos;
} ns_key_ref;

/* The pos of the first key that repeats an earlier one, ASCII case ignored
 * (Azure's resource JSON is case-insensitive), or UINT32_MAX when none does.
 * keys are in document order; more than 16 are sorted in place, so that an
 * object of a million keys is not a million squared comparisons.  Both JSON
 * paths use it (lib/parse/load_env.c for cJSON's trees). */
uint32_t ns_first_repeated_key(ns_key_ref *keys, size_t n);

/* What both JSON paths (this reader and the cJSON one, lib/parse/load_env.c)
 * check first, in this order: a NUL byte anywhere, then malformed UTF-8
 * anywhere; NSGSIM_E_JSON at the byte's line and column. */
int ns_json_check_text(const char *name, const char *text, size_t len, nsgsim_error *err);

/* A JSON syntax error at a byte of text: "<what> at line L, column C", with
 * line and column in err too.  Shared with the cJSON path (lib/parse/load_env.c). */
/* The 1-based line and column of at in text. */
void ns_json_line_col(const char *text, const char *at, int *line, int *col);
int ns_json_fail_at(const char *name, const char *text, const char *at, int code, nsgsim_error *err,
                    const char *what);

#endif
