/*
 * jw.h — a small, fast JSON writer into a struct buf.
 *
 * The writer tracks nesting so callers never place commas by hand:
 *
 *     struct jw w; jw_init(&w, &out);
 *     jw_obj(&w); jw_key(&w, "n"); jw_int(&w, 3); jw_end(&w);
 *
 * Strings are escaped per RFC 8259; invalid UTF-8 is replaced by U+FFFD so the
 * output is always valid JSON. Nesting is capped at JW_MAX_DEPTH (deeper
 * calls are ignored and set w->overflow). The writer does not own the buffer.
 */
#ifndef CAIRN_JSON_JW_H
#define CAIRN_JSON_JW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define JW_MAX_DEPTH 32

struct jw {
	struct buf *b;
	int depth;
	bool overflow;
	bool first[JW_MAX_DEPTH];
	char close[JW_MAX_DEPTH];
	bool after_key;
};

void jw_init(struct jw *w, struct buf *b);
void jw_obj(struct jw *w);
void jw_arr(struct jw *w);
void jw_end(struct jw *w);		/* closes the innermost object or array */
void jw_key(struct jw *w, const char *k);
void jw_keyn(struct jw *w, const char *k, size_t n);
void jw_str(struct jw *w, const char *s);	/* NULL writes null */
void jw_strn(struct jw *w, const char *s, size_t n);
void jw_int(struct jw *w, int64_t v);
void jw_double(struct jw *w, double v);
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);
void jw_raw(struct jw *w, const char *json, size_t n);	/* a value already in JSON */
void jw_time(struct jw *w, int64_t us);		/* RFC 3339 with ms, or null when 0 */

/* key + value shorthands */
void jw_kstr(struct jw *w, const char *k, const char *v);
void jw_kint(struct jw *w, const char *k, int64_t v);
void jw_kbool(struct jw *w, const char *k, bool v);
void jw_ktime(struct jw *w, const char *k, int64_t us);

/* Appends s escaped (without quotes) to b. */
void json_escape(struct buf *b, const char *s, size_t n);
/* 1 when p[0..n) is valid UTF-8 (no overlongs, no surrogates). */
int utf8_valid(const char *p, size_t n);

#endif
