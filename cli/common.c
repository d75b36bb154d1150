/* What the CLI's commands share: the usage text, option parsing, error and
 * note printing, and loading a policy -- all over the public header.  The
 * commands are cli/main.c (effective, eval), cli/check.c, cli/flows.c and
 * cli/snapshot.c. */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

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
        "  reach --env PATH... [--service-tags FILE] --to TARGET [--from SOURCE]\n"
        "        [--protocol P[,P...]] [--allowed-only] [--json]\n"
        "      every flow to TARGET (an IP, CIDR, NIC, subnet or service tag holding a\n"
        "      NIC or subnet of the input), exactly: regions of protocols x sources x\n"
        "      ports with one verdict and deciding rule\n"
        "  diff --before PATH... --after PATH... [--service-tags FILE]\n"
        "       [--after-service-tags FILE] [--to TARGET] [--from SOURCE] [--rules]\n"
        "       [--json] [--fail-on opened|closed|any]\n"
        "      the flows whose verdict a change flips; --fail-on opened exits 1 when any\n"
        "      flow becomes allowed (a pull request's gate)\n"
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

void format_ip(const nsgsim_ip *ip, char *buf, size_t cap)
{
	if (!inet_ntop(ip->family == 4 ? AF_INET : AF_INET6, ip->bytes, buf, (socklen_t)cap))
		snprintf(buf, cap, "?");
}
