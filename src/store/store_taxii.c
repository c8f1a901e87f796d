/*
 * Selecting object versions for the TAXII server: pages by date_added with every
 * TAXII filter, deletion by id and version, the status resources of adds, and the
 * secret that signs `next` tokens.
 *
 * How a page is read. The default request (the newest version of each object, of its
 * newest spec_version, no match[id]) is the hot path: one range scan of objects_last
 * per class key the collection holds, merged by SQLite's compound-SELECT merge, so a
 * page costs about `limit` index steps whatever the size of the store. Other version
 * selections walk the date_added index and test each version; match[id] reads the
 * versions of the named objects directly. Both stop after a row budget, and then
 * report how far they read, so that a page of a sparse selection stays cheap and the
 * next page resumes where this one stopped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/xmalloc.h"
#include "stix/ioc_stix.h"
#include "store/store_int.h"

/*
 * The classes of foreign objects, by STIX type. Append only: a stored version keeps the
 * class it was given, so reordering would move objects between classes.
 */
static const char *const object_classes[] = {
	"attack-pattern", "campaign", "course-of-action", "grouping", "identity", "incident",
	"indicator", "infrastructure", "intrusion-set", "location", "malware", "malware-analysis",
	"note", "observed-data", "opinion", "report", "threat-actor", "tool", "vulnerability",
	"relationship", "sighting", "marking-definition", "language-content", "extension-definition",
	"artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message",
	"file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process",
	"software", "url", "user-account", "windows-registry-key", "x509-certificate",
	"x-mitre-tactic", "x-mitre-matrix", "x-mitre-collection", "x-mitre-data-source",
	"x-mitre-data-component", "x-mitre-asset",
};
#define NCLASSES (sizeof(object_classes) / sizeof(object_classes[0]))
#define CLASS_OTHER (OBJ_CLASS_END - 1)
_Static_assert(OBJ_CLASS_FOREIGN + NCLASSES < CLASS_OTHER, "class keys fit below CLASS_OTHER");
_Static_assert(IOC_TYPE_COUNT <= OBJ_CLASS_TACTIC, "record classes fit below the tactic class");

int store_object_class(const char *stix_type)
{
	for (size_t i = 0; i < NCLASSES; i++)
		if (!strcmp(stix_type, object_classes[i]))
			return OBJ_CLASS_FOREIGN + (int)i;
	return CLASS_OTHER;
}

static const char *text(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	return t ? t : "";
}

static bool type_wanted(const struct object_query *q, const char *type)
{
	if (q->ntypes == 0)
		return true;
	for (size_t i = 0; i < q->ntypes; i++)
		if (!strcmp(q->types[i], type))
			return true;
	return false;
}

/* Whether record class c (an indicator type, or the tactic class) can hold a STIX type q asks for. */
static bool record_class_wanted(const struct object_query *q, int c)
{
	if (c == OBJ_CLASS_TACTIC)
		return type_wanted(q, "x-mitre-tactic");
	if (c == IOC_CVE)
		return type_wanted(q, "vulnerability");
	if (c == IOC_MITRE)
		return type_wanted(q, "attack-pattern");
	return type_wanted(q, "indicator");
}

static unsigned spec_bit(const char *v)
{
	return !strcmp(v, "2.1") ? OBJQ_SPEC_21 : !strcmp(v, "2.0") ? OBJQ_SPEC_20 : 0;
}

/* ---- the hot path: the newest version of each object ---- */

