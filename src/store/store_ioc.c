/*
 * Indicator records: the merge on write (DESIGN.md section 2), the STIX
 * version written beside every change, and the filtered reads of the REST API.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/timeutil.h"
#include "base/xmalloc.h"
#include "ioc/score.h"
#include "json/jw.h"
#include "stix/ioc_stix.h"
#include "store/store_int.h"

static const char *col_text(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	return t ? t : "";
}

void row_to_record(sqlite3_stmt *st, struct ioc_record *r)
{
	memset(r, 0, sizeof(*r));
	r->rid = sqlite3_column_int64(st, 0);
	snprintf(r->id, sizeof(r->id), "%s", col_text(st, 1));
	r->type = (enum ioc_type)sqlite3_column_int(st, 2);
	r->value = col_text(st, 3);
	r->score = sqlite3_column_int(st, 4);
	r->first_seen = sqlite3_column_int64(st, 5);
	r->last_seen = sqlite3_column_int64(st, 6);
	r->valid_until = sqlite3_column_int64(st, 7);
	r->created_at = sqlite3_column_int64(st, 8);
	r->updated_at = sqlite3_column_int64(st, 9);
	r->revoked = sqlite3_column_int(st, 10) != 0;
	r->feed = col_text(st, 11);
	r->category = col_text(st, 12);
	r->reference_url = col_text(st, 13);
	r->origin = col_text(st, 14);
	r->context = col_text(st, 15);
	r->tlp = col_text(st, 16);
	r->tags = col_text(st, 17);
	r->techniques = col_text(st, 18);
	r->industries = col_text(st, 19);
	r->sources = col_text(st, 20);
	r->nsources = sqlite3_column_int64(st, 21);
	r->occurrences = sqlite3_column_int64(st, 22);
	r->sightings = sqlite3_column_int64(st, 23);
	r->modified = sqlite3_column_int64(st, 24);
	r->suppressed = sqlite3_column_int64(st, 25);
	r->base_score = r->score;
	r->decay_end = sqlite3_column_int64(st, 26);
	r->decay_speed = sqlite3_column_double(st, 27);
	r->high_until = sqlite3_column_int64(st, 28);
	r->medium_until = sqlite3_column_int64(st, 29);
	r->low_until = sqlite3_column_int64(st, 30);
	r->score = ioc_score_at(r, time_now_us());
}

/* ---- writing ---- */

static int tlp_rank(const char *t)
{
	static const char *const order[] = { "clear", "green", "amber", "amber+strict", "red" };
	for (int i = 0; i < 5; i++)
		if (t && !strcmp(t, order[i]))
			return i;
	return 0;
}

/* Adds each string of v[0..n) to the JSON array arr unless present; caps at max. */
static void union_strings(json_t *arr, const char *const *v, size_t n, size_t max)
{
	for (size_t i = 0; i < n; i++) {
		size_t j;
		json_t *x;
		bool found = false;
		json_array_foreach(arr, j, x) {
			if (json_is_string(x) && !strcmp(json_string_value(x), v[i])) {
				found = true;
				break;
			}
		}
		if (!found && json_array_size(arr) < max)
			json_array_append_new(arr, json_string(v[i]));
	}
}

static json_t *parse_array(const char *text)
{
	json_t *a = text ? json_loads(text, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
	if (!json_is_array(a)) {
		json_decref(a);
		a = json_array();
	}
	return a;
}

static char *dump(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	return s ? s : xstrdup("[]");
}

static json_t *time_json(int64_t us)
{
	char t[40];
	time_format_to(t, us, TIME_MSEC);
	return json_string(t);
}

static int64_t json_time(json_t *j)
{
	int64_t us = 0;
	const char *s = json_string_value(j);
	if (s && time_parse_rfc3339(s, strlen(s), &us, NULL) == 0)
		return us;
	return 0;
}

static json_t *opt_string(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

/* The Admiralty grade of an input as text: its feed's, else the default. */
static const char *grade_text(char g)
{
	static const char *const grades[] = { "A", "B", "C", "D", "E", "F" };
	return g >= 'A' && g <= 'F' ? grades[g - 'A'] : grades[SCORE_DEFAULT_GRADE - 'A'];
}

/* The per-feed entry of `sources`: created or refreshed from one report. */
static void merge_source(json_t *sources, const struct ioc_input *in, int score, int64_t first,
			 int64_t last)
{
	const char *feed = in->feed ? in->feed : "";
	size_t i;
	json_t *src;
	json_array_foreach(sources, i, src) {
		const char *f = json_string_value(json_object_get(src, "feed_name"));
		if (f && !strcmp(f, feed)) {
			int64_t fs = json_time(json_object_get(src, "first_seen"));
			int64_t ls = json_time(json_object_get(src, "last_seen"));
			if (fs == 0 || first < fs)
				json_object_set_new(src, "first_seen", time_json(first));
			if (last > ls)
				json_object_set_new(src, "last_seen", time_json(last));
			json_object_set_new(src, "score", json_integer(score));
			json_object_set_new(src, "reliability", json_string(grade_text(in->reliability)));
			json_object_del(src, "ended_at");	/* reported again */
			json_int_t c = json_integer_value(json_object_get(src, "occurrence_count"));
			json_object_set_new(src, "occurrence_count", json_integer(c + 1));
			if (in->reference_url && *in->reference_url)
				json_object_set_new(src, "reference_url", json_string(in->reference_url));
			if (in->context && *in->context)
				json_object_set_new(src, "context", json_string(in->context));
			return;
		}
	}
	if (json_array_size(sources) >= IOC_MAX_SOURCES)
		return;
	src = json_object();
	json_object_set_new(src, "feed_name", json_string(feed));
	json_object_set_new(src, "category", json_string(in->category ? in->category : ""));
	json_object_set_new(src, "reference_url", opt_string(in->reference_url));
	json_object_set_new(src, "origin", json_string(in->origin && *in->origin ? in->origin : "feed"));
	json_object_set_new(src, "first_seen", time_json(first));
	json_object_set_new(src, "last_seen", time_json(last));
	json_object_set_new(src, "score", json_integer(score));
	json_object_set_new(src, "reliability", json_string(grade_text(in->reliability)));
	json_object_set_new(src, "occurrence_count", json_integer(1));
	json_object_set_new(src, "context", opt_string(in->context));
	json_array_append_new(sources, src);
}

/* A JSON array of the distinct strings of v[0..n), at most max. */
static char *string_array(const char *const *v, size_t n, size_t max)
{
	struct buf b = BUF_INIT;
	struct jw w;
	size_t kept = 0;
	jw_init(&w, &b);
	jw_arr(&w);
	for (size_t i = 0; i < n && kept < max; i++) {
		bool dup = false;
		for (size_t j = 0; j < i && !dup; j++)
			dup = strcmp(v[i], v[j]) == 0;
		if (!dup) {
			jw_str(&w, v[i]);
			kept++;
		}
	}
	jw_end(&w);
	return buf_take(&b);
}

/* The sources list of a new record: the one feed that reported it (as merge_source writes it). */
static char *first_source(const struct ioc_input *in, int score, int64_t first, int64_t last)
{
	struct buf b = BUF_INIT;
	struct jw w;
	jw_init(&w, &b);
	jw_arr(&w);
	jw_obj(&w);
	jw_kstr(&w, "feed_name", in->feed ? in->feed : "");
	jw_kstr(&w, "category", in->category ? in->category : "");
	jw_key(&w, "reference_url");
	jw_str(&w, in->reference_url && *in->reference_url ? in->reference_url : NULL);
	jw_kstr(&w, "origin", in->origin && *in->origin ? in->origin : "feed");
	jw_ktime(&w, "first_seen", first);
	jw_ktime(&w, "last_seen", last);
	jw_kint(&w, "score", score);
	jw_kstr(&w, "reliability", grade_text(in->reliability));
	jw_kint(&w, "occurrence_count", 1);
	jw_key(&w, "context");
	jw_str(&w, in->context && *in->context ? in->context : NULL);
	jw_end(&w);
	jw_end(&w);
	return buf_take(&b);
}

/* The base score (docs/scoring.md): the best source's score weighted by its feed's
 * reliability, a bonus for each further source that counts, and one for sightings. */
static int score_of(json_t *sources, int64_t sightings)
{
	size_t i;
	json_t *src;
	int best = 0;
	int64_t counted = 0;
	json_array_foreach(sources, i, src) {
		int sc = score_weighted((int)json_integer_value(json_object_get(src, "score")),
					score_grade(json_string_value(json_object_get(src, "reliability"))));
		if (sc > best)
			best = sc;
		if (sc > 0)
			counted++;
	}
	return score_base(best, counted, sightings).base;
}

/* Sets r's decay and band crossings from its base score, type and last_seen. */
static void set_decay(struct store *s, struct ioc_record *r, int64_t now)
{
	r->decay_end = store_decay_end(s, r->type, r->last_seen);
	r->decay_speed = s->cfg.decay_speed[r->type];
	struct score_decay d = score_decay_of(r);
	r->high_until = score_until(&d, SCORE_HIGH);
	r->medium_until = score_until(&d, SCORE_MEDIUM);
	r->low_until = score_until(&d, SCORE_LOW);
	r->score = score_at(&d, now);
}

static void bind_decay(sqlite3_stmt *st, int first, const struct ioc_record *r)
{
	sqlite3_bind_int64(st, first, r->decay_end);
	sqlite3_bind_double(st, first + 1, r->decay_speed);
	sqlite3_bind_int64(st, first + 2, r->high_until);
	sqlite3_bind_int64(st, first + 3, r->medium_until);
	sqlite3_bind_int64(st, first + 4, r->low_until);
}

struct merged {
	struct ioc_record r;
	int64_t modified;
	char *tags, *techniques, *industries, *sources;
};

static void merged_free(struct merged *m)
{
	free(m->tags);
	free(m->techniques);
	free(m->industries);
	free(m->sources);
}

static int bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_STATIC);
}

