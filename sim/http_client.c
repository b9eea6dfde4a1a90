/*
 * http_client.c — the simulator's HTTP/1.1 client (see http_client.h): resolve, connect,
 * write the whole request, read until the response is complete or the peer closes. One
 * request per connection keeps it small; firmware and log transfers are rare.
 */
#include "http_client.h"

#include "ladewerk/limits.h"
#include "ladewerk/ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sim_http {
    uv_loop_t *loop;
    uv_getaddrinfo_t gai;
    uv_connect_t connect;
    uv_write_t write;
    uv_tcp_t tcp;
    uv_timer_t timer;
    int open_handles;
    bool gai_pending, tcp_init, done, cancelled;
    char host[256], port[8];
    lw_buf_t req, resp;
    size_t max_body;
    sim_http_cb cb;
    void *ud;
};

static void maybe_free(sim_http_t *h)
{
    if (h->open_handles || h->gai_pending) return;
    lw_buf_free(&h->req);
    lw_buf_free(&h->resp);
    free(h);
}

static void on_closed(uv_handle_t *hd)
{
    sim_http_t *h = hd->data;
    h->open_handles--;
    maybe_free(h);
}

/* Fires the callback (once, unless cancelled) and releases everything. */
static void finish(sim_http_t *h, int status, int http_status, const char *body, size_t len)
{
    if (h->done) return;
    h->done = true;
    if (!h->cancelled && h->cb) h->cb(h->ud, status, http_status, body, len);
    uv_timer_stop(&h->timer);
    uv_close((uv_handle_t *)&h->timer, on_closed);
    if (h->tcp_init) uv_close((uv_handle_t *)&h->tcp, on_closed);
    if (h->gai_pending) uv_cancel((uv_req_t *)&h->gai);
    maybe_free(h);
}

void sim_http_cancel(sim_http_t *h)
{
    if (!h || h->done) return;
    h->cancelled = true;
    finish(h, LW_ECANCELED, 0, NULL, 0);
}

static void on_timeout(uv_timer_t *t)
{
    finish(t->data, LW_ETIMEDOUT, 0, NULL, 0);
}

/* Decides whether resp holds the whole response. eof: the peer closed. */
static void try_complete(sim_http_t *h, bool eof)
{
    lw_http_head_t head;
    int r = lw_http_parse_response(h->resp.data ? h->resp.data : "", h->resp.len, &head);
    if (r == LW_EAGAIN) {
        if (eof) finish(h, LW_EPROTO, 0, NULL, 0);
        return;
    }
    if (r < 0) {
        finish(h, LW_EPROTO, 0, NULL, 0);
        return;
    }
    size_t head_len = (size_t)r, have = h->resp.len - head_len;
    const char *body = h->resp.data + head_len;
    uint64_t cl = 0;
    int rc = lw_http_head_content_length(&head, &cl);
    if (rc == LW_ENOTSUP) { /* chunked: not needed for the servers we talk to */
        finish(h, LW_ENOTSUP, 0, NULL, 0);
        return;
    }
    if (rc != 0) {
        finish(h, LW_EPROTO, 0, NULL, 0);
        return;
    }
    if (lw_http_head_get(&head, "Content-Length").p) {
        if (cl > h->max_body) {
            finish(h, LW_ETOOBIG, 0, NULL, 0);
        } else if (have >= cl) {
            finish(h, 0, head.status, body, (size_t)cl);
        } else if (eof) {
            finish(h, LW_EPROTO, 0, NULL, 0); /* shorter than announced: a broken transfer */
        }
        return;
    }
    if (head.status == 204 || head.status == 304 || (head.status >= 100 && head.status < 200)) {
        finish(h, 0, head.status, body, 0);
        return;
    }
    if (eof) finish(h, 0, head.status, body, have); /* framed by the close */
}

static void on_alloc(uv_handle_t *hd, size_t suggested, uv_buf_t *buf)
{
    sim_http_t *h = hd->data;
    (void)suggested;
    if (lw_buf_reserve(&h->resp, 65536) != 0 && lw_buf_reserve(&h->resp, 1) != 0) {
        buf->base = NULL;
        buf->len = 0;
        return;
    }
    buf->base = h->resp.data + h->resp.len;
    buf->len = h->resp.cap - h->resp.len;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    sim_http_t *h = s->data;
    (void)buf;
    if (h->done) return;
    if (n > 0) {
        h->resp.len += (size_t)n;
        if (h->resp.len > h->max_body + LW_HTTP_HEAD_MAX) {
            finish(h, LW_ETOOBIG, 0, NULL, 0);
            return;
        }
        try_complete(h, false);
    } else if (n == UV_EOF) {
        try_complete(h, true);
    } else if (n == UV_ENOBUFS) {
        finish(h, LW_ETOOBIG, 0, NULL, 0);
    } else if (n < 0) {
        finish(h, LW_EIO, 0, NULL, 0);
    }
}

static void on_written(uv_write_t *w, int status)
{
    sim_http_t *h = w->data;
    if (status < 0 && !h->done) finish(h, LW_EIO, 0, NULL, 0);
}

