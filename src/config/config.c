#include "config/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config/yaml_value.h"

static const char *const tier_names[TIER_COUNT] = { "free", "pro", "admin" };
static const char *const scope_names[SCOPE_COUNT] = {
	"read:iocs", "read:stix", "read:sigma", "read:misp", "read:cef",
	"read:openioc", "read:taxii", "write:iocs", "admin",
};

const char *tier_name(enum tier_id t)
{
	return t < TIER_COUNT ? tier_names[t] : "unknown";
}

int tier_from_name(const char *s)
{
	for (int i = 0; i < TIER_COUNT; i++)
		if (strcmp(s, tier_names[i]) == 0)
			return i;
	return -1;
}

const char *scope_name(unsigned bit)
{
	for (int i = 0; i < SCOPE_COUNT; i++)
		if (bit == 1u << i)
			return scope_names[i];
	return "";
}

unsigned scope_from_name(const char *s)
{
	for (int i = 0; i < SCOPE_COUNT; i++)
		if (strcmp(s, scope_names[i]) == 0)
			return 1u << i;
	return 0;
}

void scopes_format(unsigned scopes, char *out, size_t cap)
{
	size_t o = 0;
	out[0] = '\0';
	for (int i = 0; i < SCOPE_COUNT; i++) {
		if (!(scopes & (1u << i)))
			continue;
		size_t need = strlen(scope_names[i]) + (o ? 1 : 0);
		if (need >= cap - o)
			break;	/* only whole names: a cut one would read as another scope */
		snprintf(out + o, cap - o, "%s%s", o ? " " : "", scope_names[i]);
		o += need;
	}
}

#define READ_ALL (SCOPE_READ_IOCS | SCOPE_READ_STIX | SCOPE_READ_SIGMA | SCOPE_READ_MISP | \
		  SCOPE_READ_CEF | SCOPE_READ_OPENIOC | SCOPE_READ_TAXII)

