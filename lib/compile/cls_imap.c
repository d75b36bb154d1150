/* Planning and laying out interval maps (the layout and the lookup are in
 * lib/base/imap.h).
 *
 * A map's intervals are found through a small trie over the key.  The
 * root, l1, is indexed by the key's top k1 bits (about log2(n) of them, at
 * most 16).  Rule sets crowd some regions, though (the spokes' 10.x
 * prefixes, the host addresses of ASG members, a service tag's many small
 * ranges), so a bucket holding more than LEAF_MAX interval starts becomes a
 * child node of l2, indexed by the next 8 bits (fewer at the first level
 * below the root, so that later levels fall on whole bytes), and so on
 * down, within a budget of l2 entries; the most crowded buckets are split
 * first.  A leaf names the first interval that can hold its keys and how
 * many lifting steps (2^k, ..., 2, 1, conditional moves) find the last
 * start <= key from there.  Measured on the bench's policies, the two-level
 * index this replaced (one optional split) left most destination lookups
 * seven or eight steps deep in the 10.x buckets; here most take none to two.
 * Starts and values are interleaved, so the last step's cache line holds the
 * value too.  A leaf whose keys all fall in one interval (no steps) holds
 * the interval's value instead (NS_IM_INLINE), so most lookups end at the leaf.
 *
 * May touch: lib/base and the compiled policy (compile/policy.h). */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "compile/cls_build.h"

enum { LEAF_MAX = 4, MAX_LEAF_STEPS = NS_IM_INLINE - 1 };

/* The interval holding key (the last start <= key); i is a lower bound. */
static uint32_t holding(const ns_u128 *s, uint32_t n, uint32_t i, ns_u128 key)
{
	while (i + 1 < n && s[i + 1] <= key)
		i++;
	return i;
}

/* A bucket that may become a child node: where its entry is (l2 when
 * in_l2), the keys it covers ([base, base + 2^shift)) and the intervals
 * that can hold them ([lo, hi]). */
typedef struct im_bucket {
	ns_u128 base;
	uint32_t shift, entry, lo, hi;
	bool in_l2;
} im_bucket;

/* The candidates form a max-heap by the number of intervals, so that the
 * budget goes to the most crowded buckets at any depth. */
static uint32_t bucket_size(const im_bucket *b)
{
	return b->hi - b->lo;
}

