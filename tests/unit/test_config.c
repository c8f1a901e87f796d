/*
 * test_config.c — src/config: the defaults of DESIGN.md, loading a YAML file
 * with every key, and the errors, which must read "FILE:LINE: key: reason"
 * with the line of the offending node and the dotted path of the key.
 *
 * Files are written into a mkdtemp() directory under /tmp, removed at the end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "ioc/ioc.h"
#include "check.h"

static char dir[64];
static int nfiles;

/* Writes text to a new file in dir and returns its path (static storage, one per call). */
static const char *write_file(const char *text)
{
	static char paths[128][96];
	char *p = paths[nfiles % 128];
	snprintf(p, sizeof(paths[0]), "%s/c%03d.yaml", dir, nfiles);
	nfiles++;
	FILE *f = fopen(p, "wb");
	if (f == NULL) {
		perror(p);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
	return p;
}

static void test_defaults(void)
{
	struct config c;
	memset(&c, 0xa5, sizeof(c));
	config_defaults(&c);

	const struct tier_conf *f = &c.tier[TIER_FREE], *p = &c.tier[TIER_PRO], *a = &c.tier[TIER_ADMIN];
	/* free: 10/min, 1,000/day, 100 records, 1 day, JSON only, no pro endpoints */
	CHECK_INT(f->per_minute, 10);
	CHECK_INT(f->per_day, 1000);
	CHECK_INT(f->max_results, 100);
	CHECK_INT(f->lookback_days, 1);
	CHECK(!f->pro_endpoints);
	CHECK(!f->all_formats);
	CHECK(f->scopes & SCOPE_READ_IOCS);
	CHECK(!(f->scopes & (SCOPE_WRITE_IOCS | SCOPE_ADMIN | SCOPE_READ_TAXII | SCOPE_READ_STIX)));
	/* pro: 1,000/min, 1,000,000/day, 10,000 records, 365 days, every format, TAXII */
	CHECK_INT(p->per_minute, 1000);
	CHECK_INT(p->per_day, 1000000);
	CHECK_INT(p->max_results, 10000);
	CHECK_INT(p->lookback_days, 365);
	CHECK(p->pro_endpoints);
	CHECK(p->all_formats);
	unsigned read_all = SCOPE_READ_IOCS | SCOPE_READ_STIX | SCOPE_READ_SIGMA | SCOPE_READ_MISP |
			    SCOPE_READ_CEF | SCOPE_READ_OPENIOC | SCOPE_READ_TAXII;
	CHECK_INT(p->scopes, read_all);
	CHECK(!(p->scopes & (SCOPE_WRITE_IOCS | SCOPE_ADMIN)));
	/* admin: pro plus write and key management */
	CHECK_INT(a->per_minute, 1000);
	CHECK_INT(a->per_day, 1000000);
	CHECK_INT(a->max_results, 10000);
	CHECK_INT(a->lookback_days, 365);
	CHECK(a->pro_endpoints);
	CHECK(a->all_formats);
	CHECK_INT(a->scopes, read_all | SCOPE_WRITE_IOCS | SCOPE_ADMIN);

	/* grace after every snapshot source ended: addresses a day, the rest a week */
	CHECK_INT(c.grace_days[IOC_IPV6], 1);
	CHECK_INT(c.grace_days[IOC_URL], 7);

	/* decay: linear, but hashes keep their score longer */
	CHECK(c.decay_speed[IOC_IPV4] == 1.0 && c.decay_speed[IOC_DOMAIN] == 1.0);
	CHECK(c.decay_speed[IOC_SHA256] == 0.5 && c.decay_speed[IOC_MD5] == 0.5);

	/* lifetimes: IPs age fastest, hashes slowest, CVEs and ATT&CK never */
	CHECK_INT(c.lifetime_days[IOC_CVE], 0);
	CHECK_INT(c.lifetime_days[IOC_MITRE], 0);
	CHECK(c.lifetime_days[IOC_IPV4] > 0);
	CHECK(c.lifetime_days[IOC_IPV6] > 0);
	for (int t = IOC_IPV4; t < IOC_TYPE_COUNT; t++) {
		if (t == IOC_CVE || t == IOC_MITRE)
			continue;
		CHECK(c.lifetime_days[t] >= c.lifetime_days[IOC_IPV4]);
		CHECK(c.lifetime_days[t] <= c.lifetime_days[IOC_SHA256]);
	}
	CHECK(c.lifetime_days[IOC_SHA256] > c.lifetime_days[IOC_DOMAIN]);
	CHECK_INT(c.lifetime_days[IOC_MD5], c.lifetime_days[IOC_SHA512]);

	CHECK_STR(c.listen, "127.0.0.1:8080");
	CHECK_STR(c.base_url, "");
	CHECK_INT(c.threads, 0);
	CHECK(c.default_score >= 0 && c.default_score <= 100);
	CHECK(c.max_header_bytes >= 1024);
	CHECK(c.max_body_bytes >= c.max_header_bytes);
	CHECK(c.max_connections > 0);
	CHECK(c.request_timeout_s > 0);
	CHECK(c.idle_timeout_s > 0);
	CHECK(c.max_lookup_values > 0);
	CHECK(c.stats_refresh_s > 0);
}

static const char full_yaml[] =
	"# every key cairn reads\n"
	"listen: 0.0.0.0:9090\n"
	"threads: 8\n"
	"base_url: https://intel.example.org/cairn//\n"
	"access_log: /var/log/cairn/access.log\n"
	"default_score: 40\n"
	"limits:\n"
	"  max_header_bytes: 32768\n"
	"  max_body_bytes: 52428800\n"
	"  max_connections: 2048\n"
	"  request_timeout: 20\n"
	"  idle_timeout: 120\n"
	"  max_lookup_values: 5000\n"
	"  stats_refresh: 300\n"
	"tiers:\n"
	"  free:\n"
	"    requests_per_minute: 20\n"
	"    requests_per_day: 2000\n"
	"    max_results: 200\n"
	"    lookback_days: 7\n"
	"    pro_endpoints: false\n"
	"    all_formats: yes\n"
	"    scopes:\n"
	"      - read:iocs\n"
	"      - read:taxii\n"
	"  pro:\n"
	"    requests_per_minute: 600\n"
	"    requests_per_day: 5000000\n"
	"    max_results: 50000\n"
	"    lookback_days: 730\n"
	"    pro_endpoints: on\n"
	"    all_formats: true\n"
	"    scopes: [\"read:iocs\", \"read:stix\", \"read:sigma\"]\n"
	"  admin:\n"
	"    requests_per_minute: 100000\n"
	"    requests_per_day: 10000000000\n"
	"    max_results: 1000000\n"
	"    lookback_days: 36500\n"
	"    pro_endpoints: true\n"
	"    all_formats: off\n"
	"    scopes:\n"
	"      - admin\n"
	"      - write:iocs\n"
	"      - read:openioc\n"
	"      - read:cef\n"
	"      - read:misp\n"
	"lifetimes:\n"
	"  ipv4: 14\n"
	"  ipv6: 15\n"
	"  domain: 30\n"
	"  url: 45\n"
	"  md5: 700\n"
	"  sha1: 701\n"
	"  sha256: 702\n"
	"  sha512: 703\n"
	"  email: 90\n"
	"  cve: 10\n"
	"  mitre_attack: 0\n"
	"decay_speed:\n"
	"  ipv4: 2.5\n"
	"  sha256: 0.3\n"
	"grace_days:\n"
	"  domain: 0\n";

static void test_full_file(void)
{
	struct config c;
	struct err e;
	err_clear(&e);
	config_defaults(&c);
	const char *path = write_file(full_yaml);
	int rc = config_load(&c, path, &e);
	if (rc)
		fprintf(stderr, "full file: %s\n", e.msg);
	CHECK_INT(rc, 0);
	CHECK_STR(c.listen, "0.0.0.0:9090");
	CHECK_INT(c.threads, 8);
	CHECK(c.decay_speed[IOC_IPV4] == 2.5 && c.decay_speed[IOC_SHA256] == 0.3);
	CHECK(c.decay_speed[IOC_DOMAIN] == 1.0);	/* the rest keep their defaults */
	CHECK_INT(c.grace_days[IOC_DOMAIN], 0);
	CHECK_INT(c.grace_days[IOC_IPV4], 1);
	CHECK_STR(c.base_url, "https://intel.example.org/cairn");	/* trailing slashes dropped */
	CHECK_STR(c.access_log, "/var/log/cairn/access.log");
	CHECK_INT(c.default_score, 40);
	CHECK_INT(c.max_header_bytes, 32768);
	CHECK_INT(c.max_body_bytes, 52428800);
	CHECK_INT(c.max_connections, 2048);
	CHECK_INT(c.request_timeout_s, 20);
	CHECK_INT(c.idle_timeout_s, 120);
	CHECK_INT(c.max_lookup_values, 5000);
	CHECK_INT(c.stats_refresh_s, 300);

	const struct tier_conf *f = &c.tier[TIER_FREE], *p = &c.tier[TIER_PRO], *a = &c.tier[TIER_ADMIN];
	CHECK_INT(f->per_minute, 20);
	CHECK_INT(f->per_day, 2000);
	CHECK_INT(f->max_results, 200);
	CHECK_INT(f->lookback_days, 7);
	CHECK(!f->pro_endpoints);
	CHECK(f->all_formats);
	CHECK_INT(f->scopes, SCOPE_READ_IOCS | SCOPE_READ_TAXII);
	CHECK_INT(p->per_minute, 600);
	CHECK_INT(p->per_day, 5000000);
	CHECK_INT(p->max_results, 50000);
	CHECK_INT(p->lookback_days, 730);
	CHECK(p->pro_endpoints);
	CHECK(p->all_formats);
	CHECK_INT(p->scopes, SCOPE_READ_IOCS | SCOPE_READ_STIX | SCOPE_READ_SIGMA);
	CHECK_INT(a->per_minute, 100000);
	CHECK_INT(a->per_day, 10000000000LL);
	CHECK_INT(a->max_results, 1000000);
	CHECK_INT(a->lookback_days, 36500);
	CHECK(a->pro_endpoints);
	CHECK(!a->all_formats);
	CHECK_INT(a->scopes, SCOPE_ADMIN | SCOPE_WRITE_IOCS | SCOPE_READ_OPENIOC | SCOPE_READ_CEF |
				     SCOPE_READ_MISP);

	CHECK_INT(c.lifetime_days[IOC_IPV4], 14);
	CHECK_INT(c.lifetime_days[IOC_IPV6], 15);
	CHECK_INT(c.lifetime_days[IOC_DOMAIN], 30);
	CHECK_INT(c.lifetime_days[IOC_URL], 45);
	CHECK_INT(c.lifetime_days[IOC_MD5], 700);
	CHECK_INT(c.lifetime_days[IOC_SHA1], 701);
	CHECK_INT(c.lifetime_days[IOC_SHA256], 702);
	CHECK_INT(c.lifetime_days[IOC_SHA512], 703);
	CHECK_INT(c.lifetime_days[IOC_EMAIL], 90);
	CHECK_INT(c.lifetime_days[IOC_CVE], 10);
	CHECK_INT(c.lifetime_days[IOC_MITRE], 0);

	/* A partial file overrides only what it names, over values already in c. */
	struct config d;
	config_defaults(&d);
	d.threads = 3;
	path = write_file("tiers:\n  pro:\n    max_results: 777\nlifetimes:\n  mitre-attack: 5\n");
	rc = config_load(&d, path, &e);
	CHECK_INT(rc, 0);
	CHECK_INT(d.threads, 3);
	CHECK_INT(d.tier[TIER_PRO].max_results, 777);
	CHECK_INT(d.tier[TIER_PRO].per_minute, 1000);
	CHECK_INT(d.tier[TIER_FREE].max_results, 100);
	CHECK_INT(d.lifetime_days[IOC_MITRE], 5);
	CHECK_INT(d.lifetime_days[IOC_IPV4], 30);
	CHECK_STR(d.listen, "127.0.0.1:8080");

	/* An empty scope list means no scopes. */
	config_defaults(&d);
	path = write_file("tiers:\n  free:\n    scopes: []\n");
	CHECK_INT(config_load(&d, path, &e), 0);
	CHECK_INT(d.tier[TIER_FREE].scopes, 0);
}

/* Files that change nothing: empty, comments only, an explicit empty document. */
static void test_empty(void)
{
	static const char *const texts[] = { "", "# nothing here\n\n   \n# still nothing\n", "---\n",
					     "\n" };
	struct config want;
	config_defaults(&want);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct config c;
		struct err e;
		err_clear(&e);
		config_defaults(&c);
		const char *path = write_file(texts[i]);
		int rc = config_load(&c, path, &e);
		if (rc)
			fprintf(stderr, "empty file %zu: %s\n", i, e.msg);
		CHECK_INT(rc, 0);
		CHECK(memcmp(&c, &want, sizeof(c)) == 0);
	}

	/* a file that does not exist */
	struct config c;
	struct err e;
	config_defaults(&c);
	char missing[128];
	snprintf(missing, sizeof(missing), "%s/no-such-file.yaml", dir);
	CHECK_INT(config_load(&c, missing, &e), ERR_IO);
	CHECK(strstr(e.msg, "no-such-file.yaml") != NULL);
}

