/* The report stage: formatting what the stages below computed -- a result
 * (lib/report/render.c), a NIC's effective rules (lib/report/effective.c)
 * -- as JSON and text.  Report code formats and never evaluates: whatever
 * it prints is in the report or the policy it is given.
 *
 * May touch: lib/base, the compiled policy, compile/azure.h (names of the
 * computed tags) and eval/eval.h (the reports it formats). */
#ifndef NSGSIM_REPORT_H
#define NSGSIM_REPORT_H

#include "eval/eval.h"

/* Appends a report's JSON object or text explanation to b; the status of
 * a part that could not be computed (the source-port split), else 0. */
int ns_render_report(const ns_report *rep, nsgsim_format format, ns_buf *b);

/* lib/report/names.c: how the JSON and the tables spell things. */
const char *ns_access_text(int access);
/* "Tcp", "Udp", "Icmp", "Esp", "Ah", or "All" for any (effective rules). */
const char *ns_protocol_text(int proto);
/* The same, NULL for any. */
const char *ns_protocol_name(int proto);

#endif
