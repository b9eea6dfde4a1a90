/*
 * conn.c — connections on libuv: the listening server (WebSocket upgrades and plain HTTP
 * requests on one port), the WebSocket client, TLS through the loop's BIO, keepalive pings
 * and deadlines. Framing and parsing come from the pure code in ws.c and http.c.
 *
 * Memory: an idle connection is the uv_tcp_t plus this struct (about 500 bytes). Reads land
 * in the loop's shared buffer; a connection owns a buffer only while a head, a request body
 * or a frame is partially received. Writes try the socket first (uv_try_write) from the
 * caller's memory or the loop's scratch buffers; a connection owns write memory only for
 * bytes the kernel did not take yet. TLS adds the SSL object and nothing else: OpenSSL
 * reads ciphertext straight from the loop's read buffer and writes into the loop's cipher
 * buffer through one BIO per loop (a memory BIO pair per connection would keep two buffers
 * as large as the largest flight, about 1.8 KB per connection). Ciphertext OpenSSL did not
 * take (the connection paused for the application's decision) is the only TLS input a
 * connection keeps (`carry`).
 *
 * Closing: teardown() stops reading and calls uv_close(); the close callback reports
 * on_close and frees. A connection waiting for the application's decision (upgrade or
 * request) is "held": its socket may close, but the struct lives until the decision.
 */
#include "net_int.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum conn_state {
    ST_CONNECTING, /* client: resolving or TCP connecting */
    ST_HEAD,       /* server: reading a request head/body; client: awaiting the 101 */
    ST_PENDING,    /* server: upgrade decision pending (held) */
    ST_REQUEST,    /* server: HTTP response pending (held) */
    ST_OPEN,       /* WebSocket open */
    ST_CLOSING,    /* we sent a close frame, waiting for the peer's */
    ST_STREAM,     /* HTTP streamed response (SSE) */
    ST_DONE,       /* answered/rejected: closing after the last write */
};

/* Ciphertext read but not yet taken by OpenSSL (data[off..len)). */
typedef struct tls_carry {
    size_t len, off;
    char data[];
} tls_carry_t;

typedef struct client_ext {
    conn_settings_t set;
    lw_net_cbs_t cbs;
    uv_getaddrinfo_t gai;
    uv_connect_t connect;
    char *host, *port, *hostport, *target, *auth, *sni;
    char **protocols;
    size_t nprotocols;
    char key[25];
    bool resolving;
} client_ext_t;

/* An upgrade the application is deciding on (ST_PENDING): where process_head found the key
 * and the offered subprotocols in `in` (offsets: the buffer may move as bytes arrive behind
 * the request), so lw_ws_accept does not parse the request a second time. */
typedef struct pending_up {
    uint32_t key_off;
    uint8_t key_len, nprot;
    struct {
        uint32_t off;
        uint8_t len;
    } prot[LW_WS_PROTOCOLS_MAX];
} pending_up_t;

struct lw_conn {
    uv_tcp_t tcp;
    lw_net_loop_t *loop;
    lw_server_t *srv; /* NULL for a client */
    client_ext_t *cx; /* client only */
    void *ud;
    lw_conn_t *next, *prev; /* loop's list */
    SSL *ssl;
    tls_carry_t *carry; /* TLS: ciphertext OpenSSL has not taken yet; NULL when idle */
    lw_buf_t in;        /* unprocessed head/body bytes; empty (no heap) when idle */
    lw_ws_decoder_t dec;
    uint64_t t_rx;        /* last byte received */
    union {               /* one or the other, by state (8 bytes per connection) */
        uint64_t t_start; /* CONNECTING, HEAD, PENDING: when the connection began */
        uint64_t t_ping;  /* OPEN, CLOSING: last ping sent, or our close frame sent */
    };
    char *close_reason; /* owned; NULL = none */
    pending_up_t *up;   /* owned; ST_PENDING only, NULL when it did not fit (see there) */
    uint32_t req_len;   /* bytes of the pending request in `in` (head + body < 2^31) */
    uint16_t close_code;
    uint16_t nwrites;
    uint16_t http_status; /* client: status of the upgrade answer */
    uint8_t state;
    bool tls_done : 1, ping_out : 1, close_after_write : 1, keep_alive : 1, reading : 1,
        closing_handle : 1, handle_closed : 1, held : 1, report_close : 1, in_dispatch : 1,
        free_after_resolve : 1, in_pump : 1;
};

typedef struct wreq {
    uv_write_t req;
    lw_conn_t *c;
    char data[];
} wreq_t;

/* Callbacks and settings: the server's, or the client's own (not stored per connection). */
#define CBS(c) ((c)->srv ? &(c)->srv->cbs : &(c)->cx->cbs)
#define SET(c) ((c)->srv ? &(c)->srv->set : &(c)->cx->set)

static void teardown(lw_conn_t *c);
static void process_head(lw_conn_t *c);
static void on_plain(lw_conn_t *c, char *p, size_t n);
static void tls_pump(lw_conn_t *c);

static uint64_t now_ms(const lw_conn_t *c)
{
    return lw_clock_mono(c->loop->clock);
}

static void set_close(lw_conn_t *c, int code, const char *reason, size_t rlen)
{
    if (c->close_code) return; /* the first reason wins */
    c->close_code = (uint16_t)code;
    if (reason && rlen) {
        free(c->close_reason);
        c->close_reason = lw_str_dup((lw_str_t){reason, rlen});
    }
}

/* ---- writing ----------------------------------------------------------------------------- */

static void finish_if_flushed(lw_conn_t *c)
{
    if (c->close_after_write && c->nwrites == 0) teardown(c);
}

static void on_write(uv_write_t *req, int status)
{
    wreq_t *w = (wreq_t *)req;
    lw_conn_t *c = w->c;
    free(w);
    c->nwrites--;
    if (status < 0 && !c->closing_handle) {
        set_close(c, LW_WS_CLOSE_ABNORMAL, "write failed", 12);
        teardown(c);
        return;
    }
    finish_if_flushed(c);
}

/* Writes the bytes of bufs (borrowed) in order. What the socket takes now goes out with
 * uv_try_write (no EPOLLOUT arming, no allocation, no completion callback); only the rest is
 * copied into one queued uv_write. libuv's try_write refuses (EAGAIN) while earlier writes
 * are queued or a connect is pending, so the byte order holds. A failure tears the
 * connection down: part of a frame may already be on the wire, or in TLS's state. */
static int sock_write(lw_conn_t *c, const uv_buf_t *bufs, unsigned nb)
{
    if (c->closing_handle) return LW_ECLOSED;
    size_t total = 0, done = 0;
    for (unsigned i = 0; i < nb; i++)
        total += bufs[i].len;
    if (total == 0) return 0;
    int r = uv_try_write((uv_stream_t *)&c->tcp, bufs, nb);
    if (r >= 0) {
        done = (size_t)r;
        if (done == total) return 0;
    } else if (r != UV_EAGAIN && r != UV_ENOSYS) {
        set_close(c, LW_WS_CLOSE_ABNORMAL, "write failed", 12);
        teardown(c);
        return LW_EIO;
    }
    wreq_t *w = malloc(sizeof *w + (total - done));
    if (!w) {
        set_close(c, LW_WS_CLOSE_ABNORMAL, "out of memory", 13);
        teardown(c);
        return LW_ENOMEM;
    }
    size_t skip = done, at = 0;
    for (unsigned i = 0; i < nb; i++) {
        size_t len = bufs[i].len;
        if (skip >= len) {
            skip -= len;
            continue;
        }
        memcpy(w->data + at, bufs[i].base + skip, len - skip);
        at += len - skip;
        skip = 0;
    }
    w->c = c;
    uv_buf_t b = uv_buf_init(w->data, (unsigned)at);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write)) {
        free(w);
        set_close(c, LW_WS_CLOSE_ABNORMAL, "write failed", 12);
        teardown(c);
        return LW_EIO;
    }
    c->nwrites++;
    return 0;
}

