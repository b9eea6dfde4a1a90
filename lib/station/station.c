/*
 * station.c — the station library's core: lifecycle, outputs, the OCPP-J RPC (one CALL in
 * flight at a time, a bounded queue behind it, timeouts and retries), the boot sequence,
 * heartbeats and reconnect back-off. Everything here is driven by the host through the
 * calls of station.h and the injected clock; nothing blocks and nothing opens a socket.
 */
#include "station_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers shared by the station files ---------------------------------------- */
const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool jint(const cJSON *o, const char *key, long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v)) return false;
    *out = (long)v->valuedouble;
    return true;
}

bool jnum(const cJSON *o, const char *key, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v)) return false;
    *out = v->valuedouble;
    return true;
}

void copy_str(char *dst, size_t dstsz, const char *src)
{
    if (!dstsz) return;
    size_t n = src ? strlen(src) : 0;
    if (n >= dstsz) n = dstsz - 1;
    if (n) memcpy(dst, src, n);
    dst[n] = 0;
}

bool is_v16(const lw_station_t *st)
{
    return st->ver == LW_OCPP_16;
}

uint64_t st_mono(const lw_station_t *st)
{
    return lw_clock_mono(st->clock);
}

int64_t st_wall(const lw_station_t *st)
{
    return lw_clock_wall(st->clock) + st->skew_ms;
}

void st_timestamp(const lw_station_t *st, char out[32])
{
    lw_time_format(st_wall(st), out, 32);
}

uint32_t st_rand(lw_station_t *st)
{
    /* xorshift64*: good enough for jitter and ids, and per-station (no global state) */
    uint64_t x = st->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    st->rng = x;
    return (uint32_t)((x * 2685821657736338717ull) >> 32);
}

bool st_online(const lw_station_t *st)
{
    return st->connected && st->state == LW_STATION_ACCEPTED;
}

static void trace(lw_station_t *st, bool outgoing, const char *p, size_t n)
{
    if (st->hooks.trace) st->hooks.trace(st->hooks.ctx, outgoing, (lw_str_t){p, n});
}

/* ---- outputs --------------------------------------------------------------------------- */
void st_push_out(lw_station_t *st, lw_station_out_kind_t kind, char *text, size_t len)
{
    if (st->out_len == LW_STATION_OUT_MAX) {
        /* the host did not drain: drop the frame (the peer times it out) rather than grow */
        lw_log(LW_LOG_WARN, "station", "station=%s event=out_full", st->id);
        free(text);
        return;
    }
    out_item_t *o = &st->out[(st->out_head + st->out_len) % LW_STATION_OUT_MAX];
    o->kind = kind;
    o->text = text;
    o->len = len;
    st->out_len++;
    if (kind == LW_STATION_OUT_SEND) trace(st, true, text, len);
}

static void push_frame(lw_station_t *st, lw_buf_t *b)
{
    if (lw_buf_cstr(b) != 0) {
        lw_buf_free(b);
        return;
    }
    st_push_out(st, LW_STATION_OUT_SEND, b->data, b->len);
    /* ownership of b->data moved to the output queue */
}

int lw_station_next_output(lw_station_t *st, lw_station_out_t *out)
{
    free(st->last_out);
    st->last_out = NULL;
    if (!st->out_len) return LW_EAGAIN;
    out_item_t *o = &st->out[st->out_head];
    st->out_head = (st->out_head + 1) % LW_STATION_OUT_MAX;
    st->out_len--;
    out->kind = o->kind;
    out->text = (lw_str_t){o->text, o->len};
    st->last_out = o->text;
    return 0;
}

/* Validates json against action's request or response schema in the station's version.
 * Returns 0, LW_ENOTFOUND (no such action, or no response schema) or LW_ESCHEMA (err
 * filled). */
static int check_payload(const lw_station_t *st, const char *action, bool request, const char *json,
                         size_t len, lw_codec_error_t *err)
{
    const lw_codec_action_t *a = lw_codec_action_find(st->ver, lw_str_c(action));
    const lw_codec_msg_t *m = a ? (request ? a->request : a->response) : NULL;
    if (!m) {
        if (err) {
            memset(err, 0, sizeof *err);
            err->code = LW_OCPP_ERR_NOT_IMPLEMENTED;
            snprintf(err->detail, sizeof err->detail, "no %s schema for %s in OCPP %s",
                     request ? "request" : "response", action, lw_ocpp_version_name(st->ver));
        }
        return LW_ENOTFOUND;
    }
    int rc = lw_codec_validate(m, json, len, err);
    return rc == LW_ESCHEMA ? LW_ESCHEMA : rc ? LW_ENOMEM : 0;
}

static void own_violation(lw_station_t *st, const char *what, const char *action,
                          const lw_codec_error_t *err)
{
    char d[512];
    lw_codec_error_format(err, st->ver, d, sizeof d);
    st->stats.invalid_out++;
    lw_log(LW_LOG_ERROR, "station", "station=%s event=invalid_%s action=%s error=\"%s\"", st->id,
           what, action, d);
}

