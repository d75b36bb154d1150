/* nsgsim-bench: how fast the engines answer, measured in one run.
 *
 *   nsgsim-bench DATA [--tags FILE] [--full-tags FILE] [--cli NSGSIM]
 *   nsgsim-bench DATA --callgrind chain1000|chain4000|chain1000-batch|chain4000-batch|hub N
 *   nsgsim-bench DATA [--tags FILE] --sets     (only reach and diff, sets.c)
 *
 * DATA is what nsgsim-benchgen wrote.  For each workload -- one 1,000-rule
 * chain with service tags, the 4,000-rule stress chain, and end-to-end flows
 * through the hub-and-spoke environment (admin levels and two NSGs on each
 * side) -- it prints flows/s for the linear and the compiled engine and their
 * ratio, ns per flow (p50, p99) of single evaluations, the batched rate,
 * the build time and size of the match structures, and checks that both
 * engines agreed on every flow measured.  Then the set queries (sets.c:
 * reach and diff on the hub), the service-tags load time,
 * a cold `nsgsim eval` of one flow with Microsoft's full tags file, and the
 * peak memory.
 *
 * --callgrind runs only the setup and N compiled evaluations of a workload,
 * so that two runs under `valgrind --tool=callgrind` with different N give
 * the instructions per flow (bench/callgrind.sh).
 *
 * The machine is shared and noisy (+-30%): each rate is the best of a few
 * repetitions.  Nothing here is asserted. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_TSC 1
#endif

#include "bench.h"
#include "eval/match.h"
#include "nsgsim.h"

extern char **environ;

#define TRIMMED_TAGS "fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json"
#define FULL_TAGS    "../shared/data/service_tags/ServiceTags_Public_20251109.json"



/* ---- per-flow timing ---------------------------------------------------------------- */

static double tsc_per_ns = 1.0;

static inline uint64_t ticks(void)
{
#ifdef HAVE_TSC
	_mm_lfence();
	uint64_t t = __rdtsc();
	_mm_lfence();
	return t;
#else
	return (uint64_t)bench_now_ns();
#endif
}

static double overhead_ticks;

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void calibrate(void)
{
#ifdef HAVE_TSC
	double t0 = bench_now_ns();
	uint64_t c0 = ticks();
	while (bench_now_ns() - t0 < 50e6)
		;
	tsc_per_ns = (double)(ticks() - c0) / (bench_now_ns() - t0);
#endif
	uint64_t d[1001];
	for (int i = 0; i < 1001; i++) {
		uint64_t a = ticks();
		d[i] = ticks() - a;
	}
	qsort(d, 1001, sizeof *d, cmp_u64);
	overhead_ticks = (double)d[500];
}

typedef struct lat {
	double p50, p99;
} lat;

static lat latencies(uint64_t *d, size_t n)
{
	qsort(d, n, sizeof *d, cmp_u64);
	lat l;
	l.p50 = ((double)d[n / 2] - overhead_ticks) / tsc_per_ns;
	l.p99 = ((double)d[n * 99 / 100] - overhead_ticks) / tsc_per_ns;
	if (l.p50 < 0)
		l.p50 = 0;
	return l;
}

/* ---- loading -------------------------------------------------------------------------- */


static nsgsim_flow *read_flows(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	if (!f)
		bench_die("cannot read a flows file (run nsgsim-benchgen first)");
	size_t cap = 1 << 16;
	nsgsim_flow *v = malloc(cap * sizeof *v);
	char line[512];
	*n = 0;
	while (v && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		if (!line[0])
			continue;
		if (*n == cap) {
			cap *= 2;
			v = realloc(v, cap * sizeof *v);
			if (!v)
				break;
		}
		nsgsim_error err;
		if (nsgsim_flow_parse(line, &v[*n], &err) != 0)
			bench_die("malformed flow line");
		(*n)++;
	}
	fclose(f);
	if (!v)
		bench_die("out of memory");
	return v;
}

/* ---- one chain --------------------------------------------------------------------------- */

static volatile uint32_t sink;

/* One flow through one chain the way an evaluation takes it: the
 * policy-wide classes of the flow, then the chain's first match. */
