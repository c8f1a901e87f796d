/*
 * sigma_yaml.h — the few YAML forms a Sigma rule needs, written by hand with every character
 * accounted for (tests/unit/test_sigma.c covers each special one).
 *
 * Every string scalar is single-quoted, with ' doubled: in that style YAML gives no other
 * character a meaning, so values such as `yes`, `0123`, `1:2:3`, `*x`, `a #b`, `- x` or
 * `2024-05-01` stay strings. A Sigma value is escaped for Sigma first (`\` → `\\`,
 * `*` → `\*`, `?` → `\?`), so that no backend reads a wildcard into an indicator.
 *
 * A rule may carry valid UTF-8 only, and no character that YAML would not print or would
 * read as a line break: C0 controls (tab and newline included), DEL, C1 controls, U+0085,
 * U+2028, U+2029, U+FEFF and the non-characters U+FFFE/U+FFFF. Detection values with such a
 * character are refused (sigma_yaml_value), never altered, since an altered value would
 * match something else; free text (descriptions) is cleaned instead (sigma_yaml_text).
 *
 * Depends on base/ only. Appends to a caller's buffer; no state.
 */
#ifndef CAIRN_EXPORT_SIGMA_YAML_H
#define CAIRN_EXPORT_SIGMA_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

/*
 * Decodes the UTF-8 character at s[0..n): returns its length (1–4) with *cp set, or 0 when
 * the bytes there are not valid UTF-8 (truncated, overlong, a surrogate, above U+10FFFF or
 * a stray continuation byte).
 */
size_t sigma_utf8_next(const char *s, size_t n, uint32_t *cp);

/* True when code point cp may appear in a rule (see above). */
bool sigma_char_ok(uint32_t cp);

/* True when s[0..n) is valid UTF-8 made only of characters sigma_char_ok accepts. */
bool sigma_text_ok(const char *s, size_t n);

/*
 * Appends s[0..n) as a single-quoted scalar (a title, a reference). Returns 0, or
 * ERR_INVALID with nothing appended when sigma_text_ok(s, n) is false.
 */
int sigma_yaml_string(struct buf *b, const char *s, size_t n) CAIRN_MUST_USE;

/*
 * The same for a detection value, matched literally: Sigma-escaped (`\` `*` `?` get a
 * backslash) before the YAML quoting. Returns 0 or ERR_INVALID, as sigma_yaml_string.
 */
int sigma_yaml_value(struct buf *b, const char *s, size_t n) CAIRN_MUST_USE;

/* Appends s[0..n) as a single-quoted scalar of free text: never fails. Each character that
 * sigma_char_ok refuses becomes a space, each invalid byte U+FFFD, and runs of white space
 * become one space, so the text stays on one line. */
void sigma_yaml_text(struct buf *b, const char *s, size_t n);

#endif
