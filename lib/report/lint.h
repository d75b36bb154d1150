/* What the lint checks share (lib/report/lint.c, lint_reach.c): the
 * findings being built and how one is added.
 *
 * May touch: lib/base, the compiled policy. */
#ifndef NSGSIM_REPORT_LINT_H
#define NSGSIM_REPORT_LINT_H

#include <stdbool.h>

#include "compile/policy.h"

struct nsgsim_findings {
	ns_arena ar;            /* messages and evidence */
	ns_vec v;               /* nsgsim_finding */
	bool failed;            /* out of memory on the way: the call fails */
	const nsgsim_policy *p; /* the lines of the input (ns_model.lines) */
	nsgsim_progress_fn progress;
	void *progress_ctx;
	uint64_t shown; /* permille last reported */
	int jobs;       /* threads for the costly checks (report/jobs.h) */
};

/* Appends a finding of another set (built apart, on a thread) to fs, its
 * message and evidence copied into fs's arena. */
void ns_lint_adopt(nsgsim_findings *fs, const nsgsim_finding *f);

/* The stages of a lint, as parts of NS_LINT_UNITS (their share of the
 * time on the bench estate). */
#define NS_LINT_UNITS 1000
enum { NS_STAGE_SHADOW = 0, NS_STAGE_DECIDES = 100, NS_STAGE_REACH = 600 };

/* Item i of n of the stage that spans [from, to) units done. */
void ns_lint_progress(nsgsim_findings *fs, uint64_t from, uint64_t to, size_t i, size_t n);

/* Adds a finding; message is in fs->ar (NULL: out of memory), evidence a
 * JSON object (NULL: {}).  rule and loc may be NULL. */
void ns_lint_add(nsgsim_findings *fs, const char *id, int level, const char *resource,
                 const ns_rule *rule, const ns_loc *loc, const char *message, ns_buf *evidence);

/* exposed-port and open-to-any, answered by nsgsim_reach (lint_reach.c);
 * 0 or -1 when out of memory. */
int ns_lint_reach(const nsgsim_policy *p, nsgsim_findings *fs);

/* never-decides, by one walk of every flow (lint_decides.c); 0 or -1
 * when out of memory.  After the shadowed-rule findings: a rule they
 * report is not reported again. */
int ns_lint_decides(const nsgsim_policy *p, nsgsim_findings *fs);

#endif
