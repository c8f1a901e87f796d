#include "imp/importer.h"
#include "imp/importer_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "allow/allow_db.h"
#include "base/arena.h"
#include "base/timeutil.h"
#include "base/xmalloc.h"
#include "imp/csv.h"
#include "imp/jstream.h"
#include "imp/lines.h"
#include "json/jw.h"

static const char *const field_names[F_FIELD_COUNT] = {
	"value", "type", "confidence", "first_seen", "last_seen", "valid_until", "tags", "context",
	"reference_url", "tlp", "mitre_techniques", "industries",
};

int import_field_from_name(const char *s)
{
	for (int i = 0; i < F_FIELD_COUNT; i++)
		if (!strcmp(s, field_names[i]))
			return i;
	return -1;
}

const char *import_field_name(int f)
{
	return f >= 0 && f < F_FIELD_COUNT ? field_names[f] : "";
}

const char *import_format_name(enum import_format f)
{
	static const char *const n[] = { "auto", "txt", "csv", "json", "stix", "misp" };
	return n[f];
}


void reject(struct run *run, size_t line, const char *why)
{
	struct import_result *r = run->r;
	r->read++;
	r->rejected++;
	if (r->nrejects < IMPORT_REJECTS_KEPT) {
		struct import_reject *x = &r->rejects[r->nrejects++];
		x->line = line;
		/* Only printable text reaches the terminal. */
		size_t i = 0;
		for (; why[i] && i < sizeof(x->reason) - 1; i++)
			x->reason[i] = (unsigned char)why[i] < 0x20 ? '?' : why[i];
		x->reason[i] = '\0';
	}
}

static void progress(struct run *run, bool force)
{
	if (!run->o->progress)
		return;
	int64_t now = time_mono_us();
	if (!force && now - run->last_progress < 250000)
		return;
	run->last_progress = now;
	uint64_t size = input_size(run->in), pos = input_pos(run->in);
	if (size)
		fprintf(stderr, "\r  %lld read, %lld rejected (%.0f%%)   ", (long long)run->r->read,
			(long long)run->r->rejected, 100.0 * (double)pos / (double)size);
	else
		fprintf(stderr, "\r  %lld read, %lld rejected   ", (long long)run->r->read,
			(long long)run->r->rejected);
	run->dirty_progress = true;
}

struct allow_tally {
	int64_t id, n;
};

/* Counts a value an allow-list kept out, with the list and entry for the first few. */
static void note_suppressed(struct run *run, const char *value, const struct allow_hit *hit)
{
	struct import_result *r = run->r;
	r->suppressed++;
	if (r->nsuppressions < IMPORT_SUPPRESSIONS_KEPT) {
		struct import_suppression *x = &r->suppressions[r->nsuppressions++];
		const char *src[3] = { value, hit->list, hit->entry };
		char *dst[3] = { x->value, x->list, x->entry };
		size_t cap[3] = { sizeof(x->value), sizeof(x->list), sizeof(x->entry) };
		for (int k = 0; k < 3; k++) {
			size_t i = 0;
			for (; src[k][i] && i < cap[k] - 1; i++)
				dst[k][i] = (unsigned char)src[k][i] < 0x20 ? '?' : src[k][i];
			dst[k][i] = '\0';
		}
	}
	for (size_t i = 0; i < run->ntally; i++)
		if (run->tally[i].id == hit->list_id) {
			run->tally[i].n++;
			return;
		}
	if (run->ntally < ALLOW_LISTS_MAX) {
		run->tally = xrealloc(run->tally, (run->ntally + 1) * sizeof(*run->tally));
		run->tally[run->ntally++] = (struct allow_tally){ hit->list_id, 1 };
	}
}

static bool on_allowlist(struct run *run, const struct ioc_input *in)
{
	struct allow_hit hit;
	if (run->allow == NULL || !allow_match(run->allow, in->type, in->value, strlen(in->value), &hit))
		return false;
	note_suppressed(run, in->value, &hit);
	return true;
}

