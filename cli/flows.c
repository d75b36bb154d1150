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
 * The input is read in blocks of whole lines (BLOCK_BYTES), cut in place:
 * no copy or allocation per line.  A block's lines are parsed in chunks of
 * CHUNK flows, evaluated with nsgsim_eval_batch (which interleaves and
 * prefetches; --at, and --json's full trace, go one flow at a time through
 * nsgsim_eval_at_engine / nsgsim_eval_engine) and printed into the block's
 * own output buffer, which is then written in one call.  With --jobs N,
 * N threads take blocks in turn while this thread reads the input and
 * writes the blocks' outputs in input order, so the output is that of
 * --jobs 1 byte for byte.  Nothing a block's thread writes is shared: the
 * compiled policy is only read (lib/compile/policy.h), the block (input,
 * flows, answers, output, caches) is its own, and the queue is under one
 * mutex. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "cli.h"

#define CHUNK              4096       /* flows a nsgsim_eval_batch call */
#define BLOCK_BYTES        (1u << 20) /* input a block, in whole lines */
#define PROGRESS_MIN_BYTES (4u << 20) /* inputs smaller than this need no bar */
#define RANGES_FIRST       64         /* source-port ranges asked for at first */
#define MID_CACHE          1024       /* verdict..endpoint texts remembered, a power of 2 */
#define MID_TEXT           96         /* the longest cached, SHORT_PAD bytes to spare */
#define TAIL_CACHE         64         /* assumptions texts remembered (2^6: tail_text_of) */
#define TAIL_TEXT          160

/* ---- a growing output buffer ----------------------------------------------- */

typedef struct obuf {
	char *p;
	size_t len, cap;
	bool nomem;
} obuf;

static bool ob_reserve(obuf *o, size_t n)
{
	if (o->len + n <= o->cap)
		return true;
	size_t cap = o->cap ? o->cap : 1u << 16;
	while (cap < o->len + n)
		cap *= 2;
	char *p = realloc(o->p, cap);
	if (!p) {
		o->nomem = true;
		return false;
	}
	o->p = p;
	o->cap = cap;
	return true;
}

static inline void ob_put(obuf *o, const char *s, size_t n)
{
	if (!n)
		return;
	if (o->len + n > o->cap && !ob_reserve(o, n))
		return;
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static inline void ob_char(obuf *o, char c)
{
	ob_put(o, &c, 1);
}

/* Short copies sixteen bytes a step (two moves each): s must be readable
 * up to n rounded up to 16 (SHORT_PAD bytes past its end), and the buffer
 * keeps SLACK bytes past what it holds. */
#define SLACK     16
#define SHORT_PAD 16
static inline char *copy16(char *d, const char *s, size_t n)
{
	for (size_t k = 0; k < n; k += 16) {
		uint64_t w[2];
		memcpy(w, s + k, 16);
		memcpy(d + k, w, 16);
	}
	return d + n;
}

static inline void ob_short(obuf *o, const char *s, size_t n)
{
	if (o->len + n + SLACK > o->cap && !ob_reserve(o, n + SLACK))
		return;
	o->len = (size_t)(copy16(o->p + o->len, s, n) - o->p);
}

static void ob_str(obuf *o, const char *s)
{
	ob_put(o, s, strlen(s));
}

/* u in decimal, two digits a step, ending just before end: its first digit. */
static inline char *decimal_before(char *end, unsigned long long u)
{
	static const char pairs[] = "00010203040506070809101112131415161718192021222324"
	                            "25262728293031323334353637383940414243444546474849"
	                            "50515253545556575859606162636465666768697071727374"
	                            "75767778798081828384858687888990919293949596979899";
	char *p = end;
	while (u >= 100) {
		unsigned k = (unsigned)(u % 100) * 2;
		u /= 100;
		*--p = pairs[k + 1];
		*--p = pairs[k];
	}
	if (u >= 10) {
		*--p = pairs[u * 2 + 1];
		*--p = pairs[u * 2];
	} else {
		*--p = (char)('0' + u);
	}
	return p;
}

/* u in decimal. */
static inline void ob_ull(obuf *o, unsigned long long u)
{
	char num[24 + SHORT_PAD], *end = num + 24;
	char *p = decimal_before(end, u);
	ob_short(o, p, (size_t)(end - p));
}

/* s as a JSON string (null for NULL), as json_string writes it. */
static void ob_json(obuf *o, const char *s)
{
	if (!s) {
		ob_put(o, "null", 4);
		return;
	}
	ob_char(o, '"');
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\') {
			char e[2] = {'\\', (char)*c};
			ob_put(o, e, 2);
		} else if (*c < 0x20) {
			char e[8];
			snprintf(e, sizeof e, "\\u%04x", *c);
			ob_put(o, e, 6);
		} else {
			ob_char(o, (char)*c);
		}
	}
	ob_char(o, '"');
}

