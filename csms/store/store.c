/*
 * store/store.c — the backend-neutral half of the store (store.h): URL dispatch, deep copy of
 * submitted writes, the bounded write queue, the writer thread with group commit, completion
 * callbacks, counters, and the thin read wrappers. Backends (store/sqlite.c) only run SQL.
 *
 * Group commit: the writer sleeps until the queue is non-empty, takes everything queued (up
 * to batch_max), applies it in ONE transaction, commits, and only then fires the callbacks.
 * Under load the queue fills while a commit's fsync runs, so the next batch is large and the
 * fsync cost per write falls; when idle a single write commits at once (no added latency).
 */
#include "store/store_int.h"

#include "auth/auth.h"

#include <openssl/evp.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct op {
    lw_store_write_t w; /* strings point into arena */
    lw_store_done_cb cb;
    void *ud;
    uint8_t key[64];
    size_t key_len;
    lw_arena_t arena; /* copies that did not fit below, and the backend's result text */
    /* The rest of the op's own allocation, sized for the write's strings and values, so
     * that a write costs one malloc: the copies are taken from it before the arena. */
    char *spare, *spare_end;
} op_t;

/* Memory for a copy: from the op's own allocation while it lasts, else from its arena. */
static void *op_alloc(op_t *op, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    if ((size_t)(op->spare_end - op->spare) >= n) {
        void *p = op->spare;
        op->spare += n;
        return p;
    }
    return lw_arena_alloc(&op->arena, n);
}

struct lw_store {
    const lw_store_backend_t *be_vt;
    void *be;
    lw_store_options_t opts;

    pthread_mutex_t mu;
    pthread_cond_t nonempty;
    op_t **ring; /* queue_max slots */
    size_t head, count;
    size_t waited;           /* queued writes with a callback: someone waits on their commit */
    uint64_t last_commit_us; /* writer thread only: when the last batch ended */
    bool stopping;
    bool maint_more; /* lw_store_maint_more(); under mu */
    pthread_t writer;
    bool writer_started;

    lw_store_stats_t st; /* under mu */
};

/* ---- names ---------------------------------------------------------------------------------- */

static const char *const reg_names[] = {"Accepted", "Pending", "Rejected"};
static const char *const tok_names[] = {"Accepted", "Blocked", "Expired", "Invalid",
                                        "ConcurrentTx"};
static const char *const role_names[] = {"viewer", "operator", "admin"};
static const char *const cmd_names[] = {"queued", "sent", "answered", "failed", "expired"};

static int parse_name(const char *const *names, int n, const char *s, int *out)
{
    for (int i = 0; s && i < n; i++)
        if (!strcmp(s, names[i])) {
            *out = i;
            return 0;
        }
    return LW_EINVAL;
}

const char *lw_reg_status_name(lw_reg_status_t r)
{
    return (unsigned)r < 3 ? reg_names[r] : "Rejected";
}
int lw_reg_status_parse(const char *s, lw_reg_status_t *out)
{
    int v, rc = parse_name(reg_names, 3, s, &v);
    if (!rc) *out = (lw_reg_status_t)v;
    return rc;
}
const char *lw_token_status_name(lw_token_status_t t)
{
    return (unsigned)t < 5 ? tok_names[t] : "Invalid";
}
int lw_token_status_parse(const char *s, lw_token_status_t *out)
{
    int v, rc = parse_name(tok_names, 5, s, &v);
    if (!rc) *out = (lw_token_status_t)v;
    return rc;
}
const char *lw_role_name(lw_role_t r)
{
    return (unsigned)r < 3 ? role_names[r] : "viewer";
}
int lw_role_parse(const char *s, lw_role_t *out)
{
    int v, rc = parse_name(role_names, 3, s, &v);
    if (!rc) *out = (lw_role_t)v;
    return rc;
}
const char *lw_cmd_status_name(lw_cmd_status_t st)
{
    return (unsigned)st < 5 ? cmd_names[st] : "failed";
}
int lw_cmd_status_parse(const char *s, lw_cmd_status_t *out)
{
    int v, rc = parse_name(cmd_names, 5, s, &v);
    if (!rc) *out = (lw_cmd_status_t)v;
    return rc;
}

void lw_store_maint_defaults(lw_store_maint_t *m)
{
    *m = (lw_store_maint_t){
        .journal_max_age_ms = LW_STORE_JOURNAL_MAX_AGE_MS_DEFAULT,
        .journal_keep_per_station = LW_STORE_JOURNAL_KEEP_PER_STATION_DEFAULT,
        .dedupe_max_age_ms = LW_STORE_DEDUPE_MAX_AGE_MS_DEFAULT,
        .history_max_age_ms = LW_STORE_HISTORY_MAX_AGE_MS_DEFAULT,
    };
}

/* ---- the strings inside a write ---------------------------------------------------------------
 */

/* Collects pointers to every lw_str_t field of w that its kind uses (so copy and hashing
 * treat all kinds alike). Returns the count; out holds at least 16. */
