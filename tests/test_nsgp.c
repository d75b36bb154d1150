/* Compiled policy files (.nsgp; lib/compile/nsgp.h): a policy saved and
 * loaded again answers every API exactly as the policy it was saved from.
 *
 * Every environment of fixtures/ that loads (each env/ directory, the flow
 * logs' environments, the Terraform plans, the ARM quickstart templates with
 * their parameters) is compiled, saved, loaded, and compared: saving the
 * loaded policy gives the same bytes (nothing saved is lost); show (text and
 * JSON), stats, notes, list; eval of many flows (at every NIC address,
 * subnet prefix and random addresses; the JSON render with the verbose trace,
 * both engines), eval_batch, eval_at at every NIC both ways, effective of
 * every NIC, reach to every NIC, diff against itself, lint and the matrix.
 *
 * Damage: every truncation of a small file, every single-bit flip of its
 * header and many of its payload, and a resealed payload with every byte
 * changed, are each a clear NSGSIM_E_POLICY_FILE(_VERSION) error naming the
 * file and a pointer -- never a crash (the sanitizer build runs this too)
 * nor an accepted file that answers differently. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "nsgsim.h"
#include "compile/nsgp.h" /* the header layout and the policy's NICs */
#include "policy_addrs.h"

#define TAGS "fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json"

/* ---- helpers ------------------------------------------------------------------------ */

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static void same_str(const char *a, const char *b, const char *what, const char *env)
{
	if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
		fail_msg("%s: %s differs after the round trip:\n--- compiled\n%s\n--- loaded\n%s",
		         env, what, a ? a : "(null)", b ? b : "(null)");
}

/* Two renders of the same call: both fail alike or give the same text. */
static void same_out(int ra, char *a, int rb, char *b, const char *what, const char *env)
{
	if (ra != rb)
		fail_msg("%s: %s returns %d compiled, %d loaded", env, what, ra, rb);
	if (ra == 0)
		same_str(a, b, what, env);
	nsgsim_free(a);
	nsgsim_free(b);
}

static void save(const nsgsim_policy *p, void **buf, size_t *len)
{
	nsgsim_error err = {0};
	int rc = nsgsim_policy_save_buffer(p, buf, len, &err);
	if (rc != 0)
		fail_msg("save: %d %s", rc, err.message);
}

/* ---- comparing two policies ------------------------------------------------------------ */

static void same_eval(const nsgsim_policy *a, const nsgsim_policy *b, const nsgsim_flow *f,
                      int engine, const char *env)
{
	nsgsim_result ra, rb;
	nsgsim_error ea = {0}, eb = {0};
	int ca = nsgsim_eval_engine(a, f, engine, &ra, &ea);
	int cb = nsgsim_eval_engine(b, f, engine, &rb, &eb);
	if (ca != cb)
		fail_msg("%s: eval returns %d compiled, %d loaded", env, ca, cb);
	if (ca != 0) {
		same_str(ea.message, eb.message, "an eval error", env);
		return;
	}
	char *ja = NULL, *jb = NULL;
	int xa = nsgsim_result_render(a, f, &ra, NSGSIM_FORMAT_JSON, 1, &ja, &ea);
	int xb = nsgsim_result_render(b, f, &rb, NSGSIM_FORMAT_JSON, 1, &jb, &eb);
	same_out(xa, ja, xb, jb, "eval --json --verbose", env);
	xa = nsgsim_result_render(a, f, &ra, NSGSIM_FORMAT_TABLE, 1, &ja, &ea);
	xb = nsgsim_result_render(b, f, &rb, NSGSIM_FORMAT_TABLE, 1, &jb, &eb);
	same_out(xa, ja, xb, jb, "eval --verbose", env);
}

static void same_decision(const nsgsim_decision *x, const nsgsim_decision *y, const char *env)
{
	if (x->status != y->status || x->verdict != y->verdict ||
	    x->decided_layer != y->decided_layer || x->decided_endpoint != y->decided_endpoint ||
	    x->decided_rule.priority != y->decided_rule.priority ||
	    x->decided_rule.access != y->decided_rule.access)
		fail_msg("%s: a batch decision differs", env);
	same_str(x->decided_rule.name, y->decided_rule.name, "a batch decision's rule", env);
	same_str(x->decided_rule.id, y->decided_rule.id, "a batch decision's rule id", env);
}

static char *regions_json(int rc, nsgsim_regions *r)
{
	char *out = NULL;
	if (rc == 0) {
		nsgsim_regions_render(r, NSGSIM_FORMAT_JSON, &out, NULL);
		nsgsim_regions_free(r);
	}
	return out;
}

/* b->m.lines_omitted (a query build): every finding the same but its line,
 * which is 0. */
