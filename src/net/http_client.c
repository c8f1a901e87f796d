/*
 * Outgoing HTTP on libcurl (see http_client.h).
 */
#include "net/http_client.h"

#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/timeutil.h"
#include "base/xmalloc.h"

struct http_client {
	CURL *curl;
	struct hc_conf conf;
	char user_agent[64];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct http_client *http_client_new(const struct hc_conf *conf)
{
	pthread_once(&curl_once, curl_init_once);
	struct http_client *hc = xcalloc(1, sizeof(*hc));
	if (conf)
		hc->conf = *conf;
	struct hc_conf *c = &hc->conf;
	if (c->connect_timeout_s <= 0)
		c->connect_timeout_s = 10;
	if (c->timeout_s <= 0)
		c->timeout_s = 120;
	if (c->max_body == 0)
		c->max_body = 256u << 20;
	if (c->retries == 0)
		c->retries = 3;
	else if (c->retries < 0)
		c->retries = 0;
	if (c->backoff_ms <= 0)
		c->backoff_ms = 500;
	if (c->max_wait_s <= 0)
		c->max_wait_s = 60;
	if (c->key_header == NULL)
		c->key_header = "X-API-Key";
	snprintf(hc->user_agent, sizeof(hc->user_agent), "cairn/%s", CAIRN_VERSION);
	hc->curl = curl_easy_init();
	if (hc->curl == NULL) {
		free(hc);
		return NULL;
	}
	return hc;
}

void http_client_free(struct http_client *hc)
{
	if (hc == NULL)
		return;
	curl_easy_cleanup(hc->curl);
	free(hc);
}

void hc_response_cleanup(struct hc_response *rs)
{
	buf_cleanup(&rs->body);
	memset(rs, 0, sizeof(*rs));
}

const char *hc_header(const struct hc_response *rs, const char *name)
{
	for (size_t i = 0; i < rs->nheaders; i++)
		if (!strcmp(rs->headers[i].name, name))
			return rs->headers[i].value;
	return NULL;
}

struct sink {
	struct hc_response *rs;
	size_t max;
	bool too_large;
};

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct sink *s = ctx;
	size_t len = size * n;
	if (s->rs->body.len + len > s->max) {
		s->too_large = true;
		return 0;	/* aborts the transfer */
	}
	buf_append(&s->rs->body, p, len);
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct sink *s = ctx;
	struct hc_response *rs = s->rs;
	size_t len = size * n;
	if (len >= 5 && !strncmp(p, "HTTP/", 5)) {
		rs->nheaders = 0;	/* a new answer (after a 100 or a redirect): its headers only */
		return len;
	}
	const char *colon = memchr(p, ':', len);
	if (colon == NULL || rs->nheaders == HC_MAX_HEADERS)
		return len;
	struct hc_header *h = &rs->headers[rs->nheaders];
	size_t nl = (size_t)(colon - p);
	if (nl == 0 || nl >= sizeof(h->name))
		return len;
	for (size_t i = 0; i < nl; i++)
		h->name[i] = (char)tolower((unsigned char)p[i]);
	h->name[nl] = '\0';
	const char *v = colon + 1, *end = p + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	size_t vl = (size_t)(end - v);
	if (vl >= sizeof(h->value))
		vl = sizeof(h->value) - 1;
	memcpy(h->value, v, vl);
	h->value[vl] = '\0';
	rs->nheaders++;
	return len;
}

/* Seconds to wait from a Retry-After value: delta seconds or an HTTP date; -1 if none. */
static int64_t retry_after(const char *v, int64_t now_s)
{
	if (v == NULL || *v == '\0')
		return -1;
	if (isdigit((unsigned char)*v))
		return strtoll(v, NULL, 10);
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (end == NULL)
		return -1;
	int64_t at = (int64_t)timegm(&tm);
	return at > now_s ? at - now_s : 0;
}

/* The URL as it may be logged: without user information and query (they can hold keys). */
static const char *redact(const char *url, char *out, size_t cap)
{
	const char *p = strstr(url, "://");
	const char *host = p ? p + 3 : url;
	const char *at = strchr(host, '@'), *slash = strchr(host, '/');
	if (at && (slash == NULL || at < slash))
		host = at + 1;
	size_t scheme = p ? (size_t)(p + 3 - url) : 0;
	size_t rest = strcspn(host, "?#");
	snprintf(out, cap, "%.*s%.*s%s", (int)scheme, url, (int)rest, host, host[rest] ? "?…" : "");
	return out;
}

static bool aborted(const struct hc_conf *c)
{
	return c->abort && __atomic_load_n(c->abort, __ATOMIC_ACQUIRE);
}

/* Sleeps ms, in steps of 100 ms so that an abort ends the wait. */
static void sleep_ms(const struct hc_conf *c, int64_t ms)
{
	while (ms > 0 && !aborted(c)) {
		int64_t step = ms < 100 ? ms : 100;
		struct timespec ts = { 0, (long)step * 1000000L };
		while (nanosleep(&ts, &ts) != 0)
			;
		ms -= step;
	}
}

static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt, (void)dn, (void)ut, (void)un;
	return aborted(ctx) ? 1 : 0;	/* non-zero aborts the transfer */
}

