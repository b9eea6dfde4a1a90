/*
 * api/api_rest.c — the resource handlers of /api/v1: stations (with their connectors and
 * credentials), transactions (with meter samples, CSV export), id tokens, the per-station
 * message journal (requests paired with their responses) and API tokens. Each reads or writes
 * through the backend table and answers JSON; every refusal says what was wrong.
 */
#include "api/api_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared checks -------------------------------------------------------------------------- */

/* Station ids travel in URLs (/ocpp/<id>) and logs: printable ASCII without the characters
 * that change a URL's meaning or need escaping. */
static bool station_id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > LW_STATION_ID_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)id[i];
        if (ch <= 0x20 || ch >= 0x7f || strchr("/?#%\\\"<>", ch)) return false;
    }
    return true;
}

/* ---- stations ------------------------------------------------------------------------------- */

static int conn_to_json(void *ud, const lw_api_connector_t *k)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "evse_id", k->evse_id);
    cJSON_AddNumberToObject(o, "connector_id", k->connector_id);
    api_json_str_or_null(o, "status", k->status);
    api_json_str_or_null(o, "error_code", k->error_code);
    api_json_time(o, "updated_at", k->updated_ms);
    cJSON_AddItemToArray((cJSON *)ud, o);
    return 0;
}

cJSON *api_station_json(const lw_api_station_t *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", s->id);
    cJSON_AddBoolToObject(o, "online", s->online);
    api_json_str_or_null(o, "ocpp_version", s->ocpp_version);
    api_json_str_or_null(o, "vendor", s->vendor);
    api_json_str_or_null(o, "model", s->model);
    api_json_str_or_null(o, "serial", s->serial);
    api_json_str_or_null(o, "firmware_version", s->firmware_version);
    api_json_time(o, "last_seen", s->last_seen_ms);
    api_json_time(o, "last_boot", s->last_boot_ms);
    api_json_time(o, "created_at", s->created_ms);
    cJSON_AddNumberToObject(o, "security_profile", s->security_profile);
    cJSON_AddBoolToObject(o, "has_password", s->has_password);
    api_json_str_or_null(o, "registration", s->registration);
    return o;
}

/* Station JSON with its connectors. */
static cJSON *station_full(api_ctx_t *c, const lw_api_station_t *s)
{
    cJSON *o = api_station_json(s);
    cJSON *arr = cJSON_AddArrayToObject(o, "connectors");
    if (c->api->be.connector_list)
        c->api->be.connector_list(c->api->be.ctx, lw_str_c(s->id), conn_to_json, arr);
    return o;
}

typedef struct {
    api_ctx_t *c;
    cJSON *items;
    size_t count, limit, seen;
    char status[32], q[64];
    char cursor[LW_STATION_ID_MAX + 1];
    bool full;
} st_list_t;

static int has_connector_status(void *ud, const lw_api_connector_t *k)
{
    return strcmp(k->status, (const char *)ud) == 0; /* nonzero stops: found */
}

static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = hay; *p; p++)
        if (strncasecmp(p, needle, n) == 0) return true;
    return n == 0;
}

static int st_each(void *ud, const lw_api_station_t *s)
{
    st_list_t *l = ud;
    l->seen++;
    lw_cstr_copy(l->cursor, sizeof l->cursor, s->id);
    if (l->status[0]) {
        if (!strcmp(l->status, "online")) {
            if (!s->online) return 0;
        } else if (!strcmp(l->status, "offline")) {
            if (s->online) return 0;
        } else {
            lw_api_t *api = l->c->api;
            if (!api->be.connector_list ||
                api->be.connector_list(api->be.ctx, lw_str_c(s->id), has_connector_status,
                                       l->status) <= 0)
                return 0;
        }
    }
    if (l->q[0] && !contains_ci(s->id, l->q) && !contains_ci(s->vendor, l->q) &&
        !contains_ci(s->model, l->q) && !contains_ci(s->serial, l->q))
        return 0;
    cJSON_AddItemToArray(l->items, station_full(l->c, s));
    if (++l->count >= l->limit) {
        l->full = true;
        return 1;
    }
    return 0;
}

