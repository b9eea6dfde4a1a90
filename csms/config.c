/*
 * config.c — the configuration table of `ladewerk serve` (see config.h). One row per key:
 * its name (also the flag's name), what it takes, its help line and the setter that checks
 * and stores the value. Defaults live in lw_config_defaults() only.
 */
#include "config.h"

#include "api/api.h"
#include "ladewerk/limits.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*setter_fn)(lw_config_t *c, const char *v, char *why, size_t whysz);

typedef struct {
    const char *name;
    const char *arg;
    const char *help;
    setter_fn set;
} key_t_;

static int say(char *why, size_t whysz, const char *msg)
{
    if (why && whysz) lw_cstr_copy(why, whysz, msg);
    return LW_EINVAL;
}

static int parse_i64(const char *v, int64_t lo, int64_t hi, int64_t *out)
{
    if (!*v) return LW_EINVAL;
    errno = 0;
    char *end = NULL;
    long long x = strtoll(v, &end, 10);
    if (errno || *end || x < lo || x > hi) return LW_EINVAL;
    *out = x;
    return 0;
}

/* Durations: an integer with an optional unit s, m, h or d (no unit = seconds). */
static int parse_duration(const char *v, int64_t hi, int64_t *out)
{
    if (!*v) return LW_EINVAL;
    errno = 0;
    char *end = NULL;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || x < 0) return LW_EINVAL;
    int64_t mul = 1;
    if (*end == 's')
        mul = 1, end++;
    else if (*end == 'm')
        mul = 60, end++;
    else if (*end == 'h')
        mul = 3600, end++;
    else if (*end == 'd')
        mul = 86400, end++;
    if (*end || x > hi / mul) return LW_EINVAL;
    *out = x * mul;
    return 0;
}

static int copy_str(char *dst, size_t dstsz, const char *v, char *why, size_t whysz)
{
    size_t n = strlen(v);
    if (n >= dstsz) return say(why, whysz, "value too long");
    memcpy(dst, v, n + 1);
    return 0;
}

/* HOST:PORT, with [v6]:PORT for IPv6. Port 0 means an ephemeral port (tests). */
static int parse_hostport(const char *v, char *host, size_t hostsz, int *port, char *why,
                          size_t whysz)
{
    const char *colon = strrchr(v, ':');
    if (!colon || colon == v) return say(why, whysz, "expected HOST:PORT");
    const char *h = v;
    size_t hl = (size_t)(colon - v);
    if (h[0] == '[') {
        if (hl < 3 || h[hl - 1] != ']') return say(why, whysz, "expected [IPv6]:PORT");
        h++;
        hl -= 2;
    }
    if (hl >= hostsz) return say(why, whysz, "host too long");
    int64_t p;
    if (parse_i64(colon + 1, 0, 65535, &p)) return say(why, whysz, "port must be 0..65535");
    memcpy(host, h, hl);
    host[hl] = 0;
    *port = (int)p;
    return 0;
}

/* The same rule as lw_store_open (csms/store/store.c), so that `serve --db` takes what
 * `station add --db` takes: sqlite:PATH, postgres://..., or a bare file path (= SQLite).
 * Any other URL scheme is refused here, where the message can name the key. */
