/* Out-of-memory handling, tested the way SQLite does it: the test binary
 * replaces malloc, calloc, realloc and free (passing through to glibc's
 * __libc_* functions) and makes the Nth allocation fail.  For N = 1, 2, 3, ...
 * a realistic job runs -- load the bundled example and service tags, compile,
 * evaluate, print effective rules, render results, free -- until a run
 * completes without reaching allocation N.  For every N:
 *
 *   - the step that met the failure returns NSGSIM_E_NOMEM, with err->code
 *     agreeing, and leaves its output pointer NULL; nothing after it runs;
 *   - or every step succeeds (a place that legitimately recovers, such as
 *     glibc's qsort falling back to an in-place sort) and then every output
 *     is byte-identical to the reference run's: recovering must not change
 *     the answer;
 *   - nothing leaks: every allocation made during the run is freed by the
 *     end of it.
 *
 * Both one-shot failures (only allocation N fails) and persistent ones
 * (allocation N and every later one fail) are tried.  An allocation made
 * in the same context (the same chain of return addresses) as many before
 * it teaches little, so each context is tried at its first occurrences, its
 * last and one in a stride (plan below); set NSGSIM_ALLOC_FAIL_ALL=1 to try
 * every N (of the plan's steps), and
 * NSGSIM_ALLOC_FAIL_VERBOSE=1 to list where the job recovered.  A failing run
 * names the place: the library function that met the failed allocation,
 * resolved with addr2line when it is installed.
 *
 * The counting needs the real allocator: under ASan or TSan (which replace
 * malloc themselves) the test is skipped; under valgrind (which replaces
 * this file's malloc too) the job runs once, without injected failures. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nsgsim.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ALLOC_FAIL_SKIP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) ||                         \
        __has_feature(memory_sanitizer)
#define ALLOC_FAIL_SKIP 1
#endif
#endif

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define ALLOC_FAIL_UNDER_VALGRIND() RUNNING_ON_VALGRIND
#endif
#endif
#ifndef ALLOC_FAIL_UNDER_VALGRIND
#define ALLOC_FAIL_UNDER_VALGRIND() 0
#endif

#define EXAMPLE_ENV  "fixtures/example/env"
#define EXAMPLE_TAGS "fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json"

/* Azure Policy that fills ng-prod (lib/compile/membership.c) with the VNet
 * already a static member there: the answers do not change, the reading and
 * the evaluation of the condition and its parameter run under failures. */
#define NM                                                                                         \
	"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-hub/providers/"     \
	"Microsoft.Network/networkManagers/nm-corp"
#define DEF_ID                                                                                     \
	"/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/"   \
	"policyDefinitions/ng-prod"
#define POLICY_ENV                                                                                 \
	"[{\"id\": \"" DEF_ID "\", \"type\": \"Microsoft.Authorization/policyDefinitions\", "      \
	"\"mode\": \"Microsoft.Network.Data\", \"parameters\": {\"n\": {\"defaultValue\": "        \
	"[\"spoke-prod-vnet\"]}}, \"policyRule\": {\"if\": {\"allOf\": [{\"field\": \"name\", "    \
	"\"in\": \"[parameters('n')]\"}, {\"not\": {\"field\": \"tags['x']\", \"exists\": "        \
	"true}}]}, \"then\": {\"effect\": \"addToNetworkGroup\", \"details\": "                    \
	"{\"networkGroupId\": \"" NM "/networkGroups/ng-prod\"}}}}, {\"id\": "                     \
	"\"/subscriptions/00000000-0000-0000-0000-000000000000/providers/"                         \
	"Microsoft.Authorization/policyAssignments/a\", \"type\": "                                \
	"\"Microsoft.Authorization/policyAssignments\", \"policyDefinitionId\": \"" DEF_ID         \
	"\", \"scope\": \"/subscriptions/00000000-0000-0000-0000-000000000000\"}]"

#define SITE_FIRST  2 /* the first occurrences of each allocation context tried */
#define MAX_TRACKED (1u << 20)
#define MAX_ALLOCS  (1u << 21)
#define BT_DEPTH    12

#ifndef ALLOC_FAIL_SKIP

/* ---- the allocator ------------------------------------------------------------------ */

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void __libc_free(void *ptr);

static struct {
	bool armed;      /* counting and failing */
	bool persistent; /* every allocation from fail_at on fails */
	bool in_hook;    /* backtrace() may allocate: pass those through */
	unsigned long n; /* allocations so far in this run */
	unsigned long fail_at;
	bool failed;        /* the failure was injected */
	void *bt[BT_DEPTH]; /* where */
	int bt_n;
	bool recording; /* the dry run: note who made each allocation */
} A;

