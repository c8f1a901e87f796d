/*
 * Key management (admin scope) and the caller's own usage.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "base/log.h"
#include "base/timeutil.h"

static void scopes_array(struct jw *w, unsigned scopes)
{
	jw_arr(w);
	for (int i = 0; i < SCOPE_COUNT; i++)
		if (scopes & (1u << i))
			jw_str(w, scope_name(1u << i));
	jw_end(w);
}

static void render_key(struct call *c, struct jw *w, const struct api_key *k, bool detail,
		       const char *secret)
{
	const struct tier_conf *t = &c->w->api->cfg.tier[k->tier >= 0 && k->tier < TIER_COUNT ? k->tier : 0];
	jw_obj(w);
	jw_kstr(w, "id", k->id);
	jw_kstr(w, "key_prefix", k->prefix);
	jw_kstr(w, "name", k->name);
	jw_kstr(w, "tier", tier_name(k->tier));
	jw_key(w, "scopes");
	scopes_array(w, k->scopes);
	jw_kint(w, "total_requests", k->total_requests);
	jw_ktime(w, "last_used_at", k->last_used_at);
	jw_ktime(w, "created_at", k->created_at);
	jw_ktime(w, "expires_at", k->expires_at);
	jw_ktime(w, "revoked_at", k->revoked_at);
	jw_kint(w, "rate_limit_per_minute", t->per_minute);
	jw_kint(w, "rate_limit_per_day", t->per_day);
	if (detail) {
		jw_key(w, "allowed_ips");
		jw_null(w);
		if (k->revoked_at) {
			jw_key(w, "revoke_reason");
			if (k->revoke_reason[0])
				jw_str(w, k->revoke_reason);
			else
				jw_null(w);
		}
	}
	if (secret) {
		/* Shown this once; never stored, never logged. */
		jw_kstr(w, "key_preview", "sk_live_\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2"
					  "\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2");
		jw_kstr(w, "key", secret);
	}
	jw_end(w);
}

struct key_list_ctx {
	struct call *c;
	struct jw *w;
	int64_t n;
};

static int key_row(void *ctx, const struct api_key *k)
{
	struct key_list_ctx *kc = ctx;
	render_key(kc->c, kc->w, k, false, NULL);
	kc->n++;
	return 0;
}

static void key_create(struct call *c)
{
	json_error_t je;
	json_t *j = c->req->body_len ? json_loadb(c->req->body, c->req->body_len, 0, &je) : NULL;
	const char *name;
	int tier = TIER_FREE;
	unsigned scopes = 0;
	int64_t expires = 0;
	if (!json_is_object(j)) {
		api_error(c, 400, "invalid_parameter", "{\"parameter\":\"body\"}",
			  "The body must be a JSON object with a 'name'");
		goto out;
	}
	name = json_string_value(json_object_get(j, "name"));
	if (name == NULL || !*name || strlen(name) > 100) {
		api_error(c, 400, "invalid_parameter", "{\"parameter\":\"name\"}",
			  "'name' is required: a string of 1 to 100 characters");
		goto out;
	}
	json_t *tv = json_object_get(j, "tier");
	if (tv && (!json_is_string(tv) || (tier = tier_from_name(json_string_value(tv))) < 0)) {
		api_error(c, 400, "invalid_parameter", "{\"parameter\":\"tier\"}",
			  "'tier' must be free, pro or admin");
		goto out;
	}
	json_t *sv = json_object_get(j, "scopes");
	if (sv) {
		size_t i;
		json_t *x;
		if (!json_is_array(sv))
			goto bad_scope;
		json_array_foreach(sv, i, x) {
			unsigned bit = json_is_string(x) ? scope_from_name(json_string_value(x)) : 0;
			if (bit == 0)
				goto bad_scope;
			scopes |= bit;
		}
		if (scopes == 0)
			goto bad_scope;
	}
	json_t *ev = json_object_get(j, "expires_in_days");
	if (ev && !json_is_null(ev)) {
		if (!json_is_integer(ev) || json_integer_value(ev) < 1 || json_integer_value(ev) > 365) {
			api_error(c, 400, "invalid_parameter", "{\"parameter\":\"expires_in_days\"}",
				  "'expires_in_days' must be an integer from 1 to 365");
			goto out;
		}
		expires = c->now + json_integer_value(ev) * USEC_PER_DAY;
	}
	struct api_key k;
	char secret[API_KEY_LEN + 1];
	struct err e = { 0 };
	if (store_key_create(c->w->store, name, tier, scopes, expires, &k, secret, &e) != 0) {
		log_error("%s: %s", c->request_id, e.msg);
		api_error(c, 500, "internal_error", NULL, "The key could not be created.");
		goto out;
	}
	log_info("%s: key %s (%s, %s) created by %s", c->request_id, k.prefix, k.name, tier_name(tier),
		 c->who.key.prefix);
	struct buf body = BUF_INIT;
	struct jw w;
	jw_init(&w, &body);
	jw_obj(&w);
	jw_key(&w, "data");
	render_key(c, &w, &k, false, secret);
	memset(secret, 0, sizeof(secret));
	meta_open(c, &w);
	jw_kstr(&w, "warning", "Store this API key securely. It will not be shown again.");
	jw_end(&w);
	jw_end(&w);
	api_json(c, 201, &body);
	goto out;
bad_scope:
	api_error(c, 400, "invalid_parameter", "{\"parameter\":\"scopes\"}",
		  "'scopes' must be a non-empty array of read:iocs, read:stix, read:sigma, read:misp,"
		  " read:cef, read:openioc, read:taxii, write:iocs, admin");
out:
	json_decref(j);
}

