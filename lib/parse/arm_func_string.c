/* ARM string functions.
 * https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-string
 * (format: https://learn.microsoft.com/dotnet/standard/base-types/composite-formatting,
 * in arm_func_format.c).  concat, contains, empty, first, last, length, skip
 * and take work on strings and arrays: arm_func_array.c. */
#define _POSIX_C_SOURCE 200809L
#include "parse/arm_expr_int.h"

#include "nsgsim.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int want_strings(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t from,
                        size_t to)
{
	for (size_t i = from; i < to; i++)
		if (!cJSON_IsString(argv[i]))
			return ns_arm_type_error(c, call, i, argv[i], "a string");
	return 0;
}

static int f_lower_upper(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, bool upper,
                         cJSON **out)
{
	if (!cJSON_IsString(argv[0]))
		return ns_arm_type_error(c, call, 0, argv[0], "a string");
	char *s = argv[0]->valuestring;
	for (char *p = s; *p; p++)
		*p = (char)(upper ? toupper((unsigned char)*p) : tolower((unsigned char)*p));
	return ns_arm_mk_string(c, call, s, strlen(s), out);
}

static int f_tolower(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argc;
	return f_lower_upper(c, call, argv, false, out);
}

static int f_toupper(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argc;
	return f_lower_upper(c, call, argv, true, out);
}

