/*
 * Who is calling, what they may do, and how much: key extraction and
 * verification, scopes and tiers, rolling rate-limit windows, and per-key
 * usage counters.
 *
 * Keys are looked up by their SHA-256 (the store compares the stored hash in
 * constant time); the secret itself is never kept, copied or logged.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_int.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "base/xmalloc.h"

static bool is_key_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Decodes base64 (standard alphabet) of n bytes into out; returns length or -1. */
static long b64_decode(const char *s, size_t n, char *out, size_t cap)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned v = 0;
	int bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '=')
			break;
		const char *p = memchr(al, s[i], 64);
		if (p == NULL)
			return -1;
		v = v << 6 | (unsigned)(p - al);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -1;
			out[o++] = (char)(v >> bits & 0xff);
		}
	}
	return (long)o;
}

/* Finds the presented key: Bearer, X-API-Key, HTTP Basic (password), ?api_key=. */
static bool presented_key(struct call *c, char *out, size_t cap, bool *present)
{
	size_t len = 0;
	const char *v = http_req_header(c->req, "authorization", &len);
	*present = false;
	if (v && len > 7 && strncasecmp(v, "Bearer ", 7) == 0) {
		v += 7;
		len -= 7;
		while (len && *v == ' ')
			v++, len--;
	} else if (v && len > 6 && strncasecmp(v, "Basic ", 6) == 0) {
		char dec[256];
		long n = b64_decode(v + 6, len - 6, dec, sizeof(dec) - 1);
		*present = true;
		if (n < 0)
			return false;
		dec[n] = '\0';
		char *colon = strchr(dec, ':');
		if (colon == NULL)
			return false;
		*colon = '\0';
		if (dec[0] && strcmp(dec, "apikey") != 0)
			return false;
		v = colon + 1;
		len = strlen(v);
		if (len + 1 > cap)
			return false;
		memcpy(out, v, len + 1);
		return true;
	} else if ((v = http_req_header(c->req, "x-api-key", &len)) == NULL) {
		const struct query_param *p = query_get(&c->q, "api_key");
		if (p == NULL)
			return false;
		v = p->val;
		len = p->val_len;
	}
	*present = true;
	if (len + 1 > cap)
		return false;
	memcpy(out, v, len);
	out[len] = '\0';
	return true;
}

static bool well_formed(const char *k)
{
	size_t n = strlen(k);
	if (n < 8 + 32 || n > 128 || strncmp(k, API_KEY_PREFIX, 8) != 0)
		return false;
	for (size_t i = 8; i < n; i++)
		if (!is_key_char(k[i]))
			return false;
	return true;
}

/*
 * Keys by hash, through a per-worker cache. An entry holds while the database has not
 * changed (any commit, here or in another process, such as `cairn keys revoke`), no key
 * was revoked through this server, and it is under 5 s old.
 */
static int key_lookup(struct call *c, const uint8_t hash[32], struct api_key *out, struct err *e)
{
	struct api_worker *w = c->w;
	api_versions(w);
	int64_t version = w->data_version;
	int64_t gen = __atomic_load_n(&w->api->keys_generation, __ATOMIC_ACQUIRE);
	int64_t now = time_mono_us();
	unsigned slot = hash[0] % KEY_CACHE_SLOTS;
	struct key_cache_entry *ce = &w->keys[slot];
	if (ce->valid && ce->version == version && ce->generation == gen && now - ce->at < 5 * USEC_PER_SEC &&
	    crypto_equal(ce->key.hash, hash, 32)) {
		*out = ce->key;
		return 0;
	}
	int rc = store_key_by_hash(w->store, hash, out, e);
	if (rc == 0) {
		ce->key = *out;
		ce->version = version;
		ce->generation = gen;
		ce->at = now;
		ce->valid = true;
	}
	return rc;
}

