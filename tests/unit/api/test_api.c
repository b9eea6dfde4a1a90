/*
 * tests/unit/api/test_api.c — the REST router and handlers of csms/api against an in-memory
 * backend (fake_backend.h): authentication and roles, stations, transactions and CSV,
 * id tokens, the journal's pairing, commands (validation, queue, TTL, idempotency, restore),
 * shortcuts per OCPP version, the event stream and /metrics. No sockets.
 */
#include "api_request.h"
#include "fake_backend.h"
#include "test.h"

#include <float.h>
#include <math.h>

static lw_manual_clock_t clk;
static fake_t fk;
static lw_api_t *api;

/* Performs one request; token NULL = no Authorization; hname/hval one extra header. */
static resp_t req(const char *method, const char *target, const char *token, const char *body,
                  const char *hname, const char *hval)
{
    return api_request(api, method, target, token, body, body ? strlen(body) : 0, hname, hval, NULL,
                       NULL);
}

static const char *jstr(const cJSON *o, const char *path)
{
    /* "a.b.0.c" */
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *cur = o;
    for (char *tok = buf, *next; tok && cur; tok = next) {
        next = strchr(tok, '.');
        if (next) *next++ = 0;
        if (cJSON_IsArray(cur))
            cur = cJSON_GetArrayItem(cur, atoi(tok));
        else
            cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
    }
    if (!cur) return "(absent)";
    if (cJSON_IsString(cur)) return cur->valuestring;
    if (cJSON_IsNull(cur)) return "(null)";
    static char num[8][64];
    static int slot;
    char *out = num[slot++ % 8];
    if (cJSON_IsNumber(cur))
        snprintf(out, 64, "%g", cur->valuedouble);
    else if (cJSON_IsBool(cur))
        snprintf(out, 64, "%s", cJSON_IsTrue(cur) ? "true" : "false");
    else if (cJSON_IsArray(cur))
        snprintf(out, 64, "[%d]", cJSON_GetArraySize(cur));
    else
        snprintf(out, 64, "{...}");
    return out;
}

static void setup(void)
{
    fk_init(&fk);
    lw_manual_clock_init(&clk, 1700000000000);
    lw_api_backend_t be = fk_backend(&fk);
    api = lw_api_new(&be, &clk.clock);
    fk.api = api;
}

static void teardown(void)
{
    lw_api_free(api);
    fk_free(&fk);
    api = NULL;
}

/* ---- auth ------------------------------------------------------------------------------ */

LW_TEST(auth_and_roles)
{
    setup();
    resp_t r = req("GET", "/api/v1/stations", NULL, "", NULL, NULL);
    LW_CHECK_INT(r.status, 401);
    LW_CHECK(strstr(r.headers, "WWW-Authenticate: Bearer") != NULL);
    LW_CHECK_STR(jstr(r.json, "error"), "unauthorized");
    resp_free(&r);

    r = req("GET", "/api/v1/stations", "nope", "", NULL, NULL);
    LW_CHECK_INT(r.status, 401);
    resp_free(&r);

    r = req("GET", "/api/v1/stations", NULL, "", "Authorization", "Basic dXNlcjpwdw==");
    LW_CHECK_INT(r.status, 401);
    LW_CHECK(strstr(jstr(r.json, "detail"), "Bearer") != NULL);
    resp_free(&r);

    r = req("GET", "/api/v1/stations", "viewer-tok", "", NULL, NULL);
    LW_CHECK_INT(r.status, 200);
    resp_free(&r);

    r = req("POST", "/api/v1/stations/CP16/commands/Reset", "viewer-tok", "{\"type\":\"Hard\"}",
            NULL, NULL);
    LW_CHECK_INT(r.status, 403);
    LW_CHECK_STR(jstr(r.json, "error"), "forbidden");
    LW_CHECK(strstr(jstr(r.json, "detail"), "operator") != NULL);
    resp_free(&r);

    r = req("POST", "/api/v1/stations", "op-tok", "{\"id\":\"X\"}", NULL, NULL);
    LW_CHECK_INT(r.status, 403);
    resp_free(&r);

    r = req("GET", "/api/v1/whoami", "admin-tok", "", NULL, NULL);
    LW_CHECK_INT(r.status, 200);
    LW_CHECK_STR(jstr(r.json, "role"), "admin");
    resp_free(&r);

    /* public: metrics and the OpenAPI document */
    r = req("GET", "/metrics", NULL, "", NULL, NULL);
    LW_CHECK_INT(r.status, 200);
    resp_free(&r);
    teardown();
}

LW_TEST(routing_errors)
{
    setup();
    resp_t r = req("GET", "/api/v1/nothing", "viewer-tok", "", NULL, NULL);
    LW_CHECK_INT(r.status, 404);
    LW_CHECK_STR(jstr(r.json, "error"), "not_found");
    resp_free(&r);

    r = req("PUT", "/api/v1/stations", "admin-tok", "{}", NULL, NULL);
    LW_CHECK_INT(r.status, 405);
    LW_CHECK(strstr(r.headers, "Allow: GET, POST") != NULL);
    resp_free(&r);

    r = req("GET", "/api/v1/stations/CP%ZZ", "viewer-tok", "", NULL, NULL);
    LW_CHECK_INT(r.status, 400);
    resp_free(&r);

    r = req("POST", "/api/v1/id-tokens", "op-tok", "{\"id_token\": ", NULL, NULL);
    LW_CHECK_INT(r.status, 400);
    LW_CHECK_STR(jstr(r.json, "error"), "invalid_json");
    resp_free(&r);

    r = req("POST", "/api/v1/id-tokens", "op-tok", "[1]", NULL, NULL);
    LW_CHECK_INT(r.status, 400);
    LW_CHECK_STR(jstr(r.json, "error"), "invalid_body");
    resp_free(&r);

    r = req("GET", "/api/v1/stations?limit=0", "viewer-tok", "", NULL, NULL);
    LW_CHECK_INT(r.status, 400);
    LW_CHECK(strstr(jstr(r.json, "detail"), "limit") != NULL);
    resp_free(&r);

    r = req("GET", "/", NULL, "", NULL, NULL);
    LW_CHECK_INT(r.status, 200);
    LW_CHECK(strstr(r.headers, "text/html") != NULL);
    resp_free(&r);

    r = req("GET", "/app.js", NULL, "", NULL, NULL);
    LW_CHECK_INT(r.status, 200);
    LW_CHECK(strstr(r.headers, "text/javascript") != NULL);
    resp_free(&r);
    r = req("GET", "/openapi.json", NULL, "", NULL, NULL); /* only under /api/v1 */
    LW_CHECK_INT(r.status, 404);
    resp_free(&r);

    r = req("GET", "/api/v1/openapi.json", NULL, "", NULL, NULL);
    LW_CHECK_INT(r.status, 200);
    LW_CHECK_STR(jstr(r.json, "openapi"), "3.0.3");
    resp_free(&r);
    teardown();
}

/* ---- stations ---------------------------------------------------------------------------- */

LW_TEST(stations_list_and_get)
{
    setup();
    resp_t r = req("GET", "/api/v1/stations", "viewer-tok", "", NULL, NULL);
    LW_CHECK_INT(r.status, 200);
    LW_CHECK_STR(jstr(r.json, "items"), "[4]");
    LW_CHECK_STR(jstr(r.json, "items.0.id"), "CP16");
    LW_CHECK_STR(jstr(r.json, "items.0.online"), "true");
    LW_CHECK_STR(jstr(r.json, "items.0.ocpp_version"), "1.6");
    LW_CHECK_STR(jstr(r.json, "items.0.connectors.0.status"), "Charging");
    LW_CHECK_STR(jstr(r.json, "items.0.connectors.1.connector_id"), "2");
    LW_CHECK_STR(jstr(r.json, "items.0.last_seen"), "2023-11-14T22:13:20.000Z");
    LW_CHECK_STR(jstr(r.json, "next"), "(null)");
    resp_free(&r);

    r = req("GET", "/api/v1/stations?status=offline", "viewer-tok", "", NULL, NULL);
    LW_CHECK_STR(jstr(r.json, "items"), "[2]");
    LW_CHECK_STR(jstr(r.json, "items.0.id"), "CPNEW");
    resp_free(&r);

    r = req("GET", "/api/v1/stations?status=Faulted", "viewer-tok", "", NULL, NULL);
    LW_CHECK_STR(jstr(r.json, "items"), "[1]");
    LW_CHECK_STR(jstr(r.json, "items.0.id"), "CPOFF");
    resp_free(&r);

    r = req("GET", "/api/v1/stations?q=beta", "viewer-tok", "", NULL, NULL);
    LW_CHECK_STR(jstr(r.json, "items"), "[1]");
    LW_CHECK_STR(jstr(r.json, "items.0.id"), "CP201");
    resp_free(&r);

    r = req("GET", "/api/v1/stations?limit=2", "viewer-tok", "", NULL, NULL);
    LW_CHECK_STR(jstr(r.json, "items"), "[2]");
    LW_CHECK_STR(jstr(r.json, "next"), "CP201");
    resp_free(&r);
    r = req("GET", "/api/v1/stations?limit=2&after=CP201", "viewer-tok", "", NULL, NULL);
    LW_CHECK_STR(jstr(r.json, "items.0.id"), "CPNEW");
    LW_CHECK_STR(jstr(r.json, "items.1.id"), "CPOFF");
    resp_free(&r);

    r = req("GET", "/api/v1/stations?status=on%20line", "viewer-tok", "", NULL, NULL);
    LW_CHECK_INT(r.status, 400);
    resp_free(&r);

    r = req("GET", "/api/v1/stations/CP201", "viewer-tok", "", NULL, NULL);
    LW_CHECK_INT(r.status, 200);
    LW_CHECK_STR(jstr(r.json, "vendor"), "Beta");
    LW_CHECK_STR(jstr(r.json, "connectors.0.evse_id"), "1");
    LW_CHECK_STR(jstr(r.json, "firmware_version"), "(null)");
    resp_free(&r);

    r = req("GET", "/api/v1/stations/NOPE", "viewer-tok", "", NULL, NULL);
    LW_CHECK_INT(r.status, 404);
    LW_CHECK(strstr(jstr(r.json, "detail"), "station") != NULL);
    resp_free(&r);
    teardown();
}

