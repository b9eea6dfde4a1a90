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
 * writer nor each other). Reads see every write whose completion has fired. Do not call list
 * reads from the event loop: they touch the disk and may scan (the CSMS caches what it needs,
 * e.g. station credentials, at connect time).
 *
 * Point lookups are the exception: lw_store_id_token_get (Authorize, the idToken of a
 * TransactionEvent) and lw_store_station_get / lw_store_station_check_password (connect) are
 * ONE primary-key lookup on the calling thread's read connection with a statement prepared
 * once: about 5 µs (token) and 7 µs (station) with the page cached (measured here, 20k tokens).
 * They never wait for the writer (WAL) and take no store-wide lock, so an event loop may call
 * them once per message; on a cold cache they cost one disk read. Everything that lists rows
 * (lw_store_*_list, _find, _pairs, _pending) belongs on a worker thread.
 *
 * Thread rules, in short:
 *   lw_store_open / lw_store_close ........ one owner thread, no other call in flight at close
 *   lw_store_submit ....................... any thread, never blocks
 *   lw_store_id_token_get, station_get,     any thread, the event loop included (one indexed
 *   station_check_password ................ lookup each); not inside a completion callback
 *   lw_store_submit_wait, other reads ..... any thread but NOT the event loop (they block or
 *                                           scan), and not inside a completion callback
 *   lw_store_stations_mark_all_offline .... blocking (submit_wait): at startup, before the loop
 *   lw_store_stats ........................ any thread
 *
 * Operator commands (LW_W_CMD_*) are durable: queued rows survive a restart, are listed by
 * lw_store_cmd_pending when the station reconnects, and expire at created + ttl. Periodic
 * retention is one write, LW_W_MAINTAIN, that the server submits on a timer with its config
 * (lw_store_maint_defaults gives the limits.h defaults); it takes an explicit now_ms.
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
    size_t lazy_batch_max;   /* the same for a commit nobody waits on (at least batch_max, at
                                most queue_max); 0 = LW_STORE_LAZY_BATCH_MAX_DEFAULT */
    int busy_timeout_ms;     /* waiting for a lock held by another process; 0 = default */
    const lw_clock_t *clock; /* borrowed, must outlive the store; NULL = real clock */
    bool no_group_commit;    /* commit a waited-on write at once (LW_STORE_GROUP_COMMIT_US) */
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

/* ---- value types added for the CSMS and the operator API (schema 002) -------------------- */

/* Tri-state filter field: zero-initialised filters match everything. */
typedef enum { LW_FILTER_ANY = 0, LW_FILTER_YES = 1, LW_FILTER_NO = 2 } lw_filter_bool_t;

/* One variable attribute of the 2.x device model (NotifyReport reportData, flattened: one
 * entry per variableAttribute; GetVariables results too). Every view as sent, "" = absent.
 * Used in writes (borrowed, copied by lw_store_submit) and in reads (valid during each()). */
typedef struct lw_dm_attr {
    lw_str_t component, component_inst;
    int evse_id, connector_id; /* component.evse; 0 = absent (2.x EVSE ids are > 0) */
    lw_str_t variable, variable_inst;
    lw_str_t attr_type;       /* AttributeEnumType; "" = "Actual" */
    lw_str_t value;           /* variableAttribute.value */
    lw_str_t mutability;      /* "ReadOnly" | "WriteOnly" | "ReadWrite"; "" = keep stored */
    lw_str_t characteristics; /* variableCharacteristics as JSON text; "" = keep stored */
} lw_dm_attr_t;

/* One 2.x NotifyEvent eventData entry. */
typedef struct lw_dm_event {
    int event_id;
    int64_t at_ms;    /* eventData.timestamp */
    lw_str_t trigger; /* EventTriggerEnumType */
    lw_str_t component, variable;
    lw_str_t actual;  /* actualValue */
    lw_str_t payload; /* the whole eventData object as JSON text */
} lw_dm_event_t;

/* One 1.6 configuration key from GetConfiguration.conf configurationKey. */
typedef struct lw_config_key {
    lw_str_t key;
    lw_str_t value; /* "" with no_value = the station sent no value */
    bool no_value;
    bool readonly;
} lw_config_key_t;