void st_reply_error(lw_station_t *st, const char *msgid, lw_ocpp_err_t e, const char *desc)
{
    lw_buf_t b;
    lw_buf_init(&b, LW_FRAME_MAX_DEFAULT);
    if (lw_rpc_write_error(&b, st->ver, lw_str_c(msgid), e, lw_str_c(desc ? desc : ""),
                           (lw_str_t){0}) != 0) {
        lw_buf_free(&b);
        return;
    }
    lw_rpc_peer_sent(&st->peer, LW_RPC_CALLERROR);
    lw_rpc_peer_answered(&st->peer, lw_str_c(msgid));
    push_frame(st, &b);
}

void st_reply(lw_station_t *st, const char *msgid, cJSON *payload)
{
    char *p = cJSON_PrintUnformatted(payload);
    cJSON_Delete(payload);
    if (!p) {
        st_reply_error(st, msgid, LW_OCPP_ERR_INTERNAL, "out of memory");
        return;
    }
    /* the action being answered is the CALL the rpc peer tracks */
    const char *action =
        st->peer.in_active && !strcmp(st->peer.in_id, msgid) ? st->peer.in_action : "";
    lw_codec_error_t err;
    if (check_payload(st, action, false, p, strlen(p), &err) != 0) {
        /* our own bug: never put an invalid payload on the wire */
        own_violation(st, "response", action, &err);
        free(p);
        st_reply_error(st, msgid, LW_OCPP_ERR_INTERNAL, "station built an invalid response");
        return;
    }
    lw_buf_t b;
    lw_buf_init(&b, LW_FRAME_MAX_DEFAULT);
    int rc = lw_rpc_write_result(&b, lw_str_c(msgid), lw_str_c(p));
    free(p);
    if (rc != 0) {
        lw_buf_free(&b);
        st_reply_error(st, msgid, LW_OCPP_ERR_INTERNAL, "response too big");
        return;
    }
    lw_rpc_peer_sent(&st->peer, LW_RPC_CALLRESULT);
    lw_rpc_peer_answered(&st->peer, lw_str_c(msgid));
    push_frame(st, &b);
}

/* ---- queue ------------------------------------------------------------------------------ */
static qmsg_t *qmsg_new(const char *action, cJSON *payload)
{
    char *p = cJSON_PrintUnformatted(payload);
    cJSON_Delete(payload);
    if (!p) return NULL;
    qmsg_t *m = calloc(1, sizeof *m);
    if (!m) {
        free(p);
        return NULL;
    }
    copy_str(m->action, sizeof m->action, action);
    m->payload = p;
    return m;
}

static void qmsg_free(qmsg_t *m)
{
    if (!m) return;
    free(m->payload);
    free(m);
}

static void q_append(lw_station_t *st, qmsg_t *m)
{
    m->next = NULL;
    if (st->qtail)
        st->qtail->next = m;
    else
        st->qhead = m;
    st->qtail = m;
    st->qlen++;
}

static void q_prepend(lw_station_t *st, qmsg_t *m)
{
    m->next = st->qhead;
    st->qhead = m;
    if (!st->qtail) st->qtail = m;
    st->qlen++;
}

static void q_remove(lw_station_t *st, qmsg_t *m, qmsg_t *prev)
{
    if (prev)
        prev->next = m->next;
    else
        st->qhead = m->next;
    if (st->qtail == m) st->qtail = prev;
    st->qlen--;
    m->next = NULL;
}

qmsg_t *st_call(lw_station_t *st, const char *action, cJSON *payload)
{
    if (st->qlen >= LW_STATION_QUEUE_MAX) {
        cJSON_Delete(payload);
        return NULL;
    }
    qmsg_t *m = qmsg_new(action, payload);
    if (!m) return NULL;
    q_append(st, m);
    return m;
}

int st_call_tx(lw_station_t *st, const char *action, cJSON *payload, uint32_t txlocal,
               bool periodic, int conn)
{
    if (st->qlen >= (periodic ? LW_STATION_QUEUE_MAX : LW_STATION_QUEUE_HARD_MAX)) {
        lw_log(LW_LOG_WARN, "station", "station=%s event=queue_full action=%s", st->id, action);
        cJSON_Delete(payload);
        return LW_ETOOBIG;
    }
    uint64_t qid = st->next_qid++;
    /* journal first: a message is durable before anyone can see it was queued */
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "t", "q");
    cJSON_AddNumberToObject(rec, "q", (double)qid);
    cJSON_AddNumberToObject(rec, "x", txlocal);
    cJSON_AddStringToObject(rec, "a", action);
    cJSON_AddBoolToObject(rec, "per", periodic);
    if (conn > 0) {
        /* what a restart needs to continue the meter register and the 2.x seqNo */
        cJSON_AddNumberToObject(rec, "c", conn);
        cJSON_AddNumberToObject(rec, "wh", st->conn[conn].energy_wh);
        cJSON_AddNumberToObject(rec, "seq", st->conn[conn].tx.seq);
    }
    cJSON_AddItemReferenceToObject(rec, "p", payload);
    int rc = jr_append(st, rec);
    cJSON_Delete(rec);
    if (rc) {
        cJSON_Delete(payload);
        return rc;
    }
    qmsg_t *m = qmsg_new(action, payload);
    if (!m) return LW_ENOMEM;
    m->qid = qid;
    m->txlocal = txlocal;
    m->periodic = periodic;
    q_append(st, m);
    return 0;
}