LW_TEST(stations_create_update_delete)
{
    setup();
    resp_t r = req("POST", "/api/v1/stations", "admin-tok",
                   "{\"id\":\"CPX\",\"security_profile\":1,\"password\":\"0123456789abcdef\"}",
                   NULL, NULL);
    LW_CHECK_INT(r.status, 201);
    LW_CHECK_STR(jstr(r.json, "id"), "CPX");
    LW_CHECK_STR(jstr(r.json, "security_profile"), "1");
    LW_CHECK_STR(jstr(r.json, "has_password"), "true");
    LW_CHECK(strstr(r.body, "0123456789abcdef") == NULL); /* never echoed */
    resp_free(&r);

    r = req("POST", "/api/v1/stations", "admin-tok", "{\"id\":\"CPX\"}", NULL, NULL);
    LW_CHECK_INT(r.status, 409);
    resp_free(&r);

    r = req("POST", "/api/v1/stations", "admin-tok", "{\"id\":\"a/b\"}", NULL, NULL);
    LW_CHECK_INT(r.status, 400);
    LW_CHECK_STR(jstr(r.json, "error"), "invalid_field");
    resp_free(&r);

    r = req("POST", "/api/v1/stations", "admin-tok", "{\"id\":\"CPY\",\"pasword\":\"x\"}", NULL,
            NULL);
    LW_CHECK_INT(r.status, 400);
    LW_CHECK_STR(jstr(r.json, "error"), "unknown_field");
    LW_CHECK(strstr(jstr(r.json, "detail"), "pasword") != NULL);
    resp_free(&r);

    r = req("POST", "/api/v1/stations", "admin-tok", "{\"id\":\"CPY\",\"security_profile\":2}",
            NULL, NULL);
    LW_CHECK_INT(r.status, 400);
    LW_CHECK(strstr(jstr(r.json, "detail"), "password") != NULL);
    resp_free(&r);

    r = req("POST", "/api/v1/stations", "admin-tok", "{\"id\":\"CPY\",\"security_profile\":7}",
            NULL, NULL);
    LW_CHECK_INT(r.status, 400);
    resp_free(&r);

    r = req("PATCH", "/api/v1/stations/CPX", "admin-tok", "{\"registration\":\"Pending\"}", NULL,
            NULL);
    LW_CHECK_INT(r.status, 200);
    LW_CHECK_STR(jstr(r.json, "registration"), "Pending");
    resp_free(&r);

    /* removing the password of a profile-1 station is refused */
    r = req("PATCH", "/api/v1/stations/CPX", "admin-tok", "{\"password\":null}", NULL, NULL);
    LW_CHECK_INT(r.status, 400);
    resp_free(&r);
    r = req("PATCH", "/api/v1/stations/CPX", "admin-tok",
            "{\"password\":null,\"security_profile\":0}", NULL, NULL);
    LW_CHECK_INT(r.status, 200);
    LW_CHECK_STR(jstr(r.json, "has_password"), "false");
    resp_free(&r);

    r = req("DELETE", "/api/v1/stations/CPX", "admin-tok", "", NULL, NULL);
    LW_CHECK_INT(r.status, 204);
    LW_CHECK_STR(r.body, "");
    resp_free(&r);
    r = req("DELETE", "/api/v1/stations/CPX", "admin-tok", "", NULL, NULL);
    LW_CHECK_INT(r.status, 404);
    resp_free(&r);
    teardown();
}

/* ---- transactions ------------------------------------------------------------------------ */

LW_TEST(transactions)
{
    setup();
    resp_t r = req("GET", "/api/v1/transactions?station=CP16", "viewer-tok", "", NULL, NULL);
    LW_CHECK_INT(r.status, 200);
    LW_CHECK_STR(jstr(r.json, "items"), "[1]");
    LW_CHECK_STR(jstr(r.json, "items.0.id"), "1");
    LW_CHECK_STR(jstr(r.json, "items.0.energy_wh"), "7000");
    LW_CHECK_STR(jstr(r.json, "items.0.stop_reason"), "Local");
    LW_CHECK_STR(jstr(r.json, "items.0.stopped_at"), "2023-11-14T23:13:20.000Z");
    resp_free(&r);

    r = req("GET", "/api/v1/transactions?state=active", "viewer-tok", "", NULL, NULL);
    LW_CHECK_STR(jstr(r.json, "items"), "[1]");
    LW_CHECK_STR(jstr(r.json, "items.0.transaction_uid"), "uid-abc");
    LW_CHECK_STR(jstr(r.json, "items.0.stopped_at"), "(null)");
    LW_CHECK_STR(jstr(r.json, "items.0.meter_stop_wh"), "(null)");
    resp_free(&r);

    r = req("GET", "/api/v1/transactions?state=done", "viewer-tok", "", NULL, NULL);
    LW_CHECK_INT(r.status, 400);
    resp_free(&r);

    r = req("GET", "/api/v1/transactions/1", "viewer-tok", "", NULL, NULL);
    LW_CHECK_INT(r.status, 200);
    LW_CHECK_STR(jstr(r.json, "meter_samples"), "[2]");
    LW_CHECK_STR(jstr(r.json, "meter_samples.0.value"), "1500");
    LW_CHECK_STR(jstr(r.json, "meter_samples.1.measurand"), "Power.Active.Import");
    LW_CHECK_STR(jstr(r.json, "meter_samples.1.value"), "7200.5");
    LW_CHECK_STR(jstr(r.json, "meter_samples.1.phase"), "(null)");
    resp_free(&r);

    r = req("GET", "/api/v1/transactions/abc", "viewer-tok", "", NULL, NULL);
    LW_CHECK_INT(r.status, 400);
    resp_free(&r);
    r = req("GET", "/api/v1/transactions/99", "viewer-tok", "", NULL, NULL);
    LW_CHECK_INT(r.status, 404);
    resp_free(&r);

    r = req("GET", "/api/v1/transactions.csv", "viewer-tok", "", NULL, NULL);
    LW_CHECK_INT(r.status, 200);
    LW_CHECK(strstr(r.headers, "text/csv") != NULL);
    const char *want = "id,station_id,evse_id,connector_id,id_token,state,started_at,stopped_at,"
                       "meter_start_wh,meter_stop_wh,energy_wh,stop_reason\r\n"
                       "2,CP201,1,1,'=HYPERLINK(x),active,2023-11-15T00:13:20.000Z,,0,,250,\r\n"
                       "1,CP16,0,1,TAG1,ended,2023-11-14T22:13:20.000Z,2023-11-14T23:13:20.000Z,"
                       "1000,8000,7000,Local\r\n";
    LW_CHECK_STR(r.body, want);
    resp_free(&r);
    teardown();
}

/* ---- id tokens --------------------------------------------------------------------------- */

