/*
 * handlers/handlers.c — one thin handler per station-initiated action of OCPP 1.6 (with the
 * Security Whitepaper), 2.0.1 and 2.1. The session has already validated the request
 * against its schema; a handler reads what it needs, turns it into a store write through
 * the domain rules, and answers — after the commit for everything it stores, so an
 * acknowledged message is durable. Every frame (and so every message's full content) is
 * also in the journal; actions without their own table are kept there.
 *
 * Answers are built as JSON text and validated against the response schema by
 * lw_call_reply before they leave.
 */
#include "api/api.h"
#include "domain/domain.h"
#include "session/session.h"

#include "ladewerk/limits.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG "handler"

/* The request payload: a JSON object, its root token. */
#define REQ ((lw_jval_t)0)

/* ---- JSON helpers ------------------------------------------------------------------------- */

/* The request was validated by the codec and kept as tokens (call->doc): members are read
 * by name from there; an absent or mistyped member reads as absent. */
static lw_jval_t jget(lw_jdoc_t *d, lw_jval_t o, const char *k)
{
    return lw_jdoc_get(d, o, k);
}
static lw_str_t jstr(lw_jdoc_t *d, lw_jval_t o, const char *k)
{
    return lw_jdoc_str(d, lw_jdoc_get(d, o, k));
}
static int64_t jint(lw_jdoc_t *d, lw_jval_t o, const char *k, int64_t def)
{
    int64_t v;
    return lw_jdoc_int(d, lw_jdoc_get(d, o, k), &v) ? v : def;
}
static bool jbool(lw_jdoc_t *d, lw_jval_t o, const char *k)
{
    return lw_jdoc_is_true(d, lw_jdoc_get(d, o, k));
}
static int64_t jtime(lw_jdoc_t *d, lw_jval_t o, const char *k, int64_t def)
{
    int64_t t;
    lw_str_t s = jstr(d, o, k);
    return s.len && lw_time_parse(s, &t) == 0 ? t : def;
}
/* The unformatted JSON text of v as cJSON_PrintUnformatted prints it (how these values have
 * always been stored): copied without whitespace when that is the same text, else printed
 * through cJSON. Returns owned text (free with free()), or NULL when absent or out of memory. */
static char *jprint(lw_jdoc_t *d, lw_jval_t v)
{
    if (v == LW_JNONE) return NULL;
    lw_str_t raw = lw_jdoc_raw(d, v);
    lw_buf_t b;
    lw_buf_init(&b, raw.len + 1);
    if (lw_jdoc_compact(d, v, &b) == 0) return b.data;
    lw_buf_free(&b);
    cJSON *j = cJSON_ParseWithLength(raw.p, raw.len);
    char *t = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    return t;
}

/* cJSON readers for lw_handle_call_result (answers to CSMS-initiated CALLs: rare). */
static const cJSON *cj_get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}
static lw_str_t cj_str(const cJSON *o, const char *k)
{
    const cJSON *x = cj_get(o, k);
    return cJSON_IsString(x) ? lw_str_c(x->valuestring) : LW_STR_NULL;
}
static int64_t cj_int(const cJSON *o, const char *k, int64_t def)
{
    const cJSON *x = cj_get(o, k);
    return cJSON_IsNumber(x) ? (int64_t)x->valuedouble : def;
}
static bool cj_bool(const cJSON *o, const char *k)
{
    return cJSON_IsTrue(cj_get(o, k));
}
static int64_t cj_time(const cJSON *o, const char *k, int64_t def)
{
    int64_t t;
    lw_str_t s = cj_str(o, k);
    return s.len && lw_time_parse(s, &t) == 0 ? t : def;
}

static void now_text(lw_call_t *call, char out[32])
{
    lw_time_format(lw_clock_wall(lw_session_clock(call->session)), out, 32);
}

static void reply_c(lw_call_t *call, const char *json)
{
    lw_call_reply(call, json, strlen(json));
}
static void reply_buf(lw_call_t *call, lw_buf_t *b)
{
    if (!b->data) {
        lw_call_error(call, LW_OCPP_ERR_INTERNAL, "out of memory");
        return;
    }
    lw_call_reply(call, b->data, b->len);
}

/* Answer after a plain store commit: {} unless the write failed (then the station retries). */
static void after_commit_empty(lw_call_t *call)
{
    if (call->res.status && call->res.status != LW_ENOTFOUND && call->res.status != LW_EEXISTS) {
        lw_call_error(call, LW_OCPP_ERR_INTERNAL, "store error");
        return;
    }
    reply_c(call, "{}");
}

/* After a commit that must have succeeded: answers InternalError (the station retries) and
 * returns true when it did not. */
static bool store_failed(lw_call_t *call)
{
    if (!call->res.status) return false;
    lw_call_error(call, LW_OCPP_ERR_INTERNAL, "store error");
    return true;
}

/* Answer of a deduplicated transaction message: a retry gets the first answer as stored,
 * a first arrival the one built in call->tmp. */
static void reply_first_answer(lw_call_t *call)
{
    if (call->res.duplicate && call->res.answer.len)
        lw_call_reply(call, call->res.answer.p, call->res.answer.len);
    else
        reply_buf(call, &call->tmp);
}

static bool is16(const lw_call_t *call)
{
    return call->version == LW_OCPP_16;
}

/* Sampled values kept on the stack (beyond: in the arena) so that a usual message allocates
 * nothing for them. */
#define METER_BUF 16

/* The meter values of arr (1.6 meterValue / transactionData, 2.x meterValue) into vals, in
 * buf (METER_BUF entries) or with memory from arena (initialised here; free it after the
 * submit). On failure answers the call, frees the arena and returns false. */
static bool meter_values_of(lw_call_t *call, lw_jval_t arr, lw_arena_t *arena,
                            lw_meter_value_t *buf, lw_meter_value_t **vals, size_t *n)
{
    lw_arena_init(arena, 0);
    *vals = NULL;
    *n = 0;
    if (!lw_domain_meter_values(&call->doc, arr, call->version, arena, buf, METER_BUF, vals, n))
        return true;
    lw_arena_free(arena);
    lw_call_error(call, LW_OCPP_ERR_INTERNAL, "too many meter values");
    return false;
}

/* Active power in W from the newest Power.Active.Import sample, -1 when none was sent (for
 * the live chart of the operator API). */
static double power_of(const lw_meter_value_t *v, size_t n)
{
    double w = -1;
    int64_t at = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        if (!lw_str_eq_c(v[i].measurand, "Power.Active.Import") || v[i].timestamp_ms < at) continue;
        if (v[i].phase.len) continue; /* per-phase values: the total is what is charted */
        char num[64];
        size_t len = v[i].value.len < sizeof num - 1 ? v[i].value.len : sizeof num - 1;
        if (len) memcpy(num, v[i].value.p, len);
        num[len] = 0;
        char *end;
        double x = strtod(num, &end);
        if (end == num || !isfinite(x)) continue;
        w = lw_str_eq_c(v[i].unit, "kW") ? x * 1000 : x;
        at = v[i].timestamp_ms;
    }
    return w;
}

/* ---- BootNotification, Heartbeat, StatusNotification -------------------------------------- */

