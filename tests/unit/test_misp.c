/*
 * test_misp.c — the MISP reader and what it stands on:
 *   1. the strict streaming tokenizer (imp/jpull.h): tokens, every grammar error it must
 *      refuse (a trailing comma first: a real MISP file has one), skipping, and a second
 *      tokenizer sent ahead over the same bytes;
 *   2. input_again() and input_keep() (imp/input.h): memory, regular files, and a pipe that
 *      is spooled so that it can be read three times;
 *   3. the type table and the ATT&CK tag forms (imp/misp.h);
 *   4. whole events through import_input() into a store: shapes, composite types, tags,
 *      TLP, galaxies, to_ids, deleted and bad attributes, malformed files.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/buf.h"
#include "check.h"
#include "imp/importer.h"
#include "imp/input.h"
#include "imp/jpull.h"
#include "imp/misp.h"
#include "store/store.h"

#define S(t) t, sizeof(t) - 1

/* ---- 1. the tokenizer ---- */

/* Every token of text, as "{ K:a [ N:1 T F Z S:x ] }", or "!<code> <message>" at an error. */
static const char *tokens(const char *text, size_t len)
{
	static char out[4096];
	struct input *in = input_from_memory(text, len);
	struct jpull *p = jpull_new(in, 64);
	struct err e = { 0 };
	struct buf b = BUF_INIT;
	for (int guard = 0; guard < 200; guard++) {
		int t = jpull_next(p, &e);
		if (t < 0) {
			buf_printf(&b, "!%d %s", t, e.msg);
			break;
		}
		if (t == JP_EOF)
			break;
		size_t n;
		const char *s = jpull_text(p, &n);
		static const char *const names[] = { "", "{", "}", "[", "]", "K:", "S:", "N:", "T", "F", "Z" };
		buf_printf(&b, "%s%s", b.len ? " " : "", names[t]);
		if (t == JP_KEY || t == JP_STR || t == JP_NUM)
			buf_append(&b, s, n);
		if (jpull_truncated(p))
			buf_puts(&b, "…");
	}
	snprintf(out, sizeof(out), "%s", buf_cstr(&b));
	buf_cleanup(&b);
	jpull_free(p);
	input_close(in);
	return out;
}

static bool refused(const char *text, size_t len, const char *why)
{
	const char *got = tokens(text, len);
	const char *bang = strchr(got, '!');
	bool ok = bang && strstr(bang, why) != NULL;
	if (!ok)
		fprintf(stderr, "  input %.*s gave: %s (wanted an error with '%s')\n", (int)len, text, got, why);
	return ok;
}

static void test_tokens(void)
{
	CHECK_STR(tokens(S("{\"a\":[1,true,false,null,\"x\\u00e9\\n\"],\"b\":{},\"c\":[]}")),
		  "{ K:a [ N:1 T F Z S:x\xc3\xa9\n ] K:b { } K:c [ ] }");
	CHECK_STR(tokens(S(" -0.5e+3 ")), "N:-0.5e+3");
	CHECK_STR(tokens(S("\xef\xbb\xbf[\"\\ud83d\\ude00\"]")), "[ S:\xf0\x9f\x98\x80 ]");
	/* A long string is read whole and checked, but cut at the cap (64 here), whole characters only. */
	char longs[200];
	longs[0] = '"';
	memset(longs + 1, 'a', 100);
	longs[101] = '"';
	const char *t = tokens(longs, 102);
	CHECK(strlen(t) == 2 + 64 + strlen("…"));
	/* What RFC 8259 refuses, the tokenizer refuses, with the line and column. */
	CHECK(refused(S("[1,2,]"), "trailing comma"));
	CHECK(refused(S("{\"a\":1,}"), "trailing comma"));
	CHECK(refused(S("[\n  {},\n]"), "line 3, column 1"));
	CHECK(refused(S("[1 2]"), "expected ',' or ']'"));
	CHECK(refused(S("{\"a\" 1}"), "expected ':'"));
	CHECK(refused(S("{\"a\":}"), "not a JSON value"));
	CHECK(refused(S("{,}"), "expected a key"));
	CHECK(refused(S("[,1]"), "not a JSON value"));
	CHECK(refused(S("{'a':1}"), "expected a key"));
	CHECK(refused(S("[01]"), "leading zero"));
	CHECK(refused(S("[1.]"), "not followed by a digit"));
	CHECK(refused(S("[1e]"), "exponent"));
	CHECK(refused(S("[-]"), "not followed by a digit"));
	CHECK(refused(S("[tru]"), "not a JSON value"));
	CHECK(refused(S("[truex]"), "after a literal"));
	CHECK(refused(S("[\"a\tb\"]"), "control character"));
	CHECK(refused(S("[\"\\x\"]"), "invalid escape"));
	CHECK(refused(S("[\"\\u12\"]"), "4 hex digits"));
	CHECK(refused(S("[\"\\ud800\"]"), "high surrogate"));
	CHECK(refused(S("[\"\\udc00\"]"), "lone low surrogate"));
	CHECK(refused(S("[\"\xc0\xaf\"]"), "invalid UTF-8"));
	CHECK(refused(S("[\"\xed\xa0\x80\"]"), "invalid UTF-8"));
	CHECK(refused(S("[\"abc"), "ends inside a string"));
	CHECK(refused(S("{\"a\":1"), "ends inside an object"));
	CHECK(refused(S("[1"), "ends inside an array"));
	CHECK(refused(S("{} {}"), "more data after"));
	CHECK(refused(S(""), "empty"));
	CHECK(refused(S("   "), "empty"));
	CHECK(refused("[\0]", 3, "not a JSON value"));
	char deep[200];
	memset(deep, '[', 65);
	CHECK(refused(deep, 65, "deeper than 64"));
	memset(deep, '[', 64);
	memset(deep + 64, ']', 64);
	CHECK(tokens(deep, 128)[0] == '[');
}

