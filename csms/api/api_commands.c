/*
 * api/api_commands.c — CSMS-initiated CALLs over REST: POST /stations/{id}/commands/{Action}
 * (any action of the station's OCPP version, validated by the backend's codec check), the
 * friendly shortcuts that build those payloads per version (remote start, reset, …), the
 * command table with its states (queued → sent → answered | failed, or queued → expired),
 * Idempotency-Key replay, and the offline queue with a time-to-live that is flushed when the
 * station connects. Every state change is handed to backend.command_save (durability) and
 * published as a "command.result" event when the command finishes.
 */
#include "api/api_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct api_cmd {
    api_cmd_t *next, *prev;
    uint64_t id;
    char station[LW_STATION_ID_MAX + 1];
    char action[LW_ACTION_MAX + 1];
    char via[32]; /* the shortcut that built it, "" = direct */
    char *payload;
    lw_api_cmd_state_t state;
    int64_t created_ms, expires_ms, sent_ms, done_ms;
    char *response;
    char error_code[64];
    char *error_detail;
    char idem[LW_API_IDEMPOTENCY_KEY_MAX + 1];
    char *fingerprint; /* what a replay must repeat: route and canonical body */
};

static const char *const state_names[] = {"queued", "sent", "answered", "failed", "expired"};

const char *lw_api_cmd_state_name(lw_api_cmd_state_t s)
{
    return (unsigned)s < 5 ? state_names[s] : "failed";
}

void api_commands_init(lw_api_t *api)
{
    pthread_mutex_init(&api->cmd_mu, NULL);
    api->cmd_next_id = 1;
    api->cmd_ttl_ms = LW_API_COMMAND_TTL_MS_DEFAULT;
}

static void cmd_free(api_cmd_t *c)
{
    free(c->payload);
    free(c->response);
    free(c->error_detail);
    free(c->fingerprint);
    free(c);
}

static void cmd_unlink(lw_api_t *api, api_cmd_t *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        api->cmd_head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        api->cmd_tail = c->prev;
    api->cmd_count--;
}

static void cmd_append(lw_api_t *api, api_cmd_t *c)
{
    c->prev = api->cmd_tail;
    c->next = NULL;
    if (api->cmd_tail)
        api->cmd_tail->next = c;
    else
        api->cmd_head = c;
    api->cmd_tail = c;
    api->cmd_count++;
}

void api_commands_free(lw_api_t *api)
{
    api_cmd_t *c = api->cmd_head;
    while (c) {
        api_cmd_t *n = c->next;
        cmd_free(c);
        c = n;
    }
    api->cmd_head = api->cmd_tail = NULL;
    pthread_mutex_destroy(&api->cmd_mu);
}

void lw_api_set_command_ttl(lw_api_t *api, int64_t ttl_ms)
{
    pthread_mutex_lock(&api->cmd_mu);
    if (ttl_ms > 0 && ttl_ms <= LW_API_COMMAND_TTL_MS_MAX) api->cmd_ttl_ms = ttl_ms;
    pthread_mutex_unlock(&api->cmd_mu);
}

/* Under cmd_mu. */
static api_cmd_t *cmd_find(lw_api_t *api, uint64_t id)
{
    for (api_cmd_t *c = api->cmd_tail; c; c = c->prev)
        if (c->id == id) return c;
    return NULL;
}

static api_cmd_t *cmd_find_idem(lw_api_t *api, const char *key)
{
    for (api_cmd_t *c = api->cmd_tail; c; c = c->prev)
        if (c->idem[0] && !strcmp(c->idem, key)) return c;
    return NULL;
}

static cJSON *parse_or_string(const char *s)
{
    if (!s) return cJSON_CreateNull();
    cJSON *j = cJSON_Parse(s);
    return j ? j : cJSON_CreateString(s);
}

/* The command's JSON (GET /commands/{id}, command_save). Under cmd_mu. */
static cJSON *cmd_json(const api_cmd_t *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)c->id);
    cJSON_AddStringToObject(o, "station_id", c->station);
    cJSON_AddStringToObject(o, "action", c->action);
    api_json_str_or_null(o, "via", c->via);
    cJSON_AddStringToObject(o, "status", lw_api_cmd_state_name(c->state));
    cJSON_AddItemToObject(o, "request", parse_or_string(c->payload));
    cJSON_AddItemToObject(o, "response", parse_or_string(c->response));
    if (c->error_code[0]) {
        cJSON *e = cJSON_AddObjectToObject(o, "error");
        cJSON_AddStringToObject(e, "code", c->error_code);
        cJSON_AddStringToObject(e, "detail", c->error_detail ? c->error_detail : "");
    } else {
        cJSON_AddNullToObject(o, "error");
    }
    api_json_time(o, "created_at", c->created_ms);
    api_json_time(o, "expires_at", c->expires_ms);
    api_json_time(o, "sent_at", c->sent_ms);
    api_json_time(o, "finished_at", c->done_ms);
    api_json_str_or_null(o, "idempotency_key", c->idem);
    return o;
}

/* What backend.command_save keeps: the public JSON plus the idempotency fingerprint. */
static char *cmd_json_text(const api_cmd_t *c)
{
    cJSON *j = cmd_json(c);
    if (c->fingerprint) cJSON_AddStringToObject(j, "_fingerprint", c->fingerprint);
    char *t = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return t;
}

/* The data of a "command.result" event: ids and outcome, never the payloads (GET the
 * command for those); the response's "status" field, when it has one, is included. */
static char *cmd_event_text(const api_cmd_t *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)c->id);
    cJSON_AddStringToObject(o, "station_id", c->station);
    cJSON_AddStringToObject(o, "action", c->action);
    cJSON_AddStringToObject(o, "status", lw_api_cmd_state_name(c->state));
    const char *rs = NULL;
    cJSON *resp = c->response ? cJSON_Parse(c->response) : NULL;
    if (resp) rs = api_get_str(resp, "status");
    api_json_str_or_null(o, "result_status", rs);
    cJSON_Delete(resp);
    api_json_str_or_null(o, "error_code", c->error_code);
    char *t = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return t;
}

/* After a state change, outside cmd_mu: persist (and publish when finished). */
static void after_change(lw_api_t *api, uint64_t id, char *save_text, char *event_text)
{
    if (save_text && api->be.command_save)
        api->be.command_save(api->be.ctx, id, lw_str_c(save_text));
    if (event_text) lw_api_publish(api, "command.result", lw_str_c(event_text));
    free(save_text);
    free(event_text);
}

/* Moves a command to a final state under cmd_mu and returns the texts to persist/publish. */
static void finish_locked(lw_api_t *api, api_cmd_t *c, lw_api_cmd_state_t st, lw_str_t response,
                          lw_str_t code, lw_str_t detail, char **save, char **event)
{
    c->state = st;
    c->done_ms = lw_clock_wall(api->clock);
    free(c->response);
    c->response = response.len ? lw_str_dup(response) : NULL;
    api_copy(c->error_code, sizeof c->error_code,
             code.len < sizeof c->error_code ? code : (lw_str_t){code.p, sizeof c->error_code - 1});
    free(c->error_detail);
    c->error_detail = detail.len ? lw_str_dup(detail) : NULL;
    *save = cmd_json_text(c);
    *event = cmd_event_text(c);
}

