#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "base/xmalloc.h"
#include "cli/cli.h"
#include "sync/sync.h"
#include "sync/sync_config.h"

static const char usage[] =
	"usage: cairn sync --once --from SRC --to DST [--profile ecs|ti_custom]\n"
	"                  [--expiration-duration 90d] [--feed-name NAME] [--feed-reference URL]\n"
	"                  [--tlp LEVEL] [--state DIR] [--user U] [--password P] [--token T]\n"
	"                  [--api-key-header NAME] [--ca-file PEM] [--cert PEM --key PEM]\n"
	"                  [--limit N] [--max-pages N] [--all-objects] [--dry-run]\n"
	"                  [--es-index NAME] [--es-latest-index NAME | --es-no-latest] [--es-user U]\n"
	"                  [--es-password-env VAR] [--es-api-key-env VAR] [--es-ca-file PEM]\n"
	"                  [--es-cert PEM --es-key PEM] [--es-batch N] [--es-batch-mb N]\n"
	"                  [--sentinel-tenant T --sentinel-client-id ID [--sentinel-source-system S]\n"
	"                   [--sentinel-login-url URL] [--sentinel-api-url URL]]\n"
	"       cairn sync --config FILE [--once] [--dry-run] [--check]\n"
	"\n"
	"With --config, runs the pipelines of a YAML file (docs/sync.md): each on its interval until\n"
	"SIGTERM or SIGINT, with Prometheus metrics on metrics_listen; --once runs each once and\n"
	"exits (1 when one failed); --dry-run runs each once, printing what would be sent;\n"
	"--check only checks the file.\n"
	"\n"
	"Reads STIX 2.1 from SRC, maps it to Elastic Common Schema and writes the documents to DST,\n"
	"at least once: the source's cursor is saved in --state DIR only after the documents are\n"
	"durable, so a killed run loses nothing when run again.\n"
	"  SRC  a TAXII 2.1 collection URL (.../collections/ID/), a cairn server's base URL\n"
	"       (http(s)://HOST:PORT, or .../api/v1/iocs: its REST API), or a STIX file (a bundle, or\n"
	"       NDJSON of objects: .ndjson, .jsonl) or a folder of them\n"
	"  DST  a file (NDJSON, appended) or - for stdout, or elasticsearch+http(s)://HOST:PORT\n"
	"       (also opensearch+...): the _bulk API, a raw stream (--es-index, default\n"
	"       logs-ti_cairn.indicator-default) and a latest index (--es-latest-index, default\n"
	"       cairn-indicators-latest). Its credentials: $CAIRN_SYNC_ES_API_KEY (ApiKey), or\n"
	"       --es-user (or $CAIRN_SYNC_ES_USER) with $CAIRN_SYNC_ES_PASSWORD (Basic)\n"
	"       or splunk+http(s)://HOST:PORT, Splunk's HTTP Event Collector (docs/sync.md)\n"
	"       or sentinel://WORKSPACE_ID: Microsoft Sentinel's STIX upload API (STIX as it\n"
	"       came, no ECS; the application's secret in $CAIRN_SYNC_SENTINEL_SECRET)\n"
	"Credentials: --user/--password (Basic), --token (Bearer, or with --api-key-header the\n"
	"header that carries it), else $CAIRN_SYNC_USER, $CAIRN_SYNC_PASSWORD, $CAIRN_SYNC_TOKEN.\n"
	"Profiles: ecs (default) or ti_custom, Elastic's Custom Threat Intelligence documents\n"
	"(docs/ecs.md). Prints a summary: fetched, written, expired, failed.\n"
	"Splunk HEC: the token from $CAIRN_SYNC_SPLUNK_TOKEN (--splunk-token-env NAME: another\n"
	"variable); --splunk-index I, --splunk-sourcetype S (default cairn:ti:ecs), --splunk-source S,\n"
	"--splunk-host H, --splunk-batch N (events per request, default 500), --splunk-ack (indexer\n"
	"acknowledgement), --splunk-ack-timeout SECONDS (default 300), --splunk-ca-file PEM.\n";

/* Long-only options of the Splunk output: codes above any character. */
#define SPLUNK_OPT 0x5300