static void boot_done(lw_call_t *call)
{
    if (store_failed(call)) return;
    /* h_boot packs the answer: status in the low byte, a shed interval above it. */
    lw_reg_status_t reg = (lw_reg_status_t)(call->i64 & 0xff);
    uint32_t shed = (uint32_t)(call->i64 >> 8);
    const lw_config_t *cfg = lw_session_config(call->session);
    char now[32];
    now_text(call, now);
    /* OCPP 1.6 §4.2 / 2.0.1 B01.FR.*: interval is the heartbeat interval when Accepted and the
     * retry interval for Pending / Rejected; a shed boot gets its randomized interval. */
    uint32_t interval = shed                     ? shed
                        : reg == LW_REG_ACCEPTED ? cfg->heartbeat_interval_s
                                                 : cfg->boot_retry_interval_s;
    /* {"currentTime":"…","interval":N,"status":"…"}, appended (no printf on the hot path) */
    lw_buf_t *b = &call->tmp;
    int rc = lw_buf_append_c(b, "{\"currentTime\":\"");
    if (!rc) rc = lw_buf_append_c(b, now);
    if (!rc) rc = lw_buf_append_c(b, "\",\"interval\":");
    if (!rc) rc = lw_buf_append_u64(b, interval);
    if (!rc) rc = lw_buf_append_c(b, ",\"status\":\"");
    if (!rc) rc = lw_buf_append_c(b, lw_reg_status_name(reg));
    if (!rc) rc = lw_buf_append_c(b, "\"}");
    if (rc) lw_buf_free(b); /* reply_buf answers InternalError */
    lw_session_set_registration(call->session, reg);
    lw_log(LW_LOG_INFO, LOG, "station=%.*s event=boot status=%s%s", LW_STR_FMT(call->station),
           lw_reg_status_name(reg), shed ? " reason=boot_rate_limit" : "");
    reply_buf(call, &call->tmp);
}

static void boot_decide(lw_call_t *call)
{
    lw_jdoc_t *d = &call->doc;
    lw_jval_t r = lw_jdoc_root(d);
    lw_store_write_t w = {.kind = LW_W_BOOT, .station_id = call->station};
    w.u.boot.at_ms = call->rx_ms;
    if (is16(call)) {
        w.u.boot.vendor = jstr(d, r, "chargePointVendor");
        w.u.boot.model = jstr(d, r, "chargePointModel");
        w.u.boot.serial = jstr(d, r, "chargePointSerialNumber");
        if (!w.u.boot.serial.len) w.u.boot.serial = jstr(d, r, "chargeBoxSerialNumber");
        w.u.boot.firmware = jstr(d, r, "firmwareVersion");
        w.u.boot.iccid = jstr(d, r, "iccid");
        w.u.boot.imsi = jstr(d, r, "imsi");
        w.u.boot.meter_type = jstr(d, r, "meterType");
        w.u.boot.meter_serial = jstr(d, r, "meterSerialNumber");
    } else {
        lw_jval_t cs = jget(d, r, "chargingStation");
        w.u.boot.reason = jstr(d, r, "reason");
        w.u.boot.vendor = jstr(d, cs, "vendorName");
        w.u.boot.model = jstr(d, cs, "model");
        w.u.boot.serial = jstr(d, cs, "serialNumber");
        w.u.boot.firmware = jstr(d, cs, "firmwareVersion");
        lw_jval_t modem = jget(d, cs, "modem");
        w.u.boot.iccid = jstr(d, modem, "iccid");
        w.u.boot.imsi = jstr(d, modem, "imsi");
    }
    char *payload = jprint(d, r);
    w.u.boot.payload = lw_str_c(payload);
    lw_reg_status_t reg = lw_session_policy(call->session);
    /* Boot-storm shedding (boot-rate-limit): over this second's budget, a station the policy
     * accepts is answered Pending with a random interval, which OCPP 1.6 §4.2 and 2.0.1
     * B02 allow, so that the fleet comes back spread out. Its registration is unchanged. */
    uint32_t shed = reg == LW_REG_ACCEPTED ? lw_session_boot_shed(call->session) : 0;
    if (shed) reg = LW_REG_PENDING;
    w.u.boot.answered = reg;
    call->i64 = (int64_t)shed << 8 | (int64_t)reg;
    lw_call_store(call, &w, boot_done);
    free(payload);
}

/* The registration may have changed since the connection opened (an operator accepted a
 * Pending station): each BootNotification is answered by the store's current status. */
static void h_boot(lw_call_t *call)
{
    lw_call_policy_refresh(call, boot_decide);
}

static void h_heartbeat(lw_call_t *call)
{
    char now[32], buf[64];
    now_text(call, now);
    if (lw_session_seen_due(call->session)) { /* last seen: best effort, once a minute */
        lw_store_write_t w = {.kind = LW_W_STATION_CONN, .station_id = call->station};
        w.u.conn.online = true;
        w.u.conn.at_ms = call->rx_ms;
        lw_store_submit(lw_session_store(call->session), &w, NULL, NULL);
    }
    static const char head[] = "{\"currentTime\":\"";
    size_t n = strlen(now); /* 24: lw_time_format */
    memcpy(buf, head, sizeof head - 1);
    memcpy(buf + sizeof head - 1, now, n);
    memcpy(buf + sizeof head - 1 + n, "\"}", 2);
    lw_call_reply(call, buf, sizeof head - 1 + n + 2);
}

static void status_done(lw_call_t *call)
{
    lw_api_t *api = lw_session_api(call->session);
    if (api && !call->res.status && !call->res.duplicate) {
        lw_jdoc_t *d = &call->doc;
        lw_jval_t r = lw_jdoc_root(d);
        lw_api_event_status(api, call->station, is16(call) ? 0 : (int)jint(d, r, "evseId", 0),
                            (int)jint(d, r, "connectorId", 0),
                            jstr(d, r, is16(call) ? "status" : "connectorStatus"),
                            jstr(d, r, "errorCode"));
    }
    after_commit_empty(call);
}

static void h_status(lw_call_t *call)
{
    lw_jdoc_t *d = &call->doc;
    lw_jval_t r = lw_jdoc_root(d);
    lw_store_write_t w = {.kind = LW_W_STATUS, .station_id = call->station};
    w.u.status.connector_id = (int)jint(d, r, "connectorId", 0);
    w.u.status.at_ms = jtime(d, r, "timestamp", call->rx_ms);
    if (is16(call)) {
        w.u.status.status = jstr(d, r, "status");
        w.u.status.error_code = jstr(d, r, "errorCode");
        w.u.status.info = jstr(d, r, "info");
        w.u.status.vendor_id = jstr(d, r, "vendorId");
        w.u.status.vendor_error_code = jstr(d, r, "vendorErrorCode");
    } else {
        w.u.status.evse_id = (int)jint(d, r, "evseId", 0);
        w.u.status.status = jstr(d, r, "connectorStatus");
    }
    lw_call_store(call, &w, status_done);
}

/* ---- Authorize ---------------------------------------------------------------------------- */

