/*
 * es_bulk.h — the Elasticsearch/OpenSearch `_bulk` API as `cairn sync` speaks it (not for use
 * outside src/sync/): the action lines it writes, and the judgement of each item of a
 * response. No I/O and no state, so the rules are unit-tested as a table
 * (tests/unit/test_es_bulk.c); sync_out_es.c does the sending.
 *
 * The three operations:
 *   ES_OP_CREATE  the raw stream: `create` with the document's deterministic id, so that a
 *                 document sent again (after a crash, a retry) is a 409 conflict: already
 *                 there, which is success. Data streams accept only `create`.
 *   ES_OP_LATEST  the "latest" index: `index` under the object's latest id with external
 *                 versioning (`version_type: external_gte`, version = STIX `modified` in µs),
 *                 so an older version never overwrites a newer one (it gets a 409, which is
 *                 success: the newer one is there) and the same version sent again does.
 *   ES_OP_EXPIRE  the "latest" index: `delete` of an expired or revoked object, versioned the same way,
 *                 so it never removes a newer version; a 404 (nothing there) is success.
 *
 * Depends on base/ and json/ (jansson reads the response).
 */
#ifndef CAIRN_SYNC_ES_BULK_H
#define CAIRN_SYNC_ES_BULK_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

enum es_op { ES_OP_CREATE, ES_OP_LATEST, ES_OP_EXPIRE };

enum es_verdict {
	ES_DONE,	/* acknowledged (written, already there, or superseded) */
	ES_RETRY,	/* refused for now (429, 408, 5xx): send again after a wait */
	ES_REFUSED,	/* refused for good (400 mapping error, 403 block, 404 missing index, …) */
};

/* Appends the action line of op, with its newline. id may be NULL (ES_OP_CREATE only: the
 * cluster chooses); index and id are JSON-escaped. version < 0 is written as 0. */
void es_bulk_action(struct buf *b, enum es_op op, const char *index, const char *id, int64_t version);

/* The verdict on one item of a response: the operation sent, the item's HTTP status and
 * its error type (NULL when none). */
enum es_verdict es_bulk_judge(enum es_op op, long status, const char *error_type);

/* One item of a response, in request order. type and reason are NULL without an error. */
typedef void (*es_item_cb)(void *ctx, size_t i, long status, const char *type, const char *reason);

/*
 * Reads a `_bulk` response body and calls cb for each of its items, in order. Returns 0, or
 * ERR_INVALID (e says why) when the body is not a bulk response or does not hold exactly n
 * items — then no item may be taken as acknowledged.
 */
int es_bulk_read(const char *body, size_t len, size_t n, es_item_cb cb, void *ctx,
		 struct err *e) CAIRN_MUST_USE;

/* 1 when name is a valid index or data stream name (lower case; none of \ / * ? " < > | ,
 * # : or space; not starting with - _ +; not . or ..; at most 255 bytes), else 0. */
int es_index_name_valid(const char *name);

#endif
