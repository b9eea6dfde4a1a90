/*
 * tests/unit/api/test_api_webhook.c — webhook delivery (csms/api/api_webhook.c) against a
 * tiny HTTP server inside the test, on 127.0.0.1 and the same libuv loop: events arrive in
 * order with their headers and JSON, failures are retried with back-off until a 2xx, an
 * unreachable or silent receiver is given up after the bounded attempts, a full queue drops
 * the oldest, stopping drops what waits and frees everything (ASan checks), and /metrics
 * counts it all. Waits are bounded by a safety timer, never by timed assertions.
 */
#include "fake_backend.h"
#include "ladewerk/ws.h"
#include "test.h"

#include <uv.h>

/* ---- the in-test HTTP server -------------------------------------------------------------- */

#define REQS_MAX 32

typedef struct srv {
    uv_tcp_t listener;
    int port;
    int statuses[REQS_MAX]; /* answer for the n-th request; 0 = 200 */
    bool silent;            /* read requests, never answer */
    int nreq, nconn;
    char *reqs[REQS_MAX]; /* raw requests received */
} srv_t;

typedef struct sconn {
    uv_tcp_t tcp;
    srv_t *s;
    char buf[16384];
    size_t len;
    bool answered;
    uv_write_t wr;
    char out[128];
} sconn_t;

static uv_loop_t loop;
static srv_t srv;

static void sc_closed(uv_handle_t *h)
{
    free(h->data);
}

static void sc_written(uv_write_t *w, int status)
{
    (void)status;
    sconn_t *c = w->data;
    uv_close((uv_handle_t *)&c->tcp, sc_closed);
}

static void sc_alloc(uv_handle_t *h, size_t sug, uv_buf_t *b)
{
    (void)sug;
    sconn_t *c = h->data;
    b->base = c->buf + c->len;
    b->len = sizeof c->buf - c->len - 1;
}

static void sc_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    sconn_t *c = st->data;
    if (n < 0) {
        if (!uv_is_closing((uv_handle_t *)&c->tcp)) uv_close((uv_handle_t *)&c->tcp, sc_closed);
        return;
    }
    c->len += (size_t)n;
    if (c->answered) return;
    lw_http_head_t h;
    int hl = lw_http_parse_request(c->buf, c->len, &h);
    if (hl <= 0) return;
    uint64_t cl = 0;
    lw_http_head_content_length(&h, &cl);
    if (c->len < (size_t)hl + cl) return;
    c->answered = true;
    srv_t *s = c->s;
    int idx = s->nreq++;
    if (idx < REQS_MAX) {
        c->buf[c->len] = 0;
        s->reqs[idx] = strdup(c->buf);
    }
    if (s->silent) return;
    int status = idx < REQS_MAX && s->statuses[idx] ? s->statuses[idx] : 200;
    int ol = snprintf(c->out, sizeof c->out,
                      "HTTP/1.1 %d X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", status);
    uv_buf_t ob = uv_buf_init(c->out, (unsigned)ol);
    c->wr.data = c;
    uv_write(&c->wr, st, &ob, 1, sc_written);
}

static void on_conn(uv_stream_t *l, int status)
{
    if (status < 0) return;
    srv_t *s = l->data;
    sconn_t *c = calloc(1, sizeof *c);
    c->s = s;
    uv_tcp_init(&loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(l, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, sc_closed);
        return;
    }
    s->nconn++;
    uv_read_start((uv_stream_t *)&c->tcp, sc_alloc, sc_read);
}

static void srv_start(srv_t *s)
{
    memset(s, 0, sizeof *s);
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    uv_tcp_init(&loop, &s->listener);
    s->listener.data = s;
    LW_CHECK_INT(uv_tcp_bind(&s->listener, (const struct sockaddr *)&a, 0), 0);
    LW_CHECK_INT(uv_listen((uv_stream_t *)&s->listener, 16, on_conn), 0);
    struct sockaddr_storage ss;
    int sl = sizeof ss;
    uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &sl);
    s->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h)) uv_close(h, h->type == UV_TCP && h->data != &srv ? sc_closed : NULL);
}

