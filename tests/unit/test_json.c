/*
 * test_json.c — the JSON writer (src/json/jw.c): structure and comma
 * placement, string escaping, UTF-8 repair, the depth cap, and the special
 * values (null times, non-finite doubles).
 *
 * Every document the writer produces is also read back with jansson, an
 * independent parser, so "the output is always valid JSON" is checked and not
 * just the bytes we expect.
 */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "json/jw.h"
#include "check.h"

/* Parses b with jansson (any top-level value); NULL and a message when invalid. */
static json_t *parse(const struct buf *b, size_t flags)
{
	json_error_t je;
	json_t *j = json_loadb(b->data ? b->data : "", b->len, JSON_DECODE_ANY | flags, &je);
	if (j == NULL)
		fprintf(stderr, "jansson rejects %.*s: %s at %d\n", (int)b->len,
			b->data ? b->data : "", je.text, je.position);
	return j;
}

/* Writes the string s[0..n) as one JSON value and returns the document. */
static void write_str(struct buf *b, const char *s, size_t n)
{
	struct jw w;
	buf_reset(b);
	jw_init(&w, b);
	jw_strn(&w, s, n);
}

static void test_structure(void)
{
	struct buf b = BUF_INIT;
	struct jw w;

	jw_init(&w, &b);
	jw_obj(&w);
	jw_end(&w);
	CHECK_STR(buf_cstr(&b), "{}");

	buf_reset(&b);
	jw_init(&w, &b);
	jw_arr(&w);
	jw_end(&w);
	CHECK_STR(buf_cstr(&b), "[]");

	/* objects in arrays in objects, with every kind of value */
	buf_reset(&b);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kint(&w, "a", 1);
	jw_key(&w, "b");
	jw_arr(&w);
	jw_int(&w, 1);
	jw_int(&w, 2);
	jw_obj(&w);
	jw_key(&w, "c");
	jw_null(&w);
	jw_end(&w);
	jw_arr(&w);
	jw_end(&w);
	jw_end(&w);
	jw_key(&w, "d");
	jw_obj(&w);
	jw_kbool(&w, "e", true);
	jw_kbool(&w, "f", false);
	jw_end(&w);
	jw_kstr(&w, "g", "x");
	jw_key(&w, "h");
	jw_obj(&w);
	jw_end(&w);
	jw_key(&w, "i");
	jw_arr(&w);
	jw_end(&w);
	jw_kstr(&w, "j", NULL);
	jw_end(&w);
	CHECK_STR(buf_cstr(&b),
		  "{\"a\":1,\"b\":[1,2,{\"c\":null},[]],\"d\":{\"e\":true,\"f\":false},\"g\":\"x\","
		  "\"h\":{},\"i\":[],\"j\":null}");
	json_t *j = parse(&b, 0);
	CHECK(j != NULL);
	CHECK(json_is_object(j));
	CHECK_INT(json_object_size(j), 7);
	CHECK_INT(json_array_size(json_object_get(j, "b")), 4);
	CHECK(json_is_null(json_object_get(json_array_get(json_object_get(j, "b"), 2), "c")));
	CHECK(json_is_true(json_object_get(json_object_get(j, "d"), "e")));
	CHECK(json_is_null(json_object_get(j, "j")));
	json_decref(j);

	/* arrays of arrays, and an array of objects */
	buf_reset(&b);
	jw_init(&w, &b);
	jw_arr(&w);
	jw_arr(&w);
	jw_end(&w);
	jw_arr(&w);
	jw_int(&w, 1);
	jw_end(&w);
	jw_arr(&w);
	jw_arr(&w);
	jw_int(&w, 2);
	jw_end(&w);
	jw_end(&w);
	for (int i = 0; i < 3; i++) {
		jw_obj(&w);
		jw_kint(&w, "n", i);
		jw_kstr(&w, "s", "v");
		jw_end(&w);
	}
	jw_end(&w);
	CHECK_STR(buf_cstr(&b),
		  "[[],[1],[[2]],{\"n\":0,\"s\":\"v\"},{\"n\":1,\"s\":\"v\"},{\"n\":2,\"s\":\"v\"}]");
	j = parse(&b, 0);
	CHECK(j != NULL && json_array_size(j) == 6);
	json_decref(j);

	/* top-level scalars */
	buf_reset(&b);
	jw_init(&w, &b);
	jw_int(&w, 5);
	CHECK_STR(buf_cstr(&b), "5");
	buf_reset(&b);
	jw_init(&w, &b);
	jw_str(&w, NULL);
	CHECK_STR(buf_cstr(&b), "null");

	/* integers at the edges */
	buf_reset(&b);
	jw_init(&w, &b);
	jw_arr(&w);
	jw_int(&w, INT64_MIN);
	jw_int(&w, INT64_MAX);
	jw_int(&w, 0);
	jw_int(&w, -1);
	jw_end(&w);
	CHECK_STR(buf_cstr(&b), "[-9223372036854775808,9223372036854775807,0,-1]");
	j = parse(&b, 0);
	CHECK(j != NULL);
	CHECK(json_integer_value(json_array_get(j, 0)) == INT64_MIN);
	CHECK(json_integer_value(json_array_get(j, 1)) == INT64_MAX);
	json_decref(j);

	/* jw_raw: pre-serialised values get commas like any other */
	buf_reset(&b);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_key(&w, "tags");
	jw_raw(&w, "[\"c2\",\"botnet\"]", 15);
	jw_key(&w, "n");
	jw_int(&w, 2);
	jw_key(&w, "list");
	jw_arr(&w);
	jw_raw(&w, "{}", 2);
	jw_raw(&w, "true", 4);
	jw_end(&w);
	jw_end(&w);
	CHECK_STR(buf_cstr(&b), "{\"tags\":[\"c2\",\"botnet\"],\"n\":2,\"list\":[{},true]}");
	j = parse(&b, 0);
	CHECK(j != NULL);
	json_decref(j);

	/* keys with a length, and keys that need escaping */
	buf_reset(&b);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_keyn(&w, "keyXXX", 3);
	jw_int(&w, 1);
	jw_key(&w, "q\"uo\\te\n");
	jw_int(&w, 2);
	jw_end(&w);
	CHECK_STR(buf_cstr(&b), "{\"key\":1,\"q\\\"uo\\\\te\\n\":2}");
	j = parse(&b, 0);
	CHECK(j != NULL && json_integer_value(json_object_get(j, "q\"uo\\te\n")) == 2);
	json_decref(j);

	/* The writer appends to what the buffer already holds and does not own it. */
	buf_reset(&b);
	buf_puts(&b, "data: ");
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kint(&w, "id", 7);
	jw_end(&w);
	CHECK_STR(buf_cstr(&b), "data: {\"id\":7}");

	/* extra jw_end at depth 0 is harmless */
	buf_reset(&b);
	jw_init(&w, &b);
	jw_arr(&w);
	jw_end(&w);
	jw_end(&w);
	CHECK_STR(buf_cstr(&b), "[]");
	CHECK(!w.overflow);
	buf_cleanup(&b);
}

