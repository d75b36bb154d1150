/* Tests for lib/parse/json_flat.c (the service-tags JSON reader) and for
 * lib/parse/load_tags.c on top of it.
 *
 * - A table of documents with the exact code, line and column of each error.
 * - cJSON as the oracle: random valid documents must read to the same tree
 *   (types, decoded strings, numbers, key order) on both; random mutations of
 *   them must never be accepted here and refused by the cJSON path
 *   (ns_parse_json_text: its prescan, cJSON, its duplicate-key walk), and
 *   when both accept, the trees must be the same.  This reader is stricter
 *   than cJSON (leading zeros, "-.5", raw control characters, bytes below
 *   0x20 as whitespace): those are counted.
 * - The tags a loader holds, compared with an independent cJSON reading of
 *   the same file: the fixtures, and Microsoft's downloads under
 *   $NSGSIM_SHARED_DATA when it is set.
 *
 * The random tests use a fixed xorshift seed; NSGSIM_TEST_SEED changes it,
 * and every failure names the seed. */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/json_flat.h"
#include "json_oracle.h"
#include "files.h"
#include "xorshift.h"
#include "parse/load.h"
#include "nsgsim.h"
#include "compile/policy.h"

/* ---- helpers ---- */

typedef struct text {
	char *s;
	size_t n, cap;
} text;

static void put(text *t, const char *s, size_t n)
{
	if (t->n + n + 1 > t->cap) {
		t->cap = (t->n + n + 1) * 2;
		t->s = realloc(t->s, t->cap);
		assert_non_null(t->s);
	}
	memcpy(t->s + t->n, s, n);
	t->n += n;
	t->s[t->n] = '\0';
}

static void puts_(text *t, const char *s)
{
	put(t, s, strlen(s));
}

static uint64_t base_seed(void)
{
	return test_seed(0x6a736f6e666cull);
}

static unsigned pick(uint64_t *st, unsigned n)
{
	return (unsigned)(xs64(st) % n);
}

static int parse(const char *doc, size_t len, uint64_t depth, ns_jdoc *d, nsgsim_error *err)
{
	memset(err, 0, sizeof *err);
	return ns_jdoc_parse(d, "doc.json", doc, len, depth, err);
}

/* ---- (a) the grammar, error by error ---- */

static const struct {
	const char *doc;
	int code, line, column;
	const char *message; /* a part of it */
} cases[] = {
        {"{}", 0, 0, 0, NULL},
        {" [ ] ", 0, 0, 0, NULL},
        {"\xEF\xBB\xBF{\"a\": 1}", 0, 0, 0, NULL}, /* a byte-order mark */
        {"\"x\"", 0, 0, 0, NULL},
        {"-0.5e+10", 0, 0, 0, NULL},
        {"[0, -0, 1.25, 1E3, 2e-2, true, false, null]", 0, 0, 0, NULL},
        {"{\"k\": \"\\ud83d\\ude00 \\u00e9\\n\\\"\"}", 0, 0, 0, NULL},
        {"", NSGSIM_E_JSON, 1, 1, "expected a value"},
        {"  \n ", NSGSIM_E_JSON, 2, 2, "expected a value"},
        {"{\"a\": 1,}", NSGSIM_E_JSON, 1, 9, "expected a key"},
        {"[1, 2,]", NSGSIM_E_JSON, 1, 7, "expected a value"},
        {"[1 2]", NSGSIM_E_JSON, 1, 4, "expected ',' or ']'"},
        {"{\"a\" 1}", NSGSIM_E_JSON, 1, 6, "expected ':'"},
        {"{\"a\": 1\n\"b\": 2}", NSGSIM_E_JSON, 2, 1, "expected ',' or '}'"},
        {"{'a': 1}", NSGSIM_E_JSON, 1, 2, "expected a key"},
        {"[01]", NSGSIM_E_JSON, 1, 3, "expected ',' or ']'"}, /* no leading zeros */
        {"[1.]", NSGSIM_E_JSON, 1, 4, "a number"},
        {"[.5]", NSGSIM_E_JSON, 1, 2, "expected a value"},
        {"[1e]", NSGSIM_E_JSON, 1, 4, "a number"},
        {"[-]", NSGSIM_E_JSON, 1, 3, "a number"},
        {"[+1]", NSGSIM_E_JSON, 1, 2, "expected a value"},
        {"[tru]", NSGSIM_E_JSON, 1, 2, "expected a value"},
        {"[nulll]", NSGSIM_E_JSON, 1, 6, "expected ',' or ']'"},
        {"{} x", NSGSIM_E_JSON, 1, 4, "text after the document"},
        {"[\"abc", NSGSIM_E_JSON, 1, 2, "unterminated string"},
        {"[\"a\tb\"]", NSGSIM_E_JSON, 1, 4, "control character"},
        {"[\"a\\x\"]", NSGSIM_E_JSON, 1, 4, "invalid escape"},
        {"[\"\\u12G4\"]", NSGSIM_E_JSON, 1, 3, "invalid escape"},
        {"[\"\\u0000\"]", NSGSIM_E_JSON, 1, 3, "\\u0000"},
        {"[\"\\ude00\"]", NSGSIM_E_JSON, 1, 3, "low surrogate"},
        {"[\"\\ud83d x\"]", NSGSIM_E_JSON, 1, 3, "high surrogate"},
        {"[\"\\ud83d\\u0041\"]", NSGSIM_E_JSON, 1, 3, "high surrogate"},
        {"\n\n  [1,\n   2,\n   @]", NSGSIM_E_JSON, 5, 4, "expected a value"},
};

