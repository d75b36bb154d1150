/* Shared by fuzz_eval and fuzz_query: the bundled example policy
 * (fixtures/example/env with the trimmed service tags), built once from the
 * repository root: NSGSIM_FUZZ_ROOT, else the current directory, else three
 * levels above the binary ($(B)/fuzz/fuzz_*). */
#ifndef NSGSIM_FUZZ_EXAMPLE_POLICY_H
#define NSGSIM_FUZZ_EXAMPLE_POLICY_H

#include <libgen.h>

#include "fuzz_common.h"

static nsgsim_policy *fuzz_build_example(const char *root)
{
	char env[4096], tags[4096];
	snprintf(env, sizeof env, "%s/fixtures/example/env", root);
	snprintf(tags, sizeof tags,
	         "%s/fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json", root);
	nsgsim_loader *l = nsgsim_loader_new();
	nsgsim_error err;
	nsgsim_policy *p = NULL;
	int rc = l ? nsgsim_loader_add_env(l, env, &err) : NSGSIM_E_NOMEM;
	if (rc == 0)
		rc = nsgsim_loader_add_service_tags(l, tags, &err);
	if (rc == 0)
		rc = nsgsim_compile(l, &p, &err);
	nsgsim_loader_free(l);
	return rc == 0 ? p : NULL;
}

/* The example policy, or abort() with a message naming the target. */
static nsgsim_policy *fuzz_example_policy(char ***argv, const char *target)
{
	nsgsim_policy *p = NULL;
	const char *root = getenv("NSGSIM_FUZZ_ROOT");
	if (root)
		p = fuzz_build_example(root);
	if (!p)
		p = fuzz_build_example(".");
	if (!p && *argv && (*argv)[0]) {
		char self[4096], up[4200];
		snprintf(self, sizeof self, "%s", (*argv)[0]);
		snprintf(up, sizeof up, "%s/../../..", dirname(self));
		p = fuzz_build_example(up);
	}
	if (!p) {
		fprintf(stderr,
		        "%s: cannot build the example policy; run from the repository root or set "
		        "NSGSIM_FUZZ_ROOT\n",
		        target);
		abort();
	}
	return p;
}

#endif
