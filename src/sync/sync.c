/*
 * `cairn sync` (see sync.h).
 */
#include "sync/sync.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/crypto.h"
#include "base/buf.h"
#include "base/timeutil.h"
#include "base/xmalloc.h"
#include "imp/input.h"
#include "imp/jstream.h"
#include "net/taxii_client.h"
#include "sync/sync_out.h"

/* ---- state: the cursor of a source, saved atomically ---- */

static void state_path_of(const struct sync_opts *o, const char *source, const char *what, char *out, size_t cap)
{
	/* One cursor per source: its name hashed, so any URL or path makes a file name. */
	uint8_t h[32];
	char hex[17];
	crypto_sha256(source, strlen(source), h);
	crypto_hex(h, 8, hex);
	snprintf(out, cap, "%s/%s-%s", o->state_dir, what, hex);
}

static void state_path(const struct sync_opts *o, const char *what, char *out, size_t cap)
{
	state_path_of(o, o->from, what, out, cap);
}

static void state_read(const struct sync_opts *o, char *cursor, size_t cap)
{
	cursor[0] = '\0';
	if (o->state_dir == NULL)
		return;
	char path[4096];
	state_path(o, "cursor", path, sizeof(path));
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return;
	if (fgets(cursor, (int)cap, f) == NULL)
		cursor[0] = '\0';
	cursor[strcspn(cursor, "\r\n")] = '\0';
	fclose(f);
}

/* Replaces the state file `what` with text, atomically. */
static int state_write_file(const struct sync_opts *o, const char *source, const char *what, const char *text,
			    size_t n, struct err *e)
{
	if (o->state_dir == NULL || o->dry_run)
		return 0;
	char path[4096], tmp[4200];
	state_path_of(o, source, what, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return err_set(e, ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
	bool ok = true;
	for (size_t off = 0; ok && off < n;) {
		ssize_t w = write(fd, text + off, n - off);
		ok = w > 0;
		off += ok ? (size_t)w : 0;
	}
	ok = ok && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) != 0)
		return err_set(e, ERR_IO, "cannot save the cursor in %s: %s", path, strerror(errno));
	/* The rename itself must survive a crash: sync the folder. */
	int dfd = open(o->state_dir, O_RDONLY | O_DIRECTORY);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

static int state_write(const struct sync_opts *o, const char *cursor, struct err *e)
{
	char line[80];
	int n = snprintf(line, sizeof(line), "%s\n", cursor);
	return state_write_file(o, o->from, "cursor", line, (size_t)n, e);
}

/* ---- mapping ---- */

struct sync_run {
	const struct sync_opts *o;
	struct sync_stats *st;
	struct sync_output *out;
	FILE *dead;
	int64_t now;
	struct err *e;
};

static int on_doc(void *ctx, const struct ecs_doc *d)
{
	struct sync_run *r = ctx;
	int rc = r->out->doc(r->out, d, r->e);
	if (rc)
		return rc;
	r->st->written++;
	if (d->expires_at && d->expires_at <= r->now)
		r->st->expired++;
	return 0;
}

static int dead_letter(struct sync_run *r, const char *text, size_t len, const char *why)
{
	r->st->failed++;
	if (r->o->state_dir == NULL || r->o->dry_run)
		return 0;
	if (r->dead == NULL) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/dead-letter.ndjson", r->o->state_dir);
		r->dead = fopen(path, "a");
		if (r->dead == NULL)
			return err_set(r->e, ERR_IO, "cannot open %s: %s", path, strerror(errno));
	}
	json_t *o = json_object();
	json_object_set_new(o, "reason", json_string(why));
	json_object_set_new(o, "source", json_string(r->o->from));
	json_object_set_new(o, "object", json_stringn(text, len));
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	int rc = s && fprintf(r->dead, "%s\n", s) > 0 && fflush(r->dead) == 0
			 ? 0 : err_set(r->e, ERR_IO, "cannot write a dead letter");
	free(s);
	return rc;
}

int sync_dead_letter(struct sync_run *run, const char *text, size_t len, const char *why, struct err *e)
{
	(void)e;
	/* A delivered-then-refused document: it was counted as written. */
	run->st->written--;
	return dead_letter(run, text, len, why);
}

