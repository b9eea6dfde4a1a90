/*
 * loop.c — the per-loop state of the transport (shared read and write scratch buffers,
 * housekeeping timer, cross-thread posting) and the N-loops-on-N-threads helper used with
 * SO_REUSEPORT.
 */
#include "net_int.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void on_tick(uv_timer_t *t)
{
    lw_net_tick_conns(t->data);
}

static void run_posts(lw_net_loop_t *l)
{
    pthread_mutex_lock(&l->mu);
    post_item_t *p = l->posts;
    l->posts = NULL;
    l->posts_tail = &l->posts;
    pthread_mutex_unlock(&l->mu);
    while (p) {
        post_item_t *n = p->next;
        p->fn(p->arg);
        free(p);
        p = n;
    }
}

static void on_async(uv_async_t *a)
{
    run_posts(a->data);
}

lw_net_loop_t *lw_net_loop_new(uv_loop_t *uv, const lw_clock_t *clock)
{
    lw_net_loop_t *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->rbuf = malloc(LW_NET_READ_BUF);
    l->tbuf = malloc(LW_NET_READ_BUF);
    l->wbuf = malloc(LW_NET_WRITE_SCRATCH);
    l->cbuf = malloc(LW_NET_READ_BUF);
    if (!l->rbuf || !l->tbuf || !l->wbuf || !l->cbuf) {
        free(l->rbuf);
        free(l->tbuf);
        free(l->wbuf);
        free(l->cbuf);
        free(l);
        return NULL;
    }
    l->uv = uv;
    l->clock = clock ? clock : lw_clock_real();
    pthread_mutex_init(&l->mu, NULL);
    l->posts_tail = &l->posts;
    uv_timer_init(uv, &l->tick);
    l->tick.data = l;
    uv_unref((uv_handle_t *)&l->tick); /* housekeeping never keeps a loop alive */
    l->tick_ms = 1000;
    uv_timer_start(&l->tick, on_tick, l->tick_ms, l->tick_ms);
    uv_async_init(uv, &l->async, on_async);
    l->async.data = l;
    uv_unref((uv_handle_t *)&l->async);
    l->nlive = 2;
    if (RAND_bytes((unsigned char *)&l->rng, sizeof l->rng) != 1 || l->rng == 0)
        l->rng = 0x9e3779b9u;
    return l;
}

uv_loop_t *lw_net_loop_uv(lw_net_loop_t *l)
{
    return l->uv;
}

uint32_t lw_net_rand(lw_net_loop_t *l)
{
    /* xorshift32, seeded from RAND_bytes: masking keys need not be cryptographic for a
     * non-browser client (RFC 6455 §10.3 is about hostile scripts). */
    uint32_t x = l->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return l->rng = x;
}

void lw_net_loop_want_tick(lw_net_loop_t *l, uint32_t interval_ms)
{
    if (interval_ms == 0) return;
    uint32_t t = interval_ms / 4;
    if (t < 10) t = 10;
    if (t >= l->tick_ms) return;
    l->tick_ms = t;
    uv_timer_start(&l->tick, on_tick, t, t);
}

static void free_loop_memory(lw_net_loop_t *l)
{
    pthread_mutex_destroy(&l->mu);
    free(l->rbuf);
    free(l->tbuf);
    free(l->wbuf);
    free(l->cbuf);
    BIO_free(l->tls_bio); /* the SSLs of the loop's connections hold their own references */
    free(l);
}

void lw_net_loop_retire(lw_net_loop_t *l)
{
    if (--l->nlive == 0 && l->freeing) free_loop_memory(l);
}

static void on_own_handle_closed(uv_handle_t *h)
{
    lw_net_loop_retire(h->data);
}

int lw_net_loop_post(lw_net_loop_t *l, void (*fn)(void *arg), void *arg)
{
    post_item_t *p = malloc(sizeof *p);
    if (!p) return LW_ENOMEM;
    p->fn = fn;
    p->arg = arg;
    p->next = NULL;
    pthread_mutex_lock(&l->mu);
    if (l->closed) {
        pthread_mutex_unlock(&l->mu);
        free(p);
        return LW_ECLOSED;
    }
    *l->posts_tail = p;
    l->posts_tail = &p->next;
    uv_async_send(&l->async);
    pthread_mutex_unlock(&l->mu);
    return 0;
}

