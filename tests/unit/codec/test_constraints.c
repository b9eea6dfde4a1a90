/*
 * test_constraints.c — every kind of schema constraint and JSON grammar rule the codec
 * enforces, in each OCPP version: the payload is rejected (or accepted), with the JSON path,
 * the keyword in the detail, and the CALLERROR code of that version. decode and validate
 * must agree on every case.
 */
#include "test.h"

#include "codec/gen/ocpp16.h"
#include "codec/jdoc.h"
#include "codec/gen/ocpp201.h"
#include "codec/gen/ocpp21.h"
#include "ladewerk/codec.h"
#include "ladewerk/limits.h"

#include <stdlib.h>

#define OK   LW_OCPP_ERR_NONE
#define FMT  LW_OCPP_ERR_FORMAT
#define TYPE LW_OCPP_ERR_TYPE_CONSTRAINT
#define OCC  LW_OCPP_ERR_OCCURRENCE_CONSTRAINT
#define PROP LW_OCPP_ERR_PROPERTY_CONSTRAINT

static void expect_(int line, const lw_codec_msg_t *m, const char *json, size_t len,
                    lw_ocpp_err_t code, const char *path, const char *detail)
{
    lw_codec_error_t e1, e2;
    int rv = lw_codec_validate(m, json, len, &e1);
    lw_arena_t arena;
    lw_arena_init(&arena, 0);
    void *out = calloc(1, lw_codec_msg_size(m));
    int rd = lw_codec_decode(m, json, len, out, &arena, &e2);
    free(out);
    lw_arena_free(&arena);
    if (rv != rd || e1.code != e2.code || strcmp(e1.path, e2.path) != 0)
        LW_FAILF("line %d: validate (%d %s) and decode (%d %s) disagree", line, rv, e1.path, rd,
                 e2.path);
    /* validate_doc (what the CSMS runs on every inbound CALL) gives the same verdict. */
    lw_codec_error_t e3;
    lw_jdoc_t doc;
    int rk = lw_codec_validate_doc(m, json, len, &doc, &e3);
    if (rv != rk || e1.code != e3.code || strcmp(e1.path, e3.path) != 0 ||
        strcmp(e1.detail, e3.detail) != 0)
        LW_FAILF("line %d: validate (%d %s) and validate_doc (%d %s) disagree", line, rv, e1.path,
                 rk, e3.path);
    if (rk == 0 && (doc.n == 0 || doc.len != len || memcmp(doc.text, json, len) != 0))
        LW_FAILF("line %d: validate_doc kept %u tokens, %zu bytes", line, doc.n, doc.len);
    if (rk != 0 && doc.n != 0) LW_FAILF("line %d: a rejected payload left tokens", line);
    lw_jdoc_free(&doc);
    if (code == OK) {
        if (rv != 0)
            LW_FAILF("line %d: %.*s\n  rejected: %s: %s", line, (int)len, json, e1.path, e1.detail);
        return;
    }
    if (rv != LW_ESCHEMA) {
        LW_FAILF("line %d: %.*s\n  accepted (rc %d), want %s", line, (int)(len > 200 ? 200 : len),
                 json, rv, lw_ocpp_err_name(LW_OCPP_201, code));
        return;
    }
    if (e1.code != code || strcmp(e1.path, path) != 0 || !strstr(e1.detail, detail))
        LW_FAILF("line %d: %.*s\n  got  %s / \"%s\" / %s\n  want %s / \"%s\" / ...%s...", line,
                 (int)(len > 200 ? 200 : len), json, lw_ocpp_err_name(LW_OCPP_201, e1.code),
                 e1.path, e1.detail, lw_ocpp_err_name(LW_OCPP_201, code), path, detail);
}
#define EXPECT(m, json, code, path, detail)                                                        \
    expect_(__LINE__, &(m), (json), strlen(json), (code), (path), (detail))