/* Hands command id to the station's session. The command must be marked SENT by the
 * caller (under cmd_mu, so nobody else sends it); called without the lock. Returns the
 * send_call code. */
static int send_one(lw_api_t *api, uint64_t id, const char *station, const char *action,
                    const char *payload)
{
    int rc = api->be.send_call ? api->be.send_call(api->be.ctx, lw_str_c(station), lw_str_c(action),
                                                   lw_str_c(payload), id)
                               : LW_ENOTSUP;
    char *save = NULL, *event = NULL;
    pthread_mutex_lock(&api->cmd_mu);
    api_cmd_t *c = cmd_find(api, id);
    if (c && c->state == LW_API_CMD_SENT) {
        if (rc == 0) {
            save = cmd_json_text(c);
        } else if (rc == LW_ECLOSED) {
            c->state = LW_API_CMD_QUEUED; /* offline after all: wait for the connection */
            c->sent_ms = 0;
        } else {
            char detail[96];
            snprintf(detail, sizeof detail, "the session refused the CALL: %s", lw_strerror(rc));
            finish_locked(api, c, LW_API_CMD_FAILED, LW_STR_NULL, LW_STR("SendFailed"),
                          lw_str_c(detail), &save, &event);
        }
    }
    pthread_mutex_unlock(&api->cmd_mu);
    after_change(api, id, save, event);
    return rc;
}

int lw_api_command_done(lw_api_t *api, uint64_t cmd_id, lw_api_cmd_state_t outcome,
                        lw_str_t response, lw_str_t error_code, lw_str_t error_detail)
{
    if (outcome != LW_API_CMD_ANSWERED && outcome != LW_API_CMD_FAILED) return LW_EINVAL;
    char *save = NULL, *event = NULL;
    pthread_mutex_lock(&api->cmd_mu);
    api_cmd_t *c = cmd_find(api, cmd_id);
    if (!c || (c->state != LW_API_CMD_SENT && c->state != LW_API_CMD_QUEUED)) {
        pthread_mutex_unlock(&api->cmd_mu);
        return LW_ENOTFOUND;
    }
    if (outcome == LW_API_CMD_ANSWERED)
        finish_locked(api, c, outcome, response, LW_STR_NULL, LW_STR_NULL, &save, &event);
    else
        finish_locked(api, c, outcome, LW_STR_NULL, error_code.len ? error_code : LW_STR("Failed"),
                      error_detail, &save, &event);
    pthread_mutex_unlock(&api->cmd_mu);
    after_change(api, cmd_id, save, event);
    return 0;
}

void lw_api_station_connected(lw_api_t *api, lw_str_t station)
{
    /* Oldest first; each is marked SENT under the lock, then sent without it. A command that
     * finds the station gone again (LW_ECLOSED) goes back to the queue and ends the flush. */
    for (;;) {
        uint64_t id = 0;
        char st[LW_STATION_ID_MAX + 1], action[LW_ACTION_MAX + 1];
        char *payload = NULL;
        int64_t now = lw_clock_wall(api->clock);
        pthread_mutex_lock(&api->cmd_mu);
        for (api_cmd_t *c = api->cmd_head; c; c = c->next) {
            if (c->state != LW_API_CMD_QUEUED || !lw_str_eq_c(station, c->station)) continue;
            if (c->expires_ms && c->expires_ms <= now) continue; /* lw_api_tick expires it */
            c->state = LW_API_CMD_SENT;
            c->sent_ms = now;
            id = c->id;
            lw_cstr_copy(st, sizeof st, c->station);
            lw_cstr_copy(action, sizeof action, c->action);
            payload = lw_str_dup(lw_str_c(c->payload));
            break;
        }
        pthread_mutex_unlock(&api->cmd_mu);
        if (!id) return;
        int rc = send_one(api, id, st, action, payload ? payload : "{}");
        free(payload);
        if (rc == LW_ECLOSED) return;
    }
}

void lw_api_tick(lw_api_t *api)
{
    int64_t now = lw_clock_wall(api->clock);
    for (;;) {
        char *save = NULL, *event = NULL;
        uint64_t id = 0;
        pthread_mutex_lock(&api->cmd_mu);
        for (api_cmd_t *c = api->cmd_head; c; c = c->next)
            if (c->state == LW_API_CMD_QUEUED && c->expires_ms && c->expires_ms <= now) {
                id = c->id;
                finish_locked(api, c, LW_API_CMD_EXPIRED, LW_STR_NULL, LW_STR("Expired"),
                              LW_STR("the station did not connect before the command's "
                                     "time-to-live ended"),
                              &save, &event);
                break;
            }
        pthread_mutex_unlock(&api->cmd_mu);
        if (!id) break;
        after_change(api, id, save, event);
    }
    /* Retention: drop the oldest finished commands beyond the cap. */
    pthread_mutex_lock(&api->cmd_mu);
    api_cmd_t *c = api->cmd_head;
    while (c && api->cmd_count > LW_API_COMMANDS_MAX) {
        api_cmd_t *n = c->next;
        if (c->state >= LW_API_CMD_ANSWERED) {
            cmd_unlink(api, c);
            cmd_free(c);
        }
        c = n;
    }
    pthread_mutex_unlock(&api->cmd_mu);
}

void lw_api_command_counts(lw_api_t *api, size_t counts[5])
{
    memset(counts, 0, 5 * sizeof counts[0]);
    pthread_mutex_lock(&api->cmd_mu);
    for (api_cmd_t *c = api->cmd_head; c; c = c->next)
        counts[c->state]++;
    pthread_mutex_unlock(&api->cmd_mu);
}

static int64_t time_of(const cJSON *o, const char *key)
{
    const char *s = api_get_str(o, key);
    int64_t ms = 0;
    if (s) lw_time_parse(lw_str_c(s), &ms);
    return ms;
}