/* The default collections: everything, and the records by kind. Their ids never change. */
static void taxii_defaults(struct taxii_conf *t)
{
	static const struct {
		const char *id, *alias, *title, *description;
		unsigned types;
	} def[] = {
		{ "41105b76-00fd-42b2-9671-86470f727d96", "all", "All objects",
		  "Every STIX object cairn holds: its indicator records, and every object imported or added", 0 },
		{ "b3fdd87f-c3d8-4409-a9bc-af8879a2685e", "ips", "IP addresses",
		  "Indicators of IPv4 and IPv6 addresses", 1u << IOC_IPV4 | 1u << IOC_IPV6 },
		{ "27f5f81d-4a5d-4ba6-9584-d59c68fad466", "hashes", "File hashes",
		  "Indicators of MD5, SHA-1, SHA-256 and SHA-512 file hashes",
		  1u << IOC_MD5 | 1u << IOC_SHA1 | 1u << IOC_SHA256 | 1u << IOC_SHA512 },
		{ "abcd511c-10f2-4355-ae8d-8b6e4a9bb339", "cves", "Vulnerabilities",
		  "Vulnerabilities (CVEs) seen exploited", 1u << IOC_CVE },
		{ "c4c8bc52-7442-4625-af0c-95151afcbd2a", "domains", "Domains",
		  "Indicators of domain names", 1u << IOC_DOMAIN },
		{ "9bfd18ce-6664-423f-afda-db14f4c935b4", "urls", "URLs", "Indicators of URLs", 1u << IOC_URL },
	};
	memset(t, 0, sizeof(*t));
	snprintf(t->title, sizeof(t->title), "cairn TAXII 2.1");
	snprintf(t->description, sizeof(t->description),
		 "Threat-intelligence indicators, merged and scored, as STIX 2.1");
	t->max_content_length = 10 * 1024 * 1024;
	t->default_page = 1000;
	t->max_page = 10000;
	t->next_ttl_s = 86400;
	t->status_ttl_s = 86400;
	for (size_t i = 0; i < sizeof(def) / sizeof(def[0]); i++) {
		struct collection_conf *cc = &t->coll[t->ncoll++];
		snprintf(cc->id, sizeof(cc->id), "%s", def[i].id);
		snprintf(cc->alias, sizeof(cc->alias), "%s", def[i].alias);
		snprintf(cc->title, sizeof(cc->title), "%s", def[i].title);
		snprintf(cc->description, sizeof(cc->description), "%s", def[i].description);
		cc->everything = def[i].types == 0;
		cc->types = def[i].types;
		cc->read_tier = TIER_PRO;
		cc->write_tier = TIER_ADMIN;
	}
}

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->listen, sizeof(c->listen), "127.0.0.1:8080");
	c->threads = 0;
	snprintf(c->access_log, sizeof(c->access_log), "-");
	c->max_header_bytes = 16384;
	c->max_body_bytes = 10 * 1024 * 1024;
	c->max_connections = 4096;
	c->request_timeout_s = 10;
	c->idle_timeout_s = 60;
	c->write_timeout_s = 60;
	c->max_lookup_values = 1000;
	c->stats_refresh_s = 60;

	/* SOC Defenders' published limits (SOCDEFENDERS.md section 5). */
	c->tier[TIER_FREE] = (struct tier_conf){ 10, 1000, 100, 1, false, false, SCOPE_READ_IOCS };
	c->tier[TIER_PRO] = (struct tier_conf){ 1000, 1000000, 10000, 365, true, true, READ_ALL };
	c->tier[TIER_ADMIN] = (struct tier_conf){ 1000, 1000000, 10000, 365, true, true,
						  READ_ALL | SCOPE_WRITE_IOCS | SCOPE_ADMIN };

	/* IPs age fastest, hashes slowest; CVEs and ATT&CK ids do not expire. */
	c->lifetime_days[IOC_IPV4] = 30;
	c->lifetime_days[IOC_IPV6] = 30;
	c->lifetime_days[IOC_DOMAIN] = 90;
	c->lifetime_days[IOC_URL] = 60;
	c->lifetime_days[IOC_EMAIL] = 180;
	c->lifetime_days[IOC_MD5] = 365;
	c->lifetime_days[IOC_SHA1] = 365;
	c->lifetime_days[IOC_SHA256] = 365;
	c->lifetime_days[IOC_SHA512] = 365;
	c->lifetime_days[IOC_CVE] = 0;
	c->lifetime_days[IOC_MITRE] = 0;
	/* Scores fall linearly over the lifetime, but a hash's late (docs/scoring.md). */
	for (int t = 0; t < IOC_TYPE_COUNT; t++)
		c->decay_speed[t] = 1.0;
	c->decay_speed[IOC_MD5] = 0.5;
	c->decay_speed[IOC_SHA1] = 0.5;
	c->decay_speed[IOC_SHA256] = 0.5;
	c->decay_speed[IOC_SHA512] = 0.5;
	/* When every snapshot feed has dropped a value: addresses are reassigned soonest. */
	for (int t = 0; t < IOC_TYPE_COUNT; t++)
		c->grace_days[t] = 7;
	c->grace_days[IOC_IPV4] = 1;
	c->grace_days[IOC_IPV6] = 1;
	c->default_score = 50;
	taxii_defaults(&c->taxii);
	c->feed_check_s = 30;
}

#define CONFIG_FILE_MAX (1024 * 1024)

/* ---- the YAML reader: a small recursive walk over libyaml's document tree ---- */

struct loader {
	const char *path;
	yaml_document_t doc;
	struct err *e;
};

static int fail(struct loader *l, yaml_node_t *n, const char *key, const char *why)
{
	unsigned long line = n ? (unsigned long)n->start_mark.line + 1 : 0;
	return err_set(l->e, ERR_INVALID, "%s:%lu: %s: %s", l->path, line, key, why);
}

static const char *scalar(yaml_node_t *n)
{
	return config_yaml_scalar(n);
}

static int get_int(struct loader *l, yaml_node_t *n, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
	char why[96];
	return config_yaml_int(n, lo, hi, out, why, sizeof(why)) ? fail(l, n, key, why) : 0;
}