static size_t write_strs(lw_store_write_t *w, lw_str_t **out)
{
    size_t n = 0;
    out[n++] = &w->station_id;
#define S(f) out[n++] = &w->u.f
    switch (w->kind) {
    case LW_W_STATION_PUT:
        S(station_put.password), S(station_put.ocpp_version);
        break;
    case LW_W_STATION_CONN:
        S(conn.ocpp_version);
        break;
    case LW_W_BOOT:
        S(boot.reason), S(boot.vendor), S(boot.model), S(boot.serial), S(boot.firmware);
        S(boot.iccid), S(boot.imsi), S(boot.meter_type), S(boot.meter_serial), S(boot.payload);
        break;
    case LW_W_STATUS:
        S(status.status), S(status.error_code), S(status.info), S(status.vendor_id);
        S(status.vendor_error_code);
        break;
    case LW_W_TX_START:
        S(tx_start.id_tag), S(tx_start.answer);
        break;
    case LW_W_TX_STOP:
        S(tx_stop.id_tag), S(tx_stop.reason), S(tx_stop.answer);
        break;
    case LW_W_TX_EVENT:
        S(tx_event.tx_uid), S(tx_event.event_type), S(tx_event.trigger_reason);
        S(tx_event.id_token), S(tx_event.id_token_type), S(tx_event.charging_state);
        S(tx_event.stopped_reason), S(tx_event.answer);
        break;
    case LW_W_METER_VALUES:
        S(meter.tx_uid);
        break;
    case LW_W_JOURNAL:
        S(journal.msg_id), S(journal.action), S(journal.payload), S(journal.reply_payload);
        break;
    case LW_W_SECURITY_EVENT:
        S(security.type), S(security.tech_info);
        break;
    case LW_W_FW_STATUS:
        S(fw_status.what), S(fw_status.status);
        break;
    case LW_W_DATA_TRANSFER:
        S(data_transfer.vendor_id), S(data_transfer.message_id), S(data_transfer.data);
        break;
    case LW_W_ID_TOKEN_PUT:
        S(id_token.id_token), S(id_token.type), S(id_token.group_id);
        break;
    case LW_W_API_TOKEN_PUT:
        S(api_token.name);
        break;
    case LW_W_RESERVATION_PUT:
        S(reservation.id_token), S(reservation.group_id), S(reservation.status);
        break;
    case LW_W_RESERVATION_STATUS:
        S(reservation_status.status);
        break;
    case LW_W_PROFILE_PUT:
        S(profile.purpose), S(profile.kind), S(profile.profile), S(profile.status);
        break;
    case LW_W_PROFILE_STATUS:
        S(profile_status.status);
        break;
    case LW_W_CERT_ISSUED:
        S(cert.cert_type), S(cert.csr), S(cert.pem), S(cert.serial), S(cert.subject);
        break;
    case LW_W_CMD_INSERT:
        S(cmd.action), S(cmd.payload), S(cmd.idempotency_key);
        break;
    case LW_W_CMD_UPDATE:
        S(cmd_update.msg_id), S(cmd_update.response), S(cmd_update.error_code);
        S(cmd_update.error_desc);
        break;
    case LW_W_ID_TOKEN_DELETE:
        S(id_token.id_token);
        break;
    case LW_W_CMD_META:
        S(cmd_meta.via), S(cmd_meta.fingerprint);
        break;
    default:
        break;
    }
#undef S
    return n;
}

/* The sampled values of w, if its kind has any. */
static const lw_meter_value_t **write_values(lw_store_write_t *w, size_t **n)
{
    switch (w->kind) {
    case LW_W_TX_STOP:
        *n = &w->u.tx_stop.n_values;
        return &w->u.tx_stop.values;
    case LW_W_TX_EVENT:
        *n = &w->u.tx_event.n_values;
        return &w->u.tx_event.values;
    case LW_W_METER_VALUES:
        *n = &w->u.meter.n_values;
        return &w->u.meter.values;
    default:
        return NULL;
    }
}

static size_t value_strs(lw_meter_value_t *v, lw_str_t **out)
{
    size_t n = 0;
    out[n++] = &v->value, out[n++] = &v->measurand, out[n++] = &v->phase;
    out[n++] = &v->unit, out[n++] = &v->context, out[n++] = &v->location;
    out[n++] = &v->format, out[n++] = &v->signed_data;
    return n;
}

static int copy_str(op_t *op, lw_str_t *s, size_t *total)
{
    if (!s->len) {
        *s = (lw_str_t){"", 0};
        return 0;
    }
    if (!s->p) return LW_EINVAL;
    *total += s->len;
    if (*total > LW_STORE_WRITE_BYTES_MAX) return LW_ETOOBIG;
    char *c = op_alloc(op, s->len + 1);
    if (!c) return LW_ENOMEM;
    memcpy(c, s->p, s->len);
    c[s->len] = 0;
    s->p = c;
    return 0;
}

static size_t attr_strs(void *el, lw_str_t **out)
{
    lw_dm_attr_t *a = el;
    size_t n = 0;
    out[n++] = &a->component, out[n++] = &a->component_inst, out[n++] = &a->variable;
    out[n++] = &a->variable_inst, out[n++] = &a->attr_type, out[n++] = &a->value;
    out[n++] = &a->mutability, out[n++] = &a->characteristics;
    return n;
}
static size_t event_strs(void *el, lw_str_t **out)
{
    lw_dm_event_t *e = el;
    size_t n = 0;
    out[n++] = &e->trigger, out[n++] = &e->component, out[n++] = &e->variable;
    out[n++] = &e->actual, out[n++] = &e->payload;
    return n;
}
static size_t key_strs(void *el, lw_str_t **out)
{
    lw_config_key_t *k = el;
    out[0] = &k->key, out[1] = &k->value;
    return 2;
}

/* Copies an array of items of size elsz whose lw_str_t fields strs() names into op. */
static int copy_items(op_t *op, const void **arr, size_t n, size_t elsz,
                      size_t (*strs)(void *, lw_str_t **), size_t *total)
{
    if (!n) {
        *arr = NULL;
        return 0;
    }
    if (n > LW_STORE_ITEMS_MAX) return LW_ETOOBIG;
    if (!*arr) return LW_EINVAL;
    char *copy = op_alloc(op, n * elsz);
    if (!copy) return LW_ENOMEM;
    memcpy(copy, *arr, n * elsz);
    for (size_t k = 0; k < n; k++) {
        lw_str_t *vs[16];
        size_t m = strs(copy + k * elsz, vs);
        for (size_t i = 0; i < m; i++) {
            int rc = copy_str(op, vs[i], total);
            if (rc) return rc;
        }
    }
    *arr = copy;
    return 0;
}

/* Bytes copy_write takes for w's strings and sampled values (items of the device model and
 * config kinds are not counted: they come from the arena). 0 when w is over the limits
 * (copy_write refuses it). */
