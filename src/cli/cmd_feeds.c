#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "cli/cli.h"
#include "feeds/feeds.h"
#include "store/store.h"

static const char usage[] =
	"usage: cairn feeds add NAME --url URL --format txt|csv|json|stix|taxii [--interval 1h]\n"
	"                 [--type T] [--confidence N] [--reliability A-F] [--snapshot] [--tag T]...\n"
	"                 [--tlp LEVEL] [--category C] [--industry SLUG]... [--lifetime DAYS]\n"
	"                 [--collection ID|ALIAS] [--map FIELD=COLUMN]...\n"
	"                 [--auth basic|bearer|header --secret-env VAR [--user U]] [--max-bytes N]\n"
	"       cairn feeds list\n"
	"       cairn feeds remove NAME\n"
	"       cairn feeds run [NAME]\n"
	"\n"
	"add defines a feed that `cairn serve` pulls every --interval (s, m, h or d; default 1h).\n"
	"Its values get the feed's name as source and the given type, confidence, tags, TLP and\n"
	"category. taxii feeds poll a TAXII 2.1 collection: --url is the collection's URL, or a\n"
	"discovery or API root URL with --collection. Secrets are never stored: --secret-env names\n"
	"the environment variable that holds the password or token when the feed is pulled.\n"
	"run pulls the named feed (or every feed) now, once, and prints what changed. remove\n"
	"forgets the feed; its indicators stay. Every form takes --db PATH and --config FILE.\n";

static int list_line(void *ctx, const struct feed_row *r)
{
	struct feed_def f;
	struct err e = { 0 };
	(void)ctx;
	snprintf(f.name, sizeof(f.name), "%s", r->name);
	if (feed_def_parse(r->def, &f, &e) != 0) {
		printf("%s  (unreadable definition: %s)\n", r->name, e.msg);
		return 0;
	}
	char last[40] = "never", next[40] = "now";
	if (r->last_run)
		time_format_to(last, r->last_run, TIME_SEC);
	if (r->next_run)
		time_format_to(next, r->next_run, TIME_SEC);
	printf("%s  %s  %s  every %llds  reliability %c  last %s (%s)  next %s%s%s\n", r->name, f.format, f.url,
	       (long long)f.interval_s, f.reliability, last, r->last_status[0] ? r->last_status : "-", next,
	       r->last_error[0] ? "  error: " : "", r->last_error);
	return 0;
}

static void print_result(const char *name, const struct feed_result *r)
{
	if (!strcmp(r->status, "failed"))
		printf("feed %s: failed: %s\n", name, r->error);
	else if (r->not_modified)
		printf("feed %s: not modified\n", name);
	else if (r->snapshot)
		printf("feed %s: %s, read %lld, new %lld, updated %lld, rejected %lld, ended %lld\n", name,
		       r->status, (long long)r->read, (long long)r->added, (long long)r->updated,
		       (long long)r->rejected, (long long)r->ended);
	else
		printf("feed %s: %s, read %lld, new %lld, updated %lld, rejected %lld\n", name, r->status,
		       (long long)r->read, (long long)r->added, (long long)r->updated, (long long)r->rejected);
}

struct names {
	char (*v)[FEED_NAME_MAX];
	size_t n;
};

static int collect_name(void *ctx, const struct feed_row *r)
{
	struct names *ns = ctx;
	ns->v = realloc(ns->v, (ns->n + 1) * sizeof(*ns->v));
	if (ns->v == NULL)
		abort();
	snprintf(ns->v[ns->n++], FEED_NAME_MAX, "%s", r->name);
	return 0;
}

