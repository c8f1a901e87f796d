#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "cli/cli.h"
#include "config/config.h"
#include "export/ecs.h"
#include "export/export.h"
#include "export/export_lines.h"
#include "store/store.h"

static const char usage[] =
	"usage: cairn export --format F [FILTERS] [-o FILE]\n"
	"\n"
	"Writes the bytes the matching endpoint serves for the same filters (with --since given\n"
	"explicitly, as the API clamps it to the key's lookback), streaming, to FILE or stdout.\n"
	"  --format stix             a STIX 2.1 bundle (GET /api/v1/iocs/stix)\n"
	"  --format sigma            Sigma rules, multi-document YAML (GET /api/v1/iocs/sigma)\n"
	"  --format ecs              ECS documents, one a line (GET /api/v1/iocs/ecs; docs/ecs.md)\n"
	"  --format misp             one MISP event, for MISP's /events/add (GET /api/v1/iocs/misp)\n"
	"  --format cef|syslog       ArcSight CEF / RFC 5424 lines (GET /api/v1/iocs/cef)\n"
	"  --format openioc          an OpenIOC 1.0 document (GET /api/v1/iocs/openioc)\n"
	"  --format splunk --kind K  the CSV of a Splunk ES threat collection, K = ip, domain,\n"
	"                            file, url or email (GET /api/v1/iocs/splunk?kind=K)\n"
	"  --format txt|hosts|rpz    a value a line / a hosts file / a DNS RPZ zone\n"
	"                            (GET /api/v1/iocs?format=...)\n"
	"  --type T[,T...]           indicator types\n"
	"  --confidence C[,C...]     high, medium, low, none\n"
	"  --min-score N             0-100\n"
	"  --since T, --until T      RFC 3339: records added or updated in that window\n"
	"  --tag T, --source FEED, --category C, --industry SLUG\n"
	"  --include-expired         also expired and revoked records\n"
	"  --limit N                 at most N records (default: all)\n"
	"  --tlp LEVEL               override every object's TLP marking\n"
	"  --objects                 a bare JSON array of objects instead of a bundle\n"
	"  --no-identity, --no-markings   leave out cairn's identity / the TLP definitions\n"
	"  --include-custom          also ATT&CK tactics, as custom x-mitre-tactic objects\n"
	"  --profile P               sigma: sysmon (default) or network (firewall/dns/proxy);\n"
	"                            ecs: ecs (default) or ti_custom\n"
	"  --group type              sigma: one rule per indicator type, values as a list\n"
	"  --tlp-tags                sigma: a tlp.<level> tag for every level (default: only\n"
	"                            tlp.clear, the one SigmaHQ accepts; others in the description)\n"
	"  --base-url URL            sigma: the server's public URL in each rule's references\n"
	"                            (default: base_url of --config, else http://LISTEN)\n"
	"  --config FILE             the server's configuration (for base_url and listen)\n"
	"  --ip-type ip-dst|ip-src   MISP: the attribute type of IP addresses (default ip-dst)\n"
	"  --expiration-duration D   ecs: the ioc_expiration_duration, e.g. 90d (default), 12h, 1d12h\n"
	"  --feed-name N, --feed-reference URL   ecs: threat.feed.* (default name: cairn)\n"
	"  -o FILE                   output file (default: stdout)\n"
	"  --db PATH                 database (default $CAIRN_DB, else ./cairn.db)\n";

static int file_sink(void *ctx, const char *p, size_t n)
{
	return fwrite(p, 1, n, ctx) == n ? 0 : -1;
}

static bool parse_list(const char *s, unsigned *out, bool types)
{
	static const char *const bands[4] = { "none", "low", "medium", "high" };
	char tmp[256];
	snprintf(tmp, sizeof(tmp), "%s", s);
	for (char *tok = strtok(tmp, ","); tok; tok = strtok(NULL, ",")) {
		if (types) {
			enum ioc_type t = ioc_type_from_name(tok, strlen(tok));
			if (t == IOC_NONE)
				return false;
			*out |= 1u << t;
		} else {
			int b = 0;
			while (b < 4 && strcmp(tok, bands[b]))
				b++;
			if (b == 4)
				return false;
			*out |= 1u << b;
		}
	}
	return *out != 0;
}