/* Maps one object, given as its exact text. */
static int map_one(struct sync_run *r, const char *text, size_t len)
{
	struct err me = { 0 };
	r->st->fetched++;
	if (r->out->object) {
		int rc = r->out->object(r->out, text, len, r->e);
		if (rc == 1)
			r->st->skipped++;
		else if (rc == 0)
			r->st->written++;
		return rc == 1 ? 0 : rc;
	}
	int rc = ecs_map_object(text, len, &r->o->ecs, on_doc, r, &me);
	if (rc == ERR_INVALID || rc == ERR_TOO_LARGE)
		return dead_letter(r, text, len, me.msg);
	return rc;
}

/* A stop was asked for (sync_opts.stop): the run ends here, its cursor unmoved. */
static bool stopped(struct sync_run *r)
{
	if (r->o->stop == NULL || !__atomic_load_n(r->o->stop, __ATOMIC_ACQUIRE))
		return false;
	err_set(r->e, ERR_IO, "stopped by a signal");
	return true;
}

/* ---- TAXII ---- */

static bool same_version(json_t *a, json_t *b)
{
	const char *ka[] = { "id", "modified", "created" };
	for (size_t i = 0; i < 3; i++) {
		const char *x = json_string_value(json_object_get(a, ka[i]));
		const char *y = json_string_value(json_object_get(b, ka[i]));
		if ((x == NULL) != (y == NULL) || (x && strcmp(x, y)))
			return false;
	}
	return true;
}

static int taxii_page(void *ctx, const struct taxii_page *p)
{
	struct sync_run *r = ctx;
	if (stopped(r))
		return ERR_IO;
	r->st->pages++;
	/* The objects' exact text: split the envelope as received, keeping the elements the
	 * client kept (it left out versions already seen in this run). */
	struct input *in = input_from_memory(p->body, p->body_len);
	struct jstream *js = jstream_new(in);
	size_t next = 0, n = json_array_size(p->objects);
	const char *elem;
	size_t len;
	int rc = 0, got;
	while (rc == 0 && next < n && (got = jstream_next(js, &elem, &len, r->e)) == 1) {
		json_t *o = json_loadb(elem, len, 0, NULL);
		if (o && same_version(o, json_array_get(p->objects, next))) {
			rc = map_one(r, elem, len);
			next++;
		}
		json_decref(o);
	}
	jstream_free(js);
	input_close(in);
	/* Anything the split could not match (it should not happen) is mapped from its parse. */
	for (; rc == 0 && next < n; next++) {
		char *s = json_dumps(json_array_get(p->objects, next), JSON_COMPACT);
		rc = map_one(r, s, strlen(s));
		free(s);
	}
	if (rc == 0)
		rc = r->out->flush(r->out, r->e);
	/* Only now, with the documents delivered, may the cursor move. */
	if (rc == 0 && n && p->date_added_last[0]) {
		rc = state_write(r->o, p->date_added_last, r->e);
		snprintf(r->st->cursor, sizeof(r->st->cursor), "%s", p->date_added_last);
	}
	return rc;
}

static int from_taxii(struct sync_run *r)
{
	struct hc_conf conf = r->o->http;
	conf.abort = r->o->stop;
	struct http_client *hc = http_client_new(&conf);
	if (hc == NULL)
		return err_set(r->e, ERR_INTERNAL, "cannot start the HTTP client");
	char cursor[64];
	state_read(r->o, cursor, sizeof(cursor));
	snprintf(r->st->cursor, sizeof(r->st->cursor), "%s", cursor);
	struct taxii_poll p = {
		.collection_url = r->o->from, .added_after = cursor[0] ? cursor : NULL,
		.limit = r->o->page_limit > 0 ? r->o->page_limit : 1000, .max_pages = r->o->max_pages,
	};
	struct taxii_poll_result res;
	int rc = taxii_poll(hc, &p, taxii_page, r, &res, r->e);
	http_client_free(hc);
	return rc;
}

/* ---- cairn's REST API ---- */

