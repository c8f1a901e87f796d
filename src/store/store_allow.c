/*
 * Allow-lists in the database (store.h): the lists' text and state, the generation that
 * tells every process when to rebuild its matcher, and the passes that mark records
 * suppressed or restore them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "base/xmalloc.h"
#include "store/store_int.h"

#define PASS_CHUNK 5000

int64_t store_allow_gen(struct store *s)
{
	sqlite3_stmt *st = stmt_sql(s, "SELECT v FROM meta WHERE k = 'allow_gen'", NULL);
	int64_t v = -1;
	if (st && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	if (st)
		sqlite3_reset(st);
	return v;
}

void store_allow_expect(struct store *s, int64_t gen)
{
	s->allow_expect = gen;
}

static int run1(struct store *s, sqlite3_stmt *st, struct err *e, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : db_fail(s, e, what);
}

static int bump(struct store *s, struct err *e)
{
	sqlite3_stmt *st = stmt_sql(s, "UPDATE meta SET v = v + 1 WHERE k = 'allow_gen'", e);
	return st ? run1(s, st, e, "bumping the allow-list generation") : ERR_DB;
}

int store_allow_add(struct store *s, const struct allowlist_row *r, int64_t now, int64_t *id, struct err *e)
{
	int rc = tx_begin(s, e);
	if (rc)
		return rc;
	sqlite3_stmt *st = stmt_sql(s, "SELECT 1 FROM allowlists WHERE name = ?1", e);
	if (st == NULL)
		goto fail;
	sqlite3_bind_text(st, 1, r->name, -1, SQLITE_STATIC);
	int step = sqlite3_step(st);
	sqlite3_reset(st);
	if (step == SQLITE_ROW) {
		tx_rollback(s);
		return err_set(e, ERR_CONFLICT, "an allow-list named '%s' exists", r->name);
	}
	st = stmt_sql(s, "INSERT INTO allowlists(name, format, type, title, description, source, added_at,"
			 " changed_at, entries, skipped, types, body, enabled, pending)"
			 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9, ?10, ?11, 1, 1)", e);
	if (st == NULL)
		goto fail;
	sqlite3_bind_text(st, 1, r->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->format ? r->format : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->type ? r->type : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->title ? r->title : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->description ? r->description : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, r->source ? r->source : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, now);
	sqlite3_bind_int64(st, 8, r->entries);
	sqlite3_bind_int64(st, 9, r->skipped);
	sqlite3_bind_int64(st, 10, r->types);
	sqlite3_bind_blob(st, 11, r->body, (int)r->body_len, SQLITE_STATIC);
	if ((rc = run1(s, st, e, "storing the allow-list")) != 0)
		goto fail;
	*id = sqlite3_last_insert_rowid(s->db);
	if ((rc = bump(s, e)) != 0)
		goto fail;
	return tx_commit_plain(s, e);
fail:
	tx_rollback(s);
	return rc ? rc : ERR_DB;
}

static int set_state(struct store *s, const char *name, const char *sql, struct err *e)
{
	int rc = tx_begin(s, e);
	if (rc)
		return rc;
	sqlite3_stmt *st = stmt_sql(s, sql, e);
	if (st == NULL) {
		tx_rollback(s);
		return ERR_DB;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, time_now_us());
	if ((rc = run1(s, st, e, "changing the allow-list")) != 0) {
		tx_rollback(s);
		return rc;
	}
	if (sqlite3_changes(s->db) == 0) {
		tx_rollback(s);
		return err_set(e, ERR_NOT_FOUND, "no allow-list named '%s'", name);
	}
	if ((rc = bump(s, e)) != 0) {
		tx_rollback(s);
		return rc;
	}
	return tx_commit_plain(s, e);
}

int store_allow_remove(struct store *s, const char *name, struct err *e)
{
	return set_state(s, name, "UPDATE allowlists SET enabled = 0, removing = 1, pending = 2,"
				  " changed_at = max(?2, changed_at + 1) WHERE name = ?1 AND removing = 0", e);
}

int store_allow_enable(struct store *s, const char *name, bool on, struct err *e)
{
	return set_state(s, name, on ? "UPDATE allowlists SET enabled = 1, pending = 1,"
				       " changed_at = max(?2, changed_at + 1) WHERE name = ?1 AND removing = 0"
				     : "UPDATE allowlists SET enabled = 0, pending = 2,"
				       " changed_at = max(?2, changed_at + 1) WHERE name = ?1 AND removing = 0", e);
}

int store_allow_list(struct store *s, const char *name, bool want_body, allowlist_cb cb, void *ctx, struct err *e)
{
	/* One read transaction: the counts and the lists describe the same moment. */
	sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL);
	sqlite3_stmt *st = stmt_sql(s, want_body ? "SELECT id, name, format, type, title, description, source,"
						   " added_at, changed_at, entries, skipped, import_hits, types,"
						   " enabled, removing, pending, body FROM allowlists"
						   " WHERE ?1 IS NULL OR name = ?1 ORDER BY id"
						 : "SELECT id, name, format, type, title, description, source,"
						   " added_at, changed_at, entries, skipped, import_hits, types,"
						   " enabled, removing, pending, NULL FROM allowlists"
						   " WHERE ?1 IS NULL OR name = ?1 ORDER BY id", e);
	sqlite3_stmt *cnt = stmt_sql(s, "SELECT count(*) FROM iocs WHERE suppressed = ?1 AND suppressed <> 0", e);
	int rc = 0, crc = 0, found = 0;
	if (st == NULL || cnt == NULL) {
		rc = ERR_DB;
		goto out;
	}
	if (name)
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct allowlist_row r = { 0 };
		r.id = sqlite3_column_int64(st, 0);
		const char **txt[] = { &r.name, &r.format, &r.type, &r.title, &r.description, &r.source };
		for (int i = 0; i < 6; i++) {
			const char *t = (const char *)sqlite3_column_text(st, i + 1);
			*txt[i] = t ? t : "";
		}
		r.added_at = sqlite3_column_int64(st, 7);
		r.changed_at = sqlite3_column_int64(st, 8);
		r.entries = sqlite3_column_int64(st, 9);
		r.skipped = sqlite3_column_int64(st, 10);
		r.import_hits = sqlite3_column_int64(st, 11);
		r.types = (unsigned)sqlite3_column_int64(st, 12);
		r.enabled = sqlite3_column_int(st, 13) != 0;
		r.removing = sqlite3_column_int(st, 14) != 0;
		r.pending = sqlite3_column_int(st, 15);
		r.body = sqlite3_column_blob(st, 16);
		r.body_len = (size_t)sqlite3_column_bytes(st, 16);
		sqlite3_reset(cnt);
		sqlite3_bind_int64(cnt, 1, r.id);
		if (sqlite3_step(cnt) == SQLITE_ROW)
			r.suppressed = sqlite3_column_int64(cnt, 0);
		sqlite3_reset(cnt);
		found++;
		crc = cb(ctx, &r);
		if (crc)
			break;
	}
	int bad = rc != SQLITE_ROW && rc != SQLITE_DONE;
	sqlite3_reset(st);
	rc = bad ? db_fail(s, e, "reading allow-lists") : crc;
	if (rc == 0 && name && found == 0)
		rc = err_set(e, ERR_NOT_FOUND, "no allow-list named '%s'", name);
