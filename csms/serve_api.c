/*
 * serve_api.c — the operator side of `ladewerk serve` (see serve_api.h): the backend table
 * of the REST API (csms/api/api.h) filled from store reads and writes and the session layer,
 * the durable command table (the store's commands, numbered by the API), and the operator
 * listener: one loop thread that takes HTTP requests, runs lw_api_handle on libuv's thread
 * pool (it blocks on store reads), answers back on the loop, and feeds Server-Sent Events
 * streams when events are published.
 */
#include "serve_api.h"

#include "api/api.h"
#include "auth/auth.h"
#include "ladewerk/limits.h"
#include "ladewerk/net.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define LOG "api"

/* Idle SSE streams get a comment this often, so proxies and clients see the line alive. */
#define SSE_KEEPALIVE_MS 15000
/* Buffer for one flush of events to one stream. */
#define SSE_CHUNK_MAX (256 * 1024)

typedef struct stream {
    struct stream *next, *prev;
    lw_conn_t *conn;
    uint64_t cursor;
    uint64_t last_write_ms;
} stream_t;

struct lw_serve_api {
    lw_config_t cfg;
    lw_store_t *store;
    _Atomic(lw_csms_t *) csms;
    lw_api_t *api;
    lw_net_threads_t *threads;
    lw_net_loop_t *loop;
    lw_server_t *server;
    uv_timer_t tick;
    atomic_int port;
    atomic_bool flush_posted;
    atomic_bool stopping;
    atomic_int nstreams; /* SSE streams open (written on the loop thread) */
    stream_t *streams;   /* loop thread only */
    int pending;         /* requests on the thread pool (loop thread only) */
};

/* True on the API's worker threads while lw_api_handle runs: there, command_save may wait
 * for its commit (the API persists a command before sending it); elsewhere (session loops,
 * the tick) it must not block. */
static _Thread_local bool in_worker;

/* ---- records ---------------------------------------------------------------------------- */

/* Copies src into dst, truncated to n - 1 bytes (the API's fields are shorter than some of
 * the store's; every value that matters fits). */
static void copy_cstr(char *dst, size_t n, const char *src)
{
    size_t len = src ? strnlen(src, n - 1) : 0;
    if (len) memcpy(dst, src, len);
    dst[len] = 0;
}

static void station_to_api(lw_serve_api_t *sa, const lw_station_rec_t *r, lw_api_station_t *o)
{
    memset(o, 0, sizeof *o);
    copy_cstr(o->id, sizeof o->id, r->id);
    lw_csms_t *csms = atomic_load(&sa->csms);
    o->online = csms ? lw_csms_online(csms, r->id, NULL) : false;
    copy_cstr(o->ocpp_version, sizeof o->ocpp_version, r->ocpp_version);
    copy_cstr(o->vendor, sizeof o->vendor, r->vendor);
    copy_cstr(o->model, sizeof o->model, r->model);
    copy_cstr(o->serial, sizeof o->serial, r->serial);
    copy_cstr(o->firmware_version, sizeof o->firmware_version, r->firmware);
    o->security_profile = r->security_profile;
    o->has_password = r->has_password;
    copy_cstr(o->registration, sizeof o->registration, lw_reg_status_name(r->reg_status));
    o->created_ms = r->created_ms;
    o->last_boot_ms = r->last_boot_ms;
    o->last_seen_ms = r->last_seen_ms;
}

static void tx_to_api(const lw_tx_rec_t *r, lw_api_tx_t *o)
{
    memset(o, 0, sizeof *o);
    o->id = r->id;
    copy_cstr(o->tx_uid, sizeof o->tx_uid, r->tx_uid);
    copy_cstr(o->station_id, sizeof o->station_id, r->station_id);
    o->evse_id = r->evse_id;
    o->connector_id = r->connector_id;
    copy_cstr(o->id_token, sizeof o->id_token, r->id_token);
    o->active = r->state == LW_TX_ACTIVE;
    o->start_ms = r->start_ms;
    o->stop_ms = r->stop_ms;
    o->meter_start_wh = r->meter_start_wh;
    o->meter_stop_wh = r->meter_stop_wh;
    /* Energy is only known from a start register: without one it is not billed. */
    o->energy_wh = r->meter_start_wh >= 0 ? r->energy_wh : -1;
    copy_cstr(o->stop_reason, sizeof o->stop_reason, r->stop_reason);
}

static void token_to_api(const lw_id_token_rec_t *r, lw_api_id_token_t *o)
{
    memset(o, 0, sizeof *o);
    copy_cstr(o->id_token, sizeof o->id_token, r->id_token);
    copy_cstr(o->type, sizeof o->type, r->type);
    copy_cstr(o->status, sizeof o->status, lw_token_status_name(r->status));
    o->expiry_ms = r->expiry_ms;
    copy_cstr(o->group_id, sizeof o->group_id, r->group_id);
}

/* ---- backend: tokens ---------------------------------------------------------------------- */

static int64_t now_wall(void)
{
    return lw_clock_wall(lw_clock_real());
}

static int b_token_check(void *ctx, lw_str_t presented, lw_api_role_t *role)
{
    lw_serve_api_t *sa = ctx;
    lw_api_token_rec_t rec;
    int rc = lw_store_api_token_check(sa->store, presented, &rec);
    if (rc) return rc == LW_ENOTFOUND ? LW_EAUTH : rc;
    *role = (lw_api_role_t)rec.role;
    return 0;
}

