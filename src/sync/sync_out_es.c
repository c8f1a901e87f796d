/*
 * The Elasticsearch / OpenSearch output of `cairn sync` (docs/sync.md): documents go to the
 * `_bulk` API in batches bounded in documents and bytes, each one twice — created in the
 * raw stream under its deterministic id, and indexed (or, once expired, deleted) in the
 * "latest" index under its latest id with external versioning on `modified` (es_bulk.h has
 * the operations and the verdicts). The latest index holds the indicators in force: one that
 * has expired (ecs.h, MAPPING.md §7) or is revoked is deleted from it.
 *
 * Delivery (sync_out.h): a batch is sent when it is full (in doc) and when the source asks
 * (flush). Every item of a response is judged on its own: items refused for now (429, 5xx)
 * are sent again, alone, after a wait that doubles (or the server's Retry-After), up to
 * ES_ATTEMPTS times; items refused for good make their document a dead letter with the
 * cluster's reason. A batch is done when each of its documents is acknowledged in both
 * places or dead-lettered; anything else — no answer, a whole-request error, items still
 * busy after the last attempt — is an error, so the source's cursor does not move and the
 * next run sends the batch again (creates that are already there answer 409: success).
 *
 * Once per run, before its first batch, documents whose `stix.ioc_expiration_date` has
 * passed since they were written are deleted from the latest index (_delete_by_query).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "base/log.h"
#include "base/timeutil.h"
#include "base/xmalloc.h"
#include "sync/es_bulk.h"
#include "sync/sync_out.h"

#define ES_ATTEMPTS 10			/* rounds of one batch while items are busy */
#define ES_MAX_WAIT_MS 30000		/* cap of one wait between rounds */
#define ES_LOGGED_REFUSALS 10		/* refusals shown on stderr per run (all are dead letters) */
#define ES_DEFAULT_INDEX "logs-ti_cairn.indicator-default"
#define ES_DEFAULT_LATEST "cairn-indicators-latest"

enum item_state { IT_NONE, IT_PENDING, IT_DONE, IT_REFUSED };

/* A document taken and not yet acknowledged. Offsets point into es_out.texts. */
struct pending {
	size_t text, text_len;		/* the document */
	size_t id, latest;		/* NUL-terminated ids, or SIZE_MAX */
	int64_t version;		/* `modified`, µs */
	bool expired;			/* or revoked: deleted from the latest index */
	unsigned char raw, last;	/* enum item_state of its two items */
	size_t why;			/* the cluster's reasons for a refusal, in es_out.whys, or SIZE_MAX */
};

/* One item of the request in flight: which document, which operation. */
struct slot {
	size_t doc;
	enum es_op op;
};

struct es_out {
	struct sync_output base;
	struct http_client *hc;
	char *base_url;			/* http(s)://host:port[/path], no trailing slash */
	char *bulk_url;
	const char *index, *latest;	/* latest NULL: no latest index */
	size_t max_docs, max_bytes;
	int64_t now;			/* what "expired" is measured against */
	int64_t backoff_ms;
	bool swept;
	int logged;

	struct pending *docs;
	size_t ndocs, cap_docs, bytes;	/* bytes: an estimate of the request body */
	struct buf texts, whys, body;
	struct slot *slots;
	size_t nslots, cap_slots;
	size_t busy;			/* items of the last round refused for now */
	char busy_why[200];		/* the last of their reasons */
};

static size_t put_str(struct buf *b, const char *s)
{
	size_t off = b->len;
	buf_append(b, s, strlen(s) + 1);
	return off;
}

static void reset_batch(struct es_out *o)
{
	o->ndocs = 0;
	o->bytes = 0;
	buf_reset(&o->texts);
	buf_reset(&o->whys);
}

/* The request body: every item still pending, each document's raw item before its latest one
 * (a bulk request runs one shard's items in order). */
