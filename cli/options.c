/* The command line's options: one table of every option, and for each
 * command the options it takes.  An option a command does not take is
 * refused, never ignored; a value option given twice is refused, never
 * silently replaced; a usage error is one line and a pointer to the
 * command's --help. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* LIST: a value option that may repeat, each value kept in order. */
typedef enum opt_kind { FLAG, VALUE, PATHS, LIST } opt_kind;

typedef struct opt_def {
	int id;
	const char *name, *alias; /* "--verbose", "-v" */
	opt_kind kind;
	size_t field; /* offsetof the bool, the const char *, or (PATHS) the path list */
} opt_def;

#define F(member) offsetof(options, member)

static const opt_def opt_defs[] = {
        {OPT_ENV, "--env", NULL, PATHS, F(env)},
        {OPT_BEFORE, "--before", NULL, PATHS, F(before)},
        {OPT_AFTER, "--after", NULL, PATHS, F(after)},
        {OPT_TAGS, "--service-tags", NULL, VALUE, F(tags)},
        {OPT_AFTER_TAGS, "--after-service-tags", NULL, VALUE, F(after_tags)},
        {OPT_FORMAT, "--format", NULL, VALUE, F(format)},
        {OPT_JUNIT, "--junit", NULL, VALUE, F(junit)},
        {OPT_SARIF, "--sarif", NULL, VALUE, F(sarif)},
        {OPT_AT, "--at", NULL, VALUE, F(at)},
        {OPT_DIRECTION, "--direction", NULL, VALUE, F(direction)},
        {OPT_ENGINE, "--engine", NULL, VALUE, F(engine)},
        {OPT_FLOWS, "--flows", NULL, VALUE, F(flows)},
        {OPT_TO, "--to", NULL, VALUE, F(to)},
        {OPT_FROM, "--from", NULL, VALUE, F(from)},
        {OPT_PROTOCOL, "--protocol", NULL, VALUE, F(protocols)},
        {OPT_FAIL_ON, "--fail-on", NULL, VALUE, F(fail_on)},
        {OPT_ONLY, "--only", NULL, VALUE, F(only)},
        {OPT_SKIP, "--skip", NULL, VALUE, F(skip)},
        {OPT_PARAMETERS, "--parameters", NULL, LIST, F(parameters)},
        {OPT_SUBSCRIPTION, "--subscription", NULL, VALUE, F(subscription)},
        {OPT_RESOURCE_GROUP, "--resource-group", NULL, VALUE, F(resource_group)},
        {OPT_LOCATION, "--location", NULL, VALUE, F(location)},
        {OPT_BY, "--by", NULL, VALUE, F(by)},
        {OPT_HTML, "--html", NULL, VALUE, F(html)},
        {OPT_JOBS, "--jobs", NULL, VALUE, F(jobs)},
        {OPT_JSON, "--json", NULL, FLAG, F(json)},
        {OPT_VERBOSE, "--verbose", "-v", FLAG, F(verbose)},
        {OPT_QUIET, "--quiet", "-q", FLAG, F(quiet)},
        {OPT_ALLOWED_ONLY, "--allowed-only", NULL, FLAG, F(allowed_only)},
        {OPT_RULES, "--rules", NULL, FLAG, F(rules)},
        {OPT_ALLOW_UNASSIGNED, "--allow-unassigned", NULL, FLAG, F(allow_unassigned)},
};

static const char *g_command = NULL; /* for usage_error's "Try" line */

void set_command_name(const char *name)
{
	g_command = name;
}

int usage_error(const char *fmt, ...)
{
	fprintf(stderr, "nsgsim%s%s: ", g_command ? " " : "", g_command ? g_command : "");
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'nsgsim%s%s --help'.\n", g_command ? " " : "",
	        g_command ? g_command : "");
	return EXIT_USAGE;
}

/* "--name" or "--name=value": the option's definition and, after '=', its
 * inline value. */
static const opt_def *find_def(const char *arg, const char **inline_value)
{
	*inline_value = NULL;
	size_t len = strcspn(arg, "=");
	for (size_t i = 0; i < sizeof opt_defs / sizeof opt_defs[0]; i++) {
		const opt_def *d = &opt_defs[i];
		if ((strlen(d->name) == len && strncmp(arg, d->name, len) == 0) ||
		    (d->alias && strcmp(arg, d->alias) == 0)) {
			if (arg[len] == '=')
				*inline_value = arg + len + 1;
			return d;
		}
	}
	return NULL;
}

static int take_paths(const command_spec *cmd, const opt_def *d, int argc, char **argv, int *i,
                      const char *inline_value, path_list *list)
{
	int start = list->n;
	bool greedy = cmd->max_args == 0 && !inline_value;
	if (inline_value) {
		if (list->n == MAX_PATHS)
			return usage_error("too many paths after %s", d->name);
		list->v[list->n++] = inline_value;
	}
	while (*i + 1 < argc && (argv[*i + 1][0] != '-' || argv[*i + 1][1] == '\0')) {
		if (list->n == MAX_PATHS)
			return usage_error("too many paths after %s", d->name);
		list->v[list->n++] = argv[++*i];
		if (!greedy)
			break;
	}
	return list->n > start ? 0 : usage_error("%s needs a PATH", d->name);
}

static int take_option(const command_spec *cmd, const opt_def *d, int argc, char **argv, int *i,
                       const char *inline_value, options *o)
{
	char *field = (char *)o + d->field;
	if (!(cmd->takes & OPT_BIT(d->id)))
		return usage_error("%s is not an option of %s", d->name, cmd->name);
	if (d->kind == PATHS)
		return take_paths(cmd, d, argc, argv, i, inline_value, (path_list *)(void *)field);
	if (d->kind == LIST) {
		path_list *list = (path_list *)(void *)field;
		if (!inline_value && *i + 1 >= argc)
			return usage_error("%s needs a value", d->name);
		if (list->n == MAX_PATHS)
			return usage_error("%s was given more than %d times", d->name, MAX_PATHS);
		list->v[list->n++] = inline_value ? inline_value : argv[++*i];
		return 0;
	}
	if (d->kind == FLAG) {
		if (inline_value)
			return usage_error("%s takes no value", d->name);
		*(bool *)(void *)field = true;
		return 0;
	}
	const char **slot = (const char **)(void *)field;
	if (*slot)
		return usage_error("%s was given twice; give it once", d->name);
	if (!inline_value && *i + 1 >= argc)
		return usage_error("%s needs a value", d->name);
	*slot = inline_value ? inline_value : argv[++*i];
	return 0;
}

bool wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	}
	return false;
}

int parse_command_line(const command_spec *cmd, int argc, char **argv, options *o)
{
	memset(o, 0, sizeof *o);
	bool only_args = false;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *inline_value;
		const opt_def *d = only_args ? NULL : find_def(a, &inline_value);
		if (!only_args && strcmp(a, "--") == 0) {
			only_args = true;
			continue;
		}
		if (d) {
			int rc = take_option(cmd, d, argc, argv, &i, inline_value, o);
			if (rc != 0)
				return rc;
		} else if (!only_args && a[0] == '-' && a[1] != '\0') {
			return usage_error("unknown option %s", a);
		} else if (o->n_args >= cmd->max_args) {
			return cmd->max_args
			               ? usage_error("unexpected argument '%s'", a)
			               : usage_error("takes no argument, but '%s' was given", a);
		} else {
			o->args[o->n_args++] = a;
		}
	}
	return 0;
}