/* Appends the idTagInfo (1.6) / idTokenInfo (2.x) object for the looked-up token. */
static void token_info(lw_call_t *call, lw_buf_t *b)
{
    const lw_config_t *cfg = lw_session_config(call->session);
    int64_t now = lw_clock_wall(lw_session_clock(call->session));
    const char *st =
        lw_domain_token_status(call->token_rc, &call->token, now, cfg->unknown_tokens_accept);
    lw_buf_printf(b, "{\"status\":\"%s\"", st);
    if (call->token_rc == 0) {
        char exp[32];
        if (call->token.expiry_ms > 0) lw_time_format(call->token.expiry_ms, exp, sizeof exp);
        if (is16(call)) {
            if (call->token.expiry_ms > 0) lw_buf_printf(b, ",\"expiryDate\":\"%s\"", exp);
            if (call->token.group_id[0]) {
                lw_buf_append_c(b, ",\"parentIdTag\":");
                lw_buf_append_json_str(b, lw_str_c(call->token.group_id));
            }
        } else {
            if (call->token.expiry_ms > 0) lw_buf_printf(b, ",\"cacheExpiryDateTime\":\"%s\"", exp);
            if (call->token.group_id[0]) {
                lw_buf_append_c(b, ",\"groupIdToken\":{\"idToken\":");
                lw_buf_append_json_str(b, lw_str_c(call->token.group_id));
                lw_buf_append_c(b, ",\"type\":");
                lw_buf_append_json_str(
                    b, lw_str_c(call->token.type[0] ? call->token.type : "Central"));
                lw_buf_putc(b, '}');
            }
        }
    }
    lw_buf_putc(b, '}');
}

/* The token to look up (1.6 idTag string, 2.x IdTokenType), or LW_STR_NULL when there is
 * none or none is needed (2.x NoAuthorization). */
static lw_str_t token_of(lw_call_t *call, lw_jval_t idtoken)
{
    lw_jdoc_t *d = &call->doc;
    if (idtoken == LW_JNONE) return LW_STR_NULL;
    if (is16(call)) return lw_jdoc_str(d, idtoken);
    lw_str_t type = jstr(d, idtoken, "type");
    if (lw_str_eq_c(type, "NoAuthorization")) return LW_STR_NULL;
    return jstr(d, idtoken, "idToken");
}

/* call->tmp := {"idTagInfo"|"idTokenInfo": <token_info>} (by version), or {} when !with. */
static void token_answer(lw_call_t *call, bool with)
{
    lw_buf_reset(&call->tmp);
    if (!with) {
        lw_buf_append_c(&call->tmp, "{}");
        return;
    }
    lw_buf_append_c(&call->tmp, is16(call) ? "{\"idTagInfo\":" : "{\"idTokenInfo\":");
    token_info(call, &call->tmp);
    lw_buf_putc(&call->tmp, '}');
}

static void authorize_done(lw_call_t *call)
{
    token_answer(call, true);
    reply_buf(call, &call->tmp);
}

static void h_authorize(lw_call_t *call)
{
    lw_jval_t tok = jget(&call->doc, REQ, is16(call) ? "idTag" : "idToken");
    lw_str_t t = token_of(call, tok);
    if (!t.p) {
        call->token_rc = 0; /* NoAuthorization: nothing to check */
        memset(&call->token, 0, sizeof call->token);
        call->token.status = LW_TOKEN_ACCEPTED;
        authorize_done(call);
        return;
    }
    lw_call_token_lookup(call, t, authorize_done);
}

/* ---- 1.6 transactions --------------------------------------------------------------------- */

static void start_done(lw_call_t *call)
{
    if (store_failed(call)) return;
    /* A retry gets the first answer's idTagInfo and the same transactionId. */
    lw_str_t info =
        call->res.duplicate && call->res.answer.len ? call->res.answer : lw_buf_view(&call->tmp);
    char *copy = lw_str_dup(info);
    lw_buf_reset(&call->tmp);
    lw_buf_printf(&call->tmp, "{\"idTagInfo\":%s,\"transactionId\":%lld}", copy ? copy : "{}",
                  (long long)call->res.tx_id);
    free(copy);
    if (!call->res.duplicate) lw_session_publish_tx(call->session, "started", call->res.tx_id, -1);
    reply_buf(call, &call->tmp);
}

static void start_looked_up(lw_call_t *call)
{
    lw_jdoc_t *d = &call->doc;
    lw_jval_t r = lw_jdoc_root(d);
    token_info(call, &call->tmp); /* the idTagInfo, kept with the transaction */
    lw_store_write_t w = {.kind = LW_W_TX_START, .station_id = call->station};
    w.u.tx_start.connector_id = (int)jint(d, r, "connectorId", 0);
    w.u.tx_start.id_tag = jstr(d, r, "idTag");
    w.u.tx_start.meter_start_wh = jint(d, r, "meterStart", 0);
    w.u.tx_start.at_ms = jtime(d, r, "timestamp", call->rx_ms);
    w.u.tx_start.reservation_id = (int)jint(d, r, "reservationId", -1);
    w.u.tx_start.answer = lw_buf_view(&call->tmp);
    lw_call_store(call, &w, start_done);
}

static void h_start16(lw_call_t *call)
{
    lw_call_token_lookup(call, jstr(&call->doc, REQ, "idTag"), start_looked_up);
}

static void stop_done(lw_call_t *call)
{
    /* A StopTransaction is always acknowledged, also for an unknown or -1 transaction: the
     * store keeps it in orphan_stops for reconciliation (tx_id 0). Only a failed commit
     * makes the station retry. */
    if (store_failed(call)) return;
    if (call->res.tx_id <= 0 && !call->res.duplicate)
        lw_log(LW_LOG_WARN, LOG, "station=%.*s event=stop_unknown_transaction tx=%lld kept=orphan",
               LW_STR_FMT(call->station), (long long)jint(&call->doc, REQ, "transactionId", 0));
    else if (!call->res.duplicate && call->res.tx_id > 0)
        lw_session_publish_tx(call->session, "ended", call->res.tx_id, 0);
    reply_first_answer(call);
}

static void stop_looked_up(lw_call_t *call)
{
    lw_jdoc_t *d = &call->doc;
    lw_jval_t r = lw_jdoc_root(d);
    token_answer(call, jget(d, r, "idTag") != LW_JNONE);
    lw_arena_t arena;
    lw_meter_value_t buf[METER_BUF], *vals;
    size_t n;
    if (!meter_values_of(call, jget(d, r, "transactionData"), &arena, buf, &vals, &n)) return;
    lw_store_write_t w = {.kind = LW_W_TX_STOP, .station_id = call->station};
    w.u.tx_stop.tx_id = jint(d, r, "transactionId", -1);
    w.u.tx_stop.id_tag = jstr(d, r, "idTag");
    w.u.tx_stop.meter_stop_wh = jint(d, r, "meterStop", 0);
    w.u.tx_stop.at_ms = jtime(d, r, "timestamp", call->rx_ms);
    w.u.tx_stop.reason = jstr(d, r, "reason");
    w.u.tx_stop.values = vals;
    w.u.tx_stop.n_values = n;
    w.u.tx_stop.answer = lw_buf_view(&call->tmp);
    lw_call_store(call, &w, stop_done);
    lw_arena_free(&arena);
}