static void on_connected(uv_connect_t *c, int status)
{
    sim_http_t *h = c->data;
    if (h->done) return;
    if (status < 0) {
        finish(h, LW_EIO, 0, NULL, 0);
        return;
    }
    uv_buf_t b = uv_buf_init(h->req.data, (unsigned)h->req.len);
    h->write.data = h;
    if (uv_write(&h->write, (uv_stream_t *)&h->tcp, &b, 1, on_written) != 0 ||
        uv_read_start((uv_stream_t *)&h->tcp, on_alloc, on_read) != 0)
        finish(h, LW_EIO, 0, NULL, 0);
}

static void on_resolved(uv_getaddrinfo_t *g, int status, struct addrinfo *ai)
{
    sim_http_t *h = g->data;
    h->gai_pending = false;
    if (h->done) {
        uv_freeaddrinfo(ai);
        maybe_free(h);
        return;
    }
    if (status < 0 || !ai) {
        uv_freeaddrinfo(ai);
        finish(h, LW_EIO, 0, NULL, 0);
        return;
    }
    uv_tcp_init(h->loop, &h->tcp);
    h->tcp.data = h;
    h->tcp_init = true;
    h->open_handles++;
    h->connect.data = h;
    int rc = uv_tcp_connect(&h->connect, &h->tcp, ai->ai_addr, on_connected);
    uv_freeaddrinfo(ai);
    if (rc != 0) finish(h, LW_EIO, 0, NULL, 0);
}

/* http://host[:port][/path] -> host, port, path (origin-form). */
static int split_url(const char *url, char *host, size_t hostsz, char *port, size_t portsz,
                     const char **path)
{
    if (strncmp(url, "http://", 7) != 0) return LW_EINVAL;
    const char *p = url + 7, *end = p + strcspn(p, "/?#");
    if (strchr(p, '@') && strchr(p, '@') < end) return LW_EINVAL; /* no userinfo */
    const char *hs = p, *he, *ps = NULL;
    if (*p == '[') { /* IPv6 literal */
        he = memchr(p, ']', (size_t)(end - p));
        if (!he) return LW_EINVAL;
        hs = p + 1;
        if (he + 1 < end && he[1] == ':') ps = he + 2;
    } else {
        he = memchr(p, ':', (size_t)(end - p));
        if (he)
            ps = he + 1;
        else
            he = end;
    }
    size_t hl = (size_t)(he - hs);
    if (!hl || hl >= hostsz) return LW_EINVAL;
    memcpy(host, hs, hl);
    host[hl] = 0;
    size_t pl = ps ? (size_t)(end - ps) : 0;
    if (ps && (!pl || pl >= portsz || strspn(ps, "0123456789") < pl)) return LW_EINVAL;
    if (ps) {
        memcpy(port, ps, pl);
        port[pl] = 0;
    } else {
        snprintf(port, portsz, "80");
    }
    *path = *end == '/' ? end : NULL;
    return 0;
}

int sim_http_request(uv_loop_t *loop, const char *method, const char *url, const char *headers,
                     const void *body, size_t len, size_t max_body, uint64_t timeout_ms,
                     sim_http_cb cb, void *ud, sim_http_t **out)
{
    const char *path;
    sim_http_t *h = calloc(1, sizeof *h);
    if (!h) return LW_ENOMEM;
    if (split_url(url, h->host, sizeof h->host, h->port, sizeof h->port, &path) != 0) {
        free(h);
        return LW_EINVAL;
    }
    h->loop = loop;
    h->max_body = max_body;
    h->cb = cb;
    h->ud = ud;
    lw_buf_init(&h->req, len + 4096);
    lw_buf_init(&h->resp, max_body + LW_HTTP_HEAD_MAX + 65536);
    /* the target: the URL's path and query as given, "/" when it has none */
    size_t tl = path ? strcspn(path, "#") : 0;
    bool v6 = strchr(h->host, ':') != NULL;
    int rc = lw_buf_printf(&h->req,
                           "%s %.*s HTTP/1.1\r\nHost: %s%s%s:%s\r\nUser-Agent: ladewerk-sim\r\n"
                           "Connection: close\r\nContent-Length: %zu\r\n%s\r\n",
                           method, (int)(path ? tl : 1), path ? path : "/", v6 ? "[" : "", h->host,
                           v6 ? "]" : "", h->port, len, headers ? headers : "");
    if (!rc && len) rc = lw_buf_append(&h->req, body, len);
    if (rc) {
        lw_buf_free(&h->req);
        lw_buf_free(&h->resp);
        free(h);
        return LW_ENOMEM;
    }
    uv_timer_init(loop, &h->timer);
    h->timer.data = h;
    h->open_handles = 1;
    uv_timer_start(&h->timer, on_timeout, timeout_ms, 0);
    h->gai.data = h;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    h->gai_pending = true;
    if (uv_getaddrinfo(loop, &h->gai, on_resolved, h->host, h->port, &hints) != 0) {
        h->gai_pending = false;
        h->done = true; /* cb must not fire: the call fails */
        uv_close((uv_handle_t *)&h->timer, on_closed);
        return LW_EIO;
    }
    *out = h;
    return 0;
}
