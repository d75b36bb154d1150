/* The policy-wide classes (compile/classifier.h).
 *
 * An end-to-end flow meets three or four chains, and each would search its
 * own maps for the same addresses and ports.  Instead, each field's key
 * space is cut at the boundaries of every classifier at once; an
 * elementary interval is then described by the tuple of the classes it has
 * in each classifier, and equal tuples are one policy-wide class.  A flow
 * is classified once (four searches), and a chain finds its class bitset
 * with one load from its translation table tx[field][global class].
 *
 * The address fields are cut at two more partitions, so that the same
 * search answers two more questions: the endpoint map (which NIC or subnet
 * holds the address) and the distinct VirtualNetwork sets of the subnets
 * (a bitmask per class: which of them hold the address).
 *
 * The tables cost (global classes x classifiers) words per field, so they
 * are built only within a budget; without them every chain searches its
 * own maps, which is slower but gives the same answer.
 *
 * May touch: lib/base and the compiled policy (compile/policy.h). */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "compile/cls_build.h"

/* One partition of a field: interval starts and a value per interval. */
typedef struct gsrc {
	const uint32_t *sv;    /* start/value pairs (32-bit keys), or */
	const ns_u128 *starts; /* 128-bit starts and */
	const uint32_t *val;   /* their values */
	uint32_t n;
} gsrc;

static ns_u128 gs_start(const gsrc *g, uint32_t i)
{
	return g->sv ? g->sv[2 * i] : g->starts[i];
}

static uint32_t gs_val(const gsrc *g, uint32_t i)
{
	return g->sv ? g->sv[2 * i + 1] : g->val[i];
}

static gsrc gsrc_of(const ns_cls *c, int f)
{
	gsrc g = {NULL, NULL, NULL, 0};
	const ns_imap *m = f == NS_F_SRC4    ? &c->src4
	                   : f == NS_F_DST4  ? &c->dst4
	                   : f == NS_F_SPORT ? &c->sport
	                   : f == NS_F_TCP   ? &c->dport[0]
	                   : f == NS_F_UDP   ? &c->dport[1]
	                                     : NULL;
	if (m) {
		g.sv = m->sv;
		g.n = m->n;
	} else {
		const ns_imap6 *m6 = f == NS_F_SRC6 ? &c->src6 : &c->dst6;
		g.starts = m6->starts;
		g.val = m6->val;
		g.n = m6->n;
	}
	return g;
}

typedef struct gfield {
	ns_sweep_out o; /* global intervals -> global class */
	ns_imap_plan plan;
	/* The classes: class g's value in partition k at [g * K + k]. */
	ns_intern tuples;
} gfield;

static uint64_t tuple_hash(const uint32_t *t, size_t n)
{
	uint64_t h = 0xCBF29CE484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ t[i]) * 0x100000001B3ull;
	return ns_splitmix64(h);
}

/* The sorted, distinct interval starts of K partitions (and 0); the count. */
static size_t cut_points(const gsrc *src, size_t K, ns_u128 *b)
{
	size_t m = 0;
	b[m++] = 0; /* the key space starts there even with no partition */
	for (size_t k = 0; k < K; k++)
		for (uint32_t i = 0; i < src[k].n; i++)
			b[m++] = gs_start(&src[k], i);
	return ns_sort_unique_u128(b, m);
}

/* One field's global intervals and classes from K partitions; -1 when out
 * of memory or over the budget (*budget counts down the tuple words). */
static int global_field(const gsrc *src, size_t K, gfield *g, size_t *budget)
{
	size_t total = 0;
	for (size_t k = 0; k < K; k++)
		total += src[k].n;
	ns_sweep_out_init(&g->o);
	ns_u128 *b = malloc((total + 2) * sizeof *b);
	uint32_t *cursor = calloc(K + 1, sizeof *cursor), *cur = malloc((K + 1) * sizeof *cur);
	int rc = -1;
	if (ns_intern_init(&g->tuples, K) != 0 || !b || !cursor || !cur)
		goto out;
	size_t m = cut_points(src, K, b);
	int64_t last = -1;
	for (size_t j = 0; j < m; j++) {
		for (size_t k = 0; k < K; k++) {
			while (cursor[k] + 1 < src[k].n && gs_start(&src[k], cursor[k] + 1) <= b[j])
				cursor[k]++;
			cur[k] = gs_val(&src[k], cursor[k]);
		}
		bool added = false;
		int64_t cls = ns_intern_put(&g->tuples, cur, tuple_hash(cur, K), &added);
		if (cls < 0 || (added && *budget < K))
			goto out;
		if (added)
			*budget -= K;
		if (!ns_sweep_emit(&g->o, b[j], (uint32_t)cls, &last))
			goto out;
	}
	ns_intern_settle(&g->tuples);
	rc = 0;
out:
	free(b);
	free(cursor);
	free(cur);
	return rc;
}

static void gfield_free(gfield *g)
{
	ns_sweep_out_free(&g->o);
	ns_plan_free(&g->plan);
	ns_intern_free(&g->tuples);
}

