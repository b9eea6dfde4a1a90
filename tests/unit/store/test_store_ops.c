/*
 * test_store_ops.c — the store reads and writes added with schema 002 (csms/store): the 2.x
 * device model and NotifyEvent, 1.6 configuration keys, reservations, charging profiles,
 * issued certificates, connector status, the operator command queue (idempotency keys, state
 * rules, TTL expiry at an explicit "now"), filtered and paged lists of transactions, stations
 * and journal exchanges, marking stations offline, and the periodic maintenance.
 *
 * Rows read back are rendered into one string per read ("a|b;c|d;") and compared whole, so a
 * failure prints what came back next to what was wanted.
 */
#include "store_fixture.h"
#include "test.h"

#include "store/store.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>

static lw_manual_clock_t mclock;

static lw_store_t *fresh_store(void)
{
    fresh();
    lw_manual_clock_init(&mclock, 1000000);
    lw_store_options_t o = {.clock = &mclock.clock};
    return open_or_fail(&o);
}

static int add_station(lw_store_t *s, const char *id)
{
    lw_store_write_t w = {.kind = LW_W_STATION_PUT, .station_id = lw_str_c(id)};
    w.u.station_put.must_not_exist = true;
    return lw_store_submit_wait(s, &w, NULL);
}

/* ---- rendering rows ------------------------------------------------------------------------ */

static char out[8192];
static size_t out_len;
static int stop_after; /* each() returns 1 after this many rows (0 = never) */
static int rows;

static void reset_out(void)
{
    out[0] = 0;
    out_len = 0;
    rows = 0;
    stop_after = 0;
}

static int emit(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out + out_len, sizeof out - out_len, fmt, ap);
    va_end(ap);
    if (n > 0 && out_len + (size_t)n < sizeof out) out_len += (size_t)n;
    rows++;
    return stop_after && rows >= stop_after;
}

#define SV(s) LW_STR_FMT(s)

static int r_dm(void *ud, const lw_dm_rec_t *r)
{
    const lw_dm_attr_t *a = &r->a;
    return emit("%.*s/%.*s/%d/%d/%.*s/%.*s/%.*s=%.*s %.*s %.*s @%lld;", SV(a->component),
                SV(a->component_inst), a->evse_id, a->connector_id, SV(a->variable),
                SV(a->variable_inst), SV(a->attr_type), SV(a->value), SV(a->mutability),
                SV(a->characteristics), (long long)r->updated_ms);
}

static int r_ev(void *ud, const lw_dm_event_rec_t *r)
{
    return emit("%d %.*s %.*s.%.*s=%.*s @%lld %.*s;", r->e.event_id, SV(r->e.trigger),
                SV(r->e.component), SV(r->e.variable), SV(r->e.actual), (long long)r->e.at_ms,
                SV(r->e.payload));
}

static int r_ck(void *ud, const lw_config_key_rec_t *r)
{
    return emit("%.*s=%s%.*s%s;", SV(r->k.key), r->k.no_value ? "(none)" : "", SV(r->k.value),
                r->k.readonly ? " ro" : "");
}

static int r_rsv(void *ud, const lw_reservation_rec_t *r)
{
    return emit("%d %s e%d c%d %s/%s exp%lld %s;", r->id, r->station_id, r->evse_id,
                r->connector_id, r->id_token, r->group_id, (long long)r->expiry_ms, r->status);
}

static int r_pf(void *ud, const lw_profile_rec_t *r)
{
    return emit("%d e%d c%d %s L%d %s %s tx%lld %.*s;", r->profile_id, r->evse_id, r->connector_id,
                r->purpose, r->stack_level, r->kind, r->status, (long long)r->tx_id,
                SV(r->profile));
}

static int r_cert(void *ud, const lw_cert_rec_t *r)
{
    return emit("%s %s %s %.*s %.*s %.*s %lld;", r->station_id, r->cert_type, r->serial,
                SV(r->subject), SV(r->csr), SV(r->pem), (long long)r->issued_ms);
}

static int r_cmd(void *ud, const lw_cmd_rec_t *r)
{
    return emit("%lld %s %s %s %.*s;", (long long)r->id, r->station_id, r->action,
                lw_cmd_status_name(r->status), SV(r->payload));
}

static int r_tx(void *ud, const lw_tx_rec_t *r)
{
    return emit("%lld,", (long long)r->id);
}

static int r_st(void *ud, const lw_station_rec_t *r)
{
    return emit("%s%s,", r->id, r->online ? "+" : "");
}

static int r_cs(void *ud, const lw_connector_status_rec_t *r)
{
    return emit("%d/%d %s %s %s %s %s @%lld;", r->evse_id, r->connector_id, r->status,
                r->error_code, r->info, r->vendor_id, r->vendor_error_code, (long long)r->at_ms);
}

static int r_pair(void *ud, const lw_journal_rec_t *c, const lw_journal_rec_t *rp)
{
    if (!rp)
        return emit("%.*s %s %.*s -;", SV(c->msg_id), c->inbound ? "in" : "out", SV(c->action));
    return emit("%.*s %s %.*s %d:%.*s;", SV(c->msg_id), c->inbound ? "in" : "out", SV(c->action),
                rp->msg_type, SV(rp->payload));
}

/* ---- device model, events, configuration keys ----------------------------------------------- */