/* What the dry run saw of allocation i: whether libcjson made it, and in
 * which step of the job (ainfo[i] = step << 1 | from_cjson). */
static unsigned char *ainfo;
static uint64_t *site_key; /* the allocation's context: its return addresses */
static unsigned long n_recorded;
static int job_step; /* the step run_job is in */
#define FROM_CJSON(i) (ainfo[i] & 1)
#define STEP_OF(i)    (ainfo[i] >> 1)

/* Live allocations of the run: an open-addressing set of pointers. */
static void *live[MAX_TRACKED];
static size_t n_live;

static size_t slot_of(const void *p)
{
	uintptr_t h = (uintptr_t)p;
	h ^= h >> 17;
	h *= 0x9E3779B97F4A7C15ULL;
	return (size_t)(h >> 20) & (MAX_TRACKED - 1);
}

static void track(void *p)
{
	if (!p)
		return;
	size_t i = slot_of(p);
	while (live[i])
		i = (i + 1) & (MAX_TRACKED - 1);
	live[i] = p;
	n_live++;
}

/* Backward-shift deletion keeps the probe chains intact. */
static void untrack(void *p)
{
	if (!p || n_live == 0)
		return;
	size_t i = slot_of(p);
	while (live[i] && live[i] != p)
		i = (i + 1) & (MAX_TRACKED - 1);
	if (!live[i])
		return; /* not ours: allocated before the run */
	live[i] = NULL;
	n_live--;
	for (size_t j = (i + 1) & (MAX_TRACKED - 1); live[j]; j = (j + 1) & (MAX_TRACKED - 1)) {
		size_t home = slot_of(live[j]);
		/* Move live[j] into the hole when its home is not in (i, j]. */
		bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!between) {
			live[i] = live[j];
			live[j] = NULL;
			i = j;
		}
	}
}

static bool caller_is_cjson(const void *ret)
{
	Dl_info info;
	return dladdr(ret, &info) && info.dli_fname && strstr(info.dli_fname, "libcjson");
}

/* true when this allocation is to fail. */
static bool should_fail(const void *caller)
{
	if (!A.armed || A.in_hook)
		return false;
	A.n++;
	if (A.recording) {
		if (A.n < MAX_ALLOCS) {
			A.in_hook = true;
			ainfo[A.n] = (unsigned char)(job_step << 1 | caller_is_cjson(caller));
			void *bt[4]; /* the hook, malloc's caller and its caller */
			int n = backtrace(bt, 4);
			uint64_t h = 1469598103934665603ULL;
			for (int i = 1; i < n; i++) /* bt[0] is this hook */
				h = (h ^ (uint64_t)(uintptr_t)bt[i]) * 1099511628211ULL;
			site_key[A.n] = h;
			A.in_hook = false;
			n_recorded = A.n;
		}
		return false;
	}
	if (A.n == A.fail_at || (A.persistent && A.n > A.fail_at)) {
		/* The last failure is kept: with persistent failures, the one that
		 * made the job fail is usually the last. */
		A.in_hook = true;
		A.bt_n = backtrace(A.bt, BT_DEPTH);
		A.in_hook = false;
		A.failed = true;
		errno = ENOMEM; /* as glibc's malloc does */
		return true;
	}
	return false;
}

/* Default visibility (the build hides symbols): libcjson and glibc itself
 * must call these too. */
#define ALLOC_FAIL_EXPORT __attribute__((visibility("default")))

ALLOC_FAIL_EXPORT void *malloc(size_t size)
{
	if (should_fail(__builtin_return_address(0)))
		return NULL;
	void *p = __libc_malloc(size);
	if (A.armed && !A.in_hook)
		track(p);
	return p;
}

ALLOC_FAIL_EXPORT void *calloc(size_t n, size_t size)
{
	if (should_fail(__builtin_return_address(0)))
		return NULL;
	void *p = __libc_calloc(n, size);
	if (A.armed && !A.in_hook)
		track(p);
	return p;
}

ALLOC_FAIL_EXPORT void *realloc(void *ptr, size_t size)
{
	if (should_fail(__builtin_return_address(0)))
		return NULL;
	void *p = __libc_realloc(ptr, size);
	if (A.armed && !A.in_hook && (p || size == 0)) {
		untrack(ptr);
		track(p);
	}
	return p;
}

ALLOC_FAIL_EXPORT void free(void *ptr)
{
	if (ptr)
		untrack(ptr);
	__libc_free(ptr);
}

