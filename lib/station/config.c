/*
 * config.c — the station's configuration: one table serves both the 1.6 configuration keys
 * (OCPP 1.6 §9, Security Whitepaper §3) and the 2.x device model (OCPP 2.0.1 Part 2
 * Appendices, "referenced components and variables"). Each entry names its 1.6 key and/or
 * its 2.x component and variable, its type, its mutability and its default. Values that
 * differ from the default are kept as strings and written to the journal, so a change
 * survives a restart as it must (1.6 §5.3, 2.0.1 B05 "persistent").
 */
#include "station_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEAS_DEFAULT "Energy.Active.Import.Register,Power.Active.Import"

/* clang-format off */
const var_def_t lw_station_vars[V_COUNT] = {
    [V_HEARTBEAT] = {"HeartbeatInterval", "OCPPCommCtrlr", NULL, "HeartbeatInterval", NULL, VT_INT, VM_RW, "300", 0, 86400},
    [V_METER_SAMPLE_INTERVAL] = {"MeterValueSampleInterval", "SampledDataCtrlr", NULL, "TxUpdatedInterval", NULL, VT_INT, VM_RW, "60", 0, 86400},
    [V_ALIGNED_INTERVAL] = {"ClockAlignedDataInterval", "AlignedDataCtrlr", NULL, "Interval", NULL, VT_INT, VM_RW, "0", 0, 86400},
    [V_SAMPLED_DATA] = {"MeterValuesSampledData", "SampledDataCtrlr", NULL, "TxUpdatedMeasurands", NULL, VT_MEASURANDS, VM_RW, MEAS_DEFAULT, 0, 0},
    [V_ALIGNED_DATA] = {"MeterValuesAlignedData", "AlignedDataCtrlr", NULL, "Measurands", NULL, VT_MEASURANDS, VM_RW, "Energy.Active.Import.Register", 0, 0},
    [V_STOP_SAMPLED] = {"StopTxnSampledData", "SampledDataCtrlr", NULL, "TxEndedMeasurands", NULL, VT_MEASURANDS, VM_RW, "Energy.Active.Import.Register", 0, 0},
    [V_STOP_ALIGNED] = {"StopTxnAlignedData", "AlignedDataCtrlr", NULL, "TxEndedMeasurands", NULL, VT_MEASURANDS, VM_RW, "", 0, 0},
    [V_STARTED_MEASURANDS] = {NULL, "SampledDataCtrlr", NULL, "TxStartedMeasurands", NULL, VT_MEASURANDS, VM_RW, "Energy.Active.Import.Register", 0, 0},
    [V_CONNECTION_TIMEOUT] = {"ConnectionTimeOut", "TxCtrlr", NULL, "EVConnectionTimeOut", NULL, VT_INT, VM_RW, "120", 0, 3600},
    [V_LOCAL_AUTH_OFFLINE] = {"LocalAuthorizeOffline", "AuthCtrlr", NULL, "LocalAuthorizeOffline", NULL, VT_BOOL, VM_RW, "true", 0, 0},
    [V_LOCAL_PRE_AUTH] = {"LocalPreAuthorize", "AuthCtrlr", NULL, "LocalPreAuthorize", NULL, VT_BOOL, VM_RW, "false", 0, 0},
    [V_AUTH_CACHE_ENABLED] = {"AuthorizationCacheEnabled", "AuthCacheCtrlr", NULL, "Enabled", NULL, VT_BOOL, VM_RW, "true", 0, 0},
    [V_LOCAL_LIST_ENABLED] = {"LocalAuthListEnabled", "LocalAuthListCtrlr", NULL, "Enabled", NULL, VT_BOOL, VM_RW, "true", 0, 0},
    [V_LOCAL_LIST_MAX] = {"LocalAuthListMaxLength", "LocalAuthListCtrlr", NULL, "Entries", "Max", VT_INT, VM_RO, "$locallistmax", 0, 0},
    [V_SEND_LOCAL_LIST_MAX] = {"SendLocalListMaxLength", NULL, NULL, NULL, NULL, VT_INT, VM_RO, "$locallistmax", 0, 0},
    [V_NUM_CONNECTORS] = {"NumberOfConnectors", NULL, NULL, NULL, NULL, VT_INT, VM_RO, "$nconn", 0, 0},
    [V_FEATURE_PROFILES] = {"SupportedFeatureProfiles", NULL, NULL, NULL, NULL, VT_STR, VM_RO, "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger", 0, 0},
    [V_TX_ATTEMPTS] = {"TransactionMessageAttempts", "OCPPCommCtrlr", NULL, "MessageAttempts", "TransactionEvent", VT_INT, VM_RW, "3", 1, 100},
    [V_TX_RETRY_INTERVAL] = {"TransactionMessageRetryInterval", "OCPPCommCtrlr", NULL, "MessageAttemptInterval", "TransactionEvent", VT_INT, VM_RW, "60", 0, 86400},
    [V_RESET_RETRIES] = {"ResetRetries", "OCPPCommCtrlr", NULL, "ResetRetries", NULL, VT_INT, VM_RW, "1", 0, 10},
    [V_GETCONFIG_MAX_KEYS] = {"GetConfigurationMaxKeys", NULL, NULL, NULL, NULL, VT_INT, VM_RO, "$items", 0, 0},
    [V_AUTH_REMOTE] = {"AuthorizeRemoteTxRequests", "AuthCtrlr", NULL, "AuthorizeRemoteStart", NULL, VT_BOOL, VM_RW, "false", 0, 0},
    [V_STOP_ON_EV_DISCONNECT] = {"StopTransactionOnEVSideDisconnect", "TxCtrlr", NULL, "StopTxOnEVSideDisconnect", NULL, VT_BOOL, VM_RO, "true", 0, 0},
    [V_STOP_ON_INVALID_ID] = {"StopTransactionOnInvalidId", "TxCtrlr", NULL, "StopTxOnInvalidId", NULL, VT_BOOL, VM_RW, "true", 0, 0},
    [V_UNLOCK_ON_EV_DISCONNECT] = {"UnlockConnectorOnEVSideDisconnect", NULL, NULL, NULL, NULL, VT_BOOL, VM_RW, "true", 0, 0},
    [V_ALLOW_OFFLINE_UNKNOWN] = {"AllowOfflineTxForUnknownId", "AuthCtrlr", NULL, "OfflineTxForUnknownIdEnabled", NULL, VT_BOOL, VM_RW, "false", 0, 0},
    [V_WS_PING] = {"WebSocketPingInterval", "OCPPCommCtrlr", NULL, "WebSocketPingInterval", NULL, VT_INT, VM_RW, "0", 0, 3600},
    [V_MAX_STACK_LEVEL] = {"ChargeProfileMaxStackLevel", "SmartChargingCtrlr", NULL, "ProfileStackLevel", NULL, VT_INT, VM_RO, "$stackmax", 0, 0},
    [V_RATE_UNIT] = {"ChargingScheduleAllowedChargingRateUnit", "SmartChargingCtrlr", NULL, "RateUnit", NULL, VT_STR, VM_RO, "Current,Power", 0, 0},
    [V_MAX_PERIODS] = {"ChargingScheduleMaxPeriods", "SmartChargingCtrlr", NULL, "PeriodsPerSchedule", NULL, VT_INT, VM_RO, "$periodsmax", 0, 0},
    [V_MAX_PROFILES] = {"MaxChargingProfilesInstalled", "SmartChargingCtrlr", NULL, "Entries", "ChargingProfiles", VT_INT, VM_RO, "$profilesmax", 0, 0},
    [V_SAMPLED_MAXLEN] = {"MeterValuesSampledDataMaxLength", NULL, NULL, NULL, NULL, VT_INT, VM_RO, "8", 0, 0},
    [V_RESERVE_ZERO] = {"ReserveConnectorZeroSupported", NULL, NULL, NULL, NULL, VT_BOOL, VM_RO, "false", 0, 0},
    [V_SECURITY_PROFILE] = {"SecurityProfile", "SecurityCtrlr", NULL, "SecurityProfile", NULL, VT_INT, VM_RO, "$secprofile", 0, 3},
    [V_AUTH_KEY] = {"AuthorizationKey", "SecurityCtrlr", NULL, "BasicAuthPassword", NULL, VT_STR, VM_WO, "$password", 0, 0},
    [V_CPO_NAME] = {"CpoName", "SecurityCtrlr", NULL, "OrganizationName", NULL, VT_STR, VM_RW, "Ladewerk", 0, 0},
    [V_CERT_MAX] = {"CertificateStoreMaxLength", "SecurityCtrlr", NULL, "CertificateEntries", NULL, VT_INT, VM_RO, "$certmax", 0, 0},
    [V_ADDITIONAL_ROOT_CHECK] = {"AdditionalRootCertificateCheck", "SecurityCtrlr", NULL, "AdditionalRootCertificateCheck", NULL, VT_BOOL, VM_RO, "false", 0, 0},
    [V_BACKOFF_MIN] = {NULL, "OCPPCommCtrlr", NULL, "RetryBackOffWaitMinimum", NULL, VT_INT, VM_RW, "3", 0, 3600},
    [V_BACKOFF_RANGE] = {NULL, "OCPPCommCtrlr", NULL, "RetryBackOffRandomRange", NULL, VT_INT, VM_RW, "10", 0, 3600},
    [V_BACKOFF_REPEAT] = {NULL, "OCPPCommCtrlr", NULL, "RetryBackOffRepeatTimes", NULL, VT_INT, VM_RW, "5", 0, 20},
    [V_OFFLINE_THRESHOLD] = {NULL, "OCPPCommCtrlr", NULL, "OfflineThreshold", NULL, VT_INT, VM_RW, "60", 0, 86400},
    [V_ITEMS_PER_MESSAGE] = {NULL, "DeviceDataCtrlr", NULL, "ItemsPerMessage", "GetReport", VT_INT, VM_RO, "$items", 0, 0},
    [V_BYTES_PER_MESSAGE] = {NULL, "DeviceDataCtrlr", NULL, "BytesPerMessage", "GetReport", VT_INT, VM_RO, "$bytes", 0, 0},
    [V_SET_VARS_ITEMS] = {NULL, "DeviceDataCtrlr", NULL, "ItemsPerMessage", "SetVariables", VT_INT, VM_RO, "$items", 0, 0},
    [V_GET_VARS_ITEMS] = {NULL, "DeviceDataCtrlr", NULL, "ItemsPerMessage", "GetVariables", VT_INT, VM_RO, "$items", 0, 0},
    [V_TX_START_POINT] = {NULL, "TxCtrlr", NULL, "TxStartPoint", NULL, VT_STR, VM_RO, "PowerPathClosed", 0, 0},
    [V_TX_STOP_POINT] = {NULL, "TxCtrlr", NULL, "TxStopPoint", NULL, VT_STR, VM_RO, "PowerPathClosed", 0, 0},
    [V_AUTH_ENABLED] = {NULL, "AuthCtrlr", NULL, "Enabled", NULL, VT_BOOL, VM_RO, "true", 0, 0},
    [V_SMART_ENABLED] = {NULL, "SmartChargingCtrlr", NULL, "Enabled", NULL, VT_BOOL, VM_RO, "true", 0, 0},
    [V_RESERVATION_ENABLED] = {NULL, "ReservationCtrlr", NULL, "Enabled", NULL, VT_BOOL, VM_RW, "true", 0, 0},
    [V_LOCAL_LIST_ENTRIES] = {NULL, "LocalAuthListCtrlr", NULL, "Entries", NULL, VT_INT, VM_RO, "$localentries", 0, 0},
    [V_LOCAL_LIST_ITEMS_PER_MSG] = {NULL, "LocalAuthListCtrlr", NULL, "ItemsPerMessage", NULL, VT_INT, VM_RO, "$locallistmax", 0, 0},
    [V_LOCAL_LIST_BYTES_PER_MSG] = {NULL, "LocalAuthListCtrlr", NULL, "BytesPerMessage", NULL, VT_INT, VM_RO, "$bytes", 0, 0},
    [V_ALIGNED_TXENDED_INTERVAL] = {NULL, "AlignedDataCtrlr", NULL, "TxEndedInterval", NULL, VT_INT, VM_RW, "0", 0, 86400},
    [V_ID_VENDOR] = {NULL, "ChargingStation", NULL, "VendorName", NULL, VT_STR, VM_RO, "$vendor", 0, 0},
    [V_ID_MODEL] = {NULL, "ChargingStation", NULL, "Model", NULL, VT_STR, VM_RO, "$model", 0, 0},
    [V_ID_SERIAL] = {NULL, "ChargingStation", NULL, "SerialNumber", NULL, VT_STR, VM_RO, "$serial", 0, 0},
    [V_ID_FIRMWARE] = {NULL, "FirmwareCtrlr", NULL, "FirmwareVersion", NULL, VT_STR, VM_RO, "$firmware", 0, 0},
    [V_CS_AVAILABILITY] = {NULL, "ChargingStation", NULL, "AvailabilityState", NULL, VT_STR, VM_RO, "$availability", 0, 0},
    [V_CS_AVAILABLE] = {NULL, "ChargingStation", NULL, "Available", NULL, VT_BOOL, VM_RO, "true", 0, 0},
    [V_CS_SUPPLY_PHASES] = {NULL, "ChargingStation", NULL, "SupplyPhases", NULL, VT_INT, VM_RO, "$phases", 0, 0},
    [V_MSG_TIMEOUT] = {NULL, "OCPPCommCtrlr", NULL, "MessageTimeout", "Default", VT_INT, VM_RW, "30", 1, 3600},
    [V_CLOCK_TIME] = {NULL, "ClockCtrlr", NULL, "DateTime", NULL, VT_STR, VM_RO, "$now", 0, 0},
    [V_SAMPLED_TX_ENDED_INTERVAL] = {NULL, "SampledDataCtrlr", NULL, "TxEndedInterval", NULL, VT_INT, VM_RW, "0", 0, 86400},
};
/* clang-format on */

