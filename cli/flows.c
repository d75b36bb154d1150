/* nsgsim eval --flows FILE: many flows, one a line, answered in input order.
 *
 * Every answer starts with its input line's number and the flow as written
 * (blank and '#' comment lines are numbered but print nothing), so output
 * lines up with input however many lines a flow takes:
 *   tsv (default)  line<TAB>flow<TAB>verdict<TAB>layer<TAB>rule<TAB>endpoint<TAB>sourcePorts
 *                  <TAB>assumptions (their keys, comma-separated, or '-')
 *   csv            the same columns, RFC 4180, with a header line
 *   json           the eval --json object with "line" and "input" first, one a line
 * A flow without a source port whose answer differs between source ports
 * prints one line per range (tsv, csv; json lists them in "sourcePorts"),
 * as single eval does.  A line that is not a flow prints verdict "error",
 * the code as the layer and the message as the rule, and makes the exit
 * status 2; otherwise it is 1 when any flow (or range) is denied, else 0.
 *
 * Flows are read in chunks and evaluated with nsgsim_eval_batch, which
 * interleaves and prefetches; --at, and --json's full trace, go one flow at
 * a time through nsgsim_eval_at_engine / nsgsim_eval_engine. */
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
#define RANGES_FIRST       64         /* source-port ranges asked for at first */

typedef struct flow_input {
	FILE *f;
	long long total_bytes; /* -1 when unknown (a pipe) */
	long long read_bytes;
	long long line_no; /* of the last line read */
	long long flows;
	bool progress;
	double last_draw;
	/* one large block at a time, lines cut in place (no getline per line) */
	char *buf;
	size_t len, pos, cap;
	bool eof;
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
		        pct, in->flows);
	} else {
		fprintf(stderr, "\r%lld flows", in->flows);
	}
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
}

#define INPUT_BLOCK (4u << 20)

/* Moves what is left of the block to its start and reads more; false at the
 * end of the input or when out of memory (*nomem). */
static bool refill(flow_input *in, bool *nomem)
{
	if (in->eof)
		return false;
	if (in->pos) /* nothing to move before the first block (buf is NULL then) */
		memmove(in->buf, in->buf + in->pos, in->len - in->pos);
	in->len -= in->pos;
	in->pos = 0;
	if (in->len + 1 >= in->cap) { /* a line longer than the block */
		size_t cap = in->cap ? in->cap * 2 : INPUT_BLOCK;
		char *b = realloc(in->buf, cap);
		if (!b) {
			*nomem = true;
			return false;
		}
		in->buf = b;
		in->cap = cap;
	}
	size_t n = fread(in->buf + in->len, 1, in->cap - 1 - in->len, in->f);
	if (n == 0)
		in->eof = true;
	in->len += n;
	in->read_bytes += (long long)n;
	return n > 0;
}

/* The next raw line, NUL-terminated in place without its newline (*len
 * its length); NULL at the end. */
static char *next_raw_line(flow_input *in, size_t *len, bool *nomem)
{
	for (;;) {
		char *start = in->buf + in->pos;
		char *nl = in->pos < in->len ? memchr(start, '\n', in->len - in->pos) : NULL;
		if (nl) {
			*nl = '\0';
			*len = (size_t)(nl - start);
			in->pos = (size_t)(nl + 1 - in->buf);
			return start;
		}
		if (!refill(in, nomem)) {
			if (*nomem || in->pos >= in->len)
				return NULL;
			in->buf[in->len] = '\0'; /* a last line without a newline */
			start = in->buf + in->pos;
			*len = in->len - in->pos;
			in->pos = in->len;
			return start;
		}
	}
}

/* The next line that holds a flow (comments and blanks skipped), trimmed,
 * without its newline (*len its length); NULL at the end. */
