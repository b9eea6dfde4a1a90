/*
 * sim.c — `ladewerk sim`: simulated charging stations on the station library, driven by a
 * libuv loop with the transport layer's WebSocket client. One process runs up to what its
 * open-file limit allows; beyond that it forks itself into several processes.
 *
 * Each station: one lw_station_t (sans-I/O), one uv timer armed at the library's next
 * deadline or the scenario's next step, one WebSocket (lw_conn_t) while connected.
 *
 * Scenario files (one step per line, '#' starts a comment, durations as 30, 30s, 5m, 1h):
 *     plug C                 EV plugged into connector C
 *     auth C TAG             RFID card TAG presented at C (starts, or stops, a transaction)
 *     charge C KW T          the EV draws KW kilowatts at C, for T
 *     power C KW             the EV draws KW kilowatts from now on
 *     soc C PERCENT          state of charge reported with the SoC measurand
 *     stop C                 stop button at C
 *     unplug C               EV unplugged from C
 *     offline T              the connection drops and stays down for T (charging goes on)
 *     wait T                 nothing happens for T
 *     repeat                 back to the first step
 * `--scenario random` runs realistic random sessions on every connector instead.
 */
#include "commands.h"
#include "http_client.h"
#include "ladewerk/net.h"
#include "ladewerk/station.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum {
    ST_PLUG,
    ST_AUTH,
    ST_CHARGE,
    ST_POWER,
    ST_SOC,
    ST_STOP,
    ST_UNPLUG,
    ST_OFFLINE,
    ST_WAIT,
    ST_REPEAT
};

typedef struct step {
    int kind;
    int conn;
    double value;    /* kW, percent */
    uint64_t dur_ms; /* charge, offline, wait */
    char tag[40];
} step_t;

typedef struct opts {
    const char *url, *id, *password, *ca, *cert, *key, *scenario, *journal_dir;
    lw_ocpp_version_t ver;
    int connectors, count, verbose;
    double duration_s;
    bool insecure;
    /* faults */
    double drop_every_s; /* drop the connection every S seconds */
    uint64_t delay_ms;   /* answers to CSMS calls delayed */
    double no_answer_p;  /* probability of never answering a CSMS call */
    double duplicate_p;  /* probability of sending a CALL twice */
    double malformed_p;  /* probability of a malformed frame after a CALL */
    int64_t skew_ms;     /* clock skew */
    uint32_t seed;
} opts_t;

typedef struct stats {
    uint64_t connected, connects, disconnects, connect_failures, errors, timeouts, received_calls;
    uint64_t booted; /* stations whose boot was accepted at least once */
    struct {
        char action[48];
        uint64_t n;
    } by_action[64];
    int nactions;
    double *lat;
    size_t nlat, caplat;
} stats_t;

typedef struct sim sim_t;

typedef struct delayed {
    struct delayed *next;
    uint64_t at;
    char *text;
    size_t len;
} delayed_t;

typedef struct simst {
    sim_t *sim;
    int index;
    bool booted;
    char id[LW_STATION_ID_MAX + 1];
    lw_station_t *st;
    lw_station_journal_ops_t jops;
    lw_station_journal_file_t *jf;
    lw_conn_t *conn;
    bool open;
    uv_timer_t timer;
    /* scenario */
    int step;
    uint64_t step_at; /* mono ms when the next step runs */
    uint64_t offline_until;
    uint64_t next_drop;
    /* random mode, per connector */
    struct {
        int phase;
        uint64_t at;
    } rnd[LW_STATION_CONNECTORS_MAX + 1];
    delayed_t *delayed;
    uint32_t rng;
    lw_station_hooks_t hooks; /* borrowed by st for its life */
    lw_station_transfer_ops_t xfers;
    /* HTTP transfers in flight (firmware download, log upload) */
    sim_http_t *dl, *ul;
    uint32_t dl_xfer, ul_xfer;
    bool ul_put; /* the upload is being retried with PUT */
    const void *ul_data;
    size_t ul_len;
    char ul_url[512], ul_name[128];
} simst_t;

struct sim {
    opts_t o;
    uv_loop_t uv;
    lw_net_loop_t *nl;
    lw_tls_t *tls;
    simst_t *sts;
    int n;
    step_t *steps;
    int nsteps;
    bool random_mode;
    stats_t stats;
    uv_timer_t stats_timer, end_timer;
    uv_signal_t sigint, sigterm;
    bool stopping;
    uint64_t started;
};

static uint64_t now_ms(void)
{
    return lw_clock_mono(lw_clock_real());
}

static double frand(simst_t *s)
{
    s->rng = s->rng * 1103515245u + 12345u;
    return (double)((s->rng >> 8) & 0xffffff) / 16777216.0;
}

/* ---- statistics ------------------------------------------------------------------------- */
static void count_action(stats_t *S, const char *action)
{
    for (int i = 0; i < S->nactions; i++)
        if (!strcmp(S->by_action[i].action, action)) {
            S->by_action[i].n++;
            return;
        }
    if (S->nactions < 64) {
        lw_cstr_copy(S->by_action[S->nactions].action, sizeof S->by_action[0].action, action);
        S->by_action[S->nactions++].n = 1;
    }
}

