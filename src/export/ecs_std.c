/*
 * ecs_std.c — profile ecs: the pattern parsed (stix/pattern.h), put in
 * disjunctive normal form, and each alternative's comparisons extracted into
 * ECS fields by what they compare.
 *
 * Alternatives. OR (inside brackets or between observations) and IN (…) are
 * alternatives; AND and FOLLOWEDBY join what must be seen together. So
 * [a = 1 AND (b = 2 OR c IN (3, 4))] gives {a,b}, {a,c=3}, {a,c=4}: three
 * documents, each one thing to match. Qualifiers are ignored. The product is
 * counted before it is built; past max_parts alternatives (or ATOM_CAP
 * comparisons in all) the pattern is mapped as one document holding every
 * value, as ti_custom does.
 *
 * Extraction. A comparison gives values only when it states what the thing
 * is: '=' or a member of IN, not negated; and ISSUBSET for an address range.
 * LIKE, MATCHES, '!=', '<'… describe sets, not values, and are typed only.
 * The type of a value is that of the field it lands in (an address in a
 * network-traffic pattern is an ipv4-addr); a comparison on an object type
 * that ECS lists (threat.indicator.type's expected values) is typed even when
 * it gives no value.
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "export/ecs_int.h"
#include "stix/pattern.h"

#define ATOM_CAP 65536

struct atom {
	const struct stix_cmp *t;
	const struct stix_const *v;	/* the member of IN, or the value */
};

struct alt {
	struct atom *a;
	size_t n;
};

struct alts {
	struct alt *v;
	size_t n;
};

/* Saturating counts of alternatives and of atoms, to refuse a product before building it. */
struct size {
	uint64_t alts, atoms;
};

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a || a + b > (uint64_t)1 << 40 ? (uint64_t)1 << 40 : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
	if (a && b > ((uint64_t)1 << 40) / a)
		return (uint64_t)1 << 40;
	return a * b;
}

static size_t test_members(const struct stix_cmp *t)
{
	if (t->op == STIX_OP_IN && !t->negated)
		return t->n_values ? t->n_values : 1;
	return 1;
}

/* Sizes of the product of kids (AND) or of their union (OR). */
static struct size combine(struct size acc, struct size k, bool and)
{
	if (!and)
		return (struct size){ sat_add(acc.alts, k.alts), sat_add(acc.atoms, k.atoms) };
	/* every alternative of acc meets every one of k: atoms add up crosswise */
	return (struct size){ sat_mul(acc.alts, k.alts),
			      sat_add(sat_mul(acc.atoms, k.alts), sat_mul(k.atoms, acc.alts)) };
}

static struct size cmp_size(const struct stix_cmp *c)
{
	if (c->kind == STIX_CMP_TEST) {
		uint64_t m = test_members(c);
		return (struct size){ m, m };
	}
	bool and = c->kind == STIX_CMP_AND;
	struct size acc = and ? (struct size){ 1, 0 } : (struct size){ 0, 0 };
	for (const struct stix_cmp *k = c->kids; k; k = k->next)
		acc = combine(acc, cmp_size(k), and);
	return acc;
}

static struct size obs_size(const struct stix_obs *o)
{
	if (o->kind == STIX_OBS_COMPARISON)
		return cmp_size(o->cmp);
	if (o->kind == STIX_OBS_GROUP)
		return obs_size(o->kids);
	bool and = o->kind != STIX_OBS_OR;
	struct size acc = and ? (struct size){ 1, 0 } : (struct size){ 0, 0 };
	for (const struct stix_obs *k = o->kids; k; k = k->next)
		acc = combine(acc, obs_size(k), and);
	return acc;
}

static struct alts unit(struct arena *a)
{
	struct alts r = { arena_alloc(a, sizeof(struct alt)), 1 };
	r.v[0].a = NULL;
	r.v[0].n = 0;
	return r;
}

