/*
 * test_ws_loop.c — loopback integration tests of lib/transport on one libuv loop: our
 * server and our client on 127.0.0.1 (ephemeral ports): open, echo of many sizes, close
 * codes, synchronous and asynchronous upgrade decisions, 401 rejection, keepalive timeout
 * of a silent peer, TLS and mutual TLS (certificates made with the openssl command in a
 * temp dir), TLS records split across reads or left unread while an upgrade decision is
 * pending, HTTP request/response with keep-alive, SSE streaming, several loops on one port
 * with SO_REUSEPORT and posting across threads.
 */
#include "ladewerk/net.h"
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>

static uv_loop_t uvl;
static lw_net_loop_t *nl;

/* ---- server side ---------------------------------------------------------------------------- */

typedef struct {
    int opened, closed, last_code, upgrades;
    char last_reason[128];
    char cn[64];
    int cn_rc;
    char target[64];
    lw_conn_t *deferred;
    uv_timer_t defer_timer;
} srv_state_t;

static srv_state_t S;

static void srv_decide(lw_conn_t *c, const lw_ws_upgrade_t *req)
{
    lw_str_t proto = LW_STR_NULL;
    for (size_t i = 0; i < req->nprotocols; i++)
        if (lw_str_eq_c(req->protocols[i], "ocpp1.6")) proto = req->protocols[i];
    LW_CHECK_INT(lw_ws_accept(c, proto), 0);
}

static void on_defer_timer(uv_timer_t *t)
{
    /* the decision arrives after the callback returned (like a password lookup) */
    lw_conn_t *c = S.deferred;
    lw_str_t target = lw_conn_target(c);
    LW_CHECK(lw_str_eq_c(target, "/ocpp/async"));
    lw_str_t proto = LW_STR("ocpp1.6");
    LW_CHECK_INT(lw_ws_accept(c, proto), 0);
    LW_CHECK_INT(lw_ws_accept(c, proto), LW_EINVAL); /* no second decision */
}

static void srv_on_upgrade(lw_conn_t *c, const lw_ws_upgrade_t *req)
{
    S.upgrades++;
    char path[64];
    int n = lw_http_path_decode(req->target, path, sizeof path);
    LW_CHECK(n > 0);
    snprintf(S.target, sizeof S.target, "%s", path);
    S.cn_rc = lw_conn_peer_cn(c, S.cn, sizeof S.cn);
    if (strcmp(path, "/ocpp/deny") == 0) {
        LW_CHECK_INT(lw_ws_reject(c, 401, "WWW-Authenticate: Basic realm=\"ladewerk\"\r\n"), 0);
        return;
    }
    if (strcmp(path, "/ocpp/async") == 0) {
        S.deferred = c;
        uv_timer_start(&S.defer_timer, on_defer_timer, 5, 0);
        return;
    }
    if (strcmp(path, "/ocpp/CP 1") == 0) {
        LW_CHECK(lw_str_eq_c(req->authorization, "Basic Q1AxOnNlY3JldA=="));
        LW_CHECK(lw_str_eq_c(lw_conn_authorization(c), "Basic Q1AxOnNlY3JldA=="));
        char ip[64];
        LW_CHECK_INT(lw_conn_peer_ip(c, ip, sizeof ip), 0);
        LW_CHECK_STR(ip, "127.0.0.1");
    }
    srv_decide(c, req);
}

static void srv_on_open(lw_conn_t *c, lw_str_t proto)
{
    S.opened++;
    LW_CHECK(lw_str_eq_c(proto, "ocpp1.6"));
}

static void srv_on_message(lw_conn_t *c, lw_str_t data, bool binary)
{
    /* echo; "close:<code>" makes the server close */
    if (data.len > 6 && memcmp(data.p, "close:", 6) == 0) {
        LW_CHECK_INT(lw_ws_close(c, atoi(data.p + 6), "server says bye"), 0);
        return;
    }
    int rc = binary ? lw_ws_send_binary(c, data.p, data.len) : lw_ws_send_text(c, data.p, data.len);
    LW_CHECK_INT(rc, 0);
}

static void srv_on_close(lw_conn_t *c, int code, lw_str_t reason)
{
    S.closed++;
    S.last_code = code;
    snprintf(S.last_reason, sizeof S.last_reason, "%.*s", LW_STR_FMT(reason));
}

static const lw_net_cbs_t srv_cbs = {srv_on_upgrade, srv_on_open, srv_on_message, srv_on_close,
                                     NULL};

/* ---- client side --------------------------------------------------------------------------- */

typedef struct {
    int opened, closed, code, got, want;
    char proto[32];
    char reason[128];
    int http_status;
    size_t next_size;
    const size_t *sizes;
    size_t nsizes, idx;
    char *expect;
    bool close_after;
    char cn[64];
    int cn_rc;
} cli_state_t;

static char *pattern(size_t n)
{
    char *p = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        p[i] = (char)('A' + (i * 7) % 26);
    p[n] = 0;
    return p;
}

static void cli_send_next(lw_conn_t *c, cli_state_t *st)
{
    free(st->expect);
    st->expect = NULL;
    if (st->idx == st->nsizes) {
        if (st->close_after) LW_CHECK_INT(lw_ws_close(c, 1000, "done"), 0);
        return;
    }
    size_t n = st->sizes[st->idx++];
    st->expect = pattern(n);
    st->next_size = n;
    LW_CHECK_INT(lw_ws_send_text(c, st->expect, n), 0);
}

