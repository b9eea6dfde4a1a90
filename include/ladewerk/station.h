/*
 * ladewerk/station.h — the embeddable charging-station library (OCPP 1.6J with the Security
 * Whitepaper, 2.0.1 and 2.1), plain C, no global state, sans-I/O.
 *
 * The library never opens a socket, a timer or (except through the journal callbacks) a
 * file. The host — charger firmware in its main loop, or `ladewerk sim` on libuv — does this:
 *
 *     lw_station_t *st;  lw_station_new(&cfg, clock, &st);
 *     loop:
 *       lw_station_out_t o;
 *       while (lw_station_next_output(st, &o) == 0) {       // drain outputs
 *           CONNECT -> open ws(s)://url/id with lw_station_subprotocol(st)
 *           SEND    -> send o.text as one WebSocket text message
 *           CLOSE   -> close the WebSocket (report lw_station_on_disconnected when done)
 *       }
 *       wait until a WebSocket event, a hardware event or lw_station_next_deadline(st);
 *       lw_station_on_connected / lw_station_on_message / lw_station_on_disconnected /
 *       lw_station_plug / lw_station_present_token / ... ;
 *       lw_station_tick(st);                                  // timers due by the clock
 *
 * Memory is bounded: the outgoing queue, the CALL queue, the local list, the authorization
 * cache, charging profiles and reservations all have caps in limits.h ("station" block).
 *
 * Transaction-related messages (1.6 StartTransaction, StopTransaction and MeterValues with a
 * transactionId; 2.x TransactionEvent) are written to a journal before they are queued, and
 * marked done in it once the CSMS answered (or they were given up after the configured
 * attempts). A station created over the same journal after a crash or power loss resends
 * the undelivered ones in order and closes transactions that were running with reason
 * PowerLoss. The journal is an interface so firmware can keep it on flash; a POSIX file
 * implementation (append + fsync) is provided.
 */
#ifndef LADEWERK_STATION_H
#define LADEWERK_STATION_H

#include "ladewerk/base.h"
#include "ladewerk/ocpp.h"
#include "ladewerk/rpc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lw_station lw_station_t;

/* ---- journal ------------------------------------------------------------------------------- */
/* Durable storage for the station's journal: an append-only byte log. Every function
 * returns 0 or a negative LW_E* code. */
typedef struct lw_station_journal_ops {
    /* Appends len bytes and returns only once they are durable (fsync or flash commit). */
    int (*append)(void *ctx, const void *data, size_t len);
    /* Reads the whole log into out (an empty log gives len 0). out is initialized by the
     * caller with a cap; exceeding it is LW_ETOOBIG. */
    int (*load)(void *ctx, lw_buf_t *out);
    /* Atomically replaces the whole log with data (used to compact it). After a crash the
     * log is either the old or the new content, never a mix. */
    int (*replace)(void *ctx, const void *data, size_t len);
    void *ctx;
} lw_station_journal_ops_t;

/* The default file journal: path is appended with O_APPEND and fdatasync'd per record;
 * replace writes path.tmp, fsyncs it, renames it over path and fsyncs the directory.
 * Borrows path (copied). Returns owned (free with lw_station_journal_file_close), fills *ops
 * (ops->ctx is the returned object). NULL on ENOMEM. */
typedef struct lw_station_journal_file lw_station_journal_file_t;
lw_station_journal_file_t *lw_station_journal_file_open(const char *path,
                                                        lw_station_journal_ops_t *ops);
void lw_station_journal_file_close(lw_station_journal_file_t *jf);

/* ---- configuration ------------------------------------------------------------------------ */
/* Optional hooks into the hardware. Every pointer may be NULL (a default is used). They are
 * called from inside lw_station_* calls; they must not call back into the same station. */
typedef struct lw_station_hooks {
    /* Unlock the connector; return true when it unlocked (default: true). */
    bool (*unlock)(void *ctx, int connector);
    /* A CALL this station sent got its answer (result or error) after latency_ms; for
     * statistics. error is NULL for a CALLRESULT. Borrowed strings, valid during the call. */
    void (*call_done)(void *ctx, const char *action, uint64_t latency_ms, const char *error);
    /* A frame went out or came in (for -v tracing). Borrowed, valid during the call. */
    void (*trace)(void *ctx, bool outgoing, lw_str_t frame);
    void *ctx;
} lw_station_hooks_t;

/* File transfers (firmware download, diagnostics/log upload), done by the host. When a
 * station has no transfer ops, UpdateFirmware/GetDiagnostics/GetLog walk through their
 * status notifications on timers without moving bytes (a simulation). With them, the
 * station asks the host and waits for lw_station_download_done / lw_station_upload_done:
 *   download: fetch url (the station checked the scheme is one the host listed in
 *             schemes, e.g. "http") and report the body;
 *   upload:   send the file (filename, data[0..len), borrowed until upload_done) to url
 *             (HTTP: POST multipart/form-data with one file part, or PUT).
 * Each returns 0 when the transfer started (exactly one *_done call follows, later, for
 * that xfer number), or a negative LW_E* code when it could not start (no *_done call). */
