/*
 * api/api_events.c — the live event hub behind GET /api/v1/events (Server-Sent Events, as the
 * WHATWG HTML standard §9.2 defines the text/event-stream format). Producers (the CSMS, the
 * command table) publish small JSON events from any thread into a ring of the last
 * LW_API_EVENTS_RING; each SSE connection keeps a cursor (the last event id it got) and reads
 * what follows. A client that reconnects with Last-Event-ID resumes without loss as long as
 * the ring still holds its next event; otherwise it is told to "resync" (reload its state).
 */
#include "api/api_int.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int api_events_init(lw_api_t *api)
{
    api->ring = calloc(LW_API_EVENTS_RING, sizeof *api->ring);
    if (!api->ring) return LW_ENOMEM;
    pthread_mutex_init(&api->ev_mu, NULL);
    api->ev_next = 1;
    return 0;
}

void api_events_free(lw_api_t *api)
{
    if (!api->ring) return;
    for (size_t i = 0; i < LW_API_EVENTS_RING; i++)
        free(api->ring[i].data);
    free(api->ring);
    api->ring = NULL;
    pthread_mutex_destroy(&api->ev_mu);
}

void lw_api_set_notify(lw_api_t *api, void (*notify)(void *ud), void *ud)
{
    pthread_mutex_lock(&api->ev_mu);
    api->notify = notify;
    api->notify_ud = ud;
    pthread_mutex_unlock(&api->ev_mu);
}

static bool type_ok(const char *type)
{
    size_t n = strlen(type);
    if (n == 0 || n >= sizeof(((api_event_t *)0)->type)) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = type[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_'))
            return false;
    }
    return true;
}

/* Copies text (borrowed: len bytes of one line of JSON, an object) into the ring as the next
 * event. The slot keeps its storage from one lap of the ring to the next and grows it only
 * when this event is longer than any it held before, so publishing allocates nothing in the
 * steady state. Returns 0 or LW_ENOMEM (the ring is unchanged). */
static int publish_text(lw_api_t *api, const char *type, const char *text, size_t len)
{
    pthread_mutex_lock(&api->ev_mu);
    api_event_t *e = &api->ring[api->ev_next % LW_API_EVENTS_RING];
    if (len >= e->cap) {
        size_t cap = 256;
        while (cap <= len)
            cap *= 2;
        char *d = realloc(e->data, cap);
        if (!d) {
            pthread_mutex_unlock(&api->ev_mu);
            return LW_ENOMEM;
        }
        e->data = d;
        e->cap = cap;
    }
    memcpy(e->data, text, len);
    e->data[len] = 0;
    e->seq = api->ev_next++;
    lw_cstr_copy(e->type, sizeof e->type, type);
    /* Webhooks get the same events in the same order (wh_mu nests inside ev_mu). */
    api_webhooks_event(api, e->seq, e->type, e->data);
    void (*notify)(void *) = api->notify;
    void *ud = api->notify_ud;
    pthread_mutex_unlock(&api->ev_mu);
    if (notify) notify(ud);
    return 0;
}

int lw_api_publish(lw_api_t *api, const char *type, lw_str_t data_json)
{
    if (!type || !type_ok(type) || data_json.len > LW_API_EVENT_DATA_MAX) return LW_EINVAL;
    /* Re-serialized: one line (an SSE data field ends at a newline) and surely JSON. */
    cJSON *j = cJSON_ParseWithLength(data_json.p, data_json.len);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return LW_EINVAL;
    }
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!text) return LW_ENOMEM;
    int rc = publish_text(api, type, text, strlen(text));
    free(text);
    return rc;
}

int lw_api_events_read(lw_api_t *api, uint64_t *cursor, lw_buf_t *out)
{
    int n = 0, rc = 0;
    pthread_mutex_lock(&api->ev_mu);
    uint64_t last = api->ev_next - 1;
    uint64_t oldest = last >= LW_API_EVENTS_RING ? last - LW_API_EVENTS_RING + 1 : 1;
    if (*cursor > last) *cursor = last; /* a client from a previous process: start now */
    if (*cursor + 1 < oldest) {
        size_t mark = out->len;
        rc = lw_buf_printf(out, "id: %llu\nevent: resync\ndata: {\"reason\":\"missed events\"}\n\n",
                           (unsigned long long)(oldest - 1));
        if (rc != 0) {
            out->len = mark;
            goto done;
        }
        *cursor = oldest - 1;
        n++;
    }
    while (*cursor < last) {
        const api_event_t *e = &api->ring[(*cursor + 1) % LW_API_EVENTS_RING];
        size_t mark = out->len;
        rc = lw_buf_printf(out, "id: %llu\nevent: %s\ndata: %s\n\n", (unsigned long long)e->seq,
                           e->type, e->data);
        if (rc != 0) {
            out->len = mark; /* whole events only */
            break;
        }
        *cursor = e->seq;
        n++;
    }
done:
    pthread_mutex_unlock(&api->ev_mu);
    return rc != 0 ? rc : n;
}

