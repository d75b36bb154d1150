/* Shadowed rules, by subtraction of boxes (see shadow.h).
 *
 * May touch: lib/base, the compiled policy and eval/region.h's protocol
 * slots. */
#include <stdlib.h>
#include <string.h>

#include "eval/region.h"
#include "eval/shadow.h"

/* Pieces at most while one rule is checked: beyond it, "undecided". */
#define SHADOW_MAX_PIECES 4096

enum { F_SRC, F_SPORT, F_DST, F_DPORT, F_N };

/* A rule's fields: the addresses of each family (index 0: IPv4, 1: IPv6)
 * and its ports, and the protocol slots it can match. */
typedef struct rfields {
	ns_ilist src[2], dst[2], sport, dport;
	unsigned slots;
} rfields;

struct ns_shadow_ctx {
	const ns_chain *ch;
	const ns_csubnet *ctx;
	ns_arena ar;      /* the rules' fields */
	ns_arena scratch; /* the pieces of one question, reset after it */
	rfields *f;
	ns_vec cur, next; /* boxes, reused */
};

typedef struct box {
	ns_ilist f[F_N];
} box;

static int port_list(ns_arena *ar, const ns_cside *s, ns_ilist *out)
{
	if (s->n_ports == 0)
		return ns_il_one(ar, 0, 65535, out);
	ns_ivl *iv = ns_arena_alloc(ar, s->n_ports * sizeof *iv);
	if (!iv)
		return -1;
	for (size_t i = 0; i < s->n_ports; i++)
		iv[i] = (ns_ivl){s->ports[i].lo, s->ports[i].hi};
	return ns_il_from(ar, iv, s->n_ports, out);
}

static int addr_list(ns_arena *ar, const ns_cside *s, const ns_csubnet *ctx, int family,
                     ns_ilist *out)
{
	ns_ilist all;
	if (ns_il_one(ar, 0, ns_key_max(family), &all) != 0)
		return -1;
	return s->any_addr ? (*out = all, 0)
	                   : ns_il_and_pset(ar, all, ns_side_set(s, ctx), family, out);
}

static int fields_of(ns_arena *ar, const ns_crule *r, const ns_csubnet *ctx, rfields *f)
{
	f->slots = ns_rule_protos(r);
	for (int fam = 0; fam < 2; fam++)
		if (addr_list(ar, &r->src, ctx, fam ? 6 : 4, &f->src[fam]) != 0 ||
		    addr_list(ar, &r->dst, ctx, fam ? 6 : 4, &f->dst[fam]) != 0)
			return -1;
	return port_list(ar, &r->src, &f->sport) != 0 || port_list(ar, &r->dst, &f->dport) != 0 ? -1
	                                                                                        : 0;
}

ns_shadow_ctx *ns_shadow_new(const ns_chain *ch, const ns_csubnet *ctx)
{
	ns_shadow_ctx *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	ns_vec_init(&s->cur, sizeof(box));
	ns_vec_init(&s->next, sizeof(box));
	s->ch = ch;
	s->ctx = ctx;
	s->f = ns_arena_alloc(&s->ar, (ch->n + 1) * sizeof *s->f);
	for (size_t i = 0; s->f && i < ch->n; i++)
		if (fields_of(&s->ar, &ch->rules[i], ctx, &s->f[i]) != 0) {
			ns_shadow_free(s);
			return NULL;
		}
	if (!s->f) {
		ns_shadow_free(s);
		return NULL;
	}
	return s;
}

void ns_shadow_free(ns_shadow_ctx *s)
{
	if (!s)
		return;
	ns_arena_free(&s->ar);
	ns_arena_free(&s->scratch);
	ns_vec_free(&s->cur);
	ns_vec_free(&s->next);
	free(s);
}

/* Whether two lists share a key (no allocation). */
static bool meets(ns_ilist a, ns_ilist b)
{
	size_t i = 0, k = 0;
	while (i < a.n && k < b.n) {
		if (a.v[i].hi < b.v[k].lo)
			i++;
		else if (b.v[k].hi < a.v[i].lo)
			k++;
		else
			return true;
	}
	return false;
}