/* ---- TLS through the loop's BIO -------------------------------------------------------------
 * Every SSL I/O call (handshake, read, write) is preceded by l->tls_cur = c; the BIO's
 * callbacks run only inside those calls, and no SSL call runs inside another (callbacks into
 * the application happen between them), so tls_cur always names the right connection. */

/* Gives the ciphertext OpenSSL produced for one connection to its socket. */
static int out_flush(lw_net_loop_t *l)
{
    lw_conn_t *c = l->cout_conn;
    size_t n = l->cout_len;
    l->cout_conn = NULL;
    l->cout_len = 0;
    if (!c || !n) return 0;
    return sock_write(c, &(uv_buf_t){.base = l->cbuf, .len = n}, 1);
}

static int tbio_write(BIO *b, const char *p, int n)
{
    lw_net_loop_t *l = BIO_get_data(b);
    lw_conn_t *c = l->tls_cur;
    BIO_clear_retry_flags(b);
    if (!c || n < 0) return -1;
    size_t len = (size_t)n;
    if (l->cout_len && (l->cout_conn != c || l->cout_len + len > LW_NET_READ_BUF)) out_flush(l);
    if (len > LW_NET_READ_BUF)
        return sock_write(c, &(uv_buf_t){.base = (char *)p, .len = len}, 1) ? -1 : n;
    if (c->closing_handle) return -1;
    memcpy(l->cbuf + l->cout_len, p, len);
    l->cout_len += len;
    l->cout_conn = c;
    return n;
}

/* Serves the connection's carry first, then the bytes of the read in progress. */
static int tbio_read(BIO *b, char *p, int n)
{
    lw_net_loop_t *l = BIO_get_data(b);
    lw_conn_t *c = l->tls_cur;
    BIO_clear_retry_flags(b);
    if (!c || n <= 0) return 0;
    size_t want = (size_t)n, got = 0;
    tls_carry_t *k = c->carry;
    if (k) {
        size_t m = k->len - k->off < want ? k->len - k->off : want;
        memcpy(p, k->data + k->off, m);
        k->off += m;
        got = m;
        if (k->off == k->len) {
            free(k);
            c->carry = NULL;
        }
    }
    if (got < want && l->tls_in_conn == c && l->tls_in_len) {
        size_t m = l->tls_in_len < want - got ? l->tls_in_len : want - got;
        memcpy(p + got, l->tls_in, m);
        l->tls_in += m;
        l->tls_in_len -= m;
        got += m;
    }
    if (got == 0) {
        BIO_set_retry_read(b);
        return -1;
    }
    return (int)got;
}

static long tbio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    return cmd == BIO_CTRL_FLUSH || cmd == BIO_CTRL_DUP; /* writes are collected, then sent */
}

static int tbio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static BIO_METHOD *tbio_method;
static pthread_once_t tbio_once = PTHREAD_ONCE_INIT;

static void tbio_method_init(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "ladewerk loop");
    if (m && (!BIO_meth_set_write(m, tbio_write) || !BIO_meth_set_read(m, tbio_read) ||
              !BIO_meth_set_ctrl(m, tbio_ctrl) || !BIO_meth_set_create(m, tbio_create))) {
        BIO_meth_free(m);
        m = NULL;
    }
    tbio_method = m; /* lives as long as the process */
}

/* Connects ssl to the loop's BIO (made at the first TLS connection). */
static int tls_attach(lw_net_loop_t *l, SSL *ssl)
{
    if (!l->tls_bio) {
        pthread_once(&tbio_once, tbio_method_init);
        if (!tbio_method || !(l->tls_bio = BIO_new(tbio_method))) return LW_ETLS;
        BIO_set_data(l->tls_bio, l);
    }
    if (!BIO_up_ref(l->tls_bio)) return LW_ETLS;
    SSL_set_bio(ssl, l->tls_bio, l->tls_bio); /* takes the one reference */
    return 0;
}

/* Keeps the ciphertext of the read in progress that OpenSSL did not take (the connection
 * paused for a decision, or is closing). */
static void tls_keep_input(lw_conn_t *c)
{
    lw_net_loop_t *l = c->loop;
    if (l->tls_in_conn != c) return;
    size_t n = l->tls_in_len;
    const char *p = l->tls_in;
    l->tls_in_conn = NULL;
    l->tls_in = NULL;
    l->tls_in_len = 0;
    if (!n || c->closing_handle) return;
    tls_carry_t *k = c->carry;
    size_t old = k ? k->len - k->off : 0;
    tls_carry_t *nk = malloc(sizeof *nk + old + n);
    if (!nk) {
        set_close(c, LW_WS_CLOSE_ABNORMAL, "out of memory", 13);
        teardown(c);
        return;
    }
    if (old) memcpy(nk->data, k->data + k->off, old);
    memcpy(nk->data + old, p, n);
    nk->len = old + n;
    nk->off = 0;
    free(k);
    c->carry = nk;
}

/* Sends what TLS produced for c (handshake records, encrypted data). */
static int tls_flush(lw_conn_t *c)
{
    lw_net_loop_t *l = c->loop;
    if (l->cout_conn != c) return 0;
    return out_flush(l);
}

/* Sends plaintext application bytes (borrowed; through TLS if any). */
static int send_bytes(lw_conn_t *c, const void *p, size_t n)
{
    if (c->closing_handle) return LW_ECLOSED;
    if (!c->ssl) return sock_write(c, &(uv_buf_t){.base = (char *)p, .len = n}, 1);
    c->loop->tls_cur = c;
    if (n && SSL_write(c->ssl, p, (int)n) <= 0) {
        ERR_clear_error();
        set_close(c, LW_WS_CLOSE_ABNORMAL, "TLS write failed", 16);
        teardown(c);
        return LW_ETLS;
    }
    return tls_flush(c);
}

/* One frame. Hot path (every OCPP message): a server over plain TCP writes header and
 * payload straight from the caller's memory with one writev; otherwise the frame is built in
 * the loop's frame scratch buffer (masking needs a copy, TLS wants one record) and only a
 * frame larger than that buffer gets a temporary allocation. Nothing sends while the scratch
 * buffer is in use (no callback runs inside a send), so one per loop suffices. */
