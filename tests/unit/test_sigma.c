/*
 * test_sigma.c — the Sigma export's own pieces: the YAML scalar writer (every character with a
 * meaning in Sigma or YAML, every character a rule may not carry, UTF-8 edge cases), the rule
 * ids (UUIDv5 vectors), the ATT&CK technique table, and export_sigma over a small store: exact
 * bytes of one rule, document separators, an empty export, titles of long URLs kept unique,
 * the grouped mode, and a sink that fails.
 *
 * The integration test (tests/integration/test_sigma_export.py) checks the same output with
 * pySigma, sigma-cli, the SIEM backends and the JSON schema.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/crypto.h"
#include "base/timeutil.h"
#include "export/export.h"
#include "stix/attack.h"
#include "export/sigma_yaml.h"
#include "ioc/ioc.h"
#include "store/store.h"
#include "check.h"

/* ---- the scalar writer ---- */

static const char *value_of(const char *s, size_t n)
{
	static struct buf b;
	buf_reset(&b);
	if (sigma_yaml_value(&b, s, n) != 0)
		return "(refused)";
	return buf_cstr(&b);
}

static const char *string_of(const char *s)
{
	static struct buf b;
	buf_reset(&b);
	if (sigma_yaml_string(&b, s, strlen(s)) != 0)
		return "(refused)";
	return buf_cstr(&b);
}

static const char *text_of(const char *s, size_t n)
{
	static struct buf b;
	buf_reset(&b);
	sigma_yaml_text(&b, s, n);
	return buf_cstr(&b);
}

#define V(s) value_of((s), strlen(s))

static void test_sigma_escaping(void)
{
	/* Sigma's three special characters, each alone and in company. */
	CHECK_STR(V("\\"), "'\\\\'");
	CHECK_STR(V("*"), "'\\*'");
	CHECK_STR(V("?"), "'\\?'");
	CHECK_STR(V("a\\*b"), "'a\\\\\\*b'");	/* a\*b: the backslash escaped, then the star */
	CHECK_STR(V("C:\\Windows\\*.exe?"), "'C:\\\\Windows\\\\\\*.exe\\?'");
	CHECK_STR(V("/dl/a.php?id=1&x=*"), "'/dl/a.php\\?id=1&x=\\*'");
	CHECK_STR(V("**??\\\\"), "'\\*\\*\\?\\?\\\\\\\\'");
	/* YAML's only special character inside single quotes: the quote, doubled. */
	CHECK_STR(V("'"), "''''");
	CHECK_STR(V("o'brien"), "'o''brien'");
	CHECK_STR(V("''x''"), "'''''x'''''");
	CHECK_STR(V("'*'"), "'''\\*'''");
	/* Characters that change a plain scalar's meaning stay as they are once quoted. */
	const char *same[] = {
		"\"", "#", "a #b", "# x", ":", "a: b", "1:2:3:4:5:6:7:8", "2001:db8::1", "%", "%20",
		"@x", "`x`", "&anchor", "!tag", "|", ">", "[", "]", "{", "}", "{a: b}",
		",", "- item", "-", "---", "...", "~", "null", "Null", "yes", "no", "on", "off", "true",
		"0123", "0x1F", "1e3", ".inf", ".nan", "2024-05-01", "=", "<", "a b", " lead", "trail ",
		"  ", "", "ä", "日本", "xn--bcher-kva.example", "😀", "\xc2\xa0", "\xe2\x80\x8b",
	};
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		char want[64];
		snprintf(want, sizeof(want), "'%s'", same[i]);
		CHECK_STR(V(same[i]), want);
	}
	CHECK_STR(V("&alias*"), "'&alias\\*'");
	/* A title or reference is quoted, never Sigma-escaped. */
	CHECK_STR(string_of("IOC Proxy Request To http://a.example/x?y=*"),
		  "'IOC Proxy Request To http://a.example/x?y=*'");
	CHECK_STR(string_of("C:\\x 'q'"), "'C:\\x ''q'''");
}

