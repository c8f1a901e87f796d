/*
 * export_misp.c — one MISP event of the selected records, ready for a MISP /events/add
 * (docs/misp.md has the layout and why).
 *
 * Streaming: the attributes are written as the records are read, a page at a time. What
 * depends on all of them (the event's TLP, threat level, date and time stamp, and the
 * ATT&CK records, which MISP carries as event tags) is written after the Attribute array;
 * JSON objects have no key order, and MISP and PyMISP read the event whole. The ATT&CK
 * tags come from a second, narrower walk over the same rid range, so nothing grows with
 * the export.
 *
 * Ids: the event uuid is a UUIDv5 of the selection (the filters that choose records, not
 * the time window or the paging), so exporting the same selection again gives the same
 * event, and MISP updates it (/events/edit) instead of holding copies. Each attribute's
 * uuid is a UUIDv5 of the record id under the event uuid: stable across exports of one
 * selection, distinct across selections, as MISP wants attribute uuids unique.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/crypto.h"
#include "base/timeutil.h"
#include "base/xmalloc.h"
#include "export/export.h"
#include "json/jw.h"

#define PAGE 2000
/* The namespace of event uuids (UUIDv5 of the selection). Never change it: MISP keeps them. */
#define EVENT_NAMESPACE "8a5f0c2e-3b71-5d9a-b6e4-1f2c7d8e9a04"
/* ATT&CK names known to the store, looked up for techniques on attributes; beyond this
 * many the rest go out as ids. */
#define NAMES_MAX 4096
#define NAME_SCAN_MAX 20000

static const char *const tlp_names[5] = { "clear", "green", "amber", "amber+strict", "red" };

struct name {
	char id[16];
	char *value;	/* "Name - T1234" */
};

struct run {
	const struct misp_export_opts *o;
	const struct export_sink *sink;
	struct buf b;
	char event_uuid[UUID_STR_LEN + 1];
	struct name *names;
	size_t nnames;
	int tlp_max;		/* index in tlp_names, -1 none */
	int score_max;		/* -1 none */
	int64_t modified_max;	/* µs */
	int64_t n, attack, last_rid, first_rid;
	int64_t range_low, cursor, page_rows;	/* the ATT&CK walk */
	bool first, failed;
};

static void emit(struct run *r)
{
	if (!r->failed && r->b.len && r->sink->write(r->sink->ctx, r->b.data, r->b.len) != 0)
		r->failed = true;
	buf_reset(&r->b);
}

static int tlp_index(const char *t)
{
	for (int i = 0; i < 5; i++)
		if (t && !strcmp(t, tlp_names[i]))
			return i;
	return 0;	/* a record without one is clear */
}

/* ---- ATT&CK names ---- */

/* A mitre-attack record's context names the technique when it is a MISP galaxy cluster
 * value "Name - ID" for its own id (as `cairn import --format misp` keeps them). */
static bool cluster_value(const struct ioc_record *rec)
{
	const char *c = rec->context;
	size_t n = c ? strlen(c) : 0, idn = strlen(rec->value);
	return n > idn + 3 && n <= 128 && !strcmp(c + n - idn, rec->value) && !memcmp(c + n - idn - 3, " - ", 3) &&
	       !strchr(c, '"') && !strchr(c, '\n');
}

static int collect_name(void *ctx, const struct ioc_record *rec)
{
	struct run *r = ctx;
	r->last_rid = rec->rid;
	if (r->nnames < NAMES_MAX && cluster_value(rec) && strlen(rec->value) < 16) {
		struct name *nm = &r->names[r->nnames++];
		snprintf(nm->id, sizeof(nm->id), "%s", rec->value);
		nm->value = xstrdup(rec->context);
	}
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct name *)a)->id, ((const struct name *)b)->id);
}

static int load_names(struct run *r, struct store *s, struct err *e)
{
	struct ioc_filter f;
	memset(&f, 0, sizeof(f));
	f.types = 1u << IOC_MITRE;
	f.min_score = -1;
	f.include_expired = true;
	int64_t seen = 0;
	r->names = xcalloc(NAMES_MAX, sizeof(*r->names));
	while (seen < NAME_SCAN_MAX) {
		int64_t before = r->last_rid;
		f.limit = PAGE;
		int rc = store_ioc_list(s, &f, collect_name, r, e);
		if (rc)
			return rc;
		if (r->last_rid == before)
			break;
		seen += PAGE;
		f.before_rid = r->last_rid;
	}
	r->last_rid = 0;
	qsort(r->names, r->nnames, sizeof(*r->names), name_cmp);
	return 0;
}