/*
 * Stores record r's STIX object as of `modified`, its newest version; prev_modified is the
 * version it supersedes (0 for a new record), which stops being the newest.
 */
int store_write_object(struct store *s, const struct ioc_record *r, int64_t modified, int64_t prev_modified,
		       struct err *e)
{
	struct buf b = BUF_INIT;
	char sid[80];
	int rc = 0;
	if (prev_modified) {
		sqlite3_stmt *up = stmt_sql(s, "UPDATE objects SET last = 0 WHERE ioc_rid = ?1 AND modified = ?2", e);
		if (up == NULL)
			return ERR_DB;
		sqlite3_bind_int64(up, 1, r->rid);
		sqlite3_bind_int64(up, 2, prev_modified);
		rc = sqlite3_step(up) == SQLITE_DONE ? 0 : db_fail(s, e, "superseding an object version");
		sqlite3_reset(up);
		if (rc)
			return rc;
	}
	ioc_stix_object(&b, r, modified);
	ioc_stix_id(r, sid, sizeof(sid));
	sqlite3_stmt *st = stmt(s, ST_OBJ_INSERT);
	if (st == NULL) {
		rc = db_fail(s, e, "preparing the object insert");
		goto out;
	}
	bind_text(st, 1, sid);
	bind_text(st, 2, ioc_stix_type(r->type, r->value));
	sqlite3_bind_int64(st, 3, modified);
	sqlite3_bind_int64(st, 4, r->updated_at);
	sqlite3_bind_int(st, 5, r->revoked);
	sqlite3_bind_int64(st, 6, r->rid);
	sqlite3_bind_text(st, 7, b.data, (int)b.len, SQLITE_STATIC);
	bind_text(st, 8, "2.1");
	sqlite3_bind_int(st, 9, strcmp(ioc_stix_type(r->type, r->value), "x-mitre-tactic") ? (int)r->type
										       : OBJ_CLASS_TACTIC);
	sqlite3_bind_int(st, 10, 1);
	sqlite3_bind_int(st, 11, prev_modified == 0);
	sqlite3_bind_int(st, 12, 1);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(s, e, "storing the STIX object");
	sqlite3_reset(st);
out:
	buf_cleanup(&b);
	return rc;
}

static int link_rows(struct store *s, enum stmt_id id, const char *const *v, size_t n, int64_t rid,
		     struct err *e)
{
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st = stmt(s, id);
		if (st == NULL)
			return db_fail(s, e, "preparing a link");
		bind_text(st, 1, v[i]);
		sqlite3_bind_int64(st, 2, rid);
		if (sqlite3_step(st) != SQLITE_DONE)
			return db_fail(s, e, "linking a record");
		sqlite3_reset(st);
	}
	return 0;
}

/* Links the record to its feed (seen at `seen`, a clock time stamp), tags, techniques and
 * industries. */
static int link_all(struct store *s, const struct ioc_input *in, int64_t rid, int64_t seen, struct err *e)
{
	sqlite3_stmt *st = stmt(s, ST_FEED_LINK);
	if (st == NULL)
		return db_fail(s, e, "preparing a link");
	bind_text(st, 1, in->feed);
	sqlite3_bind_int64(st, 2, rid);
	sqlite3_bind_int64(st, 3, seen);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_fail(s, e, "linking a feed");
	sqlite3_reset(st);
	if (link_rows(s, ST_TAG_LINK, in->tags, in->ntags, rid, e) ||
	    link_rows(s, ST_TECHNIQUE_LINK, in->techniques, in->ntechniques, rid, e) ||
	    link_rows(s, ST_INDUSTRY_LINK, in->industries, in->nindustries, rid, e))
		return ERR_DB;
	return 0;
}

static int64_t expiry_for(struct store *s, const struct ioc_input *in, int64_t last)
{
	if (in->valid_until > 0)
		return in->valid_until;
	int64_t days = in->lifetime_days > 0 ? in->lifetime_days : s->cfg.lifetime_days[in->type];
	return days > 0 ? last + days * USEC_PER_DAY : 0;
}