static int b_token_create(void *ctx, lw_api_role_t role, lw_str_t name, char *text, size_t textsz,
                          int64_t *id)
{
    lw_serve_api_t *sa = ctx;
    if (textsz < LW_AUTH_TOKEN_TEXT_MAX) return LW_EINVAL;
    lw_store_write_t w = {.kind = LW_W_API_TOKEN_PUT};
    if (lw_auth_token_new(text, w.u.api_token.hash)) return LW_EIO;
    w.u.api_token.role = (lw_role_t)role;
    w.u.api_token.name = name;
    w.u.api_token.at_ms = now_wall();
    lw_store_result_t res;
    int rc = lw_store_submit_wait(sa->store, &w, &res);
    if (rc) return rc;
    *id = res.row_id;
    return 0;
}

typedef struct {
    void *ud;
    union {
        int (*token)(void *, const lw_api_token_t *);
        int (*station)(void *, const lw_api_station_t *);
        int (*connector)(void *, const lw_api_connector_t *);
        int (*tx)(void *, const lw_api_tx_t *);
        int (*meter)(void *, const lw_api_meter_t *);
        int (*journal)(void *, const lw_api_journal_t *);
        int (*id_token)(void *, const lw_api_id_token_t *);
        int (*fw_status)(void *, const lw_api_fw_status_t *);
    } each;
    lw_serve_api_t *sa;
} relay_t;

static int relay_token(void *ud, const lw_api_token_rec_t *r)
{
    relay_t *rl = ud;
    lw_api_token_t t = {.id = r->id,
                        .role = (lw_api_role_t)r->role,
                        .created_ms = r->created_ms,
                        .revoked_ms = r->revoked_ms};
    copy_cstr(t.name, sizeof t.name, r->name);
    return rl->each.token(rl->ud, &t);
}

static int b_token_list(void *ctx, int (*each)(void *ud, const lw_api_token_t *t), void *ud)
{
    lw_serve_api_t *sa = ctx;
    relay_t rl = {.ud = ud, .each.token = each};
    return lw_store_api_token_list(sa->store, relay_token, &rl);
}

static int b_token_revoke(void *ctx, int64_t id)
{
    lw_serve_api_t *sa = ctx;
    lw_store_write_t w = {.kind = LW_W_API_TOKEN_REVOKE};
    w.u.api_revoke.id = id;
    w.u.api_revoke.at_ms = now_wall();
    lw_store_result_t res;
    return lw_store_submit_wait(sa->store, &w, &res);
}

/* ---- backend: stations -------------------------------------------------------------------- */

static int b_station_get(void *ctx, lw_str_t id, lw_api_station_t *out)
{
    lw_serve_api_t *sa = ctx;
    lw_station_rec_t r;
    int rc = lw_store_station_get(sa->store, id, &r);
    if (rc) return rc;
    station_to_api(sa, &r, out);
    return 0;
}

static int relay_station(void *ud, const lw_station_rec_t *r)
{
    relay_t *rl = ud;
    lw_api_station_t s;
    station_to_api(rl->sa, r, &s);
    return rl->each.station(rl->ud, &s);
}

static int b_station_list(void *ctx, lw_str_t after, size_t limit,
                          int (*each)(void *ud, const lw_api_station_t *s), void *ud)
{
    lw_serve_api_t *sa = ctx;
    relay_t rl = {.ud = ud, .each.station = each, .sa = sa};
    return lw_store_station_list(sa->store, after, limit, relay_station, &rl);
}

static int b_station_put(void *ctx, const lw_api_station_put_t *p)
{
    lw_serve_api_t *sa = ctx;
    lw_store_write_t w = {.kind = LW_W_STATION_PUT, .station_id = p->id};
    w.u.station_put.must_not_exist = p->must_not_exist;
    w.u.station_put.set_profile = p->set_profile;
    w.u.station_put.security_profile = p->security_profile;
    w.u.station_put.set_password = p->set_password;
    w.u.station_put.password = p->password;
    if (p->set_registration) {
        char reg[16];
        lw_str_copy(reg, sizeof reg, p->registration);
        if (lw_reg_status_parse(reg, &w.u.station_put.reg_status)) return LW_EINVAL;
        w.u.station_put.set_reg_status = true;
    }
    lw_store_result_t res;
    return lw_store_submit_wait(sa->store, &w, &res);
}

static int b_station_delete(void *ctx, lw_str_t id)
{
    lw_serve_api_t *sa = ctx;
    lw_store_write_t w = {.kind = LW_W_STATION_DELETE, .station_id = id};
    lw_store_result_t res;
    return lw_store_submit_wait(sa->store, &w, &res);
}

static int relay_connector(void *ud, const lw_connector_status_rec_t *r)
{
    relay_t *rl = ud;
    lw_api_connector_t c = {
        .evse_id = r->evse_id, .connector_id = r->connector_id, .updated_ms = r->at_ms};
    copy_cstr(c.status, sizeof c.status, r->status);
    copy_cstr(c.error_code, sizeof c.error_code, r->error_code);
    return rl->each.connector(rl->ud, &c);
}

static int b_connector_list(void *ctx, lw_str_t station,
                            int (*each)(void *ud, const lw_api_connector_t *c), void *ud)
{
    lw_serve_api_t *sa = ctx;
    relay_t rl = {.ud = ud, .each.connector = each};
    return lw_store_connector_status_list(sa->store, station, relay_connector, &rl);
}

/* ---- backend: transactions, meter values, id tokens, journal ------------------------------ */