static void ob_csv(obuf *o, const char *s, bool last)
{
	if (strpbrk(s, ",\"\r\n")) {
		ob_char(o, '"');
		for (; *s; s++) {
			if (*s == '"')
				ob_char(o, '"');
			ob_char(o, *s);
		}
		ob_char(o, '"');
	} else {
		ob_str(o, s);
	}
	ob_char(o, last ? '\n' : ',');
}

/* ---- the input, in blocks of whole lines ----------------------------------- */

typedef struct flow_input {
	FILE *f;
	long long total_bytes; /* -1 when unknown (a pipe) */
	long long read_bytes;
	long long lines; /* lines handed out in blocks so far */
	long long flows;
	bool progress;
	double last_draw;
	char *carry; /* the start of a line the last block cut */
	size_t carry_len, carry_cap;
	bool eof, error;
} flow_input;

/* One block of input and everything its thread needs and writes. */
typedef struct block {
	char *in; /* whole lines, a NUL after the last */
	size_t in_len, in_cap;
	long long first_line; /* the number of the line before the block's first */
	obuf out;
	int worst;   /* the worst exit status of its rows */
	int failure; /* a nsgsim_eval_batch failure (printed by the main thread) */
	nsgsim_error err;
	long long flows;
	/* one chunk */
	size_t n;
	nsgsim_flow flows_v[CHUNK];
	nsgsim_decision out_v[CHUNK];
	const char *text[CHUNK];
	unsigned text_len[CHUNK];
	long long line_no[CHUNK];
	int status[CHUNK]; /* -1 a flow, else the parse error's code */
	/* the texts of recent answers around their sourcePorts */
	struct mid_text {
		const char *rule;
		short verdict, layer, endpoint;
		unsigned char len;
		bool set;
		char text[MID_TEXT]; /* "\tAllow\tSubnetNsg\tout-88\tsource\t" */
	} mids[MID_CACHE];
	struct tail_text {
		unsigned bits;
		unsigned char len;
		bool set;
		char text[TAIL_TEXT]; /* "\tkey,key\n" */
	} tails[TAIL_CACHE];
	/* the decimal text of the last line printed, its digits ending at
	 * line_digits + 24, a tab there */
	long long line_val;
	unsigned char line_len;
	char line_digits[24 + SHORT_PAD];
	/* the queue's state of the block (under the queue's mutex) */
	int state;
	long long seq;
} block;

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

/* The newlines in [p, p + n).  With SSE2 (every x86-64), 16 bytes a
 * step: a block's lines are counted before its thread takes it, and a
 * memchr call a line cost about 35 instructions of each flow's ~2,000. */
static long long count_lines(const char *p, size_t n)
{
	long long lines = 0;
	size_t i = 0;
#ifdef __SSE2__
	const __m128i nl = _mm_set1_epi8('\n');
	while (i + 16 <= n) {
		/* each lane counts down by one per newline: at most 255 steps */
		__m128i acc = _mm_setzero_si128();
		size_t stop = i + 16 * 255 < n ? i + 16 * 255 : n;
		for (; i + 16 <= stop; i += 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)(p + i));
			acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(v, nl));
		}
		__m128i sums = _mm_sad_epu8(acc, _mm_setzero_si128());
		lines += _mm_cvtsi128_si32(sums) + _mm_extract_epi16(sums, 4);
	}
#endif
	for (; i < n; i++)
		lines += p[i] == '\n';
	return lines;
}

/* Fills b with the next whole lines of the input (the last line may lack
 * its newline); false at the end of the input or on an error (in->error:
 * out of memory, or a read error). */
