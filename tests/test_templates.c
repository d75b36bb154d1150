/* Robustness of the environment loader against 356 real ARM templates (Azure
 * Quickstart Templates, 2021), from
 * $NSGSIM_SHARED_DATA/nsg/arm_quickstart_templates/templates/.
 *
 * Most of these templates are parameterised ("[parameters('x')]"), which
 * nsgsim refuses by design.  What this test asserts is that every template
 * either loads and compiles, or fails cleanly: a documented, specific error
 * code (never NSGSIM_E_INTERNAL or NSGSIM_E_NOMEM), the template's path in
 * err.file and a message; an unevaluated expression also names where it is
 * (a JSON pointer) and quotes the expression.  Run under ASan/valgrind this
 * is also a crash and leak test over real-world input.
 *
 * The summary line and the list of "other" errors are printed for a human to
 * read: those are the interesting ones (a legitimate rejection, or a shape
 * the loader should accept).  The test skips, and says so, when the shared
 * data is absent. */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "nsgsim.h"

#define TEMPLATES_SUBDIR "/nsg/arm_quickstart_templates/templates"
#define TAGS_SUBDIR      "/service_tags/ServiceTags_Public_20251109.json"
#define N_CODES          32 /* -code indexes; the table ends at -31 */

/* ---- collecting the files ---- */

typedef struct paths {
	char **v;
	size_t n, cap;
} paths;

static void paths_push(paths *p, char *s)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 512;
		p->v = realloc(p->v, p->cap * sizeof *p->v);
		assert_non_null(p->v);
	}
	p->v[p->n++] = s;
}

static void paths_free(paths *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
}

static bool has_json_suffix(const char *name)
{
	size_t n = strlen(name);
	return n > 5 && strcmp(name + n - 5, ".json") == 0;
}

/* Every *.json under dir, recursively. */
static void collect(const char *dir, paths *out)
{
	DIR *d = opendir(dir);
	if (!d)
		fail_msg("cannot open directory %s", dir);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		size_t len = strlen(dir) + strlen(e->d_name) + 2;
		char *path = malloc(len);
		assert_non_null(path);
		snprintf(path, len, "%s/%s", dir, e->d_name);
		struct stat st;
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			collect(path, out);
			free(path);
		} else if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		           has_json_suffix(e->d_name)) {
			paths_push(out, path);
		} else {
			free(path);
		}
	}
	closedir(d);
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- one template ---- */

