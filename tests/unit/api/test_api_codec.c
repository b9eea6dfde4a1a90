/*
 * tests/unit/api/test_api_codec.c — commands checked by the real generated codec
 * (lw_api_codec_check): a schema violation answers 400 with its JSON path, station-initiated
 * actions are refused, and every friendly shortcut builds a payload that the OCA schemas of
 * 1.6 (with the security extension), 2.0.1 and 2.1 accept.
 */
#include "fake_backend.h"
#include "test.h"

static fake_t fk;
static lw_api_t *api;
static lw_manual_clock_t clk;

static int post(const char *target, const char *body, char *out, size_t outsz)
{
    lw_api_header_t h = {LW_STR("Authorization"), LW_STR("Bearer op-tok")};
    lw_api_request_t rq = {LW_STR("POST"), lw_str_c(target), &h, 1, lw_str_c(body)};
    lw_api_response_t res;
    lw_api_response_init(&res);
    lw_api_handle(api, &rq, &res);
    lw_buf_cstr(&res.body);
    snprintf(out, outsz, "%s", res.body.data ? res.body.data : "");
    int st = res.status;
    lw_api_response_free(&res);
    return st;
}

static void setup(void)
{
    fk_init(&fk);
    lw_api_station_put_t p = {.id = LW_STR("CP21"), .must_not_exist = true};
    fk_station_put(&fk, &p);
    lw_api_station_t *s = fk_station(&fk, LW_STR("CP21"));
    if (s) {
        snprintf(s->ocpp_version, sizeof s->ocpp_version, "2.1");
        s->online = true;
    }
    lw_manual_clock_init(&clk, 1700000000000);
    lw_api_backend_t be = fk_backend(&fk);
    be.action_check = lw_api_codec_check;
    api = lw_api_new(&be, &clk.clock);
    fk.api = api;
}

static void teardown(void)
{
    lw_api_free(api);
    fk_free(&fk);
}

LW_TEST(schema_violations_name_the_path)
{
    setup();
    char b[2048];
    LW_CHECK_INT(
        post("/api/v1/stations/CP16/commands/Reset", "{\"type\":\"Sideways\"}", b, sizeof b), 400);
    cJSON *j = cJSON_Parse(b);
    LW_CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "path")), "type");
    LW_CHECK(strstr(b, "PropertyConstraintViolation") != NULL);
    cJSON_Delete(j);

    LW_CHECK_INT(post("/api/v1/stations/CP16/commands/RemoteStartTransaction", "{}", b, sizeof b),
                 400);
    LW_CHECK(strstr(b, "idTag") != NULL);

    LW_CHECK_INT(
        post("/api/v1/stations/CP201/commands/GetVariables",
             "{\"getVariableData\":[{\"component\":{\"name\":\"X\"},\"variable\":{\"name\":"
             "1}}]}",
             b, sizeof b),
        400);
    j = cJSON_Parse(b);
    LW_CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "path")),
                 "getVariableData[0].variable.name");
    cJSON_Delete(j);

    /* actions the station sends are not commands */
    LW_CHECK_INT(post("/api/v1/stations/CP16/commands/BootNotification", "{}", b, sizeof b), 404);
    LW_CHECK_INT(post("/api/v1/stations/CP201/commands/Heartbeat", "{}", b, sizeof b), 404);
    /* a 2.0.1 action is unknown in 1.6 */
    LW_CHECK_INT(post("/api/v1/stations/CP16/commands/GetVariables", "{}", b, sizeof b), 404);
    /* DataTransfer goes both ways */
    LW_CHECK_INT(
        post("/api/v1/stations/CP16/commands/DataTransfer", "{\"vendorId\":\"x\"}", b, sizeof b),
        202);
    /* 1.6 security extension */
    LW_CHECK_INT(post("/api/v1/stations/CP16/commands/GetInstalledCertificateIds",
                      "{\"certificateType\":\"CentralSystemRootCertificate\"}", b, sizeof b),
                 202);
    teardown();
}

static void ok(const char *station, const char *path, const char *body, const char *action)
{
    char target[128], b[2048];
    snprintf(target, sizeof target, "/api/v1/stations/%s/%s", station, path);
    int st = post(target, body, b, sizeof b);
    if (st != 202)
        LW_FAILF("%s %s: %d %s", target, body, st, b);
    else
        LW_CHECK_STR(fk.sent_action, action);
}

