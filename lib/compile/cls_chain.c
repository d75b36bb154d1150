/* Building one chain's classifier: each field's sweep, the portless
 * protocols' bitsets, the VirtualNetwork masks, the first rules that carry
 * an assumption, and the block that holds them (compile/classifier.h says
 * what each part is for).
 *
 * May touch: lib/base and the compiled policy (compile/policy.h). */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define NS_HAVE_X86 1
#endif

#include "compile/azure.h"
#include "compile/cls_build.h"

/* ---- the fields of a chain --------------------------------------------------------- */

typedef struct rule_set {
	const ns_pset *set;
	uint32_t rule;
} rule_set;

static int cmp_rule_set(const void *pa, const void *pb)
{
	const rule_set *a = pa, *b = pb;
	if (a->set != b->set)
		return (uintptr_t)a->set < (uintptr_t)b->set ? -1 : 1;
	return a->rule < b->rule ? -1 : a->rule > b->rule;
}

/* One address field (source or destination) in one family.  A side that
 * is '*' or VirtualNetwork counts as any address (VirtualNetwork is
 * checked per context, see the top of the file); sides that name the same
 * set (a service tag, an ASG) form one group. */
static int address_field(ns_ctab *t, const ns_chain *ch, bool source, int family, ns_sweep_out *out)
{
	ns_sweep_in in;
	ns_u128 kmax = family == 4 ? (ns_u128)UINT32_MAX : ~(ns_u128)0;
	rule_set *rs = malloc((ch->n + 1) * sizeof *rs);
	int rc = -1;
	if (ns_sw_init(&in, t->words, kmax) != 0 || !rs)
		goto out;
	size_t n_rs = 0;
	for (size_t i = 0; i < ch->n; i++) {
		const ns_cside *s = source ? &ch->rules[i].src : &ch->rules[i].dst;
		if (s->any_addr || s->vnet_tag || !s->set)
			ns_set_bit(in.any, i);
		else
			rs[n_rs++] = (rule_set){s->set, (uint32_t)i};
	}
	qsort(rs, n_rs, sizeof *rs, cmp_rule_set);
	for (size_t i = 0; i < n_rs;) {
		const ns_pset *set = rs[i].set;
		size_t j = i;
		for (; j < n_rs && rs[j].set == set; j++)
			if (ns_sw_add_rule(&in, rs[j].rule) != 0)
				goto out;
		if (family == 4)
			for (size_t k = 0; k < set->n4; k++)
				if (ns_sw_add_range(&in, set->v4[k].lo, set->v4[k].hi) != 0)
					goto out;
		if (family == 6)
			for (size_t k = 0; k < set->n6; k++)
				if (ns_sw_add_range(&in, set->v6[k].lo, set->v6[k].hi) != 0)
					goto out;
		if (ns_sw_close_group(&in) != 0)
			goto out;
		i = j;
	}
	rc = ns_sweep(t, &in, out);
out:
	ns_sw_free(&in);
	free(rs);
	return rc;
}

static int cmp_port_range(const void *pa, const void *pb)
{
	const ns_port_range *a = pa, *b = pb;
	return a->lo != b->lo ? (a->lo < b->lo ? -1 : 1) : (a->hi < b->hi ? -1 : a->hi > b->hi);
}

/* A port field: the destination port of TCP or UDP (proto), or the source
 * port (proto 0: every protocol, since M already holds the protocol).
 * Rules whose protocol cannot match are in no class. */
