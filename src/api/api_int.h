/*
 * api_int.h — what the files of src/api/ share. Not for use outside it.
 */
#ifndef CAIRN_API_INT_H
#define CAIRN_API_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include "api/api.h"
#include "base/buf.h"
#include "http/query.h"
#include "json/jw.h"
#include "store/store.h"

/* Endpoints, for usage counters and metrics. */
enum route {
	R_NONE, R_LIST, R_SEARCH, R_LOOKUP, R_LOOKUP_BULK, R_GET, R_SUBMIT, R_REVOKE, R_STATS,
	R_KEYS, R_KEY, R_KEY_USAGE, R_USAGE, R_HEALTH, R_METRICS, R_STIX, R_SIGMA, R_MISP, R_CEF,
	R_OPENIOC, R_ECS, R_TAXII, R_TAXII_ADD, R_FEEDS, R_SPLUNK, R_COUNT
};
_Static_assert(R_COUNT <= USAGE_ROUTES, "usage rows hold every route");
const char *route_name(enum route r);

/* ---- rate limits: rolling windows per key ---- */

struct window {
	int64_t minute_slot[60];	/* requests per second, ring */
	int64_t minute_at[60];		/* which second each slot holds */
	int64_t hour_slot[24];		/* requests per hour, ring */
	int64_t hour_at[24];
};

struct rate_state {
	char key_id[UUID_STR_LEN + 1];
	struct window w;
	struct rate_state *next;
};

struct rate_verdict {
	bool allowed;
	int64_t limit, remaining, reset;	/* for the window closest to running out */
	int64_t retry_after;			/* seconds, when refused */
	int64_t minute_used, day_used;
};

/* ---- the caller ---- */

struct caller {
	bool authenticated;
	struct api_key key;
	const struct tier_conf *tier;
};

/* ---- per-key usage, accumulated in memory and flushed ---- */

struct usage_acc {
	char key_id[UUID_STR_LEN + 1];
	struct key_usage_day day;
	int64_t minute, minute_count;
	struct usage_acc *next;
};

#define CACHE_SLOTS 64
#define KEY_CACHE_SLOTS 64

struct key_cache_entry {
	bool valid;
	int64_t version, generation, at;
	struct api_key key;
};

struct cache_entry {
	char *key;
	int64_t version, created_us;
	int status;
	const char *content_type;
	struct http_shared *body;
	char extra[3][160];	/* headers that come with the body (X-Total-Count, …) */
	const char *extra_name[3];
	int nextra;
};

struct api {
	struct config cfg;
	const char *db_path;
	struct http_app app;

	pthread_mutex_t lock;	/* guards keys, rates, usage and stats below */
	struct rate_state *rates[256];
	struct usage_acc *usage[256];
	int64_t last_flush_us;

	pthread_t feeds_thread;		/* pulls the feeds that are due (api_feeds.c) */
	bool feeds_running, feeds_stop, feeds_busy;
	pthread_cond_t feeds_cond;

	pthread_t stats_thread;
	bool stats_running, stats_stop;
	pthread_cond_t stats_cond;
	char *stats_json;
	int64_t stats_at;	/* wall µs of computation */
	int64_t stats_cost_us;	/* how long the last pass took */
	bool stats_busy;

	FILE *access_log;
	pthread_mutex_t log_lock;

	/* metrics (atomics) */
	int64_t m_requests[R_COUNT][6];		/* by status class 1xx..5xx, + 429 in [0] */
	int64_t m_latency[16];			/* cumulative buckets, see api_metrics.c */
	int64_t m_latency_sum_us;
	int64_t m_auth_failures;
	int64_t m_rate_limited;
	int64_t m_indicators;
	int64_t started_at;
	int64_t keys_generation;	/* bumped when this server revokes a key */
	int64_t write_generation;	/* bumped when this server writes indicators */

	pthread_mutex_t allow_lock;	/* guards allow */
	struct allow_set *allow;	/* the allow-lists' matcher (api_allow.c) */
};

struct api_worker {
	struct api *api;
	int no;
	struct store *store;
	uint64_t req_counter;
	uint32_t req_prefix;
	struct cache_entry cache[CACHE_SLOTS];
	struct key_cache_entry keys[KEY_CACHE_SLOTS];
	/* What the caches are validated against, read once per request. */
	uint64_t versions_req;
	int64_t data_version, clock;
	uint8_t taxii_secret[32];	/* signs TAXII next tokens; read once from the store */
	bool taxii_secret_ok;
};

/*
 * Refreshes w's view of the database, once per request: SQLite's data_version (any
 * commit by another connection: a key revoked with `cairn keys revoke` fails the very next
 * request) and, when that moved, the indicator clock. A read costs a read transaction, so
 * it is done once, not per cache. This server's own writes also bump write_generation and
 * keys_generation, which the other workers see at once.
 */