static const char *name_of(const struct run *r, const char *id, size_t n)
{
	struct name key;
	if (n >= sizeof(key.id))
		return NULL;
	memcpy(key.id, id, n);
	key.id[n] = '\0';
	const struct name *nm = bsearch(&key, r->names, r->nnames, sizeof(*r->names), name_cmp);
	return nm ? nm->value : NULL;
}

/* The MISP tag of an ATT&CK id: the galaxy cluster when its name is known, else the id in
 * the same galaxy (technique) or cairn's mitre-attack:tactic form (MISP has no tactic galaxy). */
static void attack_tag(struct jw *w, const char *id, size_t n, const char *value)
{
	char tag[200];
	bool tactic = n > 1 && id[1] == 'A';
	if (value)
		snprintf(tag, sizeof(tag), "%s=\"%s\"", tactic ? "mitre-attack:tactic" : "misp-galaxy:mitre-attack-pattern",
			 value);
	else
		snprintf(tag, sizeof(tag), "%s=\"%.*s\"", tactic ? "mitre-attack:tactic" : "misp-galaxy:mitre-attack-pattern",
			 (int)n, id);
	jw_obj(w);
	jw_kstr(w, "name", tag);
	jw_end(w);
}

/* ---- attributes ---- */

static const char *misp_type(const struct run *r, enum ioc_type t)
{
	switch (t) {
	case IOC_IPV4:
	case IOC_IPV6: return r->o->ip_src ? "ip-src" : "ip-dst";
	case IOC_DOMAIN: return "domain";
	case IOC_URL: return "url";
	case IOC_MD5: return "md5";
	case IOC_SHA1: return "sha1";
	case IOC_SHA256: return "sha256";
	case IOC_SHA512: return "sha512";
	case IOC_EMAIL: return "email-src";
	case IOC_CVE: return "vulnerability";
	default: return NULL;
	}
}

static const char *misp_category(enum ioc_type t)
{
	switch (t) {
	case IOC_MD5:
	case IOC_SHA1:
	case IOC_SHA256:
	case IOC_SHA512:
	case IOC_EMAIL: return "Payload delivery";
	case IOC_CVE: return "External analysis";
	default: return "Network activity";
	}
}

/* Each string of a JSON array of strings (as the store keeps tags), as written: cb gets the
 * literal with its quotes, and the decoded-enough bytes between them. */
static void each_string(const char *list, void (*cb)(struct jw *, const char *, size_t, void *), struct jw *w,
			void *ctx)
{
	const char *p = list;
	while (p && (p = strchr(p, '"')) != NULL) {
		const char *q = p + 1;
		while (*q && *q != '"')
			q += *q == '\\' && q[1] ? 2 : 1;
		if (*q != '"')
			break;
		cb(w, p, (size_t)(q - p + 1), ctx);
		p = q + 1;
	}
}

static void tag_literal(struct jw *w, const char *lit, size_t n, void *ctx)
{
	(void)ctx;
	jw_obj(w);
	jw_key(w, "name");
	jw_raw(w, lit, n);
	jw_end(w);
}

static void technique_tag(struct jw *w, const char *lit, size_t n, void *ctx)
{
	const struct run *r = ctx;
	if (n < 7 || n > 14 || memchr(lit + 1, '\\', n - 2))
		return;	/* ids only: T1234, T1234.001, TA0001 */
	attack_tag(w, lit + 1, n - 2, name_of(r, lit + 1, n - 2));
}