/* The lists changed during the import: take the new matcher and filter the batch again. */
static int allow_reload(struct run *run, struct err *e)
{
	struct allow_set *set;
	int rc = allow_db_load(run->s, &set, e);
	if (rc)
		return rc;
	if (run->own_allow)
		allow_set_unref(run->allow);
	run->allow = set;
	run->own_allow = true;
	store_allow_expect(run->s, allow_set_generation(set));
	size_t k = 0;
	for (size_t i = 0; i < run->n; i++) {
		if (on_allowlist(run, &run->batch[i])) {
			run->kept--;
			continue;
		}
		if (k != i)
			run->batch[k] = run->batch[i];
		k++;
	}
	run->n = k;
	return 0;
}

static int flush(struct run *run, struct err *e)
{
	if (run->n == 0)
		return 0;
	struct put_stats st = { 0 };
	int rc;
	for (int tries = 0;; tries++) {
		rc = store_ioc_put_batch(run->s, run->batch, run->n, &st, e);
		if (rc != ERR_CONFLICT || run->allow == NULL || tries == 5)
			break;
		if ((rc = allow_reload(run, e)) != 0)
			break;
	}
	if (rc)
		return rc;
	run->r->added += st.added;
	run->r->updated += st.updated;
	run->n = 0;
	run->flushes++;
	arena_reset(&run->ar);
	progress(run, false);
	return 0;
}

/* Takes the input at run->batch[run->n] (already filled) into the batch. */
int accept_input(struct run *run, struct err *e)
{
	run->r->read++;
	if (on_allowlist(run, &run->batch[run->n]))
		return 0;	/* never stored; counted */
	run->kept++;
	run->n++;
	if (run->n == IMPORT_BATCH)
		return flush(run, e);
	return 0;
}

struct ioc_input *slot(struct run *run)
{
	struct ioc_input *in = &run->batch[run->n];
	imp_input_init(in, &run->o->defaults);
	return in;
}

/* ---- plain lists ---- */

static bool comment_line(const char *p, size_t n)
{
	while (n && (*p == ' ' || *p == '\t'))
		p++, n--;
	return n == 0 || *p == '#' || *p == '!' || *p == ';' || (n >= 2 && p[0] == '/' && p[1] == '/');
}

static int run_txt(struct run *run, struct err *e)
{
	struct line_reader *lr = line_reader_new(run->in);
	const char *line;
	size_t len;
	int rc;
	while ((rc = line_next(lr, &line, &len, e)) != 0) {
		if (rc == ERR_TOO_LARGE) {
			reject(run, e->offset, "line longer than 64 KiB");
			continue;
		}
		if (rc < 0)
			break;
		if (comment_line(line, len)) {
			run->r->skipped++;
			continue;
		}
		/* The value is the first token; what follows (a count, a comment) is not. */
		size_t i = 0;
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		size_t j = i;
		while (j < len && line[j] != ' ' && line[j] != '\t')
			j++;
		struct ioc_input *in = slot(run);
		struct err ve = { 0 };
		if (imp_set_value(in, line + i, j - i, IOC_NONE, &run->ar, &ve) != 0) {
			reject(run, line_number(lr), ve.msg);
			continue;
		}
		rc = accept_input(run, e);
		if (rc)
			break;
	}
	line_reader_free(lr);
	return rc < 0 ? rc : 0;
}

/* ---- CSV ---- */

