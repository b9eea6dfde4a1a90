/*
 * api/api.c — the REST router: matches (method, path) against one routing table, checks the
 * bearer token and the route's role, and calls the handler; serves the dashboard's files and
 * the OpenAPI document from the assets compiled into the binary. Also the small helpers every
 * handler uses to read requests and write JSON answers.
 */
#include "api/api_int.h"
#include "web/assets.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- routing table ------------------------------------------------------------------------- */

typedef struct route {
    lw_api_route_info_t info;
    api_handler_fn fn;
} route_t;

#define V LW_API_ROLE_VIEWER
#define O LW_API_ROLE_OPERATOR
#define A LW_API_ROLE_ADMIN
#define SC(path)                                                                                   \
    {                                                                                              \
        {"POST", "/api/v1/stations/{id}/" path, O, false}, api_h_shortcut                          \
    }

static const route_t routes[] = {
    {{"GET", "/api/v1/openapi.json", V, true}, NULL}, /* served from the assets */
    {{"GET", "/api/v1/whoami", V, false}, NULL},
    {{"GET", "/api/v1/events", V, false}, api_h_events},
    {{"GET", "/api/v1/stations", V, false}, api_h_stations_list},
    {{"POST", "/api/v1/stations", A, false}, api_h_stations_create},
    {{"GET", "/api/v1/stations/{id}", V, false}, api_h_station_get},
    {{"PATCH", "/api/v1/stations/{id}", A, false}, api_h_station_update},
    {{"DELETE", "/api/v1/stations/{id}", A, false}, api_h_station_delete},
    {{"GET", "/api/v1/stations/{id}/journal", V, false}, api_h_station_journal},
    {{"GET", "/api/v1/stations/{id}/commands", V, false}, api_h_station_commands},
    {{"POST", "/api/v1/stations/{id}/commands/{action}", O, false}, api_h_command_post},
    SC("remote-start"),
    SC("remote-stop"),
    SC("reset"),
    SC("unlock"),
    SC("availability"),
    SC("config/get"),
    SC("config/set"),
    SC("trigger"),
    SC("firmware"),
    SC("diagnostics"),
    SC("local-list"),
    SC("reserve"),
    SC("cancel-reservation"),
    SC("charging-profile"),
    SC("clear-charging-profile"),
    SC("clear-cache"),
    {{"GET", "/api/v1/commands/{id}", V, false}, api_h_command_get},
    {{"GET", "/api/v1/transactions", V, false}, api_h_tx_list},
    {{"GET", "/api/v1/transactions.csv", V, false}, api_h_tx_csv},
    {{"GET", "/api/v1/transactions/{id}", V, false}, api_h_tx_get},
    {{"GET", "/api/v1/id-tokens", V, false}, api_h_idtok_list},
    {{"POST", "/api/v1/id-tokens", O, false}, api_h_idtok_create},
    {{"GET", "/api/v1/id-tokens/{token}", V, false}, api_h_idtok_get},
    {{"PATCH", "/api/v1/id-tokens/{token}", O, false}, api_h_idtok_update},
    {{"DELETE", "/api/v1/id-tokens/{token}", O, false}, api_h_idtok_delete},
    {{"POST", "/api/v1/id-tokens/{token}/block", O, false}, api_h_idtok_block},
    {{"GET", "/api/v1/tokens", A, false}, api_h_tokens_list},
    {{"POST", "/api/v1/tokens", A, false}, api_h_tokens_create},
    {{"DELETE", "/api/v1/tokens/{id}", A, false}, api_h_tokens_revoke},
    {{"GET", "/api/v1/stations/{id}/firmware", V, false}, api_h_station_firmware},
    {{"GET", "/api/v1/stations/{id}/uploads", O, false}, api_h_uploads_list},
    {{"GET", "/api/v1/uploads/{token}", O, false}, api_h_upload_download},
    {{"GET", "/api/v1/firmware", V, false}, api_h_fw_list},
    {{"POST", "/api/v1/firmware", O, false}, api_h_fw_upload},
    {{"GET", "/api/v1/firmware/{id}", V, false}, api_h_fw_get},
    {{"DELETE", "/api/v1/firmware/{id}", O, false}, api_h_fw_delete},
    /* For stations: no bearer token (they cannot send one); the random ids are the secret. */
    {{"GET", "/files/firmware/{id}/{name}", V, true}, api_h_fw_download},
    {{"POST", "/files/uploads/{token}", V, true}, api_h_station_upload},
    {{"PUT", "/files/uploads/{token}", V, true}, api_h_station_upload},
    {{"POST", "/files/uploads/{token}/{name}", V, true}, api_h_station_upload},
    {{"PUT", "/files/uploads/{token}/{name}", V, true}, api_h_station_upload},
    {{"GET", "/metrics", V, true}, api_h_metrics},
};
#undef SC
#undef V
#undef O
#undef A

