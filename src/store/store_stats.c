/*
 * The statistics aggregate behind GET /api/v1/iocs/stats. It scans, so the
 * server computes it on a timer and serves the cached JSON.
 */
#include <string.h>

#include "base/timeutil.h"
#include "json/jw.h"
#include "store/store_int.h"

/* Writes {"name": count, …} from a two-column query (text, count). */
static int counts_object(struct store *s, struct jw *w, const char *key, const char *sql,
			 int64_t arg, bool type_names, struct err *e)
{
	sqlite3_stmt *st = stmt_sql(s, sql, e);
	if (st == NULL)
		return ERR_DB;
	if (arg)
		sqlite3_bind_int64(st, 1, arg);
	jw_key(w, key);
	jw_obj(w);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name;
		if (type_names)
			name = ioc_type_name((enum ioc_type)sqlite3_column_int(st, 0));
		else
			name = (const char *)sqlite3_column_text(st, 0);
		jw_key(w, name && *name ? name : "unknown");
		jw_int(w, sqlite3_column_int64(st, 1));
	}
	jw_end(w);
	sqlite3_reset(st);
	return step == SQLITE_DONE ? 0 : db_fail(s, e, "computing statistics");
}

static int top_list(struct store *s, struct jw *w, const char *key, const char *sql, struct err *e)
{
	sqlite3_stmt *st = stmt_sql(s, sql, e);
	if (st == NULL)
		return ERR_DB;
	jw_key(w, key);
	jw_arr(w);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		jw_obj(w);
		jw_kstr(w, "id", (const char *)sqlite3_column_text(st, 0));
		jw_kint(w, "count", sqlite3_column_int64(st, 1));
		jw_end(w);
	}
	jw_end(w);
	sqlite3_reset(st);
	return step == SQLITE_DONE ? 0 : db_fail(s, e, "computing statistics");
}

static int64_t scalar(struct store *s, const char *sql, int64_t a1, int64_t a2, struct err *e)
{
	sqlite3_stmt *st = stmt_sql(s, sql, e);
	int64_t v = 0;
	if (st == NULL)
		return 0;
	if (a1)
		sqlite3_bind_int64(st, 1, a1);
	if (a2)
		sqlite3_bind_int64(st, 2, a2);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return v;
}

