/* Building blocks of the classifier build: interning tables (a class is a
 * distinct bitset, a policy-wide class a distinct tuple), and the sweep
 * that cuts one field's key space into elementary intervals and gives each
 * the class of the rules matching it (see compile/classifier.h).
 *
 * May touch: lib/base and the compiled policy (compile/policy.h). */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "compile/cls_build.h"

/* ---- interning ----------------------------------------------------------------- */

int ns_intern_init(ns_intern *t, size_t key_words)
{
	memset(t, 0, sizeof *t);
	t->key_words = key_words;
	ns_vec_init(&t->keys, sizeof(uint32_t));
	ns_vec_init(&t->hashes, sizeof(uint64_t));
	t->n_slots = 1024;
	t->slots = calloc(t->n_slots, sizeof *t->slots);
	return t->slots ? 0 : -1;
}

void ns_intern_free(ns_intern *t)
{
	ns_vec_free(&t->keys);
	ns_vec_free(&t->hashes);
	free(t->slots);
	t->slots = NULL;
}

void ns_intern_settle(ns_intern *t)
{
	ns_vec_free(&t->hashes);
	free(t->slots);
	t->slots = NULL;
	t->n_slots = 0;
	size_t bytes = t->keys.n * t->keys.elem;
	void *exact = bytes ? realloc(t->keys.data, bytes) : NULL;
	if (exact) { /* else the larger block stays: the keys are still there */
		t->keys.data = exact;
		t->keys.cap = t->keys.n;
	}
}

static int intern_grow(ns_intern *t)
{
	size_t n = t->n_slots * 2;
	uint32_t *s = calloc(n, sizeof *s);
	if (!s)
		return -1;
	const uint64_t *hs = t->hashes.data;
	for (size_t k = 0; k < t->n; k++) {
		size_t i = (size_t)hs[k] & (n - 1);
		while (s[i])
			i = (i + 1) & (n - 1);
		s[i] = (uint32_t)k + 1;
	}
	free(t->slots);
	t->slots = s;
	t->n_slots = n;
	return 0;
}

int64_t ns_intern_put(ns_intern *t, const uint32_t *key, uint64_t hash, bool *added)
{
	size_t kw = t->key_words, i = (size_t)hash & (t->n_slots - 1);
	const uint64_t *hs = t->hashes.data;
	for (; t->slots[i]; i = (i + 1) & (t->n_slots - 1)) {
		size_t k = t->slots[i] - 1;
		const uint32_t *have = (const uint32_t *)t->keys.data + k * kw;
		if (hs[k] == hash && (kw == 0 || memcmp(have, key, kw * sizeof *key) == 0)) {
			if (added)
				*added = false;
			return (int64_t)k;
		}
	}
	size_t k = t->n;
	uint64_t *h;
	if (k >= UINT32_MAX / 2 || ns_vec_reserve(&t->keys, kw) != 0 ||
	    !(h = ns_vec_push(&t->hashes)))
		return -1;
	if (kw) /* a key of no words: one empty tuple, nothing to copy */
		memcpy((uint32_t *)t->keys.data + t->keys.n, key, kw * sizeof *key);
	t->keys.n += kw;
	*h = hash;
	t->slots[i] = (uint32_t)k + 1;
	t->n++;
	if (added)
		*added = true;
	if (t->n * 2 > t->n_slots && intern_grow(t) != 0)
		return -1;
	return (int64_t)k;
}

/* ---- the class table ------------------------------------------------------------ */

int ns_ct_init(ns_ctab *t, size_t n_rules, size_t words)
{
	memset(t, 0, sizeof *t);
	t->words = words;
	t->keys = malloc((n_rules + 1) * sizeof *t->keys);
	if (ns_intern_init(&t->set, 2 * words) != 0 || !t->keys)
		return -1;
	for (size_t i = 0; i < n_rules; i++)
		t->keys[i] = ns_splitmix64(i * 0x2545F4914F6CDD1Dull + 1);
	return 0;
}

