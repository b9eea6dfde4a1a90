/*
 * test_store.c — the store (csms/store) on its SQLite backend: migrations, station
 * credentials, group commit, back-pressure, deduplication of retried transaction messages,
 * meter values, journal retention, and durability of acknowledged writes across SIGKILL.
 */
#include "store_fixture.h"
#include "test.h"

#include "auth/auth.h"
#include "store/store.h"
#include "store/store_int.h"

#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <dirent.h>
#include <sys/wait.h>

static int add_station(lw_store_t *s, const char *id, int profile, const char *pw)
{
    lw_store_write_t w = {.kind = LW_W_STATION_PUT, .station_id = lw_str_c(id)};
    w.u.station_put.must_not_exist = true;
    w.u.station_put.set_profile = true;
    w.u.station_put.security_profile = profile;
    w.u.station_put.set_password = pw != NULL;
    w.u.station_put.password = lw_str_c(pw);
    return lw_store_submit_wait(s, &w, NULL);
}

LW_TEST(embedded_migrations_match_files)
{
    /* gen_migrations.sh must be rerun after a .sql file changes. */
    int n = 0;
    for (const lw_store_migration_t *m = lw_store_migrations; m->sql; m++, n++) {
        char path[256];
        snprintf(path, sizeof path, "csms/store/migrations/%s.sql", m->name);
        FILE *f = fopen(path, "rb");
        if (!f) {
            LW_FAILF("cannot open %s (run from the source root)", path);
            continue;
        }
        static char buf[1 << 20];
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = 0;
        if (strcmp(buf, m->sql) != 0)
            LW_FAILF("%s differs from csms/store/migrations.c: run csms/store/gen_migrations.sh",
                     path);
        LW_CHECK_INT(m->version, n + 1);
    }
    LW_CHECK(n >= 1);
}

LW_TEST(migrations_apply_and_are_idempotent)
{
    fresh();
    int newest = 0;
    for (const lw_store_migration_t *m = lw_store_migrations; m->sql; m++)
        newest = m->version;
    LW_CHECK(newest >= 2);
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    LW_CHECK_INT(lw_store_schema_version(s), newest);
    lw_store_close(s);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM schema_version"), newest);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM sqlite_master WHERE name = 'transactions'"), 1);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM sqlite_master WHERE name = 'config_keys'"), 1);
    /* indexes nothing reads are gone (011, 015): each cost a B-tree insert per message */
    LW_CHECK_INT(sql_int("SELECT count(*) FROM sqlite_master WHERE name IN "
                         "('status_history_station', 'boot_notifications_station')"),
                 0);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM sqlite_master WHERE name = "
                         "'status_history_station_id'"),
                 1);
    s = open_or_fail(NULL);
    if (!s) return;
    LW_CHECK_INT(lw_store_schema_version(s), newest);
    lw_store_close(s);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM schema_version"), newest);
    /* WAL is set in the file. */
    sqlite3 *db;
    sqlite3_open(dbpath, &db);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL);
    sqlite3_step(st);
    LW_CHECK_STR((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

LW_TEST(upgrade_from_schema_1_keeps_data)
{
    /* A file made by the first release (only 001 applied, with a queued command) opens
     * under this build: 002 applies on top and the command keeps its data. */
    fresh();
    sqlite3 *db;
    LW_CHECK_INT(sqlite3_open(dbpath, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, lw_store_migrations[0].sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db,
                          "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT "
                          "NOT NULL, applied_at INTEGER NOT NULL);"
                          "INSERT INTO schema_version VALUES (1, '001_initial', 0);"
                          "INSERT INTO commands (station_id, action, payload, idempotency_key, "
                          "created_at, expires_at, updated_at) VALUES ('OLD', 'Reset', '{}', "
                          "'k1', 10, 20, 10);",
                          NULL, NULL, &msg);
    if (rc != SQLITE_OK) LW_FAILF("setting up schema 1: %s", msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(db);
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    LW_CHECK(lw_store_schema_version(s) >= 2);
    lw_arena_t a;
    lw_arena_init(&a, 4096);
    lw_cmd_rec_t r;
    LW_CHECK_INT(lw_store_cmd_get(s, 1, &r, &a), 0);
    LW_CHECK_STR(r.action, "Reset");
    LW_CHECK_STR(r.idempotency_key, "k1");
    LW_CHECK_INT(r.status, LW_CMD_QUEUED);
    LW_CHECK_INT(r.expires_ms, 20);
    lw_arena_free(&a);
    lw_store_close(s);
}

/* Schema 13 rebuilds stations (its reg_status CHECK as comparisons, not IN): a file at
 * schema 12 keeps every station column byte for byte, and the rows referencing the stations
 * (connector status, commands) are not cascaded away by the drop of the old table; the CHECK
 * still holds, and foreign keys are enforced again once the store is open. */
LW_TEST(upgrade_from_schema_12_rebuilds_stations)
{
    static const char snapshot[] =
        "SELECT group_concat(quote(id) || quote(security_profile) || quote(pw_salt) || "
        "quote(pw_hash) || quote(reg_status) || quote(ocpp_version) || quote(vendor) || "
        "quote(model) || quote(serial) || quote(firmware) || quote(iccid) || quote(imsi) || "
        "quote(meter_type) || quote(meter_serial) || quote(created_at) || quote(last_boot_at) || "
        "quote(last_seen_at) || quote(online), '|') FROM (SELECT * FROM stations ORDER BY id)";
    fresh();
    sqlite3 *db = db_at_schema(12);
    if (!db ||
        !db_fill_close(
            db, "INSERT INTO stations VALUES ('CP-A', 2, x'00112233445566778899aabbccddeeff', "
                "x'0102030405060708091011121314151617181920212223242526272829303132', 'Pending', "
                "'2.0.1', 'Acme', 'X1', 'S-9', '1.2.3', 'icc', 'imsi', 'mt', 'ms', 5, 6, 7, 1);"
                "INSERT INTO stations (id, created_at) VALUES ('CP-B', 8);"
                "INSERT INTO connector_status (station_id, evse_id, connector_id, status, at) "
                "VALUES ('CP-A', 0, 1, 'Available', 9), ('CP-B', 1, 1, 'Faulted', 10);"
                "INSERT INTO commands (station_id, action, payload, idempotency_key, created_at, "
                "expires_at, updated_at) VALUES ('CP-A', 'Reset', '{}', 'k1', 10, 20, 10);"))
        return;
    char *before = sql_text(snapshot);

    lw_store_t *s = open_or_fail(NULL);
    if (!s) {
        free(before);
        return;
    }
    LW_CHECK(lw_store_schema_version(s) >= 13);
    /* foreign keys are back on: a status for a station that does not exist is refused */
    lw_store_write_t w = {.kind = LW_W_STATUS, .station_id = LW_STR("ghost")};
    w.u.status.connector_id = 1;
    w.u.status.status = LW_STR("Available");
    w.u.status.at_ms = 11;
    LW_CHECK(lw_store_submit_wait(s, &w, NULL) != 0);
    lw_station_rec_t r;
    LW_CHECK_INT(lw_store_station_get(s, LW_STR("CP-A"), &r), 0);
    LW_CHECK_INT(r.reg_status, LW_REG_PENDING);
    LW_CHECK(r.has_password);
    lw_store_close(s);

    char *after = sql_text(snapshot);
    LW_CHECK(before && after && strstr(before, "'CP-B'") != NULL);
    if (before && after) LW_CHECK_STR(after, before);
    free(before);
    free(after);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM connector_status"), 2);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM connector_status WHERE station_id = 'ghost'"), 0);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM commands WHERE station_id = 'CP-A'"), 1);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM sqlite_master WHERE name = 'stations_new'"), 0);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM sqlite_master WHERE name = 'stations' AND "
                         "sql LIKE '%reg_status IN%'"),
                 0);
    /* the CHECK is still there */
    LW_CHECK(exec_sql_rc("INSERT INTO stations (id, reg_status, created_at) "
                         "VALUES ('CP-C', 'Bogus', 1)") != SQLITE_OK);
    LW_CHECK_INT(exec_sql_rc("INSERT INTO stations (id, reg_status, created_at) "
                             "VALUES ('CP-C', 'Rejected', 1)"),
                 SQLITE_OK);
}

