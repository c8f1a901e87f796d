/*
 * test_store.c — src/store through store.h only: opening and migrating, the
 * merge rules of DESIGN.md section 2, the commit-ordered clock of section 4
 * (unique, strictly increasing updated_at and date_added), object versions,
 * the list filters and cursors, counting, lookups and search, revocation,
 * API keys and their usage, statistics and the data version.
 *
 * Two databases in a mkdtemp() directory: "main.db" for the write-path tests,
 * "filters.db" with a small, hand-made data set whose expected answers are
 * spelt out below. Values are realistic and canonicalised with ioc_canon().
 */
#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/crypto.h"
#include "base/timeutil.h"
#include "ioc/ioc.h"
#include "store/store.h"
#include "check.h"

#define DAY USEC_PER_DAY

static char dir[64];
static struct arena pool;	/* canonical values and copies of records */
static int64_t NOW;

/* ---- helpers: inputs ---- */

static const char *canon(enum ioc_type want, const char *raw)
{
	char out[IOC_VALUE_MAX + 1];
	enum ioc_type t;
	size_t n;
	struct err e;
	if (ioc_canon(raw, strlen(raw), want, IOC_REFANG, &t, out, sizeof(out), &n, &e) != 0 ||
	    t != want) {
		fprintf(stderr, "test data: cannot canonicalise %s: %s\n", raw, e.msg);
		exit(2);
	}
	return arena_strndup(&pool, out, n);
}

static void input(struct ioc_input *in, enum ioc_type t, const char *raw, const char *feed,
		  const char *category, int score, int64_t first, int64_t last)
{
	memset(in, 0, sizeof(*in));
	in->type = t;
	in->value = canon(t, raw);
	in->feed = feed;
	in->category = category;
	in->origin = "feed";
	in->score = score;
	in->first_seen = first;
	in->last_seen = last;
}

static void tag(struct ioc_input *in, const char *t)
{
	in->tags[in->ntags++] = t;
}

/* ---- helpers: records copied out of callbacks ---- */

struct rec {
	int64_t rid;
	char id[UUID_STR_LEN + 1];
	enum ioc_type type;
	const char *value;
	int score;
	int64_t first_seen, last_seen, valid_until, created_at, updated_at;
	bool revoked;
	const char *feed, *category, *reference_url, *origin, *context, *tlp;
	const char *tags, *techniques, *industries, *sources;
	int64_t nsources, occurrences, sightings;
};

struct recs {
	struct rec *v;
	size_t n, cap;
};

static int collect(void *ctx, const struct ioc_record *r)
{
	struct recs *rs = ctx;
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 16;
		rs->v = realloc(rs->v, rs->cap * sizeof(rs->v[0]));
	}
	struct rec *c = &rs->v[rs->n++];
	c->rid = r->rid;
	memcpy(c->id, r->id, sizeof(c->id));
	c->type = r->type;
	c->value = arena_strdup(&pool, r->value);
	c->score = r->score;
	c->first_seen = r->first_seen;
	c->last_seen = r->last_seen;
	c->valid_until = r->valid_until;
	c->created_at = r->created_at;
	c->updated_at = r->updated_at;
	c->revoked = r->revoked;
	c->feed = arena_strdup(&pool, r->feed);
	c->category = arena_strdup(&pool, r->category);
	c->reference_url = arena_strdup(&pool, r->reference_url);
	c->origin = arena_strdup(&pool, r->origin);
	c->context = arena_strdup(&pool, r->context);
	c->tlp = arena_strdup(&pool, r->tlp);
	c->tags = arena_strdup(&pool, r->tags);
	c->techniques = arena_strdup(&pool, r->techniques);
	c->industries = arena_strdup(&pool, r->industries);
	c->sources = arena_strdup(&pool, r->sources);
	c->nsources = r->nsources;
	c->occurrences = r->occurrences;
	c->sightings = r->sightings;
	return 0;
}

static void recs_free(struct recs *rs)
{
	free(rs->v);
	memset(rs, 0, sizeof(*rs));
}

/* The stored record of (t, value) into *out; 0 or the store's error. */
static int get_val(struct store *s, enum ioc_type t, const char *value, struct rec *out)
{
	struct recs rs = { 0 };
	struct err e;
	int rc = store_ioc_get_value(s, t, value, collect, &rs, &e);
	if (rc == 0 && rs.n == 1)
		*out = rs.v[0];
	else if (rc == 0)
		rc = ERR_INTERNAL;
	recs_free(&rs);
	return rc;
}

static struct ioc_filter filt(void)
{
	struct ioc_filter f;
	memset(&f, 0, sizeof(f));
	f.min_score = -1;
	f.now = time_now_us();
	f.limit = 1000000;
	return f;
}

static int list(struct store *s, const struct ioc_filter *f, struct recs *out)
{
	struct err e;
	int rc = store_ioc_list(s, f, collect, out, &e);
	if (rc)
		fprintf(stderr, "store_ioc_list: %s\n", e.msg);
	return rc;
}

/* 1 when the JSON array text holds exactly the strings of want (any order). */
static int json_set_is(const char *json, const char *const *want, size_t n)
{
	json_t *a = json_loads(json, 0, NULL);
	int ok = json_is_array(a) && json_array_size(a) == n;
	for (size_t i = 0; ok && i < n; i++) {
		int found = 0;
		size_t k;
		json_t *x;
		json_array_foreach(a, k, x) found += json_is_string(x) && !strcmp(json_string_value(x), want[i]);
		ok = found == 1;
	}
	if (!ok)
		fprintf(stderr, "json set mismatch: %s\n", json);
	json_decref(a);
	return ok;
}

#define SET_IS(json, ...)                                                                    \
	json_set_is(json, (const char *const[]){ __VA_ARGS__ },                              \
		    sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *))

/* ---- helpers: object versions ---- */

struct obj {
	const char *stix_id;
	int64_t date_added;
	const char *json;
};

struct objs {
	struct obj *v;
	size_t n, cap;
};

static int collect_obj(void *ctx, const char *stix_id, int64_t date_added, const char *json,
		       size_t len)
{
	struct objs *os = ctx;
	if (os->n == os->cap) {
		os->cap = os->cap ? os->cap * 2 : 64;
		os->v = realloc(os->v, os->cap * sizeof(os->v[0]));
	}
	struct obj *o = &os->v[os->n++];
	o->stix_id = arena_strdup(&pool, stix_id);
	o->date_added = date_added;
	o->json = arena_strndup(&pool, json, len);
	return 0;
}

static void objs_free(struct objs *os)
{
	free(os->v);
	memset(os, 0, sizeof(*os));
}

static int64_t json_time_of(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	int64_t us = -1;
	if (s == NULL || time_parse_rfc3339(s, strlen(s), &us, NULL) != 0)
		return -1;
	return us;
}

/* ---- the write path: main.db ---- */

static int64_t writes;	/* object versions written to main.db so far */

static int put(struct store *s, struct ioc_input *in, size_t n, struct put_stats *st)
{
	struct err e;
	err_clear(&e);
	int rc = store_ioc_put_batch(s, in, n, st, &e);
	if (rc)
		fprintf(stderr, "store_ioc_put_batch: %s\n", e.msg);
	else
		writes += (int64_t)n;
	return rc;
}

static const char *REF_AA24 = "https://www.cisa.gov/news-events/cybersecurity-advisories/aa24-109a";
#define SHA256_RAW "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"

