/*
 * cmd_station.c — `ladewerk station add|list|set|remove`: registers charging stations and
 * their credentials in the store. Exit status: 0 done, 1 failed (message on stderr),
 * 2 usage error.
 *
 * Security profiles (OCPP 1.6 Security Whitepaper §2, OCPP 2.0.1 Part 2 A00):
 *   0  no authentication — only for stations explicitly registered with it
 *   1  HTTP Basic authentication over ws://        (password required)
 *   2  HTTP Basic authentication over TLS (wss://) (password required)
 *   3  TLS client certificate                       (password optional)
 */
#include "commands.h"

#include "auth/auth.h"
#include "store/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG             "ladewerk station"
#define GEN_PASSWORD_LEN 24 /* 24 alphanumerics = ~143 bits */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: ladewerk station add ID [--profile 0|1|2|3] [--password P]\n"
            "                            [--status Accepted|Pending|Rejected] [OPTIONS]\n"
            "       ladewerk station list [OPTIONS]\n"
            "       ladewerk station set ID [--profile N] [--password P] [--status S] "
            "[OPTIONS]\n"
            "       ladewerk station remove ID [OPTIONS]\n"
            "\n"
            "Registers charging stations. Profiles: 0 no authentication, 1 Basic auth over\n"
            "ws://, 2 Basic auth over wss://, 3 TLS client certificate. Profiles 1 and 2 need\n"
            "a password (16-40 printable characters); 'add' generates and prints one if\n"
            "--password is not given. Station ids: 1-48 printable ASCII characters without\n"
            "spaces, '/' or ':'.\n"
            "\n" LW_CLI_STORE_OPTIONS_HELP);
}

typedef struct {
    const char *id, *profile, *password, *status, *db, *config;
} args_t;

/* Parses argv after the verb. Returns 0, or 2 (usage; message printed). */
static int parse(int argc, char **argv, bool want_id, args_t *a)
{
    for (int i = 0; i < argc; i++) {
        const char *v;
        int m;
        if ((m = lw_cli_opt(&i, argc, argv, "--profile", &v)))
            a->profile = v;
        else if ((m = lw_cli_opt(&i, argc, argv, "--password", &v)))
            a->password = v;
        else if ((m = lw_cli_opt(&i, argc, argv, "--status", &v)))
            a->status = v;
        else if ((m = lw_cli_opt(&i, argc, argv, "--db", &v)))
            a->db = v;
        else if ((m = lw_cli_opt(&i, argc, argv, "--config", &v)))
            a->config = v;
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "%s: unknown option '%s'\n", PROG, argv[i]);
            return 2;
        } else if (want_id && !a->id) {
            a->id = argv[i];
            m = 1;
        } else {
            fprintf(stderr, "%s: unexpected argument '%s'\n", PROG, argv[i]);
            return 2;
        }
        if (m < 0) return 2;
    }
    if (want_id && !a->id) {
        fprintf(stderr, "%s: missing station ID\n", PROG);
        return 2;
    }
    if (a->id) {
        const char *why;
        if (lw_store_station_id_check(lw_str_c(a->id), &why)) {
            fprintf(stderr, "%s: invalid station id '%s': %s\n", PROG, a->id, why);
            return 2;
        }
    }
    return 0;
}

static int parse_profile(const char *s, int *out)
{
    if (!s) return 0;
    if (strlen(s) != 1 || s[0] < '0' || s[0] > '3') {
        fprintf(stderr, "%s: --profile must be 0, 1, 2 or 3, not '%s'\n", PROG, s);
        return 2;
    }
    *out = s[0] - '0';
    return 0;
}

/* OCPP passwords: 1.6 AuthorizationKey and 2.0.1 BasicAuthPassword are 16..40 characters. */
static int check_password(const char *p)
{
    size_t n = strlen(p);
    if (n < 16 || n > 40) {
        fprintf(stderr, "%s: --password must be 16 to 40 characters (OCPP), got %zu\n", PROG, n);
        return 2;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] >= 0x7f) {
            fprintf(stderr, "%s: --password may hold printable ASCII characters only\n", PROG);
            return 2;
        }
    return 0;
}

