/*
 * The TAXII 2.1 client (see taxii_client.h).
 */
#include "net/taxii_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/crypto.h"
#include "base/xmalloc.h"

bool taxii_media_ok(const char *ct)
{
	if (ct == NULL)
		return false;
	while (*ct == ' ')
		ct++;
	size_t tl = strcspn(ct, ";");
	while (tl && ct[tl - 1] == ' ')
		tl--;
	if (tl != strlen("application/taxii+json") || strncasecmp(ct, "application/taxii+json", tl))
		return false;
	/* A version parameter, if any, must be 2.1; others (charset) do not matter. */
	for (const char *p = strchr(ct, ';'); p; p = strchr(p + 1, ';')) {
		const char *k = p + 1;
		while (*k == ' ')
			k++;
		if (strncasecmp(k, "version", 7))
			continue;
		const char *v = k + 7;
		while (*v == ' ')
			v++;
		if (*v != '=')
			continue;
		v++;
		while (*v == ' ' || *v == '"')
			v++;
		if (strncmp(v, "2.1", 3) || (v[3] && v[3] != ';' && v[3] != ' ' && v[3] != '"'))
			return false;
	}
	return true;
}

/* GETs url as TAXII; a non-2xx answer or a foreign media type is an error showing the body. */
static int taxii_get(struct http_client *hc, const char *url, struct hc_response *rs, json_t **out,
		     struct err *e)
{
	struct hc_request rq = { .url = url };
	rq.headers[rq.nheaders++] = "Accept: " TAXII_MEDIA;
	*out = NULL;
	int rc = http_client_do(hc, &rq, rs, e);
	if (rc)
		return rc;
	if (rs->status < 200 || rs->status > 299) {
		/* The server's TAXII error, if it sent one: its title and description. */
		json_t *err = json_loadb(rs->body.data ? rs->body.data : "", rs->body.len, 0, NULL);
		const char *title = json_string_value(json_object_get(err, "title"));
		const char *desc = json_string_value(json_object_get(err, "description"));
		if (title || desc)
			err_set(e, ERR_IO, "TAXII server answered %ld: %.120s%s%.240s", rs->status,
				title ? title : "", title && desc ? ": " : "", desc ? desc : "");
		else {
			/* Whatever else came: its first line, printable characters only. */
			char shown[241];
			size_t n = 0;
			for (size_t i = 0; i < rs->body.len && n < sizeof(shown) - 1; i++) {
				unsigned char ch = (unsigned char)rs->body.data[i];
				if (ch == '\n' || ch == '\r')
					break;
				if (ch >= 0x20 && ch != 0x7f)
					shown[n++] = (char)ch;
			}
			shown[n] = '\0';
			err_set(e, ERR_IO, "TAXII server answered %ld%s%s", rs->status, n ? ": " : "", shown);
		}
		json_decref(err);
		return ERR_IO;
	}
	const char *ct = hc_header(rs, "content-type");
	if (!taxii_media_ok(ct))
		return err_set(e, ERR_IO, "not a TAXII 2.1 answer (Content-Type: %.80s)", ct ? ct : "none");
	json_error_t je;
	*out = json_loadb(rs->body.data ? rs->body.data : "", rs->body.len, 0, &je);
	if (*out == NULL || !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return err_set(e, ERR_IO, "the TAXII answer is not a JSON object: %s", je.text);
	}
	return 0;
}

/* ---- the (id, version) set of a run ---- */

struct seen {
	uint64_t *slot;
	size_t cap, n;
};

static uint64_t version_hash(json_t *o)
{
	const char *id = json_string_value(json_object_get(o, "id"));
	const char *v = json_string_value(json_object_get(o, "modified"));
	if (v == NULL)
		v = json_string_value(json_object_get(o, "created"));
	char tmp[512];
	snprintf(tmp, sizeof(tmp), "%s|%s", id ? id : "", v ? v : "");
	uint8_t h[32];
	crypto_sha256(tmp, strlen(tmp), h);
	uint64_t x;
	memcpy(&x, h, 8);
	return x ? x : 1;
}