/* ---- harness ------------------------------------------------------------------------------- */

static fake_t fk;
static lw_api_t *api;
static bool timed_out;

static void on_safety(uv_timer_t *t)
{
    (void)t;
    timed_out = true;
}

/* Runs the loop until cond() holds; fails the test after 10 s. */
static bool run_until(bool (*cond)(void))
{
    uv_timer_t safety;
    uv_timer_init(&loop, &safety);
    timed_out = false;
    uv_timer_start(&safety, on_safety, 10000, 0);
    while (!cond() && !timed_out)
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&safety, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    if (timed_out) LW_FAILF("timed out waiting");
    return !timed_out;
}

static void setup(void)
{
    LW_CHECK_INT(uv_loop_init(&loop), 0);
    fk_init(&fk);
    lw_api_backend_t be = fk_backend(&fk);
    api = lw_api_new(&be, NULL);
    srv_start(&srv);
}

static void teardown(void)
{
    lw_api_webhooks_stop(api);
    uv_walk(&loop, close_walk, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    LW_CHECK_INT(uv_loop_close(&loop), 0);
    lw_api_free(api);
    fk_free(&fk);
    for (int i = 0; i < REQS_MAX; i++)
        free(srv.reqs[i]);
}

static lw_api_webhook_stats_t st(void)
{
    lw_api_webhook_stats_t s;
    lw_api_webhook_stats(api, &s);
    return s;
}

static int want_delivered, want_dropped, want_reqs, want_conns;
static bool c_delivered(void)
{
    return st().delivered >= (uint64_t)want_delivered;
}
static bool c_dropped(void)
{
    return st().dropped >= (uint64_t)want_dropped;
}
static bool c_reqs(void)
{
    return srv.nreq >= want_reqs;
}
static bool c_conns(void)
{
    return srv.nconn >= want_conns;
}

static void start(const char *path, const lw_api_webhook_options_t *o)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", srv.port, path);
    const char *urls[] = {url};
    LW_CHECK_INT(lw_api_webhooks_start(api, &loop, urls, 1, o), 0);
}

/* The JSON body of a raw request. */
static cJSON *body_of(const char *raw)
{
    const char *b = raw ? strstr(raw, "\r\n\r\n") : NULL;
    return b ? cJSON_Parse(b + 4) : NULL;
}

/* ---- tests --------------------------------------------------------------------------------- */

LW_TEST(url_check_and_backoff)
{
    LW_CHECK_INT(lw_api_webhook_url_check("http://127.0.0.1:9000/hook"), 0);
    LW_CHECK_INT(lw_api_webhook_url_check("http://example.org"), 0);
    LW_CHECK_INT(lw_api_webhook_url_check("http://[::1]:8080/a?b=c"), 0);
    LW_CHECK_INT(lw_api_webhook_url_check("https://example.org/"), LW_EINVAL);
    LW_CHECK_INT(lw_api_webhook_url_check("ftp://x/"), LW_EINVAL);
    LW_CHECK_INT(lw_api_webhook_url_check("http:///path"), LW_EINVAL);
    LW_CHECK_INT(lw_api_webhook_url_check("http://h:0/"), LW_EINVAL);
    LW_CHECK_INT(lw_api_webhook_url_check("http://h:65536/"), LW_EINVAL);
    LW_CHECK_INT(lw_api_webhook_url_check("http://h:/"), LW_EINVAL);
    LW_CHECK_INT(lw_api_webhook_url_check("http://user@h/"), LW_EINVAL);
    LW_CHECK_INT(lw_api_webhook_url_check("http://h/a b"), LW_EINVAL);
    LW_CHECK_INT(lw_api_webhook_url_check("http://[::1/"), LW_EINVAL);
    LW_CHECK_INT(lw_api_webhook_url_check(NULL), LW_EINVAL);

    lw_api_webhook_options_t o = {.backoff_ms = 100, .backoff_max_ms = 1000};
    LW_CHECK_INT(lw_api_webhook_backoff(&o, 1), 100);
    LW_CHECK_INT(lw_api_webhook_backoff(&o, 2), 200);
    LW_CHECK_INT(lw_api_webhook_backoff(&o, 4), 800);
    LW_CHECK_INT(lw_api_webhook_backoff(&o, 5), 1000);
    LW_CHECK_INT(lw_api_webhook_backoff(&o, 60), 1000);
    LW_CHECK_INT(lw_api_webhook_backoff(NULL, 1), LW_API_WEBHOOK_BACKOFF_MS);
    LW_CHECK_INT(lw_api_webhook_backoff(NULL, 30), LW_API_WEBHOOK_BACKOFF_MAX_MS);
}