int api_h_stations_list(api_ctx_t *c)
{
    lw_api_t *api = c->api;
    if (!api->be.station_list) return api_backend_error(c, LW_ENOTSUP, "station list");
    st_list_t l = {.c = c};
    if (api_query_limit(c, &l.limit) != 0) return 0;
    if (api_query(c, "status", l.status, sizeof l.status) < 0 ||
        api_query(c, "q", l.q, sizeof l.q) < 0 ||
        api_query(c, "after", l.cursor, sizeof l.cursor) < 0)
        return api_error(c, 400, "invalid_query", "status, q or after is malformed or too long");
    if (l.status[0] && strcmp(l.status, "online") && strcmp(l.status, "offline")) {
        /* a connector status: letters only, as OCPP spells them */
        for (const char *p = l.status; *p; p++)
            if (!isalpha((unsigned char)*p))
                return api_error(c, 400, "invalid_query",
                                 "status must be online, offline or a connector status "
                                 "(Available, Charging, Faulted, …)");
    }
    cJSON *out = cJSON_CreateObject();
    l.items = cJSON_AddArrayToObject(out, "items");
    /* Filtering may drop rows: read in chunks until the page is full or the list ends. */
    for (;;) {
        size_t before = l.seen;
        int rc =
            api->be.station_list(api->be.ctx, lw_str_c(l.cursor), LW_API_PAGE_MAX, st_each, &l);
        if (rc < 0) {
            cJSON_Delete(out);
            return api_backend_error(c, rc, "station list");
        }
        if (l.full || l.seen - before < LW_API_PAGE_MAX) break;
    }
    if (l.full)
        cJSON_AddStringToObject(out, "next", l.cursor);
    else
        cJSON_AddNullToObject(out, "next");
    return api_json(c, 200, out);
}

int api_h_station_get(api_ctx_t *c)
{
    if (!c->api->be.station_get) return api_backend_error(c, LW_ENOTSUP, "station");
    lw_api_station_t s;
    int rc = c->api->be.station_get(c->api->be.ctx, c->params[0], &s);
    if (rc != 0) return api_backend_error(c, rc, "station");
    return api_json(c, 200, station_full(c, &s));
}

/* Reads and checks the writable station fields of body into p. Returns 0 or answered. */
static int station_fields(api_ctx_t *c, const cJSON *body, lw_api_station_put_t *p)
{
    const cJSON *v;
    if ((v = cJSON_GetObjectItemCaseSensitive(body, "security_profile"))) {
        if (!cJSON_IsNumber(v) || v->valuedouble != (int)v->valuedouble || v->valueint < 0 ||
            v->valueint > 3)
            return api_error(c, 400, "invalid_field", "security_profile must be 0, 1, 2 or 3"),
                   LW_EINVAL;
        p->set_profile = true;
        p->security_profile = v->valueint;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(body, "password"))) {
        if (cJSON_IsNull(v)) {
            p->set_password = true;
            p->password = LW_STR("");
        } else {
            size_t n = cJSON_IsString(v) ? strlen(v->valuestring) : 0;
            /* OCPP 2.0.1 SecurityCtrlr.BasicAuthPassword is a passwordString of 16..40 */
            if (!cJSON_IsString(v) || n < 16 || n > 40)
                return api_error(c, 400, "invalid_field",
                                 "password must be a string of 16 to 40 characters, or null "
                                 "to remove it"),
                       LW_EINVAL;
            for (size_t i = 0; i < n; i++)
                if ((unsigned char)v->valuestring[i] < 0x21 ||
                    (unsigned char)v->valuestring[i] > 0x7e)
                    return api_error(c, 400, "invalid_field",
                                     "password must be printable ASCII without spaces"),
                           LW_EINVAL;
            p->set_password = true;
            p->password = lw_str_c(v->valuestring);
        }
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(body, "registration"))) {
        if (!cJSON_IsString(v) ||
            (strcmp(v->valuestring, "Accepted") && strcmp(v->valuestring, "Pending") &&
             strcmp(v->valuestring, "Rejected")))
            return api_error(c, 400, "invalid_field",
                             "registration must be Accepted, Pending or Rejected"),
                   LW_EINVAL;
        p->set_registration = true;
        p->registration = lw_str_c(v->valuestring);
    }
    return 0;
}

/* Profiles 1 and 2 authenticate with HTTP Basic: they need a password (OCPP 1.6 Security
 * Whitepaper §2.3; OCPP 2.0.1 A00.FR.2xx). */
static int check_profile_password(api_ctx_t *c, int profile, bool has_password)
{
    if ((profile == 1 || profile == 2) && !has_password)
        return api_error(c, 400, "invalid_field",
                         "security profile %d authenticates with a password: set 'password' "
                         "(16 to 40 characters)",
                         profile),
               LW_EINVAL;
    return 0;
}

/* Stores p, reads the station back and answers status with it; a backend error is answered
 * (api_backend_error) and returns 0. Shared by create (201) and update (200). */
static int station_put_answer(api_ctx_t *c, const lw_api_station_put_t *p, int status)
{
    lw_api_t *api = c->api;
    lw_api_station_t s;
    int rc = api->be.station_put(api->be.ctx, p);
    if (rc == 0) rc = api->be.station_get(api->be.ctx, p->id, &s);
    if (rc != 0) {
        api_backend_error(c, rc, "station");
        return 0;
    }
    return api_json(c, status, station_full(c, &s));
}