static struct alts product(struct arena *a, struct alts x, struct alts y)
{
	size_t cells = x.n * y.n;
	struct alts r = { arena_alloc(a, (cells ? cells : 1) * sizeof(struct alt)), 0 };
	for (size_t i = 0; i < x.n; i++)
		for (size_t j = 0; j < y.n; j++) {
			struct alt *t = &r.v[r.n++];
			t->n = x.v[i].n + y.v[j].n;
			t->a = arena_alloc(a, (t->n ? t->n : 1) * sizeof(struct atom));
			if (x.v[i].n)
				memcpy(t->a, x.v[i].a, x.v[i].n * sizeof(struct atom));
			if (y.v[j].n)
				memcpy(t->a + x.v[i].n, y.v[j].a, y.v[j].n * sizeof(struct atom));
		}
	return r;
}

static struct alts concat(struct arena *a, struct alts x, struct alts y)
{
	struct alts r = { arena_alloc(a, (x.n + y.n ? x.n + y.n : 1) * sizeof(struct alt)), x.n + y.n };
	if (x.n)
		memcpy(r.v, x.v, x.n * sizeof(struct alt));
	if (y.n)
		memcpy(r.v + x.n, y.v, y.n * sizeof(struct alt));
	return r;
}

static struct alts cmp_dnf(struct arena *a, const struct stix_cmp *c)
{
	if (c->kind == STIX_CMP_TEST) {
		size_t m = test_members(c);
		struct alts r = { arena_alloc(a, m * sizeof(struct alt)), m };
		const struct stix_const *v = c->value;
		for (size_t i = 0; i < m; i++) {
			r.v[i].a = arena_alloc(a, sizeof(struct atom));
			r.v[i].n = 1;
			r.v[i].a[0].t = c;
			r.v[i].a[0].v = v;
			if (c->op == STIX_OP_IN && !c->negated && v)
				v = v->next;
		}
		return r;
	}
	bool and = c->kind == STIX_CMP_AND;
	struct alts acc = and ? unit(a) : (struct alts){ NULL, 0 };
	for (const struct stix_cmp *k = c->kids; k; k = k->next)
		acc = and ? product(a, acc, cmp_dnf(a, k)) : concat(a, acc, cmp_dnf(a, k));
	return acc;
}

static struct alts obs_dnf(struct arena *a, const struct stix_obs *o)
{
	if (o->kind == STIX_OBS_COMPARISON)
		return cmp_dnf(a, o->cmp);
	if (o->kind == STIX_OBS_GROUP)
		return obs_dnf(a, o->kids);
	bool and = o->kind != STIX_OBS_OR;
	struct alts acc = and ? unit(a) : (struct alts){ NULL, 0 };
	for (const struct stix_obs *k = o->kids; k; k = k->next)
		acc = and ? product(a, acc, obs_dnf(a, k)) : concat(a, acc, obs_dnf(a, k));
	return acc;
}

/* Every comparison, every IN member its own atom: the one-document fallback. */
static void flat_cmp(struct arena *a, const struct stix_cmp *c, struct alt *out, size_t cap)
{
	if (c->kind != STIX_CMP_TEST) {
		for (const struct stix_cmp *k = c->kids; k; k = k->next)
			flat_cmp(a, k, out, cap);
		return;
	}
	size_t m = test_members(c);
	const struct stix_const *v = c->value;
	for (size_t i = 0; i < m && out->n < cap; i++) {
		out->a[out->n].t = c;
		out->a[out->n++].v = v;
		if (c->op == STIX_OP_IN && !c->negated && v)
			v = v->next;
	}
}

static void flat_obs(struct arena *a, const struct stix_obs *o, struct alt *out, size_t cap)
{
	if (o->kind == STIX_OBS_COMPARISON) {
		flat_cmp(a, o->cmp, out, cap);
		return;
	}
	for (const struct stix_obs *k = o->kids; k; k = k->next)
		flat_obs(a, k, out, cap);
}

