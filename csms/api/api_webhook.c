/*
 * api/api_webhook.c — webhooks: every event published to the SSE hub is also POSTed as JSON
 * to each configured URL, in order, one request at a time per URL, retried with exponential
 * back-off and given up after a bounded number of attempts; queues are bounded and whatever
 * is given up is counted for /metrics.
 *
 * The HTTP/1.1 client is deliberately small: http:// only, one request per connection
 * ("Connection: close"), and only the status line matters (parsed with the transport's pure
 * lw_http_parse_response), so no body handling, chunking or keep-alive is needed. It runs on
 * a libuv loop the server hands over; producers on any thread only append to a queue under
 * the API's wh_mu and wake the loop with uv_async_send.
 *
 * Per URL a target walks: IDLE → RESOLVING (uv_getaddrinfo) → CONNECTING → WAITING (request
 * written, reading the answer) → IDLE on 2xx, or → BACKOFF (timer) → RESOLVING again on any
 * failure until the attempts are used up. One timer per target serves as the attempt's
 * deadline and as the back-off. Nothing is freed inside its own callback: an attempt ends by
 * closing its TCP handle, and the next step runs from the close callback.
 */
#include "api/api_int.h"
#include "ladewerk/ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct wh_event {
    struct wh_event *next;
    char *req; /* the whole HTTP request, owned */
    size_t len;
    uint32_t attempts; /* failed attempts so far */
} wh_event_t;

typedef enum { T_IDLE, T_RESOLVING, T_CONNECTING, T_WAITING, T_BACKOFF } t_state_t;

typedef struct wh_target {
    struct api_webhooks *w;
    char host[256], port[8], path[LW_API_WEBHOOK_URL_MAX], hosthdr[272];
    /* queue: under api->wh_mu */
    wh_event_t *head, *tail;
    size_t n;
    /* loop thread only */
    t_state_t state;
    wh_event_t *cur; /* the event being delivered (out of the queue) */
    uv_getaddrinfo_t gai;
    bool gai_active;
    uv_tcp_t tcp;
    bool tcp_open;
    uv_connect_t conn;
    uv_write_t wr;
    uv_timer_t timer;
    bool finishing, ok;
    char rbuf[LW_HTTP_HEAD_MAX];
    size_t rlen;
} wh_target_t;

struct api_webhooks {
    lw_api_t *api;
    uv_loop_t *loop;
    uv_async_t async;
    lw_api_webhook_options_t o;
    wh_target_t *t;
    size_t nt;
    bool stopping;
    int pending; /* handles closing + lookups outstanding, after stop */
};

/* ---- pure parts ------------------------------------------------------------------------------ */

/* Splits "http://host[:port][/path]". 0 or LW_EINVAL. */
static int url_parse(const char *url, char *host, size_t hostsz, char *port, size_t portsz,
                     char *path, size_t pathsz)
{
    if (!url) return LW_EINVAL;
    size_t len = strlen(url);
    if (len >= LW_API_WEBHOOK_URL_MAX || strncmp(url, "http://", 7) != 0) return LW_EINVAL;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f) return LW_EINVAL;
    const char *a = url + 7;
    const char *slash = strchr(a, '/');
    size_t alen = slash ? (size_t)(slash - a) : strlen(a);
    if (alen == 0 || memchr(a, '@', alen) || memchr(a, '?', alen) || memchr(a, '#', alen))
        return LW_EINVAL;
    const char *hs = a, *ps = NULL;
    size_t hl;
    if (a[0] == '[') {
        const char *rb = memchr(a, ']', alen);
        if (!rb || rb == a + 1) return LW_EINVAL;
        hs = a + 1;
        hl = (size_t)(rb - hs);
        if (rb + 1 < a + alen) {
            if (rb[1] != ':') return LW_EINVAL;
            ps = rb + 2;
        }
    } else {
        const char *colon = memchr(a, ':', alen);
        hl = colon ? (size_t)(colon - a) : alen;
        if (colon) ps = colon + 1;
    }
    if (hl == 0 || hl >= hostsz) return LW_EINVAL;
    memcpy(host, hs, hl);
    host[hl] = 0;
    long pv = 80;
    if (ps) {
        size_t pl = (size_t)(a + alen - ps);
        if (pl == 0 || pl > 5) return LW_EINVAL;
        pv = 0;
        for (size_t i = 0; i < pl; i++) {
            if (ps[i] < '0' || ps[i] > '9') return LW_EINVAL;
            pv = pv * 10 + (ps[i] - '0');
        }
        if (pv < 1 || pv > 65535) return LW_EINVAL;
    }
    snprintf(port, portsz, "%ld", pv);
    int n = snprintf(path, pathsz, "%s", slash ? slash : "/");
    if (n < 0 || (size_t)n >= pathsz) return LW_EINVAL;
    /* A fragment is never sent. */
    char *hash = strchr(path, '#');
    if (hash) *hash = 0;
    return 0;
}

