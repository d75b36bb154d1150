/* What the files that build the match structures share (lib/compile/cls_*.c
 * and lib/compile/endpoints.c): interning tables, the sweep that cuts a key
 * space into elementary intervals, and the planning and layout of interval
 * maps.  Private to the compile stage; the running side never sees it.
 *
 * May touch: lib/base and the compiled policy (compile/policy.h). */
#ifndef NSGSIM_CLS_BUILD_H
#define NSGSIM_CLS_BUILD_H

#include "compile/classifier.h"

static inline void ns_set_bit(uint64_t *b, size_t i)
{
	b[i / 64] |= 1ull << (i % 64);
}

/* Whether the CPU scans with AVX2 (NSGSIM_NO_SIMD=1 says no). */
bool ns_have_avx2(void);

/* ---- interning: distinct fixed-size keys (lib/compile/cls_sweep.c) ------- */

/* Keys of key_words 32-bit words, numbered in order of first appearance and
 * found by a hash the caller computes (open addressing). */
typedef struct ns_intern {
	size_t key_words;
	ns_vec keys;     /* uint32_t: key i at [i * key_words] */
	ns_vec hashes;   /* uint64_t per key */
	uint32_t *slots; /* key + 1; 0 = empty */
	size_t n_slots;
	size_t n;
} ns_intern;

int ns_intern_init(ns_intern *t, size_t key_words);
void ns_intern_free(ns_intern *t);
/* The number of the key equal to key, added when new (then *added, when
 * not NULL, is set); -1 when out of memory. */
int64_t ns_intern_put(ns_intern *t, const uint32_t *key, uint64_t hash, bool *added);
/* Done adding: the hash table is freed and the keys take only their size
 * (the policy-wide classes' tuples were a sixth of a large build's peak);
 * only the keys may be read after this. */
void ns_intern_settle(ns_intern *t);

/* The class table of one classifier: distinct rule bitsets, found by their
 * Zobrist hash (the XOR of a random key per rule whose bit is set), so a
 * sweep that toggles bits keeps the hash of its current bitset by XOR. */
typedef struct ns_ctab {
	size_t words;   /* 64-bit words per bitset */
	ns_intern set;  /* the bitsets: class c's words at c * words */
	uint64_t *keys; /* a random key per rule */
} ns_ctab;

int ns_ct_init(ns_ctab *t, size_t n_rules, size_t words);
void ns_ct_free(ns_ctab *t);
uint64_t ns_ct_hash(const ns_ctab *t, const uint64_t *b);
/* The offset (in words) of the class equal to b, added when new; -1 when
 * out of memory. */
int64_t ns_ct_intern(ns_ctab *t, const uint64_t *b, uint64_t h);
int64_t ns_ct_intern_plain(ns_ctab *t, const uint64_t *b);
/* The bitsets in one array, for the classifier's block. */
static inline const uint64_t *ns_ct_bits(const ns_ctab *t, size_t *n_words)
{
	*n_words = t->set.keys.n / 2;
	return t->set.keys.data;
}

/* ---- the sweep (lib/compile/cls_sweep.c) ---------------------------------- */

/* A group: ranges (sorted, disjoint, not touching) shared by some rules. */
typedef struct ns_sweep_in {
	ns_vec rng;      /* ns_range6: ranges of all groups */
	ns_vec rng_off;  /* size_t: group g's ranges are [rng_off[g], rng_off[g+1]) */
	ns_vec rules;    /* uint32_t: rules of all groups */
	ns_vec rule_off; /* size_t */
	uint64_t *any;   /* rules that match every key */
	ns_u128 kmax;    /* the largest key */
} ns_sweep_in;

int ns_sw_init(ns_sweep_in *in, size_t words, ns_u128 kmax);
void ns_sw_free(ns_sweep_in *in);
int ns_sw_add_range(ns_sweep_in *in, ns_u128 lo, ns_u128 hi);
int ns_sw_add_rule(ns_sweep_in *in, uint32_t rule);
/* Closes the group whose ranges and rules were added since the last close. */
int ns_sw_close_group(ns_sweep_in *in);

/* A sweep's result: interval starts and their values (class offsets). */
typedef struct ns_sweep_out {
	ns_vec starts; /* ns_u128 */
	ns_vec vals;   /* uint32_t */
} ns_sweep_out;

void ns_sweep_out_init(ns_sweep_out *o);
void ns_sweep_out_free(ns_sweep_out *o);
/* Appends an interval starting at start with value val, unless it has the
 * value of the interval before it (*last; -1 before the first), which it
 * then extends.  false when out of memory. */
bool ns_sweep_emit(ns_sweep_out *o, ns_u128 start, uint32_t val, int64_t *last);
/* Cuts the key space at every range's ends; each elementary interval's
 * rules become a class of t; neighbours of one class merge. */
int ns_sweep(ns_ctab *t, const ns_sweep_in *in, ns_sweep_out *out);

int ns_cmp_u128(const void *pa, const void *pb);
/* Position of key in the sorted, distinct b[0..m). */
size_t ns_find_u128(const ns_u128 *b, size_t m, ns_u128 key);
/* Sorts b[0..m) and drops repeats; the new count. */
size_t ns_sort_unique_u128(ns_u128 *b, size_t m);

/* ---- laying out a block (sizes first, then one allocation) --------------- */

/* Sizes first, then one aligned allocation, then the copies: a classifier is
 * one contiguous block, freed at once and counted exactly. */
typedef struct ns_layout {
	size_t size;
	char *base; /* NULL while sizing */
} ns_layout;

static inline void *ns_lay(ns_layout *l, size_t bytes, size_t align)
{
	l->size = (l->size + align - 1) & ~(align - 1);
	void *p = l->base ? l->base + l->size : NULL;
	l->size += bytes;
	return p;
}

static inline uint32_t ns_ceil_log2(size_t n)
{
	uint32_t k = 0;
	while (((size_t)1 << k) < n)
		k++;
	return k;
}

/* ---- interval maps (lib/compile/cls_imap.c) ------------------------------- */

typedef struct ns_imap_plan {
	ns_vec l1, l2; /* uint32_t */
	uint32_t shift1;
} ns_imap_plan;

/* Plans the trie of a sweep's intervals over keys of keybits bits; lean,
 * a smaller trie (the per-chain maps of a large policy, which evaluates
 * through the policy-wide classes; lib/compile/cls_chain.c). */
int ns_plan_imap(const ns_sweep_out *o, uint32_t keybits, bool lean, ns_imap_plan *pl);
/* Whether the policy's chains get lean tries (lib/compile/cls_chain.c). */
bool ns_cls_lean(const nsgsim_policy *p);
void ns_plan_free(ns_imap_plan *pl);
/* Lays out an interval map of a sweep's result and its plan; fills it when
 * l->base is set. */
void ns_lay_imap(ns_layout *l, const ns_sweep_out *o, const ns_imap_plan *pl, ns_imap *m);
void ns_lay_imap6(ns_layout *l, const ns_sweep_out *o, const ns_imap_plan *pl, ns_imap6 *m);

/* ---- the parts of the policy's build ------------------------------------- */

/* lib/compile/cls_global.c: the policy-wide classes, or none when they
 * would take too much memory (0 either way; the fallback answers the same). */
int ns_build_global(nsgsim_policy *p, ns_cls_store *st);

#endif