static int b_tx_get(void *ctx, int64_t id, lw_api_tx_t *out)
{
    lw_serve_api_t *sa = ctx;
    lw_tx_rec_t r;
    int rc = lw_store_tx_get(sa->store, id, &r);
    if (rc) return rc;
    tx_to_api(&r, out);
    return 0;
}

static int relay_tx(void *ud, const lw_tx_rec_t *r)
{
    relay_t *rl = ud;
    lw_api_tx_t t;
    tx_to_api(r, &t);
    return rl->each.tx(rl->ud, &t);
}

static int b_tx_list(void *ctx, const lw_api_tx_filter_t *f,
                     int (*each)(void *ud, const lw_api_tx_t *t), void *ud)
{
    lw_serve_api_t *sa = ctx;
    lw_tx_filter_t sf = {.station_id = f->station_id,
                         .state = f->state < 0    ? -1
                                  : f->state == 0 ? LW_TX_ACTIVE
                                                  : LW_TX_ENDED,
                         .before_id = f->before_id,
                         .limit = f->limit};
    relay_t rl = {.ud = ud, .each.tx = each};
    return lw_store_tx_list(sa->store, &sf, relay_tx, &rl);
}

static int relay_meter(void *ud, const lw_meter_value_t *v)
{
    relay_t *rl = ud;
    lw_api_meter_t m = {.timestamp_ms = v->timestamp_ms,
                        .value = v->value,
                        .measurand = v->measurand,
                        .phase = v->phase,
                        .unit = v->unit,
                        .context = v->context};
    return rl->each.meter(rl->ud, &m);
}

static int b_meter_list(void *ctx, int64_t tx_id, size_t limit,
                        int (*each)(void *ud, const lw_api_meter_t *m), void *ud)
{
    lw_serve_api_t *sa = ctx;
    relay_t rl = {.ud = ud, .each.meter = each};
    return lw_store_meter_list(sa->store, tx_id, limit, relay_meter, &rl);
}

static int b_id_token_get(void *ctx, lw_str_t id_token, lw_api_id_token_t *out)
{
    lw_serve_api_t *sa = ctx;
    lw_id_token_rec_t r;
    int rc = lw_store_id_token_get(sa->store, id_token, &r);
    if (rc) return rc;
    token_to_api(&r, out);
    return 0;
}

static int b_id_token_put(void *ctx, const lw_api_id_token_t *t, bool must_not_exist)
{
    lw_serve_api_t *sa = ctx;
    lw_id_token_rec_t old;
    /* The store's write is an upsert: existence is checked here (the API serializes nothing,
     * so two concurrent creates of one token may both succeed; the second wins). */
    int rc = lw_store_id_token_get(sa->store, lw_str_c(t->id_token), &old);
    if (rc && rc != LW_ENOTFOUND) return rc;
    if (must_not_exist && rc == 0) return LW_EEXISTS;
    if (!must_not_exist && rc == LW_ENOTFOUND) return LW_ENOTFOUND;
    lw_store_write_t w = {.kind = LW_W_ID_TOKEN_PUT, .station_id = LW_STR("")};
    w.u.id_token.id_token = lw_str_c(t->id_token);
    w.u.id_token.type = lw_str_c(t->type);
    w.u.id_token.group_id = lw_str_c(t->group_id);
    if (lw_token_status_parse(t->status[0] ? t->status : "Accepted", &w.u.id_token.status))
        return LW_EINVAL;
    w.u.id_token.expiry_ms = t->expiry_ms;
    lw_store_result_t res;
    return lw_store_submit_wait(sa->store, &w, &res);
}

static int relay_id_token(void *ud, const lw_id_token_rec_t *r)
{
    relay_t *rl = ud;
    lw_api_id_token_t t;
    token_to_api(r, &t);
    return rl->each.id_token(rl->ud, &t);
}

static int b_id_token_list(void *ctx, lw_str_t after, size_t limit,
                           int (*each)(void *ud, const lw_api_id_token_t *t), void *ud)
{
    lw_serve_api_t *sa = ctx;
    relay_t rl = {.ud = ud, .each.id_token = each};
    return lw_store_id_token_list(sa->store, after, limit, relay_id_token, &rl);
}

static int b_id_token_delete(void *ctx, lw_str_t id_token)
{
    lw_serve_api_t *sa = ctx;
    lw_store_write_t w = {.kind = LW_W_ID_TOKEN_DELETE, .station_id = LW_STR("")};
    w.u.id_token.id_token = id_token;
    lw_store_result_t res;
    return lw_store_submit_wait(sa->store, &w, &res);
}

static int relay_fw_status(void *ud, const lw_fw_status_rec_t *r)
{
    relay_t *rl = ud;
    lw_api_fw_status_t f = {.seq = r->seq, .request_id = r->request_id, .at_ms = r->at_ms};
    copy_cstr(f.what, sizeof f.what, r->what);
    copy_cstr(f.status, sizeof f.status, r->status);
    return rl->each.fw_status(rl->ud, &f);
}

static int b_fw_status_list(void *ctx, lw_str_t station, int64_t before_seq, size_t limit,
                            int (*each)(void *ud, const lw_api_fw_status_t *s), void *ud)
{
    lw_serve_api_t *sa = ctx;
    relay_t rl = {.ud = ud, .each.fw_status = each};
    return lw_store_fw_status_list(sa->store, station, before_seq, limit, relay_fw_status, &rl);
}

