/* Tests for lib/base/prefixset.c: merging, membership, subtraction, CIDR output.
 *
 * The randomized tests use a fixed xorshift seed; set NSGSIM_TEST_SEED to a
 * number to run them from another one.  Every randomized failure message
 * names the seed it came from. */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/prefixset.h"
#include "xorshift.h"

#define U128_MAX (~(ns_u128)0)

/* ---- helpers ---- */

static ns_u128 u128_of_bytes(const unsigned char b[16])
{
	ns_u128 v = 0;
	int i;

	for (i = 0; i < 16; i++)
		v = (v << 8) | b[i];
	return v;
}

/* Parses one address ("10.0.0.1", "fe80::1"); returns the family. */
static int parse_addr(const char *s, size_t len, ns_u128 *addr)
{
	char tmp[64];
	unsigned char b[16];

	assert_true(len < sizeof tmp);
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (strchr(tmp, ':')) {
		if (inet_pton(AF_INET6, tmp, b) != 1)
			fail_msg("bad IPv6 address '%s'", tmp);
		*addr = u128_of_bytes(b);
		return 6;
	}
	if (inet_pton(AF_INET, tmp, b) != 1)
		fail_msg("bad IPv4 address '%s'", tmp);
	*addr = ((ns_u128)b[0] << 24) | ((ns_u128)b[1] << 16) | ((ns_u128)b[2] << 8) | b[3];
	return 4;
}

/* Adds one item: "a/plen", "a" (host) or "a-b" (a range). */
static void add_item(ns_psb *b, const char *s, size_t len)
{
	const char *dash = memchr(s, '-', len), *slash = memchr(s, '/', len);
	ns_u128 lo, hi;
	int fam;

	if (dash) {
		fam = parse_addr(s, (size_t)(dash - s), &lo);
		assert_int_equal(parse_addr(dash + 1, len - (size_t)(dash - s) - 1, &hi), fam);
	} else {
		int plen;

		fam = parse_addr(s, slash ? (size_t)(slash - s) : len, &lo);
		plen = slash ? atoi(slash + 1) : (fam == 4 ? 32 : 128);
		if (fam == 4) {
			ns_range4 r = ns_range4_of_prefix((uint32_t)lo, plen);

			lo = r.lo;
			hi = r.hi;
		} else {
			ns_range6 r = ns_range6_of_prefix(lo, plen);

			lo = r.lo;
			hi = r.hi;
		}
	}
	if (fam == 4)
		assert_int_equal(ns_psb_add4(b, (uint32_t)lo, (uint32_t)hi), 0);
	else
		assert_int_equal(ns_psb_add6(b, lo, hi), 0);
}

/* Adds a comma-separated list of items. */
static void add_list(ns_psb *b, const char *list)
{
	while (*list) {
		size_t n = strcspn(list, ",");

		if (n)
			add_item(b, list, n);
		list += n;
		if (*list == ',')
			list++;
	}
}

static void check_invariants(const ns_pset *s)
{
	size_t i;

	assert_true((s->n4 == 0) == (s->v4 == NULL));
	assert_true((s->n6 == 0) == (s->v6 == NULL));
	for (i = 0; i < s->n4; i++) {
		assert_true(s->v4[i].lo <= s->v4[i].hi);
		/* prev.hi + 1 < next.lo, written without overflow */
		if (i > 0)
			assert_true(s->v4[i - 1].hi < s->v4[i].lo &&
			            s->v4[i].lo - s->v4[i - 1].hi >= 2);
	}
	for (i = 0; i < s->n6; i++) {
		assert_true(s->v6[i].lo <= s->v6[i].hi);
		if (i > 0)
			assert_true(s->v6[i - 1].hi < s->v6[i].lo &&
			            s->v6[i].lo - s->v6[i - 1].hi >= 2);
	}
}

static ns_pset set_of(const char *list)
{
	ns_psb b;
	ns_pset s;

	ns_psb_init(&b);
	add_list(&b, list);
	assert_int_equal(ns_psb_finish(&b, &s), 0);
	assert_null(b.v4);
	assert_null(b.v6);
	assert_int_equal(b.n4 + b.n6 + b.cap4 + b.cap6, 0);
	check_invariants(&s);
	return s;
}

struct join {
	char s[4096];
	size_t len;
	size_t calls;
	int stop_after; /* return 7 from this call on; 0 = never */
};

static void join_add(struct join *j, const char *t, size_t n)
{
	assert_true(j->len + n + 2 < sizeof j->s);
	if (j->len)
		j->s[j->len++] = ',';
	memcpy(j->s + j->len, t, n);
	j->len += n;
	j->s[j->len] = '\0';
}

static int join_cb(void *ctx, int family, ns_u128 addr, int plen)
{
	struct join *j = ctx;
	char t[64];
	size_t n = ns_format_prefix(t, sizeof t, family, addr, plen);

	join_add(j, t, n);
	j->calls++;
	return j->stop_after && j->calls >= (size_t)j->stop_after ? 7 : 0;
}

/* The set's ranges as "lo-hi" text, v4 first. */
static void assert_ranges(const ns_pset *s, const char *want)
{
	struct join j = {.len = 0};
	char t[128];
	size_t i, n;

	j.s[0] = '\0';
	for (i = 0; i < s->n4; i++) {
		n = ns_format_prefix(t, sizeof t, 4, s->v4[i].lo, -1);
		t[n++] = '-';
		n += ns_format_prefix(t + n, sizeof t - n, 4, s->v4[i].hi, -1);
		join_add(&j, t, n);
	}
	for (i = 0; i < s->n6; i++) {
		n = ns_format_prefix(t, sizeof t, 6, s->v6[i].lo, -1);
		t[n++] = '-';
		n += ns_format_prefix(t + n, sizeof t - n, 6, s->v6[i].hi, -1);
		join_add(&j, t, n);
	}
	assert_string_equal(j.s, want);
}

static void assert_cidrs(const ns_pset *s, const char *want)
{
	struct join j = {.len = 0};

	j.s[0] = '\0';
	assert_int_equal(ns_pset_each_cidr(s, join_cb, &j), 0);
	assert_string_equal(j.s, want);
	assert_int_equal(ns_pset_cidr_count(s), j.calls);
}

