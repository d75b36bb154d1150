/* nsgsim check -- reachability assertions, for CI.
 *
 *     nsgsim check --env PATH... [--service-tags FILE] [--junit FILE] [--json] [-v]
 *                  ASSERTIONS...
 *
 * An assertion file says which flows must be allowed or denied, and
 * optionally which rule must decide:
 *
 *     allow tcp 10.1.1.4 10.1.2.4:1433                  # web may reach db
 *     deny  tcp 10.1.1.4 10.2.1.4:22 by AdminRule DenyProdToDev
 *
 * Grammar.  Tokens are separated by blanks; keywords, layers and rule names
 * compare case-insensitively (Azure's names do); "#" starts a comment
 * anywhere on a line.
 *
 *     file      = { line } ;
 *     line      = [ assertion ] [ "#" { any character } ] newline ;
 *     assertion = expect flow { clause } | setexpect PROTOS SET "->" SET [ ":" PORTS ] ;
 *     setexpect = "allow-only" | "deny-all" ;      (* cli/check_sets.c *)
 *     expect    = "allow" | "deny" ;
 *     flow      = PROTO endpoint endpoint ;        (* as `nsgsim eval`: source, destination *)
 *     endpoint  = ADDRESS [ ":" PORT ] | "[" IPV6 "]" [ ":" PORT ] ;
 *     clause    = "by" layer rule ;                (* each kind of clause at most once *)
 *     layer     = "AdminRule" | "SubnetNsg" | "NicNsg" | "None" ;
 *     rule      = NAME | "-" ;                     (* "-" is "no rule", and only with None *)
 *
 * Sets of flows are asserted with their own keywords, answered exactly by
 * nsgsim_reach: "allow-only tcp 10.1.0.0/16 -> vm-db1-nic:1433" (nothing
 * but TCP to 1433 from 10.1.0.0/16 reaches the NIC) and "deny-all *
 * Internet -> snet-db" (nothing from the Internet reaches the subnet); see
 * cli/check_sets.c.  In allow and deny lines an endpoint is one address: a
 * CIDR, "*", a service tag or an ASG there is rejected with its own
 * message, which points to the set keywords.  Room to grow: every clause
 * starts with its own keyword, so new ones (say "at NIC inbound") sit
 * beside "by" without ambiguity.
 *
 * A missing source port means every source port: the assertion, "by"
 * clause included, must hold for each of them.  nsgsim_eval denies when any
 * source-port range is denied and says when the ranges disagree; only then
 * are the ranges checked one by one, so "deny" too holds only when every
 * source port is denied.
 *
 * Every file is parsed before the environment is loaded and before anything
 * is evaluated, so a syntax error costs nothing and hides nothing.  Exit
 * status: 0 every assertion passed; 1 one failed -- including one that
 * could not be evaluated, since an address that is not modelled is a typo
 * until proven otherwise; 2 a usage, input or syntax error.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "check.h"
#include "cli.h"
#include "nsgsim.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The layer a name in an assertion stands for, or -1. */
static int layer_of(const char *name)
{
	for (int layer = NSGSIM_LAYER_NONE; nsgsim_layer_name(layer); layer++)
		if (strcasecmp(name, nsgsim_layer_name(layer)) == 0)
			return layer;
	return -1;
}

static void out_of_memory(void)
{
	fprintf(stderr, "nsgsim: error: out of memory\n");
}

/* ---- one line, as tokens ------------------------------------------------ */

/* A valid assertion has at most 7 tokens; a longer line is reported at its
 * first token too many, which is always among the first 16. */
#define MAX_TOKENS 16

typedef struct token {
	const char *s;
	int col; /* 1-based byte column, for messages */
} token;

typedef struct cursor {
	const char *file;
	int line;
	token tok[MAX_TOKENS];
	int n, at;
	int end_col; /* just past the last token: where a missing one is reported */
} cursor;

