/*
 * ladewerk/net.h — connections on libuv: the WebSocket server (station listener), the
 * WebSocket client (simulator, station library host side), a small HTTP/1.1 server mode
 * (operator listener: REST, SSE), TLS through a BIO of the loop's, several loops sharing a
 * port with SO_REUSEPORT, and posting work to a loop from another thread.
 *
 * Threading: every object belongs to one lw_net_loop_t and must only be touched from that
 * loop's thread; lw_net_loop_post() is the one thread-safe entry.
 *
 * Lifetime of a connection (lw_conn_t):
 *   server, WebSocket: on_upgrade(c) → you call lw_ws_accept() or lw_ws_reject(), now or
 *     later. Until you do, c stays valid even if the peer left (the call then returns
 *     LW_ECLOSED and no further callbacks come). After lw_ws_accept(): on_open, on_message…,
 *     then exactly one on_close; c is invalid once on_close returns.
 *   server, HTTP: on_request(c) → you call lw_http_respond() (now or later; c stays valid
 *     until you do, as above) or lw_http_stream_start() (then c lives until on_close).
 *   client: lw_ws_connect() → on_open or not, then exactly one on_close (also when the
 *     connection or handshake failed: code 1006, reason says why; lw_conn_http_status()
 *     tells a 401 apart).
 * Nothing is freed inside a callback: closing marks the connection, uv_close() runs, and
 * on_close is called from the handle's close callback just before the memory is freed.
 */
#ifndef LADEWERK_NET_H
#define LADEWERK_NET_H

#include "ladewerk/base.h"
#include "ladewerk/ws.h"

#include <uv.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lw_net_loop lw_net_loop_t;
typedef struct lw_server lw_server_t;
typedef struct lw_conn lw_conn_t;
typedef struct lw_tls lw_tls_t;

/* ---- loops ---------------------------------------------------------------------------------- */

/* Wraps uv (borrowed; must outlive the lw_net_loop_t). clock: borrowed, NULL = real clock;
 * used for keepalive and handshake deadlines. Returns owned (free with lw_net_loop_free), or
 * NULL on ENOMEM. Holds the per-loop shared read buffers (LW_NET_READ_BUF), the write scratch
 * buffers (LW_NET_WRITE_SCRATCH, LW_NET_READ_BUF) and the housekeeping timer. */
lw_net_loop_t *lw_net_loop_new(uv_loop_t *uv, const lw_clock_t *clock);
/* Closes every server and connection of the loop (on_close fires for open ones), then
 * releases the loop's handles. Run the uv loop until it returns afterwards; the memory is
 * freed from the last close callback. */
void lw_net_loop_free(lw_net_loop_t *l);
uv_loop_t *lw_net_loop_uv(lw_net_loop_t *l);

/* Thread-safe: runs fn(arg) on l's thread soon (uv_async + a locked queue). Returns 0 or
 * LW_ENOMEM / LW_ECLOSED (loop shutting down: fn will not run). fn runs exactly once. */
int lw_net_loop_post(lw_net_loop_t *l, void (*fn)(void *arg), void *arg);

/* N loops on N threads. init(loop, index, ud) runs on each thread before its loop runs (create
 * the listener there, with reuseport); returns 0 or an error that fails lw_net_threads_start.
 * Returns owned (stop with lw_net_threads_stop) or NULL. */
typedef struct lw_net_threads lw_net_threads_t;
lw_net_threads_t *lw_net_threads_start(int n, int (*init)(lw_net_loop_t *l, int index, void *ud),
                                       void *ud, int *err);
lw_net_loop_t *lw_net_threads_loop(lw_net_threads_t *t, int index);
int lw_net_threads_count(const lw_net_threads_t *t);
/* Shuts every loop down (as lw_net_loop_free), joins the threads, frees t. */
void lw_net_threads_stop(lw_net_threads_t *t);

/* ---- TLS (OpenSSL 3; its I/O goes through the loop's buffers, never a file descriptor) ----------
 */

typedef enum {
    LW_TLS_VERIFY_NONE = 0,     /* server: no client certificate asked */
    LW_TLS_VERIFY_OPTIONAL = 1, /* server: asked; if sent it must verify */
    LW_TLS_VERIFY_REQUIRED = 2, /* server: mutual TLS; client: verify the server */
} lw_tls_verify_t;
/* A client verifies the server (chain and host name) when verify != NONE or a ca_file is
 * given; only NONE without ca_file skips verification (tests, never production). */

typedef struct lw_tls_config {
    const char *cert_file; /* PEM chain; server: required; client: optional (client cert) */
    const char *key_file;  /* PEM private key for cert_file */
    const char *ca_file;   /* PEM CAs to verify the peer; NULL = system default (client) */
    lw_tls_verify_t verify;
} lw_tls_config_t;

/* TLS 1.2 and 1.3 only. Borrows cfg (files are read now). Returns owned (free with
 * lw_tls_free after every server/connection using it is gone) or NULL with *err = LW_ETLS /
 * LW_EINVAL; a reason is logged. A context may be shared by several loops. */
