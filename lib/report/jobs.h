/* Items of work on threads, their results committed in item order.
 *
 * The library's one use of threads (nsgsim_lint_options.jobs): the calling
 * thread works too and is the only one that reports progress; nothing is
 * global, and every thread is joined before ns_jobs_run returns.
 *
 * May touch: lib/base. */
#ifndef NSGSIM_REPORT_JOBS_H
#define NSGSIM_REPORT_JOBS_H

#include <stddef.h>

/* Item i's work (any thread, any order, alongside other items). */
typedef void (*ns_job_fn)(void *ctx, size_t i);
/* Item i's result, in order 0, 1, ...: one at a time, each after its item's
 * work, on whichever thread finished the items before it. */
typedef void (*ns_commit_fn)(void *ctx, size_t i);
/* On the calling thread only, now and then: done of n items committed. */
typedef void (*ns_tick_fn)(void *ctx, size_t done, size_t n);

/* Runs n items on up to jobs threads (1 or less: on the calling thread
 * only); 0, or -1 when out of memory before any work. */
int ns_jobs_run(int jobs, size_t n, ns_job_fn work, ns_commit_fn commit, ns_tick_fn tick,
                void *ctx);

#endif
