/*
 * ioc.c — type names, ids, type detection and the small indicator types
 * (hashes, CVE, ATT&CK, email). The network types are in ioc_net.c, URLs in
 * ioc_url.c, refanging in ioc_refang.c.
 */
#include "ioc/ioc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/xmalloc.h"
#include "ioc/ioc_impl.h"

/*
 * Refanging only shrinks text, so a defanged value may be longer than the
 * value it stands for; this much is read before giving up.
 */
#define DEFANGED_MAX (4 * IOC_VALUE_MAX)

#define EMAIL_LOCAL_MAX 64
#define EMAIL_MAX 254		/* RFC 5321: a 256-octet path minus the angle brackets */

static const char *const type_names[IOC_TYPE_COUNT] = {
	[IOC_NONE] = "",
	[IOC_IPV4] = "ipv4",
	[IOC_IPV6] = "ipv6",
	[IOC_DOMAIN] = "domain",
	[IOC_URL] = "url",
	[IOC_MD5] = "md5",
	[IOC_SHA1] = "sha1",
	[IOC_SHA256] = "sha256",
	[IOC_SHA512] = "sha512",
	[IOC_EMAIL] = "email",
	[IOC_CVE] = "cve",
	[IOC_MITRE] = "mitre-attack",
};

const char *ioc_type_name(enum ioc_type t)
{
	if ((unsigned)t >= IOC_TYPE_COUNT)
		return "";
	return type_names[t];
}

enum ioc_type ioc_type_from_name(const char *s, size_t len)
{
	if (s == NULL)
		return IOC_NONE;
	for (unsigned t = IOC_NONE + 1; t < IOC_TYPE_COUNT; t++)
		if (strlen(type_names[t]) == len && memcmp(type_names[t], s, len) == 0)
			return (enum ioc_type)t;
	/* SOC Defenders spells it with an underscore in some places (DESIGN.md section 2). */
	if (len == 12 && memcmp(s, "mitre_attack", 12) == 0)
		return IOC_MITRE;
	return IOC_NONE;
}

bool ioc_type_is_hash(enum ioc_type t)
{
	return t == IOC_MD5 || t == IOC_SHA1 || t == IOC_SHA256 || t == IOC_SHA512;
}

static size_t hash_len(enum ioc_type t)
{
	switch (t) {
	case IOC_MD5: return 32;
	case IOC_SHA1: return 40;
	case IOC_SHA256: return 64;
	case IOC_SHA512: return 128;
	default: return 0;
	}
}

void ioc_id(enum ioc_type t, const char *value, size_t len, char out[UUID_STR_LEN + 1])
{
	const char *name = ioc_type_name(t);
	size_t name_len = strlen(name);
	char stack[32 + IOC_VALUE_MAX];
	char *buf = stack;

	if (len > sizeof(stack) - name_len - 1) {
		if (len > (size_t)-1 - name_len - 1) {
			/* No such value can exist in memory; refuse rather than wrap. */
			abort();
		}
		buf = xmalloc(name_len + 1 + len);
	}
	memcpy(buf, name, name_len);
	buf[name_len] = ':';
	if (len > 0)
		memcpy(buf + name_len + 1, value, len);
	uuid_v5(IOC_ID_NAMESPACE, buf, name_len + 1 + len, out);
	if (buf != stack)
		free(buf);
}

