/*
 * The API's skeleton: the process-wide state, worker threads, routing, and
 * what every request goes through (request id, authentication, rate limit,
 * headers, usage, metrics and the access log).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "allow/allow.h"
#include "api/api_int.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "base/xmalloc.h"

const char *route_name(enum route r)
{
	static const char *const names[R_COUNT] = {
		"other", "/api/v1/iocs", "/api/v1/iocs/search", "/api/v1/lookup", "POST /api/v1/lookup",
		"/api/v1/iocs/{id}", "POST /api/v1/iocs", "/api/v1/iocs/{id}/revoke", "/api/v1/iocs/stats",
		"/api/v1/keys", "/api/v1/keys/{id}", "/api/v1/keys/{id}/usage", "/api/v1/usage", "/healthz",
		"/metrics", "/api/v1/iocs/stix", "/api/v1/iocs/sigma", "/api/v1/iocs/misp",
		"/api/v1/iocs/cef", "/api/v1/iocs/openioc", "/api/v1/iocs/ecs", "/api/taxii2",
		"POST /api/taxii2 objects", "/api/v1/feeds", "/api/v1/iocs/splunk",
	};
	return r < R_COUNT ? names[r] : "other";
}

void api_versions(struct api_worker *w)
{
	if (w->versions_req == w->req_counter)
		return;	/* once per request */
	w->versions_req = w->req_counter;
	int64_t dv = store_data_version(w->store);
	if (dv != w->data_version || w->clock == 0) {
		w->data_version = dv;
		w->clock = store_clock(w->store);
	}
}

static void *thread_init(void *ctx, int no, struct err *e)
{
	struct api *a = ctx;
	struct api_worker *w = xcalloc(1, sizeof(*w));
	w->api = a;
	w->no = no;
	crypto_random(&w->req_prefix, sizeof(w->req_prefix));
	if (store_open(&w->store, a->db_path, &a->cfg, 0, e) != 0) {
		free(w);
		return NULL;
	}
	if (no == 0) {
		/* The allow-lists' matcher before the first request (and a new database's
		 * built-in list applied). */
		allow_refresh(a, w->store);
		stats_thread_start(a);
		feeds_thread_start(a);
	}
	return w;
}

static void cache_clear(struct api_worker *w)
{
	for (int i = 0; i < CACHE_SLOTS; i++) {
		free(w->cache[i].key);
		http_shared_unref(w->cache[i].body);
	}
	memset(w->cache, 0, sizeof(w->cache));
}

static void thread_fini(void *tctx)
{
	struct api_worker *w = tctx;
	if (w == NULL)
		return;
	if (w->no == 0) {
		feeds_thread_stop(w->api);
		stats_thread_stop(w->api);
		usage_flush(w->api, w->store);
	}
	cache_clear(w);
	store_close(w->store);
	free(w);
}

/* Periodic work runs on worker 0: flushing usage, refreshing stats. */
static void tick(void *tctx)
{
	struct api_worker *w = tctx;
	struct api *a = w->api;
	if (w->no != 0)
		return;
	int64_t now = time_now_us();
	if (now - a->last_flush_us >= 2 * USEC_PER_SEC) {
		a->last_flush_us = now;
		usage_flush(a, w->store);
	}
}

static bool path_is(const char *path, const char *want)
{
	size_t n = strlen(want);
	/* Both /x and /x/ name the same resource. */
	return strncmp(path, want, n) == 0 && (path[n] == '\0' || (path[n] == '/' && path[n + 1] == '\0'));
}

/* If path is prefix + "{seg}" + suffix, copies seg into out. */
static bool path_param(const char *path, const char *prefix, const char *suffix, char *out, size_t cap)
{
	size_t pn = strlen(prefix);
	if (strncmp(path, prefix, pn) != 0)
		return false;
	const char *seg = path + pn;
	const char *end = strchr(seg, '/');
	size_t len = end ? (size_t)(end - seg) : strlen(seg);
	const char *rest = seg + len;
	if (len == 0 || len >= cap)
		return false;
	if (strcmp(rest, suffix) != 0 && !(rest[0] && strncmp(rest, suffix, strlen(suffix)) == 0 &&
					   !strcmp(rest + strlen(suffix), "/")))
		return false;
	if (*suffix == '\0' && *rest != '\0' && strcmp(rest, "/") != 0)
		return false;
	memcpy(out, seg, len);
	out[len] = '\0';
	return true;
}

