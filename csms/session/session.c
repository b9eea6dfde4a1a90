/*
 * session/session.c — the station side of `ladewerk serve`: listener loops, the WebSocket
 * upgrade (station id, subprotocol, security profile, per-IP limits), one session per
 * station (RPC state, ordered handling of incoming CALLs, the queue of CSMS-initiated CALLs,
 * the message journal), the registry of online stations and the graceful stop.
 *
 * Threads. Sessions live on the loop that accepted them and are touched only there. Store
 * completions run on the store's writer thread and come back with lw_net_loop_post();
 * blocking reads (credentials, id tokens) run on libuv's thread pool (uv_queue_work). A
 * session is freed on its loop once it is closed and nothing it started is still running
 * (refs == 0).
 */
#include "session/session.h"

#include "api/api.h"
#include "ladewerk/limits.h"
#include "session/metrics.h"
#include "ladewerk/net.h"
#include "ladewerk/rpc.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define LOG "session"

typedef struct loop_ctx loop_ctx_t;
typedef struct txpub txpub_t;
typedef struct upgrade upgrade_t;

typedef struct inframe {
    struct inframe *next;
    size_t len;
    char data[];
} inframe_t;

typedef struct outcall {
    struct outcall *next;
    lw_csms_t *csms;
    char station[LW_STATION_ID_MAX + 1];
    char action[LW_ACTION_MAX + 1];
    char *payload;
    lw_csms_call_cb cb;
    void *ud;
    struct loop_ctx *on; /* the loop it was posted to */
    uint64_t sent_mono;  /* when the CALL went out (latency metric) */
} outcall_t;

struct lw_session {
    /* Field order keeps the struct small (one per station: 216 bytes, registry included). */
    lw_csms_t *csms;
    loop_ctx_t *lc;
    lw_conn_t *conn; /* NULL once closed */
    uint64_t serial;
    char id[LW_STATION_ID_MAX + 1];
    bool closed;
    bool accepted; /* registration as last answered */
    bool counted;  /* counted in the connected-stations gauge */
    lw_ocpp_version_t version;
    int refs;
    lw_reg_status_t policy; /* the store's registration status */
    uint32_t policy_at;     /* mono ms (low 32 bits) when the upgrade read it */
    bool policy_fresh;      /* that read not yet used by a BootNotification */
    bool pub_held;          /* see pub_at below */
    uint32_t seen_saved_at; /* mono ms (low 32 bits) when last_seen_at was last written */
    uint32_t bad;
    uint16_t inq_len, outq_len; /* <= LW_CSMS_INQ_MAX, LW_CSMS_CALL_QUEUE_MAX */
    /* transaction.updated events (LW_CSMS_TX_UPDATE_MIN_MS): the transaction last published,
     * when (mono ms, low 32 bits), and an update held back (pub_held) with its power */
    uint32_t pub_at;
    int64_t pub_tx;
    float pub_power;
    /* The call table of our CALLs to the station, allocated at the first one and kept (its
     * last id tells a late answer from an unknown one). Idle stations that were never called
     * hold none: memory per station. Incoming CALLs need no table: `cur` and the queue
     * below already keep them one at a time and in order. */
    lw_rpc_peer_t *rpc;
    lw_call_t *cur; /* the incoming CALL being handled */
    inframe_t *inq, *inq_tail;
    outcall_t *outq, *outq_tail;
    outcall_t *out_active;
    lw_session_t *next, *prev; /* loop list */
    lw_session_t *reg_next;    /* registry bucket chain (under reg_mu) */
};

static void publish_held(lw_session_t *s);

struct loop_ctx {
    lw_csms_t *csms;
    lw_net_loop_t *loop;
    lw_server_t *server;
    uv_timer_t tick;
    /* frames, connects and closes seen (activity), as the last tick saw them (seen), and as
     * they were when the loop last gave memory back (released): see tick() */
    uint64_t activity, seen, released;
    int index;
    lw_session_t *sessions;
    /* transaction events waiting for their read-back, and the batch being read */
    txpub_t *pub_head, *pub_tail, *pub_batch;
    bool pub_busy;
    uv_work_t pub_work;
    /* upgrades waiting for their store read, and the read jobs in flight */
    upgrade_t *up_head, *up_tail;
    int up_waiting; /* upgrades in the up_head list */
    int up_jobs;
};

#define REG_BUCKETS 4096

typedef struct ip_slot {
    char ip[64];
    int64_t window; /* minute index */
    uint32_t upgrades, failures;
} ip_slot_t;

struct lw_csms {
    lw_config_t cfg;
    lw_store_t *store;
    const lw_clock_t *clock;
    lw_tls_t *tls;
    lw_net_threads_t *threads;
    int nloops;
    loop_ctx_t **loops;
    atomic_int port;
    atomic_bool draining;
    atomic_int inflight; /* answers waiting on a commit or read, outgoing calls */
    atomic_uint_fast64_t next_serial;
    pthread_mutex_t reg_mu;
    /* Registry of online stations: id -> the session that holds it. The sessions are the
     * entries (no copy of the id per station); other threads read id, serial, lc and
     * version, which never change, under reg_mu. A session is in its bucket from reg_put
     * until reg_remove (on_close) or until a newer session for its id replaces it. */
    lw_session_t *reg[REG_BUCKETS];
    pthread_mutex_t ip_mu;
    ip_slot_t *ips;
    pthread_mutex_t boot_mu; /* boot-rate-limit: the second counted, its boots, the PRNG */
    int64_t boot_second;
    uint32_t boot_count;
    uint64_t boot_rng;
    pthread_mutex_t post_mu; /* guards loops_alive: no post to a loop that is being freed */
    bool loops_alive;
    int64_t last_prune_ms;
    lw_api_t *api; /* the operator API, NULL = none */
    lw_sess_metrics_t *metrics;
};

/* ---- small helpers ------------------------------------------------------------------------ */

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static int64_t now_ms(lw_csms_t *c)
{
    return lw_clock_wall(c->clock);
}

/* OCPP 2.0.1 Part 2 identifierString (a-z A-Z 0-9 * - _ = : + | @ .), which covers the
 * 1.6 ids seen in practice; plus '~' (RFC 3986 unreserved). Length 1..48
 * (SecurityCtrlr.Identity is string[48]). */
static bool station_id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > LW_STATION_ID_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = id[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
            continue;
        if (!strchr("*-_=:+|@.~", ch)) return false;
    }
    return true;
}

/* Posts fn(arg) to lc's loop unless the loops are stopping. Returns 0 or LW_ECLOSED (fn will
 * not run). */
static int csms_post(lw_csms_t *c, loop_ctx_t *lc, void (*fn)(void *), void *arg)
{
    int rc = LW_ECLOSED;
    pthread_mutex_lock(&c->post_mu);
    if (c->loops_alive) rc = lw_net_loop_post(lc->loop, fn, arg);
    pthread_mutex_unlock(&c->post_mu);
    return rc ? LW_ECLOSED : 0;
}

/* ---- registry ----------------------------------------------------------------------------- */

/* Registers s for its id; returns the session it replaced as (serial, lc) in *old_serial,
 * *old_lc (serial 0 if none). */
static void reg_put(lw_csms_t *c, lw_session_t *s, uint64_t *old_serial, loop_ctx_t **old_lc)
{
    uint32_t b = hash_str(s->id) % REG_BUCKETS;
    *old_serial = 0;
    *old_lc = NULL;
    pthread_mutex_lock(&c->reg_mu);
    for (lw_session_t **pp = &c->reg[b]; *pp; pp = &(*pp)->reg_next)
        if (!strcmp((*pp)->id, s->id)) {
            lw_session_t *o = *pp;
            *old_serial = o->serial;
            *old_lc = o->lc;
            *pp = o->reg_next;
            o->reg_next = NULL;
            break;
        }
    s->reg_next = c->reg[b];
    c->reg[b] = s;
    pthread_mutex_unlock(&c->reg_mu);
}

/* Removes id if it still maps to serial. Returns true if it did. */
static bool reg_remove(lw_csms_t *c, const char *id, uint64_t serial)
{
    uint32_t b = hash_str(id) % REG_BUCKETS;
    bool removed = false;
    pthread_mutex_lock(&c->reg_mu);
    for (lw_session_t **pp = &c->reg[b]; *pp; pp = &(*pp)->reg_next) {
        if (strcmp((*pp)->id, id)) continue;
        if ((*pp)->serial == serial) {
            lw_session_t *e = *pp;
            *pp = e->reg_next;
            e->reg_next = NULL;
            removed = true;
        }
        break;
    }
    pthread_mutex_unlock(&c->reg_mu);
    return removed;
}

static bool reg_get(lw_csms_t *c, const char *id, uint64_t *serial, loop_ctx_t **lc,
                    lw_ocpp_version_t *v)
{
    uint32_t b = hash_str(id) % REG_BUCKETS;
    bool found = false;
    pthread_mutex_lock(&c->reg_mu);
    for (lw_session_t *e = c->reg[b]; e; e = e->reg_next)
        if (!strcmp(e->id, id)) {
            if (serial) *serial = e->serial;
            if (lc) *lc = e->lc;
            if (v) *v = e->version;
            found = true;
            break;
        }
    pthread_mutex_unlock(&c->reg_mu);
    return found;
}