static void same_findings(const nsgsim_policy *a, const nsgsim_policy *b, const char *env)
{
	nsgsim_findings *fa = NULL, *fb = NULL;
	int ra = nsgsim_lint(a, &fa, NULL), rb = nsgsim_lint(b, &fb, NULL);
	assert_int_equal(ra, rb);
	if (ra != 0)
		return;
	assert_int_equal(nsgsim_findings_count(fa), nsgsim_findings_count(fb));
	for (size_t i = 0; i < nsgsim_findings_count(fa); i++) {
		nsgsim_finding x, y;
		nsgsim_findings_get(fa, i, &x);
		nsgsim_findings_get(fb, i, &y);
		same_str(x.id, y.id, "a finding's id", env);
		same_str(x.resource, y.resource, "a finding's resource", env);
		same_str(x.rule, y.rule, "a finding's rule", env);
		same_str(x.file, y.file, "a finding's file", env);
		same_str(x.pointer, y.pointer, "a finding's pointer", env);
		same_str(x.message, y.message, "a finding's message", env);
		same_str(x.evidence, y.evidence, "a finding's evidence", env);
		assert_int_equal(x.level, y.level);
		assert_int_equal(b->m.lines_omitted ? 0 : x.line, y.line);
	}
	nsgsim_findings_free(fa);
	nsgsim_findings_free(fb);
}

static void same_policy(const nsgsim_policy *a, const nsgsim_policy *b, const char *env, int flows)
{
	char *x = NULL, *y = NULL;
	nsgsim_error e = {0};
	/* What was read. */
	for (int fmt = NSGSIM_SHOW_TEXT; fmt <= NSGSIM_SHOW_JSON; fmt++) {
		int ra = nsgsim_policy_show(a, fmt, &x, &e),
		    rb = nsgsim_policy_show(b, fmt, &y, &e);
		same_out(ra, x, rb, y, fmt ? "show --json" : "show", env);
	}
	nsgsim_stats sa, sb;
	nsgsim_policy_stats(a, &sa);
	nsgsim_policy_stats(b, &sb);
	assert_memory_equal(&sa, &sb, sizeof sa);
	assert_int_equal(nsgsim_policy_note_count(a), nsgsim_policy_note_count(b));
	for (size_t i = 0; i < nsgsim_policy_note_count(a); i++) {
		nsgsim_note na, nb;
		nsgsim_policy_note(a, i, &na);
		nsgsim_policy_note(b, i, &nb);
		assert_int_equal(na.kind, nb.kind);
		same_str(na.message, nb.message, "a note", env);
		same_str(na.file, nb.file, "a note's file", env);
		same_str(na.pointer, nb.pointer, "a note's pointer", env);
		same_str(na.resource, nb.resource, "a note's resource", env);
	}
	for (int kind = NSGSIM_RESOURCE_NIC; kind <= NSGSIM_RESOURCE_MANAGER; kind++) {
		assert_int_equal(nsgsim_policy_resource_count(a, kind),
		                 nsgsim_policy_resource_count(b, kind));
		for (size_t i = 0; i < nsgsim_policy_resource_count(a, kind); i++) {
			nsgsim_resource ra, rb;
			nsgsim_policy_resource(a, kind, i, &ra);
			nsgsim_policy_resource(b, kind, i, &rb);
			same_str(ra.name, rb.name, "a resource's name", env);
			same_str(ra.id, rb.id, "a resource's id", env);
			same_str(ra.file, rb.file, "a resource's file", env);
			same_str(ra.pointer, rb.pointer, "a resource's pointer", env);
		}
	}
	/* Flows. */
	uint64_t seed = 0x9E3779B97F4A7C15ull ^ strlen(env);
	addrs ad = {.n = 0};
	collect_addrs(a, &ad, &seed);
	nsgsim_flow *batch = calloc((size_t)flows, sizeof *batch);
	nsgsim_decision *da = calloc((size_t)flows, sizeof *da),
	                *db = calloc((size_t)flows, sizeof *db);
	assert_true(batch && da && db);
	for (int i = 0; i < flows; i++) {
		batch[i] = random_flow(&ad, &seed);
		same_eval(a, b, &batch[i], i % 2 ? NSGSIM_ENGINE_COMPILED : NSGSIM_ENGINE_LINEAR,
		          env);
	}
	for (int engine = NSGSIM_ENGINE_LINEAR; engine <= NSGSIM_ENGINE_COMPILED; engine++) {
		int ra = nsgsim_eval_batch(a, batch, (size_t)flows, engine, da, &e);
		int rb = nsgsim_eval_batch(b, batch, (size_t)flows, engine, db, &e);
		assert_int_equal(ra, rb);
		for (int i = 0; ra == 0 && i < flows; i++)
			same_decision(&da[i], &db[i], env);
	}
	/* Each NIC: eval_at both ways, effective rules, reach. */
	for (size_t i = 0; i < a->n_nics; i++) {
		const char *nic = a->nics[i].n->id;
		for (int dir = NSGSIM_INBOUND; dir <= NSGSIM_OUTBOUND; dir++) {
			nsgsim_result ra, rb;
			nsgsim_error ea = {0}, eb = {0};
			int ca = nsgsim_eval_at(a, &batch[i % flows], nic, dir, &ra, &ea);
			int cb = nsgsim_eval_at(b, &batch[i % flows], nic, dir, &rb, &eb);
			assert_int_equal(ca, cb);
			if (ca == 0) {
				nsgsim_result_render(a, &batch[i % flows], &ra, NSGSIM_FORMAT_JSON,
				                     1, &x, NULL);
				nsgsim_result_render(b, &batch[i % flows], &rb, NSGSIM_FORMAT_JSON,
				                     1, &y, NULL);
				same_out(0, x, 0, y, "eval --at", env);
			}
		}
		int ra = nsgsim_effective(a, nic, NSGSIM_FORMAT_JSON, &x, &e);
		int rb = nsgsim_effective(b, nic, NSGSIM_FORMAT_JSON, &y, &e);
		same_out(ra, x, rb, y, "effective", env);
		if (i < 6) {
			nsgsim_query q = {.to = nic};
			nsgsim_regions *ga = NULL, *gb = NULL;
			ra = nsgsim_reach(a, &q, &ga, NULL);
			rb = nsgsim_reach(b, &q, &gb, NULL);
			same_out(ra, regions_json(ra, ga), rb, regions_json(rb, gb), "reach", env);
		}
	}
	{
		nsgsim_query q = {.to = NULL, .rules = 1};
		nsgsim_regions *ga = NULL, *gb = NULL;
		int ra = nsgsim_diff(a, b, &q, &ga, NULL), rb = nsgsim_diff(b, a, &q, &gb, NULL);
		same_out(ra, regions_json(ra, ga), rb, regions_json(rb, gb), "diff", env);
		if (ra == 0 && ga)
			assert_true(1);
	}
	same_findings(a, b, env);
	nsgsim_matrix *ma = NULL, *mb = NULL;
	int ra = nsgsim_matrix_build(a, NSGSIM_MATRIX_BY_SUBNET, &ma, NULL);
	int rb = nsgsim_matrix_build(b, NSGSIM_MATRIX_BY_SUBNET, &mb, NULL);
	assert_int_equal(ra, rb);
	if (ra == 0) {
		nsgsim_matrix_render(ma, NSGSIM_FORMAT_JSON, &x, NULL);
		nsgsim_matrix_render(mb, NSGSIM_FORMAT_JSON, &y, NULL);
		same_out(0, x, 0, y, "matrix --json", env);
		nsgsim_matrix_free(ma);
		nsgsim_matrix_free(mb);
	}
	free(batch);
	free(da);
	free(db);
}

