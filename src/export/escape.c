#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "export/escape.h"

#define REPLACEMENT "\xef\xbf\xbd"	/* U+FFFD */

/*
 * Length of the valid UTF-8 sequence at s (2–4 bytes, s[0] >= 0x80), with its code
 * point, or 0. ioc/'s decoder is private to that module; this one reads to a NUL.
 */
static size_t utf8_seq(const unsigned char *s, uint32_t *cp)
{
	size_t n;
	uint32_t c, min;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1fu, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0fu, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07u, min = 0x10000;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)	/* also stops at the NUL */
			return 0;
		c = c << 6 | (s[i] & 0x3fu);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/*
 * The shared loop, writing to o (room for 3 bytes per input byte): ASCII bytes whose
 * table entry is 0 are copied in runs; a special ASCII byte goes to emit(o, c), which
 * returns the new end; valid UTF-8 is copied unless bad_cp(code point); invalid UTF-8
 * becomes U+FFFD. Every table marks NUL special, which ends the loop.
 */
#define ESCAPE_TO(o, s, table, emit, bad_cp)                                             \
	do {                                                                             \
		const unsigned char *p_ = (const unsigned char *)(s), *run_ = p_;       \
		for (;;) {                                                               \
			unsigned char c_ = *p_;                                          \
			if (c_ < 0x80) {                                                 \
				if (!table[c_]) {                                        \
					p_++;                                            \
					continue;                                        \
				}                                                        \
				memcpy(o, run_, (size_t)(p_ - run_));                   \
				o += p_ - run_;                                          \
				if (c_ == 0)                                             \
					break;                                           \
				o = emit(o, c_);                                         \
				run_ = ++p_;                                             \
				continue;                                                \
			}                                                                \
			uint32_t cp_;                                                    \
			size_t n_ = utf8_seq(p_, &cp_);                                  \
			if (n_ && !bad_cp(cp_)) {                                        \
				p_ += n_;                                                \
				continue;                                                \
			}                                                                \
			memcpy(o, run_, (size_t)(p_ - run_));                           \
			o += p_ - run_;                                                  \
			memcpy(o, REPLACEMENT, 3);                                       \
			o += 3;                                                          \
			p_ += n_ ? n_ : 1;                                               \
			run_ = p_;                                                       \
		}                                                                        \
	} while (0)

/* The buffer form of a _to function: room for the worst case, then the raw write. */
#define BUF_FORM(b, s, to)                                        \
	do {                                                      \
		buf_reserve(b, 3 * strlen(s));                    \
		char *end_ = to((b)->data + (b)->len, s);         \
		(b)->len = (size_t)(end_ - (b)->data);            \
		(b)->data[(b)->len] = '\0';                       \
	} while (0)

static inline bool no_bad_cp(uint32_t cp)
{
	(void)cp;
	return false;
}

static inline char *put2(char *o, char a, char c)
{
	o[0] = a;
	o[1] = c;
	return o + 2;
}

/* ---- CEF ---- */

static const unsigned char cef_header_special[128] = { [0] = 1, ['\\'] = 1, ['|'] = 1, ['\n'] = 1, ['\r'] = 1 };

static inline char *cef_header_emit(char *o, unsigned char c)
{
	if (c == '\n' || c == '\r') {
		*o++ = ' ';
		return o;
	}
	return put2(o, '\\', (char)c);
}

char *esc_cef_header_to(char *o, const char *s)
{
	ESCAPE_TO(o, s, cef_header_special, cef_header_emit, no_bad_cp);
	return o;
}

void esc_cef_header(struct buf *b, const char *s)
{
	BUF_FORM(b, s, esc_cef_header_to);
}

static const unsigned char cef_ext_special[128] = { [0] = 1, ['\\'] = 1, ['='] = 1, ['\n'] = 1, ['\r'] = 1 };

static inline char *cef_ext_emit(char *o, unsigned char c)
{
	return put2(o, '\\', c == '\n' ? 'n' : c == '\r' ? 'r' : (char)c);
}

char *esc_cef_ext_to(char *o, const char *s)
{
	ESCAPE_TO(o, s, cef_ext_special, cef_ext_emit, no_bad_cp);
	return o;
}

void esc_cef_ext(struct buf *b, const char *s)
{
	BUF_FORM(b, s, esc_cef_ext_to);
}

/* ---- RFC 5424 structured data ---- */

