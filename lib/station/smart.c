/*
 * smart.c — charging profiles (OCPP 1.6 §3.13 Smart Charging, 2.0.1 K01–K08): storing them
 * by id, purpose, stack level and connector/EVSE, the limit they impose at a given time,
 * and GetCompositeSchedule computed from them: for each point where any profile changes,
 * the highest stack level active per purpose, then the minimum of the station maximum
 * profile and the transaction (or default) profile. The limit also caps the simulated power.
 */
#include "station_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *purpose_name(const lw_station_t *st, int p)
{
    switch (p) {
    case PP_MAX:
        return is_v16(st) ? "ChargePointMaxProfile" : "ChargingStationMaxProfile";
    case PP_TXDEFAULT:
        return "TxDefaultProfile";
    case PP_TX:
        return "TxProfile";
    default:
        return "ChargingStationExternalConstraints";
    }
}

static int purpose_parse(const char *s)
{
    if (!s) return -1;
    if (!strcmp(s, "ChargePointMaxProfile") || !strcmp(s, "ChargingStationMaxProfile"))
        return PP_MAX;
    if (!strcmp(s, "TxDefaultProfile")) return PP_TXDEFAULT;
    if (!strcmp(s, "TxProfile")) return PP_TX;
    if (!strcmp(s, "ChargingStationExternalConstraints")) return PP_EXTERNAL;
    return -1;
}

static bool ensure(lw_station_t *st)
{
    if (!st->profiles) st->profiles = calloc(LW_STATION_PROFILES_MAX, sizeof(profile_t));
    return st->profiles != NULL;
}

static int64_t parse_time(const char *s)
{
    int64_t w;
    return s && lw_time_parse(lw_str_c(s), &w) == 0 ? w : 0;
}

/* Parses a 1.6 csChargingProfiles or a 2.x chargingProfile. Returns 0 or LW_EINVAL. */
static int parse_profile(lw_station_t *st, cJSON *j, int conn, profile_t *p)
{
    memset(p, 0, sizeof *p);
    long v;
    p->conn = conn;
    if (!jint(j, is_v16(st) ? "chargingProfileId" : "id", &v)) return LW_EINVAL;
    p->id = (int)v;
    if (!jint(j, "stackLevel", &v) || v < 0 || v > LW_STATION_STACK_LEVEL_MAX) return LW_EINVAL;
    p->stack = (int)v;
    p->purpose = purpose_parse(jstr(j, "chargingProfilePurpose"));
    if (p->purpose < 0) return LW_EINVAL;
    const char *kind = jstr(j, "chargingProfileKind");
    if (!kind) return LW_EINVAL;
    p->kind = !strcmp(kind, "Absolute")    ? PK_ABSOLUTE
              : !strcmp(kind, "Recurring") ? PK_RECURRING
              : !strcmp(kind, "Relative")  ? PK_RELATIVE
                                           : -1;
    if (p->kind < 0) return LW_EINVAL;
    const char *rk = jstr(j, "recurrencyKind");
    p->recurrency = rk ? (!strcmp(rk, "Daily") ? 1 : 2) : 0;
    if (p->kind == PK_RECURRING && !p->recurrency) return LW_EINVAL;
    p->valid_from = parse_time(jstr(j, "validFrom"));
    p->valid_to = parse_time(jstr(j, "validTo"));
    cJSON *tx = cJSON_GetObjectItemCaseSensitive(j, "transactionId");
    if (cJSON_IsNumber(tx))
        snprintf(p->tx_id, sizeof p->tx_id, "%ld", (long)tx->valuedouble);
    else if (cJSON_IsString(tx))
        copy_str(p->tx_id, sizeof p->tx_id, tx->valuestring);
    cJSON *sch = cJSON_GetObjectItemCaseSensitive(j, "chargingSchedule");
    if (cJSON_IsArray(sch)) sch = cJSON_GetArrayItem(sch, 0); /* 2.x: up to 3; we use one */
    if (!cJSON_IsObject(sch)) return LW_EINVAL;
    p->start_schedule = parse_time(jstr(sch, "startSchedule"));
    if (jint(sch, "duration", &v)) p->duration_s = (int)v;
    const char *unit = jstr(sch, "chargingRateUnit");
    if (!unit) return LW_EINVAL;
    p->unit_w = !strcmp(unit, "W");
    jnum(sch, "minChargingRate", &p->min_rate);
    cJSON *per;
    cJSON_ArrayForEach(per, cJSON_GetObjectItemCaseSensitive(sch, "chargingSchedulePeriod"))
    {
        if (p->nperiods == LW_STATION_PERIODS_MAX) return LW_EINVAL;
        period_t *q = &p->periods[p->nperiods++];
        if (!jint(per, "startPeriod", &v)) return LW_EINVAL;
        q->start_s = (int)v;
        if (!jnum(per, "limit", &q->limit)) return LW_EINVAL;
        if (jint(per, "numberPhases", &v)) q->phases = (int)v;
    }
    if (!p->nperiods || p->periods[0].start_s != 0) return LW_EINVAL;
    if ((p->kind == PK_ABSOLUTE || p->kind == PK_RECURRING) && !p->start_schedule) {
        /* an absolute schedule without startSchedule starts when it is installed */
        p->start_schedule = 0;
    }
    p->used = true;
    return 0;
}