LW_TEST(required_and_additional)
{
    EXPECT(lw_v16_BootNotificationRequest_msg, "{\"chargePointVendor\":\"a\"}", OCC,
           "chargePointModel", "required");
    EXPECT(lw_v16_BootNotificationRequest_msg,
           "{\"chargePointVendor\":\"a\",\"chargePointModel\":\"b\",\"foo\":1}", FMT, "foo",
           "additionalProperties");
    EXPECT(
        lw_v201_SetChargingProfileRequest_msg,
        "{\"evseId\":0,\"chargingProfile\":{\"id\":0,\"stackLevel\":0,\"chargingProfilePurpose\":"
        "\"TxProfile\",\"chargingProfileKind\":\"Absolute\",\"chargingSchedule\":[{\"id\":0,"
        "\"chargingRateUnit\":\"W\",\"chargingSchedulePeriod\":[{\"limit\":0.5}]}]}}",
        OCC, "chargingProfile.chargingSchedule[0].chargingSchedulePeriod[0].startPeriod",
        "required");
    EXPECT(lw_v21_AuthorizeRequest_msg, "{\"idToken\":{\"idToken\":\"x\",\"typo\":\"Central\"}}",
           FMT, "idToken.typo", "additionalProperties");
    /* 2.x customData admits further members, kept in _extra; they must still be unique */
    EXPECT(lw_v201_AuthorizeRequest_msg,
           "{\"idToken\":{\"idToken\":\"x\",\"type\":\"Central\",\"customData\":{\"vendorId\":"
           "\"v\",\"more\":{\"a\":[1]},\"x\":null}}}",
           OK, "", "");
    EXPECT(lw_v201_AuthorizeRequest_msg,
           "{\"idToken\":{\"idToken\":\"x\",\"type\":\"Central\",\"customData\":{\"x\":1,"
           "\"vendorId\":\"v\",\"x\":2}}}",
           FMT, "idToken.customData", "duplicate key \"x\"");
    EXPECT(lw_v201_AuthorizeRequest_msg,
           "{\"idToken\":{\"idToken\":\"x\",\"type\":\"Central\",\"customData\":{}}}", OCC,
           "idToken.customData.vendorId", "required");
}

LW_TEST(types)
{
    EXPECT(lw_v16_BootNotificationRequest_msg,
           "{\"chargePointVendor\":5,\"chargePointModel\":\"b\"}", TYPE, "chargePointVendor",
           "expected string, got number");
    EXPECT(lw_v16_MeterValuesRequest_msg, "{\"connectorId\":\"1\",\"meterValue\":[]}", TYPE,
           "connectorId", "expected integer, got string");
    EXPECT(lw_v16_MeterValuesRequest_msg, "{\"connectorId\":1,\"meterValue\":{}}", TYPE,
           "meterValue", "expected array, got object");
    EXPECT(lw_v201_AuthorizeRequest_msg, "{\"idToken\":[]}", TYPE, "idToken",
           "expected object, got array");
    EXPECT(lw_v201_NotifyEVChargingNeedsRequest_msg,
           "{\"chargingNeeds\":{\"requestedEnergyTransfer\":\"DC\"},\"evseId\":null}", TYPE,
           "evseId", "expected integer, got null");
    EXPECT(lw_v21_GetVariablesResponse_msg, "{\"getVariableResult\":[true]}", TYPE,
           "getVariableResult[0]", "expected object, got boolean");
    EXPECT(lw_v16_ChangeConfigurationResponse_msg, "{\"status\":1}", TYPE, "status",
           "expected string");
    EXPECT(lw_v201_SetDisplayMessageRequest_msg,
           "{\"message\":{\"id\":1,\"priority\":\"InFront\","
           "\"message\":{\"format\":\"ASCII\",\"content\":\"x\"}},\"x\":1}",
           FMT, "x", "");
    EXPECT(lw_v16_StartTransactionResponse_msg,
           "{\"transactionId\":1,\"idTagInfo\":{\"status\":\"Accepted\",\"parentIdTag\":true}}",
           TYPE, "idTagInfo.parentIdTag", "expected string, got boolean");
}