/* Numbers the subnets' distinct VirtualNetwork sets (ns_csubnet.vset) into
 * sets[]; false when there are more than 32. */
static bool number_vnet_sets(nsgsim_policy *p, const ns_pset **sets, size_t *n)
{
	*n = 0;
	for (size_t i = 0; i < p->n_subnets; i++) {
		size_t k = 0;
		while (k < *n && !ns_pset_equal(sets[k], &p->subnets[i].vnet_tag))
			k++;
		if (k == *n) {
			if (*n == 32)
				return false;
			sets[(*n)++] = &p->subnets[i].vnet_tag;
		}
		p->subnets[i].vset = (uint8_t)k;
	}
	return true;
}

/* One family's partition by the sets: the value of an interval is the
 * bitmask of the sets holding it. */
static int vnet_family(const ns_pset *const *sets, size_t n, int fam, ns_sweep_out *o)
{
	ns_sweep_out_init(o);
	ns_u128 kmax = fam == 4 ? (ns_u128)UINT32_MAX : ~(ns_u128)0;
	size_t total = 1;
	for (size_t k = 0; k < n; k++)
		total += 2 * (fam == 4 ? sets[k]->n4 : sets[k]->n6);
	ns_u128 *b = malloc(total * sizeof *b);
	if (!b)
		return -1;
	size_t m = 0;
	b[m++] = 0;
	for (size_t k = 0; k < n; k++) {
		size_t cnt = fam == 4 ? sets[k]->n4 : sets[k]->n6;
		for (size_t i = 0; i < cnt; i++) {
			ns_u128 lo = fam == 4 ? sets[k]->v4[i].lo : sets[k]->v6[i].lo;
			ns_u128 hi = fam == 4 ? sets[k]->v4[i].hi : sets[k]->v6[i].hi;
			b[m++] = lo;
			if (hi < kmax)
				b[m++] = hi + 1;
		}
	}
	m = ns_sort_unique_u128(b, m);
	int64_t last = -1;
	int rc = 0;
	for (size_t j = 0; j < m && rc == 0; j++) {
		uint32_t mask = 0;
		for (size_t k = 0; k < n; k++)
			mask |= (uint32_t)ns_pset_contains(sets[k], fam, b[j]) << k;
		if (!ns_sweep_emit(o, b[j], mask, &last))
			rc = -1;
	}
	free(b);
	return rc;
}

/* The distinct VirtualNetwork sets of the subnets as one partition per
 * family; false (nothing folded) when there are more than 32 sets or the
 * memory was not there. */
static bool vnet_partition(nsgsim_policy *p, ns_sweep_out out[2])
{
	const ns_pset *sets[32];
	size_t n;
	return number_vnet_sets(p, sets, &n) && vnet_family(sets, n, 4, &out[0]) == 0 &&
	       vnet_family(sets, n, 6, &out[1]) == 0;
}

static gsrc gsrc_sweep(const ns_sweep_out *o)
{
	gsrc g = {NULL, o->starts.data, o->vals.data, (uint32_t)o->starts.n};
	return g;
}

/* Direct tables for the port fields of the policy-wide maps: 128 KB each
 * when the classes fit 16 bits.  Measured under callgrind, the two interval
 * searches per flow cost more instructions than the rest of classifying
 * it; the tables are read with the flow's other lookups and stay cached
 * for the ports a trace repeats.  Without them (out of memory, too many
 * classes) the maps answer the same. */
static void build_port_tables(ns_cls_store *st)
{
	static const int fields[3] = {NS_F_SPORT, NS_F_TCP, NS_F_UDP};
	for (int i = 0; i < 3; i++)
		if (st->n_global[fields[i]] > 65536)
			return;
	uint16_t *t = malloc(3 * 65536 * sizeof *t);
	if (!t)
		return;
	for (int i = 0; i < 3; i++) {
		uint16_t *row = t + (size_t)i * 65536;
		const ns_imap *m = &st->gmap[fields[i]];
		for (uint32_t port = 0; port < 65536; port++)
			row[port] = (uint16_t)ns_imap_get(m, port);
		st->gport[fields[i]] = row;
	}
	st->gport_mem = t;
	st->global_bytes += 3 * 65536 * sizeof *t;
	st->bytes += 3 * 65536 * sizeof *t;
}

/* How many partitions cut a field: every classifier's, and for the
 * address fields the endpoint map and (when folded) the VirtualNetwork
 * sets. */
static size_t partitions_of(const ns_cls_store *st, int f)
{
	return f <= NS_F_DST6 ? st->n + 1 + st->vsets_folded : st->n;
}

/* Cuts every field by all its partitions; -1 over the budget or out of
 * memory. */
