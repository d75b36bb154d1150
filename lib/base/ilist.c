/* Interval lists (base/ilist.h).
 *
 * May touch: lib/base. */
#include <stdlib.h>
#include <string.h>

#include "base/ilist.h"

/* Room for n intervals, not cleared: every list is written before it is
 * read (clearing them was 6% of a lint of the bench estate). */
static ns_ivl *alloc_ivls(ns_arena *ar, size_t n)
{
	return ns_arena_alloc_raw(ar, (n ? n : 1) * sizeof(ns_ivl));
}

int ns_il_one(ns_arena *ar, ns_u128 lo, ns_u128 hi, ns_ilist *out)
{
	ns_ivl *v = alloc_ivls(ar, 1);
	if (!v)
		return -1;
	v[0] = (ns_ivl){lo, hi};
	*out = (ns_ilist){v, 1};
	return 0;
}

static int cmp_ivl(const void *pa, const void *pb)
{
	const ns_ivl *a = pa, *b = pb;
	return a->lo < b->lo ? -1 : a->lo > b->lo;
}

/* Merges sorted intervals in place (overlapping or touching); the count. */
static size_t merge_sorted(ns_ivl *v, size_t n)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (m && (v[i].lo <= v[m - 1].hi ||
		          (v[m - 1].hi != ~(ns_u128)0 && v[i].lo == v[m - 1].hi + 1))) {
			if (v[i].hi > v[m - 1].hi)
				v[m - 1].hi = v[i].hi;
			continue;
		}
		v[m++] = v[i];
	}
	return m;
}

int ns_il_from(ns_arena *ar, const ns_ivl *b, size_t n, ns_ilist *out)
{
	ns_ivl *v = alloc_ivls(ar, n);
	if (!v)
		return -1;
	memcpy(v, b, n * sizeof *v);
	qsort(v, n, sizeof *v, cmp_ivl);
	*out = (ns_ilist){v, merge_sorted(v, n)};
	return 0;
}

int ns_il_copy(ns_arena *ar, const ns_ivl *v, size_t n, ns_ilist *out)
{
	ns_ivl *c = alloc_ivls(ar, n);
	if (!c)
		return -1;
	memcpy(c, v, n * sizeof *c);
	*out = (ns_ilist){c, n};
	return 0;
}

/* a and b merged into out (room for a.n + b.n); the count. */
static size_t merge_two(ns_ilist a, ns_ilist b, ns_ivl *out)
{
	size_t n = 0, i = 0, j = 0;
	while (i < a.n || j < b.n)
		out[n++] = j >= b.n || (i < a.n && a.v[i].lo <= b.v[j].lo) ? a.v[i++] : b.v[j++];
	return merge_sorted(out, n);
}

int ns_il_union(ns_arena *ar, const ns_ilist *lists, size_t k, ns_ilist *out)
{
	size_t total = 0;
	for (size_t i = 0; i < k; i++)
		total += lists[i].n;
	ns_ilist *cur = malloc((k + 1) * sizeof *cur);
	ns_ivl *buf[2] = {malloc((total + 1) * sizeof(ns_ivl)),
	                  malloc((total + 1) * sizeof(ns_ivl))};
	int rc = cur && buf[0] && buf[1] ? 0 : -1;
	if (rc == 0)
		memcpy(cur, lists, k * sizeof *cur);
	/* Each round merges neighbours into the other buffer. */
	for (int side = 0; rc == 0 && k > 1; side ^= 1) {
		size_t m = 0, at = 0;
		for (size_t i = 0; i < k; i += 2) {
			ns_ilist b = i + 1 < k ? cur[i + 1] : (ns_ilist){NULL, 0};
			size_t n = merge_two(cur[i], b, buf[side] + at);
			cur[m++] = (ns_ilist){buf[side] + at, n};
			at += n;
		}
		k = m;
	}
	if (rc == 0)
		rc = ns_il_copy(ar, k ? cur[0].v : NULL, k ? cur[0].n : 0, out);
	free(cur);
	free(buf[0]);
	free(buf[1]);
	return rc;
}