static void install(lw_station_t *st, const profile_t *np)
{
    /* OCPP 1.6 §5.16.1 / 2.0.1 K01.FR.05/06: same id replaces; same purpose, stack level
     * and connector replaces */
    for (int i = 0; i < LW_STATION_PROFILES_MAX; i++) {
        profile_t *p = &st->profiles[i];
        if (!p->used) continue;
        if (p->id == np->id ||
            (p->purpose == np->purpose && p->stack == np->stack && p->conn == np->conn))
            p->used = false;
    }
    for (int i = 0; i < LW_STATION_PROFILES_MAX; i++)
        if (!st->profiles[i].used) {
            st->profiles[i] = *np;
            return;
        }
}

static bool has_room(lw_station_t *st, const profile_t *np)
{
    for (int i = 0; i < LW_STATION_PROFILES_MAX; i++) {
        const profile_t *p = &st->profiles[i];
        if (!p->used || p->id == np->id ||
            (p->purpose == np->purpose && p->stack == np->stack && p->conn == np->conn))
            return true;
    }
    return false;
}

static const char *tx_id_of(const lw_station_t *st, int c, char *buf, size_t n)
{
    const tx_t *t = &st->conn[c].tx;
    if (!t->active) return NULL;
    if (is_v16(st)) {
        if (t->csms_id < 0) return "";
        snprintf(buf, n, "%lld", (long long)t->csms_id);
        return buf;
    }
    return t->id;
}

int smart_install(lw_station_t *st, int conn, cJSON *prof, const char *tx_id)
{
    if (!ensure(st)) return LW_ENOMEM;
    profile_t np;
    if (parse_profile(st, prof, conn, &np) || np.purpose != PP_TX || !has_room(st, &np))
        return LW_EINVAL;
    if (tx_id) copy_str(np.tx_id, sizeof np.tx_id, tx_id);
    install(st, &np);
    jr_profiles(st);
    return 0;
}

void smart_set(lw_station_t *st, const char *msgid, cJSON *req)
{
    long conn = -1;
    jint(req, is_v16(st) ? "connectorId" : "evseId", &conn);
    cJSON *j = cJSON_GetObjectItemCaseSensitive(req, is_v16(st) ? "csChargingProfiles"
                                                                : "chargingProfile");
    const char *status = "Rejected";
    profile_t np;
    if (!ensure(st)) {
        st_reply_error(st, msgid, LW_OCPP_ERR_INTERNAL, "out of memory");
        return;
    }
    if (conn >= 0 && conn <= st->nconn && j && parse_profile(st, j, (int)conn, &np) == 0) {
        char b[24];
        const char *running = conn > 0 ? tx_id_of(st, (int)conn, b, sizeof b) : NULL;
        bool ok = true;
        if (np.purpose == PP_MAX && conn != 0) ok = false;
        if (np.purpose == PP_EXTERNAL) ok = false; /* K01.FR.22: set by external systems only */
        if (np.purpose == PP_TX) {
            /* 1.6 §3.13.4 / K01.FR.03/09: only with a running transaction (matching id) */
            if (conn == 0 || !running)
                ok = false;
            else if (np.tx_id[0] && running[0] && strcmp(np.tx_id, running) != 0)
                ok = false;
            else
                copy_str(np.tx_id, sizeof np.tx_id, running);
        }
        if (!has_room(st, &np)) ok = false;
        if (ok) {
            install(st, &np);
            jr_profiles(st);
            status = "Accepted";
        }
    }
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "status", status);
    st_reply(st, msgid, r);
    for (int c = 1; c <= st->nconn; c++)
        tx_integrate(st, c);
}

