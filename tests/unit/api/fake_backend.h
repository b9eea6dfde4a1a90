/*
 * tests/unit/api/fake_backend.h — an in-memory lw_api_backend_t for the API's unit tests:
 * a few stations (1.6 online, 2.0.1 online, 1.6 offline), connectors, transactions with meter
 * samples, id tokens, a journal, three API tokens ("viewer-tok", "op-tok", "admin-tok") and
 * a codec check that knows a handful of actions and one rule per action. Header-only: each
 * test executable includes it once.
 */
#ifndef LW_TEST_FAKE_BACKEND_H
#define LW_TEST_FAKE_BACKEND_H

#include "api/api.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FK_MAX 16

typedef struct fake {
    lw_api_station_t st[FK_MAX];
    size_t nst;
    lw_api_connector_t conn[FK_MAX];
    size_t nconn;
    lw_api_tx_t tx[FK_MAX];
    size_t ntx;
    lw_api_id_token_t tok[FK_MAX];
    size_t ntok;
    /* last send_call */
    int sent;
    char sent_station[64], sent_action[64], sent_payload[2048];
    uint64_t sent_id;
    /* saved commands (last text per id, ids 1..FK_MAX*4) */
    char *saved[FK_MAX * 4];
    int saves;
    int64_t next_token_id;
    int revoked;
    bool done_inside_send; /* answer synchronously from send_call */
    lw_api_t *api;
} fake_t;

static fake_t *fk_from(void *ctx)
{
    return ctx;
}

static int fk_token_check(void *ctx, lw_str_t t, lw_api_role_t *role)
{
    (void)ctx;
    if (lw_str_eq_c(t, "viewer-tok")) return *role = LW_API_ROLE_VIEWER, 0;
    if (lw_str_eq_c(t, "op-tok")) return *role = LW_API_ROLE_OPERATOR, 0;
    if (lw_str_eq_c(t, "admin-tok")) return *role = LW_API_ROLE_ADMIN, 0;
    return LW_EAUTH;
}

static int fk_token_create(void *ctx, lw_api_role_t role, lw_str_t name, char *text, size_t n,
                           int64_t *id)
{
    fake_t *f = fk_from(ctx);
    *id = ++f->next_token_id;
    snprintf(text, n, "lw_new_%s_%lld", lw_api_role_name(role), (long long)*id);
    (void)name;
    return 0;
}

static int fk_token_list(void *ctx, int (*each)(void *, const lw_api_token_t *), void *ud)
{
    (void)ctx;
    lw_api_token_t t = {.id = 1, .role = LW_API_ROLE_ADMIN, .created_ms = 1700000000000};
    snprintf(t.name, sizeof t.name, "first");
    each(ud, &t);
    return 0;
}

static int fk_token_revoke(void *ctx, int64_t id)
{
    fake_t *f = fk_from(ctx);
    if (id != 1) return LW_ENOTFOUND;
    f->revoked++;
    return 0;
}

static lw_api_station_t *fk_station(fake_t *f, lw_str_t id)
{
    for (size_t i = 0; i < f->nst; i++)
        if (lw_str_eq_c(id, f->st[i].id)) return &f->st[i];
    return NULL;
}

static int fk_station_get(void *ctx, lw_str_t id, lw_api_station_t *out)
{
    lw_api_station_t *s = fk_station(fk_from(ctx), id);
    if (!s) return LW_ENOTFOUND;
    *out = *s;
    return 0;
}

static int fk_station_list(void *ctx, lw_str_t after, size_t limit,
                           int (*each)(void *, const lw_api_station_t *), void *ud)
{
    fake_t *f = fk_from(ctx);
    char a[64];
    snprintf(a, sizeof a, "%.*s", LW_STR_FMT(after));
    size_t n = 0;
    for (size_t i = 0; i < f->nst && n < limit; i++) /* kept sorted by id */
        if (strcmp(f->st[i].id, a) > 0) {
            n++;
            if (each(ud, &f->st[i])) break;
        }
    return 0;
}

