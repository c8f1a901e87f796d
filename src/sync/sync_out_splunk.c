/*
 * The Splunk output of `cairn sync`: the HTTP Event Collector's event endpoint
 * (/services/collector/event), optionally with indexer acknowledgement.
 *
 * Each ECS document becomes one HEC event: {"time", "host", "source", "sourcetype", "index",
 * "fields":{"cairn_doc_id"}, "event": <the document>}, several to a POST body, bounded in
 * count (--splunk-batch) and in bytes (BATCH_BYTES). The lifecycle of a document:
 *
 *   1. doc() appends its event to the batch; a full batch is sent first (send_batch).
 *   2. An answer of HTTP 200 with code 0 accepts the whole batch. Without --splunk-ack that is
 *      the acknowledgement; with it the answer's ackId is kept as pending.
 *   3. A 400 that names one bad event (codes 6, 12, 13 with "invalid-event-number") sends that
 *      event to the dead letters and the rest of the batch again — all of it, including the
 *      events before the bad one, which Splunk may have indexed already: at least once. A
 *      refusal that names no event, or 413, sends the batch's events one by one to find it.
 *   4. Token, index and channel refusals, and anything unexpected, end the run with Splunk's
 *      reason; 429 and 5xx are retried by the HTTP client, honouring Retry-After.
 *   5. flush() sends the partial batch, then (--splunk-ack) polls /services/collector/ack until
 *      every pending ackId is true. Only then does it return 0, and the cursor moves.
 *
 * Pending acks are capped (ACK_PENDING_MAX): doc() waits for them before sending more.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/crypto.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "base/xmalloc.h"
#include "json/jw.h"
#include "sync/sync_out.h"

#define BATCH_EVENTS 500
#define BATCH_BYTES 1000000	/* Splunk Cloud's advice for one request */
#define ACK_PENDING_MAX 1000
#define ACK_TIMEOUT_S 300
#define ANSWER_MAX (1u << 20)

struct event {
	size_t off, len;	/* the event object in body */
	size_t doc_off, doc_len;	/* the ECS document inside it (what a dead letter keeps) */
};

struct splunk_out {
	struct sync_output base;
	const struct sync_splunk *conf;
	struct http_client *hc;
	char *event_url, *ack_url;
	char auth[1100], channel_hdr[80];
	bool print;		/* --dry-run: the events on stdout, nothing sent */
	struct buf head;	/* the constant part of every event: host, source, sourcetype, index */
	struct buf body;	/* the batch */
	struct event *ev;
	size_t nev, ev_cap;
	int batch_events;
	int64_t *acks;		/* ackIds answered and not yet acknowledged */
	size_t nacks, acks_cap;
};

enum verdict { V_OK, V_BAD_EVENT, V_TOO_LARGE, V_FATAL };

/* What HEC answered: {"text":…,"code":N[,"invalid-event-number":K][,"ackId":A]}. */
struct answer {
	int code;		/* -1 when the body had none */
	char text[160];
	long bad_event;		/* -1 when not given */
	int64_t ack_id;		/* -1 when not given */
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
}

static void read_answer(const struct hc_response *rs, struct answer *a)
{
	a->code = -1;
	a->text[0] = '\0';
	a->bad_event = -1;
	a->ack_id = -1;
	json_t *j = json_loadb(rs->body.data ? rs->body.data : "", rs->body.len, 0, NULL);
	if (!json_is_object(j)) {
		/* Not HEC's JSON (a proxy's page, say): its first line as the reason. */
		size_t n = 0;
		while (n < rs->body.len && n < sizeof(a->text) - 1 && rs->body.data[n] != '\n' && rs->body.data[n] != '\r')
			n++;
		if (n)
			memcpy(a->text, rs->body.data, n);
		a->text[n] = '\0';
		json_decref(j);
		return;
	}
	json_t *v;
	if (json_is_integer(v = json_object_get(j, "code")))
		a->code = (int)json_integer_value(v);
	if (json_is_string(v = json_object_get(j, "text")))
		snprintf(a->text, sizeof(a->text), "%s", json_string_value(v));
	if (json_is_integer(v = json_object_get(j, "invalid-event-number")))
		a->bad_event = (long)json_integer_value(v);
	if (json_is_integer(v = json_object_get(j, "ackId")))
		a->ack_id = json_integer_value(v);
	json_decref(j);
}