static bool method_is(struct call *c, const char *m)
{
	return c->req->method_len == strlen(m) && memcmp(c->req->method, m, c->req->method_len) == 0;
}

static void method_not_allowed(struct call *c, const char *allow)
{
	http_resp_header(c->resp, "allow", "%s", allow);
	api_error(c, 405, "method_not_allowed", NULL, "%.*s is not allowed here; use %s",
		  (int)c->req->method_len, c->req->method, allow);
}

static void rate_headers(struct call *c)
{
	if (!c->rv_set)
		return;
	http_resp_header(c->resp, "x-ratelimit-limit", "%lld", (long long)c->rv.limit);
	http_resp_header(c->resp, "x-ratelimit-remaining", "%lld", (long long)c->rv.remaining);
	http_resp_header(c->resp, "x-ratelimit-reset", "%lld", (long long)c->rv.reset);
}

/* Authentication and the rate limit, for every endpoint that needs a key. */
static bool admit(struct call *c, bool consume)
{
	if (!api_authenticate(c))
		return false;
	struct api *a = c->w->api;
	c->rv = rate_check(a, &c->who.key, c->who.tier, time_now_us(), consume);
	c->rv_set = true;
	if (!c->rv.allowed && consume) {
		__atomic_add_fetch(&a->m_rate_limited, 1, __ATOMIC_RELAXED);
		http_resp_header(c->resp, "retry-after", "%lld", (long long)c->rv.retry_after);
		api_error(c, 429, "rate_limit_exceeded", NULL,
			  "Rate limit exceeded (%lld requests). Check the X-RateLimit-Reset header and"
			  " retry after %lld seconds.", (long long)c->rv.limit, (long long)c->rv.retry_after);
		return false;
	}
	return true;
}