LW_TEST(open_rejects_postgres_and_bad_urls)
{
    lw_store_t *s = NULL;
    char err[256];
    LW_CHECK_INT(lw_store_open("postgres://u@localhost/db", NULL, &s, err, sizeof err), LW_ENOTSUP);
    LW_CHECK(strstr(err, "PostgreSQL") != NULL);
    LW_CHECK(s == NULL);
    LW_CHECK_INT(lw_store_open("mysql://x", NULL, &s, err, sizeof err), LW_EINVAL);
    LW_CHECK_INT(lw_store_open("sqlite:", NULL, &s, err, sizeof err), LW_EINVAL);
    LW_CHECK_INT(lw_store_open("sqlite:/nonexistent-dir/x.db", NULL, &s, err, sizeof err), LW_EIO);
    LW_CHECK(strstr(err, "/nonexistent-dir/x.db") != NULL);
}

static int count_station(void *ud, const lw_station_rec_t *rec)
{
    (*(int *)ud)++;
    return 0;
}

static int count_tx(void *ud, const lw_tx_rec_t *rec)
{
    (*(int *)ud)++;
    return 0;
}

LW_TEST(station_crud)
{
    fresh();
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    LW_CHECK_INT(add_station(s, "CP-1", 1, "0123456789abcdef"), 0);
    LW_CHECK_INT(add_station(s, "CP-1", 1, "0123456789abcdef"), LW_EEXISTS);
    LW_CHECK_INT(add_station(s, "CP-0", 0, NULL), 0);
    lw_station_rec_t r;
    LW_CHECK_INT(lw_store_station_get(s, LW_STR("CP-1"), &r), 0);
    LW_CHECK_STR(r.id, "CP-1");
    LW_CHECK_INT(r.security_profile, 1);
    LW_CHECK(r.has_password);
    LW_CHECK_INT(r.reg_status, LW_REG_ACCEPTED);
    LW_CHECK_INT(lw_store_station_get(s, LW_STR("CP-0"), &r), 0);
    LW_CHECK(!r.has_password);
    LW_CHECK_INT(lw_store_station_get(s, LW_STR("nope"), &r), LW_ENOTFOUND);

    lw_store_write_t w = {.kind = LW_W_STATION_PUT, .station_id = LW_STR("CP-1")};
    w.u.station_put.set_profile = true;
    w.u.station_put.security_profile = 2;
    w.u.station_put.set_reg_status = true;
    w.u.station_put.reg_status = LW_REG_PENDING;
    LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), 0);
    LW_CHECK_INT(lw_store_station_get(s, LW_STR("CP-1"), &r), 0);
    LW_CHECK_INT(r.security_profile, 2);
    LW_CHECK_INT(r.reg_status, LW_REG_PENDING);
    LW_CHECK(r.has_password); /* untouched */
    w.station_id = LW_STR("ghost");
    LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), LW_ENOTFOUND);

    /* connect + boot fill the station's info */
    lw_store_write_t c = {.kind = LW_W_STATION_CONN, .station_id = LW_STR("CP-1")};
    c.u.conn.online = true;
    c.u.conn.ocpp_version = LW_STR("2.0.1");
    c.u.conn.at_ms = 1000;
    LW_CHECK_INT(lw_store_submit_wait(s, &c, NULL), 0);
    lw_store_write_t b = {.kind = LW_W_BOOT, .station_id = LW_STR("CP-1")};
    b.u.boot.at_ms = 2000;
    b.u.boot.vendor = LW_STR("Acme"), b.u.boot.model = LW_STR("X1");
    b.u.boot.serial = LW_STR("S-9"), b.u.boot.firmware = LW_STR("1.2.3");
    b.u.boot.payload = LW_STR("{}");
    LW_CHECK_INT(lw_store_submit_wait(s, &b, NULL), 0);
    LW_CHECK_INT(lw_store_station_get(s, LW_STR("CP-1"), &r), 0);
    LW_CHECK(r.online);
    LW_CHECK_STR(r.ocpp_version, "2.0.1");
    LW_CHECK_STR(r.vendor, "Acme");
    LW_CHECK_STR(r.firmware, "1.2.3");
    LW_CHECK_INT(r.last_boot_ms, 2000);

    int count = 0;
    LW_CHECK_INT(lw_store_station_list(s, LW_STR_NULL, 0, count_station, &count), 0);
    LW_CHECK_INT(count, 2);
    count = 0;
    LW_CHECK_INT(lw_store_station_list(s, LW_STR("CP-0"), 0, count_station, &count), 0);
    LW_CHECK_INT(count, 1);

    lw_store_write_t d = {.kind = LW_W_STATION_DELETE, .station_id = LW_STR("CP-0")};
    LW_CHECK_INT(lw_store_submit_wait(s, &d, NULL), 0);
    LW_CHECK_INT(lw_store_submit_wait(s, &d, NULL), LW_ENOTFOUND);
    LW_CHECK_INT(lw_store_station_get(s, LW_STR("CP-0"), &r), LW_ENOTFOUND);
    lw_store_close(s);
}

/* An unknown station the policy registers as it connects: added online in one statement; if
 * an operator added it meanwhile, only its connection columns are written. */
LW_TEST(station_added_as_it_connects)
{
    fresh();
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    lw_store_write_t w = {.kind = LW_W_STATION_PUT, .station_id = LW_STR("NEW-1")};
    w.u.station_put.must_not_exist = true;
    w.u.station_put.set_profile = true;
    w.u.station_put.security_profile = 0;
    w.u.station_put.set_reg_status = true;
    w.u.station_put.reg_status = LW_REG_PENDING;
    w.u.station_put.connecting = true;
    w.u.station_put.ocpp_version = LW_STR("2.0.1");
    w.u.station_put.at_ms = 1700000000123;
    LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), 0);
    lw_station_rec_t r;
    LW_CHECK_INT(lw_store_station_get(s, LW_STR("NEW-1"), &r), 0);
    LW_CHECK(r.online);
    LW_CHECK_STR(r.ocpp_version, "2.0.1");
    LW_CHECK_INT(r.security_profile, 0);
    LW_CHECK_INT(r.reg_status, LW_REG_PENDING);
    LW_CHECK_INT(r.last_seen_ms, 1700000000123);
    LW_CHECK_INT(r.created_ms, 1700000000123);

    /* added by an operator first (profile 2, a password, offline): the connect keeps those */
    LW_CHECK_INT(add_station(s, "OP-1", 2, "0123456789abcdef"), 0);
    w.station_id = LW_STR("OP-1");
    w.u.station_put.at_ms = 1700000000456;
    w.u.station_put.ocpp_version = LW_STR("1.6");
    LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), 0);
    LW_CHECK_INT(lw_store_station_get(s, LW_STR("OP-1"), &r), 0);
    LW_CHECK(r.online);
    LW_CHECK_STR(r.ocpp_version, "1.6");
    LW_CHECK_INT(r.security_profile, 2);
    LW_CHECK(r.has_password);
    LW_CHECK_INT(r.reg_status, LW_REG_ACCEPTED);
    LW_CHECK_INT(r.last_seen_ms, 1700000000456);
    LW_CHECK(r.created_ms != 1700000000456);
    /* without connecting, an existing station is still refused */
    w.u.station_put.connecting = false;
    LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), LW_EEXISTS);
    lw_store_close(s);
}

LW_TEST(station_password_verify)
{
    fresh();
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    LW_CHECK_INT(add_station(s, "A", 1, "passwordpassword-A"), 0);
    LW_CHECK_INT(add_station(s, "B", 2, "passwordpassword-B"), 0);
    LW_CHECK_INT(add_station(s, "Z", 0, NULL), 0);
    LW_CHECK_INT(lw_store_station_check_password(s, LW_STR("A"), LW_STR("passwordpassword-A")), 0);
    LW_CHECK_INT(lw_store_station_check_password(s, LW_STR("A"), LW_STR("passwordpassword-B")),
                 LW_EAUTH);
    LW_CHECK_INT(lw_store_station_check_password(s, LW_STR("B"), LW_STR("passwordpassword-A")),
                 LW_EAUTH);
    LW_CHECK_INT(lw_store_station_check_password(s, LW_STR("A"), LW_STR("")), LW_EAUTH);
    LW_CHECK_INT(lw_store_station_check_password(s, LW_STR("Z"), LW_STR("")), LW_EAUTH);
    LW_CHECK_INT(lw_store_station_check_password(s, LW_STR("Q"), LW_STR("x")), LW_ENOTFOUND);
    /* the clear password is nowhere in the file */
    LW_CHECK_INT(sql_int("SELECT count(*) FROM stations WHERE pw_hash LIKE '%password%' OR "
                         "pw_salt LIKE '%password%'"),
                 0);
    /* equal passwords hash differently (per-station salt) */
    LW_CHECK_INT(add_station(s, "C", 1, "passwordpassword-A"), 0);
    LW_CHECK_INT(sql_int("SELECT count(DISTINCT pw_hash) FROM stations WHERE id IN ('A','C')"), 2);
    /* change the password */
    lw_store_write_t w = {.kind = LW_W_STATION_PUT, .station_id = LW_STR("A")};
    w.u.station_put.set_password = true;
    w.u.station_put.password = LW_STR("new-password-0123");
    LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), 0);
    LW_CHECK_INT(lw_store_station_check_password(s, LW_STR("A"), LW_STR("passwordpassword-A")),
                 LW_EAUTH);
    LW_CHECK_INT(lw_store_station_check_password(s, LW_STR("A"), LW_STR("new-password-0123")), 0);
    lw_store_close(s);
}

