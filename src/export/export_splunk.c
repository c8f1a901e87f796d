/*
 * export_splunk.c — the CSV that Splunk Enterprise Security's threat-intelligence framework
 * reads, one file per kind (docs/exports.md has the columns and why): records read page by
 * page (constant memory), one row each, RFC 4180 (CRLF line ends, a field quoted when it holds
 * a comma, a quote, CR or LF, quotes doubled). No time of export appears: the same data gives
 * the same bytes.
 */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/timeutil.h"
#include "export/export.h"

#define PAGE 2000
#define FLUSH_AT (256 * 1024)

static const struct {
	const char *name;	/* the kind, as ?kind= and --kind take it */
	const char *column;	/* the field of ES's threat collection that holds the value */
	unsigned types;
} kinds[SPLUNK_KIND_COUNT] = {
	[SPLUNK_KIND_IP] = { "ip", "ip", 1u << IOC_IPV4 | 1u << IOC_IPV6 },
	[SPLUNK_KIND_DOMAIN] = { "domain", "domain", 1u << IOC_DOMAIN },
	[SPLUNK_KIND_FILE] = { "file", "file_hash", 1u << IOC_MD5 | 1u << IOC_SHA1 | 1u << IOC_SHA256 | 1u << IOC_SHA512 },
	[SPLUNK_KIND_URL] = { "url", "url", 1u << IOC_URL },
	[SPLUNK_KIND_EMAIL] = { "email", "src_user", 1u << IOC_EMAIL },
};

int splunk_kind_from_name(const char *s)
{
	for (int k = 0; s && k < SPLUNK_KIND_COUNT; k++)
		if (!strcmp(s, kinds[k].name))
			return k;
	return -1;
}

unsigned splunk_kind_types(enum splunk_kind k)
{
	return kinds[k].types;
}

struct run {
	const struct export_sink *sink;
	struct buf out;
	int64_t n, last_rid;
	bool failed;
};

static void emit(struct run *r)
{
	if (!r->failed && r->out.len && r->sink->write(r->sink->ctx, r->out.data, r->out.len) != 0)
		r->failed = true;
	buf_reset(&r->out);
}

/* One RFC 4180 field. */
static void field(struct buf *b, const char *s, size_t n)
{
	bool quote = false;
	for (size_t i = 0; i < n && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
	if (!quote) {
		buf_append(b, s, n);
		return;
	}
	buf_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			buf_putc(b, '"');
		buf_putc(b, s[i]);
	}
	buf_putc(b, '"');
}

static void cfield(struct buf *b, const char *s)
{
	if (s)
		field(b, s, strlen(s));
}

static int row(void *ctx, const struct ioc_record *rec)
{
	struct run *r = ctx;
	struct buf *b = &r->out;
	char t[40];
	r->last_rid = rec->rid;
	r->n++;
	/* description, what a notable event shows: the source's own words, else what and whence. */
	if (rec->context && *rec->context) {
		cfield(b, rec->context);
	} else {
		struct buf d = BUF_INIT;
		buf_printf(&d, "%s indicator from %s", ioc_type_name(rec->type), rec->feed ? rec->feed : "cairn");
		field(b, d.data, d.len);
		buf_cleanup(&d);
	}
	buf_putc(b, ',');
	cfield(b, rec->value);
	buf_printf(b, ",%d,", rec->score);
	cfield(b, rec->feed);
	buf_putc(b, ',');
	buf_puts(b, ioc_confidence_band(rec->score));
	buf_putc(b, ',');
	time_format_to(t, rec->first_seen, TIME_MSEC);
	buf_puts(b, t);
	buf_putc(b, ',');
	time_format_to(t, rec->last_seen, TIME_MSEC);
	buf_puts(b, t);
	buf_putc(b, ',');
	cfield(b, rec->tlp);
	buf_putc(b, ',');
	buf_puts(b, rec->id);
	buf_puts(b, "\r\n");
	if (b->len >= FLUSH_AT)
		emit(r);
	return r->failed ? ERR_IO : 0;
}

static int probe(void *ctx, const struct ioc_record *rec)
{
	(void)rec;
	*(bool *)ctx = true;
	return 0;
}

int export_splunk(struct store *s, const struct ioc_filter *f, enum splunk_kind kind, const struct export_sink *sink,
		  int64_t *count, int64_t *next_rid, struct err *e)
{
	struct run r = { .sink = sink };
	int rc = 0;
	buf_init(&r.out);
	buf_printf(&r.out, "description,%s,weight,threat_key,confidence,first_seen,last_seen,tlp,cairn_id\r\n",
		   kinds[kind].column);
	struct ioc_filter page = *f;
	page.types = f->types ? f->types & kinds[kind].types : kinds[kind].types;
	int64_t want = f->limit > 0 ? f->limit : INT64_MAX;
	/* types 0 would select every type: a filter that leaves none of the kind gives no row. */
	while (rc == 0 && page.types && r.n < want) {
		int64_t before = r.n;
		page.limit = want - before < PAGE ? want - before : PAGE;
		rc = store_ioc_list(s, &page, row, &r, e);
		if (rc == 0 && r.failed)
			rc = err_set(e, ERR_IO, "the output could not be written");
		if (rc || r.n - before < page.limit)
			break;
		page.before_rid = r.last_rid;
		page.offset = 0;
	}
	if (next_rid)
		*next_rid = 0;
	if (rc == 0 && next_rid && r.n == want && r.n > 0) {
		/* Stopped by the limit: is there a next page? */
		bool more = false;
		page.before_rid = r.last_rid;
		page.offset = 0;
		page.limit = 1;
		rc = store_ioc_list(s, &page, probe, &more, e);
		if (more)
			*next_rid = r.last_rid;
	}
	if (rc == 0) {
		emit(&r);
		if (r.failed)
			rc = err_set(e, ERR_IO, "the output could not be written");
	}
	*count = r.n;
	buf_cleanup(&r.out);
	return rc;
}