int api_h_events(api_ctx_t *c)
{
    lw_api_t *api = c->api;
    pthread_mutex_lock(&api->ev_mu);
    uint64_t cursor = api->ev_next - 1;
    pthread_mutex_unlock(&api->ev_mu);
    /* Resume after Last-Event-ID (sent by EventSource on reconnect) when given. */
    lw_str_t last = api_header(c->req, "Last-Event-ID");
    char b[32];
    int64_t v;
    if (last.p && api_copy(b, sizeof b, last) && api_parse_i64(b, &v) && v >= 0 &&
        (uint64_t)v < cursor)
        cursor = (uint64_t)v;
    static const char hello[] = ": ladewerk events\nretry: 3000\n\n";
    int rc = api_raw(c, 200, "text/event-stream", hello, sizeof hello - 1);
    if (rc == 0) rc = lw_buf_append_c(&c->res->headers, "X-Accel-Buffering: no\r\n");
    c->res->stream = true;
    c->res->event_cursor = cursor;
    return rc;
}

/* ---- typed events ------------------------------------------------------------------------- */

/* The typed events run on the station loops (a boot storm publishes one per connect and per
 * StatusNotification), so their JSON is written straight into one stack buffer: no tree, no
 * allocation, no float formatting for integers. The text is byte for byte what cJSON's
 * PrintUnformatted gave for the same members in the same order (the dashboard, docs/api.md
 * and webhook receivers see no change); tests/unit/api/test_api.c pins it. */
typedef struct {
    char b[LW_API_EVENT_DATA_MAX + 1]; /* + the NUL */
    size_t len;
    bool over; /* something did not fit in LW_API_EVENT_DATA_MAX: the event is refused */
} jw_t;

/* Appends n bytes of p (borrowed, copied), or marks w over the limit. */
static void jw_put(jw_t *w, const char *p, size_t n)
{
    if (w->over || n > LW_API_EVENT_DATA_MAX - w->len) {
        w->over = true;
        return;
    }
    memcpy(w->b + w->len, p, n);
    w->len += n;
}

static void jw_null(jw_t *w)
{
    jw_put(w, "null", 4);
}

/* Opens the object; w is the caller's (on its stack: 4 KB). */
static void jw_init(jw_t *w)
{
    w->b[0] = '{';
    w->len = 1;
    w->over = false;
}

/* Starts member key (a literal without characters to escape): ',' unless it is the first. */
static void jw_key(jw_t *w, const char *key)
{
    if (w->len > 1) jw_put(w, ",", 1);
    jw_put(w, "\"", 1);
    jw_put(w, key, strlen(key));
    jw_put(w, "\":", 2);
}

/* A string literal, escaped by lw_json_escape (as cJSON escapes); the walk starts at the
 * first byte that needs it (usually none does). */
static void jw_str(jw_t *w, const char *p, size_t n)
{
    jw_put(w, "\"", 1);
    size_t start = 0;
    for (size_t i = lw_json_plain_prefix(p, n); i < n; i++) {
        char esc[6];
        size_t en = lw_json_escape((unsigned char)p[i], esc);
        if (!en) continue;
        jw_put(w, p + start, i - start);
        start = i + 1;
        jw_put(w, esc, en);
    }
    jw_put(w, p + start, n - start);
    jw_put(w, "\"", 1);
}

/* key: the view as a string, or null when it is empty. cJSON got a C string (lw_str_dup), so
 * the text ends at an embedded NUL: the same here. */
static void jw_view(jw_t *w, const char *key, lw_str_t s)
{
    const char *nul = s.len ? memchr(s.p, 0, s.len) : NULL;
    size_t n = nul ? (size_t)(nul - s.p) : s.len;
    jw_key(w, key);
    if (n)
        jw_str(w, s.p, n);
    else
        jw_null(w);
}

/* key: a NUL-terminated string (borrowed), or null when NULL or "" (api_json_str_or_null). */
static void jw_cstr(jw_t *w, const char *key, const char *s)
{
    jw_view(w, key, lw_str_c(s));
}

/* A number as cJSON 1.7.15 (the libcjson-dev we build with) prints it: NaN and infinities as
 * null; else "%1.15g", or "%1.17g" when those 15 digits do not read back within DBL_EPSILON
 * of the value. An integral value in int range (ids, connector numbers, Wh: nearly every
 * number here) has at most 10 digits, which "%1.15g" prints as plain decimal, so it is written
 * without printf; -0 is not one of them ("%g" keeps its sign). The process never calls
 * setlocale, so the decimal point is '.'. */
static void jw_num(jw_t *w, double d)
{
    char t[32];
    if (isnan(d) || isinf(d)) {
        jw_null(w);
        return;
    }
    if (d >= INT_MIN && d <= INT_MAX && d == (double)(int)d && !(d == 0 && signbit(d))) {
        long long v = (int)d;
        size_t n = 0;
        if (v < 0) t[n++] = '-';
        n += lw_u64_text((uint64_t)(v < 0 ? -v : v), t + n);
        jw_put(w, t, n);
        return;
    }
    int n = snprintf(t, sizeof t, "%1.15g", d);
    double back = strtod(t, NULL);
    double max = fabs(back) > fabs(d) ? fabs(back) : fabs(d);
    if (!(fabs(back - d) <= max * DBL_EPSILON)) n = snprintf(t, sizeof t, "%1.17g", d);
    if (n > 0 && (size_t)n < sizeof t)
        jw_put(w, t, (size_t)n);
    else
        w->over = true;
}

