/*
 * test_store_meter.c — the compact meter layout of schema 003 (csms/store): one meter_rows
 * row per stored message holding its sampled values as JSON. Every field of every value must
 * read back byte for byte (quotes, backslashes, control characters, UTF-8, long signed
 * data, absent fields), in arrival order; the transaction's energy register must follow the
 * readings (the writer keeps it in memory); retries stay deduplicated; and values stored
 * one row per sampled value by schema 002 move over when an old file is opened.
 */
#include "store_fixture.h"
#include "test.h"

#include "store/store.h"
#include "store/store_int.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>

static lw_store_result_t run(lw_store_t *s, const lw_store_write_t *w)
{
    lw_store_result_t r = {0};
    int rc = lw_store_submit_wait(s, w, &r);
    if (rc && !r.status) r.status = rc;
    return r;
}

/* ---- copies of listed values (views die when the callback returns) ---------------------- */

#define GOT_MAX 16
typedef struct {
    int64_t ts;
    char *f[8];
    size_t len[8];
} got_t;
static got_t got[GOT_MAX];
static int got_n;

static void got_reset(void)
{
    for (int i = 0; i < got_n; i++)
        for (int k = 0; k < 8; k++)
            free(got[i].f[k]);
    got_n = 0;
}

static void fields(const lw_meter_value_t *v, lw_str_t out[8])
{
    out[0] = v->value, out[1] = v->measurand, out[2] = v->phase, out[3] = v->unit;
    out[4] = v->context, out[5] = v->location, out[6] = v->format, out[7] = v->signed_data;
}

static int keep(void *ud, const lw_meter_value_t *v)
{
    (void)ud;
    if (got_n >= GOT_MAX) return 1;
    got_t *g = &got[got_n++];
    g->ts = v->timestamp_ms;
    lw_str_t f[8];
    fields(v, f);
    for (int k = 0; k < 8; k++) {
        g->len[k] = f[k].len;
        g->f[k] = malloc(f[k].len + 1);
        if (f[k].len) memcpy(g->f[k], f[k].p, f[k].len);
        g->f[k][f[k].len] = 0;
    }
    return 0;
}

static const char *const field_names[8] = {"value",   "measurand", "phase",  "unit",
                                           "context", "location",  "format", "signed_data"};

/* Checks listed value i against want, every field byte for byte. */
static void check_value(int i, const lw_meter_value_t *want)
{
    if (i >= got_n) {
        LW_FAILF("value %d not listed (%d listed)", i, got_n);
        return;
    }
    LW_CHECK_INT(got[i].ts, want->timestamp_ms);
    lw_str_t w[8];
    fields(want, w);
    for (int k = 0; k < 8; k++) {
        bool same =
            got[i].len[k] == w[k].len && (!w[k].len || !memcmp(got[i].f[k], w[k].p, w[k].len));
        if (!same)
            LW_FAILF("value %d field %s: got \"%s\" (%zu bytes), want \"%.*s\" (%zu bytes)", i,
                     field_names[k], got[i].f[k], got[i].len[k], (int)w[k].len,
                     w[k].len ? w[k].p : "", w[k].len);
    }
}

static int64_t start_tx(lw_store_t *s, const char *station, int64_t meter_start, int64_t at)
{
    lw_store_write_t t = {.kind = LW_W_TX_START, .station_id = lw_str_c(station)};
    t.u.tx_start.connector_id = 1;
    t.u.tx_start.id_tag = LW_STR("TAG");
    t.u.tx_start.meter_start_wh = meter_start;
    t.u.tx_start.at_ms = at;
    t.u.tx_start.reservation_id = -1;
    lw_store_result_t r = run(s, &t);
    LW_CHECK_INT(r.status, 0);
    return r.tx_id;
}

static int add_station(lw_store_t *s, const char *id)
{
    lw_store_write_t w = {.kind = LW_W_STATION_PUT, .station_id = lw_str_c(id)};
    w.u.station_put.must_not_exist = true;
    return lw_store_submit_wait(s, &w, NULL);
}

/* ---- tests ---------------------------------------------------------------------------------- */