/* ---- round trips over the fixtures ------------------------------------------------------- */

/* One input: environment paths, an optional parameters file, tags. */
typedef struct input {
	char env[4][512];
	int n_env;
	char params[512];
	const char *tags;
} input;

static int compile_input(const input *in, int build, nsgsim_policy **out)
{
	nsgsim_error err = {0};
	nsgsim_loader *l = nsgsim_loader_new();
	assert_non_null(l);
	int rc = nsgsim_loader_set_build(l, build);
	if (rc == 0 && in->params[0])
		rc = nsgsim_loader_add_parameters(l, in->params, &err);
	for (int i = 0; rc == 0 && i < in->n_env; i++)
		rc = nsgsim_loader_add_env(l, in->env[i], &err);
	if (rc == 0 && in->tags)
		rc = nsgsim_loader_add_service_tags(l, in->tags, &err);
	if (rc == 0)
		rc = nsgsim_compile(l, out, &err);
	nsgsim_loader_free(l);
	return rc;
}

/* Compiles, saves, loads and compares; 1 when the input loaded. */
/* Under NSGSIM_TEST_QUICK (the sanitizer and valgrind runs) every eighth
 * ARM template and a quarter of the flows: the full run is make test's. */
static bool quick(void)
{
	const char *q = getenv("NSGSIM_TEST_QUICK");
	return q && *q && strcmp(q, "0") != 0;
}

