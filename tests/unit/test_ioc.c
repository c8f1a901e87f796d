/*
 * test_ioc.c — indicator canonicalisation, detection, refanging and ids.
 *
 * The bulk is one table: an input, the type asked for (IOC_NONE: detect),
 * the flags, and the expected type and canonical value, or NULL when the
 * input must be rejected. Every accepted value is also fed back in, forced
 * to its type, to check that the canonical form is a fixed point; every
 * rejection must come with a one-line, printable reason.
 */
#include "ioc/ioc.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"

#define NONE IOC_NONE
#define RF IOC_REFANG

/* Long labels and names, spelt out so the table stays literal. */
#define L10 "abcdefghij"
#define L60 L10 L10 L10 L10 L10 L10
#define L61 L60 "a"
#define L62 L60 "ab"
#define L63 L60 "abc"
#define L64 L60 "abcd"
#define NAME253 L63 "." L63 "." L63 "." L61
#define NAME254 L63 "." L63 "." L63 "." L62

#define MD5_L "d41d8cd98f00b204e9800998ecf8427e"
#define MD5_U "D41D8CD98F00B204E9800998ECF8427E"
#define SHA1_L "da39a3ee5e6b4b0d3255bfef95601890afd80709"
#define SHA256_L "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA256_U "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
#define SHA512_L                                                                                   \
	"cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f" \
	"63b931bd47417a81a538327af927da3e"

struct row {
	const char *in;
	size_t len;		/* 0: strlen(in); set only for inputs with a NUL byte */
	enum ioc_type want;
	unsigned flags;
	enum ioc_type type;	/* expected; ignored when value is NULL */
	const char *value;	/* expected canonical value, NULL: rejected */
};