LW_TEST(device_model_upsert_and_read)
{
    lw_store_t *s = fresh_store();
    if (!s) return;
    LW_CHECK_INT(add_station(s, "CP"), 0);
    lw_dm_attr_t a[3] = {
        {.component = LW_STR("EVSE"),
         .evse_id = 1,
         .variable = LW_STR("Power"),
         .value = LW_STR("22000"),
         .mutability = LW_STR("ReadOnly"),
         .characteristics = LW_STR("{\"unit\":\"W\",\"dataType\":\"decimal\"}")},
        {.component = LW_STR("OCPPCommCtrlr"),
         .variable = LW_STR("HeartbeatInterval"),
         .value = LW_STR("300"),
         .mutability = LW_STR("ReadWrite")},
        {.component = LW_STR("OCPPCommCtrlr"),
         .variable = LW_STR("HeartbeatInterval"),
         .attr_type = LW_STR("Target"),
         .value = LW_STR("60")},
    };
    lw_store_write_t w = {.kind = LW_W_DEVICE_MODEL, .station_id = LW_STR("CP")};
    w.u.device_model.attrs = a;
    w.u.device_model.n_attrs = 3;
    w.u.device_model.at_ms = 5;
    lw_store_result_t res;
    LW_CHECK_INT(lw_store_submit_wait(s, &w, &res), 0);
    LW_CHECK_INT(res.row_id, 3);
    reset_out();
    LW_CHECK_INT(
        lw_store_device_model_list(s, LW_STR("CP"), LW_STR_NULL, LW_STR_NULL, 0, 0, r_dm, NULL), 0);
    LW_CHECK_STR(out, "EVSE//1/0/Power//Actual=22000 ReadOnly {\"unit\":\"W\",\"dataType\":"
                      "\"decimal\"} @5;"
                      "OCPPCommCtrlr//0/0/HeartbeatInterval//Actual=300 ReadWrite  @5;"
                      "OCPPCommCtrlr//0/0/HeartbeatInterval//Target=60   @5;");

    /* A GetVariables result: the value changes, mutability and characteristics stay. */
    lw_dm_attr_t upd = {.component = LW_STR("EVSE"),
                        .evse_id = 1,
                        .variable = LW_STR("Power"),
                        .value = LW_STR("11000")};
    w.u.device_model.attrs = &upd;
    w.u.device_model.n_attrs = 1;
    w.u.device_model.at_ms = 9;
    LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), 0);
    reset_out();
    LW_CHECK_INT(
        lw_store_device_model_list(s, LW_STR("CP"), LW_STR("EVSE"), LW_STR_NULL, 0, 0, r_dm, NULL),
        0);
    LW_CHECK_STR(out, "EVSE//1/0/Power//Actual=11000 ReadOnly {\"unit\":\"W\",\"dataType\":"
                      "\"decimal\"} @9;");
    /* offset paging: the second row alone, then past the end */
    reset_out();
    LW_CHECK_INT(
        lw_store_device_model_list(s, LW_STR("CP"), LW_STR_NULL, LW_STR_NULL, 1, 1, r_dm, NULL), 0);
    LW_CHECK_STR(out, "OCPPCommCtrlr//0/0/HeartbeatInterval//Actual=300 ReadWrite  @5;");
    reset_out();
    LW_CHECK_INT(
        lw_store_device_model_list(s, LW_STR("CP"), LW_STR_NULL, LW_STR_NULL, 3, 10, r_dm, NULL),
        0);
    LW_CHECK_STR(out, "");
    /* variable filter */
    reset_out();
    LW_CHECK_INT(lw_store_device_model_list(s, LW_STR("CP"), LW_STR_NULL,
                                            LW_STR("HeartbeatInterval"), 0, 0, r_dm, NULL),
                 0);
    LW_CHECK_INT(rows, 2);

    /* replace_all: a new full report drops what it does not repeat */
    w.u.device_model.replace_all = true;
    LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), 0);
    reset_out();
    LW_CHECK_INT(
        lw_store_device_model_list(s, LW_STR("CP"), LW_STR_NULL, LW_STR_NULL, 0, 0, r_dm, NULL), 0);
    LW_CHECK_STR(out, "EVSE//1/0/Power//Actual=11000   @9;");
    /* unknown station; missing variable name */
    w.station_id = LW_STR("nope");
    LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), LW_ENOTFOUND);
    w.station_id = LW_STR("CP");
    upd.variable = LW_STR_NULL;
    LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), LW_EINVAL);
    /* the failed write left nothing behind */
    LW_CHECK_INT(sql_int("SELECT count(*) FROM device_model"), 1);
    /* deleting the station drops its model */
    lw_store_write_t d = {.kind = LW_W_STATION_DELETE, .station_id = LW_STR("CP")};
    LW_CHECK_INT(lw_store_submit_wait(s, &d, NULL), 0);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM device_model"), 0);
    lw_store_close(s);
}

LW_TEST(device_events_newest_first)
{
    lw_store_t *s = fresh_store();
    if (!s) return;
    lw_dm_event_t e[3];
    for (int i = 0; i < 3; i++)
        e[i] = (lw_dm_event_t){.event_id = 10 + i,
                               .at_ms = 100 + i,
                               .trigger = LW_STR("Delta"),
                               .component = LW_STR("Connector"),
                               .variable = LW_STR("AvailabilityState"),
                               .actual = i == 1 ? LW_STR("Occupied") : LW_STR("Available"),
                               .payload = LW_STR("{}")};
    lw_store_write_t w = {.kind = LW_W_DEVICE_EVENTS, .station_id = LW_STR("CP")};
    w.u.device_events.events = e;
    w.u.device_events.n_events = 3;
    LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), 0);
    reset_out();
    LW_CHECK_INT(lw_store_device_event_list(s, LW_STR("CP"), 0, 2, r_ev, NULL), 0);
    LW_CHECK_STR(out, "12 Delta Connector.AvailabilityState=Available @102 {};"
                      "11 Delta Connector.AvailabilityState=Occupied @101 {};");
    reset_out();
    LW_CHECK_INT(lw_store_device_event_list(s, LW_STR("CP"), 2, 0, r_ev, NULL), 0);
    LW_CHECK_STR(out, "10 Delta Connector.AvailabilityState=Available @100 {};");
    reset_out();
    LW_CHECK_INT(lw_store_device_event_list(s, LW_STR("other"), 0, 0, r_ev, NULL), 0);
    LW_CHECK_INT(rows, 0);
    lw_store_close(s);
}

LW_TEST(config_keys_upsert_and_replace)
{
    lw_store_t *s = fresh_store();
    if (!s) return;
    LW_CHECK_INT(add_station(s, "CP16"), 0);
    lw_config_key_t k[3] = {
        {.key = LW_STR("HeartbeatInterval"), .value = LW_STR("300")},
        {.key = LW_STR("ChargePointVendor"), .value = LW_STR("Acme"), .readonly = true},
        {.key = LW_STR("AuthorizationKey"), .no_value = true},
    };
    lw_store_write_t w = {.kind = LW_W_CONFIG_KEYS, .station_id = LW_STR("CP16")};
    w.u.config_keys.keys = k;
    w.u.config_keys.n_keys = 3;
    LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), 0);
    reset_out();
    LW_CHECK_INT(lw_store_config_key_list(s, LW_STR("CP16"), r_ck, NULL), 0);
    LW_CHECK_STR(out, "AuthorizationKey=(none);ChargePointVendor=Acme ro;HeartbeatInterval=300;");
    k[0].value = LW_STR("60");
    w.u.config_keys.n_keys = 1;
    LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), 0);
    reset_out();
    LW_CHECK_INT(lw_store_config_key_list(s, LW_STR("CP16"), r_ck, NULL), 0);
    LW_CHECK_STR(out, "AuthorizationKey=(none);ChargePointVendor=Acme ro;HeartbeatInterval=60;");
    w.u.config_keys.replace_all = true;
    w.u.config_keys.keys = &k[1];
    LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), 0);
    reset_out();
    LW_CHECK_INT(lw_store_config_key_list(s, LW_STR("CP16"), r_ck, NULL), 0);
    LW_CHECK_STR(out, "ChargePointVendor=Acme ro;");
    w.station_id = LW_STR("ghost");
    LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), LW_ENOTFOUND);
    lw_store_close(s);
}

/* ---- reservations, profiles, certificates -------------------------------------------------- */

