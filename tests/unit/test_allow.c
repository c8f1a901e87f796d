/*
 * test_allow.c — the allow-list matchers (allow/allow.h): CIDR edges (/0, /32, /128, the
 * longest match, networks inside ranges), IPv4-mapped IPv6, domains and their subdomains
 * against look-alikes, URLs by their host (a name or an address), case and trailing dots,
 * internationalised names as punycode, substrings, regular expressions (MISP's PCRE form
 * translated), MISP warning lists as published (types, matching_attributes, leading dots),
 * plain lists with comments and prefixes, skipped entries, limits, and the built-in list.
 */
#include <stdlib.h>
#include <string.h>

#include "allow/allow.h"
#include "base/buf.h"
#include "check.h"

static struct allow_set *set_of(const char *name, const char *text)
{
	struct allow_set *s = allow_set_new();
	struct err e = { 0 };
	struct allow_list_info info;
	int rc = allow_set_add_list(s, name, 7, text, strlen(text), &info, &e);
	CHECK_INT(rc, 0);
	if (rc)
		fprintf(stderr, "  %s\n", e.msg);
	allow_set_freeze(s);
	return s;
}

/* The entry that matched, or "-" when none did. */
static const char *which(const struct allow_set *s, enum ioc_type t, const char *v)
{
	static struct allow_hit hit;
	if (!allow_match(s, t, v, strlen(v), &hit))
		return "-";
	return hit.entry;
}

static void test_cidr(void)
{
	struct allow_set *s = set_of("nets", "10.0.0.0/8\n10.1.0.0/16\n192.0.2.7\n2001:db8::/32\n"
					     "2001:db8:1::/48\n::1/128\n");
	CHECK_STR(which(s, IOC_IPV4, "10.200.3.4"), "10.0.0.0/8");
	CHECK_STR(which(s, IOC_IPV4, "10.1.2.3"), "10.1.0.0/16");	/* longest match */
	CHECK_STR(which(s, IOC_IPV4, "10.0.0.0"), "10.0.0.0/8");
	CHECK_STR(which(s, IOC_IPV4, "10.255.255.255"), "10.0.0.0/8");
	CHECK_STR(which(s, IOC_IPV4, "11.0.0.0"), "-");
	CHECK_STR(which(s, IOC_IPV4, "9.255.255.255"), "-");
	CHECK_STR(which(s, IOC_IPV4, "192.0.2.7"), "192.0.2.7");	/* a /32 */
	CHECK_STR(which(s, IOC_IPV4, "192.0.2.6"), "-");
	CHECK_STR(which(s, IOC_IPV4, "192.0.2.8"), "-");
	/* A network value is held when the whole of it is inside a range. */
	CHECK_STR(which(s, IOC_IPV4, "10.1.0.0/24"), "10.1.0.0/16");
	CHECK_STR(which(s, IOC_IPV4, "10.0.0.0/8"), "10.0.0.0/8");
	CHECK_STR(which(s, IOC_IPV4, "10.0.0.0/7"), "-");
	CHECK_STR(which(s, IOC_IPV4, "192.0.2.0/24"), "-");
	CHECK_STR(which(s, IOC_IPV6, "2001:db8::1"), "2001:db8::/32");
	CHECK_STR(which(s, IOC_IPV6, "2001:db8:1:2::5"), "2001:db8:1::/48");
	CHECK_STR(which(s, IOC_IPV6, "2001:db9::1"), "-");
	CHECK_STR(which(s, IOC_IPV6, "::1"), "::1");			/* a /128 */
	CHECK_STR(which(s, IOC_IPV6, "::2"), "-");
	/* IPv4-mapped IPv6 is looked up as the IPv4 address it carries. */
	CHECK_STR(which(s, IOC_IPV6, "::ffff:10.9.8.7"), "10.0.0.0/8");
	CHECK_STR(which(s, IOC_IPV6, "::ffff:11.9.8.7"), "-");
	allow_set_unref(s);

	/* /0 holds everything of its family, and only that family. */
	s = set_of("all4", "0.0.0.0/0\n");
	CHECK_STR(which(s, IOC_IPV4, "203.0.113.9"), "0.0.0.0/0");
	CHECK_STR(which(s, IOC_IPV4, "255.255.255.255"), "0.0.0.0/0");
	CHECK_STR(which(s, IOC_IPV6, "2001:db8::1"), "-");
	allow_set_unref(s);
	s = set_of("all6", "::/0\n");
	CHECK_STR(which(s, IOC_IPV6, "fe80::1"), "::/0");
	CHECK_STR(which(s, IOC_IPV4, "1.2.3.4"), "-");
	allow_set_unref(s);

	/* Inserting a shorter prefix after longer ones (the tree splits above them). */
	s = set_of("order", "10.1.2.0/24\n10.1.3.0/24\n10.1.0.0/16\n10.0.0.0/8\n10.1.2.128/25\n");
	CHECK_STR(which(s, IOC_IPV4, "10.1.2.200"), "10.1.2.128/25");
	CHECK_STR(which(s, IOC_IPV4, "10.1.2.100"), "10.1.2.0/24");
	CHECK_STR(which(s, IOC_IPV4, "10.1.3.1"), "10.1.3.0/24");
	CHECK_STR(which(s, IOC_IPV4, "10.1.4.1"), "10.1.0.0/16");
	CHECK_STR(which(s, IOC_IPV4, "10.2.0.1"), "10.0.0.0/8");
	allow_set_unref(s);
}

