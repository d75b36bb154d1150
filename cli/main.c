/* nsgsim -- the command line over the public header only: the dispatch,
 * and the eval and effective commands.  Exit status: 0 success (or
 * allowed), 1 denied / failed check, 2 an error (usage or input), with the
 * message on stderr. */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "cli.h"
#include "nsgsim.h"

int cmd_effective(const options *o)
{
	static const char *const formats[] = {"json", "table"};
	if (o->n_args != 1)
		return usage_error("give exactly one NIC (name or id)");
	nsgsim_format fmt = isatty(STDOUT_FILENO) ? NSGSIM_FORMAT_TABLE : NSGSIM_FORMAT_JSON;
	if (o->format) {
		int k = pick_choice("--format", o->format, formats, 2);
		if (k < 0)
			return EXIT_USAGE;
		fmt = k == 0 ? NSGSIM_FORMAT_JSON : NSGSIM_FORMAT_TABLE;
	}
	nsgsim_policy *p = load_policy(o, NSGSIM_BUILD_MINIMAL);
	if (!p)
		return EXIT_USAGE;
	nsgsim_error err = {0};
	char *text = NULL;
	int rc = nsgsim_effective(p, o->args[0], fmt, &text, &err);
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
			return usage_error("the flow is too long");
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

/* --engine, --at/--direction and --format, checked before anything loads. */
typedef struct eval_mode {
	int engine, direction, format;
} eval_mode;

static int parse_eval_mode(const options *o, eval_mode *m)
{
	static const char *const engines[] = {"compiled", "linear"};
	static const char *const directions[] = {"inbound", "outbound"};
	static const char *const formats[] = {"tsv", "csv", "json"};
	int k = 0;
	m->engine = NSGSIM_ENGINE_COMPILED;
	m->direction = 0;
	m->format = o->json ? FLOWS_JSON : FLOWS_TSV;
	if (o->engine && (k = pick_choice("--engine", o->engine, engines, 2)) < 0)
		return EXIT_USAGE;
	if (o->engine)
		m->engine = k == 0 ? NSGSIM_ENGINE_COMPILED : NSGSIM_ENGINE_LINEAR;
	if ((o->at == NULL) != (o->direction == NULL))
		return usage_error("--at and --direction go together");
	if (o->direction && (k = pick_choice("--direction", o->direction, directions, 2)) < 0)
		return EXIT_USAGE;
	if (o->direction)
		m->direction = k == 0 ? NSGSIM_INBOUND : NSGSIM_OUTBOUND;
	if (o->format && !o->flows)
		return usage_error(
		        "--format goes with --flows (one flow prints a table, or --json)");
	if (o->format && o->json)
		return usage_error("give --format json or --json, not both");
	if (o->format && (k = pick_choice("--format", o->format, formats, 3)) < 0)
		return EXIT_USAGE;
	if (o->format)
		m->format = k;
	return 0;
}

/* -1 (nothing printed) when the policy's focus does not cover the flow:
 * --at at a NIC whose address the input does not give. */
static int eval_one(const options *o, const nsgsim_policy *p, const nsgsim_flow *flow,
                    const eval_mode *m)
{
	nsgsim_error err = {0};
	nsgsim_result res;
	int rc = o->at ? nsgsim_eval_at_engine(p, flow, o->at, m->direction, m->engine, &res, &err)
	               : nsgsim_eval_engine(p, flow, m->engine, &res, &err);
	if (rc == NSGSIM_E_OUT_OF_FOCUS)
		return -1;
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

int cmd_eval(const options *o)
{
	eval_mode m;
	int rc = parse_eval_mode(o, &m);
	if (rc != 0)
		return rc;
	if (o->flows && (o->n_args != 0 || o->verbose))
		return usage_error("--flows takes no flow arguments and no --verbose");
	if (!o->flows && o->n_args != 3 && o->n_args != 1)
		return usage_error("give a flow, PROTO SRC[:PORT] DST[:PORT], or --flows FILE");
	nsgsim_flow flow = {0};
	if (!o->flows && (rc = flow_from_args(o, &flow)) != 0)
		return rc;
	if (o->jobs && !o->flows)
		return usage_error("--jobs goes with --flows");
	flows_request req = {o->flows, m.engine, m.format, o->at, m.direction, 1};
	if ((rc = parse_jobs(o, &req.jobs)) != 0)
		return rc;
	/* Classifiers pay for themselves over many flows; one flow is answered
	 * sooner by the reference scan (the same answer), unless --engine asks. */
	int build = o->flows || o->engine ? NSGSIM_BUILD_FULL : NSGSIM_BUILD_QUERY;
	/* One flow needs only the NSGs on its two endpoints (lazy compile: the
	 * other NSGs' rules are checked, their sets not built; the same answer,
	 * nsgsim_loader_set_focus). */
	nsgsim_ip ends[2] = {flow.src, flow.dst};
	load_how how = {build, ends, o->flows ? 0 : 2};
	nsgsim_policy *p = load_policy_how(o, &how);
	if (!p)
		return EXIT_USAGE;
	if (o->flows) {
		rc = eval_flows_file(p, &req);
	} else if ((rc = eval_one(o, p, &flow, &m)) < 0) {
		/* --at a NIC with no known address, which the flow's addresses
		 * do not find: compiled whole (its notes were printed once). */
		nsgsim_policy_free(p);
		options quiet = *o;
		quiet.quiet = 1;
		how.n_focus = 0;
		if (!(p = load_policy_how(&quiet, &how)))
			return EXIT_USAGE;
		rc = eval_one(o, p, &flow, &m);
	}
	nsgsim_policy_free(p);
	return rc;
}

static const command_spec *find_command(const char *name)
{
	for (size_t i = 0; i < n_commands; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* nsgsim help [COMMAND] */
static int help(int argc, char **argv)
{
	const command_spec *cmd = argc > 0 ? find_command(argv[0]) : NULL;
	if (argc > 0 && !cmd)
		return usage_error("no command '%s'", argv[0]);
	fputs(cmd ? cmd->help : usage_text, stdout);
	return 0;
}

int main(int argc, char **argv)
{
#ifdef __GLIBC__
	/* Loading frees cJSON's tree of every input file, millions of small
	 * blocks on a large estate; with glibc's fast bins they are merged
	 * later in one malloc_consolidate pass that was a tenth of a one-flow
	 * eval of the 14,000-rule estate.  Without them each free merges at
	 * once: about 12% less CPU there (issue 18), the same elsewhere. */
	mallopt(M_MXFAST, 0);
#endif
	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0)
		return help(argc - 2, argv + 2);
	if (strcmp(name, "--version") == 0)
		name = "version";
	const command_spec *cmd = find_command(name);
	if (!cmd)
		return usage_error("unknown command '%s'", name);
	set_command_name(cmd->name);
	if (wants_help(argc - 2, argv + 2)) {
		fputs(cmd->help, stdout);
		return 0;
	}
	options o;
	int rc = parse_command_line(cmd, argc - 2, argv + 2, &o);
	return rc != 0 ? rc : cmd->run(&o);
}