static int one(void *ctx, const struct ioc_record *rec)
{
	struct run *r = ctx;
	r->last_rid = rec->rid;
	if (r->first_rid == 0)
		r->first_rid = rec->rid;
	const char *tlp = r->o->tlp ? r->o->tlp : rec->tlp;
	int ti = tlp_index(tlp);
	if (ti > r->tlp_max)
		r->tlp_max = ti;
	if (rec->score > r->score_max)
		r->score_max = rec->score;
	if (rec->modified > r->modified_max)
		r->modified_max = rec->modified;
	r->n++;
	if (rec->type == IOC_MITRE) {
		r->attack++;	/* an event tag, written after the attributes */
		return 0;
	}
	struct jw w;
	jw_init(&w, &r->b);
	if (!r->first)
		buf_putc(&r->b, ',');
	r->first = false;
	char uuid[UUID_STR_LEN + 1];
	uuid_v5(r->event_uuid, rec->id, strlen(rec->id), uuid);
	jw_obj(&w);
	jw_kstr(&w, "uuid", uuid);
	jw_kstr(&w, "type", misp_type(r, rec->type));
	jw_kstr(&w, "category", misp_category(rec->type));
	jw_kstr(&w, "value", rec->value);
	/* For detection: medium and high confidence, not revoked; a CVE is never an IDS match,
	 * and MISP's own default keeps vulnerability attributes out of IDS exports. */
	jw_kbool(&w, "to_ids", rec->type != IOC_CVE && !rec->revoked && rec->score >= 30);
	jw_kstr(&w, "distribution", "5");
	jw_kstr(&w, "comment", rec->context ? rec->context : "");
	jw_ktime(&w, "first_seen", rec->first_seen);
	jw_ktime(&w, "last_seen", rec->last_seen > rec->first_seen ? rec->last_seen : rec->first_seen);
	char ts[24];
	snprintf(ts, sizeof(ts), "%lld", (long long)(rec->modified / USEC_PER_SEC));
	jw_kstr(&w, "timestamp", ts);
	jw_key(&w, "Tag");
	jw_arr(&w);
	char tlp_tag[32];
	snprintf(tlp_tag, sizeof(tlp_tag), "tlp:%s", tlp_names[ti]);
	jw_obj(&w);
	jw_kstr(&w, "name", tlp_tag);
	jw_end(&w);
	each_string(rec->tags, tag_literal, &w, r);
	each_string(rec->techniques, technique_tag, &w, r);
	jw_end(&w);
	jw_end(&w);
	if (r->b.len >= 256 * 1024)
		emit(r);
	return r->failed ? ERR_IO : 0;
}

/* The second walk: each ATT&CK record of the exported range as an event tag. */
static int one_attack(void *ctx, const struct ioc_record *rec)
{
	struct run *r = ctx;
	r->last_rid = rec->rid;
	struct jw w;
	jw_init(&w, &r->b);
	buf_putc(&r->b, ',');
	attack_tag(&w, rec->value, strlen(rec->value), cluster_value(rec) ? rec->context : NULL);
	if (r->b.len >= 256 * 1024)
		emit(r);
	return r->failed ? ERR_IO : 0;
}

/* ---- the event ---- */

/* The selection in words, for the event's info and (with the options) its uuid. The time
 * window and the paging are left out: they choose a slice of the same event. */
static void selection(struct buf *b, const struct ioc_filter *f)
{
	static const char *const bands[4] = { "none", "low", "medium", "high" };
	size_t start = b->len;
#define SEP() buf_puts(b, b->len == start ? "" : "; ")
	if (f->types) {
		SEP();
		buf_puts(b, "type=");
		bool first = true;
		for (int t = 1; t < IOC_TYPE_COUNT; t++)
			if (f->types & (1u << t)) {
				buf_printf(b, "%s%s", first ? "" : ",", ioc_type_name((enum ioc_type)t));
				first = false;
			}
	}
	if (f->bands) {
		SEP();
		buf_puts(b, "confidence=");
		bool first = true;
		for (int i = 3; i >= 0; i--)
			if (f->bands & (1u << i)) {
				buf_printf(b, "%s%s", first ? "" : ",", bands[i]);
				first = false;
			}
	}
	if (f->min_score >= 0) {
		SEP();
		buf_printf(b, "min_score=%d", f->min_score);
	}
	const char *const names[4] = { "category", "industry", "tag", "source" };
	const char *const vals[4] = { f->category, f->industry, f->tag, f->source };
	for (int i = 0; i < 4; i++)
		if (vals[i]) {
			SEP();
			buf_printf(b, "%s=%s", names[i], vals[i]);
		}
	if (f->include_expired) {
		SEP();
		buf_puts(b, "include_expired");
	}
#undef SEP
}

/* Only the ATT&CK records of the range the first walk covered, [range_low, first_rid]. */
static int one_attack_in_range(void *ctx, const struct ioc_record *rec)
{
	struct run *r = ctx;
	r->cursor = rec->rid;
	r->page_rows++;
	return rec->rid >= r->range_low ? one_attack(ctx, rec) : 0;
}