int lw_api_command_restore(lw_api_t *api, lw_str_t json)
{
    cJSON *j = cJSON_ParseWithLength(json.p, json.len);
    if (!j) return LW_EPARSE;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    const char *station = api_get_str(j, "station_id"), *action = api_get_str(j, "action");
    const char *status = api_get_str(j, "status");
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(j, "request");
    int st = -1;
    for (int i = 0; status && i < 5; i++)
        if (!strcmp(status, state_names[i])) st = i;
    if (!cJSON_IsNumber(id) || id->valuedouble < 1 || !station || !action || st < 0 || !req ||
        strlen(station) > LW_STATION_ID_MAX || strlen(action) > LW_ACTION_MAX) {
        cJSON_Delete(j);
        return LW_EPARSE;
    }
    api_cmd_t *c = calloc(1, sizeof *c);
    if (!c) {
        cJSON_Delete(j);
        return LW_ENOMEM;
    }
    c->id = (uint64_t)id->valuedouble;
    lw_cstr_copy(c->station, sizeof c->station, station);
    lw_cstr_copy(c->action, sizeof c->action, action);
    const char *via = api_get_str(j, "via");
    if (via) lw_cstr_copy(c->via, sizeof c->via, via);
    c->payload = cJSON_PrintUnformatted(req);
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(j, "response");
    if (resp && !cJSON_IsNull(resp)) c->response = cJSON_PrintUnformatted(resp);
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (cJSON_IsObject(err)) {
        const char *code = api_get_str(err, "code"), *detail = api_get_str(err, "detail");
        if (code) lw_cstr_copy(c->error_code, sizeof c->error_code, code);
        if (detail) c->error_detail = lw_str_dup(lw_str_c(detail));
    }
    const char *idem = api_get_str(j, "idempotency_key");
    if (idem) lw_cstr_copy(c->idem, sizeof c->idem, idem);
    const char *fp = api_get_str(j, "_fingerprint");
    if (fp) c->fingerprint = lw_str_dup(lw_str_c(fp));
    c->created_ms = time_of(j, "created_at");
    c->expires_ms = time_of(j, "expires_at");
    c->sent_ms = time_of(j, "sent_at");
    c->done_ms = time_of(j, "finished_at");
    c->state = (lw_api_cmd_state_t)st;
    cJSON_Delete(j);
    if (!c->payload) {
        cmd_free(c);
        return LW_ENOMEM;
    }
    char *save = NULL;
    pthread_mutex_lock(&api->cmd_mu);
    if (cmd_find(api, c->id)) {
        pthread_mutex_unlock(&api->cmd_mu);
        cmd_free(c);
        return LW_EEXISTS;
    }
    if (c->state == LW_API_CMD_SENT) {
        /* Its answer, if any came, was lost with the process. */
        c->state = LW_API_CMD_FAILED;
        c->done_ms = lw_clock_wall(api->clock);
        snprintf(c->error_code, sizeof c->error_code, "Restarted");
        free(c->error_detail);
        c->error_detail = lw_str_dup(LW_STR("the CSMS restarted while waiting for the answer"));
        save = cmd_json_text(c);
    }
    cmd_append(api, c);
    if (c->id >= api->cmd_next_id) api->cmd_next_id = c->id + 1;
    pthread_mutex_unlock(&api->cmd_mu);
    if (save && api->be.command_save) api->be.command_save(api->be.ctx, c->id, lw_str_c(save));
    free(save);
    return 0;
}

/* ---- submitting ----------------------------------------------------------------------------- */

static int answer_invalid_payload(api_ctx_t *c, const char *action, lw_ocpp_version_t v,
                                  const lw_api_check_err_t *e)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", "invalid_payload");
    char detail[600];
    snprintf(detail, sizeof detail, "%s %s request: %s: %s", lw_ocpp_version_name(v), action,
             e->path[0] ? e->path : "(payload)", e->detail);
    cJSON_AddStringToObject(o, "detail", detail);
    cJSON_AddStringToObject(o, "path", e->path);
    return api_json(c, 400, o);
}

/* Reserves a command id (used by shortcuts that need an id inside the payload: 2.x
 * remoteStartId, requestId). */
static uint64_t reserve_id(lw_api_t *api)
{
    pthread_mutex_lock(&api->cmd_mu);
    uint64_t id = api->cmd_next_id++;
    pthread_mutex_unlock(&api->cmd_mu);
    return id;
}

/* Validates, records and (when the station is online) sends one command; answers 202.
 * payload is the OCPP request JSON text. id 0 = take the next id. */
static int submit(api_ctx_t *c, const lw_api_station_t *st, lw_ocpp_version_t v, const char *action,
                  const char *payload, const char *via, uint64_t id, const char *fingerprint)
{
    lw_api_t *api = c->api;
    if (!api->be.action_check)
        return api_backend_error(c, LW_ENOTSUP, "payload validation (codec)");
    lw_api_check_err_t e = {{0}, {0}};
    int rc = api->be.action_check(api->be.ctx, v, lw_str_c(action), lw_str_c(payload), &e);
    if (rc == LW_ENOTFOUND)
        return api_error(c, 404, "unknown_action", "%s is not an action the CSMS sends in OCPP %s",
                         action, lw_ocpp_version_name(v));
    if (rc == LW_ESCHEMA) return answer_invalid_payload(c, action, v, &e);
    if (rc != 0) return api_backend_error(c, rc, "payload validation");

    /* Idempotency-Key and ?ttl= */
    lw_str_t key = api_header(c->req, "Idempotency-Key");
    if (key.p && (key.len == 0 || key.len > LW_API_IDEMPOTENCY_KEY_MAX))
        return api_error(c, 400, "invalid_header", "Idempotency-Key must be 1 to %d characters",
                         LW_API_IDEMPOTENCY_KEY_MAX);
    for (size_t i = 0; key.p && i < key.len; i++)
        if ((unsigned char)key.p[i] < 0x20 || (unsigned char)key.p[i] > 0x7e)
            return api_error(c, 400, "invalid_header", "Idempotency-Key must be printable ASCII");
    char ttlb[32];
    int64_t ttl_s = 0;
    if (api_query(c, "ttl", ttlb, sizeof ttlb) != 0 &&
        (!api_parse_i64(ttlb, &ttl_s) || ttl_s < 1 || ttl_s > LW_API_COMMAND_TTL_MS_MAX / 1000))
        return api_error(c, 400, "invalid_query", "ttl must be seconds from 1 to %lld",
                         (long long)(LW_API_COMMAND_TTL_MS_MAX / 1000));

    api_cmd_t *cmd = calloc(1, sizeof *cmd);
    if (!cmd) return LW_ENOMEM;
    cmd->payload = lw_str_dup(lw_str_c(payload));
    cmd->fingerprint = lw_str_dup(lw_str_c(fingerprint));
    if (!cmd->payload || !cmd->fingerprint) {
        free(cmd->fingerprint);
        free(cmd->payload);
        free(cmd);
        return LW_ENOMEM;
    }
    lw_cstr_copy(cmd->station, sizeof cmd->station, st->id);
    lw_cstr_copy(cmd->action, sizeof cmd->action, action);
    lw_cstr_copy(cmd->via, sizeof cmd->via, via ? via : "");
    if (key.p) api_copy(cmd->idem, sizeof cmd->idem, key);
    int64_t now = lw_clock_wall(api->clock);
    cmd->created_ms = now;

    bool replay = false, conflict = false;
    cJSON *answer = NULL;
    char *save = NULL;
    pthread_mutex_lock(&api->cmd_mu);
    api_cmd_t *prev = key.p ? cmd_find_idem(api, cmd->idem) : NULL;
    if (prev) {
        /* Same key: the same request gets the same command; another request is a client bug. */
        if (!strcmp(prev->station, cmd->station) && prev->fingerprint &&
            !strcmp(prev->fingerprint, cmd->fingerprint))
            replay = true, answer = cmd_json(prev);
        else
            conflict = true;
        api->cmd_idem_hits++;
    } else {
        cmd->id = id ? id : api->cmd_next_id++;
        cmd->expires_ms = now + (ttl_s ? ttl_s * 1000 : api->cmd_ttl_ms);
        cmd->state = st->online ? LW_API_CMD_SENT : LW_API_CMD_QUEUED;
        if (st->online) cmd->sent_ms = now;
        cmd_append(api, cmd);
        api->cmd_created++;
        save = cmd_json_text(cmd);
    }
    pthread_mutex_unlock(&api->cmd_mu);

    if (conflict) {
        rc = api_error(c, 409, "idempotency_conflict",
                       "Idempotency-Key '%s' was used for a different request", cmd->idem);
        cmd_free(cmd);
        return rc;
    }
    if (replay) {
        cmd_free(cmd);
        rc = api_json(c, 202, answer);
        if (rc == 0) rc = lw_buf_append_c(&c->res->headers, "Idempotent-Replayed: true\r\n");
        return rc;
    }
    uint64_t cid = cmd->id;
    bool online = st->online;
    after_change(api, cid, save, NULL); /* persisted before anything is sent */
    if (online) send_one(api, cid, st->id, action, payload);
    /* cmd may have finished (or even been dropped) meanwhile: answer from the table. */
    pthread_mutex_lock(&api->cmd_mu);
    api_cmd_t *now_c = cmd_find(api, cid);
    answer = now_c ? cmd_json(now_c) : NULL;
    pthread_mutex_unlock(&api->cmd_mu);
    if (!answer)
        return api_error(c, 500, "internal", "command %llu vanished", (unsigned long long)cid);
    return api_json(c, 202, answer);
}

