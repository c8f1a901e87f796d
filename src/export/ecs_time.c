/*
 * ecs_time.c — the dates of the STIX → ECS mapping: Elasticsearch's lenient
 * ISO 8601 reading (the date processor's "ISO8601" format), the x509
 * "yyyy-MM-dd HH:mm:ssz" form, and the output form with exactly three
 * fractional digits, truncated (MAPPING.md §4).
 *
 * Times are µs since 1970 and may be negative (years 0000–9999), unlike
 * base/timeutil, which serves cairn's own clock and starts at 1970.
 */
#include <stdio.h>
#include <string.h>

#include "base/timeutil.h"
#include "export/ecs_int.h"

static bool num(const char *s, size_t n, size_t at, size_t w, int *out)
{
	if (at + w > n)
		return false;
	int v = 0;
	for (size_t i = 0; i < w; i++) {
		char c = s[at + i];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*out = v;
	return true;
}

static bool valid_date(int y, int m, int d)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m < 1 || m > 12 || d < 1)
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= mdays[m - 1] + (m == 2 && leap);
}

/* Z, ±HH, ±HHmm or ±HH:mm at s[i..n), all of it. */
static bool zone(const char *s, size_t n, size_t i, int64_t *off_s)
{
	if (i == n) {
		*off_s = 0;
		return true;
	}
	if (s[i] == 'Z' && i + 1 == n) {
		*off_s = 0;
		return true;
	}
	if (s[i] != '+' && s[i] != '-')
		return false;
	int sign = s[i] == '+' ? 1 : -1, h, m = 0;
	if (!num(s, n, i + 1, 2, &h) || h > 18)
		return false;
	size_t j = i + 3;
	if (j < n && s[j] == ':')
		j++;
	if (j < n) {
		if (!num(s, n, j, 2, &m) || m > 59 || j + 2 != n)
			return false;
	} else if (s[j - 1] == ':') {
		return false;
	}
	*off_s = sign * (h * 3600 + m * 60);
	return true;
}

static int64_t compose(int y, int mo, int d, int h, int mi, int sec, int64_t frac_us, int64_t off_s)
{
	int64_t days = time_days_from_civil(y, (unsigned)mo, (unsigned)d);
	return (days * 86400 + h * 3600 + mi * 60 + sec - off_s) * USEC_PER_SEC + frac_us;
}

/* Fraction digits at s[*i..): 1 to 9 of them, read to µs (truncated). */
static bool fraction(const char *s, size_t n, size_t *i, int64_t *frac_us)
{
	size_t start = *i;
	int64_t scale = 100000, v = 0;
	while (*i < n && s[*i] >= '0' && s[*i] <= '9') {
		v += (s[*i] - '0') * scale;
		scale /= 10;
		(*i)++;
	}
	*frac_us = v;
	return *i > start && *i - start <= 9;
}

bool ecs_time_iso8601(const char *s, size_t n, int64_t *us)
{
	int y, mo = 1, d = 1, h = 0, mi = 0, sec = 0;
	int64_t frac = 0, off = 0;
	if (!num(s, n, 0, 4, &y))
		return false;
	size_t i = 4;
	if (i < n && s[i] == '-') {
		if (!num(s, n, i + 1, 2, &mo))
			return false;
		i += 3;
		if (i < n && s[i] == '-') {
			if (!num(s, n, i + 1, 2, &d))
				return false;
			i += 3;
		}
	}
	if (!valid_date(y, mo, d))
		return false;
	if (i == n)
		goto done;
	if (s[i] != 'T' || i + 3 > n || !num(s, n, i + 1, 2, &h) || h > 23)
		return false;
	i += 3;
	if (i < n && s[i] == ':') {
		if (!num(s, n, i + 1, 2, &mi) || mi > 59)
			return false;
		i += 3;
		if (i < n && s[i] == ':') {
			if (!num(s, n, i + 1, 2, &sec) || sec > 59)
				return false;
			i += 3;
			if (i < n && (s[i] == '.' || s[i] == ',')) {
				i++;
				if (!fraction(s, n, &i, &frac))
					return false;
			}
		}
	}
	if (!zone(s, n, i, &off))
		return false;
done:
	*us = compose(y, mo, d, h, mi, sec, frac, off);
	return true;
}

bool ecs_time_x509(const char *s, size_t n, int64_t *us)
{
	int y, mo, d, h, mi, sec;
	int64_t off = 0;
	if (!num(s, n, 0, 4, &y) || n < 20 || s[4] != '-' || !num(s, n, 5, 2, &mo) || s[7] != '-' ||
	    !num(s, n, 8, 2, &d) || s[10] != ' ' || !num(s, n, 11, 2, &h) || s[13] != ':' ||
	    !num(s, n, 14, 2, &mi) || s[16] != ':' || !num(s, n, 17, 2, &sec))
		return false;
	if (!valid_date(y, mo, d) || h > 23 || mi > 59 || sec > 59)
		return false;
	/* Java's `z` reads a zone name or an offset; the forms seen in feeds: */
	const char *z = s + 19;
	size_t zn = n - 19;
	if ((zn == 1 && z[0] == 'Z') || (zn == 3 && (!memcmp(z, "UTC", 3) || !memcmp(z, "GMT", 3))))
		off = 0;
	else if (zn != 6 || !zone(s, n, 19, &off))
		return false;
	*us = compose(y, mo, d, h, mi, sec, 0, off);
	return true;
}

static char *put2(char *o, unsigned v)
{
	o[0] = (char)('0' + v / 10 % 10);
	o[1] = (char)('0' + v % 10);
	return o + 2;
}

static size_t format(char *out, int64_t us, bool millis)
{
	int64_t secs = us / USEC_PER_SEC, frac = us % USEC_PER_SEC;
	if (frac < 0) {
		frac += USEC_PER_SEC;
		secs--;
	}
	int64_t days = secs / 86400, rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	int64_t y;
	unsigned m, d;
	time_civil_from_days(days, &y, &m, &d);
	char *o = out;
	if (y < 0 || y > 9999) {
		/* Java writes years beyond four digits with a sign. */
		int k = snprintf(o, 16, "%+05lld", (long long)y);
		o += k;
	} else {
		o = put2(o, (unsigned)(y / 100));
		o = put2(o, (unsigned)(y % 100));
	}
	*o++ = '-';
	o = put2(o, m);
	*o++ = '-';
	o = put2(o, d);
	*o++ = 'T';
	o = put2(o, (unsigned)(rem / 3600));
	*o++ = ':';
	o = put2(o, (unsigned)(rem / 60 % 60));
	*o++ = ':';
	o = put2(o, (unsigned)(rem % 60));
	if (millis) {
		unsigned ms = (unsigned)(frac / 1000);
		*o++ = '.';
		*o++ = (char)('0' + ms / 100);
		o = put2(o, ms % 100);
	}
	*o++ = 'Z';
	*o = '\0';
	return (size_t)(o - out);
}

size_t ecs_time_format(char *out, int64_t us)
{
	return format(out, us, true);
}

size_t ecs_time_format_sec(char *out, int64_t us)
{
	return format(out, us, false);
}