/* Column name → field, by the names feeds use. */
static int guess_field(const char *name, enum ioc_type *forced)
{
	char k[64];
	size_t n = 0;
	*forced = IOC_NONE;
	for (const char *p = name; *p && n < sizeof(k) - 1; p++)
		if (isalnum((unsigned char)*p))
			k[n++] = (char)tolower((unsigned char)*p);
	k[n] = '\0';
	static const struct {
		const char *name;
		int field;
		enum ioc_type type;
	} names[] = {
		{ "value", F_VALUE, IOC_NONE }, { "indicator", F_VALUE, IOC_NONE }, { "ioc", F_VALUE, IOC_NONE },
		{ "iocvalue", F_VALUE, IOC_NONE }, { "observable", F_VALUE, IOC_NONE },
		{ "data", F_VALUE, IOC_NONE }, { "indicatorvalue", F_VALUE, IOC_NONE },
		{ "domain", F_VALUE, IOC_DOMAIN }, { "hostname", F_VALUE, IOC_DOMAIN },
		{ "url", F_VALUE, IOC_URL }, { "ip", F_VALUE, IOC_NONE }, { "ipaddress", F_VALUE, IOC_NONE },
		{ "ipv4", F_VALUE, IOC_IPV4 }, { "ipv6", F_VALUE, IOC_IPV6 }, { "md5", F_VALUE, IOC_MD5 },
		{ "sha1", F_VALUE, IOC_SHA1 }, { "sha256", F_VALUE, IOC_SHA256 },
		{ "sha512", F_VALUE, IOC_SHA512 }, { "hash", F_VALUE, IOC_NONE }, { "email", F_VALUE, IOC_EMAIL },
		{ "cve", F_VALUE, IOC_CVE },
		{ "type", F_TYPE, IOC_NONE }, { "ioctype", F_TYPE, IOC_NONE }, { "indicatortype", F_TYPE, IOC_NONE },
		{ "entitytype", F_TYPE, IOC_NONE }, { "kind", F_TYPE, IOC_NONE },
		{ "confidence", F_CONFIDENCE, IOC_NONE }, { "confidencescore", F_CONFIDENCE, IOC_NONE },
		{ "score", F_CONFIDENCE, IOC_NONE },
		{ "firstseen", F_FIRST_SEEN, IOC_NONE }, { "dateadded", F_FIRST_SEEN, IOC_NONE },
		{ "timegenerated", F_FIRST_SEEN, IOC_NONE }, { "date", F_FIRST_SEEN, IOC_NONE },
		{ "created", F_FIRST_SEEN, IOC_NONE },
		{ "lastseen", F_LAST_SEEN, IOC_NONE },
		{ "validuntil", F_VALID_UNTIL, IOC_NONE }, { "expirationdatetime", F_VALID_UNTIL, IOC_NONE },
		{ "expiration", F_VALID_UNTIL, IOC_NONE }, { "expires", F_VALID_UNTIL, IOC_NONE },
		{ "tags", F_TAGS, IOC_NONE }, { "tag", F_TAGS, IOC_NONE }, { "labels", F_TAGS, IOC_NONE },
		{ "malware", F_TAGS, IOC_NONE }, { "malwarefamily", F_TAGS, IOC_NONE },
		{ "family", F_TAGS, IOC_NONE }, { "threattype", F_TAGS, IOC_NONE },
		{ "context", F_CONTEXT, IOC_NONE }, { "description", F_CONTEXT, IOC_NONE },
		{ "notes", F_CONTEXT, IOC_NONE }, { "note", F_CONTEXT, IOC_NONE },
		{ "comment", F_CONTEXT, IOC_NONE },
		{ "reference", F_REFERENCE, IOC_NONE }, { "referenceurl", F_REFERENCE, IOC_NONE },
		{ "tlp", F_TLP, IOC_NONE }, { "trafficlightprotocollevel", F_TLP, IOC_NONE },
		{ "mitretechniques", F_TECHNIQUES, IOC_NONE }, { "techniques", F_TECHNIQUES, IOC_NONE },
		{ "industries", F_INDUSTRIES, IOC_NONE }, { "industry", F_INDUSTRIES, IOC_NONE },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(k, names[i].name)) {
			*forced = names[i].type;
			return names[i].field;
		}
	return -1;
}