LW_TEST(id_tokens)
{
    setup();
    resp_t r =
        req("POST", "/api/v1/id-tokens", "op-tok",
            "{\"id_token\":\"TAG2\",\"status\":\"Accepted\",\"expiry\":\"2030-01-01T00:00:00Z\","
            "\"group_id\":\"FLEET\"}",
            NULL, NULL);
    LW_CHECK_INT(r.status, 201);
    LW_CHECK_STR(jstr(r.json, "expiry"), "2030-01-01T00:00:00.000Z");
    LW_CHECK_STR(jstr(r.json, "group_id"), "FLEET");
    resp_free(&r);

    r = req("POST", "/api/v1/id-tokens", "op-tok", "{\"id_token\":\"TAG2\"}", NULL, NULL);
    LW_CHECK_INT(r.status, 409);
    resp_free(&r);
    r = req("POST", "/api/v1/id-tokens", "op-tok", "{\"id_token\":\"TAG3\",\"status\":\"Maybe\"}",
            NULL, NULL);
    LW_CHECK_INT(r.status, 400);
    LW_CHECK(strstr(jstr(r.json, "detail"), "status") != NULL);
    resp_free(&r);
    r = req("POST", "/api/v1/id-tokens", "op-tok",
            "{\"id_token\":\"TAG3\",\"expiry\":\"tomorrow\"}", NULL, NULL);
    LW_CHECK_INT(r.status, 400);
    LW_CHECK(strstr(jstr(r.json, "detail"), "RFC 3339") != NULL);
    resp_free(&r);

    r = req("POST", "/api/v1/id-tokens/TAG2/block", "op-tok", "", NULL, NULL);
    LW_CHECK_INT(r.status, 200);
    LW_CHECK_STR(jstr(r.json, "status"), "Blocked");
    resp_free(&r);

    r = req("PATCH", "/api/v1/id-tokens/TAG2", "op-tok", "{\"expiry\":null}", NULL, NULL);
    LW_CHECK_INT(r.status, 200);
    LW_CHECK_STR(jstr(r.json, "expiry"), "(null)");
    LW_CHECK_STR(jstr(r.json, "status"), "Blocked");
    resp_free(&r);

    r = req("GET", "/api/v1/id-tokens", "viewer-tok", "", NULL, NULL);
    LW_CHECK_STR(jstr(r.json, "items"), "[2]");
    resp_free(&r);
    r = req("GET", "/api/v1/id-tokens?limit=1", "viewer-tok", "", NULL, NULL);
    LW_CHECK_STR(jstr(r.json, "next"), "TAG1");
    resp_free(&r);

    r = req("DELETE", "/api/v1/id-tokens/TAG2", "op-tok", "", NULL, NULL);
    LW_CHECK_INT(r.status, 204);
    resp_free(&r);
    r = req("GET", "/api/v1/id-tokens/TAG2", "viewer-tok", "", NULL, NULL);
    LW_CHECK_INT(r.status, 404);
    resp_free(&r);
    teardown();
}

LW_TEST(api_tokens)
{
    setup();
    resp_t r = req("POST", "/api/v1/tokens", "admin-tok",
                   "{\"role\":\"operator\",\"name\":\"ops\"}", NULL, NULL);
    LW_CHECK_INT(r.status, 201);
    LW_CHECK_STR(jstr(r.json, "token"), "lw_new_operator_1");
    resp_free(&r);
    r = req("POST", "/api/v1/tokens", "admin-tok", "{\"role\":\"root\"}", NULL, NULL);
    LW_CHECK_INT(r.status, 400);
    resp_free(&r);
    r = req("GET", "/api/v1/tokens", "admin-tok", "", NULL, NULL);
    LW_CHECK_STR(jstr(r.json, "items.0.role"), "admin");
    resp_free(&r);
    r = req("DELETE", "/api/v1/tokens/1", "admin-tok", "", NULL, NULL);
    LW_CHECK_INT(r.status, 204);
    LW_CHECK_INT(fk.revoked, 1);
    resp_free(&r);
    r = req("GET", "/api/v1/tokens", "op-tok", "", NULL, NULL);
    LW_CHECK_INT(r.status, 403);
    resp_free(&r);
    teardown();
}

/* ---- journal ----------------------------------------------------------------------------- */

LW_TEST(journal_pairs_requests_and_responses)
{
    setup();
    resp_t r = req("GET", "/api/v1/stations/CP16/journal", "viewer-tok", "", NULL, NULL);
    LW_CHECK_INT(r.status, 200);
    LW_CHECK_STR(jstr(r.json, "items"), "[3]");
    LW_CHECK_STR(jstr(r.json, "items.0.action"), "BootNotification");
    LW_CHECK_STR(jstr(r.json, "items.0.direction"), "in");
    LW_CHECK_STR(jstr(r.json, "items.0.response.interval"), "300");
    LW_CHECK_STR(jstr(r.json, "items.1.action"), "Reset");
    LW_CHECK_STR(jstr(r.json, "items.1.direction"), "out");
    LW_CHECK_STR(jstr(r.json, "items.1.response"), "(null)");
    LW_CHECK_STR(jstr(r.json, "items.1.error.code"), "NotSupported");
    LW_CHECK_STR(jstr(r.json, "items.2.action"), "Heartbeat");
    LW_CHECK_STR(jstr(r.json, "items.2.response"), "(null)");
    LW_CHECK_STR(jstr(r.json, "items.2.error"), "(null)");
    LW_CHECK_STR(jstr(r.json, "unpaired_responses"), "[0]");
    resp_free(&r);

    /* page of one request: cursor is the request's seq, the rest on the next page */
    r = req("GET", "/api/v1/stations/CP16/journal?limit=1", "viewer-tok", "", NULL, NULL);
    LW_CHECK_STR(jstr(r.json, "items"), "[1]");
    LW_CHECK_STR(jstr(r.json, "next"), "5");
    resp_free(&r);
    r = req("GET", "/api/v1/stations/CP16/journal?limit=1&before=5", "viewer-tok", "", NULL, NULL);
    LW_CHECK_STR(jstr(r.json, "items.0.action"), "Reset");
    LW_CHECK_STR(jstr(r.json, "items.0.error.code"), "NotSupported");
    resp_free(&r);

    r = req("GET", "/api/v1/stations/NOPE/journal", "viewer-tok", "", NULL, NULL);
    LW_CHECK_INT(r.status, 404);
    resp_free(&r);
    teardown();
}

/* ---- commands ---------------------------------------------------------------------------- */

LW_TEST(command_sent_and_answered)
{
    setup();
    uint64_t cur = 0;
    resp_t r = req("POST", "/api/v1/stations/CP16/commands/Reset", "op-tok", "{\"type\":\"Hard\"}",
                   NULL, NULL);
    LW_CHECK_INT(r.status, 202);
    LW_CHECK_STR(jstr(r.json, "status"), "sent");
    LW_CHECK_STR(jstr(r.json, "id"), "1");
    LW_CHECK_INT(fk.sent, 1);
    LW_CHECK_STR(fk.sent_action, "Reset");
    LW_CHECK_STR(fk.sent_payload, "{\"type\":\"Hard\"}");
    LW_CHECK_INT(fk.sent_id, 1);
    resp_free(&r);

    /* drain events so far */
    lw_buf_t b;
    lw_buf_init(&b, 1 << 16);
    lw_api_events_read(api, &cur, &b);
    lw_buf_reset(&b);

    LW_CHECK_INT(lw_api_command_done(api, 1, LW_API_CMD_ANSWERED,
                                     LW_STR("{\"status\":\"Accepted\"}"), LW_STR_NULL, LW_STR_NULL),
                 0);
    LW_CHECK_INT(
        lw_api_command_done(api, 1, LW_API_CMD_ANSWERED, LW_STR("{}"), LW_STR_NULL, LW_STR_NULL),
        LW_ENOTFOUND); /* exactly once */
    r = req("GET", "/api/v1/commands/1", "viewer-tok", "", NULL, NULL);
    LW_CHECK_INT(r.status, 200);
    LW_CHECK_STR(jstr(r.json, "status"), "answered");
    LW_CHECK_STR(jstr(r.json, "response.status"), "Accepted");
    LW_CHECK_STR(jstr(r.json, "request.type"), "Hard");
    LW_CHECK_STR(jstr(r.json, "error"), "(null)");
    resp_free(&r);

    LW_CHECK_INT(lw_api_events_read(api, &cur, &b), 1);
    lw_buf_cstr(&b);
    LW_CHECK(strstr(b.data, "event: command.result\n") != NULL);
    LW_CHECK(strstr(b.data, "\"result_status\":\"Accepted\"") != NULL);
    lw_buf_free(&b);

    /* a CALLERROR */
    r = req("POST", "/api/v1/stations/CP16/commands/ClearCache", "op-tok", "", NULL, NULL);
    LW_CHECK_INT(r.status, 202);
    LW_CHECK_STR(fk.sent_payload, "{}");
    resp_free(&r);
    lw_api_command_done(api, 2, LW_API_CMD_FAILED, LW_STR_NULL, LW_STR("NotSupported"),
                        LW_STR("nope"));
    r = req("GET", "/api/v1/commands/2", "viewer-tok", "", NULL, NULL);
    LW_CHECK_STR(jstr(r.json, "status"), "failed");
    LW_CHECK_STR(jstr(r.json, "error.code"), "NotSupported");
    resp_free(&r);

    /* answered from inside send_call (the session answered at once) */
    fk.done_inside_send = true;
    r = req("POST", "/api/v1/stations/CP16/commands/ClearCache", "op-tok", "{}", NULL, NULL);
    LW_CHECK_INT(r.status, 202);
    LW_CHECK_STR(jstr(r.json, "status"), "answered");
    resp_free(&r);

    r = req("GET", "/api/v1/stations/CP16/commands", "viewer-tok", "", NULL, NULL);
    LW_CHECK_STR(jstr(r.json, "items"), "[3]");
    LW_CHECK_STR(jstr(r.json, "items.0.id"), "3");
    resp_free(&r);
    r = req("GET", "/api/v1/commands/77", "viewer-tok", "", NULL, NULL);
    LW_CHECK_INT(r.status, 404);
    resp_free(&r);
    teardown();
}

