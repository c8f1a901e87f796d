/*
 * The Sigma export: one rule per indicator, or one per indicator type (group=type), as a
 * multi-document YAML stream. The mapping of each type to a log source, field and modifier is
 * the table of docs/sigma.md (after ../shared/conformance/sigma/MAPPING.md); sigma_yaml.c
 * writes every scalar.
 *
 * Layout: documents are joined by "---" lines, with no separator before the first or after the
 * last, so an empty selection is an empty stream. Output goes to the sink 256 KiB at a time;
 * records are read a page at a time, so memory stays constant whatever the export size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/crypto.h"
#include "base/timeutil.h"
#include "base/xmalloc.h"
#include "export/export.h"
#include "stix/attack.h"
#include "export/sigma_yaml.h"

#define PAGE 2000
#define FLUSH_AT (256 * 1024)
#define WALK_STOP 1		/* a walk's callback ends it early (not an error) */
#define TITLE_MAX 120		/* code points: SigmaHQ's limit (the specification allows 256) */
#define TITLE_ID_HEX 16		/* a shortened title ends with 64 bits of the rule id */
#define LIST_NAMES 16		/* feeds and industries named in a description */
#define MAX_TECH (IOC_MAX_TECHNIQUES + 1)

/* ---- the mapping ---- */

/* How one indicator type becomes a rule in one profile. */
struct map {
	const char *title;	/* the title's words before the value */
	const char *group_title;	/* the whole title of the grouped rule */
	const char *what;	/* "a network connection to the IPv4 address" + value */
	const char *group_what;	/* "network connections to the IPv4 addresses and ranges" */
	const char *category, *product, *service;	/* logsource */
	const char *field;	/* with its modifier */
	const char *cidr_field;	/* for values with a /prefix; NULL: ranges are left out (IPv6:
				 * the Kusto backend turns |cidr into ipv4_is_in_range) */
	const char *prefix;	/* put before the value: "SHA256=" */
	bool upper;		/* the value in upper case (hash hex) */
	const char *technique;	/* the tag every rule of the type carries, with its tactics */
	const char *fp;		/* the false positive to expect */
	bool cap_medium;	/* level at most medium: a sender address is easily forged */
};

#define FP_UNKNOWN "Unknown"
#define FP_IP "Legitimate services on shared, reassigned or CDN addresses"

/* Sysmon-style log sources (Windows network_connection, dns_query, process_creation), the
 * default. NULL title: the type has no rule (SHA-512: Sysmon does not record it). */
static const struct map sysmon_map[IOC_TYPE_COUNT] = {
	[IOC_IPV4] = { "IOC Network Connection To IPv4", "IOC Network Connection To Listed IPv4 Addresses",
		       "a network connection to the IPv4 address", "network connections to the listed IPv4 addresses and ranges",
		       "network_connection", "windows", NULL, "DestinationIp", "DestinationIp|cidr", "", false,
		       "T1071", FP_IP, false },
	[IOC_IPV6] = { "IOC Network Connection To IPv6", "IOC Network Connection To Listed IPv6 Addresses",
		       "a network connection to the IPv6 address", "network connections to the listed IPv6 addresses",
		       "network_connection", "windows", NULL, "DestinationIp", NULL, "", false,
		       "T1071", FP_IP, false },
	[IOC_DOMAIN] = { "IOC DNS Query For Domain", "IOC DNS Query For Listed Domains",
			 "a DNS query for the domain", "DNS queries for the listed domains",
			 "dns_query", "windows", NULL, "QueryName", NULL, "", false, "T1071.004", FP_UNKNOWN, false },
	[IOC_URL] = { "IOC Proxy Request To", "IOC Proxy Request To Listed URLs",
		      "a web proxy request to the URL", "web proxy requests to the listed URLs",
		      "proxy", NULL, NULL, "c-uri|contains", NULL, "", false, "T1071.001", FP_UNKNOWN, false },
	[IOC_MD5] = { "IOC Process Execution Of File With MD5", "IOC Process Execution Of Files With Listed MD5 Hashes",
		      "execution of a file whose MD5 hash is", "execution of files with the listed MD5 hashes",
		      "process_creation", "windows", NULL, "Hashes|contains", NULL, "MD5=", true, "T1204.002",
		      FP_UNKNOWN, false },
	[IOC_SHA1] = { "IOC Process Execution Of File With SHA1", "IOC Process Execution Of Files With Listed SHA1 Hashes",
		       "execution of a file whose SHA1 hash is", "execution of files with the listed SHA1 hashes",
		       "process_creation", "windows", NULL, "Hashes|contains", NULL, "SHA1=", true, "T1204.002",
		       FP_UNKNOWN, false },
	[IOC_SHA256] = { "IOC Process Execution Of File With SHA256",
			 "IOC Process Execution Of Files With Listed SHA256 Hashes",
			 "execution of a file whose SHA256 hash is", "execution of files with the listed SHA256 hashes",
			 "process_creation", "windows", NULL, "Hashes|contains", NULL, "SHA256=", true, "T1204.002",
			 FP_UNKNOWN, false },
	[IOC_EMAIL] = { "IOC Email From Sender", "IOC Email From Listed Senders",
			"email messages sent from the address", "email messages sent from the listed addresses",
			"email", NULL, NULL, "email.from.address", NULL, "", false, "T1566", FP_UNKNOWN, true },
	[IOC_CVE] = { "IOC Security Product Signature Referencing", "IOC Security Product Signature Referencing Listed CVEs",
		      "antivirus or EDR detections whose signature name references", "antivirus or EDR detections whose signature names reference the listed CVEs",
		      "antivirus", NULL, NULL, "Signature|contains", NULL, "", false, NULL, FP_UNKNOWN, false },
	[IOC_MITRE] = { "IOC Sysmon Event Tagged With ATT&CK Technique",
			"IOC Sysmon Event Tagged With Listed ATT&CK Techniques",
			"Sysmon events whose RuleName carries the ATT&CK technique",
			"Sysmon events whose RuleName carries one of the listed ATT&CK techniques",
			NULL, "windows", "sysmon", "RuleName|contains", NULL, "technique_id=", false, NULL,
			"Sysmon configurations that tag benign activity with the technique", false },
};

