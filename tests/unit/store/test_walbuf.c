/*
 * test_walbuf.c — the WAL write-gathering VFS (csms/store/walbuf.c): a commit is in the file
 * before another connection can see it and before a crash can take it, whatever the size of
 * the transaction or how often its pages spilled; and it costs one or two write calls, not
 * two per page.
 */
#include "test.h"

#include "store/walbuf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <sys/wait.h>

#define DB "/tmp/lw_test_walbuf.db"

static void rm_db(void)
{
    unlink(DB);
    unlink(DB "-wal");
    unlink(DB "-shm");
}

static sqlite3 *open_db(const char *vfs, const char *sync)
{
    sqlite3 *db = NULL;
    LW_CHECK_INT(sqlite3_open_v2(DB, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs),
                 SQLITE_OK);
    char sql[128];
    snprintf(sql, sizeof sql, "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s;", sync);
    LW_CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    return db;
}

static void exec_ok(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK) LW_FAILF("%s: %s", sql, err ? err : sqlite3_errstr(rc));
    sqlite3_free(err);
}

static long long one(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    else
        LW_FAILF("%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return v;
}

static const char *integrity(sqlite3 *db)
{
    static char out[256];
    sqlite3_stmt *st = NULL;
    snprintf(out, sizeof out, "?");
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        snprintf(out, sizeof out, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
}

/* Write syscalls of this process so far (/proc/self/io syscw). */
static long long write_calls(void)
{
    FILE *f = fopen("/proc/self/io", "r");
    char line[128];
    long long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "syscw: %lld", &v) == 1) break;
    if (f) fclose(f);
    return v;
}

/* With synchronous=NORMAL nothing syncs the WAL at a commit: a reader on another connection
 * (the plain VFS) sees each commit as soon as it returns only if the frames were written
 * when the commit frame came. */
LW_TEST(a_commit_is_in_the_file_when_another_connection_sees_it)
{
    rm_db();
    LW_CHECK_INT(lw_walbuf_register(), SQLITE_OK);
    sqlite3 *w = open_db(LW_WALBUF_VFS, "NORMAL"), *r = open_db(NULL, "NORMAL");
    exec_ok(w, "CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)");
    long long rows = 0;
    for (int i = 1; i <= 40; i++) {
        /* small and large transactions: 1 row, then up to ~60 pages (more than one write) */
        char sql[200];
        int n = i % 2 ? 1 : 60 * i;
        snprintf(sql, sizeof sql,
                 "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %d) "
                 "INSERT INTO t (v) SELECT randomblob(100) FROM c",
                 n);
        exec_ok(w, sql);
        rows += n;
        long long seen = one(r, "SELECT count(*) FROM t"),
                  bytes = one(r, "SELECT sum(length(v)) FROM t");
        if (seen != rows || bytes != rows * 100) {
            LW_FAILF("commit %d: the reader sees %lld rows, %lld bytes; want %lld, %lld", i, seen,
                     bytes, rows, rows * 100);
            break;
        }
    }
    LW_CHECK_STR(integrity(r), "ok");
    sqlite3_close(r);
    sqlite3_close(w);
    rm_db();
}

/* What the layer is for: a 30-page commit in one or two write calls (the plain VFS: two per
 * page, checked as the control). */
LW_TEST(a_commit_costs_one_write_call_not_two_per_page)
{
    for (int gather = 0; gather < 2; gather++) {
        rm_db();
        sqlite3 *w = open_db(gather ? LW_WALBUF_VFS : NULL, "NORMAL");
        exec_ok(w, "CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)");
        exec_ok(w, "INSERT INTO t (v) VALUES (zeroblob(10))"); /* the WAL exists, its header too */
        long long before = write_calls();
        exec_ok(w, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 30) "
                   "INSERT INTO t (v) SELECT randomblob(3000) FROM c");
        long long calls = write_calls() - before;
        if (gather ? calls < 1 || calls > 2 : calls < 60)
            LW_FAILF("%s VFS: %lld write calls for a 30-page commit", gather ? "walbuf" : "plain",
                     calls);
        sqlite3_close(w);
    }
    rm_db();
}

/* A child writes through the layer and dies without closing anything, as kill -9 would:
 * right after a commit, or in the middle of a transaction whose pages spilled into the WAL
 * and were written again there (a small page cache; SQLite then rewrites frame checksums).
 * Every transaction that committed is in the file, the open one is not, the file is sound. */
static void crash_after(bool open_txn)
{
    rm_db();
    pid_t pid = fork();
    if (pid == 0) {
        sqlite3 *w = NULL;
        if (sqlite3_open_v2(DB, &w, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, LW_WALBUF_VFS) ||
            sqlite3_exec(w,
                         "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=8;"
                         "CREATE TABLE t (k INTEGER PRIMARY KEY, g INTEGER, v BLOB);",
                         NULL, NULL, NULL))
            _exit(2);
        for (int g = 1; g <= 30; g++) {
            char sql[400];
            snprintf(sql, sizeof sql,
                     "BEGIN;"
                     "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50)"
                     " INSERT INTO t (g, v) SELECT %d, randomblob(200 * %d) FROM c;"
                     "UPDATE t SET v = randomblob(150) WHERE g = %d;"
                     "UPDATE t SET v = randomblob(120) WHERE g = %d;"
                     "COMMIT;",
                     g, g % 5 + 1, g, g);
            if (sqlite3_exec(w, sql, NULL, NULL, NULL)) _exit(3);
        }
        /* far more than the cache, so frames of the open transaction reach the file */
        if (open_txn &&
            sqlite3_exec(w,
                         "BEGIN; WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                         "WHERE x < 2000) INSERT INTO t (g, v) SELECT 99, randomblob(500) FROM c;",
                         NULL, NULL, NULL))
            _exit(4);
        _exit(0); /* no COMMIT, no close */
    }
    int status = -1;
    LW_CHECK_INT(waitpid(pid, &status, 0), pid);
    LW_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    sqlite3 *r = open_db(NULL, "FULL");
    LW_CHECK_STR(integrity(r), "ok");
    LW_CHECK_INT(one(r, "SELECT count(*) FROM t"), 30 * 50);
    LW_CHECK_INT(one(r, "SELECT count(DISTINCT g) FROM t"), 30);
    LW_CHECK_INT(one(r, "SELECT count(*) FROM t WHERE g = 99"), 0);
    LW_CHECK_INT(one(r, "SELECT sum(length(v)) FROM t"), 30 * 50 * 120);
    sqlite3_close(r);
    rm_db();
}

LW_TEST(a_crash_right_after_a_commit_keeps_it)
{
    crash_after(false);
}

LW_TEST(a_crash_in_a_spilled_transaction_keeps_the_commits_before_it)
{
    crash_after(true);
}

int main(void)
{
    LW_RUN(a_commit_is_in_the_file_when_another_connection_sees_it);
    LW_RUN(a_commit_costs_one_write_call_not_two_per_page);
    LW_RUN(a_crash_right_after_a_commit_keeps_it);
    LW_RUN(a_crash_in_a_spilled_transaction_keeps_the_commits_before_it);
    return lw_test_done();
}