/* A feed's type word → cairn's type; IOC_NONE = detect; -1 = not an indicator type cairn keeps. */
static int type_word(const char *s)
{
	char k[48];
	size_t n = 0;
	for (const char *p = s; *p && n < sizeof(k) - 1; p++)
		if (isalnum((unsigned char)*p))
			k[n++] = (char)tolower((unsigned char)*p);
	k[n] = '\0';
	if (n == 0)
		return IOC_NONE;
	static const struct {
		const char *w;
		int t;
	} words[] = {
		{ "ipv4", IOC_IPV4 }, { "ipv4addr", IOC_IPV4 }, { "ip", IOC_NONE }, { "ipaddress", IOC_NONE },
		{ "ipaddr", IOC_NONE }, { "ipsrc", IOC_NONE }, { "ipdst", IOC_NONE }, { "ipv6", IOC_IPV6 },
		{ "ipv6addr", IOC_IPV6 }, { "domain", IOC_DOMAIN }, { "domainname", IOC_DOMAIN },
		{ "hostname", IOC_DOMAIN }, { "host", IOC_DOMAIN }, { "fqdn", IOC_DOMAIN },
		{ "url", IOC_URL }, { "uri", IOC_URL }, { "link", IOC_URL }, { "md5", IOC_MD5 },
		{ "filehashmd5", IOC_MD5 }, { "sha1", IOC_SHA1 }, { "filehashsha1", IOC_SHA1 },
		{ "sha256", IOC_SHA256 }, { "filehashsha256", IOC_SHA256 }, { "sha512", IOC_SHA512 },
		{ "filemd5", IOC_MD5 }, { "filesha1", IOC_SHA1 }, { "filesha256", IOC_SHA256 },
		{ "filesha512", IOC_SHA512 }, { "filehashsha512", IOC_SHA512 }, { "md5hash", IOC_MD5 },
		{ "sha1hash", IOC_SHA1 }, { "sha256hash", IOC_SHA256 },
		{ "hash", IOC_NONE }, { "file", IOC_NONE }, { "filehash", IOC_NONE }, { "email", IOC_EMAIL },
		{ "emailaddr", IOC_EMAIL }, { "emailaddress", IOC_EMAIL }, { "emailsrc", IOC_EMAIL },
		{ "cve", IOC_CVE }, { "vulnerability", IOC_CVE }, { "mitreattack", IOC_MITRE },
		{ "technique", IOC_MITRE }, { "attackpattern", IOC_MITRE },
	};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcmp(k, words[i].w))
			return words[i].t;
	return -1;
}

/* Month/day/year as some feeds write dates (5/28/2021). */
static int us_date(const char *s, int64_t *out)
{
	int m, d, y;
	char tail;
	if (sscanf(s, "%d/%d/%d%c", &m, &d, &y, &tail) != 3 || m < 1 || m > 12 || d < 1 || d > 31 || y < 1970)
		return -1;
	char iso[32];
	snprintf(iso, sizeof(iso), "%04d-%02d-%02d", y, m, d);
	return time_parse_rfc3339(iso, 10, out, NULL);
}

static int set_time(int64_t *out, const char *s, size_t len, const char *what, struct err *e)
{
	if (len == 0)
		return 0;
	struct err te;
	if (imp_parse_time(s, len, out, &te) == 0 || us_date(s, out) == 0)
		return 0;
	if (len >= 10 && time_parse_rfc3339(s, 10, out, NULL) == 0)	/* "2024-09-01 12:00" and the like */
		return 0;
	return err_set(e, ERR_INVALID, "%s '%.40s' is not a date", what, utf8_valid(s, len) ? s : "?");
}

struct csv_map {
	int col[F_FIELD_COUNT];
	enum ioc_type value_type;
};

