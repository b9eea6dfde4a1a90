/*
 * store_fixture.h — the setup the store tests share: one temporary directory per test
 * program, a fresh SQLite database file in it per test, opening a store on it (a failure is
 * a test failure), reading one integer back with plain SQLite, and removing the directory at
 * the end. Included by tests/unit/store/test_store*.c only; everything is static to the test.
 */
#ifndef LW_TEST_STORE_FIXTURE_H
#define LW_TEST_STORE_FIXTURE_H

#include "test.h"

#include "store/store.h"
#include "store/store_int.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

static char dir[] = "/tmp/lw-store-XXXXXX";
static char dbpath[256], url[280];
static int dbn;

/* Creates the program's temporary directory; 0 or -1 (with perror). */
static inline int fixture_begin(void)
{
    if (mkdtemp(dir)) return 0;
    perror("mkdtemp");
    return -1;
}

/* Removes the temporary directory and everything in it. */
static inline void fixture_end(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) printf("cleanup of %s failed\n", dir);
}

/* Points dbpath and url at a new database file for the next test. */
static inline void fresh(void)
{
    snprintf(dbpath, sizeof dbpath, "%s/t%d.db", dir, ++dbn);
    snprintf(url, sizeof url, "sqlite:%s", dbpath);
}

/* Opens a store on url with options o (may be NULL); returns it or NULL after a failure. */
static inline lw_store_t *open_or_fail(const lw_store_options_t *o)
{
    lw_store_t *s = NULL;
    char err[256];
    int rc = lw_store_open(url, o, &s, err, sizeof err);
    if (rc) LW_FAILF("lw_store_open(%s) = %s: %s", url, lw_err_name(rc), err);
    return s;
}

/* The first column of the first row of sql, read from dbpath; -1 when it fails. */
static inline long long sql_int(const char *sql)
{
    sqlite3 *db;
    long long v = -1;
    if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        else
            printf("  sql failed: %s: %s\n", sql, sqlite3_errmsg(db));
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return v;
}

/* Rows counted for journal_heads (schema 016) while a writer may hold heads it has not written:
 * each station's n, plus its rows above journal_heads_mark that are above its last_id. What a
 * writer's recovery would count; equal to count(*) FROM journal at any time. */
#define LW_HEADS_COUNT_SQL(where)                                                                  \
    "SELECT (SELECT coalesce(sum(n), 0) FROM journal_heads h WHERE " where ") + "                  \
    "(SELECT count(*) FROM journal h WHERE " where " AND id > (SELECT upto FROM "                  \
    "journal_heads_mark) AND id > coalesce((SELECT last_id FROM journal_heads x WHERE "            \
    "x.station_id = h.station_id), 0))"
#define LW_HEADS_COUNT_ALL     LW_HEADS_COUNT_SQL("1")
#define LW_HEADS_COUNT_OF(sid) LW_HEADS_COUNT_SQL("h.station_id = '" sid "'")

/* The first column of the first row of sql, read from dbpath, as a string the caller frees;
 * NULL when it fails or is NULL. */
static inline char *sql_text(const char *sql)
{
    sqlite3 *db;
    char *v = NULL;
    if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
            v = strdup((const char *)sqlite3_column_text(st, 0));
        else
            printf("  sql failed: %s: %s\n", sql, sqlite3_errmsg(db));
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return v;
}

/* Runs sql on dbpath in a connection of its own (foreign keys off, SQLite's default);
 * returns SQLite's result code. */
static inline int exec_sql_rc(const char *sql)
{
    sqlite3 *db;
    int rc = sqlite3_open(dbpath, &db);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

/* A database file at dbpath as an older release left it: the embedded migrations up to
 * version applied in order, each recorded in schema_version, with plain SQLite (foreign keys
 * off, its default). Returns the open handle (the caller adds rows and closes it), or NULL
 * after reporting the failure. For the upgrade tests. */
static inline sqlite3 *db_at_schema(int version)
{
    sqlite3 *db = NULL;
    char *msg = NULL;
    int rc = sqlite3_open(dbpath, &db);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db,
                          "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT "
                          "NOT NULL, applied_at INTEGER NOT NULL)",
                          NULL, NULL, &msg);
    for (int i = 0;
         rc == SQLITE_OK && lw_store_migrations[i].sql && lw_store_migrations[i].version <= version;
         i++) {
        rc = sqlite3_exec(db, lw_store_migrations[i].sql, NULL, NULL, &msg);
        char ins[128];
        snprintf(ins, sizeof ins, "INSERT INTO schema_version VALUES (%d, '%s', 0)",
                 lw_store_migrations[i].version, lw_store_migrations[i].name);
        if (rc == SQLITE_OK) rc = sqlite3_exec(db, ins, NULL, NULL, &msg);
    }
    if (rc != SQLITE_OK) {
        LW_FAILF("a file at schema %d: %s", version, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

/* Runs sql on db (from db_at_schema) and closes it; false after reporting a failure. */
static inline bool db_fill_close(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    bool ok = sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK;
    if (!ok) LW_FAILF("filling the old file: %s", msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(db);
    return ok;
}

#endif