/* Network devices: firewalls for addresses, DNS servers for domains. Types without an entry
 * here keep the default rule (the proxy, mail gateway and antivirus sources already are
 * network-side, and hashes and ATT&CK tags have no network-device source). */
static const struct map network_map[IOC_TYPE_COUNT] = {
	[IOC_IPV4] = { "IOC Firewall Connection To IPv4", "IOC Firewall Connection To Listed IPv4 Addresses",
		       "a firewall-logged connection to the IPv4 address", "firewall-logged connections to the listed IPv4 addresses and ranges",
		       "firewall", NULL, NULL, "dst_ip", "dst_ip|cidr", "", false, "T1071", FP_IP, false },
	[IOC_IPV6] = { "IOC Firewall Connection To IPv6", "IOC Firewall Connection To Listed IPv6 Addresses",
		       "a firewall-logged connection to the IPv6 address", "firewall-logged connections to the listed IPv6 addresses",
		       "firewall", NULL, NULL, "dst_ip", NULL, "", false, "T1071", FP_IP, false },
	[IOC_DOMAIN] = { "IOC DNS Server Query For Domain", "IOC DNS Server Query For Listed Domains",
			 "a DNS server log of a query for the domain", "DNS server logs of queries for the listed domains",
			 "dns", NULL, NULL, "query", NULL, "", false, "T1071.004", FP_UNKNOWN, false },
};

static const char *const profile_names[SIGMA_PROFILE_COUNT] = { "sysmon", "network" };

int sigma_profile_from_name(const char *s)
{
	for (int p = 0; s && p < SIGMA_PROFILE_COUNT; p++)
		if (!strcmp(s, profile_names[p]))
			return p;
	return -1;
}

const char *sigma_profile_name(enum sigma_profile p)
{
	return (unsigned)p < SIGMA_PROFILE_COUNT ? profile_names[p] : "";
}

/* The rule of type t in profile p, and whether it differs from the default one (then the
 * profile is part of the rule's id). NULL when the type has no rule. */
static const struct map *map_of(enum sigma_profile p, enum ioc_type t, bool *own)
{
	*own = false;
	if ((unsigned)t >= IOC_TYPE_COUNT)
		return NULL;
	if (p == SIGMA_PROFILE_NETWORK && network_map[t].title) {
		*own = true;
		return &network_map[t];
	}
	return sysmon_map[t].title ? &sysmon_map[t] : NULL;
}

/* ---- ATT&CK ---- */

/* The tags a rule carries: tactics as bits, techniques as a bit set over the table (so the
 * grouped rules can union any number of records in fixed memory), a CVE, a TLP level. */
struct tags {
	unsigned tactics;
	unsigned char tech[(1024 + 7) / 8];	/* bit i = attack_techniques[i] */
	char cve[32];
	const char *tlp;
};
_Static_assert(sizeof(((struct tags *)0)->tech) * 8 >= 1024, "technique bits");

/* Adds technique id when ATT&CK knows it as active; false when it does not. */
static bool tags_technique(struct tags *t, const char *id, size_t len)
{
	const struct attack_technique *te = attack_technique_find(id, len);
	if (te == NULL || (size_t)(te - attack_techniques) >= 1024)
		return false;
	size_t i = (size_t)(te - attack_techniques);
	t->tech[i / 8] |= (unsigned char)(1u << (i % 8));
	t->tactics |= te->tactics;
	return true;
}

/* TLP levels from least to most restrictive, with their Sigma (TLP 2.0) tag names. */
static const char *const tlp_levels[5][2] = {
	{ "clear", "clear" }, { "green", "green" }, { "amber", "amber" },
	{ "amber+strict", "amber-strict" }, { "red", "red" },
};

static int tlp_rank(const char *tlp)
{
	for (int i = 0; tlp && i < 5; i++)
		if (!strcmp(tlp, tlp_levels[i][0]))
			return i;
	return 0;	/* no level recorded: clear, as on import */
}

static void tags_write(struct buf *b, const struct tags *t)
{
	bool any = t->tactics || t->cve[0] || t->tlp;
	for (size_t i = 0; !any && i < sizeof(t->tech); i++)
		any = t->tech[i] != 0;
	if (!any)
		return;
	buf_puts(b, "tags:\n");
	for (int i = 0; i < ATTACK_TACTIC_COUNT; i++)
		if (t->tactics & (1u << i))
			buf_printf(b, "    - attack.%s\n", attack_tactics[i].shortname);
	for (size_t i = 0; i < attack_ntechniques && i < 1024; i++) {
		if (t->tech[i / 8] == 0) {
			i |= 7;	/* a byte without techniques: to the next one */
			continue;
		}
		if (!(t->tech[i / 8] & (1u << (i % 8))))
			continue;
		uint32_t code = attack_techniques[i].code;
		if (code % 1000)
			buf_printf(b, "    - attack.t%04u.%03u\n", code / 1000, code % 1000);
		else
			buf_printf(b, "    - attack.t%04u\n", code / 1000);
	}
	if (t->cve[0])
		buf_printf(b, "    - cve.%s\n", t->cve);
	if (t->tlp)
		buf_printf(b, "    - tlp.%s\n", t->tlp);
}

/* ---- reading a record's JSON lists ---- */

/*
 * The list fields of a record (tags, techniques, industries, sources) are JSON arrays that
 * cairn wrote itself. A full parser costs more than the rest of a rule put together, so they
 * are read by this small scanner: strings decoded (escapes, \\u with surrogate pairs), every
 * other value skipped, nesting capped; anything unexpected ends the scan quietly.
 */