static int fk_station_put(void *ctx, const lw_api_station_put_t *p)
{
    fake_t *f = fk_from(ctx);
    lw_api_station_t *s = fk_station(f, p->id);
    if (p->must_not_exist && s) return LW_EEXISTS;
    if (!p->must_not_exist && !s) return LW_ENOTFOUND;
    if (!s) {
        if (f->nst == FK_MAX) return LW_ETOOBIG;
        /* insert sorted */
        size_t i = 0;
        char id[LW_STATION_ID_MAX + 1];
        if (p->id.len > LW_STATION_ID_MAX) return LW_EINVAL;
        snprintf(id, sizeof id, "%.*s", LW_STR_FMT(p->id));
        while (i < f->nst && strcmp(f->st[i].id, id) < 0)
            i++;
        memmove(&f->st[i + 1], &f->st[i], (f->nst - i) * sizeof f->st[0]);
        f->nst++;
        s = &f->st[i];
        memset(s, 0, sizeof *s);
        snprintf(s->id, sizeof s->id, "%s", id);
        snprintf(s->registration, sizeof s->registration, "Accepted");
        s->created_ms = 1700000000000;
    }
    if (p->set_profile) s->security_profile = p->security_profile;
    if (p->set_password) s->has_password = p->password.len > 0;
    if (p->set_registration)
        snprintf(s->registration, sizeof s->registration, "%.*s", LW_STR_FMT(p->registration));
    return 0;
}

static int fk_station_delete(void *ctx, lw_str_t id)
{
    fake_t *f = fk_from(ctx);
    lw_api_station_t *s = fk_station(f, id);
    if (!s) return LW_ENOTFOUND;
    size_t i = (size_t)(s - f->st);
    memmove(&f->st[i], &f->st[i + 1], (f->nst - i - 1) * sizeof f->st[0]);
    f->nst--;
    return 0;
}

static int fk_connector_list(void *ctx, lw_str_t station,
                             int (*each)(void *, const lw_api_connector_t *), void *ud)
{
    fake_t *f = fk_from(ctx);
    /* connectors are stored with the station id in error_code's place? No: by index. */
    for (size_t i = 0; i < f->nconn; i++) {
        /* conn[i].error_code holds "station|code" for the test: split here */
        char sid[64];
        const char *bar = strchr(f->conn[i].error_code, '|');
        snprintf(sid, sizeof sid, "%.*s", (int)(bar - f->conn[i].error_code),
                 f->conn[i].error_code);
        if (!lw_str_eq_c(station, sid)) continue;
        lw_api_connector_t k = f->conn[i];
        snprintf(k.error_code, sizeof k.error_code, "%s", bar + 1);
        int r = each(ud, &k);
        if (r) return r;
    }
    return 0;
}

static int fk_tx_get(void *ctx, int64_t id, lw_api_tx_t *out)
{
    fake_t *f = fk_from(ctx);
    for (size_t i = 0; i < f->ntx; i++)
        if (f->tx[i].id == id) return *out = f->tx[i], 0;
    return LW_ENOTFOUND;
}

static int fk_tx_list(void *ctx, const lw_api_tx_filter_t *flt,
                      int (*each)(void *, const lw_api_tx_t *), void *ud)
{
    fake_t *f = fk_from(ctx);
    size_t n = 0;
    for (size_t k = f->ntx; k-- > 0 && n < flt->limit;) { /* newest first */
        const lw_api_tx_t *t = &f->tx[k];
        if (flt->station_id.len && !lw_str_eq_c(flt->station_id, t->station_id)) continue;
        if (flt->state == 0 && !t->active) continue;
        if (flt->state == 1 && t->active) continue;
        if (flt->before_id && t->id >= flt->before_id) continue;
        n++;
        if (each(ud, t)) break;
    }
    return 0;
}

static int fk_meter_list(void *ctx, int64_t tx_id, size_t limit,
                         int (*each)(void *, const lw_api_meter_t *), void *ud)
{
    (void)ctx;
    (void)limit;
    if (tx_id != 1) return 0;
    lw_api_meter_t m = {.timestamp_ms = 1700000060000,
                        .value = LW_STR("1500"),
                        .measurand = LW_STR("Energy.Active.Import.Register"),
                        .unit = LW_STR("Wh")};
    each(ud, &m);
    m.timestamp_ms = 1700000060000;
    m.value = LW_STR("7200.5");
    m.measurand = LW_STR("Power.Active.Import");
    m.unit = LW_STR("W");
    each(ud, &m);
    return 0;
}

static lw_api_id_token_t *fk_tok(fake_t *f, lw_str_t id)
{
    for (size_t i = 0; i < f->ntok; i++)
        if (lw_str_eq_c(id, f->tok[i].id_token)) return &f->tok[i];
    return NULL;
}

static int fk_id_token_get(void *ctx, lw_str_t id, lw_api_id_token_t *out)
{
    lw_api_id_token_t *t = fk_tok(fk_from(ctx), id);
    if (!t) return LW_ENOTFOUND;
    *out = *t;
    return 0;
}

