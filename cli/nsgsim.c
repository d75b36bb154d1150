/* nsgsim -- the command line: argument parsing and printing over the public
 * header only.  Exit status: 0 success (or allowed), 1 denied / failed
 * check, 2 an error (usage or input), with the message on stderr. */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "nsgsim.h"

const char usage_text[] =
        "usage: nsgsim COMMAND [OPTIONS]\n"
        "\n"
        "commands:\n"
        "  effective --env PATH... [--service-tags FILE] [--format json|table] NIC\n"
        "      the effective security rules of a NIC (name or id), as\n"
        "      `az network nic list-effective-nsg` prints them\n"
        "  eval --env PATH... [--service-tags FILE] [--json] [--verbose]\n"
        "       [--engine linear|compiled] [--at NIC --direction inbound|outbound]\n"
        "       PROTO SRC[:PORT] DST[:PORT]    (or --flows FILE, '-' for stdin)\n"
        "      would this flow be allowed, and why?  PROTO is tcp, udp, icmp, esp or ah;\n"
        "      IPv6 with a port is [2001:db8::1]:443; no source port means every one.\n"
        "      Exit status: 0 allowed, 1 denied, 2 error.  --flows: one flow a line in,\n"
        "      'verdict<TAB>layer<TAB>rule' (or --json objects) out, in input order.\n"
        "  check --env PATH... [--service-tags FILE] [--junit FILE] [-v] ASSERTIONS...\n"
        "      reachability assertions, one a line: \"allow tcp 10.1.1.4 10.1.2.4:1433\"\n"
        "      or \"deny tcp 10.1.1.4 10.2.1.4:22 by AdminRule DenyProdToDev\";\n"
        "      exit 0 all pass, 1 one fails, 2 error (grammar: README, cli/check.c)\n"
        "  snapshot-tags IN OUT\n"
        "      compile a service-tags file into a snapshot that --service-tags loads in a\n"
        "      few milliseconds (OUT is written atomically); rebuild it when nsgsim says so\n"
        "  version\n"
        "\n"
        "common options:\n"
        "  --env PATH           environment JSON: a file, or a directory read recursively\n"
        "                       (repeatable)\n"
        "  --service-tags FILE  Microsoft's service-tags download, the REST list response,\n"
        "                       or a snapshot of either (snapshot-tags)\n"
        "  -q, --quiet          do not print notes (skipped resources, limits, warnings)\n"
        "  --junit FILE         check: also write a JUnit XML report\n"
        "  -v, --verbose        eval: per-rule detail; check: the trace of each failure\n";

int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "nsgsim: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n\n%s", usage_text);
	return EXIT_USAGE;
}

int parse_options(int argc, char **argv, options *o)
{
	memset(o, 0, sizeof *o);
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		bool has_value = i + 1 < argc;
		if (strcmp(a, "--env") == 0 && has_value) {
			if (o->n_envs == (int)(sizeof o->envs / sizeof o->envs[0]))
				return usage_error("too many --env options%s", "");
			o->envs[o->n_envs++] = argv[++i];
		} else if (strcmp(a, "--service-tags") == 0 && has_value) {
			o->tags = argv[++i];
		} else if (strcmp(a, "--format") == 0 && has_value) {
			o->format = argv[++i];
		} else if (strcmp(a, "--engine") == 0 && has_value) {
			o->engine = argv[++i];
		} else if (strcmp(a, "--flows") == 0 && has_value) {
			o->flows = argv[++i];
		} else if (strcmp(a, "--at") == 0 && has_value) {
			o->at = argv[++i];
		} else if (strcmp(a, "--direction") == 0 && has_value) {
			o->direction = argv[++i];
		} else if (strcmp(a, "--junit") == 0 && has_value) {
			o->junit = argv[++i];
		} else if (strcmp(a, "--json") == 0) {
			o->json = true;
		} else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			o->verbose = true;
		} else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			o->quiet = true;
		} else if (a[0] == '-' && a[1] != '\0') {
			return usage_error("unknown option or missing value: %s", a);
		} else if (o->n_args < (int)(sizeof o->args / sizeof o->args[0])) {
			o->args[o->n_args++] = a;
		} else {
			return usage_error("too many arguments%s", "");
		}
	}
	return 0;
}