static int send_frame(lw_conn_t *c, int op, const void *p, size_t n)
{
    if (c->closing_handle) return LW_ECLOSED;
    uint8_t mask[4], *m = NULL;
    if (!c->srv) {
        uint32_t r = lw_net_rand(c->loop);
        memcpy(mask, &r, 4);
        m = mask;
    }
    uint8_t hdr[14];
    size_t hl = lw_ws_frame_header(hdr, true, op, n, m);
    if (hl > sizeof hdr) return LW_EINVAL; /* cannot happen; tells GCC -O3 (array-bounds) */
    if (!m && !c->ssl) {
        uv_buf_t b[2] = {{.base = (char *)hdr, .len = hl}, {.base = (char *)p, .len = n}};
        return sock_write(c, b, n ? 2 : 1);
    }
    char *buf = c->loop->wbuf, *own = NULL;
    if (hl + n > LW_NET_WRITE_SCRATCH && !(buf = own = malloc(hl + n))) return LW_ENOMEM;
    memcpy(buf, hdr, hl);
    if (n) memcpy(buf + hl, p, n);
    if (m) lw_ws_mask((uint8_t *)buf + hl, n, m, 0);
    int rc = send_bytes(c, buf, hl + n);
    free(own);
    return rc;
}

/* Sends our close frame and waits for the peer's (LW_WS_CLOSE_TIMEOUT_MS). */
static void begin_close(lw_conn_t *c, int code, const char *reason)
{
    uint8_t pl[LW_WS_CONTROL_MAX];
    size_t n = lw_ws_close_payload(pl, (uint16_t)code, reason);
    set_close(c, code, reason, reason ? strlen(reason) : 0);
    c->state = ST_CLOSING;
    c->t_ping = now_ms(c);
    send_frame(c, LW_WS_OP_CLOSE, pl, n);
}

static void free_client_ext(client_ext_t *x)
{
    free(x->host);
    free(x->port);
    free(x->hostport);
    free(x->target);
    free(x->auth);
    free(x->sni);
    for (size_t i = 0; i < x->nprotocols; i++)
        free(x->protocols[i]);
    free(x->protocols);
    free(x);
}

/* ---- teardown ------------------------------------------------------------------------------ */

static void free_conn(lw_conn_t *c)
{
    lw_net_loop_t *l = c->loop;
    if (c->prev)
        c->prev->next = c->next;
    else
        l->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    if (c->ssl) SSL_free(c->ssl);
    if (l->tls_cur == c) l->tls_cur = NULL;
    if (l->tls_in_conn == c) l->tls_in_conn = NULL, l->tls_in_len = 0;
    if (l->cout_conn == c) l->cout_conn = NULL, l->cout_len = 0;
    free(c->carry);
    lw_buf_free(&c->in);
    lw_ws_decoder_free(&c->dec);
    free(c->close_reason);
    free(c->up);
    if (c->cx) free_client_ext(c->cx);
    lw_server_t *s = c->srv;
    free(c);
    if (s) {
        s->nconns--;
        if (s->handle_closed && s->nconns == 0) {
            free(s);
            lw_net_loop_retire(l);
        }
    }
    lw_net_loop_retire(l);
}

static void on_handle_closed(uv_handle_t *h)
{
    lw_conn_t *c = h->data;
    c->handle_closed = true;
    if (c->held) return; /* the application still owes a decision: it frees via that call */
    if (c->report_close && CBS(c)->on_close) {
        const char *r = c->close_reason ? c->close_reason : "";
        CBS(c)->on_close(c, c->close_code ? c->close_code : LW_WS_CLOSE_ABNORMAL, lw_str_c(r));
    }
    if (c->cx && c->cx->resolving) {
        c->free_after_resolve = true;
        return;
    }
    free_conn(c);
}

static void teardown(lw_conn_t *c)
{
    if (c->closing_handle) return;
    c->closing_handle = true;
    if (c->reading) uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
    if (c->cx && c->cx->resolving) uv_cancel((uv_req_t *)&c->cx->gai);
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
}

/* ---- reading ------------------------------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    lw_conn_t *c = h->data;
    b->base = c->loop->rbuf;
    b->len = LW_NET_READ_BUF;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    lw_conn_t *c = s->data;
    if (nread == 0) return;
    if (nread < 0) {
        /* EOF or error: the peer is gone */
        set_close(c, LW_WS_CLOSE_ABNORMAL,
                  nread == UV_EOF ? "connection closed by peer" : "read error",
                  nread == UV_EOF ? 25 : 10);
        teardown(c);
        return;
    }
    c->t_rx = now_ms(c);
    c->ping_out = false; /* any byte proves the peer is alive */
    if (!c->ssl) {
        on_plain(c, b->base, (size_t)nread);
        return;
    }
    lw_net_loop_t *l = c->loop;
    l->tls_in_conn = c;
    l->tls_in = b->base;
    l->tls_in_len = (size_t)nread;
    tls_pump(c);
    tls_keep_input(c);
}

static void start_reading(lw_conn_t *c)
{
    if (c->reading || c->closing_handle) return;
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0) c->reading = true;
}

static void stop_reading(lw_conn_t *c)
{
    if (!c->reading) return;
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
}

static bool paused(const lw_conn_t *c)
{
    return c->state == ST_PENDING || c->state == ST_REQUEST || c->state == ST_DONE;
}

static void send_upgrade(lw_conn_t *c);

