/*
 * The wire-level pieces of the TAXII server that read outside input, kept apart from the
 * handlers so that they can be fuzzed (tests/fuzz/fuzz_taxii.c): media types with their
 * parameters, URL-safe base64, TAXII time stamps and resource paths.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/taxii_wire.h"
#include "base/timeutil.h"

void taxii_b64url(struct buf *b, const uint8_t *p, size_t n)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);
		buf_putc(b, al[v >> 18 & 63]);
		buf_putc(b, al[v >> 12 & 63]);
		if (i + 1 < n)
			buf_putc(b, al[v >> 6 & 63]);
		if (i + 2 < n)
			buf_putc(b, al[v & 63]);
	}
}

static int b64url_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '-' ? 62 : c == '_' ? 63 : -1;
}

/* Decodes into out (cap bytes); -1 on a bad character or overflow. */
long taxii_b64url_decode(const char *s, size_t n, uint8_t *out, size_t cap)
{
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64url_val(s[i]);
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				return -1;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	return (long)o;
}

/* TAXII timestamps in: RFC 3339 with a time; a '+' that a client left unescaped in the
 * query (decoded to a space) is taken back. */
bool taxii_time_parse(const char *s, int64_t *out)
{
	char tmp[64];
	size_t n = strlen(s);
	if (n <= 10 || n >= sizeof(tmp))
		return false;
	memcpy(tmp, s, n + 1);
	if (n > 6 && tmp[n - 6] == ' ')
		tmp[n - 6] = '+';
	return time_parse_rfc3339_any(tmp, n, out, NULL) == 0;
}

static bool ieq(const char *a, size_t n, const char *b)
{
	return strlen(b) == n && strncasecmp(a, b, n) == 0;
}

static const char *trim(const char *p, const char *end, const char **tend)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*tend = end;
	return p;
}

/*
 * Parses one media type with parameters, [p, end): *type gets the type/subtype, and the
 * version and q parameters are returned through ver (NULL when absent) and q.
 */
static void media_parse(const char *p, const char *end, const char **type, size_t *tlen, const char **ver,
			size_t *vlen, double *q)
{
	const char *semi = memchr(p, ';', (size_t)(end - p));
	const char *tend;
	*type = trim(p, semi ? semi : end, &tend);
	*tlen = (size_t)(tend - *type);
	*ver = NULL;
	*vlen = 0;
	*q = 1.0;
	while (semi) {
		const char *ps = semi + 1;
		semi = memchr(ps, ';', (size_t)(end - ps));
		const char *pe = semi ? semi : end, *ke;
		const char *k = trim(ps, pe, &ke);
		const char *eq = memchr(k, '=', (size_t)(ke - k));
		if (eq == NULL)
			continue;
		const char *kend, *vend;
		k = trim(k, eq, &kend);
		const char *v = trim(eq + 1, ke, &vend);
		if (vend - v >= 2 && *v == '"' && vend[-1] == '"')
			v++, vend--;
		if (ieq(k, (size_t)(kend - k), "version")) {
			*ver = v;
			*vlen = (size_t)(vend - v);
		} else if (ieq(k, (size_t)(kend - k), "q")) {
			char tmp[16];
			size_t l = (size_t)(vend - v) < sizeof(tmp) - 1 ? (size_t)(vend - v) : sizeof(tmp) - 1;
			memcpy(tmp, v, l);
			tmp[l] = '\0';
			*q = strtod(tmp, NULL);
		}
	}
}

bool taxii_accept_ok(const char *a, size_t len)
{
	if (a == NULL)
		return true;
	const char *end = a + len, *p = a;
	bool blank = true;
	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *ie = comma ? comma : end;
		const char *type, *ver;
		size_t tl, vl;
		double q;
		media_parse(p, ie, &type, &tl, &ver, &vl, &q);
		p = comma ? comma + 1 : end;
		if (tl == 0)
			continue;
		blank = false;
		if (q <= 0)
			continue;
		if (ieq(type, tl, "application/taxii+json") && (ver == NULL || ieq(ver, vl, "2.1")))
			return true;
		if (ieq(type, tl, "application/json") || ieq(type, tl, "*/*") || ieq(type, tl, "application/*"))
			return true;
	}
	return blank;
}

bool taxii_content_type_ok(const char *v, size_t len)
{
	if (v == NULL)
		return false;
	const char *type, *ver;
	size_t tl, vl;
	double q;
	media_parse(v, v + len, &type, &tl, &ver, &vl, &q);
	return ieq(type, tl, "application/taxii+json") && (ver == NULL || ieq(ver, vl, "2.1"));
}

bool taxii_split_path(char *path, char **seg, size_t max, size_t *n)
{
	*n = 0;
	if (*path == '\0')
		return true;
	if (*path != '/')
		return false;
	for (char *p = path + 1;;) {
		char *end = strchr(p, '/');
		if (end == p || *p == '\0' || *n == max)
			return false;
		seg[(*n)++] = p;
		if (end == NULL)
			return true;
		*end = '\0';
		p = end + 1;
	}
}

