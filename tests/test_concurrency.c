/* Concurrency: one compiled policy shared by many threads (nsgsim.h: "A policy
 * may be shared by any number of threads; nothing in it changes after
 * compile").
 *
 * The bundled example is compiled once and every query is answered single-
 * threaded first: the reference.  Then 8 evaluator threads ask the same
 * questions of the shared policy -- nsgsim_eval, nsgsim_eval_at,
 * nsgsim_eval_source_ports, nsgsim_result_render and nsgsim_effective -- and
 * compare every answer with the reference, while 2 loader threads build,
 * use and free policies of their own from the fixtures.  Loading is not
 * thread-safe (cJSON's error pointer is process-wide), so the two loaders
 * take a mutex around nsgsim_loader_add_*; compile, evaluation and free run
 * unlocked.
 *
 * Run it under ThreadSanitizer with `make tsan`, or alone:
 *   make B=build/tsan OPT_CFLAGS='-O1 -g -fsanitize=thread' \
 *        LDFLAGS='-fsanitize=thread -pthread' build/tsan/test_concurrency
 *   NSGSIM_SHARED_DATA=../shared/data build/tsan/test_concurrency */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "flowtable.h"
#include "nsgsim.h"

#define EXAMPLE_ENV   "fixtures/example/env"
#define EXAMPLE_FLOWS "fixtures/example/flows.txt"
#define EXAMPLE_TAGS  "fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json"

#define N_EVALUATORS   8
#define N_LOADERS      2
#define LOADER_ROUNDS  3   /* per loader, over every fixture below */
#define MIN_PASSES     2   /* every evaluator goes over every query at least this often */
#define MAX_SECONDS    2.0 /* evaluators stop after this, loaders permitting */
#define RENDER_EVERY   4   /* render (and compare) one query in this many */
#define MAX_QUERIES    512
#define MAX_PORT_RANGE 64

#define NS_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *const nics[] = {"vm-web1-nic", "vm-web2-nic", "vm-db1-nic", "vm-dev1-nic",
                                   "vm-jump-nic"};
/* Each NIC's address (--at evaluates a NIC's own traffic). */
static const char *const nic_ips[] = {"10.1.1.4", "10.1.1.5", "10.1.2.4", "10.2.1.4", "10.0.3.4"};

/* Environments the loader threads compile, with their service tags. */
static const struct {
	const char *env, *tags;
} loader_envs[] = {
        {EXAMPLE_ENV, EXAMPLE_TAGS},
        {"fixtures/semantics/w2_asg_three_tier/env", NULL},
        {"fixtures/semantics/t18_two_managers_levels/env", NULL},
        {"fixtures/semantics/t19_equal_admin_priorities/env", NULL},
        {"fixtures/semantics/w9_intent_policy_two_managers/env", NULL},
        {"fixtures/effective_myers/scenario4/env",
         "fixtures/effective_myers/internet_override_tags.json"},
};

/* One question and its single-threaded answer. */
typedef struct query {
	nsgsim_flow flow;
	const char *at; /* nsgsim_eval_at at this NIC, else nsgsim_eval */
	int direction;
	int rc;
	nsgsim_result result;
	char *rendered; /* JSON, verbose */
	int ports_rc;
	size_t n_ports;
	nsgsim_port_outcome ports[MAX_PORT_RANGE];
} query;

static nsgsim_policy *shared;
static query queries[MAX_QUERIES];
static size_t n_queries;
static char *effective_ref[sizeof nics / sizeof nics[0]][2];

static atomic_int stop;
static atomic_int mismatches;
static atomic_long evaluations;
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- building the queries ----------------------------------------------------------- */

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	assert_non_null(d);
	return d;
}

static void add_query(const char *text, const char *at, int direction)
{
	assert_true(n_queries < MAX_QUERIES);
	query *q = &queries[n_queries];
	memset(q, 0, sizeof *q);
	nsgsim_error err;
	int rc = nsgsim_flow_parse(text, &q->flow, &err);
	if (rc != 0)
		print_error("%s: %s\n", text, err.message);
	assert_int_equal(rc, 0);
	q->at = at ? xstrdup(at) : NULL;
	q->direction = direction;
	n_queries++;
}

/* The flows of the example's table, and a grid of flows between its
 * endpoints (some without a source port: those sweep every port). */
