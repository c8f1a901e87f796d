/* The query-string parser (src/http/query.c): decoding, repetition, limits, rejection. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "http/query.h"

static int parse(struct query *q, const char *s, struct err *e)
{
	return query_parse(q, s, strlen(s), e);
}

int main(void)
{
	struct query q;
	struct err e;

	CHECK_INT(parse(&q, "type=ipv4&limit=100", &e), 0);
	CHECK_INT(q.n, 2);
	CHECK_STR(query_get(&q, "type")->val, "ipv4");
	CHECK_STR(query_get(&q, "limit")->val, "100");
	CHECK(query_get(&q, "offset") == NULL);
	query_cleanup(&q);

	/* %XX and '+' decode; keys decode too; a key without '=' has an empty value. */
	CHECK_INT(parse(&q, "q=evil%5B.%5Dcom&t+x=a+b&flag&%61pi_key=k", &e), 0);
	CHECK_STR(query_get(&q, "q")->val, "evil[.]com");
	CHECK_STR(query_get(&q, "t x")->val, "a b");
	CHECK_STR(query_get(&q, "flag")->val, "");
	CHECK_INT(query_get(&q, "flag")->val_len, 0);
	CHECK_STR(query_get(&q, "api_key")->val, "k");
	query_cleanup(&q);

	/* Repeated keys are kept in order; empty segments are skipped. */
	CHECK_INT(parse(&q, "a=1&&a=2&b=&a=3&", &e), 0);
	CHECK_INT(query_count(&q, "a"), 3);
	CHECK_STR(query_get(&q, "a")->val, "1");
	CHECK_INT(q.n, 4);
	query_cleanup(&q);

	/* Multi-byte UTF-8 is kept; a value with '=' inside keeps it. */
	CHECK_INT(parse(&q, "tag=%C3%BCber&x=a=b", &e), 0);
	CHECK_STR(query_get(&q, "tag")->val, "\xc3\xbc" "ber");
	CHECK_STR(query_get(&q, "x")->val, "a=b");
	query_cleanup(&q);

	/* Rejections: bad escapes, NUL, control bytes, invalid UTF-8 — naming the parameter. */
	static const char *const bad[] = {
		"a=%zz", "a=%4", "a=%", "a=%00", "a=%01", "a=%7f", "a=%ff%fe", "a=%c0%af", "a=%ed%a0%80",
		"%zz=1", "a=x%0ay",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&e, 0, sizeof(e));
		int rc = parse(&q, bad[i], &e);
		CHECK_INT(rc, ERR_INVALID);
		CHECK(strlen(e.msg) > 0);
		if (bad[i][0] == 'a')
			CHECK_STR(q.bad, "a");
		query_cleanup(&q);
	}
	CHECK_INT(parse(&q, "limit=%ff", &e), ERR_INVALID);
	CHECK(strstr(e.msg, "'limit'") != NULL);
	query_cleanup(&q);

	/* Limits: length and count. */
	char *big = malloc(QUERY_MAX_LEN + 2);
	memset(big, 'a', QUERY_MAX_LEN + 1);
	big[QUERY_MAX_LEN + 1] = '\0';
	CHECK_INT(query_parse(&q, big, QUERY_MAX_LEN + 1, &e), ERR_TOO_LARGE);
	query_cleanup(&q);
	CHECK_INT(query_parse(&q, big, QUERY_MAX_LEN, &e), 0);
	query_cleanup(&q);
	free(big);
	char many[QUERY_MAX_PARAMS * 4 + 8] = "";
	for (int i = 0; i <= QUERY_MAX_PARAMS; i++)
		strcat(many, "a=1&");
	CHECK_INT(parse(&q, many, &e), ERR_TOO_LARGE);
	query_cleanup(&q);

	/* Decoding is bounded by len, not by a NUL. */
	CHECK_INT(query_parse(&q, "a=1&b=2", 3, &e), 0);
	CHECK_INT(q.n, 1);
	CHECK_STR(query_get(&q, "a")->val, "1");
	query_cleanup(&q);

	char out[16];
	CHECK_INT(url_decode("a%20b+c", 7, out, 1), 5);
	CHECK_STR(out, "a b c");
	CHECK_INT(url_decode("a+b", 3, out, 0), 3);
	CHECK_STR(out, "a+b");
	CHECK_INT(url_decode("%2", 2, out, 1), -1);
	return check_summary("test_query");
}
