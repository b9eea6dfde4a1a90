/*
 * net_int.h — internals shared by the libuv transport files (loop.c, tls.c, conn.c). Not a
 * public header: the API is ladewerk/net.h.
 */
#ifndef LW_NET_INT_H
#define LW_NET_INT_H

#include "ladewerk/net.h"

#include <openssl/ssl.h>
#include <pthread.h>

typedef struct post_item {
    void (*fn)(void *);
    void *arg;
    struct post_item *next;
} post_item_t;

struct lw_net_loop {
    uv_loop_t *uv;
    const lw_clock_t *clock;
    char *rbuf;     /* shared socket read buffer (LW_NET_READ_BUF) */
    char *tbuf;     /* shared TLS plaintext buffer (LW_NET_READ_BUF) */
    bool tbuf_busy; /* a TLS pump is using tbuf (nested pumps take their own) */
    char *wbuf;     /* frame scratch (LW_NET_WRITE_SCRATCH): masked or TLS frames are built here */
    char *cbuf;     /* TLS ciphertext OpenSSL wrote, not yet given to the socket */
    /* TLS without per-connection BIO memory (conn.c): one BIO per loop serves every SSL of
     * the loop, for the connection whose SSL call is running (tls_cur). Ciphertext just read
     * is lent to OpenSSL from the read buffer (tls_in, for tls_in_conn); what OpenSSL writes
     * collects in cbuf (cout_len bytes, for cout_conn) and goes out after the call. */
    BIO *tls_bio;
    lw_conn_t *tls_cur, *tls_in_conn, *cout_conn;
    const char *tls_in;
    size_t tls_in_len, cout_len;
    uv_timer_t tick;
    uint32_t tick_ms;
    uv_async_t async;
    pthread_mutex_t mu; /* guards posts and closed */
    post_item_t *posts, **posts_tail;
    bool closed;  /* no more posts */
    bool freeing; /* lw_net_loop_free called: free when nlive reaches 0 */
    int nlive;    /* servers + connections + our 2 handles not yet closed */
    lw_conn_t *conns;
    lw_server_t *servers;
    uint32_t rng; /* xorshift state for client masking keys */
};

/* Settings shared by all connections of a server, or owned by one client connection. */
typedef struct conn_settings {
    size_t max_message;
    size_t http_body_max;
    uint32_t handshake_timeout_ms;
    uint32_t ping_interval_ms;
    uint32_t pong_timeout_ms;
    bool no_auto_pong;
} conn_settings_t;

struct lw_server {
    uv_tcp_t tcp;
    lw_net_loop_t *loop;
    lw_server_t *next;
    lw_net_cbs_t cbs;
    conn_settings_t set;
    lw_tls_t *tls;
    bool (*allow_peer)(void *ud, const char *ip);
    void *ud;
    int port;
    int nconns; /* connections still referencing this server */
    bool closing, handle_closed;
};

struct lw_tls {
    SSL_CTX *ctx;
    bool server;
    bool verify_host; /* client: check the server name against the certificate */
};

void lw_net_loop_retire(lw_net_loop_t *l); /* one live object gone */
void lw_net_loop_want_tick(lw_net_loop_t *l, uint32_t interval_ms);
void lw_net_tick_conns(lw_net_loop_t *l); /* conn.c: keepalive and deadlines */
void lw_net_conn_shutdown_all(lw_net_loop_t *l);
void lw_net_server_close_all(lw_net_loop_t *l);
uint32_t lw_net_rand(lw_net_loop_t *l);

#endif
