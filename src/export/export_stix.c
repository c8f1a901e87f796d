#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "base/buf.h"
#include "base/crypto.h"
#include "export/export.h"
#include "json/jw.h"
#include "stix/ioc_stix.h"

#define PAGE 2000
/* The namespace of export bundle ids (UUIDv5 of the exported versions). */
#define BUNDLE_NAMESPACE "3c2a9e41-7f0b-5d8e-9a64-0b5e2f7c1d93"

static const char *const tlp_names[5] = { "clear", "green", "amber", "amber+strict", "red" };

struct run {
	const struct stix_export_opts *o;
	const struct export_sink *sink;
	struct buf b;
	EVP_MD_CTX *hash;
	unsigned marks;		/* TLP levels referenced, bit i = tlp_names[i] */
	int64_t n, skipped, last_rid;
	bool first, failed;
};

static void emit(struct run *r)
{
	if (!r->failed && r->b.len && r->sink->write(r->sink->ctx, r->b.data, r->b.len) != 0)
		r->failed = true;
	buf_reset(&r->b);
}

static void object_sep(struct run *r)
{
	if (!r->first)
		buf_putc(&r->b, ',');
	r->first = false;
}

static int one(void *ctx, const struct ioc_record *rec)
{
	struct run *r = ctx;
	struct ioc_record copy = *rec;
	r->last_rid = rec->rid;
	if (!r->o->custom && rec->type == IOC_MITRE && rec->value[1] == 'A') {
		r->skipped++;	/* a tactic: STIX 2.1 has no object for it */
		return 0;
	}
	if (r->o->tlp)
		copy.tlp = r->o->tlp;
	for (int i = 0; i < 5; i++)
		if (copy.tlp && !strcmp(copy.tlp, tlp_names[i]))
			r->marks |= 1u << i;
	object_sep(r);
	ioc_stix_object(&r->b, &copy, copy.modified);
	/* The bundle id covers which object versions went out. */
	char sid[80], mod[24];
	ioc_stix_id(&copy, sid, sizeof(sid));
	int n = snprintf(mod, sizeof(mod), "|%lld\n", (long long)copy.modified);
	EVP_DigestUpdate(r->hash, sid, strlen(sid));
	EVP_DigestUpdate(r->hash, mod, (size_t)n);
	r->n++;
	if (r->b.len >= 256 * 1024)
		emit(r);
	return r->failed ? ERR_IO : 0;
}

/* cairn's identity: fixed content, so exports are reproducible. */
static void identity(struct run *r)
{
	object_sep(r);
	buf_puts(&r->b, "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"" CAIRN_IDENTITY_ID "\","
			"\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":\"2026-01-01T00:00:00.000Z\","
			"\"name\":\"cairn\",\"description\":\"cairn threat-intelligence indicator platform\","
			"\"identity_class\":\"system\"}");
}

/* The OASIS TLP 2.0 marking definitions, as published (STIX 2.1 TLP 2.0 extension). */
static void marking(struct run *r, int level)
{
	static const char *const upper[5] = { "CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED" };
	object_sep(r);
	buf_printf(&r->b,
		   "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"%s\","
		   "\"created\":\"2022-10-01T00:00:00.000Z\",\"name\":\"TLP:%s\",\"extensions\":"
		   "{\"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d\":"
		   "{\"extension_type\":\"property-extension\",\"tlp_2_0\":\"%s\"}}}",
		   ioc_stix_tlp_marking(tlp_names[level]), upper[level], tlp_names[level]);
}

int export_stix(struct store *s, const struct ioc_filter *f, const struct stix_export_opts *o,
		const struct export_sink *sink, int64_t *count, int64_t *skipped, struct err *e)
{
	int64_t next_rid;
	return export_stix_page(s, f, o, sink, count, skipped, &next_rid, e);
}

int export_stix_page(struct store *s, const struct ioc_filter *f, const struct stix_export_opts *o,
		     const struct export_sink *sink, int64_t *count, int64_t *skipped, int64_t *next_rid,
		     struct err *e)
{
	struct run r = { .o = o, .sink = sink, .first = true };
	int rc = 0;
	buf_init(&r.b);
	r.hash = EVP_MD_CTX_new();
	if (r.hash == NULL || EVP_DigestInit_ex(r.hash, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(r.hash);
		return err_set(e, ERR_INTERNAL, "cannot start a hash");
	}
	buf_puts(&r.b, o->objects_only ? "[" : "{\"type\":\"bundle\",\"objects\":[");
	if (o->identity)
		identity(&r);

	/* Pages by rid, newest first, like a cursor walk: constant memory. */
	int64_t want = f->limit > 0 ? f->limit : INT64_MAX;
	struct ioc_filter page = *f;
	page.offset = f->offset;
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
	if (rc == 0 && o->markings)
		for (int i = 0; i < 5; i++)
			if (r.marks & (1u << i))
				marking(&r, i);
	if (rc == 0) {
		unsigned char md[32];
		unsigned mdlen = 0;
		char hex[65], id[UUID_STR_LEN + 1];
		EVP_DigestFinal_ex(r.hash, md, &mdlen);
		crypto_hex(md, 32, hex);
		uuid_v5(BUNDLE_NAMESPACE, hex, 64, id);
		if (o->objects_only)
			buf_puts(&r.b, "]\n");
		else
			buf_printf(&r.b, "],\"id\":\"bundle--%s\"}\n", id);
		emit(&r);
		if (r.failed)
			rc = err_set(e, ERR_IO, "the output could not be written");
	}
	*count = r.n;
	*skipped = r.skipped;
	*next_rid = f->limit > 0 && r.n + r.skipped >= f->limit ? r.last_rid : 0;
	EVP_MD_CTX_free(r.hash);
	buf_cleanup(&r.b);
	return rc;
}