static void test_new_records(struct store *s)
{
	struct ioc_input in[7];
	struct put_stats st = { 0, 0 };
	int64_t t0 = time_now_us();

	input(&in[0], IOC_IPV4, "203.0.113.7", "cisa-kev", "government", 80, NOW - 10 * DAY,
	      NOW - 2 * DAY);
	tag(&in[0], "c2");
	tag(&in[0], "botnet");
	in[0].techniques[in[0].ntechniques++] = "T1071";
	in[0].industries[in[0].nindustries++] = "energy";
	in[0].reference_url = REF_AA24;
	in[0].context = "C2 server of campaign X";
	in[0].tlp = "green";
	input(&in[1], IOC_DOMAIN, "Evil-C2.Example.NET.", "cisa-kev", "government", -1, 0, 0);
	input(&in[2], IOC_URL, "hxxps://login-update[.]example[.]com/owa/auth", "cisa-kev",
	      "government", 65, NOW - DAY, NOW - DAY);
	input(&in[3], IOC_SHA256, SHA256_RAW, "cisa-kev", "government", 70, NOW - 3 * DAY, NOW - DAY);
	input(&in[4], IOC_CVE, "cve-2024-3400", "cisa-kev", "government", 90, NOW - 30 * DAY,
	      NOW - 20 * DAY);
	input(&in[5], IOC_MITRE, "t1059.001", "cisa-kev", "government", 40, NOW - 30 * DAY,
	      NOW - 20 * DAY);
	input(&in[6], IOC_EMAIL, "Billing@Example.ORG", "cisa-kev", "government", 30, NOW - 5 * DAY,
	      NOW - 4 * DAY);
	CHECK_STR(in[1].value, "evil-c2.example.net");
	CHECK_STR(in[2].value, "https://login-update.example.com/owa/auth");
	CHECK_STR(in[4].value, "CVE-2024-3400");

	CHECK_INT(put(s, in, 7, &st), 0);
	int64_t t1 = time_now_us();
	CHECK_INT(st.added, 7);
	CHECK_INT(st.updated, 0);
	int64_t total = -1;
	struct err e;
	CHECK_INT(store_ioc_total(s, &total, &e), 0);
	CHECK_INT(total, 7);

	static const int64_t life[] = { [IOC_IPV4] = 30, [IOC_DOMAIN] = 90, [IOC_URL] = 60,
					[IOC_SHA256] = 365, [IOC_CVE] = 0, [IOC_MITRE] = 0,
					[IOC_EMAIL] = 180 };
	for (int i = 0; i < 7; i++) {
		struct rec r;
		int rc = get_val(s, in[i].type, in[i].value, &r);
		CHECK_INT(rc, 0);
		if (rc)
			continue;
		char id[UUID_STR_LEN + 1];
		ioc_id(in[i].type, in[i].value, strlen(in[i].value), id);
		CHECK_STR(r.id, id);
		CHECK_INT(r.type, in[i].type);
		CHECK_STR(r.value, in[i].value);
		CHECK_INT(r.score, in[i].score >= 0 ? in[i].score : 50);
		if (in[i].first_seen) {
			CHECK_INT(r.first_seen, in[i].first_seen);
			CHECK_INT(r.last_seen, in[i].last_seen);
		} else {	/* 0 = now */
			CHECK(r.first_seen >= t0 && r.first_seen <= t1);
			CHECK(r.last_seen >= t0 && r.last_seen <= t1);
		}
		CHECK_INT(r.valid_until, life[in[i].type] ? r.last_seen + life[in[i].type] * DAY : 0);
		CHECK(r.created_at >= t0 && r.created_at <= t1 + 1000);
		CHECK_INT(r.updated_at, r.created_at);
		CHECK(!r.revoked);
		CHECK_INT(r.nsources, 1);
		CHECK_INT(r.occurrences, 1);
		CHECK_INT(r.sightings, 0);
		CHECK_STR(r.feed, "cisa-kev");
		CHECK_STR(r.category, "government");
		CHECK_STR(r.origin, "feed");
		CHECK_STR(r.tlp, i == 0 ? "green" : "clear");
		json_t *src = json_loads(r.sources, 0, NULL);
		CHECK(json_is_array(src) && json_array_size(src) == 1);
		CHECK_STR(json_string_value(json_object_get(json_array_get(src, 0), "feed_name")),
			  "cisa-kev");
		json_decref(src);
	}
	struct rec r;
	CHECK_INT(get_val(s, IOC_IPV4, "203.0.113.7", &r), 0);
	CHECK(SET_IS(r.tags, "c2", "botnet"));
	CHECK(SET_IS(r.techniques, "T1071"));
	CHECK(SET_IS(r.industries, "energy"));
	CHECK_STR(r.reference_url, REF_AA24);
	CHECK_STR(r.context, "C2 server of campaign X");
	CHECK_INT(get_val(s, IOC_DOMAIN, "evil-c2.example.net", &r), 0);
	CHECK_STR(r.tags, "[]");
	CHECK_STR(r.reference_url, "");
	/* the same value under another type is another record */
	CHECK_INT(get_val(s, IOC_URL, "evil-c2.example.net", &r), ERR_NOT_FOUND);
}

static void test_merge(struct store *s)
{
	struct ioc_input in[2];
	struct put_stats st = { 0, 0 };
	struct rec before, r;
	CHECK_INT(get_val(s, IOC_IPV4, "203.0.113.7", &before), 0);

	/* A second feed: earlier first_seen, later last_seen, lower score, overlapping tags. */
	input(&in[0], IOC_IPV4, "203.0.113.7", "abuse-ch", "community", 60, NOW - 20 * DAY, NOW - DAY);
	tag(&in[0], "c2");
	tag(&in[0], "cobalt-strike");
	in[0].techniques[in[0].ntechniques++] = "T1071";
	in[0].techniques[in[0].ntechniques++] = "T1105";
	in[0].industries[in[0].nindustries++] = "healthcare";
	in[0].context = "seen scanning";
	CHECK_INT(put(s, in, 1, &st), 0);
	CHECK_INT(st.added, 0);
	CHECK_INT(st.updated, 1);
	CHECK_INT(get_val(s, IOC_IPV4, "203.0.113.7", &r), 0);
	CHECK_STR(r.id, before.id);
	CHECK_INT(r.rid, before.rid);
	CHECK_INT(r.nsources, 2);
	CHECK_INT(r.occurrences, 2);
	CHECK(SET_IS(r.tags, "c2", "botnet", "cobalt-strike"));
	CHECK(SET_IS(r.techniques, "T1071", "T1105"));
	CHECK(SET_IS(r.industries, "energy", "healthcare"));
	CHECK_INT(r.first_seen, NOW - 20 * DAY);	/* min */
	CHECK_INT(r.last_seen, NOW - DAY);		/* max */
	CHECK_INT(r.score, 85);				/* best 80 + 5 */
	CHECK_INT(r.valid_until, NOW - DAY + 30 * DAY);
	CHECK_INT(r.created_at, before.created_at);
	CHECK(r.updated_at > before.updated_at);
	CHECK_STR(r.feed, "cisa-kev");			/* the first reporter stays */
	CHECK_STR(r.category, "government");
	CHECK_STR(r.reference_url, REF_AA24);
	CHECK_STR(r.context, "C2 server of campaign X");
	CHECK_STR(r.tlp, "green");
	json_t *src = json_loads(r.sources, 0, NULL);
	CHECK(json_is_array(src) && json_array_size(src) == 2);
	int seen_feeds = 0;
	size_t k;
	json_t *x;
	json_array_foreach(src, k, x) {
		const char *fn = json_string_value(json_object_get(x, "feed_name"));
		if (fn && !strcmp(fn, "abuse-ch")) {
			seen_feeds |= 1;
			CHECK_INT(json_integer_value(json_object_get(x, "score")), 60);
		} else if (fn && !strcmp(fn, "cisa-kev")) {
			seen_feeds |= 2;
			CHECK_INT(json_integer_value(json_object_get(x, "score")), 80);
		}
	}
	CHECK_INT(seen_feeds, 3);
	json_decref(src);
	struct rec prev = r;

	/* A third feed with everything inside the known window and an earlier explicit
	 * valid_until: dates and expiry stay; 95 + 2 × 5 = 105 is capped at 100. */
	input(&in[0], IOC_IPV4, "203.0.113.7", "vendor-x", "commercial", 95, NOW - 5 * DAY, NOW - 3 * DAY);
	in[0].valid_until = NOW + 5 * DAY;
	CHECK_INT(put(s, in, 1, &st), 0);
	CHECK_INT(st.updated, 2);
	CHECK_INT(get_val(s, IOC_IPV4, "203.0.113.7", &r), 0);
	CHECK_INT(r.nsources, 3);
	CHECK_INT(r.occurrences, 3);
	CHECK_INT(r.score, 100);
	CHECK_INT(r.first_seen, NOW - 20 * DAY);
	CHECK_INT(r.last_seen, NOW - DAY);
	CHECK_INT(r.valid_until, prev.valid_until);
	CHECK(r.updated_at > prev.updated_at);
	CHECK(SET_IS(r.tags, "c2", "botnet", "cobalt-strike"));

	/* The same feed again: no new source, one more occurrence. */
	input(&in[0], IOC_IPV4, "203.0.113.7", "abuse-ch", "community", 60, NOW - DAY, NOW - DAY);
	CHECK_INT(put(s, in, 1, &st), 0);
	CHECK_INT(get_val(s, IOC_IPV4, "203.0.113.7", &r), 0);
	CHECK_INT(r.nsources, 3);
	CHECK_INT(r.occurrences, 4);
	src = json_loads(r.sources, 0, NULL);
	CHECK_INT(json_array_size(src), 3);
	json_decref(src);

	/* Score recomputed from the sources: 50 (default) → 50 + 5 → 70 + 10. */
	input(&in[0], IOC_DOMAIN, "evil-c2.example.net", "abuse-ch", "community", 30, 0, 0);
	CHECK_INT(put(s, in, 1, &st), 0);
	CHECK_INT(get_val(s, IOC_DOMAIN, "evil-c2.example.net", &r), 0);
	CHECK_INT(r.score, 55);
	CHECK_INT(r.nsources, 2);
	prev = r;
	/* A later explicit valid_until wins (max). */
	input(&in[0], IOC_DOMAIN, "evil-c2.example.net", "vendor-x", "commercial", 70, 0, 0);
	in[0].valid_until = NOW + 400 * DAY;
	CHECK_INT(put(s, in, 1, &st), 0);
	CHECK_INT(get_val(s, IOC_DOMAIN, "evil-c2.example.net", &r), 0);
	CHECK_INT(r.score, 80);
	CHECK_INT(r.nsources, 3);
	CHECK_INT(r.valid_until, NOW + 400 * DAY);
	CHECK(r.last_seen >= prev.last_seen);

	/* Lifetime 0 types never expire, whatever later reports say. */
	input(&in[0], IOC_CVE, "CVE-2024-3400", "abuse-ch", "community", 60, 0, 0);
	input(&in[1], IOC_MITRE, "T1059.001", "abuse-ch", "community", 60, 0, 0);
	CHECK_INT(put(s, in, 2, &st), 0);
	CHECK_INT(get_val(s, IOC_CVE, "CVE-2024-3400", &r), 0);
	CHECK_INT(r.valid_until, 0);
	CHECK_INT(r.nsources, 2);
	CHECK_INT(r.score, 95);
	CHECK_INT(get_val(s, IOC_MITRE, "T1059.001", &r), 0);
	CHECK_INT(r.valid_until, 0);

	/* A merge never makes a duplicate. */
	int64_t total = 0;
	struct err e;
	CHECK_INT(store_ioc_total(s, &total, &e), 0);
	CHECK_INT(total, 7);
}