static const unsigned char sd_special[128] = {
	[0] = 1, [1] = 1, [2] = 1, [3] = 1, [4] = 1, [5] = 1, [6] = 1, [7] = 1, [8] = 1, [9] = 1,
	[10] = 1, [11] = 1, [12] = 1, [13] = 1, [14] = 1, [15] = 1, [16] = 1, [17] = 1, [18] = 1,
	[19] = 1, [20] = 1, [21] = 1, [22] = 1, [23] = 1, [24] = 1, [25] = 1, [26] = 1, [27] = 1,
	[28] = 1, [29] = 1, [30] = 1, [31] = 1, ['"'] = 1, ['\\'] = 1, [']'] = 1, [0x7f] = 1,
};

static inline char *sd_emit(char *o, unsigned char c)
{
	if (c == '\n' || c == '\r')
		return put2(o, '\\', c == '\n' ? 'n' : 'r');
	if (c < 0x20 || c == 0x7f) {
		*o++ = ' ';
		return o;
	}
	return put2(o, '\\', (char)c);
}

char *esc_sd_param_to(char *o, const char *s)
{
	ESCAPE_TO(o, s, sd_special, sd_emit, no_bad_cp);
	return o;
}

void esc_sd_param(struct buf *b, const char *s)
{
	BUF_FORM(b, s, esc_sd_param_to);
}

/* ---- XML 1.0 ---- */

#define C0_BUT_TAB_LF                                                                    \
	[0] = 1, [1] = 1, [2] = 1, [3] = 1, [4] = 1, [5] = 1, [6] = 1, [7] = 1, [8] = 1,       \
	[11] = 1, [12] = 1, [13] = 1, [14] = 1, [15] = 1, [16] = 1, [17] = 1, [18] = 1,        \
	[19] = 1, [20] = 1, [21] = 1, [22] = 1, [23] = 1, [24] = 1, [25] = 1, [26] = 1,        \
	[27] = 1, [28] = 1, [29] = 1, [30] = 1, [31] = 1
static const unsigned char xml_text_special[128] = { C0_BUT_TAB_LF, ['&'] = 1, ['<'] = 1, ['>'] = 1 };
static const unsigned char xml_attr_special[128] = {
	C0_BUT_TAB_LF, ['\t'] = 1, ['\n'] = 1, ['&'] = 1, ['<'] = 1, ['>'] = 1, ['"'] = 1, ['\''] = 1,
};

static inline char *put_str(char *o, const char *s)
{
	size_t n = strlen(s);
	memcpy(o, s, n);
	return o + n;
}

/* An entity is at most 6 bytes for a 1-byte input, so esc_xml reserves 6 per byte. */
static inline char *xml_emit(char *o, unsigned char c)
{
	switch (c) {
	case '&': return put_str(o, "&amp;");
	case '<': return put_str(o, "&lt;");
	case '>': return put_str(o, "&gt;");
	case '"': return put_str(o, "&quot;");
	case '\'': return put_str(o, "&apos;");
	case '\t': return put_str(o, "&#9;");
	case '\n': return put_str(o, "&#10;");
	case '\r': return put_str(o, "&#13;");
	default: return put_str(o, REPLACEMENT);	/* a C0 control XML 1.0 forbids */
	}
}

/* Non-characters XML 1.0's Char production leaves out (surrogates never decode). */
static inline bool xml_bad_cp(uint32_t cp)
{
	return cp == 0xfffe || cp == 0xffff;
}

void esc_xml(struct buf *b, const char *s, bool attr)
{
	buf_reserve(b, 6 * strlen(s));
	char *o = b->data + b->len;
	if (attr)
		ESCAPE_TO(o, s, xml_attr_special, xml_emit, xml_bad_cp);
	else
		ESCAPE_TO(o, s, xml_text_special, xml_emit, xml_bad_cp);
	b->len = (size_t)(o - b->data);
	b->data[b->len] = '\0';
}

/* ---- RPZ ---- */

static void put_uint(struct buf *b, unsigned v, bool hex)
{
	char t[12];
	int n = snprintf(t, sizeof(t), hex ? "%x" : "%u", v);
	buf_append(b, t, (size_t)n);
}