/* Cuts the comment off and splits the rest on blanks, in place. */
static void split_line(char *line, cursor *c)
{
	char *hash = strchr(line, '#');
	if (hash)
		*hash = '\0';
	c->n = c->at = 0;
	c->end_col = 1;
	char *p = line;
	while (c->n < MAX_TOKENS) {
		p += strspn(p, " \t\r\n\v\f");
		if (!*p)
			break;
		size_t len = strcspn(p, " \t\r\n\v\f");
		c->tok[c->n].s = p;
		c->tok[c->n].col = (int)(p - line) + 1;
		c->end_col = c->tok[c->n].col + (int)len;
		c->n++;
		p += len;
		if (*p)
			*p++ = '\0';
	}
}

static int syntax_error(const cursor *c, int col, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "nsgsim: error: %s:%d:%d: ", c->file, c->line, col);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static const token *next(cursor *c)
{
	return c->at < c->n ? &c->tok[c->at++] : NULL;
}

/* The next token, or a "missing ..." error at the end of the line. */
static const token *need(cursor *c, const char *what)
{
	const token *t = next(c);
	if (!t)
		syntax_error(c, c->end_col, "missing %s", what);
	return t;
}

/* ---- the grammar ---------------------------------------------------------- */

static int parse_expect(cursor *c, assertion *a)
{
	const token *t = need(c, "'allow' or 'deny'");
	if (!t)
		return -1;
	if (strcasecmp(t->s, "allow") == 0)
		a->expect = NSGSIM_ALLOW;
	else if (strcasecmp(t->s, "deny") == 0)
		a->expect = NSGSIM_DENY;
	else
		return syntax_error(c, t->col, "expected 'allow' or 'deny', not '%s'", t->s);
	return 0;
}

/* An endpoint that stands for many addresses: a CIDR, "*", or a name (a
 * service tag, an ASG).  A name is told from IPv6 by a letter that is no
 * hex digit, and by having at most the one colon of ":PORT". */
static bool is_address_set(const char *tok)
{
	if (strchr(tok, '/') || tok[0] == '*')
		return true;
	if (!isalpha((unsigned char)tok[0]))
		return false;
	size_t len = strcspn(tok, ":");
	if (tok[len] == ':' && strchr(tok + len + 1, ':'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)tok[i]) && tok[i] != '.')
			return true;
	return false;
}

static bool flow_parses(const char *proto, const char *src, const char *dst)
{
	char text[512];
	nsgsim_flow f;
	int n = snprintf(text, sizeof text, "%s %s %s", proto, src, dst);
	return n > 0 && (size_t)n < sizeof text && nsgsim_flow_parse(text, &f, NULL) == 0;
}

/* Which of the three flow tokens is wrong: the first that no stand-in for
 * the tokens after it can make valid.  What is valid stays the business of
 * nsgsim_flow_parse; nothing of its rules is repeated here. */
static int flow_blame(const token *t)
{
	static const char *const any_src[] = {"127.0.0.1", "::1"};
	static const char *const any_dst[] = {"127.0.0.1", "127.0.0.1:1", "::1", "[::1]:1"};
	bool proto_ok = false, src_ok = false;
	for (size_t i = 0; i < ARRAY_LEN(any_src); i++)
		for (size_t j = 0; j < ARRAY_LEN(any_dst); j++)
			proto_ok = proto_ok || flow_parses(t[0].s, any_src[i], any_dst[j]);
	for (size_t j = 0; j < ARRAY_LEN(any_dst); j++)
		src_ok = src_ok || flow_parses(t[0].s, t[1].s, any_dst[j]);
	return !proto_ok ? 0 : !src_ok ? 1 : 2;
}