static void h_stop16(lw_call_t *call)
{
    lw_str_t tag = jstr(&call->doc, REQ, "idTag");
    if (tag.len)
        lw_call_token_lookup(call, tag, stop_looked_up);
    else
        stop_looked_up(call);
}

/* ---- MeterValues (all versions) ----------------------------------------------------------- */

static void meter_done(lw_call_t *call)
{
    if (!call->res.status && !call->res.duplicate && call->i64 > 0) {
        double p;
        memcpy(&p, call->scratch, sizeof p);
        lw_session_publish_tx(call->session, "updated", call->i64, p);
    }
    after_commit_empty(call);
}

static void h_meter_values(lw_call_t *call)
{
    lw_jdoc_t *d = &call->doc;
    lw_jval_t r = lw_jdoc_root(d);
    lw_arena_t arena;
    lw_meter_value_t buf[METER_BUF], *vals;
    size_t n;
    if (!meter_values_of(call, jget(d, r, "meterValue"), &arena, buf, &vals, &n)) return;
    lw_store_write_t w = {.kind = LW_W_METER_VALUES, .station_id = call->station};
    if (is16(call)) {
        w.u.meter.connector_id = (int)jint(d, r, "connectorId", 0);
        w.u.meter.tx_id = jint(d, r, "transactionId", 0);
    } else {
        w.u.meter.evse_id = (int)jint(d, r, "evseId", 0);
    }
    w.u.meter.values = vals;
    w.u.meter.n_values = n;
    double p = power_of(vals, n);
    call->i64 = w.u.meter.tx_id;
    memcpy(call->scratch, &p, sizeof p);
    lw_call_store(call, &w, meter_done);
    lw_arena_free(&arena);
}

/* ---- 2.x TransactionEvent ----------------------------------------------------------------- */

static void txe_done(lw_call_t *call)
{
    if (call->res.status && call->res.status != LW_ENOTFOUND) {
        lw_call_error(call, LW_OCPP_ERR_INTERNAL, "store error");
        return;
    }
    if (!call->res.status && !call->res.duplicate && call->res.tx_id > 0) {
        lw_str_t et = jstr(&call->doc, REQ, "eventType");
        double p;
        memcpy(&p, call->scratch, sizeof p);
        lw_session_publish_tx(call->session,
                              lw_str_eq_c(et, "Started") ? "started"
                              : lw_str_eq_c(et, "Ended") ? "ended"
                                                         : "updated",
                              call->res.tx_id, p);
    }
    reply_first_answer(call);
}

static void txe_looked_up(lw_call_t *call)
{
    lw_jdoc_t *d = &call->doc;
    lw_jval_t r = lw_jdoc_root(d);
    lw_jval_t info = jget(d, r, "transactionInfo");
    lw_jval_t evse = jget(d, r, "evse");
    lw_jval_t tok = jget(d, r, "idToken");
    /* 2.0.1 E01.FR.* / C: idTokenInfo answers a TransactionEvent that carries an idToken. */
    token_answer(call, token_of(call, tok).p != NULL);
    lw_arena_t arena;
    lw_meter_value_t buf[METER_BUF], *vals;
    size_t n;
    if (!meter_values_of(call, jget(d, r, "meterValue"), &arena, buf, &vals, &n)) return;
    lw_store_write_t w = {.kind = LW_W_TX_EVENT, .station_id = call->station};
    w.u.tx_event.tx_uid = jstr(d, info, "transactionId");
    w.u.tx_event.event_type = jstr(d, r, "eventType");
    w.u.tx_event.seq_no = (int)jint(d, r, "seqNo", 0);
    w.u.tx_event.at_ms = jtime(d, r, "timestamp", call->rx_ms);
    w.u.tx_event.trigger_reason = jstr(d, r, "triggerReason");
    w.u.tx_event.offline = jbool(d, r, "offline");
    w.u.tx_event.evse_id = (int)jint(d, evse, "id", 0);
    w.u.tx_event.connector_id = (int)jint(d, evse, "connectorId", 0);
    w.u.tx_event.id_token = jstr(d, tok, "idToken");
    w.u.tx_event.id_token_type = jstr(d, tok, "type");
    w.u.tx_event.charging_state = jstr(d, info, "chargingState");
    w.u.tx_event.stopped_reason = jstr(d, info, "stoppedReason");
    w.u.tx_event.reservation_id = (int)jint(d, r, "reservationId", -1);
    w.u.tx_event.remote_start_id = (int)jint(d, info, "remoteStartId", -1);
    w.u.tx_event.values = vals;
    w.u.tx_event.n_values = n;
    w.u.tx_event.answer = lw_buf_view(&call->tmp);
    double p = power_of(vals, n);
    memcpy(call->scratch, &p, sizeof p);
    lw_call_store(call, &w, txe_done);
    lw_arena_free(&arena);
}

static void h_tx_event(lw_call_t *call)
{
    lw_str_t t = token_of(call, jget(&call->doc, REQ, "idToken"));
    if (t.p)
        lw_call_token_lookup(call, t, txe_looked_up);
    else
        txe_looked_up(call);
}

/* ---- notifications with their own tables -------------------------------------------------- */

/* After the status is stored: a "firmware.status" event for SSE and webhooks. */
static void fw_status_done(lw_call_t *call)
{
    lw_api_t *api = lw_session_api(call->session);
    if (api && !call->res.status)
        lw_api_event_firmware(api, call->station, call->scratch, jstr(&call->doc, REQ, "status"),
                              (int)jint(&call->doc, REQ, "requestId", -1));
    after_commit_empty(call);
}

static void fw_status(lw_call_t *call, const char *what)
{
    lw_store_write_t w = {.kind = LW_W_FW_STATUS, .station_id = call->station};
    lw_cstr_copy(call->scratch, sizeof call->scratch, what);
    w.u.fw_status.what = lw_str_c(what);
    w.u.fw_status.status = jstr(&call->doc, REQ, "status");
    w.u.fw_status.request_id = (int)jint(&call->doc, REQ, "requestId", -1);
    w.u.fw_status.at_ms = call->rx_ms;
    lw_call_store(call, &w, fw_status_done);
}
static void h_fw_status(lw_call_t *call)
{
    fw_status(call, "firmware");
}
static void h_diag_status(lw_call_t *call)
{
    fw_status(call, "diagnostics");
}
static void h_log_status(lw_call_t *call)
{
    fw_status(call, "log");
}
static void h_publish_status(lw_call_t *call)
{
    fw_status(call, "publish");
}

static void security_done(lw_call_t *call)
{
    lw_api_t *api = lw_session_api(call->session);
    if (api && !call->res.status)
        lw_api_event_security(api, call->station, jstr(&call->doc, REQ, "type"),
                              jstr(&call->doc, REQ, "techInfo"));
    after_commit_empty(call);
}

static void h_security_event(lw_call_t *call)
{
    lw_store_write_t w = {.kind = LW_W_SECURITY_EVENT, .station_id = call->station};
    w.u.security.type = jstr(&call->doc, REQ, "type");
    w.u.security.tech_info = jstr(&call->doc, REQ, "techInfo");
    w.u.security.at_ms = jtime(&call->doc, REQ, "timestamp", call->rx_ms);
    lw_call_store(call, &w, security_done);
}

