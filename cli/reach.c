/* nsgsim reach and nsgsim diff: which flows are allowed to a target, and
 * what a change opens or closes, over the public header. */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "nsgsim.h"

#define MAX_PATHS 64

typedef struct set_options {
	const char *before[MAX_PATHS], *after[MAX_PATHS];
	int n_before, n_after;
	options env; /* --env and --service-tags, -q */
	const char *after_tags;
	const char *to, *from, *protocols, *fail_on;
	bool allowed_only, rules, json, saw_after_tags;
} set_options;

/* PATH... after an option: every argument up to the next option. */
static int take_paths(int argc, char **argv, int *i, const char **paths, int *n, const char *opt)
{
	int start = *n;
	while (*i + 1 < argc && argv[*i + 1][0] != '-') {
		if (*n == MAX_PATHS)
			return usage_error("too many paths after %s", opt);
		paths[(*n)++] = argv[++*i];
	}
	return *n > start ? 0 : usage_error("%s needs a PATH", opt);
}

static int take_value(int argc, char **argv, int *i, const char **out)
{
	if (*i + 1 >= argc)
		return usage_error("%s needs a value", argv[*i]);
	*out = argv[++*i];
	return 0;
}

static int parse_one(int argc, char **argv, int *i, set_options *o)
{
	const char *a = argv[*i];
	if (strcmp(a, "--env") == 0)
		return take_paths(argc, argv, i, o->env.envs, &o->env.n_envs, a);
	if (strcmp(a, "--before") == 0)
		return take_paths(argc, argv, i, o->before, &o->n_before, a);
	if (strcmp(a, "--after") == 0)
		return take_paths(argc, argv, i, o->after, &o->n_after, a);
	if (strcmp(a, "--service-tags") == 0)
		return take_value(argc, argv, i, &o->env.tags);
	if (strcmp(a, "--after-service-tags") == 0) {
		o->saw_after_tags = true;
		return take_value(argc, argv, i, &o->after_tags);
	}
	if (strcmp(a, "--to") == 0)
		return take_value(argc, argv, i, &o->to);
	if (strcmp(a, "--from") == 0)
		return take_value(argc, argv, i, &o->from);
	if (strcmp(a, "--protocol") == 0)
		return take_value(argc, argv, i, &o->protocols);
	if (strcmp(a, "--fail-on") == 0)
		return take_value(argc, argv, i, &o->fail_on);
	if (strcmp(a, "--allowed-only") == 0)
		o->allowed_only = true;
	else if (strcmp(a, "--rules") == 0)
		o->rules = true;
	else if (strcmp(a, "--json") == 0)
		o->json = true;
	else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
		o->env.quiet = true;
	else
		return usage_error("unknown option, or an argument where none is taken: %s", a);
	return 0;
}

static int parse_set_options(int argc, char **argv, set_options *o)
{
	memset(o, 0, sizeof *o);
	for (int i = 0; i < argc; i++) {
		int rc = parse_one(argc, argv, &i, o);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* "tcp,udp" in any case. */
static int parse_protocols(const char *text, unsigned *out)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {{"tcp", NSGSIM_PBIT_TCP}, {"udp", NSGSIM_PBIT_UDP}, {"icmp", NSGSIM_PBIT_ICMP},
	             {"esp", NSGSIM_PBIT_ESP}, {"ah", NSGSIM_PBIT_AH},   {"*", NSGSIM_PBITS_ALL},
	             {"all", NSGSIM_PBITS_ALL}};
	*out = 0;
	if (!text)
		return 0;
	char buf[128];
	snprintf(buf, sizeof buf, "%s", text);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		size_t k = 0;
		while (k < sizeof names / sizeof names[0] && strcasecmp(tok, names[k].name) != 0)
			k++;
		if (k == sizeof names / sizeof names[0])
			return usage_error("--protocol: '%s' is not tcp, udp, icmp, esp or ah",
			                   tok);
		*out |= names[k].bit;
	}
	return *out ? 0 : usage_error("--protocol needs a protocol%s", "");
}

