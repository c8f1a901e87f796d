/*
 * export_lines.h — the record-at-a-time exports: block lists (txt, hosts, RPZ zone),
 * ArcSight CEF, RFC 5424 syslog and OpenIOC 1.0. docs/exports.md describes each format.
 *
 * A format is written in three steps — lines_begin(), lines_record() per record,
 * lines_end() — into a caller's buffer, so the list endpoint can write one page of a
 * block list into its cached answer, and export_lines() can stream any number of
 * records to a sink a page at a time (constant memory). Both give the same bytes for
 * the same records.
 *
 * Determinism: nothing depends on the time of export. The RPZ serial and the OpenIOC
 * dates come from the store's commit clock (store_clock: the time of the last write to
 * the indicators), the OpenIOC document id from that clock and the filter.
 */
#ifndef CAIRN_EXPORT_EXPORT_LINES_H
#define CAIRN_EXPORT_EXPORT_LINES_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "export/export.h"

enum line_format {
	LINES_TXT,	/* one value a line */
	LINES_HOSTS,	/* "0.0.0.0 name" for domains and URL hosts */
	LINES_RPZ,	/* a DNS response policy zone (master file) */
	LINES_CEF,	/* ArcSight CEF, one event a line */
	LINES_SYSLOG,	/* RFC 5424, structured data, the CEF event as the message */
	LINES_OPENIOC,	/* one OpenIOC 1.0 document */
	LINES_COUNT
};

/* "txt", "hosts", "rpz", "cef", "syslog", "openioc" → the format; -1 if unknown. */
int line_format_from_name(const char *name);
const char *line_format_name(enum line_format f);
/* The Content-Type the API serves a format with. */
const char *line_format_content_type(enum line_format f);

struct line_writer {
	enum line_format fmt;
	int64_t clock;		/* store_clock() at the start */
	int64_t written;	/* records that produced output */
	int64_t omitted;	/* records the format cannot express (an MD5 in a hosts file) */
	char doc_id[40];	/* OpenIOC: the document id */
	struct buf scratch;	/* CEF: one tag at a time */
};

/*
 * Starts a document: the block lists' comment header, the RPZ SOA and NS records, the
 * OpenIOC root and metadata. header false leaves the block lists' header out (a later
 * page of a paged list, so that pages concatenate into one file); OpenIOC always has
 * its header. f is the filter the records come from (for the OpenIOC id).
 */
void lines_begin(struct line_writer *w, enum line_format fmt, int64_t clock, const struct ioc_filter *f,
		 bool header, struct buf *b);
/* Appends r in the format (or nothing, counted in w->omitted). */
void lines_record(struct line_writer *w, const struct ioc_record *r, struct buf *b);
/* Ends the document (the OpenIOC closing tags; nothing for the others). */
void lines_end(struct line_writer *w, struct buf *b);
/* Frees what the writer holds; after lines_begin, always (also when lines_end is not
 * reached). */
void lines_cleanup(struct line_writer *w);

struct lines_result {
	int64_t count;		/* records read */
	int64_t omitted;	/* records the format left out */
	int64_t next_rid;	/* when f->limit stopped the export before the last match: the
				 * cursor (ioc_filter.before_rid) of the next page; else 0 */
};

/*
 * The whole export of the records f selects (f->limit records at most; 0 = all), newest
 * first, streamed to sink.
 */
int export_lines(struct store *s, const struct ioc_filter *f, enum line_format fmt,
		 const struct export_sink *sink, struct lines_result *res, struct err *e) CAIRN_MUST_USE;

/* Per format, in its own file: */
void cef_record(struct line_writer *w, struct buf *b, const struct ioc_record *r);
void syslog_record(struct line_writer *w, struct buf *b, const struct ioc_record *r);
void openioc_begin(struct line_writer *w, const struct ioc_filter *f, struct buf *b);
bool openioc_record(struct buf *b, const struct ioc_record *r);	/* false: not expressible */
void openioc_end(struct buf *b);

#endif