out:
	sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	return rc;
}

int store_allow_set_entries(struct store *s, int64_t id, int64_t entries, struct err *e)
{
	sqlite3_stmt *st = stmt_sql(s, "UPDATE allowlists SET entries = ?2 WHERE id = ?1 AND entries <> ?2", e);
	if (st == NULL)
		return ERR_DB;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, entries);
	return run1(s, st, e, "counting allow-list entries");
}

int store_allow_hits(struct store *s, const int64_t *ids, const int64_t *n, size_t count, struct err *e)
{
	bool any = false;
	for (size_t i = 0; i < count; i++)
		any = any || n[i] > 0;
	if (!any)
		return 0;
	int rc = tx_begin(s, e);
	if (rc)
		return rc;
	for (size_t i = 0; i < count && rc == 0; i++) {
		if (n[i] <= 0)
			continue;
		sqlite3_stmt *st = stmt_sql(s, "UPDATE allowlists SET import_hits = import_hits + ?2 WHERE id = ?1", e);
		if (st == NULL) {
			rc = ERR_DB;
			break;
		}
		sqlite3_bind_int64(st, 1, ids[i]);
		sqlite3_bind_int64(st, 2, n[i]);
		rc = run1(s, st, e, "counting suppressions");
	}
	if (rc) {
		tx_rollback(s);
		return rc;
	}
	/* Counters only: no list changed, so the generation stays. */
	return tx_commit_plain(s, e);
}

/* Keeps a record's strings past its statement's reset. */
static void own_strings(struct ioc_record *r, struct buf *copy)
{
	const char **fields[] = { &r->value, &r->feed, &r->category, &r->reference_url, &r->origin,
				  &r->context, &r->tlp, &r->tags, &r->techniques, &r->industries, &r->sources };
	size_t offs[sizeof(fields) / sizeof(fields[0])];
	buf_reset(copy);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		offs[i] = copy->len;
		buf_append(copy, *fields[i], strlen(*fields[i]) + 1);
	}
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		*fields[i] = copy->data + offs[i];
}

