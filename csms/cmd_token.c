/*
 * cmd_token.c — `ladewerk token create|list|revoke`: API tokens for the operator REST API.
 * A token is 32 random bytes shown once (printed as the LAST line of `create`, so scripts can
 * take it with `tail -n1`); the store keeps only its SHA-256. Exit status: 0 done,
 * 1 failed, 2 usage error.
 */
#include "commands.h"

#include "auth/auth.h"
#include "store/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "ladewerk token"

static void usage(FILE *out)
{
    fprintf(out, "usage: ladewerk token create --role viewer|operator|admin [--name N] [OPTIONS]\n"
                 "       ladewerk token list [OPTIONS]\n"
                 "       ladewerk token revoke ID [OPTIONS]\n"
                 "\n"
                 "API tokens for the operator REST API. 'create' prints the new token as its last\n"
                 "line; it is shown only once (only its hash is stored).\n"
                 "\n" LW_CLI_STORE_OPTIONS_HELP);
}

static int print_token(void *ud, const lw_api_token_rec_t *r)
{
    char c[32], v[32];
    printf("%-6lld %-9s %-24s %-21s %s\n", (long long)r->id, lw_role_name(r->role),
           r->name[0] ? r->name : "-", lw_cli_time(r->created_ms, c),
           lw_cli_time(r->revoked_ms, v));
    return 0;
}

int lw_cmd_token(int argc, char **argv)
{
    int st = lw_cli_usage_check(argc, argv, usage);
    if (st >= 0) return st;
    const char *verb = argv[1], *role = NULL, *name = NULL, *db = NULL, *config = NULL;
    const char *id = NULL;
    bool create = !strcmp(verb, "create"), revoke = !strcmp(verb, "revoke");
    if (!create && !revoke && strcmp(verb, "list")) {
        fprintf(stderr, "%s: unknown action '%s' (create, list, revoke)\n", PROG, verb);
        usage(stderr);
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        const char *v;
        int m;
        if ((m = lw_cli_opt(&i, argc, argv, "--role", &v)))
            role = v;
        else if ((m = lw_cli_opt(&i, argc, argv, "--name", &v)))
            name = v;
        else if ((m = lw_cli_opt(&i, argc, argv, "--db", &v)))
            db = v;
        else if ((m = lw_cli_opt(&i, argc, argv, "--config", &v)))
            config = v;
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "%s: unknown option '%s'\n", PROG, argv[i]);
            return 2;
        } else if (revoke && !id) {
            id = argv[i];
            m = 1;
        } else {
            fprintf(stderr, "%s: unexpected argument '%s'\n", PROG, argv[i]);
            return 2;
        }
        if (m < 0) return 2;
    }
    if (!create && (role || name)) {
        fprintf(stderr, "%s: --role and --name belong to 'create'\n", PROG);
        return 2;
    }
    lw_role_t r = LW_ROLE_VIEWER;
    if (create) {
        if (!role) {
            fprintf(stderr, "%s: create needs --role viewer|operator|admin\n", PROG);
            return 2;
        }
        if (lw_role_parse(role, &r)) {
            fprintf(stderr, "%s: --role must be viewer, operator or admin, not '%s'\n", PROG, role);
            return 2;
        }
        if (name && strlen(name) >= LW_STORE_SHORT) {
            fprintf(stderr, "%s: --name is longer than %d characters\n", PROG, LW_STORE_SHORT - 1);
            return 2;
        }
    }
    long long tid = 0;
    if (revoke) {
        char *end;
        errno = 0;
        if (!id) {
            fprintf(stderr, "%s: revoke needs a token ID (see 'ladewerk token list')\n", PROG);
            return 2;
        }
        tid = strtoll(id, &end, 10);
        if (errno || *end || tid <= 0) {
            fprintf(stderr, "%s: token ID must be a positive number, not '%s'\n", PROG, id);
            return 2;
        }
    }
    lw_log_set_level(LW_LOG_WARN);
    lw_store_t *s;
    int rc;
    if ((rc = lw_cli_store_open(PROG, db, config, &s))) return rc;
    const lw_clock_t *clk = lw_clock_real();
    if (create) {
        char text[LW_AUTH_TOKEN_TEXT_MAX];
        lw_store_write_t w = {.kind = LW_W_API_TOKEN_PUT};
        if (lw_auth_token_new(text, w.u.api_token.hash)) {
            lw_store_close(s);
            fprintf(stderr, "%s: cannot generate a token (no randomness)\n", PROG);
            return 1;
        }
        w.u.api_token.role = r;
        w.u.api_token.name = lw_str_c(name);
        w.u.api_token.at_ms = lw_clock_wall(clk);
        lw_store_result_t res;
        rc = lw_store_submit_wait(s, &w, &res);
        lw_store_close(s);
        if (rc) {
            fprintf(stderr, "%s: create failed: %s\n", PROG, lw_strerror(rc));
            return 1;
        }
        printf("token %lld created (role %s%s%s); it is shown only once:\n", (long long)res.row_id,
               lw_role_name(r), name ? ", name " : "", name ? name : "");
        printf("%s\n", text);
        return 0;
    }
    if (revoke) {
        lw_store_write_t w = {.kind = LW_W_API_TOKEN_REVOKE};
        w.u.api_revoke.id = tid;
        w.u.api_revoke.at_ms = lw_clock_wall(clk);
        lw_store_result_t res;
        rc = lw_store_submit_wait(s, &w, &res);
        lw_store_close(s);
        if (rc == LW_ENOTFOUND) {
            fprintf(stderr, "%s: no token %lld\n", PROG, tid);
            return 1;
        }
        if (rc) {
            fprintf(stderr, "%s: revoke failed: %s\n", PROG, lw_strerror(rc));
            return 1;
        }
        printf("token %lld %s\n", tid, res.duplicate ? "was already revoked" : "revoked");
        return 0;
    }
    printf("%-6s %-9s %-24s %-21s %s\n", "ID", "ROLE", "NAME", "CREATED", "REVOKED");
    rc = lw_store_api_token_list(s, print_token, NULL);
    lw_store_close(s);
    if (rc) {
        fprintf(stderr, "%s: list failed: %s\n", PROG, lw_strerror(rc));
        return 1;
    }
    return 0;
}