static void test_skip_and_look_ahead(void)
{
	static const char doc[] = "{\"skip\":{\"x\":[1,{\"y\":\"z\"}]},\"keep\":\"v\",\"later\":{\"t\":[\"a\",\"b\"]}}";
	struct input *in = input_from_memory(doc, sizeof(doc) - 1);
	struct err e = { 0 };
	struct input *ahead_in = input_again(in, &e);
	CHECK(ahead_in != NULL);
	struct jpull *p = jpull_new(in, 64), *ahead = jpull_new(ahead_in, 64);
	CHECK_INT(jpull_next(p, &e), JP_OBJ);
	CHECK_INT(jpull_next(p, &e), JP_KEY);
	CHECK_INT(jpull_next(p, &e), JP_OBJ);
	CHECK_INT(jpull_skip(p, &e), 0);
	CHECK_INT(jpull_next(p, &e), JP_KEY);
	CHECK_STR(jpull_text(p, NULL), "keep");
	CHECK_INT(jpull_next(p, &e), JP_STR);
	CHECK_INT(jpull_next(p, &e), JP_KEY);
	CHECK_INT(jpull_next(p, &e), JP_OBJ);
	/* The second tokenizer reads that object alone, and stops at its end. */
	CHECK_INT(jpull_read_value_at(ahead, jpull_offset(p), &e), 0);
	CHECK_STR(tokens(doc + jpull_offset(p), sizeof(doc) - 1 - jpull_offset(p) - 1), "{ K:t [ S:a S:b ] }");
	int toks[] = { JP_OBJ, JP_KEY, JP_ARR, JP_STR, JP_STR, JP_ARR_END, JP_OBJ_END };
	for (int i = 0; i < 7; i++)
		CHECK_INT(jpull_next(ahead, &e), toks[i]);
	CHECK_INT(jpull_next(ahead, &e), JP_EOF);
	/* Backwards is refused. */
	CHECK_INT(jpull_read_value_at(ahead, 1, &e), ERR_INTERNAL);
	CHECK_INT(jpull_skip(p, &e), 0);
	CHECK_INT(jpull_next(p, &e), JP_OBJ_END);
	CHECK_INT(jpull_next(p, &e), JP_EOF);
	jpull_free(p);
	jpull_free(ahead);
	input_close(ahead_in);
	input_close(in);
}

/* ---- 2. reading the same input again ---- */

static char *read_all(struct input *in, size_t chunk)
{
	struct buf b = BUF_INIT;
	char tmp[4096];
	long n;
	while ((n = input_read(in, tmp, chunk < sizeof(tmp) ? chunk : sizeof(tmp))) > 0)
		buf_append(&b, tmp, (size_t)n);
	buf_putc(&b, '\0');
	return buf_take(&b);
}