LW_TEST(integer_vs_number)
{
    /* integer: any JSON number with an integral value (draft-06; what ajv does), int64 range */
    const char *ok[] = {"1.0",
                        "1e2",
                        "1E+2",
                        "-0",
                        "0.0e5",
                        "150e-1",
                        "-9223372036854775808",
                        "9223372036854775807",
                        "92233720368547758.07e2"};
    char buf[200];
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        snprintf(buf, sizeof(buf),
                 "{\"connectorId\":%s,\"meterValue\":[{\"timestamp\":"
                 "\"2026-01-02T03:04:05Z\",\"sampledValue\":[{\"value\":\"1\"}]}]}",
                 ok[i]);
        EXPECT(lw_v16_MeterValuesRequest_msg, buf, OK, "", "");
    }
    const char *notint[] = {"1.5", "1e-1", "0.00001",
                            "1.0000000000000000000000000000000000000000000001"};
    for (size_t i = 0; i < sizeof(notint) / sizeof(notint[0]); i++) {
        snprintf(buf, sizeof(buf), "{\"connectorId\":%s,\"meterValue\":[]}", notint[i]);
        EXPECT(lw_v16_MeterValuesRequest_msg, buf, TYPE, "connectorId", "expected integer");
    }
    const char *big[] = {"9223372036854775808", "-9223372036854775809", "1e19", "1e400"};
    for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
        snprintf(buf, sizeof(buf), "{\"connectorId\":%s,\"meterValue\":[]}", big[i]);
        EXPECT(lw_v16_MeterValuesRequest_msg, buf, PROP, "connectorId", "integer range");
    }
    /* decoded values */
    lw_v16_MeterValuesRequest_t mv = {0};
    lw_arena_t a;
    lw_arena_init(&a, 0);
    const char *j =
        "{\"connectorId\":150e-1,\"transactionId\":-9223372036854775808,\"meterValue\":"
        "[{\"timestamp\":\"2026-01-02T03:04:05Z\",\"sampledValue\":[{\"value\":\"1\"}]}]}";
    LW_CHECK_INT(lw_v16_MeterValuesRequest_decode(j, strlen(j), &mv, &a, NULL), 0);
    LW_CHECK_INT(mv.connectorId, 15);
    LW_CHECK(mv.has_transactionId && mv.transactionId == INT64_MIN);
    lw_arena_free(&a);
}

LW_TEST(enums)
{
    EXPECT(lw_v16_MeterValuesRequest_msg,
           "{\"connectorId\":1,\"meterValue\":[{\"timestamp\":\"2026-01-02T03:04:05Z\","
           "\"sampledValue\":[{\"value\":\"1\"},{\"value\":\"2\"},{\"value\":\"3\",\"measurand\":"
           "\"Energy.Active.Import.Registe\"}]}]}",
           PROP, "meterValue[0].sampledValue[2].measurand", "enum");
    EXPECT(lw_v201_StatusNotificationRequest_msg,
           "{\"timestamp\":\"2026-01-02T03:04:05Z\",\"connectorStatus\":\"available\",\"evseId\":1,"
           "\"connectorId\":1}",
           PROP, "connectorStatus", "ConnectorStatusEnumType");
    /* escaped spelling of a valid value is the same string */
    EXPECT(lw_v201_StatusNotificationRequest_msg,
           "{\"timestamp\":\"2026-01-02T03:04:05Z\",\"connectorStatus\":\"Av\\u0061ilable\","
           "\"evseId\":1,\"connectorId\":1}",
           OK, "", "");
    EXPECT(lw_v21_ResetRequest_msg, "{\"type\":\"\"}", PROP, "type", "enum");
}

LW_TEST(lengths_in_code_points)
{
    /* chargePointVendor maxLength 20: 20 two-byte characters (40 bytes) are fine, 21 are not;
     * 20 four-byte characters (80 bytes) too; escapes count as one character */
    char buf[300];
    const char *e2 = "\xc3\xa9", *e4 = "\xf0\x9f\x98\x80";
    for (int n = 20; n <= 21; n++) {
        for (int w = 0; w < 3; w++) {
            size_t o = (size_t)snprintf(buf, sizeof(buf),
                                        "{\"chargePointModel\":\"m\",\"chargePointVendor\":\"");
            for (int i = 0; i < n; i++) {
                const char *c = w == 0 ? e2 : w == 1 ? e4 : "\\ud83d\\ude00";
                memcpy(buf + o, c, strlen(c));
                o += strlen(c);
            }
            snprintf(buf + o, sizeof(buf) - o, "\"}");
            if (n == 20)
                EXPECT(lw_v16_BootNotificationRequest_msg, buf, OK, "", "");
            else
                EXPECT(lw_v16_BootNotificationRequest_msg, buf, PROP, "chargePointVendor",
                       "maxLength: 21");
        }
    }
    EXPECT(lw_v201_BootNotificationRequest_msg,
           "{\"reason\":\"PowerUp\",\"chargingStation\":{\"model\":\"123456789012345678901\","
           "\"vendorName\":\"v\"}}",
           PROP, "chargingStation.model", "maxLength");
    /* decoded copies are unescaped UTF-8 */
    lw_v16_BootNotificationRequest_t m = {0};
    lw_arena_t a;
    lw_arena_init(&a, 0);
    const char *j = "{\"chargePointModel\":\"\\ud83d\\ude00\\n\\\"\",\"chargePointVendor\":\"v\"}";
    LW_CHECK_INT(lw_v16_BootNotificationRequest_decode(j, strlen(j), &m, &a, NULL), 0);
    LW_CHECK_STR(m.chargePointModel, "\xf0\x9f\x98\x80\n\"");
    lw_arena_free(&a);
    EXPECT(lw_v16_BootNotificationRequest_msg,
           "{\"chargePointModel\":\"a\\u0000b\",\"chargePointVendor\":\"v\"}", PROP,
           "chargePointModel", "U+0000");
}

