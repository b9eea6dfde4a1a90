/*
 * api/api_events.c — the live event hub behind GET /api/v1/events (Server-Sent Events, as the
 * WHATWG HTML standard §9.2 defines the text/event-stream format). Producers (the CSMS, the
 * command table) publish small JSON events from any thread into a ring of the last
 * LW_API_EVENTS_RING; each SSE connection keeps a cursor (the last event id it got) and reads
 * what follows. A client that reconnects with Last-Event-ID resumes without loss as long as
 * the ring still holds its next event; otherwise it is told to "resync" (reload its state).
 */
#include "api/api_int.h"

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

/* Puts text (owned: one line of JSON, an object) into the ring as the next event. */
static int publish_text(lw_api_t *api, const char *type, char *text)
{
    pthread_mutex_lock(&api->ev_mu);
    api_event_t *e = &api->ring[api->ev_next % LW_API_EVENTS_RING];
    free(e->data);
    e->data = text;
    e->seq = api->ev_next++;
    snprintf(e->type, sizeof e->type, "%s", type);
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
    return publish_text(api, type, text);
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

static int publish_json(lw_api_t *api, const char *type, cJSON *o)
{
    api_json_time(o, "at", lw_clock_wall(api->clock));
    /* Printed unformatted by cJSON: already one line of JSON, no need to parse it again as
     * lw_api_publish does for text from outside (these events run on the station loops). */
    char *t = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!t) return LW_ENOMEM;
    if (!type_ok(type) || strlen(t) > LW_API_EVENT_DATA_MAX) {
        free(t);
        return LW_EINVAL;
    }
    return publish_text(api, type, t);
}

static void add_view(cJSON *o, const char *key, lw_str_t s)
{
    char *d = s.len ? lw_str_dup(s) : NULL;
    api_json_str_or_null(o, key, d);
    free(d);
}

int lw_api_event_station(lw_api_t *api, lw_str_t station, bool connected, lw_ocpp_version_t v)
{
    cJSON *o = cJSON_CreateObject();
    add_view(o, "station_id", station);
    cJSON_AddBoolToObject(o, "online", connected);
    if ((unsigned)v < LW_OCPP_VERSION_COUNT)
        cJSON_AddStringToObject(o, "ocpp_version", lw_ocpp_version_name(v));
    return publish_json(api, connected ? "station.connected" : "station.disconnected", o);
}

int lw_api_event_status(lw_api_t *api, lw_str_t station, int evse_id, int connector_id,
                        lw_str_t status, lw_str_t error_code)
{
    cJSON *o = cJSON_CreateObject();
    add_view(o, "station_id", station);
    cJSON_AddNumberToObject(o, "evse_id", evse_id);
    cJSON_AddNumberToObject(o, "connector_id", connector_id);
    add_view(o, "status", status);
    add_view(o, "error_code", error_code);
    return publish_json(api, "connector.status", o);
}

int lw_api_event_transaction(lw_api_t *api, const char *kind, const lw_api_tx_t *tx, double power_w)
{
    if (strcmp(kind, "started") && strcmp(kind, "updated") && strcmp(kind, "ended"))
        return LW_EINVAL;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)tx->id);
    api_json_str_or_null(o, "transaction_uid", tx->tx_uid);
    cJSON_AddStringToObject(o, "station_id", tx->station_id);
    cJSON_AddNumberToObject(o, "evse_id", tx->evse_id);
    cJSON_AddNumberToObject(o, "connector_id", tx->connector_id);
    api_json_str_or_null(o, "id_token", tx->id_token);
    api_json_time(o, "started_at", tx->start_ms);
    api_json_time(o, "stopped_at", tx->active ? 0 : tx->stop_ms);
    api_json_int_or_null(o, "meter_start_wh", tx->meter_start_wh);
    api_json_int_or_null(o, "meter_stop_wh", tx->meter_stop_wh);
    api_json_int_or_null(o, "energy_wh", tx->energy_wh);
    if (power_w >= 0)
        cJSON_AddNumberToObject(o, "power_w", power_w);
    else
        cJSON_AddNullToObject(o, "power_w");
    api_json_str_or_null(o, "stop_reason", tx->stop_reason);
    char type[32];
    snprintf(type, sizeof type, "transaction.%s", kind);
    return publish_json(api, type, o);
}

int lw_api_event_security(lw_api_t *api, lw_str_t station, lw_str_t type, lw_str_t tech_info)
{
    cJSON *o = cJSON_CreateObject();
    add_view(o, "station_id", station);
    add_view(o, "type", type);
    /* tech_info can be long (2.x: 255 chars): events stay small. */
    lw_str_t ti = tech_info;
    if (ti.len > 512) {
        ti.len = 512;
        while (ti.len && ((unsigned char)ti.p[ti.len] & 0xC0) == 0x80)
            ti.len--; /* UTF-8 */
    }
    add_view(o, "tech_info", ti);
    return publish_json(api, "security.event", o);
}
