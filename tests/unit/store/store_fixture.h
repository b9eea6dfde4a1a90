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

#endif
