/*
 * ioc_impl.h — what the files of src/ioc share with each other. Not part of
 * the module's contract (that is ioc.h); nothing outside src/ioc includes it.
 *
 * Parsers here take a pointer and a length and never read past it. The
 * "reason" functions return NULL on success or a fixed, static, one-line
 * reason; the ioc_canon_* functions fill a struct err with the whole message.
 * Every output buffer named `out` holds at least IOC_VALUE_MAX + 1 bytes
 * unless said otherwise.
 */
#ifndef CAIRN_IOC_IOC_IMPL_H
#define CAIRN_IOC_IOC_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ioc/ioc.h"

#define IOC_DOMAIN_MAX 253	/* octets, without the trailing dot */
#define IOC_LABEL_MAX 63
#define IOC_ECHO_MAX 64		/* input bytes echoed in an error message */
#define IOC_ECHO_CAP (IOC_ECHO_MAX + 4)

/* ASCII-only character classes: <ctype.h> depends on the locale. */
static inline bool ioc_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline bool ioc_is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool ioc_is_hex(char c)
{
	return ioc_is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static inline char ioc_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static inline char ioc_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/*
 * Decodes one strict UTF-8 sequence (no overlong forms, no surrogates, at most
 * U+10FFFF). Returns its length (1–4) with *cp set, or 0 when p does not start
 * with a valid sequence (or len is 0).
 */
size_t ioc_utf8_decode(const char *p, size_t len, uint32_t *cp);

/*
 * Length of the white space that starts at p (ASCII space, tab, CR, LF, VT,
 * FF; UTF-8 NO-BREAK SPACE, ZERO WIDTH SPACE, IDEOGRAPHIC SPACE and the byte
 * order mark, which pasting from web pages and spreadsheets brings along), or
 * 0. ioc_space_before() is the same for the white space that ends at p + len.
 */
size_t ioc_space_at(const char *p, size_t len);
size_t ioc_space_before(const char *p, size_t len);

/*
 * A printable, one-line copy of at most IOC_ECHO_MAX bytes of p for an error
 * message, "..." appended when cut. Control characters, invalid UTF-8 and
 * invisible or line-breaking code points become '?'. buf holds IOC_ECHO_CAP
 * bytes; returns buf.
 */
const char *ioc_echo(const char *p, size_t len, char *buf);

/* Sets e to "not a valid <type> '<echo of p>': <reason>"; returns ERR_INVALID. */
int ioc_fail(struct err *e, enum ioc_type t, const char *p, size_t len, const char *reason);

/* Strict dotted quad: exactly four octets 0–255 without leading zeros. */
const char *ioc_ipv4_parse(const char *p, size_t len, uint8_t a[4]);
/* One IPv6 address in text (no brackets, prefix or zone). */
const char *ioc_ipv6_parse(const char *p, size_t len, uint8_t a[16]);
/* RFC 5952 text, lower case; out holds 46 bytes. Returns the length. */
size_t ioc_ipv6_format(const uint8_t a[16], char *out);
/*
 * Canonical domain (see ioc.h) into out, which holds IOC_DOMAIN_MAX + 2
 * bytes. One trailing dot is dropped; non-ASCII input goes through libidn2.
 */
const char *ioc_domain_canon(const char *p, size_t len, char *out, size_t *out_len);
/* A port: 1–5 digits after leading zeros, at most 65535. Empty is an error. */
const char *ioc_port_parse(const char *p, size_t len, unsigned *port);

int ioc_canon_ipv4(const char *p, size_t len, char *out, size_t *out_len, struct err *e);
int ioc_canon_ipv6(const char *p, size_t len, char *out, size_t *out_len, struct err *e);
int ioc_canon_domain(const char *p, size_t len, char *out, size_t *out_len, struct err *e);
/* "scheme://…", or "host[:port][/?#…]" to which "http://" is prepended. */
int ioc_canon_url(const char *p, size_t len, char *out, size_t *out_len, struct err *e);

/* Shapes used by type detection: cheap tests, no full validation. */
bool ioc_looks_ipv4(const char *p, size_t len);
bool ioc_looks_ipv6(const char *p, size_t len);
/*
 * True when p is "host[:port]" followed by '/', '?' or '#', where host is a
 * valid domain or IPv4 address: a URL without its scheme.
 */
bool ioc_is_host_path(const char *p, size_t len);
/* True when p is a valid "host[:port]" (domain or IPv4) with nothing after it. */
bool ioc_is_host_port(const char *p, size_t len);

#endif
