/*
 * cli.h — the subcommands of the `cairn` program, one file each. Every
 * command prints a one-line reason to stderr and returns non-zero on error;
 * --help prints its usage to stdout and returns 0.
 */
#ifndef CAIRN_CLI_CLI_H
#define CAIRN_CLI_CLI_H

#include <stdbool.h>

#include "config/config.h"

int cmd_serve(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_lookup(int argc, char **argv);
int cmd_pattern(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_feeds(int argc, char **argv);
int cmd_sync(int argc, char **argv);
int cmd_allowlist(int argc, char **argv);
int cli_main(int argc, char **argv);

/* The database path: --db, else $CAIRN_DB, else ./cairn.db. */
const char *cli_db_path(const char *flag);
/* Defaults, then the file if given; prints the reason and returns false on error. */
bool cli_config(struct config *c, const char *path, const char *cmd);
/* Prints "cairn CMD: message" to stderr. */
void cli_fail(const char *cmd, const char *fmt, ...) CAIRN_PRINTF(2, 3);

#endif