LW_TEST(reservations)
{
    lw_store_t *s = fresh_store();
    if (!s) return;
    lw_store_write_t w = {.kind = LW_W_RESERVATION_PUT, .station_id = LW_STR("CP")};
    w.u.reservation.connector_id = 1;
    w.u.reservation.id_token = LW_STR("TAG");
    w.u.reservation.expiry_ms = 5000;
    lw_store_result_t res;
    LW_CHECK_INT(lw_store_submit_wait(s, &w, &res), 0);
    LW_CHECK_INT(res.row_id, 1); /* allocated */
    LW_CHECK_INT(lw_store_submit_wait(s, &w, &res), 0);
    LW_CHECK_INT(res.row_id, 2);
    w.u.reservation.id = 7;
    w.u.reservation.evse_id = 2;
    w.u.reservation.group_id = LW_STR("GRP");
    w.u.reservation.expiry_ms = 9000;
    w.u.reservation.status = LW_STR("Accepted");
    LW_CHECK_INT(lw_store_submit_wait(s, &w, &res), 0);
    LW_CHECK_INT(res.row_id, 7);
    w.u.reservation.id = 0; /* next after the highest */
    LW_CHECK_INT(lw_store_submit_wait(s, &w, &res), 0);
    LW_CHECK_INT(res.row_id, 8);
    w.station_id = LW_STR("CP-B"); /* ids are per station */
    LW_CHECK_INT(lw_store_submit_wait(s, &w, &res), 0);
    LW_CHECK_INT(res.row_id, 1);

    lw_reservation_rec_t r;
    LW_CHECK_INT(lw_store_reservation_get(s, LW_STR("CP"), 7, &r), 0);
    LW_CHECK_STR(r.station_id, "CP");
    LW_CHECK_INT(r.evse_id, 2);
    LW_CHECK_STR(r.group_id, "GRP");
    LW_CHECK_STR(r.status, "Accepted");
    LW_CHECK_INT(r.expiry_ms, 9000);
    LW_CHECK_INT(lw_store_reservation_get(s, LW_STR("CP"), 3, &r), LW_ENOTFOUND);

    lw_store_write_t u = {.kind = LW_W_RESERVATION_STATUS, .station_id = LW_STR("CP")};
    u.u.reservation_status.id = 8;
    u.u.reservation_status.status = LW_STR("Used");
    LW_CHECK_INT(lw_store_submit_wait(s, &u, NULL), 0);
    u.u.reservation_status.id = 99;
    LW_CHECK_INT(lw_store_submit_wait(s, &u, NULL), LW_ENOTFOUND);

    /* active at 6000: 1 and 2 expired at 5000, 8 is used, 7 is active */
    reset_out();
    LW_CHECK_INT(lw_store_reservation_list(s, LW_STR("CP"), true, 6000, r_rsv, NULL), 0);
    LW_CHECK_STR(out, "7 CP e2 c1 TAG/GRP exp9000 Accepted;");
    reset_out();
    LW_CHECK_INT(lw_store_reservation_list(s, LW_STR("CP"), false, 0, r_rsv, NULL), 0);
    LW_CHECK_STR(out, "1 CP e0 c1 TAG/ exp5000 Requested;2 CP e0 c1 TAG/ exp5000 Requested;"
                      "7 CP e2 c1 TAG/GRP exp9000 Accepted;8 CP e2 c1 TAG/GRP exp9000 Used;");

    /* maintenance marks the overdue ones Expired */
    lw_store_write_t m = {.kind = LW_W_MAINTAIN};
    m.u.maint.now_ms = 6000;
    LW_CHECK_INT(lw_store_submit_wait(s, &m, &res), 0);
    LW_CHECK_INT(res.expired_reservations, 2);
    LW_CHECK_INT(lw_store_reservation_get(s, LW_STR("CP"), 1, &r), 0);
    LW_CHECK_STR(r.status, "Expired");
    LW_CHECK_INT(lw_store_reservation_get(s, LW_STR("CP"), 8, &r), 0);
    LW_CHECK_STR(r.status, "Used");
    lw_store_close(s);
}

LW_TEST(charging_profiles)
{
    lw_store_t *s = fresh_store();
    if (!s) return;
    lw_store_write_t w = {.kind = LW_W_PROFILE_PUT, .station_id = LW_STR("CP")};
    w.u.profile.profile_id = 5;
    w.u.profile.evse_id = 1;
    w.u.profile.stack_level = 2;
    w.u.profile.purpose = LW_STR("TxDefaultProfile");
    w.u.profile.profile = LW_STR("{\"id\":5}");
    LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), 0);
    w.u.profile.profile_id = 6;
    w.u.profile.evse_id = 0;
    w.u.profile.connector_id = 0;
    w.u.profile.stack_level = 0;
    w.u.profile.purpose = LW_STR("ChargingStationMaxProfile");
    w.u.profile.kind = LW_STR("Relative");
    w.u.profile.tx_id = 42;
    w.u.profile.profile = LW_STR("{\"id\":6}");
    LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), 0);
    reset_out();
    LW_CHECK_INT(lw_store_profile_list(s, LW_STR("CP"), -1, r_pf, NULL), 0);
    LW_CHECK_STR(out, "6 e0 c0 ChargingStationMaxProfile L0 Relative Requested tx42 {\"id\":6};"
                      "5 e1 c0 TxDefaultProfile L2 Absolute Requested tx0 {\"id\":5};");
    /* resent with the same id: replaced, one row */
    w.u.profile.stack_level = 3;
    w.u.profile.tx_id = 0;
    w.u.profile.profile = LW_STR("{\"id\":6,\"v\":2}");
    w.u.profile.status = LW_STR("Accepted");
    LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), 0);
    lw_store_write_t st = {.kind = LW_W_PROFILE_STATUS, .station_id = LW_STR("CP")};
    st.u.profile_status.profile_id = 5;
    st.u.profile_status.status = LW_STR("Rejected");
    LW_CHECK_INT(lw_store_submit_wait(s, &st, NULL), 0);
    st.u.profile_status.profile_id = 77;
    LW_CHECK_INT(lw_store_submit_wait(s, &st, NULL), LW_ENOTFOUND);
    reset_out();
    LW_CHECK_INT(lw_store_profile_list(s, LW_STR("CP"), 0, r_pf, NULL), 0);
    LW_CHECK_STR(out,
                 "6 e0 c0 ChargingStationMaxProfile L3 Relative Accepted tx0 {\"id\":6,\"v\":2};");
    reset_out();
    LW_CHECK_INT(lw_store_profile_list(s, LW_STR("CP"), 1, r_pf, NULL), 0);
    LW_CHECK_STR(out, "5 e1 c0 TxDefaultProfile L2 Absolute Rejected tx0 {\"id\":5};");
    w.u.profile.profile = LW_STR_NULL;
    LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), LW_EINVAL);
    lw_store_close(s);
}

LW_TEST(certificates)
{
    lw_store_t *s = fresh_store();
    if (!s) return;
    const char *who[3] = {"A", "B", "A"};
    for (int i = 0; i < 3; i++) {
        char serial[8];
        snprintf(serial, sizeof serial, "0%d", i + 1);
        lw_store_write_t w = {.kind = LW_W_CERT_ISSUED, .station_id = lw_str_c(who[i])};
        w.u.cert.serial = lw_str_c(serial);
        w.u.cert.subject = LW_STR("CN=x");
        w.u.cert.csr = LW_STR("CSR");
        w.u.cert.pem = LW_STR("PEM");
        w.u.cert.at_ms = 100 + i;
        LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), 0);
    }
    reset_out();
    LW_CHECK_INT(lw_store_cert_list(s, LW_STR("A"), 0, 0, r_cert, NULL), 0);
    LW_CHECK_STR(out, "A ChargingStationCertificate 03 CN=x CSR PEM 102;"
                      "A ChargingStationCertificate 01 CN=x CSR PEM 100;");
    reset_out();
    LW_CHECK_INT(lw_store_cert_list(s, LW_STR_NULL, 3, 1, r_cert, NULL), 0);
    LW_CHECK_STR(out, "B ChargingStationCertificate 02 CN=x CSR PEM 101;");
    lw_store_write_t w = {.kind = LW_W_CERT_ISSUED, .station_id = LW_STR("A")};
    w.u.cert.serial = LW_STR("09");
    LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), LW_EINVAL); /* no PEM */
    lw_store_close(s);
}

/* ---- command queue ------------------------------------------------------------------------- */

static int64_t cmd_insert(lw_store_t *s, const char *station, const char *payload, const char *key,
                          int64_t at, int64_t ttl_s, bool *dup)
{
    lw_store_write_t w = {.kind = LW_W_CMD_INSERT, .station_id = lw_str_c(station)};
    w.u.cmd.action = LW_STR("Reset");
    w.u.cmd.payload = lw_str_c(payload);
    w.u.cmd.idempotency_key = lw_str_c(key);
    w.u.cmd.at_ms = at;
    w.u.cmd.ttl_s = ttl_s;
    lw_store_result_t res = {0};
    int rc = lw_store_submit_wait(s, &w, &res);
    if (dup) *dup = res.duplicate;
    return rc ? rc : res.row_id;
}

