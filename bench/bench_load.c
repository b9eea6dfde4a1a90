/*
 * bench_load.c — the load generator of the benchmark suite (bench/run drives it). Opens N
 * OCPP-J WebSocket connections (ws:// or wss:// with TLS 1.3) to one server, brings every
 * station up the way a charger does (upgrade, BootNotification answered Accepted, one
 * StatusNotification per connector, and for the transaction workloads a StartTransaction /
 * TransactionEvent Started), then runs one workload and prints figures:
 *   storm      stations/s completing upgrade + boot + status (the connect phase of every run)
 *   idle       server RSS per connection (VmRSS delta / stations) and idle server CPU
 *   heartbeat  closed loop: every station sends Heartbeat, and the next when answered
 *   meter      closed loop MeterValues (6 sampled values) inside a transaction
 *   mixed      open loop at --rate msg/s: 70% MeterValues, 10% each Heartbeat,
 *              StatusNotification, Authorize; p99 of MeterValues and of all
 *   burst      quarter-hour burst: every station sends one MeterValues at a random instant
 *              within 1 s; time until all are acknowledged
 * and the server's CPU (user/system µs per message or per handshake, from /proc/PID/stat of
 * --pid) and its context switches per message or handshake (srv_cs: every thread's, from
 * /proc/PID/task/TID/status) next to the generator's own CPU (getrusage), so a saturated
 * generator shows.
 *
 * Every answer is checked: a CALLRESULT ([3,...]) carrying the id of the CALL it answers,
 * BootNotification Accepted. Anything else counts as an error and fails the run (exit 1).
 * Connections are spread over --procs processes (one per ~18,000 stations by default: the
 * open-file limit here is 20,000 per process); the parent only coordinates and measures.
 *
 *   build/bench/bench_load --url ws://127.0.0.1:PORT/ocpp --count N --workload W
 *       [--duration S] [--rate R] [--pid PID[,PID]] [--ocpp 1.6|2.0.1] [--connectors N]
 *       [--procs P] [--inflight N] [--prefix ID] [--cpu CORE]
 *
 * Lines starting with "RESULT" are key=value pairs for bench/run. Single-threaded epoll per
 * process, hand-made client framing (masked, RFC 6455 §5.3); the upgrade answer is checked
 * with Ladewerk's pure ws.h functions. Loopback only: the URL host must be 127.0.0.1.
 */
#include "ladewerk/ws.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define READ_BUF      65536
#define IN_MAX        65536 /* largest buffered answer per station */
#define HB            2304  /* latency histogram buckets (µs; see hist_bucket) */
#define PROC_STATIONS 18000 /* stations per process by default (open-file limit 20,000) */
#define MAX_PROCS     16
#define CONNECT_SECS  180 /* bound on the connect phase */
#define DRAIN_SECS    15  /* bound on waiting for answers after a workload */

enum { W_IDLE, W_HEARTBEAT, W_METER, W_MIXED, W_BURST };
static const char *const wnames[] = {"idle", "heartbeat", "meter", "mixed", "burst"};

enum { S_CONNECTING, S_TLS, S_UPGRADE, S_BOOT, S_STATUS, S_START, S_READY, S_DEAD };
enum { K_NONE, K_BOOT, K_STATUS, K_START, K_HB, K_MV, K_AUTH };

typedef struct cfg {
    char host[64], path[256];
    int port;
    bool tls;
    int count, procs, connectors, inflight, workload;
    bool v201;
    double duration, rate;
    char prefix[32];
    char pids[256];
} cfg_t;

typedef struct st {
    int fd;
    uint8_t state, kind;
    bool busy, done;
    SSL *ssl;
    uint32_t idx, seq, status_left, mv_seq;
    int64_t txid;
    uint64_t sent_ns, due_ns;
    char key[25];
    char *in;
    uint32_t in_len;
    char *out;
    uint32_t out_len, out_off;
} st_t;

typedef struct report {
    uint32_t ready, failed;
    uint64_t t_last_ns; /* connect: last station ready; burst: last answer */
    uint64_t window, total, errors, deferred;
    double cpu_s; /* this process's user+sys CPU so far */
    uint64_t hist[HB], hist_mv[HB];
    char err[200];
} report_t;

static cfg_t cfg;
static SSL_CTX *ctx;
static int ep;
static char rbuf[READ_BUF];
static st_t *sts;
static int nst;
static report_t rep;
static int connecting, next_connect, settled;
static uint64_t w_start, w_from, w_end;
static bool running;
static int busy_count;
static struct sockaddr_in srv_addr;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double cpu_self(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* Log-linear histogram: exact below 1024 µs, then 64 steps per power of two. */
static int hist_bucket(uint64_t us)
{
    if (us < 1024) return (int)us;
    int lg = 63 - __builtin_clzll(us);
    int b = 1024 + (lg - 10) * 64 + (int)((us >> (lg - 6)) & 63);
    return b < HB ? b : HB - 1;
}
static uint64_t bucket_value(int b)
{
    if (b < 1024) return (uint64_t)b;
    int lg = (b - 1024) / 64 + 10;
    return ((uint64_t)64 + (uint64_t)((b - 1024) % 64)) << (lg - 6);
}
static uint64_t hist_pct(const uint64_t *h, double pct)
{
    uint64_t n = 0;
    for (int i = 0; i < HB; i++)
        n += h[i];
    if (!n) return 0;
    uint64_t want = (uint64_t)ceil((double)n * pct / 100.0), acc = 0;
    for (int i = 0; i < HB; i++) {
        acc += h[i];
        if (acc >= want) return bucket_value(i);
    }
    return 0;
}

static void fail_note(const char *fmt, const char *a, size_t alen)
{
    rep.errors++;
    if (!rep.err[0]) snprintf(rep.err, sizeof rep.err, fmt, (int)(alen > 120 ? 120 : alen), a);
}

/* ---- timestamps ------------------------------------------------------------------------- */

static void iso_now(char out[40])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 40 - n, ".%03uZ", (unsigned)(ts.tv_nsec / 1000000) % 1000u);
}

/* ---- output ----------------------------------------------------------------------------- */