static void dt_done(lw_call_t *call)
{
    if (store_failed(call)) return;
    /* No vendor extension is installed: the spec's answer is UnknownVendorId (1.6 §4.3,
     * 2.0.1 P01.FR.*); the data is stored. */
    reply_c(call, "{\"status\":\"UnknownVendorId\"}");
}

static void h_data_transfer(lw_call_t *call)
{
    lw_store_write_t w = {.kind = LW_W_DATA_TRANSFER, .station_id = call->station};
    w.u.data_transfer.vendor_id = jstr(&call->doc, REQ, "vendorId");
    w.u.data_transfer.message_id = jstr(&call->doc, REQ, "messageId");
    char *data = NULL;
    lw_jval_t d = jget(&call->doc, REQ, "data");
    if (lw_jdoc_type(&call->doc, d) == LW_JT_STRING)
        w.u.data_transfer.data = lw_jdoc_str(&call->doc, d);
    else if ((data = jprint(&call->doc, d)))
        w.u.data_transfer.data = lw_str_c(data);
    w.u.data_transfer.inbound = true;
    w.u.data_transfer.at_ms = call->rx_ms;
    lw_call_store(call, &w, dt_done);
    free(data);
}

/* ---- SignCertificate ---------------------------------------------------------------------- */

typedef struct {
    char station[LW_STATION_ID_MAX + 1];
} signed_ctx_t;

static void cert_signed_done(void *ud, int status, lw_str_t payload, lw_str_t code, lw_str_t desc)
{
    signed_ctx_t *sc = ud;
    lw_log(status ? LW_LOG_WARN : LW_LOG_INFO, LOG,
           "station=%s event=certificate_signed status=%s answer=%.*s%.*s", sc->station,
           lw_err_name(status), LW_STR_FMT(payload), LW_STR_FMT(code));
    (void)desc;
    free(sc);
}

static void h_sign_certificate(lw_call_t *call)
{
    const lw_config_t *cfg = lw_session_config(call->session);
    lw_str_t csr = jstr(&call->doc, REQ, "csr");
    char type[64]; /* copied: the request is freed with the answer */
    lw_str_copy(type, sizeof type, jstr(&call->doc, REQ, "certificateType"));
    lw_buf_t pem;
    lw_buf_init(&pem, 20000);
    char why[128] = "no CA configured (ca-cert, ca-key)";
    int rc = LW_ENOTSUP;
    char sid[LW_STATION_ID_MAX + 1];
    lw_str_copy(sid, sizeof sid, call->station);
    if (cfg->ca_cert[0] && csr.len <= LW_CSMS_CSR_MAX) {
        char *csr_c = lw_str_dup(csr); /* a view into the request: NUL-terminated copy */
        rc = csr_c ? lw_domain_sign_csr(cfg->ca_cert, cfg->ca_key, csr_c, sid, (int)cfg->cert_days,
                                        &pem, why, sizeof why)
                   : LW_ENOMEM;
        free(csr_c);
    }
    lw_store_write_t w = {.kind = LW_W_SECURITY_EVENT, .station_id = call->station};
    w.u.security.type = LW_STR("SignCertificateRequest");
    w.u.security.tech_info = lw_str_c(rc ? why : "CSR signed");
    w.u.security.at_ms = call->rx_ms;
    lw_store_submit(lw_session_store(call->session), &w, NULL, NULL);
    lw_session_t *s = call->session;
    /* Answer first (A02/A03: Accepted means the CSR will be processed), then send the
     * CertificateSigned CALL. */
    if (rc == 0) {
        lw_domain_cert_info_t ci;
        if (lw_domain_cert_info(lw_buf_view(&pem), &ci) == 0) {
            lw_store_write_t cw = {.kind = LW_W_CERT_ISSUED, .station_id = call->station};
            cw.u.cert.cert_type = lw_str_c(type[0] ? type : "ChargingStationCertificate");
            cw.u.cert.csr = csr;
            cw.u.cert.pem = lw_buf_view(&pem);
            cw.u.cert.serial = lw_str_c(ci.serial);
            cw.u.cert.subject = lw_str_c(ci.subject);
            cw.u.cert.not_before_ms = ci.not_before_ms;
            cw.u.cert.not_after_ms = ci.not_after_ms;
            cw.u.cert.at_ms = call->rx_ms;
            int src = lw_store_submit(lw_session_store(call->session), &cw, NULL, NULL);
            if (src)
                lw_log(LW_LOG_WARN, LOG, "station=%s event=cert_not_stored err=%s", sid,
                       lw_err_name(src));
        }
    }
    reply_c(call, rc ? "{\"status\":\"Rejected\"}" : "{\"status\":\"Accepted\"}");
    if (rc) {
        lw_log(LW_LOG_WARN, LOG, "station=%s event=sign_certificate_rejected reason=\"%s\"", sid,
               why);
        lw_buf_free(&pem);
        return;
    }
    lw_buf_t payload;
    lw_buf_init(&payload, 40000);
    lw_buf_append_c(&payload, "{\"certificateChain\":");
    lw_buf_append_json_str(&payload, lw_buf_view(&pem));
    if (type[0]) {
        lw_buf_append_c(&payload, ",\"certificateType\":");
        lw_buf_append_json_str(&payload, lw_str_c(type));
    }
    lw_buf_putc(&payload, '}');
    lw_buf_cstr(&payload);
    signed_ctx_t *sc = calloc(1, sizeof *sc);
    if (sc) {
        lw_cstr_copy(sc->station, sizeof sc->station, sid);
        int crc = payload.data
                      ? lw_session_call(s, "CertificateSigned", payload.data, cert_signed_done, sc)
                      : LW_ENOMEM;
        if (crc) {
            lw_log(LW_LOG_WARN, LOG, "station=%s event=certificate_signed_not_sent err=%s", sid,
                   lw_err_name(crc));
            free(sc);
        }
    }
    lw_buf_free(&payload);
    lw_buf_free(&pem);
}

/* ---- actions answered from their request alone (content kept in the journal) -------------- */

static void h_empty(lw_call_t *call)
{
    /* NotifyReport, NotifyEvent, NotifyMonitoringReport, NotifyChargingLimit,
     * ClearedChargingLimit, NotifyCustomerInformation, NotifyDisplayMessages,
     * ReservationStatusUpdate, ReportChargingProfiles, 2.1 NotifyDER*, BatterySwap,
     * NotifyPriorityCharging, NotifySettlement, ReportDERControl, ClosePeriodicEventStream:
     * their responses carry no required field; the request is in the journal. */
    reply_c(call, "{}");
}

static void h_status_only(lw_call_t *call, const char *status)
{
    char buf[64];
    snprintf(buf, sizeof buf, "{\"status\":\"%s\"}", status);
    reply_c(call, buf);
}
/* No ISO 15118 contract-certificate service is configured: Failed (2.0.1 M02/M03). */
static void h_get_15118(lw_call_t *call)
{
    reply_c(call, "{\"status\":\"Failed\",\"exiResponse\":\"\"}");
}
/* No OCSP responder is configured: Failed (2.0.1 M06). */
static void h_get_cert_status(lw_call_t *call)
{
    h_status_only(call, "Failed");
}
/* No smart-charging service computes schedules: the needs are stored, no schedule follows
 * (2.0.1 K15: Rejected = "no charging schedule will be provided"). */
