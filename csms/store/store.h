/*
 * store/store.h — Ladewerk's durable store: the whole API the CSMS, the REST API and the CLI
 * use to keep state. One interface, several backends behind a table of function pointers
 * (lw_store_backend_t, like SQLite's VFS or redis' ConnectionType), chosen by URL at open:
 *
 *     "sqlite:PATH"  embedded default, one file, WAL       (store/sqlite.c)
 *     "postgres://…" PostgreSQL (not in this build: lw_store_open returns LW_ENOTSUP)
 *
 * Writes ("acknowledged means durable"). The event loop never touches the disk. It fills a
 * typed lw_store_write_t and calls lw_store_submit(), which copies it into a bounded queue and
 * returns at once (LW_EBUSY when the queue is full: answer later or shed load; never block).
 * ONE writer thread per store takes everything queued, applies it in one transaction
 * (group commit: BEGIN IMMEDIATE … COMMIT with synchronous=FULL on SQLite), and only after
 * the commit returned calls each write's completion callback with its result. The CSMS sends
 * the CALLRESULT of a transaction message or MeterValues from that completion, so what was
 * acknowledged to a station survives a crash or power loss.
 *
 *   !! Completion callbacks run ON THE WRITER THREAD. They must be short and must not call
 *   !! lw_store_submit_wait() or lw_store_close(). Hop back to your own thread (the CSMS
 *   !! queues the result and wakes its loop with uv_async_send) and do the work there.
 *
 * Retries are normal (DESIGN.md): a retried 1.6 StartTransaction gets the SAME transaction id,
 * a retried StopTransaction / TransactionEvent (same transactionId+seqNo) / MeterValues is
 * stored once; the completion says result.duplicate and hands back the answer stored with the
 * first one, so the CSMS can give the same answer twice and bill once.
 *
 * Reads are synchronous and may be called from ANY thread except inside a completion
 * callback; each calling thread gets its own read connection (WAL readers never block the
 * writer nor each other). Reads see every write whose completion has fired. Do not call reads
 * from the event loop in a hot path: they touch the disk (the CSMS caches what it needs,
 * e.g. station credentials, at connect time, which is one indexed lookup).
 *
 * Thread rules, in short:
 *   lw_store_open / lw_store_close ........ one owner thread, no other call in flight at close
 *   lw_store_submit ....................... any thread, never blocks
 *   lw_store_submit_wait, lw_store_* reads  any thread but NOT the event loop (they block),
 *                                           and not inside a completion callback
 *   lw_store_stats ........................ any thread
 */
#ifndef LW_STORE_H
#define LW_STORE_H

#include "ladewerk/base.h"
#include "ladewerk/limits.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lw_store lw_store_t;

/* ---- open / close ------------------------------------------------------------------------ */

typedef struct lw_store_options {
    size_t queue_max;        /* bounded write queue; 0 = LW_STORE_QUEUE_MAX_DEFAULT */
    size_t batch_max;        /* writes per commit at most; 0 = LW_STORE_BATCH_MAX_DEFAULT */
    int busy_timeout_ms;     /* waiting for a lock held by another process; 0 = default */
    const lw_clock_t *clock; /* borrowed, must outlive the store; NULL = real clock */
} lw_store_options_t;

/* Opens the store named by url ("sqlite:PATH", a bare PATH means sqlite; "postgres://…"
 * gives LW_ENOTSUP), creates the file if needed, applies pending schema migrations
 * (recorded in table schema_version) and starts the writer thread.
 * Borrows url and opts (NULL = defaults). On success *out is owned: free with
 * lw_store_close(). On failure returns a negative LW_E* code and, if err is not NULL, a
 * human-readable reason in err (NUL-terminated, truncated to errsz). */
int lw_store_open(const char *url, const lw_store_options_t *opts, lw_store_t **out, char *err,
                  size_t errsz);

/* Drains the queue (every submitted write is committed and its callback fired), stops the
 * writer thread, closes every connection and frees s. NULL is a no-op. */
void lw_store_close(lw_store_t *s);

/* Highest schema migration applied (for `ladewerk serve` to log, and tests). */
int lw_store_schema_version(lw_store_t *s);

/* Checks a station id (charging station identity): 1..LW_STATION_ID_MAX bytes of printable
 * ASCII without space, '/' (it is the last path segment of the WebSocket URL) and ':' (the
 * HTTP Basic user-id cannot hold a colon, RFC 7617 §2, which security profiles 1 and 2 use;
 * OCPP 2.0.1 limits the identity to 48 characters and 1.6 says no more). Returns 0 or
 * LW_EINVAL with a static reason in *why (if why is not NULL). Pure. */