static int cmp_rid(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	return x->rid < y->rid ? -1 : x->rid > y->rid;
}

static int64_t max_updated(struct store *s)
{
	struct ioc_filter f = filt();
	f.include_expired = true;
	struct recs rs = { 0 };
	int64_t m = 0;
	if (list(s, &f, &rs) == 0)
		for (size_t i = 0; i < rs.n; i++)
			if (rs.v[i].updated_at > m)
				m = rs.v[i].updated_at;
	recs_free(&rs);
	return m;
}

static void test_clock(struct store *s)
{
	enum { N = 1000 };
	static struct ioc_input in[N];
	char raw[32];
	int64_t before = max_updated(s);
	for (int i = 0; i < N; i++) {
		snprintf(raw, sizeof(raw), "10.20.%d.%d", i / 250, i % 250 + 1);
		input(&in[i], IOC_IPV4, raw, "bulk-feed", "community", 40, NOW - DAY, NOW - DAY);
	}
	struct put_stats st = { 0, 0 };
	CHECK_INT(put(s, in, N, &st), 0);
	CHECK_INT(st.added, N);
	CHECK_INT(st.updated, 0);

	struct ioc_filter f = filt();
	f.source = "bulk-feed";
	f.include_expired = true;
	struct recs rs = { 0 };
	CHECK_INT(list(s, &f, &rs), 0);
	CHECK_INT(rs.n, N);
	qsort(rs.v, rs.n, sizeof(rs.v[0]), cmp_rid);
	int not_increasing = 0, not_created = 0, not_after = 0;
	for (size_t i = 0; i < rs.n; i++) {
		if (i > 0 && rs.v[i].updated_at <= rs.v[i - 1].updated_at)
			not_increasing++;
		if (rs.v[i].created_at != rs.v[i].updated_at)
			not_created++;
		if (rs.v[i].updated_at <= before)
			not_after++;
	}
	CHECK_INT(not_increasing, 0);	/* strictly increasing in write order, so unique */
	CHECK_INT(not_after, 0);	/* and after everything committed earlier */
	CHECK_INT(not_created, 0);
	int64_t last = rs.n ? rs.v[rs.n - 1].updated_at : 0;
	recs_free(&rs);

	/* The next batch, again all later; one value twice in a batch merges. */
	struct ioc_input dup[3];
	input(&dup[0], IOC_IPV4, "198.51.100.200", "dup-feed", "community", 20, NOW - DAY, NOW - DAY);
	input(&dup[1], IOC_IPV4, "198.51.100.200", "dup-feed", "community", 20, NOW - DAY, NOW);
	input(&dup[2], IOC_DOMAIN, "cdn-update.example.net", "dup-feed", "community", 20, 0, 0);
	st.added = st.updated = 0;
	CHECK_INT(put(s, dup, 3, &st), 0);
	CHECK_INT(st.added, 2);
	CHECK_INT(st.updated, 1);
	struct rec r1, r2;
	CHECK_INT(get_val(s, IOC_IPV4, "198.51.100.200", &r1), 0);
	CHECK_INT(r1.occurrences, 2);
	CHECK_INT(r1.nsources, 1);
	CHECK_INT(r1.last_seen, NOW);
	CHECK(r1.updated_at > last);
	CHECK(r1.created_at > last);
	CHECK(r1.updated_at > r1.created_at);
	CHECK_INT(get_val(s, IOC_DOMAIN, "cdn-update.example.net", &r2), 0);
	CHECK(r2.updated_at > r1.updated_at);
}

static void test_objects(struct store *s)
{
	struct objs os = { 0 };
	struct err e;
	CHECK_INT(store_objects_since(s, 0, 1000000, collect_obj, &os, &e), 0);
	CHECK_INT(os.n, writes);	/* one version per write */
	int order = 0, badjson = 0, badmod = 0;
	for (size_t i = 0; i < os.n; i++) {
		if (i > 0 && os.v[i].date_added <= os.v[i - 1].date_added)
			order++;
		json_t *j = json_loads(os.v[i].json, 0, NULL);
		const char *type = json_string_value(json_object_get(j, "type"));
		const char *id = json_string_value(json_object_get(j, "id"));
		if (!json_is_object(j) || !type || !id || strcmp(id, os.v[i].stix_id) != 0 ||
		    strncmp(id, type, strlen(type)) != 0 ||
		    !json_is_string(json_object_get(j, "spec_version")))
			badjson++;
		if (json_time_of(j, "modified") <= 0)
			badmod++;
		json_decref(j);
	}
	CHECK_INT(order, 0);
	CHECK_INT(badjson, 0);
	CHECK_INT(badmod, 0);

	/* Versions of one object: modified strictly increasing in date_added order. */
	struct rec r;
	CHECK_INT(get_val(s, IOC_IPV4, "203.0.113.7", &r), 0);
	char sid[64];
	snprintf(sid, sizeof(sid), "indicator--%s", r.id);
	int versions = 0, mod_order = 0;
	int64_t last_mod = 0;
	for (size_t i = 0; i < os.n; i++) {
		if (strcmp(os.v[i].stix_id, sid) != 0)
			continue;
		json_t *j = json_loads(os.v[i].json, 0, NULL);
		int64_t m = json_time_of(j, "modified");
		if (m <= last_mod)
			mod_order++;
		last_mod = m;
		versions++;
		json_decref(j);
	}
	CHECK_INT(versions, 4);		/* one new record, three merges */
	CHECK_INT(mod_order, 0);

	/* Every stix_id's versions are ordered the same way. */
	int bad_versions = 0;
	for (size_t i = 0; i < os.n; i++) {
		int64_t mi = -1;
		for (size_t k = i + 1; k < os.n; k++) {
			if (strcmp(os.v[k].stix_id, os.v[i].stix_id) != 0)
				continue;
			if (mi < 0) {
				json_t *j = json_loads(os.v[i].json, 0, NULL);
				mi = json_time_of(j, "modified");
				json_decref(j);
			}
			json_t *j = json_loads(os.v[k].json, 0, NULL);
			if (json_time_of(j, "modified") <= mi)
				bad_versions++;
			json_decref(j);
			break;
		}
	}
	CHECK_INT(bad_versions, 0);

	/* after and limit */
	if (os.n > 20) {
		struct objs part = { 0 };
		CHECK_INT(store_objects_since(s, os.v[9].date_added, 5, collect_obj, &part, &e), 0);
		CHECK_INT(part.n, 5);
		for (size_t i = 0; i < part.n && i < 5; i++) {
			CHECK_INT(part.v[i].date_added, os.v[10 + i].date_added);
			CHECK_STR(part.v[i].stix_id, os.v[10 + i].stix_id);
		}
		objs_free(&part);
		CHECK_INT(store_objects_since(s, os.v[os.n - 1].date_added, 100, collect_obj, &part, &e), 0);
		CHECK_INT(part.n, 0);
		objs_free(&part);
	}

	/* A merge adds exactly one version, with a greater modified. */
	int64_t last_added = os.n ? os.v[os.n - 1].date_added : 0;
	struct ioc_input in;
	input(&in, IOC_SHA256, SHA256_RAW, "vendor-x", "commercial", 75, 0, 0);
	CHECK_INT(put(s, &in, 1, &(struct put_stats){ 0, 0 }), 0);
	struct objs more = { 0 };
	CHECK_INT(store_objects_since(s, last_added, 100, collect_obj, &more, &e), 0);
	CHECK_INT(more.n, 1);
	if (more.n == 1) {
		CHECK(more.v[0].date_added > last_added);
		int64_t prev_mod = -1;
		for (size_t i = 0; i < os.n; i++)
			if (!strcmp(os.v[i].stix_id, more.v[0].stix_id)) {
				json_t *j = json_loads(os.v[i].json, 0, NULL);
				prev_mod = json_time_of(j, "modified");
				json_decref(j);
			}
		json_t *j = json_loads(more.v[0].json, 0, NULL);
		CHECK(prev_mod > 0);
		CHECK(json_time_of(j, "modified") > prev_mod);
		CHECK_STR(json_string_value(json_object_get(j, "type")), "indicator");
		json_decref(j);
	}
	objs_free(&more);
	objs_free(&os);
}

