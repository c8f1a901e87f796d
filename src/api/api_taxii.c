/*
 * The TAXII 2.1 server under /api/taxii2/ (DESIGN.md "TAXII 2.1", the checklist in
 * TAXII.md): discovery, the API root, collections, objects (GET, POST), an object
 * (GET, DELETE), its versions, the manifest and status resources.
 *
 * Collections are views of the object store (config: taxii.collections). Pages are read
 * by store_objects_query() from indexes, in date_added order, and written from the JSON
 * each version was stored with. `next` is a stateless keyset token: the date_added
 * reached, the filters, the caller and the time of issue, signed with a secret kept in
 * the database, so that any process serving the database accepts it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "allow/allow.h"
#include "api/api_int.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "base/xmalloc.h"
#include "imp/importer.h"
#include "imp/input.h"
#include "api/taxii_wire.h"

#define TAXII_TYPE "application/taxii+json;version=2.1"

/* ---- small pieces ---- */

static void taxii_db_error(struct call *c, const struct err *e)
{
	log_error("%s: %s", c->request_id, e->msg);
	api_error(c, 500, "internal_error", NULL, "The request could not be completed.");
}

static void put_time(struct buf *b, int64_t us)
{
	time_format(b, us, TIME_USEC);
}

/* ---- collections and access ---- */

struct coll_access {
	const struct collection_conf *cc;
	bool read, write;
};

static struct coll_access access_of(struct call *c, const struct collection_conf *cc)
{
	struct coll_access a = { cc, false, false };
	int tier = c->who.key.tier;
	unsigned sc = c->who.key.scopes;
	bool admin = sc & SCOPE_ADMIN;
	a.read = tier >= cc->read_tier && (admin || (sc & SCOPE_READ_TAXII));
	a.write = tier >= cc->write_tier && (admin || (sc & SCOPE_WRITE_IOCS));
	return a;
}

static const struct collection_conf *find_collection(struct call *c, const char *name)
{
	const struct taxii_conf *t = &c->w->api->cfg.taxii;
	for (int i = 0; i < t->ncoll; i++)
		if (!strcmp(t->coll[i].id, name) || !strcmp(t->coll[i].alias, name))
			return &t->coll[i];
	return NULL;
}

static void no_collection(struct call *c, const char *name)
{
	api_error(c, 404, "not_found", NULL, "No collection '%.80s' here.", name);
}

static void write_collection(struct jw *w, const struct coll_access *a)
{
	jw_obj(w);
	jw_kstr(w, "id", a->cc->id);
	jw_kstr(w, "title", a->cc->title);
	if (a->cc->description[0])
		jw_kstr(w, "description", a->cc->description);
	jw_kstr(w, "alias", a->cc->alias);
	jw_key(w, "can_read");
	jw_bool(w, a->read);
	jw_key(w, "can_write");
	jw_bool(w, a->write);
	jw_key(w, "media_types");
	jw_arr(w);
	jw_str(w, "application/stix+json;version=2.1");
	jw_end(w);
	jw_end(w);
}

static void taxii_json(struct call *c, int status, struct buf *body)
{
	api_json(c, status, body);
	c->resp->content_type = TAXII_TYPE;
}

/* ---- discovery, API root, collections ---- */

static void h_discovery(struct call *c)
{
	const struct taxii_conf *t = &c->w->api->cfg.taxii;
	struct buf b = BUF_INIT, root = BUF_INIT;
	base_url(c, &root);
	buf_puts(&root, "/api/taxii2/api/");
	struct jw w;
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "title", t->title);
	jw_kstr(&w, "description", t->description);
	jw_kstr(&w, "default", root.data);
	jw_key(&w, "api_roots");
	jw_arr(&w);
	jw_str(&w, root.data);
	jw_end(&w);
	jw_end(&w);
	buf_cleanup(&root);
	taxii_json(c, 200, &b);
}

static void h_root(struct call *c)
{
	const struct taxii_conf *t = &c->w->api->cfg.taxii;
	struct buf b = BUF_INIT;
	struct jw w;
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "title", t->title);
	jw_kstr(&w, "description", t->description);
	jw_key(&w, "versions");
	jw_arr(&w);
	jw_str(&w, TAXII_TYPE);
	jw_end(&w);
	jw_key(&w, "max_content_length");
	jw_int(&w, t->max_content_length);
	jw_end(&w);
	taxii_json(c, 200, &b);
}

static void h_collections(struct call *c)
{
	const struct taxii_conf *t = &c->w->api->cfg.taxii;
	struct buf b = BUF_INIT;
	struct jw w;
	jw_init(&w, &b);
	jw_obj(&w);
	bool any = false;
	for (int i = 0; i < t->ncoll; i++) {
		struct coll_access a = access_of(c, &t->coll[i]);
		if (!a.read && !a.write)
			continue;
		if (!any)
			jw_key(&w, "collections"), jw_arr(&w);
		any = true;
		write_collection(&w, &a);
	}
	if (any)
		jw_end(&w);
	jw_end(&w);
	taxii_json(c, 200, &b);
}

