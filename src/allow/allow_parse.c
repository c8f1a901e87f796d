/*
 * Reading allow-lists: MISP warning lists (JSON, as published at
 * github.com/MISP/misp-warninglists) and the user's plain lists (one entry a line), and
 * turning each entry into the kind of matcher it needs (allow.h).
 *
 * Entries of a MISP list follow its "type": string (exact values), substring, hostname
 * (a domain and its subdomains), cidr, regex. Two readings apply to every type, because
 * the published lists rely on them: an entry that is an IP address or range is a range
 * (public-dns lists are "string" or "cidr" alike), and an entry written ".example.com" or
 * "*.example.com" is a domain with its subdomains (the google list is "string" and writes
 * its domains so). "matching_attributes" name MISP attribute types; they become the
 * indicator types the list applies to (none given: every type).
 */
#include "allow/allow_int.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum hint { H_LINES, H_STRING, H_SUBSTR, H_HOSTNAME, H_CIDR, H_REGEX };

static void skip(struct allow_list_info *info, size_t line, const char *why, const char *p, size_t n)
{
	if (info == NULL)
		return;
	info->skipped++;
	if (info->nskips >= ALLOW_SKIPS_KEPT)
		return;
	struct allow_skip *k = &info->skips[info->nskips++];
	k->line = line;
	char shown[48];
	size_t m = n < 40 ? n : 40, j = 0;
	for (size_t i = 0; i < m; i++)	/* only printable text reaches a terminal */
		shown[j++] = (unsigned char)p[i] < 0x20 || (unsigned char)p[i] == 0x7f ? '?' : p[i];
	shown[j] = '\0';
	snprintf(k->reason, sizeof(k->reason), "'%s%s': %s", shown, n > m ? "…" : "", why);
}

static bool is_label_text(const char *p, size_t n)
{
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)p[i]) || p[i] == '-' || p[i] == '_' || p[i] == '.'))
			return false;
	return p[0] != '.' && p[n - 1] != '.' && !memmem(p, n, "..", 2);
}

/* Lower-case ASCII labels: already in the form the trie keeps (the common case, read
 * without the canonicaliser, which is most of a million-entry list's load time). */