/* ---- the job ----------------------------------------------------------------------------- */

enum step {
	STEP_NONE = 0,
	STEP_LOADER_NEW,
	STEP_ADD_ENV,
	STEP_ADD_TAGS,
	STEP_COMPILE,
	STEP_EVAL,
	STEP_EFFECTIVE,
	STEP_RENDER,
	STEP_DONE
};
static const char *const step_names[] = {"none",
                                         "nsgsim_loader_new",
                                         "nsgsim_loader_add_env",
                                         "nsgsim_loader_add_service_tags",
                                         "nsgsim_compile",
                                         "nsgsim_eval",
                                         "nsgsim_effective",
                                         "nsgsim_result_render",
                                         "done"};

static const char *const flows[] = {
        "tcp 93.184.216.34:50000 10.1.1.4:443",
        "tcp 10.1.1.4:50000 10.1.2.4:1433",
        "tcp 10.1.2.4 20.38.108.10:443", /* every source port */
        "icmp 10.1.2.4 10.2.1.4",
        "tcp [fd00:db8:0:3::4]:50000 [2603:1020:200::10]:443",
};
#define N_FLOWS (sizeof flows / sizeof flows[0])
static const char *const effective_nics[] = {"vm-web1-nic", "vm-jump-nic"};

/* What a run produced.  Text outputs are copied into static buffers so that
 * the run can free everything it allocated. */
typedef struct outcome {
	int step;     /* the step that failed, or STEP_DONE */
	int rc;       /* its status */
	int err_code; /* its err.code */
	char err_msg[512];
	bool out_not_null; /* a failed step left its output pointer set */
	size_t n_notes;
	char notes[8192];
	char text[1 << 20]; /* every output in order */
	size_t text_len;
} outcome;

static outcome reference, current;
static const char *tags_buffer;
static size_t tags_buffer_len;
/* The small tags as a snapshot; when job_snapshot is set the job loads it
 * instead, and also writes a snapshot of what it loaded. */
static const char *snapshot_buffer;
static size_t snapshot_buffer_len;
static bool job_snapshot;
/* An environment loaded after the example's (an ARM template with its
 * parameter, a Terraform plan): the template walker's and the Terraform
 * reader's allocations meet failures too. */
static const char *job_extra_env;
static const char *job_extra_param[2];

static void keep(outcome *o, const char *s)
{
	size_t n = strlen(s);
	if (o->text_len + n + 1 < sizeof o->text) {
		memcpy(o->text + o->text_len, s, n + 1);
		o->text_len += n;
	}
}

static void keep_result(outcome *o, const nsgsim_result *r)
{
	char line[512];
	snprintf(line, sizeof line, "verdict %d layer %d endpoint %d rule %s sides %d port %d\n",
	         r->verdict, r->decided_layer, r->decided_endpoint,
	         r->decided_rule.name ? r->decided_rule.name : "-", r->n_sides, r->src_port);
	keep(o, line);
}

static void keep_notes(outcome *o, const nsgsim_policy *p)
{
	o->n_notes = nsgsim_policy_note_count(p);
	size_t len = 0;
	for (size_t i = 0; i < o->n_notes; i++) {
		nsgsim_note n;
		if (nsgsim_policy_note(p, i, &n) != 0)
			continue;
		int w = snprintf(o->notes + len, sizeof o->notes - len, "%d|%s|%s|%s|%s\n", n.kind,
		                 n.message ? n.message : "(null)", n.file ? n.file : "(null)",
		                 n.pointer ? n.pointer : "(null)",
		                 n.resource ? n.resource : "(null)");
		if (w < 0 || (size_t)w >= sizeof o->notes - len)
			break;
		len += (size_t)w;
	}
}

static bool stop_at(outcome *o, int step, int rc, const nsgsim_error *err, bool out_set)
{
	if (rc == 0)
		return false;
	o->step = step;
	o->rc = rc;
	o->err_code = err ? err->code : rc;
	if (err)
		snprintf(o->err_msg, sizeof o->err_msg, "%s", err->message);
	o->out_not_null = out_set;
	return true;
}