static void tls_pump(lw_conn_t *c)
{
    if (c->in_pump) return; /* a decision made inside a callback: the outer pump goes on */
    c->in_pump = true;
    lw_net_loop_t *l = c->loop;
    if (!c->tls_done) {
        l->tls_cur = c;
        int r = SSL_do_handshake(c->ssl);
        tls_flush(c);
        if (r != 1) {
            int e = SSL_get_error(c->ssl, r);
            c->in_pump = false;
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
            char msg[120];
            unsigned long ec = ERR_peek_error();
            long vr = SSL_get_verify_result(c->ssl);
            snprintf(msg, sizeof msg, "TLS handshake failed: %s",
                     vr != X509_V_OK ? X509_verify_cert_error_string(vr)
                     : ec            ? ERR_reason_error_string(ec)
                                     : "error");
            ERR_clear_error();
            lw_log(LW_LOG_INFO, "transport", "event=tls_failed reason=\"%s\"", msg);
            set_close(c, LW_WS_CLOSE_ABNORMAL, msg, strlen(msg));
            teardown(c);
            return;
        }
        c->tls_done = true;
        if (!c->srv) send_upgrade(c);
    }
    char *buf = l->tbuf, *own = NULL;
    if (l->tbuf_busy) buf = own = malloc(LW_NET_READ_BUF); /* nested pump (see net_int.h) */
    if (!buf) {
        c->in_pump = false;
        return;
    }
    if (!own) l->tbuf_busy = true;
    while (!c->closing_handle && !paused(c)) {
        l->tls_cur = c;
        int n = SSL_read(c->ssl, buf, LW_NET_READ_BUF);
        if (n > 0) {
            on_plain(c, buf, (size_t)n);
            continue;
        }
        int e = SSL_get_error(c->ssl, n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
        ERR_clear_error();
        set_close(c, LW_WS_CLOSE_ABNORMAL,
                  e == SSL_ERROR_ZERO_RETURN ? "TLS closed by peer" : "TLS error",
                  e == SSL_ERROR_ZERO_RETURN ? 18 : 9);
        teardown(c);
        break;
    }
    if (own)
        free(own);
    else
        l->tbuf_busy = false;
    c->in_pump = false;
    if (!c->closing_handle) tls_flush(c);
}

/* WebSocket bytes for an open (or closing) connection. */
static void feed_ws(lw_conn_t *c, uint8_t *p, size_t n)
{
    while (n && !c->closing_handle) {
        size_t used;
        lw_ws_event_t ev;
        int rc = lw_ws_decode(&c->dec, p, n, &used, &ev);
        p += used;
        n -= used;
        if (rc) {
            const char *why = c->dec.close_code == LW_WS_CLOSE_TOO_BIG    ? "message too big"
                              : c->dec.close_code == LW_WS_CLOSE_BAD_DATA ? "invalid UTF-8"
                                                                          : "protocol error";
            if (c->state == ST_OPEN) begin_close(c, c->dec.close_code, why);
            c->close_after_write = true;
            finish_if_flushed(c);
            return;
        }
        switch (ev.type) {
        case LW_WS_EV_NONE:
            break;
        case LW_WS_EV_MESSAGE:
            if (c->state == ST_OPEN && CBS(c)->on_message)
                CBS(c)->on_message(c, ev.data, ev.binary);
            break;
        case LW_WS_EV_PING:
            if (c->state == ST_OPEN && !SET(c)->no_auto_pong)
                send_frame(c, LW_WS_OP_PONG, ev.data.p, ev.data.len);
            break;
        case LW_WS_EV_PONG:
            break;
        case LW_WS_EV_CLOSE:
            if (c->state == ST_OPEN) {
                /* RFC 6455 §5.5.1: echo the code, then the server closes TCP first */
                set_close(c, ev.code, ev.data.p, ev.data.len);
                uint8_t pl[LW_WS_CONTROL_MAX];
                size_t pn =
                    lw_ws_close_payload(pl, ev.code == LW_WS_CLOSE_NO_STATUS ? 0 : ev.code, NULL);
                c->state = ST_CLOSING;
                c->t_ping = now_ms(c);
                send_frame(c, LW_WS_OP_CLOSE, pl, pn);
            }
            c->close_after_write = true;
            finish_if_flushed(c);
            return;
        }
    }
}

/* Appends to the connection's input buffer (heads, bodies). */
static bool buffer_in(lw_conn_t *c, const char *p, size_t n)
{
    if (c->in.max == 0) {
        size_t body = SET(c)->http_body_max;
        lw_buf_init(&c->in, LW_HTTP_HEAD_MAX + (c->srv && c->srv->cbs.on_request ? body : 0) +
                                LW_NET_READ_BUF);
    }
    if (lw_buf_append(&c->in, p, n) == 0) return true;
    set_close(c, LW_WS_CLOSE_ABNORMAL, "input too large", 15);
    teardown(c);
    return false;
}

static void client_got_head(lw_conn_t *c);

static void on_plain(lw_conn_t *c, char *p, size_t n)
{
    switch (c->state) {
    case ST_OPEN:
    case ST_CLOSING:
        feed_ws(c, (uint8_t *)p, n);
        return;
    case ST_HEAD:
        if (!buffer_in(c, p, n)) return;
        if (c->srv)
            process_head(c);
        else
            client_got_head(c);
        return;
    case ST_PENDING:
    case ST_REQUEST:
        buffer_in(c, p, n); /* bounded; processed after the decision */
        return;
    default:
        return; /* streams and finished answers ignore input */
    }
}

/* ---- server side ------------------------------------------------------------------------- */

static void answer_and_close(lw_conn_t *c, int status, const char *extra, const char *reason)
{
    lw_buf_t b;
    lw_buf_init(&b, 4096);
    if (lw_ws_write_reject(&b, status, extra, reason) == 0) send_bytes(c, b.data, b.len);
    lw_buf_free(&b);
    c->state = ST_DONE;
    c->close_after_write = true;
    stop_reading(c);
    finish_if_flushed(c);
}

/* The key and subprotocols of up (pointing into c->in) as offsets, or NULL when a length does
 * not fit a byte or malloc fails: lw_ws_accept then parses the request again. */
static pending_up_t *pending_keep(const lw_conn_t *c, const lw_ws_upgrade_t *up)
{
    if (up->key.len > UINT8_MAX) return NULL;
    for (size_t i = 0; i < up->nprotocols; i++)
        if (up->protocols[i].len > UINT8_MAX) return NULL;
    pending_up_t *p = malloc(sizeof *p);
    if (!p) return NULL;
    p->key_off = (uint32_t)(up->key.p - c->in.data);
    p->key_len = (uint8_t)up->key.len;
    p->nprot = (uint8_t)up->nprotocols;
    for (size_t i = 0; i < up->nprotocols; i++) {
        p->prot[i].off = (uint32_t)(up->protocols[i].p - c->in.data);
        p->prot[i].len = (uint8_t)up->protocols[i].len;
    }
    return p;
}

static void process_head(lw_conn_t *c)
{
    lw_http_head_t head;
    while (c->state == ST_HEAD && !c->closing_handle && c->in.len) {
        int rc = lw_http_parse_request(c->in.data, c->in.len, &head);
        if (rc == LW_EAGAIN) return;
        if (rc == LW_ETOOBIG) return answer_and_close(c, 431, NULL, "request head too large");
        if (rc < 0) return answer_and_close(c, 400, NULL, "malformed request");
        size_t hl = (size_t)rc;
        if (lw_ws_is_upgrade(&head)) {
            if (!CBS(c)->on_upgrade) return answer_and_close(c, 404, NULL, "no WebSocket here");
            lw_ws_upgrade_t up;
            int status;
            if (lw_ws_upgrade_parse(&head, &up, &status))
                return answer_and_close(c, status, NULL, "bad WebSocket upgrade");
            c->state = ST_PENDING;
            c->held = true;
            c->req_len = (uint32_t)hl;
            c->up = pending_keep(c, &up);
            /* Plain TCP keeps reading while the application decides: early bytes are
             * buffered (bounded by buffer_in) and an EOF is seen, and pausing would cost two
             * epoll_ctl calls per connection. TLS stops reading: what it keeps is at most
             * one read of ciphertext. */
            if (c->ssl) stop_reading(c);
            CBS(c)->on_upgrade(c, &up); /* may decide right here: touch nothing after */
            return;
        }
        if (!CBS(c)->on_request) return answer_and_close(c, 426, NULL, "WebSocket only");
        uint64_t cl;
        rc = lw_http_head_content_length(&head, &cl);
        if (rc == LW_ENOTSUP) return answer_and_close(c, 501, NULL, "chunked bodies unsupported");
        if (rc) return answer_and_close(c, 400, NULL, "bad Content-Length");
        if (cl > SET(c)->http_body_max) return answer_and_close(c, 413, NULL, "body too large");
        if (c->in.len < hl + cl) return; /* wait for the body */
        lw_http_request_t req = {head.method, head.target, &head,
                                 (lw_str_t){c->in.data + hl, (size_t)cl}};
        c->state = ST_REQUEST;
        c->held = true;
        c->req_len = (uint32_t)(hl + cl);
        c->keep_alive = lw_http_head_keep_alive(&head);
        stop_reading(c);
        c->in_dispatch = true;
        CBS(c)->on_request(c, &req);
        c->in_dispatch = false;
        /* answered inside the callback with keep-alive: loop for a pipelined request */
    }
    if (c->state == ST_HEAD && !c->closing_handle) {
        if (c->in.len == 0) lw_buf_free(&c->in);
        start_reading(c);
    }
}

/* A held connection whose socket already closed: the decision call frees it. */
static bool release_if_gone(lw_conn_t *c)
{
    if (!c->closing_handle) return false;
    c->held = false;
    if (c->handle_closed) free_conn(c);
    /* else: on_handle_closed runs later and frees (report_close is false) */
    return true;
}

static void on_connection(uv_stream_t *ls, int status)
{
    lw_server_t *s = ls->data;
    if (status < 0 || s->closing) return;
    lw_conn_t *c = calloc(1, sizeof *c);
    if (!c) return;
    lw_net_loop_t *l = s->loop;
    uv_tcp_init(l->uv, &c->tcp);
    c->tcp.data = c;
    c->loop = l;
    c->srv = s;
    c->state = ST_HEAD;
    c->next = l->conns;
    if (l->conns) l->conns->prev = c;
    l->conns = c;
    l->nlive++;
    s->nconns++;
    c->t_start = c->t_rx = now_ms(c);
    if (uv_accept(ls, (uv_stream_t *)&c->tcp)) {
        teardown(c);
        return;
    }
    if (s->allow_peer) {
        char ip[64];
        if (lw_conn_peer_ip(c, ip, sizeof ip) || !s->allow_peer(s->ud, ip)) {
            teardown(c);
            return;
        }
    }
    /* TCP_NODELAY: inherited from the listening socket (lw_server_start) */
    if (s->tls) {
        c->ssl = SSL_new(s->tls->ctx);
        if (!c->ssl || tls_attach(l, c->ssl)) {
            teardown(c);
            return;
        }
        SSL_set_accept_state(c->ssl);
    }
    start_reading(c);
}

static void fill_settings(conn_settings_t *set, size_t max_message, size_t body_max, uint32_t hs_ms,
                          uint32_t ping_ms, uint32_t pong_ms)
{
    set->max_message = max_message ? max_message : LW_WS_MESSAGE_MAX_DEFAULT;
    if (set->max_message > LW_FRAME_MAX_CEILING) set->max_message = LW_FRAME_MAX_CEILING;
    set->http_body_max = body_max ? body_max : LW_HTTP_BODY_MAX_DEFAULT;
    if (set->http_body_max > UINT32_MAX / 2) set->http_body_max = UINT32_MAX / 2; /* req_len */
    set->handshake_timeout_ms = hs_ms ? hs_ms : LW_WS_HANDSHAKE_TIMEOUT_MS_DEFAULT;
    set->ping_interval_ms = ping_ms;
    set->pong_timeout_ms = pong_ms ? pong_ms : LW_WS_PONG_TIMEOUT_MS_DEFAULT;
}

int lw_server_start(lw_net_loop_t *l, const lw_server_config_t *cfg, const lw_net_cbs_t *cbs,
                    void *ud, lw_server_t **out)
{
    *out = NULL;
    if (!l || !cfg || !cbs || l->freeing || (cfg->tls && !cfg->tls->server)) return LW_EINVAL;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    const char *host = cfg->host ? cfg->host : "0.0.0.0";
    if (uv_ip4_addr(host, cfg->port, (struct sockaddr_in *)&ss) &&
        uv_ip6_addr(host, cfg->port, (struct sockaddr_in6 *)&ss))
        return LW_EINVAL;
    lw_server_t *s = calloc(1, sizeof *s);
    if (!s) return LW_ENOMEM;
    s->loop = l;
    s->cbs = *cbs;
    s->tls = cfg->tls;
    s->allow_peer = cfg->allow_peer;
    s->ud = ud;
    fill_settings(&s->set, cfg->max_message, cfg->http_body_max, cfg->handshake_timeout_ms,
                  cfg->ping_interval_ms, cfg->pong_timeout_ms);
    /* Our own socket so SO_REUSEPORT is set before bind (libuv has no option for it). */
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    socklen_t alen =
        ss.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    const char *step = NULL;
    if (fd < 0)
        step = "socket";
    else if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one))
        step = "SO_REUSEADDR";
    else if (cfg->reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one))
        step = "SO_REUSEPORT";
    /* Linux hands TCP_NODELAY down to every accepted socket: one call here instead of one
     * per connection (on_connection) */
    else if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one))
        step = "TCP_NODELAY";
    else if (bind(fd, (struct sockaddr *)&ss, alen))
        step = "bind";
    if (step) {
        lw_log(LW_LOG_ERROR, "transport", "event=listen_failed host=%s port=%d step=%s", host,
               cfg->port, step);
        if (fd >= 0) close(fd);
        free(s);
        return LW_EIO;
    }
    uv_tcp_init(l->uv, &s->tcp);
    s->tcp.data = s;
    l->nlive++;
    s->next = l->servers;
    l->servers = s;
    int rc = uv_tcp_open(&s->tcp, fd);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&s->tcp, 1024, on_connection);
    if (rc) {
        lw_log(LW_LOG_ERROR, "transport", "event=listen_failed host=%s port=%d error=%s", host,
               cfg->port, uv_strerror(rc));
        if (rc == UV_EBADF) close(fd);
        lw_server_close(s);
        return LW_EIO;
    }
    struct sockaddr_storage bound;
    int blen = sizeof bound;
    uv_tcp_getsockname(&s->tcp, (struct sockaddr *)&bound, &blen);
    s->port = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
                                               : ((struct sockaddr_in6 *)&bound)->sin6_port);
    lw_net_loop_want_tick(l, s->set.handshake_timeout_ms);
    lw_net_loop_want_tick(l, s->set.ping_interval_ms);
    lw_net_loop_want_tick(l, s->set.pong_timeout_ms);
    *out = s;
    return 0;
}