/* ---- filters and the next token ---- */

enum endpoint { EP_OBJECTS = 1, EP_MANIFEST, EP_OBJECT, EP_VERSIONS };

/* The filters of one request, with the storage their parsed values live in. */
struct filters {
	struct object_query q;
	const char *types[OBJQ_MAX_TYPES];
	const char *ids[OBJQ_MAX_IDS];
	int64_t versions[OBJQ_MAX_VERSIONS];
	char *mem;		/* the split lists */
	bool has_after;
	int64_t added_after;
	struct buf canon;	/* the match[] filters in a fixed order, URL-encoded */
};

static const char *const match_keys[] = { "match[id]", "match[type]", "match[version]", "match[spec_version]" };

static void bad_filter(struct call *c, const char *name, const char *why)
{
	char det[128];
	snprintf(det, sizeof(det), "{\"parameter\":\"%.64s\"}", name);
	api_error(c, 400, "invalid_parameter", det, "Invalid value for parameter '%s': %s", name, why);
}

/* Splits a comma list (in place) into out; false when over max. */
static bool split_list(char *s, const char **out, size_t max, size_t *n)
{
	*n = 0;
	for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
		while (*tok == ' ')
			tok++;
		size_t l = strlen(tok);
		while (l && tok[l - 1] == ' ')
			tok[--l] = '\0';
		if (l == 0)
			continue;
		if (*n == max)
			return false;
		out[(*n)++] = tok;
	}
	return true;
}

static void url_encode(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (isalnum(ch) || strchr("-._~,:", ch))
			buf_putc(b, (char)ch);
		else
			buf_printf(b, "%%%02X", ch);
	}
}

/*
 * Reads the match[] filters of query q into f (which endpoint decides which apply).
 * Answers 400 and returns false on a bad one.
 */
static bool parse_matches(struct call *c, const struct query *q, enum endpoint ep, struct filters *f)
{
	size_t total = 0;
	for (size_t i = 0; i < 4; i++) {
		const struct query_param *p = query_get(q, match_keys[i]);
		if (p)
			total += strlen(p->val) + 1;
	}
	f->mem = xmalloc(total + 1);
	char *m = f->mem;
	f->q.versions = OBJV_LAST;
	for (size_t k = 0; k < 4; k++) {
		const char *name = match_keys[k];
		if ((ep == EP_OBJECT || ep == EP_VERSIONS) && k < 2)
			continue;	/* the object endpoints name their object in the path */
		if (ep == EP_VERSIONS && k == 2)
			continue;
		const struct query_param *p = query_get(q, name);
		if (p == NULL)
			continue;
		if (query_count(q, name) > 1) {
			bad_filter(c, name, "given more than once (use a comma-separated list)");
			return false;
		}
		buf_printf(&f->canon, "%s%s=", f->canon.len ? "&" : "", name);
		url_encode(&f->canon, p->val);
		size_t l = strlen(p->val);
		memcpy(m, p->val, l + 1);
		char *s = m;
		m += l + 1;
		const char *items[OBJQ_MAX_VERSIONS + 4];
		size_t n;
		switch (k) {
		case 0:
			if (!split_list(s, f->ids, OBJQ_MAX_IDS, &f->q.nids)) {
				bad_filter(c, name, "more than 100 ids");
				return false;
			}
			f->q.ids = f->ids;
			if (f->q.nids == 0) {
				bad_filter(c, name, "empty");
				return false;
			}
			break;
		case 1:
			if (!split_list(s, f->types, OBJQ_MAX_TYPES, &f->q.ntypes)) {
				bad_filter(c, name, "more than 64 types");
				return false;
			}
			f->q.types = f->types;
			if (f->q.ntypes == 0) {
				bad_filter(c, name, "empty");
				return false;
			}
			break;
		case 2: {
			if (!split_list(s, items, OBJQ_MAX_VERSIONS, &n) || n == 0) {
				bad_filter(c, name, n ? "more than 100 versions" : "empty");
				return false;
			}
			unsigned v = 0;
			for (size_t i = 0; i < n; i++) {
				if (!strcmp(items[i], "last"))
					v |= OBJV_LAST;
				else if (!strcmp(items[i], "first"))
					v |= OBJV_FIRST;
				else if (!strcmp(items[i], "all"))
					v |= OBJV_ALL;
				else if (taxii_time_parse(items[i], &f->versions[f->q.nversions]))
					v |= OBJV_LIST, f->q.nversions++;
				else {
					bad_filter(c, name, "expected last, first, all or RFC 3339 timestamps");
					return false;
				}
			}
			if ((v & OBJV_ALL) && v != OBJV_ALL) {
				bad_filter(c, name, "'all' cannot be combined with other values");
				return false;
			}
			f->q.versions = v;
			f->q.version_list = f->versions;
			break;
		}
		default:
			if (!split_list(s, items, 8, &n) || n == 0) {
				bad_filter(c, name, "expected a comma-separated list of STIX versions (2.0, 2.1)");
				return false;
			}
			f->q.spec = OBJQ_SPEC_NONE;
			for (size_t i = 0; i < n; i++)
				f->q.spec |= !strcmp(items[i], "2.1") ? OBJQ_SPEC_21
					   : !strcmp(items[i], "2.0") ? OBJQ_SPEC_20 : 0;
			break;
		}
	}
	return true;
}

