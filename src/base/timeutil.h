/*
 * timeutil.h — time as int64 microseconds since the Unix epoch (UTC), and
 * RFC 3339 text.
 *
 * Parsing accepts `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)` ('t'/'z' and a
 * space for 'T' too) and a bare date `YYYY-MM-DD` (midnight UTC); fractions
 * beyond microseconds are truncated. Years 1970–9999 (time_parse_rfc3339_any: 0001–9999).
 */
#ifndef CAIRN_BASE_TIMEUTIL_H
#define CAIRN_BASE_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

#define USEC_PER_SEC 1000000LL
#define USEC_PER_DAY (86400LL * USEC_PER_SEC)

int64_t time_now_us(void);		/* wall clock */
int64_t time_mono_us(void);		/* monotonic, for durations */

/* Returns 0 and sets *out, or ERR_INVALID with a message in e. */
int time_parse_rfc3339(const char *s, size_t len, int64_t *out, struct err *e) CAIRN_MUST_USE;
/* The same for any year from 0001 (negative µs before 1970): STIX and TAXII time stamps. */
int time_parse_rfc3339_any(const char *s, size_t len, int64_t *out, struct err *e) CAIRN_MUST_USE;

enum time_precision { TIME_SEC = 0, TIME_MSEC = 3, TIME_USEC = 6 };

/* Appends e.g. 2026-11-23T14:35:52.123Z to b. */
void time_format(struct buf *b, int64_t us, enum time_precision p);
/* Writes into out (at least 32 bytes), returns length. */
size_t time_format_to(char *out, int64_t us, enum time_precision p);
/* The proleptic Gregorian calendar: days since 1970-01-01 of y-m-d, and back. */
int64_t time_days_from_civil(int64_t y, unsigned m, unsigned d);
void time_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);
/* YYYY-MM-DD of a day. */
size_t time_format_date(char *out, int64_t us);

#endif
