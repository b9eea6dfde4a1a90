/*
 * api/api.h — the operator's side of `ladewerk serve`: REST /api/v1 (JSON), the live event
 * stream (Server-Sent Events), Prometheus /metrics, the OpenAPI document and the dashboard's
 * files, as pure request handlers: (method, target, headers, body) in, (status, headers,
 * body) out. No sockets here, so every route is unit-testable; `serve` glues this to the
 * transport's HTTP server mode (lw_http_respond / lw_http_stream_*).
 *
 * Everything below the API (store, sessions, codec, counters) is reached through one table
 * of function pointers, lw_api_backend_t, which `serve` fills in. The API owns two pieces of
 * state itself: the command table (CSMS-initiated CALLs submitted over REST, their states,
 * Idempotency-Keys and the offline queue with its time-to-live) and the event hub (a ring of
 * recent events that SSE clients read from, resumable with Last-Event-ID).
 *
 * Threads. lw_api_handle() may run on any thread, several at once (it blocks on backend
 * reads, so `serve` should run it on a worker thread, not on the event loop). Every other
 * lw_api_* function is thread-safe too. The backend's functions may be called from any of
 * those threads concurrently; none is called with an API lock held, so a backend may call
 * back into lw_api_* (e.g. lw_api_command_done from inside send_call).
 *
 * Wiring for `serve` (see docs/api.md, "Embedding"):
 *   1. lw_api_new(&backend, clock) once; lw_api_command_restore() for each saved command.
 *   2. For each HTTP request: fill lw_api_request_t, lw_api_handle(), then either
 *      lw_http_respond(status, headers, body) or, when res.stream is set (GET /api/v1/events),
 *      lw_http_stream_start(status, headers) and remember res.event_cursor for the connection.
 *   3. lw_api_set_notify(): called after each published event; hop to the HTTP loop
 *      (lw_net_loop_post / uv_async) and, for each stream, lw_api_events_read() into a buffer
 *      and lw_http_stream_write() it. Send ": keepalive\n\n" every ~15 s on idle streams.
 *   4. CSMS events: lw_api_event_station(), _status(), _transaction(), _security().
 *   5. Station connected: lw_api_station_connected() (sends its queued commands).
 *      CALL outcome: lw_api_command_done() exactly once per send_call that returned 0.
 *   6. lw_api_tick() every second (expires queued commands whose TTL ended).
 */
#ifndef LW_API_H
#define LW_API_H

#include "ladewerk/base.h"
#include "ladewerk/limits.h"
#include "ladewerk/ocpp.h"

#include <uv.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lw_api lw_api_t;

/* ---- roles -------------------------------------------------------------------------------
 * viewer reads everything; operator also sends commands and manages id tokens; admin also
 * manages stations (credentials, security profile) and API tokens. */
typedef enum {
    LW_API_ROLE_VIEWER = 0,
    LW_API_ROLE_OPERATOR = 1,
    LW_API_ROLE_ADMIN = 2
} lw_api_role_t;
const char *lw_api_role_name(lw_api_role_t r);         /* "viewer", … (static) */
int lw_api_role_parse(lw_str_t s, lw_api_role_t *out); /* 0 or LW_EINVAL */

/* ---- records the backend hands to the API (views and arrays valid during the call) -------- */

typedef struct lw_api_station {
    char id[LW_STATION_ID_MAX + 1];
    bool online;
    char ocpp_version[16]; /* "1.6", "2.0.1", "2.1"; "" = never connected */
    char vendor[64], model[64], serial[64], firmware_version[64];
    int security_profile; /* 0..3 */
    bool has_password;
    char registration[16]; /* BootNotification policy: "Accepted", "Pending", "Rejected" */
    int64_t created_ms, last_boot_ms, last_seen_ms; /* ms since epoch, 0 = never */
} lw_api_station_t;

typedef struct lw_api_connector {
    int evse_id;         /* 2.x EVSE id; 0 for 1.6 */
    int connector_id;    /* 1.6 connectorId (0 = the whole station) / 2.x connector id */
    char status[32];     /* last StatusNotification status as sent ("Available", …) */
    char error_code[64]; /* 1.6 errorCode ("NoError"); "" for 2.x */
    int64_t updated_ms;  /* when it was reported */
} lw_api_connector_t;