static lw_api_route_info_t route_infos[sizeof routes / sizeof routes[0]];

const lw_api_route_info_t *lw_api_routes(size_t *count)
{
    /* A copy of the infos as a plain array; filled once (idempotent, so a race only rewrites
     * the same bytes). */
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        route_infos[i] = routes[i].info;
    *count = sizeof routes / sizeof routes[0];
    return route_infos;
}

const char *lw_api_role_name(lw_api_role_t r)
{
    switch (r) {
    case LW_API_ROLE_VIEWER:
        return "viewer";
    case LW_API_ROLE_OPERATOR:
        return "operator";
    case LW_API_ROLE_ADMIN:
        return "admin";
    }
    return "viewer";
}

int lw_api_role_parse(lw_str_t s, lw_api_role_t *out)
{
    for (int r = LW_API_ROLE_VIEWER; r <= LW_API_ROLE_ADMIN; r++)
        if (lw_str_eq_c(s, lw_api_role_name((lw_api_role_t)r))) {
            *out = (lw_api_role_t)r;
            return 0;
        }
    return LW_EINVAL;
}

/* ---- life ---------------------------------------------------------------------------------- */

lw_api_t *lw_api_new(const lw_api_backend_t *backend, const lw_clock_t *clock)
{
    lw_api_t *api = calloc(1, sizeof *api);
    if (!api) return NULL;
    api->be = *backend;
    api->clock = clock ? clock : lw_clock_real();
    pthread_mutex_init(&api->metrics_mu, NULL);
    api_files_init(api);
    api_webhooks_init(api);
    api_commands_init(api);
    if (api_events_init(api) != 0) {
        api_commands_free(api);
        api_webhooks_free(api);
        api_files_free(api);
        pthread_mutex_destroy(&api->metrics_mu);
        free(api);
        return NULL;
    }
    return api;
}

void lw_api_free(lw_api_t *api)
{
    if (!api) return;
    api_webhooks_free(api); /* stops delivery first: publishing needs the event hub */
    api_events_free(api);
    api_commands_free(api);
    api_files_free(api);
    pthread_mutex_destroy(&api->metrics_mu);
    free(api);
}

void lw_api_response_init(lw_api_response_t *r)
{
    memset(r, 0, sizeof *r);
    lw_buf_init(&r->headers, 4096);
    lw_buf_init(&r->body, LW_API_BODY_MAX);
}

void lw_api_response_free(lw_api_response_t *r)
{
    lw_buf_free(&r->headers);
    lw_buf_free(&r->body);
}

/* ---- answers ------------------------------------------------------------------------------- */

static void reset_answer(lw_api_response_t *res)
{
    lw_buf_reset(&res->headers);
    lw_buf_reset(&res->body);
    res->stream = false;
}

int api_raw(api_ctx_t *c, int status, const char *content_type, const void *body, size_t len)
{
    lw_api_response_t *res = c->res;
    reset_answer(res);
    res->status = status;
    int rc = lw_buf_printf(&res->headers, "Content-Type: %s\r\nCache-Control: no-store\r\n",
                           content_type);
    if (rc == 0 && len) rc = lw_buf_append(&res->body, body, len);
    return rc;
}

int api_json(api_ctx_t *c, int status, cJSON *j)
{
    if (!j) return api_error(c, 500, "internal", "out of memory building the answer");
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!text) return api_error(c, 500, "internal", "out of memory printing the answer");
    int rc = api_raw(c, status, "application/json", text, strlen(text));
    free(text);
    if (rc == LW_ETOOBIG)
        return api_error(c, 413, "too_large", "the answer exceeds %d bytes; ask for a smaller page",
                         LW_API_BODY_MAX);
    return rc;
}

