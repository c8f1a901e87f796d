/*
 * test_base.c — src/base: RFC 3339 time, the growable buffer, the arena and
 * the crypto helpers (hashes, UUIDs, base62, constant-time comparison).
 *
 * The time parser is table-driven: each row is an input (with an explicit
 * length where it holds a NUL or must be cut short), and either the exact
 * microseconds it denotes or -1 for a rejection. Expected values were worked
 * out independently (Python's datetime), not by running the code under test.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/crypto.h"
#include "base/err.h"
#include "base/timeutil.h"
#include "check.h"

#define BAD (-1LL)

struct trow {
	const char *in;
	size_t len;		/* 0: strlen(in) */
	long long want;		/* µs since the epoch, or BAD */
};

/* 2026-05-16T00:00:00Z and 2026-05-16T10:20:30Z */
#define D2026 1778889600000000LL
#define T2026 1778926830000000LL

static const struct trow trows[] = {
	/* epoch and the lower bound */
	{ "1970-01-01T00:00:00Z", 0, 0 },
	{ "1970-01-01", 0, 0 },
	{ "1970-01-01T00:00:00.000001Z", 0, 1 },
	{ "1970-01-01T00:59:59Z", 0, 3599000000LL },
	{ "1970-01-01T01:00:00+01:00", 0, 0 },
	{ "1970-01-01T00:59:59+01:00", 0, BAD },	/* one second before the epoch */
	{ "1970-01-01T00:00:00+00:01", 0, BAD },
	{ "1970-01-01T00:00:00-01:00", 0, 3600000000LL },
	{ "1969-12-31T23:59:59Z", 0, BAD },
	{ "1969-12-31", 0, BAD },
	{ "0000-01-01T00:00:00Z", 0, BAD },
	/* the upper bound */
	{ "9999-12-31T23:59:59.999999Z", 0, 253402300799999999LL },
	{ "2038-01-19T03:14:08Z", 0, 2147483648000000LL },	/* past 32-bit time_t */
	/* bare dates and the separators */
	{ "2026-05-16", 0, D2026 },
	{ "2026-05-16T10:20:30Z", 0, T2026 },
	{ "2026-05-16t10:20:30z", 0, T2026 },
	{ "2026-05-16 10:20:30Z", 0, T2026 },
	{ "2026-05-16_10:20:30Z", 0, BAD },
	/* fractions: 0 to 9 digits, truncated to µs */
	{ "2026-05-16T10:20:30.Z", 0, BAD },
	{ "2026-05-16T10:20:30.1Z", 0, T2026 + 100000 },
	{ "2026-05-16T10:20:30.12Z", 0, T2026 + 120000 },
	{ "2026-05-16T10:20:30.123Z", 0, T2026 + 123000 },
	{ "2026-05-16T10:20:30.1234Z", 0, T2026 + 123400 },
	{ "2026-05-16T10:20:30.12345Z", 0, T2026 + 123450 },
	{ "2026-05-16T10:20:30.123456Z", 0, T2026 + 123456 },
	{ "2026-05-16T10:20:30.1234567Z", 0, T2026 + 123456 },
	{ "2026-05-16T10:20:30.12345678Z", 0, T2026 + 123456 },
	{ "2026-05-16T10:20:30.123456789Z", 0, T2026 + 123456 },
	{ "2026-05-16T10:20:30.999999999Z", 0, T2026 + 999999 },
	{ "2026-05-16T10:20:30.1234567890Z", 0, BAD },	/* 10 digits */
	{ "2026-05-16T10:20:30.000000000Z", 0, T2026 },
	{ "2026-05-16T10:20:30.12a4Z", 0, BAD },
	{ "2026-05-16T10:20:30.-1Z", 0, BAD },
	{ "2026-05-16T10:20:30,5Z", 0, BAD },
	/* offsets */
	{ "2026-05-16T10:00:00+02:00", 0, 1778918400000000LL },
	{ "2026-05-16T10:00:00-05:30", 0, 1778945400000000LL },
	{ "2026-05-16T23:30:00-01:00", 0, 1778977800000000LL },	/* crosses midnight */
	{ "2026-05-16T10:20:30+00:00", 0, T2026 },
	{ "2026-05-16T10:20:30-00:00", 0, T2026 },
	{ "2026-05-16T10:20:30.123+02:00", 0, 1778919630123000LL },
	{ "2026-05-16T10:20:30+23:59", 0, T2026 - (23 * 3600 + 59 * 60) * 1000000LL },
	{ "2026-05-16T10:20:30+24:00", 0, BAD },
	{ "2026-05-16T10:20:30+02:60", 0, BAD },
	{ "2026-05-16T10:20:30+0200", 0, BAD },
	{ "2026-05-16T10:20:30+02", 0, BAD },
	{ "2026-05-16T10:20:30+2:00", 0, BAD },
	{ "2026-05-16T10:20:30+02:00Z", 0, BAD },
	{ "2026-05-16T10:20:30", 0, BAD },	/* no zone */
	{ "2026-05-16T10:20:30ZZ", 0, BAD },
	{ "2026-05-16T10:20:30Z ", 0, BAD },
	{ "2026-05-16T10:20:30UTC", 0, BAD },
	/* leap days */
	{ "2024-02-29", 0, 1709164800000000LL },
	{ "2024-02-29T12:34:56Z", 0, 1709210096000000LL },
	{ "2000-02-29T00:00:00Z", 0, 951782400000000LL },	/* divisible by 400 */
	{ "2023-02-29T00:00:00Z", 0, BAD },
	{ "2023-02-29", 0, BAD },
	{ "2100-02-29", 0, BAD },	/* divisible by 100 */
	{ "2024-02-30", 0, BAD },
	/* field ranges */
	{ "2026-13-01", 0, BAD },
	{ "2026-00-10", 0, BAD },
	{ "2026-04-31", 0, BAD },
	{ "2026-04-00", 0, BAD },
	{ "2026-12-32", 0, BAD },
	{ "2026-05-16T24:00:00Z", 0, BAD },
	{ "2026-05-16T23:60:00Z", 0, BAD },
	{ "2026-05-16T1a:00:00Z", 0, BAD },
	/* a leap second is accepted and read as :59 */
	{ "2016-12-31T23:59:60Z", 0, 1483228799000000LL },
	{ "2016-12-31T23:59:60.5Z", 0, 1483228799500000LL },
	{ "2016-12-31T23:59:61Z", 0, BAD },
	/* garbage and wrong shapes */
	{ "", 0, BAD },
	{ "hello", 0, BAD },
	{ "now", 0, BAD },
	{ "2026/05/16", 0, BAD },
	{ "26-05-16", 0, BAD },
	{ "2026-5-16", 0, BAD },
	{ "2026-05-6", 0, BAD },
	{ "abcd-ef-gh", 0, BAD },
	{ " 2026-05-16", 0, BAD },
	{ "+2026-05-16", 0, BAD },
	{ "-2026-05-16", 0, BAD },
	{ "2026-05-16T", 0, BAD },
	{ "2026-05-16T10:20:30.123456789012345678901234567890Z", 0, BAD },
	{ "1778926830", 0, BAD },
	/* NUL bytes inside */
	{ "2026-05-16\0T10:20:30Z", 21, BAD },
	{ "2026-05-16T10:20:30\0Z", 21, BAD },
	{ "2026-05\0-16", 11, BAD },
	{ "2026-05-16T10:20:30.1\0" "2Z", 24, BAD },
	{ "2026-05-16\0", 11, BAD },
	{ "\0", 1, BAD },
	/* the length, not a NUL, ends the input */
	{ "2026-05-16T10:20:30Zjunk", 20, T2026 },
	{ "2026-05-16T10:20:30.5Z99", 22, T2026 + 500000 },
	{ "2026-05-16T10:20:30Z", 10, D2026 },
	{ "2026-05-16T10:20:30Z", 19, BAD },
	{ "2026-05-16T10:20:30+02:00", 24, BAD },
};

