/*
 * station_int.h — internals of the station library (include/ladewerk/station.h): the
 * station object and the functions its files share. station.c runs the RPC and the
 * connection lifecycle, config.c the configuration keys and device model, tx.c connectors,
 * authorization and transactions, calls.c the CSMS-initiated calls, smart.c charging
 * profiles, journal.c the durable journal.
 *
 * Frames are parsed and written by the rpc layer (include/ladewerk/rpc.h), which also keeps
 * the one outstanding CALL with its deadline on the injected clock. Every payload in and out
 * is validated against its schema with the codec (include/ladewerk/codec.h) before it is
 * looked at or sent. Payload content is read and built with cJSON: the station handles at
 * most one payload at a time, so the allocation is short-lived and bounded by the frame size.
 */
#ifndef LW_STATION_INT_H
#define LW_STATION_INT_H

#include "ladewerk/codec.h"
#include "ladewerk/limits.h"
#include "ladewerk/rpc.h"
#include "ladewerk/station.h"

#include <cjson/cJSON.h>

#define TAG_MAX 37 /* 2.x IdToken.idToken string[36]; 1.6 CiString20 */

typedef enum cstatus {
    CS_AVAILABLE,
    CS_PREPARING,
    CS_CHARGING,
    CS_SUSPENDED_EV,
    CS_SUSPENDED_EVSE,
    CS_FINISHING,
    CS_RESERVED,
    CS_UNAVAILABLE,
    CS_FAULTED,
} cstatus_t;

typedef struct tx {
    bool active;
    uint32_t local;  /* station-local number, unique within the journal's life */
    int64_t csms_id; /* 1.6: transactionId from StartTransaction.conf; -1 until known */
    char id[40];     /* 2.x: transactionId made by the station */
    char tag[TAG_MAX];
    char tag_type[24]; /* 2.x IdTokenType */
    int64_t start_wall;
    double meter_start;
    int seq;              /* 2.x next seqNo */
    int remote_start_id;  /* 2.x, -1 when none */
    int reservation_id;   /* -1 when none */
    uint64_t next_sample; /* mono deadline of the next sampled meter value; 0 = none */
} tx_t;

typedef struct conn {
    bool plugged;
    bool operative;        /* ChangeAvailability state in force */
    bool change_scheduled; /* Inoperative requested while a transaction runs */
    bool faulted;
    bool finishing;      /* transaction ended, EV still plugged (1.6 Finishing) */
    bool suspended_evse; /* StartTransaction answered not Accepted, tx kept running */
    double limit_w;      /* last limit from the charging profiles, <0 none */
    cstatus_t reported;  /* last status sent; -1 cast: never */
    bool reported_valid;
    double energy_wh;
    double power_req_w; /* what the EV asks for */
    double power_w;     /* after limits */
    double soc;
    uint64_t integrated_at; /* mono */
    tx_t tx;
    /* an authorized token (local or remote start) waiting for the EV */
    char auth_tag[TAG_MAX];
    char auth_type[24];
    bool auth_pending;
    uint64_t auth_expiry; /* mono, ConnectionTimeOut */
    int auth_remote_id;   /* 2.x remoteStartId, -1 */
    bool auth_remote;
    /* reservation */
    bool reserved;
    int res_id;
    char res_tag[TAG_MAX];
    char res_parent[TAG_MAX];
    int64_t res_expiry_wall;
} conn_t;

/* A CALL waiting to be sent. Transaction messages carry their journal number. */
typedef struct qmsg {
    struct qmsg *next;
    uint64_t qid;     /* journal record number, 0 when not journaled */
    uint32_t txlocal; /* 1.6: transactionId to fill in at send time; 0 none */
    char action[48];
    char *payload; /* owned JSON text */
    int attempts;
    uint64_t not_before; /* mono */
    bool periodic;       /* may be left out when the queue is full */
    /* context for the answer */
    int ctx_conn;
    char ctx_tag[TAG_MAX];
} qmsg_t;