/* The job.  Every allocation is freed before it returns. */
static void run_job(outcome *o, bool tags_from_file)
{
	o->step = STEP_DONE;
	o->rc = 0;
	o->text_len = 0;
	o->text[0] = '\0';
	o->notes[0] = '\0';
	o->n_notes = 0;
	o->out_not_null = false;
	nsgsim_error err;
	memset(&err, 0, sizeof err);
	job_step = STEP_LOADER_NEW;
	nsgsim_loader *l = nsgsim_loader_new();
	if (!l) {
		o->step = STEP_LOADER_NEW;
		o->rc = o->err_code = NSGSIM_E_NOMEM;
		return;
	}
	nsgsim_policy *p = (nsgsim_policy *)&err; /* not NULL: compile must set it */
	job_step = STEP_ADD_ENV;
	int rc = nsgsim_loader_add_env(l, EXAMPLE_ENV, &err);
	if (rc == 0)
		rc = nsgsim_loader_add_env_buffer(l, "policy.json", POLICY_ENV, strlen(POLICY_ENV),
		                                  &err);
	if (rc == 0 && job_extra_param[0])
		rc = nsgsim_loader_set_parameter(l, job_extra_param[0], job_extra_param[1], &err);
	if (rc == 0 && job_extra_env)
		rc = nsgsim_loader_add_env(l, job_extra_env, &err);
	if (stop_at(o, STEP_ADD_ENV, rc, &err, false))
		goto out_loader;
	job_step = STEP_ADD_TAGS;
	if (tags_from_file)
		rc = nsgsim_loader_add_service_tags(l, EXAMPLE_TAGS, &err);
	else if (job_snapshot)
		rc = nsgsim_loader_add_service_tags_buffer(l, "tags.nst", snapshot_buffer,
		                                           snapshot_buffer_len, &err);
	else
		rc = nsgsim_loader_add_service_tags_buffer(l, "tags.json", tags_buffer,
		                                           tags_buffer_len, &err);
	if (stop_at(o, STEP_ADD_TAGS, rc, &err, false))
		goto out_loader;
	if (job_snapshot) {
		void *snap = &err;
		size_t len = 0;
		rc = nsgsim_loader_service_tags_snapshot(l, &snap, &len, &err);
		if (stop_at(o, STEP_ADD_TAGS, rc, &err, snap != NULL))
			goto out_loader;
		/* A recovered run writes back exactly the bytes it read. */
		assert_true(len == snapshot_buffer_len && memcmp(snap, snapshot_buffer, len) == 0);
		nsgsim_free(snap);
	}
	job_step = STEP_COMPILE;
	rc = nsgsim_compile(l, &p, &err);
	if (stop_at(o, STEP_COMPILE, rc, &err, p != NULL))
		goto out_loader;
	nsgsim_loader_free(l);
	l = NULL;
	keep_notes(o, p);

	job_step = STEP_EVAL;
	nsgsim_flow f[N_FLOWS];
	nsgsim_result r[N_FLOWS];
	for (size_t i = 0; i < N_FLOWS; i++) {
		rc = nsgsim_flow_parse(flows[i], &f[i], &err);
		if (rc == 0)
			rc = nsgsim_eval(p, &f[i], &r[i], &err);
		if (stop_at(o, STEP_EVAL, rc, &err, false))
			goto out_policy;
		keep_result(o, &r[i]);
	}
	job_step = STEP_EFFECTIVE;
	for (size_t i = 0; i < sizeof effective_nics / sizeof effective_nics[0]; i++) {
		for (int fmt = NSGSIM_FORMAT_JSON; fmt <= NSGSIM_FORMAT_TABLE; fmt++) {
			char *out = (char *)&err;
			rc = nsgsim_effective(p, effective_nics[i], (nsgsim_format)fmt, &out, &err);
			if (stop_at(o, STEP_EFFECTIVE, rc, &err, out != NULL))
				goto out_policy;
			keep(o, out);
			nsgsim_free(out);
		}
	}
	job_step = STEP_RENDER;
	for (size_t i = 0; i < N_FLOWS; i++) {
		for (int fmt = NSGSIM_FORMAT_JSON; fmt <= NSGSIM_FORMAT_TABLE; fmt++) {
			char *out = (char *)&err;
			rc = nsgsim_result_render(p, &f[i], &r[i], (nsgsim_format)fmt, 1, &out,
			                          &err);
			if (stop_at(o, STEP_RENDER, rc, &err, out != NULL))
				goto out_policy;
			keep(o, out);
			nsgsim_free(out);
		}
	}
out_policy:
	job_step = STEP_DONE;
	nsgsim_policy_free(p);
	return;
out_loader:
	job_step = STEP_DONE;
	if (o->step == STEP_COMPILE && p && p != (nsgsim_policy *)&err)
		nsgsim_policy_free(p);
	nsgsim_loader_free(l);
}

/* ---- the loop ------------------------------------------------------------------------------- */