#define JSON_STR_MAX 4096
#define JSON_DEPTH_MAX 16

struct jscan {
	const char *p, *end;
	char s[JSON_STR_MAX + 8];	/* the last string, NUL-terminated */
	size_t len;
};

static void js_ws(struct jscan *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
		j->p++;
}

static int js_hex4(const char *p)
{
	int v = 0;
	for (int i = 0; i < 4; i++) {
		int d = hex_digit(p[i]);
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

static void js_put(struct jscan *j, uint32_t cp)
{
	char *o = j->s + j->len;
	if (cp < 0x80) {
		o[0] = (char)cp, j->len += 1;
	} else if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6), o[1] = (char)(0x80 | (cp & 0x3f)), j->len += 2;
	} else if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12), o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f)), j->len += 3;
	} else {
		o[0] = (char)(0xf0 | cp >> 18), o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		o[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), o[3] = (char)(0x80 | (cp & 0x3f)), j->len += 4;
	}
}

/* A string at j->p (on its opening quote) into j->s; false on bad syntax. A string longer
 * than JSON_STR_MAX is read past but kept truncated, and j->len is then JSON_STR_MAX + 1. */
static bool js_string(struct jscan *j)
{
	j->len = 0;
	j->p++;
	bool over = false;
	while (j->p < j->end && *j->p != '"') {
		if (j->len > JSON_STR_MAX - 4)
			over = true, j->len = 0;
		char c = *j->p++;
		if (c != '\\') {
			j->s[j->len++] = c;
			while (j->p < j->end && *j->p != '"' && *j->p != '\\' && j->len < JSON_STR_MAX - 4)
				j->s[j->len++] = *j->p++;	/* a run of plain characters */
			continue;
		}
		if (j->p >= j->end)
			return false;
		c = *j->p++;
		switch (c) {
		case 'b': j->s[j->len++] = '\b'; break;
		case 'f': j->s[j->len++] = '\f'; break;
		case 'n': j->s[j->len++] = '\n'; break;
		case 'r': j->s[j->len++] = '\r'; break;
		case 't': j->s[j->len++] = '\t'; break;
		case 'u': {
			if (j->end - j->p < 4)
				return false;
			int cp = js_hex4(j->p), lo;
			j->p += 4;
			if (cp < 0)
				return false;
			if (cp >= 0xd800 && cp <= 0xdbff && j->end - j->p >= 6 && j->p[0] == '\\' &&
			    j->p[1] == 'u' && (lo = js_hex4(j->p + 2)) >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				j->p += 6;
			} else if (cp >= 0xd800 && cp <= 0xdfff) {
				cp = 0xfffd;	/* a lone surrogate */
			}
			js_put(j, (uint32_t)cp);
			break;
		}
		default: j->s[j->len++] = c; break;	/* " \\ / */
		}
	}
	if (j->p >= j->end)
		return false;
	j->p++;
	if (over)
		j->len = JSON_STR_MAX + 1;
	j->s[j->len > JSON_STR_MAX ? JSON_STR_MAX : j->len] = '\0';
	return true;
}

/* Skips one value of any kind; false on bad syntax or too deep. */
static bool js_skip(struct jscan *j, int depth)
{
	js_ws(j);
	if (j->p >= j->end || depth > JSON_DEPTH_MAX)
		return false;
	char c = *j->p;
	if (c == '"')
		return js_string(j);
	if (c == '[' || c == '{') {
		char close = c == '[' ? ']' : '}';
		j->p++;
		js_ws(j);
		if (j->p < j->end && *j->p == close)
			return j->p++, true;
		for (;;) {
			if (c == '{') {
				js_ws(j);
				if (j->p >= j->end || *j->p != '"' || !js_string(j))
					return false;
				js_ws(j);
				if (j->p >= j->end || *j->p++ != ':')
					return false;
			}
			if (!js_skip(j, depth + 1))
				return false;
			js_ws(j);
			if (j->p >= j->end)
				return false;
			if (*j->p == close)
				return j->p++, true;
			if (*j->p++ != ',')
				return false;
		}
	}
	while (j->p < j->end && *j->p != ',' && *j->p != ']' && *j->p != '}' && *j->p != ' ')
		j->p++;	/* a number, true, false or null */
	return true;
}

/* Calls fn for each string of a JSON array of strings (key NULL), or for member `key` of each
 * object of an array of objects, when it is a string. */
static void json_each(const char *text, const char *key, void (*fn)(void *, const char *, size_t),
		      void *ctx)
{
	if (text == NULL)
		return;
	struct jscan *j = xmalloc(sizeof(*j));
	j->p = text;
	j->end = text + strlen(text);
	js_ws(j);
	if (j->p >= j->end || *j->p++ != '[')
		goto out;
	js_ws(j);
	if (j->p < j->end && *j->p == ']')
		goto out;
	for (;;) {
		js_ws(j);
		if (j->p >= j->end)
			goto out;
		if (key == NULL && *j->p == '"') {
			if (!js_string(j))
				goto out;
			if (j->len <= JSON_STR_MAX)
				fn(ctx, j->s, j->len);
		} else if (key != NULL && *j->p == '{') {
			j->p++;
			js_ws(j);
			if (j->p < j->end && *j->p == '}') {
				j->p++;
			} else {
				for (;;) {
					js_ws(j);
					if (j->p >= j->end || *j->p != '"' || !js_string(j))
						goto out;
					bool want = j->len <= JSON_STR_MAX && !strcmp(j->s, key);
					js_ws(j);
					if (j->p >= j->end || *j->p++ != ':')
						goto out;
					js_ws(j);
					if (want && j->p < j->end && *j->p == '"') {
						if (!js_string(j))
							goto out;
						if (j->len <= JSON_STR_MAX)
							fn(ctx, j->s, j->len);
					} else if (!js_skip(j, 1)) {
						goto out;
					}
					js_ws(j);
					if (j->p >= j->end)
						goto out;
					if (*j->p == '}') {
						j->p++;
						break;
					}
					if (*j->p++ != ',')
						goto out;
				}
			}
		} else if (!js_skip(j, 1)) {
			goto out;
		}
		js_ws(j);
		if (j->p >= j->end || *j->p == ']')
			goto out;
		if (*j->p++ != ',')
			goto out;
	}
out:
	free(j);
}