static void test_revoke(struct store *s)
{
	struct rec before, r;
	struct err e;
	CHECK_INT(get_val(s, IOC_DOMAIN, "evil-c2.example.net", &before), 0);
	struct objs os = { 0 };
	CHECK_INT(store_objects_since(s, 0, 1000000, collect_obj, &os, &e), 0);
	int64_t last_added = os.n ? os.v[os.n - 1].date_added : 0;
	int64_t prev_mod = -1;
	char sid[64];
	snprintf(sid, sizeof(sid), "indicator--%s", before.id);
	for (size_t i = 0; i < os.n; i++)
		if (!strcmp(os.v[i].stix_id, sid)) {
			json_t *j = json_loads(os.v[i].json, 0, NULL);
			prev_mod = json_time_of(j, "modified");
			CHECK(json_object_get(j, "revoked") == NULL);
			json_decref(j);
		}
	objs_free(&os);
	CHECK(prev_mod > 0);

	CHECK_INT(store_ioc_revoke(s, before.id, "false positive: CDN", &e), 0);
	writes++;
	CHECK_INT(get_val(s, IOC_DOMAIN, "evil-c2.example.net", &r), 0);
	CHECK(r.revoked);
	CHECK(r.updated_at > before.updated_at);
	CHECK_INT(r.score, before.score);
	CHECK_INT(r.nsources, before.nsources);
	CHECK_STR(r.tags, before.tags);

	CHECK_INT(store_objects_since(s, last_added, 100, collect_obj, &os, &e), 0);
	CHECK_INT(os.n, 1);
	if (os.n == 1) {
		CHECK_STR(os.v[0].stix_id, sid);
		json_t *j = json_loads(os.v[0].json, 0, NULL);
		CHECK(j != NULL);
		CHECK(json_is_true(json_object_get(j, "revoked")));
		CHECK(json_time_of(j, "modified") > prev_mod);
		CHECK_STR(json_string_value(json_object_get(j, "id")), sid);
		json_decref(j);
	}
	objs_free(&os);

	/* hidden by default, there with include_expired */
	struct ioc_filter f = filt();
	f.types = 1u << IOC_DOMAIN;
	struct recs rs = { 0 };
	CHECK_INT(list(s, &f, &rs), 0);
	int found = 0;
	for (size_t i = 0; i < rs.n; i++)
		found += !strcmp(rs.v[i].id, before.id);
	CHECK_INT(found, 0);
	recs_free(&rs);
	f.include_expired = true;
	CHECK_INT(list(s, &f, &rs), 0);
	found = 0;
	for (size_t i = 0; i < rs.n; i++)
		found += !strcmp(rs.v[i].id, before.id);
	CHECK_INT(found, 1);
	recs_free(&rs);

	/* unknown ids */
	char unknown[UUID_STR_LEN + 1];
	ioc_id(IOC_DOMAIN, "never-stored.example.com", 24, unknown);
	CHECK_INT(store_ioc_revoke(s, unknown, "x", &e), ERR_NOT_FOUND);
	CHECK_INT(e.code, ERR_NOT_FOUND);
	CHECK_INT(store_ioc_revoke(s, "not-a-uuid", "x", &e), ERR_NOT_FOUND);
	struct objs after = { 0 };
	CHECK_INT(store_objects_since(s, last_added, 100, collect_obj, &after, &e), 0);
	CHECK_INT(after.n, 1);	/* a failed revoke writes nothing */
	objs_free(&after);
}

/* ---- keys ---- */

struct keys {
	struct api_key v[16];
	size_t n;
};

static int collect_key(void *ctx, const struct api_key *k)
{
	struct keys *ks = ctx;
	if (ks->n < 16)
		ks->v[ks->n] = *k;
	ks->n++;
	return 0;
}

struct usages {
	struct key_usage_day v[8];
	size_t n;
};

static int collect_usage(void *ctx, const struct key_usage_day *u)
{
	struct usages *us = ctx;
	if (us->n < 8)
		us->v[us->n] = *u;
	us->n++;
	return 0;
}

static void test_keys(struct store *s)
{
	static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	struct api_key k1, k2, k3, got;
	char sec1[API_KEY_LEN + 1], sec2[API_KEY_LEN + 1], sec3[API_KEY_LEN + 1];
	struct err e;
	struct config cfg;
	config_defaults(&cfg);
	int64_t t0 = time_now_us();

	CHECK_INT(store_key_create(s, "ci-bot", TIER_PRO, 0, 0, &k1, sec1, &e), 0);
	CHECK_INT(strlen(sec1), API_KEY_LEN);
	CHECK_INT(API_KEY_LEN, 48);
	CHECK(strncmp(sec1, "sk_live_", 8) == 0);
	CHECK_INT(strspn(sec1 + 8, b62), 40);
	CHECK_INT(strlen(k1.prefix), 12);
	CHECK(strncmp(k1.prefix, sec1, 12) == 0);
	uint8_t h[32];
	crypto_sha256(sec1, strlen(sec1), h);
	CHECK(memcmp(h, k1.hash, 32) == 0);
	CHECK(uuid_valid(k1.id, strlen(k1.id)));
	CHECK_STR(k1.name, "ci-bot");
	CHECK_INT(k1.tier, TIER_PRO);
	CHECK_INT(k1.scopes, cfg.tier[TIER_PRO].scopes);
	CHECK(k1.created_at >= t0);
	CHECK_INT(k1.expires_at, 0);
	CHECK_INT(k1.revoked_at, 0);

	CHECK_INT(store_key_create(s, "analyst", TIER_ADMIN, SCOPE_READ_IOCS | SCOPE_WRITE_IOCS,
				   NOW + 30 * DAY, &k2, sec2, &e), 0);
	CHECK_INT(k2.scopes, SCOPE_READ_IOCS | SCOPE_WRITE_IOCS);
	CHECK_INT(store_key_create(s, "trial", TIER_FREE, 0, 0, &k3, sec3, &e), 0);
	CHECK_INT(k3.scopes, cfg.tier[TIER_FREE].scopes);
	CHECK(strcmp(sec1, sec2) != 0 && strcmp(sec2, sec3) != 0);
	CHECK(strcmp(k1.id, k2.id) != 0);
	char scratch[API_KEY_LEN + 1];
	CHECK_INT(store_key_create(s, "bad", 7, 0, 0, &got, scratch, &e), ERR_INVALID);
	CHECK_INT(store_key_create(s, "bad", -1, 0, 0, &got, scratch, &e), ERR_INVALID);

	/* by hash */
	uint8_t h2[32];
	crypto_sha256(sec2, strlen(sec2), h2);
	CHECK_INT(store_key_by_hash(s, h2, &got, &e), 0);
	CHECK_STR(got.id, k2.id);
	CHECK_STR(got.prefix, k2.prefix);
	CHECK_STR(got.name, "analyst");
	CHECK_INT(got.tier, TIER_ADMIN);
	CHECK_INT(got.scopes, SCOPE_READ_IOCS | SCOPE_WRITE_IOCS);
	CHECK_INT(got.expires_at, NOW + 30 * DAY);
	CHECK_INT(got.created_at, k2.created_at);
	CHECK(memcmp(got.hash, h2, 32) == 0);
	h2[31] ^= 1;
	CHECK_INT(store_key_by_hash(s, h2, &got, &e), ERR_NOT_FOUND);
	char guess[API_KEY_LEN + 1];
	memcpy(guess, sec2, sizeof(guess));
	guess[20] = guess[20] == 'a' ? 'b' : 'a';
	crypto_sha256(guess, strlen(guess), h2);
	CHECK_INT(store_key_by_hash(s, h2, &got, &e), ERR_NOT_FOUND);

	/* by id and by prefix */
	memset(&got, 0, sizeof(got));
	CHECK_INT(store_key_get(s, k1.id, &got, &e), 0);
	CHECK_STR(got.id, k1.id);
	CHECK_STR(got.name, "ci-bot");
	memset(&got, 0, sizeof(got));
	CHECK_INT(store_key_get(s, k3.prefix, &got, &e), 0);
	CHECK_STR(got.id, k3.id);
	CHECK_INT(store_key_get(s, "sk_live_zzzz", &got, &e), ERR_NOT_FOUND);
	CHECK_INT(store_key_get(s, "", &got, &e), ERR_NOT_FOUND);
	char unknown[UUID_STR_LEN + 1];
	uuid_v4(unknown);
	CHECK_INT(store_key_get(s, unknown, &got, &e), ERR_NOT_FOUND);

	/* list: every key, in creation order */
	struct keys ks = { 0 };
	CHECK_INT(store_key_list(s, collect_key, &ks, &e), 0);
	CHECK_INT(ks.n, 3);
	if (ks.n == 3) {
		CHECK_STR(ks.v[0].id, k1.id);
		CHECK_STR(ks.v[1].id, k2.id);
		CHECK_STR(ks.v[2].id, k3.id);
		CHECK_STR(ks.v[2].name, "trial");
	}

	/* revoke */
	CHECK_INT(store_key_revoke(s, k1.id, "leaked in a CI log", &e), 0);
	CHECK_INT(store_key_get(s, k1.id, &got, &e), 0);
	CHECK(got.revoked_at >= k1.created_at);
	CHECK(got.revoked_at <= time_now_us());
	CHECK_STR(got.revoke_reason, "leaked in a CI log");
	CHECK_INT(store_key_revoke(s, k1.id, "again", &e), ERR_NOT_FOUND);
	CHECK_INT(store_key_get(s, k1.id, &got, &e), 0);
	CHECK_STR(got.revoke_reason, "leaked in a CI log");	/* the first reason stays */
	CHECK_INT(store_key_revoke(s, unknown, "x", &e), ERR_NOT_FOUND);
	CHECK_INT(store_key_get(s, k2.id, &got, &e), 0);
	CHECK_INT(got.revoked_at, 0);
	ks.n = 0;
	CHECK_INT(store_key_list(s, collect_key, &ks, &e), 0);
	CHECK_INT(ks.n, 3);
	if (ks.n == 3)
		CHECK(ks.v[0].revoked_at > 0 && ks.v[1].revoked_at == 0);

	/* usage: two flushes of one day add up; another day stays apart */
	int64_t today = NOW / DAY;
	struct key_usage_day u1, u2, u3;
	memset(&u1, 0, sizeof(u1));
	u1.day = today;
	u1.requests = 10;
	u1.ok = 7;
	u1.client_errors = 2;
	u1.server_errors = 1;
	u1.rate_limited = 3;
	u1.latency_us_sum = 12345;
	u1.lat[0] = 2;
	u1.lat[3] = 5;
	u1.lat[USAGE_LAT_BUCKETS - 1] = 3;
	u1.routes[1] = 6;
	u1.routes[5] = 4;
	u1.hours[13] = 3;
	u1.peak_minute = 4;
	u1.last_used_at = NOW - 1000;
	memset(&u2, 0, sizeof(u2));
	u2.day = today;
	u2.requests = 5;
	u2.ok = 5;
	u2.latency_us_sum = 1000;
	u2.lat[3] = 4;
	u2.lat[10] = 1;
	u2.routes[1] = 5;
	u2.routes[USAGE_ROUTES - 1] = 2;
	u2.hours[13] = 1;
	u2.hours[23] = 2;
	u2.peak_minute = 9;
	u2.last_used_at = NOW;
	memset(&u3, 0, sizeof(u3));
	u3.day = today - 1;
	u3.requests = 1;
	u3.ok = 1;
	u3.lat[2] = 1;
	u3.peak_minute = 1;
	u3.last_used_at = NOW - DAY;
	CHECK_INT(store_key_usage_add(s, k2.id, &u1, &e), 0);
	CHECK_INT(store_key_usage_add(s, k2.id, &u2, &e), 0);
	CHECK_INT(store_key_usage_add(s, k2.id, &u3, &e), 0);

	struct usages us = { 0 };
	CHECK_INT(store_key_usage(s, k2.id, today - 5, collect_usage, &us, &e), 0);
	CHECK_INT(us.n, 2);
	if (us.n == 2) {
		const struct key_usage_day *y = &us.v[0], *d = &us.v[1];
		CHECK_INT(y->day, today - 1);
		CHECK_INT(y->requests, 1);
		CHECK_INT(y->lat[2], 1);
		CHECK_INT(d->day, today);
		CHECK_INT(d->requests, 15);
		CHECK_INT(d->ok, 12);
		CHECK_INT(d->client_errors, 2);
		CHECK_INT(d->server_errors, 1);
		CHECK_INT(d->rate_limited, 3);
		CHECK_INT(d->latency_us_sum, 13345);
		CHECK_INT(d->lat[0], 2);
		CHECK_INT(d->lat[2], 0);
		CHECK_INT(d->lat[3], 9);
		CHECK_INT(d->lat[10], 1);
		CHECK_INT(d->lat[USAGE_LAT_BUCKETS - 1], 3);
		int64_t sum = 0;
		for (int i = 0; i < USAGE_LAT_BUCKETS; i++)
			sum += d->lat[i];
		CHECK_INT(sum, 15);
		CHECK_INT(d->routes[1], 11);
		CHECK_INT(d->routes[5], 4);
		CHECK_INT(d->routes[USAGE_ROUTES - 1], 2);
		CHECK_INT(d->hours[13], 4);
		CHECK_INT(d->hours[23], 2);
		CHECK_INT(d->hours[0], 0);
		CHECK_INT(d->peak_minute, 9);	/* a peak is a maximum, not a sum */
	}
	us.n = 0;
	CHECK_INT(store_key_usage(s, k2.id, today, collect_usage, &us, &e), 0);
	CHECK_INT(us.n, 1);
	us.n = 0;
	CHECK_INT(store_key_usage(s, k3.id, 0, collect_usage, &us, &e), 0);
	CHECK_INT(us.n, 0);
	CHECK_INT(store_key_get(s, k2.id, &got, &e), 0);
	CHECK_INT(got.total_requests, 16);
	CHECK_INT(got.last_used_at, NOW);
	CHECK_INT(store_key_get(s, k3.id, &got, &e), 0);
	CHECK_INT(got.total_requests, 0);
	CHECK_INT(got.last_used_at, 0);
}