bool lw_csms_online(lw_csms_t *c, const char *station_id, lw_ocpp_version_t *version)
{
    return reg_get(c, station_id, NULL, NULL, version);
}

static lw_session_t *loop_find(loop_ctx_t *lc, uint64_t serial)
{
    for (lw_session_t *s = lc->sessions; s; s = s->next)
        if (s->serial == serial) return s;
    return NULL;
}

/* ---- per-IP limits ------------------------------------------------------------------------ */

static ip_slot_t *ip_slot(lw_csms_t *c, const char *ip, int64_t minute)
{
    uint32_t h = hash_str(ip) % LW_CSMS_IP_SLOTS;
    ip_slot_t *sl = &c->ips[h];
    if (strcmp(sl->ip, ip) || sl->window != minute) {
        /* A different IP in the slot or an old window: start afresh. Collisions can only
         * make the limit forget, never refuse an innocent IP early. */
        lw_cstr_copy(sl->ip, sizeof sl->ip, ip);
        sl->window = minute;
        sl->upgrades = sl->failures = 0;
    }
    return sl;
}

/* Counts an upgrade from ip; false when ip is over a limit. */
static bool ip_allow_upgrade(lw_csms_t *c, const char *ip)
{
    int64_t minute = now_ms(c) / 60000;
    bool ok = true;
    pthread_mutex_lock(&c->ip_mu);
    ip_slot_t *sl = ip_slot(c, ip, minute);
    sl->upgrades++;
    if (c->cfg.upgrades_per_ip && sl->upgrades > c->cfg.upgrades_per_ip) ok = false;
    if (c->cfg.auth_failures_per_ip && sl->failures >= c->cfg.auth_failures_per_ip) ok = false;
    pthread_mutex_unlock(&c->ip_mu);
    return ok;
}

static void ip_auth_failed(lw_csms_t *c, const char *ip)
{
    int64_t minute = now_ms(c) / 60000;
    pthread_mutex_lock(&c->ip_mu);
    ip_slot(c, ip, minute)->failures++;
    pthread_mutex_unlock(&c->ip_mu);
    atomic_fetch_add(&lw_sess_metrics_counters(c->metrics)->auth_failures, 1);
}

/* ---- journal ------------------------------------------------------------------------------ */

/* A CALL from the station, as the journal keeps it until it is answered (borrowed views). */
typedef struct {
    lw_str_t id, action, payload;
    int64_t rx_ms;
} exch_t;

/* Queues one journal row: frame x (of type, in direction inbound), and with reply_type 3 or
 * 4 the answer Ladewerk sent to it (schema 008), now. */
static void journal_row(lw_session_t *s, bool inbound, int type, const exch_t *x, int reply_type,
                        lw_str_t reply)
{
    lw_store_write_t w = {.kind = LW_W_JOURNAL, .station_id = lw_str_c(s->id)};
    w.u.journal.inbound = inbound;
    w.u.journal.msg_type = type;
    w.u.journal.msg_id = x->id;
    w.u.journal.action = x->action;
    w.u.journal.payload = x->payload;
    w.u.journal.at_ms = x->rx_ms;
    w.u.journal.reply_type = reply_type;
    w.u.journal.reply_payload = reply;
    w.u.journal.reply_at_ms = reply_type ? now_ms(s->csms) : 0;
    int rc = lw_store_submit(s->csms->store, &w, NULL, NULL);
    if (rc)
        lw_log(LW_LOG_WARN, LOG, "station=%s event=journal_dropped err=%s", s->id, lw_err_name(rc));
}

/* Journals one frame by itself, as it is sent or received now. */
static void journal(lw_session_t *s, bool inbound, int type, lw_str_t id, lw_str_t action,
                    lw_str_t payload)
{
    const exch_t x = {id, action, payload, now_ms(s->csms)};
    journal_row(s, inbound, type, &x, 0, LW_STR_NULL);
}

/* Journals a station's CALL with the answer the CSMS sent to it (reply_type 3 or 4), or
 * alone (reply_type 0: never answered), as one row. */
static void journal_exchange(lw_session_t *s, const exch_t *x, int reply_type, lw_str_t reply)
{
    journal_row(s, true, LW_RPC_CALL, x, reply_type, reply);
}

/* The station's CALL kept in call (its id, action, validated text and arrival time). */
static exch_t call_exch(const lw_call_t *call)
{
    return (exch_t){lw_str_c(call->msg_id), lw_str_c(call->action->name),
                    (lw_str_t){call->doc.text, call->doc.text ? call->doc.len : 0}, call->rx_ms};
}

static int send_raw(lw_session_t *s, const lw_buf_t *b, int type)
{
    if (!s->conn) return LW_ECLOSED;
    int rc = lw_ws_send_text(s->conn, b->data, b->len);
    if (rc) return rc;
    if (s->rpc) lw_rpc_peer_sent(s->rpc, (lw_rpc_type_t)type);
    return 0;
}

/* Sends a frame and journals it. */
static int send_frame(lw_session_t *s, const lw_buf_t *b, int type, lw_str_t id, lw_str_t action,
                      lw_str_t payload)
{
    int rc = send_raw(s, b, type);
    if (!rc) journal(s, false, type, id, action, payload);
    return rc;
}

/* Sends the answer (CALLRESULT or CALLERROR, reply = what its journal payload holds) to the
 * station's CALL x and journals both in one row; the CALL alone when the answer could not
 * be sent. */
static int send_answer(lw_session_t *s, const lw_buf_t *b, int type, const exch_t *x,
                       lw_str_t reply)
{
    int rc = send_raw(s, b, type);
    journal_exchange(s, x, rc ? 0 : type, rc ? LW_STR_NULL : reply);
    return rc;
}

/* ---- session lifetime --------------------------------------------------------------------- */

static void free_call(lw_call_t *call)
{
    if (!call) return;
    lw_jdoc_free(&call->doc);
    free(call->answer_copy);
    lw_buf_free(&call->tmp);
    free(call);
}

static void maybe_free(lw_session_t *s)
{
    if (!s->closed || s->refs > 0) return;
    while (s->inq) {
        inframe_t *f = s->inq;
        s->inq = f->next;
        free(f);
    }
    free(s->rpc);
    free(s);
}

static void bad_message(lw_session_t *s, const char *why)
{
    s->bad++;
    lw_log(LW_LOG_INFO, LOG, "station=%s event=bad_message count=%u reason=\"%s\"", s->id, s->bad,
           why);
    if (s->csms->cfg.max_bad_messages && s->bad >= s->csms->cfg.max_bad_messages && s->conn) {
        lw_log(LW_LOG_WARN, LOG, "station=%s event=close reason=too_many_bad_messages", s->id);
        lw_ws_close(s->conn, 1008, "too many malformed messages");
    }
}

/* ---- incoming CALLs ----------------------------------------------------------------------- */

static void process_frame(lw_session_t *s, const char *data, size_t len);

static void drain_inq(lw_session_t *s)
{
    while (!s->closed && !s->cur && s->inq) {
        inframe_t *f = s->inq;
        s->inq = f->next;
        if (!s->inq) s->inq_tail = NULL;
        s->inq_len--;
        process_frame(s, f->data, f->len);
        free(f);
    }
}

static void call_done(lw_call_t *call)
{
    lw_session_t *s = call->session;
    if (s->cur == call) s->cur = NULL;
    free_call(call);
    drain_inq(s);
}

/* Answers the station's CALL x with a CALLERROR. */
static void send_error(lw_session_t *s, const exch_t *x, lw_ocpp_err_t code, const char *desc)
{
    lw_buf_t b;
    lw_buf_init(&b, 4096);
    if (lw_rpc_write_error(&b, s->version, x->id, code, lw_str_c(desc), LW_STR_NULL) == 0)
        send_answer(s, &b, LW_RPC_CALLERROR, x, lw_str_c(desc));
    else
        journal_exchange(s, x, 0, LW_STR_NULL);
    lw_buf_free(&b);
    lw_sess_metrics_callerror(s->csms->metrics, lw_ocpp_err_name(s->version, code));
}

void lw_call_error(lw_call_t *call, lw_ocpp_err_t code, const char *description)
{
    lw_session_t *s = call->session;
    lw_sess_metrics_msg(s->csms->metrics, call->action->name, true, "callerror");
    exch_t x = call_exch(call);
    send_error(s, &x, code, description);
    call_done(call);
}

void lw_call_reply(lw_call_t *call, const char *json, size_t len)
{
    lw_session_t *s = call->session;
    lw_codec_error_t err;
    /* Every frame out is validated: an answer that breaks its schema is our bug. */
    if (lw_codec_validate(call->action->response, json, len, &err)) {
        char why[512];
        lw_codec_error_format(&err, s->version, why, sizeof why);
        lw_log(LW_LOG_ERROR, LOG, "station=%s action=%s event=invalid_answer detail=\"%s\"", s->id,
               call->action->name, why);
        lw_call_error(call, LW_OCPP_ERR_INTERNAL, "the CSMS built an invalid answer");
        return;
    }
    lw_buf_t b;
    lw_buf_init(&b, s->csms->cfg.max_frame + 256);
    lw_buf_reserve(&b, len + LW_MSGID_MAX + 8); /* one allocation: [3,"id",json] */
    lw_sess_metrics_msg(s->csms->metrics, call->action->name, true, "ok");
    exch_t x = call_exch(call);
    if (lw_rpc_write_result(&b, x.id, (lw_str_t){json, len}) == 0)
        send_answer(s, &b, LW_RPC_CALLRESULT, &x, (lw_str_t){json, len});
    else
        journal_exchange(s, &x, 0, LW_STR_NULL);
    lw_buf_free(&b);
    call_done(call);
}