int ns_il_of_pset(ns_arena *ar, const ns_pset *s, int family, ns_ilist *out)
{
	size_t n = family == 4 ? s->n4 : s->n6;
	ns_ivl *v = alloc_ivls(ar, n);
	if (!v)
		return -1;
	for (size_t i = 0; i < n; i++)
		v[i] = family == 4 ? (ns_ivl){s->v4[i].lo, s->v4[i].hi}
		                   : (ns_ivl){s->v6[i].lo, s->v6[i].hi};
	*out = (ns_ilist){v, n};
	return 0;
}

/* The i-th range of a set's family as an interval. */
static ns_ivl pset_at(const ns_pset *s, int family, size_t i)
{
	return family == 4 ? (ns_ivl){s->v4[i].lo, s->v4[i].hi}
	                   : (ns_ivl){s->v6[i].lo, s->v6[i].hi};
}

static size_t pset_n(const ns_pset *s, int family)
{
	return family == 4 ? s->n4 : s->n6;
}

/* The first range of the set whose hi is at least x. */
static size_t pset_from(const ns_pset *s, int family, ns_u128 x)
{
	size_t lo = 0, hi = pset_n(s, family);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (pset_at(s, family, mid).hi < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Intersection of two sorted lists given as accessors. */
typedef ns_ivl (*ivl_at_fn)(const void *src, int family, size_t i);

static ns_ivl list_at(const void *src, int family, size_t i)
{
	(void)family;
	return ((const ns_ilist *)src)->v[i];
}

static ns_ivl set_at(const void *src, int family, size_t i)
{
	return pset_at(src, family, i);
}

/* The first interval of b from jb on whose lo is above x (nb when none). */
static size_t first_above(const void *b, size_t jb, size_t nb, ivl_at_fn at, int family, ns_u128 x)
{
	size_t lo = jb, hi = nb;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (at(b, family, mid).lo <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int intersect(ns_arena *ar, ns_ilist a, const void *b, size_t nb, size_t jb, ivl_at_fn at,
                     int family, ns_ilist *out)
{
	/* Only b's intervals that start by a's last end can meet a, and each
	 * piece of the result ends one interval of a or of those: room for
	 * that many, not for all of b (a service tag's thousands of ranges
	 * against one interval). */
	if (a.n)
		nb = first_above(b, jb, nb, at, family, a.v[a.n - 1].hi);
	ns_ivl *v = alloc_ivls(ar, a.n + (nb > jb ? nb - jb : 0));
	if (!v)
		return -1;
	size_t n = 0, i = 0, j = jb;
	while (i < a.n && j < nb) {
		ns_ivl x = a.v[i], y = at(b, family, j);
		ns_u128 lo = x.lo > y.lo ? x.lo : y.lo, hi = x.hi < y.hi ? x.hi : y.hi;
		if (lo <= hi)
			v[n++] = (ns_ivl){lo, hi};
		if (x.hi < y.hi)
			i++;
		else
			j++;
	}
	*out = (ns_ilist){v, n};
	return 0;
}

int ns_il_and(ns_arena *ar, ns_ilist a, ns_ilist b, ns_ilist *out)
{
	return intersect(ar, a, &b, b.n, 0, list_at, 0, out);
}

int ns_il_and_pset(ns_arena *ar, ns_ilist a, const ns_pset *s, int family, ns_ilist *out)
{
	if (!s) {
		*out = a;
		return 0;
	}
	size_t start = a.n ? pset_from(s, family, a.v[0].lo) : 0;
	return intersect(ar, a, s, pset_n(s, family), start, set_at, family, out);
}

int ns_il_minus(ns_arena *ar, ns_ilist a, ns_ilist b, ns_ilist *out)
{
	ns_ivl *v = alloc_ivls(ar, a.n + b.n);
	if (!v)
		return -1;
	size_t n = 0, j = 0;
	for (size_t i = 0; i < a.n; i++) {
		ns_u128 lo = a.v[i].lo, hi = a.v[i].hi;
		bool done = false;
		while (j < b.n && b.v[j].hi < lo)
			j++;
		for (size_t k = j; k < b.n && b.v[k].lo <= hi; k++) {
			if (b.v[k].lo > lo)
				v[n++] = (ns_ivl){lo, b.v[k].lo - 1};
			if (b.v[k].hi >= hi) {
				done = true;
				break;
			}
			lo = b.v[k].hi + 1;
		}
		if (!done)
			v[n++] = (ns_ivl){lo, hi};
	}
	*out = (ns_ilist){v, n};
	return 0;
}

int ns_il_or(ns_arena *ar, ns_ilist a, ns_ilist b, ns_ilist *out)
{
	ns_ivl *v = alloc_ivls(ar, a.n + b.n);
	if (!v)
		return -1;
	size_t n = 0, i = 0, j = 0;
	while (i < a.n || j < b.n)
		v[n++] = j >= b.n || (i < a.n && a.v[i].lo <= b.v[j].lo) ? a.v[i++] : b.v[j++];
	*out = (ns_ilist){v, merge_sorted(v, n)};
	return 0;
}

bool ns_il_equal(ns_ilist a, ns_ilist b)
{
	return a.n == b.n && (a.n == 0 || memcmp(a.v, b.v, a.n * sizeof *a.v) == 0);
}

bool ns_il_contains(ns_ilist a, ns_u128 x)
{
	size_t lo = 0, hi = a.n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a.v[mid].hi < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < a.n && a.v[lo].lo <= x;
}

bool ns_il_subset(ns_ilist a, ns_ilist b)
{
	size_t j = 0;
	for (size_t i = 0; i < a.n; i++) {
		while (j < b.n && b.v[j].hi < a.v[i].lo)
			j++;
		if (j == b.n || b.v[j].lo > a.v[i].lo || b.v[j].hi < a.v[i].hi)
			return false;
	}
	return true;
}

bool ns_il_meets_pset(ns_ilist a, const ns_pset *s, int family)
{
	if (!s)
		return a.n > 0;
	size_t n = pset_n(s, family), j = a.n ? pset_from(s, family, a.v[0].lo) : n;
	for (size_t i = 0; i < a.n && j < n;) {
		ns_ivl y = pset_at(s, family, j);
		if (y.hi < a.v[i].lo)
			j++;
		else if (a.v[i].hi < y.lo)
			i++;
		else
			return true;
	}
	return false;
}

bool ns_il_in_pset(ns_ilist a, const ns_pset *s, int family)
{
	if (!s)
		return true;
	size_t n = pset_n(s, family);
	for (size_t i = 0; i < a.n; i++) {
		size_t j = pset_from(s, family, a.v[i].lo);
		if (j == n)
			return false;
		ns_ivl y = pset_at(s, family, j);
		/* The set's ranges neither overlap nor touch: one must hold it. */
		if (y.lo > a.v[i].lo || y.hi < a.v[i].hi)
			return false;
	}
	return true;
}

uint64_t ns_il_hash(ns_ilist a, uint64_t h)
{
	for (size_t i = 0; i < a.n; i++) {
		uint64_t w[4] = {(uint64_t)a.v[i].lo, (uint64_t)(a.v[i].lo >> 64),
		                 (uint64_t)a.v[i].hi, (uint64_t)(a.v[i].hi >> 64)};
		for (int k = 0; k < 4; k++)
			h = (h ^ w[k]) * 0x100000001B3ull;
	}
	return (h ^ a.n) * 0x100000001B3ull;
}

uint64_t ns_il_size(ns_ilist a)
{
	ns_u128 total = 0;
	for (size_t i = 0; i < a.n; i++) {
		ns_u128 w = a.v[i].hi - a.v[i].lo;
		if (w >= UINT64_MAX || total + w + 1 >= UINT64_MAX)
			return UINT64_MAX;
		total += w + 1;
	}
	return (uint64_t)total;
}

int ns_ivl_append(ns_vec *v, ns_u128 lo, ns_u128 hi)
{
	ns_ivl *a = v->data;
	if (v->n && a[v->n - 1].hi + 1 == lo) {
		a[v->n - 1].hi = hi;
		return 0;
	}
	ns_ivl *x = ns_vec_push(v);
	if (!x)
		return -1;
	*x = (ns_ivl){lo, hi};
	return 0;
}