static void st_close(st_t *s, bool failed)
{
    if (s->state == S_DEAD) return;
    if (s->state < S_READY && s->state != S_DEAD) {
        if (failed) rep.failed++;
        connecting--;
    }
    if (s->busy) busy_count--;
    s->busy = false;
    s->state = S_DEAD;
    if (s->ssl) SSL_free(s->ssl);
    s->ssl = NULL;
    if (s->fd >= 0) {
        struct linger lg = {1, 0};
        setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(s->fd);
    }
    s->fd = -1;
    free(s->in);
    free(s->out);
    s->in = s->out = NULL;
    s->in_len = s->out_len = s->out_off = 0;
}

static bool flush(st_t *s)
{
    while (s->out_off < s->out_len) {
        uint32_t left = s->out_len - s->out_off;
        int n;
        if (s->ssl) {
            n = SSL_write(s->ssl, s->out + s->out_off, (int)left);
            if (n <= 0) {
                int e = SSL_get_error(s->ssl, n);
                return e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ;
            }
        } else {
            n = (int)write(s->fd, s->out + s->out_off, left);
            if (n < 0) return errno == EAGAIN || errno == EINTR;
        }
        s->out_off += (uint32_t)n;
    }
    free(s->out);
    s->out = NULL;
    s->out_len = s->out_off = 0;
    return true;
}

static bool send_raw(st_t *s, const char *p, size_t n)
{
    if (!s->out) {
        int w;
        if (s->ssl) {
            w = SSL_write(s->ssl, p, (int)n);
            if (w == (int)n) return true;
            if (w <= 0) {
                int e = SSL_get_error(s->ssl, w);
                if (e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ) return false;
            }
            w = 0; /* OpenSSL wants the same bytes again: queue all of them */
        } else {
            w = (int)write(s->fd, p, n);
            if (w == (int)n) return true;
            if (w < 0 && errno != EAGAIN && errno != EINTR) return false;
            if (w < 0) w = 0;
        }
        p += w;
        n -= (size_t)w;
    }
    char *o = realloc(s->out, s->out_len + n);
    if (!o) return false;
    memcpy(o + s->out_len, p, n);
    s->out = o;
    s->out_len += (uint32_t)n;
    return flush(s);
}

/* One masked frame (client to server, RFC 6455 §5.3). */
static bool send_frame(st_t *s, int opcode, const char *p, size_t n)
{
    static char f[IN_MAX + 16];
    if (n > IN_MAX) return false;
    size_t h = 2;
    f[0] = (char)(0x80 | opcode);
    if (n < 126) {
        f[1] = (char)(0x80 | n);
    } else {
        f[1] = (char)(0x80 | 126);
        f[2] = (char)(n >> 8);
        f[3] = (char)n;
        h = 4;
    }
    uint32_t m = (uint32_t)(s->idx * 2654435761u) ^ (s->seq * 40503u) ^ 0x5bd1e995u;
    uint8_t mask[4] = {(uint8_t)m, (uint8_t)(m >> 8), (uint8_t)(m >> 16), (uint8_t)(m >> 24)};
    memcpy(f + h, mask, 4);
    for (size_t i = 0; i < n; i++)
        f[h + 4 + i] = (char)(p[i] ^ mask[i & 3]);
    return send_raw(s, f, h + 4 + n);
}

static const char sv16[] =
    "{\"value\":\"%u.%u\",\"context\":\"Sample.Periodic\",\"measurand\":\"Energy.Active.Import."
    "Register\",\"location\":\"Outlet\",\"unit\":\"Wh\"},"
    "{\"value\":\"7360.0\",\"context\":\"Sample.Periodic\",\"measurand\":\"Power.Active.Import\","
    "\"location\":\"Outlet\",\"unit\":\"W\"},"
    "{\"value\":\"16.02\",\"context\":\"Sample.Periodic\",\"measurand\":\"Current.Import\","
    "\"phase\":\"L1\",\"location\":\"Outlet\",\"unit\":\"A\"},"
    "{\"value\":\"15.98\",\"context\":\"Sample.Periodic\",\"measurand\":\"Current.Import\","
    "\"phase\":\"L2\",\"location\":\"Outlet\",\"unit\":\"A\"},"
    "{\"value\":\"16.05\",\"context\":\"Sample.Periodic\",\"measurand\":\"Current.Import\","
    "\"phase\":\"L3\",\"location\":\"Outlet\",\"unit\":\"A\"},"
    "{\"value\":\"230.1\",\"context\":\"Sample.Periodic\",\"measurand\":\"Voltage\","
    "\"phase\":\"L1-N\",\"location\":\"Outlet\",\"unit\":\"V\"}";
static const char sv201[] =
    "{\"value\":%u.%u,\"context\":\"Sample.Periodic\",\"measurand\":\"Energy.Active.Import."
    "Register\",\"location\":\"Outlet\",\"unitOfMeasure\":{\"unit\":\"Wh\"}},"
    "{\"value\":7360.0,\"context\":\"Sample.Periodic\",\"measurand\":\"Power.Active.Import\","
    "\"location\":\"Outlet\",\"unitOfMeasure\":{\"unit\":\"W\"}},"
    "{\"value\":16.02,\"context\":\"Sample.Periodic\",\"measurand\":\"Current.Import\","
    "\"phase\":\"L1\",\"location\":\"Outlet\",\"unitOfMeasure\":{\"unit\":\"A\"}},"
    "{\"value\":15.98,\"context\":\"Sample.Periodic\",\"measurand\":\"Current.Import\","
    "\"phase\":\"L2\",\"location\":\"Outlet\",\"unitOfMeasure\":{\"unit\":\"A\"}},"
    "{\"value\":16.05,\"context\":\"Sample.Periodic\",\"measurand\":\"Current.Import\","
    "\"phase\":\"L3\",\"location\":\"Outlet\",\"unitOfMeasure\":{\"unit\":\"A\"}},"
    "{\"value\":230.1,\"context\":\"Sample.Periodic\",\"measurand\":\"Voltage\","
    "\"phase\":\"L1-N\",\"location\":\"Outlet\",\"unitOfMeasure\":{\"unit\":\"V\"}}";

