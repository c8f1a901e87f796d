#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "cli/cli.h"
#include "store/store.h"

static const char usage[] =
	"usage: cairn keys create --tier free|pro|admin [--name NAME] [--scope S]... [--expires-in-days N]\n"
	"       cairn keys list\n"
	"       cairn keys revoke ID|PREFIX [--reason TEXT]\n"
	"\n"
	"create prints the new key alone on stdout; it is stored only as a hash and cannot be\n"
	"shown again. Every form takes --db PATH and --config FILE.\n";

static int key_line(void *ctx, const struct api_key *k)
{
	char scopes[256], created[40], expires[40] = "never", state[16] = "active";
	(void)ctx;
	scopes_format(k->scopes, scopes, sizeof(scopes));
	time_format_to(created, k->created_at, TIME_SEC);
	if (k->expires_at)
		time_format_to(expires, k->expires_at, TIME_SEC);
	if (k->revoked_at)
		snprintf(state, sizeof(state), "revoked");
	else if (k->expires_at && k->expires_at <= time_now_us())
		snprintf(state, sizeof(state), "expired");
	printf("%s  %-12s  %-5s  %-7s  created %s  expires %s  requests %lld  %s  [%s]\n", k->id, k->prefix,
	       tier_name(k->tier), state, created, expires, (long long)k->total_requests, k->name, scopes);
	return 0;
}

int cmd_keys(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tier", required_argument, NULL, 't' }, { "name", required_argument, NULL, 'n' },
		{ "scope", required_argument, NULL, 's' }, { "expires-in-days", required_argument, NULL, 'x' },
		{ "reason", required_argument, NULL, 'r' }, { "db", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = NULL, *name = NULL, *reason = "", *config = NULL;
	int tier = -1, c;
	unsigned scopes = 0;
	long days = 0;
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *sub = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			tier = tier_from_name(optarg);
			if (tier < 0) {
				cli_fail("keys", "--tier must be free, pro or admin");
				return 2;
			}
			break;
		case 'n': name = optarg; break;
		case 's': {
			unsigned bit = scope_from_name(optarg);
			if (bit == 0) {
				cli_fail("keys", "unknown scope '%s'", optarg);
				return 2;
			}
			scopes |= bit;
			break;
		}
		case 'x': {
			char *end;
			days = strtol(optarg, &end, 10);
			if (*end || days < 1 || days > 3650) {
				cli_fail("keys", "--expires-in-days must be from 1 to 3650");
				return 2;
			}
			break;
		}
		case 'r': reason = optarg; break;
		case 'd': db = optarg; break;
		case 'c': config = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	struct config cfg;
	if (!cli_config(&cfg, config, "keys"))
		return 1;
	struct err e = { 0 };
	struct store *s;
	int rc = 0;
	if (strcmp(sub, "create") && strcmp(sub, "list") && strcmp(sub, "revoke")) {
		cli_fail("keys", "unknown subcommand '%.32s' (create, list, revoke)", sub);
		return 2;
	}
	if (!strcmp(sub, "create") && (tier < 0 || optind < argc)) {
		cli_fail("keys", tier < 0 ? "create needs --tier free|pro|admin" : "unexpected argument");
		return 2;
	}
	if (!strcmp(sub, "revoke") && optind + 1 != argc) {
		cli_fail("keys", "revoke takes one key id or prefix");
		return 2;
	}
	if (store_open(&s, cli_db_path(db), &cfg, 0, &e) != 0) {
		cli_fail("keys", "%s", e.msg);
		return 1;
	}
	if (!strcmp(sub, "create")) {
		struct api_key k;
		char secret[API_KEY_LEN + 1];
		int64_t exp = days ? time_now_us() + days * USEC_PER_DAY : 0;
		if (store_key_create(s, name, tier, scopes, exp, &k, secret, &e) != 0) {
			cli_fail("keys", "%s", e.msg);
			rc = 1;
		} else {
			printf("%s\n", secret);
			memset(secret, 0, sizeof(secret));
		}
	} else if (!strcmp(sub, "list")) {
		if (store_key_list(s, key_line, NULL, &e) != 0) {
			cli_fail("keys", "%s", e.msg);
			rc = 1;
		}
	} else {
		struct api_key k;
		if (store_key_get(s, argv[optind], &k, &e) != 0 || store_key_revoke(s, k.id, reason, &e) != 0) {
			cli_fail("keys", "%s", e.msg);
			rc = 1;
		} else {
			printf("revoked %s (%s)\n", k.id, k.prefix);
		}
	}
	store_close(s);
	return rc;
}
