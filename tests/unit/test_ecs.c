/*
 * test_ecs.c — the STIX → ECS mapping (src/export/ecs.h).
 *
 * 1. Elastic's nine ti_custom pipeline-test pairs (../shared/conformance/
 *    elastic-ti-custom): every line, mapped in profile ti_custom with the
 *    test configuration (5d, "Test STIX feed", restrict_stix off), equals its
 *    expected document as a JSON value. The published sample event equals
 *    ours once the agent's own fields are set aside.
 * 2. cairn's vectors, the .json files of tests/data/ecs: an input text, the options, and
 *    the documents expected in each profile (derived from MAPPING.md by hand),
 *    plus the expiry and part numbers the callback reports.
 * 3. Properties: document ids (ti_custom ignores `modified`, ecs does not),
 *    bad input, limits, restrict_stix, durations.
 */
#include "export/ecs.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "check.h"

#define CONF "../shared/conformance/elastic-ti-custom/"
#define OWN "tests/data/ecs/"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *p = malloc((size_t)n + 1);
	size_t got = fread(p, 1, (size_t)n, f);
	fclose(f);
	p[got] = '\0';
	if (len)
		*len = got;
	return p;
}

struct got {
	json_t *docs, *meta;
	char first_id[64];
};

static json_t *time_or_null(int64_t us)
{
	char tmp[40];
	if (us == 0)
		return json_null();
	struct buf b = BUF_INIT;
	time_format(&b, us, TIME_MSEC);
	snprintf(tmp, sizeof(tmp), "%s", buf_cstr(&b));
	buf_cleanup(&b);
	return json_string(tmp);
}

static int collect(void *ctx, const struct ecs_doc *d)
{
	struct got *g = ctx;
	json_error_t je;
	json_t *j = json_loadb(d->json, d->len, JSON_REJECT_DUPLICATES, &je);
	CHECK(j != NULL);
	CHECK(memchr(d->json, '\n', d->len) == NULL);
	json_array_append_new(g->docs, j ? j : json_null());
	json_t *m = json_object();
	json_object_set_new(m, "doc_id", d->doc_id ? json_string(d->doc_id) : json_null());
	json_object_set_new(m, "stix_id", d->stix_id ? json_string(d->stix_id) : json_null());
	json_object_set_new(m, "latest_id", d->latest_id ? json_string(d->latest_id) : json_null());
	json_object_set_new(m, "expires_at", time_or_null(d->expires_at));
	json_object_set_new(m, "expiry_reason", d->expiry_reason ? json_string(d->expiry_reason) : json_null());
	json_object_set_new(m, "modified", time_or_null(d->modified));
	json_object_set_new(m, "part", json_integer(d->part));
	json_object_set_new(m, "nparts", json_integer(d->nparts));
	json_object_set_new(m, "pipeline_error", json_boolean(d->pipeline_error));
	json_array_append_new(g->meta, m);
	if (g->first_id[0] == '\0' && d->doc_id)
		snprintf(g->first_id, sizeof(g->first_id), "%s", d->doc_id);
	return 0;
}

/* Maps s with o; returns the rc and fills g (caller frees g->docs, g->meta). */
static int map(const char *s, size_t len, const struct ecs_opts *o, struct got *g, struct err *e)
{
	g->docs = json_array();
	g->meta = json_array();
	g->first_id[0] = '\0';
	char *copy = malloc(len ? len : 1);	/* exact size: ASan sees any overrun */
	memcpy(copy, s, len);
	int rc = ecs_map_object(copy, len, o, collect, g, e);
	free(copy);
	return rc;
}

static void got_free(struct got *g)
{
	json_decref(g->docs);
	json_decref(g->meta);
}

