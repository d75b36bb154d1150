/* A progress bar on stderr, drawn only when stderr is a terminal
 * (cli/progress.c): for commands whose one library call takes seconds. */
#ifndef NSGSIM_CLI_PROGRESS_H
#define NSGSIM_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct progress {
	const char *label;
	bool on;    /* stderr is a terminal */
	int shown;  /* permille last drawn, -1 none */
} progress;

void progress_init(progress *pr, const char *label);
/* An nsgsim_progress_fn: ctx is the progress. */
void progress_update(void *ctx, uint64_t done, uint64_t total);
/* Clears the bar's line (when one was drawn). */
void progress_end(progress *pr);

#endif