static void on_call_done(void *ctx, const char *action, uint64_t latency_ms, const char *error)
{
    simst_t *s = ctx;
    stats_t *S = &s->sim->stats;
    count_action(S, action);
    if (error) {
        if (!strcmp(error, "Timeout"))
            S->timeouts++;
        else
            S->errors++;
        if (s->sim->o.verbose) fprintf(stderr, "%s: %s failed: %s\n", s->id, action, error);
        return;
    }
    if (S->nlat == S->caplat && S->caplat < 4000000) {
        size_t nc = S->caplat ? S->caplat * 2 : 4096;
        double *p = realloc(S->lat, nc * sizeof *p);
        if (p) S->lat = p, S->caplat = nc;
    }
    if (S->nlat < S->caplat) S->lat[S->nlat++] = (double)latency_ms;
}

static void on_trace(void *ctx, bool outgoing, lw_str_t frame)
{
    simst_t *s = ctx;
    if (s->sim->o.verbose) printf("%s %s %.*s\n", s->id, outgoing ? ">" : "<", LW_STR_FMT(frame));
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const stats_t *S, double p)
{
    if (!S->nlat) return 0;
    size_t i = (size_t)(p * (double)(S->nlat - 1) + 0.5);
    return S->lat[i];
}

static void print_stats_of(stats_t *S, int n, double secs, const char *label, bool actions)
{
    double *copy = NULL;
    double p50 = 0, p99 = 0;
    if (S->nlat && (copy = malloc(S->nlat * sizeof *copy))) {
        memcpy(copy, S->lat, S->nlat * sizeof *copy);
        stats_t tmp = *S;
        tmp.lat = copy;
        qsort(copy, S->nlat, sizeof *copy, cmp_double);
        p50 = pct(&tmp, 0.50);
        p99 = pct(&tmp, 0.99);
        free(copy);
    }
    uint64_t total = 0;
    for (int i = 0; i < S->nactions; i++)
        total += S->by_action[i].n;
    fprintf(stderr,
            "%s t=%.0fs connected=%llu/%d booted=%llu calls=%llu csms_calls=%llu p50=%.0fms "
            "p99=%.0fms errors=%llu timeouts=%llu connect_failures=%llu disconnects=%llu\n",
            label, secs, (unsigned long long)S->connected, n, (unsigned long long)S->booted,
            (unsigned long long)total, (unsigned long long)S->received_calls, p50, p99,
            (unsigned long long)S->errors, (unsigned long long)S->timeouts,
            (unsigned long long)S->connect_failures, (unsigned long long)S->disconnects);
    if (actions)
        for (int i = 0; i < S->nactions; i++)
            fprintf(stderr, "sim:   %-36s %llu\n", S->by_action[i].action,
                    (unsigned long long)S->by_action[i].n);
}

static void print_stats(sim_t *sim, bool final)
{
    print_stats_of(&sim->stats, sim->n, (double)(now_ms() - sim->started) / 1000.0,
                   final ? "sim: final" : "sim:", final);
}

/* ---- statistics across processes -----------------------------------------------------------
 * A forked child writes its final statistics to a pipe: the stats_t counters as they are
 * (parent and child are the same binary, so the layout is the same), then its latency
 * samples. The parent adds them up and prints one total. */
static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return LW_EIO;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static void send_stats(const stats_t *S, int fd)
{
    stats_t head = *S;
    head.lat = NULL;
    head.caplat = 0;
    if (write_all(fd, &head, sizeof head) == 0 && S->nlat)
        write_all(fd, S->lat, S->nlat * sizeof *S->lat);
}

/* Adds one child's pipe content to total. Returns 0, or LW_EPARSE for a short record (the
 * child died before reporting). */
static int merge_stats(stats_t *total, const lw_buf_t *b)
{
    stats_t c;
    if (b->len < sizeof c) return LW_EPARSE;
    memcpy(&c, b->data, sizeof c);
    if (b->len - sizeof c != c.nlat * sizeof(double)) return LW_EPARSE;
    total->connected += c.connected;
    total->connects += c.connects;
    total->disconnects += c.disconnects;
    total->connect_failures += c.connect_failures;
    total->errors += c.errors;
    total->timeouts += c.timeouts;
    total->received_calls += c.received_calls;
    total->booted += c.booted;
    for (int i = 0; i < c.nactions && i < 64; i++) {
        int j = 0;
        while (j < total->nactions && strcmp(total->by_action[j].action, c.by_action[i].action))
            j++;
        if (j == total->nactions) {
            if (total->nactions == 64) continue;
            total->nactions++;
            memcpy(total->by_action[j].action, c.by_action[i].action,
                   sizeof total->by_action[j].action);
            total->by_action[j].n = 0;
        }
        total->by_action[j].n += c.by_action[i].n;
    }
    if (c.nlat) {
        double *p = realloc(total->lat, (total->nlat + c.nlat) * sizeof *p);
        if (!p) return 0; /* counters merged; the latencies of this child are left out */
        total->lat = p;
        memcpy(p + total->nlat, b->data + sizeof c, c.nlat * sizeof *p);
        total->nlat += c.nlat;
    }
    return 0;
}

/* ---- connection --------------------------------------------------------------------------- */
static void service(simst_t *s);

static void ws_open(lw_conn_t *c, lw_str_t protocol)
{
    simst_t *s = lw_conn_data(c);
    s->open = true;
    s->sim->stats.connected++;
    s->sim->stats.connects++;
    if (s->sim->o.drop_every_s > 0)
        s->next_drop = now_ms() + (uint64_t)(s->sim->o.drop_every_s * 1000.0 * (0.5 + frand(s)));
    lw_station_on_connected(s->st);
    service(s);
}

static void ws_message(lw_conn_t *c, lw_str_t data, bool binary)
{
    simst_t *s = lw_conn_data(c);
    if (data.len > 1 && data.p[1] == '2') s->sim->stats.received_calls++;
    lw_station_on_message(s->st, data.p, data.len);
    service(s);
}