LW_TEST(meter_rows_keep_every_field)
{
    fresh();
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    LW_CHECK_INT(add_station(s, "CPX"), 0);
    int64_t tx = start_tx(s, "CPX", 1000, 1700000000000);

    static char long_signed[3000];
    for (size_t i = 0; i + 1 < sizeof long_signed; i++)
        long_signed[i] = (char)('A' + i % 26);
    lw_meter_value_t m1[3] = {
        {.timestamp_ms = 1700000000123,
         .value = LW_STR("1500"),
         .measurand = LW_STR("Energy.Active.Import.Register"),
         .unit = LW_STR("Wh"),
         .context = LW_STR("Sample.Periodic"),
         .location = LW_STR("Outlet"),
         .format = LW_STR("Raw")},
        {.timestamp_ms = 1700000000123,
         .value = LW_STR("16.02"),
         .measurand = LW_STR("Current.Import"),
         .phase = LW_STR("L1"),
         .unit = LW_STR("A"),
         .context = LW_STR("Sample.Periodic"),
         .location = LW_STR("Outlet")},
        /* every character class JSON must escape, and UTF-8 */
        {.timestamp_ms = -5,
         .value = LW_STR("q\"b\\s/n\nt\tr\rc\x01\x1f end"),
         .measurand = LW_STR("Vendor \"x\" \xce\xa9 \xe2\x82\xac"),
         .phase = LW_STR("\\"),
         .unit = LW_STR("\""),
         .format = LW_STR("SignedData"),
         .signed_data = LW_STR("{\"signedMeterData\":\"AbCd==\",\"encodingMethod\":\"OCMF\"}")},
    };
    lw_meter_value_t m2[4] = {
        {.timestamp_ms = 1700000060000,
         .value = LW_STR("2.5"),
         .measurand = LW_STR(""), /* absent: the register by default */
         .unit = LW_STR("kWh")},
        {.timestamp_ms = 1700000060000,
         .value = LW_STR("7360.0"),
         .measurand = LW_STR("Power.Active.Import")},
        {.timestamp_ms = 1700000060001,
         .value = LW_STR("x"),
         .format = LW_STR("SignedData"),
         .signed_data = {long_signed, sizeof long_signed - 1}},
        {.timestamp_ms = INT64_MAX, .value = LW_STR("0"), .measurand = LW_STR("SoC")},
    };
    lw_store_write_t w = {.kind = LW_W_METER_VALUES, .station_id = LW_STR("CPX")};
    w.u.meter.connector_id = 1;
    w.u.meter.tx_id = tx;
    w.u.meter.values = m1;
    w.u.meter.n_values = 3;
    lw_store_result_t r = run(s, &w);
    LW_CHECK_INT(r.status, 0);
    LW_CHECK(!r.duplicate);
    LW_CHECK_INT(r.tx_id, tx);
    w.u.meter.values = m2;
    w.u.meter.n_values = 4;
    LW_CHECK_INT(run(s, &w).status, 0);
    /* a retry of the first message is recognized and stores nothing */
    w.u.meter.values = m1;
    w.u.meter.n_values = 3;
    r = run(s, &w);
    LW_CHECK_INT(r.status, 0);
    LW_CHECK(r.duplicate);
    LW_CHECK_INT(r.tx_id, tx);

    /* the register went 1500 Wh, then 2.5 kWh: energy from meterStart 1000 is 1500 */
    lw_tx_rec_t t;
    LW_CHECK_INT(lw_store_tx_get(s, tx, &t), 0);
    LW_CHECK_INT(t.energy_wh, 1500);
    LW_CHECK(!t.meter_backwards);

    /* 1.6 StopTransaction with transactionData: its values, then the stop reading */
    lw_meter_value_t td[1] = {{.timestamp_ms = 1700000090000,
                               .value = LW_STR("2600"),
                               .context = LW_STR("Transaction.End"),
                               .measurand = LW_STR("Energy.Active.Import.Register"),
                               .unit = LW_STR("Wh")}};
    lw_store_write_t stop = {.kind = LW_W_TX_STOP, .station_id = LW_STR("CPX")};
    stop.u.tx_stop.tx_id = tx;
    stop.u.tx_stop.meter_stop_wh = 2700;
    stop.u.tx_stop.at_ms = 1700000099000;
    stop.u.tx_stop.values = td;
    stop.u.tx_stop.n_values = 1;
    LW_CHECK_INT(run(s, &stop).status, 0);
    LW_CHECK_INT(lw_store_tx_get(s, tx, &t), 0);
    LW_CHECK_INT(t.meter_stop_wh, 2700);
    LW_CHECK_INT(t.energy_wh, 1700);

    got_reset();
    LW_CHECK_INT(lw_store_meter_list(s, tx, 0, keep, NULL), 0);
    LW_CHECK_INT(got_n, 9);
    for (int i = 0; i < 3; i++)
        check_value(i, &m1[i]);
    for (int i = 0; i < 4; i++)
        check_value(3 + i, &m2[i]);
    check_value(7, &td[0]);
    lw_meter_value_t sv = {.timestamp_ms = 1700000099000,
                           .value = LW_STR("2700"),
                           .measurand = LW_STR("Energy.Active.Import.Register"),
                           .unit = LW_STR("Wh"),
                           .context = LW_STR("Transaction.End")};
    check_value(8, &sv);
    /* a page stops at the limit, inside a row */
    got_reset();
    LW_CHECK_INT(lw_store_meter_list(s, tx, 5, keep, NULL), 0);
    LW_CHECK_INT(got_n, 5);
    check_value(4, &m2[1]);
    got_reset();

    /* one row per stored message; the meter_values view still shows one row per value */
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM meter_rows WHERE tx_id = %lld", (long long)tx);
    LW_CHECK_INT(sql_int(sql), 4);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM meter_values WHERE tx_id = %lld",
             (long long)tx);
    LW_CHECK_INT(sql_int(sql), 9);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM meter_values WHERE measurand = 'Current.Import' "
                         "AND phase = 'L1' AND location = 'Outlet' AND value = '16.02'"),
                 1);
    lw_store_close(s);
}