/* A CALL from the station: validated, then handled; it is journaled with its answer
 * (send_answer), or alone if the session closes first (call_resume). */
static void handle_call(lw_session_t *s, const lw_rpc_frame_t *f)
{
    const exch_t fx = {f->id, f->action, f->payload, now_ms(s->csms)}, *x = &fx;
    const lw_codec_action_t *act = lw_codec_action_find(s->version, f->action);
    if (!act) {
        lw_sess_metrics_msg(s->csms->metrics, "", true, "invalid");
        /* OCPP-J: NotImplemented for an action the receiver does not know. */
        send_error(s, x, LW_OCPP_ERR_NOT_IMPLEMENTED, "unknown action");
        return;
    }
    if (!(act->dir & LW_DIR_FROM_STATION) || !act->response) {
        lw_sess_metrics_msg(s->csms->metrics, act->name, true, "invalid");
        send_error(s, x, LW_OCPP_ERR_NOT_SUPPORTED, "action is not sent by a charging station");
        return;
    }
    lw_codec_error_t err;
    lw_jdoc_t doc; /* validated once; the handler reads the kept tokens */
    int vrc = lw_codec_validate_doc(act->request, f->payload.p, f->payload.len, &doc, &err);
    if (vrc == LW_ENOMEM) {
        send_error(s, x, LW_OCPP_ERR_INTERNAL, "out of memory");
        return;
    }
    if (vrc) {
        char why[512];
        lw_codec_error_format(&err, s->version, why, sizeof why);
        lw_sess_metrics_msg(s->csms->metrics, act->name, true, "invalid");
        send_error(s, x, err.code ? err.code : LW_OCPP_ERR_FORMAT, why);
        bad_message(s, why);
        return;
    }
    /* OCPP 2.0.1 B02.FR.09 / B03.FR.07 (and 1.6 §4.2: a station that is not Accepted sends
     * nothing but BootNotification): anything else is answered with SecurityError. */
    if (!s->accepted && !lw_str_eq_c(f->action, "BootNotification")) {
        lw_jdoc_free(&doc);
        lw_sess_metrics_msg(s->csms->metrics, act->name, true, "callerror");
        send_error(s, x, LW_OCPP_ERR_SECURITY,
                   "station is not accepted: send BootNotification first");
        return;
    }
    lw_call_t *call = calloc(1, sizeof *call);
    if (!call) {
        lw_jdoc_free(&doc);
        send_error(s, x, LW_OCPP_ERR_INTERNAL, "out of memory");
        return;
    }
    call->session = s;
    call->action = act;
    call->version = s->version;
    size_t idn = f->id.len < sizeof call->msg_id ? f->id.len : sizeof call->msg_id - 1;
    memcpy(call->msg_id, f->id.p, idn); /* the rpc layer bounds ids (LW_MSGID_MAX) */
    call->msg_id[idn] = 0;
    call->doc = doc;
    call->rx_ms = fx.rx_ms;
    call->station = lw_str_c(s->id);
    lw_buf_init(&call->tmp, s->csms->cfg.max_frame + 4096);
    s->cur = call;
    lw_handle_call(call);
}

/* A CALLRESULT, CALLERROR or CALLRESULTERROR from the station. Without a call table (we
 * never called this station) nothing can match: an empty table on the stack logs it the same
 * way (unknown response, CALLRESULTERROR). */
static void match_response(lw_session_t *s, const lw_rpc_frame_t *f)
{
    if (s->rpc) {
        lw_rpc_peer_match(s->rpc, f);
        return;
    }
    lw_rpc_peer_t none;
    lw_rpc_peer_init(&none, s->version, s->csms->clock, 0, s->id);
    lw_rpc_peer_match(&none, f);
}

static void process_frame(lw_session_t *s, const char *data, size_t len)
{
    lw_rpc_frame_t f;
    lw_rpc_parse_error_t perr;
    int rc = lw_rpc_parse_logged(s->version, s->id, data, len, &f, &perr);
    if (rc) {
        lw_sess_metrics_msg(s->csms->metrics, "", true, "invalid");
        journal(s, true, perr.type, perr.reply_id, LW_STR_NULL, (lw_str_t){data, len});
        if (perr.reply != LW_RPC_REPLY_NONE && s->conn) {
            lw_buf_t b;
            lw_buf_init(&b, 4096);
            if (perr.reply == LW_RPC_REPLY_CALLERROR)
                lw_sess_metrics_callerror(s->csms->metrics,
                                          lw_ocpp_err_name(s->version, perr.code));
            if (lw_rpc_write_parse_error(&b, s->version, &perr) == 0)
                send_frame(s, &b,
                           perr.reply == LW_RPC_REPLY_CALLERROR ? LW_RPC_CALLERROR
                                                                : LW_RPC_CALLRESULTERROR,
                           perr.reply_id, LW_STR_NULL, lw_str_c(perr.reason));
            lw_buf_free(&b);
        }
        bad_message(s, perr.reason ? perr.reason : "malformed frame");
        return;
    }
    switch (f.type) {
    case LW_RPC_CALL: /* journaled with its answer */
        handle_call(s, &f);
        break;
    case LW_RPC_SEND: { /* 2.1 NotifyPeriodicEventStream: validated, journaled, never answered */
        journal(s, true, f.type, f.id, f.action, f.payload);
        const lw_codec_action_t *act = lw_codec_action_find(s->version, f.action);
        lw_codec_error_t err;
        if (!act || lw_codec_validate(act->request, f.payload.p, f.payload.len, &err))
            bad_message(s, "invalid SEND");
        break;
    }
    case LW_RPC_CALLRESULT:
    case LW_RPC_CALLERROR:
        journal(s, true, f.type, f.id, lw_str_c(s->rpc ? s->rpc->out_action : ""),
                f.type == LW_RPC_CALLRESULT ? f.payload : f.error_code);
        match_response(s, &f);
        break;
    default:
        journal(s, true, f.type, f.id, LW_STR_NULL, f.error_code);
        match_response(s, &f); /* CALLRESULTERROR: logged there */
        break;
    }
}

static void on_message(lw_conn_t *conn, lw_str_t data, bool binary)
{
    lw_session_t *s = lw_conn_data(conn);
    if (!s || s->closed) return;
    s->lc->activity++;
    if (binary) {
        bad_message(s, "binary WebSocket message");
        return;
    }
    if (s->cur || s->inq) {
        /* A CALL is being handled: keep this frame in order. Responses to our CALLs do not
         * need to wait, but keeping one order is simpler and they are rare. */
        if (s->inq_len >= LW_CSMS_INQ_MAX) {
            lw_log(LW_LOG_WARN, LOG, "station=%s event=close reason=inbound_queue_full", s->id);
            lw_ws_close(conn, 1008, "too many unanswered CALLs");
            return;
        }
        inframe_t *f = malloc(sizeof *f + data.len);
        if (!f) return;
        f->next = NULL;
        f->len = data.len;
        memcpy(f->data, data.p, data.len);
        if (s->inq_tail)
            s->inq_tail->next = f;
        else
            s->inq = f;
        s->inq_tail = f;
        s->inq_len++;
        return;
    }
    process_frame(s, data.p, data.len);
}

/* ---- continuations: store completions and thread-pool reads ------------------------------- */

static void call_resume(void *arg)
{
    lw_call_t *call = arg;
    lw_session_t *s = call->session;
    s->refs--;
    atomic_fetch_sub(&s->csms->inflight, 1);
    if (s->closed) {
        exch_t x = call_exch(call); /* never answered: the CALL alone */
        journal_exchange(s, &x, 0, LW_STR_NULL);
        if (s->cur == call) s->cur = NULL;
        free_call(call);
        maybe_free(s);
        return;
    }
    call->cont(call);
}

static void store_done(void *ud, const lw_store_result_t *res)
{
    lw_call_t *call = ud;
    call->res = *res;
    call->res.answer = LW_STR_NULL;
    if (res->answer.len) {
        call->answer_copy = lw_str_dup(res->answer);
        if (call->answer_copy) call->res.answer = lw_str_c(call->answer_copy);
    }
    lw_csms_t *c = call->session->csms;
    if (csms_post(c, call->session->lc, call_resume, call) != 0) {
        /* The loops are stopping (lw_csms_stop gave up waiting): nobody can be answered.
         * The session is not touched from this thread; it stays allocated. */
        atomic_fetch_sub(&c->inflight, 1);
        free_call(call);
    }
}