/* Loads the station and its OCPP version. Returns 0 or answered (nonzero). */
static int station_version(api_ctx_t *c, lw_api_station_t *st, lw_ocpp_version_t *v)
{
    if (!c->api->be.station_get) return api_backend_error(c, LW_ENOTSUP, "station"), 1;
    int rc = c->api->be.station_get(c->api->be.ctx, c->params[0], st);
    if (rc != 0) return api_backend_error(c, rc, "station"), 1;
    if (!st->ocpp_version[0] || lw_ocpp_version_parse(lw_str_c(st->ocpp_version), v) != 0)
        return api_error(c, 409, "version_unknown",
                         "station '%s' has never connected, so its OCPP version is unknown and "
                         "its commands cannot be validated yet",
                         st->id),
               1;
    return 0;
}

int api_h_command_post(api_ctx_t *c)
{
    lw_api_station_t st;
    lw_ocpp_version_t v;
    lw_str_t action = c->params[1];
    bool ok = action.len > 0 && action.len <= LW_ACTION_MAX;
    for (size_t i = 0; ok && i < action.len; i++)
        if (!isalnum((unsigned char)action.p[i])) ok = false;
    if (!ok)
        return api_error(c, 400, "invalid_path",
                         "the action is an OCPP action name such as Reset or GetVariables");
    if (station_version(c, &st, &v) != 0) return 0;
    cJSON *body = NULL;
    char *payload;
    if (api_body_empty(c)) {
        payload = lw_str_dup(LW_STR("{}"));
    } else {
        body = api_body_object(c);
        if (!body) return 0;
        payload = cJSON_PrintUnformatted(body); /* canonical text: replays compare equal */
        cJSON_Delete(body);
    }
    char act[LW_ACTION_MAX + 1];
    api_copy(act, sizeof act, action);
    char fp[LW_ACTION_MAX + 16];
    snprintf(fp, sizeof fp, "commands/%s:", act);
    lw_buf_t fpb;
    lw_buf_init(&fpb, LW_API_BODY_MAX);
    int rc = payload ? lw_buf_append_c(&fpb, fp) : LW_ENOMEM;
    if (rc == 0) rc = lw_buf_append_c(&fpb, payload);
    if (rc == 0) rc = lw_buf_cstr(&fpb);
    if (rc == 0) rc = submit(c, &st, v, act, payload, NULL, 0, fpb.data);
    lw_buf_free(&fpb);
    free(payload);
    return rc;
}

int api_h_command_get(api_ctx_t *c)
{
    char idb[32];
    int64_t id;
    if (!api_copy(idb, sizeof idb, c->params[0]) || !api_parse_i64(idb, &id) || id <= 0)
        return api_error(c, 400, "invalid_path", "a command id is a positive integer");
    pthread_mutex_lock(&c->api->cmd_mu);
    api_cmd_t *cmd = cmd_find(c->api, (uint64_t)id);
    cJSON *j = cmd ? cmd_json(cmd) : NULL;
    pthread_mutex_unlock(&c->api->cmd_mu);
    if (!j) return api_error(c, 404, "not_found", "command %lld not found", (long long)id);
    return api_json(c, 200, j);
}

int api_h_station_commands(api_ctx_t *c)
{
    size_t limit;
    if (api_query_limit(c, &limit) != 0) return 0;
    cJSON *out = cJSON_CreateObject();
    cJSON *items = cJSON_AddArrayToObject(out, "items");
    size_t n = 0;
    pthread_mutex_lock(&c->api->cmd_mu);
    for (api_cmd_t *cmd = c->api->cmd_tail; cmd && n < limit; cmd = cmd->prev)
        if (lw_str_eq_c(c->params[0], cmd->station)) {
            cJSON_AddItemToArray(items, cmd_json(cmd));
            n++;
        }
    pthread_mutex_unlock(&c->api->cmd_mu);
    return api_json(c, 200, out);
}

/* ---- shortcuts ------------------------------------------------------------------------------
 * Each builds the OCPP request of the station's version from a small, version-neutral body,
 * then goes through submit() like any command (so the codec checks the result too). */

typedef struct sc_ctx {
    api_ctx_t *c;
    const cJSON *body;
    lw_ocpp_version_t v;
    bool v16;
    uint64_t id; /* reserved command id, for requestId / remoteStartId / reservation id */
    const char *action;
    cJSON *out;           /* the payload being built */
    char upload_url[512]; /* an upload slot opened for this command ("" = none) */
} sc_ctx_t;

/* Field readers: absent is fine unless required; a wrong type answers 400 naming the API
 * field. Return 1 present, 0 absent, -1 answered. */
static int f_int(sc_ctx_t *s, const char *key, bool required, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(s->body, key);
    if (!v || cJSON_IsNull(v)) {
        if (!required) return 0;
        api_error(s->c, 400, "missing_field", "'%s' is required", key);
        return -1;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int64_t)v->valuedouble) {
        api_error(s->c, 400, "invalid_field", "'%s' must be an integer", key);
        return -1;
    }
    *out = (int64_t)v->valuedouble;
    return 1;
}

static int f_str(sc_ctx_t *s, const char *key, bool required, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(s->body, key);
    if (!v || cJSON_IsNull(v)) {
        if (!required) return 0;
        api_error(s->c, 400, "missing_field", "'%s' is required", key);
        return -1;
    }
    if (!cJSON_IsString(v)) {
        api_error(s->c, 400, "invalid_field", "'%s' must be a string", key);
        return -1;
    }
    *out = v->valuestring;
    return 1;
}