int api_h_stations_create(api_ctx_t *c)
{
    lw_api_t *api = c->api;
    if (!api->be.station_put || !api->be.station_get)
        return api_backend_error(c, LW_ENOTSUP, "station create");
    cJSON *body = api_body_object(c);
    if (!body) return 0;
    static const char *const keys[] = {"id", "security_profile", "password", "registration", NULL};
    lw_api_station_put_t p = {.must_not_exist = true};
    const char *id = api_get_str(body, "id");
    int rc = 0;
    if (api_only_keys(c, body, keys) != 0) goto out;
    if (!id || !station_id_ok(id)) {
        api_error(c, 400, "invalid_field",
                  "id must be 1 to %d printable characters without spaces or / ? # %% \\ \" < >",
                  LW_STATION_ID_MAX);
        goto out;
    }
    p.id = lw_str_c(id);
    if (station_fields(c, body, &p) != 0) goto out;
    if (check_profile_password(c, p.set_profile ? p.security_profile : 0,
                               p.set_password && p.password.len) != 0)
        goto out;
    rc = station_put_answer(c, &p, 201);
out:
    cJSON_Delete(body);
    return rc;
}

int api_h_station_update(api_ctx_t *c)
{
    lw_api_t *api = c->api;
    if (!api->be.station_put || !api->be.station_get)
        return api_backend_error(c, LW_ENOTSUP, "station update");
    lw_api_station_t s;
    int rc = api->be.station_get(api->be.ctx, c->params[0], &s);
    if (rc != 0) return api_backend_error(c, rc, "station");
    cJSON *body = api_body_object(c);
    if (!body) return 0;
    static const char *const keys[] = {"security_profile", "password", "registration", NULL};
    lw_api_station_put_t p = {.id = c->params[0]};
    rc = 0;
    if (api_only_keys(c, body, keys) != 0 || station_fields(c, body, &p) != 0) goto out;
    bool pw = p.set_password ? p.password.len > 0 : s.has_password;
    if (check_profile_password(c, p.set_profile ? p.security_profile : s.security_profile, pw) != 0)
        goto out;
    rc = station_put_answer(c, &p, 200);
out:
    cJSON_Delete(body);
    return rc;
}

int api_h_station_delete(api_ctx_t *c)
{
    if (!c->api->be.station_delete) return api_backend_error(c, LW_ENOTSUP, "station delete");
    int rc = c->api->be.station_delete(c->api->be.ctx, c->params[0]);
    if (rc != 0) return api_backend_error(c, rc, "station");
    return api_raw(c, 204, "application/json", NULL, 0);
}

/* ---- journal -------------------------------------------------------------------------------- */

/* Parses a stored payload into JSON, or keeps it as a string if it is not JSON. */
static cJSON *payload_json(lw_str_t p)
{
    cJSON *j = p.len ? cJSON_ParseWithLength(p.p, p.len) : NULL;
    if (j) return j;
    char *s = lw_str_dup(p);
    j = cJSON_CreateString(s ? s : "");
    free(s);
    return j;
}

typedef struct {
    cJSON *items;   /* entries, newest first */
    cJSON *pending; /* responses seen, keyed by direction+msg id, waiting for their CALL */
    size_t calls, limit, rows;
    int64_t last_seq;     /* seq of the oldest request listed: the next page's cursor */
    int64_t last_row_seq; /* seq of the oldest row read */
    bool full;
} jr_list_t;

static void response_into(cJSON *entry, const lw_api_journal_t *r)
{
    api_json_time(entry, "response_at", r->at_ms);
    if (r->msg_type == 3) {
        cJSON_AddItemToObject(entry, "response", payload_json(r->payload));
        cJSON_AddNullToObject(entry, "error");
    } else {
        cJSON_AddNullToObject(entry, "response");
        cJSON *e = cJSON_CreateObject();
        cJSON *pl = payload_json(r->payload);
        /* A CALLERROR row's payload is [errorCode, errorDescription, errorDetails]. */
        if (cJSON_IsArray(pl) && cJSON_GetArraySize(pl) >= 2) {
            cJSON_AddItemToObject(e, "code", cJSON_Duplicate(cJSON_GetArrayItem(pl, 0), 1));
            cJSON_AddItemToObject(e, "description", cJSON_Duplicate(cJSON_GetArrayItem(pl, 1), 1));
            if (cJSON_GetArraySize(pl) >= 3)
                cJSON_AddItemToObject(e, "details", cJSON_Duplicate(cJSON_GetArrayItem(pl, 2), 1));
            cJSON_Delete(pl);
        } else {
            cJSON_AddItemToObject(e, "raw", pl);
        }
        cJSON_AddItemToObject(entry, "error", e);
    }
}