static uint32_t first_of(const nsgsim_policy *p, const ns_cls *c, const ns_chain *ch,
                         const ns_flowv *f, const ns_csubnet *ctx, unsigned *assume)
{
	ns_flowv g = *f;
	unsigned a = 0;
	ns_cls_global_classes(p->cls, &g);
	uint32_t w = ns_cls_first(p, c, ch->rules, &g, ctx, &a);
	if (assume)
		*assume = a;
	return w;
}

static void bench_chain(const char *data, const char *name, const char *tags)
{
	char env[1024], flows_path[1024];
	snprintf(env, sizeof env, "%s/%s", data, name);
	snprintf(flows_path, sizeof flows_path, "%s/flows-%s.txt", data, name);
	nsgsim_policy *p = bench_load(env, tags, NULL);
	const ns_chain *ch = &p->nsgs[0].in;
	const ns_csubnet *ctx = &p->subnets[0];
	size_t n;
	nsgsim_flow *flows = read_flows(flows_path, &n);
	ns_flowv *fv = malloc(n * sizeof *fv);
	uint32_t *win = malloc(n * sizeof *win);
	unsigned *as = malloc(n * sizeof *as);
	uint64_t *d = malloc(n * sizeof *d);
	if (!fv || !win || !as || !d)
		bench_die("out of memory");
	for (size_t i = 0; i < n; i++)
		ns_flowv_of(&flows[i], flows[i].src_port, &fv[i]);

	/* Build: the chain's classifier alone, best and median of 5. */
	double b[5];
	size_t bytes = 0;
	for (int k = 0; k < 5; k++) {
		double t0 = bench_now_ns();
		ns_cls *c = ns_cls_build(p, ch);
		b[k] = (bench_now_ns() - t0) / 1e6;
		if (!c)
			bench_die("out of memory");
		bytes = c->bytes;
		ns_cls_free(c);
	}
	for (int i = 0; i < 5; i++)
		for (int j = i + 1; j < 5; j++)
			if (b[j] < b[i]) {
				double t = b[i];
				b[i] = b[j];
				b[j] = t;
			}
	const ns_cls *c = ch->cls;

	/* Linear: a subset (it is slow), best of 3. */
	size_t nl = n < 20000 ? n : 20000;
	double lin_best = 1e30;
	size_t disagree = 0;
	for (int rep = 0; rep < 3; rep++) {
		double t0 = bench_now_ns();
		for (size_t i = 0; i < nl; i++) {
			unsigned a = 0;
			size_t w = ns_linear_first(p, ch, &fv[i], ctx, &a);
			if (rep == 0) {
				unsigned a2;
				uint32_t w2 = first_of(p, c, ch, &fv[i], ctx, &a2);
				disagree += w != w2 || a != a2;
			}
			sink += (uint32_t)w;
		}
		double t = (bench_now_ns() - t0) / (double)nl;
		if (rep > 0 && t < lin_best) /* rep 0 also ran the check */
			lin_best = t;
	}
	/* Compiled, one flow at a time: the policy-wide classes, then the
	 * chain, as an evaluation does (the batch does the same inside). */
	double single_best = 1e30, batch_best = 1e30;
	for (int rep = 0; rep < 5; rep++) {
		double t0 = bench_now_ns();
		for (size_t i = 0; i < n; i++)
			sink += first_of(p, c, ch, &fv[i], ctx, NULL);
		double t = (bench_now_ns() - t0) / (double)n;
		if (t < single_best)
			single_best = t;
		t0 = bench_now_ns();
		ns_cls_first_batch(p, c, ch->rules, fv, n, ctx, win, as);
		t = (bench_now_ns() - t0) / (double)n;
		if (t < batch_best)
			batch_best = t;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t t0 = ticks();
		sink += first_of(p, c, ch, &fv[i], ctx, NULL);
		d[i] = ticks() - t0;
	}
	lat l = latencies(d, n);
	/* The batch agrees with single evaluations. */
	for (size_t i = 0; i < n; i++) {
		unsigned a;
		uint32_t w = first_of(p, c, ch, &fv[i], ctx, &a);
		disagree += w != win[i] || a != as[i];
	}
	printf("%s: one chain of %zu rules (%zu flows, half at rule edges)\n", name, ch->n, n);
	printf("  build        %.1f ms (median of 5; best %.1f), %.2f MB\n", b[2], b[0],
	       (double)bytes / 1048576.0);
	printf("  linear       %10.0f flows/s  %8.0f ns/flow\n", 1e9 / lin_best, lin_best);
	printf("  compiled     %10.0f flows/s  %8.1f ns/flow  (single; p50 %.0f ns, p99 %.0f "
	       "ns)\n",
	       1e9 / single_best, single_best, l.p50, l.p99);
	printf("  batched      %10.0f flows/s  %8.1f ns/flow\n", 1e9 / batch_best, batch_best);
	printf("  ratio        compiled/linear %.0fx single, %.0fx batched; %zu disagreements\n\n",
	       lin_best / single_best, lin_best / batch_best, disagree);
	free(flows);
	free(fv);
	free(win);
	free(as);
	free(d);
	nsgsim_policy_free(p);
}