bool api_authenticate(struct call *c)
{
	struct api *a = c->w->api;
	char key[160];
	bool present;
	bool got = presented_key(c, key, sizeof(key), &present);
	if (!present) {
		__atomic_add_fetch(&a->m_auth_failures, 1, __ATOMIC_RELAXED);
		http_resp_header(c->resp, "www-authenticate", c->taxii ? "Basic realm=\"cairn\"" : "Bearer realm=\"cairn\"");
		if (c->taxii)
			api_error(c, 401, "missing_api_key", NULL,
				  "An API key is required: HTTP Basic with user \"apikey\" and the key as "
				  "password, or the header Authorization: Bearer sk_live_...");
		else
			api_error(c, 401, "missing_api_key", NULL,
				  "API key is required. Include it in the Authorization header as \"Bearer "
				  "sk_live_...\" or in the X-API-Key header.");
		return false;
	}
	struct err e = { 0 };
	uint8_t hash[32];
	int rc = ERR_NOT_FOUND;
	if (got && well_formed(key)) {
		crypto_sha256(key, strlen(key), hash);
		rc = key_lookup(c, hash, &c->who.key, &e);
	}
	memset(key, 0, sizeof(key));
	if (rc == ERR_NOT_FOUND || (rc == 0 && c->who.key.revoked_at)) {
		__atomic_add_fetch(&a->m_auth_failures, 1, __ATOMIC_RELAXED);
		if (c->taxii)
			http_resp_header(c->resp, "www-authenticate", "Basic realm=\"cairn\"");
		api_error(c, 401, "invalid_api_key", NULL, "The API key is not valid or has been revoked.");
		return false;
	}
	if (rc != 0) {
		log_error("authentication: %s", e.msg);
		api_error(c, 500, "internal_error", NULL, "Could not verify the API key.");
		return false;
	}
	if (c->who.key.expires_at && c->who.key.expires_at <= c->now) {
		__atomic_add_fetch(&a->m_auth_failures, 1, __ATOMIC_RELAXED);
		char when[40];
		time_format_to(when, c->who.key.expires_at, TIME_SEC);
		api_error(c, 401, "expired_api_key", NULL, "The API key expired at %s.", when);
		return false;
	}
	if (c->who.key.tier < 0 || c->who.key.tier >= TIER_COUNT)
		c->who.key.tier = TIER_FREE;
	c->who.tier = &a->cfg.tier[c->who.key.tier];
	c->who.authenticated = true;
	return true;
}

bool api_require_scope(struct call *c, unsigned scope)
{
	if ((c->who.key.scopes & scope) == scope || (c->who.key.scopes & SCOPE_ADMIN))
		return true;
	char det[96];
	snprintf(det, sizeof(det), "{\"required_scope\":\"%s\"}", scope_name(scope));
	api_error(c, 403, "insufficient_scope", det, "This key lacks the scope '%s' this endpoint needs.",
		  scope_name(scope));
	return false;
}

bool api_require_pro(struct call *c, const char *what)
{
	if (c->who.tier->pro_endpoints)
		return true;
	api_error(c, 403, "tier_required", "{\"required_tier\":\"pro\"}",
		  "%s requires the pro tier; this key is on the %s tier.", what, tier_name(c->who.key.tier));
	return false;
}

/* ---- rolling windows ---- */

/* FNV-1a of a key id, folded to a table slot. */
static unsigned bucket_of(const char *id)
{
	uint32_t h = 2166136261u;
	for (; *id; id++)
		h = (h ^ (uint8_t)*id) * 16777619u;
	return (h ^ h >> 8 ^ h >> 16 ^ h >> 24) & 0xff;
}

static int64_t window_sum(const int64_t *slot, const int64_t *at, int n, int64_t cur, int64_t *oldest)
{
	int64_t sum = 0;
	*oldest = 0;
	for (int i = 0; i < n; i++) {
		if (at[i] > cur - n && at[i] <= cur && slot[i] > 0) {
			sum += slot[i];
			if (*oldest == 0 || at[i] < *oldest)
				*oldest = at[i];
		}
	}
	return sum;
}

static void window_add(int64_t *slot, int64_t *at, int n, int64_t cur)
{
	int i = (int)(cur % n);
	if (at[i] != cur) {
		at[i] = cur;
		slot[i] = 0;
	}
	slot[i]++;
}