LW_TEST(register_kept_in_memory_follows_every_writer)
{
    /* The writer caches each transaction's register; reopening (an empty cache) and a
     * second transaction on the same station must give the same figures as the rows. */
    fresh();
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    LW_CHECK_INT(add_station(s, "CPR"), 0);
    LW_CHECK_INT(add_station(s, "OTHER"), 0);
    int64_t tx = start_tx(s, "CPR", 100, 1);
    const char *readings[] = {"150", "300", "250", "400"};
    for (int i = 0; i < 4; i++) {
        lw_meter_value_t v = {.timestamp_ms = 10 + i,
                              .value = lw_str_c(readings[i]),
                              .measurand = LW_STR("Energy.Active.Import.Register")};
        lw_store_write_t w = {.kind = LW_W_METER_VALUES, .station_id = LW_STR("CPR")};
        w.u.meter.tx_id = tx;
        w.u.meter.values = &v;
        w.u.meter.n_values = 1;
        LW_CHECK_INT(run(s, &w).status, 0);
        if (i == 1) { /* close and reopen between readings: the cache starts empty */
            lw_store_close(s);
            s = open_or_fail(NULL);
            if (!s) return;
        }
    }
    lw_tx_rec_t t;
    LW_CHECK_INT(lw_store_tx_get(s, tx, &t), 0);
    LW_CHECK_INT(t.energy_wh, 300);
    LW_CHECK(t.meter_backwards); /* 300 -> 250 */
    /* another station naming this transaction id does not touch it (kept unlinked) */
    lw_meter_value_t v = {.timestamp_ms = 99,
                          .value = LW_STR("99999"),
                          .measurand = LW_STR("Energy.Active.Import.Register")};
    lw_store_write_t w = {.kind = LW_W_METER_VALUES, .station_id = LW_STR("OTHER")};
    w.u.meter.tx_id = tx;
    w.u.meter.values = &v;
    w.u.meter.n_values = 1;
    lw_store_result_t r = run(s, &w);
    LW_CHECK_INT(r.status, 0);
    LW_CHECK_INT(r.tx_id, 0);
    LW_CHECK_INT(lw_store_tx_get(s, tx, &t), 0);
    LW_CHECK_INT(t.energy_wh, 300);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM meter_rows WHERE tx_id IS NULL"), 1);
    lw_store_close(s);
}

