/*
 * Feed definitions and pulls (see feeds.h).
 */
#include "feeds/feeds.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/crypto.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "base/xmalloc.h"
#include "imp/importer.h"
#include "imp/input.h"
#include "ioc/record.h"
#include "net/http_client.h"
#include "net/taxii_client.h"

static const char *const formats[] = { "txt", "csv", "json", "stix", "taxii", "misp" };

void feed_def_init(struct feed_def *f)
{
	memset(f, 0, sizeof(*f));
	f->interval_s = 3600;
	f->confidence = -1;
	f->reliability = 'C';
	f->max_bytes = 512LL << 20;
}

int64_t feed_interval_parse(const char *s)
{
	char *end;
	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	long long v = strtoll(s, &end, 10);
	int64_t mul = !strcmp(end, "") || !strcmp(end, "s") ? 1
		    : !strcmp(end, "m") ? 60 : !strcmp(end, "h") ? 3600 : !strcmp(end, "d") ? 86400 : -1;
	if (mul < 0 || v <= 0 || v > 366LL * 86400 / mul)
		return -1;
	return v * mul;
}

int feed_def_check(struct feed_def *f, struct err *e)
{
	size_t n = strlen(f->name);
	if (n == 0 || strspn(f->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != n)
		return err_set(e, ERR_INVALID, "feed name '%s': use letters, digits, '-', '_' and '.'", f->name);
	if (strncmp(f->url, "http://", 7) && strncmp(f->url, "https://", 8))
		return err_set(e, ERR_INVALID, "feed %s: --url must be an http:// or https:// URL", f->name);
	bool known = false;
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		known = known || !strcmp(f->format, formats[i]);
	if (!known)
		return err_set(e, ERR_INVALID, "feed %s: --format must be txt, csv, json, stix, taxii or misp", f->name);
	if (f->reliability < 'A' || f->reliability > 'F')
		return err_set(e, ERR_INVALID, "feed %s: --reliability must be a grade from A to F", f->name);
	if (f->confidence < -1 || f->confidence > 100)
		return err_set(e, ERR_INVALID, "feed %s: --confidence must be 0-100", f->name);
	if (f->interval_s < 60)
		return err_set(e, ERR_INVALID, "feed %s: --interval must be at least a minute", f->name);
	if (f->tlp[0]) {
		const char *t = ioc_tlp_canon(f->tlp);
		if (t == NULL)
			return err_set(e, ERR_INVALID, "feed %s: --tlp must be clear, green, amber, amber+strict or red", f->name);
		snprintf(f->tlp, sizeof(f->tlp), "%s", t);
	}
	if (f->type[0] && ioc_type_from_name(f->type, strlen(f->type)) == IOC_NONE)
		return err_set(e, ERR_INVALID, "feed %s: unknown --type '%s'", f->name, f->type);
	if (strcmp(f->auth, "") && strcmp(f->auth, "basic") && strcmp(f->auth, "bearer") && strcmp(f->auth, "header"))
		return err_set(e, ERR_INVALID, "feed %s: --auth must be basic, bearer or header", f->name);
	if (f->auth[0] && f->secret_env[0] == '\0')
		return err_set(e, ERR_INVALID, "feed %s: --auth needs --secret-env (the variable holding the secret)", f->name);
	if (f->max_bytes < 1024)
		return err_set(e, ERR_INVALID, "feed %s: the size cap is below 1 KiB", f->name);
	for (int i = 0; i < F_FIELD_COUNT; i++)
		if (f->map[i][0] && strcmp(f->format, "csv"))
			return err_set(e, ERR_INVALID, "feed %s: --map is for csv feeds", f->name);
	if (f->lifetime_days < 0 || f->lifetime_days > 36500)
		return err_set(e, ERR_INVALID, "feed %s: --lifetime must be 1-36500 days", f->name);
	for (int i = 0; i < f->nindustries; i++) {
		size_t len = strlen(f->industries[i]);
		if (len == 0 || strspn(f->industries[i], "abcdefghijklmnopqrstuvwxyz0123456789-") != len)
			return err_set(e, ERR_INVALID, "feed %s: --industry takes a sector slug (e.g. financial-services)",
				       f->name);
		char slug[sizeof(f->industries[i])];
		snprintf(slug, sizeof(slug), "%s", ioc_industry_canon(f->industries[i]));	/* may be the same string */
		memcpy(f->industries[i], slug, sizeof(slug));
	}
	return 0;
}

void feed_def_json(const struct feed_def *f, struct buf *out)
{
	json_t *o = json_object();
	json_t *tags = json_array();
	for (int i = 0; i < f->ntags; i++)
		json_array_append_new(tags, json_string(f->tags[i]));
	char grade[2] = { f->reliability, 0 };
	json_object_set_new(o, "url", json_string(f->url));
	json_object_set_new(o, "format", json_string(f->format));
	json_object_set_new(o, "interval", json_integer(f->interval_s));
	json_object_set_new(o, "type", json_string(f->type));
	json_object_set_new(o, "confidence", json_integer(f->confidence));
	json_object_set_new(o, "reliability", json_string(grade));
	json_object_set_new(o, "tags", tags);
	json_object_set_new(o, "tlp", json_string(f->tlp));
	json_object_set_new(o, "category", json_string(f->category));
	json_object_set_new(o, "snapshot", json_boolean(f->snapshot));
	json_object_set_new(o, "collection", json_string(f->collection));
	json_object_set_new(o, "auth", json_string(f->auth));
	json_object_set_new(o, "user", json_string(f->user));
	json_object_set_new(o, "secret_env", json_string(f->secret_env));
	json_object_set_new(o, "max_bytes", json_integer(f->max_bytes));
	json_t *ind = json_array();
	for (int i = 0; i < f->nindustries; i++)
		json_array_append_new(ind, json_string(f->industries[i]));
	json_object_set_new(o, "industries", ind);
	json_object_set_new(o, "lifetime_days", json_integer(f->lifetime_days));
	if (f->from_config)
		json_object_set_new(o, "from_config", json_true());
	json_t *map = json_object();
	for (int i = 0; i < F_FIELD_COUNT; i++)
		if (f->map[i][0])
			json_object_set_new(map, import_field_name(i), json_string(f->map[i]));
	json_object_set_new(o, "map", map);
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	buf_puts(out, s);
	free(s);
	json_decref(o);
}

static void copy_str(json_t *o, const char *k, char *out, size_t cap)
{
	const char *v = json_string_value(json_object_get(o, k));
	if (v)
		snprintf(out, cap, "%s", v);
}

int feed_def_parse(const char *json, struct feed_def *f, struct err *e)
{
	json_error_t je;
	json_t *o = json_loads(json, 0, &je);
	if (!json_is_object(o)) {
		json_decref(o);
		return err_set(e, ERR_INVALID, "a stored feed definition is not JSON: %s", je.text);
	}
	char name[FEED_NAME_MAX];
	snprintf(name, sizeof(name), "%s", f->name);
	feed_def_init(f);
	snprintf(f->name, sizeof(f->name), "%s", name);
	copy_str(o, "url", f->url, sizeof(f->url));
	copy_str(o, "format", f->format, sizeof(f->format));
	copy_str(o, "type", f->type, sizeof(f->type));
	copy_str(o, "tlp", f->tlp, sizeof(f->tlp));
	copy_str(o, "category", f->category, sizeof(f->category));
	copy_str(o, "collection", f->collection, sizeof(f->collection));
	copy_str(o, "auth", f->auth, sizeof(f->auth));
	copy_str(o, "user", f->user, sizeof(f->user));
	copy_str(o, "secret_env", f->secret_env, sizeof(f->secret_env));
	if (json_is_integer(json_object_get(o, "interval")))
		f->interval_s = json_integer_value(json_object_get(o, "interval"));
	if (json_is_integer(json_object_get(o, "confidence")))
		f->confidence = (int)json_integer_value(json_object_get(o, "confidence"));
	if (json_is_integer(json_object_get(o, "max_bytes")))
		f->max_bytes = json_integer_value(json_object_get(o, "max_bytes"));
	const char *g = json_string_value(json_object_get(o, "reliability"));
	if (g && *g)
		f->reliability = *g;
	f->snapshot = json_is_true(json_object_get(o, "snapshot"));
	f->from_config = json_is_true(json_object_get(o, "from_config"));
	const char *mk;
	json_t *mv;
	json_object_foreach(json_object_get(o, "map"), mk, mv) {
		int fi = import_field_from_name(mk);
		if (fi >= 0 && json_is_string(mv))
			snprintf(f->map[fi], sizeof(f->map[fi]), "%s", json_string_value(mv));
	}
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(o, "tags"), i, t)
		if (json_is_string(t) && f->ntags < FEED_TAGS_MAX)
			snprintf(f->tags[f->ntags++], sizeof(f->tags[0]), "%s", json_string_value(t));
	if (json_is_integer(json_object_get(o, "lifetime_days")))
		f->lifetime_days = (int)json_integer_value(json_object_get(o, "lifetime_days"));
	json_array_foreach(json_object_get(o, "industries"), i, t)
		if (json_is_string(t) && f->nindustries < 4)
			snprintf(f->industries[f->nindustries++], sizeof(f->industries[0]), "%s", json_string_value(t));
	json_decref(o);
	return feed_def_check(f, e);
}