LW_TEST(command_validation)
{
    setup();
    resp_t r = req("POST", "/api/v1/stations/CP16/commands/Reset", "op-tok",
                   "{\"type\":\"Sideways\"}", NULL, NULL);
    LW_CHECK_INT(r.status, 400);
    LW_CHECK_STR(jstr(r.json, "error"), "invalid_payload");
    LW_CHECK_STR(jstr(r.json, "path"), "type");
    LW_CHECK(strstr(jstr(r.json, "detail"), "1.6 Reset request: type: enum") != NULL);
    LW_CHECK_INT(fk.sent, 0);
    resp_free(&r);

    /* 2.0.1 words differ: Hard is not a 2.0.1 reset type */
    r = req("POST", "/api/v1/stations/CP201/commands/Reset", "op-tok", "{\"type\":\"Hard\"}", NULL,
            NULL);
    LW_CHECK_INT(r.status, 400);
    resp_free(&r);

    r = req("POST", "/api/v1/stations/CP16/commands/BootNotification", "op-tok", "{}", NULL, NULL);
    LW_CHECK_INT(r.status, 404);
    LW_CHECK_STR(jstr(r.json, "error"), "unknown_action");
    resp_free(&r);

    r = req("POST", "/api/v1/stations/CP16/commands/Re-set", "op-tok", "{}", NULL, NULL);
    LW_CHECK_INT(r.status, 400);
    resp_free(&r);

    r = req("POST", "/api/v1/stations/CPNEW/commands/Reset", "op-tok", "{\"type\":\"Hard\"}", NULL,
            NULL);
    LW_CHECK_INT(r.status, 409);
    LW_CHECK_STR(jstr(r.json, "error"), "version_unknown");
    resp_free(&r);

    r = req("POST", "/api/v1/stations/NOPE/commands/Reset", "op-tok", "{\"type\":\"Hard\"}", NULL,
            NULL);
    LW_CHECK_INT(r.status, 404);
    resp_free(&r);

    r = req("POST", "/api/v1/stations/CP16/commands/Reset?ttl=0", "op-tok", "{\"type\":\"Hard\"}",
            NULL, NULL);
    LW_CHECK_INT(r.status, 400);
    resp_free(&r);
    teardown();
}

LW_TEST(command_offline_queue_and_ttl)
{
    setup();
    resp_t r = req("POST", "/api/v1/stations/CPOFF/commands/Reset?ttl=60", "op-tok",
                   "{\"type\":\"Soft\"}", NULL, NULL);
    LW_CHECK_INT(r.status, 202);
    LW_CHECK_STR(jstr(r.json, "status"), "queued");
    LW_CHECK_STR(jstr(r.json, "expires_at"), "2023-11-14T22:14:20.000Z");
    LW_CHECK_INT(fk.sent, 0);
    resp_free(&r);
    r = req("POST", "/api/v1/stations/CPOFF/commands/ClearCache", "op-tok", "{}", NULL, NULL);
    resp_free(&r);

    /* it comes online: both are sent, oldest first */
    fk_station(&fk, LW_STR("CPOFF"))->online = true;
    lw_api_station_connected(api, LW_STR("CPOFF"));
    LW_CHECK_INT(fk.sent, 2);
    LW_CHECK_STR(fk.sent_action, "ClearCache");
    r = req("GET", "/api/v1/commands/1", "viewer-tok", "", NULL, NULL);
    LW_CHECK_STR(jstr(r.json, "status"), "sent");
    resp_free(&r);

    /* a queued command whose TTL ends expires */
    fk_station(&fk, LW_STR("CPOFF"))->online = false;
    r = req("POST", "/api/v1/stations/CPOFF/commands/Reset?ttl=10", "op-tok", "{\"type\":\"Hard\"}",
            NULL, NULL);
    LW_CHECK_STR(jstr(r.json, "id"), "3");
    resp_free(&r);
    lw_manual_clock_advance(&clk, 9000);
    lw_api_tick(api);
    r = req("GET", "/api/v1/commands/3", "viewer-tok", "", NULL, NULL);
    LW_CHECK_STR(jstr(r.json, "status"), "queued");
    resp_free(&r);
    lw_manual_clock_advance(&clk, 1000);
    lw_api_tick(api);
    r = req("GET", "/api/v1/commands/3", "viewer-tok", "", NULL, NULL);
    LW_CHECK_STR(jstr(r.json, "status"), "expired");
    LW_CHECK_STR(jstr(r.json, "error.code"), "Expired");
    resp_free(&r);
    /* an expired command is not sent when the station comes back */
    fk_station(&fk, LW_STR("CPOFF"))->online = true;
    lw_api_station_connected(api, LW_STR("CPOFF"));
    LW_CHECK_INT(fk.sent, 2);

    size_t counts[5];
    lw_api_command_counts(api, counts);
    LW_CHECK_INT(counts[LW_API_CMD_SENT], 2);
    LW_CHECK_INT(counts[LW_API_CMD_EXPIRED], 1);
    teardown();
}

LW_TEST(command_idempotency)
{
    setup();
    resp_t r = req("POST", "/api/v1/stations/CP16/commands/Reset", "op-tok", "{\"type\":\"Hard\"}",
                   "Idempotency-Key", "k-1");
    LW_CHECK_INT(r.status, 202);
    LW_CHECK_STR(jstr(r.json, "id"), "1");
    LW_CHECK_STR(jstr(r.json, "idempotency_key"), "k-1");
    resp_free(&r);
    /* same request, differently spaced JSON: the same command, not sent twice */
    r = req("POST", "/api/v1/stations/CP16/commands/Reset", "op-tok", "{ \"type\" : \"Hard\" }",
            "Idempotency-Key", "k-1");
    LW_CHECK_INT(r.status, 202);
    LW_CHECK_STR(jstr(r.json, "id"), "1");
    LW_CHECK(strstr(r.headers, "Idempotent-Replayed: true") != NULL);
    LW_CHECK_INT(fk.sent, 1);
    resp_free(&r);
    r = req("POST", "/api/v1/stations/CP16/commands/Reset", "op-tok", "{\"type\":\"Soft\"}",
            "Idempotency-Key", "k-1");
    LW_CHECK_INT(r.status, 409);
    LW_CHECK_STR(jstr(r.json, "error"), "idempotency_conflict");
    resp_free(&r);
    /* shortcuts replay too, although their payload carries a fresh id each time */
    r = req("POST", "/api/v1/stations/CP201/remote-start", "op-tok", "{\"id_token\":\"TAG1\"}",
            "Idempotency-Key", "k-2");
    LW_CHECK_INT(r.status, 202);
    const char *first = jstr(r.json, "id");
    char id1[16];
    snprintf(id1, sizeof id1, "%s", first);
    resp_free(&r);
    r = req("POST", "/api/v1/stations/CP201/remote-start", "op-tok", "{\"id_token\":\"TAG1\"}",
            "Idempotency-Key", "k-2");
    LW_CHECK_INT(r.status, 202);
    LW_CHECK_STR(jstr(r.json, "id"), id1);
    resp_free(&r);
    LW_CHECK_INT(fk.sent, 2);
    teardown();
}

