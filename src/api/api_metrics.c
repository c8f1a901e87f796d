/*
 * Operations: /healthz, /metrics (Prometheus text format), the stats cache
 * and the JSON-lines access log.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_int.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "base/xmalloc.h"

/* Upper edges of the latency histogram, in seconds. */
static const double lat_edges[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
				    0.25, 0.5, 1, 2.5, 5, 10 };
#define NEDGES (sizeof(lat_edges) / sizeof(lat_edges[0]))

void metrics_note(struct api *a, enum route r, int status, int64_t latency_us)
{
	int cls = status / 100;
	if (cls < 1 || cls > 5)
		cls = 5;
	__atomic_add_fetch(&a->m_requests[r][cls], 1, __ATOMIC_RELAXED);
	if (status == 429)
		__atomic_add_fetch(&a->m_requests[r][0], 1, __ATOMIC_RELAXED);
	size_t b = 0;
	while (b < NEDGES && (double)latency_us / 1e6 > lat_edges[b])
		b++;
	__atomic_add_fetch(&a->m_latency[b], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&a->m_latency_sum_us, latency_us, __ATOMIC_RELAXED);
}

void h_health(struct call *c)
{
	struct buf body = BUF_INIT;
	struct jw w;
	int64_t v = store_data_version(c->w->store);
	jw_init(&w, &body);
	jw_obj(&w);
	jw_kstr(&w, "status", v >= 0 ? "ok" : "degraded");
	jw_kstr(&w, "version", CAIRN_VERSION);
	jw_kstr(&w, "database", "ok");
	jw_kint(&w, "uptime_seconds", (c->now - c->w->api->started_at) / USEC_PER_SEC);
	/* Records the background thread has yet to add to the search index. */
	jw_kint(&w, "search_index_pending", store_fts_pending(c->w->store));
	jw_ktime(&w, "time", c->now);
	jw_end(&w);
	api_json(c, 200, &body);
}

struct feed_metric_ctx {
	struct buf *b;
	int pass;
};

/* A feed name as a Prometheus label value: \ and " escaped (names hold neither, but safe). */
static void label(struct buf *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			buf_putc(b, '\\');
		buf_putc(b, *v);
	}
}

static int feed_metric(void *ctx, const struct feed_row *r)
{
	struct feed_metric_ctx *fm = ctx;
	static const char *const names[] = { "cairn_feed_last_run_timestamp_seconds",
					     "cairn_feed_last_success_timestamp_seconds",
					     "cairn_feed_next_run_timestamp_seconds", "cairn_feed_failures_in_a_row",
					     "cairn_feed_up" };
	int64_t v[] = { r->last_run / USEC_PER_SEC, r->last_ok / USEC_PER_SEC, r->next_run / USEC_PER_SEC,
			r->failures, r->last_run && r->failures == 0 };
	buf_printf(fm->b, "%s{feed=\"", names[fm->pass]);
	label(fm->b, r->name);
	buf_printf(fm->b, "\"} %lld\n", (long long)v[fm->pass]);
	return 0;
}

/* The feeds' pull state (GET /api/v1/feeds in short), a gauge family each. */
static void feed_metrics(struct call *c, struct buf *b)
{
	static const char *const help[] = {
		"cairn_feed_last_run_timestamp_seconds Time of the feed's last pull (0: never).",
		"cairn_feed_last_success_timestamp_seconds Time of the feed's last successful pull (0: never).",
		"cairn_feed_next_run_timestamp_seconds When the feed is due next.",
		"cairn_feed_failures_in_a_row Pulls that failed since the last success.",
		"cairn_feed_up 1 when the feed's last pull succeeded, else 0.",
	};
	struct err e = { 0 };
	for (int pass = 0; pass < 5; pass++) {
		const char *name_end = strchr(help[pass], ' ');
		buf_printf(b, "# HELP %s\n# TYPE %.*s gauge\n", help[pass], (int)(name_end - help[pass]), help[pass]);
		struct feed_metric_ctx fm = { b, pass };
		if (store_feed_def_list(c->w->store, NULL, feed_metric, &fm, &e) != 0)
			return;
	}
}