LW_TEST(upgrade_from_schema_2_moves_meter_values)
{
    /* A file at schema 2 with values stored one row per sampled value opens under this
     * build: 003 moves them into meter_rows with every field, in their order. */
    fresh();
    sqlite3 *db;
    LW_CHECK_INT(sqlite3_open(dbpath, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, lw_store_migrations[0].sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, lw_store_migrations[1].sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(
            db,
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at INTEGER NOT NULL);"
            "INSERT INTO schema_version VALUES (1, '001_initial', 0), (2, '002_operations', 0);"
            "INSERT INTO transactions (id, station_id, start_at) VALUES (7, 'OLD', 1);"
            "INSERT INTO meter_values (station_id, connector_id, tx_id, at, value, measurand, "
            "phase, unit, context, location, format, signed_data) VALUES "
            "('OLD', 1, 7, 1000, '12.5', 'Energy.Active.Import.Register', '', 'kWh', "
            "'Sample.Periodic', 'Outlet', 'Raw', ''),"
            "('OLD', 1, NULL, 1500, '1', '', '', '', '', '', '', ''),"
            "('OLD', 1, 7, 2000, 'AbC=', 'Voltage', 'L1-N', 'V', 'Sample.Clock', 'Inlet', "
            "'SignedData', '{\"signedMeterData\":\"AbC=\"}');",
            NULL, NULL, &msg);
    if (rc != SQLITE_OK) LW_FAILF("setting up schema 2: %s", msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(db);
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    LW_CHECK(lw_store_schema_version(s) >= 3);
    got_reset();
    LW_CHECK_INT(lw_store_meter_list(s, 7, 0, keep, NULL), 0);
    LW_CHECK_INT(got_n, 2);
    lw_meter_value_t w0 = {.timestamp_ms = 1000,
                           .value = LW_STR("12.5"),
                           .measurand = LW_STR("Energy.Active.Import.Register"),
                           .unit = LW_STR("kWh"),
                           .context = LW_STR("Sample.Periodic"),
                           .location = LW_STR("Outlet"),
                           .format = LW_STR("Raw")};
    lw_meter_value_t w1 = {.timestamp_ms = 2000,
                           .value = LW_STR("AbC="),
                           .measurand = LW_STR("Voltage"),
                           .phase = LW_STR("L1-N"),
                           .unit = LW_STR("V"),
                           .context = LW_STR("Sample.Clock"),
                           .location = LW_STR("Inlet"),
                           .format = LW_STR("SignedData"),
                           .signed_data = LW_STR("{\"signedMeterData\":\"AbC=\"}")};
    check_value(0, &w0);
    check_value(1, &w1);
    got_reset();
    LW_CHECK_INT(sql_int("SELECT count(*) FROM meter_rows"), 3);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM meter_values WHERE tx_id IS NULL"), 1);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM sqlite_master WHERE name = 'meter_values' AND "
                         "type = 'view'"),
                 1);
    lw_store_close(s);
}

