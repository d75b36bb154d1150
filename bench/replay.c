/* nsgsim-bench-replay: a generated day of VNet flow logs through `nsgsim
 * replay`, beside the plain parse of the same files (bench/README.md).
 *
 *   nsgsim-bench-replay OUTDIR [--cli NSGSIM] [--tuples N] [--callgrind-parse]
 *
 * Writes OUTDIR/logs/y=2026/m=12/d=03/h=HH/m=00/macAddress=.../PT1H.json, 24
 * hourly blobs as Azure stores them, for the bundled example's NICs: each
 * tuple is a flow at one NIC (inbound or outbound, Internet or VNet peer,
 * common and random ports), logged with the rule nsgsim decides it by (so
 * the replay agrees, and every tuple goes the whole way: parse, locate,
 * evaluate, compare, count), B and E records of the same sessions, and a
 * share of platform traffic.  Deterministic (fixed seed).
 *
 * Then it measures, best of 3: the reader alone (nsgsim_flowlog_read with a
 * counting callback: read + JSON + tuple parse), and the whole `nsgsim
 * replay` process over the same directory (policy load included), as
 * tuples/s. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nsgsim.h"

extern char **environ;

#define ENV  "fixtures/example/env"
#define TAGS "fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json"

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void mkdirs(const char *path)
{
	char tmp[1024];
	snprintf(tmp, sizeof tmp, "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, 0755);
			*p = '/';
		}
	}
	mkdir(tmp, 0755);
}

static const char *const locals[] = {"10.1.1.4", "10.1.1.5", "10.1.2.4", "10.2.1.4", "10.0.3.4"};
static const char *const peers[] = {"10.1.1.4", "10.1.2.4", "10.2.1.4", "10.0.3.4", "10.1.1.5"};
static const int ports[] = {443, 80, 22, 3389, 1433, 8080, 5986, 53, 445, 25};

/* The rule nsgsim decides a flow by, as a flow log names it; and which
 * aclID logs it. */
static int label(const nsgsim_policy *p, const nsgsim_flow *f, const char *nic, int dir, char *rule,
                 size_t cap, const char **acl)
{
	nsgsim_result r;
	if (nsgsim_eval_at(p, f, nic, dir, &r, NULL) != 0)
		return -1;
	const nsgsim_rule_ref *d = &r.decided_rule;
	if (!d->name)
		return -1;
	if (r.decided_layer == NSGSIM_LAYER_ADMIN) {
		snprintf(rule, cap, "%s", d->name);
		*acl = "01020304-abcd-ef00-1234-102030405060";
	} else {
		snprintf(rule, cap, "%s_%s", d->is_default ? "DefaultRule" : "UserRule", d->name);
		*acl = r.decided_resource;
	}
	return r.verdict;
}

static void ip_text(const nsgsim_ip *ip, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip->bytes[0], ip->bytes[1], ip->bytes[2], ip->bytes[3]);
}

static int parse_ip4(const char *s, nsgsim_ip *ip)
{
	unsigned a, b, c, d;
	if (sscanf(s, "%u.%u.%u.%u", &a, &b, &c, &d) != 4)
		return -1;
	memset(ip, 0, sizeof *ip);
	ip->family = 4;
	ip->bytes[0] = (uint8_t)a;
	ip->bytes[1] = (uint8_t)b;
	ip->bytes[2] = (uint8_t)c;
	ip->bytes[3] = (uint8_t)d;
	return 0;
}