/* Builds and sends the CALL of kind k; one outstanding CALL per station (the OCPP rule). */
static bool send_call(st_t *s, int k)
{
    char m[4096], ts[40], sv[2048];
    int n = 0;
    uint32_t id = ++s->seq;
    iso_now(ts);
    switch (k) {
    case K_BOOT:
        n = cfg.v201 ? snprintf(m, sizeof m,
                                "[2,\"%u\",\"BootNotification\",{\"reason\":\"PowerUp\","
                                "\"chargingStation\":{\"model\":\"bench\",\"vendorName\":"
                                "\"Ladewerk\"}}]",
                                id)
                     : snprintf(m, sizeof m,
                                "[2,\"%u\",\"BootNotification\",{\"chargePointVendor\":"
                                "\"Ladewerk\",\"chargePointModel\":\"bench\"}]",
                                id);
        break;
    case K_STATUS: {
        unsigned c = cfg.connectors - s->status_left + 1;
        if (s->status_left == 0) c = 1;
        n = cfg.v201 ? snprintf(m, sizeof m,
                                "[2,\"%u\",\"StatusNotification\",{\"timestamp\":\"%s\","
                                "\"connectorStatus\":\"Available\",\"evseId\":%u,"
                                "\"connectorId\":1}]",
                                id, ts, c)
                     : snprintf(m, sizeof m,
                                "[2,\"%u\",\"StatusNotification\",{\"connectorId\":%u,"
                                "\"errorCode\":\"NoError\",\"status\":\"Available\","
                                "\"timestamp\":\"%s\"}]",
                                id, c, ts);
        break;
    }
    case K_HB:
        n = snprintf(m, sizeof m, "[2,\"%u\",\"Heartbeat\",{}]", id);
        break;
    case K_AUTH:
        n = cfg.v201
                ? snprintf(m, sizeof m,
                           "[2,\"%u\",\"Authorize\",{\"idToken\":{\"idToken\":\"B%u\","
                           "\"type\":\"ISO14443\"}}]",
                           id, s->idx)
                : snprintf(m, sizeof m, "[2,\"%u\",\"Authorize\",{\"idTag\":\"B%u\"}]", id, s->idx);
        break;
    case K_START:
        n = cfg.v201 ? snprintf(m, sizeof m,
                                "[2,\"%u\",\"TransactionEvent\",{\"eventType\":\"Started\","
                                "\"timestamp\":\"%s\",\"triggerReason\":\"Authorized\","
                                "\"seqNo\":0,\"transactionInfo\":{\"transactionId\":\"%s-T%u\"},"
                                "\"idToken\":{\"idToken\":\"B%u\",\"type\":\"ISO14443\"},"
                                "\"evse\":{\"id\":1,\"connectorId\":1}}]",
                                id, ts, cfg.prefix, s->idx, s->idx)
                     : snprintf(m, sizeof m,
                                "[2,\"%u\",\"StartTransaction\",{\"connectorId\":1,\"idTag\":"
                                "\"B%u\",\"meterStart\":0,\"timestamp\":\"%s\"}]",
                                id, s->idx, ts);
        break;
    case K_MV: {
        s->mv_seq++;
        snprintf(sv, sizeof sv, cfg.v201 ? sv201 : sv16, s->mv_seq * 7u, s->mv_seq % 10u);
        n = cfg.v201 ? snprintf(m, sizeof m,
                                "[2,\"%u\",\"TransactionEvent\",{\"eventType\":\"Updated\","
                                "\"timestamp\":\"%s\",\"triggerReason\":\"MeterValuePeriodic\","
                                "\"seqNo\":%u,\"transactionInfo\":{\"transactionId\":\"%s-T%u\"},"
                                "\"meterValue\":[{\"timestamp\":\"%s\",\"sampledValue\":[%s]}]}]",
                                id, ts, s->mv_seq, cfg.prefix, s->idx, ts, sv)
                     : snprintf(m, sizeof m,
                                "[2,\"%u\",\"MeterValues\",{\"connectorId\":1,\"transactionId\":"
                                "%lld,\"meterValue\":[{\"timestamp\":\"%s\",\"sampledValue\":"
                                "[%s]}]}]",
                                id, (long long)s->txid, ts, sv);
        break;
    }
    default:
        return false;
    }
    if (n <= 0 || (size_t)n >= sizeof m) return false;
    s->kind = (uint8_t)k;
    s->sent_ns = now_ns();
    if (!s->busy) busy_count++;
    s->busy = true;
    return send_frame(s, 1, m, (size_t)n);
}

/* ---- answers ---------------------------------------------------------------------------- */

static void station_ready(st_t *s)
{
    s->state = S_READY;
    connecting--;
    rep.ready++;
    rep.t_last_ns = now_ns();
}

static bool workload_next(st_t *s);

/* A complete text message from the server. */
static bool on_message(st_t *s, const char *p, size_t n)
{
    /* A CALL from the server: the load generator plays no station logic and refuses it with
     * a CALLERROR (the benchmarks send none). */
    if (n > 3 && p[0] == '[' && p[1] == '2') {
        const char *q1 = memchr(p, '"', n),
                   *q2 = q1 ? memchr(q1 + 1, '"', n - (size_t)(q1 + 1 - p)) : NULL;
        if (!q2) return false;
        char r[200];
        int k = snprintf(r, sizeof r, "[4,\"%.*s\",\"NotImplemented\",\"\",{}]",
                         (int)(q2 - q1 - 1 > 64 ? 64 : q2 - q1 - 1), q1 + 1);
        return send_frame(s, 1, r, (size_t)k);
    }
    char want[32];
    int wl = snprintf(want, sizeof want, "[3,\"%u\",", s->seq);
    if (!s->busy || n < (size_t)wl || memcmp(p, want, (size_t)wl) != 0) {
        fail_note("unexpected answer: %.*s", p, n);
        return false;
    }
    uint64_t t = now_ns();
    s->busy = false;
    busy_count--;
    int k = s->kind;
    s->kind = K_NONE;
    switch (s->state) {
    case S_BOOT:
        if (!memmem(p, n, "\"Accepted\"", 10)) {
            fail_note("boot not accepted: %.*s", p, n);
            return false;
        }
        s->state = S_STATUS;
        s->status_left = (uint32_t)cfg.connectors;
        /* fall through: send the first StatusNotification */
        /* FALLTHROUGH */
    case S_STATUS:
        if (s->state == S_STATUS && k == K_STATUS) s->status_left--;
        if (s->status_left > 0) return send_call(s, K_STATUS);
        if (cfg.workload == W_METER || cfg.workload == W_MIXED || cfg.workload == W_BURST) {
            s->state = S_START;
            return send_call(s, K_START);
        }
        station_ready(s);
        return true;
    case S_START:
        if (!cfg.v201) {
            const char *tx = memmem(p, n, "\"transactionId\":", 16);
            if (!tx) {
                fail_note("StartTransaction answer without transactionId: %.*s", p, n);
                return false;
            }
            s->txid = strtoll(tx + 16, NULL, 10);
        }
        station_ready(s);
        return true;
    case S_READY:
        rep.total++;
        if (s->sent_ns >= w_from && t <= w_end) {
            uint64_t us = (t - s->sent_ns) / 1000;
            rep.window++;
            rep.hist[hist_bucket(us)]++;
            if (k == K_MV) rep.hist_mv[hist_bucket(us)]++;
        }
        if (cfg.workload == W_BURST) {
            s->done = true;
            if (t > rep.t_last_ns) rep.t_last_ns = t;
        }
        return workload_next(s);
    default:
        fail_note("answer in an unexpected state: %.*s", p, n);
        return false;
    }
}