/* The fields of rule r for one protocol slot and family; a portless slot
 * has one dummy port so that its boxes are 2-dimensional in effect. */
static void rule_box(const rfields *f, int fam, bool ported, const ns_ilist *one, box *b)
{
	b->f[F_SRC] = f->src[fam];
	b->f[F_DST] = f->dst[fam];
	b->f[F_SPORT] = ported ? f->sport : *one;
	b->f[F_DPORT] = ported ? f->dport : *one;
}

static bool box_meets(const box *a, const box *b)
{
	for (int d = 0; d < F_N; d++)
		if (!meets(a->f[d], b->f[d]))
			return false;
	return true;
}

/* Appends a minus h (which it meets) to out: at most one piece per field. */
static int subtract(ns_arena *ar, const box *a, const box *h, ns_vec *out)
{
	box keep = *a; /* fields before d: the part inside h */
	for (int d = 0; d < F_N; d++) {
		ns_ilist diff, inter;
		if (ns_il_minus(ar, a->f[d], h->f[d], &diff) != 0 ||
		    ns_il_and(ar, a->f[d], h->f[d], &inter) != 0)
			return -1;
		if (!ns_il_empty(diff)) {
			box piece = keep;
			piece.f[d] = diff;
			box *slot = ns_vec_push(out);
			if (!slot)
				return -1;
			*slot = piece;
		}
		keep.f[d] = inter;
	}
	return 0;
}

/* Whether the earlier rules cover rule k's flows of one slot and family:
 * NS_SHADOW_*, or -1 when out of memory. */
static int covered(ns_shadow_ctx *s, size_t k, int slot, int fam, bool *covering, ns_arena *ar)
{
	bool ported = slot == NS_PSLOT_TCP || slot == NS_PSLOT_UDP;
	ns_ilist one;
	if (ns_il_one(ar, 0, 0, &one) != 0)
		return -1;
	box start;
	rule_box(&s->f[k], fam, ported, &one, &start);
	for (int d = 0; d < F_N; d++)
		if (ns_il_empty(start.f[d]))
			return NS_SHADOW_YES; /* the rule matches nothing here */
	ns_vec cur = s->cur, next = s->next;  /* their memory, kept across questions */
	cur.n = next.n = 0;
	int rc = ns_vec_push(&cur) ? 0 : -1;
	if (rc == 0)
		*NS_VEC_AT(&cur, box, 0) = start;
	for (size_t i = 0; rc == 0 && i < k && cur.n > 0; i++) {
		if (!(s->f[i].slots & NS_PBIT(slot)))
			continue;
		box h;
		rule_box(&s->f[i], fam, ported, &one, &h);
		next.n = 0;
		for (size_t j = 0; rc == 0 && j < cur.n; j++) {
			const box *b = NS_VEC_AT(&cur, box, j);
			if (!box_meets(b, &h)) {
				box *slot_b = ns_vec_push(&next);
				rc = slot_b ? (*slot_b = *b, 0) : -1;
				continue;
			}
			covering[i] = true;
			rc = subtract(ar, b, &h, &next);
		}
		ns_vec tmp = cur;
		cur = next;
		next = tmp;
		if (rc == 0 && cur.n > SHADOW_MAX_PIECES)
			rc = NS_SHADOW_UNDECIDED;
	}
	if (rc == 0)
		rc = cur.n == 0 ? NS_SHADOW_YES : NS_SHADOW_NO;
	s->cur = cur;
	s->next = next;
	return rc;
}

int ns_shadowed(ns_shadow_ctx *s, size_t k, bool *covering)
{
	memset(covering, 0, s->ch->n * sizeof *covering);
	int rc = NS_SHADOW_YES;
	for (int slot = 0; slot < NS_PSLOTS && rc == NS_SHADOW_YES; slot++) {
		if (!(s->f[k].slots & NS_PBIT(slot)))
			continue;
		for (int fam = 0; fam < 2 && rc == NS_SHADOW_YES; fam++) {
			rc = covered(s, k, slot, fam, covering, &s->scratch);
			ns_arena_reset(&s->scratch);
		}
	}
	return rc < 0 ? NSGSIM_E_NOMEM : rc;
}
