/*
 * test_taxii_store.c — the object selection the TAXII server pages by (store.h, "TAXII"):
 * versions of records and of foreign objects with their newest/oldest flags, out-of-order
 * versions, spec_version selection, objects without modified (SCOs), type and id
 * filters, collections of record types, paging by the position a page reached (with a
 * row budget), deletion by version (records leaving the index), status resources and the
 * token secret.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/timeutil.h"
#include "ioc/ioc.h"
#include "store/store.h"
#include "check.h"

static char dir[64];

#define MAXROWS 64

struct rows {
	int n;
	char id[MAXROWS][80];
	int64_t date_added[MAXROWS], version[MAXROWS];
	char spec[MAXROWS][8];
};

static int collect(void *ctx, const struct object_row *r)
{
	struct rows *rs = ctx;
	if (rs->n < MAXROWS) {
		snprintf(rs->id[rs->n], sizeof(rs->id[0]), "%s", r->stix_id);
		rs->date_added[rs->n] = r->date_added;
		rs->version[rs->n] = r->version;
		snprintf(rs->spec[rs->n], sizeof(rs->spec[0]), "%s", r->spec_version);
		CHECK(r->len > 0 && r->json[0] == '{');
	}
	rs->n++;
	return 0;
}

static int query(struct store *s, struct object_query *q, struct rows *rs, bool *more, int64_t *reached)
{
	struct err e = { 0 };
	memset(rs, 0, sizeof(*rs));
	if (q->limit == 0)
		q->limit = 100;
	int rc = store_objects_query(s, q, collect, rs, more, reached, &e);
	if (rc)
		fprintf(stderr, "query: %s\n", e.msg);
	return rc;
}

static void put_record(struct store *s, enum ioc_type t, const char *value, int score)
{
	struct ioc_input in;
	memset(&in, 0, sizeof(in));
	in.type = t;
	in.value = value;
	in.feed = "unit";
	in.origin = "feed";
	in.score = score;
	struct put_stats st = { 0 };
	struct err e = { 0 };
	CHECK_INT(store_ioc_put_batch(s, &in, 1, &st, &e), 0);
}

/* A foreign object version: JSON built from its id, type, modified and spec. */
static int put_object(struct store *s, const char *type, const char *id, int64_t modified,
		      const char *spec, bool *existed)
{
	char json[512];
	char mod[40] = "";
	if (modified)
		time_format_to(mod, modified, TIME_MSEC);
	snprintf(json, sizeof(json), "{\"type\":\"%s\",\"id\":\"%s\",\"modified\":\"%s\"}", type, id, mod);
	struct object_input in = {
		.stix_id = id, .type = type, .spec_version = spec, .modified = modified,
		.versioned = modified != 0, .json = json, .json_len = strlen(json),
	};
	int64_t added = 0, unchanged = 0;
	struct err e = { 0 };
	int rc = store_objects_put(s, &in, 1, &added, &unchanged, &e);
	if (existed)
		*existed = in.existed;
	return rc;
}

#define T0 1767225600000000LL	/* 2026-01-01T00:00:00Z */
#define MALWARE "malware--6b616fc1-1505-48e3-8b2c-0d19337bff38"
#define OLDIND "indicator--a932fcc6-e032-476c-826f-cb970a5a1ade"
#define SCO "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd"