static void build_queries(void)
{
	FILE *f = fopen(EXAMPLE_FLOWS, "r");
	assert_non_null(f);
	char line[1024];
	int lineno = 0;
	while (fgets(line, sizeof line, f)) {
		flow_row r;
		int k = flow_row_parse(line, ++lineno, &r);
		assert_true(k >= 0);
		if (k == 0)
			continue;
		add_query(r.flow, r.at[0] ? r.at : NULL,
		          strcmp(r.direction, "inbound") == 0 ? NSGSIM_INBOUND : NSGSIM_OUTBOUND);
	}
	fclose(f);
	static const char *const hosts[] = {"10.0.3.4", "10.1.1.4", "10.1.1.5",
	                                    "10.1.2.4", "10.2.1.4", "93.184.216.34"};
	static const int ports[] = {22, 80, 443, 1433, 3389, 5986};
	char text[256];
	for (size_t s = 0; s < NS_LEN(hosts); s++) {
		for (size_t d = 0; d < NS_LEN(hosts); d++) {
			if (s == d)
				continue;
			for (size_t p = 0; p < NS_LEN(ports); p++) {
				/* Every third one without a source port. */
				if ((s + d + p) % 3 == 0)
					snprintf(text, sizeof text, "tcp %s %s:%d", hosts[s],
					         hosts[d], ports[p]);
				else
					snprintf(text, sizeof text, "tcp %s:50000 %s:%d", hosts[s],
					         hosts[d], ports[p]);
				add_query(text, NULL, 0);
			}
			snprintf(text, sizeof text, "icmp %s %s", hosts[s], hosts[d]);
			add_query(text, NULL, 0);
			snprintf(text, sizeof text, "udp %s:5000 %s:53", hosts[s], hosts[d]);
			add_query(text, NULL, 0);
		}
	}
	/* One side at each NIC, both directions. */
	for (size_t n = 0; n < NS_LEN(nics); n++) {
		snprintf(text, sizeof text, "tcp 93.184.216.34:50000 %s:443", nic_ips[n]);
		add_query(text, nics[n], NSGSIM_INBOUND);
		snprintf(text, sizeof text, "tcp %s:50000 10.2.1.4:22", nic_ips[n]);
		add_query(text, nics[n], NSGSIM_OUTBOUND);
	}
}

/* ---- asking ---------------------------------------------------------------------------- */

static int ask(const nsgsim_policy *p, const query *q, nsgsim_result *out)
{
	memset(out, 0, sizeof *out);
	if (q->at)
		return nsgsim_eval_at(p, &q->flow, q->at, q->direction, out, NULL);
	return nsgsim_eval(p, &q->flow, out, NULL);
}

static bool same_rule(const nsgsim_rule_ref *a, const nsgsim_rule_ref *b)
{
	return a->name == b->name && a->id == b->id && a->priority == b->priority &&
	       a->access == b->access && a->is_default == b->is_default;
}

/* Field by field: every string points into the one shared policy, so the
 * pointers themselves must agree. */
static bool same_result(const nsgsim_result *a, const nsgsim_result *b)
{
	if (a->verdict != b->verdict || a->decided_layer != b->decided_layer ||
	    a->decided_endpoint != b->decided_endpoint ||
	    !same_rule(&a->decided_rule, &b->decided_rule) ||
	    a->decided_resource != b->decided_resource || a->n_sides != b->n_sides ||
	    a->assumptions != b->assumptions || a->src_port != b->src_port ||
	    a->src_modelled != b->src_modelled || a->dst_modelled != b->dst_modelled ||
	    a->one_sided != b->one_sided)
		return false;
	for (int s = 0; s < a->n_sides; s++) {
		const nsgsim_side_result *x = &a->sides[s], *y = &b->sides[s];
		if (x->endpoint != y->endpoint || x->direction != y->direction ||
		    x->nic != y->nic || x->subnet != y->subnet || x->vnet != y->vnet ||
		    x->verdict != y->verdict || x->admin_skipped != y->admin_skipped ||
		    x->n_layers != y->n_layers)
			return false;
		for (int l = 0; l < x->n_layers; l++) {
			const nsgsim_layer_result *m = &x->layers[l], *n = &y->layers[l];
			if (m->layer != n->layer || m->resource != n->resource ||
			    m->applied_to != n->applied_to || m->matched != n->matched ||
			    !same_rule(&m->rule, &n->rule))
				return false;
		}
	}
	return true;
}