/* --status, when given, into *reg: 0, or 2 (usage) with a message. */
static int parse_status(const char *status, lw_reg_status_t *reg)
{
    if (status && lw_reg_status_parse(status, reg)) {
        fprintf(stderr, "%s: --status must be Accepted, Pending or Rejected, not '%s'\n", PROG,
                status);
        return 2;
    }
    return 0;
}

static int fail(const char *what, const char *id, int rc)
{
    if (rc == LW_EEXISTS)
        fprintf(stderr, "%s: station '%s' already exists\n", PROG, id);
    else if (rc == LW_ENOTFOUND)
        fprintf(stderr, "%s: no station '%s'\n", PROG, id);
    else
        fprintf(stderr, "%s: %s '%s' failed: %s\n", PROG, what, id, lw_strerror(rc));
    return 1;
}

static int cmd_add(args_t *a)
{
    int profile = 1, rc;
    lw_reg_status_t reg = LW_REG_ACCEPTED;
    if ((rc = parse_profile(a->profile, &profile))) return rc;
    if ((rc = parse_status(a->status, &reg))) return rc;
    if (profile == 0 && a->password) {
        fprintf(stderr, "%s: profile 0 means no authentication: --password is not used\n", PROG);
        return 2;
    }
    if (a->password && (rc = check_password(a->password))) return rc;
    char gen[GEN_PASSWORD_LEN + 1];
    const char *pw = a->password;
    if (!pw && (profile == 1 || profile == 2)) {
        if (lw_auth_password_generate(gen, GEN_PASSWORD_LEN)) {
            fprintf(stderr, "%s: cannot generate a password (no randomness)\n", PROG);
            return 1;
        }
        pw = gen;
    }
    lw_store_t *s;
    if ((rc = lw_cli_store_open(PROG, a->db, a->config, &s))) return rc;
    lw_store_write_t w = {.kind = LW_W_STATION_PUT, .station_id = lw_str_c(a->id)};
    w.u.station_put.must_not_exist = true;
    w.u.station_put.set_profile = true;
    w.u.station_put.security_profile = profile;
    w.u.station_put.set_reg_status = true;
    w.u.station_put.reg_status = reg;
    w.u.station_put.set_password = pw != NULL;
    w.u.station_put.password = lw_str_c(pw);
    rc = lw_store_submit_wait(s, &w, NULL);
    lw_store_close(s);
    if (rc) return fail("add", a->id, rc);
    printf("station %s added (security profile %d, %s)\n", a->id, profile, lw_reg_status_name(reg));
    if (pw && !a->password) printf("password: %s\n", pw); /* shown once; only a hash is kept */
    return 0;
}

static int cmd_set(args_t *a)
{
    int profile = -1, rc;
    lw_reg_status_t reg = LW_REG_ACCEPTED;
    if ((rc = parse_profile(a->profile, &profile))) return rc;
    if ((rc = parse_status(a->status, &reg))) return rc;
    if (!a->profile && !a->password && !a->status) {
        fprintf(stderr, "%s: set needs --profile, --password or --status\n", PROG);
        return 2;
    }
    if (a->password && (rc = check_password(a->password))) return rc;
    if (profile == 0 && a->password) {
        fprintf(stderr, "%s: profile 0 means no authentication: --password is not used\n", PROG);
        return 2;
    }
    lw_store_t *s;
    if ((rc = lw_cli_store_open(PROG, a->db, a->config, &s))) return rc;
    lw_station_rec_t cur;
    rc = lw_store_station_get(s, lw_str_c(a->id), &cur);
    if (!rc && (profile == 1 || profile == 2) && !cur.has_password && !a->password) {
        fprintf(stderr, "%s: security profile %d needs a password: add --password\n", PROG,
                profile);
        lw_store_close(s);
        return 1;
    }
    if (!rc) {
        lw_store_write_t w = {.kind = LW_W_STATION_PUT, .station_id = lw_str_c(a->id)};
        w.u.station_put.set_profile = profile >= 0;
        w.u.station_put.security_profile = profile;
        w.u.station_put.set_reg_status = a->status != NULL;
        w.u.station_put.reg_status = reg;
        /* Profile 0 clears a stored password: no credentials may linger unused. */
        w.u.station_put.set_password = a->password || profile == 0;
        w.u.station_put.password = lw_str_c(a->password);
        rc = lw_store_submit_wait(s, &w, NULL);
    }
    lw_store_close(s);
    if (rc) return fail("set", a->id, rc);
    printf("station %s updated\n", a->id);
    return 0;
}