LW_TEST(minimum_maximum)
{
    const char *base =
        "{\"chargingNeeds\":{\"requestedEnergyTransfer\":\"DC\",\"dcChargingParameters\":"
        "{\"evMaxCurrent\":1,\"evMaxVoltage\":1,\"stateOfCharge\":%s}},\"evseId\":0}";
    char buf[300];
    const char *vals[] = {"0", "100", "-1", "101", "100.0", "1e2", "-0"};
    lw_ocpp_err_t want[] = {OK, OK, PROP, PROP, OK, OK, OK};
    for (int i = 0; i < 7; i++) {
        snprintf(buf, sizeof(buf), base, vals[i]);
        EXPECT(lw_v201_NotifyEVChargingNeedsRequest_msg, buf, want[i],
               "chargingNeeds.dcChargingParameters.stateOfCharge", i == 2 ? "minimum" : "maximum");
    }
    /* numbers (2.1 BatteryDataType.soC 0.0 .. 100.0), compared exactly on the decimal text */
    const char *nb =
        "{\"batteryData\":[{\"evseId\":0,\"serialNumber\":\"s\",\"soC\":%s,\"soH\":50}],"
        "\"eventType\":\"BatteryIn\",\"idToken\":{\"idToken\":\"x\",\"type\":\"y\"},"
        "\"requestId\":0}";
    const char *nv[] = {"0",
                        "100",
                        "100.0000000000000000000001",
                        "-0.0000000000000000000000001",
                        "99.99999999999999999999999999",
                        "1e2",
                        "1.00000000000000000000001e2",
                        "-0"};
    lw_ocpp_err_t nw[] = {OK, OK, PROP, PROP, OK, OK, PROP, OK};
    const char *nd[] = {"", "", "maximum", "minimum", "", "", "maximum", ""};
    for (int i = 0; i < 8; i++) {
        snprintf(buf, sizeof(buf), nb, nv[i]);
        EXPECT(lw_v21_BatterySwapRequest_msg, buf, nw[i], "batteryData[0].soC", nd[i]);
    }
    EXPECT(lw_v21_BatterySwapRequest_msg,
           "{\"batteryData\":[{\"evseId\":0,\"serialNumber\":\"s\",\"soC\":\"5\",\"soH\":50}],"
           "\"eventType\":\"BatteryIn\",\"idToken\":{\"idToken\":\"x\",\"type\":\"y\"},"
           "\"requestId\":0}",
           TYPE, "batteryData[0].soC", "expected number, got string");
}

LW_TEST(multiple_of_exact)
{
    /* 1.6 charging schedule limit: multipleOf 0.1, on the decimal text */
    const char *base =
        "{\"connectorId\":0,\"csChargingProfiles\":{\"chargingProfileId\":0,\"stackLevel\":0,"
        "\"chargingProfilePurpose\":\"TxDefaultProfile\",\"chargingProfileKind\":"
        "\"Absolute\",\"chargingSchedule\":{\"chargingRateUnit\":\"A\","
        "\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":%s}]}}}";
    const char *good[] = {"0.3",
                          "1.1",
                          "4.3",
                          "12.3",
                          "1e-1",
                          "0.30",
                          "1E1",
                          "16",
                          "-2.2",
                          "0",
                          "-0.0",
                          "4.30000",
                          "123456789012345678901234567890.1",
                          "0.0001e3"};
    const char *bad[] = {"4.35",
                         "12.35",
                         "0.01",
                         "1e-2",
                         "0.30000000000000004",
                         "1.11",
                         "123456789012345678901234567890.01",
                         "0.0001e2"};
    char buf[400];
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(buf, sizeof(buf), base, good[i]);
        EXPECT(lw_v16_SetChargingProfileRequest_msg, buf, OK, "", "");
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(buf, sizeof(buf), base, bad[i]);
        EXPECT(lw_v16_SetChargingProfileRequest_msg, buf, PROP,
               "csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit", "multipleOf");
    }
}