/*
 * GET BASE/api/v1/iocs/stix?format=objects&include_expired=true&since=S&limit=N, following
 * X-Next-Cursor to the last page. S is the previous run's high-water mark (the server's Date
 * when that run began) minus REST_OVERLAP_US, for records whose update committed late; the
 * objects of the overlap already delivered — their (id, modified) kept in the state — are
 * left out. The state moves only after the run's last page is delivered: pages come newest
 * first, so a run cut short starts again from the same mark.
 */
#define REST_OVERLAP_US (10 * 60 * USEC_PER_SEC)
#define REST_SEEN_MAX 200000
#define REST_KEY_MAX 200

struct rest_seen {
	char **keys;	/* "id modified" */
	size_t n;
};

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void seen_free(struct rest_seen *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->keys[i]);
	free(s->keys);
	s->keys = NULL;
	s->n = 0;
}

/* The state: the mark (µs, 0 = none) and the versions already delivered, sorted. */
static int64_t rest_state_read(const struct sync_opts *o, const char *base, struct rest_seen *seen)
{
	if (o->state_dir == NULL)
		return 0;
	char path[4096], line[REST_KEY_MAX + 8];
	state_path_of(o, base, "rest", path, sizeof(path));
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	int64_t mark = 0;
	struct err e = { 0 };
	if (fgets(line, sizeof(line), f) == NULL ||
	    time_parse_rfc3339(line, strcspn(line, "\r\n"), &mark, &e) != 0)
		mark = 0;
	while (mark && seen->n < REST_SEEN_MAX && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		seen->keys = xrealloc(seen->keys, (seen->n + 1) * sizeof(*seen->keys));
		seen->keys[seen->n++] = xstrdup(line);
	}
	fclose(f);
	qsort(seen->keys, seen->n, sizeof(*seen->keys), key_cmp);
	return mark;
}

/* BASE of a cairn URL: http(s)://HOST:PORT[/prefix], without /api/v1/iocs[/stix] and '/'. */
static void rest_base(const char *from, struct buf *b)
{
	buf_puts(b, from);
	while (b->len && b->data[b->len - 1] == '/')
		b->data[--b->len] = '\0';
	const char *tails[] = { "/api/v1/iocs/stix", "/api/v1/iocs" };
	for (size_t i = 0; i < 2; i++) {
		size_t tl = strlen(tails[i]);
		if (b->len >= tl && !strcmp(b->data + b->len - tl, tails[i])) {
			b->len -= tl;
			b->data[b->len] = '\0';
			break;
		}
	}
}

/* An HTTP Date ("Sun, 06 Nov 1994 08:49:37 GMT") in µs, or 0. */
static int64_t http_date_us(const char *s)
{
	struct tm tm = { 0 };
	const char *end = s ? strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm) : NULL;
	if (end == NULL)
		return 0;
	time_t t = timegm(&tm);
	return t > 0 ? (int64_t)t * USEC_PER_SEC : 0;
}

struct rest_run {
	struct sync_run *r;
	struct rest_seen old;		/* delivered in the overlap by earlier runs */
	struct buf next_seen;		/* this run's versions within the next overlap */
	size_t next_n;
	int64_t keep_after;		/* versions modified after this go into next_seen */
};

/* One object of a page: left out when an earlier run delivered this version. */
static int rest_object(struct rest_run *rr, const char *text, size_t len)
{
	json_t *o = json_loadb(text, len, 0, NULL);
	const char *id = json_string_value(json_object_get(o, "id"));
	const char *mod = json_string_value(json_object_get(o, "modified"));
	char key[REST_KEY_MAX + 1];
	bool have = id && mod && strlen(id) + strlen(mod) + 1 <= REST_KEY_MAX;
	int64_t m = 0;
	struct err me = { 0 };
	bool recent = have && time_parse_rfc3339_any(mod, strlen(mod), &m, &me) == 0 && m >= rr->keep_after;
	if (have)
		snprintf(key, sizeof(key), "%s %s", id, mod);
	json_decref(o);
	if (have) {
		/* Delivered now or before, it is left out by the next run while in its overlap. */
		if (recent && rr->next_n < REST_SEEN_MAX) {
			buf_printf(&rr->next_seen, "%s\n", key);
			rr->next_n++;
		}
		const char *kp = key;
		if (rr->old.n && bsearch(&kp, rr->old.keys, rr->old.n, sizeof(*rr->old.keys), key_cmp))
			return 0;
	}
	return map_one(rr->r, text, len);
}