static int map_header(struct run *run, const struct csv_row *h, struct csv_map *m, struct err *e)
{
	for (int f = 0; f < F_FIELD_COUNT; f++)
		m->col[f] = -1;
	m->value_type = IOC_NONE;
	for (int f = 0; f < F_FIELD_COUNT; f++) {
		const char *want = run->o->map[f];
		if (want == NULL)
			continue;
		for (size_t i = 0; i < h->n; i++)
			if (!strcasecmp(h->field[i], want))
				m->col[f] = (int)i;
		if (m->col[f] < 0)
			return err_set(e, ERR_INVALID, "--map %s=%s: the CSV has no column '%s'", field_names[f],
				       want, want);
	}
	for (size_t i = 0; i < h->n; i++) {
		enum ioc_type t = IOC_NONE;
		/* A BOM or stray spaces around a header name should not hide it. */
		int f = guess_field(h->field[i], &t);
		if (f < 0 || m->col[f] >= 0)
			continue;
		m->col[f] = (int)i;
		if (f == F_VALUE)
			m->value_type = t;
	}
	if (m->col[F_VALUE] < 0)
		return err_set(e, ERR_INVALID,
			       "the CSV header names no value column (value, indicator, ioc, domain, url,"
			       " ip, md5, sha1, sha256, …); use --map value=COLUMN");
	return 0;
}

static const char *cell(const struct csv_row *row, int col, size_t *len)
{
	if (col < 0 || (size_t)col >= row->n) {
		*len = 0;
		return "";
	}
	const char *s = row->field[col];
	size_t n = row->len[col];
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	*len = n;
	return s;
}

static int csv_fill(struct run *run, const struct csv_row *row, const struct csv_map *m,
		    struct ioc_input *in, const char *value, size_t vlen, struct err *e)
{
	size_t n;
	const char *s;
	enum ioc_type t = m->value_type;
	s = cell(row, m->col[F_TYPE], &n);
	if (n) {
		int tw = type_word(arena_strndup(&run->ar, s, n));
		if (tw < 0)
			return err_set(e, ERR_INVALID, "type '%.32s' is not an indicator type cairn keeps",
				       utf8_valid(s, n) ? arena_strndup(&run->ar, s, n) : "?");
		if (tw != IOC_NONE)
			t = (enum ioc_type)tw;
	}
	if (run->o->defaults.type != IOC_NONE)
		t = run->o->defaults.type;
	if (imp_set_value(in, value, vlen, t, &run->ar, e))
		return ERR_INVALID;
	s = cell(row, m->col[F_CONFIDENCE], &n);
	if (n && imp_set_confidence(in, arena_strndup(&run->ar, s, n), e))
		return ERR_INVALID;
	s = cell(row, m->col[F_FIRST_SEEN], &n);
	if (set_time(&in->first_seen, arena_strndup(&run->ar, s, n), n, "first_seen", e))
		return ERR_INVALID;
	s = cell(row, m->col[F_LAST_SEEN], &n);
	if (set_time(&in->last_seen, arena_strndup(&run->ar, s, n), n, "last_seen", e))
		return ERR_INVALID;
	s = cell(row, m->col[F_VALID_UNTIL], &n);
	if (set_time(&in->valid_until, arena_strndup(&run->ar, s, n), n, "valid_until", e))
		return ERR_INVALID;
	s = cell(row, m->col[F_TAGS], &n);
	imp_add_tags(in, s, n, &run->ar);
	s = cell(row, m->col[F_CONTEXT], &n);
	if (n && n <= IOC_CONTEXT_MAX && utf8_valid(s, n))
		in->context = arena_strndup(&run->ar, s, n);
	s = cell(row, m->col[F_REFERENCE], &n);
	if (n && n <= IOC_URL_FIELD_MAX && utf8_valid(s, n))
		in->reference_url = arena_strndup(&run->ar, s, n);
	s = cell(row, m->col[F_TLP], &n);
	if (n && imp_set_tlp(in, arena_strndup(&run->ar, s, n), e))
		return ERR_INVALID;
	s = cell(row, m->col[F_TECHNIQUES], &n);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && !strchr(",;| ", s[j]))
			j++;
		if (j > i && imp_add_technique(in, s + i, j - i, &run->ar, e))
			return ERR_INVALID;
		i = j + 1;
	}
	s = cell(row, m->col[F_INDUSTRIES], &n);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && !strchr(",;|", s[j]))
			j++;
		if (j > i && imp_add_industry(in, s + i, j - i, &run->ar, e))
			return ERR_INVALID;
		i = j + 1;
	}
	return 0;
}