void st_unqueue_restored(lw_station_t *st, uint64_t qid)
{
    qmsg_t *prev = NULL;
    for (qmsg_t *m = st->qhead; m; prev = m, m = m->next)
        if (m->qid == qid) {
            q_remove(st, m, prev);
            qmsg_free(m);
            return;
        }
}

/* restores a journaled message (journal.c) */
void st_requeue_restored(lw_station_t *st, uint64_t qid, uint32_t txlocal, const char *action,
                         char *payload_text, bool periodic)
{
    qmsg_t *m = calloc(1, sizeof *m);
    if (!m) {
        free(payload_text);
        return;
    }
    copy_str(m->action, sizeof m->action, action);
    m->payload = payload_text;
    m->qid = qid;
    m->txlocal = txlocal;
    m->periodic = periodic;
    q_append(st, m);
}

int64_t st_txmap_get(lw_station_t *st, uint32_t local)
{
    for (size_t i = 0; i < st->txmap_n; i++)
        if (st->txmap[i].local == local) return st->txmap[i].csms_id;
    for (int c = 1; c <= st->nconn; c++)
        if (st->conn[c].tx.active && st->conn[c].tx.local == local) return st->conn[c].tx.csms_id;
    return -1;
}

void st_txmap_set(lw_station_t *st, uint32_t local, int64_t csms_id)
{
    for (size_t i = 0; i < st->txmap_n; i++)
        if (st->txmap[i].local == local) {
            st->txmap[i].csms_id = csms_id;
            return;
        }
    if (st->txmap_n == sizeof st->txmap / sizeof st->txmap[0]) {
        memmove(st->txmap, st->txmap + 1, sizeof st->txmap - sizeof st->txmap[0]);
        st->txmap_n--;
    }
    st->txmap[st->txmap_n].local = local;
    st->txmap[st->txmap_n].csms_id = csms_id;
    st->txmap_n++;
}

/* Actions a station may send while its boot is Pending: answers to what the CSMS asked for
 * (OCPP 2.0.1 B02.FR.02, 1.6 §4.2: only after a TriggerMessage or as part of a request). */
static bool allowed_while_pending(const qmsg_t *m)
{
    static const char *ok[] = {"NotifyReport",
                               "FirmwareStatusNotification",
                               "LogStatusNotification",
                               "DiagnosticsStatusNotification",
                               "SignedFirmwareStatusNotification",
                               "SignCertificate",
                               "ReportChargingProfiles",
                               NULL};
    for (const char **a = ok; *a; a++)
        if (!strcmp(m->action, *a)) return true;
    return false;
}

static void on_call_done(void *ud, int status, const char *id, const char *action,
                         const lw_rpc_frame_t *f);

static void drop_unsendable(lw_station_t *st, qmsg_t *m)
{
    if (m->qid) jr_done(st, m->qid);
    if (!strcmp(m->action, "BootNotification")) st->boot_at = st_mono(st) + 10000;
    qmsg_free(m);
}

static void send_call(lw_station_t *st, qmsg_t *m)
{
    char idbuf[LW_MSGID_MAX + 1];
    if (lw_rpc_make_id(idbuf) != 0) {
        /* no randomness: fall back to a per-station counter, still unique per connection */
        snprintf(idbuf, sizeof idbuf, "%08" PRIx32 "-%" PRIu64, st_rand(st),
                 st->peer.stats.tx[LW_RPC_CALL]);
    }
    const char *payload = m->payload;
    char *patched = NULL;
    if (m->txlocal && is_v16(st) && strcmp(m->action, "StartTransaction") != 0) {
        /* 1.6: the transactionId is known only once StartTransaction was answered, which
         * may have happened after this message was queued offline */
        cJSON *p = cJSON_Parse(m->payload);
        if (p) {
            int64_t id = st_txmap_get(st, m->txlocal);
            cJSON_DeleteItemFromObject(p, "transactionId");
            cJSON_AddNumberToObject(p, "transactionId", (double)(id < 0 ? 0 : id));
            patched = cJSON_PrintUnformatted(p);
            cJSON_Delete(p);
            if (patched) payload = patched;
        }
    }
    lw_codec_error_t err;
    if (check_payload(st, m->action, true, payload, strlen(payload), &err) != 0) {
        /* our own bug: an invalid CALL is never sent (retrying would not fix it) */
        own_violation(st, "call", m->action, &err);
        free(patched);
        drop_unsendable(st, m);
        return;
    }
    lw_buf_t b;
    lw_buf_init(&b, LW_FRAME_MAX_DEFAULT);
    int rc = lw_rpc_write_call(&b, lw_str_c(idbuf), lw_str_c(m->action), lw_str_c(payload));
    free(patched);
    st->peer.timeout_ms = (uint32_t)cfg_int(st, V_MSG_TIMEOUT) * 1000u;
    if (rc == 0)
        rc = lw_rpc_peer_begin(&st->peer, lw_str_c(idbuf), lw_str_c(m->action), on_call_done, st);
    if (rc != 0) {
        lw_log(LW_LOG_ERROR, "station", "station=%s event=call_not_sent action=%s error=%s", st->id,
               m->action, lw_strerror(rc));
        lw_buf_free(&b);
        drop_unsendable(st, m);
        return;
    }
    lw_rpc_peer_sent(&st->peer, LW_RPC_CALL);
    push_frame(st, &b);
    uint64_t now = st_mono(st);
    st->inflight.active = true;
    st->inflight.msg = m;
    st->inflight.sent_at = now;
    st->last_sent = now;
    if (st->heartbeat_s > 0) st->heartbeat_at = now + (uint64_t)st->heartbeat_s * 1000u;
}