typedef struct out_item {
    lw_station_out_kind_t kind;
    char *text; /* owned, SEND only */
    size_t len;
} out_item_t;

typedef struct auth_entry {
    char tag[TAG_MAX];
    char parent[TAG_MAX];
    char status[16]; /* Accepted, Blocked, Expired, Invalid, ConcurrentTx, ... */
    int64_t expiry;  /* wall ms, 0 none */
    bool used;
} auth_entry_t;

typedef struct period {
    int start_s;
    double limit; /* in the schedule's unit */
    int phases;   /* 0: unspecified */
} period_t;

typedef struct profile {
    bool used;
    int id;
    int conn; /* 1.6 connectorId / 2.x evseId; 0 = station */
    int stack;
    int purpose;                  /* PP_* */
    int kind;                     /* PK_* */
    int recurrency;               /* 0 none, 1 daily, 2 weekly */
    int64_t valid_from, valid_to; /* wall ms, 0 none */
    char tx_id[40];               /* "" none */
    int64_t start_schedule;       /* wall ms, 0 none */
    int duration_s;               /* 0 none */
    bool unit_w;                  /* true W, false A */
    double min_rate;
    int nperiods;
    period_t periods[LW_STATION_PERIODS_MAX];
} profile_t;

enum { PP_MAX = 0, PP_TXDEFAULT, PP_TX, PP_EXTERNAL };
enum { PK_ABSOLUTE = 0, PK_RECURRING, PK_RELATIVE };

typedef struct cert {
    bool used;
    char type[48];
    char *pem;
    char issuer_name_hash[129];
    char issuer_key_hash[129];
    char serial[41];
} cert_t;

/* firmware / log / diagnostics jobs walked through their status notifications */
typedef struct job {
    bool active;
    int step;
    uint64_t next; /* mono */
    int request_id;
    bool is_signed; /* 1.6 SignedUpdateFirmware / 2.x with signature */
    char location[512];
    char last_status[40];
    /* real transfers (cfg transfers set) */
    uint32_t xfer;     /* number of the transfer the host is doing, 0 none */
    bool waiting;      /* waiting for the host's *_done call */
    char *signature;   /* firmware: base64 signature, owned, or NULL */
    char *signing_pem; /* firmware: signing certificate, owned, or NULL */
    char *upload;      /* log: the generated file, owned until upload_done */
    size_t upload_len;
    char filename[96];
} job_t;

#define NVARS_MAX 96

struct lw_station {
    /* identity and environment */
    char id[LW_STATION_ID_MAX + 1];
    lw_ocpp_version_t ver;
    int nconn;
    char vendor[51], model[51], serial[26], fw_version[51];
    char password[65];
    int security_profile;
    int phases;
    double voltage, max_current;
    const lw_clock_t *clock;
    const lw_station_journal_ops_t *journal;
    lw_station_hooks_t hooks;
    const lw_station_transfer_ops_t *xfers; /* NULL: simulated transfers */
    uint32_t next_xfer;
    uint64_t rng;
    int64_t skew_ms;

    /* connection and boot */
    bool connected;
    bool connect_requested; /* CONNECT emitted, waiting for connected/disconnected */
    bool closing;           /* CLOSE emitted */
    lw_station_state_t state;
    uint64_t reconnect_at; /* mono, 0 none */
    int backoff_step;
    uint64_t boot_at; /* mono: (re)send BootNotification at; 0 none */
    char boot_reason[32];
    int heartbeat_s;
    uint64_t last_sent; /* mono */
    uint64_t heartbeat_at;
    uint64_t aligned_at; /* mono deadline of the next clock-aligned sample, 0 none */
    bool boot_triggered; /* TriggerMessage(BootNotification) while accepted */
    /* a reset waiting for transactions to end (OnIdle / 1.6 Soft with tx) or to run */
    bool reset_pending;
    bool reset_hard;
    uint64_t reset_at;