static int set_db(lw_config_t *c, const char *v, char *why, size_t whysz)
{
    bool pg = !strncmp(v, "postgres://", 11) || !strncmp(v, "postgresql://", 13);
    if (!*v) return say(why, whysz, "expected sqlite:PATH, PATH or postgres://...");
    if (!strncmp(v, "sqlite:", 7)) {
        const char *path = v + 7;
        if (!strncmp(path, "//", 2)) path += 2;
        if (!*path) return say(why, whysz, "sqlite: needs a path");
    } else if (!pg && strstr(v, "://")) {
        return say(why, whysz, "expected sqlite:PATH, PATH or postgres://...");
    }
    return copy_str(c->db, sizeof c->db, v, why, whysz);
}
static int set_ocpp_listen(lw_config_t *c, const char *v, char *why, size_t whysz)
{
    return parse_hostport(v, c->ocpp_host, sizeof c->ocpp_host, &c->ocpp_port, why, whysz);
}
static int set_http_listen(lw_config_t *c, const char *v, char *why, size_t whysz)
{
    return parse_hostport(v, c->http_host, sizeof c->http_host, &c->http_port, why, whysz);
}
static int set_unknown_stations(lw_config_t *c, const char *v, char *why, size_t whysz)
{
    if (!strcmp(v, "reject"))
        c->unknown_stations = LW_UNKNOWN_REJECT;
    else if (!strcmp(v, "pending"))
        c->unknown_stations = LW_UNKNOWN_PENDING;
    else if (!strcmp(v, "accept"))
        c->unknown_stations = LW_UNKNOWN_ACCEPT;
    else
        return say(why, whysz, "expected reject, pending or accept");
    return 0;
}
static int set_unknown_tokens(lw_config_t *c, const char *v, char *why, size_t whysz)
{
    if (!strcmp(v, "invalid"))
        c->unknown_tokens_accept = false;
    else if (!strcmp(v, "accept"))
        c->unknown_tokens_accept = true;
    else
        return say(why, whysz, "expected invalid or accept");
    return 0;
}
static int set_threads(lw_config_t *c, const char *v, char *why, size_t whysz)
{
    int64_t x;
    if (parse_i64(v, 0, 256, &x)) return say(why, whysz, "expected 0..256 (0 = one per core)");
    c->threads = (int)x;
    return 0;
}