static int jr_each(void *ud, const lw_api_journal_t *r)
{
    jr_list_t *l = ud;
    char key[LW_MSGID_MAX + 8];
    if (l->full) return 1; /* the rest belongs to the next page */
    l->rows++;
    l->last_row_seq = r->seq;
    if (r->msg_type == 3 || r->msg_type == 4) {
        /* A response: keep it until its CALL (older, so later in this newest-first walk). The
         * CALL went the other way: an inbound response answers an outbound CALL. */
        snprintf(key, sizeof key, "%c%.*s", r->inbound ? 'o' : 'i', (int)r->msg_id.len,
                 r->msg_id.p);
        cJSON *holder = cJSON_CreateObject();
        response_into(holder, r);
        cJSON_AddNumberToObject(holder, "seq", (double)r->seq);
        cJSON_DeleteItemFromObjectCaseSensitive(l->pending, key);
        cJSON_AddItemToObject(l->pending, key, holder);
        return 0;
    }
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "seq", (double)r->seq);
    cJSON_AddStringToObject(e, "direction", r->inbound ? "in" : "out");
    char *mid = lw_str_dup(r->msg_id), *act = lw_str_dup(r->action);
    cJSON_AddStringToObject(e, "message_id", mid ? mid : "");
    cJSON_AddStringToObject(e, "action", act ? act : "");
    free(mid);
    free(act);
    cJSON_AddStringToObject(e, "type", r->msg_type == 2 ? "call" : "send");
    api_json_time(e, "at", r->at_ms);
    cJSON_AddItemToObject(e, "request", payload_json(r->payload));
    snprintf(key, sizeof key, "%c%.*s", r->inbound ? 'i' : 'o', (int)r->msg_id.len, r->msg_id.p);
    cJSON *resp = cJSON_DetachItemFromObjectCaseSensitive(l->pending, key);
    if (resp) {
        cJSON *x;
        while ((x = resp->child)) {
            cJSON *d = cJSON_DetachItemViaPointer(resp, x);
            if (strcmp(d->string, "seq") == 0) {
                cJSON_Delete(d);
                continue;
            }
            cJSON_AddItemToObject(e, d->string, d);
        }
        cJSON_Delete(resp);
    } else {
        cJSON_AddNullToObject(e, "response_at");
        cJSON_AddNullToObject(e, "response");
        cJSON_AddNullToObject(e, "error");
    }
    cJSON_AddItemToArray(l->items, e);
    l->last_seq = r->seq;
    if (++l->calls >= l->limit) l->full = true;
    return 0;
}

int api_h_station_journal(api_ctx_t *c)
{
    lw_api_t *api = c->api;
    if (!api->be.journal_list) return api_backend_error(c, LW_ENOTSUP, "journal");
    jr_list_t l = {0};
    if (api_query_limit(c, &l.limit) != 0) return 0;
    char b[32];
    int64_t before = 0;
    if (api_query(c, "before", b, sizeof b) != 0 && (!api_parse_i64(b, &before) || before < 0))
        return api_error(c, 400, "invalid_query", "before must be a sequence number");
    if (api->be.station_get) {
        lw_api_station_t s;
        int rc = api->be.station_get(api->be.ctx, c->params[0], &s);
        if (rc != 0) return api_backend_error(c, rc, "station");
    }
    cJSON *out = cJSON_CreateObject();
    l.items = cJSON_AddArrayToObject(out, "items");
    l.pending = cJSON_CreateObject();
    /* Rows are read until `limit` requests are collected; their responses are newer rows, so
     * the walk (newest first) meets each response before its request. A response whose request
     * is on an older page is listed there without its answer: pairing is within a page. */
    int64_t cursor = before;
    for (;;) {
        size_t rows_before = l.rows;
        int rc =
            api->be.journal_list(api->be.ctx, c->params[0], cursor, LW_API_PAGE_MAX, jr_each, &l);
        if (rc < 0) {
            cJSON_Delete(out);
            cJSON_Delete(l.pending);
            return api_backend_error(c, rc, "journal");
        }
        if (l.full || l.rows - rows_before < LW_API_PAGE_MAX) break;
        cursor = l.last_row_seq;
    }
    /* Responses whose request is not on this page (older, or pruned). */
    cJSON *orphans = cJSON_AddArrayToObject(out, "unpaired_responses");
    for (cJSON *r = l.pending->child; r; r = r->next) {
        cJSON *o = cJSON_Duplicate(r, 1);
        cJSON_AddStringToObject(o, "message_id", r->string + 1);
        cJSON_AddItemToArray(orphans, o);
    }
    cJSON_Delete(l.pending);
    if (l.full)
        cJSON_AddNumberToObject(out, "next", (double)l.last_seq);
    else
        cJSON_AddNullToObject(out, "next");
    return api_json(c, 200, out);
}

/* ---- transactions --------------------------------------------------------------------------- */

static cJSON *tx_json(const lw_api_tx_t *t)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)t->id);
    api_json_str_or_null(o, "transaction_uid", t->tx_uid);
    cJSON_AddStringToObject(o, "station_id", t->station_id);
    cJSON_AddNumberToObject(o, "evse_id", t->evse_id);
    cJSON_AddNumberToObject(o, "connector_id", t->connector_id);
    api_json_str_or_null(o, "id_token", t->id_token);
    cJSON_AddStringToObject(o, "state", t->active ? "active" : "ended");
    api_json_time(o, "started_at", t->start_ms);
    api_json_time(o, "stopped_at", t->active ? 0 : t->stop_ms);
    api_json_int_or_null(o, "meter_start_wh", t->meter_start_wh);
    api_json_int_or_null(o, "meter_stop_wh", t->meter_stop_wh);
    api_json_int_or_null(o, "energy_wh", t->energy_wh);
    api_json_str_or_null(o, "stop_reason", t->stop_reason);
    return o;
}