static int cmd_set(lw_store_t *s, const char *station, int64_t id, lw_cmd_status_t st,
                   const char *text)
{
    lw_store_write_t w = {.kind = LW_W_CMD_UPDATE, .station_id = lw_str_c(station)};
    w.u.cmd_update.id = id;
    w.u.cmd_update.status = st;
    w.u.cmd_update.at_ms = 7777;
    if (st == LW_CMD_SENT) w.u.cmd_update.msg_id = lw_str_c(text);
    if (st == LW_CMD_ANSWERED) w.u.cmd_update.response = lw_str_c(text);
    if (st == LW_CMD_FAILED) {
        w.u.cmd_update.error_code = LW_STR("GenericError");
        w.u.cmd_update.error_desc = lw_str_c(text);
    }
    return lw_store_submit_wait(s, &w, NULL);
}

LW_TEST(command_idempotency_key_returns_existing)
{
    lw_store_t *s = fresh_store();
    if (!s) return;
    bool dup = true;
    int64_t a = cmd_insert(s, "CP", "{\"type\":\"Soft\"}", "key-1", 1000, 60, &dup);
    LW_CHECK(a > 0);
    LW_CHECK(!dup);
    /* the same key again, even with another payload: the existing command, nothing new */
    int64_t b = cmd_insert(s, "CP", "{\"type\":\"Hard\"}", "key-1", 2000, 60, &dup);
    LW_CHECK_INT(b, a);
    LW_CHECK(dup);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM commands"), 1);
    /* still the same after it was answered */
    LW_CHECK_INT(cmd_set(s, "CP", a, LW_CMD_SENT, "m-1"), 0);
    LW_CHECK_INT(cmd_insert(s, "CP", "{}", "key-1", 3000, 60, &dup), a);
    LW_CHECK(dup);
    /* the same key on another station is another command; no key never dedupes */
    int64_t c = cmd_insert(s, "CP2", "{}", "key-1", 1000, 60, &dup);
    LW_CHECK(c > 0 && c != a);
    LW_CHECK(!dup);
    int64_t d = cmd_insert(s, "CP", "{}", "", 1000, 60, &dup);
    int64_t e = cmd_insert(s, "CP", "{}", "", 1000, 60, &dup);
    LW_CHECK(d > 0 && e > 0 && d != e);
    LW_CHECK(!dup);
    lw_arena_t ar;
    lw_arena_init(&ar, 4096);
    lw_cmd_rec_t r;
    LW_CHECK_INT(lw_store_cmd_get(s, a, &r, &ar), 0);
    LW_CHECK_STR(r.payload.p, "{\"type\":\"Soft\"}");
    LW_CHECK_STR(r.idempotency_key, "key-1");
    LW_CHECK_STR(r.msg_id, "m-1");
    LW_CHECK_INT(r.status, LW_CMD_SENT);
    LW_CHECK_INT(r.created_ms, 1000);
    LW_CHECK_INT(r.expires_ms, 61000);
    LW_CHECK_INT(r.sent_ms, 7777);
    LW_CHECK_INT(lw_store_cmd_get(s, 999, &r, &ar), LW_ENOTFOUND);
    lw_arena_free(&ar);
    /* malformed inserts */
    LW_CHECK_INT(cmd_insert(s, "CP", "{}", "", 1000, 0, NULL), LW_EINVAL);
    LW_CHECK_INT(cmd_insert(s, "CP", "", "", 1000, 60, NULL), LW_EINVAL);
    lw_store_close(s);
}

LW_TEST(command_lifecycle_and_rules)
{
    lw_store_t *s = fresh_store();
    if (!s) return;
    int64_t a = cmd_insert(s, "CP", "{\"a\":1}", "", 1000, 60, NULL);
    int64_t b = cmd_insert(s, "CP", "{\"b\":2}", "", 1000, 60, NULL);
    int64_t c = cmd_insert(s, "CP", "{\"c\":3}", "", 1000, 60, NULL);
    LW_CHECK(a > 0 && b > a && c > b);
    char want[256];
    reset_out();
    LW_CHECK_INT(lw_store_cmd_pending(s, LW_STR("CP"), 2000, 0, r_cmd, NULL), 0);
    snprintf(want, sizeof want,
             "%lld CP Reset queued {\"a\":1};%lld CP Reset queued {\"b\":2};"
             "%lld CP Reset queued {\"c\":3};",
             (long long)a, (long long)b, (long long)c);
    LW_CHECK_STR(out, want);

    LW_CHECK_INT(cmd_set(s, "CP", a, LW_CMD_SENT, "m-a"), 0);
    LW_CHECK_INT(cmd_set(s, "CP", a, LW_CMD_ANSWERED, "{\"status\":\"Accepted\"}"), 0);
    LW_CHECK_INT(cmd_set(s, "CP", b, LW_CMD_SENT, "m-b"), 0);
    LW_CHECK_INT(cmd_set(s, "CP", b, LW_CMD_FAILED, "station said no"), 0);
    /* a final outcome is final */
    LW_CHECK_INT(cmd_set(s, "CP", a, LW_CMD_FAILED, "late"), LW_EEXISTS);
    LW_CHECK_INT(cmd_set(s, "CP", a, LW_CMD_SENT, "again"), LW_EEXISTS);
    LW_CHECK_INT(cmd_set(s, "CP", b, LW_CMD_EXPIRED, ""), LW_EEXISTS);
    /* another station's command, an unknown one, and a bad target state */
    LW_CHECK_INT(cmd_set(s, "CP2", c, LW_CMD_SENT, "x"), LW_ENOTFOUND);
    LW_CHECK_INT(cmd_set(s, "CP", 999, LW_CMD_SENT, "x"), LW_ENOTFOUND);
    LW_CHECK_INT(cmd_set(s, "CP", c, LW_CMD_QUEUED, "x"), LW_EINVAL);

    lw_arena_t ar;
    lw_arena_init(&ar, 4096);
    lw_cmd_rec_t r;
    LW_CHECK_INT(lw_store_cmd_get(s, a, &r, &ar), 0);
    LW_CHECK_INT(r.status, LW_CMD_ANSWERED);
    LW_CHECK_STR(r.response.p, "{\"status\":\"Accepted\"}");
    LW_CHECK_STR(r.msg_id, "m-a");
    LW_CHECK_INT(r.updated_ms, 7777);
    LW_CHECK_INT(lw_store_cmd_get(s, b, &r, &ar), 0);
    LW_CHECK_INT(r.status, LW_CMD_FAILED);
    LW_CHECK_STR(r.error_code, "GenericError");
    LW_CHECK_STR(r.error_desc.p, "station said no");
    LW_CHECK_STR(r.response.p, "");
    lw_arena_free(&ar);

    /* only c is still pending */
    reset_out();
    LW_CHECK_INT(lw_store_cmd_pending(s, LW_STR("CP"), 2000, 0, r_cmd, NULL), 0);
    LW_CHECK_INT(rows, 1);
    /* list: newest first, paged */
    reset_out();
    LW_CHECK_INT(lw_store_cmd_list(s, LW_STR("CP"), 0, 2, r_cmd, NULL), 0);
    LW_CHECK_INT(rows, 2);
    reset_out();
    LW_CHECK_INT(lw_store_cmd_list(s, LW_STR("CP"), b, 2, r_cmd, NULL), 0);
    snprintf(want, sizeof want, "%lld CP Reset answered {\"a\":1};", (long long)a);
    LW_CHECK_STR(out, want);
    lw_store_close(s);
}

