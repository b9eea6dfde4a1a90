/*
 * session/metrics.c — counters of the station side for /metrics (see metrics.h). Rows are
 * appended the first time a (action, direction, outcome), code or action is seen; there are
 * a few hundred at most (the actions of three OCPP versions), so a linear scan under one
 * mutex is cheaper than anything cleverer at the message rates one process sees.
 */
#include "session/metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Distinct rows kept per table; later ones are folded into the action "other". */
#define ROWS_MAX 512

typedef struct {
    char action[LW_ACTION_MAX + 1];
    const char *direction, *outcome; /* static strings */
    uint64_t count;
} msg_row_t;

typedef struct {
    char code[40];
    uint64_t count;
} code_row_t;

typedef struct {
    char action[LW_ACTION_MAX + 1];
    uint64_t buckets[LW_API_LATENCY_BUCKETS];
    uint64_t over;
    double sum_ms;
} lat_row_t;

struct lw_sess_metrics {
    lw_sess_counters_t counters;
    pthread_mutex_t mu;
    msg_row_t msgs[ROWS_MAX];
    size_t n_msgs;
    code_row_t codes[ROWS_MAX];
    size_t n_codes;
    lat_row_t lats[ROWS_MAX];
    size_t n_lats;
    /* snapshot copies handed to the API */
    lw_api_metric_msgs_t s_msgs[ROWS_MAX];
    msg_row_t s_msg_rows[ROWS_MAX];
    lw_api_metric_code_t s_codes[ROWS_MAX];
    code_row_t s_code_rows[ROWS_MAX];
    lw_api_metric_latency_t s_lats[ROWS_MAX];
    lat_row_t s_lat_rows[ROWS_MAX];
};

lw_sess_metrics_t *lw_sess_metrics_new(void)
{
    lw_sess_metrics_t *m = calloc(1, sizeof *m);
    if (m) pthread_mutex_init(&m->mu, NULL);
    return m;
}

void lw_sess_metrics_free(lw_sess_metrics_t *m)
{
    if (!m) return;
    pthread_mutex_destroy(&m->mu);
    free(m);
}

lw_sess_counters_t *lw_sess_metrics_counters(lw_sess_metrics_t *m)
{
    return &m->counters;
}

static const char *outcome_static(const char *o)
{
    static const char *const known[] = {"ok", "callerror", "invalid", "timeout"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(o, known[i])) return known[i];
    return "other";
}

void lw_sess_metrics_msg(lw_sess_metrics_t *m, const char *action, bool inbound,
                         const char *outcome)
{
    const char *dir = inbound ? "in" : "out";
    const char *oc = outcome_static(outcome);
    if (!action) action = "";
    pthread_mutex_lock(&m->mu);
    msg_row_t *r = NULL;
    for (size_t i = 0; i < m->n_msgs; i++)
        if (m->msgs[i].direction == dir && m->msgs[i].outcome == oc &&
            !strcmp(m->msgs[i].action, action)) {
            r = &m->msgs[i];
            break;
        }
    if (!r && m->n_msgs < ROWS_MAX) {
        r = &m->msgs[m->n_msgs++];
        lw_cstr_copy(r->action, sizeof r->action, m->n_msgs == ROWS_MAX ? "other" : action);
        r->direction = dir;
        r->outcome = oc;
    }
    if (r) r->count++;
    pthread_mutex_unlock(&m->mu);
}

void lw_sess_metrics_callerror(lw_sess_metrics_t *m, const char *code)
{
    if (!code || !*code) code = "unknown";
    pthread_mutex_lock(&m->mu);
    code_row_t *r = NULL;
    for (size_t i = 0; i < m->n_codes; i++)
        if (!strcmp(m->codes[i].code, code)) {
            r = &m->codes[i];
            break;
        }
    if (!r && m->n_codes < ROWS_MAX) {
        r = &m->codes[m->n_codes++];
        lw_cstr_copy(r->code, sizeof r->code, m->n_codes == ROWS_MAX ? "other" : code);
    }
    if (r) r->count++;
    pthread_mutex_unlock(&m->mu);
}

void lw_sess_metrics_latency(lw_sess_metrics_t *m, const char *action, double ms)
{
    pthread_mutex_lock(&m->mu);
    lat_row_t *r = NULL;
    for (size_t i = 0; i < m->n_lats; i++)
        if (!strcmp(m->lats[i].action, action)) {
            r = &m->lats[i];
            break;
        }
    if (!r && m->n_lats < ROWS_MAX) {
        r = &m->lats[m->n_lats++];
        lw_cstr_copy(r->action, sizeof r->action, m->n_lats == ROWS_MAX ? "other" : action);
    }
    if (r) {
        size_t b = 0;
        while (b < LW_API_LATENCY_BUCKETS && ms > lw_api_latency_bounds_ms[b])
            b++;
        if (b < LW_API_LATENCY_BUCKETS)
            r->buckets[b]++;
        else
            r->over++;
        r->sum_ms += ms;
    }
    pthread_mutex_unlock(&m->mu);
}

void lw_sess_metrics_snapshot(lw_sess_metrics_t *m, lw_api_metrics_t *out)
{
    for (int v = 0; v < LW_OCPP_VERSION_COUNT; v++)
        out->stations_connected[v] = atomic_load(&m->counters.connected[v]);
    out->ws_upgrades_total = atomic_load(&m->counters.upgrades);
    out->ws_upgrades_rejected_total = atomic_load(&m->counters.upgrades_rejected);
    out->auth_failures_total = atomic_load(&m->counters.auth_failures);
    int64_t q = atomic_load(&m->counters.outbound_queued);
    out->session_outbound_queued = q > 0 ? (uint64_t)q : 0;
    pthread_mutex_lock(&m->mu);
    memcpy(m->s_msg_rows, m->msgs, m->n_msgs * sizeof m->msgs[0]);
    for (size_t i = 0; i < m->n_msgs; i++)
        m->s_msgs[i] = (lw_api_metric_msgs_t){m->s_msg_rows[i].action, m->s_msg_rows[i].direction,
                                              m->s_msg_rows[i].outcome, m->s_msg_rows[i].count};
    out->messages = m->s_msgs;
    out->n_messages = m->n_msgs;
    memcpy(m->s_code_rows, m->codes, m->n_codes * sizeof m->codes[0]);
    for (size_t i = 0; i < m->n_codes; i++)
        m->s_codes[i] = (lw_api_metric_code_t){m->s_code_rows[i].code, m->s_code_rows[i].count};
    out->callerrors = m->s_codes;
    out->n_callerrors = m->n_codes;
    memcpy(m->s_lat_rows, m->lats, m->n_lats * sizeof m->lats[0]);
    for (size_t i = 0; i < m->n_lats; i++) {
        lw_api_metric_latency_t *l = &m->s_lats[i];
        l->action = m->s_lat_rows[i].action;
        memcpy(l->buckets, m->s_lat_rows[i].buckets, sizeof l->buckets);
        l->over = m->s_lat_rows[i].over;
        l->sum_ms = m->s_lat_rows[i].sum_ms;
    }
    out->call_latency = m->s_lats;
    out->n_call_latency = m->n_lats;
    pthread_mutex_unlock(&m->mu);
}