LW_TEST(items)
{
    EXPECT(lw_v16_MeterValuesRequest_msg, "{\"connectorId\":1,\"meterValue\":[]}", OCC,
           "meterValue", "minItems");
    EXPECT(lw_v16_MeterValuesRequest_msg,
           "{\"connectorId\":1,\"meterValue\":[{\"timestamp\":\"2026-01-02T03:04:05Z\","
           "\"sampledValue\":[]}]}",
           OCC, "meterValue[0].sampledValue", "minItems");
    /* 2.0.1 ChargingProfileType.chargingSchedule: 1..3 items */
    const char *sched = "{\"id\":0,\"chargingRateUnit\":\"W\",\"chargingSchedulePeriod\":[{"
                        "\"startPeriod\":0,\"limit\":0.5}]}";
    char buf[1200];
    for (int n = 3; n <= 4; n++) {
        size_t o = (size_t)snprintf(buf, sizeof(buf),
                                    "{\"evseId\":0,\"chargingProfile\":{\"id\":0,\"stackLevel\":0,"
                                    "\"chargingProfilePurpose\":\"TxProfile\","
                                    "\"chargingProfileKind\":\"Absolute\",\"chargingSchedule\":[");
        for (int i = 0; i < n; i++)
            o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", i ? "," : "", sched);
        snprintf(buf + o, sizeof(buf) - o, "]}}");
        EXPECT(lw_v201_SetChargingProfileRequest_msg, buf, n == 3 ? OK : OCC,
               "chargingProfile.chargingSchedule", "maxItems: 4");
    }
    EXPECT(lw_v21_GetMonitoringReportRequest_msg,
           "{\"requestId\":1,\"monitoringCriteria\":[\"ThresholdMonitoring\",\"DeltaMonitoring\","
           "\"PeriodicMonitoring\",\"ThresholdMonitoring\"]}",
           OCC, "monitoringCriteria", "maxItems");
    EXPECT(lw_v21_GetMonitoringReportRequest_msg,
           "{\"requestId\":1,\"monitoringCriteria\":[\"ThresholdMonitoring\",\"Delta\"]}", PROP,
           "monitoringCriteria[1]", "enum");
}

LW_TEST(date_time)
{
    /* RFC 3339 §5.7: second 60 only where the UTC time is 23:59:60; the offset may move it
     * to another local hour and minute (15:59:60-08:00, 00:29:60+00:30 of the next day). */
    const char *good[] = {"2026-01-02T03:04:05Z",      "2026-01-02T03:04:05.123456+05:30",
                          "2024-02-29T23:59:59-00:00", "2026-01-02t03:04:05z",
                          "2016-12-31T23:59:60Z",      "2016-12-31T23:59:60.5Z",
                          "2016-12-31T15:59:60-08:00", "2017-01-01T00:29:60+00:30",
                          "2017-01-01T09:59:60+10:00", "2016-12-31T22:30:60-01:29"};
    const char *bad[] = {"2026-01-02T03:04:05",
                         "2026-01-02",
                         "2026-02-30T00:00:00Z",
                         "2025-02-29T00:00:00Z",
                         "2026-13-01T00:00:00Z",
                         "2026-01-02T24:00:00Z",
                         "2026-01-02 03:04:05Z",
                         "2026-01-02T03:04:05+0100",
                         "x",
                         "",
                         "2024-05-01T12:00:60Z",
                         "2016-12-31T23:58:60Z",
                         "2016-12-31T22:59:60Z",
                         "2016-12-31T23:59:60+01:00",
                         "2016-12-31T23:59:60-00:01",
                         "2016-12-31T23:59:61Z"};
    char buf[200];
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(buf, sizeof(buf), "{\"currentTime\":\"%s\"}", good[i]);
        EXPECT(lw_v16_HeartbeatResponse_msg, buf, OK, "", "");
        EXPECT(lw_v201_HeartbeatResponse_msg, buf, OK, "", "");
        EXPECT(lw_v21_HeartbeatResponse_msg, buf, OK, "", "");
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(buf, sizeof(buf), "{\"currentTime\":\"%s\"}", bad[i]);
        EXPECT(lw_v16_HeartbeatResponse_msg, buf, PROP, "currentTime", "date-time");
        EXPECT(lw_v201_HeartbeatResponse_msg, buf, PROP, "currentTime", "date-time");
        EXPECT(lw_v21_HeartbeatResponse_msg, buf, PROP, "currentTime", "date-time");
    }
}

