#include "stix/ioc_stix.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ioc/score.h"
#include "json/jw.h"
#include "stix/attack.h"

const char *ioc_stix_type(enum ioc_type t, const char *value)
{
	if (t == IOC_CVE)
		return "vulnerability";
	if (t == IOC_MITRE)
		return value[1] == 'A' ? "x-mitre-tactic" : "attack-pattern";
	return "indicator";
}

void ioc_stix_id(const struct ioc_record *r, char *out, size_t cap)
{
	snprintf(out, cap, "%s--%s", ioc_stix_type(r->type, r->value), r->id);
}

/* STIX patterning string literals escape ' and \ with a backslash. */
static void pattern_literal(struct buf *b, const char *v)
{
	buf_putc(b, '\'');
	for (const char *p = v; *p; p++) {
		if (*p == '\'' || *p == '\\')
			buf_putc(b, '\\');
		buf_putc(b, *p);
	}
	buf_putc(b, '\'');
}

void ioc_stix_pattern(struct buf *b, enum ioc_type t, const char *value)
{
	const char *path;
	switch (t) {
	case IOC_IPV4: path = "ipv4-addr:value"; break;
	case IOC_IPV6: path = "ipv6-addr:value"; break;
	case IOC_DOMAIN: path = "domain-name:value"; break;
	case IOC_URL: path = "url:value"; break;
	case IOC_EMAIL: path = "email-addr:value"; break;
	case IOC_MD5: path = "file:hashes.MD5"; break;
	case IOC_SHA1: path = "file:hashes.'SHA-1'"; break;
	case IOC_SHA256: path = "file:hashes.'SHA-256'"; break;
	case IOC_SHA512: path = "file:hashes.'SHA-512'"; break;
	default: return;
	}
	buf_putc(b, '[');
	buf_puts(b, path);
	buf_puts(b, " = ");
	pattern_literal(b, value);
	buf_putc(b, ']');
}

const char *ioc_stix_tlp_marking(const char *tlp)
{
	/* The OASIS TLP 2.0 marking definitions (STIX 2.1 "TLP 2.0" extension). */
	if (tlp == NULL)
		return NULL;
	if (!strcmp(tlp, "clear"))
		return "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";
	if (!strcmp(tlp, "green"))
		return "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
	if (!strcmp(tlp, "amber"))
		return "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
	if (!strcmp(tlp, "amber+strict"))
		return "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003";
	if (!strcmp(tlp, "red"))
		return "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";
	return NULL;
}

static const char *type_title(enum ioc_type t)
{
	switch (t) {
	case IOC_IPV4: return "Malicious IPv4 Address";
	case IOC_IPV6: return "Malicious IPv6 Address";
	case IOC_DOMAIN: return "Malicious Domain";
	case IOC_URL: return "Malicious URL";
	case IOC_EMAIL: return "Malicious Email Address";
	case IOC_MD5: return "Malicious File (MD5)";
	case IOC_SHA1: return "Malicious File (SHA-1)";
	case IOC_SHA256: return "Malicious File (SHA-256)";
	case IOC_SHA512: return "Malicious File (SHA-512)";
	default: return "Indicator";
	}
}

static int json_array_nonempty(const char *s)
{
	return s && s[0] == '[' && s[1] != ']';
}

/* The ATT&CK ids of the record's techniques list (JSON text of strings), each a reference. */
static void technique_refs(struct jw *w, const char *list)
{
	const char *p = list;
	while (p && (p = strchr(p, '"')) != NULL) {
		const char *end = strchr(p + 1, '"');
		if (end == NULL)
			break;
		size_t n = (size_t)(end - p - 1);
		if (n >= 5 && n <= 12 && p[1] == 'T') {	/* ids only: T1234, T1234.001, TA0001 */
			jw_obj(w);
			jw_kstr(w, "source_name", "mitre-attack");
			jw_key(w, "external_id");
			jw_strn(w, p + 1, n);
			jw_end(w);
		}
		p = end + 1;
	}
}

/* The tactics (bits of attack_tactics) of the ATT&CK ids in a JSON list of strings. */
static unsigned tactics_of_list(const char *list)
{
	unsigned bits = 0;
	const char *p = list;
	while (p && (p = strchr(p, '"')) != NULL) {
		const char *end = strchr(p + 1, '"');
		if (end == NULL)
			break;
		size_t n = (size_t)(end - p - 1);
		int t;
		if (n >= 2 && p[1] == 'T' && p[2] == 'A' && (t = attack_tactic(p + 1, n)) >= 0)
			bits |= 1u << t;
		else if (n >= 5)
			bits |= attack_technique(p + 1, n);
		p = end + 1;
	}
	return bits;
}

/* kill_chain_phases: the ATT&CK tactics the object's techniques serve, in matrix order. */
static void kill_chain_phases(struct jw *w, unsigned bits)
{
	if (bits == 0)
		return;
	jw_key(w, "kill_chain_phases");
	jw_arr(w);
	for (int i = 0; i < ATTACK_TACTIC_COUNT; i++) {
		if (!(bits & (1u << i)))
			continue;
		jw_obj(w);
		jw_kstr(w, "kill_chain_name", "mitre-attack");
		jw_kstr(w, "phase_name", attack_tactics[i].shortname);
		jw_end(w);
	}
	jw_end(w);
}

