/*
 * fuzz_pattern.c — libFuzzer target for the STIX pattern parser.
 *
 * Beyond "does not crash": a rejection comes with a one-line reason naming
 * an offset inside the input and no pattern; an accepted pattern prints to a
 * canonical form that parses again and prints identically (the fixed point
 * that lets cairn store and compare patterns by their canonical text), with
 * the same number of comparisons; the dump, the comparison walk and the
 * simple/composite rule run on it. Seeds: tests/fuzz/corpus/pattern/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stix/pattern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *in, size_t len, const char *more)
{
	fprintf(stderr, "fuzz_pattern: %s\n  input (%zu bytes): %.*s\n  %s\n", what, len, (int)len, in,
		more != NULL ? more : "");
	abort();
}

static int count(const struct stix_observable *o, void *ctx)
{
	/* EXISTS has no value, IN () an empty one, every other operator one. */
	size_t want = o->op == STIX_OP_EXISTS ? 0 : o->op == STIX_OP_IN ? o->cmp->n_values : 1;
	if (o->object_type == NULL || o->path == NULL || (o->value == NULL) != (want == 0))
		abort();
	(*(size_t *)ctx)++;
	return 0;
}

static int record(const struct stix_simple_ioc *r, void *ctx)
{
	if (r->type == IOC_NONE || r->value == NULL)
		abort();
	(*(size_t *)ctx)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes, so ASan catches any read past len. */
	char *in = malloc(size > 0 ? size : 1);
	struct stix_pattern *p = NULL, *q = NULL;
	struct err e;
	struct buf b1 = BUF_INIT, b2 = BUF_INIT;

	if (in == NULL)
		return 0;
	if (size > 0)
		memcpy(in, data, size);
	err_clear(&e);
	if (stix_pattern_parse(in, size, &p, &e) != 0) {
		if (p != NULL || (e.code != ERR_INVALID && e.code != ERR_TOO_LARGE))
			fail("rejection with a pattern or a wrong code", in, size, e.msg);
		if (e.msg[0] == '\0' || strchr(e.msg, '\n') != NULL || strchr(e.msg, '\r') != NULL)
			fail("rejection without a one-line reason", in, size, e.msg);
		if (e.offset > size && !(e.code == ERR_TOO_LARGE && size > STIX_PATTERN_MAX_LEN))
			fail("error offset past the input", in, size, e.msg);
		free(in);
		return 0;
	}

	stix_pattern_print(&b1, p);
	err_clear(&e);
	if (stix_pattern_parse(b1.data, b1.len, &q, &e) != 0)
		fail("the canonical print does not parse", in, size, e.msg);
	stix_pattern_print(&b2, q);
	if (b1.len != b2.len || memcmp(b1.data, b2.data, b1.len) != 0)
		fail("the canonical print is not a fixed point", in, size, buf_cstr(&b2));
	if (stix_pattern_comparisons(p) != stix_pattern_comparisons(q))
		fail("the canonical print has other comparisons", in, size, buf_cstr(&b1));

	size_t n = 0, m = 0;
	if (stix_pattern_observables(p, count, &n) != 0 || n != stix_pattern_comparisons(p))
		fail("the walk misses comparisons", in, size, NULL);
	struct err why;
	err_clear(&why);
	int rc = stix_pattern_simple(p, record, &m, &why);
	if (rc == 0 && m != n)
		fail("a simple pattern yields one record per comparison", in, size, NULL);
	if (rc == STIX_COMPOSITE && (m != 0 || why.msg[0] == '\0'))
		fail("composite without a reason, or with records", in, size, NULL);
	if (rc != 0 && rc != STIX_COMPOSITE)
		fail("stix_pattern_simple returned another code", in, size, NULL);
	buf_reset(&b2);
	stix_pattern_dump(&b2, p);

	stix_pattern_free(q);
	stix_pattern_free(p);
	buf_cleanup(&b1);
	buf_cleanup(&b2);
	free(in);
	return 0;
}