static int parse_flow(cursor *c, assertion *a)
{
	static const char *const what[] = {"the protocol (PROTO SRC[:PORT] DST[:PORT])",
	                                   "the source (PROTO SRC[:PORT] DST[:PORT])",
	                                   "the destination (PROTO SRC[:PORT] DST[:PORT])"};
	token t[3];
	for (int i = 0; i < 3; i++) {
		const token *p = need(c, what[i]);
		if (!p)
			return -1;
		t[i] = *p;
	}
	for (int i = 1; i < 3; i++)
		if (is_address_set(t[i].s))
			return syntax_error(
			        c, t[i].col,
			        "'%s': allow and deny take one IP address; for sets of "
			        "addresses write allow-only or deny-all PROTOS SOURCE -> "
			        "TARGET[:PORTS]",
			        t[i].s);
	char text[512];
	nsgsim_error err = {0};
	int len = snprintf(text, sizeof text, "%s %s %s", t[0].s, t[1].s, t[2].s);
	if (len < 0 || (size_t)len >= sizeof text)
		return syntax_error(c, t[0].col, "the flow is too long");
	if (nsgsim_flow_parse(text, &a->flow, &err) != 0)
		return syntax_error(c, t[flow_blame(t)].col, "%s", err.message);
	return 0;
}

static int parse_by(cursor *c, const token *by, assertion *a)
{
	if (a->by)
		return syntax_error(c, by->col, "'by' is given twice");
	const token *l = need(c, "a layer after 'by' (AdminRule, SubnetNsg, NicNsg or None)");
	if (!l)
		return -1;
	int layer = layer_of(l->s);
	if (layer < 0)
		return syntax_error(c, l->col,
		                    "unknown layer '%s' (AdminRule, SubnetNsg, NicNsg or None)",
		                    l->s);
	const token *r = need(c, "a rule name after the layer ('-' for no rule)");
	if (!r)
		return -1;
	bool none = layer == NSGSIM_LAYER_NONE, dash = strcmp(r->s, "-") == 0;
	/* A layer decides only through a rule, and None never has one: a
	 * mismatch could never pass, so it is a mistake in the file. */
	if (none && !dash)
		return syntax_error(c, r->col, "layer None has no rule: write 'by None -'");
	if (!none && dash)
		return syntax_error(c, r->col, "'-' (no rule) goes only with layer None");
	a->by = true;
	a->layer = layer;
	if (!dash && !(a->rule = strdup(r->s))) {
		out_of_memory();
		return -1;
	}
	return 0;
}

static int parse_clauses(cursor *c, assertion *a)
{
	for (const token *t; (t = next(c));) {
		int rc = 0;
		if (strcasecmp(t->s, "by") == 0)
			rc = parse_by(c, t, a);
		else if (strcasecmp(t->s, "unassigned") == 0 && a->unassigned)
			rc = syntax_error(c, t->col, "'unassigned' is given twice");
		else if (strcasecmp(t->s, "unassigned") == 0)
			a->unassigned = true;
		else
			rc = syntax_error(
			        c, t->col,
			        "unexpected '%s' (expected 'by', 'unassigned' or the end of "
			        "the line)",
			        t->s);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* The tokens joined by single blanks: the assertion as reports show it. */
static char *join_tokens(const cursor *c)
{
	size_t len = 1;
	for (int i = 0; i < c->n; i++)
		len += strlen(c->tok[i].s) + 1;
	char *s = malloc(len);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (int i = 0; i < c->n; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, c->tok[i].s);
	}
	return s;
}

static assertion *add_assertion(suite *s)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		assertion *a = realloc(s->a, cap * sizeof *a);
		if (!a)
			return NULL;
		s->a = a;
		s->cap = cap;
	}
	assertion *a = &s->a[s->n];
	memset(a, 0, sizeof *a);
	a->ports_lo = a->ports_hi = -1;
	return a;
}

/* KIND PROTOS SOURCE -> TARGET[:PORTS], KIND read. */
static int parse_set(cursor *c, assertion *a, int kind)
{
	static const char *const what[] = {"the protocols (* or tcp,udp,...)", "the source", "'->'",
	                                   "the target"};
	const token *t[4];
	for (int i = 0; i < 4; i++)
		if (!(t[i] = need(c, what[i])))
			return -1;
	const token *extra = next(c);
	if (extra)
		return syntax_error(c, extra->col, "unexpected '%s' after the target", extra->s);
	char msg[300];
	int bad = 0;
	a->set_kind = kind;
	if (set_check_parse(kind, t[0]->s, t[1]->s, t[2]->s, t[3]->s, &a->set, msg, sizeof msg,
	                    &bad) != 0)
		return syntax_error(c, t[bad]->col, "%s", msg);
	return 0;
}