static void test_grammar_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ns_jdoc d;
		nsgsim_error err;
		int rc = parse(cases[i].doc, strlen(cases[i].doc), 64, &d, &err);
		if (rc != cases[i].code)
			fail_msg("case %zu '%s': rc %d, expected %d (%s)", i, cases[i].doc, rc,
			         cases[i].code, err.message);
		if (rc == 0) {
			assert_true(d.n > 0);
			ns_jdoc_free(&d);
			continue;
		}
		assert_null(d.nodes);
		if (err.line != cases[i].line || err.column != cases[i].column)
			fail_msg("case %zu '%s': line %d column %d, expected %d %d (%s)", i,
			         cases[i].doc, err.line, err.column, cases[i].line, cases[i].column,
			         err.message);
		if (!strstr(err.message, cases[i].message))
			fail_msg("case %zu: message '%s' lacks '%s'", i, err.message,
			         cases[i].message);
		assert_string_equal(err.file, "doc.json");
	}
}

/* A NUL byte is named, wherever it is (a C string would stop there). */
static void test_nul_bytes(void **state)
{
	(void)state;
	static const char *docs[] = {"[\"a\0b\"]", "[1,\0 2]",   "{\"a\":1}\0", "\0",
	                             "[tr\0e]",    "[\"\\\0\"]", "[1 2, \0]"};
	static const size_t lens[] = {7, 7, 8, 1, 6, 6, 8};
	for (size_t i = 0; i < 7; i++) {
		ns_jdoc d;
		nsgsim_error err;
		assert_int_equal(parse(docs[i], lens[i], 64, &d, &err), NSGSIM_E_JSON);
		if (!strstr(err.message, "NUL byte"))
			fail_msg("doc %zu: %s", i, err.message);
	}
}

