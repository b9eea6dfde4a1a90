/*
 * bench_echo_ceiling.c — the ceiling baseline of the benchmark suite (bench/run): the least a
 * WebSocket server can do on this machine. One thread, epoll, hand-made RFC 6455 framing and
 * nothing else: it completes the upgrade (echoing the first subprotocol offered), and answers
 * every text frame with one fixed reply. For an OCPP CALL `[2,"<id>",...]` the reply is a
 * CALLRESULT `[3,"<id>",{...}]` with the request's message id and a fixed payload that
 * satisfies the load generator (status Accepted, a currentTime, transactionId 1), so OCPP
 * clients get an answer without any JSON parsing or validation. Optional TLS (OpenSSL,
 * TLS 1.3 only, no session tickets: every connection is a full handshake).
 *
 *   build/bench/bench_echo_ceiling [--listen 127.0.0.1:PORT] [--tls-cert F --tls-key K]
 *
 * Prints "listening HOST:PORT" once ready; stops on SIGTERM/SIGINT. Binds 127.0.0.1 only.
 * Not part of Ladewerk: a yardstick, so it trusts its peer more than a server should (it
 * still bounds every buffer and drops a connection that breaks the protocol).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define IN_MAX   65536  /* largest buffered request (head or frame) per connection */
#define OUT_MAX  262144 /* unsent reply bytes per connection before it is dropped */
#define READ_BUF 65536

enum { ST_TLS, ST_HTTP, ST_WS };

typedef struct conn {
    int fd;
    uint8_t state;
    bool closing;
    SSL *ssl;
    /* partial input (only while a head or frame is split across reads) */
    char *in;
    uint32_t in_len;
    /* unsent output */
    char *out;
    uint32_t out_len, out_off;
} conn_t;

static volatile sig_atomic_t stop;
static SSL_CTX *ctx;
static int ep;
static char rbuf[READ_BUF];
static long nconns;

static void on_signal(int s)
{
    (void)s;
    stop = 1;
}

static void conn_free(conn_t *c)
{
    if (c->ssl) SSL_free(c->ssl);
    /* Abortive close so a benchmark run does not leave TIME_WAIT behind. */
    struct linger lg = {1, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(c->fd);
    free(c->in);
    free(c->out);
    free(c);
    nconns--;
}

/* Sends what is queued; returns false when the connection must be dropped. */
static bool flush(conn_t *c)
{
    while (c->out_off < c->out_len) {
        int n;
        uint32_t left = c->out_len - c->out_off;
        if (c->ssl) {
            n = SSL_write(c->ssl, c->out + c->out_off, (int)left);
            if (n <= 0) {
                int e = SSL_get_error(c->ssl, n);
                if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) return true;
                return false;
            }
        } else {
            n = (int)write(c->fd, c->out + c->out_off, left);
            if (n < 0) return errno == EAGAIN || errno == EINTR;
        }
        c->out_off += (uint32_t)n;
    }
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_off = 0;
    return true;
}

/* Queues p[0..n) behind whatever is pending, then tries to send. */
static bool send_bytes(conn_t *c, const void *p, size_t n)
{
    if (c->out_len - c->out_off + n > OUT_MAX) return false;
    if (!c->out && !c->ssl) {
        ssize_t w = write(c->fd, p, n);
        if (w == (ssize_t)n) return true;
        if (w < 0 && errno != EAGAIN && errno != EINTR) return false;
        if (w < 0) w = 0;
        p = (const char *)p + w;
        n -= (size_t)w;
    }
    char *o = realloc(c->out, c->out_len + n);
    if (!o) return false;
    memcpy(o + c->out_len, p, n);
    c->out = o;
    c->out_len += (uint32_t)n;
    return flush(c);
}

static const char *find_header(const char *head, size_t len, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    const char *p = memchr(head, '\n', len);
    const char *end = head + len;
    while (p && p + 1 < end) {
        p++;
        if ((size_t)(end - p) > nl + 1 && !strncasecmp(p, name, nl) && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            const char *e = v;
            while (e < end && *e != '\r' && *e != '\n')
                e++;
            *vlen = (size_t)(e - v);
            return v;
        }
        p = memchr(p, '\n', (size_t)(end - p));
    }
    return NULL;
}

