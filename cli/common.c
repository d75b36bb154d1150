/* What the CLI's commands share: error and
 * note printing, choices, and loading a policy -- all over the public
 * header.  Options are cli/options.c, help texts and the command table
 * cli/help.c. */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "cli.h"
#include "nsgsim.h"

int pick_choice(const char *option, const char *value, const char *const *names, int n)
{
	char choices[256] = "";
	size_t used = 0;
	for (int i = 0; i < n; i++) {
		if (strcasecmp(value, names[i]) == 0)
			return i;
		used += (size_t)snprintf(choices + used,
		                         used < sizeof choices ? sizeof choices - used : 0, "%s%s",
		                         i == 0       ? ""
		                         : i + 1 == n ? " or "
		                                      : ", ",
		                         names[i]);
	}
	usage_error("%s takes %s, not '%s'", option, choices, value);
	return -1;
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
		        "nsgsim: note: %zu resources were skipped (of types nsgsim does not "
		        "model, or left out for a reason: `nsgsim show` lists each)\n",
		        skipped);
}

/* An input with no network resource answers every flow "not modelled":
 * say what is wrong instead. */
static int check_holds_network(const nsgsim_policy *p, const path_list *env)
{
	nsgsim_stats st;
	nsgsim_policy_stats(p, &st);
	if (st.vnets || st.subnets || st.nics || st.nsgs || st.asgs || st.route_tables ||
	    st.network_managers)
		return 0;
	fprintf(stderr, "nsgsim: error: no file of");
	for (int i = 0; i < env->n; i++)
		fprintf(stderr, " %s", env->v[i]);
	fprintf(stderr, " holds a network resource nsgsim models (a VNet, subnet, NIC, NSG, ASG, "
	                "route table or network manager); the README's \"What to export\" says "
	                "which az commands print them\n");
	return -1;
}

static nsgsim_policy *load_compiled_how(const options *o, const path_list *one,
                                        const load_how *how);
static nsgsim_policy *load_from_how(const options *o, const path_list *env, const char *tags,
                                    const load_how *how);

nsgsim_policy *load_policy(const options *o, int build)
{
	load_how how = {build, NULL, 0};
	return load_policy_how(o, &how);
}

nsgsim_policy *load_policy_how(const options *o, const load_how *how)
{
	if (o->policy) {
		if (o->env.n || o->tags || o->parameters.n || o->subscription ||
		    o->resource_group || o->location) {
			usage_error(
			        "--policy replaces --env, --service-tags and what they are read "
			        "with (the file holds them); give one or the other");
			return NULL;
		}
		path_list one = {.v = {o->policy}, .n = 1};
		return load_compiled_how(o, &one, how);
	}
	return load_from_how(o, &o->env, o->tags, how);
}

/* A new loader set for how: its build and focus; NULL after printing. */
static nsgsim_loader *open_loader(const load_how *how)
{
	nsgsim_loader *l = nsgsim_loader_new();
	if (!l) {
		fprintf(stderr, "nsgsim: error: out of memory\n");
		return NULL;
	}
	if (nsgsim_loader_set_build(l, how->build) != 0 ||
	    nsgsim_loader_set_focus(l, how->focus, how->n_focus) != 0) {
		fprintf(stderr, "nsgsim: error: out of memory\n");
		nsgsim_loader_free(l);
		return NULL;
	}
	return l;
}

bool is_policy_file(const char *path)
{
	char magic[8];
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	size_t n = fread(magic, 1, sizeof magic, f);
	fclose(f);
	return nsgsim_policy_file_detect(magic, n) != 0;
}

/* The end of both loads: rc is what reading the input gave; on success the
 * loader is compiled.  The loader is freed either way; an error is printed,
 * and the notes unless --quiet. */
static nsgsim_policy *compile_loaded(const options *o, nsgsim_loader *l, int rc, nsgsim_error *err,
                                     const path_list *inputs)
{
	nsgsim_policy *p = NULL;
	if (rc == 0)
		rc = nsgsim_compile(l, &p, err);
	nsgsim_loader_free(l);
	if (rc != 0) {
		print_error(err);
		return NULL;
	}
	if (!o->quiet)
		print_notes(p);
	if (check_holds_network(p, inputs) != 0) {
		nsgsim_policy_free(p);
		return NULL;
	}
	return p;
}

