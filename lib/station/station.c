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

void st_reply(lw_station_t *st, const char *msgid, cJSON *payload)
{
    char *p = cJSON_PrintUnformatted(payload);
    cJSON_Delete(payload);
    if (!p) return;
    lw_buf_t b;
    lw_buf_init(&b, LW_FRAME_MAX_DEFAULT);
    lw_buf_append_c(&b, "[3,");
    lw_buf_append_json_str(&b, lw_str_c(msgid));
    lw_buf_putc(&b, ',');
    lw_buf_append_c(&b, p);
    lw_buf_putc(&b, ']');
    free(p);
    push_frame(st, &b);
}

void st_reply_error(lw_station_t *st, const char *msgid, lw_ocpp_err_t e, const char *desc)
{
    lw_buf_t b;
    lw_buf_init(&b, LW_FRAME_MAX_DEFAULT);
    lw_buf_append_c(&b, "[4,");
    lw_buf_append_json_str(&b, lw_str_c(msgid));
    lw_buf_putc(&b, ',');
    lw_buf_append_json_str(&b, lw_str_c(lw_ocpp_err_name(st->ver, e)));
    lw_buf_putc(&b, ',');
    lw_buf_append_json_str(&b, lw_str_c(desc ? desc : ""));
    lw_buf_append_c(&b, ",{}]");
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

static void send_call(lw_station_t *st, qmsg_t *m)
{
    char idbuf[40];
    snprintf(idbuf, sizeof idbuf, "%08" PRIx32 "-%" PRIu64, (uint32_t)(st->rng >> 32),
             ++st->msg_counter);
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
    lw_buf_t b;
    lw_buf_init(&b, LW_FRAME_MAX_DEFAULT);
    lw_buf_append_c(&b, "[2,");
    lw_buf_append_json_str(&b, lw_str_c(idbuf));
    lw_buf_putc(&b, ',');
    lw_buf_append_json_str(&b, lw_str_c(m->action));
    lw_buf_putc(&b, ',');
    lw_buf_append_c(&b, payload);
    lw_buf_putc(&b, ']');
    free(patched);
    push_frame(st, &b);
    uint64_t now = st_mono(st);
    st->inflight.active = true;
    copy_str(st->inflight.id, sizeof st->inflight.id, idbuf);
    st->inflight.msg = m;
    st->inflight.sent_at = now;
    st->inflight.deadline = now + (uint64_t)cfg_int(st, V_MSG_TIMEOUT) * 1000u;
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
int lw_station_on_message(lw_station_t *st, const char *text, size_t len)
{
    trace(st, false, text, len);
    cJSON *f = cJSON_ParseWithLength(text, len);
    if (!cJSON_IsArray(f) || cJSON_GetArraySize(f) < 3) {
        cJSON_Delete(f);
        return LW_EPARSE;
    }
    cJSON *t = cJSON_GetArrayItem(f, 0), *id = cJSON_GetArrayItem(f, 1);
    if (!cJSON_IsNumber(t) || !cJSON_IsString(id)) {
        cJSON_Delete(f);
        return LW_EPARSE;
    }
    int type = (int)t->valuedouble;
    const char *msgid = id->valuestring;
    int rc = 0;
    if (type == 2) {
        cJSON *action = cJSON_GetArrayItem(f, 2), *payload = cJSON_GetArrayItem(f, 3);
        if (!cJSON_IsString(action) || !cJSON_IsObject(payload)) {
            st_reply_error(st, msgid, is_v16(st) ? LW_OCPP_ERR_FORMAT : LW_OCPP_ERR_RPC_FRAMEWORK,
                           "CALL needs an action and an object payload");
            rc = LW_EPARSE;
        } else if (st->state == LW_STATION_REJECTED) {
            /* OCPP 1.6 §4.2.1 / 2.0.1 B03.FR.07: a rejected station does not answer */
        } else {
            calls_dispatch(st, msgid, action->valuestring, payload);
        }
    } else if (type == 3 || type == 4) {
        if (st->inflight.active && !strcmp(st->inflight.id, msgid)) {
            if (type == 3) {
                cJSON *payload = cJSON_GetArrayItem(f, 2);
                finish_inflight(st, payload, NULL);
            } else {
                cJSON *code = cJSON_GetArrayItem(f, 2);
                finish_inflight(st, NULL,
                                cJSON_IsString(code) ? code->valuestring : "GenericError");
            }
        }
        /* an answer to nothing we asked (late, after a timeout) is ignored */
    } else if (!is_v16(st)) {
        st_reply_error(st, msgid, LW_OCPP_ERR_MESSAGE_TYPE_NOT_SUPPORTED, "unknown message type");
        rc = LW_EPARSE;
    } else {
        rc = LW_EPARSE;
    }
    cJSON_Delete(f);
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
    if (st->inflight.active && now >= st->inflight.deadline) {
        /* no answer: a timeout counts as a failed attempt */
        finish_inflight(st, NULL, "Timeout");
    }
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
        if (st->inflight.active) AT(st->inflight.deadline);
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
    st->journal = cfg->journal;
    if (cfg->hooks) st->hooks = *cfg->hooks;
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

void lw_station_set_clock_skew(lw_station_t *st, int64_t skew_ms)
{
    st->skew_ms = skew_ms;
}