/* The --splunk-* options; 0, or 2 after a one-line message. */
static int splunk_option(int c, const char *arg, struct sync_splunk *sp, const char **token_env)
{
	char *end;
	long long v;
	switch (c - SPLUNK_OPT) {
	case 'i': sp->index = arg; break;
	case 't': sp->sourcetype = arg; break;
	case 's': sp->source = arg; break;
	case 'h': sp->host = arg; break;
	case 'e': *token_env = arg; break;
	case 'a': sp->ack = true; break;
	case 'c': sp->http.ca_file = arg; break;
	case 'w':
		v = strtoll(arg, &end, 10);
		if (*end || v < 1 || v > 86400) {
			cli_fail("sync", "--splunk-ack-timeout must be 1-86400 seconds");
			return 2;
		}
		sp->ack_timeout_s = v;
		break;
	case 'b':
		v = strtoll(arg, &end, 10);
		if (*end || v < 1 || v > 100000) {
			cli_fail("sync", "--splunk-batch must be 1-100000 events");
			return 2;
		}
		sp->batch_events = (int)v;
		break;
	default:
		return 2;
	}
	return 0;
}

/* Long options without a short form: the Elasticsearch output's. */
enum {
	OPT_ES_INDEX = 0x4500, OPT_ES_LATEST, OPT_ES_NO_LATEST, OPT_ES_USER, OPT_ES_PASSWORD_ENV,
	OPT_ES_API_KEY_ENV, OPT_ES_CA, OPT_ES_CERT, OPT_ES_KEY, OPT_ES_BATCH, OPT_ES_BATCH_MB,
};

/* `cairn sync --config FILE [--once] [--dry-run]`: the pipelines of a file (sync_config.h). */
static int sync_from_config(const char *path, bool other_flags, bool once, bool dry_run, bool check)
{
	if (other_flags) {
		cli_fail("sync", "--config takes only --once, --dry-run and --check: the pipelines' settings are in the file");
		return 2;
	}
	struct sync_config *sc = xcalloc(1, sizeof(*sc));
	struct err e = { 0 };
	int rc;
	if (sync_config_load(sc, path, &e) != 0) {
		cli_fail("sync", "%s", e.msg);
		rc = 2;
	} else if (check) {
		printf("%s: %d pipelines, valid\n", path, sc->npipe);
		rc = 0;
	} else {
		rc = sync_daemon(sc, once, dry_run);
	}
	sync_config_free(sc);
	free(sc);
	return rc;
}