static int round_trip(const input *in, int flows)
{
	if (quick())
		flows = (flows + 3) / 4;
	nsgsim_policy *a = NULL;
	if (compile_input(in, NSGSIM_BUILD_FULL, &a) != 0)
		return 0;
	void *buf, *buf2;
	size_t len, len2;
	save(a, &buf, &len);
	nsgsim_policy *b = NULL;
	nsgsim_error err = {0};
	int rc = nsgsim_policy_load_buffer("rt.nsgp", buf, len, &b, &err);
	if (rc != 0)
		fail_msg("%s: loading its saved policy: %d %s: %s", in->env[0], rc, err.pointer,
		         err.message);
	/* Nothing saved is lost: the loaded policy saves to the same bytes. */
	save(b, &buf2, &len2);
	if (len != len2 || memcmp(buf, buf2, len) != 0)
		fail_msg("%s: the loaded policy saves to other bytes (%zu, %zu)", in->env[0], len,
		         len2);
	same_policy(a, b, in->env[0], flows);
	/* The loader route with the other build answers the same. */
	nsgsim_loader *l = nsgsim_loader_new();
	nsgsim_policy *c = NULL;
	assert_int_equal(nsgsim_loader_set_build(l, NSGSIM_BUILD_MINIMAL), 0);
	assert_int_equal(nsgsim_loader_add_policy_buffer(l, "rt.nsgp", buf, len, &err), 0);
	assert_int_equal(nsgsim_compile(l, &c, &err), 0);
	nsgsim_loader_free(l);
	same_policy(a, c, in->env[0], flows / 4 + 1);
	nsgsim_policy_free(c);
	/* A query build: the same answers, the lines checked but not read, and
	 * no saving what would lose them. */
	l = nsgsim_loader_new();
	assert_int_equal(nsgsim_loader_set_build(l, NSGSIM_BUILD_QUERY), 0);
	assert_int_equal(nsgsim_loader_add_policy_buffer(l, "rt.nsgp", buf, len, &err), 0);
	assert_int_equal(nsgsim_compile(l, &c, &err), 0);
	nsgsim_loader_free(l);
	same_policy(a, c, in->env[0], flows / 4 + 1);
	assert_int_equal(c->m.lines.n, 0);
	assert_int_equal(c->m.lines_omitted, b->m.lines.n > 0);
	if (c->m.lines_omitted) {
		void *nbuf = NULL;
		size_t nlen = 0;
		assert_int_equal(nsgsim_policy_save_buffer(c, &nbuf, &nlen, &err),
		                 NSGSIM_E_INVALID_ARG);
		assert_null(nbuf);
	}
	nsgsim_policy_free(c);
	nsgsim_free(buf);
	nsgsim_free(buf2);
	nsgsim_policy_free(a);
	nsgsim_policy_free(b);
	return 1;
}

/* Every directory named env under root (and, for the flow logs, each
 * environment under it), with and without the trimmed tags. */
static void walk_envs(const char *root, int *loaded, int *tried)
{
	DIR *d = opendir(root);
	if (!d)
		return;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		names = realloc(names, (n + 1) * sizeof *names);
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		char path[512];
		snprintf(path, sizeof path, "%s/%s", root, names[i]);
		if (is_dir(path) && strcmp(names[i], "env") == 0) {
			input in = {.n_env = 1, .tags = TAGS};
			snprintf(in.env[0], sizeof in.env[0], "%s", path);
			(*tried)++;
			if (round_trip(&in, 300) || (in.tags = NULL, round_trip(&in, 300)))
				(*loaded)++;
			if (strstr(path, "flow_logs"))
				walk_envs(path, loaded, tried);
		} else if (is_dir(path) && strcmp(names[i], "invalid") != 0 &&
		           strcmp(names[i], "errors") != 0) {
			walk_envs(path, loaded, tried);
		} else if (is_dir(root) && strstr(root, "flow_logs/env") && is_dir(path)) {
			(void)0;
		}
		free(names[i]);
	}
	free(names);
}

static void test_fixture_envs(void **state)
{
	(void)state;
	int loaded = 0, tried = 0;
	walk_envs("fixtures", &loaded, &tried);
	/* Each flow-log environment is a directory of its own. */
	DIR *d = opendir("fixtures/flow_logs/env");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		input in = {.n_env = 1, .tags = TAGS};
		snprintf(in.env[0], sizeof in.env[0], "fixtures/flow_logs/env/%s", e->d_name);
		tried++;
		loaded += round_trip(&in, 200);
	}
	if (d)
		closedir(d);
	printf("# %d of %d environments under fixtures/ round-tripped\n", loaded, tried);
	assert_true(loaded >= 20);
}

static void test_terraform_plans(void **state)
{
	(void)state;
	const char *dirs[] = {
	        "fixtures/terraform/small/plan.json",     "fixtures/terraform/small/state.json",
	        "fixtures/terraform/hub_spoke/plan.json", "fixtures/terraform/hub_spoke/state.json",
	        "fixtures/terraform/hub_spoke/rest.json", "fixtures/terraform/policy/state.json"};
	int loaded = 0;
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		input in = {.n_env = 1, .tags = TAGS};
		snprintf(in.env[0], sizeof in.env[0], "%s", dirs[i]);
		loaded += round_trip(&in, 300);
	}
	printf("# %d Terraform fixtures round-tripped\n", loaded);
	assert_int_equal(loaded, 6);
}