static void build_body(struct es_out *o)
{
	buf_reset(&o->body);
	o->nslots = 0;
	for (size_t i = 0; i < o->ndocs; i++) {
		struct pending *p = &o->docs[i];
		const char *text = o->texts.data + p->text;
		for (int k = 0; k < 2; k++) {
			if ((k == 0 ? p->raw : p->last) != IT_PENDING)
				continue;
			enum es_op op = k == 0 ? ES_OP_CREATE : p->expired ? ES_OP_EXPIRE : ES_OP_LATEST;
			size_t id = k == 0 ? p->id : p->latest;
			es_bulk_action(&o->body, op, k == 0 ? o->index : o->latest,
				       id == SIZE_MAX ? NULL : o->texts.data + id, p->version);
			if (op != ES_OP_EXPIRE) {
				buf_append(&o->body, text, p->text_len);
				buf_putc(&o->body, '\n');
			}
			if (o->nslots == o->cap_slots) {
				o->cap_slots = o->cap_slots ? 2 * o->cap_slots : 256;
				o->slots = xrealloc(o->slots, o->cap_slots * sizeof(*o->slots));
			}
			o->slots[o->nslots++] = (struct slot){ i, op };
		}
	}
}

static void on_item(void *ctx, size_t i, long status, const char *type, const char *reason)
{
	struct es_out *o = ctx;
	struct slot *s = &o->slots[i];
	struct pending *p = &o->docs[s->doc];
	unsigned char *st = s->op == ES_OP_CREATE ? &p->raw : &p->last;
	switch (es_bulk_judge(s->op, status, type)) {
	case ES_DONE:
		*st = IT_DONE;
		break;
	case ES_RETRY:
		o->busy++;
		snprintf(o->busy_why, sizeof(o->busy_why), "%ld %s", status, type ? type : reason ? reason : "");
		break;
	case ES_REFUSED: {
		*st = IT_REFUSED;
		/* Both reasons when both items are refused: the raw one first, as sent. */
		char *first = p->why != SIZE_MAX ? xstrdup(o->whys.data + p->why) : NULL;
		size_t at = o->whys.len;
		if (first)
			buf_printf(&o->whys, "%s; ", first);
		free(first);
		buf_printf(&o->whys, "%s refused the document: %ld %s: %s",
			   s->op == ES_OP_CREATE ? o->index : o->latest, status, type ? type : "error",
			   reason ? reason : "no reason given");
		buf_putc(&o->whys, '\0');
		p->why = at;
		break;
	}
	}
}

/* A whole request refused: the cluster's own words when it gave some. */
static int request_error(const char *what, const struct hc_response *rs, struct err *e)
{
	json_t *j = json_loadb(rs->body.data ? rs->body.data : "", rs->body.len, 0, NULL);
	json_t *er = j ? json_object_get(j, "error") : NULL;
	const char *why = json_is_string(er) ? json_string_value(er)
			  : json_string_value(json_object_get(er, "reason"));
	const char *type = json_string_value(json_object_get(er, "type"));
	int rc = err_set(e, ERR_IO, "%s: HTTP %ld%s%s%s%s", what, rs->status, type ? " " : "", type ? type : "",
			 why ? ": " : "", why ? why : "");
	json_decref(j);
	return rc;
}

static void wait_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* Sends the batch until every item is acknowledged or refused for good, then dead-letters the
 * refused documents. Returns 0, or ERR_IO when the batch could not be delivered (the cursor
 * must not move). */