/* ---- pulls ---- */

static void import_opts_of(const struct feed_def *f, struct import_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->defaults.type = f->type[0] ? ioc_type_from_name(f->type, strlen(f->type)) : IOC_NONE;
	o->defaults.score = f->confidence;
	o->defaults.reliability = f->reliability;
	o->defaults.feed = f->name;
	o->defaults.category = f->category[0] ? f->category : "threat-intel";	/* as cairn import */
	o->defaults.tlp = f->tlp[0] ? f->tlp : NULL;
	o->defaults.origin = "feed";
	for (int i = 0; i < f->ntags && i < 16; i++)
		o->defaults.tags[o->defaults.ntags++] = f->tags[i];
	for (int i = 0; i < f->nindustries; i++)
		o->defaults.industries[o->defaults.nindustries++] = f->industries[i];
	o->defaults.lifetime_days = f->lifetime_days;
	for (int i = 0; i < F_FIELD_COUNT; i++)
		o->map[i] = f->map[i][0] ? f->map[i] : NULL;
	o->feed_given = true;
}

static void add_result(struct feed_result *r, const struct import_result *ir)
{
	r->read += ir->read;
	r->added += ir->added;
	r->updated += ir->updated;
	r->rejected += ir->rejected;
	r->objects += ir->objects;
}