int lw_server_port(const lw_server_t *s)
{
    return s->port;
}

void *lw_server_data(const lw_server_t *s)
{
    return s->ud;
}

static void on_server_closed(uv_handle_t *h)
{
    lw_server_t *s = h->data;
    lw_net_loop_t *l = s->loop;
    s->handle_closed = true;
    if (s->nconns == 0) {
        free(s);
        lw_net_loop_retire(l);
    }
}

void lw_server_close(lw_server_t *s)
{
    if (!s || s->closing) return;
    s->closing = true;
    lw_net_loop_t *l = s->loop;
    for (lw_server_t **pp = &l->servers; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    for (lw_conn_t *c = l->conns; c; c = c->next)
        if (c->srv == s) {
            set_close(c, LW_WS_CLOSE_GOING_AWAY, "server closing", 14);
            teardown(c);
        }
    uv_close((uv_handle_t *)&s->tcp, on_server_closed);
}

void lw_net_server_close_all(lw_net_loop_t *l)
{
    while (l->servers)
        lw_server_close(l->servers);
}

void lw_net_conn_shutdown_all(lw_net_loop_t *l)
{
    for (lw_conn_t *c = l->conns; c; c = c->next) {
        set_close(c, LW_WS_CLOSE_GOING_AWAY, "shutting down", 13);
        teardown(c);
    }
}

int lw_ws_accept(lw_conn_t *c, lw_str_t protocol)
{
    if (!c || c->state != ST_PENDING) return LW_EINVAL;
    if (release_if_gone(c)) return LW_ECLOSED;
    lw_ws_upgrade_t up;
    if (c->up) { /* what process_head found */
        const pending_up_t *p = c->up;
        up.key = (lw_str_t){c->in.data + p->key_off, p->key_len};
        up.nprotocols = p->nprot;
        for (size_t i = 0; i < p->nprot; i++)
            up.protocols[i] = (lw_str_t){c->in.data + p->prot[i].off, p->prot[i].len};
    } else {
        lw_http_head_t head;
        int status;
        if (lw_http_parse_request(c->in.data, c->req_len, &head) <= 0 ||
            lw_ws_upgrade_parse(&head, &up, &status))
            return LW_EINVAL; /* cannot happen: it parsed before */
    }
    /* RFC 6455 §4.2.2: the chosen subprotocol must be one the client offered */
    bool offered = protocol.len == 0;
    for (size_t i = 0; i < up.nprotocols && !offered; i++)
        offered = lw_str_eq(up.protocols[i], protocol);
    if (!offered) return LW_EINVAL;
    lw_buf_t b;
    lw_buf_init(&b, 4096);
    int rc = lw_ws_write_accept(&b, up.key, protocol, NULL);
    if (rc) {
        lw_buf_free(&b);
        return rc;
    }
    c->held = false;
    free(c->up);
    c->up = NULL;
    c->report_close = true;
    c->state = ST_OPEN;
    lw_ws_decoder_init(&c->dec, true, SET(c)->max_message);
    c->t_ping = now_ms(c);
    send_bytes(c, b.data, b.len);
    lw_buf_free(&b);
    lw_net_loop_want_tick(c->loop, SET(c)->ping_interval_ms);
    if (CBS(c)->on_open) CBS(c)->on_open(c, protocol);
    /* frames that arrived right behind the upgrade request */
    lw_buf_consume(&c->in, c->req_len);
    c->req_len = 0;
    if (c->in.len && c->state == ST_OPEN && !c->closing_handle) {
        lw_buf_t rest = c->in;
        lw_buf_init(&c->in, 0);
        feed_ws(c, (uint8_t *)rest.data, rest.len);
        lw_buf_free(&rest);
    }
    lw_buf_free(&c->in);
    if (!c->closing_handle && c->state == ST_OPEN) {
        start_reading(c);
        if (c->ssl) tls_pump(c);
    }
    return 0;
}

int lw_ws_reject(lw_conn_t *c, int status, const char *extra_headers)
{
    if (!c || c->state != ST_PENDING) return LW_EINVAL;
    if (release_if_gone(c)) return LW_ECLOSED;
    c->held = false;
    free(c->up);
    c->up = NULL;
    lw_buf_free(&c->in);
    answer_and_close(c, status, extra_headers, lw_http_reason(status));
    return 0;
}

/* ---- HTTP server mode ---------------------------------------------------------------------- */

static void request_done(lw_conn_t *c)
{
    lw_buf_consume(&c->in, c->req_len);
    c->req_len = 0;
}

int lw_http_respond(lw_conn_t *c, int status, const char *headers, const void *body, size_t len)
{
    if (!c || c->state != ST_REQUEST) return LW_EINVAL;
    if (release_if_gone(c)) return LW_ECLOSED;
    c->held = false;
    lw_buf_t b;
    lw_buf_init(&b, len + 4096 + (headers ? strlen(headers) : 0));
    int rc = lw_http_write_response(&b, status, headers, body, len, c->keep_alive);
    if (!rc) rc = send_bytes(c, b.data, b.len);
    lw_buf_free(&b);
    request_done(c);
    if (rc || !c->keep_alive) {
        c->state = ST_DONE;
        c->close_after_write = true;
        finish_if_flushed(c);
        return 0;
    }
    c->state = ST_HEAD;
    c->t_rx = now_ms(c);
    if (!c->in_dispatch) {
        process_head(c);
        if (c->ssl && c->state == ST_HEAD && !c->closing_handle) tls_pump(c);
    }
    return 0;
}

int lw_http_stream_start(lw_conn_t *c, int status, const char *headers)
{
    if (!c || c->state != ST_REQUEST) return LW_EINVAL;
    if (release_if_gone(c)) return LW_ECLOSED;
    c->held = false;
    lw_buf_t b;
    lw_buf_init(&b, 8192 + (headers ? strlen(headers) : 0));
    int rc = lw_buf_printf(&b, "HTTP/1.1 %d %s\r\n%sConnection: close\r\n\r\n", status,
                           lw_http_reason(status), headers ? headers : "");
    if (!rc) rc = send_bytes(c, b.data, b.len);
    lw_buf_free(&b);
    lw_buf_free(&c->in);
    c->req_len = 0;
    c->state = ST_STREAM;
    c->report_close = true;
    start_reading(c); /* to see the client leave */
    return rc;
}

int lw_http_stream_write(lw_conn_t *c, const void *data, size_t len)
{
    if (!c || c->state != ST_STREAM) return c && c->state == ST_DONE ? LW_ECLOSED : LW_EINVAL;
    if (c->closing_handle) return LW_ECLOSED;
    return send_bytes(c, data, len);
}

int lw_http_stream_end(lw_conn_t *c)
{
    if (!c || c->state != ST_STREAM) return LW_EINVAL;
    set_close(c, LW_WS_CLOSE_NORMAL, NULL, 0);
    c->state = ST_DONE;
    c->close_after_write = true;
    finish_if_flushed(c);
    return 0;
}

/* ---- client side ------------------------------------------------------------------------- */

static void send_upgrade(lw_conn_t *c)
{
    client_ext_t *x = c->cx;
    lw_buf_t b;
    lw_buf_init(&b, LW_HTTP_HEAD_MAX);
    int rc = lw_ws_write_upgrade(&b, x->hostport, x->target, x->key,
                                 (const char *const *)x->protocols, x->nprotocols, x->auth);
    if (rc == 0) rc = send_bytes(c, b.data, b.len);
    lw_buf_free(&b);
    if (rc) {
        set_close(c, LW_WS_CLOSE_ABNORMAL, "cannot send upgrade", 19);
        teardown(c);
        return;
    }
    c->state = ST_HEAD;
}

static void client_got_head(lw_conn_t *c)
{
    lw_http_head_t head;
    int rc = lw_http_parse_response(c->in.data, c->in.len, &head);
    if (rc == LW_EAGAIN) return;
    char msg[80];
    if (rc < 0) {
        set_close(c, LW_WS_CLOSE_ABNORMAL, "malformed upgrade response", 26);
        teardown(c);
        return;
    }
    c->http_status = (uint16_t)head.status;
    lw_str_t chosen;
    client_ext_t *x = c->cx;
    int crc = lw_ws_check_accept(&head, x->key, (const char *const *)x->protocols, x->nprotocols,
                                 &chosen);
    if (crc) {
        int n = snprintf(msg, sizeof msg, "upgrade refused: HTTP %d", head.status);
        if (head.status == 101) n = snprintf(msg, sizeof msg, "bad upgrade response");
        set_close(c, LW_WS_CLOSE_ABNORMAL, msg, (size_t)n);
        teardown(c);
        return;
    }
    c->state = ST_OPEN;
    c->report_close = true;
    lw_ws_decoder_init(&c->dec, false, SET(c)->max_message);
    c->t_ping = now_ms(c);
    if (CBS(c)->on_open) CBS(c)->on_open(c, chosen);
    lw_buf_consume(&c->in, (size_t)rc);
    if (c->in.len && c->state == ST_OPEN && !c->closing_handle) {
        lw_buf_t rest = c->in;
        lw_buf_init(&c->in, 0);
        feed_ws(c, (uint8_t *)rest.data, rest.len);
        lw_buf_free(&rest);
    }
    lw_buf_free(&c->in);
}

static void on_connected(uv_connect_t *req, int status)
{
    lw_conn_t *c = req->data;
    if (status == UV_ECANCELED || c->closing_handle) return;
    if (status < 0) {
        char msg[96];
        int n = snprintf(msg, sizeof msg, "connect failed: %s", uv_strerror(status));
        set_close(c, LW_WS_CLOSE_ABNORMAL, msg, (size_t)n);
        teardown(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    start_reading(c);
    if (c->ssl)
        tls_pump(c); /* ClientHello */
    else
        send_upgrade(c);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *ai)
{
    lw_conn_t *c = req->data;
    c->cx->resolving = false;
    if (c->free_after_resolve) {
        uv_freeaddrinfo(ai);
        free_conn(c);
        return;
    }
    if (c->closing_handle) {
        uv_freeaddrinfo(ai);
        return;
    }
    if (status < 0 || !ai) {
        char msg[96];
        int n = snprintf(msg, sizeof msg, "resolve failed: %s", uv_strerror(status));
        set_close(c, LW_WS_CLOSE_ABNORMAL, msg, (size_t)n);
        uv_freeaddrinfo(ai);
        teardown(c);
        return;
    }
    c->cx->connect.data = c;
    int rc = uv_tcp_connect(&c->cx->connect, &c->tcp, ai->ai_addr, on_connected);
    uv_freeaddrinfo(ai);
    if (rc) {
        set_close(c, LW_WS_CLOSE_ABNORMAL, "connect failed", 14);
        teardown(c);
    }
}

/* ws://host[:port][/path] or wss://…; host may be [v6]. */
static int parse_url(const char *url, client_ext_t *x, bool *tls)
{
    const char *p;
    if (strncmp(url, "ws://", 5) == 0) {
        p = url + 5;
        *tls = false;
    } else if (strncmp(url, "wss://", 6) == 0) {
        p = url + 6;
        *tls = true;
    } else {
        return LW_EINVAL;
    }
    const char *slash = strchr(p, '/');
    const char *hend = slash ? slash : p + strlen(p);
    const char *hs = p, *he, *portp = NULL;
    if (*p == '[') {
        const char *rb = memchr(p, ']', (size_t)(hend - p));
        if (!rb) return LW_EINVAL;
        hs = p + 1;
        he = rb;
        if (rb + 1 < hend) {
            if (rb[1] != ':') return LW_EINVAL;
            portp = rb + 2;
        }
    } else {
        const char *colon = memchr(p, ':', (size_t)(hend - p));
        he = colon ? colon : hend;
        if (colon) portp = colon + 1;
    }
    if (he == hs) return LW_EINVAL;
    char port[8];
    if (portp) {
        size_t n = (size_t)(hend - portp);
        if (n == 0 || n > 5) return LW_EINVAL;
        for (size_t i = 0; i < n; i++)
            if (portp[i] < '0' || portp[i] > '9') return LW_EINVAL;
        memcpy(port, portp, n);
        port[n] = 0;
    } else {
        lw_cstr_copy(port, sizeof port, *tls ? "443" : "80");
    }
    x->host = lw_str_dup((lw_str_t){hs, (size_t)(he - hs)});
    x->port = lw_str_dup(lw_str_c(port));
    x->hostport = lw_str_dup((lw_str_t){p, (size_t)(hend - p)});
    x->target = lw_str_dup(slash ? lw_str_c(slash) : LW_STR("/"));
    if (!x->host || !x->port || !x->hostport || !x->target) return LW_ENOMEM;
    for (const char *q = x->target; *q; q++)
        if ((unsigned char)*q <= 0x20 || *q == 0x7f) return LW_EINVAL;
    return 0;
}

int lw_ws_connect(lw_net_loop_t *l, const lw_client_config_t *cfg, const lw_net_cbs_t *cbs,
                  void *ud, lw_conn_t **out)
{
    *out = NULL;
    if (!l || !cfg || !cfg->url || !cbs || l->freeing) return LW_EINVAL;
    client_ext_t *x = calloc(1, sizeof *x);
    if (!x) return LW_ENOMEM;
    bool tls = false;
    int rc = parse_url(cfg->url, x, &tls);
    if (!rc && tls && (!cfg->tls || cfg->tls->server)) rc = LW_EINVAL;
    if (!rc && cfg->nprotocols > LW_WS_PROTOCOLS_MAX) rc = LW_EINVAL;
    if (!rc && cfg->nprotocols) {
        x->protocols = calloc(cfg->nprotocols, sizeof *x->protocols);
        if (!x->protocols) rc = LW_ENOMEM;
        for (size_t i = 0; !rc && i < cfg->nprotocols; i++) {
            x->protocols[i] = lw_str_dup(lw_str_c(cfg->protocols[i]));
            x->nprotocols++;
            if (!x->protocols[i]) rc = LW_ENOMEM;
        }
    }
    if (!rc && cfg->authorization && !(x->auth = lw_str_dup(lw_str_c(cfg->authorization))))
        rc = LW_ENOMEM;
    if (!rc && !(x->sni = lw_str_dup(lw_str_c(cfg->server_name ? cfg->server_name : x->host))))
        rc = LW_ENOMEM;
    if (!rc) rc = lw_ws_client_key(x->key);
    lw_conn_t *c = rc ? NULL : calloc(1, sizeof *c);
    if (!rc && !c) rc = LW_ENOMEM;
    if (!rc && tls) {
        c->ssl = SSL_new(cfg->tls->ctx);
        if (!c->ssl || tls_attach(l, c->ssl)) {
            rc = LW_ETLS;
        } else {
            SSL_set_connect_state(c->ssl);
            struct in6_addr tmp;
            bool numeric = uv_inet_pton(AF_INET, x->sni, &tmp) == 0 ||
                           uv_inet_pton(AF_INET6, x->sni, &tmp) == 0;
            if (!numeric) SSL_set_tlsext_host_name(c->ssl, x->sni);
            if (cfg->tls->verify_host) {
                if (numeric)
                    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), x->sni);
                else
                    SSL_set1_host(c->ssl, x->sni);
            }
        }
    }
    if (rc) {
        if (c && c->ssl) SSL_free(c->ssl);
        free(c);
        free_client_ext(x);
        return rc;
    }
    fill_settings(&x->set, cfg->max_message, 0, cfg->handshake_timeout_ms, cfg->ping_interval_ms,
                  cfg->pong_timeout_ms);
    x->set.no_auto_pong = cfg->no_auto_pong;
    x->cbs = *cbs;
    c->cx = x;
    c->loop = l;
    c->ud = ud;
    c->state = ST_CONNECTING;
    c->report_close = true;
    uv_tcp_init(l->uv, &c->tcp);
    c->tcp.data = c;
    c->next = l->conns;
    if (l->conns) l->conns->prev = c;
    l->conns = c;
    l->nlive++;
    c->t_start = c->t_rx = now_ms(c);
    lw_net_loop_want_tick(l, x->set.handshake_timeout_ms);
    lw_net_loop_want_tick(l, x->set.ping_interval_ms);
    x->gai.data = c;
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    x->resolving = true;
    if (uv_getaddrinfo(l->uv, &x->gai, on_resolved, x->host, x->port, &hints)) {
        x->resolving = false;
        set_close(c, LW_WS_CLOSE_ABNORMAL, "resolve failed", 14);
        teardown(c); /* on_close reports it later, as promised for every client */
    }
    *out = c;
    return 0;
}

int lw_http_basic_auth(const char *user, const char *password, char *out, size_t outsz)
{
    size_t ul = strlen(user), pl = strlen(password), n = ul + 1 + pl;
    size_t need = 6 + 4 * ((n + 2) / 3) + 1;
    if (outsz < need) return LW_ETOOBIG;
    char *raw = malloc(n + 1);
    if (!raw) return LW_ENOMEM;
    memcpy(raw, user, ul);
    raw[ul] = ':';
    memcpy(raw + ul + 1, password, pl);
    memcpy(out, "Basic ", 6);
    EVP_EncodeBlock((unsigned char *)out + 6, (const unsigned char *)raw, (int)n);
    free(raw);
    return 0;
}

/* ---- using a connection --------------------------------------------------------------------- */

static int send_message(lw_conn_t *c, int op, const void *data, size_t len)
{
    if (!c) return LW_EINVAL;
    if (c->closing_handle || c->state == ST_CLOSING || c->state == ST_DONE) return LW_ECLOSED;
    if (c->state != ST_OPEN) return LW_EINVAL;
    if (len > SET(c)->max_message) return LW_ETOOBIG;
    if (op == LW_WS_OP_TEXT && !lw_utf8_valid(data, len)) return LW_EINVAL;
    return send_frame(c, op, data, len);
}

int lw_ws_send_text(lw_conn_t *c, const char *data, size_t len)
{
    return send_message(c, LW_WS_OP_TEXT, data, len);
}

int lw_ws_send_binary(lw_conn_t *c, const void *data, size_t len)
{
    return send_message(c, LW_WS_OP_BINARY, data, len);
}

int lw_ws_ping(lw_conn_t *c)
{
    if (!c || c->state != ST_OPEN || c->closing_handle) return LW_ECLOSED;
    return send_frame(c, LW_WS_OP_PING, "lw", 2);
}

int lw_ws_close(lw_conn_t *c, int code, const char *reason)
{
    if (!c || c->closing_handle) return LW_ECLOSED;
    switch (c->state) {
    case ST_OPEN:
        begin_close(c, code, reason);
        return 0;
    case ST_CONNECTING:
    case ST_HEAD:
        if (c->srv) return LW_EINVAL;
        set_close(c, code, reason, reason ? strlen(reason) : 0);
        teardown(c);
        return 0;
    case ST_STREAM:
        return lw_http_stream_end(c);
    case ST_PENDING:
    case ST_REQUEST:
        return LW_EINVAL;
    default:
        return LW_ECLOSED;
    }
}

/* Keepalive and deadlines, from the loop's housekeeping timer. */
void lw_net_tick_conns(lw_net_loop_t *l)
{
    uint64_t now = lw_clock_mono(l->clock);
    for (lw_conn_t *c = l->conns; c; c = c->next) {
        if (c->closing_handle) continue;
        const conn_settings_t *s = SET(c);
        switch (c->state) {
        case ST_CONNECTING:
        case ST_HEAD:
        case ST_PENDING: {
            /* a server connection between keep-alive requests counts from its last byte */
            uint64_t since = c->srv && c->state == ST_HEAD ? c->t_rx : c->t_start;
            if (now - since >= s->handshake_timeout_ms) {
                set_close(c, LW_WS_CLOSE_ABNORMAL, "handshake timeout", 17);
                teardown(c);
            }
            break;
        }
        case ST_OPEN:
            if (!s->ping_interval_ms) break;
            if (c->ping_out && now - c->t_ping >= s->pong_timeout_ms) {
                set_close(c, LW_WS_CLOSE_ABNORMAL, "ping timeout", 12);
                teardown(c);
            } else if (!c->ping_out && now - c->t_ping >= s->ping_interval_ms) {
                c->ping_out = true;
                c->t_ping = now;
                send_frame(c, LW_WS_OP_PING, "lw", 2);
            }
            break;
        case ST_CLOSING:
            if (now - c->t_ping >= LW_WS_CLOSE_TIMEOUT_MS) teardown(c);
            break;
        default:
            break;
        }
    }
}

/* ---- accessors ------------------------------------------------------------------------------- */

size_t lw_conn_write_queue(const lw_conn_t *c)
{
    return uv_stream_get_write_queue_size((const uv_stream_t *)&c->tcp);
}

void lw_conn_set_data(lw_conn_t *c, void *ud)
{
    c->ud = ud;
}

void *lw_conn_data(const lw_conn_t *c)
{
    return c->ud;
}

lw_server_t *lw_conn_server(const lw_conn_t *c)
{
    return c->srv;
}

lw_net_loop_t *lw_conn_loop(const lw_conn_t *c)
{
    return c->loop;
}

int lw_conn_peer_ip(const lw_conn_t *c, char *out, size_t outsz)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (c->closing_handle || uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len))
        return LW_EIO;
    if (ss.ss_family == AF_INET6)
        return uv_ip6_name((struct sockaddr_in6 *)&ss, out, outsz) ? LW_EIO : 0;
    /* Dotted quad by hand: uv_ip4_name goes through snprintf, once per accepted connection. */
    char ip[16];
    size_t n = lw_ip4_text((const uint8_t *)&((struct sockaddr_in *)&ss)->sin_addr.s_addr, ip);
    if (n >= outsz) return LW_EIO;
    memcpy(out, ip, n + 1);
    return 0;
}