static void test_input_again(void)
{
	struct err e = { 0 };
	/* A regular file: opened again. */
	char path[] = "/tmp/cairn-test-misp-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	CHECK(write(fd, "hello file", 10) == 10);
	close(fd);
	struct input *in = input_open(path, &e);
	struct input *again = input_again(in, &e);
	char *a = read_all(in, 3), *b = read_all(again, 4096);
	CHECK_STR(a, "hello file");
	CHECK_STR(b, "hello file");
	free(a);
	free(b);
	input_close(again);
	input_close(in);
	unlink(path);

	/* A pipe: refused without input_keep(); with it, three readers at different paces. */
	int pfd[2];
	CHECK(pipe(pfd) == 0);
	char big[20000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	CHECK(write(pfd[1], big, sizeof(big)) == (ssize_t)sizeof(big));
	close(pfd[1]);
	char dev[64];
	snprintf(dev, sizeof(dev), "/dev/fd/%d", pfd[0]);
	in = input_open(dev, &e);
	CHECK(in != NULL);
	CHECK(input_again(in, &e) == NULL && e.code == ERR_IO);
	CHECK_INT(input_keep(in, &e), 0);
	struct input *r2 = input_again(in, &e), *r3 = input_again(in, &e);
	char head[100];
	CHECK_INT(input_read(r2, head, 100), 100);	/* r2 reads the pipe first, */
	char *all1 = read_all(in, 777);			/* in catches up through the spool and passes it, */
	char *all3 = read_all(r3, 4096);		/* r3 reads only the spool, */
	char *rest2 = read_all(r2, 50);			/* r2 finishes from the spool. */
	CHECK(strlen(all1) == sizeof(big) && !memcmp(all1, big, sizeof(big)));
	CHECK(strlen(all3) == sizeof(big) && !memcmp(all3, big, sizeof(big)));
	CHECK(!memcmp(head, big, 100) && strlen(rest2) == sizeof(big) - 100 && !memcmp(rest2, big + 100, sizeof(big) - 100));
	free(all1);
	free(all3);
	free(rest2);
	input_close(in);	/* any order: the spool lives until its last reader closes */
	input_close(r2);
	input_close(r3);
	close(pfd[0]);

	/* Memory: shared. */
	in = input_from_memory(S("abc"));
	again = input_again(in, &e);
	a = read_all(again, 1);
	CHECK_STR(a, "abc");
	free(a);
	input_close(again);
	input_close(in);
}

/* ---- 3. the type table and ATT&CK tags ---- */

static const char *parts(const char *type, const char *v)
{
	static char out[512];
	struct misp_part p[2];
	bool ids;
	struct err e = { 0 };
	int n = misp_attribute_parts(type, v, strlen(v), p, &ids, &e);
	if (n < 0) {
		snprintf(out, sizeof(out), "!%s", e.msg);
		return out;
	}
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		size_t l = strlen(out);
		snprintf(out + l, sizeof(out) - l, "%s%s=%.*s", i ? " " : "", p[i].any_ip ? "ip" : ioc_type_name(p[i].type),
			 (int)p[i].len, p[i].p);
	}
	if (!ids && n > 0)
		strcat(out, " (to_ids says nothing)");
	return out;
}

