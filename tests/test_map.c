/* lib/base's string map (ns_map): puts, replacements and deletions checked
 * against a plain array, so that a deletion that breaks a probe run (and
 * loses a key behind it) or leaves a deleted key findable fails here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "xorshift.h"

enum { KEYS = 300 };

static void check_all(const ns_map *m, char keys[KEYS][16], const uintptr_t *want)
{
	size_t live = 0;
	for (size_t k = 0; k < KEYS; k++) {
		uintptr_t got = (uintptr_t)ns_map_get(m, keys[k]);
		if (got != want[k])
			fail_msg("key %s: %lu, want %lu", keys[k], (unsigned long)got,
			         (unsigned long)want[k]);
		live += want[k] != 0;
	}
	assert_int_equal(m->n, live);
}

static void test_random_puts_and_deletes(void **state)
{
	(void)state;
	static char keys[KEYS][16];
	uintptr_t want[KEYS] = {0};
	for (size_t k = 0; k < KEYS; k++)
		snprintf(keys[k], sizeof keys[k], "k%zu", k * 7919);
	uint64_t seed = test_seed(0x3a9);
	ns_map m;
	ns_map_init(&m);
	ns_map_del(&m, "absent"); /* an empty map */
	size_t deletes = 0;
	for (int step = 0; step < 20000; step++) {
		size_t k = (size_t)(xs64(&seed) % KEYS);
		if (xs64(&seed) % 3 == 0) {
			deletes += want[k] != 0;
			ns_map_del(&m, keys[k]);
			want[k] = 0;
		} else {
			uintptr_t v = (uintptr_t)(xs64(&seed) % 1000) + 1;
			assert_int_equal(ns_map_put(&m, keys[k], (void *)v), 0);
			want[k] = v;
		}
		if (step % 97 == 0)
			check_all(&m, keys, want);
	}
	check_all(&m, keys, want);
	assert_true(deletes > 1000); /* deletions inside long runs were exercised */
	/* keys are case-insensitive: a deletion by another case finds the key */
	assert_int_equal(ns_map_put(&m, "MiXeD", (void *)(uintptr_t)5), 0);
	ns_map_del(&m, "mixed");
	assert_null(ns_map_get(&m, "MIXED"));
	ns_map_free(&m);
}

/* A replacement finds its slot before growing: on a map at its load limit
 * it puts without allocating. */
static void test_replacement_never_grows(void **state)
{
	(void)state;
	ns_map m;
	ns_map_init(&m);
	char keys[32][16];
	for (int k = 0; k < 32; k++) {
		snprintf(keys[k], sizeof keys[k], "r%d", k);
		assert_int_equal(ns_map_put(&m, keys[k], (void *)(uintptr_t)1), 0);
	}
	size_t cap = m.cap;
	assert_int_equal(m.n * 2, cap); /* full to its limit: one more key would grow it */
	for (int k = 0; k < 32; k++)
		assert_int_equal(ns_map_put(&m, keys[k], (void *)(uintptr_t)2), 0);
	assert_int_equal(m.cap, cap);
	assert_int_equal((uintptr_t)ns_map_get(&m, "r31"), 2);
	ns_map_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_random_puts_and_deletes),
	        cmocka_unit_test(test_replacement_never_grows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