static int source_ports(const nsgsim_policy *p, const query *q, nsgsim_port_outcome *out, size_t *n)
{
	nsgsim_flow f = q->flow;
	f.src_port = NSGSIM_PORT_ANY;
	return nsgsim_eval_source_ports(p, &f, out, MAX_PORT_RANGE, n, NULL);
}

static bool same_ports(const nsgsim_port_outcome *a, const nsgsim_port_outcome *b, size_t n)
{
	for (size_t i = 0; i < n && i < MAX_PORT_RANGE; i++)
		if (a[i].lo != b[i].lo || a[i].hi != b[i].hi || a[i].verdict != b[i].verdict ||
		    a[i].decided_layer != b[i].decided_layer ||
		    a[i].decided_endpoint != b[i].decided_endpoint ||
		    !same_rule(&a[i].decided_rule, &b[i].decided_rule))
			return false;
	return true;
}

static char *render(const nsgsim_policy *p, const query *q, const nsgsim_result *r)
{
	char *out = NULL;
	int rc = nsgsim_result_render(p, &q->flow, r, NSGSIM_FORMAT_JSON, 1, &out, NULL);
	return rc == 0 ? out : NULL;
}

static void compute_reference(void)
{
	for (size_t i = 0; i < n_queries; i++) {
		query *q = &queries[i];
		q->rc = ask(shared, q, &q->result);
		assert_true(q->rc == 0 || q->rc == NSGSIM_E_NOT_MODELLED);
		if (q->rc == 0) {
			q->rendered = render(shared, q, &q->result);
			assert_non_null(q->rendered);
		}
		if (!q->at) {
			q->ports_rc = source_ports(shared, q, q->ports, &q->n_ports);
			assert_true(q->ports_rc == 0 || q->ports_rc == NSGSIM_E_NOT_MODELLED);
		}
	}
	for (size_t n = 0; n < NS_LEN(nics); n++)
		for (int fmt = 0; fmt < 2; fmt++)
			assert_int_equal(nsgsim_effective(shared, nics[n], (nsgsim_format)fmt,
			                                  &effective_ref[n][fmt], NULL),
			                 0);
}

/* ---- the threads ------------------------------------------------------------------------- */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void mismatch(int thread, const query *q, const char *what)
{
	char a[64], b[64];
	snprintf(a, sizeof a, "%d", q->flow.protocol);
	snprintf(b, sizeof b, "%s", q->at ? q->at : "-");
	fprintf(stderr, "evaluator %d: %s differs from the reference (protocol %s, at %s)\n",
	        thread, what, a, b);
	atomic_fetch_add(&mismatches, 1);
}

static void *evaluator(void *arg)
{
	int id = (int)(intptr_t)arg;
	double deadline = now() + MAX_SECONDS;
	long done = 0;
	for (int pass = 0;; pass++) {
		if (pass >= MIN_PASSES && (atomic_load(&stop) || now() > deadline))
			break;
		for (size_t k = 0; k < n_queries; k++) {
			/* Each thread starts elsewhere, so they collide on different
			 * parts of the policy. */
			const query *q = &queries[(k + (size_t)id * 37) % n_queries];
			nsgsim_result r;
			int rc = ask(shared, q, &r);
			done++;
			if (rc != q->rc) {
				mismatch(id, q, "the status");
				continue;
			}
			if (rc != 0)
				continue;
			if (!same_result(&r, &q->result))
				mismatch(id, q, "the result");
			if ((k + (size_t)pass) % RENDER_EVERY == 0) {
				char *s = render(shared, q, &r);
				if (!s || strcmp(s, q->rendered) != 0)
					mismatch(id, q, "the rendering");
				nsgsim_free(s);
			}
			if (!q->at && (k + (size_t)id) % RENDER_EVERY == 1) {
				nsgsim_port_outcome o[MAX_PORT_RANGE];
				size_t n = 0;
				int prc = source_ports(shared, q, o, &n);
				if (prc != q->ports_rc || n != q->n_ports ||
				    (prc == 0 && !same_ports(o, q->ports, n)))
					mismatch(id, q, "the source-port ranges");
			}
		}
		size_t n = (size_t)(pass + id) % NS_LEN(nics);
		for (int fmt = 0; fmt < 2; fmt++) {
			char *out = NULL;
			if (nsgsim_effective(shared, nics[n], (nsgsim_format)fmt, &out, NULL) !=
			            0 ||
			    strcmp(out, effective_ref[n][fmt]) != 0)
				mismatch(id, &queries[0], "the effective rules");
			nsgsim_free(out);
		}
	}
	atomic_fetch_add(&evaluations, done);
	return NULL;
}

