/* Merging the pieces of a set query (eval/region.h, ns_region_merge): pieces
 * whose outcomes are the same and whose boxes differ in one field become one,
 * field by field, until none do; what keeps a result of many pieces small.
 * Each piece keeps a hash per field, so a pass hashes a list only when a
 * merge has changed it.
 *
 * May touch: lib/base and the region types. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "eval/region.h"

enum { M_SRC, M_DPORT, M_SPORT, M_DST, M_PROTO, M_FIELDS };

static ns_ilist *merge_field(ns_box *b, int f)
{
	return f == M_SRC ? &b->src : f == M_DPORT ? &b->dport : f == M_SPORT ? &b->sport : &b->dst;
}

static uint64_t rout_hash(const ns_rout *o, uint64_t h)
{
	uint64_t w[5] = {(uint64_t)o->verdict, (uint64_t)o->layer, (uint64_t)o->endpoint,
	                 (uint64_t)(uintptr_t)(o->rule ? o->rule->r->id : NULL),
	                 (uint64_t)(uintptr_t)o->resource};
	for (int i = 0; i < 5; i++)
		h = ns_splitmix64(h ^ w[i]);
	return h;
}

/* The hashes a merge keeps per piece: its outcomes and family, and each
 * field's (the protocols' as the last), so that a pass hashes a list only
 * when a merge has changed it. */
typedef struct mhash {
	uint64_t base;
	uint64_t field[M_FIELDS];
} mhash;

/* prev: the piece before (or NULL), whose lists a piece often shares --
 * the partition's children share their parent's lists -- so their hashes
 * are taken over, not recomputed. */
static void hash_piece(const ns_rquery *q, ns_piece *p, mhash *h, const ns_piece *prev,
                       const mhash *hprev)
{
	h->base = ns_splitmix64(0x5EEDull ^ (uint64_t)p->family);
	for (int w = 0; w < q->n_walks; w++)
		h->base = rout_hash(&p->out[w], h->base);
	for (int g = 0; g < M_PROTO; g++) {
		ns_ilist l = *merge_field(&p->box, g);
		if (prev && merge_field((ns_box *)&prev->box, g)->v == l.v &&
		    merge_field((ns_box *)&prev->box, g)->n == l.n)
			h->field[g] = hprev->field[g];
		else
			h->field[g] = ns_il_hash(l, ns_splitmix64((uint64_t)g + 1));
	}
	h->field[M_PROTO] = ns_splitmix64(p->box.protos);
}

/* The hash of a piece without field f. */
static uint64_t key_without(const ns_piece *p, const mhash *h, int f)
{
	uint64_t k = h->base ^ ns_splitmix64(f == M_PROTO ? (uint64_t)ns_box_ported(&p->box) + 7
	                                                  : h->field[M_PROTO]);
	for (int g = 0; g < M_PROTO; g++)
		if (g != f)
			k ^= ns_splitmix64(h->field[g] + (uint64_t)g);
	return ns_splitmix64(k);
}

static bool same_without(const ns_rquery *q, const ns_piece *a, const ns_piece *b, int f)
{
	for (int w = 0; w < q->n_walks; w++)
		if (!ns_rout_same(&a->out[w], &b->out[w], true))
			return false;
	ns_box x = a->box, y = b->box;
	if (a->family != b->family)
		return false;
	if (f == M_PROTO ? ns_box_ported(&x) != ns_box_ported(&y) : x.protos != y.protos)
		return false;
	for (int g = 0; g < M_PROTO; g++)
		if (g != f &&
		    (merge_field(&x, g)->v != merge_field(&y, g)->v ||
		     merge_field(&x, g)->n != merge_field(&y, g)->n) &&
		    !ns_il_equal(*merge_field(&x, g), *merge_field(&y, g)))
			return false;
	return true;
}

typedef struct mslot {
	uint64_t hash;
	size_t piece; /* the group's first piece + 1; 0: empty */
} mslot;

/* The scratch of a pass: the intervals of a group, concatenated. */
typedef struct mscratch {
	ns_ivl *v;
	size_t cap;
	ns_ilist *heap; /* room for every piece's list */
} mscratch;

/* Field f of every piece of a group (next[] links them), as one list: a
 * single k-way merge of the lists with touching intervals joined on the
 * way (merging them two by two and joining after each round was most of a
 * reach's time on the bench hub). */