static int print_regions(const nsgsim_regions *r, bool json)
{
	char *text = NULL;
	nsgsim_error err = {0};
	if (nsgsim_regions_render(r, json ? NSGSIM_FORMAT_JSON : NSGSIM_FORMAT_TABLE, &text,
	                          &err) != 0) {
		print_error(&err);
		return EXIT_USAGE;
	}
	fputs(text, stdout);
	nsgsim_free(text);
	return 0;
}

int cmd_reach(int argc, char **argv)
{
	set_options o;
	int rc = parse_set_options(argc, argv, &o);
	if (rc != 0)
		return rc;
	if (o.n_before || o.n_after || o.saw_after_tags || o.rules || o.fail_on)
		return usage_error("reach takes --env, not --before/--after/--rules/--fail-on%s",
		                   "");
	if (!o.to)
		return usage_error("reach needs --to TARGET%s", "");
	nsgsim_query q = {o.to, o.from, 0, o.allowed_only, 0};
	if ((rc = parse_protocols(o.protocols, &q.protocols)) != 0)
		return rc;
	nsgsim_policy *p = load_policy(&o.env);
	if (!p)
		return EXIT_USAGE;
	nsgsim_regions *r = NULL;
	nsgsim_error err = {0};
	rc = nsgsim_reach(p, &q, &r, &err);
	if (rc != 0)
		print_error(&err);
	else
		rc = print_regions(r, o.json);
	nsgsim_regions_free(r);
	nsgsim_policy_free(p);
	return rc == 0 ? 0 : EXIT_USAGE;
}

/* The exit status --fail-on asks for: 1 when such a change is there. */
static int fail_status(const char *fail_on, const nsgsim_regions *r)
{
	size_t opened, closed;
	nsgsim_regions_summary(r, &opened, &closed);
	if (!fail_on)
		return 0;
	if (strcmp(fail_on, "opened") == 0)
		return opened > 0;
	if (strcmp(fail_on, "closed") == 0)
		return closed > 0;
	return nsgsim_regions_count(r) > 0; /* any */
}

int cmd_diff(int argc, char **argv)
{
	set_options o;
	int rc = parse_set_options(argc, argv, &o);
	if (rc != 0)
		return rc;
	if (o.env.n_envs || o.allowed_only)
		return usage_error("diff takes --before PATH... --after PATH..., not --env or "
		                   "--allowed-only%s",
		                   "");
	if (!o.n_before || !o.n_after)
		return usage_error("diff needs --before PATH... and --after PATH...%s", "");
	if (o.fail_on && strcmp(o.fail_on, "opened") != 0 && strcmp(o.fail_on, "closed") != 0 &&
	    strcmp(o.fail_on, "any") != 0)
		return usage_error("--fail-on takes opened, closed or any, not '%s'", o.fail_on);
	nsgsim_query q = {o.to, o.from, 0, 0, o.rules};
	if ((rc = parse_protocols(o.protocols, &q.protocols)) != 0)
		return rc;
	options before = o.env, after = o.env;
	memcpy(before.envs, o.before, sizeof o.before);
	before.n_envs = o.n_before;
	memcpy(after.envs, o.after, sizeof o.after);
	after.n_envs = o.n_after;
	if (o.saw_after_tags)
		after.tags = o.after_tags;
	nsgsim_policy *pb = load_policy(&before), *pa = pb ? load_policy(&after) : NULL;
	if (!pa) {
		nsgsim_policy_free(pb);
		return EXIT_USAGE;
	}
	nsgsim_regions *r = NULL;
	nsgsim_error err = {0};
	rc = nsgsim_diff(pb, pa, &q, &r, &err);
	if (rc != 0)
		print_error(&err);
	else if ((rc = print_regions(r, o.json)) == 0)
		rc = fail_status(o.fail_on, r);
	else
		rc = EXIT_USAGE;
	nsgsim_regions_free(r);
	nsgsim_policy_free(pa);
	nsgsim_policy_free(pb);
	return rc < 0 ? EXIT_USAGE : rc;
}