void h_metrics(struct call *c)
{
	struct api *a = c->w->api;
	struct buf *b = &c->resp->body;
	static const char *const cls[6] = { "429", "1xx", "2xx", "3xx", "4xx", "5xx" };
	buf_puts(b, "# HELP cairn_build_info cairn's version.\n# TYPE cairn_build_info gauge\n");
	buf_printf(b, "cairn_build_info{version=\"%s\"} 1\n", CAIRN_VERSION);
	buf_puts(b, "# HELP cairn_http_requests_total HTTP requests by endpoint and status class.\n"
		    "# TYPE cairn_http_requests_total counter\n");
	for (int r = 0; r < R_COUNT; r++)
		for (int k = 1; k < 6; k++) {
			int64_t n = __atomic_load_n(&a->m_requests[r][k], __ATOMIC_RELAXED);
			if (n)
				buf_printf(b, "cairn_http_requests_total{route=\"%s\",code=\"%s\"} %lld\n",
					   route_name((enum route)r), cls[k], (long long)n);
		}
	buf_puts(b, "# HELP cairn_http_request_duration_seconds Time to answer a request.\n"
		    "# TYPE cairn_http_request_duration_seconds histogram\n");
	int64_t cum = 0;
	for (size_t i = 0; i <= NEDGES; i++) {
		cum += __atomic_load_n(&a->m_latency[i], __ATOMIC_RELAXED);
		if (i < NEDGES)
			buf_printf(b, "cairn_http_request_duration_seconds_bucket{le=\"%g\"} %lld\n", lat_edges[i],
				   (long long)cum);
		else
			buf_printf(b, "cairn_http_request_duration_seconds_bucket{le=\"+Inf\"} %lld\n", (long long)cum);
	}
	buf_printf(b, "cairn_http_request_duration_seconds_sum %.6f\n",
		   (double)__atomic_load_n(&a->m_latency_sum_us, __ATOMIC_RELAXED) / 1e6);
	buf_printf(b, "cairn_http_request_duration_seconds_count %lld\n", (long long)cum);
	buf_printf(b, "# HELP cairn_rate_limited_total Requests refused with 429.\n"
		      "# TYPE cairn_rate_limited_total counter\ncairn_rate_limited_total %lld\n",
		   (long long)__atomic_load_n(&a->m_rate_limited, __ATOMIC_RELAXED));
	buf_printf(b, "# HELP cairn_auth_failures_total Requests refused for a missing, invalid or expired key.\n"
		      "# TYPE cairn_auth_failures_total counter\ncairn_auth_failures_total %lld\n",
		   (long long)__atomic_load_n(&a->m_auth_failures, __ATOMIC_RELAXED));
	pthread_mutex_lock(&a->lock);
	int64_t n = a->m_indicators;
	int64_t at = a->stats_at;
	pthread_mutex_unlock(&a->lock);
	if (at) {
		buf_printf(b, "# HELP cairn_indicators Indicator records at the last statistics refresh.\n"
			      "# TYPE cairn_indicators gauge\ncairn_indicators %lld\n", (long long)n);
	}
	buf_printf(b, "# HELP cairn_uptime_seconds Seconds since the server started.\n"
		      "# TYPE cairn_uptime_seconds gauge\ncairn_uptime_seconds %lld\n",
		   (long long)((c->now - a->started_at) / USEC_PER_SEC));
	allow_metrics(c, b);
	feed_metrics(c, b);
	c->resp->status = 200;
	c->resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

void stats_refresh(struct api *a, struct store *s, bool force)
{
	pthread_mutex_lock(&a->lock);
	/* A pass over a large database takes a while: never spend more than a tenth of the
	 * time on it, whatever the configured interval. */
	int64_t interval = a->cfg.stats_refresh_s * USEC_PER_SEC;
	if (interval < 10 * a->stats_cost_us)
		interval = 10 * a->stats_cost_us;
	if (a->stats_busy || (!force && a->stats_json && time_now_us() - a->stats_at < interval)) {
		pthread_mutex_unlock(&a->lock);
		return;
	}
	a->stats_busy = true;
	pthread_mutex_unlock(&a->lock);

	struct buf b = BUF_INIT;
	struct err e = { 0 };
	int64_t now = time_now_us();
	int64_t total = 0;
	int64_t t0 = time_mono_us();
	int rc = store_stats_json(s, &b, now, &e);
	if (rc == 0)
		rc = store_ioc_total(s, &total, &e);
	int64_t cost = time_mono_us() - t0;
	if (rc == 0) {
		char when[40];
		time_format_to(when, now, TIME_SEC);
		b.len--;	/* reopen the object to add SOC Defenders' last_updated */
		buf_printf(&b, ",\"last_updated\":\"%s\"}", when);
	}
	pthread_mutex_lock(&a->lock);
	if (rc == 0) {
		free(a->stats_json);
		a->stats_json = buf_take(&b);
		a->stats_at = now;
		a->stats_cost_us = cost;
		a->m_indicators = total;
	} else {
		log_error("computing statistics: %s", e.msg);
		/* Try again after a full interval, not on every tick. */
		a->stats_at = now;
	}
	a->stats_busy = false;
	pthread_mutex_unlock(&a->lock);
	buf_cleanup(&b);
}

/* Copies s to b with any sk_live_ key replaced, so no key reaches the log. */
static void redact_keys(struct buf *b, const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		if (n - i >= 8 && memcmp(s + i, "sk_live_", 8) == 0) {
			buf_puts(b, "sk_live_[REDACTED]");
			i += 8;
			while (i < n && ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
					 (s[i] >= 'A' && s[i] <= 'Z')))
				i++;
			continue;
		}
		buf_putc(b, s[i]);
		i++;
	}
}