static void heap_up(im_bucket *h, size_t i)
{
	while (i > 0 && bucket_size(&h[(i - 1) / 2]) < bucket_size(&h[i])) {
		im_bucket t = h[i];
		h[i] = h[(i - 1) / 2];
		h[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

static im_bucket heap_pop(ns_vec *v)
{
	im_bucket *h = v->data, top = h[0];
	h[0] = h[--v->n];
	for (size_t i = 0;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < v->n && bucket_size(&h[l]) > bucket_size(&h[m]))
			m = l;
		if (r < v->n && bucket_size(&h[r]) > bucket_size(&h[m]))
			m = r;
		if (m == i)
			break;
		im_bucket t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
	return top;
}

/* Fills the 2^bits entries of a node covering [base, base + 2^(shift+bits))
 * from interval lo on, each a leaf; the crowded ones join the heap. */
static int fill_node(const ns_u128 *s, uint32_t n, uint32_t *dst, bool in_l2, uint32_t first,
                     ns_u128 base, uint32_t bits, uint32_t shift, uint32_t lo, ns_vec *heap)
{
	uint32_t j = lo;
	for (uint32_t k = 0; k < (1u << bits); k++) {
		ns_u128 key = base + ((ns_u128)k << shift);
		ns_u128 after = key + ((ns_u128)1 << shift);
		j = holding(s, n, j, key);
		/* Its last reachable interval: the one holding its last key
		 * (after wraps to 0 past the end of the key space). */
		uint32_t end = after == 0 ? n - 1 : holding(s, n, j, after - 1);
		dst[k] = ns_ceil_log2(end - j + 1) << NS_IM_FIELD_SHIFT | j;
		if (end - j + 1 > LEAF_MAX && shift > 0) {
			im_bucket *bk = ns_vec_push(heap);
			if (!bk)
				return -1;
			*bk = (im_bucket){key, shift, first + k, j, end, in_l2};
			heap_up(heap->data, heap->n - 1);
		}
	}
	return 0;
}

int ns_plan_imap(const ns_sweep_out *o, uint32_t keybits, bool lean, ns_imap_plan *pl)
{
	const ns_u128 *s = o->starts.data;
	uint32_t n = (uint32_t)o->starts.n;
	/* Lean: a root of n/2-n entries and child nodes within n/2 + 256 (about
	 * a word per interval in place of six); lookups take a step or two more. */
	uint32_t k1 = ns_ceil_log2(n) + 1;
	if (lean)
		k1 = k1 > 3 ? k1 - 2 : 1;
	if (k1 > 16)
		k1 = 16;
	if (k1 > keybits)
		k1 = keybits;
	pl->shift1 = keybits - k1;
	ns_vec_init(&pl->l1, sizeof(uint32_t));
	ns_vec_init(&pl->l2, sizeof(uint32_t));
	ns_vec heap;
	ns_vec_init(&heap, sizeof(im_bucket));
	int rc = -1;
	if (n > NS_IM_POS_MASK || ns_vec_reserve(&pl->l1, 1u << k1) != 0)
		goto out;
	pl->l1.n = 1u << k1;
	if (fill_node(s, n, pl->l1.data, false, 0, 0, k1, pl->shift1, 0, &heap) != 0)
		goto out;
	size_t budget = lean ? (size_t)n / 2 + 256 : 4 * (size_t)n + 4096;
	while (heap.n) {
		im_bucket bk = heap_pop(&heap);
		uint32_t bits = bk.shift % 8 ? bk.shift % 8 : 8;
		/* Past the budget, only leaves too deep to encode are split. */
		if (ns_ceil_log2(bk.hi - bk.lo + 1) <= MAX_LEAF_STEPS &&
		    pl->l2.n + (1u << bits) > budget)
			continue;
		uint32_t first = (uint32_t)pl->l2.n;
		if (first > NS_IM_POS_MASK || ns_vec_reserve(&pl->l2, 1u << bits) != 0)
			goto out;
		pl->l2.n += 1u << bits;
		uint32_t *l2 = pl->l2.data;
		if (fill_node(s, n, l2 + first, true, first, bk.base, bits, bk.shift - bits, bk.lo,
		              &heap) != 0)
			goto out;
		uint32_t *parent = bk.in_l2 ? l2 : pl->l1.data;
		parent[bk.entry] = NS_IM_CHILD | bits << NS_IM_FIELD_SHIFT | first;
	}
	rc = 0;
out:
	ns_vec_free(&heap);
	return rc;
}

void ns_plan_free(ns_imap_plan *pl)
{
	ns_vec_free(&pl->l1);
	ns_vec_free(&pl->l2);
}

/* Leaves of one interval take its value in place of its position, when the
 * value fits: the lookup then ends at the leaf, one dependent load sooner
 * (most leaves are such). */
static void inline_leaves(uint32_t *entry, size_t n, const uint32_t *vals)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t e = entry[i];
		if ((e & NS_IM_CHILD) || (e >> NS_IM_FIELD_SHIFT) != 0)
			continue;
		uint32_t v = vals[e & NS_IM_POS_MASK];
		if (v <= NS_IM_POS_MASK)
			entry[i] = NS_IM_INLINE << NS_IM_FIELD_SHIFT | v;
	}
}

void ns_lay_imap(ns_layout *l, const ns_sweep_out *o, const ns_imap_plan *pl, ns_imap *m)
{
	uint32_t n = (uint32_t)o->starts.n;
	uint32_t *l1 = ns_lay(l, pl->l1.n * sizeof *l1, 64);
	uint32_t *l2 = ns_lay(l, pl->l2.n * sizeof *l2, 64);
	uint32_t *sv = ns_lay(l, 2 * n * sizeof *sv, 64);
	if (!l->base)
		return;
	memcpy(l1, pl->l1.data, pl->l1.n * sizeof *l1);
	if (pl->l2.n) /* no child nodes: l2.data may be NULL */
		memcpy(l2, pl->l2.data, pl->l2.n * sizeof *l2);
	const ns_u128 *s = o->starts.data;
	const uint32_t *v = o->vals.data;
	inline_leaves(l1, pl->l1.n, v);
	inline_leaves(l2, pl->l2.n, v);
	for (uint32_t i = 0; i < n; i++) {
		sv[2 * i] = (uint32_t)s[i];
		sv[2 * i + 1] = v[i];
	}
	*m = (ns_imap){l1, l2, sv, n, pl->shift1};
}

void ns_lay_imap6(ns_layout *l, const ns_sweep_out *o, const ns_imap_plan *pl, ns_imap6 *m)
{
	uint32_t n = (uint32_t)o->starts.n;
	uint32_t *l1 = ns_lay(l, pl->l1.n * sizeof *l1, 64);
	uint32_t *l2 = ns_lay(l, pl->l2.n * sizeof *l2, 64);
	ns_u128 *starts = ns_lay(l, n * sizeof *starts, 64);
	uint32_t *val = ns_lay(l, n * sizeof *val, 64);
	if (!l->base)
		return;
	memcpy(l1, pl->l1.data, pl->l1.n * sizeof *l1);
	if (pl->l2.n) /* no child nodes: l2.data may be NULL */
		memcpy(l2, pl->l2.data, pl->l2.n * sizeof *l2);
	memcpy(starts, o->starts.data, n * sizeof *starts);
	memcpy(val, o->vals.data, n * sizeof *val);
	inline_leaves(l1, pl->l1.n, val);
	inline_leaves(l2, pl->l2.n, val);
	*m = (ns_imap6){l1, l2, starts, val, n, pl->shift1};
}