static int port_field(ns_ctab *t, const ns_chain *ch, bool source, int proto, ns_sweep_out *out)
{
	ns_sweep_in in;
	ns_port_range *tmp = NULL;
	size_t cap = 0;
	int rc = -1;
	if (ns_sw_init(&in, t->words, 65535) != 0)
		goto out;
	for (size_t i = 0; i < ch->n; i++) {
		const ns_crule *r = &ch->rules[i];
		const ns_cside *s = source ? &r->src : &r->dst;
		if (proto && r->protocol != NS_PROTO_ANY && r->protocol != proto)
			continue;
		if (s->n_ports == 0) {
			ns_set_bit(in.any, i);
			continue;
		}
		/* The clause's ranges as written may overlap: merge them, since
		 * the sweep toggles a rule's bit at each end. */
		if (s->n_ports > cap) {
			cap = s->n_ports;
			ns_port_range *nt = realloc(tmp, cap * sizeof *tmp);
			if (!nt)
				goto out;
			tmp = nt;
		}
		memcpy(tmp, s->ports, s->n_ports * sizeof *tmp);
		qsort(tmp, s->n_ports, sizeof *tmp, cmp_port_range);
		uint32_t lo = tmp[0].lo, hi = tmp[0].hi;
		for (size_t k = 1; k <= s->n_ports; k++) {
			if (k < s->n_ports && tmp[k].lo <= hi + 1) {
				if (tmp[k].hi > hi)
					hi = tmp[k].hi;
				continue;
			}
			if (ns_sw_add_range(&in, lo, hi) != 0)
				goto out;
			if (k < s->n_ports) {
				lo = tmp[k].lo;
				hi = tmp[k].hi;
			}
		}
		if (ns_sw_add_rule(&in, (uint32_t)i) != 0 || ns_sw_close_group(&in) != 0)
			goto out;
	}
	rc = ns_sweep(t, &in, out);
out:
	free(tmp);
	ns_sw_free(&in);
	return rc;
}

static const int slot_proto[NS_PSLOTS] = {NS_PROTO_ICMP, NS_PROTO_TCP, NS_PROTO_UDP, NS_PROTO_ESP,
                                          NS_PROTO_AH};

static int cmp_u32(const void *pa, const void *pb)
{
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	return a < b ? -1 : a > b;
}

bool ns_have_avx2(void)
{
#ifdef NS_HAVE_X86
	const char *off = getenv("NSGSIM_NO_SIMD");
	if (off && *off && strcmp(off, "0") != 0)
		return false;
	return __builtin_cpu_supports("avx2");
#else
	return false;
#endif
}

#define F_SRC4  NS_F_SRC4
#define F_DST4  NS_F_DST4
#define F_SRC6  NS_F_SRC6
#define F_DST6  NS_F_DST6
#define F_SPORT NS_F_SPORT
#define F_TCP   NS_F_TCP
#define F_UDP   NS_F_UDP
#define F_COUNT NS_F_COUNT

/* What the build of one chain's classifier holds on the way. */
typedef struct chain_build {
	const nsgsim_policy *p;
	const ns_chain *ch;
	size_t n, words;
	ns_ctab t;
	ns_sweep_out f[F_COUNT];
	ns_imap_plan plan[F_COUNT];
	uint64_t *tmp; /* four bitsets of scratch */
	uint32_t *sb;  /* source-port boundaries */
	size_t n_sb;
	ns_cls hdr; /* everything but the block's pointers */
} chain_build;

static int build_fields(chain_build *b)
{
	ns_ctab *t = &b->t;
	const ns_chain *ch = b->ch;
	ns_sweep_out *f = b->f;
	if (address_field(t, ch, true, 4, &f[F_SRC4]) != 0 ||
	    address_field(t, ch, false, 4, &f[F_DST4]) != 0 ||
	    address_field(t, ch, true, 6, &f[F_SRC6]) != 0 ||
	    address_field(t, ch, false, 6, &f[F_DST6]) != 0 ||
	    port_field(t, ch, true, 0, &f[F_SPORT]) != 0 ||
	    port_field(t, ch, false, NS_PROTO_TCP, &f[F_TCP]) != 0 ||
	    port_field(t, ch, false, NS_PROTO_UDP, &f[F_UDP]) != 0)
		return -1;
	return 0;
}

/* ICMP, ESP, AH: the rules of the protocol without a port clause, and
 * those with one (SEMANTICS.md §11 decision 5). */
static int build_portless(chain_build *b)
{
	for (int k = 0; k < 3; k++) {
		int proto = k == 0 ? NS_PROTO_ICMP : k == 1 ? NS_PROTO_ESP : NS_PROTO_AH;
		uint64_t *none = b->tmp, *some = b->tmp + b->words;
		memset(b->tmp, 0, 2 * b->words * sizeof *b->tmp);
		for (size_t i = 0; i < b->n; i++) {
			const ns_crule *r = &b->ch->rules[i];
			if (!ns_proto_matches(r->protocol, proto))
				continue;
			ns_set_bit(r->src.n_ports == 0 && r->dst.n_ports == 0 ? none : some, i);
		}
		int64_t x = ns_ct_intern_plain(&b->t, none), y = ns_ct_intern_plain(&b->t, some);
		if (x < 0 || y < 0)
			return -1;
		b->hdr.pl_match[k] = (uint32_t)x;
		b->hdr.pl_ports[k] = (uint32_t)y;
	}
	return 0;
}

