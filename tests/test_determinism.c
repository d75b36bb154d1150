/* Determinism: the same input gives byte-identical output, run after run,
 * whatever the order of the files and of the resources in them.
 *
 * The bundled example is loaded as (a) its directory, the reference; (b) its
 * files one by one, sorted, reversed and shuffled; (c) one JSON array of all
 * its resources, shuffled; (d) each resource as its own buffer, shuffled.
 * Each variant renders the effective rules of every NIC (JSON and table) and
 * every flow of fixtures/example/flows.txt (nsgsim_result_render, JSON and
 * table, verbose); all of it must equal (a) byte for byte.  The same runs
 * over every other fixture with an env/ directory (fixtures/semantics/NAME,
 * fixtures/effective_myers/scenarioN), whose flow tables and NICs differ. */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "flowtable.h"
#include "nsgsim.h"
#include "compile/policy.h" /* only to list a policy's NICs */

/* One fixture: its environment directory, flow table (optional) and
 * service tags (optional). */
typedef struct fixture {
	char env[512], flows[512], tags[512];
	size_t nics; /* expected NIC count, 0: any */
} fixture;

static const fixture example = {"fixtures/example/env", "fixtures/example/flows.txt",
                                "fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json",
                                5};

/* ---- small helpers ----------------------------------------------------------------- */

typedef struct strbuf {
	char *s;
	size_t len, cap;
} strbuf;

static void sb_put(strbuf *b, const char *s)
{
	size_t n = strlen(s);
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->s = realloc(b->s, cap);
		assert_non_null(b->s);
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
}

static void sb_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(strbuf *b, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	sb_put(b, line);
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	strbuf b = {0};
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk - 1, f)) > 0) {
		chunk[n] = '\0';
		assert_int_equal(strlen(chunk), n); /* no NUL in JSON text */
		sb_put(&b, chunk);
	}
	fclose(f);
	*len = b.len;
	return b.s;
}

/* xorshift64*: a reproducible shuffle for a given seed. */
static uint64_t rnd(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 2685821657736338717ULL;
}

static void shuffle(void **items, size_t n, uint64_t seed)
{
	uint64_t st = seed * 0x9E3779B97F4A7C15ULL + 1;
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(rnd(&st) % i);
		void *t = items[i - 1];
		items[i - 1] = items[j];
		items[j] = t;
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.json files under dir, recursively, in byte-wise order (as the
 * loader reads a directory). */
static void collect(const char *dir, char ***paths, size_t *n)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		struct stat st;
		assert_int_equal(stat(path, &st), 0);
		size_t len = strlen(e->d_name);
		if (S_ISDIR(st.st_mode)) {
			collect(path, paths, n);
		} else if (len > 5 && strcmp(e->d_name + len - 5, ".json") == 0) {
			*paths = realloc(*paths, (*n + 1) * sizeof **paths);
			assert_non_null(*paths);
			(*paths)[(*n)++] = strdup(path);
		}
	}
	closedir(d);
	qsort(*paths, *n, sizeof **paths, cmp_str);
}

