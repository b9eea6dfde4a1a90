/*
 * api/api_metrics.c — GET /metrics in the Prometheus text exposition format (version 0.0.4):
 * the backend's snapshot of the lower layers' counters (connections, messages, CALLERRORs,
 * CALL latency, store commits, queues) and the API's own (requests, commands, events).
 * Metric names follow Prometheus conventions: base units (seconds), _total for counters.
 */
#include "api/api_int.h"

#include <stdio.h>
#include <string.h>

const double lw_api_latency_bounds_ms[LW_API_LATENCY_BUCKETS] = {
    5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000};

/* Label values escape \ " and newline (exposition format). */
static int label(lw_buf_t *b, const char *v)
{
    int rc = 0;
    for (const char *p = v ? v : ""; rc == 0 && *p; p++) {
        if (*p == '\\' || *p == '"')
            rc = lw_buf_printf(b, "\\%c", *p);
        else if (*p == '\n')
            rc = lw_buf_append_c(b, "\\n");
        else
            rc = lw_buf_putc(b, *p);
    }
    return rc;
}

static int head(lw_buf_t *b, const char *name, const char *type, const char *help)
{
    return lw_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A metric with one unlabelled sample: its HELP and TYPE lines, then "name value". */
static int single(lw_buf_t *b, const char *name, const char *type, const char *help, uint64_t v)
{
    int rc = head(b, name, type, help);
    return rc ? rc : lw_buf_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

/* The _sum and _count lines of a summary or histogram of durations kept in µs, then the
 * gauge NAME_max (with its own HELP/TYPE) of the slowest one. */
static int seconds_sum_count_max(lw_buf_t *b, const char *name, uint64_t sum_us, uint64_t count,
                                 uint64_t max_us, const char *max_help)
{
    char max_name[96];
    snprintf(max_name, sizeof max_name, "%s_max", name);
    int rc = lw_buf_printf(b, "%s_sum %.6f\n%s_count %llu\n", name, (double)sum_us / 1e6, name,
                           (unsigned long long)count);
    if (!rc) rc = head(b, max_name, "gauge", max_help);
    if (!rc) rc = lw_buf_printf(b, "%s %.6f\n", max_name, (double)max_us / 1e6);
    return rc;
}

static int render(lw_api_t *api, const lw_api_metrics_t *m, lw_buf_t *b)
{
    int rc = 0;
#define R(x)                                                                                       \
    do {                                                                                           \
        if (rc == 0) rc = (x);                                                                     \
    } while (0)

    R(head(b, "ladewerk_stations_connected", "gauge", "Stations connected now, by OCPP version."));
    for (int v = 0; v < LW_OCPP_VERSION_COUNT; v++)
        R(lw_buf_printf(b, "ladewerk_stations_connected{version=\"%s\"} %llu\n",
                        lw_ocpp_version_name((lw_ocpp_version_t)v),
                        (unsigned long long)m->stations_connected[v]));
    R(single(b, "ladewerk_ws_upgrades_total", "counter", "WebSocket upgrades accepted.",
             m->ws_upgrades_total));
    R(single(b, "ladewerk_ws_upgrades_rejected_total", "counter",
             "WebSocket upgrades refused (bad request, unknown station, limits).",
             m->ws_upgrades_rejected_total));
    R(single(b, "ladewerk_auth_failures_total", "counter",
             "Station authentication failures (password, certificate).", m->auth_failures_total));

    R(head(b, "ladewerk_messages_total", "counter",
           "OCPP CALLs by action, direction (in: from stations) and outcome."));
    for (size_t i = 0; i < m->n_messages; i++) {
        const lw_api_metric_msgs_t *x = &m->messages[i];
        R(lw_buf_append_c(b, "ladewerk_messages_total{action=\""));
        R(label(b, x->action));
        R(lw_buf_append_c(b, "\",direction=\""));
        R(label(b, x->direction));
        R(lw_buf_append_c(b, "\",outcome=\""));
        R(label(b, x->outcome));
        R(lw_buf_printf(b, "\"} %llu\n", (unsigned long long)x->count));
    }
    R(head(b, "ladewerk_callerrors_total", "counter",
           "CALLERRORs sent or received, by errorCode."));
    for (size_t i = 0; i < m->n_callerrors; i++) {
        R(lw_buf_append_c(b, "ladewerk_callerrors_total{code=\""));
        R(label(b, m->callerrors[i].code));
        R(lw_buf_printf(b, "\"} %llu\n", (unsigned long long)m->callerrors[i].count));
    }
    R(head(b, "ladewerk_call_latency_seconds", "histogram",
           "Time from sending a CALL to a station to its answer, by action."));
    for (size_t i = 0; i < m->n_call_latency; i++) {
        const lw_api_metric_latency_t *h = &m->call_latency[i];
        uint64_t cum = 0;
        for (int k = 0; k < LW_API_LATENCY_BUCKETS; k++) {
            cum += h->buckets[k];
            R(lw_buf_append_c(b, "ladewerk_call_latency_seconds_bucket{action=\""));
            R(label(b, h->action));
            R(lw_buf_printf(b, "\",le=\"%g\"} %llu\n", lw_api_latency_bounds_ms[k] / 1000.0,
                            (unsigned long long)cum));
        }
        cum += h->over;
        R(lw_buf_append_c(b, "ladewerk_call_latency_seconds_bucket{action=\""));
        R(label(b, h->action));
        R(lw_buf_printf(b, "\",le=\"+Inf\"} %llu\n", (unsigned long long)cum));
        R(lw_buf_append_c(b, "ladewerk_call_latency_seconds_sum{action=\""));
        R(label(b, h->action));
        R(lw_buf_printf(b, "\"} %.6f\n", h->sum_ms / 1000.0));
        R(lw_buf_append_c(b, "ladewerk_call_latency_seconds_count{action=\""));
        R(label(b, h->action));
        R(lw_buf_printf(b, "\"} %llu\n", (unsigned long long)cum));
    }

    R(head(b, "ladewerk_store_commit_seconds", "summary",
           "Store commit latency (BEGIN to COMMIT), sum and count."));
    R(seconds_sum_count_max(b, "ladewerk_store_commit_seconds", m->store_commit_us_total,
                            m->store_commits, m->store_commit_us_max,
                            "Slowest store commit so far."));
    R(single(b, "ladewerk_store_commits_nosync_total", "counter",
             "Store commits without fsync: batches of writes nobody waits on (journal rows).",
             m->store_commits_nosync));
    R(single(b, "ladewerk_store_commit_failures_total", "counter", "Store commits that failed.",
             m->store_commit_failures));
    R(single(b, "ladewerk_store_replays_total", "counter",
             "Store batches rolled back and applied again after a write failed half-way.",
             m->store_replays));
    R(single(b, "ladewerk_store_cache_bytes", "gauge",
             "Page cache of the store writer's connection, bytes (after its last batch).",
             m->store_cache_bytes));
    R(single(b, "ladewerk_store_memory_releases_total", "counter",
             "Times the idle store writer gave its page cache back to the system.",
             m->store_memory_releases));
    /* The store counts batches in power-of-two buckets 1, 2-3, 4-7, …, >=128: the upper
     * bounds 1, 3, 7, …, 127, +Inf. Their sizes are not summed, so no _sum is given. */
    R(head(b, "ladewerk_store_batch_size", "histogram", "Writes per store commit (group commit)."));
    uint64_t cum = 0;
    for (int k = 0; k < LW_API_BATCH_BUCKETS; k++) {
        cum += m->store_batch_hist[k];
        if (k < LW_API_BATCH_BUCKETS - 1)
            R(lw_buf_printf(b, "ladewerk_store_batch_size_bucket{le=\"%d\"} %llu\n", (2 << k) - 1,
                            (unsigned long long)cum));
        else
            R(lw_buf_printf(b, "ladewerk_store_batch_size_bucket{le=\"+Inf\"} %llu\n",
                            (unsigned long long)cum));
    }
    R(lw_buf_printf(b, "ladewerk_store_batch_size_count %llu\n", (unsigned long long)cum));
    /* The upper bounds of the store's sync buckets (store.h), in seconds. */
    static const char *const sync_le[LW_API_SYNC_BUCKETS] = {
        "0.00025", "0.0005", "0.001", "0.002", "0.005", "0.01", "0.025", "0.05", "+Inf"};
    R(head(b, "ladewerk_store_sync_seconds", "histogram",
           "COMMIT of a batch a write waited on (WAL write and fsync): what the disk adds to "
           "every acknowledged write."));
    cum = 0;
    for (int k = 0; k < LW_API_SYNC_BUCKETS; k++) {
        cum += m->store_sync_hist[k];
        R(lw_buf_printf(b, "ladewerk_store_sync_seconds_bucket{le=\"%s\"} %llu\n", sync_le[k],
                        (unsigned long long)cum));
    }
    R(seconds_sum_count_max(b, "ladewerk_store_sync_seconds", m->store_sync_us_total,
                            m->store_syncs, m->store_sync_us_max,
                            "Slowest durable COMMIT so far."));

    size_t counts[5];
    lw_api_command_counts(api, counts);
    R(head(b, "ladewerk_queue_depth", "gauge", "Items waiting, by queue."));
    R(lw_buf_printf(b, "ladewerk_queue_depth{queue=\"store\"} %llu\n",
                    (unsigned long long)m->store_queue_depth));
    R(lw_buf_printf(b, "ladewerk_queue_depth{queue=\"session_outbound\"} %llu\n",
                    (unsigned long long)m->session_outbound_queued));
    R(lw_buf_printf(b, "ladewerk_queue_depth{queue=\"commands_offline\"} %zu\n", counts[0]));
    R(lw_buf_printf(b, "ladewerk_queue_depth{queue=\"commands_in_flight\"} %zu\n", counts[1]));
    R(head(b, "ladewerk_queue_capacity", "gauge", "Bound of each queue."));
    R(lw_buf_printf(b, "ladewerk_queue_capacity{queue=\"store\"} %llu\n",
                    (unsigned long long)m->store_queue_max));
    R(head(b, "ladewerk_commands", "gauge", "REST commands kept, by state."));
    for (int s = 0; s < 5; s++)
        R(lw_buf_printf(b, "ladewerk_commands{state=\"%s\"} %zu\n",
                        lw_api_cmd_state_name((lw_api_cmd_state_t)s), counts[s]));

    pthread_mutex_lock(&api->ev_mu);
    uint64_t req = api->requests_total, r4 = api->requests_4xx, r5 = api->requests_5xx,
             denied = api->auth_denied, events = api->ev_next - 1;
    pthread_mutex_unlock(&api->ev_mu);
    pthread_mutex_lock(&api->cmd_mu);
    uint64_t created = api->cmd_created, replays = api->cmd_idem_hits;
    pthread_mutex_unlock(&api->cmd_mu);
    R(head(b, "ladewerk_api_requests_total", "counter", "Operator API requests, by class."));
    R(lw_buf_printf(b, "ladewerk_api_requests_total{class=\"ok\"} %llu\n",
                    (unsigned long long)(req - r4 - r5)));
    R(lw_buf_printf(b, "ladewerk_api_requests_total{class=\"4xx\"} %llu\n",
                    (unsigned long long)r4));
    R(lw_buf_printf(b, "ladewerk_api_requests_total{class=\"5xx\"} %llu\n",
                    (unsigned long long)r5));
    R(single(b, "ladewerk_api_auth_denied_total", "counter",
             "Operator API requests refused with 401 or 403.", denied));
    R(single(b, "ladewerk_api_commands_created_total", "counter", "Commands accepted over REST.",
             created));
    R(single(b, "ladewerk_api_idempotent_replays_total", "counter",
             "Command requests that reused an Idempotency-Key.", replays));
    R(single(b, "ladewerk_events_published_total", "counter", "Live events published.", events));
    R(api_files_metrics(api, b));
    R(api_webhooks_metrics(api, b));
#undef R
    return rc;
}

int lw_api_metrics_render(lw_api_t *api, const lw_api_metrics_t *m, lw_buf_t *out)
{
    return render(api, m, out);
}

int api_h_metrics(api_ctx_t *c)
{
    lw_api_t *api = c->api;
    lw_api_metrics_t m;
    memset(&m, 0, sizeof m);
    lw_buf_t b;
    lw_buf_init(&b, LW_API_BODY_MAX);
    /* The snapshot's arrays live until the backend's next metrics call: hold the lock
     * while rendering. */
    pthread_mutex_lock(&api->metrics_mu);
    if (api->be.metrics) api->be.metrics(api->be.ctx, &m);
    int rc = render(api, &m, &b);
    pthread_mutex_unlock(&api->metrics_mu);
    if (rc == 0) rc = api_raw(c, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
    lw_buf_free(&b);
    return rc;
}