/* The first rule per protocol slot whose side carries an assumption. */
static void mark_first_assuming(chain_build *b, uint32_t i, const ns_crule *r)
{
	ns_cls *h = &b->hdr;
	for (int s = 0; s < NS_PSLOTS; s++) {
		if (!ns_proto_matches(r->protocol, slot_proto[s]))
			continue;
		const ns_cside *sides[2] = {&r->src, &r->dst};
		for (int d = 0; d < 2; d++) {
			if (ns_internet_side(b->p, sides[d]) && h->first_inet[s][d] == NS_CLS_NONE)
				h->first_inet[s][d] = i;
			if (sides[d]->vnet_tag && h->first_vnet[s][d] == NS_CLS_NONE)
				h->first_vnet[s][d] = i;
		}
	}
}

/* Per rule: its VirtualNetwork sides (into tmp, source then destination),
 * the first rules with assumptions, and its source-port boundaries. */
static void mark_rules(chain_build *b)
{
	ns_cls *h = &b->hdr;
	memset(b->tmp, 0, 2 * b->words * sizeof *b->tmp);
	for (int s = 0; s < NS_PSLOTS; s++)
		for (int d = 0; d < 2; d++)
			h->first_inet[s][d] = h->first_vnet[s][d] = NS_CLS_NONE;
	for (size_t i = 0; i < b->n; i++) {
		const ns_crule *r = &b->ch->rules[i];
		if (r->src.vnet_tag)
			ns_set_bit(b->tmp, i);
		if (r->dst.vnet_tag)
			ns_set_bit(b->tmp + b->words, i);
		h->has_vnet |= r->src.vnet_tag || r->dst.vnet_tag;
		h->has_sport |= r->src.n_ports > 0;
		mark_first_assuming(b, (uint32_t)i, r);
		for (size_t k = 0; k < r->src.n_ports; k++) {
			b->sb[b->n_sb++] = r->src.ports[k].lo;
			b->sb[b->n_sb++] = (uint32_t)r->src.ports[k].hi + 1;
		}
	}
	qsort(b->sb, b->n_sb, sizeof *b->sb, cmp_u32);
	size_t u = 0;
	for (size_t i = 0; i < b->n_sb; i++)
		if (u == 0 || b->sb[i] != b->sb[u - 1])
			b->sb[u++] = b->sb[i];
	b->n_sb = u;
}

/* The VirtualNetwork bitsets mark_rules left in tmp, and the masks of the
 * global path (ns_cls_gfirst): each combination of sides outside the
 * VirtualNetwork set. */
static int build_vnet_masks(chain_build *b)
{
	size_t words = b->words;
	uint64_t *vs = b->tmp, *vd = b->tmp + words, *x = b->tmp + 2 * words;
	int64_t os = ns_ct_intern_plain(&b->t, vs), od = ns_ct_intern_plain(&b->t, vd);
	if (os < 0 || od < 0)
		return -1;
	b->hdr.vnet_src = (uint32_t)os;
	b->hdr.vnet_dst = (uint32_t)od;
	for (unsigned k = 1; k < 4; k++) {
		memset(x, 0, words * sizeof *x);
		for (size_t i = 0; i < b->n; i++)
			ns_set_bit(x, i);
		for (size_t w = 0; w < words; w++)
			x[w] &= ~(((k & 1) ? vs[w] : 0) | ((k & 2) ? vd[w] : 0));
		int64_t o = ns_ct_intern_plain(&b->t, x);
		if (o < 0)
			return -1;
		b->hdr.vallow[k] = (uint32_t)o;
	}
	return 0;
}

/* Lays the header, the bitsets, the maps and the source-port boundaries
 * out in one block (sizes first, then the copies). */