static size_t copy_size(lw_store_write_t *w)
{
    lw_str_t *strs[16] = {0}; /* = {0}: GCC -O3 sees no bound on n (maybe-uninitialized) */
    size_t n = write_strs(w, strs), need = 0;
#define PAD(x) (((x) + 7) & ~(size_t)7)
    for (size_t i = 0; i < n; i++)
        if (strs[i]->len) need += PAD(strs[i]->len + 1);
    size_t *nv;
    const lw_meter_value_t **vals = write_values(w, &nv);
    if (vals && *vals && *nv && *nv <= LW_STORE_VALUES_MAX) {
        need += PAD(*nv * sizeof **vals);
        for (size_t k = 0; k < *nv; k++) {
            lw_str_t *vs[8];
            lw_meter_value_t v = (*vals)[k];
            size_t m = value_strs(&v, vs);
            for (size_t i = 0; i < m; i++)
                if (vs[i]->len) need += PAD(vs[i]->len + 1);
        }
    }
#undef PAD
    return need > LW_STORE_WRITE_BYTES_MAX + 64 * 1024 ? 0 : need;
}

/* Deep-copies op->w's strings and values into op's own memory (op_alloc). */
static int copy_write(op_t *op)
{
    lw_str_t *strs[16];
    size_t n = write_strs(&op->w, strs), total = 0;
    int rc;
    for (size_t i = 0; i < n; i++)
        if ((rc = copy_str(op, strs[i], &total))) return rc;
    size_t *nv;
    const lw_meter_value_t **vals = write_values(&op->w, &nv);
    if (vals && *nv) {
        if (*nv > LW_STORE_VALUES_MAX) return LW_ETOOBIG;
        if (!*vals) return LW_EINVAL;
        lw_meter_value_t *copy = op_alloc(op, *nv * sizeof *copy);
        if (!copy) return LW_ENOMEM;
        memcpy(copy, *vals, *nv * sizeof *copy);
        for (size_t k = 0; k < *nv; k++) {
            lw_str_t *vs[8];
            size_t m = value_strs(&copy[k], vs);
            for (size_t i = 0; i < m; i++)
                if ((rc = copy_str(op, vs[i], &total))) return rc;
        }
        *vals = copy;
    } else if (vals) {
        *vals = NULL;
    }
    lw_store_write_t *w = &op->w;
    switch (w->kind) {
    case LW_W_DEVICE_MODEL:
        return copy_items(op, (const void **)&w->u.device_model.attrs, w->u.device_model.n_attrs,
                          sizeof(lw_dm_attr_t), attr_strs, &total);
    case LW_W_DEVICE_EVENTS:
        return copy_items(op, (const void **)&w->u.device_events.events,
                          w->u.device_events.n_events, sizeof(lw_dm_event_t), event_strs, &total);
    case LW_W_CONFIG_KEYS:
        return copy_items(op, (const void **)&w->u.config_keys.keys, w->u.config_keys.n_keys,
                          sizeof(lw_config_key_t), key_strs, &total);
    default:
        return 0;
    }
}

/* ---- dedupe keys ------------------------------------------------------------------------------
 */

/* The bytes a retry key hashes: the write's fields in order, each integer as its 8 native
 * bytes, each string length-prefixed (so ("ab","c") differs from ("a","bc")). Gathered into
 * one buffer and hashed in one call: the same byte stream, so the same digest, as the
 * field-by-field updates before (dedupe_keys_are_stable pins it), without ~100 update calls
 * per MeterValues. A key material larger than the stack buffer is hashed in pieces. */
typedef struct {
    EVP_MD_CTX *ctx; /* NULL until the buffer first overflows */
    bool failed;     /* that context could not be made: no key */
    size_t len;
    uint8_t buf[2048];
} keymat_t;

static const EVP_MD *sha256_md; /* fetched once: an implicit fetch per digest costs a lookup */
static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static void km_put(keymat_t *k, const void *p, size_t n)
{
    if (k->failed) return;
    if (k->len + n > sizeof k->buf) {
        if (!k->ctx) {
            k->ctx = EVP_MD_CTX_new();
            if (!k->ctx || !EVP_DigestInit_ex(k->ctx, sha256_md ? sha256_md : EVP_sha256(), NULL))
                k->failed = true;
        }
        if (k->failed || !EVP_DigestUpdate(k->ctx, k->buf, k->len)) {
            k->failed = true;
            return;
        }
        k->len = 0;
        if (n > sizeof k->buf) {
            if (!EVP_DigestUpdate(k->ctx, p, n)) k->failed = true;
            return;
        }
    }
    memcpy(k->buf + k->len, p, n);
    k->len += n;
}
static void h_i64(keymat_t *k, int64_t v)
{
    km_put(k, &v, sizeof v);
}
static void h_str(keymat_t *k, lw_str_t s)
{
    h_i64(k, (int64_t)s.len);
    if (s.len) km_put(k, s.p, s.len);
}

size_t lw_store_dedupe_key(const lw_store_write_t *w, uint8_t out[64])
{
    switch (w->kind) {
    case LW_W_TX_STOP: /* a transaction stops once: any retry is the same stop */
        return (size_t)snprintf((char *)out, 64, "%lld", (long long)w->u.tx_stop.tx_id);
    case LW_W_TX_EVENT: {
        /* (transactionId, seqNo) identifies an event. A long transactionId (2.1 allows more
         * than 2.0.1's 36) is hashed below instead of truncated, so seqNo is never cut off. */
        int n = snprintf((char *)out, 64, "%.*s:%d", LW_STR_FMT(w->u.tx_event.tx_uid),
                         w->u.tx_event.seq_no);
        if (n > 0 && n < 64) return (size_t)n;
        break;
    }
    case LW_W_TX_START:
    case LW_W_METER_VALUES:
        break;
    default:
        return 0;
    }
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, sha256_fetch);
    keymat_t k;
    k.ctx = NULL;
    k.failed = false;
    k.len = 0;
    h_i64(&k, w->kind);
    if (w->kind == LW_W_TX_START) {
        /* Every field of the request: a genuine second transaction differs at least in its
         * timestamp or meterStart; the answer is not part of the key. */
        h_i64(&k, w->u.tx_start.connector_id);
        h_str(&k, w->u.tx_start.id_tag);
        h_i64(&k, w->u.tx_start.meter_start_wh);
        h_i64(&k, w->u.tx_start.at_ms);
        h_i64(&k, w->u.tx_start.reservation_id);
    } else if (w->kind == LW_W_TX_EVENT) {
        h_str(&k, w->u.tx_event.tx_uid);
        h_i64(&k, w->u.tx_event.seq_no);
    } else {
        h_i64(&k, w->u.meter.evse_id);
        h_i64(&k, w->u.meter.connector_id);
        h_i64(&k, w->u.meter.tx_id);
        h_str(&k, w->u.meter.tx_uid);
        for (size_t i = 0; i < w->u.meter.n_values; i++) {
            lw_meter_value_t v = w->u.meter.values[i];
            lw_str_t *vs[8];
            size_t m = value_strs(&v, vs);
            h_i64(&k, v.timestamp_ms);
            for (size_t j = 0; j < m; j++)
                h_str(&k, *vs[j]);
        }
    }
    unsigned int len = 32;
    const EVP_MD *md = sha256_md ? sha256_md : EVP_sha256();
    int ok;
    if (k.failed) {
        ok = 0;
    } else if (!k.ctx) {
        ok = EVP_Digest(k.buf, k.len, out, &len, md, NULL);
    } else {
        ok = EVP_DigestUpdate(k.ctx, k.buf, k.len) && EVP_DigestFinal_ex(k.ctx, out, &len);
    }
    EVP_MD_CTX_free(k.ctx); /* NULL: nothing */
    return ok ? 32 : 0;
}