void access_log_write(struct call *c, int64_t latency_us, size_t bytes)
{
	struct api *a = c->w->api;
	if (a->access_log == NULL)
		return;
	/* The query without api_key's value; then any other key-looking text redacted. */
	struct buf q = BUF_INIT, line = BUF_INIT, clean = BUF_INIT;
	const char *s = c->req->query;
	size_t len = c->req->query_len, i = 0;
	while (i < len) {
		size_t j = i;
		while (j < len && s[j] != '&')
			j++;
		if (q.len)
			buf_putc(&q, '&');
		if (j - i >= 8 && !strncmp(s + i, "api_key=", 8))
			buf_puts(&q, "api_key=[REDACTED]");
		else
			buf_append(&q, s + i, j - i);
		i = j + 1;
	}
	struct jw w;
	size_t ualen = 0;
	const char *ua = http_req_header(c->req, "user-agent", &ualen);
	jw_init(&w, &line);
	jw_obj(&w);
	jw_ktime(&w, "ts", c->now);
	jw_kstr(&w, "request_id", c->request_id);
	jw_key(&w, "method");
	jw_strn(&w, c->req->method, c->req->method_len);
	jw_key(&w, "path");
	jw_strn(&w, c->req->path, c->req->path_len > 512 ? 512 : c->req->path_len);
	jw_key(&w, "query");
	jw_strn(&w, q.data ? q.data : "", q.len > 1024 ? 1024 : q.len);
	jw_kint(&w, "status", c->resp->status);
	jw_kint(&w, "bytes", (int64_t)bytes);
	jw_key(&w, "duration_ms");
	jw_double(&w, (double)latency_us / 1000.0);
	jw_kstr(&w, "route", route_name(c->route));
	if (c->who.authenticated) {
		jw_kstr(&w, "key_id", c->who.key.id);
		jw_kstr(&w, "key_prefix", c->who.key.prefix);
		jw_kstr(&w, "tier", tier_name(c->who.key.tier));
	}
	jw_kstr(&w, "peer", c->req->peer);
	jw_key(&w, "user_agent");
	if (ua)
		jw_strn(&w, ua, ualen > 256 ? 256 : ualen);
	else
		jw_null(&w);
	jw_end(&w);
	redact_keys(&clean, line.data, line.len);
	buf_putc(&clean, '\n');
	pthread_mutex_lock(&a->log_lock);
	fwrite(clean.data, 1, clean.len, a->access_log);
	fflush(a->access_log);
	pthread_mutex_unlock(&a->log_lock);
	buf_cleanup(&q);
	buf_cleanup(&line);
	buf_cleanup(&clean);
}

static void *stats_main(void *arg)
{
	struct api *a = arg;
	struct store *s;
	struct err e = { 0 };
	if (store_open(&s, a->db_path, &a->cfg, 0, &e) != 0) {
		log_error("statistics: %s", e.msg);
		return NULL;
	}
	pthread_mutex_lock(&a->lock);
	while (!a->stats_stop) {
		pthread_mutex_unlock(&a->lock);
		/* First, so a new database's built-in list is in force before anything else. */
		allow_refresh(a, s);
		/* Bring the trigram index up to date, a chunk (one short transaction) at a time. */
		int64_t n;
		do {
			int64_t t0 = time_mono_us();
			if (store_fts_catch_up(s, 20000, &n, &e) != 0) {
				log_warn("indexing values for search: %s", e.msg);
				break;
			}
			/* At most half a core: rest as long as the chunk took. */
			int64_t took = time_mono_us() - t0;
			if (n > 0 && took > 0) {
				struct timespec ts = { (time_t)(took / USEC_PER_SEC), (long)(took % USEC_PER_SEC) * 1000 };
				nanosleep(&ts, NULL);
			}
			pthread_mutex_lock(&a->lock);
			bool stop = a->stats_stop;
			pthread_mutex_unlock(&a->lock);
			if (stop)
				break;
		} while (n > 0);
		stats_refresh(a, s, false);
		pthread_mutex_lock(&a->lock);
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;	/* wake each second: a request may have asked for a refresh */
		if (!a->stats_stop)
			pthread_cond_timedwait(&a->stats_cond, &a->lock, &until);
	}
	pthread_mutex_unlock(&a->lock);
	store_close(s);
	return NULL;
}

void stats_thread_start(struct api *a)
{
	if (pthread_create(&a->stats_thread, NULL, stats_main, a) == 0)
		a->stats_running = true;
	else
		log_error("cannot start the statistics thread; stats are computed on request");
}

void stats_thread_stop(struct api *a)
{
	if (!a->stats_running)
		return;
	pthread_mutex_lock(&a->lock);
	a->stats_stop = true;
	pthread_cond_broadcast(&a->stats_cond);
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->stats_thread, NULL);
	a->stats_running = false;
}