void smart_clear(lw_station_t *st, const char *msgid, cJSON *req)
{
    long id = -1, conn = -1, stack = -1;
    int purpose = -1;
    bool have_id;
    if (is_v16(st)) {
        have_id = jint(req, "id", &id);
        jint(req, "connectorId", &conn);
        purpose = purpose_parse(jstr(req, "chargingProfilePurpose"));
        jint(req, "stackLevel", &stack);
    } else {
        have_id = jint(req, "chargingProfileId", &id);
        cJSON *cr = cJSON_GetObjectItemCaseSensitive(req, "chargingProfileCriteria");
        if (cr) {
            jint(cr, "evseId", &conn);
            purpose = purpose_parse(jstr(cr, "chargingProfilePurpose"));
            jint(cr, "stackLevel", &stack);
        }
    }
    int removed = 0;
    for (int i = 0; st->profiles && i < LW_STATION_PROFILES_MAX; i++) {
        profile_t *p = &st->profiles[i];
        if (!p->used) continue;
        bool match;
        if (have_id)
            match = p->id == id;
        else
            match = (conn < 0 || p->conn == conn) && (purpose < 0 || p->purpose == purpose) &&
                    (stack < 0 || p->stack == stack);
        if (match && p->purpose != PP_EXTERNAL) {
            p->used = false;
            removed++;
        }
    }
    if (removed) jr_profiles(st);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "status", removed ? "Accepted" : "Unknown");
    st_reply(st, msgid, r);
    for (int c = 1; c <= st->nconn; c++)
        tx_integrate(st, c);
}

void smart_tx_ended(lw_station_t *st, int c)
{
    /* 1.6 §3.13.4 / K01.FR.05: a TxProfile ends with its transaction */
    bool changed = false;
    for (int i = 0; st->profiles && i < LW_STATION_PROFILES_MAX; i++)
        if (st->profiles[i].used && st->profiles[i].purpose == PP_TX && st->profiles[i].conn == c) {
            st->profiles[i].used = false;
            changed = true;
        }
    if (changed) jr_profiles(st);
}

/* ---- evaluation ------------------------------------------------------------------------- */
static double to_w(const lw_station_t *st, const profile_t *p, const period_t *q)
{
    if (p->unit_w) return q->limit;
    int ph = q->phases > 0 ? q->phases : st->phases;
    return q->limit * st->voltage * ph;
}

/* Start of the schedule instance that covers t, or INT64_MIN. */
static int64_t schedule_start(const lw_station_t *st, const profile_t *p, int c, int64_t t,
                              int64_t window_start)
{
    switch (p->kind) {
    case PK_RELATIVE:
        if (c > 0 && st->conn[c].tx.active) return st->conn[c].tx.start_wall;
        return window_start;
    case PK_RECURRING: {
        int64_t per = p->recurrency == 1 ? 86400000LL : 7 * 86400000LL;
        int64_t base = p->start_schedule;
        if (t < base) return INT64_MIN;
        return base + (t - base) / per * per;
    }
    default:
        return p->start_schedule ? p->start_schedule : window_start;
    }
}