/* Applies a new verdict to the record at the statement's row. */
static int change(struct store *s, sqlite3_stmt *row, int64_t verdict, struct buf *copy, int64_t *hidden,
		  int64_t *restored, struct err *e)
{
	struct ioc_record r;
	row_to_record(row, &r);
	own_strings(&r, copy);
	int64_t prev_modified = r.modified;
	bool was = r.suppressed != 0, flips = was != (verdict != 0);
	/* TAXII consumers hold the indicator: a version that expires now tells them to drop it
	 * (revocation would be final, and a list can be removed again); restoring writes a
	 * version with the record's own validity. A revoked record has said its last word, and
	 * a record only passing from one list to another changes nothing its consumers see. */
	bool version = flips && !r.revoked;
	r.suppressed = verdict;
	r.updated_at = clock_next(s);
	int64_t modified = prev_modified;
	if (version) {
		modified = r.updated_at / 1000 * 1000;
		if (modified <= prev_modified)
			modified = prev_modified + 1000;
	}
	sqlite3_stmt *st = stmt_sql(s, "UPDATE iocs SET suppressed = ?2, updated_at = ?3, modified = ?4 WHERE rid = ?1", e);
	if (st == NULL)
		return ERR_DB;
	sqlite3_bind_int64(st, 1, r.rid);
	sqlite3_bind_int64(st, 2, verdict);
	sqlite3_bind_int64(st, 3, r.updated_at);
	sqlite3_bind_int64(st, 4, modified);
	int rc = run1(s, st, e, "marking a record");
	if (rc)
		return rc;
	if (flips)
		(*(verdict ? hidden : restored))++;
	if (version) {
		if (verdict)
			r.valid_until = modified;
		rc = store_write_object(s, &r, modified, prev_modified, e);
	}
	return rc;
}

int store_allow_pass(struct store *s, int64_t id, int mode, allow_test_fn test, void *ctx, int64_t *hidden,
		     int64_t *restored, struct err *e)
{
	int64_t last = 0;
	struct buf copy = BUF_INIT;
	int rc = 0;
	*hidden = *restored = 0;
	for (;;) {
		if ((rc = tx_begin(s, e)) != 0)
			break;
		sqlite3_stmt *st = stmt_sql(s, mode == ALLOW_PENDING_SUPPRESS
						       ? "SELECT " IOC_COLS " FROM iocs WHERE rid > ?1 AND suppressed = 0"
							 " ORDER BY rid LIMIT ?3"
						       : "SELECT " IOC_COLS " FROM iocs"
							 " WHERE suppressed = ?2 AND suppressed <> 0 AND rid > ?1 ORDER BY rid LIMIT ?3", e);
		if (st == NULL) {
			rc = ERR_DB;
			tx_rollback(s);
			break;
		}
		/* The candidates first, then the changes: a statement cannot be stepped while the
		 * rows it walks are updated under it in the same index. */
		struct cand {
			int64_t rid, verdict;
		} *cand = NULL;
		size_t n = 0, cap = 0;
		sqlite3_bind_int64(st, 1, last);
		sqlite3_bind_int64(st, 2, id);
		sqlite3_bind_int(st, 3, PASS_CHUNK);
		int step, rows = 0;
		while ((step = sqlite3_step(st)) == SQLITE_ROW) {
			rows++;
			int64_t rid = sqlite3_column_int64(st, 0);
			enum ioc_type t = (enum ioc_type)sqlite3_column_int(st, 2);
			const char *v = (const char *)sqlite3_column_text(st, 3);
			int64_t cur = sqlite3_column_int64(st, 25);
			last = rid;
			int64_t verdict = test(ctx, t, v ? v : "");
			if (verdict == cur)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 256;
				cand = xrealloc(cand, cap * sizeof(*cand));
			}
			cand[n].rid = rid;
			cand[n].verdict = verdict;
			n++;
		}
		bool seen_end = rows < PASS_CHUNK;
		sqlite3_reset(st);
		if (step != SQLITE_DONE && step != SQLITE_ROW) {
			rc = db_fail(s, e, "reading records");
			free(cand);
			tx_rollback(s);
			break;
		}
		sqlite3_stmt *one = NULL;
		for (size_t i = 0; i < n && rc == 0; i++) {
			one = stmt_sql(s, "SELECT " IOC_COLS " FROM iocs WHERE rid = ?1", e);
			if (one == NULL) {
				rc = ERR_DB;
				break;
			}
			sqlite3_bind_int64(one, 1, cand[i].rid);
			if (sqlite3_step(one) == SQLITE_ROW)
				rc = change(s, one, cand[i].verdict, &copy, hidden, restored, e);
			sqlite3_reset(one);
		}
		free(cand);
		if (rc) {
			tx_rollback(s);
			break;
		}
		if ((rc = n ? tx_commit(s, e) : tx_commit_plain(s, e)) != 0)
			break;
		/* Fewer rows than a chunk: the walk reached the end. */
		if (seen_end)
			break;
	}
	buf_cleanup(&copy);
	return rc;
}

int store_allow_done(struct store *s, int64_t id, int64_t since, struct err *e)
{
	int rc = tx_begin(s, e);
	if (rc)
		return rc;
	sqlite3_stmt *st = stmt_sql(s, "DELETE FROM allowlists WHERE id = ?1 AND removing = 1 AND changed_at <= ?2", e);
	if (st == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, since);
	if ((rc = run1(s, st, e, "removing the allow-list")) != 0)
		goto fail;
	st = stmt_sql(s, "UPDATE allowlists SET pending = 0 WHERE id = ?1 AND changed_at <= ?2", e);
	if (st == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, since);
	if ((rc = run1(s, st, e, "finishing the allow-list pass")) != 0)
		goto fail;
	return tx_commit_plain(s, e);
fail:
	tx_rollback(s);
	return rc ? rc : ERR_DB;
}