static enum import_format format_of(const char *f)
{
	return !strcmp(f, "csv") ? IMPORT_CSV : !strcmp(f, "json") ? IMPORT_JSON
	       : !strcmp(f, "stix") || !strcmp(f, "taxii") ? IMPORT_STIX
	       : !strcmp(f, "misp") ? IMPORT_MISP : IMPORT_TXT;
}

/* A gzip file (not a gzip transfer encoding, which libcurl undoes) is inflated here. */
static int gunzip(struct buf *in, int64_t cap, struct err *e)
{
	if (in->len < 2 || (unsigned char)in->data[0] != 0x1f || (unsigned char)in->data[1] != 0x8b)
		return 0;
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return err_set(e, ERR_INTERNAL, "cannot start zlib");
	struct buf out = BUF_INIT;
	z.next_in = (unsigned char *)in->data;
	z.avail_in = (unsigned)in->len;
	int zr = Z_OK;
	while (zr == Z_OK) {
		buf_reserve(&out, 1 << 16);
		z.next_out = (unsigned char *)out.data + out.len;
		z.avail_out = 1 << 16;
		zr = inflate(&z, Z_NO_FLUSH);
		out.len = (size_t)((char *)z.next_out - out.data);
		if ((int64_t)out.len > cap) {
			inflateEnd(&z);
			buf_cleanup(&out);
			return err_set(e, ERR_TOO_LARGE, "the feed inflates past %lld bytes", (long long)cap);
		}
	}
	inflateEnd(&z);
	if (zr != Z_STREAM_END) {
		buf_cleanup(&out);
		return err_set(e, ERR_INVALID, "the feed is a corrupt or truncated gzip file");
	}
	buf_cleanup(in);
	*in = out;
	return 0;
}

