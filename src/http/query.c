#include "http/query.h"

#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "base/xmalloc.h"
#include "json/jw.h"

long url_decode(const char *s, size_t len, char *out, int plus)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '%') {
			if (len - i < 3)
				return -1;
			int h = hex_digit(s[i + 1]), l = hex_digit(s[i + 2]);
			if (h < 0 || l < 0)
				return -1;
			out[o++] = (char)(h << 4 | l);
			i += 2;
		} else if (c == '+' && plus) {
			out[o++] = ' ';
		} else {
			out[o++] = c;
		}
	}
	out[o] = '\0';
	return (long)o;
}

static int clean_text(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 || c == 0x7f)
			return 0;
	}
	return utf8_valid(p, n);
}

int query_parse(struct query *q, const char *s, size_t len, struct err *e)
{
	q->n = 0;
	q->mem = NULL;
	q->bad[0] = '\0';
	if (len > QUERY_MAX_LEN)
		return err_set(e, ERR_TOO_LARGE, "query string longer than %d bytes", QUERY_MAX_LEN);
	q->mem = xmalloc(len * 2 + 2);
	char *w = q->mem;
	size_t i = 0;
	while (i < len) {
		size_t j = i;
		while (j < len && s[j] != '&')
			j++;
		if (j > i) {
			if (q->n == QUERY_MAX_PARAMS)
				return err_set(e, ERR_TOO_LARGE, "more than %d query parameters", QUERY_MAX_PARAMS);
			const char *eq = memchr(s + i, '=', j - i);
			size_t klen = eq ? (size_t)(eq - (s + i)) : j - i;
			struct query_param *p = &q->p[q->n];
			long kd = url_decode(s + i, klen, w, 1);
			if (kd < 0 || !clean_text(w, (size_t)kd))
				return err_set(e, ERR_INVALID, "malformed query parameter name");
			p->key = w;
			p->key_len = (size_t)kd;
			w += kd + 1;
			size_t vstart = eq ? klen + 1 : j - i;
			long vd = url_decode(s + i + vstart, j - i - vstart, w, 1);
			if (vd < 0 || !clean_text(w, (size_t)vd)) {
				/* Only a printable name goes into the error's details. */
				size_t k = 0;
				for (; k < p->key_len && k < sizeof(q->bad) - 1; k++) {
					char ch = p->key[k];
					q->bad[k] = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
							    (ch >= 'A' && ch <= 'Z') || ch == '[' || ch == ']' ? ch : '?';
				}
				q->bad[k] = '\0';
				return err_set(e, ERR_INVALID, "malformed value of query parameter '%.64s'", q->bad);
			}
			p->val = w;
			p->val_len = (size_t)vd;
			w += vd + 1;
			q->n++;
		}
		i = j + 1;
	}
	return 0;
}

void query_cleanup(struct query *q)
{
	free(q->mem);
	q->mem = NULL;
	q->n = 0;
}

const struct query_param *query_get(const struct query *q, const char *key)
{
	for (size_t i = 0; i < q->n; i++)
		if (strcmp(q->p[i].key, key) == 0)
			return &q->p[i];
	return NULL;
}

size_t query_count(const struct query *q, const char *key)
{
	size_t c = 0;
	for (size_t i = 0; i < q->n; i++)
		if (strcmp(q->p[i].key, key) == 0)
			c++;
	return c;
}
