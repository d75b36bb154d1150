/* nsgsim check's assertions and their outcomes, shared by cli/check.c
 * (parsing, evaluation, text output) and cli/check_report.c (JUnit, JSON). */
#ifndef NSGSIM_CLI_CHECK_H
#define NSGSIM_CLI_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"
#include "nsgsim.h"

typedef struct assertion {
	int file; /* index into the assertion file arguments */
	int line;
	char *text; /* as written, without the comment, blanks squeezed */
	int expect; /* nsgsim_verdict */
	nsgsim_flow flow;
	bool by;         /* a "by" clause was given */
	bool unassigned; /* an "unassigned" clause: an address no NIC holds is meant */
	int layer;  /* nsgsim_layer */
	char *rule; /* NULL for "-" */
	/* The outcome.  With no source port and a failure, evaluated and res
	 * are for the first source-port range that broke the assertion. */
	nsgsim_flow evaluated;
	int ports_lo, ports_hi; /* that range, or -1 */
	int rc;
	nsgsim_error err;
	nsgsim_result res;
	bool pass;
	double seconds;
	char unassigned_got[320]; /* why the unassigned-address rule failed it, or "" */
	set_check *set;           /* an allow-only or deny-all line */
	int set_kind;   /* SET_ALLOW_ONLY, SET_DENY_ALL */
	char set_got[512];
} assertion;

typedef struct suite {
	bool allow_unassigned; /* --allow-unassigned */
	const char *const *files;
	int n_files;
	assertion *a;
	size_t n, cap;
} suite;

/* What a failed assertion got, in the assertion's own words. */
void describe_got(const assertion *a, char *buf, size_t cap);
/* The trace of a failed evaluation as `nsgsim eval` prints it, or NULL;
 * free with free(). */
char *failure_trace(const nsgsim_policy *p, const assertion *a);

/* --junit FILE: one testsuite per assertion file, named after it. */
int write_junit(const char *path, const nsgsim_policy *p, const suite *s, size_t failed);
/* --json: {"assertions": [...], "summary": {...}} on standard output. */
void print_json(const nsgsim_policy *p, const suite *s, size_t failed);

#endif
