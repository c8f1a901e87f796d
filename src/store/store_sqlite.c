/*
 * The SQLite backend: opening, migrations, statements, transactions and the
 * commit-ordered clock. Records are in store_ioc.c, keys in store_keys.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/timeutil.h"
#include "base/xmalloc.h"
#include "ioc/score.h"
#include "store/store_int.h"

/*
 * Schema migrations, in order; user_version is the number applied. Never
 * edit an applied step: append a new one.
 */
static const char *const migrations[] = {
	/* 1: the indicator index, the object store, keys, usage, feeds */
	"CREATE TABLE clock(id INTEGER PRIMARY KEY CHECK (id = 1), last INTEGER NOT NULL);"
	"INSERT INTO clock VALUES (1, 0);"
	"CREATE TABLE iocs("
	" rid INTEGER PRIMARY KEY,"
	" key INTEGER NOT NULL,"	/* the first 64 bits of uuid: the one index over identity */
	" uuid TEXT NOT NULL,"
	" type INTEGER NOT NULL,"
	" value TEXT NOT NULL,"
	" score INTEGER NOT NULL,"
	" first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
	" valid_until INTEGER NOT NULL DEFAULT 0,"	/* 0 = never */
	" created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
	" revoked INTEGER NOT NULL DEFAULT 0,"
	" feed TEXT NOT NULL DEFAULT '', category TEXT NOT NULL DEFAULT '',"
	" reference_url TEXT NOT NULL DEFAULT '', origin TEXT NOT NULL DEFAULT 'feed',"
	" context TEXT NOT NULL DEFAULT '', tlp TEXT NOT NULL DEFAULT 'clear',"
	" tags TEXT NOT NULL DEFAULT '[]', techniques TEXT NOT NULL DEFAULT '[]',"
	" industries TEXT NOT NULL DEFAULT '[]', sources TEXT NOT NULL DEFAULT '[]',"
	" nsources INTEGER NOT NULL DEFAULT 1, occurrences INTEGER NOT NULL DEFAULT 1,"
	" sightings INTEGER NOT NULL DEFAULT 0,"
	" modified INTEGER NOT NULL);"	/* the STIX version's time stamp */
	/*
	 * Identity is (type, value); its UUIDv5 hashes it. Indexing 64 bits of that hash
	 * serves both the merge lookup and GET by id with one small index, where
	 * UNIQUE(type, value) and UNIQUE(uuid) would be two large random ones that a bulk
	 * import rewrites on every commit. Uniqueness is kept by the writer, which always
	 * looks the key up (and compares type and value) before inserting.
	 */
	"CREATE INDEX iocs_key ON iocs(key);"
	"CREATE UNIQUE INDEX iocs_updated ON iocs(updated_at);"
	"CREATE INDEX iocs_type ON iocs(type);"
	"CREATE INDEX iocs_ref ON iocs(reference_url) WHERE reference_url <> '';"
	"CREATE TABLE ioc_feeds(feed TEXT NOT NULL, rid INTEGER NOT NULL,"
	" PRIMARY KEY(feed, rid)) WITHOUT ROWID;"
	"CREATE TABLE ioc_tags(tag TEXT NOT NULL, rid INTEGER NOT NULL, PRIMARY KEY(tag, rid)) WITHOUT ROWID;"
	"CREATE TABLE ioc_techniques(technique TEXT NOT NULL, rid INTEGER NOT NULL,"
	" PRIMARY KEY(technique, rid)) WITHOUT ROWID;"
	"CREATE TABLE ioc_industries(industry TEXT NOT NULL, rid INTEGER NOT NULL,"
	" PRIMARY KEY(industry, rid)) WITHOUT ROWID;"
	"CREATE VIRTUAL TABLE ioc_fts USING fts5(value, content='iocs', content_rowid='rid',"
	" tokenize='trigram');"
	"CREATE TABLE objects("
	" seq INTEGER PRIMARY KEY,"
	" stix_id TEXT NOT NULL, type TEXT NOT NULL, spec_version TEXT NOT NULL DEFAULT '2.1',"
	" modified INTEGER NOT NULL, date_added INTEGER NOT NULL UNIQUE,"
	" revoked INTEGER NOT NULL DEFAULT 0, ioc_rid INTEGER,"
	" json TEXT NOT NULL);"
	/* A record's versions are found through its rid; only foreign objects need stix_id. */
	"CREATE INDEX objects_ioc ON objects(ioc_rid, modified) WHERE ioc_rid IS NOT NULL;"
	"CREATE UNIQUE INDEX objects_foreign ON objects(stix_id, modified) WHERE ioc_rid IS NULL;"
	"CREATE TABLE api_keys("
	" id TEXT PRIMARY KEY, prefix TEXT NOT NULL, hash BLOB NOT NULL UNIQUE,"
	" name TEXT NOT NULL, tier INTEGER NOT NULL, scopes INTEGER NOT NULL,"
	" created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL DEFAULT 0,"
	" revoked_at INTEGER NOT NULL DEFAULT 0, revoke_reason TEXT NOT NULL DEFAULT '',"
	" last_used_at INTEGER NOT NULL DEFAULT 0, total_requests INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX api_keys_prefix ON api_keys(prefix);"
	"CREATE TABLE key_usage("
	" key_id TEXT NOT NULL, day INTEGER NOT NULL,"
	" requests INTEGER NOT NULL DEFAULT 0, ok INTEGER NOT NULL DEFAULT 0,"
	" client_errors INTEGER NOT NULL DEFAULT 0, server_errors INTEGER NOT NULL DEFAULT 0,"
	" rate_limited INTEGER NOT NULL DEFAULT 0, latency_us_sum INTEGER NOT NULL DEFAULT 0,"
	" lat BLOB, routes BLOB, hours BLOB, peak_minute INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY(key_id, day)) WITHOUT ROWID;"
	"CREATE TABLE feeds("
	" name TEXT PRIMARY KEY, category TEXT NOT NULL DEFAULT '',"
	" last_import_at INTEGER NOT NULL DEFAULT 0, imports INTEGER NOT NULL DEFAULT 0,"
	" last_read INTEGER NOT NULL DEFAULT 0, last_added INTEGER NOT NULL DEFAULT 0,"
	" last_updated INTEGER NOT NULL DEFAULT 0, last_rejected INTEGER NOT NULL DEFAULT 0);",
	/*
	 * 2: the trigram index is filled behind the writers: `fts_rid` is the highest rid
	 * indexed. Indexing a value costs about as much as storing its record, so imports
	 * leave it to store_fts_catch_up(), which the server runs in the background; search
	 * scans the not-yet-indexed tail itself.
	 */
	"CREATE TABLE meta(k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID;"
	"INSERT INTO meta VALUES ('fts_rid', (SELECT coalesce(max(rowid), 0) FROM ioc_fts));",
	/*
	 * 3: what the TAXII server pages by. `ckey` is the object's class: a record's indicator
	 * type (OBJ_CLASS_TACTIC for ATT&CK tactics, custom objects), or OBJ_CLASS_FOREIGN + the
	 * class of a foreign object's STIX type. `last` and
	 * `first` mark an object's newest and oldest version among the versions of its newest
	 * spec_version (`top`). Pages of the default (latest) versions are range scans of
	 * objects_last, one per class, merged in date_added order. Objects without modified
	 * or created (SCOs) are versioned by their date_added. The secret signs `next` tokens,
	 * so that any server process on this database accepts them.
	 */
	"ALTER TABLE objects ADD COLUMN ckey INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE objects ADD COLUMN last INTEGER NOT NULL DEFAULT 1;"
	"ALTER TABLE objects ADD COLUMN first INTEGER NOT NULL DEFAULT 1;"
	"ALTER TABLE objects ADD COLUMN top INTEGER NOT NULL DEFAULT 1;"
	"UPDATE objects SET modified = date_added WHERE modified = 0;"
	"UPDATE objects SET ckey = CASE type WHEN 'x-mitre-tactic' THEN 31"
	" ELSE (SELECT type FROM iocs WHERE rid = objects.ioc_rid) END WHERE ioc_rid IS NOT NULL;"
	"UPDATE objects SET ckey = cairn_object_class(type) WHERE ioc_rid IS NULL;"
	"UPDATE objects SET last = (modified = (SELECT modified FROM iocs WHERE rid = objects.ioc_rid)),"
	" first = NOT EXISTS (SELECT 1 FROM objects o2 WHERE o2.ioc_rid = objects.ioc_rid"
	" AND o2.modified < objects.modified) WHERE ioc_rid IS NOT NULL;"
	"UPDATE objects SET top = (spec_version = (SELECT max(spec_version) FROM objects o2"
	" WHERE o2.stix_id = objects.stix_id AND o2.ioc_rid IS NULL)) WHERE ioc_rid IS NULL;"
	"UPDATE objects SET"
	" last = top AND NOT EXISTS (SELECT 1 FROM objects o2 WHERE o2.stix_id = objects.stix_id"
	" AND o2.ioc_rid IS NULL AND o2.top AND o2.modified > objects.modified),"
	" first = top AND NOT EXISTS (SELECT 1 FROM objects o2 WHERE o2.stix_id = objects.stix_id"
	" AND o2.ioc_rid IS NULL AND o2.top AND o2.modified < objects.modified) WHERE ioc_rid IS NULL;"
	"CREATE INDEX objects_last ON objects(ckey, date_added) WHERE last = 1;"
	"CREATE TABLE taxii_status(id TEXT PRIMARY KEY, created INTEGER NOT NULL, json TEXT NOT NULL)"
	" WITHOUT ROWID;"
	"CREATE TABLE secrets(k TEXT PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;"
	"INSERT INTO secrets VALUES ('taxii_next', randomblob(32));",
	/*
	 * 4: feed definitions (`cairn feeds add`) and their pull state. The definition is the
	 * JSON the CLI wrote; the state columns change on every pull.
	 */
	"CREATE TABLE feed_defs(name TEXT PRIMARY KEY, def TEXT NOT NULL,"
	" etag TEXT NOT NULL DEFAULT '', last_modified TEXT NOT NULL DEFAULT '',"
	" cursor TEXT NOT NULL DEFAULT '', last_run INTEGER NOT NULL DEFAULT 0,"
	" last_ok INTEGER NOT NULL DEFAULT 0, next_run INTEGER NOT NULL DEFAULT 0,"
	" failures INTEGER NOT NULL DEFAULT 0, last_status TEXT NOT NULL DEFAULT '',"
	" last_error TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL) WITHOUT ROWID;",
	/*
	 * 5: allow-lists (docs/allowlists.md). A list's text is kept as it was given and read
	 * again by every process that builds a matcher; `allow_gen` changes with every list
	 * change, so servers notice and rebuild. `pending` says which pass the records still
	 * need for the list: 1 to suppress what it matches, 2 to re-check what it suppressed
	 * (disabled or being removed). A record's `suppressed` is the id of the list that hides
	 * it (0: none). The built-in list is on in every database, new or migrated.
	 */
	"CREATE TABLE allowlists(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	" format TEXT NOT NULL, type TEXT NOT NULL DEFAULT '', title TEXT NOT NULL DEFAULT '',"
	" description TEXT NOT NULL DEFAULT '', source TEXT NOT NULL DEFAULT '',"
	" added_at INTEGER NOT NULL, entries INTEGER NOT NULL DEFAULT 0, skipped INTEGER NOT NULL DEFAULT 0,"
	" types INTEGER NOT NULL DEFAULT 0, body BLOB, enabled INTEGER NOT NULL DEFAULT 1,"
	" pending INTEGER NOT NULL DEFAULT 1, removing INTEGER NOT NULL DEFAULT 0,"
	" import_hits INTEGER NOT NULL DEFAULT 0, changed_at INTEGER NOT NULL DEFAULT 0);"
	"INSERT INTO allowlists(id, name, format, type, source, added_at, changed_at) VALUES (1, 'builtin',"
	" 'builtin', 'cidr', 'built-in', CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER),"
	" CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER));"
	"INSERT INTO meta VALUES ('allow_gen', 1);"
	"ALTER TABLE iocs ADD COLUMN suppressed INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX iocs_suppressed ON iocs(suppressed) WHERE suppressed <> 0;",
	/*
	 * 6: scoring (docs/scoring.md). `score` is now the base score, as of last_seen; it
	 * decays to 0 at `decay_end` (0: never) at `decay_speed`. The three crossing times are
	 * the last instants at which the score is still high (>= 70), medium (>= 30) and low
	 * (>= 1): a band filter compares them with the time of the request. Existing records
	 * keep their score as their base and decay by the configured lifetimes and speeds.
	 */
	"ALTER TABLE iocs ADD COLUMN decay_end INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE iocs ADD COLUMN decay_speed REAL NOT NULL DEFAULT 1;"
	"ALTER TABLE iocs ADD COLUMN high_until INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE iocs ADD COLUMN medium_until INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE iocs ADD COLUMN low_until INTEGER NOT NULL DEFAULT 0;"
	"UPDATE iocs SET decay_end = cairn_decay_end(type, last_seen), decay_speed = cairn_decay_speed(type);"
	"UPDATE iocs SET high_until = cairn_score_until(score, last_seen, decay_end, decay_speed, 70),"
	" medium_until = cairn_score_until(score, last_seen, decay_end, decay_speed, 30),"
	" low_until = cairn_score_until(score, last_seen, decay_end, decay_speed, 1);",
	/*
	 * 7: snapshot feeds (docs/feeds.md). `seen_at` is the commit-ordered time of the last
	 * report of the value by the feed; a pull of a snapshot feed ends (`ended_at`) the
	 * sources it did not report. A new report clears ended_at.
	 */
	"ALTER TABLE ioc_feeds ADD COLUMN seen_at INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE ioc_feeds ADD COLUMN ended_at INTEGER NOT NULL DEFAULT 0;",
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

static const char *const stmt_sql_text[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_DATA_VERSION] = "PRAGMA data_version",
	[ST_CLOCK_GET] = "SELECT last FROM clock WHERE id = 1",
	[ST_CLOCK_SET] = "UPDATE clock SET last = ?1 WHERE id = 1",
	[ST_IOC_FIND] = "SELECT " IOC_COLS " FROM iocs INDEXED BY iocs_key WHERE key = ?3 AND type = ?1 AND value = ?2",
	[ST_IOC_INSERT] =
		"INSERT INTO iocs(uuid,type,value,score,first_seen,last_seen,valid_until,created_at,"
		"updated_at,revoked,feed,category,reference_url,origin,context,tlp,tags,techniques,"
		"industries,sources,nsources,occurrences,sightings,modified,key,decay_end,decay_speed,"
		"high_until,medium_until,low_until) VALUES"
		"(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,"
		"?26,?27,?28,?29,?30)",
	[ST_IOC_UPDATE] =
		"UPDATE iocs SET score=?2,first_seen=?3,last_seen=?4,valid_until=?5,updated_at=?6,"
		"revoked=?7,context=?8,tlp=?9,tags=?10,techniques=?11,industries=?12,sources=?13,"
		"nsources=?14,occurrences=?15,modified=?16,decay_end=?17,decay_speed=?18,high_until=?19,"
		"medium_until=?20,low_until=?21 WHERE rid = ?1",
	[ST_FEED_LINK] = "INSERT INTO ioc_feeds(feed, rid, seen_at) VALUES (?1, ?2, ?3) ON CONFLICT(feed, rid)"
			 " DO UPDATE SET seen_at = excluded.seen_at, ended_at = 0",
	[ST_FEED_UPSERT] = "INSERT INTO feeds(name, category) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE"
			   " SET category = excluded.category WHERE excluded.category <> ''"
			   " AND category <> excluded.category",
	[ST_TAG_LINK] = "INSERT OR IGNORE INTO ioc_tags(tag, rid) VALUES (?1, ?2)",
	[ST_TECHNIQUE_LINK] = "INSERT OR IGNORE INTO ioc_techniques(technique, rid) VALUES (?1, ?2)",
	[ST_INDUSTRY_LINK] = "INSERT OR IGNORE INTO ioc_industries(industry, rid) VALUES (?1, ?2)",
	[ST_OBJ_INSERT] = "INSERT INTO objects(stix_id, type, modified, date_added, revoked, ioc_rid, json,"
			  " spec_version, ckey, last, first, top) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
			  " ?10, ?11, ?12)",
	[ST_KEY_INSERT] = "INSERT INTO api_keys(id, prefix, hash, name, tier, scopes, created_at,"
			  " expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_KEY_BY_HASH] = "SELECT id, prefix, hash, name, tier, scopes, created_at, expires_at,"
			   " revoked_at, last_used_at, total_requests, revoke_reason FROM api_keys"
			   " WHERE hash = ?1",
	[ST_KEY_BY_ID] = "SELECT id, prefix, hash, name, tier, scopes, created_at, expires_at,"
			 " revoked_at, last_used_at, total_requests, revoke_reason FROM api_keys"
			 " WHERE id = ?1 OR prefix = ?1",
	[ST_KEY_USAGE_ADD] =
		"INSERT INTO key_usage(key_id, day, requests, ok, client_errors, server_errors,"
		" rate_limited, latency_us_sum, lat, routes, hours, peak_minute)"
		" VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?11,?12,?10)"
		" ON CONFLICT(key_id, day) DO UPDATE SET requests = requests + excluded.requests,"
		" ok = ok + excluded.ok, client_errors = client_errors + excluded.client_errors,"
		" server_errors = server_errors + excluded.server_errors,"
		" rate_limited = rate_limited + excluded.rate_limited,"
		" latency_us_sum = latency_us_sum + excluded.latency_us_sum,"
		" lat = cairn_hist_add(lat, excluded.lat),"
		" routes = cairn_hist_add(routes, excluded.routes),"
		" hours = cairn_hist_add(hours, excluded.hours),"
		" peak_minute = max(peak_minute, excluded.peak_minute)",
	[ST_KEY_TOUCH] = "UPDATE api_keys SET total_requests = total_requests + ?2,"
			 " last_used_at = max(last_used_at, ?3) WHERE id = ?1",
};