typedef struct lw_station_transfer_ops {
    int (*download)(void *ctx, uint32_t xfer, const char *url);
    int (*upload)(void *ctx, uint32_t xfer, const char *url, const char *filename, const void *data,
                  size_t len);
    const char *schemes; /* comma-separated URL schemes the host can transfer, e.g. "http" */
    void *ctx;
} lw_station_transfer_ops_t;

typedef struct lw_station_config {
    const char *id;            /* station identity, borrowed (copied); required */
    lw_ocpp_version_t version; /* 1.6, 2.0.1 or 2.1 */
    int connectors;            /* 1..LW_STATION_CONNECTORS_MAX; 2.x: EVSEs of one connector */
    const char *vendor;        /* BootNotification fields (copied; NULL = defaults) */
    const char *model;
    const char *serial;
    const char *firmware_version;
    /* Security profile the host connects with (0 = unsecured, 1 basic auth over ws, 2 basic
     * auth over TLS, 3 client certificate); reported as SecurityProfile variable. */
    int security_profile;
    const char *password; /* AuthorizationKey/BasicAuthPassword initial value, copied; or NULL */
    const lw_station_journal_ops_t *journal;    /* borrowed for the station's life; NULL: none */
    const lw_station_hooks_t *hooks;            /* borrowed for the station's life; may be NULL */
    const lw_station_transfer_ops_t *transfers; /* borrowed for the station's life; NULL:
                                                   transfers are simulated */
    uint32_t seed;                              /* randomisation seed (back-off jitter, ids) */
    /* Simulated phases and voltage, used for meter values and A<->W conversion. */
    int phases;           /* default 3 */
    double voltage;       /* default 230 */
    double max_current_a; /* per phase, default 32 */
} lw_station_config_t;

/* Creates a station. Borrows cfg (strings copied; journal and hooks must outlive the
 * station) and clock (must outlive the station). When cfg->journal holds records of an
 * earlier life, configuration, queued messages and open transactions are restored from it.
 * Returns 0 and an owned station (free with lw_station_free), or LW_EINVAL / LW_ENOMEM /
 * LW_EIO (journal unreadable). */
int lw_station_new(const lw_station_config_t *cfg, const lw_clock_t *clock, lw_station_t **out);
/* Frees everything; the journal is left as it is (nothing is flushed: it is always durable). */
void lw_station_free(lw_station_t *st);

/* The WebSocket subprotocol to request ("ocpp1.6", ...), static. */
const char *lw_station_subprotocol(const lw_station_t *st);
/* The basic-auth password currently configured (NUL-terminated, valid until the next call
 * into the station), or NULL when none. Hosts use it when (re)connecting. */
const char *lw_station_password(const lw_station_t *st);

/* ---- outputs ------------------------------------------------------------------------------- */
typedef enum lw_station_out_kind {
    LW_STATION_OUT_CONNECT = 1, /* open the WebSocket now */
    LW_STATION_OUT_SEND,        /* send text as one WebSocket text message */
    LW_STATION_OUT_CLOSE,       /* close the WebSocket (Reset, Rejected boot, ...) */
} lw_station_out_kind_t;

typedef struct lw_station_out {
    lw_station_out_kind_t kind;
    lw_str_t text; /* SEND only; valid until the next call into the station */
} lw_station_out_t;

/* Takes the next output. Returns 0 and fills *out, or LW_EAGAIN when there is none. */
int lw_station_next_output(lw_station_t *st, lw_station_out_t *out);

/* The monotonic time (lw_clock_mono scale) at which lw_station_tick must next be called;
 * UINT64_MAX when nothing is scheduled. Recompute after every call into the station. */
uint64_t lw_station_next_deadline(const lw_station_t *st);

/* Runs every timer that is due by the clock: heartbeats, meter values, retries, CALL
 * timeouts, reconnect back-off, reservations, simulated firmware and log steps. */
void lw_station_tick(lw_station_t *st);

/* ---- connection events -------------------------------------------------------------------- */
/* The WebSocket is open (after an OUT_CONNECT). The station sends BootNotification. */
void lw_station_on_connected(lw_station_t *st);
/* The WebSocket closed or could not be opened. The station goes offline, keeps transaction
 * messages in the journal and asks for a reconnect after a randomised back-off. */
void lw_station_on_disconnected(lw_station_t *st);
/* One received WebSocket text message. Borrows text. Returns 0, or LW_EPARSE for a frame
 * that is not OCPP-J (answered with a CALLERROR where the spec says so), or LW_ENOMEM. */
int lw_station_on_message(lw_station_t *st, const char *text, size_t len);