int api_error(api_ctx_t *c, int status, const char *error, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    lw_api_response_t *res = c->res;
    reset_answer(res);
    res->status = status;
    int rc = lw_buf_append_c(&res->headers, "Content-Type: application/json\r\n"
                                            "Cache-Control: no-store\r\n");
    if (status == 401 && rc == 0)
        rc = lw_buf_append_c(&res->headers, "WWW-Authenticate: Bearer realm=\"ladewerk\"\r\n");
    if (rc == 0) rc = lw_buf_append_c(&res->body, "{\"error\":");
    if (rc == 0) rc = lw_buf_append_json_str(&res->body, lw_str_c(error));
    if (rc == 0) rc = lw_buf_append_c(&res->body, ",\"detail\":");
    if (rc == 0) rc = lw_buf_append_json_str(&res->body, lw_str_c(detail));
    if (rc == 0) rc = lw_buf_putc(&res->body, '}');
    return rc;
}

int api_backend_error(api_ctx_t *c, int err, const char *what)
{
    switch (err) {
    case LW_ENOTFOUND:
        return api_error(c, 404, "not_found", "%s not found", what);
    case LW_EEXISTS:
        return api_error(c, 409, "exists", "%s already exists", what);
    case LW_EINVAL:
        return api_error(c, 400, "invalid", "%s: invalid value", what);
    case LW_ETOOBIG:
        return api_error(c, 413, "too_large", "%s: value too large", what);
    case LW_ENOTSUP:
        return api_error(c, 501, "not_implemented", "%s: not supported by this server", what);
    case LW_EBUSY:
    case LW_EAGAIN:
        return api_error(c, 503, "busy", "%s: the store is busy, retry shortly", what);
    default:
        return api_error(c, 500, "internal", "%s: %s", what, lw_strerror(err));
    }
}

/* ---- request helpers ----------------------------------------------------------------------- */