/* ---- what one comparison gives ---- */

/* The path's steps after the object type against spec: names joined by '.', "[*]" for a list
 * step (an index [n] matches too). */
static bool steps_are(const struct stix_path *p, const char *spec)
{
	const struct stix_step *s = p->steps;
	const char *q = spec;
	while (*q) {
		if (s == NULL)
			return false;
		if (!strncmp(q, "[*]", 3)) {
			if (s->kind == STIX_STEP_KEY)
				return false;
			q += 3;
		} else {
			size_t n = strcspn(q, ".[");
			if (s->kind != STIX_STEP_KEY || s->len != n || memcmp(s->text, q, n))
				return false;
			q += n;
		}
		if (*q == '.')
			q++;
		s = s->next;
	}
	return s == NULL;
}

static bool type_is(const struct stix_path *p, const char *t)
{
	return p->type_len == strlen(t) && !memcmp(p->type, t, p->type_len);
}

/* hashes.NAME: the ECS hash field of NAME, or -1. */
static int hash_field(const struct stix_path *p)
{
	const struct stix_step *s = p->steps;
	if (s == NULL || s->kind != STIX_STEP_KEY || s->len != 6 || memcmp(s->text, "hashes", 6) ||
	    s->next == NULL || s->next->kind != STIX_STEP_KEY || s->next->next != NULL)
		return -1;
	char name[16];
	size_t n = 0;
	for (size_t i = 0; i < s->next->len; i++) {
		char c = s->next->text[i];
		if (c == '-' || c == '_')
			continue;
		if (n + 1 >= sizeof(name))
			return -1;
		name[n++] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
	}
	name[n] = '\0';
	static const struct { const char *name; enum ecs_field f; } h[] = {
		{ "MD5", EF_MD5 }, { "SHA1", EF_SHA1 }, { "SHA256", EF_SHA256 }, { "SHA384", EF_SHA384 },
		{ "SHA512", EF_SHA512 }, { "SSDEEP", EF_SSDEEP }, { "TLSH", EF_TLSH },
	};
	for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++)
		if (!strcmp(name, h[i].name))
			return (int)h[i].f;
	return -1;
}

static bool is_string(const struct stix_const *v)
{
	return v && v->kind == STIX_CONST_STRING;
}

/* A whole number from an INT constant or a string of digits, within [0, max]. */
static bool whole(const struct stix_const *v, long long max, char *out, size_t cap)
{
	if (v == NULL)
		return false;
	if (v->kind == STIX_CONST_INT) {
		if (v->big || v->i < 0 || v->i > max)
			return false;
		snprintf(out, cap, "%lld", v->i);
		return true;
	}
	if (v->kind != STIX_CONST_STRING || v->len == 0 || v->len > 19)
		return false;
	long long x = 0;
	for (size_t i = 0; i < v->len; i++) {
		if (v->text[i] < '0' || v->text[i] > '9')
			return false;
		x = x * 10 + (v->text[i] - '0');
	}
	if (x > max)
		return false;
	snprintf(out, cap, "%lld", x);
	return true;
}

static bool strict_ip(const char *s, size_t n, bool *v6)
{
	char tmp[64];
	unsigned char buf[16];
	if (n == 0 || n >= sizeof(tmp))
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET, tmp, buf) == 1) {
		*v6 = false;
		return true;
	}
	if (inet_pton(AF_INET6, tmp, buf) == 1) {
		*v6 = true;
		return true;
	}
	return false;
}

/* An address, or a CIDR range: a full-length prefix is the address; a network goes to
 * EF_NETWORKS, since ECS's ip fields hold addresses only. */