/* A short list of distinct names for a description, with how many more there were. */
struct names {
	char v[LIST_NAMES][IOC_FEED_MAX + 1];
	int n;
	int64_t more;
};

static void names_add(void *ctx, const char *s, size_t len)
{
	struct names *ns = ctx;
	if (len == 0 || len > IOC_FEED_MAX)
		return;
	for (int i = 0; i < ns->n; i++)
		if (strlen(ns->v[i]) == len && !memcmp(ns->v[i], s, len))
			return;
	if (ns->n == LIST_NAMES) {
		ns->more++;
		return;
	}
	memcpy(ns->v[ns->n], s, len);
	ns->v[ns->n][len] = '\0';
	ns->n++;
}

static void names_write(struct buf *d, const char *label, const struct names *ns)
{
	if (ns->n == 0)
		return;
	buf_printf(d, " %s: ", label);
	for (int i = 0; i < ns->n; i++)
		buf_printf(d, "%s%s", i ? ", " : "", ns->v[i]);
	if (ns->more)
		buf_printf(d, " and %lld more", (long long)ns->more);
	buf_putc(d, '.');
}

static void technique_add(void *ctx, const char *s, size_t len)
{
	tags_technique(ctx, s, len);
}

/* Free-form tags for the description (Sigma allows only its own tag namespaces). */
static void word_add(void *ctx, const char *s, size_t len)
{
	struct buf *d = ctx;
	buf_printf(d, "%s%.*s", d->len && d->data[d->len - 1] != ' ' ? ", " : "", (int)len, s);
}

/* ---- rule ids ---- */

/* UUIDv5 (RFC 4122) of name under SIGMA_ID_NAMESPACE, as uuid_v5 computes it, with one SHA-1
 * call and no allocation: a rule id is computed for every rule. */
static void rule_id(const char *name, size_t len, char out[UUID_STR_LEN + 1])
{
	static const char hx[] = "0123456789abcdef";
	char in[16 + IOC_VALUE_MAX + 64];
	uint8_t md[20];
	const char *ns = SIGMA_ID_NAMESPACE;
	size_t k = 0;
	for (size_t i = 0; ns[i] && k < 16; i++) {
		if (ns[i] == '-')
			continue;
		in[k++] = (char)(hex_digit(ns[i]) << 4 | hex_digit(ns[i + 1]));
		i++;
	}
	if (len > sizeof(in) - 16)
		len = sizeof(in) - 16;	/* unreachable: names are a type and a canonical value */
	memcpy(in + 16, name, len);
	crypto_sha1(in, 16 + len, md);
	md[6] = (uint8_t)((md[6] & 0x0f) | 0x50);
	md[8] = (uint8_t)((md[8] & 0x3f) | 0x80);
	size_t o = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hx[md[i] >> 4];
		out[o++] = hx[md[i] & 15];
	}
	out[o] = '\0';
}

/* ---- the run ---- */

struct run {
	const struct sigma_export_opts *o;
	const struct ioc_filter *f;
	const struct export_sink *sink;
	struct buf b;		/* output not yet handed to the sink */
	struct buf d;		/* a description or title being composed */
	struct buf refs;	/* a rule's references, NUL-separated, for the duplicate check */
	int64_t docs;		/* documents written */
	struct sigma_export_stats st;
	bool failed;
};

static void flush(struct run *r)
{
	if (!r->failed && r->b.len && r->sink->write(r->sink->ctx, r->b.data, r->b.len) != 0)
		r->failed = true;
	buf_reset(&r->b);
}

static void doc_start(struct run *r)
{
	if (r->docs > 0)
		buf_puts(&r->b, "---\n");
}

/* A record the export cannot carry: a tactic (no detection names it), a type without a log
 * source, an IPv6 range, or a value with a character a rule may not hold (sigma_yaml.h). */
static bool carried(const struct run *r, const struct ioc_record *rec, const struct map **m, bool *own)
{
	*m = map_of(r->o->profile, rec->type, own);
	if (*m == NULL)
		return false;
	if (rec->type == IOC_MITRE && rec->value[1] == 'A')
		return false;
	if ((rec->type == IOC_IPV4 || rec->type == IOC_IPV6) && !(*m)->cidr_field && strchr(rec->value, '/'))
		return false;
	return sigma_text_ok(rec->value, strlen(rec->value));
}

static bool expired(const struct run *r, const struct ioc_record *rec)
{
	return rec->revoked || (rec->valid_until && rec->valid_until <= r->f->now);
}

static const char *level_of(const struct map *m, enum ioc_type t, int score)
{
	if (t == IOC_MITRE)
		return "informational";	/* a technique seen is context, not an incident */
	const char *band = ioc_confidence_band(score);
	if (!strcmp(band, "none"))
		return "informational";
	if (m->cap_medium && !strcmp(band, "high"))
		return "medium";
	return band;
}

static int level_rank(const char *level)
{
	static const char *const order[] = { "informational", "low", "medium", "high" };
	for (int i = 0; i < 4; i++)
		if (!strcmp(level, order[i]))
			return i;
	return 0;
}

/* ---- URLs ---- */

struct url_parts {
	const char *host, *rest;	/* rest: path and query, the fragment dropped */
	size_t host_len, rest_len;
};

/* Splits a canonical URL (scheme://[userinfo@]host[:port][/path][?query][#fragment]); the
 * user information and port are left out. */