static bool read_block(flow_input *in, block *b)
{
	b->in_len = 0;
	if (in->eof && !in->carry_len)
		return false;
	size_t want = BLOCK_BYTES > in->carry_len * 2 ? BLOCK_BYTES : in->carry_len * 2;
	if (b->in_cap < want + 1) {
		char *p = realloc(b->in, want + 1 + SLACK);
		if (!p) {
			in->error = true;
			return false;
		}
		b->in = p;
		b->in_cap = want + 1;
	}
	if (in->carry_len)
		memcpy(b->in, in->carry, in->carry_len);
	b->in_len = in->carry_len;
	in->carry_len = 0;
	size_t scanned = 0; /* bytes known to hold no newline */
	for (;;) {
		size_t n =
		        in->eof ? 0 : fread(b->in + b->in_len, 1, b->in_cap - 1 - b->in_len, in->f);
		if (n == 0 && !in->eof) {
			in->eof = true;
			if (ferror(in->f))
				in->error = true;
		}
		b->in_len += n;
		in->read_bytes += (long long)n;
		if (in->eof)
			break;
		/* the last newline: the rest goes to the next block */
		char *q = b->in + b->in_len;
		while (q > b->in + scanned && q[-1] != '\n')
			q--;
		if (q > b->in + scanned) {
			size_t rest = (size_t)(b->in + b->in_len - q);
			if (rest > in->carry_cap) {
				char *c = realloc(in->carry, rest);
				if (!c) {
					in->error = true;
					return false;
				}
				in->carry = c;
				in->carry_cap = rest;
			}
			if (rest)
				memcpy(in->carry, q, rest);
			in->carry_len = rest;
			b->in_len -= rest;
			break;
		}
		scanned = b->in_len;
		if (b->in_len + 1 >= b->in_cap) { /* a line longer than the block */
			char *p = realloc(b->in, b->in_cap * 2 + SLACK);
			if (!p) {
				in->error = true;
				return false;
			}
			b->in = p;
			b->in_cap *= 2;
		}
	}
	b->in[b->in_len] = '\0';
	b->first_line = in->lines;
	in->lines += count_lines(b->in, b->in_len);
	if (b->in_len && b->in[b->in_len - 1] != '\n')
		in->lines++;
	return b->in_len > 0 && !in->error;
}

/* ---- one output row ------------------------------------------------------ */

typedef struct row {
	long long line;
	const char *flow;
	const char *verdict, *layer, *rule, *endpoint;
	const char *ports, *assumptions;
} row;

static void print_row(block *b, const row *r, int format)
{
	const char *fields[] = {r->flow,     r->verdict, r->layer,      r->rule,
	                        r->endpoint, r->ports,   r->assumptions};
	if (format == FLOWS_TSV) {
		ob_ull(&b->out, (unsigned long long)r->line);
		for (size_t i = 0; i < 7; i++) {
			ob_char(&b->out, '\t');
			ob_str(&b->out, fields[i]);
		}
		ob_char(&b->out, '\n');
		return;
	}
	ob_ull(&b->out, (unsigned long long)r->line);
	ob_char(&b->out, ',');
	for (size_t i = 0; i < 7; i++)
		ob_csv(&b->out, fields[i], i == 6);
}

static const char *endpoint_text(int endpoint)
{
	return endpoint == NSGSIM_ENDPOINT_SOURCE        ? "source"
	       : endpoint == NSGSIM_ENDPOINT_DESTINATION ? "destination"
	                                                 : "-";
}