/* Create (must_not_exist) or update (must exist) a station; only fields flagged set_* change. */
typedef struct lw_api_station_put {
    lw_str_t id;
    bool must_not_exist;
    bool set_profile, set_password, set_registration;
    int security_profile;  /* 0..3, checked by the API */
    lw_str_t password;     /* clear text, hashed by the backend; "" removes it */
    lw_str_t registration; /* "Accepted" | "Pending" | "Rejected", checked by the API */
} lw_api_station_put_t;

typedef struct lw_api_tx {
    int64_t id;
    char tx_uid[64]; /* 2.x transactionId; "" for 1.6 */
    char station_id[LW_STATION_ID_MAX + 1];
    int evse_id, connector_id;
    char id_token[64];
    bool active;
    int64_t start_ms, stop_ms;             /* stop 0 while active */
    int64_t meter_start_wh, meter_stop_wh; /* -1 = unknown */
    int64_t energy_wh;                     /* -1 = unknown */
    char stop_reason[64];
} lw_api_tx_t;

typedef struct lw_api_tx_filter {
    lw_str_t station_id; /* "" = any */
    int state;           /* -1 any, 0 active, 1 ended */
    int64_t before_id;   /* ids < before_id; 0 = from the newest */
    size_t limit;
} lw_api_tx_filter_t;

typedef struct lw_api_meter {
    int64_t timestamp_ms;
    lw_str_t value; /* the number as sent, as text */
    lw_str_t measurand, phase, unit, context;
} lw_api_meter_t;

typedef struct lw_api_id_token {
    char id_token[64];
    char type[32];     /* 2.x IdTokenEnumType ("ISO14443"); "" for 1.6 idTag */
    char status[32];   /* "Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx" */
    int64_t expiry_ms; /* 0 = never */
    char group_id[64]; /* 1.6 parentIdTag / 2.x groupIdToken; "" = none */
} lw_api_id_token_t;

typedef struct lw_api_journal {
    int64_t seq;  /* increasing row id */
    bool inbound; /* station -> CSMS */
    int msg_type; /* 2 CALL, 3 CALLRESULT, 4 CALLERROR (payload = [code, description, details]) */
    lw_str_t msg_id, action, payload;
    int64_t at_ms;
} lw_api_journal_t;

typedef struct lw_api_token {
    int64_t id;
    lw_api_role_t role;
    char name[64];
    int64_t created_ms, revoked_ms; /* revoked 0 = active */
} lw_api_token_t;

/* One FirmwareStatusNotification / DiagnosticsStatusNotification / LogStatusNotification /
 * PublishFirmwareStatusNotification as stored (store table fw_status_history). */
typedef struct lw_api_fw_status {
    int64_t seq;     /* increasing row id */
    char what[16];   /* "firmware", "diagnostics", "log", "publish" */
    char status[64]; /* as sent ("Downloading", "Installed", "Uploaded", …) */
    int request_id;  /* 2.x / security extension requestId; -1 = none */
    int64_t at_ms;
} lw_api_fw_status_t;

/* What action_check reports about an invalid payload. */
typedef struct lw_api_check_err {
    char path[192];   /* JSON path of the offending value ("" = the payload itself) */
    char detail[256]; /* "keyword: what was wrong" */
} lw_api_check_err_t;

/* ---- metrics snapshot (filled by backend.metrics; arrays owned by the backend and valid
 * until its next metrics call — the API serializes those calls) -------------------------- */

/* CALL latency histogram bucket upper bounds, milliseconds (Prometheus "le", in seconds). */
#define LW_API_LATENCY_BUCKETS 12
extern const double lw_api_latency_bounds_ms[LW_API_LATENCY_BUCKETS];
/* Store batch-size buckets as the store counts them: 1, 2–3, 4–7, …, >=128. */
#define LW_API_BATCH_BUCKETS 8
#define LW_API_SYNC_BUCKETS  9 /* ≤ 0.25, 0.5, 1, 2, 5, 10, 25, 50 ms, more (store.h) */

typedef struct lw_api_metric_msgs {
    const char *action;    /* "BootNotification" */
    const char *direction; /* "in" (station -> CSMS) | "out" */
    const char *outcome;   /* "ok", "callerror", "invalid", "timeout" */
    uint64_t count;
} lw_api_metric_msgs_t;

