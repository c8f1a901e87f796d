/*
 * ioc_url.c — URLs: scheme and host canonical, everything else as given.
 *
 * The aim is one record per URL an analyst would call the same, without
 * rewriting what a feed reported: only the parts that are case-insensitive
 * or have a default (scheme, host, port) are normalised. The path, query
 * and fragment are kept byte for byte, percent-encoding included.
 */
#include "ioc/ioc_impl.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"

struct default_port {
	const char *scheme;
	unsigned port;
};

/* The defaults of ioc.h; other schemes keep whatever port they were given. */
static const struct default_port default_ports[] = {
	{ "http", 80 },
	{ "https", 443 },
	{ "ftp", 21 },
};

/*
 * Code points that are white space or invisible: a URL that contains one is
 * a pasting accident or a spoof, and either way not an indicator to store.
 */
static bool invisible(uint32_t cp)
{
	return cp < 0x21 || (cp >= 0x7f && cp <= 0xa0) || cp == 0xad || cp == 0x1680 ||
	       (cp >= 0x2000 && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202f) ||
	       (cp >= 0x205f && cp <= 0x206f) || cp == 0x3000 || cp == 0xfeff;
}

static const char *check_chars(const char *p, size_t len)
{
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = ioc_utf8_decode(p + i, len - i, &cp);
		if (n == 0)
			return "invalid UTF-8";
		if (invisible(cp))
			return "white space or control character";
		i += n;
	}
	return NULL;
}

/* Length of a valid scheme before "://" at p, or 0. */
static size_t scheme_len(const char *p, size_t len)
{
	size_t i = 0;

	if (len == 0 || !ioc_is_alpha(p[0]))
		return 0;
	while (i < len && (ioc_is_alpha(p[i]) || ioc_is_digit(p[i]) || p[i] == '+' || p[i] == '-' ||
			   p[i] == '.'))
		i++;
	if (len - i < 3 || memcmp(p + i, "://", 3) != 0)
		return 0;
	return i;
}

static size_t authority_end(const char *p, size_t len, size_t i)
{
	while (i < len && p[i] != '/' && p[i] != '?' && p[i] != '#')
		i++;
	return i;
}

/* Appends n bytes at *o; false when that would pass IOC_VALUE_MAX. */
static bool put(char *out, size_t *o, const char *s, size_t n)
{
	if (n > IOC_VALUE_MAX - *o)
		return false;
	memcpy(out + *o, s, n);
	*o += n;
	return true;
}

int ioc_canon_url(const char *p, size_t len, char *out, size_t *out_len, struct err *e)
{
	char host[INET6_ADDRSTRLEN + IOC_DOMAIN_MAX + 4];
	char scheme[IOC_VALUE_MAX + 1];
	size_t scheme_n = 0, host_n = 0, i = 0, o = 0;
	unsigned port = 0;
	bool has_port = false;
	const char *why = check_chars(p, len);

	if (why != NULL)
		return ioc_fail(e, IOC_URL, p, len, why);

	const char *sep = len >= 3 ? memmem(p, len, "://", 3) : NULL;
	size_t sl = scheme_len(p, len);
	if (sl > 0) {
		for (size_t k = 0; k < sl; k++)
			scheme[k] = ioc_lower(p[k]);
		scheme_n = sl;
		i = sl + 3;
	} else if (sep != NULL && authority_end(p, len, 0) > (size_t)(sep - p)) {
		/* "://" before any '/', '?' or '#': meant as a scheme, but not a valid one. */
		return ioc_fail(e, IOC_URL, p, len, "invalid scheme (a letter, then letters, "
						    "digits, '+', '-' and '.')");
	} else if (ioc_is_host_port(p, authority_end(p, len, 0))) {
		/* "evil.com/a", as feeds and analysts write them. */
		memcpy(scheme, "http", 4);
		scheme_n = 4;
	} else {
		return ioc_fail(e, IOC_URL, p, len, "no scheme:// and no host/path");
	}

	size_t a = authority_end(p, len, i);
	size_t h = i;
	for (size_t k = i; k < a; k++)
		if (p[k] == '@')
			h = k + 1;	/* browsers take the last '@': "a@b@host" is host */
	if (h == a)
		return ioc_fail(e, IOC_URL, p, len, "no host");

	size_t hend;
	if (p[h] == '[') {
		const char *close = memchr(p + h, ']', a - h);
		uint8_t addr[16];
		if (close == NULL)
			return ioc_fail(e, IOC_URL, p, len, "'[' without ']' in the host");
		why = ioc_ipv6_parse(p + h + 1, (size_t)(close - p) - h - 1, addr);
		if (why != NULL)
			return ioc_fail(e, IOC_URL, p, len, why);
		host[0] = '[';
		host_n = 1 + ioc_ipv6_format(addr, host + 1);
		host[host_n++] = ']';
		hend = (size_t)(close - p) + 1;
		if (hend < a && p[hend] != ':')
			return ioc_fail(e, IOC_URL, p, len, "unexpected text after ']'");
	} else {
		const char *colon = memchr(p + h, ':', a - h);
		bool numeric = true;
		hend = colon != NULL ? (size_t)(colon - p) : a;
		if (colon != NULL && memchr(colon + 1, ':', a - hend - 1) != NULL)
			return ioc_fail(e, IOC_URL, p, len, "an IPv6 host must be written in [brackets]");
		if (hend == h)
			return ioc_fail(e, IOC_URL, p, len, "no host");
		for (size_t k = h; k < hend; k++)
			numeric = numeric && (ioc_is_digit(p[k]) || p[k] == '.');
		if (numeric) {
			uint8_t q[4];
			why = ioc_ipv4_parse(p + h, hend - h, q);
			if (why == NULL)
				host_n = (size_t)snprintf(host, sizeof(host), "%u.%u.%u.%u", q[0],
							  q[1], q[2], q[3]);
		} else {
			why = ioc_domain_canon(p + h, hend - h, host, &host_n);
		}
		if (why != NULL) {
			char reason[ERR_MSG_MAX];
			snprintf(reason, sizeof(reason), "bad host (%s)", why);
			return ioc_fail(e, IOC_URL, p, len, reason);
		}
	}
	if (hend < a) {
		/* An empty port ("host:/") means the default (RFC 3986 section 6.2.3). */
		if (a - hend > 1) {
			why = ioc_port_parse(p + hend + 1, a - hend - 1, &port);
			if (why != NULL)
				return ioc_fail(e, IOC_URL, p, len, why);
			has_port = true;
		}
	}
	for (size_t k = 0; has_port && k < sizeof(default_ports) / sizeof(default_ports[0]); k++) {
		const struct default_port *d = &default_ports[k];
		if (strlen(d->scheme) == scheme_n && memcmp(d->scheme, scheme, scheme_n) == 0 &&
		    d->port == port)
			has_port = false;
	}

	char port_text[8];
	size_t port_n = has_port ? (size_t)snprintf(port_text, sizeof(port_text), ":%u", port) : 0;
	if (!put(out, &o, scheme, scheme_n) || !put(out, &o, "://", 3) || !put(out, &o, p + i, h - i) ||
	    !put(out, &o, host, host_n) || !put(out, &o, port_text, port_n) ||
	    !put(out, &o, p + a, len - a))
		return err_set(e, ERR_TOO_LARGE, "canonical url longer than %d bytes", IOC_VALUE_MAX);
	out[o] = '\0';
	*out_len = o;
	return 0;
}