/* A decimal number in [lo, hi]. */
static int get_real(struct loader *l, yaml_node_t *n, const char *key, double lo, double hi, double *out)
{
	const char *s = scalar(n);
	if (s == NULL || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return fail(l, n, key, "expected a number");
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end != '\0' || v != v)
		return fail(l, n, key, "expected a number");
	if (v < lo || v > hi) {
		char why[96];
		snprintf(why, sizeof(why), "must be between %g and %g", lo, hi);
		return fail(l, n, key, why);
	}
	*out = v;
	return 0;
}

static int get_bool(struct loader *l, yaml_node_t *n, const char *key, bool *out)
{
	char why[64];
	return config_yaml_bool(n, out, why, sizeof(why)) ? fail(l, n, key, why) : 0;
}

static int get_str(struct loader *l, yaml_node_t *n, const char *key, char *out, size_t cap)
{
	const char *s = scalar(n);
	if (s == NULL)
		return fail(l, n, key, "expected a string");
	if (strlen(s) >= cap)
		return fail(l, n, key, "too long");
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

#define FOR_PAIRS(l, map, pair)                                                        \
	for (yaml_node_pair_t *pair = (map)->data.mapping.pairs.start;                  \
	     pair < (map)->data.mapping.pairs.top; pair++)

static int load_tier(struct loader *l, yaml_node_t *map, const char *tname, struct tier_conf *t)
{
	char key[128];
	if (map->type != YAML_MAPPING_NODE) {
		snprintf(key, sizeof(key), "tiers.%s", tname);
		return fail(l, map, key, "expected a mapping");
	}
	FOR_PAIRS(l, map, p) {
		yaml_node_t *k = yaml_document_get_node(&l->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&l->doc, p->value);
		const char *ks = scalar(k);
		snprintf(key, sizeof(key), "tiers.%s.%s", tname, ks ? ks : "?");
		int rc;
		if (ks == NULL)
			rc = fail(l, k, key, "expected a key");
		else if (!strcmp(ks, "requests_per_minute"))
			rc = get_int(l, v, key, 1, 100000000, &t->per_minute);
		else if (!strcmp(ks, "requests_per_day"))
			rc = get_int(l, v, key, 1, 10000000000LL, &t->per_day);
		else if (!strcmp(ks, "max_results"))
			rc = get_int(l, v, key, 1, 1000000, &t->max_results);
		else if (!strcmp(ks, "lookback_days"))
			rc = get_int(l, v, key, 1, 36500, &t->lookback_days);
		else if (!strcmp(ks, "pro_endpoints"))
			rc = get_bool(l, v, key, &t->pro_endpoints);
		else if (!strcmp(ks, "all_formats"))
			rc = get_bool(l, v, key, &t->all_formats);
		else if (!strcmp(ks, "scopes")) {
			if (v->type != YAML_SEQUENCE_NODE)
				return fail(l, v, key, "expected a list of scopes");
			unsigned sc = 0;
			for (yaml_node_item_t *it = v->data.sequence.items.start;
			     it < v->data.sequence.items.top; it++) {
				yaml_node_t *sn = yaml_document_get_node(&l->doc, *it);
				const char *s = scalar(sn);
				unsigned bit = s ? scope_from_name(s) : 0;
				if (bit == 0)
					return fail(l, sn, key, "unknown scope");
				sc |= bit;
			}
			t->scopes = sc;
			rc = 0;
		} else
			rc = fail(l, k, key, "unknown key");
		if (rc)
			return rc;
	}
	return 0;
}

static int get_tier(struct loader *l, yaml_node_t *n, const char *key, int *out)
{
	const char *s = scalar(n);
	int t = s ? tier_from_name(s) : -1;
	if (t < 0)
		return fail(l, n, key, "expected a tier (free, pro, admin)");
	*out = t;
	return 0;
}

static int load_collection(struct loader *l, yaml_node_t *map, int idx, struct collection_conf *cc)
{
	char key[128];
	snprintf(key, sizeof(key), "taxii.collections[%d]", idx);
	if (map->type != YAML_MAPPING_NODE)
		return fail(l, map, key, "expected a mapping");
	memset(cc, 0, sizeof(*cc));
	cc->everything = true;
	cc->read_tier = TIER_PRO;
	cc->write_tier = TIER_ADMIN;
	FOR_PAIRS(l, map, p) {
		yaml_node_t *k = yaml_document_get_node(&l->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&l->doc, p->value);
		const char *ks = scalar(k);
		snprintf(key, sizeof(key), "taxii.collections[%d].%s", idx, ks ? ks : "?");
		int rc;
		if (ks == NULL)
			rc = fail(l, k, key, "expected a key");
		else if (!strcmp(ks, "id")) {
			rc = get_str(l, v, key, cc->id, sizeof(cc->id));
			/* A UUIDv4 in lower case: version nibble 4, variant 8-b. */
			if (rc == 0 && !(strlen(cc->id) == 36 && strspn(cc->id, "0123456789abcdef-") == 36 &&
					 cc->id[8] == '-' && cc->id[13] == '-' && cc->id[18] == '-' &&
					 cc->id[23] == '-' && cc->id[14] == '4' && strchr("89ab", cc->id[19])))
				rc = fail(l, v, key, "expected a lower-case UUIDv4");
		} else if (!strcmp(ks, "alias")) {
			rc = get_str(l, v, key, cc->alias, sizeof(cc->alias));
			if (rc == 0 && (cc->alias[0] == '\0' ||
					strspn(cc->alias, "abcdefghijklmnopqrstuvwxyz0123456789-_") != strlen(cc->alias)))
				rc = fail(l, v, key, "expected lower-case letters, digits, - and _");
		} else if (!strcmp(ks, "title"))
			rc = get_str(l, v, key, cc->title, sizeof(cc->title));
		else if (!strcmp(ks, "description"))
			rc = get_str(l, v, key, cc->description, sizeof(cc->description));
		else if (!strcmp(ks, "read"))
			rc = get_tier(l, v, key, &cc->read_tier);
		else if (!strcmp(ks, "write"))
			rc = get_tier(l, v, key, &cc->write_tier);
		else if (!strcmp(ks, "types")) {
			if (v->type != YAML_SEQUENCE_NODE || v->data.sequence.items.start == v->data.sequence.items.top)
				return fail(l, v, key, "expected a list of indicator types");
			for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
				yaml_node_t *tn = yaml_document_get_node(&l->doc, *it);
				const char *ts = scalar(tn);
				enum ioc_type t = ts ? ioc_type_from_name(ts, strlen(ts)) : IOC_NONE;
				if (t == IOC_NONE)
					return fail(l, tn, key, "unknown indicator type");
				cc->types |= 1u << t;
			}
			cc->everything = false;
			rc = 0;
		} else
			rc = fail(l, k, key, "unknown key");
		if (rc)
			return rc;
	}
	snprintf(key, sizeof(key), "taxii.collections[%d]", idx);
	if (cc->id[0] == '\0' || cc->alias[0] == '\0')
		return fail(l, map, key, "needs an id and an alias");
	if (cc->title[0] == '\0')
		memcpy(cc->title, cc->alias, strlen(cc->alias) + 1);	/* alias[64] fits title[128] */
	return 0;
}

