/*
 * escape.h — the quoting rules of the text formats cairn exports: ArcSight CEF, RFC 5424
 * structured data, XML 1.0, DNS master files (RPZ), and reading back the JSON string
 * arrays that records keep their tags in.
 *
 * Depends on base/ only. Every function appends to a caller's buffer and keeps no state;
 * inputs are NUL-terminated strings (a record's fields), read to the NUL.
 *
 * Bytes that are not valid UTF-8 are written as U+FFFD (EF BF BD) by every escaper, so no
 * export carries text its consumer must reject; valid UTF-8 passes through unchanged
 * unless a rule below names it.
 */
#ifndef CAIRN_EXPORT_ESCAPE_H
#define CAIRN_EXPORT_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "ioc/ioc.h"

/*
 * CEF header field (CEF Implementation Standard): '\' → "\\", '|' → "\|". A header
 * cannot span lines, so CR and LF become a space.
 */
void esc_cef_header(struct buf *b, const char *s);

/*
 * CEF extension value: '\' → "\\", '=' → "\=", LF → "\n", CR → "\r" (the standard's
 * multi-line encoding). '|' is left as it is, as the standard requires.
 */
void esc_cef_ext(struct buf *b, const char *s);

/*
 * RFC 5424 PARAM-VALUE (section 6.3.3): '"' → "\"", '\' → "\\", ']' → "\]". RFC 5424 has
 * no escape for line breaks, and a raw one would end the line, so LF and CR are written
 * as the two characters "\n" and "\r" (which a reader keeps as they are, since a
 * backslash before any other character stands for itself); other C0 controls and DEL
 * become a space.
 */
void esc_sd_param(struct buf *b, const char *s);

/*
 * XML 1.0 character data, or an attribute value when attr: '&' '<' '>' as entities, and
 * in attributes also '"' and '\'' ; CR as "&#13;" (else a parser turns it into LF), and
 * in attributes TAB and LF as "&#9;" "&#10;" (else normalised to spaces). Characters
 * XML 1.0 forbids (C0 controls other than TAB, LF, CR; U+FFFE; U+FFFF) become U+FFFD.
 */
void esc_xml(struct buf *b, const char *s, bool attr);

/*
 * The same escapers writing to raw memory, for the hot loops of the exports: o must have
 * room for 3 × strlen(s) bytes (the worst case: every byte invalid UTF-8, or escaped).
 * Return the end of what they wrote; no NUL is added.
 */
char *esc_cef_header_to(char *o, const char *s);
char *esc_cef_ext_to(char *o, const char *s);
char *esc_sd_param_to(char *o, const char *s);

/*
 * The RPZ trigger name of an IP address or CIDR block (the rpz-ip form of the DNS RPZ
 * draft, as BIND and Unbound read it): prefix length, then the address reversed —
 * "32.4.3.2.1.rpz-ip" for 1.2.3.4, and for IPv6 the 16-bit words in hex, reversed, the
 * longest run of two or more zero words as "zz" ("128.57.zz.1.0.db8.2001.rpz-ip" for
 * 2001:db8:0:1::57). value is a canonical ipv4/ipv6 value. Returns false (appending
 * nothing) for a prefix of length 0, which RPZ cannot express.
 */
bool rpz_ip_trigger(struct buf *b, enum ioc_type t, const char *value);

/*
 * Whether the canonical domain name d can be written as an RPZ QNAME trigger (with the
 * "*." wildcard label when wildcard): its last label is not one of RPZ's reserved
 * "rpz-*" trigger labels, and the owner name, under a policy zone name of up to
 * RPZ_ZONE_NAME_MAX octets, stays within DNS's 255 octets.
 */
#define RPZ_ZONE_NAME_MAX 64
bool rpz_name_fits(const char *d, size_t len, bool wildcard);

/*
 * Walks a JSON array of strings as records keep them (e.g. ["c2","cobalt-strike"]):
 * *pos starts at 0; each call appends the next string, unescaped, to out and returns
 * true, or returns false at the end (or on anything that is not such an array).
 */
bool json_strings_next(const char *json, size_t *pos, struct buf *out);

#endif