int lw_call_store(lw_call_t *call, const lw_store_write_t *w, lw_call_cont_fn cont)
{
    lw_session_t *s = call->session;
    call->cont = cont;
    s->refs++;
    atomic_fetch_add(&s->csms->inflight, 1);
    int rc = lw_store_submit(s->csms->store, w, store_done, call);
    if (rc) {
        s->refs--;
        atomic_fetch_sub(&s->csms->inflight, 1);
        lw_log(LW_LOG_WARN, LOG, "station=%s action=%s event=store_submit_failed err=%s", s->id,
               call->action->name, lw_err_name(rc));
        /* Not stored: the station must retry, so no CALLRESULT. */
        lw_call_error(call, LW_OCPP_ERR_INTERNAL,
                      rc == LW_EBUSY ? "store busy, retry later" : "store unavailable");
    }
    return rc;
}

typedef struct {
    uv_work_t work;
    lw_call_t *call;
    char token[LW_STORE_IDTOK + 256];
} token_work_t;

static void token_work(uv_work_t *w)
{
    token_work_t *tw = w->data;
    lw_call_t *call = tw->call;
    memset(&call->token, 0, sizeof call->token);
    call->token_rc =
        lw_store_id_token_get(call->session->csms->store, lw_str_c(tw->token), &call->token);
}

static void token_after(uv_work_t *w, int status)
{
    token_work_t *tw = w->data;
    lw_call_t *call = tw->call;
    free(tw);
    if (status) call->token_rc = LW_ECANCELED;
    call_resume(call);
}

void lw_call_token_lookup(lw_call_t *call, lw_str_t id_token, lw_call_cont_fn cont)
{
    lw_session_t *s = call->session;
    token_work_t *tw = calloc(1, sizeof *tw);
    call->cont = cont;
    if (!tw) {
        call->token_rc = LW_ENOMEM;
        cont(call);
        return;
    }
    tw->work.data = tw;
    tw->call = call;
    lw_str_copy(tw->token, sizeof tw->token, id_token);
    s->refs++;
    atomic_fetch_add(&s->csms->inflight, 1);
    if (uv_queue_work(lw_net_loop_uv(s->lc->loop), &tw->work, token_work, token_after)) {
        s->refs--;
        atomic_fetch_sub(&s->csms->inflight, 1);
        free(tw);
        call->token_rc = LW_EIO;
        cont(call);
    }
}

typedef struct {
    uv_work_t work;
    lw_call_t *call;
    int rc;
    lw_station_rec_t rec;
} policy_work_t;

static void policy_work(uv_work_t *w)
{
    policy_work_t *pw = w->data;
    lw_session_t *s = pw->call->session;
    pw->rc = lw_store_station_get(s->csms->store, lw_str_c(s->id), &pw->rec);
}

static void policy_after(uv_work_t *w, int status)
{
    policy_work_t *pw = w->data;
    lw_call_t *call = pw->call;
    lw_session_t *s = call->session;
    /* Not found: a station registered by this connection whose row is not committed yet. */
    if (!status && !pw->rc && !s->closed) s->policy = pw->rec.reg_status;
    free(pw);
    call_resume(call);
}

void lw_call_policy_refresh(lw_call_t *call, lw_call_cont_fn cont)
{
    lw_session_t *s = call->session;
    if (s->policy_fresh) {
        /* The first boot right behind the upgrade: the status the upgrade read is current
         * (LW_CSMS_POLICY_FRESH_MS). */
        s->policy_fresh = false;
        if ((uint32_t)lw_clock_mono(s->csms->clock) - s->policy_at <= LW_CSMS_POLICY_FRESH_MS) {
            cont(call);
            return;
        }
    }
    policy_work_t *pw = calloc(1, sizeof *pw);
    call->cont = cont;
    if (!pw) {
        cont(call);
        return;
    }
    pw->work.data = pw;
    pw->call = call;
    s->refs++;
    atomic_fetch_add(&s->csms->inflight, 1);
    if (uv_queue_work(lw_net_loop_uv(s->lc->loop), &pw->work, policy_work, policy_after)) {
        s->refs--;
        atomic_fetch_sub(&s->csms->inflight, 1);
        free(pw);
        cont(call);
    }
}

/* ---- handler accessors -------------------------------------------------------------------- */

const lw_config_t *lw_session_config(const lw_session_t *s)
{
    return &s->csms->cfg;
}
lw_store_t *lw_session_store(const lw_session_t *s)
{
    return s->csms->store;
}
bool lw_session_seen_due(lw_session_t *s)
{
    uint32_t now = (uint32_t)lw_clock_mono(s->csms->clock);
    if (now - s->seen_saved_at < LW_CSMS_SEEN_PERSIST_MS) return false;
    s->seen_saved_at = now;
    return true;
}
const lw_clock_t *lw_session_clock(const lw_session_t *s)
{
    return s->csms->clock;
}
lw_csms_t *lw_session_csms(const lw_session_t *s)
{
    return s->csms;
}
void lw_session_set_registration(lw_session_t *s, lw_reg_status_t reg)
{
    s->accepted = reg == LW_REG_ACCEPTED;
    /* Queued operator commands go out once the station is accepted: posted to this loop,
     * so they follow the BootNotification answer the caller is about to send. */
    if (s->accepted && s->csms->api) lw_api_station_connected(s->csms->api, lw_str_c(s->id));
}
void lw_session_station_id(const lw_session_t *s, char *out, size_t outsz)
{
    lw_cstr_copy(out, outsz, s->id);
}
lw_ocpp_version_t lw_session_version(const lw_session_t *s)
{
    return s->version;
}
lw_api_t *lw_session_api(const lw_session_t *s)
{
    return s->csms->api;
}
lw_reg_status_t lw_session_policy(const lw_session_t *s)
{
    return s->policy;
}

uint32_t lw_session_boot_shed(lw_session_t *s)
{
    lw_csms_t *c = s->csms;
    uint32_t limit = c->cfg.boot_rate_limit, interval = 0;
    if (!limit) return 0;
    int64_t second = now_ms(c) / 1000;
    pthread_mutex_lock(&c->boot_mu);
    if (second != c->boot_second) {
        c->boot_second = second;
        c->boot_count = 0;
    }
    if (c->boot_count < limit) {
        c->boot_count++;
    } else {
        /* xorshift64: spreading retries needs no cryptographic randomness. */
        uint64_t x = c->boot_rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c->boot_rng = x;
        uint32_t span = c->cfg.boot_retry_interval_s ? c->cfg.boot_retry_interval_s : 1;
        interval = 1 + (uint32_t)(x % span);
    }
    pthread_mutex_unlock(&c->boot_mu);
    return interval;
}

/* ---- outgoing CALLs ----------------------------------------------------------------------- */

static void outcall_free(outcall_t *oc)
{
    free(oc->payload);
    free(oc);
}

static void outcall_fail(outcall_t *oc, int status)
{
    if (status == LW_EBUSY) lw_sess_metrics_msg(oc->csms->metrics, oc->action, false, "callerror");
    oc->cb(oc->ud, status, LW_STR_NULL, LW_STR_NULL, LW_STR_NULL);
    atomic_fetch_sub(&oc->csms->inflight, 1);
    outcall_free(oc);
}

static void pump(lw_session_t *s);

static void out_done(void *ud, int status, const char *id, const char *action,
                     const lw_rpc_frame_t *f)
{
    lw_session_t *s = ud;
    outcall_t *oc = s->out_active;
    s->out_active = NULL;
    if (!oc) return;
    lw_str_t payload = LW_STR_NULL, code = LW_STR_NULL, desc = LW_STR_NULL;
    lw_buf_t d;
    lw_buf_init(&d, 1024);
    if (status == 0 && f) {
        const lw_codec_action_t *act = lw_codec_action_find(s->version, lw_str_c(action));
        lw_codec_error_t err;
        if (act && act->response &&
            lw_codec_validate(act->response, f->payload.p, f->payload.len, &err)) {
            /* The station answered with an invalid payload: report it as a CALLERROR. */
            char why[512];
            lw_codec_error_format(&err, s->version, why, sizeof why);
            bad_message(s, why);
            status = LW_EPROTO;
            code = lw_str_c(lw_ocpp_err_name(s->version, err.code));
            lw_buf_append_c(&d, why);
            desc = lw_buf_view(&d);
        } else {
            payload = f->payload;
        }
    } else if (status == LW_EPROTO && f) {
        code = f->error_code;
        lw_rpc_unescape(f->error_description, &d);
        desc = lw_buf_view(&d);
        payload = f->error_details;
    }
    lw_sess_metrics_t *m = s->csms->metrics;
    if (status == 0 || status == LW_EPROTO || status == LW_ETIMEDOUT) {
        lw_sess_metrics_msg(m, oc->action, false,
                            status == 0           ? "ok"
                            : status == LW_EPROTO ? "callerror"
                                                  : "timeout");
        lw_sess_metrics_latency(m, oc->action,
                                (double)(lw_clock_mono(s->csms->clock) - oc->sent_mono));
        if (status == LW_EPROTO) {
            char cbuf[40];
            lw_str_copy(cbuf, sizeof cbuf, code);
            lw_sess_metrics_callerror(m, cbuf);
        }
    }
    /* What a CALL changed on the station (configuration, reservations, profiles) is kept. */
    if (status == 0 && !s->closed)
        lw_handle_call_result(s, oc->action, lw_str_c(oc->payload), payload);
    oc->cb(oc->ud, status, payload, code, desc);
    lw_buf_free(&d);
    atomic_fetch_sub(&oc->csms->inflight, 1);
    outcall_free(oc);
    if (!s->closed) pump(s);
}

