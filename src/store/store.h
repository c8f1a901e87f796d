/*
 * store.h — the storage interface (DESIGN.md section 4): the indicator index,
 * the STIX object store, API keys and their usage, feed bookkeeping.
 *
 * Backend: SQLite in WAL mode (store_sqlite.c and friends). Nothing above this
 * header sees SQL: prepared statements live and die inside the module.
 *
 * Life cycle and invariants
 *   1. store_open() opens (creating if needed) the database and runs every
 *      pending schema migration in one transaction; a newer schema than this
 *      program knows is refused.
 *   2. A `struct store` is one connection: use it from one thread at a time.
 *      Servers open one per worker thread; SQLite's WAL gives readers
 *      snapshots while one writer commits.
 *   3. Every write happens inside a write transaction begun with BEGIN
 *      IMMEDIATE. Time stamps that order changes (an indicator's updated_at,
 *      an object version's date_added) are drawn *inside* that transaction
 *      from the clock row: next = max(now, last + 1 µs). So they are unique
 *      and follow commit order, and a reader paging by them never skips a
 *      change that committed after its page.
 *   4. A batch (store_ioc_put_batch) commits whole or not at all; a crash
 *      leaves every earlier batch in place and no part of the failed one.
 *
 * Errors: functions return 0 or a negative ERR_* code with the reason in e.
 * Pointers handed to callbacks are valid only during the callback.
 */
#ifndef CAIRN_STORE_STORE_H
#define CAIRN_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "config/config.h"
#include "ioc/record.h"

struct store;

#define STORE_READONLY 1u

int store_open(struct store **out, const char *path, const struct config *cfg, unsigned flags,
	       struct err *e) CAIRN_MUST_USE;
void store_close(struct store *s);
/* For long imports on this connection: a larger page cache and WAL, so that pages are
 * written and synced fewer times (the guarantees of invariant 4 are unchanged). */
void store_bulk(struct store *s);
/* Changes whenever any connection commits anything: a cache validator. */
int64_t store_data_version(struct store *s);
/* The last time stamp the commit-ordered clock gave out: changes exactly when an
 * indicator or object was written, not when keys or usage were. */
int64_t store_clock(struct store *s);

/* ---- indicators ---- */

struct ioc_filter {
	unsigned types;			/* bit (1 << enum ioc_type); 0 = every type */
	unsigned bands;			/* bit 0 none, 1 low, 2 medium, 3 high; 0 = every band */
	int min_score;			/* -1 = none */
	const char *category, *industry, *tag, *source;	/* NULL = any */
	int64_t since, until;		/* updated_at window (µs), 0 = open */
	bool window_is_narrow;		/* since/until came from the caller (delta polling): the
					 * store may read them through the updated_at index when
					 * the window holds few records; else it walks rid order */
	bool include_expired;		/* also expired and revoked records */
	int64_t now;
	int64_t limit, offset;
	int64_t before_rid;		/* cursor: only rid < before_rid; 0 = none */
};

/* Records in rid order, newest first (the order cursors walk). cb returning
 * non-zero stops the walk and is returned. */
typedef int (*ioc_cb)(void *ctx, const struct ioc_record *r);
int store_ioc_list(struct store *s, const struct ioc_filter *f, ioc_cb cb, void *ctx, struct err *e);
/* Number of matches. Above `cap` the count is extrapolated and *estimated set. */
int store_ioc_count(struct store *s, const struct ioc_filter *f, int64_t cap, int64_t *n,
		    bool *estimated, struct err *e);
/* By UUID (the record id). ERR_NOT_FOUND when absent. */
int store_ioc_get(struct store *s, const char *uuid, ioc_cb cb, void *ctx, struct err *e);
int store_ioc_get_value(struct store *s, enum ioc_type t, const char *value, ioc_cb cb, void *ctx,
			struct err *e);
/* The same, suppressed records included (they are hidden from every other read). */
int store_ioc_get_value_any(struct store *s, enum ioc_type t, const char *value, ioc_cb cb, void *ctx,
			    struct err *e);
