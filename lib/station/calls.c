/*
 * calls.c — answers to every CSMS-initiated call of OCPP 1.6 (with the Security
 * Whitepaper) and 2.0.1, with the station's real state behind them: configuration and the
 * device model (with NotifyReport), Reset, remote start/stop, TriggerMessage, availability,
 * unlock, authorization cache and local list, reservations, smart charging (smart.c),
 * firmware update and log upload walked through their status notifications, DataTransfer
 * and certificates. What the station does not support is refused as the spec says.
 *
 * Firmware download and log upload go through the host's transfer ops when it gives them
 * (the simulator does HTTP); otherwise they are simulated on timers.
 */
#include "station_int.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int lw_station_make_csr(lw_station_t *st, char **pem);

typedef void (*handler_t)(lw_station_t *st, const char *msgid, cJSON *p);

static void reply_status(lw_station_t *st, const char *msgid, const char *status)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "status", status);
    st_reply(st, msgid, r);
}

static bool valid_conn(const lw_station_t *st, long c, bool allow_zero)
{
    return c >= (allow_zero ? 0 : 1) && c <= st->nconn;
}

/* ---- configuration (1.6) ----------------------------------------------------------------- */
static void get_configuration(lw_station_t *st, const char *msgid, cJSON *p)
{
    cJSON *keys = cJSON_GetObjectItemCaseSensitive(p, "key");
    cJSON *r = cJSON_CreateObject();
    cJSON *known = cJSON_AddArrayToObject(r, "configurationKey");
    cJSON *unknown = cJSON_CreateArray();
    char tmp[128];
    if (cJSON_GetArraySize(keys) == 0) {
        for (int v = 0; v < V_COUNT; v++) {
            const var_def_t *d = &lw_station_vars[v];
            if (!d->key16 || d->mut == VM_WO) continue;
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "key", d->key16);
            cJSON_AddBoolToObject(o, "readonly", d->mut == VM_RO);
            cJSON_AddStringToObject(o, "value", cfg_get(st, v, tmp, sizeof tmp));
            cJSON_AddItemToArray(known, o);
        }
    } else {
        cJSON *k;
        cJSON_ArrayForEach(k, keys)
        {
            if (!cJSON_IsString(k)) continue;
            int v = cfg_find16(k->valuestring);
            /* Security Whitepaper: AuthorizationKey is write-only, never reported */
            if (v < 0 || lw_station_vars[v].mut == VM_WO) {
                cJSON_AddItemToArray(unknown, cJSON_CreateString(k->valuestring));
                continue;
            }
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "key", k->valuestring);
            cJSON_AddBoolToObject(o, "readonly", lw_station_vars[v].mut == VM_RO);
            cJSON_AddStringToObject(o, "value", cfg_get(st, v, tmp, sizeof tmp));
            cJSON_AddItemToArray(known, o);
        }
    }
    if (cJSON_GetArraySize(unknown))
        cJSON_AddItemToObject(r, "unknownKey", unknown);
    else
        cJSON_Delete(unknown);
    st_reply(st, msgid, r);
}

static void change_configuration(lw_station_t *st, const char *msgid, cJSON *p)
{
    const char *key = jstr(p, "key"), *val = jstr(p, "value");
    int v = key ? cfg_find16(key) : -1;
    if (v < 0 || !val) {
        reply_status(st, msgid, "NotSupported");
        return;
    }
    int rc = cfg_set(st, v, val, false, true);
    reply_status(st, msgid, rc == 0 ? "Accepted" : "Rejected");
}

/* ---- device model (2.x) ------------------------------------------------------------------ */
static const char *dtype(vtype_t t)
{
    switch (t) {
    case VT_INT:
        return "integer";
    case VT_BOOL:
        return "boolean";
    case VT_MEASURANDS:
        return "MemberList";
    case VT_DECIMAL:
        return "decimal";
    default:
        return "string";
    }
}

static const char *mut_name(vmut_t m)
{
    return m == VM_RO ? "ReadOnly" : m == VM_WO ? "WriteOnly" : "ReadWrite";
}

/* EVSE and Connector components: variables computed from the connectors */
static const char *evse_var(lw_station_t *st, const char *comp, int evse, const char *var,
                            char *tmp, size_t n, bool *ro)
{
    *ro = true;
    if (evse < 1 || evse > st->nconn) return NULL;
    const conn_t *k = &st->conn[evse];
    if (!strcmp(var, "AvailabilityState")) {
        copy_str(tmp, n, cstatus_name(st, k->reported_valid ? k->reported : CS_AVAILABLE));
        return tmp;
    }
    if (!strcmp(var, "Available")) return k->operative ? "true" : "false";
    if (!strcmp(comp, "EVSE") && !strcmp(var, "Power")) {
        snprintf(tmp, n, "%.0f", k->power_w);
        return tmp;
    }
    if (!strcmp(comp, "Connector") && !strcmp(var, "ConnectorType")) return "cType2";
    return NULL;
}

static cJSON *component_json(const char *name, const char *inst, int evse, int connector)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "name", name);
    if (inst) cJSON_AddStringToObject(c, "instance", inst);
    if (evse > 0) {
        cJSON *e = cJSON_AddObjectToObject(c, "evse");
        cJSON_AddNumberToObject(e, "id", evse);
        if (connector > 0) cJSON_AddNumberToObject(e, "connectorId", connector);
    }
    return c;
}

static cJSON *variable_json(const char *name, const char *inst)
{
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "name", name);
    if (inst) cJSON_AddStringToObject(v, "instance", inst);
    return v;
}

static void get_variables(lw_station_t *st, const char *msgid, cJSON *p)
{
    cJSON *items = cJSON_GetObjectItemCaseSensitive(p, "getVariableData");
    if (cJSON_GetArraySize(items) > LW_STATION_ITEMS_PER_MESSAGE) {
        /* OCPP 2.0.1 B06.FR.?: more than ItemsPerMessage */
        st_reply_error(st, msgid, LW_OCPP_ERR_OCCURRENCE_CONSTRAINT, "too many items");
        return;
    }
    cJSON *r = cJSON_CreateObject();
    cJSON *res = cJSON_AddArrayToObject(r, "getVariableResult");
    cJSON *it;
    char tmp[600];
    cJSON_ArrayForEach(it, items)
    {
        cJSON *comp = cJSON_GetObjectItemCaseSensitive(it, "component");
        cJSON *var = cJSON_GetObjectItemCaseSensitive(it, "variable");
        const char *cname = jstr(comp, "name"), *cinst = jstr(comp, "instance");
        const char *vname = jstr(var, "name"), *vinst = jstr(var, "instance");
        const char *atype = jstr(it, "attributeType");
        cJSON *evse = cJSON_GetObjectItemCaseSensitive(comp, "evse");
        long evse_id = 0;
        jint(evse, "id", &evse_id);
        cJSON *o = cJSON_CreateObject();
        const char *status = "Accepted", *value = NULL;
        if (!cname || !vname) {
            status = "UnknownComponent";
        } else if (atype && strcmp(atype, "Actual") != 0) {
            status = "NotSupportedAttributeType";
        } else if (!strcmp(cname, "EVSE") || !strcmp(cname, "Connector")) {
            bool ro;
            if (evse_id < 1 || evse_id > st->nconn)
                status = "UnknownComponent";
            else if (!(value = evse_var(st, cname, (int)evse_id, vname, tmp, sizeof tmp, &ro)))
                status = "UnknownVariable";
        } else {
            int v = cfg_find2x(cname, cinst, vname, vinst);
            if (v == -1)
                status = "UnknownComponent";
            else if (v == -2)
                status = "UnknownVariable";
            else if (lw_station_vars[v].mut == VM_WO)
                status = "Rejected";
            else
                value = cfg_get(st, v, tmp, sizeof tmp);
        }
        cJSON_AddStringToObject(o, "attributeStatus", status);
        if (atype) cJSON_AddStringToObject(o, "attributeType", atype);
        if (value) cJSON_AddStringToObject(o, "attributeValue", value);
        cJSON_AddItemToObject(o, "component", cJSON_Duplicate(comp, true));
        cJSON_AddItemToObject(o, "variable", cJSON_Duplicate(var, true));
        cJSON_AddItemToArray(res, o);
    }
    st_reply(st, msgid, r);
}

