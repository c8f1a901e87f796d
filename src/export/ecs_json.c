/*
 * ecs_json.c — the JSON side of the ECS mapping: a writer that opens an object
 * only when a member is written (so empty objects vanish), copies jansson
 * values with ti_custom's pruning and backslash halving, and the byte recipe
 * of Elasticsearch's fingerprint processor for document ids.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/xmalloc.h"
#include "export/ecs_int.h"
#include "json/jw.h"

static void str_body(struct ow *w, const char *s, size_t n)
{
	if (!w->collapse) {
		json_escape(w->b, s, n);
		return;
	}
	size_t from = 0, i = 0;
	while (i + 1 < n) {
		if (s[i] == '\\' && s[i + 1] == '\\') {
			json_escape(w->b, s + from, i + 1 - from);
			i += 2;
			from = i;
		} else {
			i++;
		}
	}
	json_escape(w->b, s + from, n - from);
}

void ow_str(struct ow *w, const char *s, size_t n)
{
	buf_putc(w->b, '"');
	str_body(w, s, n);
	buf_putc(w->b, '"');
}

static void raw_key(struct buf *b, const char *k, size_t n)
{
	buf_putc(b, '"');
	json_escape(b, k, n);
	buf_append(b, "\":", 2);
}

static void sep(struct ow *w)
{
	if (!w->first[w->open])
		buf_putc(w->b, ',');
	w->first[w->open] = false;
}

/* Writes the objects begun but not yet written. */
static void flush(struct ow *w)
{
	while (w->open < w->depth) {
		sep(w);
		raw_key(w->b, w->pend[w->open + 1], strlen(w->pend[w->open + 1]));
		buf_putc(w->b, '{');
		w->open++;
		w->first[w->open] = true;
	}
}

void ow_key(struct ow *w, const char *k)
{
	flush(w);
	sep(w);
	raw_key(w->b, k, strlen(k));
}

void ow_begin(struct ow *w, const char *k)
{
	if (w->depth + 1 < OW_MAX)
		w->pend[++w->depth] = k;
}

void ow_end(struct ow *w)
{
	if (w->open == w->depth) {
		buf_putc(w->b, '}');
		w->open--;
	}
	w->depth--;
}

void ow_kstr(struct ow *w, const char *k, const char *s, size_t n)
{
	if (n == 0 && w->prune)
		return;
	ow_key(w, k);
	ow_str(w, s, n);
}

void ow_kcstr(struct ow *w, const char *k, const char *s)
{
	if (s)
		ow_kstr(w, k, s, strlen(s));
}

static void put_real(struct buf *b, double d)
{
	char tmp[40];
	if (!isfinite(d)) {
		buf_puts(b, "null");
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	buf_puts(b, tmp);
	if (strspn(tmp, "-0123456789") == strlen(tmp))
		buf_puts(b, ".0");
}

bool ow_pruned(const struct ow *w, json_t *v)
{
	if (!w->prune)
		return false;
	switch (json_typeof(v)) {
	case JSON_NULL:
		return true;
	case JSON_STRING:
		return json_string_length(v) == 0;
	case JSON_ARRAY: {
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x)
			if (!ow_pruned(w, x))
				return false;
		return true;
	}
	case JSON_OBJECT: {
		const char *k;
		json_t *x;
		json_object_foreach(v, k, x)
			if (!ow_pruned(w, x))
				return false;
		return true;
	}
	default:
		return false;
	}
}

void ow_json(struct ow *w, json_t *v)
{
	struct buf *b = w->b;
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *x;
		bool first = true;
		buf_putc(b, '{');
		json_object_foreach(v, k, x) {
			if (ow_pruned(w, x))
				continue;
			if (!first)
				buf_putc(b, ',');
			first = false;
			raw_key(b, k, strlen(k));
			ow_json(w, x);
		}
		buf_putc(b, '}');
		return;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *x;
		bool first = true;
		buf_putc(b, '[');
		json_array_foreach(v, i, x) {
			if (ow_pruned(w, x))
				continue;
			if (!first)
				buf_putc(b, ',');
			first = false;
			ow_json(w, x);
		}
		buf_putc(b, ']');
		return;
	}
	case JSON_STRING:
		ow_str(w, json_string_value(v), json_string_length(v));
		return;
	case JSON_INTEGER:
		buf_put_i64(b, (long long)json_integer_value(v));
		return;
	case JSON_REAL:
		put_real(b, json_real_value(v));
		return;
	case JSON_TRUE:
		buf_puts(b, "true");
		return;
	case JSON_FALSE:
		buf_puts(b, "false");
		return;
	case JSON_NULL:
		buf_puts(b, "null");
		return;
	}
}