static void test_domains(void)
{
	struct allow_set *s = set_of("doms", "google.com\nExample.ORG.\n.duckdns.org\n*.corp.test\n"
					     "xn--bcher-kva.example\n");
	CHECK_STR(which(s, IOC_DOMAIN, "google.com"), "google.com");
	CHECK_STR(which(s, IOC_DOMAIN, "mail.google.com"), "google.com");
	CHECK_STR(which(s, IOC_DOMAIN, "a.b.c.google.com"), "google.com");
	CHECK_STR(which(s, IOC_DOMAIN, "evil-google.com"), "-");	/* a look-alike, not a subdomain */
	CHECK_STR(which(s, IOC_DOMAIN, "google.com.evil.net"), "-");
	CHECK_STR(which(s, IOC_DOMAIN, "oogle.com"), "-");
	CHECK_STR(which(s, IOC_DOMAIN, "com"), "-");
	CHECK_STR(which(s, IOC_DOMAIN, "MAIL.Google.COM"), "google.com");	/* case */
	CHECK_STR(which(s, IOC_DOMAIN, "www.google.com."), "google.com");	/* trailing dot */
	CHECK_STR(which(s, IOC_DOMAIN, "www.example.org"), "example.org");
	CHECK_STR(which(s, IOC_DOMAIN, "x.duckdns.org"), "duckdns.org");
	CHECK_STR(which(s, IOC_DOMAIN, "duckdns.org"), "duckdns.org");
	CHECK_STR(which(s, IOC_DOMAIN, "vpn.corp.test"), "corp.test");
	/* An internationalised name is listed and looked up as its A-label. */
	CHECK_STR(which(s, IOC_DOMAIN, "shop.xn--bcher-kva.example"), "xn--bcher-kva.example");
	/* URLs by their host. */
	CHECK_STR(which(s, IOC_URL, "https://docs.google.com/forms/x?y=1"), "google.com");
	CHECK_STR(which(s, IOC_URL, "http://user:pw@www.google.com:8080/"), "google.com");
	CHECK_STR(which(s, IOC_URL, "http://evil.example/google.com"), "-");	/* the path is not the host */
	CHECK_STR(which(s, IOC_URL, "http://evil-google.com/"), "-");
	/* Emails are not judged by their domain: a listed mail provider's senders stay. */
	CHECK_STR(which(s, IOC_EMAIL, "phisher@google.com"), "-");
	allow_set_unref(s);

	/* IDN entries written in Unicode become A-labels. */
	s = set_of("idn", "bücher.example\n");
	CHECK_STR(which(s, IOC_DOMAIN, "xn--bcher-kva.example"), "xn--bcher-kva.example");
	allow_set_unref(s);
}

