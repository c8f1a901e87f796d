/*
 * store_int.h — what the SQLite backend's files share. Not for use outside
 * src/store/.
 */
#ifndef CAIRN_STORE_INT_H
#define CAIRN_STORE_INT_H

#include <sqlite3.h>

#include "store/store.h"

#define STMT_CACHE 48

enum stmt_id {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
	ST_DATA_VERSION, ST_CLOCK_GET, ST_CLOCK_SET,
	ST_IOC_FIND, ST_IOC_INSERT, ST_IOC_UPDATE,
	ST_FEED_LINK, ST_FEED_UPSERT, ST_TAG_LINK, ST_TECHNIQUE_LINK, ST_INDUSTRY_LINK,
	ST_OBJ_INSERT,
	ST_KEY_INSERT, ST_KEY_BY_HASH, ST_KEY_BY_ID, ST_KEY_USAGE_ADD, ST_KEY_TOUCH,
	ST_COUNT
};

struct cached_stmt {
	char *sql;
	sqlite3_stmt *st;
	uint64_t used;
};

struct store {
	sqlite3 *db;
	struct config cfg;
	sqlite3_stmt *st[ST_COUNT];
	struct cached_stmt cache[STMT_CACHE];
	uint64_t tick;
	/* the write transaction's clock: valid between tx_begin and tx_commit */
	int64_t clock_last;
	bool in_tx;
	/* The allow-list generation the writer's matcher was built for (store_allow_expect);
	 * -1: writes are not checked against it. */
	int64_t allow_expect;
};

/* When a record of type t last seen at last_seen reaches a score of 0 (the type's lifetime
 * after it); 0 when the type's lifetime is 0 (it does not decay). */
int64_t store_decay_end(const struct store *s, enum ioc_type t, int64_t last_seen);
/* The indexed 64 bits of a record's UUID (lower or upper case hex). */
int64_t uuid_key(const char *uuid);
int db_fail(struct store *s, struct err *e, const char *what);
sqlite3_stmt *stmt(struct store *s, enum stmt_id id);
/* A statement for dynamic SQL, prepared once and kept (LRU). NULL on error. */
sqlite3_stmt *stmt_sql(struct store *s, const char *sql, struct err *e);
int tx_begin(struct store *s, struct err *e);
int tx_commit(struct store *s, struct err *e);
/* Commits without saving the clock: for writes that drew no time stamp. */
int tx_commit_plain(struct store *s, struct err *e);
void tx_rollback(struct store *s);
/* The next commit-ordered time stamp; only inside a write transaction. */
int64_t clock_next(struct store *s);

/* Columns of a record, in the order store_sqlite.c's IOC_COLS lists them. */
#define IOC_COLS "rid,uuid,type,value,score,first_seen,last_seen,valid_until,created_at,updated_at," \
		 "revoked,feed,category,reference_url,origin,context,tlp,tags,techniques,industries," \
		 "sources,nsources,occurrences,sightings,modified,suppressed,decay_end,decay_speed," \
		 "high_until,medium_until,low_until"
void row_to_record(sqlite3_stmt *st, struct ioc_record *r);
/* Stores record r's STIX object as of `modified` (its newest version), superseding
 * prev_modified (0: a new record) (store_ioc.c). */
int store_write_object(struct store *s, const struct ioc_record *r, int64_t modified, int64_t prev_modified,
		       struct err *e);
/* Re-marks the newest/oldest/top versions of a foreign object (store_ioc.c). */
int store_foreign_refresh(struct store *s, const char *stix_id, struct err *e);

#endif
