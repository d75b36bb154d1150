/* `nsgsim show` (nsgsim_policy_show): the model back as REST JSON
 * (lib/report/show.c) or a text summary (lib/report/show_text.c).
 *
 * May touch: lib/base, the compiled policy. */
#ifndef NSGSIM_SHOW_H
#define NSGSIM_SHOW_H

#include "compile/policy.h"

void ns_show_json(const nsgsim_policy *p, ns_buf *b);
void ns_show_text(const nsgsim_policy *p, ns_buf *b);

#endif