static int rest_page(struct rest_run *rr, const struct hc_response *rs)
{
	struct sync_run *r = rr->r;
	struct input *in = input_from_memory(rs->body.data, rs->body.len);
	struct jstream *js = jstream_new(in);
	const char *elem;
	size_t len;
	int rc = 0, got;
	while (rc == 0 && (got = jstream_next(js, &elem, &len, r->e)) == 1)
		rc = rest_object(rr, elem, len);
	if (rc == 0 && got < 0)
		rc = got;
	jstream_free(js);
	input_close(in);
	return rc == 0 ? r->out->flush(r->out, r->e) : rc;
}

static int from_rest(struct sync_run *r)
{
	const struct sync_opts *o = r->o;
	struct hc_conf conf = o->http;
	conf.abort = o->stop;
	struct http_client *hc = http_client_new(&conf);
	if (hc == NULL)
		return err_set(r->e, ERR_INTERNAL, "cannot start the HTTP client");
	struct rest_run rr = { .r = r };
	buf_init(&rr.next_seen);
	/* The state is the server's, whichever form of its URL is given. */
	struct buf base = BUF_INIT, url = BUF_INIT;
	rest_base(o->from, &base);
	int64_t mark = rest_state_read(o, base.data, &rr.old);
	char since[40] = "", cursor[40] = "";
	if (mark) {
		time_format_to(since, mark - REST_OVERLAP_US, TIME_USEC);
		snprintf(r->st->cursor, sizeof(r->st->cursor), "since %s", since);
	}
	int64_t new_mark = 0, limit = o->page_limit > 0 ? o->page_limit : 1000;
	int max_pages = o->max_pages > 0 ? o->max_pages : 10000, rc = 0;
	for (int page = 0; rc == 0; page++) {
		if (stopped(r)) {
			rc = ERR_IO;
			break;
		}
		if (page == max_pages) {
			rc = err_set(r->e, ERR_TOO_LARGE, "more than %d pages: raise --max-pages", max_pages);
			break;
		}
		buf_reset(&url);
		buf_printf(&url, "%s/api/v1/iocs/stix?format=objects&include_expired=true&include_identity=false"
			   "&include_markings=false&limit=%lld", base.data, (long long)limit);
		if (since[0])
			buf_printf(&url, "&since=%s", since);
		if (cursor[0])
			buf_printf(&url, "&cursor=%s", cursor);
		struct hc_request rq = { .url = url.data };
		struct hc_response rs;
		rc = http_client_do(hc, &rq, &rs, r->e);
		if (rc == 0 && rs.status != 200) {
			json_t *j = json_loadb(rs.body.data, rs.body.len, 0, NULL);
			const char *msg = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
			if (msg == NULL)
				msg = json_string_value(json_object_get(j, "message"));
			rc = err_set(r->e, ERR_IO, "%s: HTTP %ld%s%s", url.data, rs.status, msg ? ": " : "", msg ? msg : "");
			json_decref(j);
		}
		if (rc == 0) {
			r->st->pages++;
			if (page == 0) {
				/* The mark of this run: the server's clock when it began. */
				new_mark = http_date_us(hc_header(&rs, "date"));
				if (new_mark == 0)
					new_mark = r->now;
				rr.keep_after = new_mark - REST_OVERLAP_US;
			}
			rc = rest_page(&rr, &rs);
			const char *next = hc_header(&rs, "x-next-cursor");
			if (rc == 0 && (next == NULL || strlen(next) >= sizeof(cursor) || !strcmp(next, cursor)))
				cursor[0] = '\0';
			else if (rc == 0)
				snprintf(cursor, sizeof(cursor), "%s", next);
		}
		hc_response_cleanup(&rs);
		if (rc || cursor[0] == '\0')
			break;
	}
	/* Every page delivered: the mark moves, with the versions to leave out next time. */
	if (rc == 0 && new_mark) {
		struct buf state = BUF_INIT;
		time_format(&state, new_mark, TIME_USEC);
		buf_putc(&state, '\n');
		buf_append(&state, rr.next_seen.data, rr.next_seen.len);
		rc = state_write_file(o, base.data, "rest", state.data, state.len, r->e);
		buf_cleanup(&state);
		char m[40];
		time_format_to(m, new_mark, TIME_USEC);
		snprintf(r->st->cursor, sizeof(r->st->cursor), "since %s", m);
	}
	buf_cleanup(&url);
	buf_cleanup(&base);
	buf_cleanup(&rr.next_seen);
	seen_free(&rr.old);
	http_client_free(hc);
	return rc;
}

