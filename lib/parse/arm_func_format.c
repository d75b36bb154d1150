/* format() -- .NET composite formatting -- and the base64 / data URI
 * functions.
 * https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-string#format
 * https://learn.microsoft.com/dotnet/standard/base-types/composite-formatting
 * https://learn.microsoft.com/dotnet/standard/base-types/standard-numeric-format-strings
 * Items are {index[,alignment][:format]}; {{ and }} are braces.  Integers
 * take D, X/x, N, F, G with an optional precision; other values print as
 * ARM prints them (booleans True/False) and ignore the format string. */
#define _POSIX_C_SOURCE 200809L
#include "parse/arm_expr_int.h"

#include "nsgsim.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fmt_item {
	long index, align;
	char spec;
	int prec; /* -1: none */
} fmt_item;

static void group_thousands(const char *digits, char *out)
{
	size_t n = strlen(digits), k = 0;
	for (size_t i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			out[k++] = ',';
		out[k++] = digits[i];
	}
	out[k] = '\0';
}

/* An integer with a standard numeric format; false for an unknown one. */
static bool format_int(int64_t v, char spec, int prec, char *out, size_t cap)
{
	unsigned long long mag = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
	const char *sign = v < 0 ? "-" : "";
	int p = prec < 0 ? 0 : prec > 40 ? 40 : prec;
	char digits[32], grouped[48];
	switch (toupper((unsigned char)spec)) {
	case 'D':
		snprintf(out, cap, "%s%0*llu", sign, p, mag);
		return true;
	case 'X':
		snprintf(out, cap, spec == 'X' ? "%0*llX" : "%0*llx", p, (unsigned long long)v);
		return true;
	case 'N':
		snprintf(digits, sizeof digits, "%llu", mag);
		group_thousands(digits, grouped);
		snprintf(out, cap, "%s%s%s%.*s", sign, grouped, prec == 0 ? "" : ".",
		         prec < 0 ? 2 : p, "0000000000000000000000000000000000000000");
		return true;
	case 'F':
		snprintf(out, cap, "%s%llu%s%.*s", sign, mag, prec == 0 ? "" : ".",
		         prec < 0 ? 2 : p, "0000000000000000000000000000000000000000");
		return true;
	case 'G':
	case '\0':
		snprintf(out, cap, "%lld", (long long)v);
		return true;
	}
	return false;
}

static int bad_format(ns_arm_ctx *c, const ns_arm_node *call, size_t at, const char *why)
{
	return ns_arm_fail(c, call->args[0]->off, NSGSIM_E_SHAPE,
	                   "format: %s at character %zu of the format string", why, at);
}

static bool read_long(const char **p, long *out)
{
	char *end;
	while (**p == ' ')
		(*p)++;
	if (!isdigit((unsigned char)**p) && **p != '-')
		return false;
	*out = strtol(*p, &end, 10);
	*p = end;
	while (**p == ' ')
		(*p)++;
	return *out > -1000000 && *out < 1000000;
}

/* Reads {index[,alignment][:format]} from after the '{'. */
static bool parse_item(const char **p, fmt_item *it)
{
	it->align = 0;
	it->spec = '\0';
	it->prec = -1;
	if (!read_long(p, &it->index) || it->index < 0)
		return false;
	if (**p == ',' && (++*p, !read_long(p, &it->align)))
		return false;
	if (**p == ':') {
		(*p)++;
		if (isalpha((unsigned char)**p))
			it->spec = *(*p)++;
		if (isdigit((unsigned char)**p))
			it->prec = (int)strtol(*p, (char **)p, 10) % 100;
	}
	if (**p != '}')
		return false;
	(*p)++;
	return true;
}

static int put_item(ns_arm_ctx *c, const ns_arm_node *call, ns_arm_buf *b, const cJSON *v,
                    const fmt_item *it)
{
	char num[160], *text = NULL;
	int64_t i;
	int rc = 0;
	if (ns_arm_get_int(v, &i) && format_int(i, it->spec, it->prec, num, sizeof num))
		text = strdup(num);
	else
		rc = ns_arm_to_text(c, call, v, true, &text);
	if (rc == 0 && !text)
		rc = ns_arm_nomem(c, call->off);
	size_t n = text ? strlen(text) : 0;
	long width = it->align < 0 ? -it->align : it->align;
	for (long k = (long)n; rc == 0 && it->align > 0 && k < width; k++)
		rc = ns_arm_buf_put(c, call, b, " ", 1);
	if (rc == 0)
		rc = ns_arm_buf_put(c, call, b, text, n);
	for (long k = (long)n; rc == 0 && it->align < 0 && k < width; k++)
		rc = ns_arm_buf_put(c, call, b, " ", 1);
	free(text);
	return rc;
}

static int format_into(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                       ns_arm_buf *b)
{
	const char *f = argv[0]->valuestring, *p = f;
	int rc = 0;
	while (*p && rc == 0) {
		if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
			rc = ns_arm_buf_put(c, call, b, p, 1);
			p += 2;
		} else if (*p == '}') {
			return bad_format(c, call, (size_t)(p - f), "a '}' without its '{'");
		} else if (*p == '{') {
			fmt_item it;
			p++;
			if (!parse_item(&p, &it))
				return bad_format(c, call, (size_t)(p - f),
				                  "expected {index[,alignment][:format]}");
			if ((size_t)it.index + 1 >= argc)
				return ns_arm_fail(c, call->off, NSGSIM_E_SHAPE,
				                   "format: item {%ld} but only %zu value%s given",
				                   it.index, argc - 1, argc == 2 ? "" : "s");
			rc = put_item(c, call, b, argv[it.index + 1], &it);
		} else {
			size_t n = strcspn(p, "{}");
			rc = ns_arm_buf_put(c, call, b, p, n);
			p += n;
		}
	}
	return rc;
}