/* RFC 6455 §4.2.2: 101 with base64(SHA-1(key + GUID)) and the first offered subprotocol. */
static long handle_head(conn_t *c, const char *buf, size_t len)
{
    const char *e = NULL;
    for (size_t i = 3; i < len; i++)
        if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r') {
            e = buf + i + 1;
            break;
        }
    if (!e) return len >= IN_MAX ? -1 : 0;
    size_t hl = (size_t)(e - buf), kl = 0, pl = 0;
    const char *key = find_header(buf, hl, "Sec-WebSocket-Key", &kl);
    const char *proto = find_header(buf, hl, "Sec-WebSocket-Protocol", &pl);
    if (!key || kl == 0 || kl > 64) return -1;
    char cat[128];
    memcpy(cat, key, kl);
    memcpy(cat + kl, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", 36);
    unsigned char dig[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)cat, kl + 36, dig);
    char acc[32];
    EVP_EncodeBlock((unsigned char *)acc, dig, SHA_DIGEST_LENGTH);
    if (proto) {
        size_t i = 0;
        while (i < pl && proto[i] != ',' && proto[i] != ' ')
            i++;
        pl = i;
    }
    char out[512];
    int n = snprintf(out, sizeof out,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s%.*s%s\r\n",
                     acc, proto ? "Sec-WebSocket-Protocol: " : "", (int)(proto ? pl : 0),
                     proto ? proto : "", proto ? "\r\n" : "");
    if (n <= 0 || (size_t)n >= sizeof out || !send_bytes(c, out, (size_t)n)) return -1;
    c->state = ST_WS;
    return (long)hl;
}

static bool send_frame(conn_t *c, int opcode, const char *p, size_t n)
{
    char f[1024];
    size_t h = 2;
    f[0] = (char)(0x80 | opcode);
    if (n < 126) {
        f[1] = (char)n;
    } else {
        f[1] = 126;
        f[2] = (char)(n >> 8);
        f[3] = (char)n;
        h = 4;
    }
    if (h + n > sizeof f) return false;
    memcpy(f + h, p, n);
    return send_bytes(c, f, h + n);
}

static const char fixed_payload[] = "{\"currentTime\":\"2026-01-01T00:00:00.000Z\",\"interval\":"
                                    "300,\"status\":\"Accepted\",\"transactionId\":1,"
                                    "\"idTagInfo\":{\"status\":\"Accepted\"}}";

/* The fixed answer: CALLRESULT with the id of a CALL, else the fixed payload alone. */
static bool answer(conn_t *c, const char *m, size_t n)
{
    char r[256];
    size_t rl;
    const char *q1 = n > 4 && m[1] == '2' ? memchr(m, '"', n) : NULL;
    const char *q2 = q1 ? memchr(q1 + 1, '"', n - (size_t)(q1 + 1 - m)) : NULL;
    if (q2 && q2 - q1 - 1 <= 64) {
        int k = snprintf(r, sizeof r, "[3,\"%.*s\",%s]", (int)(q2 - q1 - 1), q1 + 1, fixed_payload);
        rl = (size_t)k;
    } else {
        rl = sizeof fixed_payload - 1;
        memcpy(r, fixed_payload, rl);
    }
    return send_frame(c, 1, r, rl);
}

/* One frame at buf, client frames are masked (RFC 6455 §5.3). Returns bytes used, 0 when
 * incomplete, -1 to drop the connection. */
static long handle_frame(conn_t *c, char *buf, size_t len)
{
    if (len < 2) return 0;
    uint8_t b0 = (uint8_t)buf[0], b1 = (uint8_t)buf[1];
    if (!(b1 & 0x80)) return -1;
    uint64_t pl = b1 & 0x7f;
    size_t h = 2;
    if (pl == 126) {
        if (len < 4) return 0;
        pl = ((uint64_t)(uint8_t)buf[2] << 8) | (uint8_t)buf[3];
        h = 4;
    } else if (pl == 127) {
        if (len < 10) return 0;
        pl = 0;
        for (int i = 0; i < 8; i++)
            pl = (pl << 8) | (uint8_t)buf[2 + i];
        h = 10;
    }
    if (pl > IN_MAX - 14) return -1;
    if (len < h + 4 + pl) return len >= IN_MAX ? -1 : 0;
    uint8_t *mask = (uint8_t *)buf + h;
    char *p = buf + h + 4;
    for (uint64_t i = 0; i < pl; i++)
        p[i] ^= (char)mask[i & 3];
    int op = b0 & 0x0f;
    bool ok = true;
    if (op == 0x8) { /* close: answer with a close and drop */
        send_frame(c, 0x8, p, pl > 2 ? 2 : pl);
        return -1;
    } else if (op == 0x9) {
        ok = send_frame(c, 0xA, p, pl);
    } else if (op == 0x1 || op == 0x2) {
        ok = answer(c, p, pl);
    }
    return ok ? (long)(h + 4 + pl) : -1;
}