static void test_arm_templates(void **state)
{
	(void)state;
	DIR *d = opendir("fixtures/arm_quickstart/templates");
	assert_non_null(d);
	struct dirent *e;
	int loaded = 0, tried = 0, seen = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		input in = {.n_env = 1, .tags = "fixtures/arm_quickstart/service_tags_used.json"};
		snprintf(in.env[0], sizeof in.env[0],
		         "fixtures/arm_quickstart/templates/%s/azuredeploy.json", e->d_name);
		if (!is_file(in.env[0]) || (quick() && seen++ % 8 != 0))
			continue;
		snprintf(in.params, sizeof in.params,
		         "fixtures/arm_quickstart/params/%s/azuredeploy.parameters.json",
		         e->d_name);
		if (!is_file(in.params))
			in.params[0] = '\0';
		tried++;
		loaded += round_trip(&in, 60);
	}
	closedir(d);
	printf("# %d of %d ARM quickstart templates round-tripped\n", loaded, tried);
	assert_true(loaded >= (quick() ? 20 : 200));
}

/* ---- damage ------------------------------------------------------------------------------ */

static void *small_file(size_t *len)
{
	input in = {.n_env = 1, .tags = NULL};
	snprintf(in.env[0], sizeof in.env[0], "fixtures/semantics/t10_asg_member_binding/env");
	nsgsim_policy *p = NULL;
	assert_int_equal(compile_input(&in, NSGSIM_BUILD_FULL, &p), 0);
	void *buf;
	save(p, &buf, len);
	nsgsim_policy_free(p);
	return buf;
}

/* The step over a small file's bytes: each byte for make test, every
 * third under NSGSIM_TEST_QUICK (the sanitizer and valgrind runs). */
static size_t stride(void)
{
	return quick() ? 3 : 1;
}

static void expect_damage(const unsigned char *d, size_t len, const char *what)
{
	nsgsim_policy *p = NULL;
	nsgsim_error err = {0};
	int rc = nsgsim_policy_load_buffer("bad.nsgp", d, len, &p, &err);
	if (rc == 0)
		fail_msg("%s: a damaged file was accepted", what);
	assert_null(p);
	if (rc != NSGSIM_E_POLICY_FILE && rc != NSGSIM_E_POLICY_FILE_VERSION)
		fail_msg("%s: code %d (%s), not a policy-file error", what, rc, err.message);
	assert_int_equal(err.code, rc);
	assert_string_equal(err.file, "bad.nsgp");
	assert_true(err.pointer[0] == '/');
	assert_true(strncmp(err.message, "at byte offset ", 15) == 0);
}

static void test_every_truncation(void **state)
{
	(void)state;
	size_t len;
	unsigned char *buf = small_file(&len);
	for (size_t n = 0; n < len; n += stride())
		expect_damage(buf, n, "truncated");
	nsgsim_free(buf);
}

static void test_bit_flips(void **state)
{
	(void)state;
	size_t len;
	unsigned char *buf = small_file(&len);
	unsigned char *c = malloc(len);
	uint64_t seed = 7;
	for (size_t i = 0; i < len; i += i < NS_NSGP_HEADER_SIZE + 64 ? 1 : stride()) {
		/* every bit of the header, and a random bit of every byte */
		int bits = i < NS_NSGP_HEADER_SIZE ? 8 : 1;
		for (int b = 0; b < bits; b++) {
			memcpy(c, buf, len);
			c[i] ^= (unsigned char)(1u << (bits == 8 ? b : (int)(rnd(&seed) % 8)));
			expect_damage(c, len, "bit flip");
		}
	}
	/* A byte more, or two files. */
	unsigned char *two = malloc(2 * len);
	memcpy(two, buf, len);
	memcpy(two + len, buf, len);
	expect_damage(two, len + 1, "a byte more");
	expect_damage(two, 2 * len, "two files");
	free(two);
	free(c);
	nsgsim_free(buf);
}

/* A payload changed under a valid checksum (as a crafted file would be):
 * every byte set to a few values, the header resealed.  Each load is an
 * error or a policy that compiles and answers (the sanitizers watch); no
 * crash. */
static void test_resealed_payload(void **state)
{
	(void)state;
	size_t len;
	unsigned char *buf = small_file(&len);
	unsigned char *c = malloc(len);
	static const unsigned char vals[] = {0x00, 0xFF, 0x01};
	int accepted = 0, refused = 0;
	for (size_t i = NS_NSGP_HEADER_SIZE; i < len; i += stride())
		for (size_t v = 0; v < sizeof vals; v++) {
			if (buf[i] == vals[v])
				continue;
			memcpy(c, buf, len);
			c[i] = vals[v];
			ns_nsgp_reseal(c, len);
			nsgsim_policy *p = NULL;
			nsgsim_error err = {0};
			int rc = nsgsim_policy_load_buffer("bad.nsgp", c, len, &p, &err);
			if (rc == 0) {
				accepted++;
				char *show = NULL;
				assert_int_equal(
				        nsgsim_policy_show(p, NSGSIM_SHOW_JSON, &show, NULL), 0);
				nsgsim_free(show);
				nsgsim_flow f;
				nsgsim_result r;
				assert_int_equal(
				        nsgsim_flow_parse("tcp 10.0.1.4 10.0.2.4:443", &f, NULL),
				        0);
				nsgsim_eval(p, &f, &r, NULL);
				nsgsim_policy_free(p);
			} else {
				refused++;
				assert_true(err.code == rc && err.message[0]);
			}
		}
	printf("# resealed changes: %d refused, %d accepted (a changed name or text)\n", refused,
	       accepted);
	assert_true(refused > 0);
	free(c);
	nsgsim_free(buf);
}

