/* nsgsim list KIND: the NICs, subnets, NSGs, ASGs or network managers of
 * the input, so that a user finds the names --at, effective and reach
 * take. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *const kind_names[] = {"nics", "subnets", "nsgs", "asgs", "managers"};
static const int kinds[] = {NSGSIM_RESOURCE_NIC, NSGSIM_RESOURCE_SUBNET, NSGSIM_RESOURCE_NSG,
                            NSGSIM_RESOURCE_ASG, NSGSIM_RESOURCE_MANAGER};

static void print_json(const nsgsim_policy *p, int kind)
{
	size_t n = nsgsim_policy_resource_count(p, kind);
	fputs("[", stdout);
	for (size_t i = 0; i < n; i++) {
		nsgsim_resource r;
		nsgsim_policy_resource(p, kind, i, &r);
		fputs(i ? ",\n {\"name\": " : "{\"name\": ", stdout);
		json_string(stdout, r.name);
		fputs(", \"id\": ", stdout);
		json_string(stdout, r.id);
		fputs(", \"file\": ", stdout);
		json_string(stdout, r.file);
		fputs(", \"pointer\": ", stdout);
		json_string(stdout, r.pointer);
		fputs("}", stdout);
	}
	fputs("]\n", stdout);
}

static void print_table(const nsgsim_policy *p, int kind)
{
	size_t n = nsgsim_policy_resource_count(p, kind);
	int width = 4;
	for (size_t i = 0; i < n; i++) {
		nsgsim_resource r;
		nsgsim_policy_resource(p, kind, i, &r);
		int len = (int)strlen(r.name);
		width = len > width && len < 60 ? len : width;
	}
	printf("%-*s  %s\n", width, "NAME", "ID");
	for (size_t i = 0; i < n; i++) {
		nsgsim_resource r;
		nsgsim_policy_resource(p, kind, i, &r);
		printf("%-*s  %s\n", width, r.name, r.id);
	}
}

int cmd_list(const options *o)
{
	if (o->n_args != 1)
		return usage_error("give what to list: nics, subnets, nsgs, asgs or managers");
	int k = pick_choice("list", o->args[0], kind_names, 5);
	if (k < 0)
		return EXIT_USAGE;
	nsgsim_policy *p = load_policy(o, NSGSIM_BUILD_MINIMAL);
	if (!p)
		return EXIT_USAGE;
	if (o->json)
		print_json(p, kinds[k]);
	else
		print_table(p, kinds[k]);
	nsgsim_policy_free(p);
	return 0;
}