static bool hash_list(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)v[i]) && v[i] != ',' && v[i] != ' ')
			return false;
	return true;
}

static bool blank_row(const struct csv_row *row)
{
	for (size_t i = 0; i < row->n; i++)
		for (size_t k = 0; k < row->len[i]; k++)
			if (row->field[i][k] != ' ' && row->field[i][k] != '\t')
				return false;
	return true;
}

static int run_csv(struct run *run, struct err *e)
{
	struct csv_reader *cr = csv_new(run->in, run->o->delimiter);
	struct csv_row row;
	struct csv_map m = { .value_type = IOC_NONE };
	bool have_header = false;
	int rc;
	while ((rc = csv_next(cr, &row, e)) != 0) {
		if (rc == ERR_INVALID || rc == ERR_TOO_LARGE) {
			reject(run, e->offset, e->msg);
			continue;
		}
		if (rc < 0)
			break;
		/* Comment lines before and inside the data, as some feeds have. */
		if (row.len[0] > 0 && (row.field[0][0] == '#' || (row.n == 1 && comment_line(row.field[0], row.len[0])))) {
			run->r->skipped++;
			continue;
		}
		if (blank_row(&row)) {
			run->r->skipped++;
			continue;
		}
		if (!have_header) {
			rc = map_header(run, &row, &m, e);
			if (rc)
				break;
			have_header = true;
			continue;
		}
		size_t vlen;
		const char *v = cell(&row, m.col[F_VALUE], &vlen);
		/* Some feeds put several hashes of one file in a cell ("md5,sha1,sha256"): each is
		 * one value. Other cells with commas (file names, command lines) stay whole. */
		bool split = vlen && memchr(v, ',', vlen) && hash_list(v, vlen);
		size_t i = 0;
		do {
			size_t j = split ? i : vlen;
			while (split && j < vlen && v[j] != ',')
				j++;
			const char *part = v + i;
			size_t plen = j - i;
			while (plen && *part == ' ')
				part++, plen--;
			struct ioc_input *in = slot(run);
			struct err ve = { 0 };
			if (plen == 0 && vlen == 0) {
				reject(run, row.line, "empty value");
			} else if (plen == 0) {
				/* an empty part of a list: nothing */
			} else if (csv_fill(run, &row, &m, in, part, plen, &ve) != 0) {
				reject(run, row.line, ve.msg);
			} else if ((rc = accept_input(run, e)) != 0) {
				goto out;
			}
			i = j + 1;
		} while (split && i < vlen);
	}
out:
	csv_free(cr);
	if (rc == 0 && !have_header && run->r->read == 0 && run->r->skipped == 0)
		return 0;	/* an empty file */
	return rc < 0 ? rc : 0;
}

/* ---- JSON ---- */

static int run_json(struct run *run, struct err *e)
{
	struct jstream *js = jstream_new(run->in);
	const char *elem;
	size_t len;
	int rc;
	if (run->ndjson)
		jstream_lines(js);
	for (;;) {
		rc = jstream_next(js, &elem, &len, e);
		if (rc == ERR_TOO_LARGE && run->ndjson) {	/* one overlong line: skip it */
			reject(run, e->offset, "record larger than 4 MiB");
			continue;
		}
		if (rc != 1)
			break;
		json_error_t je;
		json_t *o = json_loadb(elem, len, JSON_REJECT_DUPLICATES, &je);
		struct err ve = { 0 };
		if (o == NULL) {
			char why[200];
			snprintf(why, sizeof(why), "not valid JSON: %s", je.text);
			reject(run, jstream_line(js) + (je.line > 0 ? (size_t)je.line - 1 : 0), why);
			continue;
		}
		struct ioc_input *in = &run->batch[run->n];
		if (imp_input_from_json(o, &run->o->defaults, &run->ar, in, &ve) != 0) {
			reject(run, jstream_line(js), ve.msg);
			json_decref(o);
			continue;
		}
		/* --feed (or a feed definition) names the source, whatever the record says. */
		if (run->o->feed_given && run->o->defaults.feed)
			in->feed = run->o->defaults.feed;
		/* The input borrows strings from o: move them into the arena. */
		const char **own[] = { &in->feed, &in->category, &in->reference_url, &in->origin, &in->context };
		for (size_t k = 0; k < sizeof(own) / sizeof(own[0]); k++)
			if (*own[k])
				*own[k] = arena_strdup(&run->ar, *own[k]);
		json_decref(o);
		if (run->o->defaults.type != IOC_NONE && in->type != run->o->defaults.type) {
			reject(run, jstream_line(js), "the value is not of the type given with --type");
			continue;
		}
		rc = accept_input(run, e);
		if (rc)
			break;
	}
	jstream_free(js);
	return rc < 0 ? rc : 0;
}