static void url_split(const char *v, struct url_parts *u)
{
	memset(u, 0, sizeof(*u));
	const char *p = strstr(v, "://");
	p = p ? p + 3 : v;
	size_t a = strcspn(p, "/?#");
	const char *at = NULL;
	for (size_t i = 0; i < a; i++)
		if (p[i] == '@')
			at = p + i;
	const char *h = at ? at + 1 : p;
	const char *end = p + a;
	const char *hend = end;
	if (*h == '[') {
		const char *close = memchr(h, ']', (size_t)(end - h));
		hend = close ? close + 1 : end;
	} else {
		const char *colon = memchr(h, ':', (size_t)(end - h));
		hend = colon ? colon : end;
	}
	/* The port is not matched: cs-uri-port is a field that not every backend maps (the Kusto
	 * sentinel_asim pipeline refuses it), and a port rarely changes what a URL is. */
	u->host = h;
	u->host_len = (size_t)(hend - h);
	u->rest = end;
	u->rest_len = strcspn(end, "#");
	if (u->rest_len == 1 && u->rest[0] == '/')
		u->rest_len = 0;	/* "/" alone: any request to the host matches it anyway */
}

/* ---- pieces of a rule ---- */

/* The display form of a value in a title: hex in upper case (so no lower-case word trips
 * SigmaHQ's title-case check), spaces as %20 (so the value stays one word). */
static void title_value(struct buf *d, const struct ioc_record *rec)
{
	bool upper = ioc_type_is_hash(rec->type) || rec->type == IOC_IPV6;
	for (const char *s = rec->value; *s; s++) {
		if (*s == ' ')
			buf_puts(d, "%20");
		else
			buf_putc(d, upper && *s >= 'a' && *s <= 'z' ? (char)(*s - 32) : *s);
	}
}

/* Number of code points of valid UTF-8 s[0..n). */
static size_t code_points(const char *s, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xc0) != 0x80;
	return k;
}

/*
 * title: '<words> <value>', at most TITLE_MAX code points. A longer one keeps the start of
 * the value, then "..." and 64 bits of the rule id in brackets: titles stay unique within
 * an export (two values with the same start have different ids), and no state is kept.
 */
static int title_write(struct run *r, const char *words, const struct ioc_record *rec, const char *id)
{
	struct buf *d = &r->d;
	buf_reset(d);
	buf_printf(d, "%s ", words);
	size_t head = d->len;
	title_value(d, rec);
	if (code_points(d->data, d->len) > TITLE_MAX) {
		size_t keep = TITLE_MAX - code_points(d->data, head) - 3 - 3 - TITLE_ID_HEX;
		size_t i = head, k = 0;
		while (i < d->len && k < keep) {
			i++;
			while (i < d->len && ((unsigned char)d->data[i] & 0xc0) == 0x80)
				i++;
			k++;
		}
		d->len = i;
		buf_puts(d, "... [");
		for (int j = 0, n = 0; n < TITLE_ID_HEX; j++)
			if (id[j] != '-')
				buf_putc(d, id[j] >= 'a' ? (char)(id[j] - 32) : id[j]), n++;
		buf_putc(d, ']');
	}
	buf_puts(&r->b, "title: ");
	int rc = sigma_yaml_string(&r->b, d->data, d->len);
	buf_putc(&r->b, '\n');
	return rc;
}

static void logsource_write(struct buf *b, const struct map *m)
{
	buf_puts(b, "logsource:\n");
	if (m->category)
		buf_printf(b, "    category: %s\n", m->category);
	if (m->product)
		buf_printf(b, "    product: %s\n", m->product);
	if (m->service)
		buf_printf(b, "    service: %s\n", m->service);
}

/* A reference, unless the rule has it already or SigmaHQ wants it elsewhere (ATT&CK pages
 * are tags). Only http(s) URLs that a rule can carry. */
static void ref_add(void *ctx, const char *s, size_t len)
{
	struct run *r = ctx;
	if (len == 0 || len > IOC_URL_FIELD_MAX || (strncmp(s, "http://", 7) && strncmp(s, "https://", 8)) ||
	    !strncmp(s, "https://attack.mitre.org/", 25) || !sigma_text_ok(s, len))
		return;
	for (size_t i = 0; i < r->refs.len; i += strlen(r->refs.data + i) + 1)
		if (strlen(r->refs.data + i) == len && !memcmp(r->refs.data + i, s, len))
			return;
	if (r->refs.len > 64 * (IOC_URL_FIELD_MAX + 1))
		return;
	if (r->refs.len == 0)
		buf_puts(&r->b, "references:\n");
	buf_append(&r->refs, s, len);
	buf_putc(&r->refs, '\0');
	buf_puts(&r->b, "    - ");
	if (sigma_yaml_string(&r->b, s, len) != 0)
		buf_puts(&r->b, "''");	/* unreachable: checked above */
	buf_putc(&r->b, '\n');
}

static void date_write(struct buf *b, const char *key, int64_t us)
{
	char day[16];
	time_format_date(day, us);
	buf_printf(b, "%s: %s\n", key, day);
}

/* `modified` when the indicator changed after it was first recorded (a new report can change
 * its level, tags or feeds) on a later day than `date`. */
static void modified_write(struct buf *b, int64_t date_us, int64_t modified_us, bool changed)
{
	if (changed && modified_us / USEC_PER_DAY > date_us / USEC_PER_DAY)
		date_write(b, "modified", modified_us);
}

/* The URL of the selection in the list API, for a grouped rule's references. */
static void put_query_value(struct buf *b, const char *s)
{
	static const char hx[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '.' || *p == '_' || *p == '~')
			buf_putc(b, (char)*p);
		else
			buf_printf(b, "%%%c%c", hx[*p >> 4], hx[*p & 15]);
	}
}

/* The selection filters (not the time window or paging) as a query string: part of a grouped
 * rule's id, so that two selections never share one, and of its reference. */