/* ---- end to end -------------------------------------------------------------------------------
 */

static bool same_decision(const nsgsim_decision *a, const nsgsim_decision *b)
{
	return a->status == b->status && a->verdict == b->verdict &&
	       a->decided_layer == b->decided_layer && a->decided_endpoint == b->decided_endpoint &&
	       a->decided_rule.id == b->decided_rule.id && a->assumptions == b->assumptions &&
	       a->src_port == b->src_port;
}

static void bench_hub(const char *data, const char *tags)
{
	char env[1024], flows_path[1024];
	snprintf(env, sizeof env, "%s/hub", data);
	snprintf(flows_path, sizeof flows_path, "%s/flows-hub.txt", data);
	double load_ms;
	nsgsim_policy *p = bench_load(env, tags, &load_ms);
	size_t n;
	nsgsim_flow *flows = read_flows(flows_path, &n);
	nsgsim_decision *dl = malloc(n * sizeof *dl), *dc = malloc(n * sizeof *dc);
	uint64_t *d = malloc(n * sizeof *d);
	if (!dl || !dc || !d)
		bench_die("out of memory");
	nsgsim_stats st;
	nsgsim_policy_stats(p, &st);

	size_t nl = n < 5000 ? n : 5000;
	double lin_best = 1e30, single_best = 1e30, batch_best = 1e30, full_best = 1e30;
	for (int rep = 0; rep < 3; rep++) {
		double t0 = bench_now_ns();
		nsgsim_eval_batch(p, flows, nl, NSGSIM_ENGINE_LINEAR, dl, NULL);
		double t = (bench_now_ns() - t0) / (double)nl;
		if (t < lin_best)
			lin_best = t;
	}
	nsgsim_result r;
	for (int rep = 0; rep < 5; rep++) {
		double t0 = bench_now_ns();
		for (size_t i = 0; i < n; i++)
			nsgsim_eval_batch(p, &flows[i], 1, NSGSIM_ENGINE_COMPILED, &dc[i], NULL);
		double t = (bench_now_ns() - t0) / (double)n;
		if (t < single_best)
			single_best = t;
		t0 = bench_now_ns();
		nsgsim_eval_batch(p, flows, n, NSGSIM_ENGINE_COMPILED, dc, NULL);
		t = (bench_now_ns() - t0) / (double)n;
		if (t < batch_best)
			batch_best = t;
		t0 = bench_now_ns();
		for (size_t i = 0; i < n; i += 4)
			sink += (uint32_t)nsgsim_eval(p, &flows[i], &r, NULL);
		t = (bench_now_ns() - t0) / (double)((n + 3) / 4);
		if (t < full_best)
			full_best = t;
	}
	for (size_t i = 0; i < n; i++) {
		nsgsim_decision one;
		uint64_t t0 = ticks();
		nsgsim_eval_batch(p, &flows[i], 1, NSGSIM_ENGINE_COMPILED, &one, NULL);
		d[i] = ticks() - t0;
	}
	lat l = latencies(d, n);
	size_t disagree = 0, denied = 0, errors = 0;
	for (size_t i = 0; i < nl; i++)
		disagree += !same_decision(&dl[i], &dc[i]);
	for (size_t i = 0; i < n; i++) {
		denied += dc[i].verdict == NSGSIM_DENY;
		errors += dc[i].status != 0;
	}
	printf("hub: end to end, %zu flows (half at rule edges; %.0f%% denied, %zu not "
	       "modelled)\n",
	       n, 100.0 * (double)denied / (double)n, errors);
	printf("  environment  %zu VNets, %zu subnets, %zu NICs, %zu NSGs (%zu rules), %zu admin "
	       "rules; load+compile %.0f ms, of which match structures %.1f ms, %.2f MB\n",
	       st.vnets, st.subnets, st.nics, st.nsgs, st.nsg_rules, st.admin_rules, load_ms,
	       p->cls->build_ms, (double)p->cls->bytes / 1048576.0);
	printf("  linear       %10.0f flows/s  %8.0f ns/flow\n", 1e9 / lin_best, lin_best);
	printf("  compiled     %10.0f flows/s  %8.1f ns/flow  (single; p50 %.0f ns, p99 %.0f "
	       "ns)\n",
	       1e9 / single_best, single_best, l.p50, l.p99);
	printf("  batched      %10.0f flows/s  %8.1f ns/flow\n", 1e9 / batch_best, batch_best);
	printf("  full result  %10.0f flows/s  %8.1f ns/flow  (nsgsim_eval with the trace)\n",
	       1e9 / full_best, full_best);
	printf("  ratio        compiled/linear %.0fx single, %.0fx batched; %zu disagreements in "
	       "%zu flows\n\n",
	       lin_best / single_best, lin_best / batch_best, disagree, nl);
	free(flows);
	free(dl);
	free(dc);
	free(d);
	nsgsim_policy_free(p);
}

