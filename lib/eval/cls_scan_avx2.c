/* The AVX2 scans: the classifier's bitsets four words (256 bits) at a
 * time.  Compiled with the avx2 target on x86 only, and taken only when the
 * classifier was built on a CPU that has it (ns_cls.avx2, ns_cls.scan), so
 * the default build stays portable: function multiversioning by hand.
 *
 * May touch: lib/base, the compiled policy and compile/classifier.h. */
#include "eval/cls_scan.h"

#ifdef NS_HAVE_X86
#include <immintrin.h>

/* Four words at a time; chosen at build time when the CPU has AVX2, so the
 * default build stays portable (function multiversioning by hand). */
__attribute__((target("avx2"))) uint32_t ns_scan4_avx2(const ns_cls *c, const ns_cls_probe *q,
                                                       ns_vn_state *v)
{
	for (size_t k = 0; k < c->words; k += 4) {
		__m256i x = _mm256_and_si256(
		        _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(q->m + k)),
		                         _mm256_loadu_si256((const __m256i *)(q->s + k))),
		        _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(q->a + k)),
		                         _mm256_loadu_si256((const __m256i *)(q->d + k))));
		if (_mm256_testz_si256(x, x))
			continue;
		for (size_t j = k; j < k + 4; j++) {
			uint64_t w = q->m[j] & q->s[j] & q->a[j] & q->d[j];
			if (w && c->has_vnet)
				w = ns_vnet_check(c, j, w, v);
			if (w)
				return (uint32_t)(j * 64 + (size_t)__builtin_ctzll(w));
		}
	}
	return c->n;
}

/* m & s & a & d & x for words k..k+3. */
__attribute__((target("avx2"))) static inline __m256i
and5_avx2(const uint64_t *m, const uint64_t *s, const uint64_t *a, const uint64_t *d,
          const uint64_t *x, uint32_t k)
{
	__m256i v =
	        _mm256_and_si256(_mm256_and_si256(_mm256_loadu_si256((const __m256i *)(m + k)),
	                                          _mm256_loadu_si256((const __m256i *)(s + k))),
	                         _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(a + k)),
	                                          _mm256_loadu_si256((const __m256i *)(d + k))));
	return _mm256_and_si256(v, _mm256_loadu_si256((const __m256i *)(x + k)));
}

/* Bit i set when lane i of v is zero. */
__attribute__((target("avx2"))) static inline unsigned zero_lanes(__m256i v)
{
	return (unsigned)_mm256_movemask_pd(
	        _mm256_castsi256_pd(_mm256_cmpeq_epi64(v, _mm256_setzero_si256())));
}

__attribute__((target("avx2"))) uint32_t ns_scan5_avx2(const ns_cls *c, const uint64_t *m,
                                                       const uint64_t *s, const uint64_t *a,
                                                       const uint64_t *d, const uint64_t *x)
{
	for (uint32_t k = 0; k < c->words; k += 4) {
		__m256i v = and5_avx2(m, s, a, d, x, k);
		if (_mm256_testz_si256(v, v))
			continue;
		/* The first non-zero lane, then its word again in a scalar. */
		uint32_t j = k + (uint32_t)__builtin_ctz(~zero_lanes(v) & 0xFu);
		uint64_t w = m[j] & s[j] & a[j] & d[j] & x[j];
		return j * 64 + (uint32_t)__builtin_ctzll(w);
	}
	return c->n;
}

/* scan5_avx2 for chains of 16 words (769 to 1,024 rules): all sixteen
 * words in one pass and one branch, instead of a loop that exits at an
 * unpredictable place.  Measured on the bench's 1,000-rule chain, 8-10%
 * less time per batched flow; on the 4,000-rule chain a 16-word block was
 * slower than four words at a time, so only this size takes it. */
__attribute__((target("avx2"))) uint32_t ns_scan5_avx2_16(const ns_cls *c, const uint64_t *m,
                                                          const uint64_t *s, const uint64_t *a,
                                                          const uint64_t *d, const uint64_t *x)
{
	unsigned zero = zero_lanes(and5_avx2(m, s, a, d, x, 0)) |
	                zero_lanes(and5_avx2(m, s, a, d, x, 4)) << 4 |
	                zero_lanes(and5_avx2(m, s, a, d, x, 8)) << 8 |
	                zero_lanes(and5_avx2(m, s, a, d, x, 12)) << 12;
	if (zero == 0xFFFFu)
		return c->n;
	uint32_t j = (uint32_t)__builtin_ctz(~zero);
	uint64_t w = m[j] & s[j] & a[j] & d[j] & x[j];
	return j * 64 + (uint32_t)__builtin_ctzll(w);
}
#endif