/* Token layout: version, position, issued, caller, flags, then the route and filters
 * (or their digest), then a 16-byte HMAC-SHA256 of all that. */
#define TOKEN_VERSION 1
#define TOKEN_MAC 16
#define TOKEN_PLAIN_MAX 512	/* longer route+filter texts travel deflated */
#define TOKEN_TEXT_MAX 4096	/* longer deflated ones travel as a digest */
#define TOKEN_DIGEST 1
#define TOKEN_ZLIB 2

static void caller_tag(struct call *c, uint8_t out[8])
{
	uint8_t h[32];
	crypto_sha256(c->who.key.id, strlen(c->who.key.id), h);
	memcpy(out, h, 8);
}

static bool token_secret(struct call *c, uint8_t secret[32])
{
	struct api_worker *w = c->w;
	if (!w->taxii_secret_ok) {
		struct err e = { 0 };
		if (store_secret(w->store, "taxii_next", w->taxii_secret, &e) != 0) {
			taxii_db_error(c, &e);
			return false;
		}
		w->taxii_secret_ok = true;
	}
	memcpy(secret, w->taxii_secret, 32);
	return true;
}

static void put64(uint8_t *p, int64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
}

static int64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (int64_t)v;
}

static bool token_make(struct call *c, const char *route, const struct buf *canon, int64_t pos,
		       struct buf *out)
{
	uint8_t secret[32];
	if (!token_secret(c, secret))
		return false;
	struct buf text = BUF_INIT;
	buf_puts(&text, route);
	buf_putc(&text, '\n');
	if (canon->len)
		buf_append(&text, canon->data, canon->len);
	uint8_t flags = 0;
	if (text.len > TOKEN_PLAIN_MAX) {
		/* Long filters (a hundred match[id]s) still travel whole, deflated. */
		uLongf zl = compressBound((uLong)text.len);
		uint8_t *z = xmalloc(zl);
		if (compress2(z, &zl, (const Bytef *)text.data, (uLong)text.len, 9) == Z_OK && zl <= TOKEN_TEXT_MAX) {
			buf_reset(&text);
			buf_append(&text, z, zl);
			flags = TOKEN_ZLIB;
		}
		free(z);
	}
	if (flags == 0 && text.len > TOKEN_TEXT_MAX) {
		uint8_t d[32];
		crypto_sha256(text.data, text.len, d);
		buf_reset(&text);
		buf_append(&text, d, 32);
		flags = TOKEN_DIGEST;
	}
	size_t n = 1 + 8 + 8 + 8 + 1 + text.len;
	uint8_t *p = xmalloc(n + TOKEN_MAC);
	p[0] = TOKEN_VERSION;
	put64(p + 1, pos);
	put64(p + 9, c->now);
	caller_tag(c, p + 17);
	p[25] = flags;
	memcpy(p + 26, text.data, text.len);
	uint8_t mac[32];
	crypto_hmac_sha256(secret, 32, p, n, mac);
	memcpy(p + n, mac, TOKEN_MAC);
	taxii_b64url(out, p, n + TOKEN_MAC);
	free(p);
	buf_cleanup(&text);
	return true;
}

/*
 * Checks a `next` token against the caller and route; *pos gets its position, and
 * *canon the filters it carries (empty when it carries only their digest: then
 * *digest is set and the request must repeat them).
 */