static const char *measurands[] = {"Energy.Active.Import.Register",
                                   "Power.Active.Import",
                                   "Current.Import",
                                   "Current.Offered",
                                   "Power.Offered",
                                   "Voltage",
                                   "SoC",
                                   "Frequency",
                                   NULL};

bool measurand_supported(const char *m)
{
    for (const char **p = measurands; *p; p++)
        if (!strcmp(*p, m)) return true;
    return false;
}

static const char *computed(const lw_station_t *st, const char *name, char *tmp, size_t tmpsz)
{
    if (!strcmp(name, "$nconn"))
        snprintf(tmp, tmpsz, "%d", st->nconn);
    else if (!strcmp(name, "$locallistmax"))
        snprintf(tmp, tmpsz, "%d", LW_STATION_LOCAL_LIST_MAX);
    else if (!strcmp(name, "$localentries"))
        snprintf(tmp, tmpsz, "%zu", st->local_n);
    else if (!strcmp(name, "$items"))
        snprintf(tmp, tmpsz, "%d", LW_STATION_ITEMS_PER_MESSAGE);
    else if (!strcmp(name, "$bytes"))
        snprintf(tmp, tmpsz, "%d", LW_FRAME_MAX_DEFAULT);
    else if (!strcmp(name, "$stackmax"))
        snprintf(tmp, tmpsz, "%d", LW_STATION_STACK_LEVEL_MAX);
    else if (!strcmp(name, "$periodsmax"))
        snprintf(tmp, tmpsz, "%d", LW_STATION_PERIODS_MAX);
    else if (!strcmp(name, "$profilesmax"))
        snprintf(tmp, tmpsz, "%d", LW_STATION_PROFILES_MAX);
    else if (!strcmp(name, "$certmax"))
        snprintf(tmp, tmpsz, "%d", LW_STATION_CERTS_MAX);
    else if (!strcmp(name, "$secprofile"))
        snprintf(tmp, tmpsz, "%d", st->security_profile);
    else if (!strcmp(name, "$password"))
        copy_str(tmp, tmpsz, st->password);
    else if (!strcmp(name, "$vendor"))
        copy_str(tmp, tmpsz, st->vendor);
    else if (!strcmp(name, "$model"))
        copy_str(tmp, tmpsz, st->model);
    else if (!strcmp(name, "$serial"))
        copy_str(tmp, tmpsz, st->serial);
    else if (!strcmp(name, "$firmware"))
        copy_str(tmp, tmpsz, st->fw_version);
    else if (!strcmp(name, "$phases"))
        snprintf(tmp, tmpsz, "%d", st->phases);
    else if (!strcmp(name, "$availability"))
        copy_str(tmp, tmpsz, st->station_operative ? "Available" : "Unavailable");
    else if (!strcmp(name, "$now")) {
        char ts[32];
        st_timestamp(st, ts);
        copy_str(tmp, tmpsz, ts);
    } else
        copy_str(tmp, tmpsz, "");
    return tmp;
}