LW_TEST(upgrade_from_schema_13_moves_the_running_values)
{
    /* Schema 14 moves a transaction's running meter state (latest register, energy, the
     * backwards flag, the head of its meter chain) into tx_meter and drops the columns from
     * transactions: a file at schema 13 keeps every figure, an active transaction's next
     * readings continue from them, and a 2.x transaction ended after the upgrade takes its
     * meter stop from the moved register. */
    fresh();
    sqlite3 *db = db_at_schema(13);
    if (!db ||
        !db_fill_close(
            db, "INSERT INTO stations (id, created_at) VALUES ('CPM', 1);"
                /* 5: active, 1000 -> 1600 Wh, went backwards once, its chain head row 2 */
                "INSERT INTO transactions (id, station_id, start_at, meter_start_wh, "
                "last_register_wh, energy_wh, meter_backwards, last_meter_id) VALUES "
                "(5, 'CPM', 1, 1000, 1600, 600, 1, 2);"
                "INSERT INTO meter_rows (id, station_id, tx_id, at, n, samples, prev_id) VALUES "
                "(1, 'CPM', 5, 10, 1, '[[10,\"1700\",\"Energy.Active.Import.Register\",\"\","
                "\"\",\"\",\"\",\"\",\"\"]]', 0),"
                "(2, 'CPM', 5, 11, 1, '[[11,\"1600\",\"Energy.Active.Import.Register\",\"\","
                "\"\",\"\",\"\",\"\",\"\"]]', 1);"
                /* 6: ended, 250 Wh */
                "INSERT INTO transactions (id, station_id, state, start_at, stop_at, "
                "meter_start_wh, meter_stop_wh, last_register_wh, energy_wh) VALUES "
                "(6, 'CPM', 1, 1, 2, 0, 250, 250, 250);"
                /* 7: 2.x, active, register at 42 Wh */
                "INSERT INTO transactions (id, tx_uid, station_id, start_at, last_register_wh, "
                "energy_wh) VALUES (7, 'U7', 'CPM', 1, 42, 0);"))
        return;
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    LW_CHECK(lw_store_schema_version(s) >= 14);
    lw_tx_rec_t t;
    LW_CHECK_INT(lw_store_tx_get(s, 5, &t), 0);
    LW_CHECK_INT(t.energy_wh, 600);
    LW_CHECK(t.meter_backwards);
    LW_CHECK_INT(t.meter_start_wh, 1000);
    LW_CHECK_INT(lw_store_tx_get(s, 6, &t), 0);
    LW_CHECK_INT(t.energy_wh, 250);
    LW_CHECK(!t.meter_backwards);
    LW_CHECK_INT(t.meter_stop_wh, 250);
    /* the next reading of 5 continues: energy from the kept start, chained after row 2 */
    lw_meter_value_t v = {.timestamp_ms = 12,
                          .value = LW_STR("1800"),
                          .measurand = LW_STR("Energy.Active.Import.Register")};
    lw_store_write_t w = {.kind = LW_W_METER_VALUES, .station_id = LW_STR("CPM")};
    w.u.meter.tx_id = 5;
    w.u.meter.values = &v;
    w.u.meter.n_values = 1;
    LW_CHECK_INT(run(s, &w).status, 0);
    LW_CHECK_INT(lw_store_tx_get(s, 5, &t), 0);
    LW_CHECK_INT(t.energy_wh, 800);
    LW_CHECK(t.meter_backwards);
    got_reset();
    LW_CHECK_INT(lw_store_meter_list(s, 5, 0, keep, NULL), 0);
    LW_CHECK_INT(got_n, 3);
    LW_CHECK_INT(sql_int("SELECT prev_id FROM meter_rows WHERE id = (SELECT max(id) FROM "
                         "meter_rows)"),
                 2);
    /* 7 ends (2.x, no reading in the event): its meter stop is the moved register */
    lw_store_write_t e = {.kind = LW_W_TX_EVENT, .station_id = LW_STR("CPM")};
    e.u.tx_event.tx_uid = LW_STR("U7");
    e.u.tx_event.event_type = LW_STR("Ended");
    e.u.tx_event.seq_no = 1;
    e.u.tx_event.at_ms = 20;
    e.u.tx_event.trigger_reason = LW_STR("StopAuthorized");
    e.u.tx_event.stopped_reason = LW_STR("Local");
    LW_CHECK_INT(run(s, &e).status, 0);
    LW_CHECK_INT(lw_store_tx_get(s, 7, &t), 0);
    LW_CHECK_INT(t.state, 1);
    LW_CHECK_INT(t.meter_stop_wh, 42);
    lw_store_close(s);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM tx_meter"), 3);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM pragma_table_info('transactions') WHERE name IN "
                         "('last_register_wh', 'energy_wh', 'meter_backwards', 'last_meter_id')"),
                 0);
}

int main(void)
{
    if (fixture_begin()) return 1;
    lw_log_set_level(LW_LOG_ERROR);
    LW_RUN(meter_rows_keep_every_field);
    LW_RUN(register_kept_in_memory_follows_every_writer);
    LW_RUN(upgrade_from_schema_2_moves_meter_values);
    LW_RUN(upgrade_from_schema_13_moves_the_running_values);
    fixture_end();
    return lw_test_done();
}