static int send_batch(struct es_out *o, struct err *e)
{
	struct hc_response rs = { 0 };
	int64_t wait = o->backoff_ms;
	int rc = 0;
	for (int round = 1;; round++) {
		build_body(o);
		if (o->nslots == 0)
			break;
		struct hc_request rq = {
			.method = "POST", .url = o->bulk_url, .body = o->body.data, .body_len = o->body.len,
			.headers = { "Content-Type: application/x-ndjson", "Accept: application/json" },
			.nheaders = 2,
		};
		if ((rc = http_client_do(o->hc, &rq, &rs, e)) != 0)
			goto out;
		if (rs.status != 200) {
			rc = request_error("elasticsearch _bulk", &rs, e);
			goto out;
		}
		o->busy = 0;
		if ((rc = es_bulk_read(rs.body.data, rs.body.len, o->nslots, on_item, o, e)) != 0)
			goto out;
		if (o->busy == 0)
			break;
		if (round == ES_ATTEMPTS) {
			rc = err_set(e, ERR_IO, "elasticsearch _bulk: %zu items still refused after %d attempts (%s)",
				     o->busy, round, o->busy_why);
			goto out;
		}
		const char *ra = hc_header(&rs, "retry-after");
		long long ra_s = ra && *ra >= '0' && *ra <= '9' ? strtoll(ra, NULL, 10) : -1;
		int64_t ms = ra_s < 0 ? wait : ra_s > ES_MAX_WAIT_MS / 1000 ? ES_MAX_WAIT_MS : ra_s * 1000;
		if (ms > ES_MAX_WAIT_MS)
			ms = ES_MAX_WAIT_MS;
		log_info("elasticsearch _bulk: %zu items refused for now (%s); sending them again in %lld ms",
			 o->busy, o->busy_why, (long long)ms);
		wait_ms(ms);
		wait = wait * 2 > ES_MAX_WAIT_MS ? ES_MAX_WAIT_MS : wait * 2;
	}
	for (size_t i = 0; i < o->ndocs && rc == 0; i++) {
		struct pending *p = &o->docs[i];
		if (p->raw != IT_REFUSED && p->last != IT_REFUSED)
			continue;
		const char *why = o->whys.data + p->why;
		if (o->logged++ < ES_LOGGED_REFUSALS)
			log_warn("dead letter: %s", why);
		rc = sync_dead_letter(o->base.run, o->texts.data + p->text, p->text_len, why, e);
	}
	if (rc == 0)
		reset_batch(o);
out:
	hc_response_cleanup(&rs);
	return rc;
}

/* Deletes from the latest index what expired since it was written. */
static int sweep(struct es_out *o, struct err *e)
{
	static const char q[] = "{\"query\":{\"range\":{\"stix.ioc_expiration_date\":{\"lt\":\"now\"}}}}";
	struct buf url = BUF_INIT;
	buf_printf(&url, "%s/%s/_delete_by_query?conflicts=proceed&ignore_unavailable=true", o->base_url, o->latest);
	struct hc_request rq = {
		.method = "POST", .url = url.data, .body = q, .body_len = sizeof(q) - 1,
		.headers = { "Content-Type: application/json", "Accept: application/json" }, .nheaders = 2,
	};
	struct hc_response rs = { 0 };
	int rc = http_client_do(o->hc, &rq, &rs, e);
	if (rc == 0 && rs.status != 200)
		rc = request_error("elasticsearch _delete_by_query (expired documents of the latest index)", &rs, e);
	if (rc == 0) {
		json_t *j = json_loadb(rs.body.data, rs.body.len, 0, NULL);
		json_t *f = json_object_get(j, "failures");
		if (json_array_size(f) > 0) {
			json_t *c = json_object_get(json_array_get(f, 0), "cause");
			const char *why = json_string_value(json_object_get(c, "reason"));
			rc = err_set(e, ERR_IO, "elasticsearch _delete_by_query on %s: %zu failures (%s)", o->latest,
				     json_array_size(f), why ? why : "no reason given");
		} else if (json_integer_value(json_object_get(j, "deleted")) > 0) {
			log_info("%s: %lld expired documents deleted", o->latest,
				 (long long)json_integer_value(json_object_get(j, "deleted")));
		}
		json_decref(j);
	}
	hc_response_cleanup(&rs);
	buf_cleanup(&url);
	return rc;
}