static const bool *abort_flag;

void feeds_set_abort(const bool *flag)
{
	abort_flag = flag;
}

static void http_conf_of(const struct feed_def *f, struct hc_conf *hc)
{
	memset(hc, 0, sizeof(*hc));
	hc->abort = abort_flag;
	hc->max_body = (size_t)f->max_bytes;
	const char *secret = f->secret_env[0] ? getenv(f->secret_env) : NULL;
	if (!strcmp(f->auth, "basic")) {
		hc->auth = HC_AUTH_BASIC;
		hc->user = f->user;
		hc->password = secret ? secret : "";
	} else if (!strcmp(f->auth, "bearer")) {
		hc->auth = HC_AUTH_BEARER;
		hc->token = secret ? secret : "";
	} else if (!strcmp(f->auth, "header")) {
		hc->auth = HC_AUTH_HEADER;
		hc->token = secret ? secret : "";
	}
}

/* The feed's HTTP client (its authentication, its size cap); NULL with e set. */
static struct http_client *feed_client(const struct feed_def *f, struct err *e)
{
	struct hc_conf conf;
	http_conf_of(f, &conf);
	struct http_client *hc = http_client_new(&conf);
	if (hc == NULL)
		err_set(e, ERR_INTERNAL, "cannot start the HTTP client");
	return hc;
}

/* Imports p[0..n) in format fmt with the feed's defaults, adding the counts to r. */
static int import_bytes(struct store *s, const struct feed_def *f, const char *p, size_t n,
			enum import_format fmt, struct feed_result *r, struct err *e)
{
	struct import_opts o;
	struct import_result *ir = xcalloc(1, sizeof(*ir));
	import_opts_of(f, &o);
	struct input *in = input_from_memory(p ? p : "", n);
	int rc = import_input(s, in, fmt, false, &o, ir, e);
	add_result(r, ir);
	free(ir);
	return rc;
}

static int pull_url(struct store *s, const struct feed_def *f, struct feed_row *row, struct feed_result *r,
		    struct err *e)
{
	struct http_client *hc = feed_client(f, e);
	if (hc == NULL)
		return ERR_INTERNAL;
	struct hc_request rq = { .url = f->url, .if_none_match = row->etag, .if_modified_since = row->last_modified };
	struct hc_response rs = { 0 };
	int rc = http_client_do(hc, &rq, &rs, e);
	http_client_free(hc);
	r->http_status = rs.status;
	if (rc == 0 && rs.status == 304) {
		r->not_modified = true;
	} else if (rc == 0 && (rs.status < 200 || rs.status > 299)) {
		rc = err_set(e, ERR_IO, "%s answered %ld", f->name, rs.status);
	} else if (rc == 0) {
		rc = gunzip(&rs.body, f->max_bytes, e);
		if (rc == 0) {
			int64_t since = store_clock(s);	/* every value of this pull is seen after it */
			rc = import_bytes(s, f, rs.body.data, rs.body.len, format_of(f->format), r, e);
			/* A snapshot lists every value the feed still publishes: the others end. An
			 * answer without a single value is taken for a broken feed, not an empty list. */
			r->snapshot = f->snapshot;
			if (rc == 0 && f->snapshot && r->read > 0)
				rc = store_feed_end_unseen(s, f->name, since, &r->ended, e);
		}
		if (rc == 0) {
			const char *et = hc_header(&rs, "etag"), *lm = hc_header(&rs, "last-modified");
			snprintf(row->etag, sizeof(row->etag), "%s", et ? et : "");
			snprintf(row->last_modified, sizeof(row->last_modified), "%s", lm ? lm : "");
		}
	}
	hc_response_cleanup(&rs);
	return rc;
}