static int load_taxii(struct loader *l, yaml_node_t *map, struct taxii_conf *t)
{
	char key[128];
	if (map->type != YAML_MAPPING_NODE)
		return fail(l, map, "taxii", "expected a mapping");
	FOR_PAIRS(l, map, p) {
		yaml_node_t *k = yaml_document_get_node(&l->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&l->doc, p->value);
		const char *ks = scalar(k);
		snprintf(key, sizeof(key), "taxii.%s", ks ? ks : "?");
		int rc;
		if (ks == NULL)
			rc = fail(l, k, key, "expected a key");
		else if (!strcmp(ks, "title"))
			rc = get_str(l, v, key, t->title, sizeof(t->title));
		else if (!strcmp(ks, "description"))
			rc = get_str(l, v, key, t->description, sizeof(t->description));
		else if (!strcmp(ks, "max_content_length"))
			rc = get_int(l, v, key, 1024, 1073741824, &t->max_content_length);
		else if (!strcmp(ks, "default_page"))
			rc = get_int(l, v, key, 1, 100000, &t->default_page);
		else if (!strcmp(ks, "max_page"))
			rc = get_int(l, v, key, 1, 100000, &t->max_page);
		else if (!strcmp(ks, "next_ttl"))
			rc = get_int(l, v, key, 60, 30 * 86400, &t->next_ttl_s);
		else if (!strcmp(ks, "status_ttl"))
			rc = get_int(l, v, key, 86400, 30 * 86400, &t->status_ttl_s);
		else if (!strcmp(ks, "empty_objects"))
			rc = get_bool(l, v, key, &t->empty_objects);
		else if (!strcmp(ks, "include_custom"))
			rc = get_bool(l, v, key, &t->include_custom);
		else if (!strcmp(ks, "collections")) {
			if (v->type != YAML_SEQUENCE_NODE)
				return fail(l, v, key, "expected a list of collections");
			t->ncoll = 0;
			for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
				if (t->ncoll == CONFIG_COLLECTIONS_MAX)
					return fail(l, v, key, "more than 32 collections");
				struct collection_conf *cc = &t->coll[t->ncoll];
				rc = load_collection(l, yaml_document_get_node(&l->doc, *it), t->ncoll, cc);
				if (rc)
					return rc;
				for (int j = 0; j < t->ncoll; j++)
					if (!strcmp(t->coll[j].id, cc->id) || !strcmp(t->coll[j].alias, cc->alias) ||
					    !strcmp(t->coll[j].id, cc->alias) || !strcmp(t->coll[j].alias, cc->id))
						return fail(l, yaml_document_get_node(&l->doc, *it), key,
							    "two collections share an id or alias");
				t->ncoll++;
			}
			rc = 0;
		} else
			rc = fail(l, k, key, "unknown key");
		if (rc)
			return rc;
	}
	if (t->default_page > t->max_page)
		return fail(l, map, "taxii.default_page", "larger than taxii.max_page");
	return 0;
}