/* Whether the text holds a STIX id: "name--xxxxxxxx-…" inside quotes. */
static bool stix_id_in(const char *p, size_t n)
{
	for (size_t i = 1; i + 12 < n; i++) {
		if (p[i] != '-' || p[i + 1] != '-' || !islower((unsigned char)p[i - 1]))
			continue;
		size_t k = 0;
		while (k < 8 && isxdigit((unsigned char)p[i + 2 + k]))
			k++;
		if (k == 8 && p[i + 10] == '-')
			return true;
	}
	return false;
}

/* Whether the text starts like MISP: an "Event" or "response" key, or attributes with the
 * to_ids flag only MISP writes. */
static bool misp_head(const char *p, size_t n)
{
	static const char *const keys[] = { "\"Event\"", "\"response\"" };
	for (size_t k = 0; k < 2; k++) {
		size_t kl = strlen(keys[k]);
		for (const char *q = p; (q = memmem(q, n - (size_t)(q - p), keys[k], kl)) != NULL; q += kl) {
			const char *c = q + kl;
			while (c < p + n && (*c == ' ' || *c == '\t' || *c == '\r' || *c == '\n'))
				c++;
			if (c < p + n && *c == ':')
				return k == 0 || memmem(p, n, "\"Event\"", 7) != NULL;
		}
	}
	return memmem(p, n, "\"Attribute\"", 11) && memmem(p, n, "\"to_ids\"", 8);
}

static enum import_format sniff(const char *path, const char *first, const char *head, size_t n)
{
	const char *dot = strrchr(path, '.');
	char ext[16] = "";
	if (dot && strlen(dot) < sizeof(ext)) {
		snprintf(ext, sizeof(ext), "%s", dot);
		if (!strcasecmp(ext, ".gz")) {
			const char *p = dot;
			while (p > path && p[-1] != '.' && p[-1] != '/')
				p--;
			if (p > path && p[-1] == '.' && (size_t)(dot - p + 1) < sizeof(ext))
				snprintf(ext, (size_t)(dot - p + 2), "%s", p - 1);
		}
	}
	if (!strcasecmp(ext, ".csv") || !strcasecmp(ext, ".tsv"))
		return IMPORT_CSV;
	if ((!strcasecmp(ext, ".json") || !strcasecmp(ext, ".ndjson") || !strcasecmp(ext, ".jsonl")) &&
	    *first != '[' && *first != '{')
		return IMPORT_JSON;
	if ((*first == '[' || *first == '{') && misp_head(head, n))
		return IMPORT_MISP;
	if (*first == '[' || *first == '{') {
		/* STIX: a bundle, or objects with a spec_version or a "type--uuid" id. */
		if (memmem(head, n, "\"bundle\"", 8) || memmem(head, n, "\"spec_version\"", 14) ||
		    memmem(head, n, "\"pattern\"", 9) || stix_id_in(head, n))
			return IMPORT_STIX;
		return IMPORT_JSON;
	}
	return IMPORT_TXT;
}

static int read_format(struct run *run, enum import_format f, struct err *e)
{
	switch (f) {
	case IMPORT_CSV:
		return run_csv(run, e);
	case IMPORT_JSON:
		return run_json(run, e);
	case IMPORT_STIX:
		return import_stix_run(run, e);
	case IMPORT_MISP:
		return import_misp_run(run, e);
	default:
		return run_txt(run, e);
	}
}

