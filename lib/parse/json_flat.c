/* A strict RFC 8259 reader into a flat array of nodes (see json_flat.h).
 *
 * One pass over the text with an explicit stack (no recursion, whatever
 * NSGSIM_LIMIT_JSON_DEPTH is set to).  What it accepts is RFC 8259's grammar
 * exactly, less NUL (raw or \u0000: nsgsim's strings are C strings, as on the
 * cJSON path); it is stricter than cJSON, which also takes leading zeros,
 * raw control characters in strings and any byte below 0x20 as whitespace.
 * The text must be UTF-8 (RFC 8259 §8.1): a malformed sequence anywhere is
 * an error at its line and column, on both JSON paths (ns_json_check_text). */
#define _POSIX_C_SOURCE 200809L
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/json_flat.h"

/* ---- errors ---------------------------------------------------------------- */

void ns_json_line_col(const char *text, const char *at, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (const char *p = text; p < at; p++) {
		if (*p == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

int ns_json_fail_at(const char *name, const char *text, const char *at, int code, nsgsim_error *err,
                    const char *what)
{
	int line, col;
	ns_json_line_col(text, at, &line, &col);
	int rc = ns_fail(err, code, name, "", "", "%s at line %d, column %d", what, line, col);
	if (err) {
		err->line = line;
		err->column = col;
	}
	return rc;
}

int ns_json_check_text(const char *name, const char *text, size_t len, nsgsim_error *err)
{
	const char *nul = memchr(text, '\0', len);
	if (nul)
		return ns_json_fail_at(name, text, nul, NSGSIM_E_JSON, err,
		                       "a NUL byte in the input");
	const char *bad = ns_utf8_malformed(text, len);
	if (bad) {
		char what[96];
		snprintf(what, sizeof what,
		         "malformed UTF-8 (byte 0x%02X; JSON text is UTF-8, RFC 8259 §8.1)",
		         (unsigned char)*bad);
		return ns_json_fail_at(name, text, bad, NSGSIM_E_JSON, err, what);
	}
	return 0;
}

/* ---- the reader ------------------------------------------------------------ */

/* An open array or object: its node, its last key or element, how many. */
typedef struct frame {
	uint32_t node, last, count;
} frame;

typedef struct reader {
	ns_jdoc *d;
	const char *name, *text, *p, *end;
	nsgsim_error *err;
	uint64_t max_depth;
	frame *stack;
	size_t depth, stack_cap;
	ns_key_ref *keys; /* scratch for the duplicate check, reused */
	size_t keys_cap;
	char *scratch;
	size_t scratch_cap;
	uint32_t dup_node; /* the first repeated key so far, 0 for none */
	char *dup_key;
	char dup_ptr[1024];
} reader;

static int syntax(reader *r, const char *at, const char *what)
{
	return ns_json_fail_at(r->name, r->text, at, NSGSIM_E_JSON, r->err, what);
}

static int nomem(reader *r)
{
	return ns_fail(r->err, NSGSIM_E_NOMEM, r->name, "", "", "out of memory");
}

static bool grow(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return true;
	size_t n = *cap ? *cap : 16;
	while (n < need)
		n *= 2;
	void *q = realloc(*p, n * size);
	if (!q)
		return false;
	*p = q;
	*cap = n;
	return true;
}

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

/* A new node at r->p.  An array's element or an object's key is chained
 * after the one before it; an object's value is not (it follows its key). */
static int64_t new_node(reader *r, int type, bool key)
{
	ns_jdoc *d = r->d;
	if (d->n == d->cap) {
		size_t cap = d->cap;
		if (d->n == UINT32_MAX ||
		    !grow((void **)&d->nodes, &cap, (size_t)d->n + 1, sizeof *d->nodes))
			return -1;
		d->cap = cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap;
	}
	uint32_t i = d->n++;
	d->nodes[i] = (ns_jnode){.at = (uint32_t)(r->p - r->text), .type = (uint8_t)type};
	if (r->depth && (key || d->nodes[r->stack[r->depth - 1].node].type == NS_J_ARRAY)) {
		frame *f = &r->stack[r->depth - 1];
		if (f->count)
			d->nodes[f->last].next = i;
		f->last = i;
		f->count++;
	}
	return i;
}

static bool hex4(const char *q, const char *end, unsigned *v)
{
	if (end - q < 4)
		return false;
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char c = q[i];
		unsigned h = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
		             : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
		             : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
		                                    : 16u;
		if (h > 15)
			return false;
		*v = *v << 4 | h;
	}
	return true;
}

/* Checks the escape at *q (a backslash) and steps over it.  RFC 8259 §7;
 * a \u escape of a UTF-16 surrogate must be a whole pair (cJSON refuses a
 * lone half too). */
static int check_escape(reader *r, const char **q)
{
	const char *p = *q;
	if (r->end - p < 2)
		return syntax(r, p, "malformed JSON (an unterminated string)");
	if (p[1] && strchr("\"\\/bfnrt", p[1])) {
		*q = p + 2;
		return 0;
	}
	unsigned cp, lo;
	if (p[1] != 'u' || !hex4(p + 2, r->end, &cp))
		return syntax(r, p, "malformed JSON (an invalid escape in a string)");
	if (cp == 0)
		return syntax(r, p, "a \\u0000 (NUL) escape in a string");
	if (cp >= 0xDC00 && cp <= 0xDFFF)
		return syntax(r, p, "malformed JSON (a lone UTF-16 low surrogate)");
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		if (r->end - p < 12 || p[6] != '\\' || p[7] != 'u' || !hex4(p + 8, r->end, &lo) ||
		    lo < 0xDC00 || lo > 0xDFFF)
			return syntax(
			        r, p,
			        "malformed JSON (a UTF-16 high surrogate without its low half)");
		*q = p + 12;
		return 0;
	}
	*q = p + 6;
	return 0;
}

/* A string at r->p (its opening quote) into node i. */
static int scan_string(reader *r, uint32_t i)
{
	const char *start = r->p + 1, *p = start, *end = r->end;
	bool escaped = false;
	for (;;) {
		p = ns_json_plain_run(p, end);
		if (p >= end)
			return syntax(r, r->p, "malformed JSON (an unterminated string)");
		if (*p == '"')
			break;
		if (*p == '\\') {
			int rc = check_escape(r, &p);
			if (rc != 0)
				return rc;
			escaped = true;
			continue;
		}
		return syntax(r, p, "malformed JSON (a control character in a string: escape it)");
	}
	ns_jnode *n = &r->d->nodes[i];
	n->at = (uint32_t)(start - r->text);
	n->len = (uint32_t)(p - start);
	n->escaped = escaped;
	r->p = p + 1;
	return 0;
}

static const char *digits(const char *p, const char *end)
{
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p;
}

/* RFC 8259 §6: -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)? */
static int scan_number(reader *r, uint32_t i)
{
	const char *p = r->p, *end = r->end, *q;
	if (*p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if ((q = digits(p, end)) > p)
		p = q;
	else
		return syntax(r, p, "malformed JSON (a number)");
	if (p < end && *p == '.') {
		if ((q = digits(p + 1, end)) == p + 1)
			return syntax(r, q, "malformed JSON (a number)");
		p = q;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if ((q = digits(p, end)) == p)
			return syntax(r, p, "malformed JSON (a number)");
		p = q;
	}
	r->d->nodes[i].len = (uint32_t)(p - r->p);
	r->p = p;
	return 0;
}

static int scan_literal(reader *r, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
		return syntax(r, r->p, "malformed JSON (expected a value)");
	r->p += n;
	return 0;
}

/* ---- keys ------------------------------------------------------------------ */

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static bool ieq_n(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return false;
	for (size_t i = 0; i < an; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return false;
	return true;
}

static int cmp_keys(const void *x, const void *y)
{
	const ns_key_ref *a = x, *b = y;
	size_t n = a->n < b->n ? a->n : b->n;
	for (size_t i = 0; i < n; i++) {
		int d = (int)lower((unsigned char)a->s[i]) - (int)lower((unsigned char)b->s[i]);
		if (d)
			return d;
	}
	if (a->n != b->n)
		return a->n < b->n ? -1 : 1;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

uint32_t ns_first_repeated_key(ns_key_ref *keys, size_t n)
{
	if (n <= 16) {
		for (size_t a = 1; a < n; a++)
			for (size_t b = 0; b < a; b++)
				if (ieq_n(keys[a].s, keys[a].n, keys[b].s, keys[b].n))
					return keys[a].pos;
		return UINT32_MAX;
	}
	qsort(keys, n, sizeof *keys, cmp_keys);
	uint32_t first = UINT32_MAX;
	for (size_t a = 1; a < n; a++)
		if (keys[a].pos < first &&
		    ieq_n(keys[a].s, keys[a].n, keys[a - 1].s, keys[a - 1].n))
			first = keys[a].pos;
	return first;
}

static void put_ptr(char *ptr, size_t *len, size_t cap, const char *s, size_t n)
{
	if (*len + 2 < cap)
		ptr[(*len)++] = '/';
	/* RFC 6901: '~' is written ~0 and '/' is written ~1. */
	for (size_t i = 0; i < n && *len + 3 < cap; i++) {
		if (s[i] == '~' || s[i] == '/') {
			ptr[(*len)++] = '~';
			ptr[(*len)++] = s[i] == '~' ? '0' : '1';
		} else {
			ptr[(*len)++] = s[i];
		}
	}
	ptr[*len] = '\0';
}

/* Key node k decoded, on the heap (NULL when out of memory). */
static char *key_dup(const ns_jdoc *d, uint32_t k)
{
	char *s = malloc((size_t)ns_jat(d, k)->len + 1);
	if (s)
		ns_jstr_decode(d, k, s);
	return s;
}

static int put_key(reader *r, char *ptr, size_t *len, size_t cap, uint32_t k)
{
	char *key = key_dup(r->d, k);
	if (!key)
		return -1;
	put_ptr(ptr, len, cap, key, strlen(key));
	free(key);
	return 0;
}

/* The key at dup repeats one before it in the object on top of the stack.
 * Noted, not yet reported: a syntax error anywhere comes first, and of the
 * repeats the first in the document is named (the one a depth-first walk
 * meets first, as on the cJSON path).  The pointer runs through every open
 * container to the key. */
static int note_duplicate(reader *r, uint32_t dup)
{
	if (r->dup_node && r->dup_node < dup)
		return 0;
	size_t len = 0;
	r->dup_ptr[0] = '\0';
	for (size_t i = 0; i + 1 < r->depth; i++) {
		const frame *f = &r->stack[i];
		if (ns_jis(r->d, f->node, NS_J_OBJECT)) {
			if (put_key(r, r->dup_ptr, &len, sizeof r->dup_ptr, f->last) != 0)
				return nomem(r);
		} else {
			char num[32];
			snprintf(num, sizeof num, "%u", f->count - 1);
			put_ptr(r->dup_ptr, &len, sizeof r->dup_ptr, num, strlen(num));
		}
	}
	free(r->dup_key);
	r->dup_key = key_dup(r->d, dup);
	if (!r->dup_key)
		return nomem(r);
	put_ptr(r->dup_ptr, &len, sizeof r->dup_ptr, r->dup_key, strlen(r->dup_key));
	r->dup_node = dup;
	return 0;
}

/* Notes a key twice in the object being closed (the cJSON path refuses
 * them too). */
static int check_keys(reader *r, const frame *f)
{
	if (f->count < 2)
		return 0;
	size_t bytes = 0;
	for (uint32_t k = f->node + 1; k; k = ns_jnext(r->d, k))
		if (ns_jat(r->d, k)->escaped)
			bytes += ns_jat(r->d, k)->len + 1;
	if (!grow((void **)&r->keys, &r->keys_cap, f->count, sizeof *r->keys) ||
	    !grow((void **)&r->scratch, &r->scratch_cap, bytes + 1, 1))
		return nomem(r);
	size_t n = 0;
	char *out = r->scratch;
	for (uint32_t k = f->node + 1; k; k = ns_jnext(r->d, k)) {
		const ns_jnode *kn = ns_jat(r->d, k);
		ns_key_ref *e = &r->keys[n++];
		e->pos = k;
		if (kn->escaped) {
			e->s = out;
			e->n = ns_jstr_decode(r->d, k, out);
			out += e->n + 1;
		} else {
			e->s = r->text + kn->at;
			e->n = kn->len;
		}
	}
	uint32_t dup = ns_first_repeated_key(r->keys, n);
	return dup != UINT32_MAX ? note_duplicate(r, dup) : 0;
}

/* ---- the document ---------------------------------------------------------- */

enum { WANT_VALUE, WANT_KEY, AFTER_VALUE };

/* A value at r->p: a scalar is read whole; '[' or '{' opens a frame. */
static int read_value(reader *r, int *state)
{
	if (r->p >= r->end)
		return syntax(r, r->p, "malformed JSON (expected a value)");
	char ch = *r->p;
	int type = ch == '{'   ? NS_J_OBJECT
	           : ch == '[' ? NS_J_ARRAY
	           : ch == '"' ? NS_J_STRING
	           : ch == 't' ? NS_J_TRUE
	           : ch == 'f' ? NS_J_FALSE
	           : ch == 'n' ? NS_J_NULL
	                       : NS_J_NUMBER;
	if (type == NS_J_NUMBER && ch != '-' && !(ch >= '0' && ch <= '9'))
		return syntax(r, r->p, "malformed JSON (expected a value)");
	int64_t i = new_node(r, type, false);
	if (i < 0)
		return nomem(r);
	*state = AFTER_VALUE;
	switch (type) {
	case NS_J_STRING:
		return scan_string(r, (uint32_t)i);
	case NS_J_NUMBER:
		return scan_number(r, (uint32_t)i);
	case NS_J_TRUE:
		return scan_literal(r, "true");
	case NS_J_FALSE:
		return scan_literal(r, "false");
	case NS_J_NULL:
		return scan_literal(r, "null");
	default:
		break;
	}
	if (r->depth + 1 > r->max_depth)
		return ns_json_fail_at(r->name, r->text, r->p, NSGSIM_E_LIMIT, r->err,
		                       "JSON nested deeper than NSGSIM_LIMIT_JSON_DEPTH");
	if (!grow((void **)&r->stack, &r->stack_cap, r->depth + 1, sizeof *r->stack))
		return nomem(r);
	r->stack[r->depth++] = (frame){.node = (uint32_t)i};
	r->p = skip_ws(r->p + 1, r->end);
	if (r->p < r->end && *r->p == (type == NS_J_OBJECT ? '}' : ']')) {
		r->p++;
		r->depth--; /* empty: len stays 0 */
		return 0;
	}
	*state = type == NS_J_OBJECT ? WANT_KEY : WANT_VALUE;
	return 0;
}

/* A key and its colon; the value comes next. */
static int read_key(reader *r)
{
	if (r->p >= r->end || *r->p != '"')
		return syntax(r, r->p, "malformed JSON (expected a key in quotes)");
	int64_t i = new_node(r, NS_J_STRING, true);
	if (i < 0)
		return nomem(r);
	int rc = scan_string(r, (uint32_t)i);
	if (rc != 0)
		return rc;
	r->p = skip_ws(r->p, r->end);
	if (r->p >= r->end || *r->p != ':')
		return syntax(r, r->p, "malformed JSON (expected ':' after a key)");
	r->p = skip_ws(r->p + 1, r->end);
	return 0;
}

/* After a value: ',' and the next member, or the container closes. */
static int after_value(reader *r, int *state)
{
	frame *f = &r->stack[r->depth - 1];
	bool object = ns_jis(r->d, f->node, NS_J_OBJECT);
	r->p = skip_ws(r->p, r->end);
	if (r->p < r->end && *r->p == ',') {
		r->p = skip_ws(r->p + 1, r->end);
		*state = object ? WANT_KEY : WANT_VALUE;
		return 0;
	}
	if (r->p < r->end && *r->p == (object ? '}' : ']')) {
		r->p++;
		if (object) {
			int rc = check_keys(r, f);
			if (rc != 0)
				return rc;
		}
		r->d->nodes[f->node].len = f->count;
		r->depth--;
		return 0;
	}
	return syntax(r, r->p,
	              object ? "malformed JSON (expected ',' or '}')"
	                     : "malformed JSON (expected ',' or ']')");
}

static int read_document(reader *r)
{
	int state = WANT_VALUE, rc = 0;
	r->p = skip_ws(r->p, r->end);
	do {
		if (state == WANT_VALUE)
			rc = read_value(r, &state);
		else if (state == WANT_KEY)
			rc = read_key(r), state = WANT_VALUE;
		else
			rc = after_value(r, &state);
	} while (rc == 0 && (r->depth > 0 || state != AFTER_VALUE));
	if (rc != 0)
		return rc;
	r->p = skip_ws(r->p, r->end);
	if (r->p < r->end)
		return syntax(r, r->p, "malformed JSON (text after the document)");
	return 0;
}

int ns_jdoc_parse(ns_jdoc *d, const char *name, const char *text, size_t len, uint64_t max_depth,
                  nsgsim_error *err)
{
	*d = (ns_jdoc){.text = text};
	if (len >= UINT32_MAX)
		return ns_fail(err, NSGSIM_E_LIMIT, name, "", "",
		               "the input has %zu bytes; a service-tags file may have at most "
		               "4 GiB",
		               len);
	reader r = {.d = d,
	            .name = name,
	            .text = text,
	            .p = text,
	            .end = text + len,
	            .err = err,
	            .max_depth = max_depth};
	/* A NUL or malformed UTF-8 anywhere is named first, as the cJSON path
	 * names them (ns_json_check_text). */
	int checked = ns_json_check_text(name, text, len, err);
	if (checked != 0)
		return checked;
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) /* a UTF-8 byte-order mark */
		r.p += 3;
	size_t cap = len / 24 + 16; /* the service-tags download: ~1 node per 30 bytes */
	d->nodes = malloc(cap * sizeof *d->nodes);
	d->cap = (uint32_t)cap;
	int rc = d->nodes ? read_document(&r) : nomem(&r);
	if (rc == 0 && r.dup_node)
		rc = ns_fail(err, NSGSIM_E_SHAPE, name, r.dup_ptr, NULL,
		             "the key '%s' appears twice in one object", r.dup_key);
	free(r.dup_key);
	free(r.stack);
	free(r.keys);
	free(r.scratch);
	if (rc != 0)
		ns_jdoc_free(d);
	return rc;
}

void ns_jdoc_free(ns_jdoc *d)
{
	free(d->nodes);
	d->nodes = NULL;
	d->n = d->cap = 0;
}

/* ---- reading values -------------------------------------------------------- */

static size_t put_utf8(char *out, unsigned cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* The parse checked every escape, so this only translates. */
size_t ns_jstr_decode(const ns_jdoc *d, uint32_t s, char *out)
{
	const ns_jnode *n = ns_jat(d, s);
	const char *p = d->text + n->at, *end = p + n->len;
	if (!n->escaped) {
		memcpy(out, p, n->len);
		out[n->len] = '\0';
		return n->len;
	}
	size_t o = 0;
	while (p < end) {
		if (*p != '\\') {
			out[o++] = *p++;
			continue;
		}
		static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
		const char *k = strchr(from, p[1]);
		if (p[1] != 'u' && k) {
			out[o++] = to[k - from];
			p += 2;
			continue;
		}
		unsigned cp, lo;
		hex4(p + 2, end, &cp);
		p += 6;
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			hex4(p + 2, end, &lo);
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			p += 6;
		}
		o += put_utf8(out + o, cp);
	}
	out[o] = '\0';
	return o;
}

char *ns_jstr_dup(const ns_jdoc *d, uint32_t s, ns_arena *a)
{
	char *out = ns_arena_alloc(a, (size_t)ns_jat(d, s)->len + 1);
	if (out)
		ns_jstr_decode(d, s, out);
	return out;
}

int ns_jnumber(const ns_jdoc *d, uint32_t num, double *out)
{
	char small[64], *buf = small;
	const ns_jnode *n = ns_jat(d, num);
	if (n->len >= sizeof small && !(buf = malloc((size_t)n->len + 1)))
		return -1;
	memcpy(buf, d->text + n->at, n->len); /* strtod needs the NUL */
	buf[n->len] = '\0';
	/* strtod reads the locale's decimal point (a program linking nsgsim may
	 * have set LC_NUMERIC to one with ','); cJSON swaps it in the same way. */
	char *dot = memchr(buf, '.', n->len);
	if (dot)
		*dot = localeconv()->decimal_point[0];
	*out = strtod(buf, NULL);
	if (buf != small)
		free(buf);
	return 0;
}

uint32_t ns_jkey(const ns_jdoc *d, uint32_t obj, const char *key)
{
	size_t klen = strlen(key);
	char buf[256];
	for (uint32_t k = ns_jfirst(d, obj); k; k = ns_jnext(d, k)) {
		const ns_jnode *n = ns_jat(d, k);
		if (!n->escaped) {
			if (ieq_n(d->text + n->at, n->len, key, klen))
				return k;
		} else if (n->len < sizeof buf) { /* a longer one decodes to over 42 bytes */
			size_t m = ns_jstr_decode(d, k, buf);
			if (ieq_n(buf, m, key, klen))
				return k;
		}
	}
	return 0;
}
