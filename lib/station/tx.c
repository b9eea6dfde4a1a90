/*
 * tx.c — connectors, authorization and transactions: status notifications, the local
 * authorization list and cache, 1.6 StartTransaction / StopTransaction / MeterValues and
 * 2.x TransactionEvent (Started / Updated / Ended with seqNo), sampled and clock-aligned
 * meter values, reservations' expiry, and the energy register that integrates power over
 * the injected clock. Transaction messages go through st_call_tx (journaled).
 */
#include "station_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *names16[] = {"Available",   "Preparing",     "Charging",
                                "SuspendedEV", "SuspendedEVSE", "Finishing",
                                "Reserved",    "Unavailable",   "Faulted"};

const char *cstatus_name(const lw_station_t *st, cstatus_t s)
{
    if (is_v16(st)) return names16[s];
    switch (s) {
    case CS_AVAILABLE:
        return "Available";
    case CS_RESERVED:
        return "Reserved";
    case CS_UNAVAILABLE:
        return "Unavailable";
    case CS_FAULTED:
        return "Faulted";
    default:
        return "Occupied";
    }
}

static double station_max_w(const lw_station_t *st)
{
    return st->max_current * st->voltage * st->phases;
}

static cstatus_t compute_status(const lw_station_t *st, int c)
{
    if (c == 0) return st->station_operative ? CS_AVAILABLE : CS_UNAVAILABLE;
    const conn_t *k = &st->conn[c];
    if (k->faulted) return CS_FAULTED;
    if (k->tx.active) {
        if (k->suspended_evse) return CS_SUSPENDED_EVSE;
        if (k->power_w > 0) return CS_CHARGING;
        if (k->power_req_w > 0) return CS_SUSPENDED_EVSE; /* limited to 0 */
        return CS_SUSPENDED_EV;
    }
    if (!k->operative || !st->station_operative) return CS_UNAVAILABLE;
    if (k->plugged) return k->finishing ? CS_FINISHING : CS_PREPARING;
    if (k->reserved) return CS_RESERVED;
    if (k->auth_pending) return CS_PREPARING;
    return CS_AVAILABLE;
}

void tx_send_status(lw_station_t *st, int c)
{
    char ts[32];
    st_timestamp(st, ts);
    cstatus_t s = compute_status(st, c);
    cJSON *p = cJSON_CreateObject();
    if (is_v16(st)) {
        cJSON_AddNumberToObject(p, "connectorId", c);
        cJSON_AddStringToObject(p, "errorCode", "NoError");
        cJSON_AddStringToObject(p, "status", cstatus_name(st, s));
        cJSON_AddStringToObject(p, "timestamp", ts);
    } else {
        cJSON_AddStringToObject(p, "timestamp", ts);
        cJSON_AddStringToObject(p, "connectorStatus", cstatus_name(st, s));
        cJSON_AddNumberToObject(p, "evseId", c);
        cJSON_AddNumberToObject(p, "connectorId", 1);
    }
    st_call(st, "StatusNotification", p);
    st->conn[c].reported = s;
    st->conn[c].reported_valid = true;
}

void tx_update_status(lw_station_t *st, int c, bool force_send)
{
    if (c == 0 && !is_v16(st)) return;
    cstatus_t s = compute_status(st, c);
    conn_t *k = &st->conn[c];
    bool changed =
        !k->reported_valid || strcmp(cstatus_name(st, k->reported), cstatus_name(st, s)) != 0;
    if (!st_online(st)) {
        /* offline: the status is reported after the next boot (all connectors) */
        return;
    }
    if (force_send || changed) tx_send_status(st, c);
}

/* ---- energy and power ------------------------------------------------------------------- */
static void recompute_power(lw_station_t *st, int c)
{
    conn_t *k = &st->conn[c];
    double lim = smart_limit_w(st, c, st_wall(st));
    k->limit_w = lim;
    double cap = station_max_w(st);
    if (lim >= 0 && lim < cap) cap = lim;
    double p = k->tx.active && !k->suspended_evse && k->plugged ? k->power_req_w : 0;
    if (p > cap) p = cap;
    if (p < 0) p = 0;
    k->power_w = p;
}