int lw_api_webhook_url_check(const char *url)
{
    char host[256], port[8], path[LW_API_WEBHOOK_URL_MAX];
    return url_parse(url, host, sizeof host, port, sizeof port, path, sizeof path);
}

static void opts_fill(lw_api_webhook_options_t *o, const lw_api_webhook_options_t *in)
{
    memset(o, 0, sizeof *o);
    if (in) *o = *in;
    if (!o->backoff_ms) o->backoff_ms = LW_API_WEBHOOK_BACKOFF_MS;
    if (!o->backoff_max_ms) o->backoff_max_ms = LW_API_WEBHOOK_BACKOFF_MAX_MS;
    if (!o->timeout_ms) o->timeout_ms = LW_API_WEBHOOK_TIMEOUT_MS;
    if (!o->attempts) o->attempts = LW_API_WEBHOOK_ATTEMPTS;
    if (!o->queue_max) o->queue_max = LW_API_WEBHOOK_QUEUE_MAX;
}

uint32_t lw_api_webhook_backoff(const lw_api_webhook_options_t *in, uint32_t attempt)
{
    lw_api_webhook_options_t o;
    opts_fill(&o, in);
    uint64_t d = o.backoff_ms;
    for (uint32_t i = 1; i < attempt && d < o.backoff_max_ms; i++)
        d *= 2;
    return d > o.backoff_max_ms ? o.backoff_max_ms : (uint32_t)d;
}

/* ---- queue (any thread, under api->wh_mu) ---------------------------------------------------- */

void api_webhooks_init(lw_api_t *api)
{
    pthread_mutex_init(&api->wh_mu, NULL);
}

void api_webhooks_free(lw_api_t *api)
{
    lw_api_webhooks_stop(api);
    pthread_mutex_destroy(&api->wh_mu);
}

static void ev_free(wh_event_t *e)
{
    if (!e) return;
    free(e->req);
    free(e);
}

void api_webhooks_event(lw_api_t *api, uint64_t seq, const char *type, const char *data)
{
    pthread_mutex_lock(&api->wh_mu);
    struct api_webhooks *w = api->wh;
    if (!w) {
        pthread_mutex_unlock(&api->wh_mu);
        return;
    }
    lw_buf_t body;
    lw_buf_init(&body, LW_API_EVENT_DATA_MAX + 256);
    int rc = lw_buf_printf(&body, "{\"id\":%llu,\"type\":\"%s\",\"data\":%s}",
                           (unsigned long long)seq, type, data);
    for (size_t i = 0; i < w->nt && rc == 0; i++) {
        wh_target_t *t = &w->t[i];
        wh_event_t *e = calloc(1, sizeof *e);
        lw_buf_t r;
        lw_buf_init(&r, LW_API_EVENT_DATA_MAX + 2048);
        int r2 = e ? lw_buf_printf(&r,
                                   "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: ladewerk\r\n"
                                   "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                                   "X-Ladewerk-Event: %s\r\nX-Ladewerk-Event-Id: %llu\r\n"
                                   "Connection: close\r\n\r\n",
                                   t->path, t->hosthdr, body.len, type, (unsigned long long)seq)
                   : LW_ENOMEM;
        if (r2 == 0) r2 = lw_buf_append(&r, body.data, body.len);
        if (r2 != 0) {
            lw_buf_free(&r);
            free(e);
            api->wh_dropped++;
            continue;
        }
        e->req = r.data;
        e->len = r.len;
        if (t->n >= w->o.queue_max) {
            /* Full: the oldest waiting event goes (a dead receiver must not grow memory). */
            wh_event_t *old = t->head;
            t->head = old->next;
            if (!t->head) t->tail = NULL;
            t->n--;
            ev_free(old);
            api->wh_dropped++;
        }
        if (t->tail)
            t->tail->next = e;
        else
            t->head = e;
        t->tail = e;
        t->n++;
    }
    if (rc != 0) api->wh_dropped += w->nt;
    lw_buf_free(&body);
    uv_async_send(&w->async);
    pthread_mutex_unlock(&api->wh_mu);
}