/* Operator command states, in the order they happen. */
typedef enum {
    LW_CMD_QUEUED = 0,   /* stored, not yet sent (station offline or busy) */
    LW_CMD_SENT = 1,     /* CALL sent, waiting for the answer */
    LW_CMD_ANSWERED = 2, /* CALLRESULT stored in response */
    LW_CMD_FAILED = 3,   /* CALLERROR, timeout, or refused; error code + description */
    LW_CMD_EXPIRED = 4,  /* its ttl passed before it was answered */
} lw_cmd_status_t;
const char *lw_cmd_status_name(lw_cmd_status_t st); /* "queued", …, "expired" (static) */
int lw_cmd_status_parse(const char *s, lw_cmd_status_t *out);

/* Retention and expiry done by LW_W_MAINTAIN (server config fills it; 0 = no bound). */
typedef struct lw_store_maint {
    int64_t now_ms;                   /* explicit "now": tests pass a fixed clock */
    int64_t journal_max_age_ms;       /* journal rows older than now - this are deleted */
    int64_t journal_keep_per_station; /* newest N journal rows kept per station */
    int64_t dedupe_max_age_ms;        /* retry-dedupe rows older than this are deleted */
    /* Rows of the history tables (status_history, boot_notifications, fw_status_history,
     * device_events, security_events, data_transfers) stored more than this long ago are
     * deleted. "Stored" is by the server's clock: each run marks every table's newest row
     * with now_ms (table history_marks), and a row goes once a mark that covers it is older
     * than this. With 0 no marks are made and nothing is deleted. */
    int64_t history_max_age_ms;
    int64_t rows_max; /* rows one run deletes per kind at most; 0 = LW_STORE_MAINT_ROWS_MAX */
} lw_store_maint_t;
/* Fills m with the defaults of limits.h (LW_STORE_JOURNAL_MAX_AGE_MS_DEFAULT, …); now_ms 0. */
void lw_store_maint_defaults(lw_store_maint_t *m);

/* ---- writes ------------------------------------------------------------------------------ */