LW_TEST(read_snapshot_spans_reads)
{
    fresh();
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    LW_CHECK_INT(add_station(s, "A", 0, NULL), 0);
    lw_station_rec_t r;
    LW_CHECK_INT(lw_store_read_begin(s), 0);
    LW_CHECK_INT(lw_store_station_get(s, LW_STR("A"), &r), 0); /* the snapshot starts here */
    LW_CHECK_INT(add_station(s, "B", 0, NULL), 0);             /* committed after it */
    LW_CHECK_INT(lw_store_station_get(s, LW_STR("B"), &r), LW_ENOTFOUND);
    LW_CHECK_INT(lw_store_station_check_password(s, LW_STR("B"), LW_STR("x")), LW_ENOTFOUND);
    lw_store_read_end(s);
    LW_CHECK_INT(lw_store_station_get(s, LW_STR("B"), &r), 0); /* each read its own again */
    LW_CHECK_INT(add_station(s, "C", 0, NULL), 0);
    LW_CHECK_INT(lw_store_station_get(s, LW_STR("C"), &r), 0);
    lw_store_read_end(s); /* without a snapshot: nothing to end */
    LW_CHECK_INT(lw_store_station_get(s, LW_STR("A"), &r), 0);
    lw_store_close(s);
}

LW_TEST(api_tokens)
{
    fresh();
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    char text[LW_AUTH_TOKEN_TEXT_MAX];
    lw_store_write_t w = {.kind = LW_W_API_TOKEN_PUT};
    LW_CHECK_INT(lw_auth_token_new(text, w.u.api_token.hash), 0);
    LW_CHECK_INT(strlen(text), 46);
    w.u.api_token.role = LW_ROLE_OPERATOR;
    w.u.api_token.name = LW_STR("ci");
    lw_store_result_t res;
    LW_CHECK_INT(lw_store_submit_wait(s, &w, &res), 0);
    LW_CHECK(res.row_id > 0);
    lw_api_token_rec_t r;
    LW_CHECK_INT(lw_store_api_token_check(s, lw_str_c(text), &r), 0);
    LW_CHECK_INT(r.role, LW_ROLE_OPERATOR);
    LW_CHECK_STR(r.name, "ci");
    text[10] ^= 1;
    LW_CHECK_INT(lw_store_api_token_check(s, lw_str_c(text), &r), LW_EAUTH);
    text[10] ^= 1;
    lw_store_write_t rv = {.kind = LW_W_API_TOKEN_REVOKE};
    rv.u.api_revoke.id = res.row_id;
    rv.u.api_revoke.at_ms = 5;
    LW_CHECK_INT(lw_store_submit_wait(s, &rv, NULL), 0);
    LW_CHECK_INT(lw_store_api_token_check(s, lw_str_c(text), &r), LW_EAUTH);
    rv.u.api_revoke.id = 999;
    LW_CHECK_INT(lw_store_submit_wait(s, &rv, NULL), LW_ENOTFOUND);
    lw_store_close(s);
}

/* ---- group commit ------------------------------------------------------------------------- */

#define N_WRITES 10000
static atomic_int fired[N_WRITES];
static atomic_int fired_bad;

static void count_cb(void *ud, const lw_store_result_t *res)
{
    intptr_t i = (intptr_t)ud;
    if (res->status != 0) atomic_fetch_add(&fired_bad, 1);
    atomic_fetch_add(&fired[i], 1);
}

static void *submitter(void *arg)
{
    lw_store_t *s = arg;
    for (intptr_t i = 0; i < N_WRITES; i++) {
        char id[16];
        int n = snprintf(id, sizeof id, "m%ld", (long)i);
        lw_store_write_t w = {.kind = LW_W_JOURNAL, .station_id = LW_STR("CP-G")};
        w.u.journal.inbound = true;
        w.u.journal.msg_type = 2;
        w.u.journal.msg_id = (lw_str_t){id, (size_t)n};
        w.u.journal.action = LW_STR("Heartbeat");
        w.u.journal.payload = LW_STR("{}");
        int rc;
        while ((rc = lw_store_submit(s, &w, count_cb, (void *)i)) == LW_EBUSY)
            usleep(100);
        if (rc) {
            printf("  submit %ld: %s\n", (long)i, lw_err_name(rc));
            return (void *)1;
        }
    }
    return NULL;
}

LW_TEST(group_commit_many_writes_few_commits)
{
    fresh();
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    pthread_t t;
    pthread_create(&t, NULL, submitter, s);
    void *ret;
    pthread_join(t, &ret);
    LW_CHECK(ret == NULL);
    lw_store_close(s); /* drains: every callback has fired */
    int once = 0;
    for (int i = 0; i < N_WRITES; i++)
        once += fired[i] == 1;
    LW_CHECK_INT(once, N_WRITES);
    LW_CHECK_INT(atomic_load(&fired_bad), 0);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM journal"), N_WRITES);

    /* A second store to read the counters of a run that is still open. */
    fresh();
    s = open_or_fail(NULL);
    if (!s) return;
    memset(fired, 0, sizeof fired);
    pthread_create(&t, NULL, submitter, s);
    pthread_join(t, &ret);
    lw_store_write_t w = {.kind = LW_W_JOURNAL, .station_id = LW_STR("CP-G")};
    w.u.journal.msg_id = LW_STR("last");
    LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), 0); /* after all 10,000 (FIFO) */
    lw_store_stats_t st;
    lw_store_stats(s, &st);
    LW_CHECK_INT(st.writes, N_WRITES + 1);
    LW_CHECK_INT(st.write_errors, 0);
    uint64_t hist = 0;
    for (int i = 0; i < LW_STORE_BATCH_BUCKETS; i++)
        hist += st.batch_hist[i];
    LW_CHECK_INT(hist, st.commits);
    printf("  %llu writes in %llu commits\n", (unsigned long long)st.writes,
           (unsigned long long)st.commits);
    LW_CHECK(st.commits * 10 < st.writes); /* group commit: far fewer commits than writes */
    lw_store_close(s);
}

/* The retry keys of StartTransaction and MeterValues are stored (dedupe, meter rows) and
 * compared with the keys of later retries, across restarts and upgrades: the same write must
 * give the same bytes in every version. These digests were computed by the implementation
 * of 2026-11-24 (one SHA-256 update per field); a faster one must reproduce them. */
