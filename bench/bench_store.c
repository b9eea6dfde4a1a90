/*
 * bench_store.c — the store's durable write path alone, as the CSMS drives it for the
 * MeterValues workload of issue 6: S stations, each with one open transaction and one
 * message in flight (closed loop). Per message the submitting thread (standing in for the
 * event loop) journals the inbound CALL (a ~600-byte MeterValues payload), submits the
 * MeterValues write (6 sampled values, transactionId set) and, when its completion has
 * fired (after the commit that holds it), journals the outbound CALLRESULT and sends the
 * station's next message. The database is a fresh file with synchronous=FULL, like serve.
 *
 * Prints messages/s, store writes/s, commits, average writes per commit, average and max
 * commit time, each MeterValues' latency from submit to its completion (p50 / p99 / max),
 * CPU µs per message (the whole process from getrusage, and the submitting
 * thread alone, so the writer thread's share is the difference), bytes written per message
 * (/proc/self/io: WAL frames plus checkpoint copies) and the WAL file's size at the end.
 *
 *   build/bench/bench_store [--stations S] [--messages N] [--dir DIR] [--no-journal] [--quick]
 *
 * BENCH_DROP="SQL" runs that SQL on the fresh database before the load, to measure what a
 * schema element costs (e.g. BENCH_DROP="DROP INDEX journal_at").
 */
#include "store/store.h"

#include "bench_util.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    char id[32];
    int64_t tx_id;
    int64_t seq; /* messages sent */
    char msg_id[24];
    double sent_s; /* when its MeterValues was submitted */
} station_t;

/* Completions hop back to the submitting thread through this queue (as the CSMS hops back
 * to its loop with uv_async_send). */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int *ring;
    size_t cap, head, count;
    int errors;
    bool waiting; /* wake the submitter only when it sleeps, as uv_async_send coalesces */
} doneq_t;

static doneq_t dq;
static station_t *st;
static bool no_journal; /* --no-journal: the MeterValues writes alone (to split the cost) */

static void push_done(int idx, int status)
{
    pthread_mutex_lock(&dq.mu);
    if (status) dq.errors++;
    dq.ring[(dq.head + dq.count) % dq.cap] = idx;
    dq.count++;
    if (dq.waiting) pthread_cond_signal(&dq.cv);
    pthread_mutex_unlock(&dq.mu);
}

static void on_done(void *ud, const lw_store_result_t *res)
{
    push_done((int)(intptr_t)ud, res->status);
}

static void on_tx(void *ud, const lw_store_result_t *res)
{
    int i = (int)(intptr_t)ud;
    st[i].tx_id = res->tx_id;
    push_done(i, res->status);
}

static int pop_done(void)
{
    pthread_mutex_lock(&dq.mu);
    while (!dq.count) {
        dq.waiting = true;
        pthread_cond_wait(&dq.cv, &dq.mu);
        dq.waiting = false;
    }
    int i = dq.ring[dq.head];
    dq.head = (dq.head + 1) % dq.cap;
    dq.count--;
    pthread_mutex_unlock(&dq.mu);
    return i;
}

static double cpu_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}
static double proc_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* Bytes this process has written with write/pwrite so far (/proc/self/io wchar): the WAL
 * frames plus checkpoint copies into the database file; -1 when unreadable. */
static long long written_bytes(void)
{
    FILE *f = fopen("/proc/self/io", "r");
    if (!f) return -1;
    char line[128];
    long long v = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "wchar: %lld", &v) == 1) break;
    fclose(f);
    return v;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static int submit(lw_store_t *s, const lw_store_write_t *w, lw_store_done_cb cb, void *ud)
{
    for (;;) {
        int rc = lw_store_submit(s, w, cb, ud);
        if (rc != LW_EBUSY) return rc;
        nanosleep(&(struct timespec){0, 100000}, NULL);
    }
}

static void journal(lw_store_t *s, station_t *x, bool inbound, int type, lw_str_t body)
{
    if (no_journal) return;
    lw_store_write_t w = {.kind = LW_W_JOURNAL, .station_id = lw_str_c(x->id)};
    w.u.journal.inbound = inbound;
    w.u.journal.msg_type = type;
    w.u.journal.msg_id = lw_str_c(x->msg_id);
    w.u.journal.action = inbound ? LW_STR("MeterValues") : LW_STR("");
    w.u.journal.payload = body;
    w.u.journal.at_ms = lw_clock_wall(lw_clock_real());
    if (submit(s, &w, NULL, NULL)) abort();
}