static void send_boot(lw_station_t *st)
{
    cJSON *p = cJSON_CreateObject();
    if (is_v16(st)) {
        cJSON_AddStringToObject(p, "chargePointVendor", st->vendor);
        cJSON_AddStringToObject(p, "chargePointModel", st->model);
        cJSON_AddStringToObject(p, "chargePointSerialNumber", st->serial);
        cJSON_AddStringToObject(p, "firmwareVersion", st->fw_version);
    } else {
        cJSON *cs = cJSON_AddObjectToObject(p, "chargingStation");
        cJSON_AddStringToObject(cs, "model", st->model);
        cJSON_AddStringToObject(cs, "vendorName", st->vendor);
        cJSON_AddStringToObject(cs, "serialNumber", st->serial);
        cJSON_AddStringToObject(cs, "firmwareVersion", st->fw_version);
        cJSON_AddStringToObject(p, "reason", st->boot_reason);
    }
    qmsg_t *m = qmsg_new("BootNotification", p);
    if (m) send_call(st, m);
    st->boot_at = 0;
}

/* Sends the next queued CALL when nothing is in flight. Transaction messages keep their
 * order: one waiting for a retry holds back the ones behind it, other messages pass. */
void st_pump(lw_station_t *st)
{
    if (!st->connected || st->closing || st->inflight.active) return;
    if (st->state == LW_STATION_BOOTING || st->state == LW_STATION_REJECTED ||
        st->state == LW_STATION_OFFLINE) {
        if (st->boot_at && st_mono(st) >= st->boot_at) send_boot(st);
        return;
    }
    if (st->state == LW_STATION_PENDING && st->boot_at && st_mono(st) >= st->boot_at) {
        send_boot(st);
        return;
    }
    uint64_t now = st_mono(st);
    bool tx_blocked = false;
    qmsg_t *prev = NULL;
    for (qmsg_t *m = st->qhead; m; prev = m, m = m->next) {
        if (st->state == LW_STATION_PENDING && !allowed_while_pending(m)) continue;
        if (m->qid && tx_blocked) continue;
        if (m->not_before > now) {
            if (m->qid) tx_blocked = true;
            continue;
        }
        q_remove(st, m, prev);
        send_call(st, m);
        return;
    }
}

size_t lw_station_queued(const lw_station_t *st)
{
    return st->qlen + (st->inflight.active && st->inflight.msg && st->inflight.msg->qid ? 1 : 0);
}

/* ---- answers to our CALLs -------------------------------------------------------------- */
static void schedule_boot_retry(lw_station_t *st, long interval_s)
{
    if (interval_s <= 0) interval_s = 30;
    st->boot_at = st_mono(st) + (uint64_t)interval_s * 1000u;
}

static void on_boot_result(lw_station_t *st, cJSON *p)
{
    const char *status = jstr(p, "status");
    long interval = 0;
    jint(p, "interval", &interval);
    if (st->boot_triggered && st->state == LW_STATION_ACCEPTED) {
        st->boot_triggered = false;
        if (interval > 0) st->heartbeat_s = (int)interval;
        return;
    }
    if (status && !strcmp(status, "Accepted")) {
        st->state = LW_STATION_ACCEPTED;
        st->backoff_step = 0;
        /* OCPP 1.6 §4.2 / 2.0.1 B01.FR.04: the interval is the heartbeat interval */
        if (interval > 0) {
            st->heartbeat_s = (int)interval;
            char v[24];
            snprintf(v, sizeof v, "%ld", interval);
            cfg_set(st, V_HEARTBEAT, v, true, true);
        } else {
            st->heartbeat_s = (int)cfg_int(st, V_HEARTBEAT);
        }
        uint64_t now = st_mono(st);
        st->heartbeat_at = st->heartbeat_s > 0 ? now + (uint64_t)st->heartbeat_s * 1000u : 0;
        copy_str(st->boot_reason, sizeof st->boot_reason, "PowerUp");
        /* B01.FR.05 / 1.6 §4.9: report every connector's status after boot */
        for (int c = is_v16(st) ? 0 : 1; c <= st->nconn; c++)
            tx_update_status(st, c, true);
        tx_schedule_aligned(st);
    } else if (status && !strcmp(status, "Pending")) {
        st->state = LW_STATION_PENDING;
        schedule_boot_retry(st, interval);
    } else {
        st->state = LW_STATION_REJECTED;
        schedule_boot_retry(st, interval);
    }
}