int64_t store_decay_end(const struct store *s, enum ioc_type t, int64_t last_seen)
{
	int64_t days = t > 0 && t < IOC_TYPE_COUNT ? s->cfg.lifetime_days[t] : 0;
	return days > 0 ? last_seen + days * USEC_PER_DAY : 0;
}

int64_t uuid_key(const char *uuid)
{
	uint64_t k = 0;
	for (int i = 0, n = 0; uuid[i] && n < 16; i++) {
		char c = uuid[i];
		if (c == '-')
			continue;
		k = k << 4 | (uint64_t)(c <= '9' ? c - '0' : (c | 32) - 'a' + 10);
		n++;
	}
	return (int64_t)k;
}

int db_fail(struct store *s, struct err *e, const char *what)
{
	return err_set(e, ERR_DB, "%s: %s", what, sqlite3_errmsg(s->db));
}

sqlite3_stmt *stmt(struct store *s, enum stmt_id id)
{
	sqlite3_stmt *st = s->st[id];
	if (st == NULL) {
		if (sqlite3_prepare_v3(s->db, stmt_sql_text[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
		    SQLITE_OK) {
			log_error("preparing statement %d: %s", (int)id, sqlite3_errmsg(s->db));
			return NULL;
		}
		s->st[id] = st;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

sqlite3_stmt *stmt_sql(struct store *s, const char *sql, struct err *e)
{
	struct cached_stmt *victim = &s->cache[0];
	for (int i = 0; i < STMT_CACHE; i++) {
		struct cached_stmt *c = &s->cache[i];
		if (c->sql && strcmp(c->sql, sql) == 0) {
			c->used = ++s->tick;
			sqlite3_reset(c->st);
			sqlite3_clear_bindings(c->st);
			return c->st;
		}
		if (c->used < victim->used)
			victim = c;
	}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		db_fail(s, e, "preparing a query");
		return NULL;
	}
	sqlite3_finalize(victim->st);
	free(victim->sql);
	victim->sql = xstrdup(sql);
	victim->st = st;
	victim->used = ++s->tick;
	return st;
}

/* cairn_hist_add(a, b): element-wise sum of two counter arrays (blobs of int64). */
static void hist_add(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	enum { MAXN = 64 };
	int64_t out[MAXN] = { 0 };
	int len = 0;
	(void)argc;
	for (int k = 0; k < 2; k++) {
		const void *p = sqlite3_value_blob(argv[k]);
		int n = sqlite3_value_bytes(argv[k]);
		if (p == NULL || n <= 0 || n % 8 || n > (int)sizeof(out))
			continue;
		int64_t tmp[MAXN];
		memcpy(tmp, p, (size_t)n);
		for (int i = 0; i < n / 8; i++)
			out[i] += tmp[i];
		if (n > len)
			len = n;
	}
	sqlite3_result_blob(ctx, out, len, SQLITE_TRANSIENT);
}

/* cairn_decay_end(type, last_seen): when a record last seen then reaches a score of 0. */
static void decay_end_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const struct store *s = sqlite3_user_data(ctx);
	sqlite3_result_int64(ctx, store_decay_end(s, (enum ioc_type)sqlite3_value_int(argv[0]),
						  sqlite3_value_int64(argv[1])));
}

/* cairn_decay_speed(type): the configured decay speed of the type. */
static void decay_speed_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const struct store *s = sqlite3_user_data(ctx);
	int t = sqlite3_value_int(argv[0]);
	sqlite3_result_double(ctx, t > 0 && t < IOC_TYPE_COUNT ? s->cfg.decay_speed[t] : 1.0);
}

static struct score_decay decay_args(sqlite3_value **argv)
{
	struct score_decay d = { sqlite3_value_int(argv[0]), sqlite3_value_int64(argv[1]),
				 sqlite3_value_int64(argv[2]), sqlite3_value_double(argv[3]) };
	return d;
}

/* cairn_score_until(base, last_seen, decay_end, speed, k): see score_until(). */
static void score_until_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	struct score_decay d = decay_args(argv);
	sqlite3_result_int64(ctx, score_until(&d, sqlite3_value_int(argv[4])));
}