/* A kind of wrong behaviour at one place: reported once, with a count. */
typedef struct finding {
	const char *what;
	int step, rc, err_code;
	bool persistent;
	const void *site; /* the first frame in this executable: nsgsim's code */
	unsigned long first_n, count;
	char err_msg[512];
	void *bt[BT_DEPTH];
	int bt_n;
} finding;

#define MAX_FINDINGS 64
static finding findings[MAX_FINDINGS];
static int n_findings, n_bad, n_recovered;
/* Where a run met the failure and still gave the reference output. */
static finding recoveries[MAX_FINDINGS];
static int n_recoveries;

static const void *exe_base(void)
{
	static const void *base;
	if (!base) {
		Dl_info info;
		if (dladdr((void *)exe_base, &info))
			base = info.dli_fbase;
	}
	return base;
}

/* The first return address in this executable above the allocator hooks. */
static const void *failure_site(void)
{
	for (int i = 1; i < A.bt_n; i++) {
		Dl_info info;
		if (!dladdr(A.bt[i], &info) || info.dli_fbase != exe_base())
			continue;
		if (info.dli_sname && (strcmp(info.dli_sname, "malloc") == 0 ||
		                       strcmp(info.dli_sname, "calloc") == 0 ||
		                       strcmp(info.dli_sname, "realloc") == 0))
			continue;
		return A.bt[i];
	}
	return NULL;
}

static void note(finding *list, int *count, const char *what, unsigned long n)
{
	const void *site = failure_site();
	for (int i = 0; i < *count; i++) {
		finding *f = &list[i];
		if (f->site == site && f->step == current.step && f->rc == current.rc &&
		    f->persistent == A.persistent && strcmp(f->what, what) == 0) {
			f->count++;
			return;
		}
	}
	if (*count == MAX_FINDINGS)
		return;
	finding *f = &list[(*count)++];
	f->what = what;
	f->step = current.step;
	f->rc = current.rc;
	f->err_code = current.err_code;
	f->persistent = A.persistent;
	f->site = site;
	f->first_n = n;
	f->count = 1;
	snprintf(f->err_msg, sizeof f->err_msg, "%s", current.err_msg);
	memcpy(f->bt, A.bt, sizeof f->bt);
	f->bt_n = A.bt_n;
}

static void note_bad(const char *what, unsigned long n)
{
	n_bad++;
	note(findings, &n_findings, what, n);
}

/* Prints where a failure was met: function, file and line of each frame in
 * this executable (addr2line), else module+offset. */
static void print_frames(void *const *bt, int n)
{
	char exe[4096];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	exe[len > 0 ? len : 0] = '\0';
	for (int i = 1; i < n; i++) {
		Dl_info info;
		if (!dladdr(bt[i], &info) || !info.dli_fname)
			continue;
		unsigned long off =
		        (unsigned long)((const char *)bt[i] - (const char *)info.dli_fbase) - 1;
		if (info.dli_fbase == exe_base() && len > 0) {
			if (info.dli_sname && strncmp(info.dli_sname, "_cmocka", 7) == 0)
				break;
			char cmd[4300], line[512];
			snprintf(cmd, sizeof cmd, "addr2line -f -i -s -e '%s' 0x%lx 2>/dev/null",
			         exe, off);
			FILE *p = popen(cmd, "r");
			int got = 0;
			while (p && fgets(line, sizeof line, p)) {
				char *nl = strchr(line, '\n');
				if (nl)
					*nl = '\0';
				fprintf(stderr, got % 2 ? " %s\n" : "      %s", line);
				if (got % 2 == 0 && strcmp(line, "run_job") == 0)
					i = n; /* the test's own frames are no news */
				got++;
			}
			if (p)
				pclose(p);
			if (got)
				continue;
		}
		const char *base = strrchr(info.dli_fname, '/');
		fprintf(stderr, "      %s+0x%lx %s\n", base ? base + 1 : info.dli_fname, off,
		        info.dli_sname ? info.dli_sname : "");
	}
}

/* Where the job recovered: the first frames only (stdout, information). */
static void print_recoveries(void)
{
	for (int i = 0; i < n_recoveries; i++) {
		const finding *f = &recoveries[i];
		fprintf(stderr,
		        "  recovered with the same output, %s failure, N=%lu and %lu more:\n",
		        f->persistent ? "persistent" : "one-shot", f->first_n, f->count - 1);
		print_frames(f->bt, f->bt_n < 5 ? f->bt_n : 5);
	}
}