static char *next_flow_line(flow_input *in, size_t *len, bool *nomem)
{
	char *line;
	size_t n;
	while ((line = next_raw_line(in, &n, nomem)) != NULL) {
		in->line_no++;
		char *hash = memchr(line, '#', n);
		char *end = hash ? hash : line + n;
		while (line < end && (*line == ' ' || *line == '\t'))
			line++;
		while (end > line && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			end--;
		*end = '\0';
		if (end > line) {
			*len = (size_t)(end - line);
			return line;
		}
	}
	return NULL;
}

/* One chunk of lines: their flows, texts and answers. */
typedef struct batch {
	nsgsim_flow flows[CHUNK];
	nsgsim_decision out[CHUNK];
	long long line_no[CHUNK];
	size_t text_at[CHUNK]; /* offset of the line's text in texts */
	/* Per line: -1 a flow, else a parse error code (message in messages). */
	int status[CHUNK];
	char messages[CHUNK][160];
	char *texts;
	size_t texts_used, texts_cap;
	size_t n;
	/* TSV rows go through one buffer written in large blocks; anything
	 * printed with stdio flushes it first, so the order stays */
	char out_buf[1u << 20];
	size_t out_len;
	unsigned memo_bits; /* the assumption keys last written, for memo_bits */
	char memo_keys[512];
	bool memo_set;
} batch;

static void out_flush(batch *b)
{
	if (b->out_len)
		fwrite(b->out_buf, 1, b->out_len, stdout);
	b->out_len = 0;
}

static void out_put(batch *b, const char *s, size_t n)
{
	if (b->out_len + n > sizeof b->out_buf) {
		out_flush(b);
		if (n > sizeof b->out_buf) {
			fwrite(s, 1, n, stdout);
			return;
		}
	}
	memcpy(b->out_buf + b->out_len, s, n);
	b->out_len += n;
}

static void out_str(batch *b, const char *s)
{
	out_put(b, s, strlen(s));
}

static void out_ll(batch *b, long long v)
{
	char num[24], *p = num + sizeof num;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	out_put(b, p, (size_t)(num + sizeof num - p));
}

static int keep_text(batch *b, const char *line, size_t n)
{
	size_t len = n + 1;
	if (b->texts_used + len > b->texts_cap) {
		size_t cap = b->texts_cap ? b->texts_cap * 2 : 1u << 20;
		while (cap < b->texts_used + len)
			cap *= 2;
		char *t = realloc(b->texts, cap);
		if (!t)
			return -1;
		b->texts = t;
		b->texts_cap = cap;
	}
	memcpy(b->texts + b->texts_used, line, len);
	b->text_at[b->n] = b->texts_used;
	b->texts_used += len;
	return 0;
}

/* Reads up to CHUNK flow lines into b; returns the number, or -1 when out
 * of memory. */
static long read_chunk(flow_input *in, batch *b)
{
	b->n = b->texts_used = 0;
	char *line;
	size_t len;
	bool nomem = false;
	while (b->n < CHUNK && (line = next_flow_line(in, &len, &nomem)) != NULL) {
		if (keep_text(b, line, len) != 0)
			return -1;
		nsgsim_error err; /* filled on failure only: no 2 KB to clear per flow */
		size_t i = b->n++;
		in->flows++;
		b->line_no[i] = in->line_no;
		if (nsgsim_flow_parse(line, &b->flows[i], &err) == 0) {
			b->status[i] = -1;
		} else {
			b->status[i] = err.code;
			snprintf(b->messages[i], sizeof b->messages[i], "%.150s", err.message);
		}
	}
	return nomem ? -1 : (long)b->n;
}

/* ---- one output row ------------------------------------------------------ */

typedef struct row {
	long long line;
	const char *flow;
	const char *verdict, *layer, *rule, *endpoint;
	const char *ports, *assumptions;
} row;

static void csv_field(const char *s, bool last)
{
	if (strpbrk(s, ",\"\r\n")) {
		putchar('"');
		for (; *s; s++) {
			if (*s == '"')
				putchar('"');
			putchar(*s);
		}
		putchar('"');
	} else {
		fputs(s, stdout);
	}
	putchar(last ? '\n' : ',');
}

static void print_row(batch *b, const row *r, int format)
{
	if (format == FLOWS_TSV) {
		const char *fields[] = {r->flow,     r->verdict, r->layer,      r->rule,
		                        r->endpoint, r->ports,   r->assumptions};
		out_ll(b, r->line);
		for (size_t i = 0; i < 7; i++) {
			out_put(b, "\t", 1);
			out_str(b, fields[i]);
		}
		out_put(b, "\n", 1);
		return;
	}
	out_flush(b);
	char line[24];
	snprintf(line, sizeof line, "%lld", r->line);
	const char *fields[] = {line,    r->flow,     r->verdict, r->layer,
	                        r->rule, r->endpoint, r->ports,   r->assumptions};
	for (size_t i = 0; i < 8; i++)
		csv_field(fields[i], i == 7);
}

static const char *endpoint_text(int endpoint)
{
	return endpoint == NSGSIM_ENDPOINT_SOURCE        ? "source"
	       : endpoint == NSGSIM_ENDPOINT_DESTINATION ? "destination"
	                                                 : "-";
}

static void print_error_row(batch *b, size_t i, int code, const char *message, int format)
{
	const char *flow = b->texts + b->text_at[i];
	if (format == FLOWS_JSON) {
		out_flush(b);
		printf("{\"line\": %lld, \"input\": ", b->line_no[i]);
		json_string(stdout, flow);
		printf(", \"error\": {\"code\": \"%s\", \"message\": ", nsgsim_error_name(code));
		json_string(stdout, message);
		fputs("}}\n", stdout);
		return;
	}
	row r = {b->line_no[i], flow, "error", nsgsim_error_name(code), message, "-", "-", "-"};
	print_row(b, &r, format);
}

/* The keys of the assumption bits, comma-separated, or "-". */
static void assumption_keys(unsigned bits, char *buf, size_t cap)
{
	size_t used = 0;
	for (unsigned bit = 1; bit; bit <<= 1) {
		const char *key = (bits & bit) ? nsgsim_assumption_key(bit) : NULL;
		size_t n = key ? strlen(key) : 0;
		if (!key || used + n + 2 > cap)
			continue;
		if (used)
			buf[used++] = ',';
		memcpy(buf + used, key, n);
		used += n;
	}
	if (!used)
		buf[used++] = '-';
	buf[used] = '\0';
}

/* assumption_keys, remembered for the bits last asked (most rows repeat them). */
static const char *keys_of(batch *b, unsigned bits)
{
	if (!b->memo_set || b->memo_bits != bits) {
		assumption_keys(bits, b->memo_keys, sizeof b->memo_keys);
		b->memo_bits = bits;
		b->memo_set = true;
	}
	return b->memo_keys;
}

/* The worst exit status of the answer d (0 allow, 1 deny). */
static int print_decision_row(batch *b, size_t i, const nsgsim_decision *d, const char *ports,
                              int format)
{
	row r = {b->line_no[i],
	         b->texts + b->text_at[i],
	         d->verdict == NSGSIM_ALLOW ? "Allow" : "Deny",
	         nsgsim_layer_name(d->decided_layer),
	         d->decided_rule.name ? d->decided_rule.name : "-",
	         endpoint_text(d->decided_endpoint),
	         ports,
	         keys_of(b, d->assumptions & ~(unsigned)NSGSIM_ASSUME_SOURCE_PORTS_DIFFER)};
	print_row(b, &r, format);
	return d->verdict == NSGSIM_ALLOW ? 0 : 1;
}

/* Every source-port range of a flow whose answer depends on it. */
static int print_port_rows(const nsgsim_policy *p, batch *b, size_t i, unsigned assumptions,
                           int format)
{
	size_t cap = RANGES_FIRST, n = 0;
	nsgsim_port_outcome *o = malloc(cap * sizeof *o);
	nsgsim_error err = {0};
	int rc = o ? nsgsim_eval_source_ports(p, &b->flows[i], o, cap, &n, &err) : NSGSIM_E_NOMEM;
	if (rc == 0 && n > cap) {
		nsgsim_port_outcome *more = realloc(o, n * sizeof *o);
		rc = more ? nsgsim_eval_source_ports(p, &b->flows[i], more, n, &n, &err)
		          : NSGSIM_E_NOMEM;
		o = more ? more : o;
	}
	int worst = 0;
	if (rc != 0) {
		print_error_row(b, i, rc, rc == NSGSIM_E_NOMEM ? "out of memory" : err.message,
		                format);
		worst = EXIT_USAGE;
	}
	for (size_t k = 0; rc == 0 && k < n; k++) {
		nsgsim_decision d = {0,
		                     o[k].verdict,
		                     o[k].decided_layer,
		                     o[k].decided_endpoint,
		                     o[k].decided_rule,
		                     NULL,
		                     assumptions,
		                     o[k].lo};
		char ports[24];
		snprintf(ports, sizeof ports, "%d-%d", o[k].lo, o[k].hi);
		int w = print_decision_row(b, i, &d, ports, format);
		worst = w > worst ? w : worst;
	}
	free(o);
	return worst;
}

/* What the sourcePorts column says of a one-answer flow. */
static void ports_text(const nsgsim_flow *f, char *buf, size_t cap)
{
	if (f->protocol == NSGSIM_PROTO_ICMP || f->protocol == NSGSIM_PROTO_ESP ||
	    f->protocol == NSGSIM_PROTO_AH)
		snprintf(buf, cap, "-");
	else if (f->src_port == NSGSIM_PORT_ANY)
		snprintf(buf, cap, "0-65535");
	else { /* once a flow: no snprintf */
		char num[8], *q = num + sizeof num;
		unsigned v = (unsigned)f->src_port;
		*--q = '\0';
		do
			*--q = (char)('0' + v % 10);
		while (v /= 10);
		memcpy(buf, q,
		       (size_t)(num + sizeof num - q) <= cap ? (size_t)(num + sizeof num - q) : 1);
	}
}

/* The eval --json object of one flow, "line" and "input" first. */
static int print_json_row(const nsgsim_policy *p, const flows_request *req, batch *b, size_t i)
{
	nsgsim_result res;
	nsgsim_error err = {0};
	char *text = NULL;
	const nsgsim_flow *f = &b->flows[i];
	int rc = req->at ? nsgsim_eval_at_engine(p, f, req->at, req->direction, req->engine, &res,
	                                         &err)
	                 : nsgsim_eval_engine(p, f, req->engine, &res, &err);
	if (rc == 0)
		rc = nsgsim_result_render(p, f, &res, NSGSIM_FORMAT_JSON, 0, &text, &err);
	if (rc != 0) {
		print_error_row(b, i, rc, err.message, FLOWS_JSON);
		nsgsim_free(text);
		return EXIT_USAGE;
	}
	out_flush(b);
	printf("{\"line\": %lld, \"input\": ", b->line_no[i]);
	json_string(stdout, b->texts + b->text_at[i]);
	fputs(", ", stdout);
	fputs(text + 1, stdout); /* the object without its '{', newline included */
	nsgsim_free(text);
	return res.verdict == NSGSIM_ALLOW ? 0 : 1;
}

/* An --at answer as a batch decision. */
static void decide_at(const nsgsim_policy *p, const flows_request *req, const nsgsim_flow *f,
                      nsgsim_decision *d, char *message, size_t cap)
{
	nsgsim_result res;
	nsgsim_error err = {0};
	memset(d, 0, sizeof *d);
	d->status = nsgsim_eval_at_engine(p, f, req->at, req->direction, req->engine, &res, &err);
	if (d->status != 0) {
		snprintf(message, cap, "%.150s", err.message);
		return;
	}
	*d = (nsgsim_decision){0,
	                       res.verdict,
	                       res.decided_layer,
	                       res.decided_endpoint,
	                       res.decided_rule,
	                       res.decided_resource,
	                       res.assumptions,
	                       res.src_port};
}

/* Prints line i of a chunk; returns its exit status. */
static int print_line(const nsgsim_policy *p, const flows_request *req, batch *b, size_t i)
{
	if (b->status[i] != -1) {
		print_error_row(b, i, b->status[i], b->messages[i], req->format);
		return EXIT_USAGE;
	}
	if (req->format == FLOWS_JSON)
		return print_json_row(p, req, b, i);
	nsgsim_decision *d = &b->out[i];
	if (req->at)
		decide_at(p, req, &b->flows[i], d, b->messages[i], sizeof b->messages[i]);
	if (d->status != 0) {
		print_error_row(b, i, d->status,
		                req->at ? b->messages[i] : nsgsim_strerror(d->status), req->format);
		return EXIT_USAGE;
	}
	if (d->assumptions & NSGSIM_ASSUME_SOURCE_PORTS_DIFFER)
		return print_port_rows(p, b, i, d->assumptions, req->format);
	char ports[24];
	ports_text(&b->flows[i], ports, sizeof ports);
	return print_decision_row(b, i, d, ports, req->format);
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

/* Evaluates and prints one chunk; returns its worst exit status. */
static int run_chunk(const nsgsim_policy *p, const flows_request *req, batch *b)
{
	nsgsim_error err = {0};
	/* The batch skips nothing: a line that did not parse is a zero flow,
	 * answered with BAD_FLOW and never printed. */
	for (size_t i = 0; i < b->n; i++)
		if (b->status[i] != -1)
			memset(&b->flows[i], 0, sizeof b->flows[i]);
	if (!req->at && req->format != FLOWS_JSON &&
	    nsgsim_eval_batch(p, b->flows, b->n, req->engine, b->out, &err) != 0) {
		print_error(&err);
		return EXIT_USAGE;
	}
	int worst = 0;
	for (size_t i = 0; i < b->n; i++) {
		int w = print_line(p, req, b, i);
		worst = w > worst ? w : worst;
	}
	return worst;
}

int eval_flows_file(const nsgsim_policy *p, const flows_request *req)
{
	flow_input in;
	int rc = open_input(req->path, &in);
	if (rc != 0)
		return rc;
	batch *b = calloc(1, sizeof *b);
	int worst = 0;
	long n = 0;
	if (req->format == FLOWS_CSV)
		puts("line,flow,verdict,layer,rule,endpoint,sourcePorts,assumptions");
	while (b && (n = read_chunk(&in, b)) > 0) {
		int w = run_chunk(p, req, b);
		out_flush(b);
		worst = w > worst ? w : worst;
		draw_progress(&in, false);
	}
	if (!b || n < 0) {
		fprintf(stderr, "nsgsim: error: out of memory\n");
		worst = EXIT_USAGE;
	}
	draw_progress(&in, true);
	free(in.buf);
	if (b)
		free(b->texts);
	free(b);
	if (in.f != stdin)
		fclose(in.f);
	return worst;
}