static bool add_address(struct arena *a, struct ecs_vals *v, const char *s, size_t n)
{
	bool v6;
	const char *sl = memchr(s, '/', n);
	size_t an = sl ? (size_t)(sl - s) : n;
	if (!strict_ip(s, an, &v6))
		return false;
	if (sl) {
		size_t pn = n - an - 1;
		unsigned prefix = 0;
		if (pn == 0 || pn > 3)
			return false;
		for (size_t i = 0; i < pn; i++) {
			if (sl[1 + i] < '0' || sl[1 + i] > '9')
				return false;
			prefix = prefix * 10 + (unsigned)(sl[1 + i] - '0');
		}
		if (prefix > (v6 ? 128u : 32u))
			return false;
		if (prefix < (v6 ? 128u : 32u)) {
			ecs_vals_add(a, v, EF_NETWORKS, s, n, true);
			ecs_vals_type(v, v6 ? "ipv6-addr" : "ipv4-addr");
			return true;
		}
	}
	ecs_vals_add(a, v, EF_IP, s, an, false);
	ecs_vals_add(a, v, EF_REL_IP, s, an, true);
	ecs_vals_type(v, v6 ? "ipv6-addr" : "ipv4-addr");
	return true;
}

static void add_domain(struct arena *a, struct ecs_vals *v, const char *s, size_t n)
{
	ecs_vals_add(a, v, EF_URL_DOMAIN, s, n, false);
	ecs_vals_add(a, v, EF_REL_HOSTS, s, n, true);
	ecs_vals_type(v, "domain-name");
}

/* A reference's value: an address, else a host name. */
static void add_host(struct arena *a, struct ecs_vals *v, const char *s, size_t n)
{
	if (!add_address(a, v, s, n) && n)
		add_domain(a, v, s, n);
}

/* The hive abbreviation ECS uses, and the hive-relative key, of a registry key path. */
static void add_registry_key(struct arena *a, struct ecs_vals *v, const char *s, size_t n)
{
	static const struct { const char *full, *abbr; } hives[] = {
		{ "HKEY_LOCAL_MACHINE", "HKLM" }, { "HKEY_CURRENT_USER", "HKCU" },
		{ "HKEY_CLASSES_ROOT", "HKCR" }, { "HKEY_USERS", "HKU" }, { "HKEY_CURRENT_CONFIG", "HKCC" },
		{ "HKLM", "HKLM" }, { "HKCU", "HKCU" }, { "HKCR", "HKCR" }, { "HKU", "HKU" }, { "HKCC", "HKCC" },
	};
	ecs_vals_add(a, v, EF_REG_PATH, s, n, false);
	for (size_t i = 0; i < sizeof(hives) / sizeof(hives[0]); i++) {
		size_t k = strlen(hives[i].full);
		if (n > k + 1 && s[k] == '\\' && !strncasecmp(s, hives[i].full, k)) {
			ecs_vals_add(a, v, EF_REG_HIVE, hives[i].abbr, strlen(hives[i].abbr), false);
			ecs_vals_add(a, v, EF_REG_KEY, s + k + 1, n - k - 1, false);
			return;
		}
	}
}

static void add_x509_date(struct arena *a, struct ecs_vals *v, enum ecs_field f, const struct stix_const *c)
{
	int64_t us;
	if (c == NULL || (c->kind != STIX_CONST_STRING && c->kind != STIX_CONST_TIMESTAMP) ||
	    (!ecs_time_iso8601(c->text, c->len, &us) && !ecs_time_x509(c->text, c->len, &us)))
		return;
	char out[40];
	size_t n = ecs_time_format(out, us);
	v->f[f].n = 0;
	ecs_vals_add(a, v, f, out, n, false);
}

/* The object types ECS lists as threat.indicator.type values. */
static const char *ecs_type(const struct stix_path *p)
{
	static const char *const types[] = {
		"autonomous-system", "artifact", "directory", "domain-name", "email-addr", "file",
		"ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "process", "software", "url",
		"user-account", "windows-registry-key", "x509-certificate",
	};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (type_is(p, types[i]))
			return types[i];
	return NULL;
}