static bool plain_labels(const char *p, size_t n)
{
	if (!is_label_text(p, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if (isupper((unsigned char)p[i]))
			return false;
	return true;
}

/* A domain entry: canonical (lower case, A-labels) when it is a domain cairn would store,
 * else its lower-case text when it is made of labels (a single label such as a TLD). */
static int domain_entry(struct allow_set *s, uint32_t list, const char *p, size_t n, struct err *e)
{
	char canon[IOC_VALUE_MAX + 1];
	size_t cn;
	enum ioc_type t;
	while (n && p[n - 1] == '.')
		n--;
	if (plain_labels(p, n))
		return allow_add_kind(s, list, ALLOW_DOMAIN, p, n, false, e);
	if (ioc_canon(p, n, IOC_DOMAIN, 0, &t, canon, sizeof(canon), &cn, NULL) == 0)
		return allow_add_kind(s, list, ALLOW_DOMAIN, canon, cn, false, e);
	if (!is_label_text(p, n))
		return err_set(e, ERR_INVALID, "not a domain name");
	char low[ALLOW_ENTRY_MAX];
	if (n > sizeof(low))
		return err_set(e, ERR_TOO_LARGE, "too long");
	for (size_t i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)p[i]);
	return allow_add_kind(s, list, ALLOW_DOMAIN, low, n, false, e);
}

static bool is_ip(const char *p, size_t n)
{
	int fam;
	uint64_t hi, lo;
	unsigned plen;
	return allow_parse_ip(p, n, &fam, &hi, &lo, &plen) == 0;
}

static int regex_entry(struct allow_set *s, uint32_t list, const char *p, size_t n, struct err *e)
{
	char re[ALLOW_REGEX_LEN + 1];
	bool icase = false;
	if (n > ALLOW_REGEX_LEN)
		return err_set(e, ERR_TOO_LARGE, "regular expression longer than %d bytes", ALLOW_REGEX_LEN);
	int rc = allow_regex_translate(p, n, re, sizeof(re), &icase, e);
	if (rc)
		return rc;
	return allow_add_kind(s, list, ALLOW_REGEX, re, strlen(re), icase, e);
}

/* One entry (trimmed), read as list type h says. */
static int entry(struct allow_set *s, uint32_t list, enum hint h, const char *p, size_t n,
		 struct allow_list_info *info, struct err *e)
{
	enum allow_kind before = 0;
	int64_t count = s->entries;
	int rc;
	if (h == H_LINES) {
		if (n > 3 && !strncmp(p, "re:", 3))
			h = H_REGEX, p += 3, n -= 3;
		else if (n > 4 && !strncmp(p, "sub:", 4))
			h = H_SUBSTR, p += 4, n -= 4;
	}
	switch (h) {
	case H_REGEX:
		rc = regex_entry(s, list, p, n, e);
		before = ALLOW_REGEX;
		break;
	case H_SUBSTR:
		rc = allow_add_kind(s, list, ALLOW_SUBSTR, p, n, false, e);
		before = ALLOW_SUBSTR;
		break;
	case H_CIDR:
		rc = allow_add_kind(s, list, ALLOW_CIDR, p, n, false, e);
		before = ALLOW_CIDR;
		break;
	default: {
		size_t dots = 0;
		if (n > 2 && p[0] == '*' && p[1] == '.')
			dots = 2;
		else if (n > 1 && p[0] == '.')
			dots = 1;
		if (is_ip(p, n)) {
			rc = allow_add_kind(s, list, ALLOW_CIDR, p, n, false, e);
			before = ALLOW_CIDR;
			break;
		}
		if (dots || h == H_HOSTNAME) {
			rc = domain_entry(s, list, p + dots, n - dots, e);
			before = ALLOW_DOMAIN;
			break;
		}
		/* A plain list's line of lower-case labels with a dot and a letter in its last
		 * label is a domain: no need to ask the canonicaliser what it is. */
		if (h == H_LINES && memchr(p, '.', n) && plain_labels(p, n)) {
			const char *last = p + n;
			while (last > p && last[-1] != '.')
				last--;
			bool letter = false;
			for (const char *q = last; q < p + n; q++)
				letter = letter || isalpha((unsigned char)*q);
			if (letter) {
				rc = allow_add_kind(s, list, ALLOW_DOMAIN, p, n, false, e);
				before = ALLOW_DOMAIN;
				break;
			}
		}
		/* A value: its canonical form when it is one cairn knows, else as written. A plain
		 * list's domain stands for its subdomains too; a MISP string list's is exact. */
		char canon[IOC_VALUE_MAX + 1];
		size_t cn;
		enum ioc_type t;
		if (ioc_canon(p, n, IOC_NONE, 0, &t, canon, sizeof(canon), &cn, NULL) == 0) {
			if (h == H_LINES && t == IOC_DOMAIN) {
				rc = allow_add_kind(s, list, ALLOW_DOMAIN, canon, cn, false, e);
				before = ALLOW_DOMAIN;
			} else {
				rc = allow_add_kind(s, list, ALLOW_EXACT, canon, cn, false, e);
				before = ALLOW_EXACT;
			}
		} else {
			rc = allow_add_kind(s, list, ALLOW_EXACT, p, n, false, e);
			before = ALLOW_EXACT;
		}
		break;
	}
	}
	if (rc == 0 && info) {
		info->entries += s->entries - count;
		info->kinds[before]++;
	}
	return rc;
}

/* Trims white space (and a BOM) around p[0..n). */
static void trim(const char **p, size_t *n)
{
	const char *s = *p;
	size_t m = *n;
	if (m >= 3 && (unsigned char)s[0] == 0xef && (unsigned char)s[1] == 0xbb && (unsigned char)s[2] == 0xbf)
		s += 3, m -= 3;
	while (m && isspace((unsigned char)*s))
		s++, m--;
	while (m && isspace((unsigned char)s[m - 1]))
		m--;
	*p = s;
	*n = m;
}

/* Takes one entry; a bad one is skipped and noted, a limit ends the list. */
static int take(struct allow_set *s, uint32_t list, enum hint h, const char *p, size_t n, size_t line,
		struct allow_list_info *info, struct err *e)
{
	struct err ee = { 0 };
	int rc = entry(s, list, h, p, n, info, &ee);
	if (rc == 0)
		return 0;
	if (rc == ERR_TOO_LARGE && (s->entries >= ALLOW_ENTRIES_MAX || s->nregex >= ALLOW_REGEX_MAX ||
				    s->nsubs >= ALLOW_SUBSTR_MAX))
		return err_set(e, ERR_TOO_LARGE, "entry %zu: %s", line, ee.msg);
	skip(info, line, ee.msg, p, n);
	return 0;
}

static int read_lines(struct allow_set *s, uint32_t list, const char *data, size_t len,
		      struct allow_list_info *info, struct err *e)
{
	size_t line = 0;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(data + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - data) : len;
		const char *p = data + i;
		size_t n = end - i;
		line++;
		i = end + 1;
		if (n > ALLOW_LINE_MAX) {
			skip(info, line, "line longer than 4096 bytes", p, 40);
			continue;
		}
		/* A comment: a line starting with '#', or " #…" after the entry. */
		for (size_t k = 0; k < n; k++)
			if (p[k] == '#' && (k == 0 || p[k - 1] == ' ' || p[k - 1] == '\t')) {
				n = k;
				break;
			}
		trim(&p, &n);
		if (n == 0)
			continue;
		if (memchr(p, '\0', n)) {
			skip(info, line, "NUL byte", p, n);
			continue;
		}
		int rc = take(s, list, H_LINES, p, n, line, info, e);
		if (rc)
			return rc;
	}
	return 0;
}

