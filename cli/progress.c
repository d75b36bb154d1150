/* The progress bar of cli/progress.h. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <unistd.h>

#include "progress.h"

#define WIDTH 40

void progress_init(progress *pr, const char *label)
{
	pr->label = label;
	pr->on = isatty(STDERR_FILENO) == 1;
	pr->shown = -1;
}

void progress_update(void *ctx, uint64_t done, uint64_t total)
{
	progress *pr = ctx;
	if (!pr->on || total == 0)
		return;
	int permille = done >= total ? 1000 : (int)(done * 1000 / total);
	if (permille == pr->shown)
		return;
	char bar[WIDTH + 1];
	int full = permille * WIDTH / 1000;
	for (int i = 0; i < WIDTH; i++)
		bar[i] = i < full ? '#' : ' ';
	bar[WIDTH] = '\0';
	fprintf(stderr, "\r[%s] %3d%%  %s", bar, permille / 10, pr->label);
	fflush(stderr);
	pr->shown = permille;
}

void progress_end(progress *pr)
{
	if (pr->on && pr->shown >= 0)
		fprintf(stderr, "\r%*s\r", WIDTH + 16 + 20, "");
	pr->shown = -1;
}