/* Prints where two JSON values first differ. */
static void diff(const char *path, json_t *got, json_t *want)
{
	char sub[512];
	if (json_is_object(got) && json_is_object(want)) {
		const char *k;
		json_t *v;
		json_object_foreach(want, k, v) {
			snprintf(sub, sizeof(sub), "%s.%s", path, k);
			json_t *g = json_object_get(got, k);
			if (g == NULL)
				fprintf(stderr, "  %s: missing, want %s\n", sub, json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY));
			else if (!json_equal(g, v))
				diff(sub, g, v);
		}
		json_object_foreach(got, k, v)
			if (json_object_get(want, k) == NULL)
				fprintf(stderr, "  %s.%s: unexpected %s\n", path, k,
					json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY));
		return;
	}
	char *g = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY), *w = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
	fprintf(stderr, "  %s: got %s\n  %*s  want %s\n", path, g, (int)strlen(path), "", w);
	free(g);
	free(w);
}

static void check_doc(const char *what, json_t *got, json_t *want)
{
	bool eq = json_equal(got, want);
	CHECK(eq);
	if (!eq) {
		fprintf(stderr, "%s differs:\n", what);
		diff("", got, want);
	}
}

static const char *const upstream[9] = { "asn", "domain-name", "email", "file", "ip", "unknown", "url",
					 "windows-registry", "x509" };

static void upstream_vectors(void)
{
	struct ecs_opts o = { .profile = ECS_PROFILE_TI_CUSTOM, .expiration_us = ecs_parse_duration("5d"),
			      .expiration_text = "5d", .feed_name = "Test STIX feed", .all_objects = true };
	int total = 0;
	for (int i = 0; i < 9; i++) {
		char path[256], what[300];
		snprintf(path, sizeof(path), CONF "test-indicator-%s-ndjson.log", upstream[i]);
		char *log = slurp(path, NULL);
		CHECK(log != NULL);
		snprintf(path, sizeof(path), CONF "test-indicator-%s-ndjson.log-expected.json", upstream[i]);
		json_error_t je;
		json_t *exp = json_load_file(path, 0, &je);
		CHECK(exp != NULL);
		if (log == NULL || exp == NULL)
			continue;
		json_t *want = json_object_get(exp, "expected");
		size_t line = 0;
		for (char *p = log, *nl; *p; p = nl + 1) {
			nl = strchr(p, '\n');
			if (nl == NULL)
				nl = p + strlen(p) - 1;
			size_t n = (size_t)(nl - p) + (*nl != '\n');
			if (n == 0)
				continue;
			struct got g;
			struct err e = { 0 };
			CHECK_INT(map(p, n, &o, &g, &e), 0);
			CHECK_INT(json_array_size(g.docs), 1);
			snprintf(what, sizeof(what), "ti_custom %s line %zu", upstream[i], line + 1);
			check_doc(what, json_array_get(g.docs, 0), json_array_get(want, line));
			json_t *m = json_array_get(g.meta, 0);
			CHECK(json_is_string(json_object_get(m, "doc_id")));
			CHECK(!json_is_true(json_object_get(m, "pipeline_error")));
			got_free(&g);
			line++;
			total++;
			if (*nl != '\n')
				break;
		}
		CHECK_INT(line, json_array_size(want));
		free(log);
		json_decref(exp);
	}
	CHECK_INT(total, 18);

	/* With the integration's default restrict_stix, 5 of the 18 are dropped (README.md). */
	o.all_objects = false;
	int kept = 0;
	for (int i = 0; i < 9; i++) {
		char path[256];
		snprintf(path, sizeof(path), CONF "test-indicator-%s-ndjson.log", upstream[i]);
		char *log = slurp(path, NULL);
		for (char *p = log, *nl; p && *p; p = nl + 1) {
			nl = strchr(p, '\n');
			size_t n = nl ? (size_t)(nl - p) : strlen(p);
			struct got g;
			struct err e = { 0 };
			CHECK_INT(map(p, n, &o, &g, &e), 0);
			kept += (int)json_array_size(g.docs);
			got_free(&g);
			if (nl == NULL)
				break;
		}
		free(log);
	}
	CHECK_INT(kept, 13);
}