int cmd_feeds(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' }, { "format", required_argument, NULL, 'f' },
		{ "interval", required_argument, NULL, 'i' }, { "type", required_argument, NULL, 't' },
		{ "confidence", required_argument, NULL, 'C' }, { "reliability", required_argument, NULL, 'r' },
		{ "snapshot", no_argument, NULL, 'S' }, { "tag", required_argument, NULL, 'g' },
		{ "tlp", required_argument, NULL, 'T' }, { "category", required_argument, NULL, 'k' },
		{ "collection", required_argument, NULL, 'o' }, { "auth", required_argument, NULL, 'a' },
		{ "secret-env", required_argument, NULL, 'e' }, { "user", required_argument, NULL, 'U' },
		{ "max-bytes", required_argument, NULL, 'm' }, { "db", required_argument, NULL, 'd' },
		{ "industry", required_argument, NULL, 'n' }, { "lifetime", required_argument, NULL, 'L' },
		{ "map", required_argument, NULL, 'M' },
		{ "config", required_argument, NULL, 'c' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *sub = argv[1], *db = NULL, *config = NULL;
	struct feed_def f;
	feed_def_init(&f);
	int c;
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'u': snprintf(f.url, sizeof(f.url), "%s", optarg); break;
		case 'f': snprintf(f.format, sizeof(f.format), "%s", optarg); break;
		case 'i':
			f.interval_s = feed_interval_parse(optarg);
			if (f.interval_s < 0) {
				cli_fail("feeds", "--interval must be like 90s, 15m, 1h or 1d");
				return 2;
			}
			break;
		case 't': snprintf(f.type, sizeof(f.type), "%s", optarg); break;
		case 'C':
			f.confidence = (int)strtol(optarg, &end, 10);
			if (*end || *optarg == '\0' || f.confidence < 0 || f.confidence > 100) {
				cli_fail("feeds", "--confidence must be 0-100");
				return 2;
			}
			break;
		case 'r':
			if (strlen(optarg) != 1) {
				cli_fail("feeds", "--reliability must be a grade from A to F");
				return 2;
			}
			f.reliability = optarg[0];
			break;
		case 'S': f.snapshot = true; break;
		case 'g':
			if (f.ntags == FEED_TAGS_MAX || strlen(optarg) >= sizeof(f.tags[0])) {
				cli_fail("feeds", "at most %d tags of up to 63 bytes", FEED_TAGS_MAX);
				return 2;
			}
			snprintf(f.tags[f.ntags++], sizeof(f.tags[0]), "%s", optarg);
			break;
		case 'T': snprintf(f.tlp, sizeof(f.tlp), "%s", optarg); break;
		case 'k': snprintf(f.category, sizeof(f.category), "%s", optarg); break;
		case 'o': snprintf(f.collection, sizeof(f.collection), "%s", optarg); break;
		case 'a': snprintf(f.auth, sizeof(f.auth), "%s", optarg); break;
		case 'e': snprintf(f.secret_env, sizeof(f.secret_env), "%s", optarg); break;
		case 'U': snprintf(f.user, sizeof(f.user), "%s", optarg); break;
		case 'm':
			f.max_bytes = strtoll(optarg, &end, 10);
			if (*end || f.max_bytes < 1024) {
				cli_fail("feeds", "--max-bytes must be at least 1024");
				return 2;
			}
			break;
		case 'n':
			if (f.nindustries == 4 || strlen(optarg) >= sizeof(f.industries[0])) {
				cli_fail("feeds", "at most 4 industries of up to 63 bytes");
				return 2;
			}
			snprintf(f.industries[f.nindustries++], sizeof(f.industries[0]), "%s", optarg);
			break;
		case 'L':
			f.lifetime_days = (int)strtol(optarg, &end, 10);
			if (*end || *optarg == '\0' || f.lifetime_days < 1 || f.lifetime_days > 36500) {
				cli_fail("feeds", "--lifetime must be 1-36500 days");
				return 2;
			}
			break;
		case 'M': {
			const char *eq = strchr(optarg, '=');
			char field[32];
			snprintf(field, sizeof(field), "%.*s", eq ? (int)(eq - optarg) : 0, optarg);
			int fi = eq ? import_field_from_name(field) : -1;
			if (fi < 0 || eq[1] == '\0' || strlen(eq + 1) >= sizeof(f.map[0])) {
				cli_fail("feeds", "--map takes FIELD=COLUMN (as cairn import --map)");
				return 2;
			}
			snprintf(f.map[fi], sizeof(f.map[0]), "%s", eq + 1);
			break;
		}
		case 'd': db = optarg; break;
		case 'c': config = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	bool add = !strcmp(sub, "add"), list = !strcmp(sub, "list"), rm = !strcmp(sub, "remove"),
	     run = !strcmp(sub, "run");
	if (!add && !list && !rm && !run) {
		cli_fail("feeds", "unknown subcommand '%.32s' (add, list, remove, run)", sub);
		return 2;
	}
	int want = add || rm ? 1 : 0;
	if ((add || rm) ? optind + 1 != argc : (list ? optind != argc : optind + 1 < argc)) {
		cli_fail("feeds", want ? "%s takes one feed name" : "unexpected argument", sub);
		return 2;
	}
	const char *name = optind < argc ? argv[optind] : NULL;
	struct err e = { 0 };
	if (add) {
		snprintf(f.name, sizeof(f.name), "%s", name);
		if (strlen(name) >= sizeof(f.name) || f.url[0] == '\0' || f.format[0] == '\0') {
			cli_fail("feeds", strlen(name) >= sizeof(f.name) ? "the feed name is too long"
									   : "add needs --url and --format");
			return 2;
		}
		if (feed_def_check(&f, &e) != 0) {
			cli_fail("feeds", "%s", e.msg);
			return 2;
		}
	}
	struct config cfg;
	if (!cli_config(&cfg, config, "feeds"))
		return 1;
	struct store *s;
	if (store_open(&s, cli_db_path(db), &cfg, 0, &e) != 0) {
		cli_fail("feeds", "%s", e.msg);
		return 1;
	}
	int changed, rc = feeds_from_config(s, &cfg, &changed, &e);
	if (rc) {
		store_close(s);
		cli_fail("feeds", "%s", e.msg);
		return 1;
	}
	if (add) {
		struct buf json = BUF_INIT;
		feed_def_json(&f, &json);
		rc = store_feed_def_add(s, f.name, json.data, time_now_us(), &e);
		buf_cleanup(&json);
		if (rc == 0)
			printf("feed %s added: %s %s, every %llds\n", f.name, f.format, f.url, (long long)f.interval_s);
	} else if (rm) {
		rc = store_feed_def_remove(s, name, &e);
		if (rc == 0)
			printf("feed %s removed; its indicators stay\n", name);
	} else if (list) {
		rc = store_feed_def_list(s, NULL, list_line, NULL, &e);
	} else {
		struct names ns = { NULL, 0 };
		rc = store_feed_def_list(s, name, collect_name, &ns, &e);
		bool any_failed = false;
		for (size_t i = 0; rc == 0 && i < ns.n; i++) {
			struct feed_result r;
			rc = feed_run(s, &cfg, ns.v[i], time_now_us(), &r, &e);
			if (rc == 0) {
				print_result(ns.v[i], &r);
				any_failed = any_failed || !strcmp(r.status, "failed");
			}
		}
		if (rc == 0 && ns.n == 0)
			printf("no feeds defined (cairn feeds add)\n");
		free(ns.v);
		if (rc == 0 && any_failed)
			rc = 3;
	}
	store_close(s);
	if (rc == 3)
		return 1;	/* a pull failed: said above */
	if (rc) {
		cli_fail("feeds", "%s", e.msg);
		return 1;
	}
	return 0;
}