void tx_integrate(lw_station_t *st, int c)
{
    conn_t *k = &st->conn[c];
    uint64_t now = st_mono(st);
    if (now > k->integrated_at)
        k->energy_wh += k->power_w * (double)(now - k->integrated_at) / 3600000.0;
    k->integrated_at = now;
    recompute_power(st, c);
}

/* ---- meter values ------------------------------------------------------------------------ */
static double round1(double v)
{
    return round(v * 10.0) / 10.0;
}

static void add_sample(lw_station_t *st, cJSON *arr, const char *meas, const char *context,
                       double value, const char *unit)
{
    cJSON *s = cJSON_CreateObject();
    if (is_v16(st)) {
        char v[32];
        snprintf(v, sizeof v, "%.1f", value);
        cJSON_AddStringToObject(s, "value", v);
        cJSON_AddStringToObject(s, "context", context);
        cJSON_AddStringToObject(s, "measurand", meas);
        if (unit) cJSON_AddStringToObject(s, "unit", unit);
        cJSON_AddStringToObject(s, "location", strcmp(meas, "SoC") ? "Outlet" : "EV");
    } else {
        cJSON_AddNumberToObject(s, "value", round1(value));
        cJSON_AddStringToObject(s, "context", context);
        cJSON_AddStringToObject(s, "measurand", meas);
        cJSON_AddStringToObject(s, "location", strcmp(meas, "SoC") ? "Outlet" : "EV");
        if (unit) {
            cJSON *u = cJSON_AddObjectToObject(s, "unitOfMeasure");
            cJSON_AddStringToObject(u, "unit", unit);
        }
    }
    cJSON_AddItemToArray(arr, s);
}

/* One meterValue element with the measurands of the configuration variable v. NULL when
 * the list gives no value at all (2.x requires at least one sampledValue). */
static cJSON *meter_value(lw_station_t *st, int c, int v, const char *context)
{
    char tmp[600], ts[32];
    const char *list = cfg_get(st, v, tmp, sizeof tmp);
    conn_t *k = &st->conn[c];
    cJSON *mv = cJSON_CreateObject();
    st_timestamp(st, ts);
    cJSON_AddStringToObject(mv, "timestamp", ts);
    cJSON *arr = cJSON_AddArrayToObject(mv, "sampledValue");
    double per_phase_div = st->voltage * st->phases;
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char m[64];
        while (n && *p == ' ')
            p++, n--;
        if (n < sizeof m) {
            memcpy(m, p, n);
            m[n] = 0;
            double cap =
                k->limit_w >= 0 && k->limit_w < station_max_w(st) ? k->limit_w : station_max_w(st);
            if (!strcmp(m, "Energy.Active.Import.Register"))
                add_sample(st, arr, m, context, k->energy_wh, "Wh");
            else if (!strcmp(m, "Power.Active.Import"))
                add_sample(st, arr, m, context, k->power_w, "W");
            else if (!strcmp(m, "Current.Import"))
                add_sample(st, arr, m, context, k->power_w / per_phase_div, "A");
            else if (!strcmp(m, "Current.Offered"))
                add_sample(st, arr, m, context, cap / per_phase_div, "A");
            else if (!strcmp(m, "Power.Offered"))
                add_sample(st, arr, m, context, cap, "W");
            else if (!strcmp(m, "Voltage"))
                add_sample(st, arr, m, context, st->voltage, "V");
            else if (!strcmp(m, "SoC") && k->soc >= 0)
                add_sample(st, arr, m, context, k->soc, "Percent");
            else if (!strcmp(m, "Frequency"))
                add_sample(st, arr, m, context, 50.0, NULL);
        }
        p = e ? e + 1 : p + n;
    }
    if (cJSON_GetArraySize(arr) == 0) {
        cJSON_Delete(mv);
        return NULL;
    }
    return mv;
}