static void ws_close(lw_conn_t *c, int code, lw_str_t reason)
{
    simst_t *s = lw_conn_data(c);
    if (s->open) {
        s->sim->stats.connected--;
        s->sim->stats.disconnects++;
    } else {
        s->sim->stats.connect_failures++;
        if (s->sim->o.verbose)
            fprintf(stderr, "%s: connect failed (%d %.*s)\n", s->id, code, LW_STR_FMT(reason));
    }
    s->open = false;
    s->conn = NULL;
    if (s->sim->stopping) return;
    lw_station_on_disconnected(s->st);
    service(s);
}

static const lw_net_cbs_t cbs = {
    .on_open = ws_open, .on_message = ws_message, .on_close = ws_close};

static void do_connect(simst_t *s)
{
    sim_t *sim = s->sim;
    if (sim->stopping) return;
    if (s->offline_until && now_ms() < s->offline_until) {
        /* "offline" step: the connection attempt fails like a dead network */
        lw_station_on_disconnected(s->st);
        return;
    }
    char url[1024], auth[256];
    const char *u = sim->o.url;
    size_t ul = strlen(u);
    snprintf(url, sizeof url, "%s%s%s", u, ul && u[ul - 1] == '/' ? "" : "/", s->id);
    const char *proto = lw_station_subprotocol(s->st);
    lw_client_config_t cc = {.url = url, .protocols = &proto, .nprotocols = 1, .tls = sim->tls};
    const char *pw = lw_station_password(s->st);
    if (pw && lw_http_basic_auth(s->id, pw, auth, sizeof auth) == 0) cc.authorization = auth;
    int rc = lw_ws_connect(sim->nl, &cc, &cbs, s, &s->conn);
    if (rc) {
        s->conn = NULL;
        sim->stats.connect_failures++;
        lw_station_on_disconnected(s->st);
    }
}

static void send_text(simst_t *s, const char *text, size_t len)
{
    if (!s->conn || !s->open) return;
    lw_ws_send_text(s->conn, text, len);
}

/* ---- file transfers (HTTP) ------------------------------------------------------------------
 * Firmware is fetched with GET; logs go up as POST multipart/form-data with one file part
 * (what 1.6 diagnostics servers take), and again as PUT with the raw file when the server
 * says the method is not allowed (405/501). */
#define SIM_HTTP_TIMEOUT_MS 120000

static void dl_done(void *ud, int status, int http_status, const char *body, size_t len)
{
    simst_t *s = ud;
    s->dl = NULL;
    if (status == 0 && (http_status < 200 || http_status > 299)) status = LW_EIO;
    if (s->sim->o.verbose)
        fprintf(stderr, "%s: firmware download: %s (HTTP %d, %zu bytes)\n", s->id,
                status ? lw_strerror(status) : "ok", http_status, len);
    lw_station_download_done(s->st, s->dl_xfer, status, body, status ? 0 : len);
    service(s);
}

static int xfer_download(void *ctx, uint32_t xfer, const char *url)
{
    simst_t *s = ctx;
    sim_http_cancel(s->dl);
    s->dl = NULL;
    s->dl_xfer = xfer;
    return sim_http_request(&s->sim->uv, "GET", url, NULL, NULL, 0, LW_STATION_FIRMWARE_MAX,
                            SIM_HTTP_TIMEOUT_MS, dl_done, s, &s->dl);
}

static int start_upload(simst_t *s);

static void ul_done(void *ud, int status, int http_status, const char *body, size_t len)
{
    simst_t *s = ud;
    (void)body;
    (void)len;
    s->ul = NULL;
    if (status == 0 && !s->ul_put && (http_status == 405 || http_status == 501)) {
        s->ul_put = true;
        if (start_upload(s) == 0) return;
        status = LW_EIO;
    }
    if (status == 0 && (http_status < 200 || http_status > 299)) status = LW_EIO;
    if (s->sim->o.verbose)
        fprintf(stderr, "%s: log upload (%s): %s (HTTP %d)\n", s->id, s->ul_put ? "PUT" : "POST",
                status ? lw_strerror(status) : "ok", http_status);
    lw_station_upload_done(s->st, s->ul_xfer, status);
    service(s);
}

static int start_upload(simst_t *s)
{
    if (s->ul_put)
        return sim_http_request(&s->sim->uv, "PUT", s->ul_url,
                                "Content-Type: application/octet-stream\r\n", s->ul_data, s->ul_len,
                                64 * 1024, SIM_HTTP_TIMEOUT_MS, ul_done, s, &s->ul);
    char boundary[48], hdr[128];
    snprintf(boundary, sizeof boundary, "ladewerk-%08x%08x", (unsigned)(frand(s) * 4e9),
             (unsigned)(frand(s) * 4e9));
    snprintf(hdr, sizeof hdr, "Content-Type: multipart/form-data; boundary=%s\r\n", boundary);
    lw_buf_t b;
    lw_buf_init(&b, s->ul_len + 1024);
    int rc = lw_buf_printf(&b,
                           "--%s\r\nContent-Disposition: form-data; name=\"file\"; "
                           "filename=\"%s\"\r\nContent-Type: text/plain\r\n\r\n",
                           boundary, s->ul_name);
    if (!rc) rc = lw_buf_append(&b, s->ul_data, s->ul_len);
    if (!rc) rc = lw_buf_printf(&b, "\r\n--%s--\r\n", boundary);
    if (!rc)
        rc = sim_http_request(&s->sim->uv, "POST", s->ul_url, hdr, b.data, b.len, 64 * 1024,
                              SIM_HTTP_TIMEOUT_MS, ul_done, s, &s->ul);
    lw_buf_free(&b); /* the request copied it */
    return rc;
}

