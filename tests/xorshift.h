/* The random numbers of the randomized C tests: xorshift64, small, fixed and
 * the same on every platform; NSGSIM_TEST_SEED replaces a test's seed. */
#ifndef NSGSIM_TEST_XORSHIFT_H
#define NSGSIM_TEST_XORSHIFT_H

#include <stdint.h>
#include <stdlib.h>

static inline uint64_t xs64(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* NSGSIM_TEST_SEED when it is set, else the test's own seed; never 0. */
static inline uint64_t test_seed(uint64_t fallback)
{
	const char *e = getenv("NSGSIM_TEST_SEED");
	uint64_t s = e && *e ? strtoull(e, NULL, 0) : fallback;
	return s ? s : 1;
}

#endif