static void test_depth_limit(void **state)
{
	(void)state;
	char doc[64];
	memset(doc, '[', 10);
	memset(doc + 10, ']', 10);
	ns_jdoc d;
	nsgsim_error err;
	assert_int_equal(parse(doc, 20, 10, &d, &err), 0);
	ns_jdoc_free(&d);
	assert_int_equal(parse(doc, 20, 9, &d, &err), NSGSIM_E_LIMIT);
	assert_int_equal(err.column, 10); /* the bracket that went too deep */
	assert_non_null(strstr(err.message, "NSGSIM_LIMIT_JSON_DEPTH"));
	/* Deeper than cJSON's own limit (1000): no recursion here. */
	size_t n = 100000;
	char *deep = malloc(2 * n);
	assert_non_null(deep);
	memset(deep, '[', n);
	memset(deep + n, ']', n);
	assert_int_equal(parse(deep, 2 * n, n, &d, &err), 0);
	assert_int_equal(d.n, n);
	assert_int_equal(ns_jat(&d, (uint32_t)n - 2)->len, 1);
	ns_jdoc_free(&d);
	free(deep);
}

/* ---- (b) duplicate keys ---- */

static void expect_duplicate(const char *doc, const char *pointer, const char *key)
{
	ns_jdoc d;
	nsgsim_error err;
	int rc = parse(doc, strlen(doc), 64, &d, &err);
	if (rc != NSGSIM_E_SHAPE)
		fail_msg("'%.60s': rc %d (%s), expected NSGSIM_E_SHAPE", doc, rc, err.message);
	assert_string_equal(err.pointer, pointer);
	char want[128];
	snprintf(want, sizeof want, "the key '%s' appears twice", key);
	if (!strstr(err.message, want))
		fail_msg("'%.60s': message '%s' lacks \"%s\"", doc, err.message, want);
}

static void test_duplicate_keys(void **state)
{
	(void)state;
	expect_duplicate("{\"a\": 1, \"b\": 2, \"A\": 3}", "/A", "A");
	/* escapes are decoded before comparing, and RFC 6901 escapes the path */
	expect_duplicate("{\"x/y\": [0, {\"n\\u0061me\": 1, \"NAME\": 2}]}", "/x~1y/1/NAME",
	                 "NAME");
	expect_duplicate("{\"a~b\": {\"k\": {}, \"k\": {}}}", "/a~0b/k", "k");
	/* an object of many keys (sorted, not compared pairwise): the first
	 * repeat in document order is named */
	text t = {0};
	puts_(&t, "{\"values\": [{");
	for (int i = 0; i < 300; i++) {
		char k[48];
		snprintf(k, sizeof k, "%s\"key%d\": %d", i ? ", " : "",
		         i == 250   ? 7
		         : i == 120 ? 40
		                    : i,
		         i);
		puts_(&t, k);
	}
	puts_(&t, "}]}");
	expect_duplicate(t.s, "/values/0/key40", "key40");
	free(t.s);
	/* the first repeat in the document is named, as the cJSON path's
	 * depth-first walk names it: an outer repeat before an inner one that
	 * comes later, an inner one that comes earlier before an outer one */
	expect_duplicate("{\"a\": 1, \"a\": {\"b\": 1, \"b\": 2}}", "/a", "a");
	expect_duplicate("{\"a\": 1, \"a\": 2, \"c\": {\"d\": 1, \"d\": 2}}", "/a", "a");
	expect_duplicate("{\"c\": {\"d\": 1, \"d\": 2}, \"a\": 1, \"a\": 2}", "/c/d", "d");
	/* a key's escapes are decoded in the pointer and the message, however long */
	text e = {0};
	for (int i = 0; i < 50; i++)
		puts_(&e, "\\u00e9");
	text long_keys = {0};
	puts_(&long_keys, "{\"");
	put(&long_keys, e.s, e.n);
	puts_(&long_keys, "\": 1, \"");
	put(&long_keys, e.s, e.n);
	puts_(&long_keys, "\": 2}");
	char want[128] = "/";
	for (int i = 0; i < 50; i++)
		strcat(want, "\xC3\xA9");
	expect_duplicate(long_keys.s, want, want + 1);
	free(e.s);
	free(long_keys.s);
	/* a syntax error anywhere comes before a repeated key */
	const char *cut = "{\"a\": {\"b\": 1, \"B\": 2}, \"values\": [";
	ns_jdoc d;
	nsgsim_error err;
	assert_int_equal(parse(cut, strlen(cut), 64, &d, &err), NSGSIM_E_JSON);
	/* different keys that only share a prefix, and the same key in two
	 * objects, are fine */
	const char *ok =
	        "{\"ab\": {\"a\": 1}, \"a\": {\"a\": 1}, \"abc\": [{\"a\": 1}, {\"a\": 2}]}";
	assert_int_equal(parse(ok, strlen(ok), 64, &d, &err), 0);
	ns_jdoc_free(&d);
}