static int xfer_upload(void *ctx, uint32_t xfer, const char *url, const char *filename,
                       const void *data, size_t len)
{
    simst_t *s = ctx;
    sim_http_cancel(s->ul);
    s->ul = NULL;
    s->ul_xfer = xfer;
    s->ul_put = false;
    s->ul_data = data; /* the station keeps it until upload_done */
    s->ul_len = len;
    lw_cstr_copy(s->ul_url, sizeof s->ul_url, url);
    lw_cstr_copy(s->ul_name, sizeof s->ul_name, filename);
    /* a filename goes into a quoted header parameter: keep it to safe characters */
    for (char *c = s->ul_name; *c; c++)
        if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20) *c = '_';
    return start_upload(s);
}

/* ---- scenario -------------------------------------------------------------------------- */
static void run_steps(simst_t *s)
{
    sim_t *sim = s->sim;
    uint64_t now = now_ms();
    int guard = 0;
    while (sim->nsteps && s->step_at <= now && guard++ < 1000) {
        if (s->step >= sim->nsteps) {
            s->step_at = UINT64_MAX;
            return;
        }
        const step_t *t = &sim->steps[s->step++];
        uint64_t wait = 0;
        int c = t->conn;
        switch (t->kind) {
        case ST_PLUG:
            lw_station_plug(s->st, c, true);
            break;
        case ST_UNPLUG:
            lw_station_plug(s->st, c, false);
            break;
        case ST_AUTH:
            lw_station_present_token(s->st, c, t->tag);
            break;
        case ST_POWER:
            lw_station_set_power(s->st, c, t->value * 1000.0);
            break;
        case ST_SOC:
            lw_station_set_soc(s->st, c, t->value);
            break;
        case ST_STOP:
            lw_station_stop_local(s->st, c);
            break;
        case ST_CHARGE:
            lw_station_set_power(s->st, c, t->value * 1000.0);
            wait = t->dur_ms;
            break;
        case ST_OFFLINE:
            s->offline_until = now + t->dur_ms;
            if (s->conn) lw_ws_close(s->conn, 1001, "simulated network loss");
            wait = 0;
            break;
        case ST_WAIT:
            wait = t->dur_ms;
            break;
        case ST_REPEAT:
            s->step = 0;
            break;
        }
        s->step_at = now + wait;
    }
}

static void run_random(simst_t *s)
{
    uint64_t now = now_ms();
    lw_station_connector_info_t info;
    for (int c = 1; c <= s->sim->o.connectors; c++) {
        if (now < s->rnd[c].at) continue;
        char tag[24];
        switch (s->rnd[c].phase) {
        case 0: /* an EV arrives */
            lw_station_plug(s->st, c, true);
            s->rnd[c].at = now + 2000 + (uint64_t)(frand(s) * 10000);
            break;
        case 1: /* the driver badges */
            snprintf(tag, sizeof tag, "RND%05u", (unsigned)(frand(s) * 99999));
            lw_station_present_token(s->st, c, tag);
            lw_station_set_power(s->st, c, (3.7 + frand(s) * 18.3) * 1000.0);
            s->rnd[c].at = now + 60000 + (uint64_t)(frand(s) * 540000);
            break;
        case 2: /* charging ends: the driver stops and leaves */
            lw_station_connector_info(s->st, c, &info);
            if (info.in_transaction) lw_station_stop_local(s->st, c);
            s->rnd[c].at = now + 3000;
            break;
        case 3:
            lw_station_plug(s->st, c, false);
            s->rnd[c].at = now + 10000 + (uint64_t)(frand(s) * 110000);
            break;
        }
        s->rnd[c].phase = (s->rnd[c].phase + 1) % 4;
    }
}

static uint64_t random_deadline(const simst_t *s)
{
    uint64_t d = UINT64_MAX;
    for (int c = 1; c <= s->sim->o.connectors; c++)
        if (s->rnd[c].at < d) d = s->rnd[c].at;
    return d;
}

/* ---- the per-station loop step ---------------------------------------------------------- */
static void on_timer(uv_timer_t *t)
{
    simst_t *s = t->data;
    lw_station_tick(s->st);
    service(s);
}