LW_TEST(command_restore)
{
    setup();
    resp_t r = req("POST", "/api/v1/stations/CPOFF/commands/Reset", "op-tok", "{\"type\":\"Soft\"}",
                   "Idempotency-Key", "k-9");
    resp_free(&r);
    r = req("POST", "/api/v1/stations/CP16/commands/ClearCache", "op-tok", "{}", NULL, NULL);
    resp_free(&r);
    LW_CHECK(fk.saved[1] != NULL);
    LW_CHECK(fk.saved[2] != NULL);
    char *s1 = strdup(fk.saved[1]), *s2 = strdup(fk.saved[2]);
    teardown();

    setup(); /* a new process */
    LW_CHECK_INT(lw_api_command_restore(api, lw_str_c(s1)), 0);
    LW_CHECK_INT(lw_api_command_restore(api, lw_str_c(s2)), 0);
    LW_CHECK_INT(lw_api_command_restore(api, lw_str_c(s2)), LW_EEXISTS);
    LW_CHECK_INT(lw_api_command_restore(api, LW_STR("{\"id\":\"x\"}")), LW_EPARSE);
    r = req("GET", "/api/v1/commands/1", "viewer-tok", "", NULL, NULL);
    LW_CHECK_STR(jstr(r.json, "status"), "queued");
    resp_free(&r);
    r = req("GET", "/api/v1/commands/2", "viewer-tok", "", NULL, NULL);
    LW_CHECK_STR(jstr(r.json, "status"), "failed");
    LW_CHECK_STR(jstr(r.json, "error.code"), "Restarted");
    resp_free(&r);
    /* the idempotency key survived */
    r = req("POST", "/api/v1/stations/CPOFF/commands/Reset", "op-tok", "{\"type\":\"Soft\"}",
            "Idempotency-Key", "k-9");
    LW_CHECK_STR(jstr(r.json, "id"), "1");
    resp_free(&r);
    /* new ids continue after the restored ones */
    r = req("POST", "/api/v1/stations/CP16/commands/ClearCache", "op-tok", "{}", NULL, NULL);
    LW_CHECK_STR(jstr(r.json, "id"), "3");
    resp_free(&r);
    /* the queued one goes out when its station connects */
    fk_station(&fk, LW_STR("CPOFF"))->online = true;
    lw_api_station_connected(api, LW_STR("CPOFF"));
    LW_CHECK_STR(fk.sent_payload, "{\"type\":\"Soft\"}");
    free(s1);
    free(s2);
    teardown();
}

/* ---- shortcuts --------------------------------------------------------------------------- */

static void check_shortcut(const char *station, const char *path, const char *body,
                           const char *action, const char *payload)
{
    char target[128];
    snprintf(target, sizeof target, "/api/v1/stations/%s/%s", station, path);
    int before = fk.sent;
    resp_t r = req("POST", target, "op-tok", body, NULL, NULL);
    if (r.status != 202) LW_FAILF("%s: status %d body %s", target, r.status, r.body);
    LW_CHECK_INT(fk.sent, before + 1);
    LW_CHECK_STR(fk.sent_action, action);
    LW_CHECK_STR(fk.sent_payload, payload);
    LW_CHECK_STR(jstr(r.json, "via"), path);
    resp_free(&r);
}

LW_TEST(shortcuts_per_version)
{
    setup();
    check_shortcut("CP16", "remote-start", "{\"id_token\":\"TAG1\",\"connector_id\":1}",
                   "RemoteStartTransaction", "{\"idTag\":\"TAG1\",\"connectorId\":1}");
    /* 2.0.1: remoteStartId is the command id; the token type comes from the token table */
    check_shortcut("CP201", "remote-start", "{\"id_token\":\"TAG1\",\"evse_id\":1}",
                   "RequestStartTransaction",
                   "{\"idToken\":{\"idToken\":\"TAG1\",\"type\":\"ISO14443\"},\"remoteStartId\":2,"
                   "\"evseId\":1}");
    check_shortcut("CP201", "remote-start", "{\"id_token\":\"ANON\"}", "RequestStartTransaction",
                   "{\"idToken\":{\"idToken\":\"ANON\",\"type\":\"Central\"},\"remoteStartId\":3}");
    check_shortcut("CP16", "remote-stop", "{\"transaction_id\":1}", "RemoteStopTransaction",
                   "{\"transactionId\":1}");
    check_shortcut("CP201", "remote-stop", "{\"transaction_id\":2}", "RequestStopTransaction",
                   "{\"transactionId\":\"uid-abc\"}");
    check_shortcut("CP16", "reset", "{\"type\":\"hard\"}", "Reset", "{\"type\":\"Hard\"}");
    check_shortcut("CP201", "reset", "{}", "Reset", "{\"type\":\"OnIdle\"}");
    check_shortcut("CP16", "unlock", "{\"connector_id\":2}", "UnlockConnector",
                   "{\"connectorId\":2}");
    check_shortcut("CP201", "unlock", "{\"connector_id\":1}", "UnlockConnector",
                   "{\"evseId\":1,\"connectorId\":1}");
    check_shortcut("CP16", "availability", "{\"operative\":false,\"connector_id\":1}",
                   "ChangeAvailability", "{\"connectorId\":1,\"type\":\"Inoperative\"}");
    check_shortcut("CP16", "config/get", "{\"keys\":[\"HeartbeatInterval\"]}", "GetConfiguration",
                   "{\"key\":[\"HeartbeatInterval\"]}");
    check_shortcut("CP16", "config/get", "", "GetConfiguration", "{}");
    check_shortcut("CP201", "config/get", "{\"keys\":[\"OCPPCommCtrlr.HeartbeatInterval\"]}",
                   "GetVariables",
                   "{\"getVariableData\":[{\"component\":{\"name\":\"OCPPCommCtrlr\"},"
                   "\"variable\":{\"name\":\"HeartbeatInterval\"}}]}");
    check_shortcut("CP16", "config/set", "{\"key\":\"HeartbeatInterval\",\"value\":\"60\"}",
                   "ChangeConfiguration", "{\"key\":\"HeartbeatInterval\",\"value\":\"60\"}");
    check_shortcut("CP201", "config/set",
                   "{\"key\":\"OCPPCommCtrlr.HeartbeatInterval\",\"value\":\"60\"}", "SetVariables",
                   "{\"setVariableData\":[{\"component\":{\"name\":\"OCPPCommCtrlr\"},"
                   "\"variable\":{\"name\":\"HeartbeatInterval\"},\"attributeValue\":\"60\"}]}");
    check_shortcut("CP16", "trigger", "{\"message\":\"StatusNotification\",\"connector_id\":1}",
                   "TriggerMessage",
                   "{\"requestedMessage\":\"StatusNotification\",\"connectorId\":1}");
    check_shortcut("CP16", "clear-cache", "", "ClearCache", "{}");

    /* friendly-field errors name the API field */
    resp_t r = req("POST", "/api/v1/stations/CP16/remote-start", "op-tok", "{\"connector_id\":1}",
                   NULL, NULL);
    LW_CHECK_INT(r.status, 400);
    LW_CHECK(strstr(jstr(r.json, "detail"), "'id_token' is required") != NULL);
    resp_free(&r);
    r = req("POST", "/api/v1/stations/CP16/unlock", "op-tok", "{\"connector_id\":\"one\"}", NULL,
            NULL);
    LW_CHECK_INT(r.status, 400);
    LW_CHECK(strstr(jstr(r.json, "detail"), "integer") != NULL);
    resp_free(&r);
    r = req("POST", "/api/v1/stations/CP201/config/set", "op-tok",
            "{\"key\":\"NoDot\",\"value\":\"1\"}", NULL, NULL);
    LW_CHECK_INT(r.status, 400);
    LW_CHECK(strstr(jstr(r.json, "detail"), "Component.Variable") != NULL);
    resp_free(&r);
    r = req("POST", "/api/v1/stations/CP16/clear-cache", "op-tok", "{\"x\":1}", NULL, NULL);
    LW_CHECK_INT(r.status, 400);
    resp_free(&r);
    r = req("POST", "/api/v1/stations/CP16/reset", "op-tok", "{\"type\":\"sideways\"}", NULL, NULL);
    LW_CHECK_INT(r.status, 400);
    LW_CHECK_STR(jstr(r.json, "path"), "type");
    resp_free(&r);
    teardown();
}

/* ---- events ------------------------------------------------------------------------------ */