int lw_store_station_id_check(lw_str_t id, const char **why);

/* Reads the `db` key from a config file of `key = value` lines ('#' starts a comment).
 * Returns 0 and the value in url (NUL-terminated), LW_ENOTFOUND (no db key), LW_EIO (cannot
 * read the file) or LW_EPARSE / LW_ETOOBIG (bad line or value); err then names the file and
 * line. Borrows path. This tiny reader serves the CLI until the full config module exists. */
int lw_store_config_db(const char *path, char *url, size_t urlsz, char *err, size_t errsz);

/* ---- value types -------------------------------------------------------------------------- */

/* Registration policy for a station (what BootNotification answers). */
typedef enum {
    LW_REG_ACCEPTED = 0,
    LW_REG_PENDING = 1,
    LW_REG_REJECTED = 2,
} lw_reg_status_t;
const char *lw_reg_status_name(lw_reg_status_t r);            /* "Accepted", … (static) */
int lw_reg_status_parse(const char *s, lw_reg_status_t *out); /* 0 or LW_EINVAL */

/* id token status: the union of 1.6 AuthorizationStatus and 2.x AuthorizationStatusEnumType
 * that a CSMS keeps per token (2.x-only answers such as NoCredit are decided, not stored). */
typedef enum {
    LW_TOKEN_ACCEPTED = 0,
    LW_TOKEN_BLOCKED = 1,
    LW_TOKEN_EXPIRED = 2,
    LW_TOKEN_INVALID = 3,
    LW_TOKEN_CONCURRENT_TX = 4,
} lw_token_status_t;
const char *lw_token_status_name(lw_token_status_t t); /* "Accepted", …, "ConcurrentTx" */
int lw_token_status_parse(const char *s, lw_token_status_t *out);

/* API token roles for the operator REST API. */
typedef enum { LW_ROLE_VIEWER = 0, LW_ROLE_OPERATOR = 1, LW_ROLE_ADMIN = 2 } lw_role_t;
const char *lw_role_name(lw_role_t r); /* "viewer", "operator", "admin" */
int lw_role_parse(const char *s, lw_role_t *out);

/* Field sizes of records returned by reads: each spec's longest value + NUL, rounded. */
#define LW_STORE_SHORT 64 /* vendor, model, serial, firmware, iccid, ocpp version, … */
#define LW_STORE_IDTOK                                                                             \
    64 /* 1.6 idTag is 20, 2.x idToken is 36 (2.1: 255 — truncated                               \
        * tokens are stored whole; reads return the first 63 bytes) */

/* A station as the CSMS knows it. Password material is never returned in clear. */
typedef struct lw_station_rec {
    char id[LW_STATION_ID_MAX + 1];
    int security_profile;              /* 0..3 */
    lw_reg_status_t reg_status;        /* policy for BootNotification */
    bool has_password;                 /* a password hash is stored */
    char ocpp_version[LW_STORE_SHORT]; /* last seen subprotocol version ("1.6"), "" = never */
    char vendor[LW_STORE_SHORT], model[LW_STORE_SHORT], serial[LW_STORE_SHORT];
    char firmware[LW_STORE_SHORT], iccid[LW_STORE_SHORT], imsi[LW_STORE_SHORT];
    char meter_type[LW_STORE_SHORT], meter_serial[LW_STORE_SHORT];
    int64_t created_ms, last_boot_ms, last_seen_ms; /* ms since epoch, 0 = never */
    bool online;
} lw_station_rec_t;

typedef struct lw_id_token_rec {
    char id_token[LW_STORE_IDTOK];
    char type[LW_STORE_SHORT]; /* 2.x IdTokenEnumType ("ISO14443", …); "" for 1.6 idTag */
    lw_token_status_t status;
    int64_t expiry_ms;             /* 0 = never expires */
    char group_id[LW_STORE_IDTOK]; /* 1.6 parentIdTag / 2.x groupIdToken; "" = none */
} lw_id_token_rec_t;

typedef enum { LW_TX_ACTIVE = 0, LW_TX_ENDED = 1 } lw_tx_state_t;