    /* rpc: the peer keeps the outstanding CALL's id and deadline; inflight its message */
    lw_rpc_peer_t peer;
    struct {
        bool active;
        qmsg_t *msg; /* owned */
        uint64_t sent_at;
    } inflight;
    lw_station_stats_t stats;
    qmsg_t *qhead, *qtail;
    size_t qlen;
    out_item_t out[LW_STATION_OUT_MAX];
    size_t out_head, out_len;
    char *last_out; /* the text handed out last, freed on the next call */

    /* journal */
    uint64_t next_qid;
    uint32_t next_txlocal;
    size_t journal_bytes;
    struct {
        uint32_t local;
        int64_t csms_id;
    } txmap[64];
    size_t txmap_n;

    /* configuration values: NULL = default */
    char *val[NVARS_MAX];

    /* connectors 0..nconn (0 is the station itself in 1.6) */
    conn_t conn[LW_STATION_CONNECTORS_MAX + 1];
    bool station_operative;

    /* authorization */
    auth_entry_t *local_list; /* LW_STATION_LOCAL_LIST_MAX, allocated when first used */
    size_t local_n;
    int local_version;
    auth_entry_t cache[LW_STATION_AUTH_CACHE_MAX];
    size_t cache_next;

    profile_t *profiles; /* LW_STATION_PROFILES_MAX, allocated on first use */
    cert_t certs[LW_STATION_CERTS_MAX];

    job_t fw, log;
    int report_seq;
};

/* ---- station.c ---- */
uint64_t st_mono(const lw_station_t *st);
int64_t st_wall(const lw_station_t *st);
void st_timestamp(const lw_station_t *st, char out[32]);
uint32_t st_rand(lw_station_t *st);
/* Queues a CALL (takes payload). Returns the queued message (owned by the queue) or NULL. */
qmsg_t *st_call(lw_station_t *st, const char *action, cJSON *payload);
/* Queues a transaction message: journaled first. periodic: may be dropped when full. */
int st_call_tx(lw_station_t *st, const char *action, cJSON *payload, uint32_t txlocal,
               bool periodic, int conn);
/* Sends what can be sent now (called after every event). */
void st_pump(lw_station_t *st);
void st_requeue_restored(lw_station_t *st, uint64_t qid, uint32_t txlocal, const char *action,
                         char *payload_text, bool periodic);
/* Removes a restored message that the journal marks done. */
void st_unqueue_restored(lw_station_t *st, uint64_t qid);
/* Answers the CALL msgid (raw id as received) with payload (taken). The payload is validated
 * against the action's response schema first: an invalid one is our bug, counted in
 * stats.invalid_out, and answered with CALLERROR InternalError instead. */
void st_reply(lw_station_t *st, const char *msgid, cJSON *payload);
void st_reply_error(lw_station_t *st, const char *msgid, lw_ocpp_err_t e, const char *desc);
void st_push_out(lw_station_t *st, lw_station_out_kind_t kind, char *text, size_t len);
bool st_online(const lw_station_t *st); /* connected and boot accepted */
void st_request_reset(lw_station_t *st, bool hard, const char *boot_reason);
void st_do_reset(lw_station_t *st);
void st_trigger_boot(lw_station_t *st);
void st_send_heartbeat(lw_station_t *st);
int64_t st_txmap_get(lw_station_t *st, uint32_t local);
void st_txmap_set(lw_station_t *st, uint32_t local, int64_t csms_id);

/* ---- journal.c ---- */
int jr_append(lw_station_t *st, cJSON *rec); /* borrows rec */
int jr_restore(lw_station_t *st);
void jr_compact_if_idle(lw_station_t *st);
void jr_done(lw_station_t *st, uint64_t qid);
void jr_tx_started(lw_station_t *st, int c);
void jr_tx_ended(lw_station_t *st, uint32_t local);
void jr_local_list(lw_station_t *st);
void jr_availability(lw_station_t *st, int c);
void jr_profiles(lw_station_t *st);       /* after any change of the installed profiles */
void jr_reservations(lw_station_t *st);   /* after any reservation is made, used or ends */
void jr_cert(lw_station_t *st, int slot); /* after certificate slot changed */