/* ---- the read path: filters.db with a hand-made data set ---- */

enum { IP_HI, IP_MED, DOM_LOW, HASH0, URL_HI, MD5_EXP, CVE_REV, DOM_TWO, URL_REL, MAIL, NDATA };

static const char *dvalue[NDATA];	/* canonical values */
static int64_t fwrites;
static const char *REF_PHISH = "https://blog.example-vendor.com/2026/phishing-kit-analysis";

static void load_dataset(struct store *s)
{
	struct ioc_input in[5];
	struct put_stats st = { 0, 0 };
	struct err e;
	const char *A = "cisa-kev", *B = "abuse-ch", *C = "vendor-x";
	const char *GOV = "government", *COM = "community", *CMR = "commercial";
	int64_t f = NOW - 3 * DAY, l = NOW - DAY;

	input(&in[0], IOC_IPV4, "198.51.100.10", A, GOV, 70, f, l);	/* band edges */
	tag(&in[0], "c2");
	input(&in[1], IOC_IPV4, "198.51.100.11", B, COM, 30, f, l);
	tag(&in[1], "scanner");
	input(&in[2], IOC_DOMAIN, "bad.example[.]org", B, COM, 29, f, l);
	tag(&in[2], "phishing");
	input(&in[3], IOC_SHA256, SHA256_RAW, C, CMR, 0, f, l);
	input(&in[4], IOC_URL, "https://phish.example.org/login", C, CMR, 75, f, l);
	tag(&in[4], "phishing");
	in[4].reference_url = REF_PHISH;
	for (int i = 0; i < 5; i++)
		dvalue[i] = in[i].value;
	CHECK_INT(store_ioc_put_batch(s, in, 5, &st, &e), 0);

	input(&in[0], IOC_MD5, "44d88612fea8a8f36de82e1278abb02f", A, GOV, 35, f, l);
	in[0].valid_until = NOW - DAY / 2;	/* already expired */
	input(&in[1], IOC_CVE, "CVE-2024-3400", A, GOV, 80, f, l);
	input(&in[2], IOC_DOMAIN, "shared.example.org", B, COM, 40, f, l);
	tag(&in[2], "malware");
	input(&in[3], IOC_URL, "https://phish.example.org/reset", C, CMR, 69, f, l);
	in[3].reference_url = REF_PHISH;
	input(&in[4], IOC_EMAIL, "Billing@Example.org", B, COM, 1, f, l);
	for (int i = 0; i < 5; i++)
		dvalue[5 + i] = in[i].value;
	CHECK_INT(store_ioc_put_batch(s, in, 5, &st, &e), 0);

	/* DOM_TWO is also reported by vendor-x: 40 + 5 */
	input(&in[0], IOC_DOMAIN, "shared.example.org", C, CMR, 30, f, l);
	CHECK_INT(store_ioc_put_batch(s, in, 1, &st, &e), 0);
	CHECK_INT(st.added, 10);
	CHECK_INT(st.updated, 1);

	struct rec r;
	CHECK_INT(get_val(s, IOC_CVE, "CVE-2024-3400", &r), 0);
	CHECK_INT(store_ioc_revoke(s, r.id, "test", &e), 0);
	CHECK_INT(get_val(s, IOC_DOMAIN, "shared.example.org", &r), 0);
	CHECK_INT(r.score, 45);
	fwrites = 12;
}

static int index_of(const char *value)
{
	for (int i = 0; i < NDATA; i++)
		if (!strcmp(dvalue[i], value))
			return i;
	return -1;
}

/* Lists with f and checks the result is exactly the data set members in want
 * (terminated by -1), each once, newest rid first. */
static void expect_list(int line, struct store *s, const struct ioc_filter *f, const int *want)
{
	struct recs rs = { 0 };
	int ok = list(s, f, &rs) == 0;
	int seen[NDATA] = { 0 }, nwant = 0;
	for (size_t i = 0; i < rs.n; i++) {
		int k = index_of(rs.v[i].value);
		if (k < 0 || (i > 0 && rs.v[i].rid >= rs.v[i - 1].rid))
			ok = 0;
		else
			seen[k]++;
	}
	for (const int *w = want; *w >= 0; w++) {
		nwant++;
		if (seen[*w] != 1)
			ok = 0;
	}
	if ((size_t)nwant != rs.n)
		ok = 0;
	if (!ok) {
		fprintf(stderr, "test_store.c:%d: list gave %zu records:", line, rs.n);
		for (size_t i = 0; i < rs.n; i++)
			fprintf(stderr, " %s", rs.v[i].value);
		fprintf(stderr, "\n");
	}
	CHECK(ok);
	recs_free(&rs);

	/* store_ioc_count agrees, exactly, under a generous cap */
	int64_t n = -1;
	bool est = true;
	struct err e;
	CHECK_INT(store_ioc_count(s, f, 1000, &n, &est, &e), 0);
	CHECK_INT(n, nwant);
	CHECK(!est);
}

#define EXPECT(f, ...) expect_list(__LINE__, s, &(f), (const int[]){ __VA_ARGS__, -1 })
#define EXPECT_NONE(f) expect_list(__LINE__, s, &(f), (const int[]){ -1 })

