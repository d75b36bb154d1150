/* Address sets as merged, sorted, disjoint intervals per family.
 * See prefixset.h for the interface and the invariants of a finished set. */
#define _POSIX_C_SOURCE 200809L

#include "base/prefixset.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_U128_MAX    (~(ns_u128)0)
#define NS_PSB_MIN_CAP 8

/* ---- prefixes ---- */

ns_range4 ns_range4_of_prefix(uint32_t addr, int plen)
{
	ns_range4 r;
	uint32_t host;

	if (plen < 0)
		plen = 0;
	/* A shift by 32 would be undefined: /32 has no host bits at all. */
	host = plen >= 32 ? 0 : UINT32_MAX >> plen;
	r.lo = addr & ~host;
	r.hi = addr | host;
	return r;
}

ns_range6 ns_range6_of_prefix(ns_u128 addr, int plen)
{
	ns_range6 r;
	ns_u128 host;

	if (plen < 0)
		plen = 0;
	host = plen >= 128 ? 0 : NS_U128_MAX >> plen;
	r.lo = addr & ~host;
	r.hi = addr | host;
	return r;
}

/* ---- builder ---- */

void ns_psb_init(ns_psb *b)
{
	b->v4 = NULL;
	b->n4 = 0;
	b->cap4 = 0;
	b->v6 = NULL;
	b->n6 = 0;
	b->cap6 = 0;
}

void ns_psb_free(ns_psb *b)
{
	free(b->v4);
	free(b->v6);
	ns_psb_init(b);
}

/* Grows an array to hold at least n + extra elements, geometrically.  On
 * failure returns -1 and leaves *arr and *cap untouched. */
static int reserve(void **arr, size_t *cap, size_t n, size_t extra, size_t elsz)
{
	size_t need, nc;
	void *p;

	if (extra > SIZE_MAX - n)
		return -1;
	need = n + extra;
	if (need <= *cap)
		return 0;
	nc = *cap ? *cap : NS_PSB_MIN_CAP;
	while (nc < need)
		nc = nc > SIZE_MAX / 2 ? need : nc * 2;
	if (nc > SIZE_MAX / elsz)
		return -1;
	p = realloc(*arr, nc * elsz);
	if (!p)
		return -1;
	*arr = p;
	*cap = nc;
	return 0;
}

static int reserve4(ns_psb *b, size_t extra)
{
	void *p = b->v4;

	if (reserve(&p, &b->cap4, b->n4, extra, sizeof *b->v4))
		return -1;
	b->v4 = p;
	return 0;
}

static int reserve6(ns_psb *b, size_t extra)
{
	void *p = b->v6;

	if (reserve(&p, &b->cap6, b->n6, extra, sizeof *b->v6))
		return -1;
	b->v6 = p;
	return 0;
}

/* lo > hi denotes the empty interval: nothing to add. */
int ns_psb_add4(ns_psb *b, uint32_t lo, uint32_t hi)
{
	if (lo > hi)
		return 0;
	if (reserve4(b, 1))
		return -1;
	b->v4[b->n4].lo = lo;
	b->v4[b->n4].hi = hi;
	b->n4++;
	return 0;
}

int ns_psb_add6(ns_psb *b, ns_u128 lo, ns_u128 hi)
{
	if (lo > hi)
		return 0;
	if (reserve6(b, 1))
		return -1;
	b->v6[b->n6].lo = lo;
	b->v6[b->n6].hi = hi;
	b->n6++;
	return 0;
}

int ns_psb_add_set(ns_psb *b, const ns_pset *s)
{
	/* Reserve both families before copying anything, so that a failure
	 * leaves the contents unchanged (only spare capacity may have grown). */
	if (reserve4(b, s->n4) || reserve6(b, s->n6))
		return -1;
	if (s->n4) {
		memcpy(b->v4 + b->n4, s->v4, s->n4 * sizeof *s->v4);
		b->n4 += s->n4;
	}
	if (s->n6) {
		memcpy(b->v6 + b->n6, s->v6, s->n6 * sizeof *s->v6);
		b->n6 += s->n6;
	}
	return 0;
}

static int cmp4(const void *pa, const void *pb)
{
	const ns_range4 *a = pa, *b = pb;

	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	return 0;
}

static int cmp6(const void *pa, const void *pb)
{
	const ns_range6 *a = pa, *b = pb;

	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	return 0;
}