/* The published sample: a document as a real agent indexed it. The fields Elasticsearch and
 * the agent add (docs/ecs.md lists them) are set aside; event.ingested comes from opts.now. */
static void sample_event(void)
{
	json_error_t je;
	json_t *want = json_load_file(CONF "sample_event.json", 0, &je);
	CHECK(want != NULL);
	if (want == NULL)
		return;
	static const char *const agent_fields[] = { "agent", "data_stream", "elastic_agent", "input" };
	for (size_t i = 0; i < 4; i++)
		json_object_del(want, agent_fields[i]);
	json_t *ev = json_object_get(want, "event");
	json_object_del(ev, "agent_id_status");
	json_object_del(ev, "dataset");
	int64_t now;
	CHECK_INT(time_parse_rfc3339(json_string_value(json_object_get(ev, "ingested")), 20, &now, NULL), 0);
	const char *orig = json_string_value(json_object_get(ev, "original"));
	struct ecs_opts o = { .profile = ECS_PROFILE_TI_CUSTOM, .expiration_us = ecs_parse_duration("5d"),
			      .feed_name = "STIX Provider", .feed_reference = "https://stix-example.com",
			      .preserve_original_event = true, .now = now };
	struct got g;
	struct err e = { 0 };
	CHECK_INT(map(orig, strlen(orig), &o, &g, &e), 0);
	CHECK_INT(json_array_size(g.docs), 1);
	check_doc("sample_event", json_array_get(g.docs, 0), want);
	json_t *m = json_array_get(g.meta, 0);
	CHECK_STR(json_string_value(json_object_get(m, "expiry_reason")), ECS_REASON_VALID_UNTIL);
	CHECK_STR(json_string_value(json_object_get(m, "expires_at")), "2021-03-24T14:31:50.000Z");
	got_free(&g);
	json_decref(want);
}

/* ---- cairn's own vectors ---- */

static void opts_from(json_t *j, struct ecs_opts *o)
{
	const char *dur = json_string_value(json_object_get(j, "expiration"));
	o->expiration_us = dur ? ecs_parse_duration(dur) : 0;
	o->expiration_text = json_string_value(json_object_get(j, "expiration_text"));
	o->feed_name = json_string_value(json_object_get(j, "feed_name"));
	o->feed_reference = json_string_value(json_object_get(j, "feed_reference"));
	o->tlp = json_string_value(json_object_get(j, "tlp"));
	o->all_objects = json_is_true(json_object_get(j, "all_objects"));
	o->preserve_original_event = json_is_true(json_object_get(j, "preserve_original_event"));
	const char *now = json_string_value(json_object_get(j, "now"));
	o->now = 0;
	if (now)
		CHECK_INT(time_parse_rfc3339(now, strlen(now), &o->now, NULL), 0);
}

/* "$input" in an expected event.original stands for the input text. */
static void fill_input(json_t *docs, const char *input)
{
	size_t i;
	json_t *d;
	json_array_foreach(docs, i, d) {
		json_t *ev = json_object_get(d, "event");
		const char *orig = json_string_value(json_object_get(ev, "original"));
		if (orig && !strcmp(orig, "$input"))
			json_object_set_new(ev, "original", json_string(input));
	}
}