/* The limit of p at t in W, or <0 when p is not in force at t. */
static double profile_at(const lw_station_t *st, const profile_t *p, int c, int64_t t,
                         int64_t window_start)
{
    if (p->valid_from && t < p->valid_from) return -1;
    if (p->valid_to && t >= p->valid_to) return -1;
    int64_t s = schedule_start(st, p, c, t, window_start);
    if (s == INT64_MIN || t < s) return -1;
    int64_t off = t - s;
    if (p->duration_s && off >= (int64_t)p->duration_s * 1000) return -1;
    const period_t *q = NULL;
    for (int i = 0; i < p->nperiods; i++)
        if ((int64_t)p->periods[i].start_s * 1000 <= off) q = &p->periods[i];
    return q ? to_w(st, p, q) : -1;
}

static bool applies(const lw_station_t *st, const profile_t *p, int c)
{
    switch (p->purpose) {
    case PP_MAX:
    case PP_EXTERNAL:
        return p->conn == 0;
    case PP_TXDEFAULT:
        return p->conn == 0 || p->conn == c;
    case PP_TX: {
        if (c == 0 || p->conn != c || !st->conn[c].tx.active) return false;
        char b[24];
        const char *id = tx_id_of(st, c, b, sizeof b);
        return !p->tx_id[0] || !id || !id[0] || !strcmp(id, p->tx_id);
    }
    }
    return false;
}

static double purpose_limit(const lw_station_t *st, int purpose, int c, int64_t t, int64_t ws)
{
    /* the highest stack level in force wins; a connector-specific default beats the
     * station-wide one at the same level */
    double best = -1;
    int best_stack = -1, best_conn = -1;
    for (int i = 0; st->profiles && i < LW_STATION_PROFILES_MAX; i++) {
        const profile_t *p = &st->profiles[i];
        if (!p->used || p->purpose != purpose || !applies(st, p, c)) continue;
        double l = profile_at(st, p, c, t, ws);
        if (l < 0) continue;
        if (p->stack > best_stack || (p->stack == best_stack && p->conn > best_conn)) {
            best = l;
            best_stack = p->stack;
            best_conn = p->conn;
        }
    }
    return best;
}

static double composite_at(const lw_station_t *st, int c, int64_t t, int64_t ws)
{
    double lim = -1;
    double m = purpose_limit(st, PP_MAX, c, t, ws);
    double e = purpose_limit(st, PP_EXTERNAL, c, t, ws);
    double x = c > 0 ? purpose_limit(st, PP_TX, c, t, ws) : -1;
    if (x < 0) x = purpose_limit(st, PP_TXDEFAULT, c, t, ws);
    double all[3] = {m, e, x};
    for (int i = 0; i < 3; i++)
        if (all[i] >= 0 && (lim < 0 || all[i] < lim)) lim = all[i];
    return lim;
}