static void free_paths(char **paths, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

/* ---- the output of one policy ------------------------------------------------------ */

static void fail_rc(const char *what, int rc, const nsgsim_error *err)
{
	char buf[3000];
	nsgsim_error_format(err, buf, sizeof buf);
	print_error("%s: %s: %s\n", what, nsgsim_error_name(rc), buf);
	fail();
}

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Everything printed about the policy, with a header per section so that a
 * difference can be named.  NICs go by id, in sorted order. */
static char *render_all(const nsgsim_policy *p, const fixture *fx)
{
	strbuf b = {0};
	nsgsim_stats st;
	nsgsim_policy_stats(p, &st);
	sb_printf(&b, "== stats %zu %zu %zu %zu %zu %zu %zu %zu %zu %zu\n", st.vnets, st.subnets,
	          st.nics, st.nsgs, st.nsg_rules, st.asgs, st.route_tables, st.network_managers,
	          st.admin_rules, st.service_tags);
	if (fx->nics)
		assert_int_equal(st.nics, fx->nics);
	const char **nics = calloc(p->n_nics + 1, sizeof *nics);
	assert_non_null(nics);
	for (size_t i = 0; i < p->n_nics; i++)
		nics[i] = p->nics[i].n->id;
	qsort(nics, p->n_nics, sizeof *nics, cmp_cstr);
	for (size_t i = 0; i < p->n_nics; i++) {
		for (int fmt = NSGSIM_FORMAT_JSON; fmt <= NSGSIM_FORMAT_TABLE; fmt++) {
			char *out = NULL;
			nsgsim_error err;
			int rc = nsgsim_effective(p, nics[i], (nsgsim_format)fmt, &out, &err);
			if (rc != 0)
				fail_rc(nics[i], rc, &err);
			sb_printf(&b, "== effective %s %s\n", nics[i], fmt ? "table" : "json");
			sb_put(&b, out);
			nsgsim_free(out);
		}
	}
	free(nics);
	FILE *f = fx->flows[0] ? fopen(fx->flows, "r") : NULL;
	if (!f)
		return b.s;
	char line[1024];
	int lineno = 0, rows = 0;
	while (fgets(line, sizeof line, f)) {
		flow_row r;
		int k = flow_row_parse(line, ++lineno, &r);
		assert_true(k >= 0);
		if (k == 0)
			continue;
		rows++;
		nsgsim_flow flow;
		nsgsim_result res;
		nsgsim_error err;
		int rc = nsgsim_flow_parse(r.flow, &flow, &err);
		if (rc != 0)
			fail_rc(r.flow, rc, &err);
		if (r.at[0])
			rc = nsgsim_eval_at(p, &flow, r.at,
			                    strcmp(r.direction, "inbound") == 0 ? NSGSIM_INBOUND
			                                                        : NSGSIM_OUTBOUND,
			                    &res, &err);
		else
			rc = nsgsim_eval(p, &flow, &res, &err);
		if (rc != 0)
			fail_rc(r.flow, rc, &err);
		for (int fmt = NSGSIM_FORMAT_JSON; fmt <= NSGSIM_FORMAT_TABLE; fmt++) {
			char *out = NULL;
			rc = nsgsim_result_render(p, &flow, &res, (nsgsim_format)fmt, 1, &out,
			                          &err);
			if (rc != 0)
				fail_rc(r.flow, rc, &err);
			sb_printf(&b, "== flow line %d %s %s\n", lineno, r.flow,
			          fmt ? "table" : "json");
			sb_put(&b, out);
			nsgsim_free(out);
		}
	}
	fclose(f);
	assert_true(rows >= 1);
	return b.s;
}

/* A policy from a loader already holding the environment. */
static char *finish(nsgsim_loader *l, const fixture *fx, const char *variant)
{
	nsgsim_error err;
	int rc = fx->tags[0] ? nsgsim_loader_add_service_tags(l, fx->tags, &err) : 0;
	if (rc != 0)
		fail_rc(variant, rc, &err);
	nsgsim_policy *p = NULL;
	rc = nsgsim_compile(l, &p, &err);
	if (rc != 0)
		fail_rc(variant, rc, &err);
	nsgsim_loader_free(l);
	char *out = render_all(p, fx);
	nsgsim_policy_free(p);
	return out;
}

/* Reports the first line where got differs from want, with its section. */
static void expect_same(const char *want, const char *got, const fixture *fx, const char *variant)
{
	if (strcmp(want, got) == 0)
		return;
	const char *w = want, *g = got, *section = "(start)";
	size_t section_len = 7;
	int line = 1;
	while (*w && *w == *g) {
		if (*w == '\n') {
			line++;
			if (strncmp(w + 1, "== ", 3) == 0) {
				section = w + 1;
				section_len = strcspn(section, "\n");
			}
		}
		w++;
		g++;
	}
	/* Back to the start of the line. */
	while (w > want && w[-1] != '\n') {
		w--;
		g--;
	}
	print_error("%s: %s differs from the directory load at output line %d, in section "
	            "'%.*s':\n  want: %.*s\n  got:  %.*s\n",
	            fx->env, variant, line, (int)section_len, section, (int)strcspn(w, "\n"), w,
	            (int)strcspn(g, "\n"), g);
	fail();
}

/* ---- the variants --------------------------------------------------------------------- */

static char *from_directory(const fixture *fx)
{
	nsgsim_loader *l = nsgsim_loader_new();
	assert_non_null(l);
	nsgsim_error err;
	int rc = nsgsim_loader_add_env(l, fx->env, &err);
	if (rc != 0)
		fail_rc(fx->env, rc, &err);
	return finish(l, fx, "directory");
}

static char *from_files(const fixture *fx, char **paths, size_t n, const char *variant)
{
	nsgsim_loader *l = nsgsim_loader_new();
	assert_non_null(l);
	for (size_t i = 0; i < n; i++) {
		nsgsim_error err;
		int rc = nsgsim_loader_add_env(l, paths[i], &err);
		if (rc != 0)
			fail_rc(variant, rc, &err);
	}
	return finish(l, fx, variant);
}

/* Every resource of a fixture as a detached cJSON item, in file order. */
static cJSON **all_resources(const fixture *fx, size_t *count)
{
	char **paths = NULL;
	size_t n = 0;
	collect(fx->env, &paths, &n);
	cJSON **items = NULL;
	*count = 0;
	for (size_t i = 0; i < n; i++) {
		size_t len;
		char *text = read_all(paths[i], &len);
		cJSON *doc = cJSON_ParseWithLength(text, len);
		free(text);
		assert_non_null(doc);
		cJSON *list = doc;
		if (cJSON_IsObject(doc) && cJSON_IsArray(cJSON_GetObjectItem(doc, "value")))
			list = cJSON_GetObjectItem(doc, "value");
		else if (cJSON_IsObject(doc) &&
		         cJSON_IsArray(cJSON_GetObjectItem(doc, "resources")))
			list = cJSON_GetObjectItem(doc, "resources");
		if (cJSON_IsArray(list)) {
			while (cJSON_GetArraySize(list) > 0) {
				items = realloc(items, (*count + 1) * sizeof *items);
				assert_non_null(items);
				items[(*count)++] = cJSON_DetachItemFromArray(list, 0);
			}
			cJSON_Delete(doc);
		} else {
			items = realloc(items, (*count + 1) * sizeof *items);
			assert_non_null(items);
			items[(*count)++] = doc;
		}
	}
	free_paths(paths, n);
	return items;
}

static void free_resources(cJSON **items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cJSON_Delete(items[i]);
	free(items);
}

/* (c): one array of every resource, in the given order. */
static char *from_one_array(const fixture *fx, cJSON **items, size_t n, const char *variant)
{
	cJSON *arr = cJSON_CreateArray();
	assert_non_null(arr);
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemReferenceToArray(arr, items[i]);
	char *text = cJSON_PrintUnformatted(arr);
	cJSON_Delete(arr); /* references only: the items stay */
	assert_non_null(text);
	nsgsim_loader *l = nsgsim_loader_new();
	assert_non_null(l);
	nsgsim_error err;
	int rc = nsgsim_loader_add_env_buffer(l, "all.json", text, strlen(text), &err);
	cJSON_free(text);
	if (rc != 0)
		fail_rc(variant, rc, &err);
	return finish(l, fx, variant);
}

/* (d): each resource as its own buffer, in the given order. */
static char *from_buffers(const fixture *fx, cJSON **items, size_t n, const char *variant)
{
	nsgsim_loader *l = nsgsim_loader_new();
	assert_non_null(l);
	for (size_t i = 0; i < n; i++) {
		char *text = cJSON_Print(items[i]);
		assert_non_null(text);
		char name[48];
		snprintf(name, sizeof name, "resource%zu.json", i);
		nsgsim_error err;
		int rc = nsgsim_loader_add_env_buffer(l, name, text, strlen(text), &err);
		cJSON_free(text);
		if (rc != 0)
			fail_rc(variant, rc, &err);
	}
	return finish(l, fx, variant);
}

/* ---- the checks, for one fixture ------------------------------------------------------- */

static const uint64_t seeds[] = {1, 2, 3, 42, 20251109};
/* The example gets every seed; the other fixtures (smaller, and many) two. */
static size_t n_seeds = sizeof seeds / sizeof seeds[0];

static void check_repeated_runs(const fixture *fx)
{
	char *a = from_directory(fx);
	char *b = from_directory(fx);
	expect_same(a, b, fx, "a second directory load");
	/* The same policy, rendered twice. */
	nsgsim_loader *l = nsgsim_loader_new();
	assert_non_null(l);
	assert_int_equal(nsgsim_loader_add_env(l, fx->env, NULL), 0);
	if (fx->tags[0])
		assert_int_equal(nsgsim_loader_add_service_tags(l, fx->tags, NULL), 0);
	nsgsim_policy *p = NULL;
	assert_int_equal(nsgsim_compile(l, &p, NULL), 0);
	nsgsim_loader_free(l);
	char *c = render_all(p, fx);
	char *d = render_all(p, fx);
	nsgsim_policy_free(p);
	expect_same(a, c, fx, "a third load");
	expect_same(c, d, fx, "the same policy rendered again");
	free(a);
	free(b);
	free(c);
	free(d);
}

static void check_file_orders(const fixture *fx)
{
	char *want = from_directory(fx);
	char **paths = NULL;
	size_t n = 0;
	collect(fx->env, &paths, &n);
	assert_true(n >= 1);
	char *got = from_files(fx, paths, n, "the files in sorted order");
	expect_same(want, got, fx, "the files in sorted order");
	free(got);
	for (size_t i = 0; i < n / 2; i++) {
		char *t = paths[i];
		paths[i] = paths[n - 1 - i];
		paths[n - 1 - i] = t;
	}
	got = from_files(fx, paths, n, "the files in reverse order");
	expect_same(want, got, fx, "the files in reverse order");
	free(got);
	for (size_t s = 0; s < n_seeds; s++) {
		char variant[128];
		snprintf(variant, sizeof variant, "the files shuffled (seed %llu)",
		         (unsigned long long)seeds[s]);
		shuffle((void **)paths, n, seeds[s]);
		got = from_files(fx, paths, n, variant);
		expect_same(want, got, fx, variant);
		free(got);
	}
	free_paths(paths, n);
	free(want);
}

static void check_one_array(const fixture *fx)
{
	char *want = from_directory(fx);
	size_t n;
	cJSON **items = all_resources(fx, &n);
	assert_true(n >= 1);
	char *got = from_one_array(fx, items, n, "one array in file order");
	expect_same(want, got, fx, "one array in file order");
	free(got);
	for (size_t s = 0; s < n_seeds; s++) {
		char variant[128];
		snprintf(variant, sizeof variant, "one array shuffled (seed %llu)",
		         (unsigned long long)seeds[s]);
		shuffle((void **)items, n, seeds[s]);
		got = from_one_array(fx, items, n, variant);
		expect_same(want, got, fx, variant);
		free(got);
	}
	free_resources(items, n);
	free(want);
}

static void check_resource_buffers(const fixture *fx)
{
	char *want = from_directory(fx);
	size_t n;
	cJSON **items = all_resources(fx, &n);
	for (size_t s = 0; s < n_seeds; s++) {
		char variant[128];
		snprintf(variant, sizeof variant, "one buffer per resource, shuffled (seed %llu)",
		         (unsigned long long)seeds[s]);
		shuffle((void **)items, n, seeds[s]);
		char *got = from_buffers(fx, items, n, variant);
		expect_same(want, got, fx, variant);
		free(got);
	}
	free_resources(items, n);
	free(want);
}

static void check_all(const fixture *fx)
{
	check_repeated_runs(fx);
	check_file_orders(fx);
	check_one_array(fx);
	check_resource_buffers(fx);
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_example_repeated_runs(void **state)
{
	(void)state;
	check_repeated_runs(&example);
}

static void test_example_file_orders(void **state)
{
	(void)state;
	check_file_orders(&example);
}

static void test_example_one_array(void **state)
{
	(void)state;
	check_one_array(&example);
}

static void test_example_resource_buffers(void **state)
{
	(void)state;
	check_resource_buffers(&example);
}

static int file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* Every fixture directory under root that has an env/. */
static void check_fixtures_under(const char *root, const char *tags, int *count)
{
	DIR *d = opendir(root);
	assert_non_null(d);
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		names = realloc(names, (n + 1) * sizeof *names);
		assert_non_null(names);
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, cmp_str);
	for (size_t i = 0; i < n; i++) {
		fixture fx = {{0}, {0}, {0}, 0};
		snprintf(fx.env, sizeof fx.env, "%s/%s/env", root, names[i]);
		if (!file_exists(fx.env))
			continue;
		snprintf(fx.flows, sizeof fx.flows, "%s/%s/flows.txt", root, names[i]);
		if (!file_exists(fx.flows))
			fx.flows[0] = '\0';
		snprintf(fx.tags, sizeof fx.tags, "%s/%s/service_tags.json", root, names[i]);
		if (!file_exists(fx.tags))
			snprintf(fx.tags, sizeof fx.tags, "%s", tags);
		n_seeds = 2;
		check_all(&fx);
		n_seeds = sizeof seeds / sizeof seeds[0];
		(*count)++;
	}
	free_paths(names, n);
}

static void test_semantics_fixtures(void **state)
{
	(void)state;
	int count = 0;
	check_fixtures_under("fixtures/semantics", "", &count);
	assert_true(count >= 30);
}

static void test_effective_myers_fixtures(void **state)
{
	(void)state;
	int count = 0;
	check_fixtures_under("fixtures/effective_myers",
	                     "fixtures/effective_myers/internet_override_tags.json", &count);
	assert_true(count >= 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_example_repeated_runs),
	        cmocka_unit_test(test_example_file_orders),
	        cmocka_unit_test(test_example_one_array),
	        cmocka_unit_test(test_example_resource_buffers),
	        cmocka_unit_test(test_semantics_fixtures),
	        cmocka_unit_test(test_effective_myers_fixtures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