typedef enum {
    LW_W_STATION_PUT,      /* insert or update a station's registration (CLI, REST) */
    LW_W_STATION_DELETE,   /* remove a station and its live state */
    LW_W_STATION_CONN,     /* station connected / disconnected / seen */
    LW_W_BOOT,             /* BootNotification: history row + station info */
    LW_W_STATUS,           /* StatusNotification: current state per connector + history */
    LW_W_TX_START,         /* 1.6 StartTransaction (dedupe: same content = same id) */
    LW_W_TX_STOP,          /* 1.6 StopTransaction (dedupe: one stop per transaction); for
                            * an unknown / -1 transaction it is kept in orphan_stops
                            * (schema 003): status 0, tx_id 0, row_id = orphan row */
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
    /* added with schema 002 (values after this point may grow; never persisted) */
    LW_W_STATIONS_OFFLINE,   /* every station offline (serve startup); no fields; row_id =
                              * stations changed; last_seen stays the last real sighting */
    LW_W_DEVICE_MODEL,       /* 2.x device model attributes: upsert per station */
    LW_W_DEVICE_EVENTS,      /* 2.x NotifyEvent eventData entries */
    LW_W_CONFIG_KEYS,        /* 1.6 GetConfiguration keys: upsert per station */
    LW_W_RESERVATION_PUT,    /* insert or update a reservation (id 0 = allocate) */
    LW_W_RESERVATION_STATUS, /* set a reservation's status */
    LW_W_PROFILE_PUT,        /* insert or update a charging profile sent to a station */
    LW_W_PROFILE_STATUS,     /* set a charging profile's status */
    LW_W_CERT_ISSUED,        /* a certificate signed for a station (SignCertificate) */
    LW_W_CMD_INSERT,         /* queue an operator command (idempotency key per station) */
    LW_W_CMD_UPDATE,         /* command sent / answered / failed / expired */
    LW_W_CMD_EXPIRE,         /* expire queued and sent commands past their ttl */
    LW_W_MAINTAIN,           /* periodic retention: journal, dedupe, commands, reservations */
    /* added with schema 005 */
    LW_W_ID_TOKEN_DELETE, /* remove an id token (u.id_token.id_token, every type); station_id
                           * ""; LW_ENOTFOUND when there is none */
    LW_W_CMD_META,        /* a command's via and idempotency fingerprint (u.cmd_meta);
                           * station_id must be the command's; LW_ENOTFOUND if no such row */
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
            /* With must_not_exist: the station is connecting as it is added (an unknown
             * station the policy registers), so the row starts online, last seen at_ms, with
             * ocpp_version; one statement instead of an insert and an LW_W_STATION_CONN. If
             * the station exists by then (added by an operator meanwhile), only those three
             * columns are written, as LW_W_STATION_CONN would, and the write succeeds. */
            bool connecting;
            lw_str_t ocpp_version;
            int64_t at_ms;
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
            int msg_type; /* 2 CALL, 3 CALLRESULT, 4 CALLERROR, 2.1: 5 CALLRESULTERROR, 6 SEND */
            lw_str_t msg_id, action, payload;
            int64_t at_ms;
            /* The CSMS's answer to this CALL (inbound, type 2), written in the same row
             * (schema 008): reply_type 3 CALLRESULT or 4 CALLERROR, 0 = no answer here.
             * reply_payload as a reply row's payload would be; sent at reply_at_ms. */
            int reply_type;
            lw_str_t reply_payload;
            int64_t reply_at_ms;
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
        struct {                       /* LW_W_DEVICE_MODEL; result.row_id = attributes stored */
            const lw_dm_attr_t *attrs; /* borrowed, copied */
            size_t n_attrs;
            bool replace_all; /* delete the station's stored model first (seqNo 0 of a
                               * full report) */
            int64_t at_ms;
        } device_model;
        struct { /* LW_W_DEVICE_EVENTS */
            const lw_dm_event_t *events;
            size_t n_events;
        } device_events;
        struct { /* LW_W_CONFIG_KEYS */
            const lw_config_key_t *keys;
            size_t n_keys;
            bool replace_all; /* answer to GetConfiguration without keys: the full list */
            int64_t at_ms;
        } config_keys;
        struct {              /* LW_W_RESERVATION_PUT; result.row_id = the reservation id */
            int id;           /* reservationId; 0 = the store picks max(id)+1 per station */
            int evse_id;      /* 2.x evseId, 0 = any */
            int connector_id; /* 1.6 connectorId (0 = any) / 2.x connector type not kept */
            lw_str_t id_token, group_id;
            int64_t expiry_ms;
            lw_str_t status; /* "" = "Requested"; then Accepted / Rejected / Occupied / … */
            int64_t at_ms;
        } reservation;
        struct { /* LW_W_RESERVATION_STATUS: LW_ENOTFOUND for an unknown id */
            int id;
            lw_str_t status; /* "Accepted", "Used", "Cancelled", "Expired", "Removed", … */
        } reservation_status;
        struct {              /* LW_W_PROFILE_PUT (key: station + profile_id) */
            int profile_id;   /* chargingProfileId (1.6) / id (2.x) */
            int evse_id;      /* 2.x evseId; 0 = the whole station */
            int connector_id; /* 1.6 connectorId; 0 = the whole charge point */
            int stack_level;
            lw_str_t purpose; /* ChargingProfilePurposeType */
            lw_str_t kind;    /* ChargingProfileKindType ("" = "Absolute") */
            int64_t tx_id;    /* internal transaction id of a TxProfile, 0 = none */
            int64_t valid_from_ms, valid_to_ms; /* 0 = absent */
            lw_str_t profile;                   /* the profile JSON as sent; required */
            lw_str_t status;                    /* "" = "Requested"; Accepted/Rejected/… */
            int64_t at_ms;
        } profile;
        struct { /* LW_W_PROFILE_STATUS: LW_ENOTFOUND for an unknown id */
            int profile_id;
            lw_str_t status; /* "Accepted", "Rejected", "Cleared", … */
            int64_t at_ms;
        } profile_status;
        struct {                /* LW_W_CERT_ISSUED; result.row_id = certificate row id */
            lw_str_t cert_type; /* "ChargingStationCertificate" | "V2GCertificate" | … */
            lw_str_t csr, pem;  /* PEM text; pem required */
            lw_str_t serial;    /* hex serial number; required */
            lw_str_t subject;
            int64_t not_before_ms, not_after_ms;
            int64_t at_ms;
        } cert;
        struct {                      /* LW_W_CMD_INSERT; result.row_id = command id */
            lw_str_t action;          /* OCPP action, e.g. "RemoteStartTransaction"; required */
            lw_str_t payload;         /* request JSON; required */
            int64_t ttl_s;            /* > 0: expires_at = at_ms + ttl_s * 1000 */
            lw_str_t idempotency_key; /* "" = none. A repeat of (station, key) writes
                                       * nothing: result.duplicate, row_id = the EXISTING
                                       * command's id (whatever its payload or state) */
            int64_t at_ms;            /* creation time; 0 = the store's clock */
            int64_t id;               /* > 0: use this command id (the REST API numbers its
                                       * commands itself); LW_EEXISTS if taken. 0 = next */
        } cmd;
        struct { /* LW_W_CMD_UPDATE (station_id must be the command's) */
            int64_t id;
            lw_cmd_status_t status;          /* SENT, ANSWERED, FAILED or EXPIRED */
            lw_str_t msg_id;                 /* SENT: the CALL's message id (joins the journal) */
            lw_str_t response;               /* ANSWERED: the CALLRESULT payload */
            lw_str_t error_code, error_desc; /* FAILED */
            int64_t at_ms;
            /* Allowed: SENT from queued/sent; ANSWERED/FAILED from queued/sent/expired (a
             * late real answer beats our expiry); EXPIRED from queued/sent. Otherwise the
             * command already has a final outcome: LW_EEXISTS, nothing changed. */
        } cmd_update;
        struct {            /* LW_W_CMD_EXPIRE (station_id "" = all); row_id = expired */
            int64_t now_ms; /* queued/sent commands with expires_at <= now_ms expire */
        } cmd_expire;
        lw_store_maint_t maint;   /* LW_W_MAINTAIN (station_id ""); counts in the result */
        struct {                  /* LW_W_CMD_META (schema 005) */
            int64_t id;           /* the command (inserted before with LW_W_CMD_INSERT) */
            lw_str_t via;         /* the REST shortcut it came through; "" = none */
            lw_str_t fingerprint; /* what an Idempotency-Key replay must repeat; "" = none */
        } cmd_meta;
    } u;
} lw_store_write_t;