static int f_obj(sc_ctx_t *s, const char *key, bool required, const cJSON **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(s->body, key);
    if (!v || cJSON_IsNull(v)) {
        if (!required) return 0;
        api_error(s->c, 400, "missing_field", "'%s' is required", key);
        return -1;
    }
    if (!cJSON_IsObject(v)) {
        api_error(s->c, 400, "invalid_field", "'%s' must be an object", key);
        return -1;
    }
    *out = v;
    return 1;
}

/* Unknown body members answer 400 (see api_only_keys); -1 then, as every sc_* step. */
static int only(sc_ctx_t *s, const char *const *allowed)
{
    return api_only_keys(s->c, s->body, allowed) ? -1 : 0;
}

#define ONLY(...)                                                                                  \
    do {                                                                                           \
        static const char *const k_[] = {__VA_ARGS__, NULL};                                       \
        if (only(s, k_) != 0) return -1;                                                           \
    } while (0)

static void now_rfc3339(sc_ctx_t *s, char *out, size_t outsz)
{
    lw_time_format(lw_clock_wall(s->c->api->clock), out, outsz);
}

/* 2.x IdTokenType for a token text: the registered type if the token is known, else
 * "Central" (a token the CSMS made up, OCPP 2.0.1 IdTokenEnumType). */
static cJSON *id_token_2x(sc_ctx_t *s, const char *tok, const char *type)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "idToken", tok);
    lw_api_id_token_t rec;
    if (!type && s->c->api->be.id_token_get &&
        s->c->api->be.id_token_get(s->c->api->be.ctx, lw_str_c(tok), &rec) == 0 && rec.type[0])
        type = rec.type;
    cJSON_AddStringToObject(o, "type", type ? type : "Central");
    return o;
}

static int sc_remote_start(sc_ctx_t *s)
{
    ONLY("id_token", "id_token_type", "connector_id", "evse_id", "charging_profile");
    const char *tok, *type = NULL;
    int64_t conn = 0, evse = 0;
    const cJSON *prof = NULL;
    if (f_str(s, "id_token", true, &tok) < 0 || f_str(s, "id_token_type", false, &type) < 0)
        return -1;
    int hc = f_int(s, "connector_id", false, &conn), he = f_int(s, "evse_id", false, &evse);
    if (hc < 0 || he < 0 || f_obj(s, "charging_profile", false, &prof) < 0) return -1;
    if (s->v16) {
        s->action = "RemoteStartTransaction";
        cJSON_AddStringToObject(s->out, "idTag", tok);
        if (hc) cJSON_AddNumberToObject(s->out, "connectorId", (double)conn);
        if (prof) cJSON_AddItemToObject(s->out, "chargingProfile", cJSON_Duplicate(prof, 1));
    } else {
        s->action = "RequestStartTransaction";
        cJSON_AddItemToObject(s->out, "idToken", id_token_2x(s, tok, type));
        cJSON_AddNumberToObject(s->out, "remoteStartId", (double)s->id);
        if (he || hc) cJSON_AddNumberToObject(s->out, "evseId", (double)(he ? evse : conn));
        if (prof) cJSON_AddItemToObject(s->out, "chargingProfile", cJSON_Duplicate(prof, 1));
    }
    return 0;
}

static int sc_remote_stop(sc_ctx_t *s)
{
    ONLY("transaction_id");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(s->body, "transaction_id");
    if (!t || (!cJSON_IsNumber(t) && !cJSON_IsString(t)))
        return api_error(s->c, 400, "missing_field",
                         "'transaction_id' is required: the transaction's id in this API (a "
                         "number), or a 2.x transactionId string"),
               -1;
    if (s->v16) {
        s->action = "RemoteStopTransaction";
        if (!cJSON_IsNumber(t))
            return api_error(s->c, 400, "invalid_field",
                             "'transaction_id' must be a number for OCPP 1.6"),
                   -1;
        cJSON_AddNumberToObject(s->out, "transactionId", t->valuedouble);
        return 0;
    }
    s->action = "RequestStopTransaction";
    if (cJSON_IsString(t)) {
        cJSON_AddStringToObject(s->out, "transactionId", t->valuestring);
        return 0;
    }
    /* The API's transaction id: the station knows its own transactionId string. */
    lw_api_tx_t tx;
    lw_api_t *api = s->c->api;
    int rc =
        api->be.tx_get ? api->be.tx_get(api->be.ctx, (int64_t)t->valuedouble, &tx) : LW_ENOTSUP;
    if (rc != 0) return api_backend_error(s->c, rc, "transaction"), -1;
    if (!lw_str_eq_c(s->c->params[0], tx.station_id))
        return api_error(s->c, 400, "invalid_field", "transaction %lld belongs to station '%s'",
                         (long long)t->valuedouble, tx.station_id),
               -1;
    if (!tx.tx_uid[0])
        return api_error(s->c, 400, "invalid_field",
                         "transaction %lld has no OCPP 2.x transactionId",
                         (long long)t->valuedouble),
               -1;
    cJSON_AddStringToObject(s->out, "transactionId", tx.tx_uid);
    return 0;
}

static int sc_reset(sc_ctx_t *s)
{
    ONLY("type", "evse_id");
    const char *type = "soft";
    int64_t evse = 0;
    int he;
    if (f_str(s, "type", false, &type) < 0 || (he = f_int(s, "evse_id", false, &evse)) < 0)
        return -1;
    s->action = "Reset";
    /* Friendly names map to each version's words; OCPP's own words pass through. */
    const char *t = type;
    if (!strcasecmp(type, "hard")) t = s->v16 ? "Hard" : "Immediate";
    if (!strcasecmp(type, "soft")) t = s->v16 ? "Soft" : "OnIdle";
    cJSON_AddStringToObject(s->out, "type", t);
    if (!s->v16 && he) cJSON_AddNumberToObject(s->out, "evseId", (double)evse);
    return 0;
}

static int sc_unlock(sc_ctx_t *s)
{
    ONLY("connector_id", "evse_id");
    int64_t conn = 1, evse = 1;
    int he;
    if (f_int(s, "connector_id", true, &conn) < 0 || (he = f_int(s, "evse_id", false, &evse)) < 0)
        return -1;
    s->action = "UnlockConnector";
    if (!s->v16) cJSON_AddNumberToObject(s->out, "evseId", (double)(he ? evse : conn));
    cJSON_AddNumberToObject(s->out, "connectorId", (double)(s->v16 || he ? conn : 1));
    return 0;
}

static int sc_availability(sc_ctx_t *s)
{
    ONLY("operative", "connector_id", "evse_id");
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(s->body, "operative");
    if (!cJSON_IsBool(op))
        return api_error(s->c, 400, "missing_field", "'operative' (true or false) is required"), -1;
    int64_t conn = 0, evse = 0;
    int hc = f_int(s, "connector_id", false, &conn), he = f_int(s, "evse_id", false, &evse);
    if (hc < 0 || he < 0) return -1;
    const char *word = cJSON_IsTrue(op) ? "Operative" : "Inoperative";
    s->action = "ChangeAvailability";
    if (s->v16) {
        cJSON_AddNumberToObject(s->out, "connectorId", (double)conn);
        cJSON_AddStringToObject(s->out, "type", word);
    } else {
        cJSON_AddStringToObject(s->out, "operationalStatus", word);
        if (he) {
            cJSON *e = cJSON_AddObjectToObject(s->out, "evse");
            cJSON_AddNumberToObject(e, "id", (double)evse);
            if (hc) cJSON_AddNumberToObject(e, "connectorId", (double)conn);
        }
    }
    return 0;
}