lw_str_t api_header(const lw_api_request_t *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (lw_str_case_eq_c(req->headers[i].name, name)) return req->headers[i].value;
    return LW_STR_NULL;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Percent-decodes s into out (NUL-terminated); '+' becomes ' ' when plus is set (query).
 * Returns the length, LW_EPARSE (bad escape or NUL) or LW_ETOOBIG. */
static int pct_decode(lw_str_t s, bool plus, char *out, size_t outsz)
{
    size_t n = 0;
    for (size_t i = 0; i < s.len; i++) {
        char ch = s.p[i];
        if (ch == '%') {
            if (i + 2 >= s.len) return LW_EPARSE;
            int hi = hexval(s.p[i + 1]), lo = hexval(s.p[i + 2]);
            if (hi < 0 || lo < 0) return LW_EPARSE;
            ch = (char)(hi * 16 + lo);
            if (ch == 0) return LW_EPARSE;
            i += 2;
        } else if (ch == '+' && plus) {
            ch = ' ';
        }
        if (n + 1 >= outsz) return LW_ETOOBIG;
        out[n++] = ch;
    }
    out[n] = 0;
    return (int)n;
}

int api_query(api_ctx_t *c, const char *name, char *out, size_t outsz)
{
    lw_str_t q = c->query;
    size_t nlen = strlen(name);
    size_t i = 0;
    while (i < q.len) {
        size_t j = i;
        while (j < q.len && q.p[j] != '&')
            j++;
        lw_str_t pair = {q.p + i, j - i};
        const char *eq = memchr(pair.p, '=', pair.len);
        lw_str_t key = {pair.p, eq ? (size_t)(eq - pair.p) : pair.len};
        if (key.len == nlen && memcmp(key.p, name, nlen) == 0) {
            lw_str_t val = eq ? (lw_str_t){eq + 1, pair.len - key.len - 1} : LW_STR("");
            int n = pct_decode(val, true, out, outsz);
            return n < 0 ? n : 1;
        }
        i = j + 1;
    }
    if (outsz) out[0] = 0;
    return 0;
}

int api_query_limit(api_ctx_t *c, size_t *limit)
{
    char buf[32];
    int rc = api_query(c, "limit", buf, sizeof buf);
    int64_t v;
    *limit = LW_API_PAGE_DEFAULT;
    if (rc == 0) return 0;
    if (rc < 0 || !api_parse_i64(buf, &v) || v < 1 || v > LW_API_PAGE_MAX) {
        api_error(c, 400, "invalid_query", "limit must be an integer from 1 to %d",
                  LW_API_PAGE_MAX);
        return LW_EINVAL;
    }
    *limit = (size_t)v;
    return 0;
}

bool api_body_empty(const api_ctx_t *c)
{
    for (size_t i = 0; i < c->req->body.len; i++)
        if (!isspace((unsigned char)c->req->body.p[i])) return false;
    return true;
}

int api_only_keys(api_ctx_t *c, const cJSON *o, const char *const *allowed)
{
    for (const cJSON *m = o->child; m; m = m->next) {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            if (!strcmp(m->string, *a)) ok = true;
        if (!ok) {
            char list[256] = "";
            for (const char *const *a = allowed; *a; a++) {
                size_t l = strlen(list);
                snprintf(list + l, sizeof list - l, "%s%s", l ? ", " : "", *a);
            }
            api_error(c, 400, "unknown_field", "unknown field '%s' (allowed: %s)", m->string,
                      list[0] ? list : "none");
            return LW_EINVAL;
        }
    }
    return 0;
}

cJSON *api_body_object(api_ctx_t *c)
{
    lw_str_t b = c->req->body;
    if (api_body_empty(c)) {
        api_error(c, 400, "invalid_body", "a JSON object body is required");
        return NULL;
    }
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(b.p, b.len, &end, false);
    if (!j) {
        size_t off = end ? (size_t)(end - b.p) : 0;
        api_error(c, 400, "invalid_json", "the body is not valid JSON (near byte %zu)", off);
        return NULL;
    }
    /* Nothing but whitespace may follow the value. */
    for (const char *p = end; p && p < b.p + b.len; p++)
        if (!isspace((unsigned char)*p)) {
            cJSON_Delete(j);
            api_error(c, 400, "invalid_json", "trailing data after the JSON value at byte %zu",
                      (size_t)(p - b.p));
            return NULL;
        }
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        api_error(c, 400, "invalid_body", "the body must be a JSON object");
        return NULL;
    }
    return j;
}

/* ---- JSON helpers -------------------------------------------------------------------------- */

void api_json_time(cJSON *o, const char *key, int64_t ms)
{
    if (ms <= 0) {
        cJSON_AddNullToObject(o, key);
        return;
    }
    char t[40];
    lw_time_format(ms, t, sizeof t);
    cJSON_AddStringToObject(o, key, t);
}

void api_json_str_or_null(cJSON *o, const char *key, const char *s)
{
    if (s && *s)
        cJSON_AddStringToObject(o, key, s);
    else
        cJSON_AddNullToObject(o, key);
}

void api_json_int_or_null(cJSON *o, const char *key, int64_t v)
{
    if (v < 0)
        cJSON_AddNullToObject(o, key);
    else
        cJSON_AddNumberToObject(o, key, (double)v);
}

bool api_copy(char *dst, size_t dstsz, lw_str_t s)
{
    if (s.len >= dstsz) return false;
    if (s.len) memcpy(dst, s.p, s.len);
    dst[s.len] = 0;
    return true;
}

const char *api_get_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool api_parse_i64(const char *s, int64_t *out)
{
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || !(isdigit((unsigned char)*s) || *s == '-')) return false;
    *out = v;
    return true;
}

/* ---- static files ---------------------------------------------------------------------------- */

static const char *content_type_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot) return "application/octet-stream";
    if (!strcmp(dot, ".html")) return "text/html; charset=utf-8";
    if (!strcmp(dot, ".js")) return "text/javascript; charset=utf-8";
    if (!strcmp(dot, ".css")) return "text/css; charset=utf-8";
    if (!strcmp(dot, ".json")) return "application/json";
    if (!strcmp(dot, ".svg")) return "image/svg+xml";
    if (!strcmp(dot, ".png")) return "image/png";
    return "application/octet-stream";
}

static const lw_asset_t *asset_find(lw_str_t name)
{
    for (const lw_asset_t *a = lw_web_assets; a->name; a++)
        if (lw_str_eq_c(name, a->name)) return a;
    return NULL;
}