static void key_hex(const lw_store_write_t *w, char *hex)
{
    uint8_t key[64];
    size_t n = lw_store_dedupe_key(w, key);
    for (size_t i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", key[i]);
    hex[2 * n] = 0;
}

LW_TEST(dedupe_keys_are_stable)
{
    char hex[129];
    lw_store_write_t st = {.kind = LW_W_TX_START, .station_id = LW_STR("CP-K")};
    st.u.tx_start.connector_id = 2;
    st.u.tx_start.id_tag = LW_STR("TAG-0001");
    st.u.tx_start.meter_start_wh = 123456;
    st.u.tx_start.at_ms = 1764000000123;
    st.u.tx_start.reservation_id = -1;
    key_hex(&st, hex);
    LW_CHECK_STR(hex, "cfcdbe78ab6b959c8640976d6bfc1a65eb736ef0ae898f3a6bf5a3407e42f552");
    lw_meter_value_t mv[2] = {
        {.timestamp_ms = 1764000000000,
         .value = LW_STR("1234.5"),
         .measurand = LW_STR("Energy.Active.Import.Register"),
         .unit = LW_STR("Wh"),
         .context = LW_STR("Sample.Periodic")},
        {.timestamp_ms = 1764000000000,
         .value = LW_STR("16.0"),
         .measurand = LW_STR("Current.Import"),
         .phase = LW_STR("L1"),
         .unit = LW_STR("A"),
         .location = LW_STR("Outlet"),
         .format = LW_STR("Raw"),
         .signed_data = LW_STR("{\"signedMeterData\":\"x\"}")},
    };
    lw_store_write_t m = {.kind = LW_W_METER_VALUES, .station_id = LW_STR("CP-K")};
    m.u.meter.evse_id = 1;
    m.u.meter.connector_id = 1;
    m.u.meter.tx_id = 77;
    m.u.meter.values = mv;
    m.u.meter.n_values = 2;
    key_hex(&m, hex);
    LW_CHECK_STR(hex, "7a2490c06824b3de3c11fd94124c141faf6ab8a51b47d5bfb57411154e561932");
    m.u.meter.tx_id = 0;
    m.u.meter.tx_uid = LW_STR("0f0e-uid");
    key_hex(&m, hex);
    LW_CHECK_STR(hex, "37644cb0d8a93927675778c227ab44da6c5ff8ca3ce81ac0e497658bf14efe75");
    /* key material larger than the hashing buffer (long signed data): the digest of the
     * whole byte stream, as computed independently (Python hashlib over the same layout) */
    static char big[3][3600];
    lw_meter_value_t bv[3];
    char vtxt[3][4];
    for (int i = 0; i < 3; i++) {
        size_t n = 1500 + 1000 * (size_t)i;
        memset(big[i], 'S', n);
        snprintf(vtxt[i], sizeof vtxt[i], "v%d", i);
        bv[i] = (lw_meter_value_t){.timestamp_ms = 1000 + i,
                                   .value = lw_str_c(vtxt[i]),
                                   .measurand = LW_STR("Voltage"),
                                   .unit = LW_STR("V"),
                                   .signed_data = {big[i], n}};
    }
    lw_store_write_t bm = {.kind = LW_W_METER_VALUES, .station_id = LW_STR("CP-K")};
    bm.u.meter.connector_id = 3;
    bm.u.meter.tx_id = 5;
    bm.u.meter.values = bv;
    bm.u.meter.n_values = 3;
    key_hex(&bm, hex);
    LW_CHECK_STR(hex, "ed5b8cd0f463c024fdd4c0fd4b1f4bcc89faf1733658d7490fe1d1d20cd1dc95");
    /* the TX_EVENT and TX_STOP keys are their ids as text */
    lw_store_write_t e = {.kind = LW_W_TX_EVENT, .station_id = LW_STR("CP-K")};
    e.u.tx_event.tx_uid = LW_STR("abc");
    e.u.tx_event.seq_no = 7;
    uint8_t key[64];
    LW_CHECK_INT(lw_store_dedupe_key(&e, key), 5);
    LW_CHECK(!memcmp(key, "abc:7", 5));
}

/* A batch nobody waits on (journal rows, last-seen times) commits without fsync; a batch with
 * one write whose submitter is told "stored" commits durably. */
/* A burst fills the writer's page cache; LW_STORE_IDLE_RELEASE_MS after the last write the
 * idle writer gives it back (sqlite3_db_release_memory), so that a boot storm's cache does not
 * stay in the RSS of the stations idling after it. */
LW_TEST(idle_writer_gives_its_cache_back)
{
    fresh();
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    static char payload[1024];
    memset(payload, 'p', sizeof payload - 1);
    lw_store_write_t w = {.kind = LW_W_JOURNAL, .station_id = LW_STR("CP-M")};
    w.u.journal.inbound = true;
    w.u.journal.msg_type = 2;
    w.u.journal.msg_id = LW_STR("m");
    w.u.journal.action = LW_STR("DataTransfer");
    w.u.journal.payload = lw_str_c(payload);
    for (int i = 0; i < 4000; i++) {
        int rc;
        while ((rc = lw_store_submit(s, &w, NULL, NULL)) == LW_EBUSY)
            usleep(100);
        LW_CHECK_INT(rc, 0);
    }
    LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), 0); /* after the 4,000 (FIFO) */
    lw_store_stats_t st;
    lw_store_stats(s, &st);
    uint64_t burst = st.cache_bytes, releases = st.memory_releases;
    LW_CHECK(burst > 1024 * 1024); /* ~4 MB written through a 2 MiB cache */
    for (int i = 0; i < 100 && st.memory_releases == releases; i++) { /* up to 10 s */
        usleep(100 * 1000);
        lw_store_stats(s, &st);
    }
    LW_CHECK_INT(st.memory_releases, releases + 1);
    LW_CHECK(st.cache_bytes < burst / 8);
    lw_store_close(s);
}

LW_TEST(fire_and_forget_batches_skip_fsync)
{
    fresh();
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    lw_store_write_t w = {.kind = LW_W_JOURNAL, .station_id = LW_STR("CP-F")};
    w.u.journal.msg_id = LW_STR("x");
    for (int i = 0; i < 50; i++)
        LW_CHECK_INT(lw_store_submit(s, &w, NULL, NULL), 0);
    lw_store_stats_t st;
    for (int spin = 0; spin < 5000; spin++) { /* until the writer has committed all 50 */
        lw_store_stats(s, &st);
        if (st.writes == 50) break;
        usleep(1000);
    }
    LW_CHECK_INT(st.writes, 50);
    LW_CHECK(st.commits >= 1);
    LW_CHECK_INT(st.commits_nosync, st.commits);
    LW_CHECK_INT(st.syncs, 0); /* no durable COMMIT timed */
    uint64_t before = st.commits;
    LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), 0);
    lw_store_stats(s, &st);
    LW_CHECK_INT(st.commits, before + 1);
    LW_CHECK_INT(st.commits_nosync, before); /* the waited-on batch was durable */
    LW_CHECK_INT(st.syncs, 1);               /* and its COMMIT (with the fsync) was timed */
    uint64_t in_buckets = 0;
    for (int i = 0; i < LW_STORE_SYNC_BUCKETS; i++)
        in_buckets += st.sync_hist[i];
    LW_CHECK_INT(in_buckets, 1);
    LW_CHECK(st.sync_us_max >= 1 && st.sync_us_total == st.sync_us_max);
    lw_store_close(s);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM journal"), 51);
}

/* What a write's callback reported (ud: the outcome_t, the test's). */
typedef struct {
    atomic_int status, done;
} outcome_t;
static void on_outcome(void *ud, const lw_store_result_t *res)
{
    outcome_t *o = ud;
    atomic_store(&o->status, res->status);
    atomic_store(&o->done, 1);
}

static void exec_sql(const char *sql)
{
    LW_CHECK_INT(exec_sql_rc(sql), SQLITE_OK);
}

/* Writes are applied without a savepoint each; a write that fails after changing a row (here a
 * BootNotification: its station UPDATE passes, its history INSERT is refused by a trigger)
 * must leave nothing, and the writes around it in the same batch must all be stored: the
 * batch is rolled back and applied again with a savepoint per write. */
LW_TEST(write_failing_half_way_leaves_no_trace)
{
    outcome_t boot = {.status = 1}; /* 1: no callback yet */
    fresh();
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    LW_CHECK_INT(add_station(s, "CP-R", 0, NULL), 0);
    lw_store_write_t b = {.kind = LW_W_BOOT, .station_id = LW_STR("CP-R")};
    b.u.boot.at_ms = 1000;
    b.u.boot.vendor = LW_STR("Old");
    b.u.boot.payload = LW_STR("{}");
    LW_CHECK_INT(lw_store_submit_wait(s, &b, NULL), 0);
    exec_sql("CREATE TRIGGER no_boot BEFORE INSERT ON boot_notifications "
             "WHEN NEW.station_id = 'CP-R' BEGIN SELECT RAISE(ABORT, 'refused'); END");
    lw_store_stats_t st;
    lw_store_stats(s, &st);
    uint64_t replays = st.replays;

    lw_store_write_t j = {.kind = LW_W_JOURNAL, .station_id = LW_STR("CP-K")};
    j.u.journal.msg_id = LW_STR("k");
    for (int i = 0; i < 5; i++) /* queued without waiting: they join the boot's batch */
        LW_CHECK_INT(lw_store_submit(s, &j, NULL, NULL), 0);
    b.u.boot.at_ms = 2000;
    b.u.boot.vendor = LW_STR("New");
    LW_CHECK_INT(lw_store_submit(s, &b, on_outcome, &boot), 0);
    for (int i = 0; i < 5; i++)
        LW_CHECK_INT(lw_store_submit(s, &j, NULL, NULL), 0);
    LW_CHECK_INT(lw_store_submit_wait(s, &j, NULL), 0);

    LW_CHECK(atomic_load(&boot.done));
    LW_CHECK(atomic_load(&boot.status) != 0);
    lw_station_rec_t r;
    LW_CHECK_INT(lw_store_station_get(s, LW_STR("CP-R"), &r), 0);
    LW_CHECK_STR(r.vendor, "Old"); /* the failed boot's UPDATE is gone */
    LW_CHECK_INT(r.last_boot_ms, 1000);
    lw_store_stats(s, &st);
    LW_CHECK_INT(st.replays, replays + 1);
    LW_CHECK_INT(st.commit_failures, 0);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM boot_notifications"), 1);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM journal WHERE station_id = 'CP-K'"), 11);
    LW_CHECK_INT(sql_int(LW_HEADS_COUNT_OF("CP-K")), 11);

    /* a write failing without changing anything does not cost a replay */
    lw_store_write_t d = {.kind = LW_W_STATION_DELETE, .station_id = LW_STR("ghost")};
    LW_CHECK_INT(lw_store_submit_wait(s, &d, NULL), LW_ENOTFOUND);
    lw_store_stats(s, &st);
    LW_CHECK_INT(st.replays, replays + 1);
    lw_store_close(s);
}