static bool token_read(struct call *c, const char *tok, const char *route, int64_t *pos, struct buf *canon,
		       uint8_t digest[32], bool *is_digest)
{
	uint8_t secret[32];
	if (!token_secret(c, secret))
		return false;
	size_t tl = strlen(tok);
	uint8_t *p = xmalloc(tl + 1);
	long n = taxii_b64url_decode(tok, tl, p, tl + 1);
	bool ok = n >= 26 + TOKEN_MAC && p[0] == TOKEN_VERSION;
	if (ok) {
		uint8_t mac[32];
		crypto_hmac_sha256(secret, 32, p, (size_t)n - TOKEN_MAC, mac);
		ok = crypto_equal(mac, p + n - TOKEN_MAC, TOKEN_MAC);
	}
	if (!ok) {
		free(p);
		bad_filter(c, "next", "not a token this server issued");
		return false;
	}
	uint8_t who[8];
	caller_tag(c, who);
	int64_t issued = get64(p + 9);
	if (!crypto_equal(who, p + 17, 8)) {
		free(p);
		bad_filter(c, "next", "issued to another API key");
		return false;
	}
	if (c->now - issued > c->w->api->cfg.taxii.next_ttl_s * USEC_PER_SEC) {
		free(p);
		bad_filter(c, "next", "expired; start again from added_after");
		return false;
	}
	*pos = get64(p + 1);
	const char *text = (const char *)p + 26;
	size_t len = (size_t)n - TOKEN_MAC - 26;
	*is_digest = p[25] & TOKEN_DIGEST;
	uint8_t *inflated = NULL;
	if (p[25] & TOKEN_ZLIB) {
		/* Signed, so ours: still, inflate into a bounded buffer. */
		uLongf il = 64 * 1024;
		inflated = xmalloc(il);
		if (uncompress(inflated, &il, (const Bytef *)text, (uLong)len) != Z_OK) {
			free(inflated);
			free(p);
			bad_filter(c, "next", "not a token this server issued");
			return false;
		}
		text = (const char *)inflated;
		len = il;
	}
	bool route_ok;
	if (*is_digest) {
		route_ok = len == 32;
		if (route_ok)
			memcpy(digest, text, 32);
	} else {
		size_t rl = strlen(route);
		route_ok = len > rl && !memcmp(text, route, rl) && text[rl] == '\n';
		if (route_ok)
			buf_append(canon, text + rl + 1, len - rl - 1);
	}
	free(inflated);
	free(p);
	if (!route_ok) {
		bad_filter(c, "next", "issued for another collection or resource");
		return false;
	}
	return true;
}

/*
 * Everything a page request selects: the added_after, limit and next parameters and the
 * match[] filters, reconciled with a next token. Answers the error and returns false on
 * a bad request.
 */
static bool page_filters(struct call *c, enum endpoint ep, const char *route, struct filters *f)
{
	const struct taxii_conf *t = &c->w->api->cfg.taxii;
	memset(f, 0, sizeof(*f));
	buf_init(&f->canon);
	const struct query_param *p = query_get(&c->q, "added_after");
	if (p) {
		if (query_count(&c->q, "added_after") > 1) {
			bad_filter(c, "added_after", "given more than once");
			return false;
		}
		if (!taxii_time_parse(p->val, &f->added_after)) {
			bad_filter(c, "added_after", "expected an RFC 3339 timestamp such as 2026-01-31T00:00:00Z");
			return false;
		}
		f->has_after = true;
	}
	int64_t limit = t->default_page;
	p = query_get(&c->q, "limit");
	if (p) {
		char *end;
		long long v = strtoll(p->val, &end, 10);
		if (query_count(&c->q, "limit") > 1 || !isdigit((unsigned char)p->val[0]) || *end || v <= 0) {
			bad_filter(c, "limit", "expected a positive integer");
			return false;
		}
		limit = v;
	}
	int64_t cap = t->max_page < c->who.tier->max_results ? t->max_page : c->who.tier->max_results;
	f->q.limit = limit < cap ? limit : cap;
	if (!parse_matches(c, &c->q, ep, f))
		return false;
	f->q.after = f->has_after ? f->added_after : 0;

	p = query_get(&c->q, "next");
	if (p == NULL)
		return true;
	if (query_count(&c->q, "next") > 1) {
		bad_filter(c, "next", "given more than once");
		return false;
	}
	int64_t pos;
	uint8_t digest[32];
	bool is_digest;
	struct buf canon = BUF_INIT;
	if (!token_read(c, p->val, route, &pos, &canon, digest, &is_digest)) {
		buf_cleanup(&canon);
		return false;
	}
	bool ok = true;
	if (is_digest) {
		/* Only the filters' digest travelled: the request must repeat them. */
		struct buf text = BUF_INIT;
		uint8_t d[32];
		buf_printf(&text, "%s\n", route);
		buf_append(&text, f->canon.data, f->canon.len);
		crypto_sha256(text.data, text.len, d);
		buf_cleanup(&text);
		ok = crypto_equal(d, digest, 32);
	} else if (f->canon.len) {
		ok = canon.len == f->canon.len && !memcmp(canon.data, f->canon.data, canon.len);
	} else if (canon.len) {
		/* The filters come from the token. */
		struct query tq;
		struct err e = { 0 };
		memset(&tq, 0, sizeof(tq));
		buf_putc(&canon, '\0');
		if (query_parse(&tq, canon.data, canon.len - 1, &e) != 0) {
			ok = false;
		} else {
			free(f->mem);
			f->mem = NULL;
			int64_t keep_limit = f->q.limit;
			memset(&f->q, 0, sizeof(f->q));
			buf_reset(&f->canon);
			ok = parse_matches(c, &tq, ep, f);
			f->q.limit = keep_limit;
			query_cleanup(&tq);
			if (!ok) {
				buf_cleanup(&canon);
				return false;
			}
		}
	}
	buf_cleanup(&canon);
	if (!ok) {
		bad_filter(c, "next", "the filters differ from those of the request that issued it");
		return false;
	}
	f->q.after = pos > f->q.after ? pos : f->q.after;
	return true;
}