static void test_types(void)
{
	CHECK_STR(parts("ip-dst", "1.2.3.4"), "ip=1.2.3.4");
	CHECK_STR(parts("ip-src", "2001:db8::1"), "ip=2001:db8::1");
	CHECK_STR(parts("ip-dst|port", "1.2.3.4|443"), "ip=1.2.3.4");
	CHECK_STR(parts("ip-src|port", "2001:db8::1|8080"), "ip=2001:db8::1");
	CHECK_STR(parts("domain", "evil.example"), "domain=evil.example");
	CHECK_STR(parts("hostname", "a.evil.example"), "domain=a.evil.example");
	CHECK_STR(parts("hostname|port", "a.evil.example|80"), "domain=a.evil.example");
	CHECK_STR(parts("domain|ip", "evil.example|5.6.7.8"), "domain=evil.example ip=5.6.7.8");
	CHECK_STR(parts("url", "http://x.example/a|b"), "url=http://x.example/a|b");
	CHECK_STR(parts("md5", "d41d8cd98f00b204e9800998ecf8427e"), "md5=d41d8cd98f00b204e9800998ecf8427e");
	CHECK_STR(parts("sha512", "ab"), "sha512=ab");
	CHECK_STR(parts("filename|sha1", "a|b.exe|da39a3ee5e6b4b0d3255bfef95601890afd80709"),
		  "sha1=da39a3ee5e6b4b0d3255bfef95601890afd80709");
	CHECK_STR(parts("filename|sha256", "x.apk|0000"), "sha256=0000");
	CHECK_STR(parts("malware-sample", "x.exe|d41d8cd98f00b204e9800998ecf8427e"), "md5=d41d8cd98f00b204e9800998ecf8427e");
	CHECK_STR(parts("email-src", "a@b.example"), "email=a@b.example");
	CHECK_STR(parts("email-dst", "a@b.example"), "email=a@b.example");
	CHECK_STR(parts("vulnerability", "CVE-2021-44228"), "cve=CVE-2021-44228 (to_ids says nothing)");
	/* Composite types must have their '|'. */
	CHECK_STR(parts("filename|sha256", "no-bar"), "!a filename|sha256 value must have the form filename|sha256");
	CHECK_STR(parts("malware-sample", "x.exe"), "!a malware-sample value must have the form filename|md5");
	/* Types cairn keeps no indicator of. */
	const char *skipped[] = { "text", "filename", "regkey", "regkey|value", "port", "AS", "mutex", "link",
				  "x509-fingerprint-sha1", "ja3-fingerprint-md5", "imphash", "ssdeep", "sha224",
				  "filename|sha224", "comment", "other", "datetime", "target-location", "" };
	for (size_t i = 0; i < sizeof(skipped) / sizeof(skipped[0]); i++)
		CHECK_STR(parts(skipped[i], "x"), "");
}

static const char *attack(const char *tag)
{
	static char out[64];
	char id[16];
	bool named;
	if (!misp_tag_attack_id(tag, strlen(tag), id, &named))
		return "-";
	snprintf(out, sizeof(out), "%s%s", id, named ? " named" : "");
	return out;
}

static void test_attack_tags(void)
{
	CHECK_STR(attack("misp-galaxy:mitre-attack-pattern=\"Control Panel Items - T1196\""), "T1196 named");
	CHECK_STR(attack("misp-galaxy:mitre-attack-pattern=\"Malware - T1587.001\""), "T1587.001 named");
	CHECK_STR(attack("misp-galaxy:mitre-attack-pattern=\"T1059.001\""), "T1059.001");
	CHECK_STR(attack("misp-galaxy:mitre-enterprise-attack-attack-pattern=\"Scripting - T1064\""), "T1064 named");
	CHECK_STR(attack("mitre-attack:tactic=\"TA0001\""), "TA0001");
	CHECK_STR(attack("mitre-attack:tactic=\"Initial Access - TA0001\""), "TA0001 named");
	CHECK_STR(attack("misp-galaxy:mitre-intrusion-set=\"APT28 - G0007\""), "-");
	CHECK_STR(attack("misp-galaxy:threat-actor=\"InvisiMole\""), "-");
	CHECK_STR(attack("misp-galaxy:mitre-attack-pattern=\"Name - T12\""), "-");
	CHECK_STR(attack("misp-galaxy:mitre-attack-pattern=T1059"), "-");
	CHECK_STR(attack("tlp:green"), "-");
	CHECK_STR(attack("T1059"), "-");
}

/* ---- 4. events into a store ---- */

static struct store *db;

static int import_text(const char *text, struct import_result *r, struct err *e)
{
	struct import_opts o;
	memset(&o, 0, sizeof(o));
	o.format = IMPORT_MISP;
	o.defaults.score = -1;
	o.defaults.feed = "file.json";
	o.defaults.origin = "feed";
	struct input *in = input_from_memory(text, strlen(text));
	return import_input(db, in, IMPORT_MISP, false, &o, r, e);
}

struct got {
	char line[1024];
};

static int got_one(void *ctx, const struct ioc_record *rec)
{
	struct got *g = ctx;
	snprintf(g->line, sizeof(g->line), "%d feed=%s tlp=%s ctx=%s tags=%s tech=%s ref=%s", rec->score, rec->feed,
		 rec->tlp, rec->context, rec->tags, rec->techniques, rec->reference_url);
	return 0;
}

static const char *record(enum ioc_type t, const char *v)
{
	static struct got g;
	struct err e;
	strcpy(g.line, "(none)");
	if (store_ioc_get_value(db, t, v, got_one, &g, &e) != 0)
		return "(none)";
	return g.line;
}