static bool has_techniques(const char *list)
{
	return list && strchr(list, '"') != NULL;
}

static void external_refs(struct jw *w, const struct ioc_record *r)
{
	bool any = r->type == IOC_CVE || r->type == IOC_MITRE || (r->feed && *r->feed) ||
		   (r->type != IOC_MITRE && has_techniques(r->techniques));
	if (!any)
		return;
	jw_key(w, "external_references");
	jw_arr(w);
	if (r->type == IOC_CVE) {
		jw_obj(w);
		jw_kstr(w, "source_name", "cve");
		jw_kstr(w, "external_id", r->value);
		jw_end(w);
	} else if (r->type == IOC_MITRE) {
		char url[96];
		if (r->value[1] == 'A') {
			snprintf(url, sizeof(url), "https://attack.mitre.org/tactics/%s/", r->value);
		} else {
			char base[8] = { 0 };
			memcpy(base, r->value, 5);
			if (r->value[5] == '.')
				snprintf(url, sizeof(url), "https://attack.mitre.org/techniques/%s/%s/", base,
					 r->value + 6);
			else
				snprintf(url, sizeof(url), "https://attack.mitre.org/techniques/%s/", base);
		}
		jw_obj(w);
		jw_kstr(w, "source_name", "mitre-attack");
		jw_kstr(w, "external_id", r->value);
		jw_kstr(w, "url", url);
		jw_end(w);
	}
	if (r->type != IOC_MITRE)
		technique_refs(w, r->techniques);
	if (r->feed && *r->feed) {
		jw_obj(w);
		jw_kstr(w, "source_name", r->feed);
		/* STIX wants more than a name: the report's URL, or what the name is. */
		if (r->reference_url && *r->reference_url)
			jw_kstr(w, "url", r->reference_url);
		else
			jw_kstr(w, "description", "the feed that reported this to cairn");
		jw_end(w);
	}
	jw_end(w);
}

void ioc_stix_object(struct buf *b, const struct ioc_record *r, int64_t modified)
{
	struct jw w;
	char id[80];
	const char *stype = ioc_stix_type(r->type, r->value);
	ioc_stix_id(r, id, sizeof(id));
	jw_init(&w, b);
	jw_obj(&w);
	jw_kstr(&w, "type", stype);
	jw_kstr(&w, "spec_version", "2.1");
	jw_kstr(&w, "id", id);
	jw_kstr(&w, "created_by_ref", CAIRN_IDENTITY_ID);
	jw_ktime(&w, "created", r->created_at);
	jw_ktime(&w, "modified", modified);
	if (!strcmp(stype, "indicator")) {
		char name[IOC_VALUE_MAX + 64];
		snprintf(name, sizeof(name), "%s - %s", type_title(r->type), r->value);
		jw_kstr(&w, "name", name);
	} else {
		jw_kstr(&w, "name", r->value);
	}
	if (r->context && *r->context)
		jw_kstr(&w, "description", r->context);
	if (!strcmp(stype, "indicator")) {
		jw_key(&w, "indicator_types");
		jw_arr(&w);
		jw_str(&w, "malicious-activity");
		jw_end(&w);
		struct buf pat = BUF_INIT;
		ioc_stix_pattern(&pat, r->type, r->value);
		jw_key(&w, "pattern");
		jw_strn(&w, pat.data, pat.len);
		buf_cleanup(&pat);
		jw_kstr(&w, "pattern_type", "stix");
		jw_kstr(&w, "pattern_version", "2.1");
		jw_ktime(&w, "valid_from", r->first_seen);
		if (r->valid_until > 0) {
			/* STIX requires valid_until after valid_from. */
			int64_t vu = r->valid_until > r->first_seen ? r->valid_until : r->first_seen + 1000;
			jw_ktime(&w, "valid_until", vu);
		}
	}
	/* The score at this version's time (docs/scoring.md): the bytes of a version do not
	 * change as the record's score decays. */
	jw_kint(&w, "confidence", ioc_score_at(r, modified));
	if (json_array_nonempty(r->tags)) {
		jw_key(&w, "labels");
		jw_raw(&w, r->tags, strlen(r->tags));
	}
	if (r->revoked)
		jw_kbool(&w, "revoked", true);
	if (!strcmp(stype, "indicator"))
		kill_chain_phases(&w, tactics_of_list(r->techniques));
	else if (!strcmp(stype, "attack-pattern"))
		kill_chain_phases(&w, attack_technique(r->value, strlen(r->value)));
	external_refs(&w, r);
	const char *mark = ioc_stix_tlp_marking(r->tlp);
	if (mark) {
		jw_key(&w, "object_marking_refs");
		jw_arr(&w);
		jw_str(&w, mark);
		jw_end(&w);
	}
	jw_end(&w);
}