#define DURATION_SETTER(fn, field, lo, hi)                                                         \
    static int fn(lw_config_t *c, const char *v, char *why, size_t whysz)                          \
    {                                                                                              \
        int64_t x;                                                                                 \
        if (parse_duration(v, (hi), &x) || x < (lo))                                               \
            return say(why, whysz, "expected a duration " #lo ".." #hi " s (units s, m, h, d)");   \
        c->field = x;                                                                              \
        return 0;                                                                                  \
    }
DURATION_SETTER(set_ping, ping_interval_s, 0, 86400)
DURATION_SETTER(set_pong, pong_timeout_s, 1, 3600)
DURATION_SETTER(set_call_timeout, call_timeout_s, 1, 3600)
DURATION_SETTER(set_heartbeat, heartbeat_interval_s, 1, 604800)
DURATION_SETTER(set_boot_retry, boot_retry_interval_s, 1, 86400)
DURATION_SETTER(set_retention, journal_retention_s, 0, 315360000)
DURATION_SETTER(set_dedupe_retention, dedupe_retention_s, 0, 315360000)
DURATION_SETTER(set_history_retention, history_retention_s, 0, 315360000)
DURATION_SETTER(set_maintain_interval, maintain_interval_s, 60, 604800)
DURATION_SETTER(set_command_ttl, command_ttl_s, 1, 604800)

#define PATH_SETTER(fn, field)                                                                     \
    static int fn(lw_config_t *c, const char *v, char *why, size_t whysz)                          \
    {                                                                                              \
        return copy_str(c->field, sizeof c->field, v, why, whysz);                                 \
    }
PATH_SETTER(set_tls_cert, tls_cert)
PATH_SETTER(set_tls_key, tls_key)
PATH_SETTER(set_tls_ca, tls_ca)
PATH_SETTER(set_ca_cert, ca_cert)
PATH_SETTER(set_ca_key, ca_key)

#define INT_SETTER(fn, field, lo, hi)                                                              \
    static int fn(lw_config_t *c, const char *v, char *why, size_t whysz)                          \
    {                                                                                              \
        int64_t x;                                                                                 \
        if (parse_i64(v, (lo), (hi), &x))                                                          \
            return say(why, whysz, "expected an integer " #lo ".." #hi);                           \
        c->field = x;                                                                              \
        return 0;                                                                                  \
    }
INT_SETTER(set_cert_days, cert_days, 1, 3650)
INT_SETTER(set_max_bad, max_bad_messages, 0, 1000000)
INT_SETTER(set_upgrades_per_ip, upgrades_per_ip, 0, 1000000)
INT_SETTER(set_auth_failures_per_ip, auth_failures_per_ip, 0, 1000000)
INT_SETTER(set_journal_keep, journal_keep, 0, 1000000000)
INT_SETTER(set_boot_rate_limit, boot_rate_limit, 0, 1000000)

static int set_max_frame(lw_config_t *c, const char *v, char *why, size_t whysz)
{
    int64_t x;
    if (parse_i64(v, 1024, LW_FRAME_MAX_CEILING, &x))
        return say(why, whysz, "expected bytes 1024..16777216");
    c->max_frame = (size_t)x;
    return 0;
}
static int set_log_level(lw_config_t *c, const char *v, char *why, size_t whysz)
{
    if (!strcmp(v, "debug"))
        c->log_level = LW_LOG_DEBUG;
    else if (!strcmp(v, "info"))
        c->log_level = LW_LOG_INFO;
    else if (!strcmp(v, "warn"))
        c->log_level = LW_LOG_WARN;
    else if (!strcmp(v, "error"))
        c->log_level = LW_LOG_ERROR;
    else
        return say(why, whysz, "expected debug, info, warn or error");
    return 0;
}

static int set_files_dir(lw_config_t *c, const char *v, char *why, size_t whysz)
{
    if (!*v) return say(why, whysz, "expected a directory");
    return copy_str(c->files_dir, sizeof c->files_dir, v, why, whysz);
}
static int set_public_url(lw_config_t *c, const char *v, char *why, size_t whysz)
{
    size_t n = strlen(v);
    while (n && v[n - 1] == '/')
        n--;
    bool http = n > 7 && !strncmp(v, "http://", 7), https = n > 8 && !strncmp(v, "https://", 8);
    if (!http && !https) return say(why, whysz, "expected http://HOST[:PORT] or https://...");
    if (n > 256) return say(why, whysz, "longer than 256 characters");
    memcpy(c->public_url, v, n);
    c->public_url[n] = 0;
    return 0;
}
static int set_webhook_url(lw_config_t *c, const char *v, char *why, size_t whysz)
{
    if (c->n_webhook_urls >= LW_CONFIG_WEBHOOKS_MAX)
        return say(why, whysz, "at most 8 webhook URLs");
    if (strlen(v) >= LW_CONFIG_URL_MAX || lw_api_webhook_url_check(v))
        return say(why, whysz, "expected http://HOST[:PORT][/PATH] (https is not supported)");
    int rc = copy_str(c->webhook_urls[c->n_webhook_urls], LW_CONFIG_URL_MAX, v, why, whysz);
    if (!rc) c->n_webhook_urls++;
    return rc;
}

static const key_t_ keys[] = {
    {"db", "sqlite:PATH|PATH|postgres://...",
     "the store; a bare PATH is a SQLite file (default sqlite:./ladewerk.db)", set_db},
    {"ocpp-listen", "HOST:PORT", "station listener (default 0.0.0.0:8180)", set_ocpp_listen},
    {"http-listen", "HOST:PORT", "operator listener, REST API (default 127.0.0.1:8080)",
     set_http_listen},
    {"unknown-stations", "reject|pending|accept",
     "stations not registered: refused (default), registered Pending, or accepted (test "
     "benches only)",
     set_unknown_stations},
    {"unknown-id-tokens", "invalid|accept", "Authorize of an unknown token (default invalid)",
     set_unknown_tokens},
    {"threads", "N", "event loops (default 0 = one per core)", set_threads},
    {"ping-interval", "DURATION", "WebSocket ping period, 0 = off (default 60s)", set_ping},
    {"pong-timeout", "DURATION", "grace for a ping's answer before closing (default 30s)",
     set_pong},
    {"call-timeout", "DURATION", "timeout of CALLs sent to stations (default 30s)",
     set_call_timeout},
    {"heartbeat-interval", "DURATION", "interval in BootNotification answers (default 300s)",
     set_heartbeat},
    {"boot-retry-interval", "DURATION",
     "interval in Pending/Rejected BootNotification answers (default 60s)", set_boot_retry},
    {"boot-rate-limit", "N",
     "BootNotifications accepted per second by this node, 0 = no limit (default 0); beyond it "
     "a boot is answered Pending with a random interval of 1..boot-retry-interval",
     set_boot_rate_limit},
    {"tls-cert", "FILE", "server certificate chain (PEM); enables wss:// on the station port",
     set_tls_cert},
    {"tls-key", "FILE", "private key of tls-cert (PEM)", set_tls_key},
    {"tls-ca", "FILE", "CA(s) that sign station client certificates (security profile 3)",
     set_tls_ca},
    {"ca-cert", "FILE", "CA certificate that signs SignCertificate CSRs (PEM)", set_ca_cert},
    {"ca-key", "FILE", "private key of ca-cert (PEM)", set_ca_key},
    {"cert-days", "N", "validity of certificates signed for stations (default 365)", set_cert_days},
    {"max-frame", "BYTES", "largest OCPP-J message accepted (default 65536)", set_max_frame},
    {"max-bad-messages", "N",
     "malformed messages before the connection is closed, 0 = never (default 20)", set_max_bad},
    {"upgrades-per-ip", "N",
     "WebSocket upgrades per IP address per minute, 0 = no limit "
     "(default 600)",
     set_upgrades_per_ip},
    {"auth-failures-per-ip", "N",
     "failed authentications per IP per minute before its upgrades are refused (default 20)",
     set_auth_failures_per_ip},
    {"journal-retention", "DURATION",
     "age after which journal rows are pruned, 0 = keep "
     "(default 30d)",
     set_retention},
    {"journal-keep", "N", "newest journal rows kept per station, 0 = no bound (default 100000)",
     set_journal_keep},
    {"dedupe-retention", "DURATION",
     "age after which the answers kept to recognise retried transaction messages are pruned, "
     "0 = keep (default 2d)",
     set_dedupe_retention},
    {"history-retention", "DURATION",
     "age after which rows of the history tables (status notifications, boots, firmware "
     "status, events, security events, data transfers) are pruned, 0 = keep (default 90d)",
     set_history_retention},
    {"maintain-interval", "DURATION", "period of the store's retention run (default 1h)",
     set_maintain_interval},
    {"command-ttl", "DURATION",
     "how long an operator command waits for an offline station (default 15m)", set_command_ttl},
    {"log-level", "debug|info|warn|error", "log verbosity (default info)", set_log_level},
    {"files-dir", "DIR",
     "firmware images operators upload and diagnostics/logs stations upload (default "
     "./ladewerk-files/)",
     set_files_dir},
    {"public-url", "URL",
     "base URL stations reach the operator listener at, for firmware downloads and uploads "
     "(default http://HTTP-LISTEN)",
     set_public_url},
    {"webhook-url", "URL",
     "POST every event here (http:// only); repeat for up to 8 URLs (default none)",
     set_webhook_url},
};
#define NKEYS (sizeof keys / sizeof keys[0])

void lw_config_defaults(lw_config_t *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->db, sizeof c->db, "sqlite:./ladewerk.db");
    snprintf(c->ocpp_host, sizeof c->ocpp_host, "0.0.0.0");
    c->ocpp_port = 8180;
    snprintf(c->http_host, sizeof c->http_host, "127.0.0.1");
    c->http_port = 8080;
    c->unknown_stations = LW_UNKNOWN_REJECT;
    c->threads = 0;
    c->ping_interval_s = 60;
    c->pong_timeout_s = 30;
    c->call_timeout_s = LW_CALL_TIMEOUT_MS_DEFAULT / 1000;
    c->heartbeat_interval_s = 300;
    c->boot_retry_interval_s = 60;
    c->cert_days = 365;
    c->max_frame = LW_FRAME_MAX_DEFAULT;
    c->max_bad_messages = 20;
    c->upgrades_per_ip = 600;
    c->auth_failures_per_ip = 20;
    c->journal_retention_s = 30 * 86400;
    c->journal_keep = 100000;
    c->dedupe_retention_s = LW_STORE_DEDUPE_MAX_AGE_MS_DEFAULT / 1000;
    c->history_retention_s = LW_STORE_HISTORY_MAX_AGE_MS_DEFAULT / 1000;
    c->maintain_interval_s = 3600;
    c->command_ttl_s = LW_API_COMMAND_TTL_MS_DEFAULT / 1000;
    c->log_level = LW_LOG_INFO;
    snprintf(c->files_dir, sizeof c->files_dir, "./ladewerk-files/");
}

int lw_config_public_url(const lw_config_t *c, int port, char *out, size_t outsz)
{
    int n;
    if (c->public_url[0]) {
        n = snprintf(out, outsz, "%s", c->public_url);
    } else {
        const char *h = c->http_host;
        bool v6 = strchr(h, ':') != NULL;
        if (!strcmp(h, "0.0.0.0") || !*h) h = "127.0.0.1";
        if (!strcmp(h, "::")) h = "::1";
        n = snprintf(out, outsz, v6 ? "http://[%s]:%d" : "http://%s:%d", h, port);
    }
    return n < 0 || (size_t)n >= outsz ? LW_ETOOBIG : 0;
}

int lw_config_set(lw_config_t *c, const char *key, const char *value, char *why, size_t whysz)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (!strcmp(keys[i].name, key)) return keys[i].set(c, value, why, whysz);
    say(why, whysz, "unknown key");
    return LW_ENOTFOUND;
}