static void test_header_errors(void **state)
{
	(void)state;
	size_t len;
	unsigned char *buf = small_file(&len);
	nsgsim_policy *p = NULL;
	nsgsim_error err = {0};
	/* Another format version. */
	buf[8] = 9;
	assert_int_equal(nsgsim_policy_load_buffer("v.nsgp", buf, len, &p, &err),
	                 NSGSIM_E_POLICY_FILE_VERSION);
	assert_string_equal(err.pointer, "/header/version");
	assert_non_null(strstr(err.message, "format version 9"));
	/* Version 1 (a CRC-32 where 2 has a CRC-32C): the version error, not a
	 * checksum one. */
	buf[8] = 1;
	assert_int_equal(nsgsim_policy_load_buffer("v1.nsgp", buf, len, &p, &err),
	                 NSGSIM_E_POLICY_FILE_VERSION);
	buf[8] = NS_NSGP_VERSION;
	/* Not a policy file at all: JSON. */
	assert_int_equal(nsgsim_policy_load_buffer("x.json", "{}", 2, &p, &err),
	                 NSGSIM_E_POLICY_FILE);
	assert_false(nsgsim_policy_file_detect("{}", 2));
	assert_true(nsgsim_policy_file_detect(buf, len));
	/* A file that cannot be read. */
	assert_int_equal(nsgsim_policy_load("no/such.nsgp", &p, &err), NSGSIM_E_IO);
	/* save + load through files. */
	char path[] = "/tmp/nsgsim_test_nsgp_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(nsgsim_policy_load_buffer("ok.nsgp", buf, len, &p, &err), 0);
	assert_int_equal(nsgsim_policy_save(p, path, &err), 0);
	nsgsim_policy *q = NULL;
	assert_int_equal(nsgsim_policy_load(path, &q, &err), 0);
	same_policy(p, q, path, 100);
	/* A query build from the file keeps the mapping (its strings are read
	 * in place) and answers the same; freeing the policy unmaps it. */
	nsgsim_loader *ql = nsgsim_loader_new();
	nsgsim_policy *qp = NULL;
	assert_int_equal(nsgsim_loader_set_build(ql, NSGSIM_BUILD_QUERY), 0);
	assert_int_equal(nsgsim_loader_add_policy_file(ql, path, &err), 0);
	assert_int_equal(nsgsim_compile(ql, &qp, &err), 0);
	nsgsim_loader_free(ql);
	assert_non_null(qp->m.map);
	same_policy(p, qp, path, 100);
	nsgsim_policy_free(qp);
	/* A loader that holds a mapped file and is never compiled unmaps it
	 * when freed (the sanitizers and valgrind watch for a leak). */
	ql = nsgsim_loader_new();
	assert_int_equal(nsgsim_loader_set_build(ql, NSGSIM_BUILD_QUERY), 0);
	assert_int_equal(nsgsim_loader_add_policy_file(ql, path, &err), 0);
	assert_int_equal(nsgsim_loader_add_policy_file(ql, path, &err), NSGSIM_E_INVALID_ARG);
	nsgsim_loader_free(ql);
	/* An empty file, and a loader that already holds input. */
	FILE *f = fopen(path, "wb");
	fclose(f);
	nsgsim_policy_free(q);
	q = NULL;
	assert_int_equal(nsgsim_policy_load(path, &q, &err), NSGSIM_E_POLICY_FILE);
	unlink(path);
	nsgsim_loader *l = nsgsim_loader_new();
	assert_int_equal(
	        nsgsim_loader_add_env(l, "fixtures/semantics/t10_asg_member_binding/env", &err), 0);
	assert_int_equal(nsgsim_loader_add_policy_buffer(l, "ok.nsgp", buf, len, &err),
	                 NSGSIM_E_INVALID_ARG);
	nsgsim_loader_free(l);
	/* ... nor does a loader that holds a policy file take more input. */
	l = nsgsim_loader_new();
	assert_int_equal(nsgsim_loader_add_policy_buffer(l, "ok.nsgp", buf, len, &err), 0);
	assert_int_equal(
	        nsgsim_loader_add_env(l, "fixtures/semantics/t10_asg_member_binding/env", &err),
	        NSGSIM_E_INVALID_ARG);
	assert_non_null(strstr(err.message, "give it alone"));
	assert_int_equal(nsgsim_loader_add_env_buffer(l, "x.json", "[]", 2, &err),
	                 NSGSIM_E_INVALID_ARG);
	assert_int_equal(nsgsim_loader_add_service_tags(l, TAGS, &err), NSGSIM_E_INVALID_ARG);
	assert_int_equal(nsgsim_loader_set_parameter(l, "a", "b", &err), NSGSIM_E_INVALID_ARG);
	nsgsim_loader_free(l);
	nsgsim_policy_free(p);
	nsgsim_free(buf);
}