static int put_new(struct store *s, const struct ioc_input *in, int64_t now, struct err *e)
{
	struct merged m = { 0 };
	struct ioc_record *r = &m.r;
	int rc = 0;
	int score = in->score >= 0 ? in->score : s->cfg.default_score;
	int64_t first = in->first_seen > 0 ? in->first_seen : now;
	int64_t last = in->last_seen > 0 ? in->last_seen : now;
	if (last < first)
		last = first;

	/* A new record's lists are written directly: the hot path of a bulk import. */
	m.tags = string_array(in->tags, in->ntags, IOC_MAX_TAGS);
	m.techniques = string_array(in->techniques, in->ntechniques, IOC_MAX_TECHNIQUES);
	m.industries = string_array(in->industries, in->nindustries, IOC_MAX_INDUSTRIES);
	m.sources = first_source(in, score, first, last);

	ioc_id(in->type, in->value, strlen(in->value), r->id);
	r->type = in->type;
	r->value = in->value;
	r->base_score = score_weighted(score, in->reliability);
	r->first_seen = first;
	r->last_seen = last;
	set_decay(s, r, now);
	r->valid_until = expiry_for(s, in, last);
	r->updated_at = clock_next(s);
	r->created_at = r->updated_at;
	m.modified = r->updated_at / 1000 * 1000;
	r->feed = in->feed ? in->feed : "";
	r->category = in->category ? in->category : "";
	r->reference_url = in->reference_url ? in->reference_url : "";
	r->origin = in->origin && *in->origin ? in->origin : "feed";
	r->context = in->context ? in->context : "";
	r->tlp = in->tlp ? in->tlp : "clear";
	r->tags = m.tags;
	r->techniques = m.techniques;
	r->industries = m.industries;
	r->sources = m.sources;
	r->nsources = 1;
	r->occurrences = 1;
	r->revoked = in->revoked;

	sqlite3_stmt *st = stmt(s, ST_IOC_INSERT);
	if (st == NULL) {
		rc = db_fail(s, e, "preparing the insert");
		goto out;
	}
	bind_text(st, 1, r->id);
	sqlite3_bind_int(st, 2, r->type);
	bind_text(st, 3, r->value);
	sqlite3_bind_int(st, 4, r->base_score);
	sqlite3_bind_int64(st, 5, r->first_seen);
	sqlite3_bind_int64(st, 6, r->last_seen);
	sqlite3_bind_int64(st, 7, r->valid_until);
	sqlite3_bind_int64(st, 8, r->created_at);
	sqlite3_bind_int64(st, 9, r->updated_at);
	sqlite3_bind_int(st, 10, in->revoked);
	bind_text(st, 11, r->feed);
	bind_text(st, 12, r->category);
	bind_text(st, 13, r->reference_url);
	bind_text(st, 14, r->origin);
	bind_text(st, 15, r->context);
	bind_text(st, 16, r->tlp);
	bind_text(st, 17, r->tags);
	bind_text(st, 18, r->techniques);
	bind_text(st, 19, r->industries);
	bind_text(st, 20, r->sources);
	sqlite3_bind_int64(st, 21, 1);
	sqlite3_bind_int64(st, 22, 1);
	sqlite3_bind_int64(st, 23, 0);
	sqlite3_bind_int64(st, 24, m.modified);
	sqlite3_bind_int64(st, 25, uuid_key(r->id));
	bind_decay(st, 26, r);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(s, e, "inserting an indicator");
		sqlite3_reset(st);
		goto out;
	}
	sqlite3_reset(st);
	r->rid = sqlite3_last_insert_rowid(s->db);

	rc = link_all(s, in, r->rid, r->updated_at, e);
	if (rc == 0)
		rc = store_write_object(s, r, m.modified, 0, e);
out:
	merged_free(&m);
	return rc;
}

static int put_merge(struct store *s, sqlite3_stmt *found, const struct ioc_input *in, int64_t now,
		     struct err *e)
{
	struct merged m = { 0 };
	struct ioc_record *r = &m.r;
	row_to_record(found, r);
	int64_t prev_modified = sqlite3_column_int64(found, 24);
	int rc = 0;
	int score = in->score >= 0 ? in->score : s->cfg.default_score;
	int64_t first = in->first_seen > 0 ? in->first_seen : now;
	int64_t last = in->last_seen > 0 ? in->last_seen : now;
	if (last < first)
		last = first;

	/* The row's text lives in the statement; copy what we keep past the next step. */
	char *context = xstrdup(in->context && *in->context && !*r->context ? in->context : r->context);
	char *tlp = xstrdup(in->tlp && tlp_rank(in->tlp) > tlp_rank(r->tlp) ? in->tlp : r->tlp);
	char *value = xstrdup(r->value);
	char *feed = xstrdup(r->feed), *category = xstrdup(r->category);
	char *ref = xstrdup(r->reference_url), *origin = xstrdup(r->origin);
	json_t *tags = parse_array(r->tags), *tech = parse_array(r->techniques);
	json_t *ind = parse_array(r->industries), *src = parse_array(r->sources);
	union_strings(tags, in->tags, in->ntags, IOC_MAX_TAGS);
	union_strings(tech, in->techniques, in->ntechniques, IOC_MAX_TECHNIQUES);
	union_strings(ind, in->industries, in->nindustries, IOC_MAX_INDUSTRIES);
	merge_source(src, in, score, first, last);
	m.tags = dump(tags);
	m.techniques = dump(tech);
	m.industries = dump(ind);
	m.sources = dump(src);
	r->base_score = score_of(src, r->sightings);
	r->nsources = (int64_t)json_array_size(src);
	json_decref(tags);
	json_decref(tech);
	json_decref(ind);
	json_decref(src);
	sqlite3_reset(found);

	if (first < r->first_seen)
		r->first_seen = first;
	if (last > r->last_seen)
		r->last_seen = last;
	set_decay(s, r, now);
	int64_t vu = expiry_for(s, in, r->last_seen);
	r->valid_until = (r->valid_until == 0 || vu == 0) ? 0 : (vu > r->valid_until ? vu : r->valid_until);
	r->occurrences++;
	r->revoked = r->revoked || in->revoked;
	r->updated_at = clock_next(s);
	m.modified = r->updated_at / 1000 * 1000;
	if (m.modified <= prev_modified)
		m.modified = prev_modified + 1000;
	r->value = value;
	r->feed = feed;
	r->category = category;
	r->reference_url = ref;
	r->origin = origin;
	r->context = context;
	r->tlp = tlp;
	r->tags = m.tags;
	r->techniques = m.techniques;
	r->industries = m.industries;
	r->sources = m.sources;