static int serve_asset(api_ctx_t *c, const lw_asset_t *a)
{
    int rc = api_raw(c, 200, content_type_of(a->name), a->data, a->len);
    if (rc == 0) {
        /* The dashboard's files are small and change with the binary: revalidate always. */
        lw_buf_reset(&c->res->headers);
        rc = lw_buf_printf(&c->res->headers,
                           "Content-Type: %s\r\nCache-Control: no-cache\r\n"
                           "X-Content-Type-Options: nosniff\r\n",
                           content_type_of(a->name));
    }
    return rc;
}

/* ---- routing ------------------------------------------------------------------------------- */

/* Matches the raw path against a template; on success the decoded parameters are written
 * into pbuf (NUL-separated) and c->params point into it. Returns 1 match, 0 no match,
 * negative for an undecodable parameter. */
static int match(const char *tmpl, lw_str_t path, api_ctx_t *c, char *pbuf, size_t pbufsz)
{
    size_t ti = 0, pi = 0, np = 0, used = 0;
    size_t tl = strlen(tmpl);
    while (ti < tl && pi <= path.len) {
        size_t te = ti;
        while (te < tl && tmpl[te] != '/')
            te++;
        size_t pe = pi;
        while (pe < path.len && path.p[pe] != '/')
            pe++;
        lw_str_t tseg = {tmpl + ti, te - ti}, pseg = {path.p + pi, pe - pi};
        if (tseg.len >= 2 && tseg.p[0] == '{') {
            if (pseg.len == 0 || np >= API_PARAMS_MAX) return 0;
            int n = pct_decode(pseg, false, pbuf + used, pbufsz - used);
            if (n < 0) return n;
            c->params[np++] = (lw_str_t){pbuf + used, (size_t)n};
            used += (size_t)n + 1;
        } else if (!lw_str_eq(tseg, pseg)) {
            return 0;
        }
        ti = te + 1;
        pi = pe + 1;
        if (te == tl || pe == path.len) {
            /* both must end together */
            return (te == tl && pe == path.len) ? 1 : 0;
        }
    }
    return 0;
}

static bool method_is(lw_str_t m, const char *want)
{
    return lw_str_eq_c(m, want);
}

static int authenticate(api_ctx_t *c)
{
    lw_str_t h = api_header(c->req, "Authorization");
    if (!h.p || h.len == 0)
        return api_error(c, 401, "unauthorized",
                         "send the header 'Authorization: Bearer <token>' (ladewerk token create)");
    if (h.len < 7 || !lw_str_case_eq_c((lw_str_t){h.p, 7}, "Bearer "))
        return api_error(c, 401, "unauthorized", "the Authorization scheme must be Bearer");
    lw_str_t tok = {h.p + 7, h.len - 7};
    while (tok.len && tok.p[0] == ' ')
        tok.p++, tok.len--;
    if (!c->api->be.token_check)
        return api_error(c, 501, "not_implemented", "token checking is not configured");
    lw_api_role_t role;
    int rc = c->api->be.token_check(c->api->be.ctx, tok, &role);
    if (rc == LW_EAUTH || rc == LW_ENOTFOUND)
        return api_error(c, 401, "unauthorized", "unknown or revoked token");
    if (rc != 0) return api_backend_error(c, rc, "token check");
    c->authed = true;
    c->role = role;
    return 0;
}

static int whoami(api_ctx_t *c)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "role", lw_api_role_name(c->role));
    return api_json(c, 200, j);
}

