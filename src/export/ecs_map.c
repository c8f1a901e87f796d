/*
 * ecs_map.c — ecs_map_object(): one STIX object to its ECS documents.
 *
 * The steps follow Elastic's ti_custom ingest pipeline in its order
 * (MAPPING.md §2), because in that profile the order shows: a step that fails
 * leaves a pipeline-error document holding what the steps before it wrote,
 * and the final passes (drop _conf, halve double backslashes, prune empty
 * values) never run on it. Profile ecs runs the same steps, fixed where
 * MAPPING.md §15 says, records problems in error.message and carries on.
 *
 * Output keys are written in alphabetical order at every level we build;
 * properties copied from the STIX object keep its order. The writer opens an
 * object only when a member is actually written, so empty objects vanish.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/crypto.h"
#include "export/ecs_int.h"

#define ECS_VERSION "8.17.0"
#define TI_PIPELINE "logs-ti_custom.indicator-1.8.4"

/* ---- extracted values ---- */

void ecs_vals_add(struct arena *a, struct ecs_vals *v, enum ecs_field f, const char *s, size_t n, bool dedup)
{
	struct ecs_list *l = &v->f[f];
	if (dedup)
		for (size_t i = 0; i < l->n; i++)
			if (l->v[i].len == n && !memcmp(l->v[i].s, s, n))
				return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4;
		struct ecs_str *nv = arena_alloc(a, cap * sizeof(*nv));
		if (l->n)
			memcpy(nv, l->v, l->n * sizeof(*nv));
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n].s = arena_strndup(a, s, n);
	l->v[l->n].len = n;
	l->n++;
}

void ecs_vals_type(struct ecs_vals *v, const char *type)
{
	for (size_t i = 0; i < v->ntypes; i++)
		if (!strcmp(v->types[i], type))
			return;
	if (v->ntypes < ECS_MAX_TYPES)
		v->types[v->ntypes++] = type;
}

bool ecs_vals_empty(const struct ecs_vals *v)
{
	if (v->ntypes)
		return false;
	for (int f = 0; f < EF_COUNT; f++)
		if (v->f[f].n)
			return false;
	return true;
}

/* ---- durations and names ---- */

int64_t ecs_parse_duration(const char *s)
{
	static const struct { char unit; int64_t us; } units[3] = {
		{ 'd', USEC_PER_DAY }, { 'h', 3600 * USEC_PER_SEC }, { 'm', 60 * USEC_PER_SEC },
	};
	if (s == NULL || *s == '\0')
		return -1;
	int64_t total = 0;
	int next = 0;		/* units must come largest first, each once */
	const char *p = s;
	while (*p) {
		int64_t v = 0;
		const char *start = p;
		while (*p >= '0' && *p <= '9') {
			if (v > 1000000000)
				return -1;
			v = v * 10 + (*p++ - '0');
		}
		if (p == start)
			return -1;
		int u = next;
		while (u < 3 && units[u].unit != *p)
			u++;
		if (u == 3)
			return -1;
		p++;
		next = u + 1;
		if (v > 36500 * USEC_PER_DAY / units[u].us)
			return -1;
		total += v * units[u].us;
	}
	if (total <= 0 || total > 36500 * USEC_PER_DAY)
		return -1;
	return total;
}

int ecs_profile_from_name(const char *s)
{
	if (s && !strcmp(s, "ecs"))
		return ECS_PROFILE_ECS;
	if (s && !strcmp(s, "ti_custom"))
		return ECS_PROFILE_TI_CUSTOM;
	return -1;
}

/* A TLP level as ECS writes it (upper case), or NULL. */
static const char *tlp_upper(const char *s)
{
	static const char *const names[] = { "CLEAR", "WHITE", "GREEN", "AMBER", "AMBER+STRICT", "RED" };
	if (s == NULL)
		return NULL;
	if (!strncasecmp(s, "TLP:", 4))
		s += 4;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(s, names[i]))
			return names[i];
	return NULL;
}

/* The TLP marking definitions of STIX 2.1 (TLP 1.0, §7.2.1.4) and of the TLP 2.0 extension,
 * least restrictive first. */