static void pump(lw_session_t *s)
{
    while (!s->closed && !s->out_active && s->outq) {
        outcall_t *oc = s->outq;
        s->outq = oc->next;
        if (!s->outq) s->outq_tail = NULL;
        s->outq_len--;
        atomic_fetch_sub(&lw_sess_metrics_counters(s->csms->metrics)->outbound_queued, 1);
        oc->sent_mono = lw_clock_mono(s->csms->clock);
        char id[LW_MSGID_MAX + 1];
        lw_buf_t b;
        lw_buf_init(&b, s->csms->cfg.max_frame + 256);
        int rc = lw_rpc_make_id(id);
        if (!rc && !s->rpc) {
            s->rpc = malloc(sizeof *s->rpc);
            if (s->rpc)
                lw_rpc_peer_init(s->rpc, s->version, s->csms->clock,
                                 s->csms->cfg.call_timeout_s * 1000, s->id);
            else
                rc = LW_ENOMEM;
        }
        if (!rc)
            rc = lw_rpc_write_call(&b, lw_str_c(id), lw_str_c(oc->action), lw_str_c(oc->payload));
        if (!rc) rc = lw_rpc_peer_begin(s->rpc, lw_str_c(id), lw_str_c(oc->action), out_done, s);
        if (!rc) {
            s->out_active = oc;
            rc = send_frame(s, &b, LW_RPC_CALL, lw_str_c(id), lw_str_c(oc->action),
                            lw_str_c(oc->payload));
            if (rc) {
                lw_rpc_peer_cancel(s->rpc);
                s->out_active = NULL;
            }
        }
        lw_buf_free(&b);
        if (rc) outcall_fail(oc, rc == LW_ECLOSED ? LW_ECLOSED : rc);
    }
}

static void enqueue_outcall(lw_session_t *s, outcall_t *oc)
{
    if (s->outq_len >= LW_CSMS_CALL_QUEUE_MAX) {
        outcall_fail(oc, LW_EBUSY);
        return;
    }
    oc->next = NULL;
    if (s->outq_tail)
        s->outq_tail->next = oc;
    else
        s->outq = oc;
    s->outq_tail = oc;
    s->outq_len++;
    atomic_fetch_add(&lw_sess_metrics_counters(s->csms->metrics)->outbound_queued, 1);
    pump(s);
}

static void deliver_outcall(void *arg)
{
    outcall_t *oc = arg;
    lw_csms_t *c = oc->csms;
    uint64_t serial;
    loop_ctx_t *lc;
    if (!reg_get(c, oc->station, &serial, &lc, NULL)) {
        outcall_fail(oc, LW_ECLOSED);
        return;
    }
    if (lc != oc->on) {
        /* The station reconnected on another loop since the post: follow it. */
        oc->on = lc;
        if (csms_post(c, lc, deliver_outcall, oc)) outcall_fail(oc, LW_ECLOSED);
        return;
    }
    lw_session_t *s = loop_find(lc, serial);
    if (s && !s->closed)
        enqueue_outcall(s, oc);
    else
        outcall_fail(oc, LW_ECLOSED);
}

int lw_session_call(lw_session_t *s, const char *action, const char *payload, lw_csms_call_cb cb,
                    void *ud)
{
    const lw_codec_action_t *act = lw_codec_action_find(s->version, lw_str_c(action));
    if (!act || !(act->dir & LW_DIR_FROM_CSMS)) return LW_ENOTSUP;
    if (lw_codec_validate(act->request, payload, strlen(payload), NULL)) return LW_ESCHEMA;
    if (s->closed) return LW_ECLOSED;
    outcall_t *oc = calloc(1, sizeof *oc);
    if (!oc || !(oc->payload = strdup(payload))) {
        free(oc);
        return LW_ENOMEM;
    }
    oc->csms = s->csms;
    lw_cstr_copy(oc->station, sizeof oc->station, s->id);
    lw_cstr_copy(oc->action, sizeof oc->action, action);
    oc->cb = cb;
    oc->ud = ud;
    atomic_fetch_add(&s->csms->inflight, 1);
    enqueue_outcall(s, oc);
    return 0;
}

int lw_csms_call(lw_csms_t *c, const char *station_id, const char *action, const char *payload,
                 lw_csms_call_cb cb, void *ud)
{
    if (atomic_load(&c->draining)) return LW_ECLOSED;
    lw_ocpp_version_t v;
    loop_ctx_t *lc;
    if (!reg_get(c, station_id, NULL, &lc, &v)) return LW_ENOTFOUND;
    const lw_codec_action_t *act = lw_codec_action_find(v, lw_str_c(action));
    if (!act || !(act->dir & LW_DIR_FROM_CSMS)) return LW_ENOTSUP;
    if (lw_codec_validate(act->request, payload, strlen(payload), NULL)) return LW_ESCHEMA;
    outcall_t *oc = calloc(1, sizeof *oc);
    if (!oc || !(oc->payload = strdup(payload))) {
        free(oc);
        return LW_ENOMEM;
    }
    oc->csms = c;
    lw_cstr_copy(oc->station, sizeof oc->station, station_id);
    lw_cstr_copy(oc->action, sizeof oc->action, action);
    oc->cb = cb;
    oc->ud = ud;
    oc->on = lc;
    atomic_fetch_add(&c->inflight, 1);
    int rc = csms_post(c, lc, deliver_outcall, oc);
    if (rc) {
        atomic_fetch_sub(&c->inflight, 1);
        outcall_free(oc);
        return LW_ECLOSED;
    }
    return 0;
}

/* ---- upgrade and authentication ----------------------------------------------------------- */

struct upgrade {
    upgrade_t *next;
    lw_csms_t *csms;
    loop_ctx_t *lc;
    lw_conn_t *conn;
    char id[LW_STATION_ID_MAX + 1];
    char ip[64];
    char cn[256];
    bool has_cn, tls, has_basic;
    char user[128], password[128];
    lw_ocpp_version_t version;
    /* results (thread pool) */
    int rec_rc, pw_rc;
    lw_station_rec_t rec;
};

/* "Basic base64(user:password)". Returns true and fills user/password. */
static bool parse_basic(lw_str_t auth, char *user, size_t usz, char *pw, size_t psz)
{
    if (auth.len < 7 || strncasecmp(auth.p, "Basic ", 6) != 0) return false;
    const char *b64 = auth.p + 6;
    size_t n = auth.len - 6;
    while (n && *b64 == ' ')
        b64++, n--;
    if (n == 0 || n % 4 != 0 || n > 512) return false;
    unsigned char out[400];
    int len = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
    if (len < 0) return false;
    if (b64[n - 1] == '=') len--;
    if (b64[n - 2] == '=') len--;
    unsigned char *colon = memchr(out, ':', (size_t)len);
    if (!colon) return false;
    size_t ul = (size_t)(colon - out), pl = (size_t)len - ul - 1;
    if (ul >= usz || pl >= psz) return false;
    memcpy(user, out, ul);
    user[ul] = 0;
    memcpy(pw, colon + 1, pl);
    pw[pl] = 0;
    return true;
}

static void upgrade_read(upgrade_t *u)
{
    u->rec_rc = lw_store_station_get(u->csms->store, lw_str_c(u->id), &u->rec);
    u->pw_rc = LW_EAUTH;
    if (u->rec_rc == 0 && u->has_basic && !strcmp(u->user, u->id))
        u->pw_rc =
            lw_store_station_check_password(u->csms->store, lw_str_c(u->id), lw_str_c(u->password));
}

static void reject(upgrade_t *u, int status, const char *why)
{
    atomic_fetch_add(&lw_sess_metrics_counters(u->csms->metrics)->upgrades_rejected, 1);
    lw_log(LW_LOG_INFO, LOG, "station=%s ip=%s event=refused status=%d reason=\"%s\"", u->id, u->ip,
           status, why);
    lw_ws_reject(u->conn, status,
                 status == 401 ? "WWW-Authenticate: Basic realm=\"ladewerk\"\r\n" : NULL);
}

static void close_replaced(void *arg);

typedef struct {
    lw_csms_t *csms;
    loop_ctx_t *lc;
    uint64_t serial;
} replace_t;

