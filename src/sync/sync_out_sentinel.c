/*
 * The Microsoft Sentinel output of `cairn sync`: the STIX objects upload API
 * (POST {api}/workspaces/{id}/threat-intelligence-stix-objects:upload?api-version=…,
 * body {"sourcesystem": …, "stixobjects": [ … ]}), authenticated with an OAuth 2.0
 * client-credentials token from Microsoft Entra ID.
 *
 * - Objects go as they came from the source (Sentinel maps STIX itself); only the types the
 *   API takes are sent (indicator, attack-pattern, threat-actor, identity, relationship),
 *   the others are counted as skipped.
 * - Batches of at most 100 objects (the API's limit), at most 100 requests a minute per
 *   workspace (the API's rate limit): requests are paced at 600 ms or more apart, and a 429
 *   is retried after its Retry-After (net/http_client).
 * - The answer lists the objects it refused ({"errors": [{"recordIndex", "errorMessages"}]});
 *   those go to the dead letters with Sentinel's reasons, the others are acknowledged.
 *   401/403 stop the run: a credentials or role problem no retry fixes.
 * - The token is fetched once and again a minute before it expires.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/timeutil.h"
#include "base/xmalloc.h"
#include "net/http_client.h"
#include "sync/sync_out.h"

#define BATCH_MAX 100
#define PACE_US (600 * 1000)	/* 100 requests a minute */
#define API_VERSION "2024-02-01-preview"

struct pending {
	char *json;
	size_t len;
};

struct sentinel_out {
	struct sync_output base;
	const struct sync_opts *o;
	struct http_client *hc;
	char workspace[128];
	char token[8192];
	int64_t token_expires;		/* µs */
	struct pending batch[BATCH_MAX];
	size_t n;
	int64_t last_request;		/* monotonic µs */
};

static bool taken_type(const char *json, size_t len)
{
	static const char *const types[] = { "indicator", "attack-pattern", "threat-actor", "identity",
					     "relationship" };
	json_t *o = json_loadb(json, len, 0, NULL);
	const char *t = json_string_value(json_object_get(o, "type"));
	bool yes = false;
	for (size_t i = 0; t && i < sizeof(types) / sizeof(types[0]); i++)
		yes = yes || !strcmp(t, types[i]);
	json_decref(o);
	return yes;
}

static void url_form(struct buf *b, const char *k, const char *v)
{
	if (b->len)
		buf_putc(b, '&');
	buf_puts(b, k);
	buf_putc(b, '=');
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~", *p))
			buf_putc(b, (char)*p);
		else
			buf_printf(b, "%%%02X", *p);
	}
}

/* A token valid for at least another minute. */
static int token(struct sentinel_out *so, struct err *e)
{
	int64_t now = time_now_us();
	if (so->token[0] && so->token_expires - now > 60 * USEC_PER_SEC)
		return 0;
	const struct sync_opts *o = so->o;
	struct buf url = BUF_INIT, form = BUF_INIT;
	buf_printf(&url, "%s/%s/oauth2/v2.0/token", o->sentinel.login_url, o->sentinel.tenant);
	url_form(&form, "grant_type", "client_credentials");
	url_form(&form, "client_id", o->sentinel.client_id);
	url_form(&form, "client_secret", o->sentinel.client_secret);
	url_form(&form, "scope", "https://management.azure.com/.default");
	struct hc_request rq = { .url = url.data, .body = form.data, .body_len = form.len };
	rq.headers[rq.nheaders++] = "Content-Type: application/x-www-form-urlencoded";
	struct hc_response rs = { 0 };
	int rc = http_client_do(so->hc, &rq, &rs, e);
	if (rc == 0) {
		json_t *j = json_loadb(rs.body.data ? rs.body.data : "", rs.body.len, 0, NULL);
		const char *t = json_string_value(json_object_get(j, "access_token"));
		json_t *exp = json_object_get(j, "expires_in");
		int64_t secs = json_is_integer(exp) ? json_integer_value(exp)
			     : json_is_string(exp) ? strtoll(json_string_value(exp), NULL, 10) : 3600;
		if (rs.status != 200 || t == NULL || strlen(t) >= sizeof(so->token)) {
			const char *why = json_string_value(json_object_get(j, "error_description"));
			if (why == NULL)
				why = json_string_value(json_object_get(j, "error"));
			rc = err_set(e, ERR_IO, "Microsoft Entra ID refused the token request (%ld): %.200s",
				     rs.status, why ? why : "no token in the answer");
		} else {
			snprintf(so->token, sizeof(so->token), "%s", t);
			so->token_expires = now + secs * USEC_PER_SEC;
		}
		json_decref(j);
	}
	hc_response_cleanup(&rs);
	buf_cleanup(&url);
	buf_cleanup(&form);
	return rc;
}

static void pace(struct sentinel_out *so)
{
	int64_t wait = so->last_request + PACE_US - time_mono_us();
	if (so->last_request && wait > 0) {
		struct timespec ts = { (time_t)(wait / USEC_PER_SEC), (long)(wait % USEC_PER_SEC) * 1000 };
		while (nanosleep(&ts, &ts) != 0)
			;
	}
	so->last_request = time_mono_us();
}

