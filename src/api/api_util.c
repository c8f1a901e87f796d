/*
 * The pieces every handler uses: the error object, JSON answers, parameter
 * parsing with the invalid_parameter answer, and the public base URL.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "base/timeutil.h"

void api_error(struct call *c, int status, const char *code, const char *details_json,
	       const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct http_resp *r = c->resp;
	http_shared_unref(r->shared);
	r->shared = NULL;
	buf_reset(&r->body);
	struct jw w;
	jw_init(&w, &r->body);
	if (c->taxii) {
		/* TAXII 2.1's error message (section 3.6.1), in TAXII's media type. */
		char st[8];
		snprintf(st, sizeof(st), "%d", status);
		jw_obj(&w);
		jw_kstr(&w, "title", http_status_reason(status));
		jw_kstr(&w, "description", msg);
		jw_kstr(&w, "error_id", c->request_id);
		jw_kstr(&w, "error_code", code);
		jw_kstr(&w, "http_status", st);
		jw_kstr(&w, "external_details",
			"https://docs.oasis-open.org/cti/taxii/v2.1/os/taxii-v2.1-os.html#_Toc31107541");
		jw_key(&w, "details");
		if (details_json)
			jw_raw(&w, details_json, strlen(details_json));
		else
			jw_raw(&w, "{}", 2);
		jw_end(&w);
		buf_putc(&r->body, '\n');
		r->status = status;
		r->content_type = "application/taxii+json;version=2.1";
		return;
	}
	jw_obj(&w);
	jw_key(&w, "error");
	jw_obj(&w);
	jw_kstr(&w, "code", code);
	jw_kstr(&w, "message", msg);
	jw_key(&w, "details");
	if (details_json)
		jw_raw(&w, details_json, strlen(details_json));
	else
		jw_raw(&w, "{}", 2);
	jw_kstr(&w, "request_id", c->request_id);
	jw_end(&w);
	jw_end(&w);
	buf_putc(&r->body, '\n');
	r->status = status;
	r->content_type = "application/json; charset=utf-8";
}

void api_json(struct call *c, int status, struct buf *body)
{
	struct http_resp *r = c->resp;
	buf_cleanup(&r->body);
	r->body = *body;
	buf_init(body);
	buf_putc(&r->body, '\n');
	r->status = status;
	r->content_type = "application/json; charset=utf-8";
}

static void bad_param(struct call *c, const char *name, const char *why)
{
	char det[160];
	snprintf(det, sizeof(det), "{\"parameter\":\"%.64s\"}", name);
	api_error(c, 400, "invalid_parameter", det, "Invalid value for parameter '%s': %s", name, why);
}

bool param_int(struct call *c, const char *name, int64_t lo, int64_t hi, int64_t *out, bool *present)
{
	const struct query_param *p = query_get(&c->q, name);
	if (present)
		*present = p != NULL;
	if (p == NULL)
		return true;
	if (query_count(&c->q, name) > 1) {
		bad_param(c, name, "given more than once");
		return false;
	}
	const char *s = p->val;
	bool neg = false;
	int64_t v = 0;
	size_t i = 0;
	if (s[0] == '-') {
		neg = true;
		i = 1;
	}
	if (s[i] == '\0' || p->val_len > 19) {
		char why[96];
		snprintf(why, sizeof(why), "expected an integer from %lld to %lld", (long long)lo,
			 (long long)hi);
		bad_param(c, name, why);
		return false;
	}
	for (; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9') {
			char why[96];
			snprintf(why, sizeof(why), "expected an integer from %lld to %lld", (long long)lo,
				 (long long)hi);
			bad_param(c, name, why);
			return false;
		}
		v = v * 10 + (s[i] - '0');
	}
	if (neg)
		v = -v;
	if (v < lo || v > hi) {
		char why[96];
		snprintf(why, sizeof(why), "must be from %lld to %lld", (long long)lo, (long long)hi);
		bad_param(c, name, why);
		return false;
	}
	*out = v;
	return true;
}

bool param_bool(struct call *c, const char *name, bool *out)
{
	const struct query_param *p = query_get(&c->q, name);
	if (p == NULL)
		return true;
	if (query_count(&c->q, name) > 1) {
		bad_param(c, name, "given more than once");
		return false;
	}
	if (!strcmp(p->val, "true") || !strcmp(p->val, "1") || !strcmp(p->val, "yes")) {
		*out = true;
		return true;
	}
	if (!strcmp(p->val, "false") || !strcmp(p->val, "0") || !strcmp(p->val, "no")) {
		*out = false;
		return true;
	}
	bad_param(c, name, "expected true or false");
	return false;
}

const char *param_str(struct call *c, const char *name, size_t maxlen, bool *bad)
{
	const struct query_param *p = query_get(&c->q, name);
	*bad = false;
	if (p == NULL)
		return NULL;
	if (query_count(&c->q, name) > 1) {
		bad_param(c, name, "given more than once");
		*bad = true;
		return NULL;
	}
	if (p->val_len == 0) {
		bad_param(c, name, "empty");
		*bad = true;
		return NULL;
	}
	if (p->val_len > maxlen) {
		char why[64];
		snprintf(why, sizeof(why), "longer than %zu characters", maxlen);
		bad_param(c, name, why);
		*bad = true;
		return NULL;
	}
	return p->val;
}

void base_url(struct call *c, struct buf *b)
{
	const struct config *cfg = &c->w->api->cfg;
	if (cfg->base_url[0]) {
		buf_puts(b, cfg->base_url);
		return;
	}
	size_t len = c->req->host_len;
	const char *host = c->req->host;
	buf_puts(b, "http://");
	/* Host is the client's word: keep only characters a host[:port] can have. */
	for (size_t i = 0; host && i < len && i < 255; i++) {
		char ch = host[i];
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '.' || ch == '-' || ch == ':' || ch == '[' || ch == ']')
			buf_putc(b, ch);
	}
	if (host == NULL || len == 0)
		buf_puts(b, "localhost");
}

void meta_open(struct call *c, struct jw *w)
{
	jw_key(w, "meta");
	jw_obj(w);
	jw_ktime(w, "generated_at", c->now);
	jw_kstr(w, "feed_version", "1.0");
	jw_kstr(w, "source", "cairn");
}