/* Parses complete frames at buf (server frames are unmasked). Returns bytes used or -1. */
static long on_frames(st_t *s, char *buf, size_t len)
{
    size_t used = 0;
    while (used < len) {
        uint8_t *b = (uint8_t *)buf + used;
        size_t avail = len - used;
        if (avail < 2) break;
        uint64_t pl = b[1] & 0x7f;
        size_t h = 2;
        if (b[1] & 0x80) return -1;
        if (pl == 126) {
            if (avail < 4) break;
            pl = ((uint64_t)b[2] << 8) | b[3];
            h = 4;
        } else if (pl == 127) {
            if (avail < 10) break;
            pl = 0;
            for (int i = 0; i < 8; i++)
                pl = (pl << 8) | b[2 + i];
            h = 10;
        }
        if (pl > IN_MAX - 16) return -1;
        if (avail < h + pl) break;
        int op = b[0] & 0x0f;
        if (!(b[0] & 0x80)) return -1; /* fragmented answers: not expected from any server here */
        const char *p = (const char *)b + h;
        if (op == 0x1 || op == 0x2) {
            if (!on_message(s, p, pl)) return -1;
        } else if (op == 0x9) {
            if (!send_frame(s, 0xA, p, pl)) return -1;
        } else if (op == 0x8) {
            fail_note("server closed the connection: %.*s", p, pl);
            return -1;
        }
        used += h + pl;
        if (s->state == S_DEAD) return -1;
    }
    return (long)used;
}

static long on_upgrade_answer(st_t *s, char *buf, size_t len)
{
    lw_http_head_t *h = calloc(1, sizeof *h);
    if (!h) return -1;
    int r = lw_http_parse_response(buf, len, h);
    if (r == LW_EAGAIN) {
        free(h);
        return 0;
    }
    const char *protos[] = {cfg.v201 ? "ocpp2.0.1" : "ocpp1.6"};
    lw_str_t chosen;
    if (r < 0 || lw_ws_check_accept(h, s->key, protos, 1, &chosen) != 0 || chosen.len == 0) {
        if (!rep.err[0])
            snprintf(rep.err, sizeof rep.err, "upgrade refused: HTTP %d (%s)", h->status,
                     r < 0 ? lw_strerror(r) : "bad accept or no subprotocol");
        rep.errors++;
        free(h);
        return -1;
    }
    free(h);
    s->state = S_BOOT;
    if (!send_call(s, K_BOOT)) return -1;
    return r;
}

static long process(st_t *s, char *buf, size_t len)
{
    size_t used = 0;
    if (s->state == S_UPGRADE) {
        long u = on_upgrade_answer(s, buf, len);
        if (u <= 0) return u;
        used = (size_t)u;
    }
    if (used == len) return (long)used;
    long u = on_frames(s, buf + used, len - used);
    return u < 0 ? -1 : (long)used + u;
}

static bool on_bytes(st_t *s, char *p, size_t n)
{
    if (s->in) {
        if (s->in_len + n > IN_MAX) return false;
        memcpy(s->in + s->in_len, p, n);
        s->in_len += (uint32_t)n;
        long u = process(s, s->in, s->in_len);
        if (u < 0) return false;
        if (s->state == S_DEAD) return false;
        if ((uint32_t)u == s->in_len) {
            free(s->in);
            s->in = NULL;
            s->in_len = 0;
        } else if (u > 0) {
            memmove(s->in, s->in + u, s->in_len - (uint32_t)u);
            s->in_len -= (uint32_t)u;
        }
        return true;
    }
    long u = process(s, p, n);
    if (u < 0) return false;
    if ((size_t)u < n) {
        s->in = malloc(IN_MAX);
        if (!s->in) return false;
        memcpy(s->in, p + u, n - (size_t)u);
        s->in_len = (uint32_t)(n - (size_t)u);
    }
    return true;
}

static bool start_upgrade(st_t *s)
{
    if (lw_ws_client_key(s->key) != 0) return false;
    char req[768];
    int n = snprintf(req, sizeof req,
                     "GET %s/%s%u HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: %s\r\n\r\n",
                     cfg.path, cfg.prefix, s->idx, cfg.host, cfg.port, s->key,
                     cfg.v201 ? "ocpp2.0.1" : "ocpp1.6");
    if (n <= 0 || (size_t)n >= sizeof req) return false;
    s->state = S_UPGRADE;
    return send_raw(s, req, (size_t)n);
}

