/*
 * store/cli.c — see cli.h.
 */
#include "store/cli.h"

#include <stdio.h>
#include <string.h>

int lw_cli_usage_check(int argc, char **argv, void (*usage)(FILE *out))
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
    return -1;
}

int lw_cli_opt(int *i, int argc, char **argv, const char *name, const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n]) return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "ladewerk: option %s needs a value\n", name);
        return -1;
    }
    *val = argv[++*i];
    return 1;
}

int lw_cli_store_open(const char *prog, const char *db, const char *config, lw_store_t **out)
{
    char url[1024], err[512];
    if (!db && config) {
        int rc = lw_store_config_db(config, url, sizeof url, err, sizeof err);
        if (rc == 0)
            db = url;
        else if (rc != LW_ENOTFOUND) {
            fprintf(stderr, "%s: %s\n", prog, err);
            return 1;
        }
    }
    if (!db) db = LW_STORE_DEFAULT_URL;
    int rc = lw_store_open(db, NULL, out, err, sizeof err);
    if (rc) {
        fprintf(stderr, "%s: cannot open the database: %s\n", prog, err[0] ? err : lw_strerror(rc));
        return 1;
    }
    return 0;
}

const char *lw_cli_time(int64_t ms, char out[32])
{
    if (!ms) return "-";
    lw_time_format(ms - ms % 1000, out, 32);
    /* drop ".000" for a compact column */
    char *dot = strchr(out, '.');
    if (dot) memmove(dot, dot + 4, strlen(dot + 4) + 1);
    return out;
}