/*
 * Substring (trigram) search over values; q of 3+ bytes. types 0 = any. Records not yet
 * in the trigram index (see store_fts_catch_up) are scanned directly, the newest
 * STORE_FTS_TAIL_MAX of them; older unindexed ones are found once indexed.
 */
#define STORE_FTS_TAIL_MAX 200000
int store_ioc_search(struct store *s, const char *q, unsigned types, int64_t limit, ioc_cb cb,
		     void *ctx, struct err *e);
/* Adds up to max records not yet in the trigram index to it, in one transaction.
 * *indexed gets how many; 0 means it is up to date. */
int store_fts_catch_up(struct store *s, int64_t max, int64_t *indexed, struct err *e) CAIRN_MUST_USE;
/* How many records wait for the trigram index (0 when it is up to date). */
int64_t store_fts_pending(struct store *s);
/* Records sharing r's reference_url (same report), r itself excluded. */
int store_ioc_related(struct store *s, const struct ioc_record *r, int64_t limit, ioc_cb cb,
		      void *ctx, struct err *e);

struct put_stats {
	int64_t added, updated;
};
/* Merges n inputs in one transaction (DESIGN.md section 2's rules). ERR_CONFLICT when
 * store_allow_expect() named an allow-list generation that is no longer current: nothing
 * was written; rebuild the matcher, filter the inputs again and retry. */
int store_ioc_put_batch(struct store *s, const struct ioc_input *in, size_t n, struct put_stats *st,
			struct err *e) CAIRN_MUST_USE;
/* Marks a record revoked (a new version). ERR_NOT_FOUND when absent. */
int store_ioc_revoke(struct store *s, const char *uuid, const char *reason, struct err *e) CAIRN_MUST_USE;

/*
 * Snapshot feeds (docs/feeds.md): ends the source entry of `feed` on every record the feed has
 * not reported after `since` (a store_clock() value read before the pull began): the entry
 * gets `ended_at`. A record whose every source has ended expires after its type's grace time
 * (valid_until becomes now + grace, unless it expires sooner). Each changed record gets a new
 * updated_at and, unless an allow-list hides it, a new STIX version. *ended gets the count.
 */
int store_feed_end_unseen(struct store *s, const char *feed, int64_t since, int64_t *ended,
			  struct err *e) CAIRN_MUST_USE;

/* Records a finished import of a feed for feed health. */
int store_feed_note(struct store *s, const char *feed, const char *category, int64_t read,
		    int64_t added, int64_t updated, int64_t rejected, struct err *e);

/* ---- the STIX object store ---- */

/* One object version from outside (a STIX import, a TAXII add). */
struct object_input {
	const char *stix_id, *type, *spec_version;	/* spec_version NULL = "2.1" */
	int64_t modified;	/* µs; created for objects without modified; see versioned */
	bool revoked;
	const char *json;	/* the serialized object as it will be served */
	size_t json_len;
	bool versioned;		/* it has modified or created; else (SCOs) its one version is
				 * its first date_added */
	bool existed;		/* set by store_objects_put: that version was already held */
};

/* Stores n object versions in one transaction, each with a new date_added from the
 * clock. A version already held (same id and modified; for objects with neither
 * modified nor created, the same id) is left as it is and marked existed.
 * *added and *unchanged get the counts. */
int store_objects_put(struct store *s, struct object_input *in, size_t n, int64_t *added,
		      int64_t *unchanged, struct err *e) CAIRN_MUST_USE;

/* Calls cb with each object version's JSON after date_added `after` (µs), in
 * date_added order, at most limit. */
typedef int (*object_cb)(void *ctx, const char *stix_id, int64_t date_added, const char *json,
			 size_t len);
int store_objects_since(struct store *s, int64_t after, int64_t limit, object_cb cb, void *ctx,
			struct err *e);

/* ---- TAXII: selecting object versions (store_taxii.c) ---- */