static lw_str_t pending_header(const lw_conn_t *c, bool target)
{
    if ((c->state != ST_PENDING && c->state != ST_REQUEST) || !c->req_len) return LW_STR_NULL;
    lw_http_head_t head;
    if (lw_http_parse_request(c->in.data, c->in.len, &head) <= 0) return LW_STR_NULL;
    return target ? head.target : lw_http_head_get(&head, "Authorization");
}

lw_str_t lw_conn_target(const lw_conn_t *c)
{
    return pending_header(c, true);
}

lw_str_t lw_conn_authorization(const lw_conn_t *c)
{
    return pending_header(c, false);
}

int lw_conn_peer_cn(const lw_conn_t *c, char *out, size_t outsz)
{
    if (!c->ssl || !c->tls_done) return LW_ENOTFOUND;
    X509 *x = SSL_get0_peer_certificate(c->ssl);
    if (!x || SSL_get_verify_result(c->ssl) != X509_V_OK) return LW_ENOTFOUND;
    int n = X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, NULL, 0);
    if (n < 0) return LW_ENOTFOUND;
    if ((size_t)n >= outsz) return LW_ETOOBIG;
    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, out, (int)outsz);
    return 0;
}

bool lw_conn_is_tls(const lw_conn_t *c)
{
    return c->ssl != NULL;
}

int lw_conn_http_status(const lw_conn_t *c)
{
    return c->http_status;
}
