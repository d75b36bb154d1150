/* nsgsim matrix: the segmentation matrix as a table, JSON, and (--html) one
 * self-contained page where cells are coloured by how open they are and a
 * click shows a cell's regions and deciding rules.  The page embeds the
 * JSON the library renders and draws it with inline JS: no network access
 * when it is opened. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nsgsim.h"

/* The JSON inside <script>: every '<' (only ever inside a JSON string) is
 * written \u003c, so no name in the input can end the element or open a
 * comment there ("</script>", "<!--"). */
static void put_embedded(FILE *f, const char *json)
{
	for (const char *s = json; *s; s++) {
		if (*s == '<')
			fputs("\\u003c", f);
		else
			fputc(*s, f);
	}
}

static int write_html(const char *path, const char *json)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "nsgsim matrix: error: cannot write %s\n", path);
		return EXIT_USAGE;
	}
	fputs(matrix_html_head, f);
	put_embedded(f, json);
	fputs(matrix_html_tail, f);
	if (fclose(f) != 0) {
		fprintf(stderr, "nsgsim matrix: error: cannot write %s\n", path);
		return EXIT_USAGE;
	}
	return 0;
}

int cmd_matrix(const options *o)
{
	static const char *const bys[] = {"subnet", "nic", "asg"};
	int by = NSGSIM_MATRIX_BY_SUBNET;
	if (o->by && (by = pick_choice("--by", o->by, bys, 3)) < 0)
		return EXIT_USAGE;
	nsgsim_policy *p = load_policy(o, NSGSIM_BUILD_MINIMAL);
	if (!p)
		return EXIT_USAGE;
	nsgsim_matrix *m = NULL;
	nsgsim_error err = {0};
	char *text = NULL, *json = NULL;
	int rc = nsgsim_matrix_build(p, by, &m, &err);
	if (rc == 0 && (o->json || o->html))
		rc = nsgsim_matrix_render(m, NSGSIM_FORMAT_JSON, &json, &err);
	if (rc == 0 && !o->json)
		rc = nsgsim_matrix_render(m, NSGSIM_FORMAT_TABLE, &text, &err);
	if (rc != 0) {
		print_error(&err);
		rc = EXIT_USAGE;
	} else {
		fputs(o->json ? json : text, stdout);
		if (o->html)
			rc = write_html(o->html, json);
	}
	nsgsim_free(text);
	nsgsim_free(json);
	nsgsim_matrix_free(m);
	nsgsim_policy_free(p);
	return rc;
}