static cJSON *tx_event(lw_station_t *st, int c, const char *type, const char *trigger)
{
    char ts[32];
    conn_t *k = &st->conn[c];
    st_timestamp(st, ts);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "eventType", type);
    cJSON_AddStringToObject(p, "timestamp", ts);
    cJSON_AddStringToObject(p, "triggerReason", trigger);
    cJSON_AddNumberToObject(p, "seqNo", k->tx.seq++);
    /* OCPP 2.0.1 E04.FR.?: events that happened while offline carry offline=true */
    if (!st_online(st)) cJSON_AddBoolToObject(p, "offline", true);
    cJSON *ti = cJSON_AddObjectToObject(p, "transactionInfo");
    cJSON_AddStringToObject(ti, "transactionId", k->tx.id);
    const char *cs = k->power_w > 0                       ? "Charging"
                     : k->tx.active && k->power_req_w > 0 ? "SuspendedEVSE"
                     : k->tx.active && k->plugged         ? "SuspendedEV"
                     : k->plugged                         ? "EVConnected"
                                                          : "Idle";
    cJSON_AddStringToObject(ti, "chargingState", cs);
    cJSON *evse = cJSON_AddObjectToObject(p, "evse");
    cJSON_AddNumberToObject(evse, "id", c);
    cJSON_AddNumberToObject(evse, "connectorId", 1);
    return p;
}

void tx_send_meter_values(lw_station_t *st, int c, const char *context, bool aligned)
{
    conn_t *k = &st->conn[c];
    tx_integrate(st, c);
    cJSON *mv = meter_value(st, c, aligned ? V_ALIGNED_DATA : V_SAMPLED_DATA, context);
    if (!mv) return;
    cJSON *p = cJSON_CreateObject();
    if (is_v16(st)) {
        cJSON_AddNumberToObject(p, "connectorId", c);
        if (k->tx.active) cJSON_AddNumberToObject(p, "transactionId", 0); /* filled when sent */
    } else {
        cJSON_AddNumberToObject(p, "evseId", c);
    }
    cJSON *arr = cJSON_AddArrayToObject(p, "meterValue");
    cJSON_AddItemToArray(arr, mv);
    if (is_v16(st) && k->tx.active)
        st_call_tx(st, "MeterValues", p, k->tx.local, true, c);
    else
        st_call(st, "MeterValues", p);
}

void tx_send_tx_updated(lw_station_t *st, int c, const char *trigger, const char *context)
{
    conn_t *k = &st->conn[c];
    if (!k->tx.active) return;
    tx_integrate(st, c);
    cJSON *p = tx_event(st, c, "Updated", trigger);
    cJSON *mv =
        context
            ? meter_value(st, c, !strcmp(context, "Sample.Clock") ? V_ALIGNED_DATA : V_SAMPLED_DATA,
                          context)
            : NULL;
    if (mv) cJSON_AddItemToArray(cJSON_AddArrayToObject(p, "meterValue"), mv);
    st_call_tx(st, "TransactionEvent", p, k->tx.local, context != NULL && mv != NULL, c);
}

/* ---- transactions ------------------------------------------------------------------------ */
static void make_uuid(lw_station_t *st, char out[40])
{
    uint32_t a = st_rand(st), b = st_rand(st), c = st_rand(st), d = st_rand(st);
    snprintf(out, 40, "%08x-%04x-4%03x-%04x-%04x%08x", a, b >> 16, b & 0xfff, (c & 0x3fff) | 0x8000,
             c >> 16, d);
}