static void set_variables(lw_station_t *st, const char *msgid, cJSON *p)
{
    cJSON *items = cJSON_GetObjectItemCaseSensitive(p, "setVariableData");
    if (cJSON_GetArraySize(items) > LW_STATION_ITEMS_PER_MESSAGE) {
        st_reply_error(st, msgid, LW_OCPP_ERR_OCCURRENCE_CONSTRAINT, "too many items");
        return;
    }
    cJSON *r = cJSON_CreateObject();
    cJSON *res = cJSON_AddArrayToObject(r, "setVariableResult");
    cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        cJSON *comp = cJSON_GetObjectItemCaseSensitive(it, "component");
        cJSON *var = cJSON_GetObjectItemCaseSensitive(it, "variable");
        const char *cname = jstr(comp, "name"), *cinst = jstr(comp, "instance");
        const char *vname = jstr(var, "name"), *vinst = jstr(var, "instance");
        const char *atype = jstr(it, "attributeType"), *val = jstr(it, "attributeValue");
        const char *status;
        if (!cname || !vname || !val) {
            status = "Rejected";
        } else if (atype && strcmp(atype, "Actual") != 0) {
            status = "NotSupportedAttributeType";
        } else if (!strcmp(cname, "EVSE") || !strcmp(cname, "Connector")) {
            status = "Rejected"; /* every EVSE/Connector variable here is read-only */
        } else {
            int v = cfg_find2x(cname, cinst, vname, vinst);
            if (v == -1)
                status = "UnknownComponent";
            else if (v == -2)
                status = "UnknownVariable";
            else
                status = cfg_set(st, v, val, false, true) == 0 ? "Accepted" : "Rejected";
        }
        cJSON *o = cJSON_CreateObject();
        if (atype) cJSON_AddStringToObject(o, "attributeType", atype);
        cJSON_AddStringToObject(o, "attributeStatus", status);
        cJSON_AddItemToObject(o, "component", cJSON_Duplicate(comp, true));
        cJSON_AddItemToObject(o, "variable", cJSON_Duplicate(var, true));
        cJSON_AddItemToArray(res, o);
    }
    st_reply(st, msgid, r);
}

static cJSON *report_item(lw_station_t *st, int v)
{
    const var_def_t *d = &lw_station_vars[v];
    char tmp[600];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "component", component_json(d->comp, d->inst_c, 0, 0));
    cJSON_AddItemToObject(o, "variable", variable_json(d->var, d->inst_v));
    cJSON *attrs = cJSON_AddArrayToObject(o, "variableAttribute");
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "type", "Actual");
    if (d->mut != VM_WO) cJSON_AddStringToObject(a, "value", cfg_get(st, v, tmp, sizeof tmp));
    cJSON_AddStringToObject(a, "mutability", mut_name(d->mut));
    cJSON_AddBoolToObject(a, "persistent", true);
    cJSON_AddBoolToObject(a, "constant", d->mut == VM_RO && d->dflt[0] != '$');
    cJSON_AddItemToArray(attrs, a);
    cJSON *ch = cJSON_AddObjectToObject(o, "variableCharacteristics");
    cJSON_AddStringToObject(ch, "dataType", dtype(d->type));
    cJSON_AddBoolToObject(ch, "supportsMonitoring", false);
    if (d->type == VT_MEASURANDS)
        cJSON_AddStringToObject(ch, "valuesList",
                                "Energy.Active.Import.Register,Power.Active.Import,Current.Import,"
                                "Current.Offered,Power.Offered,Voltage,SoC,Frequency");
    return o;
}

static cJSON *evse_item(lw_station_t *st, const char *comp, int evse, const char *var)
{
    char tmp[64];
    bool ro;
    const char *val = evse_var(st, comp, evse, var, tmp, sizeof tmp, &ro);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "component",
                          component_json(comp, NULL, evse, !strcmp(comp, "Connector") ? 1 : 0));
    cJSON_AddItemToObject(o, "variable", variable_json(var, NULL));
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "type", "Actual");
    if (val) cJSON_AddStringToObject(a, "value", val);
    cJSON_AddStringToObject(a, "mutability", "ReadOnly");
    cJSON_AddBoolToObject(a, "persistent", false);
    cJSON_AddBoolToObject(a, "constant", false);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "variableAttribute"), a);
    cJSON *ch = cJSON_AddObjectToObject(o, "variableCharacteristics");
    cJSON_AddStringToObject(ch, "dataType",
                            !strcmp(var, "Available")           ? "boolean"
                            : !strcmp(var, "Power")             ? "decimal"
                            : !strcmp(var, "AvailabilityState") ? "OptionList"
                                                                : "string");
    if (!strcmp(var, "AvailabilityState"))
        cJSON_AddStringToObject(ch, "valuesList",
                                "Available,Occupied,Reserved,Unavailable,Faulted");
    cJSON_AddBoolToObject(ch, "supportsMonitoring", false);
    return o;
}

/* Sends the collected report items as NotifyReport messages of ItemsPerMessage each. */
static void send_report(lw_station_t *st, long request_id, cJSON *items)
{
    int n = cJSON_GetArraySize(items), seq = 0;
    char ts[32];
    st_timestamp(st, ts);
    for (int start = 0; start < n || (n == 0 && start == 0);
         start += LW_STATION_ITEMS_PER_MESSAGE) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "requestId", request_id);
        cJSON_AddStringToObject(p, "generatedAt", ts);
        cJSON_AddNumberToObject(p, "seqNo", seq++);
        bool more = start + LW_STATION_ITEMS_PER_MESSAGE < n;
        if (more) cJSON_AddBoolToObject(p, "tbc", true);
        if (n) {
            cJSON *arr = cJSON_AddArrayToObject(p, "reportData");
            for (int i = start; i < n && i < start + LW_STATION_ITEMS_PER_MESSAGE; i++)
                cJSON_AddItemToArray(arr, cJSON_Duplicate(cJSON_GetArrayItem(items, i), true));
        }
        st_call(st, "NotifyReport", p);
        if (n == 0) break;
    }
    cJSON_Delete(items);
}

static void add_evse_items(lw_station_t *st, cJSON *items, bool summary)
{
    for (int e = 1; e <= st->nconn; e++) {
        cJSON_AddItemToArray(items, evse_item(st, "EVSE", e, "AvailabilityState"));
        cJSON_AddItemToArray(items, evse_item(st, "Connector", e, "AvailabilityState"));
        if (summary) continue;
        cJSON_AddItemToArray(items, evse_item(st, "EVSE", e, "Available"));
        cJSON_AddItemToArray(items, evse_item(st, "EVSE", e, "Power"));
        cJSON_AddItemToArray(items, evse_item(st, "Connector", e, "Available"));
        cJSON_AddItemToArray(items, evse_item(st, "Connector", e, "ConnectorType"));
    }
}

static void get_base_report(lw_station_t *st, const char *msgid, cJSON *p)
{
    long rid = 0;
    jint(p, "requestId", &rid);
    const char *base = jstr(p, "reportBase");
    cJSON *items = cJSON_CreateArray();
    if (base && !strcmp(base, "ConfigurationInventory")) {
        for (int v = 0; v < V_COUNT; v++)
            if (lw_station_vars[v].comp && lw_station_vars[v].mut != VM_RO)
                cJSON_AddItemToArray(items, report_item(st, v));
    } else if (base && !strcmp(base, "FullInventory")) {
        for (int v = 0; v < V_COUNT; v++)
            if (lw_station_vars[v].comp) cJSON_AddItemToArray(items, report_item(st, v));
        add_evse_items(st, items, false);
    } else if (base && !strcmp(base, "SummaryInventory")) {
        cJSON_AddItemToArray(items, report_item(st, V_CS_AVAILABILITY));
        add_evse_items(st, items, true);
    } else {
        cJSON_Delete(items);
        reply_status(st, msgid, "NotSupported");
        return;
    }
    reply_status(st, msgid, "Accepted");
    send_report(st, rid, items);
}

static bool criteria_match(lw_station_t *st, const char *comp, cJSON *criteria)
{
    if (cJSON_GetArraySize(criteria) == 0) return true;
    cJSON *c;
    cJSON_ArrayForEach(c, criteria)
    {
        if (!cJSON_IsString(c)) continue;
        /* a component meets a criterion when its variable of that name is true */
        if (!strcmp(comp, "EVSE") || !strcmp(comp, "Connector")) {
            if (!strcmp(c->valuestring, "Available") || !strcmp(c->valuestring, "Enabled"))
                return true;
            continue;
        }
        int v = cfg_find2x(comp, NULL, c->valuestring, NULL);
        if (v >= 0 && cfg_bool(st, v)) return true;
    }
    return false;
}

static void get_report(lw_station_t *st, const char *msgid, cJSON *p)
{
    long rid = 0;
    jint(p, "requestId", &rid);
    cJSON *cvs = cJSON_GetObjectItemCaseSensitive(p, "componentVariable");
    cJSON *crit = cJSON_GetObjectItemCaseSensitive(p, "componentCriteria");
    cJSON *items = cJSON_CreateArray();
    for (int v = 0; v < V_COUNT; v++) {
        const var_def_t *d = &lw_station_vars[v];
        if (!d->comp || !criteria_match(st, d->comp, crit)) continue;
        bool want = cJSON_GetArraySize(cvs) == 0;
        cJSON *cv;
        cJSON_ArrayForEach(cv, cvs)
        {
            cJSON *c = cJSON_GetObjectItemCaseSensitive(cv, "component");
            cJSON *var = cJSON_GetObjectItemCaseSensitive(cv, "variable");
            const char *cn = jstr(c, "name"), *ci = jstr(c, "instance");
            if (!cn || strcmp(cn, d->comp) != 0) continue;
            if (ci && (!d->inst_c || strcmp(ci, d->inst_c) != 0)) continue;
            if (var) {
                const char *vn = jstr(var, "name"), *vi = jstr(var, "instance");
                if (!vn || strcmp(vn, d->var) != 0) continue;
                if (vi && (!d->inst_v || strcmp(vi, d->inst_v) != 0)) continue;
            }
            want = true;
        }
        if (want) cJSON_AddItemToArray(items, report_item(st, v));
    }
    /* EVSE / Connector components */
    for (int e = 1; e <= st->nconn; e++) {
        static const char *evars[] = {"AvailabilityState", "Available", "Power", NULL};
        static const char *cvars[] = {"AvailabilityState", "Available", "ConnectorType", NULL};
        for (int k = 0; k < 2; k++) {
            const char *comp = k ? "Connector" : "EVSE";
            if (!criteria_match(st, comp, crit)) continue;
            for (const char **vn = k ? cvars : evars; *vn; vn++) {
                bool want = cJSON_GetArraySize(cvs) == 0;
                cJSON *cv;
                cJSON_ArrayForEach(cv, cvs)
                {
                    cJSON *c = cJSON_GetObjectItemCaseSensitive(cv, "component");
                    cJSON *var = cJSON_GetObjectItemCaseSensitive(cv, "variable");
                    const char *cn = jstr(c, "name");
                    long id = 0;
                    cJSON *ev = cJSON_GetObjectItemCaseSensitive(c, "evse");
                    if (!cn || strcmp(cn, comp) != 0) continue;
                    if (ev && jint(ev, "id", &id) && id != e) continue;
                    if (var && (!jstr(var, "name") || strcmp(jstr(var, "name"), *vn) != 0))
                        continue;
                    want = true;
                }
                if (want) cJSON_AddItemToArray(items, evse_item(st, comp, e, *vn));
            }
        }
    }
    if (cJSON_GetArraySize(items) == 0) {
        cJSON_Delete(items);
        reply_status(st, msgid, "EmptyResultSet");
        return;
    }
    reply_status(st, msgid, "Accepted");
    send_report(st, rid, items);
}