/* MISP attribute types → the indicator types they hold. */
static unsigned misp_types(const char *a)
{
	static const struct {
		const char *name;
		unsigned types;
	} map[] = {
		{ "ip-src", 1u << IOC_IPV4 | 1u << IOC_IPV6 }, { "ip-dst", 1u << IOC_IPV4 | 1u << IOC_IPV6 },
		{ "ip-src|port", 1u << IOC_IPV4 | 1u << IOC_IPV6 }, { "ip-dst|port", 1u << IOC_IPV4 | 1u << IOC_IPV6 },
		{ "ip", 1u << IOC_IPV4 | 1u << IOC_IPV6 },
		{ "domain|ip", 1u << IOC_IPV4 | 1u << IOC_IPV6 | 1u << IOC_DOMAIN },
		{ "domain", 1u << IOC_DOMAIN }, { "hostname", 1u << IOC_DOMAIN }, { "hostname|port", 1u << IOC_DOMAIN },
		{ "url", 1u << IOC_URL }, { "uri", 1u << IOC_URL }, { "link", 1u << IOC_URL },
		{ "md5", 1u << IOC_MD5 }, { "sha1", 1u << IOC_SHA1 }, { "sha256", 1u << IOC_SHA256 },
		{ "sha512", 1u << IOC_SHA512 }, { "filename|md5", 1u << IOC_MD5 }, { "filename|sha1", 1u << IOC_SHA1 },
		{ "filename|sha256", 1u << IOC_SHA256 }, { "filename|sha512", 1u << IOC_SHA512 },
		{ "email", 1u << IOC_EMAIL }, { "email-src", 1u << IOC_EMAIL }, { "email-dst", 1u << IOC_EMAIL },
		{ "target-email", 1u << IOC_EMAIL }, { "whois-registrant-email", 1u << IOC_EMAIL },
		{ "dns-soa-email", 1u << IOC_EMAIL }, { "email-reply-to", 1u << IOC_EMAIL },
		{ "vulnerability", 1u << IOC_CVE },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcasecmp(a, map[i].name))
			return map[i].types;
	return 0;
}

static void copy_str(char *out, size_t cap, json_t *v)
{
	const char *s = json_string_value(v);
	if (s == NULL) {
		out[0] = '\0';
		return;
	}
	size_t n = json_string_length(v), j = 0;
	for (size_t i = 0; i < n && j + 1 < cap; i++)
		out[j++] = (unsigned char)s[i] < 0x20 ? ' ' : s[i];
	out[j] = '\0';
}