int tx_start(lw_station_t *st, int c, const char *tag, const char *tag_type, const char *trigger)
{
    conn_t *k = &st->conn[c];
    if (k->tx.active) return LW_EBUSY;
    tx_integrate(st, c);
    tx_t *t = &k->tx;
    memset(t, 0, sizeof *t);
    t->active = true;
    t->local = st->next_txlocal++;
    t->csms_id = -1;
    make_uuid(st, t->id);
    copy_str(t->tag, sizeof t->tag, tag);
    copy_str(t->tag_type, sizeof t->tag_type, tag_type ? tag_type : "ISO14443");
    t->start_wall = st_wall(st);
    t->meter_start = k->energy_wh;
    t->remote_start_id = k->auth_remote ? k->auth_remote_id : -1;
    t->reservation_id = -1;
    if (k->reserved && !strcmp(k->res_tag, tag)) {
        t->reservation_id = k->res_id;
        k->reserved = false;
        jr_reservations(st);
    }
    k->auth_pending = false;
    k->auth_remote = false;
    k->finishing = false;
    k->suspended_evse = false;
    long iv = cfg_int(st, V_METER_SAMPLE_INTERVAL);
    t->next_sample = iv > 0 ? st_mono(st) + (uint64_t)iv * 1000u : 0;
    recompute_power(st, c);
    jr_tx_started(st, c);
    char ts[32];
    st_timestamp(st, ts);
    if (is_v16(st)) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "connectorId", c);
        cJSON_AddStringToObject(p, "idTag", tag);
        cJSON_AddNumberToObject(p, "meterStart", (double)(long long)llround(t->meter_start));
        if (t->reservation_id >= 0) cJSON_AddNumberToObject(p, "reservationId", t->reservation_id);
        cJSON_AddStringToObject(p, "timestamp", ts);
        st_call_tx(st, "StartTransaction", p, t->local, false, c);
    } else {
        cJSON *p = tx_event(st, c, "Started", trigger);
        cJSON *ti = cJSON_GetObjectItemCaseSensitive(p, "transactionInfo");
        if (t->remote_start_id >= 0)
            cJSON_AddNumberToObject(ti, "remoteStartId", t->remote_start_id);
        cJSON *id = cJSON_AddObjectToObject(p, "idToken");
        cJSON_AddStringToObject(id, "idToken", tag);
        cJSON_AddStringToObject(id, "type", t->tag_type);
        if (t->reservation_id >= 0) cJSON_AddNumberToObject(p, "reservationId", t->reservation_id);
        cJSON *mv = meter_value(st, c, V_STARTED_MEASURANDS, "Transaction.Begin");
        if (mv) cJSON_AddItemToArray(cJSON_AddArrayToObject(p, "meterValue"), mv);
        st_call_tx(st, "TransactionEvent", p, t->local, false, c);
    }
    tx_update_status(st, c, false);
    return 0;
}

/* reason: 1.6 Reason / 2.x stoppedReason; trigger: 2.x triggerReason */
int tx_stop(lw_station_t *st, int c, const char *reason, const char *trigger)
{
    conn_t *k = &st->conn[c];
    if (!k->tx.active) return LW_ENOTFOUND;
    tx_integrate(st, c);
    tx_t *t = &k->tx;
    char ts[32];
    st_timestamp(st, ts);
    /* the power path opens: no more energy from now on */
    double saved_req = k->power_req_w;
    if (is_v16(st)) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "idTag", t->tag);
        cJSON_AddNumberToObject(p, "meterStop", (double)(long long)llround(k->energy_wh));
        cJSON_AddStringToObject(p, "timestamp", ts);
        cJSON_AddNumberToObject(p, "transactionId", 0); /* filled when sent */
        cJSON_AddStringToObject(p, "reason", reason);
        cJSON *mv = meter_value(st, c, V_STOP_SAMPLED, "Transaction.End");
        if (mv) cJSON_AddItemToArray(cJSON_AddArrayToObject(p, "transactionData"), mv);
        st_call_tx(st, "StopTransaction", p, t->local, false, c);
    } else {
        k->power_w = 0;
        k->power_req_w = 0;
        cJSON *p = tx_event(st, c, "Ended", trigger);
        cJSON *ti = cJSON_GetObjectItemCaseSensitive(p, "transactionInfo");
        cJSON_AddStringToObject(ti, "stoppedReason", reason);
        cJSON *mv = meter_value(st, c, V_STOP_SAMPLED, "Transaction.End");
        if (mv) cJSON_AddItemToArray(cJSON_AddArrayToObject(p, "meterValue"), mv);
        st_call_tx(st, "TransactionEvent", p, t->local, false, c);
    }
    jr_tx_ended(st, t->local);
    t->active = false;
    k->power_w = 0;
    k->power_req_w = k->plugged ? saved_req : 0;
    k->suspended_evse = false;
    k->finishing = k->plugged;
    smart_tx_ended(st, c);
    if (k->change_scheduled) {
        /* OCPP 1.6 §5.2 / 2.0.1 G03.FR.05: the scheduled change happens now */
        k->change_scheduled = false;
        k->operative = false;
        jr_availability(st, c);
    }
    tx_update_status(st, c, false);
    return 0;
}

void tx_restore_powerloss(lw_station_t *st, int c)
{
    st->conn[c].plugged = false;
    st->conn[c].power_w = 0;
    tx_stop(st, c, "PowerLoss", "AbnormalCondition");
}

void tx_reset_all(lw_station_t *st, bool hard)
{
    for (int c = 1; c <= st->nconn; c++) {
        if (!st->conn[c].tx.active) continue;
        if (is_v16(st))
            tx_stop(st, c, hard ? "HardReset" : "SoftReset", NULL);
        else
            tx_stop(st, c, "ImmediateReset", "ResetCommand");
    }
}