struct taxii_ctx {
	struct store *s;
	const struct feed_def *f;
	struct feed_row *row;
	struct feed_result *r;
	struct err *e;
};

/* One TAXII page: imported as a STIX envelope, then the cursor is saved. */
static int taxii_page(void *ctx, const struct taxii_page *page)
{
	struct taxii_ctx *tc = ctx;
	json_t *objects = page->objects;
	const char *last = page->date_added_last;
	tc->r->pages++;
	if (json_array_size(objects) == 0)
		return 0;
	json_t *env = json_pack("{sO}", "objects", objects);
	char *text = json_dumps(env, JSON_COMPACT);
	json_decref(env);
	int rc = import_bytes(tc->s, tc->f, text, strlen(text), IMPORT_STIX, tc->r, tc->e);
	free(text);
	if (rc == 0 && last && *last) {
		snprintf(tc->row->cursor, sizeof(tc->row->cursor), "%s", last);
		rc = store_feed_def_state(tc->s, tc->row, tc->e);
	}
	return rc;
}

static int pull_taxii(struct store *s, const struct feed_def *f, struct feed_row *row, struct feed_result *r,
		      struct err *e)
{
	struct http_client *hc = feed_client(f, e);
	if (hc == NULL)
		return ERR_INTERNAL;
	struct buf url = BUF_INIT;
	int rc = taxii_collection_url(hc, f->url, f->collection, &url, e);
	if (rc == 0) {
		struct taxii_poll p = { .collection_url = url.data, .added_after = row->cursor[0] ? row->cursor : NULL,
					.limit = 1000 };
		struct taxii_poll_result pr;
		struct taxii_ctx tc = { s, f, row, r, e };
		rc = taxii_poll(hc, &p, taxii_page, &tc, &pr, e);
		r->not_modified = rc == 0 && pr.objects == 0;
	}
	buf_cleanup(&url);
	http_client_free(hc);
	return rc;
}

/* ---- MISP feeds: manifest.json, then the events newer than the cursor ---- */

#define MISP_EVENTS_MAX 100000

struct misp_event {
	char uuid[40];
	int64_t ts;
};

static int event_cmp(const void *a, const void *b)
{
	const struct misp_event *x = a, *y = b;
	return x->ts < y->ts ? -1 : x->ts > y->ts ? 1 : strcmp(x->uuid, y->uuid);
}