static void test_refused(void)
{
	/* Every C0 control (tab, line feed and carriage return included), DEL and NUL. */
	for (int c = 0; c < 0x20; c++) {
		char s[3] = { 'a', (char)c, 'b' };
		CHECK_STR(value_of(s, 3), "(refused)");
	}
	CHECK_STR(value_of("a\x7f", 2), "(refused)");
	/* C1 controls, NEL among them, and the other YAML line breaks. */
	CHECK_STR(V("\xc2\x80"), "(refused)");
	CHECK_STR(V("a\xc2\x85" "b"), "(refused)");
	CHECK_STR(V("\xc2\x9f"), "(refused)");
	CHECK_STR(V("a\xe2\x80\xa8" "b"), "(refused)");	/* U+2028 */
	CHECK_STR(V("a\xe2\x80\xa9" "b"), "(refused)");	/* U+2029 */
	CHECK_STR(V("\xef\xbb\xbf" "a"), "(refused)");	/* U+FEFF */
	CHECK_STR(V("\xef\xbf\xbe"), "(refused)");		/* U+FFFE */
	CHECK_STR(V("\xef\xbf\xbf"), "(refused)");		/* U+FFFF */
	/* Not UTF-8: stray continuation, overlongs, surrogates, beyond U+10FFFF, truncation,
	 * bytes that never occur. */
	const char *bad[] = {
		"\x80", "a\xbf", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xf0\x80\x80\x80",
		"\xed\xa0\x80", "\xed\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xc3",
		"\xe6\x97", "\xf0\x9f\x98", "\xff", "\xfe", "\xc3(",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_STR(V(bad[i]), "(refused)");
		CHECK_STR(string_of(bad[i]), "(refused)");
		CHECK(!sigma_text_ok(bad[i], strlen(bad[i])));
	}
	/* Refusing appends nothing. */
	struct buf b = BUF_INIT;
	buf_puts(&b, "x");
	CHECK_INT(sigma_yaml_value(&b, "a\nb", 3), ERR_INVALID);
	CHECK_STR(buf_cstr(&b), "x");
	buf_cleanup(&b);
	/* The edges that are allowed. */
	CHECK(sigma_text_ok("\xc2\xa0", 2));			/* U+00A0 */
	CHECK(sigma_text_ok("\xed\x9f\xbf", 3));		/* U+D7FF */
	CHECK(sigma_text_ok("\xee\x80\x80", 3));		/* U+E000 */
	CHECK(sigma_text_ok("\xef\xbf\xbd", 3));		/* U+FFFD */
	CHECK(sigma_text_ok("\xf4\x8f\xbf\xbf", 4));		/* U+10FFFF */
	CHECK(sigma_text_ok(" ~", 2));
	uint32_t cp = 0;
	CHECK_INT(sigma_utf8_next("\xf0\x9f\x98\x80", 4, &cp), 4);
	CHECK_INT(cp, 0x1f600);
	CHECK_INT(sigma_utf8_next("\xe6\x97\xa5", 3, &cp), 3);
	CHECK_INT(cp, 0x65e5);
	CHECK_INT(sigma_utf8_next("\xe6\x97\xa5", 2, &cp), 0);	/* the length is respected */
	CHECK_INT(sigma_utf8_next("", 0, &cp), 0);
}

static void test_free_text(void)
{
	CHECK_STR(text_of("plain", 5), "'plain'");
	CHECK_STR(text_of("it's", 4), "'it''s'");
	CHECK_STR(text_of("a\tb\nc\r\nd", 8), "'a b c d'");
	CHECK_STR(text_of("  lead  and  trail \n", 20), "'lead and trail'");
	CHECK_STR(text_of("x\xc2\x85y\xe2\x80\xa8z", 8), "'x y z'");
	CHECK_STR(text_of("bad\xff" "byte", 8), "'bad\xef\xbf\xbd" "byte'");
	CHECK_STR(text_of("nul\0x", 5), "'nul x'");
	CHECK_STR(text_of("* and ? and \\ stay", 18), "'* and ? and \\ stay'");
	CHECK_STR(text_of("\n\t", 2), "''");
	CHECK_STR(text_of("日本 ä", strlen("日本 ä")), "'日本 ä'");
}

/* ---- ids and ATT&CK ---- */