/* What a write produced. Given to its completion; views valid until the callback returns. */
typedef struct lw_store_result {
    int status;      /* 0, or LW_EEXISTS / LW_ENOTFOUND / LW_EINVAL / LW_ESTORE / LW_EIO */
    bool duplicate;  /* a retry of a write already stored: nothing new was written */
    int64_t tx_id;   /* TX_START/TX_STOP/TX_EVENT: the transaction's internal id */
    int64_t row_id;  /* JOURNAL, API_TOKEN_PUT, …: id of the new row; PRUNE: rows deleted */
    lw_str_t answer; /* on a duplicate, the answer stored with the first write */
    /* LW_W_MAINTAIN only: what it removed or expired. */
    int64_t pruned_journal, pruned_dedupe, expired_commands, expired_reservations;
    int64_t pruned_history; /* rows of the history tables */
    bool more;              /* a rows_max bound stopped it: run it again soon */
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

/* One snapshot for several reads on the calling thread: between lw_store_read_begin and
 * lw_store_read_end, the thread's reads share one read transaction (they see no write
 * committed after the first of them), so a batch of point lookups takes the database's read
 * lock and checks for changes once instead of once each. Returns 0 or LW_ESTORE (no
 * snapshot: the reads then run one by one, as without the call). Pair each call with
 * lw_store_read_end on the same thread, and keep the span short: an open snapshot keeps the
 * checkpoint from reusing the WAL behind it. Not nested. */
int lw_store_read_begin(lw_store_t *s);
void lw_store_read_end(lw_store_t *s);

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
    /* added with schema 002; zero = no filter */
    lw_str_t id_token; /* "" = any */
    int64_t from_ms;   /* start time >= from_ms (0 = unbounded) */
    int64_t to_ms;     /* start time < to_ms (0 = unbounded) */
    bool oldest_first; /* ascending ids; then the cursor is after_id, before_id ignored */
    int64_t after_id;  /* oldest_first page cursor: ids > after_id (0 = first page) */
} lw_tx_filter_t;
/* Newest first (or oldest first, see the filter). rec valid during each(). For the next
 * page pass the last id seen as before_id (after_id when oldest_first). */
int lw_store_tx_list(lw_store_t *s, const lw_tx_filter_t *f,
                     int (*each)(void *ud, const lw_tx_rec_t *rec), void *ud);

/* Meter values of a transaction (tx_id > 0) in arrival order; views valid during each(). */
int lw_store_meter_list(lw_store_t *s, int64_t tx_id, size_t limit,
                        int (*each)(void *ud, const lw_meter_value_t *v), void *ud);