/* "Component.Variable" (2.x) into {component:{name}, variable:{name}}. */
static cJSON *comp_var(sc_ctx_t *s, const char *key)
{
    const char *dot = strchr(key, '.');
    if (!dot || dot == key || !dot[1]) {
        api_error(
            s->c, 400, "invalid_field",
            "OCPP 2.x keys are 'Component.Variable' (e.g. 'OCPPCommCtrlr.HeartbeatInterval'), "
            "got '%s'",
            key);
        return NULL;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *comp = cJSON_AddObjectToObject(o, "component");
    char name[128];
    snprintf(name, sizeof name, "%.*s", (int)(dot - key), key);
    cJSON_AddStringToObject(comp, "name", name);
    cJSON *var = cJSON_AddObjectToObject(o, "variable");
    cJSON_AddStringToObject(var, "name", dot + 1);
    return o;
}

static int sc_config_get(sc_ctx_t *s)
{
    ONLY("keys");
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(s->body, "keys");
    if (keys && !cJSON_IsArray(keys))
        return api_error(s->c, 400, "invalid_field", "'keys' must be an array of strings"), -1;
    const cJSON *k;
    cJSON_ArrayForEach(k, keys) if (!cJSON_IsString(k)) return api_error(
        s->c, 400, "invalid_field", "'keys' must be an array of strings"),
        -1;
    if (s->v16) {
        s->action = "GetConfiguration";
        if (keys && cJSON_GetArraySize(keys) > 0)
            cJSON_AddItemToObject(s->out, "key", cJSON_Duplicate(keys, 1));
        return 0;
    }
    if (!keys || cJSON_GetArraySize(keys) == 0) {
        /* The whole device model: a full base report (answered by NotifyReport messages). */
        s->action = "GetBaseReport";
        cJSON_AddNumberToObject(s->out, "requestId", (double)s->id);
        cJSON_AddStringToObject(s->out, "reportBase", "FullInventory");
        return 0;
    }
    s->action = "GetVariables";
    cJSON *arr = cJSON_AddArrayToObject(s->out, "getVariableData");
    cJSON_ArrayForEach(k, keys)
    {
        cJSON *cv = comp_var(s, k->valuestring);
        if (!cv) return -1;
        cJSON_AddItemToArray(arr, cv);
    }
    return 0;
}

static int sc_config_set(sc_ctx_t *s)
{
    ONLY("key", "value");
    const char *key, *value;
    if (f_str(s, "key", true, &key) < 0 || f_str(s, "value", true, &value) < 0) return -1;
    if (s->v16) {
        s->action = "ChangeConfiguration";
        cJSON_AddStringToObject(s->out, "key", key);
        cJSON_AddStringToObject(s->out, "value", value);
        return 0;
    }
    s->action = "SetVariables";
    cJSON *arr = cJSON_AddArrayToObject(s->out, "setVariableData");
    cJSON *cv = comp_var(s, key);
    if (!cv) return -1;
    cJSON_AddStringToObject(cv, "attributeValue", value);
    cJSON_AddItemToArray(arr, cv);
    return 0;
}

static int sc_trigger(sc_ctx_t *s)
{
    ONLY("message", "connector_id", "evse_id");
    const char *msg;
    int64_t conn = 0, evse = 0;
    if (f_str(s, "message", true, &msg) < 0) return -1;
    int hc = f_int(s, "connector_id", false, &conn), he = f_int(s, "evse_id", false, &evse);
    if (hc < 0 || he < 0) return -1;
    s->action = "TriggerMessage";
    cJSON_AddStringToObject(s->out, "requestedMessage", msg);
    if (s->v16) {
        if (hc) cJSON_AddNumberToObject(s->out, "connectorId", (double)conn);
    } else if (he) {
        cJSON *e = cJSON_AddObjectToObject(s->out, "evse");
        cJSON_AddNumberToObject(e, "id", (double)evse);
        if (hc) cJSON_AddNumberToObject(e, "connectorId", (double)conn);
    }
    return 0;
}

static int sc_firmware(sc_ctx_t *s)
{
    ONLY("location", "firmware_id", "retrieve_at", "retries", "retry_interval",
         "signing_certificate", "signature");
    const char *loc = NULL, *fwid = NULL, *at = NULL, *cert = NULL, *sig = NULL;
    int64_t retries = 0, interval = 0;
    int hr, hi, hl;
    if ((hl = f_str(s, "location", false, &loc)) < 0 || f_str(s, "firmware_id", false, &fwid) < 0 ||
        f_str(s, "retrieve_at", false, &at) < 0 ||
        f_str(s, "signing_certificate", false, &cert) < 0 ||
        f_str(s, "signature", false, &sig) < 0 || (hr = f_int(s, "retries", false, &retries)) < 0 ||
        (hi = f_int(s, "retry_interval", false, &interval)) < 0)
        return -1;
    /* firmware_id: an image uploaded with POST /api/v1/firmware, served to the station. */
    char url[1024];
    if (!hl && !fwid) {
        api_error(s->c, 400, "missing_field", "'location' or 'firmware_id' is required");
        return -1;
    }
    if (hl && fwid) {
        api_error(s->c, 400, "invalid_field", "give 'location' or 'firmware_id', not both");
        return -1;
    }
    if (fwid) {
        int rc = lw_api_firmware_url(s->c->api, lw_str_c(fwid), url, sizeof url);
        if (rc == LW_ENOTSUP) {
            api_error(s->c, 501, "not_implemented", "file storage is not configured (files-dir)");
            return -1;
        }
        if (rc != 0) {
            api_error(s->c, 400, "invalid_field", "'firmware_id' names no uploaded image");
            return -1;
        }
        loc = url;
    }
    char now[40];
    now_rfc3339(s, now, sizeof now);
    if (!at) at = now;
    if (s->v16 && !cert && !sig) {
        s->action = "UpdateFirmware";
        cJSON_AddStringToObject(s->out, "location", loc);
        cJSON_AddStringToObject(s->out, "retrieveDate", at);
    } else {
        /* 2.x UpdateFirmware, or the 1.6 security extension's SignedUpdateFirmware. */
        s->action = s->v16 ? "SignedUpdateFirmware" : "UpdateFirmware";
        cJSON_AddNumberToObject(s->out, "requestId", (double)s->id);
        cJSON *fw = cJSON_AddObjectToObject(s->out, "firmware");
        cJSON_AddStringToObject(fw, "location", loc);
        cJSON_AddStringToObject(fw, "retrieveDateTime", at);
        if (cert) cJSON_AddStringToObject(fw, "signingCertificate", cert);
        if (sig) cJSON_AddStringToObject(fw, "signature", sig);
    }
    if (hr) cJSON_AddNumberToObject(s->out, "retries", (double)retries);
    if (hi) cJSON_AddNumberToObject(s->out, "retryInterval", (double)interval);
    return 0;
}

static int sc_diagnostics(sc_ctx_t *s)
{
    ONLY("location", "log_type", "from", "to");
    const char *loc = NULL, *type = NULL, *from = NULL, *to = NULL;
    int hl;
    if ((hl = f_str(s, "location", false, &loc)) < 0 || f_str(s, "log_type", false, &type) < 0 ||
        f_str(s, "from", false, &from) < 0 || f_str(s, "to", false, &to) < 0)
        return -1;
    if (!hl) {
        /* No location: the station uploads to us, at a URL made for this command. */
        int rc = lw_api_upload_open(s->c->api, s->c->params[0], s->id,
                                    s->v16 && !type ? "diagnostics" : "log", s->upload_url,
                                    sizeof s->upload_url);
        if (rc == LW_ENOTSUP) {
            api_error(s->c, 400, "missing_field",
                      "'location' is required: file storage is not configured (files-dir)");
            return -1;
        }
        if (rc != 0) {
            api_error(s->c, 500, "io_error", "could not open an upload location: %s",
                      lw_strerror(rc));
            return -1;
        }
        loc = s->upload_url;
    }
    if (s->v16 && !type) {
        s->action = "GetDiagnostics";
        cJSON_AddStringToObject(s->out, "location", loc);
        if (from) cJSON_AddStringToObject(s->out, "startTime", from);
        if (to) cJSON_AddStringToObject(s->out, "stopTime", to);
        return 0;
    }
    /* 2.x GetLog, or 1.6 security extension GetLog (log_type given). */
    s->action = "GetLog";
    cJSON_AddStringToObject(s->out, "logType", type ? type : "DiagnosticsLog");
    cJSON_AddNumberToObject(s->out, "requestId", (double)s->id);
    cJSON *log = cJSON_AddObjectToObject(s->out, "log");
    cJSON_AddStringToObject(log, "remoteLocation", loc);
    if (from) cJSON_AddStringToObject(log, "oldestTimestamp", from);
    if (to) cJSON_AddStringToObject(log, "latestTimestamp", to);
    return 0;
}

typedef struct {
    sc_ctx_t *s;
    cJSON *arr;
} ll_ctx_t;

static void local_entry(sc_ctx_t *s, cJSON *arr, const char *tok, const char *type,
                        const char *status, const char *expiry, const char *group)
{
    cJSON *e = cJSON_CreateObject();
    if (s->v16) {
        cJSON_AddStringToObject(e, "idTag", tok);
        if (status) {
            cJSON *info = cJSON_AddObjectToObject(e, "idTagInfo");
            cJSON_AddStringToObject(info, "status", status);
            if (expiry) cJSON_AddStringToObject(info, "expiryDate", expiry);
            if (group) cJSON_AddStringToObject(info, "parentIdTag", group);
        }
    } else {
        cJSON *it = cJSON_AddObjectToObject(e, "idToken");
        cJSON_AddStringToObject(it, "idToken", tok);
        cJSON_AddStringToObject(it, "type", type && *type ? type : "ISO14443");
        if (status) {
            cJSON *info = cJSON_AddObjectToObject(e, "idTokenInfo");
            cJSON_AddStringToObject(info, "status", status);
            if (expiry) cJSON_AddStringToObject(info, "cacheExpiryDateTime", expiry);
            if (group) {
                cJSON *g = cJSON_AddObjectToObject(info, "groupIdToken");
                cJSON_AddStringToObject(g, "idToken", group);
                cJSON_AddStringToObject(g, "type", "Central");
            }
        }
    }
    cJSON_AddItemToArray(arr, e);
}

static int ll_each(void *ud, const lw_api_id_token_t *t)
{
    ll_ctx_t *l = ud;
    char exp[40];
    if (t->expiry_ms) lw_time_format(t->expiry_ms, exp, sizeof exp);
    local_entry(l->s, l->arr, t->id_token, t->type, t->status, t->expiry_ms ? exp : NULL,
                t->group_id[0] ? t->group_id : NULL);
    return 0;
}

static int sc_local_list(sc_ctx_t *s)
{
    ONLY("version", "update_type", "tokens");
    int64_t version;
    const char *type = "Full";
    if (f_int(s, "version", true, &version) < 0 || f_str(s, "update_type", false, &type) < 0)
        return -1;
    const cJSON *toks = cJSON_GetObjectItemCaseSensitive(s->body, "tokens");
    if (toks && !cJSON_IsArray(toks))
        return api_error(s->c, 400, "invalid_field", "'tokens' must be an array"), -1;
    s->action = "SendLocalList";
    cJSON_AddNumberToObject(s->out, s->v16 ? "listVersion" : "versionNumber", (double)version);
    cJSON_AddStringToObject(s->out, "updateType", type);
    cJSON *arr = cJSON_AddArrayToObject(s->out, "localAuthorizationList");
    if (!toks) {
        /* No list given: a Full update from the id tokens Ladewerk knows (first page). */
        if (strcmp(type, "Full") != 0)
            return api_error(s->c, 400, "missing_field",
                             "'tokens' is required for a Differential update"),
                   -1;
        ll_ctx_t l = {s, arr};
        lw_api_t *api = s->c->api;
        if (api->be.id_token_list)
            api->be.id_token_list(api->be.ctx, LW_STR(""), LW_API_PAGE_MAX, ll_each, &l);
        return 0;
    }
    int i = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, toks)
    {
        const char *tok = api_get_str(t, "id_token");
        if (!cJSON_IsObject(t) || !tok)
            return api_error(s->c, 400, "invalid_field",
                             "tokens[%d] must be an object with an 'id_token' string", i),
                   -1;
        local_entry(s, arr, tok, api_get_str(t, "type"), api_get_str(t, "status"),
                    api_get_str(t, "expiry"), api_get_str(t, "group_id"));
        i++;
    }
    return 0;
}