static void service(simst_t *s)
{
    sim_t *sim = s->sim;
    if (sim->stopping) return;
    uint64_t now = now_ms();
    if (sim->random_mode)
        run_random(s);
    else
        run_steps(s);
    /* fault: drop the connection now and then */
    if (s->open && s->next_drop && now >= s->next_drop) {
        s->next_drop = 0;
        lw_ws_close(s->conn, 1001, "simulated drop");
    }
    /* delayed answers that are due */
    for (delayed_t **pp = &s->delayed; *pp;) {
        delayed_t *d = *pp;
        if (d->at <= now) {
            send_text(s, d->text, d->len);
            *pp = d->next;
            free(d->text);
            free(d);
        } else {
            pp = &d->next;
        }
    }
    if (!s->booted && lw_station_state(s->st) == LW_STATION_ACCEPTED) {
        s->booted = true;
        sim->stats.booted++;
    }
    lw_station_out_t o;
    while (lw_station_next_output(s->st, &o) == 0) {
        if (o.kind == LW_STATION_OUT_CONNECT) {
            do_connect(s);
        } else if (o.kind == LW_STATION_OUT_CLOSE) {
            if (s->conn)
                lw_ws_close(s->conn, 1000, "reset");
            else
                lw_station_on_disconnected(s->st);
        } else {
            bool answer = o.text.len > 1 && o.text.p[1] != '2';
            if (answer && sim->o.no_answer_p > 0 && frand(s) < sim->o.no_answer_p) continue;
            if (answer && sim->o.delay_ms) {
                delayed_t *d = calloc(1, sizeof *d);
                if (d && (d->text = malloc(o.text.len))) {
                    memcpy(d->text, o.text.p, o.text.len);
                    d->len = o.text.len;
                    d->at = now + sim->o.delay_ms;
                    d->next = s->delayed;
                    s->delayed = d;
                } else {
                    free(d);
                }
                continue;
            }
            send_text(s, o.text.p, o.text.len);
            if (!answer && sim->o.duplicate_p > 0 && frand(s) < sim->o.duplicate_p)
                send_text(s, o.text.p, o.text.len); /* the same CALL twice */
            if (sim->o.malformed_p > 0 && frand(s) < sim->o.malformed_p) {
                static const char bad[] = "[2,\"bad-frame\",\"Heartbeat\",{";
                send_text(s, bad, sizeof bad - 1);
            }
        }
    }
    /* next wake-up */
    uint64_t d = lw_station_next_deadline(s->st);
    uint64_t sd = sim->random_mode ? random_deadline(s) : s->step_at;
    if (sd < d) d = sd;
    if (s->offline_until && s->offline_until > now && s->offline_until < d) d = s->offline_until;
    if (s->next_drop && s->next_drop < d) d = s->next_drop;
    for (delayed_t *x = s->delayed; x; x = x->next)
        if (x->at < d) d = x->at;
    if (s->offline_until && now >= s->offline_until) s->offline_until = 0;
    /* at least 1 ms: a timer re-armed at 0 from its own callback would starve the loop */
    uint64_t wait = d == UINT64_MAX ? 3600000 : d > now ? d - now : 1;
    uv_timer_start(&s->timer, on_timer, wait, 0);
}

/* ---- setup -------------------------------------------------------------------------------- */
static int parse_duration(const char *s, uint64_t *ms)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0) return -1;
    double mul = 1000;
    if (!strcmp(end, "ms"))
        mul = 1;
    else if (!strcmp(end, "s") || !*end)
        mul = 1000;
    else if (!strcmp(end, "m"))
        mul = 60000;
    else if (!strcmp(end, "h"))
        mul = 3600000;
    else
        return -1;
    *ms = (uint64_t)(v * mul);
    return 0;
}

static int load_scenario(sim_t *sim, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "sim: cannot open scenario %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[512];
    int lineno = 0, cap = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char w[5][128] = {{0}};
        int n = sscanf(line, "%127s %127s %127s %127s %127s", w[0], w[1], w[2], w[3], w[4]);
        if (n <= 0) continue;
        step_t t;
        memset(&t, 0, sizeof t);
        bool ok = true;
        if (!strcmp(w[0], "plug") && n == 2)
            t.kind = ST_PLUG, t.conn = atoi(w[1]);
        else if (!strcmp(w[0], "unplug") && n == 2)
            t.kind = ST_UNPLUG, t.conn = atoi(w[1]);
        else if (!strcmp(w[0], "stop") && n == 2)
            t.kind = ST_STOP, t.conn = atoi(w[1]);
        else if (!strcmp(w[0], "auth") && n == 3) {
            t.kind = ST_AUTH, t.conn = atoi(w[1]);
            snprintf(t.tag, sizeof t.tag, "%.39s", w[2]);
        } else if (!strcmp(w[0], "power") && n == 3)
            t.kind = ST_POWER, t.conn = atoi(w[1]), t.value = atof(w[2]);
        else if (!strcmp(w[0], "soc") && n == 3)
            t.kind = ST_SOC, t.conn = atoi(w[1]), t.value = atof(w[2]);
        else if (!strcmp(w[0], "charge") && n == 4) {
            t.kind = ST_CHARGE, t.conn = atoi(w[1]), t.value = atof(w[2]);
            ok = parse_duration(w[3], &t.dur_ms) == 0;
        } else if (!strcmp(w[0], "offline") && n == 2) {
            t.kind = ST_OFFLINE;
            ok = parse_duration(w[1], &t.dur_ms) == 0;
        } else if (!strcmp(w[0], "wait") && n == 2) {
            t.kind = ST_WAIT;
            ok = parse_duration(w[1], &t.dur_ms) == 0;
        } else if (!strcmp(w[0], "repeat") && n == 1)
            t.kind = ST_REPEAT;
        else
            ok = false;
        if (ok && t.kind != ST_OFFLINE && t.kind != ST_WAIT && t.kind != ST_REPEAT &&
            (t.conn < 1 || t.conn > sim->o.connectors))
            ok = false;
        if (!ok) {
            fprintf(stderr, "sim: %s:%d: cannot understand \"%s\"\n", path, lineno, w[0]);
            fclose(f);
            return -1;
        }
        if (sim->nsteps == cap) {
            cap = cap ? cap * 2 : 16;
            step_t *p = realloc(sim->steps, (size_t)cap * sizeof *p);
            if (!p) {
                fclose(f);
                return -1;
            }
            sim->steps = p;
        }
        sim->steps[sim->nsteps++] = t;
    }
    fclose(f);
    return 0;
}