static int is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r';
}

int lw_config_parse_text(lw_config_t *c, const char *text, size_t len, const char *name, char *err,
                         size_t errsz)
{
    size_t pos = 0;
    int lineno = 0;
    while (pos < len) {
        lineno++;
        size_t end = pos;
        while (end < len && text[end] != '\n')
            end++;
        size_t a = pos, b = end;
        pos = end + 1;
        while (a < b && is_space(text[a]))
            a++;
        if (a == b || text[a] == '#') continue;
        /* A '#' starts a comment only at the start of a line or after a space: values such
         * as URLs may contain '#'. */
        for (size_t i = a + 1; i < b; i++)
            if (text[i] == '#' && is_space(text[i - 1])) {
                b = i;
                break;
            }
        while (b > a && is_space(text[b - 1]))
            b--;
        const char *eq = memchr(text + a, '=', b - a);
        if (!eq) {
            snprintf(err, errsz, "%s:%d: expected 'key = value', got '%.*s'", name, lineno,
                     (int)(b - a > 60 ? 60 : b - a), text + a);
            return LW_EINVAL;
        }
        size_t ke = (size_t)(eq - text), vs = ke + 1;
        while (ke > a && is_space(text[ke - 1]))
            ke--;
        while (vs < b && is_space(text[vs]))
            vs++;
        char key[64], val[LW_CONFIG_PATH_MAX + 1], why[128];
        if (ke - a >= sizeof key || ke == a) {
            snprintf(err, errsz, "%s:%d: bad key", name, lineno);
            return LW_EINVAL;
        }
        memcpy(key, text + a, ke - a);
        key[ke - a] = 0;
        size_t vl = b - vs;
        /* Optional quotes around a value. */
        if (vl >= 2 && text[vs] == '"' && text[b - 1] == '"') vs++, vl -= 2;
        if (vl >= sizeof val) {
            snprintf(err, errsz, "%s:%d: key '%s': value too long", name, lineno, key);
            return LW_EINVAL;
        }
        memcpy(val, text + vs, vl);
        val[vl] = 0;
        int rc = lw_config_set(c, key, val, why, sizeof why);
        if (rc) {
            snprintf(err, errsz, "%s:%d: key '%s': %s", name, lineno, key, why);
            return rc;
        }
    }
    return 0;
}

