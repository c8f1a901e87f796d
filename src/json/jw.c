#include "json/jw.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/timeutil.h"

void jw_init(struct jw *w, struct buf *b)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
	w->first[0] = true;
}

static void sep(struct jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth > 0 && !w->first[w->depth])
		buf_putc(w->b, ',');
	w->first[w->depth] = false;
}

static void open_nested(struct jw *w, char open, char close)
{
	if (w->depth + 1 >= JW_MAX_DEPTH) {
		w->overflow = true;
		return;
	}
	sep(w);
	buf_putc(w->b, open);
	w->depth++;
	w->first[w->depth] = true;
	w->close[w->depth] = close;
}

void jw_obj(struct jw *w)
{
	open_nested(w, '{', '}');
}

void jw_arr(struct jw *w)
{
	open_nested(w, '[', ']');
}

void jw_end(struct jw *w)
{
	if (w->depth == 0)
		return;
	buf_putc(w->b, w->close[w->depth]);
	w->depth--;
	w->after_key = false;
}

void jw_keyn(struct jw *w, const char *k, size_t n)
{
	sep(w);
	buf_putc(w->b, '"');
	json_escape(w->b, k, n);
	buf_append(w->b, "\":", 2);
	w->after_key = true;
}

void jw_key(struct jw *w, const char *k)
{
	jw_keyn(w, k, strlen(k));
}

void jw_strn(struct jw *w, const char *s, size_t n)
{
	sep(w);
	if (s == NULL) {
		buf_append(w->b, "null", 4);
		return;
	}
	buf_putc(w->b, '"');
	json_escape(w->b, s, n);
	buf_putc(w->b, '"');
}

void jw_str(struct jw *w, const char *s)
{
	jw_strn(w, s, s ? strlen(s) : 0);
}

void jw_int(struct jw *w, int64_t v)
{
	sep(w);
	buf_put_i64(w->b, v);
}

void jw_double(struct jw *w, double v)
{
	sep(w);
	if (!isfinite(v)) {
		buf_append(w->b, "null", 4);
		return;
	}
	buf_printf(w->b, "%.17g", v);
}

void jw_bool(struct jw *w, bool v)
{
	sep(w);
	if (v)
		buf_append(w->b, "true", 4);
	else
		buf_append(w->b, "false", 5);
}

void jw_null(struct jw *w)
{
	sep(w);
	buf_append(w->b, "null", 4);
}

void jw_raw(struct jw *w, const char *json, size_t n)
{
	sep(w);
	buf_append(w->b, json, n);
}

void jw_time(struct jw *w, int64_t us)
{
	if (us <= 0) {
		jw_null(w);
		return;
	}
	char tmp[40];
	size_t n = time_format_to(tmp, us, TIME_MSEC);
	sep(w);
	buf_putc(w->b, '"');
	buf_append(w->b, tmp, n);
	buf_putc(w->b, '"');
}

void jw_kstr(struct jw *w, const char *k, const char *v)
{
	jw_key(w, k);
	jw_str(w, v);
}

void jw_kint(struct jw *w, const char *k, int64_t v)
{
	jw_key(w, k);
	jw_int(w, v);
}

void jw_kbool(struct jw *w, const char *k, bool v)
{
	jw_key(w, k);
	jw_bool(w, v);
}

void jw_ktime(struct jw *w, const char *k, int64_t us)
{
	jw_key(w, k);
	jw_time(w, us);
}

/* Length of the valid UTF-8 sequence at p (max n bytes), or 0 when invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	if (c < 0x80)
		return 1;
	if (c < 0xc2)
		return 0;
	if (c < 0xe0) {
		if (n < 2 || (p[1] & 0xc0) != 0x80)
			return 0;
		return 2;
	}
	if (c < 0xf0) {
		if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && p[1] < 0xa0)
			return 0;	/* overlong */
		if (c == 0xed && p[1] >= 0xa0)
			return 0;	/* surrogate */
		return 3;
	}
	if (c < 0xf5) {
		if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && p[1] < 0x90)
			return 0;
		if (c == 0xf4 && p[1] >= 0x90)
			return 0;
		return 4;
	}
	return 0;
}

int utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		size_t k = utf8_seq(p + i, n - i);
		if (k == 0)
			return 0;
		i += k;
	}
	return 1;
}

void json_escape(struct buf *b, const char *s, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;
	buf_reserve(b, n + 2);
	while (i < n) {
		unsigned c = p[i];
		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0x80) {
			size_t k = utf8_seq(p + i, n - i);
			if (k > 0) {
				i += k;
				continue;
			}
		}
		buf_append(b, s + run, i - run);
		switch (c) {
		case '"': buf_append(b, "\\\"", 2); break;
		case '\\': buf_append(b, "\\\\", 2); break;
		case '\n': buf_append(b, "\\n", 2); break;
		case '\r': buf_append(b, "\\r", 2); break;
		case '\t': buf_append(b, "\\t", 2); break;
		case '\b': buf_append(b, "\\b", 2); break;
		case '\f': buf_append(b, "\\f", 2); break;
		default:
			if (c < 0x20) {
				char u[6] = { '\\', 'u', '0', '0', hx[c >> 4], hx[c & 15] };
				buf_append(b, u, 6);
			} else {
				buf_append(b, "\xef\xbf\xbd", 3);	/* U+FFFD for a bad byte */
			}
		}
		i++;
		run = i;
	}
	buf_append(b, s + run, n - run);
}