static int pull_misp(struct store *s, const struct feed_def *f, struct feed_row *row, struct feed_result *r,
		     struct err *e)
{
	struct http_client *hc = feed_client(f, e);
	if (hc == NULL)
		return ERR_INTERNAL;
	struct buf base = BUF_INIT, url = BUF_INIT;
	buf_puts(&base, f->url);
	if (base.len && base.data[base.len - 1] != '/')
		buf_putc(&base, '/');
	buf_printf(&url, "%smanifest.json", base.data);
	struct hc_request rq = { .url = url.data, .if_none_match = row->etag, .if_modified_since = row->last_modified };
	struct hc_response rs = { 0 };
	struct misp_event *ev = NULL;
	size_t n = 0;
	int rc = http_client_do(hc, &rq, &rs, e);
	r->http_status = rs.status;
	if (rc == 0 && rs.status == 304) {
		r->not_modified = true;
		goto out;
	}
	if (rc == 0 && (rs.status < 200 || rs.status > 299))
		rc = err_set(e, ERR_IO, "%s answered %ld for its manifest.json", f->name, rs.status);
	json_t *man = NULL;
	char etag[sizeof(row->etag)] = "", lastmod[sizeof(row->last_modified)] = "";
	if (rc == 0) {
		const char *et = hc_header(&rs, "etag"), *lm = hc_header(&rs, "last-modified");
		snprintf(etag, sizeof(etag), "%s", et ? et : "");
		snprintf(lastmod, sizeof(lastmod), "%s", lm ? lm : "");
	}
	if (rc == 0) {
		json_error_t je;
		man = json_loadb(rs.body.data ? rs.body.data : "", rs.body.len, 0, &je);
		if (!json_is_object(man))
			rc = err_set(e, ERR_INVALID, "%s: manifest.json is not a MISP feed manifest: %s", f->name,
				     man ? "not an object" : je.text);
	}
	int64_t cursor = row->cursor[0] ? strtoll(row->cursor, NULL, 10) : 0;
	if (rc == 0) {
		const char *uuid;
		json_t *m;
		ev = xcalloc(json_object_size(man) ? json_object_size(man) : 1, sizeof(*ev));
		json_object_foreach(man, uuid, m) {
			json_t *t = json_object_get(m, "timestamp");
			int64_t ts = json_is_string(t) ? strtoll(json_string_value(t), NULL, 10)
				   : json_is_integer(t) ? json_integer_value(t) : 0;
			/* Only the events changed since the last pull; a uuid is all a file name holds. */
			if (ts <= cursor || !uuid_valid(uuid, strlen(uuid)) || n == MISP_EVENTS_MAX)
				continue;
			snprintf(ev[n].uuid, sizeof(ev[n].uuid), "%s", uuid);
			ev[n++].ts = ts;
		}
		qsort(ev, n, sizeof(*ev), event_cmp);
	}
	json_decref(man);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		buf_reset(&url);
		buf_printf(&url, "%s%s.json", base.data, ev[i].uuid);
		struct hc_request erq = { .url = url.data };
		rc = http_client_do(hc, &erq, &rs, e);
		if (rc == 0 && (rs.status < 200 || rs.status > 299))
			rc = err_set(e, ERR_IO, "%s answered %ld for event %s", f->name, rs.status, ev[i].uuid);
		if (rc == 0)
			rc = gunzip(&rs.body, f->max_bytes, e);
		if (rc == 0) {
			rc = import_bytes(s, f, rs.body.data, rs.body.len, IMPORT_MISP, r, e);
			r->pages++;
		}
		if (rc == 0) {
			/* In time-stamp order, so the cursor never passes an event not yet imported. */
			snprintf(row->cursor, sizeof(row->cursor), "%lld", (long long)ev[i].ts);
			rc = store_feed_def_state(s, row, e);
		}
	}
	if (rc == 0) {
		/* The manifest's validators are kept only once every event it listed is in. */
		r->not_modified = n == 0;
		snprintf(row->etag, sizeof(row->etag), "%s", etag);
		snprintf(row->last_modified, sizeof(row->last_modified), "%s", lastmod);
	}
out:
	free(ev);
	hc_response_cleanup(&rs);
	http_client_free(hc);
	buf_cleanup(&base);
	buf_cleanup(&url);
	return rc;
}

struct found {
	struct feed_row row;
	char name[FEED_NAME_MAX];
	char *def;
};

static int keep_row(void *ctx, const struct feed_row *r)
{
	struct found *f = ctx;
	f->row = *r;
	snprintf(f->name, sizeof(f->name), "%s", r->name);
	f->def = xstrdup(r->def);
	f->row.name = f->name;
	f->row.def = f->def;
	return 0;
}

