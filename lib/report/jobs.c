/* Items of work on threads, committed in order (see jobs.h).
 *
 * May touch: lib/base. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "report/jobs.h"

typedef struct pool {
	pthread_mutex_t mu;
	size_t n, next, committed;
	bool *finished;
	ns_job_fn work;
	ns_commit_fn commit;
	void *ctx;
} pool;

/* Takes items until none is left; after each, commits what is ready.
 * main: the calling thread, which ticks. */
static void run_items(pool *pl, bool main, ns_tick_fn tick)
{
	for (;;) {
		pthread_mutex_lock(&pl->mu);
		size_t i = pl->next < pl->n ? pl->next++ : pl->n;
		pthread_mutex_unlock(&pl->mu);
		if (i == pl->n)
			return;
		pl->work(pl->ctx, i);
		pthread_mutex_lock(&pl->mu);
		pl->finished[i] = true;
		while (pl->committed < pl->n && pl->finished[pl->committed])
			pl->commit(pl->ctx, pl->committed++);
		size_t done = pl->committed;
		pthread_mutex_unlock(&pl->mu);
		if (main && tick)
			tick(pl->ctx, done, pl->n);
	}
}

static void *worker(void *arg)
{
	run_items(arg, false, NULL);
	return NULL;
}

int ns_jobs_run(int jobs, size_t n, ns_job_fn work, ns_commit_fn commit, ns_tick_fn tick, void *ctx)
{
	pool pl = {.n = n, .work = work, .commit = commit, .ctx = ctx};
	pl.finished = calloc(n + 1, sizeof *pl.finished);
	if (!pl.finished || pthread_mutex_init(&pl.mu, NULL) != 0) {
		free(pl.finished);
		return -1;
	}
	size_t extra = jobs > 1 ? (size_t)jobs - 1 : 0;
	if (extra > n)
		extra = n ? n - 1 : 0;
	pthread_t *th = extra ? calloc(extra, sizeof *th) : NULL;
	size_t started = 0;
	for (; th && started < extra; started++)
		if (pthread_create(&th[started], NULL, worker, &pl) != 0)
			break; /* fewer threads: the calling thread does the rest */
	run_items(&pl, true, tick);
	for (size_t k = 0; k < started; k++)
		pthread_join(th[k], NULL);
	/* Every item has finished, so every one has been committed. */
	free(th);
	free(pl.finished);
	pthread_mutex_destroy(&pl.mu);
	return 0;
}