int cmd_sync(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "once", no_argument, NULL, '1' }, { "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' }, { "profile", required_argument, NULL, 'p' },
		{ "expiration-duration", required_argument, NULL, 'x' }, { "feed-name", required_argument, NULL, 'n' },
		{ "feed-reference", required_argument, NULL, 'r' }, { "tlp", required_argument, NULL, 'T' },
		{ "state", required_argument, NULL, 's' }, { "user", required_argument, NULL, 'u' },
		{ "password", required_argument, NULL, 'P' }, { "token", required_argument, NULL, 'k' },
		{ "api-key-header", required_argument, NULL, 'H' }, { "ca-file", required_argument, NULL, 'C' },
		{ "cert", required_argument, NULL, 'c' }, { "key", required_argument, NULL, 'K' },
		{ "limit", required_argument, NULL, 'l' }, { "max-pages", required_argument, NULL, 'm' },
		{ "all-objects", no_argument, NULL, 'a' }, { "dry-run", no_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'g' }, { "help", no_argument, NULL, 'h' },
		{ "check", no_argument, NULL, 'z' },
		{ "sentinel-tenant", required_argument, NULL, 1000 }, { "sentinel-client-id", required_argument, NULL, 1001 },
		{ "sentinel-source-system", required_argument, NULL, 1002 },
		{ "sentinel-login-url", required_argument, NULL, 1003 }, { "sentinel-api-url", required_argument, NULL, 1004 },
		{ "es-index", required_argument, NULL, OPT_ES_INDEX },
		{ "es-latest-index", required_argument, NULL, OPT_ES_LATEST },
		{ "es-no-latest", no_argument, NULL, OPT_ES_NO_LATEST },
		{ "es-user", required_argument, NULL, OPT_ES_USER },
		{ "es-password-env", required_argument, NULL, OPT_ES_PASSWORD_ENV },
		{ "es-api-key-env", required_argument, NULL, OPT_ES_API_KEY_ENV },
		{ "es-ca-file", required_argument, NULL, OPT_ES_CA },
		{ "es-cert", required_argument, NULL, OPT_ES_CERT },
		{ "es-key", required_argument, NULL, OPT_ES_KEY },
		{ "es-batch", required_argument, NULL, OPT_ES_BATCH },
		{ "es-batch-mb", required_argument, NULL, OPT_ES_BATCH_MB },
		/* Splunk HEC (sync_out_splunk.c) */
		{ "splunk-index", required_argument, NULL, SPLUNK_OPT + 'i' },
		{ "splunk-sourcetype", required_argument, NULL, SPLUNK_OPT + 't' },
		{ "splunk-source", required_argument, NULL, SPLUNK_OPT + 's' },
		{ "splunk-host", required_argument, NULL, SPLUNK_OPT + 'h' },
		{ "splunk-token-env", required_argument, NULL, SPLUNK_OPT + 'e' },
		{ "splunk-ack", no_argument, NULL, SPLUNK_OPT + 'a' },
		{ "splunk-ack-timeout", required_argument, NULL, SPLUNK_OPT + 'w' },
		{ "splunk-batch", required_argument, NULL, SPLUNK_OPT + 'b' },
		{ "splunk-ca-file", required_argument, NULL, SPLUNK_OPT + 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct sync_opts o;
	memset(&o, 0, sizeof(o));
	o.ecs.profile = ECS_PROFILE_ECS;
	o.ecs.expiration_us = 90 * USEC_PER_DAY;
	o.ecs.expiration_text = "90d";
	o.sentinel.source_system = "cairn";
	o.sentinel.login_url = "https://login.microsoftonline.com";
	o.sentinel.api_url = "https://api.ti.sentinel.azure.com";
	o.sentinel.client_secret = getenv("CAIRN_SYNC_SENTINEL_SECRET");
	bool once = false;
	const char *user = getenv("CAIRN_SYNC_USER"), *password = getenv("CAIRN_SYNC_PASSWORD");
	const char *token = getenv("CAIRN_SYNC_TOKEN"), *key_header = NULL;
	const char *es_user = getenv("CAIRN_SYNC_ES_USER"), *es_password_env = "CAIRN_SYNC_ES_PASSWORD";
	const char *es_api_key_env = "CAIRN_SYNC_ES_API_KEY";
	const char *splunk_token_env = "CAIRN_SYNC_SPLUNK_TOKEN", *splunk_flag = NULL;
	const char *config = NULL;
	bool check = false;
	int c, li = 0, nflags = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, &li)) != -1) {
		char *end;
		if (c != '1' && c != 'd' && c != 'g' && c != 'h' && c != 'z' && c != '?')
			nflags++;
		switch (c) {
		case '1': once = true; break;
		case 'f': o.from = optarg; break;
		case 't': o.to = optarg; break;
		case 'p': {
			int p = ecs_profile_from_name(optarg);
			if (p < 0) {
				cli_fail("sync", "--profile must be ecs or ti_custom");
				return 2;
			}
			o.ecs.profile = (enum ecs_profile)p;
			break;
		}
		case 'x':
			o.ecs.expiration_us = ecs_parse_duration(optarg);
			if (o.ecs.expiration_us < 0) {
				cli_fail("sync", "--expiration-duration must be like 90d, 12h or 30m");
				return 2;
			}
			o.ecs.expiration_text = optarg;
			break;
		case 'n': o.ecs.feed_name = optarg; break;
		case 'r': o.ecs.feed_reference = optarg; break;
		case 'T': o.ecs.tlp = optarg; break;
		case 's': o.state_dir = optarg; break;
		case 'u': user = optarg; break;
		case 'P': password = optarg; break;
		case 'k': token = optarg; break;
		case 'H': key_header = optarg; break;
		case 'C': o.http.ca_file = optarg; break;
		case 'c': o.http.client_cert = optarg; break;
		case 'K': o.http.client_key = optarg; break;
		case 'l':
			o.page_limit = strtoll(optarg, &end, 10);
			if (*end || o.page_limit < 1 || o.page_limit > 100000) {
				cli_fail("sync", "--limit must be 1-100000");
				return 2;
			}
			break;
		case 'm':
			o.max_pages = (int)strtol(optarg, &end, 10);
			if (*end || o.max_pages < 1) {
				cli_fail("sync", "--max-pages must be a positive number");
				return 2;
			}
			break;
		case 'a': o.ecs.all_objects = true; break;
		case 'd': o.dry_run = true; break;
		case 'g': config = optarg; break;
		case 'z': check = true; break;
		case 1000: o.sentinel.tenant = optarg; break;
		case 1001: o.sentinel.client_id = optarg; break;
		case 1002: o.sentinel.source_system = optarg; break;
		case 1003: o.sentinel.login_url = optarg; break;
		case 1004: o.sentinel.api_url = optarg; break;
		case OPT_ES_INDEX: o.es.index = optarg; break;
		case OPT_ES_LATEST: o.es.latest_index = optarg; break;
		case OPT_ES_NO_LATEST: o.es.latest_index = ""; break;
		case OPT_ES_USER: es_user = optarg; break;
		case OPT_ES_PASSWORD_ENV: es_password_env = optarg; break;
		case OPT_ES_API_KEY_ENV: es_api_key_env = optarg; break;
		case OPT_ES_CA: o.es.http.ca_file = optarg; break;
		case OPT_ES_CERT: o.es.http.client_cert = optarg; break;
		case OPT_ES_KEY: o.es.http.client_key = optarg; break;
		case OPT_ES_BATCH:
			o.es.batch_docs = (int)strtol(optarg, &end, 10);
			if (*end || o.es.batch_docs < 1 || o.es.batch_docs > 10000) {
				cli_fail("sync", "--es-batch must be 1-10000 documents");
				return 2;
			}
			break;
		case OPT_ES_BATCH_MB: {
			long mb = strtol(optarg, &end, 10);
			if (*end || mb < 1 || mb > 100) {
				cli_fail("sync", "--es-batch-mb must be 1-100");
				return 2;
			}
			o.es.batch_bytes = (size_t)mb << 20;
			break;
		}
		case 'h': fputs(usage, stdout); return 0;
		default:
			if (c > SPLUNK_OPT && c < SPLUNK_OPT + 0x80) {
				if (splunk_option(c, optarg, &o.splunk, &splunk_token_env))
					return 2;
				splunk_flag = opts[li].name;
				break;
			}
			fputs(usage, stderr);
			return 2;
		}
	}
	if (config)
		return sync_from_config(config, nflags > 0 || optind != argc, once, o.dry_run, check);
	if (check) {
		cli_fail("sync", "--check applies to --config");
		return 2;
	}
	o.splunk.token = getenv(splunk_token_env);
	if (splunk_flag && o.to && strncmp(o.to, "splunk+", 7)) {
		cli_fail("sync", "--%s applies to a splunk+http(s):// --to", splunk_flag);
		return 2;
	}
	if (optind != argc || !once || o.from == NULL || o.to == NULL) {
		cli_fail("sync", optind != argc ? "unexpected argument '%s'"
			 : !once ? "only --once runs are built so far: add --once" : "--from and --to are required",
			 optind != argc ? argv[optind] : "");
		return 2;
	}
	if (user && *user) {
		o.http.auth = HC_AUTH_BASIC;
		o.http.user = user;
		o.http.password = password ? password : "";
	} else if (token && *token) {
		o.http.auth = key_header ? HC_AUTH_HEADER : HC_AUTH_BEARER;
		o.http.token = token;
		o.http.key_header = key_header;
	}
	char es_auth[1000];	/* with "Authorization: ", within http_client's header line */
	if (!sync_es_credentials(&o.es, es_user, es_password_env, es_api_key_env, es_auth, sizeof(es_auth))) {
		cli_fail("sync", "$%s is longer than an API key can be", es_api_key_env);
		return 2;
	}
	/* event.ingested: Elastic's "latest" transform syncs on it. */
	o.ecs.now = time_now_us();
	struct sync_stats st;
	struct err e = { 0 };
	int rc = sync_run_once(&o, &st, &e);
	fprintf(stderr, "cairn sync: fetched %lld, written %lld, expired %lld, failed %lld, skipped %lld%s%s\n",
		(long long)st.fetched, (long long)st.written, (long long)st.expired, (long long)st.failed,
		(long long)st.skipped, st.cursor[0] ? ", cursor " : "", st.cursor);
	if (rc) {
		cli_fail("sync", "%s", e.msg);
		return 1;
	}
	return 0;
}