int feed_run(struct store *s, const struct config *cfg, const char *name, int64_t now, struct feed_result *r,
	     struct err *e)
{
	(void)cfg;
	memset(r, 0, sizeof(*r));
	struct found fd = { 0 };
	int rc = store_feed_def_list(s, name, keep_row, &fd, e);
	if (rc)
		return rc;
	struct feed_def f;
	snprintf(f.name, sizeof(f.name), "%s", fd.name);
	struct err pe = { 0 };
	int prc = feed_def_parse(fd.def, &f, &pe);
	if (prc == 0)
		prc = !strcmp(f.format, "taxii") ? pull_taxii(s, &f, &fd.row, r, &pe)
		      : !strcmp(f.format, "misp") ? pull_misp(s, &f, &fd.row, r, &pe) : pull_url(s, &f, &fd.row, r, &pe);
	fd.row.last_run = now;
	if (prc != 0 && abort_flag && __atomic_load_n(abort_flag, __ATOMIC_ACQUIRE)) {
		free(fd.def);	/* stopped by a server shutdown: not the feed's failure */
		return 0;
	}
	if (prc == 0) {
		snprintf(r->status, sizeof(r->status), "%s", r->not_modified ? "not modified" : "ok");
		fd.row.last_ok = now;
		fd.row.failures = 0;
		fd.row.last_error[0] = '\0';
		fd.row.next_run = now + f.interval_s * USEC_PER_SEC;
	} else {
		snprintf(r->status, sizeof(r->status), "failed");
		snprintf(r->error, sizeof(r->error), "%s", pe.msg);
		snprintf(fd.row.last_error, sizeof(fd.row.last_error), "%s", pe.msg);
		fd.row.failures++;
		/* Try again soon, then less often: 1, 2, 4 … minutes, at most the interval. */
		int64_t wait = 60LL << (fd.row.failures < 10 ? fd.row.failures - 1 : 9);
		if (wait > f.interval_s)
			wait = f.interval_s;
		fd.row.next_run = now + wait * USEC_PER_SEC;
		log_warn("feed %s: %s", fd.name, pe.msg);
	}
	snprintf(fd.row.last_status, sizeof(fd.row.last_status), "%s", r->status);
	rc = store_feed_def_state(s, &fd.row, e);
	if (rc == 0 && prc == 0 && !r->not_modified)
		rc = store_feed_note(s, fd.name, f.category[0] ? f.category : "threat-intel", r->read, r->added,
				     r->updated, r->rejected, e);
	free(fd.def);
	return rc;
}

struct due {
	char (*names)[FEED_NAME_MAX];
	size_t n, cap;
	int64_t now;
};

static int collect_due(void *ctx, const struct feed_row *r)
{
	struct due *d = ctx;
	if (r->next_run > d->now)
		return 0;
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		d->names = xrealloc(d->names, d->cap * sizeof(*d->names));
	}
	snprintf(d->names[d->n++], FEED_NAME_MAX, "%s", r->name);
	return 0;
}

int feeds_run_due(struct store *s, const struct config *cfg, int64_t now, int *ran, struct err *e)
{
	struct due d = { NULL, 0, 0, now };
	*ran = 0;
	int rc = store_feed_def_list(s, NULL, collect_due, &d, e);
	for (size_t i = 0; rc == 0 && i < d.n; i++) {
		struct feed_result r;
		rc = feed_run(s, cfg, d.names[i], now, &r, e);
		if (rc == ERR_NOT_FOUND)
			rc = 0;	/* removed meanwhile */
		else if (rc == 0)
			(*ran)++;
	}
	free(d.names);
	return rc;
}

/* ---- the configuration's feeds ---- */