static void dispatch(struct call *c)
{
	const char *p = c->path;
	char id[128];
	bool get = method_is(c, "GET") || method_is(c, "HEAD");

	if (path_is(p, "/healthz")) {
		c->route = R_HEALTH;
		if (!get)
			{ method_not_allowed(c, "GET"); return; }
		{ h_health(c); return; }
	}
	if (path_is(p, "/metrics")) {
		c->route = R_METRICS;
		if (!get)
			{ method_not_allowed(c, "GET"); return; }
		{ h_metrics(c); return; }
	}
	if (c->taxii) {
		c->route = method_is(c, "POST") ? R_TAXII_ADD : R_TAXII;
		if (admit(c, true))
			h_taxii(c);
		return;
	}
	if (strncmp(p, "/api/v1/", 8) != 0) {
		c->route = R_NONE;
		{ api_error(c, 404, "not_found", NULL, "No such endpoint: %.200s", p); return; }
	}

	/* Identify the route first, so even an unauthenticated call is counted under it. */
	if (path_is(p, "/api/v1/iocs"))
		c->route = method_is(c, "POST") ? R_SUBMIT : R_LIST;
	else if (path_is(p, "/api/v1/iocs/search"))
		c->route = R_SEARCH;
	else if (path_is(p, "/api/v1/iocs/stats"))
		c->route = R_STATS;
	else if (path_is(p, "/api/v1/iocs/stix"))
		c->route = R_STIX;
	else if (path_is(p, "/api/v1/iocs/sigma"))
		c->route = R_SIGMA;
	else if (path_is(p, "/api/v1/iocs/cef"))
		c->route = R_CEF;
	else if (path_is(p, "/api/v1/iocs/openioc"))
		c->route = R_OPENIOC;
	else if (path_is(p, "/api/v1/iocs/misp"))
		c->route = R_MISP;
	else if (path_is(p, "/api/v1/iocs/ecs"))
		c->route = R_ECS;
	else if (path_is(p, "/api/v1/iocs/splunk"))
		c->route = R_SPLUNK;
	else if (path_is(p, "/api/v1/lookup"))
		c->route = method_is(c, "POST") ? R_LOOKUP_BULK : R_LOOKUP;
	else if (path_is(p, "/api/v1/usage"))
		c->route = R_USAGE;
	else if (path_is(p, "/api/v1/feeds"))
		c->route = R_FEEDS;
	else if (path_is(p, "/api/v1/keys"))
		c->route = R_KEYS;
	else if (path_param(p, "/api/v1/keys/", "/usage", id, sizeof(id)))
		c->route = R_KEY_USAGE;
	else if (path_param(p, "/api/v1/keys/", "", id, sizeof(id)))
		c->route = R_KEY;
	else if (path_param(p, "/api/v1/iocs/", "/revoke", id, sizeof(id)))
		c->route = R_REVOKE;
	else if (path_param(p, "/api/v1/iocs/", "", id, sizeof(id)))
		c->route = R_GET;
	else
		{ api_error(c, 404, "not_found", NULL, "No such endpoint: %.200s", p); return; }

	/* The caller's own usage is always answerable, and costs nothing. */
	if (!admit(c, c->route != R_USAGE))
		return;

	switch (c->route) {
	case R_LIST:
		{ get ? h_list(c) : method_not_allowed(c, "GET, POST"); return; }
	case R_SUBMIT:
		{ h_submit(c); return; }
	case R_SEARCH:
		{ get ? h_search(c) : method_not_allowed(c, "GET"); return; }
	case R_STATS:
		{ get ? h_stats(c) : method_not_allowed(c, "GET"); return; }
	case R_STIX:
		{ get ? h_stix(c) : method_not_allowed(c, "GET"); return; }
	case R_SIGMA:
		{ get ? h_sigma(c) : method_not_allowed(c, "GET"); return; }
	case R_CEF:
		{ get ? h_cef(c) : method_not_allowed(c, "GET"); return; }
	case R_OPENIOC:
		{ get ? h_openioc(c) : method_not_allowed(c, "GET"); return; }
	case R_MISP:
		{ get ? h_misp(c) : method_not_allowed(c, "GET"); return; }
	case R_ECS:
		{ get ? h_ecs(c) : method_not_allowed(c, "GET"); return; }
	case R_SPLUNK:
		{ get ? h_splunk(c) : method_not_allowed(c, "GET"); return; }
	case R_LOOKUP:
		{ get ? h_lookup(c) : method_not_allowed(c, "GET, POST"); return; }
	case R_LOOKUP_BULK:
		{ h_lookup_bulk(c); return; }
	case R_USAGE:
		{ get ? h_usage(c) : method_not_allowed(c, "GET"); return; }
	case R_FEEDS:
		{ get ? h_feeds(c) : method_not_allowed(c, "GET"); return; }
	case R_KEYS:
		if (get || method_is(c, "POST"))
			{ h_keys(c); return; }
		{ method_not_allowed(c, "GET, POST"); return; }
	case R_KEY_USAGE:
		{ get ? h_key_usage(c, id) : method_not_allowed(c, "GET"); return; }
	case R_KEY:
		if (get || method_is(c, "DELETE"))
			{ h_key(c, id); return; }
		{ method_not_allowed(c, "GET, DELETE"); return; }
	case R_REVOKE:
		{ method_is(c, "POST") ? h_revoke(c, id) : method_not_allowed(c, "POST"); return; }
	case R_GET:
		{ get ? h_get(c, id) : method_not_allowed(c, "GET"); return; }
	default:
		{ api_error(c, 404, "not_found", NULL, "No such endpoint"); return; }
	}
}