bool rpz_ip_trigger(struct buf *b, enum ioc_type t, const char *value)
{
	char addr[64];
	const char *slash = strchr(value, '/');
	size_t alen = slash ? (size_t)(slash - value) : strlen(value);
	if (alen >= sizeof(addr))
		return false;
	memcpy(addr, value, alen);
	addr[alen] = '\0';
	unsigned prefix = t == IOC_IPV4 ? 32 : 128;
	if (slash) {
		unsigned v = 0;
		for (const char *p = slash + 1; *p; p++) {
			if (*p < '0' || *p > '9' || v > prefix)
				return false;
			v = v * 10 + (unsigned)(*p - '0');
		}
		if (v > prefix)
			return false;
		prefix = v;
	}
	if (prefix == 0)
		return false;
	unsigned char ip[16];
	if (inet_pton(t == IOC_IPV4 ? AF_INET : AF_INET6, addr, ip) != 1)
		return false;
	put_uint(b, prefix, false);
	if (t == IOC_IPV4) {
		for (int i = 3; i >= 0; i--) {
			buf_putc(b, '.');
			put_uint(b, ip[i], false);
		}
	} else {
		/* Words reversed; the longest run of 2+ zero words becomes "zz", the last such
		 * run in this reversed order on a tie (BIND's canonical form, which is RFC
		 * 5952's choice read backwards). */
		unsigned w[8];
		for (int i = 0; i < 8; i++)
			w[i] = (unsigned)ip[14 - 2 * i] << 8 | ip[15 - 2 * i];
		int best = -1, best_len = 1, cur = -1, cur_len = 0;
		for (int i = 0; i < 8; i++) {
			if (w[i] != 0) {
				cur = -1, cur_len = 0;
				continue;
			}
			if (cur < 0)
				cur = i;
			if (++cur_len >= best_len && cur_len >= 2)
				best = cur, best_len = cur_len;
		}
		for (int i = 0; i < 8; i++) {
			buf_putc(b, '.');
			if (i == best) {
				buf_puts(b, "zz");
				i += best_len - 1;
			} else {
				put_uint(b, w[i], true);
			}
		}
	}
	buf_puts(b, ".rpz-ip");
	return true;
}

bool rpz_name_fits(const char *d, size_t len, bool wildcard)
{
	/* Wire length: one length octet per label plus its bytes = len + 1 for a name
	 * without the root; the policy zone's name (with the root) follows. */
	size_t wire = len + 1 + (wildcard ? 2 : 0);
	if (len == 0 || wire + RPZ_ZONE_NAME_MAX > 255)
		return false;
	const char *last = d + len;
	while (last > d && last[-1] != '.')
		last--;
	return strncmp(last, "rpz-", 4) != 0;
}

/* ---- JSON string arrays ---- */

static int hex4(const char *p)
{
	int v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

static void put_utf8(struct buf *b, uint32_t cp)
{
	char t[4];
	size_t n;
	if (cp < 0x80) {
		t[0] = (char)cp, n = 1;
	} else if (cp < 0x800) {
		t[0] = (char)(0xc0 | cp >> 6), t[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
	} else if (cp < 0x10000) {
		t[0] = (char)(0xe0 | cp >> 12), t[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		t[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
	} else {
		t[0] = (char)(0xf0 | cp >> 18), t[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		t[2] = (char)(0x80 | (cp >> 6 & 0x3f)), t[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
	}
	buf_append(b, t, n);
}

bool json_strings_next(const char *json, size_t *pos, struct buf *out)
{
	if (json == NULL)
		return false;
	const char *p = json + *pos;
	while (*p == ' ' || *p == '[' || *p == ',' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	if (*p != '"')
		return false;
	p++;
	for (;;) {
		const char *run = p;
		while (*p && *p != '"' && *p != '\\')
			p++;
		buf_append(out, run, (size_t)(p - run));
		if (*p == '\0')
			return false;
		if (*p == '"')
			break;
		p++;	/* the backslash */
		char c = *p++;
		switch (c) {
		case 'n': buf_putc(out, '\n'); break;
		case 'r': buf_putc(out, '\r'); break;
		case 't': buf_putc(out, '\t'); break;
		case 'b': buf_putc(out, '\b'); break;
		case 'f': buf_putc(out, '\f'); break;
		case '"': case '\\': case '/': buf_putc(out, c); break;
		case 'u': {
			int hi = hex4(p);
			if (hi < 0)
				return false;
			p += 4;
			uint32_t cp = (uint32_t)hi;
			if (hi >= 0xd800 && hi <= 0xdbff && p[0] == '\\' && p[1] == 'u') {
				int lo = hex4(p + 2);
				if (lo >= 0xdc00 && lo <= 0xdfff) {
					cp = 0x10000 + ((uint32_t)(hi - 0xd800) << 10) + (uint32_t)(lo - 0xdc00);
					p += 6;
				}
			}
			if (cp >= 0xd800 && cp <= 0xdfff)
				cp = 0xfffd;	/* a lone surrogate */
			if (cp == 0)
				cp = 0xfffd;	/* keep the C strings whole */
			put_utf8(out, cp);
			break;
		}
		default:
			return false;
		}
	}
	*pos = (size_t)(p + 1 - json);
	return true;
}
