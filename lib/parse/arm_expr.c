/* The ARM template expression language: recognising an expression, its
 * lexer and recursive-descent parser, and ns_arm_eval.
 *
 * Syntax (https://learn.microsoft.com/azure/azure-resource-manager/templates/template-expressions):
 *   "[" expr "]", where expr is a function call name(args) with a case-
 *   insensitive name (namespace.name for a user-defined function), a string
 *   literal in single quotes with '' for a quote, an integer, and any of
 *   them followed by .member or [index].  A template string that starts
 *   with "[[" is a literal: the first "[" is dropped.  Bicep also emits bare
 *   true/false/null in some versions; they are read as their values. */
#define _POSIX_C_SOURCE 200809L
#include "parse/arm_expr_int.h"

#include "nsgsim.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ns_arm_parser {
	const char *s;
	size_t n, pos, base;
	int depth;
	ns_arm_error *err;
} ns_arm_parser;

static int perr(ns_arm_parser *p, int code, const char *msg)
{
	p->err->code = code;
	p->err->offset = p->base + p->pos;
	snprintf(p->err->msg, sizeof p->err->msg, "%s", msg);
	return code;
}

static void skip_ws(ns_arm_parser *p)
{
	while (p->pos < p->n && isspace((unsigned char)p->s[p->pos]))
		p->pos++;
}

static ns_arm_node *new_node(ns_arm_parser *p, ns_arm_kind k)
{
	ns_arm_node *n = calloc(1, sizeof *n);
	if (n) {
		n->kind = k;
		n->off = p->base + p->pos;
	}
	return n;
}

void ns_arm_node_free(ns_arm_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nargs; i++)
		ns_arm_node_free(n->args[i]);
	free(n->args);
	free(n->s);
	free(n);
}

static int add_arg(ns_arm_parser *p, ns_arm_node *n, ns_arm_node *a)
{
	ns_arm_node **g = realloc(n->args, (n->nargs + 1) * sizeof *g);
	if (!g) {
		ns_arm_node_free(a);
		return perr(p, NSGSIM_E_NOMEM, "out of memory");
	}
	n->args = g;
	n->args[n->nargs++] = a;
	return 0;
}

/* 'it''s' -> it's */
static int parse_string(ns_arm_parser *p, ns_arm_node **out)
{
	ns_arm_node *n = new_node(p, NS_ARM_STR);
	char *buf = malloc(p->n - p->pos + 1);
	if (!n || !buf) {
		free(n);
		free(buf);
		return perr(p, NSGSIM_E_NOMEM, "out of memory");
	}
	size_t start = p->pos++, len = 0;
	for (;;) {
		if (p->pos >= p->n) {
			free(n);
			free(buf);
			p->pos = start;
			return perr(p, NSGSIM_E_SHAPE, "unterminated string literal: expected '");
		}
		char ch = p->s[p->pos++];
		if (ch == '\'') {
			if (p->pos < p->n && p->s[p->pos] == '\'') {
				buf[len++] = '\'';
				p->pos++;
				continue;
			}
			break;
		}
		buf[len++] = ch;
	}
	buf[len] = '\0';
	n->s = buf;
	n->slen = len;
	n->end = p->base + p->pos;
	*out = n;
	return 0;
}

static int parse_int(ns_arm_parser *p, ns_arm_node **out)
{
	size_t start = p->pos;
	bool neg = p->s[p->pos] == '-';
	if (neg)
		p->pos++;
	if (p->pos >= p->n || !isdigit((unsigned char)p->s[p->pos]))
		return perr(p, NSGSIM_E_SHAPE, "expected a digit after '-'");
	uint64_t v = 0;
	uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	while (p->pos < p->n && isdigit((unsigned char)p->s[p->pos])) {
		unsigned d = (unsigned)(p->s[p->pos] - '0');
		if (v > (lim - d) / 10) {
			p->pos = start;
			return perr(p, NSGSIM_E_SHAPE, "integer out of the 64-bit range");
		}
		v = v * 10 + d;
		p->pos++;
	}
	if (p->pos < p->n && (p->s[p->pos] == '.' || isalpha((unsigned char)p->s[p->pos])))
		return perr(
		        p, NSGSIM_E_SHAPE,
		        "expected an integer (ARM expressions have no decimals; use json('1.5'))");
	size_t save = p->pos;
	p->pos = start;
	ns_arm_node *n = new_node(p, NS_ARM_INT);
	p->pos = save;
	if (!n)
		return perr(p, NSGSIM_E_NOMEM, "out of memory");
	n->i = neg ? (int64_t)(0 - v) : (int64_t)v;
	n->end = p->base + p->pos;
	*out = n;
	return 0;
}

