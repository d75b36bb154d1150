/* Compiled policy files (.nsgp): the reader's and the writer's shared
 * primitives.  lib/compile/nsgp_model.c holds one function pair per model
 * structure (put_X / get_X side by side, so a field added to a struct in
 * lib/parse/model.h has one obvious place to go), lib/compile/nsgp_file.c the
 * header, the checksum, the mapping and the public API.
 *
 * Format version 3 (2 kept the whole model in one checksummed payload, 1
 * had a CRC-32/IEEE; older files are refused with the version error, so
 * compile them again).  Integers are little-endian; nothing is padded.
 *
 *   header, 24 bytes
 *     0   magic           "NSGSIMP\0"
 *     8   u32 version     NS_NSGP_VERSION; another one: compile the policy again
 *     12  u32 checksum    CRC-32C (Castagnoli) of the section directory
 *     16  u64 length      of the payload, which is the rest of the file exactly
 *   payload
 *     the directory: u32 n (2 or more), then n x (u64 offset, u64 length,
 *     u32 CRC-32C) of the sections, offsets from the file's start; the
 *     sections follow the directory back to back, in order, and the last
 *     ends where the file does.  Every load checks every section's checksum
 *     -- a query build does not decode the lines map, and a focused query
 *     load (nsgsim_loader_set_focus) decodes only the rule blocks of the
 *     NSGs its focus needs, but both check every checksum.
 *   each section: its own string table (u32 n, u64 bytes: n distinct
 *   strings, each followed by a NUL; every str in the section is an index
 *   into it), then its records, ending exactly where the section does
 *     0: the core -- the writer's nsgsim version (u32 length, bytes: reported,
 *        not checked: the format version is what decides), then the model
 *        (nsgp_model.c, ns_nsgp_put_model): its deployment, limits and prefix
 *        count, each vector of lib/parse/model.h in its order as a u32 count
 *        and its records -- but the NSG rules, which are a u32 count of rule
 *        blocks, each a str parent NSG id, a u32 rule count and a u32 count
 *        of those that are the first definition of their id -- the count
 *        of parse-stage notes and every note (the compile's after them), the
 *        count of the input lines map's entries, then u8 has-tags and, when
 *        set, the tags' file name, the snapshot flag and a u64-length
 *        embedded service-tags snapshot (lib/parse/tags_snapshot.c; its own
 *        CRC-32 is written but not checked on reading: the section's CRC-32C
 *        covers it, and its reader checks its structure as always)
 *     1: the input lines map, sorted by key: (str key, u32 line) pairs
 *     2 + k: rule block k's rules (a run of the model's rules with one
 *        parent id, in the model's order)
 *   str: a u32 index into the section's string table (0xFFFFFFFF: null)
 *   u128: 16 bytes, low half first; bool/u8: one byte, 0 or 1 for a bool
 *
 * The reader checks every count against the bytes left (a record has a
 * minimum size), every enum against its values, every address family,
 * prefix length, host bits and port range as the parser would, the depth of
 * policy conditions, and that the payload ends exactly where the last field
 * does.  Compiling the model then checks references as for any input.
 *
 * May touch: lib/base, the model, the compiled policy. */
#ifndef NSGSIM_NSGP_H
#define NSGSIM_NSGP_H

#include "compile/policy.h"

#define NS_NSGP_MAGIC        "NSGSIMP" /* and a NUL: 8 bytes */
#define NS_NSGP_MAGIC_LEN    8
#define NS_NSGP_VERSION      3u
#define NS_NSGP_SECTIONS_MIN 2 /* the core and the lines map */
#define NS_NSGP_HEADER_SIZE  24
#define NS_NSGP_NULL_STR     0xFFFFFFFFu

typedef struct ns_nsgp_wr {
	ns_buf b;     /* the model, strings as indexes into the table */
	ns_buf table; /* each distinct string once, NUL-terminated */
	bool too_big; /* a count or a string of 2^32 or more */
	bool failed;  /* out of memory in the string index */
	/* The string index: open addressing, exact comparison. */
	const char **keys;
	uint32_t *vals;
	size_t cap, n_strs;
	/* The top writer's finished sections (nsgp_file.c lays them out):
	 * their bytes back to back, and where each ends. */
	ns_buf sections;
	ns_vec section_ends; /* size_t */
} ns_nsgp_wr;