static void test_lookup_and_decode(void **state)
{
	(void)state;
	const char *doc = "{\"Name\": \"a\\\"b\\u00e9\\ud83d\\ude00\", \"n\\u0075m\": -12.5e1, "
	                  "\"list\": [1, [], {}, \"x\"], \"nil\": null}";
	ns_jdoc d;
	nsgsim_error err;
	assert_int_equal(parse(doc, strlen(doc), 64, &d, &err), 0);
	uint32_t k = ns_jkey(&d, 0, "name");
	assert_true(k != 0);
	char buf[64];
	assert_int_equal(ns_jstr_decode(&d, k + 1, buf), 9);
	assert_string_equal(buf, "a\"b\xC3\xA9\xF0\x9F\x98\x80");
	k = ns_jkey(&d, 0, "NUM"); /* found through its escape */
	assert_true(k != 0 && ns_jis(&d, k + 1, NS_J_NUMBER));
	double x;
	assert_int_equal(ns_jnumber(&d, k + 1, &x), 0);
	assert_true(x == -125.0);
	k = ns_jkey(&d, 0, "list");
	uint32_t list = k + 1, e = ns_jfirst(&d, list);
	assert_int_equal(ns_jat(&d, list)->len, 4);
	int types[] = {NS_J_NUMBER, NS_J_ARRAY, NS_J_OBJECT, NS_J_STRING}, i = 0;
	for (; e; e = ns_jnext(&d, e), i++)
		assert_true(ns_jis(&d, e, types[i]));
	assert_int_equal(i, 4);
	assert_true(ns_jis(&d, ns_jkey(&d, 0, "nil") + 1, NS_J_NULL));
	assert_int_equal(ns_jkey(&d, 0, "absent"), 0);
	ns_jdoc_free(&d);
}

/* ---- (c) cJSON as the oracle ---- */

static void gen_ws(text *t, uint64_t *st)
{
	static const char *ws[] = {"", "", " ", "\n", "\t", "\r\n  "};
	puts_(t, ws[pick(st, 6)]);
}

static void gen_string(text *t, uint64_t *st, int suffix)
{
	static const char *pieces[] = {"a",
	                               "B",
	                               "z",
	                               " ",
	                               "~",
	                               "/",
	                               "\\\"",
	                               "\\\\",
	                               "\\/",
	                               "\\b",
	                               "\\f",
	                               "\\n",
	                               "\\r",
	                               "\\t",
	                               "\\u0041",
	                               "\\u00e9",
	                               "\\u20AC",
	                               "\\uFFFF",
	                               "\\u001f",
	                               "\xC3\xA9",
	                               "\xE2\x82\xAC",
	                               "\xF0\x9F\x98\x80",
	                               "\\ud83d\\ude00",
	                               "\\uDBFF\\uDFFF"};
	puts_(t, "\"");
	for (unsigned n = pick(st, 9); n; n--)
		puts_(t, pieces[pick(st, sizeof pieces / sizeof pieces[0])]);
	if (suffix >= 0) { /* keys stay unique, ignoring case too */
		char s[16];
		snprintf(s, sizeof s, "#%d", suffix);
		puts_(t, s);
	}
	puts_(t, "\"");
}