typedef struct lw_api_metric_code {
    const char *code; /* CALLERROR errorCode */
    uint64_t count;
} lw_api_metric_code_t;

typedef struct lw_api_metric_latency {
    const char *action;
    uint64_t buckets[LW_API_LATENCY_BUCKETS]; /* NOT cumulative: count per bucket */
    uint64_t over;                            /* above the last bound */
    double sum_ms;
} lw_api_metric_latency_t;

typedef struct lw_api_metrics {
    uint64_t stations_connected[LW_OCPP_VERSION_COUNT];
    uint64_t ws_upgrades_total, ws_upgrades_rejected_total, auth_failures_total;
    const lw_api_metric_msgs_t *messages;
    size_t n_messages;
    const lw_api_metric_code_t *callerrors;
    size_t n_callerrors;
    const lw_api_metric_latency_t *call_latency; /* CSMS-initiated CALLs, per action */
    size_t n_call_latency;
    /* store */
    uint64_t store_commits, store_commit_failures, store_commit_us_total, store_commit_us_max;
    uint64_t store_replays;
    uint64_t store_commits_nosync;  /* of store_commits: without fsync (nothing acknowledged) */
    uint64_t store_cache_bytes;     /* the store writer's page cache now */
    uint64_t store_memory_releases; /* times the writer gave its cache back when idle */
    uint64_t store_batch_hist[LW_API_BATCH_BUCKETS];
    /* durable COMMITs alone (WAL write + fsync), µs: count, sum, slowest, histogram */
    uint64_t store_syncs, store_sync_us_total, store_sync_us_max;
    uint64_t store_sync_hist[LW_API_SYNC_BUCKETS];
    uint64_t store_queue_depth, store_queue_max;
    /* sessions: CALLs waiting to be sent to stations, all sessions together */
    uint64_t session_outbound_queued;
} lw_api_metrics_t;

/* ---- the backend `serve` provides --------------------------------------------------------
 * Return codes: 0, LW_ENOTFOUND, LW_EEXISTS, LW_EINVAL, LW_EAUTH, LW_ESTORE, LW_ENOTSUP… (the
 * API maps them to 404, 409, 400, 401, 503, 501). `each` callbacks return 0 to go on, nonzero
 * to stop. Any member may be NULL: the routes that need it answer 501. */