void api_versions(struct api_worker *w);

/* A request in flight, as the handlers see it. */
struct call {
	struct api_worker *w;
	struct http_req *req;
	struct http_resp *resp;
	struct query q;
	struct caller who;
	enum route route;
	char request_id[32];
	int64_t now;
	const char *path;	/* NUL-terminated copy of the path */
	struct rate_verdict rv;
	bool rv_set;
	bool taxii;		/* a TAXII request: errors in TAXII's form and media type */
};

/* api_errors.c: the error object. details_json may be NULL (→ {}). */
void api_error(struct call *c, int status, const char *code, const char *details_json,
	       const char *fmt, ...) CAIRN_PRINTF(5, 6);
void api_json(struct call *c, int status, struct buf *body);	/* takes body's bytes */

/* api_auth.c */
/* Authenticates; on failure answers the error and returns false. */
bool api_authenticate(struct call *c);
bool api_require_scope(struct call *c, unsigned scope);
bool api_require_pro(struct call *c, const char *what);
struct rate_verdict rate_check(struct api *a, const struct api_key *k, const struct tier_conf *t,
			       int64_t now_us, bool consume);
void usage_flush(struct api *a, struct store *s);
void usage_note(struct api *a, const struct api_key *k, enum route r, int status, int64_t latency_us,
		int64_t now_us);

/* api_iocs.c */
void h_list(struct call *c);
void h_get(struct call *c, const char *id);
void h_search(struct call *c);
void h_lookup(struct call *c);
void h_lookup_bulk(struct call *c);
void h_submit(struct call *c);
void h_revoke(struct call *c, const char *id);
void h_stats(struct call *c);
void h_stix(struct call *c);
void h_sigma(struct call *c);
void h_cef(struct call *c);
void h_openioc(struct call *c);
void h_misp(struct call *c);
void h_ecs(struct call *c);
void h_splunk(struct call *c);
/* The REST form of a record. */
void render_record(struct jw *w, const struct ioc_record *r);
/* The same, its score taken at explain_now (µs) and with its score_explanation; 0: neither. */
void render_record_at(struct jw *w, const struct ioc_record *r, int64_t explain_now);
void meta_open(struct call *c, struct jw *w);	/* writes "meta":{ generated_at, feed_version, source */

/*
 * The per-worker answer cache (api_iocs.c): an answer is reused for an identical request
 * while no indicator or object was written and it is under CACHE_AGE_US old. version is
 * what api_versions() saw (clock and write_generation).
 */
struct cache_entry *cache_find(struct api_worker *w, const char *key, int64_t version, int64_t now);
/* A free slot, or the oldest one emptied. */
struct cache_entry *cache_slot(struct api_worker *w);
void serve_cached(struct call *c, struct cache_entry *e);
int64_t cache_version(struct api_worker *w);

/* api_feeds.c: the feed scheduler thread, GET /api/v1/feeds */
void feeds_thread_start(struct api *a);
void feeds_thread_stop(struct api *a);
void h_feeds(struct call *c);

/* api_taxii.c: everything under /api/taxii2/ */
void h_taxii(struct call *c);

/* api_keys.c */
void h_keys(struct call *c);
void h_key(struct call *c, const char *id);
void h_key_usage(struct call *c, const char *id);
void h_usage(struct call *c);

/* api_metrics.c */
void h_health(struct call *c);
void h_metrics(struct call *c);
void metrics_note(struct api *a, enum route r, int status, int64_t latency_us);
void stats_refresh(struct api *a, struct store *s, bool force);
/* The background thread, on its own connection so no worker's event loop waits for it:
 * brings the trigram search index up to date, and recomputes the statistics every
 * stats_refresh seconds. */
void stats_thread_start(struct api *a);
void stats_thread_stop(struct api *a);
void access_log_write(struct call *c, int64_t latency_us, size_t bytes);

/* api_allow.c: the allow-lists' matcher, rebuilt by the background thread when the lists
 * change. api_allow returns a reference (allow_set_unref it), NULL before the first build. */
struct allow_set *api_allow(struct api *a);
int api_allow_reload(struct api *a, struct store *s, struct err *e);
/* Finishes pending suppression passes and rebuilds the matcher when the generation moved. */
void allow_refresh(struct api *a, struct store *s);
/* The allow-list metrics of /metrics. */
void allow_metrics(struct call *c, struct buf *b);

/* Helpers shared by handlers. */
bool param_int(struct call *c, const char *name, int64_t lo, int64_t hi, int64_t *out, bool *present);
bool param_bool(struct call *c, const char *name, bool *out);
const char *param_str(struct call *c, const char *name, size_t maxlen, bool *bad);
void base_url(struct call *c, struct buf *b);

#endif