lw_tls_t *lw_tls_server_new(const lw_tls_config_t *cfg, int *err);
lw_tls_t *lw_tls_client_new(const lw_tls_config_t *cfg, int *err);
void lw_tls_free(lw_tls_t *t);

/* ---- callbacks ---------------------------------------------------------------------------------
 */

/* A plain HTTP request (server mode). Views valid only during on_request. */
typedef struct lw_http_request {
    lw_str_t method;
    lw_str_t target;
    const lw_http_head_t *head; /* all headers */
    lw_str_t body;              /* Content-Length bytes (bounded by http_body_max) */
} lw_http_request_t;

typedef struct lw_net_cbs {
    /* Server: a valid WebSocket upgrade request. req and its views are valid during the
     * callback only (lw_conn_target/lw_conn_authorization stay valid until you decide).
     * Decide with lw_ws_accept / lw_ws_reject, in the callback or later. */
    void (*on_upgrade)(lw_conn_t *c, const lw_ws_upgrade_t *req);
    /* Server: called inside lw_ws_accept once the 101 is queued; protocol = the chosen one.
     * Client: the server accepted; protocol = what it chose (len 0 = none). */
    void (*on_open)(lw_conn_t *c, lw_str_t protocol);
    /* A complete message. data valid during the call only. */
    void (*on_message)(lw_conn_t *c, lw_str_t data, bool binary);
    /* Exactly once per opened connection (and per client connection, even if it never
     * opened, and per HTTP stream). code: peer's close code, the one we sent, or 1006 (TCP
     * gone, keepalive timeout, connect/handshake failure). reason valid during the call. c
     * is invalid after return. */
    void (*on_close)(lw_conn_t *c, int code, lw_str_t reason);
    /* Server: a plain HTTP request (no upgrade). If NULL, plain requests get 426/404. */
    void (*on_request)(lw_conn_t *c, const lw_http_request_t *req);
} lw_net_cbs_t;

/* ---- server
 * -------------------------------------------------------------------------------------- */

typedef struct lw_server_config {
    const char *host;              /* "0.0.0.0", "127.0.0.1", "::" … (numeric) */
    int port;                      /* 0 = ephemeral, read back with lw_server_port */
    bool reuseport;                /* SO_REUSEPORT: several loops/processes on one port */
    lw_tls_t *tls;                 /* borrowed; NULL = plain ws:// / http:// */
    size_t max_message;            /* 0 = LW_WS_MESSAGE_MAX_DEFAULT */
    size_t http_body_max;          /* 0 = LW_HTTP_BODY_MAX_DEFAULT */
    uint32_t handshake_timeout_ms; /* 0 = LW_WS_HANDSHAKE_TIMEOUT_MS_DEFAULT */
    uint32_t ping_interval_ms;     /* WebSocket ping period; 0 = no pings */
    uint32_t pong_timeout_ms;      /* no frame within this after a ping closes; 0 = default */
    /* Optional: called on each accepted TCP connection before anything is read; return
     * false to drop it (per-IP limits). ip is the numeric peer address. */
    bool (*allow_peer)(void *ud, const char *ip);
} lw_server_config_t;

/* Creates a server on loop l and starts listening. cfg and cbs are copied (cbs pointers
 * and cfg->tls must stay valid). ud: user pointer, see lw_server_data. Returns 0 and *out
 * (owned: lw_server_close), or LW_EINVAL/LW_EIO (bind/listen failed; reason logged). */
int lw_server_start(lw_net_loop_t *l, const lw_server_config_t *cfg, const lw_net_cbs_t *cbs,
                    void *ud, lw_server_t **out);
/* The bound port (useful after port 0). */
int lw_server_port(const lw_server_t *s);
void *lw_server_data(const lw_server_t *s);
/* Stops listening and closes its connections with 1001 (on_close fires); freed later. */
void lw_server_close(lw_server_t *s);

/* Accepts the pending upgrade with protocol (one of req->protocols; len 0 = none; the view
 * may point into req). Queues the 101, calls on_open, then reads frames. Returns 0,
 * LW_ECLOSED (peer left / timed out meanwhile: c is freed by this call, no callbacks), or
 * LW_EINVAL (no decision pending, or protocol was not offered; still pending then). */
int lw_ws_accept(lw_conn_t *c, lw_str_t protocol);
/* Refuses the pending upgrade with status and optional extra header lines (borrowed), e.g.
 * lw_ws_reject(c, 401, "WWW-Authenticate: Basic realm=\"ladewerk\"\r\n"). The connection
 * is closed after the answer; c is invalid after return (no on_close). Returns 0 or
 * LW_ECLOSED / LW_EINVAL as lw_ws_accept. */
int lw_ws_reject(lw_conn_t *c, int status, const char *extra_headers);

/* ---- client
 * ---------------------------------------------------------------------------------------- */

