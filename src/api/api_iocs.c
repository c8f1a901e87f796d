/*
 * The indicator endpoints: list (json, csv, txt, hosts, rpz; offset and cursor
 * paging), get, search, lookup (single and bulk), submit, revoke, stats, and the
 * exports (STIX, CEF/syslog, OpenIOC).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "allow/allow_db.h"
#include "api/api_int.h"
#include "base/arena.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "base/xmalloc.h"
#include "export/ecs.h"
#include "export/export.h"
#include "export/export_lines.h"
#include "imp/record_in.h"
#include "ioc/score.h"

#define SEARCH_MAX_MATCHES 25
#define RELATED_MAX 10
#define COUNT_CAP 10000	/* exact totals up to this; above, an extrapolation */
#define CACHE_AGE_US (2 * USEC_PER_SEC)
#define OFFSET_MAX 1000000
#define SUBMIT_MAX 1000

static void db_error(struct call *c, const struct err *e)
{
	log_error("%s: %s", c->request_id, e->msg);
	api_error(c, 500, "internal_error", NULL, "The request could not be completed.");
}

/* ---- the REST record ---- */

static void raw_or_empty(struct jw *w, const char *key, const char *json)
{
	jw_key(w, key);
	if (json && *json)
		jw_raw(w, json, strlen(json));
	else
		jw_raw(w, "[]", 2);
}

static void opt_str(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	if (s && *s)
		jw_str(w, s);
	else
		jw_null(w);
}

/* A number to three decimals, without trailing zeros ("30", "0.5", "1.042"). */
static void jw_decimal(struct jw *w, double v)
{
	char t[64];
	int n = snprintf(t, sizeof(t), "%.3f", v);
	while (n > 1 && t[n - 1] == '0')
		n--;
	if (n > 1 && t[n - 1] == '.')
		n--;
	jw_raw(w, t, (size_t)n);
}

/*
 * The parts of the score (docs/scoring.md): each source's score weighted by its feed's
 * reliability, the bonuses, the base, the decay so far, and when the score leaves its band.
 */
static void render_explanation(struct jw *w, const struct ioc_record *r, int64_t now)
{
	json_t *src = json_loads(r->sources, 0, NULL);
	size_t i;
	json_t *x;
	int best = 0;
	int64_t counted = 0;
	jw_key(w, "score_explanation");
	jw_obj(w);
	jw_key(w, "sources");
	jw_arr(w);
	json_array_foreach(src, i, x) {
		const char *g = json_string_value(json_object_get(x, "reliability"));
		char grade = score_grade(g) ? score_grade(g) : SCORE_DEFAULT_GRADE;
		char gs[2] = { grade, 0 };
		int fs = (int)json_integer_value(json_object_get(x, "score"));
		int ws = score_weighted(fs, grade);
		if (ws > best)
			best = ws;
		if (ws > 0)
			counted++;
		jw_obj(w);
		jw_kstr(w, "feed_name", json_string_value(json_object_get(x, "feed_name")));
		jw_kstr(w, "reliability", gs);
		jw_kint(w, "weight_percent", score_weight(grade));
		jw_kint(w, "feed_score", fs);
		jw_kint(w, "weighted_score", ws);
		jw_end(w);
	}
	jw_end(w);
	json_decref(src);
	struct score_parts p = score_base(best, counted, r->sightings);
	jw_kint(w, "best_source", p.best);
	jw_kint(w, "sources_bonus", p.sources_bonus);
	jw_kint(w, "sightings_bonus", p.sightings_bonus);
	jw_kint(w, "base_score", r->base_score);
	jw_key(w, "decay");
	jw_obj(w);
	jw_ktime(w, "from", r->last_seen);
	jw_key(w, "lifetime_days");
	if (r->decay_end > r->last_seen)
		jw_decimal(w, (double)(r->decay_end - r->last_seen) / (double)USEC_PER_DAY);
	else
		jw_null(w);
	jw_key(w, "speed");
	jw_decimal(w, r->decay_speed);
	jw_key(w, "age_days");
	jw_decimal(w, now > r->last_seen ? (double)(now - r->last_seen) / (double)USEC_PER_DAY : 0.0);
	jw_kint(w, "points_lost", r->base_score - r->score);
	jw_end(w);
	jw_kint(w, "score", r->score);
	jw_kstr(w, "confidence", ioc_confidence_band(r->score));
	/* The band below this one, and the first instant (ms) at which the score is in it. */
	const char *next = NULL;
	int64_t until = 0;
	if (r->score >= SCORE_HIGH) {
		next = "medium";
		until = r->high_until;
	} else if (r->score >= SCORE_MEDIUM) {
		next = "low";
		until = r->medium_until;
	} else if (r->score >= SCORE_LOW) {
		next = "none";
		until = r->low_until;
	}
	bool comes = next && until > 0 && until != SCORE_NEVER;	/* null: it stays in its band */
	jw_kstr(w, "next_band", comes ? next : NULL);
	jw_key(w, "next_band_at");
	if (comes)
		jw_time(w, (until / 1000 + 1) * 1000);	/* the first whole ms past it */
	else
		jw_null(w);
	/* The STIX object's confidence: the score at its version's time. */
	jw_kint(w, "stix_confidence", ioc_score_at(r, r->modified));
	jw_ktime(w, "stix_modified", r->modified);
	jw_end(w);
}

void render_record(struct jw *w, const struct ioc_record *r)
{
	render_record_at(w, r, 0);
}

void render_record_at(struct jw *w, const struct ioc_record *rec, int64_t explain_now)
{
	struct ioc_record copy = *rec;
	const struct ioc_record *r = &copy;
	if (explain_now > 0)	/* the score, its band and its explanation of one instant */
		copy.score = ioc_score_at(rec, explain_now);
	jw_obj(w);
	jw_kstr(w, "id", r->id);
	jw_kstr(w, "type", ioc_type_name(r->type));
	jw_kstr(w, "value", r->value);
	jw_kstr(w, "confidence", ioc_confidence_band(r->score));
	jw_ktime(w, "first_seen", r->first_seen);
	jw_ktime(w, "last_seen", r->last_seen);
	jw_key(w, "source");
	jw_obj(w);
	jw_kstr(w, "feed_name", r->feed);
	jw_kstr(w, "category", r->category);
	opt_str(w, "reference_url", r->reference_url);
	jw_kstr(w, "origin", r->origin);
	jw_key(w, "article_id");
	jw_null(w);
	jw_key(w, "article_title");
	jw_null(w);
	jw_key(w, "article_url");
	jw_null(w);
	jw_end(w);
	opt_str(w, "context", r->context);
	raw_or_empty(w, "tags", r->tags);
	raw_or_empty(w, "mitre_techniques", r->techniques);
	jw_kint(w, "score", r->score);
	raw_or_empty(w, "sources", r->sources);
	raw_or_empty(w, "industries", r->industries);
	jw_kstr(w, "tlp", r->tlp);
	jw_ktime(w, "valid_until", r->valid_until);
	jw_kbool(w, "revoked", r->revoked);
	jw_ktime(w, "created_at", r->created_at);
	jw_ktime(w, "updated_at", r->updated_at);
	jw_kint(w, "sightings", r->sightings);
	if (explain_now > 0)
		render_explanation(w, r, explain_now);
	jw_end(w);
}

/* ---- list ---- */

struct list_params {
	struct ioc_filter f;
	const char *format;
	bool cursor_mode;
	char types_text[160], conf_text[64];
	char industry_slug[129];
	int64_t requested_limit;
};

static bool parse_types(struct call *c, const char *name, unsigned *types, char *text, size_t cap)
{
	const struct query_param *p = query_get(&c->q, name);
	*types = 0;
	snprintf(text, cap, "all");
	if (p == NULL || !strcmp(p->val, "all"))
		return true;
	if (query_count(&c->q, name) > 1 || p->val_len == 0 || p->val_len > 200)
		goto bad;
	const char *s = p->val;
	while (*s) {
		const char *end = strchr(s, ',');
		size_t n = end ? (size_t)(end - s) : strlen(s);
		while (n && *s == ' ')
			s++, n--;
		while (n && s[n - 1] == ' ')
			n--;
		enum ioc_type t = ioc_type_from_name(s, n);
		if (t == IOC_NONE)
			goto bad;
		*types |= 1u << t;
		s += n;
		while (*s == ' ')
			s++;
		if (*s == ',')
			s++;
	}
	text[0] = '\0';
	for (int t = 1; t < IOC_TYPE_COUNT; t++)
		if (*types & (1u << t))
			snprintf(text + strlen(text), cap - strlen(text), "%s%s", text[0] ? "," : "",
				 ioc_type_name((enum ioc_type)t));
	return true;
bad:
	api_error(c, 400, "invalid_parameter", "{\"parameter\":\"type\"}",
		  "Invalid value for parameter '%s': expected one or more of ipv4, ipv6, domain, url,"
		  " md5, sha1, sha256, sha512, email, cve, mitre-attack (comma-separated)", name);
	return false;
}