static void test_versions(struct store *s)
{
	struct object_query q;
	struct rows rs;
	bool more, existed;
	int64_t reached;

	/* Three versions of a malware, the middle one arriving last. */
	CHECK_INT(put_object(s, "malware", MALWARE, T0 + 1000, "2.1", &existed), 0);
	CHECK(!existed);
	CHECK_INT(put_object(s, "malware", MALWARE, T0 + 3000, "2.1", NULL), 0);
	CHECK_INT(put_object(s, "malware", MALWARE, T0 + 2000, "2.1", NULL), 0);
	CHECK_INT(put_object(s, "malware", MALWARE, T0 + 2000, "2.1", &existed), 0);
	CHECK(existed);	/* the same version again is held already */

	memset(&q, 0, sizeof(q));
	q.foreign = true;
	q.versions = OBJV_LAST;
	CHECK_INT(query(s, &q, &rs, &more, &reached), 0);
	CHECK_INT(rs.n, 1);
	CHECK_STR(rs.id[0], MALWARE);
	CHECK_INT(rs.version[0], T0 + 3000);
	CHECK(!more);

	q.versions = OBJV_FIRST;
	CHECK_INT(query(s, &q, &rs, &more, &reached), 0);
	CHECK_INT(rs.n, 1);
	CHECK_INT(rs.version[0], T0 + 1000);

	q.versions = OBJV_FIRST | OBJV_LAST;
	CHECK_INT(query(s, &q, &rs, &more, &reached), 0);
	CHECK_INT(rs.n, 2);

	q.versions = OBJV_ALL;
	CHECK_INT(query(s, &q, &rs, &more, &reached), 0);
	CHECK_INT(rs.n, 3);
	/* In date_added order: the order they were stored, not by modified. */
	CHECK_INT(rs.version[0], T0 + 1000);
	CHECK_INT(rs.version[1], T0 + 3000);
	CHECK_INT(rs.version[2], T0 + 2000);
	CHECK(rs.date_added[0] < rs.date_added[1] && rs.date_added[1] < rs.date_added[2]);

	int64_t list[1] = { T0 + 2000 };
	q.versions = OBJV_LIST;
	q.version_list = list;
	q.nversions = 1;
	CHECK_INT(query(s, &q, &rs, &more, &reached), 0);
	CHECK_INT(rs.n, 1);
	CHECK_INT(rs.version[0], T0 + 2000);

	/* A 2.0 and a 2.1 version of one indicator: by default only the 2.1 one shows. */
	CHECK_INT(put_object(s, "indicator", OLDIND, T0 + 5000, "2.0", NULL), 0);
	CHECK_INT(put_object(s, "indicator", OLDIND, T0 + 4000, "2.1", NULL), 0);
	memset(&q, 0, sizeof(q));
	q.foreign = true;
	q.versions = OBJV_LAST;
	const char *types[1] = { "indicator" };
	q.types = types;
	q.ntypes = 1;
	CHECK_INT(query(s, &q, &rs, &more, &reached), 0);
	CHECK_INT(rs.n, 1);
	CHECK_STR(rs.spec[0], "2.1");
	CHECK_INT(rs.version[0], T0 + 4000);
	q.spec = OBJQ_SPEC_20;
	CHECK_INT(query(s, &q, &rs, &more, &reached), 0);
	CHECK_INT(rs.n, 1);
	CHECK_STR(rs.spec[0], "2.0");
	q.spec = OBJQ_SPEC_20 | OBJQ_SPEC_21;	/* the newest of both: the 2.0 one */
	CHECK_INT(query(s, &q, &rs, &more, &reached), 0);
	CHECK_INT(rs.n, 1);
	CHECK_INT(rs.version[0], T0 + 5000);
	q.spec = OBJQ_SPEC_NONE;
	CHECK_INT(query(s, &q, &rs, &more, &reached), 0);
	CHECK_INT(rs.n, 0);

	/* An object without modified or created has one version: adding it again is a no-op. */
	CHECK_INT(put_object(s, "ipv4-addr", SCO, 0, "2.1", &existed), 0);
	CHECK(!existed);
	CHECK_INT(put_object(s, "ipv4-addr", SCO, 0, "2.1", &existed), 0);
	CHECK(existed);
	const char *sco[1] = { "ipv4-addr" };
	q.types = sco;
	q.spec = 0;
	CHECK_INT(query(s, &q, &rs, &more, &reached), 0);
	CHECK_INT(rs.n, 1);
	CHECK_INT(rs.version[0], rs.date_added[0]);	/* versioned by its date_added */

	/* An unknown type selects nothing, and is no error. */
	const char *none[1] = { "x-nothing-here" };
	q.types = none;
	CHECK_INT(query(s, &q, &rs, &more, &reached), 0);
	CHECK_INT(rs.n, 0);
}