LW_TEST(events_stream)
{
    setup();
    resp_t r = req("GET", "/api/v1/events", "viewer-tok", "", NULL, NULL);
    LW_CHECK_INT(r.status, 200);
    LW_CHECK(r.stream);
    LW_CHECK(strstr(r.headers, "text/event-stream") != NULL);
    LW_CHECK_INT(r.cursor, 0);
    uint64_t cur = r.cursor;
    resp_free(&r);
    r = req("GET", "/api/v1/events", NULL, "", NULL, NULL);
    LW_CHECK_INT(r.status, 401);
    LW_CHECK(!r.stream);
    resp_free(&r);

    LW_CHECK_INT(lw_api_event_station(api, LW_STR("CP16"), true, LW_OCPP_16), 0);
    LW_CHECK_INT(
        lw_api_event_status(api, LW_STR("CP16"), 0, 1, LW_STR("Charging"), LW_STR("NoError")), 0);
    lw_api_tx_t tx = {.id = 5,
                      .connector_id = 1,
                      .active = true,
                      .start_ms = 1700000000000,
                      .meter_start_wh = 10,
                      .meter_stop_wh = -1,
                      .energy_wh = 120};
    snprintf(tx.station_id, sizeof tx.station_id, "CP16");
    LW_CHECK_INT(lw_api_event_transaction(api, "updated", &tx, 7400), 0);
    LW_CHECK_INT(lw_api_event_transaction(api, "paused", &tx, 0), LW_EINVAL);
    LW_CHECK_INT(lw_api_event_security(api, LW_STR("CP16"), LW_STR("FirmwareUpdated"), LW_STR("")),
                 0);
    LW_CHECK_INT(lw_api_publish(api, "x", LW_STR("[1]")), LW_EINVAL);
    LW_CHECK_INT(lw_api_publish(api, "Bad Type", LW_STR("{}")), LW_EINVAL);
    LW_CHECK_INT(lw_api_publish(api, "custom.one", LW_STR("{\"a\":\n1}")), 0);

    lw_buf_t b;
    lw_buf_init(&b, 1 << 16);
    LW_CHECK_INT(lw_api_events_read(api, &cur, &b), 5);
    LW_CHECK_INT(cur, 5);
    lw_buf_cstr(&b);
    LW_CHECK(strncmp(b.data,
                     "id: 1\nevent: station.connected\ndata: {\"station_id\":\"CP16\","
                     "\"online\":true,\"ocpp_version\":\"1.6\",\"at\":",
                     90) == 0);
    LW_CHECK(strstr(b.data, "event: connector.status\ndata: {\"station_id\":\"CP16\",\"evse_id\":0,"
                            "\"connector_id\":1,\"status\":\"Charging\"") != NULL);
    LW_CHECK(strstr(b.data, "\"energy_wh\":120,\"power_w\":7400") != NULL);
    LW_CHECK(strstr(b.data, "event: security.event\n") != NULL);
    LW_CHECK(strstr(b.data, "id: 5\nevent: custom.one\ndata: {\"a\":1}\n\n") != NULL);
    lw_buf_reset(&b);
    LW_CHECK_INT(lw_api_events_read(api, &cur, &b), 0);

    /* Last-Event-ID resumes */
    r = req("GET", "/api/v1/events", "viewer-tok", "", "Last-Event-ID", "3");
    LW_CHECK_INT(r.cursor, 3);
    resp_free(&r);

    /* a reader that fell behind the ring gets a resync first */
    for (int i = 0; i < LW_API_EVENTS_RING + 10; i++)
        lw_api_publish(api, "t", LW_STR("{}"));
    uint64_t old = 2;
    lw_buf_t big;
    lw_buf_init(&big, 1 << 22);
    int n = lw_api_events_read(api, &old, &big);
    LW_CHECK_INT(n, LW_API_EVENTS_RING + 1);
    lw_buf_cstr(&big);
    LW_CHECK(strncmp(big.data, "id: 15\nevent: resync\n", 21) == 0);
    LW_CHECK_INT(old, 5 + LW_API_EVENTS_RING + 10);
    lw_buf_free(&big);

    /* a small buffer gets whole events only */
    lw_buf_t small;
    lw_buf_init(&small, 40);
    uint64_t c2 = old - 3;
    LW_CHECK_INT(lw_api_events_read(api, &c2, &small), LW_ETOOBIG);
    LW_CHECK_INT(c2, old - 2);
    LW_CHECK_INT(small.len, strlen("id: 4111\nevent: t\ndata: {}\n\n"));
    lw_buf_free(&small);
    lw_buf_free(&b);
    teardown();
}

static int notified;
static void on_notify(void *ud)
{
    (void)ud;
    notified++;
}

LW_TEST(events_notify)
{
    setup();
    lw_api_set_notify(api, on_notify, NULL);
    notified = 0;
    lw_api_event_station(api, LW_STR("CP16"), false, LW_OCPP_16);
    LW_CHECK_INT(notified, 1);
    teardown();
}

/* Reads the one event published since *cur and returns its data line (static storage), with
 * its type in type (if given); "(none)" when there was not exactly one. */
static const char *next_data(uint64_t *cur, const char **type)
{
    static char data[LW_API_EVENT_DATA_MAX + 1], ty[64];
    lw_buf_t b;
    lw_buf_init(&b, 1 << 16);
    int n = lw_api_events_read(api, cur, &b);
    lw_buf_cstr(&b);
    snprintf(data, sizeof data, "(none)");
    ty[0] = 0;
    const char *ev = n == 1 ? strstr(b.data, "\nevent: ") : NULL;
    const char *d = ev ? strstr(ev, "\ndata: ") : NULL;
    if (d && b.len >= 2 && strcmp(b.data + b.len - 2, "\n\n") == 0) {
        snprintf(ty, sizeof ty, "%.*s", (int)(d - ev - 8), ev + 8);
        snprintf(data, sizeof data, "%.*s", (int)(b.data + b.len - 2 - (d + 7)), d + 7);
    }
    lw_buf_free(&b);
    if (type) *type = ty;
    return data;
}

#define AT "\"at\":\"2023-11-14T22:13:20.000Z\"}"

/* The typed events' data, byte for byte: keys and their order, nulls, escapes, numbers. It is
 * what cJSON printed for them before they were written directly, and what docs/api.md and
 * webhook receivers rely on. */
