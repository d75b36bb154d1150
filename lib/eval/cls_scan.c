/* The scalar scans, the lazy VirtualNetwork filter, and the table that maps
 * a classifier's scan kind to its code (the AVX2 variants are in
 * lib/eval/cls_scan_avx2.c).
 *
 * May touch: lib/base, the compiled policy and compile/classifier.h. */
#include "eval/cls_scan.h"

/* The candidates of word k that survive the VirtualNetwork check, lowest
 * first: a rule with a VirtualNetwork side whose address is outside the
 * context's set drops out.  Only the lowest survivor matters, so rules
 * above it are never checked. */
uint64_t ns_vnet_filter(const ns_cls *c, size_t k, uint64_t w, ns_vn_state *v)
{
	uint64_t vs = c->bits[c->vnet_src + k], vd = c->bits[c->vnet_dst + k];
	while (w) {
		uint64_t b = w & (0 - w);
		if (!(b & (vs | vd)))
			return w;
		if ((b & vs) && v->src_in < 0)
			v->src_in = ns_pset_contains(&v->ctx->vnet_tag, v->f->family, v->f->src);
		if ((b & vd) && v->dst_in < 0)
			v->dst_in = ns_pset_contains(&v->ctx->vnet_tag, v->f->family, v->f->dst);
		if ((!(b & vs) || v->src_in) && (!(b & vd) || v->dst_in))
			return w;
		w ^= b;
	}
	return 0;
}

uint32_t ns_scan4_scalar(const ns_cls *c, const ns_cls_probe *q, ns_vn_state *v)
{
	for (size_t k = 0; k < c->words; k++) {
		uint64_t w = q->m[k] & q->s[k] & q->a[k] & q->d[k];
		if (!w)
			continue;
		if (c->has_vnet && !(w = ns_vnet_check(c, k, w, v)))
			continue;
		return (uint32_t)(k * 64 + (size_t)__builtin_ctzll(w));
	}
	return c->n;
}

uint32_t ns_scan5_scalar(const ns_cls *c, const uint64_t *m, const uint64_t *s, const uint64_t *a,
                         const uint64_t *d, const uint64_t *x)
{
	for (uint32_t k = 0; k < c->words; k++) {
		uint64_t w = m[k] & s[k] & a[k] & d[k] & x[k];
		if (w)
			return k * 64 + (uint32_t)__builtin_ctzll(w);
	}
	return c->n;
}

#ifdef NS_HAVE_X86
const ns_scan5_fn ns_scan5_of[NS_SCAN_KINDS] = {ns_scan5_scalar, ns_scan5_avx2, ns_scan5_avx2_16};
#else
const ns_scan5_fn ns_scan5_of[NS_SCAN_KINDS] = {ns_scan5_scalar, ns_scan5_scalar, ns_scan5_scalar};
#endif