/* Decides an upgrade once its store read is done (status: the thread pool's); frees u. */
static void upgrade_decide(upgrade_t *u, int status)
{
    lw_csms_t *c = u->csms;
    bool registered_now = false;
    lw_reg_status_t policy = LW_REG_ACCEPTED;
    int profile = 0;
    if (status || atomic_load(&c->draining)) {
        reject(u, 503, "shutting down");
        goto out;
    }
    if (u->rec_rc == LW_ENOTFOUND) {
        if (c->cfg.unknown_stations == LW_UNKNOWN_REJECT) {
            ip_auth_failed(c, u->ip);
            reject(u, 401, "unknown station");
            goto out;
        }
        policy = c->cfg.unknown_stations == LW_UNKNOWN_ACCEPT ? LW_REG_ACCEPTED : LW_REG_PENDING;
        registered_now = true;
    } else if (u->rec_rc) {
        reject(u, 503, "store unavailable");
        goto out;
    } else {
        profile = u->rec.security_profile;
        policy = u->rec.reg_status;
        bool ok = false;
        const char *why = "";
        switch (profile) {
        case 0: /* no authentication: only for stations registered with profile 0 */
            ok = true;
            break;
        case 1: /* Basic auth (ws:// allowed) */
            ok = u->pw_rc == 0;
            why = "bad credentials";
            break;
        case 2: /* TLS server certificate + Basic auth */
            ok = u->tls && u->pw_rc == 0;
            why = u->tls ? "bad credentials" : "profile 2 needs TLS";
            break;
        case 3: /* mutual TLS: client certificate CN == station id */
            ok = u->tls && u->has_cn && !strcmp(u->cn, u->id);
            why = !u->tls     ? "profile 3 needs TLS"
                  : u->has_cn ? "certificate CN mismatch"
                              : "no client certificate";
            break;
        default:
            why = "bad security profile";
        }
        if (!ok) {
            ip_auth_failed(c, u->ip);
            reject(u, 401, why);
            goto out;
        }
    }
    lw_session_t *s = calloc(1, sizeof *s);
    if (!s) {
        reject(u, 503, "out of memory");
        goto out;
    }
    s->csms = c;
    s->lc = u->lc;
    s->conn = u->conn;
    s->serial = atomic_fetch_add(&c->next_serial, 1) + 1;
    lw_cstr_copy(s->id, sizeof s->id, u->id);
    s->version = u->version;
    s->policy = policy;
    s->policy_at = (uint32_t)lw_clock_mono(c->clock);
    s->policy_fresh = true;
    s->seen_saved_at = s->policy_at; /* the connect below writes last_seen_at */
    /* A station accepted earlier may go on without a new BootNotification (1.6 stations do
     * not boot on every reconnect; 2.x B04 offline behaviour). */
    s->accepted = policy == LW_REG_ACCEPTED && (registered_now || u->rec.last_boot_ms > 0);
    lw_conn_set_data(u->conn, s);
    if (lw_ws_accept(u->conn, lw_str_c(lw_ocpp_subprotocol(u->version))) != 0) {
        free(s); /* peer left meanwhile: no callbacks follow */
        goto out;
    }
    s->next = u->lc->sessions;
    if (s->next) s->next->prev = s;
    u->lc->sessions = s;
    if (registered_now) {
        lw_store_write_t w = {.kind = LW_W_STATION_PUT, .station_id = lw_str_c(s->id)};
        w.u.station_put.set_profile = true;
        w.u.station_put.security_profile = 0;
        w.u.station_put.set_reg_status = true;
        w.u.station_put.reg_status = policy;
        w.u.station_put.must_not_exist = true;
        w.u.station_put.connecting = true; /* also the connect below, in one statement */
        w.u.station_put.ocpp_version = lw_str_c(lw_ocpp_version_name(s->version));
        w.u.station_put.at_ms = now_ms(c);
        lw_store_submit(c->store, &w, NULL, NULL);
        if (policy == LW_REG_ACCEPTED)
            lw_log(LW_LOG_WARN, LOG,
                   "station=%s event=unknown_station_accepted note=\"unknown-stations=accept is "
                   "for test benches only\"",
                   s->id);
    }
    uint64_t old_serial;
    loop_ctx_t *old_lc;
    reg_put(c, s, &old_serial, &old_lc);
    if (!registered_now) {
        lw_store_write_t cw = {.kind = LW_W_STATION_CONN, .station_id = lw_str_c(s->id)};
        cw.u.conn.online = true;
        cw.u.conn.ocpp_version = lw_str_c(lw_ocpp_version_name(s->version));
        cw.u.conn.at_ms = now_ms(c);
        lw_store_submit(c->store, &cw, NULL, NULL);
    }
    lw_log(LW_LOG_INFO, LOG, "station=%s ip=%s event=connected ocpp=%s profile=%d tls=%d", s->id,
           u->ip, lw_ocpp_version_name(s->version), profile, u->tls);
    atomic_fetch_add(&lw_sess_metrics_counters(c->metrics)->connected[s->version], 1);
    s->counted = true;
    if (c->api) {
        lw_api_event_station(c->api, lw_str_c(s->id), true, s->version);
        if (s->accepted) lw_api_station_connected(c->api, lw_str_c(s->id));
    }
    if (old_serial) {
        /* The newcomer authenticated: the old connection goes, with a security event. */
        lw_store_write_t sw = {.kind = LW_W_SECURITY_EVENT, .station_id = lw_str_c(s->id)};
        char info[160];
        snprintf(info, sizeof info, "an authenticated connection from %s replaced the open one",
                 u->ip);
        sw.u.security.type = LW_STR("ConnectionReplaced");
        sw.u.security.tech_info = lw_str_c(info);
        sw.u.security.at_ms = now_ms(c);
        lw_store_submit(c->store, &sw, NULL, NULL);
        if (c->api)
            lw_api_event_security(c->api, lw_str_c(s->id), sw.u.security.type, lw_str_c(info));
        replace_t *r = malloc(sizeof *r);
        if (r) {
            *r = (replace_t){c, old_lc, old_serial};
            if (csms_post(c, old_lc, close_replaced, r)) free(r);
        }
    }
out:
    free(u);
}

static void close_replaced(void *arg)
{
    replace_t *r = arg;
    lw_session_t *s = loop_find(r->lc, r->serial);
    if (s && s->conn) {
        char ip[64] = "?"; /* not kept per session (memory per station): asked when needed */
        lw_conn_peer_ip(s->conn, ip, sizeof ip);
        lw_log(LW_LOG_WARN, LOG, "station=%s event=replaced old_ip=%s", s->id, ip);
        lw_ws_close(s->conn, 1000, "replaced by a new connection");
    }
    free(r);
}

/* The store reads of upgrades go to the thread pool in batches, each job taking up to
 * LW_CSMS_UPGRADE_BATCH waiting upgrades in arrival order. A job starts when none is running,
 * or when a full batch waits (then up to LW_CSMS_UPGRADE_JOBS per loop): a connection storm
 * costs a worker wake-up (and a loop wake-up for its answer) per batch, not per station,
 * while a backlog still has its reads and password checks run in parallel. */
typedef struct {
    uv_work_t work;
    loop_ctx_t *lc;
    upgrade_t *batch;
} upjob_t;

static void upjob_work(uv_work_t *w)
{
    upjob_t *j = w->data;
    /* one snapshot for the batch: the read lock and the check for changes once */
    bool snap = j->batch && j->batch->next && lw_store_read_begin(j->batch->csms->store) == 0;
    for (upgrade_t *u = j->batch; u; u = u->next)
        upgrade_read(u);
    if (snap) lw_store_read_end(j->batch->csms->store);
}

static void upgrade_start(loop_ctx_t *lc);

static void upjob_after(uv_work_t *w, int status)
{
    upjob_t *j = w->data;
    loop_ctx_t *lc = j->lc;
    lc->up_jobs--;
    for (upgrade_t *u = j->batch, *n; u; u = n) {
        n = u->next;
        upgrade_decide(u, status);
    }
    free(j);
    upgrade_start(lc);
}

static void upgrade_start(loop_ctx_t *lc)
{
    while (lc->up_head && lc->up_jobs < LW_CSMS_UPGRADE_JOBS &&
           (lc->up_jobs == 0 || lc->up_waiting >= LW_CSMS_UPGRADE_BATCH)) {
        upjob_t *j = calloc(1, sizeof *j);
        upgrade_t *u = lc->up_head, *last = u;
        int k = 1;
        for (; k < LW_CSMS_UPGRADE_BATCH && last->next; k++)
            last = last->next;
        lc->up_waiting -= k;
        lc->up_head = last->next;
        if (!lc->up_head) lc->up_tail = NULL;
        last->next = NULL;
        if (j) {
            j->work.data = j;
            j->lc = lc;
            j->batch = u;
            if (uv_queue_work(lw_net_loop_uv(lc->loop), &j->work, upjob_work, upjob_after) == 0) {
                lc->up_jobs++;
                continue;
            }
            free(j);
        }
        for (upgrade_t *n; u; u = n) { /* no job: refused, as a failed read would be */
            n = u->next;
            lw_ws_reject(u->conn, 503, NULL);
            free(u);
        }
    }
}