LW_TEST(command_ttl_expiry_at_explicit_now)
{
    lw_store_t *s = fresh_store();
    if (!s) return;
    /* created at 1000 with ttl 60 s: expires_at 61000 */
    int64_t a = cmd_insert(s, "CP", "{}", "", 1000, 60, NULL);
    int64_t b = cmd_insert(s, "CP", "{}", "", 1000, 120, NULL);
    int64_t c = cmd_insert(s, "CP9", "{}", "", 1000, 60, NULL);
    LW_CHECK_INT(cmd_set(s, "CP9", c, LW_CMD_SENT, "m"), 0);
    /* the pending list already hides a at its expiry instant */
    reset_out();
    LW_CHECK_INT(lw_store_cmd_pending(s, LW_STR("CP"), 60999, 0, r_cmd, NULL), 0);
    LW_CHECK_INT(rows, 2);
    reset_out();
    LW_CHECK_INT(lw_store_cmd_pending(s, LW_STR("CP"), 61000, 0, r_cmd, NULL), 0);
    LW_CHECK_INT(rows, 1);

    lw_store_write_t w = {.kind = LW_W_CMD_EXPIRE};
    lw_store_result_t res;
    w.u.cmd_expire.now_ms = 60999; /* one ms early: nothing */
    LW_CHECK_INT(lw_store_submit_wait(s, &w, &res), 0);
    LW_CHECK_INT(res.row_id, 0);
    w.u.cmd_expire.now_ms = 61000; /* a (queued) and c (sent, never answered) */
    LW_CHECK_INT(lw_store_submit_wait(s, &w, &res), 0);
    LW_CHECK_INT(res.row_id, 2);
    LW_CHECK_INT(lw_store_submit_wait(s, &w, &res), 0); /* idempotent */
    LW_CHECK_INT(res.row_id, 0);
    lw_arena_t ar;
    lw_arena_init(&ar, 4096);
    lw_cmd_rec_t r;
    LW_CHECK_INT(lw_store_cmd_get(s, a, &r, &ar), 0);
    LW_CHECK_INT(r.status, LW_CMD_EXPIRED);
    LW_CHECK_INT(r.updated_ms, 61000);
    LW_CHECK_INT(lw_store_cmd_get(s, b, &r, &ar), 0);
    LW_CHECK_INT(r.status, LW_CMD_QUEUED);
    /* an expired command cannot be sent, but a late real answer is kept */
    LW_CHECK_INT(cmd_set(s, "CP", a, LW_CMD_SENT, "m"), LW_EEXISTS);
    LW_CHECK_INT(cmd_set(s, "CP9", c, LW_CMD_ANSWERED, "{\"late\":true}"), 0);
    LW_CHECK_INT(lw_store_cmd_get(s, c, &r, &ar), 0);
    LW_CHECK_INT(r.status, LW_CMD_ANSWERED);
    /* one station only */
    w.station_id = LW_STR("CP");
    w.u.cmd_expire.now_ms = 121000;
    LW_CHECK_INT(lw_store_submit_wait(s, &w, &res), 0);
    LW_CHECK_INT(res.row_id, 1);
    lw_arena_free(&ar);
    lw_store_close(s);
}

/* ---- filtered, paged lists ------------------------------------------------------------------ */

static int64_t tx_start(lw_store_t *s, const char *station, const char *tag, int64_t at)
{
    lw_store_write_t w = {.kind = LW_W_TX_START, .station_id = lw_str_c(station)};
    w.u.tx_start.connector_id = 1;
    w.u.tx_start.id_tag = lw_str_c(tag);
    w.u.tx_start.at_ms = at;
    w.u.tx_start.reservation_id = -1;
    lw_store_result_t res;
    int rc = lw_store_submit_wait(s, &w, &res);
    return rc ? rc : res.tx_id;
}

LW_TEST(transaction_list_filters_and_pages)
{
    lw_store_t *s = fresh_store();
    if (!s) return;
    LW_CHECK_INT(add_station(s, "A"), 0);
    LW_CHECK_INT(add_station(s, "B"), 0);
    /* ids 1..6: A/T1@100, B/T2@200, A/T2@300, A/T1@400, B/T1@500, A/T1@600 */
    const char *st[6] = {"A", "B", "A", "A", "B", "A"};
    const char *tag[6] = {"T1", "T2", "T2", "T1", "T1", "T1"};
    for (int i = 0; i < 6; i++)
        LW_CHECK_INT(tx_start(s, st[i], tag[i], 100 * (i + 1)), i + 1);
    lw_store_write_t stop = {.kind = LW_W_TX_STOP, .station_id = LW_STR("A")};
    stop.u.tx_stop.tx_id = 4;
    stop.u.tx_stop.at_ms = 450;
    LW_CHECK_INT(lw_store_submit_wait(s, &stop, NULL), 0);

    lw_tx_filter_t f = {.state = -1};
    reset_out();
    LW_CHECK_INT(lw_store_tx_list(s, &f, r_tx, NULL), 0);
    LW_CHECK_STR(out, "6,5,4,3,2,1,");
    f.id_token = LW_STR("T1");
    reset_out();
    LW_CHECK_INT(lw_store_tx_list(s, &f, r_tx, NULL), 0);
    LW_CHECK_STR(out, "6,5,4,1,");
    f.station_id = LW_STR("A");
    reset_out();
    LW_CHECK_INT(lw_store_tx_list(s, &f, r_tx, NULL), 0);
    LW_CHECK_STR(out, "6,4,1,");
    f.state = LW_TX_ENDED;
    reset_out();
    LW_CHECK_INT(lw_store_tx_list(s, &f, r_tx, NULL), 0);
    LW_CHECK_STR(out, "4,");
    f.state = LW_TX_ACTIVE;
    reset_out();
    LW_CHECK_INT(lw_store_tx_list(s, &f, r_tx, NULL), 0);
    LW_CHECK_STR(out, "6,1,");
    /* time range [300, 600): start 300, 400, 500 */
    f = (lw_tx_filter_t){.state = -1, .from_ms = 300, .to_ms = 600};
    reset_out();
    LW_CHECK_INT(lw_store_tx_list(s, &f, r_tx, NULL), 0);
    LW_CHECK_STR(out, "5,4,3,");

    /* newest-first pages of 2: 6,5 | 4,3 | 2,1 | (empty) */
    f = (lw_tx_filter_t){.state = -1, .limit = 2};
    const char *pages[4] = {"6,5,", "4,3,", "2,1,", ""};
    int64_t cur = 0;
    for (int p = 0; p < 4; p++) {
        f.before_id = cur;
        reset_out();
        LW_CHECK_INT(lw_store_tx_list(s, &f, r_tx, NULL), 0);
        LW_CHECK_STR(out, pages[p]);
        cur = 7 - 2 * (p + 1);
    }
    /* oldest-first pages of 4 with after_id: 1..4 | 5,6 | (empty) */
    f = (lw_tx_filter_t){.state = -1, .limit = 4, .oldest_first = true};
    reset_out();
    LW_CHECK_INT(lw_store_tx_list(s, &f, r_tx, NULL), 0);
    LW_CHECK_STR(out, "1,2,3,4,");
    f.after_id = 4;
    reset_out();
    LW_CHECK_INT(lw_store_tx_list(s, &f, r_tx, NULL), 0);
    LW_CHECK_STR(out, "5,6,");
    f.after_id = 6;
    reset_out();
    LW_CHECK_INT(lw_store_tx_list(s, &f, r_tx, NULL), 0);
    LW_CHECK_STR(out, "");
    /* each() stopping early */
    f = (lw_tx_filter_t){.state = -1};
    reset_out();
    stop_after = 1;
    LW_CHECK_INT(lw_store_tx_list(s, &f, r_tx, NULL), 0);
    LW_CHECK_STR(out, "6,");
    lw_store_close(s);
}