static void cli_on_open(lw_conn_t *c, lw_str_t proto)
{
    cli_state_t *st = lw_conn_data(c);
    st->opened++;
    snprintf(st->proto, sizeof st->proto, "%.*s", LW_STR_FMT(proto));
    st->cn_rc = lw_conn_peer_cn(c, st->cn, sizeof st->cn);
    if (st->nsizes) cli_send_next(c, st);
}

static void cli_on_message(lw_conn_t *c, lw_str_t data, bool binary)
{
    cli_state_t *st = lw_conn_data(c);
    st->got++;
    LW_CHECK(!binary);
    if (st->expect)
        LW_CHECK(data.len == st->next_size && memcmp(data.p, st->expect, data.len) == 0);
    cli_send_next(c, st);
}

static void cli_on_close(lw_conn_t *c, int code, lw_str_t reason)
{
    cli_state_t *st = lw_conn_data(c);
    st->closed++;
    st->code = code;
    st->http_status = lw_conn_http_status(c);
    snprintf(st->reason, sizeof st->reason, "%.*s", LW_STR_FMT(reason));
    free(st->expect);
    st->expect = NULL;
}

static const lw_net_cbs_t cli_cbs = {NULL, cli_on_open, cli_on_message, cli_on_close, NULL};

/* Runs the loop until *flag reaches want (bounded by the test alarm). */
static void run_until(int *flag, int want)
{
    while (*flag < want)
        uv_run(&uvl, UV_RUN_ONCE);
}

static lw_conn_t *dial(const char *url, cli_state_t *st, lw_tls_t *tls)
{
    static const char *protos[] = {"ocpp2.0.1", "ocpp1.6"};
    lw_client_config_t cc = {
        .url = url, .protocols = protos, .nprotocols = 2, .tls = tls, .max_message = 2 << 20};
    if (strstr(url, "CP%201")) cc.authorization = "Basic Q1AxOnNlY3JldA==";
    lw_conn_t *c = NULL;
    LW_CHECK_INT(lw_ws_connect(nl, &cc, &cli_cbs, st, &c), 0);
    return c;
}

static lw_server_t *start_server(lw_tls_t *tls, uint32_t ping_ms, uint32_t pong_ms)
{
    lw_server_config_t sc = {.host = "127.0.0.1",
                             .port = 0,
                             .tls = tls,
                             .max_message = 2 << 20,
                             .ping_interval_ms = ping_ms,
                             .pong_timeout_ms = pong_ms};
    lw_server_t *s = NULL;
    LW_CHECK_INT(lw_server_start(nl, &sc, &srv_cbs, NULL, &s), 0);
    LW_CHECK(lw_server_port(s) > 0);
    return s;
}

/* ---- burst: many messages sent at once, more than the socket takes -------------------------- */

/* The write path tries the socket first and queues only the rest; once something is queued,
 * later sends must queue behind it. A burst far larger than the socket buffers, echoed back,
 * shows both the queueing and the order (each message carries its sequence number). Sizes
 * straddle the loop's frame scratch buffer (a masked client frame of 16376 bytes plus its
 * 8-byte header fits, 16377 does not). */
static const size_t burst_sizes[] = {30, 16376, 16377, 100000, 2, 125, 126};
static int burst_n; /* messages: about twice the kernel's largest send buffer, in bytes */

static int burst_count(void)
{
    long wmax = 4 << 20;
    FILE *f = fopen("/proc/sys/net/ipv4/tcp_wmem", "r");
    if (f) {
        long a, b, c;
        if (fscanf(f, "%ld %ld %ld", &a, &b, &c) == 3 && c > 0) wmax = c;
        fclose(f);
    }
    size_t cycle = 0, k = sizeof burst_sizes / sizeof burst_sizes[0];
    for (size_t i = 0; i < k; i++)
        cycle += burst_sizes[i];
    return (int)(((size_t)wmax * 2 + (1u << 20)) / cycle * k);
}

typedef struct {
    int opened, closed, got, bad;
    size_t queued_after_burst;
} burst_state_t;

static void burst_fill(char *p, size_t n, int seq)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (char)('a' + (i * 13 + (size_t)seq) % 26);
}

static void burst_on_open(lw_conn_t *c, lw_str_t proto)
{
    burst_state_t *st = lw_conn_data(c);
    st->opened++;
    char *buf = malloc(100000);
    for (int i = 0; i < burst_n; i++) {
        size_t n = burst_sizes[i % (sizeof burst_sizes / sizeof burst_sizes[0])];
        burst_fill(buf, n, i);
        LW_CHECK_INT(lw_ws_send_text(c, buf, n), 0);
    }
    free(buf);
    st->queued_after_burst = lw_conn_write_queue(c);
}

static void burst_on_message(lw_conn_t *c, lw_str_t data, bool binary)
{
    burst_state_t *st = lw_conn_data(c);
    int i = st->got++;
    size_t n = burst_sizes[i % (sizeof burst_sizes / sizeof burst_sizes[0])];
    char *want = malloc(n);
    burst_fill(want, n, i);
    if (binary || data.len != n || memcmp(data.p, want, n) != 0) {
        if (!st->bad) LW_FAILF("burst message %d: got %zu bytes, want %zu", i, data.len, n);
        st->bad++;
    }
    free(want);
    if (st->got == burst_n) LW_CHECK_INT(lw_ws_close(c, 1000, "burst done"), 0);
}