/* The class key of an object version: a record's indicator type (1..IOC_TYPE_COUNT-1),
 * or OBJ_CLASS_FOREIGN + the class of a foreign object's STIX type. */
#define OBJ_CLASS_TACTIC 31	/* x-mitre-tactic objects of ATT&CK tactic records */
#define OBJ_CLASS_FOREIGN 32
#define OBJ_CLASS_END 128
int store_object_class(const char *stix_type);

/* match[version], as bits: the newest, the oldest, every version, listed time stamps. */
enum obj_versions { OBJV_LAST = 1, OBJV_FIRST = 2, OBJV_ALL = 4, OBJV_LIST = 8 };

#define OBJQ_MAX_IDS 100
#define OBJQ_MAX_TYPES 64
#define OBJQ_MAX_VERSIONS 100
#define OBJQ_SPEC_20 1u
#define OBJQ_SPEC_21 2u
#define OBJQ_SPEC_NONE 4u	/* only spec_versions cairn does not hold: selects nothing */

/* What a TAXII request selects. */
struct object_query {
	unsigned ioc_types;		/* records of these types (bits of enum ioc_type) */
	bool foreign;			/* and every foreign object (the `all` collection) */
	bool tactics;			/* with IOC_MITRE: also the x-mitre-tactic objects of tactics */
	const char *const *types;	/* match[type]: STIX types, OR; ntypes 0 = any */
	size_t ntypes;
	const char *const *ids;		/* match[id]: STIX ids, OR; nids 0 = any */
	size_t nids;
	unsigned versions;		/* match[version]: enum obj_versions bits, OR */
	const int64_t *version_list;	/* OBJV_LIST: modified time stamps (µs) */
	size_t nversions;
	unsigned spec;			/* OBJQ_SPEC_* bits; 0 = each object's newest spec_version */
	int64_t after;			/* date_added > after */
	int64_t limit;
	int64_t budget;			/* rows examined at most; 0 = the default */
};

struct object_row {
	const char *stix_id, *spec_version;
	int64_t date_added, version;	/* version: the object's modified */
	const char *json;
	size_t len;
};
typedef int (*object_row_cb)(void *ctx, const struct object_row *r);

/*
 * Calls cb with up to q->limit selected versions after q->after, in date_added order.
 * *more: further versions may follow. *reached: the date_added the read reached; a page
 * resumes after it. It is past the last version given when the row budget ran out on
 * versions that did not match, so a sparse selection pages on instead of scanning the
 * whole store for one page.
 */
int store_objects_query(struct store *s, const struct object_query *q, object_row_cb cb, void *ctx,
			bool *more, int64_t *reached, struct err *e) CAIRN_MUST_USE;
/* Deletes the versions q selects among its ids (q->after and q->limit are ignored);
 * *deleted gets how many. A record left without versions leaves the indicator index. */
int store_objects_delete(struct store *s, const struct object_query *q, int64_t *deleted,
			 struct err *e) CAIRN_MUST_USE;

/* A 32-byte secret kept in the database (created with it), shared by every process. */
int store_secret(struct store *s, const char *name, uint8_t out[32], struct err *e);
/* TAXII status resources, kept ttl µs. get: ERR_NOT_FOUND when absent or older. */
int store_status_put(struct store *s, const char *id, const char *json, size_t len, int64_t now,
		     int64_t ttl, struct err *e) CAIRN_MUST_USE;
int store_status_get(struct store *s, const char *id, int64_t now, int64_t ttl, struct buf *out,
		     struct err *e);

/* ---- feed definitions and their pull state (store_feeds.c) ---- */

struct feed_row {
	const char *name;
	const char *def;		/* the definition as JSON (feeds/feeds.h reads it) */
	char etag[256], last_modified[128];	/* of the last answer, for conditional pulls */
	char cursor[64];		/* TAXII: the X-TAXII-Date-Added-Last delivered */
	int64_t last_run, last_ok, next_run, failures, created_at;	/* µs; failures in a row */
	char last_status[64];		/* "ok", "not modified", "failed" */
	char last_error[512];
};