void print_error(const nsgsim_error *err)
{
	char buf[2600];
	nsgsim_error_format(err, buf, sizeof buf);
	fprintf(stderr, "nsgsim: error: %s\n", buf);
}

void print_notes(const nsgsim_policy *p)
{
	size_t skipped = 0;
	for (size_t i = 0; i < nsgsim_policy_note_count(p); i++) {
		nsgsim_note n;
		nsgsim_policy_note(p, i, &n);
		if (n.kind == NSGSIM_NOTE_SKIPPED) {
			skipped++;
			continue;
		}
		fprintf(stderr, "nsgsim: %s: %s%s%s%s%s%s\n",
		        n.kind == NSGSIM_NOTE_LIMIT ? "limit" : "warning", n.file,
		        n.pointer[0] ? ":" : "", n.pointer, n.resource[0] ? " " : "", n.resource,
		        n.message[0] ? ": " : "");
		fprintf(stderr, "        %s\n", n.message);
	}
	if (skipped)
		fprintf(stderr,
		        "nsgsim: note: %zu resources of types nsgsim does not model were "
		        "skipped\n",
		        skipped);
}

/* Loads and compiles; on error prints it and returns NULL. */
nsgsim_policy *load_policy(const options *o)
{
	if (o->n_envs == 0) {
		usage_error("give at least one --env PATH%s", "");
		return NULL;
	}
	nsgsim_error err = {0};
	nsgsim_policy *p = NULL;
	nsgsim_loader *l = nsgsim_loader_new();
	if (!l) {
		fprintf(stderr, "nsgsim: error: out of memory\n");
		return NULL;
	}
	int rc = 0;
	for (int i = 0; rc == 0 && i < o->n_envs; i++)
		rc = nsgsim_loader_add_env(l, o->envs[i], &err);
	if (rc == 0 && o->tags)
		rc = nsgsim_loader_add_service_tags(l, o->tags, &err);
	if (rc == 0)
		rc = nsgsim_compile(l, &p, &err);
	nsgsim_loader_free(l);
	if (rc != 0) {
		print_error(&err);
		return NULL;
	}
	if (!o->quiet)
		print_notes(p);
	return p;
}

static int cmd_effective(int argc, char **argv)
{
	options o;
	int rc = parse_options(argc, argv, &o);
	if (rc != 0)
		return rc;
	if (o.n_args != 1)
		return usage_error("effective needs exactly one NIC (name or id)%s", "");
	nsgsim_format fmt = isatty(STDOUT_FILENO) ? NSGSIM_FORMAT_TABLE : NSGSIM_FORMAT_JSON;
	if (o.format && strcmp(o.format, "json") == 0)
		fmt = NSGSIM_FORMAT_JSON;
	else if (o.format && strcmp(o.format, "table") == 0)
		fmt = NSGSIM_FORMAT_TABLE;
	else if (o.format)
		return usage_error("--format must be json or table, not '%s'", o.format);
	nsgsim_policy *p = load_policy(&o);
	if (!p)
		return EXIT_USAGE;
	nsgsim_error err = {0};
	char *text = NULL;
	rc = nsgsim_effective(p, o.args[0], fmt, &text, &err);
	if (rc == 0)
		fputs(text, stdout);
	else
		print_error(&err);
	nsgsim_free(text);
	nsgsim_policy_free(p);
	return rc == 0 ? 0 : EXIT_USAGE;
}