static bool ident_char(char ch, bool first)
{
	return isalpha((unsigned char)ch) || ch == '_' || ch == '$' ||
	       (!first && isdigit((unsigned char)ch));
}

static size_t ident_len(const ns_arm_parser *p, size_t at)
{
	size_t i = at;
	while (i < p->n && ident_char(p->s[i], i == at))
		i++;
	return i - at;
}

static int parse_expr(ns_arm_parser *p, ns_arm_node **out);

static int parse_args(ns_arm_parser *p, ns_arm_node *call)
{
	p->pos++; /* ( */
	skip_ws(p);
	if (p->pos < p->n && p->s[p->pos] == ')') {
		p->pos++;
		return 0;
	}
	for (;;) {
		ns_arm_node *a = NULL;
		int rc = parse_expr(p, &a);
		if (rc == 0)
			rc = add_arg(p, call, a);
		if (rc)
			return rc;
		skip_ws(p);
		if (p->pos < p->n && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->n && p->s[p->pos] == ')') {
			p->pos++;
			return 0;
		}
		return perr(p, NSGSIM_E_SHAPE, "expected ',' or ')' after a function argument");
	}
}

static int literal_word(ns_arm_parser *p, size_t start, size_t len, ns_arm_node **out)
{
	static const struct {
		const char *w;
		int type;
	} words[] = {{"true", cJSON_True}, {"false", cJSON_False}, {"null", cJSON_NULL}};
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		if (len == strlen(words[i].w) && strncmp(p->s + start, words[i].w, len) == 0) {
			size_t save = p->pos;
			p->pos = start;
			ns_arm_node *n = new_node(p, NS_ARM_LIT);
			p->pos = save;
			if (!n)
				return perr(p, NSGSIM_E_NOMEM, "out of memory");
			n->i = words[i].type;
			n->end = p->base + p->pos;
			*out = n;
			return 0;
		}
	}
	p->pos = start;
	return perr(p, NSGSIM_E_SHAPE, "expected '(' after a function name");
}

/* name(args), ns.name(args), or a bare true/false/null. */
static int parse_call(ns_arm_parser *p, ns_arm_node **out)
{
	size_t start = p->pos, len = ident_len(p, p->pos);
	p->pos += len;
	size_t name_end = p->pos;
	skip_ws(p);
	if ((p->pos >= p->n || p->s[p->pos] != '(') && p->pos < p->n && p->s[p->pos] == '.') {
		size_t l2 = ident_len(p, p->pos + 1);
		size_t after = p->pos + 1 + l2;
		while (after < p->n && isspace((unsigned char)p->s[after]))
			after++;
		if (l2 && after < p->n && p->s[after] == '(') {
			name_end = p->pos + 1 + l2;
			p->pos = after;
		}
	}
	if (p->pos >= p->n || p->s[p->pos] != '(')
		return literal_word(p, start, name_end - start, out);
	size_t save = p->pos;
	p->pos = start;
	ns_arm_node *n = new_node(p, NS_ARM_CALL);
	p->pos = save;
	if (!n || !(n->s = strndup(p->s + start, name_end - start))) {
		free(n);
		return perr(p, NSGSIM_E_NOMEM, "out of memory");
	}
	n->slen = name_end - start;
	int rc = parse_args(p, n);
	if (rc) {
		ns_arm_node_free(n);
		return rc;
	}
	n->end = p->base + p->pos;
	*out = n;
	return 0;
}

static int parse_primary(ns_arm_parser *p, ns_arm_node **out)
{
	skip_ws(p);
	if (p->pos >= p->n)
		return perr(p, NSGSIM_E_SHAPE, "expected a function call, string or integer");
	char ch = p->s[p->pos];
	if (ch == '\'')
		return parse_string(p, out);
	if (ch == '-' || isdigit((unsigned char)ch))
		return parse_int(p, out);
	if (ident_char(ch, true))
		return parse_call(p, out);
	return perr(p, NSGSIM_E_SHAPE, "expected a function call, string or integer");
}

static int wrap(ns_arm_parser *p, ns_arm_node **cur, ns_arm_kind k, size_t off)
{
	ns_arm_node *w = calloc(1, sizeof *w);
	if (!w)
		return perr(p, NSGSIM_E_NOMEM, "out of memory");
	w->kind = k;
	w->off = off;
	ns_arm_node *inner = *cur;
	*cur = w;
	return add_arg(p, w, inner);
}