static void print_findings(void)
{
	for (int i = 0; i < n_findings; i++) {
		const finding *f = &findings[i];
		fprintf(stderr,
		        "  %s, %s failure: %s %s returned %s (err.code %s, \"%s\"); N=%lu and %lu "
		        "more; the failed allocation:\n",
		        f->what, f->persistent ? "persistent" : "one-shot", step_names[f->step],
		        f->step == STEP_DONE ? "(all steps)" : "", nsgsim_error_name(f->rc),
		        nsgsim_error_name(f->err_code), f->err_msg, f->first_n, f->count - 1);
		print_frames(f->bt, f->bt_n);
	}
}

/* Runs the job once with allocation n failing; false when it never got
 * that far (the job is complete). */
static bool try_n(unsigned long n, bool persistent, bool tags_from_file)
{
	memset(live, 0, sizeof live);
	n_live = 0;
	A.n = 0;
	A.fail_at = n;
	A.persistent = persistent;
	A.failed = false;
	A.bt_n = 0;
	A.armed = true;
	run_job(&current, tags_from_file);
	A.armed = false;
	if (!A.failed) {
		/* Complete: it must be the reference run. */
		if (current.step != STEP_DONE || strcmp(current.text, reference.text) != 0)
			note_bad("a run without failure differs from the reference", n);
		return false;
	}
	if (n_live) {
		note_bad("leak", n);
	} else if (current.step == STEP_DONE) {
		n_recovered++;
		note(recoveries, &n_recoveries, "recovered", n);
		if (strcmp(current.text, reference.text) != 0 ||
		    current.n_notes != reference.n_notes ||
		    strcmp(current.notes, reference.notes) != 0)
			note_bad("recovered, but the output differs from the reference", n);
	} else if (current.rc != NSGSIM_E_NOMEM) {
		note_bad("out of memory reported as another error", n);
	} else if (current.err_code != NSGSIM_E_NOMEM) {
		note_bad("NSGSIM_E_NOMEM returned but err->code not set", n);
	} else if (current.out_not_null) {
		note_bad("output pointer not NULL after a failure", n);
	}
	return true;
}

static bool want_all(void)
{
	const char *s = getenv("NSGSIM_ALLOC_FAIL_ALL");
	return s && *s && strcmp(s, "0") != 0;
}

/* Which allocations a test tries to fail.  Failing the same allocation
 * context (the same return addresses) again and again teaches little: each
 * context is tried at its first SITE_FIRST occurrences and its last, and at
 * one in `stride` of the others. */
typedef struct plan {
	const char *name;
	bool tags_from_file;
	unsigned steps;       /* a bit per enum step: the steps whose allocations */
	unsigned long stride; /* one in this many repeats of a context */
	int modes;            /* 1: one-shot; 2: one-shot and persistent */
} plan;

#define STEP_BIT(s) (1u << (s))
#define ALL_STEPS   0xFFFFu

/* Occurrence counts per context, filled after the dry run. */
static uint32_t *occurrence;  /* of allocation i: 0 for the first of its context */
static uint32_t *occurrences; /* of allocation i's context in all */

static void count_contexts(void)
{
	size_t cap = 1;
	while (cap < 2 * (n_recorded + 1))
		cap <<= 1;
	uint64_t *keys = __libc_calloc(cap, sizeof *keys);
	uint32_t *counts = __libc_calloc(cap, sizeof *counts);
	size_t *slot = __libc_calloc(n_recorded + 1, sizeof *slot);
	occurrence = __libc_calloc(n_recorded + 1, sizeof *occurrence);
	occurrences = __libc_calloc(n_recorded + 1, sizeof *occurrences);
	assert_true(keys && counts && slot && occurrence && occurrences);
	for (unsigned long n = 1; n <= n_recorded; n++) {
		uint64_t k = site_key[n] | 1; /* 0 marks a free slot */
		size_t i = (size_t)(k * 0x9E3779B97F4A7C15ULL >> 32) & (cap - 1);
		while (keys[i] && keys[i] != k)
			i = (i + 1) & (cap - 1);
		keys[i] = k;
		occurrence[n] = counts[i]++;
		slot[n] = i;
	}
	for (unsigned long n = 1; n <= n_recorded; n++)
		occurrences[n] = counts[slot[n]];
	__libc_free(keys);
	__libc_free(counts);
	__libc_free(slot);
}

static bool chosen(unsigned long n, const plan *pl)
{
	if (n > n_recorded)
		return true;
	if (!(pl->steps & STEP_BIT(STEP_OF(n))))
		return false;
	return want_all() || occurrence[n] < SITE_FIRST || occurrence[n] + 1 == occurrences[n] ||
	       occurrence[n] % pl->stride == 0;
}