/* ---- delivery (loop thread) ----------------------------------------------------------------- */

static void attempt(wh_target_t *t);
static void finish(wh_target_t *t, bool ok);

static void on_backoff(uv_timer_t *tm)
{
    attempt(tm->data);
}

static void next_or_idle(wh_target_t *t)
{
    lw_api_t *api = t->w->api;
    t->state = T_IDLE;
    pthread_mutex_lock(&api->wh_mu);
    wh_event_t *e = t->head;
    if (e) {
        t->head = e->next;
        if (!t->head) t->tail = NULL;
        t->n--;
        e->next = NULL;
    }
    pthread_mutex_unlock(&api->wh_mu);
    if (!e) return;
    t->cur = e;
    attempt(t);
}

/* The attempt is over and its TCP handle (if any) closed: count, then next step. */
static void complete(wh_target_t *t)
{
    struct api_webhooks *w = t->w;
    lw_api_t *api = w->api;
    uv_timer_stop(&t->timer);
    wh_event_t *e = t->cur;
    if (t->ok) {
        pthread_mutex_lock(&api->wh_mu);
        api->wh_delivered++;
        pthread_mutex_unlock(&api->wh_mu);
        ev_free(e);
        t->cur = NULL;
        next_or_idle(t);
        return;
    }
    e->attempts++;
    pthread_mutex_lock(&api->wh_mu);
    api->wh_failures++;
    bool give_up = e->attempts >= w->o.attempts;
    if (give_up) api->wh_dropped++;
    pthread_mutex_unlock(&api->wh_mu);
    if (give_up) {
        lw_log(LW_LOG_WARN, "api", "webhook=http://%s%s event dropped after %u attempts",
               t->hosthdr, t->path, e->attempts);
        ev_free(e);
        t->cur = NULL;
        next_or_idle(t);
        return;
    }
    t->state = T_BACKOFF;
    uv_timer_start(&t->timer, on_backoff, lw_api_webhook_backoff(&w->o, e->attempts), 0);
}

/* After stop: the last close or lookup callback frees everything, the in-flight events too
 * (their request bytes may be referenced by a write until the TCP handle has closed). */
static void w_unref(struct api_webhooks *w)
{
    if (--w->pending > 0) return;
    for (size_t i = 0; i < w->nt; i++)
        ev_free(w->t[i].cur);
    free(w->t);
    free(w);
}

static void on_tcp_closed(uv_handle_t *h)
{
    wh_target_t *t = h->data;
    t->tcp_open = false;
    if (t->w->stopping) {
        w_unref(t->w);
        return;
    }
    complete(t);
}

static void finish(wh_target_t *t, bool ok)
{
    if (t->finishing) return;
    t->finishing = true;
    t->ok = ok;
    uv_timer_stop(&t->timer);
    if (t->tcp_open) {
        if (!uv_is_closing((uv_handle_t *)&t->tcp)) uv_close((uv_handle_t *)&t->tcp, on_tcp_closed);
        return;
    }
    complete(t);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    wh_target_t *t = h->data;
    buf->base = t->rbuf + t->rlen;
    buf->len = sizeof t->rbuf - t->rlen;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    wh_target_t *t = s->data;
    if (t->finishing || t->w->stopping) return;
    if (n < 0) {
        finish(t, false); /* EOF or error before a complete status line */
        return;
    }
    t->rlen += (size_t)n;
    lw_http_head_t head;
    int rc = lw_http_parse_response(t->rbuf, t->rlen, &head);
    if (rc == LW_EAGAIN && t->rlen < sizeof t->rbuf) return;
    bool ok = rc > 0 && head.status >= 200 && head.status < 300;
    if (rc > 0 && !ok)
        lw_log(LW_LOG_INFO, "api", "webhook=http://%s%s status=%d", t->hosthdr, t->path,
               head.status);
    finish(t, ok);
}