static void filters_cleanup(struct filters *f)
{
	free(f->mem);
	buf_cleanup(&f->canon);
}

static void collection_scope(struct call *c, const struct collection_conf *cc, struct object_query *q)
{
	q->foreign = cc->everything;
	q->ioc_types = cc->everything ? ~0u : cc->types;
	q->tactics = c->w->api->cfg.taxii.include_custom;
}

/* ---- pages ---- */

struct page {
	struct buf items;	/* the entries, comma-separated */
	int64_t n, first, last;
	enum endpoint ep;
};

static int page_row(void *ctx, const struct object_row *r)
{
	struct page *pg = ctx;
	if (pg->n++)
		buf_putc(&pg->items, ',');
	else
		pg->first = r->date_added;
	pg->last = r->date_added;
	if (pg->ep == EP_OBJECTS || pg->ep == EP_OBJECT) {
		buf_append(&pg->items, r->json, r->len);
	} else if (pg->ep == EP_MANIFEST) {
		buf_puts(&pg->items, "{\"id\":");
		struct jw w;
		jw_init(&w, &pg->items);
		jw_str(&w, r->stix_id);
		buf_puts(&pg->items, ",\"date_added\":\"");
		put_time(&pg->items, r->date_added);
		buf_puts(&pg->items, "\",\"version\":\"");
		put_time(&pg->items, r->version);
		buf_printf(&pg->items, "\",\"media_type\":\"application/stix+json;version=%s\"}",
			   !strcmp(r->spec_version, "2.0") ? "2.0" : "2.1");
	} else {
		buf_putc(&pg->items, '"');
		put_time(&pg->items, r->version);
		buf_putc(&pg->items, '"');
	}
	return 0;
}

static void date_headers(struct cache_entry *ce, const struct page *pg, const struct filters *f)
{
	int64_t first = pg->first, last = pg->last;
	if (pg->n == 0) {
		if (!f->has_after)
			return;
		/* An empty page echoes the cursor it was asked from (Elastic keeps it). */
		first = last = f->added_after;
	}
	ce->extra_name[ce->nextra] = "x-taxii-date-added-first";
	time_format_to(ce->extra[ce->nextra++], first, TIME_USEC);
	ce->extra_name[ce->nextra] = "x-taxii-date-added-last";
	time_format_to(ce->extra[ce->nextra++], last, TIME_USEC);
}

/*
 * Reads and answers one page of ep. The answer is kept in the worker's cache: the same
 * request by the same key (the next token is the key's) while nothing was written is
 * answered from it, as pollers asking the same page at once would be.
 */
static void serve_page(struct call *c, enum endpoint ep, const char *route, struct filters *f)
{
	struct api_worker *w = c->w;
	struct buf ckey = BUF_INIT;
	buf_printf(&ckey, "taxii|%s|%s?", c->who.key.id, c->path);
	buf_append(&ckey, c->req->query, c->req->query_len);
	int64_t version = cache_version(w), mono = time_mono_us();
	struct cache_entry *hit = cache_find(w, buf_cstr(&ckey), version, mono);
	if (hit) {
		serve_cached(c, hit);
		buf_cleanup(&ckey);
		return;
	}
	struct page pg = { BUF_INIT, 0, 0, 0, ep };
	bool more = false;
	int64_t reached = 0;
	struct err e = { 0 };
	if (store_objects_query(w->store, &f->q, page_row, &pg, &more, &reached, &e) != 0) {
		buf_cleanup(&pg.items);
		buf_cleanup(&ckey);
		taxii_db_error(c, &e);
		return;
	}
	struct buf b = BUF_INIT;
	buf_printf(&b, "{\"more\":%s", more ? "true" : "false");
	if (more) {
		buf_puts(&b, ",\"next\":\"");
		if (!token_make(c, route, &f->canon, reached, &b)) {
			buf_cleanup(&b);
			buf_cleanup(&pg.items);
			buf_cleanup(&ckey);
			return;
		}
		buf_putc(&b, '"');
	}
	const char *key = ep == EP_VERSIONS ? "versions" : "objects";
	if (pg.n || w->api->cfg.taxii.empty_objects) {
		buf_printf(&b, ",\"%s\":[", key);
		buf_append(&b, pg.items.data, pg.items.len);
		buf_putc(&b, ']');
	}
	buf_puts(&b, "}\n");
	buf_cleanup(&pg.items);
	struct cache_entry *ce = cache_slot(w);
	ce->key = buf_take(&ckey);
	ce->version = version;
	ce->created_us = mono;
	ce->status = 200;
	ce->content_type = TAXII_TYPE;
	ce->body = http_shared_new(b.data, b.len);
	date_headers(ce, &pg, f);
	buf_cleanup(&b);
	serve_cached(c, ce);
}