static void run_all(plan pl)
{
	/* Warm up what allocates once per process (backtrace loads libgcc_s,
	 * stdio buffers its streams). */
	void *bt[4];
	backtrace(bt, 4);
	fprintf(stderr, "%s", "");
	fflush(stdout);

	run_job(&reference, pl.tags_from_file);
	assert_int_equal(reference.step, STEP_DONE);
	assert_true(reference.text_len > 10000);
	/* valgrind replaces malloc in the executable too: nothing to count. */
	if (ALLOC_FAIL_UNDER_VALGRIND()) {
		printf("%s: the job ran once; failures are not injected under valgrind, which "
		       "replaces this test's allocator\n",
		       pl.name);
		skip();
	}

	/* The dry run: count the allocations, note cJSON's and their contexts. */
	ainfo = __libc_calloc(MAX_ALLOCS, 1);
	site_key = __libc_calloc(MAX_ALLOCS, sizeof *site_key);
	assert_non_null(ainfo);
	assert_non_null(site_key);
	memset(live, 0, sizeof live);
	n_live = 0;
	A.n = 0;
	A.recording = true;
	A.armed = true;
	run_job(&current, pl.tags_from_file);
	A.armed = false;
	A.recording = false;
	assert_int_equal(current.step, STEP_DONE);
	assert_int_equal(n_live, 0);
	/* Some other tool replaced the allocator: the hooks saw nothing. */
	if (n_recorded == 0) {
		__libc_free(ainfo);
		__libc_free(site_key);
		ainfo = NULL;
		site_key = NULL;
		printf("%s: the allocator hooks are not in use; skipped\n", pl.name);
		skip();
	}
	unsigned long cj = 0, per_step[STEP_DONE + 1] = {0};
	for (unsigned long i = 1; i <= n_recorded; i++) {
		cj += FROM_CJSON(i);
		per_step[STEP_OF(i) <= STEP_DONE ? STEP_OF(i) : STEP_NONE]++;
	}

	count_contexts();
	if (getenv("NSGSIM_ALLOC_FAIL_VERBOSE")) {
		unsigned long tries[STEP_DONE + 1] = {0};
		for (unsigned long n = 1; n <= n_recorded; n++)
			if (chosen(n, &pl))
				tries[STEP_OF(n) <= STEP_DONE ? STEP_OF(n) : STEP_NONE]++;
		for (int k = STEP_LOADER_NEW; k <= STEP_DONE; k++)
			printf("  %-32s %lu allocations, %lu tried\n", step_names[k], per_step[k],
			       tries[k]);
	}
	n_findings = n_bad = n_recovered = n_recoveries = 0;
	unsigned long tried[2] = {0, 0};
	for (int persistent = 0; persistent < pl.modes; persistent++) {
		for (unsigned long n = 1;; n++) {
			if (n <= n_recorded && !chosen(n, &pl))
				continue;
			tried[persistent]++;
			if (!try_n(n, persistent, pl.tags_from_file))
				break;
		}
	}
	printf("%s: %lu allocations (%lu in libcjson); tried %lu one-shot and %lu persistent "
	       "failures; %d runs recovered; %d broke a rule\n",
	       pl.name, n_recorded, cj, tried[0], tried[1], n_recovered, n_bad);
	if (getenv("NSGSIM_ALLOC_FAIL_VERBOSE"))
		print_recoveries();
	print_findings();
	__libc_free(ainfo);
	__libc_free(site_key);
	__libc_free(occurrence);
	__libc_free(occurrences);
	ainfo = NULL;
	site_key = NULL;
	occurrence = occurrences = NULL;
	assert_int_equal(n_bad, 0);
}

/* ---- tests -------------------------------------------------------------------------------------
 */

/* The trimmed tags cut to three prefixes a tag: the same tags, so the example
 * compiles, with far fewer allocations to go through. */
static char *small_tags(size_t *len)
{
	FILE *f = fopen(EXAMPLE_TAGS, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *text = __libc_malloc((size_t)size + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)size, f), (size_t)size);
	text[size] = '\0';
	fclose(f);
	/* Keep the first three strings of each "addressPrefixes": [ ... ]. */
	char *out = __libc_malloc((size_t)size + 1);
	assert_non_null(out);
	size_t o = 0;
	const char *key = "\"addressPrefixes\"";
	const char *p = text;
	for (;;) {
		const char *k = strstr(p, key);
		if (!k) {
			size_t rest = strlen(p);
			memcpy(out + o, p, rest);
			o += rest;
			break;
		}
		const char *open = strchr(k, '[');
		assert_non_null(open);
		memcpy(out + o, p, (size_t)(open - p) + 1);
		o += (size_t)(open - p) + 1;
		const char *q = open + 1;
		for (int kept = 0; kept < 3; kept++) {
			const char *s = strchr(q, '"');
			const char *close = strchr(q, ']');
			if (!s || s > close)
				break;
			const char *e = strchr(s + 1, '"');
			if (kept)
				out[o++] = ',';
			memcpy(out + o, s, (size_t)(e - s) + 1);
			o += (size_t)(e - s) + 1;
			q = e + 1;
		}
		p = strchr(q, ']');
		assert_non_null(p);
	}
	out[o] = '\0';
	__libc_free(text);
	*len = o;
	return out;
}

