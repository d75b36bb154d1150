/* Shared by the CLI's source files: options, loading and error printing
 * over the public header. */
#ifndef NSGSIM_CLI_H
#define NSGSIM_CLI_H

#include <stdbool.h>

#include "nsgsim.h"

#define EXIT_USAGE 2

typedef struct options {
	const char *envs[64];
	int n_envs;
	const char *tags;
	const char *format;
	const char *junit;
	bool quiet, json, verbose;
	const char *at, *direction;
	const char *engine; /* eval: linear | compiled */
	const char *flows;  /* eval --flows FILE ('-' for standard input) */
	const char *args[64];
	int n_args;
} options;

extern const char usage_text[];

/* Prints "nsgsim: <fmt>" and the usage to stderr; returns EXIT_USAGE. */
int usage_error(const char *fmt, const char *arg);
/* Parses the common options; positional arguments go to o->args. */
int parse_options(int argc, char **argv, options *o);
void print_error(const nsgsim_error *err);
void print_notes(const nsgsim_policy *p);
/* Loads --env and --service-tags and compiles; prints the error and returns
 * NULL on failure. */
nsgsim_policy *load_policy(const options *o);

/* nsgsim eval --flows (cli/flows.c); returns the exit status. */
int eval_flows_file(const nsgsim_policy *p, const char *path, int engine, bool json);

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

/* nsgsim check (cli/check.c) */
int cmd_check(int argc, char **argv);

/* nsgsim reach, nsgsim diff (cli/reach.c) */
int cmd_reach(int argc, char **argv);
int cmd_diff(int argc, char **argv);

/* nsgsim snapshot-tags IN OUT (cli/snapshot.c) */
int cmd_snapshot_tags(int argc, char **argv);

#endif