static int sc_reserve(sc_ctx_t *s)
{
    ONLY("id_token", "id_token_type", "expires_at", "connector_id", "evse_id", "reservation_id",
         "group_id");
    const char *tok, *type = NULL, *exp, *group = NULL;
    int64_t conn = 0, evse = 0, rid = (int64_t)s->id;
    if (f_str(s, "id_token", true, &tok) < 0 || f_str(s, "id_token_type", false, &type) < 0 ||
        f_str(s, "expires_at", true, &exp) < 0 || f_str(s, "group_id", false, &group) < 0)
        return -1;
    int hc = f_int(s, "connector_id", false, &conn), he = f_int(s, "evse_id", false, &evse);
    if (hc < 0 || he < 0 || f_int(s, "reservation_id", false, &rid) < 0) return -1;
    s->action = "ReserveNow";
    if (s->v16) {
        cJSON_AddNumberToObject(s->out, "connectorId", (double)conn);
        cJSON_AddStringToObject(s->out, "expiryDate", exp);
        cJSON_AddStringToObject(s->out, "idTag", tok);
        if (group) cJSON_AddStringToObject(s->out, "parentIdTag", group);
        cJSON_AddNumberToObject(s->out, "reservationId", (double)rid);
    } else {
        cJSON_AddNumberToObject(s->out, "id", (double)rid);
        cJSON_AddStringToObject(s->out, "expiryDateTime", exp);
        cJSON_AddItemToObject(s->out, "idToken", id_token_2x(s, tok, type));
        if (he || hc) cJSON_AddNumberToObject(s->out, "evseId", (double)(he ? evse : conn));
        if (group) {
            cJSON *g = cJSON_AddObjectToObject(s->out, "groupIdToken");
            cJSON_AddStringToObject(g, "idToken", group);
            cJSON_AddStringToObject(g, "type", "Central");
        }
    }
    return 0;
}