/* CP1 + i → CP(1+i); CP0001 → CP0002 (width kept); CP → CP1, CP2, ... */
static void make_id(const char *base, int i, char *out, size_t n)
{
    size_t len = strlen(base), d = len;
    while (d > 0 && base[d - 1] >= '0' && base[d - 1] <= '9')
        d--;
    if (d == len) {
        if (i == 0)
            lw_cstr_copy(out, n, base);
        else
            snprintf(out, n, "%s%d", base, i + 1);
        return;
    }
    long start = strtol(base + d, NULL, 10);
    int width = base[d] == '0' ? (int)(len - d) : 0;
    snprintf(out, n, "%.*s%0*ld", (int)d, base, width, start + i);
}

static void on_stats(uv_timer_t *t)
{
    print_stats(t->data, false);
}

static void stop_all(sim_t *sim)
{
    if (sim->stopping) return;
    sim->stopping = true;
    uv_timer_stop(&sim->stats_timer);
    uv_timer_stop(&sim->end_timer);
    uv_signal_stop(&sim->sigint);
    uv_signal_stop(&sim->sigterm);
    for (int i = 0; i < sim->n; i++) {
        uv_timer_stop(&sim->sts[i].timer);
        sim_http_cancel(sim->sts[i].dl);
        sim_http_cancel(sim->sts[i].ul);
        sim->sts[i].dl = sim->sts[i].ul = NULL;
        if (sim->sts[i].conn) lw_ws_close(sim->sts[i].conn, 1001, "simulator stopping");
    }
}

static void on_end(uv_timer_t *t)
{
    stop_all(t->data);
}

static void on_signal(uv_signal_t *h, int sig)
{
    stop_all(h->data);
}

static void on_handle_closed(uv_handle_t *h)
{
    (void)h;
}

static int run_range(opts_t *o, int first, int n, int stats_fd)
{
    sim_t *sim = calloc(1, sizeof *sim);
    if (!sim) return 1;
    sim->o = *o;
    sim->n = n;
    int rc = 1;
    if (o->scenario) {
        if (!strcmp(o->scenario, "random"))
            sim->random_mode = true;
        else if (load_scenario(sim, o->scenario) != 0)
            goto out_free;
    }
    uv_loop_init(&sim->uv);
    sim->nl = lw_net_loop_new(&sim->uv, NULL);
    if (!sim->nl) goto out_loop;
    bool wss = !strncmp(o->url, "wss://", 6);
    if (wss || o->ca || o->cert) {
        lw_tls_config_t tc = {.cert_file = o->cert,
                              .key_file = o->key,
                              .ca_file = o->ca,
                              .verify = o->insecure ? LW_TLS_VERIFY_NONE : LW_TLS_VERIFY_REQUIRED};
        int err = 0;
        sim->tls = lw_tls_client_new(&tc, &err);
        if (!sim->tls) {
            fprintf(stderr, "sim: TLS setup failed: %s\n", lw_strerror(err));
            goto out_net;
        }
    }
    sim->sts = calloc((size_t)n, sizeof *sim->sts);
    if (!sim->sts) goto out_net;
    lw_station_hooks_t hooks = {.call_done = on_call_done, .trace = on_trace};
    sim->started = now_ms();
    for (int i = 0; i < n; i++) {
        simst_t *s = &sim->sts[i];
        s->sim = sim;
        s->index = first + i;
        s->rng = o->seed * 2654435761u + (uint32_t)s->index * 40503u + 1;
        make_id(o->id, first + i, s->id, sizeof s->id);
        if (o->journal_dir) {
            char path[1024];
            snprintf(path, sizeof path, "%s/%s.journal", o->journal_dir, s->id);
            s->jf = lw_station_journal_file_open(path, &s->jops);
        }
        s->hooks = hooks;
        s->hooks.ctx = s;
        s->xfers = (lw_station_transfer_ops_t){
            .download = xfer_download, .upload = xfer_upload, .schemes = "http", .ctx = s};
        int sp = o->cert ? 3 : wss ? 2 : (o->password ? 1 : 0);
        lw_station_config_t cfg = {.id = s->id,
                                   .version = o->ver,
                                   .connectors = o->connectors,
                                   .password = o->password,
                                   .security_profile = sp,
                                   .journal = s->jf ? &s->jops : NULL,
                                   .hooks = &s->hooks,
                                   .transfers = &s->xfers,
                                   .seed = o->seed + (uint32_t)s->index};
        int e = lw_station_new(&cfg, lw_clock_real(), &s->st);
        if (e) {
            fprintf(stderr, "sim: %s: %s\n", s->id, lw_strerror(e));
            goto out_stations;
        }
        if (o->skew_ms) lw_station_set_clock_skew(s->st, o->skew_ms);
        uv_timer_init(&sim->uv, &s->timer);
        s->timer.data = s;
        /* no scenario: no step ever runs, so no step deadline (a past one would re-arm the
         * timer at 1 ms forever and spin the loop) */
        s->step_at = sim->nsteps ? now_ms() : UINT64_MAX;
        for (int c = 1; c <= o->connectors; c++)
            s->rnd[c].at = now_ms() + (uint64_t)(frand(s) * 20000);
        /* spread a fleet's first connections over a second per thousand stations */
        uv_timer_start(&s->timer, on_timer,
                       n > 1 ? (uint64_t)(frand(s) * (n / 1000.0 + 0.2) * 1000) : 0, 0);
    }
    uv_timer_init(&sim->uv, &sim->stats_timer);
    sim->stats_timer.data = sim;
    uv_timer_start(&sim->stats_timer, on_stats, 10000, 10000);
    uv_timer_init(&sim->uv, &sim->end_timer);
    sim->end_timer.data = sim;
    if (o->duration_s > 0)
        uv_timer_start(&sim->end_timer, on_end, (uint64_t)(o->duration_s * 1000), 0);
    uv_signal_init(&sim->uv, &sim->sigint);
    sim->sigint.data = sim;
    uv_signal_start(&sim->sigint, on_signal, SIGINT);
    uv_signal_init(&sim->uv, &sim->sigterm);
    sim->sigterm.data = sim;
    uv_signal_start(&sim->sigterm, on_signal, SIGTERM);
    uv_run(&sim->uv, UV_RUN_DEFAULT);
    rc = 0;
    print_stats(sim, true);
    if (stats_fd >= 0) send_stats(&sim->stats, stats_fd);
out_stations:
    for (int i = 0; i < n; i++) {
        simst_t *s = &sim->sts[i];
        if (s->st) uv_close((uv_handle_t *)&s->timer, on_handle_closed);
    }
    if (!sim->stopping) stop_all(sim);
    uv_close((uv_handle_t *)&sim->stats_timer, on_handle_closed);
    uv_close((uv_handle_t *)&sim->end_timer, on_handle_closed);
    uv_close((uv_handle_t *)&sim->sigint, on_handle_closed);
    uv_close((uv_handle_t *)&sim->sigterm, on_handle_closed);
    lw_net_loop_free(sim->nl);
    sim->nl = NULL;
    uv_run(&sim->uv, UV_RUN_DEFAULT);
    for (int i = 0; i < n; i++) {
        simst_t *s = &sim->sts[i];
        while (s->delayed) {
            delayed_t *d = s->delayed;
            s->delayed = d->next;
            free(d->text);
            free(d);
        }
        lw_station_free(s->st);
        lw_station_journal_file_close(s->jf);
    }
    free(sim->sts);
out_net:
    if (sim->nl) lw_net_loop_free(sim->nl);
    uv_run(&sim->uv, UV_RUN_DEFAULT);
    if (sim->tls) lw_tls_free(sim->tls);
out_loop:
    uv_loop_close(&sim->uv);
out_free:
    free(sim->steps);
    free(sim->stats.lat);
    free(sim);
    return rc;
}