static void finish_inflight(lw_station_t *st, cJSON *payload, const char *error)
{
    qmsg_t *m = st->inflight.msg;
    st->inflight.active = false;
    st->inflight.msg = NULL;
    uint64_t now = st_mono(st);
    if (st->hooks.call_done)
        st->hooks.call_done(st->hooks.ctx, m->action, now - st->inflight.sent_at, error);
    if (!strcmp(m->action, "BootNotification")) {
        if (error)
            schedule_boot_retry(st, 10);
        else
            on_boot_result(st, payload);
        qmsg_free(m);
        return;
    }
    if (error) {
        if (m->qid) {
            /* OCPP 1.6 §4.10 / 2.0.1 E14: retry with growing interval, then give up */
            long max = cfg_int(st, V_TX_ATTEMPTS);
            m->attempts++;
            if (m->attempts < max) {
                m->not_before = now + (uint64_t)cfg_int(st, V_TX_RETRY_INTERVAL) * 1000u *
                                          (uint64_t)m->attempts;
                q_prepend(st, m);
                return;
            }
            lw_log(LW_LOG_WARN, "station", "station=%s event=tx_message_given_up action=%s", st->id,
                   m->action);
            jr_done(st, m->qid);
        }
        qmsg_free(m);
        return;
    }
    if (!strcmp(m->action, "Authorize"))
        tx_authorize_result(st, m,
                            cJSON_GetObjectItemCaseSensitive(payload, "idTagInfo")
                                ? cJSON_GetObjectItemCaseSensitive(payload, "idTagInfo")
                                : cJSON_GetObjectItemCaseSensitive(payload, "idTokenInfo"));
    else if (!strcmp(m->action, "StartTransaction") || !strcmp(m->action, "StopTransaction") ||
             !strcmp(m->action, "TransactionEvent") || !strcmp(m->action, "MeterValues"))
        tx_on_result(st, m, payload);
    else
        calls_on_result(st, m, payload);
    if (m->qid) jr_done(st, m->qid);
    qmsg_free(m);
}

static void requeue_inflight(lw_station_t *st)
{
    if (!st->inflight.active) return;
    qmsg_t *m = st->inflight.msg;
    st->inflight.active = false;
    st->inflight.msg = NULL;
    if (m->qid)
        q_prepend(st, m); /* never dropped: sent again after reconnecting */
    else
        qmsg_free(m);
}

/* ---- incoming frames ------------------------------------------------------------------- */
/* The rpc peer's completion of our outstanding CALL. The answer's payload is validated
 * against the action's response schema: a violation is treated like a CALLERROR (and, in
 * 2.1, reported back with CALLRESULTERROR). */
static void on_call_done(void *ud, int status, const char *id, const char *action,
                         const lw_rpc_frame_t *f)
{
    lw_station_t *st = ud;
    if (!st->inflight.active) return;
    if (status == LW_ECLOSED) {
        requeue_inflight(st);
        return;
    }
    if (status == LW_ETIMEDOUT) {
        /* no answer: a timeout counts as a failed attempt */
        finish_inflight(st, NULL, "Timeout");
        return;
    }
    if (status == LW_EPROTO) {
        char code[64];
        size_t n = f->error_code.len < sizeof code - 1 ? f->error_code.len : sizeof code - 1;
        memcpy(code, f->error_code.p, n);
        code[n] = 0;
        finish_inflight(st, NULL, n ? code : "GenericError");
        return;
    }
    lw_codec_error_t err;
    int rc = check_payload(st, action, false, f->payload.p, f->payload.len, &err);
    cJSON *payload = rc == 0 ? cJSON_ParseWithLength(f->payload.p, f->payload.len) : NULL;
    if (!payload) {
        char d[512];
        lw_codec_error_format(&err, st->ver, d, sizeof d);
        st->stats.invalid_in++;
        lw_log(LW_LOG_WARN, "station", "station=%s event=invalid_response action=%s error=\"%s\"",
               st->id, action, d);
        if (st->ver == LW_OCPP_21) {
            /* OCPP 2.1 Part 4 §4.2.4: a CALLRESULT that cannot be processed */
            lw_buf_t b;
            lw_buf_init(&b, LW_FRAME_MAX_DEFAULT);
            if (lw_rpc_write_result_error(&b, lw_str_c(id),
                                          err.code ? err.code : LW_OCPP_ERR_INTERNAL, lw_str_c(d),
                                          (lw_str_t){0}) == 0) {
                lw_rpc_peer_sent(&st->peer, LW_RPC_CALLRESULTERROR);
                push_frame(st, &b);
            } else {
                lw_buf_free(&b);
            }
        }
        finish_inflight(st, NULL,
                        lw_ocpp_err_name(st->ver, err.code ? err.code : LW_OCPP_ERR_INTERNAL));
        return;
    }
    finish_inflight(st, payload, NULL);
    cJSON_Delete(payload);
}