/* The replay of a spoiled batch (a savepoint per write) with a journal write that fails after
 * its station's head took the place of another's in the writer's head cache: the evicted
 * head's write-back must not be rolled back with the failed write. Eight stations whose ids
 * fall into the failing station's set of the cache (same hash as store/sqlite.c) fill it with
 * heads dirtied earlier in the batch. */
static uint32_t fnv1a(const char *p)
{
    uint32_t h = 2166136261u;
    for (; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return h;
}

LW_TEST(replayed_batch_keeps_heads_evicted_by_a_failed_write)
{
    outcome_t refused = {.status = 1}; /* 1: no callback yet */
    fresh();
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    enum { SETS = LW_STORE_HEAD_CACHE / LW_STORE_HEAD_WAYS };
    char ids[LW_STORE_HEAD_WAYS][16];
    uint32_t set = fnv1a("BAD") % SETS;
    for (int k = 0, n = 0; n < LW_STORE_HEAD_WAYS; k++) {
        snprintf(ids[n], sizeof ids[n], "S%d", k);
        if (fnv1a(ids[n]) % SETS == set) n++;
    }
    lw_store_write_t j = {.kind = LW_W_JOURNAL, .station_id = LW_STR("CP-W")};
    j.u.journal.msg_id = LW_STR("w");
    LW_CHECK_INT(lw_store_submit_wait(s, &j, NULL), 0);
    exec_sql("CREATE TRIGGER no_bad BEFORE INSERT ON journal "
             "WHEN NEW.station_id = 'BAD' BEGIN SELECT RAISE(ABORT, 'refused'); END");
    lw_store_stats_t st;
    lw_store_stats(s, &st);
    uint64_t replays = st.replays;

    /* one batch: rows of the eight (their heads dirty), then BAD's, refused, then one waited */
    for (int n = 0; n < LW_STORE_HEAD_WAYS; n++) {
        lw_store_write_t w = {.kind = LW_W_JOURNAL, .station_id = lw_str_c(ids[n])};
        w.u.journal.msg_id = LW_STR("m");
        LW_CHECK_INT(lw_store_submit(s, &w, NULL, NULL), 0);
    }
    lw_store_write_t bad = {.kind = LW_W_JOURNAL, .station_id = LW_STR("BAD")};
    bad.u.journal.msg_id = LW_STR("b");
    LW_CHECK_INT(lw_store_submit(s, &bad, on_outcome, &refused), 0);
    LW_CHECK_INT(lw_store_submit_wait(s, &j, NULL), 0);

    LW_CHECK(atomic_load(&refused.done));
    LW_CHECK(atomic_load(&refused.status) != 0);
    lw_store_stats(s, &st);
    LW_CHECK_INT(st.replays, replays + 1);
    /* each of the eight has its row, and a head that points at it */
    LW_CHECK_INT(sql_int("SELECT count(*) FROM journal WHERE station_id LIKE 'S%'"),
                 LW_STORE_HEAD_WAYS);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM journal_heads h JOIN journal r ON r.id = h.last_id "
                         "WHERE h.station_id LIKE 'S%' AND r.station_id = h.station_id "
                         "AND h.n = 1"),
                 LW_STORE_HEAD_WAYS);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM journal WHERE station_id = 'BAD'"), 0);
    lw_store_close(s);
}

/* Group commit: a waited-on write is committed LW_STORE_GROUP_COMMIT_US after it is taken,
 * with what arrived meanwhile (unless the store is opened with no_group_commit). */
LW_TEST(group_commit_waits_for_more)
{
    fresh();
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    lw_store_write_t w = {.kind = LW_W_JOURNAL, .station_id = LW_STR("CP-G")};
    w.u.journal.msg_id = LW_STR("g");
    LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), 0); /* schema and caches warm */
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    int64_t us = (b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000;
    LW_CHECK(us >= LW_STORE_GROUP_COMMIT_US); /* a lower bound: the writer slept */
    lw_store_close(s);
}

/* The background checkpoint thread runs at nice LW_STORE_CKPT_NICE (its copy must not delay
 * the loops' answers); every other thread keeps its priority. */
LW_TEST(checkpoint_thread_runs_at_low_priority)
{
    fresh();
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    int low = 0, normal = 0, named = 0;
    for (int spin = 0; spin < 2000 && (!low || named != 3); spin++) {
        /* the threads lower their own priority and name themselves (top -H, ps -L) */
        low = normal = named = 0;
        DIR *d = opendir("/proc/self/task");
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            char path[300], buf[512];
            snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
            FILE *f = fopen(path, "r");
            if (!f) continue;
            size_t n = fread(buf, 1, sizeof buf - 1, f);
            fclose(f);
            buf[n] = 0;
            const char *p = strrchr(buf, ')'); /* comm may hold spaces */
            int nice = 0, field = 2;
            for (; p && *p && field < 19; p++)
                if (*p == ' ' && ++field == 19) nice = atoi(p + 1);
            const char *c0 = strchr(buf, '(');
            bool ck0 = c0 && !strncmp(c0, "(lw-ckpt-0)", 11);
            if (c0 && (ck0 || !strncmp(c0, "(lw-ckpt-1)", 11) || !strncmp(c0, "(lw-store)", 10)))
                named++;
            if (nice == LW_STORE_CKPT_NICE)
                low += ck0 ? 1 : 100; /* only the PASSIVE checkpoint thread */
            else
                normal++;
        }
        if (d) closedir(d);
        if (!low || named != 3) usleep(1000);
    }
    LW_CHECK_INT(low, 1);
    LW_CHECK_INT(named, 3); /* lw-store, lw-ckpt-0, lw-ckpt-1 */
    LW_CHECK(normal >= 3);  /* this thread, the writer, the RESTART checkpoint thread */
    lw_store_close(s);
}

/* ---- back-pressure ------------------------------------------------------------------------- */

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_entered, gate_open;

static void gate_cb(void *ud, const lw_store_result_t *res)
{
    pthread_mutex_lock(&gate_mu);
    gate_entered = 1;
    pthread_cond_broadcast(&gate_cv);
    while (!gate_open)
        pthread_cond_wait(&gate_cv, &gate_mu);
    pthread_mutex_unlock(&gate_mu);
}

LW_TEST(queue_full_returns_busy)
{
    fresh();
    lw_store_options_t o = {.queue_max = 4};
    lw_store_t *s = open_or_fail(&o);
    if (!s) return;
    lw_store_write_t w = {.kind = LW_W_JOURNAL, .station_id = LW_STR("CP-B")};
    w.u.journal.msg_id = LW_STR("x");
    /* The first write's callback holds the writer thread, so the queue cannot drain. */
    LW_CHECK_INT(lw_store_submit(s, &w, gate_cb, NULL), 0);
    pthread_mutex_lock(&gate_mu);
    while (!gate_entered)
        pthread_cond_wait(&gate_cv, &gate_mu);
    pthread_mutex_unlock(&gate_mu);
    for (int i = 0; i < 4; i++)
        LW_CHECK_INT(lw_store_submit(s, &w, NULL, NULL), 0);
    LW_CHECK_INT(lw_store_submit(s, &w, NULL, NULL), LW_EBUSY);
    lw_store_stats_t st;
    lw_store_stats(s, &st);
    LW_CHECK_INT(st.queue_depth, 4);
    LW_CHECK_INT(st.rejected_busy, 1);
    pthread_mutex_lock(&gate_mu);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
    lw_store_close(s);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM journal"), 5);
}

/* ---- transactions -------------------------------------------------------------------------- */

typedef struct {
    lw_store_result_t res;
    char answer[128];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
} capture_t;

