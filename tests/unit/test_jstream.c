/* The streaming JSON splitter (src/imp/jstream.c): modes, elements, and ends that must not hang. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "imp/jstream.h"

/* Splits text; returns the elements joined by '|' and the final code in *rc. */
static char *split(const char *text, size_t len, int lines, int *rc)
{
	static char out[4096];
	struct input *in = input_from_memory(text, len);
	struct jstream *j = jstream_new(in);
	struct err e;
	const char *el;
	size_t n;
	out[0] = '\0';
	if (lines)
		jstream_lines(j);
	for (int guard = 0; guard < 100; guard++) {
		*rc = jstream_next(j, &el, &n, &e);
		if (*rc != 1)
			break;
		if (out[0])
			strcat(out, "|");
		strncat(out, el, n);
	}
	jstream_free(j);
	input_close(in);
	return out;
}

#define S(t) t, sizeof(t) - 1

int main(void)
{
	int rc;
	CHECK_STR(split(S("[{\"a\":1}, {\"b\":[2,3]} ,\"x\", 4, true]"), 0, &rc), "{\"a\":1}|{\"b\":[2,3]}|\"x\"|4|true");
	CHECK_INT(rc, 0);
	CHECK_STR(split(S("{\"meta\":{\"t\":1},\"data\":[{\"v\":1},{\"v\":2}],\"links\":{}}"), 0, &rc),
		  "{\"v\":1}|{\"v\":2}");
	CHECK_INT(rc, 0);
	CHECK_STR(split(S("{\"type\":\"bundle\",\"id\":\"b\",\"objects\":[{\"i\":1}]}"), 0, &rc), "{\"i\":1}");
	CHECK_STR(split(S("{\"v\":1}\n{\"v\":2}\n"), 0, &rc), "{\"v\":1}|{\"v\":2}");
	CHECK_INT(rc, 0);
	/* NDJSON lines are handed out whole, broken or not. */
	CHECK_STR(split(S("{\"v\":1}\n{\"v\":\n\n{\"v\":3}\n"), 1, &rc), "{\"v\":1}|{\"v\":|{\"v\":3}");
	CHECK_INT(rc, 0);
	CHECK_STR(split(S("\"a\\\"]\""), 0, &rc), "");
	CHECK(rc < 0);
	/* Regressions (found by fuzz_stix): a delimiter or NUL where a value should start made
	 * the splitter hand out empty elements forever. Each must end with an error. */
	split(S("[1,}"), 0, &rc);
	CHECK_INT(rc, ERR_INVALID);
	split(S("{\"data\":[1,}]}"), 0, &rc);
	CHECK_INT(rc, ERR_INVALID);
	split("[ \0 ]", 5, 0, &rc);
	CHECK_INT(rc, ERR_INVALID);
	split(S("[:"), 0, &rc);
	CHECK_INT(rc, ERR_INVALID);
	/* Limits: nesting and a truncated input. */
	char deep[300];
	memset(deep, '[', 100);
	deep[100] = '\0';
	split(deep, 100, 0, &rc);
	CHECK(rc < 0);
	split(S("[{\"a\":"), 0, &rc);
	CHECK_INT(rc, ERR_INVALID);
	return check_summary("test_jstream");
}
