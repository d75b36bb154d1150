/* The flow tables of the fixtures: every documented worked example and trap
 * (fixtures/semantics/) and the bundled example (fixtures/example/), each flow
 * checked for its verdict, deciding layer, rule and endpoint. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "flowtable.h"
#include "nsgsim.h"

#define DEFAULT_TAGS "fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json"

/* build: NSGSIM_BUILD_FULL or NSGSIM_BUILD_MINIMAL (no classifiers: the
 * same answers are expected from the reference scan). */
static nsgsim_policy *load_fixture(const char *dir, int build)
{
	char env[512], tags[512];
	struct stat st;
	snprintf(env, sizeof env, "%s/env", dir);
	snprintf(tags, sizeof tags, "%s/service_tags.json", dir);
	if (stat(tags, &st) != 0)
		snprintf(tags, sizeof tags, "%s", DEFAULT_TAGS);
	nsgsim_loader *l = nsgsim_loader_new();
	nsgsim_error err = {0};
	nsgsim_policy *p = NULL;
	int rc = nsgsim_loader_set_build(l, build);
	if (rc == 0)
		rc = nsgsim_loader_add_env(l, env, &err);
	if (rc == 0)
		rc = nsgsim_loader_add_service_tags(l, tags, &err);
	if (rc == 0)
		rc = nsgsim_compile(l, &p, &err);
	nsgsim_loader_free(l);
	if (rc != 0) {
		char buf[3000];
		nsgsim_error_format(&err, buf, sizeof buf);
		print_error("%s: %s\n", dir, buf);
	}
	return p;
}

static void run_table_built(const char *dir, int build, int *rows, int *failures)
{
	char file[512];
	snprintf(file, sizeof file, "%s/flows.txt", dir);
	FILE *f = fopen(file, "r");
	if (!f)
		return;
	nsgsim_policy *p = load_fixture(dir, build);
	if (!p) {
		(*failures)++;
		fclose(f);
		return;
	}
	char line[1024];
	int lineno = 0;
	while (fgets(line, sizeof line, f)) {
		flow_row row;
		int k = flow_row_parse(line, ++lineno, &row);
		if (k < 0) {
			print_error("%s:%d: malformed flow-table line\n", file, lineno);
			(*failures)++;
		} else if (k > 0) {
			(*rows)++;
			*failures += !flow_row_check(p, file, &row);
		}
	}
	fclose(f);
	nsgsim_policy_free(p);
}

/* Every table with and without classifiers: both builds must give the
 * table's answers. */
static void run_table(const char *dir, int *rows, int *failures)
{
	int before = *rows, minimal_rows = 0;
	run_table_built(dir, NSGSIM_BUILD_FULL, rows, failures);
	run_table_built(dir, NSGSIM_BUILD_MINIMAL, &minimal_rows, failures);
	assert_int_equal(minimal_rows, *rows - before); /* both builds read every row */
	nsgsim_loader *l = nsgsim_loader_new();
	assert_int_equal(nsgsim_loader_set_build(l, 7), NSGSIM_E_INVALID_ARG);
	nsgsim_loader_free(l);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_tables_under(const char *root, int min_tables)
{
	DIR *d = opendir(root);
	assert_non_null(d);
	char *names[256];
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 256)
		if (e->d_name[0] != '.')
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof names[0], cmp_str);
	int rows = 0, failures = 0, tables = 0;
	for (size_t i = 0; i < n; i++) {
		char dir[512], flows[600];
		snprintf(dir, sizeof dir, "%s/%s", root, names[i]);
		snprintf(flows, sizeof flows, "%s/flows.txt", dir);
		struct stat st;
		if (stat(flows, &st) == 0) {
			tables++;
			run_table(dir, &rows, &failures);
		}
		free(names[i]);
	}
	printf("%s: %d flow tables, %d flows, %d failed\n", root, tables, rows, failures);
	assert_true(tables >= min_tables);
	assert_int_equal(failures, 0);
}

static void test_semantics_tables(void **state)
{
	(void)state;
	run_tables_under("fixtures/semantics", 30);
}

static void test_example_table(void **state)
{
	(void)state;
	int rows = 0, failures = 0;
	run_table("fixtures/example", &rows, &failures);
	printf("fixtures/example: %d flows, %d failed\n", rows, failures);
	assert_true(rows >= 10);
	assert_int_equal(failures, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_semantics_tables),
	        cmocka_unit_test(test_example_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