/* The base URL of a rule's references: --base-url, else the configuration's base_url, else
 * http:// and its listen address, as the server would answer without a Host header. */
static bool base_url_of(const char *base, const char *conf, char *out, size_t cap)
{
	struct config cfg;
	struct err e = { 0 };
	config_defaults(&cfg);
	if (conf && config_load(&cfg, conf, &e) != 0) {
		cli_fail("export", "%s", e.msg);
		return false;
	}
	if (base == NULL)
		base = cfg.base_url[0] ? cfg.base_url : NULL;
	if (base == NULL) {
		snprintf(out, cap, "http://%s", cfg.listen);
		return true;
	}
	size_t n = strlen(base);
	while (n && base[n - 1] == '/')
		n--;
	if (n == 0 || n >= cap || (strncmp(base, "http://", 7) && strncmp(base, "https://", 8))) {
		cli_fail("export", "--base-url must be an http:// or https:// URL");
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)base[i] <= ' ' || base[i] == 0x7f) {
			cli_fail("export", "--base-url must be an http:// or https:// URL");
			return false;
		}
	memcpy(out, base, n);
	out[n] = '\0';
	return true;
}

int cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' }, { "type", required_argument, NULL, 't' },
		{ "confidence", required_argument, NULL, 'c' }, { "min-score", required_argument, NULL, 'm' },
		{ "since", required_argument, NULL, 's' }, { "until", required_argument, NULL, 'u' },
		{ "tag", required_argument, NULL, 'g' }, { "source", required_argument, NULL, 'S' },
		{ "category", required_argument, NULL, 'C' }, { "industry", required_argument, NULL, 'I' },
		{ "include-expired", no_argument, NULL, 'x' }, { "limit", required_argument, NULL, 'l' },
		{ "tlp", required_argument, NULL, 'T' }, { "objects", no_argument, NULL, 'O' },
		{ "no-identity", no_argument, NULL, 'N' }, { "no-markings", no_argument, NULL, 'M' },
		{ "include-custom", no_argument, NULL, 'U' }, { "output", required_argument, NULL, 'o' }, { "db", required_argument, NULL, 'd' },
		{ "profile", required_argument, NULL, 'P' }, { "group", required_argument, NULL, 'G' },
		{ "base-url", required_argument, NULL, 'B' }, { "tlp-tags", no_argument, NULL, 'L' }, { "config", required_argument, NULL, 'K' },
		{ "ip-type", required_argument, NULL, 'V' },
		{ "expiration-duration", required_argument, NULL, 'E' },
		{ "feed-name", required_argument, NULL, 'F' }, { "feed-reference", required_argument, NULL, 'R' },
		{ "kind", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	struct ioc_filter f;
	struct stix_export_opts o = { .identity = true, .markings = true };
	struct sigma_export_opts so = { .profile = SIGMA_PROFILE_SYSMON };
	struct misp_export_opts mo = { 0 };
	struct ecs_opts eo = { .profile = ECS_PROFILE_ECS, .feed_name = "cairn", .expiration_text = "90d" };
	const char *format = NULL, *out = NULL, *db = NULL, *base = NULL, *conf = NULL, *profile = NULL;
	const char *kind = NULL;
	struct err e = { 0 };
	int c;
	memset(&f, 0, sizeof(f));
	f.min_score = -1;
	f.now = time_now_us();
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		char *end;
		long v;
		switch (c) {
		case 'f': format = optarg; break;
		case 't':
			if (!parse_list(optarg, &f.types, true)) {
				cli_fail("export", "--type: not a list of indicator types");
				return 2;
			}
			break;
		case 'c':
			if (!parse_list(optarg, &f.bands, false)) {
				cli_fail("export", "--confidence: expected high, medium, low or none");
				return 2;
			}
			break;
		case 'm':
			v = strtol(optarg, &end, 10);
			if (*end || v < 0 || v > 100) {
				cli_fail("export", "--min-score must be from 0 to 100");
				return 2;
			}
			f.min_score = (int)v;
			break;
		case 's':
		case 'u':
			if (time_parse_rfc3339(optarg, strlen(optarg), c == 's' ? &f.since : &f.until, &e) != 0) {
				cli_fail("export", "--%s: %s", c == 's' ? "since" : "until", e.msg);
				return 2;
			}
			f.window_is_narrow = true;
			break;
		case 'g': f.tag = optarg; break;
		case 'S': f.source = optarg; break;
		case 'C': f.category = optarg; break;
		case 'I': f.industry = ioc_industry_canon(optarg); break;
		case 'x': f.include_expired = true; break;
		case 'l':
			v = strtol(optarg, &end, 10);
			if (*end || v < 1) {
				cli_fail("export", "--limit must be a positive number");
				return 2;
			}
			f.limit = v;
			break;
		case 'T':
			if ((o.tlp = ioc_tlp_canon(optarg)) == NULL) {
				cli_fail("export", "--tlp must be clear, green, amber, amber+strict or red");
				return 2;
			}
			break;
		case 'V':
			if (strcmp(optarg, "ip-dst") && strcmp(optarg, "ip-src")) {
				cli_fail("export", "--ip-type must be ip-dst or ip-src");
				return 2;
			}
			mo.ip_src = !strcmp(optarg, "ip-src");
			break;
		case 'O': o.objects_only = true; break;
		case 'U': o.custom = true; break;
		case 'N': o.identity = false; break;
		case 'M': o.markings = false; break;
		case 'P':
			profile = optarg;	/* read once --format is known */
			break;
		case 'G':
			if (strcmp(optarg, "type") != 0) {
				cli_fail("export", "--group must be type");
				return 2;
			}
			so.group_by_type = true;
			break;
		case 'B': base = optarg; break;
		case 'L': so.tlp_tags = true; break;
		case 'K': conf = optarg; break;
		case 'E':
			if (ecs_parse_duration(optarg) < 0) {
				cli_fail("export", "--expiration-duration: expected e.g. 90d, 12h, 30m or 1d12h");
				return 2;
			}
			eo.expiration_text = optarg;
			break;
		case 'F': eo.feed_name = optarg; break;
		case 'R': eo.feed_reference = optarg; break;
		case 'k': kind = optarg; break;
		case 'o': out = optarg; break;
		case 'd': db = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	int lines = line_format_from_name(format);
	bool ecs = format && !strcmp(format, "ecs");
	bool splunk = format && !strcmp(format, "splunk");
	if (format == NULL || (strcmp(format, "stix") != 0 && strcmp(format, "sigma") != 0 &&
			       strcmp(format, "misp") != 0 && !ecs && !splunk && lines < 0)) {
		cli_fail("export", format ? "--format %s is not available (stix, sigma, ecs, misp, cef, syslog, openioc, txt, hosts, rpz, splunk)"
					  : "--format is required (stix, sigma, ecs, misp, cef, syslog, openioc, txt, hosts, rpz, splunk)%s",
			 format ? format : "");
		return 2;
	}
	int skind = splunk_kind_from_name(kind);
	if (splunk && skind < 0) {
		cli_fail("export", "--format splunk needs --kind ip, domain, file, url or email");
		return 2;
	}
	if (kind && !splunk) {
		cli_fail("export", "--kind applies to --format splunk");
		return 2;
	}
	if (splunk && f.types && !(f.types & splunk_kind_types((enum splunk_kind)skind))) {
		cli_fail("export", "--type: none of these types is of kind %s", kind);
		return 2;
	}
	bool sigma = !strcmp(format, "sigma");
	if (profile && sigma) {
		if (sigma_profile_from_name(profile) < 0) {
			cli_fail("export", "--profile must be sysmon or network");
			return 2;
		}
		so.profile = (enum sigma_profile)sigma_profile_from_name(profile);
	} else if (profile && ecs) {
		if (ecs_profile_from_name(profile) < 0) {
			cli_fail("export", "--profile must be ecs or ti_custom");
			return 2;
		}
		eo.profile = (enum ecs_profile)ecs_profile_from_name(profile);
	} else if (profile) {
		cli_fail("export", "--profile applies to --format sigma and ecs");
		return 2;
	}
	eo.expiration_us = ecs_parse_duration(eo.expiration_text);
	eo.tlp = o.tlp;
	char base_buf[CONFIG_STR_MAX + 8];
	if (sigma && !base_url_of(base, conf, base_buf, sizeof(base_buf)))
		return 2;
	so.base_url = base_buf;
	if (optind < argc) {
		cli_fail("export", "unexpected argument '%s'", argv[optind]);
		return 2;
	}
	struct store *s;
	if (store_open(&s, cli_db_path(db), NULL, STORE_READONLY, &e) != 0) {
		cli_fail("export", "%s", e.msg);
		return 1;
	}
	FILE *fp = out ? fopen(out, "wb") : stdout;
	if (fp == NULL) {
		cli_fail("export", "cannot write '%s': %s", out, strerror(errno));
		store_close(s);
		return 1;
	}
	struct export_sink sink = { file_sink, fp };
	int64_t n = 0, skipped = 0, docs = 0;
	int rc;
	mo.tlp = o.tlp;
	if (sigma) {
		struct sigma_export_stats st;
		rc = export_sigma(s, &f, &so, &sink, &st, &e);
		n = st.rules;
		skipped = st.skipped;
	} else if (lines >= 0) {
		struct lines_result res;
		rc = export_lines(s, &f, (enum line_format)lines, &sink, &res, &e);
		n = res.count;
		skipped = res.omitted;
	} else if (ecs) {
		rc = export_ecs(s, &f, &eo, o.tlp, &sink, &n, &skipped, &docs, &e);
	} else if (splunk) {
		rc = export_splunk(s, &f, (enum splunk_kind)skind, &sink, &n, NULL, &e);
	} else if (!strcmp(format, "misp")) {
		rc = export_misp(s, &f, &mo, &sink, &n, &e);
	} else {
		rc = export_stix(s, &f, &o, &sink, &n, &skipped, &e);
	}
	if (fflush(fp) != 0 && rc == 0)
		rc = err_set(&e, ERR_IO, "writing the output failed");
	if (out && fclose(fp) != 0 && rc == 0)
		rc = err_set(&e, ERR_IO, "writing '%s' failed", out);
	store_close(s);
	if (rc) {
		cli_fail("export", "%s", e.msg);
		return 1;
	}
	if (out)
		fprintf(stderr, "cairn export: %lld %s written to %s\n", (long long)n, sigma ? "rules" : "records", out);
	if (sigma && skipped)
		fprintf(stderr, "cairn export: %lld indicators left out (ATT&CK tactics, SHA-512, IPv6 ranges, values"
				" a rule cannot carry)\n", (long long)skipped);
	else if (skipped && lines >= 0)
		fprintf(stderr, "cairn export: %lld records the %s format cannot express left out\n",
			(long long)skipped, format);
	else if (skipped && ecs)
		fprintf(stderr, "cairn export: %lld records without an indicator (CVEs, ATT&CK) left out\n",
			(long long)skipped);
	else if (skipped)
		fprintf(stderr, "cairn export: %lld ATT&CK tactics left out (--include-custom adds them)\n",
			(long long)skipped);
	return 0;
}