static int fk_id_token_list(void *ctx, lw_str_t after, size_t limit,
                            int (*each)(void *, const lw_api_id_token_t *), void *ud)
{
    fake_t *f = fk_from(ctx);
    char a[64];
    snprintf(a, sizeof a, "%.*s", LW_STR_FMT(after));
    size_t n = 0;
    for (size_t i = 0; i < f->ntok && n < limit; i++)
        if (strcmp(f->tok[i].id_token, a) > 0) {
            n++;
            if (each(ud, &f->tok[i])) break;
        }
    return 0;
}

static int fk_id_token_put(void *ctx, const lw_api_id_token_t *t, bool must_not_exist)
{
    fake_t *f = fk_from(ctx);
    lw_api_id_token_t *x = fk_tok(f, lw_str_c(t->id_token));
    if (must_not_exist && x) return LW_EEXISTS;
    if (!must_not_exist && !x) return LW_ENOTFOUND;
    if (!x) {
        if (f->ntok == FK_MAX) return LW_ETOOBIG;
        x = &f->tok[f->ntok++];
    }
    *x = *t;
    return 0;
}

static int fk_id_token_delete(void *ctx, lw_str_t id)
{
    fake_t *f = fk_from(ctx);
    lw_api_id_token_t *t = fk_tok(f, id);
    if (!t) return LW_ENOTFOUND;
    size_t i = (size_t)(t - f->tok);
    memmove(&f->tok[i], &f->tok[i + 1], (f->ntok - i - 1) * sizeof f->tok[0]);
    f->ntok--;
    return 0;
}

/* Journal of CP16: newest first. seq 6 BootNotification in + answer (5,6 swapped in time),
 * seq 3/4 Reset out + CALLERROR in, seq 1 Heartbeat in without answer. */
static int fk_journal_list(void *ctx, lw_str_t station, int64_t before, size_t limit,
                           int (*each)(void *, const lw_api_journal_t *), void *ud)
{
    (void)ctx;
    if (!lw_str_eq_c(station, "CP16")) return 0;
    static const struct {
        int64_t seq;
        bool in;
        int type;
        const char *id, *action, *payload;
    } rows[] = {
        {6, false, 3, "b1", "", "{\"status\":\"Accepted\",\"interval\":300}"},
        {5, true, 2, "b1", "BootNotification", "{\"chargePointVendor\":\"V\"}"},
        {4, true, 4, "r1", "", "[\"NotSupported\",\"no\",{}]"},
        {3, false, 2, "r1", "Reset", "{\"type\":\"Hard\"}"},
        {1, true, 2, "h1", "Heartbeat", "{}"},
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0] && n < limit; i++) {
        if (before && rows[i].seq >= before) continue;
        lw_api_journal_t j = {.seq = rows[i].seq,
                              .inbound = rows[i].in,
                              .msg_type = rows[i].type,
                              .msg_id = lw_str_c(rows[i].id),
                              .action = lw_str_c(rows[i].action),
                              .payload = lw_str_c(rows[i].payload),
                              .at_ms = 1700000000000 + rows[i].seq * 1000};
        n++;
        if (each(ud, &j)) break;
    }
    return 0;
}

/* Knows a few CSMS-initiated actions; one schema rule each, enough to see the path. */
static int fk_action_check(void *ctx, lw_ocpp_version_t v, lw_str_t action, lw_str_t payload,
                           lw_api_check_err_t *err)
{
    (void)ctx;
    static const char *const a16[] = {"Reset",
                                      "RemoteStartTransaction",
                                      "RemoteStopTransaction",
                                      "ClearCache",
                                      "GetConfiguration",
                                      "ChangeConfiguration",
                                      "UnlockConnector",
                                      "TriggerMessage",
                                      "ChangeAvailability",
                                      NULL};
    static const char *const a2x[] = {"Reset",
                                      "RequestStartTransaction",
                                      "RequestStopTransaction",
                                      "ClearCache",
                                      "GetVariables",
                                      "SetVariables",
                                      "GetBaseReport",
                                      "UnlockConnector",
                                      NULL};
    bool known = false;
    for (const char *const *a = v == LW_OCPP_16 ? a16 : a2x; *a; a++)
        if (lw_str_eq_c(action, *a)) known = true;
    if (!known) return LW_ENOTFOUND;
    cJSON *j = cJSON_ParseWithLength(payload.p, payload.len);
    int rc = 0;
    if (!cJSON_IsObject(j)) {
        snprintf(err->path, sizeof err->path, "%s", "");
        snprintf(err->detail, sizeof err->detail, "type: not an object");
        rc = LW_ESCHEMA;
    } else if (lw_str_eq_c(action, "Reset")) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "type");
        const char *ok1 = v == LW_OCPP_16 ? "Hard" : "Immediate";
        const char *ok2 = v == LW_OCPP_16 ? "Soft" : "OnIdle";
        if (!cJSON_IsString(t) || (strcmp(t->valuestring, ok1) && strcmp(t->valuestring, ok2))) {
            snprintf(err->path, sizeof err->path, "type");
            snprintf(err->detail, sizeof err->detail, "enum: not one of the allowed values");
            rc = LW_ESCHEMA;
        }
    }
    cJSON_Delete(j);
    return rc;
}