/* The class keys q reads, into out (at most OBJ_CLASS_END). */
static int classes_of(struct store *s, const struct object_query *q, int *out, size_t *n, struct err *e)
{
	*n = 0;
	for (int t = 1; t < IOC_TYPE_COUNT; t++)
		if ((q->ioc_types & (1u << t)) && record_class_wanted(q, t))
			out[(*n)++] = t;
	if ((q->ioc_types & (1u << IOC_MITRE)) && q->tactics && record_class_wanted(q, OBJ_CLASS_TACTIC))
		out[(*n)++] = OBJ_CLASS_TACTIC;
	if (!q->foreign)
		return 0;
	if (q->ntypes) {
		bool seen[OBJ_CLASS_END] = { false };
		for (size_t i = 0; i < q->ntypes; i++) {
			int c = store_object_class(q->types[i]);
			if (!seen[c])
				out[(*n)++] = c;
			seen[c] = true;
		}
		return 0;
	}
	/* Only the classes present: one index seek each. */
	sqlite3_stmt *st = stmt_sql(s, "SELECT ckey FROM objects INDEXED BY objects_last WHERE last = 1"
				       " AND ckey > ?1 ORDER BY ckey LIMIT 1", e);
	if (st == NULL)
		return ERR_DB;
	int c = OBJ_CLASS_FOREIGN - 1, rc;
	for (;;) {
		sqlite3_reset(st);
		sqlite3_bind_int(st, 1, c);
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW)
			break;
		c = sqlite3_column_int(st, 0);
		if (c >= OBJ_CLASS_END)
			break;
		out[(*n)++] = c;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(s, e, "listing object classes");
}

static void bind_types(sqlite3_stmt *st, const struct object_query *q, int first)
{
	for (size_t i = 0; i < q->ntypes; i++)
		sqlite3_bind_text(st, first + (int)i, q->types[i], -1, SQLITE_STATIC);
}

static void type_clause(struct buf *b, const struct object_query *q)
{
	if (q->ntypes == 0)
		return;
	buf_puts(b, " AND type IN (");
	for (size_t i = 0; i < q->ntypes; i++)
		buf_printf(b, "%s?%zu", i ? "," : "", i + 3);
	buf_putc(b, ')');
}

static int query_latest(struct store *s, const struct object_query *q, object_row_cb cb, void *ctx,
			bool *more, int64_t *reached, struct err *e)
{
	int classes[OBJ_CLASS_END];
	size_t nc;
	int rc = classes_of(s, q, classes, &nc, e);
	*more = false;
	*reached = q->after;
	if (rc || nc == 0)
		return rc;
	/*
	 * One range scan per class, merged: SQLite runs the arms of a compound SELECT with
	 * ORDER BY as co-routines and merges them; each arm's index delivers date_added order,
	 * so no arm is sorted and only the rows the page needs are read. (An arm with its own
	 * ORDER BY and LIMIT would be read whole and sorted.)
	 */
	struct buf sql = BUF_INIT;
	for (size_t i = 0; i < nc; i++) {
		buf_printf(&sql, "%sSELECT stix_id, date_added, modified, spec_version, json"
				 " FROM objects INDEXED BY objects_last WHERE last = 1 AND ckey = %d"
				 " AND date_added > ?1", i ? " UNION ALL " : "", classes[i]);
		type_clause(&sql, q);
	}
	buf_puts(&sql, " ORDER BY 2 LIMIT ?2");
	sqlite3_stmt *st = stmt_sql(s, sql.data, e);
	buf_cleanup(&sql);
	if (st == NULL)
		return ERR_DB;
	sqlite3_bind_int64(st, 1, q->after);
	sqlite3_bind_int64(st, 2, q->limit + 1);
	bind_types(st, q, 3);
	int64_t n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == q->limit) {
			*more = true;
			break;
		}
		struct object_row r = {
			.stix_id = text(st, 0), .date_added = sqlite3_column_int64(st, 1),
			.version = sqlite3_column_int64(st, 2), .spec_version = text(st, 3),
			.json = text(st, 4), .len = (size_t)sqlite3_column_bytes(st, 4),
		};
		n++;
		*reached = r.date_added;
		int crc = cb(ctx, &r);
		if (crc) {
			sqlite3_reset(st);
			return crc;
		}
	}
	bool bad = rc != SQLITE_ROW && rc != SQLITE_DONE;
	sqlite3_reset(st);
	return bad ? db_fail(s, e, "reading a page of objects") : 0;
}

/* ---- the general path: every version, tested one by one ---- */

/* Columns of a version as the general path reads them. */
#define VCOLS "seq, stix_id, date_added, modified, spec_version, json, ckey, type, last, first, top, ioc_rid"