/* Adds x; false when it was there. */
static bool seen_add(struct seen *s, uint64_t x)
{
	if ((s->n + 1) * 2 > s->cap) {
		struct seen g = { xcalloc(s->cap ? s->cap * 2 : 4096, 8), s->cap ? s->cap * 2 : 4096, 0 };
		for (size_t i = 0; i < s->cap; i++)
			if (s->slot[i])
				seen_add(&g, s->slot[i]);
		free(s->slot);
		*s = g;
	}
	size_t i = (size_t)(x % s->cap);
	while (s->slot[i]) {
		if (s->slot[i] == x)
			return false;
		i = (i + 1) % s->cap;
	}
	s->slot[i] = x;
	s->n++;
	return true;
}

static void page_url(struct buf *u, const struct taxii_poll *p, const char *added_after, const char *next)
{
	buf_reset(u);
	buf_puts(u, p->collection_url);
	if (u->len && u->data[u->len - 1] != '/')
		buf_putc(u, '/');
	buf_puts(u, "objects/");
	char sep = '?';
	if (p->limit > 0) {
		buf_printf(u, "%climit=%lld", sep, (long long)p->limit);
		sep = '&';
	}
	if (added_after && *added_after) {
		buf_printf(u, "%cadded_after=", sep);
		for (const char *c = added_after; *c; c++)
			buf_puts(u, *c == '+' ? "%2B" : *c == ':' ? "%3A" : (char[2]){ *c, 0 });
		sep = '&';
	}
	if (p->match_type) {
		buf_printf(u, "%cmatch%%5Btype%%5D=%s", sep, p->match_type);
		sep = '&';
	}
	if (next && *next) {
		buf_printf(u, "%cnext=", sep);
		for (const char *c = next; *c; c++) {
			unsigned char ch = (unsigned char)*c;
			if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
			    strchr("-._~", ch))
				buf_putc(u, (char)ch);
			else
				buf_printf(u, "%%%02X", ch);
		}
	}
}

int taxii_poll(struct http_client *hc, const struct taxii_poll *p, taxii_page_cb cb, void *ctx,
	       struct taxii_poll_result *res, struct err *e)
{
	memset(res, 0, sizeof(*res));
	int max_pages = p->max_pages > 0 ? p->max_pages : 10000;
	char after[64] = "", next[4096] = "", prev_next[4096] = "";
	if (p->added_after)
		snprintf(after, sizeof(after), "%s", p->added_after);
	struct seen seen = { 0 };
	struct buf url = BUF_INIT;
	struct hc_response rs = { 0 };
	int rc = 0;
	for (;;) {
		if (res->pages == max_pages) {
			res->capped = true;
			break;
		}
		page_url(&url, p, after, next);
		json_t *page;
		rc = taxii_get(hc, url.data, &rs, &page, e);
		if (rc)
			break;
		res->pages++;
		json_t *objs = json_object_get(page, "objects");
		json_t *keep = json_array();
		size_t i;
		json_t *o;
		json_array_foreach(objs, i, o) {
			if (!json_is_object(o))
				continue;
			if (seen_add(&seen, version_hash(o)))
				json_array_append(keep, o);
			else
				res->duplicates++;
		}
		const char *last = hc_header(&rs, "x-taxii-date-added-last");
		char page_last[64] = "";
		if (last)
			snprintf(page_last, sizeof(page_last), "%s", last);
		struct taxii_page tp = { keep, page_last, rs.body.data ? rs.body.data : "", rs.body.len };
		rc = cb(ctx, &tp);
		size_t n = json_array_size(keep);
		json_decref(keep);
		if (rc) {
			json_decref(page);
			break;
		}
		res->objects += (int64_t)n;
		/* The cursor moves only with a delivered page that held objects. */
		if (n && page_last[0])
			snprintf(res->cursor, sizeof(res->cursor), "%s", page_last);
		bool more = json_is_true(json_object_get(page, "more"));
		const char *nx = json_string_value(json_object_get(page, "next"));
		if (!more) {
			json_decref(page);
			break;
		}
		if (nx && *nx) {
			if (!strcmp(nx, prev_next) || strlen(nx) >= sizeof(next)) {
				json_decref(page);
				break;	/* a repeated next would loop forever */
			}
			snprintf(next, sizeof(next), "%s", nx);
			snprintf(prev_next, sizeof(prev_next), "%s", nx);
		} else {
			/* No next: page on by added_after, if the server's cursor advanced. */
			next[0] = '\0';
			if (page_last[0] == '\0' || strcmp(page_last, after) <= 0) {
				json_decref(page);
				break;
			}
			snprintf(after, sizeof(after), "%s", page_last);
		}
		json_decref(page);
	}
	free(seen.slot);
	buf_cleanup(&url);
	hc_response_cleanup(&rs);
	return rc;
}