static void on_written(uv_write_t *wr, int status)
{
    wh_target_t *t = wr->data;
    if (t->finishing || t->w->stopping) return;
    if (status < 0) finish(t, false);
}

static void on_connected(uv_connect_t *c, int status)
{
    wh_target_t *t = c->data;
    if (t->finishing || t->w->stopping) return;
    if (status < 0) {
        finish(t, false);
        return;
    }
    t->state = T_WAITING;
    uv_buf_t b = uv_buf_init(t->cur->req, (unsigned)t->cur->len);
    t->wr.data = t;
    if (uv_write(&t->wr, (uv_stream_t *)&t->tcp, &b, 1, on_written) != 0 ||
        uv_read_start((uv_stream_t *)&t->tcp, on_alloc, on_read) != 0)
        finish(t, false);
}

static void on_resolved(uv_getaddrinfo_t *g, int status, struct addrinfo *res)
{
    wh_target_t *t = g->data;
    t->gai_active = false;
    if (t->w->stopping) {
        if (res) uv_freeaddrinfo(res);
        w_unref(t->w);
        return;
    }
    if (t->finishing) { /* timed out while resolving: finish() already ran complete() */
        if (res) uv_freeaddrinfo(res);
        return;
    }
    if (status < 0 || !res) {
        if (res) uv_freeaddrinfo(res);
        finish(t, false);
        return;
    }
    t->state = T_CONNECTING;
    int rc = uv_tcp_init(t->w->loop, &t->tcp);
    if (rc == 0) {
        t->tcp_open = true;
        t->tcp.data = t;
        t->conn.data = t;
        rc = uv_tcp_connect(&t->conn, &t->tcp, res->ai_addr, on_connected);
    }
    uv_freeaddrinfo(res);
    if (rc != 0) finish(t, false);
}

static void on_deadline(uv_timer_t *tm)
{
    wh_target_t *t = tm->data;
    lw_log(LW_LOG_INFO, "api", "webhook=http://%s%s timed out", t->hosthdr, t->path);
    if (t->gai_active) uv_cancel((uv_req_t *)&t->gai);
    finish(t, false);
}

/* One delivery attempt of t->cur (also the back-off timer's callback). */
static void attempt(wh_target_t *t)
{
    if (t->w->stopping) return;
    /* A lookup from an earlier, timed-out attempt may still be running: wait for it (its
     * callback sees finishing and returns), retrying shortly. */
    if (t->gai_active) {
        t->state = T_BACKOFF;
        uv_timer_start(&t->timer, on_backoff, 10, 0);
        return;
    }
    t->finishing = false;
    t->ok = false;
    t->rlen = 0;
    t->state = T_RESOLVING;
    uv_timer_start(&t->timer, on_deadline, t->w->o.timeout_ms, 0);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    t->gai.data = t;
    t->gai_active = true;
    if (uv_getaddrinfo(t->w->loop, &t->gai, on_resolved, t->host, t->port, &hints) != 0) {
        t->gai_active = false;
        finish(t, false);
    }
}

static void on_async(uv_async_t *a)
{
    struct api_webhooks *w = a->data;
    if (w->stopping) return;
    for (size_t i = 0; i < w->nt; i++)
        if (w->t[i].state == T_IDLE) next_or_idle(&w->t[i]);
}