static int global_fields(const nsgsim_policy *p, const ns_cls_store *st, const ns_sweep_out vn[2],
                         gfield *g)
{
	static const uint32_t keybits[NS_F_COUNT] = {32, 32, 128, 128, 16, 16, 16};
	size_t C = st->n;
	size_t cls_bytes = 0;
	for (size_t c = 0; c < C; c++) {
		const ns_cls *cl = st->all[c];
		cls_bytes += cl->bytes;
		/* Lean tries (ns_cls_lean) must not shrink the budget: count what
		 * the full ones would have added, at most 4.5n + 3,840 words a map
		 * more (lib/compile/cls_imap.c). */
		if (ns_cls_lean(p)) {
			size_t n = (size_t)cl->src4.n + cl->dst4.n + cl->src6.n + cl->dst6.n +
			           cl->sport.n + cl->dport[0].n + cl->dport[1].n;
			cls_bytes += 4 * (n * 9 / 2 + 7 * 3840);
		}
	}
	/* At most 2x the classifiers plus 16 MB, in 32-bit words. */
	size_t budget = (2 * cls_bytes + (16u << 20)) / 4;
	gsrc *src = malloc((C + 3) * sizeof *src);
	int rc = src ? 0 : -1;
	for (int f = 0; f < NS_F_COUNT && rc == 0; f++) {
		size_t k = 0;
		for (size_t c = 0; c < C; c++)
			src[k++] = gsrc_of(st->all[c], f);
		if (f <= NS_F_DST6) {
			/* The endpoint map, and the VirtualNetwork sets. */
			bool v4 = f == NS_F_SRC4 || f == NS_F_DST4;
			src[k++] = v4 ? (gsrc){p->ep4.sv, NULL, NULL, p->ep4.n}
			              : (gsrc){NULL, p->ep6.starts, p->ep6.val, p->ep6.n};
			if (st->vsets_folded)
				src[k++] = gsrc_sweep(&vn[v4 ? 0 : 1]);
		}
		if (global_field(src, k, &g[f], &budget) != 0 ||
		    ns_plan_imap(&g[f].o, keybits[f], false, &g[f].plan) != 0)
			rc = -1;
	}
	free(src);
	return rc;
}

/* Lays out one field's map and its translation tables: per classifier
 * (tx), then the endpoint records (gep) and the VirtualNetwork masks
 * (gvm) of the address fields. */
static void lay_field(ns_layout *l, ns_cls_store *st, const gfield *g, int f)
{
	size_t C = st->n, K = partitions_of(st, f);
	uint32_t n = (uint32_t)g->tuples.n;
	if (f == NS_F_SRC6 || f == NS_F_DST6)
		ns_lay_imap6(l, &g->o, &g->plan, &st->gmap6[f - NS_F_SRC6]);
	else
		ns_lay_imap(l, &g->o, &g->plan, &st->gmap[f]);
	const uint32_t *t = g->tuples.keys.data;
	for (size_t c = 0; c < K; c++) {
		uint32_t *tx = ns_lay(l, (n + 1) * sizeof *tx, 64);
		if (!l->base)
			continue;
		for (uint32_t j = 0; j < n; j++)
			tx[j] = t[(size_t)j * K + c];
		if (c < C)
			st->all[c]->tx[f] = tx;
		else if (c == C)
			st->gep[f] = tx;
		else
			st->gvm[f] = tx;
	}
	if (f <= NS_F_DST6 && !st->vsets_folded) {
		/* No sets folded in: every mask is 0, never read. */
		uint32_t *z = ns_lay(l, (n + 1) * sizeof *z, 64);
		if (l->base)
			st->gvm[f] = memset(z, 0, (n + 1) * sizeof *z);
	}
	st->n_global[f] = n;
}

/* Builds the policy-wide maps and every classifier's translation tables,
 * or leaves st->global unset when they would take too much memory. */
int ns_build_global(nsgsim_policy *p, ns_cls_store *st)
{
	const char *off = getenv("NSGSIM_NO_GLOBAL"); /* tests take the fallback */
	if (off && *off && strcmp(off, "0") != 0)
		return 0;
	gfield g[NS_F_COUNT];
	ns_sweep_out vn[2];
	memset(g, 0, sizeof g);
	memset(vn, 0, sizeof vn);
	st->vsets_folded = vnet_partition(p, vn);
	if (global_fields(p, st, vn, g) == 0) {
		ns_layout l = {0, NULL};
		for (int pass = 0; pass < 2; pass++) {
			/* Written field by field, each field's tuples freed once laid
			 * out: the layout's pages are touched as the tuples go, so the
			 * two (a tenth of a large build's peak each) are not both
			 * resident whole. */
			for (int f = 0; f < NS_F_COUNT; f++) {
				lay_field(&l, st, &g[f], f);
				if (pass == 1)
					gfield_free(&g[f]);
			}
			if (pass == 1) {
				st->global = true;
				st->global_bytes = l.size;
				st->bytes += l.size;
				break;
			}
			l.base = aligned_alloc(64, (l.size + 63) & ~(size_t)63);
			if (!l.base)
				break;
			st->global_mem = l.base;
			l.size = 0;
		}
	}
	if (st->global)
		build_port_tables(st);
	for (int f = 0; f < NS_F_COUNT; f++)
		gfield_free(&g[f]);
	ns_sweep_out_free(&vn[0]);
	ns_sweep_out_free(&vn[1]);
	return 0;
}