void ns_ct_free(ns_ctab *t)
{
	ns_intern_free(&t->set);
	free(t->keys);
}

uint64_t ns_ct_hash(const ns_ctab *t, const uint64_t *b)
{
	uint64_t h = 0;
	for (size_t k = 0; k < t->words; k++)
		for (uint64_t w = b[k]; w; w &= w - 1)
			h ^= t->keys[k * 64 + (size_t)__builtin_ctzll(w)];
	return h;
}

int64_t ns_ct_intern(ns_ctab *t, const uint64_t *b, uint64_t h)
{
	int64_t c = ns_intern_put(&t->set, (const uint32_t *)(const void *)b, h, NULL);
	/* Maps hold a class as a 32-bit offset in words. */
	if (c < 0 || ((uint64_t)c + 1) * t->words > UINT32_MAX)
		return -1;
	return c * (int64_t)t->words;
}

int64_t ns_ct_intern_plain(ns_ctab *t, const uint64_t *b)
{
	return ns_ct_intern(t, b, ns_ct_hash(t, b));
}

/* ---- the sweep's input ---------------------------------------------------------- */

int ns_sw_init(ns_sweep_in *in, size_t words, ns_u128 kmax)
{
	ns_vec_init(&in->rng, sizeof(ns_range6));
	ns_vec_init(&in->rng_off, sizeof(size_t));
	ns_vec_init(&in->rules, sizeof(uint32_t));
	ns_vec_init(&in->rule_off, sizeof(size_t));
	in->kmax = kmax;
	in->any = calloc(words, sizeof *in->any);
	size_t *a = ns_vec_push(&in->rng_off), *b = ns_vec_push(&in->rule_off);
	if (!in->any || !a || !b)
		return -1;
	*a = *b = 0;
	return 0;
}

void ns_sw_free(ns_sweep_in *in)
{
	ns_vec_free(&in->rng);
	ns_vec_free(&in->rng_off);
	ns_vec_free(&in->rules);
	ns_vec_free(&in->rule_off);
	free(in->any);
}

static size_t sw_groups(const ns_sweep_in *in)
{
	return in->rng_off.n - 1;
}

int ns_sw_add_range(ns_sweep_in *in, ns_u128 lo, ns_u128 hi)
{
	ns_range6 *r = ns_vec_push(&in->rng);
	if (!r)
		return -1;
	r->lo = lo;
	r->hi = hi;
	return 0;
}

int ns_sw_add_rule(ns_sweep_in *in, uint32_t rule)
{
	uint32_t *r = ns_vec_push(&in->rules);
	if (!r)
		return -1;
	*r = rule;
	return 0;
}

int ns_sw_close_group(ns_sweep_in *in)
{
	size_t *a = ns_vec_push(&in->rng_off), *b = ns_vec_push(&in->rule_off);
	if (!a || !b)
		return -1;
	*a = in->rng.n;
	*b = in->rules.n;
	return 0;
}

/* ---- sorted keys ------------------------------------------------------------------ */

int ns_cmp_u128(const void *pa, const void *pb)
{
	ns_u128 a = *(const ns_u128 *)pa, b = *(const ns_u128 *)pb;
	return a < b ? -1 : a > b;
}

