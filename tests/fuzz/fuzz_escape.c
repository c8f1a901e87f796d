/*
 * fuzz_escape.c — libFuzzer target for the export escapers (export/escape.h), which see
 * every byte of outside data that reaches a CEF, syslog or OpenIOC export.
 *
 * For any input: every output is valid UTF-8; CEF output has no raw line break, and a CEF
 * extension value or RFC 5424 parameter unescapes back to the input when the input is
 * valid UTF-8; XML output has no character XML 1.0 forbids and no raw '<' or '&' that does
 * not start an entity; the RPZ and JSON helpers never read past the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "export/escape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Length of the UTF-8 sequence at p (0: invalid). */
static size_t seq(const unsigned char *p, size_t n)
{
	if (p[0] < 0x80)
		return 1;
	size_t len = p[0] >= 0xc2 && p[0] <= 0xdf ? 2 : p[0] >= 0xe0 && p[0] <= 0xef ? 3
		   : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : 0;
	if (len == 0 || len > n)
		return 0;
	uint32_t c = p[0] & (0xff >> (len + 1));
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return len;
}

static bool valid_utf8(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t l = seq((const unsigned char *)s + i, n - i);
		if (l == 0)
			return false;
		i += l;
	}
	return true;
}

/* CEF extension and RFC 5424 unescaping: a backslash pair stands for its second byte
 * (\n and \r for the line breaks, in CEF). */
static size_t unescape(const char *s, size_t n, char *out, bool cef)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n) {
			char c = s[++i];
			out[o++] = cef && c == 'n' ? '\n' : cef && c == 'r' ? '\r' : c;
		} else {
			out[o++] = s[i];
		}
	}
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1);
	memcpy(in, data, size);
	in[size] = '\0';
	size_t len = strlen(in);	/* the escapers read to the NUL, as records are C strings */
	bool utf8 = valid_utf8(in, len);
	struct buf b = BUF_INIT;
	char *tmp = malloc(3 * len + 1);

	esc_cef_header(&b, in);
	if (!valid_utf8(b.data, b.len) || memchr(b.data, '\n', b.len) || memchr(b.data, '\r', b.len))
		abort();
	for (size_t i = 0; i < b.len; i++)
		if (b.data[i] == '\\' && (i + 1 == b.len || (b.data[i + 1] != '\\' && b.data[i + 1] != '|')))
			abort();
		else if (b.data[i] == '\\')
			i++;
		else if (b.data[i] == '|')
			abort();
	buf_reset(&b);

	esc_cef_ext(&b, in);
	if (!valid_utf8(b.data, b.len) || memchr(b.data, '\n', b.len) || memchr(b.data, '\r', b.len))
		abort();
	if (utf8 && (unescape(b.data, b.len, tmp, true) != len || memcmp(tmp, in, len) != 0))
		abort();
	buf_reset(&b);

	esc_sd_param(&b, in);
	if (!valid_utf8(b.data, b.len))
		abort();
	for (size_t i = 0; i < b.len; i++) {
		unsigned char c = (unsigned char)b.data[i];
		if (c < 0x20 || c == 0x7f)
			abort();
		if (c == '\\')
			i++;
		else if (c == '"' || c == ']')
			abort();
	}
	/* Control characters become spaces or "\n"/"\r": only clean input round-trips. */
	bool controls = false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)in[i] < 0x20 || in[i] == 0x7f)
			controls = true;
	if (utf8 && !controls && (unescape(b.data, b.len, tmp, false) != len || memcmp(tmp, in, len) != 0))
		abort();
	buf_reset(&b);

	for (int attr = 0; attr < 2; attr++) {
		esc_xml(&b, in, attr);
		if (!valid_utf8(b.data, b.len))
			abort();
		for (size_t i = 0; i < b.len; i++) {
			unsigned char c = (unsigned char)b.data[i];
			if ((c < 0x20 && c != '\t' && c != '\n') || c == '<' || (attr && (c == '"' || c < 0x20)))
				abort();
			if (c == '&' && !memchr(b.data + i, ';', b.len - i))
				abort();
			if (c == 0xef && i + 2 < b.len && (unsigned char)b.data[i + 1] == 0xbf &&
			    ((unsigned char)b.data[i + 2] == 0xbe || (unsigned char)b.data[i + 2] == 0xbf))
				abort();	/* U+FFFE, U+FFFF */
		}
		buf_reset(&b);
	}

	for (int t = IOC_IPV4; t <= IOC_IPV6; t++) {
		if (rpz_ip_trigger(&b, (enum ioc_type)t, in) &&
		    (b.len < 8 || memcmp(b.data + b.len - 7, ".rpz-ip", 7) != 0))
			abort();
		buf_reset(&b);
	}
	(void)rpz_name_fits(in, len, true);

	size_t pos = 0;
	for (int i = 0; i < 1000 && json_strings_next(in, &pos, &b); i++) {
		if (pos > len)
			abort();
		buf_reset(&b);
	}

	buf_cleanup(&b);
	free(tmp);
	free(in);
	return 0;
}