/* ---- reset, remote start/stop, unlock, availability -------------------------------------- */
static void reset16(lw_station_t *st, const char *msgid, cJSON *p)
{
    const char *type = jstr(p, "type");
    bool hard = type && !strcmp(type, "Hard");
    reply_status(st, msgid, "Accepted");
    /* OCPP 1.6 §5.14: stop running transactions (reason SoftReset/HardReset), then reboot */
    tx_reset_all(st, hard);
    st_request_reset(st, hard, "RemoteReset");
}

static void reset2x(lw_station_t *st, const char *msgid, cJSON *p)
{
    const char *type = jstr(p, "type");
    long evse;
    if (jint(p, "evseId", &evse)) {
        /* B11.FR.?: resetting a single EVSE is not supported by this station */
        reply_status(st, msgid, "Rejected");
        return;
    }
    if (type && !strcmp(type, "OnIdle") && tx_any_active(st)) {
        /* B12.FR.01: reset once the transactions ended */
        reply_status(st, msgid, "Scheduled");
        st->reset_pending = true;
        st->reset_hard = false;
        copy_str(st->boot_reason, sizeof st->boot_reason, "RemoteReset");
        st->reset_at = UINT64_MAX; /* waits for idle; see calls_tick */
        return;
    }
    reply_status(st, msgid, "Accepted");
    tx_reset_all(st, true);
    st_request_reset(st, true, "RemoteReset");
}

static int pick_connector(lw_station_t *st)
{
    for (int c = 1; c <= st->nconn; c++) {
        const conn_t *k = &st->conn[c];
        if (!k->tx.active && k->operative && st->station_operative && !k->reserved && k->plugged &&
            !k->auth_pending)
            return c;
    }
    for (int c = 1; c <= st->nconn; c++) {
        const conn_t *k = &st->conn[c];
        if (!k->tx.active && k->operative && st->station_operative && !k->reserved &&
            !k->auth_pending)
            return c;
    }
    return 0;
}

static void remote_start(lw_station_t *st, const char *msgid, cJSON *p)
{
    bool v16 = is_v16(st);
    long c = 0, rid = -1;
    jint(p, v16 ? "connectorId" : "evseId", &c);
    const char *tag =
        v16 ? jstr(p, "idTag") : jstr(cJSON_GetObjectItemCaseSensitive(p, "idToken"), "idToken");
    const char *type =
        v16 ? "ISO14443" : jstr(cJSON_GetObjectItemCaseSensitive(p, "idToken"), "type");
    if (!v16) jint(p, "remoteStartId", &rid);
    cJSON *prof = cJSON_GetObjectItemCaseSensitive(p, "chargingProfile");
    if (c == 0) c = pick_connector(st);
    bool ok = tag && strlen(tag) < TAG_MAX && valid_conn(st, c, false);
    if (ok) {
        conn_t *k = &st->conn[c];
        if (k->tx.active || !k->operative || !st->station_operative || k->faulted) ok = false;
        if (k->reserved && strcmp(k->res_tag, tag) != 0) ok = false;
    }
    if (ok && prof) {
        /* 1.6 §5.11 / F01.FR.08: the profile must be a TxProfile */
        const char *purpose = jstr(prof, "chargingProfilePurpose");
        if (!purpose || strcmp(purpose, "TxProfile") != 0 || smart_install(st, (int)c, prof, NULL))
            ok = false;
    }
    reply_status(st, msgid, ok ? "Accepted" : "Rejected");
    if (!ok) return;
    conn_t *k = &st->conn[c];
    if (cfg_bool(st, V_AUTH_REMOTE)) {
        /* AuthorizeRemoteTxRequests / AuthorizeRemoteStart: authorize first */
        copy_str(k->auth_tag, sizeof k->auth_tag, tag);
        copy_str(k->auth_type, sizeof k->auth_type, type ? type : "ISO14443");
        k->auth_remote = true;
        k->auth_remote_id = (int)rid;
        cJSON *a = cJSON_CreateObject();
        if (v16) {
            cJSON_AddStringToObject(a, "idTag", tag);
        } else {
            cJSON_AddItemToObject(
                a, "idToken",
                cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(p, "idToken"), true));
        }
        qmsg_t *m = st_call(st, "Authorize", a);
        if (m) {
            m->ctx_conn = (int)c;
            copy_str(m->ctx_tag, sizeof m->ctx_tag, tag);
        }
    } else {
        tx_authorized(st, (int)c, tag, type, true, (int)rid);
    }
}

static void remote_stop(lw_station_t *st, const char *msgid, cJSON *p)
{
    char id[40] = "";
    cJSON *t = cJSON_GetObjectItemCaseSensitive(p, "transactionId");
    if (cJSON_IsNumber(t))
        snprintf(id, sizeof id, "%ld", (long)t->valuedouble);
    else if (cJSON_IsString(t))
        copy_str(id, sizeof id, t->valuestring);
    int c = id[0] ? tx_find_by_id(st, id) : -1;
    reply_status(st, msgid, c > 0 ? "Accepted" : "Rejected");
    if (c > 0) tx_stop(st, c, "Remote", "RemoteStop");
}

static bool do_unlock(lw_station_t *st, int c)
{
    return st->hooks.unlock ? st->hooks.unlock(st->hooks.ctx, c) : true;
}

static void unlock16(lw_station_t *st, const char *msgid, cJSON *p)
{
    long c = -1;
    jint(p, "connectorId", &c);
    if (!valid_conn(st, c, false)) {
        reply_status(st, msgid, "NotSupported");
        return;
    }
    /* 1.6 §5.18: a running transaction is stopped first (reason UnlockCommand) */
    if (st->conn[c].tx.active) tx_stop(st, (int)c, "UnlockCommand", NULL);
    reply_status(st, msgid, do_unlock(st, (int)c) ? "Unlocked" : "UnlockFailed");
}

static void unlock2x(lw_station_t *st, const char *msgid, cJSON *p)
{
    long e = -1, c = -1;
    jint(p, "evseId", &e);
    jint(p, "connectorId", &c);
    const char *s;
    if (!valid_conn(st, e, false) || c != 1)
        s = "UnknownConnector";
    else if (st->conn[e].tx.active)
        s = "OngoingAuthorizedTransaction"; /* F05.FR.02 */
    else
        s = do_unlock(st, (int)e) ? "Unlocked" : "UnlockFailed";
    reply_status(st, msgid, s);
}

static void change_availability(lw_station_t *st, const char *msgid, cJSON *p)
{
    long c = 0;
    const char *type;
    if (is_v16(st)) {
        jint(p, "connectorId", &c);
        type = jstr(p, "type");
    } else {
        cJSON *e = cJSON_GetObjectItemCaseSensitive(p, "evse");
        if (e) {
            jint(e, "id", &c);
            long cid;
            if (jint(e, "connectorId", &cid) && cid != 1) c = -1;
        }
        type = jstr(p, "operationalStatus");
    }
    if (!type || !valid_conn(st, c, true)) {
        reply_status(st, msgid, "Rejected");
        return;
    }
    bool op = !strcmp(type, "Operative");
    bool scheduled = false;
    if (c == 0) {
        if (!op)
            for (int i = 1; i <= st->nconn; i++)
                if (st->conn[i].tx.active) scheduled = true;
        st->station_operative = op;
        jr_availability(st, 0);
    } else {
        conn_t *k = &st->conn[c];
        if (!op && k->tx.active) {
            /* 1.6 §5.2 / G03.FR.05: Scheduled, takes effect when the transaction ends */
            k->change_scheduled = true;
            scheduled = true;
        } else {
            k->change_scheduled = false;
            k->operative = op;
            jr_availability(st, (int)c);
        }
    }
    reply_status(st, msgid, scheduled ? "Scheduled" : "Accepted");
    tx_apply_availability(st);
}