static void print_error_row(block *b, size_t i, int code, const char *message, int format)
{
	const char *flow = b->text[i];
	if (format == FLOWS_JSON) {
		ob_put(&b->out, "{\"line\": ", 9);
		ob_ull(&b->out, (unsigned long long)b->line_no[i]);
		ob_str(&b->out, ", \"input\": ");
		ob_json(&b->out, flow);
		ob_str(&b->out, ", \"error\": {\"code\": \"");
		ob_str(&b->out, nsgsim_error_name(code));
		ob_str(&b->out, "\", \"message\": ");
		ob_json(&b->out, message);
		ob_str(&b->out, "}}\n");
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

/* Appends "\tA" "\tB"... of parts to buf (cap bytes); false when it does not fit. */
static bool join_tabbed(char *buf, size_t cap, unsigned char *len, const char *const *parts,
                        size_t n, const char *end)
{
	size_t used = 0;
	for (size_t k = 0; k <= n; k++) {
		const char *s = k < n ? parts[k] : end;
		size_t m = strlen(s);
		if (used + m + SHORT_PAD >= cap) /* readable past the text for ob_short */
			return false;
		if (k < n)
			buf[used++] = '\t';
		memcpy(buf + used, s, m);
		used += m;
	}
	*len = (unsigned char)used;
	return true;
}

/* The verdict..endpoint text of an answer, remembered per (rule, verdict,
 * layer, endpoint): NULL when it does not fit. */
static const struct mid_text *mid_text_of(block *b, const nsgsim_decision *d)
{
	const char *rule = d->decided_rule.name ? d->decided_rule.name : "-";
	size_t h = ((size_t)(uintptr_t)rule >> 3) ^ ((size_t)(uintptr_t)rule >> 13) ^
	           (size_t)d->verdict * 31u ^ (size_t)d->decided_layer * 131u ^
	           (size_t)d->decided_endpoint * 17u;
	struct mid_text *t = &b->mids[h & (MID_CACHE - 1)];
	if (t->set && t->rule == rule && t->verdict == d->verdict && t->layer == d->decided_layer &&
	    t->endpoint == d->decided_endpoint)
		return t;
	const char *parts[] = {d->verdict == NSGSIM_ALLOW ? "Allow" : "Deny",
	                       nsgsim_layer_name(d->decided_layer), rule,
	                       endpoint_text(d->decided_endpoint)};
	t->set = join_tabbed(t->text, sizeof t->text, &t->len, parts, 4, "\t");
	t->rule = rule;
	t->verdict = (short)d->verdict;
	t->layer = (short)d->decided_layer;
	t->endpoint = (short)d->decided_endpoint;
	return t->set ? t : NULL;
}

/* The assumptions' text, remembered per set of bits: NULL when it does not fit. */
static const struct tail_text *tail_text_of(block *b, unsigned bits)
{
	/* Fibonacci hashing: the sets that recur differ in a few bits each,
	 * which a shift-and-xor hash sent to the same few slots */
	struct tail_text *t = &b->tails[(bits * 2654435761u) >> 26];
	if (t->set && t->bits == bits)
		return t;
	char keys[512];
	assumption_keys(bits, keys, sizeof keys);
	const char *parts[] = {keys};
	t->set = join_tabbed(t->text, sizeof t->text, &t->len, parts, 1, "\n");
	t->bits = bits;
	return t->set ? t : NULL;
}

/* The decimal text of line and a tab (*len bytes, SHORT_PAD - 1 readable past them),
 * from the last row's: the next line is a carry at the end, no division. */
static const char *line_text(block *b, long long line, size_t *len)
{
	char *end = b->line_digits + 24, *p = end - b->line_len;
	if (line == b->line_val + 1 && b->line_len) {
		char *q = end - 1;
		while (q >= p && *q == '9')
			*q-- = '0';
		if (q < p)
			*--p = '1';
		else
			(*q)++;
	} else if (line != b->line_val || !b->line_len) {
		p = decimal_before(end, (unsigned long long)line);
	}
	b->line_val = line;
	b->line_len = (unsigned char)(end - p);
	*end = '\t';
	*len = b->line_len + 1u;
	return p;
}

/* The worst exit status of the answer d (0 allow, 1 deny). */
static int print_decision_row(block *b, size_t i, const nsgsim_decision *d, const char *ports,
                              size_t ports_len, int format)
{
	unsigned bits = d->assumptions & ~(unsigned)NSGSIM_ASSUME_SOURCE_PORTS_DIFFER;
	const struct mid_text *m = format == FLOWS_TSV ? mid_text_of(b, d) : NULL;
	const struct tail_text *t = m ? tail_text_of(b, bits) : NULL;
	if (t) { /* the common case: a few short copies */
		obuf *o = &b->out;
		size_t n;
		const char *line = line_text(b, b->line_no[i], &n);
		size_t row_len = n + b->text_len[i] + m->len + ports_len + t->len;
		if (o->len + row_len + SLACK > o->cap && !ob_reserve(o, row_len + SLACK))
			return d->verdict == NSGSIM_ALLOW ? 0 : 1; /* o->nomem: emit reports it */
		char *w = copy16(o->p + o->len, line, n);
		w = copy16(w, b->text[i], b->text_len[i]);
		w = copy16(w, m->text, m->len);
		w = copy16(w, ports, ports_len);
		w = copy16(w, t->text, t->len);
		o->len = (size_t)(w - o->p);
	} else {
		char keys[512];
		assumption_keys(bits, keys, sizeof keys);
		row r = {b->line_no[i],
		         b->text[i],
		         d->verdict == NSGSIM_ALLOW ? "Allow" : "Deny",
		         nsgsim_layer_name(d->decided_layer),
		         d->decided_rule.name ? d->decided_rule.name : "-",
		         endpoint_text(d->decided_endpoint),
		         ports,
		         keys};
		print_row(b, &r, format);
	}
	return d->verdict == NSGSIM_ALLOW ? 0 : 1;
}

/* Every source-port range of a flow whose answer depends on it. */
static int print_port_rows(const nsgsim_policy *p, block *b, size_t i, unsigned assumptions,
                           int format)
{
	size_t cap = RANGES_FIRST, n = 0;
	nsgsim_port_outcome *o = malloc(cap * sizeof *o);
	nsgsim_error err = {0};
	int rc = o ? nsgsim_eval_source_ports(p, &b->flows_v[i], o, cap, &n, &err) : NSGSIM_E_NOMEM;
	if (rc == 0 && n > cap) {
		nsgsim_port_outcome *more = realloc(o, n * sizeof *o);
		rc = more ? nsgsim_eval_source_ports(p, &b->flows_v[i], more, n, &n, &err)
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
		int len = snprintf(ports, sizeof ports, "%d-%d", o[k].lo, o[k].hi);
		int w = print_decision_row(b, i, &d, ports, (size_t)len, format);
		worst = w > worst ? w : worst;
	}
	free(o);
	return worst;
}

/* What the sourcePorts column says of a one-answer flow; its length. */
static size_t ports_text(const nsgsim_flow *f, char *buf)
{
	if (f->protocol == NSGSIM_PROTO_ICMP || f->protocol == NSGSIM_PROTO_ESP ||
	    f->protocol == NSGSIM_PROTO_AH) {
		buf[0] = '-';
		return 1;
	}
	if (f->src_port == NSGSIM_PORT_ANY) {
		memcpy(buf, "0-65535", 7);
		return 7;
	}
	/* at most 5 digits: 8 bytes copied, a constant size, without a call */
	char num[16], *q = decimal_before(num + 8, (unsigned)f->src_port);
	memcpy(buf, q, 8);
	return (size_t)(num + 8 - q);
}

/* The eval --json object of one flow, "line" and "input" first. */
static int print_json_row(const nsgsim_policy *p, const flows_request *req, block *b, size_t i)
{
	nsgsim_result res;
	nsgsim_error err = {0};
	char *text = NULL;
	const nsgsim_flow *f = &b->flows_v[i];
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
	ob_put(&b->out, "{\"line\": ", 9);
	ob_ull(&b->out, (unsigned long long)b->line_no[i]);
	ob_str(&b->out, ", \"input\": ");
	ob_json(&b->out, b->text[i]);
	ob_put(&b->out, ", ", 2);
	ob_str(&b->out, text + 1); /* the object without its '{', newline included */
	nsgsim_free(text);
	return res.verdict == NSGSIM_ALLOW ? 0 : 1;
}

/* An --at answer as a batch decision (message: the error's, on failure). */
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
static int print_line(const nsgsim_policy *p, const flows_request *req, block *b, size_t i)
{
	if (b->status[i] != -1) {
		/* parsed again for its message: errors are rare, and a chunk
		 * keeps no 160 bytes a line for them */
		nsgsim_flow f;
		nsgsim_error err;
		char message[160];
		if (nsgsim_flow_parse(b->text[i], &f, &err) != 0)
			snprintf(message, sizeof message, "%.150s", err.message);
		else
			message[0] = '\0';
		print_error_row(b, i, b->status[i], message, req->format);
		return EXIT_USAGE;
	}
	if (req->format == FLOWS_JSON)
		return print_json_row(p, req, b, i);
	nsgsim_decision *d = &b->out_v[i];
	char message[160];
	if (req->at)
		decide_at(p, req, &b->flows_v[i], d, message, sizeof message);
	if (d->status != 0) {
		print_error_row(b, i, d->status, req->at ? message : nsgsim_strerror(d->status),
		                req->format);
		return EXIT_USAGE;
	}
	if (d->assumptions & NSGSIM_ASSUME_SOURCE_PORTS_DIFFER)
		return print_port_rows(p, b, i, d->assumptions, req->format);
	char ports[24];
	size_t n = ports_text(&b->flows_v[i], ports);
	ports[n] = '\0';
	return print_decision_row(b, i, d, ports, n, req->format);
}

/* Evaluates and prints the chunk in b; false when the batch failed (b->err). */
static bool run_chunk(const nsgsim_policy *p, const flows_request *req, block *b)
{
	if (!req->at && req->format != FLOWS_JSON &&
	    nsgsim_eval_batch(p, b->flows_v, b->n, req->engine, b->out_v, &b->err) != 0) {
		b->failure = EXIT_USAGE;
		return false;
	}
	for (size_t i = 0; i < b->n; i++) {
		int w = print_line(p, req, b, i);
		b->worst = w > b->worst ? w : b->worst;
	}
	return true;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* [s, e) without its blanks at either end: the new start, *e moved. */
static char *trim(char *s, char **e)
{
	while (s < *e && is_space(*s))
		s++;
	while (*e > s && (is_space((*e)[-1]) || (*e)[-1] == '\r'))
		(*e)--;
	return s;
}

/* Line [s, eol) of b into the chunk, parsed, unless it is blank or a
 * comment.  A '#' starts a comment; the line is parsed first as it is and
 * looked at for one only when it does not parse: no flow text holds '#',
 * so a line that parses has none, and the common line is scanned once. */
static void take_line(block *b, char *s, char *eol, long long line)
{
	char *e = eol;
	s = trim(s, &e);
	if (e == s || *s == '#')
		return;
	*e = '\0';
	size_t i = b->n;
	/* filled on failure only: no 2 KB to clear per flow */
	nsgsim_error err;
	int rc = nsgsim_flow_parse(s, &b->flows_v[i], &err);
	char *hash = rc == 0 ? NULL : memchr(s, '#', (size_t)(e - s));
	if (hash) {
		e = hash;
		s = trim(s, &e);
		*e = '\0';
		rc = nsgsim_flow_parse(s, &b->flows_v[i], &err);
	}
	b->n++;
	b->text[i] = s;
	b->text_len[i] = (unsigned)(e - s);
	b->line_no[i] = line;
	if (rc == 0) {
		b->status[i] = -1;
	} else {
		/* the batch skips nothing: a line that did not parse is a zero
		 * flow, answered with BAD_FLOW and never printed */
		b->status[i] = err.code;
		memset(&b->flows_v[i], 0, sizeof b->flows_v[i]);
	}
}

/* Parses, evaluates and prints every line of b into b->out. */
static void run_block(const nsgsim_policy *p, const flows_request *req, block *b)
{
	b->out.len = 0;
	b->worst = b->failure = 0;
	b->flows = 0;
	char *s = b->in, *end = b->in + b->in_len;
	long long line = b->first_line;
	while (s < end) {
		b->n = 0;
		while (b->n < CHUNK && s < end) {
			char *nl = memchr(s, '\n', (size_t)(end - s));
			char *eol = nl ? nl : end;
			take_line(b, s, eol, ++line);
			s = nl ? nl + 1 : end;
		}
		b->flows += (long long)b->n;
		if (b->n && !run_chunk(p, req, b))
			return;
	}
}

/* ---- threads ----------------------------------------------------------- */

enum { BLOCK_FREE, BLOCK_QUEUED, BLOCK_DONE };

typedef struct pool {
	const nsgsim_policy *p;
	const flows_request *req;
	block **blocks;
	size_t n_blocks;
	long long next_take, queued; /* sequence numbers */
	bool quit;
	pthread_mutex_t mu;
	pthread_cond_t work, done;
} pool;

static void *worker(void *arg)
{
	pool *q = arg;
	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (!q->quit && q->next_take == q->queued)
			pthread_cond_wait(&q->work, &q->mu);
		if (q->next_take == q->queued) /* quit, nothing left */
			break;
		block *b = q->blocks[q->next_take % (long long)q->n_blocks];
		q->next_take++;
		pthread_mutex_unlock(&q->mu);
		run_block(q->p, q->req, b);
		pthread_mutex_lock(&q->mu);
		b->state = BLOCK_DONE;
		pthread_cond_broadcast(&q->done);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

/* Writes a finished block's output; its exit status (or -1 to stop). */
static int emit(flow_input *in, block *b)
{
	if (b->out.nomem) {
		fprintf(stderr, "nsgsim: error: out of memory\n");
		return -1;
	}
	if (b->out.len)
		fwrite(b->out.p, 1, b->out.len, stdout);
	if (b->failure) { /* what the chunks before it printed is written */
		fflush(stdout);
		print_error(&b->err);
		return -1;
	}
	in->flows += b->flows;
	draw_progress(in, false);
	return b->worst;
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

static void free_block(block *b)
{
	if (b) {
		free(b->in);
		free(b->out.p);
	}
	free(b);
}

/* One block at a time, on this thread. */
static int run_serial(const nsgsim_policy *p, const flows_request *req, flow_input *in)
{
	block *b = calloc(1, sizeof *b);
	int worst = 0;
	if (!b) {
		in->error = true;
		return 0;
	}
	while (read_block(in, b)) {
		run_block(p, req, b);
		int w = emit(in, b);
		if (w < 0) {
			worst = EXIT_USAGE;
			break;
		}
		worst = w > worst ? w : worst;
	}
	free_block(b);
	return worst;
}

/* jobs threads over blocks, the outputs written here in input order. */
static int run_parallel(const nsgsim_policy *p, const flows_request *req, flow_input *in, int jobs)
{
	pool q = {.p = p, .req = req, .n_blocks = (size_t)jobs * 2};
	pthread_t *threads = calloc((size_t)jobs, sizeof *threads);
	q.blocks = calloc(q.n_blocks, sizeof *q.blocks);
	bool ok = threads && q.blocks;
	for (size_t i = 0; ok && i < q.n_blocks; i++)
		ok = (q.blocks[i] = calloc(1, sizeof *q.blocks[i])) != NULL;
	if (!ok) {
		for (size_t i = 0; q.blocks && i < q.n_blocks; i++)
			free_block(q.blocks[i]);
		free(q.blocks);
		free(threads);
		in->error = true;
		return 0;
	}
	pthread_mutex_init(&q.mu, NULL);
	pthread_cond_init(&q.work, NULL);
	pthread_cond_init(&q.done, NULL);
	int started = 0;
	for (; started < jobs; started++)
		if (pthread_create(&threads[started], NULL, worker, &q) != 0)
			break;
	int worst = 0;
	long long written = 0;
	bool more = started > 0, failed = false;
	if (!more) {
		fprintf(stderr, "nsgsim: error: cannot start a thread\n");
		worst = EXIT_USAGE;
	}
	for (;;) {
		/* queue blocks while some are free and input is left */
		while (more && q.queued - written < (long long)q.n_blocks) {
			block *b = q.blocks[q.queued % (long long)q.n_blocks];
			if (!read_block(in, b)) {
				more = false;
				break;
			}
			pthread_mutex_lock(&q.mu);
			b->state = BLOCK_QUEUED;
			q.queued++;
			pthread_cond_signal(&q.work);
			pthread_mutex_unlock(&q.mu);
		}
		if (written == q.queued)
			break;
		block *b = q.blocks[written % (long long)q.n_blocks];
		pthread_mutex_lock(&q.mu);
		while (b->state != BLOCK_DONE)
			pthread_cond_wait(&q.done, &q.mu);
		pthread_mutex_unlock(&q.mu);
		/* after a failure, the blocks queued still finish, unprinted */
		int w = failed ? 0 : emit(in, b);
		b->state = BLOCK_FREE;
		written++;
		if (w < 0) {
			worst = EXIT_USAGE;
			failed = true;
			more = false;
		}
		worst = w > worst ? w : worst;
	}
	pthread_mutex_lock(&q.mu);
	q.quit = true;
	pthread_cond_broadcast(&q.work);
	pthread_mutex_unlock(&q.mu);
	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	pthread_mutex_destroy(&q.mu);
	pthread_cond_destroy(&q.work);
	pthread_cond_destroy(&q.done);
	for (size_t i = 0; i < q.n_blocks; i++)
		free_block(q.blocks[i]);
	free(q.blocks);
	free(threads);
	return worst;
}

int eval_flows_file(const nsgsim_policy *p, const flows_request *req)
{
	flow_input in;
	int rc = open_input(req->path, &in);
	if (rc != 0)
		return rc;
	if (req->format == FLOWS_CSV)
		puts("line,flow,verdict,layer,rule,endpoint,sourcePorts,assumptions");
	int worst = req->jobs > 1 ? run_parallel(p, req, &in, req->jobs) : run_serial(p, req, &in);
	if (in.error) {
		if (ferror(in.f))
			fprintf(stderr, "nsgsim: error: %s: read error\n", req->path);
		else
			fprintf(stderr, "nsgsim: error: out of memory\n");
		worst = EXIT_USAGE;
	}
	draw_progress(&in, true);
	free(in.carry);
	if (in.f != stdin)
		fclose(in.f);
	return worst;
}