static int conn(lw_store_t *s, const char *id, bool online, int64_t at)
{
    lw_store_write_t w = {.kind = LW_W_STATION_CONN, .station_id = lw_str_c(id)};
    w.u.conn.online = online;
    w.u.conn.ocpp_version = LW_STR("1.6");
    w.u.conn.at_ms = at;
    return lw_store_submit_wait(s, &w, NULL);
}

LW_TEST(station_find_filters_and_mark_offline)
{
    lw_store_t *s = fresh_store();
    if (!s) return;
    const char *ids[5] = {"CP-1", "CP-2", "CP-3", "DE*X", "zz"};
    for (int i = 0; i < 5; i++)
        LW_CHECK_INT(add_station(s, ids[i]), 0);
    LW_CHECK_INT(conn(s, "CP-2", true, 50), 0);
    LW_CHECK_INT(conn(s, "zz", true, 60), 0);
    lw_store_write_t b = {.kind = LW_W_BOOT, .station_id = LW_STR("CP-3")};
    b.u.boot.vendor = LW_STR("ACME Power");
    b.u.boot.model = LW_STR("Wall");
    LW_CHECK_INT(lw_store_submit_wait(s, &b, NULL), 0);
    lw_store_write_t p = {.kind = LW_W_STATION_PUT, .station_id = LW_STR("DE*X")};
    p.u.station_put.set_reg_status = true;
    p.u.station_put.reg_status = LW_REG_PENDING;
    LW_CHECK_INT(lw_store_submit_wait(s, &p, NULL), 0);

    lw_station_filter_t f = {0};
    reset_out();
    LW_CHECK_INT(lw_store_station_find(s, &f, r_st, NULL), 0);
    LW_CHECK_STR(out, "CP-1,CP-2+,CP-3,DE*X,zz+,");
    f.online = LW_FILTER_YES;
    reset_out();
    LW_CHECK_INT(lw_store_station_find(s, &f, r_st, NULL), 0);
    LW_CHECK_STR(out, "CP-2+,zz+,");
    f.online = LW_FILTER_NO;
    reset_out();
    LW_CHECK_INT(lw_store_station_find(s, &f, r_st, NULL), 0);
    LW_CHECK_STR(out, "CP-1,CP-3,DE*X,");
    f = (lw_station_filter_t){.by_reg_status = true, .reg_status = LW_REG_PENDING};
    reset_out();
    LW_CHECK_INT(lw_store_station_find(s, &f, r_st, NULL), 0);
    LW_CHECK_STR(out, "DE*X,");
    f = (lw_station_filter_t){.search = LW_STR("acme")}; /* vendor, any case */
    reset_out();
    LW_CHECK_INT(lw_store_station_find(s, &f, r_st, NULL), 0);
    LW_CHECK_STR(out, "CP-3,");
    f = (lw_station_filter_t){.search = LW_STR("cp-")};
    reset_out();
    LW_CHECK_INT(lw_store_station_find(s, &f, r_st, NULL), 0);
    LW_CHECK_STR(out, "CP-1,CP-2+,CP-3,");
    f = (lw_station_filter_t){.search = LW_STR("%")}; /* no LIKE wildcards */
    reset_out();
    LW_CHECK_INT(lw_store_station_find(s, &f, r_st, NULL), 0);
    LW_CHECK_STR(out, "");
    /* pages of 2 by id cursor: CP-1,CP-2 | CP-3,DE*X | zz | (empty) */
    f = (lw_station_filter_t){.limit = 2};
    reset_out();
    LW_CHECK_INT(lw_store_station_find(s, &f, r_st, NULL), 0);
    LW_CHECK_STR(out, "CP-1,CP-2+,");
    f.after = LW_STR("CP-2");
    reset_out();
    LW_CHECK_INT(lw_store_station_find(s, &f, r_st, NULL), 0);
    LW_CHECK_STR(out, "CP-3,DE*X,");
    f.after = LW_STR("DE*X");
    reset_out();
    LW_CHECK_INT(lw_store_station_find(s, &f, r_st, NULL), 0);
    LW_CHECK_STR(out, "zz+,");
    f.after = LW_STR("zz");
    reset_out();
    LW_CHECK_INT(lw_store_station_find(s, &f, r_st, NULL), 0);
    LW_CHECK_STR(out, "");

    int64_t n = -1;
    LW_CHECK_INT(lw_store_stations_mark_all_offline(s, &n), 0);
    LW_CHECK_INT(n, 2);
    lw_station_rec_t r;
    LW_CHECK_INT(lw_store_station_get(s, LW_STR("zz"), &r), 0);
    LW_CHECK(!r.online);
    LW_CHECK_INT(r.last_seen_ms, 60); /* the last real sighting is kept */
    LW_CHECK_STR(r.ocpp_version, "1.6");
    LW_CHECK_INT(lw_store_stations_mark_all_offline(s, &n), 0);
    LW_CHECK_INT(n, 0);
    lw_store_close(s);
}

static int status(lw_store_t *s, int evse, int connector, const char *st, int64_t at)
{
    lw_store_write_t w = {.kind = LW_W_STATUS, .station_id = LW_STR("CP")};
    w.u.status.evse_id = evse;
    w.u.status.connector_id = connector;
    w.u.status.status = lw_str_c(st);
    w.u.status.error_code = LW_STR("NoError");
    w.u.status.at_ms = at;
    if (at == 30) {
        w.u.status.info = LW_STR("i");
        w.u.status.vendor_id = LW_STR("v");
        w.u.status.vendor_error_code = LW_STR("E1");
    }
    return lw_store_submit_wait(s, &w, NULL);
}

LW_TEST(connector_status_and_history)
{
    lw_store_t *s = fresh_store();
    if (!s) return;
    LW_CHECK_INT(add_station(s, "CP"), 0);
    LW_CHECK_INT(status(s, 0, 1, "Available", 10), 0);
    LW_CHECK_INT(status(s, 0, 0, "Available", 11), 0);
    LW_CHECK_INT(status(s, 0, 2, "Available", 12), 0);
    LW_CHECK_INT(status(s, 0, 1, "Charging", 30), 0);
    reset_out();
    LW_CHECK_INT(lw_store_connector_status_list(s, LW_STR("CP"), r_cs, NULL), 0);
    LW_CHECK_STR(out, "0/0 Available NoError    @11;0/1 Charging NoError i v E1 @30;"
                      "0/2 Available NoError    @12;");
    reset_out();
    LW_CHECK_INT(lw_store_status_history_list(s, LW_STR("CP"), 0, 2, r_cs, NULL), 0);
    LW_CHECK_STR(out, "0/1 Charging NoError i v E1 @30;0/2 Available NoError    @12;");
    reset_out();
    LW_CHECK_INT(lw_store_status_history_list(s, LW_STR("CP"), 3, 0, r_cs, NULL), 0);
    LW_CHECK_STR(out, "0/0 Available NoError    @11;0/1 Available NoError    @10;");
    reset_out();
    LW_CHECK_INT(lw_store_connector_status_list(s, LW_STR("none"), r_cs, NULL), 0);
    LW_CHECK_INT(rows, 0);
    /* a later status replaces every column, emptied ones included */
    LW_CHECK_INT(status(s, 0, 1, "Finishing", 40), 0);
    reset_out();
    LW_CHECK_INT(lw_store_connector_status_list(s, LW_STR("CP"), r_cs, NULL), 0);
    LW_CHECK_STR(out, "0/0 Available NoError    @11;0/1 Finishing NoError    @40;"
                      "0/2 Available NoError    @12;");
    lw_store_close(s);
}

