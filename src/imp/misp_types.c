/* MISP attribute types and tags → cairn indicator types (misp.h; the table is docs/misp.md's). */
#include "imp/misp.h"

#include <string.h>

enum part { P_NONE, P_WHOLE, P_LEFT, P_RIGHT };

struct type_rule {
	const char *misp;
	enum part first, second;	/* which part of the value each record takes */
	enum ioc_type t1, t2;		/* IOC_NONE with P_* set: any IP address */
	bool ids;			/* MISP's default to_ids for the type */
};

/*
 * Every MISP type cairn keeps something of. Any other type (text, filename, regkey, port,
 * AS, mutex, x509-fingerprint-*, ja3, imphash, ssdeep, sha224, link, …) holds no value of
 * a cairn indicator type and is skipped. Certificate fingerprints are not file hashes, so
 * x509-fingerprint-sha1 is not read as sha1.
 */
static const struct type_rule rules[] = {
	{ "ip-dst", P_WHOLE, P_NONE, IOC_NONE, IOC_NONE, true },
	{ "ip-src", P_WHOLE, P_NONE, IOC_NONE, IOC_NONE, true },
	{ "ip-dst|port", P_LEFT, P_NONE, IOC_NONE, IOC_NONE, true },
	{ "ip-src|port", P_LEFT, P_NONE, IOC_NONE, IOC_NONE, true },
	{ "domain", P_WHOLE, P_NONE, IOC_DOMAIN, IOC_NONE, true },
	{ "hostname", P_WHOLE, P_NONE, IOC_DOMAIN, IOC_NONE, true },
	{ "onion-address", P_WHOLE, P_NONE, IOC_DOMAIN, IOC_NONE, true },
	{ "hostname|port", P_LEFT, P_NONE, IOC_DOMAIN, IOC_NONE, true },
	{ "domain|ip", P_LEFT, P_RIGHT, IOC_DOMAIN, IOC_NONE, true },
	{ "url", P_WHOLE, P_NONE, IOC_URL, IOC_NONE, true },
	{ "md5", P_WHOLE, P_NONE, IOC_MD5, IOC_NONE, true },
	{ "sha1", P_WHOLE, P_NONE, IOC_SHA1, IOC_NONE, true },
	{ "sha256", P_WHOLE, P_NONE, IOC_SHA256, IOC_NONE, true },
	{ "sha512", P_WHOLE, P_NONE, IOC_SHA512, IOC_NONE, true },
	{ "filename|md5", P_RIGHT, P_NONE, IOC_MD5, IOC_NONE, true },
	{ "filename|sha1", P_RIGHT, P_NONE, IOC_SHA1, IOC_NONE, true },
	{ "filename|sha256", P_RIGHT, P_NONE, IOC_SHA256, IOC_NONE, true },
	{ "filename|sha512", P_RIGHT, P_NONE, IOC_SHA512, IOC_NONE, true },
	{ "malware-sample", P_RIGHT, P_NONE, IOC_MD5, IOC_NONE, true },	/* "file name|md5" */
	{ "email", P_WHOLE, P_NONE, IOC_EMAIL, IOC_NONE, true },
	{ "email-src", P_WHOLE, P_NONE, IOC_EMAIL, IOC_NONE, true },
	{ "email-dst", P_WHOLE, P_NONE, IOC_EMAIL, IOC_NONE, true },
	{ "email-reply-to", P_WHOLE, P_NONE, IOC_EMAIL, IOC_NONE, true },
	{ "vulnerability", P_WHOLE, P_NONE, IOC_CVE, IOC_NONE, false },
};

static void take_part(enum part which, enum ioc_type t, const char *v, size_t len, size_t bar,
		      struct misp_part *out)
{
	out->type = t;
	out->any_ip = t == IOC_NONE;
	if (which == P_WHOLE) {
		out->p = v;
		out->len = len;
	} else if (which == P_LEFT) {
		out->p = v;
		out->len = bar;
	} else {
		out->p = v + bar + 1;
		out->len = len - bar - 1;
	}
}

int misp_attribute_parts(const char *type, const char *v, size_t len, struct misp_part out[2],
			 bool *to_ids_meaningful, struct err *e)
{
	const struct type_rule *r = NULL;
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (!strcmp(type, rules[i].misp)) {
			r = &rules[i];
			break;
		}
	*to_ids_meaningful = r ? r->ids : false;
	if (r == NULL)
		return 0;
	size_t bar = len;
	if (r->first != P_WHOLE) {
		for (size_t i = len; i > 0; i--)
			if (v[i - 1] == '|') {
				bar = i - 1;
				break;
			}
		if (bar == len)
			return err_set(e, ERR_INVALID, "a %s value must have the form %s", type,
				       !strcmp(type, "malware-sample") ? "filename|md5" : type);
	}
	take_part(r->first, r->t1, v, len, bar, &out[0]);
	if (r->second == P_NONE)
		return 1;
	take_part(r->second, r->t2, v, len, bar, &out[1]);
	return 2;
}

/* The ATT&CK id at the end of a galaxy value: "Name - T1234", or the value itself. */
static bool value_id(const char *v, size_t n, char id[16], bool *named)
{
	size_t start = 0;
	*named = false;
	for (size_t i = n; i >= 3; i--)
		if (v[i - 3] == ' ' && v[i - 2] == '-' && v[i - 1] == ' ') {
			start = i;
			*named = i > 3;
			break;
		}
	size_t idlen = n - start;
	if (idlen < 5 || idlen > 12)
		return false;
	char out[IOC_VALUE_MAX + 1];
	size_t olen;
	enum ioc_type t;
	if (ioc_canon(v + start, idlen, IOC_MITRE, 0, &t, out, sizeof(out), &olen, NULL) != 0 || olen > 15)
		return false;
	memcpy(id, out, olen + 1);
	return true;
}

bool misp_tag_attack_id(const char *tag, size_t len, char id[16], bool *named)
{
	static const char galaxy[] = "misp-galaxy:mitre-", tactic[] = "mitre-attack:tactic=";
	size_t i;
	*named = false;
	if (len > sizeof(galaxy) - 1 && !memcmp(tag, galaxy, sizeof(galaxy) - 1)) {
		const char *eq = memchr(tag, '=', len);
		if (eq == NULL)
			return false;
		i = (size_t)(eq - tag) + 1;
	} else if (len > sizeof(tactic) - 1 && !memcmp(tag, tactic, sizeof(tactic) - 1)) {
		i = sizeof(tactic) - 1;
	} else {
		return false;
	}
	if (len - i < 2 || tag[i] != '"' || tag[len - 1] != '"')
		return false;
	return value_id(tag + i + 1, len - i - 2, id, named);
}