typedef struct lw_api_backend {
    void *ctx; /* passed to every function */

    /* Checks a presented bearer token (the text after "Bearer "). 0 and *role, or LW_EAUTH. */
    int (*token_check)(void *ctx, lw_str_t presented, lw_api_role_t *role);
    /* Creates an API token: writes its text (shown once) into text (NUL-terminated), *id. */
    int (*token_create)(void *ctx, lw_api_role_t role, lw_str_t name, char *text, size_t textsz,
                        int64_t *id);
    int (*token_list)(void *ctx, int (*each)(void *ud, const lw_api_token_t *t), void *ud);
    int (*token_revoke)(void *ctx, int64_t id);

    int (*station_get)(void *ctx, lw_str_t id, lw_api_station_t *out);
    /* Stations with id > after, in id order, at most limit. */
    int (*station_list)(void *ctx, lw_str_t after, size_t limit,
                        int (*each)(void *ud, const lw_api_station_t *s), void *ud);
    int (*station_put)(void *ctx, const lw_api_station_put_t *p);
    int (*station_delete)(void *ctx, lw_str_t id);
    /* The station's connectors with their latest status, (evse, connector) order. */
    int (*connector_list)(void *ctx, lw_str_t station,
                          int (*each)(void *ud, const lw_api_connector_t *c), void *ud);

    int (*tx_get)(void *ctx, int64_t id, lw_api_tx_t *out);
    /* Newest first. */
    int (*tx_list)(void *ctx, const lw_api_tx_filter_t *f,
                   int (*each)(void *ud, const lw_api_tx_t *t), void *ud);
    /* A transaction's meter samples in arrival order. */
    int (*meter_list)(void *ctx, int64_t tx_id, size_t limit,
                      int (*each)(void *ud, const lw_api_meter_t *m), void *ud);

    int (*id_token_get)(void *ctx, lw_str_t id_token, lw_api_id_token_t *out);
    /* Tokens with id_token > after, in order, at most limit. */
    int (*id_token_list)(void *ctx, lw_str_t after, size_t limit,
                         int (*each)(void *ud, const lw_api_id_token_t *t), void *ud);
    /* Insert (must_not_exist: LW_EEXISTS if present) or replace (LW_ENOTFOUND if absent). */
    int (*id_token_put)(void *ctx, const lw_api_id_token_t *t, bool must_not_exist);
    int (*id_token_delete)(void *ctx, lw_str_t id_token);

    /* A station's journal, newest first, rows with seq < before_seq (0 = newest). */
    int (*journal_list)(void *ctx, lw_str_t station, int64_t before_seq, size_t limit,
                        int (*each)(void *ud, const lw_api_journal_t *j), void *ud);

    /* Is action a CSMS-initiated action of version v, and is payload (JSON text) a valid
     * request for it? 0; LW_ENOTFOUND (no such CSMS-initiated action in v); LW_ESCHEMA with
     * err filled. `serve` implements it with lw_codec_action_find + lw_codec_validate. */
    int (*action_check)(void *ctx, lw_ocpp_version_t v, lw_str_t action, lw_str_t payload,
                        lw_api_check_err_t *err);
    /* Hands a CALL to the station's session. 0: accepted — the CSMS will call
     * lw_api_command_done(api, cmd_id, …) exactly once (possibly before send_call returns,
     * from any thread); LW_ECLOSED: the station is not connected here (the command stays
     * queued); other codes fail the command. Borrows every view; each is NUL-terminated
     * (p[len] == 0), so it can be handed to lw_csms_call() as a C string. */
    int (*send_call)(void *ctx, lw_str_t station, lw_str_t action, lw_str_t payload,
                     uint64_t cmd_id);
    /* Optional durability of the command table: called after every state change of a
     * command with its JSON (the same object GET /api/v1/commands/{id} returns). `serve`
     * stores it and replays it at start with lw_api_command_restore(). */
    int (*command_save)(void *ctx, uint64_t cmd_id, lw_str_t json);

    /* Fills a metrics snapshot (see lw_api_metrics_t for the lifetime of its arrays). */
    void (*metrics)(void *ctx, lw_api_metrics_t *out);

    /* A station's firmware / diagnostics / log / publish status history, newest first, rows
     * with seq < before_seq (0 = newest), at most limit. The store writes these rows
     * (LW_W_FW_STATUS); `serve` reads them back for GET /api/v1/stations/{id}/firmware. */
    int (*fw_status_list)(void *ctx, lw_str_t station, int64_t before_seq, size_t limit,
                          int (*each)(void *ud, const lw_api_fw_status_t *s), void *ud);
} lw_api_backend_t;

/* The action_check `serve` should use: lw_codec_action_find + direction + lw_codec_validate
 * (csms/api/api_codec.c). ctx is unused. */
int lw_api_codec_check(void *ctx, lw_ocpp_version_t v, lw_str_t action, lw_str_t payload,
                       lw_api_check_err_t *err);

/* ---- life ---------------------------------------------------------------------------------- */

/* Borrows backend (copied) and clock (must outlive the api; NULL = real clock).
 * Returns owned (free with lw_api_free), or NULL on ENOMEM. */
lw_api_t *lw_api_new(const lw_api_backend_t *backend, const lw_clock_t *clock);
void lw_api_free(lw_api_t *api);

/* Default time-to-live of a queued command when the request gives none (?ttl=seconds). */
void lw_api_set_command_ttl(lw_api_t *api, int64_t ttl_ms);

/* ---- requests ------------------------------------------------------------------------------ */

typedef struct lw_api_header {
    lw_str_t name; /* compared case-insensitively */
    lw_str_t value;
} lw_api_header_t;

typedef struct lw_api_request {
    lw_str_t method;
    lw_str_t target; /* origin-form as sent: "/api/v1/stations?status=online" */
    const lw_api_header_t *headers;
    size_t nheaders;
    lw_str_t body;
} lw_api_request_t;

