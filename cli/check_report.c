/* nsgsim check's reports: JUnit XML (--junit FILE) and JSON (--json). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"

/* ---- JUnit XML ----------------------------------------------------------- */

/* The length of the XML character that starts at p, or 0 when p starts
 * malformed UTF-8 or U+FFFE/U+FFFF, which XML does not allow. */
static size_t xml_char_len(const unsigned char *p)
{
	size_t n;
	unsigned lo = 0x80, hi = 0xBF; /* the range of the second byte */
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		n = 2;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		n = 3, lo = p[0] == 0xE0 ? 0xA0 : lo, hi = p[0] == 0xED ? 0x9F : hi;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		n = 4, lo = p[0] == 0xF0 ? 0x90 : lo, hi = p[0] == 0xF4 ? 0x8F : hi;
	else
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	if (n == 3 && p[0] == 0xEF && p[1] == 0xBF && p[2] >= 0xBE)
		return 0;
	return n;
}

/* Writes s escaped for XML.  In an attribute, tab and newline become
 * references, or a parser would normalise them to blanks.  XML 1.0 cannot
 * carry the other control characters even as references, and a parser
 * rejects malformed UTF-8: both become U+FFFD, so that one odd byte in an
 * assertion file or a rule name does not make the whole report unreadable. */
static void xml_put(FILE *f, const char *s, bool attr)
{
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t n = xml_char_len(p);
		const char *esc = NULL;
		if (n == 0 || (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') || *p == 0x7F)
			esc = "\xEF\xBF\xBD";
		else if (*p == '&')
			esc = "&amp;";
		else if (*p == '<')
			esc = "&lt;";
		else if (*p == '>')
			esc = "&gt;";
		else if (*p == '"')
			esc = "&quot;";
		else if (*p == '\r')
			esc = "&#13;";
		else if (attr && *p == '\t')
			esc = "&#9;";
		else if (attr && *p == '\n')
			esc = "&#10;";
		if (esc)
			fputs(esc, f);
		else
			fwrite(p, 1, n, f);
		p += n ? n : 1;
	}
}

static void junit_failure(FILE *f, const nsgsim_policy *p, const assertion *a)
{
	char got[1024];
	describe_got(a, got, sizeof got);
	char *trace = failure_trace(p, a);
	fputs("      <failure message=\"", f);
	xml_put(f, got, true);
	fprintf(f, "\" type=\"%s\">expected: ",
	        a->rc != 0 ? nsgsim_error_name(a->rc) : "AssertionFailed");
	xml_put(f, a->text, false);
	fputs("\n", f);
	xml_put(f, got, false);
	fputs("\n", f);
	if (trace) {
		fputs("\n", f);
		xml_put(f, trace, false);
	}
	fputs("</failure>\n", f);
	free(trace);
}

static void junit_case(FILE *f, const nsgsim_policy *p, const suite *s, const assertion *a)
{
	fputs("    <testcase classname=\"", f);
	xml_put(f, s->files[a->file], true);
	fprintf(f, "\" name=\"%d: ", a->line);
	xml_put(f, a->text, true);
	fprintf(f, "\" time=\"%.6f\"", a->seconds);
	if (a->pass) {
		fputs("/>\n", f);
		return;
	}
	fputs(">\n", f);
	junit_failure(f, p, a);
	fputs("    </testcase>\n", f);
}

/* One <testsuite> per assertion file, as the reporters group them. */
static void junit_suite(FILE *f, const nsgsim_policy *p, const suite *s, int file,
                        const char *stamp)
{
	size_t tests = 0, failures = 0;
	double time = 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->a[i].file == file) {
			tests++;
			failures += !s->a[i].pass;
			time += s->a[i].seconds;
		}
	/* Named after the assertion file, as reporters list suites by name. */
	fputs("  <testsuite name=\"", f);
	xml_put(f, s->files[file], true);
	fprintf(f,
	        "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\" time=\"%.6f\" "
	        "timestamp=\"%s\">\n",
	        tests, failures, time, stamp);
	for (size_t i = 0; i < s->n; i++)
		if (s->a[i].file == file)
			junit_case(f, p, s, &s->a[i]);
	fputs("  </testsuite>\n", f);
}