static int set_kind(const token *t)
{
	return strcasecmp(t->s, "allow-only") == 0 ? SET_ALLOW_ONLY
	       : strcasecmp(t->s, "deny-all") == 0 ? SET_DENY_ALL
	                                           : 0;
}

/* Parses one line; a blank or comment line adds nothing. */
static int parse_line(suite *s, cursor *c, char *line)
{
	split_line(line, c);
	if (c->n == 0)
		return 0;
	assertion *a = add_assertion(s);
	if (!a) {
		out_of_memory();
		return -1;
	}
	int kind = set_kind(&c->tok[0]), rc;
	if (kind) {
		c->at = 1;
		rc = parse_set(c, a, kind);
	} else {
		rc = parse_expect(c, a);
		if (rc == 0)
			rc = parse_flow(c, a);
		if (rc == 0)
			rc = parse_clauses(c, a);
	}
	if (rc == 0 && !(a->text = join_tokens(c))) {
		out_of_memory();
		rc = -1;
	}
	if (rc != 0) {
		free(a->rule);
		set_check_free(a->set);
		return rc;
	}
	a->line = c->line;
	s->n++;
	return 0;
}

/* Parses one file; returns the number of errors (all are reported). */
static int parse_file(suite *s, int file)
{
	const char *path = s->files[file];
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "nsgsim: error: cannot read %s: %s\n", path, strerror(errno));
		return 1;
	}
	cursor c = {.file = path};
	char *line = NULL;
	size_t cap = 0;
	int errors = 0;
	size_t first = s->n;
	while (getline(&line, &cap, f) >= 0) {
		c.line++;
		/* Editors on Windows start UTF-8 files with a byte-order mark. */
		bool bom = c.line == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0;
		if (parse_line(s, &c, line + (bom ? 3 : 0)) != 0)
			errors++;
	}
	if (ferror(f)) {
		fprintf(stderr, "nsgsim: error: cannot read %s: %s\n", path, strerror(errno));
		errors++;
	}
	free(line);
	fclose(f);
	for (size_t i = first; i < s->n; i++)
		s->a[i].file = file;
	if (errors == 0 && s->n == first)
		fprintf(stderr, "nsgsim: warning: %s has no assertions\n", path);
	return errors;
}

/* ---- evaluation and the report -------------------------------------------- */

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Whether one outcome is what the assertion expects. */
static bool holds(const assertion *a, int verdict, int layer, const char *rule)
{
	if (verdict != a->expect)
		return false;
	if (!a->by)
		return true;
	if (layer != a->layer)
		return false;
	if (!a->rule)
		return rule == NULL;
	return rule && strcasecmp(rule, a->rule) == 0;
}

/* The source-port ranges of a flow without a source port; NULL on error,
 * with a->rc and a->err set.  Free with free(). */
static nsgsim_port_outcome *source_port_ranges(const nsgsim_policy *p, assertion *a, size_t *n)
{
	a->rc = nsgsim_eval_source_ports(p, &a->flow, NULL, 0, n, &a->err);
	nsgsim_port_outcome *o = a->rc == 0 ? calloc(*n ? *n : 1, sizeof *o) : NULL;
	if (a->rc == 0 && !o) {
		a->rc = NSGSIM_E_NOMEM;
		snprintf(a->err.message, sizeof a->err.message, "%s", nsgsim_strerror(a->rc));
	}
	if (o && (a->rc = nsgsim_eval_source_ports(p, &a->flow, o, *n, n, &a->err)) != 0) {
		free(o);
		o = NULL;
	}
	return o;
}

/* Without a source port an assertion speaks for every source port.  When
 * nsgsim_eval says they disagree, every range is checked, and the first
 * that breaks the assertion is evaluated again to explain the failure. */