void lw_net_loop_free(lw_net_loop_t *l)
{
    if (!l || l->freeing) return;
    pthread_mutex_lock(&l->mu);
    l->closed = true;
    pthread_mutex_unlock(&l->mu);
    run_posts(l); /* accepted posts run exactly once */
    l->freeing = true;
    lw_net_server_close_all(l);
    lw_net_conn_shutdown_all(l);
    uv_timer_stop(&l->tick);
    uv_close((uv_handle_t *)&l->tick, on_own_handle_closed);
    uv_close((uv_handle_t *)&l->async, on_own_handle_closed);
}

/* ---- N loops on N threads --------------------------------------------------------------- */

typedef struct net_thread {
    pthread_t th;
    uv_loop_t uv;
    lw_net_loop_t *loop;
    struct lw_net_threads *owner;
    int index, rc;
    bool started;
} net_thread_t;

struct lw_net_threads {
    int n;
    int (*init)(lw_net_loop_t *l, int index, void *ud);
    void *ud;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int ready;
    net_thread_t *t;
};

static void *thread_main(void *arg)
{
    net_thread_t *t = arg;
    struct lw_net_threads *o = t->owner;
    char name[16]; /* what top -H and ps -L show */
    snprintf(name, sizeof name, "lw-loop-%d", t->index);
    pthread_setname_np(pthread_self(), name);
    bool inited = uv_loop_init(&t->uv) == 0;
    int rc = inited ? 0 : LW_EIO;
    if (!rc) {
        t->loop = lw_net_loop_new(&t->uv, NULL);
        if (!t->loop) rc = LW_ENOMEM;
    }
    if (!rc) {
        uv_ref((uv_handle_t *)&t->loop->async); /* the loop runs until stopped */
        rc = o->init(t->loop, t->index, o->ud);
    }
    pthread_mutex_lock(&o->mu);
    t->rc = rc;
    o->ready++;
    pthread_cond_broadcast(&o->cv);
    pthread_mutex_unlock(&o->mu);
    if (t->loop) {
        if (rc) lw_net_loop_free(t->loop);
        uv_run(&t->uv, UV_RUN_DEFAULT); /* until lw_net_threads_stop frees the loop */
    }
    if (inited) uv_loop_close(&t->uv);
    return NULL;
}

static void stop_loop(void *arg)
{
    lw_net_loop_free(arg);
}

static void stop_threads(lw_net_threads_t *o, int started)
{
    for (int i = 0; i < started; i++) {
        net_thread_t *t = &o->t[i];
        if (t->rc == 0 && t->loop) lw_net_loop_post(t->loop, stop_loop, t->loop);
    }
    for (int i = 0; i < started; i++)
        pthread_join(o->t[i].th, NULL);
    pthread_mutex_destroy(&o->mu);
    pthread_cond_destroy(&o->cv);
    free(o->t);
    free(o);
}

lw_net_threads_t *lw_net_threads_start(int n, int (*init)(lw_net_loop_t *l, int index, void *ud),
                                       void *ud, int *err)
{
    *err = LW_EINVAL;
    if (n < 1 || !init) return NULL;
    lw_net_threads_t *o = calloc(1, sizeof *o);
    if (!o || !(o->t = calloc((size_t)n, sizeof *o->t))) {
        free(o);
        *err = LW_ENOMEM;
        return NULL;
    }
    o->n = n;
    o->init = init;
    o->ud = ud;
    pthread_mutex_init(&o->mu, NULL);
    pthread_cond_init(&o->cv, NULL);
    int started = 0, rc = 0;
    for (; started < n; started++) {
        o->t[started].owner = o;
        o->t[started].index = started;
        if (pthread_create(&o->t[started].th, NULL, thread_main, &o->t[started])) {
            rc = LW_EIO;
            break;
        }
    }
    pthread_mutex_lock(&o->mu);
    while (o->ready < started)
        pthread_cond_wait(&o->cv, &o->mu);
    pthread_mutex_unlock(&o->mu);
    for (int i = 0; i < started && !rc; i++)
        rc = o->t[i].rc;
    if (rc) {
        stop_threads(o, started);
        *err = rc;
        return NULL;
    }
    *err = 0;
    return o;
}

lw_net_loop_t *lw_net_threads_loop(lw_net_threads_t *t, int index)
{
    return index >= 0 && index < t->n ? t->t[index].loop : NULL;
}

int lw_net_threads_count(const lw_net_threads_t *t)
{
    return t->n;
}

void lw_net_threads_stop(lw_net_threads_t *t)
{
    if (t) stop_threads(t, t->n);
}