static void on_upgrade(lw_conn_t *conn, const lw_ws_upgrade_t *req)
{
    loop_ctx_t *lc = lw_server_data(lw_conn_server(conn));
    lw_csms_t *c = lc->csms;
    lc->activity++;
    lw_conn_set_data(conn, NULL);
    lw_sess_counters_t *ctr = lw_sess_metrics_counters(c->metrics);
    atomic_fetch_add(&ctr->upgrades, 1);
    if (atomic_load(&c->draining)) {
        atomic_fetch_add(&ctr->upgrades_rejected, 1);
        lw_ws_reject(conn, 503, NULL);
        return;
    }
    char ip[64] = "?";
    lw_conn_peer_ip(conn, ip, sizeof ip);
    if (!ip_allow_upgrade(c, ip)) {
        lw_log(LW_LOG_INFO, LOG, "ip=%s event=refused status=429 reason=per_ip_limit", ip);
        atomic_fetch_add(&ctr->upgrades_rejected, 1);
        lw_ws_reject(conn, 429, "Retry-After: 60\r\n");
        return;
    }
    char path[256];
    int n = lw_http_path_decode(req->target, path, sizeof path);
    if (n < 0 || strncmp(path, "/ocpp/", 6) != 0 || !station_id_ok(path + 6)) {
        lw_log(LW_LOG_INFO, LOG, "ip=%s event=refused status=404 target=\"%.*s\"", ip,
               (int)(req->target.len > 80 ? 80 : req->target.len), req->target.p);
        atomic_fetch_add(&ctr->upgrades_rejected, 1);
        lw_ws_reject(conn, 404, NULL);
        return;
    }
    /* Prefer the newest version the station offers. */
    int best = -1;
    for (size_t i = 0; i < req->nprotocols; i++)
        for (int v = LW_OCPP_VERSION_COUNT - 1; v >= 0; v--)
            if (lw_str_eq_c(req->protocols[i], lw_ocpp_subprotocol((lw_ocpp_version_t)v)) &&
                v > best)
                best = v;
    if (best < 0) {
        /* OCPP-J 1.6 §3.1.2, 2.0.1 Part 4 §3.1.2: no agreeable subprotocol — finish the
         * handshake without Sec-WebSocket-Protocol, then close at once (in on_open). */
        lw_log(LW_LOG_INFO, LOG, "station=%s ip=%s event=refused reason=no_ocpp_subprotocol",
               path + 6, ip);
        atomic_fetch_add(&ctr->upgrades_rejected, 1);
        lw_ws_accept(conn, LW_STR_NULL);
        return;
    }
    upgrade_t *u = calloc(1, sizeof *u);
    if (!u) {
        lw_ws_reject(conn, 503, NULL);
        return;
    }
    u->csms = c;
    u->lc = lc;
    u->conn = conn;
    u->version = (lw_ocpp_version_t)best;
    lw_cstr_copy(u->id, sizeof u->id, path + 6);
    lw_cstr_copy(u->ip, sizeof u->ip, ip);
    u->tls = lw_conn_is_tls(conn);
    u->has_cn = lw_conn_peer_cn(conn, u->cn, sizeof u->cn) == 0;
    u->has_basic =
        parse_basic(req->authorization, u->user, sizeof u->user, u->password, sizeof u->password);
    if (lc->up_tail)
        lc->up_tail->next = u;
    else
        lc->up_head = u;
    lc->up_tail = u;
    lc->up_waiting++;
    upgrade_start(lc);
}

static void on_open(lw_conn_t *conn, lw_str_t protocol)
{
    if (protocol.len == 0) lw_ws_close(conn, 1002, "no supported OCPP subprotocol");
}

static void on_close(lw_conn_t *conn, int code, lw_str_t reason)
{
    lw_session_t *s = lw_conn_data(conn);
    if (!s) return;
    lw_csms_t *c = s->csms;
    s->lc->activity++;
    publish_held(s); /* the newest values before the disconnect */
    s->conn = NULL;
    s->closed = true;
    if (s->prev)
        s->prev->next = s->next;
    else
        s->lc->sessions = s->next;
    if (s->next) s->next->prev = s->prev;
    lw_log(LW_LOG_INFO, LOG, "station=%s event=disconnected code=%d reason=\"%.*s\"", s->id, code,
           LW_STR_FMT(reason));
    if (s->counted) {
        atomic_fetch_sub(&lw_sess_metrics_counters(c->metrics)->connected[s->version], 1);
        s->counted = false;
    }
    if (reg_remove(c, s->id, s->serial)) {
        lw_store_write_t w = {.kind = LW_W_STATION_CONN, .station_id = lw_str_c(s->id)};
        w.u.conn.online = false;
        w.u.conn.at_ms = now_ms(c);
        lw_store_submit(c->store, &w, NULL, NULL);
        if (c->api) lw_api_event_station(c->api, lw_str_c(s->id), false, s->version);
    }
    if (s->rpc) lw_rpc_peer_close(s->rpc); /* fails the outstanding CALL (ECLOSED) */
    while (s->outq) {
        outcall_t *oc = s->outq;
        s->outq = oc->next;
        atomic_fetch_sub(&lw_sess_metrics_counters(c->metrics)->outbound_queued, 1);
        outcall_fail(oc, LW_ECLOSED);
    }
    s->outq_len = 0;
    s->outq_tail = NULL;
    maybe_free(s);
}

/* ---- loops, start and stop ---------------------------------------------------------------- */

static void tick(uv_timer_t *t)
{
    loop_ctx_t *lc = t->data;
    uint32_t mono = (uint32_t)lw_clock_mono(lc->csms->clock);
    for (lw_session_t *s = lc->sessions; s; s = s->next) {
        if (s->rpc) lw_rpc_peer_tick(s->rpc);
        if (s->pub_held && mono - s->pub_at >= LW_CSMS_TX_UPDATE_MIN_MS) publish_held(s);
    }
    /* Quiet for a whole tick after some work (a storm, a burst of disconnects): the loop's
     * freed memory goes back to the OS, once per quiet spell. */
    if (lc->activity == lc->seen && lc->seen != lc->released) {
        lw_mem_release();
        lc->released = lc->seen;
    }
    lc->seen = lc->activity;
    lw_csms_t *c = lc->csms;
    if (lc->index == 0) {
        int64_t now = now_ms(c);
        int64_t since = now - c->last_prune_ms;
        if (since >= (int64_t)c->cfg.maintain_interval_s * 1000 ||
            (since >= LW_STORE_MAINT_AGAIN_MS && lw_store_maint_more(c->store))) {
            /* Retention (journal, retry-dedupe rows, history tables, finished commands,
             * reservations). A run that stopped at its row bound is followed by another
             * LW_STORE_MAINT_AGAIN_MS later, until the backlog is gone. */
            c->last_prune_ms = now;
            lw_store_write_t w = {.kind = LW_W_MAINTAIN, .station_id = LW_STR("")};
            w.u.maint.now_ms = now;
            w.u.maint.journal_max_age_ms = c->cfg.journal_retention_s * 1000;
            w.u.maint.journal_keep_per_station = c->cfg.journal_keep;
            w.u.maint.dedupe_max_age_ms = c->cfg.dedupe_retention_s * 1000;
            w.u.maint.history_max_age_ms = c->cfg.history_retention_s * 1000;
            lw_store_submit(c->store, &w, NULL, NULL);
        }
    }
}

static int loop_init(lw_net_loop_t *l, int index, void *ud)
{
    lw_csms_t *c = ud;
    loop_ctx_t *lc = calloc(1, sizeof *lc);
    if (!lc) return LW_ENOMEM;
    lc->csms = c;
    lc->loop = l;
    lc->index = index;
    c->loops[index] = lc;
    static const lw_net_cbs_t cbs = {.on_upgrade = on_upgrade,
                                     .on_open = on_open,
                                     .on_message = on_message,
                                     .on_close = on_close};
    lw_server_config_t sc = {
        .host = c->cfg.ocpp_host,
        .port = atomic_load(&c->port),
        .reuseport = true,
        .tls = c->tls,
        .max_message = c->cfg.max_frame,
        .ping_interval_ms = c->cfg.ping_interval_s * 1000,
        .pong_timeout_ms = c->cfg.pong_timeout_s * 1000,
        /* no allow_peer: limits are applied per upgrade, where the request is known (and a
         * callback per accept would cost a getpeername) */
    };
    int rc = lw_server_start(l, &sc, &cbs, lc, &lc->server);
    if (rc) return rc;
    /* Port 0: the first loop picks the port, the others share it. lw_net_threads_start
     * runs the inits one after another, so the others see it. */
    atomic_store(&c->port, lw_server_port(lc->server));
    uv_timer_init(lw_net_loop_uv(l), &lc->tick);
    lc->tick.data = lc;
    uv_timer_start(&lc->tick, tick, 1000, 1000);
    return 0;
}