/* cairn_score_at(base, last_seen, decay_end, speed, t): see score_at(). */
static void score_at_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	struct score_decay d = decay_args(argv);
	sqlite3_result_int(ctx, score_at(&d, sqlite3_value_int64(argv[4])));
}

/* cairn_object_class(type): the class key of a foreign object of that STIX type. */
static void object_class_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const char *t = (const char *)sqlite3_value_text(argv[0]);
	sqlite3_result_int(ctx, store_object_class(t ? t : ""));
}

static int exec(struct store *s, const char *sql, struct err *e)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(e, ERR_DB, "%s", msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return ERR_DB;
	}
	return 0;
}

static int user_version(struct store *s, int *v, struct err *e)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return db_fail(s, e, "reading the schema version");
	*v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return 0;
}

static int migrate(struct store *s, struct err *e)
{
	int v;
	if (user_version(s, &v, e))
		return ERR_DB;
	if (v > SCHEMA_VERSION)
		return err_set(e, ERR_CONFLICT,
			       "database schema %d is newer than this cairn understands (%d)", v,
			       SCHEMA_VERSION);
	if (v == SCHEMA_VERSION)
		return 0;
	if (exec(s, "BEGIN IMMEDIATE", e))
		return ERR_DB;
	/* Re-read under the write lock: another process may have migrated meanwhile. */
	if (user_version(s, &v, e))
		goto fail;
	for (; v < SCHEMA_VERSION; v++) {
		char pragma[64];
		if (exec(s, migrations[v], e))
			goto fail;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
		if (exec(s, pragma, e))
			goto fail;
	}
	if (exec(s, "COMMIT", e))
		goto fail;
	return 0;
fail:
	exec(s, "ROLLBACK", NULL);
	return ERR_DB;
}

