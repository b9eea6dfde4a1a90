/*
 * config.h — configuration of `ladewerk serve`: one table of keys, read from a config file
 * (`key = value` lines, `#` comments) and overridden by command-line flags of the same
 * names (`--key VALUE` or `--key=VALUE`). Every key is documented in docs/configuration.md
 * and listed by `ladewerk serve --help`.
 *
 * Parsing is pure (no I/O besides reading the named file) so that tests can feed it text.
 */
#ifndef LW_CSMS_CONFIG_H
#define LW_CSMS_CONFIG_H

#include "ladewerk/base.h"
#include "ladewerk/limits.h"

#include <stdio.h>

typedef enum {
    LW_UNKNOWN_REJECT = 0,  /* refused at the upgrade (default) */
    LW_UNKNOWN_PENDING = 1, /* registered, answered Pending until an operator accepts */
    LW_UNKNOWN_ACCEPT = 2,  /* registered and accepted: test benches only */
} lw_unknown_stations_t;

#define LW_CONFIG_PATH_MAX 512
#define LW_CONFIG_HOST_MAX 64
/* public-url: lw_api_set_files takes up to 256 characters; webhook-url: LW_API_WEBHOOK_URL_MAX. */
#define LW_CONFIG_URL_MAX      512
#define LW_CONFIG_WEBHOOKS_MAX LW_API_WEBHOOK_URLS_MAX

typedef struct lw_config {
    char config_file[LW_CONFIG_PATH_MAX]; /* "" = none */
    char db[LW_CONFIG_PATH_MAX];          /* "sqlite:./ladewerk.db" */
    char ocpp_host[LW_CONFIG_HOST_MAX];
    int ocpp_port;
    char http_host[LW_CONFIG_HOST_MAX];
    int http_port;
    lw_unknown_stations_t unknown_stations;
    bool unknown_tokens_accept; /* unknown id tokens: Accepted instead of Invalid */
    int threads;                /* loops; 0 = number of cores */
    uint32_t ping_interval_s;   /* WebSocket ping period; 0 = off */
    uint32_t pong_timeout_s;    /* grace after a ping before the station is dropped */
    uint32_t call_timeout_s;    /* CSMS-initiated CALLs */
    uint32_t heartbeat_interval_s;
    uint32_t boot_retry_interval_s; /* interval sent with Pending / Rejected */
    uint32_t boot_rate_limit;       /* BootNotifications Accepted per second per node; 0 = off.
                                     * Beyond it: Pending with a random interval (shedding) */
    char tls_cert[LW_CONFIG_PATH_MAX], tls_key[LW_CONFIG_PATH_MAX], tls_ca[LW_CONFIG_PATH_MAX];
    char ca_cert[LW_CONFIG_PATH_MAX], ca_key[LW_CONFIG_PATH_MAX];
    uint32_t cert_days; /* validity of certificates signed for SignCertificate */
    size_t max_frame;
    uint32_t max_bad_messages;
    uint32_t upgrades_per_ip;      /* WebSocket upgrades per IP per minute; 0 = unlimited */
    uint32_t auth_failures_per_ip; /* failed authentications per IP per minute, then refused */
    int64_t journal_retention_s;   /* journal rows older than this are pruned; 0 = keep all */
    int64_t journal_keep;          /* newest rows kept per station; 0 = no count bound */
    int64_t dedupe_retention_s;    /* retry-dedupe rows older than this are pruned; 0 = keep */
    int64_t history_retention_s;   /* history rows (status, boot, …) stored longer; 0 = keep */
    uint32_t maintain_interval_s;  /* period of LW_W_MAINTAIN (retention) */
    uint32_t command_ttl_s;        /* default time-to-live of queued operator commands */
    lw_log_level_t log_level;
    /* files and webhooks of the operator API (csms/api/api.h) */
    char files_dir[LW_CONFIG_PATH_MAX]; /* firmware images and station uploads */
    char public_url[LW_CONFIG_URL_MAX]; /* base URL stations reach the operator listener at;
                                         * "" = derived from http-listen (lw_config_public_url) */
    char webhook_urls[LW_CONFIG_WEBHOOKS_MAX][LW_CONFIG_URL_MAX]; /* each repeat adds one */
    size_t n_webhook_urls;
} lw_config_t;

/* Fills c with the defaults. */
void lw_config_defaults(lw_config_t *c);

/* Applies one key/value pair. Borrows key and value. Returns 0, LW_ENOTFOUND (unknown key)
 * or LW_EINVAL (bad value); on error writes a reason ("expected an integer 1..1024") into
 * why (NUL-terminated, may be NULL). */
int lw_config_set(lw_config_t *c, const char *key, const char *value, char *why, size_t whysz);

/* Applies the text of a config file (borrowed; need not be NUL-terminated). name is used in
 * messages. Returns 0, or a negative code with "FILE:LINE: key 'k': reason" in err. */
int lw_config_parse_text(lw_config_t *c, const char *text, size_t len, const char *name, char *err,
                         size_t errsz);

/* Reads and applies the file at path. Same returns as lw_config_parse_text (LW_EIO when it
 * cannot be read). */
int lw_config_load_file(lw_config_t *c, const char *path, char *err, size_t errsz);

/* The whole command line of `serve` (argv[0] is the subcommand): defaults, then the file
 * named by --config, then the flags. Returns 0, 1 when --help was printed to out, or a
 * negative code with the reason in err. */
int lw_config_from_args(lw_config_t *c, int argc, char **argv, FILE *out, char *err, size_t errsz);

/* The base URL stations download firmware from and upload diagnostics to: public-url when
 * set, else "http://HOST:PORT" of the operator listener with port (the bound one, after
 * http-listen port 0); a wildcard host (0.0.0.0, ::) becomes the loopback address, which
 * only stations on this machine reach: set public-url in any real deployment. Writes a
 * NUL-terminated string into out. Returns 0 or LW_ETOOBIG. */
int lw_config_public_url(const lw_config_t *c, int port, char *out, size_t outsz);

/* Prints the key list with descriptions and defaults (the --help text). */
void lw_config_usage(FILE *out);

#endif
