/* nsgsim-bench, the set queries: nsgsim_reach and nsgsim_diff on the bench
 * estate (bench/gen.c's hub, and hub-changed with ten rules swapped).
 *
 * reach: every flow to nic0 (behind the 994-rule nsg-hub-shared and the
 * 994-rule NIC NSG nsg-nic-a) from every address, all five protocols; the
 * regions, the time (median of 5), the JSON rendering, and beside them the
 * baselines of the same run: loading and compiling the estate, and one
 * nsgsim_eval per region.  diff: hub against hub-changed, to nic0 and over
 * the whole estate (every flow with a modelled endpoint).  Printed, never
 * asserted. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Runs the query reps times; the median in ms, the last result in *keep. */
static double time_query(const nsgsim_policy *before, const nsgsim_policy *p,
                         const nsgsim_query *q, int reps, nsgsim_regions **keep)
{
	double t[8];
	for (int k = 0; k < reps; k++) {
		nsgsim_regions *r = NULL;
		nsgsim_error err;
		double t0 = bench_now_ns();
		int rc = before ? nsgsim_diff(before, p, q, &r, &err) : nsgsim_reach(p, q, &r, &err);
		t[k] = (bench_now_ns() - t0) / 1e6;
		if (rc != 0) {
			fprintf(stderr, "nsgsim-bench: %s\n", err.message);
			bench_die("a set query failed");
		}
		if (k == reps - 1)
			*keep = r;
		else
			nsgsim_regions_free(r);
	}
	return median(t, reps);
}

static double render_ms(const nsgsim_regions *r, size_t *bytes)
{
	double t[3];
	for (int k = 0; k < 3; k++) {
		char *out = NULL;
		double t0 = bench_now_ns();
		if (nsgsim_regions_render(r, NSGSIM_FORMAT_JSON, &out, NULL) != 0)
			bench_die("rendering the regions failed");
		t[k] = (bench_now_ns() - t0) / 1e6;
		*bytes = strlen(out);
		nsgsim_free(out);
	}
	return median(t, 3);
}

static const int proto_of_bit[5][2] = {{NSGSIM_PBIT_ICMP, NSGSIM_PROTO_ICMP},
                                       {NSGSIM_PBIT_TCP, NSGSIM_PROTO_TCP},
                                       {NSGSIM_PBIT_UDP, NSGSIM_PROTO_UDP},
                                       {NSGSIM_PBIT_ESP, NSGSIM_PROTO_ESP},
                                       {NSGSIM_PBIT_AH, NSGSIM_PROTO_AH}};

/* The baseline: one nsgsim_eval (with its trace) per region, at the
 * region's first corner. */
static double one_eval_per_region_ms(const nsgsim_policy *p, const nsgsim_regions *r)
{
	size_t n = nsgsim_regions_count(r);
	nsgsim_flow *flows = malloc((n ? n : 1) * sizeof *flows);
	if (!flows)
		bench_die("out of memory");
	for (size_t i = 0; i < n; i++) {
		nsgsim_region g;
		nsgsim_regions_get(r, i, &g);
		nsgsim_flow *f = &flows[i];
		memset(f, 0, sizeof *f);
		for (int k = 0; k < 5; k++)
			if (g.protocols & (unsigned)proto_of_bit[k][0]) {
				f->protocol = proto_of_bit[k][1];
				break;
			}
		nsgsim_region_range(r, i, NSGSIM_FIELD_SOURCES, 0, &f->src, NULL, NULL, NULL);
		nsgsim_region_range(r, i, NSGSIM_FIELD_DESTINATIONS, 0, &f->dst, NULL, NULL, NULL);
		f->src_port = f->dst_port = NSGSIM_PORT_ANY;
		if (g.n_destination_ports) {
			nsgsim_region_range(r, i, NSGSIM_FIELD_SOURCE_PORTS, 0, NULL, NULL, &f->src_port,
			                    NULL);
			nsgsim_region_range(r, i, NSGSIM_FIELD_DESTINATION_PORTS, 0, NULL, NULL,
			                    &f->dst_port, NULL);
		}
	}
	double t[3];
	nsgsim_result res;
	for (int k = 0; k < 3; k++) {
		double t0 = bench_now_ns();
		for (size_t i = 0; i < n; i++)
			nsgsim_eval(p, &flows[i], &res, NULL);
		t[k] = (bench_now_ns() - t0) / 1e6;
	}
	free(flows);
	return median(t, 3);
}

static void bench_reach(const nsgsim_policy *p, double load_ms)
{
	nsgsim_query q = {"nic0", NULL, 0, 0, 0};
	nsgsim_regions *r = NULL;
	double ms = time_query(NULL, p, &q, 5, &r);
	size_t bytes = 0;
	double json = render_ms(r, &bytes);
	double evals = one_eval_per_region_ms(p, r);
	printf("  reach nic0   %8.1f ms  %zu regions from every address, all protocols "
	       "(median of 5)\n",
	       ms, nsgsim_regions_count(r));
	printf("               JSON %.1f ms, %.2f MB; baselines: load+compile %.0f ms, one "
	       "nsgsim_eval per region %.2f ms\n",
	       json, (double)bytes / 1048576.0, load_ms, evals);
	nsgsim_regions_free(r);
	q.allowed_only = 1;
	ms = time_query(NULL, p, &q, 5, &r);
	printf("  reach nic0 --allowed-only %.1f ms  %zu regions\n", ms, nsgsim_regions_count(r));
	nsgsim_regions_free(r);
}

static void bench_diff(const nsgsim_policy *before, const nsgsim_policy *after,
                       const char *to, int reps)
{
	nsgsim_query q = {to, NULL, 0, 0, 0};
	nsgsim_regions *r = NULL;
	double ms = time_query(before, after, &q, reps, &r);
	size_t opened, closed;
	nsgsim_regions_summary(r, &opened, &closed);
	printf("  diff %-12s %8.1f ms  %zu changes (%zu opened, %zu closed; median of %d)\n",
	       to ? to : "(estate)", ms, nsgsim_regions_count(r), opened, closed, reps);
	nsgsim_regions_free(r);
}

void bench_sets(const char *data, const char *tags)
{
	char env[1024], changed[1024];
	snprintf(env, sizeof env, "%s/hub", data);
	snprintf(changed, sizeof changed, "%s/hub-changed", data);
	double load_ms, load2_ms;
	nsgsim_policy *p = bench_load(env, tags, &load_ms);
	nsgsim_policy *p2 = bench_load(changed, tags, &load2_ms);
	printf("sets: nsgsim_reach and nsgsim_diff on the hub (hub-changed: ten rules swapped)\n");
	bench_reach(p, load_ms);
	bench_diff(p, p2, "nic0", 5);
	bench_diff(p, p2, NULL, 3);
	printf("\n");
	nsgsim_policy_free(p);
	nsgsim_policy_free(p2);
}