/* A CSMS CALL: known action, sent by the CSMS in this version, payload valid — then the
 * handler answers it; otherwise the CALLERROR the spec names. */
static int on_call(lw_station_t *st, const lw_rpc_frame_t *f)
{
    char msgid[LW_MSGID_MAX + 1], action[LW_ACTION_MAX + 1];
    memcpy(msgid, f->id.p, f->id.len); /* the parser bounds the id by LW_MSGID_MAX */
    msgid[f->id.len] = 0;
    if (f->action.len > LW_ACTION_MAX) {
        st_reply_error(st, msgid, LW_OCPP_ERR_NOT_IMPLEMENTED, "unknown action");
        st->stats.not_implemented++;
        return 0;
    }
    memcpy(action, f->action.p, f->action.len);
    action[f->action.len] = 0;
    lw_rpc_peer_incoming(&st->peer, f);
    const lw_codec_action_t *a = lw_codec_action_find(st->ver, f->action);
    if (!a) {
        /* OCPP-J: NotImplemented — the action is not known in this version */
        st->stats.not_implemented++;
        st_reply_error(st, msgid, LW_OCPP_ERR_NOT_IMPLEMENTED, "unknown action");
        return 0;
    }
    if (!(a->dir & LW_DIR_FROM_CSMS)) {
        /* known, but only a station sends it: recognized and not supported by a station */
        st_reply_error(st, msgid, LW_OCPP_ERR_NOT_SUPPORTED, "action is sent by stations only");
        return 0;
    }
    lw_codec_error_t err;
    int rc = check_payload(st, action, true, f->payload.p, f->payload.len, &err);
    if (rc == LW_ESCHEMA) {
        char d[512];
        lw_codec_error_format(&err, st->ver, d, sizeof d);
        st->stats.invalid_in++;
        st_reply_error(st, msgid, err.code, d);
        return 0;
    }
    cJSON *payload = rc == 0 ? cJSON_ParseWithLength(f->payload.p, f->payload.len) : NULL;
    if (!payload) {
        st_reply_error(st, msgid, LW_OCPP_ERR_INTERNAL, "out of memory");
        return LW_ENOMEM;
    }
    calls_dispatch(st, msgid, action, payload);
    cJSON_Delete(payload);
    if (st->peer.in_active) {
        /* every handler answers; this is a safety net so one bug cannot wedge the peer */
        lw_log(LW_LOG_ERROR, "station", "station=%s event=unanswered_call action=%s", st->id,
               action);
        st_reply_error(st, msgid, LW_OCPP_ERR_INTERNAL, "not answered");
    }
    return 0;
}

int lw_station_on_message(lw_station_t *st, const char *text, size_t len)
{
    trace(st, false, text, len);
    lw_rpc_frame_t f;
    lw_rpc_parse_error_t perr;
    int rc = lw_rpc_peer_parse(&st->peer, text, len, &f, &perr);
    if (rc != 0) {
        st->stats.invalid_in++;
        if (perr.reply != LW_RPC_REPLY_NONE && st->connected && st->state != LW_STATION_REJECTED) {
            lw_buf_t b;
            lw_buf_init(&b, LW_FRAME_MAX_DEFAULT);
            if (lw_rpc_write_parse_error(&b, st->ver, &perr) == 0) {
                lw_rpc_peer_sent(&st->peer, perr.reply == LW_RPC_REPLY_CALLERROR
                                                ? LW_RPC_CALLERROR
                                                : LW_RPC_CALLRESULTERROR);
                push_frame(st, &b);
            } else {
                lw_buf_free(&b);
            }
        }
        st_pump(st);
        return LW_EPARSE;
    }
    switch (f.type) {
    case LW_RPC_CALL:
        /* OCPP 1.6 §4.2.1 / 2.0.1 B03.FR.07: a rejected station does not answer */
        if (st->state != LW_STATION_REJECTED) rc = on_call(st, &f);
        break;
    case LW_RPC_CALLRESULT:
    case LW_RPC_CALLERROR:
    case LW_RPC_CALLRESULTERROR:
        /* an answer to nothing we asked (late, after a timeout) is counted and dropped */
        lw_rpc_peer_match(&st->peer, &f);
        break;
    default:
        /* 2.1 SEND: only stations send them (NotifyPeriodicEventStream); never answered */
        break;
    }
    st_pump(st);
    return rc;
}

/* ---- connection ------------------------------------------------------------------------ */
void lw_station_on_connected(lw_station_t *st)
{
    st->connect_requested = false;
    st->connected = true;
    st->closing = false;
    st->state = LW_STATION_BOOTING;
    st->boot_at = st_mono(st);
    /* a fresh call table per connection; the counters live on in st->stats */
    lw_rpc_stats_t keep = st->peer.stats;
    lw_rpc_peer_init(&st->peer, st->ver, st->clock, 0, st->id);
    st->peer.stats = keep;
    for (int c = 0; c <= st->nconn; c++)
        st->conn[c].reported_valid = false;
    st_pump(st);
}