/* ---- config.c ---- */
typedef enum vtype { VT_INT, VT_BOOL, VT_STR, VT_MEASURANDS, VT_DECIMAL } vtype_t;
typedef enum vmut { VM_RW, VM_RO, VM_WO } vmut_t;
typedef struct var_def {
    const char *key16;  /* 1.6 key, NULL when not in 1.6 */
    const char *comp;   /* 2.x component, NULL when not in 2.x */
    const char *inst_c; /* 2.x component instance */
    const char *var;
    const char *inst_v; /* 2.x variable instance */
    vtype_t type;
    vmut_t mut;
    const char *dflt; /* "$" prefix: computed (see config.c) */
    int min, max;
} var_def_t;

enum var_id {
    V_HEARTBEAT,
    V_METER_SAMPLE_INTERVAL,
    V_ALIGNED_INTERVAL,
    V_SAMPLED_DATA,
    V_ALIGNED_DATA,
    V_STOP_SAMPLED,
    V_STOP_ALIGNED,
    V_STARTED_MEASURANDS,
    V_CONNECTION_TIMEOUT,
    V_LOCAL_AUTH_OFFLINE,
    V_LOCAL_PRE_AUTH,
    V_AUTH_CACHE_ENABLED,
    V_LOCAL_LIST_ENABLED,
    V_LOCAL_LIST_MAX,
    V_SEND_LOCAL_LIST_MAX,
    V_NUM_CONNECTORS,
    V_FEATURE_PROFILES,
    V_TX_ATTEMPTS,
    V_TX_RETRY_INTERVAL,
    V_RESET_RETRIES,
    V_GETCONFIG_MAX_KEYS,
    V_AUTH_REMOTE,
    V_STOP_ON_EV_DISCONNECT,
    V_STOP_ON_INVALID_ID,
    V_UNLOCK_ON_EV_DISCONNECT,
    V_ALLOW_OFFLINE_UNKNOWN,
    V_WS_PING,
    V_MAX_STACK_LEVEL,
    V_RATE_UNIT,
    V_MAX_PERIODS,
    V_MAX_PROFILES,
    V_SAMPLED_MAXLEN,
    V_RESERVE_ZERO,
    V_SECURITY_PROFILE,
    V_AUTH_KEY,
    V_CPO_NAME,
    V_CERT_MAX,
    V_ADDITIONAL_ROOT_CHECK,
    V_BACKOFF_MIN,
    V_BACKOFF_RANGE,
    V_BACKOFF_REPEAT,
    V_OFFLINE_THRESHOLD,
    V_ITEMS_PER_MESSAGE,
    V_BYTES_PER_MESSAGE,
    V_SET_VARS_ITEMS,
    V_GET_VARS_ITEMS,
    V_TX_START_POINT,
    V_TX_STOP_POINT,
    V_AUTH_ENABLED,
    V_SMART_ENABLED,
    V_RESERVATION_ENABLED,
    V_LOCAL_LIST_ENTRIES,
    V_LOCAL_LIST_ITEMS_PER_MSG,
    V_LOCAL_LIST_BYTES_PER_MSG,
    V_ALIGNED_TXENDED_INTERVAL,
    V_ID_VENDOR,
    V_ID_MODEL,
    V_ID_SERIAL,
    V_ID_FIRMWARE,
    V_CS_AVAILABILITY,
    V_CS_AVAILABLE,
    V_CS_SUPPLY_PHASES,
    V_MSG_TIMEOUT,
    V_CLOCK_TIME,
    V_SAMPLED_TX_ENDED_INTERVAL,
    V_COUNT
};