static int union_group(ns_rquery *q, ns_piece *ps, mhash *hs, const size_t *next, size_t first,
                       int f, mscratch *sc)
{
	ns_piece *rep = &ps[first];
	if (f == M_PROTO) {
		for (size_t i = next[first]; i != SIZE_MAX; i = next[i])
			rep->box.protos |= ps[i].box.protos;
		hs[first].field[M_PROTO] = ns_splitmix64(rep->box.protos);
		return 0;
	}
	size_t total = 0;
	for (size_t i = first; i != SIZE_MAX; i = next[i])
		total += merge_field(&ps[i].box, f)->n;
	if (total > sc->cap) {
		size_t cap = sc->cap ? sc->cap : 256;
		while (cap < total)
			cap *= 2;
		ns_ivl *v = realloc(sc->v, cap * sizeof *v);
		if (!v)
			return -1;
		sc->v = v;
		sc->cap = cap;
	}
	/* A k-way merge: a heap of the lists by their next interval's low end,
	 * touching intervals joined as they come out. */
	ns_ilist *h = sc->heap;
	size_t k = 0;
	for (size_t i = first; i != SIZE_MAX; i = next[i]) {
		ns_ilist l = *merge_field(&ps[i].box, f);
		if (!l.n)
			continue;
		size_t c = k++;
		for (; c > 0 && l.v[0].lo < h[(c - 1) / 2].v[0].lo; c = (c - 1) / 2)
			h[c] = h[(c - 1) / 2];
		h[c] = l;
	}
	ns_ivl *v = sc->v;
	size_t m = 0;
	while (k > 0) {
		ns_ivl x = h[0].v[0];
		if (m && (x.lo <= v[m - 1].hi ||
		          (v[m - 1].hi != ~(ns_u128)0 && x.lo == v[m - 1].hi + 1))) {
			if (x.hi > v[m - 1].hi)
				v[m - 1].hi = x.hi;
		} else {
			v[m++] = x;
		}
		/* The top's next interval, or the last list, sifts down. */
		ns_ilist top = h[0];
		top.v++;
		if (--top.n == 0)
			top = h[--k];
		size_t c = 0;
		for (;;) {
			size_t l = 2 * c + 1, r = l + 1, s = c;
			ns_u128 at = top.v[0].lo;
			if (l < k && h[l].v[0].lo < at) {
				s = l;
				at = h[l].v[0].lo;
			}
			if (r < k && h[r].v[0].lo < at)
				s = r;
			if (s == c)
				break;
			h[c] = h[s];
			c = s;
		}
		if (k)
			h[c] = top;
	}
	ns_ilist *out = merge_field(&rep->box, f);
	if (ns_il_copy(q->arena, v, m, out) != 0)
		return -1;
	hs[first].field[f] = ns_il_hash(*out, ns_splitmix64((uint64_t)f + 1));
	return 0;
}

/* One pass over field f: pieces equal but for f become one, whose f is
 * the union of theirs; the number of pieces merged away, or -1 when out of
 * memory. */
static long merge_pass(ns_rquery *q, mhash *hs, int f, mscratch *sc)
{
	ns_piece *ps = q->pieces.data;
	size_t n = q->pieces.n, cap = 16;
	while (cap < 2 * n)
		cap *= 2;
	mslot *tab = calloc(cap, sizeof *tab);
	size_t *next = malloc((n + 1) * sizeof *next), *tail = malloc((n + 1) * sizeof *tail);
	bool *gone = calloc(n + 1, sizeof *gone);
	long merged = tab && next && tail && gone ? 0 : -1;
	for (size_t i = 0; i < n && merged >= 0; i++) {
		next[i] = SIZE_MAX;
		uint64_t h = key_without(&ps[i], &hs[i], f);
		size_t j = (size_t)h & (cap - 1);
		for (; tab[j].piece; j = (j + 1) & (cap - 1))
			if (tab[j].hash == h && same_without(q, &ps[tab[j].piece - 1], &ps[i], f))
				break;
		if (!tab[j].piece) {
			tab[j] = (mslot){h, i + 1};
			tail[i] = i;
			continue;
		}
		size_t first = tab[j].piece - 1;
		next[tail[first]] = i;
		tail[first] = i;
		gone[i] = true;
		merged++;
	}
	for (size_t i = 0; i < n && merged > 0; i++)
		if (!gone[i] && next[i] != SIZE_MAX && union_group(q, ps, hs, next, i, f, sc) != 0)
			merged = -1;
	size_t m = 0;
	for (size_t i = 0; i < n && merged > 0; i++)
		if (!gone[i]) {
			hs[m] = hs[i];
			ps[m++] = ps[i];
		}
	if (merged > 0)
		q->pieces.n = m;
	free(tab);
	free(next);
	free(tail);
	free(gone);
	return merged;
}

/* The order of the passes: the ports and the protocols first, whose
 * pieces share their address lists (the partition cuts the ports last),
 * so that the address unions meet fewer, larger pieces -- on the bench
 * hub's nic0 query 577 regions instead of 897, and a fifth fewer
 * instructions, than merging the sources first. */
static const int pass_order[M_FIELDS] = {M_DPORT, M_SPORT, M_PROTO, M_SRC, M_DST};

int ns_region_merge(ns_rquery *q)
{
	mhash *hs = malloc((q->pieces.n + 1) * sizeof *hs);
	if (!hs)
		return NSGSIM_E_NOMEM;
	ns_piece *ps = q->pieces.data;
	for (size_t i = 0; i < q->pieces.n; i++)
		hash_piece(q, &ps[i], &hs[i], i ? &ps[i - 1] : NULL, i ? &hs[i - 1] : NULL);
	int rc = 0;
	mscratch sc = {NULL, 0, malloc((q->pieces.n + 1) * sizeof(ns_ilist))};
	if (!sc.heap)
		rc = NSGSIM_E_NOMEM;
	for (int round = 0; round < 8 && rc == 0; round++) {
		long total = 0;
		for (int i = 0; i < M_FIELDS && rc == 0; i++) {
			long m = merge_pass(q, hs, pass_order[i], &sc);
			if (m < 0)
				rc = NSGSIM_E_NOMEM;
			total += m;
		}
		if (total == 0)
			break;
	}
	free(hs);
	free(sc.v);
	free(sc.heap);
	return rc;
}