/* ---- the writer thread --------------------------------------------------------------------- */

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* CLOCK_MONOTONIC us microseconds from now, for the writer's timed waits (its condition
 * variable uses that clock, set at open). */
static struct timespec deadline_in(uint64_t us)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t ns = (uint64_t)ts.tv_nsec + us * 1000u;
    ts.tv_sec += (time_t)(ns / 1000000000u);
    ts.tv_nsec = (long)(ns % 1000000000u);
    return ts;
}

static void op_free(op_t *op)
{
    lw_arena_free(&op->arena);
    free(op);
}

/* Opens the transaction and applies ops[0..n) into res[]. Returns begin's error (every res
 * then carries it) or 0; a write's own failure is only in its res. */
static int apply_batch(lw_store_t *s, op_t **ops, size_t n, lw_store_result_t *res)
{
    int rc = s->be_vt->begin(s->be);
    for (size_t i = 0; i < n; i++) {
        memset(&res[i], 0, sizeof res[i]);
        if (rc) {
            res[i].status = rc;
            continue;
        }
        s->be_vt->apply(s->be, &ops[i]->w, ops[i]->key, ops[i]->key_len, &res[i], &ops[i]->arena);
    }
    return rc;
}

const uint32_t lw_store_sync_bucket_us[LW_STORE_SYNC_BUCKETS - 1] = {250,  500,   1000,  2000,
                                                                     5000, 10000, 25000, 50000};

/* After the commit of a retention run (LW_W_MAINTAIN): what it removed, to the log, and
 * whether it stopped at its row bound, for lw_store_maint_more(). */
static void maint_done(lw_store_t *s, const lw_store_result_t *r)
{
    if (r->status)
        lw_log(LW_LOG_WARN, "store", "event=maintain_failed err=%s", lw_strerror(r->status));
    else if (r->pruned_journal || r->pruned_dedupe || r->pruned_history || r->expired_commands ||
             r->expired_reservations)
        lw_log(LW_LOG_INFO, "store",
               "event=maintain pruned_journal=%lld pruned_dedupe=%lld pruned_history=%lld "
               "expired_commands=%lld expired_reservations=%lld more=%d",
               (long long)r->pruned_journal, (long long)r->pruned_dedupe,
               (long long)r->pruned_history, (long long)r->expired_commands,
               (long long)r->expired_reservations, r->more);
    pthread_mutex_lock(&s->mu);
    s->maint_more = !r->status && r->more;
    pthread_mutex_unlock(&s->mu);
}

bool lw_store_maint_more(lw_store_t *s)
{
    pthread_mutex_lock(&s->mu);
    bool more = s->maint_more;
    pthread_mutex_unlock(&s->mu);
    return more;
}

static void run_batch(lw_store_t *s, op_t **ops, size_t n, lw_store_result_t *res)
{
    uint64_t t0 = now_us();
    int rc = 0;
    bool durable = true;
    if (s->be_vt->durability) {
        durable = false;
        for (size_t i = 0; i < n && !durable; i++)
            durable = ops[i]->cb != NULL;
        rc = s->be_vt->durability(s->be, durable);
    }
    if (!rc) rc = apply_batch(s, ops, n, res);
    /* A write failed half-way (rare: the backend applies writes without a savepoint each): the
     * batch is rolled back and applied again, each write atomic on its own this time. */
    bool replay = !rc && s->be_vt->spoiled && s->be_vt->spoiled(s->be);
    if (replay) {
        s->be_vt->rollback(s->be);
        s->be_vt->savepoints(s->be, true);
        rc = apply_batch(s, ops, n, res);
    }
    uint64_t t_sync = now_us();
    if (!rc) rc = s->be_vt->commit(s->be);
    t_sync = now_us() - t_sync;
    if (replay) s->be_vt->savepoints(s->be, false);
    if (rc) {
        s->be_vt->rollback(s->be);
        /* Nothing of this batch is durable: no write may be acknowledged as stored. */
        for (size_t i = 0; i < n; i++) {
            res[i] = (lw_store_result_t){.status = rc < 0 ? rc : LW_ESTORE};
        }
        lw_log(LW_LOG_ERROR, "store", "event=commit_failed writes=%zu err=%s", n, lw_strerror(rc));
    }
    uint64_t dt = now_us() - t0;
    size_t cached = s->be_vt->cache_bytes ? s->be_vt->cache_bytes(s->be) : 0;

    pthread_mutex_lock(&s->mu);
    s->st.cache_bytes = cached;
    if (rc) {
        s->st.commit_failures++;
    } else {
        s->st.commits++;
        s->st.replays += replay;
        if (!durable) s->st.commits_nosync++;
        size_t b = 0;
        while (b + 1 < LW_STORE_BATCH_BUCKETS && ((size_t)2 << b) <= n)
            b++;
        s->st.batch_hist[b]++;
        s->st.commit_us_total += dt;
        if (dt > s->st.commit_us_max) s->st.commit_us_max = dt;
        if (durable) {
            size_t k = 0;
            while (k + 1 < LW_STORE_SYNC_BUCKETS && t_sync > lw_store_sync_bucket_us[k])
                k++;
            s->st.sync_hist[k]++;
            s->st.syncs++;
            s->st.sync_us_total += t_sync;
            if (t_sync > s->st.sync_us_max) s->st.sync_us_max = t_sync;
        }
    }
    for (size_t i = 0; i < n; i++) {
        s->st.writes++;
        if (res[i].status) s->st.write_errors++;
        if (res[i].duplicate) s->st.duplicates++;
    }
    pthread_mutex_unlock(&s->mu);

    /* Callbacks after the commit returned: "acknowledged means durable". */
    for (size_t i = 0; i < n; i++) {
        if (ops[i]->w.kind == LW_W_MAINTAIN) maint_done(s, &res[i]);
        if (ops[i]->cb) ops[i]->cb(ops[i]->ud, &res[i]);
        op_free(ops[i]);
    }
}