LW_TEST(uri)
{
    /* RFC 3986 §3.2.2: IP-literal = "[" ( IPv6address / IPvFuture ) "]" */
    const char *good[] = {"ftp://user:pw@example.com:21/logs/a%20b?x=1#f",
                          "http://[::1]:8080/x",
                          "urn:oasis:names",
                          "https://example.com",
                          "file:///tmp/x",
                          "http://[2001:db8::1]:8080/fw.bin?channel=stable#sig",
                          "http://[::]/",
                          "http://[1::]/",
                          "http://[1:2:3:4:5:6:7:8]/",
                          "http://[1:2:3:4:5:6:7::]/",
                          "http://[1::2:3:4:5:6:7]/",
                          "http://[::ffff:192.0.2.255]/",
                          "http://[1:2:3:4:5:6:10.0.0.1]:1/",
                          "http://[ABCD:ef01::0]/",
                          "http://[v7.lw-host]/fw.bin",
                          "http://[V1F.a:b!$&'()*+,;=~_]/",
                          "http://u@[vA.x]:80"};
    const char *bad[] = {"example.com/x",
                         "/relative",
                         "http://exa mple.com/",
                         "ftp://h/%zz",
                         "1http://x",
                         "http://h:80x/",
                         "http://h/a#b#c",
                         "",
                         "http://h/\\u00e9",
                         "http://[2001:db8::.1]:8080/fw.bin",
                         "http://[1:2:3:4:5:6:7:8:9]/x",
                         "http://[1:2:3:4:5:6:7]/",
                         "http://[1:2:3:4:5:6:7:8::]/",
                         "http://[1::2::3]/",
                         "http://[:::]/",
                         "http://[:1::2]/",
                         "http://[1::2:]/",
                         "http://[12345::1]/",
                         "http://[]/",
                         "http://[::1.2.3]/",
                         "http://[::1.2.3.256]/",
                         "http://[::1.2.3.04]/",
                         "http://[1:2:3:4:5:6:7:1.2.3.4]/",
                         "http://[1.2.3.4::]/",
                         "http://[::1%25eth0]/",
                         "http://[v.x]/",
                         "http://[v7.]/",
                         "http://[v7x]/",
                         "http://[vg.x]/",
                         "http://[v7.a/b]/",
                         "http://[::1]x/",
                         "http://[::1/"};
    char buf[200];
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(buf, sizeof(buf), "{\"location\":\"%s\"}", good[i]);
        EXPECT(lw_v16_GetDiagnosticsRequest_msg, buf, OK, "", "");
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(buf, sizeof(buf),
                 "{\"location\":\"%s\",\"retrieveDate\":\"2026-01-02T03:04:05Z\"}", bad[i]);
        EXPECT(lw_v16_UpdateFirmwareRequest_msg, buf, PROP, "location", "uri");
    }
}

