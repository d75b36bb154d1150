/* nsgsim lint --sarif FILE: SARIF 2.1.0 (OASIS, sarif-v2.1.0-os) as GitHub
 * code scanning takes it: tool.driver with every check as a rule (help text,
 * default level), a result per finding with its ruleId and level, the input
 * file relative to the working directory and the line of the rule's or
 * resource's object (nsgsim_finding.line, recorded by the JSON reader), and
 * the resource id as a logical location.  tests/cli_usage.py validates it
 * against the schema in fixtures/sarif/. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lint_sarif.h"

/* Where the SARIF's tool.driver.informationUri points: the project has no
 * public page yet, so the (optional) property is left out unless a packager
 * defines one -- a made-up address would send readers nowhere. */

typedef struct check_doc {
	const char *id, *level, *short_text, *full_text;
} check_doc;

/* The checks, as `nsgsim lint --help` and the README describe them. */
static const check_doc checks[] = {
        {"shadowed-rule", "warning", "An NSG rule that is never the first match in its NSG",
         "Rules of higher priority in the same NSG and direction match every flow this rule "
         "matches, at every subnet and NIC the NSG is attached to (VirtualNetwork read per "
         "attachment). When they have the other access the finding is an error (the rule's "
         "intent is overridden); otherwise the rule is redundant. Move it before them, or "
         "remove it."},
        {"never-decides", "warning", "A rule (NSG or admin) that decides no flow end to end",
         "In no end-to-end evaluation that reaches its layer, at any endpoint, is this rule "
         "the first match of its layer: every flow it matches is ended first by an earlier "
         "layer (a subnet NSG's Deny before a NIC's Allow, an admin Deny or AlwaysAllow before "
         "the NSGs) or decided by a rule of higher priority, or it matches no address where "
         "it applies. Computed exactly over every flow; the evidence names what ends those "
         "flows first."},
        {"unattached-nsg", "warning", "An NSG attached to no subnet and no network interface",
         "Its rules affect nothing. Attach it where it is meant to apply, or delete it."},
        {"unused-asg", "note", "An application security group that affects nothing",
         "No NSG rule names it, or it has no member ipConfiguration (so the rules that name "
         "it match nothing). Use it or delete it."},
        {"empty-network-group", "warning", "A network group with no members",
         "It has no static members and no Azure Policy in the input, so its security admin "
         "rules apply to no VNet. Add its members, or export its policy definitions."},
        {"no-filtering", "warning", "A subnet or NIC that nothing filters",
         "No NSG on it (or its subnet) and no security admin rule applies: Azure allows every "
         "flow. Attach an NSG."},
        {"broad-always-allow", "error", "An AlwaysAllow admin rule from the Internet or anywhere",
         "Security admin AlwaysAllow ends evaluation before the NSGs, so no NSG can deny what "
         "it opens. Narrow its sources, or make it Allow."},
        {"exposed-port", "warning", "A high-risk port reachable from the Internet",
         "A NIC or subnet is reachable from the Internet service tag on SSH, RDP, SMB, "
         "database or other high-risk ports (computed by reach over every flow); the evidence "
         "gives the allowing rule, every layer's deciding rule and the Internet sources. An "
         "error when an AlwaysAllow admin rule opens it. Restrict the sources or close the "
         "ports."},
        {"open-to-any", "warning", "Ports that every source address reaches",
         "Taken together, the allowing rules leave no IPv4 source out for these ports (the "
         "union of the rules, not one rule's text). Restrict them to the sources that need "
         "them."},
};
#define N_DOCS (sizeof checks / sizeof checks[0])

static int rule_index(const char *id)
{
	for (size_t i = 0; i < N_DOCS; i++)
		if (strcmp(checks[i].id, id) == 0)
			return (int)i;
	return -1;
}

FILE *sarif_open(const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "nsgsim: error: cannot write %s: %s\n", path, strerror(errno));
		return NULL;
	}
	fputs("{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n"
	      "  \"version\": \"2.1.0\",\n  \"runs\": [{\n    \"tool\": {\"driver\": {"
	      "\"name\": \"nsgsim\", \"semanticVersion\": \"" NSGSIM_VERSION_STRING "\", "
	      "\"version\": \"" NSGSIM_VERSION_STRING "\"",
	      f);
#ifdef NSGSIM_INFO_URI
	fputs(",\n      \"informationUri\": ", f);
	json_string(f, NSGSIM_INFO_URI);
#endif
	fputs(",\n      \"rules\": [", f);
	for (size_t i = 0; i < N_DOCS; i++) {
		const check_doc *c = &checks[i];
		fputs(i ? ",\n        {\"id\": " : "\n        {\"id\": ", f);
		json_string(f, c->id);
		fputs(", \"name\": ", f);
		json_string(f, c->id);
		fputs(", \"shortDescription\": {\"text\": ", f);
		json_string(f, c->short_text);
		fputs("}, \"fullDescription\": {\"text\": ", f);
		json_string(f, c->full_text);
		fputs("}, \"help\": {\"text\": ", f);
		json_string(f, c->full_text);
		fprintf(f, "}, \"defaultConfiguration\": {\"level\": \"%s\"}}", c->level);
	}
	fputs("]}},\n    \"columnKind\": \"unicodeCodePoints\",\n    \"results\": [", f);
	return f;
}

/* A path as a relative URI reference: relative to the working directory
 * when it is inside it, percent-encoded beyond RFC 3986's unreserved
 * characters and '/'. */
static void uri_of(FILE *f, const char *path)
{
	char cwd[4096];
	if (path[0] == '/' && getcwd(cwd, sizeof cwd)) {
		size_t n = strlen(cwd);
		if (strncmp(path, cwd, n) == 0 && path[n] == '/')
			path += n + 1;
	}
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	fputc('"', f);
	for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || strchr("-._~/", *c))
			fputc(*c, f);
		else
			fprintf(f, "%%%02X", *c);
	}
	fputc('"', f);
}

void sarif_result(FILE *f, const nsgsim_finding *fd, bool first)
{
	fputs(first ? "\n      {\"ruleId\": " : ",\n      {\"ruleId\": ", f);
	json_string(f, fd->id);
	int k = rule_index(fd->id);
	if (k >= 0)
		fprintf(f, ", \"ruleIndex\": %d", k);
	fprintf(f, ", \"level\": \"%s\", \"message\": {\"text\": ", nsgsim_level_name(fd->level));
	json_string(f, fd->message);
	fputs("},\n       \"locations\": [{", f);
	if (fd->file && fd->file[0]) {
		fputs("\"physicalLocation\": {\"artifactLocation\": {\"uri\": ", f);
		uri_of(f, fd->file);
		fputs("}", f);
		if (fd->line > 0)
			fprintf(f, ", \"region\": {\"startLine\": %d}", fd->line);
		fputs("}, ", f);
	}
	fputs("\"logicalLocations\": [{\"fullyQualifiedName\": ", f);
	json_string(f, fd->rule ? fd->rule : fd->resource);
	fputs(", \"kind\": \"resource\"}]}]", f);
	fputs(",\n       \"properties\": {\"resource\": ", f);
	json_string(f, fd->resource);
	fputs(", \"pointer\": ", f);
	json_string(f, fd->pointer);
	fprintf(f, ", \"evidence\": %s}}", fd->evidence);
}

int sarif_close(FILE *f, const char *path)
{
	fputs("\n    ]\n  }]\n}\n", f);
	bool bad = ferror(f) != 0;
	if (fclose(f) != 0 || bad) {
		fprintf(stderr, "nsgsim: error: cannot write %s\n", path);
		return EXIT_USAGE;
	}
	return 0;
}