static void check_source_ports(const nsgsim_policy *p, assertion *a)
{
	size_t n = 0;
	nsgsim_port_outcome *o = source_port_ranges(p, a, &n);
	size_t i = 0;
	while (o && i < n && holds(a, o[i].verdict, o[i].decided_layer, o[i].decided_rule.name))
		i++;
	a->pass = o && i == n;
	if (o && i < n) {
		a->evaluated.src_port = o[i].lo;
		a->ports_lo = o[i].lo;
		a->ports_hi = o[i].hi;
		a->rc = nsgsim_eval(p, &a->evaluated, &a->res, &a->err);
	}
	free(o);
}

/* An address inside a subnet that no NIC holds is answered at the subnet
 * alone -- right for a private endpoint, wrong for a typo such as
 * 10.1.2.44: the assertion must say it means that ("unassigned"), or the
 * run --allow-unassigned.  And "unassigned" with every address a NIC's is
 * a stale assertion. */
static void check_unassigned(const nsgsim_policy *p, assertion *a, bool allow_unassigned)
{
	/* The result carries the assumption whenever an address of the flow is
	 * one (set before either side is walked); only then is there one to name. */
	if (!(a->res.assumptions & NSGSIM_ASSUME_UNASSIGNED_ADDRESS) && !a->unassigned)
		return;
	const nsgsim_ip *ips[2] = {&a->flow.src, &a->flow.dst};
	const char *lone = NULL, *subnet = NULL;
	char text[64];
	for (int i = 0; i < 2 && !lone; i++) {
		nsgsim_location loc;
		if (nsgsim_locate(p, ips[i], &loc) == 0 && loc.subnet && !loc.nic) {
			format_ip(ips[i], text, sizeof text);
			lone = text;
			subnet = loc.subnet_name;
		}
	}
	if (lone && !a->unassigned && !allow_unassigned) {
		a->pass = false;
		snprintf(a->unassigned_got, sizeof a->unassigned_got,
		         "%s is held by no NIC, only by subnet %s (unassigned-address): end the "
		         "assertion with 'unassigned' if the subnet is meant, or give "
		         "--allow-unassigned",
		         lone, subnet ? subnet : "?");
	} else if (!lone && a->unassigned) {
		a->pass = false;
		snprintf(a->unassigned_got, sizeof a->unassigned_got,
		         "says 'unassigned', but every address of the flow is a NIC's or outside "
		         "the input");
	}
}

static void evaluate(const nsgsim_policy *p, assertion *a, bool allow_unassigned)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (a->set) {
		a->rc = set_check_run(p, a->set, &a->pass, a->set_got, sizeof a->set_got);
		a->seconds = seconds_since(&t0);
		return;
	}
	a->evaluated = a->flow;
	a->rc = nsgsim_eval(p, &a->flow, &a->res, &a->err);
	const nsgsim_result *r = &a->res;
	if (a->rc == 0 && a->flow.src_port == NSGSIM_PORT_ANY && r->src_port != NSGSIM_PORT_ANY)
		check_source_ports(p, a);
	else
		a->pass =
		        a->rc == 0 && holds(a, r->verdict, r->decided_layer, r->decided_rule.name);
	if (a->rc == 0 && a->pass)
		check_unassigned(p, a, allow_unassigned);
	a->seconds = seconds_since(&t0);
}

/* What a failed assertion got, in the assertion's own words, so that it can
 * be pasted back: "got Allow by SubnetNsg Allow-Web-To-Sql (destination)". */