static void h_ev_needs(lw_call_t *call)
{
    h_status_only(call, "Rejected");
}
static void h_ev_schedule(lw_call_t *call)
{
    h_status_only(call, "Accepted");
}
static void h_open_stream(lw_call_t *call)
{
    h_status_only(call, "Accepted"); /* SEND messages of the stream are validated and kept */
}
static void h_pull_schedule(lw_call_t *call)
{
    h_status_only(call, "Rejected"); /* no dynamic schedule is kept for the station */
}
static void h_vat(lw_call_t *call)
{
    /* No VAT validation service is configured. */
    lw_buf_append_c(&call->tmp, "{\"vatNumber\":");
    lw_buf_append_json_str(&call->tmp, jstr(&call->doc, REQ, "vatNumber"));
    if (jget(&call->doc, REQ, "evseId") != LW_JNONE)
        lw_buf_printf(&call->tmp, ",\"evseId\":%lld",
                      (long long)jint(&call->doc, REQ, "evseId", 0));
    lw_buf_append_c(&call->tmp, ",\"status\":\"Rejected\"}");
    reply_buf(call, &call->tmp);
}
static void h_cert_chain_status(lw_call_t *call)
{
    /* No OCSP/CRL service: every certificate asked about is answered Failed. */
    char now[32];
    now_text(call, now);
    lw_buf_append_c(&call->tmp, "{\"certificateStatus\":[");
    lw_jdoc_t *d = &call->doc;
    int i = 0;
    LW_JDOC_EACH(d, jget(d, REQ, "certificateStatusRequests"), it)
    {
        char *hash = jprint(d, jget(d, it, "certificateHashData"));
        lw_buf_printf(&call->tmp, "%s{\"certificateHashData\":%s,\"source\":", i++ ? "," : "",
                      hash ? hash : "{}");
        lw_buf_append_json_str(&call->tmp, jstr(d, it, "source"));
        lw_buf_printf(&call->tmp, ",\"status\":\"Failed\",\"nextUpdate\":\"%s\"}", now);
        free(hash);
    }
    lw_buf_append_c(&call->tmp, "]}");
    reply_buf(call, &call->tmp);
}

/* ---- 2.x device model: NotifyReport, NotifyEvent; reservations ---------------------------- */

/* Strings printed for one write (jprint), freed together after the submit copied them. */
typedef struct {
    char **p;
    size_t n, cap;
} strs_t;
static lw_str_t strs_keep(strs_t *k, char *t)
{
    if (!t) return LW_STR_NULL;
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 16;
        char **np = realloc(k->p, cap * sizeof *np);
        if (!np) {
            free(t);
            return LW_STR_NULL;
        }
        k->p = np, k->cap = cap;
    }
    k->p[k->n++] = t;
    return lw_str_c(t);
}
static void strs_free(strs_t *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->p[i]);
    free(k->p);
}

/* component / variable of a 2.x ComponentType / VariableType into a (views into d). */
static void comp_var(lw_jdoc_t *d, lw_jval_t comp, lw_jval_t var, lw_dm_attr_t *a)
{
    a->component = jstr(d, comp, "name");
    a->component_inst = jstr(d, comp, "instance");
    lw_jval_t evse = jget(d, comp, "evse");
    a->evse_id = (int)jint(d, evse, "id", 0);
    a->connector_id = (int)jint(d, evse, "connectorId", 0);
    a->variable = jstr(d, var, "name");
    a->variable_inst = jstr(d, var, "instance");
}

static void h_notify_report(lw_call_t *call)
{
    lw_jdoc_t *d = &call->doc;
    lw_jval_t data = jget(d, REQ, "reportData");
    size_t n = 0;
    LW_JDOC_EACH(d, data, rd)
    {
        lw_jval_t va = jget(d, rd, "variableAttribute");
        n += lw_jdoc_type(d, va) == LW_JT_ARRAY ? lw_jdoc_count(d, va) : 0;
    }
    if (n == 0) { /* an empty report (tbc: true heads) has nothing to keep */
        reply_c(call, "{}");
        return;
    }
    if (n > LW_STORE_ITEMS_MAX) {
        /* Larger than one write takes: the rest stays in the journal only. */
        lw_log(LW_LOG_WARN, LOG, "station=%.*s event=notify_report_truncated attributes=%zu",
               LW_STR_FMT(call->station), n);
        n = LW_STORE_ITEMS_MAX;
    }
    lw_dm_attr_t *attrs = calloc(n, sizeof *attrs);
    strs_t keep = {0};
    if (!attrs) {
        lw_call_error(call, LW_OCPP_ERR_INTERNAL, "out of memory");
        return;
    }
    size_t i = 0;
    LW_JDOC_EACH(d, data, rd)
    {
        lw_jval_t chars = jget(d, rd, "variableCharacteristics");
        lw_str_t ch = chars != LW_JNONE ? strs_keep(&keep, jprint(d, chars)) : LW_STR_NULL;
        LW_JDOC_EACH(d, jget(d, rd, "variableAttribute"), va)
        {
            if (i == n) break;
            lw_dm_attr_t *a = &attrs[i++];
            comp_var(d, jget(d, rd, "component"), jget(d, rd, "variable"), a);
            a->attr_type = jstr(d, va, "type");
            a->value = jstr(d, va, "value");
            a->mutability = jstr(d, va, "mutability");
            a->characteristics = ch;
        }
    }
    lw_store_write_t w = {.kind = LW_W_DEVICE_MODEL, .station_id = call->station};
    w.u.device_model.attrs = attrs;
    w.u.device_model.n_attrs = i;
    w.u.device_model.at_ms = jtime(&call->doc, REQ, "generatedAt", call->rx_ms);
    lw_call_store(call, &w, after_commit_empty);
    free(attrs);
    strs_free(&keep);
}

static void h_notify_event(lw_call_t *call)
{
    lw_jdoc_t *d = &call->doc;
    lw_jval_t data = jget(d, REQ, "eventData");
    size_t n = lw_jdoc_type(d, data) == LW_JT_ARRAY ? lw_jdoc_count(d, data) : 0;
    if (n > LW_STORE_ITEMS_MAX) n = LW_STORE_ITEMS_MAX; /* the rest: journal only */
    if (n == 0) {
        reply_c(call, "{}");
        return;
    }
    lw_dm_event_t *ev = calloc(n, sizeof *ev);
    strs_t keep = {0};
    if (!ev) {
        lw_call_error(call, LW_OCPP_ERR_INTERNAL, "out of memory");
        return;
    }
    size_t i = 0;
    LW_JDOC_EACH(d, data, ed)
    {
        if (i == n) break;
        lw_dm_event_t *e = &ev[i++];
        e->event_id = (int)jint(d, ed, "eventId", 0);
        e->at_ms = jtime(d, ed, "timestamp", call->rx_ms);
        e->trigger = jstr(d, ed, "trigger");
        e->component = jstr(d, jget(d, ed, "component"), "name");
        e->variable = jstr(d, jget(d, ed, "variable"), "name");
        e->actual = jstr(d, ed, "actualValue");
        e->payload = strs_keep(&keep, jprint(d, ed));
    }
    lw_store_write_t w = {.kind = LW_W_DEVICE_EVENTS, .station_id = call->station};
    w.u.device_events.events = ev;
    w.u.device_events.n_events = i;
    lw_call_store(call, &w, after_commit_empty);
    free(ev);
    strs_free(&keep);
}