static void test_filters(struct store *s)
{
	struct ioc_filter f = filt();
	EXPECT(f, IP_HI, IP_MED, DOM_LOW, HASH0, URL_HI, DOM_TWO, URL_REL, MAIL);
	f.include_expired = true;
	EXPECT(f, IP_HI, IP_MED, DOM_LOW, HASH0, URL_HI, MD5_EXP, CVE_REV, DOM_TWO, URL_REL, MAIL);
	/* expiry is relative to f.now */
	f = filt();
	f.now = NOW - DAY;
	EXPECT(f, IP_HI, IP_MED, DOM_LOW, HASH0, URL_HI, MD5_EXP, DOM_TWO, URL_REL, MAIL);

	/* types */
	f = filt();
	f.types = 1u << IOC_IPV4;
	EXPECT(f, IP_HI, IP_MED);
	f.types = 1u << IOC_IPV4 | 1u << IOC_DOMAIN;
	EXPECT(f, IP_HI, IP_MED, DOM_LOW, DOM_TWO);
	f.types = 1u << IOC_MD5;
	EXPECT_NONE(f);
	f.include_expired = true;
	EXPECT(f, MD5_EXP);
	f.types = 1u << IOC_CVE;
	EXPECT(f, CVE_REV);

	/* confidence bands: bit 0 none, 1 low, 2 medium, 3 high */
	f = filt();
	f.bands = 1u << 3;
	EXPECT(f, IP_HI, URL_HI);
	f.bands = 1u << 2;
	EXPECT(f, IP_MED, DOM_TWO, URL_REL);
	f.bands = 1u << 1;
	EXPECT(f, DOM_LOW, MAIL);
	f.bands = 1u << 0;
	EXPECT(f, HASH0);
	f.bands = 1u << 1 | 1u << 0;
	EXPECT(f, DOM_LOW, MAIL, HASH0);
	f.bands = 0xf;
	EXPECT(f, IP_HI, IP_MED, DOM_LOW, HASH0, URL_HI, DOM_TWO, URL_REL, MAIL);

	/* min_score */
	f = filt();
	f.min_score = 50;
	EXPECT(f, IP_HI, URL_HI, URL_REL);
	f.min_score = 70;
	EXPECT(f, IP_HI, URL_HI);
	f.min_score = 30;
	EXPECT(f, IP_HI, IP_MED, URL_HI, DOM_TWO, URL_REL);
	f.min_score = 1;
	EXPECT(f, IP_HI, IP_MED, DOM_LOW, URL_HI, DOM_TWO, URL_REL, MAIL);
	f.min_score = 0;
	EXPECT(f, IP_HI, IP_MED, DOM_LOW, HASH0, URL_HI, DOM_TWO, URL_REL, MAIL);
	f.min_score = 91;
	EXPECT_NONE(f);
	f.min_score = 45;
	f.bands = 1u << 2;
	EXPECT(f, DOM_TWO, URL_REL);

	/* tag, source, category */
	f = filt();
	f.tag = "phishing";
	EXPECT(f, DOM_LOW, URL_HI);
	f.tag = "malware";
	EXPECT(f, DOM_TWO);
	f.tag = "Phishing";
	EXPECT_NONE(f);
	f = filt();
	f.source = "abuse-ch";
	EXPECT(f, IP_MED, DOM_LOW, DOM_TWO, MAIL);
	f.source = "vendor-x";
	EXPECT(f, HASH0, URL_HI, DOM_TWO, URL_REL);
	f.source = "cisa-kev";
	EXPECT(f, IP_HI);
	f.include_expired = true;
	EXPECT(f, IP_HI, MD5_EXP, CVE_REV);
	f = filt();
	f.source = "no-such-feed";
	EXPECT_NONE(f);
	f = filt();
	f.category = "community";
	EXPECT(f, IP_MED, DOM_LOW, DOM_TWO, MAIL);
	f.category = "commercial";
	EXPECT(f, HASH0, URL_HI, DOM_TWO, URL_REL);
	f.category = "government";
	EXPECT(f, IP_HI);
	f.category = "news";
	EXPECT_NONE(f);

	/* combinations */
	f = filt();
	f.types = 1u << IOC_URL;
	f.tag = "phishing";
	EXPECT(f, URL_HI);
	f = filt();
	f.source = "vendor-x";
	f.min_score = 50;
	EXPECT(f, URL_HI, URL_REL);
	f = filt();
	f.category = "community";
	f.types = 1u << IOC_DOMAIN;
	f.bands = 1u << 1;
	EXPECT(f, DOM_LOW);

	/* since / until on updated_at, against a snapshot of every record */
	f = filt();
	f.include_expired = true;
	struct recs all = { 0 };
	CHECK_INT(list(s, &f, &all), 0);
	CHECK_INT(all.n, NDATA);
	int64_t ups[NDATA];
	for (size_t i = 0; i < all.n && i < NDATA; i++)
		ups[i] = all.v[i].updated_at;
	/* sort the stamps to find cut points */
	for (size_t i = 0; i < all.n; i++)
		for (size_t k = i + 1; k < all.n; k++)
			if (ups[k] < ups[i]) {
				int64_t t = ups[i];
				ups[i] = ups[k];
				ups[k] = t;
			}
	for (size_t c = 0; c + 1 < all.n; c += 3) {
		int64_t cut = ups[c], cut2 = ups[c + 1];
		for (int mode = 0; mode < 6; mode++) {
			struct ioc_filter g = filt();
			g.include_expired = true;
			/* the same answers whether the store reads the window by index or not */
			g.window_is_narrow = mode >= 3;
			if (mode % 3 == 0)
				g.since = cut;
			else if (mode % 3 == 1)
				g.until = cut;
			else {
				g.since = cut;
				g.until = cut2;
			}
			int want[NDATA + 1], nw = 0;
			for (size_t i = 0; i < all.n; i++) {
				int64_t u = all.v[i].updated_at;
				if ((mode % 3 == 0 && u >= cut) || (mode % 3 == 1 && u <= cut) ||
				    (mode % 3 == 2 && u >= cut && u <= cut2))
					want[nw++] = index_of(all.v[i].value);
			}
			want[nw] = -1;
			expect_list(__LINE__, s, &g, want);
		}
	}
	/* since and until exclude the revoked and expired unless asked */
	for (int narrow = 0; narrow < 2; narrow++) {
		f = filt();
		f.window_is_narrow = narrow;
		f.since = ups[0];
		EXPECT(f, IP_HI, IP_MED, DOM_LOW, HASH0, URL_HI, DOM_TWO, URL_REL, MAIL);
		f.since = ups[NDATA - 1] + 1;
		EXPECT_NONE(f);
		f.since = ups[0];
		f.types = 1u << IOC_URL;
		f.limit = 1;
		struct recs one = { 0 };
		CHECK_INT(list(s, &f, &one), 0);
		CHECK_INT(one.n, 1);	/* the newest rid first, as without a window */
		if (one.n == 1)
			CHECK_STR(one.v[0].value, dvalue[URL_REL]);
		recs_free(&one);
	}

	/* limit and offset: a window of the rid-descending order */
	f = filt();
	struct recs full = { 0 }, page = { 0 };
	CHECK_INT(list(s, &f, &full), 0);
	CHECK_INT(full.n, 8);
	f.limit = 3;
	f.offset = 2;
	CHECK_INT(list(s, &f, &page), 0);
	CHECK_INT(page.n, 3);
	for (size_t i = 0; i < page.n && i + 2 < full.n; i++)
		CHECK_INT(page.v[i].rid, full.v[i + 2].rid);
	recs_free(&page);
	f.offset = 7;
	CHECK_INT(list(s, &f, &page), 0);
	CHECK_INT(page.n, 1);
	recs_free(&page);
	f.offset = 8;
	CHECK_INT(list(s, &f, &page), 0);
	CHECK_INT(page.n, 0);
	recs_free(&page);

	/* a before_rid cursor walk returns everything once, in order */
	for (int expired = 0; expired < 2; expired++) {
		f = filt();
		f.include_expired = expired;
		f.limit = 3;
		int seen[NDATA] = { 0 }, pages = 0, order = 0, total = 0;
		int64_t last_rid = INT64_MAX;
		for (;;) {
			struct recs pg = { 0 };
			CHECK_INT(list(s, &f, &pg), 0);
			if (pg.n == 0) {
				recs_free(&pg);
				break;
			}
			pages++;
			for (size_t i = 0; i < pg.n; i++) {
				int k = index_of(pg.v[i].value);
				if (k >= 0)
					seen[k]++;
				if (pg.v[i].rid >= last_rid)
					order++;
				last_rid = pg.v[i].rid;
				total++;
			}
			f.before_rid = pg.v[pg.n - 1].rid;
			recs_free(&pg);
			if (pages > 20)
				break;
		}
		CHECK_INT(total, expired ? NDATA : 8);
		CHECK_INT(pages, expired ? 4 : 3);
		CHECK_INT(order, 0);
		int twice = 0;
		for (int i = 0; i < NDATA; i++)
			twice += seen[i] > 1;
		CHECK_INT(twice, 0);
		CHECK_INT(seen[CVE_REV], expired ? 1 : 0);
	}
	recs_free(&full);
	recs_free(&all);

	/* count: estimated above the cap, exact at it */
	int64_t n = 0;
	bool est = false;
	struct err e;
	f = filt();
	f.include_expired = true;
	CHECK_INT(store_ioc_count(s, &f, NDATA, &n, &est, &e), 0);
	CHECK_INT(n, NDATA);
	CHECK(!est);
	CHECK_INT(store_ioc_count(s, &f, 3, &n, &est, &e), 0);
	CHECK(est);
	CHECK(n > 3 && n <= 3 * NDATA);
	f = filt();
	f.types = 1u << IOC_IPV4;
	CHECK_INT(store_ioc_count(s, &f, 1, &n, &est, &e), 0);
	CHECK(est);
	CHECK(n >= 2);
}

