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
	if (strcmp(argv[1], "reach") == 0)
		return cmd_reach(argc - 2, argv + 2);
	if (strcmp(argv[1], "diff") == 0)
		return cmd_diff(argc - 2, argv + 2);
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