void ns_nsgp_wr_init(ns_nsgp_wr *w);
void ns_nsgp_wr_free(ns_nsgp_wr *w);

/* CRC-32C of data, continuing crc (0 to start): the hardware instruction
 * where the CPU has one; _sw always the tables (for tests). */
uint32_t ns_nsgp_crc32c(uint32_t crc, const void *data, size_t len);
uint32_t ns_nsgp_crc32c_sw(uint32_t crc, const void *data, size_t len);

void ns_nsgp_u8(ns_nsgp_wr *w, unsigned v);
void ns_nsgp_u32(ns_nsgp_wr *w, uint32_t v);
void ns_nsgp_u64(ns_nsgp_wr *w, uint64_t v);
void ns_nsgp_u128(ns_nsgp_wr *w, ns_u128 v);
void ns_nsgp_i32(ns_nsgp_wr *w, int v);
void ns_nsgp_count(ns_nsgp_wr *w, size_t n);
void ns_nsgp_str(ns_nsgp_wr *w, const char *s);

typedef struct ns_nsgp_section {
	size_t start, end;
	uint32_t crc;
} ns_nsgp_section;

/* A reader over one section: d is the whole file, pos runs from the
 * section's start to len, its end (so offsets in errors are the file's). */
typedef struct ns_nsgp_rd {
	const unsigned char *d;
	size_t len, pos;
	ns_model *m;      /* strings and arrays go to its arena */
	const char *file; /* for errors */
	nsgsim_error *err;
	int rc; /* sticky: the first error; every read after it gives zeros */
	/* Where the reader is, formatted only when it fails: where_fmt, with
	 * where_i for its %zu when where_has_i (a record's index). */
	const char *where_fmt;
	size_t where_i;
	bool where_has_i;
	int depth;         /* of policy conditions */
	const char **strs; /* the string table: in the model's arena, or in d */
	size_t n_strs;
	bool borrow; /* d outlives the model (its mapping): strings point into it */
	/* The directory (set by nsgp_file.c): section k at sec[k]. */
	const ns_nsgp_section *sec;
	size_t n_sec;
} ns_nsgp_rd;

/* The string table (a u32 count, a u64 byte length, the strings each
 * NUL-terminated): copied into the arena in one block (unless r->borrow:
 * then read where it is) and indexed. */
int ns_nsgp_get_table(ns_nsgp_rd *r);