static void test_parse_table(void)
{
	size_t n = sizeof(trows) / sizeof(trows[0]);
	CHECK(n >= 40);
	for (size_t i = 0; i < n; i++) {
		const struct trow *r = &trows[i];
		size_t len = r->len ? r->len : strlen(r->in);
		int64_t got = -12345;
		struct err e;
		err_clear(&e);
		int rc = time_parse_rfc3339(r->in, len, &got, &e);
		if (r->want == BAD) {
			if (rc != ERR_INVALID)
				fprintf(stderr, "row %zu (%.*s): accepted as %" PRId64 "\n", i, (int)len,
					r->in, got);
			CHECK_INT(rc, ERR_INVALID);
			CHECK_INT(e.code, ERR_INVALID);
			CHECK(e.msg[0] != '\0');
			CHECK_INT(got, -12345);	/* *out untouched on failure */
		} else {
			if (rc != 0)
				fprintf(stderr, "row %zu (%.*s): rejected: %s\n", i, (int)len, r->in,
					e.msg);
			CHECK_INT(rc, 0);
			CHECK_INT(got, r->want);
		}
	}
}

/* Every proper prefix of a full timestamp is rejected, except the bare date. */
static void test_parse_truncated(void)
{
	static const char *const full[] = {
		"2026-05-16T10:20:30.123+02:00",
		"2024-02-29T23:59:59.999999Z",
		"2026-05-16T10:20:30Z",
	};
	for (size_t f = 0; f < sizeof(full) / sizeof(full[0]); f++) {
		size_t n = strlen(full[f]);
		/* A copy of exactly len bytes on the heap, so ASan catches a read past it. */
		for (size_t len = 0; len < n; len++) {
			char *p = malloc(len ? len : 1);
			memcpy(p, full[f], len);
			int64_t got = 0;
			int rc = time_parse_rfc3339(p, len, &got, NULL);
			if (len == 10)
				CHECK_INT(rc, 0);
			else
				CHECK_INT(rc, ERR_INVALID);
			free(p);
		}
		char *p = malloc(n);
		memcpy(p, full[f], n);
		int64_t got = 0;
		CHECK_INT(time_parse_rfc3339(p, n, &got, NULL), 0);
		free(p);
	}
}