static int read_misp(struct allow_set *s, const char *name, int64_t id, const char *data, size_t len,
		     struct allow_list_info *info, struct err *e)
{
	json_error_t je;
	json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL)
		return err_set(e, ERR_INVALID, "not valid JSON (line %d: %s)", je.line, je.text);
	int rc = 0;
	json_t *list = json_object_get(root, "list");
	const char *type = json_string_value(json_object_get(root, "type"));
	if (!json_is_object(root) || !json_is_array(list)) {
		rc = err_set(e, ERR_INVALID, "not a MISP warning list: no \"list\" array");
		goto out;
	}
	enum hint h = H_STRING;
	if (type == NULL || !strcmp(type, "string"))
		h = H_STRING;
	else if (!strcmp(type, "substring"))
		h = H_SUBSTR;
	else if (!strcmp(type, "hostname"))
		h = H_HOSTNAME;
	else if (!strcmp(type, "cidr"))
		h = H_CIDR;
	else if (!strcmp(type, "regex"))
		h = H_REGEX;
	else {
		rc = err_set(e, ERR_INVALID, "MISP warning-list type '%.32s' is not string, substring, hostname,"
			     " cidr or regex", type);
		goto out;
	}
	unsigned types = 0;
	json_t *ma = json_object_get(root, "matching_attributes");
	size_t i;
	json_t *v;
	if (json_is_array(ma) && json_array_size(ma) > 0) {
		json_array_foreach(ma, i, v)
			if (json_is_string(v))
				types |= misp_types(json_string_value(v));
	} else {
		types = ALLOW_ALL_TYPES;	/* "If matching_attributes are not set, … any type" */
	}
	if (info) {
		snprintf(info->format, sizeof(info->format), "misp");
		snprintf(info->type, sizeof(info->type), "%s", type ? type : "string");
		copy_str(info->name, sizeof(info->name), json_object_get(root, "name"));
		copy_str(info->description, sizeof(info->description), json_object_get(root, "description"));
		info->version = json_integer_value(json_object_get(root, "version"));
		info->types = types;
	}
	uint32_t li;
	rc = allow_list_index(s, name, id, types, &li, e);
	if (rc)
		goto out;
	json_array_foreach(list, i, v) {
		if (!json_is_string(v)) {
			skip(info, i + 1, "not a string", "?", 1);
			continue;
		}
		const char *p = json_string_value(v);
		size_t n = json_string_length(v);
		trim(&p, &n);
		if (n == 0) {
			skip(info, i + 1, "empty", "", 0);
			continue;
		}
		if (memchr(p, '\0', n)) {
			skip(info, i + 1, "NUL byte", p, n);
			continue;
		}
		rc = take(s, li, h, p, n, i + 1, info, e);
		if (rc)
			break;
	}
out:
	json_decref(root);
	return rc;
}

int allow_set_add_list(struct allow_set *s, const char *name, int64_t id, const char *data, size_t len,
		       struct allow_list_info *info, struct err *e)
{
	if (info)
		memset(info, 0, sizeof(*info));
	if (len > ALLOW_FILE_MAX)
		return err_set(e, ERR_TOO_LARGE, "allow-list larger than %u MiB", ALLOW_FILE_MAX >> 20);
	size_t i = 0;
	if (len >= 3 && (unsigned char)data[0] == 0xef && (unsigned char)data[1] == 0xbb &&
	    (unsigned char)data[2] == 0xbf)
		i = 3;
	while (i < len && isspace((unsigned char)data[i]))
		i++;
	if (i < len && data[i] == '{')
		return read_misp(s, name, id, data, len, info, e);
	if (info) {
		snprintf(info->format, sizeof(info->format), "lines");
		snprintf(info->type, sizeof(info->type), "mixed");
		info->types = ALLOW_ALL_TYPES;
	}
	uint32_t li;
	int rc = allow_list_index(s, name, id, ALLOW_ALL_TYPES, &li, e);
	return rc ? rc : read_lines(s, li, data, len, info, e);
}

int allow_set_add_entry(struct allow_set *s, const char *name, int64_t id, unsigned types, enum allow_kind k,
			const char *p, size_t n, struct err *e)
{
	uint32_t li;
	int rc = allow_list_index(s, name, id, types ? types : ALLOW_ALL_TYPES, &li, e);
	if (rc)
		return rc;
	static const enum hint hints[] = { [ALLOW_EXACT] = H_STRING, [ALLOW_CIDR] = H_CIDR,
					   [ALLOW_DOMAIN] = H_HOSTNAME, [ALLOW_SUBSTR] = H_SUBSTR,
					   [ALLOW_REGEX] = H_REGEX };
	if (k == ALLOW_EXACT)
		return allow_add_kind(s, li, ALLOW_EXACT, p, n, false, e);
	return entry(s, li, hints[k], p, n, NULL, e);
}

/* ---- the built-in list ---- */

