/*
 * main.c — build/ladewerk: dispatches to the subcommands declared in commands.h.
 * A subcommand whose layer is not part of this build is reported as such (weak symbols),
 * so the binary never pretends to do what it cannot.
 */
#include "commands.h"

#include <stdio.h>
#include <string.h>

#pragma weak lw_cmd_serve
#pragma weak lw_cmd_station
#pragma weak lw_cmd_token
#pragma weak lw_cmd_sim
#pragma weak lw_cmd_validate

typedef struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} subcommand_t;

static void usage(FILE *out, const subcommand_t *cmds)
{
    fprintf(out, "usage: ladewerk COMMAND [OPTIONS]\n\ncommands:\n");
    for (const subcommand_t *c = cmds; c->name; c++)
        if (c->fn) fprintf(out, "  %-9s %s\n", c->name, c->help);
    fprintf(out, "\nRun 'ladewerk COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    const subcommand_t cmds[] = {
        {"serve", lw_cmd_serve, "run the central system (CSMS)"},
        {"station", lw_cmd_station, "add, list, change or remove stations"},
        {"token", lw_cmd_token, "create, list or revoke API tokens"},
        {"sim", lw_cmd_sim, "simulate charging stations"},
        {"validate", lw_cmd_validate, "check one OCPP-J payload against its schema"},
        {NULL, NULL, NULL},
    };
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout, cmds);
        return argc < 2 ? 2 : 0;
    }
    for (const subcommand_t *c = cmds; c->name; c++) {
        if (strcmp(argv[1], c->name) != 0) continue;
        if (!c->fn) {
            fprintf(stderr, "ladewerk: '%s' is not part of this build\n", c->name);
            return 2;
        }
        return c->fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "ladewerk: unknown command '%s'\n", argv[1]);
    usage(stderr, cmds);
    return 2;
}