bool tx_any_active(const lw_station_t *st)
{
    for (int c = 1; c <= st->nconn; c++)
        if (st->conn[c].tx.active) return true;
    return false;
}

int tx_find_by_id(const lw_station_t *st, const char *id)
{
    for (int c = 1; c <= st->nconn; c++) {
        const tx_t *t = &st->conn[c].tx;
        if (!t->active) continue;
        if (is_v16(st)) {
            char b[24];
            snprintf(b, sizeof b, "%lld", (long long)t->csms_id);
            if (t->csms_id >= 0 && !strcmp(b, id)) return c;
        } else if (!strcmp(t->id, id)) {
            return c;
        }
    }
    return -1;
}

static int conn_of_local(const lw_station_t *st, uint32_t local)
{
    for (int c = 1; c <= st->nconn; c++)
        if (st->conn[c].tx.active && st->conn[c].tx.local == local) return c;
    return -1;
}

void tx_on_result(lw_station_t *st, qmsg_t *m, cJSON *payload)
{
    int c = conn_of_local(st, m->txlocal);
    cJSON *info =
        cJSON_GetObjectItemCaseSensitive(payload, is_v16(st) ? "idTagInfo" : "idTokenInfo");
    if (!strcmp(m->action, "StartTransaction")) {
        long id = -1;
        if (jint(payload, "transactionId", &id)) {
            st_txmap_set(st, m->txlocal, id);
            if (c > 0) st->conn[c].tx.csms_id = id;
            if (st->journal) {
                cJSON *rec = cJSON_CreateObject();
                cJSON_AddStringToObject(rec, "t", "m");
                cJSON_AddNumberToObject(rec, "x", m->txlocal);
                cJSON_AddNumberToObject(rec, "id", (double)id);
                jr_append(st, rec);
                cJSON_Delete(rec);
            }
        }
    }
    if (info) {
        /* the tag is the one of the message */
        cJSON *req = cJSON_Parse(m->payload);
        const char *tag = NULL;
        if (req) {
            tag = jstr(req, "idTag");
            if (!tag) tag = jstr(cJSON_GetObjectItemCaseSensitive(req, "idToken"), "idToken");
        }
        if (tag) auth_cache_put(st, tag, info);
        cJSON_Delete(req);
        const char *status = jstr(info, "status");
        if (c > 0 && status && strcmp(status, "Accepted") != 0 &&
            (!strcmp(m->action, "StartTransaction") || !strcmp(m->action, "TransactionEvent"))) {
            /* 1.6 §5.x StopTransactionOnInvalidId / 2.0.1 E05: deauthorized */
            if (cfg_bool(st, V_STOP_ON_INVALID_ID))
                tx_stop(st, c, "DeAuthorized", "Deauthorized");
            else {
                st->conn[c].suspended_evse = true;
                tx_integrate(st, c);
                tx_update_status(st, c, false);
            }
        }
    }
}

/* ---- authorization ----------------------------------------------------------------------- */
static void fill_entry(auth_entry_t *e, const char *tag, cJSON *info, bool v16)
{
    memset(e, 0, sizeof *e);
    e->used = true;
    copy_str(e->tag, sizeof e->tag, tag);
    copy_str(e->status, sizeof e->status, jstr(info, "status") ? jstr(info, "status") : "Invalid");
    const char *exp = jstr(info, v16 ? "expiryDate" : "cacheExpiryDateTime");
    int64_t w;
    if (exp && lw_time_parse(lw_str_c(exp), &w) == 0) e->expiry = w;
    const char *parent =
        v16 ? jstr(info, "parentIdTag")
            : jstr(cJSON_GetObjectItemCaseSensitive(info, "groupIdToken"), "idToken");
    copy_str(e->parent, sizeof e->parent, parent);
}

void auth_cache_put(lw_station_t *st, const char *tag, cJSON *info)
{
    if (!cfg_bool(st, V_AUTH_CACHE_ENABLED) || !info) return;
    for (size_t i = 0; i < LW_STATION_AUTH_CACHE_MAX; i++)
        if (st->cache[i].used && !strcmp(st->cache[i].tag, tag)) {
            fill_entry(&st->cache[i], tag, info, is_v16(st));
            return;
        }
    fill_entry(&st->cache[st->cache_next], tag, info, is_v16(st));
    st->cache_next = (st->cache_next + 1) % LW_STATION_AUTH_CACHE_MAX;
}