/* ERR_CONFLICT when a feed of that name exists. */
int store_feed_def_add(struct store *s, const char *name, const char *def_json, int64_t now,
		       struct err *e) CAIRN_MUST_USE;
/* Replaces a feed's definition, keeping its pull state. ERR_NOT_FOUND when absent. */
int store_feed_def_update(struct store *s, const char *name, const char *def_json, struct err *e) CAIRN_MUST_USE;
/* ERR_NOT_FOUND when absent. The feed's indicators stay. */
int store_feed_def_remove(struct store *s, const char *name, struct err *e) CAIRN_MUST_USE;
typedef int (*feed_row_cb)(void *ctx, const struct feed_row *r);
/* Every feed by name (name NULL), or the one named (ERR_NOT_FOUND when absent). */
int store_feed_def_list(struct store *s, const char *name, feed_row_cb cb, void *ctx, struct err *e);
/* Saves r's state columns (by r->name). */
int store_feed_def_state(struct store *s, const struct feed_row *r, struct err *e) CAIRN_MUST_USE;

/* ---- allow-lists (store_allow.c; the matching is allow/) ----
 *
 * Records whose value is on an enabled list are `suppressed`: every read above skips them
 * (the REST API, every export, search, stats' value lists). Changing the lists is two steps:
 * a write here (which bumps the generation and marks the list `pending`), then a pass over
 * the records (store_allow_pass) that suppresses or restores them, each change with a new
 * STIX version so TAXII consumers see it. A pass is idempotent and resumable: a list stays
 * pending until store_allow_done() records that its pass finished.
 */

#define ALLOW_BUILTIN_ID 1
#define ALLOW_PENDING_SUPPRESS 1	/* records matching the list must be suppressed */
#define ALLOW_PENDING_RECHECK 2		/* records the list suppressed must be checked again */

struct allowlist_row {
	int64_t id;
	const char *name, *format, *type, *title, *description, *source;
	int64_t added_at, changed_at, entries, skipped, import_hits;
	unsigned types;
	bool enabled, removing;
	int pending;
	const char *body;		/* with want_body only */
	size_t body_len;
	int64_t suppressed;		/* records it hides now */
};

/* The generation: changes with every change of any list. */
int64_t store_allow_gen(struct store *s);
/* Checks later store_ioc_put_batch calls against generation gen (-1: stop checking). */
void store_allow_expect(struct store *s, int64_t gen);
/* A new list (enabled, pending suppression). ERR_CONFLICT when the name is taken. */
int store_allow_add(struct store *s, const struct allowlist_row *r, int64_t now, int64_t *id,
		    struct err *e) CAIRN_MUST_USE;
/* Disables the list and marks it for removal once its records are re-checked.
 * ERR_NOT_FOUND when absent. */
int store_allow_remove(struct store *s, const char *name, struct err *e) CAIRN_MUST_USE;
/* Enables or disables a list. ERR_NOT_FOUND when absent. */
int store_allow_enable(struct store *s, const char *name, bool on, struct err *e) CAIRN_MUST_USE;
typedef int (*allowlist_cb)(void *ctx, const struct allowlist_row *r);
/* Every list by id (name NULL) or the one named (ERR_NOT_FOUND when absent), removed ones
 * included; want_body also reads each list's text. */
int store_allow_list(struct store *s, const char *name, bool want_body, allowlist_cb cb, void *ctx,
		     struct err *e);
/* Records the number of entries of list id (the built-in list's is known to the program,
 * not the database). */
int store_allow_set_entries(struct store *s, int64_t id, int64_t entries, struct err *e);
/* Adds n[i] to the import counters of lists ids[i]. */
int store_allow_hits(struct store *s, const int64_t *ids, const int64_t *n, size_t count, struct err *e);

/*
 * Decides, for a record's type and value, the id of the list that hides it (0: none).
 * Called inside the pass's write transactions: keep it to matching.
 */