static void jw_number(jw_t *w, const char *key, double d)
{
    jw_key(w, key);
    jw_num(w, d);
}

/* key: an integer, or null when v < 0 (api_json_int_or_null). */
static void jw_int_or_null(jw_t *w, const char *key, int64_t v)
{
    jw_key(w, key);
    if (v < 0)
        jw_null(w);
    else
        jw_num(w, (double)v);
}

/* key: an RFC 3339 time, or null when ms <= 0 (api_json_time). */
static void jw_time(jw_t *w, const char *key, int64_t ms)
{
    jw_key(w, key);
    if (ms <= 0) {
        jw_null(w);
        return;
    }
    char t[40];
    lw_time_format(ms, t, sizeof t);
    jw_str(w, t, strlen(t));
}

/* Appends "at", closes the object and publishes it (the text is copied into the ring). An
 * event over LW_API_EVENT_DATA_MAX is refused with LW_EINVAL. */
static int publish_jw(lw_api_t *api, const char *type, jw_t *w)
{
    jw_time(w, "at", lw_clock_wall(api->clock));
    jw_put(w, "}", 1);
    if (w->over || !type_ok(type)) return LW_EINVAL;
    w->b[w->len] = 0;
    return publish_text(api, type, w->b, w->len);
}

int lw_api_event_station(lw_api_t *api, lw_str_t station, bool connected, lw_ocpp_version_t v)
{
    jw_t w;
    jw_init(&w);
    jw_view(&w, "station_id", station);
    jw_key(&w, "online");
    if (connected)
        jw_put(&w, "true", 4);
    else
        jw_put(&w, "false", 5);
    if ((unsigned)v < LW_OCPP_VERSION_COUNT) {
        const char *name = lw_ocpp_version_name(v);
        jw_key(&w, "ocpp_version");
        jw_str(&w, name, strlen(name));
    }
    return publish_jw(api, connected ? "station.connected" : "station.disconnected", &w);
}

int lw_api_event_status(lw_api_t *api, lw_str_t station, int evse_id, int connector_id,
                        lw_str_t status, lw_str_t error_code)
{
    jw_t w;
    jw_init(&w);
    jw_view(&w, "station_id", station);
    jw_number(&w, "evse_id", evse_id);
    jw_number(&w, "connector_id", connector_id);
    jw_view(&w, "status", status);
    jw_view(&w, "error_code", error_code);
    return publish_jw(api, "connector.status", &w);
}

int lw_api_event_transaction(lw_api_t *api, const char *kind, const lw_api_tx_t *tx, double power_w)
{
    const char *type = !strcmp(kind, "started")   ? "transaction.started"
                       : !strcmp(kind, "updated") ? "transaction.updated"
                       : !strcmp(kind, "ended")   ? "transaction.ended"
                                                  : NULL;
    if (!type) return LW_EINVAL;
    jw_t w;
    jw_init(&w);
    jw_number(&w, "id", (double)tx->id);
    jw_cstr(&w, "transaction_uid", tx->tx_uid);
    /* always a string, "" included (cJSON_AddStringToObject) */
    jw_key(&w, "station_id");
    jw_str(&w, tx->station_id, strlen(tx->station_id));
    jw_number(&w, "evse_id", tx->evse_id);
    jw_number(&w, "connector_id", tx->connector_id);
    jw_cstr(&w, "id_token", tx->id_token);
    jw_time(&w, "started_at", tx->start_ms);
    jw_time(&w, "stopped_at", tx->active ? 0 : tx->stop_ms);
    jw_int_or_null(&w, "meter_start_wh", tx->meter_start_wh);
    jw_int_or_null(&w, "meter_stop_wh", tx->meter_stop_wh);
    jw_int_or_null(&w, "energy_wh", tx->energy_wh);
    if (power_w >= 0)
        jw_number(&w, "power_w", power_w);
    else {
        jw_key(&w, "power_w");
        jw_null(&w);
    }
    jw_cstr(&w, "stop_reason", tx->stop_reason);
    return publish_jw(api, type, &w);
}

int lw_api_event_security(lw_api_t *api, lw_str_t station, lw_str_t type, lw_str_t tech_info)
{
    jw_t w;
    jw_init(&w);
    jw_view(&w, "station_id", station);
    jw_view(&w, "type", type);
    /* tech_info can be long (2.x: 255 chars): events stay small. */
    lw_str_t ti = tech_info;
    if (ti.len > 512) {
        ti.len = 512;
        while (ti.len && ((unsigned char)ti.p[ti.len] & 0xC0) == 0x80)
            ti.len--; /* UTF-8 */
    }
    jw_view(&w, "tech_info", ti);
    return publish_jw(api, "security.event", &w);
}