static void *writer_main(void *arg)
{
    lw_store_t *s = arg;
    pthread_setname_np(pthread_self(), "lw-store"); /* what top -H and ps -L show */
    size_t bmax = s->opts.batch_max, lmax = s->opts.lazy_batch_max;
    op_t **batch = calloc(lmax, sizeof *batch);
    lw_store_result_t *res = calloc(lmax, sizeof *res);
    if (!batch || !res) abort(); /* at open; a store without a writer must not pretend */
    bool wrote_since_release = false;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (!s->count && !s->stopping) {
            if (!wrote_since_release) {
                pthread_cond_wait(&s->nonempty, &s->mu);
                continue;
            }
            /* Idle after writes: wait a little, then give cache memory back (see
             * lw_store_backend_t.release_memory). */
            struct timespec ts = deadline_in((uint64_t)LW_STORE_IDLE_RELEASE_MS * 1000u);
            if (pthread_cond_timedwait(&s->nonempty, &s->mu, &ts) == ETIMEDOUT && !s->count) {
                pthread_mutex_unlock(&s->mu);
                if (s->be_vt->release_memory) s->be_vt->release_memory(s->be);
                lw_mem_release(); /* this thread's free pages back to the OS */
                wrote_since_release = false;
                size_t cached = s->be_vt->cache_bytes ? s->be_vt->cache_bytes(s->be) : 0;
                pthread_mutex_lock(&s->mu);
                s->st.cache_bytes = cached;
                s->st.memory_releases++;
            }
        }
        if (!s->count && s->stopping) {
            pthread_mutex_unlock(&s->mu);
            break;
        }
        /* Lazy commit: when nobody waits on the queued writes (journal rows of Heartbeats,
         * last-seen times), gather them for up to LW_STORE_LAZY_COMMIT_MS after the last
         * commit. Every commit rewrites the tail pages of the journal and its indexes and
         * takes the WAL locks; small commits of a few Heartbeats cost more than the rows. A
         * waited-on write, a full lazy batch or close ends the wait at once. */
        while (!s->stopping && !s->waited && s->count < lmax) {
            uint64_t due = s->last_commit_us + (uint64_t)LW_STORE_LAZY_COMMIT_MS * 1000u;
            uint64_t now = now_us();
            if (now >= due) break;
            struct timespec ts = deadline_in(due - now);
            pthread_cond_timedwait(&s->nonempty, &s->mu, &ts);
        }
        /* Group commit (LW_STORE_GROUP_COMMIT_US): a waited-on write commits a little later,
         * with the ones that arrive meanwhile. */
        if (s->waited && s->count < LW_STORE_GROUP_COMMIT_ENOUGH && !s->stopping &&
            !s->opts.no_group_commit) {
            struct timespec ts = deadline_in(LW_STORE_GROUP_COMMIT_US);
            pthread_mutex_unlock(&s->mu);
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
                ;
            pthread_mutex_lock(&s->mu);
        }
        /* A batch with a waited-on write is kept to batch_max (its first write waits for the
         * last); one nobody waits on takes up to lazy_batch_max. */
        size_t n = 0, qmax = s->opts.queue_max, max = s->waited ? bmax : lmax;
        while (s->count && n < max) {
            if (s->ring[s->head]->cb) s->waited--;
            batch[n++] = s->ring[s->head];
            s->head = (s->head + 1) % qmax;
            s->count--;
        }
        s->st.queue_depth = s->count;
        pthread_mutex_unlock(&s->mu);
        run_batch(s, batch, n, res);
        s->last_commit_us = now_us();
        wrote_since_release = true;
    }
    free(batch);
    free(res);
    return NULL;
}

/* ---- open / close -----------------------------------------------------------------------------
 */

static void seterr(char *err, size_t errsz, const char *fmt, const char *a)
{
    if (err && errsz) snprintf(err, errsz, fmt, a);
}

int lw_store_open(const char *url, const lw_store_options_t *opts, lw_store_t **out, char *err,
                  size_t errsz)
{
    *out = NULL;
    if (err && errsz) err[0] = 0;
    if (!url || !*url) {
        seterr(err, errsz, "%sempty database URL", "");
        return LW_EINVAL;
    }
    const lw_store_backend_t *vt = NULL;
    const char *target = url;
    if (!strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13)) {
        seterr(err, errsz, "%s: PostgreSQL is not supported by this build yet; use sqlite:PATH",
               url);
        return LW_ENOTSUP;
    }
    if (!strncmp(url, "sqlite:", 7)) {
        target = url + 7;
        if (!strncmp(target, "//", 2)) target += 2; /* sqlite:///abs/path too */
    } else if (strstr(url, "://")) {
        seterr(err, errsz, "%s: unknown database URL scheme (want sqlite:PATH or postgres://…)",
               url);
        return LW_EINVAL;
    }
    vt = &lw_store_sqlite_backend;
    if (!*target) {
        seterr(err, errsz, "%s: no file path in the database URL", url);
        return LW_EINVAL;
    }

    lw_store_t *s = calloc(1, sizeof *s);
    if (!s) return LW_ENOMEM;
    if (opts) s->opts = *opts;
    if (!s->opts.queue_max) s->opts.queue_max = LW_STORE_QUEUE_MAX_DEFAULT;
    if (!s->opts.batch_max) s->opts.batch_max = LW_STORE_BATCH_MAX_DEFAULT;
    if (!s->opts.lazy_batch_max) s->opts.lazy_batch_max = LW_STORE_LAZY_BATCH_MAX_DEFAULT;
    if (s->opts.batch_max > s->opts.queue_max) s->opts.batch_max = s->opts.queue_max;
    if (s->opts.lazy_batch_max < s->opts.batch_max) s->opts.lazy_batch_max = s->opts.batch_max;
    if (s->opts.lazy_batch_max > s->opts.queue_max) s->opts.lazy_batch_max = s->opts.queue_max;
    if (!s->opts.busy_timeout_ms) s->opts.busy_timeout_ms = LW_STORE_BUSY_TIMEOUT_MS_DEFAULT;
    if (!s->opts.clock) s->opts.clock = lw_clock_real();
    s->st.queue_max = s->opts.queue_max;
    s->be_vt = vt;
    s->ring = calloc(s->opts.queue_max, sizeof *s->ring);
    if (!s->ring) {
        free(s);
        return LW_ENOMEM;
    }
    int rc = vt->open(target, &s->opts, &s->be, err, errsz);
    if (rc) {
        free(s->ring);
        free(s);
        return rc;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->nonempty, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&s->writer, NULL, writer_main, s)) {
        seterr(err, errsz, "%scannot start the store writer thread", "");
        lw_store_close(s);
        return LW_ENOMEM;
    }
    s->writer_started = true;
    *out = s;
    return 0;
}