static void test_format(void)
{
	char out[40];
	CHECK_INT(time_format_to(out, 0, TIME_SEC), 20);
	CHECK_STR(out, "1970-01-01T00:00:00Z");
	CHECK_INT(time_format_to(out, 0, TIME_MSEC), 24);
	CHECK_STR(out, "1970-01-01T00:00:00.000Z");
	CHECK_INT(time_format_to(out, 0, TIME_USEC), 27);
	CHECK_STR(out, "1970-01-01T00:00:00.000000Z");

	int64_t t = T2026 + 123456;
	CHECK_INT(time_format_to(out, t, TIME_SEC), 20);
	CHECK_STR(out, "2026-05-16T10:20:30Z");
	CHECK_INT(time_format_to(out, t, TIME_MSEC), 24);
	CHECK_STR(out, "2026-05-16T10:20:30.123Z");	/* truncated, not rounded */
	CHECK_INT(time_format_to(out, t, TIME_USEC), 27);
	CHECK_STR(out, "2026-05-16T10:20:30.123456Z");
	time_format_to(out, T2026 + 999999, TIME_MSEC);
	CHECK_STR(out, "2026-05-16T10:20:30.999Z");
	time_format_to(out, T2026 + 999999, TIME_SEC);
	CHECK_STR(out, "2026-05-16T10:20:30Z");

	time_format_to(out, 1709210096000000LL, TIME_SEC);
	CHECK_STR(out, "2024-02-29T12:34:56Z");
	time_format_to(out, 951782400000000LL - 1, TIME_USEC);
	CHECK_STR(out, "2000-02-28T23:59:59.999999Z");
	time_format_to(out, 253402300799999999LL, TIME_USEC);
	CHECK_STR(out, "9999-12-31T23:59:59.999999Z");
	time_format_to(out, 2147483648000000LL, TIME_SEC);
	CHECK_STR(out, "2038-01-19T03:14:08Z");

	/* time_format appends to what the buffer holds */
	struct buf b = BUF_INIT;
	buf_puts(&b, "at ");
	time_format(&b, t, TIME_SEC);
	buf_putc(&b, '|');
	time_format(&b, t, TIME_MSEC);
	buf_putc(&b, '|');
	time_format(&b, t, TIME_USEC);
	CHECK_STR(buf_cstr(&b),
		  "at 2026-05-16T10:20:30Z|2026-05-16T10:20:30.123Z|2026-05-16T10:20:30.123456Z");
	CHECK_INT(b.len, 3 + 20 + 1 + 24 + 1 + 27);
	buf_cleanup(&b);

	/* time_format_date */
	CHECK_INT(time_format_date(out, 0), 10);
	CHECK_STR(out, "1970-01-01");
	time_format_date(out, 1709164800000000LL + USEC_PER_DAY - 1);
	CHECK_STR(out, "2024-02-29");
	time_format_date(out, 1709164800000000LL + USEC_PER_DAY);
	CHECK_STR(out, "2024-03-01");
	time_format_date(out, T2026);
	CHECK_STR(out, "2026-05-16");
	time_format_date(out, 253402300799999999LL);
	CHECK_STR(out, "9999-12-31");
}

