/* The parts of nsgsim-bench: bench.c (the driver and the single-flow
 * workloads), sets.c (reach and diff) and common.c (the clock, loading),
 * which both use, as nsgsim-benchgen (gen.c) does. */
#ifndef NSGSIM_BENCH_H
#define NSGSIM_BENCH_H

#include "nsgsim.h"

/* common.c */
double bench_now_ns(void);
void bench_die(const char *what);
/* Loads and compiles env with tags; *ms (when not NULL) the time it took.
 * Exits with a message when the input does not compile. */
nsgsim_policy *bench_load(const char *env, const char *tags, double *ms);
/* sets.c: reach to one NIC of the hub and diff of the hub against hub-changed. */
void bench_sets(const char *data, const char *tags);

#endif