static void def_of_conf(const struct feed_conf *c, struct feed_def *f)
{
	feed_def_init(f);
	snprintf(f->name, sizeof(f->name), "%s", c->name);
	snprintf(f->url, sizeof(f->url), "%s", c->url);
	snprintf(f->format, sizeof(f->format), "%s", c->format);
	if (c->interval_s)
		f->interval_s = c->interval_s;
	snprintf(f->type, sizeof(f->type), "%s", c->type);
	f->confidence = c->confidence;
	if (c->reliability)
		f->reliability = c->reliability;
	for (int i = 0; i < c->ntags && i < FEED_TAGS_MAX; i++)
		snprintf(f->tags[f->ntags++], sizeof(f->tags[0]), "%s", c->tags[i]);
	snprintf(f->tlp, sizeof(f->tlp), "%s", c->tlp);
	snprintf(f->category, sizeof(f->category), "%s", c->category);
	for (int i = 0; i < c->nindustries && i < 4; i++)
		snprintf(f->industries[f->nindustries++], sizeof(f->industries[0]), "%s", c->industries[i]);
	f->lifetime_days = c->lifetime_days;
	f->snapshot = c->snapshot;
	snprintf(f->collection, sizeof(f->collection), "%s", c->collection);
	snprintf(f->auth, sizeof(f->auth), "%s", c->auth);
	snprintf(f->user, sizeof(f->user), "%s", c->user);
	snprintf(f->secret_env, sizeof(f->secret_env), "%s", c->secret_env);
	if (c->max_bytes)
		f->max_bytes = c->max_bytes;
	for (int i = 0; i < c->nmap; i++) {
		const char *eq = strchr(c->map[i], '=');
		char field[32];
		snprintf(field, sizeof(field), "%.*s", eq ? (int)(eq - c->map[i]) : 0, c->map[i]);
		int fi = eq ? import_field_from_name(field) : -1;
		if (fi >= 0)
			snprintf(f->map[fi], sizeof(f->map[fi]), "%s", eq + 1);
	}
	f->from_config = true;
}

struct stored {
	char name[FEED_NAME_MAX];
	char *def;
	bool from_config;
};

struct stored_list {
	struct stored *v;
	size_t n;
};

static int keep_stored(void *ctx, const struct feed_row *r)
{
	struct stored_list *l = ctx;
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	struct stored *st = &l->v[l->n++];
	snprintf(st->name, sizeof(st->name), "%s", r->name);
	st->def = xstrdup(r->def);
	json_t *o = json_loads(r->def, 0, NULL);
	st->from_config = json_is_true(json_object_get(o, "from_config"));
	json_decref(o);
	return 0;
}

int feeds_from_config(struct store *s, const struct config *cfg, int *changed, struct err *e)
{
	*changed = 0;
	if (!cfg->feeds_given)
		return 0;
	struct stored_list l = { NULL, 0 };
	int rc = store_feed_def_list(s, NULL, keep_stored, &l, e);
	for (int i = 0; rc == 0 && i < cfg->nfeeds; i++) {
		struct feed_def f;
		def_of_conf(&cfg->feeds[i], &f);
		struct err ce = { 0 };
		if (feed_def_check(&f, &ce) != 0) {
			rc = err_set(e, ERR_INVALID, "configuration line %lu: %s", cfg->feeds[i].line, ce.msg);
			break;
		}
		struct buf json = BUF_INIT;
		feed_def_json(&f, &json);
		const struct stored *old = NULL;
		for (size_t j = 0; j < l.n; j++)
			if (!strcmp(l.v[j].name, f.name))
				old = &l.v[j];
		if (old && !old->from_config)
			rc = err_set(e, ERR_CONFLICT, "configuration line %lu: feed %s exists already (cairn feeds add);"
				     " remove it or rename the configured one", cfg->feeds[i].line, f.name);
		else if (old && strcmp(old->def, json.data))
			rc = store_feed_def_update(s, f.name, json.data, e), (*changed)++;
		else if (!old)
			rc = store_feed_def_add(s, f.name, json.data, time_now_us(), e), (*changed)++;
		buf_cleanup(&json);
	}
	for (size_t j = 0; rc == 0 && j < l.n; j++) {
		bool kept = false;
		for (int i = 0; i < cfg->nfeeds; i++)
			kept = kept || !strcmp(cfg->feeds[i].name, l.v[j].name);
		if (l.v[j].from_config && !kept) {
			rc = store_feed_def_remove(s, l.v[j].name, e);
			(*changed)++;
		}
	}
	for (size_t j = 0; j < l.n; j++)
		free(l.v[j].def);
	free(l.v);
	return rc;
}