/* Progress on one station's socket; false = it failed. */
static bool on_event(st_t *s)
{
    if (s->state == S_CONNECTING) {
        int err = 0;
        socklen_t el = sizeof err;
        getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err == EINPROGRESS) return true;
        if (err) {
            if (!rep.err[0]) snprintf(rep.err, sizeof rep.err, "connect: %s", strerror(err));
            return false;
        }
        if (cfg.tls) {
            s->ssl = SSL_new(ctx);
            if (!s->ssl || !SSL_set_fd(s->ssl, s->fd)) return false;
            SSL_set_connect_state(s->ssl);
            s->state = S_TLS;
        } else if (!start_upgrade(s)) {
            return false;
        }
    }
    if (s->state == S_TLS) {
        int r = SSL_do_handshake(s->ssl);
        if (r <= 0) {
            int e = SSL_get_error(s->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return true;
            if (!rep.err[0]) {
                snprintf(rep.err, sizeof rep.err, "TLS handshake failed (%d)", e);
                ERR_print_errors_fp(stderr);
            }
            return false;
        }
        if (!start_upgrade(s)) return false;
    }
    if (s->out && !flush(s)) return false;
    for (;;) {
        int n;
        if (s->ssl) {
            n = SSL_read(s->ssl, rbuf, sizeof rbuf);
            if (n <= 0) {
                int e = SSL_get_error(s->ssl, n);
                return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
            }
        } else {
            n = (int)read(s->fd, rbuf, sizeof rbuf);
            if (n == 0) {
                if (!rep.err[0]) snprintf(rep.err, sizeof rep.err, "server closed a connection");
                return false;
            }
            if (n < 0) return errno == EAGAIN || errno == EINTR;
        }
        if (!on_bytes(s, rbuf, (size_t)n)) return false;
        if (s->state == S_DEAD) return false;
    }
}

/* Every station connects from its own loopback source address, 127.1.0.0 + its index
 * (127.0.0.0/8 is all loopback). With one source address, the kernel's connect() searches
 * the ephemeral ports for a free 4-tuple towards the one server port, and that search grows
 * with the connections already open: at 19,000 stations it took 70% of the generator's CPU
 * (__inet_hash_connect, __inet_check_established) and capped every server's boot storm at
 * ~3,500 stations/s with the generator at 100% of its core. IP_BIND_ADDRESS_NO_PORT keeps
 * the port choice in connect(), which now finds a free port at the first try. */
static bool bind_source(st_t *s)
{
    int one = 1;
    setsockopt(s->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    uint32_t host = 0x7f010000u + (s->idx % 0x00fe0000u); /* 127.1.0.0 .. 127.254.255.255 */
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(host)};
    if (bind(s->fd, (struct sockaddr *)&a, sizeof a) < 0) {
        if (!rep.err[0]) snprintf(rep.err, sizeof rep.err, "bind source: %s", strerror(errno));
        return false;
    }
    return true;
}

static void start_connects(void)
{
    while (connecting < cfg.inflight && next_connect < nst) {
        st_t *s = &sts[next_connect++];
        connecting++;
        s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (s->fd < 0) {
            if (!rep.err[0]) snprintf(rep.err, sizeof rep.err, "socket: %s", strerror(errno));
            st_close(s, true);
            continue;
        }
        int one = 1;
        setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (!bind_source(s)) {
            st_close(s, true);
            continue;
        }
        s->state = S_CONNECTING;
        if (connect(s->fd, (struct sockaddr *)&srv_addr, sizeof srv_addr) < 0 &&
            errno != EINPROGRESS) {
            if (!rep.err[0]) snprintf(rep.err, sizeof rep.err, "connect: %s", strerror(errno));
            st_close(s, true);
            continue;
        }
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP,
                                 .data.ptr = s};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev) < 0) st_close(s, true);
    }
}

/* ---- workloads -------------------------------------------------------------------------- */

static uint64_t rng = 88172645463325252ull;
static uint64_t xorshift(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static bool workload_next(st_t *s)
{
    if (!running) return true;
    if (cfg.workload == W_HEARTBEAT && now_ns() < w_end) return send_call(s, K_HB);
    if (cfg.workload == W_METER && now_ns() < w_end) return send_call(s, K_MV);
    return true;
}

static uint64_t mixed_sent, mixed_rr;
static double mixed_rate; /* this process's share, msg/s */

static void mixed_tick(uint64_t t)
{
    if (t >= w_end) return;
    uint64_t due = (uint64_t)((double)(t - w_start) / 1e9 * mixed_rate);
    int scanned = 0;
    while (mixed_sent < due && scanned < nst) {
        st_t *s = &sts[mixed_rr++ % (uint64_t)nst];
        scanned++;
        if (s->state != S_READY || s->busy) continue;
        static const int mix[10] = {K_MV,   K_HB, K_MV, K_STATUS, K_MV,
                                    K_AUTH, K_MV, K_MV, K_MV,     K_MV};
        int k = mix[mixed_sent % 10];
        if (k == K_STATUS) s->status_left = 0;
        if (!send_call(s, k)) st_close(s, true);
        mixed_sent++;
        scanned = 0;
    }
    if (mixed_sent < due) { /* every station busy: the server is behind; skip these sends */
        rep.deferred += due - mixed_sent;
        mixed_sent = due;
    }
}

static void burst_tick(uint64_t t)
{
    for (int i = 0; i < nst; i++) {
        st_t *s = &sts[i];
        if (s->state == S_READY && !s->busy && !s->done && s->due_ns && t >= s->due_ns) {
            s->due_ns = 0;
            if (!send_call(s, K_MV)) st_close(s, true);
        }
    }
}

static void start_workload(void)
{
    running = true;
    w_start = now_ns();
    double warm = cfg.workload == W_BURST ? 0 : (cfg.duration >= 3 ? 1.0 : cfg.duration / 4);
    w_from = w_start + (uint64_t)(warm * 1e9);
    w_end = w_from + (uint64_t)(cfg.duration * 1e9);
    rep.t_last_ns = 0;
    if (cfg.workload == W_BURST) {
        w_from = w_start;
        w_end = w_start + (uint64_t)((DRAIN_SECS + 2) * 1e9);
        for (int i = 0; i < nst; i++)
            sts[i].due_ns = w_start + xorshift() % 1000000000u;
        return;
    }
    if (cfg.workload == W_MIXED) {
        mixed_rate = cfg.rate * nst / cfg.count;
        return;
    }
    for (int i = 0; i < nst; i++)
        if (sts[i].state == S_READY && !workload_next(&sts[i])) st_close(&sts[i], true);
}

static bool workload_finished(uint64_t t)
{
    if (cfg.workload == W_BURST) {
        for (int i = 0; i < nst; i++)
            if (sts[i].state == S_READY && !sts[i].done) return t > w_end;
        return true;
    }
    return (t >= w_end && busy_count == 0) || t > w_end + (uint64_t)DRAIN_SECS * 1000000000u;
}

/* ---- one worker process ----------------------------------------------------------------- */

static void write_all(int fd, const void *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) _exit(3);
        p = (const char *)p + w;
        n -= (size_t)w;
    }
}