/* The positional arguments as one flow text ("tcp 10.0.0.4 10.0.1.5:443"). */
static int flow_from_args(const options *o, nsgsim_flow *flow)
{
	char text[512] = "";
	size_t used = 0;
	for (int i = 0; i < o->n_args; i++) {
		int k = snprintf(text + used, sizeof text - used, "%s%s", i ? " " : "", o->args[i]);
		if (k < 0 || (size_t)k >= sizeof text - used)
			return usage_error("the flow is too long%s", "");
		used += (size_t)k;
	}
	nsgsim_error err = {0};
	if (nsgsim_flow_parse(text, flow, &err) != 0) {
		fprintf(stderr, "nsgsim: error: %s [%s]\n", err.message,
		        nsgsim_error_name(err.code));
		return EXIT_USAGE;
	}
	return 0;
}

static int parse_engine(const char *name, int *engine)
{
	*engine = NSGSIM_ENGINE_COMPILED;
	if (!name || strcmp(name, "compiled") == 0)
		return 0;
	if (strcmp(name, "linear") == 0) {
		*engine = NSGSIM_ENGINE_LINEAR;
		return 0;
	}
	return usage_error("--engine must be linear or compiled, not '%s'", name);
}

static int parse_direction(const options *o, int *direction)
{
	*direction = 0;
	if ((o->at == NULL) != (o->direction == NULL))
		return usage_error("--at and --direction go together%s", "");
	if (o->direction && strcmp(o->direction, "inbound") == 0)
		*direction = NSGSIM_INBOUND;
	else if (o->direction && strcmp(o->direction, "outbound") == 0)
		*direction = NSGSIM_OUTBOUND;
	else if (o->direction)
		return usage_error("--direction must be inbound or outbound, not '%s'",
		                   o->direction);
	return 0;
}

static int eval_one(const options *o, const nsgsim_policy *p, const nsgsim_flow *flow, int engine,
                    int direction)
{
	nsgsim_error err = {0};
	nsgsim_result res;
	int rc = o->at ? nsgsim_eval_at_engine(p, flow, o->at, direction, engine, &res, &err)
	               : nsgsim_eval_engine(p, flow, engine, &res, &err);
	char *text = NULL;
	if (rc == 0)
		rc = nsgsim_result_render(p, flow, &res,
		                          o->json ? NSGSIM_FORMAT_JSON : NSGSIM_FORMAT_TABLE,
		                          o->verbose, &text, &err);
	if (rc == 0)
		fputs(text, stdout);
	else
		print_error(&err);
	nsgsim_free(text);
	if (rc != 0)
		return EXIT_USAGE;
	return res.verdict == NSGSIM_ALLOW ? 0 : 1;
}

static int cmd_eval(int argc, char **argv)
{
	options o;
	int engine, direction;
	int rc = parse_options(argc, argv, &o);
	if (rc == 0)
		rc = parse_engine(o.engine, &engine);
	if (rc == 0)
		rc = parse_direction(&o, &direction);
	if (rc != 0)
		return rc;
	if (o.flows && (o.n_args != 0 || o.at || o.verbose))
		return usage_error("--flows takes no flow arguments, --at or --verbose%s", "");
	if (!o.flows && o.n_args != 3 && o.n_args != 1)
		return usage_error("eval needs PROTO SRC[:PORT] DST[:PORT] or --flows FILE%s", "");
	nsgsim_flow flow;
	if (!o.flows && (rc = flow_from_args(&o, &flow)) != 0)
		return rc;
	nsgsim_policy *p = load_policy(&o);
	if (!p)
		return EXIT_USAGE;
	rc = o.flows ? eval_flows_file(p, o.flows, engine, o.json)
	             : eval_one(&o, p, &flow, engine, direction);
	nsgsim_policy_free(p);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (strcmp(argv[1], "effective") == 0)
		return cmd_effective(argc - 2, argv + 2);
	if (strcmp(argv[1], "eval") == 0)
		return cmd_eval(argc - 2, argv + 2);
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 2, argv + 2);
	if (strcmp(argv[1], "snapshot-tags") == 0)
		return cmd_snapshot_tags(argc - 2, argv + 2);
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("nsgsim %s\n", nsgsim_version());
		return 0;
	}
	return usage_error("unknown command '%s'", argv[1]);
}