const auth_entry_t *auth_lookup(lw_station_t *st, const char *tag, bool *from_list)
{
    *from_list = false;
    if (cfg_bool(st, V_LOCAL_LIST_ENABLED) && st->local_list)
        for (size_t i = 0; i < st->local_n; i++)
            if (!strcmp(st->local_list[i].tag, tag)) {
                *from_list = true;
                return &st->local_list[i];
            }
    if (cfg_bool(st, V_AUTH_CACHE_ENABLED))
        for (size_t i = 0; i < LW_STATION_AUTH_CACHE_MAX; i++)
            if (st->cache[i].used && !strcmp(st->cache[i].tag, tag)) return &st->cache[i];
    return NULL;
}

static bool entry_valid(const lw_station_t *st, const auth_entry_t *e)
{
    if (!e || strcmp(e->status, "Accepted") != 0) return false;
    return !e->expiry || e->expiry > st_wall(st);
}

void tx_authorized(lw_station_t *st, int c, const char *tag, const char *type, bool remote,
                   int remote_id)
{
    conn_t *k = &st->conn[c];
    copy_str(k->auth_tag, sizeof k->auth_tag, tag);
    copy_str(k->auth_type, sizeof k->auth_type, type ? type : "ISO14443");
    k->auth_pending = true;
    k->auth_remote = remote;
    k->auth_remote_id = remote_id;
    k->auth_expiry = st_mono(st) + (uint64_t)cfg_int(st, V_CONNECTION_TIMEOUT) * 1000u;
    if (k->plugged)
        tx_start(st, c, k->auth_tag, k->auth_type, remote ? "RemoteStart" : "Authorized");
    else
        tx_update_status(st, c, false);
}

void tx_authorize_result(lw_station_t *st, qmsg_t *m, cJSON *info)
{
    if (!info) return;
    auth_cache_put(st, m->ctx_tag, info);
    const char *status = jstr(info, "status");
    int c = m->ctx_conn;
    if (c < 1 || c > st->nconn || !status || strcmp(status, "Accepted") != 0) return;
    if (st->conn[c].tx.active) return;
    /* a remote start that needed authorization (AuthorizeRemoteTxRequests) keeps its id */
    bool remote = st->conn[c].auth_remote && !strcmp(st->conn[c].auth_tag, m->ctx_tag);
    tx_authorized(st, c, m->ctx_tag, st->conn[c].auth_type[0] ? st->conn[c].auth_type : NULL,
                  remote, remote ? st->conn[c].auth_remote_id : -1);
}

