#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "allow/allow_db.h"
#include "cli/cli.h"
#include "imp/importer.h"
#include "ioc/score.h"

static const char usage[] =
	"usage: cairn import [OPTIONS] FILE|-...\n"
	"\n"
	"Imports indicators: plain lists (one value a line, # comments), CSV with a header,\n"
	"JSON (an array, NDJSON, or a saved REST answer), STIX, or MISP events. Gzipped files\n"
	"are read as they are.\n"
	"Bad values are reported with their line numbers and skipped; the rest is imported.\n"
	"  --format auto|txt|csv|json|stix|misp   input format (auto: by extension and content)\n"
	"  --feed NAME          the feed these indicators come from (default: the file name)\n"
	"  --category C         the feed's category (government, commercial, community, ...)\n"
	"  --type T             force the type of every value (ipv4, domain, sha256, ...)\n"
	"  --confidence N       score 0-100 (or high/medium/low) for values that carry none\n"
	"  --reliability A-F    the feed's Admiralty reliability grade (default C), which\n"
	"                       weighs its scores (docs/scoring.md)\n"
	"  --tag T              add a tag to every value (repeatable)\n"
	"  --tlp LEVEL          clear, green, amber, amber+strict or red\n"
	"  --reference URL      the feed's reference URL\n"
	"  --map FIELD=COLUMN   CSV: read FIELD from COLUMN (value, type, confidence, first_seen,\n"
	"                       last_seen, valid_until, tags, context, reference_url, tlp,\n"
	"                       mitre_techniques, industries); repeatable\n"
	"  --delimiter C        CSV delimiter (default: detected)\n"
	"  --config FILE        configuration (type lifetimes, default score)\n"
	"  --db PATH            database (default $CAIRN_DB, else ./cairn.db)\n";

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

int cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' }, { "feed", required_argument, NULL, 'F' },
		{ "category", required_argument, NULL, 'C' }, { "type", required_argument, NULL, 't' },
		{ "confidence", required_argument, NULL, 'c' }, { "tag", required_argument, NULL, 'g' },
		{ "tlp", required_argument, NULL, 'L' }, { "reference", required_argument, NULL, 'r' },
		{ "map", required_argument, NULL, 'm' }, { "delimiter", required_argument, NULL, 'D' },
		{ "config", required_argument, NULL, 'k' }, { "db", required_argument, NULL, 'd' },
		{ "reliability", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	struct import_opts o;
	struct err e = { 0 };
	const char *db = NULL, *config = NULL, *feed = NULL;
	int c;
	memset(&o, 0, sizeof(o));
	o.defaults.score = -1;
	o.defaults.origin = "feed";
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (!strcmp(optarg, "auto"))
				o.format = IMPORT_AUTO;
			else if (!strcmp(optarg, "txt") || !strcmp(optarg, "list"))
				o.format = IMPORT_TXT;
			else if (!strcmp(optarg, "csv"))
				o.format = IMPORT_CSV;
			else if (!strcmp(optarg, "json"))
				o.format = IMPORT_JSON;
			else if (!strcmp(optarg, "stix"))
				o.format = IMPORT_STIX;
			else if (!strcmp(optarg, "misp"))
				o.format = IMPORT_MISP;
			else {
				cli_fail("import", "--format must be auto, txt, csv, json, stix or misp");
				return 2;
			}
			break;
		case 'F': feed = optarg; break;
		case 'C': o.defaults.category = optarg; break;
		case 't':
			o.defaults.type = ioc_type_from_name(optarg, strlen(optarg));
			if (o.defaults.type == IOC_NONE) {
				cli_fail("import", "--type '%s' is not an indicator type (ipv4, ipv6, domain, url,"
					 " md5, sha1, sha256, sha512, email, cve, mitre-attack)", optarg);
				return 2;
			}
			break;
		case 'c': {
			struct ioc_input tmp = { .score = -1 };
			if (imp_set_confidence(&tmp, optarg, &e) != 0) {
				cli_fail("import", "--confidence: %s", e.msg);
				return 2;
			}
			o.defaults.score = tmp.score;
			break;
		}
		case 'g':
			if (o.defaults.ntags == sizeof(o.defaults.tags) / sizeof(o.defaults.tags[0])) {
				cli_fail("import", "at most 16 --tag options");
				return 2;
			}
			o.defaults.tags[o.defaults.ntags++] = optarg;
			break;
		case 'L':
			o.defaults.tlp = ioc_tlp_canon(optarg);
			if (o.defaults.tlp == NULL) {
				cli_fail("import", "--tlp must be clear, green, amber, amber+strict or red");
				return 2;
			}
			break;
		case 'r': o.defaults.reference_url = optarg; break;
		case 'R':
			o.defaults.reliability = score_grade(optarg);
			if (o.defaults.reliability == 0) {
				cli_fail("import", "--reliability must be a grade from A to F");
				return 2;
			}
			break;
		case 'm': {
			char *eq = strchr(optarg, '=');
			int f = -1;
			if (eq) {
				*eq = '\0';
				f = import_field_from_name(optarg);
			}
			if (f < 0 || eq[1] == '\0') {
				cli_fail("import", "--map takes FIELD=COLUMN with FIELD one of value, type,"
					 " confidence, first_seen, last_seen, valid_until, tags, context,"
					 " reference_url, tlp, mitre_techniques, industries");
				return 2;
			}
			o.map[f] = eq + 1;
			break;
		}
		case 'D':
			if (!strcmp(optarg, "\\t") || !strcmp(optarg, "tab"))
				o.delimiter = '\t';
			else if (strlen(optarg) == 1)
				o.delimiter = optarg[0];
			else {
				cli_fail("import", "--delimiter takes one character (or 'tab')");
				return 2;
			}
			break;
		case 'k': config = optarg; break;
		case 'd': db = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (optind >= argc) {
		cli_fail("import", "no input files (use - for standard input)");
		return 2;
	}
	struct config cfg;
	if (!cli_config(&cfg, config, "import"))
		return 1;
	struct store *s;
	if (store_open(&s, cli_db_path(db), &cfg, 0, &e) != 0) {
		cli_fail("import", "%s", e.msg);
		return 1;
	}
	o.progress = isatty(2);
	store_bulk(s);
	/* Allow-list passes left undone (a new database's built-in list) come first, so what
	 * this import leaves published agrees with the lists. */
	if (allow_db_settle(s, NULL, 0, NULL, &e) != 0) {
		cli_fail("import", "%s", e.msg);
		store_close(s);
		return 1;
	}
	int status = 0;
	struct import_result *r = malloc(sizeof(*r));
	for (int i = optind; i < argc && r; i++) {
		const char *path = argv[i];
		o.defaults.feed = feed ? feed : strcmp(path, "-") ? base_name(path) : "stdin";
		o.feed_given = feed != NULL;
		if (o.defaults.category == NULL)
			o.defaults.category = "threat-intel";
		if (import_run(s, path, &o, r, &e) != 0) {
			/* What committed before the failure stays; say how much that was. */
			if (r->added || r->updated)
				cli_fail("import", "%s: %s (stopped after %lld new, %lld updated)", path, e.msg,
					 (long long)r->added, (long long)r->updated);
			else
				cli_fail("import", "%s: %s", path, e.msg);
			status = 1;
			continue;
		}
		printf("imported %s (%s, feed %s): read %lld, new %lld, updated %lld, rejected %lld,"
		       " skipped %lld\n", path, import_format_name(r->format), o.defaults.feed,
		       (long long)r->read, (long long)r->added, (long long)r->updated, (long long)r->rejected,
		       (long long)r->skipped);
		if (r->format == IMPORT_STIX)
			printf("  objects %lld: %lld versions stored, %lld already held; %lld patterns kept as"
			       " objects only (composite)\n", (long long)r->objects, (long long)r->objects_added,
			       (long long)r->objects_unchanged, (long long)r->composite);
		if (r->format == IMPORT_MISP)
			printf("  events %lld, attributes %lld (%lld in %lld objects): %lld of types cairn keeps no"
			       " indicator of, %lld deleted; %lld ATT&CK techniques from galaxies\n",
			       (long long)r->events, (long long)r->attributes, (long long)r->object_attributes,
			       (long long)r->misp_objects, (long long)r->unsupported, (long long)r->deleted,
			       (long long)r->galaxies);
		/* Values on allow-lists: read, not stored (the summary line keeps its form). */
		if (r->suppressed)
			printf("  suppressed %lld (on allow-lists)\n", (long long)r->suppressed);
		for (size_t k = 0; k < r->nsuppressions; k++)
			printf("  suppressed %s: allow-list %s, entry %s\n", r->suppressions[k].value,
			       r->suppressions[k].list, r->suppressions[k].entry);
		if (r->suppressed > (int64_t)r->nsuppressions)
			printf("  ... and %lld more suppressed\n", (long long)(r->suppressed - (int64_t)r->nsuppressions));
		for (size_t k = 0; k < r->nrejects; k++)
			printf("  line %zu: %s\n", r->rejects[k].line, r->rejects[k].reason);
		if (r->rejected > (int64_t)r->nrejects)
			printf("  ... and %lld more rejected\n", (long long)(r->rejected - (int64_t)r->nrejects));
	}
	free(r);
	store_close(s);
	return status;
}
