/*
 * export_ecs.c — the ECS export: records read page by page (constant memory),
 * each record's STIX object — the bytes the object store and the STIX export
 * hold — mapped by ecs_map_object(), one document a line.
 */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "export/ecs.h"
#include "export/export.h"
#include "stix/ioc_stix.h"

#define PAGE 2000
#define FLUSH_AT (256 * 1024)

struct run {
	const struct ecs_opts *o;
	const char *tlp;
	const struct export_sink *sink;
	struct buf obj, out;
	int64_t n, skipped, docs, last_rid;
	bool failed;
	struct err *e;
	int map_rc;
};

static void emit(struct run *r)
{
	if (!r->failed && r->out.len && r->sink->write(r->sink->ctx, r->out.data, r->out.len) != 0)
		r->failed = true;
	buf_reset(&r->out);
}

static int doc(void *ctx, const struct ecs_doc *d)
{
	struct run *r = ctx;
	buf_append(&r->out, d->json, d->len);
	buf_putc(&r->out, '\n');
	r->docs++;
	return 0;
}

static int one(void *ctx, const struct ioc_record *rec)
{
	struct run *r = ctx;
	struct ioc_record copy = *rec;
	r->last_rid = rec->rid;
	if (r->tlp)
		copy.tlp = r->tlp;
	buf_reset(&r->obj);
	ioc_stix_object(&r->obj, &copy, copy.modified);
	int64_t before = r->docs;
	int rc = ecs_map_object(r->obj.data, r->obj.len, r->o, doc, r, r->e);
	if (rc != 0) {
		r->map_rc = rc;	/* cairn's own objects always parse: this is a bug, say so */
		return rc;
	}
	if (r->docs == before)
		r->skipped++;
	else
		r->n++;
	if (r->out.len >= FLUSH_AT)
		emit(r);
	return r->failed ? ERR_IO : 0;
}

int export_ecs(struct store *s, const struct ioc_filter *f, const struct ecs_opts *o, const char *tlp_override,
	       const struct export_sink *sink, int64_t *count, int64_t *skipped, int64_t *docs, struct err *e)
{
	struct run r = { .o = o, .tlp = tlp_override, .sink = sink, .e = e };
	int rc = 0;
	buf_init(&r.obj);
	buf_init(&r.out);
	int64_t want = f->limit > 0 ? f->limit : INT64_MAX;
	struct ioc_filter page = *f;
	while (rc == 0 && r.n + r.skipped < want) {
		int64_t before = r.n + r.skipped;
		page.limit = want - before < PAGE ? want - before : PAGE;
		rc = store_ioc_list(s, &page, one, &r, e);
		if (rc == 0 && r.failed)
			rc = err_set(e, ERR_IO, "the output could not be written");
		if (rc || r.n + r.skipped - before < page.limit)
			break;
		page.before_rid = r.last_rid;
		page.offset = 0;
	}
	if (rc == 0) {
		emit(&r);
		if (r.failed)
			rc = err_set(e, ERR_IO, "the output could not be written");
	} else if (r.map_rc) {
		char why[ERR_MSG_MAX];
		snprintf(why, sizeof(why), "%s", e->msg);
		rc = err_set(e, ERR_INTERNAL, "mapping a record to ECS failed: %s", why);
	}
	*count = r.n;
	*skipped = r.skipped;
	*docs = r.docs;
	buf_cleanup(&r.obj);
	buf_cleanup(&r.out);
	return rc;
}