static int cmd_remove(args_t *a)
{
    lw_store_t *s;
    int rc;
    if ((rc = lw_cli_store_open(PROG, a->db, a->config, &s))) return rc;
    lw_store_write_t w = {.kind = LW_W_STATION_DELETE, .station_id = lw_str_c(a->id)};
    rc = lw_store_submit_wait(s, &w, NULL);
    lw_store_close(s);
    if (rc) return fail("remove", a->id, rc);
    printf("station %s removed\n", a->id);
    return 0;
}

typedef struct {
    size_t n;
    char last[LW_STATION_ID_MAX + 1];
} list_state_t;

static int print_station(void *ud, const lw_station_rec_t *r)
{
    list_state_t *ls = ud;
    char t[32];
    printf("%-24s %-7d %-8s %-8s %-6s %-5s %-12s %-12s %s\n", r->id, r->security_profile,
           lw_reg_status_name(r->reg_status), r->has_password ? "set" : "-",
           r->online ? "yes" : "no", r->ocpp_version[0] ? r->ocpp_version : "-",
           r->vendor[0] ? r->vendor : "-", r->model[0] ? r->model : "-",
           lw_cli_time(r->last_seen_ms, t));
    lw_cstr_copy(ls->last, sizeof ls->last, r->id);
    ls->n++;
    return 0;
}

static int cmd_list(args_t *a)
{
    lw_store_t *s;
    int rc;
    if ((rc = lw_cli_store_open(PROG, a->db, a->config, &s))) return rc;
    printf("%-24s %-7s %-8s %-8s %-6s %-5s %-12s %-12s %s\n", "ID", "PROFILE", "STATUS", "PASSWORD",
           "ONLINE", "OCPP", "VENDOR", "MODEL", "LAST_SEEN");
    list_state_t ls = {0};
    size_t before;
    do { /* page through, so a large fleet never needs one huge read */
        before = ls.n;
        rc = lw_store_station_list(s, lw_str_c(ls.last), LW_STORE_PAGE_MAX, print_station, &ls);
    } while (!rc && ls.n - before == LW_STORE_PAGE_MAX);
    lw_store_close(s);
    if (rc) {
        fprintf(stderr, "%s: list failed: %s\n", PROG, lw_strerror(rc));
        return 1;
    }
    return 0;
}

int lw_cmd_station(int argc, char **argv)
{
    int st = lw_cli_usage_check(argc, argv, usage);
    if (st >= 0) return st;
    const char *verb = argv[1];
    bool want_id = strcmp(verb, "list") != 0;
    args_t a = {0};
    if (strcmp(verb, "add") && strcmp(verb, "set") && strcmp(verb, "remove") &&
        strcmp(verb, "list")) {
        fprintf(stderr, "%s: unknown action '%s' (add, list, set, remove)\n", PROG, verb);
        usage(stderr);
        return 2;
    }
    int rc = parse(argc - 2, argv + 2, want_id, &a);
    if (rc) return rc;
    if (!strcmp(verb, "list") && (a.profile || a.password || a.status)) {
        fprintf(stderr, "%s: list takes only --db and --config\n", PROG);
        return 2;
    }
    if (!strcmp(verb, "remove") && (a.profile || a.password || a.status)) {
        fprintf(stderr, "%s: remove takes only --db and --config\n", PROG);
        return 2;
    }
    lw_log_set_level(LW_LOG_WARN);
    if (!strcmp(verb, "add")) return cmd_add(&a);
    if (!strcmp(verb, "set")) return cmd_set(&a);
    if (!strcmp(verb, "remove")) return cmd_remove(&a);
    return cmd_list(&a);
}