static void test_urls_on_ips(void)
{
	struct allow_set *s = set_of("ips", "192.168.0.0/16\n2001:db8::/32\n");
	CHECK_STR(which(s, IOC_URL, "http://192.168.1.5/admin"), "192.168.0.0/16");
	CHECK_STR(which(s, IOC_URL, "http://192.168.1.5:8080"), "192.168.0.0/16");
	CHECK_STR(which(s, IOC_URL, "http://[2001:db8::5]:8443/x"), "2001:db8::/32");
	CHECK_STR(which(s, IOC_URL, "http://192.169.1.5/"), "-");
	CHECK_STR(which(s, IOC_URL, "http://192.168.1.5.evil.example/"), "-");
	allow_set_unref(s);
}

static void test_exact_substr_regex(void)
{
	struct allow_set *s = set_of("mixed", "# comments and blank lines are not entries\n\n"
					      "D41D8CD98F00B204E9800998ECF8427E   # the empty file's MD5\n"
					      "sub:googleusercontent\n"
					      "re:^https?://[a-z]+\\.sharepoint\\.com/\n"
					      "CVE-2021-44228\n");
	CHECK_STR(which(s, IOC_MD5, "d41d8cd98f00b204e9800998ecf8427e"), "d41d8cd98f00b204e9800998ecf8427e");
	CHECK_STR(which(s, IOC_MD5, "d41d8cd98f00b204e9800998ecf8427f"), "-");
	CHECK_STR(which(s, IOC_CVE, "CVE-2021-44228"), "cve-2021-44228");
	CHECK_STR(which(s, IOC_URL, "https://lh3.GoogleUserContent.com/abc"), "googleusercontent");
	CHECK_STR(which(s, IOC_DOMAIN, "x.googleusercontent.com"), "googleusercontent");
	CHECK_STR(which(s, IOC_URL, "https://contoso.sharepoint.com/sites/a"), "^https?://[a-z]+\\.sharepoint\\.com/");
	CHECK_STR(which(s, IOC_URL, "https://contoso.sharepoint.com.evil.example/"), "-");
	CHECK_STR(which(s, IOC_DOMAIN, "googleuser.com"), "-");
	struct allow_hit hit;
	CHECK(allow_match(s, IOC_MD5, "d41d8cd98f00b204e9800998ecf8427e", 32, &hit));
	CHECK_STR(hit.list, "mixed");
	CHECK_INT(hit.list_id, 7);
	CHECK_INT(hit.kind, ALLOW_EXACT);
	allow_set_unref(s);

	/* Many substrings: the automaton finds each, at any position, overlapping ones too. */
	struct buf b = BUF_INIT;
	for (int i = 0; i < 2000; i++)
		buf_printf(&b, "sub:tok%dx\n", i);
	buf_puts(&b, "sub:he\nsub:she\nsub:hers\n");
	s = set_of("subs", b.data);
	CHECK_STR(which(s, IOC_URL, "http://a.example/?q=tok1999x"), "tok1999x");
	CHECK_STR(which(s, IOC_URL, "http://a.example/?q=tok1999"), "-");
	CHECK_STR(which(s, IOC_DOMAIN, "ushers.example"), "she");
	CHECK_STR(which(s, IOC_DOMAIN, "xhx.example"), "-");
	allow_set_unref(s);
	buf_cleanup(&b);
}