static bool parse_bands(struct call *c, unsigned *bands, char *text, size_t cap)
{
	static const char *const names[4] = { "none", "low", "medium", "high" };
	const struct query_param *p = query_get(&c->q, "confidence");
	*bands = 0;
	snprintf(text, cap, "all");
	if (p == NULL || !strcmp(p->val, "all"))
		return true;
	if (query_count(&c->q, "confidence") > 1 || p->val_len == 0 || p->val_len > 40)
		goto bad;
	char tmp[48];
	memcpy(tmp, p->val, p->val_len + 1);
	for (char *tok = strtok(tmp, ","); tok; tok = strtok(NULL, ",")) {
		while (*tok == ' ')
			tok++;
		int b;
		for (b = 0; b < 4; b++)
			if (!strcmp(tok, names[b]))
				break;
		if (b == 4)
			goto bad;
		*bands |= 1u << b;
	}
	if (*bands == 0)
		goto bad;
	text[0] = '\0';
	for (int b = 3; b >= 0; b--)
		if (*bands & (1u << b))
			snprintf(text + strlen(text), cap - strlen(text), "%s%s", text[0] ? "," : "", names[b]);
	return true;
bad:
	api_error(c, 400, "invalid_parameter", "{\"parameter\":\"confidence\"}",
		  "Invalid value for parameter 'confidence': expected high, medium, low or none"
		  " (comma-separated)");
	return false;
}

static bool parse_time_param(struct call *c, const char *name, int64_t *out)
{
	bool bad;
	const char *s = param_str(c, name, 64, &bad);
	if (bad)
		return false;
	if (s == NULL)
		return true;
	struct err e;
	if (time_parse_rfc3339(s, strlen(s), out, &e) != 0) {
		char det[96];
		snprintf(det, sizeof(det), "{\"parameter\":\"%s\"}", name);
		api_error(c, 400, "invalid_parameter", det,
			  "Invalid value for parameter '%s': expected an RFC 3339 time such as"
			  " 2026-05-16T00:00:00Z", name);
		return false;
	}
	return true;
}

static bool parse_cursor(struct call *c, int64_t *rid)
{
	const struct query_param *p = query_get(&c->q, "cursor");
	if (p == NULL)
		return true;
	const char *s = p->val;
	int64_t v = 0;
	if (query_count(&c->q, "cursor") > 1 || strncmp(s, "c1.", 3) != 0 || p->val_len < 4 || p->val_len > 19)
		goto bad;
	for (s += 3; *s; s++) {
		int d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else
			goto bad;
		v = v * 16 + d;
	}
	if (v <= 0)
		goto bad;
	*rid = v;
	return true;
bad:
	api_error(c, 400, "invalid_parameter", "{\"parameter\":\"cursor\"}",
		  "Invalid value for parameter 'cursor': use the next_cursor of a previous answer");
	return false;
}

/* Parses and checks every list filter; on failure the error is answered. Exports have a
 * `format` of their own, so they pass with_format false. */
static bool list_params(struct call *c, struct list_params *lp, bool with_format)
{
	struct ioc_filter *f = &lp->f;
	bool bad, present;
	memset(lp, 0, sizeof(*lp));
	f->min_score = -1;
	f->now = c->now;
	int64_t v;
	if (!parse_types(c, "type", &f->types, lp->types_text, sizeof(lp->types_text)) ||
	    !parse_bands(c, &f->bands, lp->conf_text, sizeof(lp->conf_text)))
		return false;
	if (!param_int(c, "min_score", 0, 100, &v, &present))
		return false;
	if (present)
		f->min_score = (int)v;
	f->category = param_str(c, "category", 128, &bad);
	if (bad)
		return false;
	f->industry = param_str(c, "industry", 128, &bad);
	if (bad)
		return false;
	if (f->industry) {
		/* Same slugging as on import, so "Financial Services" and "finance" both match. */
		size_t n = strlen(f->industry);
		char *slug = lp->industry_slug;
		if (n >= sizeof(lp->industry_slug))
			n = sizeof(lp->industry_slug) - 1;
		for (size_t i = 0; i < n; i++) {
			char ch = f->industry[i];
			slug[i] = (char)(ch == ' ' || ch == '_' ? '-' : (ch >= 'A' && ch <= 'Z' ? ch + 32 : ch));
		}
		slug[n] = '\0';
		f->industry = ioc_industry_canon(slug);
	}
	f->tag = param_str(c, "tag", IOC_TAG_MAX, &bad);
	if (bad)
		return false;
	f->source = param_str(c, "source", IOC_FEED_MAX, &bad);
	if (bad)
		return false;
	if (!parse_time_param(c, "since", &f->since) || !parse_time_param(c, "until", &f->until))
		return false;
	f->window_is_narrow = f->since > 0 || f->until > 0;
	if (!param_bool(c, "include_expired", &f->include_expired))
		return false;
	lp->requested_limit = 100;
	if (!param_int(c, "limit", 1, 1000000000, &lp->requested_limit, NULL))
		return false;
	f->limit = lp->requested_limit;
	/* A larger limit than the tier allows is clamped, not refused (SOC Defenders' behaviour). */
	if (f->limit > c->who.tier->max_results)
		f->limit = c->who.tier->max_results;
	if (!param_int(c, "offset", 0, OFFSET_MAX, &f->offset, NULL))
		return false;
	if (!parse_cursor(c, &f->before_rid))
		return false;
	lp->cursor_mode = f->before_rid > 0;
	if (lp->cursor_mode && f->offset > 0) {
		api_error(c, 400, "invalid_parameter", "{\"parameter\":\"offset\"}",
			  "Use either 'offset' or 'cursor', not both");
		return false;
	}
	lp->format = with_format ? param_str(c, "format", 16, &bad) : "json";
	if (with_format && bad)
		return false;
	if (lp->format == NULL)
		lp->format = "json";
	if (strcmp(lp->format, "json") && strcmp(lp->format, "csv") && strcmp(lp->format, "txt") &&
	    strcmp(lp->format, "rpz") && strcmp(lp->format, "hosts")) {
		api_error(c, 400, "invalid_parameter", "{\"parameter\":\"format\"}",
			  "Invalid value for parameter 'format': expected json, csv, txt, rpz or hosts (other"
			  " exports have their own endpoints)");
		return false;
	}
	if (strcmp(lp->format, "json") && !c->who.tier->all_formats) {
		api_error(c, 403, "tier_required", "{\"required_tier\":\"pro\"}",
			  "format=%s requires the pro tier; the %s tier gets json only", lp->format,
			  tier_name(c->who.key.tier));
		return false;
	}
	/* The tier's lookback bounds every window, asked for or not. */
	int64_t floor = c->now - c->who.tier->lookback_days * USEC_PER_DAY;
	if (f->since < floor)
		f->since = floor;
	if (f->until > 0 && f->until < f->since)
		f->until = f->since;	/* an empty window, answered as such */
	return true;
}

/* The query string without api_key (and without cursor/offset when for_next). */
static void clean_query(struct call *c, struct buf *b, bool for_next)
{
	const char *s = c->req->query;
	size_t len = c->req->query_len, i = 0;
	bool first = true;
	while (i < len) {
		size_t j = i;
		while (j < len && s[j] != '&')
			j++;
		size_t n = j - i;
		bool drop = n == 0 || (n >= 8 && !strncmp(s + i, "api_key=", 8)) || (n == 7 && !strncmp(s + i, "api_key", 7));
		if (for_next && ((n >= 7 && !strncmp(s + i, "cursor=", 7)) || (n >= 7 && !strncmp(s + i, "offset=", 7))))
			drop = true;
		if (!drop) {
			if (!first)
				buf_putc(b, '&');
			buf_append(b, s + i, n);
			first = false;
		}
		i = j + 1;
	}
}