static void schedule_reconnect(lw_station_t *st)
{
    /* OCPP 2.0.1 B10 RetryBackOff*: the wait doubles RetryBackOffRepeatTimes times, plus a
     * random part so that a fleet does not reconnect in lockstep */
    long min = cfg_int(st, V_BACKOFF_MIN), range = cfg_int(st, V_BACKOFF_RANGE);
    long rep = cfg_int(st, V_BACKOFF_REPEAT);
    int step = st->backoff_step < rep ? st->backoff_step : (int)rep;
    uint64_t wait = (uint64_t)min * 1000u << step;
    if (range > 0) wait += st_rand(st) % ((uint64_t)range * 1000u + 1);
    st->backoff_step++;
    st->reconnect_at = st_mono(st) + wait;
}

void lw_station_on_disconnected(lw_station_t *st)
{
    bool was_reset = st->closing && st->reset_pending;
    st->connect_requested = false;
    st->connected = false;
    st->closing = false;
    st->state = LW_STATION_OFFLINE;
    st->boot_at = 0;
    st->boot_triggered = false;
    lw_rpc_peer_close(&st->peer); /* the outstanding CALL is requeued by on_call_done */
    requeue_inflight(st);
    if (was_reset) {
        st->reset_pending = false;
        st->backoff_step = 0;
        st->reconnect_at = st_mono(st) + 1000; /* the "reboot" */
    } else {
        schedule_reconnect(st);
    }
}

void st_request_reset(lw_station_t *st, bool hard, const char *boot_reason)
{
    st->reset_pending = true;
    st->reset_hard = hard;
    copy_str(st->boot_reason, sizeof st->boot_reason, boot_reason);
    /* stop messages go first (they are journaled anyway); close when they are out or in 10 s */
    st->reset_at = st_mono(st) + 10000;
}

void st_do_reset(lw_station_t *st)
{
    if (st->connected && !st->closing) {
        st->closing = true;
        st_push_out(st, LW_STATION_OUT_CLOSE, NULL, 0);
    } else if (!st->connected) {
        st->reset_pending = false;
        st->reconnect_at = st_mono(st) + 1000;
    }
}

void st_trigger_boot(lw_station_t *st)
{
    qmsg_t *m;
    cJSON *p = cJSON_CreateObject();
    if (is_v16(st)) {
        cJSON_AddStringToObject(p, "chargePointVendor", st->vendor);
        cJSON_AddStringToObject(p, "chargePointModel", st->model);
        cJSON_AddStringToObject(p, "chargePointSerialNumber", st->serial);
        cJSON_AddStringToObject(p, "firmwareVersion", st->fw_version);
    } else {
        cJSON *cs = cJSON_AddObjectToObject(p, "chargingStation");
        cJSON_AddStringToObject(cs, "model", st->model);
        cJSON_AddStringToObject(cs, "vendorName", st->vendor);
        cJSON_AddStringToObject(cs, "serialNumber", st->serial);
        cJSON_AddStringToObject(cs, "firmwareVersion", st->fw_version);
        cJSON_AddStringToObject(p, "reason", "Triggered");
    }
    m = st_call(st, "BootNotification", p);
    if (m) st->boot_triggered = true;
}

void st_send_heartbeat(lw_station_t *st)
{
    st_call(st, "Heartbeat", cJSON_CreateObject());
}

/* ---- timers ---------------------------------------------------------------------------- */
void lw_station_tick(lw_station_t *st)
{
    uint64_t now = st_mono(st);
    if (!st->connected && !st->connect_requested && st->reconnect_at && now >= st->reconnect_at) {
        st->reconnect_at = 0;
        st->connect_requested = true;
        st_push_out(st, LW_STATION_OUT_CONNECT, NULL, 0);
    }
    lw_rpc_peer_tick(&st->peer); /* a timed-out CALL completes through on_call_done */
    if (st_online(st) && st->heartbeat_s > 0 && st->heartbeat_at && now >= st->heartbeat_at) {
        bool queued = false;
        for (qmsg_t *m = st->qhead; m; m = m->next)
            if (!strcmp(m->action, "Heartbeat")) queued = true;
        if (!queued) st_send_heartbeat(st);
        st->heartbeat_at = now + (uint64_t)st->heartbeat_s * 1000u;
    }
    tx_tick(st);
    calls_tick(st);
    if (st->reset_pending && !st->closing && st->reset_at != UINT64_MAX) {
        /* everything queued goes out first (stop messages, the last firmware status) */
        bool idle = !st->inflight.active && !st->qhead;
        if (!st->connected || idle || now >= st->reset_at) st_do_reset(st);
    }
    st_pump(st);
    jr_compact_if_idle(st);
}