static void gen_number(text *t, uint64_t *st)
{
	static const char *ints[] = {"0", "-0", "7", "-12", "1234567890123", "9007199254740993"};
	static const char *fracs[] = {"", "", ".5", ".0001", ".123456789"};
	static const char *exps[] = {"", "", "e3", "E-2", "e+10", "e308", "E-400"};
	puts_(t, ints[pick(st, 6)]);
	puts_(t, fracs[pick(st, 5)]);
	puts_(t, exps[pick(st, 7)]);
}

static void gen_value(text *t, uint64_t *st, int depth)
{
	unsigned kind = depth >= 5 ? pick(st, 6) : pick(st, 9);
	if (kind <= 2) {
		gen_string(t, st, -1);
	} else if (kind == 3) {
		gen_number(t, st);
	} else if (kind == 4) {
		static const char *lit[] = {"true", "false", "null"};
		puts_(t, lit[pick(st, 3)]);
	} else if (kind == 5 || kind == 6) {
		puts_(t, "[");
		for (unsigned n = pick(st, 5), i = 0; i < n; i++) {
			gen_ws(t, st);
			if (i)
				puts_(t, ",");
			gen_ws(t, st);
			gen_value(t, st, depth + 1);
		}
		gen_ws(t, st);
		puts_(t, "]");
	} else {
		puts_(t, "{");
		for (unsigned n = pick(st, 5), i = 0; i < n; i++) {
			gen_ws(t, st);
			if (i)
				puts_(t, ",");
			gen_string(t, st, (int)i);
			gen_ws(t, st);
			puts_(t, ":");
			gen_ws(t, st);
			gen_value(t, st, depth + 1);
		}
		gen_ws(t, st);
		puts_(t, "}");
	}
}

/* What the cJSON path (ns_parse_json_text) makes of doc: 0 and a tree, or
 * its error code. */
static int cjson_path(ns_model *m, const char *doc, size_t len, cJSON **out)
{
	nsgsim_error err = {0};
	return ns_parse_json_text(m, "doc.json", doc, len, out, &err);
}

/* Malformed UTF-8 (RFC 3629) anywhere is NSGSIM_E_JSON at its byte, with
 * the same code, line, column and message on both JSON paths; well-formed
 * multi-byte text (U+FFFF and U+10FFFF included) is read by both. */
static void test_utf8(void **state)
{
	(void)state;
	static const struct {
		const char *doc;
		int line, col; /* 0: well-formed */
	} utf8_cases[] = {
	        {"[\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9D\x84\x9E\"]", 0, 0},
	        {"[\"\xEF\xBF\xBF \xF4\x8F\xBF\xBF\"]", 0, 0},
	        {"[\"\xFF\"]", 1, 3},             /* never in UTF-8 */
	        {"[\"ab\xC3\x28\"]", 1, 5},       /* a lead byte without its tail */
	        {"[\"\xC0\x80\"]", 1, 3},         /* overlong NUL */
	        {"[\"\xE0\x80\xAF\"]", 1, 3},     /* overlong '/' */
	        {"[\"\xED\xA0\x80\"]", 1, 3},     /* a UTF-16 surrogate */
	        {"[\"\xF4\x90\x80\x80\"]", 1, 3}, /* above U+10FFFF */
	        {"[\"\xF5\x80\x80\x80\"]", 1, 3},
	        {"[\"\x80\"]", 1, 3},                /* a lone continuation byte */
	        {"[1,\n \"x\",\n  \xE2\x82]", 3, 3}, /* outside a string, cut short */
	        {"{\"k\xE9y\": 1}", 1, 4},           /* Latin-1 in a key */
	        {"[\"\xE2\x82\xAC\"]\xF0", 1,
	         8}, /* cut short at the very end (columns count bytes) */
	};
	ns_model m;
	ns_model_init(&m);
	for (size_t i = 0; i < sizeof utf8_cases / sizeof utf8_cases[0]; i++) {
		const char *doc = utf8_cases[i].doc;
		size_t len = strlen(doc);
		ns_jdoc d;
		nsgsim_error mine, theirs = {0};
		cJSON *c = NULL;
		int a = parse(doc, len, 64, &d, &mine);
		int b = ns_parse_json_text(&m, "doc.json", doc, len, &c, &theirs);
		if (utf8_cases[i].line == 0) {
			if (a != 0 || b != 0)
				fail_msg("case %zu: well-formed UTF-8 refused: %s / %s", i,
				         mine.message, theirs.message);
			assert_true(json_same_tree(&d, 0, c));
			ns_jdoc_free(&d);
			cJSON_Delete(c);
			continue;
		}
		assert_int_equal(a, NSGSIM_E_JSON);
		assert_int_equal(b, NSGSIM_E_JSON);
		if (mine.line != utf8_cases[i].line || mine.column != utf8_cases[i].col)
			fail_msg("case %zu: at %d:%d, not %d:%d (%s)", i, mine.line, mine.column,
			         utf8_cases[i].line, utf8_cases[i].col, mine.message);
		assert_int_equal(theirs.line, mine.line);
		assert_int_equal(theirs.column, mine.column);
		assert_string_equal(theirs.message, mine.message);
		assert_non_null(strstr(mine.message, "malformed UTF-8"));
	}
	ns_model_free(&m);
}