static const struct row rows[] = {
	/* ipv4 */
	{ "1.2.3.4", 0, NONE, 0, IOC_IPV4, "1.2.3.4" },
	{ "0.0.0.0", 0, NONE, 0, IOC_IPV4, "0.0.0.0" },
	{ "255.255.255.255", 0, NONE, 0, IOC_IPV4, "255.255.255.255" },
	{ "256.1.1.1", 0, NONE, 0, NONE, NULL },
	{ "1.2.3.999", 0, NONE, 0, NONE, NULL },
	{ "010.1.1.1", 0, NONE, 0, NONE, NULL },	/* octal to inet_aton */
	{ "1.02.3.4", 0, NONE, 0, NONE, NULL },
	{ "1.2.3.04", 0, NONE, 0, NONE, NULL },
	{ "1.2.3.0000", 0, NONE, 0, NONE, NULL },
	{ "1.2.3.4.5", 0, NONE, 0, NONE, NULL },
	{ "1.2.3", 0, NONE, 0, NONE, NULL },
	{ "1..2.3", 0, NONE, 0, NONE, NULL },
	{ "1.2.3.", 0, NONE, 0, NONE, NULL },
	{ "1.2.3.4:8080", 0, NONE, 0, IOC_IPV4, "1.2.3.4" },
	{ "1.2.3.4:65536", 0, NONE, 0, NONE, NULL },
	{ "1.2.3.4:", 0, NONE, 0, NONE, NULL },
	{ "10.0.0.0/8", 0, NONE, 0, IOC_IPV4, "10.0.0.0/8" },
	{ "10.0.0.1/8", 0, NONE, 0, NONE, NULL },	/* host bits */
	{ "1.2.3.4/32", 0, NONE, 0, IOC_IPV4, "1.2.3.4" },
	{ "1.2.3.4/24", 0, NONE, 0, NONE, NULL },
	{ "1.2.3.0/24", 0, NONE, 0, IOC_IPV4, "1.2.3.0/24" },
	{ "0.0.0.0/0", 0, NONE, 0, IOC_IPV4, "0.0.0.0/0" },
	{ "1.2.3.4/33", 0, NONE, 0, NONE, NULL },
	{ "192.168.1.128/25", 0, NONE, 0, IOC_IPV4, "192.168.1.128/25" },
	{ "192.168.1.129/25", 0, NONE, 0, NONE, NULL },
	{ "1.0.0.0/08", 0, NONE, 0, IOC_IPV4, "1.0.0.0/8" },
	{ "1.2.3.4/", 0, NONE, 0, IOC_URL, "http://1.2.3.4/" },
	{ "1.2.3.4:80", 0, IOC_IPV4, 0, IOC_IPV4, "1.2.3.4" },
	{ "1.2.3.4:80/24", 0, IOC_IPV4, 0, NONE, NULL },
	{ "example.com", 0, IOC_IPV4, 0, NONE, NULL },
	{ "::1", 0, IOC_IPV4, 0, NONE, NULL },
	{ " 1.2.3.4 \n", 0, NONE, 0, IOC_IPV4, "1.2.3.4" },
	{ "1.2.3.4\xc2\xa0", 0, NONE, 0, IOC_IPV4, "1.2.3.4" },	/* NO-BREAK SPACE */
	{ "1.2.3[.]4", 0, NONE, RF, IOC_IPV4, "1.2.3.4" },
	{ "1[.]2[.]3[.]4", 0, IOC_IPV4, RF, IOC_IPV4, "1.2.3.4" },
	{ "1.2.3[.]4", 0, NONE, 0, NONE, NULL },	/* no IOC_REFANG */
	{ "1.2.3.-4", 0, NONE, 0, NONE, NULL },

	/* ipv6 */
	{ "::1", 0, NONE, 0, IOC_IPV6, "::1" },
	{ "::", 0, NONE, 0, IOC_IPV6, "::" },
	{ "2001:DB8::1", 0, NONE, 0, IOC_IPV6, "2001:db8::1" },
	{ "2001:0db8:0000:0000:0000:0000:0000:0001", 0, NONE, 0, IOC_IPV6, "2001:db8::1" },
	{ "2001:db8:0:0:1:0:0:1", 0, NONE, 0, IOC_IPV6, "2001:db8::1:0:0:1" },
	{ "2001:db8:0:1:1:1:1:1", 0, NONE, 0, IOC_IPV6, "2001:db8:0:1:1:1:1:1" },
	{ "::FFFF:1.2.3.4", 0, NONE, 0, IOC_IPV6, "::ffff:1.2.3.4" },	/* stays ipv6 */
	{ "::ffff:0102:0304", 0, NONE, 0, IOC_IPV6, "::ffff:1.2.3.4" },
	{ "::ffff:1.2.3.04", 0, NONE, 0, NONE, NULL },
	{ "[::1]", 0, NONE, 0, IOC_IPV6, "::1" },
	{ "[2001:db8::1]:443", 0, NONE, 0, IOC_IPV6, "2001:db8::1" },
	{ "[::1", 0, NONE, 0, NONE, NULL },
	{ "[::1]/64", 0, NONE, 0, NONE, NULL },
	{ "[::1]:99999", 0, NONE, 0, NONE, NULL },
	{ "2001:db8::/32", 0, NONE, 0, IOC_IPV6, "2001:db8::/32" },
	{ "2001:DB8:0::/48", 0, NONE, 0, IOC_IPV6, "2001:db8::/48" },
	{ "2001:db8::1/32", 0, NONE, 0, NONE, NULL },	/* host bits */
	{ "2001:db8::1/128", 0, NONE, 0, IOC_IPV6, "2001:db8::1" },
	{ "::/0", 0, NONE, 0, IOC_IPV6, "::/0" },
	{ "2001:db8::/129", 0, NONE, 0, NONE, NULL },
	{ "fe80::1%eth0", 0, NONE, 0, NONE, NULL },	/* zone id */
	{ "[fe80::1%25eth0]", 0, NONE, 0, NONE, NULL },
	{ "fe80::1%eth0", 0, IOC_IPV6, 0, NONE, NULL },
	{ "1:2:3:4:5:6:7:8:9", 0, NONE, 0, NONE, NULL },
	{ "2001:db8:::1", 0, NONE, 0, NONE, NULL },
	{ "12345::1", 0, NONE, 0, NONE, NULL },
	{ "2001:db8::1:", 0, NONE, 0, NONE, NULL },
	{ "1.2.3.4", 0, IOC_IPV6, 0, NONE, NULL },
	{ "::ffff:1.2.3.4", 0, IOC_IPV6, 0, IOC_IPV6, "::ffff:1.2.3.4" },

	/* domain */
	{ "example.com", 0, NONE, 0, IOC_DOMAIN, "example.com" },
	{ "EXAMPLE.COM", 0, NONE, 0, IOC_DOMAIN, "example.com" },
	{ "Example.Com.", 0, NONE, 0, IOC_DOMAIN, "example.com" },	/* one trailing dot */
	{ "example.com..", 0, NONE, 0, NONE, NULL },
	{ ".example.com", 0, NONE, 0, NONE, NULL },
	{ "a..b.com", 0, NONE, 0, NONE, NULL },
	{ "bücher.example", 0, NONE, 0, IOC_DOMAIN, "xn--bcher-kva.example" },
	{ "BÜCHER.Example", 0, NONE, 0, IOC_DOMAIN, "xn--bcher-kva.example" },
	{ "bücher.example.", 0, NONE, 0, IOC_DOMAIN, "xn--bcher-kva.example" },
	{ "münchen.de", 0, NONE, 0, IOC_DOMAIN, "xn--mnchen-3ya.de" },
	{ "пример.рф", 0, NONE, 0, IOC_DOMAIN, "xn--e1afmkfd.xn--p1ai" },	/* Cyrillic */
	{ "😀.example", 0, NONE, 0, IOC_DOMAIN, "xn--e28h.example" },	/* emoji: transitional */
	{ "faß.de", 0, NONE, 0, IOC_DOMAIN, "xn--fa-hia.de" },	/* non-transitional: ß kept */
	{ "例え.jp", 0, NONE, 0, IOC_DOMAIN, "xn--r8jz45g.jp" },
	{ "ＥＸＡＭＰＬＥ.com", 0, NONE, 0, IOC_DOMAIN, "example.com" },	/* full width */
	{ "xn--bcher-kva.example", 0, NONE, 0, IOC_DOMAIN, "xn--bcher-kva.example" },
	{ "münchen.DE.", 0, IOC_DOMAIN, 0, IOC_DOMAIN, "xn--mnchen-3ya.de" },
	{ "ü..de", 0, NONE, 0, NONE, NULL },
	{ "-ü.de", 0, NONE, 0, NONE, NULL },
	{ "b\xff" "cher.de", 0, NONE, 0, NONE, NULL },	/* invalid UTF-8 */
	{ "_dmarc.example.com", 0, NONE, 0, IOC_DOMAIN, "_dmarc.example.com" },
	{ "a-b.example.com", 0, NONE, 0, IOC_DOMAIN, "a-b.example.com" },
	{ "a_b.example", 0, NONE, 0, IOC_DOMAIN, "a_b.example" },
	{ "-ab.example.com", 0, NONE, 0, NONE, NULL },
	{ "ab-.example.com", 0, NONE, 0, NONE, NULL },
	{ "localhost", 0, NONE, 0, NONE, NULL },	/* a single label */
	{ "localhost", 0, IOC_DOMAIN, 0, NONE, NULL },
	{ "example.123", 0, NONE, 0, NONE, NULL },	/* numeric TLD */
	{ "1.2.3.com", 0, NONE, 0, IOC_DOMAIN, "1.2.3.com" },
	{ "example.c0m", 0, NONE, 0, IOC_DOMAIN, "example.c0m" },
	{ "*.example.com", 0, NONE, 0, NONE, NULL },
	{ "*.example.com", 0, IOC_DOMAIN, 0, NONE, NULL },
	{ "exa mple.com", 0, NONE, 0, NONE, NULL },
	{ "ex%41mple.com", 0, NONE, 0, NONE, NULL },
	{ "example.com:80", 0, NONE, 0, NONE, NULL },
	{ L63 ".com", 0, NONE, 0, IOC_DOMAIN, L63 ".com" },
	{ L64 ".com", 0, NONE, 0, NONE, NULL },	/* label of 64 */
	{ NAME253, 0, NONE, 0, IOC_DOMAIN, NAME253 },
	{ NAME253 ".", 0, NONE, 0, IOC_DOMAIN, NAME253 },
	{ NAME254, 0, NONE, 0, NONE, NULL },	/* name of 254 */
	{ "http://example.com", 0, IOC_DOMAIN, 0, NONE, NULL },
	{ "example.com/", 0, IOC_DOMAIN, 0, NONE, NULL },
	{ "evil[.]com", 0, IOC_DOMAIN, RF, IOC_DOMAIN, "evil.com" },
	{ "evil(dot)com", 0, NONE, RF, IOC_DOMAIN, "evil.com" },
	{ "evil\\.com", 0, NONE, RF, IOC_DOMAIN, "evil.com" },
	{ "evil dot com", 0, NONE, RF, IOC_DOMAIN, "evil.com" },

	/* url */
	{ "http://example.com", 0, NONE, 0, IOC_URL, "http://example.com" },
	{ "http://example.com/", 0, NONE, 0, IOC_URL, "http://example.com/" },
	{ "HTTP://EXAMPLE.COM/Path", 0, NONE, 0, IOC_URL, "http://example.com/Path" },
	{ "https://example.com:443/a", 0, NONE, 0, IOC_URL, "https://example.com/a" },
	{ "https://example.com:8443/a", 0, NONE, 0, IOC_URL, "https://example.com:8443/a" },
	{ "http://example.com:80/", 0, NONE, 0, IOC_URL, "http://example.com/" },
	{ "http://example.com:443/", 0, NONE, 0, IOC_URL, "http://example.com:443/" },
	{ "ftp://Files.Example.com:21/pub", 0, NONE, 0, IOC_URL, "ftp://files.example.com/pub" },
	{ "http://example.com:0080/", 0, NONE, 0, IOC_URL, "http://example.com/" },
	{ "http://example.com:/", 0, NONE, 0, IOC_URL, "http://example.com/" },
	{ "http://example.com:99999/", 0, NONE, 0, NONE, NULL },
	{ "http://example.com:8o/", 0, NONE, 0, NONE, NULL },
	{ "http://user:pass@example.com/", 0, NONE, 0, IOC_URL, "http://user:pass@example.com/" },
	{ "http://User:Pa%40ss@EXAMPLE.com:8080/", 0, NONE, 0, IOC_URL,
	  "http://User:Pa%40ss@example.com:8080/" },
	{ "HTTPS://a@b@evil.com/", 0, NONE, 0, IOC_URL, "https://a@b@evil.com/" },
	{ "https://@evil.com/", 0, NONE, 0, IOC_URL, "https://@evil.com/" },	/* empty userinfo kept */
	{ "http://[::1]:/x", 0, NONE, 0, IOC_URL, "http://[::1]/x" },	/* empty port */
	{ "http://example.com/a?b=C&d=E#Frag", 0, NONE, 0, IOC_URL, "http://example.com/a?b=C&d=E#Frag" },
	{ "http://example.com#Frag", 0, NONE, 0, IOC_URL, "http://example.com#Frag" },
	{ "http://example.com?Q=1", 0, NONE, 0, IOC_URL, "http://example.com?Q=1" },
	{ "http://example.com/%41%42", 0, NONE, 0, IOC_URL, "http://example.com/%41%42" },
	{ "http://bücher.example/straße", 0, NONE, 0, IOC_URL, "http://xn--bcher-kva.example/straße" },
	{ "http://[2001:DB8::1]:8080/x", 0, NONE, 0, IOC_URL, "http://[2001:db8::1]:8080/x" },
	{ "http://[::FFFF:1.2.3.4]/", 0, NONE, 0, IOC_URL, "http://[::ffff:1.2.3.4]/" },
	{ "https://[2001:db8::1]:443/", 0, NONE, 0, IOC_URL, "https://[2001:db8::1]/" },
	{ "http://[::1", 0, NONE, 0, NONE, NULL },
	{ "http://::1/", 0, NONE, 0, NONE, NULL },
	{ "http://[fe80::1%25eth0]/", 0, NONE, 0, NONE, NULL },
	{ "http://1.2.3.4:8080/x", 0, NONE, 0, IOC_URL, "http://1.2.3.4:8080/x" },
	{ "http://1.2.3.4:80/", 0, NONE, 0, IOC_URL, "http://1.2.3.4/" },
	{ "http://010.1.1.1/", 0, NONE, 0, NONE, NULL },
	{ "http://evil.com./x", 0, NONE, 0, IOC_URL, "http://evil.com/x" },
	{ "http://localhost/", 0, NONE, 0, NONE, NULL },
	{ "http://*.evil.com/", 0, NONE, 0, NONE, NULL },
	{ "http://example.com/a b", 0, NONE, 0, NONE, NULL },
	{ "http://example.com/a\tb", 0, NONE, 0, NONE, NULL },
	{ "http://example.com/\xc2\xa0x", 0, NONE, 0, NONE, NULL },	/* NBSP in the path */
	{ "http://example.com/\xe2\x80\xaex", 0, NONE, 0, NONE, NULL },	/* RIGHT-TO-LEFT OVERRIDE */
	{ "http://example.com/\xff", 0, NONE, 0, NONE, NULL },
	{ "http:///path", 0, NONE, 0, NONE, NULL },
	{ "http://exa mple.com/", 0, NONE, 0, NONE, NULL },
	{ "1http://example.com/", 0, NONE, 0, NONE, NULL },
	{ "h_ttp://example.com/", 0, NONE, 0, NONE, NULL },
	{ "svn+ssh://Example.com/repo", 0, NONE, 0, IOC_URL, "svn+ssh://example.com/repo" },
	{ "example.com/path", 0, NONE, 0, IOC_URL, "http://example.com/path" },
	{ "example.com/path", 0, IOC_URL, 0, IOC_URL, "http://example.com/path" },
	{ "example.com", 0, IOC_URL, 0, IOC_URL, "http://example.com" },
	{ "example.com:80", 0, IOC_URL, 0, IOC_URL, "http://example.com" },
	{ "Example.com?q=1", 0, NONE, 0, IOC_URL, "http://example.com?q=1" },
	{ "1.2.3.4/evil.exe", 0, NONE, 0, IOC_URL, "http://1.2.3.4/evil.exe" },
	{ "evil.com:8080/x", 0, NONE, 0, IOC_URL, "http://evil.com:8080/x" },
	{ "evil.com/a@b", 0, NONE, 0, IOC_URL, "http://evil.com/a@b" },
	{ "evil.com/r?u=http://x.y/", 0, NONE, 0, IOC_URL, "http://evil.com/r?u=http://x.y/" },
	{ "localhost/x", 0, NONE, 0, NONE, NULL },
	{ "localhost/x", 0, IOC_URL, 0, NONE, NULL },
	{ "mailto:x@example.com", 0, IOC_URL, 0, NONE, NULL },
	{ "hxxps[:]//evil[.]com/a", 0, NONE, RF, IOC_URL, "https://evil.com/a" },
	{ "hXXp://evil[.]com", 0, NONE, RF, IOC_URL, "http://evil.com" },
	{ "HXXPS[://]evil(.)com/x", 0, NONE, RF, IOC_URL, "https://evil.com/x" },
	{ "hxxp://1.2.3[.]4:8080/x", 0, IOC_URL, RF, IOC_URL, "http://1.2.3.4:8080/x" },
	{ "hxxps[:]//evil[.]com/a", 0, NONE, 0, NONE, NULL },	/* no IOC_REFANG */

	/* hashes */
	{ MD5_L, 0, NONE, 0, IOC_MD5, MD5_L },
	{ MD5_U, 0, NONE, 0, IOC_MD5, MD5_L },
	{ SHA1_L, 0, NONE, 0, IOC_SHA1, SHA1_L },
	{ SHA256_L, 0, NONE, 0, IOC_SHA256, SHA256_L },
	{ SHA256_U, 0, NONE, 0, IOC_SHA256, SHA256_L },
	{ SHA512_L, 0, NONE, 0, IOC_SHA512, SHA512_L },
	{ "  " MD5_U "\t", 0, NONE, 0, IOC_MD5, MD5_L },
	{ MD5_U, 0, IOC_MD5, 0, IOC_MD5, MD5_L },
	{ SHA256_U, 0, IOC_SHA256, 0, IOC_SHA256, SHA256_L },
	{ "d41d8cd98f00b204e9800998ecf8427", 0, NONE, 0, NONE, NULL },	/* 31 */
	{ "d41d8cd98f00b204e9800998ecf8427", 0, IOC_MD5, 0, NONE, NULL },
	{ MD5_L "0", 0, NONE, 0, NONE, NULL },	/* 33 */
	{ MD5_L, 0, IOC_SHA1, 0, NONE, NULL },
	{ SHA1_L, 0, IOC_SHA512, 0, NONE, NULL },
	{ "g41d8cd98f00b204e9800998ecf8427e", 0, IOC_MD5, 0, NONE, NULL },
	{ "0x" MD5_L, 0, NONE, 0, NONE, NULL },
	{ "d41d8cd98f00b204 e9800998ecf8427e", 0, NONE, 0, NONE, NULL },

	/* email */
	{ "user@example.com", 0, NONE, 0, IOC_EMAIL, "user@example.com" },
	{ "User.Name+tag@EXAMPLE.COM", 0, NONE, 0, IOC_EMAIL, "User.Name+tag@example.com" },
	{ "user@bücher.example", 0, NONE, 0, IOC_EMAIL, "user@xn--bcher-kva.example" },
	{ "user@evil.com.", 0, NONE, 0, IOC_EMAIL, "user@evil.com" },
	{ "first!#$%&'*+/=?^_`{|}~-last@example.com", 0, IOC_EMAIL, 0, IOC_EMAIL,
	  "first!#$%&'*+/=?^_`{|}~-last@example.com" },
	{ L64 "@example.com", 0, NONE, 0, IOC_EMAIL, L64 "@example.com" },
	{ L64 "x@example.com", 0, NONE, 0, NONE, NULL },	/* local part of 65 */
	{ ".user@example.com", 0, NONE, 0, NONE, NULL },
	{ "user.@example.com", 0, NONE, 0, NONE, NULL },
	{ "us..er@example.com", 0, NONE, 0, NONE, NULL },
	{ "@example.com", 0, NONE, 0, NONE, NULL },
	{ "user@", 0, NONE, 0, NONE, NULL },
	{ "user@localhost", 0, NONE, 0, NONE, NULL },
	{ "user@[1.2.3.4]", 0, NONE, 0, NONE, NULL },
	{ "a\"b@example.com", 0, NONE, 0, NONE, NULL },
	{ "us er@example.com", 0, NONE, 0, NONE, NULL },
	{ "mailto:x@example.com", 0, NONE, 0, NONE, NULL },
	{ "example.com", 0, IOC_EMAIL, 0, NONE, NULL },
	{ "user[at]evil[dot]com", 0, NONE, RF, IOC_EMAIL, "user@evil.com" },
	{ "user(at)evil{.}com", 0, NONE, RF, IOC_EMAIL, "user@evil.com" },
	{ "user[@]Evil[.]com", 0, IOC_EMAIL, RF, IOC_EMAIL, "user@evil.com" },

	/* cve */
	{ "CVE-2021-44228", 0, NONE, 0, IOC_CVE, "CVE-2021-44228" },
	{ "cve-2021-44228", 0, NONE, 0, IOC_CVE, "CVE-2021-44228" },
	{ "Cve-2014-0160", 0, NONE, 0, IOC_CVE, "CVE-2014-0160" },
	{ "CVE-1999-0001", 0, NONE, 0, IOC_CVE, "CVE-1999-0001" },
	{ "CVE-2100-1234", 0, NONE, 0, IOC_CVE, "CVE-2100-1234" },
	{ "CVE-2021-1234567890123456789", 0, NONE, 0, IOC_CVE, "CVE-2021-1234567890123456789" },
	{ "CVE-1998-0001", 0, NONE, 0, NONE, NULL },
	{ "CVE-2101-1234", 0, NONE, 0, NONE, NULL },
	{ "CVE-2021-123", 0, NONE, 0, NONE, NULL },
	{ "CVE-2021-01234", 0, NONE, 0, NONE, NULL },	/* padding past 4 digits */
	{ "CVE-2021-12345678901234567890", 0, NONE, 0, NONE, NULL },	/* 20 digits */
	{ "CVE-21-1234", 0, NONE, 0, NONE, NULL },
	{ "CVE-2021-44228x", 0, NONE, 0, NONE, NULL },
	{ "CVE_2021_44228", 0, IOC_CVE, 0, NONE, NULL },
	{ "cve-2021-44228", 0, IOC_CVE, 0, IOC_CVE, "CVE-2021-44228" },
	{ "T1059", 0, IOC_CVE, 0, NONE, NULL },

	/* mitre-attack */
	{ "T1059", 0, NONE, 0, IOC_MITRE, "T1059" },
	{ "t1059.001", 0, NONE, 0, IOC_MITRE, "T1059.001" },
	{ "TA0001", 0, NONE, 0, IOC_MITRE, "TA0001" },
	{ "ta0043", 0, NONE, 0, IOC_MITRE, "TA0043" },
	{ "T105", 0, NONE, 0, NONE, NULL },
	{ "T10590", 0, NONE, 0, NONE, NULL },
	{ "T1059.01", 0, NONE, 0, NONE, NULL },
	{ "T1059.0001", 0, NONE, 0, NONE, NULL },
	{ "TA0001.001", 0, NONE, 0, NONE, NULL },
	{ "TA001", 0, NONE, 0, NONE, NULL },
	{ "t1566.002", 0, IOC_MITRE, 0, IOC_MITRE, "T1566.002" },
	{ "S0001", 0, IOC_MITRE, 0, NONE, NULL },
	{ "CVE-2021-44228", 0, IOC_MITRE, 0, NONE, NULL },

	/* everything else */
	{ "", 0, NONE, 0, NONE, NULL },
	{ "   \t\r\n", 0, NONE, 0, NONE, NULL },
	{ "", 0, IOC_DOMAIN, 0, NONE, NULL },
	{ "hello", 0, NONE, 0, NONE, NULL },
	{ "deadbeefdeadbeefdead", 0, NONE, 0, NONE, NULL },
	{ "\t example.com \r\n", 0, NONE, 0, IOC_DOMAIN, "example.com" },
	{ "\xef\xbb\xbf" "example.com", 0, NONE, 0, IOC_DOMAIN, "example.com" },	/* BOM */
	{ "\xe2\x80\x8b" "example.com\xe3\x80\x80", 0, NONE, 0, IOC_DOMAIN, "example.com" },
	{ "1.2.3.4\0", 8, NONE, 0, NONE, NULL },	/* NUL inside */
	{ "1.2.3.4\0", 8, IOC_IPV4, 0, NONE, NULL },
	{ "evil\0.com", 9, NONE, 0, NONE, NULL },
	{ "evil\0.com", 9, NONE, RF, NONE, NULL },
	{ "\0", 1, NONE, 0, NONE, NULL },
	{ "1.2.3.4", 3, NONE, 0, NONE, NULL },	/* reads only len bytes: "1.2" */
	{ "example.community", 11, NONE, 0, IOC_DOMAIN, "example.com" },
};