size_t ns_find_u128(const ns_u128 *b, size_t m, ns_u128 key)
{
	size_t lo = 0, hi = m;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (b[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t ns_sort_unique_u128(ns_u128 *b, size_t m)
{
	qsort(b, m, sizeof *b, ns_cmp_u128);
	size_t u = 0;
	for (size_t i = 0; i < m; i++)
		if (u == 0 || b[i] != b[u - 1])
			b[u++] = b[i];
	return u;
}

/* ---- the sweep ---------------------------------------------------------------------- */

void ns_sweep_out_init(ns_sweep_out *o)
{
	ns_vec_init(&o->starts, sizeof(ns_u128));
	ns_vec_init(&o->vals, sizeof(uint32_t));
}

void ns_sweep_out_free(ns_sweep_out *o)
{
	ns_vec_free(&o->starts);
	ns_vec_free(&o->vals);
}

bool ns_sweep_emit(ns_sweep_out *o, ns_u128 start, uint32_t val, int64_t *last)
{
	if ((int64_t)val == *last)
		return true;
	ns_u128 *s = ns_vec_push(&o->starts);
	uint32_t *v = ns_vec_push(&o->vals);
	if (!s || !v)
		return false;
	*s = start;
	*v = val;
	*last = val;
	return true;
}

/* Toggle events per elementary interval of b[0..m), grouped by position:
 * on return (*ev)[cnt[j-1] .. cnt[j]) are the groups whose ranges start or
 * end at b[j]. */
static int sweep_events(const ns_sweep_in *in, const ns_u128 *b, size_t m, size_t **cnt_out,
                        uint32_t **ev_out)
{
	const ns_range6 *rng = in->rng.data;
	size_t n_rng = in->rng.n;
	const size_t *roff = in->rng_off.data;
	size_t *cnt = calloc(m + 1, sizeof *cnt);
	uint32_t *ev = malloc((2 * n_rng + 1) * sizeof *ev);
	*cnt_out = cnt;
	*ev_out = ev;
	if (!cnt || !ev)
		return -1;
	for (size_t i = 0; i < n_rng; i++) {
		cnt[ns_find_u128(b, m, rng[i].lo) + 1]++;
		if (rng[i].hi < in->kmax)
			cnt[ns_find_u128(b, m, rng[i].hi + 1) + 1]++;
	}
	for (size_t j = 0; j < m; j++)
		cnt[j + 1] += cnt[j];
	for (size_t g = 0; g < sw_groups(in); g++) {
		for (size_t i = roff[g]; i < roff[g + 1]; i++) {
			ev[cnt[ns_find_u128(b, m, rng[i].lo)]++] = (uint32_t)g;
			if (rng[i].hi < in->kmax)
				ev[cnt[ns_find_u128(b, m, rng[i].hi + 1)]++] = (uint32_t)g;
		}
	}
	return 0;
}

int ns_sweep(ns_ctab *t, const ns_sweep_in *in, ns_sweep_out *out)
{
	ns_sweep_out_init(out);
	const ns_range6 *rng = in->rng.data;
	size_t n_rng = in->rng.n;
	const size_t *uoff = in->rule_off.data;
	const uint32_t *rules = in->rules.data;
	ns_u128 *b = malloc((2 * n_rng + 1) * sizeof *b);
	size_t *cnt = NULL;
	uint32_t *ev = NULL;
	uint64_t *cur = malloc(t->words * sizeof *cur);
	int rc = -1;
	if (!b || !cur)
		goto out;
	/* Elementary intervals: cut at 0 and at every lo and hi + 1. */
	size_t m = 0;
	b[m++] = 0;
	for (size_t i = 0; i < n_rng; i++) {
		b[m++] = rng[i].lo;
		if (rng[i].hi < in->kmax)
			b[m++] = rng[i].hi + 1;
	}
	m = ns_sort_unique_u128(b, m);
	if (sweep_events(in, b, m, &cnt, &ev) != 0)
		goto out;
	/* The bitset of the rules on at the current key, and its hash. */
	memcpy(cur, in->any, t->words * sizeof *cur);
	uint64_t h = ns_ct_hash(t, cur);
	int64_t last = -1;
	size_t e = 0;
	for (size_t j = 0; j < m; j++) {
		for (; e < cnt[j]; e++) {
			size_t g = ev[e];
			for (size_t k = uoff[g]; k < uoff[g + 1]; k++) {
				uint32_t r = rules[k];
				cur[r / 64] ^= 1ull << (r % 64);
				h ^= t->keys[r];
			}
		}
		int64_t c = ns_ct_intern(t, cur, h);
		if (c < 0 || !ns_sweep_emit(out, b[j], (uint32_t)c, &last))
			goto out;
	}
	rc = 0;
out:
	free(b);
	free(cnt);
	free(ev);
	free(cur);
	return rc;
}