static void send_report(int fd)
{
    rep.cpu_s = cpu_self();
    write_all(fd, &rep, sizeof rep);
    uint32_t ready = rep.ready, failed = rep.failed;
    memset(&rep, 0, sizeof rep);
    rep.ready = ready;
    rep.failed = failed;
}

static void poll_loop(int cmd_fd, int rep_fd, bool *quit)
{
    static struct epoll_event evs[1024];
    enum { PH_WAIT_CONNECT, PH_CONNECT, PH_WAIT, PH_RUN } ph = PH_WAIT_CONNECT;
    uint64_t deadline = 0;
    while (!*quit) {
        int timeout = ph == PH_RUN && (cfg.workload == W_MIXED || cfg.workload == W_BURST) ? 1 : 50;
        int n = epoll_wait(ep, evs, 1024, timeout);
        for (int i = 0; i < n; i++) {
            if (!evs[i].data.ptr) { /* a command from the parent */
                char c;
                if (read(cmd_fd, &c, 1) != 1 || c == 'Q') {
                    *quit = true;
                    break;
                }
                if (c == 'C') {
                    ph = PH_CONNECT;
                    deadline = now_ns() + (uint64_t)CONNECT_SECS * 1000000000u;
                    start_connects();
                } else if (c == 'W') {
                    ph = PH_RUN;
                    start_workload();
                }
                continue;
            }
            st_t *s = evs[i].data.ptr;
            if (s->state == S_DEAD) continue;
            if ((evs[i].events & EPOLLERR) || !on_event(s))
                st_close(s, true);
            else if ((evs[i].events & (EPOLLHUP | EPOLLRDHUP)) && !s->ssl) {
                if (!rep.err[0]) snprintf(rep.err, sizeof rep.err, "server hung up");
                st_close(s, true);
            }
        }
        uint64_t t = now_ns();
        if (ph == PH_CONNECT) {
            start_connects();
            if (connecting == 0 && next_connect >= nst) {
                settled = 1;
                send_report(rep_fd);
                ph = PH_WAIT;
            } else if (t > deadline) {
                for (int i = 0; i < nst; i++)
                    if (sts[i].state < S_READY) st_close(&sts[i], true);
                if (!rep.err[0]) snprintf(rep.err, sizeof rep.err, "connect phase timed out");
                send_report(rep_fd);
                ph = PH_WAIT;
            }
        } else if (ph == PH_RUN) {
            if (cfg.workload == W_MIXED) mixed_tick(t);
            if (cfg.workload == W_BURST) burst_tick(t);
            if (cfg.workload == W_IDLE || workload_finished(t)) {
                running = false;
                for (int i = 0; i < nst; i++)
                    if (sts[i].state == S_READY && cfg.workload == W_BURST && !sts[i].done)
                        fail_note("burst: %.*s", "no answer in time", 17);
                send_report(rep_fd);
                ph = PH_WAIT;
            }
        }
    }
}

static int worker(int first, int n, int cmd_fd, int rep_fd)
{
    nst = n;
    sts = calloc((size_t)n, sizeof *sts);
    if (!sts) return 1;
    for (int i = 0; i < n; i++) {
        sts[i].fd = -1;
        sts[i].idx = (uint32_t)(first + i);
    }
    rng ^= (uint64_t)first * 0x9E3779B97F4A7C15ull;
    ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, cmd_fd, &ev);
    bool quit = false;
    poll_loop(cmd_fd, rep_fd, &quit);
    for (int i = 0; i < n; i++)
        if (sts[i].state != S_DEAD) st_close(&sts[i], false);
    return 0;
}

/* ---- the coordinating parent ------------------------------------------------------------ */

typedef struct srv_sample {
    double user_s, sys_s;
    long rss_kb;
    double cs; /* context switches (voluntary + involuntary) of every thread alive now */
} srv_sample_t;

/* Adds the context switches of each of process pid's threads (/proc/PID/task/TID/status). */
static double srv_switches(const char *pid)
{
    char path[128], buf[256];
    if (snprintf(path, sizeof path, "/proc/%.24s/task", pid) >= (int)sizeof path) return 0;
    DIR *d = opendir(path);
    if (!d) return 0;
    double n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "/proc/%.24s/task/%.32s/status", pid, e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue; /* the thread ended meanwhile */
        while (fgets(buf, sizeof buf, f))
            if (!strncmp(buf, "voluntary_ctxt_switches:", 24))
                n += strtod(buf + 24, NULL);
            else if (!strncmp(buf, "nonvoluntary_ctxt_switches:", 27))
                n += strtod(buf + 27, NULL);
        fclose(f);
    }
    closedir(d);
    return n;
}

static srv_sample_t srv_measure(void)
{
    srv_sample_t m = {0, 0, 0, 0};
    char list[256];
    snprintf(list, sizeof list, "%s", cfg.pids);
    long tck = sysconf(_SC_CLK_TCK);
    for (char *p = list; *p;) {
        char *e = strchr(p, ',');
        if (e) *e = 0;
        char path[300], buf[1024];
        snprintf(path, sizeof path, "/proc/%s/stat", p);
        FILE *f = fopen(path, "r");
        if (f) {
            size_t r = fread(buf, 1, sizeof buf - 1, f);
            buf[r] = 0;
            fclose(f);
            char *q = strrchr(buf, ')');
            unsigned long ut = 0, stt = 0;
            if (q && sscanf(q + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
                            &stt) == 2) {
                m.user_s += (double)ut / tck;
                m.sys_s += (double)stt / tck;
            }
        }
        snprintf(path, sizeof path, "/proc/%s/status", p);
        f = fopen(path, "r");
        if (f) {
            while (fgets(buf, sizeof buf, f))
                if (!strncmp(buf, "VmRSS:", 6)) m.rss_kb += strtol(buf + 6, NULL, 10);
            fclose(f);
        }
        m.cs += srv_switches(p);
        if (!e) break;
        p = e + 1;
    }
    return m;
}

static int read_all(int fd, void *p, size_t n, int timeout_ms)
{
    while (n) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        int r = poll(&pf, 1, timeout_ms);
        if (r <= 0) return -1;
        ssize_t k = read(fd, p, n);
        if (k <= 0) return -1;
        p = (char *)p + k;
        n -= (size_t)k;
    }
    return 0;
}