LW_TEST(json_grammar)
{
    const lw_codec_msg_t *m = &lw_v16_BootNotificationRequest_msg;
    const char *bad[] = {
        "",
        "   ",
        "{",
        "{\"chargePointVendor\":\"a\"",
        "{\"chargePointVendor\":\"a\",\"chargePointModel\":\"b\",}",
        "{\"chargePointVendor\":\"a\" \"chargePointModel\":\"b\"}",
        "{\"chargePointVendor\" \"a\"}",
        "{\"chargePointVendor\":}",
        "{chargePointVendor:\"a\"}",
        "{\"chargePointVendor\":\"a\\x\"}",
        "{\"chargePointVendor\":\"a\\ud800\",\"chargePointModel\":\"b\"}",
        "{\"chargePointVendor\":\"a\\udc00\",\"chargePointModel\":\"b\"}",
        "{\"chargePointVendor\":\"a\xff\",\"chargePointModel\":\"b\"}",
        "{\"chargePointVendor\":\"a\xc0\xaf\",\"chargePointModel\":\"b\"}",
        "{\"chargePointVendor\":\"a\xed\xa0\x80\",\"chargePointModel\":\"b\"}",
        "{\"chargePointVendor\":\"a\xe2\x82\",\"chargePointModel\":\"b\"}",
        "{\"chargePointVendor\":\"a\tb\",\"chargePointModel\":\"b\"}",
        "{\"chargePointVendor\":\"a\",\"chargePointModel\":\"b\"} x",
        "{\"chargePointVendor\":\"a\",\"chargePointModel\":\"b\"}}",
        "{\"chargePointVendor\":\"a\",\"chargePointModel\":\"b\"}{}",
        "{\"chargePointVendor\":tru}",
        "{\"chargePointVendor\":nul}",
        "{\"chargePointVendor\":True}",
        "{\"chargePointVendor\":01}",
        "{\"chargePointVendor\":-}",
        "{\"chargePointVendor\":1.}",
        "{\"chargePointVendor\":.5}",
        "{\"chargePointVendor\":1e}",
        "{\"chargePointVendor\":+1}",
        "{\"chargePointVendor\":0x10}",
        "{\"chargePointVendor\":NaN}",
        "{'chargePointVendor':'a'}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect_(__LINE__ * 1000 + (int)i, m, bad[i], strlen(bad[i]), FMT, "", "JSON");
    }
    /* NUL byte inside the input */
    expect_(__LINE__, m, "{\"chargePointVendor\":\"a\0\"}", 26, FMT, "", "JSON");
    /* not an object */
    EXPECT(lw_v16_BootNotificationRequest_msg, "[]", FMT, "", "expected a JSON object, got array");
    EXPECT(lw_v16_BootNotificationRequest_msg, "\"x\"", FMT, "", "expected a JSON object");
    EXPECT(lw_v16_BootNotificationRequest_msg, "null", FMT, "", "expected a JSON object");
    /* whitespace around is fine; so are all escapes */
    EXPECT(lw_v16_BootNotificationRequest_msg,
           " \r\n\t{ \"chargePointVendor\" : \"\\\"\\\\\\/\\b\\f\\n\\r\\t\" , \"chargePointModel\""
           ":\"b\" } \n",
           OK, "", "");
    /* duplicate keys, also spelled differently */
    EXPECT(lw_v16_BootNotificationRequest_msg,
           "{\"chargePointVendor\":\"a\",\"chargePointModel\":\"b\",\"chargePointVendor\":\"a\"}",
           FMT, "chargePointVendor", "duplicate key");
    EXPECT(lw_v16_BootNotificationRequest_msg,
           "{\"chargePointVendor\":\"a\",\"chargePointModel\":\"b\",\"\\u0063hargePointVendor\":"
           "\"c\"}",
           FMT, "chargePointVendor", "duplicate key");
    EXPECT(lw_v201_DataTransferRequest_msg,
           "{\"vendorId\":\"v\",\"data\":[{\"k\":1,\"j\":{},\"\\u006b\":2}]}", FMT, "data",
           "duplicate key \"k\"");
    EXPECT(lw_v201_DataTransferRequest_msg,
           "{\"vendorId\":\"v\",\"data\":{\"k\":{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,"
           "\"g\":7,\"h\":8,\"i\":9,\"j\":10,\"k\":11,\"l\":12,\"m\":13,\"n\":14,\"o\":15,\"p\":16,"
           "\"q\":17,\"r\":18,\"a\":19}}}",
           FMT, "data", "duplicate key \"a\"");
}