static void csv_field(struct buf *b, const char *s)
{
	if (s == NULL)
		return;
	if (strpbrk(s, ",\"\r\n") == NULL) {
		buf_puts(b, s);
		return;
	}
	buf_putc(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			buf_putc(b, '"');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

/* tags JSON array → "a;b;c" */
static void tags_joined(struct buf *b, const char *json)
{
	json_error_t je;
	json_t *a = json_loads(json ? json : "[]", 0, &je);
	size_t i;
	json_t *x;
	json_array_foreach(a, i, x) {
		if (i)
			buf_putc(b, ';');
		buf_puts(b, json_string_value(x) ? json_string_value(x) : "");
	}
	json_decref(a);
}

struct list_ctx {
	struct call *c;
	const char *format;
	struct line_writer *lines;	/* txt, rpz, hosts: the block-list writer */
	struct jw w;
	struct buf *out;
	int64_t n, limit, last_rid;
};

static int list_row(void *ctx, const struct ioc_record *r)
{
	struct list_ctx *lc = ctx;
	if (lc->n == lc->limit) {	/* the extra row: only tells that more exist */
		lc->n++;
		return 0;
	}
	lc->n++;
	lc->last_rid = r->rid;
	if (lc->format[0] == 'j') {
		render_record(&lc->w, r);
	} else if (lc->lines) {
		lines_record(lc->lines, r, lc->out);
	} else {
		struct buf *b = lc->out;
		char t[40];
		buf_puts(b, r->id);
		buf_putc(b, ',');
		buf_puts(b, ioc_type_name(r->type));
		buf_putc(b, ',');
		csv_field(b, r->value);
		buf_putc(b, ',');
		buf_puts(b, ioc_confidence_band(r->score));
		buf_putc(b, ',');
		time_format_to(t, r->first_seen, TIME_MSEC);
		buf_puts(b, t);
		buf_putc(b, ',');
		time_format_to(t, r->last_seen, TIME_MSEC);
		buf_puts(b, t);
		buf_putc(b, ',');
		csv_field(b, r->reference_url);
		buf_putc(b, ',');
		csv_field(b, r->feed);
		buf_putc(b, ',');
		csv_field(b, r->category);
		buf_putc(b, ',');
		struct buf tg = BUF_INIT;
		tags_joined(&tg, r->tags);
		csv_field(b, buf_cstr(&tg));
		buf_cleanup(&tg);
		buf_puts(b, "\r\n");
	}
	return 0;
}

struct cache_entry *cache_find(struct api_worker *w, const char *key, int64_t version, int64_t now)
{
	for (int i = 0; i < CACHE_SLOTS; i++) {
		struct cache_entry *e = &w->cache[i];
		if (e->key && e->version == version && now - e->created_us < CACHE_AGE_US && !strcmp(e->key, key))
			return e;
	}
	return NULL;
}

struct cache_entry *cache_slot(struct api_worker *w)
{
	struct cache_entry *victim = &w->cache[0];
	for (int i = 0; i < CACHE_SLOTS; i++) {
		if (w->cache[i].key == NULL)
			return &w->cache[i];
		if (w->cache[i].created_us < victim->created_us)
			victim = &w->cache[i];
	}
	free(victim->key);
	http_shared_unref(victim->body);
	memset(victim, 0, sizeof(*victim));
	return victim;
}

void serve_cached(struct call *c, struct cache_entry *e)
{
	c->resp->status = e->status;
	c->resp->content_type = e->content_type;
	http_shared_ref(e->body);
	c->resp->shared = e->body;
	for (int i = 0; i < e->nextra; i++)
		http_resp_header(c->resp, e->extra_name[i], "%s", e->extra[i]);
}

int64_t cache_version(struct api_worker *w)
{
	api_versions(w);
	return (int64_t)((uint64_t)w->clock * 1000003u +
			 (uint64_t)__atomic_load_n(&w->api->write_generation, __ATOMIC_ACQUIRE));
}

void h_list(struct call *c)
{
	struct list_params lp;
	if (!api_require_scope(c, SCOPE_READ_IOCS) || !list_params(c, &lp, true))
		return;
	struct api_worker *w = c->w;
	struct ioc_filter *f = &lp.f;

	/* Identical requests within two seconds, with no indicator written in between, share
	 * one answer. */
	struct buf key = BUF_INIT, q = BUF_INIT;
	clean_query(c, &q, false);
	buf_printf(&key, "%d|%s?%s", c->who.key.tier, c->path, buf_cstr(&q));
	int64_t version = cache_version(w);
	int64_t mono = time_mono_us();
	struct cache_entry *hit = cache_find(w, key.data, version, mono);
	if (hit) {
		serve_cached(c, hit);
		buf_cleanup(&key);
		buf_cleanup(&q);
		return;
	}

	struct err e = { 0 };
	int64_t total = 0;
	bool estimated = false;
	struct ioc_filter cf = *f;
	cf.before_rid = 0;
	cf.offset = 0;
	if (store_ioc_count(w->store, &cf, COUNT_CAP, &total, &estimated, &e) != 0) {
		db_error(c, &e);
		goto out;
	}
	struct buf body = BUF_INIT, rows = BUF_INIT;
	struct list_ctx lc = { .c = c, .format = lp.format, .limit = f->limit, .out = &rows };
	struct line_writer lw;
	struct ioc_filter qf = *f;
	qf.limit = f->limit + 1;
	int lf = line_format_from_name(lp.format);
	if (lf >= 0) {
		/* A block list's header only on the first page, so that pages concatenate. */
		lc.lines = &lw;
		lines_begin(&lw, (enum line_format)lf, w->clock, f, !lp.cursor_mode && f->offset == 0, &rows);
	} else if (lp.format[0] == 'j') {
		jw_init(&lc.w, &rows);
		jw_arr(&lc.w);
	} else if (lp.format[0] == 'c') {
		buf_puts(&rows, "id,type,value,confidence,first_seen,last_seen,source_article,source_feed,"
				"category,tags\r\n");
	}
	int lrc = store_ioc_list(w->store, &qf, list_row, &lc, &e);
	if (lc.lines) {
		lines_end(lc.lines, &rows);
		lines_cleanup(lc.lines);
	}
	if (lrc != 0) {
		buf_cleanup(&body);
		buf_cleanup(&rows);
		db_error(c, &e);
		goto out;
	}
	bool more = lc.n > f->limit;
	char cursor[32] = "";
	if (more)
		snprintf(cursor, sizeof(cursor), "c1.%llx", (unsigned long long)lc.last_rid);
	struct buf self = BUF_INIT, next = BUF_INIT, nq = BUF_INIT;
	base_url(c, &self);
	buf_puts(&self, c->path);
	if (q.len) {
		buf_putc(&self, '?');
		buf_append(&self, q.data, q.len);
	}
	if (more) {
		base_url(c, &next);
		buf_puts(&next, c->path);
		clean_query(c, &nq, true);
		buf_printf(&next, "?%s%scursor=%s", buf_cstr(&nq), nq.len ? "&" : "", cursor);
	}

	struct cache_entry *ce = cache_slot(w);
	if (lp.format[0] == 'j') {
		struct jw bw, *jw = &bw;
		jw_end(&lc.w);	/* the data array */
		jw_init(jw, &body);
		jw_obj(jw);
		meta_open(c, jw);
		jw_kint(jw, "total", total);
		if (estimated)
			jw_kbool(jw, "total_estimated", true);
		jw_kint(jw, "limit", f->limit);
		jw_kint(jw, "offset", f->offset);
		jw_key(jw, "next_cursor");
		if (more)
			jw_str(jw, cursor);
		else
			jw_null(jw);
		jw_key(jw, "filters");
		jw_obj(jw);
		jw_kstr(jw, "type", lp.types_text);
		jw_kstr(jw, "category", f->category ? f->category : "all");
		jw_kstr(jw, "confidence", lp.conf_text);
		if (f->min_score >= 0)
			jw_kint(jw, "min_score", f->min_score);
		if (f->industry)
			jw_kstr(jw, "industry", f->industry);
		if (f->tag)
			jw_kstr(jw, "tag", f->tag);
		if (f->source)
			jw_kstr(jw, "source", f->source);
		jw_ktime(jw, "since", f->since);
		jw_ktime(jw, "until", f->until > 0 ? f->until : c->now);
		jw_kbool(jw, "include_expired", f->include_expired);
		jw_end(jw);
		if (lp.requested_limit > f->limit)
			jw_kint(jw, "limit_clamped_from", lp.requested_limit);
		jw_end(jw);	/* meta */
		jw_key(jw, "data");
		jw_raw(jw, rows.data, rows.len);
		jw_key(jw, "links");
		jw_obj(jw);
		jw_kstr(jw, "self", self.data);
		if (more)
			jw_kstr(jw, "next", next.data);
		jw_end(jw);
		jw_end(jw);
		buf_putc(&body, '\n');
		ce->content_type = "application/json; charset=utf-8";
		ce->body = http_shared_new(body.data, body.len);
	} else {
		ce->content_type = lp.format[0] == 'c' ? "text/csv; charset=utf-8" : "text/plain; charset=utf-8";
		ce->body = http_shared_new(rows.data ? rows.data : "", rows.len);
		ce->extra_name[ce->nextra] = "x-total-count";
		snprintf(ce->extra[ce->nextra++], sizeof(ce->extra[0]), "%lld", (long long)total);
		if (more) {
			ce->extra_name[ce->nextra] = "x-next-cursor";
			snprintf(ce->extra[ce->nextra++], sizeof(ce->extra[0]), "%s", cursor);
			if (next.len + 16 < sizeof(ce->extra[0])) {
				ce->extra_name[ce->nextra] = "link";
				snprintf(ce->extra[ce->nextra++], sizeof(ce->extra[0]), "<%s>; rel=\"next\"",
					 next.data);
			}
		}
	}
	ce->key = buf_take(&key);
	ce->version = version;
	ce->created_us = mono;
	ce->status = 200;
	serve_cached(c, ce);
	buf_cleanup(&body);
	buf_cleanup(&rows);
	buf_cleanup(&self);
	buf_cleanup(&next);
	buf_cleanup(&nq);
out:
	buf_cleanup(&key);
	buf_cleanup(&q);
}

/* ---- one record ---- */

struct one_ctx {
	struct call *c;
	struct buf *body;
	struct jw *w;
	int64_t updated_at;
	bool found;
};

static int one_row(void *ctx, const struct ioc_record *r)
{
	struct one_ctx *oc = ctx;
	oc->found = true;
	oc->updated_at = r->updated_at;
	jw_key(oc->w, "data");
	render_record_at(oc->w, r, oc->c->now);
	return 0;
}

void h_get(struct call *c, const char *id)
{
	if (!api_require_scope(c, SCOPE_READ_IOCS))
		return;
	if (!uuid_valid(id, strlen(id))) {
		api_error(c, 400, "invalid_parameter", "{\"parameter\":\"id\"}",
			  "The indicator id must be a UUID");
		return;
	}
	char lower[UUID_STR_LEN + 1];
	for (int i = 0; i <= UUID_STR_LEN; i++)
		lower[i] = (char)(id[i] >= 'A' && id[i] <= 'F' ? id[i] + 32 : id[i]);
	struct buf body = BUF_INIT;
	struct jw w;
	jw_init(&w, &body);
	jw_obj(&w);
	struct one_ctx oc = { .c = c, .body = &body, .w = &w };
	struct err e = { 0 };
	int rc = store_ioc_get(c->w->store, lower, one_row, &oc, &e);
	if (rc == ERR_NOT_FOUND) {
		api_error(c, 404, "not_found", NULL, "No indicator with id %s", lower);
	} else if (rc) {
		db_error(c, &e);
	} else if (oc.updated_at < c->now - c->who.tier->lookback_days * USEC_PER_DAY) {
		api_error(c, 403, "lookback_exceeded", "{\"required_tier\":\"pro\"}",
			  "This indicator was last updated before the %lld-day lookback of the %s tier",
			  (long long)c->who.tier->lookback_days, tier_name(c->who.key.tier));
	} else {
		meta_open(c, &w);
		jw_end(&w);
		jw_end(&w);
		api_json(c, 200, &body);
	}
	buf_cleanup(&body);
}

/* ---- search ---- */

struct match_ctx {
	struct jw *w;
	int64_t n;
	char first_ref[IOC_URL_FIELD_MAX + 1];
	int64_t first_rid;
	char seen[SEARCH_MAX_MATCHES + 1][UUID_STR_LEN + 1];
	int nseen;
};

static int match_row(void *ctx, const struct ioc_record *r)
{
	struct match_ctx *m = ctx;
	for (int i = 0; i < m->nseen; i++)
		if (!strcmp(m->seen[i], r->id))
			return 0;
	if (m->nseen < SEARCH_MAX_MATCHES + 1)
		memcpy(m->seen[m->nseen++], r->id, UUID_STR_LEN + 1);
	if (m->n == 0) {
		snprintf(m->first_ref, sizeof(m->first_ref), "%s", r->reference_url);
		m->first_rid = r->rid;
	}
	m->n++;
	render_record(m->w, r);
	return 0;
}

void h_search(struct call *c)
{
	if (!api_require_scope(c, SCOPE_READ_IOCS))
		return;
	bool bad;
	const char *q = param_str(c, "q", IOC_VALUE_MAX, &bad);
	if (bad)
		return;
	if (q == NULL || strlen(q) < 2) {
		api_error(c, 400, "invalid_parameter", "{\"parameter\":\"q\"}",
			  "Parameter 'q' is required (2 or more characters)");
		return;
	}
	unsigned types = 0;
	char types_text[160];
	bool related = true;
	if (!parse_types(c, "type", &types, types_text, sizeof(types_text)) ||
	    !param_bool(c, "include_related", &related))
		return;
	int64_t t0 = time_mono_us();
	struct buf body = BUF_INIT;
	struct jw w;
	jw_init(&w, &body);
	jw_obj(&w);
	jw_key(&w, "data");
	jw_obj(&w);
	jw_key(&w, "matches");
	jw_arr(&w);
	struct match_ctx m = { .w = &w };
	struct err e = { 0 };
	int rc = 0;

	/* Exact match on the normalised value first, for each type it could be. */
	char canon[IOC_VALUE_MAX + 1];
	size_t n;
	enum ioc_type t;
	for (int ft = 0; ft < IOC_TYPE_COUNT && rc == 0; ft++) {
		if (types && (ft == 0 || !(types & (1u << ft))))
			continue;
		if (!types && ft != 0)
			break;
		if (ioc_canon(q, strlen(q), (enum ioc_type)ft, IOC_REFANG, &t, canon, sizeof(canon), &n, NULL) == 0) {
			rc = store_ioc_get_value(c->w->store, t, canon, match_row, &m, &e);
			if (rc == ERR_NOT_FOUND)
				rc = 0;
		}
	}
	const char *mode = "exact";
	if (rc == 0 && m.n == 0 && strlen(q) >= 3) {
		mode = "trigram";
		rc = store_ioc_search(c->w->store, q, types, SEARCH_MAX_MATCHES, match_row, &m, &e);
	}
	if (rc) {
		buf_cleanup(&body);
		db_error(c, &e);
		return;
	}
	int64_t nmatches = m.n;
	jw_end(&w);
	jw_key(&w, "relatedIOCs");
	jw_arr(&w);
	m.n = 0;
	if (related && nmatches > 0 && m.first_ref[0]) {
		struct ioc_record probe = { 0 };
		probe.reference_url = m.first_ref;
		probe.rid = m.first_rid;
		struct match_ctx rm = { .w = &w };
		memcpy(rm.seen, m.seen, sizeof(m.seen));
		rm.nseen = m.nseen;
		rm.n = 1;	/* so first_ref is not overwritten */
		if (store_ioc_related(c->w->store, &probe, RELATED_MAX, match_row, &rm, &e) != 0) {
			buf_cleanup(&body);
			db_error(c, &e);
			return;
		}
		m.n = rm.n - 1;
	}
	jw_end(&w);
	jw_kbool(&w, "found", nmatches > 0);
	jw_kstr(&w, "query", q);
	jw_kstr(&w, "match_type", nmatches ? mode : "none");
	jw_key(&w, "meta");
	jw_obj(&w);
	jw_kint(&w, "total_matches", nmatches);
	jw_kint(&w, "related_count", m.n);
	jw_kint(&w, "search_time_ms", (time_mono_us() - t0) / 1000);
	jw_end(&w);
	jw_end(&w);
	meta_open(c, &w);
	jw_end(&w);
	jw_end(&w);
	api_json(c, 200, &body);
}

/* ---- lookup ---- */

static void spl_quoted(struct buf *b, const char *v)
{
	buf_putc(b, '"');
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			buf_putc(b, '\\');
		buf_putc(b, *v);
	}
	buf_putc(b, '"');
}

/* KQL string literal: double-quoted, with \ and " escaped. */
static void kql_quoted(struct buf *b, const char *v)
{
	spl_quoted(b, v);
}

static void hunting(struct jw *w, enum ioc_type t, const char *v)
{
	struct buf spl = BUF_INIT, kql = BUF_INIT;
	const char *guide;
	bool cidr = strchr(v, '/') != NULL && (t == IOC_IPV4 || t == IOC_IPV6);
	switch (t) {
	case IOC_IPV4:
	case IOC_IPV6:
		guide = "Look for connections to or from this address in firewall, proxy, NetFlow and EDR"
			" network telemetry; any hit deserves a look at the host that made it.";
		if (cidr) {
			buf_puts(&spl, "index=* | where cidrmatch(");
			spl_quoted(&spl, v);
			buf_puts(&spl, ", dest_ip) OR cidrmatch(");
			spl_quoted(&spl, v);
			buf_puts(&spl, ", src_ip)");
			buf_printf(&kql, "DeviceNetworkEvents | where %s(RemoteIP, ",
				   t == IOC_IPV4 ? "ipv4_is_in_range" : "ipv6_is_match");
			kql_quoted(&kql, v);
			buf_puts(&kql, ")");
		} else {
			buf_puts(&spl, "index=* (dest_ip=");
			spl_quoted(&spl, v);
			buf_puts(&spl, " OR src_ip=");
			spl_quoted(&spl, v);
			buf_puts(&spl, ")");
			buf_puts(&kql, "DeviceNetworkEvents | where RemoteIP == ");
			kql_quoted(&kql, v);
		}
		break;
	case IOC_DOMAIN:
		guide = "Search DNS logs for queries of this name and proxy logs for requests to it;"
			" resolve nothing from a production host.";
		buf_puts(&spl, "index=* (query=");
		spl_quoted(&spl, v);
		buf_puts(&spl, " OR dest_host=");
		spl_quoted(&spl, v);
		buf_puts(&spl, ")");
		buf_puts(&kql, "DeviceNetworkEvents | where RemoteUrl has ");
		kql_quoted(&kql, v);
		break;
	case IOC_URL:
		guide = "Search proxy and web gateway logs for requests to this URL.";
		buf_puts(&spl, "index=* url=");
		spl_quoted(&spl, v);
		buf_puts(&kql, "DeviceNetworkEvents | where RemoteUrl == ");
		kql_quoted(&kql, v);
		break;
	case IOC_MD5:
	case IOC_SHA1:
	case IOC_SHA256:
	case IOC_SHA512: {
		const char *spl_field = t == IOC_MD5 ? "file_hash" : "file_hash";
		const char *kcol = t == IOC_MD5 ? "MD5" : t == IOC_SHA1 ? "SHA1" : "SHA256";
		guide = "Search EDR file and process telemetry for this hash; a match on disk or in"
			" memory means the sample reached the host.";
		buf_printf(&spl, "index=* (%s=", spl_field);
		spl_quoted(&spl, v);
		buf_puts(&spl, " OR hash=");
		spl_quoted(&spl, v);
		buf_puts(&spl, ")");
		if (t == IOC_SHA512) {
			buf_puts(&kql, "search ");
			kql_quoted(&kql, v);
		} else {
			buf_printf(&kql, "DeviceFileEvents | where %s == ", kcol);
			kql_quoted(&kql, v);
		}
		break;
	}
	case IOC_EMAIL:
		guide = "Search mail gateway logs for messages from or to this address.";
		buf_puts(&spl, "index=* (sender=");
		spl_quoted(&spl, v);
		buf_puts(&spl, " OR recipient=");
		spl_quoted(&spl, v);
		buf_puts(&spl, ")");
		buf_puts(&kql, "EmailEvents | where SenderFromAddress == ");
		kql_quoted(&kql, v);
		buf_puts(&kql, " or RecipientEmailAddress == ");
		kql_quoted(&kql, v);
		break;
	case IOC_CVE:
		guide = "Check vulnerability scans and the software inventory for this CVE, and IDS"
			" alerts for exploitation attempts.";
		buf_puts(&spl, "index=* cve=");
		spl_quoted(&spl, v);
		buf_puts(&kql, "DeviceTvmSoftwareVulnerabilities | where CveId == ");
		kql_quoted(&kql, v);
		break;
	default:
		guide = "Review detections mapped to this ATT&CK technique and hunt for its procedures.";
		buf_puts(&spl, "index=* (technique_id=");
		spl_quoted(&spl, v);
		buf_puts(&spl, " OR annotations.mitre_attack=");
		spl_quoted(&spl, v);
		buf_puts(&spl, ")");
		buf_puts(&kql, "SecurityAlert | where Techniques has ");
		kql_quoted(&kql, v);
		break;
	}
	jw_key(w, "hunting");
	jw_obj(w);
	jw_kstr(w, "detection_guidance", guide);
	jw_kstr(w, "splunk_query", spl.data);
	jw_kstr(w, "kql_query", kql.data);
	jw_end(w);
	buf_cleanup(&spl);
	buf_cleanup(&kql);
}

/* The confidence bands, with "critical" above them for the riskiest. */
static const char *risk_level(int score)
{
	return score >= 90 ? "critical" : ioc_confidence_band(score);
}

struct lookup_ctx {
	struct jw *w;
	bool found;
};

static int lookup_row(void *ctx, const struct ioc_record *r)
{
	struct lookup_ctx *lc = ctx;
	struct jw *w = lc->w;
	lc->found = true;
	jw_kbool(w, "found", true);
	jw_kstr(w, "id", r->id);
	jw_kstr(w, "ioc_value", r->value);
	jw_kstr(w, "ioc_type", ioc_type_name(r->type));
	jw_kstr(w, "confidence", ioc_confidence_band(r->score));
	jw_ktime(w, "first_seen", r->first_seen);
	jw_ktime(w, "last_seen", r->last_seen);
	jw_kint(w, "total_occurrences", r->occurrences);
	jw_kint(w, "reporting_sources", r->nsources);
	jw_key(w, "tags");
	jw_raw(w, r->tags, strlen(r->tags));
	jw_key(w, "mitre_techniques");
	jw_raw(w, r->techniques, strlen(r->techniques));
	jw_key(w, "risk");
	jw_obj(w);
	jw_kint(w, "score", r->score);
	jw_kstr(w, "level", risk_level(r->score));
	jw_end(w);
	jw_ktime(w, "valid_until", r->valid_until);
	jw_kbool(w, "expired", r->valid_until > 0 && r->valid_until <= time_now_us());
	jw_kbool(w, "revoked", r->revoked);
	jw_kstr(w, "tlp", r->tlp);
	hunting(w, r->type, r->value);
	/* Lookup's per-source form (SOC Defenders' field names). */
	jw_key(w, "sources");
	jw_arr(w);
	json_t *src = json_loads(r->sources, 0, NULL);
	size_t i;
	json_t *x;
	json_array_foreach(src, i, x) {
		jw_obj(w);
		jw_kstr(w, "source_feed", json_string_value(json_object_get(x, "feed_name")));
		jw_kstr(w, "source_category", json_string_value(json_object_get(x, "category")));
		jw_kstr(w, "reference_url", json_string_value(json_object_get(x, "reference_url")));
		jw_kstr(w, "first_seen", json_string_value(json_object_get(x, "first_seen")));
		jw_kstr(w, "last_seen", json_string_value(json_object_get(x, "last_seen")));
		jw_kint(w, "occurrence_count", json_integer_value(json_object_get(x, "occurrence_count")));
		int sc = (int)json_integer_value(json_object_get(x, "score"));
		jw_kstr(w, "confidence", ioc_confidence_band(sc));
		jw_kint(w, "score", sc);
		jw_kstr(w, "context", json_string_value(json_object_get(x, "context")));
		jw_end(w);
	}
	json_decref(src);
	jw_end(w);
	return 0;
}

/* One lookup object into w; false with reason when the value is not an indicator. */
static int lookup_one(struct call *c, struct jw *w, const char *value, size_t len, enum ioc_type forced,
		      struct err *e)
{
	char canon[IOC_VALUE_MAX + 1];
	size_t n;
	enum ioc_type t;
	if (ioc_canon(value, len, forced, IOC_REFANG, &t, canon, sizeof(canon), &n, e) != 0)
		return ERR_INVALID;
	jw_obj(w);
	struct lookup_ctx lc = { .w = w };
	/* A suppressed record is hidden like an unknown one; the allow-list entry says why. */
	struct allow_set *allow = api_allow(c->w->api);
	struct allow_hit hit;
	bool listed = allow && allow_match(allow, t, canon, n, &hit);
	int rc = store_ioc_get_value(c->w->store, t, canon, lookup_row, &lc, e);
	if (rc == ERR_NOT_FOUND) {
		jw_kbool(w, "found", false);
		jw_kstr(w, "ioc_value", canon);
		jw_kstr(w, "ioc_type", ioc_type_name(t));
		jw_key(w, "confidence");
		jw_null(w);
		jw_key(w, "risk");
		jw_null(w);
		jw_kstr(w, "note", listed ? "On an allow-list: cairn does not publish it."
					  : "Not in cairn's data. This means unknown, not safe.");
		hunting(w, t, canon);
		rc = 0;
	}
	jw_key(w, "allowlist");
	if (listed) {
		jw_obj(w);
		jw_kstr(w, "list", hit.list);
		jw_kstr(w, "entry", hit.entry);
		jw_kstr(w, "kind", allow_kind_name(hit.kind));
		jw_end(w);
	} else {
		jw_null(w);
	}
	allow_set_unref(allow);
	jw_end(w);
	return rc;
}

static bool forced_type(struct call *c, enum ioc_type *t)
{
	const struct query_param *p = query_get(&c->q, "type");
	*t = IOC_NONE;
	if (p == NULL)
		return true;
	*t = ioc_type_from_name(p->val, p->val_len);
	if (*t == IOC_NONE) {
		api_error(c, 400, "invalid_parameter", "{\"parameter\":\"type\"}",
			  "Invalid value for parameter 'type': not an indicator type");
		return false;
	}
	return true;
}

void h_lookup(struct call *c)
{
	if (!api_require_scope(c, SCOPE_READ_IOCS))
		return;
	bool bad;
	const char *v = param_str(c, "value", IOC_VALUE_MAX, &bad);
	if (bad)
		return;
	if (v == NULL) {
		v = param_str(c, "ioc", IOC_VALUE_MAX, &bad);
		if (bad)
			return;
	}
	enum ioc_type t;
	if (v == NULL) {
		api_error(c, 400, "invalid_parameter", "{\"parameter\":\"value\"}",
			  "Parameter 'value' (or 'ioc') is required");
		return;
	}
	if (!forced_type(c, &t))
		return;
	struct buf body = BUF_INIT;
	struct jw w;
	jw_init(&w, &body);
	jw_obj(&w);
	jw_key(&w, "data");
	struct err e = { 0 };
	int rc = lookup_one(c, &w, v, strlen(v), t, &e);
	if (rc == ERR_INVALID) {
		buf_cleanup(&body);
		char det[64];
		snprintf(det, sizeof(det), "{\"parameter\":\"%s\"}", query_get(&c->q, "value") ? "value" : "ioc");
		api_error(c, 400, "invalid_parameter", det, "Not an indicator: %s", e.msg);
		return;
	}
	if (rc) {
		buf_cleanup(&body);
		db_error(c, &e);
		return;
	}
	meta_open(c, &w);
	jw_end(&w);
	jw_end(&w);
	api_json(c, 200, &body);
}

static json_t *parse_body(struct call *c)
{
	json_error_t je;
	if (c->req->body == NULL || c->req->body_len == 0) {
		api_error(c, 400, "invalid_parameter", "{\"parameter\":\"body\"}", "A JSON body is required");
		return NULL;
	}
	json_t *j = json_loadb(c->req->body, c->req->body_len, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL) {
		char det[64];
		snprintf(det, sizeof(det), "{\"parameter\":\"body\",\"position\":%d}", je.position);
		api_error(c, 400, "invalid_parameter", det, "The body is not valid JSON: %s", je.text);
	}
	return j;
}

void h_lookup_bulk(struct call *c)
{
	if (!api_require_scope(c, SCOPE_READ_IOCS))
		return;
	json_t *j = parse_body(c);
	if (j == NULL)
		return;
	json_t *arr = json_is_array(j) ? j : json_object_get(j, "values");
	if (arr == NULL && json_is_object(j))
		arr = json_object_get(j, "iocs");
	int64_t max = c->w->api->cfg.max_lookup_values;
	enum ioc_type t = IOC_NONE;
	if (!json_is_array(arr)) {
		api_error(c, 400, "invalid_parameter", "{\"parameter\":\"values\"}",
			  "The body must be {\"values\": [\"…\", …]} or an array of values");
		goto out;
	}
	if ((int64_t)json_array_size(arr) > max) {
		char det[64];
		snprintf(det, sizeof(det), "{\"max_values\":%lld}", (long long)max);
		api_error(c, 413, "payload_too_large", det, "At most %lld values per lookup request",
			  (long long)max);
		goto out;
	}
	json_t *ty = json_is_object(j) ? json_object_get(j, "type") : NULL;
	if (ty && (!json_is_string(ty) ||
		   (t = ioc_type_from_name(json_string_value(ty), json_string_length(ty))) == IOC_NONE)) {
		api_error(c, 400, "invalid_parameter", "{\"parameter\":\"type\"}", "'type' is not an indicator type");
		goto out;
	}
	struct buf body = BUF_INIT;
	struct jw w;
	jw_init(&w, &body);
	jw_obj(&w);
	jw_key(&w, "data");
	jw_arr(&w);
	size_t i;
	json_t *x;
	int64_t found = 0, invalid = 0;
	json_array_foreach(arr, i, x) {
		const char *v = json_string_value(x);
		if (json_is_object(x))
			v = json_string_value(json_object_get(x, "value"));
		struct err e = { 0 };
		size_t mark = body.len;
		struct jw saved = w;
		int rc = v ? lookup_one(c, &w, v, strlen(v), t, &e) : err_set(&e, ERR_INVALID, "not a string");
		if (rc == ERR_INVALID) {
			body.len = mark;
			w = saved;
			invalid++;
			jw_obj(&w);
			jw_kbool(&w, "found", false);
			jw_key(&w, "ioc_value");
			if (v)
				jw_str(&w, v);
			else
				jw_null(&w);
			jw_kstr(&w, "error", e.msg);
			jw_end(&w);
		} else if (rc) {
			buf_cleanup(&body);
			db_error(c, &e);
			goto out;
		} else if (strstr(body.data + mark, "\"found\":true")) {
			found++;
		}
	}
	jw_end(&w);
	meta_open(c, &w);
	jw_kint(&w, "total", (int64_t)json_array_size(arr));
	jw_kint(&w, "found", found);
	jw_kint(&w, "invalid", invalid);
	jw_end(&w);
	jw_end(&w);
	api_json(c, 200, &body);
out:
	json_decref(j);
}

/* ---- submit and revoke ---- */

static int submitted_row(void *ctx, const struct ioc_record *r)
{
	render_record(ctx, r);
	return 0;
}

void h_submit(struct call *c)
{
	if (!api_require_scope(c, SCOPE_WRITE_IOCS))
		return;
	json_t *j = parse_body(c);
	if (j == NULL)
		return;
	json_t *arr = j;
	if (json_is_object(j) && json_object_get(j, "iocs"))
		arr = json_object_get(j, "iocs");
	json_t *single = NULL;
	if (json_is_object(arr)) {
		single = json_array();
		json_array_append(single, arr);
		arr = single;
	}
	struct arena ar;
	arena_init(&ar);
	struct ioc_input *in = NULL;
	struct buf errs = BUF_INIT, body = BUF_INIT;
	if (!json_is_array(arr) || json_array_size(arr) == 0) {
		api_error(c, 400, "invalid_parameter", "{\"parameter\":\"body\"}",
			  "The body must be an indicator object, an array of them, or {\"iocs\": […]}");
		goto out;
	}
	if (json_array_size(arr) > SUBMIT_MAX) {
		api_error(c, 413, "payload_too_large", "{\"max_iocs\":1000}", "At most %d indicators per request",
			  SUBMIT_MAX);
		goto out;
	}
	char feedname[IOC_FEED_MAX + 16];
	snprintf(feedname, sizeof(feedname), "submission");
	struct imp_defaults d = { .type = IOC_NONE, .score = -1, .feed = feedname, .category = "community",
				  .origin = "submission" };
	size_t n = json_array_size(arr), nbad = 0;
	in = xcalloc(n, sizeof(*in));
	struct jw ew;
	jw_init(&ew, &errs);
	jw_obj(&ew);
	jw_key(&ew, "errors");
	jw_arr(&ew);
	for (size_t i = 0; i < n; i++) {
		struct err e = { 0 };
		if (imp_input_from_json(json_array_get(arr, i), &d, &ar, &in[i], &e) != 0) {
			if (nbad++ < 50) {
				jw_obj(&ew);
				jw_kint(&ew, "index", (int64_t)i);
				jw_kstr(&ew, "message", e.msg);
				jw_end(&ew);
			}
		} else if (in[i].origin == NULL || !*in[i].origin) {
			in[i].origin = "submission";
		}
	}
	jw_end(&ew);
	jw_end(&ew);
	if (nbad) {
		api_error(c, 400, "invalid_parameter", errs.data, "%zu of %zu indicators are invalid; nothing"
			  " was stored", nbad, n);
		goto out;
	}
	struct put_stats st = { 0 };
	struct err e = { 0 };
	/* Values on an allow-list are not stored (docs/allowlists.md); the answer names them. */
	struct allow_set *allow = api_allow(c->w->api);
	size_t kept = n;
	struct allow_hit *hits = xcalloc(n, sizeof(*hits));
	bool *listed = xcalloc(n, sizeof(*listed));
	struct ioc_input *k = xcalloc(n, sizeof(*k));
	int rc;
	for (int tries = 0;; tries++) {
		kept = 0;
		for (size_t i = 0; i < n; i++) {
			listed[i] = allow && allow_match(allow, in[i].type, in[i].value, strlen(in[i].value), &hits[i]);
			if (!listed[i])
				k[kept++] = in[i];
		}
		store_allow_expect(c->w->store, allow ? allow_set_generation(allow) : -1);
		rc = kept ? store_ioc_put_batch(c->w->store, k, kept, &st, &e) : 0;
		store_allow_expect(c->w->store, -1);
		if (rc != ERR_CONFLICT || tries == 2)
			break;
		/* The lists changed under this request: rebuild now rather than wait for the
		 * background thread. */
		allow_set_unref(allow);
		allow = NULL;
		if (api_allow_reload(c->w->api, c->w->store, &e) != 0)
			break;
		allow = api_allow(c->w->api);
	}
	free(k);
	if (rc != 0) {
		allow_set_unref(allow);
		free(hits);
		free(listed);
		db_error(c, &e);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct err he = { 0 };
		int64_t one = 1;
		if (listed[i] && store_allow_hits(c->w->store, &hits[i].list_id, &one, 1, &he) != 0)
			log_warn("counting a suppression: %s", he.msg);
	}
	__atomic_add_fetch(&c->w->api->write_generation, 1, __ATOMIC_RELEASE);
	struct jw w;
	jw_init(&w, &body);
	jw_obj(&w);
	jw_key(&w, "data");
	jw_arr(&w);
	for (size_t i = 0; i < n; i++)
		if (!listed[i])
			store_ioc_get_value(c->w->store, in[i].type, in[i].value, submitted_row, &w, &e);
	jw_end(&w);
	meta_open(c, &w);
	jw_kint(&w, "added", st.added);
	jw_kint(&w, "updated", st.updated);
	jw_kint(&w, "suppressed", (int64_t)(n - kept));
	jw_end(&w);
	/* cairn's addition: what the allow-lists kept out, and why. */
	jw_key(&w, "suppressed");
	jw_arr(&w);
	for (size_t i = 0; i < n; i++) {
		if (!listed[i])
			continue;
		jw_obj(&w);
		jw_kint(&w, "index", (int64_t)i);
		jw_kstr(&w, "type", ioc_type_name(in[i].type));
		jw_kstr(&w, "value", in[i].value);
		jw_kstr(&w, "list", hits[i].list);
		jw_kstr(&w, "entry", hits[i].entry);
		jw_end(&w);
	}
	jw_end(&w);
	jw_end(&w);
	allow_set_unref(allow);
	free(hits);
	free(listed);
	api_json(c, st.added ? 201 : 200, &body);
out:
	free(in);
	arena_cleanup(&ar);
	buf_cleanup(&errs);
	buf_cleanup(&body);
	json_decref(single);
	json_decref(j);
}

void h_revoke(struct call *c, const char *id)
{
	if (!api_require_scope(c, SCOPE_WRITE_IOCS))
		return;
	if (!uuid_valid(id, strlen(id))) {
		api_error(c, 400, "invalid_parameter", "{\"parameter\":\"id\"}", "The indicator id must be a UUID");
		return;
	}
	const char *reason = NULL;
	json_t *j = NULL;
	if (c->req->body_len > 0) {
		j = parse_body(c);
		if (j == NULL)
			return;
		json_t *r = json_object_get(j, "reason");
		if (r && !json_is_string(r)) {
			api_error(c, 400, "invalid_parameter", "{\"parameter\":\"reason\"}", "'reason' must be a string");
			json_decref(j);
			return;
		}
		reason = json_string_value(r);
	}
	char lower[UUID_STR_LEN + 1];
	for (int i = 0; i <= UUID_STR_LEN; i++)
		lower[i] = (char)(id[i] >= 'A' && id[i] <= 'F' ? id[i] + 32 : id[i]);
	struct err e = { 0 };
	int rc = store_ioc_revoke(c->w->store, lower, reason, &e);
	json_decref(j);
	if (rc == ERR_NOT_FOUND) {
		api_error(c, 404, "not_found", NULL, "No indicator with id %s", lower);
		return;
	}
	if (rc) {
		db_error(c, &e);
		return;
	}
	__atomic_add_fetch(&c->w->api->write_generation, 1, __ATOMIC_RELEASE);
	log_info("%s: indicator %s revoked by key %s", c->request_id, lower, c->who.key.prefix);
	struct buf body = BUF_INIT;
	struct jw w;
	jw_init(&w, &body);
	jw_obj(&w);
	struct one_ctx oc = { .c = c, .body = &body, .w = &w };
	store_ioc_get(c->w->store, lower, one_row, &oc, &e);
	meta_open(c, &w);
	jw_end(&w);
	jw_end(&w);
	api_json(c, 200, &body);
}

/* ---- stats ---- */

void h_stats(struct call *c)
{
	if (!api_require_pro(c, "GET /api/v1/iocs/stats") || !api_require_scope(c, SCOPE_READ_IOCS))
		return;
	struct api *a = c->w->api;
	pthread_mutex_lock(&a->lock);
	bool have = a->stats_json != NULL;
	pthread_mutex_unlock(&a->lock);
	/* Just after start the statistics thread may still be on its first pass: wait a little
	 * for it (a small database takes milliseconds), else say when to come back. */
	for (int i = 0; !have && a->stats_running && i < 200; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		pthread_mutex_lock(&a->lock);
		have = a->stats_json != NULL;
		pthread_mutex_unlock(&a->lock);
	}
	if (!have && !a->stats_running)
		stats_refresh(a, c->w->store, true);
	pthread_mutex_lock(&a->lock);
	char *json = a->stats_json ? xstrdup(a->stats_json) : NULL;
	int64_t at = a->stats_at;
	pthread_mutex_unlock(&a->lock);
	if (json == NULL) {
		http_resp_header(c->resp, "retry-after", "5");
		api_error(c, 503, "stats_unavailable", NULL, "Statistics are being computed; retry shortly");
		return;
	}
	char when[40];
	time_format_to(when, at, TIME_SEC);
	int64_t age = (c->now - at) / USEC_PER_SEC;
	http_resp_header(c->resp, "x-cache-updated-at", "%s", when);
	http_resp_header(c->resp, "x-cache-age-seconds", "%lld", (long long)age);
	if (age > 2 * a->cfg.stats_refresh_s)
		http_resp_header(c->resp, "x-cache-stale", "true");
	struct buf body = BUF_INIT;
	struct jw w;
	jw_init(&w, &body);
	jw_obj(&w);
	jw_key(&w, "data");
	jw_raw(&w, json, strlen(json));
	meta_open(c, &w);
	jw_kint(&w, "cache_age_seconds", age);
	jw_end(&w);
	jw_end(&w);
	free(json);
	api_json(c, 200, &body);
}

/* ---- exports ---- */

static int buf_sink(void *ctx, const char *p, size_t n)
{
	buf_append(ctx, p, n);
	return 0;
}

static void next_page_headers(struct call *c, int64_t next_rid);

void h_stix(struct call *c)
{
	struct list_params lp;
	if (!api_require_pro(c, "The STIX export") || !api_require_scope(c, SCOPE_READ_STIX) ||
	    !list_params(c, &lp, false))
		return;
	struct stix_export_opts o = { .identity = true, .markings = true };
	bool bad;
	const char *fmt = param_str(c, "format", 16, &bad);
	if (bad)
		return;
	if (fmt && strcmp(fmt, "bundle") && strcmp(fmt, "objects")) {
		api_error(c, 400, "invalid_parameter", "{\"parameter\":\"format\"}",
			  "Invalid value for parameter 'format': expected bundle or objects");
		return;
	}
	o.objects_only = fmt && !strcmp(fmt, "objects");
	const char *tlp = param_str(c, "tlp", 32, &bad);
	if (bad)
		return;
	if (tlp && (o.tlp = ioc_tlp_canon(tlp)) == NULL) {
		api_error(c, 400, "invalid_parameter", "{\"parameter\":\"tlp\"}",
			  "Invalid value for parameter 'tlp': expected clear, green, amber, amber+strict or red");
		return;
	}
	if (!param_bool(c, "include_identity", &o.identity) || !param_bool(c, "include_markings", &o.markings) ||
	    !param_bool(c, "include_custom", &o.custom))
		return;
	struct buf body = BUF_INIT;
	struct export_sink sink = { buf_sink, &body };
	struct err e = { 0 };
	int64_t n = 0, skipped = 0, next_rid = 0;
	if (export_stix_page(c->w->store, &lp.f, &o, &sink, &n, &skipped, &next_rid, &e) != 0) {
		buf_cleanup(&body);
		db_error(c, &e);
		return;
	}
	size_t alen = 0;
	const char *accept = http_req_header(c->req, "accept", &alen);
	bool stix_type = accept && memmem(accept, alen, "stix+json", 9) != NULL;
	buf_cleanup(&c->resp->body);
	c->resp->body = body;
	c->resp->status = 200;
	c->resp->content_type = stix_type ? "application/stix+json;version=2.1" : "application/json; charset=utf-8";
	http_resp_header(c->resp, "x-total-count", "%lld", (long long)n);
	if (skipped)
		http_resp_header(c->resp, "x-omitted-tactics", "%lld", (long long)skipped);
	if (lp.requested_limit > lp.f.limit)
		http_resp_header(c->resp, "x-limit-clamped-from", "%lld", (long long)lp.requested_limit);
	if (next_rid)
		next_page_headers(c, next_rid);
}

void h_sigma(struct call *c)
{
	struct list_params lp;
	if (!api_require_pro(c, "The Sigma export") || !api_require_scope(c, SCOPE_READ_SIGMA) ||
	    !list_params(c, &lp, false))
		return;
	struct sigma_export_opts o = { .profile = SIGMA_PROFILE_SYSMON };
	bool bad;
	const char *profile = param_str(c, "profile", 16, &bad);
	if (bad)
		return;
	if (profile && sigma_profile_from_name(profile) < 0) {
		api_error(c, 400, "invalid_parameter", "{\"parameter\":\"profile\"}",
			  "Invalid value for parameter 'profile': expected sysmon or network");
		return;
	}
	if (profile)
		o.profile = (enum sigma_profile)sigma_profile_from_name(profile);
	const char *group = param_str(c, "group", 16, &bad);
	if (bad)
		return;
	if (group && strcmp(group, "type") && strcmp(group, "none")) {
		api_error(c, 400, "invalid_parameter", "{\"parameter\":\"group\"}",
			  "Invalid value for parameter 'group': expected type (one rule per indicator type)"
			  " or none");
		return;
	}
	o.group_by_type = group && !strcmp(group, "type");
	if (!param_bool(c, "tlp_tags", &o.tlp_tags))
		return;
	struct buf base = BUF_INIT;
	base_url(c, &base);
	o.base_url = buf_cstr(&base);
	struct buf body = BUF_INIT;
	struct export_sink sink = { buf_sink, &body };
	struct err e = { 0 };
	struct sigma_export_stats st;
	int rc = export_sigma(c->w->store, &lp.f, &o, &sink, &st, &e);
	buf_cleanup(&base);
	if (rc != 0) {
		buf_cleanup(&body);
		db_error(c, &e);
		return;
	}
	buf_cleanup(&c->resp->body);
	c->resp->body = body;
	c->resp->status = 200;
	c->resp->content_type = "application/yaml";
	http_resp_header(c->resp, "x-total-count", "%lld", (long long)st.records);
	http_resp_header(c->resp, "x-rule-count", "%lld", (long long)st.rules);
	if (st.skipped)
		http_resp_header(c->resp, "x-omitted-count", "%lld", (long long)st.skipped);
	if (lp.requested_limit > lp.f.limit)
		http_resp_header(c->resp, "x-limit-clamped-from", "%lld", (long long)lp.requested_limit);
}

/* X-Next-Cursor and Link: the same query with the cursor after next_rid (and no offset). */
static void next_page_headers(struct call *c, int64_t next_rid)
{
	struct buf q = BUF_INIT, next = BUF_INIT;
	char cursor[32];
	snprintf(cursor, sizeof(cursor), "c1.%llx", (unsigned long long)next_rid);
	clean_query(c, &q, true);
	base_url(c, &next);
	buf_printf(&next, "%s?%s%scursor=%s", c->path, buf_cstr(&q), q.len ? "&" : "", cursor);
	http_resp_header(c->resp, "x-next-cursor", "%s", cursor);
	if (next.len + 16 < sizeof(c->resp->headers[0].value))	/* never a cut URL */
		http_resp_header(c->resp, "link", "<%s>; rel=\"next\"", buf_cstr(&next));
	buf_cleanup(&q);
	buf_cleanup(&next);
}

/* A record-at-a-time export (export_lines.h) of the list filters, as the answer. */
static void lines_answer(struct call *c, const struct list_params *lp, enum line_format lf)
{
	struct buf body = BUF_INIT;
	struct export_sink sink = { buf_sink, &body };
	struct err e = { 0 };
	struct lines_result res;
	if (export_lines(c->w->store, &lp->f, lf, &sink, &res, &e) != 0) {
		buf_cleanup(&body);
		db_error(c, &e);
		return;
	}
	buf_cleanup(&c->resp->body);
	c->resp->body = body;
	c->resp->status = 200;
	c->resp->content_type = line_format_content_type(lf);
	http_resp_header(c->resp, "x-total-count", "%lld", (long long)res.count);
	if (res.omitted)
		http_resp_header(c->resp, "x-omitted-count", "%lld", (long long)res.omitted);
	if (res.next_rid)
		next_page_headers(c, res.next_rid);
	if (lp->requested_limit > lp->f.limit)
		http_resp_header(c->resp, "x-limit-clamped-from", "%lld", (long long)lp->requested_limit);
}

void h_cef(struct call *c)
{
	struct list_params lp;
	if (!api_require_pro(c, "The CEF export") || !api_require_scope(c, SCOPE_READ_CEF) ||
	    !list_params(c, &lp, false))
		return;
	bool bad;
	const char *fmt = param_str(c, "format", 16, &bad);
	if (bad)
		return;
	if (fmt && strcmp(fmt, "cef") && strcmp(fmt, "syslog")) {
		api_error(c, 400, "invalid_parameter", "{\"parameter\":\"format\"}",
			  "Invalid value for parameter 'format': expected cef or syslog");
		return;
	}
	lines_answer(c, &lp, fmt && !strcmp(fmt, "syslog") ? LINES_SYSLOG : LINES_CEF);
}

void h_openioc(struct call *c)
{
	struct list_params lp;
	if (!api_require_pro(c, "The OpenIOC export") || !api_require_scope(c, SCOPE_READ_OPENIOC) ||
	    !list_params(c, &lp, false))
		return;
	lines_answer(c, &lp, LINES_OPENIOC);
}

void h_misp(struct call *c)
{
	struct list_params lp;
	if (!api_require_pro(c, "The MISP export") || !api_require_scope(c, SCOPE_READ_MISP) ||
	    !list_params(c, &lp, false))
		return;
	struct misp_export_opts o = { 0 };
	bool bad;
	const char *tlp = param_str(c, "tlp", 32, &bad);
	if (bad)
		return;
	if (tlp && (o.tlp = ioc_tlp_canon(tlp)) == NULL) {
		api_error(c, 400, "invalid_parameter", "{\"parameter\":\"tlp\"}",
			  "Invalid value for parameter 'tlp': expected clear, green, amber, amber+strict or red");
		return;
	}
	const char *ip = param_str(c, "ip_type", 16, &bad);
	if (bad)
		return;
	if (ip && strcmp(ip, "ip-dst") && strcmp(ip, "ip-src") && strcmp(ip, "dst") && strcmp(ip, "src")) {
		api_error(c, 400, "invalid_parameter", "{\"parameter\":\"ip_type\"}",
			  "Invalid value for parameter 'ip_type': expected ip-dst or ip-src");
		return;
	}
	o.ip_src = ip && strstr(ip, "src") != NULL;
	struct buf body = BUF_INIT;
	struct export_sink sink = { buf_sink, &body };
	struct err e = { 0 };
	int64_t n = 0;
	if (export_misp(c->w->store, &lp.f, &o, &sink, &n, &e) != 0) {
		buf_cleanup(&body);
		db_error(c, &e);
		return;
	}
	buf_cleanup(&c->resp->body);
	c->resp->body = body;
	c->resp->status = 200;
	c->resp->content_type = "application/json; charset=utf-8";
	http_resp_header(c->resp, "x-total-count", "%lld", (long long)n);
	if (lp.requested_limit > lp.f.limit)
		http_resp_header(c->resp, "x-limit-clamped-from", "%lld", (long long)lp.requested_limit);
}


/* GET /api/v1/iocs/ecs: the ECS NDJSON export (docs/ecs.md), the list filters plus the mapping's
 * options. Documents carry no time of export (opts.now = 0), so the bytes are reproducible. */
void h_ecs(struct call *c)
{
	struct list_params lp;
	if (!api_require_pro(c, "The ECS export") || !api_require_scope(c, SCOPE_READ_IOCS) ||
	    !list_params(c, &lp, false))
		return;
	struct ecs_opts o = { .profile = ECS_PROFILE_ECS, .feed_name = "cairn", .expiration_text = "90d" };
	bool bad;
	const char *profile = param_str(c, "profile", 16, &bad);
	if (bad)
		return;
	int prof = profile ? ecs_profile_from_name(profile) : ECS_PROFILE_ECS;
	if (prof < 0) {
		api_error(c, 400, "invalid_parameter", "{\"parameter\":\"profile\"}",
			  "Invalid value for parameter 'profile': expected ecs or ti_custom");
		return;
	}
	o.profile = (enum ecs_profile)prof;
	const char *dur = param_str(c, "expiration_duration", 32, &bad);
	if (bad)
		return;
	if (dur)
		o.expiration_text = dur;
	if ((o.expiration_us = ecs_parse_duration(o.expiration_text)) < 0) {
		api_error(c, 400, "invalid_parameter", "{\"parameter\":\"expiration_duration\"}",
			  "Invalid value for parameter 'expiration_duration': expected a duration such as 90d, "
			  "12h, 30m or 1d12h");
		return;
	}
	const char *name = param_str(c, "feed_name", IOC_FEED_MAX, &bad);
	if (bad)
		return;
	if (name)
		o.feed_name = name;
	o.feed_reference = param_str(c, "feed_reference", IOC_URL_FIELD_MAX, &bad);
	if (bad)
		return;
	const char *tlp = param_str(c, "tlp", 32, &bad), *override = NULL;
	if (bad)
		return;
	if (tlp && (override = ioc_tlp_canon(tlp)) == NULL) {
		api_error(c, 400, "invalid_parameter", "{\"parameter\":\"tlp\"}",
			  "Invalid value for parameter 'tlp': expected clear, green, amber, amber+strict or red");
		return;
	}
	o.tlp = override;
	struct buf body = BUF_INIT;
	struct export_sink sink = { buf_sink, &body };
	struct err e = { 0 };
	int64_t n = 0, skipped = 0, docs = 0;
	if (export_ecs(c->w->store, &lp.f, &o, override, &sink, &n, &skipped, &docs, &e) != 0) {
		buf_cleanup(&body);
		db_error(c, &e);
		return;
	}
	buf_cleanup(&c->resp->body);
	c->resp->body = body;
	c->resp->status = 200;
	c->resp->content_type = "application/x-ndjson";
	http_resp_header(c->resp, "x-total-count", "%lld", (long long)n);
	http_resp_header(c->resp, "x-document-count", "%lld", (long long)docs);
	if (skipped)
		http_resp_header(c->resp, "x-omitted-records", "%lld", (long long)skipped);
	if (lp.requested_limit > lp.f.limit)
		http_resp_header(c->resp, "x-limit-clamped-from", "%lld", (long long)lp.requested_limit);
}

/* GET /api/v1/iocs/splunk?kind=ip|domain|file|url|email: the CSV of Splunk ES's threat-intel
 * lookups (export_splunk.c; docs/exports.md), the list filters narrowing it. */
void h_splunk(struct call *c)
{
	struct list_params lp;
	if (!api_require_pro(c, "The Splunk ES export") || !api_require_scope(c, SCOPE_READ_IOCS) ||
	    !list_params(c, &lp, false))
		return;
	bool bad;
	const char *kind = param_str(c, "kind", 16, &bad);
	if (bad)
		return;
	int k = splunk_kind_from_name(kind);
	if (k < 0) {
		api_error(c, 400, "invalid_parameter", "{\"parameter\":\"kind\"}",
			  "%s parameter 'kind': expected ip, domain, file, url or email (one CSV per threat"
			  " collection)", kind ? "Invalid value for" : "Missing");
		return;
	}
	if (lp.f.types && !(lp.f.types & splunk_kind_types((enum splunk_kind)k))) {
		api_error(c, 400, "invalid_parameter", "{\"parameter\":\"type\"}",
			  "Invalid value for parameter 'type': %s is not of kind %s", lp.types_text, kind);
		return;
	}
	struct buf body = BUF_INIT;
	struct export_sink sink = { buf_sink, &body };
	struct err e = { 0 };
	int64_t n = 0, next_rid = 0;
	if (export_splunk(c->w->store, &lp.f, (enum splunk_kind)k, &sink, &n, &next_rid, &e) != 0) {
		buf_cleanup(&body);
		db_error(c, &e);
		return;
	}
	buf_cleanup(&c->resp->body);
	c->resp->body = body;
	c->resp->status = 200;
	c->resp->content_type = "text/csv; charset=utf-8; header=present";
	http_resp_header(c->resp, "x-total-count", "%lld", (long long)n);
	if (next_rid)
		next_page_headers(c, next_rid);
	if (lp.requested_limit > lp.f.limit)
		http_resp_header(c->resp, "x-limit-clamped-from", "%lld", (long long)lp.requested_limit);
}
