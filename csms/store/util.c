/*
 * store/util.c — small pure helpers around the store: station id rules and the reader of the
 * `db` key of a config file (store.h).
 */
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int lw_store_station_id_check(lw_str_t id, const char **why)
{
    const char *w = NULL;
    if (!id.len)
        w = "the station id is empty";
    else if (id.len > LW_STATION_ID_MAX)
        w = "the station id is longer than 48 characters";
    for (size_t i = 0; !w && i < id.len; i++) {
        unsigned char c = (unsigned char)id.p[i];
        if (c <= 0x20 || c >= 0x7f)
            w = "the station id may hold printable ASCII only (no spaces or control characters)";
        else if (c == '/')
            w = "the station id may not contain '/' (it is a URL path segment)";
        else if (c == ':')
            w = "the station id may not contain ':' (HTTP Basic authentication user-id)";
    }
    if (why) *why = w;
    return w ? LW_EINVAL : 0;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = 0;
    return s;
}

int lw_store_config_db(const char *path, char *url, size_t urlsz, char *err, size_t errsz)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errsz, "%s: cannot read config file: %s", path, strerror(errno));
        return LW_EIO;
    }
    char line[4096];
    int lineno = 0, rc = LW_ENOTFOUND;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(err, errsz, "%s:%d: line too long", path, lineno);
            rc = LW_ETOOBIG;
            break;
        }
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char *t = trim(line);
        if (!*t) continue;
        char *eq = strchr(t, '=');
        if (!eq) {
            snprintf(err, errsz, "%s:%d: expected 'key = value'", path, lineno);
            rc = LW_EPARSE;
            break;
        }
        *eq = 0;
        char *key = trim(t), *val = trim(eq + 1);
        if (strcmp(key, "db") != 0) continue; /* other keys belong to other modules */
        size_t n = strlen(val);
        if (n >= 2 && val[0] == '"' && val[n - 1] == '"') {
            val[n - 1] = 0;
            val++;
            n -= 2;
        }
        if (!n) {
            snprintf(err, errsz, "%s:%d: key 'db' has an empty value", path, lineno);
            rc = LW_EPARSE;
            break;
        }
        if (n >= urlsz) {
            snprintf(err, errsz, "%s:%d: key 'db' is too long", path, lineno);
            rc = LW_ETOOBIG;
            break;
        }
        memcpy(url, val, n + 1);
        rc = 0; /* the last db line wins, like repeated options */
    }
    fclose(f);
    if (rc == LW_ENOTFOUND) snprintf(err, errsz, "%s: no 'db' key", path);
    return rc;
}