/* ---- authorization cache, local list ----------------------------------------------------- */
static void clear_cache(lw_station_t *st, const char *msgid, cJSON *p)
{
    if (!cfg_bool(st, V_AUTH_CACHE_ENABLED)) {
        reply_status(st, msgid, "Rejected");
        return;
    }
    memset(st->cache, 0, sizeof st->cache);
    st->cache_next = 0;
    reply_status(st, msgid, "Accepted");
}

static void get_local_list_version(lw_station_t *st, const char *msgid, cJSON *p)
{
    cJSON *r = cJSON_CreateObject();
    int v = st->local_version;
    if (is_v16(st) && !cfg_bool(st, V_LOCAL_LIST_ENABLED)) v = -1; /* 1.6 §5.10 */
    cJSON_AddNumberToObject(r, is_v16(st) ? "listVersion" : "versionNumber", v);
    st_reply(st, msgid, r);
}

static auth_entry_t *list_find(lw_station_t *st, const char *tag)
{
    for (size_t i = 0; i < st->local_n; i++)
        if (!strcmp(st->local_list[i].tag, tag)) return &st->local_list[i];
    return NULL;
}

static void send_local_list(lw_station_t *st, const char *msgid, cJSON *p)
{
    bool v16 = is_v16(st);
    long ver = 0;
    jint(p, v16 ? "listVersion" : "versionNumber", &ver);
    const char *type = jstr(p, "updateType");
    cJSON *list = cJSON_GetObjectItemCaseSensitive(p, "localAuthorizationList");
    if (!cfg_bool(st, V_LOCAL_LIST_ENABLED)) {
        reply_status(st, msgid, v16 ? "NotSupported" : "Failed");
        return;
    }
    if (!st->local_list) st->local_list = calloc(LW_STATION_LOCAL_LIST_MAX, sizeof(auth_entry_t));
    if (!st->local_list || !type) {
        reply_status(st, msgid, "Failed");
        return;
    }
    bool full = !strcmp(type, "Full");
    if (!full && ver <= st->local_version) {
        /* 1.6 §5.15 / D01.FR.?: a differential update must move the version forward */
        reply_status(st, msgid, "VersionMismatch");
        return;
    }
    /* apply to a copy so that a failure leaves the list as it was */
    auth_entry_t *copy = malloc(LW_STATION_LOCAL_LIST_MAX * sizeof *copy);
    if (!copy) {
        reply_status(st, msgid, "Failed");
        return;
    }
    memcpy(copy, st->local_list, LW_STATION_LOCAL_LIST_MAX * sizeof *copy);
    size_t saved_n = st->local_n;
    if (full) st->local_n = 0;
    bool failed = false;
    cJSON *e;
    cJSON_ArrayForEach(e, list)
    {
        const char *tag = v16 ? jstr(e, "idTag")
                              : jstr(cJSON_GetObjectItemCaseSensitive(e, "idToken"), "idToken");
        cJSON *info = cJSON_GetObjectItemCaseSensitive(e, v16 ? "idTagInfo" : "idTokenInfo");
        if (!tag || strlen(tag) >= TAG_MAX) {
            failed = true;
            break;
        }
        auth_entry_t *a = list_find(st, tag);
        if (!info) {
            if (a) {
                *a = st->local_list[--st->local_n];
            }
            continue;
        }
        if (!a) {
            if (st->local_n == LW_STATION_LOCAL_LIST_MAX) {
                failed = true;
                break;
            }
            a = &st->local_list[st->local_n++];
        }
        memset(a, 0, sizeof *a);
        a->used = true;
        copy_str(a->tag, sizeof a->tag, tag);
        copy_str(a->status, sizeof a->status,
                 jstr(info, "status") ? jstr(info, "status") : "Invalid");
        const char *exp = jstr(info, v16 ? "expiryDate" : "cacheExpiryDateTime");
        int64_t w;
        if (exp && lw_time_parse(lw_str_c(exp), &w) == 0) a->expiry = w;
        copy_str(a->parent, sizeof a->parent,
                 v16 ? jstr(info, "parentIdTag")
                     : jstr(cJSON_GetObjectItemCaseSensitive(info, "groupIdToken"), "idToken"));
    }
    if (failed) {
        memcpy(st->local_list, copy, LW_STATION_LOCAL_LIST_MAX * sizeof *copy);
        st->local_n = saved_n;
    } else {
        st->local_version = (int)ver;
        jr_local_list(st);
    }
    free(copy);
    reply_status(st, msgid, failed ? "Failed" : "Accepted");
}

/* ---- reservations -------------------------------------------------------------------------- */
static void reserve_now(lw_station_t *st, const char *msgid, cJSON *p)
{
    bool v16 = is_v16(st);
    long c = -1, rid = 0;
    jint(p, v16 ? "connectorId" : "evseId", &c);
    jint(p, v16 ? "reservationId" : "id", &rid);
    const char *tag =
        v16 ? jstr(p, "idTag") : jstr(cJSON_GetObjectItemCaseSensitive(p, "idToken"), "idToken");
    const char *parent = v16 ? jstr(p, "parentIdTag")
                             : jstr(cJSON_GetObjectItemCaseSensitive(p, "groupIdToken"), "idToken");
    int64_t exp = 0;
    const char *es = jstr(p, v16 ? "expiryDate" : "expiryDateTime");
    if (es) lw_time_parse(lw_str_c(es), &exp);
    const char *s = "Accepted";
    if (!v16 && !cfg_bool(st, V_RESERVATION_ENABLED))
        s = "Rejected";
    else if (!tag || strlen(tag) >= TAG_MAX || !valid_conn(st, c, false))
        s = "Rejected"; /* ReserveConnectorZeroSupported=false, or no EVSE given */
    else {
        /* the same reservation id on another connector is replaced (1.6 §5.13) */
        for (int i = 1; i <= st->nconn; i++)
            if (st->conn[i].reserved && st->conn[i].res_id == rid && i != c) {
                st->conn[i].reserved = false;
                tx_update_status(st, i, false);
            }
        conn_t *k = &st->conn[c];
        if (k->faulted)
            s = "Faulted";
        else if (!k->operative || !st->station_operative)
            s = "Unavailable";
        else if (k->tx.active || k->plugged || k->auth_pending || (k->reserved && k->res_id != rid))
            s = "Occupied";
    }
    reply_status(st, msgid, s);
    if (strcmp(s, "Accepted") != 0) {
        jr_reservations(st); /* one may have been moved away above */
        return;
    }
    conn_t *k = &st->conn[c];
    k->reserved = true;
    k->res_id = (int)rid;
    copy_str(k->res_tag, sizeof k->res_tag, tag);
    copy_str(k->res_parent, sizeof k->res_parent, parent);
    k->res_expiry_wall = exp;
    jr_reservations(st);
    tx_update_status(st, (int)c, false);
}

static void cancel_reservation(lw_station_t *st, const char *msgid, cJSON *p)
{
    long rid = -1;
    jint(p, "reservationId", &rid);
    for (int c = 1; c <= st->nconn; c++)
        if (st->conn[c].reserved && st->conn[c].res_id == rid) {
            st->conn[c].reserved = false;
            jr_reservations(st);
            reply_status(st, msgid, "Accepted");
            tx_update_status(st, c, false);
            return;
        }
    reply_status(st, msgid, "Rejected");
}

/* ---- firmware, logs --------------------------------------------------------------------
 * Without transfer ops (station.h) the statuses follow each other on timers. With them the
 * host moves the bytes: Downloading -> (host GET) -> Downloaded [-> SignatureVerified |
 * InvalidSignature] -> Installing -> Installed, DownloadFailed on any error; Uploading ->
 * (host POST/PUT of a generated log file) -> Uploaded | UploadFailed (2.x UploadFailure). */
static const char *fw_status_action(const lw_station_t *st)
{
    return is_v16(st) && st->fw.is_signed ? "SignedFirmwareStatusNotification"
                                          : "FirmwareStatusNotification";
}

static void send_fw_status(lw_station_t *st, const char *status)
{
    copy_str(st->fw.last_status, sizeof st->fw.last_status, status);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "status", status);
    if (!is_v16(st) || st->fw.is_signed) cJSON_AddNumberToObject(p, "requestId", st->fw.request_id);
    st_call(st, fw_status_action(st), p);
}

static bool url_ok(const lw_station_t *st, const char *u)
{
    if (!u) return false;
    const char *colon = strstr(u, "://");
    if (!colon || colon == u) return false;
    size_t n = (size_t)(colon - u);
    /* the host's list when it moves bytes, otherwise the schemes a station would know */
    const char *list =
        st->xfers ? (st->xfers->schemes ? st->xfers->schemes : "") : "http,https,ftp,ftps,sftp";
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncasecmp(p, u, n)) return true;
        if (!e) break;
        p = e + 1;
    }
    return false;
}

static void job_clear(job_t *j)
{
    free(j->signature);
    free(j->signing_pem);
    free(j->upload);
    j->signature = j->signing_pem = j->upload = NULL;
    j->upload_len = 0;
    j->waiting = false;
    j->xfer = 0;
}

void calls_free(lw_station_t *st)
{
    job_clear(&st->fw);
    job_clear(&st->log);
}