static void h_reservation_status(lw_call_t *call)
{
    /* 2.x H05: the reservation expired or was removed on the station. */
    lw_store_write_t w = {.kind = LW_W_RESERVATION_STATUS, .station_id = call->station};
    w.u.reservation_status.id = (int)jint(&call->doc, REQ, "reservationId", 0);
    w.u.reservation_status.status = jstr(&call->doc, REQ, "reservationUpdateStatus");
    lw_call_store(call, &w, after_commit_empty); /* unknown ids are answered too */
}

/* ---- what answered CSMS-initiated CALLs changed -------------------------------------------- */

static void submit_quiet(lw_session_t *s, const lw_store_write_t *w, const char *what)
{
    int rc = lw_store_submit(lw_session_store(s), w, NULL, NULL);
    if (rc)
        lw_log(LW_LOG_WARN, LOG, "station=%.*s event=%s_not_stored err=%s",
               LW_STR_FMT(w->station_id), what, lw_err_name(rc));
}

/* cJSON twin of comp_var for the answers to GetVariables / SetVariables. */
static void cj_comp_var(const cJSON *comp, const cJSON *var, lw_dm_attr_t *a)
{
    a->component = cj_str(comp, "name");
    a->component_inst = cj_str(comp, "instance");
    const cJSON *evse = cj_get(comp, "evse");
    a->evse_id = (int)cj_int(evse, "id", 0);
    a->connector_id = (int)cj_int(evse, "connectorId", 0);
    a->variable = cj_str(var, "name");
    a->variable_inst = cj_str(var, "instance");
}

static bool status_in(const cJSON *resp, const char *a, const char *b)
{
    lw_str_t st = cj_str(resp, "status");
    return lw_str_eq_c(st, a) || (b && lw_str_eq_c(st, b));
}

static void result_get_configuration(lw_session_t *s, lw_str_t station, const cJSON *req,
                                     const cJSON *resp, int64_t now)
{
    const cJSON *keys = cj_get(resp, "configurationKey"), *k;
    size_t n = (size_t)cJSON_GetArraySize(keys);
    if (n > LW_STORE_ITEMS_MAX) n = LW_STORE_ITEMS_MAX;
    lw_config_key_t *ks = n ? calloc(n, sizeof *ks) : NULL;
    if (n && !ks) return;
    size_t i = 0;
    cJSON_ArrayForEach(k, keys)
    {
        if (i == n) break;
        lw_config_key_t *c = &ks[i++];
        c->key = cj_str(k, "key");
        const cJSON *v = cj_get(k, "value");
        c->value = cJSON_IsString(v) ? lw_str_c(v->valuestring) : LW_STR_NULL;
        c->no_value = !cJSON_IsString(v);
        c->readonly = cj_bool(k, "readonly");
    }
    /* Asked for every key (no "key" list): the answer is the station's whole list. */
    lw_store_write_t w = {.kind = LW_W_CONFIG_KEYS, .station_id = station};
    w.u.config_keys.keys = ks;
    w.u.config_keys.n_keys = i;
    w.u.config_keys.replace_all = cJSON_GetArraySize(cj_get(req, "key")) == 0;
    w.u.config_keys.at_ms = now;
    if (i || w.u.config_keys.replace_all) submit_quiet(s, &w, "config_keys");
    free(ks);
}

static void result_change_configuration(lw_session_t *s, lw_str_t station, const cJSON *req,
                                        const cJSON *resp, int64_t now)
{
    if (!status_in(resp, "Accepted", "RebootRequired")) return;
    lw_config_key_t k = {.key = cj_str(req, "key"), .value = cj_str(req, "value")};
    lw_store_write_t w = {.kind = LW_W_CONFIG_KEYS, .station_id = station};
    w.u.config_keys.keys = &k;
    w.u.config_keys.n_keys = 1;
    w.u.config_keys.at_ms = now;
    submit_quiet(s, &w, "config_keys");
}

/* 2.x GetVariables results / SetVariables data that the station accepted. */
static void result_variables(lw_session_t *s, lw_str_t station, const cJSON *req, const cJSON *resp,
                             bool set, int64_t now)
{
    const cJSON *res = cj_get(resp, set ? "setVariableResult" : "getVariableResult"), *r;
    size_t n = (size_t)cJSON_GetArraySize(res);
    if (n == 0 || n > LW_STORE_ITEMS_MAX) return;
    lw_dm_attr_t *attrs = calloc(n, sizeof *attrs);
    if (!attrs) return;
    size_t i = 0;
    cJSON_ArrayForEach(r, res)
    {
        if (!lw_str_eq_c(cj_str(r, "attributeStatus"), "Accepted")) continue;
        lw_dm_attr_t *a = &attrs[i];
        cj_comp_var(cj_get(r, "component"), cj_get(r, "variable"), a);
        a->attr_type = cj_str(r, "attributeType");
        if (!set) {
            a->value = cj_str(r, "attributeValue");
        } else {
            /* The value set is in the request entry for the same component and variable. */
            const cJSON *d;
            bool found = false;
            cJSON_ArrayForEach(d, cj_get(req, "setVariableData"))
            {
                lw_dm_attr_t b = {0};
                cj_comp_var(cj_get(d, "component"), cj_get(d, "variable"), &b);
                if (lw_str_eq(a->component, b.component) &&
                    lw_str_eq(a->component_inst, b.component_inst) && a->evse_id == b.evse_id &&
                    a->connector_id == b.connector_id && lw_str_eq(a->variable, b.variable) &&
                    lw_str_eq(a->variable_inst, b.variable_inst) &&
                    lw_str_eq(a->attr_type, cj_str(d, "attributeType"))) {
                    a->value = cj_str(d, "attributeValue");
                    found = true;
                    break;
                }
            }
            if (!found) continue;
        }
        i++;
    }
    if (i) {
        lw_store_write_t w = {.kind = LW_W_DEVICE_MODEL, .station_id = station};
        w.u.device_model.attrs = attrs;
        w.u.device_model.n_attrs = i;
        w.u.device_model.at_ms = now;
        submit_quiet(s, &w, "device_model");
    }
    free(attrs);
}

static void result_reserve(lw_session_t *s, lw_str_t station, bool v16, const cJSON *req,
                           const cJSON *resp, int64_t now)
{
    lw_store_write_t w = {.kind = LW_W_RESERVATION_PUT, .station_id = station};
    w.u.reservation.status = cj_str(resp, "status");
    w.u.reservation.at_ms = now;
    int64_t t;
    if (v16) {
        w.u.reservation.id = (int)cj_int(req, "reservationId", 0);
        w.u.reservation.connector_id = (int)cj_int(req, "connectorId", 0);
        w.u.reservation.id_token = cj_str(req, "idTag");
        w.u.reservation.group_id = cj_str(req, "parentIdTag");
        w.u.reservation.expiry_ms = lw_time_parse(cj_str(req, "expiryDate"), &t) == 0 ? t : now;
    } else {
        w.u.reservation.id = (int)cj_int(req, "id", 0);
        w.u.reservation.evse_id = (int)cj_int(req, "evseId", 0);
        w.u.reservation.id_token = cj_str(cj_get(req, "idToken"), "idToken");
        w.u.reservation.group_id = cj_str(cj_get(req, "groupIdToken"), "idToken");
        w.u.reservation.expiry_ms = lw_time_parse(cj_str(req, "expiryDateTime"), &t) == 0 ? t : now;
    }
    if (w.u.reservation.id > 0) submit_quiet(s, &w, "reservation");
}