int ns_arm_f_format(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out);
int ns_arm_f_format(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	if (!cJSON_IsString(argv[0]))
		return ns_arm_type_error(c, call, 0, argv[0], "a string");
	ns_arm_buf b = {0};
	int rc = format_into(c, call, argv, argc, &b);
	if (rc) {
		free(b.p);
		return rc;
	}
	return ns_arm_buf_done(c, call, &b, out);
}

/* ---- base64 (RFC 4648) ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int encode64(ns_arm_ctx *c, const ns_arm_node *call, const unsigned char *s, size_t n,
                    ns_arm_buf *b)
{
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		char q[4] = {b64[v >> 18], b64[(v >> 12) & 63],
		             i + 1 < n ? b64[(v >> 6) & 63] : '=', i + 2 < n ? b64[v & 63] : '='};
		rc = ns_arm_buf_put(c, call, b, q, 4);
	}
	return rc;
}

/* Decodes s into d (room for strlen(s)); -1 if s is not base64. */
static long decode64(const char *s, unsigned char *d)
{
	size_t n = strlen(s), k = 0;
	uint32_t acc = 0;
	int bits = 0, pad = 0;
	if (n % 4)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *hit = s[i] ? strchr(b64, s[i]) : NULL;
		if (s[i] == '=' && i >= n - 2) {
			pad++;
			continue;
		}
		if (!hit || pad)
			return -1;
		acc = (acc << 6) | (uint32_t)(hit - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			d[k++] = (unsigned char)(acc >> bits);
		}
	}
	return (long)k;
}

int ns_arm_f_base64(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out);
int ns_arm_f_base64(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argc;
	if (!cJSON_IsString(argv[0]))
		return ns_arm_type_error(c, call, 0, argv[0], "a string");
	ns_arm_buf b = {0};
	const char *s = argv[0]->valuestring;
	int rc = encode64(c, call, (const unsigned char *)s, strlen(s), &b);
	if (rc) {
		free(b.p);
		return rc;
	}
	return ns_arm_buf_done(c, call, &b, out);
}

static int decode_arg(ns_arm_ctx *c, const ns_arm_node *call, const cJSON *v, char **text)
{
	if (!cJSON_IsString(v))
		return ns_arm_type_error(c, call, 0, v, "a base64 string");
	*text = malloc(strlen(v->valuestring) + 1);
	if (!*text)
		return ns_arm_nomem(c, call->off);
	long n = decode64(v->valuestring, (unsigned char *)*text);
	if (n < 0) {
		free(*text);
		return ns_arm_fail(c, call->args[0]->off, NSGSIM_E_SHAPE,
		                   "%s: the argument is not valid base64", call->s);
	}
	(*text)[n] = '\0';
	return 0;
}

int ns_arm_f_base64tostring(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                            cJSON **out);
int ns_arm_f_base64tostring(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                            cJSON **out)
{
	(void)argc;
	char *t = NULL;
	int rc = decode_arg(c, call, argv[0], &t);
	if (rc)
		return rc;
	rc = ns_arm_mk_string(c, call, t, strlen(t), out);
	free(t);
	return rc;
}

int ns_arm_f_base64tojson(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                          cJSON **out);
int ns_arm_f_base64tojson(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                          cJSON **out)
{
	(void)argc;
	char *t = NULL;
	int rc = decode_arg(c, call, argv[0], &t);
	if (rc)
		return rc;
	*out = cJSON_Parse(t);
	free(t);
	if (!*out)
		return ns_arm_fail(c, call->args[0]->off, NSGSIM_E_SHAPE,
		                   "base64ToJson: the decoded text is not JSON");
	return 0;
}

/* dataUri: "data:text/plain;charset=utf8;base64,..." as the page shows. */
int ns_arm_f_datauri(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                     cJSON **out);
int ns_arm_f_datauri(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argc;
	if (!cJSON_IsString(argv[0]))
		return ns_arm_type_error(c, call, 0, argv[0], "a string");
	static const char head[] = "data:text/plain;charset=utf8;base64,";
	ns_arm_buf b = {0};
	const char *s = argv[0]->valuestring;
	int rc = ns_arm_buf_put(c, call, &b, head, sizeof head - 1);
	if (rc == 0)
		rc = encode64(c, call, (const unsigned char *)s, strlen(s), &b);
	if (rc) {
		free(b.p);
		return rc;
	}
	return ns_arm_buf_done(c, call, &b, out);
}

int ns_arm_f_datauritostring(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                             cJSON **out);
int ns_arm_f_datauritostring(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                             cJSON **out)
{
	(void)argc;
	const char *s = cJSON_IsString(argv[0]) ? argv[0]->valuestring : NULL;
	const char *comma = s ? strchr(s, ',') : NULL;
	if (!s || strncmp(s, "data:", 5) != 0 || !comma)
		return ns_arm_type_error(c, call, 0, argv[0], "a data URI (data:...,...)");
	bool is64 = comma - s >= 7 && strncmp(comma - 7, ";base64", 7) == 0;
	if (!is64)
		return ns_arm_mk_string(c, call, comma + 1, strlen(comma + 1), out);
	cJSON tmp = {.type = cJSON_String, .valuestring = (char *)(comma + 1)};
	char *t = NULL;
	int rc = decode_arg(c, call, &tmp, &t);
	if (rc)
		return rc;
	rc = ns_arm_mk_string(c, call, t, strlen(t), out);
	free(t);
	return rc;
}