struct rate_verdict rate_check(struct api *a, const struct api_key *k, const struct tier_conf *t,
			       int64_t now_us, bool consume)
{
	struct rate_verdict v = { 0 };
	int64_t sec = now_us / USEC_PER_SEC, hour = sec / 3600;
	unsigned b = bucket_of(k->id);
	pthread_mutex_lock(&a->lock);
	struct rate_state *r = a->rates[b];
	while (r && strcmp(r->key_id, k->id) != 0)
		r = r->next;
	if (r == NULL) {
		r = xcalloc(1, sizeof(*r));
		memcpy(r->key_id, k->id, sizeof(r->key_id));
		r->next = a->rates[b];
		a->rates[b] = r;
	}
	int64_t old_min, old_hour;
	int64_t used_min = window_sum(r->w.minute_slot, r->w.minute_at, 60, sec, &old_min);
	int64_t used_day = window_sum(r->w.hour_slot, r->w.hour_at, 24, hour, &old_hour);
	bool min_full = used_min >= t->per_minute, day_full = used_day >= t->per_day;
	v.allowed = !min_full && !day_full;
	if (v.allowed && consume) {
		window_add(r->w.minute_slot, r->w.minute_at, 60, sec);
		window_add(r->w.hour_slot, r->w.hour_at, 24, hour);
		used_min++;
		used_day++;
		if (old_min == 0)
			old_min = sec;
		if (old_hour == 0)
			old_hour = hour;
	}
	pthread_mutex_unlock(&a->lock);

	int64_t rem_min = t->per_minute - used_min, rem_day = t->per_day - used_day;
	/* The minute window frees up when its oldest second leaves it; likewise the day's hour. */
	int64_t reset_min = (old_min ? old_min : sec) + 60;
	int64_t reset_day = ((old_hour ? old_hour : hour) + 24) * 3600;
	v.minute_used = used_min;
	v.day_used = used_day;
	if (day_full || (!min_full && rem_day < rem_min)) {
		v.limit = t->per_day;
		v.remaining = rem_day > 0 ? rem_day : 0;
		v.reset = reset_day;
	} else {
		v.limit = t->per_minute;
		v.remaining = rem_min > 0 ? rem_min : 0;
		v.reset = reset_min;
	}
	if (!v.allowed) {
		v.retry_after = v.reset - sec;
		if (v.retry_after < 1)
			v.retry_after = 1;
	}
	return v;
}

/* ---- usage ---- */

static int lat_bucket(int64_t us)
{
	int b = 0;
	int64_t edge = 50;
	while (b < USAGE_LAT_BUCKETS - 1 && us >= edge) {
		edge *= 2;
		b++;
	}
	return b;
}

void usage_note(struct api *a, const struct api_key *k, enum route r, int status, int64_t latency_us,
		int64_t now_us)
{
	unsigned b = bucket_of(k->id);
	int64_t day = now_us / USEC_PER_DAY, minute = now_us / (60 * USEC_PER_SEC);
	pthread_mutex_lock(&a->lock);
	struct usage_acc *u = a->usage[b];
	while (u && (strcmp(u->key_id, k->id) != 0 || u->day.day != day))
		u = u->next;
	if (u == NULL) {
		u = xcalloc(1, sizeof(*u));
		memcpy(u->key_id, k->id, sizeof(u->key_id));
		u->day.day = day;
		u->next = a->usage[b];
		a->usage[b] = u;
	}
	struct key_usage_day *d = &u->day;
	d->requests++;
	if (status < 400)
		d->ok++;
	else if (status < 500)
		d->client_errors++;
	else
		d->server_errors++;
	if (status == 429) {
		d->rate_limited++;
		d->hours[(now_us / (3600 * USEC_PER_SEC)) % 24]++;
	}
	d->latency_us_sum += latency_us;
	d->lat[lat_bucket(latency_us)]++;
	if (r < USAGE_ROUTES)
		d->routes[r]++;
	if (u->minute != minute) {
		u->minute = minute;
		u->minute_count = 0;
	}
	if (++u->minute_count > d->peak_minute)
		d->peak_minute = u->minute_count;
	d->last_used_at = now_us;
	pthread_mutex_unlock(&a->lock);
}

void usage_flush(struct api *a, struct store *s)
{
	/* Detach the lists under the lock, write them without it. */
	struct usage_acc *all = NULL;
	int64_t today = time_now_us() / USEC_PER_DAY;
	pthread_mutex_lock(&a->lock);
	for (int i = 0; i < 256; i++) {
		struct usage_acc *u = a->usage[i], *keep = NULL;
		while (u) {
			struct usage_acc *n = u->next;
			if (u->day.requests > 0) {
				struct usage_acc *copy = xmemdup(u, sizeof(*u));
				copy->next = all;
				all = copy;
			}
			if (u->day.day < today) {	/* a finished day: nothing more will come */
				free(u);
				u = n;
				continue;
			}
			/* Reset the counters but keep the peak-minute tracking. */
			int64_t minute = u->minute, mc = u->minute_count, peak = u->day.peak_minute;
			int64_t day = u->day.day;
			memset(&u->day, 0, sizeof(u->day));
			u->day.day = day;
			u->minute = minute;
			u->minute_count = mc;
			u->day.peak_minute = peak;
			u->next = keep;
			keep = u;
			u = n;
		}
		a->usage[i] = keep;
	}
	pthread_mutex_unlock(&a->lock);
	while (all) {
		struct err e = { 0 };
		struct usage_acc *n = all->next;
		if (store_key_usage_add(s, all->key_id, &all->day, &e) != 0)
			log_warn("saving key usage: %s", e.msg);
		free(all);
		all = n;
	}
}