static void result_profile(lw_session_t *s, lw_str_t station, bool v16, const cJSON *req,
                           const cJSON *resp, int64_t now)
{
    const cJSON *p = cj_get(req, v16 ? "csChargingProfiles" : "chargingProfile");
    char *text = cJSON_PrintUnformatted(p);
    if (!text) return;
    lw_store_write_t w = {.kind = LW_W_PROFILE_PUT, .station_id = station};
    w.u.profile.profile_id = (int)cj_int(p, v16 ? "chargingProfileId" : "id", 0);
    if (v16)
        w.u.profile.connector_id = (int)cj_int(req, "connectorId", 0);
    else
        w.u.profile.evse_id = (int)cj_int(req, "evseId", 0);
    w.u.profile.stack_level = (int)cj_int(p, "stackLevel", 0);
    w.u.profile.purpose = cj_str(p, "chargingProfilePurpose");
    w.u.profile.kind = cj_str(p, "chargingProfileKind");
    w.u.profile.tx_id = v16 ? cj_int(p, "transactionId", 0) : 0;
    w.u.profile.valid_from_ms = cj_time(p, "validFrom", 0);
    w.u.profile.valid_to_ms = cj_time(p, "validTo", 0);
    w.u.profile.profile = lw_str_c(text);
    w.u.profile.status = cj_str(resp, "status");
    w.u.profile.at_ms = now;
    submit_quiet(s, &w, "charging_profile");
    cJSON_free(text);
}

void lw_handle_call_result(lw_session_t *s, const char *action, lw_str_t request, lw_str_t response)
{
    cJSON *req = cJSON_ParseWithLength(request.p, request.len);
    cJSON *resp = cJSON_ParseWithLength(response.p, response.len);
    if (!req || !resp) goto out;
    lw_str_t station = LW_STR_NULL;
    char sid[LW_STATION_ID_MAX + 1];
    lw_session_station_id(s, sid, sizeof sid);
    station = lw_str_c(sid);
    bool v16 = lw_session_version(s) == LW_OCPP_16;
    int64_t now = lw_clock_wall(lw_session_clock(s));
    if (!strcmp(action, "GetConfiguration")) {
        result_get_configuration(s, station, req, resp, now);
    } else if (!strcmp(action, "ChangeConfiguration")) {
        result_change_configuration(s, station, req, resp, now);
    } else if (!strcmp(action, "GetVariables")) {
        result_variables(s, station, req, resp, false, now);
    } else if (!strcmp(action, "SetVariables")) {
        result_variables(s, station, req, resp, true, now);
    } else if (!strcmp(action, "ReserveNow")) {
        result_reserve(s, station, v16, req, resp, now);
    } else if (!strcmp(action, "CancelReservation")) {
        if (status_in(resp, "Accepted", NULL)) {
            lw_store_write_t w = {.kind = LW_W_RESERVATION_STATUS, .station_id = station};
            w.u.reservation_status.id = (int)cj_int(req, "reservationId", 0);
            w.u.reservation_status.status = LW_STR("Cancelled");
            submit_quiet(s, &w, "reservation");
        }
    } else if (!strcmp(action, "SetChargingProfile")) {
        result_profile(s, station, v16, req, resp, now);
    } else if (!strcmp(action, "ClearChargingProfile")) {
        int64_t id = cj_int(req, v16 ? "id" : "chargingProfileId", 0);
        if (id > 0 && status_in(resp, "Accepted", NULL)) {
            lw_store_write_t w = {.kind = LW_W_PROFILE_STATUS, .station_id = station};
            w.u.profile_status.profile_id = (int)id;
            w.u.profile_status.status = LW_STR("Cleared");
            w.u.profile_status.at_ms = now;
            submit_quiet(s, &w, "charging_profile");
        }
    }
out:
    cJSON_Delete(req);
    cJSON_Delete(resp);
}

/* ---- dispatch ----------------------------------------------------------------------------- */

typedef struct {
    const char *action;
    unsigned versions; /* bit per lw_ocpp_version_t */
    void (*fn)(lw_call_t *call);
} route_t;

#define V16  (1u << LW_OCPP_16)
#define V2X  ((1u << LW_OCPP_201) | (1u << LW_OCPP_21))
#define VALL (V16 | V2X)
#define V21  (1u << LW_OCPP_21)

static const route_t routes[] = {
    {"BootNotification", VALL, h_boot},
    {"Heartbeat", VALL, h_heartbeat},
    {"StatusNotification", VALL, h_status},
    {"Authorize", VALL, h_authorize},
    {"StartTransaction", V16, h_start16},
    {"StopTransaction", V16, h_stop16},
    {"MeterValues", VALL, h_meter_values},
    {"TransactionEvent", V2X, h_tx_event},
    {"DataTransfer", VALL, h_data_transfer},
    {"FirmwareStatusNotification", VALL, h_fw_status},
    {"SignedFirmwareStatusNotification", V16, h_fw_status},
    {"DiagnosticsStatusNotification", V16, h_diag_status},
    {"LogStatusNotification", VALL, h_log_status},
    {"PublishFirmwareStatusNotification", V2X, h_publish_status},
    {"SecurityEventNotification", VALL, h_security_event},
    {"SignCertificate", VALL, h_sign_certificate},
    {"Get15118EVCertificate", V2X, h_get_15118},
    {"GetCertificateStatus", V2X, h_get_cert_status},
    {"GetCertificateChainStatus", V21, h_cert_chain_status},
    {"NotifyEVChargingNeeds", V2X, h_ev_needs},
    {"NotifyEVChargingSchedule", V2X, h_ev_schedule},
    {"OpenPeriodicEventStream", V21, h_open_stream},
    {"PullDynamicScheduleUpdate", V21, h_pull_schedule},
    {"VatNumberValidation", V21, h_vat},
    {"NotifyReport", V2X, h_notify_report},
    {"NotifyEvent", V2X, h_notify_event},
    {"ReservationStatusUpdate", V2X, h_reservation_status},
};

bool lw_handlers_has_route(lw_ocpp_version_t v, const char *action)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if ((routes[i].versions & (1u << v)) && !strcmp(routes[i].action, action)) return true;
    return false;
}

void lw_handle_call(lw_call_t *call)
{
    const char *name = call->action->name;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if ((routes[i].versions & (1u << call->version)) && !strcmp(routes[i].action, name)) {
            routes[i].fn(call);
            return;
        }
    /* Every other station-initiated action: a notification whose response has no required
     * field (checked: lw_call_reply validates "{}" against the response schema, and a unit
     * test walks every action of every version). */
    h_empty(call);
}