typedef struct lw_api_response {
    int status;
    lw_buf_t headers; /* extra header lines "Name: value\r\n", Content-Type included */
    lw_buf_t body;
    /* GET /api/v1/events: start a stream (lw_http_stream_start with status and headers) and
     * read events after event_cursor with lw_api_events_read. */
    bool stream;
    uint64_t event_cursor;
} lw_api_response_t;

void lw_api_response_init(lw_api_response_t *r);
void lw_api_response_free(lw_api_response_t *r);

/* Handles one request (borrowed) into res (initialized by the caller). Always fills a
 * complete response (4xx/5xx with a JSON body {"error": …, "detail": …} on failure).
 * Returns 0, or LW_ENOMEM when even the error answer could not be built (answer 500). */
int lw_api_handle(lw_api_t *api, const lw_api_request_t *req, lw_api_response_t *res);

/* The routing table, for the OpenAPI agreement test and docs. */
typedef struct lw_api_route_info {
    const char *method; /* "GET" */
    const char *path;   /* "/api/v1/stations/{id}" (OpenAPI path template) */
    lw_api_role_t role; /* least role allowed */
    bool public_;       /* no token needed */
} lw_api_route_info_t;
const lw_api_route_info_t *lw_api_routes(size_t *count);

/* ---- events (Server-Sent Events) ----------------------------------------------------------- */

/* Called (on the publishing thread, no lock held) after each event is published. */
void lw_api_set_notify(lw_api_t *api, void (*notify)(void *ud), void *ud);

/* Publishes an event: type ("station.connected", …) and data, a JSON object text (borrowed,
 * copied). Returns 0, LW_EINVAL (data not a JSON object) or LW_ENOMEM. Any thread. */
int lw_api_publish(lw_api_t *api, const char *type, lw_str_t data_json);

/* Appends the SSE frames ("id: N\nevent: TYPE\ndata: JSON\n\n") of the events after
 * *cursor to out and advances *cursor. If the cursor fell behind the ring (a slow client),
 * one "resync" event is written first: the client should reload its state. Returns the
 * number of events written, or LW_ETOOBIG when out's cap stopped it (what fitted is in out
 * and *cursor says how far it got). */
int lw_api_events_read(lw_api_t *api, uint64_t *cursor, lw_buf_t *out);

/* Typed helpers that build the event data the dashboard and docs/api.md describe. They borrow
 * their arguments (the text is copied into the ring) and return 0, LW_EINVAL (an unknown kind,
 * or data longer than LW_API_EVENT_DATA_MAX) or LW_ENOMEM. Any thread. */
int lw_api_event_station(lw_api_t *api, lw_str_t station, bool connected, lw_ocpp_version_t v);
int lw_api_event_status(lw_api_t *api, lw_str_t station, int evse_id, int connector_id,
                        lw_str_t status, lw_str_t error_code);
/* kind: "started", "updated", "ended". power_w < 0 = unknown. */
int lw_api_event_transaction(lw_api_t *api, const char *kind, const lw_api_tx_t *tx,
                             double power_w);
int lw_api_event_security(lw_api_t *api, lw_str_t station, lw_str_t type, lw_str_t tech_info);

/* ---- commands (CSMS-initiated CALLs) -------------------------------------------------------- */

typedef enum {
    LW_API_CMD_QUEUED = 0, /* waiting for the station to be connected */
    LW_API_CMD_SENT,       /* handed to the session, no answer yet */
    LW_API_CMD_ANSWERED,   /* CALLRESULT received: response holds its payload */
    LW_API_CMD_FAILED,     /* CALLERROR, timeout, or the send failed: error says which */
    LW_API_CMD_EXPIRED,    /* its time-to-live ended while queued */
} lw_api_cmd_state_t;
const char *lw_api_cmd_state_name(lw_api_cmd_state_t s); /* "queued", … */

/* The outcome of a sent command, from the CSMS. outcome: LW_API_CMD_ANSWERED with response
 * = CALLRESULT payload JSON, or LW_API_CMD_FAILED with error_code (the CALLERROR errorCode,
 * or "Timeout", "Disconnected") and error_detail. Views borrowed. Unknown or already
 * finished cmd_id: LW_ENOTFOUND. Publishes a "command.result" event. Any thread. */
int lw_api_command_done(lw_api_t *api, uint64_t cmd_id, lw_api_cmd_state_t outcome,
                        lw_str_t response, lw_str_t error_code, lw_str_t error_detail);