static int relay_journal(void *ud, const lw_journal_rec_t *r)
{
    relay_t *rl = ud;
    lw_api_journal_t j = {.seq = r->seq,
                          .inbound = r->inbound,
                          .msg_type = r->msg_type,
                          .msg_id = r->msg_id,
                          .action = r->action,
                          .payload = r->payload,
                          .at_ms = r->at_ms};
    return rl->each.journal(rl->ud, &j);
}

static int b_journal_list(void *ctx, lw_str_t station, int64_t before_seq, size_t limit,
                          int (*each)(void *ud, const lw_api_journal_t *j), void *ud)
{
    lw_serve_api_t *sa = ctx;
    relay_t rl = {.ud = ud, .each.journal = each};
    return lw_store_journal_list(sa->store, station, before_seq, limit, relay_journal, &rl);
}

/* ---- backend: commands -------------------------------------------------------------------- */

typedef struct {
    lw_serve_api_t *sa;
    uint64_t cmd_id;
} call_ud_t;

static void call_done(void *ud, int status, lw_str_t payload, lw_str_t error_code,
                      lw_str_t description)
{
    call_ud_t *cu = ud;
    lw_api_t *api = cu->sa->api;
    switch (status) {
    case 0:
        lw_api_command_done(api, cu->cmd_id, LW_API_CMD_ANSWERED, payload, LW_STR_NULL,
                            LW_STR_NULL);
        break;
    case LW_EPROTO:
        lw_api_command_done(api, cu->cmd_id, LW_API_CMD_FAILED, LW_STR_NULL, error_code,
                            description);
        break;
    case LW_ETIMEDOUT:
        lw_api_command_done(api, cu->cmd_id, LW_API_CMD_FAILED, LW_STR_NULL, LW_STR("Timeout"),
                            LW_STR("the station did not answer in time"));
        break;
    case LW_ECLOSED:
        lw_api_command_done(api, cu->cmd_id, LW_API_CMD_FAILED, LW_STR_NULL, LW_STR("Disconnected"),
                            LW_STR("the station disconnected before it answered"));
        break;
    case LW_EBUSY:
        lw_api_command_done(api, cu->cmd_id, LW_API_CMD_FAILED, LW_STR_NULL, LW_STR("Busy"),
                            LW_STR("the station's call queue is full"));
        break;
    default:
        lw_api_command_done(api, cu->cmd_id, LW_API_CMD_FAILED, LW_STR_NULL, LW_STR("SendFailed"),
                            lw_str_c(lw_strerror(status)));
    }
    free(cu);
}

static int b_send_call(void *ctx, lw_str_t station, lw_str_t action, lw_str_t payload,
                       uint64_t cmd_id)
{
    lw_serve_api_t *sa = ctx;
    lw_csms_t *csms = atomic_load(&sa->csms);
    if (!csms || atomic_load(&sa->stopping)) return LW_ECLOSED;
    call_ud_t *cu = malloc(sizeof *cu);
    if (!cu) return LW_ENOMEM;
    *cu = (call_ud_t){sa, cmd_id};
    int rc = lw_csms_call(csms, station.p, action.p, payload.p, call_done, cu);
    if (rc) {
        free(cu);
        if (rc == LW_ENOTFOUND) return LW_ECLOSED; /* not connected: the command waits */
    }
    return rc;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

static int64_t jtime(const cJSON *o, const char *k)
{
    const char *s = jstr(o, k);
    int64_t t = 0;
    if (s) lw_time_parse(lw_str_c(s), &t);
    return t;
}

static int submit_maybe_wait(lw_serve_api_t *sa, const lw_store_write_t *w)
{
    if (in_worker) {
        lw_store_result_t res;
        return lw_store_submit_wait(sa->store, w, &res);
    }
    return lw_store_submit(sa->store, w, NULL, NULL);
}

/* The store keeps a command as a row of `commands` with the API's id. Every save inserts
 * the row (a no-op LW_EEXISTS after the first) and then sets its state; the store's queue is
 * FIFO, so the writes land in the order the API made them. */
static int b_command_save(void *ctx, uint64_t cmd_id, lw_str_t json)
{
    lw_serve_api_t *sa = ctx;
    cJSON *j = cJSON_ParseWithLength(json.p, json.len);
    if (!j) return LW_EPARSE;
    const char *station = jstr(j, "station_id"), *action = jstr(j, "action");
    const char *status = jstr(j, "status");
    char *request = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(j, "request"));
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(j, "response");
    char *response = resp && !cJSON_IsNull(resp) ? cJSON_PrintUnformatted(resp) : NULL;
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
    int64_t created = jtime(j, "created_at"), expires = jtime(j, "expires_at");
    int rc = LW_EINVAL;
    lw_cmd_status_t st;
    if (!station || !action || !status || !request || lw_cmd_status_parse(status, &st)) goto out;
    lw_store_write_t w = {.kind = LW_W_CMD_INSERT, .station_id = lw_str_c(station)};
    w.u.cmd.id = (int64_t)cmd_id;
    w.u.cmd.action = lw_str_c(action);
    w.u.cmd.payload = lw_str_c(request);
    int64_t ttl = (expires - created) / 1000;
    w.u.cmd.ttl_s = ttl > 0 ? ttl : 1;
    w.u.cmd.idempotency_key = lw_str_c(jstr(j, "idempotency_key"));
    w.u.cmd.at_ms = created;
    rc = submit_maybe_wait(sa, &w);
    if (rc == LW_EEXISTS) rc = 0;
    if (rc) goto out;
    /* The shortcut and the Idempotency-Key fingerprint, so that a restart restores the
     * command as it was (a retry with the same key then replays it instead of a 409). They
     * are set when the command is created (queued or sent) and never change after. */
    const char *via = jstr(j, "via"), *fp = jstr(j, "_fingerprint");
    if ((st == LW_CMD_QUEUED || st == LW_CMD_SENT) && ((via && *via) || (fp && *fp))) {
        lw_store_write_t m = {.kind = LW_W_CMD_META, .station_id = lw_str_c(station)};
        m.u.cmd_meta.id = (int64_t)cmd_id;
        m.u.cmd_meta.via = lw_str_c(via);
        m.u.cmd_meta.fingerprint = lw_str_c(fp);
        if ((rc = submit_maybe_wait(sa, &m)) != 0) goto out;
    }
    if (st == LW_CMD_QUEUED) goto out;
    lw_store_write_t u = {.kind = LW_W_CMD_UPDATE, .station_id = lw_str_c(station)};
    u.u.cmd_update.id = (int64_t)cmd_id;
    u.u.cmd_update.status = st;
    u.u.cmd_update.response = lw_str_c(response);
    u.u.cmd_update.error_code = lw_str_c(jstr(err, "code"));
    u.u.cmd_update.error_desc = lw_str_c(jstr(err, "detail"));
    u.u.cmd_update.at_ms = now_wall();
    rc = submit_maybe_wait(sa, &u);
    if (rc == LW_EEXISTS) rc = 0; /* already final in the store */
out:
    if (rc)
        lw_log(LW_LOG_WARN, LOG, "event=command_not_saved id=%llu err=%s",
               (unsigned long long)cmd_id, lw_err_name(rc));
    cJSON_free(request);
    cJSON_free(response);
    cJSON_Delete(j);
    return rc;
}