static void start_fw(lw_station_t *st, const char *location, const char *when, long rid,
                     bool is_signed, const char *signature, const char *signing_pem)
{
    int64_t at = 0;
    if (when) lw_time_parse(lw_str_c(when), &at);
    int64_t delay = at - st_wall(st);
    if (delay < 0) delay = 0;
    if (delay > 86400000LL * 30) delay = 86400000LL * 30;
    job_clear(&st->fw); /* a transfer of the request replaced is ignored when it ends */
    st->fw.active = true;
    st->fw.step = 0;
    st->fw.next = st_mono(st) + (uint64_t)delay;
    st->fw.request_id = (int)rid;
    st->fw.is_signed = is_signed;
    if (signature) st->fw.signature = lw_str_dup(lw_str_c(signature));
    if (signing_pem) st->fw.signing_pem = lw_str_dup(lw_str_c(signing_pem));
    copy_str(st->fw.location, sizeof st->fw.location, location);
}

static void update_firmware16(lw_station_t *st, const char *msgid, cJSON *p)
{
    st_reply(st, msgid, cJSON_CreateObject()); /* 1.6: empty answer */
    start_fw(st, jstr(p, "location"), jstr(p, "retrieveDate"), 0, false, NULL, NULL);
}

static void signed_update_firmware(lw_station_t *st, const char *msgid, cJSON *p)
{
    long rid = 0;
    jint(p, "requestId", &rid);
    cJSON *fw = cJSON_GetObjectItemCaseSensitive(p, "firmware");
    const char *loc = jstr(fw, "location");
    const char *cert = jstr(fw, "signingCertificate");
    X509 *x = NULL;
    if (cert) {
        BIO *b = BIO_new_mem_buf(cert, -1);
        x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
    }
    if (!x) {
        /* Security Whitepaper / L01.FR.02: a certificate that does not parse */
        reply_status(st, msgid, "InvalidCertificate");
        return;
    }
    X509_free(x);
    reply_status(st, msgid, st->fw.active ? "AcceptedCanceled" : "Accepted");
    start_fw(st, loc, jstr(fw, "retrieveDateTime"), rid, true, jstr(fw, "signature"), cert);
}

static void update_firmware2x(lw_station_t *st, const char *msgid, cJSON *p)
{
    long rid = 0;
    jint(p, "requestId", &rid);
    cJSON *fw = cJSON_GetObjectItemCaseSensitive(p, "firmware");
    const char *loc = jstr(fw, "location");
    const char *cert = jstr(fw, "signingCertificate");
    if (cert) {
        BIO *b = BIO_new_mem_buf(cert, -1);
        X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
        if (!x) {
            reply_status(st, msgid, "InvalidCertificate");
            return;
        }
        X509_free(x);
    }
    /* L01.FR.24: a new request cancels the one in progress */
    reply_status(st, msgid, st->fw.active ? "AcceptedCanceled" : "Accepted");
    const char *sig = jstr(fw, "signature");
    start_fw(st, loc, jstr(fw, "retrieveDateTime"), rid, sig != NULL, sig, cert);
}

/* L01.FR.03 / whitepaper: the firmware's signature (base64) over the image, checked with
 * the signing certificate's public key, SHA-256. */
static bool signature_ok(const char *sig_b64, const char *pem, const void *data, size_t len)
{
    bool ok = false;
    size_t n = strlen(sig_b64);
    unsigned char *sig = malloc(n / 4 * 3 + 4);
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    EVP_PKEY *key = x ? X509_get_pubkey(x) : NULL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int sl = sig && n % 4 == 0 ? EVP_DecodeBlock(sig, (const unsigned char *)sig_b64, (int)n) : -1;
    if (sl > 0) {
        /* EVP_DecodeBlock counts the '=' padding as zero bytes */
        if (n >= 1 && sig_b64[n - 1] == '=') sl--;
        if (n >= 2 && sig_b64[n - 2] == '=') sl--;
    }
    if (sl > 0 && key && md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
        EVP_DigestVerify(md, sig, (size_t)sl, data, len) == 1)
        ok = true;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    X509_free(x);
    BIO_free(b);
    free(sig);
    return ok;
}

int lw_station_download_done(lw_station_t *st, uint32_t xfer, int status, const void *data,
                             size_t len)
{
    job_t *j = &st->fw;
    if (!j->active || !j->waiting || j->xfer != xfer || !xfer) return LW_ENOTFOUND;
    j->waiting = false;
    j->xfer = 0;
    if (status != 0 || len > LW_STATION_FIRMWARE_MAX || (len && !data)) {
        lw_log(LW_LOG_WARN, "station", "station=%s event=firmware_download_failed err=%s len=%zu",
               st->id, status ? lw_strerror(status) : "too big", len);
        send_fw_status(st, "DownloadFailed");
        j->active = false;
        job_clear(j);
        st_pump(st);
        return 0;
    }
    send_fw_status(st, "Downloaded");
    if (j->signature && j->signing_pem) {
        if (!signature_ok(j->signature, j->signing_pem, data, len)) {
            send_fw_status(st, "InvalidSignature"); /* L01.FR.03 */
            j->active = false;
            job_clear(j);
            st_pump(st);
            return 0;
        }
        send_fw_status(st, "SignatureVerified");
    }
    j->step = 3; /* install next, when no transaction runs */
    j->next = st_mono(st) + 500;
    st_pump(st);
    return 0;
}

static void fw_tick(lw_station_t *st)
{
    job_t *j = &st->fw;
    if (!j->active || j->waiting || st_mono(st) < j->next || !st_online(st)) return;
    uint64_t now = st_mono(st);
    switch (j->step) {
    case 0:
        if (!url_ok(st, j->location)) {
            send_fw_status(st, "DownloadFailed");
            j->active = false;
            return;
        }
        send_fw_status(st, "Downloading");
        if (st->xfers && st->xfers->download) {
            j->xfer = ++st->next_xfer ? st->next_xfer : ++st->next_xfer;
            j->waiting = true;
            int rc = st->xfers->download(st->xfers->ctx, j->xfer, j->location);
            if (rc != 0) {
                j->waiting = false;
                send_fw_status(st, "DownloadFailed");
                j->active = false;
            }
            return;
        }
        j->next = now + 2000;
        break;
    case 1:
        send_fw_status(st, "Downloaded");
        j->next = now + 1000;
        break;
    case 2:
        if (j->is_signed) send_fw_status(st, "SignatureVerified");
        j->next = now + 500;
        break;
    case 3:
        /* install only when no transaction runs (1.6 §5.19, L01.FR.06) */
        if (tx_any_active(st)) {
            j->next = now + 5000;
            return;
        }
        send_fw_status(st, "Installing");
        j->next = now + 2000;
        break;
    case 4:
        send_fw_status(st, "Installed");
        j->active = false;
        job_clear(j);
        st_request_reset(st, true, "FirmwareUpdate");
        return;
    }
    j->step++;
}

static void send_log_status(lw_station_t *st, const char *status)
{
    copy_str(st->log.last_status, sizeof st->log.last_status, status);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "status", status);
    if (st->log.is_signed) cJSON_AddNumberToObject(p, "requestId", st->log.request_id);
    st_call(st, st->log.is_signed ? "LogStatusNotification" : "DiagnosticsStatusNotification", p);
}

static void start_log(lw_station_t *st, const char *msgid, const char *location, long rid,
                      bool getlog)
{
    char ts[32], name[96];
    st_timestamp(st, ts);
    snprintf(name, sizeof name, "%s-%s.log", st->id, ts);
    for (char *c = name; *c; c++)
        if (*c == ':') *c = '-';
    cJSON *r = cJSON_CreateObject();
    if (getlog) {
        cJSON_AddStringToObject(r, "status", st->log.active ? "AcceptedCanceled" : "Accepted");
        cJSON_AddStringToObject(r, "filename", name);
    } else {
        cJSON_AddStringToObject(r, "fileName", name);
    }
    st_reply(st, msgid, r);
    job_clear(&st->log);
    st->log.active = true;
    st->log.step = 0;
    st->log.next = st_mono(st) + 500;
    st->log.request_id = (int)rid;
    st->log.is_signed = getlog;
    copy_str(st->log.location, sizeof st->log.location, location);
    copy_str(st->log.filename, sizeof st->log.filename, name);
}

static void get_diagnostics(lw_station_t *st, const char *msgid, cJSON *p)
{
    start_log(st, msgid, jstr(p, "location"), 0, false);
}

static void get_log(lw_station_t *st, const char *msgid, cJSON *p)
{
    long rid = 0;
    jint(p, "requestId", &rid);
    start_log(st, msgid, jstr(cJSON_GetObjectItemCaseSensitive(p, "log"), "remoteLocation"), rid,
              true);
}

/* The log file a station uploads: what it is, its state and counters, one fact a line. */
static int make_log_file(lw_station_t *st, lw_buf_t *b)
{
    char ts[32];
    st_timestamp(st, ts);
    lw_station_stats_t s;
    lw_station_stats(st, &s);
    int rc =
        lw_buf_printf(b,
                      "ladewerk station log\nstation=%s\nocpp=%s\ntime=%s\nvendor=%s\n"
                      "model=%s\nfirmware=%s\nstate=%d\nqueued=%zu\ncalls_sent=%llu\n"
                      "invalid_in=%llu\n",
                      st->id, lw_ocpp_version_name(st->ver), ts, st->vendor, st->model,
                      st->fw_version, (int)st->state, lw_station_queued(st),
                      (unsigned long long)s.rpc.tx[LW_RPC_CALL], (unsigned long long)s.invalid_in);
    for (int c = 1; !rc && c <= st->nconn; c++)
        rc = lw_buf_printf(
            b, "connector=%d status=%s energy_wh=%.1f transaction=%s\n", c,
            cstatus_name(st, st->conn[c].reported_valid ? st->conn[c].reported : CS_AVAILABLE),
            st->conn[c].energy_wh, st->conn[c].tx.active ? "yes" : "no");
    return rc;
}