static void extract(struct arena *a, const struct atom *at, struct ecs_vals *v)
{
	const struct stix_cmp *t = at->t;
	const struct stix_path *p = &t->path;
	const struct stix_const *c = at->v;
	const char *type = ecs_type(p);
	bool value = !t->negated && (t->op == STIX_OP_EQ || t->op == STIX_OP_IN);
	char num[32];
	size_t before = v->ntypes;
	int hf;

	if (!value && !(t->op == STIX_OP_ISSUBSET && !t->negated))
		goto typed;
	if (type_is(p, "ipv4-addr") || type_is(p, "ipv6-addr")) {
		if (steps_are(p, "value") && is_string(c))
			add_address(a, v, c->text, c->len);
		return;
	}
	if (t->op == STIX_OP_ISSUBSET)
		goto typed;
	if (type_is(p, "domain-name")) {
		if (steps_are(p, "value") && is_string(c))
			add_domain(a, v, c->text, c->len);
		else if (steps_are(p, "resolves_to_refs[*].value") && is_string(c))
			add_host(a, v, c->text, c->len);
	} else if (type_is(p, "url")) {
		if (steps_are(p, "value") && is_string(c)) {
			ecs_vals_add(a, v, EF_URL_ORIGINAL, c->text, c->len, false);
			ecs_vals_type(v, "url");
		}
	} else if (type_is(p, "email-addr") || type_is(p, "email-message")) {
		if (is_string(c) && (type_is(p, "email-addr") ? steps_are(p, "value")
				     : steps_are(p, "from_ref.value") || steps_are(p, "sender_ref.value") ||
				       steps_are(p, "to_refs[*].value") || steps_are(p, "cc_refs[*].value") ||
				       steps_are(p, "bcc_refs[*].value"))) {
			ecs_vals_add(a, v, EF_EMAIL, c->text, c->len, false);
			ecs_vals_type(v, "email-addr");
		}
	} else if (type_is(p, "file") || type_is(p, "x509-certificate")) {
		if ((hf = hash_field(p)) >= 0 && is_string(c)) {
			ecs_vals_add(a, v, (enum ecs_field)hf, c->text, c->len, false);
			ecs_vals_add(a, v, EF_REL_HASH, c->text, c->len, true);
		} else if (type_is(p, "file")) {
			if (steps_are(p, "name") && is_string(c))
				ecs_vals_add(a, v, EF_FILE_NAME, c->text, c->len, false);
			else if (steps_are(p, "size") && whole(c, INT64_MAX, num, sizeof(num)))
				ecs_vals_add(a, v, EF_FILE_SIZE, num, strlen(num), false);
			else if (steps_are(p, "parent_directory_ref.path") && is_string(c))
				ecs_vals_add(a, v, EF_FILE_DIR, c->text, c->len, false);
		} else if (steps_are(p, "serial_number") && is_string(c)) {
			ecs_vals_add(a, v, EF_X_SERIAL, c->text, c->len, false);
		} else if (steps_are(p, "signature_algorithm") && is_string(c)) {
			ecs_vals_add(a, v, EF_X_SIGALG, c->text, c->len, false);
		} else if (steps_are(p, "subject_public_key_algorithm") && is_string(c)) {
			ecs_vals_add(a, v, EF_X_PKALG, c->text, c->len, false);
		} else if (steps_are(p, "version") && (is_string(c) || (c && c->kind == STIX_CONST_INT))) {
			ecs_vals_add(a, v, EF_X_VERSION, c->text, c->len, false);
		} else if ((steps_are(p, "issuer") || steps_are(p, "subject")) && is_string(c)) {
			int base = steps_are(p, "issuer") ? EF_X_ISS : EF_X_SUB;
			ecs_vals_add(a, v, (enum ecs_field)(base + RDN_DN), c->text, c->len, false);
			ecs_rdn_split(a, v, base, c->text, c->len, true);
		} else if (steps_are(p, "validity_not_after")) {
			add_x509_date(a, v, EF_X_NOT_AFTER, c);
		} else if (steps_are(p, "validity_not_before")) {
			add_x509_date(a, v, EF_X_NOT_BEFORE, c);
		}
	} else if (type_is(p, "autonomous-system")) {
		if (steps_are(p, "number") && whole(c, 4294967295LL, num, sizeof(num)))
			ecs_vals_add(a, v, EF_AS_NUMBER, num, strlen(num), false);
		else if (steps_are(p, "name") && is_string(c))
			ecs_vals_add(a, v, EF_AS_ORG, c->text, c->len, false);
	} else if (type_is(p, "windows-registry-key") || type_is(p, "windows-registry-value-type")) {
		bool legacy = type_is(p, "windows-registry-value-type");
		if (!is_string(c))
			goto typed;
		if (!legacy && steps_are(p, "key"))
			add_registry_key(a, v, c->text, c->len);
		else if (legacy ? steps_are(p, "name") : steps_are(p, "values[*].name"))
			ecs_vals_add(a, v, EF_REG_VALUE, c->text, c->len, false);
		else if (legacy ? steps_are(p, "data") : steps_are(p, "values[*].data"))
			ecs_vals_add(a, v, EF_REG_DATA, c->text, c->len, false);
		else if (!legacy && steps_are(p, "values[*].data_type"))
			ecs_vals_add(a, v, EF_REG_DATA_TYPE, c->text, c->len, false);
		else
			goto typed;
		ecs_vals_type(v, "windows-registry-key");
		return;
	} else if (type_is(p, "network-traffic")) {
		if ((steps_are(p, "dst_port") || steps_are(p, "src_port")) && whole(c, 65535, num, sizeof(num))) {
			ecs_vals_add(a, v, EF_PORT, num, strlen(num), false);
			ecs_vals_type(v, "port");
		} else if ((steps_are(p, "dst_ref.value") || steps_are(p, "src_ref.value")) && is_string(c)) {
			add_host(a, v, c->text, c->len);
		}
		return;
	}
typed:
	if (type && v->ntypes == before)
		ecs_vals_type(v, type);
}