/* Whether object id is in collection cc at all (any version, any spec_version). */
static int object_exists(struct call *c, const struct collection_conf *cc, const char *id, bool *yes)
{
	struct object_query q = { 0 };
	const char *ids[1] = { id };
	collection_scope(c, cc, &q);
	q.ids = ids;
	q.nids = 1;
	q.versions = OBJV_ALL;
	q.spec = OBJQ_SPEC_20 | OBJQ_SPEC_21;
	q.limit = 1;
	struct page pg = { BUF_INIT, 0, 0, 0, EP_VERSIONS };
	bool more;
	int64_t reached;
	struct err e = { 0 };
	int rc = store_objects_query(c->w->store, &q, page_row, &pg, &more, &reached, &e);
	buf_cleanup(&pg.items);
	if (rc) {
		taxii_db_error(c, &e);
		return rc;
	}
	*yes = pg.n > 0;
	if (!*yes)
		api_error(c, 404, "not_found", NULL, "No object '%.120s' in collection '%s'.", id, cc->alias);
	return 0;
}

static bool valid_stix_id(const char *id)
{
	const char *dash = strstr(id, "--");
	return dash && dash > id && uuid_valid(dash + 2, strlen(dash + 2));
}

static void h_get_page(struct call *c, const struct coll_access *a, enum endpoint ep, const char *oid)
{
	char route[200];
	snprintf(route, sizeof(route), "%d/%s/%s", (int)ep, a->cc->id, oid ? oid : "");
	if (oid) {
		if (!valid_stix_id(oid)) {
			api_error(c, 404, "not_found", NULL, "No object '%.120s' in collection '%s'.", oid,
				  a->cc->alias);
			return;
		}
		bool yes;
		if (object_exists(c, a->cc, oid, &yes) || !yes)
			return;
	}
	struct filters f;
	if (!page_filters(c, ep, route, &f)) {
		filters_cleanup(&f);
		return;
	}
	collection_scope(c, a->cc, &f.q);
	const char *ids[1] = { oid };
	if (oid) {
		f.q.ids = ids;
		f.q.nids = 1;
	}
	if (ep == EP_VERSIONS)
		f.q.versions = OBJV_ALL;
	serve_page(c, ep, route, &f);
	filters_cleanup(&f);
}

/* ---- add objects, status ---- */

struct add_status {
	struct buf ok, bad;
	int64_t nok, nbad;
};

static void status_entry(struct buf *b, int64_t n, const char *id, const char *version, const char *msg)
{
	struct jw w;
	if (n)
		buf_putc(b, ',');
	jw_init(&w, b);
	jw_obj(&w);
	jw_kstr(&w, "id", id ? id : "");
	if (version) {
		int64_t us;
		jw_key(&w, "version");
		if (time_parse_rfc3339_any(version, strlen(version), &us, NULL) == 0) {
			char t[40];
			time_format_to(t, us, TIME_USEC);
			jw_str(&w, t);
		} else {
			jw_str(&w, version);
		}
	}
	if (msg)
		jw_kstr(&w, "message", msg);
	jw_end(&w);
}

static void on_object(void *ctx, const char *id, const char *version, const char *why)
{
	struct add_status *st = ctx;
	if (why == NULL)
		status_entry(&st->ok, st->nok++, id, version, NULL);
	else
		status_entry(&st->bad, st->nbad++, id, version, why);
}

static void status_key(struct call *c, const char *id, char *out, size_t cap)
{
	/* A status belongs to the key that made it: others get 404. */
	snprintf(out, cap, "%s:%s", id, c->who.key.id);
}

