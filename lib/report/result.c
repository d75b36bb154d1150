/* nsgsim_result_render: a result as text or JSON.  The eval stage builds
 * the report (the per-rule detail when verbose, the source-port split when
 * the ports disagree: lib/eval/explain.c); lib/report/render.c formats it.
 *
 * May touch: lib/base, eval/eval.h and the report stage. */
#include "report/report.h"

NSGSIM_EXPORT int nsgsim_result_render(const nsgsim_policy *p, const nsgsim_flow *flow,
                                       const nsgsim_result *r, nsgsim_format format, int verbose,
                                       char **out, nsgsim_error *err)
{
	if (!p || !flow || !r || !out)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "",
		               "policy, flow, result and out are required");
	*out = NULL;
	ns_report rep;
	ns_buf b;
	ns_buf_init(&b);
	int rc = ns_report_build(p, flow, r, verbose != 0, &rep);
	if (rc == 0)
		rc = ns_render_report(&rep, format, &b);
	ns_report_free(&rep);
	if (rc == 0 && b.failed)
		rc = NSGSIM_E_NOMEM;
	if (rc != 0) {
		ns_buf_free(&b);
		return ns_fail(err, rc, "", "", "", "%s", nsgsim_strerror(rc));
	}
	*out = b.data;
	return 0;
}
