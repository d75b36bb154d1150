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

static void hash_piece(const ns_rquery *q, ns_piece *p, mhash *h)
{
	h->base = ns_splitmix64(0x5EEDull ^ (uint64_t)p->family);
	for (int w = 0; w < q->n_walks; w++)
		h->base = rout_hash(&p->out[w], h->base);
	for (int g = 0; g < M_PROTO; g++)
		h->field[g] = ns_il_hash(*merge_field(&p->box, g), ns_splitmix64((uint64_t)g + 1));
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
		if (g != f && !ns_il_equal(*merge_field(&x, g), *merge_field(&y, g)))
			return false;
	return true;
}

typedef struct mslot {
	uint64_t hash;
	size_t piece; /* the group's first piece + 1; 0: empty */
} mslot;

/* Field f of every piece of a group (next[] links them), as one list. */
static int union_group(ns_rquery *q, ns_piece *ps, mhash *hs, const size_t *next, size_t first,
                       int f)
{
	ns_piece *rep = &ps[first];
	if (f == M_PROTO) {
		for (size_t i = next[first]; i != SIZE_MAX; i = next[i])
			rep->box.protos |= ps[i].box.protos;
		hs[first].field[M_PROTO] = ns_splitmix64(rep->box.protos);
		return 0;
	}
	size_t k = 0;
	for (size_t i = first; i != SIZE_MAX; i = next[i])
		k++;
	ns_ilist *lists = malloc(k * sizeof *lists);
	if (!lists)
		return -1;
	k = 0;
	for (size_t i = first; i != SIZE_MAX; i = next[i])
		lists[k++] = *merge_field(&ps[i].box, f);
	ns_ilist *out = merge_field(&rep->box, f);
	int rc = ns_il_union(q->arena, lists, k, out);
	if (rc == 0)
		hs[first].field[f] = ns_il_hash(*out, ns_splitmix64((uint64_t)f + 1));
	free(lists);
	return rc;
}

/* One pass over field f: pieces equal but for f become one, whose f is
 * the union of theirs; the number of pieces merged away, or -1 when out of
 * memory. */
static long merge_pass(ns_rquery *q, mhash *hs, int f)
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
		if (!gone[i] && next[i] != SIZE_MAX && union_group(q, ps, hs, next, i, f) != 0)
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

int ns_region_merge(ns_rquery *q)
{
	mhash *hs = malloc((q->pieces.n + 1) * sizeof *hs);
	if (!hs)
		return NSGSIM_E_NOMEM;
	ns_piece *ps = q->pieces.data;
	for (size_t i = 0; i < q->pieces.n; i++)
		hash_piece(q, &ps[i], &hs[i]);
	int rc = 0;
	for (int round = 0; round < 8 && rc == 0; round++) {
		long total = 0;
		for (int f = 0; f < M_FIELDS && rc == 0; f++) {
			long m = merge_pass(q, hs, f);
			if (m < 0)
				rc = NSGSIM_E_NOMEM;
			total += m;
		}
		if (total == 0)
			break;
	}
	free(hs);
	return rc;
}