static bool sorted4(const ns_range4 *a, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (a[i].lo < a[i - 1].lo)
			return false;
	return true;
}

static bool sorted6(const ns_range6 *a, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (a[i].lo < a[i - 1].lo)
			return false;
	return true;
}

/* Sorts and merges in place; returns the merged count.  "Touching" is tested
 * as next.lo - 1 == cur.hi (next.lo > cur.hi >= 0 there), never as
 * cur.hi + 1, which wraps at the top of the address space. */
static size_t merge4(ns_range4 *a, size_t n)
{
	size_t i, o = 0;

	if (n == 0)
		return 0;
	if (!sorted4(a, n)) /* service-tag files list most prefixes in order */
		qsort(a, n, sizeof *a, cmp4);
	for (i = 1; i < n; i++) {
		if (a[i].lo <= a[o].hi || a[i].lo - 1 == a[o].hi) {
			if (a[i].hi > a[o].hi)
				a[o].hi = a[i].hi;
		} else {
			a[++o] = a[i];
		}
	}
	return o + 1;
}

static size_t merge6(ns_range6 *a, size_t n)
{
	size_t i, o = 0;

	if (n == 0)
		return 0;
	if (!sorted6(a, n))
		qsort(a, n, sizeof *a, cmp6);
	for (i = 1; i < n; i++) {
		if (a[i].lo <= a[o].hi || a[i].lo - 1 == a[o].hi) {
			if (a[i].hi > a[o].hi)
				a[o].hi = a[i].hi;
		} else {
			a[++o] = a[i];
		}
	}
	return o + 1;
}

/* Shrinks an array to n elements; NULL when n is 0.  A failed shrink keeps
 * the (larger, still valid) original block. */
static void *shrink(void *p, size_t n, size_t elsz)
{
	void *q;

	if (n == 0) {
		free(p);
		return NULL;
	}
	q = realloc(p, n * elsz);
	return q ? q : p;
}

/* Merging happens in place in the builder's arrays, which then move to *out,
 * so finishing needs no new memory and cannot fail. */
int ns_psb_finish(ns_psb *b, ns_pset *out)
{
	size_t n4 = merge4(b->v4, b->n4);
	size_t n6 = merge6(b->v6, b->n6);

	out->v4 = shrink(b->v4, n4, sizeof *b->v4);
	out->n4 = n4;
	out->v6 = shrink(b->v6, n6, sizeof *b->v6);
	out->n6 = n6;
	ns_psb_init(b);
	return 0;
}

/* ---- finished sets ---- */

static void pset_clear(ns_pset *s)
{
	s->v4 = NULL;
	s->n4 = 0;
	s->v6 = NULL;
	s->n6 = 0;
}

void ns_pset_free(ns_pset *s)
{
	if (!s)
		return;
	free(s->v4);
	free(s->v6);
	pset_clear(s);
}

bool ns_pset_is_empty(const ns_pset *s)
{
	return !s || (s->n4 == 0 && s->n6 == 0);
}

bool ns_pset_equal(const ns_pset *a, const ns_pset *b)
{
	size_t i;

	if (a->n4 != b->n4 || a->n6 != b->n6)
		return false;
	for (i = 0; i < a->n4; i++)
		if (a->v4[i].lo != b->v4[i].lo || a->v4[i].hi != b->v4[i].hi)
			return false;
	for (i = 0; i < a->n6; i++)
		if (a->v6[i].lo != b->v6[i].lo || a->v6[i].hi != b->v6[i].hi)
			return false;
	return true;
}

/* 1 when x > y, else 0: the borrow out of y - x (Hacker's Delight 2-13).
 * Written as arithmetic rather than a ?: select, because clang's x86 cmov
 * converter turns such a select inside a loop back into a branch. */
static inline size_t gt4(uint32_t x, uint32_t y)
{
	uint32_t d = y - x;

	return (size_t)(((~y & x) | ((~y | x) & d)) >> 31);
}

static inline size_t gt6(ns_u128 x, ns_u128 y)
{
	ns_u128 d = y - x;

	return (size_t)(((~y & x) | ((~y | x) & d)) >> 127);
}

/* Finds the last range with lo <= addr without data-dependent branches: the
 * number of steps depends only on n, and each step advances base by half
 * exactly when base[half].lo <= addr (the mask gt - 1 is 0 or all ones).  If
 * no range starts at or below addr, base stays at the first range, whose lo
 * is then > addr.  Finally one check of addr <= hi. */