static int parse_member(ns_arm_parser *p, ns_arm_node **cur, size_t off)
{
	p->pos++; /* . */
	skip_ws(p);
	size_t len = ident_len(p, p->pos);
	if (!len)
		return perr(p, NSGSIM_E_SHAPE, "expected a property name after '.'");
	int rc = wrap(p, cur, NS_ARM_MEMBER, off);
	if (rc)
		return rc;
	if (!((*cur)->s = strndup(p->s + p->pos, len)))
		return perr(p, NSGSIM_E_NOMEM, "out of memory");
	(*cur)->slen = len;
	p->pos += len;
	return 0;
}

static int parse_index(ns_arm_parser *p, ns_arm_node **cur, size_t off)
{
	p->pos++; /* [ */
	int rc = wrap(p, cur, NS_ARM_INDEX, off);
	ns_arm_node *ix = NULL;
	if (rc == 0)
		rc = parse_expr(p, &ix);
	if (rc == 0)
		rc = add_arg(p, *cur, ix);
	if (rc)
		return rc;
	skip_ws(p);
	if (p->pos >= p->n || p->s[p->pos] != ']')
		return perr(p, NSGSIM_E_SHAPE, "expected ']' after an index");
	p->pos++;
	return 0;
}

static int parse_postfix(ns_arm_parser *p, ns_arm_node **cur)
{
	for (;;) {
		skip_ws(p);
		if (p->pos >= p->n)
			return 0;
		size_t off = (*cur)->off;
		int rc;
		if (p->s[p->pos] == '.')
			rc = parse_member(p, cur, off);
		else if (p->s[p->pos] == '[')
			rc = parse_index(p, cur, off);
		else
			return 0;
		(*cur)->end = p->base + p->pos;
		if (rc)
			return rc;
	}
}

static int parse_expr(ns_arm_parser *p, ns_arm_node **out)
{
	if (++p->depth > NS_ARM_MAX_DEPTH)
		return perr(p, NSGSIM_E_LIMIT, "expression nested too deeply (at most 64 levels)");
	ns_arm_node *n = NULL;
	int rc = parse_primary(p, &n);
	if (rc == 0)
		rc = parse_postfix(p, &n);
	p->depth--;
	if (rc) {
		ns_arm_node_free(n);
		return rc;
	}
	*out = n;
	return 0;
}

int ns_arm_parse(const char *text, size_t len, size_t base, ns_arm_node **out, ns_arm_error *err)
{
	ns_arm_parser p = {.s = text, .n = len, .base = base, .err = err};
	*out = NULL;
	ns_arm_node *n = NULL;
	int rc = parse_expr(&p, &n);
	if (rc)
		return rc;
	skip_ws(&p);
	if (p.pos < p.n) {
		ns_arm_node_free(n);
		return perr(&p, NSGSIM_E_SHAPE, "unexpected text after the expression");
	}
	*out = n;
	return 0;
}

bool ns_arm_is_expression(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return n >= 2 && s[0] == '[' && s[1] != '[' && s[n - 1] == ']';
}

bool ns_arm_is_unknown(const cJSON *v)
{
	return v && (v->type & 0xFF) == cJSON_Raw;
}

cJSON *ns_arm_unknown(const char *origin)
{
	return cJSON_CreateRaw(origin ? origin : "unknown");
}

/* "[[x]" is the literal "[x]" (template-expressions#escape-characters). */
static int eval_literal(const char *text, cJSON **out, ns_arm_error *err)
{
	size_t n = strlen(text);
	bool esc = n >= 3 && text[0] == '[' && text[1] == '[' && text[n - 1] == ']';
	*out = cJSON_CreateString(text + (esc ? 1 : 0));
	if (*out)
		return 0;
	err->code = NSGSIM_E_NOMEM;
	snprintf(err->msg, sizeof err->msg, "out of memory");
	return NSGSIM_E_NOMEM;
}

int ns_arm_eval(const ns_arm_env *env, const char *text, cJSON **out, ns_arm_error *err)
{
	memset(err, 0, sizeof *err);
	*out = NULL;
	if (!ns_arm_is_expression(text))
		return eval_literal(text ? text : "", out, err);
	ns_arm_node *root = NULL;
	size_t n = strlen(text);
	int rc = ns_arm_parse(text + 1, n - 2, 1, &root, err);
	if (rc)
		return rc;
	ns_arm_ctx c = {.env = env,
	                .text = text,
	                .err = err,
	                .max_string =
	                        env->max_string ? env->max_string : NS_ARM_DEFAULT_MAX_STRING};
	rc = ns_arm_eval_node(&c, root, out);
	ns_arm_node_free(root);
	if (rc) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	return rc;
}
