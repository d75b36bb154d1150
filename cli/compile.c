/* nsgsim compile --env PATH... [--service-tags FILE] -o FILE.nsgp: compiles
 * the input once into a compiled policy file (include/nsgsim.h,
 * nsgsim_policy_save) that every command loads with --policy.  The file is
 * written atomically, as snapshot-tags writes (cli/snapshot.c). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nsgsim.h"

int cmd_compile(const options *o)
{
	if (!o->output)
		return usage_error("give -o FILE, the compiled policy file to write");
	nsgsim_policy *p = load_policy(o, NSGSIM_BUILD_MINIMAL);
	if (!p)
		return EXIT_USAGE;
	nsgsim_error err = {0};
	void *buf = NULL;
	size_t len = 0;
	int rc = nsgsim_policy_save_buffer(p, &buf, &len, &err);
	if (rc != 0) {
		print_error(&err);
	} else if (write_atomically(o->output, buf, len) != 0) {
		fprintf(stderr, "nsgsim: error: %s: cannot write: %s\n", o->output,
		        strerror(errno));
		rc = -1;
	} else if (!o->quiet) {
		nsgsim_stats st;
		nsgsim_policy_stats(p, &st);
		char a[32], b[32];
		fprintf(stderr, "wrote %s: %s NSG rules, %s bytes\n", o->output,
		        grouped(st.nsg_rules, a, sizeof a), grouped(len, b, sizeof b));
	}
	nsgsim_free(buf);
	nsgsim_policy_free(p);
	return rc == 0 ? 0 : EXIT_USAGE;
}
