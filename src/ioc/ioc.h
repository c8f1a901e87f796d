/*
 * ioc.h — indicator types: names, validation, canonical forms, refanging,
 * type detection and stable ids.
 *
 * Depends on base/ and libidn2 (IDNA2008 A-labels for internationalised
 * domains). Pure functions, no allocation visible to the caller, thread-safe.
 * Every function takes a pointer and a length and never reads past it.
 *
 * Canonical forms (DESIGN.md section 2):
 *   ipv4     dotted quad, optional /n with host bits zero; /32 dropped;
 *            octets with leading zeros are rejected (octal/decimal ambiguity);
 *            "a.b.c.d:port" is accepted and the port dropped.
 *   ipv6     RFC 5952 text (inet_ntop), optional /n, host bits zero; /128
 *            dropped; "[addr]" and "[addr]:port" accepted; zone ids rejected.
 *   domain   lower case, no trailing dot, IDN as punycode A-labels; labels
 *            1–63 octets of [a-z0-9_-] not starting or ending with '-';
 *            at most 253 octets; at least two labels; TLD not all digits.
 *   url      scheme and host lower case (host IDN as punycode, or an IP),
 *            default port dropped (http 80, https 443, ftp 21), the rest
 *            as given; "host/path" without a scheme gets "http://".
 *   md5/sha1/sha256/sha512  lower-case hex of 32/40/64/128 characters.
 *   email    local part as given, domain canonical as above.
 *   cve      CVE-YYYY-NNNN… upper case (4 or more digits).
 *   mitre-attack  Tnnnn, Tnnnn.nnn or TAnnnn, upper case.
 */
#ifndef CAIRN_IOC_IOC_H
#define CAIRN_IOC_IOC_H

#include <stdbool.h>
#include <stddef.h>

#include "base/crypto.h"
#include "base/err.h"

enum ioc_type {
	IOC_NONE = 0,
	IOC_IPV4,
	IOC_IPV6,
	IOC_DOMAIN,
	IOC_URL,
	IOC_MD5,
	IOC_SHA1,
	IOC_SHA256,
	IOC_SHA512,
	IOC_EMAIL,
	IOC_CVE,
	IOC_MITRE,
	IOC_TYPE_COUNT
};

/* Longest canonical value cairn stores (URLs are the long ones). */
#define IOC_VALUE_MAX 2048
/* The namespace of cairn's UUIDv5 record ids. Never change it: ids are public. */
#define IOC_ID_NAMESPACE "6f1d7c3e-4a8b-5e2f-9c0d-2b7a1e5f3c48"

/* "ipv4", …, "mitre-attack"; "" for IOC_NONE. */
const char *ioc_type_name(enum ioc_type t);
/* Accepts the names above and "mitre_attack"; exact, lower case. IOC_NONE if unknown. */
enum ioc_type ioc_type_from_name(const char *s, size_t len);
bool ioc_type_is_hash(enum ioc_type t);

/* Flags for ioc_canon(). */
#define IOC_REFANG 1u	/* undo defanging first (hxxp, [.], [at], …) */

/*
 * Canonicalises in[0..len) into out (cap bytes, at least IOC_VALUE_MAX + 1),
 * NUL-terminated. want = IOC_NONE detects the type; any other value forces it
 * and fails if the value is not of that type. Leading and trailing white space
 * is ignored. Returns 0 with *type and *out_len set, or ERR_INVALID (or
 * ERR_TOO_LARGE) with a one-line reason in e, e.g. "host bits set in
 * 10.0.0.1/8" or "not a valid md5: 31 hex characters, expected 32".
 *
 * On failure *type is IOC_NONE, *out_len 0 and out "". White space includes
 * U+00A0, U+200B, U+3000 and U+FEFF at the edges. The IOC_VALUE_MAX limit
 * applies after refanging (defanged input may be up to 4 times longer) and to
 * the result. A NUL byte anywhere is ERR_INVALID. Detection tries, in order:
 * CVE-shaped, ATT&CK-shaped, hex of a hash length, "://" (url), '@' without
 * '/' (email), dotted quad (ipv4), colons or '[' (ipv6), "host/…" (url),
 * domain; a value of a detected shape that fails gets that type's reason.
 * The canonical value is a fixed point: canonicalising it again, forced to
 * its type, returns it unchanged.
 */
int ioc_canon(const char *in, size_t len, enum ioc_type want, unsigned flags, enum ioc_type *type,
	      char *out, size_t cap, size_t *out_len, struct err *e) CAIRN_MUST_USE;

/*
 * Undoes the defanging analysts paste: hxxp/hXXp/hxxps → http/https, "[:]//"
 * and "[://]" → "://", "[.]", "(.)", "{.}", "[dot]", "(dot)", "{dot}", " dot "
 * → ".", "[@]", "[at]", "(at)", "{at}" → "@". Writes at most cap-1 bytes plus
 * NUL; returns the output length.
 */
size_t ioc_refang(const char *in, size_t len, char *out, size_t cap);

/* UUIDv5 of "<type name>:<canonical value>" under IOC_ID_NAMESPACE. */
void ioc_id(enum ioc_type t, const char *value, size_t len, char out[UUID_STR_LEN + 1]);

#endif