static void test_lookups(struct store *s)
{
	struct err e;
	struct rec r;
	struct recs rs = { 0 };

	/* get by id */
	char id[UUID_STR_LEN + 1];
	ioc_id(IOC_URL, dvalue[URL_HI], strlen(dvalue[URL_HI]), id);
	CHECK_INT(store_ioc_get(s, id, collect, &rs, &e), 0);
	CHECK_INT(rs.n, 1);
	if (rs.n == 1) {
		CHECK_STR(rs.v[0].value, "https://phish.example.org/login");
		CHECK_STR(rs.v[0].id, id);
		r = rs.v[0];
	}
	recs_free(&rs);
	char unknown[UUID_STR_LEN + 1];
	ioc_id(IOC_URL, "https://unknown.example/", 24, unknown);
	CHECK_INT(store_ioc_get(s, unknown, collect, &rs, &e), ERR_NOT_FOUND);
	CHECK_INT(e.code, ERR_NOT_FOUND);
	CHECK_INT(rs.n, 0);
	CHECK_INT(store_ioc_get(s, "", collect, &rs, &e), ERR_NOT_FOUND);
	/* revoked records are still found by id */
	ioc_id(IOC_CVE, "CVE-2024-3400", 13, id);
	CHECK_INT(store_ioc_get(s, id, collect, &rs, &e), 0);
	CHECK(rs.n == 1 && rs.v[0].revoked);
	recs_free(&rs);

	/* get by value */
	CHECK_INT(get_val(s, IOC_DOMAIN, "bad.example.org", &r), 0);
	CHECK_INT(r.score, 29);
	CHECK_INT(get_val(s, IOC_URL, "bad.example.org", &r), ERR_NOT_FOUND);
	CHECK_INT(get_val(s, IOC_EMAIL, "Billing@example.org", &r), 0);

	/* trigram search: substrings, case-insensitive, with a type filter and a limit */
	struct {
		const char *q;
		unsigned types;
		int64_t limit;
		int want[NDATA + 1];
	} qs[] = {
		{ "example.org", 0, 100, { DOM_LOW, URL_HI, DOM_TWO, URL_REL, MAIL, -1 } },
		{ "EXAMPLE.ORG", 0, 100, { DOM_LOW, URL_HI, DOM_TWO, URL_REL, MAIL, -1 } },
		{ "Example.Org", 1u << IOC_URL, 100, { URL_HI, URL_REL, -1 } },
		{ "PHISH", 0, 100, { URL_HI, URL_REL, -1 } },
		{ "hish.exa", 0, 100, { URL_HI, URL_REL, -1 } },
		{ "login", 0, 100, { URL_HI, -1 } },
		{ "billing@", 0, 100, { MAIL, -1 } },
		{ "e3b0c44298fc", 0, 100, { HASH0, -1 } },
		{ "198.51.100.1", 0, 100, { IP_HI, IP_MED, -1 } },
		{ "198.51.100.11", 0, 100, { IP_MED, -1 } },
		{ "cve-2024", 0, 100, { CVE_REV, -1 } },
		{ "zzqqzz", 0, 100, { -1 } },
		{ "exa\"mple", 0, 100, { -1 } },
		{ "example.org", 1u << IOC_SHA256, 100, { -1 } },
	};
	/* Pass 0 finds the records by scanning the unindexed tail; pass 1 through the trigram
	 * index, once store_fts_catch_up has filled it (a chunk at a time). */
	for (int pass = 0; pass < 2; pass++)
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		if (pass == 1 && i == 0) {
			int64_t got, total = 0;
			do {
				CHECK_INT(store_fts_catch_up(s, 3, &got, &e), 0);
				CHECK(got <= 3);
				total += got;
			} while (got > 0);
			CHECK(total >= NDATA);
			CHECK_INT(store_fts_catch_up(s, 100, &got, &e), 0);
			CHECK_INT(got, 0);
		}
		rs.n = 0;
		int rc = store_ioc_search(s, qs[i].q, qs[i].types, qs[i].limit, collect, &rs, &e);
		CHECK_INT(rc, 0);
		int seen[NDATA] = { 0 }, nw = 0, ok = 1;
		for (size_t k = 0; k < rs.n; k++) {
			int x = index_of(rs.v[k].value);
			if (x < 0)
				ok = 0;
			else
				seen[x]++;
		}
		for (const int *w = qs[i].want; *w >= 0; w++, nw++)
			if (seen[*w] != 1)
				ok = 0;
		if (!ok || (size_t)nw != rs.n)
			fprintf(stderr, "search \"%s\" (pass %d): %zu results\n", qs[i].q, pass, rs.n);
		CHECK(ok && (size_t)nw == rs.n);
		recs_free(&rs);
	}
	CHECK_INT(store_ioc_search(s, "example", 0, 2, collect, &rs, &e), 0);
	CHECK_INT(rs.n, 2);
	recs_free(&rs);

	/* related: the other indicators of the same report */
	CHECK_INT(get_val(s, IOC_URL, "https://phish.example.org/login", &r), 0);
	struct ioc_record ir;
	memset(&ir, 0, sizeof(ir));
	ir.rid = r.rid;
	memcpy(ir.id, r.id, sizeof(ir.id));
	ir.type = r.type;
	ir.value = r.value;
	ir.reference_url = r.reference_url;
	CHECK_STR(r.reference_url, REF_PHISH);
	CHECK_INT(store_ioc_related(s, &ir, 10, collect, &rs, &e), 0);
	CHECK_INT(rs.n, 1);
	if (rs.n == 1)
		CHECK_STR(rs.v[0].value, "https://phish.example.org/reset");
	recs_free(&rs);
	CHECK_INT(store_ioc_related(s, &ir, 0, collect, &rs, &e), 0);
	CHECK_INT(rs.n, 0);
	CHECK_INT(get_val(s, IOC_IPV4, "198.51.100.10", &r), 0);
	ir.rid = r.rid;
	ir.reference_url = r.reference_url;	/* "" */
	CHECK_INT(store_ioc_related(s, &ir, 10, collect, &rs, &e), 0);
	CHECK_INT(rs.n, 0);
	recs_free(&rs);
}

static void test_stats(struct store *s)
{
	struct buf b = BUF_INIT;
	struct err e;
	CHECK_INT(store_feed_note(s, "abuse-ch", "community", 100, 4, 1, 2, &e), 0);
	int rc = store_stats_json(s, &b, time_now_us(), &e);
	CHECK_INT(rc, 0);
	json_error_t je;
	json_t *j = json_loads(buf_cstr(&b), 0, &je);
	if (j == NULL)
		fprintf(stderr, "stats JSON: %s: %s\n", je.text, buf_cstr(&b));
	CHECK(json_is_object(j));
	json_t *tot = json_object_get(j, "totals");
	CHECK_INT(json_integer_value(json_object_get(tot, "indicators")), NDATA);
	CHECK_INT(json_integer_value(json_object_get(tot, "active")), 8);
	CHECK_INT(json_integer_value(json_object_get(tot, "expired")), 1);
	CHECK_INT(json_integer_value(json_object_get(tot, "revoked")), 1);
	CHECK_INT(json_integer_value(json_object_get(tot, "stix_objects")), fwrites);
	json_t *bt = json_object_get(tot, "by_type");
	if (bt == NULL)
		bt = json_object_get(j, "by_type");
	CHECK(json_is_object(bt));
	CHECK_INT(json_object_size(bt), 7);
	CHECK_INT(json_integer_value(json_object_get(bt, "ipv4")), 2);
	CHECK_INT(json_integer_value(json_object_get(bt, "domain")), 2);
	CHECK_INT(json_integer_value(json_object_get(bt, "url")), 2);
	CHECK_INT(json_integer_value(json_object_get(bt, "sha256")), 1);
	CHECK_INT(json_integer_value(json_object_get(bt, "md5")), 1);
	CHECK_INT(json_integer_value(json_object_get(bt, "cve")), 1);
	CHECK_INT(json_integer_value(json_object_get(bt, "email")), 1);
	/* by_type agrees with what a listing counts */
	struct ioc_filter f = filt();
	f.include_expired = true;
	struct recs all = { 0 };
	CHECK_INT(list(s, &f, &all), 0);
	int bad = 0;
	for (int t = IOC_IPV4; t < IOC_TYPE_COUNT; t++) {
		int64_t n = 0;
		for (size_t i = 0; i < all.n; i++)
			n += all.v[i].type == (enum ioc_type)t;
		json_t *v = json_object_get(bt, ioc_type_name((enum ioc_type)t));
		if ((n == 0 && v != NULL) || (n > 0 && json_integer_value(v) != n))
			bad++;
	}
	CHECK_INT(bad, 0);
	recs_free(&all);
	json_t *bs = json_object_get(tot, "by_source");
	if (bs == NULL)
		bs = json_object_get(j, "by_source");
	CHECK_INT(json_integer_value(json_object_get(bs, "abuse-ch")), 4);
	CHECK_INT(json_integer_value(json_object_get(bs, "vendor-x")), 4);
	CHECK_INT(json_integer_value(json_object_get(bs, "cisa-kev")), 3);
	json_t *bc = json_object_get(tot, "by_category");
	if (bc == NULL)
		bc = json_object_get(j, "by_category");
	CHECK_INT(json_integer_value(json_object_get(bc, "community")), 4);
	CHECK_INT(json_integer_value(json_object_get(bc, "commercial")), 4);
	CHECK_INT(json_integer_value(json_object_get(bc, "government")), 3);
	/* feed health lists the noted import */
	json_t *fh = json_object_get(j, "feed_health");
	CHECK(json_is_array(fh));
	int noted = 0;
	size_t k;
	json_t *x;
	json_array_foreach(fh, k, x) {
		const char *name = json_string_value(json_object_get(x, "feed"));
		if (name && !strcmp(name, "abuse-ch")) {
			noted++;
			CHECK_INT(json_integer_value(json_object_get(x, "last_read")), 100);
			CHECK_INT(json_integer_value(json_object_get(x, "imports")), 1);
		}
	}
	CHECK_INT(noted, 1);
	/* the CVE shows among the top CVEs */
	json_t *tc = json_object_get(j, "top_cves");
	CHECK(json_is_array(tc) && json_array_size(tc) == 1);
	CHECK_STR(json_string_value(json_object_get(json_array_get(tc, 0), "id")), "CVE-2024-3400");
	json_decref(j);
	buf_cleanup(&b);
}