static int post(struct splunk_out *o, const char *url, const char *p, size_t len, struct hc_response *rs,
		struct err *e)
{
	struct hc_request rq = { .method = "POST", .url = url, .body = p, .body_len = len };
	rq.headers[rq.nheaders++] = o->auth;
	rq.headers[rq.nheaders++] = "Content-Type: application/json";
	if (o->conf->ack)
		rq.headers[rq.nheaders++] = o->channel_hdr;
	return http_client_do(o->hc, &rq, rs, e);
}

/*
 * Judges HEC's answer to events. V_OK: accepted (*ack_id set with --splunk-ack). V_BAD_EVENT:
 * one event refused for its content (*bad the index HEC named, or -1; why says it). V_TOO_LARGE:
 * the body is over the receiver's limit. V_FATAL: e says why the run must stop.
 */
static enum verdict judge(struct splunk_out *o, const struct hc_response *rs, long *bad, int64_t *ack_id,
			  char *why, size_t cap, struct err *e)
{
	struct answer a;
	read_answer(rs, &a);
	*bad = -1;
	if (rs->status == 200 && a.code == 0) {
		if (!o->conf->ack)
			return V_OK;
		if (a.ack_id < 0) {
			err_set(e, ERR_IO, "Splunk HEC accepted the events but gave no ackId: indexer acknowledgement"
				" is not enabled for this token (leave out --splunk-ack, or enable it)");
			return V_FATAL;
		}
		*ack_id = a.ack_id;
		return V_OK;
	}
	if (rs->status == 400 && (a.code == 6 || a.code == 12 || a.code == 13 || a.code == 15)) {
		*bad = a.bad_event;
		snprintf(why, cap, "Splunk HEC refused the event: %s (code %d)", a.text[0] ? a.text : "bad event", a.code);
		return V_BAD_EVENT;
	}
	if (rs->status == 413) {
		snprintf(why, cap, "Splunk HEC refused the event: larger than the receiver accepts (HTTP 413)");
		return V_TOO_LARGE;
	}
	const char *hint = "";
	switch (a.code) {
	case 1: case 2: case 3: case 4:
		hint = ": check the token ($CAIRN_SYNC_SPLUNK_TOKEN or --splunk-token-env)";
		break;
	case 7:
		hint = o->conf->index ? ": the token may not write to --splunk-index" : "";
		break;
	case 10: case 11:
		hint = ": this token requires indexer acknowledgement (add --splunk-ack)";
		break;
	case 14:
		hint = ": indexer acknowledgement is disabled for this token (leave out --splunk-ack)";
		break;
	default:
		break;
	}
	if (a.code >= 0)
		err_set(e, ERR_IO, "Splunk HEC: %s (code %d, HTTP %ld)%s", a.text[0] ? a.text : "error", a.code,
			rs->status, hint);
	else
		err_set(e, ERR_IO, "Splunk HEC answered HTTP %ld%s%s%s", rs->status, a.text[0] ? ": " : "", a.text,
			rs->attempts > 1 ? " (after retries)" : "");
	return V_FATAL;
}

static void ack_push(struct splunk_out *o, int64_t id)
{
	if (o->nacks == o->acks_cap) {
		o->acks_cap = o->acks_cap ? o->acks_cap * 2 : 64;
		o->acks = xrealloc(o->acks, o->acks_cap * sizeof(*o->acks));
	}
	o->acks[o->nacks++] = id;
}

static int dead(struct splunk_out *o, size_t i, const char *why, struct err *e)
{
	const struct event *v = &o->ev[i];
	log_warn("a document went to the dead letters: %s", why);
	return sync_dead_letter(o->base.run, o->body.data + v->doc_off, v->doc_len, why, e);
}

static void batch_reset(struct splunk_out *o)
{
	buf_reset(&o->body);
	o->nev = 0;
}