static int get_strlist(struct loader *l, yaml_node_t *v, const char *key, char (*out)[64], int max, int *n)
{
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(l, v, key, "expected a list of strings");
	*n = 0;
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *sn = yaml_document_get_node(&l->doc, *it);
		if (*n == max)
			return fail(l, sn, key, "too many entries");
		int rc = get_str(l, sn, key, out[*n], 64);
		if (rc)
			return rc;
		(*n)++;
	}
	return 0;
}

static int load_feed(struct loader *l, yaml_node_t *map, int idx, struct feed_conf *f)
{
	char key[128];
	snprintf(key, sizeof(key), "feeds[%d]", idx);
	if (map->type != YAML_MAPPING_NODE)
		return fail(l, map, key, "expected a mapping");
	memset(f, 0, sizeof(*f));
	f->confidence = -1;
	f->line = (unsigned long)map->start_mark.line + 1;
	FOR_PAIRS(l, map, p) {
		yaml_node_t *k = yaml_document_get_node(&l->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&l->doc, p->value);
		const char *ks = scalar(k);
		snprintf(key, sizeof(key), "feeds[%d].%s", idx, ks ? ks : "?");
		int64_t iv = 0;
		char tmp[32];
		int rc;
		if (ks == NULL)
			rc = fail(l, k, key, "expected a key");
		else if (!strcmp(ks, "name"))
			rc = get_str(l, v, key, f->name, sizeof(f->name));
		else if (!strcmp(ks, "url"))
			rc = get_str(l, v, key, f->url, sizeof(f->url));
		else if (!strcmp(ks, "format"))
			rc = get_str(l, v, key, f->format, sizeof(f->format));
		else if (!strcmp(ks, "interval")) {
			rc = get_int(l, v, key, 60, 366LL * 86400, &f->interval_s);
		} else if (!strcmp(ks, "type"))
			rc = get_str(l, v, key, f->type, sizeof(f->type));
		else if (!strcmp(ks, "confidence")) {
			rc = get_int(l, v, key, 0, 100, &iv);
			f->confidence = (int)iv;
		} else if (!strcmp(ks, "reliability")) {
			rc = get_str(l, v, key, tmp, sizeof(tmp));
			if (rc == 0 && (strlen(tmp) != 1 || tmp[0] < 'A' || tmp[0] > 'F'))
				rc = fail(l, v, key, "expected a grade from A to F");
			f->reliability = tmp[0];
		} else if (!strcmp(ks, "tags"))
			rc = get_strlist(l, v, key, f->tags, 8, &f->ntags);
		else if (!strcmp(ks, "tlp"))
			rc = get_str(l, v, key, f->tlp, sizeof(f->tlp));
		else if (!strcmp(ks, "category"))
			rc = get_str(l, v, key, f->category, sizeof(f->category));
		else if (!strcmp(ks, "industries"))
			rc = get_strlist(l, v, key, f->industries, 4, &f->nindustries);
		else if (!strcmp(ks, "lifetime")) {
			rc = get_int(l, v, key, 1, 36500, &iv);
			f->lifetime_days = (int)iv;
		} else if (!strcmp(ks, "snapshot"))
			rc = get_bool(l, v, key, &f->snapshot);
		else if (!strcmp(ks, "collection"))
			rc = get_str(l, v, key, f->collection, sizeof(f->collection));
		else if (!strcmp(ks, "auth"))
			rc = get_str(l, v, key, f->auth, sizeof(f->auth));
		else if (!strcmp(ks, "user"))
			rc = get_str(l, v, key, f->user, sizeof(f->user));
		else if (!strcmp(ks, "secret_env"))
			rc = get_str(l, v, key, f->secret_env, sizeof(f->secret_env));
		else if (!strcmp(ks, "max_bytes"))
			rc = get_int(l, v, key, 1024, 1LL << 40, &f->max_bytes);
		else if (!strcmp(ks, "map")) {
			/* FIELD: COLUMN pairs; the fields are checked where feeds are read. */
			if (v->type != YAML_MAPPING_NODE)
				return fail(l, v, key, "expected a mapping of field: column");
			f->nmap = 0;
			rc = 0;
			FOR_PAIRS(l, v, q) {
				const char *fk = scalar(yaml_document_get_node(&l->doc, q->key));
				const char *fv = scalar(yaml_document_get_node(&l->doc, q->value));
				if (fk == NULL || fv == NULL || f->nmap == 12 || strlen(fk) + strlen(fv) + 2 > sizeof(f->map[0]))
					return fail(l, v, key, "expected up to 12 short field: column pairs");
				snprintf(f->map[f->nmap++], sizeof(f->map[0]), "%s=%s", fk, fv);
			}
		}
		else
			rc = fail(l, k, key, "unknown key");
		if (rc)
			return rc;
	}
	snprintf(key, sizeof(key), "feeds[%d]", idx);
	if (!f->name[0] || !f->url[0] || !f->format[0])
		return fail(l, map, key, "a feed needs a name, a url and a format");
	return 0;
}