typedef struct {
    cJSON *items;
    size_t count, limit;
    int64_t last_id;
    lw_buf_t *csv;
    int err;
} tx_list_t;

static int tx_each(void *ud, const lw_api_tx_t *t)
{
    tx_list_t *l = ud;
    cJSON_AddItemToArray(l->items, tx_json(t));
    l->last_id = t->id;
    return ++l->count >= l->limit;
}

/* Reads ?station, ?state, ?before into f. Returns 0 or answered. */
static int tx_filter(api_ctx_t *c, lw_api_tx_filter_t *f, char *station, size_t stsz)
{
    char st[16], b[32];
    f->state = -1;
    if (api_query(c, "station", station, stsz) < 0)
        return api_error(c, 400, "invalid_query", "station is malformed or too long"), LW_EINVAL;
    f->station_id = lw_str_c(station);
    if (api_query(c, "state", st, sizeof st) != 0) {
        if (!strcmp(st, "active"))
            f->state = 0;
        else if (!strcmp(st, "ended"))
            f->state = 1;
        else
            return api_error(c, 400, "invalid_query", "state must be active or ended"), LW_EINVAL;
    }
    if (api_query(c, "before", b, sizeof b) != 0 &&
        (!api_parse_i64(b, &f->before_id) || f->before_id < 0))
        return api_error(c, 400, "invalid_query", "before must be a transaction id"), LW_EINVAL;
    return 0;
}

int api_h_tx_list(api_ctx_t *c)
{
    if (!c->api->be.tx_list) return api_backend_error(c, LW_ENOTSUP, "transactions");
    lw_api_tx_filter_t f = {0};
    char station[LW_STATION_ID_MAX + 1];
    tx_list_t l = {0};
    if (api_query_limit(c, &l.limit) != 0 || tx_filter(c, &f, station, sizeof station) != 0)
        return 0;
    f.limit = l.limit;
    cJSON *out = cJSON_CreateObject();
    l.items = cJSON_AddArrayToObject(out, "items");
    int rc = c->api->be.tx_list(c->api->be.ctx, &f, tx_each, &l);
    if (rc < 0) {
        cJSON_Delete(out);
        return api_backend_error(c, rc, "transactions");
    }
    if (l.count >= l.limit)
        cJSON_AddNumberToObject(out, "next", (double)l.last_id);
    else
        cJSON_AddNullToObject(out, "next");
    return api_json(c, 200, out);
}

/* One CSV cell (RFC 4180 quoting). Text starting with = + - @ is prefixed with ' so that a
 * spreadsheet does not run it as a formula (station ids and tokens come from the field). */
static int csv_text(lw_buf_t *b, const char *s, bool last)
{
    int rc = 0;
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    bool formula = s[0] && strchr("=+-@", s[0]);
    if (quote) rc = lw_buf_putc(b, '"');
    if (rc == 0 && formula) rc = lw_buf_putc(b, '\'');
    for (const char *p = s; rc == 0 && *p; p++) {
        if (*p == '"') rc = lw_buf_putc(b, '"');
        if (rc == 0) rc = lw_buf_putc(b, *p);
    }
    if (rc == 0 && quote) rc = lw_buf_putc(b, '"');
    if (rc == 0) rc = lw_buf_append_c(b, last ? "\r\n" : ",");
    return rc;
}

static int csv_num(lw_buf_t *b, int64_t v)
{
    return v < 0 ? lw_buf_putc(b, ',') : lw_buf_printf(b, "%lld,", (long long)v);
}

static int csv_each(void *ud, const lw_api_tx_t *t)
{
    tx_list_t *l = ud;
    lw_buf_t *b = l->csv;
    char start[40] = "", stop[40] = "";
    if (t->start_ms) lw_time_format(t->start_ms, start, sizeof start);
    if (!t->active && t->stop_ms) lw_time_format(t->stop_ms, stop, sizeof stop);
    int rc = lw_buf_printf(b, "%lld,", (long long)t->id);
    if (rc == 0) rc = csv_text(b, t->station_id, false);
    if (rc == 0) rc = lw_buf_printf(b, "%d,%d,", t->evse_id, t->connector_id);
    if (rc == 0) rc = csv_text(b, t->id_token, false);
    if (rc == 0) rc = lw_buf_printf(b, "%s,%s,%s,", t->active ? "active" : "ended", start, stop);
    if (rc == 0) rc = csv_num(b, t->meter_start_wh);
    if (rc == 0) rc = csv_num(b, t->meter_stop_wh);
    if (rc == 0) rc = csv_num(b, t->energy_wh);
    if (rc == 0) rc = csv_text(b, t->stop_reason, true);
    l->last_id = t->id;
    l->count++;
    if (rc != 0) {
        l->err = rc;
        return 1;
    }
    return 0;
}