int store_open(struct store **out, const char *path, const struct config *cfg, unsigned flags,
	       struct err *e)
{
	struct store *s = xcalloc(1, sizeof(*s));
	s->allow_expect = -1;
	int oflags = (flags & STORE_READONLY) ? SQLITE_OPEN_READONLY
					      : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	*out = NULL;
	if (cfg)
		s->cfg = *cfg;
	else
		config_defaults(&s->cfg);
	if (sqlite3_open_v2(path, &s->db, oflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		err_set(e, ERR_DB, "cannot open database '%s': %s", path,
			s->db ? sqlite3_errmsg(s->db) : "out of memory");
		store_close(s);
		return ERR_DB;
	}
	sqlite3_busy_timeout(s->db, 10000);
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_create_function(s->db, "cairn_hist_add", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
				hist_add, NULL, NULL);
	sqlite3_create_function(s->db, "cairn_object_class", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
				object_class_fn, NULL, NULL);
	sqlite3_create_function(s->db, "cairn_decay_end", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, s,
				decay_end_fn, NULL, NULL);
	sqlite3_create_function(s->db, "cairn_decay_speed", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, s,
				decay_speed_fn, NULL, NULL);
	sqlite3_create_function(s->db, "cairn_score_until", 5, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
				score_until_fn, NULL, NULL);
	sqlite3_create_function(s->db, "cairn_score_at", 5, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
				score_at_fn, NULL, NULL);
	if (exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF;"
		    "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536; PRAGMA mmap_size=1073741824;"
		    "PRAGMA wal_autocheckpoint=8192;",
		 e) ||
	    (!(flags & STORE_READONLY) && migrate(s, e))) {
		char msg[ERR_MSG_MAX];
		snprintf(msg, sizeof(msg), "%s", e ? e->msg : "");
		store_close(s);
		return err_set(e, ERR_DB, "database '%s': %s", path, msg);
	}
	*out = s;
	return 0;
}

