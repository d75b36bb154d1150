/* nsgsim eval --flows FILE: many flows, one a line, answered in input order.
 *
 * Default output is one line per flow, "verdict<TAB>layer<TAB>rule" ('-'
 * where no rule decided); --json prints the eval --json object of each flow
 * on one line.  Blank lines and '#' comments are skipped.  A line that is not
 * a flow prints "error<TAB>NSGSIM_E_...<TAB>message" and makes the exit
 * status 2; otherwise it is 1 when any flow is denied, else 0.
 *
 * Flows are read in chunks and evaluated with nsgsim_eval_batch, which
 * interleaves and prefetches; --json needs the full trace of each flow and
 * uses nsgsim_eval_engine instead. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define CHUNK              65536
#define PROGRESS_MIN_BYTES (4u << 20) /* inputs smaller than this need no bar */

typedef struct flow_input {
	FILE *f;
	long long total_bytes; /* -1 when unknown (a pipe) */
	long long read_bytes;
	long long lines;
	bool progress;
	double last_draw;
} flow_input;

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void draw_progress(flow_input *in, bool final)
{
	if (!in->progress)
		return;
	double t = now_seconds();
	if (!final && t - in->last_draw < 0.1)
		return;
	in->last_draw = t;
	if (in->total_bytes > 0) {
		int pct = (int)(100.0 * (double)in->read_bytes / (double)in->total_bytes);
		int fill = pct / 4;
		fprintf(stderr, "\r[%-25.*s] %3d%% %lld flows", fill, "#########################",
		        pct, in->lines);
	} else {
		fprintf(stderr, "\r%lld flows", in->lines);
	}
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
}

/* The next line that holds a flow (comments and blanks skipped), without its
 * newline; NULL at the end. */
static char *next_flow_line(flow_input *in, char **buf, size_t *cap)
{
	ssize_t n;
	while ((n = getline(buf, cap, in->f)) >= 0) {
		in->read_bytes += n;
		char *line = *buf;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		line[strcspn(line, "\r\n")] = '\0';
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p)
			return p;
	}
	return NULL;
}

typedef struct batch {
	nsgsim_flow flows[CHUNK];
	nsgsim_decision out[CHUNK];
	/* Per line: -1 a flow (index into flows), else a parse error code. */
	int status[CHUNK];
	char messages[CHUNK][160];
	size_t n_lines, n_flows;
} batch;

static void print_decision(const nsgsim_decision *d)
{
	if (d->status != 0) {
		printf("error\t%s\t%s\n", nsgsim_error_name(d->status), nsgsim_strerror(d->status));
		return;
	}
	printf("%s\t%s\t%s\n", d->verdict == NSGSIM_ALLOW ? "Allow" : "Deny",
	       nsgsim_layer_name(d->decided_layer),
	       d->decided_rule.name ? d->decided_rule.name : "-");
}

/* Reads up to CHUNK flow lines into b; returns the number of lines. */
static size_t read_chunk(flow_input *in, batch *b, char **buf, size_t *cap)
{
	b->n_lines = b->n_flows = 0;
	char *line;
	while (b->n_lines < CHUNK && (line = next_flow_line(in, buf, cap)) != NULL) {
		nsgsim_error err = {0};
		size_t i = b->n_lines++;
		in->lines++;
		if (nsgsim_flow_parse(line, &b->flows[b->n_flows], &err) == 0) {
			b->status[i] = -1;
			b->n_flows++;
		} else {
			b->status[i] = err.code;
			snprintf(b->messages[i], sizeof b->messages[i], "%.150s", err.message);
		}
	}
	return b->n_lines;
}

/* Prints one chunk; returns the worst exit status of its lines. */
static int print_chunk(const nsgsim_policy *p, const batch *b, int engine, bool json)
{
	int worst = 0;
	size_t k = 0;
	for (size_t i = 0; i < b->n_lines; i++) {
		if (b->status[i] != -1) {
			printf("error\t%s\t%s\n", nsgsim_error_name(b->status[i]), b->messages[i]);
			worst = EXIT_USAGE;
			continue;
		}
		const nsgsim_decision *d = &b->out[k];
		const nsgsim_flow *flow = &b->flows[k++];
		if (d->status != 0)
			worst = EXIT_USAGE;
		else if (d->verdict == NSGSIM_DENY && worst == 0)
			worst = 1;
		if (!json || d->status != 0) {
			print_decision(d);
			continue;
		}
		nsgsim_result res;
		nsgsim_error err = {0};
		char *text = NULL;
		if (nsgsim_eval_engine(p, flow, engine, &res, &err) == 0 &&
		    nsgsim_result_render(p, flow, &res, NSGSIM_FORMAT_JSON, 0, &text, &err) == 0)
			fputs(text, stdout); /* one line, newline included */
		else
			printf("error\t%s\t%s\n", nsgsim_error_name(err.code), err.message);
		nsgsim_free(text);
	}
	return worst;
}

static int open_input(const char *path, flow_input *in)
{
	memset(in, 0, sizeof *in);
	in->total_bytes = -1;
	in->f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (!in->f) {
		fprintf(stderr, "nsgsim: error: %s: cannot open: ", path);
		perror(NULL);
		return EXIT_USAGE;
	}
	struct stat st;
	if (fstat(fileno(in->f), &st) == 0 && S_ISREG(st.st_mode))
		in->total_bytes = st.st_size;
	in->progress = isatty(STDERR_FILENO) &&
	               (in->total_bytes < 0 || in->total_bytes >= PROGRESS_MIN_BYTES);
	return 0;
}

int eval_flows_file(const nsgsim_policy *p, const char *path, int engine, bool json)
{
	flow_input in;
	int rc = open_input(path, &in);
	if (rc != 0)
		return rc;
	batch *b = malloc(sizeof *b);
	char *buf = NULL;
	size_t cap = 0;
	int worst = 0;
	if (!b) {
		fprintf(stderr, "nsgsim: error: out of memory\n");
		worst = EXIT_USAGE;
	}
	while (b && read_chunk(&in, b, &buf, &cap) > 0) {
		nsgsim_error err = {0};
		if (nsgsim_eval_batch(p, b->flows, b->n_flows, engine, b->out, &err) != 0) {
			print_error(&err);
			worst = EXIT_USAGE;
			break;
		}
		int w = print_chunk(p, b, engine, json);
		worst = w > worst ? w : worst;
		draw_progress(&in, false);
	}
	draw_progress(&in, true);
	free(buf);
	free(b);
	if (in.f != stdin)
		fclose(in.f);
	return worst;
}
