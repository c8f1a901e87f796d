/*
 * API keys and their usage. Only SHA-256 of a key is stored; the secret
 * exists in memory just long enough to be printed once.
 */
#include <stdio.h>
#include <string.h>

#include "base/crypto.h"
#include "base/timeutil.h"
#include "store/store_int.h"

static void row_to_key(sqlite3_stmt *st, struct api_key *k)
{
	memset(k, 0, sizeof(*k));
	snprintf(k->id, sizeof(k->id), "%s", (const char *)sqlite3_column_text(st, 0));
	snprintf(k->prefix, sizeof(k->prefix), "%s", (const char *)sqlite3_column_text(st, 1));
	if (sqlite3_column_bytes(st, 2) == 32)
		memcpy(k->hash, sqlite3_column_blob(st, 2), 32);
	snprintf(k->name, sizeof(k->name), "%s", (const char *)sqlite3_column_text(st, 3));
	k->tier = sqlite3_column_int(st, 4);
	k->scopes = (unsigned)sqlite3_column_int64(st, 5);
	k->created_at = sqlite3_column_int64(st, 6);
	k->expires_at = sqlite3_column_int64(st, 7);
	k->revoked_at = sqlite3_column_int64(st, 8);
	k->last_used_at = sqlite3_column_int64(st, 9);
	k->total_requests = sqlite3_column_int64(st, 10);
	const char *reason = (const char *)sqlite3_column_text(st, 11);
	snprintf(k->revoke_reason, sizeof(k->revoke_reason), "%s", reason ? reason : "");
}

int store_key_create(struct store *s, const char *name, int tier, unsigned scopes, int64_t expires_at,
		     struct api_key *out, char *secret, struct err *e)
{
	if (tier < 0 || tier >= TIER_COUNT)
		return err_set(e, ERR_INVALID, "unknown tier");
	memset(out, 0, sizeof(*out));
	memcpy(secret, API_KEY_PREFIX, 8);
	crypto_base62(secret + 8, API_KEY_RANDOM_LEN);
	crypto_sha256(secret, API_KEY_LEN, out->hash);
	uuid_v4(out->id);
	memcpy(out->prefix, secret, 12);
	out->prefix[12] = '\0';
	snprintf(out->name, sizeof(out->name), "%s", name && *name ? name : "unnamed");
	out->tier = tier;
	out->scopes = scopes ? scopes : s->cfg.tier[tier].scopes;
	out->created_at = time_now_us();
	out->expires_at = expires_at;
	sqlite3_stmt *st = stmt(s, ST_KEY_INSERT);
	if (st == NULL)
		return db_fail(s, e, "preparing the key insert");
	sqlite3_bind_text(st, 1, out->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, out->prefix, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, out->hash, 32, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, out->name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, tier);
	sqlite3_bind_int64(st, 6, out->scopes);
	sqlite3_bind_int64(st, 7, out->created_at);
	sqlite3_bind_int64(st, 8, expires_at);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(s, e, "storing the key");
	sqlite3_reset(st);
	return rc;
}

int store_key_by_hash(struct store *s, const uint8_t hash[32], struct api_key *out, struct err *e)
{
	sqlite3_stmt *st = stmt(s, ST_KEY_BY_HASH);
	if (st == NULL)
		return db_fail(s, e, "preparing the key lookup");
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	int step = sqlite3_step(st);
	int rc = 0;
	if (step == SQLITE_ROW) {
		row_to_key(st, out);
		/* The index found it; compare anyway, in constant time. */
		if (!crypto_equal(out->hash, hash, 32))
			rc = err_set(e, ERR_NOT_FOUND, "no such key");
	} else if (step == SQLITE_DONE) {
		rc = err_set(e, ERR_NOT_FOUND, "no such key");
	} else {
		rc = db_fail(s, e, "looking up a key");
	}
	sqlite3_reset(st);
	return rc;
}

int store_key_get(struct store *s, const char *id_or_prefix, struct api_key *out, struct err *e)
{
	sqlite3_stmt *st = stmt(s, ST_KEY_BY_ID);
	if (st == NULL)
		return db_fail(s, e, "preparing the key lookup");
	sqlite3_bind_text(st, 1, id_or_prefix, -1, SQLITE_STATIC);
	int found = 0, rc = 0, step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (++found > 1)
			break;
		row_to_key(st, out);
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = db_fail(s, e, "looking up a key");
	else if (found == 0)
		rc = err_set(e, ERR_NOT_FOUND, "no key with id or prefix '%.64s'", id_or_prefix);
	else if (found > 1)
		rc = err_set(e, ERR_CONFLICT, "prefix '%.64s' names more than one key; use the id",
			     id_or_prefix);
	sqlite3_reset(st);
	return rc;
}