/* ---- files ---- */

static int from_file(struct sync_run *r, const char *path)
{
	if (stopped(r))
		return ERR_IO;
	struct input *in = input_open(path, r->e);
	if (in == NULL)
		return ERR_IO;
	size_t pl = strlen(path);
	bool ndjson = (pl > 7 && !strcmp(path + pl - 7, ".ndjson")) || (pl > 6 && !strcmp(path + pl - 6, ".jsonl"));
	struct jstream *js = jstream_new(in);
	if (ndjson)
		jstream_lines(js);
	const char *elem;
	size_t len;
	int rc = 0, got;
	/* A bundle's objects, or one object a line: jstream hands out each one's text. */
	while (rc == 0 && (got = jstream_next(js, &elem, &len, r->e)) == 1)
		rc = map_one(r, elem, len);
	if (rc == 0 && got < 0)
		rc = got;
	jstream_free(js);
	input_close(in);
	return rc == 0 ? r->out->flush(r->out, r->e) : rc;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int from_folder(struct sync_run *r, const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return err_set(r->e, ERR_IO, "cannot read %s: %s", dir, strerror(errno));
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		const char *x = strrchr(de->d_name, '.');
		if (de->d_name[0] == '.' || x == NULL ||
		    (strcmp(x, ".json") && strcmp(x, ".ndjson") && strcmp(x, ".jsonl") && strcmp(x, ".gz")))
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);	/* a stable order, run after run */
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (rc == 0)
			rc = from_file(r, path);
		free(names[i]);
	}
	free(names);
	return rc;
}

int sync_run_once(const struct sync_opts *o, struct sync_stats *st, struct err *e)
{
	memset(st, 0, sizeof(*st));
	struct sync_run r = { .o = o, .st = st, .now = time_now_us(), .e = e };
	if (o->state_dir && !o->dry_run && mkdir(o->state_dir, 0700) != 0 && errno != EEXIST)
		return err_set(e, ERR_IO, "cannot create the state folder %s: %s", o->state_dir, strerror(errno));
	/* --dry-run prints what would be sent: the ECS documents, or Splunk's events (its output
	 * prints them itself). */
	int rc = !strncmp(o->to, "splunk+", 7) ? sync_output_splunk(o, &r.out, e)
		 : o->dry_run ? sync_output_file(o, &r.out, e)
		 : !strncmp(o->to, "sentinel://", 11) ? sync_output_sentinel(o, &r.out, e)
		 : sync_output_is_es(o->to) ? sync_output_es(o, &r.out, e)
		 : sync_output_file(o, &r.out, e);
	if (rc)
		return rc;
	r.out->run = &r;
	struct stat sb;
	if (!strncmp(o->from, "http://", 7) || !strncmp(o->from, "https://", 8)) {
		rc = strstr(o->from, "/collections/") ? from_taxii(&r) : from_rest(&r);
	} else if (stat(o->from, &sb) != 0) {
		rc = err_set(e, ERR_IO, "--from %s: %s", o->from, strerror(errno));
	} else if (S_ISDIR(sb.st_mode)) {
		rc = from_folder(&r, o->from);
	} else {
		rc = from_file(&r, o->from);
	}
	r.out->close(r.out);
	if (r.dead)
		fclose(r.dead);
	return rc;
}