static bool retryable(long status)
{
	return status == 429 || status == 502 || status == 503 || status == 504 || status == 500;
}

int http_client_do(struct http_client *hc, const struct hc_request *rq, struct hc_response *rs,
		   struct err *e)
{
	const struct hc_conf *c = &hc->conf;
	CURL *h = hc->curl;
	int attempts = rq->no_retry ? 1 : c->retries + 1;
	int64_t wait_ms = c->backoff_ms;
	char errbuf[CURL_ERROR_SIZE], shown[512];
	redact(rq->url, shown, sizeof(shown));
	hc_response_cleanup(rs);
	for (int attempt = 1; attempt <= attempts; attempt++) {
		struct sink s = { rs, c->max_body, false };
		buf_reset(&rs->body);
		rs->nheaders = 0;
		rs->status = 0;
		rs->attempts = attempt;
		curl_easy_reset(h);
		errbuf[0] = '\0';
		curl_easy_setopt(h, CURLOPT_URL, rq->url);
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_USERAGENT, hc->user_agent);
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, c->connect_timeout_s);
		curl_easy_setopt(h, CURLOPT_TIMEOUT, c->timeout_s);
		curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");	/* gzip and deflate, decoded */
		curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, &s);
		curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_body);
		if (c->abort) {
			curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
			curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)c);
			curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
		}
		if (c->ca_file)
			curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
		if (c->client_cert)
			curl_easy_setopt(h, CURLOPT_SSLCERT, c->client_cert);
		if (c->client_key)
			curl_easy_setopt(h, CURLOPT_SSLKEY, c->client_key);
		struct curl_slist *hl = NULL;
		char line[1024];
		for (size_t i = 0; i < rq->nheaders; i++)
			hl = curl_slist_append(hl, rq->headers[i]);
		switch (c->auth) {
		case HC_AUTH_BASIC:
			curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
			curl_easy_setopt(h, CURLOPT_USERNAME, c->user ? c->user : "");
			curl_easy_setopt(h, CURLOPT_PASSWORD, c->password ? c->password : "");
			break;
		case HC_AUTH_BEARER:
			snprintf(line, sizeof(line), "Authorization: Bearer %s", c->token ? c->token : "");
			hl = curl_slist_append(hl, line);
			break;
		case HC_AUTH_HEADER:
			snprintf(line, sizeof(line), "%s: %s", c->key_header, c->token ? c->token : "");
			hl = curl_slist_append(hl, line);
			break;
		default:
			break;
		}
		if (rq->if_none_match && *rq->if_none_match) {
			snprintf(line, sizeof(line), "If-None-Match: %s", rq->if_none_match);
			hl = curl_slist_append(hl, line);
		}
		if (rq->if_modified_since && *rq->if_modified_since) {
			snprintf(line, sizeof(line), "If-Modified-Since: %s", rq->if_modified_since);
			hl = curl_slist_append(hl, line);
		}
		if (rq->body) {
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body);
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
		}
		if (rq->method && strcmp(rq->method, rq->body ? "POST" : "GET"))
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
		if (hl)
			curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
		CURLcode cc = curl_easy_perform(h);
		curl_slist_free_all(hl);
		if (s.too_large || cc == CURLE_FILESIZE_EXCEEDED)
			return err_set(e, ERR_TOO_LARGE, "%s: the answer is larger than %zu bytes", shown,
				       c->max_body);
		long status = 0;
		if (cc == CURLE_OK)
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		rs->status = status;
		bool last = attempt == attempts || aborted(c);
		if (cc == CURLE_OK && (!retryable(status) || last))
			return 0;
		if (cc != CURLE_OK && last)
			return err_set(e, ERR_IO, "%s: %s", shown, errbuf[0] ? errbuf : curl_easy_strerror(cc));
		/* Wait: the server's Retry-After if it gave one, else exponential backoff. */
		int64_t ms = wait_ms;
		int64_t ra = cc == CURLE_OK ? retry_after(hc_header(rs, "retry-after"), time_now_us() / USEC_PER_SEC) : -1;
		if (ra >= 0)
			ms = ra * 1000;
		if (ms > c->max_wait_s * 1000)
			ms = c->max_wait_s * 1000;
		log_info("%s: %s; retrying in %lld ms (attempt %d of %d)", shown,
			 cc == CURLE_OK ? "server busy" : (errbuf[0] ? errbuf : curl_easy_strerror(cc)),
			 (long long)ms, attempt + 1, attempts);
		sleep_ms(c, ms);
		wait_ms *= 2;
	}
	return err_set(e, ERR_IO, "%s: no answer", shown);
}

void hc_resolve(const char *base, const char *ref, struct buf *out)
{
	CURLU *u = curl_url();
	char *res = NULL;
	buf_reset(out);
	if (u && curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_URL, ref, 0) == CURLUE_OK && curl_url_get(u, CURLUPART_URL, &res, 0) == CURLUE_OK)
		buf_puts(out, res);
	else
		buf_puts(out, ref);
	curl_free(res);
	curl_url_cleanup(u);
}