void describe_got(const assertion *a, char *buf, size_t cap)
{
	if (a->set) {
		snprintf(buf, cap, "%s", a->set_got);
		return;
	}
	if (a->rc != 0) {
		snprintf(buf, cap, "error: %s", a->err.message);
		return;
	}
	if (a->unassigned_got[0]) {
		snprintf(buf, cap, "%s", a->unassigned_got);
		return;
	}
	const nsgsim_result *r = &a->res;
	const char *side = r->decided_endpoint == NSGSIM_ENDPOINT_SOURCE        ? "source"
	                   : r->decided_endpoint == NSGSIM_ENDPOINT_DESTINATION ? "destination"
	                                                                        : NULL;
	/* Without a source port, some source ports may fail and others not. */
	char ports[48] = "";
	if (a->ports_lo >= 0 && a->ports_lo == a->ports_hi)
		snprintf(ports, sizeof ports, "source port %d", a->ports_lo);
	else if (a->ports_lo >= 0)
		snprintf(ports, sizeof ports, "source ports %d-%d", a->ports_lo, a->ports_hi);
	char where[80] = "";
	if (side || ports[0])
		snprintf(where, sizeof where, " (%s%s%s)", side ? side : "",
		         side && ports[0] ? ", " : "", ports);
	snprintf(buf, cap, "got %s by %s %s%s", r->verdict == NSGSIM_ALLOW ? "Allow" : "Deny",
	         nsgsim_layer_name(r->decided_layer),
	         r->decided_rule.name ? r->decided_rule.name : "-", where);
}

/* The trace of a failed evaluation, as `nsgsim eval` prints it; NULL for
 * an assertion that could not be evaluated (its error says it all) or
 * when rendering fails.  Free with free(). */
char *failure_trace(const nsgsim_policy *p, const assertion *a)
{
	char *text = NULL;
	if (a->set || a->rc != 0 ||
	    nsgsim_result_render(p, &a->evaluated, &a->res, NSGSIM_FORMAT_TABLE, 0, &text, NULL) !=
	            0)
		return NULL;
	/* Copied so that every string here is released with free(). */
	char *copy = strdup(text);
	nsgsim_free(text);
	return copy;
}

static void print_indented(const char *text)
{
	while (*text) {
		size_t len = strcspn(text, "\n");
		printf("    %.*s\n", (int)len, text);
		text += len + (text[len] == '\n');
	}
}

static size_t evaluate_all(const nsgsim_policy *p, suite *s)
{
	size_t failed = 0;
	for (size_t i = 0; i < s->n; i++) {
		evaluate(p, &s->a[i], s->allow_unassigned);
		failed += !s->a[i].pass;
	}
	return failed;
}

static void print_text(const nsgsim_policy *p, const suite *s, bool verbose, size_t failed)
{
	for (size_t i = 0; i < s->n; i++) {
		const assertion *a = &s->a[i];
		printf("%s %s:%d  %s", a->pass ? "PASS" : "FAIL", s->files[a->file], a->line,
		       a->text);
		if (a->pass) {
			putchar('\n');
			continue;
		}
		char got[1024];
		describe_got(a, got, sizeof got);
		printf(" : %s\n", got);
		char *trace = verbose ? failure_trace(p, a) : NULL;
		if (trace)
			print_indented(trace);
		free(trace);
	}
	printf("%zu passed, %zu failed\n", s->n - failed, failed);
}

/* ---- the command ----------------------------------------------------------- */

static void free_suite(suite *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->a[i].text);
		free(s->a[i].rule);
		set_check_free(s->a[i].set);
	}
	free(s->a);
}

int cmd_check(const options *o)
{
	if (o->n_args == 0)
		return usage_error("give at least one assertion file");
	suite s = {.allow_unassigned = o->allow_unassigned, .files = o->args, .n_files = o->n_args};
	int errors = 0;
	for (int i = 0; i < s.n_files; i++)
		errors += parse_file(&s, i);
	nsgsim_policy *p = errors ? NULL : load_policy(o, NSGSIM_BUILD_MINIMAL);
	if (!p) {
		free_suite(&s);
		return EXIT_USAGE;
	}
	size_t failed = evaluate_all(p, &s);
	if (o->json)
		print_json(p, &s, failed);
	else
		print_text(p, &s, o->verbose, failed);
	int rc = failed ? 1 : 0;
	if (o->junit && write_junit(o->junit, p, &s, failed) != 0)
		rc = EXIT_USAGE;
	nsgsim_policy_free(p);
	free_suite(&s);
	return rc;
}