/* Loads under the lock; compiles, uses and frees without it. */
static void *loader(void *arg)
{
	int id = (int)(intptr_t)arg;
	for (int round = 0; round < LOADER_ROUNDS; round++) {
		for (size_t e = 0; e < NS_LEN(loader_envs); e++) {
			size_t which = (e + (size_t)id) % NS_LEN(loader_envs);
			const char *env = loader_envs[which].env, *tags = loader_envs[which].tags;
			nsgsim_loader *l = nsgsim_loader_new();
			if (!l) {
				atomic_fetch_add(&mismatches, 1);
				continue;
			}
			nsgsim_error err;
			pthread_mutex_lock(&load_lock);
			int rc = nsgsim_loader_add_env(l, env, &err);
			if (rc == 0 && tags)
				rc = nsgsim_loader_add_service_tags(l, tags, &err);
			pthread_mutex_unlock(&load_lock);
			nsgsim_policy *p = NULL;
			if (rc == 0)
				rc = nsgsim_compile(l, &p, &err);
			nsgsim_loader_free(l);
			if (rc != 0) {
				fprintf(stderr, "loader %d: %s: %s\n", id, env, err.message);
				atomic_fetch_add(&mismatches, 1);
				continue;
			}
			/* Use it a little: the example's own queries must agree with
			 * the shared policy's answers in their rendered form. */
			for (size_t k = 0; k < n_queries; k += 7) {
				const query *q = &queries[k];
				nsgsim_result r;
				rc = ask(p, q, &r);
				if (which == 0) {
					if (rc != q->rc) {
						mismatch(100 + id, q, "a private policy's status");
						continue;
					}
					char *s = rc == 0 ? render(p, q, &r) : NULL;
					if (rc == 0 && (!s || strcmp(s, q->rendered) != 0))
						mismatch(100 + id, q,
						         "a private policy's rendering");
					nsgsim_free(s);
				}
			}
			nsgsim_policy_free(p);
		}
	}
	return NULL;
}

/* ---- the test ----------------------------------------------------------------------------- */

static void test_shared_policy_many_threads(void **state)
{
	(void)state;
	nsgsim_loader *l = nsgsim_loader_new();
	assert_non_null(l);
	nsgsim_error err;
	assert_int_equal(nsgsim_loader_add_env(l, EXAMPLE_ENV, &err), 0);
	assert_int_equal(nsgsim_loader_add_service_tags(l, EXAMPLE_TAGS, &err), 0);
	assert_int_equal(nsgsim_compile(l, &shared, &err), 0);
	nsgsim_loader_free(l);
	build_queries();
	compute_reference();

	pthread_t ev[N_EVALUATORS], ld[N_LOADERS];
	for (int i = 0; i < N_EVALUATORS; i++)
		assert_int_equal(pthread_create(&ev[i], NULL, evaluator, (void *)(intptr_t)i), 0);
	for (int i = 0; i < N_LOADERS; i++)
		assert_int_equal(pthread_create(&ld[i], NULL, loader, (void *)(intptr_t)i), 0);
	for (int i = 0; i < N_LOADERS; i++)
		assert_int_equal(pthread_join(ld[i], NULL), 0);
	atomic_store(&stop, 1);
	for (int i = 0; i < N_EVALUATORS; i++)
		assert_int_equal(pthread_join(ev[i], NULL), 0);

	printf("%zu queries, %ld evaluations on %d threads, %d loader threads x %d policies\n",
	       n_queries, atomic_load(&evaluations), N_EVALUATORS, N_LOADERS,
	       LOADER_ROUNDS * (int)NS_LEN(loader_envs));
	assert_int_equal(atomic_load(&mismatches), 0);

	for (size_t i = 0; i < n_queries; i++) {
		nsgsim_free(queries[i].rendered);
		free((char *)queries[i].at);
	}
	for (size_t n = 0; n < NS_LEN(nics); n++)
		for (int fmt = 0; fmt < 2; fmt++)
			nsgsim_free(effective_ref[n][fmt]);
	nsgsim_policy_free(shared);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_shared_policy_many_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
