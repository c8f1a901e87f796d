#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "allow/allow_db.h"
#include "base/timeutil.h"
#include "cli/cli.h"
#include "json/jw.h"
#include "store/store.h"

static const char usage_lookup[] =
	"usage: cairn lookup [--type T] [--db PATH] VALUE\n"
	"\n"
	"Prints the record of VALUE (refanged and normalised first) as JSON, or\n"
	"{\"found\": false, …} when cairn does not know it (unknown, not safe).\n"
	"\"allowlist\" names the allow-list and entry that keep VALUE from being published\n"
	"(null when none does); \"suppressed\" says whether its record is hidden.\n";

static const char usage_stats[] =
	"usage: cairn stats [--db PATH]\n\nPrints the database's statistics as JSON.\n";

static int print_record(void *ctx, const struct ioc_record *r)
{
	struct jw *w = ctx;
	jw_kbool(w, "found", true);
	jw_kstr(w, "id", r->id);
	jw_kstr(w, "type", ioc_type_name(r->type));
	jw_kstr(w, "value", r->value);
	jw_kint(w, "score", r->score);
	jw_kstr(w, "confidence", ioc_confidence_band(r->score));
	jw_ktime(w, "first_seen", r->first_seen);
	jw_ktime(w, "last_seen", r->last_seen);
	jw_ktime(w, "valid_until", r->valid_until);
	jw_kbool(w, "revoked", r->revoked);
	jw_kbool(w, "suppressed", r->suppressed != 0);
	jw_key(w, "tags");
	jw_raw(w, r->tags, strlen(r->tags));
	jw_key(w, "mitre_techniques");
	jw_raw(w, r->techniques, strlen(r->techniques));
	jw_key(w, "sources");
	jw_raw(w, r->sources, strlen(r->sources));
	return 0;
}

int cmd_lookup(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, 't' }, { "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *db = NULL;
	enum ioc_type want = IOC_NONE;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			want = ioc_type_from_name(optarg, strlen(optarg));
			if (want == IOC_NONE) {
				cli_fail("lookup", "--type '%s' is not an indicator type", optarg);
				return 2;
			}
			break;
		case 'd': db = optarg; break;
		case 'h': fputs(usage_lookup, stdout); return 0;
		default: fputs(usage_lookup, stderr); return 2;
		}
	}
	if (optind + 1 != argc) {
		cli_fail("lookup", "give one value to look up");
		return 2;
	}
	char canon[IOC_VALUE_MAX + 1];
	size_t n;
	enum ioc_type t;
	struct err e = { 0 };
	if (ioc_canon(argv[optind], strlen(argv[optind]), want, IOC_REFANG, &t, canon, sizeof(canon), &n, &e)) {
		cli_fail("lookup", "%s", e.msg);
		return 1;
	}
	struct store *s;
	if (store_open(&s, cli_db_path(db), NULL, STORE_READONLY, &e) != 0) {
		cli_fail("lookup", "%s", e.msg);
		return 1;
	}
	struct buf b = BUF_INIT;
	struct jw w;
	jw_init(&w, &b);
	jw_obj(&w);
	int rc = store_ioc_get_value_any(s, t, canon, print_record, &w, &e);
	if (rc == ERR_NOT_FOUND) {
		jw_kbool(&w, "found", false);
		jw_kstr(&w, "type", ioc_type_name(t));
		jw_kstr(&w, "value", canon);
		rc = 0;
	}
	struct allow_set *allow = NULL;
	if (rc == 0)
		rc = allow_db_load(s, &allow, &e);
	if (rc == 0) {
		struct allow_hit hit;
		jw_key(&w, "allowlist");
		if (allow_match(allow, t, canon, n, &hit)) {
			jw_obj(&w);
			jw_kstr(&w, "list", hit.list);
			jw_kstr(&w, "entry", hit.entry);
			jw_kstr(&w, "kind", allow_kind_name(hit.kind));
			jw_end(&w);
		} else {
			jw_null(&w);
		}
	}
	allow_set_unref(allow);
	jw_end(&w);
	if (rc)
		cli_fail("lookup", "%s", e.msg);
	else
		printf("%s\n", b.data);
	buf_cleanup(&b);
	store_close(s);
	return rc ? 1 : 0;
}

int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *db = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'h': fputs(usage_stats, stdout); return 0;
		default: fputs(usage_stats, stderr); return 2;
		}
	}
	if (optind < argc) {
		cli_fail("stats", "unexpected argument '%s'", argv[optind]);
		return 2;
	}
	struct err e = { 0 };
	struct store *s;
	if (store_open(&s, cli_db_path(db), NULL, 0, &e) != 0) {
		cli_fail("stats", "%s", e.msg);
		return 1;
	}
	struct buf b = BUF_INIT;
	int rc = store_stats_json(s, &b, time_now_us(), &e);
	if (rc)
		cli_fail("stats", "%s", e.msg);
	else
		printf("%s\n", b.data);
	buf_cleanup(&b);
	store_close(s);
	return rc ? 1 : 0;
}