static void mutate(text *t, uint64_t *st)
{
	static const char bytes[] = "{}[]\",:\\0123456789eE.+-tfnu \t\nax\x01";
	for (unsigned k = 1 + pick(st, 3); k && t->n; k--) {
		size_t at = pick(st, (unsigned)t->n);
		char b = bytes[pick(st, sizeof bytes - 1)];
		switch (pick(st, 3)) {
		case 0: /* delete */
			memmove(t->s + at, t->s + at + 1, t->n - at);
			t->n--;
			break;
		case 1: /* insert */
			put(t, " ", 1);
			memmove(t->s + at + 1, t->s + at, t->n - at - 1);
			t->s[at] = b;
			break;
		default:
			t->s[at] = b;
		}
	}
}

static void test_cjson_oracle(void **state)
{
	(void)state;
	uint64_t seed = base_seed(), st = seed;
	ns_model m;
	ns_model_init(&m);
	size_t valid = 0, mutants = 0, both = 0, stricter = 0;
	for (int round = 0; round < 3000; round++) {
		text t = {0};
		gen_ws(&t, &st);
		gen_value(&t, &st, round % 3);
		gen_ws(&t, &st);
		ns_jdoc d;
		nsgsim_error err;
		cJSON *c = NULL;
		if (parse(t.s, t.n, 64, &d, &err) != 0)
			fail_msg("seed %#llx round %d: refused a valid document (%s): %s",
			         (unsigned long long)seed, round, err.message, t.s);
		if (cjson_path(&m, t.s, t.n, &c) != 0)
			fail_msg("seed %#llx round %d: cJSON refused: %s", (unsigned long long)seed,
			         round, t.s);
		if (!json_same_tree(&d, 0, c))
			fail_msg("seed %#llx round %d: the trees differ: %s",
			         (unsigned long long)seed, round, t.s);
		valid++;
		ns_jdoc_free(&d);
		cJSON_Delete(c);
		for (int k = 0; k < 4; k++, mutants++) {
			text u = {0};
			put(&u, t.s, t.n);
			mutate(&u, &st);
			int mine = parse(u.s, u.n, 64, &d, &err);
			int theirs = cjson_path(&m, u.s, u.n, &c);
			if (mine == 0 && theirs != 0)
				fail_msg(
				        "seed %#llx round %d: accepted what the cJSON path refuses "
				        "(%d): %.*s",
				        (unsigned long long)seed, round, theirs, (int)u.n, u.s);
			if (mine == 0 && !json_same_tree(&d, 0, c))
				fail_msg("seed %#llx round %d: mutant trees differ: %.*s",
				         (unsigned long long)seed, round, (int)u.n, u.s);
			both += mine == 0;
			stricter += mine != 0 && theirs == 0;
			if (mine == 0)
				ns_jdoc_free(&d);
			cJSON_Delete(c);
			free(u.s);
		}
		free(t.s);
	}
	ns_model_free(&m);
	printf("json_flat: %zu valid documents read as cJSON reads them; %zu mutants: %zu "
	       "accepted by both (same trees), %zu refused only here (not RFC 8259: leading "
	       "zeros, raw control characters, ...)\n",
	       valid, mutants, both, stricter);
	assert_true(both > 100 && both < mutants); /* the mutants test both sides */
}

