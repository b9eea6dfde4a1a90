/* test_serve_store.c — the store changes `serve` relies on: a 1.6 StopTransaction for an
 * unknown or -1 transaction is kept in orphan_stops (acknowledged, stored once even when
 * retried), and operator commands are stored under the REST API's own ids (insert with an
 * explicit id; a second insert of the same id is LW_EEXISTS and changes nothing). */
#include "store/store.h"
#include "test.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/lw-serve-store-XXXXXX";
static char dbpath[256];

static lw_store_t *open_store(void)
{
    snprintf(dbpath, sizeof dbpath, "%s/t.db", dir);
    char url[300], err[256];
    snprintf(url, sizeof url, "sqlite:%s", dbpath);
    lw_store_t *s = NULL;
    int rc = lw_store_open(url, NULL, &s, err, sizeof err);
    if (rc) LW_FAILF("lw_store_open = %s: %s", lw_err_name(rc), err);
    return s;
}

static long long sql_int(const char *q)
{
    sqlite3 *db;
    long long v = -1;
    if (sqlite3_open(dbpath, &db) == SQLITE_OK) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK) {
            if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
        }
    }
    sqlite3_close(db);
    return v;
}

static lw_store_t *store;

LW_TEST(orphan_stop_is_kept_once)
{
    lw_store_write_t w = {.kind = LW_W_TX_STOP, .station_id = LW_STR("CP1")};
    w.u.tx_stop.tx_id = -1;
    w.u.tx_stop.id_tag = LW_STR("TAG9");
    w.u.tx_stop.meter_stop_wh = 4321;
    w.u.tx_stop.at_ms = 1700000000000;
    w.u.tx_stop.reason = LW_STR("PowerLoss");
    w.u.tx_stop.answer = LW_STR("{}");
    lw_store_result_t res;
    LW_CHECK_INT(lw_store_submit_wait(store, &w, &res), 0);
    LW_CHECK_INT(res.tx_id, 0);
    LW_CHECK(res.row_id > 0);
    LW_CHECK(!res.duplicate);
    /* The same message again (a retry after a lost answer): acknowledged, stored once. */
    LW_CHECK_INT(lw_store_submit_wait(store, &w, &res), 0);
    LW_CHECK(res.duplicate);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM orphan_stops"), 1);
    LW_CHECK_INT(sql_int("SELECT meter_stop_wh FROM orphan_stops WHERE tx_id = -1 AND "
                         "station_id = 'CP1' AND id_tag = 'TAG9' AND reason = 'PowerLoss' AND "
                         "stop_at = 1700000000000"),
                 4321);
    /* An unknown id is kept with the id as sent; no transaction is invented. */
    w.u.tx_stop.tx_id = 777;
    LW_CHECK_INT(lw_store_submit_wait(store, &w, &res), 0);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM orphan_stops WHERE tx_id = 777"), 1);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM transactions"), 0);
}

LW_TEST(command_with_explicit_id)
{
    lw_store_write_t w = {.kind = LW_W_CMD_INSERT, .station_id = LW_STR("CP1")};
    w.u.cmd.id = 42;
    w.u.cmd.action = LW_STR("Reset");
    w.u.cmd.payload = LW_STR("{\"type\":\"Soft\"}");
    w.u.cmd.ttl_s = 60;
    lw_store_result_t res;
    LW_CHECK_INT(lw_store_submit_wait(store, &w, &res), 0);
    LW_CHECK_INT(res.row_id, 42);
    w.u.cmd.payload = LW_STR("{\"type\":\"Hard\"}");
    LW_CHECK_INT(lw_store_submit_wait(store, &w, &res), LW_EEXISTS);
    lw_arena_t a;
    lw_arena_init(&a, 0);
    lw_cmd_rec_t r;
    LW_CHECK_INT(lw_store_cmd_get(store, 42, &r, &a), 0);
    LW_CHECK_MEM(r.payload.p, r.payload.len, "{\"type\":\"Soft\"}", strlen("{\"type\":\"Soft\"}"));
    LW_CHECK_INT(r.status, LW_CMD_QUEUED);
    lw_arena_free(&a);
    /* Without an id the store picks the next one. */
    w.u.cmd.id = 0;
    LW_CHECK_INT(lw_store_submit_wait(store, &w, &res), 0);
    LW_CHECK_INT(res.row_id, 43);
}

int main(void)
{
    if (!mkdtemp(dir)) return 1;
    store = open_store();
    if (store) {
        LW_RUN(orphan_stop_is_kept_once);
        LW_RUN(command_with_explicit_id);
        lw_store_close(store);
    }
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {
    }
    return lw_test_done();
}