typedef struct lw_journal_rec {
    int64_t seq; /* row id: increasing. A row holding a CALL and its answer (schema 008) is
                  * listed as two records with the same seq: the answer, then the CALL. */
    bool inbound;
    int msg_type;
    lw_str_t msg_id, action, payload; /* valid during each() */
    int64_t at_ms;
} lw_journal_rec_t;
/* A station's journal, newest first, rows with seq < before_seq (0 = newest page); limit
 * counts rows (a paired row gives two records). */
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

/* ---- reads added with schema 002 ----------------------------------------------------------- */

/* Stations by filter, in id order. Zero-initialised = every station (like station_list). */
typedef struct lw_station_filter {
    lw_str_t after;          /* page cursor: ids > after ("" = first page) */
    size_t limit;            /* 0 = LW_STORE_PAGE_MAX */
    lw_filter_bool_t online; /* YES: online only, NO: offline only */
    bool by_reg_status;      /* only stations whose reg_status is reg_status */
    lw_reg_status_t reg_status;
    lw_str_t search; /* case-insensitive substring of id, vendor, model or serial; "" any */
} lw_station_filter_t;
int lw_store_station_find(lw_store_t *s, const lw_station_filter_t *f,
                          int (*each)(void *ud, const lw_station_rec_t *rec), void *ud);

/* Marks every station offline (at serve startup: no station is connected yet). Blocking
 * (submit_wait): not from the event loop. *n_out (may be NULL) = stations changed. */
int lw_store_stations_mark_all_offline(lw_store_t *s, int64_t *n_out);

/* Current status of each connector of a station (last StatusNotification per
 * (evse, connector); 1.6 connector 0 = the charge point), ordered by evse, connector. */
typedef struct lw_connector_status_rec {
    int64_t seq; /* status_history row id (history reads); 0 in the current-status read */
    int evse_id, connector_id;
    char status[LW_STORE_SHORT];
    char error_code[LW_STORE_SHORT];
    char info[LW_STORE_SHORT];
    char vendor_id[256];
    char vendor_error_code[LW_STORE_SHORT];
    int64_t at_ms;
} lw_connector_status_rec_t;
int lw_store_connector_status_list(lw_store_t *s, lw_str_t station_id,
                                   int (*each)(void *ud, const lw_connector_status_rec_t *r),
                                   void *ud);
/* Status history of a station, newest first, rows with seq < before_seq (0 = newest). */
int lw_store_status_history_list(lw_store_t *s, lw_str_t station_id, int64_t before_seq,
                                 size_t limit,
                                 int (*each)(void *ud, const lw_connector_status_rec_t *r),
                                 void *ud);

/* A station's journal as exchanges: each CALL (or 2.1 SEND) with the reply that carries the
 * same message id in the other direction (CALLRESULT / CALLERROR / CALLRESULTERROR), NULL
 * when none is stored (pending, lost, or pruned). Newest CALL first; call->seq < before_seq
 * (0 = newest page); the next page's cursor is the last call->seq. Replies whose CALL was
 * pruned are not listed (lw_store_journal_list shows every row). Views valid during each. */
int lw_store_journal_pairs(lw_store_t *s, lw_str_t station_id, int64_t before_seq, size_t limit,
                           int (*each)(void *ud, const lw_journal_rec_t *call,
                                       const lw_journal_rec_t *reply),
                           void *ud);

/* Device model of a station, in key order (component, instance, evse, connector, variable,
 * instance, attribute type). component / variable: exact match, "" = any. Paged by offset
 * (a station's model is a few thousand rows at most). Views valid during each(). */
typedef struct lw_dm_rec {
    lw_dm_attr_t a;
    int64_t updated_ms;
} lw_dm_rec_t;
int lw_store_device_model_list(lw_store_t *s, lw_str_t station_id, lw_str_t component,
                               lw_str_t variable, size_t offset, size_t limit,
                               int (*each)(void *ud, const lw_dm_rec_t *r), void *ud);
/* NotifyEvent entries of a station, newest first; seq < before_seq (0 = newest). */
typedef struct lw_dm_event_rec {
    int64_t seq;
    lw_dm_event_t e;
} lw_dm_event_rec_t;
int lw_store_device_event_list(lw_store_t *s, lw_str_t station_id, int64_t before_seq, size_t limit,
                               int (*each)(void *ud, const lw_dm_event_rec_t *r), void *ud);