static void handle(void *tctx, struct http_req *req, struct http_resp *resp)
{
	struct api_worker *w = tctx;
	struct api *a = w->api;
	struct call c;
	memset(&c, 0, sizeof(c));
	c.w = w;
	c.req = req;
	c.resp = resp;
	c.now = time_now_us();
	snprintf(c.request_id, sizeof(c.request_id), "req_%08x%012llx", (unsigned)w->req_prefix,
		 (unsigned long long)(++w->req_counter * 2 + (unsigned)w->no) & 0xffffffffffffULL);
	char *path = xstrndup(req->path, req->path_len);
	c.path = path;
	/* TAXII requests get TAXII errors from the first check on. */
	c.taxii = strncmp(path, "/api/taxii2", 11) == 0 && (path[11] == '\0' || path[11] == '/');

	if (req->header_bytes > a->cfg.max_header_bytes) {
		api_error(&c, 431, "request_headers_too_large", NULL,
			  "Request headers exceed %zu bytes", a->cfg.max_header_bytes);
	} else if (memchr(req->path, '\0', req->path_len) != NULL || !utf8_valid(req->path, req->path_len)) {
		api_error(&c, 400, "invalid_parameter", NULL, "The request path is not valid UTF-8");
	} else {
		struct err e = { 0 };
		if (query_parse(&c.q, req->query, req->query_len, &e) != 0) {
			char det[128] = "{}";
			if (c.q.bad[0])
				snprintf(det, sizeof(det), "{\"parameter\":\"%s\"}", c.q.bad);
			api_error(&c, e.code == ERR_TOO_LARGE ? 414 : 400,
				  e.code == ERR_TOO_LARGE ? "uri_too_long" : "invalid_parameter", det, "%s",
				  e.msg);
		}
		else
			dispatch(&c);
	}

	http_resp_header(resp, "x-request-id", "%s", c.request_id);
	rate_headers(&c);
	int64_t latency = time_mono_us() - req->start_us;
	size_t bytes = resp->shared ? http_shared_len(resp->shared) : resp->body.len;
	metrics_note(a, c.route, resp->status, latency);
	if (c.who.authenticated)
		usage_note(a, &c.who.key, c.route, resp->status, latency, c.now);
	access_log_write(&c, latency, bytes);
	query_cleanup(&c.q);
	free(path);
}

struct api *api_new(const struct config *cfg, const char *db_path, struct err *e)
{
	struct api *a = xcalloc(1, sizeof(*a));
	a->cfg = *cfg;
	a->db_path = db_path;
	a->started_at = time_now_us();
	a->last_flush_us = a->started_at;
	pthread_mutex_init(&a->lock, NULL);
	pthread_mutex_init(&a->log_lock, NULL);
	pthread_mutex_init(&a->allow_lock, NULL);
	pthread_cond_init(&a->stats_cond, NULL);
	if (!strcmp(cfg->access_log, "-")) {
		a->access_log = stdout;
	} else if (cfg->access_log[0]) {
		a->access_log = fopen(cfg->access_log, "a");
		if (a->access_log == NULL) {
			err_set(e, ERR_IO, "cannot open access log '%s': %s", cfg->access_log, strerror(errno));
			free(a);
			return NULL;
		}
	}
	a->app.ctx = a;
	a->app.thread_init = thread_init;
	a->app.thread_fini = thread_fini;
	a->app.handle = handle;
	a->app.tick = tick;
	return a;
}

int api_flush(struct api *a, struct err *e)
{
	struct store *s;
	if (store_open(&s, a->db_path, &a->cfg, 0, e) != 0)
		return ERR_DB;
	usage_flush(a, s);
	store_close(s);
	return 0;
}

const struct http_app *api_http_app(struct api *a)
{
	return &a->app;
}

void api_free(struct api *a)
{
	if (a == NULL)
		return;
	for (int i = 0; i < 256; i++) {
		while (a->rates[i]) {
			struct rate_state *n = a->rates[i]->next;
			free(a->rates[i]);
			a->rates[i] = n;
		}
		while (a->usage[i]) {
			struct usage_acc *n = a->usage[i]->next;
			free(a->usage[i]);
			a->usage[i] = n;
		}
	}
	if (a->access_log && a->access_log != stdout)
		fclose(a->access_log);
	else if (a->access_log)
		fflush(a->access_log);
	free(a->stats_json);
	allow_set_unref(a->allow);
	free(a);
}