/* A per-type value: decay_speed.T, grace_days.T or lifetimes.T. */
static int load_type_value(struct loader *l, yaml_node_t *v, const char *map, const char *key,
			   enum ioc_type t, struct config *c)
{
	if (!strcmp(map, "decay_speed"))
		return get_real(l, v, key, 0.1, 10, &c->decay_speed[t]);
	if (!strcmp(map, "grace_days"))
		return get_int(l, v, key, 0, 3650, &c->grace_days[t]);
	return get_int(l, v, key, 0, 36500, &c->lifetime_days[t]);
}

/* A mapping from indicator types to values (map is its key in the file). */
static int load_type_map(struct loader *l, yaml_node_t *v, const char *map, struct config *c)
{
	char key[128];
	if (v->type != YAML_MAPPING_NODE)
		return fail(l, v, map, "expected a mapping");
	FOR_PAIRS(l, v, q) {
		yaml_node_t *k2 = yaml_document_get_node(&l->doc, q->key);
		const char *k2s = scalar(k2);
		enum ioc_type t = k2s ? ioc_type_from_name(k2s, strlen(k2s)) : IOC_NONE;
		snprintf(key, sizeof(key), "%s.%s", map, k2s ? k2s : "?");
		if (t == IOC_NONE)
			return fail(l, k2, key, "unknown indicator type");
		int rc = load_type_value(l, yaml_document_get_node(&l->doc, q->value), map, key, t, c);
		if (rc)
			return rc;
	}
	return 0;
}