static void test_data_version(const char *path)
{
	struct store *s1 = NULL, *s2 = NULL;
	struct err e;
	CHECK_INT(store_open(&s1, path, NULL, 0, &e), 0);
	CHECK_INT(store_open(&s2, path, NULL, 0, &e), 0);
	if (s1 == NULL || s2 == NULL) {
		store_close(s1);
		store_close(s2);
		return;
	}
	int64_t v1 = store_data_version(s1);
	CHECK_INT(store_data_version(s1), v1);	/* stable without writes */
	struct ioc_input in;
	input(&in, IOC_IPV4, "192.0.2.55", "late-feed", "community", 30, 0, 0);
	CHECK_INT(store_ioc_put_batch(s2, &in, 1, &(struct put_stats){ 0, 0 }, &e), 0);
	int64_t v2 = store_data_version(s1);
	CHECK(v2 != v1);
	CHECK_INT(store_data_version(s1), v2);
	/* and the first connection sees the row */
	struct rec r;
	CHECK_INT(get_val(s1, IOC_IPV4, "192.0.2.55", &r), 0);
	/* a key write from the other connection counts too */
	struct api_key k;
	char sec[API_KEY_LEN + 1];
	CHECK_INT(store_key_create(s2, "dv", TIER_FREE, 0, 0, &k, sec, &e), 0);
	CHECK(store_data_version(s1) != v2);
	store_close(s1);
	store_close(s2);
}

static void rm_db(const char *path);

/*
 * Migrations 6 (scoring) and 7 (snapshot feeds) over a schema-5 database: records keep their score as their base and
 * get the decay and band crossings of the configured lifetimes; reliability counts from then on.
 */
static void test_scoring_migration(const char *path)
{
	struct store *s = NULL;
	struct err e;
	struct put_stats st = { 0 };
	struct ioc_input in[1];
	int64_t now = time_now_us();
	CHECK_INT(store_open(&s, path, NULL, 0, &e), 0);
	input(&in[0], IOC_IPV4, "198.51.100.66", "old-feed", "community", 71, now - 2 * DAY, now - DAY);
	CHECK_INT(put(s, in, 1, &st), 0);
	store_close(s);
	/* Back to schema 5: the columns of step 6 gone. */
	sqlite3 *db = NULL;
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, "ALTER TABLE iocs DROP COLUMN decay_end; ALTER TABLE iocs DROP COLUMN"
				   " decay_speed; ALTER TABLE iocs DROP COLUMN high_until; ALTER TABLE iocs"
				   " DROP COLUMN medium_until; ALTER TABLE iocs DROP COLUMN low_until;"
				   " ALTER TABLE ioc_feeds DROP COLUMN seen_at; ALTER TABLE ioc_feeds DROP COLUMN"
				   " ended_at; PRAGMA user_version = 5;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	int rc = store_open(&s, path, NULL, 0, &e);
	CHECK_INT(rc, 0);
	if (rc)
		return;
	struct recs rs = { 0 };
	struct ioc_filter f = filt();
	f.bands = 1u << 2;	/* medium: 71 × (1 − 1/30) = 69 */
	CHECK_INT(list(s, &f, &rs), 0);
	CHECK_INT(rs.n, 1);
	CHECK(rs.n == 1 && rs.v[0].score == 69);
	recs_free(&rs);
	f.bands = 1u << 3;
	CHECK_INT(list(s, &f, &rs), 0);
	CHECK_INT(rs.n, 0);
	recs_free(&rs);
	/* A new report of a grade-A feed: merged, and weighted. */
	input(&in[0], IOC_IPV4, "198.51.100.66", "new-feed", "community", 80, now - DAY, now);
	in[0].reliability = 'A';
	CHECK_INT(put(s, in, 1, &st), 0);
	f.bands = 1u << 3;
	CHECK_INT(list(s, &f, &rs), 0);
	CHECK(rs.n == 1 && rs.v[0].score == 100);	/* 96 + 5 for the old feed */
	recs_free(&rs);
	store_close(s);
	rm_db(path);
}

static void rm_db(const char *path)
{
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	char p[256];
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
		unlink(p);
	}
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/cairn-test-store-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	arena_init(&pool);
	NOW = time_now_us();
	char main_db[128], filters_db[128];
	snprintf(main_db, sizeof(main_db), "%s/main.db", dir);
	snprintf(filters_db, sizeof(filters_db), "%s/filters.db", dir);

	struct store *s = NULL;
	struct err e;
	err_clear(&e);
	/* This file pins merging and filtering by the base score; test_score.c pins the decay.
	 * At the slowest decay speed a record a few days old over a lifetime of 30 days or more
	 * keeps its base score: (3/30)^10 of it is lost. */
	struct config slow;
	config_defaults(&slow);
	for (int t = 0; t < IOC_TYPE_COUNT; t++)
		slow.decay_speed[t] = 0.1;
	/* a fresh database, then the same file again: migrations are idempotent */
	int rc = store_open(&s, main_db, &slow, 0, &e);
	CHECK_INT(rc, 0);
	if (rc) {
		fprintf(stderr, "store_open: %s\n", e.msg);
		return check_summary("test_store");
	}
	int64_t total = -1;
	CHECK_INT(store_ioc_total(s, &total, &e), 0);
	CHECK_INT(total, 0);
	store_close(s);
	CHECK_INT(store_open(&s, main_db, &slow, 0, &e), 0);
	CHECK(s != NULL);
	/* a database that cannot be created */
	struct store *bad = NULL;
	char nowhere[160];
	snprintf(nowhere, sizeof(nowhere), "%s/no/such/dir/x.db", dir);
	CHECK_INT(store_open(&bad, nowhere, NULL, 0, &e), ERR_DB);
	CHECK(e.msg[0] != '\0');
	store_close(bad);

	test_new_records(s);
	test_merge(s);
	test_clock(s);
	test_objects(s);
	test_revoke(s);
	test_objects(s);	/* the revocation's version keeps the order too */
	test_keys(s);
	CHECK_INT(store_ioc_total(s, &total, &e), 0);
	/* a large count is estimated close to the truth */
	struct ioc_filter f = filt();
	f.include_expired = true;
	int64_t n = 0;
	bool est = false;
	CHECK_INT(store_ioc_count(s, &f, 100, &n, &est, &e), 0);
	CHECK(est);
	CHECK(n > 100);
	CHECK(n >= total * 9 / 10 && n <= total * 11 / 10);
	CHECK_INT(store_ioc_count(s, &f, 100000, &n, &est, &e), 0);
	CHECK(!est);
	CHECK_INT(n, total);
	store_close(s);

	/* reopened: everything is still there; read-only opens work */
	CHECK_INT(store_open(&s, main_db, NULL, 0, &e), 0);
	int64_t again = -1;
	CHECK_INT(store_ioc_total(s, &again, &e), 0);
	CHECK_INT(again, total);
	store_close(s);
	CHECK_INT(store_open(&s, main_db, NULL, STORE_READONLY, &e), 0);
	again = -1;
	CHECK_INT(store_ioc_total(s, &again, &e), 0);
	CHECK_INT(again, total);
	struct rec r;
	CHECK_INT(get_val(s, IOC_IPV4, "203.0.113.7", &r), 0);
	CHECK_INT(r.occurrences, 4);
	store_close(s);

	/* the read path */
	CHECK_INT(store_open(&s, filters_db, &slow, 0, &e), 0);
	load_dataset(s);
	test_filters(s);
	test_lookups(s);
	test_stats(s);
	store_close(s);
	test_data_version(filters_db);

	char migrate_db[128];
	snprintf(migrate_db, sizeof(migrate_db), "%s/migrate.db", dir);
	test_scoring_migration(migrate_db);

	rm_db(main_db);
	rm_db(filters_db);
	if (rmdir(dir) != 0)
		perror("rmdir");
	arena_cleanup(&pool);
	return check_summary("test_store");
}