/* Sends station i's next MeterValues: journal the CALL, then the durable write. */
static void send_meter(lw_store_t *s, int i)
{
    station_t *x = &st[i];
    x->seq++;
    x->sent_s = bench_now_s();
    snprintf(x->msg_id, sizeof x->msg_id, "m%lld", (long long)x->seq);
    journal(s, x, true, 2, LW_STR(bench_meter_values));
    int64_t ts = 1772368496789LL + x->seq * 10000;
    char e[32], p[32];
    snprintf(e, sizeof e, "%lld.5", (long long)(12345 + x->seq * 20));
    snprintf(p, sizeof p, "%d.0", 7000 + (int)(x->seq % 700));
    lw_meter_value_t v[6] = {
        {ts, lw_str_c(e), LW_STR("Energy.Active.Import.Register"), LW_STR(""), LW_STR("Wh"),
         LW_STR("Sample.Periodic"), LW_STR("Outlet"), LW_STR(""), LW_STR("")},
        {ts, lw_str_c(p), LW_STR("Power.Active.Import"), LW_STR(""), LW_STR("W"),
         LW_STR("Sample.Periodic"), LW_STR("Outlet"), LW_STR(""), LW_STR("")},
        {ts, LW_STR("16.02"), LW_STR("Current.Import"), LW_STR("L1"), LW_STR("A"),
         LW_STR("Sample.Periodic"), LW_STR("Outlet"), LW_STR(""), LW_STR("")},
        {ts, LW_STR("15.98"), LW_STR("Current.Import"), LW_STR("L2"), LW_STR("A"),
         LW_STR("Sample.Periodic"), LW_STR("Outlet"), LW_STR(""), LW_STR("")},
        {ts, LW_STR("230.1"), LW_STR("Voltage"), LW_STR("L1-N"), LW_STR("V"),
         LW_STR("Sample.Periodic"), LW_STR("Outlet"), LW_STR(""), LW_STR("")},
        {ts, LW_STR("54"), LW_STR("SoC"), LW_STR(""), LW_STR("Percent"), LW_STR("Sample.Periodic"),
         LW_STR("EV"), LW_STR(""), LW_STR("")},
    };
    lw_store_write_t w = {.kind = LW_W_METER_VALUES, .station_id = lw_str_c(x->id)};
    w.u.meter.connector_id = 1;
    w.u.meter.tx_id = x->tx_id;
    w.u.meter.values = v;
    w.u.meter.n_values = 6;
    if (submit(s, &w, on_done, (void *)(intptr_t)i)) abort();
}