void ow_kjson(struct ow *w, const char *k, json_t *v)
{
	if (v == NULL || ow_pruned(w, v))
		return;
	ow_key(w, k);
	ow_json(w, v);
}


bool ecs_int_text(const char *s, size_t n, bool int32, long long *out)
{
	size_t i = 0;
	bool neg = false;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	if (i == n)
		return false;
	long long v = 0;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (LLONG_MAX - 9) / 10)
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (neg)
		v = -v;
	if (int32 && (v < -2147483648LL || v > 2147483647LL))
		return false;
	*out = v;
	return true;
}

void ow_klist(struct ow *w, const char *k, const struct ecs_list *l, enum list_kind kind)
{
	size_t live = 0;
	for (size_t i = 0; i < l->n; i++)
		live += l->v[i].len > 0 || !w->prune;
	if (live == 0)
		return;
	ow_key(w, k);
	buf_putc(w->b, '[');
	bool first = true, failed = false;
	for (size_t i = 0; i < l->n; i++) {
		const struct ecs_str *s = &l->v[i];
		long long iv;
		if (s->len == 0 && w->prune)
			continue;
		if (!first)
			buf_putc(w->b, ',');
		first = false;
		/* A conversion that fails stops there: later values stay text, as Elastic's foreach
		 * leaves them. */
		if (kind != L_STR && !failed && ecs_int_text(s->s, s->len, kind == L_INT32, &iv)) {
			buf_put_i64(w->b, iv);
		} else {
			failed = kind != L_STR;
			ow_str(w, s->s, s->len);
		}
	}
	buf_putc(w->b, ']');
}

void ow_kscalar(struct ow *w, const char *k, const struct ecs_list *l)
{
	if (l->n)
		ow_kstr(w, k, l->v[l->n - 1].s, l->v[l->n - 1].len);
}

/* ---- document ids: Elasticsearch's fingerprint processor ---- */

void ecs_fp_bytes(struct buf *b, const void *p, size_t n)
{
	buf_putc(b, '\0');
	buf_append(b, p, n);
}

static int fp_cmp(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Each value after a zero byte: strings as UTF-8, numbers as Java's little-endian Integer,
 * Long or Double, booleans as 1 or 2; lists element by element; maps by key order, each key
 * then its value. */
void ecs_fp_value(struct buf *b, json_t *v)
{
	unsigned char le[8];
	switch (json_typeof(v)) {
	case JSON_STRING:
		ecs_fp_bytes(b, json_string_value(v), json_string_length(v));
		return;
	case JSON_INTEGER: {
		long long x = json_integer_value(v);
		size_t n = x >= INT32_MIN && x <= INT32_MAX ? 4 : 8;
		for (size_t i = 0; i < n; i++)
			le[i] = (unsigned char)((unsigned long long)x >> (8 * i));
		ecs_fp_bytes(b, le, n);
		return;
	}
	case JSON_REAL: {
		double d = json_real_value(v);
		uint64_t bits;
		memcpy(&bits, &d, 8);
		for (size_t i = 0; i < 8; i++)
			le[i] = (unsigned char)(bits >> (8 * i));
		ecs_fp_bytes(b, le, 8);
		return;
	}
	case JSON_TRUE:
	case JSON_FALSE:
		le[0] = json_is_true(v) ? 1 : 2;
		ecs_fp_bytes(b, le, 1);
		return;
	case JSON_NULL:
		ecs_fp_bytes(b, NULL, 0);
		return;
	case JSON_ARRAY: {
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x)
			ecs_fp_value(b, x);
		return;
	}
	case JSON_OBJECT: {
		size_t n = json_object_size(v), k = 0;
		const char **keys = xmalloc((n ? n : 1) * sizeof(*keys));
		const char *key_;
		json_t *x;
		json_object_foreach(v, key_, x)
			keys[k++] = key_;
		qsort(keys, n, sizeof(*keys), fp_cmp);
		for (k = 0; k < n; k++) {
			ecs_fp_bytes(b, keys[k], strlen(keys[k]));
			ecs_fp_value(b, json_object_get(v, keys[k]));
		}
		free(keys);
		return;
	}
	}
}

void ecs_base64(const unsigned char *p, size_t n, char *out)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);
		out[o++] = t[v >> 18 & 63];
		out[o++] = t[v >> 12 & 63];
		out[o++] = i + 1 < n ? t[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? t[v & 63] : '=';
	}
	out[o] = '\0';
}