	sqlite3_stmt *st = stmt(s, ST_IOC_UPDATE);
	if (st == NULL) {
		rc = db_fail(s, e, "preparing the update");
		goto out;
	}
	sqlite3_bind_int64(st, 1, r->rid);
	sqlite3_bind_int(st, 2, r->base_score);
	sqlite3_bind_int64(st, 3, r->first_seen);
	sqlite3_bind_int64(st, 4, r->last_seen);
	sqlite3_bind_int64(st, 5, r->valid_until);
	sqlite3_bind_int64(st, 6, r->updated_at);
	sqlite3_bind_int(st, 7, r->revoked);
	bind_text(st, 8, r->context);
	bind_text(st, 9, r->tlp);
	bind_text(st, 10, r->tags);
	bind_text(st, 11, r->techniques);
	bind_text(st, 12, r->industries);
	bind_text(st, 13, r->sources);
	sqlite3_bind_int64(st, 14, r->nsources);
	sqlite3_bind_int64(st, 15, r->occurrences);
	sqlite3_bind_int64(st, 16, m.modified);
	bind_decay(st, 17, r);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(s, e, "updating an indicator");
		sqlite3_reset(st);
		goto out;
	}
	sqlite3_reset(st);
	rc = link_all(s, in, r->rid, r->updated_at, e);
	if (rc == 0)
		rc = store_write_object(s, r, m.modified, prev_modified, e);
out:
	free(context);
	free(tlp);
	free(value);
	free(feed);
	free(category);
	free(ref);
	free(origin);
	merged_free(&m);
	return rc;
}

int store_ioc_put_batch(struct store *s, const struct ioc_input *in, size_t n, struct put_stats *stats,
			struct err *e)
{
	struct put_stats local = { 0 };
	int64_t now = time_now_us();
	int rc = tx_begin(s, e);
	if (rc)
		return rc;
	if (s->allow_expect >= 0 && store_allow_gen(s) != s->allow_expect) {
		/* A list changed after the caller's matcher was built: what it let through might
		 * be on the new list, and the suppression pass may already be past these rids. */
		tx_rollback(s);
		return err_set(e, ERR_CONFLICT, "the allow-lists changed during the import");
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		/* Each feed once per batch (inputs of one import share the pointers). */
		if (i > 0 && in[i].feed == in[i - 1].feed && in[i].category == in[i - 1].category)
			continue;
		sqlite3_stmt *fu = stmt(s, ST_FEED_UPSERT);
		if (fu == NULL) {
			rc = db_fail(s, e, "preparing the feed update");
			break;
		}
		bind_text(fu, 1, in[i].feed);
		bind_text(fu, 2, in[i].category);
		if (sqlite3_step(fu) != SQLITE_DONE)
			rc = db_fail(s, e, "recording a feed");
		sqlite3_reset(fu);
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		sqlite3_stmt *st = stmt(s, ST_IOC_FIND);
		if (st == NULL) {
			rc = db_fail(s, e, "preparing the lookup");
			break;
		}
		char uuid[UUID_STR_LEN + 1];
		ioc_id(in[i].type, in[i].value, strlen(in[i].value), uuid);
		sqlite3_bind_int(st, 1, in[i].type);
		sqlite3_bind_text(st, 2, in[i].value, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, uuid_key(uuid));
		int step = sqlite3_step(st);
		if (step == SQLITE_ROW) {
			rc = put_merge(s, st, &in[i], now, e);
			local.updated++;
		} else if (step == SQLITE_DONE) {
			sqlite3_reset(st);
			rc = put_new(s, &in[i], now, e);
			local.added++;
		} else {
			rc = db_fail(s, e, "looking up an indicator");
			sqlite3_reset(st);
		}
		if (rc)
			break;
	}
	if (rc) {
		tx_rollback(s);
		return rc;
	}
	rc = tx_commit(s, e);
	if (rc == 0 && stats) {
		stats->added += local.added;
		stats->updated += local.updated;
	}
	return rc;
}

int store_ioc_revoke(struct store *s, const char *uuid, const char *reason, struct err *e)
{
	int rc = tx_begin(s, e);
	if (rc)
		return rc;
	sqlite3_stmt *st = stmt_sql(s, "SELECT " IOC_COLS " FROM iocs INDEXED BY iocs_key WHERE key = ?2 AND uuid = ?1", e);
	if (st == NULL) {
		tx_rollback(s);
		return ERR_DB;
	}
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, uuid_key(uuid));
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		tx_rollback(s);
		return err_set(e, ERR_NOT_FOUND, "no indicator with id %s", uuid);
	}
	struct ioc_record r;
	row_to_record(st, &r);
	int64_t prev_modified = sqlite3_column_int64(st, 24);
	struct buf copy = BUF_INIT;
	/* Keep the row's strings alive past the statement's reset. */
	const char **fields[] = { &r.value, &r.feed, &r.category, &r.reference_url, &r.origin,
				  &r.context, &r.tlp, &r.tags, &r.techniques, &r.industries, &r.sources };
	size_t offs[sizeof(fields) / sizeof(fields[0])];
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		offs[i] = copy.len;
		buf_append(&copy, *fields[i], strlen(*fields[i]) + 1);
	}
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		*fields[i] = copy.data + offs[i];
	sqlite3_reset(st);
	(void)reason;

	r.revoked = true;
	r.updated_at = clock_next(s);
	int64_t modified = r.updated_at / 1000 * 1000;
	if (modified <= prev_modified)
		modified = prev_modified + 1000;
	st = stmt_sql(s, "UPDATE iocs SET revoked = 1, updated_at = ?2, modified = ?3 WHERE rid = ?1", e);
	if (st == NULL) {
		rc = ERR_DB;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, r.rid);
	sqlite3_bind_int64(st, 2, r.updated_at);
	sqlite3_bind_int64(st, 3, modified);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(s, e, "revoking");
		sqlite3_reset(st);
		goto fail;
	}
	sqlite3_reset(st);
	rc = store_write_object(s, &r, modified, prev_modified, e);
	if (rc)
		goto fail;
	buf_cleanup(&copy);
	return tx_commit(s, e);
fail:
	buf_cleanup(&copy);
	tx_rollback(s);
	return rc;
}

/* ---- snapshot feeds: ending the sources a pull no longer reports ---- */

#define END_BATCH 5000