/* 1.6 configuration keys of a station in key order. Views valid during each(). */
typedef struct lw_config_key_rec {
    lw_config_key_t k;
    int64_t updated_ms;
} lw_config_key_rec_t;
int lw_store_config_key_list(lw_store_t *s, lw_str_t station_id,
                             int (*each)(void *ud, const lw_config_key_rec_t *r), void *ud);

typedef struct lw_reservation_rec {
    int id;
    char station_id[LW_STATION_ID_MAX + 1];
    int evse_id, connector_id;
    char id_token[LW_STORE_IDTOK], group_id[LW_STORE_IDTOK];
    int64_t expiry_ms;
    char status[LW_STORE_SHORT];
    int64_t created_ms;
} lw_reservation_rec_t;
/* Returns 0 and *out, or LW_ENOTFOUND. */
int lw_store_reservation_get(lw_store_t *s, lw_str_t station_id, int id, lw_reservation_rec_t *out);
/* A station's reservations by id; active_only: status Requested or Accepted and not yet
 * expired at now_ms. */
int lw_store_reservation_list(lw_store_t *s, lw_str_t station_id, bool active_only, int64_t now_ms,
                              int (*each)(void *ud, const lw_reservation_rec_t *r), void *ud);

typedef struct lw_profile_rec {
    char station_id[LW_STATION_ID_MAX + 1];
    int profile_id, evse_id, connector_id, stack_level;
    char purpose[LW_STORE_SHORT], kind[LW_STORE_SHORT], status[LW_STORE_SHORT];
    int64_t tx_id, valid_from_ms, valid_to_ms, updated_ms;
    lw_str_t profile; /* JSON; valid during each() */
} lw_profile_rec_t;
/* A station's charging profiles ordered by evse, purpose, stack level, id; evse_id < 0 =
 * every EVSE, else only that one. */
int lw_store_profile_list(lw_store_t *s, lw_str_t station_id, int evse_id,
                          int (*each)(void *ud, const lw_profile_rec_t *r), void *ud);

typedef struct lw_cert_rec {
    int64_t id;
    char station_id[LW_STATION_ID_MAX + 1];
    char cert_type[LW_STORE_SHORT];
    char serial[LW_STORE_SHORT * 2]; /* hex of up to 20 bytes (RFC 5280 §4.1.2.2) + room */
    lw_str_t subject, csr, pem;      /* valid during each() */
    int64_t not_before_ms, not_after_ms, issued_ms, revoked_ms;
} lw_cert_rec_t;
/* Certificates issued to a station (station_id "" = every station), newest first,
 * id < before_id (0 = newest). */
int lw_store_cert_list(lw_store_t *s, lw_str_t station_id, int64_t before_id, size_t limit,
                       int (*each)(void *ud, const lw_cert_rec_t *r), void *ud);

typedef struct lw_cmd_rec {
    int64_t id;
    char station_id[LW_STATION_ID_MAX + 1];
    char action[LW_STORE_SHORT];
    lw_cmd_status_t status;
    lw_str_t payload, response, error_desc; /* see the read's ownership rule */
    char error_code[LW_STORE_SHORT];
    char idempotency_key[LW_STORE_SHORT * 2]; /* "" = none */
    char msg_id[LW_STORE_SHORT];              /* message id of the CALL, "" before sent */
    int64_t created_ms, expires_ms, sent_ms, updated_ms;
} lw_cmd_rec_t;
/* One command by id. Its views (payload, response, error_desc) are copied into arena a
 * (caller-owned; they live until lw_arena_reset/free of a). Returns 0, LW_ENOTFOUND,
 * LW_ENOMEM (arena full) or LW_ESTORE. */
int lw_store_cmd_get(lw_store_t *s, int64_t id, lw_cmd_rec_t *out, lw_arena_t *a);
/* Commands to deliver to a station, oldest first: status queued and expires_at > now_ms.
 * Sent-but-unanswered commands are not listed (the CSMS decides what an interrupted CALL
 * means and marks it). Views valid during each(). */
int lw_store_cmd_pending(lw_store_t *s, lw_str_t station_id, int64_t now_ms, size_t limit,
                         int (*each)(void *ud, const lw_cmd_rec_t *r), void *ud);
/* Every command of a station (station_id "" = all), newest first, id < before_id. */
int lw_store_cmd_list(lw_store_t *s, lw_str_t station_id, int64_t before_id, size_t limit,
                      int (*each)(void *ud, const lw_cmd_rec_t *r), void *ud);

