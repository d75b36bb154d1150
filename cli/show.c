/* nsgsim show: the model nsgsim read, as REST JSON that loads back to the
 * same answers (--json), or a summary of it: the deployment, counts per
 * kind, the notes and what was skipped, with why. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>

#include "cli.h"

int cmd_show(const options *o)
{
	if (o->n_args != 0)
		return usage_error("show takes no arguments besides its options");
	nsgsim_policy *p = load_policy(o, NSGSIM_BUILD_MINIMAL);
	if (!p)
		return EXIT_USAGE;
	nsgsim_error err = {0};
	char *text = NULL;
	int rc = nsgsim_policy_show(p, o->json ? NSGSIM_SHOW_JSON : NSGSIM_SHOW_TEXT, &text, &err);
	if (rc == 0)
		fputs(text, stdout);
	else
		print_error(&err);
	nsgsim_free(text);
	nsgsim_policy_free(p);
	return rc == 0 ? 0 : EXIT_USAGE;
}