/* Ends feed's entry in the sources of record rid at now. */
static int end_one(struct store *s, int64_t rid, const char *feed, int64_t now, struct err *e)
{
	sqlite3_stmt *st = stmt_sql(s, "SELECT " IOC_COLS " FROM iocs WHERE rid = ?1", e);
	if (st == NULL)
		return ERR_DB;
	sqlite3_bind_int64(st, 1, rid);
	if (sqlite3_step(st) != SQLITE_ROW) {	/* gone (a TAXII delete): nothing to end */
		sqlite3_reset(st);
		return 0;
	}
	struct ioc_record r;
	row_to_record(st, &r);
	/* Keep the row's strings alive past the statement's reset. */
	struct buf copy = BUF_INIT;
	const char **fields[] = { &r.value, &r.feed, &r.category, &r.reference_url, &r.origin,
				  &r.context, &r.tlp, &r.tags, &r.techniques, &r.industries };
	size_t offs[sizeof(fields) / sizeof(fields[0])];
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		offs[i] = copy.len;
		buf_append(&copy, *fields[i], strlen(*fields[i]) + 1);
	}
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		*fields[i] = copy.data + offs[i];
	json_t *src = parse_array(r.sources);
	sqlite3_reset(st);

	bool all_ended = true;
	size_t i;
	json_t *x;
	json_array_foreach(src, i, x) {
		const char *f = json_string_value(json_object_get(x, "feed_name"));
		if (f && !strcmp(f, feed) && json_object_get(x, "ended_at") == NULL)
			json_object_set_new(x, "ended_at", time_json(now));
		if (json_object_get(x, "ended_at") == NULL)
			all_ended = false;
	}
	char *sources = dump(src);
	json_decref(src);
	r.sources = sources;
	if (all_ended) {
		int64_t vu = now + s->cfg.grace_days[r.type] * USEC_PER_DAY;
		if (r.valid_until == 0 || vu < r.valid_until)
			r.valid_until = vu;
	}
	int64_t prev_modified = r.modified;
	r.updated_at = clock_next(s);
	int64_t modified = prev_modified;
	if (!r.suppressed) {	/* a hidden record's newest version stays the one that hid it */
		modified = r.updated_at / 1000 * 1000;
		if (modified <= prev_modified)
			modified = prev_modified + 1000;
	}
	r.modified = modified;
	int rc = 0;
	st = stmt_sql(s, "UPDATE iocs SET sources = ?2, valid_until = ?3, updated_at = ?4, modified = ?5"
			 " WHERE rid = ?1", e);
	if (st == NULL) {
		rc = ERR_DB;
		goto out;
	}
	sqlite3_bind_int64(st, 1, rid);
	bind_text(st, 2, r.sources);
	sqlite3_bind_int64(st, 3, r.valid_until);
	sqlite3_bind_int64(st, 4, r.updated_at);
	sqlite3_bind_int64(st, 5, modified);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(s, e, "ending a source");
	sqlite3_reset(st);
	if (rc)
		goto out;
	st = stmt_sql(s, "UPDATE ioc_feeds SET ended_at = ?3 WHERE feed = ?1 AND rid = ?2", e);
	if (st == NULL) {
		rc = ERR_DB;
		goto out;
	}
	bind_text(st, 1, feed);
	sqlite3_bind_int64(st, 2, rid);
	sqlite3_bind_int64(st, 3, now);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(s, e, "ending a source");
	sqlite3_reset(st);
	if (rc == 0 && !r.suppressed)
		rc = store_write_object(s, &r, modified, prev_modified, e);
out:
	free(sources);
	buf_cleanup(&copy);
	return rc;
}

int store_feed_end_unseen(struct store *s, const char *feed, int64_t since, int64_t *ended, struct err *e)
{
	int64_t *rids = xcalloc(END_BATCH, sizeof(*rids));
	int rc = 0;
	*ended = 0;
	for (;;) {
		rc = tx_begin(s, e);
		if (rc)
			break;
		int64_t now = time_now_us();
		size_t n = 0;
		sqlite3_stmt *st = stmt_sql(s, "SELECT rid FROM ioc_feeds WHERE feed = ?1 AND seen_at <= ?2"
					       " AND ended_at = 0 LIMIT ?3", e);
		if (st == NULL) {
			tx_rollback(s);
			rc = ERR_DB;
			break;
		}
		bind_text(st, 1, feed);
		sqlite3_bind_int64(st, 2, since);
		sqlite3_bind_int64(st, 3, END_BATCH);
		int step;
		while ((step = sqlite3_step(st)) == SQLITE_ROW)
			rids[n++] = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (step != SQLITE_DONE) {
			rc = db_fail(s, e, "finding the sources to end");
			tx_rollback(s);
			break;
		}
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = end_one(s, rids[i], feed, now, e);
		if (rc) {
			tx_rollback(s);
			break;
		}
		rc = n ? tx_commit(s, e) : tx_commit_plain(s, e);
		if (rc || n == 0)
			break;
		*ended += (int64_t)n;
	}
	free(rids);
	return rc;
}

int store_feed_note(struct store *s, const char *feed, const char *category, int64_t read,
		    int64_t added, int64_t updated, int64_t rejected, struct err *e)
{
	sqlite3_stmt *st = stmt_sql(
		s,
		"INSERT INTO feeds(name, category, last_import_at, imports, last_read, last_added,"
		" last_updated, last_rejected) VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6, ?7)"
		" ON CONFLICT(name) DO UPDATE SET category = excluded.category,"
		" last_import_at = excluded.last_import_at, imports = imports + 1,"
		" last_read = excluded.last_read, last_added = excluded.last_added,"
		" last_updated = excluded.last_updated, last_rejected = excluded.last_rejected",
		e);
	if (st == NULL)
		return ERR_DB;
	bind_text(st, 1, feed);
	bind_text(st, 2, category);
	sqlite3_bind_int64(st, 3, time_now_us());
	sqlite3_bind_int64(st, 4, read);
	sqlite3_bind_int64(st, 5, added);
	sqlite3_bind_int64(st, 6, updated);
	sqlite3_bind_int64(st, 7, rejected);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(s, e, "noting the feed");
	sqlite3_reset(st);
	return rc;
}

/* ---- reading ---- */

struct q {
	struct buf sql;
	/* bindings, in order: kind 'i' int64 or 't' text */
	char kind[32];
	int64_t ival[32];
	const char *tval[32];
	int n;
};

static void bind_i(struct q *q, int64_t v)
{
	q->kind[q->n] = 'i';
	q->ival[q->n++] = v;
}

static void bind_t(struct q *q, const char *v)
{
	q->kind[q->n] = 't';
	q->tval[q->n++] = v;
}

/*
 * Whether the updated_at window holds few enough records to read them through the
 * updated_at index and sort them; otherwise walking rid order and testing each row is
 * cheaper (the window covers most of the table). Probing costs at most NARROW_MAX index steps.
 */
#define NARROW_MAX 20000

static bool window_is_narrow(struct store *s, const struct ioc_filter *f)
{
	if (!f->window_is_narrow || (f->since <= 0 && f->until <= 0))
		return false;
	struct err e;
	sqlite3_stmt *st = stmt_sql(s, "SELECT count(*) FROM (SELECT 1 FROM iocs INDEXED BY"
				       " iocs_updated WHERE updated_at >= ?1 AND updated_at <= ?2"
				       " LIMIT ?3)", &e);
	if (st == NULL)
		return false;
	sqlite3_bind_int64(st, 1, f->since > 0 ? f->since : 0);
	sqlite3_bind_int64(st, 2, f->until > 0 ? f->until : INT64_MAX);
	sqlite3_bind_int64(st, 3, NARROW_MAX);
	bool narrow = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) < NARROW_MAX;
	sqlite3_reset(st);
	return narrow;
}

