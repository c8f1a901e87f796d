/*
 * OpenIOC 1.0 (Mandiant's schema, namespace http://schemas.mandiant.com/2010/ioc): one
 * document whose definition is an OR of one IndicatorItem per indicator. The Context
 * terms are Mandiant's standard ones; the table is in docs/exports.md.
 */
#include <stdio.h>
#include <string.h>

#include "base/crypto.h"
#include "base/timeutil.h"
#include "export/escape.h"
#include "export/export_lines.h"

/* The namespace of OpenIOC document ids (UUIDv5 of the filter and the store clock). */
#define OPENIOC_NAMESPACE "8b4f3d2a-61c7-5e09-b2d4-7a1c9e3f5b60"

struct term {
	const char *document, *search, *content_type;
};

/* The Context of a type, or NULL where OpenIOC 1.0 has no term for it. */
static const struct term *term_of(const struct ioc_record *r)
{
	static const struct term ip = { "PortItem", "PortItem/remoteIP", "IP" },
		dns = { "Network", "Network/DNS", "string" },
		url = { "UrlHistoryItem", "UrlHistoryItem/URL", "string" },
		md5 = { "FileItem", "FileItem/Md5sum", "md5" },
		sha1 = { "FileItem", "FileItem/Sha1sum", "sha1" },
		sha256 = { "FileItem", "FileItem/Sha256sum", "sha256" },
		email = { "Email", "Email/From", "string" };
	switch (r->type) {
	case IOC_IPV4:
	case IOC_IPV6:
		/* remoteIP matches one address; a CIDR block has no exact 1.0 condition. */
		return strchr(r->value, '/') ? NULL : &ip;
	case IOC_DOMAIN: return &dns;
	case IOC_URL: return &url;
	case IOC_MD5: return &md5;
	case IOC_SHA1: return &sha1;
	case IOC_SHA256: return &sha256;
	case IOC_EMAIL: return &email;
	default: return NULL;	/* sha512, CVE, ATT&CK: no OpenIOC 1.0 term */
	}
}

void openioc_begin(struct line_writer *w, const struct ioc_filter *f, struct buf *b)
{
	/* The id: the same filter over the same data gives the same document. */
	char name[1024], when[40], or_id[UUID_STR_LEN + 1];
	int n = snprintf(name, sizeof(name),
			 "types=%x|bands=%x|min=%d|cat=%s|ind=%s|tag=%s|src=%s|since=%lld|until=%lld|exp=%d|"
			 "limit=%lld|offset=%lld|before=%lld|clock=%lld",
			 f->types, f->bands, f->min_score, f->category ? f->category : "",
			 f->industry ? f->industry : "", f->tag ? f->tag : "", f->source ? f->source : "",
			 (long long)f->since, (long long)f->until, f->include_expired, (long long)f->limit,
			 (long long)f->offset, (long long)f->before_rid, (long long)w->clock);
	if (n < 0 || (size_t)n >= sizeof(name))
		n = (int)sizeof(name) - 1;	/* the filter strings are capped well below this */
	uuid_v5(OPENIOC_NAMESPACE, name, (size_t)n, w->doc_id);
	snprintf(name, sizeof(name), "%s/definition", w->doc_id);
	uuid_v5(OPENIOC_NAMESPACE, name, strlen(name), or_id);
	time_format_to(when, w->clock, TIME_SEC);

	buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		    "<ioc xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
		    " xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" id=\"");
	buf_puts(b, w->doc_id);
	buf_puts(b, "\" last-modified=\"");
	buf_puts(b, when);
	buf_puts(b, "\" xmlns=\"http://schemas.mandiant.com/2010/ioc\">\n"
		    "  <short_description>cairn indicators</short_description>\n"
		    "  <description>Indicators of compromise exported by cairn; any one of them"
		    " matching is a hit.</description>\n"
		    "  <keywords />\n"
		    "  <authored_by>cairn</authored_by>\n"
		    "  <authored_date>");
	buf_puts(b, when);
	buf_puts(b, "</authored_date>\n"
		    "  <links />\n"
		    "  <definition>\n"
		    "    <Indicator operator=\"OR\" id=\"");
	buf_puts(b, or_id);
	buf_puts(b, "\">\n");
}

bool openioc_record(struct buf *b, const struct ioc_record *r)
{
	const struct term *t = term_of(r);
	if (t == NULL)
		return false;
	buf_puts(b, "      <IndicatorItem id=\"");
	buf_puts(b, r->id);
	buf_puts(b, "\" condition=\"is\">\n        <Context document=\"");
	buf_puts(b, t->document);
	buf_puts(b, "\" search=\"");
	buf_puts(b, t->search);
	buf_puts(b, "\" type=\"mir\" />\n        <Content type=\"");
	buf_puts(b, t->content_type);
	buf_puts(b, "\">");
	esc_xml(b, r->value, false);
	buf_puts(b, "</Content>\n        <Comment>confidence ");
	buf_puts(b, ioc_confidence_band(r->score));
	buf_puts(b, " (");
	buf_put_i64(b, r->score);
	buf_putc(b, ')');
	if (r->feed && *r->feed) {
		buf_puts(b, "; feed ");
		esc_xml(b, r->feed, false);
	}
	if (r->context && *r->context) {
		buf_puts(b, "; ");
		esc_xml(b, r->context, false);
	}
	buf_puts(b, "</Comment>\n      </IndicatorItem>\n");
	return true;
}

void openioc_end(struct buf *b)
{
	buf_puts(b, "    </Indicator>\n  </definition>\n</ioc>\n");
}