static void test_events(void)
{
	struct import_result *r = calloc(1, sizeof(*r));
	struct err e = { 0 };
	CHECK_INT(store_open(&db, ":memory:", NULL, 0, &e), 0);
	/* The events use documentation addresses, which the built-in allow-list keeps out. */
	CHECK_INT(store_allow_enable(db, "builtin", false, &e), 0);

	/* A search answer of one event: tags after the attributes, as MISP writes them. */
	static const char search[] =
		"{\"response\":[{\"Event\":{\"info\":\"Campaign X\",\"date\":\"2024-01-02\","
		"\"Orgc\":{\"name\":\"ACME CERT\"},"
		"\"Attribute\":["
		"{\"type\":\"link\",\"value\":\"https://report.example/x\",\"to_ids\":false},"
		"{\"type\":\"ip-dst|port\",\"value\":\"198.51.100.7|443\",\"to_ids\":true,\"comment\":\"C2\","
		" \"Tag\":[{\"name\":\"tlp:amber\"},{\"name\":\"c2\"}]},"
		"{\"type\":\"domain|ip\",\"value\":\"evil.example|203.0.113.9\",\"to_ids\":\"1\"},"
		"{\"type\":\"filename|sha256\",\"value\":\"dropper.exe|275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F\",\"to_ids\":1},"
		"{\"type\":\"domain\",\"value\":\"benign-cdn.example\",\"to_ids\":false},"
		"{\"type\":\"vulnerability\",\"value\":\"cve-2021-44228\",\"to_ids\":false},"
		"{\"type\":\"ip-dst\",\"value\":\"999.1.1.1\",\"to_ids\":true},"
		"{\"type\":\"text\",\"value\":\"some note\"},"
		"{\"type\":\"md5\",\"value\":\"d41d8cd98f00b204e9800998ecf8427e\",\"deleted\":true},"
		"{\"type\":\"md5\",\"value\":[1]},"
		"\"not an attribute\","
		"{\"value\":\"no-type.example\"},"
		"{\"type\":\"url\",\"value\":\"http://x.example/\",\"first_seen\":\"yesterday\"}],"
		"\"Object\":[{\"name\":\"domain-ip\",\"Attribute\":[{\"type\":\"hostname\",\"value\":\"obj.example\","
		"\"to_ids\":true}],\"comment\":\"Server hosting kill switch\"}],"
		"\"Galaxy\":[{\"type\":\"mitre-attack-pattern\",\"GalaxyCluster\":[{\"type\":\"mitre-attack-pattern\","
		"\"value\":\"Application Layer Protocol - T1071\"}]}],"
		"\"Tag\":[{\"name\":\"tlp:green\"},{\"name\":\"campaign-x\"},"
		"{\"name\":\"misp-galaxy:mitre-attack-pattern=\\\"Application Layer Protocol - T1071\\\"\"},"
		"{\"name\":\"misp-galaxy:mitre-attack-pattern=\\\"Phishing - T1566\\\"\"}]}}]}";
	CHECK_INT(import_text(search, r, &e), 0);
	CHECK_INT(r->events, 1);
	CHECK_INT(r->attributes, 14);
	CHECK_INT(r->object_attributes, 1);
	CHECK_INT(r->misp_objects, 1);
	CHECK_INT(r->unsupported, 2);	/* link, text */
	CHECK_INT(r->deleted, 1);
	CHECK_INT(r->galaxies, 2);
	/* ip, domain+ip, sha256, domain, cve, obj hostname, 2 techniques; rejected: 999.1.1.1,
	 * [1], the string, no type, the bad date. */
	CHECK_INT(r->read, 9 + 5);
	CHECK_INT(r->rejected, 5);
	CHECK_INT(r->added, 9);
	CHECK_INT(r->skipped, 3);
	CHECK_STR(record(IOC_IPV4, "198.51.100.7"),
		  "50 feed=ACME CERT tlp=amber ctx=C2 tags=[\"c2\",\"campaign-x\"] tech=[\"T1071\",\"T1566\"]"
		  " ref=https://report.example/x");
	CHECK_STR(record(IOC_IPV4, "203.0.113.9"),
		  "50 feed=ACME CERT tlp=green ctx=Campaign X tags=[\"campaign-x\"] tech=[\"T1071\",\"T1566\"]"
		  " ref=https://report.example/x");
	CHECK(strstr(record(IOC_SHA256, "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"), "50 ") != NULL);
	/* to_ids false: the low band; but not for a vulnerability, whose flag says nothing. */
	CHECK(!strncmp(record(IOC_DOMAIN, "benign-cdn.example"), "15 ", 3));
	CHECK(!strncmp(record(IOC_CVE, "CVE-2021-44228"), "50 ", 3));
	/* An object attribute takes the object's comment, found after its attributes. */
	CHECK(strstr(record(IOC_DOMAIN, "obj.example"), "ctx=Server hosting kill switch ") != NULL);
	/* Galaxy clusters: a technique record named by its cluster value. */
	CHECK(strstr(record(IOC_MITRE, "T1071"), "ctx=Application Layer Protocol - T1071 ") != NULL);
	CHECK(strstr(record(IOC_MITRE, "T1566"), "ctx=Phishing - T1566 ") != NULL);
	CHECK_STR(record(IOC_MD5, "d41d8cd98f00b204e9800998ecf8427e"), "(none)");
	bool saw_ip = false, saw_date = false;
	for (size_t i = 0; i < r->nrejects; i++) {
		saw_ip |= strstr(r->rejects[i].reason, "ip-dst: ") != NULL;
		saw_date |= strstr(r->rejects[i].reason, "first_seen 'yesterday' is not a date") != NULL;
	}
	CHECK(saw_ip && saw_date);

	/* The other shapes: a bare event, a list of wrapped and bare events. */
	CHECK_INT(import_text("{\"info\":\"bare\",\"Attribute\":[{\"type\":\"domain\",\"value\":\"bare.example\"}]}", r, &e), 0);
	CHECK_INT(r->events, 1);
	CHECK_INT(r->read, 1);
	CHECK_INT(import_text("[{\"Event\":{\"info\":\"a\",\"Attribute\":[{\"type\":\"domain\",\"value\":\"a.example\"}]}},"
			      " {\"info\":\"b\",\"Attribute\":[{\"type\":\"email-src\",\"value\":\"x@b.example\"}]}]", r, &e), 0);
	CHECK_INT(r->events, 2);
	CHECK_INT(r->added, 2);
	CHECK_INT(import_text("{\"response\":[]}", r, &e), 0);
	CHECK_INT(r->events, 0);
	/* Values MISP gives as strings or numbers; TLP white is clear. */
	CHECK_INT(import_text("{\"Event\":{\"info\":\"w\",\"Tag\":[{\"name\":\"tlp:white\"}],\"Attribute\":"
			      "[{\"type\":\"domain\",\"value\":\"white.example\",\"to_ids\":\"0\",\"deleted\":\"0\"}]}}", r, &e), 0);
	CHECK(strstr(record(IOC_DOMAIN, "white.example"), "tlp=clear") != NULL);

	/* Malformed files stop with the reason, and import nothing of the event. */
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "{\"Event\":{\"info\":\"t\",\"Attribute\":[{\"type\":\"domain\",\"value\":\"t1.example\"},]}}",
		  "trailing comma" },
		{ "{\"Event\":{\"info\":\"t\",\"Attribute\":{\"type\":\"domain\"}}}", "'Attribute' is not an array" },
		{ "{\"Event\":{\"info\":\"t\",\"Tag\":\"tlp:red\"}}", "'Tag' is not an array" },
		{ "{\"Event\":\"x\"}", "'Event' is not an object" },
		{ "{\"type\":\"bundle\",\"objects\":[]}", "not a MISP event" },
		{ "{}", "empty object" },
		{ "[1]", "not an object" },
		{ "\"x\"", "a MISP file is a JSON object" },
		{ "{\"response\":5}", "not a list of events" },
		{ "{\"Event\":{\"info\":\"t\",\"Attribute\":[{\"type\":\"domain\",\"value\":\"t2.example\"}]}} x",
		  "more data after" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&e, 0, sizeof(e));
		int rc = import_text(bad[i].text, r, &e);
		CHECK(rc == ERR_INVALID);
		if (!strstr(e.msg, bad[i].why))
			fprintf(stderr, "  %s: got '%s', wanted '%s'\n", bad[i].text, e.msg, bad[i].why);
		CHECK(strstr(e.msg, bad[i].why) != NULL);
	}
	CHECK_STR(record(IOC_DOMAIN, "t1.example"), "(none)");

	store_close(db);
	free(r);
}

int main(void)
{
	test_tokens();
	test_skip_and_look_ahead();
	test_input_again();
	test_types();
	test_attack_tags();
	test_events();
	return check_summary("test_misp");
}