/* ---- a focused query load reads, and checks, only what its focus needs ---------- */

static nsgsim_policy *load_focused(const char *path, const char *ip, nsgsim_error *err, int *rc)
{
	char text[80];
	nsgsim_flow one;
	snprintf(text, sizeof text, "tcp 10.9.9.9 %s:1", ip);
	assert_int_equal(nsgsim_flow_parse(text, &one, NULL), 0);
	nsgsim_ip focus = one.dst;
	nsgsim_loader *l = nsgsim_loader_new();
	assert_int_equal(nsgsim_loader_set_build(l, NSGSIM_BUILD_QUERY), 0);
	assert_int_equal(nsgsim_loader_set_focus(l, &focus, 1), 0);
	nsgsim_policy *p = NULL;
	*rc = nsgsim_loader_add_policy_file(l, path, err);
	if (*rc == 0)
		*rc = nsgsim_compile(l, &p, err);
	nsgsim_loader_free(l);
	return p;
}

static void write_file(const char *path, const void *d, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(d, 1, len, f), len);
	fclose(f);
}

/* Section k's start and end, from the file's directory. */
static void section_of(const unsigned char *d, size_t k, size_t *start, size_t *end)
{
	const unsigned char *x = d + NS_NSGP_HEADER_SIZE + 4 + k * 20;
	*start = ns_nsgp_le32(x); /* the files of a test are far below 4 GB */
	*end = *start + ns_nsgp_le32(x + 8);
}

static void test_focused_load_reads_what_it_needs(void **state)
{
	(void)state;
	input in = {.n_env = 1, .tags = TAGS};
	snprintf(in.env[0], sizeof in.env[0], "fixtures/example/env");
	nsgsim_policy *full = NULL;
	assert_int_equal(compile_input(&in, NSGSIM_BUILD_FULL, &full), 0);
	void *buf;
	size_t len;
	save(full, &buf, &len);
	char path[] = "/tmp/nsgsim-test-nsgp-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	write_file(path, buf, len);
	nsgsim_error err = {0};
	int rc;
	nsgsim_policy *p = load_focused(path, "10.1.1.4", &err, &rc);
	assert_int_equal(rc, 0);
	/* One block read (the web tier's NSG), one left in the file. */
	size_t read = SIZE_MAX, unread = SIZE_MAX;
	for (size_t k = 0; k < p->m.rule_blocks.n; k++) {
		const ns_rule_block *b = NS_VEC_AT(&p->m.rule_blocks, ns_rule_block, k);
		const ns_cnsg *cg = ns_map_get(&p->nsg_by_id, b->parent);
		assert_non_null(cg);
		if (cg->in.unbuilt)
			unread = b->section;
		else
			read = b->section;
	}
	assert_true(read != SIZE_MAX && unread != SIZE_MAX);
	nsgsim_flow f;
	assert_int_equal(nsgsim_flow_parse("tcp 93.184.216.34 10.1.1.4:443", &f, NULL), 0);
	nsgsim_result want, got;
	assert_int_equal(nsgsim_eval(full, &f, &want, NULL), 0);
	assert_int_equal(nsgsim_eval(p, &f, &got, NULL), 0);
	assert_int_equal(got.verdict, want.verdict);
	assert_string_equal(got.decided_rule.id, want.decided_rule.id);
	nsgsim_policy_free(p);
	/* A byte changed in the block the focus does not read: the focused load
	 * checks every block's checksum, so it refuses the file as a full load
	 * does. */
	unsigned char *c = malloc(len);
	size_t start, end;
	char where[32];
	memcpy(c, buf, len);
	section_of(c, unread, &start, &end);
	c[(start + end) / 2] ^= 0x20;
	write_file(path, c, len);
	p = load_focused(path, "10.1.1.4", &err, &rc);
	assert_int_equal(rc, NSGSIM_E_POLICY_FILE);
	assert_null(p);
	snprintf(where, sizeof where, "/sections/%zu", unread);
	assert_string_equal(err.pointer, where);
	assert_non_null(strstr(err.message, "CRC-32C"));
	/* ... and so in the input-lines map, which a query build does not decode. */
	memcpy(c, buf, len);
	section_of(c, 1, &start, &end);
	assert_true(end - start > 12);
	c[(start + end) / 2] ^= 0x20;
	write_file(path, c, len);
	p = load_focused(path, "10.1.1.4", &err, &rc);
	assert_int_equal(rc, NSGSIM_E_POLICY_FILE);
	assert_string_equal(err.pointer, "/sections/1");
	/* A crafted one (the change resealed) that breaks the block's strings:
	 * the focused load does not decode that block and answers; a full load
	 * refuses it. */
	memcpy(c, buf, len);
	section_of(c, unread, &start, &end);
	c[start + 12] = 0xFF; /* the block's first string: not UTF-8 */
	ns_nsgp_reseal(c, len);
	write_file(path, c, len);
	p = load_focused(path, "10.1.1.4", &err, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(nsgsim_eval(p, &f, &got, NULL), 0);
	assert_string_equal(got.decided_rule.id, want.decided_rule.id);
	nsgsim_policy_free(p);
	nsgsim_policy *q = NULL;
	assert_int_equal(nsgsim_policy_load(path, &q, &err), NSGSIM_E_POLICY_FILE);
	assert_non_null(strstr(err.message, "malformed UTF-8"));
	/* The same change in the block it reads: refused. */
	memcpy(c, buf, len);
	section_of(c, read, &start, &end);
	c[(start + end) / 2] ^= 0x20;
	write_file(path, c, len);
	p = load_focused(path, "10.1.1.4", &err, &rc);
	assert_int_equal(rc, NSGSIM_E_POLICY_FILE);
	assert_null(p);
	snprintf(where, sizeof where, "/sections/%zu", read);
	assert_string_equal(err.pointer, where);
	unlink(path);
	free(c);
	nsgsim_free(buf);
	nsgsim_policy_free(full);
}

/* What the parsers never let into a model is refused in a file too
 * (tests/regressions/nsgp, found by fuzz_nsgp): a prefix with host bits
 * (its compiled set and the explanation's text disagreed), a string that
 * is not UTF-8 (show --json wrote it back out) and a side of the ASG form
 * without an ASG (its readers take the first).  The files are remade for
 * each format version by tests/regressions/nsgp/make_v3.py. */
static void test_model_invariants(void **state)
{
	(void)state;
	static const struct {
		const char *file, *says;
	} cases[] = {{"tests/regressions/nsgp/prefix_with_host_bits.nsgp", "host bits set"},
	             {"tests/regressions/nsgp/malformed_utf8_string.nsgp", "malformed UTF-8"},
	             {"tests/regressions/nsgp/asg-side-naming-none.nsgp",
	              "a side of application security groups that names none"}};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		nsgsim_policy *p = NULL;
		nsgsim_error err = {0};
		assert_int_equal(nsgsim_policy_load(cases[i].file, &p, &err), NSGSIM_E_POLICY_FILE);
		assert_null(p);
		assert_non_null(strstr(err.message, cases[i].says));
	}
}