static void test_values(void)
{
	struct buf b = BUF_INIT;
	struct jw w;

	/* doubles: finite values round-trip; NaN and infinities become null */
	jw_init(&w, &b);
	jw_arr(&w);
	jw_double(&w, 0.5);
	jw_double(&w, 0.1);
	jw_double(&w, -2.25e300);
	jw_double(&w, 1e-300);
	jw_double(&w, NAN);
	jw_double(&w, INFINITY);
	jw_double(&w, -INFINITY);
	jw_double(&w, 3.0);
	jw_end(&w);
	json_t *j = parse(&b, 0);
	CHECK(j != NULL);
	CHECK_INT(json_array_size(j), 8);
	CHECK(json_number_value(json_array_get(j, 0)) == 0.5);
	CHECK(json_number_value(json_array_get(j, 1)) == 0.1);
	CHECK(json_number_value(json_array_get(j, 2)) == -2.25e300);
	CHECK(json_number_value(json_array_get(j, 3)) == 1e-300);
	CHECK(json_is_null(json_array_get(j, 4)));
	CHECK(json_is_null(json_array_get(j, 5)));
	CHECK(json_is_null(json_array_get(j, 6)));
	CHECK(json_number_value(json_array_get(j, 7)) == 3.0);
	json_decref(j);
	CHECK(strstr(buf_cstr(&b), "null,null,null") != NULL);
	CHECK(strstr(buf_cstr(&b), "nan") == NULL && strstr(buf_cstr(&b), "inf") == NULL);

	/* times: 0 is null, others RFC 3339 UTC with milliseconds */
	buf_reset(&b);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_ktime(&w, "valid_until", 0);
	jw_ktime(&w, "first_seen", 1778926830123456LL);
	jw_key(&w, "epoch_plus_1ms");
	jw_time(&w, 1000);
	jw_end(&w);
	CHECK_STR(buf_cstr(&b), "{\"valid_until\":null,\"first_seen\":\"2026-05-16T10:20:30.123Z\","
				"\"epoch_plus_1ms\":\"1970-01-01T00:00:00.001Z\"}");
	j = parse(&b, 0);
	CHECK(j != NULL && json_is_null(json_object_get(j, "valid_until")));
	json_decref(j);

	/* jw_time(0) inside an array still gets its comma */
	buf_reset(&b);
	jw_init(&w, &b);
	jw_arr(&w);
	jw_time(&w, 0);
	jw_time(&w, 0);
	jw_time(&w, 1709164800000000LL);
	jw_end(&w);
	CHECK_STR(buf_cstr(&b), "[null,null,\"2024-02-29T00:00:00.000Z\"]");
	buf_cleanup(&b);
}