static void test_alloc_fail_small_tags(void **state)
{
	(void)state;
	/* Freed by main: skip() does not come back here. */
	if (!tags_buffer)
		tags_buffer = small_tags(&tags_buffer_len);
	run_all((plan){"small service tags buffer", false, ALL_STEPS, 64, 2});
}

/* The real file, whose every run costs ten times more: one-shot failures
 * while it loads and while its tags are printed (expanded) only; the small
 * test covers the same compile code and persistent failures. */
static void test_alloc_fail_trimmed_tags_file(void **state)
{
	(void)state;
	run_all((plan){"trimmed service tags file", true,
	               STEP_BIT(STEP_ADD_TAGS) | STEP_BIT(STEP_EFFECTIVE), 512, 1});
}

/* The small tags as a snapshot: its reader, and its writer, as they meet a
 * failed allocation (the rest of the job is the small test's). */
static void test_alloc_fail_small_tags_snapshot(void **state)
{
	(void)state;
	if (!tags_buffer)
		tags_buffer = small_tags(&tags_buffer_len);
	nsgsim_loader *l = nsgsim_loader_new();
	assert_non_null(l);
	nsgsim_error err;
	assert_int_equal(nsgsim_loader_add_service_tags_buffer(l, "tags.json", tags_buffer,
	                                                       tags_buffer_len, &err),
	                 0);
	void *snap = NULL;
	size_t len = 0;
	assert_int_equal(nsgsim_loader_service_tags_snapshot(l, &snap, &len, &err), 0);
	nsgsim_loader_free(l);
	char *copy = __libc_malloc(len); /* freed by main, like tags_buffer */
	assert_non_null(copy);
	memcpy(copy, snap, len);
	nsgsim_free(snap);
	snapshot_buffer = copy;
	snapshot_buffer_len = len;
	job_snapshot = true;
	run_all((plan){"small service tags snapshot", false,
	               STEP_BIT(STEP_ADD_TAGS) | STEP_BIT(STEP_COMPILE), 64, 2});
	job_snapshot = false;
}

/* An ARM template (copy loops, conditions, a nested deployment, the
 * expression evaluator) and a Terraform plan (modules, references, ids)
 * loaded beside the example: failures while each is read and compiled. */
static void test_alloc_fail_template_and_plan(void **state)
{
	(void)state;
	if (!tags_buffer)
		tags_buffer = small_tags(&tags_buffer_len);
	static const char *const envs[][3] = {
	        {"fixtures/arm/walker.json", "prefix", "app"},
	        {"fixtures/terraform/small/plan.json", NULL, NULL},
	        {"fixtures/terraform/hub_spoke/plan.json", NULL, NULL},
	};
	for (size_t i = 0; i < sizeof envs / sizeof envs[0]; i++) {
		job_extra_env = envs[i][0];
		job_extra_param[0] = envs[i][1];
		job_extra_param[1] = envs[i][2];
		run_all((plan){envs[i][0], false, STEP_BIT(STEP_ADD_ENV) | STEP_BIT(STEP_COMPILE),
		               16, 2});
	}
}

static int clear_extra_env(void **state)
{
	(void)state;
	job_extra_env = NULL; /* also when a failed assertion left the test early */
	job_extra_param[0] = job_extra_param[1] = NULL;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_alloc_fail_template_and_plan, clear_extra_env),
	        cmocka_unit_test(test_alloc_fail_small_tags),
	        cmocka_unit_test(test_alloc_fail_trimmed_tags_file),
	        cmocka_unit_test(test_alloc_fail_small_tags_snapshot),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	__libc_free((char *)tags_buffer);
	__libc_free((char *)snapshot_buffer);
	return failed;
}

#else /* ALLOC_FAIL_SKIP */

static void test_alloc_fail_skipped(void **state)
{
	(void)state;
	printf("test_alloc_fail: skipped under a sanitizer that replaces malloc\n");
	skip();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_alloc_fail_skipped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#endif