bool ns_pset_contains4(const ns_pset *s, uint32_t addr)
{
	const ns_range4 *base = s->v4;
	size_t n = s->n4;

	if (n == 0)
		return false;
	while (n > 1) {
		size_t half = n / 2;

		base += half & (gt4(base[half].lo, addr) - 1);
		n -= half;
	}
	return (base->lo <= addr) & (addr <= base->hi);
}

bool ns_pset_contains6(const ns_pset *s, ns_u128 addr)
{
	const ns_range6 *base = s->v6;
	size_t n = s->n6;

	if (n == 0)
		return false;
	while (n > 1) {
		size_t half = n / 2;

		base += half & (gt6(base[half].lo, addr) - 1);
		n -= half;
	}
	return (base->lo <= addr) & (addr <= base->hi);
}

/* a minus b over sorted disjoint ranges.  With out == NULL only counts.  The
 * pieces come out sorted and non-touching: pieces of one range of a are
 * separated by ranges of b, pieces of different ranges by gaps of a. */
static size_t sub4(const ns_range4 *a, size_t na, const ns_range4 *b, size_t nb, ns_range4 *out)
{
	size_t i, j = 0, o = 0;

	for (i = 0; i < na; i++) {
		uint32_t lo = a[i].lo, hi = a[i].hi;
		bool rest = true;

		while (j < nb && b[j].hi < lo)
			j++;
		/* Here b[j].hi >= lo, so b[j] overlaps [lo, hi] if b[j].lo <= hi. */
		for (; j < nb && b[j].lo <= hi; j++) {
			if (b[j].lo > lo) {
				if (out) {
					out[o].lo = lo;
					out[o].hi = b[j].lo - 1;
				}
				o++;
			}
			if (b[j].hi >= hi) {
				/* b[j] may reach into the next range of a: keep j. */
				rest = false;
				break;
			}
			lo = b[j].hi + 1; /* b[j].hi < hi: no overflow */
		}
		if (rest) {
			if (out) {
				out[o].lo = lo;
				out[o].hi = hi;
			}
			o++;
		}
	}
	return o;
}

static size_t sub6(const ns_range6 *a, size_t na, const ns_range6 *b, size_t nb, ns_range6 *out)
{
	size_t i, j = 0, o = 0;

	for (i = 0; i < na; i++) {
		ns_u128 lo = a[i].lo, hi = a[i].hi;
		bool rest = true;

		while (j < nb && b[j].hi < lo)
			j++;
		for (; j < nb && b[j].lo <= hi; j++) {
			if (b[j].lo > lo) {
				if (out) {
					out[o].lo = lo;
					out[o].hi = b[j].lo - 1;
				}
				o++;
			}
			if (b[j].hi >= hi) {
				rest = false;
				break;
			}
			lo = b[j].hi + 1;
		}
		if (rest) {
			if (out) {
				out[o].lo = lo;
				out[o].hi = hi;
			}
			o++;
		}
	}
	return o;
}

/* malloc(n * elsz), or NULL for n == 0 (*ok stays true then). */
static void *alloc_array(size_t n, size_t elsz, bool *ok)
{
	void *p;

	if (n == 0)
		return NULL;
	if (n > SIZE_MAX / elsz) {
		*ok = false;
		return NULL;
	}
	p = malloc(n * elsz);
	if (!p)
		*ok = false;
	return p;
}

int ns_pset_subtract(const ns_pset *a, const ns_pset *b, ns_pset *out)
{
	ns_pset r;
	bool ok = true;

	r.n4 = sub4(a->v4, a->n4, b->v4, b->n4, NULL);
	r.n6 = sub6(a->v6, a->n6, b->v6, b->n6, NULL);
	r.v4 = alloc_array(r.n4, sizeof *r.v4, &ok);
	r.v6 = alloc_array(r.n6, sizeof *r.v6, &ok);
	if (!ok) {
		free(r.v4);
		free(r.v6);
		pset_clear(out);
		return -1;
	}
	sub4(a->v4, a->n4, b->v4, b->n4, r.v4);
	sub6(a->v6, a->n6, b->v6, b->n6, r.v6);
	*out = r;
	return 0;
}