static const struct allow_builtin_entry builtin[] = {
	{ "0.0.0.0/8", "\"this network\"; 0.0.0.0 is the unspecified address (RFC 1122, RFC 6890)" },
	{ "10.0.0.0/8", "private network (RFC 1918)" },
	{ "100.64.0.0/10", "shared address space of carrier-grade NAT (RFC 6598)" },
	{ "127.0.0.0/8", "loopback (RFC 1122)" },
	{ "169.254.0.0/16", "link-local (RFC 3927)" },
	{ "172.16.0.0/12", "private network (RFC 1918)" },
	{ "192.0.0.0/24", "IETF protocol assignments (RFC 6890)" },
	{ "192.0.2.0/24", "documentation, TEST-NET-1 (RFC 5737)" },
	{ "192.168.0.0/16", "private network (RFC 1918)" },
	{ "198.18.0.0/15", "benchmarking (RFC 2544)" },
	{ "198.51.100.0/24", "documentation, TEST-NET-2 (RFC 5737)" },
	{ "203.0.113.0/24", "documentation, TEST-NET-3 (RFC 5737)" },
	{ "224.0.0.0/4", "multicast (RFC 5771)" },
	{ "240.0.0.0/4", "reserved for future use (RFC 1112)" },
	{ "255.255.255.255/32", "limited broadcast (RFC 919)" },
	{ "::/128", "unspecified address (RFC 4291)" },
	{ "::1/128", "loopback (RFC 4291)" },
	{ "100::/64", "discard-only prefix (RFC 6666)" },
	{ "2001:db8::/32", "documentation (RFC 3849)" },
	{ "3fff::/20", "documentation (RFC 9637)" },
	{ "fc00::/7", "unique local addresses, IPv6's private networks (RFC 4193)" },
	{ "fe80::/10", "link-local (RFC 4291)" },
	{ "ff00::/8", "multicast (RFC 4291)" },
	{ "1.0.0.1", "public DNS resolver: Cloudflare" },
	{ "1.1.1.1", "public DNS resolver: Cloudflare" },
	{ "8.8.4.4", "public DNS resolver: Google" },
	{ "8.8.8.8", "public DNS resolver: Google" },
	{ "9.9.9.9", "public DNS resolver: Quad9" },
	{ "149.112.112.112", "public DNS resolver: Quad9" },
	{ "208.67.220.220", "public DNS resolver: Cisco OpenDNS" },
	{ "208.67.222.222", "public DNS resolver: Cisco OpenDNS" },
	{ "2606:4700:4700::1001", "public DNS resolver: Cloudflare" },
	{ "2606:4700:4700::1111", "public DNS resolver: Cloudflare" },
	{ "2001:4860:4860::8844", "public DNS resolver: Google" },
	{ "2001:4860:4860::8888", "public DNS resolver: Google" },
	{ "2620:fe::9", "public DNS resolver: Quad9" },
	{ "2620:fe::fe", "public DNS resolver: Quad9" },
	{ "2620:119:35::35", "public DNS resolver: Cisco OpenDNS" },
	{ "2620:119:53::53", "public DNS resolver: Cisco OpenDNS" },
};

const struct allow_builtin_entry *allow_builtin(size_t *n)
{
	*n = sizeof(builtin) / sizeof(builtin[0]);
	return builtin;
}

int allow_set_add_builtin(struct allow_set *s, const char *name, int64_t id, struct allow_list_info *info,
			  struct err *e)
{
	if (info) {
		memset(info, 0, sizeof(*info));
		snprintf(info->format, sizeof(info->format), "builtin");
		snprintf(info->type, sizeof(info->type), "cidr");
		snprintf(info->description, sizeof(info->description),
			 "Private, shared, loopback, link-local, multicast, documentation and reserved"
			 " ranges, and public DNS resolvers");
		info->types = ALLOW_ALL_TYPES;
	}
	uint32_t li;
	int rc = allow_list_index(s, name, id, ALLOW_ALL_TYPES, &li, e);
	for (size_t i = 0; rc == 0 && i < sizeof(builtin) / sizeof(builtin[0]); i++) {
		rc = allow_add_kind(s, li, ALLOW_CIDR, builtin[i].entry, strlen(builtin[i].entry), false, e);
		if (rc == 0 && info) {
			info->entries++;
			info->kinds[ALLOW_CIDR]++;
		}
	}
	return rc;
}

/* ---- PCRE as MISP writes it → POSIX extended ---- */

static bool ere_special(char c)
{
	return strchr(".[]()*+?{}|^$\\", c) != NULL;
}