LW_TEST(events_exact_json)
{
    setup();
    uint64_t cur = 0;
    const char *ty;

    LW_CHECK_INT(lw_api_event_station(api, LW_STR("CP16"), true, LW_OCPP_16), 0);
    LW_CHECK_STR(next_data(&cur, &ty),
                 "{\"station_id\":\"CP16\",\"online\":true,\"ocpp_version\":\"1.6\"," AT);
    LW_CHECK_STR(ty, "station.connected");
    LW_CHECK_INT(lw_api_event_station(api, LW_STR("CP201"), false, LW_OCPP_201), 0);
    LW_CHECK_STR(next_data(&cur, &ty),
                 "{\"station_id\":\"CP201\",\"online\":false,\"ocpp_version\":\"2.0.1\"," AT);
    LW_CHECK_STR(ty, "station.disconnected");
    /* an unknown version leaves the key out; an empty id is null */
    LW_CHECK_INT(lw_api_event_station(api, LW_STR(""), false, LW_OCPP_VERSION_COUNT), 0);
    LW_CHECK_STR(next_data(&cur, NULL), "{\"station_id\":null,\"online\":false," AT);

    /* escapes as cJSON writes them: quote, backslash, the short forms, \u00xx for the other
     * control characters; '/', DEL and UTF-8 as they are */
    LW_CHECK_INT(lw_api_event_status(api, LW_STR("CP\"1\\2"), 2, -1,
                                     LW_STR("Z\xc3\xa4hlerstand\n\x01\t\b\f\r\x1f/\x7f"),
                                     LW_STR_NULL),
                 0);
    LW_CHECK_STR(next_data(&cur, &ty),
                 "{\"station_id\":\"CP\\\"1\\\\2\",\"evse_id\":2,\"connector_id\":-1,"
                 "\"status\":\"Z\xc3\xa4hlerstand\\n\\u0001\\t\\b\\f\\r\\u001f/\x7f\","
                 "\"error_code\":null," AT);
    LW_CHECK_STR(ty, "connector.status");
    /* the text of a view ends at an embedded NUL (cJSON took C strings) */
    LW_CHECK_INT(
        lw_api_event_status(api, LW_STR("CP\0x"), 0, 0, LW_STR("\0Available"), LW_STR("NoError")),
        0);
    LW_CHECK_STR(next_data(&cur, NULL), "{\"station_id\":\"CP\",\"evse_id\":0,\"connector_id\":0,"
                                        "\"status\":null,\"error_code\":\"NoError\"," AT);

    lw_api_tx_t tx = {.id = 5000000000LL,
                      .evse_id = 1,
                      .connector_id = 2,
                      .active = true,
                      .start_ms = 1700000000000 - 3600000,
                      .stop_ms = 1700000000000,
                      .meter_start_wh = 10,
                      .meter_stop_wh = -1,
                      .energy_wh = 0};
    snprintf(tx.station_id, sizeof tx.station_id, "CP201");
    snprintf(tx.tx_uid, sizeof tx.tx_uid, "tx-\"1\"");
    snprintf(tx.stop_reason, sizeof tx.stop_reason, "ignored while active");
    static const struct {
        double w;
        const char *want;
    } pw[] = {{7360, "7360"},
              {7360.5, "7360.5"},
              {0.1, "0.1"},
              {1.0 / 3, "0.33333333333333331"}, /* 15 digits do not read back: 17 */
              {0, "0"},
              {-0.0, "-0"}, /* as cJSON 1.7.15 printed it */
              {3e9, "3000000000"},
              {-1, "null"}};
    for (size_t i = 0; i < sizeof pw / sizeof pw[0]; i++) {
        LW_CHECK_INT(lw_api_event_transaction(api, "updated", &tx, pw[i].w), 0);
        char want[512];
        snprintf(want, sizeof want,
                 "{\"id\":5000000000,\"transaction_uid\":\"tx-\\\"1\\\"\",\"station_id\":\"CP201\","
                 "\"evse_id\":1,\"connector_id\":2,\"id_token\":null,"
                 "\"started_at\":\"2023-11-14T21:13:20.000Z\",\"stopped_at\":null,"
                 "\"meter_start_wh\":10,\"meter_stop_wh\":null,\"energy_wh\":0,\"power_w\":%s,"
                 "\"stop_reason\":\"ignored while active\"," AT,
                 pw[i].want);
        LW_CHECK_STR(next_data(&cur, &ty), want);
        LW_CHECK_STR(ty, "transaction.updated");
    }
    /* ended: stopped_at and the reason; 1.6 (no transaction id), no times */
    tx.id = 7;
    tx.active = false;
    tx.tx_uid[0] = 0;
    tx.start_ms = 0;
    tx.meter_stop_wh = 1000;
    tx.energy_wh = 990;
    snprintf(tx.id_token, sizeof tx.id_token, "TAG\\1");
    snprintf(tx.stop_reason, sizeof tx.stop_reason, "EVDisconnected");
    LW_CHECK_INT(lw_api_event_transaction(api, "ended", &tx, 0.5), 0);
    LW_CHECK_STR(next_data(&cur, &ty),
                 "{\"id\":7,\"transaction_uid\":null,\"station_id\":\"CP201\",\"evse_id\":1,"
                 "\"connector_id\":2,\"id_token\":\"TAG\\\\1\",\"started_at\":null,"
                 "\"stopped_at\":\"2023-11-14T22:13:20.000Z\",\"meter_start_wh\":10,"
                 "\"meter_stop_wh\":1000,\"energy_wh\":990,\"power_w\":0.5,"
                 "\"stop_reason\":\"EVDisconnected\"," AT);
    LW_CHECK_STR(ty, "transaction.ended");
    tx.stop_reason[0] = 0;
    LW_CHECK_INT(lw_api_event_transaction(api, "started", &tx, 11000), 0);
    const char *d = next_data(&cur, &ty);
    LW_CHECK(strstr(d, "\"power_w\":11000,\"stop_reason\":null,\"at\":") != NULL);
    LW_CHECK_STR(ty, "transaction.started");

    /* tech_info is cut to 512 bytes, back to a UTF-8 boundary: 'ä' at bytes 511-512 goes */
    char ti[600];
    memset(ti, 'x', sizeof ti);
    ti[511] = '\xc3';
    ti[512] = '\xa4';
    LW_CHECK_INT(lw_api_event_security(api, LW_STR("CP16"), LW_STR("SettingSystemTime"),
                                       (lw_str_t){ti, sizeof ti}),
                 0);
    char want[1024];
    snprintf(want, sizeof want,
             "{\"station_id\":\"CP16\",\"type\":\"SettingSystemTime\",\"tech_info\":\"%.511s\"," AT,
             ti);
    LW_CHECK_STR(next_data(&cur, &ty), want);
    LW_CHECK_STR(ty, "security.event");
    /* 'ä' at bytes 510-511 stays whole */
    memset(ti, 'y', sizeof ti);
    ti[510] = '\xc3';
    ti[511] = '\xa4';
    LW_CHECK_INT(lw_api_event_security(api, LW_STR("CP16"), LW_STR(""), (lw_str_t){ti, sizeof ti}),
                 0);
    snprintf(want, sizeof want,
             "{\"station_id\":\"CP16\",\"type\":null,\"tech_info\":\"%.512s\"," AT, ti);
    LW_CHECK_STR(next_data(&cur, NULL), want);
    LW_CHECK_INT(lw_api_event_security(api, LW_STR("CP16"), LW_STR("X"), LW_STR_NULL), 0);
    LW_CHECK_STR(next_data(&cur, NULL),
                 "{\"station_id\":\"CP16\",\"type\":\"X\",\"tech_info\":null," AT);

    /* a wall clock at 0 has no time */
    clk.wall = 0;
    LW_CHECK_INT(lw_api_event_station(api, LW_STR("CP16"), true, LW_OCPP_21), 0);
    LW_CHECK_STR(next_data(&cur, NULL),
                 "{\"station_id\":\"CP16\",\"online\":true,\"ocpp_version\":\"2.1\",\"at\":null}");
    teardown();
}

/* power_w is printed as cJSON prints a number, for any double: compared with cJSON itself. */
LW_TEST(events_numbers_as_cjson)
{
    setup();
    uint64_t cur = 0, x = 88172645463325252ULL;
    lw_api_tx_t tx = {.id = 1, .meter_start_wh = -1, .meter_stop_wh = -1, .energy_wh = -1};
    snprintf(tx.station_id, sizeof tx.station_id, "CP");
    static const double edge[] = {
        0,    -0.0,    1,     2147483647.0, 2147483648.0, 2147483646.5,
        1e15, 1e16,    1e300, 5e-324,       DBL_MAX,      DBL_MIN,
        0.1,  0.3,     1e-7,  123456.789,   1.0 / 3,      9007199254740993.0,
        NAN,  INFINITY};
    size_t ne = sizeof edge / sizeof edge[0];
    int bad = 0;
    for (int i = 0; i < 3000 + (int)ne && bad < 5; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double w;
        switch ((size_t)i < ne ? 5 : i % 5) {
        case 5:
            w = edge[i];
            break;
        case 0: /* any positive finite double */
            do {
                uint64_t bits = x >> 1;
                memcpy(&w, &bits, sizeof w);
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            } while (!isfinite(w));
            break;
        case 1:
            w = (double)(x % 1000000) / 100; /* meter-like decimals */
            break;
        case 2:
            w = (double)(x % 100000) / 3;
            break;
        case 3:
            w = (double)(x % 4000000000ULL) + (x % 2 ? 0.25 : 0); /* around INT_MAX */
            break;
        default:
            w = ldexp((double)(x % 1000), (int)(x % 120) - 60);
        }
        LW_CHECK_INT(lw_api_event_transaction(api, "updated", &tx, w), 0);
        const char *d = next_data(&cur, NULL);
        const char *p = strstr(d, "\"power_w\":");
        const char *e = p ? strchr(p, ',') : NULL;
        cJSON *n = cJSON_CreateNumber(w);
        char *want = cJSON_PrintUnformatted(n);
        cJSON_Delete(n);
        if (!p || !e || strlen(want) != (size_t)(e - p - 10) ||
            memcmp(p + 10, want, strlen(want))) {
            LW_FAILF("power_w %.17g: got %s, cJSON prints %s", w, d, want);
            bad++;
        }
        free(want);
    }
    teardown();
}

/* Slots keep their storage from lap to lap: events of every size, a long one after short ones
 * in the same slot and back, read back whole and exact over three laps of the ring; an event
 * over LW_API_EVENT_DATA_MAX is refused and takes no id. */