/* A number of more than 63 characters is read whole (strtod on a heap
 * copy), as Debian's cJSON reads it. */
static void test_long_number(void **state)
{
	(void)state;
	char doc[96] = "[1";
	memset(doc + 2, '0', 70);
	strcpy(doc + 72, "]");
	ns_jdoc d;
	nsgsim_error err;
	assert_int_equal(parse(doc, strlen(doc), 64, &d, &err), 0);
	double x;
	assert_int_equal(ns_jnumber(&d, 1, &x), 0);
	assert_true(x == 1e70);
	ns_model m;
	ns_model_init(&m);
	cJSON *c = NULL;
	if (cjson_path(&m, doc, strlen(doc), &c) == 0) /* Debian's cJSON reads it whole */
		assert_true(json_same_tree(&d, 0, c));
	else /* cJSON 1.7.15 as released reads 63 characters and refuses the rest */
		assert_true(json_has_long_number(&d));
	cJSON_Delete(c);
	ns_model_free(&m);
	ns_jdoc_free(&d);
}

/* ---- (d) the tags a loader holds vs an independent cJSON reading ---- */

static const cJSON *field(const cJSON *tag, const char *key)
{
	const cJSON *props = cJSON_GetObjectItem(tag, "properties");
	const cJSON *v = cJSON_IsObject(props) ? cJSON_GetObjectItem(props, key) : NULL;
	return v && !cJSON_IsNull(v) ? v : cJSON_GetObjectItem(tag, key);
}

static void check_tag(const ns_tag *t, const cJSON *tag, const char *path)
{
	const cJSON *region = field(tag, "region"), *features = field(tag, "networkFeatures");
	const cJSON *prefixes = field(tag, "addressPrefixes");
	assert_string_equal(t->name, field(tag, "name")->valuestring);
	if (cJSON_IsString(region))
		assert_string_equal(t->region, region->valuestring);
	else
		assert_null(t->region);
	assert_int_equal(t->n_features, cJSON_IsArray(features) ? cJSON_GetArraySize(features) : 0);
	for (size_t i = 0; i < t->n_features; i++)
		assert_string_equal(t->features[i],
		                    cJSON_GetArrayItem(features, (int)i)->valuestring);
	assert_int_equal(t->n_prefixes, cJSON_GetArraySize(prefixes));
	ns_psb b;
	ns_psb_init(&b);
	const cJSON *p;
	cJSON_ArrayForEach(p, prefixes)
	{
		int family, plen;
		ns_u128 addr;
		assert_int_equal(
		        ns_parse_prefix(p->valuestring, &family, &addr, &plen, NULL, NULL, NULL),
		        0);
		if (family == 4) {
			ns_range4 r = ns_range4_of_prefix((uint32_t)addr, plen);
			assert_int_equal(ns_psb_add4(&b, r.lo, r.hi), 0);
		} else {
			ns_range6 r = ns_range6_of_prefix(addr, plen);
			assert_int_equal(ns_psb_add6(&b, r.lo, r.hi), 0);
		}
	}
	ns_pset want;
	assert_int_equal(ns_psb_finish(&b, &want), 0);
	if (!ns_pset_equal(&t->set, &want))
		fail_msg("%s: tag %s: the prefixes differ from cJSON's reading", path, t->name);
	ns_pset_free(&want);
	ns_psb_free(&b);
}

