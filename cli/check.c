/* nsgsim check: reachability assertions (to be written). */
#include <stdio.h>

#include "cli.h"

int cmd_check(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "nsgsim: check is not available yet\n");
	return EXIT_USAGE;
}
