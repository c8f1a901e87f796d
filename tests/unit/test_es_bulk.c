/* The `_bulk` rules of cairn sync's Elasticsearch output (src/sync/es_bulk.c): what each item
 * answer means, the action lines, the reading of a response, index names. The answers are
 * the ones OpenSearch 2.19 gives (tests/integration/test_sync_es.py meets them for real). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sync/es_bulk.h"

static void test_verdicts(void)
{
	static const struct {
		enum es_op op;
		long status;
		const char *type;
		enum es_verdict want;
	} cases[] = {
		{ ES_OP_CREATE, 201, NULL, ES_DONE },
		{ ES_OP_LATEST, 200, NULL, ES_DONE },
		{ ES_OP_EXPIRE, 200, NULL, ES_DONE },
		/* The same document again after a crash: already there. */
		{ ES_OP_CREATE, 409, "version_conflict_engine_exception", ES_DONE },
		/* An older version than the one in the latest index: superseded. */
		{ ES_OP_LATEST, 409, "version_conflict_engine_exception", ES_DONE },
		{ ES_OP_EXPIRE, 409, "version_conflict_engine_exception", ES_DONE },
		/* Another kind of conflict is no acknowledgement. */
		{ ES_OP_CREATE, 409, "resource_already_exists_exception", ES_REFUSED },
		/* Deleting what is not there. */
		{ ES_OP_EXPIRE, 404, NULL, ES_DONE },
		{ ES_OP_EXPIRE, 404, "index_not_found_exception", ES_DONE },
		{ ES_OP_CREATE, 404, "index_not_found_exception", ES_REFUSED },
		{ ES_OP_LATEST, 404, "index_not_found_exception", ES_REFUSED },
		/* Busy: a full write queue, a flood-stage block, a shard not there yet. */
		{ ES_OP_CREATE, 429, "rejected_execution_exception", ES_RETRY },
		{ ES_OP_LATEST, 429, "cluster_block_exception", ES_RETRY },
		{ ES_OP_CREATE, 503, "unavailable_shards_exception", ES_RETRY },
		{ ES_OP_CREATE, 500, NULL, ES_RETRY },
		{ ES_OP_EXPIRE, 408, NULL, ES_RETRY },
		/* For good: mapping errors, write blocks, bad ids. */
		{ ES_OP_CREATE, 400, "mapper_parsing_exception", ES_REFUSED },
		{ ES_OP_LATEST, 400, "strict_dynamic_mapping_exception", ES_REFUSED },
		{ ES_OP_CREATE, 403, "cluster_block_exception", ES_REFUSED },
		{ ES_OP_LATEST, 400, "illegal_argument_exception", ES_REFUSED },
		{ ES_OP_CREATE, 413, NULL, ES_REFUSED },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_INT(es_bulk_judge(cases[i].op, cases[i].status, cases[i].type), cases[i].want);
}

static void test_actions(void)
{
	struct buf b = BUF_INIT;
	es_bulk_action(&b, ES_OP_CREATE, "logs-ti_cairn.indicator-default", "q1Zb+/x=", 5);
	CHECK_STR(buf_cstr(&b), "{\"create\":{\"_index\":\"logs-ti_cairn.indicator-default\",\"_id\":\"q1Zb+/x=\"}}\n");
	buf_reset(&b);
	es_bulk_action(&b, ES_OP_CREATE, "raw", NULL, 0);
	CHECK_STR(buf_cstr(&b), "{\"create\":{\"_index\":\"raw\"}}\n");
	buf_reset(&b);
	es_bulk_action(&b, ES_OP_LATEST, "l", "indicator--1#2", 1706745600000000LL);
	CHECK_STR(buf_cstr(&b), "{\"index\":{\"_index\":\"l\",\"_id\":\"indicator--1#2\",\"version\":1706745600000000,"
				"\"version_type\":\"external_gte\"}}\n");
	buf_reset(&b);
	/* An id from a STIX source is text: escaped. A time before 1970 is version 0. */
	es_bulk_action(&b, ES_OP_EXPIRE, "l", "a\"b\\c\n", -86400000000LL);
	CHECK_STR(buf_cstr(&b), "{\"delete\":{\"_index\":\"l\",\"_id\":\"a\\\"b\\\\c\\n\",\"version\":0,"
				"\"version_type\":\"external_gte\"}}\n");
	buf_cleanup(&b);
}

struct seen {
	char log[512];
	size_t n;
};

static void record(void *ctx, size_t i, long status, const char *type, const char *reason)
{
	struct seen *s = ctx;
	size_t at = strlen(s->log);
	snprintf(s->log + at, sizeof(s->log) - at, "%zu:%ld:%s:%s;", i, status, type ? type : "-", reason ? reason : "-");
	s->n++;
}

static void test_read(void)
{
	struct err e = { 0 };
	struct seen s = { "", 0 };
	const char *ok = "{\"errors\":true,\"items\":[{\"create\":{\"status\":201}},"
			 "{\"create\":{\"status\":403,\"error\":{\"type\":\"cluster_block_exception\",\"reason\":\"blocked\"}}},"
			 "{\"delete\":{\"status\":404}},{\"index\":{\"status\":429,\"error\":\"busy\"}}]}";
	CHECK_INT(es_bulk_read(ok, strlen(ok), 4, record, &s, &e), 0);
	CHECK_STR(s.log, "0:201:-:-;1:403:cluster_block_exception:blocked;2:404:-:-;3:429:-:busy;");
	/* Not as many items as sent: nothing may be taken as acknowledged. */
	memset(&s, 0, sizeof(s));
	CHECK_INT(es_bulk_read(ok, strlen(ok), 5, record, &s, &e), ERR_INVALID);
	CHECK(strstr(e.msg, "4 items for the 5 sent") != NULL);
	CHECK_INT(s.n, 0);
	/* A malformed item anywhere: no callback at all. */
	const char *bad = "{\"items\":[{\"create\":{\"status\":201}},{\"create\":{}}]}";
	CHECK_INT(es_bulk_read(bad, strlen(bad), 2, record, &s, &e), ERR_INVALID);
	CHECK_INT(s.n, 0);
	const char *two = "{\"items\":[{\"create\":{\"status\":201},\"index\":{\"status\":201}}]}";
	CHECK_INT(es_bulk_read(two, strlen(two), 1, record, &s, &e), ERR_INVALID);
	CHECK_INT(es_bulk_read("<html>", 6, 0, record, &s, &e), ERR_INVALID);
	CHECK_INT(es_bulk_read("{\"error\":\"x\"}", 13, 0, record, &s, &e), ERR_INVALID);
	CHECK_INT(s.n, 0);
}

static void test_index_names(void)
{
	const char *good[] = { "cairn-indicators", "logs-ti_cairn.indicator-default", ".hidden", "a", "x..y" };
	const char *bad[] = { "", "Upper", "a b", "a,b", "a*", "a/b", "a\\b", "a?", "a\"b", "a<b", "a|b", "a#b",
			      "a:b", "-a", "_a", "+a", ".", "..", "a\tb" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(es_index_name_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(!es_index_name_valid(bad[i]));
	char long_name[300];
	memset(long_name, 'a', sizeof(long_name));
	long_name[256] = '\0';
	CHECK(!es_index_name_valid(long_name));
	long_name[255] = '\0';
	CHECK(es_index_name_valid(long_name));
}

int main(void)
{
	test_verdicts();
	test_actions();
	test_read();
	test_index_names();
	return check_summary("test_es_bulk");
}