static int es_doc(struct sync_output *out, const struct ecs_doc *d, struct err *e)
{
	struct es_out *o = (struct es_out *)out;
	bool latest = o->latest && d->latest_id && !d->pipeline_error;
	/* Twice the document (raw and latest), the ids and the action lines. */
	size_t cost = (latest ? 2 : 1) * (d->len + 1) + 512;
	if (o->ndocs > 0 && (o->ndocs == o->max_docs || o->bytes + cost > o->max_bytes)) {
		int rc = send_batch(o, e);
		if (rc)
			return rc;
	}
	if (o->ndocs == o->cap_docs) {
		o->cap_docs = o->cap_docs ? 2 * o->cap_docs : 256;
		o->docs = xrealloc(o->docs, o->cap_docs * sizeof(*o->docs));
	}
	struct pending *p = &o->docs[o->ndocs++];
	p->text = o->texts.len;
	p->text_len = d->len;
	buf_append(&o->texts, d->json, d->len);
	buf_putc(&o->texts, '\0');
	p->id = d->doc_id ? put_str(&o->texts, d->doc_id) : SIZE_MAX;
	p->latest = latest ? put_str(&o->texts, d->latest_id) : SIZE_MAX;
	p->version = d->modified;
	/* Revoked counts as expired here, even before a valid_until still ahead: the producer
	 * withdrew it, and the latest index is what detection rules match against. */
	p->expired = (d->expires_at != 0 && d->expires_at <= o->now) || d->revoked;
	p->raw = IT_PENDING;
	p->last = latest ? IT_PENDING : IT_NONE;
	p->why = SIZE_MAX;
	o->bytes += cost;
	return 0;
}

static int es_flush(struct sync_output *out, struct err *e)
{
	struct es_out *o = (struct es_out *)out;
	if (o->latest && !o->swept) {
		int rc = sweep(o, e);
		if (rc)
			return rc;
		o->swept = true;
	}
	return o->ndocs ? send_batch(o, e) : 0;
}

static void es_close(struct sync_output *out)
{
	struct es_out *o = (struct es_out *)out;
	http_client_free(o->hc);
	free(o->base_url);
	free(o->bulk_url);
	free(o->docs);
	free(o->slots);
	buf_cleanup(&o->texts);
	buf_cleanup(&o->whys);
	buf_cleanup(&o->body);
	free(o);
}

bool sync_output_is_es(const char *to)
{
	return !strncmp(to, "elasticsearch+", 14) || !strncmp(to, "opensearch+", 11);
}

int sync_output_es(const struct sync_opts *so, struct sync_output **out, struct err *e)
{
	const char *url = strchr(so->to, '+') + 1;
	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
		return err_set(e, ERR_INVALID, "--to %s: give elasticsearch+http://HOST:PORT or elasticsearch+https://HOST:PORT",
			       so->to);
	const struct sync_es_opts *eo = &so->es;
	const char *index = eo->index ? eo->index : ES_DEFAULT_INDEX;
	const char *latest = eo->latest_index ? eo->latest_index : ES_DEFAULT_LATEST;
	if (!es_index_name_valid(index))
		return err_set(e, ERR_INVALID, "--es-index %s: not a valid index or data stream name", index);
	if (*latest && !es_index_name_valid(latest))
		return err_set(e, ERR_INVALID, "--es-latest-index %s: not a valid index name", latest);
	if (*latest && !strcmp(index, latest))
		return err_set(e, ERR_INVALID, "--es-index and --es-latest-index must differ");
	struct hc_conf hcc = eo->http;
	hcc.abort = so->stop;
	if (hcc.max_body == 0)
		hcc.max_body = 64u << 20;	/* a bulk answer: a few hundred bytes an item */
	struct es_out *o = xcalloc(1, sizeof(*o));
	o->hc = http_client_new(&hcc);
	if (o->hc == NULL) {
		free(o);
		return err_set(e, ERR_INTERNAL, "cannot start the HTTP client");
	}
	size_t n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	o->base_url = xstrndup(url, n);
	struct buf b = BUF_INIT;
	/* Only what is judged: an answer of a few dozen bytes an item. */
	buf_printf(&b, "%s/_bulk?filter_path=errors,items.*.status,items.*.error.type,items.*.error.reason",
		   o->base_url);
	o->bulk_url = buf_take(&b);
	o->index = index;
	o->latest = *latest ? latest : NULL;
	o->max_docs = eo->batch_docs > 0 ? (size_t)eo->batch_docs : 500;
	o->max_bytes = eo->batch_bytes > 0 ? eo->batch_bytes : 5u << 20;
	o->now = so->ecs.now ? so->ecs.now : time_now_us();
	o->backoff_ms = hcc.backoff_ms > 0 ? hcc.backoff_ms : 500;
	o->base.doc = es_doc;
	o->base.flush = es_flush;
	o->base.close = es_close;
	*out = &o->base;
	return 0;
}