static size_t generate(const nsgsim_policy *p, const char *out, size_t total)
{
	const char *nics[5];
	for (int i = 0; i < 5; i++) {
		nsgsim_ip ip;
		nsgsim_location loc;
		parse_ip4(locals[i], &ip);
		nsgsim_locate(p, &ip, &loc);
		nics[i] = loc.nic;
	}
	size_t written = 0, per_hour = total / 24;
	for (int h = 0; h < 24; h++) {
		char hdir[1024], path[1100];
		snprintf(hdir, sizeof hdir,
		         "%s/logs/resourceId=/SUBSCRIPTIONS/X/RESOURCEGROUPS/NETWORKWATCHERRG/"
		         "PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NW/FLOWLOGS/FL/y=2026/m=12/"
		         "d=03/h=%02d/m=00/macAddress=0022486DBA37",
		         out, h);
		mkdirs(hdir);
		snprintf(path, sizeof path, "%s/PT1H.json", hdir);
		FILE *f = fopen(path, "w");
		if (!f) {
			fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
			exit(2);
		}
		fputs("{\"records\":[", f);
		size_t in_hour = 0;
		long long t0 = 1796256000000ll + (long long)h * 3600000ll;
		for (int minute = 0; minute < 60; minute++) {
			fprintf(f,
			        "%s{\"time\":\"2026-12-03T%02d:%02d:00.0000000Z\","
			        "\"flowLogVersion\":4,"
			        "\"macAddress\":\"0022486DBA37\",\"category\":\"FlowLogFlowEvent\","
			        "\"targetResourceID\":\"/subscriptions/x/resourceGroups/rg/"
			        "providers/"
			        "Microsoft.Network/virtualNetworks/"
			        "v\",\"flowRecords\":{\"flows\":[",
			        minute ? "," : "", h, minute);
			size_t want = per_hour / 60;
			int groups = 0;
			while (want > 0) {
				/* A scenario: one NIC, direction, remote, destination port; a
				 * run of sessions with varying source ports. */
				int li = (int)(next() % 5),
				    dir = next() % 2 ? NSGSIM_INBOUND : NSGSIM_OUTBOUND;
				nsgsim_flow fl;
				memset(&fl, 0, sizeof fl);
				fl.protocol = next() % 8 ? NSGSIM_PROTO_TCP : NSGSIM_PROTO_UDP;
				nsgsim_ip local, remote;
				parse_ip4(locals[li], &local);
				if (next() % 3 == 0)
					parse_ip4(peers[next() % 5], &remote);
				else
					parse_ip4("52.0.0.0", &remote),
					        remote.bytes[1] = (uint8_t)next(),
					        remote.bytes[2] = (uint8_t)next(),
					        remote.bytes[3] = (uint8_t)next();
				fl.src = dir == NSGSIM_INBOUND ? remote : local;
				fl.dst = dir == NSGSIM_INBOUND ? local : remote;
				fl.dst_port =
				        next() % 4 ? ports[next() % 10] : (int)(next() % 65536);
				fl.src_port = 1024 + (int)(next() % 60000);
				char rule[300];
				const char *acl = NULL;
				int platform = next() % 50 == 0;
				int v = platform ? NSGSIM_ALLOW
				                 : label(p, &fl, nics[li], dir, rule, sizeof rule,
				                         &acl);
				if (v < 0)
					continue;
				if (platform) {
					snprintf(rule, sizeof rule, "PlatformRule");
					acl = "00000000-0000-0000-0000-000000000000";
				}
				size_t run = 20 + next() % 200;
				if (run > want)
					run = want;
				fprintf(f,
				        "%s{\"aclID\":\"%s\",\"flowGroups\":[{\"rule\":\"%s\","
				        "\"flowTuples\":[",
				        groups++ ? "," : "", acl, rule);
				char s[16], d[16];
				ip_text(&fl.src, s);
				ip_text(&fl.dst, d);
				for (size_t k = 0; k < run; k++) {
					long long ts =
					        t0 + minute * 60000ll + (long long)(next() % 60000);
					int sport = 1024 + (int)((fl.src_port + k / 2) % 64000);
					char state = v == NSGSIM_DENY ? 'D' : k % 2 ? 'E' : 'B';
					fprintf(f, "%s\"%lld,%s,%s,%d,%d,%d,%c,%c,NX,%d,%d,%d,%d\"",
					        k ? "," : "", ts, s, d, sport, fl.dst_port,
					        fl.protocol, dir == NSGSIM_INBOUND ? 'I' : 'O',
					        state, state == 'E' ? 12 : 0,
					        state == 'E' ? 3400 : 0, state == 'E' ? 10 : 0,
					        state == 'E' ? 9100 : 0);
				}
				fputs("]}]}", f);
				want -= run;
				in_hour += run;
			}
			fputs("]}}", f);
		}
		fputs("]}\n", f);
		fclose(f);
		written += in_hour;
	}
	return written;
}