/* ---- file transfers ---------------------------------------------------------------------- */
/* The download xfer finished: status 0 with the body data[0..len) (borrowed; the station
 * checks its size against LW_STATION_FIRMWARE_MAX and, for signed firmware, the signature
 * with the signing certificate), or a negative LW_E* code (DownloadFailed). Unknown or
 * stale xfer numbers are ignored (LW_ENOTFOUND). */
int lw_station_download_done(lw_station_t *st, uint32_t xfer, int status, const void *data,
                             size_t len);
/* The upload xfer finished: status 0 (Uploaded) or a negative LW_E* code (UploadFailed). */
int lw_station_upload_done(lw_station_t *st, uint32_t xfer, int status);

/* ---- hardware events (firmware or simulator) ---------------------------------------------- */
/* EV cable plugged in (true) or out (false) at connector 1..N. Returns 0 or LW_EINVAL. */
int lw_station_plug(lw_station_t *st, int connector, bool plugged);
/* An RFID card (id token) presented at connector 1..N (0: any connector with an EV waiting).
 * Starts a transaction when authorized and plugged; stops the connector's transaction when
 * the same token (or one of its group) is presented again. Borrows id_tag. */
int lw_station_present_token(lw_station_t *st, int connector, const char *id_tag);
/* The EV draws power_w (limited by the charging profiles in force). The energy register
 * integrates it over the clock. 0 suspends charging (SuspendedEV). */
int lw_station_set_power(lw_station_t *st, int connector, double power_w);
/* Sets the state of charge reported with the SoC measurand (percent, <0: not reported). */
int lw_station_set_soc(lw_station_t *st, int connector, double soc);
/* The driver stops locally (as with a stop button): reason Local. */
int lw_station_stop_local(lw_station_t *st, int connector);

/* ---- introspection (for firmware UIs, the simulator and tests) ---------------------------- */
typedef struct lw_station_connector_info {
    bool plugged;
    bool in_transaction;
    bool available;          /* operative */
    const char *status;      /* 1.6 status name ("Charging", ...), static */
    double energy_wh;        /* register */
    double power_w;          /* actual power (after limits) */
    double limit_w;          /* limit from charging profiles, <0: none */
    char transaction_id[40]; /* CSMS id (1.6) or station-made id (2.x); "" when none */
    char id_tag[40];
} lw_station_connector_info_t;
int lw_station_connector_info(const lw_station_t *st, int connector,
                              lw_station_connector_info_t *out);

typedef enum lw_station_state {
    LW_STATION_OFFLINE = 0, /* not connected (waiting for back-off or connecting) */
    LW_STATION_BOOTING,     /* connected, BootNotification outstanding or retrying */
    LW_STATION_PENDING,     /* boot answered Pending */
    LW_STATION_ACCEPTED,    /* boot accepted: normal operation */
    LW_STATION_REJECTED,    /* boot rejected: only BootNotification after interval */
} lw_station_state_t;
lw_station_state_t lw_station_state(const lw_station_t *st);
/* Messages still queued for the CSMS (transaction messages included). */
size_t lw_station_queued(const lw_station_t *st);

/* Reads a configuration key (1.6 key name, or "Component.Variable" / "Component[inst].Variable"
 * in 2.x). Copies the value NUL-terminated into out. Returns 0, LW_ENOTFOUND, LW_ETOOBIG. */
int lw_station_get_config(const lw_station_t *st, const char *key, char *out, size_t outsz);
/* Sets a configuration key as the CSMS would (read-only keys are refused: LW_EINVAL... but
 * the host may set them with force=true, e.g. from a command line). Returns 0, LW_ENOTFOUND,
 * LW_EINVAL (bad value or read-only). Persisted in the journal. */
int lw_station_set_config(lw_station_t *st, const char *key, const char *value, bool force);

/* Protocol counters. Every payload in and out is validated against its OCPP schema:
 * invalid_in counts CSMS CALLs answered with a CALLERROR for their payload (or frame) and
 * CSMS answers rejected for a schema violation (treated like a CALLERROR); invalid_out counts
 * payloads this station built that failed validation (never sent: a bug in the library, so
 * tests assert it stays 0). rpc holds the rpc layer's frame counters. */
typedef struct lw_station_stats {
    uint64_t invalid_in;
    uint64_t invalid_out;
    uint64_t not_implemented; /* CSMS CALLs of actions unknown in this version */
    lw_rpc_stats_t rpc;
} lw_station_stats_t;
/* Copies the counters into *out. */
void lw_station_stats(const lw_station_t *st, lw_station_stats_t *out);

/* Test and fault-injection helper: the station's wall clock runs skew_ms ahead (negative:
 * behind) of the host clock in every timestamp it sends. */
void lw_station_set_clock_skew(lw_station_t *st, int64_t skew_ms);

#ifdef __cplusplus
}
#endif
#endif