/* A documented failure code that says something specific about the input. */
static bool is_clean_code(int code)
{
	return code < 0 && nsgsim_error_name(code) != NULL && code != NSGSIM_E_INTERNAL &&
	       code != NSGSIM_E_NOMEM;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* KNOWN GAP (reported, lib/parse/load_env.c parse_resource): a resource with a
 * "copy" loop fails with "a template copy loop; evaluate the template first",
 * which does not quote the loop's count expression.  Tolerated here, and
 * counted in the summary, so that the rest of the test guards; drop this
 * exception once the message quotes copy.count. */
static bool is_copy_loop(const nsgsim_error *err)
{
	return ends_with(err->pointer, "/copy") || ends_with(err->pointer, "/copy/count");
}

/* Returns the problems with a failure, "" when it is clean. */
static const char *check_failure(const char *path, int rc, const nsgsim_error *err)
{
	if (!is_clean_code(rc))
		return "not a specific documented error code";
	if (err->code != rc)
		return "err.code differs from the returned code";
	if (strcmp(err->file, path) != 0)
		return "err.file is not the template's path";
	if (!err->message[0])
		return "empty err.message";
	if (rc == NSGSIM_E_UNEVALUATED) {
		if (err->pointer[0] != '/')
			return "unevaluated expression without a JSON pointer";
		if (!strchr(err->message, '[') && !is_copy_loop(err))
			return "unevaluated expression whose message does not quote it";
	}
	return "";
}

#define N_WHERE 32

typedef struct tally {
	size_t total, loaded, unevaluated, other, bad, copy_loops;
	char where[N_WHERE][64]; /* last pointer segment of unevaluated expressions */
	size_t where_n[N_WHERE];
	size_t by_code[N_CODES];
	double seconds;
} tally;

/* Counts the last segment of pointer ("name", "condition", ...), with
 * array indexes shown as "N". */
static void count_where(tally *t, const char *pointer)
{
	const char *seg = strrchr(pointer, '/');
	seg = seg ? seg + 1 : pointer;
	char key[64];
	snprintf(key, sizeof key, "%.63s", strspn(seg, "0123456789") == strlen(seg) ? "N" : seg);
	for (size_t i = 0; i < N_WHERE; i++) {
		if (!t->where[i][0])
			snprintf(t->where[i], sizeof t->where[i], "%s", key);
		if (strcmp(t->where[i], key) == 0) {
			t->where_n[i]++;
			return;
		}
	}
}

static void run_one(const char *path, const char *tags, tally *t)
{
	nsgsim_error err;
	memset(&err, 0, sizeof err);
	nsgsim_loader *l = nsgsim_loader_new();
	assert_non_null(l);
	int rc = nsgsim_loader_add_env(l, path, &err);
	if (rc == 0) {
		/* Only now the full tags (~40 ms): templates name many tags. */
		nsgsim_error terr;
		memset(&terr, 0, sizeof terr);
		if (nsgsim_loader_add_service_tags(l, tags, &terr) != 0)
			fail_msg("%s: %s", tags, terr.message);
		nsgsim_policy *p = NULL;
		rc = nsgsim_compile(l, &p, &err);
		if (rc == 0) {
			nsgsim_stats st;
			nsgsim_policy_stats(p, &st);
			printf("  loaded: %s (%zu NSGs, %zu rules with defaults)\n", path, st.nsgs,
			       st.nsg_rules);
		}
		nsgsim_policy_free(p);
	}
	nsgsim_loader_free(l);
	t->total++;
	if (rc == 0) {
		t->loaded++;
		return;
	}
	if (rc < 0 && -rc < N_CODES)
		t->by_code[-rc]++;
	const char *problem = check_failure(path, rc, &err);
	if (problem[0]) {
		t->bad++;
		printf("  BAD ERROR %s: %s\n    %s (%d) file=%s pointer=%s\n    message: %s\n",
		       path, problem, nsgsim_error_name(rc) ? nsgsim_error_name(rc) : "?", rc,
		       err.file, err.pointer, err.message);
	} else if (rc == NSGSIM_E_UNEVALUATED) {
		t->unevaluated++;
		t->copy_loops += is_copy_loop(&err);
		count_where(t, err.pointer);
	} else {
		t->other++;
		printf("  other: %s\n    %s %s\n    %s\n", path, nsgsim_error_name(rc), err.pointer,
		       err.message);
	}
}

static void test_quickstart_templates(void **state)
{
	(void)state;
	const char *data = getenv("NSGSIM_SHARED_DATA");
	char dir[4096], tags[4096];
	struct stat st;
	snprintf(dir, sizeof dir, "%s" TEMPLATES_SUBDIR, data ? data : "");
	snprintf(tags, sizeof tags, "%s" TAGS_SUBDIR, data ? data : "");
	if (!data || !*data) {
		printf("[  SKIPPED ] test_quickstart_templates: NSGSIM_SHARED_DATA is not set; "
		       "the ARM templates were not tested\n");
		skip();
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || stat(tags, &st) != 0) {
		printf("[  SKIPPED ] test_quickstart_templates: %s or %s not found "
		       "(NSGSIM_SHARED_DATA=%s); the ARM templates were not tested\n",
		       dir, tags, data);
		skip();
	}

	paths files = {0};
	collect(dir, &files);
	qsort(files.v, files.n, sizeof *files.v, cmp_path);

	tally t;
	memset(&t, 0, sizeof t);
	double start = now_seconds();
	for (size_t i = 0; i < files.n; i++)
		run_one(files.v[i], tags, &t);
	t.seconds = now_seconds() - start;
	paths_free(&files);

	printf("templates: %zu total, %zu loaded, %zu unevaluated expression, %zu other errors, "
	       "%zu bad errors (by code:",
	       t.total, t.loaded, t.unevaluated, t.other, t.bad);
	for (int c = 1; c < N_CODES; c++)
		if (t.by_code[c])
			printf(" %s %zu", nsgsim_error_name(-c) ? nsgsim_error_name(-c) : "?",
			       t.by_code[c]);
	printf(") in %.2f s\n", t.seconds);
	printf("unevaluated expressions found at (last pointer segment):");
	for (size_t i = 0; i < N_WHERE && t.where[i][0]; i++)
		printf(" %s %zu", t.where[i], t.where_n[i]);
	printf("\n");
	if (t.copy_loops)
		printf("KNOWN GAP: %zu copy-loop errors do not quote the loop's count expression\n",
		       t.copy_loops);

	assert_true(t.total > 0);
	assert_true(t.loaded >= 1);
	if (t.bad)
		fail_msg("%zu templates failed without a clean, specific error (listed above)",
		         t.bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_quickstart_templates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