int lw_station_upload_done(lw_station_t *st, uint32_t xfer, int status)
{
    job_t *j = &st->log;
    if (!j->active || !j->waiting || j->xfer != xfer || !xfer) return LW_ENOTFOUND;
    if (status != 0)
        lw_log(LW_LOG_WARN, "station", "station=%s event=log_upload_failed err=%s", st->id,
               lw_strerror(status));
    /* DiagnosticsStatus says UploadFailed, UploadLogStatus says UploadFailure */
    send_log_status(st, status == 0 ? "Uploaded" : j->is_signed ? "UploadFailure" : "UploadFailed");
    j->active = false;
    job_clear(j);
    st_pump(st);
    return 0;
}

static void log_tick(lw_station_t *st)
{
    job_t *j = &st->log;
    if (!j->active || j->waiting || st_mono(st) < j->next || !st_online(st)) return;
    if (j->step == 0) {
        if (!url_ok(st, j->location)) {
            send_log_status(st, st->log.is_signed ? "UploadFailure" : "UploadFailed");
            j->active = false;
            return;
        }
        send_log_status(st, "Uploading");
        if (st->xfers && st->xfers->upload) {
            lw_buf_t b;
            lw_buf_init(&b, 1024 * 1024);
            int rc = make_log_file(st, &b);
            if (!rc) rc = lw_buf_cstr(&b);
            if (!rc) {
                j->upload = b.data;
                j->upload_len = b.len;
                j->xfer = ++st->next_xfer ? st->next_xfer : ++st->next_xfer;
                j->waiting = true;
                rc = st->xfers->upload(st->xfers->ctx, j->xfer, j->location, j->filename, j->upload,
                                       j->upload_len);
            } else {
                lw_buf_free(&b);
            }
            if (rc != 0) {
                send_log_status(st, st->log.is_signed ? "UploadFailure" : "UploadFailed");
                j->active = false;
                job_clear(j);
            }
            return;
        }
        j->next = st_mono(st) + 2000;
        j->step++;
    } else {
        send_log_status(st, "Uploaded");
        j->active = false;
    }
}

/* ---- trigger ------------------------------------------------------------------------------ */
static void trigger(lw_station_t *st, const char *msgid, cJSON *p, bool extended)
{
    const char *what = jstr(p, "requestedMessage");
    long c = -1;
    bool v16 = is_v16(st);
    if (v16) {
        jint(p, "connectorId", &c);
    } else {
        cJSON *e = cJSON_GetObjectItemCaseSensitive(p, "evse");
        if (e) jint(e, "id", &c);
    }
    if (!what || (c != -1 && !valid_conn(st, c, v16))) {
        reply_status(st, msgid, "Rejected");
        return;
    }
    if (!strcmp(what, "BootNotification")) {
        if (!v16 && st->state == LW_STATION_ACCEPTED) {
            reply_status(st, msgid, "Rejected"); /* F06.FR.17 */
            return;
        }
        reply_status(st, msgid, "Accepted");
        if (st->state == LW_STATION_ACCEPTED)
            st_trigger_boot(st);
        else
            st->boot_at = st_mono(st);
    } else if (!strcmp(what, "Heartbeat")) {
        reply_status(st, msgid, "Accepted");
        st_send_heartbeat(st);
    } else if (!strcmp(what, "StatusNotification")) {
        reply_status(st, msgid, "Accepted");
        if (c >= 0)
            tx_send_status(st, (int)c);
        else
            for (int i = v16 ? 0 : 1; i <= st->nconn; i++)
                tx_send_status(st, i);
    } else if (!strcmp(what, "MeterValues")) {
        reply_status(st, msgid, "Accepted");
        for (int i = 1; i <= st->nconn; i++)
            if (c <= 0 || c == i) tx_send_meter_values(st, i, "Trigger", false);
    } else if (!v16 && !strcmp(what, "TransactionEvent")) {
        bool any = false;
        for (int i = 1; i <= st->nconn; i++)
            if ((c <= 0 || c == i) && st->conn[i].tx.active) any = true;
        reply_status(st, msgid, any ? "Accepted" : "Rejected");
        for (int i = 1; any && i <= st->nconn; i++)
            if ((c <= 0 || c == i) && st->conn[i].tx.active)
                tx_send_tx_updated(st, i, "Trigger", "Trigger");
    } else if (!strcmp(what, "FirmwareStatusNotification")) {
        reply_status(st, msgid, "Accepted");
        cJSON *q = cJSON_CreateObject();
        /* 1.6 §5.17 / F06: Idle unless a firmware job is running */
        cJSON_AddStringToObject(q, "status", st->fw.active ? st->fw.last_status : "Idle");
        if (!v16 && st->fw.active) cJSON_AddNumberToObject(q, "requestId", st->fw.request_id);
        st_call(st, "FirmwareStatusNotification", q);
    } else if ((v16 && !extended && !strcmp(what, "DiagnosticsStatusNotification")) ||
               ((!v16 || extended) && !strcmp(what, "LogStatusNotification"))) {
        reply_status(st, msgid, "Accepted");
        cJSON *q = cJSON_CreateObject();
        bool diag = !strcmp(what, "DiagnosticsStatusNotification");
        bool running = st->log.active && st->log.is_signed == !diag;
        cJSON_AddStringToObject(q, "status", running ? st->log.last_status : "Idle");
        if (!diag && running) cJSON_AddNumberToObject(q, "requestId", st->log.request_id);
        st_call(st, diag ? "DiagnosticsStatusNotification" : "LogStatusNotification", q);
    } else if ((extended && !strcmp(what, "SignChargePointCertificate")) ||
               (!v16 && !strcmp(what, "SignChargingStationCertificate"))) {
        char *csr = NULL;
        if (lw_station_make_csr(st, &csr) != 0) {
            reply_status(st, msgid, "Rejected");
            return;
        }
        reply_status(st, msgid, "Accepted");
        cJSON *q = cJSON_CreateObject();
        cJSON_AddStringToObject(q, "csr", csr);
        if (!v16) cJSON_AddStringToObject(q, "certificateType", "ChargingStationCertificate");
        free(csr);
        st_call(st, "SignCertificate", q);
    } else if (!v16) {
        /* SignV2GCertificate, SignCombinedCertificate, PublishFirmwareStatusNotification */
        reply_status(st, msgid, "NotImplemented");
    } else {
        reply_status(st, msgid, "NotImplemented");
    }
}

static void trigger_message(lw_station_t *st, const char *msgid, cJSON *p)
{
    trigger(st, msgid, p, false);
}

static void extended_trigger(lw_station_t *st, const char *msgid, cJSON *p)
{
    trigger(st, msgid, p, true);
}

/* ---- data transfer, transactions status, network ---------------------------------------- */
static void data_transfer(lw_station_t *st, const char *msgid, cJSON *p)
{
    /* no vendor extensions are implemented: 1.6 §4.3 / P01.FR.06 */
    reply_status(st, msgid, "UnknownVendorId");
}

static void get_transaction_status(lw_station_t *st, const char *msgid, cJSON *p)
{
    const char *id = jstr(p, "transactionId");
    cJSON *r = cJSON_CreateObject();
    size_t queued = 0;
    bool found_queued = false;
    if (st->inflight.active && st->inflight.msg && st->inflight.msg->qid) queued++;
    for (qmsg_t *m = st->qhead; m; m = m->next)
        if (m->qid) {
            queued++;
            if (id && strstr(m->payload, id)) found_queued = true;
        }
    if (id) {
        /* E14.FR.?: ongoingIndicator only when asked about a specific transaction */
        cJSON_AddBoolToObject(r, "ongoingIndicator", tx_find_by_id(st, id) > 0);
        cJSON_AddBoolToObject(r, "messagesInQueue", found_queued);
    } else {
        cJSON_AddBoolToObject(r, "messagesInQueue", queued > 0);
    }
    st_reply(st, msgid, r);
}

static void set_network_profile(lw_station_t *st, const char *msgid, cJSON *p)
{
    reply_status(st, msgid, "Rejected"); /* B09: network profiles are the host's business */
}

/* ---- certificates ------------------------------------------------------------------------ */
static void hex(const unsigned char *p, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = 0;
}