/* Whether a foreign version is the newest (or oldest) among its object's versions of the
 * spec_versions q names. */
static int extreme_in_spec(struct store *s, const struct object_query *q, const char *stix_id,
			   int64_t modified, bool newest, bool *yes, struct err *e)
{
	const char *sql = newest ? "SELECT spec_version FROM objects INDEXED BY objects_foreign"
				   " WHERE stix_id = ?1 AND ioc_rid IS NULL AND modified > ?2"
				 : "SELECT spec_version FROM objects INDEXED BY objects_foreign"
				   " WHERE stix_id = ?1 AND ioc_rid IS NULL AND modified < ?2";
	sqlite3_stmt *st = stmt_sql(s, sql, e);
	if (st == NULL)
		return ERR_DB;
	sqlite3_bind_text(st, 1, stix_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, modified);
	int rc;
	*yes = true;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (spec_bit(text(st, 0)) & q->spec) {
			*yes = false;
			break;
		}
	bool bad = rc != SQLITE_ROW && rc != SQLITE_DONE;
	sqlite3_reset(st);
	return bad ? db_fail(s, e, "reading an object's versions") : 0;
}

/* Whether the version in st's current row (VCOLS) is one q selects. */
static int selected(struct store *s, const struct object_query *q, sqlite3_stmt *st, bool *yes,
		    struct err *e)
{
	int ckey = sqlite3_column_int(st, 6);
	bool record = sqlite3_column_type(st, 11) != SQLITE_NULL;
	*yes = false;
	if (record ? (ckey == OBJ_CLASS_TACTIC ? !(q->tactics && (q->ioc_types & (1u << IOC_MITRE)))
					       : !(ckey < 32 && (q->ioc_types & (1u << ckey))))
		   : !q->foreign)
		return 0;
	if (!type_wanted(q, text(st, 7)))
		return 0;
	if (q->spec == 0 ? !sqlite3_column_int(st, 10) : !(spec_bit(text(st, 4)) & q->spec))
		return 0;
	int64_t modified = sqlite3_column_int64(st, 3);
	if (q->versions & OBJV_ALL) {
		*yes = true;
		return 0;
	}
	for (size_t i = 0; (q->versions & OBJV_LIST) && i < q->nversions; i++)
		if (q->version_list[i] == modified)
			*yes = true;
	for (unsigned v = OBJV_LAST; v <= OBJV_FIRST && !*yes; v <<= 1) {
		if (!(q->versions & v))
			continue;
		/* Records are all 2.1, so their flags hold for any spec selection that admits them. */
		if (q->spec == 0 || record) {
			*yes = sqlite3_column_int(st, v == OBJV_LAST ? 8 : 9) != 0;
			continue;
		}
		int rc = extreme_in_spec(s, q, text(st, 1), modified, v == OBJV_LAST, yes, e);
		if (rc)
			return rc;
	}
	return 0;
}

static void row_of(sqlite3_stmt *st, struct object_row *r)
{
	r->stix_id = text(st, 1);
	r->date_added = sqlite3_column_int64(st, 2);
	r->version = sqlite3_column_int64(st, 3);
	r->spec_version = text(st, 4);
	r->json = text(st, 5);
	r->len = (size_t)sqlite3_column_bytes(st, 5);
}

#define DEFAULT_BUDGET 200000

static int64_t budget_of(const struct object_query *q)
{
	int64_t b = q->budget > 0 ? q->budget : DEFAULT_BUDGET;
	return b > q->limit * 4 ? b : q->limit * 4;
}