int ns_pset_copy(const ns_pset *a, ns_pset *out)
{
	ns_pset r;
	bool ok = true;

	r.n4 = a->n4;
	r.n6 = a->n6;
	r.v4 = alloc_array(r.n4, sizeof *r.v4, &ok);
	r.v6 = alloc_array(r.n6, sizeof *r.v6, &ok);
	if (!ok) {
		free(r.v4);
		free(r.v6);
		pset_clear(out);
		return -1;
	}
	if (r.n4)
		memcpy(r.v4, a->v4, r.n4 * sizeof *r.v4);
	if (r.n6)
		memcpy(r.v6, a->v6, r.n6 * sizeof *r.v6);
	*out = r;
	return 0;
}

/* ---- CIDR decomposition ---- */

/* Greedy: the largest block aligned at lo that ends at or before hi, then
 * continue after it.  Block masks are built as (m << 1) | 1, so no shift is
 * ever by the full width, and lo only advances when lo + m < hi.  One range
 * [lo, hi] of a family of `bits` address bits. */
static int cidr_range(ns_u128 lo, ns_u128 hi, int family, int bits, ns_cidr_fn fn, void *ctx,
                      size_t *count)
{
	for (;;) {
		ns_u128 span = hi - lo, m = 0;
		int k = 0;
		while (k < bits) {
			ns_u128 nm = (m << 1) | 1;
			if ((lo & nm) != 0 || nm > span)
				break;
			m = nm;
			k++;
		}
		if (fn) {
			int rc = fn(ctx, family, lo, bits - k);
			if (rc)
				return rc;
		}
		if (count)
			++*count;
		if (m == span)
			return 0;
		lo += m + 1;
	}
}

static int cidr4(const ns_range4 *r, size_t n, ns_cidr_fn fn, void *ctx, size_t *count)
{
	for (size_t i = 0; i < n; i++) {
		int rc = cidr_range(r[i].lo, r[i].hi, 4, 32, fn, ctx, count);
		if (rc)
			return rc;
	}
	return 0;
}

static int cidr6(const ns_range6 *r, size_t n, ns_cidr_fn fn, void *ctx, size_t *count)
{
	for (size_t i = 0; i < n; i++) {
		int rc = cidr_range(r[i].lo, r[i].hi, 6, 128, fn, ctx, count);
		if (rc)
			return rc;
	}
	return 0;
}

int ns_pset_each_cidr(const ns_pset *s, ns_cidr_fn fn, void *ctx)
{
	int rc = cidr4(s->v4, s->n4, fn, ctx, NULL);

	if (rc)
		return rc;
	return cidr6(s->v6, s->n6, fn, ctx, NULL);
}

size_t ns_pset_cidr_count(const ns_pset *s)
{
	size_t count = 0;

	cidr4(s->v4, s->n4, NULL, NULL, &count);
	cidr6(s->v6, s->n6, NULL, NULL, &count);
	return count;
}

/* ---- text ---- */

/* Writes v in decimal at p; the number of digits.  By hand rather than
 * snprintf: a region listing formats hundreds of thousands of prefixes, and
 * snprintf's format parsing was most of its time. */
static size_t put_decimal(char *p, unsigned v)
{
	char rev[12];
	size_t n = 0;
	do {
		rev[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		p[i] = rev[n - 1 - i];
	return n;
}

size_t ns_format_prefix(char *buf, size_t cap, int family, ns_u128 addr, int plen)
{
	/* Longest: a 45-character IPv6 address plus "/-2147483648". */
	char tmp[INET6_ADDRSTRLEN + 16];
	size_t len = 0;

	tmp[0] = '\0';
	if (family == 4) {
		uint32_t a = (uint32_t)addr;
		for (int shift = 24; shift >= 0; shift -= 8) {
			len += put_decimal(tmp + len, (a >> shift) & 0xffu);
			if (shift)
				tmp[len++] = '.';
		}
	} else if (family == 6) {
		unsigned char bytes[16];
		int i;

		for (i = 15; i >= 0; i--) {
			bytes[i] = (unsigned char)(addr & 0xffu);
			addr >>= 8;
		}
		if (inet_ntop(AF_INET6, bytes, tmp, sizeof tmp))
			len = strlen(tmp);
		else
			tmp[0] = '\0';
	}
	if (len > 0 && plen >= 0) {
		tmp[len++] = '/';
		len += put_decimal(tmp + len, (unsigned)plen);
	}
	if (cap == 0)
		return 0;
	if (len > cap - 1)
		len = cap - 1;
	memcpy(buf, tmp, len);
	buf[len] = '\0';
	return len;
}