const char *cfg_get(const lw_station_t *st, int v, char *tmp, size_t tmpsz)
{
    if (st->val[v]) return st->val[v];
    const char *d = lw_station_vars[v].dflt;
    if (d[0] == '$') return computed(st, d, tmp, tmpsz);
    return d;
}

long cfg_int(const lw_station_t *st, int v)
{
    char tmp[64];
    return strtol(cfg_get(st, v, tmp, sizeof tmp), NULL, 10);
}

bool cfg_bool(const lw_station_t *st, int v)
{
    char tmp[64];
    return !strcmp(cfg_get(st, v, tmp, sizeof tmp), "true");
}

int cfg_find16(const char *key)
{
    for (int i = 0; i < V_COUNT; i++)
        if (lw_station_vars[i].key16 && !strcmp(lw_station_vars[i].key16, key)) return i;
    return -1;
}

static bool opt_eq(const char *a, const char *b)
{
    if (!a || !*a) return !b || !*b;
    return b && !strcmp(a, b);
}

bool cfg_known_component(const char *comp)
{
    if (!strcmp(comp, "EVSE") || !strcmp(comp, "Connector")) return true;
    for (int i = 0; i < V_COUNT; i++)
        if (lw_station_vars[i].comp && !strcmp(lw_station_vars[i].comp, comp)) return true;
    return false;
}