static int f_trim(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argc;
	if (!cJSON_IsString(argv[0]))
		return ns_arm_type_error(c, call, 0, argv[0], "a string");
	const char *s = argv[0]->valuestring, *e = s + strlen(s);
	while (*s && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	return ns_arm_mk_string(c, call, s, (size_t)(e - s), out);
}

/* Case-insensitive, as the documents say for startsWith, endsWith, indexOf
 * and lastIndexOf. */
static bool match_at(const char *s, const char *t, size_t tn)
{
	return strncasecmp(s, t, tn) == 0;
}

static int f_starts_ends(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, bool ends,
                         cJSON **out)
{
	int rc = want_strings(c, call, argv, 0, 2);
	if (rc)
		return rc;
	const char *s = argv[0]->valuestring, *t = argv[1]->valuestring;
	size_t sn = strlen(s), tn = strlen(t);
	bool r = tn <= sn && match_at(ends ? s + sn - tn : s, t, tn);
	return ns_arm_mk_bool(c, call, r, out);
}

static int f_startswith(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                        cJSON **out)
{
	(void)argc;
	return f_starts_ends(c, call, argv, false, out);
}

static int f_endswith(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                      cJSON **out)
{
	(void)argc;
	return f_starts_ends(c, call, argv, true, out);
}

static int index_of(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, bool last, cJSON **out)
{
	if (cJSON_IsArray(argv[0])) {
		int64_t found = -1, i = 0;
		for (const cJSON *v = argv[0]->child; v; v = v->next, i++)
			if (ns_arm_equal(v, argv[1]) && (last || found < 0))
				found = i;
		return ns_arm_mk_int(c, call, found, out);
	}
	int rc = want_strings(c, call, argv, 0, 2);
	if (rc)
		return rc;
	const char *s = argv[0]->valuestring, *t = argv[1]->valuestring;
	size_t sn = strlen(s), tn = strlen(t);
	int64_t found = -1;
	for (size_t i = 0; tn <= sn && i <= sn - tn; i++)
		if (match_at(s + i, t, tn) && (last || found < 0))
			found = (int64_t)i;
	return ns_arm_mk_int(c, call, found, out);
}

static int f_indexof(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argc;
	return index_of(c, call, argv, false, out);
}

static int f_lastindexof(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                         cJSON **out)
{
	(void)argc;
	return index_of(c, call, argv, true, out);
}

/* substring(stringToParse, startIndex, [length]): fails past the end or for
 * a negative length, as documented. */
static int f_substring(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                       cJSON **out)
{
	if (!cJSON_IsString(argv[0]))
		return ns_arm_type_error(c, call, 0, argv[0], "a string");
	int64_t start, len;
	if (!ns_arm_get_int(argv[1], &start))
		return ns_arm_type_error(c, call, 1, argv[1], "an integer");
	int64_t n = (int64_t)strlen(argv[0]->valuestring);
	len = n - start;
	if (argc > 2 && !ns_arm_get_int(argv[2], &len))
		return ns_arm_type_error(c, call, 2, argv[2], "an integer");
	if (start < 0 || start > n || len < 0 || len > n - start)
		return ns_arm_fail(
		        c, call->off, NSGSIM_E_SHAPE,
		        "substring: start %lld, length %lld is outside the string of %lld "
		        "characters",
		        (long long)start, (long long)len, (long long)n);
	return ns_arm_mk_string(c, call, argv[0]->valuestring + start, (size_t)len, out);
}

static int f_padleft(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	int64_t total;
	if (!cJSON_IsString(argv[0]) && !cJSON_IsNumber(argv[0]))
		return ns_arm_type_error(c, call, 0, argv[0], "a string or an integer");
	if (!ns_arm_get_int(argv[1], &total))
		return ns_arm_type_error(c, call, 1, argv[1], "an integer");
	char pad = ' ';
	if (argc > 2) {
		if (!cJSON_IsString(argv[2]) || strlen(argv[2]->valuestring) != 1)
			return ns_arm_type_error(c, call, 2, argv[2], "a string of one character");
		pad = argv[2]->valuestring[0];
	}
	char *s = NULL;
	int rc = ns_arm_to_text(c, call, argv[0], true, &s);
	if (rc)
		return rc;
	size_t n = strlen(s);
	if (total < 0 || (uint64_t)total > c->max_string)
		total = total < 0 ? 0 : (int64_t)c->max_string + 1;
	ns_arm_buf b = {0};
	for (int64_t i = (int64_t)n; rc == 0 && i < total; i++)
		rc = ns_arm_buf_put(c, call, &b, &pad, 1);
	if (rc == 0)
		rc = ns_arm_buf_put(c, call, &b, s, n);
	free(s);
	if (rc) {
		free(b.p);
		return rc;
	}
	return ns_arm_buf_done(c, call, &b, out);
}

static int f_replace(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argc;
	int rc = want_strings(c, call, argv, 0, 3);
	if (rc)
		return rc;
	const char *s = argv[0]->valuestring, *old = argv[1]->valuestring;
	const char *nw = argv[2]->valuestring;
	size_t on = strlen(old), nn = strlen(nw);
	if (on == 0)
		return ns_arm_fail(c, call->args[1]->off, NSGSIM_E_SHAPE,
		                   "replace: the string to replace is empty");
	ns_arm_buf b = {0};
	const char *hit;
	while (rc == 0 && (hit = strstr(s, old))) {
		rc = ns_arm_buf_put(c, call, &b, s, (size_t)(hit - s));
		if (rc == 0)
			rc = ns_arm_buf_put(c, call, &b, nw, nn);
		s = hit + on;
	}
	if (rc == 0)
		rc = ns_arm_buf_put(c, call, &b, s, strlen(s));
	if (rc) {
		free(b.p);
		return rc;
	}
	return ns_arm_buf_done(c, call, &b, out);
}

/* The earliest of the delimiters in s; *dn its length. */
static const char *next_delim(const char *s, cJSON *const *delims, size_t nd, size_t *dn)
{
	const char *best = NULL;
	for (size_t i = 0; i < nd; i++) {
		const char *d = delims[i]->valuestring;
		size_t l = strlen(d);
		const char *h = l ? strstr(s, d) : NULL;
		if (h && (!best || h < best))
			best = h, *dn = l;
	}
	return best;
}

static int split_into(ns_arm_ctx *c, const ns_arm_node *call, const char *s, cJSON *const *d,
                      size_t nd, cJSON *arr)
{
	for (size_t n = 1;; n++) {
		size_t dn = 0;
		/* next_delim searches the rest once per delimiter */
		int rc = ns_arm_charge(c, call->off, nd * (strlen(s) / 256 + 1));
		const char *h = rc ? NULL : next_delim(s, d, nd, &dn);
		size_t len = h ? (size_t)(h - s) : strlen(s);
		cJSON *item = NULL;
		if (rc == 0)
			rc = ns_arm_check_items(c, call, n);
		if (rc == 0)
			rc = ns_arm_mk_string(c, call, s, len, &item);
		if (rc)
			return rc;
		cJSON_AddItemToArray(arr, item);
		if (!h)
			return 0;
		s = h + dn;
	}
}

/* split(inputString, delimiter): delimiter a string or an array of them. */
static int f_split(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argc;
	if (!cJSON_IsString(argv[0]))
		return ns_arm_type_error(c, call, 0, argv[0], "a string");
	cJSON *one[1] = {argv[1]}, **d = one;
	size_t nd = 1;
	if (cJSON_IsArray(argv[1])) {
		nd = (size_t)cJSON_GetArraySize(argv[1]);
		d = calloc(nd ? nd : 1, sizeof *d);
		if (!d)
			return ns_arm_nomem(c, call->off);
		size_t i = 0;
		for (cJSON *v = argv[1]->child; v; v = v->next)
			d[i++] = v;
	}
	int rc = 0;
	for (size_t i = 0; i < nd && rc == 0; i++)
		if (!cJSON_IsString(d[i]))
			rc = ns_arm_type_error(c, call, 1, d[i], "a string or an array of strings");
	*out = rc ? NULL : cJSON_CreateArray();
	if (rc == 0 && !*out)
		rc = ns_arm_nomem(c, call->off);
	if (rc == 0)
		rc = split_into(c, call, argv[0]->valuestring, d, nd, *out);
	if (d != one)
		free(d);
	return rc;
}

static int hash_args(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                     const char ***strs)
{
	int rc = want_strings(c, call, argv, 0, argc);
	if (rc)
		return rc;
	*strs = calloc(argc, sizeof **strs);
	if (!*strs)
		return ns_arm_nomem(c, call->off);
	for (size_t i = 0; i < argc; i++)
		(*strs)[i] = argv[i]->valuestring;
	return 0;
}

static int f_uniquestring(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                          cJSON **out)
{
	const char **strs = NULL;
	int rc = hash_args(c, call, argv, argc, &strs);
	if (rc)
		return rc;
	char h[14];
	rc = ns_arm_unique_string(strs, argc, h);
	free(strs);
	if (rc)
		return ns_arm_nomem(c, call->off);
	return ns_arm_mk_string(c, call, h, 13, out);
}

static int f_guid(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	const char **strs = NULL;
	int rc = hash_args(c, call, argv, argc, &strs);
	if (rc)
		return rc;
	char g[37];
	ns_arm_guid(strs, argc, g);
	free(strs);
	return ns_arm_mk_string(c, call, g, 36, out);
}

/* uri(baseUri, relativeUri), by the rules the function's page lists. */
static int f_uri(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out)
{
	(void)argc;
	int rc = want_strings(c, call, argv, 0, 2);
	if (rc)
		return rc;
	const char *base = argv[0]->valuestring, *rel = argv[1]->valuestring;
	size_t bn = strlen(base);
	const char *scheme = strstr(base, "//");
	const char *path = scheme ? scheme + 2 : base;
	const char *last = strrchr(path, '/');
	if (bn && base[bn - 1] == '/' && rel[0] == '/')
		rel++;
	else if (last && !(bn && base[bn - 1] == '/'))
		bn = (size_t)(last - base) + 1;
	ns_arm_buf b = {0};
	rc = ns_arm_buf_put(c, call, &b, base, bn);
	if (rc == 0)
		rc = ns_arm_buf_put(c, call, &b, rel, strlen(rel));
	if (rc) {
		free(b.p);
		return rc;
	}
	return ns_arm_buf_done(c, call, &b, out);
}

static int f_uricomponent(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                          cJSON **out)
{
	(void)argc;
	if (!cJSON_IsString(argv[0]))
		return ns_arm_type_error(c, call, 0, argv[0], "a string");
	static const char hex[] = "0123456789ABCDEF";
	ns_arm_buf b = {0};
	int rc = 0;
	for (const unsigned char *p = (const unsigned char *)argv[0]->valuestring; *p && !rc; p++) {
		char enc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
		bool keep = isalnum(*p) || strchr("-_.~", *p);
		rc = ns_arm_buf_put(c, call, &b, keep ? (const char *)p : enc, keep ? 1 : 3);
	}
	if (rc) {
		free(b.p);
		return rc;
	}
	return ns_arm_buf_done(c, call, &b, out);
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = (char)tolower((unsigned char)ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

static int f_uricomponenttostring(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                                  cJSON **out)
{
	(void)argc;
	if (!cJSON_IsString(argv[0]))
		return ns_arm_type_error(c, call, 0, argv[0], "a string");
	const char *s = argv[0]->valuestring;
	size_t n = strlen(s), k = 0;
	char *d = malloc(n + 1);
	if (!d)
		return ns_arm_nomem(c, call->off);
	for (size_t i = 0; i < n; i++) {
		int hi = i + 2 < n + 1 && s[i] == '%' ? hexval(s[i + 1]) : -1;
		int lo = hi >= 0 ? hexval(s[i + 2]) : -1;
		if (lo >= 0 && hi * 16 + lo != 0) {
			d[k++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			d[k++] = s[i];
		}
	}
	int rc = ns_arm_mk_string(c, call, d, k, out);
	free(d);
	return rc;
}

/* newGuid() and utcNow() differ on every deployment. */
static int f_volatile(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                      cJSON **out)
{
	(void)argv;
	(void)argc;
	return ns_arm_unknown_of(c, call, out);
}

int ns_arm_f_format(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out);
int ns_arm_f_base64(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc, cJSON **out);
int ns_arm_f_base64tostring(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                            cJSON **out);
int ns_arm_f_base64tojson(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                          cJSON **out);
int ns_arm_f_datauri(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                     cJSON **out);
int ns_arm_f_datauritostring(ns_arm_ctx *c, const ns_arm_node *call, cJSON **argv, size_t argc,
                             cJSON **out);

const ns_arm_func ns_arm_funcs_string[] = {
        {"toLower", 1, 1, 0, f_tolower},
        {"toUpper", 1, 1, 0, f_toupper},
        {"trim", 1, 1, 0, f_trim},
        {"startsWith", 2, 2, 0, f_startswith},
        {"endsWith", 2, 2, 0, f_endswith},
        {"indexOf", 2, 2, NS_ARM_DEEP_UNKNOWN, f_indexof},
        {"lastIndexOf", 2, 2, NS_ARM_DEEP_UNKNOWN, f_lastindexof},
        {"substring", 2, 3, 0, f_substring},
        {"padLeft", 2, 3, 0, f_padleft},
        {"replace", 3, 3, 0, f_replace},
        {"split", 2, 2, 0, f_split},
        {"uniqueString", 1, -1, 0, f_uniquestring},
        {"guid", 1, -1, 0, f_guid},
        {"uri", 2, 2, 0, f_uri},
        {"uriComponent", 1, 1, 0, f_uricomponent},
        {"uriComponentToString", 1, 1, 0, f_uricomponenttostring},
        {"newGuid", 0, 0, 0, f_volatile},
        {"utcNow", 0, 1, 0, f_volatile},
        {"dateTimeAdd", 2, 3, 0, f_volatile},
        {"format", 1, -1, 0, ns_arm_f_format},
        {"base64", 1, 1, 0, ns_arm_f_base64},
        {"base64ToString", 1, 1, 0, ns_arm_f_base64tostring},
        {"base64ToJson", 1, 1, 0, ns_arm_f_base64tojson},
        {"dataUri", 1, 1, 0, ns_arm_f_datauri},
        {"dataUriToString", 1, 1, 0, ns_arm_f_datauritostring},
        {NULL, 0, 0, 0, NULL},
};