size_t ecs_std_extract(struct arena *a, const char *pattern, size_t len, size_t max_parts,
		       struct ecs_vals **out, const char **error)
{
	struct stix_pattern *pat = NULL;
	struct err e = { 0 };
	*error = NULL;
	if (stix_pattern_parse(pattern, len, &pat, &e) != 0) {
		*error = arena_strdup(a, e.msg);
		*out = arena_alloc(a, sizeof(struct ecs_vals));
		memset(*out, 0, sizeof(struct ecs_vals));
		return 1;
	}
	const struct stix_obs *root = stix_pattern_root(pat);
	struct size sz = obs_size(root);
	struct alts alts;
	if (sz.alts <= max_parts && sz.atoms <= ATOM_CAP) {
		alts = obs_dnf(a, root);
	} else {
		size_t cap = ATOM_CAP;
		alts.n = 1;
		alts.v = arena_alloc(a, sizeof(struct alt));
		alts.v[0].a = arena_alloc(a, cap * sizeof(struct atom));
		alts.v[0].n = 0;
		flat_obs(a, root, &alts.v[0], cap);
	}
	struct ecs_vals *vals = arena_alloc(a, (alts.n ? alts.n : 1) * sizeof(struct ecs_vals));
	size_t kept = 0;
	for (size_t i = 0; i < alts.n; i++) {
		struct ecs_vals *v = &vals[kept];
		memset(v, 0, sizeof(*v));
		for (size_t j = 0; j < alts.v[i].n; j++)
			extract(a, &alts.v[i].a[j], v);
		if (!ecs_vals_empty(v))
			kept++;
	}
	if (kept == 0) {
		memset(&vals[0], 0, sizeof(vals[0]));
		kept = 1;
	}
	stix_pattern_free(pat);
	*out = vals;
	return kept;
}