static void build_where(struct q *q, const struct ioc_filter *f)
{
	buf_puts(&q->sql, " WHERE suppressed = 0");
	if (f->types) {
		int first = 1;
		buf_puts(&q->sql, " AND type IN (");
		for (int t = 1; t < IOC_TYPE_COUNT; t++) {
			if (!(f->types & (1u << t)))
				continue;
			buf_printf(&q->sql, "%s%d", first ? "" : ",", t);
			first = 0;
		}
		buf_putc(&q->sql, ')');
	}
	if (f->bands && f->bands != 0xf) {
		/* The score's band now, from its stored crossing times (docs/scoring.md). */
		static const char *const ranges[4] = {
			"low_until < ?", "(low_until >= ? AND medium_until < ?)",
			"(medium_until >= ? AND high_until < ?)", "high_until >= ?"
		};
		static const int nbind[4] = { 1, 2, 2, 1 };
		int first = 1;
		buf_puts(&q->sql, " AND (");
		for (int b = 0; b < 4; b++) {
			if (!(f->bands & (1u << b)))
				continue;
			buf_printf(&q->sql, "%s%s", first ? "" : " OR ", ranges[b]);
			for (int k = 0; k < nbind[b]; k++)
				bind_i(q, f->now);
			first = 0;
		}
		buf_putc(&q->sql, ')');
	}
	if (f->min_score >= 0) {
		/* Any threshold: the decayed score, computed per row that the other filters pass. */
		buf_puts(&q->sql, " AND cairn_score_at(score, last_seen, decay_end, decay_speed, ?) >= ?");
		bind_i(q, f->now);
		bind_i(q, f->min_score);
	}
	/* A broad window (a tier's lookback) is better checked row by row in rid order than
	 * read through the updated_at index and sorted: '+' keeps SQLite off that index. */
	const char *col = f->window_is_narrow ? "updated_at" : "+updated_at";
	if (f->since > 0) {
		buf_printf(&q->sql, " AND %s >= ?", col);
		bind_i(q, f->since);
	}
	if (f->until > 0) {
		buf_printf(&q->sql, " AND %s <= ?", col);
		bind_i(q, f->until);
	}
	if (f->tag) {
		buf_puts(&q->sql, " AND rid IN (SELECT rid FROM ioc_tags WHERE tag = ?)");
		bind_t(q, f->tag);
	}
	if (f->industry) {
		buf_puts(&q->sql, " AND rid IN (SELECT rid FROM ioc_industries WHERE industry = ?)");
		bind_t(q, f->industry);
	}
	if (f->source) {
		buf_puts(&q->sql, " AND rid IN (SELECT rid FROM ioc_feeds WHERE feed = ?)");
		bind_t(q, f->source);
	}
	if (f->category) {
		/* A category belongs to a feed: the records of every feed in it. */
		buf_puts(&q->sql, " AND rid IN (SELECT i.rid FROM feeds f JOIN ioc_feeds i ON i.feed = f.name"
				  " WHERE f.category = ?)");
		bind_t(q, f->category);
	}
	if (!f->include_expired) {
		buf_puts(&q->sql, " AND revoked = 0 AND (valid_until = 0 OR valid_until > ?)");
		bind_i(q, f->now);
	}
}

static void bind_all(sqlite3_stmt *st, const struct q *q)
{
	for (int i = 0; i < q->n; i++) {
		if (q->kind[i] == 'i')
			sqlite3_bind_int64(st, i + 1, q->ival[i]);
		else
			sqlite3_bind_text(st, i + 1, q->tval[i], -1, SQLITE_STATIC);
	}
}

static int walk(struct store *s, sqlite3_stmt *st, ioc_cb cb, void *ctx, struct err *e)
{
	int rc, crc = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ioc_record r;
		row_to_record(st, &r);
		crc = cb(ctx, &r);
		if (crc)
			break;
	}
	int bad = rc != SQLITE_ROW && rc != SQLITE_DONE;
	sqlite3_reset(st);
	if (bad)
		return db_fail(s, e, "reading indicators");
	return crc;
}

int store_ioc_list(struct store *s, const struct ioc_filter *filter, ioc_cb cb, void *ctx, struct err *e)
{
	struct ioc_filter fl = *filter, *f = &fl;
	fl.window_is_narrow = window_is_narrow(s, filter);
	struct q q = { BUF_INIT, { 0 }, { 0 }, { 0 }, 0 };
	buf_puts(&q.sql, "SELECT " IOC_COLS " FROM iocs");
	if (fl.window_is_narrow)
		buf_puts(&q.sql, " INDEXED BY iocs_updated");
	build_where(&q, f);
	if (f->before_rid > 0) {
		buf_puts(&q.sql, " AND rid < ?");
		bind_i(&q, f->before_rid);
	}
	buf_puts(&q.sql, " ORDER BY rid DESC LIMIT ? OFFSET ?");
	bind_i(&q, f->limit);
	bind_i(&q, f->offset);
	sqlite3_stmt *st = stmt_sql(s, q.sql.data, e);
	int rc = ERR_DB;
	if (st) {
		bind_all(st, &q);
		rc = walk(s, st, cb, ctx, e);
	}
	buf_cleanup(&q.sql);
	return rc;
}

int store_ioc_count(struct store *s, const struct ioc_filter *filter, int64_t cap, int64_t *n,
		    bool *estimated, struct err *e)
{
	struct ioc_filter fl = *filter, *f = &fl;
	fl.window_is_narrow = window_is_narrow(s, filter);
	struct q q = { BUF_INIT, { 0 }, { 0 }, { 0 }, 0 };
	/* The cap-th match's rid tells the density of matches among rids. */
	buf_puts(&q.sql, "SELECT rid FROM iocs");
	if (fl.window_is_narrow)
		buf_puts(&q.sql, " INDEXED BY iocs_updated");
	build_where(&q, f);
	buf_puts(&q.sql, " ORDER BY rid DESC LIMIT 1 OFFSET ?");
	bind_i(&q, cap);
	int rc = 0;
	*estimated = false;
	sqlite3_stmt *st = stmt_sql(s, q.sql.data, e);
	if (st == NULL) {
		rc = ERR_DB;
		goto out;
	}
	bind_all(st, &q);
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		int64_t rid_at_cap = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		sqlite3_stmt *mx = stmt_sql(s, "SELECT max(rid) FROM iocs", e);
		int64_t maxrid = 0;
		if (mx && sqlite3_step(mx) == SQLITE_ROW)
			maxrid = sqlite3_column_int64(mx, 0);
		if (mx)
			sqlite3_reset(mx);
		double span = (double)(maxrid - rid_at_cap + 1);
		*n = span > 0 ? (int64_t)((double)(cap + 1) / span * (double)maxrid) : cap + 1;
		if (*n <= cap)
			*n = cap + 1;
		*estimated = true;
		goto out;
	}
	sqlite3_reset(st);
	if (step != SQLITE_DONE) {
		rc = db_fail(s, e, "counting");
		goto out;
	}
	buf_reset(&q.sql);
	q.n = 0;
	buf_puts(&q.sql, "SELECT count(*) FROM iocs");
	if (fl.window_is_narrow)
		buf_puts(&q.sql, " INDEXED BY iocs_updated");
	build_where(&q, f);
	st = stmt_sql(s, q.sql.data, e);
	if (st == NULL) {
		rc = ERR_DB;
		goto out;
	}
	bind_all(st, &q);
	if (sqlite3_step(st) == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	else
		rc = db_fail(s, e, "counting");
	sqlite3_reset(st);
out:
	buf_cleanup(&q.sql);
	return rc;
}

