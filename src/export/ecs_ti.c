/*
 * ecs_ti.c — pattern extraction the way Elastic's ti_custom pipeline does it
 * (MAPPING.md §8–10): the type from the pattern's first characters, the
 * pattern cut as text at whitespace-AND/OR-whitespace, and each piece read by
 * the grok expressions of the type's sub-pipeline, first match wins. The
 * readers below are those expressions written out by hand: a piece may start
 * with '[', %{SPACE} is any run of white space, %{DATA} between quotes is
 * everything up to the next single quote on the same line, and nothing after
 * the value is looked at. A regular-expression '.' inside a property path
 * (from_ref.value) matches any character but a line feed, as in grok.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "export/ecs_int.h"

const char *ecs_ti_type(const char *p, size_t n)
{
	static const struct { const char *prefix, *type; } t[] = {
		{ "[autonomous-system", "autonomous-system" }, { "[domain-name", "domain-name" },
		{ "[email", "email-addr" }, { "[file", "file" }, { "[ipv4-addr", "ipv4-addr" },
		{ "[ipv6-addr", "ipv6-addr" }, { "[url", "url" },
		{ "[windows-registry-key", "windows-registry-key" }, { "[x509", "x509-certificate" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t k = strlen(t[i].prefix);
		if (n >= k && !memcmp(p, t[i].prefix, k))
			return t[i].type;
	}
	return NULL;
}

/* Ruby's \s, which grok's %{SPACE} is. */
static bool ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

struct piece {
	const char *s;
	size_t n, i;
};

/* Matches lit at the cursor ('?' = any character but \n); ci: ignoring ASCII case. */
static bool lit(struct piece *p, const char *lit_, bool ci)
{
	size_t i = p->i;
	for (const char *l = lit_; *l; l++, i++) {
		if (i >= p->n)
			return false;
		char c = p->s[i];
		if (*l == '?' ? c == '\n' : (ci ? lower(c) != lower(*l) : c != *l))
			return false;
	}
	p->i = i;
	return true;
}

static void spaces(struct piece *p)
{
	while (p->i < p->n && ws(p->s[p->i]))
		p->i++;
}

/* ^\[?<path>%{SPACE}<op>%{SPACE} */
static bool head(struct piece *p, const char *path, const char *op, bool ci)
{
	p->i = p->n && p->s[0] == '[' ? 1 : 0;
	if (!lit(p, path, ci))
		return false;
	spaces(p);
	if (!lit(p, op, false))
		return false;
	spaces(p);
	return true;
}

/* '%{DATA}' — the text up to the next quote, which must come before any line feed. */
static bool data(struct piece *p, struct ecs_str *out)
{
	if (p->i >= p->n || p->s[p->i] != '\'')
		return false;
	size_t start = p->i + 1;
	for (size_t i = start; i < p->n; i++) {
		if (p->s[i] == '\n')
			return false;
		if (p->s[i] == '\'') {
			out->s = p->s + start;
			out->len = i - start;
			p->i = i + 1;
			return true;
		}
	}
	return false;
}

static bool eq_data(struct piece *p, const char *path, struct ecs_str *out)
{
	return head(p, path, "=", false) && data(p, out);
}

bool ecs_ipv4(const char *s, size_t n)
{
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (part && (i >= n || s[i++] != '.'))
			return false;
		size_t start = i;
		unsigned v = 0;
		while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 3)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == start || v > 255)
			return false;
	}
	return i == n;
}

bool ecs_ipv6(const char *s, size_t n)
{
	char tmp[64];
	unsigned char addr[16];
	if (n == 0 || n >= sizeof(tmp) || memchr(s, ':', n) == NULL)
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return inet_pton(AF_INET6, tmp, addr) == 1;
}

/* %{IP}: grok tries IPV6, then IPV4. */
static bool ip(const char *s, size_t n)
{
	return ecs_ipv6(s, n) || ecs_ipv4(s, n);
}

/* %{NUMBER}: [+-]?(digits(.digits)?|.digits) */
static bool number(const char *s, size_t n)
{
	size_t i = 0, d = 0;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++, d++;
	if (i < n && s[i] == '.') {
		size_t f = ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == f)
			return false;
		d++;
	}
	return d > 0 && i == n;
}