/* A rejection must explain itself on one printable line. */
static void check_reason(const struct err *e, const char *in)
{
	size_t n = strlen(e->msg);
	bool clean = n > 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)e->msg[i];
		if (c < 0x20 || c == 0x7f)
			clean = false;
	}
	if (!clean)
		fprintf(stderr, "bad reason for \"%s\": \"%s\"\n", in, e->msg);
	CHECK(clean);
}

static void run_rows(void)
{
	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
		const struct row *r = &rows[k];
		size_t len = r->len ? r->len : strlen(r->in);
		char out[IOC_VALUE_MAX + 1];
		size_t n = 99;
		enum ioc_type t = IOC_SHA1;
		struct err e;

		err_clear(&e);
		int rc = ioc_canon(r->in, len, r->want, r->flags, &t, out, sizeof(out), &n, &e);
		if (r->value == NULL) {
			if (rc == 0)
				fprintf(stderr, "row %zu \"%s\": accepted as %s \"%s\"\n", k, r->in,
					ioc_type_name(t), out);
			CHECK_INT(rc, ERR_INVALID);
			CHECK_INT(t, IOC_NONE);
			check_reason(&e, r->in);
			continue;
		}
		if (rc != 0)
			fprintf(stderr, "row %zu \"%s\": %s\n", k, r->in, e.msg);
		CHECK_INT(rc, 0);
		CHECK_STR(ioc_type_name(t), ioc_type_name(r->type));
		CHECK_STR(out, r->value);
		CHECK_INT(n, strlen(r->value));
		if (rc != 0)
			continue;

		/* The canonical form is a fixed point. */
		char again[IOC_VALUE_MAX + 1];
		enum ioc_type t2;
		size_t n2;
		rc = ioc_canon(out, n, t, 0, &t2, again, sizeof(again), &n2, &e);
		CHECK_INT(rc, 0);
		CHECK_STR(again, out);
		CHECK_INT(t2, t);
	}
}