static ns_cls *lay_out(chain_build *b)
{
	size_t n_bits;
	const uint64_t *class_bits = ns_ct_bits(&b->t, &n_bits);
	ns_sweep_out *f = b->f;
	ns_imap_plan *plan = b->plan;
	ns_layout l = {0, NULL};
	for (int pass = 0; pass < 2; pass++) {
		ns_cls *hp = ns_lay(&l, sizeof *hp, 64);
		uint64_t *bits = ns_lay(&l, n_bits * sizeof *bits, 64);
		ns_cls c = b->hdr;
		ns_lay_imap(&l, &f[F_SRC4], &plan[F_SRC4], &c.src4);
		ns_lay_imap(&l, &f[F_DST4], &plan[F_DST4], &c.dst4);
		ns_lay_imap6(&l, &f[F_SRC6], &plan[F_SRC6], &c.src6);
		ns_lay_imap6(&l, &f[F_DST6], &plan[F_DST6], &c.dst6);
		ns_lay_imap(&l, &f[F_SPORT], &plan[F_SPORT], &c.sport);
		ns_lay_imap(&l, &f[F_TCP], &plan[F_TCP], &c.dport[0]);
		ns_lay_imap(&l, &f[F_UDP], &plan[F_UDP], &c.dport[1]);
		uint32_t *sbounds = ns_lay(&l, (b->n_sb + 1) * sizeof *sbounds, 16);
		if (pass == 1) {
			memcpy(bits, class_bits, n_bits * sizeof *bits);
			memcpy(sbounds, b->sb, b->n_sb * sizeof *sbounds);
			c.bits = bits;
			c.sbounds = sbounds;
			c.n_sbounds = (uint32_t)b->n_sb;
			c.bytes = l.size;
			c.mem = l.base;
			*hp = c;
			return hp;
		}
		l.base = aligned_alloc(64, (l.size + 63) & ~(size_t)63);
		if (!l.base)
			return NULL;
		l.size = 0;
	}
	return NULL;
}

static void chain_build_free(chain_build *b)
{
	for (int i = 0; i < F_COUNT; i++) {
		ns_sweep_out_free(&b->f[i]);
		ns_plan_free(&b->plan[i]);
	}
	ns_ct_free(&b->t);
	free(b->tmp);
	free(b->sb);
}

/* A policy of more than NS_LEAN_RULES rules gets lean per-chain tries
 * (ns_plan_imap): it evaluates through the policy-wide classes, which read
 * a chain's intervals but never its trie, so the trie serves only the
 * fallback (the classes over their budget, NSGSIM_NO_GLOBAL) and a chain
 * searched alone.  On the 14,000-rule estate the tries were two thirds of
 * the classifiers' memory.  Smaller policies (the bench's chains and hub)
 * keep the full tries. */
enum { NS_LEAN_RULES = 10000 };

bool ns_cls_lean(const nsgsim_policy *p)
{
	const char *force = getenv("NSGSIM_LEAN_TRIES"); /* tests take the lean tries */
	if (force && *force && strcmp(force, "0") != 0)
		return true;
	return p->m.rules.n + p->n_admin_rules > NS_LEAN_RULES;
}

ns_cls *ns_cls_build(const nsgsim_policy *p, const ns_chain *ch)
{
	bool lean = ns_cls_lean(p);
	static const uint32_t keybits[F_COUNT] = {32, 32, 128, 128, 16, 16, 16};
	chain_build b;
	memset(&b, 0, sizeof b);
	b.p = p;
	b.ch = ch;
	b.n = ch->n;
	b.words = b.n ? ((b.n + 255) / 256) * 4 : 4;
	size_t n_sport_ranges = 0;
	for (size_t i = 0; i < b.n; i++)
		n_sport_ranges += ch->rules[i].src.n_ports;
	b.tmp = calloc(b.words * 4, sizeof *b.tmp);
	b.sb = malloc((2 * n_sport_ranges + 1) * sizeof *b.sb);
	ns_cls *c = NULL;
	b.hdr.n = (uint32_t)b.n;
	b.hdr.words = (uint32_t)b.words;
	if (ns_ct_init(&b.t, b.n, b.words) != 0 || !b.tmp || !b.sb || build_fields(&b) != 0 ||
	    build_portless(&b) != 0)
		goto out;
	mark_rules(&b);
	if (build_vnet_masks(&b) != 0)
		goto out;
	b.hdr.avx2 = ns_have_avx2();
	b.hdr.scan = !b.hdr.avx2         ? NS_SCAN_SCALAR
	             : b.hdr.words == 16 ? NS_SCAN_AVX2_16
	                                 : NS_SCAN_AVX2;
	for (int i = 0; i < F_COUNT; i++)
		if (ns_plan_imap(&b.f[i], keybits[i], lean, &b.plan[i]) != 0)
			goto out;
	c = lay_out(&b);
out:
	chain_build_free(&b);
	return c;
}

void ns_cls_free(ns_cls *c)
{
	if (c)
		free(c->mem);
}