LW_TEST(delivers_in_order)
{
    setup();
    start("/hook?x=1", NULL);
    const char *bad[] = {"https://x/"};
    LW_CHECK_INT(lw_api_webhooks_start(api, &loop, bad, 1, NULL), LW_EINVAL);
    LW_CHECK_INT(lw_api_event_station(api, LW_STR("CP16"), true, LW_OCPP_16), 0);
    LW_CHECK_INT(
        lw_api_event_status(api, LW_STR("CP16"), 0, 1, LW_STR("Charging"), LW_STR("NoError")), 0);
    LW_CHECK_INT(lw_api_publish(api, "custom.thing", LW_STR("{\"n\": 3}")), 0);
    want_delivered = 3;
    run_until(c_delivered);
    LW_CHECK_INT(srv.nreq, 3);
    LW_CHECK_INT((int)st().failures, 0);
    LW_CHECK_INT((int)st().queued, 0);
    const char *types[] = {"station.connected", "connector.status", "custom.thing"};
    for (int i = 0; i < 3 && i < srv.nreq; i++) {
        const char *r = srv.reqs[i];
        LW_CHECK(strncmp(r, "POST /hook?x=1 HTTP/1.1\r\n", 25) == 0);
        char host[64];
        snprintf(host, sizeof host, "Host: 127.0.0.1:%d\r\n", srv.port);
        LW_CHECK(strstr(r, host) != NULL);
        LW_CHECK(strstr(r, "Content-Type: application/json\r\n") != NULL);
        cJSON *j = body_of(r);
        LW_CHECK(cJSON_IsObject(j));
        LW_CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "id")) == i + 1);
        const char *ty = cJSON_GetStringValue(cJSON_GetObjectItem(j, "type"));
        LW_CHECK_STR(ty ? ty : "(none)", types[i] ? types[i] : "");
        LW_CHECK(strstr(r, "X-Ladewerk-Event: ") != NULL);
        LW_CHECK(cJSON_IsObject(cJSON_GetObjectItem(j, "data")));
        cJSON_Delete(j);
    }
    cJSON *j = body_of(srv.reqs[2]);
    LW_CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "data"), "n")) == 3);
    cJSON_Delete(j);

    lw_buf_t m;
    lw_buf_init(&m, 1 << 20);
    lw_api_metrics_t snap;
    memset(&snap, 0, sizeof snap);
    LW_CHECK_INT(lw_api_metrics_render(api, &snap, &m), 0);
    lw_buf_cstr(&m);
    LW_CHECK(strstr(m.data, "ladewerk_webhook_delivered_total 3\n") != NULL);
    LW_CHECK(strstr(m.data, "ladewerk_webhook_dropped_total 0\n") != NULL);
    lw_buf_free(&m);
    teardown();
}

LW_TEST(retries_until_2xx)
{
    setup();
    srv.statuses[0] = 503;
    srv.statuses[1] = 500;
    srv.statuses[2] = 204;
    lw_api_webhook_options_t o = {.backoff_ms = 5, .backoff_max_ms = 20};
    start("/", &o);
    lw_api_publish(api, "a.b", LW_STR("{}"));
    want_delivered = 1;
    run_until(c_delivered);
    LW_CHECK_INT(srv.nreq, 3);
    LW_CHECK_INT((int)st().failures, 2);
    LW_CHECK_INT((int)st().dropped, 0);
    for (int i = 0; i < srv.nreq; i++)
        LW_CHECK(strstr(srv.reqs[i], "X-Ladewerk-Event-Id: 1\r\n") != NULL);
    teardown();
}