int lw_station_present_token(lw_station_t *st, int c, const char *tag)
{
    if (!tag || !*tag || strlen(tag) >= TAG_MAX || c < 0 || c > st->nconn) return LW_EINVAL;
    if (c == 0) {
        for (int i = 1; i <= st->nconn && !c; i++)
            if (st->conn[i].tx.active && !strcmp(st->conn[i].tx.tag, tag)) c = i;
        for (int i = 1; i <= st->nconn && !c; i++)
            if (st->conn[i].plugged && !st->conn[i].tx.active && st->conn[i].operative) c = i;
        for (int i = 1; i <= st->nconn && !c; i++)
            if (!st->conn[i].tx.active && st->conn[i].operative && !st->conn[i].reserved) c = i;
        if (!c) return LW_EBUSY;
    }
    conn_t *k = &st->conn[c];
    if (k->tx.active) {
        bool from_list;
        const auth_entry_t *e = auth_lookup(st, tag, &from_list);
        const auth_entry_t *o = auth_lookup(st, k->tx.tag, &from_list);
        bool same =
            !strcmp(k->tx.tag, tag) || (e && o && e->parent[0] && !strcmp(e->parent, o->parent));
        if (!same) return LW_EBUSY;
        tx_stop(st, c, "Local", "StopAuthorized");
        st_pump(st);
        return 0;
    }
    if (!k->operative || !st->station_operative || k->faulted) return LW_EBUSY;
    if (k->reserved && strcmp(k->res_tag, tag) != 0) return LW_EBUSY;
    bool from_list;
    const auth_entry_t *e = auth_lookup(st, tag, &from_list);
    if (st_online(st)) {
        if (cfg_bool(st, V_LOCAL_PRE_AUTH) && entry_valid(st, e)) {
            tx_authorized(st, c, tag, NULL, false, -1);
        } else {
            cJSON *p = cJSON_CreateObject();
            if (is_v16(st)) {
                cJSON_AddStringToObject(p, "idTag", tag);
            } else {
                cJSON *id = cJSON_AddObjectToObject(p, "idToken");
                cJSON_AddStringToObject(id, "idToken", tag);
                cJSON_AddStringToObject(id, "type", "ISO14443");
            }
            qmsg_t *m = st_call(st, "Authorize", p);
            if (!m) return LW_EAGAIN;
            m->ctx_conn = c;
            copy_str(m->ctx_tag, sizeof m->ctx_tag, tag);
            copy_str(k->auth_type, sizeof k->auth_type, "ISO14443");
            k->auth_remote = false;
        }
    } else {
        /* OCPP 1.6 §3.5 / 2.0.1 C13-C15: offline authorization */
        if (cfg_bool(st, V_LOCAL_AUTH_OFFLINE) && entry_valid(st, e))
            tx_authorized(st, c, tag, NULL, false, -1);
        else if (!e && cfg_bool(st, V_ALLOW_OFFLINE_UNKNOWN))
            tx_authorized(st, c, tag, NULL, false, -1);
        else
            return LW_EAUTH;
    }
    st_pump(st);
    return 0;
}

/* ---- hardware events --------------------------------------------------------------------- */
int lw_station_plug(lw_station_t *st, int c, bool plugged)
{
    if (c < 1 || c > st->nconn) return LW_EINVAL;
    conn_t *k = &st->conn[c];
    tx_integrate(st, c);
    if (k->plugged == plugged) return 0;
    k->plugged = plugged;
    if (plugged) {
        k->finishing = false;
        if (k->auth_pending && !k->tx.active)
            tx_start(st, c, k->auth_tag, k->auth_type,
                     k->auth_remote ? "RemoteStart" : "CablePluggedIn");
    } else {
        k->finishing = false;
        k->power_req_w = 0;
        if (k->tx.active) {
            if (cfg_bool(st, V_STOP_ON_EV_DISCONNECT))
                tx_stop(st, c, "EVDisconnected", "EVCommunicationLost");
            else
                tx_integrate(st, c);
        }
    }
    tx_integrate(st, c);
    tx_update_status(st, c, false);
    st_pump(st);
    return 0;
}

int lw_station_set_power(lw_station_t *st, int c, double w)
{
    if (c < 1 || c > st->nconn || w < 0) return LW_EINVAL;
    tx_integrate(st, c);
    st->conn[c].power_req_w = w;
    recompute_power(st, c);
    tx_update_status(st, c, false);
    st_pump(st);
    return 0;
}

int lw_station_set_soc(lw_station_t *st, int c, double soc)
{
    if (c < 1 || c > st->nconn) return LW_EINVAL;
    st->conn[c].soc = soc;
    return 0;
}

int lw_station_stop_local(lw_station_t *st, int c)
{
    if (c < 1 || c > st->nconn) return LW_EINVAL;
    int rc = tx_stop(st, c, "Local", "StopAuthorized");
    st_pump(st);
    return rc;
}

int lw_station_connector_info(const lw_station_t *st, int c, lw_station_connector_info_t *out)
{
    if (c < 1 || c > st->nconn) return LW_EINVAL;
    const conn_t *k = &st->conn[c];
    memset(out, 0, sizeof *out);
    out->plugged = k->plugged;
    out->in_transaction = k->tx.active;
    out->available = k->operative && st->station_operative;
    out->status = names16[compute_status(st, c)];
    out->energy_wh = k->energy_wh;
    out->power_w = k->power_w;
    out->limit_w = k->limit_w;
    if (k->tx.active) {
        if (is_v16(st)) {
            if (k->tx.csms_id >= 0)
                snprintf(out->transaction_id, sizeof out->transaction_id, "%lld",
                         (long long)k->tx.csms_id);
        } else {
            copy_str(out->transaction_id, sizeof out->transaction_id, k->tx.id);
        }
        copy_str(out->id_tag, sizeof out->id_tag, k->tx.tag);
    }
    return 0;
}