void store_bulk(struct store *s)
{
	sqlite3_exec(s->db, "PRAGMA cache_size=-262144; PRAGMA wal_autocheckpoint=65536;", NULL, NULL, NULL);
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	for (int i = 0; i < STMT_CACHE; i++) {
		sqlite3_finalize(s->cache[i].st);
		free(s->cache[i].sql);
	}
	sqlite3_close(s->db);
	free(s);
}

int64_t store_data_version(struct store *s)
{
	/* PRAGMA data_version sees other connections' commits; total_changes our own. */
	sqlite3_stmt *st = stmt(s, ST_DATA_VERSION);
	int64_t v = 0;
	if (st && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	if (st)
		sqlite3_reset(st);
	return (int64_t)((uint64_t)v * 1000003u + (uint64_t)sqlite3_total_changes64(s->db));
}

int64_t store_clock(struct store *s)
{
	sqlite3_stmt *st = stmt(s, ST_CLOCK_GET);
	int64_t v = -1;
	if (st && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	if (st)
		sqlite3_reset(st);
	return v;
}

static int step_done(struct store *s, sqlite3_stmt *st, struct err *e, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_fail(s, e, what);
	return 0;
}

int tx_begin(struct store *s, struct err *e)
{
	sqlite3_stmt *st = stmt(s, ST_BEGIN);
	if (st == NULL || step_done(s, st, e, "beginning a write transaction"))
		return ERR_DB;
	st = stmt(s, ST_CLOCK_GET);
	if (st == NULL || sqlite3_step(st) != SQLITE_ROW) {
		int rc = db_fail(s, e, "reading the clock");
		tx_rollback(s);
		return rc;
	}
	s->clock_last = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	s->in_tx = true;
	return 0;
}

int64_t clock_next(struct store *s)
{
	int64_t now = time_now_us();
	s->clock_last = now > s->clock_last ? now : s->clock_last + 1;
	return s->clock_last;
}

int tx_commit_plain(struct store *s, struct err *e)
{
	sqlite3_stmt *st = stmt(s, ST_COMMIT);
	if (st == NULL || step_done(s, st, e, "committing")) {
		tx_rollback(s);
		return ERR_DB;
	}
	s->in_tx = false;
	return 0;
}

int tx_commit(struct store *s, struct err *e)
{
	sqlite3_stmt *st = stmt(s, ST_CLOCK_SET);
	if (st == NULL)
		return db_fail(s, e, "preparing the clock update");
	sqlite3_bind_int64(st, 1, s->clock_last);
	if (step_done(s, st, e, "saving the clock")) {
		tx_rollback(s);
		return ERR_DB;
	}
	return tx_commit_plain(s, e);
}

void tx_rollback(struct store *s)
{
	sqlite3_stmt *st = stmt(s, ST_ROLLBACK);
	if (st) {
		sqlite3_step(st);
		sqlite3_reset(st);
	}
	s->in_tx = false;
}
