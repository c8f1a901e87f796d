#include "cli/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *cli_db_path(const char *flag)
{
	if (flag && *flag)
		return flag;
	const char *env = getenv("CAIRN_DB");
	return env && *env ? env : "./cairn.db";
}

void cli_fail(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "cairn %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

bool cli_config(struct config *c, const char *path, const char *cmd)
{
	struct err e = { 0 };
	config_defaults(c);
	if (path && config_load(c, path, &e) != 0) {
		cli_fail(cmd, "%s", e.msg);
		return false;
	}
	return true;
}

static const char usage[] =
	"usage: cairn COMMAND [OPTIONS]\n"
	"\n"
	"A self-hosted threat-intelligence indicator platform.\n"
	"\n"
	"commands:\n"
	"  serve    serve the REST API and the TAXII 2.1 server, and pull the feeds\n"
	"  import   import indicator lists, CSV or JSON into the database\n"
	"  keys     create, list and revoke API keys\n"
	"  lookup   look one value up in the database\n"
	"  pattern  check or explain a STIX 2.1 pattern\n"
	"  stats    print the database's statistics as JSON\n"
	"  export   write indicators in an export format (stix, sigma, ...)\n"
	"  feeds    add, list, remove and run the feeds cairn pulls\n"
	"  sync     STIX from a TAXII collection or files, as ECS documents, to a file\n"
	"  allowlist  add, list and remove the lists of values cairn never publishes\n"
	"\n"
	"Every command takes --db PATH (default $CAIRN_DB, else ./cairn.db) and --help.\n";

int cli_main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version")) {
		printf("cairn %s\n", CAIRN_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "serve"))
		return cmd_serve(argc - 1, argv + 1);
	if (!strcmp(cmd, "import"))
		return cmd_import(argc - 1, argv + 1);
	if (!strcmp(cmd, "keys"))
		return cmd_keys(argc - 1, argv + 1);
	if (!strcmp(cmd, "lookup"))
		return cmd_lookup(argc - 1, argv + 1);
	if (!strcmp(cmd, "pattern"))
		return cmd_pattern(argc - 1, argv + 1);
	if (!strcmp(cmd, "stats"))
		return cmd_stats(argc - 1, argv + 1);
	if (!strcmp(cmd, "export"))
		return cmd_export(argc - 1, argv + 1);
	if (!strcmp(cmd, "feeds"))
		return cmd_feeds(argc - 1, argv + 1);
	if (!strcmp(cmd, "sync"))
		return cmd_sync(argc - 1, argv + 1);
	if (!strcmp(cmd, "allowlist"))
		return cmd_allowlist(argc - 1, argv + 1);
	fprintf(stderr, "cairn: unknown command '%.64s' (see cairn --help)\n", cmd);
	return 2;
}
