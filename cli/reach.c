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
	return *out ? 0 : usage_error("--protocol needs a protocol");
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

int cmd_reach(const options *o)
{
	if (!o->to)
		return usage_error("give --to TARGET");
	nsgsim_query q = {o->to, o->from, 0, o->allowed_only, 0};
	int rc = parse_protocols(o->protocols, &q.protocols);
	if (rc != 0)
		return rc;
	nsgsim_policy *p = load_policy(o, NSGSIM_BUILD_QUERY);
	if (!p)
		return EXIT_USAGE;
	nsgsim_regions *r = NULL;
	nsgsim_error err = {0};
	rc = nsgsim_reach(p, &q, &r, &err);
	if (rc != 0)
		print_error(&err);
	else
		rc = print_regions(r, o->json);
	nsgsim_regions_free(r);
	nsgsim_policy_free(p);
	return rc == 0 ? 0 : EXIT_USAGE;
}

enum { FAIL_NEVER = -1, FAIL_OPENED, FAIL_CLOSED, FAIL_ANY };

/* The exit status --fail-on asks for: 1 when such a change is there. */
static int fail_status(int fail_on, const nsgsim_regions *r)
{
	size_t opened, closed;
	nsgsim_regions_summary(r, &opened, &closed);
	switch (fail_on) {
	case FAIL_OPENED:
		return opened > 0;
	case FAIL_CLOSED:
		return closed > 0;
	case FAIL_ANY:
		return nsgsim_regions_count(r) > 0;
	}
	return 0;
}

int cmd_diff(const options *o)
{
	static const char *const fail_names[] = {"opened", "closed", "any"};
	if (!o->before.n || !o->after.n)
		return usage_error("give --before PATH... and --after PATH...");
	int fail_on = FAIL_NEVER;
	if (o->fail_on && (fail_on = pick_choice("--fail-on", o->fail_on, fail_names, 3)) < 0)
		return EXIT_USAGE;
	nsgsim_query q = {o->to, o->from, 0, 0, o->rules};
	int rc = parse_protocols(o->protocols, &q.protocols);
	if (rc != 0)
		return rc;
	const char *after_tags = o->after_tags ? o->after_tags : o->tags;
	nsgsim_policy *pb = load_policy_from(o, &o->before, o->tags, NSGSIM_BUILD_MINIMAL);
	nsgsim_policy *pa =
	        pb ? load_policy_from(o, &o->after, after_tags, NSGSIM_BUILD_MINIMAL) : NULL;
	if (!pa) {
		nsgsim_policy_free(pb);
		return EXIT_USAGE;
	}
	nsgsim_regions *r = NULL;
	nsgsim_error err = {0};
	rc = nsgsim_diff(pb, pa, &q, &r, &err);
	if (rc != 0)
		print_error(&err);
	else if ((rc = print_regions(r, o->json)) == 0)
		rc = fail_status(fail_on, r);
	else
		rc = EXIT_USAGE;
	nsgsim_regions_free(r);
	nsgsim_policy_free(pa);
	nsgsim_policy_free(pb);
	return rc < 0 ? EXIT_USAGE : rc;
}