static int load_root(struct loader *l, struct config *c, yaml_node_t *root)
{
	char key[128];
	if (root == NULL || (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0 &&
			     root->data.scalar.style == YAML_PLAIN_SCALAR_STYLE))
		return 0;	/* an empty file (or comments only): every default stands */
	if (root->type != YAML_MAPPING_NODE)
		return fail(l, root, "(top level)", "expected a mapping");
	FOR_PAIRS(l, root, p) {
		yaml_node_t *k = yaml_document_get_node(&l->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&l->doc, p->value);
		const char *ks = scalar(k);
		int64_t iv = 0;
		int rc = 0;
		if (ks == NULL)
			return fail(l, k, "?", "expected a key");
		snprintf(key, sizeof(key), "%s", ks);
		if (!strcmp(ks, "listen")) {
			rc = get_str(l, v, key, c->listen, sizeof(c->listen));
		} else if (!strcmp(ks, "threads")) {
			rc = get_int(l, v, key, 0, 256, &iv);
			if (rc == 0)
				c->threads = (int)iv;
		} else if (!strcmp(ks, "base_url")) {
			rc = get_str(l, v, key, c->base_url, sizeof(c->base_url));
			size_t n = strlen(c->base_url);
			while (rc == 0 && n > 0 && c->base_url[n - 1] == '/')
				c->base_url[--n] = '\0';
		} else if (!strcmp(ks, "access_log")) {
			rc = get_str(l, v, key, c->access_log, sizeof(c->access_log));
		} else if (!strcmp(ks, "default_score")) {
			rc = get_int(l, v, key, 0, 100, &iv);
			if (rc == 0)
				c->default_score = (int)iv;
		} else if (!strcmp(ks, "limits")) {
			if (v->type != YAML_MAPPING_NODE)
				return fail(l, v, key, "expected a mapping");
			FOR_PAIRS(l, v, q) {
				yaml_node_t *k2 = yaml_document_get_node(&l->doc, q->key);
				yaml_node_t *v2 = yaml_document_get_node(&l->doc, q->value);
				const char *k2s = scalar(k2);
				snprintf(key, sizeof(key), "limits.%s", k2s ? k2s : "?");
				if (k2s == NULL)
					rc = fail(l, k2, key, "expected a key");
				else if (!strcmp(k2s, "max_header_bytes")) {
					/* h2o's parser refuses request heads over 408 KiB before cairn sees them. */
					rc = get_int(l, v2, key, 1024, 262144, &iv);
					if (rc == 0)
						c->max_header_bytes = (size_t)iv;
				} else if (!strcmp(k2s, "max_body_bytes")) {
					rc = get_int(l, v2, key, 1024, 1073741824, &iv);
					if (rc == 0)
						c->max_body_bytes = (size_t)iv;
				} else if (!strcmp(k2s, "max_connections")) {
					rc = get_int(l, v2, key, 1, 1000000, &iv);
					if (rc == 0)
						c->max_connections = (int)iv;
				} else if (!strcmp(k2s, "request_timeout")) {
					rc = get_int(l, v2, key, 1, 3600, &iv);
					if (rc == 0)
						c->request_timeout_s = (int)iv;
				} else if (!strcmp(k2s, "idle_timeout")) {
					rc = get_int(l, v2, key, 1, 3600, &iv);
					if (rc == 0)
						c->idle_timeout_s = (int)iv;
				} else if (!strcmp(k2s, "write_timeout")) {
					rc = get_int(l, v2, key, 1, 3600, &iv);
					if (rc == 0)
						c->write_timeout_s = (int)iv;
				} else if (!strcmp(k2s, "max_lookup_values")) {
					rc = get_int(l, v2, key, 1, 100000, &c->max_lookup_values);
				} else if (!strcmp(k2s, "stats_refresh")) {
					rc = get_int(l, v2, key, 1, 86400, &c->stats_refresh_s);
				} else
					rc = fail(l, k2, key, "unknown key");
				if (rc)
					return rc;
			}
		} else if (!strcmp(ks, "tiers")) {
			if (v->type != YAML_MAPPING_NODE)
				return fail(l, v, key, "expected a mapping");
			FOR_PAIRS(l, v, q) {
				yaml_node_t *k2 = yaml_document_get_node(&l->doc, q->key);
				const char *k2s = scalar(k2);
				int t = k2s ? tier_from_name(k2s) : -1;
				snprintf(key, sizeof(key), "tiers.%s", k2s ? k2s : "?");
				if (t < 0)
					return fail(l, k2, key, "unknown tier (free, pro, admin)");
				rc = load_tier(l, yaml_document_get_node(&l->doc, q->value), k2s, &c->tier[t]);
				if (rc)
					return rc;
			}
		} else if (!strcmp(ks, "feeds")) {
			if (v->type != YAML_SEQUENCE_NODE)
				return fail(l, v, key, "expected a list of feeds");
			c->nfeeds = 0;
			c->feeds_given = true;
			for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
				if (c->nfeeds == CONFIG_FEEDS_MAX)
					return fail(l, v, key, "more than 64 feeds");
				rc = load_feed(l, yaml_document_get_node(&l->doc, *it), c->nfeeds, &c->feeds[c->nfeeds]);
				if (rc)
					return rc;
				for (int j = 0; j < c->nfeeds; j++)
					if (!strcmp(c->feeds[j].name, c->feeds[c->nfeeds].name))
						return fail(l, yaml_document_get_node(&l->doc, *it), key, "two feeds share a name");
				c->nfeeds++;
			}
			rc = 0;
		} else if (!strcmp(ks, "feed_check_interval")) {
			rc = get_int(l, v, key, 0, 86400, &c->feed_check_s);
		} else if (!strcmp(ks, "taxii")) {
			rc = load_taxii(l, v, &c->taxii);
		} else if (!strcmp(ks, "decay_speed") || !strcmp(ks, "grace_days") || !strcmp(ks, "lifetimes")) {
			rc = load_type_map(l, v, ks, c);
		} else {
			rc = fail(l, k, key, "unknown key");
		}
		if (rc)
			return rc;
	}
	return 0;
}