static void assert_merge(const char *in, const char *want_ranges)
{
	ns_pset s = set_of(in);

	assert_ranges(&s, want_ranges);
	ns_pset_free(&s);
}

static bool has4(const char *list, const char *addr)
{
	ns_pset s = set_of(list);
	ns_u128 a;
	bool r;

	assert_int_equal(parse_addr(addr, strlen(addr), &a), 4);
	r = ns_pset_contains4(&s, (uint32_t)a);
	ns_pset_free(&s);
	return r;
}

static bool has6(const char *list, const char *addr)
{
	ns_pset s = set_of(list);
	ns_u128 a;
	bool r;

	assert_int_equal(parse_addr(addr, strlen(addr), &a), 6);
	r = ns_pset_contains6(&s, a);
	ns_pset_free(&s);
	return r;
}

/* ---- prefixes ---- */

static void test_range_of_prefix(void **state)
{
	ns_range4 r4;
	ns_range6 r6;
	ns_u128 a6 = ((ns_u128)0x20010db812345678u << 64) | 0x9abcdef012345678u;

	(void)state;
	r4 = ns_range4_of_prefix(0x0a0b0c0du, 0);
	assert_int_equal(r4.lo, 0);
	assert_int_equal(r4.hi, 0xffffffffu);
	r4 = ns_range4_of_prefix(0x0a0b0c0du, 32);
	assert_int_equal(r4.lo, 0x0a0b0c0du);
	assert_int_equal(r4.hi, 0x0a0b0c0du);
	r4 = ns_range4_of_prefix(0x0a0b0c0du, 24);
	assert_int_equal(r4.lo, 0x0a0b0c00u);
	assert_int_equal(r4.hi, 0x0a0b0cffu);
	r4 = ns_range4_of_prefix(0xffffffffu, 1);
	assert_int_equal(r4.lo, 0x80000000u);
	assert_int_equal(r4.hi, 0xffffffffu);
	r4 = ns_range4_of_prefix(0x0a0b0c0du, 31);
	assert_int_equal(r4.lo, 0x0a0b0c0cu);
	assert_int_equal(r4.hi, 0x0a0b0c0du);

	r6 = ns_range6_of_prefix(a6, 0);
	assert_true(r6.lo == 0 && r6.hi == U128_MAX);
	r6 = ns_range6_of_prefix(a6, 128);
	assert_true(r6.lo == a6 && r6.hi == a6);
	r6 = ns_range6_of_prefix(a6, 64);
	assert_true(r6.lo == ((ns_u128)0x20010db812345678u << 64));
	assert_true(r6.hi == (((ns_u128)0x20010db812345678u << 64) | 0xffffffffffffffffu));
	r6 = ns_range6_of_prefix(a6, 127);
	assert_true(r6.lo == (a6 & ~(ns_u128)1) && r6.hi == (a6 | 1));
	r6 = ns_range6_of_prefix(U128_MAX, 1);
	assert_true(r6.lo == (ns_u128)1 << 127 && r6.hi == U128_MAX);
}

/* ---- builder and merging ---- */

static void test_merge4(void **state)
{
	(void)state;
	assert_merge("", "");
	assert_merge("10.0.0.0/24,10.0.0.128/25,10.0.0.64/26", "10.0.0.0-10.0.0.255");
	/* overlapping, not contained */
	assert_merge("10.0.0.0-10.0.0.200,10.0.0.100-10.0.1.10", "10.0.0.0-10.0.1.10");
	/* adjacent */
	assert_merge("10.0.0.0/24,10.0.1.0/24", "10.0.0.0-10.0.1.255");
	assert_merge("10.0.1.0/24,10.0.0.0/24", "10.0.0.0-10.0.1.255");
	/* one apart: must stay two ranges */
	assert_merge("10.0.0.0-10.0.0.9,10.0.0.11-10.0.0.20",
	             "10.0.0.0-10.0.0.9,10.0.0.11-10.0.0.20");
	/* contained, both ways round */
	assert_merge("10.0.0.0/8,10.1.2.0/24", "10.0.0.0-10.255.255.255");
	assert_merge("10.1.2.0/24,10.0.0.0/8", "10.0.0.0-10.255.255.255");
	/* duplicates */
	assert_merge("192.168.0.0/16,192.168.0.0/16,192.168.0.0/16", "192.168.0.0-192.168.255.255");
	/* unsorted, with a chain that only closes at the end */
	assert_merge("10.0.3.0/24,172.16.0.0/12,10.0.0.0/24,10.0.2.0/24,1.2.3.4,10.0.1.0/24",
	             "1.2.3.4-1.2.3.4,10.0.0.0-10.0.3.255,172.16.0.0-172.31.255.255");
	/* the full space */
	assert_merge("0.0.0.0/0", "0.0.0.0-255.255.255.255");
	assert_merge("128.0.0.0/1,0.0.0.0/1", "0.0.0.0-255.255.255.255");
	assert_merge("0.0.0.0/0,255.255.255.255/32,10.0.0.0/8,0.0.0.0/32",
	             "0.0.0.0-255.255.255.255");
	/* the edges: hi + 1 wraps at 255.255.255.255 */
	assert_merge("0.0.0.0/32,255.255.255.255/32",
	             "0.0.0.0-0.0.0.0,255.255.255.255-255.255.255.255");
	assert_merge("255.255.255.255/32,255.255.255.254/32", "255.255.255.254-255.255.255.255");
	assert_merge("128.0.0.0/1,255.0.0.0/8,255.255.255.255", "128.0.0.0-255.255.255.255");
	assert_merge("255.255.255.255,0.0.0.0/1",
	             "0.0.0.0-127.255.255.255,255.255.255.255-255.255.255.255");
	assert_merge("0.0.0.0,0.0.0.1", "0.0.0.0-0.0.0.1");
	assert_merge("0.0.0.1,0.0.0.0/31", "0.0.0.0-0.0.0.1");
	/* empty intervals (lo > hi) add nothing */
	assert_merge("10.0.0.9-10.0.0.1", "");
}