static void selection_query(struct buf *b, const struct ioc_filter *f, enum ioc_type t)
{
	static const char *const bands[4] = { "none", "low", "medium", "high" };
	buf_printf(b, "type=%s", ioc_type_name(t));
	if (f->bands) {
		buf_puts(b, "&confidence=");
		for (int i = 3, first = 1; i >= 0; i--)
			if (f->bands & (1u << i))
				buf_printf(b, "%s%s", first ? "" : "%2C", bands[i]), first = 0;
	}
	if (f->min_score >= 0)
		buf_printf(b, "&min_score=%d", f->min_score);
	const char *keys[4] = { "category", "industry", "tag", "source" };
	const char *vals[4] = { f->category, f->industry, f->tag, f->source };
	for (int i = 0; i < 4; i++) {
		if (vals[i] == NULL)
			continue;
		buf_printf(b, "&%s=", keys[i]);
		put_query_value(b, vals[i]);
	}
	if (f->include_expired)
		buf_puts(b, "&include_expired=true");
}

/* ---- one rule per indicator ---- */

static void detection_value(struct buf *b, const struct map *m, const char *v)
{
	char tmp[IOC_VALUE_MAX + 16];
	if (m->prefix[0] || m->upper) {
		size_t n = (size_t)snprintf(tmp, sizeof(tmp), "%s%s", m->prefix, v);
		for (size_t i = strlen(m->prefix); m->upper && i < n; i++)
			if (tmp[i] >= 'a' && tmp[i] <= 'z')
				tmp[i] = (char)(tmp[i] - 32);
		v = tmp;
	}
	if (sigma_yaml_value(b, v, strlen(v)) != 0)
		buf_puts(b, "''");	/* unreachable: carried() checked the value */
}

/* The selection's items at an indent: one map of field: value lines. */
static void selection_items(struct buf *b, const struct map *m, const struct ioc_record *rec,
			    const char *indent, const char *first_indent)
{
	if (rec->type == IOC_URL) {
		struct url_parts u;
		url_split(rec->value, &u);
		buf_printf(b, "%scs-host: ", first_indent);
		if (sigma_yaml_value(b, u.host, u.host_len) != 0)
			buf_puts(b, "''");
		buf_putc(b, '\n');
		if (u.rest_len) {
			buf_printf(b, "%sc-uri|contains: ", indent);
			if (sigma_yaml_value(b, u.rest, u.rest_len) != 0)
				buf_puts(b, "''");
			buf_putc(b, '\n');
		}
		return;
	}
	bool cidr = m->cidr_field && strchr(rec->value, '/');
	buf_printf(b, "%s%s: ", first_indent, cidr ? m->cidr_field : m->field);
	detection_value(b, m, rec->value);
	buf_putc(b, '\n');
}

static void description_common(struct run *r, const struct ioc_record *rec, struct names *feeds,
			       struct names *inds)
{
	struct buf *d = &r->d;
	feeds->n = 0, feeds->more = 0;
	names_add(feeds, rec->feed, rec->feed ? strlen(rec->feed) : 0);
	json_each(rec->sources, "feed_name", names_add, feeds);
	names_write(d, feeds->n + feeds->more > 1 ? "Feeds" : "Feed", feeds);
	buf_printf(d, " Confidence: %s (score %d).", ioc_confidence_band(rec->score), rec->score);
	inds->n = 0, inds->more = 0;
	json_each(rec->industries, NULL, names_add, inds);
	names_write(d, "Industries", inds);
	if (rec->tags && strcmp(rec->tags, "[]")) {
		buf_puts(d, " Tags: ");
		json_each(rec->tags, NULL, word_add, d);
		buf_putc(d, '.');
	}
	if (rec->context && rec->context[0])
		buf_printf(d, " Context: %s", rec->context);
}

static int rule_one(void *ctx, const struct ioc_record *rec)
{
	struct run *r = ctx;
	const struct map *m;
	bool own;
	if (!carried(r, rec, &m, &own)) {
		r->st.skipped++;
		return 0;
	}
	struct buf *b = &r->b;
	size_t start = b->len;
	char id[UUID_STR_LEN + 1];
	char name[IOC_VALUE_MAX + 64];
	int nl = snprintf(name, sizeof(name), "%s%s%s:%s", own ? profile_names[r->o->profile] : "",
			  own ? ":" : "", ioc_type_name(rec->type), rec->value);
	rule_id(name, nl > 0 && (size_t)nl < sizeof(name) ? (size_t)nl : 0, id);
	doc_start(r);
	if (title_write(r, m->title, rec, id) != 0) {
		b->len = start, b->data[start] = '\0';
		r->st.skipped++;
		return 0;
	}
	buf_printf(b, "id: %s\n", id);
	bool gone = expired(r, rec);
	buf_printf(b, "status: %s\n", gone ? "deprecated" : "experimental");

	struct buf *d = &r->d;
	buf_reset(d);
	buf_printf(d, "Detects %s ", m->what);
	if (rec->type == IOC_URL)
		buf_printf(d, "%s (host, then path and query; the port and the fragment are not matched)", rec->value);
	else
		buf_puts(d, rec->value);
	buf_printf(d, ", an indicator of compromise %s by cairn.", gone ? (rec->revoked ? "revoked" : "expired") : "listed");
	struct names feeds, inds;
	description_common(r, rec, &feeds, &inds);
	if (tlp_rank(rec->tlp) > 0)
		buf_printf(d, " TLP: %s.", tlp_levels[tlp_rank(rec->tlp)][0]);
	if (rec->type == IOC_MITRE && attack_technique(rec->value, strlen(rec->value)) == 0)
		buf_printf(d, " %s is not an active technique of ATT&CK Enterprise %s, so it is not tagged.",
			   rec->value, attack_version);
	buf_puts(b, "description: ");
	sigma_yaml_text(b, d->data, d->len);
	buf_putc(b, '\n');
	buf_reset(&r->refs);
	buf_reset(d);
	buf_printf(d, "%s/api/v1/iocs/%s", r->o->base_url, rec->id);
	ref_add(r, d->data, d->len);
	if (rec->reference_url)
		ref_add(r, rec->reference_url, strlen(rec->reference_url));
	json_each(rec->sources, "reference_url", ref_add, r);
	buf_puts(b, "author: 'cairn'\n");
	date_write(b, "date", rec->first_seen);
	modified_write(b, rec->first_seen, rec->modified, rec->updated_at > rec->created_at);

	struct tags t;
	memset(&t, 0, sizeof(t));
	if (m->technique)
		tags_technique(&t, m->technique, strlen(m->technique));
	if (rec->type == IOC_MITRE)
		tags_technique(&t, rec->value, strlen(rec->value));
	json_each(rec->techniques, NULL, technique_add, &t);
	if (rec->type == IOC_CVE) {
		snprintf(t.cve, sizeof(t.cve), "%s", rec->value + 4);	/* "CVE-" dropped */
		for (char *c = t.cve; *c; c++)
			*c = *c >= 'A' && *c <= 'Z' ? (char)(*c + 32) : *c;
	}
	int tlp = tlp_rank(rec->tlp);
	t.tlp = tlp == 0 || r->o->tlp_tags ? tlp_levels[tlp][1] : NULL;
	tags_write(b, &t);
	logsource_write(b, m);
	buf_puts(b, "detection:\n    selection:\n");
	selection_items(b, m, rec, "        ", "        ");
	buf_puts(b, "    condition: selection\nfalsepositives:\n    - ");
	sigma_yaml_text(b, m->fp, strlen(m->fp));
	buf_printf(b, "\nlevel: %s\n", level_of(m, rec->type, rec->score));
	r->docs++;
	r->st.rules++;
	r->st.records++;
	if (b->len >= FLUSH_AT)
		flush(r);
	return r->failed ? ERR_IO : 0;
}