static const struct { const char *id, *tlp, *version; int rank; } tlp_marks[] = {
	{ "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "WHITE", "1.0", 0 },
	{ "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "CLEAR", "2.0", 0 },
	{ "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "GREEN", "1.0", 1 },
	{ "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "GREEN", "2.0", 1 },
	{ "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "AMBER", "1.0", 2 },
	{ "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "AMBER", "2.0", 2 },
	{ "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", "AMBER+STRICT", "2.0", 3 },
	{ "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "RED", "1.0", 4 },
	{ "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "RED", "2.0", 4 },
};

/* ---- the mapping ---- */

/* How far the ti_custom pipeline got: a failure at stage S leaves what stages < S wrote. */
enum stage {
	ST_CREATED, ST_MODIFIED, ST_VALID_FROM, ST_MOVE, ST_CONFIDENCE, ST_TAGS, ST_EXPIRY,
	ST_EXTRACT, ST_DONE
};

#define MAX_ERRORS 8

struct map {
	const struct ecs_opts *o;
	bool ti;
	const char *raw;
	size_t rawlen;
	json_t *stix;
	struct arena a;

	enum stage stage;		/* ti_custom: ST_DONE unless a step failed */
	const char *errors[MAX_ERRORS];
	size_t nerrors;

	const char *id;
	bool have_ts, have_last, have_first, have_exp;
	int64_t ts, last, first, exp, modified;
	const char *confidence;
	struct ecs_str *tags;
	size_t ntags;
	const char *reason, *dur_text;
	const char *ti_type;		/* ti_custom's threat.indicator.type */
	const char *tlp, *tlp_version;
	json_t *refs;			/* profile ecs: threat.indicator.reference, an array */

	struct ecs_vals *alts;
	size_t nalts;
};

static void add_error(struct map *m, const char *fmt, ...) CAIRN_PRINTF(2, 3);

static void add_error(struct map *m, const char *fmt, ...)
{
	if (m->nerrors == MAX_ERRORS)
		return;
	char tmp[ERR_MSG_MAX + 128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	m->errors[m->nerrors++] = arena_strdup(&m->a, tmp);
}

/* ti_custom: the step of Elastic's pipeline failed; the document stops here. */
static void ti_fail(struct map *m, enum stage at, const char *type, const char *tag, const char *msg)
{
	add_error(m, "Processor \"%s\" with tag \"%s\" in pipeline \"%s\" failed with message \"%s\"", type,
		  tag, TI_PIPELINE, msg);
	m->stage = at;
}

static json_t *prop(const struct map *m, const char *k)
{
	json_t *v = json_object_get(m->stix, k);
	return json_is_null(v) ? NULL : v;
}

static const char *prop_str(const struct map *m, const char *k)
{
	return json_string_value(prop(m, k));
}

/* A date property; false (and an error) when present but unreadable. */
static bool date_prop(struct map *m, const char *k, const char *tag, enum stage st, bool *have, int64_t *us)
{
	json_t *v = prop(m, k);
	*have = false;
	if (v == NULL)
		return true;
	if (json_is_string(v) && ecs_time_iso8601(json_string_value(v), json_string_length(v), us)) {
		*have = true;
		return true;
	}
	if (m->ti)
		ti_fail(m, st, "date", tag, "unable to parse date");
	else
		add_error(m, "%s: not a date", k);
	return false;
}

static bool dates(struct map *m)
{
	if (!date_prop(m, "created", "date_created", ST_CREATED, &m->have_ts, &m->ts) && m->ti)
		return false;
	bool have_mod;
	if (!date_prop(m, "modified", "date_modified", ST_MODIFIED, &have_mod, &m->last) && m->ti)
		return false;
	m->have_last = have_mod;
	m->modified = have_mod ? m->last : 0;
	if (!date_prop(m, "valid_from", "date_valid_from", ST_VALID_FROM, &m->have_first, &m->first) && m->ti)
		return false;
	return true;
}

static bool confidence(struct map *m)
{
	json_t *v = prop(m, "confidence");
	if (v == NULL)
		return true;
	if (!json_is_number(v)) {
		if (m->ti) {
			ti_fail(m, ST_CONFIDENCE, "script", "script_normalize_confidence",
				"cannot compare the confidence, which is not a number");
			return false;
		}
		add_error(m, "confidence: not a number");
		return true;
	}
	double c = json_number_value(v);
	m->confidence = c == 0 ? "None" : c >= 1 && c <= 29 ? "Low" : c >= 30 && c <= 69 ? "Medium"
		      : c >= 70 && c <= 100 ? "High" : "Not Specified";
	return true;
}

static void push_tag(struct map *m, const char *s, size_t n, size_t cap)
{
	if (m->ntags < cap) {
		m->tags[m->ntags].s = s;
		m->tags[m->ntags++].len = n;
	}
}

/* labels → tags; ti_custom puts the agent's tags first and un-escapes \" (the gsub step). */
static void tags(struct map *m)
{
	json_t *labels = prop(m, "labels");
	size_t cap = 3 + (json_is_array(labels) ? json_array_size(labels) : 0);
	m->tags = arena_alloc(&m->a, cap * sizeof(*m->tags));
	if (m->ti) {
		if (m->o->preserve_original_event)
			push_tag(m, "preserve_original_event", 23, cap);
		push_tag(m, "forwarded", 9, cap);
		push_tag(m, "ti_custom-indicator", 19, cap);
	}
	size_t i;
	json_t *l;
	json_array_foreach(labels, i, l) {
		char num[48];
		switch (json_typeof(l)) {
		case JSON_STRING:
			push_tag(m, json_string_value(l), json_string_length(l), cap);
			break;
		case JSON_INTEGER:
		case JSON_REAL:
		case JSON_TRUE:
		case JSON_FALSE:
			if (!m->ti)
				break;
			if (json_is_integer(l))
				snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(l));
			else if (json_is_real(l))
				snprintf(num, sizeof(num), "%.17g", json_real_value(l));
			else
				snprintf(num, sizeof(num), "%s", json_is_true(l) ? "true" : "false");
			push_tag(m, arena_strdup(&m->a, num), strlen(num), cap);
			break;
		default:	/* null renders as "", which is pruned; objects: not reproduced */
			break;
		}
	}
	if (!m->ti)
		return;
	for (size_t t = 0; t < m->ntags; t++) {
		const char *s = m->tags[t].s;
		size_t n = m->tags[t].len;
		if (memmem(s, n, "\\\"", 2) == NULL)
			continue;
		char *o = arena_alloc(&m->a, n + 1);
		size_t k = 0;
		for (size_t j = 0; j < n; j++) {
			if (s[j] == '\\' && j + 1 < n && s[j + 1] == '"')
				continue;
			o[k++] = s[j];
		}
		m->tags[t].s = o;
		m->tags[t].len = k;
	}
}

/* The configured duration as text, for stix.ioc_expiration_duration (and _conf). */
static void duration_text(struct map *m)
{
	const struct ecs_opts *o = m->o;
	if (o->expiration_text && *o->expiration_text) {
		m->dur_text = o->expiration_text;
	} else if (o->expiration_us > 0) {
		char tmp[32];
		int64_t us = o->expiration_us;
		if (us % USEC_PER_DAY == 0)
			snprintf(tmp, sizeof(tmp), "%lldd", (long long)(us / USEC_PER_DAY));
		else if (us % (3600 * USEC_PER_SEC) == 0)
			snprintf(tmp, sizeof(tmp), "%lldh", (long long)(us / (3600 * USEC_PER_SEC)));
		else
			snprintf(tmp, sizeof(tmp), "%lldm", (long long)(us / (60 * USEC_PER_SEC)));
		m->dur_text = arena_strdup(&m->a, tmp);
	}
}

static int64_t to_ms(int64_t us)
{
	return us - ((us % 1000) + 1000) % 1000;
}

/* MAPPING.md §7. */
static bool expiry(struct map *m)
{
	const struct ecs_opts *o = m->o;
	json_t *vu = prop(m, "valid_until");
	json_t *revoked = prop(m, "revoked");
	if (vu) {
		if (json_is_string(vu) && ecs_time_iso8601(json_string_value(vu), json_string_length(vu), &m->exp)) {
			m->exp = to_ms(m->exp);
			m->have_exp = true;
		} else if (m->ti) {
			ti_fail(m, ST_EXPIRY, "date", "date_ioc_expiration_valid_until", "unable to parse date");
			return false;
		} else {
			add_error(m, "valid_until: not a date");
		}
	} else if (json_is_true(revoked)) {
		if (m->have_last) {
			m->exp = to_ms(m->last);
			m->have_exp = true;
		} else if (m->ti) {
			ti_fail(m, ST_EXPIRY, "set", "set_ioc_expiration_revoked",
				"field [modified_at] not present as part of path [threat.indicator.modified_at]");
			return false;
		} else {
			add_error(m, "revoked, but no modified to expire it at");
		}
	} else if (o->expiration_us > 0) {
		if (m->have_last || m->have_first) {
			/* from the normalised date, in whole ms */
			m->exp = to_ms(m->have_last ? m->last : m->first) + o->expiration_us;
			m->have_exp = true;
		} else if (m->ti) {
			ti_fail(m, ST_EXPIRY, "date", "date_ioc_expiration_date",
				"field [ioc_expiration_date] not present as part of path [stix.ioc_expiration_date]");
			return false;
		} else {
			add_error(m, "neither modified nor valid_from to count the expiration from");
		}
	} else if (m->ti) {
		ti_fail(m, ST_EXPIRY, "date", "date_ioc_expiration_date",
			"field [ioc_expiration_date] not present as part of path [stix.ioc_expiration_date]");
		return false;
	}
	if (m->have_exp)
		m->reason = vu ? ECS_REASON_VALID_UNTIL : json_is_true(revoked) ? ECS_REASON_REVOKED
						       : ECS_REASON_DURATION;
	return true;
}

static void markings(struct map *m)
{
	int best = -1;
	size_t i;
	json_t *ref;
	if (!m->ti) {
		json_array_foreach(prop(m, "object_marking_refs"), i, ref) {
			const char *s = json_string_value(ref);
			for (size_t k = 0; s && k < sizeof(tlp_marks) / sizeof(tlp_marks[0]); k++)
				if (!strcmp(s, tlp_marks[k].id) && tlp_marks[k].rank > best) {
					best = tlp_marks[k].rank;
					m->tlp = tlp_marks[k].tlp;
					m->tlp_version = tlp_marks[k].version;
				}
		}
	}
	if (m->tlp == NULL)
		m->tlp = tlp_upper(m->o->tlp);
}

static void extract(struct map *m)
{
	const char *pattern = prop_str(m, "pattern");
	size_t plen = pattern ? json_string_length(prop(m, "pattern")) : 0;
	if (m->ti) {
		m->nalts = 1;
		m->alts = arena_alloc(&m->a, sizeof(struct ecs_vals));
		memset(m->alts, 0, sizeof(struct ecs_vals));
		m->ti_type = pattern ? ecs_ti_type(pattern, plen) : NULL;
		if (m->ti_type)
			ecs_ti_extract(&m->a, pattern, plen, m->ti_type, m->alts);
		if (m->alts->error) {
			ti_fail(m, ST_EXTRACT, "date", "date_x509", m->alts->error);
			return;
		}
		const struct ecs_list *as = &m->alts->f[EF_AS_NUMBER];
		for (size_t i = 0; i < as->n; i++) {
			long long v;
			if (!ecs_int_text(as->v[i].s, as->v[i].len, true, &v)) {
				ti_fail(m, ST_EXTRACT, "convert", "foreach_threat_indicator_as_number_cf4eaae5",
					"unable to convert to integer");
				return;
			}
		}
		return;
	}
	const char *ptype = prop_str(m, "pattern_type");
	if (pattern && (ptype == NULL || !strcmp(ptype, "stix"))) {
		const char *why = NULL;
		/* Each document repeats the object (event.original, stix.*): bound what one object
		 * can make us write. */
		size_t max_parts = ECS_MAX_OUTPUT / (m->rawlen ? m->rawlen : 1);
		max_parts = max_parts < 1 ? 1 : max_parts > ECS_MAX_PARTS ? ECS_MAX_PARTS : max_parts;
		m->nalts = ecs_std_extract(&m->a, pattern, plen, max_parts, &m->alts, &why);
		if (why)
			add_error(m, "pattern: %s", why);
	} else {
		m->nalts = 1;
		m->alts = arena_alloc(&m->a, sizeof(struct ecs_vals));
		memset(m->alts, 0, sizeof(struct ecs_vals));
	}
	size_t i;
	json_t *r;
	json_array_foreach(prop(m, "external_references"), i, r) {
		json_t *url = json_object_get(r, "url");
		if (json_is_string(url) && json_string_length(url)) {
			if (m->refs == NULL)
				m->refs = json_array();
			json_array_append(m->refs, url);
		}
	}
}

/* fields: sorted property names. Returns false when none is present. */
static bool fingerprint(const struct map *m, const char *const *fields, size_t n, long part, char out[32])
{
	struct buf b = BUF_INIT;
	bool any = false;
	for (size_t i = 0; i < n; i++) {
		json_t *v = prop(m, fields[i]);
		if (v) {
			ecs_fp_value(&b, v);
			any = true;
		}
	}
	if (!any && !m->ti) {		/* no id at all: the text is what identifies it */
		ecs_fp_bytes(&b, m->raw, m->rawlen);
		any = true;
	}
	if (part >= 0) {
		char tmp[24];
		int k = snprintf(tmp, sizeof(tmp), "%ld", part);
		ecs_fp_bytes(&b, tmp, (size_t)k);
	}
	uint8_t md[20];
	crypto_sha1(b.data ? b.data : "", b.len, md);
	ecs_base64(md, 20, out);
	buf_cleanup(&b);
	return any;
}

/* ---- writing a document ---- */

static const char *const rdn_names[7] = { "common_name", "country", "distinguished_name", "locality",
					  "organization", "organizational_unit", "state_or_province" };

static void x509_name(struct ow *w, const char *k, const struct ecs_vals *v, int base)
{
	ow_begin(w, k);
	for (int i = 0; i < 7; i++)
		ow_klist(w, rdn_names[i], &v->f[base + i], L_STR);
	ow_end(w);
}

static void time_key(struct ow *w, const char *k, int64_t us)
{
	char tmp[40];
	ow_key(w, k);
	buf_putc(w->b, '"');
	buf_append(w->b, tmp, ecs_time_format(tmp, us));
	buf_putc(w->b, '"');
}

static void indicator(struct ow *w, const struct map *m, const struct ecs_vals *v)
{
	const struct ecs_list *f = v->f;
	bool ti = m->ti, moved = !ti || m->stage > ST_MOVE;
	ow_begin(w, "indicator");
	ow_begin(w, "as");
	ow_klist(w, "number", &f[EF_AS_NUMBER], ti ? L_INT32 : L_INT);
	ow_begin(w, "organization");
	ow_klist(w, "name", &f[EF_AS_ORG], L_STR);
	ow_end(w);
	ow_end(w);
	if (m->confidence && (!ti || m->stage > ST_CONFIDENCE))
		ow_kcstr(w, "confidence", m->confidence);
	if (moved)
		ow_kjson(w, "description", prop(m, "description"));
	ow_begin(w, "email");
	ow_klist(w, "address", &f[EF_EMAIL], L_STR);
	ow_end(w);
	ow_begin(w, "file");
	ow_klist(w, "directory", &f[EF_FILE_DIR], L_STR);
	ow_begin(w, "hash");
	static const char *const hashes[7] = { "md5", "sha1", "sha256", "sha384", "sha512", "ssdeep", "tlsh" };
	for (int i = 0; i < 7; i++)
		ow_klist(w, hashes[i], &f[EF_MD5 + i], L_STR);
	ow_end(w);
	ow_klist(w, "name", &f[EF_FILE_NAME], L_STR);
	ow_klist(w, "size", &f[EF_FILE_SIZE], L_INT);
	ow_end(w);
	if (m->have_first && (!ti || m->stage > ST_VALID_FROM))
		time_key(w, "first_seen", m->first);
	if (!ti && m->id)
		ow_kstr(w, "id", m->id, strlen(m->id));	/* ECS: an array; one value is one too */
	ow_klist(w, "ip", &f[EF_IP], L_STR);
	if (m->have_last && (!ti || m->stage > ST_MODIFIED))
		time_key(w, "last_seen", m->last);
	ow_begin(w, "marking");
	ow_kcstr(w, "tlp", m->tlp);
	ow_kcstr(w, "tlp_version", m->tlp_version);
	ow_end(w);
	if (m->have_last && (!ti || m->stage > ST_MODIFIED))
		time_key(w, "modified_at", m->last);
	if (moved)
		ow_kjson(w, "name", prop(m, "name"));
	ow_klist(w, "port", &f[EF_PORT], L_INT);
	if (m->refs)
		ow_kjson(w, "reference", m->refs);
	ow_begin(w, "registry");
	ow_begin(w, "data");
	ow_klist(w, "strings", &f[EF_REG_DATA], L_STR);
	ow_klist(w, "type", &f[EF_REG_DATA_TYPE], L_STR);
	ow_end(w);
	ow_klist(w, "hive", &f[EF_REG_HIVE], L_STR);
	ow_klist(w, "key", &f[EF_REG_KEY], L_STR);
	ow_klist(w, "path", &f[EF_REG_PATH], L_STR);
	ow_klist(w, "value", &f[EF_REG_VALUE], L_STR);
	ow_end(w);
	if (ti) {
		if (m->stage > ST_EXPIRY)
			ow_kcstr(w, "type", m->ti_type);
	} else if (v->ntypes == 1) {
		ow_kcstr(w, "type", v->types[0]);
	} else if (v->ntypes > 1) {
		ow_key(w, "type");
		buf_putc(w->b, '[');
		for (size_t i = 0; i < v->ntypes; i++) {
			if (i)
				buf_putc(w->b, ',');
			ow_str(w, v->types[i], strlen(v->types[i]));
		}
		buf_putc(w->b, ']');
	}
	ow_begin(w, "url");
	ow_klist(w, "domain", &f[EF_URL_DOMAIN], L_STR);
	ow_klist(w, "original", &f[EF_URL_ORIGINAL], L_STR);
	ow_end(w);
	ow_begin(w, "x509");
	x509_name(w, "issuer", v, EF_X_ISS);
	ow_kscalar(w, "not_after", &f[EF_X_NOT_AFTER]);
	ow_kscalar(w, "not_before", &f[EF_X_NOT_BEFORE]);
	ow_klist(w, "public_key_algorithm", &f[EF_X_PKALG], L_STR);
	ow_klist(w, "serial_number", &f[EF_X_SERIAL], L_STR);
	ow_klist(w, "signature_algorithm", &f[EF_X_SIGALG], L_STR);
	x509_name(w, "subject", v, EF_X_SUB);
	ow_klist(w, "version_number", &f[EF_X_VERSION], L_STR);
	ow_end(w);
	ow_end(w);
}

/* The STIX properties under stix.*, minus what the pipeline moved, plus the expiry. */
static void stix_obj(struct ow *w, const struct map *m)
{
	bool ti = m->ti, moved = !ti || m->stage > ST_MOVE, labels_gone = !ti || m->stage > ST_TAGS;
	bool expired = !ti || m->stage > ST_EXPIRY;
	const char *k;
	json_t *v;
	ow_begin(w, "stix");
	json_object_foreach(m->stix, k, v) {
		if ((moved && (!strcmp(k, "name") || !strcmp(k, "description"))) ||
		    (labels_gone && !strcmp(k, "labels")) || (ti && !strcmp(k, "_patterns")))
			continue;
		if (expired && ((m->have_exp && (!strcmp(k, "ioc_expiration_date") ||
						 !strcmp(k, "ioc_expiration_reason"))) ||
				(m->dur_text && !strcmp(k, "ioc_expiration_duration"))))
			continue;
		ow_kjson(w, k, v);
	}
	if (expired) {
		if (m->have_exp)
			time_key(w, "ioc_expiration_date", m->exp);
		ow_kcstr(w, "ioc_expiration_duration", m->dur_text);
		ow_kcstr(w, "ioc_expiration_reason", m->reason);
	}
	ow_end(w);
}

static void write_doc(struct map *m, const struct ecs_vals *v, struct buf *out)
{
	const struct ecs_opts *o = m->o;
	bool ti = m->ti, failed = m->nerrors > 0 && (ti ? m->stage < ST_DONE : true);
	struct ow w = { .b = out, .first = { true } };
	w.collapse = ti && m->stage == ST_DONE;
	w.prune = !ti || m->stage == ST_DONE;
	buf_putc(out, '{');
	if (m->have_ts && (!ti || m->stage > ST_CREATED))
		time_key(&w, "@timestamp", m->ts);
	else if (o->now)
		time_key(&w, "@timestamp", o->now);
	if (ti && m->stage < ST_DONE) {
		ow_begin(&w, "_conf");
		ow_kcstr(&w, "feed_name", o->feed_name);
		ow_kcstr(&w, "feed_reference", o->feed_reference);
		if (m->stage <= ST_EXPIRY && m->dur_text)
			ow_kcstr(&w, "ioc_expiration_duration", m->dur_text);
		ow_key(&w, "restrict_stix");
		buf_puts(out, o->all_objects ? "false" : "true");
		ow_end(&w);
	}
	if (!ti) {
		ow_begin(&w, "cairn");
		ow_klist(&w, "ip_networks", &v->f[EF_NETWORKS], L_STR);
		ow_end(&w);
	}
	ow_begin(&w, "ecs");
	ow_kcstr(&w, "version", ECS_VERSION);
	ow_end(&w);
	if (m->nerrors) {
		ow_begin(&w, "error");
		ow_key(&w, "message");
		buf_putc(out, '[');
		for (size_t i = 0; i < m->nerrors; i++) {
			if (i)
				buf_putc(out, ',');
			ow_str(&w, m->errors[i], strlen(m->errors[i]));
		}
		buf_putc(out, ']');
		ow_end(&w);
	}
	ow_begin(&w, "event");
	ow_key(&w, "category");
	buf_puts(out, "[\"threat\"]");
	if (o->now) {
		char tmp[40];
		ow_key(&w, "ingested");
		buf_putc(out, '"');
		buf_append(out, tmp, ecs_time_format_sec(tmp, o->now));
		buf_putc(out, '"');
	}
	ow_kcstr(&w, "kind", failed ? "pipeline_error" : "enrichment");
	ow_kstr(&w, "original", m->raw, m->rawlen);
	ow_key(&w, "type");
	buf_puts(out, "[\"indicator\"]");
	ow_end(&w);
	ow_begin(&w, "related");
	ow_klist(&w, "hash", &v->f[EF_REL_HASH], L_STR);
	ow_klist(&w, "hosts", &v->f[EF_REL_HOSTS], L_STR);
	ow_klist(&w, "ip", &v->f[EF_REL_IP], L_STR);
	ow_end(&w);
	stix_obj(&w, m);
	/* tags: the agent's and the labels (ti_custom after its step), and on failure the marker */
	size_t n = ti && m->stage <= ST_TAGS ? (o->preserve_original_event ? 3 : 2) : m->ntags;
	bool marker = ti && m->stage < ST_DONE;
	for (size_t i = 0; marker && i < n; i++)
		if (m->tags[i].len == 23 && !memcmp(m->tags[i].s, "preserve_original_event", 23))
			marker = false;
	size_t live = marker;
	for (size_t i = 0; i < n; i++)
		live += m->tags[i].len > 0 || !w.prune;
	if (live) {
		ow_key(&w, "tags");
		buf_putc(out, '[');
		bool first = true;
		for (size_t i = 0; i < n; i++) {
			if (m->tags[i].len == 0 && w.prune)
				continue;
			if (!first)
				buf_putc(out, ',');
			first = false;
			ow_str(&w, m->tags[i].s, m->tags[i].len);
		}
		if (marker)
			buf_puts(out, first ? "\"preserve_original_event\"" : ",\"preserve_original_event\"");
		buf_putc(out, ']');
	}
	ow_begin(&w, "threat");
	ow_begin(&w, "feed");
	ow_kcstr(&w, "name", o->feed_name);
	ow_kcstr(&w, "reference", o->feed_reference);
	ow_end(&w);
	indicator(&w, m, v);
	ow_end(&w);
	buf_putc(out, '}');
}

static int json_depth(json_t *v, int d)
{
	int max = d;
	size_t i;
	const char *k;
	json_t *x;
	if (d > ECS_MAX_DEPTH)
		return d;
	if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			int dd = json_depth(x, d + 1);
			if (dd > max)
				max = dd;
		}
	} else if (json_is_object(v)) {
		json_object_foreach(v, k, x) {
			int dd = json_depth(x, d + 1);
			if (dd > max)
				max = dd;
		}
	}
	return max;
}

static bool kept(const struct map *m)
{
	if (m->o->all_objects)
		return true;
	const char *type = prop_str(m, "type");
	json_t *sv = json_object_get(m->stix, "spec_version");
	const char *spec = json_string_value(sv);
	if (type == NULL || strcmp(type, "indicator"))
		return false;
	if (m->ti)
		return spec && !strcmp(spec, "2.1");
	return sv == NULL || (spec && (!strcmp(spec, "2.1") || !strcmp(spec, "2.0")));
}

int ecs_map_object(const char *json, size_t len, const struct ecs_opts *o, ecs_doc_cb cb, void *ctx,
		   struct err *e)
{
	if (len > ECS_MAX_INPUT)
		return err_set(e, ERR_TOO_LARGE, "the object is larger than %d bytes", ECS_MAX_INPUT);
	json_error_t je;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL)
		return err_set(e, ERR_INVALID, "not JSON: %s (at byte %d)", je.text, je.position);
	if (!json_is_object(root)) {
		json_decref(root);
		return err_set(e, ERR_INVALID, "not a JSON object");
	}
	if (json_depth(root, 1) > ECS_MAX_DEPTH) {
		json_decref(root);
		return err_set(e, ERR_TOO_LARGE, "the object is nested deeper than %d levels", ECS_MAX_DEPTH);
	}

	struct map m = { .o = o, .ti = o->profile == ECS_PROFILE_TI_CUSTOM, .raw = json, .rawlen = len,
			 .stix = root, .stage = ST_DONE };
	arena_init(&m.a);
	int rc = 0;
	if (!kept(&m))
		goto out;
	m.id = prop_str(&m, "id");
	duration_text(&m);
	/* Each step runs only if the ones before it did (ti_custom); ecs carries on. */
	if (dates(&m) && confidence(&m)) {
		tags(&m);
		if (expiry(&m))
			extract(&m);
	}
	if (m.tags == NULL)
		tags(&m);
	if (m.alts == NULL) {
		m.nalts = 1;
		m.alts = arena_alloc(&m.a, sizeof(struct ecs_vals));
		memset(m.alts, 0, sizeof(struct ecs_vals));
	}
	markings(&m);

	static const char *const ti_fields[3] = { "created", "id", "pattern" };
	static const char *const ecs_fields[4] = { "created", "id", "modified", "pattern" };
	struct buf out = BUF_INIT;
	buf_reserve(&out, 2 * len + 2048);	/* the object appears twice: event.original and stix.* */
	for (size_t i = 0; i < m.nalts && rc == 0; i++) {
		char id[32], latest[300];
		bool has_id = m.ti ? fingerprint(&m, ti_fields, 3, -1, id)
				   : fingerprint(&m, ecs_fields, 4, m.nalts > 1 ? (long)i : -1, id);
		buf_reset(&out);
		write_doc(&m, &m.alts[i], &out);
		if (m.id && m.nalts > 1)
			snprintf(latest, sizeof(latest), "%.250s#%zu", m.id, i);
		else if (m.id)
			snprintf(latest, sizeof(latest), "%.250s", m.id);
		struct ecs_doc d = {
			.json = out.data, .len = out.len, .doc_id = has_id ? id : NULL, .stix_id = m.id,
			.modified = m.modified, .expires_at = m.have_exp ? m.exp : 0,
			.expiry_reason = m.have_exp ? m.reason : NULL, .part = (unsigned)i,
			.nparts = (unsigned)m.nalts, .latest_id = m.id ? latest : NULL,
			.pipeline_error = m.nerrors > 0 && (!m.ti || m.stage < ST_DONE),
			.revoked = json_is_true(prop(&m, "revoked")),
		};
		rc = cb(ctx, &d);
	}
	buf_cleanup(&out);
out:
	json_decref(m.refs);
	json_decref(root);
	arena_cleanup(&m.a);
	return rc;
}