static void b_metrics(void *ctx, lw_api_metrics_t *out)
{
    lw_serve_api_t *sa = ctx;
    lw_csms_t *csms = atomic_load(&sa->csms);
    if (csms) lw_csms_metrics(csms, out);
    lw_store_stats_t st;
    lw_store_stats(sa->store, &st);
    out->store_commits = st.commits;
    out->store_commits_nosync = st.commits_nosync;
    out->store_commit_failures = st.commit_failures;
    out->store_replays = st.replays;
    out->store_cache_bytes = st.cache_bytes;
    out->store_memory_releases = st.memory_releases;
    out->store_commit_us_total = st.commit_us_total;
    out->store_commit_us_max = st.commit_us_max;
    for (int i = 0; i < LW_API_BATCH_BUCKETS && i < LW_STORE_BATCH_BUCKETS; i++)
        out->store_batch_hist[i] = st.batch_hist[i];
    _Static_assert(LW_API_SYNC_BUCKETS == LW_STORE_SYNC_BUCKETS, "sync buckets differ");
    out->store_syncs = st.syncs;
    out->store_sync_us_total = st.sync_us_total;
    out->store_sync_us_max = st.sync_us_max;
    for (int i = 0; i < LW_API_SYNC_BUCKETS; i++)
        out->store_sync_hist[i] = st.sync_hist[i];
    out->store_queue_depth = st.queue_depth;
    out->store_queue_max = st.queue_max;
}

/* ---- restoring the command table ---------------------------------------------------------- */

typedef struct {
    cJSON **cmd; /* newest first (descending ids) */
    size_t n, cap;
    int64_t last_id;
} saved_t;

static void add_time(cJSON *o, const char *k, int64_t ms)
{
    if (ms <= 0) {
        cJSON_AddNullToObject(o, k);
        return;
    }
    char t[40];
    lw_time_format(ms, t, sizeof t);
    cJSON_AddStringToObject(o, k, t);
}

static cJSON *parse_or_string(lw_str_t s)
{
    if (!s.len) return cJSON_CreateNull();
    cJSON *j = cJSON_ParseWithLength(s.p, s.len);
    if (j) return j;
    char *c = lw_str_dup(s);
    j = cJSON_CreateString(c ? c : "");
    free(c);
    return j;
}

/* The command as the API saved it (see lw_api_command_restore); via and the fingerprint are
 * filled in afterwards from lw_store_cmd_meta_list. */
static int restore_each(void *ud, const lw_cmd_rec_t *r)
{
    saved_t *sv = ud;
    if (sv->n == sv->cap) {
        size_t cap = sv->cap ? sv->cap * 2 : 64;
        cJSON **np = realloc(sv->cmd, cap * sizeof *np);
        if (!np) return 1;
        sv->cmd = np, sv->cap = cap;
    }
    cJSON *o = cJSON_CreateObject();
    if (!o) return 1;
    cJSON_AddNumberToObject(o, "id", (double)r->id);
    cJSON_AddStringToObject(o, "station_id", r->station_id);
    cJSON_AddStringToObject(o, "action", r->action);
    cJSON_AddStringToObject(o, "status", lw_cmd_status_name(r->status));
    cJSON_AddItemToObject(o, "request", parse_or_string(r->payload));
    cJSON_AddItemToObject(o, "response", parse_or_string(r->response));
    if (r->error_code[0]) {
        cJSON *e = cJSON_AddObjectToObject(o, "error");
        cJSON_AddStringToObject(e, "code", r->error_code);
        char *d = lw_str_dup(r->error_desc);
        cJSON_AddStringToObject(e, "detail", d ? d : "");
        free(d);
    }
    add_time(o, "created_at", r->created_ms);
    add_time(o, "expires_at", r->expires_ms);
    add_time(o, "sent_at", r->sent_ms);
    add_time(o, "finished_at", r->status >= LW_CMD_ANSWERED ? r->updated_ms : 0);
    if (r->idempotency_key[0]) cJSON_AddStringToObject(o, "idempotency_key", r->idempotency_key);
    sv->cmd[sv->n++] = o;
    sv->last_id = r->id;
    return 0;
}