LW_TEST(events_ring_reuse_and_limit)
{
    setup();
    uint64_t cur = 0;
    static char status[LW_API_EVENT_DATA_MAX + 2];
    memset(status, 's', sizeof status);
    lw_buf_t b, want;
    lw_buf_init(&b, 1 << 22);
    lw_buf_init(&want, 1 << 22);
    int total = 3 * LW_API_EVENTS_RING + 17, batch = 1000;
    for (int i = 0; i < total; i += batch) {
        lw_buf_reset(&want);
        int n = total - i < batch ? total - i : batch;
        for (int k = i; k < i + n; k++) {
            /* lap 1 short, lap 2 long, lap 3 mixed, so a slot grows and shrinks back */
            size_t len = k < LW_API_EVENTS_RING       ? 1 + (size_t)k % 7
                         : k < 2 * LW_API_EVENTS_RING ? 300 + (size_t)k % 3000
                                                      : (size_t)(k * 37) % 3500 + 1;
            LW_CHECK_INT(
                lw_api_event_status(api, LW_STR("CP"), k, 1, (lw_str_t){status, len}, LW_STR("")),
                0);
            lw_buf_printf(&want,
                          "id: %d\nevent: connector.status\ndata: {\"station_id\":\"CP\","
                          "\"evse_id\":%d,\"connector_id\":1,\"status\":\"%.*s\","
                          "\"error_code\":null," AT "\n\n",
                          k + 1, k, (int)len, status);
        }
        lw_buf_reset(&b);
        LW_CHECK_INT(lw_api_events_read(api, &cur, &b), n);
        LW_CHECK_INT(cur, i + n);
        /* on a difference, both texts from the start of the event where they part */
        size_t at = 0;
        while (at < b.len && at < want.len && b.data[at] == want.data[at])
            at++;
        if (at < b.len || at < want.len) {
            while (at && !(at >= 2 && b.data[at - 1] == '\n' && b.data[at - 2] == '\n'))
                at--;
            LW_FAILF("events differ at byte %zu:\n  got  %.200s\n  want %.200s", at, b.data + at,
                     want.data + at);
        }
    }

    /* the limit counts the whole data: overhead + status = LW_API_EVENT_DATA_MAX passes,
     * one byte more is refused */
    LW_CHECK_INT(lw_api_event_status(api, LW_STR("CP"), 0, 1, LW_STR("s"), LW_STR("")), 0);
    size_t over = strlen(next_data(&cur, NULL)) - 1;
    LW_CHECK_INT(lw_api_event_status(api, LW_STR("CP"), 0, 1,
                                     (lw_str_t){status, LW_API_EVENT_DATA_MAX - over}, LW_STR("")),
                 0);
    LW_CHECK_INT(strlen(next_data(&cur, NULL)), LW_API_EVENT_DATA_MAX);
    uint64_t before = cur;
    LW_CHECK_INT(lw_api_event_status(api, LW_STR("CP"), 0, 1,
                                     (lw_str_t){status, LW_API_EVENT_DATA_MAX - over + 1},
                                     LW_STR("")),
                 LW_EINVAL);
    LW_CHECK_INT(
        lw_api_event_status(api, LW_STR("CP"), 0, 1, (lw_str_t){status, sizeof status}, LW_STR("")),
        LW_EINVAL);
    /* escapes count as written: 1000 newlines are 2000 bytes, 3000 are too many */
    static char nl[3000];
    memset(nl, '\n', sizeof nl);
    LW_CHECK_INT(lw_api_event_status(api, LW_STR("CP"), 0, 1, (lw_str_t){nl, 1000}, LW_STR("")), 0);
    LW_CHECK_INT(lw_api_event_status(api, LW_STR("CP"), 0, 1, (lw_str_t){nl, 3000}, LW_STR("")),
                 LW_EINVAL);
    lw_buf_reset(&b);
    LW_CHECK_INT(lw_api_events_read(api, &cur, &b), 1);
    LW_CHECK_INT(cur, before + 1);
    lw_buf_free(&b);
    lw_buf_free(&want);
    teardown();
}

/* ---- metrics ----------------------------------------------------------------------------- */

LW_TEST(metrics_text)
{
    setup();
    resp_t r = req("GET", "/api/v1/stations", NULL, "", NULL, NULL); /* one 401 */
    resp_free(&r);
    r = req("GET", "/metrics", NULL, "", NULL, NULL);
    LW_CHECK_INT(r.status, 200);
    LW_CHECK(strstr(r.headers, "text/plain; version=0.0.4") != NULL);
    const char *want[] = {
        "# TYPE ladewerk_stations_connected gauge\n",
        "ladewerk_stations_connected{version=\"1.6\"} 2\n",
        "ladewerk_stations_connected{version=\"2.0.1\"} 1\n",
        "ladewerk_stations_connected{version=\"2.1\"} 0\n",
        "ladewerk_ws_upgrades_total 5\n",
        "ladewerk_auth_failures_total 1\n",
        "ladewerk_messages_total{action=\"Heartbeat\",direction=\"in\",outcome=\"ok\"} 10\n",
        "ladewerk_callerrors_total{code=\"FormationViolation\"} 2\n",
        "ladewerk_call_latency_seconds_bucket{action=\"Reset\",le=\"0.005\"} 0\n",
        "ladewerk_call_latency_seconds_bucket{action=\"Reset\",le=\"0.01\"} 1\n",
        "ladewerk_call_latency_seconds_bucket{action=\"Reset\",le=\"0.025\"} 3\n",
        "ladewerk_call_latency_seconds_bucket{action=\"Reset\",le=\"30\"} 3\n",
        "ladewerk_call_latency_seconds_bucket{action=\"Reset\",le=\"+Inf\"} 4\n",
        "ladewerk_call_latency_seconds_count{action=\"Reset\"} 4\n",
        "ladewerk_call_latency_seconds_sum{action=\"Reset\"} 40.000000\n",
        "ladewerk_store_commit_seconds_sum 0.002000\n",
        "ladewerk_store_commit_seconds_count 4\n",
        "ladewerk_store_commits_nosync_total 1\n",
        "ladewerk_store_replays_total 2\n",
        "# TYPE ladewerk_store_cache_bytes gauge\n",
        "ladewerk_store_cache_bytes 123456\n",
        "ladewerk_store_memory_releases_total 3\n",
        "ladewerk_store_batch_size_bucket{le=\"1\"} 3\n",
        "ladewerk_store_batch_size_bucket{le=\"7\"} 4\n",
        "ladewerk_store_batch_size_bucket{le=\"+Inf\"} 4\n",
        "ladewerk_store_sync_seconds_bucket{le=\"0.00025\"} 0\n",
        "ladewerk_store_sync_seconds_bucket{le=\"0.0005\"} 2\n",
        "ladewerk_store_sync_seconds_bucket{le=\"0.025\"} 2\n",
        "ladewerk_store_sync_seconds_bucket{le=\"0.05\"} 3\n",
        "ladewerk_store_sync_seconds_bucket{le=\"+Inf\"} 3\n",
        "ladewerk_store_sync_seconds_sum 0.001500\n",
        "ladewerk_store_sync_seconds_count 3\n",
        "ladewerk_store_sync_seconds_max 0.030000\n",
        "ladewerk_queue_depth{queue=\"store\"} 7\n",
        "ladewerk_queue_capacity{queue=\"store\"} 16384\n",
        "ladewerk_api_requests_total{class=\"4xx\"} 1\n",
        "ladewerk_api_auth_denied_total 1\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(r.body, want[i])) LW_FAILF("missing in /metrics: %s", want[i]);
    resp_free(&r);

    /* label values are escaped */
    lw_api_metrics_t m = {0};
    lw_api_metric_code_t odd = {"a\"b\\c\nd", 1};
    m.callerrors = &odd;
    m.n_callerrors = 1;
    lw_buf_t b;
    lw_buf_init(&b, 1 << 20);
    LW_CHECK_INT(lw_api_metrics_render(api, &m, &b), 0);
    lw_buf_cstr(&b);
    LW_CHECK(strstr(b.data, "ladewerk_callerrors_total{code=\"a\\\"b\\\\c\\nd\"} 1\n") != NULL);
    lw_buf_free(&b);
    teardown();
}

LW_TEST(missing_backend_functions_answer_501)
{
    lw_manual_clock_init(&clk, 1700000000000);
    lw_api_backend_t be = {.token_check = fk_token_check};
    api = lw_api_new(&be, &clk.clock);
    resp_t r = req("GET", "/api/v1/stations", "viewer-tok", "", NULL, NULL);
    LW_CHECK_INT(r.status, 501);
    LW_CHECK_STR(jstr(r.json, "error"), "not_implemented");
    resp_free(&r);
    r = req("GET", "/metrics", NULL, "", NULL, NULL);
    LW_CHECK_INT(r.status, 200);
    resp_free(&r);
    lw_api_free(api);
    api = NULL;
}

int main(void)
{
    LW_RUN(auth_and_roles);
    LW_RUN(routing_errors);
    LW_RUN(stations_list_and_get);
    LW_RUN(stations_create_update_delete);
    LW_RUN(transactions);
    LW_RUN(id_tokens);
    LW_RUN(api_tokens);
    LW_RUN(journal_pairs_requests_and_responses);
    LW_RUN(command_sent_and_answered);
    LW_RUN(command_validation);
    LW_RUN(command_offline_queue_and_ttl);
    LW_RUN(command_idempotency);
    LW_RUN(command_restore);
    LW_RUN(shortcuts_per_version);
    LW_RUN(events_stream);
    LW_RUN(events_notify);
    LW_RUN(events_exact_json);
    LW_RUN(events_numbers_as_cjson);
    LW_RUN(events_ring_reuse_and_limit);
    LW_RUN(metrics_text);
    LW_RUN(missing_backend_functions_answer_501);
    return lw_test_done();
}