/* Takes event i out of the batch. */
static void batch_remove(struct splunk_out *o, size_t i)
{
	struct event gone = o->ev[i];
	memmove(o->body.data + gone.off, o->body.data + gone.off + gone.len, o->body.len - gone.off - gone.len);
	o->body.len -= gone.len;
	for (size_t j = i + 1; j < o->nev; j++) {
		o->ev[j].off -= gone.len;
		o->ev[j].doc_off -= gone.len;
		o->ev[j - 1] = o->ev[j];
	}
	o->nev--;
}

/* Each event of the batch in a POST of its own: finds which one HEC refuses. */
static int send_singly(struct splunk_out *o, struct err *e)
{
	struct hc_response rs = { 0 };
	char why[240];
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < o->nev; i++) {
		const struct event *v = &o->ev[i];
		long bad;
		int64_t ack_id = -1;
		rc = post(o, o->event_url, o->body.data + v->off, v->len, &rs, e);
		if (rc)
			break;
		switch (judge(o, &rs, &bad, &ack_id, why, sizeof(why), e)) {
		case V_OK:
			if (o->conf->ack)
				ack_push(o, ack_id);
			break;
		case V_BAD_EVENT:
		case V_TOO_LARGE:
			rc = dead(o, i, why, e);
			break;
		case V_FATAL:
			rc = ERR_IO;
			break;
		}
	}
	hc_response_cleanup(&rs);
	if (rc == 0)
		batch_reset(o);
	return rc;
}

static int wait_acks(struct splunk_out *o, struct err *e);

/* Sends the batch until HEC accepted or dead-lettered every event in it (see the top). */
static int send_batch(struct splunk_out *o, struct err *e)
{
	if (o->nev == 0)
		return 0;
	if (o->print) {
		if (fwrite(o->body.data, 1, o->body.len, stdout) != o->body.len)
			return err_set(e, ERR_IO, "writing to standard output failed");
		batch_reset(o);
		return 0;
	}
	struct hc_response rs = { 0 };
	char why[240];
	int rc = 0;
	while (rc == 0 && o->nev > 0) {
		long bad;
		int64_t ack_id = -1;
		rc = post(o, o->event_url, o->body.data, o->body.len, &rs, e);
		if (rc)
			break;
		switch (judge(o, &rs, &bad, &ack_id, why, sizeof(why), e)) {
		case V_OK:
			if (o->conf->ack)
				ack_push(o, ack_id);
			batch_reset(o);
			break;
		case V_BAD_EVENT:
			if (bad >= 0 && (size_t)bad < o->nev) {
				rc = dead(o, (size_t)bad, why, e);
				batch_remove(o, (size_t)bad);
				break;
			}
			/* HEC did not say which event: find it */
			__attribute__((fallthrough));
		case V_TOO_LARGE:
			if (o->nev == 1) {
				rc = dead(o, 0, why, e);
				batch_reset(o);
			} else {
				rc = send_singly(o, e);
			}
			break;
		case V_FATAL:
			rc = ERR_IO;
			break;
		}
	}
	hc_response_cleanup(&rs);
	if (rc == 0 && o->nacks >= ACK_PENDING_MAX)
		rc = wait_acks(o, e);
	return rc;
}