typedef struct lw_tx_rec {
    int64_t id;                  /* internal id, also the 1.6 transactionId */
    char tx_uid[LW_STORE_SHORT]; /* 2.x transactionId string; "" for 1.6 */
    char station_id[LW_STATION_ID_MAX + 1];
    int evse_id;      /* 2.x evse id; 0 for 1.6 */
    int connector_id; /* 1.6 connectorId / 2.x connector id (0 = unknown) */
    char id_token[LW_STORE_IDTOK];
    lw_tx_state_t state;
    int64_t start_ms, stop_ms;             /* stop 0 while active */
    int64_t meter_start_wh, meter_stop_wh; /* -1 = unknown */
    int64_t energy_wh;                     /* meter_stop - meter_start, or last reading - start */
    char stop_reason[LW_STORE_SHORT];
    int last_seq_no;                   /* highest 2.x seqNo seen, -1 none */
    bool offline;                      /* any event was sent offline */
    bool meter_backwards;              /* the energy register went backwards at least once */
    int reservation_id;                /* -1 none */
    int remote_start_id;               /* -1 none */
    char last_trigger[LW_STORE_SHORT]; /* 2.x triggerReason of the latest event */
} lw_tx_rec_t;

/* One sampled value of MeterValues / TransactionEvent, every field as sent ("" = absent). */
typedef struct lw_meter_value {
    int64_t timestamp_ms;
    lw_str_t value;     /* as text, exactly as sent ("1234.5"); 2.x numbers are rendered */
    lw_str_t measurand; /* "Energy.Active.Import.Register", … */
    lw_str_t phase, unit, context, location, format;
    lw_str_t signed_data; /* 2.x signedMeterValue as JSON text, or 1.6 SignedData value */
} lw_meter_value_t;

/* ---- writes ------------------------------------------------------------------------------ */

typedef enum {
    LW_W_STATION_PUT,      /* insert or update a station's registration (CLI, REST) */
    LW_W_STATION_DELETE,   /* remove a station and its live state */
    LW_W_STATION_CONN,     /* station connected / disconnected / seen */
    LW_W_BOOT,             /* BootNotification: history row + station info */
    LW_W_STATUS,           /* StatusNotification: current state per connector + history */
    LW_W_TX_START,         /* 1.6 StartTransaction (dedupe: same content = same id) */
    LW_W_TX_STOP,          /* 1.6 StopTransaction (dedupe: one stop per transaction) */
    LW_W_TX_EVENT,         /* 2.x TransactionEvent (dedupe: transactionId + seqNo) */
    LW_W_METER_VALUES,     /* MeterValues (dedupe: content hash) */
    LW_W_JOURNAL,          /* one message-journal entry */
    LW_W_JOURNAL_PRUNE,    /* drop journal rows older than / beyond a bound */
    LW_W_SECURITY_EVENT,   /* SecurityEventNotification */
    LW_W_FW_STATUS,        /* firmware / diagnostics / log / publish status history */
    LW_W_DATA_TRANSFER,    /* DataTransfer from the station */
    LW_W_ID_TOKEN_PUT,     /* insert or update an id token */
    LW_W_API_TOKEN_PUT,    /* new API token (hash only) */
    LW_W_API_TOKEN_REVOKE, /* revoke an API token */
    LW_W_KIND_COUNT
} lw_store_write_kind_t;

/* Every lw_str_t inside a write is BORROWED by lw_store_submit(): it is copied before
 * submit returns, so the caller may free its buffers at once. Empty strings mean "absent". */