int write_junit(const char *path, const nsgsim_policy *p, const suite *s, size_t failed)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "nsgsim: error: cannot write %s: %s\n", path, strerror(errno));
		return EXIT_USAGE;
	}
	char stamp[32] = "";
	time_t now = time(NULL);
	struct tm tm;
	if (gmtime_r(&now, &tm))
		strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	double total = 0;
	for (size_t i = 0; i < s->n; i++)
		total += s->a[i].seconds;
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fprintf(f,
	        "<testsuites name=\"nsgsim check\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
	        "time=\"%.6f\">\n",
	        s->n, failed, total);
	for (int i = 0; i < s->n_files; i++)
		junit_suite(f, p, s, i, stamp);
	fputs("</testsuites>\n", f);
	bool bad = ferror(f) != 0;
	if (fclose(f) != 0 || bad) {
		fprintf(stderr, "nsgsim: error: cannot write %s\n", path);
		return EXIT_USAGE;
	}
	return 0;
}

/* ---- JSON ------------------------------------------------------------------ */

static const char *kind_name(const assertion *a)
{
	if (a->set)
		return a->set_kind == SET_ALLOW_ONLY ? "allow-only" : "deny-all";
	return a->expect == NSGSIM_ALLOW ? "allow" : "deny";
}

static const char *endpoint_name(int endpoint)
{
	return endpoint == NSGSIM_ENDPOINT_SOURCE        ? "source"
	       : endpoint == NSGSIM_ENDPOINT_DESTINATION ? "destination"
	                                                 : NULL;
}

/* What eval answered (the range that failed, if one did); null for a set
 * assertion or one that could not be evaluated. */
static void json_answer(const assertion *a)
{
	if (a->set || a->rc != 0) {
		fputs(", \"verdict\": null, \"decidedBy\": null", stdout);
		return;
	}
	const nsgsim_result *r = &a->res;
	printf(", \"verdict\": \"%s\", \"decidedBy\": {\"layer\": ",
	       r->verdict == NSGSIM_ALLOW ? "Allow" : "Deny");
	json_string(stdout, nsgsim_layer_name(r->decided_layer));
	fputs(", \"rule\": ", stdout);
	json_string(stdout, r->decided_rule.name);
	fputs(", \"endpoint\": ", stdout);
	json_string(stdout, endpoint_name(r->decided_endpoint));
	fputs("}", stdout);
	if (a->ports_lo >= 0)
		printf(", \"sourcePorts\": \"%d-%d\"", a->ports_lo, a->ports_hi);
}

static void json_assertion(const suite *s, const assertion *a)
{
	fputs("{\"file\": ", stdout);
	json_string(stdout, s->files[a->file]);
	printf(", \"line\": %d, \"assertion\": ", a->line);
	json_string(stdout, a->text);
	printf(", \"kind\": \"%s\", \"pass\": %s", kind_name(a), a->pass ? "true" : "false");
	json_answer(a);
	fputs(", \"got\": ", stdout);
	if (a->pass) {
		fputs("null", stdout);
	} else {
		char got[1024];
		describe_got(a, got, sizeof got);
		json_string(stdout, got);
	}
	fputs(", \"error\": ", stdout);
	if (a->rc != 0) {
		printf("{\"code\": \"%s\", \"message\": ", nsgsim_error_name(a->rc));
		json_string(stdout, a->set ? a->set_got : a->err.message);
		fputs("}", stdout);
	} else {
		fputs("null", stdout);
	}
	printf(", \"seconds\": %.6f}", a->seconds);
}

void print_json(const nsgsim_policy *p, const suite *s, size_t failed)
{
	(void)p;
	fputs("{\"assertions\": [", stdout);
	for (size_t i = 0; i < s->n; i++) {
		fputs(i ? ",\n  " : "\n  ", stdout);
		json_assertion(s, &s->a[i]);
	}
	printf("%s],\n \"summary\": {\"assertions\": %zu, \"passed\": %zu, \"failed\": %zu}}\n",
	       s->n ? "\n " : "", s->n, s->n - failed, failed);
}