static void test_merge6(void **state)
{
	(void)state;
	assert_merge("2001:db8::/64,2001:db8::8000:0:0:0/65,2001:db8::/66",
	             "2001:db8::-2001:db8::ffff:ffff:ffff:ffff");
	/* adjacent */
	assert_merge("2001:db8:0:1::/64,2001:db8::/64",
	             "2001:db8::-2001:db8:0:1:ffff:ffff:ffff:ffff");
	assert_merge("2001:db8::-2001:db8::ff,2001:db8::100-2001:db8::1ff",
	             "2001:db8::-2001:db8::1ff");
	/* one apart */
	assert_merge("2001:db8::-2001:db8::ff,2001:db8::101-2001:db8::1ff",
	             "2001:db8::-2001:db8::ff,2001:db8::101-2001:db8::1ff");
	/* overlapping, contained, duplicate, unsorted */
	assert_merge("fe80::/10,fe80::1,2001:db8::5-2001:db8::10,2001:db8::1-2001:db8::7,fe80::/10",
	             "2001:db8::1-2001:db8::10,fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	/* the full space and its edges */
	assert_merge("::/0", "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_merge("8000::/1,::/1", "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_merge("::/0,ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,::,2001:db8::/32",
	             "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_merge("::/128,ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
	             "::-::,ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff-ffff:ffff:ffff:ffff:ffff:ffff:"
	             "ffff:ffff");
	assert_merge(
	        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe",
	        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_merge("8000::/1,ffff::/16,ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	             "8000::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	/* mixed families stay apart */
	assert_merge("::/0,0.0.0.0/0,::ffff:0:0/96",
	             "0.0.0.0-255.255.255.255,::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_merge("2001:db8::9-2001:db8::1", "");
}

static void test_builder(void **state)
{
	ns_psb b;
	ns_pset s, t, u;
	int i;

	(void)state;
	/* an empty builder and an empty family give NULL and 0 */
	ns_psb_init(&b);
	assert_int_equal(ns_psb_finish(&b, &s), 0);
	assert_true(s.v4 == NULL && s.n4 == 0 && s.v6 == NULL && s.n6 == 0);
	assert_true(ns_pset_is_empty(&s));
	assert_false(ns_pset_contains4(&s, 0));
	assert_false(ns_pset_contains6(&s, 0));
	assert_int_equal(ns_pset_cidr_count(&s), 0);
	ns_pset_free(&s);
	ns_pset_free(NULL);

	s = set_of("10.0.0.0/8");
	assert_null(s.v6);
	assert_int_equal(s.n6, 0);
	assert_false(ns_pset_contains6(&s, 0x0a000001));
	assert_true(ns_pset_contains4(&s, 0x0a000001));
	ns_pset_free(&s);
	assert_true(ns_pset_is_empty(&s));

	s = set_of("2001:db8::/32");
	assert_null(s.v4);
	assert_false(ns_pset_contains4(&s, 0));
	ns_pset_free(&s);

	/* many adds force several geometric growths; the builder is reusable */
	ns_psb_init(&b);
	for (i = 999; i >= 0; i--) {
		assert_int_equal(ns_psb_add4(&b, (uint32_t)i * 4, (uint32_t)i * 4 + 1), 0);
		assert_int_equal(ns_psb_add6(&b, (ns_u128)i * 2, (ns_u128)i * 2 + 1), 0);
	}
	assert_int_equal(b.n4, 1000);
	assert_true(b.cap4 >= 1000 && b.cap6 >= 1000);
	assert_int_equal(ns_psb_finish(&b, &s), 0);
	check_invariants(&s);
	assert_int_equal(s.n4, 1000);
	assert_int_equal(s.n6, 1); /* ::-::7cf, all touching */
	assert_true(s.v6[0].lo == 0 && s.v6[0].hi == 1999);
	assert_true(ns_pset_contains4(&s, 3997));
	assert_false(ns_pset_contains4(&s, 3998));
	assert_int_equal(b.n4 + b.n6 + b.cap4 + b.cap6, 0);

	/* add_set unions with what is already there */
	assert_int_equal(ns_psb_add4(&b, 2, 3), 0);
	assert_int_equal(ns_psb_add6(&b, 5000, 6000), 0);
	assert_int_equal(ns_psb_add_set(&b, &s), 0);
	assert_int_equal(ns_psb_finish(&b, &t), 0);
	check_invariants(&t);
	assert_int_equal(t.n4, 999); /* 2-3 joins 0-1 and 4-5 */
	assert_true(t.v4[0].lo == 0 && t.v4[0].hi == 5);
	assert_true(t.v4[1].lo == 8 && t.v4[1].hi == 9);
	assert_int_equal(t.n6, 2);
	assert_true(t.v6[1].lo == 5000 && t.v6[1].hi == 6000);

	/* adding an empty set changes nothing; ns_psb_free discards contents */
	ns_psb_init(&b);
	u = (ns_pset){0};
	assert_int_equal(ns_psb_add_set(&b, &u), 0);
	assert_int_equal(b.n4 + b.n6, 0);
	assert_int_equal(ns_psb_add_set(&b, &s), 0);
	assert_int_equal(b.n4, 1000);
	ns_psb_free(&b);
	assert_true(b.v4 == NULL && b.n4 == 0 && b.cap4 == 0 && b.v6 == NULL);
	ns_psb_free(&b);

	ns_pset_free(&s);
	ns_pset_free(&t);
}

/* ---- membership ---- */

static void test_contains_known(void **state)
{
	const char *l = "10.0.0.0/24,10.0.2.0/24,192.168.1.1,0.0.0.0/32,255.255.255.254/31";

	(void)state;
	assert_true(has4(l, "10.0.0.0"));
	assert_true(has4(l, "10.0.0.255"));
	assert_false(has4(l, "10.0.1.0"));
	assert_false(has4(l, "9.255.255.255"));
	assert_true(has4(l, "10.0.2.128"));
	assert_false(has4(l, "10.0.3.0"));
	assert_true(has4(l, "192.168.1.1"));
	assert_false(has4(l, "192.168.1.0"));
	assert_false(has4(l, "192.168.1.2"));
	assert_true(has4(l, "0.0.0.0"));
	assert_false(has4(l, "0.0.0.1"));
	assert_true(has4(l, "255.255.255.255"));
	assert_true(has4(l, "255.255.255.254"));
	assert_false(has4(l, "255.255.255.253"));
	assert_false(has4("10.0.0.0/8", "9.255.255.255"));
	assert_true(has4("0.0.0.0/0", "255.255.255.255"));
	assert_true(has4("0.0.0.0/0", "0.0.0.0"));
	assert_false(has4("1.0.0.0/8", "0.0.0.0"));
	assert_false(has4("1.0.0.0/8", "255.255.255.255"));

	assert_true(has6("::/0", "::"));
	assert_true(has6("::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	assert_true(has6("2001:db8::/32,fe80::/64", "fe80::ffff:ffff:ffff:ffff"));
	assert_false(has6("2001:db8::/32,fe80::/64", "fe80:0:0:1::"));
	assert_false(has6("2001:db8::/32,fe80::/64", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff"));
	assert_false(has6("2001:db8::/32,fe80::/64", "::"));
	assert_false(has6("2001:db8::/32,fe80::/64", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	assert_true(has6("::,ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::"));
	assert_false(has6("::,ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::1"));
}

static uint64_t base_seed(void)
{
	return test_seed(0x6e7367736d31ull);
}

static uint64_t round_seed(uint64_t base, uint64_t round)
{
	uint64_t s = base ^ (round * 0x9e3779b97f4a7c15ull);

	s = s ? s : 1;
	xs64(&s);
	return s;
}

static ns_u128 rand_u128(uint64_t *st)
{
	ns_u128 hi = xs64(st);

	return (hi << 64) | xs64(st);
}

#define NBASES 6

/* A random family of prefixes ("ranges" of both widths as u128 pairs).
 * Most cluster around a few bases -- including the bottom and the top of the
 * space -- so that they overlap, nest and touch; a few are short. */
struct fam {
	int width; /* 32 or 128 */
	ns_u128 bases[NBASES];
	size_t n;
	ns_u128 *lo, *hi;
};

static ns_u128 width_max(int width)
{
	return width == 32 ? (ns_u128)UINT32_MAX : U128_MAX;
}

static void fam_bases(struct fam *f, int width, uint64_t *st)
{
	int i;

	f->width = width;
	f->bases[0] = 0;
	f->bases[1] = width_max(width);
	for (i = 2; i < NBASES; i++)
		f->bases[i] = rand_u128(st) & width_max(width);
}

static void rand_prefix(const struct fam *f, uint64_t *st, ns_u128 *lo, ns_u128 *hi)
{
	int w = f->width, plen;
	uint64_t r = xs64(st);
	ns_u128 addr;

	if (r % 16 < 9) { /* clustered: low 16 bits vary, long prefixes */
		addr = f->bases[(r >> 8) % NBASES] ^ (xs64(st) & 0xffff);
		plen = w - (int)(xs64(st) % 17);
	} else if (r % 16 < 15) { /* anywhere, medium to long */
		addr = rand_u128(st) & width_max(w);
		plen = w / 4 + (int)(xs64(st) % (uint64_t)(w - w / 4 + 1));
	} else { /* short */
		addr = rand_u128(st) & width_max(w);
		plen = 2 + (int)(xs64(st) % 10);
	}
	if (w == 32) {
		ns_range4 r4 = ns_range4_of_prefix((uint32_t)addr, plen);

		*lo = r4.lo;
		*hi = r4.hi;
	} else {
		ns_range6 r6 = ns_range6_of_prefix(addr, plen);

		*lo = r6.lo;
		*hi = r6.hi;
	}
}

static void fam_fill(struct fam *f, size_t n, uint64_t *st)
{
	size_t i;

	f->n = n;
	f->lo = calloc(n ? n : 1, sizeof *f->lo);
	f->hi = calloc(n ? n : 1, sizeof *f->hi);
	assert_non_null(f->lo);
	assert_non_null(f->hi);
	for (i = 0; i < n; i++)
		rand_prefix(f, st, &f->lo[i], &f->hi[i]);
}

static void fam_release(struct fam *f)
{
	free(f->lo);
	free(f->hi);
	f->lo = f->hi = NULL;
}

static void fam_add(const struct fam *f, ns_psb *b)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		if (f->width == 32)
			assert_int_equal(ns_psb_add4(b, (uint32_t)f->lo[i], (uint32_t)f->hi[i]), 0);
		else
			assert_int_equal(ns_psb_add6(b, f->lo[i], f->hi[i]), 0);
	}
}

static bool fam_scan(const struct fam *f, ns_u128 a)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (f->lo[i] <= a && a <= f->hi[i])
			return true;
	return false;
}

static bool set_has(const ns_pset *s, int width, ns_u128 a)
{
	return width == 32 ? ns_pset_contains4(s, (uint32_t)a) : ns_pset_contains6(s, a);
}

/* Probe addresses: random ones, near the bases, and for every prefix of the
 * given families its lo, hi, middle, lo - 1 and hi + 1 (wrapping). */
struct probes {
	size_t n;
	ns_u128 *a;
};

static void probes_make(struct probes *p, const struct fam *f1, const struct fam *f2, uint64_t *st)
{
	const struct fam *fs[2] = {f1, f2};
	ns_u128 m = width_max(f1->width);
	size_t nrand = 500, cap = 2 * nrand + 5 * (f1->n + (f2 ? f2->n : 0)), i, k;

	p->a = calloc(cap, sizeof *p->a);
	assert_non_null(p->a);
	p->n = 0;
	for (i = 0; i < nrand; i++) {
		p->a[p->n++] = rand_u128(st) & m;
		p->a[p->n++] = (f1->bases[i % NBASES] ^ (xs64(st) & 0x1ffff)) & m;
	}
	for (k = 0; k < 2; k++) {
		if (!fs[k])
			continue;
		for (i = 0; i < fs[k]->n; i++) {
			ns_u128 lo = fs[k]->lo[i], hi = fs[k]->hi[i];

			p->a[p->n++] = lo;
			p->a[p->n++] = hi;
			p->a[p->n++] = lo + (hi - lo) / 2;
			p->a[p->n++] = (lo - 1) & m;
			p->a[p->n++] = (hi + 1) & m;
		}
	}
	assert_true(p->n <= cap);
}

static const char *u128_text(char *buf, size_t cap, int width, ns_u128 a)
{
	ns_format_prefix(buf, cap, width == 32 ? 4 : 6, a, -1);
	return buf;
}

static void random_contains(int width, size_t n, int rounds, uint64_t base)
{
	int round;

	for (round = 0; round < rounds; round++) {
		uint64_t seed =
		        round_seed(base, (uint64_t)width * 1000003u + n * 101u + (unsigned)round);
		uint64_t st = seed;
		struct fam f = {0};
		struct probes p;
		ns_psb b;
		ns_pset s;
		size_t i;

		fam_bases(&f, width, &st);
		fam_fill(&f, n, &st);
		ns_psb_init(&b);
		fam_add(&f, &b);
		assert_int_equal(ns_psb_finish(&b, &s), 0);
		check_invariants(&s);
		assert_true(s.n4 + s.n6 <= n);
		probes_make(&p, &f, NULL, &st);
		for (i = 0; i < p.n; i++) {
			bool want = fam_scan(&f, p.a[i]), got = set_has(&s, width, p.a[i]);

			if (got != want) {
				char t[64];

				fail_msg("seed %#llx (NSGSIM_TEST_SEED=%#llx) IPv%d n=%zu: "
				         "contains(%s) = %d, linear scan says %d",
				         (unsigned long long)seed, (unsigned long long)base,
				         width == 32 ? 4 : 6, n,
				         u128_text(t, sizeof t, width, p.a[i]), got, want);
			}
		}
		free(p.a);
		fam_release(&f);
		ns_pset_free(&s);
	}
}

static void test_random_contains4(void **state)
{
	uint64_t base = base_seed();

	(void)state;
	random_contains(32, 1, 200, base);
	random_contains(32, 10, 100, base);
	random_contains(32, 1000, 4, base);
}

static void test_random_contains6(void **state)
{
	uint64_t base = base_seed();

	(void)state;
	random_contains(128, 1, 200, base);
	random_contains(128, 10, 100, base);
	random_contains(128, 1000, 4, base);
}

/* ---- CIDR decomposition and text ---- */

static void assert_cidrs_of(const char *in, const char *want)
{
	ns_pset s = set_of(in);

	assert_cidrs(&s, want);
	ns_pset_free(&s);
}

static void test_cidr_known(void **state)
{
	(void)state;
	assert_cidrs_of("", "");
	assert_cidrs_of("10.0.0.0/16,10.1.0.0/16", "10.0.0.0/15");
	assert_cidrs_of("10.1.0.0/16,10.2.0.0/16", "10.1.0.0/16,10.2.0.0/16");
	assert_cidrs_of("168.63.129.16/32", "168.63.129.16/32");
	assert_cidrs_of("10.0.0.1-10.0.0.6", "10.0.0.1/32,10.0.0.2/31,10.0.0.4/31,10.0.0.6/32");
	assert_cidrs_of("10.0.0.0-10.0.0.254",
	                "10.0.0.0/25,10.0.0.128/26,10.0.0.192/27,10.0.0.224/28,10.0.0.240/29,"
	                "10.0.0.248/30,10.0.0.252/31,10.0.0.254/32");
	assert_cidrs_of("0.0.0.0/0", "0.0.0.0/0");
	assert_cidrs_of("0.0.0.0/1,128.0.0.0/1", "0.0.0.0/0");
	assert_cidrs_of("0.0.0.1-255.255.255.255",
	                "0.0.0.1/32,0.0.0.2/31,0.0.0.4/30,0.0.0.8/29,0.0.0.16/28,0.0.0.32/27,"
	                "0.0.0.64/26,0.0.0.128/25,0.0.1.0/24,0.0.2.0/23,0.0.4.0/22,0.0.8.0/21,"
	                "0.0.16.0/20,0.0.32.0/19,0.0.64.0/18,0.0.128.0/17,0.1.0.0/16,0.2.0.0/15,"
	                "0.4.0.0/14,0.8.0.0/13,0.16.0.0/12,0.32.0.0/11,0.64.0.0/10,0.128.0.0/9,"
	                "1.0.0.0/8,2.0.0.0/7,4.0.0.0/6,8.0.0.0/5,16.0.0.0/4,32.0.0.0/3,64.0.0.0/2,"
	                "128.0.0.0/1");
	assert_cidrs_of("255.255.255.255,0.0.0.0", "0.0.0.0/32,255.255.255.255/32");
	assert_cidrs_of("255.255.255.253-255.255.255.255", "255.255.255.253/32,255.255.255.254/31");
	assert_cidrs_of("::/0", "::/0");
	assert_cidrs_of("::/1,8000::/1", "::/0");
	assert_cidrs_of("fe80::1234:5678:9abc/128", "fe80::1234:5678:9abc/128");
	assert_cidrs_of("2001:db8::/33,2001:db8:8000::/33,10.0.0.0/8", "10.0.0.0/8,2001:db8::/32");
	assert_cidrs_of("::1-::6", "::1/128,::2/127,::4/127,::6/128");
	assert_cidrs_of(
	        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffd-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffd/128,"
	        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127");
	assert_cidrs_of("::,ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	                "::/128,ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
}

static void test_cidr_full_minus_one6(void **state)
{
	ns_pset s = set_of("::1-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	ns_pset t = set_of("::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
	struct join j = {.len = 0};

	(void)state;
	/* one block of each length /128 .. /1 */
	assert_int_equal(ns_pset_cidr_count(&s), 128);
	assert_int_equal(ns_pset_cidr_count(&t), 128);
	j.s[0] = '\0';
	j.stop_after = 3;
	assert_int_equal(ns_pset_each_cidr(&s, join_cb, &j), 7);
	assert_int_equal(j.calls, 3);
	assert_string_equal(j.s, "::1/128,::2/127,::4/126");
	ns_pset_free(&s);
	ns_pset_free(&t);
}

static void test_cidr_stop(void **state)
{
	ns_pset s = set_of("10.0.0.1-10.0.0.6,2001:db8::/32");
	struct join j = {.len = 0};

	(void)state;
	j.s[0] = '\0';
	j.stop_after = 4;
	assert_int_equal(ns_pset_each_cidr(&s, join_cb, &j), 7);
	assert_int_equal(j.calls, 4);
	j.len = 0;
	j.s[0] = '\0';
	j.calls = 0;
	j.stop_after = 5; /* the v6 one */
	assert_int_equal(ns_pset_each_cidr(&s, join_cb, &j), 7);
	assert_int_equal(j.calls, 5);
	assert_string_equal(j.s, "10.0.0.1/32,10.0.0.2/31,10.0.0.4/31,10.0.0.6/32,2001:db8::/32");
	assert_int_equal(ns_pset_cidr_count(&s), 5);
	ns_pset_free(&s);
}

static void test_format(void **state)
{
	char buf[80];
	ns_u128 a6;

	(void)state;
	assert_int_equal(ns_format_prefix(buf, sizeof buf, 4, 0x0a000000u, 16), 11);
	assert_string_equal(buf, "10.0.0.0/16");
	assert_int_equal(ns_format_prefix(buf, sizeof buf, 4, 0xa83f8110u, -1), 13);
	assert_string_equal(buf, "168.63.129.16");
	ns_format_prefix(buf, sizeof buf, 4, 0xffffffffu, 32);
	assert_string_equal(buf, "255.255.255.255/32");
	ns_format_prefix(buf, sizeof buf, 4, 0, 0);
	assert_string_equal(buf, "0.0.0.0/0");
	parse_addr("fe80::1234:5678:9abc", 20, &a6);
	assert_int_equal(ns_format_prefix(buf, sizeof buf, 6, a6, 128), 24);
	assert_string_equal(buf, "fe80::1234:5678:9abc/128");
	ns_format_prefix(buf, sizeof buf, 6, 0, 0);
	assert_string_equal(buf, "::/0");
	ns_format_prefix(buf, sizeof buf, 6, (ns_u128)0x20010db8u << 96, 32);
	assert_string_equal(buf, "2001:db8::/32");
	ns_format_prefix(buf, sizeof buf, 6, 1, -1);
	assert_string_equal(buf, "::1");
	ns_format_prefix(buf, sizeof buf, 6, U128_MAX, 128);
	assert_string_equal(buf, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
	ns_format_prefix(buf, sizeof buf, 6, ((ns_u128)0xffff << 32) | 0x0a000001u, -1);
	assert_string_equal(buf, "::ffff:10.0.0.1");
	/* truncation */
	memset(buf, 'x', sizeof buf);
	assert_int_equal(ns_format_prefix(buf, 5, 4, 0x0a000000u, 16), 4);
	assert_string_equal(buf, "10.0");
	assert_int_equal(buf[5], 'x');
	assert_int_equal(ns_format_prefix(buf, 1, 4, 0x0a000000u, 16), 0);
	assert_string_equal(buf, "");
	buf[0] = 'x';
	assert_int_equal(ns_format_prefix(buf, 0, 4, 0x0a000000u, 16), 0);
	assert_int_equal(buf[0], 'x');
	assert_int_equal(ns_format_prefix(buf, 12, 4, 0x0a000000u, 16), 11);
	assert_string_equal(buf, "10.0.0.0/16");
	assert_int_equal(ns_format_prefix(buf, 11, 4, 0x0a000000u, 16), 10);
	assert_string_equal(buf, "10.0.0.0/1");
	assert_int_equal(ns_format_prefix(buf, 8, 6, a6, 128), 7);
	assert_string_equal(buf, "fe80::1");
}

struct collect {
	size_t n, cap;
	int *fam, *plen;
	ns_u128 *addr;
};

static int collect_cb(void *ctx, int family, ns_u128 addr, int plen)
{
	struct collect *c = ctx;

	if (c->n == c->cap) {
		size_t nc = c->cap ? 2 * c->cap : 64;
		int *f = realloc(c->fam, nc * sizeof *f);
		ns_u128 *a;

		assert_non_null(f);
		c->fam = f;
		f = realloc(c->plen, nc * sizeof *f);
		assert_non_null(f);
		c->plen = f;
		a = realloc(c->addr, nc * sizeof *a);
		assert_non_null(a);
		c->addr = a;
		c->cap = nc;
	}
	c->fam[c->n] = family;
	c->plen[c->n] = plen;
	c->addr[c->n] = addr;
	c->n++;
	return 0;
}

/* The emitted blocks: well-formed, ascending, v4 first; no two consecutive
 * blocks are buddies (which one shorter prefix would replace); rebuilding
 * from them gives the same set. */
static void check_cidrs(const ns_pset *s, uint64_t seed)
{
	struct collect c = {0};
	ns_psb b;
	ns_pset t;
	size_t i;
	ns_u128 prev_hi = 0;

	assert_int_equal(ns_pset_each_cidr(s, collect_cb, &c), 0);
	if (ns_pset_cidr_count(s) != c.n)
		fail_msg("seed %#llx: cidr_count %zu != %zu callbacks", (unsigned long long)seed,
		         ns_pset_cidr_count(s), c.n);
	assert_true(c.n >= s->n4 + s->n6);
	ns_psb_init(&b);
	for (i = 0; i < c.n; i++) {
		int w = c.fam[i] == 4 ? 32 : 128;
		ns_u128 size_m1, lo = c.addr[i];

		assert_true(c.fam[i] == 4 || c.fam[i] == 6);
		assert_true(c.plen[i] >= 0 && c.plen[i] <= w);
		if (w == 32)
			assert_true(lo <= UINT32_MAX);
		size_m1 = c.plen[i] >= w ? 0 : width_max(w) >> c.plen[i];
		if ((lo & size_m1) != 0)
			fail_msg("seed %#llx: block %zu not aligned", (unsigned long long)seed, i);
		if (i > 0 && c.fam[i - 1] > c.fam[i])
			fail_msg("seed %#llx: IPv6 before IPv4", (unsigned long long)seed);
		if (i > 0 && c.fam[i - 1] == c.fam[i]) {
			if (lo <= prev_hi)
				fail_msg("seed %#llx: block %zu not ascending",
				         (unsigned long long)seed, i);
			/* buddies: same length, adjacent, the first aligned one level up */
			if (c.plen[i - 1] == c.plen[i] && c.plen[i] > 0 && prev_hi + 1 == lo &&
			    (c.addr[i - 1] & ((size_m1 << 1) | 1)) == 0)
				fail_msg("seed %#llx: blocks %zu and %zu could be one /%d",
				         (unsigned long long)seed, i - 1, i, c.plen[i] - 1);
		}
		prev_hi = lo + size_m1;
		if (w == 32) {
			ns_range4 r = ns_range4_of_prefix((uint32_t)lo, c.plen[i]);

			assert_int_equal(ns_psb_add4(&b, r.lo, r.hi), 0);
		} else {
			ns_range6 r = ns_range6_of_prefix(lo, c.plen[i]);

			assert_int_equal(ns_psb_add6(&b, r.lo, r.hi), 0);
		}
	}
	assert_int_equal(ns_psb_finish(&b, &t), 0);
	if (!ns_pset_equal(s, &t))
		fail_msg("seed %#llx: set rebuilt from its CIDRs differs",
		         (unsigned long long)seed);
	ns_pset_free(&t);
	free(c.fam);
	free(c.plen);
	free(c.addr);
}

static void test_random_cidr(void **state)
{
	static const size_t ns[] = {1, 10, 1000};
	static const int rounds[] = {100, 50, 3};
	uint64_t base = base_seed();
	size_t k;
	int round;

	(void)state;
	for (k = 0; k < 3; k++) {
		for (round = 0; round < rounds[k]; round++) {
			uint64_t seed = round_seed(base, 7777 + ns[k] * 101u + (unsigned)round);
			uint64_t st = seed;
			struct fam f4 = {0}, f6 = {0};
			ns_psb b;
			ns_pset s;

			fam_bases(&f4, 32, &st);
			fam_bases(&f6, 128, &st);
			fam_fill(&f4, ns[k], &st);
			fam_fill(&f6, ns[k], &st);
			ns_psb_init(&b);
			fam_add(&f4, &b);
			fam_add(&f6, &b);
			assert_int_equal(ns_psb_finish(&b, &s), 0);
			check_cidrs(&s, seed);
			ns_pset_free(&s);
			fam_release(&f4);
			fam_release(&f6);
		}
	}
}

/* ---- subtract, copy, equal ---- */

static void assert_sub(const char *a, const char *b, const char *want_cidrs)
{
	ns_pset sa = set_of(a), sb = set_of(b), d;

	assert_int_equal(ns_pset_subtract(&sa, &sb, &d), 0);
	check_invariants(&d);
	assert_cidrs(&d, want_cidrs);
	ns_pset_free(&sa);
	ns_pset_free(&sb);
	ns_pset_free(&d);
}

static void test_subtract_known(void **state)
{
	(void)state;
	assert_sub("0.0.0.0/0", "10.0.0.0/8",
	           "0.0.0.0/5,8.0.0.0/7,11.0.0.0/8,12.0.0.0/6,16.0.0.0/4,32.0.0.0/3,64.0.0.0/2,"
	           "128.0.0.0/1");
	assert_sub("0.0.0.0/0", "0.0.0.0/0", "");
	assert_sub("0.0.0.0/0", "", "0.0.0.0/0");
	assert_sub("", "10.0.0.0/8", "");
	assert_sub("0.0.0.0/0", "0.0.0.0/1", "128.0.0.0/1");
	assert_sub("0.0.0.0/0", "128.0.0.0/1", "0.0.0.0/1");
	/* 0.0.0.1-255.255.255.254: one block of each length /32../2 on each side */
	assert_sub("0.0.0.0/0", "0.0.0.0,255.255.255.255",
	           "0.0.0.1/32,0.0.0.2/31,0.0.0.4/30,0.0.0.8/29,0.0.0.16/28,0.0.0.32/27,"
	           "0.0.0.64/26,0.0.0.128/25,0.0.1.0/24,0.0.2.0/23,0.0.4.0/22,0.0.8.0/21,"
	           "0.0.16.0/20,0.0.32.0/19,0.0.64.0/18,0.0.128.0/17,0.1.0.0/16,0.2.0.0/15,"
	           "0.4.0.0/14,0.8.0.0/13,0.16.0.0/12,0.32.0.0/11,0.64.0.0/10,0.128.0.0/9,"
	           "1.0.0.0/8,2.0.0.0/7,4.0.0.0/6,8.0.0.0/5,16.0.0.0/4,32.0.0.0/3,64.0.0.0/2,"
	           "128.0.0.0/2,192.0.0.0/3,224.0.0.0/4,240.0.0.0/5,248.0.0.0/6,252.0.0.0/7,"
	           "254.0.0.0/8,255.0.0.0/9,255.128.0.0/10,255.192.0.0/11,255.224.0.0/12,"
	           "255.240.0.0/13,255.248.0.0/14,255.252.0.0/15,255.254.0.0/16,255.255.0.0/17,"
	           "255.255.128.0/18,255.255.192.0/19,255.255.224.0/20,255.255.240.0/21,"
	           "255.255.248.0/22,255.255.252.0/23,255.255.254.0/24,255.255.255.0/25,"
	           "255.255.255.128/26,255.255.255.192/27,255.255.255.224/28,255.255.255.240/29,"
	           "255.255.255.248/30,255.255.255.252/31,255.255.255.254/32");
	assert_sub("10.0.0.0/8", "10.0.0.0/8,11.0.0.0/8", "");
	assert_sub("10.0.0.0/8", "9.0.0.0/8,11.0.0.0/8", "10.0.0.0/8");
	assert_sub("10.0.0.0/16", "10.0.1.0/24,10.0.3.0/24",
	           "10.0.0.0/24,10.0.2.0/24,10.0.4.0/22,"
	           "10.0.8.0/21,10.0.16.0/20,10.0.32.0/19,10.0.64.0/18,10.0.128.0/17");
	/* one range of b spanning several of a, and the other way round */
	assert_sub("10.0.0.0/24,10.0.2.0/24,10.0.4.0/24,10.0.6.0/24", "10.0.0.128-10.0.4.127",
	           "10.0.0.0/25,10.0.4.128/25,10.0.6.0/24");
	assert_sub("10.0.0.0/24,10.0.2.0/24", "10.0.0.0/32,10.0.0.255,10.0.2.1-10.0.2.254",
	           "10.0.0.1/32,10.0.0.2/31,10.0.0.4/30,10.0.0.8/29,10.0.0.16/28,10.0.0.32/27,"
	           "10.0.0.64/26,10.0.0.128/26,10.0.0.192/27,10.0.0.224/28,10.0.0.240/29,"
	           "10.0.0.248/30,10.0.0.252/31,10.0.0.254/32,10.0.2.0/32,10.0.2.255/32");
	/* families are independent */
	assert_sub("0.0.0.0/0,::/0", "::/1", "0.0.0.0/0,8000::/1");
	assert_sub("0.0.0.0/0,::/0", "0.0.0.0/0", "::/0");
	assert_sub("::/0", "::/0", "");
	assert_sub("::/0", "8000::/1", "::/1");
}

static void test_subtract_edges6(void **state)
{
	ns_pset a = set_of("::/0"), b = set_of("::,ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), d;

	(void)state;
	assert_int_equal(ns_pset_subtract(&a, &b, &d), 0);
	check_invariants(&d);
	assert_int_equal(d.n6, 1);
	assert_true(d.v6[0].lo == 1 && d.v6[0].hi == U128_MAX - 1);
	assert_int_equal(ns_pset_cidr_count(&d), 2 * 127);
	assert_false(ns_pset_contains6(&d, 0));
	assert_false(ns_pset_contains6(&d, U128_MAX));
	assert_true(ns_pset_contains6(&d, 1));
	assert_true(ns_pset_contains6(&d, U128_MAX - 1));
	ns_pset_free(&a);
	ns_pset_free(&b);
	ns_pset_free(&d);
}

static void test_copy_equal(void **state)
{
	ns_pset a = set_of("10.0.0.0/8,2001:db8::/32"), b = set_of("10.0.0.0/8,2001:db8::/33"),
	        c = set_of("10.0.0.0/8"), e = set_of(""), cp, ecp;

	(void)state;
	assert_true(ns_pset_equal(&a, &a));
	assert_false(ns_pset_equal(&a, &b));
	assert_false(ns_pset_equal(&a, &c));
	assert_false(ns_pset_equal(&c, &e));
	assert_true(ns_pset_equal(&e, &e));
	assert_false(ns_pset_is_empty(&a));
	assert_true(ns_pset_is_empty(&e));
	assert_int_equal(ns_pset_copy(&a, &cp), 0);
	assert_true(ns_pset_equal(&a, &cp));
	assert_ptr_not_equal(a.v4, cp.v4);
	assert_ptr_not_equal(a.v6, cp.v6);
	ns_pset_free(&a);
	check_invariants(&cp);
	assert_true(ns_pset_contains6(&cp, (ns_u128)0x20010db8u << 96));
	assert_int_equal(ns_pset_copy(&e, &ecp), 0);
	assert_true(ecp.v4 == NULL && ecp.v6 == NULL && ns_pset_is_empty(&ecp));
	assert_int_equal(ns_pset_copy(&c, &ecp), 0);
	assert_null(ecp.v6);
	assert_true(ns_pset_equal(&c, &ecp));
	ns_pset_free(&ecp);
	/* same ranges, different hi */
	ns_pset_free(&b);
	b = set_of("10.0.0.0/9,2001:db8::/32");
	assert_false(ns_pset_equal(&cp, &b));
	ns_pset_free(&b);
	ns_pset_free(&c);
	ns_pset_free(&e);
	ns_pset_free(&cp);
}

static void random_subtract(int width, size_t na, size_t nb, int rounds, uint64_t base)
{
	int round;

	for (round = 0; round < rounds; round++) {
		uint64_t seed = round_seed(base, 31337 + (uint64_t)width * 7919u + na * 1009u +
		                                         nb * 13u + (unsigned)round);
		uint64_t st = seed;
		struct fam fa = {0}, fb;
		struct probes p;
		ns_psb b;
		ns_pset sa, sb, d;
		size_t i;

		fam_bases(&fa, width, &st);
		fb = fa; /* the same clusters, so that a and b interleave */
		fam_fill(&fa, na, &st);
		fam_fill(&fb, nb, &st);
		ns_psb_init(&b);
		fam_add(&fa, &b);
		assert_int_equal(ns_psb_finish(&b, &sa), 0);
		fam_add(&fb, &b);
		assert_int_equal(ns_psb_finish(&b, &sb), 0);
		assert_int_equal(ns_pset_subtract(&sa, &sb, &d), 0);
		check_invariants(&d);
		probes_make(&p, &fa, &fb, &st);
		for (i = 0; i < p.n; i++) {
			ns_u128 a = p.a[i];
			bool want = fam_scan(&fa, a) && !fam_scan(&fb, a);
			bool got = set_has(&d, width, a);

			if (got != want) {
				char t[64];

				fail_msg("seed %#llx (NSGSIM_TEST_SEED=%#llx) IPv%d %zu minus %zu: "
				         "contains(%s) = %d, linear scan says %d",
				         (unsigned long long)seed, (unsigned long long)base,
				         width == 32 ? 4 : 6, na, nb,
				         u128_text(t, sizeof t, width, a), got, want);
			}
		}
		free(p.a);
		fam_release(&fa);
		fam_release(&fb);
		ns_pset_free(&sa);
		ns_pset_free(&sb);
		ns_pset_free(&d);
	}
}

static void test_random_subtract(void **state)
{
	static const size_t ns[] = {1, 10, 1000};
	uint64_t base = base_seed();
	size_t i, j;

	(void)state;
	for (i = 0; i < 3; i++) {
		for (j = 0; j < 3; j++) {
			int rounds = ns[i] + ns[j] > 1000 ? 2 : 40;

			random_subtract(32, ns[i], ns[j], rounds, base);
			random_subtract(128, ns[i], ns[j], rounds, base);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_range_of_prefix),
	        cmocka_unit_test(test_merge4),
	        cmocka_unit_test(test_merge6),
	        cmocka_unit_test(test_builder),
	        cmocka_unit_test(test_contains_known),
	        cmocka_unit_test(test_random_contains4),
	        cmocka_unit_test(test_random_contains6),
	        cmocka_unit_test(test_cidr_known),
	        cmocka_unit_test(test_cidr_full_minus_one6),
	        cmocka_unit_test(test_cidr_stop),
	        cmocka_unit_test(test_format),
	        cmocka_unit_test(test_random_cidr),
	        cmocka_unit_test(test_subtract_known),
	        cmocka_unit_test(test_subtract_edges6),
	        cmocka_unit_test(test_copy_equal),
	        cmocka_unit_test(test_random_subtract),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