static int query_scan(struct store *s, const struct object_query *q, object_row_cb cb, void *ctx,
		      bool *more, int64_t *reached, struct err *e)
{
	sqlite3_stmt *st = stmt_sql(s, "SELECT " VCOLS " FROM objects WHERE date_added > ?1 ORDER BY date_added", e);
	if (st == NULL)
		return ERR_DB;
	sqlite3_bind_int64(st, 1, q->after);
	int64_t n = 0, examined = 0, budget = budget_of(q);
	int rc, crc = 0;
	*more = false;
	*reached = q->after;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (examined++ == budget) {
			*more = true;	/* not known: the next page will tell */
			break;
		}
		bool yes;
		crc = selected(s, q, st, &yes, e);
		if (crc)
			break;
		if (!yes) {
			if (n < q->limit)
				*reached = sqlite3_column_int64(st, 2);
			continue;
		}
		if (n == q->limit) {
			*more = true;
			break;
		}
		struct object_row r;
		row_of(st, &r);
		n++;
		*reached = r.date_added;
		if ((crc = cb(ctx, &r)) != 0)
			break;
	}
	bool bad = rc != SQLITE_ROW && rc != SQLITE_DONE;
	sqlite3_reset(st);
	if (crc)
		return crc;
	return bad ? db_fail(s, e, "reading objects") : 0;
}

/* ---- the versions of named objects ---- */

struct cand {
	int64_t date_added, seq;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	return x->date_added < y->date_added ? -1 : x->date_added > y->date_added;
}

#define MAX_CANDIDATES 1000000

static int add_candidates(struct store *s, sqlite3_stmt *st, struct cand **v, size_t *n, size_t *cap,
			  struct err *e)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == MAX_CANDIDATES) {
			sqlite3_reset(st);
			return err_set(e, ERR_TOO_LARGE, "the objects named have over %d versions", MAX_CANDIDATES);
		}
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			*v = xrealloc(*v, *cap * sizeof(**v));
		}
		(*v)[*n].seq = sqlite3_column_int64(st, 0);
		(*v)[*n].date_added = sqlite3_column_int64(st, 1);
		(*n)++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : db_fail(s, e, "reading an object's versions");
}

/* Every version of the objects q->ids names, in date_added order. */
static int candidates(struct store *s, const struct object_query *q, struct cand **out, size_t *nout,
		      struct err *e)
{
	struct cand *v = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	for (size_t i = 0; i < q->nids && rc == 0; i++) {
		const char *id = q->ids[i];
		sqlite3_stmt *st = stmt_sql(s, "SELECT seq, date_added FROM objects INDEXED BY objects_foreign"
					       " WHERE stix_id = ?1 AND ioc_rid IS NULL", e);
		if (st == NULL) {
			rc = ERR_DB;
			break;
		}
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		if ((rc = add_candidates(s, st, &v, &n, &cap, e)) != 0)
			break;
		/* A record's object has its id's UUID: look the record up by it. */
		const char *dash = strstr(id, "--");
		if (dash == NULL || strlen(dash + 2) != UUID_STR_LEN)
			continue;
		st = stmt_sql(s, "SELECT o.seq, o.date_added FROM iocs INDEXED BY iocs_key"
				 " JOIN objects o ON o.ioc_rid = iocs.rid"
				 " WHERE iocs.key = ?2 AND iocs.uuid = ?1 AND o.stix_id = ?3", e);
		if (st == NULL) {
			rc = ERR_DB;
			break;
		}
		sqlite3_bind_text(st, 1, dash + 2, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, uuid_key(dash + 2));
		sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
		rc = add_candidates(s, st, &v, &n, &cap, e);
	}
	if (rc) {
		free(v);
		return rc;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cand_cmp);
	*out = v;
	*nout = n;
	return 0;
}

static sqlite3_stmt *version_by_seq(struct store *s, int64_t seq, struct err *e)
{
	sqlite3_stmt *st = stmt_sql(s, "SELECT " VCOLS " FROM objects WHERE seq = ?1", e);
	if (st == NULL)
		return NULL;
	sqlite3_bind_int64(st, 1, seq);
	return st;
}