int cfg_find2x(const char *comp, const char *cinst, const char *var, const char *vinst)
{
    bool known = false;
    for (int i = 0; i < V_COUNT; i++) {
        const var_def_t *d = &lw_station_vars[i];
        if (!d->comp || strcmp(d->comp, comp) != 0 || !opt_eq(d->inst_c, cinst)) continue;
        known = true;
        if (!strcmp(d->var, var) && opt_eq(d->inst_v, vinst)) return i;
    }
    return known ? -2 : -1;
}

static bool parse_int(const char *s, long *out)
{
    if (!*s) return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end || errno) return false;
    *out = v;
    return true;
}

static bool valid_measurands(const char *s)
{
    char item[64];
    const char *p = s;
    while (*p) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        while (n && isspace((unsigned char)*p))
            p++, n--;
        while (n && isspace((unsigned char)p[n - 1]))
            n--;
        if (!n || n >= sizeof item) return false;
        memcpy(item, p, n);
        item[n] = 0;
        if (!measurand_supported(item)) return false;
        p = c ? c + 1 : p + strlen(p);
        if (c && !*p) return false;
    }
    return true;
}

int cfg_set(lw_station_t *st, int v, const char *value, bool force, bool journal)
{
    const var_def_t *d = &lw_station_vars[v];
    if (d->mut == VM_RO && !force) return LW_EBUSY;
    long n = 0;
    switch (d->type) {
    case VT_INT:
        if (!parse_int(value, &n)) return LW_EINVAL;
        if ((d->min || d->max) && (n < d->min || n > d->max)) return LW_EINVAL;
        break;
    case VT_BOOL:
        if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0) return LW_EINVAL;
        break;
    case VT_MEASURANDS:
        if (!valid_measurands(value)) return LW_EINVAL;
        break;
    case VT_DECIMAL:
    case VT_STR:
        if (strlen(value) > 500) return LW_EINVAL;
        break;
    }
    if (v == V_AUTH_KEY) {
        /* Security Whitepaper §3.1 / 2.0.1 A02: 16..40 (1.6) / 16..40 (2.x: up to 64) chars */
        size_t l = strlen(value);
        if (!force && (l < 16 || l > 64)) return LW_EINVAL;
        copy_str(st->password, sizeof st->password, value);
    }
    char *copy = lw_str_dup(lw_str_c(value));
    if (!copy) return LW_ENOMEM;
    free(st->val[v]);
    st->val[v] = copy;
    if (v == V_HEARTBEAT && st->state == LW_STATION_ACCEPTED) {
        st->heartbeat_s = (int)n;
        st->heartbeat_at = n > 0 ? st_mono(st) + (uint64_t)n * 1000u : 0;
    }
    if (v == V_ALIGNED_INTERVAL) tx_schedule_aligned(st);
    if (journal && st->journal) {
        cJSON *rec = cJSON_CreateObject();
        cJSON_AddStringToObject(rec, "t", "cfg");
        cJSON_AddNumberToObject(rec, "v", v);
        cJSON_AddStringToObject(rec, "val", value);
        jr_append(st, rec);
        cJSON_Delete(rec);
    }
    return 0;
}

