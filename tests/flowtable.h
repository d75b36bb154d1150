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

#endif