static int dispatch(api_ctx_t *c)
{
    const lw_api_request_t *req = c->req;
    lw_str_t path = c->path;

    /* The dashboard: "/" is index.html, "/<file>" any other embedded file except the API
     * document, which lives under /api/v1. */
    if (method_is(req->method, "GET") || method_is(req->method, "HEAD")) {
        if (lw_str_eq_c(path, "/")) {
            const lw_asset_t *a = asset_find(LW_STR("index.html"));
            if (a) return serve_asset(c, a);
        } else if (lw_str_eq_c(path, "/api/v1/openapi.json")) {
            const lw_asset_t *a = asset_find(LW_STR("openapi.json"));
            if (a) return serve_asset(c, a);
            return api_error(c, 404, "not_found", "openapi.json is not built in");
        } else if (path.len > 1 && !memchr(path.p + 1, '/', path.len - 1)) {
            const lw_asset_t *a = asset_find((lw_str_t){path.p + 1, path.len - 1});
            if (a && strcmp(a->name, "openapi.json") != 0) return serve_asset(c, a);
        }
    }

    /* Upload locations are handed out as directories ("…/files/uploads/<token>/"): a
     * station that POSTs to the location as given ends in a slash. */
    if (path.len > 15 && !memcmp(path.p, "/files/uploads/", 15) && path.p[path.len - 1] == '/')
        path.len--;

    char pbuf[2 * 512];
    char allow[128] = "";
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const route_t *r = &routes[i];
        int m = match(r->info.path, path, c, pbuf, sizeof pbuf);
        if (m < 0) return api_error(c, 400, "invalid_path", "a path parameter is malformed");
        if (m == 0) continue;
        if (!method_is(req->method, r->info.method)) {
            size_t al = strlen(allow);
            snprintf(allow + al, sizeof allow - al, "%s%s", al ? ", " : "", r->info.method);
            continue;
        }
        /* Only the file uploads take large bodies; `serve` raises the listener's body
         * limit to LW_API_FILE_MAX for them, and everything else keeps the JSON limit. */
        if (req->body.len > LW_HTTP_BODY_MAX_DEFAULT && r->fn != api_h_fw_upload &&
            r->fn != api_h_station_upload)
            return api_error(c, 413, "too_large", "request bodies are limited to %d bytes here",
                             LW_HTTP_BODY_MAX_DEFAULT);
        if (!r->info.public_) {
            int rc = authenticate(c);
            if (rc != 0 || !c->authed) return rc;
            if (c->role < r->info.role)
                return api_error(c, 403, "forbidden",
                                 "this needs the role '%s'; the token has '%s'",
                                 lw_api_role_name(r->info.role), lw_api_role_name(c->role));
        }
        if (!strcmp(r->info.path, "/api/v1/whoami")) return whoami(c);
        return r->fn(c);
    }
    if (allow[0]) {
        int rc = api_error(c, 405, "method_not_allowed", "%.*s is not allowed here; use %s",
                           LW_STR_FMT(req->method), allow);
        if (rc == 0) rc = lw_buf_printf(&c->res->headers, "Allow: %s\r\n", allow);
        return rc;
    }
    return api_error(c, 404, "not_found", "no route for %.*s %.*s", LW_STR_FMT(req->method),
                     LW_STR_FMT(path));
}

int lw_api_handle(lw_api_t *api, const lw_api_request_t *req, lw_api_response_t *res)
{
    api_ctx_t c = {.api = api, .req = req, .res = res};
    lw_str_t t = req->target;
    const char *q = memchr(t.p, '?', t.len);
    c.path = (lw_str_t){t.p, q ? (size_t)(q - t.p) : t.len};
    c.query = q ? (lw_str_t){q + 1, t.len - c.path.len - 1} : LW_STR("");
    /* Fragments never reach a server; drop a stray one. */
    const char *hash = memchr(c.path.p, '#', c.path.len);
    if (hash) c.path.len = (size_t)(hash - c.path.p);
    int rc;
    if (c.path.len == 0 || c.path.p[0] != '/')
        rc = api_error(&c, 400, "invalid_path", "the request target must start with '/'");
    else
        rc = dispatch(&c);
    if (rc == LW_ENOMEM || rc == LW_ETOOBIG) {
        lw_buf_reset(&res->body);
        lw_buf_reset(&res->headers);
        res->status = 500;
        res->stream = false;
        if (rc == LW_ETOOBIG)
            rc = api_error(&c, 500, "internal", "the answer exceeds the body limit");
    }
    pthread_mutex_lock(&api->ev_mu);
    api->requests_total++;
    if (res->status >= 400 && res->status < 500) api->requests_4xx++;
    if (res->status >= 500) api->requests_5xx++;
    if (res->status == 401 || res->status == 403) api->auth_denied++;
    pthread_mutex_unlock(&api->ev_mu);
    return rc == 0 ? 0 : LW_ENOMEM;
}