int lw_csms_start(const lw_config_t *cfg, lw_store_t *store, lw_api_t *api, lw_csms_t **out)
{
    lw_csms_t *c = calloc(1, sizeof *c);
    if (!c) return LW_ENOMEM;
    c->api = api;
    c->cfg = *cfg;
    c->store = store;
    c->clock = lw_clock_real();
    c->nloops = cfg->threads > 0 ? cfg->threads : 1;
    c->loops = calloc((size_t)c->nloops, sizeof *c->loops);
    c->ips = calloc(LW_CSMS_IP_SLOTS, sizeof *c->ips);
    c->metrics = lw_sess_metrics_new();
    pthread_mutex_init(&c->reg_mu, NULL);
    pthread_mutex_init(&c->ip_mu, NULL);
    pthread_mutex_init(&c->boot_mu, NULL);
    c->boot_rng = lw_clock_mono(c->clock) ^ (uint64_t)(uintptr_t)c ^ 0x9e3779b97f4a7c15u;
    if (!c->boot_rng) c->boot_rng = 1;
    pthread_mutex_init(&c->post_mu, NULL);
    c->loops_alive = true;
    atomic_store(&c->port, cfg->ocpp_port);
    c->last_prune_ms = 0;
    if (!c->loops || !c->ips || !c->metrics) {
        lw_csms_free(c);
        return LW_ENOMEM;
    }
    if (cfg->tls_cert[0]) {
        lw_tls_config_t tc = {.cert_file = cfg->tls_cert,
                              .key_file = cfg->tls_key,
                              .ca_file = cfg->tls_ca[0] ? cfg->tls_ca : NULL,
                              .verify =
                                  cfg->tls_ca[0] ? LW_TLS_VERIFY_OPTIONAL : LW_TLS_VERIFY_NONE};
        int err = 0;
        c->tls = lw_tls_server_new(&tc, &err);
        if (!c->tls) {
            lw_log(LW_LOG_ERROR, "serve", "event=tls_failed err=%s", lw_err_name(err));
            lw_csms_free(c);
            return err ? err : LW_ETLS;
        }
    }
    int err = 0;
    c->threads = lw_net_threads_start(c->nloops, loop_init, c, &err);
    if (!c->threads) {
        lw_csms_free(c);
        return err ? err : LW_EIO;
    }
    *out = c;
    return 0;
}

int lw_csms_port(const lw_csms_t *c)
{
    return atomic_load(&((lw_csms_t *)c)->port);
}

static void tick_closed(uv_handle_t *h)
{
    (void)h; /* the loop_ctx is freed with the csms */
}

static void loop_shutdown(void *arg)
{
    loop_ctx_t *lc = arg;
    /* RFC 6455 §7.4.1: 1001 Going Away, as a close frame the station can read (the transport's
     * server close only records the code locally before it drops the sockets). The frame is
     * written at once; the sockets close right after. */
    for (lw_session_t *s = lc->sessions; s; s = s->next)
        if (s->conn && !s->closed) lw_ws_close(s->conn, LW_WS_CLOSE_GOING_AWAY, "server stopping");
    if (lc->server) lw_server_close(lc->server);
    lc->server = NULL;
    uv_timer_stop(&lc->tick);
    uv_close((uv_handle_t *)&lc->tick, tick_closed);
}

void lw_csms_stop(lw_csms_t *c, uint32_t wait_ms)
{
    if (!c->threads) return;
    atomic_store(&c->draining, true);
    /* Finish what is in flight: answers waiting on commits, CALLs sent to stations. */
    uint64_t start = lw_clock_mono(lw_clock_real());
    while (atomic_load(&c->inflight) > 0 && lw_clock_mono(lw_clock_real()) - start < wait_ms) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (atomic_load(&c->inflight) > 0)
        lw_log(LW_LOG_WARN, "serve", "event=stop_timeout inflight=%d", atomic_load(&c->inflight));
    for (int i = 0; i < c->nloops; i++)
        if (c->loops[i]) csms_post(c, c->loops[i], loop_shutdown, c->loops[i]);
    pthread_mutex_lock(&c->post_mu);
    c->loops_alive = false;
    pthread_mutex_unlock(&c->post_mu);
    lw_net_threads_stop(c->threads);
    c->threads = NULL;
}

void lw_csms_free(lw_csms_t *c)
{
    if (!c) return;
    if (c->threads) lw_csms_stop(c, 0);
    /* sessions still registered belong to their loops (or stay allocated when the stop
     * gave up on them): the registry owns none */
    memset(c->reg, 0, sizeof c->reg);
    if (c->tls) lw_tls_free(c->tls);
    pthread_mutex_destroy(&c->reg_mu);
    pthread_mutex_destroy(&c->ip_mu);
    pthread_mutex_destroy(&c->boot_mu);
    pthread_mutex_destroy(&c->post_mu);
    for (int i = 0; i < c->nloops && c->loops; i++)
        free(c->loops[i]);
    free(c->ips);
    free(c->loops);
    lw_sess_metrics_free(c->metrics);
    free(c);
}

lw_api_t *lw_csms_api(const lw_csms_t *c)
{
    return c->api;
}

void lw_csms_metrics(lw_csms_t *c, lw_api_metrics_t *out)
{
    lw_sess_metrics_snapshot(c->metrics, out);
}

/* ---- transaction events for the operator API ---------------------------------------------- */

/* The events of one loop are read back in batches: one thread-pool job at a time takes
 * everything published since the last one (under load, a whole group commit's worth), so a
 * MeterValues costs one store read, not a thread-pool round trip (a wake-up of a worker and
 * of the loop) each. Events keep their order. */
struct txpub {
    txpub_t *next;
    int64_t tx_id;
    char kind[16];
    double power_w;
};

static void txpub_work(uv_work_t *w)
{
    loop_ctx_t *lc = w->data;
    for (txpub_t *t = lc->pub_batch; t; t = t->next) {
        lw_tx_rec_t r;
        if (lw_store_tx_get(lc->csms->store, t->tx_id, &r)) continue;
        lw_api_tx_t a = {.id = r.id,
                         .evse_id = r.evse_id,
                         .connector_id = r.connector_id,
                         .active = r.state == LW_TX_ACTIVE,
                         .start_ms = r.start_ms,
                         .stop_ms = r.stop_ms,
                         .meter_start_wh = r.meter_start_wh,
                         .meter_stop_wh = r.meter_stop_wh,
                         .energy_wh = r.energy_wh};
        lw_cstr_copy(a.tx_uid, sizeof a.tx_uid, r.tx_uid);
        lw_cstr_copy(a.station_id, sizeof a.station_id, r.station_id);
        lw_cstr_copy(a.id_token, sizeof a.id_token, r.id_token);
        lw_cstr_copy(a.stop_reason, sizeof a.stop_reason, r.stop_reason);
        lw_api_event_transaction(lc->csms->api, t->kind, &a, t->power_w);
    }
}

static void txpub_after(uv_work_t *w, int status);

/* Frees a list of events and counts them out of the in-flight work. */
static void txpub_drop(lw_csms_t *c, txpub_t *t)
{
    while (t) {
        txpub_t *n = t->next;
        atomic_fetch_sub(&c->inflight, 1);
        free(t);
        t = n;
    }
}

static void txpub_start(loop_ctx_t *lc)
{
    if (lc->pub_busy || !lc->pub_head) return;
    lc->pub_batch = lc->pub_head;
    lc->pub_head = lc->pub_tail = NULL;
    lc->pub_busy = true;
    lc->pub_work.data = lc;
    if (uv_queue_work(lw_net_loop_uv(lc->loop), &lc->pub_work, txpub_work, txpub_after)) {
        lc->pub_busy = false;
        txpub_drop(lc->csms, lc->pub_batch);
        lc->pub_batch = NULL;
    }
}

static void txpub_after(uv_work_t *w, int status)
{
    loop_ctx_t *lc = w->data;
    (void)status;
    txpub_drop(lc->csms, lc->pub_batch);
    lc->pub_batch = NULL;
    lc->pub_busy = false;
    txpub_start(lc); /* what was published meanwhile */
}

static void publish_tx(lw_session_t *s, const char *kind, int64_t tx_id, double power_w);

/* Publishes the update held back for s's transaction (its window has ended, or something
 * else is published for the station). */
static void publish_held(lw_session_t *s)
{
    if (!s->pub_held) return;
    s->pub_held = false;
    s->pub_at = (uint32_t)lw_clock_mono(s->csms->clock);
    publish_tx(s, "updated", s->pub_tx, s->pub_power);
}

void lw_session_publish_tx(lw_session_t *s, const char *kind, int64_t tx_id, double power_w)
{
    if (!s->csms->api || tx_id <= 0 || s->closed) return;
    uint32_t now = (uint32_t)lw_clock_mono(s->csms->clock);
    bool update = strcmp(kind, "updated") == 0;
    if (update && tx_id == s->pub_tx && now - s->pub_at < LW_CSMS_TX_UPDATE_MIN_MS) {
        s->pub_held = true; /* the newest values win */
        s->pub_power = (float)power_w;
        return;
    }
    if (tx_id != s->pub_tx || !update) publish_held(s); /* before what follows it */
    s->pub_held = false; /* what is published now is newer than anything held */
    s->pub_tx = tx_id;
    s->pub_at = now;
    publish_tx(s, kind, tx_id, power_w);
}

/* Queues one transaction event for its read-back on the thread pool. */
static void publish_tx(lw_session_t *s, const char *kind, int64_t tx_id, double power_w)
{
    txpub_t *t = calloc(1, sizeof *t);
    if (!t) return;
    t->tx_id = tx_id;
    lw_cstr_copy(t->kind, sizeof t->kind, kind);
    t->power_w = power_w;
    atomic_fetch_add(&s->csms->inflight, 1);
    loop_ctx_t *lc = s->lc;
    if (lc->pub_tail)
        lc->pub_tail->next = t;
    else
        lc->pub_head = t;
    lc->pub_tail = t;
    txpub_start(lc);
}