static void burst_on_close(lw_conn_t *c, int code, lw_str_t reason)
{
    burst_state_t *st = lw_conn_data(c);
    st->closed++;
    LW_CHECK_INT(code, 1000);
}

static const lw_net_cbs_t burst_cbs = {NULL, burst_on_open, burst_on_message, burst_on_close, NULL};

static void burst(const char *url, lw_tls_t *tls)
{
    burst_n = burst_count();
    static const char *protos[] = {"ocpp1.6"};
    lw_client_config_t cc = {
        .url = url, .protocols = protos, .nprotocols = 1, .tls = tls, .max_message = 2 << 20};
    burst_state_t st = {0};
    lw_conn_t *c = NULL;
    LW_CHECK_INT(lw_ws_connect(nl, &cc, &burst_cbs, &st, &c), 0);
    run_until(&st.closed, 1);
    LW_CHECK_INT(st.opened, 1);
    LW_CHECK_INT(st.got, burst_n);
    LW_CHECK_INT(st.bad, 0);
    /* the burst outgrew the socket: the rest waited in the queue */
    LW_CHECK(st.queued_after_burst > 0);
}

LW_TEST(burst_queues_in_order)
{
    memset(&S, 0, sizeof S);
    lw_server_t *s = start_server(NULL, 0, 0);
    char url[128];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/ocpp/burst", lw_server_port(s));
    burst(url, NULL);
    run_until(&S.closed, 1);
    LW_CHECK_INT(S.last_code, 1000);
    lw_server_close(s);
    for (int i = 0; i < 20; i++)
        uv_run(&uvl, UV_RUN_NOWAIT);
}

/* Accepted connections have Nagle off (answers are small and go out at once): set on the
 * listening socket, which Linux hands down to every accepted one. Found among this
 * process's descriptors: TCP sockets bound to the server's port that are not listening. */
LW_TEST(accepted_sockets_have_nodelay)
{
    memset(&S, 0, sizeof S);
    lw_server_t *s = start_server(NULL, 0, 0);
    int port = lw_server_port(s);
    int cfd[3];
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    for (int i = 0; i < 3; i++) {
        cfd[i] = socket(AF_INET, SOCK_STREAM, 0);
        LW_CHECK_INT(connect(cfd[i], (struct sockaddr *)&a, sizeof a), 0);
    }
    for (int i = 0; i < 50; i++)
        uv_run(&uvl, UV_RUN_NOWAIT);
    int accepted = 0, nodelay = 0;
    for (int fd = 3; fd < 1024; fd++) {
        struct sockaddr_in me;
        socklen_t ml = sizeof me;
        int listening = 0, nd = 0;
        socklen_t ol = sizeof listening;
        if (getsockname(fd, (struct sockaddr *)&me, &ml) || me.sin_family != AF_INET ||
            ntohs(me.sin_port) != port)
            continue;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &ol) || listening) continue;
        ol = sizeof nd;
        accepted++;
        if (!getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nd, &ol) && nd) nodelay++;
    }
    LW_CHECK_INT(accepted, 3);
    LW_CHECK_INT(nodelay, 3);
    for (int i = 0; i < 3; i++)
        close(cfd[i]);
    lw_server_close(s);
    for (int i = 0; i < 20; i++)
        uv_run(&uvl, UV_RUN_NOWAIT);
}

/* A plain client of our own (blocking socket, in a thread): the upgrade request and a large
 * masked text frame right behind it, while the server defers its decision (/ocpp/async). Plain
 * TCP keeps reading while the application decides, so the frame's bytes land behind the
 * request in the connection's input buffer, which grows (and moves) before the accept: the
 * 101 must still carry the key's accept value and the offered subprotocol, and the frame its
 * echo. */
/* A blocking TCP socket connected to 127.0.0.1:port (TCP_NODELAY if nodelay), or -1. */
static int connect_local(int port, bool nodelay)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (fd < 0) return -1;
    if (nodelay) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) return fd;
    close(fd);
    return -1;
}

typedef struct {
    int port;
    size_t size;
    int ok_head, echoed, done;
} early_t;

