/* Shared by the CLI's source files: options, loading and error printing
 * over the public header. */
#ifndef NSGSIM_CLI_H
#define NSGSIM_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "nsgsim.h"

#define EXIT_USAGE 2

#define MAX_PATHS 64
#define MAX_ARGS  64

typedef struct path_list {
	const char *v[MAX_PATHS];
	int n;
} path_list;

/* Every option of every command (cli/options.c says which command takes
 * which). */
enum {
	OPT_ENV,
	OPT_BEFORE,
	OPT_AFTER,
	OPT_TAGS,
	OPT_AFTER_TAGS,
	OPT_FORMAT,
	OPT_JUNIT,
	OPT_AT,
	OPT_DIRECTION,
	OPT_ENGINE,
	OPT_FLOWS,
	OPT_TO,
	OPT_FROM,
	OPT_PROTOCOL,
	OPT_FAIL_ON,
	OPT_JSON,
	OPT_VERBOSE,
	OPT_QUIET,
	OPT_ALLOWED_ONLY,
	OPT_RULES,
	OPT_ALLOW_UNASSIGNED,
	OPT_ONLY,
	OPT_SKIP,
	OPT_PARAMETERS,
	OPT_SUBSCRIPTION,
	OPT_RESOURCE_GROUP,
	OPT_LOCATION,
	OPT_SARIF,
	OPT_BY,
	OPT_HTML,
	OPT_JOBS,
	OPT_POLICY,
	OPT_OUTPUT,
	OPT_COUNT
};
/* A command's options as bits of a 64-bit mask. */
#define OPT_BIT(id) (UINT64_C(1) << (id))
_Static_assert(OPT_COUNT <= 64, "the options no longer fit cmd.takes");

typedef struct options {
	path_list env, before, after;
	path_list parameters; /* --parameters FILE | NAME=VALUE, in order */
	const char *subscription, *resource_group, *location;
	const char *tags, *after_tags;
	const char *format, *junit, *sarif;
	const char *at, *direction;
	const char *engine; /* eval: linear | compiled */
	const char *flows;  /* eval --flows FILE ('-' for standard input) */
	const char *jobs;   /* eval --flows, replay: --jobs N */
	const char *to, *from, *protocols, *fail_on;
	const char *only, *skip; /* lint: check ids */
	const char *by, *html;   /* matrix: subnet | nic | asg, the page to write */
	const char *policy;      /* --policy FILE.nsgp instead of --env */
	const char *output;      /* compile -o FILE */
	bool quiet, json, verbose, allowed_only, rules, allow_unassigned;
	const char *args[MAX_ARGS];
	int n_args;
} options;

/* A command: its name, the options it takes, how many positional
 * arguments, its --help text and what runs it. */
typedef struct command_spec {
	const char *name;
	uint64_t takes; /* OPT_BIT()s */
	int max_args;   /* 0: --env PATH... takes every path up to the next option */
	const char *help;
	int (*run)(const options *o);
} command_spec;

extern const char usage_text[];
extern const command_spec commands[];
extern const size_t n_commands;

/* Prints "nsgsim CMD: <message>" and "Try 'nsgsim CMD --help'." to stderr;
 * returns EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void set_command_name(const char *name);
/* Whether --help or -h is among the arguments (before any "--"). */
bool wants_help(int argc, char **argv);
/* Parses a command's options; positional arguments go to o->args. */
int parse_command_line(const command_spec *cmd, int argc, char **argv, options *o);
/* --jobs N (1 when not given) into *jobs; EXIT_USAGE after a usage error. */
int parse_jobs(const options *o, int *jobs);
void print_error(const nsgsim_error *err);
void print_notes(const nsgsim_policy *p);
/* One of names (any case): its index, or -1 after a usage error naming
 * the option and the choices. */
int pick_choice(const char *option, const char *value, const char *const *names, int n);
/* Loads --env and --service-tags and compiles (build: NSGSIM_BUILD_FULL for
 * many evaluations, NSGSIM_BUILD_MINIMAL, no classifiers, for a few: the same
 * answers); prints the error and returns NULL on failure. */
nsgsim_policy *load_policy(const options *o, int build);
/* What a load builds: the build, and a focus (nsgsim_loader_set_focus;
 * n_focus 0: none) for a one-flow question. */
typedef struct load_how {
	int build;
	const nsgsim_ip *focus;
	size_t n_focus;
} load_how;
nsgsim_policy *load_policy_how(const options *o, const load_how *how);
/* The same for a list of environment paths and service tags. */
nsgsim_policy *load_policy_from(const options *o, const path_list *env, const char *tags,
                                int build);

/* A compiled policy file (nsgsim compile) at one->v[0], as load_policy. */
nsgsim_policy *load_compiled(const options *o, const path_list *one, int build);
/* Whether path starts with a compiled policy file's magic bytes. */
bool is_policy_file(const char *path);
/* 95012 -> "95,012" (cli/snapshot.c). */
const char *grouped(unsigned long long v, char *buf, size_t cap);
/* Writes buf to path through a temporary file beside it (mkstemp) and
 * rename(2); 0, or -1 with errno. */
int write_atomically(const char *path, const void *buf, size_t len);

/* nsgsim eval --flows (cli/flows.c); returns the exit status. */
enum { FLOWS_TSV, FLOWS_CSV, FLOWS_JSON };
typedef struct flows_request {
	const char *path;
	int engine, format;
	const char *at; /* --at NIC, with direction */
	int direction;
	int jobs; /* --jobs: threads over blocks of input (1: this one) */
} flows_request;
int eval_flows_file(const nsgsim_policy *p, const flows_request *req);

/* The page of matrix --html before and after the JSON (cli/matrix_html.c). */
extern const char matrix_html_head[], matrix_html_tail[];

/* s as a JSON string (null for NULL). */
void json_string(FILE *f, const char *s);

/* An address as text (inet_ntop's form). */
void format_ip(const nsgsim_ip *ip, char *buf, size_t cap);

/* nsgsim check's assertions about sets of flows (cli/check_sets.c). */
enum { SET_ALLOW_ONLY = 1, SET_DENY_ALL = 2 };
typedef struct set_check set_check;
/* Parses KIND PROTOS SOURCE -> TARGET[:PORTS] (KIND already read); -1 with
 * msg and *bad, the index (0-3) of the token at fault. */
int set_check_parse(int kind, const char *protos, const char *source, const char *arrow,
                    const char *target, set_check **out, char *msg, size_t cap, int *bad);
/* Whether the policy keeps it, with what broke it in got; 0 or the
 * status of nsgsim_reach (got says why). */
int set_check_run(const nsgsim_policy *p, const set_check *c, bool *pass, char *got, size_t cap);
void set_check_free(set_check *c);

/* The commands (cli/main.c, check.c, reach.c, list.c, lint.c, show.c, snapshot.c). */
int cmd_effective(const options *o);
int cmd_eval(const options *o);
int cmd_check(const options *o);
int cmd_reach(const options *o);
int cmd_matrix(const options *o);
int cmd_diff(const options *o);
int cmd_list(const options *o);
int cmd_lint(const options *o);
int cmd_show(const options *o);
int cmd_snapshot_tags(const options *o);
int cmd_compile(const options *o);
int cmd_replay(const options *o); /* cli/replay.c */

#endif