int main(int argc, char **argv)
{
    int n_st = 1000;
    long n_msg = 60000;
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--stations") && i + 1 < argc)
            n_st = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--messages") && i + 1 < argc)
            n_msg = atol(argv[++i]);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--no-journal"))
            no_journal = true;
        else if (!strcmp(argv[i], "--quick"))
            n_st = 100, n_msg = 2000;
        else {
            fprintf(
                stderr,
                "usage: %s [--stations S] [--messages N] [--dir DIR] [--no-journal] [--quick]\n",
                argv[0]);
            return 2;
        }
    }
    if (n_st < 1 || n_msg < n_st) {
        fprintf(stderr, "need stations >= 1 and messages >= stations\n");
        return 2;
    }
    char tmpl[256], path[300];
    snprintf(tmpl, sizeof tmpl, "%s/bench_store.XXXXXX", dir ? dir : "/tmp");
    if (!mkdtemp(tmpl)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof path, "sqlite:%s/bench.db", tmpl);
    lw_log_set_level(LW_LOG_WARN);
    lw_store_t *s;
    char err[256];
    if (lw_store_open(path, NULL, &s, err, sizeof err)) {
        fprintf(stderr, "open: %s\n", err);
        return 1;
    }
    {
        const char *drop = getenv("BENCH_DROP");
        if (drop) {
            sqlite3 *db;
            sqlite3_open(path + 7, &db);
            char *m = NULL;
            if (sqlite3_exec(db, drop, NULL, NULL, &m)) fprintf(stderr, "drop: %s\n", m);
            sqlite3_close(db);
        }
    }
    st = calloc((size_t)n_st, sizeof *st);
    dq.cap = (size_t)n_st + 1;
    dq.ring = calloc(dq.cap, sizeof *dq.ring);
    pthread_mutex_init(&dq.mu, NULL);
    pthread_cond_init(&dq.cv, NULL);

    /* Setup (not measured): register every station and start its transaction. */
    for (int i = 0; i < n_st; i++) {
        snprintf(st[i].id, sizeof st[i].id, "CP%05d", i);
        lw_store_write_t w = {.kind = LW_W_STATION_PUT, .station_id = lw_str_c(st[i].id)};
        w.u.station_put.must_not_exist = true;
        if (submit(s, &w, NULL, NULL)) abort();
        lw_store_write_t t = {.kind = LW_W_TX_START, .station_id = lw_str_c(st[i].id)};
        t.u.tx_start.connector_id = 1;
        t.u.tx_start.id_tag = LW_STR("04A2B3C4D5E6F7");
        t.u.tx_start.meter_start_wh = 12345;
        t.u.tx_start.at_ms = 1772368400000LL + i;
        t.u.tx_start.reservation_id = -1;
        t.u.tx_start.answer = LW_STR("{\"idTagInfo\":{\"status\":\"Accepted\"}}");
        if (submit(s, &t, on_tx, (void *)(intptr_t)i)) abort();
    }
    for (int i = 0; i < n_st; i++)
        pop_done();
    if (dq.errors) {
        fprintf(stderr, "setup: %d writes failed\n", dq.errors);
        return 1;
    }
    lw_store_stats_t s0, s1;
    lw_store_stats(s, &s0);

    long long wb0 = written_bytes();
    float *lat = malloc((size_t)n_msg * sizeof *lat); /* submit to completion, ms */
    double t0 = bench_now_s(), c0 = proc_cpu_s(), m0 = cpu_s(CLOCK_THREAD_CPUTIME_ID);
    long sent = 0, done = 0;
    for (int i = 0; i < n_st; i++, sent++)
        send_meter(s, i);
    while (done < n_msg) {
        int i = pop_done();
        if (lat) lat[done] = (float)((bench_now_s() - st[i].sent_s) * 1e3);
        done++;
        journal(s, &st[i], false, 3, LW_STR("{}"));
        if (sent < n_msg) {
            send_meter(s, i);
            sent++;
        }
    }
    /* The last CALLRESULT journal rows are committed too before the clock stops. */
    lw_store_write_t fence = {.kind = LW_W_STATIONS_OFFLINE};
    lw_store_submit_wait(s, &fence, NULL);
    double t1 = bench_now_s(), c1 = proc_cpu_s(), m1 = cpu_s(CLOCK_THREAD_CPUTIME_ID);
    lw_store_stats(s, &s1);
    long long wb1 = written_bytes();

    double wall = t1 - t0;
    uint64_t writes = s1.writes - s0.writes, commits = s1.commits - s0.commits;
    printf("bench_store: %d stations, %ld MeterValues (6 values) + %d journal rows each, "
           "synchronous=FULL\n",
           n_st, n_msg, no_journal ? 0 : 2);
    printf("  messages/s        %10.0f\n", n_msg / wall);
    printf("  store writes/s    %10.0f\n", writes / wall);
    printf("  commits           %10llu  (avg %.1f writes, %.1f messages per commit)\n",
           (unsigned long long)commits, commits ? (double)writes / commits : 0.0,
           commits ? (double)n_msg / commits : 0.0);
    printf("  avg commit        %10.0f us  (max %llu us, checkpoints included)\n",
           s1.commits > s0.commits
               ? (double)(s1.commit_us_total - s0.commit_us_total) / (s1.commits - s0.commits)
               : 0.0,
           (unsigned long long)s1.commit_us_max);
    if (lat) {
        qsort(lat, (size_t)n_msg, sizeof *lat, cmp_float);
        printf("  latency ms        %10.1f p50 %8.1f p99 %8.1f max (MeterValues, submit to "
               "durable)\n",
               lat[n_msg / 2], lat[(size_t)(n_msg * 0.99)], lat[n_msg - 1]);
        free(lat);
    }
    printf("  CPU us/message    %10.1f  (process; submitter %.1f, writer+rest %.1f)\n",
           (c1 - c0) * 1e6 / n_msg, (m1 - m0) * 1e6 / n_msg, ((c1 - c0) - (m1 - m0)) * 1e6 / n_msg);
    if (wb0 >= 0 && wb1 >= 0)
        printf("  bytes written/msg %10.0f  (WAL frames + checkpoints)\n",
               (double)(wb1 - wb0) / n_msg);
    {
        char wal[400];
        struct stat sb;
        snprintf(wal, sizeof wal, "%s/bench.db-wal", tmpl);
        if (!stat(wal, &sb)) printf("  WAL file at end   %10.1f MB\n", sb.st_size / 1e6);
    }
    printf("  write errors      %10d\n", dq.errors);
    lw_store_close(s);
    char f[400];
    const char *sfx[] = {"bench.db",   "bench.db-wal",   "bench.db-shm",
                         "journal.db", "journal.db-wal", "journal.db-shm"};
    for (size_t k = 0; k < sizeof sfx / sizeof *sfx; k++) {
        snprintf(f, sizeof f, "%s/%s", tmpl, sfx[k]);
        unlink(f);
    }
    rmdir(tmpl);
    free(st);
    free(dq.ring);
    return dq.errors ? 1 : 0;
}
