/* nsgsim lint --sarif FILE: the findings as SARIF 2.1.0 for code scanning
 * (cli/lint_sarif.c). */
#ifndef NSGSIM_CLI_LINT_SARIF_H
#define NSGSIM_CLI_LINT_SARIF_H

#include <stdbool.h>
#include <stdio.h>

#include "nsgsim.h"

/* Opens path and writes the run's tool (every check as a rule); NULL after
 * an error (printed). */
FILE *sarif_open(const char *path);
/* One result; first: the first one written. */
void sarif_result(FILE *f, const nsgsim_finding *finding, bool first);
/* Ends the document and closes it: 0, or EXIT_USAGE after an error (printed). */
int sarif_close(FILE *f, const char *path);

#endif