struct esc {
	const char *in;
	size_t len;		/* 0: strlen */
	const char *want;	/* the whole JSON string, quotes included */
};

#define FFFD "\xef\xbf\xbd"

static const struct esc escs[] = {
	{ "plain", 0, "\"plain\"" },
	{ "", 0, "\"\"" },
	{ "say \"hi\"", 0, "\"say \\\"hi\\\"\"" },
	{ "C:\\Windows\\System32", 0, "\"C:\\\\Windows\\\\System32\"" },
	{ "a\nb\rc\td", 0, "\"a\\nb\\rc\\td\"" },
	{ "\b\f", 0, "\"\\b\\f\"" },
	{ "\x01", 0, "\"\\u0001\"" },
	{ "\x1f", 0, "\"\\u001f\"" },
	{ "x\x0by", 0, "\"x\\u000by\"" },
	{ "\x1b[31m", 0, "\"\\u001b[31m\"" },
	{ "nul\0inside", 10, "\"nul\\u0000inside\"" },
	{ "/ and \x7f", 0, "\"/ and \x7f\"" },	/* DEL and '/' need no escape */
	/* valid UTF-8 is kept byte for byte */
	{ "caf\xc3\xa9", 0, "\"caf\xc3\xa9\"" },
	{ "\xe2\x82\xac 5", 0, "\"\xe2\x82\xac 5\"" },
	{ "\xf0\x9d\x84\x9e", 0, "\"\xf0\x9d\x84\x9e\"" },
	{ "\xe4\xb8\xad\xe6\x96\x87", 0, "\"\xe4\xb8\xad\xe6\x96\x87\"" },
	{ "\xef\xbf\xbf", 0, "\"\xef\xbf\xbf\"" },		/* U+FFFF */
	{ "\xf4\x8f\xbf\xbf", 0, "\"\xf4\x8f\xbf\xbf\"" },	/* U+10FFFF */
	{ "\xc2\x80", 0, "\"\xc2\x80\"" },			/* U+0080 */
	{ "\xee\x80\x80", 0, "\"\xee\x80\x80\"" },		/* U+E000, after the surrogates */
	{ "\xe2\x80\xa8", 0, "\"\xe2\x80\xa8\"" },		/* U+2028 is valid JSON */
	/* invalid bytes become U+FFFD, the rest is kept */
	{ "a\x80z", 0, "\"a" FFFD "z\"" },
	{ "\xff", 0, "\"" FFFD "\"" },
	{ "\xfe\xff", 0, "\"" FFFD FFFD "\"" },
	{ "ok\xc3", 0, "\"ok" FFFD "\"" },			/* truncated at the end */
	{ "\xc3(", 0, "\"" FFFD "(\"" },				/* bad continuation */
	{ "\xc0\xaf", 0, "\"" FFFD FFFD "\"" },			/* overlong '/' */
	{ "\xc1\xbf", 0, "\"" FFFD FFFD "\"" },			/* overlong */
	{ "\xf8\x88\x80\x80\x80", 0, "\"" FFFD FFFD FFFD FFFD FFFD "\"" },	/* 5-byte form */
	{ "x\xc3\xa9\x80y", 0, "\"x\xc3\xa9" FFFD "y\"" },
};