static void capture_cb(void *ud, const lw_store_result_t *res)
{
    capture_t *c = ud;
    pthread_mutex_lock(&c->mu);
    c->res = *res;
    snprintf(c->answer, sizeof c->answer, "%.*s", LW_STR_FMT(res->answer));
    c->done = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

/* Submits and waits, keeping the result's answer text. */
static lw_store_result_t run(lw_store_t *s, const lw_store_write_t *w, char *answer)
{
    capture_t c = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    int rc = lw_store_submit(s, w, capture_cb, &c);
    if (rc) return (lw_store_result_t){.status = rc};
    pthread_mutex_lock(&c.mu);
    while (!c.done)
        pthread_cond_wait(&c.cv, &c.mu);
    pthread_mutex_unlock(&c.mu);
    if (answer) memcpy(answer, c.answer, sizeof c.answer);
    return c.res;
}

LW_TEST(start_transaction_retry_gets_same_id)
{
    fresh();
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    LW_CHECK_INT(add_station(s, "CP16", 1, "passwordpassword"), 0);
    lw_store_write_t w = {.kind = LW_W_TX_START, .station_id = LW_STR("CP16")};
    w.u.tx_start.connector_id = 1;
    w.u.tx_start.id_tag = LW_STR("TAG1");
    w.u.tx_start.meter_start_wh = 1000;
    w.u.tx_start.at_ms = 1700000000000;
    w.u.tx_start.reservation_id = -1;
    w.u.tx_start.answer = LW_STR("{\"idTagInfo\":{\"status\":\"Accepted\"}}");
    char ans[128];
    lw_store_result_t a = run(s, &w, ans), b = run(s, &w, ans);
    LW_CHECK_INT(a.status, 0);
    LW_CHECK(!a.duplicate);
    LW_CHECK(a.tx_id > 0);
    LW_CHECK_INT(b.status, 0);
    LW_CHECK(b.duplicate);
    LW_CHECK_INT(b.tx_id, a.tx_id);
    LW_CHECK_STR(ans, "{\"idTagInfo\":{\"status\":\"Accepted\"}}");
    /* a genuinely new transaction (later timestamp) gets a new id */
    w.u.tx_start.at_ms += 60000;
    lw_store_result_t c = run(s, &w, NULL);
    LW_CHECK(!c.duplicate);
    LW_CHECK(c.tx_id != a.tx_id);
    /* another station with identical content is not a duplicate */
    LW_CHECK_INT(add_station(s, "CP16b", 1, "passwordpassword"), 0);
    w.station_id = LW_STR("CP16b");
    lw_store_result_t d = run(s, &w, NULL);
    LW_CHECK(!d.duplicate);

    /* stop: stored once, retry answered as duplicate, energy computed */
    lw_meter_value_t td[1] = {{.timestamp_ms = 1700000030000,
                               .value = LW_STR("1500"),
                               .measurand = LW_STR("Energy.Active.Import.Register"),
                               .unit = LW_STR("Wh"),
                               .context = LW_STR("Sample.Periodic")}};
    lw_store_write_t st = {.kind = LW_W_TX_STOP, .station_id = LW_STR("CP16")};
    st.u.tx_stop.tx_id = a.tx_id;
    st.u.tx_stop.meter_stop_wh = 1800;
    st.u.tx_stop.at_ms = 1700000060000;
    st.u.tx_stop.reason = LW_STR("EVDisconnected");
    st.u.tx_stop.values = td;
    st.u.tx_stop.n_values = 1;
    st.u.tx_stop.answer = LW_STR("{}");
    lw_store_result_t e = run(s, &st, NULL), f = run(s, &st, NULL);
    LW_CHECK_INT(e.status, 0);
    LW_CHECK(!e.duplicate);
    LW_CHECK_INT(f.status, 0);
    LW_CHECK(f.duplicate);
    LW_CHECK_INT(f.tx_id, a.tx_id);
    lw_tx_rec_t r;
    LW_CHECK_INT(lw_store_tx_get(s, a.tx_id, &r), 0);
    LW_CHECK_INT(r.state, LW_TX_ENDED);
    LW_CHECK_INT(r.meter_start_wh, 1000);
    LW_CHECK_INT(r.meter_stop_wh, 1800);
    LW_CHECK_INT(r.energy_wh, 800);
    LW_CHECK_STR(r.stop_reason, "EVDisconnected");
    LW_CHECK_STR(r.id_token, "TAG1");
    LW_CHECK(!r.meter_backwards);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM meter_values"), 2); /* transactionData + stop */
    /* another station cannot stop this transaction: its stop is acknowledged and kept in
     * orphan_stops for reconciliation (tx_id 0), the transaction is untouched */
    st.station_id = LW_STR("CP16b");
    lw_store_result_t orr = run(s, &st, NULL);
    LW_CHECK_INT(orr.status, 0);
    LW_CHECK_INT(orr.tx_id, 0);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM orphan_stops WHERE station_id = 'CP16b'"), 1);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM meter_values"), 2);

    int n = 0;
    lw_tx_filter_t flt = {.station_id = LW_STR("CP16"), .state = -1};
    LW_CHECK_INT(lw_store_tx_list(s, &flt, count_tx, &n), 0);
    LW_CHECK_INT(n, 2);
    n = 0;
    flt.state = LW_TX_ACTIVE;
    LW_CHECK_INT(lw_store_tx_list(s, &flt, count_tx, &n), 0);
    LW_CHECK_INT(n, 1);
    lw_store_close(s);
}

LW_TEST(transaction_event_seqno_dedupe)
{
    fresh();
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    LW_CHECK_INT(add_station(s, "CP2", 2, "passwordpassword"), 0);
    lw_meter_value_t mv = {.timestamp_ms = 1,
                           .value = LW_STR("2.5"),
                           .unit = LW_STR("kWh"),
                           .context = LW_STR("Transaction.Begin")};
    lw_store_write_t w = {.kind = LW_W_TX_EVENT, .station_id = LW_STR("CP2")};
    w.u.tx_event.tx_uid = LW_STR("tx-abc");
    w.u.tx_event.event_type = LW_STR("Started");
    w.u.tx_event.seq_no = 0;
    w.u.tx_event.at_ms = 100;
    w.u.tx_event.trigger_reason = LW_STR("Authorized");
    w.u.tx_event.evse_id = 1, w.u.tx_event.connector_id = 1;
    w.u.tx_event.id_token = LW_STR("RFID1"), w.u.tx_event.id_token_type = LW_STR("ISO14443");
    w.u.tx_event.reservation_id = -1, w.u.tx_event.remote_start_id = 7;
    w.u.tx_event.values = &mv, w.u.tx_event.n_values = 1;
    w.u.tx_event.answer = LW_STR("{\"idTokenInfo\":{\"status\":\"Accepted\"}}");
    lw_store_result_t a = run(s, &w, NULL);
    char ans[128];
    lw_store_result_t b = run(s, &w, ans);
    LW_CHECK_INT(a.status, 0);
    LW_CHECK(!a.duplicate);
    LW_CHECK(b.duplicate);
    LW_CHECK_INT(b.tx_id, a.tx_id);
    LW_CHECK_STR(ans, "{\"idTokenInfo\":{\"status\":\"Accepted\"}}");

    /* Updated seqNo 1 with a lower register reading: flagged, stored once */
    lw_meter_value_t mv2 = {.timestamp_ms = 2, .value = LW_STR("2400"), .unit = LW_STR("Wh")};
    w.u.tx_event.event_type = LW_STR("Updated");
    w.u.tx_event.seq_no = 1;
    w.u.tx_event.trigger_reason = LW_STR("MeterValuePeriodic");
    w.u.tx_event.offline = true;
    w.u.tx_event.id_token = LW_STR_NULL;
    w.u.tx_event.values = &mv2;
    lw_store_result_t c = run(s, &w, NULL), d = run(s, &w, NULL);
    LW_CHECK(!c.duplicate);
    LW_CHECK(d.duplicate);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM transaction_events"), 2);
    /* Schema 007: a retry is found on the event row, which keeps the answer; no dedupe row. */
    LW_CHECK_INT(sql_int("SELECT count(*) FROM dedupe WHERE kind = 'event'"), 0);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM transaction_events WHERE answer IS NOT NULL"), 2);
    /* An event stored before 007 (answer NULL) has its answer in dedupe: still found. */
    {
        uint8_t key[64];
        size_t kl = lw_store_dedupe_key(&w, key);
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_open(dbpath, &db);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(db, "UPDATE transaction_events SET answer = NULL WHERE seq_no = 1",
                              NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_prepare_v2(db,
                                    "INSERT INTO dedupe (station_id, kind, key, tx_id, answer, at) "
                                    "VALUES ('CP2', 'event', ?1, ?2, '{\"legacy\":1}', 1)",
                                    -1, &st, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_blob(st, 1, key, (int)kl, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, a.tx_id);
            rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
        LW_CHECK_INT(rc, SQLITE_OK);
        char legacy[128];
        lw_store_result_t e = run(s, &w, legacy);
        LW_CHECK(e.duplicate);
        LW_CHECK_INT(e.tx_id, a.tx_id);
        LW_CHECK_STR(legacy, "{\"legacy\":1}");
    }
    LW_CHECK_INT(sql_int("SELECT count(*) FROM meter_values"), 2);

    lw_meter_value_t mv3 = {.timestamp_ms = 3, .value = LW_STR("3100"), .unit = LW_STR("Wh")};
    w.u.tx_event.event_type = LW_STR("Ended");
    w.u.tx_event.seq_no = 2;
    w.u.tx_event.trigger_reason = LW_STR("EVCommunicationLost");
    w.u.tx_event.stopped_reason = LW_STR("EVDisconnected");
    w.u.tx_event.values = &mv3;
    LW_CHECK_INT(run(s, &w, NULL).status, 0);
    lw_tx_rec_t r;
    LW_CHECK_INT(lw_store_tx_get_uid(s, LW_STR("CP2"), LW_STR("tx-abc"), &r), 0);
    LW_CHECK_INT(r.id, a.tx_id);
    LW_CHECK_INT(r.state, LW_TX_ENDED);
    LW_CHECK_INT(r.evse_id, 1);
    LW_CHECK_STR(r.id_token, "RFID1");
    LW_CHECK_INT(r.last_seq_no, 2);
    LW_CHECK(r.offline);
    LW_CHECK(r.meter_backwards);
    LW_CHECK_INT(r.meter_start_wh, 2500);
    LW_CHECK_INT(r.meter_stop_wh, 3100);
    LW_CHECK_INT(r.energy_wh, 600);
    LW_CHECK_INT(r.remote_start_id, 7);
    LW_CHECK_STR(r.stop_reason, "EVDisconnected");
    LW_CHECK_STR(r.last_trigger, "EVCommunicationLost");
    LW_CHECK_INT(sql_int("SELECT count(*) FROM transactions WHERE triggers = "
                         "'Authorized,MeterValuePeriodic,EVCommunicationLost'"),
                 1);
    /* the same transactionId on another station is another transaction */
    LW_CHECK_INT(lw_store_tx_get_uid(s, LW_STR("CPx"), LW_STR("tx-abc"), &r), LW_ENOTFOUND);
    /* Schema 010: the events are a chain from transactions.last_event_id, no index */
    LW_CHECK_INT(sql_int("SELECT count(*) FROM transactions t JOIN transaction_events e ON "
                         "e.id = t.last_event_id WHERE e.seq_no = 2"),
                 1);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM transaction_events e JOIN transaction_events p "
                         "ON p.id = e.prev_id AND p.tx_id = e.tx_id AND p.seq_no = e.seq_no - 1"),
                 2);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM sqlite_master WHERE tbl_name = "
                         "'transaction_events' AND type = 'index'"),
                 0);
    lw_store_close(s);
}