/* Polls /services/collector/ack until every pending ackId is true, or the timeout. */
static int wait_acks(struct splunk_out *o, struct err *e)
{
	int64_t timeout_ms = (o->conf->ack_timeout_s > 0 ? o->conf->ack_timeout_s : ACK_TIMEOUT_S) * 1000;
	int64_t deadline = mono_ms() + timeout_ms, delay = 50;
	struct hc_response rs = { 0 };
	struct buf q = BUF_INIT;
	int rc = 0;
	while (rc == 0 && o->nacks > 0) {
		buf_reset(&q);
		buf_puts(&q, "{\"acks\":[");
		for (size_t i = 0; i < o->nacks; i++)
			buf_printf(&q, "%s%lld", i ? "," : "", (long long)o->acks[i]);
		buf_puts(&q, "]}");
		rc = post(o, o->ack_url, q.data, q.len, &rs, e);
		if (rc)
			break;
		json_t *j = rs.status == 200 ? json_loadb(rs.body.data ? rs.body.data : "", rs.body.len, 0, NULL) : NULL;
		json_t *acks = json_object_get(j, "acks");
		if (!json_is_object(acks)) {
			json_decref(j);
			struct answer a;
			read_answer(&rs, &a);
			rc = err_set(e, ERR_IO, "Splunk HEC's ack endpoint answered HTTP %ld: %s%s", rs.status,
				     a.text[0] ? a.text : "no acks",
				     a.code == 14 ? " (indexer acknowledgement is disabled for this token: leave out"
						   " --splunk-ack)" : "");
			break;
		}
		size_t keep = 0;
		for (size_t i = 0; i < o->nacks; i++) {
			char k[24];
			snprintf(k, sizeof(k), "%lld", (long long)o->acks[i]);
			if (!json_is_true(json_object_get(acks, k)))
				o->acks[keep++] = o->acks[i];
		}
		o->nacks = keep;
		json_decref(j);
		if (o->nacks == 0)
			break;
		if (mono_ms() >= deadline) {
			rc = err_set(e, ERR_IO, "Splunk HEC did not acknowledge %zu request%s within %lld s; the cursor"
				     " stays, and the next run sends them again", o->nacks, o->nacks == 1 ? "" : "s",
				     (long long)(timeout_ms / 1000));
			break;
		}
		sleep_ms(delay);
		delay = delay * 2 > 2000 ? 2000 : delay * 2;
	}
	hc_response_cleanup(&rs);
	buf_cleanup(&q);
	return rc;
}

/* The document's @timestamp as HEC's time (epoch seconds, milliseconds), or false. The
 * mapping writes it as the first key when there is one. */
static bool doc_time(const struct ecs_doc *d, int64_t *us)
{
	static const char key[] = "{\"@timestamp\":\"";
	size_t kl = sizeof(key) - 1;
	if (d->len <= kl || memcmp(d->json, key, kl))
		return false;
	const char *s = d->json + kl, *q = memchr(s, '"', d->len - kl);
	struct err te = { 0 };
	return q && time_parse_rfc3339(s, (size_t)(q - s), us, &te) == 0;
}

static int splunk_doc(struct sync_output *out, const struct ecs_doc *d, struct err *e)
{
	struct splunk_out *o = (struct splunk_out *)out;
	size_t size = d->len + o->head.len + 128;
	if (o->nev > 0 && ((int)o->nev >= o->batch_events || o->body.len + size > BATCH_BYTES)) {
		int rc = send_batch(o, e);
		if (rc)
			return ERR_IO;	/* never ERR_INVALID: sync.c would dead-letter the object */
	}
	if (o->nev == o->ev_cap) {
		o->ev_cap = o->ev_cap ? o->ev_cap * 2 : 64;
		o->ev = xrealloc(o->ev, o->ev_cap * sizeof(*o->ev));
	}
	struct event *v = &o->ev[o->nev++];
	v->off = o->body.len;
	buf_putc(&o->body, '{');
	int64_t us;
	if (doc_time(d, &us))
		buf_printf(&o->body, "\"time\":%lld.%03lld,", (long long)(us / USEC_PER_SEC),
			   (long long)(us % USEC_PER_SEC / 1000));
	buf_append(&o->body, o->head.data, o->head.len);
	if (d->doc_id) {
		buf_puts(&o->body, "\"fields\":{\"cairn_doc_id\":\"");
		json_escape(&o->body, d->doc_id, strlen(d->doc_id));
		buf_puts(&o->body, "\"},");
	}
	buf_puts(&o->body, "\"event\":");
	v->doc_off = o->body.len;
	v->doc_len = d->len;
	buf_append(&o->body, d->json, d->len);
	buf_puts(&o->body, "}\n");
	v->len = o->body.len - v->off;
	return 0;
}

static int splunk_flush(struct sync_output *out, struct err *e)
{
	struct splunk_out *o = (struct splunk_out *)out;
	int rc = send_batch(o, e);
	if (rc == 0 && o->print)
		rc = fflush(stdout) == 0 ? 0 : err_set(e, ERR_IO, "writing to standard output failed");
	if (rc == 0 && o->conf->ack && !o->print)
		rc = wait_acks(o, e);
	return rc ? ERR_IO : 0;
}

static void splunk_close(struct sync_output *out)
{
	struct splunk_out *o = (struct splunk_out *)out;
	http_client_free(o->hc);
	free(o->event_url);
	free(o->ack_url);
	buf_cleanup(&o->head);
	buf_cleanup(&o->body);
	free(o->ev);
	free(o->acks);
	free(o);
}