int export_misp(struct store *s, const struct ioc_filter *f, const struct misp_export_opts *o,
		const struct export_sink *sink, int64_t *count, struct err *e)
{
	struct run r = { .o = o, .sink = sink, .first = true, .tlp_max = -1, .score_max = -1 };
	struct buf sel = BUF_INIT, ident = BUF_INIT;
	int rc;
	buf_init(&r.b);
	selection(&sel, f);
	buf_printf(&ident, "cairn-misp|%s|ip=%s|tlp=%s", sel.len ? sel.data : "", o->ip_src ? "src" : "dst",
		   o->tlp ? o->tlp : "");
	uuid_v5(EVENT_NAMESPACE, ident.data, ident.len, r.event_uuid);
	if ((rc = load_names(&r, s, e)) != 0)
		goto out;

	buf_puts(&r.b, "{\"Event\":{");
	buf_printf(&r.b, "\"uuid\":\"%s\",", r.event_uuid);
	buf_puts(&r.b, "\"info\":");
	struct buf info = BUF_INIT;
	buf_puts(&info, "cairn indicators");
	if (sel.len)
		buf_printf(&info, " (%s)", sel.data);
	buf_putc(&r.b, '"');
	json_escape(&r.b, info.data, info.len);
	buf_putc(&r.b, '"');
	buf_cleanup(&info);
	buf_puts(&r.b, ",\"analysis\":\"2\",\"published\":false,\"Attribute\":[");

	/* Pages by rid, newest first, like a cursor walk: constant memory. */
	int64_t want = f->limit > 0 ? f->limit : INT64_MAX;
	struct ioc_filter page = *f;
	while (r.n < want) {
		int64_t before = r.n;
		page.limit = want - before < PAGE ? want - before : PAGE;
		if ((rc = store_ioc_list(s, &page, one, &r, e)) == 0 && r.failed)
			rc = err_set(e, ERR_IO, "the output could not be written");
		if (rc)
			goto out;
		if (r.n - before < page.limit)
			break;
		page.before_rid = r.last_rid;
		page.offset = 0;
	}
	buf_puts(&r.b, "],\"Tag\":[");
	int tlp = o->tlp ? tlp_index(o->tlp) : r.tlp_max < 0 ? 0 : r.tlp_max;
	buf_printf(&r.b, "{\"name\":\"tlp:%s\"}", tlp_names[tlp]);
	if (r.attack > 0) {
		/* The ATT&CK records among those exported: the same filters narrowed to the type,
		 * over the rid range the first walk covered. */
		struct ioc_filter af = *f;
		af.types = 1u << IOC_MITRE;
		af.offset = 0;
		af.limit = PAGE;
		r.range_low = r.last_rid;
		r.cursor = r.first_rid + 1;
		for (;;) {
			af.before_rid = r.cursor;
			r.page_rows = 0;
			if ((rc = store_ioc_list(s, &af, one_attack_in_range, &r, e)) == 0 && r.failed)
				rc = err_set(e, ERR_IO, "the output could not be written");
			if (rc)
				goto out;
			if (r.page_rows < PAGE || r.cursor <= r.range_low)
				break;
		}
	}
	buf_puts(&r.b, "]");
	static const char *const levels[] = { "4", "3", "2", "1" };	/* undefined, low, medium, high */
	int level = r.score_max >= 70 ? 3 : r.score_max >= 30 ? 2 : r.score_max >= 1 ? 1 : 0;
	static const char *const distribution[5] = { "3", "1", "0", "0", "0" };
	buf_printf(&r.b, ",\"threat_level_id\":\"%s\",\"distribution\":\"%s\"", levels[level], distribution[tlp]);
	if (r.modified_max > 0) {
		char when[40];
		time_format_to(when, r.modified_max, TIME_SEC);
		buf_printf(&r.b, ",\"date\":\"%.10s\",\"timestamp\":\"%lld\"", when,
			   (long long)(r.modified_max / USEC_PER_SEC));
	}
	buf_puts(&r.b, "}}\n");
	emit(&r);
	if (r.failed)
		rc = err_set(e, ERR_IO, "the output could not be written");
out:
	*count = r.n;
	for (size_t i = 0; i < r.nnames; i++)
		free(r.names[i].value);
	free(r.names);
	buf_cleanup(&sel);
	buf_cleanup(&ident);
	buf_cleanup(&r.b);
	return rc;
}