/* A retry is recognised among the transaction's newest LW_STORE_TXEV_RETRY_ROWS events
 * (schema 010): OCPP-J has one CALL in flight, so the event retried is the newest one. */
LW_TEST(transaction_event_retry_on_the_chain)
{
    fresh();
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    LW_CHECK_INT(add_station(s, "CP3", 2, "passwordpassword"), 0);
    lw_meter_value_t mv = {.timestamp_ms = 1, .value = LW_STR("1000"), .unit = LW_STR("Wh")};
    lw_store_write_t w = {.kind = LW_W_TX_EVENT, .station_id = LW_STR("CP3")};
    w.u.tx_event.tx_uid = LW_STR("tx-chain");
    w.u.tx_event.trigger_reason = LW_STR("MeterValuePeriodic");
    w.u.tx_event.evse_id = 1, w.u.tx_event.connector_id = 1;
    w.u.tx_event.reservation_id = -1, w.u.tx_event.remote_start_id = -1;
    w.u.tx_event.values = &mv, w.u.tx_event.n_values = 1;
    int n = LW_STORE_TXEV_RETRY_ROWS + 4;
    char answer[32];
    for (int i = 0; i < n; i++) {
        w.u.tx_event.event_type = i ? LW_STR("Updated") : LW_STR("Started");
        w.u.tx_event.seq_no = i;
        w.u.tx_event.at_ms = 100 + i;
        snprintf(answer, sizeof answer, "{\"n\":%d}", i);
        w.u.tx_event.answer = lw_str_c(answer);
        lw_store_result_t r = run(s, &w, NULL);
        LW_CHECK_INT(r.status, 0);
        LW_CHECK(!r.duplicate);
    }
    /* the newest and one LW_STORE_TXEV_RETRY_ROWS - 1 back: retries, with their answers */
    int back[2] = {n - 1, n - LW_STORE_TXEV_RETRY_ROWS};
    for (int k = 0; k < 2; k++) {
        char got[128];
        w.u.tx_event.seq_no = back[k];
        w.u.tx_event.answer = LW_STR("{\"other\":1}");
        lw_store_result_t r = run(s, &w, got);
        LW_CHECK(r.duplicate);
        snprintf(answer, sizeof answer, "{\"n\":%d}", back[k]);
        LW_CHECK_STR(got, answer);
    }
    LW_CHECK_INT(sql_int("SELECT count(*) FROM transaction_events"), n);
    /* triggers: each distinct triggerReason once (the row does not grow with every event) */
    LW_CHECK_INT(sql_int("SELECT count(*) FROM transactions WHERE triggers = 'MeterValuePeriodic'"),
                 1);
    /* further back than that: not recognised, stored again (documented bound) */
    w.u.tx_event.seq_no = 0;
    LW_CHECK(!run(s, &w, NULL).duplicate);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM transaction_events"), n + 1);
    lw_store_close(s);
}

static lw_meter_value_t mv_got[4];
static char mv_text[4][8][128];
static int mv_n;

/* Keeps a copy of each listed value (views die when the callback returns). */
static int keep_mv(void *ud, const lw_meter_value_t *mv)
{
    if (mv_n >= 4) return 1;
    lw_meter_value_t *g = &mv_got[mv_n];
    *g = *mv;
    lw_str_t *f[8] = {&g->value,   &g->measurand, &g->phase,  &g->unit,
                      &g->context, &g->location,  &g->format, &g->signed_data};
    for (int i = 0; i < 8; i++) {
        snprintf(mv_text[mv_n][i], 128, "%.*s", LW_STR_FMT(*f[i]));
        *f[i] = lw_str_c(mv_text[mv_n][i]);
    }
    mv_n++;
    return 0;
}

LW_TEST(meter_values_all_fields)
{
    fresh();
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    LW_CHECK_INT(add_station(s, "CPM", 1, "passwordpassword"), 0);
    lw_store_write_t t = {.kind = LW_W_TX_START, .station_id = LW_STR("CPM")};
    t.u.tx_start.connector_id = 2;
    t.u.tx_start.id_tag = LW_STR("T");
    t.u.tx_start.meter_start_wh = 0;
    t.u.tx_start.reservation_id = -1;
    lw_store_result_t tr = run(s, &t, NULL);
    LW_CHECK_INT(tr.status, 0);
    lw_meter_value_t v[2] = {
        {.timestamp_ms = 1700000000123,
         .value = LW_STR("230.1"),
         .measurand = LW_STR("Voltage"),
         .phase = LW_STR("L1-N"),
         .unit = LW_STR("V"),
         .context = LW_STR("Sample.Periodic"),
         .location = LW_STR("Outlet"),
         .format = LW_STR("Raw")},
        {.timestamp_ms = 1700000000123,
         .value = LW_STR("AbCd=="),
         .measurand = LW_STR("Energy.Active.Import.Register"),
         .format = LW_STR("SignedData"),
         .signed_data = LW_STR("{\"signedMeterData\":\"AbCd==\",\"encodingMethod\":\"OCMF\"}")},
    };
    lw_store_write_t w = {.kind = LW_W_METER_VALUES, .station_id = LW_STR("CPM")};
    w.u.meter.connector_id = 2;
    w.u.meter.tx_id = tr.tx_id;
    w.u.meter.values = v;
    w.u.meter.n_values = 2;
    lw_store_result_t a = run(s, &w, NULL), b = run(s, &w, NULL);
    LW_CHECK_INT(a.status, 0);
    LW_CHECK(!a.duplicate);
    LW_CHECK(b.duplicate);
    LW_CHECK_INT(a.tx_id, tr.tx_id);
    mv_n = 0;
    LW_CHECK_INT(lw_store_meter_list(s, tr.tx_id, 0, keep_mv, NULL), 0);
    LW_CHECK_INT(mv_n, 2);
    lw_meter_value_t *got = mv_got;
    for (int i = 0; i < 2 && i < mv_n; i++) {
        LW_CHECK_INT(got[i].timestamp_ms, v[i].timestamp_ms);
        lw_str_t *gf[8] = {&got[i].value,   &got[i].measurand, &got[i].phase,  &got[i].unit,
                           &got[i].context, &got[i].location,  &got[i].format, &got[i].signed_data};
        lw_str_t *wf[8] = {&v[i].value,   &v[i].measurand, &v[i].phase,  &v[i].unit,
                           &v[i].context, &v[i].location,  &v[i].format, &v[i].signed_data};
        for (int k = 0; k < 8; k++) {
            char g[128], want[128]; /* absent fields (NULL views) come back as "" */
            snprintf(g, sizeof g, "%.*s", (int)gf[k]->len, gf[k]->len ? gf[k]->p : "");
            snprintf(want, sizeof want, "%.*s", (int)wf[k]->len, wf[k]->len ? wf[k]->p : "");
            LW_CHECK_STR(g, want);
        }
    }
    /* values without a transaction are kept, unlinked */
    w.u.meter.tx_id = 0;
    w.u.meter.n_values = 1;
    LW_CHECK_INT(run(s, &w, NULL).status, 0);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM meter_values WHERE tx_id IS NULL"), 1);
    lw_store_close(s);
}

