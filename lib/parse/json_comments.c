/* Comments in JSON: ARM templates and deployment parameters files may hold
 * `//` line and block comments, which Azure accepts ("Comments and metadata",
 * https://learn.microsoft.com/azure/azure-resource-manager/templates/syntax#comments).
 * They are blanked out before the JSON parser sees the text, keeping every
 * newline, so that line and column in errors stay those of the file.
 *
 * May touch: lib/base. */
#include <stdlib.h>
#include <string.h>

#include "parse/json_flat.h"

/* Where the next comment starts outside strings, or NULL. */
static const char *next_comment(const char *p, const char *end)
{
	bool in_string = false;
	for (; p < end; p++) {
		if (in_string) {
			p = ns_json_plain_run(p, end);
			if (p == end)
				break;
			if (*p == '\\')
				p++;
			else if (*p == '"')
				in_string = false;
		} else if (*p == '"') {
			in_string = true;
		} else if (*p == '/' && p + 1 < end && (p[1] == '/' || p[1] == '*')) {
			return p;
		}
	}
	return NULL;
}

/* Blanks one comment starting at p; returns where scanning goes on.  An
 * unterminated block comment is left as it is, for the parser to report. */
static char *blank_comment(char *p, char *end)
{
	bool block = p[1] == '*';
	char *q = p + 2;
	if (block) {
		while (q + 1 < end && !(q[0] == '*' && q[1] == '/'))
			q++;
		if (q + 1 >= end)
			return end;
		q += 2;
	} else {
		while (q < end && *q != '\n' && *q != '\r')
			q++;
	}
	for (char *k = p; k < q; k++)
		if (*k != '\n' && *k != '\r')
			*k = ' ';
	return q;
}

int ns_json_strip_comments(const char *text, size_t len, char **out)
{
	*out = NULL;
	const char *first = next_comment(text, text + len);
	if (!first)
		return 0;
	char *copy = malloc(len + 1);
	if (!copy)
		return NSGSIM_E_NOMEM;
	memcpy(copy, text, len);
	copy[len] = '\0';
	char *end = copy + len;
	for (char *p = copy + (first - text); p;) {
		p = blank_comment(p, end);
		p = (char *)next_comment(p, end);
	}
	*out = copy;
	return 0;
}