/* Reads run->in (already open) as format f; closes it. */
static int run_format(struct run *run_in, enum import_format f, struct err *e)
{
	struct run run = *run_in;
	run.batch = xcalloc(IMPORT_BATCH, sizeof(*run.batch));
	arena_init(&run.ar);
	int rc = 0;
	run.allow = run.o->allow;
	if (run.allow == NULL) {
		rc = allow_db_load(run.s, &run.allow, e);
		run.own_allow = rc == 0;
	}
	if (run.allow)
		store_allow_expect(run.s, allow_set_generation(run.allow));
	if (rc == 0)
		rc = read_format(&run, f, e);
	if (rc == 0)
		rc = flush(&run, e);
	const struct import_opts *o = run.o;
	struct import_result *r = run.r;
	if (rc == 0 && o->defaults.feed)
		rc = store_feed_note(run.s, o->defaults.feed, o->defaults.category ? o->defaults.category : "",
				     r->read, r->added, r->updated, r->rejected, e);
	if (rc == 0 && run.ntally) {
		int64_t ids[ALLOW_LISTS_MAX], ns[ALLOW_LISTS_MAX];
		for (size_t i = 0; i < run.ntally; i++) {
			ids[i] = run.tally[i].id;
			ns[i] = run.tally[i].n;
		}
		rc = store_allow_hits(run.s, ids, ns, run.ntally, e);
	}
	store_allow_expect(run.s, -1);
	if (run.own_allow)
		allow_set_unref(run.allow);
	free(run.tally);
	if (run.dirty_progress)
		fprintf(stderr, "\r\033[K");
	free(run.batch);
	arena_cleanup(&run.ar);
	input_close(run.in);
	return rc;
}

int import_run(struct store *s, const char *path, const struct import_opts *o, struct import_result *r,
	       struct err *e)
{
	struct run run = { .s = s, .o = o, .r = r };
	memset(r, 0, sizeof(*r));
	if (o->format == IMPORT_AUTO && strcmp(path, "-") == 0)
		return err_set(e, ERR_INVALID, "reading standard input needs --format (txt, csv, json, stix or misp)");
	run.in = input_open(path, e);
	if (run.in == NULL)
		return ERR_IO;
	enum import_format f = o->format;
	if (f == IMPORT_AUTO) {
		/* Peek at the first non-blank byte, then open again (files only: one block read twice). */
		char first = 0;
		char tmp[4096];
		long n = input_read(run.in, tmp, sizeof(tmp));
		for (long i = 0; i < n; i++)
			if (!isspace((unsigned char)tmp[i]) && (unsigned char)tmp[i] != 0xef &&
			    (unsigned char)tmp[i] != 0xbb && (unsigned char)tmp[i] != 0xbf) {
				first = tmp[i];
				break;
			}
		input_close(run.in);
		run.in = NULL;
		f = sniff(path, &first, tmp, n > 0 ? (size_t)n : 0);
		run.in = input_open(path, e);
		if (run.in == NULL)
			return ERR_IO;
	}
	r->format = f;
	{
		const char *dot = strrchr(path, '.');
		const char *stem_end = dot && !strcasecmp(dot, ".gz") ? dot : NULL;
		if (stem_end) {
			dot = NULL;
			for (const char *p = stem_end - 1; p > path && *p != '/'; p--)
				if (*p == '.') {
					dot = p;
					break;
				}
		}
		run.ndjson = dot && (!strncasecmp(dot, ".ndjson", 7) || !strncasecmp(dot, ".jsonl", 6));
	}
	return run_format(&run, f, e);
}

int import_input(struct store *s, struct input *in, enum import_format f, bool ndjson,
		 const struct import_opts *o, struct import_result *r, struct err *e)
{
	struct run run = { .s = s, .o = o, .r = r, .in = in, .ndjson = ndjson };
	memset(r, 0, sizeof(*r));
	r->format = f;
	return run_format(&run, f, e);
}