static void *early_client(void *arg)
{
    early_t *t = arg;
    int fd = connect_local(t->port, false);
    size_t cap = t->size + 4096, have = 0;
    char *in = malloc(cap), *out = malloc(t->size + 512);
    if (fd < 0) goto out;
    static const char up[] =
        "GET /ocpp/async HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, ocpp1.6\r\n\r\n";
    size_t n = strlen(up);
    memcpy(out, up, n);
    uint8_t mask[4] = {9, 8, 7, 6};
    char *p = pattern(t->size);
    size_t hl = lw_ws_frame_header((uint8_t *)out + n, true, LW_WS_OP_TEXT, t->size, mask);
    memcpy(out + n + hl, p, t->size);
    lw_ws_mask((uint8_t *)out + n + hl, t->size, mask, 0);
    free(p);
    /* the request and the frame's first bytes, then (while the decision is still deferred)
     * the rest: the server's buffer holds the request when the rest makes it grow */
    for (size_t at = 0, len = n + hl + t->size; at < len;) {
        size_t k = at < n ? n + hl + 100 - at : len - at;
        ssize_t w = send(fd, out + at, k, MSG_NOSIGNAL);
        if (w <= 0) goto out;
        at += (size_t)w;
        if (at == n + hl + 100) usleep(1000);
    }
    char *end = NULL;
    while (!(end = memmem(in, have, "\r\n\r\n", 4))) {
        ssize_t r = recv(fd, in + have, cap - have, 0);
        if (r <= 0) goto out;
        have += (size_t)r;
    }
    size_t head = (size_t)(end + 4 - in);
    /* RFC 6455 §1.3: the accept value of the sample key */
    t->ok_head = !memcmp(in, "HTTP/1.1 101", 12) &&
                 memmem(in, head, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n", 52) &&
                 memmem(in, head, "Sec-WebSocket-Protocol: ocpp1.6\r\n", 33);
    memmove(in, in + head, have - head);
    have -= head;
    size_t want = t->size + (t->size < 126 ? 2 : t->size < 65536 ? 4 : 10);
    while (have < want) {
        ssize_t r = recv(fd, in + have, cap - have, 0);
        if (r <= 0) goto out;
        have += (size_t)r;
    }
    char *exp = pattern(t->size);
    t->echoed = (uint8_t)in[0] == 0x81 && !memcmp(in + want - t->size, exp, t->size);
    free(exp);
out:
    free(in);
    free(out);
    if (fd >= 0) close(fd);
    __atomic_store_n(&t->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

LW_TEST(deferred_upgrade_with_frames_behind_it)
{
    memset(&S, 0, sizeof S);
    uv_timer_init(&uvl, &S.defer_timer);
    lw_server_t *s = start_server(NULL, 0, 0);
    early_t t = {.port = lw_server_port(s), .size = 60000};
    pthread_t th;
    pthread_create(&th, NULL, early_client, &t);
    while (!__atomic_load_n(&t.done, __ATOMIC_SEQ_CST))
        uv_run(&uvl, UV_RUN_NOWAIT), usleep(200);
    pthread_join(th, NULL);
    LW_CHECK_INT(t.ok_head, 1);
    LW_CHECK_INT(t.echoed, 1);
    LW_CHECK_INT(S.opened, 1);
    lw_server_close(s);
    uv_close((uv_handle_t *)&S.defer_timer, NULL);
    for (int i = 0; i < 20; i++)
        uv_run(&uvl, UV_RUN_NOWAIT);
}

LW_TEST(echo_many_sizes_and_close)
{
    memset(&S, 0, sizeof S);
    uv_timer_init(&uvl, &S.defer_timer);
    lw_server_t *s = start_server(NULL, 0, 0);
    char url[128];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/ocpp/CP%%201", lw_server_port(s));
    static const size_t sizes[] = {1,     2,     125,   126,   127,   1000,
                                   16376, 16377, 65535, 65536, 70000, 1 << 20};
    cli_state_t st = {
        .sizes = sizes, .nsizes = sizeof sizes / sizeof sizes[0], .close_after = true};
    dial(url, &st, NULL);
    run_until(&st.closed, 1);
    LW_CHECK_INT(st.opened, 1);
    LW_CHECK_STR(st.proto, "ocpp1.6");
    LW_CHECK_INT(st.got, (int)(sizeof sizes / sizeof sizes[0]));
    LW_CHECK_INT(st.code, 1000);
    LW_CHECK_STR(st.reason, "done");
    run_until(&S.closed, 1);
    LW_CHECK_INT(S.opened, 1);
    LW_CHECK_INT(S.last_code, 1000); /* the client's code, echoed */
    LW_CHECK_STR(S.target, "/ocpp/CP 1");
    LW_CHECK_INT(S.cn_rc, LW_ENOTFOUND);

    /* server-initiated close with 1008 */
    cli_state_t st2 = {0};
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/ocpp/x", lw_server_port(s));
    lw_conn_t *c = dial(url, &st2, NULL);
    run_until(&st2.opened, 1);
    LW_CHECK_INT(lw_ws_send_text(c, "close:1008", 10), 0);
    run_until(&st2.closed, 1);
    LW_CHECK_INT(st2.code, 1008);
    LW_CHECK_STR(st2.reason, "server says bye");
    run_until(&S.closed, 2);
    LW_CHECK_INT(S.last_code, 1008);

    /* asynchronous decision */
    cli_state_t st3 = {.close_after = true};
    static const size_t one[] = {5};
    st3.sizes = one;
    st3.nsizes = 1;
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/ocpp/async", lw_server_port(s));
    dial(url, &st3, NULL);
    run_until(&st3.closed, 1);
    LW_CHECK_INT(st3.opened, 1);
    LW_CHECK_INT(st3.got, 1);
    LW_CHECK_INT(st3.code, 1000);

    /* rejection with 401 */
    cli_state_t st4 = {0};
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/ocpp/deny", lw_server_port(s));
    dial(url, &st4, NULL);
    run_until(&st4.closed, 1);
    LW_CHECK_INT(st4.opened, 0);
    LW_CHECK_INT(st4.code, 1006);
    LW_CHECK_INT(st4.http_status, 401);

    /* connection refused: on_close still fires once */
    cli_state_t st5 = {0};
    lw_server_close(s);
    dial(url, &st5, NULL);
    run_until(&st5.closed, 1);
    LW_CHECK_INT(st5.code, 1006);
    LW_CHECK(strstr(st5.reason, "connect failed") != NULL);
    uv_close((uv_handle_t *)&S.defer_timer, NULL);
    uv_run(&uvl, UV_RUN_NOWAIT); /* S is reused: let the close finish */
}

LW_TEST(ping_timeout_closes_silent_peer)
{
    memset(&S, 0, sizeof S);
    lw_server_t *s = start_server(NULL, 50, 1000);
    char url[128];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/ocpp/silent", lw_server_port(s));
    static const char *protos[] = {"ocpp1.6"};
    cli_state_t silent = {0}, healthy = {0};
    lw_client_config_t cc = {
        .url = url, .protocols = protos, .nprotocols = 1, .no_auto_pong = true};
    lw_conn_t *c1;
    LW_CHECK_INT(lw_ws_connect(nl, &cc, &cli_cbs, &silent, &c1), 0);
    cc.no_auto_pong = false;
    lw_conn_t *c2;
    LW_CHECK_INT(lw_ws_connect(nl, &cc, &cli_cbs, &healthy, &c2), 0);
    run_until(&S.closed, 1);
    LW_CHECK_INT(S.last_code, 1006);
    LW_CHECK_STR(S.last_reason, "ping timeout");
    run_until(&silent.closed, 1);
    LW_CHECK_INT(healthy.closed, 0); /* the one answering pings is still there */
    LW_CHECK_INT(S.opened, 2);
    lw_ws_close(c2, 1001, "going");
    run_until(&healthy.closed, 1);
    LW_CHECK_INT(healthy.code, 1001);
    lw_server_close(s);
}

/* ---- TLS ------------------------------------------------------------------------------------ */

static char tmpdir[64];

static int sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    if (rc) printf("  command failed (%d): %s\n", rc, cmd);
    return rc;
}

/* CA, server cert (CN=localhost, SAN IP 127.0.0.1), client cert CN=CP001, and a rogue client
 * cert from another CA; ECDSA P-256. Keys stay in the temp dir. */
static int make_certs(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lwtlsXXXXXX");
    if (!mkdtemp(tmpdir)) return -1;
    const char *d = tmpdir;
    const char *q = ">/dev/null 2>&1";
    if (sh("cd %s && openssl ecparam -name prime256v1 -genkey -noout -out ca.key %s", d, q) ||
        sh("cd %s && openssl req -x509 -new -key ca.key -subj /CN=TestCA -days 2 -out ca.pem %s", d,
           q) ||
        sh("cd %s && openssl ecparam -name prime256v1 -genkey -noout -out rca.key %s", d, q) ||
        sh("cd %s && openssl req -x509 -new -key rca.key -subj /CN=RogueCA -days 2 -out rca.pem %s",
           d, q) ||
        sh("cd %s && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > srv.ext", d))
        return -1;
    struct {
        const char *name, *cn, *ca, *ext;
    } certs[] = {{"srv", "localhost", "ca", "-extfile srv.ext"},
                 {"cli", "CP001", "ca", ""},
                 {"rogue", "CP001", "rca", ""}};
    for (int i = 0; i < 3; i++)
        if (sh("cd %s && openssl ecparam -name prime256v1 -genkey -noout -out %s.key %s", d,
               certs[i].name, q) ||
            sh("cd %s && openssl req -new -key %s.key -subj /CN=%s -out %s.csr %s", d,
               certs[i].name, certs[i].cn, certs[i].name, q) ||
            sh("cd %s && openssl x509 -req -in %s.csr -CA %s.pem -CAkey %s.key -CAcreateserial "
               "-days 2 %s -out %s.pem %s",
               d, certs[i].name, certs[i].ca, certs[i].ca, certs[i].ext, certs[i].name, q))
            return -1;
    return 0;
}

static lw_tls_t *client_tls(const char *cert)
{
    char ca[128], crt[128], key[128];
    snprintf(ca, sizeof ca, "%s/ca.pem", tmpdir);
    snprintf(crt, sizeof crt, "%s/%s.pem", tmpdir, cert ? cert : "");
    snprintf(key, sizeof key, "%s/%s.key", tmpdir, cert ? cert : "");
    lw_tls_config_t tc = {.ca_file = ca, .verify = LW_TLS_VERIFY_REQUIRED};
    if (cert) {
        tc.cert_file = crt;
        tc.key_file = key;
    }
    int err;
    lw_tls_t *t = lw_tls_client_new(&tc, &err);
    LW_CHECK_INT(err, 0);
    return t;
}

/* A TLS client of our own (OpenSSL over a blocking socket, in a thread) that controls how the
 * ciphertext reaches the server: `chunk` bytes per send() with TCP_NODELAY (1 = a record
 * arrives across many reads), or 0 = the upgrade request and the first frame as two TLS
 * records in one send(), so the server reads the frame's record while the upgrade decision
 * is still pending (/ocpp/async defers it) and must keep that ciphertext until the decision.
 * It sends the upgrade and one masked text frame per size and checks each echo. */
typedef struct {
    int port;
    size_t chunk;
    const size_t *sizes;
    size_t nsizes;
    int echoed, done;
} tls_raw_t;

static int raw_send(int fd, BIO *wb, size_t chunk)
{
    char buf[4096];
    int n;
    while ((n = BIO_read(wb, buf, sizeof buf)) > 0)
        for (int at = 0; at < n;) {
            int k = chunk && (size_t)(n - at) > chunk ? (int)chunk : n - at;
            ssize_t w = send(fd, buf + at, (size_t)k, MSG_NOSIGNAL);
            if (w <= 0) return -1;
            at += (int)w;
        }
    return 0;
}

/* Reads from the socket until OpenSSL has plaintext; returns its length in out, or -1. */
static int raw_read(SSL *ssl, int fd, BIO *rb, char *out, int cap)
{
    for (;;) {
        int n = SSL_read(ssl, out, cap);
        if (n > 0) return n;
        if (SSL_get_error(ssl, n) != SSL_ERROR_WANT_READ) return -1;
        char buf[4096];
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r <= 0) return -1;
        BIO_write(rb, buf, (int)r);
    }
}

static void *tls_raw_client(void *arg)
{
    tls_raw_t *t = arg;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = SSL_new(ctx);
    BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl, rb, wb);
    SSL_set_connect_state(ssl);
    int fd = connect_local(t->port, true);
    char *in = malloc(1 << 17);
    size_t have = 0;
    if (fd < 0) goto out;
    for (;;) {
        int r = SSL_do_handshake(ssl);
        if (raw_send(fd, wb, t->chunk)) goto out;
        if (r == 1) break;
        if (SSL_get_error(ssl, r) != SSL_ERROR_WANT_READ) goto out;
        char buf[4096];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) goto out;
        BIO_write(rb, buf, (int)n);
    }
    static const char up[] =
        "GET /ocpp/async HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n";
    SSL_write(ssl, up, (int)strlen(up));
    for (size_t i = 0; i < t->nsizes; i++) {
        size_t n = t->sizes[i];
        uint8_t *f = malloc(n + 14), mask[4] = {1, 2, 3, 4};
        char *p = pattern(n);
        size_t hl = lw_ws_frame_header(f, true, LW_WS_OP_TEXT, n, mask);
        memcpy(f + hl, p, n);
        lw_ws_mask(f + hl, n, mask, 0);
        SSL_write(ssl, f, (int)(hl + n)); /* a record (or more) of its own */
        free(f);
        free(p);
    }
    if (raw_send(fd, wb, t->chunk)) goto out;
    /* the 101 head, then one echo per size, in order (all sizes < 65536: 2- or 4-byte
     * headers) */
    bool head_done = false;
    for (size_t i = 0; i < t->nsizes;) {
        if (!head_done) {
            char *end = memmem(in, have, "\r\n\r\n", 4);
            if (end) {
                if (memcmp(in, "HTTP/1.1 101", 12) != 0) goto out;
                size_t hl = (size_t)(end + 4 - in);
                memmove(in, in + hl, have - hl);
                have -= hl;
                head_done = true;
                continue;
            }
        } else if (have >= 4 || (have >= 2 && ((uint8_t)in[1] & 0x7f) < 126)) {
            size_t len = (uint8_t)in[1] & 0x7f, hl = 2;
            if (len == 126) {
                len = ((size_t)(uint8_t)in[2] << 8) | (uint8_t)in[3];
                hl = 4;
            }
            if (hl + len <= have) {
                char *want = pattern(t->sizes[i]);
                if ((uint8_t)in[0] == 0x81 && len == t->sizes[i] && !memcmp(in + hl, want, len))
                    t->echoed++;
                free(want);
                memmove(in, in + hl + len, have - hl - len);
                have -= hl + len;
                i++;
                continue;
            }
        }
        int n = raw_read(ssl, fd, rb, in + have, (int)((1 << 17) - have));
        if (n <= 0) goto out;
        have += (size_t)n;
    }