int api_h_tx_csv(api_ctx_t *c)
{
    if (!c->api->be.tx_list) return api_backend_error(c, LW_ENOTSUP, "transactions");
    lw_api_tx_filter_t f = {0};
    char station[LW_STATION_ID_MAX + 1];
    if (tx_filter(c, &f, station, sizeof station) != 0) return 0;
    lw_buf_t csv;
    lw_buf_init(&csv, LW_API_BODY_MAX);
    tx_list_t l = {.csv = &csv};
    int rc = lw_buf_append_c(&csv, "id,station_id,evse_id,connector_id,id_token,state,"
                                   "started_at,stopped_at,meter_start_wh,meter_stop_wh,"
                                   "energy_wh,stop_reason\r\n");
    /* Every matching transaction, newest first, page by page. */
    while (rc == 0) {
        size_t before = l.count;
        f.limit = LW_API_PAGE_MAX;
        rc = c->api->be.tx_list(c->api->be.ctx, &f, csv_each, &l);
        if (rc == 0) rc = l.err;
        if (rc != 0 || l.count - before < LW_API_PAGE_MAX) break;
        f.before_id = l.last_id;
    }
    if (rc == LW_ETOOBIG) {
        lw_buf_free(&csv);
        return api_error(c, 413, "too_large",
                         "the export exceeds %d bytes: narrow it with ?station=, ?state= or "
                         "?before=",
                         LW_API_BODY_MAX);
    }
    if (rc < 0) {
        lw_buf_free(&csv);
        return api_backend_error(c, rc, "transactions");
    }
    rc = api_raw(c, 200, "text/csv; charset=utf-8", csv.data, csv.len);
    if (rc == 0)
        rc = lw_buf_append_c(&c->res->headers,
                             "Content-Disposition: attachment; filename=\"transactions.csv\"\r\n");
    lw_buf_free(&csv);
    return rc;
}

static int meter_each(void *ud, const lw_api_meter_t *m)
{
    cJSON *o = cJSON_CreateObject();
    api_json_time(o, "timestamp", m->timestamp_ms);
    char *v = lw_str_dup(m->value);
    char *end = NULL;
    double d = v ? strtod(v, &end) : 0;
    if (v && end && *end == 0 && end != v)
        cJSON_AddNumberToObject(o, "value", d);
    else
        cJSON_AddStringToObject(o, "value", v ? v : "");
    free(v);
    struct {
        const char *k;
        lw_str_t s;
    } f[] = {{"measurand", m->measurand},
             {"phase", m->phase},
             {"unit", m->unit},
             {"context", m->context}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        char *s = f[i].s.len ? lw_str_dup(f[i].s) : NULL;
        api_json_str_or_null(o, f[i].k, s);
        free(s);
    }
    cJSON_AddItemToArray((cJSON *)ud, o);
    return 0;
}

int api_h_tx_get(api_ctx_t *c)
{
    if (!c->api->be.tx_get) return api_backend_error(c, LW_ENOTSUP, "transaction");
    char idb[32];
    int64_t id;
    if (!api_copy(idb, sizeof idb, c->params[0]) || !api_parse_i64(idb, &id) || id <= 0)
        return api_error(c, 400, "invalid_path", "a transaction id is a positive integer");
    lw_api_tx_t t;
    int rc = c->api->be.tx_get(c->api->be.ctx, id, &t);
    if (rc != 0) return api_backend_error(c, rc, "transaction");
    cJSON *o = tx_json(&t);
    cJSON *arr = cJSON_AddArrayToObject(o, "meter_samples");
    if (c->api->be.meter_list) {
        rc = c->api->be.meter_list(c->api->be.ctx, id, 0, meter_each, arr);
        if (rc < 0) {
            cJSON_Delete(o);
            return api_backend_error(c, rc, "meter samples");
        }
    }
    return api_json(c, 200, o);
}

/* ---- id tokens ------------------------------------------------------------------------------ */

static const char *const token_statuses[] = {"Accepted", "Blocked",      "Expired",
                                             "Invalid",  "ConcurrentTx", NULL};

static cJSON *idtok_json(const lw_api_id_token_t *t)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id_token", t->id_token);
    api_json_str_or_null(o, "type", t->type);
    cJSON_AddStringToObject(o, "status", t->status);
    api_json_time(o, "expiry", t->expiry_ms);
    api_json_str_or_null(o, "group_id", t->group_id);
    return o;
}