uint64_t lw_station_next_deadline(const lw_station_t *st)
{
    uint64_t d = UINT64_MAX;
#define AT(x)                                                                                      \
    do {                                                                                           \
        uint64_t x_ = (x);                                                                         \
        if (x_ && x_ < d) d = x_;                                                                  \
    } while (0)
    if (!st->connected && !st->connect_requested) AT(st->reconnect_at);
    if (st->connected) {
        if (st->state != LW_STATION_ACCEPTED && !st->inflight.active) AT(st->boot_at);
        uint64_t call_deadline;
        if (lw_rpc_peer_deadline(&st->peer, &call_deadline)) AT(call_deadline);
        if (st_online(st) && st->heartbeat_s > 0) AT(st->heartbeat_at);
        if (!st->inflight.active && st_online(st))
            for (const qmsg_t *m = st->qhead; m; m = m->next)
                AT(m->not_before);
    }
    /* a reset waits for the queue to drain; once CLOSE is out it waits for the host */
    if (st->reset_pending && !st->closing) {
        bool idle = !st->inflight.active && !st->qhead;
        AT(idle || !st->connected ? st_mono(st) : st->reset_at);
    }
    AT(tx_next_deadline(st));
    AT(calls_next_deadline(st));
#undef AT
    return d;
}

/* ---- lifecycle --------------------------------------------------------------------------- */
int lw_station_new(const lw_station_config_t *cfg, const lw_clock_t *clock, lw_station_t **out)
{
    if (!cfg || !cfg->id || !*cfg->id || strlen(cfg->id) > LW_STATION_ID_MAX || !clock || !out ||
        cfg->version >= LW_OCPP_VERSION_COUNT || cfg->connectors < 1 ||
        cfg->connectors > LW_STATION_CONNECTORS_MAX)
        return LW_EINVAL;
    lw_station_t *st = calloc(1, sizeof *st);
    if (!st) return LW_ENOMEM;
    copy_str(st->id, sizeof st->id, cfg->id);
    st->ver = cfg->version;
    st->nconn = cfg->connectors;
    copy_str(st->vendor, sizeof st->vendor, cfg->vendor ? cfg->vendor : "Ladewerk");
    copy_str(st->model, sizeof st->model, cfg->model ? cfg->model : "LW-Sim");
    copy_str(st->serial, sizeof st->serial, cfg->serial ? cfg->serial : cfg->id);
    copy_str(st->fw_version, sizeof st->fw_version,
             cfg->firmware_version ? cfg->firmware_version : "1.0.0");
    copy_str(st->password, sizeof st->password, cfg->password);
    st->security_profile = cfg->security_profile;
    st->phases = cfg->phases > 0 ? cfg->phases : 3;
    st->voltage = cfg->voltage > 0 ? cfg->voltage : 230.0;
    st->max_current = cfg->max_current_a > 0 ? cfg->max_current_a : 32.0;
    st->clock = clock;
    lw_rpc_peer_init(&st->peer, st->ver, clock, 0, st->id);
    st->journal = cfg->journal;
    if (cfg->hooks) st->hooks = *cfg->hooks;
    st->xfers = cfg->transfers;
    st->rng = ((uint64_t)cfg->seed << 32) ^ 0x9e3779b97f4a7c15ull;
    for (const char *p = st->id; *p; p++)
        st->rng = (st->rng ^ (uint8_t)*p) * 1099511628211ull;
    if (!st->rng) st->rng = 1;
    st->next_qid = 1;
    st->next_txlocal = 1;
    st->station_operative = true;
    for (int c = 0; c <= st->nconn; c++) {
        st->conn[c].operative = true;
        st->conn[c].soc = -1;
        st->conn[c].tx.remote_start_id = -1;
        st->conn[c].auth_remote_id = -1;
        st->conn[c].integrated_at = st_mono(st);
    }
    copy_str(st->boot_reason, sizeof st->boot_reason, "PowerUp");
    if (st->journal) {
        int rc = jr_restore(st);
        if (rc) {
            lw_station_free(st);
            return rc;
        }
    }
    st->heartbeat_s = (int)cfg_int(st, V_HEARTBEAT);
    /* first connection right away */
    st->connect_requested = true;
    st_push_out(st, LW_STATION_OUT_CONNECT, NULL, 0);
    *out = st;
    return 0;
}

void lw_station_free(lw_station_t *st)
{
    if (!st) return;
    if (st->inflight.msg) qmsg_free(st->inflight.msg);
    while (st->qhead) {
        qmsg_t *m = st->qhead;
        st->qhead = m->next;
        qmsg_free(m);
    }
    while (st->out_len) {
        free(st->out[st->out_head].text);
        st->out_head = (st->out_head + 1) % LW_STATION_OUT_MAX;
        st->out_len--;
    }
    free(st->last_out);
    for (int i = 0; i < NVARS_MAX; i++)
        free(st->val[i]);
    for (int i = 0; i < LW_STATION_CERTS_MAX; i++)
        free(st->certs[i].pem);
    calls_free(st);
    free(st->local_list);
    free(st->profiles);
    free(st);
}

const char *lw_station_subprotocol(const lw_station_t *st)
{
    return lw_ocpp_subprotocol(st->ver);
}

const char *lw_station_password(const lw_station_t *st)
{
    return st->password[0] ? st->password : NULL;
}

lw_station_state_t lw_station_state(const lw_station_t *st)
{
    return st->state;
}

void lw_station_stats(const lw_station_t *st, lw_station_stats_t *out)
{
    *out = st->stats;
    out->rpc = st->peer.stats;
}

void lw_station_set_clock_skew(lw_station_t *st, int64_t skew_ms)
{
    st->skew_ms = skew_ms;
}