/* 'IP' (slash false) or 'IP/NUMBER' (slash true): the address, or false. */
static bool quoted_ip(struct piece *p, bool slash, struct ecs_str *addr)
{
	struct ecs_str v;
	if (!data(p, &v))
		return false;
	if (!slash) {
		*addr = v;
		return ip(v.s, v.len);
	}
	const char *sl = memchr(v.s, '/', v.len);
	if (sl == NULL)
		return false;
	addr->s = v.s;
	addr->len = (size_t)(sl - v.s);
	return ip(addr->s, addr->len) && number(sl + 1, v.len - addr->len - 1);
}

static void add_ip(struct arena *a, struct ecs_vals *v, struct ecs_str ip_)
{
	ecs_vals_add(a, v, EF_IP, ip_.s, ip_.len, false);
	ecs_vals_add(a, v, EF_REL_IP, ip_.s, ip_.len, true);
}

/* The ipv4/ipv6 forms shared by the ip and domain-name readers. */
static bool ip_forms(struct arena *a, struct piece *p, struct ecs_vals *v)
{
	struct ecs_str addr;
	if ((head(p, "ipv4-addr:value", "=", false) && quoted_ip(p, false, &addr)) ||
	    (head(p, "ipv4-addr:value", "=", false) && quoted_ip(p, true, &addr)) ||
	    (head(p, "ipv6-addr:value", "=", false) && quoted_ip(p, false, &addr))) {
		add_ip(a, v, addr);
		return true;
	}
	return false;
}

static void read_domain(struct arena *a, struct piece *p, struct ecs_vals *v)
{
	struct ecs_str s;
	if (eq_data(p, "domain-name:value", &s)) {
		ecs_vals_add(a, v, EF_URL_ORIGINAL, s.s, s.len, false);
	} else if (head(p, "domain-name:resolves_to_refs[*]?value", "=", false) && quoted_ip(p, false, &s)) {
		add_ip(a, v, s);
	} else if (eq_data(p, "domain-name:resolves_to_refs[*]?value", &s)) {
		ecs_vals_add(a, v, EF_URL_ORIGINAL, s.s, s.len, false);
	} else {
		ip_forms(a, p, v);
	}
}

static void read_email(struct arena *a, struct piece *p, struct ecs_vals *v)
{
	static const char *const paths[] = { "email-addr:value", "email-message:value",
					     "email-message:from_ref?value", "email-message:to_refs[*]?value" };
	struct ecs_str s;
	for (size_t i = 0; i < 4; i++)
		if (eq_data(p, paths[i], &s)) {
			ecs_vals_add(a, v, EF_EMAIL, s.s, s.len, false);
			return;
		}
}

/* (?i:^\[?<obj>:hashes\.'?(MD5|SHA-?1|SHA-?256)'?%{SPACE}=%{SPACE}'%{DATA}') */
static bool read_hash(struct arena *a, struct piece *p, const char *obj_hashes, struct ecs_vals *v)
{
	static const char *const algos[3] = { "MD5", "SHA", "SHA" };
	static const enum ecs_field fields[3] = { EF_MD5, EF_SHA1, EF_SHA256 };
	for (int k = 0; k < 3; k++) {
		p->i = p->n && p->s[0] == '[' ? 1 : 0;
		if (!lit(p, obj_hashes, true))
			return false;
		if (p->i < p->n && p->s[p->i] == '\'')
			p->i++;
		if (!lit(p, algos[k], true))
			continue;
		if (k > 0) {
			if (p->i < p->n && p->s[p->i] == '-')
				p->i++;
			if (!lit(p, k == 1 ? "1" : "256", false))
				continue;
		}
		if (p->i < p->n && p->s[p->i] == '\'')
			p->i++;
		spaces(p);
		if (!lit(p, "=", false))
			continue;
		spaces(p);
		struct ecs_str s;
		if (!data(p, &s))
			continue;
		ecs_vals_add(a, v, fields[k], s.s, s.len, false);
		ecs_vals_add(a, v, EF_REL_HASH, s.s, s.len, true);
		return true;
	}
	return false;
}

static void read_file(struct arena *a, struct piece *p, struct ecs_vals *v)
{
	struct ecs_str s;
	if (!read_hash(a, p, "file:hashes.", v) && eq_data(p, "file:name", &s))
		ecs_vals_add(a, v, EF_FILE_NAME, s.s, s.len, false);
}