static void check_one(const char *in, enum ioc_type want, unsigned flags, int want_rc,
		      const char *want_msg_prefix)
{
	char out[IOC_VALUE_MAX + 1];
	size_t n;
	enum ioc_type t;
	struct err e;

	err_clear(&e);
	int rc = ioc_canon(in, strlen(in), want, flags, &t, out, sizeof(out), &n, &e);
	CHECK_INT(rc, want_rc);
	if (want_msg_prefix != NULL) {
		if (strncmp(e.msg, want_msg_prefix, strlen(want_msg_prefix)) != 0)
			fprintf(stderr, "message \"%s\" does not start with \"%s\"\n", e.msg,
				want_msg_prefix);
		CHECK(strncmp(e.msg, want_msg_prefix, strlen(want_msg_prefix)) == 0);
	}
}

static void test_messages(void)
{
	check_one("10.0.0.1/8", IOC_NONE, 0, ERR_INVALID, "host bits set in 10.0.0.1/8");
	check_one("2001:db8::1/32", IOC_NONE, 0, ERR_INVALID, "host bits set in 2001:db8::1/32");
	check_one("d41d8cd98f00b204e9800998ecf8427", IOC_MD5, 0, ERR_INVALID,
		  "not a valid md5: 31 hex characters, expected 32");
	check_one("hello", IOC_NONE, 0, ERR_INVALID, "cannot tell the type of 'hello'");
	check_one("010.1.1.1", IOC_NONE, 0, ERR_INVALID, "not a valid ipv4 '010.1.1.1': octet with a leading zero");
	check_one("fe80::1%eth0", IOC_NONE, 0, ERR_INVALID, "not a valid ipv6 'fe80::1%eth0': zone ids");
	check_one("", IOC_NONE, 0, ERR_INVALID, "empty value");
	check_one("x", (enum ioc_type)99, 0, ERR_INVALID, "unknown indicator type");

	/* Echoed input: cut to a short prefix, controls made visible, still one line. */
	char junk[400];
	memset(junk, 'q', sizeof(junk) - 1);
	junk[sizeof(junk) - 1] = '\0';
	junk[3] = '\n';
	junk[5] = '\x1b';
	struct err e;
	char out[IOC_VALUE_MAX + 1];
	size_t n;
	enum ioc_type t;
	err_clear(&e);
	CHECK_INT(ioc_canon(junk, strlen(junk), IOC_NONE, 0, &t, out, sizeof(out), &n, &e), ERR_INVALID);
	CHECK(strchr(e.msg, '\n') == NULL);
	CHECK(strchr(e.msg, '\x1b') == NULL);
	CHECK(strlen(e.msg) < 140);
	CHECK(strstr(e.msg, "...") != NULL);

	/* A multi-byte character is not cut in the middle. */
	char wide[200] = "";
	for (int i = 0; i < 40; i++)
		strcat(wide, "\xc3\xbc");	/* ü, two bytes */
	strcat(wide, "..x");
	err_clear(&e);
	CHECK_INT(ioc_canon(wide, strlen(wide), IOC_NONE, 0, &t, out, sizeof(out), &n, &e), ERR_INVALID);
	const char *q = strstr(e.msg, "...");
	CHECK(q != NULL && q > e.msg && (unsigned char)q[-1] == 0xbc);
}

