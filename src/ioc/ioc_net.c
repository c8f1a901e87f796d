/*
 * ioc_net.c — the network-shaped indicators: IPv4 and IPv6 addresses and
 * prefixes, domains (with libidn2 for internationalised names), ports, and
 * the cheap shape tests that type detection runs before the real parsers.
 */
#include "ioc/ioc_impl.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"

#define IPV6_TEXT_MAX (INET6_ADDRSTRLEN - 1)

const char *ioc_ipv4_parse(const char *p, size_t len, uint8_t a[4])
{
	size_t i = 0;

	for (int k = 0; k < 4; k++) {
		if (k > 0) {
			if (i >= len)
				return "fewer than four octets";
			if (p[i] != '.')
				return "character that is not a digit or '.'";
			i++;
		}
		size_t start = i;
		unsigned v = 0;
		while (i < len && ioc_is_digit(p[i])) {
			/* Saturate: the exact value of a 12-digit octet does not matter. */
			if (v <= 255)
				v = v * 10 + (unsigned)(p[i] - '0');
			i++;
		}
		if (i == start && i < len && p[i] != '.')
			return "character that is not a digit or '.'";
		if (i == start)
			return "empty octet";
		/* 010 is 8 to inet_aton and 10 to a human: refuse to guess. */
		if (p[start] == '0' && i - start > 1)
			return "octet with a leading zero (octal or decimal?)";
		if (v > 255)
			return "octet larger than 255";
		a[k] = (uint8_t)v;
	}
	if (i != len)
		return p[i] == '.' ? "more than four octets" : "character that is not a digit or '.'";
	return NULL;
}