static int get_one(struct store *s, sqlite3_stmt *st, ioc_cb cb, void *ctx, struct err *e)
{
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		struct ioc_record r;
		row_to_record(st, &r);
		int rc = cb(ctx, &r);
		sqlite3_reset(st);
		return rc;
	}
	sqlite3_reset(st);
	if (step == SQLITE_DONE)
		return err_set(e, ERR_NOT_FOUND, "no such indicator");
	return db_fail(s, e, "reading an indicator");
}

int store_ioc_get(struct store *s, const char *uuid, ioc_cb cb, void *ctx, struct err *e)
{
	sqlite3_stmt *st = stmt_sql(s, "SELECT " IOC_COLS " FROM iocs INDEXED BY iocs_key WHERE key = ?2 AND uuid = ?1"
				       " AND suppressed = 0", e);
	if (st == NULL)
		return ERR_DB;
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, uuid_key(uuid));
	return get_one(s, st, cb, ctx, e);
}

static int get_value(struct store *s, enum ioc_type t, const char *value, bool any, ioc_cb cb, void *ctx,
		     struct err *e)
{
	sqlite3_stmt *st = stmt_sql(s, any ? "SELECT " IOC_COLS " FROM iocs INDEXED BY iocs_key WHERE key = ?3"
					     " AND type = ?1 AND value = ?2"
					   : "SELECT " IOC_COLS " FROM iocs INDEXED BY iocs_key WHERE key = ?3"
					     " AND type = ?1 AND value = ?2 AND suppressed = 0", e);
	char uuid[UUID_STR_LEN + 1];
	if (st == NULL)
		return ERR_DB;
	ioc_id(t, value, strlen(value), uuid);
	sqlite3_bind_int(st, 1, t);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, uuid_key(uuid));
	return get_one(s, st, cb, ctx, e);
}

int store_ioc_get_value(struct store *s, enum ioc_type t, const char *value, ioc_cb cb, void *ctx,
			struct err *e)
{
	return get_value(s, t, value, false, cb, ctx, e);
}

int store_ioc_get_value_any(struct store *s, enum ioc_type t, const char *value, ioc_cb cb, void *ctx,
			    struct err *e)
{
	return get_value(s, t, value, true, cb, ctx, e);
}

static void type_list(struct buf *sql, unsigned types)
{
	if (!types)
		return;
	buf_puts(sql, " AND type IN (");
	int first = 1;
	for (int t = 1; t < IOC_TYPE_COUNT; t++)
		if (types & (1u << t)) {
			buf_printf(sql, "%s%d", first ? "" : ",", t);
			first = 0;
		}
	buf_putc(sql, ')');
}

static int64_t fts_watermark(struct store *s)
{
	sqlite3_stmt *st = stmt_sql(s, "SELECT v FROM meta WHERE k = 'fts_rid'", NULL);
	int64_t v = 0;
	if (st && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	if (st)
		sqlite3_reset(st);
	return v;
}

int store_ioc_search(struct store *s, const char *q, unsigned types, int64_t limit, ioc_cb cb,
		     void *ctx, struct err *e)
{
	/* An FTS5 phrase: the trigram tokenizer turns it into a substring match. */
	struct buf phrase = BUF_INIT, like = BUF_INIT, sql = BUF_INIT;
	buf_putc(&phrase, '"');
	for (const char *p = q; *p; p++) {
		if (*p == '"')
			buf_putc(&phrase, '"');
		buf_putc(&phrase, *p);
	}
	buf_putc(&phrase, '"');
	/* The same as a LIKE pattern, for the tail the index has not reached. */
	buf_putc(&like, '%');
	for (const char *p = q; *p; p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			buf_putc(&like, '\\');
		buf_putc(&like, *p);
	}
	buf_putc(&like, '%');
	int64_t mark = fts_watermark(s);
	/* Newest first: the unindexed tail (rid > mark), then the index. */
	buf_puts(&sql, "SELECT " IOC_COLS " FROM (SELECT * FROM iocs WHERE rid > ?3 AND suppressed = 0");
	type_list(&sql, types);
	buf_puts(&sql, " ORDER BY rid DESC LIMIT ?4) WHERE value LIKE ?5 ESCAPE '\\'"
		       " UNION ALL SELECT " IOC_COLS " FROM iocs WHERE rid <= ?3 AND suppressed = 0 AND rid IN"
		       " (SELECT rowid FROM ioc_fts WHERE ioc_fts MATCH ?1)");
	type_list(&sql, types);
	buf_puts(&sql, " ORDER BY rid DESC LIMIT ?2");
	int rc = ERR_DB;
	sqlite3_stmt *st = stmt_sql(s, sql.data, e);
	if (st) {
		sqlite3_bind_text(st, 1, phrase.data, (int)phrase.len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, limit);
		sqlite3_bind_int64(st, 3, mark);
		sqlite3_bind_int64(st, 4, STORE_FTS_TAIL_MAX);
		sqlite3_bind_text(st, 5, like.data, (int)like.len, SQLITE_STATIC);
		rc = walk(s, st, cb, ctx, e);
	}
	buf_cleanup(&sql);
	buf_cleanup(&phrase);
	buf_cleanup(&like);
	return rc;
}

int64_t store_fts_pending(struct store *s)
{
	/* Records are never deleted, so rids are dense: the gap is the backlog, found in
	 * O(log n) rather than by counting (health checks call this often). */
	int64_t mark = fts_watermark(s), top = 0;
	sqlite3_stmt *st = stmt_sql(s, "SELECT coalesce(max(rid), 0) FROM iocs", NULL);
	if (st == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		top = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return top > mark ? top - mark : 0;
}

int store_fts_catch_up(struct store *s, int64_t max, int64_t *indexed, struct err *e)
{
	*indexed = 0;
	int rc = tx_begin(s, e);
	if (rc)
		return rc;
	int64_t mark = fts_watermark(s), top = mark;
	sqlite3_stmt *st = stmt_sql(s, "SELECT max(rid), count(*) FROM (SELECT rid FROM iocs WHERE rid > ?1"
				       " ORDER BY rid LIMIT ?2)", e);
	if (st == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, mark);
	sqlite3_bind_int64(st, 2, max);
	if (sqlite3_step(st) == SQLITE_ROW) {
		top = sqlite3_column_int64(st, 0);
		*indexed = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (*indexed == 0) {
		tx_rollback(s);
		return 0;
	}
	st = stmt_sql(s, "INSERT INTO ioc_fts(rowid, value) SELECT rid, value FROM iocs"
			 " WHERE rid > ?1 AND rid <= ?2", e);
	if (st == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, mark);
	sqlite3_bind_int64(st, 2, top);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(s, e, "indexing values");
	sqlite3_reset(st);
	if (rc)
		goto fail;
	st = stmt_sql(s, "UPDATE meta SET v = ?1 WHERE k = 'fts_rid'", e);
	if (st == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, top);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(s, e, "saving the index mark");
	sqlite3_reset(st);
	if (rc)
		goto fail;
	/* No clock tick: indexing changes what search can find, not any record. */
	rc = tx_commit_plain(s, e);
	if (rc)
		*indexed = 0;
	return rc;
fail:
	tx_rollback(s);
	*indexed = 0;
	return rc ? rc : ERR_DB;
}

int store_ioc_related(struct store *s, const struct ioc_record *r, int64_t limit, ioc_cb cb,
		      void *ctx, struct err *e)
{
	if (r->reference_url == NULL || *r->reference_url == '\0')
		return 0;
	sqlite3_stmt *st = stmt_sql(s, "SELECT " IOC_COLS " FROM iocs WHERE reference_url = ?1"
				       " AND rid <> ?2 AND suppressed = 0 ORDER BY rid DESC LIMIT ?3", e);
	if (st == NULL)
		return ERR_DB;
	sqlite3_bind_text(st, 1, r->reference_url, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, r->rid);
	sqlite3_bind_int64(st, 3, limit);
	return walk(s, st, cb, ctx, e);
}

int store_objects_since(struct store *s, int64_t after, int64_t limit, object_cb cb, void *ctx,
			struct err *e)
{
	sqlite3_stmt *st = stmt_sql(s, "SELECT stix_id, date_added, json FROM objects"
				       " WHERE date_added > ?1 ORDER BY date_added LIMIT ?2", e);
	if (st == NULL)
		return ERR_DB;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, limit);
	int rc, crc = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		crc = cb(ctx, col_text(st, 0), sqlite3_column_int64(st, 1), col_text(st, 2),
			 (size_t)sqlite3_column_bytes(st, 2));
		if (crc)
			break;
	}
	int bad = rc != SQLITE_ROW && rc != SQLITE_DONE;
	sqlite3_reset(st);
	return bad ? db_fail(s, e, "reading objects") : crc;
}

int store_ioc_total(struct store *s, int64_t *n, struct err *e)
{
	sqlite3_stmt *st = stmt_sql(s, "SELECT count(*) FROM iocs", e);
	if (st == NULL)
		return ERR_DB;
	int rc = 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	else
		rc = db_fail(s, e, "counting");
	sqlite3_reset(st);
	return rc;
}

/* One stored version of a foreign object, for recomputing its flags. */
struct fversion {
	int64_t seq, modified;
	char spec[8];
	int last, first, top;
};

/*
 * Recomputes the last/first/top flags of every version of foreign object stix_id: `top`
 * marks the versions of its newest spec_version, `last` and `first` the newest and oldest
 * of those. Called after a version was added or deleted.
 */
int store_foreign_refresh(struct store *s, const char *stix_id, struct err *e)
{
	sqlite3_stmt *st = stmt_sql(s, "SELECT seq, modified, spec_version, last, first, top FROM objects"
				       " INDEXED BY objects_foreign WHERE stix_id = ?1 AND ioc_rid IS NULL", e);
	if (st == NULL)
		return ERR_DB;
	sqlite3_bind_text(st, 1, stix_id, -1, SQLITE_TRANSIENT);
	struct fversion *v = NULL;
	size_t n = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[n].seq = sqlite3_column_int64(st, 0);
		v[n].modified = sqlite3_column_int64(st, 1);
		snprintf(v[n].spec, sizeof(v[n].spec), "%s", col_text(st, 2));
		v[n].last = sqlite3_column_int(st, 3);
		v[n].first = sqlite3_column_int(st, 4);
		v[n].top = sqlite3_column_int(st, 5);
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return db_fail(s, e, "reading an object's versions");
	}
	const char *top = "";
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].spec, top) > 0)
			top = v[i].spec;
	int64_t newest = INT64_MIN, oldest = INT64_MAX;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].spec, top))
			continue;
		newest = v[i].modified > newest ? v[i].modified : newest;
		oldest = v[i].modified < oldest ? v[i].modified : oldest;
	}
	rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		int t = !strcmp(v[i].spec, top);
		int l = t && v[i].modified == newest, f = t && v[i].modified == oldest;
		if (l == v[i].last && f == v[i].first && t == v[i].top)
			continue;
		st = stmt_sql(s, "UPDATE objects SET last = ?2, first = ?3, top = ?4 WHERE seq = ?1", e);
		if (st == NULL) {
			rc = ERR_DB;
			break;
		}
		sqlite3_bind_int64(st, 1, v[i].seq);
		sqlite3_bind_int(st, 2, l);
		sqlite3_bind_int(st, 3, f);
		sqlite3_bind_int(st, 4, t);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_fail(s, e, "flagging an object version");
		sqlite3_reset(st);
	}
	free(v);
	return rc;
}

