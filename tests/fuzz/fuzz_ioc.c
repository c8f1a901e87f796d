/*
 * fuzz_ioc.c — libFuzzer target for ioc_canon() and ioc_refang().
 *
 * Beyond "does not crash", it checks the promises callers build on: a
 * canonical value is NUL-terminated, has no NUL inside, fits IOC_VALUE_MAX,
 * and is a fixed point (canonicalising it again, forced to its type and
 * without refanging, gives it back unchanged: the record id depends on it).
 * Seeds: tests/fuzz/corpus/ioc/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ioc/ioc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *in, size_t len, const char *out)
{
	fprintf(stderr, "fuzz_ioc: %s\n  input (%zu bytes): %.*s\n  output: %s\n", what, len, (int)len,
		in, out != NULL ? out : "");
	abort();
}

static void check_once(const char *in, size_t len, enum ioc_type want, unsigned flags)
{
	char out[IOC_VALUE_MAX + 1], again[IOC_VALUE_MAX + 1];
	size_t n = 0, n2 = 0;
	enum ioc_type t = IOC_NONE, t2 = IOC_NONE;
	struct err e;

	err_clear(&e);
	if (ioc_canon(in, len, want, flags, &t, out, sizeof(out), &n, &e) != 0) {
		if (e.msg[0] == '\0' || strchr(e.msg, '\n') != NULL || strchr(e.msg, '\r') != NULL)
			fail("rejection without a one-line reason", in, len, e.msg);
		if (t != IOC_NONE || n != 0)
			fail("rejection that still reports a result", in, len, NULL);
		return;
	}
	if (n > IOC_VALUE_MAX)
		fail("canonical value longer than IOC_VALUE_MAX", in, len, NULL);
	if (out[n] != '\0' || strlen(out) != n)
		fail("canonical value not NUL-terminated at its length", in, len, NULL);
	if (t == IOC_NONE || (want != IOC_NONE && t != want))
		fail("wrong type", in, len, out);

	if (ioc_canon(out, n, t, 0, &t2, again, sizeof(again), &n2, &e) != 0)
		fail(e.msg, in, len, out);
	if (t2 != t || n2 != n || memcmp(out, again, n) != 0)
		fail("canonical value is not a fixed point", in, len, again);

	char id1[UUID_STR_LEN + 1], id2[UUID_STR_LEN + 1];
	ioc_id(t, out, n, id1);
	ioc_id(t2, again, n2, id2);
	if (strcmp(id1, id2) != 0 || id1[14] != '5')
		fail("unstable id", in, len, out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes, so ASan catches any read past len. */
	char *in = malloc(size > 0 ? size : 1);
	char ref[256];

	if (in == NULL)
		return 0;
	if (size > 0)
		memcpy(in, data, size);
	for (int t = IOC_NONE; t < IOC_TYPE_COUNT; t++) {
		check_once(in, size, (enum ioc_type)t, 0);
		check_once(in, size, (enum ioc_type)t, IOC_REFANG);
	}

	size_t n = ioc_refang(in, size, ref, sizeof(ref));
	if (n >= sizeof(ref) || ref[n] != '\0' || n > size)
		fail("refang output overflows", in, size, NULL);
	/* A small cap gives a prefix of the whole output. */
	char small[8];
	size_t m = ioc_refang(in, size, small, sizeof(small));
	if (m >= sizeof(small) || small[m] != '\0' || m > n || memcmp(small, ref, m) != 0)
		fail("refang with a small cap is not a prefix", in, size, NULL);
	free(in);
	return 0;
}