double smart_limit_w(lw_station_t *st, int c, int64_t t)
{
    if (!st->profiles) return -1;
    return composite_at(st, c, t, t);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

void smart_composite(lw_station_t *st, const char *msgid, cJSON *req)
{
    long c = -1, dur = 0;
    jint(req, is_v16(st) ? "connectorId" : "evseId", &c);
    jint(req, "duration", &dur);
    const char *unit = jstr(req, "chargingRateUnit");
    cJSON *r = cJSON_CreateObject();
    if (c < 0 || c > st->nconn || dur <= 0) {
        cJSON_AddStringToObject(r, "status", "Rejected");
        st_reply(st, msgid, r);
        return;
    }
    bool unit_w = unit ? !strcmp(unit, "W") : false;
    int64_t t0 = st_wall(st), t1 = t0 + (int64_t)dur * 1000;
    /* every point in the window where some profile may change its limit */
    enum { MAXB = 512 };
    int64_t *pts = malloc(MAXB * sizeof *pts);
    size_t n = 0;
    if (!pts) {
        cJSON_Delete(r);
        st_reply_error(st, msgid, LW_OCPP_ERR_INTERNAL, "out of memory");
        return;
    }
    pts[n++] = t0;
#define ADD(x)                                                                                     \
    do {                                                                                           \
        int64_t x_ = (x);                                                                          \
        if (x_ > t0 && x_ < t1 && n < MAXB) pts[n++] = x_;                                         \
    } while (0)
    for (int i = 0; st->profiles && i < LW_STATION_PROFILES_MAX; i++) {
        const profile_t *p = &st->profiles[i];
        if (!p->used || !applies(st, p, (int)c)) continue;
        ADD(p->valid_from);
        ADD(p->valid_to);
        int64_t per = p->kind == PK_RECURRING ? (p->recurrency == 1 ? 86400000LL : 604800000LL) : 0;
        int64_t s = schedule_start(st, p, (int)c, t0, t0);
        if (s == INT64_MIN) s = p->start_schedule;
        for (int rep = 0; rep < 16; rep++) {
            int64_t base = s + rep * per;
            if (base >= t1) break;
            ADD(base);
            for (int k = 0; k < p->nperiods; k++)
                ADD(base + (int64_t)p->periods[k].start_s * 1000);
            if (p->duration_s) ADD(base + (int64_t)p->duration_s * 1000);
            if (!per) break;
        }
    }
#undef ADD
    qsort(pts, n, sizeof *pts, cmp_i64);
    double phase_w = st->voltage * st->phases;
    cJSON *sched = cJSON_CreateObject();
    char ts[32];
    lw_time_format(t0, ts, sizeof ts);
    cJSON_AddNumberToObject(sched, is_v16(st) ? "duration" : "evseId", is_v16(st) ? dur : c);
    if (!is_v16(st)) {
        cJSON_AddNumberToObject(sched, "duration", dur);
        cJSON_AddStringToObject(sched, "scheduleStart", ts);
    } else {
        cJSON_AddStringToObject(sched, "startSchedule", ts);
    }
    cJSON_AddStringToObject(sched, "chargingRateUnit", unit_w ? "W" : "A");
    cJSON *arr = cJSON_AddArrayToObject(sched, "chargingSchedulePeriod");
    double last = -2;
    int64_t prev = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        if (pts[i] == prev) continue;
        prev = pts[i];
        double w = composite_at(st, (int)c, pts[i], t0);
        double maxw = st->max_current * phase_w;
        if (w < 0 || w > maxw) w = maxw;
        double v = unit_w ? w : w / phase_w;
        v = floor(v * 10.0 + 0.5) / 10.0;
        if (v == last) continue;
        last = v;
        cJSON *q = cJSON_CreateObject();
        cJSON_AddNumberToObject(q, "startPeriod", (double)((pts[i] - t0) / 1000));
        cJSON_AddNumberToObject(q, "limit", v);
        cJSON_AddItemToArray(arr, q);
    }
    free(pts);
    cJSON_AddStringToObject(r, "status", "Accepted");
    if (is_v16(st)) {
        cJSON_AddNumberToObject(r, "connectorId", c);
        cJSON_AddStringToObject(r, "scheduleStart", ts);
        cJSON_AddItemToObject(r, "chargingSchedule", sched);
    } else {
        cJSON_AddItemToObject(r, "schedule", sched);
    }
    st_reply(st, msgid, r);
}