void h_keys(struct call *c)
{
	if (!api_require_scope(c, SCOPE_ADMIN))
		return;
	if (c->req->method[0] == 'P') {
		key_create(c);
		return;
	}
	struct buf body = BUF_INIT;
	struct jw w;
	jw_init(&w, &body);
	jw_obj(&w);
	jw_key(&w, "data");
	jw_arr(&w);
	struct key_list_ctx kc = { .c = c, .w = &w };
	struct err e = { 0 };
	if (store_key_list(c->w->store, key_row, &kc, &e) != 0) {
		buf_cleanup(&body);
		log_error("%s: %s", c->request_id, e.msg);
		api_error(c, 500, "internal_error", NULL, "Keys could not be listed.");
		return;
	}
	jw_end(&w);
	meta_open(c, &w);
	jw_kint(&w, "total", kc.n);
	jw_end(&w);
	jw_end(&w);
	api_json(c, 200, &body);
}

static bool find_key(struct call *c, const char *id, struct api_key *k)
{
	struct err e = { 0 };
	if (!uuid_valid(id, strlen(id))) {
		api_error(c, 400, "invalid_parameter", "{\"parameter\":\"id\"}", "The key id must be a UUID");
		return false;
	}
	int rc = store_key_get(c->w->store, id, k, &e);
	if (rc == ERR_NOT_FOUND) {
		api_error(c, 404, "not_found", NULL, "No key with id %s", id);
		return false;
	}
	if (rc) {
		log_error("%s: %s", c->request_id, e.msg);
		api_error(c, 500, "internal_error", NULL, "The key could not be read.");
		return false;
	}
	return true;
}

void h_key(struct call *c, const char *id)
{
	if (!api_require_scope(c, SCOPE_ADMIN))
		return;
	struct api_key k;
	if (!find_key(c, id, &k))
		return;
	struct buf body = BUF_INIT;
	struct jw w;
	jw_init(&w, &body);
	jw_obj(&w);
	if (c->req->method[0] == 'D') {
		const char *reason = "";
		json_t *j = NULL;
		if (c->req->body_len) {
			json_error_t je;
			j = json_loadb(c->req->body, c->req->body_len, 0, &je);
			if (!json_is_object(j) || (json_object_get(j, "reason") &&
						   !json_is_string(json_object_get(j, "reason")))) {
				json_decref(j);
				buf_cleanup(&body);
				api_error(c, 400, "invalid_parameter", "{\"parameter\":\"reason\"}",
					  "The body must be {\"reason\": \"…\"}");
				return;
			}
			reason = json_string_value(json_object_get(j, "reason"));
			if (reason == NULL)
				reason = "";
		}
		struct err e = { 0 };
		int rc = k.revoked_at ? 0 : store_key_revoke(c->w->store, k.id, reason, &e);
		json_decref(j);
		if (rc) {
			buf_cleanup(&body);
			log_error("%s: %s", c->request_id, e.msg);
			api_error(c, 500, "internal_error", NULL, "The key could not be revoked.");
			return;
		}
		__atomic_add_fetch(&c->w->api->keys_generation, 1, __ATOMIC_RELEASE);
		log_info("%s: key %s revoked by %s", c->request_id, k.prefix, c->who.key.prefix);
		jw_kbool(&w, "success", true);
		jw_kstr(&w, "message", "API key revoked successfully");
	} else {
		jw_key(&w, "data");
		render_key(c, &w, &k, true, NULL);
		meta_open(c, &w);
		jw_end(&w);
	}
	jw_end(&w);
	api_json(c, 200, &body);
}