/* A compiled policy file (nsgsim compile), one->v[0]. */
static nsgsim_policy *load_compiled_how(const options *o, const path_list *one, const load_how *how)
{
	nsgsim_error err = {0};
	nsgsim_loader *l = open_loader(how);
	if (!l)
		return NULL;
	int rc = nsgsim_loader_add_policy_file(l, one->v[0], &err);
	return compile_loaded(o, l, rc, &err, one);
}

nsgsim_policy *load_compiled(const options *o, const path_list *one, int build)
{
	load_how how = {build, NULL, 0};
	return load_compiled_how(o, one, &how);
}

/* NAME=VALUE, or a parameters file (FILE or @FILE, as az takes it): a value
 * with '=' before any '/' that is not an existing file is a pair. */
static int add_parameters(nsgsim_loader *l, const char *arg, nsgsim_error *err)
{
	if (arg[0] == '@')
		return nsgsim_loader_add_parameters(l, arg + 1, err);
	const char *eq = strchr(arg, '=');
	const char *slash = strchr(arg, '/');
	if (!eq || (slash && slash < eq) || access(arg, F_OK) == 0)
		return nsgsim_loader_add_parameters(l, arg, err);
	char name[256];
	if ((size_t)(eq - arg) >= sizeof name)
		return nsgsim_loader_set_parameter(l, "", eq + 1, err);
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = '\0';
	return nsgsim_loader_set_parameter(l, name, eq + 1, err);
}

/* --subscription, --resource-group, --location and --parameters. */
static int set_iac_inputs(const options *o, nsgsim_loader *l, nsgsim_error *err)
{
	if (nsgsim_loader_set_deployment(l, o->subscription, o->resource_group, o->location) != 0) {
		err->code = NSGSIM_E_INVALID_ARG;
		snprintf(err->message, sizeof err->message,
		         "--subscription takes a subscription GUID (8-4-4-4-12 hex digits), "
		         "--resource-group and --location a non-empty name");
		return err->code;
	}
	for (int i = 0; i < o->parameters.n; i++) {
		int rc = add_parameters(l, o->parameters.v[i], err);
		if (rc != 0)
			return rc;
	}
	return 0;
}

nsgsim_policy *load_policy_from(const options *o, const path_list *env, const char *tags, int build)
{
	load_how how = {build, NULL, 0};
	return load_from_how(o, env, tags, &how);
}

/* Loads and compiles; on error prints it and returns NULL. */
static nsgsim_policy *load_from_how(const options *o, const path_list *env, const char *tags,
                                    const load_how *how)
{
	if (env->n == 0) {
		usage_error("give at least one --env PATH");
		return NULL;
	}
	/* A compiled policy file given where the input goes (diff --before/--after,
	 * replay --after, --env): told apart by its magic bytes. */
	if (env->n == 1 && is_policy_file(env->v[0])) {
		if (tags || o->parameters.n || o->subscription || o->resource_group ||
		    o->location) {
			usage_error(
			        "%s is a compiled policy file: it holds its service tags and "
			        "template inputs; give it without --service-tags, --parameters, "
			        "--subscription, --resource-group or --location",
			        env->v[0]);
			return NULL;
		}
		return load_compiled_how(o, env, how);
	}
	nsgsim_error err = {0};
	nsgsim_loader *l = open_loader(how);
	if (!l)
		return NULL;
	int rc = set_iac_inputs(o, l, &err);
	for (int i = 0; rc == 0 && i < env->n; i++)
		rc = nsgsim_loader_add_env(l, env->v[i], &err);
	if (rc == 0 && tags)
		rc = nsgsim_loader_add_service_tags(l, tags, &err);
	return compile_loaded(o, l, rc, &err, env);
}

void format_ip(const nsgsim_ip *ip, char *buf, size_t cap)
{
	if (!inet_ntop(ip->family == 4 ? AF_INET : AF_INET6, ip->bytes, buf, (socklen_t)cap))
		snprintf(buf, cap, "?");
}

void json_string(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\')
			fprintf(f, "\\%c", *c);
		else if (*c < 0x20)
			fprintf(f, "\\u%04x", *c);
		else
			fputc(*c, f);
	}
	fputc('"', f);
}