/* ---- walking the selection ---- */

struct walker {
	ioc_cb cb;
	void *ctx;
	int64_t n, last_rid, lo_rid;
	bool ended;
};

static int walk_one(void *ctx, const struct ioc_record *rec)
{
	struct walker *w = ctx;
	if (w->lo_rid && rec->rid < w->lo_rid) {
		w->ended = true;
		return WALK_STOP;
	}
	w->last_rid = rec->rid;
	w->n++;
	return w->cb(w->ctx, rec);
}

/* Calls cb for each record f selects (f->limit of them at most, 0 = all), newest first, a page
 * at a time; records older than lo_rid (when not 0) end the walk. */
static int walk(struct store *s, const struct ioc_filter *f, int64_t lo_rid, ioc_cb cb, void *ctx,
		struct err *e)
{
	struct walker w = { .cb = cb, .ctx = ctx, .lo_rid = lo_rid };
	int64_t want = f->limit > 0 ? f->limit : INT64_MAX;
	struct ioc_filter page = *f;
	while (w.n < want) {
		int64_t before = w.n;
		page.limit = want - before < PAGE ? want - before : PAGE;
		int rc = store_ioc_list(s, &page, walk_one, &w, e);
		if (rc == WALK_STOP && w.ended)
			return 0;
		if (rc)
			return rc;
		if (w.n - before < page.limit)
			break;
		page.before_rid = w.last_rid;
		page.offset = 0;
	}
	return 0;
}

/* ---- one rule per type (group=type) ---- */

struct group {
	int64_t n, ranges;	/* values; those with a /prefix */
	int64_t first_seen, modified;
	bool changed;
	int level, tlp;		/* lowest level, most restrictive TLP */
	struct tags t;
	struct names feeds, industries;
};

struct grouping {
	struct run *r;
	struct group g[IOC_TYPE_COUNT];
	int64_t hi_rid, lo_rid;
	/* pass 2 */
	enum ioc_type type;
	int part;		/* 0 addresses, 1 ranges (network types) */
	int64_t written;
};

static int group_scan(void *ctx, const struct ioc_record *rec)
{
	struct grouping *gr = ctx;
	struct run *r = gr->r;
	const struct map *m;
	bool own;
	if (gr->hi_rid == 0)
		gr->hi_rid = rec->rid;
	gr->lo_rid = rec->rid;
	if (!carried(r, rec, &m, &own)) {
		r->st.skipped++;
		return 0;
	}
	struct group *g = &gr->g[rec->type];
	int level = level_rank(level_of(m, rec->type, rec->score));
	if (g->n == 0 || level < g->level)
		g->level = level;
	if (g->n == 0 || rec->first_seen < g->first_seen)
		g->first_seen = rec->first_seen;
	if (rec->modified > g->modified)
		g->modified = rec->modified;
	g->changed = g->changed || rec->updated_at > rec->created_at;
	if (tlp_rank(rec->tlp) > g->tlp)
		g->tlp = tlp_rank(rec->tlp);
	g->n++;
	if (m->cidr_field && strchr(rec->value, '/'))
		g->ranges++;
	if (rec->type == IOC_MITRE)
		tags_technique(&g->t, rec->value, strlen(rec->value));
	json_each(rec->techniques, NULL, technique_add, &g->t);
	names_add(&g->feeds, rec->feed, rec->feed ? strlen(rec->feed) : 0);
	json_each(rec->sources, "feed_name", names_add, &g->feeds);
	json_each(rec->industries, NULL, names_add, &g->industries);
	r->st.records++;
	return 0;
}

static int group_value(void *ctx, const struct ioc_record *rec)
{
	struct grouping *gr = ctx;
	struct run *r = gr->r;
	const struct map *m;
	bool own;
	if (rec->rid > gr->hi_rid || !carried(r, rec, &m, &own))
		return 0;
	struct buf *b = &r->b;
	if (rec->type == IOC_URL) {
		selection_items(b, m, rec, "          ", "        - ");
	} else {
		bool range = m->cidr_field && strchr(rec->value, '/');
		if (range != (gr->part == 1))
			return 0;
		buf_puts(b, "            - ");
		detection_value(b, m, rec->value);
		buf_putc(b, '\n');
	}
	gr->written++;
	/* Flushed only once the rule has a value, so that a rule left empty (its records gone
	 * since the first pass) can be taken back whole. */
	if (b->len >= FLUSH_AT)
		flush(r);
	return r->failed ? ERR_IO : 0;
}