/* The station is connected (again): hands its queued commands to send_call, oldest first. */
void lw_api_station_connected(lw_api_t *api, lw_str_t station);

/* Expires queued commands whose time-to-live ended; drops finished ones beyond the
 * retention (LW_API_COMMANDS_MAX). Call every second or so. */
void lw_api_tick(lw_api_t *api);

/* Puts back a command saved through backend.command_save (json borrowed). A command that was
 * "sent" when the process stopped comes back failed ("Restarted"): its answer is lost.
 * Returns 0, LW_EPARSE or LW_EEXISTS. */
int lw_api_command_restore(lw_api_t *api, lw_str_t json);

/* Counts by state (for metrics and tests). */
void lw_api_command_counts(lw_api_t *api, size_t counts[5]);

/* ---- files: firmware images for stations, diagnostics and log uploads from them ------------
 * Files live on disk under dir (config `files-dir`, default "./ladewerk-files/"):
 *   dir/firmware/<id>.bin and <id>.json   an operator's upload (POST /api/v1/firmware); id is
 *                                         128 random bits in hex, so the public download
 *                                         URL /files/firmware/<id>/<name> cannot be guessed
 *   dir/uploads/<token>/meta.json, data   one upload slot per GetDiagnostics / GetLog sent
 *                                         through the API: the station POSTs or PUTs to
 *                                         /files/uploads/<token>/[<name>] (raw body or
 *                                         multipart/form-data), unguessable per command
 * Stations cannot send a bearer token, so /files/... are public and the random name is the
 * secret; public_url (config `public-url`, e.g. "http://csms.example:8080", no trailing
 * slash needed) is the base the stations reach the operator listener at.
 * Until lw_api_set_files is called, the file routes answer 501. */

/* Borrows dir and public_url (copied). Creates dir, dir/firmware and dir/uploads (mode 0700)
 * if missing. Returns 0, LW_EINVAL (empty or too long, or public_url not http(s)://) or
 * LW_EIO (a directory could not be made). Call before serving requests. */
int lw_api_set_files(lw_api_t *api, const char *dir, const char *public_url);

/* The URL a station downloads firmware id from: "<public_url>/files/firmware/<id>/<name>".
 * Writes a NUL-terminated string into out. Returns 0, LW_ENOTFOUND (no such image),
 * LW_ENOTSUP (files not configured) or LW_ETOOBIG. */
int lw_api_firmware_url(lw_api_t *api, lw_str_t id, char *out, size_t outsz);

/* Opens an upload slot for station (command cmd_id, what "diagnostics" | "log") and writes
 * the URL the station should upload to into url ("<public_url>/files/uploads/<token>/").
 * The GetDiagnostics / GetLog shortcut calls this when its body has no location. Returns 0,
 * LW_ENOTSUP (files not configured), LW_EIO or LW_ETOOBIG. */
int lw_api_upload_open(lw_api_t *api, lw_str_t station, uint64_t cmd_id, const char *what,
                       char *url, size_t urlsz);

/* Publishes a "firmware.status" event (the CSMS calls it for each FirmwareStatusNotification,
 * DiagnosticsStatusNotification, LogStatusNotification and PublishFirmwareStatusNotification
 * after storing it). what as in lw_api_fw_status_t; request_id -1 = none. */
int lw_api_event_firmware(lw_api_t *api, lw_str_t station, const char *what, lw_str_t status,
                          int request_id);

/* Multipart/form-data (RFC 7578), the way chargers commonly upload diagnostics over HTTP.
 * Pure functions over bytes: no I/O, no allocation. */
typedef struct lw_api_part {
    lw_str_t name;         /* form field name ("" if none) */
    lw_str_t filename;     /* Content-Disposition filename ("" if none) */
    lw_str_t content_type; /* the part's Content-Type ("" if none) */
    lw_str_t data;         /* the part's bytes */
} lw_api_part_t;
/* The boundary parameter of a "multipart/form-data; boundary=…" Content-Type value (quotes
 * removed). Returns 0, LW_ENOTFOUND (not multipart/form-data) or LW_EPARSE (no or a bad
 * boundary: 1-70 characters, RFC 2046 §5.1.1). *out points into content_type. */
