/* Every expression of the Azure quickstart templates must parse: each
 * string value (keys too) that is an ARM expression ("[...]", not "[[")
 * in $NSGSIM_SHARED_DATA/nsg/arm_quickstart_templates/templates/, every .json file at any depth,
 * goes through the parser; a failure is listed with its file and text.
 * The test also evaluates each one with a permissive fake environment
 * (every parameter and variable is the string "x") and prints how many
 * evaluate, are unknown, or fail and why -- for information: without real
 * parameters evaluation may fail, parsing must not.  Skips cleanly when
 * the data is absent.  ARM_CORPUS_VERBOSE=1 prints each evaluation error. */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nsgsim.h"
#include "files.h"
#include "parse/arm_expr_int.h"

#define SUBDIR "/nsg/arm_quickstart_templates/templates"

typedef struct tally {
	size_t files, not_json, exprs, parse_fail, ok, unknown, eval_fail;
	size_t by_code[40];
} tally;

static int any_param(void *user, const char *name, cJSON **out, ns_arm_error *err)
{
	(void)user;
	(void)name;
	(void)err;
	*out = cJSON_CreateString("x");
	return 0;
}

static int any_index(void *user, const char *loop, int64_t *out, ns_arm_error *err)
{
	(void)user;
	(void)loop;
	(void)err;
	*out = 0;
	return 0;
}

static void one_expr(const char *path, const char *s, const cJSON *funcs, tally *t)
{
	if (!ns_arm_is_expression(s))
		return;
	t->exprs++;
	ns_arm_node *root = NULL;
	ns_arm_error err = {0};
	if (ns_arm_parse(s + 1, strlen(s) - 2, 1, &root, &err) != 0) {
		t->parse_fail++;
		printf("PARSE FAILURE %s at %zu: %s\n    %.300s\n", path, err.offset, err.msg, s);
		return;
	}
	ns_arm_node_free(root);
	uint64_t budget = 1000000;
	ns_arm_env env = {.parameter = any_param,
	                  .variable = any_param,
	                  .copy_index = any_index,
	                  .functions = funcs,
	                  .budget = &budget,
	                  .max_string = 1 << 20};
	cJSON *out = NULL;
	int rc = ns_arm_eval(&env, s, &out, &err);
	if (rc == 0 && ns_arm_is_unknown(out))
		t->unknown++;
	else if (rc == 0)
		t->ok++;
	else {
		t->eval_fail++;
		if (getenv("ARM_CORPUS_VERBOSE"))
			printf("EVAL %s\n", err.msg);
		if (-rc > 0 && -rc < 40)
			t->by_code[-rc]++;
	}
	cJSON_Delete(out);
}

static void walk(const char *path, const cJSON *v, const cJSON *funcs, tally *t)
{
	if (v->string)
		one_expr(path, v->string, funcs, t);
	if (cJSON_IsString(v))
		one_expr(path, v->valuestring, funcs, t);
	for (const cJSON *k = v->child; k; k = k->next)
		walk(path, k, funcs, t);
}

static void one_file(const char *path, tally *t)
{
	size_t len;
	char *text = test_read_file(path, &len);
	cJSON *doc = cJSON_ParseWithLength(text, len);
	free(text);
	t->files++;
	if (!doc) {
		t->not_json++;
		return;
	}
	walk(path, doc, cJSON_GetObjectItem(doc, "functions"), t);
	cJSON_Delete(doc);
}

static void scan(const char *dir, tally *t)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char p[4096];
		struct stat st;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		if (stat(p, &st) != 0)
			continue;
		size_t n = strlen(e->d_name);
		if (S_ISDIR(st.st_mode))
			scan(p, t);
		else if (n > 5 && strcmp(e->d_name + n - 5, ".json") == 0)
			one_file(p, t);
	}
	closedir(d);
}

static void test_quickstart_expressions_parse(void **state)
{
	(void)state;
	const char *data = getenv("NSGSIM_SHARED_DATA");
	char dir[4096];
	struct stat st;
	snprintf(dir, sizeof dir, "%s" SUBDIR, data ? data : "");
	if (!data || !*data || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		printf("[  SKIPPED ] test_quickstart_expressions_parse: NSGSIM_SHARED_DATA is not "
		       "set or has no %s\n",
		       SUBDIR);
		skip();
	}
	tally t = {0};
	scan(dir, &t);
	printf("arm expressions: %zu files (%zu not plain JSON), %zu expressions, %zu parse "
	       "failures; evaluated with placeholder parameters: %zu known, %zu unknown, %zu "
	       "failed (by code:",
	       t.files, t.not_json, t.exprs, t.parse_fail, t.ok, t.unknown, t.eval_fail);
	for (int c = 1; c < 40; c++)
		if (t.by_code[c])
			printf(" %s %zu", nsgsim_error_name(-c), t.by_code[c]);
	printf(")\n");
	assert_true(t.exprs > 1000);
	assert_int_equal(t.parse_fail, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_quickstart_expressions_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