typedef struct lw_store_write {
    lw_store_write_kind_t kind;
    lw_str_t station_id; /* required for every kind except API tokens and PUT id token */
    union {
        struct { /* LW_W_STATION_PUT: fields flagged set_* are written, others kept */
            bool set_profile, set_password, set_reg_status;
            int security_profile;
            lw_str_t password; /* hashed in lw_store_submit with a fresh salt; "" clears */
            lw_reg_status_t reg_status;
            bool must_not_exist; /* add: fail with LW_EEXISTS; else update: LW_ENOTFOUND */
            /* Filled by lw_store_submit from password (callers leave them zero); the
             * clear password never reaches the queue or the backend. */
            bool pw_set; /* true: store pw_salt/pw_hash; false with set_password: clear */
            uint8_t pw_salt[16], pw_hash[32];
        } station_put;
        struct { /* LW_W_STATION_CONN */
            bool online;
            lw_str_t ocpp_version; /* "1.6", "2.0.1", "2.1" on connect, "" keep */
            int64_t at_ms;
        } conn;
        struct { /* LW_W_BOOT */
            int64_t at_ms;
            lw_str_t reason; /* 2.x BootReasonEnumType, "" for 1.6 */
            lw_str_t vendor, model, serial, firmware, iccid, imsi, meter_type, meter_serial;
            lw_str_t payload;         /* the request JSON as received */
            lw_reg_status_t answered; /* what the CSMS answered */
        } boot;
        struct {         /* LW_W_STATUS */
            int evse_id; /* 0 for 1.6 */
            int connector_id;
            lw_str_t status; /* "Available", "Charging", … as sent */
            lw_str_t error_code, info, vendor_id, vendor_error_code;
            int64_t at_ms; /* the station's timestamp, or receive time */
        } status;
        struct { /* LW_W_TX_START (1.6) */
            int connector_id;
            lw_str_t id_tag;
            int64_t meter_start_wh;
            int64_t at_ms;
            int reservation_id; /* -1 none */
            lw_str_t answer;    /* the CALLRESULT payload to send; returned on a duplicate
                                 * (the transactionId in it is filled by the caller after
                                 * the completion; see lw_store_result_t.tx_id) */
        } tx_start;
        struct { /* LW_W_TX_STOP (1.6) */
            int64_t tx_id;
            lw_str_t id_tag;
            int64_t meter_stop_wh;
            int64_t at_ms;
            lw_str_t reason;
            const lw_meter_value_t *values; /* transactionData; borrowed, copied */
            size_t n_values;
            lw_str_t answer;
        } tx_stop;
        struct {                 /* LW_W_TX_EVENT (2.x) */
            lw_str_t tx_uid;     /* transactionInfo.transactionId */
            lw_str_t event_type; /* "Started" | "Updated" | "Ended" */
            int seq_no;
            int64_t at_ms;
            lw_str_t trigger_reason;
            bool offline;
            int evse_id, connector_id;        /* 0 = not sent */
            lw_str_t id_token, id_token_type; /* "" = not sent */
            lw_str_t charging_state, stopped_reason;
            int reservation_id, remote_start_id; /* -1 = not sent */
            const lw_meter_value_t *values;
            size_t n_values;
            lw_str_t answer;
        } tx_event;
        struct { /* LW_W_METER_VALUES */
            int evse_id, connector_id;
            int64_t tx_id;   /* 1.6 transactionId, 0 = none */
            lw_str_t tx_uid; /* 2.x, "" = none */
            const lw_meter_value_t *values;
            size_t n_values;
        } meter;
        struct {          /* LW_W_JOURNAL */
            bool inbound; /* station -> CSMS */
            int msg_type; /* 2 CALL, 3 CALLRESULT, 4 CALLERROR, 5/6 (2.1 SEND, CALLRESULTERROR) */
            lw_str_t msg_id, action, payload;
            int64_t at_ms;
        } journal;
        struct {                      /* LW_W_JOURNAL_PRUNE (station_id "" = all stations) */
            int64_t older_than_ms;    /* delete rows with at < this; 0 = no age bound */
            int64_t keep_per_station; /* keep the newest N per station; 0 = no count bound */
        } prune;
        struct { /* LW_W_SECURITY_EVENT */
            lw_str_t type, tech_info;
            int64_t at_ms;
        } security;
        struct {           /* LW_W_FW_STATUS */
            lw_str_t what; /* "firmware" | "diagnostics" | "log" | "publish" */
            lw_str_t status;
            int request_id; /* -1 none */
            int64_t at_ms;
        } fw_status;
        struct { /* LW_W_DATA_TRANSFER */
            lw_str_t vendor_id, message_id, data;
            bool inbound;
            int64_t at_ms;
        } data_transfer;
        struct { /* LW_W_ID_TOKEN_PUT */
            lw_str_t id_token, type, group_id;
            lw_token_status_t status;
            int64_t expiry_ms;
        } id_token;
        struct {              /* LW_W_API_TOKEN_PUT; fills result.row_id with the token id */
            uint8_t hash[32]; /* SHA-256 of the 32 random bytes (lw_auth_token_new) */
            lw_role_t role;
            lw_str_t name;
            int64_t at_ms;
        } api_token;
        struct { /* LW_W_API_TOKEN_REVOKE */
            int64_t id;
            int64_t at_ms;
        } api_revoke;
    } u;
} lw_store_write_t;