/* Loads text and checks the error is exactly "PATH:LINE: what". */
static void expect_err(int src_line, const char *text, int line, const char *what)
{
	struct config c;
	struct err e;
	err_clear(&e);
	config_defaults(&c);
	const char *path = write_file(text);
	int rc = config_load(&c, path, &e);
	char want[512];
	snprintf(want, sizeof(want), "%s:%d: %s", path, line, what);
	if (rc != ERR_INVALID || strcmp(e.msg, want) != 0)
		fprintf(stderr, "(case at line %d)\n", src_line);
	CHECK_INT(rc, ERR_INVALID);
	CHECK_INT(e.code, ERR_INVALID);
	CHECK_STR(e.msg, want);
}

#define EXPECT_ERR(text, line, what) expect_err(__LINE__, text, line, what)

static void test_errors(void)
{
	/* unknown keys, at every level */
	EXPECT_ERR("listen: 127.0.0.1:80\nthreads: 2\ncolour: blue\n", 3, "colour: unknown key");
	EXPECT_ERR("limits:\n  max_connections: 10\n  x: 1\n", 3, "limits.x: unknown key");
	EXPECT_ERR("tiers:\n  free:\n    max_results: 5\n    x: 1\n", 4, "tiers.free.x: unknown key");
	EXPECT_ERR("tiers:\n  admin:\n    requests_per_hour: 5\n", 3,
		   "tiers.admin.requests_per_hour: unknown key");
	EXPECT_ERR("Listen: 127.0.0.1:80\n", 1, "Listen: unknown key");	/* keys are case-sensitive */

	/* wrong types */
	EXPECT_ERR("threads: four\n", 1, "threads: expected an integer");
	EXPECT_ERR("threads: \"4\"\n", 1, "threads: expected an integer");	/* quoted: a string */
	EXPECT_ERR("threads: 4.5\n", 1, "threads: expected an integer");
	EXPECT_ERR("threads:\n", 1, "threads: expected an integer");
	EXPECT_ERR("threads: [4]\n", 1, "threads: expected an integer");
	EXPECT_ERR("# comment\n\nlimits:\n  max_body_bytes: 10MB\n", 4,
		   "limits.max_body_bytes: expected an integer");
	EXPECT_ERR("tiers:\n  pro:\n    requests_per_day: lots\n", 3,
		   "tiers.pro.requests_per_day: expected an integer");
	EXPECT_ERR("lifetimes:\n  ipv4: 0x10\n", 2, "lifetimes.ipv4: expected an integer");
	EXPECT_ERR("limits: [1, 2]\n", 1, "limits: expected a mapping");
	EXPECT_ERR("limits:\n  - max_connections\n  - 5\n", 2, "limits: expected a mapping");
	EXPECT_ERR("tiers: free\n", 1, "tiers: expected a mapping");
	EXPECT_ERR("lifetimes: 30\n", 1, "lifetimes: expected a mapping");
	EXPECT_ERR("tiers:\n  free: [1, 2]\n", 2, "tiers.free: expected a mapping");
	EXPECT_ERR("tiers:\n  pro:\n    pro_endpoints: maybe\n", 3,
		   "tiers.pro.pro_endpoints: expected true or false");
	EXPECT_ERR("tiers:\n  pro:\n    all_formats: 1\n", 3,
		   "tiers.pro.all_formats: expected true or false");
	EXPECT_ERR("tiers:\n  free:\n    scopes: read:iocs\n", 3,
		   "tiers.free.scopes: expected a list of scopes");
	EXPECT_ERR("listen:\n  host: 0.0.0.0\n", 2, "listen: expected a string");
	EXPECT_ERR("- listen\n- threads\n", 1, "(top level): expected a mapping");

	/* out of range */
	EXPECT_ERR("threads: 1000\n", 1, "threads: must be between 0 and 256");
	EXPECT_ERR("threads: -1\n", 1, "threads: must be between 0 and 256");
	EXPECT_ERR("default_score: 101\n", 1, "default_score: must be between 0 and 100");
	EXPECT_ERR("limits:\n  max_header_bytes: 512\n", 2,
		   "limits.max_header_bytes: must be between 1024 and 262144");
	EXPECT_ERR("tiers:\n  pro:\n    max_results: 0\n", 3,
		   "tiers.pro.max_results: must be between 1 and 1000000");
	EXPECT_ERR("lifetimes:\n  ipv4: -1\n", 2, "lifetimes.ipv4: must be between 0 and 36500");
	EXPECT_ERR("decay_speed:\n  ipv4: 0.05\n", 2, "decay_speed.ipv4: must be between 0.1 and 10");
	EXPECT_ERR("decay_speed:\n  ipv4: fast\n", 2, "decay_speed.ipv4: expected a number");
	EXPECT_ERR("decay_speed:\n  hostname: 1\n", 2, "decay_speed.hostname: unknown indicator type");
	EXPECT_ERR("decay_speed: 1\n", 1, "decay_speed: expected a mapping");
	EXPECT_ERR("grace_days:\n  ipv4: 3651\n", 2, "grace_days.ipv4: must be between 0 and 3650");
	EXPECT_ERR("grace_days:\n  host: 1\n", 2, "grace_days.host: unknown indicator type");

	/* unknown tier, scope, indicator type */
	EXPECT_ERR("tiers:\n  free:\n    max_results: 5\n  gold:\n    max_results: 5\n", 4,
		   "tiers.gold: unknown tier (free, pro, admin)");
	EXPECT_ERR("tiers:\n  Pro:\n    max_results: 5\n", 2, "tiers.Pro: unknown tier (free, pro, admin)");
	EXPECT_ERR("tiers:\n  free:\n    scopes:\n      - read:iocs\n      - delete:everything\n", 5,
		   "tiers.free.scopes: unknown scope");
	EXPECT_ERR("tiers:\n  pro:\n    scopes: [read_iocs]\n", 3, "tiers.pro.scopes: unknown scope");
	EXPECT_ERR("lifetimes:\n  ipv4: 10\n  hostname: 5\n", 3,
		   "lifetimes.hostname: unknown indicator type");
	EXPECT_ERR("lifetimes:\n  IPv4: 10\n", 2, "lifetimes.IPv4: unknown indicator type");

	/* A failed file stops at the first error (later keys are not reported). */
	EXPECT_ERR("threads: x\ncolour: blue\n", 1, "threads: expected an integer");
}