out:
    free(in);
    if (fd >= 0) close(fd);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    __atomic_store_n(&t->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void tls_raw(int port, size_t chunk, const size_t *sizes, size_t nsizes)
{
    tls_raw_t t = {.port = port, .chunk = chunk, .sizes = sizes, .nsizes = nsizes};
    int opened = S.opened;
    pthread_t th;
    pthread_create(&th, NULL, tls_raw_client, &t);
    while (!__atomic_load_n(&t.done, __ATOMIC_SEQ_CST))
        uv_run(&uvl, UV_RUN_NOWAIT), usleep(200);
    pthread_join(th, NULL);
    LW_CHECK_INT(S.opened, opened + 1);
    LW_CHECK_INT(t.echoed, (int)nsizes);
}

LW_TEST(tls_and_mutual_tls)
{
    if (make_certs()) {
        LW_FAILF("could not make certificates with openssl");
        return;
    }
    char ca[128], crt[128], key[128];
    snprintf(ca, sizeof ca, "%s/ca.pem", tmpdir);
    snprintf(crt, sizeof crt, "%s/srv.pem", tmpdir);
    snprintf(key, sizeof key, "%s/srv.key", tmpdir);
    int err;
    /* server certificate only */
    lw_tls_config_t tc = {.cert_file = crt, .key_file = key, .verify = LW_TLS_VERIFY_NONE};
    lw_tls_t *stls = lw_tls_server_new(&tc, &err);
    LW_CHECK_INT(err, 0);
    tc.ca_file = ca;
    tc.verify = LW_TLS_VERIFY_REQUIRED;
    lw_tls_t *mtls = lw_tls_server_new(&tc, &err);
    LW_CHECK_INT(err, 0);
    lw_tls_t *cli_plain = client_tls(NULL), *cli_cert = client_tls("cli"),
             *cli_rogue = client_tls("rogue");
    if (!stls || !mtls || !cli_plain || !cli_cert || !cli_rogue) return;

    memset(&S, 0, sizeof S);
    lw_server_t *s1 = start_server(stls, 0, 0);
    char url[128];
    snprintf(url, sizeof url, "wss://127.0.0.1:%d/ocpp/T1", lw_server_port(s1));
    static const size_t sizes[] = {10, 100000};
    cli_state_t st = {.sizes = sizes, .nsizes = 2, .close_after = true};
    dial(url, &st, cli_plain);
    run_until(&st.closed, 1);
    LW_CHECK_INT(st.opened, 1);
    LW_CHECK_INT(st.got, 2);
    LW_CHECK_INT(st.code, 1000);
    LW_CHECK_INT(st.cn_rc, 0);
    LW_CHECK_STR(st.cn, "localhost");
    LW_CHECK_INT(S.cn_rc, LW_ENOTFOUND); /* no client certificate asked */
    burst(url, cli_plain);               /* TLS output queued behind a full socket, in order */
    /* records across many reads; records read while the upgrade decision is pending */
    static const size_t small[] = {11, 300}, big[] = {20000, 5};
    uv_timer_init(&uvl, &S.defer_timer);
    tls_raw(lw_server_port(s1), 1, small, 2);
    tls_raw(lw_server_port(s1), 7, big, 2);
    tls_raw(lw_server_port(s1), 0, small, 2);
    tls_raw(lw_server_port(s1), 0, big, 2);

    /* mutual TLS: the client certificate's CN reaches on_upgrade */
    lw_server_t *s2 = start_server(mtls, 0, 0);
    snprintf(url, sizeof url, "wss://127.0.0.1:%d/ocpp/CP001", lw_server_port(s2));
    cli_state_t st2 = {.sizes = sizes, .nsizes = 1, .close_after = true};
    dial(url, &st2, cli_cert);
    run_until(&st2.closed, 1);
    LW_CHECK_INT(st2.opened, 1);
    LW_CHECK_INT(S.cn_rc, 0);
    LW_CHECK_STR(S.cn, "CP001");

    /* no client certificate, or one from another CA: refused during the TLS handshake */
    int upgrades = S.upgrades;
    cli_state_t st3 = {0}, st4 = {0};
    dial(url, &st3, cli_plain);
    dial(url, &st4, cli_rogue);
    run_until(&st3.closed, 1);
    run_until(&st4.closed, 1);
    LW_CHECK_INT(st3.opened, 0);
    LW_CHECK_INT(st4.opened, 0);
    LW_CHECK_INT(st3.code, 1006);
    LW_CHECK_INT(S.upgrades, upgrades);

    lw_server_close(s1);
    lw_server_close(s2);
    uv_close((uv_handle_t *)&S.defer_timer, NULL);
    for (int i = 0; i < 50; i++)
        uv_run(&uvl, UV_RUN_NOWAIT);
    lw_tls_free(stls);
    lw_tls_free(mtls);
    lw_tls_free(cli_plain);
    lw_tls_free(cli_cert);
    lw_tls_free(cli_rogue);
    sh("rm -rf %s", tmpdir);
}

/* ---- HTTP and SSE ------------------------------------------------------------------------------
 */

typedef struct {
    int port;
    const char *request;
    char resp[8192];
    size_t len;
    int events_before_close; /* SSE: read until this many "data:" lines, then close */
    int done;
} raw_client_t;

static void *raw_client(void *arg)
{
    raw_client_t *r = arg;
    int fd = connect_local(r->port, false);
    if (fd >= 0) {
        (void)!write(fd, r->request, strlen(r->request));
        for (;;) {
            ssize_t n = read(fd, r->resp + r->len, sizeof r->resp - 1 - r->len);
            if (n <= 0) break;
            r->len += (size_t)n;
            r->resp[r->len] = 0;
            if (r->events_before_close) {
                int k = 0;
                for (const char *p = r->resp; (p = strstr(p, "data:")); p++)
                    k++;
                if (k >= r->events_before_close) break;
            }
        }
        close(fd);
    }
    __atomic_store_n(&r->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static int http_closed, sse_code;
static lw_conn_t *sse_conn;
static uv_timer_t sse_timer;
static int sse_n;

static void on_sse_tick(uv_timer_t *t)
{
    char buf[64];
    int n = snprintf(buf, sizeof buf, "data: tick %d\n\n", ++sse_n);
    if (sse_conn) lw_http_stream_write(sse_conn, buf, (size_t)n);
}

static void http_on_request(lw_conn_t *c, const lw_http_request_t *req)
{
    if (lw_str_eq_c(req->target, "/events")) {
        LW_CHECK_INT(lw_http_stream_start(c, 200, "Content-Type: text/event-stream\r\n"), 0);
        sse_conn = c;
        uv_timer_start(&sse_timer, on_sse_tick, 1, 5);
        return;
    }
    char body[256];
    int n = snprintf(body, sizeof body, "{\"method\":\"%.*s\",\"target\":\"%.*s\",\"body\":%zu}",
                     LW_STR_FMT(req->method), LW_STR_FMT(req->target), req->body.len);
    LW_CHECK_INT(lw_http_respond(c, 200, "Content-Type: application/json\r\n", body, (size_t)n), 0);
}

static void http_on_close(lw_conn_t *c, int code, lw_str_t reason)
{
    http_closed++;
    sse_code = code;
    if (c == sse_conn) sse_conn = NULL;
}

static void run_until_done(raw_client_t *r)
{
    while (!__atomic_load_n(&r->done, __ATOMIC_SEQ_CST))
        uv_run(&uvl, UV_RUN_NOWAIT), usleep(1000);
}

LW_TEST(http_requests_and_sse)
{
    lw_net_cbs_t cbs = {.on_request = http_on_request, .on_close = http_on_close};
    lw_server_config_t sc = {.host = "127.0.0.1", .http_body_max = 100};
    lw_server_t *s;
    LW_CHECK_INT(lw_server_start(nl, &sc, &cbs, NULL, &s), 0);
    uv_timer_init(&uvl, &sse_timer);

    /* two pipelined requests on one keep-alive connection; the second closes */
    raw_client_t r = {.port = lw_server_port(s),
                      .request = "POST /api/v1/a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"
                                 "hello"
                                 "GET /api/v1/b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"};
    pthread_t th;
    pthread_create(&th, NULL, raw_client, &r);
    run_until_done(&r);
    pthread_join(th, NULL);
    LW_CHECK(strstr(r.resp, "{\"method\":\"POST\",\"target\":\"/api/v1/a\",\"body\":5}") != NULL);
    LW_CHECK(strstr(r.resp, "{\"method\":\"GET\",\"target\":\"/api/v1/b\",\"body\":0}") != NULL);
    LW_CHECK(strstr(r.resp, "Connection: close") != NULL);

    /* body over the limit → 413; a WebSocket upgrade on an HTTP-only server → 404 */
    raw_client_t r2 = {.port = lw_server_port(s),
                       .request = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n"};
    pthread_create(&th, NULL, raw_client, &r2);
    run_until_done(&r2);
    pthread_join(th, NULL);
    LW_CHECK(strncmp(r2.resp, "HTTP/1.1 413 ", 13) == 0);

    /* SSE: events flow until the client goes away; on_close reports it */
    raw_client_t r3 = {.port = lw_server_port(s),
                       .request = "GET /events HTTP/1.1\r\nHost: x\r\n\r\n",
                       .events_before_close = 3};
    pthread_create(&th, NULL, raw_client, &r3);
    run_until_done(&r3);
    pthread_join(th, NULL);
    LW_CHECK(strncmp(r3.resp, "HTTP/1.1 200 OK\r\n", 17) == 0);
    LW_CHECK(strstr(r3.resp, "text/event-stream") != NULL);
    LW_CHECK(strstr(r3.resp, "data: tick 3") != NULL);
    run_until(&http_closed, 1);
    LW_CHECK_INT(sse_code, 1006);
    uv_timer_stop(&sse_timer);
    uv_close((uv_handle_t *)&sse_timer, NULL);
    lw_server_close(s);
}

/* ---- several loops
 * -------------------------------------------------------------------------------- */

static int shared_port;
static pthread_t loop_threads[2];

static int loop_init(lw_net_loop_t *l, int index, void *ud)
{
    loop_threads[index] = pthread_self();
    lw_server_config_t sc = {.host = "127.0.0.1", .port = shared_port, .reuseport = true};
    lw_server_t *s;
    return lw_server_start(l, &sc, &srv_cbs, NULL, &s);
}

static pthread_t posted_on;
static int posted;

static void posted_fn(void *arg)
{
    posted_on = pthread_self();
    __atomic_store_n(&posted, 1, __ATOMIC_SEQ_CST);
}

LW_TEST(loops_share_port_and_post)
{
    /* find a free port, then bind it twice with SO_REUSEPORT */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    socklen_t al = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &al);
    shared_port = ntohs(a.sin_port);
    close(fd);
    memset(&S, 0, sizeof S);
    int err;
    lw_net_threads_t *t = lw_net_threads_start(2, loop_init, NULL, &err);
    LW_CHECK_INT(err, 0);
    if (!t) return;
    LW_CHECK_INT(lw_net_threads_count(t), 2);
    LW_CHECK_INT(lw_net_loop_post(lw_net_threads_loop(t, 1), posted_fn, NULL), 0);
    while (!__atomic_load_n(&posted, __ATOMIC_SEQ_CST))
        usleep(1000);
    LW_CHECK(pthread_equal(posted_on, loop_threads[1]));
    /* clients from this thread's loop reach the shared port */
    char url[128];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/ocpp/multi", shared_port);
    static const size_t sizes[] = {42};
    cli_state_t st[4];
    for (int i = 0; i < 4; i++) {
        memset(&st[i], 0, sizeof st[i]);
        st[i].sizes = sizes;
        st[i].nsizes = 1;
        st[i].close_after = true;
        dial(url, &st[i], NULL);
    }
    for (int i = 0; i < 4; i++) {
        run_until(&st[i].closed, 1);
        LW_CHECK_INT(st[i].got, 1);
        LW_CHECK_INT(st[i].code, 1000);
    }
    lw_net_threads_stop(t);
}

int main(void)
{
    uv_loop_init(&uvl);
    nl = lw_net_loop_new(&uvl, NULL);
    LW_RUN(echo_many_sizes_and_close);
    LW_RUN(deferred_upgrade_with_frames_behind_it);
    LW_RUN(burst_queues_in_order);
    LW_RUN(accepted_sockets_have_nodelay);
    LW_RUN(ping_timeout_closes_silent_peer);
    LW_RUN(tls_and_mutual_tls);
    LW_RUN(http_requests_and_sse);
    LW_RUN(loops_share_port_and_post);
    lw_net_loop_free(nl);
    uv_run(&uvl, UV_RUN_DEFAULT);
    LW_CHECK_INT(uv_loop_close(&uvl), 0);
    return lw_test_done();
}