/* What a write produced. Given to its completion; views valid until the callback returns. */
typedef struct lw_store_result {
    int status;      /* 0, or LW_EEXISTS / LW_ENOTFOUND / LW_EINVAL / LW_ESTORE / LW_EIO */
    bool duplicate;  /* a retry of a write already stored: nothing new was written */
    int64_t tx_id;   /* TX_START/TX_STOP/TX_EVENT: the transaction's internal id */
    int64_t row_id;  /* JOURNAL, API_TOKEN_PUT, …: id of the new row; PRUNE: rows deleted */
    lw_str_t answer; /* on a duplicate, the answer stored with the first write */
} lw_store_result_t;

/* Runs ON THE WRITER THREAD after the commit (or failure) of the batch holding the write.
 * Fired exactly once for every write whose lw_store_submit() returned 0. */
typedef void (*lw_store_done_cb)(void *ud, const lw_store_result_t *res);

/* Queues a write. Borrows w (deep-copied, including password hashing for STATION_PUT).
 * Returns 0 (cb will fire exactly once, on the writer thread; cb may be NULL), LW_EBUSY
 * (queue full; nothing queued, cb never fires), LW_EINVAL (malformed write), LW_ECLOSED
 * (store closing) or LW_ENOMEM. Never blocks on disk. Any thread. */
int lw_store_submit(lw_store_t *s, const lw_store_write_t *w, lw_store_done_cb cb, void *ud);

/* Queues a write and waits for its commit; copies the result into *res (res->answer is then
 * NOT valid: use the async form to get it). Returns res->status, or the submit error.
 * Retries LW_EBUSY for up to a second. For the CLI and the REST API worker threads;
 * NEVER from the event loop or a completion callback. */
int lw_store_submit_wait(lw_store_t *s, const lw_store_write_t *w, lw_store_result_t *res);

/* ---- reads (any thread except the event loop and completion callbacks) --------------------- */

/* Returns 0 and fills *out, or LW_ENOTFOUND / LW_ESTORE. Borrows id. */
int lw_store_station_get(lw_store_t *s, lw_str_t id, lw_station_rec_t *out);

/* Checks a station's password (HTTP Basic, security profiles 1 and 2) in constant time.
 * Returns 0 (matches), LW_EAUTH (wrong, or no password stored), LW_ENOTFOUND (unknown id).
 * Borrows id and password. */
int lw_store_station_check_password(lw_store_t *s, lw_str_t id, lw_str_t password);

/* Calls each(ud, rec) for stations with id > after (""/NULL-view = from the start), in id
 * order, at most limit (0 = LW_STORE_PAGE_MAX). rec is valid during the call. each returns
 * 0 to go on, nonzero to stop. Returns 0, LW_ESTORE. */
int lw_store_station_list(lw_store_t *s, lw_str_t after, size_t limit,
                          int (*each)(void *ud, const lw_station_rec_t *rec), void *ud);

/* Returns 0 and *out, or LW_ENOTFOUND. Borrows id_token. */
int lw_store_id_token_get(lw_store_t *s, lw_str_t id_token, lw_id_token_rec_t *out);

/* Transaction by internal id. */
int lw_store_tx_get(lw_store_t *s, int64_t id, lw_tx_rec_t *out);
/* Transaction by 2.x transactionId on a station. */
int lw_store_tx_get_uid(lw_store_t *s, lw_str_t station_id, lw_str_t tx_uid, lw_tx_rec_t *out);

typedef struct lw_tx_filter {
    lw_str_t station_id; /* "" = any */
    int state;           /* -1 any, LW_TX_ACTIVE, LW_TX_ENDED */
    int64_t before_id;   /* page cursor: ids < before_id (0 = newest first page) */
    size_t limit;        /* 0 = LW_STORE_PAGE_MAX */
} lw_tx_filter_t;
/* Newest first. rec valid during each(). */
int lw_store_tx_list(lw_store_t *s, const lw_tx_filter_t *f,
                     int (*each)(void *ud, const lw_tx_rec_t *rec), void *ud);

/* Meter values of a transaction (tx_id > 0) in arrival order; views valid during each(). */
int lw_store_meter_list(lw_store_t *s, int64_t tx_id, size_t limit,
                        int (*each)(void *ud, const lw_meter_value_t *v), void *ud);

typedef struct lw_journal_rec {
    int64_t seq; /* row id: increasing */
    bool inbound;
    int msg_type;
    lw_str_t msg_id, action, payload; /* valid during each() */
    int64_t at_ms;
} lw_journal_rec_t;
/* A station's journal, newest first, rows with seq < before_seq (0 = newest page). */
int lw_store_journal_list(lw_store_t *s, lw_str_t station_id, int64_t before_seq, size_t limit,
                          int (*each)(void *ud, const lw_journal_rec_t *rec), void *ud);