static void read_asn(struct arena *a, struct piece *p, struct ecs_vals *v)
{
	if (!head(p, "autonomous-system:number", "=", false))
		return;
	bool quoted = p->i < p->n && p->s[p->i] == '\'';
	size_t start = p->i + quoted, i = start;
	if (i < p->n && (p->s[i] == '+' || p->s[i] == '-'))
		i++;
	size_t digits = i;
	while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9')
		i++;
	if (i == digits)
		return;
	if (quoted) {
		/* the unquoted form failed on the quote; the quoted one needs a quote right after */
		if (i >= p->n || p->s[i] != '\'')
			return;
	}
	ecs_vals_add(a, v, EF_AS_NUMBER, p->s + start, i - start, false);
}

static void read_registry(struct arena *a, struct piece *p, struct ecs_vals *v)
{
	struct ecs_str s;
	if (eq_data(p, "windows-registry-key:key", &s) ||
	    (head(p, "windows-registry-key:key", "LIKE", false) && data(p, &s)))
		ecs_vals_add(a, v, EF_REG_PATH, s.s, s.len, false);
	else if (eq_data(p, "windows-registry-value-type:name", &s))
		ecs_vals_add(a, v, EF_REG_KEY, s.s, s.len, false);
	else if (eq_data(p, "windows-registry-value-type:data", &s))
		ecs_vals_add(a, v, EF_REG_VALUE, s.s, s.len, false);
}

/* grok's TIMESTAMP_ISO8601, matched against the whole quoted text. */
static regex_t ts_re;
static pthread_once_t ts_once = PTHREAD_ONCE_INIT;

static void ts_compile(void)
{
	static const char re[] =
		"^([0-9]{2}){1,2}-(0?[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01]|[1-9])[T ]"
		"(2[0-3]|[01]?[0-9]):?[0-5][0-9](:?([0-5]?[0-9]|60)([:.,][0-9]+)?)?"
		"(Z|[+-](2[0-3]|[01]?[0-9]):?[0-5][0-9])?$";
	if (regcomp(&ts_re, re, REG_EXTENDED | REG_NOSUB) != 0)
		abort();
}

static bool grok_timestamp(const char *s, size_t n)
{
	char tmp[64];
	if (n >= sizeof(tmp))
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	pthread_once(&ts_once, ts_compile);
	return regexec(&ts_re, tmp, 0, NULL, 0) == 0;
}

static void read_x509_date(struct arena *a, struct ecs_vals *v, enum ecs_field f, struct ecs_str s)
{
	int64_t us;
	if (!ecs_time_iso8601(s.s, s.len, &us) && !ecs_time_x509(s.s, s.len, &us)) {
		v->error = f == EF_X_NOT_AFTER ? "cannot parse validity_not_after as a date"
					       : "cannot parse validity_not_before as a date";
		return;
	}
	char out[40];
	size_t n = ecs_time_format(out, us);
	v->f[f].n = 0;		/* a date processor sets the field: the last one wins */
	ecs_vals_add(a, v, f, out, n, false);
}

static void read_x509(struct arena *a, struct piece *p, struct ecs_vals *v)
{
	static const struct { const char *path; enum ecs_field f; } simple[] = {
		{ "x509-certificate:serial_number", EF_X_SERIAL },
		{ "x509-certificate:signature_algorithm", EF_X_SIGALG },
		{ "x509-certificate:version", EF_X_VERSION },
	};
	struct ecs_str s;
	if (read_hash(a, p, "x509-certificate:hashes.", v))
		return;
	for (size_t i = 0; i < 3; i++)
		if (eq_data(p, simple[i].path, &s)) {
			ecs_vals_add(a, v, simple[i].f, s.s, s.len, false);
			return;
		}
	if (eq_data(p, "x509-certificate:validity_not_after", &s) && grok_timestamp(s.s, s.len)) {
		read_x509_date(a, v, EF_X_NOT_AFTER, s);
		return;
	}
	if (eq_data(p, "x509-certificate:validity_not_before", &s) && grok_timestamp(s.s, s.len)) {
		read_x509_date(a, v, EF_X_NOT_BEFORE, s);
		return;
	}
	if (eq_data(p, "x509-certificate:issuer", &s)) {
		ecs_vals_add(a, v, EF_X_ISS + RDN_DN, s.s, s.len, false);
		ecs_rdn_split(a, v, EF_X_ISS, s.s, s.len, false);
	} else if (eq_data(p, "x509-certificate:subject", &s)) {
		ecs_vals_add(a, v, EF_X_SUB + RDN_DN, s.s, s.len, false);
		ecs_rdn_split(a, v, EF_X_SUB, s.s, s.len, false);
	}
}