/* CRC-32C: the standard check value, and the hardware path (where the CPU
 * has one) equal to the tables at every length and alignment, whole or in
 * pieces. */
static void test_crc32c(void **state)
{
	(void)state;
	assert_int_equal(ns_nsgp_crc32c(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(ns_nsgp_crc32c_sw(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(ns_nsgp_crc32c(0, "", 0), 0);
	unsigned char data[300];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof data; i++) {
		x = x * 1103515245u + 12345u;
		data[i] = (unsigned char)(x >> 16);
	}
	for (size_t off = 0; off < 9; off++)
		for (size_t n = 0; off + n <= sizeof data; n += 7) {
			uint32_t want = ns_nsgp_crc32c_sw(0, data + off, n);
			assert_int_equal(ns_nsgp_crc32c(0, data + off, n), want);
			size_t cut = n / 3;
			assert_int_equal(ns_nsgp_crc32c(ns_nsgp_crc32c(0, data + off, cut),
			                                data + off + cut, n - cut),
			                 want);
		}
	/* Long enough for three streams at once (3 * 4096 bytes and more). */
	size_t big_len = 50000;
	unsigned char *big = malloc(big_len);
	assert_non_null(big);
	for (size_t i = 0; i < big_len; i++) {
		x = x * 1103515245u + 12345u;
		big[i] = (unsigned char)(x >> 16);
	}
	const size_t lens[] = {12287, 12288, 12289, 12295, 12296, 24577, 40001, 49999, 50000};
	for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++)
		for (size_t off = 0; off < 3 && off + lens[k] <= big_len; off++) {
			uint32_t want = ns_nsgp_crc32c_sw(0, big + off, lens[k]);
			assert_int_equal(ns_nsgp_crc32c(0, big + off, lens[k]), want);
			assert_int_equal(ns_nsgp_crc32c(0x12345678u, big + off, lens[k]),
			                 ns_nsgp_crc32c_sw(0x12345678u, big + off, lens[k]));
		}
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_header_errors),
	        cmocka_unit_test(test_every_truncation),
	        cmocka_unit_test(test_bit_flips),
	        cmocka_unit_test(test_resealed_payload),
	        cmocka_unit_test(test_fixture_envs),
	        cmocka_unit_test(test_terraform_plans),
	        cmocka_unit_test(test_arm_templates),
	        cmocka_unit_test(test_crc32c),
	        cmocka_unit_test(test_focused_load_reads_what_it_needs),
	        cmocka_unit_test(test_model_invariants),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