/* Fails r (once) with NSGSIM_E_POLICY_FILE at the current position. */
int ns_nsgp_fail(ns_nsgp_rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ns_nsgp_nomem(ns_nsgp_rd *r);
/* Where the reader is: a fixed pointer, or one with a record's index
 * ("/model/nsgs/%zu"); formatted only for an error. */
void ns_nsgp_at(ns_nsgp_rd *r, const char *where);
void ns_nsgp_at_i(ns_nsgp_rd *r, const char *fmt, size_t i);
/* The getters: inline for a value that is there and valid, the _slow
 * functions (which read the same way) for everything else -- an error
 * already, too few bytes left, a value out of range. */
unsigned ns_nsgp_get_u8_slow(ns_nsgp_rd *r, const char *what);
uint32_t ns_nsgp_get_u32_slow(ns_nsgp_rd *r, const char *what);
uint64_t ns_nsgp_get_u64_slow(ns_nsgp_rd *r, const char *what);
int ns_nsgp_get_range_slow(ns_nsgp_rd *r, const char *what, int lo, int hi);
const char *ns_nsgp_get_str_slow(ns_nsgp_rd *r, const char *what, bool nullable);

static inline uint32_t ns_nsgp_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline unsigned ns_nsgp_get_u8(ns_nsgp_rd *r, const char *what)
{
	if (!r->rc && r->len - r->pos >= 1)
		return r->d[r->pos++];
	return ns_nsgp_get_u8_slow(r, what);
}

static inline uint32_t ns_nsgp_get_u32(ns_nsgp_rd *r, const char *what)
{
	if (!r->rc && r->len - r->pos >= 4) {
		uint32_t v = ns_nsgp_le32(r->d + r->pos);
		r->pos += 4;
		return v;
	}
	return ns_nsgp_get_u32_slow(r, what);
}

static inline uint64_t ns_nsgp_get_u64(ns_nsgp_rd *r, const char *what)
{
	if (!r->rc && r->len - r->pos >= 8) {
		uint64_t v = (uint64_t)ns_nsgp_le32(r->d + r->pos) |
		             (uint64_t)ns_nsgp_le32(r->d + r->pos + 4) << 32;
		r->pos += 8;
		return v;
	}
	return ns_nsgp_get_u64_slow(r, what);
}

static inline int ns_nsgp_get_i32(ns_nsgp_rd *r, const char *what)
{
	return (int)(int32_t)ns_nsgp_get_u32(r, what);
}

/* An int that must lie in lo..hi. */
static inline int ns_nsgp_get_range(ns_nsgp_rd *r, const char *what, int lo, int hi)
{
	if (!r->rc && r->len - r->pos >= 4) {
		int v = (int)(int32_t)ns_nsgp_le32(r->d + r->pos);
		if (v >= lo && v <= hi) {
			r->pos += 4;
			return v;
		}
	}
	return ns_nsgp_get_range_slow(r, what, lo, hi);
}

bool ns_nsgp_get_bool(ns_nsgp_rd *r, const char *what);
ns_u128 ns_nsgp_get_u128(ns_nsgp_rd *r, const char *what);
/* A count of records of at least min_bytes each: no more than the bytes
 * left allow, so an allocation for them is bounded by the file. */
size_t ns_nsgp_get_count(ns_nsgp_rd *r, const char *what, size_t min_bytes);
/* A string: an index into the table; NULL when the file says null, which
 * is an error unless nullable. */
static inline const char *ns_nsgp_get_str(ns_nsgp_rd *r, const char *what, bool nullable)
{
	if (!r->rc && r->len - r->pos >= 4) {
		uint32_t n = ns_nsgp_le32(r->d + r->pos);
		if (n < r->n_strs) {
			r->pos += 4;
			return r->strs[n];
		}
	}
	return ns_nsgp_get_str_slow(r, what, nullable);
}
/* n zeroed elements in the arena (NULL for n == 0 or after an error). */
void *ns_nsgp_array(ns_nsgp_rd *r, size_t n, size_t size);

/* r over section k of its directory, with that section's string table
 * read: its checksum checked first.  0 or r->rc. */
int ns_nsgp_open_section(ns_nsgp_rd *r, size_t k);
/* Section k's checksum against the directory's: 0 or r->rc (r->pos at the
 * section's start). */
int ns_nsgp_check_section(ns_nsgp_rd *r, size_t k);
/* The finished section w (its table, then its records) appended to top's
 * sections; w is freed. */
void ns_nsgp_end_section(ns_nsgp_wr *top, ns_nsgp_wr *w);

/* For tests and fuzz_nsgp: d's header, section checksums and directory
 * checksum made true to its bytes (as a crafted file would have them), so
 * that a change reaches the readers behind them. */
void ns_nsgp_reseal(unsigned char *d, size_t len);

/* lib/compile/nsgp_model.c: the whole model.  put: m as a compiled policy
 * holds it (its first n_parse notes are the parse stage's), into w's
 * sections; get: from the reader's directory into a freshly initialised
 * model -- deferring the rule blocks of a focused query load
 * (ns_model.rule_blocks) -- and ns_nsgp_read_block one of those. */
void ns_nsgp_put_model(ns_nsgp_wr *w, const ns_model *m, size_t n_parse, nsgsim_error *err,
                       int *rc);
int ns_nsgp_get_model(ns_nsgp_rd *r);
int ns_nsgp_read_block(ns_model *m, size_t k, nsgsim_error *err);

#endif