static void head_field(struct buf *b, const char *key, const char *v)
{
	if (v == NULL || *v == '\0')
		return;
	buf_printf(b, "\"%s\":\"", key);
	json_escape(b, v, strlen(v));
	buf_puts(b, "\",");
}

/* splunk+http(s)://HOST:PORT[/prefix] → the collector's base URL (no trailing slash, and
 * without a /services/collector… the user may have pasted). */
static char *base_url_of(const char *to)
{
	const char *u = to + strlen("splunk+");
	size_t n = strlen(u);
	const char *svc = strstr(u, "/services/collector");
	if (svc)
		n = (size_t)(svc - u);
	while (n && u[n - 1] == '/')
		n--;
	char *s = xmalloc(n + 1);
	memcpy(s, u, n);
	s[n] = '\0';
	return s;
}

int sync_output_splunk(const struct sync_opts *so, struct sync_output **out, struct err *e)
{
	const struct sync_splunk *c = &so->splunk;
	const char *to = so->to;
	if (strncmp(to, "splunk+http://", 14) && strncmp(to, "splunk+https://", 15))
		return err_set(e, ERR_INVALID, "--to %s: a Splunk HEC is splunk+http://HOST:PORT or splunk+https://HOST:PORT", to);
	const char *host = strstr(to, "://") + 3;
	if (*host == '\0' || *host == '/')
		return err_set(e, ERR_INVALID, "--to %s: the HEC's host is missing", to);
	for (const char *p = to; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return err_set(e, ERR_INVALID, "--to: the URL has a space or a control character");
	if (!so->dry_run && (c->token == NULL || *c->token == '\0'))
		return err_set(e, ERR_INVALID, "the Splunk HEC token is missing: set $CAIRN_SYNC_SPLUNK_TOKEN (or the"
				   " variable --splunk-token-env names)");
	if (c->token && strlen(c->token) > 1000)
		return err_set(e, ERR_INVALID, "the Splunk HEC token is longer than 1000 characters");
	for (const char *p = c->token; p && *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			return err_set(e, ERR_INVALID, "the Splunk HEC token has a control character");
	struct splunk_out *o = xcalloc(1, sizeof(*o));
	o->conf = c;
	o->print = so->dry_run;
	o->batch_events = c->batch_events > 0 ? c->batch_events : BATCH_EVENTS;
	char *base = base_url_of(to);
	size_t bl = strlen(base);
	o->event_url = xmalloc(bl + 32);
	o->ack_url = xmalloc(bl + 32);
	snprintf(o->event_url, bl + 32, "%s/services/collector/event", base);
	snprintf(o->ack_url, bl + 32, "%s/services/collector/ack", base);
	free(base);
	snprintf(o->auth, sizeof(o->auth), "Authorization: Splunk %s", c->token ? c->token : "");
	char channel[UUID_STR_LEN + 1];
	uuid_v4(channel);	/* one channel per run: its ackIds are this run's */
	snprintf(o->channel_hdr, sizeof(o->channel_hdr), "X-Splunk-Request-Channel: %s", channel);
	buf_init(&o->head);
	buf_init(&o->body);
	head_field(&o->head, "host", c->host);
	head_field(&o->head, "source", c->source);
	head_field(&o->head, "sourcetype", c->sourcetype ? c->sourcetype : "cairn:ti:ecs");
	head_field(&o->head, "index", c->index);
	if (!o->print) {
		struct hc_conf hc = c->http;
		hc.abort = so->stop;
		hc.auth = HC_AUTH_NONE;	/* the Splunk header is added per request */
		hc.max_body = ANSWER_MAX;
		if (hc.retries == 0)
			hc.retries = 8;	/* a busy indexer: about two minutes of backoff */
		o->hc = http_client_new(&hc);
		if (o->hc == NULL) {
			splunk_close(&o->base);
			return err_set(e, ERR_INTERNAL, "cannot start the HTTP client");
		}
	}
	o->base.doc = splunk_doc;
	o->base.flush = splunk_flush;
	o->base.close = splunk_close;
	*out = &o->base;
	return 0;
}