static void test_records(struct store *s)
{
	struct object_query q;
	struct rows rs;
	bool more;
	int64_t reached;
	put_record(s, IOC_IPV4, "198.51.100.7", 60);
	put_record(s, IOC_DOMAIN, "bad.example", 70);
	put_record(s, IOC_IPV4, "198.51.100.7", 80);	/* a second version */
	put_record(s, IOC_SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 50);

	memset(&q, 0, sizeof(q));
	q.ioc_types = 1u << IOC_IPV4 | 1u << IOC_IPV6;	/* the ips collection */
	q.versions = OBJV_LAST;
	CHECK_INT(query(s, &q, &rs, &more, &reached), 0);
	CHECK_INT(rs.n, 1);
	CHECK(strncmp(rs.id[0], "indicator--", 11) == 0);
	char ipid[80];
	snprintf(ipid, sizeof(ipid), "%s", rs.id[0]);
	q.versions = OBJV_ALL;
	CHECK_INT(query(s, &q, &rs, &more, &reached), 0);
	CHECK_INT(rs.n, 2);
	CHECK_STR(rs.id[1], ipid);
	CHECK(rs.version[0] < rs.version[1]);

	/* The all collection: records and foreign objects merged in date_added order. */
	memset(&q, 0, sizeof(q));
	q.ioc_types = ~0u;
	q.foreign = true;
	q.versions = OBJV_LAST;
	CHECK_INT(query(s, &q, &rs, &more, &reached), 0);
	CHECK_INT(rs.n, 6);	/* the malware, the indicator (its 2.1 version), the SCO, 3 records */
	for (int i = 1; i < rs.n; i++)
		CHECK(rs.date_added[i - 1] < rs.date_added[i]);

	/* match[id] finds a record's object by its STIX id, and a foreign one. */
	const char *ids[2] = { ipid, MALWARE };
	q.ids = ids;
	q.nids = 2;
	q.versions = OBJV_ALL;
	CHECK_INT(query(s, &q, &rs, &more, &reached), 0);
	CHECK_INT(rs.n, 5);	/* 2 record versions + 3 malware versions */
	for (int i = 1; i < rs.n; i++)
		CHECK(rs.date_added[i - 1] < rs.date_added[i]);
	/* ...but not in a collection that does not hold it. */
	q.ioc_types = 1u << IOC_DOMAIN;
	q.foreign = false;
	CHECK_INT(query(s, &q, &rs, &more, &reached), 0);
	CHECK_INT(rs.n, 0);
	/* A record's UUID under another type prefix is not its object. */
	char wrong[80];
	snprintf(wrong, sizeof(wrong), "malware--%s", ipid + 11);
	const char *wid[1] = { wrong };
	q.ids = wid;
	q.nids = 1;
	q.ioc_types = ~0u;
	q.foreign = true;
	CHECK_INT(query(s, &q, &rs, &more, &reached), 0);
	CHECK_INT(rs.n, 0);
}

/* Walking page by page from the position each page reached sees everything once. */
static void test_paging(struct store *s)
{
	for (unsigned versions = OBJV_LAST; versions <= OBJV_ALL; versions <<= 1) {
		struct object_query q;
		memset(&q, 0, sizeof(q));
		q.ioc_types = ~0u;
		q.foreign = true;
		q.versions = versions;
		struct rows all, page;
		bool more;
		int64_t reached;
		q.limit = 1000;
		CHECK_INT(query(s, &q, &all, &more, &reached), 0);
		int seen = 0, pages = 0;
		q.limit = 2;
		q.after = 0;
		do {
			CHECK_INT(query(s, &q, &page, &more, &reached), 0);
			for (int i = 0; i < page.n && seen < MAXROWS; i++, seen++)
				CHECK_INT(page.date_added[i], all.date_added[seen]);
			q.after = reached;
			pages++;
		} while (more && pages < 100);
		CHECK_INT(seen, all.n);
		CHECK(pages >= all.n / 2);
	}

	/* A sparse selection with a tiny budget: pages may be short, but nothing is lost. */
	struct object_query q;
	memset(&q, 0, sizeof(q));
	q.ioc_types = ~0u;
	q.foreign = true;
	q.versions = OBJV_FIRST;
	const char *types[1] = { "malware" };
	q.types = types;
	q.ntypes = 1;
	q.budget = 1;
	q.limit = 1;	/* the budget is at least 4 × limit: 4 rows a page */
	struct rows page;
	bool more;
	int64_t reached;
	int found = 0, pages = 0, empty = 0;
	do {
		CHECK_INT(query(s, &q, &page, &more, &reached), 0);
		found += page.n;
		empty += page.n == 0;
		CHECK(reached >= q.after);
		q.after = reached;
		pages++;
	} while (more && pages < 100);
	CHECK_INT(found, 1);
	CHECK(empty > 0);	/* the budget ran out on rows that did not match */
}

static int no_record(void *ctx, const struct ioc_record *r)
{
	(void)ctx;
	(void)r;
	CHECK(!"the deleted record is still found");
	return 0;
}