static int jr_n;
static int64_t jr_newest, jr_oldest;
static int jr_each(void *ud, const lw_journal_rec_t *rec)
{
    if (!jr_n) jr_newest = rec->at_ms;
    jr_oldest = rec->at_ms;
    jr_n++;
    return 0;
}

LW_TEST(journal_retention_prunes)
{
    fresh();
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    /* rows arrive in time order (the age prune relies on it: schema 009) */
    for (int i = 0; i < 50; i++)
        for (int st = 0; st < 2; st++) {
            lw_store_write_t w = {.kind = LW_W_JOURNAL,
                                  .station_id = st ? LW_STR("J2") : LW_STR("J1")};
            w.u.journal.msg_id = LW_STR("id");
            w.u.journal.at_ms = 1000 + i; /* 1000..1049 */
            LW_CHECK_INT(lw_store_submit(s, &w, NULL, NULL), 0);
        }
    lw_store_write_t p = {.kind = LW_W_JOURNAL_PRUNE};
    p.u.prune.older_than_ms = 1010; /* drops 10 per station */
    lw_store_result_t r;
    LW_CHECK_INT(lw_store_submit_wait(s, &p, &r), 0);
    LW_CHECK_INT(r.row_id, 20);
    p.u.prune.older_than_ms = 0;
    p.u.prune.keep_per_station = 15; /* 40 -> 15 per station */
    LW_CHECK_INT(lw_store_submit_wait(s, &p, &r), 0);
    LW_CHECK_INT(r.row_id, 50);
    jr_n = 0;
    LW_CHECK_INT(lw_store_journal_list(s, LW_STR("J1"), 0, 0, jr_each, NULL), 0);
    LW_CHECK_INT(jr_n, 15);
    LW_CHECK_INT(jr_newest, 1049);
    LW_CHECK_INT(jr_oldest, 1035);
    /* one station only */
    p.station_id = LW_STR("J2");
    p.u.prune.keep_per_station = 5;
    LW_CHECK_INT(lw_store_submit_wait(s, &p, &r), 0);
    LW_CHECK_INT(r.row_id, 10);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM journal WHERE station_id = 'J1'"), 15);
    /* the age cut's edges: nothing older (rows left: J1 15, J2 5), then everything */
    p.station_id = LW_STR_NULL;
    p.u.prune.keep_per_station = 0;
    p.u.prune.older_than_ms = 1000;
    LW_CHECK_INT(lw_store_submit_wait(s, &p, &r), 0);
    LW_CHECK_INT(r.row_id, 0);
    p.u.prune.older_than_ms = 1049; /* all but the newest row of each station */
    LW_CHECK_INT(lw_store_submit_wait(s, &p, &r), 0);
    LW_CHECK_INT(r.row_id, 18);
    p.u.prune.older_than_ms = 5000;
    LW_CHECK_INT(lw_store_submit_wait(s, &p, &r), 0);
    LW_CHECK_INT(r.row_id, 2);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM journal"), 0);
    LW_CHECK_INT(lw_store_submit_wait(s, &p, &r), 0); /* empty journal */
    LW_CHECK_INT(r.row_id, 0);
    lw_store_close(s);
}

/* ---- durability -------------------------------------------------------------------------- */

static int ack_fd;
static void ack_cb(void *ud, const lw_store_result_t *res)
{
    if (res->status) return;
    int64_t id = res->row_id;
    if (write(ack_fd, &id, sizeof id) != sizeof id) _exit(3);
}

static void child_writer(int fd)
{
    ack_fd = fd;
    lw_store_t *s = NULL;
    if (lw_store_open(url, NULL, &s, NULL, 0)) _exit(2);
    for (long i = 0; i < 2000000; i++) {
        lw_store_write_t w = {.kind = LW_W_JOURNAL, .station_id = LW_STR("CRASH")};
        w.u.journal.msg_id = LW_STR("m");
        w.u.journal.payload = LW_STR("[2,\"m\",\"Heartbeat\",{}]");
        w.u.journal.at_ms = i;
        while (lw_store_submit(s, &w, ack_cb, NULL) == LW_EBUSY)
            usleep(200);
    }
    _exit(0);
}

LW_TEST(acknowledged_writes_survive_sigkill)
{
    fresh();
    /* Create the schema first so the child's time goes to writes. */
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    lw_store_close(s);
    int p[2];
    LW_CHECK_INT(pipe(p), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        child_writer(p[1]);
    }
    close(p[1]);
    static int64_t acked[1 << 16];
    size_t n = 0;
    while (n < 3000) {
        ssize_t r = read(p[0], &acked[n], sizeof acked[n]);
        if (r != sizeof acked[n]) break;
        n++;
    }
    kill(pid, SIGKILL); /* mid-stream: more writes are queued and in flight */
    /* drain what was acknowledged before the kill landed */
    for (;;) {
        ssize_t r = read(p[0], &acked[n], sizeof acked[n]);
        if (r != sizeof acked[n] || n + 1 >= sizeof acked / sizeof acked[0]) break;
        n++;
    }
    close(p[0]);
    int status;
    waitpid(pid, &status, 0);
    LW_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    LW_CHECK(n >= 3000);

    s = open_or_fail(NULL); /* recovers the WAL */
    if (!s) return;
    lw_store_close(s);
    sqlite3 *db;
    sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM journal WHERE id = ?1 AND station_id = 'CRASH'",
                       -1, &st, NULL);
    size_t missing = 0;
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(st, 1, acked[i]);
        if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 0) != 1) {
            if (!missing) printf("  first missing acknowledged id: %lld\n", (long long)acked[i]);
            missing++;
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    printf("  %zu acknowledged before SIGKILL, %lld rows in the file\n", n,
           sql_int("SELECT count(*) FROM journal"));
    LW_CHECK_INT(missing, 0);
}

int main(void)
{
    if (fixture_begin()) return 1;
    lw_log_set_level(LW_LOG_WARN);
    LW_RUN(embedded_migrations_match_files);
    LW_RUN(migrations_apply_and_are_idempotent);
    LW_RUN(upgrade_from_schema_12_rebuilds_stations);
    LW_RUN(upgrade_from_schema_1_keeps_data);
    LW_RUN(open_rejects_postgres_and_bad_urls);
    LW_RUN(station_crud);
    LW_RUN(station_added_as_it_connects);
    LW_RUN(station_password_verify);
    LW_RUN(read_snapshot_spans_reads);
    LW_RUN(api_tokens);
    LW_RUN(group_commit_many_writes_few_commits);
    LW_RUN(dedupe_keys_are_stable);
    LW_RUN(idle_writer_gives_its_cache_back);
    LW_RUN(fire_and_forget_batches_skip_fsync);
    LW_RUN(write_failing_half_way_leaves_no_trace);
    LW_RUN(replayed_batch_keeps_heads_evicted_by_a_failed_write);
    LW_RUN(group_commit_waits_for_more);
    LW_RUN(checkpoint_thread_runs_at_low_priority);
    LW_RUN(queue_full_returns_busy);
    LW_RUN(start_transaction_retry_gets_same_id);
    LW_RUN(transaction_event_seqno_dedupe);
    LW_RUN(transaction_event_retry_on_the_chain);
    LW_RUN(meter_values_all_fields);
    LW_RUN(journal_retention_prunes);
    LW_RUN(acknowledged_writes_survive_sigkill);
    fixture_end();
    return lw_test_done();
}