/* ---- loading and the cold CLI ------------------------------------------------------------------
 */

static double tags_load_ms(const char *tags)
{
	double best = 1e30;
	for (int k = 0; k < 3; k++) {
		nsgsim_loader *l = nsgsim_loader_new();
		double t0 = bench_now_ns();
		int rc = nsgsim_loader_add_service_tags(l, tags, NULL);
		double t = (bench_now_ns() - t0) / 1e6;
		nsgsim_loader_free(l);
		if (rc != 0)
			return -1;
		if (t < best)
			best = t;
	}
	return best;
}

static double cold_cli_ms(const char *cli, const char *tags)
{
	char *argv[] = {(char *)cli,      "eval",       "--env", "fixtures/example/env",
	                "--service-tags", (char *)tags, "tcp",   "10.1.1.4:50000",
	                "10.1.2.4:1433",  NULL};
	double t[5];
	for (int k = 0; k < 5; k++) {
		posix_spawn_file_actions_t fa;
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1, 0);
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", 1, 0);
		pid_t pid;
		double t0 = bench_now_ns();
		int rc = posix_spawn(&pid, cli, &fa, NULL, argv, environ);
		posix_spawn_file_actions_destroy(&fa);
		if (rc != 0)
			return -1;
		int status;
		waitpid(pid, &status, 0);
		t[k] = (bench_now_ns() - t0) / 1e6;
		if (!WIFEXITED(status) || WEXITSTATUS(status) > 1)
			return -1;
	}
	for (int i = 0; i < 5; i++)
		for (int j = i + 1; j < 5; j++)
			if (t[j] < t[i]) {
				double x = t[i];
				t[i] = t[j];
				t[j] = x;
			}
	return t[2];
}

/* ---- callgrind ------------------------------------------------------------------------------ */