struct usage_sum {
	struct key_usage_day total;
	int64_t peak_day;
	struct jw *w;
	int64_t from_day;
};

static int usage_row(void *ctx, const struct key_usage_day *u)
{
	struct usage_sum *s = ctx;
	struct key_usage_day *t = &s->total;
	t->requests += u->requests;
	t->ok += u->ok;
	t->client_errors += u->client_errors;
	t->server_errors += u->server_errors;
	t->rate_limited += u->rate_limited;
	t->latency_us_sum += u->latency_us_sum;
	for (int i = 0; i < USAGE_LAT_BUCKETS; i++)
		t->lat[i] += u->lat[i];
	for (int i = 0; i < USAGE_ROUTES; i++)
		t->routes[i] += u->routes[i];
	for (int i = 0; i < 24; i++)
		t->hours[i] += u->hours[i];
	if (u->peak_minute > t->peak_minute)
		t->peak_minute = u->peak_minute;
	if (u->requests > s->peak_day)
		s->peak_day = u->requests;
	char date[16];
	time_format_date(date, u->day * USEC_PER_DAY);
	jw_obj(s->w);
	jw_kstr(s->w, "date", date);
	jw_kint(s->w, "requests", u->requests);
	jw_kint(s->w, "errors", u->client_errors + u->server_errors);
	jw_end(s->w);
	return 0;
}

/* The latency below which a fraction q of requests fell, in ms (bucket upper edge). */
static double percentile_ms(const int64_t *lat, int64_t n, double q)
{
	if (n == 0)
		return 0;
	int64_t want = (int64_t)((double)n * q + 0.999999), seen = 0;
	double edge = 0.05;
	for (int i = 0; i < USAGE_LAT_BUCKETS; i++, edge *= 2) {
		seen += lat[i];
		if (seen >= want)
			return edge;
	}
	return edge;
}

void h_key_usage(struct call *c, const char *id)
{
	if (!api_require_scope(c, SCOPE_ADMIN))
		return;
	int64_t days = 30;
	if (!param_int(c, "days", 1, 90, &days, NULL))
		return;
	struct api_key k;
	if (!find_key(c, id, &k))
		return;
	/* Include what the server has not flushed yet. */
	usage_flush(c->w->api, c->w->store);
	struct buf body = BUF_INIT, daily = BUF_INIT;
	struct jw w, dw;
	jw_init(&dw, &daily);
	jw_arr(&dw);
	struct usage_sum s = { .w = &dw, .from_day = c->now / USEC_PER_DAY - days + 1 };
	struct err e = { 0 };
	if (store_key_usage(c->w->store, k.id, s.from_day, usage_row, &s, &e) != 0) {
		buf_cleanup(&daily);
		log_error("%s: %s", c->request_id, e.msg);
		api_error(c, 500, "internal_error", NULL, "Usage could not be read.");
		return;
	}
	jw_end(&dw);
	struct key_usage_day *t = &s.total;
	jw_init(&w, &body);
	jw_obj(&w);
	jw_key(&w, "data");
	jw_obj(&w);
	jw_kstr(&w, "key_id", k.id);
	jw_kint(&w, "window_days", days);
	jw_kint(&w, "total_requests", t->requests);
	jw_kint(&w, "successful", t->ok);
	jw_kint(&w, "client_errors", t->client_errors);
	jw_kint(&w, "server_errors", t->server_errors);
	jw_kint(&w, "rate_limited", t->rate_limited);
	jw_key(&w, "success_rate");
	jw_double(&w, t->requests ? (double)t->ok / (double)t->requests : 0.0);
	jw_key(&w, "avg_response_time_ms");
	jw_double(&w, t->requests ? (double)t->latency_us_sum / (double)t->requests / 1000.0 : 0.0);
	jw_key(&w, "latency_p50_ms");
	jw_double(&w, percentile_ms(t->lat, t->requests, 0.50));
	jw_key(&w, "latency_p95_ms");
	jw_double(&w, percentile_ms(t->lat, t->requests, 0.95));
	jw_key(&w, "latency_p99_ms");
	jw_double(&w, percentile_ms(t->lat, t->requests, 0.99));
	jw_kint(&w, "rate_limit_peak_per_minute", t->peak_minute);
	jw_kint(&w, "rate_limit_peak_per_day", s.peak_day);
	jw_key(&w, "top_endpoints");
	jw_arr(&w);
	for (int pass = 0; pass < R_COUNT; pass++) {
		int best = -1;
		for (int r = 0; r < R_COUNT; r++)
			if (t->routes[r] > 0 && (best < 0 || t->routes[r] > t->routes[best]))
				best = r;
		if (best < 0)
			break;
		jw_obj(&w);
		jw_kstr(&w, "path", route_name((enum route)best));
		jw_kint(&w, "count", t->routes[best]);
		jw_end(&w);
		t->routes[best] = -t->routes[best];	/* taken */
	}
	jw_end(&w);
	jw_key(&w, "by_status");
	jw_obj(&w);
	jw_kint(&w, "2xx", t->ok);
	jw_kint(&w, "4xx", t->client_errors);
	jw_kint(&w, "5xx", t->server_errors);
	jw_kint(&w, "429", t->rate_limited);
	jw_end(&w);
	jw_key(&w, "daily");
	jw_raw(&w, daily.data, daily.len);
	jw_key(&w, "rate_limit_hits_by_hour");
	jw_arr(&w);
	for (int h = 0; h < 24; h++) {
		if (t->hours[h] == 0)
			continue;
		jw_obj(&w);
		jw_kint(&w, "hour", h);
		jw_kint(&w, "count", t->hours[h]);
		jw_end(&w);
	}
	jw_end(&w);
	jw_end(&w);
	meta_open(c, &w);
	jw_end(&w);
	jw_end(&w);
	buf_cleanup(&daily);
	api_json(c, 200, &body);
}