static void test_limits(void)
{
	static char big[4 * IOC_VALUE_MAX + 64];
	char out[IOC_VALUE_MAX + 1];
	size_t n;
	enum ioc_type t;
	struct err e;
	const char *prefix = "http://example.com/";
	size_t pl = strlen(prefix);

	/* A URL of exactly IOC_VALUE_MAX bytes fits. */
	memcpy(big, prefix, pl);
	memset(big + pl, 'a', IOC_VALUE_MAX - pl);
	err_clear(&e);
	CHECK_INT(ioc_canon(big, IOC_VALUE_MAX, IOC_NONE, 0, &t, out, sizeof(out), &n, &e), 0);
	CHECK_INT(n, IOC_VALUE_MAX);
	CHECK_INT(t, IOC_URL);
	CHECK_INT(strlen(out), IOC_VALUE_MAX);

	/* One more byte does not. */
	memset(big + pl, 'a', IOC_VALUE_MAX + 1 - pl);
	err_clear(&e);
	CHECK_INT(ioc_canon(big, IOC_VALUE_MAX + 1, IOC_NONE, 0, &t, out, sizeof(out), &n, &e),
		  ERR_TOO_LARGE);
	CHECK_INT(t, IOC_NONE);

	/* White space around a maximal value is not counted. */
	memmove(big + 2, big, IOC_VALUE_MAX);
	big[0] = ' ';
	big[1] = '\t';
	big[IOC_VALUE_MAX + 2] = '\n';
	err_clear(&e);
	CHECK_INT(ioc_canon(big, IOC_VALUE_MAX + 3, IOC_URL, 0, &t, out, sizeof(out), &n, &e), 0);
	CHECK_INT(n, IOC_VALUE_MAX);

	/* "host/path" with a maximal path: the "http://" it gains would pass the limit. */
	memcpy(big, "example.com/", 12);
	memset(big + 12, 'b', IOC_VALUE_MAX - 12);
	err_clear(&e);
	CHECK_INT(ioc_canon(big, IOC_VALUE_MAX, IOC_NONE, 0, &t, out, sizeof(out), &n, &e), ERR_TOO_LARGE);

	/* Defanged text longer than the limit that refangs to within it is accepted. */
	size_t o = 0;
	memcpy(big, "hxxp://example[.]com/", 21);
	o = 21;
	while (o + 3 <= IOC_VALUE_MAX + 600)
		memcpy(big + o, "[.]", 3), o += 3;
	err_clear(&e);
	CHECK_INT(ioc_canon(big, o, IOC_NONE, IOC_REFANG, &t, out, sizeof(out), &n, &e), 0);
	CHECK_INT(t, IOC_URL);
	CHECK(n <= IOC_VALUE_MAX);
	/* Without IOC_REFANG the same text is too large. */
	err_clear(&e);
	CHECK_INT(ioc_canon(big, o, IOC_NONE, 0, &t, out, sizeof(out), &n, &e), ERR_TOO_LARGE);
	/* And beyond what any defanging could explain, too large even with it. */
	memset(big, 'a', sizeof(big));
	err_clear(&e);
	CHECK_INT(ioc_canon(big, sizeof(big), IOC_NONE, IOC_REFANG, &t, out, sizeof(out), &n, &e),
		  ERR_TOO_LARGE);
}