int taxii_collection_url(struct http_client *hc, const char *url, const char *collection, struct buf *out,
			 struct err *e)
{
	buf_reset(out);
	if (strstr(url, "/collections/") && (collection == NULL || *collection == '\0')) {
		buf_puts(out, url);
		return 0;
	}
	if (collection == NULL || *collection == '\0')
		return err_set(e, ERR_INVALID, "%s does not name a collection: give its id or alias", url);
	struct hc_response rs = { 0 };
	struct buf root = BUF_INIT, u = BUF_INIT;
	json_t *doc = NULL;
	int rc = taxii_get(hc, url, &rs, &doc, e);
	if (rc == 0 && json_object_get(doc, "api_roots")) {
		/* A discovery document: its default API root (relative URLs resolved). */
		const char *def = json_string_value(json_object_get(doc, "default"));
		if (def == NULL)
			def = json_string_value(json_array_get(json_object_get(doc, "api_roots"), 0));
		if (def == NULL)
			rc = err_set(e, ERR_IO, "the discovery document at %s names no API root", url);
		else
			hc_resolve(url, def, &root);
	} else if (rc == 0) {
		buf_puts(&root, url);
	}
	if (rc == 0) {
		buf_puts(&u, root.data);
		if (u.data[u.len - 1] != '/')
			buf_putc(&u, '/');
		buf_puts(&u, "collections/");
		json_decref(doc);
		rc = taxii_get(hc, u.data, &rs, &doc, e);
	}
	if (rc == 0) {
		size_t i;
		json_t *c;
		bool found = false;
		json_array_foreach(json_object_get(doc, "collections"), i, c) {
			const char *id = json_string_value(json_object_get(c, "id"));
			const char *alias = json_string_value(json_object_get(c, "alias"));
			const char *title = json_string_value(json_object_get(c, "title"));
			if (id && ((!strcmp(id, collection)) || (alias && !strcmp(alias, collection)) ||
				   (title && !strcmp(title, collection)))) {
				buf_puts(out, u.data);
				/* Ids need not be UUIDs: encode what a path segment cannot hold. */
				for (const char *p = id; *p; p++) {
					unsigned char ch = (unsigned char)*p;
					if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
					    (ch >= '0' && ch <= '9') || strchr("-._~", ch))
						buf_putc(out, (char)ch);
					else
						buf_printf(out, "%%%02X", ch);
				}
				buf_putc(out, '/');
				found = true;
				break;
			}
		}
		if (!found)
			rc = err_set(e, ERR_NOT_FOUND, "no collection '%s' at %s", collection, u.data);
	}
	json_decref(doc);
	hc_response_cleanup(&rs);
	buf_cleanup(&root);
	buf_cleanup(&u);
	return rc;
}