int lw_config_load_file(lw_config_t *c, const char *path, char *err, size_t errsz)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errsz, "%s: cannot read: %s", path, strerror(errno));
        return LW_EIO;
    }
    lw_buf_t b;
    lw_buf_init(&b, 1024 * 1024);
    char chunk[4096];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if ((rc = lw_buf_append(&b, chunk, n)) != 0) break;
    fclose(f);
    if (rc) {
        snprintf(err, errsz, "%s: too large", path);
        lw_buf_free(&b);
        return rc;
    }
    rc = lw_config_parse_text(c, b.data ? b.data : "", b.len, path, err, errsz);
    lw_buf_free(&b);
    if (!rc) lw_cstr_copy(c->config_file, sizeof c->config_file, path);
    return rc;
}

void lw_config_usage(FILE *out)
{
    fprintf(out, "usage: ladewerk serve [--config FILE] [--KEY VALUE ...]\n\n"
                 "Runs the central system. Every key below may be given in the config file\n"
                 "('key = value' lines, '#' comments) or as a flag --key VALUE / --key=VALUE;\n"
                 "flags override the file. DURATION is a number with an optional unit s, m, h\n"
                 "or d. See docs/configuration.md.\n\n"
                 "  --config FILE\n      read this config file first\n");
    for (size_t i = 0; i < NKEYS; i++)
        fprintf(out, "  --%s %s\n      %s\n", keys[i].name, keys[i].arg, keys[i].help);
}