static int upload(struct sentinel_out *so, struct err *e)
{
	if (so->n == 0)
		return 0;
	int rc = token(so, e);
	if (rc)
		return rc;
	const struct sync_opts *o = so->o;
	struct buf url = BUF_INIT, body = BUF_INIT, auth = BUF_INIT;
	buf_printf(&url, "%s/workspaces/%s/threat-intelligence-stix-objects:upload?api-version=%s",
		   o->sentinel.api_url, so->workspace, API_VERSION);
	json_t *ss = json_string(o->sentinel.source_system);
	char *ss_text = json_dumps(ss, JSON_ENCODE_ANY);
	json_decref(ss);
	buf_printf(&body, "{\"sourcesystem\":%s,\"stixobjects\":[", ss_text);
	free(ss_text);
	for (size_t i = 0; i < so->n; i++) {
		if (i)
			buf_putc(&body, ',');
		buf_append(&body, so->batch[i].json, so->batch[i].len);
	}
	buf_puts(&body, "]}");
	buf_printf(&auth, "Authorization: Bearer %s", so->token);
	struct hc_request rq = { .url = url.data, .body = body.data, .body_len = body.len };
	rq.headers[rq.nheaders++] = "Content-Type: application/json";
	rq.headers[rq.nheaders++] = auth.data;
	struct hc_response rs = { 0 };
	pace(so);
	rc = http_client_do(so->hc, &rq, &rs, e);
	if (rc == 0 && rs.status == 401)
		so->token[0] = '\0';	/* expired early or revoked: the next run fetches a new one */
	if (rc == 0 && (rs.status == 200 || rs.status == 400)) {
		/* Refused objects, by index: dead letters with Sentinel's reasons. */
		json_t *j = json_loadb(rs.body.data ? rs.body.data : "", rs.body.len, 0, NULL);
		json_t *errs = json_object_get(j, "errors");
		size_t i;
		json_t *x;
		size_t refused = 0;
		json_array_foreach(errs, i, x) {
			json_t *idx = json_object_get(x, "recordIndex");
			if (!json_is_integer(idx) || json_integer_value(idx) < 0 ||
			    (size_t)json_integer_value(idx) >= so->n)
				continue;
			size_t k = (size_t)json_integer_value(idx);
			char *why = json_dumps(json_object_get(x, "errorMessages"), JSON_COMPACT | JSON_ENCODE_ANY);
			char msg[600];
			snprintf(msg, sizeof(msg), "Sentinel refused it: %.560s", why ? why : "no reason given");
			free(why);
			if (so->batch[k].json) {
				rc = sync_dead_letter(so->base.run, so->batch[k].json, so->batch[k].len, msg, e);
				free(so->batch[k].json);
				so->batch[k].json = NULL;
				refused++;
			}
			if (rc)
				break;
		}
		if (rc == 0 && rs.status == 400 && refused == 0)
			rc = err_set(e, ERR_IO, "Sentinel refused the upload (400): %.300s",
				     rs.body.data ? rs.body.data : "");
		json_decref(j);
	} else if (rc == 0) {
		rc = err_set(e, ERR_IO, "Sentinel answered %ld%s: %.300s", rs.status,
			     rs.status == 401 || rs.status == 403
				     ? " (the application needs the Microsoft Sentinel Contributor role on the workspace)"
				     : "",
			     rs.body.data ? rs.body.data : "");
	}
	hc_response_cleanup(&rs);
	buf_cleanup(&url);
	buf_cleanup(&body);
	buf_cleanup(&auth);
	if (rc == 0) {
		for (size_t i = 0; i < so->n; i++)
			free(so->batch[i].json);
		so->n = 0;
	}
	return rc;
}

static int sentinel_object(struct sync_output *out, const char *json, size_t len, struct err *e)
{
	struct sentinel_out *so = (struct sentinel_out *)out;
	if (!taken_type(json, len))
		return 1;
	if (so->n == BATCH_MAX) {
		int rc = upload(so, e);
		if (rc)
			return rc;
	}
	so->batch[so->n].json = xmalloc(len + 1);
	memcpy(so->batch[so->n].json, json, len);
	so->batch[so->n].json[len] = '\0';
	so->batch[so->n].len = len;
	so->n++;
	return 0;
}

static int sentinel_flush(struct sync_output *out, struct err *e)
{
	return upload((struct sentinel_out *)out, e);
}

static void sentinel_close(struct sync_output *out)
{
	struct sentinel_out *so = (struct sentinel_out *)out;
	for (size_t i = 0; i < so->n; i++)
		free(so->batch[i].json);
	http_client_free(so->hc);
	memset(so->token, 0, sizeof(so->token));
	free(so);
}

int sync_output_sentinel(const struct sync_opts *o, struct sync_output **out, struct err *e)
{
	const char *ws = o->to + strlen("sentinel://");
	size_t wl = strcspn(ws, "/");
	if (wl == 0 || wl >= 128 || strspn(ws, "0123456789abcdefABCDEF-") < wl)
		return err_set(e, ERR_INVALID, "--to %s: expected sentinel://WORKSPACE_ID (the workspace's GUID)",
			       o->to);
	if (!o->sentinel.tenant || !o->sentinel.client_id || !o->sentinel.client_secret)
		return err_set(e, ERR_INVALID, "a Sentinel output needs the tenant, the application's client id"
				   " and its secret (--sentinel-tenant, --sentinel-client-id, $CAIRN_SYNC_SENTINEL_SECRET)");
	struct sentinel_out *so = xcalloc(1, sizeof(*so));
	/* Its own client: the source's credentials and CA bundle stay with the source. */
	struct hc_conf hc = { .abort = o->stop };
	so->hc = http_client_new(&hc);
	if (so->hc == NULL) {
		free(so);
		return err_set(e, ERR_INTERNAL, "cannot start the HTTP client");
	}
	so->o = o;
	memcpy(so->workspace, ws, wl);
	so->base.object = sentinel_object;
	so->base.flush = sentinel_flush;
	so->base.close = sentinel_close;
	*out = &so->base;
	return 0;
}
