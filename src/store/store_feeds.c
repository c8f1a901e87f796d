/*
 * Feed definitions and their pull state (store.h, "feed definitions").
 */
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"

static const char *text(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	return t ? t : "";
}

static int step_write(struct store *s, sqlite3_stmt *st, struct err *e, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT)
		return ERR_CONFLICT;
	return rc == SQLITE_DONE ? 0 : db_fail(s, e, what);
}

int store_feed_def_add(struct store *s, const char *name, const char *def_json, int64_t now, struct err *e)
{
	sqlite3_stmt *st = stmt_sql(s, "INSERT INTO feed_defs(name, def, created_at) VALUES (?1, ?2, ?3)", e);
	if (st == NULL)
		return ERR_DB;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, def_json, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, now);
	int rc = step_write(s, st, e, "adding a feed");
	if (rc == ERR_CONFLICT)
		return err_set(e, ERR_CONFLICT, "a feed named '%s' exists already", name);
	return rc;
}

int store_feed_def_update(struct store *s, const char *name, const char *def_json, struct err *e)
{
	sqlite3_stmt *st = stmt_sql(s, "UPDATE feed_defs SET def = ?2 WHERE name = ?1", e);
	if (st == NULL)
		return ERR_DB;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, def_json, -1, SQLITE_TRANSIENT);
	int rc = step_write(s, st, e, "updating a feed");
	if (rc == 0 && sqlite3_changes(s->db) == 0)
		return err_set(e, ERR_NOT_FOUND, "no feed named '%s'", name);
	return rc;
}

int store_feed_def_remove(struct store *s, const char *name, struct err *e)
{
	sqlite3_stmt *st = stmt_sql(s, "DELETE FROM feed_defs WHERE name = ?1", e);
	if (st == NULL)
		return ERR_DB;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	int rc = step_write(s, st, e, "removing a feed");
	if (rc == 0 && sqlite3_changes(s->db) == 0)
		return err_set(e, ERR_NOT_FOUND, "no feed named '%s'", name);
	return rc;
}

int store_feed_def_list(struct store *s, const char *name, feed_row_cb cb, void *ctx, struct err *e)
{
	sqlite3_stmt *st = stmt_sql(s, "SELECT name, def, etag, last_modified, cursor, last_run, last_ok,"
				       " next_run, failures, created_at, last_status, last_error FROM feed_defs"
				       " WHERE ?1 IS NULL OR name = ?1 ORDER BY name", e);
	if (st == NULL)
		return ERR_DB;
	if (name)
		sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	int rc, crc = 0, n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct feed_row r;
		memset(&r, 0, sizeof(r));
		r.name = text(st, 0);
		r.def = text(st, 1);
		snprintf(r.etag, sizeof(r.etag), "%s", text(st, 2));
		snprintf(r.last_modified, sizeof(r.last_modified), "%s", text(st, 3));
		snprintf(r.cursor, sizeof(r.cursor), "%s", text(st, 4));
		r.last_run = sqlite3_column_int64(st, 5);
		r.last_ok = sqlite3_column_int64(st, 6);
		r.next_run = sqlite3_column_int64(st, 7);
		r.failures = sqlite3_column_int64(st, 8);
		r.created_at = sqlite3_column_int64(st, 9);
		snprintf(r.last_status, sizeof(r.last_status), "%s", text(st, 10));
		snprintf(r.last_error, sizeof(r.last_error), "%s", text(st, 11));
		n++;
		if ((crc = cb(ctx, &r)) != 0)
			break;
	}
	bool bad = rc != SQLITE_ROW && rc != SQLITE_DONE;
	sqlite3_reset(st);
	if (bad)
		return db_fail(s, e, "listing feeds");
	if (crc)
		return crc;
	if (name && n == 0)
		return err_set(e, ERR_NOT_FOUND, "no feed named '%s'", name);
	return 0;
}

int store_feed_def_state(struct store *s, const struct feed_row *r, struct err *e)
{
	sqlite3_stmt *st = stmt_sql(s, "UPDATE feed_defs SET etag = ?2, last_modified = ?3, cursor = ?4,"
				       " last_run = ?5, last_ok = ?6, next_run = ?7, failures = ?8,"
				       " last_status = ?9, last_error = ?10 WHERE name = ?1", e);
	if (st == NULL)
		return ERR_DB;
	sqlite3_bind_text(st, 1, r->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, r->etag, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, r->last_modified, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, r->cursor, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, r->last_run);
	sqlite3_bind_int64(st, 6, r->last_ok);
	sqlite3_bind_int64(st, 7, r->next_run);
	sqlite3_bind_int64(st, 8, r->failures);
	sqlite3_bind_text(st, 9, r->last_status, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 10, r->last_error, -1, SQLITE_TRANSIENT);
	int rc = step_write(s, st, e, "saving a feed's state");
	if (rc == 0 && sqlite3_changes(s->db) == 0)
		return err_set(e, ERR_NOT_FOUND, "no feed named '%s'", r->name);
	return rc;
}