/* Applies the writable fields of body to t. Returns 0 or answered. */
static int idtok_fields(api_ctx_t *c, const cJSON *body, lw_api_id_token_t *t)
{
    const cJSON *v;
    if ((v = cJSON_GetObjectItemCaseSensitive(body, "status"))) {
        bool ok = false;
        for (const char *const *s = token_statuses; cJSON_IsString(v) && *s; s++)
            if (!strcmp(v->valuestring, *s)) ok = true;
        if (!ok)
            return api_error(c, 400, "invalid_field",
                             "status must be Accepted, Blocked, Expired, Invalid or ConcurrentTx"),
                   LW_EINVAL;
        lw_cstr_copy(t->status, sizeof t->status, v->valuestring);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(body, "type"))) {
        if (cJSON_IsNull(v))
            t->type[0] = 0;
        else if (!cJSON_IsString(v) || strlen(v->valuestring) >= sizeof t->type)
            return api_error(c, 400, "invalid_field",
                             "type must be a 2.x IdTokenEnumType (ISO14443, eMAID, Central, …) "
                             "or null"),
                   LW_EINVAL;
        else
            lw_cstr_copy(t->type, sizeof t->type, v->valuestring);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(body, "expiry"))) {
        if (cJSON_IsNull(v)) {
            t->expiry_ms = 0;
        } else if (!cJSON_IsString(v) ||
                   lw_time_parse(lw_str_c(v->valuestring), &t->expiry_ms) != 0) {
            return api_error(c, 400, "invalid_field",
                             "expiry must be an RFC 3339 date-time with time zone "
                             "(2030-01-01T00:00:00Z) or null"),
                   LW_EINVAL;
        }
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(body, "group_id"))) {
        if (cJSON_IsNull(v))
            t->group_id[0] = 0;
        else if (!cJSON_IsString(v) || !*v->valuestring ||
                 strlen(v->valuestring) >= sizeof t->group_id)
            return api_error(c, 400, "invalid_field",
                             "group_id must be a token of 1 to %zu characters, or null",
                             sizeof t->group_id - 1),
                   LW_EINVAL;
        else
            lw_cstr_copy(t->group_id, sizeof t->group_id, v->valuestring);
    }
    return 0;
}

int api_h_idtok_create(api_ctx_t *c)
{
    lw_api_t *api = c->api;
    if (!api->be.id_token_put) return api_backend_error(c, LW_ENOTSUP, "id token");
    cJSON *body = api_body_object(c);
    if (!body) return 0;
    static const char *const keys[] = {"id_token", "type", "status", "expiry", "group_id", NULL};
    lw_api_id_token_t t = {0};
    snprintf(t.status, sizeof t.status, "Accepted");
    const char *id = api_get_str(body, "id_token");
    int rc = 0;
    if (api_only_keys(c, body, keys) != 0) goto out;
    if (!id || !*id || strlen(id) >= sizeof t.id_token) {
        api_error(c, 400, "invalid_field", "id_token must be a string of 1 to %zu characters",
                  sizeof t.id_token - 1);
        goto out;
    }
    lw_cstr_copy(t.id_token, sizeof t.id_token, id);
    if (idtok_fields(c, body, &t) != 0) goto out;
    rc = api->be.id_token_put(api->be.ctx, &t, true);
    if (rc != 0) {
        api_backend_error(c, rc, "id token");
        rc = 0;
        goto out;
    }
    rc = api_json(c, 201, idtok_json(&t));
out:
    cJSON_Delete(body);
    return rc;
}

int api_h_idtok_get(api_ctx_t *c)
{
    if (!c->api->be.id_token_get) return api_backend_error(c, LW_ENOTSUP, "id token");
    lw_api_id_token_t t;
    int rc = c->api->be.id_token_get(c->api->be.ctx, c->params[0], &t);
    if (rc != 0) return api_backend_error(c, rc, "id token");
    return api_json(c, 200, idtok_json(&t));
}

static int idtok_change(api_ctx_t *c, const cJSON *body)
{
    lw_api_t *api = c->api;
    if (!api->be.id_token_get || !api->be.id_token_put)
        return api_backend_error(c, LW_ENOTSUP, "id token");
    lw_api_id_token_t t;
    int rc = api->be.id_token_get(api->be.ctx, c->params[0], &t);
    if (rc != 0) return api_backend_error(c, rc, "id token");
    if (idtok_fields(c, body, &t) != 0) return 0;
    rc = api->be.id_token_put(api->be.ctx, &t, false);
    if (rc != 0) return api_backend_error(c, rc, "id token");
    return api_json(c, 200, idtok_json(&t));
}

int api_h_idtok_update(api_ctx_t *c)
{
    cJSON *body = api_body_object(c);
    if (!body) return 0;
    static const char *const keys[] = {"type", "status", "expiry", "group_id", NULL};
    int rc = api_only_keys(c, body, keys) != 0 ? 0 : idtok_change(c, body);
    cJSON_Delete(body);
    return rc;
}

int api_h_idtok_block(api_ctx_t *c)
{
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "status", "Blocked");
    int rc = idtok_change(c, body);
    cJSON_Delete(body);
    return rc;
}