int allow_regex_translate(const char *in, size_t len, char *out, size_t cap, bool *icase, struct err *e)
{
	size_t o = 0;
	*icase = false;
	/* "/body/flags": MISP's lists carry PHP's delimiters. */
	if (len >= 2 && in[0] == '/') {
		size_t end = len;
		while (end > 1 && isalpha((unsigned char)in[end - 1]))
			end--;
		if (end >= 2 && in[end - 1] == '/') {
			for (size_t i = end; i < len; i++) {
				if (in[i] == 'i')
					*icase = true;
				else if (!strchr("gmsuUD", in[i]))
					return err_set(e, ERR_INVALID, "regular-expression flag '%c' is not supported", in[i]);
			}
			in++;
			len = end - 2;
		}
	}
#define PUT(c)                                                                         \
	do {                                                                           \
		if (o + 1 >= cap)                                                      \
			return err_set(e, ERR_TOO_LARGE, "regular expression too long"); \
		out[o++] = (c);                                                        \
	} while (0)
#define PUTS(str)                                                                      \
	do {                                                                           \
		for (const char *q_ = (str); *q_; q_++)                                \
			PUT(*q_);                                                      \
	} while (0)
	bool after_quant = false;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (after_quant && (c == '?' || c == '+')) {
			after_quant = false;	/* lazy or possessive: the same verdict */
			continue;
		}
		after_quant = false;
		if (c == '\\') {
			if (i + 1 >= len)
				return err_set(e, ERR_INVALID, "regular expression ends with '\\'");
			char d = in[++i];
			if (d == 'd')
				PUTS("[0-9]");
			else if (d == 'D')
				PUTS("[^0-9]");
			else if (strchr("wWsSbB<>", d)) {
				PUT('\\');
				PUT(d);
			} else if (d == 't')
				PUT('\t');
			else if (d == 'n')
				PUT('\n');
			else if (d == 'r')
				PUT('\r');
			else if (isalnum((unsigned char)d))
				return err_set(e, ERR_INVALID, "'\\%c' has no POSIX equivalent", d);
			else if (ere_special(d)) {
				PUT('\\');
				PUT(d);
			} else
				PUT(d);
			continue;
		}
		if (c == '(' && i + 1 < len && in[i + 1] == '?') {
			if (i + 2 < len && in[i + 2] == ':') {
				PUT('(');
				i += 2;
				continue;
			}
			return err_set(e, ERR_INVALID, "look-around and inline options are not POSIX");
		}
		if (c == '[') {
			/* A bracket expression: copied, with PCRE's escapes inside it spelt out. */
			PUT('[');
			size_t j = i + 1;
			if (j < len && in[j] == '^') {
				PUT('^');
				j++;
			}
			if (j < len && in[j] == ']') {
				PUT(']');
				j++;
			}
			for (; j < len && in[j] != ']'; j++) {
				if (in[j] == '[' && j + 1 < len && in[j + 1] == ':') {
					const char *close = memmem(in + j, len - j, ":]", 2);
					if (close == NULL)
						return err_set(e, ERR_INVALID, "unterminated character class");
					for (; in + j < close + 1; j++)
						PUT(in[j]);
					PUT(']');
					continue;
				}
				if (in[j] != '\\') {
					PUT(in[j]);
					continue;
				}
				if (j + 1 >= len)
					return err_set(e, ERR_INVALID, "unterminated bracket expression");
				char d = in[++j];
				if (d == 'd')
					PUTS("0-9");
				else if (d == 'w')
					PUTS("[:alnum:]_");
				else if (d == 's')
					PUTS("[:space:]");
				else if (d == '\\')
					PUT('\\');
				else if (isalnum((unsigned char)d) || d == ']' || d == '[' || d == '^' || d == '-')
					return err_set(e, ERR_INVALID, "'\\%c' inside brackets has no POSIX equivalent", d);
				else
					PUT(d);
			}
			if (j >= len)
				return err_set(e, ERR_INVALID, "unterminated bracket expression");
			PUT(']');
			i = j;
			continue;
		}
		PUT(c);
		if (c == '*' || c == '+' || c == '?' || c == '}')
			after_quant = true;
	}
	out[o] = '\0';
#undef PUT
#undef PUTS
	if (o == 0)
		return err_set(e, ERR_INVALID, "empty regular expression");
	return 0;
}