int lw_api_webhooks_start(lw_api_t *api, uv_loop_t *loop, const char *const *urls, size_t n,
                          const lw_api_webhook_options_t *opts)
{
    if (!loop || n == 0 || n > LW_API_WEBHOOK_URLS_MAX) return LW_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (lw_api_webhook_url_check(urls[i]) != 0) return LW_EINVAL;
    pthread_mutex_lock(&api->wh_mu);
    bool started = api->wh != NULL;
    pthread_mutex_unlock(&api->wh_mu);
    if (started) return LW_EINVAL;
    struct api_webhooks *w = calloc(1, sizeof *w);
    wh_target_t *t = calloc(n, sizeof *t);
    if (!w || !t) {
        free(w);
        free(t);
        return LW_ENOMEM;
    }
    w->api = api;
    w->loop = loop;
    w->t = t;
    w->nt = n;
    opts_fill(&w->o, opts);
    for (size_t i = 0; i < n; i++) {
        wh_target_t *x = &t[i];
        x->w = w;
        url_parse(urls[i], x->host, sizeof x->host, x->port, sizeof x->port, x->path,
                  sizeof x->path);
        bool v6 = strchr(x->host, ':') != NULL;
        bool dflt = !strcmp(x->port, "80");
        snprintf(x->hosthdr, sizeof x->hosthdr, "%s%s%s%s%s", v6 ? "[" : "", x->host, v6 ? "]" : "",
                 dflt ? "" : ":", dflt ? "" : x->port);
        uv_timer_init(loop, &x->timer);
        x->timer.data = x;
    }
    uv_async_init(loop, &w->async, on_async);
    w->async.data = w;
    pthread_mutex_lock(&api->wh_mu);
    api->wh = w;
    pthread_mutex_unlock(&api->wh_mu);
    return 0;
}

static void on_handle_closed(uv_handle_t *h)
{
    w_unref(h->data);
}

void lw_api_webhooks_stop(lw_api_t *api)
{
    pthread_mutex_lock(&api->wh_mu);
    struct api_webhooks *w = api->wh;
    api->wh = NULL;
    if (w) {
        for (size_t i = 0; i < w->nt; i++) {
            wh_target_t *t = &w->t[i];
            while (t->head) {
                wh_event_t *e = t->head;
                t->head = e->next;
                ev_free(e);
                api->wh_dropped++;
            }
            t->tail = NULL;
            t->n = 0;
            if (t->cur) api->wh_dropped++;
        }
    }
    pthread_mutex_unlock(&api->wh_mu);
    if (!w) return;
    w->stopping = true;
    w->pending = 1; /* the async handle */
    for (size_t i = 0; i < w->nt; i++) {
        wh_target_t *t = &w->t[i];
        t->timer.data = w;
        w->pending++;
        uv_close((uv_handle_t *)&t->timer, on_handle_closed);
        if (t->gai_active) {
            w->pending++;
            uv_cancel((uv_req_t *)&t->gai);
        }
        if (t->tcp_open && !uv_is_closing((uv_handle_t *)&t->tcp)) {
            w->pending++;
            uv_close((uv_handle_t *)&t->tcp, on_tcp_closed);
        } else if (t->tcp_open) {
            /* already closing (finish ran): its close callback still comes */
            w->pending++;
        }
    }
    uv_close((uv_handle_t *)&w->async, on_handle_closed);
}

void lw_api_webhook_stats(lw_api_t *api, lw_api_webhook_stats_t *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&api->wh_mu);
    out->delivered = api->wh_delivered;
    out->failures = api->wh_failures;
    out->dropped = api->wh_dropped;
    if (api->wh)
        for (size_t i = 0; i < api->wh->nt; i++)
            out->queued += api->wh->t[i].n;
    pthread_mutex_unlock(&api->wh_mu);
}

int api_webhooks_metrics(lw_api_t *api, lw_buf_t *b)
{
    lw_api_webhook_stats_t s;
    lw_api_webhook_stats(api, &s);
    return lw_buf_printf(
        b,
        "# HELP ladewerk_webhook_delivered_total Events webhook receivers answered with 2xx.\n"
        "# TYPE ladewerk_webhook_delivered_total counter\nladewerk_webhook_delivered_total %llu\n"
        "# HELP ladewerk_webhook_failures_total Failed webhook attempts (each retry counts).\n"
        "# TYPE ladewerk_webhook_failures_total counter\nladewerk_webhook_failures_total %llu\n"
        "# HELP ladewerk_webhook_dropped_total Events given up: attempts used up, queue full or "
        "stopped.\n"
        "# TYPE ladewerk_webhook_dropped_total counter\nladewerk_webhook_dropped_total %llu\n"
        "# HELP ladewerk_webhook_queued Events waiting for webhook delivery.\n"
        "# TYPE ladewerk_webhook_queued gauge\nladewerk_webhook_queued %llu\n",
        (unsigned long long)s.delivered, (unsigned long long)s.failures,
        (unsigned long long)s.dropped, (unsigned long long)s.queued);
}