int store_key_list(struct store *s, key_cb cb, void *ctx, struct err *e)
{
	sqlite3_stmt *st = stmt_sql(s, "SELECT id, prefix, hash, name, tier, scopes, created_at,"
				       " expires_at, revoked_at, last_used_at, total_requests, revoke_reason"
				       " FROM api_keys ORDER BY created_at, id", e);
	if (st == NULL)
		return ERR_DB;
	int step, crc = 0;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct api_key k;
		row_to_key(st, &k);
		crc = cb(ctx, &k);
		if (crc)
			break;
	}
	int bad = step != SQLITE_ROW && step != SQLITE_DONE;
	sqlite3_reset(st);
	return bad ? db_fail(s, e, "listing keys") : crc;
}

int store_key_revoke(struct store *s, const char *id, const char *reason, struct err *e)
{
	sqlite3_stmt *st = stmt_sql(s, "UPDATE api_keys SET revoked_at = ?2, revoke_reason = ?3"
				       " WHERE id = ?1 AND revoked_at = 0", e);
	if (st == NULL)
		return ERR_DB;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, time_now_us());
	sqlite3_bind_text(st, 3, reason ? reason : "", -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(s, e, "revoking the key");
	sqlite3_reset(st);
	if (rc == 0 && sqlite3_changes(s->db) == 0)
		rc = err_set(e, ERR_NOT_FOUND, "no active key with id '%.64s'", id);
	return rc;
}

int store_key_usage_add(struct store *s, const char *key_id, const struct key_usage_day *u,
			struct err *e)
{
	sqlite3_stmt *st = stmt(s, ST_KEY_USAGE_ADD);
	if (st == NULL)
		return db_fail(s, e, "preparing the usage update");
	sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, u->day);
	sqlite3_bind_int64(st, 3, u->requests);
	sqlite3_bind_int64(st, 4, u->ok);
	sqlite3_bind_int64(st, 5, u->client_errors);
	sqlite3_bind_int64(st, 6, u->server_errors);
	sqlite3_bind_int64(st, 7, u->rate_limited);
	sqlite3_bind_int64(st, 8, u->latency_us_sum);
	sqlite3_bind_blob(st, 9, u->lat, sizeof(u->lat), SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, u->peak_minute);
	sqlite3_bind_blob(st, 11, u->routes, sizeof(u->routes), SQLITE_STATIC);
	sqlite3_bind_blob(st, 12, u->hours, sizeof(u->hours), SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(s, e, "saving usage");
	sqlite3_reset(st);
	if (rc)
		return rc;
	st = stmt(s, ST_KEY_TOUCH);
	if (st == NULL)
		return db_fail(s, e, "preparing the key update");
	sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, u->requests);
	sqlite3_bind_int64(st, 3, u->last_used_at);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(s, e, "saving usage");
	sqlite3_reset(st);
	return rc;
}

int store_key_usage(struct store *s, const char *key_id, int64_t from_day, usage_cb cb, void *ctx,
		    struct err *e)
{
	sqlite3_stmt *st = stmt_sql(s, "SELECT day, requests, ok, client_errors, server_errors,"
				       " rate_limited, latency_us_sum, lat, peak_minute, routes, hours FROM key_usage"
				       " WHERE key_id = ?1 AND day >= ?2 ORDER BY day", e);
	if (st == NULL)
		return ERR_DB;
	sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, from_day);
	int step, crc = 0;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct key_usage_day u;
		memset(&u, 0, sizeof(u));
		u.day = sqlite3_column_int64(st, 0);
		u.requests = sqlite3_column_int64(st, 1);
		u.ok = sqlite3_column_int64(st, 2);
		u.client_errors = sqlite3_column_int64(st, 3);
		u.server_errors = sqlite3_column_int64(st, 4);
		u.rate_limited = sqlite3_column_int64(st, 5);
		u.latency_us_sum = sqlite3_column_int64(st, 6);
		if (sqlite3_column_bytes(st, 7) == (int)sizeof(u.lat))
			memcpy(u.lat, sqlite3_column_blob(st, 7), sizeof(u.lat));
		u.peak_minute = sqlite3_column_int64(st, 8);
		int rn = sqlite3_column_bytes(st, 9);	/* days stored when there were fewer routes */
		if (rn > 0 && rn <= (int)sizeof(u.routes) && rn % 8 == 0)
			memcpy(u.routes, sqlite3_column_blob(st, 9), (size_t)rn);
		if (sqlite3_column_bytes(st, 10) == (int)sizeof(u.hours))
			memcpy(u.hours, sqlite3_column_blob(st, 10), sizeof(u.hours));
		crc = cb(ctx, &u);
		if (crc)
			break;
	}
	int bad = step != SQLITE_ROW && step != SQLITE_DONE;
	sqlite3_reset(st);
	return bad ? db_fail(s, e, "reading usage") : crc;
}