/* Format in each precision and parse back: exact in µs, truncated otherwise. */
static void test_round_trip(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	int bad_us = 0, bad_ms = 0, bad_s = 0, bad_date = 0;
	const int64_t max = 253402300799999999LL;
	for (int i = 0; i < 2000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int64_t t = (int64_t)(x % (uint64_t)max);
		if (i < 4)
			t = (int64_t[]){ 0, 1, max, 1709164800000000LL }[i];
		char out[40];
		int64_t back = -1;
		size_t n = time_format_to(out, t, TIME_USEC);
		if (time_parse_rfc3339(out, n, &back, NULL) || back != t)
			bad_us++;
		n = time_format_to(out, t, TIME_MSEC);
		if (time_parse_rfc3339(out, n, &back, NULL) || back != t / 1000 * 1000)
			bad_ms++;
		n = time_format_to(out, t, TIME_SEC);
		if (time_parse_rfc3339(out, n, &back, NULL) || back != t / USEC_PER_SEC * USEC_PER_SEC)
			bad_s++;
		n = time_format_date(out, t);
		if (n != 10 || time_parse_rfc3339(out, n, &back, NULL) ||
		    back != t / USEC_PER_DAY * USEC_PER_DAY)
			bad_date++;
	}
	CHECK_INT(bad_us, 0);
	CHECK_INT(bad_ms, 0);
	CHECK_INT(bad_s, 0);
	CHECK_INT(bad_date, 0);

	/* Clocks: wall time is after 2020 and formats; monotonic does not go back. */
	int64_t now = time_now_us();
	CHECK(now > 1577836800000000LL);
	int64_t m1 = time_mono_us(), m2 = time_mono_us();
	CHECK(m2 >= m1);
}

/* ---- buf ---- */

static void test_buf(void)
{
	struct buf b;
	buf_init(&b);
	CHECK(b.data == NULL);
	CHECK_INT(b.len, 0);
	CHECK_STR(buf_cstr(&b), "");

	buf_append(&b, "abc", 3);
	buf_append(&b, "", 0);
	buf_putc(&b, '-');
	buf_puts(&b, "def");
	CHECK_INT(b.len, 7);
	CHECK_STR(buf_cstr(&b), "abc-def");
	CHECK(b.data[b.len] == '\0');
	CHECK(b.cap > b.len);

	/* Bytes with a NUL inside are kept; len counts them. */
	buf_append(&b, "x\0y", 3);
	CHECK_INT(b.len, 10);
	CHECK(memcmp(b.data, "abc-defx\0y", 11) == 0);

	/* buf_printf: short, exactly at the 256-byte stack buffer's edges, and long. */
	for (size_t want = 250; want <= 262; want++) {
		buf_reset(&b);
		buf_puts(&b, "<");
		buf_printf(&b, "%0*d", (int)want, 7);
		int ok = b.len == want + 1 && b.data[0] == '<' && b.data[want] == '7' &&
			 b.data[1] == '0' && b.data[want + 1] == '\0' && strlen(b.data) == want + 1;
		if (!ok)
			fprintf(stderr, "buf_printf of %zu bytes: len %zu\n", want, b.len);
		CHECK(ok);
	}
	buf_reset(&b);
	char big[1000];
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_printf(&b, "[%s|%d|%s]", big, -42, "end");
	CHECK_INT(b.len, 1 + 999 + 1 + 3 + 1 + 3 + 1);
	CHECK(memcmp(b.data + 1000, "|-42|end]", 10) == 0);
	CHECK(b.data[0] == '[' && b.data[1] == 'q' && b.data[999] == 'q');
	/* a long printf after content already there */
	buf_reset(&b);
	buf_puts(&b, "head:");
	buf_printf(&b, "%s", big);
	CHECK_INT(b.len, 5 + 999);
	CHECK(strncmp(b.data, "head:qqq", 8) == 0 && b.data[b.len] == '\0');
	buf_printf(&b, "%s", "");
	CHECK_INT(b.len, 5 + 999);

	/* integers */
	buf_reset(&b);
	buf_put_i64(&b, INT64_MIN);
	buf_putc(&b, ' ');
	buf_put_i64(&b, INT64_MAX);
	buf_putc(&b, ' ');
	buf_put_i64(&b, 0);
	buf_putc(&b, ' ');
	buf_put_i64(&b, -1);
	buf_putc(&b, ' ');
	buf_put_u64(&b, UINT64_MAX);
	buf_putc(&b, ' ');
	buf_put_u64(&b, 10);
	CHECK_STR(buf_cstr(&b),
		  "-9223372036854775808 9223372036854775807 0 -1 18446744073709551615 10");

	/* reset keeps the allocation */
	size_t cap = b.cap;
	char *data = b.data;
	buf_reset(&b);
	CHECK_INT(b.len, 0);
	CHECK_INT(b.cap, cap);
	CHECK(b.data == data);
	CHECK_STR(buf_cstr(&b), "");

	/* take hands over the bytes and leaves an empty, reusable buffer */
	buf_puts(&b, "taken");
	char *t = buf_take(&b);
	CHECK_STR(t, "taken");
	CHECK(b.data == NULL);
	CHECK_INT(b.len, 0);
	CHECK_INT(b.cap, 0);
	free(t);
	t = buf_take(&b);	/* empty: "" that the caller frees */
	CHECK(t != NULL);
	CHECK_STR(t, "");
	free(t);
	buf_puts(&b, "again");
	CHECK_STR(buf_cstr(&b), "again");

	/* growth over many appends keeps every byte */
	buf_reset(&b);
	for (int i = 0; i < 100000; i++)
		buf_putc(&b, (char)('a' + i % 26));
	int bad = 0;
	for (int i = 0; i < 100000; i++)
		bad += b.data[i] != (char)('a' + i % 26);
	CHECK_INT(b.len, 100000);
	CHECK_INT(bad, 0);
	CHECK(b.data[100000] == '\0');
	buf_cleanup(&b);
	CHECK(b.data == NULL);
	CHECK_INT(b.len, 0);

	/* BUF_INIT and reserve */
	struct buf c = BUF_INIT;
	buf_reserve(&c, 1000);
	CHECK(c.cap >= 1001);
	CHECK_INT(c.len, 0);
	buf_cleanup(&c);
}