/* Sequences utf8_valid must refuse, and the writer must never pass through. */
static const struct esc bad_utf8[] = {
	{ "\x80", 0, NULL },
	{ "\xbf", 0, NULL },
	{ "\xc0\x80", 0, NULL },		/* overlong NUL */
	{ "\xc1\xbf", 0, NULL },
	{ "\xe0\x80\xaf", 0, NULL },		/* overlong 3-byte */
	{ "\xe0\x9f\xbf", 0, NULL },		/* overlong U+07FF */
	{ "\xf0\x82\x82\xac", 0, NULL },	/* overlong 4-byte euro */
	{ "\xf0\x8f\xbf\xbf", 0, NULL },	/* overlong U+FFFF */
	{ "\xed\xa0\x80", 0, NULL },		/* U+D800 */
	{ "\xed\xbf\xbf", 0, NULL },		/* U+DFFF */
	{ "\xed\xa0\xbd\xed\xb8\x80", 0, NULL },	/* CESU-8 pair */
	{ "\xf4\x90\x80\x80", 0, NULL },	/* above U+10FFFF */
	{ "\xf5\x80\x80\x80", 0, NULL },
	{ "\xff", 0, NULL },
	{ "\xe2\x82", 0, NULL },		/* truncated */
	{ "\xf0\x9d\x84", 0, NULL },
	{ "\xe2\x28\xa1", 0, NULL },		/* bad second byte */
	{ "abc\xc3", 0, NULL },
};

static const struct esc good_utf8[] = {
	{ "", 0, NULL },
	{ "ascii only", 0, NULL },
	{ "nul\0ok", 6, NULL },
	{ "\xc2\x80\xdf\xbf", 0, NULL },
	{ "\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf", 0, NULL },
	{ "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", 0, NULL },
	{ "Gr\xc3\xbc\xc3\x9f" "e \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80", 0, NULL },
};