int store_stats_json(struct store *s, struct buf *b, int64_t now, struct err *e)
{
	struct jw w;
	jw_init(&w, b);
	int64_t day_ago = now - USEC_PER_DAY, week_ago = now - 7 * USEC_PER_DAY;
	/* One read transaction, so every number describes the same snapshot. */
	sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL);
	jw_obj(&w);
	jw_key(&w, "totals");
	jw_obj(&w);
	jw_kint(&w, "indicators", scalar(s, "SELECT count(*) FROM iocs", 0, 0, e));
	jw_kint(&w, "active", scalar(s, "SELECT count(*) FROM iocs WHERE revoked = 0 AND"
					" (valid_until = 0 OR valid_until > ?1)", now, 0, e));
	jw_kint(&w, "expired", scalar(s, "SELECT count(*) FROM iocs WHERE revoked = 0 AND"
					 " valid_until <> 0 AND valid_until <= ?1", now, 0, e));
	jw_kint(&w, "revoked", scalar(s, "SELECT count(*) FROM iocs WHERE revoked = 1", 0, 0, e));
	jw_kint(&w, "stix_objects", scalar(s, "SELECT count(*) FROM objects", 0, 0, e));
	int rc = counts_object(s, &w, "by_type", "SELECT type, count(*) FROM iocs GROUP BY type ORDER BY type",
			       0, true, e);
	if (rc == 0)
		rc = counts_object(s, &w, "by_confidence",
				   "SELECT CASE WHEN high_until >= ?1 THEN 'high' WHEN medium_until >= ?1"
				   " THEN 'medium' WHEN low_until >= ?1 THEN 'low' ELSE 'none' END AS b,"
				   " count(*) FROM iocs GROUP BY b ORDER BY b", now, false, e);
	if (rc == 0)
		rc = counts_object(s, &w, "by_category",
				   "SELECT f.category, count(*) FROM ioc_feeds i JOIN feeds f ON f.name = i.feed"
				   " GROUP BY f.category ORDER BY count(*) DESC LIMIT 100", 0, false, e);
	if (rc == 0)
		rc = counts_object(s, &w, "by_source",
				   "SELECT feed, count(*) FROM ioc_feeds GROUP BY feed"
				   " ORDER BY count(*) DESC LIMIT 100", 0, false, e);
	jw_end(&w);
	if (rc)
		goto out;

	jw_key(&w, "trends");
	jw_obj(&w);
	jw_key(&w, "last_24h");
	jw_obj(&w);
	jw_kint(&w, "added", scalar(s, "SELECT count(*) FROM iocs WHERE created_at >= ?1", day_ago, 0, e));
	jw_kint(&w, "updated", scalar(s, "SELECT count(*) FROM iocs WHERE updated_at >= ?1", day_ago, 0, e));
	jw_end(&w);
	jw_key(&w, "last_7d");
	jw_obj(&w);
	jw_kint(&w, "added", scalar(s, "SELECT count(*) FROM iocs WHERE created_at >= ?1", week_ago, 0, e));
	jw_kint(&w, "updated", scalar(s, "SELECT count(*) FROM iocs WHERE updated_at >= ?1", week_ago, 0, e));
	jw_end(&w);
	jw_key(&w, "daily");
	jw_arr(&w);
	for (int d = 6; d >= 0; d--) {
		int64_t start = (now / USEC_PER_DAY - d) * USEC_PER_DAY;
		char date[16];
		time_format_date(date, start);
		jw_obj(&w);
		jw_kstr(&w, "date", date);
		jw_kint(&w, "added", scalar(s, "SELECT count(*) FROM iocs WHERE created_at >= ?1 AND"
					      " created_at < ?2", start, start + USEC_PER_DAY, e));
		jw_end(&w);
	}
	jw_end(&w);
	jw_end(&w);

	sqlite3_stmt *st = stmt_sql(s, "SELECT f.name, f.category, f.last_import_at, f.imports,"
				       " f.last_read, f.last_added, f.last_updated, f.last_rejected,"
				       " (SELECT count(*) FROM ioc_feeds i WHERE i.feed = f.name)"
				       " FROM feeds f ORDER BY f.name", e);
	if (st == NULL) {
		rc = ERR_DB;
		goto out;
	}
	jw_key(&w, "feed_health");
	jw_arr(&w);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t last = sqlite3_column_int64(st, 2);
		int64_t read = sqlite3_column_int64(st, 4), rejected = sqlite3_column_int64(st, 7);
		/* healthy: imported within a week and rejected under 10 %; error: nothing usable. */
		const char *status = "healthy";
		if (read > 0 && rejected * 10 > read)
			status = "degraded";
		if (now - last > 7 * USEC_PER_DAY)
			status = "degraded";
		if (read > 0 && rejected == read)
			status = "error";
		jw_obj(&w);
		jw_kstr(&w, "feed", (const char *)sqlite3_column_text(st, 0));
		jw_kstr(&w, "category", (const char *)sqlite3_column_text(st, 1));
		jw_kstr(&w, "status", status);
		jw_ktime(&w, "last_import_at", last);
		jw_kint(&w, "imports", sqlite3_column_int64(st, 3));
		jw_kint(&w, "last_read", read);
		jw_kint(&w, "last_added", sqlite3_column_int64(st, 5));
		jw_kint(&w, "last_updated", sqlite3_column_int64(st, 6));
		jw_kint(&w, "last_rejected", rejected);
		jw_kint(&w, "indicators", sqlite3_column_int64(st, 8));
		jw_end(&w);
	}
	sqlite3_reset(st);
	jw_end(&w);
	/* Allow-lists (docs/allowlists.md): what they hide now, and what they kept out. */
	jw_key(&w, "allowlists");
	jw_obj(&w);
	jw_kint(&w, "lists", scalar(s, "SELECT count(*) FROM allowlists WHERE enabled = 1 AND removing = 0", 0, 0, e));
	jw_kint(&w, "entries", scalar(s, "SELECT coalesce(sum(entries), 0) FROM allowlists WHERE enabled = 1"
					 " AND removing = 0", 0, 0, e));
	jw_kint(&w, "suppressed_records", scalar(s, "SELECT count(*) FROM iocs INDEXED BY iocs_suppressed"
						    " WHERE suppressed <> 0", 0, 0, e));
	jw_kint(&w, "suppressed_at_import", scalar(s, "SELECT coalesce(sum(import_hits), 0) FROM allowlists", 0, 0, e));
	jw_end(&w);
	rc = top_list(s, &w, "top_techniques",
		      "SELECT technique, count(*) AS c FROM ioc_techniques GROUP BY technique"
		      " ORDER BY c DESC, technique LIMIT 10", e);
	if (rc == 0)
		rc = top_list(s, &w, "top_cves",
			      "SELECT value, occurrences + nsources FROM iocs WHERE type = 10 AND suppressed = 0"
			      " ORDER BY occurrences + nsources DESC, value LIMIT 10", e);
	_Static_assert(IOC_CVE == 10, "top_cves names the CVE type by number");
	jw_end(&w);
out:
	sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	return rc;
}