static cJSON *profile_json(const lw_station_t *st, const profile_t *p)
{
    static const char *kinds[] = {"Absolute", "Recurring", "Relative"};
    char ts[32];
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "id", p->id);
    cJSON_AddNumberToObject(j, "stackLevel", p->stack);
    cJSON_AddStringToObject(j, "chargingProfilePurpose", purpose_name(st, p->purpose));
    cJSON_AddStringToObject(j, "chargingProfileKind", kinds[p->kind]);
    if (p->recurrency)
        cJSON_AddStringToObject(j, "recurrencyKind", p->recurrency == 1 ? "Daily" : "Weekly");
    if (p->valid_from) {
        lw_time_format(p->valid_from, ts, sizeof ts);
        cJSON_AddStringToObject(j, "validFrom", ts);
    }
    if (p->valid_to) {
        lw_time_format(p->valid_to, ts, sizeof ts);
        cJSON_AddStringToObject(j, "validTo", ts);
    }
    if (p->tx_id[0]) cJSON_AddStringToObject(j, "transactionId", p->tx_id);
    cJSON *s = cJSON_CreateObject();
    cJSON_AddNumberToObject(s, "id", p->id);
    if (p->start_schedule) {
        lw_time_format(p->start_schedule, ts, sizeof ts);
        cJSON_AddStringToObject(s, "startSchedule", ts);
    }
    if (p->duration_s) cJSON_AddNumberToObject(s, "duration", p->duration_s);
    cJSON_AddStringToObject(s, "chargingRateUnit", p->unit_w ? "W" : "A");
    cJSON *arr = cJSON_AddArrayToObject(s, "chargingSchedulePeriod");
    for (int i = 0; i < p->nperiods; i++) {
        cJSON *q = cJSON_CreateObject();
        cJSON_AddNumberToObject(q, "startPeriod", p->periods[i].start_s);
        cJSON_AddNumberToObject(q, "limit", p->periods[i].limit);
        if (p->periods[i].phases) cJSON_AddNumberToObject(q, "numberPhases", p->periods[i].phases);
        cJSON_AddItemToArray(arr, q);
    }
    if (p->min_rate > 0) cJSON_AddNumberToObject(s, "minChargingRate", p->min_rate);
    cJSON *sa = cJSON_AddArrayToObject(j, "chargingSchedule");
    cJSON_AddItemToArray(sa, s);
    return j;
}

/* OCPP 2.0.1 K09: GetChargingProfiles, answered with ReportChargingProfiles per EVSE */
void smart_get_profiles(lw_station_t *st, const char *msgid, cJSON *req)
{
    long rid = 0, evse = -1, stack = -1;
    jint(req, "requestId", &rid);
    jint(req, "evseId", &evse);
    cJSON *crit = cJSON_GetObjectItemCaseSensitive(req, "chargingProfile");
    int purpose = purpose_parse(jstr(crit, "chargingProfilePurpose"));
    jint(crit, "stackLevel", &stack);
    cJSON *ids = cJSON_GetObjectItemCaseSensitive(crit, "chargingProfileId");
    cJSON *srcs = cJSON_GetObjectItemCaseSensitive(crit, "chargingLimitSource");
    bool cso_ok = !srcs || cJSON_GetArraySize(srcs) == 0;
    cJSON *s;
    cJSON_ArrayForEach(s, srcs) if (cJSON_IsString(s) && !strcmp(s->valuestring, "CSO")) cso_ok =
        true;
    cJSON *reports[LW_STATION_CONNECTORS_MAX + 1] = {0};
    int nrep = 0;
    for (int i = 0; cso_ok && st->profiles && i < LW_STATION_PROFILES_MAX; i++) {
        const profile_t *p = &st->profiles[i];
        if (!p->used || (evse >= 0 && p->conn != evse) || (purpose >= 0 && p->purpose != purpose) ||
            (stack >= 0 && p->stack != stack))
            continue;
        if (cJSON_GetArraySize(ids) > 0) {
            bool f = false;
            cJSON *x;
            cJSON_ArrayForEach(x, ids) if (cJSON_IsNumber(x) && (int)x->valuedouble == p->id) f =
                true;
            if (!f) continue;
        }
        if (!reports[p->conn]) {
            reports[p->conn] = cJSON_CreateArray();
            nrep++;
        }
        cJSON_AddItemToArray(reports[p->conn], profile_json(st, p));
    }
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "status", nrep ? "Accepted" : "NoProfiles");
    st_reply(st, msgid, r);
    int sent = 0;
    for (int c = 0; c <= st->nconn; c++) {
        if (!reports[c]) continue;
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "requestId", rid);
        cJSON_AddStringToObject(p, "chargingLimitSource", "CSO");
        cJSON_AddNumberToObject(p, "evseId", c);
        cJSON_AddItemToObject(p, "chargingProfile", reports[c]);
        if (++sent < nrep) cJSON_AddBoolToObject(p, "tbc", true);
        st_call(st, "ReportChargingProfiles", p);
    }
}