static int load_parser(struct config *c, const char *name, yaml_parser_t *parser, struct err *e)
{
	struct loader l = { .path = name, .e = e };
	int rc;
	if (!yaml_parser_load(parser, &l.doc))
		return err_set(e, ERR_INVALID, "%s:%lu: %s", name, (unsigned long)parser->problem_mark.line + 1,
			       parser->problem ? parser->problem : "invalid YAML");
	rc = load_root(&l, c, yaml_document_get_root_node(&l.doc));
	yaml_document_delete(&l.doc);
	return rc;
}

int config_load_buffer(struct config *c, const char *name, const char *p, size_t len, struct err *e)
{
	yaml_parser_t parser;
	if (len > CONFIG_FILE_MAX)
		return err_set(e, ERR_TOO_LARGE, "%s: larger than 1 MiB", name);
	if (!yaml_parser_initialize(&parser))
		return err_set(e, ERR_INTERNAL, "cannot initialise the YAML parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *)p, len);
	int rc = load_parser(c, name, &parser, e);
	yaml_parser_delete(&parser);
	return rc;
}

int config_load(struct config *c, const char *path, struct err *e)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return err_set(e, ERR_IO, "cannot open config '%s': %s", path, strerror(errno));
	char *data = malloc(CONFIG_FILE_MAX + 1);
	size_t n = data ? fread(data, 1, CONFIG_FILE_MAX + 1, f) : 0;
	int bad = data == NULL || ferror(f);
	fclose(f);
	int rc;
	if (bad)
		rc = err_set(e, ERR_IO, "cannot read config '%s'", path);
	else
		rc = config_load_buffer(c, path, data, n, e);
	free(data);
	return rc;
}