/* ---- arena ---- */

static void test_arena(void)
{
	struct arena a;
	arena_init(&a);
	enum { N = 20000 };
	static unsigned char *ptr[N];
	static size_t sz[N];
	int misaligned = 0;
	for (int i = 0; i < N; i++) {
		sz[i] = (size_t)(i * 7919 % 301) + 1;	/* 1..301 bytes */
		if (i % 5000 == 4999)
			sz[i] = 100000;		/* larger than a chunk */
		ptr[i] = arena_alloc(&a, sz[i]);
		if ((uintptr_t)ptr[i] % 8 != 0)
			misaligned++;
		memset(ptr[i], i & 0xff, sz[i]);
	}
	CHECK_INT(misaligned, 0);
	/* Nothing overlapped: every block still holds its own pattern. */
	int corrupt = 0;
	for (int i = 0; i < N; i++)
		for (size_t k = 0; k < sz[i]; k++)
			if (ptr[i][k] != (unsigned char)(i & 0xff)) {
				corrupt++;
				break;
			}
	CHECK_INT(corrupt, 0);

	char *s = arena_strndup(&a, "indicator-of-compromise", 9);
	CHECK_STR(s, "indicator");
	CHECK((uintptr_t)s % 8 == 0);
	s = arena_strndup(&a, "abc", 0);
	CHECK_STR(s, "");
	s = arena_strndup(&a, "a\0bc", 4);	/* copies n bytes, whatever they are */
	CHECK(memcmp(s, "a\0bc", 5) == 0);
	s = arena_strdup(&a, "sk_live_");
	CHECK_STR(s, "sk_live_");

	/* reset: memory is reusable, allocations keep working */
	arena_reset(&a);
	CHECK(a.head != NULL);
	misaligned = 0;
	for (int i = 0; i < 1000; i++) {
		char *p = arena_alloc(&a, (size_t)i % 13 + 1);
		misaligned += (uintptr_t)p % 8 != 0;
		memset(p, 'x', (size_t)i % 13 + 1);
	}
	CHECK_INT(misaligned, 0);
	s = arena_strdup(&a, "after reset");
	CHECK_STR(s, "after reset");
	arena_cleanup(&a);
	CHECK(a.head == NULL);

	/* reset and cleanup of an empty arena; reuse after cleanup */
	arena_init(&a);
	arena_reset(&a);
	arena_cleanup(&a);
	s = arena_strdup(&a, "reused");
	CHECK_STR(s, "reused");
	arena_cleanup(&a);
}