static void own_case(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), OWN "%s", name);
	json_error_t je;
	json_t *c = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (c == NULL)
		fprintf(stderr, "%s: %s (line %d)\n", path, je.text, je.line);
	CHECK(c != NULL);
	if (c == NULL)
		return;
	const char *input = json_string_value(json_object_get(c, "input"));
	CHECK(input != NULL);
	static const char *const profiles[2] = { "ecs", "ti_custom" };
	int checked = 0;
	for (int p = 0; p < 2 && input; p++) {
		json_t *want = json_object_get(c, profiles[p]);
		if (want == NULL)
			continue;
		struct ecs_opts o = { .profile = p == 0 ? ECS_PROFILE_ECS : ECS_PROFILE_TI_CUSTOM };
		opts_from(json_object_get(c, "opts"), &o);
		fill_input(want, input);
		struct got g;
		struct err e = { 0 };
		CHECK_INT(map(input, strlen(input), &o, &g, &e), 0);
		CHECK_INT(json_array_size(g.docs), json_array_size(want));
		for (size_t i = 0; i < json_array_size(want) && i < json_array_size(g.docs); i++) {
			char what[600];
			snprintf(what, sizeof(what), "%s %s document %zu", name, profiles[p], i);
			check_doc(what, json_array_get(g.docs, i), json_array_get(want, i));
		}
		char mk[32];
		snprintf(mk, sizeof(mk), "%s_meta", profiles[p]);
		json_t *wm = json_object_get(c, mk);
		size_t i;
		json_t *m;
		json_array_foreach(wm, i, m) {
			const char *k;
			json_t *v;
			json_object_foreach(m, k, v) {
				json_t *gv = json_object_get(json_array_get(g.meta, i), k);
				bool eq = gv && json_equal(gv, v);
				CHECK(eq);
				if (!eq)
					fprintf(stderr, "%s %s meta %zu: %s differs\n", name, profiles[p], i, k);
			}
		}
		got_free(&g);
		checked++;
	}
	CHECK(checked > 0);
	json_decref(c);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void own_vectors(void)
{
	DIR *d = opendir(OWN);
	CHECK(d != NULL);
	if (d == NULL)
		return;
	char *names[256];
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL && n < 256) {
		size_t l = strlen(de->d_name);
		if (l > 5 && !strcmp(de->d_name + l - 5, ".json"))
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), name_cmp);
	CHECK(n >= 8);
	for (size_t i = 0; i < n; i++) {
		own_case(names[i]);
		free(names[i]);
	}
}

/* ---- properties ---- */

static const char IND[] =
	"{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\","
	"\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"%s\",\"pattern\":\"[ipv4-addr:value = '198.51.100.7']\","
	"\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\"}";