/* ---- reads added with schema 005 ----------------------------------------------------------- */

/* Id tokens with id_token > after ("" = from the first), in id_token order, at most limit
 * (clamped to LW_STORE_PAGE_MAX). rec valid during each(). */
int lw_store_id_token_list(lw_store_t *s, lw_str_t after, size_t limit,
                           int (*each)(void *ud, const lw_id_token_rec_t *rec), void *ud);

/* One FirmwareStatusNotification / DiagnosticsStatusNotification / LogStatusNotification /
 * PublishFirmwareStatusNotification as LW_W_FW_STATUS stored it. */
typedef struct lw_fw_status_rec {
    int64_t seq;                 /* row id: increasing */
    char what[16];               /* "firmware", "diagnostics", "log", "publish" */
    char status[LW_STORE_SHORT]; /* as sent */
    int request_id;              /* -1 none */
    int64_t at_ms;
} lw_fw_status_rec_t;
/* A station's firmware status history, newest first, rows with seq < before_seq (0 = newest),
 * at most limit (clamped). Borrows station_id. */
int lw_store_fw_status_list(lw_store_t *s, lw_str_t station_id, int64_t before_seq, size_t limit,
                            int (*each)(void *ud, const lw_fw_status_rec_t *rec), void *ud);

/* The via and fingerprint (LW_W_CMD_META) of every command (station_id "" = all) with
 * id < before_id (0 = from the newest), newest first, at most limit (clamped); commands
 * without either are listed too, with "". Views valid during each(). */
int lw_store_cmd_meta_list(lw_store_t *s, lw_str_t station_id, int64_t before_id, size_t limit,
                           int (*each)(void *ud, int64_t id, lw_str_t via, lw_str_t fingerprint),
                           void *ud);

/* ---- metrics ----------------------------------------------------------------------------- */

#define LW_STORE_BATCH_BUCKETS 8 /* batch sizes 1, 2–3, 4–7, 8–15, …, ≥128 */
/* Durable commit times (COMMIT: WAL write and fsync) ≤ 250 µs, 500 µs, 1, 2, 5, 10, 25, 50 ms,
 * more: the bounds, in µs, of lw_store_sync_bucket_us. */
#define LW_STORE_SYNC_BUCKETS 9
extern const uint32_t lw_store_sync_bucket_us[LW_STORE_SYNC_BUCKETS - 1];
typedef struct lw_store_stats {
    uint64_t writes;       /* completed writes (callbacks fired) */
    uint64_t write_errors; /* completions with status != 0 */
    uint64_t duplicates;
    uint64_t commits;        /* successful transactions */
    uint64_t commits_nosync; /* of which without fsync: no write waited on them (durability) */
    uint64_t commit_failures;
    uint64_t replays; /* batches rolled back and applied again, a failed write having left part
                         of itself (lw_store_backend_t.spoiled) */
    uint64_t rejected_busy; /* submits refused with LW_EBUSY */
    uint64_t batch_hist[LW_STORE_BATCH_BUCKETS];
    uint64_t commit_us_total; /* sum of commit latencies (BEGIN..COMMIT), microseconds */
    uint64_t commit_us_max;
    /* The COMMIT alone of batches a write waited on (the WAL written and fsynced): what the
     * disk adds to every acknowledged write. Microseconds. */
    uint64_t syncs, sync_us_total, sync_us_max, sync_hist[LW_STORE_SYNC_BUCKETS];
    size_t queue_depth; /* now */
    size_t queue_max;
    /* The writer connection's page cache, bytes (after its last batch or release), and how
     * often the writer gave that memory back after LW_STORE_IDLE_RELEASE_MS idle. */
    uint64_t cache_bytes, memory_releases;
} lw_store_stats_t;
/* A consistent snapshot. Any thread. */
void lw_store_stats(lw_store_t *s, lw_store_stats_t *out);
/* Whether the last LW_W_MAINTAIN to complete stopped at its row bound (its result's `more`)
 * and no other has been submitted since: the caller should run the next one soon. The store
 * keeps this (not the caller's completion) so that a caller freed before the writer ran its
 * maintenance is never called back. Any thread. */