static void jr(lw_store_t *s, const char *station, bool in, int type, const char *id,
               const char *action, const char *payload)
{
    lw_store_write_t w = {.kind = LW_W_JOURNAL, .station_id = lw_str_c(station)};
    w.u.journal.inbound = in;
    w.u.journal.msg_type = type;
    w.u.journal.msg_id = lw_str_c(id);
    w.u.journal.action = lw_str_c(action);
    w.u.journal.payload = lw_str_c(payload);
    LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), 0);
}

LW_TEST(journal_pairs_join_by_message_id)
{
    lw_store_t *s = fresh_store();
    if (!s) return;
    jr(s, "CP", true, 2, "m1", "Heartbeat", "{}");               /* 1 */
    jr(s, "CP", false, 2, "m2", "Reset", "{\"type\":\"Soft\"}"); /* 2 */
    jr(s, "CP", false, 3, "m1", "", "{\"currentTime\":\"t\"}");  /* 3 reply to 1 */
    jr(s, "OTHER", true, 4, "m2", "", "[\"not this one\"]");     /* 4 other station */
    jr(s, "CP", true, 4, "m2", "", "[\"NotSupported\"]");        /* 5 reply to 2 */
    jr(s, "CP", true, 2, "m3", "StatusNotification", "{}");      /* 6 no reply yet */
    jr(s, "CP", true, 3, "m2", "", "{\"wrong\":\"direction\"}"); /* 7 same dir: not a reply */
    reset_out();
    LW_CHECK_INT(lw_store_journal_pairs(s, LW_STR("CP"), 0, 0, r_pair, NULL), 0);
    LW_CHECK_STR(out, "m3 in StatusNotification -;m2 out Reset 4:[\"NotSupported\"];"
                      "m1 in Heartbeat 3:{\"currentTime\":\"t\"};");
    reset_out();
    LW_CHECK_INT(lw_store_journal_pairs(s, LW_STR("CP"), 0, 1, r_pair, NULL), 0);
    LW_CHECK_STR(out, "m3 in StatusNotification -;");
    reset_out();
    LW_CHECK_INT(lw_store_journal_pairs(s, LW_STR("CP"), 6, 1, r_pair, NULL), 0);
    LW_CHECK_STR(out, "m2 out Reset 4:[\"NotSupported\"];");
    reset_out();
    LW_CHECK_INT(lw_store_journal_pairs(s, LW_STR("CP"), 1, 0, r_pair, NULL), 0);
    LW_CHECK_STR(out, "");
    lw_store_close(s);
}

/* ---- maintenance --------------------------------------------------------------------------- */

LW_TEST(maintenance_prunes_and_expires)
{
    lw_store_t *s = fresh_store();
    if (!s) return;
    LW_CHECK_INT(add_station(s, "M1"), 0);
    LW_CHECK_INT(add_station(s, "M2"), 0);
    /* rows arrive in time order (the age prune relies on it: schema 009) */
    for (int i = 0; i < 30; i++)
        for (int st = 0; st < 2; st++) {
            lw_store_write_t w = {.kind = LW_W_JOURNAL,
                                  .station_id = st ? LW_STR("M2") : LW_STR("M1")};
            w.u.journal.msg_id = LW_STR("x");
            w.u.journal.at_ms = 1000 + i; /* 1000..1029 */
            LW_CHECK_INT(lw_store_submit(s, &w, NULL, NULL), 0);
        }
    /* two MeterValues: dedupe rows stamped by the store's (manual) clock */
    lw_meter_value_t mv = {.timestamp_ms = 1, .value = LW_STR("1")};
    lw_store_write_t m = {.kind = LW_W_METER_VALUES, .station_id = LW_STR("M1")};
    m.u.meter.values = &mv;
    m.u.meter.n_values = 1;
    LW_CHECK_INT(lw_store_submit_wait(s, &m, NULL), 0); /* dedupe at 1,000,000 */
    lw_manual_clock_advance(&mclock, 500000);
    mv.timestamp_ms = 2;
    LW_CHECK_INT(lw_store_submit_wait(s, &m, NULL), 0);                 /* dedupe at 1,500,000 */
    LW_CHECK_INT(cmd_insert(s, "M1", "{}", "", 1000, 10, NULL) > 0, 1); /* expires 11000 */

    lw_store_write_t w = {.kind = LW_W_MAINTAIN};
    w.u.maint.now_ms = 1600000;
    w.u.maint.journal_max_age_ms = 1600000 - 1010; /* rows at < 1010: 10 per station */
    w.u.maint.journal_keep_per_station = 15;       /* then 20 -> 15 per station */
    w.u.maint.dedupe_max_age_ms = 200000;          /* rows at < 1,400,000: the first */
    lw_store_result_t res;
    LW_CHECK_INT(lw_store_submit_wait(s, &w, &res), 0);
    LW_CHECK_INT(res.pruned_journal, 30);
    LW_CHECK_INT(res.pruned_dedupe, 1);
    LW_CHECK_INT(res.expired_commands, 1);
    LW_CHECK_INT(res.expired_reservations, 0);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM journal WHERE station_id = 'M1'"), 15);
    LW_CHECK_INT(sql_int("SELECT min(at) FROM journal WHERE station_id = 'M2'"), 1015);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM dedupe"), 1);
    /* the MeterValues whose dedupe row was kept is still recognised as a retry */
    lw_store_result_t r2;
    LW_CHECK_INT(lw_store_submit_wait(s, &m, &r2), 0);
    LW_CHECK(r2.duplicate);
    /* nothing left to do: a second run changes nothing */
    LW_CHECK_INT(lw_store_submit_wait(s, &w, &res), 0);
    LW_CHECK_INT(res.pruned_journal + res.pruned_dedupe + res.expired_commands, 0);

    /* defaults from limits.h; zero bounds do nothing */
    lw_store_maint_t d;
    lw_store_maint_defaults(&d);
    LW_CHECK_INT(d.journal_max_age_ms, LW_STORE_JOURNAL_MAX_AGE_MS_DEFAULT);
    LW_CHECK_INT(d.journal_keep_per_station, LW_STORE_JOURNAL_KEEP_PER_STATION_DEFAULT);
    LW_CHECK_INT(d.dedupe_max_age_ms, LW_STORE_DEDUPE_MAX_AGE_MS_DEFAULT);
    w.u.maint = (lw_store_maint_t){.now_ms = 1 << 30};
    LW_CHECK_INT(lw_store_submit_wait(s, &w, &res), 0);
    LW_CHECK_INT(res.pruned_journal + res.pruned_dedupe, 0);
    lw_store_close(s);
}

static int maint_history(lw_store_t *s, int64_t now, int64_t age, int64_t rows_max,
                         lw_store_result_t *res)
{
    lw_store_write_t w = {.kind = LW_W_MAINTAIN};
    w.u.maint = (lw_store_maint_t){.now_ms = now, .history_max_age_ms = age, .rows_max = rows_max};
    return lw_store_submit_wait(s, &w, res);
}