static void test_ids(void)
{
	char a[UUID_STR_LEN + 1], b[UUID_STR_LEN + 1], c[UUID_STR_LEN + 1], d[UUID_STR_LEN + 1];

	ioc_id(IOC_DOMAIN, "example.com", 11, a);
	ioc_id(IOC_DOMAIN, "example.com", 11, b);
	ioc_id(IOC_URL, "example.com", 11, c);
	ioc_id(IOC_DOMAIN, "example.org", 11, d);
	CHECK_STR(a, b);
	CHECK(strcmp(a, c) != 0);
	CHECK(strcmp(a, d) != 0);
	CHECK_INT(strlen(a), UUID_STR_LEN);
	CHECK(uuid_valid(a, strlen(a)));
	CHECK(a[14] == '5');	/* version 5 */
	CHECK(strchr("89ab", a[19]) != NULL);	/* RFC 4122 variant */
	for (size_t i = 0; i < UUID_STR_LEN; i++)
		CHECK(a[i] == '-' || (a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f'));

	/* The id is that of "<type>:<value>", nothing else: pin it by recomputing. */
	char e_[UUID_STR_LEN + 1];
	uuid_v5(IOC_ID_NAMESPACE, "domain:example.com", 18, e_);
	CHECK_STR(a, e_);

	/* Only len bytes count. */
	ioc_id(IOC_DOMAIN, "example.comXYZ", 11, b);
	CHECK_STR(a, b);

	/* Ids of values from different spellings agree once canonical. */
	char v1[IOC_VALUE_MAX + 1], v2[IOC_VALUE_MAX + 1];
	size_t n1, n2;
	enum ioc_type t1, t2;
	struct err e;
	CHECK_INT(ioc_canon("HXXPS[:]//Bücher[.]Example/x", strlen("HXXPS[:]//Bücher[.]Example/x"),
			    IOC_NONE, IOC_REFANG, &t1, v1, sizeof(v1), &n1, &e), 0);
	CHECK_INT(ioc_canon("https://xn--bcher-kva.example:443/x", strlen("https://xn--bcher-kva.example:443/x"),
			    IOC_NONE, 0, &t2, v2, sizeof(v2), &n2, &e), 0);
	ioc_id(t1, v1, n1, a);
	ioc_id(t2, v2, n2, b);
	CHECK_STR(a, b);

	/* A value longer than the internal buffer still hashes all of it. */
	static char longv[3 * IOC_VALUE_MAX];
	memset(longv, 'z', sizeof(longv));
	ioc_id(IOC_URL, longv, sizeof(longv), a);
	longv[sizeof(longv) - 1] = 'y';
	ioc_id(IOC_URL, longv, sizeof(longv), b);
	CHECK(strcmp(a, b) != 0);
	CHECK(a[14] == '5');
}

static void test_names(void)
{
	for (int t = IOC_NONE + 1; t < IOC_TYPE_COUNT; t++) {
		const char *name = ioc_type_name((enum ioc_type)t);
		CHECK(name[0] != '\0');
		CHECK_INT(ioc_type_from_name(name, strlen(name)), t);
		CHECK_INT(ioc_type_is_hash((enum ioc_type)t),
			  t == IOC_MD5 || t == IOC_SHA1 || t == IOC_SHA256 || t == IOC_SHA512);
	}
	CHECK_STR(ioc_type_name(IOC_NONE), "");
	CHECK_STR(ioc_type_name(IOC_TYPE_COUNT), "");
	CHECK_STR(ioc_type_name(IOC_IPV4), "ipv4");
	CHECK_STR(ioc_type_name(IOC_SHA256), "sha256");
	CHECK_STR(ioc_type_name(IOC_MITRE), "mitre-attack");
	CHECK_INT(ioc_type_from_name("mitre_attack", 12), IOC_MITRE);
	CHECK_INT(ioc_type_from_name("mitre-attack", 12), IOC_MITRE);
	CHECK_INT(ioc_type_from_name("IPV4", 4), IOC_NONE);	/* exact, lower case */
	CHECK_INT(ioc_type_from_name("ipv", 3), IOC_NONE);
	CHECK_INT(ioc_type_from_name("ipv4x", 5), IOC_NONE);
	CHECK_INT(ioc_type_from_name("ipv4x", 4), IOC_IPV4);	/* only len bytes */
	CHECK_INT(ioc_type_from_name("", 0), IOC_NONE);
	CHECK_INT(ioc_type_from_name(NULL, 0), IOC_NONE);
	CHECK_INT(ioc_type_is_hash(IOC_NONE), 0);
}

struct refang_row {
	const char *in;
	const char *out;
};

static const struct refang_row refang_rows[] = {
	{ "hxxp://evil.com", "http://evil.com" },
	{ "hXXps://evil.com", "https://evil.com" },
	{ "HXXP://evil.com", "http://evil.com" },
	{ "hxxps[:]//evil[.]com/a", "https://evil.com/a" },
	{ "hxxps[://]evil[.]com", "https://evil.com" },
	{ "evil(.)com", "evil.com" },
	{ "evil{.}com", "evil.com" },
	{ "evil[dot]com", "evil.com" },
	{ "evil[DOT]com", "evil.com" },
	{ "evil(dot)com", "evil.com" },
	{ "evil{dot}com", "evil.com" },
	{ "evil dot com", "evil.com" },
	{ "evil\\.com", "evil.com" },
	{ "user[@]evil.com", "user@evil.com" },
	{ "user[at]evil.com", "user@evil.com" },
	{ "user(at)evil.com", "user@evil.com" },
	{ "user{AT}evil.com", "user@evil.com" },
	{ "1.2.3[.]4", "1.2.3.4" },
	{ "http://evil.com/ahxxp", "http://evil.com/ahxxp" },	/* not at a word start */
	{ "http://x.com/?u=hxxp://y", "http://x.com/?u=http://y" },
	{ "plain.example.com", "plain.example.com" },
	{ "", "" },
};

static void test_refang(void)
{
	char out[256];

	for (size_t k = 0; k < sizeof(refang_rows) / sizeof(refang_rows[0]); k++) {
		const struct refang_row *r = &refang_rows[k];
		size_t n = ioc_refang(r->in, strlen(r->in), out, sizeof(out));
		CHECK_STR(out, r->out);
		CHECK_INT(n, strlen(r->out));
	}

	/* cap bounds the output, NUL included; the cut output is a prefix. */
	size_t n = ioc_refang("hxxp://evil[.]com", 17, out, 8);
	CHECK_INT(n, 7);
	CHECK_STR(out, "http://");
	n = ioc_refang("evil[.]com", 10, out, 6);
	CHECK_INT(n, 5);
	CHECK_STR(out, "evil.");
	n = ioc_refang("abc", 3, out, 1);
	CHECK_INT(n, 0);
	CHECK_STR(out, "");
	out[0] = 'x';
	n = ioc_refang("abc", 3, out, 0);
	CHECK_INT(n, 0);
	CHECK(out[0] == 'x');	/* cap 0: nothing written */
	/* Reads only len bytes. */
	n = ioc_refang("evil[.]com", 5, out, sizeof(out));
	CHECK_STR(out, "evil[");
	CHECK_INT(n, 5);
	/* NUL bytes pass through and are counted. */
	n = ioc_refang("a\0b", 3, out, sizeof(out));
	CHECK_INT(n, 3);
	CHECK(out[1] == '\0' && out[2] == 'b');
}

int main(void)
{
	size_t n_rows = sizeof(rows) / sizeof(rows[0]);

	printf("test_ioc: %zu table rows\n", n_rows);
	CHECK(n_rows >= 170);
	run_rows();
	test_messages();
	test_limits();
	test_ids();
	test_names();
	test_refang();
	return check_summary("test_ioc");
}