static void compare_tags_file(const char *path)
{
	size_t len = 0;
	char *doc = test_read_file(path, &len);
	assert_non_null(doc);
	nsgsim_loader *l = nsgsim_loader_new();
	nsgsim_error err = {0};
	if (nsgsim_loader_add_service_tags(l, path, &err) != 0)
		fail_msg("%s: %s", path, err.message);
	const ns_model *m = ns_loader_model(l);
	cJSON *root = cJSON_ParseWithLength(doc, len);
	assert_non_null(root);
	const cJSON *values = cJSON_GetObjectItem(root, "values"), *tag;
	assert_int_equal(m->tags.n, cJSON_GetArraySize(values));
	size_t i = 0;
	cJSON_ArrayForEach(tag, values)
	{
		check_tag(NS_VEC_AT(&m->tags, ns_tag, i), tag, path);
		i++;
	}
	const cJSON *cloud = cJSON_GetObjectItem(root, "cloud");
	if (cJSON_IsString(cloud))
		assert_string_equal(m->tags_cloud, cloud->valuestring);
	else
		assert_null(m->tags_cloud);
	printf("  %s: %zu tags, %llu prefixes, the same as cJSON reads them\n", path, i,
	       (unsigned long long)m->n_prefixes);
	cJSON_Delete(root);
	nsgsim_loader_free(l);
	free(doc);
}

static void test_tags_as_cjson_reads_them(void **state)
{
	(void)state;
	compare_tags_file("fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json");
	compare_tags_file("fixtures/service_tags/rest_servicetags_list.json");
	const char *data = getenv("NSGSIM_SHARED_DATA");
	static const char *shared[] = {
	        "ServiceTags_Public_20251109.json", "ServiceTags_Public_20250414.json",
	        "ServiceTags_AzureGovernment_20260720.json", "ServiceTags_China_20260720.json"};
	if (!data || !*data)
		printf("SKIPPED comparison: NSGSIM_SHARED_DATA is not set: %zu real downloads not "
		       "compared\n",
		       sizeof shared / sizeof shared[0]);
	for (size_t i = 0; data && *data && i < sizeof shared / sizeof shared[0]; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/service_tags/%s", data, shared[i]);
		FILE *f = fopen(path, "rb");
		if (!f) {
			/* counted by tests/summary.py in make test's last line */
			printf("SKIPPED comparison: %s not found: not compared\n", path);
			continue;
		}
		fclose(f);
		compare_tags_file(path);
	}
}

/* ns_json_plain_run (eight bytes a step) against the byte loop it stands for:
 * random bytes, dense in the ones it stops at, from every start and to every
 * end of a 64-byte window, so each stopping byte meets every lane. */
static void test_plain_run(void **state)
{
	(void)state;
	static const unsigned char stops[] = {'"', '\\', '\n', 0, 0x1f, 0x7f, 0x80, 0xff, 'a', ' '};
	uint64_t x = 0x9E3779B97F4A7C15ULL;
	char buf[64];
	for (int round = 0; round < 2000; round++) {
		for (size_t i = 0; i < sizeof buf; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = (char)((x % 8) ? 'a' + (x >> 8) % 26 : stops[(x >> 16) % 10]);
		}
		for (size_t a = 0; a < sizeof buf; a++)
			for (size_t b = a; b <= sizeof buf; b++) {
				const char *want = buf + a;
				while (want < buf + b && (unsigned char)*want >= 0x20 &&
				       *want != '"' && *want != '\\')
					want++;
				assert_ptr_equal(ns_json_plain_run(buf + a, buf + b), want);
			}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_grammar_table),
	        cmocka_unit_test(test_nul_bytes),
	        cmocka_unit_test(test_depth_limit),
	        cmocka_unit_test(test_duplicate_keys),
	        cmocka_unit_test(test_lookup_and_decode),
	        cmocka_unit_test(test_cjson_oracle),
	        cmocka_unit_test(test_utf8),
	        cmocka_unit_test(test_long_number),
	        cmocka_unit_test(test_tags_as_cjson_reads_them),
	        cmocka_unit_test(test_plain_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
