#include "export/sigma_yaml.h"

size_t sigma_utf8_next(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *p = (const unsigned char *)s;
	if (n == 0)
		return 0;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	size_t len;
	uint32_t c, min;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {	/* 0xc0, 0xc1 only start overlongs */
		len = 2, c = p[0] & 0x1f, min = 0x80;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3, c = p[0] & 0x0f, min = 0x800;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4, c = p[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

bool sigma_char_ok(uint32_t cp)
{
	if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
		return false;	/* C0 (tab and line breaks too), DEL, C1 (NEL among them) */
	if (cp == 0x2028 || cp == 0x2029 || cp == 0xfeff || cp == 0xfffe || cp == 0xffff)
		return false;	/* YAML 1.1 line breaks, the byte-order mark, non-characters */
	return cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
}

bool sigma_text_ok(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f) {	/* printable ASCII, the common case */
			i++;
			continue;
		}
		uint32_t cp;
		size_t k = sigma_utf8_next(s + i, n - i, &cp);
		if (k == 0 || !sigma_char_ok(cp))
			return false;
		i += k;
	}
	return true;
}

static int quote(struct buf *b, const char *s, size_t n, bool sigma)
{
	if (!sigma_text_ok(s, n))
		return ERR_INVALID;
	buf_reserve(b, n + n / 4 + 2);
	buf_putc(b, '\'');
	size_t run = 0;	/* bytes copied as they are, flushed before each escape */
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		const char *esc = NULL;
		if (ch == '\'')
			esc = "''";
		else if (sigma && ch == '\\')
			esc = "\\\\";
		else if (sigma && ch == '*')
			esc = "\\*";
		else if (sigma && ch == '?')
			esc = "\\?";
		if (esc == NULL)
			continue;
		buf_append(b, s + run, i - run);
		buf_puts(b, esc);
		run = i + 1;
	}
	buf_append(b, s + run, n - run);
	buf_putc(b, '\'');
	return 0;
}

int sigma_yaml_string(struct buf *b, const char *s, size_t n)
{
	return quote(b, s, n, false);
}

int sigma_yaml_value(struct buf *b, const char *s, size_t n)
{
	return quote(b, s, n, true);
}

void sigma_yaml_text(struct buf *b, const char *s, size_t n)
{
	buf_putc(b, '\'');
	bool space = true;	/* drops leading white space and collapses runs */
	size_t start = b->len;
	buf_reserve(b, n + 2);
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		if (c > 0x20 && c < 0x7f && c != '\'') {	/* printable ASCII but space and quote */
			size_t j = i + 1;
			while (j < n && (unsigned char)s[j] > 0x20 && (unsigned char)s[j] < 0x7f && s[j] != '\'')
				j++;
			buf_append(b, s + i, j - i);
			space = false;
			i = j;
			continue;
		}
		uint32_t cp;
		size_t k = sigma_utf8_next(s + i, n - i, &cp);
		if (k == 0) {
			buf_puts(b, "\xef\xbf\xbd");	/* U+FFFD for each invalid byte */
			space = false;
			i++;
			continue;
		}
		if (!sigma_char_ok(cp) || cp == ' ' || cp == 0xa0) {
			if (!space)
				buf_putc(b, ' ');
			space = true;
		} else if (cp == '\'') {
			buf_puts(b, "''");
			space = false;
		} else {
			buf_append(b, s + i, k);
			space = false;
		}
		i += k;
	}
	if (b->len > start && b->data[b->len - 1] == ' ')
		b->len--, b->data[b->len] = '\0';
	buf_putc(b, '\'');
}