typedef int64_t (*allow_test_fn)(void *ctx, enum ioc_type t, const char *value);
/*
 * One pass over records for list `id`, in rid order, 5,000 a transaction:
 *   ALLOW_PENDING_SUPPRESS: the records not suppressed; test names the list hiding each
 *   ALLOW_PENDING_RECHECK:  the records list id suppresses; test names another list, or 0
 * A record whose verdict changes gets suppressed = the verdict, a new updated_at, and (when
 * not revoked) a new STIX version: valid_until the moment of suppression when it is hidden,
 * its own valid_until again when it is restored. *hidden and *restored get the counts.
 */
int store_allow_pass(struct store *s, int64_t id, int mode, allow_test_fn test, void *ctx, int64_t *hidden,
		     int64_t *restored, struct err *e) CAIRN_MUST_USE;
/* The pass for list id is complete: clears pending, and deletes the list if it was removed
 * (pending is kept when the list changed again meanwhile: changed_at after `since`). */
int store_allow_done(struct store *s, int64_t id, int64_t since, struct err *e) CAIRN_MUST_USE;

/* ---- API keys ---- */

struct api_key {
	char id[UUID_STR_LEN + 1];
	char prefix[16];
	uint8_t hash[32];
	char name[128];
	int tier;
	unsigned scopes;
	int64_t created_at, expires_at, revoked_at, last_used_at;	/* 0 = none */
	int64_t total_requests;
	char revoke_reason[256];
};

#define API_KEY_PREFIX "sk_live_"
#define API_KEY_RANDOM_LEN 40
#define API_KEY_LEN (8 + API_KEY_RANDOM_LEN)

/* Creates a key; the secret (API_KEY_LEN chars + NUL) goes to secret_out and
 * is never stored. expires_at 0 = never; scopes 0 = the tier's default. */
int store_key_create(struct store *s, const char *name, int tier, unsigned scopes, int64_t expires_at,
		     struct api_key *out, char *secret_out, struct err *e) CAIRN_MUST_USE;
int store_key_by_hash(struct store *s, const uint8_t hash[32], struct api_key *out, struct err *e);
/* By id, or (when unique) by prefix. */
int store_key_get(struct store *s, const char *id_or_prefix, struct api_key *out, struct err *e);
typedef int (*key_cb)(void *ctx, const struct api_key *k);
int store_key_list(struct store *s, key_cb cb, void *ctx, struct err *e);
int store_key_revoke(struct store *s, const char *id, const char *reason, struct err *e) CAIRN_MUST_USE;

/* One key's traffic in one UTC day, as the server accumulates and flushes it. */
#define USAGE_LAT_BUCKETS 24	/* bucket i holds latencies < 2^i × 50 µs */
#define USAGE_ROUTES 32	/* room to grow: stored days with fewer routes still read */
struct key_usage_day {
	int64_t day;		/* days since the epoch */
	int64_t requests, ok, client_errors, server_errors, rate_limited;
	int64_t latency_us_sum;
	int64_t lat[USAGE_LAT_BUCKETS];
	int64_t routes[USAGE_ROUTES];	/* requests per endpoint (enum route of api/) */
	int64_t hours[24];		/* 429 answers per hour of day (UTC) */
	int64_t peak_minute;
	int64_t last_used_at;
};
/* Adds u to the stored day (and total_requests/last_used_at of the key). */
int store_key_usage_add(struct store *s, const char *key_id, const struct key_usage_day *u,
			struct err *e);
typedef int (*usage_cb)(void *ctx, const struct key_usage_day *u);
int store_key_usage(struct store *s, const char *key_id, int64_t from_day, usage_cb cb, void *ctx,
		    struct err *e);

/* ---- statistics ---- */

/* Writes the stats object (counts by type, category, source, trends, feed
 * health, top techniques and CVEs) as JSON into b. Costly: callers cache. */
int store_stats_json(struct store *s, struct buf *b, int64_t now, struct err *e);
/* Total number of indicator records. */
int store_ioc_total(struct store *s, int64_t *n, struct err *e);

#endif
