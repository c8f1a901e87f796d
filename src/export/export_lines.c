/*
 * The record-at-a-time exports: the block lists (txt, hosts, RPZ) here, CEF/syslog and
 * OpenIOC in their own files, and the paging loop that streams any of them.
 */
#include <string.h>

#include "base/timeutil.h"
#include "export/escape.h"
#include "export/export_lines.h"

#define PAGE 2000
#define FLUSH_AT (256 * 1024)

static const char *const names[LINES_COUNT] = { "txt", "hosts", "rpz", "cef", "syslog", "openioc" };

int line_format_from_name(const char *name)
{
	for (int i = 0; name && i < LINES_COUNT; i++)
		if (!strcmp(name, names[i]))
			return i;
	return -1;
}

const char *line_format_name(enum line_format f)
{
	return f < LINES_COUNT ? names[f] : "";
}

const char *line_format_content_type(enum line_format f)
{
	return f == LINES_OPENIOC ? "application/xml; charset=utf-8" : "text/plain; charset=utf-8";
}

/*
 * The host of a canonical URL when it is a DNS name ("http://user@a.example:8080/x" →
 * "a.example"), else NULL (an IP literal, or bytes a DNS name cannot hold).
 */
static const char *url_host(const char *url, size_t *len)
{
	const char *p = strstr(url, "://");
	if (p == NULL)
		return NULL;
	p += 3;
	size_t end = strcspn(p, "/?#");
	const char *at = memchr(p, '@', end);
	while (at) {	/* the last '@' of the authority ends the user info */
		end -= (size_t)(at + 1 - p);
		p = at + 1;
		at = memchr(p, '@', end);
	}
	if (end && p[0] == '[')
		return NULL;	/* an IPv6 literal */
	const char *colon = memchr(p, ':', end);
	size_t n = colon ? (size_t)(colon - p) : end;
	if (n == 0 || n > 253)
		return NULL;
	bool letter = false;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if ((c >= 'a' && c <= 'z') || c == '-' || c == '_')
			letter = true;
		else if (!(c >= '0' && c <= '9') && c != '.')
			return NULL;
	}
	if (!letter || p[0] == '.' || p[n - 1] == '.' || memchr(p, '.', n) == NULL)
		return NULL;	/* an IPv4 literal, or not a usable name */
	*len = n;
	return p;
}

/* The DNS name a block list writes for r (a domain, or a URL's host), or NULL. */
static const char *dns_name(const struct ioc_record *r, size_t *len)
{
	if (r->type == IOC_DOMAIN) {
		*len = strlen(r->value);
		return r->value;
	}
	if (r->type == IOC_URL)
		return url_host(r->value, len);
	return NULL;
}

static bool rpz_record(struct buf *b, const struct ioc_record *r)
{
	size_t n;
	const char *name = dns_name(r, &n);
	if (name) {
		if (!rpz_name_fits(name, n, false))
			return false;
		buf_append(b, name, n);
		buf_puts(b, " CNAME .\n");
		/* A listed domain covers its subdomains; a URL's host only itself. */
		if (r->type == IOC_DOMAIN && rpz_name_fits(name, n, true)) {
			buf_puts(b, "*.");
			buf_append(b, name, n);
			buf_puts(b, " CNAME .\n");
		}
		return true;
	}
	if (r->type == IOC_IPV4 || r->type == IOC_IPV6) {
		if (!rpz_ip_trigger(b, r->type, r->value))
			return false;
		buf_puts(b, " CNAME .\n");
		return true;
	}
	return false;
}

static void rpz_header(const struct line_writer *w, struct buf *b)
{
	/* The serial: the store clock in Unix seconds, so it grows with every change to
	 * the indicators and is the same for every export of the same data. */
	uint32_t serial = (uint32_t)(w->clock / USEC_PER_SEC);
	buf_puts(b, "; cairn response policy zone (RPZ): listed domains, their subdomains and the\n"
		    "; hosts of listed URLs answer NXDOMAIN; so do answers holding a listed IP address.\n"
		    "; Owner names are relative: load the file under any policy zone name.\n"
		    "$TTL 300\n"
		    "@ IN SOA localhost. hostmaster.localhost. ");
	buf_put_u64(b, serial);
	buf_puts(b, " 3600 600 604800 300\n"
		    "@ IN NS localhost.\n");
}

