/* What the scans share with the lookups that call them (lib/eval/cls_*.c):
 * a flow's class bitsets in one chain, the lazy VirtualNetwork check of the
 * general path, and each scan variant.  Private to the eval stage.
 *
 * May touch: lib/base, the compiled policy and compile/classifier.h. */
#ifndef NSGSIM_CLS_SCAN_H
#define NSGSIM_CLS_SCAN_H

#include "eval/match.h"

#if defined(__x86_64__) || defined(__i386__)
#define NS_HAVE_X86 1
#endif

/* A flow's class bitsets in one chain: protocol and destination port (or
 * the portless protocol's), source port, source and destination address. */
typedef struct ns_cls_probe {
	const uint64_t *m, *s, *a, *d;
} ns_cls_probe;

/* Whether the flow's addresses are in the context's VirtualNetwork set,
 * looked up only when a candidate rule needs it (-1: not yet known). */
typedef struct ns_vn_state {
	const ns_csubnet *ctx;
	const ns_flowv *f;
	int src_in, dst_in;
} ns_vn_state;

/* The candidates of word k that survive the VirtualNetwork check
 * (lib/eval/cls_scan.c). */
uint64_t ns_vnet_filter(const ns_cls *c, size_t k, uint64_t w, ns_vn_state *v);

/* ns_vnet_filter, after the common case inline: the lowest candidate has
 * no VirtualNetwork side, so nothing needs looking up (measured: most calls
 * of the filter returned at once, for more than the test costs). */
static inline uint64_t ns_vnet_check(const ns_cls *c, size_t k, uint64_t w, ns_vn_state *v)
{
	uint64_t b = w & (0 - w);
	if (!(b & (c->bits[c->vnet_src + k] | c->bits[c->vnet_dst + k])))
		return w;
	return ns_vnet_filter(c, k, w, v);
}

/* The general path's scans of m & s & a & d with the lazy check. */
uint32_t ns_scan4_scalar(const ns_cls *c, const ns_cls_probe *q, ns_vn_state *v);
/* The global path's scans of five bitsets. */
uint32_t ns_scan5_scalar(const ns_cls *c, const uint64_t *m, const uint64_t *s, const uint64_t *a,
                         const uint64_t *d, const uint64_t *x);

#ifdef NS_HAVE_X86
/* lib/eval/cls_scan_avx2.c: four words at a time; taken only when the
 * classifier was built for a CPU with AVX2 (ns_cls.avx2, ns_cls.scan). */
uint32_t ns_scan4_avx2(const ns_cls *c, const ns_cls_probe *q, ns_vn_state *v);
uint32_t ns_scan5_avx2(const ns_cls *c, const uint64_t *m, const uint64_t *s, const uint64_t *a,
                       const uint64_t *d, const uint64_t *x);
uint32_t ns_scan5_avx2_16(const ns_cls *c, const uint64_t *m, const uint64_t *s, const uint64_t *a,
                          const uint64_t *d, const uint64_t *x);
#endif

#endif