/* "Key" (1.6) or "Component.Variable", "Component.Variable[Instance]" (2.x) */
static int find_key(const lw_station_t *st, const char *key)
{
    if (is_v16(st)) return cfg_find16(key);
    char comp[64], var[64], inst[64] = "";
    const char *dot = strchr(key, '.');
    if (!dot || (size_t)(dot - key) >= sizeof comp) return -1;
    memcpy(comp, key, (size_t)(dot - key));
    comp[dot - key] = 0;
    copy_str(var, sizeof var, dot + 1);
    char *br = strchr(var, '[');
    if (br) {
        copy_str(inst, sizeof inst, br + 1);
        char *e = strchr(inst, ']');
        if (e) *e = 0;
        *br = 0;
    }
    int v = cfg_find2x(comp, NULL, var, inst[0] ? inst : NULL);
    return v < 0 ? -1 : v;
}

int lw_station_get_config(const lw_station_t *st, const char *key, char *out, size_t outsz)
{
    int v = find_key(st, key);
    if (v < 0) return LW_ENOTFOUND;
    char tmp[128];
    const char *val = cfg_get(st, v, tmp, sizeof tmp);
    if (strlen(val) >= outsz) return LW_ETOOBIG;
    copy_str(out, outsz, val);
    return 0;
}

int lw_station_set_config(lw_station_t *st, const char *key, const char *value, bool force)
{
    int v = find_key(st, key);
    if (v < 0) return LW_ENOTFOUND;
    int rc = cfg_set(st, v, value, force, true);
    return rc == LW_EBUSY ? LW_EINVAL : rc;
}