static int fk_send_call(void *ctx, lw_str_t station, lw_str_t action, lw_str_t payload, uint64_t id)
{
    fake_t *f = fk_from(ctx);
    lw_api_station_t *s = fk_station(f, station);
    if (!s || !s->online) return LW_ECLOSED;
    f->sent++;
    snprintf(f->sent_station, sizeof f->sent_station, "%.*s", LW_STR_FMT(station));
    snprintf(f->sent_action, sizeof f->sent_action, "%.*s", LW_STR_FMT(action));
    snprintf(f->sent_payload, sizeof f->sent_payload, "%.*s", LW_STR_FMT(payload));
    f->sent_id = id;
    if (f->done_inside_send)
        lw_api_command_done(f->api, id, LW_API_CMD_ANSWERED, LW_STR("{\"status\":\"Accepted\"}"),
                            LW_STR_NULL, LW_STR_NULL);
    return 0;
}

static int fk_command_save(void *ctx, uint64_t id, lw_str_t json)
{
    fake_t *f = fk_from(ctx);
    if (id >= sizeof f->saved / sizeof f->saved[0]) return LW_ETOOBIG;
    free(f->saved[id]);
    f->saved[id] = lw_str_dup(json);
    f->saves++;
    return 0;
}

static const lw_api_metric_msgs_t fk_msgs[] = {{"BootNotification", "in", "ok", 3},
                                               {"Heartbeat", "in", "ok", 10}};