int lw_config_from_args(lw_config_t *c, int argc, char **argv, FILE *out, char *err, size_t errsz)
{
    lw_config_defaults(c);
    /* Pass 1: --help and --config, so the file applies before every other flag. */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            lw_config_usage(out);
            return 1;
        }
        const char *file = NULL;
        if (!strcmp(a, "--config")) {
            if (i + 1 >= argc) {
                snprintf(err, errsz, "--config: needs a FILE");
                return LW_EINVAL;
            }
            file = argv[++i];
        } else if (!strncmp(a, "--config=", 9)) {
            file = a + 9;
        }
        if (file) {
            int rc = lw_config_load_file(c, file, err, errsz);
            if (rc) return rc;
        }
    }
    /* Pass 2: every other flag. */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--config")) {
            i++;
            continue;
        }
        if (!strncmp(a, "--config=", 9)) continue;
        if (strncmp(a, "--", 2) != 0) {
            snprintf(err, errsz, "unexpected argument '%s'", a);
            return LW_EINVAL;
        }
        char key[64];
        const char *val;
        const char *eq = strchr(a + 2, '=');
        size_t kl = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (kl == 0 || kl >= sizeof key) {
            snprintf(err, errsz, "unknown option '%s'", a);
            return LW_EINVAL;
        }
        memcpy(key, a + 2, kl);
        key[kl] = 0;
        if (eq) {
            val = eq + 1;
        } else {
            if (i + 1 >= argc) {
                snprintf(err, errsz, "--%s: needs a value", key);
                return LW_EINVAL;
            }
            val = argv[++i];
        }
        char why[128];
        int rc = lw_config_set(c, key, val, why, sizeof why);
        if (rc == LW_ENOTFOUND) {
            snprintf(err, errsz, "unknown option '--%s' (see --help)", key);
            return LW_EINVAL;
        }
        if (rc) {
            snprintf(err, errsz, "--%s '%s': %s", key, val, why);
            return rc;
        }
    }
    if (!!c->tls_cert[0] != !!c->tls_key[0]) {
        snprintf(err, errsz, "%s: tls-cert and tls-key go together",
                 c->config_file[0] ? c->config_file : "command line");
        return LW_EINVAL;
    }
    if (!!c->ca_cert[0] != !!c->ca_key[0]) {
        snprintf(err, errsz, "%s: ca-cert and ca-key go together",
                 c->config_file[0] ? c->config_file : "command line");
        return LW_EINVAL;
    }
    if (c->tls_ca[0] && !c->tls_cert[0]) {
        snprintf(err, errsz, "%s: key 'tls-ca' needs tls-cert and tls-key",
                 c->config_file[0] ? c->config_file : "command line");
        return LW_EINVAL;
    }
    if (c->threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        c->threads = n > 0 ? (int)(n > 64 ? 64 : n) : 1;
    }
    return 0;
}