static void test_delete(struct store *s)
{
	struct object_query q;
	struct rows rs;
	bool more;
	int64_t reached;
	int64_t n = 0;
	struct err e = { 0 };

	/* Deleting the oldest version of the malware: the next one becomes `first`. */
	const char *ids[1] = { MALWARE };
	memset(&q, 0, sizeof(q));
	q.foreign = true;
	q.ids = ids;
	q.nids = 1;
	q.versions = OBJV_FIRST;
	CHECK_INT(store_objects_delete(s, &q, &n, &e), 0);
	CHECK_INT(n, 1);
	CHECK_INT(query(s, &q, &rs, &more, &reached), 0);
	CHECK_INT(rs.n, 1);
	CHECK_INT(rs.version[0], T0 + 2000);
	/* Deleting the newest: the middle one is now both. */
	q.versions = OBJV_LAST;
	CHECK_INT(store_objects_delete(s, &q, &n, &e), 0);
	CHECK_INT(n, 1);
	q.ids = NULL;
	q.nids = 0;
	const char *types[1] = { "malware" };
	q.types = types;
	q.ntypes = 1;
	CHECK_INT(query(s, &q, &rs, &more, &reached), 0);	/* the index path */
	CHECK_INT(rs.n, 1);
	CHECK_INT(rs.version[0], T0 + 2000);

	/* Deleting every version of a record removes it from the indicator index. */
	struct rows rec;
	memset(&q, 0, sizeof(q));
	q.ioc_types = 1u << IOC_IPV4;
	q.versions = OBJV_LAST;
	CHECK_INT(query(s, &q, &rec, &more, &reached), 0);
	CHECK_INT(rec.n, 1);
	const char *rid[1] = { rec.id[0] };
	q.ids = rid;
	q.nids = 1;
	q.versions = OBJV_ALL;
	q.spec = OBJQ_SPEC_20 | OBJQ_SPEC_21;
	CHECK_INT(store_objects_delete(s, &q, &n, &e), 0);
	CHECK_INT(n, 2);
	CHECK_INT(query(s, &q, &rs, &more, &reached), 0);
	CHECK_INT(rs.n, 0);
	CHECK_INT(store_ioc_get_value(s, IOC_IPV4, "198.51.100.7", no_record, NULL, &e), ERR_NOT_FOUND);
	int64_t total = 0;
	CHECK_INT(store_ioc_total(s, &total, &e), 0);
	CHECK_INT(total, 2);	/* the domain and the hash remain */
}

static void test_status_and_secret(const char *path)
{
	struct store *s;
	struct err e = { 0 };
	uint8_t a[32], b[32], zero[32] = { 0 };
	CHECK_INT(store_open(&s, path, NULL, 0, &e), 0);
	CHECK_INT(store_secret(s, "taxii_next", a, &e), 0);
	CHECK(memcmp(a, zero, 32) != 0);
	CHECK_INT(store_secret(s, "nope", b, &e), ERR_NOT_FOUND);
	int64_t ttl = 86400 * USEC_PER_SEC;
	CHECK_INT(store_status_put(s, "st1", "{\"a\":1}", 7, T0, ttl, &e), 0);
	struct buf out = BUF_INIT;
	CHECK_INT(store_status_get(s, "st1", T0 + ttl - 1, ttl, &out, &e), 0);
	CHECK_STR(buf_cstr(&out), "{\"a\":1}");
	buf_reset(&out);
	CHECK_INT(store_status_get(s, "st1", T0 + ttl + 1, ttl, &out, &e), ERR_NOT_FOUND);
	CHECK_INT(store_status_get(s, "st2", T0, ttl, &out, &e), ERR_NOT_FOUND);
	/* A later put expires the old ones. */
	CHECK_INT(store_status_put(s, "st2", "{}", 2, T0 + 2 * ttl, ttl, &e), 0);
	CHECK_INT(store_status_get(s, "st1", T0, ttl, &out, &e), ERR_NOT_FOUND);
	buf_cleanup(&out);
	store_close(s);
	/* The secret is the database's: the same on every connection. */
	CHECK_INT(store_open(&s, path, NULL, 0, &e), 0);
	CHECK_INT(store_secret(s, "taxii_next", b, &e), 0);
	CHECK(memcmp(a, b, 32) == 0);
	store_close(s);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/cairn-taxii-store-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 2;
	char path[128];
	snprintf(path, sizeof(path), "%s/taxii.db", dir);
	struct store *s;
	struct err e = { 0 };
	CHECK_INT(store_open(&s, path, NULL, 0, &e), 0);
	test_versions(s);
	test_records(s);
	test_paging(s);
	test_delete(s);
	store_close(s);
	test_status_and_secret(path);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return check_summary("test_taxii_store");
}