static void read_piece(struct arena *a, const char *type, const char *s, size_t n, struct ecs_vals *v)
{
	struct piece p = { s, n, 0 };
	struct ecs_str u;
	if (!strcmp(type, "autonomous-system"))
		read_asn(a, &p, v);
	else if (!strcmp(type, "domain-name"))
		read_domain(a, &p, v);
	else if (!strcmp(type, "email-addr"))
		read_email(a, &p, v);
	else if (!strcmp(type, "file"))
		read_file(a, &p, v);
	else if (!strcmp(type, "ipv4-addr") || !strcmp(type, "ipv6-addr"))
		ip_forms(a, &p, v);
	else if (!strcmp(type, "url")) {
		if (eq_data(&p, "url:value", &u))
			ecs_vals_add(a, v, EF_URL_ORIGINAL, u.s, u.len, false);
	} else if (!strcmp(type, "windows-registry-key"))
		read_registry(a, &p, v);
	else if (!strcmp(type, "x509-certificate"))
		read_x509(a, &p, v);
}

/*
 * The split processor's `\s+AND\s+|\s+OR\s+` (Java's String.split: trailing
 * empty pieces dropped). A match starts at the first white space of a run, so
 * a run that is not followed by AND/OR and more white space is skipped whole.
 */
static size_t next_sep(const char *s, size_t n, size_t from, size_t *end)
{
	size_t i = from;
	while (i < n) {
		if (!ws(s[i])) {
			i++;
			continue;
		}
		size_t j = i;
		while (j < n && ws(s[j]))
			j++;
		size_t k = 0;
		if (n - j >= 3 && !memcmp(s + j, "AND", 3))
			k = 3;
		else if (n - j >= 2 && !memcmp(s + j, "OR", 2))
			k = 2;
		if (k && j + k < n && ws(s[j + k])) {
			size_t e = j + k;
			while (e < n && ws(s[e]))
				e++;
			*end = e;
			return i;
		}
		i = j;
	}
	return n;
}

void ecs_ti_extract(struct arena *a, const char *pattern, size_t len, const char *type, struct ecs_vals *v)
{
	size_t from = 0;
	for (;;) {
		size_t end = len, at = next_sep(pattern, len, from, &end);
		read_piece(a, type, pattern + from, at - from, v);
		if (at >= len)
			break;
		from = end;
	}
}

/*
 * ti_custom's kv processor on a distinguished name: split at commas not
 * preceded by a backslash, each part at its first '=', keys trimmed of
 * spaces, values as they are. A part without '=' or with an empty key fails
 * the processor, which ignores the failure: then no RDN field at all. A key
 * seen twice becomes a list, which the append template prints the way Java
 * prints a list ("[a, b]"). Keys are case-sensitive; S, ST and P all go to
 * state_or_province, in that order.
 * strict (profile ecs), RFC 4514: ',' and '+' separate unless escaped, keys
 * in any case, values trimmed and unescaped, bad parts skipped.
 */
static const struct { const char *key; int slot; } rdn_keys[] = {
	{ "CN", RDN_CN }, { "C", RDN_C }, { "L", RDN_L }, { "O", RDN_O }, { "OU", RDN_OU },
	{ "S", RDN_ST }, { "ST", RDN_ST }, { "P", RDN_ST },
};
#define RDN_KEYS (sizeof(rdn_keys) / sizeof(rdn_keys[0]))
#define RDN_MAX_PARTS 256

static int rdn_key(const char *k, size_t n, bool ci)
{
	for (size_t i = 0; i < RDN_KEYS; i++) {
		if (strlen(rdn_keys[i].key) != n)
			continue;
		size_t j = 0;
		while (j < n && (ci ? lower(k[j]) == lower(rdn_keys[i].key[j]) : k[j] == rdn_keys[i].key[j]))
			j++;
		if (j == n)
			return (int)i;
	}
	return -1;
}