int store_objects_put(struct store *s, struct object_input *in, size_t n, int64_t *added,
		      int64_t *unchanged, struct err *e)
{
	int rc = tx_begin(s, e);
	int64_t a = 0, u = 0;
	if (rc)
		return rc;
	/* The versions already held: usually none, so the new one is the only one. */
	sqlite3_stmt *have = stmt_sql(s, "SELECT modified FROM objects INDEXED BY objects_foreign"
					 " WHERE stix_id = ?1 AND ioc_rid IS NULL", e);
	for (size_t i = 0; have && i < n && rc == 0; i++) {
		sqlite3_reset(have);
		sqlite3_bind_text(have, 1, in[i].stix_id, -1, SQLITE_STATIC);
		int step, held = 0;
		bool same = false;
		while ((step = sqlite3_step(have)) == SQLITE_ROW) {
			held++;
			/* Objects without modified or created (SCOs) have one version: their first. */
			if (!in[i].versioned || sqlite3_column_int64(have, 0) == in[i].modified)
				same = true;
		}
		sqlite3_reset(have);
		if (step != SQLITE_DONE) {
			rc = db_fail(s, e, "looking an object up");
			break;
		}
		in[i].existed = same;
		if (same) {
			u++;
			continue;
		}
		sqlite3_stmt *st = stmt(s, ST_OBJ_INSERT);
		if (st == NULL) {
			rc = db_fail(s, e, "preparing the object insert");
			break;
		}
		int64_t date_added = clock_next(s);
		const char *spec = in[i].spec_version ? in[i].spec_version : "2.1";
		bind_text(st, 1, in[i].stix_id);
		bind_text(st, 2, in[i].type);
		sqlite3_bind_int64(st, 3, in[i].versioned ? in[i].modified : date_added);
		sqlite3_bind_int64(st, 4, date_added);
		sqlite3_bind_int(st, 5, in[i].revoked);
		sqlite3_bind_null(st, 6);
		sqlite3_bind_text(st, 7, in[i].json, (int)in[i].json_len, SQLITE_STATIC);
		bind_text(st, 8, spec);
		sqlite3_bind_int(st, 9, store_object_class(in[i].type));
		sqlite3_bind_int(st, 10, held == 0);
		sqlite3_bind_int(st, 11, held == 0);
		sqlite3_bind_int(st, 12, held == 0);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_fail(s, e, "storing an object");
		sqlite3_reset(st);
		if (rc == 0 && held)
			rc = store_foreign_refresh(s, in[i].stix_id, e);
		a++;
	}
	if (have == NULL)
		rc = ERR_DB;
	if (rc) {
		tx_rollback(s);
		return rc;
	}
	rc = tx_commit(s, e);
	if (rc == 0) {
		*added += a;
		*unchanged += u;
	}
	return rc;
}