LW_TEST(shortcuts_pass_the_schemas)
{
    setup();
    static const char *const stations[] = {"CP16", "CP201", "CP21"};
    static const char *const prof16 =
        "{\"connector_id\":1,\"profile\":{\"chargingProfileId\":1,\"stackLevel\":0,"
        "\"chargingProfilePurpose\":\"TxDefaultProfile\",\"chargingProfileKind\":\"Absolute\","
        "\"chargingSchedule\":{\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":[{"
        "\"startPeriod\":0,\"limit\":16}]}}}";
    static const char *const prof2x =
        "{\"evse_id\":1,\"profile\":{\"id\":1,\"stackLevel\":0,\"chargingProfilePurpose\":"
        "\"TxDefaultProfile\",\"chargingProfileKind\":\"Absolute\",\"chargingSchedule\":[{\"id\":1,"
        "\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":16}]}]"
        "}"
        "}";
    for (int i = 0; i < 3; i++) {
        const char *s = stations[i];
        bool v16 = i == 0;
        ok(s, "remote-start", "{\"id_token\":\"TAG1\",\"connector_id\":1}",
           v16 ? "RemoteStartTransaction" : "RequestStartTransaction");
        ok(s, "remote-stop", v16 ? "{\"transaction_id\":1}" : "{\"transaction_id\":\"uid-abc\"}",
           v16 ? "RemoteStopTransaction" : "RequestStopTransaction");
        ok(s, "reset", "{\"type\":\"hard\"}", "Reset");
        ok(s, "reset", "{}", "Reset");
        ok(s, "unlock", "{\"connector_id\":1}", "UnlockConnector");
        ok(s, "availability", "{\"operative\":false,\"connector_id\":1,\"evse_id\":1}",
           "ChangeAvailability");
        ok(s, "availability", "{\"operative\":true}", "ChangeAvailability");
        ok(s, "config/get",
           v16 ? "{\"keys\":[\"HeartbeatInterval\"]}"
               : "{\"keys\":[\"OCPPCommCtrlr.HeartbeatInterval\"]}",
           v16 ? "GetConfiguration" : "GetVariables");
        ok(s, "config/get", "{}", v16 ? "GetConfiguration" : "GetBaseReport");
        ok(s, "config/set",
           v16 ? "{\"key\":\"HeartbeatInterval\",\"value\":\"60\"}"
               : "{\"key\":\"OCPPCommCtrlr.HeartbeatInterval\",\"value\":\"60\"}",
           v16 ? "ChangeConfiguration" : "SetVariables");
        ok(s, "trigger", "{\"message\":\"StatusNotification\",\"connector_id\":1,\"evse_id\":1}",
           "TriggerMessage");
        ok(s, "firmware", "{\"location\":\"https://fw.example.org/fw-2.bin\",\"retries\":3}",
           v16 ? "UpdateFirmware" : "UpdateFirmware");
        ok(s, "firmware",
           "{\"location\":\"https://fw.example.org/fw-2.bin\",\"signing_certificate\":\"-----BEGIN "
           "CERTIFICATE-----\",\"signature\":\"c2ln\"}",
           v16 ? "SignedUpdateFirmware" : "UpdateFirmware");
        ok(s, "diagnostics", "{\"location\":\"ftp://logs.example.org/up\"}",
           v16 ? "GetDiagnostics" : "GetLog");
        ok(s, "diagnostics",
           "{\"location\":\"ftp://logs.example.org/up\",\"log_type\":\"SecurityLog\"}", "GetLog");
        ok(s, "local-list",
           "{\"version\":2,\"update_type\":\"Differential\",\"tokens\":[{\"id_token\":\"T1\","
           "\"status\":\"Accepted\",\"expiry\":\"2030-01-01T00:00:00Z\",\"group_id\":\"G\"},"
           "{\"id_token\":\"T2\"}]}",
           "SendLocalList");
        ok(s, "local-list", "{\"version\":3}", "SendLocalList"); /* from the token table */
        ok(s, "reserve",
           "{\"id_token\":\"TAG1\",\"expires_at\":\"2030-01-01T00:00:00Z\",\"connector_id\":1}",
           "ReserveNow");
        ok(s, "cancel-reservation", "{\"reservation_id\":7}", "CancelReservation");
        ok(s, "charging-profile", v16 ? prof16 : prof2x, "SetChargingProfile");
        ok(s, "clear-charging-profile", "{\"id\":1}", "ClearChargingProfile");
        ok(s, "clear-charging-profile",
           "{\"connector_id\":1,\"purpose\":\"TxDefaultProfile\",\"stack_level\":0}",
           "ClearChargingProfile");
        ok(s, "clear-cache", "", "ClearCache");
    }
    teardown();
}

int main(void)
{
    LW_RUN(schema_violations_name_the_path);
    LW_RUN(shortcuts_pass_the_schemas);
    return lw_test_done();
}
