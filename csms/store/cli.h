/*
 * store/cli.h — helpers shared by the store's subcommands (`ladewerk station …`,
 * `ladewerk token …`): option matching and opening the store named by --db / --config.
 */
#ifndef LW_STORE_CLI_H
#define LW_STORE_CLI_H

#include "store/store.h"

#include <stdio.h>

#define LW_STORE_DEFAULT_URL "sqlite:./ladewerk.db"

/* The options part every store subcommand's usage ends with (the same options mean the same
 * everywhere), for the last line(s) of its help text. */
#define LW_CLI_STORE_OPTIONS_HELP                                                                  \
    "options:\n"                                                                                   \
    "  --db URL         database (sqlite:PATH or a path; default " LW_STORE_DEFAULT_URL ")\n"      \
    "  --config FILE    read the 'db' key from FILE (--db wins)\n"                                 \
    "  -h, --help       this text\n"

/* The checks every store subcommand starts with: no action given prints usage to stderr and
 * returns 2; -h or --help anywhere prints usage to stdout and returns 0; otherwise returns -1
 * (go on). argv is borrowed; usage writes the subcommand's help to the stream it is given. */
int lw_cli_usage_check(int argc, char **argv, void (*usage)(FILE *out));

/* Matches argv[*i] against "--name VALUE" or "--name=VALUE". Returns 1 and *val (borrowed
 * from argv) when matched, advancing *i past a separate value; 0 when argv[*i] is another
 * option; -1 when the value is missing (a message naming the option is printed). */
int lw_cli_opt(int *i, int argc, char **argv, const char *name, const char **val);

/* Opens the store: --db URL if given, else the `db` key of --config FILE if given, else
 * LW_STORE_DEFAULT_URL. Prints the reason to stderr on failure. Returns 0 and *out (close
 * with lw_store_close) or 1 (the exit status for a failure). Borrows db and config. */
int lw_cli_store_open(const char *prog, const char *db, const char *config, lw_store_t **out);

/* Formats ms since epoch as "2026-01-02T03:04:05Z", or "-" for 0, into out (32 bytes). */
const char *lw_cli_time(int64_t ms, char out[32]);

#endif