static void ids(void)
{
	char a[512], b[512];
	snprintf(a, sizeof(a), IND, "2024-01-02T00:00:00.000Z");
	snprintf(b, sizeof(b), IND, "2024-03-02T00:00:00.000Z");
	for (int p = 0; p < 2; p++) {
		struct ecs_opts o = { .profile = p ? ECS_PROFILE_TI_CUSTOM : ECS_PROFILE_ECS,
				      .expiration_us = 90 * USEC_PER_DAY };
		struct got ga, ga2, gb;
		struct err e = { 0 };
		CHECK_INT(map(a, strlen(a), &o, &ga, &e), 0);
		CHECK_INT(map(a, strlen(a), &o, &ga2, &e), 0);
		CHECK_INT(map(b, strlen(b), &o, &gb, &e), 0);
		/* deterministic; a new version lands (ecs) or is the same document (ti_custom) */
		CHECK_STR(ga.first_id, ga2.first_id);
		CHECK(strlen(ga.first_id) == 28);
		if (p)
			CHECK_STR(ga.first_id, gb.first_id);
		else
			CHECK(strcmp(ga.first_id, gb.first_id) != 0);
		char *da = json_dumps(ga.docs, JSON_COMPACT), *da2 = json_dumps(ga2.docs, JSON_COMPACT);
		CHECK_STR(da, da2);
		free(da);
		free(da2);
		json_t *m = json_array_get(gb.meta, 0);
		CHECK_STR(json_string_value(json_object_get(m, "latest_id")),
			  "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
		CHECK_STR(json_string_value(json_object_get(m, "expires_at")), "2024-05-31T00:00:00.000Z");
		CHECK_STR(json_string_value(json_object_get(m, "modified")), "2024-03-02T00:00:00.000Z");
		got_free(&ga);
		got_free(&ga2);
		got_free(&gb);
	}
}

static int stop_cb(void *ctx, const struct ecs_doc *d)
{
	(void)d;
	(*(int *)ctx)++;
	return 42;
}

static void bad_input(void)
{
	static const char *const bad[] = { "", "[1,2]", "\"x\"", "{", "{\"a\":1,\"a\":2}", "{} x", "nul" };
	struct ecs_opts o = { 0 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct got g;
		struct err e = { 0 };
		CHECK_INT(map(bad[i], strlen(bad[i]), &o, &g, &e), ERR_INVALID);
		CHECK(e.msg[0] != '\0');
		CHECK_INT(json_array_size(g.docs), 0);
		got_free(&g);
	}
	/* nesting beyond the cap */
	struct buf b = BUF_INIT;
	buf_puts(&b, "{\"type\":\"indicator\",\"x\":");
	for (int i = 0; i < ECS_MAX_DEPTH + 1; i++)
		buf_putc(&b, '[');
	for (int i = 0; i < ECS_MAX_DEPTH + 1; i++)
		buf_putc(&b, ']');
	buf_putc(&b, '}');
	struct got g;
	struct err e = { 0 };
	CHECK_INT(map(b.data, b.len, &o, &g, &e), ERR_TOO_LARGE);
	got_free(&g);
	buf_cleanup(&b);
	/* the callback's answer stops the mapping and is returned */
	char a[512];
	snprintf(a, sizeof(a), IND, "2024-01-02T00:00:00.000Z");
	int calls = 0;
	CHECK_INT(ecs_map_object(a, strlen(a), &o, stop_cb, &calls, &e), 42);
	CHECK_INT(calls, 1);
	/* not an indicator, or an unknown spec_version: dropped by default in both profiles */
	static const char *const dropped[] = {
		"{\"type\":\"malware\",\"spec_version\":\"2.1\",\"id\":\"malware--1\"}",
		"{\"type\":\"indicator\",\"spec_version\":\"2.2\",\"id\":\"indicator--1\",\"pattern\":\"[url:value = 'x']\"}",
	};
	for (int p = 0; p < 2; p++)
		for (size_t i = 0; i < 2; i++) {
			struct ecs_opts op = { .profile = p ? ECS_PROFILE_TI_CUSTOM : ECS_PROFILE_ECS };
			CHECK_INT(map(dropped[i], strlen(dropped[i]), &op, &g, &e), 0);
			CHECK_INT(json_array_size(g.docs), 0);
			got_free(&g);
		}
}

/* Profile ecs: a pattern in disjunctive normal form, and the fallback past ECS_MAX_PARTS. */
static void alternatives(void)
{
	struct ecs_opts o = { .profile = ECS_PROFILE_ECS };
	struct got g;
	struct err e = { 0 };
	struct buf b = BUF_INIT;
	buf_puts(&b, "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--1\",\"pattern\":"
		     "\"[ipv4-addr:value = '10.0.0.1' AND (ipv4-addr:value = '10.0.0.2' OR "
		     "ipv4-addr:value IN ('10.0.0.3', '10.0.0.4'))]\"}");
	CHECK_INT(map(b.data, b.len, &o, &g, &e), 0);
	CHECK_INT(json_array_size(g.docs), 3);
	static const char *const second[3] = { "10.0.0.2", "10.0.0.3", "10.0.0.4" };
	for (size_t i = 0; i < 3 && i < json_array_size(g.docs); i++) {
		json_t *ip = json_object_get(json_object_get(json_object_get(json_array_get(g.docs, i), "threat"),
							     "indicator"), "ip");
		CHECK_INT(json_array_size(ip), 2);
		CHECK_STR(json_string_value(json_array_get(ip, 0)), "10.0.0.1");
		CHECK_STR(json_string_value(json_array_get(ip, 1)), second[i]);
		json_t *m = json_array_get(g.meta, i);
		CHECK_INT(json_integer_value(json_object_get(m, "part")), (long long)i);
		CHECK_INT(json_integer_value(json_object_get(m, "nparts")), 3);
	}
	/* distinct ids per part, stable latest ids */
	CHECK(!json_equal(json_object_get(json_array_get(g.meta, 0), "doc_id"),
			  json_object_get(json_array_get(g.meta, 1), "doc_id")));
	CHECK_STR(json_string_value(json_object_get(json_array_get(g.meta, 2), "latest_id")), "indicator--1#2");
	got_free(&g);

	/* 2^11 alternatives: more than ECS_MAX_PARTS, so one document with all 22 addresses */
	buf_reset(&b);
	buf_puts(&b, "{\"type\":\"indicator\",\"id\":\"indicator--2\",\"pattern\":\"");
	for (int i = 0; i < 11; i++)
		buf_printf(&b, "%s[ipv4-addr:value = '10.1.%d.1' OR ipv4-addr:value = '10.1.%d.2']", i ? " AND " : "",
			   i, i);
	buf_puts(&b, "\"}");
	CHECK_INT(map(b.data, b.len, &o, &g, &e), 0);
	CHECK_INT(json_array_size(g.docs), 1);
	json_t *ip = json_object_get(json_object_get(json_object_get(json_array_get(g.docs, 0), "threat"),
						     "indicator"), "ip");
	CHECK_INT(json_array_size(ip), 22);
	CHECK_INT(json_integer_value(json_object_get(json_array_get(g.meta, 0), "nparts")), 1);
	got_free(&g);

	/* an invalid pattern is recorded, and the object still maps */
	buf_reset(&b);
	buf_puts(&b, "{\"type\":\"indicator\",\"id\":\"indicator--3\",\"pattern\":\"[ipv4-addr:value = \"}");
	CHECK_INT(map(b.data, b.len, &o, &g, &e), 0);
	CHECK_INT(json_array_size(g.docs), 1);
	json_t *msg = json_object_get(json_object_get(json_array_get(g.docs, 0), "error"), "message");
	CHECK(json_array_size(msg) == 1 && !strncmp(json_string_value(json_array_get(msg, 0)), "pattern: ", 9));
	CHECK(json_is_true(json_object_get(json_array_get(g.meta, 0), "pipeline_error")));
	got_free(&g);
	buf_cleanup(&b);
}

static void durations(void)
{
	CHECK_INT(ecs_parse_duration("90d"), 90 * USEC_PER_DAY);
	CHECK_INT(ecs_parse_duration("12h"), 12 * 3600 * USEC_PER_SEC);
	CHECK_INT(ecs_parse_duration("30m"), 30 * 60 * USEC_PER_SEC);
	CHECK_INT(ecs_parse_duration("1d12h"), 36 * 3600 * USEC_PER_SEC);
	CHECK_INT(ecs_parse_duration("1d12h30m"), (36 * 60 + 30) * 60 * USEC_PER_SEC);
	CHECK_INT(ecs_parse_duration("36500d"), 36500 * USEC_PER_DAY);
	static const char *const bad[] = { "", "d", "90", "90s", "5w", "5D", "-5d", "+5d", " 5d", "5d ",
					   "0d", "0h0m", "12h1d", "1d1d", "36501d", "99999999999999999999d",
					   "1.5d", "5dd" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t v = ecs_parse_duration(bad[i]);
		CHECK_INT(v, -1);
		if (v != -1)
			fprintf(stderr, "  accepted \"%s\"\n", bad[i]);
	}
	CHECK_INT(ecs_parse_duration(NULL), -1);
	CHECK_INT(ecs_profile_from_name("ecs"), ECS_PROFILE_ECS);
	CHECK_INT(ecs_profile_from_name("ti_custom"), ECS_PROFILE_TI_CUSTOM);
	CHECK_INT(ecs_profile_from_name("TI_CUSTOM"), -1);
}

int main(void)
{
	upstream_vectors();
	sample_event();
	own_vectors();
	ids();
	bad_input();
	alternatives();
	durations();
	return check_summary("test_ecs");
}