static int64_t cmd_id_of(const cJSON *o)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
    return cJSON_IsNumber(id) ? (int64_t)id->valuedouble : 0;
}

typedef struct {
    saved_t *sv;
    int64_t last_id;
    size_t rows;
} meta_walk_t;

static int restore_meta(void *ud, int64_t id, lw_str_t via, lw_str_t fp)
{
    meta_walk_t *mw = ud;
    mw->last_id = id;
    mw->rows++;
    if (!via.len && !fp.len) return 0;
    /* binary search over the descending ids */
    size_t lo = 0, hi = mw->sv->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t m = cmd_id_of(mw->sv->cmd[mid]);
        if (m == id) {
            cJSON *o = mw->sv->cmd[mid];
            char *v = lw_str_dup(via), *f = lw_str_dup(fp);
            if (v && via.len) cJSON_AddStringToObject(o, "via", v);
            if (f && fp.len) cJSON_AddStringToObject(o, "_fingerprint", f);
            free(v);
            free(f);
            return 0;
        }
        if (m > id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* Puts the newest LW_API_COMMANDS_MAX stored commands back into the API, oldest first. */
static int restore_commands(lw_serve_api_t *sa)
{
    saved_t sv = {0};
    int rc = 0;
    while (sv.n < LW_API_COMMANDS_MAX) {
        size_t had = sv.n;
        rc = lw_store_cmd_list(sa->store, LW_STR(""), sv.last_id, LW_STORE_PAGE_MAX, restore_each,
                               &sv);
        if (rc || sv.n == had || sv.last_id <= 1) break;
    }
    /* via and fingerprints of the same commands, page by page down to the oldest kept */
    int64_t oldest = sv.n ? cmd_id_of(sv.cmd[sv.n - 1]) : 0;
    meta_walk_t mw = {.sv = &sv};
    while (!rc && sv.n) {
        size_t had = mw.rows;
        int mrc = lw_store_cmd_meta_list(sa->store, LW_STR(""), mw.last_id, LW_STORE_PAGE_MAX,
                                         restore_meta, &mw);
        if (mrc) {
            lw_log(LW_LOG_WARN, LOG, "event=command_meta_not_restored err=%s", lw_err_name(mrc));
            break;
        }
        if (mw.rows == had || mw.last_id <= oldest) break;
    }
    size_t restored = 0;
    for (size_t i = sv.n; i-- > 0;) {
        char *t = cJSON_PrintUnformatted(sv.cmd[i]);
        if (t && lw_api_command_restore(sa->api, lw_str_c(t)) == 0) restored++;
        cJSON_free(t);
        cJSON_Delete(sv.cmd[i]);
    }
    free(sv.cmd);
    if (restored) lw_log(LW_LOG_INFO, LOG, "event=commands_restored count=%zu", restored);
    return rc;
}

/* ---- life --------------------------------------------------------------------------------- */

int lw_serve_api_new(const lw_config_t *cfg, lw_store_t *store, lw_serve_api_t **out)
{
    lw_serve_api_t *sa = calloc(1, sizeof *sa);
    if (!sa) return LW_ENOMEM;
    sa->cfg = *cfg;
    sa->store = store;
    lw_api_backend_t be = {
        .ctx = sa,
        .token_check = b_token_check,
        .token_create = b_token_create,
        .token_list = b_token_list,
        .token_revoke = b_token_revoke,
        .station_get = b_station_get,
        .station_list = b_station_list,
        .station_put = b_station_put,
        .station_delete = b_station_delete,
        .connector_list = b_connector_list,
        .tx_get = b_tx_get,
        .tx_list = b_tx_list,
        .meter_list = b_meter_list,
        .id_token_get = b_id_token_get,
        .id_token_list = b_id_token_list,
        .id_token_put = b_id_token_put,
        .id_token_delete = b_id_token_delete,
        .journal_list = b_journal_list,
        .action_check = lw_api_codec_check,
        .send_call = b_send_call,
        .command_save = b_command_save,
        .metrics = b_metrics,
        .fw_status_list = b_fw_status_list,
    };
    sa->api = lw_api_new(&be, NULL);
    if (!sa->api) {
        free(sa);
        return LW_ENOMEM;
    }
    lw_api_set_command_ttl(sa->api, (int64_t)cfg->command_ttl_s * 1000);
    int rc = restore_commands(sa);
    if (rc) lw_log(LW_LOG_WARN, LOG, "event=commands_restore_failed err=%s", lw_err_name(rc));
    *out = sa;
    return 0;
}

lw_api_t *lw_serve_api_api(lw_serve_api_t *sa)
{
    return sa->api;
}

/* ---- the operator listener ---------------------------------------------------------------- */

typedef struct job {
    uv_work_t work;
    lw_serve_api_t *sa;
    lw_conn_t *conn;
    lw_api_request_t req;
    lw_api_header_t headers[LW_HTTP_HEADERS_MAX];
    char *copy; /* method, target, header names and values, body */
    lw_api_response_t res;
    int rc;
} job_t;

static void stream_write_events(lw_serve_api_t *sa, stream_t *st)
{
    lw_buf_t b;
    lw_buf_init(&b, SSE_CHUNK_MAX);
    for (;;) {
        lw_buf_reset(&b);
        int n = lw_api_events_read(sa->api, &st->cursor, &b);
        if (b.len) {
            if (lw_http_stream_write(st->conn, b.data, b.len)) break;
            st->last_write_ms = lw_clock_mono(lw_clock_real());
        }
        if (n != LW_ETOOBIG) break;
    }
    lw_buf_free(&b);
}

static void flush_streams(void *arg)
{
    lw_serve_api_t *sa = arg;
    atomic_store(&sa->flush_posted, false);
    for (stream_t *st = sa->streams; st; st = st->next)
        stream_write_events(sa, st);
}

/* Called on the publishing thread after each event: one flush is posted at a time, and
 * none while no stream is open (a stream reads what it missed when it opens: nstreams is
 * raised before that first read, and the event is in the ring before this check). */
static void on_event(void *ud)
{
    lw_serve_api_t *sa = ud;
    if (atomic_load(&sa->stopping) || !sa->loop) return;
    if (atomic_load(&sa->nstreams) == 0) return;
    if (atomic_exchange(&sa->flush_posted, true)) return;
    if (lw_net_loop_post(sa->loop, flush_streams, sa)) atomic_store(&sa->flush_posted, false);
}

static void job_work(uv_work_t *w)
{
    job_t *j = w->data;
    in_worker = true;
    j->rc = lw_api_handle(j->sa->api, &j->req, &j->res);
    in_worker = false;
}

static void job_after(uv_work_t *w, int status)
{
    job_t *j = w->data;
    lw_serve_api_t *sa = j->sa;
    sa->pending--;
    if (status || j->rc) {
        static const char body[] = "{\"error\":\"internal\",\"detail\":\"out of memory\"}";
        lw_http_respond(j->conn, 500, "Content-Type: application/json\r\n", body, sizeof body - 1);
    } else if (j->res.stream && !atomic_load(&sa->stopping)) {
        lw_buf_cstr(&j->res.headers);
        stream_t *st = calloc(1, sizeof *st);
        if (!st || lw_http_stream_start(j->conn, j->res.status,
                                        j->res.headers.data ? j->res.headers.data : "")) {
            free(st);
        } else {
            st->conn = j->conn;
            st->cursor = j->res.event_cursor;
            st->last_write_ms = lw_clock_mono(lw_clock_real());
            lw_conn_set_data(j->conn, st);
            st->next = sa->streams;
            if (st->next) st->next->prev = st;
            sa->streams = st;
            atomic_fetch_add(&sa->nstreams, 1);
            if (j->res.body.len) lw_http_stream_write(j->conn, j->res.body.data, j->res.body.len);
            stream_write_events(sa, st);
        }
    } else {
        lw_buf_cstr(&j->res.headers);
        lw_http_respond(j->conn, j->res.status, j->res.headers.data, j->res.body.data,
                        j->res.body.len);
    }
    lw_api_response_free(&j->res);
    free(j->copy);
    free(j);
}

static void on_request(lw_conn_t *c, const lw_http_request_t *r)
{
    lw_serve_api_t *sa = lw_server_data(lw_conn_server(c));
    lw_conn_set_data(c, NULL);
    job_t *j = calloc(1, sizeof *j);
    size_t total = r->method.len + r->target.len + r->body.len + 3;
    size_t nh = r->head ? r->head->nheaders : 0;
    if (nh > LW_HTTP_HEADERS_MAX) nh = LW_HTTP_HEADERS_MAX;
    for (size_t i = 0; i < nh; i++)
        total += r->head->headers[i].name.len + r->head->headers[i].value.len + 2;
    char *p = j ? malloc(total) : NULL;
    if (!p) {
        free(j);
        lw_http_respond(c, 503, NULL, NULL, 0);
        return;
    }
    j->copy = p;
    /* Every view is copied NUL-terminated (the request's views end with on_request). */
#define COPY(dst, src)                                                                             \
    do {                                                                                           \
        memcpy(p, (src).p ? (src).p : "", (src).len);                                              \
        (dst) = (lw_str_t){p, (src).len};                                                          \
        p[(src).len] = 0;                                                                          \
        p += (src).len + 1;                                                                        \
    } while (0)
    COPY(j->req.method, r->method);
    COPY(j->req.target, r->target);
    COPY(j->req.body, r->body);
    for (size_t i = 0; i < nh; i++) {
        COPY(j->headers[i].name, r->head->headers[i].name);
        COPY(j->headers[i].value, r->head->headers[i].value);
    }
#undef COPY
    j->req.headers = j->headers;
    j->req.nheaders = nh;
    j->work.data = j;
    j->sa = sa;
    j->conn = c;
    lw_api_response_init(&j->res);
    if (uv_queue_work(lw_net_loop_uv(sa->loop), &j->work, job_work, job_after)) {
        lw_api_response_free(&j->res);
        free(j->copy);
        free(j);
        lw_http_respond(c, 503, NULL, NULL, 0);
        return;
    }
    sa->pending++;
}

static void on_close(lw_conn_t *c, int code, lw_str_t reason)
{
    (void)code, (void)reason;
    lw_serve_api_t *sa = lw_server_data(lw_conn_server(c));
    stream_t *st = lw_conn_data(c);
    if (!st || !sa) return;
    if (st->prev)
        st->prev->next = st->next;
    else
        sa->streams = st->next;
    if (st->next) st->next->prev = st->prev;
    atomic_fetch_sub(&sa->nstreams, 1);
    free(st);
}

static void tick(uv_timer_t *t)
{
    lw_serve_api_t *sa = t->data;
    lw_api_tick(sa->api);
    uint64_t now = lw_clock_mono(lw_clock_real());
    for (stream_t *st = sa->streams; st; st = st->next)
        if (now - st->last_write_ms >= SSE_KEEPALIVE_MS) {
            static const char ka[] = ": keepalive\n\n";
            lw_http_stream_write(st->conn, ka, sizeof ka - 1);
            st->last_write_ms = now;
        }
}

static int loop_init(lw_net_loop_t *l, int index, void *ud)
{
    (void)index;
    lw_serve_api_t *sa = ud;
    sa->loop = l;
    static const lw_net_cbs_t cbs = {.on_request = on_request, .on_close = on_close};
    /* Firmware uploads are whole request bodies; the API answers 413 for large bodies on
     * every route but the file ones. */
    lw_server_config_t sc = {
        .host = sa->cfg.http_host,
        .port = sa->cfg.http_port,
        .http_body_max = LW_API_FILE_MAX,
    };
    int rc;
    if (sa->cfg.n_webhook_urls) {
        /* On this loop's thread, before it runs: the webhook client lives on this loop. */
        const char *urls[LW_CONFIG_WEBHOOKS_MAX];
        for (size_t i = 0; i < sa->cfg.n_webhook_urls; i++)
            urls[i] = sa->cfg.webhook_urls[i];
        rc = lw_api_webhooks_start(sa->api, lw_net_loop_uv(l), urls, sa->cfg.n_webhook_urls, NULL);
        if (rc) {
            lw_log(LW_LOG_ERROR, LOG, "event=webhooks_not_started err=%s", lw_err_name(rc));
            return rc;
        }
    }
    rc = lw_server_start(l, &sc, &cbs, sa, &sa->server);
    if (rc) {
        if (sa->cfg.n_webhook_urls) lw_api_webhooks_stop(sa->api);
        return rc;
    }
    atomic_store(&sa->port, lw_server_port(sa->server));
    if (!sa->cfg.public_url[0] && sa->cfg.http_port == 0) {
        /* the derived public URL needs the port just bound (http-listen port 0) */
        char url[LW_CONFIG_URL_MAX];
        rc = lw_config_public_url(&sa->cfg, lw_server_port(sa->server), url, sizeof url);
        if (rc == 0) rc = lw_api_set_files(sa->api, sa->cfg.files_dir, url);
        if (rc) lw_log(LW_LOG_ERROR, LOG, "event=files_not_configured err=%s", lw_err_name(rc));
    }
    uv_timer_init(lw_net_loop_uv(l), &sa->tick);
    sa->tick.data = sa;
    uv_timer_start(&sa->tick, tick, 1000, 1000);
    return 0;
}

int lw_serve_api_listen(lw_serve_api_t *sa, lw_csms_t *csms)
{
    /* Files first: a files-dir that cannot be made stops serve here, before it listens. With
     * http-listen port 0 the URL is set again in loop_init with the bound port. */
    char url[LW_CONFIG_URL_MAX];
    int frc = lw_config_public_url(&sa->cfg, sa->cfg.http_port, url, sizeof url);
    if (frc == 0) frc = lw_api_set_files(sa->api, sa->cfg.files_dir, url);
    if (frc) {
        lw_log(LW_LOG_ERROR, LOG, "event=files_dir_failed dir=%s public_url=%s err=%s",
               sa->cfg.files_dir, url, lw_err_name(frc));
        return frc;
    }
    lw_log(LW_LOG_INFO, LOG, "event=files dir=%s public_url=%s webhooks=%zu", sa->cfg.files_dir,
           url, sa->cfg.n_webhook_urls);
    atomic_store(&sa->csms, csms);
    lw_api_set_notify(sa->api, on_event, sa);
    int err = 0;
    sa->threads = lw_net_threads_start(1, loop_init, sa, &err);
    if (!sa->threads) return err ? err : LW_EIO;
    lw_log(LW_LOG_INFO, LOG, "event=listening http=%s:%d", sa->cfg.http_host,
           atomic_load(&sa->port));
    return 0;
}

int lw_serve_api_port(const lw_serve_api_t *sa)
{
    return atomic_load(&((lw_serve_api_t *)sa)->port);
}

static void tick_closed(uv_handle_t *h)
{
    (void)h;
}

static void loop_shutdown(void *arg)
{
    lw_serve_api_t *sa = arg;
    /* on the loop's thread; the loop then runs until the webhook handles have closed */
    if (sa->cfg.n_webhook_urls) lw_api_webhooks_stop(sa->api);
    uv_timer_stop(&sa->tick);
    uv_close((uv_handle_t *)&sa->tick, tick_closed);
    for (stream_t *st = sa->streams; st; st = st->next)
        lw_http_stream_end(st->conn);
    if (sa->server) lw_server_close(sa->server);
    sa->server = NULL;
}

void lw_serve_api_stop(lw_serve_api_t *sa)
{
    if (!sa || !sa->threads) return;
    atomic_store(&sa->stopping, true);
    lw_api_set_notify(sa->api, NULL, NULL);
    lw_net_loop_post(sa->loop, loop_shutdown, sa);
    lw_net_threads_stop(sa->threads); /* runs the loop until requests in flight are done */
    sa->threads = NULL;
    sa->loop = NULL;
}

void lw_serve_api_free(lw_serve_api_t *sa)
{
    if (!sa) return;
    lw_serve_api_stop(sa);
    lw_api_free(sa->api);
    free(sa);
}