static size_t unescape_dn(char *out, const char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n) {
			int h = hex_digit(s[i + 1]), l = i + 2 < n ? hex_digit(s[i + 2]) : -1;
			if (h >= 0 && l >= 0) {
				out[o++] = (char)(h * 16 + l);
				i += 2;
			} else {
				out[o++] = s[++i];
			}
		} else {
			out[o++] = s[i];
		}
	}
	return o;
}

struct rdn_part {
	struct ecs_str key, val;
	int k;			/* index in rdn_keys, or -1 */
};

void ecs_rdn_split(struct arena *a, struct ecs_vals *v, int base, const char *dn, size_t n, bool strict)
{
	struct rdn_part *parts = arena_alloc(a, RDN_MAX_PARTS * sizeof(*parts));
	size_t np = 0, start = 0;
	for (size_t i = 0; i <= n; i++) {
		bool sep = false;
		if (i < n && (dn[i] == ',' || (strict && dn[i] == '+'))) {
			if (strict) {
				size_t bs = 0;
				while (bs < i && dn[i - 1 - bs] == '\\')
					bs++;
				sep = bs % 2 == 0;
			} else {
				sep = dn[i] == ',' && (i == 0 || dn[i - 1] != '\\');
			}
		}
		if (!sep && i < n)
			continue;
		if (np == RDN_MAX_PARTS)
			return;
		parts[np].key.s = dn + start;
		parts[np].key.len = i - start;
		np++;
		start = i + 1;
	}
	if (!strict)		/* Java's split drops trailing empty parts */
		while (np > 1 && parts[np - 1].key.len == 0)
			np--;
	for (size_t i = 0; i < np; i++) {
		struct rdn_part *p = &parts[i];
		const char *eq = memchr(p->key.s, '=', p->key.len);
		p->k = -1;
		if (eq == NULL) {
			if (strict)
				continue;
			return;
		}
		p->val.s = eq + 1;
		p->val.len = p->key.len - (size_t)(eq + 1 - p->key.s);
		p->key.len = (size_t)(eq - p->key.s);
		while (p->key.len && p->key.s[0] == ' ')
			p->key.s++, p->key.len--;
		while (p->key.len && p->key.s[p->key.len - 1] == ' ')
			p->key.len--;
		if (p->key.len == 0) {
			if (strict)
				continue;
			return;
		}
		p->k = rdn_key(p->key.s, p->key.len, strict);
		if (strict) {
			while (p->val.len && (p->val.s[0] == ' ' || p->val.s[0] == '\t'))
				p->val.s++, p->val.len--;
			while (p->val.len && (p->val.s[p->val.len - 1] == ' ' || p->val.s[p->val.len - 1] == '\t') &&
			       !(p->val.len >= 2 && p->val.s[p->val.len - 2] == '\\'))
				p->val.len--;
		}
	}
	for (size_t k = 0; k < RDN_KEYS; k++) {
		size_t count = 0;
		for (size_t i = 0; i < np; i++)
			count += parts[i].k == (int)k;
		if (count == 0)
			continue;
		enum ecs_field f = (enum ecs_field)(base + rdn_keys[k].slot);
		if (strict || count == 1) {
			for (size_t i = 0; i < np; i++) {
				if (parts[i].k != (int)k)
					continue;
				if (strict) {
					char *u = arena_alloc(a, parts[i].val.len + 1);
					size_t ul = unescape_dn(u, parts[i].val.s, parts[i].val.len);
					ecs_vals_add(a, v, f, u, ul, false);
				} else {
					ecs_vals_add(a, v, f, parts[i].val.s, parts[i].val.len, false);
				}
			}
			continue;
		}
		struct buf b = BUF_INIT;
		buf_putc(&b, '[');
		for (size_t i = 0, seen = 0; i < np; i++) {
			if (parts[i].k != (int)k)
				continue;
			if (seen++)
				buf_puts(&b, ", ");
			buf_append(&b, parts[i].val.s, parts[i].val.len);
		}
		buf_putc(&b, ']');
		ecs_vals_add(a, v, f, b.data, b.len, false);
		buf_cleanup(&b);
	}
}