/* A prefix length of 1 to max_digits digits, at most max. */
static const char *prefix_parse(const char *p, size_t len, unsigned max, size_t max_digits,
				unsigned *prefix)
{
	unsigned v = 0;

	if (len == 0)
		return "empty prefix length after '/'";
	if (len > max_digits)
		return "prefix length out of range";
	for (size_t i = 0; i < len; i++) {
		if (!ioc_is_digit(p[i]))
			return "prefix length is not a number";
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	if (v > max)
		return "prefix length out of range";
	*prefix = v;
	return NULL;
}

const char *ioc_port_parse(const char *p, size_t len, unsigned *port)
{
	unsigned v = 0;

	if (len == 0)
		return "empty port";
	for (size_t i = 0; i < len; i++) {
		if (!ioc_is_digit(p[i]))
			return "port is not a number";
		v = v * 10 + (unsigned)(p[i] - '0');
		if (v > 65535)
			return "port larger than 65535";
	}
	*port = v;
	return NULL;
}

/* Clears the bits after the first `prefix` bits; true if any was set. */
static bool clear_host_bits(uint8_t *a, size_t n, unsigned prefix)
{
	bool set = false;

	for (size_t i = 0; i < n; i++) {
		unsigned first = 8 * (unsigned)i;	/* bit index of a[i] */
		unsigned keep = prefix >= first + 8 ? 8 : prefix > first ? prefix - first : 0;
		uint8_t mask = (uint8_t)(keep == 0 ? 0 : 0xff << (8 - keep));
		if (a[i] & ~mask)
			set = true;
		a[i] &= mask;
	}
	return set;
}

int ioc_canon_ipv4(const char *p, size_t len, char *out, size_t *out_len, struct err *e)
{
	const char *slash = memchr(p, '/', len);
	const char *colon = memchr(p, ':', len);
	size_t alen = len;
	unsigned prefix = 32, port;
	uint8_t a[4];
	const char *why;

	if (slash != NULL && colon != NULL)
		return ioc_fail(e, IOC_IPV4, p, len, "both a port and a prefix length");
	if (slash != NULL) {
		alen = (size_t)(slash - p);
		why = prefix_parse(slash + 1, len - alen - 1, 32, 2, &prefix);
		if (why != NULL)
			return ioc_fail(e, IOC_IPV4, p, len, why);
	} else if (colon != NULL) {
		/* "a.b.c.d:port" as found in logs: the port is not part of the indicator. */
		alen = (size_t)(colon - p);
		why = ioc_port_parse(colon + 1, len - alen - 1, &port);
		if (why != NULL)
			return ioc_fail(e, IOC_IPV4, p, len, why);
	}
	why = ioc_ipv4_parse(p, alen, a);
	if (why != NULL)
		return ioc_fail(e, IOC_IPV4, p, len, why);
	if (clear_host_bits(a, 4, prefix)) {
		char echo[IOC_ECHO_CAP];
		return err_set(e, ERR_INVALID, "host bits set in %s (the network is %u.%u.%u.%u/%u)",
			       ioc_echo(p, len, echo), a[0], a[1], a[2], a[3], prefix);
	}
	int n = prefix == 32 ? snprintf(out, IOC_VALUE_MAX + 1, "%u.%u.%u.%u", a[0], a[1], a[2], a[3])
			     : snprintf(out, IOC_VALUE_MAX + 1, "%u.%u.%u.%u/%u", a[0], a[1], a[2], a[3],
					prefix);
	*out_len = (size_t)n;
	return 0;
}

const char *ioc_ipv6_parse(const char *p, size_t len, uint8_t a[16])
{
	char text[IPV6_TEXT_MAX + 1];

	if (memchr(p, '%', len) != NULL)
		return "zone ids (%...) are not accepted";
	if (len == 0)
		return "empty address";
	if (len > IPV6_TEXT_MAX)
		return "too long for an IPv6 address";
	if (memchr(p, '\0', len) != NULL)
		return "NUL byte";
	memcpy(text, p, len);
	text[len] = '\0';
	if (inet_pton(AF_INET6, text, a) != 1)
		return "not an IPv6 address";
	return NULL;
}

size_t ioc_ipv6_format(const uint8_t a[16], char *out)
{
	if (inet_ntop(AF_INET6, a, out, INET6_ADDRSTRLEN) == NULL) {
		/* Cannot happen with a 16-byte address and a large enough buffer. */
		out[0] = '\0';
		return 0;
	}
	/* glibc writes lower case; RFC 5952 requires it, so do not depend on that. */
	size_t n = strlen(out);
	for (size_t i = 0; i < n; i++)
		out[i] = ioc_lower(out[i]);
	return n;
}

int ioc_canon_ipv6(const char *p, size_t len, char *out, size_t *out_len, struct err *e)
{
	const char *addr = p, *why;
	size_t alen = len;
	unsigned prefix = 128, port;
	uint8_t a[16];

	if (len > 0 && p[0] == '[') {
		const char *close = memchr(p, ']', len);
		if (close == NULL)
			return ioc_fail(e, IOC_IPV6, p, len, "'[' without ']'");
		addr = p + 1;
		alen = (size_t)(close - addr);
		size_t rest = len - (size_t)(close + 1 - p);
		if (rest > 0) {
			if (close[1] != ':')
				return ioc_fail(e, IOC_IPV6, p, len, "unexpected text after ']'");
			why = ioc_port_parse(close + 2, rest - 1, &port);
			if (why != NULL)
				return ioc_fail(e, IOC_IPV6, p, len, why);
		}
	} else {
		const char *slash = memchr(p, '/', len);
		if (slash != NULL) {
			alen = (size_t)(slash - p);
			why = prefix_parse(slash + 1, len - alen - 1, 128, 3, &prefix);
			if (why != NULL)
				return ioc_fail(e, IOC_IPV6, p, len, why);
		}
	}
	why = ioc_ipv6_parse(addr, alen, a);
	if (why != NULL)
		return ioc_fail(e, IOC_IPV6, p, len, why);
	if (clear_host_bits(a, 16, prefix)) {
		char echo[IOC_ECHO_CAP], net[INET6_ADDRSTRLEN];
		ioc_ipv6_format(a, net);
		return err_set(e, ERR_INVALID, "host bits set in %s (the network is %s/%u)",
			       ioc_echo(p, len, echo), net, prefix);
	}
	size_t n = ioc_ipv6_format(a, out);
	if (prefix != 128)
		n += (size_t)snprintf(out + n, IOC_VALUE_MAX + 1 - n, "/%u", prefix);
	*out_len = n;
	return 0;
}

/* The checks of ioc.h on an ASCII name without its trailing dot; lower-cases into out. */
static const char *ldh_check(const char *p, size_t len, char *out, size_t *out_len)
{
	size_t start = 0, labels = 0, tld = 0;

	if (len == 0)
		return "empty name";
	if (len > IOC_DOMAIN_MAX)
		return "longer than 253 octets";
	for (size_t i = 0; i <= len; i++) {
		if (i == len || p[i] == '.') {
			if (i == start)
				return "empty label";
			if (i - start > IOC_LABEL_MAX)
				return "label longer than 63 octets";
			if (p[start] == '-' || p[i - 1] == '-')
				return "label starts or ends with '-'";
			labels++;
			tld = start;
			start = i + 1;
			if (i < len)
				out[i] = '.';
			continue;
		}
		char c = ioc_lower(p[i]);
		if (!ioc_is_alpha(c) && !ioc_is_digit(c) && c != '-' && c != '_')
			return "character outside a-z, 0-9, '-' and '_'";
		out[i] = c;
	}
	if (labels < 2)
		return "a single label, not a domain";
	bool numeric = true;
	for (size_t i = tld; i < len; i++)
		numeric = numeric && ioc_is_digit(p[i]);
	if (numeric)
		return "all-numeric top-level domain";
	out[len] = '\0';
	*out_len = len;
	return NULL;
}

const char *ioc_domain_canon(const char *p, size_t len, char *out, size_t *out_len)
{
	bool ascii = true;

	/* One trailing dot is the DNS root, written or not; two are an empty label. */
	if (len > 0 && p[len - 1] == '.')
		len--;
	if (memchr(p, '*', len) != NULL)
		return "wildcards are not indicators";
	for (size_t i = 0; i < len; i++)
		ascii = ascii && (unsigned char)p[i] < 0x80;
	if (ascii)
		return ldh_check(p, len, out, out_len);

	char text[IOC_VALUE_MAX + 1];
	char *alabel = NULL;
	if (len > IOC_VALUE_MAX)
		return "longer than 253 octets";
	if (memchr(p, '\0', len) != NULL)
		return "NUL byte";
	memcpy(text, p, len);
	text[len] = '\0';
	/*
	 * IDNA2008 as browsers resolve it (UTS #46 non-transitional: ß stays ß).
	 * Transitional processing is the fallback because it still maps names
	 * that registries sold before IDNA2008, emoji domains among them.
	 */
	int rc = idn2_to_ascii_8z(text, &alabel, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
	if (rc != IDN2_OK) {
		idn2_free(alabel);
		alabel = NULL;
		int rc2 = idn2_to_ascii_8z(text, &alabel, IDN2_TRANSITIONAL | IDN2_NFC_INPUT);
		if (rc2 != IDN2_OK) {
			idn2_free(alabel);
			/* idn2_strerror() returns static text: safe to hand back. */
			return idn2_strerror(rc);
		}
	}
	size_t alen = strlen(alabel);
	/* U+3002 and friends map to '.': a trailing one after the dropped dot is an empty label. */
	const char *why = ldh_check(alabel, alen, out, out_len);
	idn2_free(alabel);
	return why;
}

int ioc_canon_domain(const char *p, size_t len, char *out, size_t *out_len, struct err *e)
{
	const char *why = ioc_domain_canon(p, len, out, out_len);
	return why == NULL ? 0 : ioc_fail(e, IOC_DOMAIN, p, len, why);
}

bool ioc_looks_ipv4(const char *p, size_t len)
{
	size_t i = 0;
	bool dot = false;

	if (len == 0 || !ioc_is_digit(p[0]))
		return false;
	for (; i < len && (ioc_is_digit(p[i]) || p[i] == '.'); i++)
		dot = dot || p[i] == '.';
	if (!dot)
		return false;
	if (i == len)
		return true;
	/* "a.b.c.d/24" and "a.b.c.d:8080"; "a.b.c.d/" or "/x" is a URL path instead. */
	if (p[i] != ':' && (p[i] != '/' || i + 1 == len))
		return false;
	for (i++; i < len; i++)
		if (!ioc_is_digit(p[i]))
			return false;
	return true;
}

bool ioc_looks_ipv6(const char *p, size_t len)
{
	size_t colons = 0;

	if (len > 0 && p[0] == '[')
		return true;
	for (size_t i = 0; i < len && p[i] != '/' && p[i] != '%'; i++) {
		if (p[i] == ':')
			colons++;
		else if (!ioc_is_hex(p[i]) && p[i] != '.')
			return false;
	}
	return colons >= 2;
}

bool ioc_is_host_port(const char *p, size_t len)
{
	const char *colon = memchr(p, ':', len);
	size_t hlen = colon != NULL ? (size_t)(colon - p) : len;
	bool numeric = true;
	unsigned port;
	uint8_t a[4];
	char name[IOC_DOMAIN_MAX + 2];
	size_t n;

	if (hlen == 0)
		return false;
	if (colon != NULL && ioc_port_parse(colon + 1, len - hlen - 1, &port) != NULL)
		return false;
	for (size_t i = 0; i < hlen; i++)
		numeric = numeric && (ioc_is_digit(p[i]) || p[i] == '.');
	if (numeric)
		return ioc_ipv4_parse(p, hlen, a) == NULL;
	return ioc_domain_canon(p, hlen, name, &n) == NULL;
}

bool ioc_is_host_path(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len && p[i] != '/' && p[i] != '?' && p[i] != '#')
		i++;
	return i < len && ioc_is_host_port(p, i);
}