static void test_escaping(void)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < sizeof(escs) / sizeof(escs[0]); i++) {
		const struct esc *x = &escs[i];
		size_t len = x->len ? x->len : strlen(x->in);
		write_str(&b, x->in, len);
		if (b.len != strlen(x->want) || memcmp(b.data, x->want, b.len) != 0)
			fprintf(stderr, "escape row %zu: got %s\n", i, b.data);
		CHECK(b.len == strlen(x->want) && memcmp(b.data, x->want, b.len) == 0);
		CHECK(utf8_valid(b.data, b.len));
		json_t *j = parse(&b, JSON_ALLOW_NUL);
		CHECK(json_is_string(j));
		json_decref(j);
	}

	/* Every control character survives the round trip through jansson. */
	int bad = 0;
	for (int c = 0; c < 0x20; c++) {
		char in[3] = { 'a', (char)c, 'z' };
		write_str(&b, in, 3);
		json_t *j = parse(&b, JSON_ALLOW_NUL);
		if (!json_is_string(j) || json_string_length(j) != 3 ||
		    memcmp(json_string_value(j), in, 3) != 0)
			bad++;
		if (memchr(b.data, c, b.len))	/* never raw in the output */
			bad++;
		json_decref(j);
	}
	CHECK_INT(bad, 0);

	/* Every single byte 0x80–0xff alone is replaced and the output parses. */
	bad = 0;
	for (int c = 0x80; c < 0x100; c++) {
		char in[1] = { (char)c };
		write_str(&b, in, 1);
		json_t *j = parse(&b, 0);
		if (!json_is_string(j) || strcmp(json_string_value(j), FFFD) != 0)
			bad++;
		json_decref(j);
	}
	CHECK_INT(bad, 0);

	/* Nothing utf8_valid refuses reaches the output; the output always parses. */
	for (size_t i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++) {
		const struct esc *x = &bad_utf8[i];
		size_t len = strlen(x->in);
		CHECK_INT(utf8_valid(x->in, len), 0);
		write_str(&b, x->in, len);
		CHECK(utf8_valid(b.data, b.len));
		CHECK(strstr(b.data, FFFD) != NULL);
		json_t *j = parse(&b, 0);
		CHECK(json_is_string(j));
		json_decref(j);
	}
	for (size_t i = 0; i < sizeof(good_utf8) / sizeof(good_utf8[0]); i++) {
		const struct esc *x = &good_utf8[i];
		size_t len = x->len ? x->len : strlen(x->in);
		CHECK_INT(utf8_valid(x->in, len), 1);
		write_str(&b, x->in, len);
		json_t *j = parse(&b, JSON_ALLOW_NUL);
		CHECK(json_is_string(j) && json_string_length(j) == len &&
		      memcmp(json_string_value(j), x->in, len) == 0);
		json_decref(j);
	}
	/* utf8_valid reads only n bytes: a valid prefix of a longer sequence's start */
	CHECK_INT(utf8_valid("ab\xc3\xa9", 2), 1);
	CHECK_INT(utf8_valid("ab\xc3\xa9", 3), 0);

	/* json_escape alone: no quotes, appends */
	buf_reset(&b);
	buf_puts(&b, "k=");
	json_escape(&b, "a\"b", 3);
	CHECK_STR(buf_cstr(&b), "k=a\\\"b");

	/* A long string with a mix of everything, written and parsed back. */
	buf_reset(&b);
	struct buf in = BUF_INIT;
	for (int i = 0; i < 2000; i++)
		buf_puts(&in, i % 3 == 0 ? "\"\\\n" : i % 3 == 1 ? "\xc3\xa9x" : "\x01\x80");
	struct jw w;
	jw_init(&w, &b);
	jw_obj(&w);
	jw_key(&w, "s");
	jw_strn(&w, in.data, in.len);
	jw_end(&w);
	json_t *j = parse(&b, 0);
	CHECK(j != NULL);
	const char *sv = json_string_value(json_object_get(j, "s"));
	CHECK(sv != NULL && utf8_valid(sv, strlen(sv)));
	/* 667 × 3 + 667 × 3 + 666 × (1 + 3): every byte kept, 0x80 became 3 bytes */
	CHECK(sv != NULL && strlen(sv) == 667 * 3 + 667 * 3 + 666 * 4);
	json_decref(j);
	buf_cleanup(&in);
	buf_cleanup(&b);
}

static void test_depth(void)
{
	struct buf b = BUF_INIT;
	struct jw w;

	/* JW_MAX_DEPTH - 1 levels fit */
	jw_init(&w, &b);
	for (int i = 0; i < JW_MAX_DEPTH - 1; i++)
		jw_arr(&w);
	jw_int(&w, 1);
	for (int i = 0; i < JW_MAX_DEPTH - 1; i++)
		jw_end(&w);
	CHECK(!w.overflow);
	CHECK_INT(w.depth, 0);
	CHECK_INT(b.len, 2 * (JW_MAX_DEPTH - 1) + 1);
	json_t *j = parse(&b, 0);
	CHECK(j != NULL);
	json_decref(j);

	/* one more sets the flag; the deeper calls are dropped and the output stays valid */
	buf_reset(&b);
	jw_init(&w, &b);
	for (int i = 0; i < JW_MAX_DEPTH + 10; i++)
		jw_arr(&w);
	CHECK(w.overflow);
	CHECK(w.depth < JW_MAX_DEPTH);
	for (int i = 0; i < JW_MAX_DEPTH + 10; i++)
		jw_end(&w);
	CHECK_INT(w.depth, 0);
	CHECK(b.len < 2 * JW_MAX_DEPTH);
	j = parse(&b, 0);
	CHECK(j != NULL);
	json_decref(j);

	/* objects too */
	buf_reset(&b);
	jw_init(&w, &b);
	jw_obj(&w);
	for (int i = 0; i < JW_MAX_DEPTH * 2; i++) {
		jw_key(&w, "k");
		jw_obj(&w);
	}
	CHECK(w.overflow);
	CHECK(w.depth < JW_MAX_DEPTH);
	/* jw_init clears the flag */
	jw_init(&w, &b);
	CHECK(!w.overflow);
	buf_cleanup(&b);
}

int main(void)
{
	test_structure();
	test_values();
	test_escaping();
	test_depth();
	return check_summary("test_json");
}
