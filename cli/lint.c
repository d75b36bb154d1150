/* nsgsim lint: findings about the policy (nsgsim_lint), as text or JSON
 * (and SARIF with --sarif FILE), filtered by id, with an exit status for CI. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "lint_sarif.h"
#include "progress.h"

static const char *const check_ids[] = {
        "shadowed-rule",      "never-decides",       "unattached-nsg",
        "unused-asg",         "empty-network-group", "no-filtering",
        "broad-always-allow", "exposed-port",        "open-to-any"};
#define N_CHECKS (sizeof check_ids / sizeof check_ids[0])

/* "a,b" into a mask of check_ids; -1 after a usage error. */
static long id_mask(const char *option, const char *list)
{
	if (!list)
		return -1;
	long mask = 0;
	char buf[512];
	snprintf(buf, sizeof buf, "%s", list);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		size_t k = 0;
		while (k < N_CHECKS && strcasecmp(tok, check_ids[k]) != 0)
			k++;
		if (k == N_CHECKS) {
			usage_error(
			        "%s: no check '%s' (the checks: shadowed-rule, never-decides, "
			        "unattached-nsg, unused-asg, empty-network-group, no-filtering, "
			        "broad-always-allow, exposed-port, open-to-any)",
			        option, tok);
			return -2;
		}
		mask |= 1L << k;
	}
	return mask;
}

static bool selected(const char *id, long only, long skip)
{
	for (size_t k = 0; k < N_CHECKS; k++)
		if (strcmp(id, check_ids[k]) == 0)
			return (only < 0 || (only & (1L << k))) &&
			       !(skip >= 0 && (skip & (1L << k)));
	return only < 0;
}

static void print_json_finding(const nsgsim_finding *f, bool first)
{
	fputs(first ? "\n  {\"id\": " : ",\n  {\"id\": ", stdout);
	json_string(stdout, f->id);
	printf(", \"level\": \"%s\", \"resource\": ", nsgsim_level_name(f->level));
	json_string(stdout, f->resource);
	fputs(", \"rule\": ", stdout);
	json_string(stdout, f->rule);
	fputs(", \"file\": ", stdout);
	json_string(stdout, f->file);
	fputs(", \"pointer\": ", stdout);
	json_string(stdout, f->pointer);
	if (f->line > 0)
		printf(", \"line\": %d, \"message\": ", f->line);
	else
		fputs(", \"line\": null, \"message\": ", stdout);
	json_string(stdout, f->message);
	printf(", \"evidence\": %s}", f->evidence);
}

int cmd_lint(const options *o)
{
	static const char *const levels[] = {"note", "warning", "error"};
	long only = o->only ? id_mask("--only", o->only) : -1;
	long skip = o->skip ? id_mask("--skip", o->skip) : -1;
	if (only == -2 || skip == -2)
		return EXIT_USAGE;
	int fail_at = NSGSIM_LEVEL_ERROR;
	if (o->fail_on) {
		int k = pick_choice("--fail-on", o->fail_on, levels, 3);
		if (k < 0)
			return EXIT_USAGE;
		fail_at = k + 1;
	}
	int jobs;
	if (parse_jobs(o, &jobs) != 0)
		return EXIT_USAGE;
	nsgsim_policy *p = load_policy(o, NSGSIM_BUILD_MINIMAL);
	if (!p)
		return EXIT_USAGE;
	nsgsim_findings *fs = NULL;
	nsgsim_error err = {0};
	progress bar;
	progress_init(&bar, "lint");
	nsgsim_lint_options lo = {progress_update, &bar, jobs};
	int rc = nsgsim_lint_opts(p, &lo, &fs, &err);
	progress_end(&bar);
	if (rc != 0) {
		print_error(&err);
		nsgsim_policy_free(p);
		return EXIT_USAGE;
	}
	size_t by_level[4] = {0}, shown = 0;
	FILE *sarif = NULL;
	if (o->sarif && !(sarif = sarif_open(o->sarif))) {
		nsgsim_findings_free(fs);
		nsgsim_policy_free(p);
		return EXIT_USAGE;
	}
	bool fail = false;
	if (o->json)
		fputs("{\"findings\": [", stdout);
	for (size_t i = 0; i < nsgsim_findings_count(fs); i++) {
		nsgsim_finding f;
		nsgsim_findings_get(fs, i, &f);
		if (!selected(f.id, only, skip))
			continue;
		by_level[f.level]++;
		if (sarif)
			sarif_result(sarif, &f, shown == 0);
		fail |= f.level >= fail_at;
		if (o->json)
			print_json_finding(&f, shown == 0);
		else
			printf("%-7s %s  %s%s%s\n        %s\n", nsgsim_level_name(f.level), f.id,
			       f.file, f.pointer[0] ? ":" : "", f.pointer, f.message);
		shown++;
	}
	if (o->json)
		printf("%s],\n \"summary\": {\"findings\": %zu, \"error\": %zu, \"warning\": %zu, "
		       "\"note\": %zu}}\n",
		       shown ? "\n " : "", shown, by_level[NSGSIM_LEVEL_ERROR],
		       by_level[NSGSIM_LEVEL_WARNING], by_level[NSGSIM_LEVEL_NOTE]);
	else
		printf("%zu findings: %zu errors, %zu warnings, %zu notes\n", shown,
		       by_level[NSGSIM_LEVEL_ERROR], by_level[NSGSIM_LEVEL_WARNING],
		       by_level[NSGSIM_LEVEL_NOTE]);
	int wrote = sarif ? sarif_close(sarif, o->sarif) : 0;
	nsgsim_findings_free(fs);
	nsgsim_policy_free(p);
	return wrote != 0 ? EXIT_USAGE : fail ? 1 : 0;
}
