#include "base/timeutil.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t time_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * USEC_PER_SEC + ts.tv_nsec / 1000;
}

int64_t time_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * USEC_PER_SEC + ts.tv_nsec / 1000;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Howard Hinnant). */
int64_t time_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void time_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t yy = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yy + (*m <= 2);
}

static int digits(const char *s, size_t n, int *out)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int parse(const char *s, size_t len, int64_t *out, struct err *e, int min_year);

int time_parse_rfc3339(const char *s, size_t len, int64_t *out, struct err *e)
{
	return parse(s, len, out, e, 1970);
}

int time_parse_rfc3339_any(const char *s, size_t len, int64_t *out, struct err *e)
{
	return parse(s, len, out, e, 1);
}

static int parse(const char *s, size_t len, int64_t *out, struct err *e, int min_year)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int Y, M, D, h = 0, mi = 0, sec = 0;
	int64_t frac_us = 0, offset_s = 0;

	if (len < 10 || digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' ||
	    digits(s + 8, 2, &D))
		goto bad;
	if (Y < min_year || M < 1 || M > 12 || D < 1)
		goto bad;
	if (D > mdays[M - 1] + (M == 2 && is_leap(Y)))
		goto bad;
	if (len == 10)
		goto done;
	if (len < 20 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || digits(s + 11, 2, &h) ||
	    s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &sec))
		goto bad;
	if (h > 23 || mi > 59 || sec > 60)
		goto bad;
	if (sec == 60)		/* leap second: clamp, RFC 3339 allows it */
		sec = 59;
	size_t i = 19;
	if (s[i] == '.') {
		i++;
		size_t start = i;
		int64_t scale = 100000;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			frac_us += (s[i] - '0') * scale;
			scale /= 10;
			i++;
		}
		if (i == start || i - start > 9)
			goto bad;
	}
	if (i >= len)
		goto bad;
	if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len) {
		offset_s = 0;
	} else if ((s[i] == '+' || s[i] == '-') && i + 6 == len && s[i + 3] == ':') {
		int oh, om;
		if (digits(s + i + 1, 2, &oh) || digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
			goto bad;
		offset_s = (oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
	} else {
		goto bad;
	}
done:;
	int64_t days = time_days_from_civil(Y, (unsigned)M, (unsigned)D);
	int64_t t = days * 86400 + h * 3600 + mi * 60 + sec - offset_s;
	if (t < 0 && min_year >= 1970)
		goto bad;
	*out = t * USEC_PER_SEC + frac_us;
	return 0;
bad:
	return err_set(e, ERR_INVALID, "not an RFC 3339 timestamp (expected e.g. 2026-05-16T00:00:00Z)");
}

static char *put_digits(char *o, unsigned v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		o[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return o + width;
}

/* Hand-rolled: it runs for every time stamp of every record an import writes. */
size_t time_format_to(char *out, int64_t us, enum time_precision p)
{
	/* Floor division, so that times before 1970 come out right too. */
	int64_t secs = us / USEC_PER_SEC, frac = us % USEC_PER_SEC;
	if (frac < 0)
		secs--, frac += USEC_PER_SEC;
	int64_t days = secs / 86400, rem = secs % 86400;
	if (rem < 0)
		days--, rem += 86400;
	int64_t y;
	unsigned m, d;
	time_civil_from_days(days, &y, &m, &d);
	if (y > 9999)
		y = 9999;
	if (y < 0)
		y = 0;
	char *o = out;
	o = put_digits(o, (unsigned)y, 4);
	*o++ = '-';
	o = put_digits(o, m, 2);
	*o++ = '-';
	o = put_digits(o, d, 2);
	*o++ = 'T';
	o = put_digits(o, (unsigned)(rem / 3600), 2);
	*o++ = ':';
	o = put_digits(o, (unsigned)(rem / 60 % 60), 2);
	*o++ = ':';
	o = put_digits(o, (unsigned)(rem % 60), 2);
	if (p == TIME_MSEC) {
		*o++ = '.';
		o = put_digits(o, (unsigned)(frac / 1000), 3);
	} else if (p == TIME_USEC) {
		*o++ = '.';
		o = put_digits(o, (unsigned)frac, 6);
	}
	*o++ = 'Z';
	*o = '\0';
	return (size_t)(o - out);
}

void time_format(struct buf *b, int64_t us, enum time_precision p)
{
	char tmp[40];
	size_t n = time_format_to(tmp, us, p);
	buf_append(b, tmp, n);
}

size_t time_format_date(char *out, int64_t us)
{
	int64_t y;
	unsigned m, d;
	time_civil_from_days((us < 0 ? 0 : us) / USEC_PER_DAY, &y, &m, &d);
	int n = snprintf(out, 16, "%04d-%02u-%02u", (int)y, m, d);
	return n > 0 ? (size_t)n : 0;
}
