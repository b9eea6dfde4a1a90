/*
 * api/api_int.h — internals shared by the files of csms/api: the lw_api_t struct, the request
 * context a handler sees, and small JSON/answer helpers. Not part of the API's interface.
 */
#ifndef LW_API_INT_H
#define LW_API_INT_H

#include "api/api.h"

#include <cjson/cJSON.h>
#include <pthread.h>

/* Path parameters per route at most ("/stations/{id}/commands/{action}" has two). */
#define API_PARAMS_MAX 2

typedef struct api_cmd api_cmd_t;

typedef struct api_event {
    uint64_t seq;
    char type[48];
    char *data; /* owned NUL-terminated JSON text; NULL until the slot is first used */
    size_t cap; /* bytes allocated at data; kept from one lap of the ring to the next */
} api_event_t;

struct lw_api {
    lw_api_backend_t be;
    const lw_clock_t *clock;

    pthread_mutex_t cmd_mu;         /* the command table */
    api_cmd_t *cmd_head, *cmd_tail; /* creation order */
    size_t cmd_count;
    uint64_t cmd_next_id;
    int64_t cmd_ttl_ms;
    uint64_t cmd_created, cmd_idem_hits; /* counters for /metrics */

    pthread_mutex_t ev_mu; /* the event ring */
    api_event_t *ring;     /* LW_API_EVENTS_RING slots; seq s lives at s % ring size */
    uint64_t ev_next;      /* seq of the next event (first is 1) */
    void (*notify)(void *ud);
    void *notify_ud;

    pthread_mutex_t metrics_mu; /* serializes backend.metrics */

    /* files (api_files.c); dir and public_url are set once before serving, then read-only */
    char *files_dir;                      /* owned; NULL = files not configured */
    char *public_url;                     /* owned, without a trailing slash */
    pthread_mutex_t files_mu;             /* serializes writes of records and slots */
    uint64_t fw_uploads, station_uploads; /* counters for /metrics, under files_mu */

    /* webhooks (api_webhook.c); NULL until lw_api_webhooks_start */
    struct api_webhooks *wh;
    pthread_mutex_t wh_mu; /* guards wh (the pointer), its queues and the counters below */
    uint64_t wh_delivered, wh_failures, wh_dropped;
    uint64_t requests_total, requests_4xx, requests_5xx, auth_denied; /* under ev_mu */
};

/* What a handler gets. */
typedef struct api_ctx {
    lw_api_t *api;
    const lw_api_request_t *req;
    lw_api_response_t *res;
    lw_str_t path;                   /* decoded path without the query */
    lw_str_t query;                  /* raw query string after '?', may be empty */
    lw_str_t params[API_PARAMS_MAX]; /* decoded path parameters */
    lw_api_role_t role;
    bool authed;
} api_ctx_t;

typedef int (*api_handler_fn)(api_ctx_t *c);