/* Fills the OCPP CertificateHashData (SHA256) of a PEM certificate. Returns 0 or LW_EPARSE. */
static int cert_hashes(const char *pem, cert_t *c)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!x) return LW_EPARSE;
    unsigned char md[SHA256_DIGEST_LENGTH];
    unsigned char *der = NULL;
    int n = i2d_X509_NAME(X509_get_issuer_name(x), &der);
    if (n > 0) {
        SHA256(der, (size_t)n, md);
        hex(md, sizeof md, c->issuer_name_hash);
    }
    OPENSSL_free(der);
    /* the issuer's key: for a self-signed (root) certificate that is its own key; for
     * others the authority key identifier is the best the station knows */
    const ASN1_BIT_STRING *key = X509_get0_pubkey_bitstr(x);
    if (key) {
        SHA256(key->data, (size_t)key->length, md);
        hex(md, sizeof md, c->issuer_key_hash);
    }
    const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
    BIGNUM *bn = ASN1_INTEGER_to_BN(sn, NULL);
    char *h = bn ? BN_bn2hex(bn) : NULL;
    if (h) {
        const char *s = h;
        while (*s == '0' && s[1])
            s++;
        copy_str(c->serial, sizeof c->serial, s);
        for (char *q = c->serial; *q; q++)
            if (*q >= 'A' && *q <= 'F') *q = (char)(*q - 'A' + 'a');
    }
    OPENSSL_free(h);
    BN_free(bn);
    X509_free(x);
    return 0;
}

static void install_certificate(lw_station_t *st, const char *msgid, cJSON *p)
{
    const char *type = jstr(p, "certificateType"), *pem = jstr(p, "certificate");
    cert_t c;
    memset(&c, 0, sizeof c);
    if (!type || !pem || cert_hashes(pem, &c) != 0) {
        reply_status(st, msgid, "Rejected");
        return;
    }
    int slot = -1;
    for (int i = 0; i < LW_STATION_CERTS_MAX; i++) {
        cert_t *o = &st->certs[i];
        if (o->used && !strcmp(o->serial, c.serial) &&
            !strcmp(o->issuer_name_hash, c.issuer_name_hash)) {
            slot = i; /* same certificate again: replace */
            break;
        }
        if (!o->used && slot < 0) slot = i;
    }
    if (slot < 0) {
        reply_status(st, msgid, "Failed"); /* CertificateStoreMaxLength reached */
        return;
    }
    free(st->certs[slot].pem);
    c.used = true;
    copy_str(c.type, sizeof c.type, type);
    c.pem = lw_str_dup(lw_str_c(pem));
    st->certs[slot] = c;
    jr_cert(st, slot);
    reply_status(st, msgid, "Accepted");
}

static cJSON *hash_json(const cert_t *c)
{
    cJSON *h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "hashAlgorithm", "SHA256");
    cJSON_AddStringToObject(h, "issuerNameHash", c->issuer_name_hash);
    cJSON_AddStringToObject(h, "issuerKeyHash", c->issuer_key_hash);
    cJSON_AddStringToObject(h, "serialNumber", c->serial);
    return h;
}

static void get_installed_certificate_ids(lw_station_t *st, const char *msgid, cJSON *p)
{
    bool v16 = is_v16(st);
    cJSON *types = cJSON_GetObjectItemCaseSensitive(p, "certificateType");
    cJSON *r = cJSON_CreateObject();
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < LW_STATION_CERTS_MAX; i++) {
        const cert_t *c = &st->certs[i];
        if (!c->used) continue;
        bool want = false;
        if (cJSON_IsString(types))
            want = !strcmp(types->valuestring, c->type);
        else if (cJSON_GetArraySize(types) == 0)
            want = true;
        else {
            cJSON *t;
            cJSON_ArrayForEach(t, types) if (cJSON_IsString(t) && !strcmp(t->valuestring, c->type))
                want = true;
        }
        if (!want) continue;
        if (v16) {
            cJSON_AddItemToArray(arr, hash_json(c));
        } else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "certificateType", c->type);
            cJSON_AddItemToObject(o, "certificateHashData", hash_json(c));
            cJSON_AddItemToArray(arr, o);
        }
    }
    bool any = cJSON_GetArraySize(arr) > 0;
    cJSON_AddStringToObject(r, "status", any ? "Accepted" : "NotFound");
    if (any)
        cJSON_AddItemToObject(r, v16 ? "certificateHashData" : "certificateHashDataChain", arr);
    else
        cJSON_Delete(arr);
    st_reply(st, msgid, r);
}

static void delete_certificate(lw_station_t *st, const char *msgid, cJSON *p)
{
    cJSON *h = cJSON_GetObjectItemCaseSensitive(p, "certificateHashData");
    const char *inh = jstr(h, "issuerNameHash"), *ikh = jstr(h, "issuerKeyHash"),
               *sn = jstr(h, "serialNumber");
    for (int i = 0; inh && ikh && sn && i < LW_STATION_CERTS_MAX; i++) {
        cert_t *c = &st->certs[i];
        if (c->used && !strcasecmp(c->issuer_name_hash, inh) &&
            !strcasecmp(c->issuer_key_hash, ikh) && !strcasecmp(c->serial, sn)) {
            free(c->pem);
            memset(c, 0, sizeof *c);
            jr_cert(st, i);
            reply_status(st, msgid, "Accepted");
            return;
        }
    }
    reply_status(st, msgid, "NotFound");
}

static void certificate_signed(lw_station_t *st, const char *msgid, cJSON *p)
{
    const char *chain = jstr(p, "certificateChain");
    cert_t c;
    memset(&c, 0, sizeof c);
    if (!chain || cert_hashes(chain, &c) != 0) {
        reply_status(st, msgid, "Rejected"); /* A02.FR.? / whitepaper: invalid certificate */
        return;
    }
    for (int i = 0; i < LW_STATION_CERTS_MAX; i++)
        if (!st->certs[i].used || !strcmp(st->certs[i].type, "ChargingStationCertificate")) {
            free(st->certs[i].pem);
            c.used = true;
            copy_str(c.type, sizeof c.type, "ChargingStationCertificate");
            c.pem = lw_str_dup(lw_str_c(chain));
            st->certs[i] = c;
            jr_cert(st, i);
            break;
        }
    reply_status(st, msgid, "Accepted");
}

int lw_station_make_csr(lw_station_t *st, char **pem)
{
    /* a fresh P-256 key and a CSR naming the station (whitepaper §A02 / 2.0.1 A02.FR.02) */
    int rc = LW_ENOMEM;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509_REQ *req = X509_REQ_new();
    X509_NAME *name = X509_NAME_new();
    BIO *b = BIO_new(BIO_s_mem());
    char tmp[128];
    if (key && req && name && b) {
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)st->id, -1, -1,
                                   0);
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                   (const unsigned char *)cfg_get(st, V_CPO_NAME, tmp, sizeof tmp),
                                   -1, -1, 0);
        X509_REQ_set_subject_name(req, name);
        X509_REQ_set_pubkey(req, key);
        if (X509_REQ_sign(req, key, EVP_sha256()) > 0 && PEM_write_bio_X509_REQ(b, req) == 1) {
            char *data;
            long n = BIO_get_mem_data(b, &data);
            *pem = malloc((size_t)n + 1);
            if (*pem) {
                memcpy(*pem, data, (size_t)n);
                (*pem)[n] = 0;
                rc = 0;
            }
        } else {
            rc = LW_ETLS;
        }
    }
    BIO_free(b);
    X509_NAME_free(name);
    X509_REQ_free(req);
    EVP_PKEY_free(key);
    return rc;
}

/* ---- features this station does not have ---------------------------------------------
 * Each is answered with the schema-valid response a station without the feature gives (the
 * status the response enum has for it), with statusInfo naming why, so a CSMS can tell
 * "not here" from "failed". The functional blocks: O display messages, N monitoring and
 * customer information, I tariffs and cost (2.1), R DER control (2.1), Q bidirectional/
 * aFRR (2.1), K dynamic schedules and priority charging (2.1), periodic event streams (2.1),
 * battery swap (2.1), web payments (2.1), L firmware publishing (local controllers only).
 */
static void reply_unsupported(lw_station_t *st, const char *msgid, const char *status)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "status", status);
    cJSON *si = cJSON_AddObjectToObject(r, "statusInfo");
    cJSON_AddStringToObject(si, "reasonCode", "UnsupportedRequest");
    st_reply(st, msgid, r);
}

#define UNSUPPORTED(fn, status)                                                                    \
    static void fn(lw_station_t *st, const char *msgid, cJSON *p)                                  \
    {                                                                                              \
        (void)p;                                                                                   \
        reply_unsupported(st, msgid, status);                                                      \
    }
/* no display: O01-O04 */
UNSUPPORTED(set_display_message, "Rejected")
UNSUPPORTED(get_display_messages, "Unknown") /* O02: no messages match */
UNSUPPORTED(clear_display_message, "Unknown")
/* no monitors: N02-N04 */
UNSUPPORTED(set_monitoring_base, "NotSupported")
UNSUPPORTED(set_monitoring_level, "Rejected")
UNSUPPORTED(get_monitoring_report, "NotSupported")
UNSUPPORTED(customer_information, "Rejected") /* N09 */
/* firmware publishing is a local controller's job (L03/L04) */
UNSUPPORTED(publish_firmware, "Rejected")
UNSUPPORTED(unpublish_firmware, "NoFirmware")
/* 2.1 */
UNSUPPORTED(afrr_signal, "Rejected")             /* no V2X */
UNSUPPORTED(adjust_event_stream, "Rejected")     /* no stream with that id */
UNSUPPORTED(der_control, "NotSupported")         /* Set/Get/ClearDERControl */
UNSUPPORTED(get_tariffs, "NoTariff")             /* I: no tariffs installed */
UNSUPPORTED(set_default_tariff, "Rejected")      /* I: tariffs not supported */
UNSUPPORTED(allowed_energy_transfer, "Rejected") /* no ISO 15118-20 energy modes */
UNSUPPORTED(request_battery_swap, "Rejected")    /* not a battery swap station */
UNSUPPORTED(update_dynamic_schedule, "Rejected") /* no Dynamic profile with that id */
UNSUPPORTED(use_priority_charging, "NoProfile")  /* no priority charging profile */
#undef UNSUPPORTED