int lw_api_multipart_boundary(lw_str_t content_type, lw_str_t *out);
/* Finds the file in body: the first part that has a filename, else the first part. Returns
 * 0 and *out (views into body), LW_ENOTFOUND (no parts) or LW_EPARSE (malformed: no
 * delimiter, unterminated part, bad header line, more than LW_API_MULTIPART_PARTS_MAX
 * parts before the file). */
int lw_api_multipart_file(lw_str_t body, lw_str_t boundary, lw_api_part_t *out);

/* ---- webhooks -------------------------------------------------------------------------------
 * Every published event (the same ones the SSE stream carries) is also POSTed to each
 * configured URL (config `webhook-url`, repeatable) as JSON:
 *   {"id": N, "type": "station.connected", "data": {…}}
 * with headers Content-Type: application/json, X-Ladewerk-Event: TYPE, X-Ladewerk-Event-Id:
 * N. A 2xx answer is success; anything else (connection refused, timeout, other status) is
 * retried with exponential back-off, LW_API_WEBHOOK_ATTEMPTS times at most. Each URL gets its
 * events in order, one request at a time; a URL's queue holds at most
 * LW_API_WEBHOOK_QUEUE_MAX events (beyond it the oldest is dropped). Delivered, failed
 * attempts and dropped events are counted in /metrics. http:// only (no TLS). */
typedef struct lw_api_webhook_options {
    uint32_t backoff_ms;     /* first retry delay; 0 = LW_API_WEBHOOK_BACKOFF_MS */
    uint32_t backoff_max_ms; /* 0 = LW_API_WEBHOOK_BACKOFF_MAX_MS */
    uint32_t timeout_ms;     /* per attempt; 0 = LW_API_WEBHOOK_TIMEOUT_MS */
    uint32_t attempts;       /* 0 = LW_API_WEBHOOK_ATTEMPTS */
    size_t queue_max;        /* per URL; 0 = LW_API_WEBHOOK_QUEUE_MAX */
} lw_api_webhook_options_t;

/* Checks a webhook URL: "http://host[:port][/path]". Returns 0 or LW_EINVAL (https, other
 * schemes, no host, bad port, too long). Pure. */
int lw_api_webhook_url_check(const char *url);

/* The back-off before retry number attempt (1 = the first retry): backoff_ms * 2^(attempt-1)
 * capped at backoff_max_ms. Pure. */
uint32_t lw_api_webhook_backoff(const lw_api_webhook_options_t *o, uint32_t attempt);

/* Starts delivery on uv loop `loop` (borrowed; its thread does all the network work) to the
 * n urls (borrowed, copied; at most LW_API_WEBHOOK_URLS_MAX). opts may be NULL. Call on the
 * loop's thread (or before the loop runs). Returns 0, LW_EINVAL (a bad URL, n == 0 or too
 * many, already started) or LW_ENOMEM. Events published before this are not sent. */
int lw_api_webhooks_start(lw_api_t *api, uv_loop_t *loop, const char *const *urls, size_t n,
                          const lw_api_webhook_options_t *opts);
/* Stops delivery: pending events are dropped (counted), connections and timers are closed.
 * Call on the loop's thread, then let the loop run so the handles finish closing; the
 * memory is freed from the last close callback. lw_api_free calls this if needed, but then
 * the loop must still run afterwards. */
void lw_api_webhooks_stop(lw_api_t *api);

/* Counters for /metrics and tests (summed over URLs). */
typedef struct lw_api_webhook_stats {
    uint64_t delivered; /* events answered 2xx */
    uint64_t failures;  /* failed attempts (each retry counts) */
    uint64_t dropped;   /* events given up: attempts exhausted, queue full, or stopped */
    uint64_t queued;    /* events waiting now */
} lw_api_webhook_stats_t;
void lw_api_webhook_stats(lw_api_t *api, lw_api_webhook_stats_t *out);

/* ---- metrics ------------------------------------------------------------------------------- */

/* Appends the Prometheus text exposition (format 0.0.4) of m and the API's own counters. */
int lw_api_metrics_render(lw_api_t *api, const lw_api_metrics_t *m, lw_buf_t *out);

#ifdef __cplusplus
}
#endif
#endif