/* ---- timers ------------------------------------------------------------------------------ */
void tx_schedule_aligned(lw_station_t *st)
{
    long iv = cfg_int(st, V_ALIGNED_INTERVAL);
    if (iv <= 0) {
        st->aligned_at = 0;
        return;
    }
    /* OCPP 1.6 §3.16.2 / 2.0.1 J01: aligned to the clock (multiples of the interval from
     * midnight; the epoch is a midnight, so multiples from the epoch are the same) */
    int64_t w = st_wall(st), ivms = (int64_t)iv * 1000;
    int64_t next = (w / ivms + 1) * ivms;
    st->aligned_at = st_mono(st) + (uint64_t)(next - w);
}

void tx_aligned(lw_station_t *st)
{
    for (int c = 1; c <= st->nconn; c++) {
        if (st->conn[c].tx.active && !is_v16(st))
            tx_send_tx_updated(st, c, "MeterValueClock", "Sample.Clock");
        else
            tx_send_meter_values(st, c, "Sample.Clock", true);
    }
}

void tx_tick(lw_station_t *st)
{
    uint64_t now = st_mono(st);
    int64_t wall = st_wall(st);
    for (int c = 1; c <= st->nconn; c++) {
        conn_t *k = &st->conn[c];
        double before = k->power_w;
        tx_integrate(st, c);
        if ((before > 0) != (k->power_w > 0)) tx_update_status(st, c, false);
        if (k->auth_pending && !k->tx.active && now >= k->auth_expiry) {
            /* OCPP 1.6 ConnectionTimeOut / 2.0.1 E03 EVConnectionTimeOut */
            k->auth_pending = false;
            k->auth_remote = false;
            tx_update_status(st, c, false);
        }
        if (k->tx.active && k->tx.next_sample && now >= k->tx.next_sample) {
            long iv = cfg_int(st, V_METER_SAMPLE_INTERVAL);
            k->tx.next_sample = iv > 0 ? now + (uint64_t)iv * 1000u : 0;
            if (is_v16(st))
                tx_send_meter_values(st, c, "Sample.Periodic", false);
            else
                tx_send_tx_updated(st, c, "MeterValuePeriodic", "Sample.Periodic");
        }
        if (k->reserved && wall >= k->res_expiry_wall) {
            k->reserved = false;
            jr_reservations(st);
            if (!is_v16(st) && st_online(st)) {
                /* OCPP 2.0.1 H01.FR.?: tell the CSMS the reservation expired */
                cJSON *p = cJSON_CreateObject();
                cJSON_AddNumberToObject(p, "reservationId", k->res_id);
                cJSON_AddStringToObject(p, "reservationUpdateStatus", "Expired");
                st_call(st, "ReservationStatusUpdate", p);
            }
            tx_update_status(st, c, false);
        }
    }
    if (st->aligned_at && now >= st->aligned_at) {
        if (st_online(st) || tx_any_active(st)) tx_aligned(st);
        tx_schedule_aligned(st);
    }
}

uint64_t tx_next_deadline(const lw_station_t *st)
{
    uint64_t d = UINT64_MAX, now = st_mono(st);
    int64_t wall = st_wall(st);
    if (st->aligned_at && st->aligned_at < d) d = st->aligned_at;
    for (int c = 1; c <= st->nconn; c++) {
        const conn_t *k = &st->conn[c];
        if (k->tx.active && k->tx.next_sample && k->tx.next_sample < d) d = k->tx.next_sample;
        if (k->auth_pending && !k->tx.active && k->auth_expiry < d) d = k->auth_expiry;
        if (k->reserved) {
            uint64_t at =
                k->res_expiry_wall <= wall ? now : now + (uint64_t)(k->res_expiry_wall - wall);
            if (at < d) d = at;
        }
        /* charging profiles change limits at period boundaries: look again every 10 s */
        if (k->tx.active && k->integrated_at + 10000 < d) d = k->integrated_at + 10000;
    }
    return d;
}

void tx_apply_availability(lw_station_t *st)
{
    for (int c = 0; c <= st->nconn; c++)
        tx_update_status(st, c, false);
}