size_t ioc_utf8_decode(const char *p, size_t len, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t n;
	uint32_t c, min;

	if (len == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2, c = s[0] & 0x1fu, min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3, c = s[0] & 0x0fu, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4, c = s[0] & 0x07u, min = 0x10000;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3fu);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* The non-ASCII white space trimmed from values, as UTF-8. */
static const char *const wide_spaces[] = {
	"\xc2\xa0",		/* U+00A0 NO-BREAK SPACE */
	"\xe2\x80\x8b",		/* U+200B ZERO WIDTH SPACE */
	"\xe3\x80\x80",		/* U+3000 IDEOGRAPHIC SPACE */
	"\xef\xbb\xbf",		/* U+FEFF BYTE ORDER MARK */
};

static bool ascii_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

size_t ioc_space_at(const char *p, size_t len)
{
	if (len > 0 && ascii_space(p[0]))
		return 1;
	for (size_t k = 0; k < sizeof(wide_spaces) / sizeof(wide_spaces[0]); k++) {
		size_t n = strlen(wide_spaces[k]);
		if (len >= n && memcmp(p, wide_spaces[k], n) == 0)
			return n;
	}
	return 0;
}

size_t ioc_space_before(const char *p, size_t len)
{
	if (len > 0 && ascii_space(p[len - 1]))
		return 1;
	for (size_t k = 0; k < sizeof(wide_spaces) / sizeof(wide_spaces[0]); k++) {
		size_t n = strlen(wide_spaces[k]);
		if (len >= n && memcmp(p + len - n, wide_spaces[k], n) == 0)
			return n;
	}
	return 0;
}

/* Code points that would make an echoed value invisible, reordered or multi-line. */
static bool echo_hidden(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0xad ||
	       (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff ||
	       (cp >= 0xfff0 && cp <= 0xffff);
}

const char *ioc_echo(const char *p, size_t len, char *buf)
{
	size_t i = 0, o = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = ioc_utf8_decode(p + i, len - i, &cp);
		if (i + (n == 0 ? 1 : n) > IOC_ECHO_MAX)
			break;
		if (n == 0 || echo_hidden(cp)) {
			buf[o++] = '?';
			i += n == 0 ? 1 : n;
			continue;
		}
		memcpy(buf + o, p + i, n);
		o += n;
		i += n;
	}
	if (i < len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

int ioc_fail(struct err *e, enum ioc_type t, const char *p, size_t len, const char *reason)
{
	char echo[IOC_ECHO_CAP];
	return err_set(e, ERR_INVALID, "not a valid %s '%s': %s", ioc_type_name(t),
		       ioc_echo(p, len, echo), reason);
}

static bool all_hex(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!ioc_is_hex(p[i]))
			return false;
	return true;
}

static bool all_digits(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!ioc_is_digit(p[i]))
			return false;
	return true;
}

static size_t count_digits(const char *p, size_t len)
{
	size_t i = 0;
	while (i < len && ioc_is_digit(p[i]))
		i++;
	return i;
}

static int canon_hash(enum ioc_type t, const char *p, size_t len, char *out, size_t *out_len,
		      struct err *e)
{
	size_t want = hash_len(t);

	if (!all_hex(p, len))
		return ioc_fail(e, t, p, len, "characters other than hex digits");
	if (len != want)
		return err_set(e, ERR_INVALID, "not a valid %s: %zu hex characters, expected %zu",
			       ioc_type_name(t), len, want);
	for (size_t i = 0; i < len; i++)
		out[i] = ioc_lower(p[i]);
	out[len] = '\0';
	*out_len = len;
	return 0;
}

/* "cve-" + digits + "-" + digits, any case: detection sends these to canon_cve. */
static bool looks_cve(const char *p, size_t len)
{
	if (len < 4 || ioc_lower(p[0]) != 'c' || ioc_lower(p[1]) != 'v' || ioc_lower(p[2]) != 'e' ||
	    p[3] != '-')
		return false;
	size_t y = count_digits(p + 4, len - 4);
	if (y == 0 || 4 + y >= len || p[4 + y] != '-')
		return false;
	size_t rest = len - 5 - y;
	return rest > 0 && all_digits(p + 5 + y, rest);
}

static int canon_cve(const char *p, size_t len, char *out, size_t *out_len, struct err *e)
{
	if (!looks_cve(p, len))
		return ioc_fail(e, IOC_CVE, p, len, "expected CVE-YYYY-NNNN");
	if (count_digits(p + 4, len - 4) != 4)
		return ioc_fail(e, IOC_CVE, p, len, "the year must have 4 digits");
	unsigned year = 0;
	for (size_t i = 4; i < 8; i++)
		year = year * 10 + (unsigned)(p[i] - '0');
	if (year < 1999 || year > 2100)
		return ioc_fail(e, IOC_CVE, p, len, "year outside 1999-2100");
	const char *seq = p + 9;
	size_t n = len - 9;
	if (n < 4 || n > 19)
		return ioc_fail(e, IOC_CVE, p, len, "the sequence number must have 4 to 19 digits");
	/* CVE ID syntax: zero-padded to 4 digits, never beyond (CVE-2014-0001, CVE-2014-10001). */
	if (n > 4 && seq[0] == '0')
		return ioc_fail(e, IOC_CVE, p, len,
				"a sequence number of 5 or more digits starts with 0");
	memcpy(out, "CVE-", 4);
	memcpy(out + 4, p + 4, len - 4);
	out[len] = '\0';
	*out_len = len;
	return 0;
}

/* "t" or "ta" + digits, optionally "." + digits, any case. */
static bool looks_mitre(const char *p, size_t len)
{
	if (len < 2 || ioc_lower(p[0]) != 't')
		return false;
	size_t i = ioc_lower(p[1]) == 'a' ? 2 : 1;
	size_t d = count_digits(p + i, len - i);
	if (d == 0)
		return false;
	i += d;
	if (i < len && p[i] == '.' && ioc_lower(p[1]) != 'a') {
		size_t s = count_digits(p + i + 1, len - i - 1);
		i += s + 1;
		if (s == 0)
			return false;
	}
	return i == len;
}

static int canon_mitre(const char *p, size_t len, char *out, size_t *out_len, struct err *e)
{
	static const char reason[] = "expected T followed by 4 digits (and optionally . and 3 more), "
				     "or TA followed by 4 digits";
	bool tactic = len > 1 && ioc_lower(p[1]) == 'a';
	size_t i = tactic ? 2 : 1;

	if (len < 5 || ioc_lower(p[0]) != 't' || count_digits(p + i, len - i) != 4)
		return ioc_fail(e, IOC_MITRE, p, len, reason);
	i += 4;
	if (i < len) {
		if (tactic || p[i] != '.' || len - i - 1 != 3 || !all_digits(p + i + 1, 3))
			return ioc_fail(e, IOC_MITRE, p, len, reason);
	}
	for (size_t k = 0; k < len; k++)
		out[k] = ioc_upper(p[k]);
	out[len] = '\0';
	*out_len = len;
	return 0;
}

static bool atext(char c)
{
	return ioc_is_alpha(c) || ioc_is_digit(c) ||
	       (c != '\0' && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

static int canon_email(const char *p, size_t len, char *out, size_t *out_len, struct err *e)
{
	size_t at = len;
	char domain[IOC_DOMAIN_MAX + 2];
	size_t dn;

	for (size_t i = 0; i < len; i++)
		if (p[i] == '@')
			at = i;
	if (at == len)
		return ioc_fail(e, IOC_EMAIL, p, len, "no '@'");
	if (at == 0)
		return ioc_fail(e, IOC_EMAIL, p, len, "empty local part");
	if (at > EMAIL_LOCAL_MAX)
		return ioc_fail(e, IOC_EMAIL, p, len, "local part longer than 64 characters");
	/* A dot-atom (RFC 5322 section 3.2.3); quoted local parts are not indicators we see. */
	for (size_t i = 0; i < at; i++) {
		if (p[i] == '.') {
			if (i == 0 || i + 1 == at || p[i + 1] == '.')
				return ioc_fail(e, IOC_EMAIL, p, len,
						"leading, trailing or double dot in the local part");
		} else if (!atext(p[i])) {
			return ioc_fail(e, IOC_EMAIL, p, len,
					"character not allowed in the local part");
		}
	}
	const char *why = ioc_domain_canon(p + at + 1, len - at - 1, domain, &dn);
	if (why != NULL) {
		char reason[ERR_MSG_MAX];
		snprintf(reason, sizeof(reason), "bad domain (%s)", why);
		return ioc_fail(e, IOC_EMAIL, p, len, reason);
	}
	if (at + 1 + dn > EMAIL_MAX)
		return ioc_fail(e, IOC_EMAIL, p, len, "longer than 254 characters");
	memcpy(out, p, at + 1);
	memcpy(out + at + 1, domain, dn);
	out[at + 1 + dn] = '\0';
	*out_len = at + 1 + dn;
	return 0;
}

static int canon_as(enum ioc_type t, const char *p, size_t len, char *out, size_t *out_len,
		    struct err *e)
{
	switch (t) {
	case IOC_IPV4: return ioc_canon_ipv4(p, len, out, out_len, e);
	case IOC_IPV6: return ioc_canon_ipv6(p, len, out, out_len, e);
	case IOC_DOMAIN: return ioc_canon_domain(p, len, out, out_len, e);
	case IOC_URL: return ioc_canon_url(p, len, out, out_len, e);
	case IOC_MD5:
	case IOC_SHA1:
	case IOC_SHA256:
	case IOC_SHA512: return canon_hash(t, p, len, out, out_len, e);
	case IOC_EMAIL: return canon_email(p, len, out, out_len, e);
	case IOC_CVE: return canon_cve(p, len, out, out_len, e);
	case IOC_MITRE: return canon_mitre(p, len, out, out_len, e);
	default: return err_set(e, ERR_INTERNAL, "no canonical form for indicator type %d", (int)t);
	}
}

/*
 * The order of ioc.h's detection: the patterns that cannot be anything else
 * first, then the ones that contain a telling character, then the addresses,
 * and a domain last because almost anything with a dot could be one.
 */
static int detect(const char *p, size_t len, enum ioc_type *t, char *out, size_t *out_len,
		  struct err *e)
{
	char echo[IOC_ECHO_CAP];

	if (looks_cve(p, len))
		*t = IOC_CVE;
	else if (looks_mitre(p, len))
		*t = IOC_MITRE;
	else if (all_hex(p, len) && (len == 32 || len == 40 || len == 64 || len == 128))
		*t = len == 32 ? IOC_MD5 : len == 40 ? IOC_SHA1 : len == 64 ? IOC_SHA256 : IOC_SHA512;
	else if (len >= 3 && memmem(p, len, "://", 3) != NULL)
		*t = IOC_URL;
	/* With a '/', "evil.com/a@b" is a URL path, not an address. */
	else if (memchr(p, '@', len) != NULL && memchr(p, '/', len) == NULL)
		*t = IOC_EMAIL;
	else if (ioc_looks_ipv4(p, len))
		*t = IOC_IPV4;
	else if (ioc_looks_ipv6(p, len))
		*t = IOC_IPV6;
	else if (ioc_is_host_path(p, len))
		*t = IOC_URL;
	else
		*t = IOC_DOMAIN;
	if (*t != IOC_DOMAIN)
		return canon_as(*t, p, len, out, out_len, e);

	const char *why = ioc_domain_canon(p, len, out, out_len);
	if (why == NULL)
		return 0;
	*t = IOC_NONE;
	ioc_echo(p, len, echo);
	if (memchr(p, '.', len) != NULL)
		return err_set(e, ERR_INVALID, "cannot tell the type of '%s' (not a domain: %s)", echo,
			       why);
	if (all_hex(p, len) && len >= 16)
		return err_set(e, ERR_INVALID,
			       "cannot tell the type of '%s' (%zu hex characters: "
			       "not an md5, sha1, sha256 or sha512 length)",
			       echo, len);
	return err_set(e, ERR_INVALID, "cannot tell the type of '%s'", echo);
}

int ioc_canon(const char *in, size_t len, enum ioc_type want, unsigned flags, enum ioc_type *type,
	      char *out, size_t cap, size_t *out_len, struct err *e)
{
	char work[DEFANGED_MAX + 1];
	char res[IOC_VALUE_MAX + 1];
	const char *p = in;
	size_t n = 0, sp;
	enum ioc_type t = want;
	int rc;

	*type = IOC_NONE;
	*out_len = 0;
	if (e != NULL)
		e->offset = 0;
	if (cap > 0)
		out[0] = '\0';
	if ((unsigned)want >= IOC_TYPE_COUNT)
		return err_set(e, ERR_INVALID, "unknown indicator type %d", (int)want);
	if (p == NULL)
		len = 0;
	while ((sp = ioc_space_at(p, len)) > 0)
		p += sp, len -= sp;
	while ((sp = ioc_space_before(p, len)) > 0)
		len -= sp;
	if (len > ((flags & IOC_REFANG) ? DEFANGED_MAX : IOC_VALUE_MAX))
		return err_set(e, ERR_TOO_LARGE, "value longer than %d bytes", IOC_VALUE_MAX);
	if (len > 0 && memchr(p, '\0', len) != NULL)
		return err_set(e, ERR_INVALID, "value contains a NUL byte");
	if (flags & IOC_REFANG) {
		len = ioc_refang(p, len, work, sizeof(work));
		p = work;
		if (len > IOC_VALUE_MAX)
			return err_set(e, ERR_TOO_LARGE, "value longer than %d bytes", IOC_VALUE_MAX);
	}
	if (len == 0)
		return err_set(e, ERR_INVALID, "empty value");

	if (want == IOC_NONE)
		rc = detect(p, len, &t, res, &n, e);
	else
		rc = canon_as(want, p, len, res, &n, e);
	if (rc != 0)
		return rc;
	if (n > IOC_VALUE_MAX || n >= cap)
		return err_set(e, ERR_TOO_LARGE, "canonical value longer than %d bytes", IOC_VALUE_MAX);
	memcpy(out, res, n);
	out[n] = '\0';
	*type = t;
	*out_len = n;
	return 0;
}
