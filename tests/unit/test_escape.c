/* The export escapers (src/export/escape.c): every special character of every format. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "export/escape.h"

typedef void (*esc_fn)(struct buf *b, const char *s);

static char *run(esc_fn f, const char *s)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, "");	/* never NULL */
	f(&b, s);
	return buf_take(&b);
}

#define ESC(f, in, want)                      \
	do {                                  \
		char *got_ = run(f, in);      \
		CHECK_STR(got_, want);        \
		free(got_);                   \
	} while (0)

static void xml_text(struct buf *b, const char *s) { esc_xml(b, s, false); }
static void xml_attr(struct buf *b, const char *s) { esc_xml(b, s, true); }

static void test_cef(void)
{
	/* Header: pipe and backslash escaped; '=' left alone; a line break cannot stay. */
	ESC(esc_cef_header, "plain", "plain");
	ESC(esc_cef_header, "a|b", "a\\|b");
	ESC(esc_cef_header, "a\\b", "a\\\\b");
	ESC(esc_cef_header, "a=b", "a=b");
	ESC(esc_cef_header, "a\nb\rc", "a b c");
	ESC(esc_cef_header, "\\|", "\\\\\\|");
	/* Extension: backslash, equals and line breaks; pipe left alone. */
	ESC(esc_cef_ext, "a=b", "a\\=b");
	ESC(esc_cef_ext, "a\\b", "a\\\\b");
	ESC(esc_cef_ext, "a|b", "a|b");
	ESC(esc_cef_ext, "l1\nl2", "l1\\nl2");
	ESC(esc_cef_ext, "l1\r\nl2", "l1\\r\\nl2");
	ESC(esc_cef_ext, "\\=", "\\\\\\=");
	ESC(esc_cef_ext, "x = y cs1=z", "x \\= y cs1\\=z");
	ESC(esc_cef_ext, "", "");
	/* UTF-8 passes; broken UTF-8 becomes U+FFFD. */
	ESC(esc_cef_ext, "caf\xc3\xa9", "caf\xc3\xa9");
	ESC(esc_cef_ext, "a\xff" "b", "a\xef\xbf\xbd" "b");
	ESC(esc_cef_ext, "a\xc3", "a\xef\xbf\xbd");
	ESC(esc_cef_ext, "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");	/* a surrogate */
}

static void test_sd(void)
{
	ESC(esc_sd_param, "plain value", "plain value");
	ESC(esc_sd_param, "say \"hi\"", "say \\\"hi\\\"");
	ESC(esc_sd_param, "a\\b", "a\\\\b");
	ESC(esc_sd_param, "a]b", "a\\]b");
	ESC(esc_sd_param, "[x=y]", "[x=y\\]");
	ESC(esc_sd_param, "l1\nl2\rl3", "l1\\nl2\\rl3");
	ESC(esc_sd_param, "t\tb\x01" "c\x7f", "t b c ");
	ESC(esc_sd_param, "a\xfe", "a\xef\xbf\xbd");
}

static void test_xml(void)
{
	ESC(xml_text, "a & b < c > d", "a &amp; b &lt; c &gt; d");
	ESC(xml_text, "\"q\" 'a'", "\"q\" 'a'");
	ESC(xml_attr, "\"q\" 'a' & <", "&quot;q&quot; &apos;a&apos; &amp; &lt;");
	ESC(xml_text, "t\tl\nr\r", "t\tl\nr&#13;");
	ESC(xml_attr, "t\tl\nr\r", "t&#9;l&#10;r&#13;");
	/* Characters XML 1.0 forbids. */
	ESC(xml_text, "a\x01" "b\x1f" "c\x0b", "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd");
	ESC(xml_text, "\xef\xbf\xbe\xef\xbf\xbf", "\xef\xbf\xbd\xef\xbf\xbd");	/* U+FFFE U+FFFF */
	ESC(xml_text, "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd");			/* overlong */
	ESC(xml_text, "\xe2\x82\xac \xf0\x9f\x98\x80", "\xe2\x82\xac \xf0\x9f\x98\x80");
	ESC(xml_text, "]]>", "]]&gt;");
}

static void rpz(enum ioc_type t, const char *v, const char *want)
{
	struct buf b = BUF_INIT;
	bool ok = rpz_ip_trigger(&b, t, v);
	if (want == NULL) {
		CHECK(!ok);
		CHECK_INT(b.len, 0);
	} else {
		CHECK(ok);
		CHECK_STR(buf_cstr(&b), want);
	}
	buf_cleanup(&b);
}

static void test_rpz(void)
{
	rpz(IOC_IPV4, "1.2.3.4", "32.4.3.2.1.rpz-ip");
	rpz(IOC_IPV4, "10.0.0.0/8", "8.0.0.0.10.rpz-ip");
	rpz(IOC_IPV4, "198.51.100.0/24", "24.0.100.51.198.rpz-ip");
	rpz(IOC_IPV4, "0.0.0.0/0", NULL);
	/* BIND's examples and canonical choices. */
	rpz(IOC_IPV6, "2001:db8:0:1::57", "128.57.zz.1.0.db8.2001.rpz-ip");
	rpz(IOC_IPV6, "2001:db8::1:0:0:1", "128.1.0.0.1.zz.db8.2001.rpz-ip");
	rpz(IOC_IPV6, "2001:db8::/32", "32.zz.db8.2001.rpz-ip");
	rpz(IOC_IPV6, "::1", "128.1.zz.rpz-ip");
	rpz(IOC_IPV6, "2001:db8:1:2:3:4:0:6", "128.6.0.4.3.2.1.db8.2001.rpz-ip");	/* one zero word stays */
	rpz(IOC_IPV6, "2001:db8::dead:beef", "128.beef.dead.zz.db8.2001.rpz-ip");
	rpz(IOC_IPV6, "::/0", NULL);

	CHECK(rpz_name_fits("evil.example", 12, true));
	CHECK(!rpz_name_fits("x.rpz-ip", 8, false));
	CHECK(!rpz_name_fits("a.rpz-nsdname", 13, false));
	char longname[254];
	memset(longname, 'a', 253);
	for (int i = 63; i < 253; i += 64)
		longname[i] = '.';
	longname[253] = '\0';
	CHECK(!rpz_name_fits(longname, 253, false));	/* with a zone name it would pass 255 */
	CHECK(rpz_name_fits(longname + 128, 125, true));
}

static void test_json_strings(void)
{
	struct buf b = BUF_INIT;
	size_t pos = 0;
	const char *j = "[\"c2\",\"a\\\"b\",\"x\\\\y\",\"l1\\nl2\",\"\\u00e9\\ud83d\\ude00\",\"\\/\"]";
	const char *want[] = { "c2", "a\"b", "x\\y", "l1\nl2", "\xc3\xa9\xf0\x9f\x98\x80", "/" };
	for (int i = 0; i < 6; i++) {
		CHECK(json_strings_next(j, &pos, &b));
		CHECK_STR(buf_cstr(&b), want[i]);
		buf_reset(&b);
	}
	CHECK(!json_strings_next(j, &pos, &b));
	pos = 0;
	CHECK(!json_strings_next("[]", &pos, &b));
	pos = 0;
	CHECK(!json_strings_next("[\"unterminated", &pos, &b));
	pos = 0;
	CHECK(!json_strings_next(NULL, &pos, &b));
	buf_cleanup(&b);
}

int main(void)
{
	test_cef();
	test_sd();
	test_xml();
	test_rpz();
	test_json_strings();
	return check_summary("test_escape");
}