static void test_misp(void)
{
	/* As published: leading dots, upper case, types that apply to some attributes only. */
	const char *hostname =
		"{\"description\": \"Event contains one or more entries of known dynamic DNS domains.\","
		" \"list\": [\".duckdns.org\", \"NO-IP.com\", \"8.8.8.8\"],"
		" \"matching_attributes\": [\"domain\", \"hostname\", \"domain|ip\"],"
		" \"name\": \"List of known dynamic DNS domains\", \"type\": \"hostname\", \"version\": 3}";
	struct allow_set *s = allow_set_new();
	struct allow_list_info info;
	struct err e = { 0 };
	CHECK_INT(allow_set_add_list(s, "ddns", 1, hostname, strlen(hostname), &info, &e), 0);
	allow_set_freeze(s);
	CHECK_STR(info.format, "misp");
	CHECK_STR(info.type, "hostname");
	CHECK_STR(info.name, "List of known dynamic DNS domains");
	CHECK_INT(info.version, 3);
	CHECK_INT(info.entries, 3);
	CHECK_INT(info.skipped, 0);
	CHECK_STR(which(s, IOC_DOMAIN, "home.duckdns.org"), "duckdns.org");
	CHECK_STR(which(s, IOC_DOMAIN, "x.no-ip.com"), "no-ip.com");
	CHECK_STR(which(s, IOC_IPV4, "8.8.8.8"), "8.8.8.8");	/* domain|ip names addresses too */
	/* matching_attributes without url: URLs on those hosts are not held */
	CHECK_STR(which(s, IOC_URL, "http://home.duckdns.org/x"), "-");
	allow_set_unref(s);

	const char *cidr = "{\"name\": \"RFC 1918\", \"type\": \"cidr\", \"version\": 1, \"description\": \"x\","
			   " \"matching_attributes\": [\"ip-src\", \"ip-dst\"],"
			   " \"list\": [\"10.0.0.0/8\", \"FE80::/10\", \"not-an-ip\", \"192.168.1.1/16\"]}";
	s = allow_set_new();
	CHECK_INT(allow_set_add_list(s, "rfc", 2, cidr, strlen(cidr), &info, &e), 0);
	allow_set_freeze(s);
	CHECK_INT(info.entries, 3);
	CHECK_INT(info.skipped, 1);	/* not-an-ip, with its reason */
	CHECK_INT(info.nskips, 1);
	CHECK_INT(info.skips[0].line, 3);
	CHECK(strstr(info.skips[0].reason, "not-an-ip") != NULL);
	CHECK_STR(which(s, IOC_IPV6, "fe80::1"), "fe80::/10");
	CHECK_STR(which(s, IOC_IPV4, "192.168.77.1"), "192.168.0.0/16");	/* host bits dropped */
	CHECK_STR(which(s, IOC_URL, "http://10.1.1.1/"), "-");	/* ip-src/ip-dst: not URLs */
	allow_set_unref(s);

	/* "string" lists: exact values; no matching_attributes: every type. */
	const char *str = "{\"name\": \"hashes\", \"type\": \"string\", \"list\": [\"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\", \".google.com\", \"google.de\"]}";
	s = allow_set_new();
	CHECK_INT(allow_set_add_list(s, "str", 3, str, strlen(str), &info, &e), 0);
	allow_set_freeze(s);
	CHECK_INT(info.types, ALLOW_ALL_TYPES);
	CHECK_STR(which(s, IOC_SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
		  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	CHECK_STR(which(s, IOC_DOMAIN, "mail.google.com"), "google.com");	/* ".google.com" */
	CHECK_STR(which(s, IOC_DOMAIN, "google.de"), "google.de");
	CHECK_STR(which(s, IOC_DOMAIN, "mail.google.de"), "-");			/* exact in a string list */
	allow_set_unref(s);

	/* regex lists as MISP writes them: delimiters, flags, PCRE groups and classes. */
	const char *rx = "{\"name\": \"mails\", \"type\": \"regex\", \"matching_attributes\": [\"email-src\"],"
			 " \"list\": [\"/^(security|noc|soc|abuse)\\\\@.*\\\\..*$/i\","
			 " \"/((?:\\\\+|00)1)?([0-9]{3})55501([0-9]{2})/g\", \"/(?=x)y/\"]}";
	s = allow_set_new();
	CHECK_INT(allow_set_add_list(s, "rx", 4, rx, strlen(rx), &info, &e), 0);
	allow_set_freeze(s);
	CHECK_INT(info.entries, 2);
	CHECK_INT(info.skipped, 1);	/* look-ahead has no POSIX form */
	CHECK(strcmp(which(s, IOC_EMAIL, "ABUSE@example.com"), "-") != 0);
	CHECK_STR(which(s, IOC_EMAIL, "attacker@example.com"), "-");
	CHECK_STR(which(s, IOC_URL, "http://example.com/abuse@x.y"), "-");	/* emails only */
	allow_set_unref(s);

	/* Unreadable lists fail whole. */
	s = allow_set_new();
	CHECK_INT(allow_set_add_list(s, "bad", 5, "{\"list\": 3}", 11, &info, &e), ERR_INVALID);
	CHECK_INT(allow_set_add_list(s, "bad", 5, "{\"list\": [", 10, &info, &e), ERR_INVALID);
	CHECK_INT(allow_set_add_list(s, "bad", 5, "{\"type\": \"glob\", \"list\": []}", 29, &info, &e), ERR_INVALID);
	allow_set_unref(s);
}

static void test_translate(void)
{
	char out[256];
	bool icase;
	struct err e = { 0 };
	CHECK_INT(allow_regex_translate("/a\\d+?b/i", 9, out, sizeof(out), &icase, &e), 0);
	CHECK_STR(out, "a[0-9]+b");
	CHECK(icase);
	CHECK_INT(allow_regex_translate("(?:x|y)[\\d\\.]", 14, out, sizeof(out), &icase, &e), 0);
	CHECK_STR(out, "(x|y)[0-9.]");
	CHECK(!icase);
	CHECK_INT(allow_regex_translate("a(?!b)", 6, out, sizeof(out), &icase, &e), ERR_INVALID);
	CHECK_INT(allow_regex_translate("\\x41", 4, out, sizeof(out), &icase, &e), ERR_INVALID);
	CHECK_INT(allow_regex_translate("/x/q", 4, out, sizeof(out), &icase, &e), ERR_INVALID);
	CHECK_INT(allow_regex_translate("abc", 3, out, 3, &icase, &e), ERR_TOO_LARGE);
}

static void test_limits_and_builtin(void)
{
	struct allow_set *s = allow_set_new();
	struct err e = { 0 };
	struct buf b = BUF_INIT;
	for (int i = 0; i < ALLOW_REGEX_MAX + 1; i++)
		buf_printf(&b, "re:^x%d$\n", i);
	struct allow_list_info info;
	CHECK_INT(allow_set_add_list(s, "many", 1, b.data, b.len, &info, &e), ERR_TOO_LARGE);
	allow_set_unref(s);
	/* An overlong regex is skipped, not fatal. */
	buf_reset(&b);
	buf_puts(&b, "re:");
	for (int i = 0; i < ALLOW_REGEX_LEN + 1; i++)
		buf_putc(&b, 'a');
	buf_puts(&b, "\nexample.com\n");
	s = allow_set_new();
	CHECK_INT(allow_set_add_list(s, "long", 1, b.data, b.len, &info, &e), 0);
	CHECK_INT(info.entries, 1);
	CHECK_INT(info.skipped, 1);
	allow_set_unref(s);
	buf_cleanup(&b);

	s = allow_set_new();
	CHECK_INT(allow_set_add_builtin(s, "builtin", 1, &info, &e), 0);
	allow_set_freeze(s);
	size_t n;
	allow_builtin(&n);
	CHECK_INT(info.entries, (int64_t)n);
	struct {
		enum ioc_type t;
		const char *v, *want;
	} cases[] = {
		{ IOC_IPV4, "10.1.2.3", "10.0.0.0/8" }, { IOC_IPV4, "172.31.255.255", "172.16.0.0/12" },
		{ IOC_IPV4, "172.32.0.1", "-" }, { IOC_IPV4, "192.168.0.1", "192.168.0.0/16" },
		{ IOC_IPV4, "100.64.0.1", "100.64.0.0/10" }, { IOC_IPV4, "100.128.0.1", "-" },
		{ IOC_IPV4, "127.0.0.1", "127.0.0.0/8" }, { IOC_IPV4, "169.254.1.1", "169.254.0.0/16" },
		{ IOC_IPV4, "224.0.0.251", "224.0.0.0/4" }, { IOC_IPV4, "192.0.2.55", "192.0.2.0/24" },
		{ IOC_IPV4, "198.51.100.7", "198.51.100.0/24" }, { IOC_IPV4, "203.0.113.10", "203.0.113.0/24" },
		{ IOC_IPV4, "0.0.0.0", "0.0.0.0/8" }, { IOC_IPV4, "255.255.255.255", "255.255.255.255" },
		{ IOC_IPV4, "8.8.8.8", "8.8.8.8" }, { IOC_IPV4, "8.8.8.9", "-" }, { IOC_IPV4, "1.1.1.1", "1.1.1.1" },
		{ IOC_IPV4, "9.9.9.9", "9.9.9.9" }, { IOC_IPV4, "149.112.112.112", "149.112.112.112" },
		{ IOC_IPV4, "208.67.222.222", "208.67.222.222" }, { IOC_IPV4, "45.33.32.156", "-" },
		{ IOC_IPV6, "2001:db8::dead:beef", "2001:db8::/32" }, { IOC_IPV6, "fe80::1", "fe80::/10" },
		{ IOC_IPV6, "fd12:3456::1", "fc00::/7" }, { IOC_IPV6, "ff02::1", "ff00::/8" },
		{ IOC_IPV6, "::1", "::1" }, { IOC_IPV6, "::", "::" },
		{ IOC_IPV6, "2001:4860:4860::8888", "2001:4860:4860::8888" },
		{ IOC_IPV6, "2606:4700:4700::1111", "2606:4700:4700::1111" },
		{ IOC_IPV6, "2a00:1450:4001::1", "-" }, { IOC_URL, "http://127.0.0.1:8080/x", "127.0.0.0/8" },
		{ IOC_DOMAIN, "example.com", "-" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = which(s, cases[i].t, cases[i].v);
		if (strcmp(got, cases[i].want))
			fprintf(stderr, "  builtin: %s\n", cases[i].v);
		CHECK_STR(got, cases[i].want);
	}
	allow_set_unref(s);
}

static void test_lists_and_refs(void)
{
	/* Two lists holding the same range: the one that applies to the type answers. */
	struct allow_set *s = allow_set_new();
	struct err e = { 0 };
	const char *a = "{\"name\":\"a\",\"type\":\"cidr\",\"matching_attributes\":[\"url\"],\"list\":[\"10.0.0.0/8\"]}";
	CHECK_INT(allow_set_add_list(s, "urls-only", 1, a, strlen(a), NULL, &e), 0);
	CHECK_INT(allow_set_add_list(s, "everything", 2, "10.0.0.0/8\n", 11, NULL, &e), 0);
	allow_set_freeze(s);
	struct allow_hit hit;
	CHECK(allow_match(s, IOC_IPV4, "10.1.1.1", 8, &hit));
	CHECK_STR(hit.list, "everything");
	CHECK(allow_match(s, IOC_URL, "http://10.1.1.1/", 16, &hit));
	CHECK(hit.list_id == 1 || hit.list_id == 2);
	CHECK_INT(allow_set_lists(s), 2);
	CHECK_INT(allow_set_entries(s), 2);
	allow_set_relabel(s, 2, 9);
	CHECK(allow_match(s, IOC_IPV4, "10.1.1.1", 8, &hit));
	CHECK_INT(hit.list_id, 9);
	struct allow_set *r = allow_set_ref(s);
	allow_set_unref(s);
	CHECK(allow_match(r, IOC_IPV4, "10.1.1.1", 8, NULL));	/* still alive through the reference */
	allow_set_unref(r);
	allow_set_unref(NULL);
	/* A set with nothing in it matches nothing. */
	s = allow_set_new();
	allow_set_freeze(s);
	CHECK(!allow_match(s, IOC_IPV4, "10.1.1.1", 8, &hit));
	CHECK(!allow_match(s, IOC_URL, "http://x.example/", 17, &hit));
	allow_set_unref(s);
}

int main(void)
{
	test_cidr();
	test_domains();
	test_urls_on_ips();
	test_exact_substr_regex();
	test_misp();
	test_translate();
	test_limits_and_builtin();
	test_lists_and_refs();
	return check_summary("test_allow");
}