static void h_add(struct call *c, const struct coll_access *a)
{
	const struct taxii_conf *t = &c->w->api->cfg.taxii;
	size_t clen = 0;
	const char *ctype = http_req_header(c->req, "content-type", &clen);
	if (!taxii_content_type_ok(ctype, clen)) {
		api_error(c, 415, "unsupported_media_type", NULL,
			  "Objects are added as %s.", TAXII_TYPE);
		return;
	}
	if ((int64_t)c->req->body_len > t->max_content_length) {
		api_error(c, 413, "payload_too_large", NULL,
			  "The body has %zu bytes; this API root takes at most %lld (max_content_length).",
			  c->req->body_len, (long long)t->max_content_length);
		return;
	}
	json_error_t je;
	json_t *env = json_loadb(c->req->body ? c->req->body : "", c->req->body_len, JSON_DECODE_ANY, &je);
	if (env == NULL) {
		api_error(c, 400, "invalid_json", NULL, "The body is not valid JSON: %s (offset %d).", je.text,
			  je.position);
		return;
	}
	bool envelope = json_is_object(env) && json_is_array(json_object_get(env, "objects"));
	json_decref(env);
	if (!envelope) {
		api_error(c, 422, "unprocessable_entity", NULL,
			  "The body is not a TAXII envelope: expected {\"objects\": [ … ]}.");
		return;
	}
	struct add_status st = { BUF_INIT, BUF_INIT, 0, 0 };
	struct import_opts o;
	memset(&o, 0, sizeof(o));
	o.format = IMPORT_STIX;
	o.defaults.score = -1;
	o.defaults.feed = "taxii";
	o.keep_spec_version = true;
	o.on_object = on_object;
	o.object_ctx = &st;
	o.allow = api_allow(c->w->api);	/* the server's allow-lists, not a rebuild per request */
	struct import_result *r = xcalloc(1, sizeof(*r));
	struct err e = { 0 };
	struct input *in = input_from_memory(c->req->body, c->req->body_len);
	int rc = import_input(c->w->store, in, IMPORT_STIX, false, &o, r, &e);
	allow_set_unref(o.allow);
	free(r);
	if (rc != 0) {
		buf_cleanup(&st.ok);
		buf_cleanup(&st.bad);
		if (e.code == ERR_DB || e.code == ERR_IO || e.code == 0)
			taxii_db_error(c, &e);
		else
			api_error(c, 422, "unprocessable_entity", NULL, "%s", e.msg);
		return;
	}
	__atomic_add_fetch(&c->w->api->write_generation, 1, __ATOMIC_RELEASE);

	char sid[UUID_STR_LEN + 1], stamp[40];
	uuid_v4(sid);
	time_format_to(stamp, c->now, TIME_USEC);
	struct buf b = BUF_INIT;
	buf_printf(&b, "{\"id\":\"%s\",\"status\":\"complete\",\"request_timestamp\":\"%s\","
		       "\"total_count\":%lld,\"success_count\":%lld,\"successes\":[",
		   sid, stamp, (long long)(st.nok + st.nbad), (long long)st.nok);
	buf_append(&b, st.ok.data, st.ok.len);
	buf_printf(&b, "],\"failure_count\":%lld,\"failures\":[", (long long)st.nbad);
	buf_append(&b, st.bad.data, st.bad.len);
	buf_puts(&b, "],\"pending_count\":0,\"pendings\":[]}");
	buf_cleanup(&st.ok);
	buf_cleanup(&st.bad);
	char key[UUID_STR_LEN * 2 + 2];
	status_key(c, sid, key, sizeof(key));
	if (store_status_put(c->w->store, key, b.data, b.len, c->now, t->status_ttl_s * USEC_PER_SEC, &e) != 0) {
		buf_cleanup(&b);
		taxii_db_error(c, &e);
		return;
	}
	(void)a;
	taxii_json(c, 202, &b);
}

static void h_status(struct call *c, const char *id)
{
	char key[160];
	struct buf b = BUF_INIT;
	struct err e = { 0 };
	if (strlen(id) != UUID_STR_LEN || !uuid_valid(id, UUID_STR_LEN)) {
		api_error(c, 404, "not_found", NULL, "No status '%.80s'.", id);
		return;
	}
	status_key(c, id, key, sizeof(key));
	int rc = store_status_get(c->w->store, key, c->now, c->w->api->cfg.taxii.status_ttl_s * USEC_PER_SEC,
				  &b, &e);
	if (rc == ERR_NOT_FOUND) {
		buf_cleanup(&b);
		api_error(c, 404, "not_found", NULL, "No status '%s' (status resources are kept %lld hours).", id,
			  (long long)c->w->api->cfg.taxii.status_ttl_s / 3600);
		return;
	}
	if (rc) {
		buf_cleanup(&b);
		taxii_db_error(c, &e);
		return;
	}
	taxii_json(c, 200, &b);
}

static void h_delete(struct call *c, const struct coll_access *a, const char *oid)
{
	if (!valid_stix_id(oid)) {
		api_error(c, 404, "not_found", NULL, "No object '%.120s' in collection '%s'.", oid, a->cc->alias);
		return;
	}
	bool yes;
	if (object_exists(c, a->cc, oid, &yes) || !yes)
		return;
	char route[200];
	snprintf(route, sizeof(route), "%d/%s/%s", (int)EP_OBJECT, a->cc->id, oid);
	struct filters f;
	memset(&f, 0, sizeof(f));
	if (!parse_matches(c, &c->q, EP_OBJECT, &f)) {
		filters_cleanup(&f);
		return;
	}
	/* Without match[version], DELETE removes every version (of every spec_version). */
	if (query_get(&c->q, "match[version]") == NULL)
		f.q.versions = OBJV_ALL;
	if (query_get(&c->q, "match[spec_version]") == NULL)
		f.q.spec = OBJQ_SPEC_20 | OBJQ_SPEC_21;
	collection_scope(c, a->cc, &f.q);
	const char *ids[1] = { oid };
	f.q.ids = ids;
	f.q.nids = 1;
	int64_t n = 0;
	struct err e = { 0 };
	if (store_objects_delete(c->w->store, &f.q, &n, &e) != 0) {
		filters_cleanup(&f);
		taxii_db_error(c, &e);
		return;
	}
	filters_cleanup(&f);
	__atomic_add_fetch(&c->w->api->write_generation, 1, __ATOMIC_RELEASE);
	c->resp->status = 200;
	c->resp->content_type = TAXII_TYPE;
	buf_reset(&c->resp->body);
}