static void empty_reply(lw_station_t *st, const char *msgid, cJSON *p)
{
    /* informational calls with an empty response (CostUpdated, 2.1 NotifyWebPaymentStarted,
     * GetPeriodicEventStream: no streams open) */
    (void)p;
    st_reply(st, msgid, cJSON_CreateObject());
}

static void set_variable_monitoring(lw_station_t *st, const char *msgid, cJSON *p)
{
    /* N04: every item answered; this station has no monitors to set */
    cJSON *r = cJSON_CreateObject();
    cJSON *res = cJSON_AddArrayToObject(r, "setMonitoringResult");
    cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(p, "setMonitoringData"))
    {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "status", "Rejected");
        cJSON_AddStringToObject(o, "type", jstr(it, "type"));
        long sev = 0;
        jint(it, "severity", &sev);
        cJSON_AddNumberToObject(o, "severity", (double)sev);
        cJSON_AddItemToObject(
            o, "component",
            cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(it, "component"), true));
        cJSON_AddItemToObject(
            o, "variable", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(it, "variable"), true));
        cJSON_AddItemToArray(res, o);
    }
    st_reply(st, msgid, r);
}

static void clear_variable_monitoring(lw_station_t *st, const char *msgid, cJSON *p)
{
    cJSON *r = cJSON_CreateObject();
    cJSON *res = cJSON_AddArrayToObject(r, "clearMonitoringResult");
    cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(p, "id"))
    {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "status", "NotFound");
        cJSON_AddNumberToObject(o, "id", it->valuedouble);
        cJSON_AddItemToArray(res, o);
    }
    st_reply(st, msgid, r);
}

static void change_transaction_tariff(lw_station_t *st, const char *msgid, cJSON *p)
{
    const char *id = jstr(p, "transactionId");
    reply_unsupported(st, msgid, id && tx_find_by_id(st, id) > 0 ? "Rejected" : "TxNotFound");
}

static void clear_tariffs(lw_station_t *st, const char *msgid, cJSON *p)
{
    /* no tariffs installed: each one asked for (or "all") is NoTariff */
    cJSON *r = cJSON_CreateObject();
    cJSON *res = cJSON_AddArrayToObject(r, "clearTariffsResult");
    cJSON *ids = cJSON_GetObjectItemCaseSensitive(p, "tariffIds"), *it;
    cJSON_ArrayForEach(it, ids)
    {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "tariffId", it->valuestring);
        cJSON_AddStringToObject(o, "status", "NoTariff");
        cJSON_AddItemToArray(res, o);
    }
    if (!cJSON_GetArraySize(res)) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "status", "NoTariff");
        cJSON_AddItemToArray(res, o);
    }
    st_reply(st, msgid, r);
}

/* ---- dispatch ------------------------------------------------------------------------------ */
static void not_supported(lw_station_t *st, const char *msgid, cJSON *p)
{
    (void)p;
    st_reply_error(st, msgid, LW_OCPP_ERR_NOT_SUPPORTED, "not supported by this station");
}

typedef struct {
    const char *action;
    handler_t h16; /* NULL: not a 1.6 action */
    handler_t h2x; /* NULL: not a 2.x action */
} route_t;

static const route_t routes[] = {
    {"GetConfiguration", get_configuration, NULL},
    {"ChangeConfiguration", change_configuration, NULL},
    {"GetVariables", NULL, get_variables},
    {"SetVariables", NULL, set_variables},
    {"GetBaseReport", NULL, get_base_report},
    {"GetReport", NULL, get_report},
    {"Reset", reset16, reset2x},
    {"RemoteStartTransaction", remote_start, NULL},
    {"RemoteStopTransaction", remote_stop, NULL},
    {"RequestStartTransaction", NULL, remote_start},
    {"RequestStopTransaction", NULL, remote_stop},
    {"UnlockConnector", unlock16, unlock2x},
    {"ChangeAvailability", change_availability, change_availability},
    {"ClearCache", clear_cache, clear_cache},
    {"GetLocalListVersion", get_local_list_version, get_local_list_version},
    {"SendLocalList", send_local_list, send_local_list},
    {"ReserveNow", reserve_now, reserve_now},
    {"CancelReservation", cancel_reservation, cancel_reservation},
    {"SetChargingProfile", smart_set, smart_set},
    {"ClearChargingProfile", smart_clear, smart_clear},
    {"GetCompositeSchedule", smart_composite, smart_composite},
    {"GetChargingProfiles", NULL, smart_get_profiles},
    {"TriggerMessage", trigger_message, trigger_message},
    {"ExtendedTriggerMessage", extended_trigger, NULL},
    {"UpdateFirmware", update_firmware16, update_firmware2x},
    {"SignedUpdateFirmware", signed_update_firmware, NULL},
    {"GetDiagnostics", get_diagnostics, NULL},
    {"GetLog", get_log, get_log},
    {"DataTransfer", data_transfer, data_transfer},
    {"GetTransactionStatus", NULL, get_transaction_status},
    {"SetNetworkProfile", NULL, set_network_profile},
    {"InstallCertificate", install_certificate, install_certificate},
    {"GetInstalledCertificateIds", get_installed_certificate_ids, get_installed_certificate_ids},
    {"DeleteCertificate", delete_certificate, delete_certificate},
    {"CertificateSigned", certificate_signed, certificate_signed},
    /* 2.x features this station does not have, answered as the responses allow */
    {"SetDisplayMessage", NULL, set_display_message},
    {"GetDisplayMessages", NULL, get_display_messages},
    {"ClearDisplayMessage", NULL, clear_display_message},
    {"SetVariableMonitoring", NULL, set_variable_monitoring},
    {"ClearVariableMonitoring", NULL, clear_variable_monitoring},
    {"SetMonitoringBase", NULL, set_monitoring_base},
    {"SetMonitoringLevel", NULL, set_monitoring_level},
    {"GetMonitoringReport", NULL, get_monitoring_report},
    {"CustomerInformation", NULL, customer_information},
    {"CostUpdated", NULL, empty_reply},
    {"PublishFirmware", NULL, publish_firmware},
    {"UnpublishFirmware", NULL, unpublish_firmware},
    /* 2.1 only (the codec knows each action per version, so 2.0.1 never routes these) */
    {"AFRRSignal", NULL, afrr_signal},
    {"AdjustPeriodicEventStream", NULL, adjust_event_stream},
    {"GetPeriodicEventStream", NULL, empty_reply},
    {"ChangeTransactionTariff", NULL, change_transaction_tariff},
    {"ClearTariffs", NULL, clear_tariffs},
    {"GetTariffs", NULL, get_tariffs},
    {"SetDefaultTariff", NULL, set_default_tariff},
    {"SetDERControl", NULL, der_control},
    {"GetDERControl", NULL, der_control},
    {"ClearDERControl", NULL, der_control},
    {"NotifyAllowedEnergyTransfer", NULL, allowed_energy_transfer},
    {"NotifyWebPaymentStarted", NULL, empty_reply},
    {"RequestBatterySwap", NULL, request_battery_swap},
    {"UpdateDynamicSchedule", NULL, update_dynamic_schedule},
    {"UsePriorityCharging", NULL, use_priority_charging},
};

void calls_dispatch(lw_station_t *st, const char *msgid, const char *action, cJSON *payload)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (strcmp(routes[i].action, action) != 0) continue;
        handler_t h = is_v16(st) ? routes[i].h16 : routes[i].h2x;
        if (!h) break;
        h(st, msgid, payload);
        return;
    }
    /* the codec knows the action for this version (station.c checked), so it is never
     * NotImplemented: recognized, not supported (OCPP-J 1.6 §4.2.3, 2.0.1 Part 4 §4.3) */
    not_supported(st, msgid, payload);
}

bool calls_handled(lw_ocpp_version_t v, const char *action)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (!strcmp(routes[i].action, action))
            return (v == LW_OCPP_16 ? routes[i].h16 : routes[i].h2x) != NULL;
    return false;
}

void calls_tick(lw_station_t *st)
{
    fw_tick(st);
    log_tick(st);
    if (st->reset_pending && st->reset_at == UINT64_MAX && !tx_any_active(st)) {
        /* a Scheduled (OnIdle) reset: the last transaction ended */
        st->reset_at = st_mono(st) + 10000;
    }
}

uint64_t calls_next_deadline(const lw_station_t *st)
{
    uint64_t d = UINT64_MAX;
    if (!st_online(st)) return d; /* jobs go on after reconnecting */
    if (st->fw.active && !st->fw.waiting && st->fw.next < d) d = st->fw.next;
    if (st->log.active && !st->log.waiting && st->log.next < d) d = st->log.next;
    return d;
}

void calls_on_result(lw_station_t *st, qmsg_t *m, cJSON *payload)
{
    /* answers to Heartbeat (currentTime), StatusNotification, NotifyReport, ... need no
     * action from this station */
    (void)st;
    (void)m;
    (void)payload;
}