static int query_ids(struct store *s, const struct object_query *q, object_row_cb cb, void *ctx,
		     bool *more, int64_t *reached, struct err *e)
{
	struct cand *v;
	size_t n;
	int rc = candidates(s, q, &v, &n, e);
	*more = false;
	*reached = q->after;
	if (rc)
		return rc;
	int64_t given = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (v[i].date_added <= q->after)
			continue;
		sqlite3_stmt *st = version_by_seq(s, v[i].seq, e);
		if (st == NULL) {
			rc = ERR_DB;
			break;
		}
		int step = sqlite3_step(st);
		bool yes = false;
		if (step == SQLITE_ROW)
			rc = selected(s, q, st, &yes, e);
		else if (step != SQLITE_DONE)
			rc = db_fail(s, e, "reading an object version");
		if (rc == 0 && yes) {
			if (given == q->limit) {
				*more = true;
				sqlite3_reset(st);
				break;
			}
			struct object_row r;
			row_of(st, &r);
			given++;
			*reached = r.date_added;
			rc = cb(ctx, &r);
		}
		sqlite3_reset(st);
	}
	free(v);
	return rc;
}

int store_objects_query(struct store *s, const struct object_query *q, object_row_cb cb, void *ctx,
			bool *more, int64_t *reached, struct err *e)
{
	if (q->nids)
		return query_ids(s, q, cb, ctx, more, reached, e);
	if (q->versions == OBJV_LAST && q->spec == 0)
		return query_latest(s, q, cb, ctx, more, reached, e);
	return query_scan(s, q, cb, ctx, more, reached, e);
}

/* ---- deletion ---- */

/* Drops record rid from the indicator index: its row, its links, its search entry. */
static int record_drop(struct store *s, int64_t rid, struct err *e)
{
	static const char *const sql[] = {
		"DELETE FROM ioc_tags WHERE rid = ?1 AND tag IN"
		" (SELECT value FROM json_each((SELECT tags FROM iocs WHERE rid = ?1)))",
		"DELETE FROM ioc_techniques WHERE rid = ?1 AND technique IN"
		" (SELECT value FROM json_each((SELECT techniques FROM iocs WHERE rid = ?1)))",
		"DELETE FROM ioc_industries WHERE rid = ?1 AND industry IN"
		" (SELECT value FROM json_each((SELECT industries FROM iocs WHERE rid = ?1)))",
		"DELETE FROM ioc_feeds WHERE rid = ?1 AND feed IN"
		" (SELECT json_extract(value, '$.feed_name') FROM json_each((SELECT sources FROM iocs WHERE rid = ?1))"
		" UNION SELECT feed FROM iocs WHERE rid = ?1)",
		"INSERT INTO ioc_fts(ioc_fts, rowid, value) SELECT 'delete', rid, value FROM iocs"
		" WHERE rid = ?1 AND rid <= (SELECT v FROM meta WHERE k = 'fts_rid')",
		"DELETE FROM iocs WHERE rid = ?1",
	};
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		sqlite3_stmt *st = stmt_sql(s, sql[i], e);
		if (st == NULL)
			return ERR_DB;
		sqlite3_bind_int64(st, 1, rid);
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return db_fail(s, e, "removing an indicator");
	}
	return 0;
}

/* After versions of record rid were deleted: re-mark its newest and oldest, or drop it. */
static int record_refresh(struct store *s, int64_t rid, struct err *e)
{
	sqlite3_stmt *st = stmt_sql(s, "SELECT count(*), max(modified), min(modified) FROM objects"
				       " WHERE ioc_rid = ?1", e);
	if (st == NULL)
		return ERR_DB;
	sqlite3_bind_int64(st, 1, rid);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return db_fail(s, e, "counting versions");
	}
	int64_t n = sqlite3_column_int64(st, 0), hi = sqlite3_column_int64(st, 1);
	int64_t lo = sqlite3_column_int64(st, 2);
	sqlite3_reset(st);
	if (n == 0)
		return record_drop(s, rid, e);
	st = stmt_sql(s, "UPDATE objects SET last = (modified = ?2), first = (modified = ?3) WHERE ioc_rid = ?1", e);
	if (st == NULL)
		return ERR_DB;
	sqlite3_bind_int64(st, 1, rid);
	sqlite3_bind_int64(st, 2, hi);
	sqlite3_bind_int64(st, 3, lo);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : db_fail(s, e, "flagging versions");
}