void lw_store_close(lw_store_t *s)
{
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_signal(&s->nonempty);
    pthread_mutex_unlock(&s->mu);
    if (s->writer_started) pthread_join(s->writer, NULL);
    s->be_vt->close(s->be);
    pthread_cond_destroy(&s->nonempty);
    pthread_mutex_destroy(&s->mu);
    free(s->ring);
    free(s);
}

int lw_store_schema_version(lw_store_t *s)
{
    return s->be_vt->schema_version(s->be);
}

/* ---- submit --------------------------------------------------------------------------------- */

static bool needs_station(lw_store_write_kind_t k)
{
    return k != LW_W_API_TOKEN_PUT && k != LW_W_API_TOKEN_REVOKE && k != LW_W_ID_TOKEN_PUT &&
           k != LW_W_JOURNAL_PRUNE && k != LW_W_STATIONS_OFFLINE && k != LW_W_CMD_EXPIRE &&
           k != LW_W_MAINTAIN && k != LW_W_ID_TOKEN_DELETE;
}

int lw_store_submit(lw_store_t *s, const lw_store_write_t *w, lw_store_done_cb cb, void *ud)
{
    if (!s || !w || (unsigned)w->kind >= LW_W_KIND_COUNT) return LW_EINVAL;
    if (needs_station(w->kind) && !w->station_id.len) return LW_EINVAL;
    if (w->station_id.len > LW_STATION_ID_MAX) return LW_EINVAL;
    lw_store_write_t sized = *w;
    size_t spare = copy_size(&sized);
    op_t *op = malloc(sizeof *op + spare);
    if (!op) return LW_ENOMEM;
    op->spare = (char *)(op + 1);
    op->spare_end = op->spare + spare;
    op->w = *w;
    op->cb = cb;
    op->ud = ud;
    lw_arena_init(&op->arena, LW_STORE_WRITE_BYTES_MAX + 64 * 1024);
    if (w->kind == LW_W_STATION_PUT) {
        lw_str_t pw = w->u.station_put.password;
        memset(op->w.u.station_put.pw_salt, 0, LW_AUTH_SALT_LEN);
        memset(op->w.u.station_put.pw_hash, 0, LW_AUTH_HASH_LEN);
        op->w.u.station_put.pw_set = false;
        if (w->u.station_put.set_password && pw.len) {
            if (lw_auth_password_new(pw, op->w.u.station_put.pw_salt,
                                     op->w.u.station_put.pw_hash)) {
                op_free(op);
                return LW_EIO;
            }
            op->w.u.station_put.pw_set = true;
        }
        op->w.u.station_put.password = LW_STR_NULL; /* the clear password is not queued */
    }
    int rc = copy_write(op);
    if (rc) {
        op_free(op);
        return rc;
    }
    op->key_len = lw_store_dedupe_key(&op->w, op->key);

    bool wake = false;
    pthread_mutex_lock(&s->mu);
    if (s->stopping) {
        rc = LW_ECLOSED;
    } else if (s->count >= s->opts.queue_max) {
        s->st.rejected_busy++;
        rc = LW_EBUSY;
    } else {
        s->ring[(s->head + s->count) % s->opts.queue_max] = op;
        s->count++;
        if (w->kind == LW_W_MAINTAIN) s->maint_more = false; /* this one will tell */
        s->st.queue_depth = s->count;
        if (cb) s->waited++;
        /* The writer sleeps on an empty queue, or lazily on writes nobody waits on (see
         * writer_main): only a first write, a waited-on write or a full lazy batch wakes it. */
        wake = cb || s->count == 1 || s->count >= s->opts.lazy_batch_max;
    }
    pthread_mutex_unlock(&s->mu);
    /* Signalled after the unlock: on a busy core the woken writer would otherwise preempt
     * this thread, find the mutex still held and sleep again at once. */
    if (wake) pthread_cond_signal(&s->nonempty);
    if (rc) op_free(op);
    return rc;
}

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    lw_store_result_t res;
} waiter_t;

static void wait_done(void *ud, const lw_store_result_t *res)
{
    waiter_t *wt = ud;
    pthread_mutex_lock(&wt->mu);
    wt->res = *res;
    wt->res.answer = LW_STR_NULL; /* points into the op, freed after this callback */
    wt->done = true;
    pthread_cond_signal(&wt->cv);
    pthread_mutex_unlock(&wt->mu);
}