static int sc_cancel_reservation(sc_ctx_t *s)
{
    ONLY("reservation_id");
    int64_t rid;
    if (f_int(s, "reservation_id", true, &rid) < 0) return -1;
    s->action = "CancelReservation";
    cJSON_AddNumberToObject(s->out, "reservationId", (double)rid);
    return 0;
}

static int sc_charging_profile(sc_ctx_t *s)
{
    ONLY("connector_id", "evse_id", "profile");
    int64_t conn = 0, evse = 0;
    const cJSON *prof;
    int hc = f_int(s, "connector_id", false, &conn), he = f_int(s, "evse_id", false, &evse);
    if (hc < 0 || he < 0 || f_obj(s, "profile", true, &prof) < 0) return -1;
    s->action = "SetChargingProfile";
    if (s->v16) {
        cJSON_AddNumberToObject(s->out, "connectorId", (double)conn);
        cJSON_AddItemToObject(s->out, "csChargingProfiles", cJSON_Duplicate(prof, 1));
    } else {
        cJSON_AddNumberToObject(s->out, "evseId", (double)(he ? evse : conn));
        cJSON_AddItemToObject(s->out, "chargingProfile", cJSON_Duplicate(prof, 1));
    }
    return 0;
}

static int sc_clear_charging_profile(sc_ctx_t *s)
{
    ONLY("id", "connector_id", "evse_id", "purpose", "stack_level");
    int64_t id = 0, conn = 0, evse = 0, level = 0;
    const char *purpose = NULL;
    int hid = f_int(s, "id", false, &id), hc = f_int(s, "connector_id", false, &conn),
        he = f_int(s, "evse_id", false, &evse), hl = f_int(s, "stack_level", false, &level);
    if (hid < 0 || hc < 0 || he < 0 || hl < 0 || f_str(s, "purpose", false, &purpose) < 0)
        return -1;
    s->action = "ClearChargingProfile";
    if (s->v16) {
        if (hid) cJSON_AddNumberToObject(s->out, "id", (double)id);
        if (hc) cJSON_AddNumberToObject(s->out, "connectorId", (double)conn);
        if (purpose) cJSON_AddStringToObject(s->out, "chargingProfilePurpose", purpose);
        if (hl) cJSON_AddNumberToObject(s->out, "stackLevel", (double)level);
        return 0;
    }
    if (hid) cJSON_AddNumberToObject(s->out, "chargingProfileId", (double)id);
    if (he || hc || purpose || hl) {
        cJSON *cr = cJSON_AddObjectToObject(s->out, "chargingProfileCriteria");
        if (he || hc) cJSON_AddNumberToObject(cr, "evseId", (double)(he ? evse : conn));
        if (purpose) cJSON_AddStringToObject(cr, "chargingProfilePurpose", purpose);
        if (hl) cJSON_AddNumberToObject(cr, "stackLevel", (double)level);
    }
    return 0;
}

static int sc_clear_cache(sc_ctx_t *s)
{
    if (s->body->child) return only(s, (const char *const[]){NULL});
    s->action = "ClearCache";
    return 0;
}

static const struct {
    const char *name;
    int (*build)(sc_ctx_t *s);
} shortcuts[] = {
    {"remote-start", sc_remote_start},
    {"remote-stop", sc_remote_stop},
    {"reset", sc_reset},
    {"unlock", sc_unlock},
    {"availability", sc_availability},
    {"config/get", sc_config_get},
    {"config/set", sc_config_set},
    {"trigger", sc_trigger},
    {"firmware", sc_firmware},
    {"diagnostics", sc_diagnostics},
    {"local-list", sc_local_list},
    {"reserve", sc_reserve},
    {"cancel-reservation", sc_cancel_reservation},
    {"charging-profile", sc_charging_profile},
    {"clear-charging-profile", sc_clear_charging_profile},
    {"clear-cache", sc_clear_cache},
};

/* Did this request create command id (not refused, not an idempotent replay)? */
static bool command_created(api_ctx_t *c, uint64_t id)
{
    if (c->res->status != 202 || !c->res->body.data) return false;
    cJSON *j = cJSON_ParseWithLength(c->res->body.data, c->res->body.len);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "id");
    bool same = cJSON_IsNumber(v) && (uint64_t)v->valuedouble == id;
    cJSON_Delete(j);
    return same;
}

int api_h_shortcut(api_ctx_t *c)
{
    /* The route is /api/v1/stations/{id}/<shortcut>: the part after the station id. */
    const char *prefix = "/api/v1/stations/";
    lw_str_t rest = {c->path.p + strlen(prefix), c->path.len - strlen(prefix)};
    const char *slash = memchr(rest.p, '/', rest.len);
    lw_str_t name =
        slash ? (lw_str_t){slash + 1, rest.len - (size_t)(slash + 1 - rest.p)} : LW_STR("");
    int (*build)(sc_ctx_t *) = NULL;
    const char *sc_name = NULL;
    for (size_t i = 0; i < sizeof shortcuts / sizeof shortcuts[0]; i++)
        if (lw_str_eq_c(name, shortcuts[i].name))
            build = shortcuts[i].build, sc_name = shortcuts[i].name;
    if (!build) return api_error(c, 404, "not_found", "no such shortcut");

    lw_api_station_t st;
    lw_ocpp_version_t v;
    if (station_version(c, &st, &v) != 0) return 0;
    cJSON *body = api_body_empty(c) ? cJSON_CreateObject() : api_body_object(c);
    if (!body) return 0;
    sc_ctx_t s = {
        .c = c, .body = body, .v = v, .v16 = v == LW_OCPP_16, .out = cJSON_CreateObject()};
    s.id = reserve_id(c->api);
    int rc = 0;
    if (build(&s) == 0) {
        char *payload = cJSON_PrintUnformatted(s.out);
        char *canon = cJSON_PrintUnformatted(body);
        lw_buf_t fpb;
        lw_buf_init(&fpb, LW_API_BODY_MAX);
        rc = payload && canon ? lw_buf_printf(&fpb, "%s:%s", sc_name, canon) : LW_ENOMEM;
        if (rc == 0) rc = lw_buf_cstr(&fpb);
        if (rc == 0) rc = submit(c, &st, v, s.action, payload, sc_name, s.id, fpb.data);
        lw_buf_free(&fpb);
        free(payload);
        free(canon);
    }
    if (s.upload_url[0] && !command_created(c, s.id)) api_upload_discard(c->api, s.upload_url);
    cJSON_Delete(s.out);
    cJSON_Delete(body);
    return rc;
}