int store_objects_delete(struct store *s, const struct object_query *q, int64_t *deleted, struct err *e)
{
	int rc = tx_begin(s, e);
	if (rc)
		return rc;
	struct cand *v = NULL;
	size_t n = 0;
	rc = candidates(s, q, &v, &n, e);
	/* Decide every version first: deleting one changes which is newest. */
	struct cand *del = xcalloc(n ? n : 1, sizeof(*del));
	int64_t *rids = xcalloc(n ? n : 1, sizeof(*rids));
	size_t nd = 0, nr = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		sqlite3_stmt *st = version_by_seq(s, v[i].seq, e);
		if (st == NULL) {
			rc = ERR_DB;
			break;
		}
		bool yes = false;
		if (sqlite3_step(st) == SQLITE_ROW) {
			rc = selected(s, q, st, &yes, e);
			if (rc == 0 && yes) {
				del[nd++] = v[i];
				if (sqlite3_column_type(st, 11) != SQLITE_NULL)
					rids[nr++] = sqlite3_column_int64(st, 11);
			}
		}
		sqlite3_reset(st);
	}
	for (size_t i = 0; i < nd && rc == 0; i++) {
		sqlite3_stmt *st = stmt_sql(s, "DELETE FROM objects WHERE seq = ?1", e);
		if (st == NULL) {
			rc = ERR_DB;
			break;
		}
		sqlite3_bind_int64(st, 1, del[i].seq);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_fail(s, e, "deleting an object version");
		sqlite3_reset(st);
	}
	for (size_t i = 0; i < q->nids && rc == 0 && nd; i++)
		rc = store_foreign_refresh(s, q->ids[i], e);
	for (size_t i = 0; i < nr && rc == 0; i++) {
		bool done = false;
		for (size_t j = 0; j < i; j++)
			done = done || rids[j] == rids[i];
		if (!done)
			rc = record_refresh(s, rids[i], e);
	}
	free(v);
	free(del);
	free(rids);
	if (rc) {
		tx_rollback(s);
		return rc;
	}
	*deleted = (int64_t)nd;
	return tx_commit_plain(s, e);
}

/* ---- the signing secret and status resources ---- */

int store_secret(struct store *s, const char *name, uint8_t out[32], struct err *e)
{
	sqlite3_stmt *st = stmt_sql(s, "SELECT v FROM secrets WHERE k = ?1", e);
	if (st == NULL)
		return ERR_DB;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	int rc = 0;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32)
		memcpy(out, sqlite3_column_blob(st, 0), 32);
	else
		rc = err_set(e, ERR_NOT_FOUND, "no secret '%s' in the database", name);
	sqlite3_reset(st);
	return rc;
}

int store_status_put(struct store *s, const char *id, const char *json, size_t len, int64_t now,
		     int64_t ttl, struct err *e)
{
	int rc = tx_begin(s, e);
	if (rc)
		return rc;
	sqlite3_stmt *st = stmt_sql(s, "DELETE FROM taxii_status WHERE created < ?1", e);
	if (st == NULL) {
		tx_rollback(s);
		return ERR_DB;
	}
	sqlite3_bind_int64(st, 1, now - ttl);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(s, e, "expiring status resources");
	sqlite3_reset(st);
	if (rc == 0) {
		st = stmt_sql(s, "INSERT OR REPLACE INTO taxii_status(id, created, json) VALUES (?1, ?2, ?3)", e);
		if (st == NULL)
			rc = ERR_DB;
	}
	if (rc == 0) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, now);
		sqlite3_bind_text(st, 3, json, (int)len, SQLITE_TRANSIENT);
		rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(s, e, "storing a status resource");
		sqlite3_reset(st);
	}
	if (rc) {
		tx_rollback(s);
		return rc;
	}
	return tx_commit_plain(s, e);
}

int store_status_get(struct store *s, const char *id, int64_t now, int64_t ttl, struct buf *out,
		     struct err *e)
{
	sqlite3_stmt *st = stmt_sql(s, "SELECT json FROM taxii_status WHERE id = ?1 AND created >= ?2", e);
	if (st == NULL)
		return ERR_DB;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, now - ttl);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		buf_append(out, sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return err_set(e, ERR_NOT_FOUND, "no status %s", id);
	return db_fail(s, e, "reading a status resource");
}