int api_h_idtok_delete(api_ctx_t *c)
{
    if (!c->api->be.id_token_delete) return api_backend_error(c, LW_ENOTSUP, "id token");
    int rc = c->api->be.id_token_delete(c->api->be.ctx, c->params[0]);
    if (rc != 0) return api_backend_error(c, rc, "id token");
    return api_raw(c, 204, "application/json", NULL, 0);
}

typedef struct {
    cJSON *items;
    size_t count, limit;
    char last[64];
} it_list_t;

static int idtok_each(void *ud, const lw_api_id_token_t *t)
{
    it_list_t *l = ud;
    cJSON_AddItemToArray(l->items, idtok_json(t));
    lw_cstr_copy(l->last, sizeof l->last, t->id_token);
    return ++l->count >= l->limit;
}

int api_h_idtok_list(api_ctx_t *c)
{
    if (!c->api->be.id_token_list) return api_backend_error(c, LW_ENOTSUP, "id tokens");
    it_list_t l = {0};
    char after[64];
    if (api_query_limit(c, &l.limit) != 0) return 0;
    if (api_query(c, "after", after, sizeof after) < 0)
        return api_error(c, 400, "invalid_query", "after is malformed or too long");
    cJSON *out = cJSON_CreateObject();
    l.items = cJSON_AddArrayToObject(out, "items");
    int rc = c->api->be.id_token_list(c->api->be.ctx, lw_str_c(after), l.limit, idtok_each, &l);
    if (rc < 0) {
        cJSON_Delete(out);
        return api_backend_error(c, rc, "id tokens");
    }
    if (l.count >= l.limit)
        cJSON_AddStringToObject(out, "next", l.last);
    else
        cJSON_AddNullToObject(out, "next");
    return api_json(c, 200, out);
}

/* ---- API tokens ----------------------------------------------------------------------------- */

static int apitok_each(void *ud, const lw_api_token_t *t)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)t->id);
    cJSON_AddStringToObject(o, "role", lw_api_role_name(t->role));
    api_json_str_or_null(o, "name", t->name);
    api_json_time(o, "created_at", t->created_ms);
    api_json_time(o, "revoked_at", t->revoked_ms);
    cJSON_AddItemToArray((cJSON *)ud, o);
    return 0;
}

int api_h_tokens_list(api_ctx_t *c)
{
    if (!c->api->be.token_list) return api_backend_error(c, LW_ENOTSUP, "API tokens");
    cJSON *out = cJSON_CreateObject();
    cJSON *items = cJSON_AddArrayToObject(out, "items");
    int rc = c->api->be.token_list(c->api->be.ctx, apitok_each, items);
    if (rc < 0) {
        cJSON_Delete(out);
        return api_backend_error(c, rc, "API tokens");
    }
    return api_json(c, 200, out);
}

int api_h_tokens_create(api_ctx_t *c)
{
    if (!c->api->be.token_create) return api_backend_error(c, LW_ENOTSUP, "API tokens");
    cJSON *body = api_body_object(c);
    if (!body) return 0;
    static const char *const keys[] = {"role", "name", NULL};
    int rc = 0;
    const char *role_s = api_get_str(body, "role");
    const char *name = api_get_str(body, "name");
    lw_api_role_t role;
    if (api_only_keys(c, body, keys) != 0) goto out;
    if (!role_s || lw_api_role_parse(lw_str_c(role_s), &role) != 0) {
        api_error(c, 400, "invalid_field", "role must be viewer, operator or admin");
        goto out;
    }
    if (cJSON_GetObjectItemCaseSensitive(body, "name") && (!name || strlen(name) >= 64)) {
        api_error(c, 400, "invalid_field", "name must be a string of at most 63 characters");
        goto out;
    }
    char text[128];
    int64_t id = 0;
    rc = c->api->be.token_create(c->api->be.ctx, role, lw_str_c(name), text, sizeof text, &id);
    if (rc != 0) {
        api_backend_error(c, rc, "API token");
        rc = 0;
        goto out;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "role", lw_api_role_name(role));
    api_json_str_or_null(o, "name", name);
    cJSON_AddStringToObject(o, "token", text);
    rc = api_json(c, 201, o);
out:
    cJSON_Delete(body);
    return rc;
}

int api_h_tokens_revoke(api_ctx_t *c)
{
    if (!c->api->be.token_revoke) return api_backend_error(c, LW_ENOTSUP, "API tokens");
    char idb[32];
    int64_t id;
    if (!api_copy(idb, sizeof idb, c->params[0]) || !api_parse_i64(idb, &id) || id <= 0)
        return api_error(c, 400, "invalid_path", "a token id is a positive integer");
    int rc = c->api->be.token_revoke(c->api->be.ctx, id);
    if (rc != 0) return api_backend_error(c, rc, "API token");
    return api_raw(c, 204, "application/json", NULL, 0);
}