static void test_ids(void)
{
	char id[UUID_STR_LEN + 1];
	/* RFC 4122 / Python's uuid5(NAMESPACE_DNS, "python.org"). */
	uuid_v5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org", 10, id);
	CHECK_STR(id, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
	/* cairn's Sigma namespace is uuid5(NAMESPACE_URL, "urn:cairn:sigma"). */
	uuid_v5("6ba7b811-9dad-11d1-80b4-00c04fd430c8", "urn:cairn:sigma", 15, id);
	CHECK_STR(id, SIGMA_ID_NAMESPACE);
	/* The vectors of the shared conformance folder (its demo namespace). */
	const char *demo = "034be2a9-502c-5225-8cde-87e14b7c4d66";
	uuid_v5(demo, "ipv4:192.0.2.1", 14, id);
	CHECK_STR(id, "0d7669ca-2918-59dd-8db7-917a03de309e");
	const char *h = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	uuid_v5(demo, h, strlen(h), id);
	CHECK_STR(id, "3386497c-6e97-5bf9-85de-a70f43541201");
}

static void test_attack(void)
{
	int c2 = attack_tactic("TA0011", 6), ex = attack_tactic("ta0002", 6);
	CHECK(c2 >= 0 && ex >= 0);
	CHECK_STR(attack_tactics[c2].shortname, "command-and-control");
	CHECK_STR(attack_tactics[ex].shortname, "execution");
	CHECK_INT(attack_tactic("TA9999", 6), -1);
	CHECK_INT(attack_technique("T1071", 5), 1u << c2);
	CHECK_INT(attack_technique("t1071.004", 9), 1u << c2);
	CHECK_INT(attack_technique("T1204.002", 9), 1u << ex);
	CHECK(attack_technique("T1078", 5) & (1u << attack_tactic("TA0001", 6)));
	CHECK_INT(attack_technique("T1086", 5), 0);	/* revoked */
	CHECK_INT(attack_technique("T9999", 5), 0);
	CHECK_INT(attack_technique("T1071.0", 7), 0);
	CHECK_INT(attack_technique("X1071", 5), 0);
	CHECK(attack_ntechniques > 600);
	for (size_t i = 1; i < attack_ntechniques; i++)
		CHECK(attack_techniques[i - 1].code < attack_techniques[i].code);
}

/* ---- export_sigma over a store ---- */

static char dir[64];

static int buf_sink(void *ctx, const char *p, size_t n)
{
	buf_append(ctx, p, n);
	return 0;
}

static int failing_sink(void *ctx, const char *p, size_t n)
{
	(void)ctx, (void)p, (void)n;
	return -1;
}

static void put(struct store *s, enum ioc_type t, const char *raw, int score, const char *tech)
{
	char v[IOC_VALUE_MAX + 1];
	size_t n;
	enum ioc_type got;
	struct err e;
	struct ioc_input in;
	memset(&in, 0, sizeof(in));
	if (ioc_canon(raw, strlen(raw), t, 0, &got, v, sizeof(v), &n, &e) != 0) {
		fprintf(stderr, "test data: %s: %s\n", raw, e.msg);
		exit(2);
	}
	in.type = t;
	in.value = v;
	in.score = score;
	in.feed = "unit-feed";
	in.category = "community";
	in.origin = "feed";
	in.first_seen = 1714521600LL * USEC_PER_SEC;	/* 2024-05-01: the rules' date */
	in.last_seen = 0;				/* now: not expired */
	in.tags[in.ntags++] = "c2";
	if (tech)
		in.techniques[in.ntechniques++] = tech;
	struct put_stats st;
	CHECK_INT(store_ioc_put_batch(s, &in, 1, &st, &e), 0);
}

static const char *export_text(struct store *s, enum ioc_type only, bool group, int64_t limit,
			       struct sigma_export_stats *st)
{
	static struct buf out;
	struct ioc_filter f;
	memset(&f, 0, sizeof(f));
	f.min_score = -1;
	f.now = time_now_us();
	f.types = only ? 1u << only : 0;
	f.limit = limit;
	struct sigma_export_opts o = { .profile = SIGMA_PROFILE_SYSMON, .group_by_type = group,
				       .base_url = "https://cairn.example" };
	struct export_sink sink = { buf_sink, &out };
	struct err e = { 0 };
	buf_reset(&out);
	CHECK_INT(export_sigma(s, &f, &o, &sink, st, &e), 0);
	return buf_cstr(&out);
}

static int count_of(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void test_export(void)
{
	char path[96];
	snprintf(path, sizeof(path), "%s/sigma.db", dir);
	struct store *s = NULL;
	struct err e = { 0 };
	if (store_open(&s, path, NULL, 0, &e) != 0) {
		fprintf(stderr, "store_open: %s\n", e.msg);
		check_failed++;
		return;
	}
	struct sigma_export_stats st;
	/* Nothing selected: nothing written, not even a separator. */
	CHECK_STR(export_text(s, 0, false, 0, &st), "");
	CHECK_INT(st.rules, 0);

	put(s, IOC_IPV4, "192.0.2.1", 85, "T1071.001");
	char rid[UUID_STR_LEN + 1];
	ioc_id(IOC_IPV4, "192.0.2.1", 9, rid);
	char want[2048];
	snprintf(want, sizeof(want),
		 "title: 'IOC Network Connection To IPv4 192.0.2.1'\n"
		 "id: 277dc727-5c00-563f-a5e9-cb94a0f76ee3\n"
		 "status: experimental\n"
		 "description: 'Detects a network connection to the IPv4 address 192.0.2.1, an indicator"
		 " of compromise listed by cairn. Feed: unit-feed. Confidence: high (score 85). Tags: c2.'\n"
		 "references:\n"
		 "    - 'https://cairn.example/api/v1/iocs/%s'\n"
		 "author: 'cairn'\n"
		 "date: 2024-05-01\n"
		 "tags:\n"
		 "    - attack.command-and-control\n"
		 "    - attack.t1071\n"
		 "    - attack.t1071.001\n"
		 "    - tlp.clear\n"
		 "logsource:\n"
		 "    category: network_connection\n"
		 "    product: windows\n"
		 "detection:\n"
		 "    selection:\n"
		 "        DestinationIp: '192.0.2.1'\n"
		 "    condition: selection\n"
		 "falsepositives:\n"
		 "    - 'Legitimate services on shared, reassigned or CDN addresses'\n"
		 "level: high\n", rid);
	char id[UUID_STR_LEN + 1];
	uuid_v5(SIGMA_ID_NAMESPACE, "ipv4:192.0.2.1", 14, id);
	CHECK_STR(id, "277dc727-5c00-563f-a5e9-cb94a0f76ee3");
	CHECK_STR(export_text(s, 0, false, 0, &st), want);
	CHECK_INT(st.rules, 1);

	/* Two rules: one separator line between them, none after. */
	put(s, IOC_SHA256, "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", 20, NULL);
	const char *two = export_text(s, 0, false, 0, &st);
	CHECK_INT(st.rules, 2);
	CHECK_INT(count_of(two, "\n---\n"), 1);
	CHECK(strncmp(two, "---", 3) != 0);
	CHECK(strstr(two, "---\n") != NULL && strcmp(two + strlen(two) - 4, "---\n") != 0);
	CHECK(strstr(two, "        Hashes|contains: 'SHA256=E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855'\n") != NULL);
	CHECK(strstr(two, "level: low\n") != NULL);
	CHECK(strstr(two, "    - attack.execution\n    - attack.t1204.002\n") != NULL);

	/* Left out and counted: a tactic, a SHA-512, an IPv6 range. */
	put(s, IOC_MITRE, "TA0011", 50, NULL);
	put(s, IOC_SHA512, "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e", 90, NULL);
	put(s, IOC_IPV6, "2001:db8::/32", 50, NULL);
	export_text(s, 0, false, 0, &st);
	CHECK_INT(st.rules, 2);
	CHECK_INT(st.skipped, 3);

	/* Long URLs that share their first 100 characters: titles shortened, still distinct,
	 * and each within 120 code points. */
	char u1[400], u2[400];
	char path_part[300];
	memset(path_part, 'p', 250);
	path_part[250] = '\0';
	snprintf(u1, sizeof(u1), "http://long.example/%s?a=1", path_part);
	snprintf(u2, sizeof(u2), "http://long.example/%s?a=2", path_part);
	put(s, IOC_URL, u1, 50, NULL);
	put(s, IOC_URL, u2, 50, NULL);
	const char *urls = export_text(s, IOC_URL, false, 0, &st);
	CHECK_INT(st.rules, 2);
	const char *t1 = strstr(urls, "title: '"), *t2 = t1 ? strstr(t1 + 1, "title: '") : NULL;
	CHECK(t1 && t2);
	if (t1 && t2) {
		size_t l1 = strcspn(t1 + 8, "'"), l2 = strcspn(t2 + 8, "'");
		CHECK(l1 <= 120 && l2 <= 120);
		CHECK(l1 != l2 || memcmp(t1, t2, l1 + 8) != 0);
		CHECK(memmem(t1, l1 + 8, "... [", 5) != NULL);
	}
	CHECK(strstr(urls, "c-uri|contains: '/pppp") != NULL);
	CHECK(strstr(urls, "?a=1'\n") != NULL && strstr(urls, "?a=2'\n") != NULL);
	/* Deterministic: the same store, the same bytes. */
	char *again = strdup(urls);
	CHECK_STR(export_text(s, IOC_URL, false, 0, &st), again);
	free(again);

	/* Grouped: one rule for both URLs, a list of host/path maps. */
	const char *g = export_text(s, IOC_URL, true, 0, &st);
	CHECK_INT(st.rules, 1);
	CHECK_INT(st.records, 2);
	CHECK_INT(count_of(g, "        - cs-host: 'long.example'\n"), 2);
	CHECK(strstr(g, "title: 'IOC Proxy Request To Listed URLs'\n") != NULL);
	/* Grouped, all types: one rule per type that has values, the limit respected. */
	const char *all = export_text(s, 0, true, 3, &st);
	CHECK_INT(st.records + st.skipped, 3);
	CHECK_INT(count_of(all, "title: "), (int)st.rules);
	CHECK_INT(count_of(all, "\n---\n"), (int)st.rules - 1);

	/* The record's lists are read back from their JSON: escapes, \\u sequences (a control
	 * character and a character beyond the BMP) and non-ASCII come out as they went in, and
	 * the control character is cleaned from the description. */
	{
		struct ioc_input in;
		struct put_stats pst;
		memset(&in, 0, sizeof(in));
		in.type = IOC_DOMAIN;
		in.value = "json.example";
		in.score = 50;
		in.feed = "feed \"one\" \\ 日本";
		in.origin = "feed";
		in.tags[in.ntags++] = "quote\"back\\slash";
		in.tags[in.ntags++] = "ctl\x01x😀";
		in.industries[in.nindustries++] = "energy";
		in.context = "line1\nline2\tend";
		CHECK_INT(store_ioc_put_batch(s, &in, 1, &pst, &e), 0);
		const char *d = export_text(s, IOC_DOMAIN, false, 0, &st);
		CHECK(strstr(d, "Feed: feed \"one\" \\ 日本. Confidence: medium (score 50). Industries: energy."
				" Tags: quote\"back\\slash, ctl x😀. Context: line1 line2 end'\n") != NULL);
	}

	/* A sink that refuses: ERR_IO, no crash. */
	struct ioc_filter f;
	memset(&f, 0, sizeof(f));
	f.min_score = -1;
	f.now = time_now_us();
	struct sigma_export_opts o = { .base_url = "https://cairn.example" };
	struct export_sink bad = { failing_sink, NULL };
	CHECK_INT(export_sigma(s, &f, &o, &bad, &st, &e), ERR_IO);
	o.group_by_type = true;
	CHECK_INT(export_sigma(s, &f, &o, &bad, &st, &e), ERR_IO);
	store_close(s);
	unlink(path);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/cairn-test-sigma-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	test_sigma_escaping();
	test_refused();
	test_free_text();
	test_ids();
	test_attack();
	test_export();
	char p[96];
	snprintf(p, sizeof(p), "%s/sigma.db-wal", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/sigma.db-shm", dir);
	unlink(p);
	rmdir(dir);
	return check_summary("test_sigma");
}