/* Consumes complete heads/frames at buf; returns bytes used or -1. */
static long process(conn_t *c, char *buf, size_t len)
{
    size_t used = 0;
    while (used < len) {
        long n = c->state == ST_HTTP ? handle_head(c, buf + used, len - used)
                                     : handle_frame(c, buf + used, len - used);
        if (n < 0) return -1;
        if (n == 0) break;
        used += (size_t)n;
    }
    return (long)used;
}

static bool on_bytes(conn_t *c, char *p, size_t n)
{
    if (c->in) {
        if (c->in_len + n > IN_MAX) return false;
        memcpy(c->in + c->in_len, p, n);
        c->in_len += (uint32_t)n;
        long u = process(c, c->in, c->in_len);
        if (u < 0) return false;
        if ((uint32_t)u == c->in_len) {
            free(c->in);
            c->in = NULL;
            c->in_len = 0;
        } else if (u > 0) {
            memmove(c->in, c->in + u, c->in_len - (uint32_t)u);
            c->in_len -= (uint32_t)u;
        }
        return true;
    }
    long u = process(c, p, n);
    if (u < 0) return false;
    if ((size_t)u < n) {
        c->in = malloc(IN_MAX);
        if (!c->in) return false;
        memcpy(c->in, p + u, n - (size_t)u);
        c->in_len = (uint32_t)(n - (size_t)u);
    }
    return true;
}

/* Progress on a readable/writable connection; false = drop it. */
static bool on_event(conn_t *c)
{
    if (c->state == ST_TLS) {
        int r = SSL_accept(c->ssl);
        if (r <= 0) {
            int e = SSL_get_error(c->ssl, r);
            return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
        }
        c->state = ST_HTTP;
    }
    if (c->out && !flush(c)) return false;
    for (;;) {
        int n;
        if (c->ssl) {
            n = SSL_read(c->ssl, rbuf, sizeof rbuf);
            if (n <= 0) {
                int e = SSL_get_error(c->ssl, n);
                return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
            }
        } else {
            n = (int)read(c->fd, rbuf, sizeof rbuf);
            if (n == 0) return false;
            if (n < 0) return errno == EAGAIN || errno == EINTR;
        }
        if (!on_bytes(c, rbuf, (size_t)n)) return false;
    }
}

static void on_accept(int lfd)
{
    for (int k = 0; k < 256; k++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn_t *c = calloc(1, sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->state = ctx ? ST_TLS : ST_HTTP;
        if (ctx) {
            c->ssl = SSL_new(ctx);
            if (!c->ssl || !SSL_set_fd(c->ssl, fd)) {
                conn_free(c);
                continue;
            }
        }
        nconns++;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP,
                                 .data.ptr = c};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) conn_free(c);
    }
}

int main(int argc, char **argv)
{
    const char *listen_at = "127.0.0.1:18181", *cert = NULL, *key = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--listen") && i + 1 < argc)
            listen_at = argv[++i];
        else if (!strcmp(argv[i], "--tls-cert") && i + 1 < argc)
            cert = argv[++i];
        else if (!strcmp(argv[i], "--tls-key") && i + 1 < argc)
            key = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--listen 127.0.0.1:PORT] [--tls-cert F --tls-key K]\n",
                    argv[0]);
            return 2;
        }
    }
    const char *colon = strrchr(listen_at, ':');
    if (!colon || strncmp(listen_at, "127.0.0.1:", 10) != 0) {
        fprintf(stderr, "ceiling: --listen must be 127.0.0.1:PORT\n");
        return 2;
    }
    int port = atoi(colon + 1);
    if (cert && key) {
        ctx = SSL_CTX_new(TLS_server_method());
        if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
            SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
            ERR_print_errors_fp(stderr);
            return 1;
        }
        SSL_CTX_set_num_tickets(ctx, 0);
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    }
    /* OpenSSL 3 loads its SHA-1 implementation on first use: do it now, so the first
     * connections do not carry that one-off cost into the per-connection memory figure. */
    unsigned char warm[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)"x", 1, warm);
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 4096) < 0) {
        perror("ceiling: bind/listen");
        return 1;
    }
    ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
    printf("listening 127.0.0.1:%d%s\n", port, ctx ? " (tls)" : "");
    fflush(stdout);

    static struct epoll_event evs[512];
    while (!stop) {
        int n = epoll_wait(ep, evs, 512, 500);
        for (int i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;
            if (!c) {
                on_accept(lfd);
                continue;
            }
            if ((evs[i].events & (EPOLLERR | EPOLLHUP)) || !on_event(c) ||
                (evs[i].events & EPOLLRDHUP && !c->ssl && !c->out)) {
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                conn_free(c);
            }
        }
    }
    close(lfd);
    close(ep);
    if (ctx) SSL_CTX_free(ctx);
    return 0;
}