extern const var_def_t lw_station_vars[V_COUNT];
const char *cfg_get(const lw_station_t *st, int v, char *tmp, size_t tmpsz);
long cfg_int(const lw_station_t *st, int v);
bool cfg_bool(const lw_station_t *st, int v);
/* Finds by 1.6 key name. -1 when unknown. */
int cfg_find16(const char *key);
/* Finds by 2.x component/variable names (instances may be NULL). -1 unknown component,
 * -2 unknown variable of a known component. */
int cfg_find2x(const char *comp, const char *cinst, const char *var, const char *vinst);
bool cfg_known_component(const char *comp);
/* Validates and stores a value. Returns 0, LW_EINVAL (bad value), LW_EBUSY (read-only). */
int cfg_set(lw_station_t *st, int v, const char *value, bool force, bool journal);
bool measurand_supported(const char *m);

/* ---- tx.c ---- */
const char *cstatus_name(const lw_station_t *st, cstatus_t s);
void tx_update_status(lw_station_t *st, int c, bool force_send);
void tx_send_status(lw_station_t *st, int c);
void tx_integrate(lw_station_t *st, int c);
void tx_tick(lw_station_t *st);
uint64_t tx_next_deadline(const lw_station_t *st);
int tx_start(lw_station_t *st, int c, const char *tag, const char *tag_type, const char *trigger);
int tx_stop(lw_station_t *st, int c, const char *reason, const char *trigger);
void tx_send_meter_values(lw_station_t *st, int c, const char *context, bool aligned);
void tx_send_tx_updated(lw_station_t *st, int c, const char *trigger, const char *context);
void tx_on_result(lw_station_t *st, qmsg_t *m, cJSON *payload);
void tx_restore_powerloss(lw_station_t *st, int c);
void tx_authorize_result(lw_station_t *st, qmsg_t *m, cJSON *info);
void tx_authorized(lw_station_t *st, int c, const char *tag, const char *type, bool remote,
                   int remote_id);
int tx_find_by_id(const lw_station_t *st, const char *id);
void tx_reset_all(lw_station_t *st, bool hard);
bool tx_any_active(const lw_station_t *st);
void tx_aligned(lw_station_t *st);
void tx_schedule_aligned(lw_station_t *st);
void auth_cache_put(lw_station_t *st, const char *tag, cJSON *info);
const auth_entry_t *auth_lookup(lw_station_t *st, const char *tag, bool *from_list);
void tx_apply_availability(lw_station_t *st);

/* ---- calls.c ---- */
void calls_dispatch(lw_station_t *st, const char *msgid, const char *action, cJSON *payload);
/* True when version v's action has a handler (the rest get CALLERROR NotSupported). */
bool calls_handled(lw_ocpp_version_t v, const char *action);
void calls_tick(lw_station_t *st);
void calls_free(lw_station_t *st); /* frees the firmware/log jobs' buffers */
uint64_t calls_next_deadline(const lw_station_t *st);
void calls_on_result(lw_station_t *st, qmsg_t *m, cJSON *payload);

/* ---- smart.c ---- */
/* The limit in W for connector c at wall time t, <0 when unlimited. */
double smart_limit_w(lw_station_t *st, int c, int64_t t);
void smart_set(lw_station_t *st, const char *msgid, cJSON *p);
void smart_clear(lw_station_t *st, const char *msgid, cJSON *p);
void smart_composite(lw_station_t *st, const char *msgid, cJSON *p);
void smart_get_profiles(lw_station_t *st, const char *msgid, cJSON *p);
void smart_tx_ended(lw_station_t *st, int c);
/* Installs a profile given with a remote start. Returns 0 or LW_EINVAL. */
int smart_install(lw_station_t *st, int conn, cJSON *prof, const char *tx_id);

/* helpers */
const char *jstr(const cJSON *o, const char *key); /* NULL when absent or not a string */
bool jint(const cJSON *o, const char *key, long *out);
bool jnum(const cJSON *o, const char *key, double *out);
void copy_str(char *dst, size_t dstsz, const char *src);
bool is_v16(const lw_station_t *st);

#endif