bool lw_store_maint_more(lw_store_t *s);

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
    /* Optional (NULL = every commit durable). Called before begin: durable false when no
     * write of the coming batch has a callback, i.e. nobody is told "stored" after its
     * commit (journal rows, last-seen times): such a commit may skip its fsync; the next
     * durable commit's fsync covers it. */
    int (*durability)(void *be, bool durable);
    int (*begin)(void *be);
    /* Applies one write inside the open transaction, atomically (a failed write leaves no
     * trace and does not spoil the batch). key/key_len: lw_store_dedupe_key() of w (0 = not
     * deduplicated). Text returned in res (answer) is copied into scratch, which lives until
     * the write's callback has returned. Returns res->status. */
    int (*apply)(void *be, const lw_store_write_t *w, const uint8_t *key, size_t key_len,
                 lw_store_result_t *res, lw_arena_t *scratch);
    int (*commit)(void *be);
    void (*rollback)(void *be);
    /* Optional (NULL = apply makes every write atomic by itself). A backend may apply writes
     * without a savepoint each (two statements fewer per write) if it can tell afterwards:
     * spoiled() is true when a write of the open transaction failed after changing something.
     * store.c then rolls the batch back and applies it again with savepoints(be, true), where
     * every write is atomic on its own, and calls savepoints(be, false) after that batch. */
    bool (*spoiled)(void *be);
    void (*savepoints)(void *be, bool on);
    /* reads; read_begin/read_end optional (NULL: every read its own transaction) */
    int (*read_begin)(void *be);
    void (*read_end)(void *be);
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
    /* added with schema 002; limits are already clamped by store.c */
    int (*station_find)(void *be, const lw_station_filter_t *f,
                        int (*each)(void *, const lw_station_rec_t *), void *ud);
    int (*connector_status_list)(void *be, lw_str_t station, bool history, int64_t before,
                                 size_t limit,
                                 int (*each)(void *, const lw_connector_status_rec_t *), void *ud);
    int (*journal_pairs)(void *be, lw_str_t station, int64_t before, size_t limit,
                         int (*each)(void *, const lw_journal_rec_t *, const lw_journal_rec_t *),
                         void *ud);
    int (*device_model_list)(void *be, lw_str_t station, lw_str_t component, lw_str_t variable,
                             size_t offset, size_t limit, int (*each)(void *, const lw_dm_rec_t *),
                             void *ud);
    int (*device_event_list)(void *be, lw_str_t station, int64_t before, size_t limit,
                             int (*each)(void *, const lw_dm_event_rec_t *), void *ud);
    int (*config_key_list)(void *be, lw_str_t station,
                           int (*each)(void *, const lw_config_key_rec_t *), void *ud);
    /* id > 0: that reservation only */
    int (*reservation_list)(void *be, lw_str_t station, int id, bool active_only, int64_t now_ms,
                            int (*each)(void *, const lw_reservation_rec_t *), void *ud);
    int (*profile_list)(void *be, lw_str_t station, int evse_id,
                        int (*each)(void *, const lw_profile_rec_t *), void *ud);
    int (*cert_list)(void *be, lw_str_t station, int64_t before, size_t limit,
                     int (*each)(void *, const lw_cert_rec_t *), void *ud);
    /* mode 0: by id (id), 1: pending (station, now_ms), 2: list (station, before = id) */
    int (*cmd_list)(void *be, int mode, lw_str_t station, int64_t id, int64_t now_ms, size_t limit,
                    int (*each)(void *, const lw_cmd_rec_t *), void *ud);
    /* added with schema 005 (NULL in a backend without them: the reads answer LW_ENOTSUP) */
    int (*id_token_list)(void *be, lw_str_t after, size_t limit,
                         int (*each)(void *, const lw_id_token_rec_t *), void *ud);
    int (*fw_status_list)(void *be, lw_str_t station, int64_t before, size_t limit,
                          int (*each)(void *, const lw_fw_status_rec_t *), void *ud);
    int (*cmd_meta_list)(void *be, lw_str_t station, int64_t before, size_t limit,
                         int (*each)(void *, int64_t, lw_str_t, lw_str_t), void *ud);
    /* Writer thread, optional (NULL: nothing to release): gives back the cache memory of the
     * writer's connection. store.c calls it when the queue has been idle for
     * LW_STORE_IDLE_RELEASE_MS after writes, so a burst's cache does not stay resident. */
    void (*release_memory)(void *be);
    /* Writer thread, optional (NULL: reported as 0): bytes the writer's cache holds now. */
    size_t (*cache_bytes)(void *be);
} lw_store_backend_t;

extern const lw_store_backend_t lw_store_sqlite_backend;

#ifdef __cplusplus
}
#endif
#endif
