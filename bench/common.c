/* Shared by the parts of nsgsim-bench (bench.h): the clock, the exit on a
 * setup failure, and loading a workload's environment. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"

double bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

void bench_die(const char *what)
{
	fprintf(stderr, "nsgsim-bench: %s\n", what);
	exit(2);
}

nsgsim_policy *bench_load(const char *env, const char *tags, double *ms)
{
	double t0 = bench_now_ns();
	nsgsim_loader *l = nsgsim_loader_new();
	nsgsim_error err = {0};
	nsgsim_policy *p = NULL;
	int rc = nsgsim_loader_add_env(l, env, &err);
	if (rc == 0)
		rc = nsgsim_loader_add_service_tags(l, tags, &err);
	if (rc == 0)
		rc = nsgsim_compile(l, &p, &err);
	nsgsim_loader_free(l);
	if (rc != 0) {
		char buf[2048];
		nsgsim_error_format(&err, buf, sizeof buf);
		fprintf(stderr, "%s: %s\n", env, buf);
		exit(2);
	}
	if (ms)
		*ms = (bench_now_ns() - t0) / 1e6;
	return p;
}