/* ---- answers (api.c) ------------------------------------------------------------------------ */
/* Answers status with {"error": error, "detail": detail…} and returns 0. */
int api_error(api_ctx_t *c, int status, const char *error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Maps a backend error to an answer (404, 409, 400, 503, 501…). */
int api_backend_error(api_ctx_t *c, int err, const char *what);
/* Answers status with the JSON of j (takes j, frees it). */
int api_json(api_ctx_t *c, int status, cJSON *j);
/* Sets a raw body with its content type (copies). */
int api_raw(api_ctx_t *c, int status, const char *content_type, const void *body, size_t len);

/* ---- request helpers (api.c) --------------------------------------------------------------------
 */
lw_str_t api_header(const lw_api_request_t *req, const char *name); /* p NULL if absent */
/* Decoded value of query parameter name into out (NUL-terminated). 1 found, 0 absent,
 * negative on a malformed escape / too long. */
int api_query(api_ctx_t *c, const char *name, char *out, size_t outsz);
/* Parses ?limit= (default LW_API_PAGE_DEFAULT, 1..LW_API_PAGE_MAX); 0 ok, or answered 400. */
int api_query_limit(api_ctx_t *c, size_t *limit);
/* Parses the body as a JSON object; NULL and a 400 answer if it is not one. */
cJSON *api_body_object(api_ctx_t *c);
/* True if the body is empty or only whitespace. */
bool api_body_empty(const api_ctx_t *c);
/* Rejects members of o not in the NULL-terminated list allowed (borrowed): a typo ("pasword")
 * must not silently do nothing. Returns 0, or answers 400 unknown_field and returns LW_EINVAL. */
int api_only_keys(api_ctx_t *c, const cJSON *o, const char *const *allowed);

/* ---- JSON helpers (api.c) -----------------------------------------------------------------------
 */
/* Adds a RFC 3339 string, or null when ms == 0. */
void api_json_time(cJSON *o, const char *key, int64_t ms);
/* Adds the string of a fixed buffer, or null when it is empty. */
void api_json_str_or_null(cJSON *o, const char *key, const char *s);
/* Adds an integer, or null when v < 0. */
void api_json_int_or_null(cJSON *o, const char *key, int64_t v);
/* Copies a view into a fixed buffer with a NUL; false if it does not fit. */
bool api_copy(char *dst, size_t dstsz, lw_str_t s);
/* A JSON string member of o, or NULL if absent or not a string. */
const char *api_get_str(const cJSON *o, const char *key);
/* Parses a decimal int64 from the whole of s. */
bool api_parse_i64(const char *s, int64_t *out);

/* ---- handlers ------------------------------------------------------------------------------ */
/* api_rest.c */
int api_h_stations_list(api_ctx_t *c);
int api_h_stations_create(api_ctx_t *c);
int api_h_station_get(api_ctx_t *c);
int api_h_station_update(api_ctx_t *c);
int api_h_station_delete(api_ctx_t *c);
int api_h_station_journal(api_ctx_t *c);
int api_h_tx_list(api_ctx_t *c);
int api_h_tx_csv(api_ctx_t *c);
int api_h_tx_get(api_ctx_t *c);
int api_h_idtok_list(api_ctx_t *c);
int api_h_idtok_create(api_ctx_t *c);
int api_h_idtok_get(api_ctx_t *c);
int api_h_idtok_update(api_ctx_t *c);
int api_h_idtok_block(api_ctx_t *c);
int api_h_idtok_delete(api_ctx_t *c);
int api_h_tokens_list(api_ctx_t *c);
int api_h_tokens_create(api_ctx_t *c);
int api_h_tokens_revoke(api_ctx_t *c);
cJSON *api_station_json(const lw_api_station_t *s);

/* api_commands.c */
int api_h_command_post(api_ctx_t *c);
int api_h_command_get(api_ctx_t *c);
int api_h_station_commands(api_ctx_t *c);
int api_h_shortcut(api_ctx_t *c); /* every shortcut route; params[1] unused, path says which */
void api_commands_init(lw_api_t *api);
void api_commands_free(lw_api_t *api);

/* api_events.c */
int api_events_init(lw_api_t *api);
void api_events_free(lw_api_t *api);
int api_h_events(api_ctx_t *c);

/* api_metrics.c */
int api_h_metrics(api_ctx_t *c);

/* api_files.c */
int api_h_fw_upload(api_ctx_t *c);
int api_h_fw_list(api_ctx_t *c);
int api_h_fw_get(api_ctx_t *c);
int api_h_fw_delete(api_ctx_t *c);
int api_h_fw_download(api_ctx_t *c);    /* public: /files/firmware/{id}/{name} */
int api_h_station_upload(api_ctx_t *c); /* public: /files/uploads/{token}[/{name}] */
int api_h_uploads_list(api_ctx_t *c);
int api_h_upload_download(api_ctx_t *c);
int api_h_station_firmware(api_ctx_t *c);
void api_files_init(lw_api_t *api);
void api_files_free(lw_api_t *api);
/* Removes an upload slot that was opened for a command that was not created. */
void api_upload_discard(lw_api_t *api, const char *url);
/* Renders the files' counters into /metrics. */
int api_files_metrics(lw_api_t *api, lw_buf_t *b);

/* api_webhook.c */
void api_webhooks_init(lw_api_t *api);
void api_webhooks_free(lw_api_t *api);
/* Queues one published event for every URL (any thread). */
void api_webhooks_event(lw_api_t *api, uint64_t seq, const char *type, const char *data);
int api_webhooks_metrics(lw_api_t *api, lw_buf_t *b);

#endif