typedef struct lw_client_config {
    const char *url;              /* ws://host:port/path or wss://… (borrowed) */
    const char *const *protocols; /* offered subprotocols (borrowed during the call) */
    size_t nprotocols;
    const char *authorization;     /* full Authorization value ("Basic …") or NULL */
    lw_tls_t *tls;                 /* needed for wss://; borrowed, must outlive c */
    const char *server_name;       /* SNI/host check name; NULL = the URL's host */
    size_t max_message;            /* 0 = default */
    uint32_t handshake_timeout_ms; /* 0 = default */
    uint32_t ping_interval_ms;     /* client pings too if set; 0 = no pings */
    uint32_t pong_timeout_ms;      /* 0 = default */
    bool no_auto_pong;             /* tests only: do not answer pings (a silent peer) */
} lw_client_config_t;

/* Dials cfg->url (async: resolve, TCP, TLS, upgrade). Returns 0 and *out (valid until its
 * on_close returns), or LW_EINVAL (bad URL, wss without tls) / LW_ENOMEM; on failure no
 * callback fires. ud: see lw_conn_data. */
int lw_ws_connect(lw_net_loop_t *l, const lw_client_config_t *cfg, const lw_net_cbs_t *cbs,
                  void *ud, lw_conn_t **out);
/* Builds "Basic base64(user:password)" into out (at least 4*((len+2)/3)+7 bytes).
 * Returns 0 or LW_ETOOBIG. Borrows user and password. */
int lw_http_basic_auth(const char *user, const char *password, char *out, size_t outsz);

/* ---- using a connection
 * ---------------------------------------------------------------------------- */

/* Sends one text (or binary) message. Copies data (borrowed during the call): what the
 * socket does not take at once is queued; one frame, masked on the client side. Returns 0,
 * LW_ECLOSED (closing/closed), LW_ETOOBIG (beyond max_message), LW_EINVAL (not an open
 * WebSocket), LW_EIO / LW_ETLS (the connection failed and is closing: on_close follows) or
 * LW_ENOMEM (when the unsent rest could not be queued, the connection closes as for LW_EIO). */
int lw_ws_send_text(lw_conn_t *c, const char *data, size_t len);
int lw_ws_send_binary(lw_conn_t *c, const void *data, size_t len);
/* Sends a ping now (keepalive does this by itself). */
int lw_ws_ping(lw_conn_t *c);
/* Starts the closing handshake with code (1000, 1001, 1008, …) and reason (borrowed,
 * truncated to fit). on_close fires later with this code. Returns 0 or LW_ECLOSED. */
int lw_ws_close(lw_conn_t *c, int code, const char *reason);

/* Bytes queued for writing but not yet written to the socket (backpressure). */
size_t lw_conn_write_queue(const lw_conn_t *c);

void lw_conn_set_data(lw_conn_t *c, void *ud);
void *lw_conn_data(const lw_conn_t *c);
/* The server that accepted c, or NULL for a client connection. */
lw_server_t *lw_conn_server(const lw_conn_t *c);
lw_net_loop_t *lw_conn_loop(const lw_conn_t *c);
/* Numeric peer address ("127.0.0.1", "::1") into out; 0 or LW_EIO. */
int lw_conn_peer_ip(const lw_conn_t *c, char *out, size_t outsz);
/* Server: request target and Authorization of the upgrade/request (empty after the
 * decision: copy what you need). Valid until lw_ws_accept/reject/lw_http_respond. */
lw_str_t lw_conn_target(const lw_conn_t *c);
lw_str_t lw_conn_authorization(const lw_conn_t *c);
/* TLS: the verified peer certificate's subject CN into out. Returns 0, LW_ENOTFOUND (no
 * TLS, no certificate, or not verified), LW_ETOOBIG. */
int lw_conn_peer_cn(const lw_conn_t *c, char *out, size_t outsz);
bool lw_conn_is_tls(const lw_conn_t *c);
/* Client: the HTTP status of the upgrade answer (101, 401, …), 0 if none arrived. */
int lw_conn_http_status(const lw_conn_t *c);

/* ---- HTTP server mode
 * ------------------------------------------------------------------------------ */

/* Answers the pending request: status, extra header lines (borrowed, "Name: v\r\n"…), body
 * (copied). Adds Content-Length; keeps the connection alive if the request allows. c is
 * invalid after return. Returns 0, LW_ECLOSED (client left: c freed), LW_EINVAL. */
int lw_http_respond(lw_conn_t *c, int status, const char *headers, const void *body, size_t len);
/* Starts a streamed response (Server-Sent Events): sends the head without Content-Length
 * and with "Connection: close"; then lw_http_stream_write chunks (copied) until the client
 * goes away (on_close) or you call lw_http_stream_end. */
int lw_http_stream_start(lw_conn_t *c, int status, const char *headers);
int lw_http_stream_write(lw_conn_t *c, const void *data, size_t len);
/* Ends the stream; on_close follows with code 1000. */
int lw_http_stream_end(lw_conn_t *c);

#ifdef __cplusplus
}
#endif
#endif
