/*
 * commands.h — the subcommands of build/ladewerk (the CLI contract in docs/design.md).
 * Each returns the process exit status: 0 success, 1 failure of the work, 2 usage error.
 * argv[0] is the subcommand's name; the arrays are borrowed.
 */
#ifndef LW_COMMANDS_H
#define LW_COMMANDS_H

int lw_cmd_serve(int argc, char **argv);
int lw_cmd_station(int argc, char **argv);
int lw_cmd_token(int argc, char **argv);
int lw_cmd_sim(int argc, char **argv);
int lw_cmd_validate(int argc, char **argv);

#endif