typedef struct lw_api_token_rec {
    int64_t id;
    lw_role_t role;
    char name[LW_STORE_SHORT];
    int64_t created_ms, revoked_ms; /* revoked 0 = active */
} lw_api_token_rec_t;
/* Looks up an API token presented by a client (the raw bytes after "Bearer "): hashes it
 * and finds an unrevoked row. Returns 0 and *out, or LW_EAUTH. */
int lw_store_api_token_check(lw_store_t *s, lw_str_t presented, lw_api_token_rec_t *out);
/* All tokens, revoked ones included, in id order. */
int lw_store_api_token_list(lw_store_t *s, int (*each)(void *ud, const lw_api_token_rec_t *r),
                            void *ud);

/* ---- metrics ----------------------------------------------------------------------------- */

#define LW_STORE_BATCH_BUCKETS 8 /* batch sizes 1, 2–3, 4–7, 8–15, …, ≥128 */
typedef struct lw_store_stats {
    uint64_t writes;       /* completed writes (callbacks fired) */
    uint64_t write_errors; /* completions with status != 0 */
    uint64_t duplicates;
    uint64_t commits; /* successful transactions */
    uint64_t commit_failures;
    uint64_t rejected_busy; /* submits refused with LW_EBUSY */
    uint64_t batch_hist[LW_STORE_BATCH_BUCKETS];
    uint64_t commit_us_total; /* sum of commit latencies (BEGIN..COMMIT), microseconds */
    uint64_t commit_us_max;
    size_t queue_depth; /* now */
    size_t queue_max;
} lw_store_stats_t;
/* A consistent snapshot. Any thread. */
void lw_store_stats(lw_store_t *s, lw_store_stats_t *out);

/* ---- backend interface (for store backends only) ----------------------------------------- */

/* A backend implements this table; store.c owns the queue, the writer thread, the copying
 * of writes and the counters, and calls into the backend. The writer-side functions
 * (begin/apply/commit/rollback) are only ever called on the writer thread; the read-side
 * functions on any thread (the backend keeps one read connection per calling thread). */
typedef struct lw_store_backend {
    const char *scheme; /* "sqlite", "postgres" */
    int (*open)(const char *target, const lw_store_options_t *opts, void **be, char *err,
                size_t errsz);
    void (*close)(void *be);
    int (*schema_version)(void *be);
    /* writer thread */
    int (*begin)(void *be);
    /* Applies one write inside the open transaction, atomically (a failed write leaves no
     * trace and does not spoil the batch). key/key_len: lw_store_dedupe_key() of w (0 = not
     * deduplicated). Text returned in res (answer) is copied into scratch, which lives until
     * the write's callback has returned. Returns res->status. */
    int (*apply)(void *be, const lw_store_write_t *w, const uint8_t *key, size_t key_len,
                 lw_store_result_t *res, lw_arena_t *scratch);
    int (*commit)(void *be);
    void (*rollback)(void *be);
    /* reads */
    int (*station_get)(void *be, lw_str_t id, lw_station_rec_t *out, uint8_t salt[16],
                       uint8_t hash[32]);
    int (*station_list)(void *be, lw_str_t after, size_t limit,
                        int (*each)(void *, const lw_station_rec_t *), void *ud);
    int (*id_token_get)(void *be, lw_str_t id_token, lw_id_token_rec_t *out);
    int (*tx_get)(void *be, int64_t id, lw_str_t station, lw_str_t uid, lw_tx_rec_t *out);
    int (*tx_list)(void *be, const lw_tx_filter_t *f, int (*each)(void *, const lw_tx_rec_t *),
                   void *ud);
    int (*meter_list)(void *be, int64_t tx_id, size_t limit,
                      int (*each)(void *, const lw_meter_value_t *), void *ud);
    int (*journal_list)(void *be, lw_str_t station, int64_t before, size_t limit,
                        int (*each)(void *, const lw_journal_rec_t *), void *ud);
    int (*api_token_find)(void *be, const uint8_t hash[32], lw_api_token_rec_t *out);
    int (*api_token_list)(void *be, int (*each)(void *, const lw_api_token_rec_t *), void *ud);
} lw_store_backend_t;

extern const lw_store_backend_t lw_store_sqlite_backend;

#ifdef __cplusplus
}
#endif
#endif