/* ---- crypto ---- */

static void hex_of(const uint8_t *p, size_t n, char *out)
{
	crypto_hex(p, n, out);
}

static void test_crypto(void)
{
	uint8_t h[32];
	char hx[129];
	crypto_sha256("abc", 3, h);
	hex_of(h, 32, hx);
	CHECK_STR(hx, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	crypto_sha256("", 0, h);
	hex_of(h, 32, hx);
	CHECK_STR(hx, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	crypto_sha256(two, strlen(two), h);
	hex_of(h, 32, hx);
	CHECK_STR(hx, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	uint8_t h1[20];
	crypto_sha1("abc", 3, h1);
	hex_of(h1, 20, hx);
	CHECK_STR(hx, "a9993e364706816aba3e25717850c26c9cd0d89d");

	/* crypto_hex */
	const uint8_t bytes[] = { 0x00, 0x0f, 0xf0, 0xff, 0xa5 };
	crypto_hex(bytes, sizeof(bytes), hx);
	CHECK_STR(hx, "000ff0ffa5");
	crypto_hex(bytes, 0, hx);
	CHECK_STR(hx, "");

	/* UUIDv5: RFC 4122 / Python's uuid.uuid5 vectors */
	char u[UUID_STR_LEN + 1];
	const char *dns = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
	const char *url = "6ba7b811-9dad-11d1-80b4-00c04fd430c8";
	const char *oid = "6ba7b812-9dad-11d1-80b4-00c04fd430c8";
	uuid_v5(dns, "python.org", 10, u);
	CHECK_STR(u, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
	uuid_v5("6BA7B810-9DAD-11D1-80B4-00C04FD430C8", "python.org", 10, u);
	CHECK_STR(u, "886313e1-3b8a-5372-9b90-0c9aee199e5d");	/* namespace in upper case */
	uuid_v5(url, "https://www.example.com/", 24, u);
	CHECK_STR(u, "3d3ed9d2-aa3d-5fa6-90e8-ed662e90f559");
	uuid_v5(dns, "", 0, u);
	CHECK_STR(u, "4ebd0208-8328-5d69-8c44-ec50939c0967");
	uuid_v5(oid, "1.3.6.1", 7, u);
	CHECK_STR(u, "1447fa61-5277-5fef-a9b3-fbc6e44f4af3");
	/* the name is bytes of a length, not a C string */
	uuid_v5(dns, "python.org-and-more", 10, u);
	CHECK_STR(u, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
	CHECK(uuid_valid(u, strlen(u)));
	CHECK_INT(strlen(u), UUID_STR_LEN);

	/* UUIDv4: version 4, RFC 4122 variant, lower-case hex, all different */
	char prev[UUID_STR_LEN + 1] = "";
	int bad_version = 0, bad_variant = 0, bad_form = 0, repeats = 0;
	for (int i = 0; i < 500; i++) {
		uuid_v4(u);
		if (u[14] != '4')
			bad_version++;
		if (!strchr("89ab", u[19]))
			bad_variant++;
		if (strlen(u) != UUID_STR_LEN || !uuid_valid(u, UUID_STR_LEN) ||
		    strspn(u, "0123456789abcdef-") != UUID_STR_LEN)
			bad_form++;
		if (strcmp(u, prev) == 0)
			repeats++;
		memcpy(prev, u, sizeof(prev));
	}
	CHECK_INT(bad_version, 0);
	CHECK_INT(bad_variant, 0);
	CHECK_INT(bad_form, 0);
	CHECK_INT(repeats, 0);

	/* uuid_valid */
	CHECK(uuid_valid("886313e1-3b8a-5372-9b90-0c9aee199e5d", 36));
	CHECK(uuid_valid("886313E1-3B8A-5372-9B90-0C9AEE199E5D", 36));
	CHECK(!uuid_valid("886313e1-3b8a-5372-9b90-0c9aee199e5", 35));
	CHECK(!uuid_valid("886313e1-3b8a-5372-9b90-0c9aee199e5dd", 37));
	CHECK(!uuid_valid("886313e1-3b8a-5372-9b90-0c9aee199e5d", 35));
	CHECK(!uuid_valid("886313e13b8a-5372-9b90-0c9aee199e5d0", 36));
	CHECK(!uuid_valid("886313e1-3b8a-5372-9b900-c9aee199e5d", 36));
	CHECK(!uuid_valid("886313g1-3b8a-5372-9b90-0c9aee199e5d", 36));
	CHECK(!uuid_valid("886313e1-3b8a-5372-9b90-0c9aee199e5\0", 36));
	CHECK(!uuid_valid("{86313e1-3b8a-5372-9b90-0c9aee199e5}", 36));
	CHECK(!uuid_valid("886313e1_3b8a_5372_9b90_0c9aee199e5d", 36));
	CHECK(!uuid_valid("", 0));
	CHECK(!uuid_valid("------------------------------------", 36));

	/* base62: length, terminator, alphabet, every character reachable */
	static const char al[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	char b62[20001];
	memset(b62, '#', sizeof(b62));
	crypto_base62(b62, 40);
	CHECK_INT(strlen(b62), 40);
	CHECK_INT(strspn(b62, al), 40);
	memset(b62, '#', sizeof(b62));
	crypto_base62(b62, 0);
	CHECK_STR(b62, "");
	crypto_base62(b62, 1);
	CHECK_INT(strlen(b62), 1);
	memset(b62, '#', sizeof(b62));
	crypto_base62(b62, 20000);
	CHECK_INT(strlen(b62), 20000);
	CHECK_INT(strspn(b62, al), 20000);
	int count[128] = { 0 };
	for (int i = 0; i < 20000; i++)
		count[(unsigned char)b62[i] & 127]++;
	int missing = 0, skewed = 0;
	for (int i = 0; i < 62; i++) {
		int c = count[(unsigned char)al[i]];
		missing += c == 0;
		/* expected 322.6 each; 200..460 is far beyond chance */
		skewed += c < 200 || c > 460;
	}
	CHECK_INT(missing, 0);
	CHECK_INT(skewed, 0);
	char k1[41], k2[41];
	crypto_base62(k1, 40);
	crypto_base62(k2, 40);
	CHECK(strcmp(k1, k2) != 0);

	/* crypto_equal */
	uint8_t x[32], y[32];
	crypto_random(x, sizeof(x));
	memcpy(y, x, sizeof(x));
	CHECK_INT(crypto_equal(x, y, 32), 1);
	y[31] ^= 1;
	CHECK_INT(crypto_equal(x, y, 32), 0);
	y[31] ^= 1;
	y[0] ^= 0x80;
	CHECK_INT(crypto_equal(x, y, 32), 0);
	CHECK_INT(crypto_equal(x, y, 0), 1);
	CHECK_INT(crypto_equal("same", "same", 4), 1);
	CHECK_INT(crypto_equal("same", "sane", 4), 0);

	/* crypto_random fills, and two draws differ */
	uint8_t r1[32] = { 0 }, r2[32] = { 0 }, zero[32] = { 0 };
	crypto_random(r1, sizeof(r1));
	crypto_random(r2, sizeof(r2));
	CHECK(memcmp(r1, r2, 32) != 0);
	CHECK(memcmp(r1, zero, 32) != 0);
}

static void test_err(void)
{
	struct err e;
	err_clear(&e);
	CHECK_INT(e.code, 0);
	CHECK_STR(e.msg, "");
	CHECK_INT(err_set(&e, ERR_NOT_FOUND, "no key %d", 7), ERR_NOT_FOUND);
	CHECK_INT(e.code, ERR_NOT_FOUND);
	CHECK_STR(e.msg, "no key 7");
	CHECK_INT(err_set(NULL, ERR_IO, "ignored"), ERR_IO);
	/* a long message is cut to the record's size, still terminated */
	char longmsg[600];
	memset(longmsg, 'm', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	err_set(&e, ERR_INVALID, "%s", longmsg);
	CHECK_INT(strlen(e.msg), ERR_MSG_MAX - 1);
	CHECK_STR(err_code_name(ERR_OK), "ok");
	CHECK_STR(err_code_name(ERR_NOT_FOUND), "not found");
	CHECK_STR(err_code_name(ERR_CONFLICT), "conflict");
}

int main(void)
{
	test_parse_table();
	test_parse_truncated();
	test_format();
	test_round_trip();
	test_buf();
	test_arena();
	test_crypto();
	test_err();
	return check_summary("test_base");
}