void lines_begin(struct line_writer *w, enum line_format fmt, int64_t clock, const struct ioc_filter *f,
		 bool header, struct buf *b)
{
	memset(w, 0, sizeof(*w));
	w->fmt = fmt;
	w->clock = clock > 0 ? clock : 0;
	if (fmt == LINES_OPENIOC)
		openioc_begin(w, f, b);
	else if (header && fmt == LINES_RPZ)
		rpz_header(w, b);
	else if (header && fmt == LINES_HOSTS)
		buf_puts(b, "# cairn block list (hosts file): listed domains and the hosts of listed URLs,\n"
			    "# answered with 0.0.0.0\n");
}

void lines_record(struct line_writer *w, const struct ioc_record *r, struct buf *b)
{
	bool ok = true;
	switch (w->fmt) {
	case LINES_TXT:
		buf_puts(b, r->value);
		buf_putc(b, '\n');
		break;
	case LINES_HOSTS: {
		size_t n;
		const char *name = dns_name(r, &n);
		if ((ok = name != NULL)) {
			buf_puts(b, "0.0.0.0 ");
			buf_append(b, name, n);
			buf_putc(b, '\n');
		}
		break;
	}
	case LINES_RPZ: ok = rpz_record(b, r); break;
	case LINES_CEF: cef_record(w, b, r); break;
	case LINES_SYSLOG: syslog_record(w, b, r); break;
	case LINES_OPENIOC: ok = openioc_record(b, r); break;
	default: ok = false; break;
	}
	if (ok)
		w->written++;
	else
		w->omitted++;
}

void lines_end(struct line_writer *w, struct buf *b)
{
	if (w->fmt == LINES_OPENIOC)
		openioc_end(b);
}

void lines_cleanup(struct line_writer *w)
{
	buf_cleanup(&w->scratch);
}

/* ---- streaming ---- */

struct run {
	struct line_writer w;
	const struct export_sink *sink;
	struct buf b;
	int64_t n, last_rid;
	bool failed;
};

static void flush(struct run *r)
{
	if (!r->failed && r->b.len && r->sink->write(r->sink->ctx, r->b.data, r->b.len) != 0)
		r->failed = true;
	buf_reset(&r->b);
}

static int one(void *ctx, const struct ioc_record *rec)
{
	struct run *r = ctx;
	r->last_rid = rec->rid;
	r->n++;
	lines_record(&r->w, rec, &r->b);
	if (r->b.len >= FLUSH_AT)
		flush(r);
	return r->failed ? ERR_IO : 0;
}

static int probe(void *ctx, const struct ioc_record *rec)
{
	(void)rec;
	*(bool *)ctx = true;
	return 0;
}

int export_lines(struct store *s, const struct ioc_filter *f, enum line_format fmt,
		 const struct export_sink *sink, struct lines_result *res, struct err *e)
{
	struct run r = { .sink = sink };
	int rc = 0;
	buf_init(&r.b);
	lines_begin(&r.w, fmt, store_clock(s), f, true, &r.b);
	memset(res, 0, sizeof(*res));

	/* Pages by rid, newest first, like a cursor walk: constant memory. */
	int64_t want = f->limit > 0 ? f->limit : INT64_MAX;
	struct ioc_filter page = *f;
	while (rc == 0 && r.n < want) {
		int64_t before = r.n;
		page.limit = want - before < PAGE ? want - before : PAGE;
		rc = store_ioc_list(s, &page, one, &r, e);
		if (rc == ERR_IO && r.failed)
			rc = err_set(e, ERR_IO, "the output could not be written");
		if (rc || r.n - before < page.limit)
			break;
		page.before_rid = r.last_rid;
		page.offset = 0;
	}
	if (rc == 0 && r.n == want && r.n > 0) {
		/* Stopped by the limit: is there a next page? */
		bool more = false;
		page.before_rid = r.last_rid;
		page.offset = 0;
		page.limit = 1;
		rc = store_ioc_list(s, &page, probe, &more, e);
		if (more)
			res->next_rid = r.last_rid;
	}
	if (rc == 0) {
		lines_end(&r.w, &r.b);
		flush(&r);
		if (r.failed)
			rc = err_set(e, ERR_IO, "the output could not be written");
	}
	res->count = r.n;
	res->omitted = r.w.omitted;
	lines_cleanup(&r.w);
	buf_cleanup(&r.b);
	return rc;
}