static int count_tuple(void *ctx, const nsgsim_flowlog_tuple *t)
{
	(void)t;
	++*(size_t *)ctx;
	return 0;
}

static double run_cli(const char *cli, const char *logs)
{
	char *argv[] = {(char *)cli, "replay", "--env",      ENV, "--service-tags",
	                TAGS,        "-q",     (char *)logs, NULL};
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	double t = now();
	pid_t pid;
	if (posix_spawn(&pid, cli, &fa, NULL, argv, environ) != 0)
		return -1;
	int st;
	waitpid(pid, &st, 0);
	posix_spawn_file_actions_destroy(&fa);
	t = now() - t;
	if (!WIFEXITED(st) || WEXITSTATUS(st) > 1)
		return -1;
	return t;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: nsgsim-bench-replay OUTDIR [--cli NSGSIM] [--tuples N] "
		                "[--parse-only]\n");
		return 2;
	}
	const char *out = argv[1], *cli = NULL;
	size_t total = 1000000;
	int parse_only = 0;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--cli") == 0 && i + 1 < argc)
			cli = argv[++i];
		else if (strcmp(argv[i], "--tuples") == 0 && i + 1 < argc)
			total = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--parse-only") == 0)
			parse_only = 1;
	}
	char logs[1024];
	snprintf(logs, sizeof logs, "%s/logs", out);
	struct stat st;
	if (stat(logs, &st) != 0) {
		nsgsim_loader *l = nsgsim_loader_new();
		nsgsim_policy *p = NULL;
		nsgsim_error err;
		if (nsgsim_loader_add_env(l, ENV, &err) ||
		    nsgsim_loader_add_service_tags(l, TAGS, &err) || nsgsim_compile(l, &p, &err)) {
			fprintf(stderr, "load: %s\n", err.message);
			return 2;
		}
		nsgsim_loader_free(l);
		double t = now();
		size_t n = generate(p, out, total);
		printf("generated %zu tuples in 24 hourly PT1H.json under %s (%.1f s)\n", n, logs,
		       now() - t);
		nsgsim_policy_free(p);
	}
	nsgsim_flowlog *r = nsgsim_flowlog_new();
	double best = 1e9;
	size_t n = 0;
	for (int rep = 0; rep < (parse_only ? 1 : 3); rep++) {
		nsgsim_error err;
		n = 0;
		double t = now();
		if (nsgsim_flowlog_read(r, logs, count_tuple, &n, &err) != 0) {
			fprintf(stderr, "read: %s: %s %s\n", err.file, err.pointer, err.message);
			return 2;
		}
		t = now() - t;
		if (t < best)
			best = t;
	}
	nsgsim_flowlog_free(r);
	printf("reader alone (read + JSON + tuples)   %zu tuples  %.3f s  %.2f M tuples/s\n", n,
	       best, (double)n / best / 1e6);
	if (parse_only || !cli)
		return 0;
	double whole = 1e9;
	for (int rep = 0; rep < 3; rep++) {
		double t = run_cli(cli, logs);
		if (t < 0) {
			fprintf(stderr, "nsgsim replay failed\n");
			return 2;
		}
		if (t < whole)
			whole = t;
	}
	printf("nsgsim replay, whole process          %zu tuples  %.3f s  %.2f M tuples/s  "
	       "(%.2fx the reader's time)\n",
	       n, whole, (double)n / whole / 1e6, whole / best);
	return 0;
}
