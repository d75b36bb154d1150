/* Reading a fixture's flow table (fixtures/NAME/flows.txt), shared by the C
 * tests.  One flow a line, '#' starts a comment:
 *
 *   PROTO SRC[:PORT] DST[:PORT] VERDICT LAYER RULE ENDPOINT [| at=NIC direction=D]
 *
 * VERDICT Allow|Deny; LAYER AdminRule|SubnetNsg|NicNsg|None; RULE the
 * deciding rule's name or '-'; ENDPOINT source|destination|-. */
#ifndef NSGSIM_TEST_FLOWTABLE_H
#define NSGSIM_TEST_FLOWTABLE_H

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "nsgsim.h"

typedef struct flow_row {
	int line;
	char flow[256];
	char verdict[16], layer[16], rule[128], endpoint[16];
	char at[128], direction[16];
} flow_row;

/* Parses one line; returns 1 for a row, 0 for a blank/comment line, -1 for
 * a malformed line. */
static inline int flow_row_parse(const char *line, int lineno, flow_row *r)
{
	char buf[1024];
	snprintf(buf, sizeof buf, "%s", line);
	char *hash = strchr(buf, '#');
	if (hash)
		*hash = '\0';
	memset(r, 0, sizeof *r);
	r->line = lineno;
	char *opts = strchr(buf, '|');
	if (opts) {
		*opts++ = '\0';
		char *save = NULL;
		for (char *t = strtok_r(opts, " \t\r\n", &save); t;
		     t = strtok_r(NULL, " \t\r\n", &save)) {
			if (strncmp(t, "at=", 3) == 0)
				snprintf(r->at, sizeof r->at, "%s", t + 3);
			else if (strncmp(t, "direction=", 10) == 0)
				snprintf(r->direction, sizeof r->direction, "%s", t + 10);
			else
				return -1;
		}
	}
	char *tok[8];
	int n = 0;
	char *save = NULL;
	for (char *t = strtok_r(buf, " \t\r\n", &save); t && n < 8;
	     t = strtok_r(NULL, " \t\r\n", &save))
		tok[n++] = t;
	if (n == 0)
		return 0;
	if (n != 7)
		return -1;
	snprintf(r->flow, sizeof r->flow, "%s %s %s", tok[0], tok[1], tok[2]);
	snprintf(r->verdict, sizeof r->verdict, "%s", tok[3]);
	snprintf(r->layer, sizeof r->layer, "%s", tok[4]);
	snprintf(r->rule, sizeof r->rule, "%s", tok[5]);
	snprintf(r->endpoint, sizeof r->endpoint, "%s", tok[6]);
	return 1;
}

static inline const char *flow_endpoint_name(int e)
{
	return e == NSGSIM_ENDPOINT_SOURCE        ? "source"
	       : e == NSGSIM_ENDPOINT_DESTINATION ? "destination"
	                                          : "-";
}

/* Evaluates one row; returns 1 when it matches its expectation. */
static inline int flow_row_check(const nsgsim_policy *p, const char *file, const flow_row *row)
{
	nsgsim_flow flow;
	nsgsim_error err = {0};
	nsgsim_result res;
	int rc = nsgsim_flow_parse(row->flow, &flow, &err);
	if (rc == 0 && row->at[0]) {
		int dir = strcmp(row->direction, "inbound") == 0 ? NSGSIM_INBOUND : NSGSIM_OUTBOUND;
		rc = nsgsim_eval_at(p, &flow, row->at, dir, &res, &err);
	} else if (rc == 0) {
		rc = nsgsim_eval(p, &flow, &res, &err);
	}
	if (rc != 0) {
		fprintf(stderr, "%s:%d: %s: error %s: %s\n", file, row->line, row->flow,
		        nsgsim_error_name(rc), err.message);
		return 0;
	}
	const char *verdict = res.verdict == NSGSIM_ALLOW ? "Allow" : "Deny";
	const char *rule = res.decided_rule.name ? res.decided_rule.name : "-";
	const char *endpoint = flow_endpoint_name(res.decided_endpoint);
	if (strcmp(verdict, row->verdict) == 0 &&
	    strcmp(nsgsim_layer_name(res.decided_layer), row->layer) == 0 &&
	    strcasecmp(rule, row->rule) == 0 && strcmp(endpoint, row->endpoint) == 0)
		return 1;
	fprintf(stderr, "%s:%d: %s: expected %s %s %s %s, got %s %s %s %s\n", file, row->line,
	        row->flow, row->verdict, row->layer, row->rule, row->endpoint, verdict,
	        nsgsim_layer_name(res.decided_layer), rule, endpoint);
	return 0;
}

#endif