static int sec_event(lw_store_t *s, int64_t at)
{
    lw_store_write_t w = {.kind = LW_W_SECURITY_EVENT, .station_id = LW_STR("CP")};
    w.u.security.type = LW_STR("FirmwareUpdated");
    w.u.security.at_ms = at;
    return lw_store_submit_wait(s, &w, NULL);
}

/* history-retention: rows go by when they were stored (the server's clock at the retention
 * runs), not by the timestamps stations put in them, and at most rows_max a run. */
LW_TEST(history_retention_by_time_stored)
{
    lw_store_t *s = fresh_store();
    if (!s) return;
    LW_CHECK_INT(add_station(s, "CP"), 0);
    const int64_t day = 86400000, age = 90 * day, t0 = 1700000000000;
    /* stored before the first run: 3 status rows (one from a station clock in the future),
     * 2 security events */
    LW_CHECK_INT(status(s, 0, 1, "Available", t0 + 400 * day), 0);
    LW_CHECK_INT(status(s, 0, 1, "Charging", t0), 0);
    LW_CHECK_INT(status(s, 0, 2, "Available", t0), 0);
    LW_CHECK_INT(sec_event(s, t0), 0);
    LW_CHECK_INT(sec_event(s, t0), 0);
    lw_store_result_t r;
    LW_CHECK_INT(maint_history(s, t0, age, 0, &r), 0); /* marks them; nothing is old yet */
    LW_CHECK_INT(r.pruned_history, 0);
    LW_CHECK(!r.more);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM history_marks"), 2);
    /* 10 days later: 2 more status rows, one with a station clock in 1970 */
    LW_CHECK_INT(status(s, 0, 1, "Finishing", 1), 0);
    LW_CHECK_INT(status(s, 0, 1, "Available", t0 + 10 * day), 0);
    LW_CHECK_INT(maint_history(s, t0 + 10 * day, age, 0, &r), 0);
    LW_CHECK_INT(r.pruned_history, 0);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM history_marks"), 3); /* security: no new row */
    /* a day after the first run aged out: the 5 rows stored before it go, the 2 after stay */
    LW_CHECK_INT(maint_history(s, t0 + 91 * day, age, 0, &r), 0);
    LW_CHECK_INT(r.pruned_history, 5);
    LW_CHECK(!r.more);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM status_history"), 2);
    LW_CHECK_INT(sql_int("SELECT min(at) FROM status_history"), 1);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM security_events"), 0);
    /* the emptied table's ids start again at 1: no mark covers the new row */
    LW_CHECK_INT(sql_int("SELECT count(*) FROM history_marks WHERE tbl = 'security_events'"), 0);
    LW_CHECK_INT(sec_event(s, t0 + 91 * day), 0);
    LW_CHECK_INT(sql_int("SELECT max(id) FROM security_events"), 1);
    LW_CHECK_INT(maint_history(s, t0 + 92 * day, age, 0, &r), 0);
    LW_CHECK_INT(r.pruned_history, 0);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM security_events"), 1);

    /* 3 more status rows; 100 days on, the 2 rows stored before the run at day 10 go */
    for (int i = 0; i < 3; i++)
        LW_CHECK_INT(status(s, 0, 1, "Available", t0), 0);
    LW_CHECK_INT(maint_history(s, t0 + 100 * day, age, 0, &r), 0);
    LW_CHECK_INT(r.pruned_history, 2);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM status_history"), 3);
    /* a bound of 1 row a run: the backlog goes one row a run, "more" until it is gone */
    int64_t later = t0 + 191 * day;
    LW_CHECK_INT(maint_history(s, later, age, 1, &r), 0);
    LW_CHECK_INT(r.pruned_history, 1);
    LW_CHECK(r.more);
    LW_CHECK(lw_store_maint_more(s)); /* what the server's timer asks */
    int runs = 1;
    while (r.more && runs < 10) {
        LW_CHECK_INT(maint_history(s, later, age, 1, &r), 0);
        LW_CHECK_INT(r.pruned_history, 1);
        runs++;
    }
    LW_CHECK_INT(runs, 4); /* 3 status rows and the security event */
    LW_CHECK(!lw_store_maint_more(s));
    LW_CHECK_INT(sql_int("SELECT count(*) FROM status_history"), 0);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM security_events"), 0);

    /* 0 = keep: no marks made, nothing deleted */
    LW_CHECK_INT(status(s, 0, 1, "Available", t0), 0);
    long long marks = sql_int("SELECT count(*) FROM history_marks");
    LW_CHECK_INT(maint_history(s, later + 400 * day, 0, 0, &r), 0);
    LW_CHECK_INT(r.pruned_history, 0);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM history_marks"), marks);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM status_history"), 1);
    lw_store_close(s);
}

LW_TEST(item_arrays_are_copied_and_bounded)
{
    lw_store_t *s = fresh_store();
    if (!s) return;
    LW_CHECK_INT(add_station(s, "CP"), 0);
    /* strings in a submitted array may be freed at once: submit copies them */
    char comp[16] = "Comp", val[16] = "v1";
    lw_dm_attr_t a = {.component = lw_str_c(comp), .variable = LW_STR("V"), .value = lw_str_c(val)};
    lw_store_write_t w = {.kind = LW_W_DEVICE_MODEL, .station_id = LW_STR("CP")};
    w.u.device_model.attrs = &a;
    w.u.device_model.n_attrs = 1;
    lw_store_result_t res;
    LW_CHECK_INT(lw_store_submit(s, &w, NULL, NULL), 0);
    memset(comp, 'X', sizeof comp - 1);
    memset(val, 'Y', sizeof val - 1);
    LW_CHECK_INT(lw_store_submit_wait(s, &(lw_store_write_t){.kind = LW_W_STATIONS_OFFLINE}, &res),
                 0);
    reset_out();
    LW_CHECK_INT(
        lw_store_device_model_list(s, LW_STR("CP"), LW_STR_NULL, LW_STR_NULL, 0, 0, r_dm, NULL), 0);
    LW_CHECK(strncmp(out, "Comp//0/0/V//Actual=v1 ", 23) == 0);
    w.u.device_model.n_attrs = LW_STORE_ITEMS_MAX + 1;
    LW_CHECK_INT(lw_store_submit(s, &w, NULL, NULL), LW_ETOOBIG);
    w.u.device_model.attrs = NULL;
    w.u.device_model.n_attrs = 1;
    LW_CHECK_INT(lw_store_submit(s, &w, NULL, NULL), LW_EINVAL);
    lw_store_close(s);
}

int main(void)
{
    if (fixture_begin()) return 1;
    lw_log_set_level(LW_LOG_WARN);
    LW_RUN(device_model_upsert_and_read);
    LW_RUN(device_events_newest_first);
    LW_RUN(config_keys_upsert_and_replace);
    LW_RUN(reservations);
    LW_RUN(charging_profiles);
    LW_RUN(certificates);
    LW_RUN(command_idempotency_key_returns_existing);
    LW_RUN(command_lifecycle_and_rules);
    LW_RUN(command_ttl_expiry_at_explicit_now);
    LW_RUN(transaction_list_filters_and_pages);
    LW_RUN(station_find_filters_and_mark_offline);
    LW_RUN(connector_status_and_history);
    LW_RUN(journal_pairs_join_by_message_id);
    LW_RUN(maintenance_prunes_and_expires);
    LW_RUN(history_retention_by_time_stored);
    LW_RUN(item_arrays_are_copied_and_bounded);
    fixture_end();
    return lw_test_done();
}