int lw_store_submit_wait(lw_store_t *s, const lw_store_write_t *w, lw_store_result_t *res)
{
    waiter_t wt = {.done = false};
    pthread_mutex_init(&wt.mu, NULL);
    pthread_cond_init(&wt.cv, NULL);
    int rc;
    for (int tries = 0;; tries++) {
        rc = lw_store_submit(s, w, wait_done, &wt);
        if (rc != LW_EBUSY || tries >= 100) break;
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    if (!rc) {
        pthread_mutex_lock(&wt.mu);
        while (!wt.done)
            pthread_cond_wait(&wt.cv, &wt.mu);
        pthread_mutex_unlock(&wt.mu);
        if (res) *res = wt.res;
        rc = wt.res.status;
    }
    pthread_cond_destroy(&wt.cv);
    pthread_mutex_destroy(&wt.mu);
    return rc;
}

/* ---- reads ------------------------------------------------------------------------------------
 */

int lw_store_read_begin(lw_store_t *s)
{
    return s->be_vt->read_begin ? s->be_vt->read_begin(s->be) : 0;
}

void lw_store_read_end(lw_store_t *s)
{
    if (s->be_vt->read_end) s->be_vt->read_end(s->be);
}

int lw_store_station_get(lw_store_t *s, lw_str_t id, lw_station_rec_t *out)
{
    uint8_t salt[LW_AUTH_SALT_LEN], hash[LW_AUTH_HASH_LEN];
    return s->be_vt->station_get(s->be, id, out, salt, hash);
}

int lw_store_station_check_password(lw_store_t *s, lw_str_t id, lw_str_t password)
{
    lw_station_rec_t rec;
    uint8_t salt[LW_AUTH_SALT_LEN], hash[LW_AUTH_HASH_LEN];
    int rc = s->be_vt->station_get(s->be, id, &rec, salt, hash);
    if (rc) return rc;
    if (!rec.has_password) return LW_EAUTH;
    return lw_auth_password_check(salt, hash, password) ? 0 : LW_EAUTH;
}

int lw_store_station_list(lw_store_t *s, lw_str_t after, size_t limit,
                          int (*each)(void *ud, const lw_station_rec_t *rec), void *ud)
{
    if (!limit || limit > LW_STORE_PAGE_MAX) limit = LW_STORE_PAGE_MAX;
    return s->be_vt->station_list(s->be, after, limit, each, ud);
}

int lw_store_id_token_get(lw_store_t *s, lw_str_t id_token, lw_id_token_rec_t *out)
{
    return s->be_vt->id_token_get(s->be, id_token, out);
}

int lw_store_tx_get(lw_store_t *s, int64_t id, lw_tx_rec_t *out)
{
    return s->be_vt->tx_get(s->be, id, LW_STR_NULL, LW_STR_NULL, out);
}

int lw_store_tx_get_uid(lw_store_t *s, lw_str_t station_id, lw_str_t tx_uid, lw_tx_rec_t *out)
{
    if (!station_id.len || !tx_uid.len) return LW_EINVAL;
    return s->be_vt->tx_get(s->be, 0, station_id, tx_uid, out);
}

int lw_store_tx_list(lw_store_t *s, const lw_tx_filter_t *f,
                     int (*each)(void *ud, const lw_tx_rec_t *rec), void *ud)
{
    lw_tx_filter_t ff = *f;
    if (!ff.limit || ff.limit > LW_STORE_PAGE_MAX) ff.limit = LW_STORE_PAGE_MAX;
    return s->be_vt->tx_list(s->be, &ff, each, ud);
}

int lw_store_meter_list(lw_store_t *s, int64_t tx_id, size_t limit,
                        int (*each)(void *ud, const lw_meter_value_t *v), void *ud)
{
    if (!limit || limit > LW_STORE_PAGE_MAX) limit = LW_STORE_PAGE_MAX;
    return s->be_vt->meter_list(s->be, tx_id, limit, each, ud);
}

int lw_store_journal_list(lw_store_t *s, lw_str_t station_id, int64_t before_seq, size_t limit,
                          int (*each)(void *ud, const lw_journal_rec_t *rec), void *ud)
{
    if (!limit || limit > LW_STORE_PAGE_MAX) limit = LW_STORE_PAGE_MAX;
    return s->be_vt->journal_list(s->be, station_id, before_seq, limit, each, ud);
}

int lw_store_api_token_check(lw_store_t *s, lw_str_t presented, lw_api_token_rec_t *out)
{
    uint8_t hash[LW_AUTH_HASH_LEN];
    lw_auth_token_hash(presented, hash);
    /* The lookup is by the hash's index; an attacker learns nothing from its timing about
     * a valid token, since they cannot choose hash prefixes. */
    int rc = s->be_vt->api_token_find(s->be, hash, out);
    if (rc == LW_ENOTFOUND) return LW_EAUTH;
    if (!rc && out->revoked_ms) return LW_EAUTH;
    return rc;
}

int lw_store_api_token_list(lw_store_t *s, int (*each)(void *ud, const lw_api_token_rec_t *r),
                            void *ud)
{
    return s->be_vt->api_token_list(s->be, each, ud);
}

void lw_store_stats(lw_store_t *s, lw_store_stats_t *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->st;
    out->queue_depth = s->count;
    pthread_mutex_unlock(&s->mu);
}

/* ---- reads added with schema 002 ------------------------------------------------------------ */

static size_t clamp(size_t limit)
{
    return !limit || limit > LW_STORE_PAGE_MAX ? LW_STORE_PAGE_MAX : limit;
}

int lw_store_station_find(lw_store_t *s, const lw_station_filter_t *f,
                          int (*each)(void *ud, const lw_station_rec_t *rec), void *ud)
{
    lw_station_filter_t ff = *f;
    ff.limit = clamp(ff.limit);
    return s->be_vt->station_find(s->be, &ff, each, ud);
}

int lw_store_stations_mark_all_offline(lw_store_t *s, int64_t *n_out)
{
    lw_store_write_t w = {.kind = LW_W_STATIONS_OFFLINE};
    lw_store_result_t res;
    int rc = lw_store_submit_wait(s, &w, &res);
    if (n_out) *n_out = rc ? 0 : res.row_id;
    return rc;
}

int lw_store_connector_status_list(lw_store_t *s, lw_str_t station_id,
                                   int (*each)(void *ud, const lw_connector_status_rec_t *r),
                                   void *ud)
{
    return s->be_vt->connector_status_list(s->be, station_id, false, 0, LW_STORE_PAGE_MAX, each,
                                           ud);
}

int lw_store_status_history_list(lw_store_t *s, lw_str_t station_id, int64_t before_seq,
                                 size_t limit,
                                 int (*each)(void *ud, const lw_connector_status_rec_t *r),
                                 void *ud)
{
    return s->be_vt->connector_status_list(s->be, station_id, true, before_seq, clamp(limit), each,
                                           ud);
}

int lw_store_journal_pairs(lw_store_t *s, lw_str_t station_id, int64_t before_seq, size_t limit,
                           int (*each)(void *ud, const lw_journal_rec_t *call,
                                       const lw_journal_rec_t *reply),
                           void *ud)
{
    return s->be_vt->journal_pairs(s->be, station_id, before_seq, clamp(limit), each, ud);
}

int lw_store_device_model_list(lw_store_t *s, lw_str_t station_id, lw_str_t component,
                               lw_str_t variable, size_t offset, size_t limit,
                               int (*each)(void *ud, const lw_dm_rec_t *r), void *ud)
{
    return s->be_vt->device_model_list(s->be, station_id, component, variable, offset, clamp(limit),
                                       each, ud);
}

int lw_store_device_event_list(lw_store_t *s, lw_str_t station_id, int64_t before_seq, size_t limit,
                               int (*each)(void *ud, const lw_dm_event_rec_t *r), void *ud)
{
    return s->be_vt->device_event_list(s->be, station_id, before_seq, clamp(limit), each, ud);
}

int lw_store_config_key_list(lw_store_t *s, lw_str_t station_id,
                             int (*each)(void *ud, const lw_config_key_rec_t *r), void *ud)
{
    return s->be_vt->config_key_list(s->be, station_id, each, ud);
}

static int keep_reservation(void *ud, const lw_reservation_rec_t *r)
{
    *(lw_reservation_rec_t *)ud = *r;
    return 1;
}

int lw_store_reservation_get(lw_store_t *s, lw_str_t station_id, int id, lw_reservation_rec_t *out)
{
    if (id <= 0) return LW_ENOTFOUND;
    out->id = 0;
    int rc = s->be_vt->reservation_list(s->be, station_id, id, false, 0, keep_reservation, out);
    if (!rc && out->id != id) rc = LW_ENOTFOUND;
    return rc;
}

int lw_store_reservation_list(lw_store_t *s, lw_str_t station_id, bool active_only, int64_t now_ms,
                              int (*each)(void *ud, const lw_reservation_rec_t *r), void *ud)
{
    return s->be_vt->reservation_list(s->be, station_id, 0, active_only, now_ms, each, ud);
}

int lw_store_profile_list(lw_store_t *s, lw_str_t station_id, int evse_id,
                          int (*each)(void *ud, const lw_profile_rec_t *r), void *ud)
{
    return s->be_vt->profile_list(s->be, station_id, evse_id, each, ud);
}

int lw_store_cert_list(lw_store_t *s, lw_str_t station_id, int64_t before_id, size_t limit,
                       int (*each)(void *ud, const lw_cert_rec_t *r), void *ud)
{
    return s->be_vt->cert_list(s->be, station_id, before_id, clamp(limit), each, ud);
}

typedef struct {
    lw_cmd_rec_t *out;
    lw_arena_t *a;
    int rc;
} cmd_get_t;

static int keep_cmd(void *ud, const lw_cmd_rec_t *r)
{
    cmd_get_t *g = ud;
    *g->out = *r;
    lw_str_t *v[3] = {&g->out->payload, &g->out->response, &g->out->error_desc};
    for (int i = 0; i < 3; i++) {
        char *c = lw_arena_strdup(g->a, v[i]->p ? v[i]->p : "", v[i]->len);
        if (!c) {
            g->rc = LW_ENOMEM;
            return 1;
        }
        v[i]->p = c;
    }
    g->rc = 0;
    return 1;
}

int lw_store_cmd_get(lw_store_t *s, int64_t id, lw_cmd_rec_t *out, lw_arena_t *a)
{
    cmd_get_t g = {out, a, LW_ENOTFOUND};
    int rc = s->be_vt->cmd_list(s->be, 0, LW_STR_NULL, id, 0, 1, keep_cmd, &g);
    return rc ? rc : g.rc;
}

int lw_store_cmd_pending(lw_store_t *s, lw_str_t station_id, int64_t now_ms, size_t limit,
                         int (*each)(void *ud, const lw_cmd_rec_t *r), void *ud)
{
    if (!station_id.len) return LW_EINVAL;
    return s->be_vt->cmd_list(s->be, 1, station_id, 0, now_ms, clamp(limit), each, ud);
}

int lw_store_cmd_list(lw_store_t *s, lw_str_t station_id, int64_t before_id, size_t limit,
                      int (*each)(void *ud, const lw_cmd_rec_t *r), void *ud)
{
    return s->be_vt->cmd_list(s->be, 2, station_id, before_id, 0, clamp(limit), each, ud);
}

/* ---- reads added with schema 005 ----------------------------------------------------------- */

int lw_store_id_token_list(lw_store_t *s, lw_str_t after, size_t limit,
                           int (*each)(void *ud, const lw_id_token_rec_t *rec), void *ud)
{
    if (!s->be_vt->id_token_list) return LW_ENOTSUP;
    return s->be_vt->id_token_list(s->be, after, clamp(limit), each, ud);
}

int lw_store_fw_status_list(lw_store_t *s, lw_str_t station_id, int64_t before_seq, size_t limit,
                            int (*each)(void *ud, const lw_fw_status_rec_t *rec), void *ud)
{
    if (!station_id.len) return LW_EINVAL;
    if (!s->be_vt->fw_status_list) return LW_ENOTSUP;
    return s->be_vt->fw_status_list(s->be, station_id, before_seq, clamp(limit), each, ud);
}

int lw_store_cmd_meta_list(lw_store_t *s, lw_str_t station_id, int64_t before_id, size_t limit,
                           int (*each)(void *ud, int64_t id, lw_str_t via, lw_str_t fingerprint),
                           void *ud)
{
    if (!s->be_vt->cmd_meta_list) return LW_ENOTSUP;
    return s->be_vt->cmd_meta_list(s->be, station_id, before_id, clamp(limit), each, ud);
}