/* ---- routing ---- */

static void not_allowed(struct call *c, const char *allow)
{
	http_resp_header(c->resp, "allow", "%s", allow);
	api_error(c, 405, "method_not_allowed", NULL, "%.*s is not allowed here; use %s",
		  (int)c->req->method_len, c->req->method, allow);
}

static bool method(struct call *c, const char *m)
{
	return c->req->method_len == strlen(m) && !memcmp(c->req->method, m, c->req->method_len);
}

#define MAX_SEGS 8

void h_taxii(struct call *c)
{
	if (!c->who.tier->pro_endpoints) {
		api_error(c, 403, "tier_required", "{\"required_tier\":\"pro\"}",
			  "TAXII requires the pro tier; this key is on the %s tier.", tier_name(c->who.key.tier));
		return;
	}
	if (!api_require_scope(c, SCOPE_READ_TAXII))
		return;
	size_t alen = 0;
	const char *accept = http_req_header(c->req, "accept", &alen);
	if (!taxii_accept_ok(accept, alen)) {
		api_error(c, 406, "not_acceptable", NULL, "This server answers %s only.", TAXII_TYPE);
		return;
	}
	/* The segments after /api/taxii2; one trailing slash is optional. */
	char path[1024];
	snprintf(path, sizeof(path), "%s", c->path + strlen("/api/taxii2"));
	size_t pl = strlen(path);
	if (pl && path[pl - 1] == '/')
		path[--pl] = '\0';
	char *seg[MAX_SEGS];
	size_t n;
	bool get = method(c, "GET") || method(c, "HEAD");
	if (!taxii_split_path(path, seg, MAX_SEGS, &n) || (n >= 1 && strcmp(seg[0], "api"))) {
		api_error(c, 404, "not_found", NULL, "No such TAXII resource: %.200s", c->path);
		return;
	}
	if (n <= 1 || (n == 2 && !strcmp(seg[1], "collections"))) {
		if (!get)
			{ not_allowed(c, "GET"); return; }
		{
			if (n == 0)
				h_discovery(c);
			else if (n == 1)
				h_root(c);
			else
				h_collections(c);
			return;
		}
	}
	if (n == 3 && !strcmp(seg[1], "status")) {
		if (!get)
			{ not_allowed(c, "GET"); return; }
		{ h_status(c, seg[2]); return; }
	}
	if (strcmp(seg[1], "collections") || n > 6 || (n >= 4 && strcmp(seg[3], "objects") && strcmp(seg[3], "manifest")) ||
	    (n >= 5 && strcmp(seg[3], "objects")) || (n == 6 && strcmp(seg[5], "versions"))) {
		api_error(c, 404, "not_found", NULL, "No such TAXII resource: %.200s", c->path);
		return;
	}
	const struct collection_conf *cc = find_collection(c, seg[2]);
	struct coll_access a = cc ? access_of(c, cc) : (struct coll_access){ NULL, false, false };
	if (cc == NULL || (!a.read && !a.write))
		{ no_collection(c, seg[2]); return; }
	if (n == 3) {
		if (!get)
			{ not_allowed(c, "GET"); return; }
		struct buf b = BUF_INIT;
		struct jw w;
		jw_init(&w, &b);
		write_collection(&w, &a);
		{ taxii_json(c, 200, &b); return; }
	}
	bool post = method(c, "POST"), del = method(c, "DELETE");
	if (n == 4 && !strcmp(seg[3], "manifest")) {
		if (!get)
			{ not_allowed(c, "GET"); return; }
	} else if (n == 4) {
		if (!get && !post)
			{ not_allowed(c, "GET, POST"); return; }
	} else if (n == 5) {
		if (!get && !del)
			{ not_allowed(c, "GET, DELETE"); return; }
	} else if (!get) {
		{ not_allowed(c, "GET"); return; }
	}
	if (post || del) {
		if (!a.write) {
			api_error(c, 403, "forbidden", NULL, "This key cannot write to collection '%s'.", cc->alias);
			return;
		}
		if (post)
			h_add(c, &a);
		else
			h_delete(c, &a, seg[4]);
		return;
	}
	if (!a.read) {
		api_error(c, 403, "forbidden", NULL, "This key cannot read collection '%s'.", cc->alias);
		return;
	}
	if (n == 4) {
		h_get_page(c, &a, !strcmp(seg[3], "manifest") ? EP_MANIFEST : EP_OBJECTS, NULL);
		return;
	}
	h_get_page(c, &a, n == 5 ? EP_OBJECT : EP_VERSIONS, seg[4]);
}