/* Collects one report from every worker into *sum (histograms merged). */
static int gather(int procs, const int *rep_fds, report_t *sum, report_t *each, int timeout_ms)
{
    memset(sum, 0, sizeof *sum);
    for (int i = 0; i < procs; i++) {
        if (read_all(rep_fds[i], &each[i], sizeof each[i], timeout_ms) != 0) return -1;
        report_t *r = &each[i];
        sum->ready += r->ready;
        sum->failed += r->failed;
        sum->window += r->window;
        sum->total += r->total;
        sum->errors += r->errors;
        sum->deferred += r->deferred;
        sum->cpu_s += r->cpu_s;
        if (r->t_last_ns > sum->t_last_ns) sum->t_last_ns = r->t_last_ns;
        for (int b = 0; b < HB; b++) {
            sum->hist[b] += r->hist[b];
            sum->hist_mv[b] += r->hist_mv[b];
        }
        if (r->err[0] && !sum->err[0]) memcpy(sum->err, r->err, sizeof sum->err);
    }
    return 0;
}

static void broadcast(int procs, const int *cmd_fds, char c)
{
    for (int i = 0; i < procs; i++)
        if (write(cmd_fds[i], &c, 1) != 1) perror("bench_load: command pipe");
}

static int parse_url(const char *url)
{
    const char *p;
    if (!strncmp(url, "ws://", 5))
        p = url + 5;
    else if (!strncmp(url, "wss://", 6))
        p = url + 6, cfg.tls = true;
    else
        return -1;
    const char *slash = strchr(p, '/');
    const char *colon = memchr(p, ':', slash ? (size_t)(slash - p) : strlen(p));
    if (!colon || (size_t)(colon - p) >= sizeof cfg.host) return -1;
    memcpy(cfg.host, p, (size_t)(colon - p));
    cfg.host[colon - p] = 0;
    cfg.port = atoi(colon + 1);
    snprintf(cfg.path, sizeof cfg.path, "%s", slash ? slash : "");
    size_t pl = strlen(cfg.path);
    if (pl && cfg.path[pl - 1] == '/') cfg.path[pl - 1] = 0;
    if (strcmp(cfg.host, "127.0.0.1") != 0) return -1; /* loopback only */
    return 0;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_load --url ws[s]://127.0.0.1:PORT/ocpp --count N --workload "
            "idle|heartbeat|meter|mixed|burst\n"
            "       [--duration S] [--rate MSG_PER_S] [--pid PID[,PID...]] [--ocpp 1.6|2.0.1]\n"
            "       [--connectors N] [--procs P] [--inflight N] [--prefix ID] [--cpu CORE]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    cfg.count = 100;
    cfg.connectors = 2;
    cfg.inflight = 256;
    cfg.duration = 5;
    cfg.workload = -1;
    snprintf(cfg.prefix, sizeof cfg.prefix, "B%d", (int)getpid());
    const char *url = NULL;
    int cpu = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) usage();
        i++;
        if (!strcmp(a, "--url"))
            url = v;
        else if (!strcmp(a, "--count"))
            cfg.count = atoi(v);
        else if (!strcmp(a, "--procs"))
            cfg.procs = atoi(v);
        else if (!strcmp(a, "--connectors"))
            cfg.connectors = atoi(v);
        else if (!strcmp(a, "--inflight"))
            cfg.inflight = atoi(v);
        else if (!strcmp(a, "--duration"))
            cfg.duration = atof(v);
        else if (!strcmp(a, "--rate"))
            cfg.rate = atof(v);
        else if (!strcmp(a, "--pid"))
            snprintf(cfg.pids, sizeof cfg.pids, "%s", v);
        else if (!strcmp(a, "--prefix"))
            snprintf(cfg.prefix, sizeof cfg.prefix, "%s", v);
        else if (!strcmp(a, "--cpu"))
            cpu = atoi(v);
        else if (!strcmp(a, "--ocpp")) {
            if (!strcmp(v, "2.0.1"))
                cfg.v201 = true;
            else if (strcmp(v, "1.6") != 0)
                usage();
        } else if (!strcmp(a, "--workload")) {
            for (int w = 0; w < 5; w++)
                if (!strcmp(v, wnames[w])) cfg.workload = w;
        } else
            usage();
    }
    if (!url || parse_url(url) != 0 || cfg.workload < 0 || cfg.count < 1 || cfg.count > 200000 ||
        cfg.connectors < 1 || cfg.connectors > 16 || cfg.inflight < 1 || cfg.duration <= 0 ||
        cfg.duration > 600 || (cfg.workload == W_MIXED && cfg.rate <= 0)) {
        fprintf(stderr, "bench_load: bad arguments (the URL host must be 127.0.0.1)\n");
        usage();
    }
    if (cfg.procs <= 0) cfg.procs = (cfg.count + PROC_STATIONS - 1) / PROC_STATIONS;
    if (cfg.procs > MAX_PROCS || cfg.procs > cfg.count) {
        fprintf(stderr, "bench_load: --procs out of range\n");
        return 2;
    }
    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        sched_setaffinity(0, sizeof set, &set);
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (cfg.count / cfg.procs + 64 > (int)rl.rlim_cur) {
        fprintf(stderr, "bench_load: %d stations per process exceed the open-file limit %lu\n",
                cfg.count / cfg.procs, (unsigned long)rl.rlim_cur);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    srv_addr.sin_family = AF_INET;
    srv_addr.sin_port = htons((uint16_t)cfg.port);
    srv_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (cfg.tls) {
        ctx = SSL_CTX_new(TLS_client_method());
        if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION)) return 1;
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);          /* our own throwaway certificate */
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF); /* full handshakes only */
        SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    }

    int procs = cfg.procs, cmd_fds[MAX_PROCS], rep_fds[MAX_PROCS];
    pid_t kids[MAX_PROCS];
    int per = cfg.count / procs, extra = cfg.count % procs, first = 0;
    for (int i = 0; i < procs; i++) {
        int cp[2], rp[2];
        if (pipe(cp) || pipe(rp)) return 1;
        int n = per + (i < extra);
        pid_t k = fork();
        if (k < 0) return 1;
        if (k == 0) {
            close(cp[1]);
            close(rp[0]);
            for (int j = 0; j < i; j++) {
                close(cmd_fds[j]);
                close(rep_fds[j]);
            }
            _exit(worker(first, n, cp[0], rp[1]));
        }
        close(cp[0]);
        close(rp[1]);
        cmd_fds[i] = cp[1];
        rep_fds[i] = rp[0];
        kids[i] = k;
        first += n;
    }
    report_t *each = calloc((size_t)procs, sizeof *each), *sum = calloc(1, sizeof *sum);
    if (!each || !sum) return 1;
    const char *mode = cfg.tls ? "wss" : "ws";
    int rc = 0;

    /* Connect phase: the boot storm. */
    srv_sample_t s0 = srv_measure();
    uint64_t t0 = now_ns();
    broadcast(procs, cmd_fds, 'C');
    if (gather(procs, rep_fds, sum, each, (CONNECT_SECS + 30) * 1000) != 0) {
        fprintf(stderr, "bench_load: a worker did not report\n");
        rc = 1;
        goto out;
    }
    srv_sample_t s1 = srv_measure();
    double storm_s = (double)(sum->t_last_ns - t0) / 1e9;
    if (sum->ready == 0) storm_s = (double)(now_ns() - t0) / 1e9;
    double hs_user = sum->ready ? (s1.user_s - s0.user_s) * 1e6 / sum->ready : 0;
    double hs_sys = sum->ready ? (s1.sys_s - s0.sys_s) * 1e6 / sum->ready : 0;
    double hs_cs = sum->ready ? (s1.cs - s0.cs) / sum->ready : 0;
    printf("RESULT phase=storm mode=%s stations=%u failed=%u secs=%.3f rate=%.0f "
           "srv_user_us=%.1f srv_sys_us=%.1f srv_cs=%.2f load_cpu_pct=%.0f errors=%llu\n",
           mode, sum->ready, sum->failed, storm_s, sum->ready / (storm_s > 0 ? storm_s : 1),
           hs_user, hs_sys, hs_cs, sum->cpu_s * 100 / (storm_s > 0 ? storm_s : 1),
           (unsigned long long)sum->errors);
    if (sum->failed || sum->errors) {
        fprintf(stderr, "bench_load: %u stations failed to come up: %s\n", sum->failed, sum->err);
        rc = 1;
        goto out;
    }
    double cpu_before = sum->cpu_s;

    if (cfg.workload == W_IDLE) {
        /* Let the server settle (lazy frees, delayed work), then measure. */
        usleep(1000000);
        srv_sample_t s2 = srv_measure();
        usleep(2000000);
        srv_sample_t s3 = srv_measure();
        printf("RESULT phase=idle mode=%s stations=%u rss_before_kb=%ld rss_after_kb=%ld "
               "bytes_per_conn=%.0f idle_cpu_pct=%.1f\n",
               mode, sum->ready, s0.rss_kb, s2.rss_kb,
               (double)(s2.rss_kb - s0.rss_kb) * 1024.0 / sum->ready,
               ((s3.user_s + s3.sys_s) - (s2.user_s + s2.sys_s)) * 100 / 2.0);
        goto out;
    }

    srv_sample_t w0 = srv_measure();
    uint64_t tw = now_ns();
    broadcast(procs, cmd_fds, 'W');
    if (gather(procs, rep_fds, sum, each, (int)(cfg.duration + DRAIN_SECS + 30) * 1000) != 0) {
        fprintf(stderr, "bench_load: a worker did not report\n");
        rc = 1;
        goto out;
    }
    srv_sample_t w1 = srv_measure();
    double wall = (double)(now_ns() - tw) / 1e9;
    double u_msg = sum->total ? (w1.user_s - w0.user_s) * 1e6 / sum->total : 0;
    double s_msg = sum->total ? (w1.sys_s - w0.sys_s) * 1e6 / sum->total : 0;
    double cs_msg = sum->total ? (w1.cs - w0.cs) / sum->total : 0;
    double load_pct = (sum->cpu_s - cpu_before) * 100 / wall;
    if (cfg.workload == W_BURST) {
        double secs = sum->t_last_ns > tw ? (double)(sum->t_last_ns - tw) / 1e9 : 0;
        printf("RESULT phase=burst mode=%s stations=%u msgs=%llu secs=%.3f p50_us=%llu "
               "p99_us=%llu max_us=%llu srv_user_us=%.1f srv_sys_us=%.1f srv_cs=%.2f "
               "load_cpu_pct=%.0f errors=%llu\n",
               mode, sum->ready, (unsigned long long)sum->window, secs,
               (unsigned long long)hist_pct(sum->hist, 50),
               (unsigned long long)hist_pct(sum->hist, 99),
               (unsigned long long)hist_pct(sum->hist, 100), u_msg, s_msg, cs_msg, load_pct,
               (unsigned long long)sum->errors);
    } else {
        printf("RESULT phase=%s mode=%s stations=%u msgs=%llu secs=%.2f rate=%.0f p50_us=%llu "
               "p99_us=%llu mv_p99_us=%llu srv_user_us=%.1f srv_sys_us=%.1f srv_cs=%.2f "
               "load_cpu_pct=%.0f deferred=%llu errors=%llu\n",
               wnames[cfg.workload], mode, sum->ready, (unsigned long long)sum->window,
               cfg.duration, sum->window / cfg.duration,
               (unsigned long long)hist_pct(sum->hist, 50),
               (unsigned long long)hist_pct(sum->hist, 99),
               (unsigned long long)hist_pct(sum->hist_mv, 99), u_msg, s_msg, cs_msg, load_pct,
               (unsigned long long)sum->deferred, (unsigned long long)sum->errors);
    }
    if (sum->errors || sum->failed) {
        fprintf(stderr, "bench_load: %llu errors, %u failed: %s\n", (unsigned long long)sum->errors,
                sum->failed, sum->err);
        rc = 1;
    }
out:
    fflush(stdout);
    broadcast(procs, cmd_fds, 'Q');
    for (int i = 0; i < procs; i++) {
        int st = 0;
        waitpid(kids[i], &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) rc = 1;
    }
    free(each);
    free(sum);
    if (ctx) SSL_CTX_free(ctx);
    return rc;
}