static volatile sig_atomic_t parent_signal;
static void on_parent_signal(int sig)
{
    parent_signal = sig;
}

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: ladewerk sim --url ws://HOST:PORT/PATH --id CP1 --ocpp 1.6|2.0.1|2.1\n"
        "         [--connectors N] [--count N] [--password P] [--ca FILE --cert FILE --key FILE]\n"
        "         [--insecure] [--scenario FILE|random] [--duration S] [--journal DIR] [-v]\n"
        "         [--seed N] [--drop-every S] [--delay-answers MS] [--no-answer P]\n"
        "         [--duplicate P] [--malformed P] [--clock-skew MS]\n"
        "Connects each station to URL/ID. --count N runs N stations with numbered ids.\n"
        "Fault injection: --drop-every drops the connection about every S seconds;\n"
        "--delay-answers delays answers to CSMS calls; --no-answer never answers with\n"
        "probability P; --duplicate sends a CALL twice with probability P; --malformed\n"
        "follows a CALL with a broken frame with probability P; --clock-skew shifts every\n"
        "timestamp; the scenario step 'offline T' keeps charging while disconnected.\n");
}

int lw_cmd_sim(int argc, char **argv)
{
    opts_t o = {.connectors = 2, .count = 1, .seed = (uint32_t)getpid()};
    bool have_ver = false;
    long per_proc_max = 0; /* --per-process: a smaller slice than the fd limit allows */
    static const struct option lo[] = {{"url", 1, 0, 'u'},       {"id", 1, 0, 'i'},
                                       {"ocpp", 1, 0, 'o'},      {"connectors", 1, 0, 'c'},
                                       {"count", 1, 0, 'n'},     {"password", 1, 0, 'p'},
                                       {"ca", 1, 0, 'A'},        {"cert", 1, 0, 'C'},
                                       {"key", 1, 0, 'K'},       {"scenario", 1, 0, 's'},
                                       {"duration", 1, 0, 'd'},  {"journal", 1, 0, 'j'},
                                       {"insecure", 0, 0, 'I'},  {"seed", 1, 0, 'S'},
                                       {"drop-every", 1, 0, 1},  {"delay-answers", 1, 0, 2},
                                       {"no-answer", 1, 0, 3},   {"duplicate", 1, 0, 4},
                                       {"malformed", 1, 0, 5},   {"clock-skew", 1, 0, 6},
                                       {"per-process", 1, 0, 7}, /* hidden: tests */
                                       {"help", 0, 0, 'h'},      {0, 0, 0, 0}};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
        switch (ch) {
        case 'u':
            o.url = optarg;
            break;
        case 'i':
            o.id = optarg;
            break;
        case 'o':
            if (lw_ocpp_version_parse(lw_str_c(optarg), &o.ver) != 0) {
                fprintf(stderr, "sim: unknown OCPP version %s\n", optarg);
                return 2;
            }
            have_ver = true;
            break;
        case 'c':
            o.connectors = atoi(optarg);
            break;
        case 'n':
            o.count = atoi(optarg);
            break;
        case 'p':
            o.password = optarg;
            break;
        case 'A':
            o.ca = optarg;
            break;
        case 'C':
            o.cert = optarg;
            break;
        case 'K':
            o.key = optarg;
            break;
        case 's':
            o.scenario = optarg;
            break;
        case 'd':
            o.duration_s = atof(optarg);
            break;
        case 'j':
            o.journal_dir = optarg;
            break;
        case 'I':
            o.insecure = true;
            break;
        case 'S':
            o.seed = (uint32_t)strtoul(optarg, NULL, 10);
            break;
        case 'v':
            o.verbose++;
            break;
        case 1:
            o.drop_every_s = atof(optarg);
            break;
        case 2:
            o.delay_ms = (uint64_t)atoll(optarg);
            break;
        case 3:
            o.no_answer_p = atof(optarg);
            break;
        case 4:
            o.duplicate_p = atof(optarg);
            break;
        case 5:
            o.malformed_p = atof(optarg);
            break;
        case 6:
            o.skew_ms = atoll(optarg);
            break;
        case 7:
            per_proc_max = atol(optarg);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!o.url || !o.id || !have_ver || o.connectors < 1 ||
        o.connectors > LW_STATION_CONNECTORS_MAX || o.count < 1 || (o.cert && !o.key)) {
        usage(stderr);
        return 2;
    }
    if (strncmp(o.url, "ws://", 5) != 0 && strncmp(o.url, "wss://", 6) != 0) {
        fprintf(stderr, "sim: --url must be ws:// or wss://\n");
        return 2;
    }
    if (o.journal_dir) mkdir(o.journal_dir, 0755);
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* one socket (and one journal file) per station, plus room for the loop's own */
    struct rlimit rl;
    long per_proc = 20000;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        if (rl.rlim_cur < rl.rlim_max) {
            rl.rlim_cur = rl.rlim_max;
            setrlimit(RLIMIT_NOFILE, &rl);
            getrlimit(RLIMIT_NOFILE, &rl);
        }
        per_proc = ((long)rl.rlim_cur - 64) / (o.journal_dir ? 2 : 1);
    }
    if (per_proc_max > 0 && per_proc_max < per_proc) per_proc = per_proc_max;
    if (per_proc < 1) per_proc = 1;
    if (o.count <= per_proc) return run_range(&o, 0, o.count, -1) ? 1 : 0;
    /* beyond the open-file limit: fork one process per slice, each reporting its
     * statistics through its own pipe */
    int procs = (int)((o.count + per_proc - 1) / per_proc);
    fprintf(stderr, "sim: %d stations over %d processes (%ld each)\n", o.count, procs, per_proc);
    fflush(NULL);
    uint64_t started = now_ms();
    pid_t *pids = calloc((size_t)procs, sizeof *pids);
    int *fds = calloc((size_t)procs, sizeof *fds);
    lw_buf_t *bufs = calloc((size_t)procs, sizeof *bufs);
    if (!pids || !fds || !bufs) {
        free(pids);
        free(fds);
        free(bufs);
        return 1;
    }
    /* the parent only waits; SIGINT/SIGTERM sent to it are passed on to the children, which
     * stop and report (no SA_RESTART: poll below returns EINTR) */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_parent_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    for (int p = 0; p < procs; p++) {
        int first = (int)(p * per_proc);
        int n = (int)((o.count - first) < per_proc ? (o.count - first) : per_proc);
        int pfd[2];
        fds[p] = -1;
        lw_buf_init(&bufs[p], sizeof(stats_t) + 4000000 * sizeof(double));
        if (pipe(pfd) != 0) {
            fprintf(stderr, "sim: pipe: %s\n", strerror(errno));
            pids[p] = -1;
            continue;
        }
        pid_t pid = fork();
        if (pid == 0) {
            signal(SIGINT, SIG_DFL);
            signal(SIGTERM, SIG_DFL);
            close(pfd[0]);
            for (int q = 0; q < p; q++)
                if (fds[q] >= 0) close(fds[q]);
            int crc = run_range(&o, first, n, pfd[1]);
            close(pfd[1]);
            _exit(crc ? 1 : 0);
        }
        close(pfd[1]);
        pids[p] = pid;
        if (pid < 0) {
            close(pfd[0]);
            continue;
        }
        fds[p] = pfd[0];
    }
    /* read every pipe to its end (a child blocks on a full pipe otherwise) */
    for (;;) {
        struct pollfd pf[64];
        int idx[64], np = 0;
        for (int p = 0; p < procs && np < 64; p++)
            if (fds[p] >= 0) {
                pf[np].fd = fds[p];
                pf[np].events = POLLIN;
                idx[np++] = p;
            }
        if (!np) break;
        if (parent_signal) {
            for (int p = 0; p < procs; p++)
                if (pids[p] > 0) kill(pids[p], parent_signal);
            parent_signal = 0;
        }
        if (poll(pf, (nfds_t)np, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int k = 0; k < np; k++) {
            if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            int p = idx[k];
            char chunk[65536];
            ssize_t r = read(fds[p], chunk, sizeof chunk);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0 || lw_buf_append(&bufs[p], chunk, (size_t)r) != 0) {
                close(fds[p]);
                fds[p] = -1;
            }
        }
    }
    int rc = 0;
    stats_t total;
    memset(&total, 0, sizeof total);
    int reported = 0;
    for (int p = 0; p < procs; p++) {
        int status = 0;
        if (pids[p] <= 0 || waitpid(pids[p], &status, 0) <= 0 || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
            rc = 1;
        if (merge_stats(&total, &bufs[p]) == 0)
            reported++;
        else
            fprintf(stderr, "sim: process %d reported no statistics\n", p);
        lw_buf_free(&bufs[p]);
    }
    print_stats_of(&total, o.count, (double)(now_ms() - started) / 1000.0, "sim: total", true);
    fprintf(stderr, "sim: total over %d/%d processes\n", reported, procs);
    free(total.lat);
    free(bufs);
    free(fds);
    free(pids);
    return rc;
}