static int callgrind_mode(const char *data, const char *what, size_t count, const char *tags)
{
	char env[1024], flows_path[1024], name[64];
	/* "chain1000-batch": the chain's flows through ns_cls_first_batch. */
	const char *dash = strchr(what, '-');
	bool batch = dash && strcmp(dash, "-batch") == 0;
	snprintf(name, sizeof name, "%.*s", dash ? (int)(dash - what) : (int)strlen(what), what);
	snprintf(env, sizeof env, "%s/%s", data, name);
	snprintf(flows_path, sizeof flows_path, "%s/flows-%s.txt", data, name);
	nsgsim_policy *p = bench_load(env, tags, NULL);
	size_t n;
	nsgsim_flow *flows = read_flows(flows_path, &n);
	if (count > n)
		count = n;
	if (strcmp(name, "hub") == 0) {
		nsgsim_decision *dc = malloc(count * sizeof *dc);
		nsgsim_eval_batch(p, flows, count, NSGSIM_ENGINE_COMPILED, dc, NULL);
		free(dc);
	} else {
		const ns_chain *ch = &p->nsgs[0].in;
		if (batch) {
			ns_flowv *fv = malloc(count * sizeof *fv);
			uint32_t *win = malloc(count * sizeof *win);
			unsigned *as = malloc(count * sizeof *as);
			if (!fv || !win || !as)
				bench_die("out of memory");
			for (size_t i = 0; i < count; i++)
				ns_flowv_of(&flows[i], flows[i].src_port, &fv[i]);
			ns_cls_first_batch(p, ch->cls, ch->rules, fv, count, &p->subnets[0], win, as);
			free(fv);
			free(win);
			free(as);
			count = 0;
		}
		for (size_t i = 0; i < count; i++) {
			ns_flowv f;
			ns_flowv_of(&flows[i], flows[i].src_port, &f);
			sink += first_of(p, ch->cls, ch, &f, &p->subnets[0], NULL);
		}
	}
	free(flows);
	nsgsim_policy_free(p);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		bench_die("usage: nsgsim-bench DATA [--tags FILE] [--full-tags FILE] [--full-snapshot FILE] "
		    "[--cli NSGSIM] | "
		    "DATA --callgrind chain1000|chain4000|chain1000-batch|chain4000-batch|hub N");
	const char *data = argv[1], *tags = TRIMMED_TAGS, *full = FULL_TAGS, *cli = NULL;
	const char *snapshot = NULL;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--tags") == 0 && i + 1 < argc)
			tags = argv[++i];
		else if (strcmp(argv[i], "--full-tags") == 0 && i + 1 < argc)
			full = argv[++i];
		else if (strcmp(argv[i], "--cli") == 0 && i + 1 < argc)
			cli = argv[++i];
		else if (strcmp(argv[i], "--full-snapshot") == 0 && i + 1 < argc)
			snapshot = argv[++i];
		else if (strcmp(argv[i], "--sets") == 0) {
			bench_sets(data, tags); /* only the set queries */
			return 0;
		} else if (strcmp(argv[i], "--callgrind") == 0 && i + 2 < argc)
			return callgrind_mode(data, argv[i + 1], strtoull(argv[i + 2], NULL, 10),
			                      tags);
		else
			bench_die("unknown argument");
	}
	calibrate();
	printf("nsgsim %s bench: one core; SIMD scan %s; rates are the best of 3-5 runs\n\n",
	       nsgsim_version(),
#if defined(__x86_64__) || defined(__i386__)
	       getenv("NSGSIM_NO_SIMD")         ? "off (NSGSIM_NO_SIMD)"
	       : __builtin_cpu_supports("avx2") ? "AVX2"
	                                        : "scalar"
#else
	       "scalar"
#endif
	);
	bench_chain(data, "chain1000", tags);
	bench_chain(data, "chain4000", tags);
	bench_hub(data, tags);
	bench_sets(data, tags);
	double trimmed = tags_load_ms(tags), whole = tags_load_ms(full);
	printf("service tags load: trimmed fixture %.1f ms", trimmed);
	if (whole >= 0)
		printf(", Microsoft's full file %.1f ms (%s)\n", whole, full);
	else
		printf(", full file not found (%s)\n", full);
	if (cli && whole >= 0) {
		double ms = cold_cli_ms(cli, full);
		if (ms >= 0)
			printf("cold `nsgsim eval` of one flow, full tags file: %.1f ms wall "
			       "(median of "
			       "5)\n",
			       ms);
		else
			printf("cold `nsgsim eval`: could not run %s\n", cli);
		/* The same through the file's snapshot (nsgsim snapshot-tags),
		 * which skips the JSON. */
		FILE *sf = snapshot ? fopen(snapshot, "rb") : NULL;
		if (sf) {
			fclose(sf);
			double at = tags_load_ms(snapshot), sms = cold_cli_ms(cli, snapshot);
			printf("service tags load from its snapshot: %.1f ms (%s)\n", at, snapshot);
			if (sms >= 0)
				printf("cold `nsgsim eval` of one flow, full tags snapshot: %.1f ms "
				       "wall (median of 5)\n",
				       sms);
		}
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("peak memory (RSS): %.1f MB\n", (double)ru.ru_maxrss / 1024.0);
	return 0;
}