LW_TEST(limits_and_truncation)
{
    /* nesting: LW_JSON_DEPTH_MAX levels are fine (the payload is one), one more is not */
    char buf[4096];
    for (int extra = 0; extra <= 1; extra++) {
        int depth = LW_JSON_DEPTH_MAX - 1 + extra; /* arrays inside the payload object */
        size_t o = (size_t)snprintf(buf, sizeof(buf), "{\"vendorId\":\"v\",\"data\":");
        for (int i = 0; i < depth; i++)
            buf[o++] = '[';
        for (int i = 0; i < depth; i++)
            buf[o++] = ']';
        snprintf(buf + o, sizeof(buf) - o, "}");
        if (extra)
            EXPECT(lw_v201_DataTransferRequest_msg, buf, FMT, "", "nesting too deep");
        else
            EXPECT(lw_v201_DataTransferRequest_msg, buf, OK, "", "");
    }
    /* a long array needs more than the tokenizer's on-stack tokens */
    size_t big = 200000;
    char *p = malloc(big + 100);
    size_t o = (size_t)snprintf(p, big, "{\"vendorId\":\"v\",\"data\":[");
    int n = 0;
    while (o < big - 10) {
        o += (size_t)snprintf(p + o, big - o, "%s1", n++ ? "," : "");
    }
    o += (size_t)snprintf(p + o, big + 100 - o, "]}");
    expect_(__LINE__, &lw_v201_DataTransferRequest_msg, p, o, FMT, "", "tokens");
    o = (size_t)snprintf(p, big, "{\"vendorId\":\"v\",\"data\":[");
    for (int i = 0; i < 2000; i++)
        o += (size_t)snprintf(p + o, big - o, "%s\"x\"", i ? "," : "");
    o += (size_t)snprintf(p + o, big + 100 - o, "]}");
    expect_(__LINE__, &lw_v201_DataTransferRequest_msg, p, o, OK, "", "");
    free(p);
    /* every truncation of a valid message is rejected as a format error */
    static char sample[65536];
    FILE *f = fopen("tests/data/samples/v201/TransactionEventRequest.max.json", "rb");
    LW_CHECK(f != NULL);
    if (!f) return;
    size_t len = fread(sample, 1, sizeof(sample), f);
    fclose(f);
    LW_CHECK(len > 1000 && len < sizeof(sample));
    while (len && (sample[len - 1] == '\n'))
        len--;
    expect_(__LINE__, &lw_v201_TransactionEventRequest_msg, sample, len, OK, "", "");
    for (size_t cut = 0; cut < len; cut++) {
        lw_codec_error_t e;
        int rc = lw_codec_validate(&lw_v201_TransactionEventRequest_msg, sample, cut, &e);
        if (rc != LW_ESCHEMA || e.code != FMT) {
            LW_FAILF("truncated at %zu: rc %d code %d", cut, rc, e.code);
            break;
        }
    }
}

LW_TEST(error_names_per_version)
{
    lw_codec_error_t e;
    const char *j = "{\"chargePointVendor\":\"a\"}";
    LW_CHECK_INT(lw_codec_validate(&lw_v16_BootNotificationRequest_msg, j, strlen(j), &e),
                 LW_ESCHEMA);
    char out[512];
    lw_codec_error_format(&e, LW_OCPP_16, out, sizeof(out));
    LW_CHECK_STR(out,
                 "chargePointModel: required: property is missing (OccurenceConstraintViolation)");
    lw_codec_error_format(&e, LW_OCPP_201, out, sizeof(out));
    LW_CHECK_STR(out,
                 "chargePointModel: required: property is missing (OccurrenceConstraintViolation)");
    j = "{";
    lw_codec_validate(&lw_v16_BootNotificationRequest_msg, j, strlen(j), &e);
    LW_CHECK_STR(lw_ocpp_err_name(LW_OCPP_16, e.code), "FormationViolation");
    LW_CHECK_STR(lw_ocpp_err_name(LW_OCPP_21, e.code), "FormatViolation");
}

LW_TEST(arena_cap)
{
    lw_arena_t a;
    lw_arena_init(&a, 300); /* the inline block only: the max sample needs more */
    FILE *f = fopen("tests/data/samples/v201/TransactionEventRequest.max.json", "rb");
    static char buf[65536];
    size_t len = f ? fread(buf, 1, sizeof(buf), f) : 0;
    if (f) fclose(f);
    lw_v201_TransactionEventRequest_t m = {0};
    lw_codec_error_t e;
    LW_CHECK_INT(lw_v201_TransactionEventRequest_decode(buf, len, &m, &a, &e), LW_ENOMEM);
    LW_CHECK_INT(e.code, LW_OCPP_ERR_INTERNAL);
    lw_arena_free(&a);
}

int main(void)
{
    LW_RUN(required_and_additional);
    LW_RUN(types);
    LW_RUN(integer_vs_number);
    LW_RUN(enums);
    LW_RUN(lengths_in_code_points);
    LW_RUN(minimum_maximum);
    LW_RUN(multiple_of_exact);
    LW_RUN(items);
    LW_RUN(date_time);
    LW_RUN(uri);
    LW_RUN(json_grammar);
    LW_RUN(limits_and_truncation);
    LW_RUN(error_names_per_version);
    LW_RUN(arena_cap);
    return lw_test_done();
}