void h_usage(struct call *c)
{
	const struct tier_conf *t = c->who.tier;
	struct rate_verdict v = rate_check(c->w->api, &c->who.key, t, time_now_us(), false);
	struct buf body = BUF_INIT;
	struct jw w;
	jw_init(&w, &body);
	jw_obj(&w);
	jw_key(&w, "data");
	jw_obj(&w);
	jw_kstr(&w, "key_id", c->who.key.id);
	jw_kstr(&w, "key_prefix", c->who.key.prefix);
	jw_kstr(&w, "name", c->who.key.name);
	jw_kstr(&w, "tier", tier_name(c->who.key.tier));
	jw_key(&w, "scopes");
	scopes_array(&w, c->who.key.scopes);
	jw_ktime(&w, "expires_at", c->who.key.expires_at);
	jw_key(&w, "limits");
	jw_obj(&w);
	jw_kint(&w, "requests_per_minute", t->per_minute);
	jw_kint(&w, "requests_per_day", t->per_day);
	jw_kint(&w, "max_results", t->max_results);
	jw_kint(&w, "lookback_days", t->lookback_days);
	jw_kbool(&w, "pro_endpoints", t->pro_endpoints);
	jw_key(&w, "formats");
	jw_arr(&w);
	jw_str(&w, "json");
	if (t->all_formats) {
		jw_str(&w, "csv");
		jw_str(&w, "txt");
		jw_str(&w, "hosts");
		jw_str(&w, "rpz");
	}
	jw_end(&w);
	jw_end(&w);
	jw_key(&w, "usage");
	jw_obj(&w);
	jw_key(&w, "minute");
	jw_obj(&w);
	jw_kint(&w, "used", v.minute_used);
	jw_kint(&w, "remaining", t->per_minute > v.minute_used ? t->per_minute - v.minute_used : 0);
	jw_end(&w);
	jw_key(&w, "day");
	jw_obj(&w);
	jw_kint(&w, "used", v.day_used);
	jw_kint(&w, "remaining", t->per_day > v.day_used ? t->per_day - v.day_used : 0);
	jw_end(&w);
	jw_end(&w);
	jw_kint(&w, "total_requests", c->who.key.total_requests);
	jw_end(&w);
	meta_open(c, &w);
	jw_end(&w);
	jw_end(&w);
	c->rv = v;	/* the headers show the same numbers */
	api_json(c, 200, &body);
}