LW_TEST(unreachable_is_given_up)
{
    setup();
    /* A port nobody listens on: the server's, after closing it. */
    int port = srv.port;
    uv_close((uv_handle_t *)&srv.listener, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x", port);
    const char *urls[] = {url};
    lw_api_webhook_options_t o = {.backoff_ms = 1, .attempts = 3};
    LW_CHECK_INT(lw_api_webhooks_start(api, &loop, urls, 1, &o), 0);
    lw_api_publish(api, "a.b", LW_STR("{}"));
    lw_api_publish(api, "a.c", LW_STR("{}"));
    want_dropped = 2;
    run_until(c_dropped);
    LW_CHECK_INT((int)st().failures, 6);
    LW_CHECK_INT((int)st().delivered, 0);
    teardown();
}

LW_TEST(silent_receiver_times_out)
{
    setup();
    srv.silent = true;
    lw_api_webhook_options_t o = {.backoff_ms = 1, .attempts = 2, .timeout_ms = 50};
    start("/", &o);
    lw_api_publish(api, "a.b", LW_STR("{}"));
    want_dropped = 1;
    run_until(c_dropped);
    LW_CHECK_INT(srv.nreq, 2);
    LW_CHECK_INT((int)st().failures, 2);
    teardown();
}

LW_TEST(full_queue_drops_oldest)
{
    setup();
    lw_api_webhook_options_t o = {.queue_max = 2};
    start("/", &o);
    for (int i = 0; i < 5; i++)
        lw_api_publish(api, "a.b", LW_STR("{}"));
    LW_CHECK_INT((int)st().dropped, 3);
    LW_CHECK_INT((int)st().queued, 2);
    want_delivered = 2;
    run_until(c_delivered);
    LW_CHECK_INT(srv.nreq, 2);
    if (srv.nreq == 2) {
        LW_CHECK(strstr(srv.reqs[0], "X-Ladewerk-Event-Id: 4\r\n") != NULL);
        LW_CHECK(strstr(srv.reqs[1], "X-Ladewerk-Event-Id: 5\r\n") != NULL);
    }
    teardown();
}

LW_TEST(stop_drops_pending_and_frees)
{
    setup();
    srv.silent = true;
    start("/", NULL);
    lw_api_publish(api, "a.b", LW_STR("{}"));
    lw_api_publish(api, "a.c", LW_STR("{}"));
    want_reqs = 1;
    run_until(c_reqs); /* the first is in flight, the second waits */
    lw_api_webhooks_stop(api);
    LW_CHECK_INT((int)st().dropped, 2);
    LW_CHECK_INT((int)st().queued, 0);
    /* publishing after stop goes nowhere and costs nothing */
    lw_api_publish(api, "a.d", LW_STR("{}"));
    LW_CHECK_INT((int)st().dropped, 2);
    /* and it can be started again */
    start("/", NULL);
    srv.silent = false;
    lw_api_publish(api, "a.e", LW_STR("{}"));
    want_conns = 2;
    run_until(c_conns);
    teardown();
}

LW_TEST(free_without_loop_run_is_clean_when_never_started)
{
    fk_init(&fk);
    lw_api_backend_t be = fk_backend(&fk);
    api = lw_api_new(&be, NULL);
    lw_api_publish(api, "a.b", LW_STR("{}"));
    lw_api_webhook_stats_t s;
    lw_api_webhook_stats(api, &s);
    LW_CHECK_INT((int)(s.delivered + s.dropped + s.queued), 0);
    lw_api_free(api);
    fk_free(&fk);
}

int main(void)
{
    LW_RUN(url_check_and_backoff);
    LW_RUN(delivers_in_order);
    LW_RUN(retries_until_2xx);
    LW_RUN(unreachable_is_given_up);
    LW_RUN(silent_receiver_times_out);
    LW_RUN(full_queue_drops_oldest);
    LW_RUN(stop_drops_pending_and_frees);
    LW_RUN(free_without_loop_run_is_clean_when_never_started);
    return lw_test_done();
}