static const char *const level_names[4] = { "informational", "low", "medium", "high" };

static int group_rule(struct store *s, struct grouping *gr, enum ioc_type t, struct err *e)
{
	struct run *r = gr->r;
	struct group *g = &gr->g[t];
	bool own;
	const struct map *m = map_of(r->o->profile, t, &own);
	struct buf *b = &r->b;
	flush(r);	/* so that the rule can be taken back if it ends up empty */
	if (r->failed)
		return ERR_IO;
	char id[UUID_STR_LEN + 1];
	struct buf *d = &r->d;
	buf_reset(d);
	buf_printf(d, "group:%s:", own ? profile_names[r->o->profile] : "");
	selection_query(d, r->f, t);
	rule_id(d->data, d->len, id);

	doc_start(r);
	buf_puts(b, "title: ");
	if (sigma_yaml_string(b, m->group_title, strlen(m->group_title)) != 0)
		return ERR_INTERNAL;
	buf_printf(b, "\nid: %s\nstatus: experimental\n", id);
	buf_reset(d);
	buf_printf(d, "Detects %s: %lld indicator%s of compromise listed by cairn", m->group_what, (long long)g->n,
		   g->n == 1 ? "" : "s");
	if (g->ranges)
		buf_printf(d, " (%lld of them address ranges)", (long long)g->ranges);
	buf_printf(d, ". Level: the lowest of the listed indicators (%s).", level_names[g->level]);
	names_write(d, "Feeds", &g->feeds);
	names_write(d, "Industries", &g->industries);
	if (g->tlp)
		buf_printf(d, " TLP: %s (the most restrictive of the listed indicators).", tlp_levels[g->tlp][0]);
	buf_puts(b, "description: ");
	sigma_yaml_text(b, d->data, d->len);
	buf_putc(b, '\n');
	buf_reset(&r->refs);
	buf_reset(d);
	buf_printf(d, "%s/api/v1/iocs?", r->o->base_url);
	selection_query(d, r->f, t);
	ref_add(r, d->data, d->len);
	buf_puts(b, "author: 'cairn'\n");
	date_write(b, "date", g->first_seen);
	modified_write(b, g->first_seen, g->modified, g->changed || g->n > 1);
	if (m->technique)
		tags_technique(&g->t, m->technique, strlen(m->technique));
	g->t.tlp = g->tlp == 0 || r->o->tlp_tags ? tlp_levels[g->tlp][1] : NULL;
	tags_write(b, &g->t);
	logsource_write(b, m);
	buf_puts(b, "detection:\n");

	struct ioc_filter f = *r->f;
	f.types = 1u << t;
	f.before_rid = gr->hi_rid + 1;
	f.offset = 0;
	f.limit = 0;
	gr->type = t;
	gr->written = 0;
	int rc = 0;
	if (t == IOC_URL) {
		buf_puts(b, "    selection:\n");
		rc = walk(s, &f, gr->lo_rid, group_value, gr, e);
		buf_puts(b, "    condition: selection\n");
	} else {
		bool both = g->ranges && g->ranges < g->n;
		for (int part = 0; rc == 0 && part < 2; part++) {
			bool has = part == 0 ? g->ranges < g->n : g->ranges > 0;
			if (!has)
				continue;
			int64_t before = gr->written;
			size_t mark = b->len;	/* nothing is flushed until this part has a value */
			if (both)
				buf_printf(b, "    selection_%s:\n", part ? "range" : "address");
			else
				buf_puts(b, "    selection:\n");
			buf_printf(b, "        %s:\n", part ? m->cidr_field : m->field);
			gr->part = part;
			rc = walk(s, &f, gr->lo_rid, group_value, gr, e);
			if (rc == 0 && gr->written == before)
				b->len = mark, b->data[mark] = '\0';
		}
		buf_printf(b, "    condition: %s\n", both ? "1 of selection_*" : "selection");
	}
	if (rc)
		return rc;
	if (gr->written == 0) {
		buf_reset(b);	/* its records are gone since the first pass; nothing was flushed */
		return 0;
	}
	buf_puts(b, "falsepositives:\n    - ");
	sigma_yaml_text(b, m->fp, strlen(m->fp));
	buf_printf(b, "\nlevel: %s\n", level_names[g->level]);
	r->docs++;
	r->st.rules++;
	return r->failed ? ERR_IO : 0;
}

static int export_grouped(struct store *s, struct run *r, struct err *e)
{
	struct grouping *gr = xcalloc(1, sizeof(*gr));
	gr->r = r;
	int rc = walk(s, r->f, 0, group_scan, gr, e);
	for (int t = 1; rc == 0 && t < IOC_TYPE_COUNT; t++)
		if (gr->g[t].n > 0)
			rc = group_rule(s, gr, (enum ioc_type)t, e);
	free(gr);
	return rc;
}

/* ---- the export ---- */

int export_sigma(struct store *s, const struct ioc_filter *f, const struct sigma_export_opts *o,
		 const struct export_sink *sink, struct sigma_export_stats *st, struct err *e)
{
	struct run r = { .o = o, .f = f, .sink = sink };
	buf_init(&r.b);
	buf_init(&r.d);
	buf_init(&r.refs);
	int rc = o->group_by_type ? export_grouped(s, &r, e) : walk(s, f, 0, rule_one, &r, e);
	if (rc == 0)
		flush(&r);
	if (r.failed && (rc == 0 || rc == ERR_IO))
		rc = err_set(e, ERR_IO, "the output could not be written");
	*st = r.st;
	buf_cleanup(&r.b);
	buf_cleanup(&r.d);
	buf_cleanup(&r.refs);
	return rc;
}