/* Invalid YAML: the file and the line the parser stopped at, then its reason. */
static void expect_yaml_err(const char *text, int line)
{
	struct config c;
	struct err e;
	err_clear(&e);
	config_defaults(&c);
	const char *path = write_file(text);
	int rc = config_load(&c, path, &e);
	CHECK_INT(rc, ERR_INVALID);
	char prefix[256];
	snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	if (strncmp(e.msg, prefix, strlen(prefix)) != 0)
		fprintf(stderr, "yaml error: got \"%s\", want prefix \"%s\"\n", e.msg, prefix);
	CHECK(strncmp(e.msg, prefix, strlen(prefix)) == 0);
	CHECK(strlen(e.msg) > strlen(prefix));	/* a reason follows */
}

static void test_invalid_yaml(void)
{
	expect_yaml_err("threads: 4\nlisten: a: b\n", 2);
	expect_yaml_err("threads: 4\nlimits:\n  max_connections: 5\n idle_timeout: 3\n", 4);
	expect_yaml_err("threads: 4\nlisten: [1, 2\n", 3);
	expect_yaml_err("\tthreads: 4\n", 1);
	expect_yaml_err("threads: *nowhere\n", 1);
}

static void test_names(void)
{
	CHECK_INT(tier_from_name("free"), TIER_FREE);
	CHECK_INT(tier_from_name("pro"), TIER_PRO);
	CHECK_INT(tier_from_name("admin"), TIER_ADMIN);
	CHECK_INT(tier_from_name("Free"), -1);
	CHECK_INT(tier_from_name(""), -1);
	CHECK_INT(tier_from_name("enterprise"), -1);
	CHECK_INT(tier_from_name("pro "), -1);
	CHECK_STR(tier_name(TIER_FREE), "free");
	CHECK_STR(tier_name(TIER_PRO), "pro");
	CHECK_STR(tier_name(TIER_ADMIN), "admin");

	static const struct {
		const char *name;
		unsigned bit;
	} scopes[] = {
		{ "read:iocs", SCOPE_READ_IOCS },	{ "read:stix", SCOPE_READ_STIX },
		{ "read:sigma", SCOPE_READ_SIGMA },	{ "read:misp", SCOPE_READ_MISP },
		{ "read:cef", SCOPE_READ_CEF },		{ "read:openioc", SCOPE_READ_OPENIOC },
		{ "read:taxii", SCOPE_READ_TAXII },	{ "write:iocs", SCOPE_WRITE_IOCS },
		{ "admin", SCOPE_ADMIN },
	};
	CHECK_INT(sizeof(scopes) / sizeof(scopes[0]), SCOPE_COUNT);
	for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
		CHECK_INT(scope_from_name(scopes[i].name), scopes[i].bit);
		CHECK_STR(scope_name(scopes[i].bit), scopes[i].name);
	}
	CHECK_INT(scope_from_name("READ:IOCS"), 0);
	CHECK_INT(scope_from_name("read"), 0);
	CHECK_INT(scope_from_name(""), 0);
	CHECK_INT(scope_from_name("write:stix"), 0);
	CHECK_STR(scope_name(0), "");
	CHECK_STR(scope_name(SCOPE_READ_IOCS | SCOPE_ADMIN), "");	/* not a single bit */

	char out[256];
	scopes_format(0, out, sizeof(out));
	CHECK_STR(out, "");
	scopes_format(SCOPE_READ_IOCS, out, sizeof(out));
	CHECK_STR(out, "read:iocs");
	scopes_format(SCOPE_ADMIN | SCOPE_READ_IOCS, out, sizeof(out));
	CHECK_STR(out, "read:iocs admin");
	scopes_format((1u << SCOPE_COUNT) - 1, out, sizeof(out));
	CHECK_STR(out, "read:iocs read:stix read:sigma read:misp read:cef read:openioc read:taxii "
		       "write:iocs admin");
	/* bits beyond the known scopes are ignored */
	scopes_format(SCOPE_WRITE_IOCS | (1u << 20), out, sizeof(out));
	CHECK_STR(out, "write:iocs");
	/* Each name of a formatted list parses back to its bit. */
	unsigned all = 0;
	scopes_format((1u << SCOPE_COUNT) - 1, out, sizeof(out));
	for (char *tok = strtok(out, " "); tok; tok = strtok(NULL, " "))
		all |= scope_from_name(tok);
	CHECK_INT(all, (1u << SCOPE_COUNT) - 1);

	/* A short buffer holds whole names only, never a cut one, and stays terminated. */
	char small[15];
	memset(small, '#', sizeof(small));
	scopes_format(SCOPE_READ_IOCS | SCOPE_READ_STIX, small, sizeof(small));
	CHECK(memchr(small, '\0', sizeof(small)) != NULL);
	CHECK_STR(small, "read:iocs");
}

static void cleanup_dir(void)
{
	char p[128];
	for (int i = 0; i < nfiles; i++) {
		snprintf(p, sizeof(p), "%s/c%03d.yaml", dir, i);
		if (unlink(p) != 0)
			fprintf(stderr, "unlink %s: %s\n", p, strerror(errno));
	}
	if (rmdir(dir) != 0)
		fprintf(stderr, "rmdir %s: %s\n", dir, strerror(errno));
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/cairn-test-config-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	test_defaults();
	test_full_file();
	test_empty();
	test_errors();
	test_invalid_yaml();
	test_names();
	cleanup_dir();
	return check_summary("test_config");
}
