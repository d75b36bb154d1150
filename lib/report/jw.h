/* A small pretty-printing JSON writer over ns_buf, shared by the report
 * files that print JSON (effective rules, `show`): two-space indents, one
 * member per line, so outputs diff well and compare byte for byte.
 *
 * May touch: lib/base. */
#ifndef NSGSIM_JW_H
#define NSGSIM_JW_H

#include "base/base.h"

typedef struct jw {
	ns_buf *b;
	int depth;
	bool first; /* no comma needed before the next member */
} jw;

static inline void jw_newline(jw *w)
{
	ns_buf_puts(w->b, "\n");
	for (int i = 0; i < w->depth; i++)
		ns_buf_puts(w->b, "  ");
}

static inline void jw_sep(jw *w)
{
	if (!w->first)
		ns_buf_puts(w->b, ",");
	w->first = false;
	if (w->depth > 0)
		jw_newline(w);
}

static inline void jw_key(jw *w, const char *key)
{
	jw_sep(w);
	ns_buf_json_string(w->b, key);
	ns_buf_puts(w->b, ": ");
}

static inline void jw_open(jw *w, const char *bracket)
{
	ns_buf_puts(w->b, bracket);
	w->depth++;
	w->first = true;
}

static inline void jw_close(jw *w, const char *bracket)
{
	bool empty = w->first;
	w->depth--;
	if (!empty)
		jw_newline(w);
	ns_buf_puts(w->b, bracket);
	w->first = false;
}

static inline void jw_str(jw *w, const char *s)
{
	jw_sep(w);
	ns_buf_json_string(w->b, s);
}

static inline void jw_kstr(jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	ns_buf_json_string(w->b, s);
}

#endif