static const lw_api_metric_code_t fk_codes[] = {{"FormationViolation", 2}};
static const lw_api_metric_latency_t fk_lat[] = {
    {"Reset", {0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 1, 40000.0}};

static void fk_metrics(void *ctx, lw_api_metrics_t *m)
{
    (void)ctx;
    m->stations_connected[LW_OCPP_16] = 2;
    m->stations_connected[LW_OCPP_201] = 1;
    m->ws_upgrades_total = 5;
    m->auth_failures_total = 1;
    m->messages = fk_msgs;
    m->n_messages = 2;
    m->callerrors = fk_codes;
    m->n_callerrors = 1;
    m->call_latency = fk_lat;
    m->n_call_latency = 1;
    m->store_commits = 4;
    m->store_commits_nosync = 1;
    m->store_replays = 2;
    m->store_cache_bytes = 123456;
    m->store_memory_releases = 3;
    m->store_commit_us_total = 2000;
    m->store_batch_hist[0] = 3;
    m->store_batch_hist[2] = 1;
    m->store_syncs = 3;
    m->store_sync_us_total = 1500;
    m->store_sync_us_max = 30000;
    m->store_sync_hist[1] = 2; /* two ≤ 0.5 ms, one between 25 and 50 ms */
    m->store_sync_hist[7] = 1;
    m->store_queue_depth = 7;
    m->store_queue_max = 16384;
}

/* Firmware status history: CP16 has three rows (newest first by seq). */
static int fk_fw_status_list(void *ctx, lw_str_t station, int64_t before_seq, size_t limit,
                             int (*each)(void *ud, const lw_api_fw_status_t *s), void *ud)
{
    (void)ctx;
    static const struct {
        int64_t seq;
        const char *what, *status;
        int req;
    } rows[] = {{3, "diagnostics", "Uploaded", -1},
                {2, "firmware", "Installed", 7},
                {1, "firmware", "Downloading", 7}};
    if (!lw_str_eq_c(station, "CP16")) return 0;
    size_t n = 0;
    for (size_t i = 0; i < 3 && n < limit; i++) {
        if (before_seq && rows[i].seq >= before_seq) continue;
        lw_api_fw_status_t s = {.seq = rows[i].seq,
                                .request_id = rows[i].req,
                                .at_ms = 1700000000000 + rows[i].seq * 1000};
        snprintf(s.what, sizeof s.what, "%s", rows[i].what);
        snprintf(s.status, sizeof s.status, "%s", rows[i].status);
        n++;
        if (each(ud, &s)) break;
    }
    return 0;
}

static void fk_init(fake_t *f)
{
    memset(f, 0, sizeof *f);
    const struct {
        const char *id, *ver, *vendor;
        bool online;
    } st[] = {{"CP16", "1.6", "Alpha", true},
              {"CP201", "2.0.1", "Beta", true},
              {"CPNEW", "", "", false},
              {"CPOFF", "1.6", "Alpha", false}};
    for (size_t i = 0; i < 4; i++) {
        lw_api_station_t *s = &f->st[f->nst++];
        snprintf(s->id, sizeof s->id, "%s", st[i].id);
        snprintf(s->ocpp_version, sizeof s->ocpp_version, "%s", st[i].ver);
        snprintf(s->vendor, sizeof s->vendor, "%s", st[i].vendor);
        snprintf(s->model, sizeof s->model, "M1");
        snprintf(s->registration, sizeof s->registration, "Accepted");
        s->online = st[i].online;
        s->last_seen_ms = st[i].online ? 1700000000000 : 0;
    }
    const struct {
        const char *sid;
        int evse, conn;
        const char *status;
    } cn[] = {{"CP16", 0, 1, "Charging"},
              {"CP16", 0, 2, "Available"},
              {"CP201", 1, 1, "Available"},
              {"CPOFF", 0, 1, "Faulted"}};
    for (size_t i = 0; i < 4; i++) {
        lw_api_connector_t *k = &f->conn[f->nconn++];
        k->evse_id = cn[i].evse;
        k->connector_id = cn[i].conn;
        snprintf(k->status, sizeof k->status, "%s", cn[i].status);
        snprintf(k->error_code, sizeof k->error_code, "%s|NoError", cn[i].sid);
        k->updated_ms = 1700000000000;
    }
    lw_api_tx_t t1 = {.id = 1,
                      .evse_id = 0,
                      .connector_id = 1,
                      .active = false,
                      .start_ms = 1700000000000,
                      .stop_ms = 1700003600000,
                      .meter_start_wh = 1000,
                      .meter_stop_wh = 8000,
                      .energy_wh = 7000};
    snprintf(t1.station_id, sizeof t1.station_id, "CP16");
    snprintf(t1.id_token, sizeof t1.id_token, "TAG1");
    snprintf(t1.stop_reason, sizeof t1.stop_reason, "Local");
    lw_api_tx_t t2 = {.id = 2,
                      .evse_id = 1,
                      .connector_id = 1,
                      .active = true,
                      .start_ms = 1700007200000,
                      .meter_start_wh = 0,
                      .meter_stop_wh = -1,
                      .energy_wh = 250};
    snprintf(t2.station_id, sizeof t2.station_id, "CP201");
    snprintf(t2.tx_uid, sizeof t2.tx_uid, "uid-abc");
    snprintf(t2.id_token, sizeof t2.id_token, "=HYPERLINK(x)");
    f->tx[f->ntx++] = t1;
    f->tx[f->ntx++] = t2;
    lw_api_id_token_t k = {0};
    snprintf(k.id_token, sizeof k.id_token, "TAG1");
    snprintf(k.status, sizeof k.status, "Accepted");
    snprintf(k.type, sizeof k.type, "ISO14443");
    f->tok[f->ntok++] = k;
}

static void fk_free(fake_t *f)
{
    for (size_t i = 0; i < sizeof f->saved / sizeof f->saved[0]; i++)
        free(f->saved[i]);
}

static lw_api_backend_t fk_backend(fake_t *f)
{
    lw_api_backend_t b = {
        .ctx = f,
        .token_check = fk_token_check,
        .token_create = fk_token_create,
        .token_list = fk_token_list,
        .token_revoke = fk_token_revoke,
        .station_get = fk_station_get,
        .station_list = fk_station_list,
        .station_put = fk_station_put,
        .station_delete = fk_station_delete,
        .connector_list = fk_connector_list,
        .tx_get = fk_tx_get,
        .tx_list = fk_tx_list,
        .meter_list = fk_meter_list,
        .id_token_get = fk_id_token_get,
        .id_token_list = fk_id_token_list,
        .id_token_put = fk_id_token_put,
        .id_token_delete = fk_id_token_delete,
        .journal_list = fk_journal_list,
        .action_check = fk_action_check,
        .send_call = fk_send_call,
        .command_save = fk_command_save,
        .metrics = fk_metrics,
        .fw_status_list = fk_fw_status_list,
    };
    return b;
}

#endif
