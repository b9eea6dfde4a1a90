/*
 * test_roundtrip.c — every message of every OCPP version, request and response, decodes from
 * its committed samples (tests/data/samples, written by tools/codegen/samples.py), encodes,
 * and decodes again to the same value: the two encodings are byte-identical and the first one
 * equals the input as JSON (compared with cJSON, an independent parser). Also checks the
 * action tables (counts, directions, lookup).
 */
#include "test.h"

#include "codec/codec_int.h"
#include "codec/gen/ocpp16.h"
#include "codec/gen/ocpp201.h"
#include "codec/gen/ocpp21.h"
#include "ladewerk/codec.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

static const char *vdir[] = {"v16", "v201", "v21"};

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    *len = fread(p, 1, (size_t)n, f);
    p[*len] = 0;
    fclose(f);
    return p;
}

static int files_checked;

static void roundtrip(lw_ocpp_version_t v, const lw_codec_msg_t *m, const char *variant)
{
    char path[256];
    snprintf(path, sizeof(path), "tests/data/samples/%s/%s.%s.json", vdir[v], lw_codec_msg_name(m),
             variant);
    size_t len = 0;
    char *json = slurp(path, &len);
    if (!json) {
        LW_FAILF("cannot read %s", path);
        return;
    }
    files_checked++;
    LW_CHECK_INT(lw_codec_msg_version(m), v);
    lw_codec_error_t err;
    LW_CHECK_INT(lw_codec_validate(m, json, len, &err), 0);
    lw_arena_t arena;
    lw_arena_init(&arena, 0);
    void *s1 = calloc(1, lw_codec_msg_size(m)), *s2 = calloc(1, lw_codec_msg_size(m));
    lw_buf_t b1, b2;
    lw_buf_init(&b1, 1 << 20);
    lw_buf_init(&b2, 1 << 20);
    int rc = lw_codec_decode(m, json, len, s1, &arena, &err);
    if (rc) {
        LW_FAILF("%s: decode %d: %s: %s", path, rc, err.path, err.detail);
        goto out;
    }
    LW_CHECK_INT(lw_codec_encode_err(m, s1, &b1, &err), 0);
    rc = lw_codec_decode(m, b1.data, b1.len, s2, &arena, &err);
    if (rc) {
        LW_FAILF("%s: re-decode %d: %s: %s\n  %.*s", path, rc, err.path, err.detail, (int)b1.len,
                 b1.data);
        goto out;
    }
    LW_CHECK_INT(lw_codec_encode(m, s2, &b2), 0);
    LW_CHECK_MEM(b2.data, b2.len, b1.data, b1.len);
    lw_buf_cstr(&b1);
    cJSON *a = cJSON_ParseWithLength(json, len), *b = cJSON_Parse(b1.data);
    if (!a || !b || !cJSON_Compare(a, b, 1))
        LW_FAILF("%s: re-encoded JSON differs from the input\n  in:  %s\n  out: %s", path, json,
                 b1.data);
    cJSON_Delete(a);
    cJSON_Delete(b);
out:
    lw_buf_free(&b1);
    lw_buf_free(&b2);
    lw_arena_free(&arena);
    free(s1);
    free(s2);
    free(json);
}

LW_TEST(every_message_round_trips)
{
    for (int v = 0; v < LW_OCPP_VERSION_COUNT; v++) {
        size_t n;
        const lw_codec_action_t *a = lw_codec_actions((lw_ocpp_version_t)v, &n);
        for (size_t i = 0; i < n; i++) {
            const lw_codec_msg_t *msgs[2] = {a[i].request, a[i].response};
            for (int k = 0; k < 2; k++) {
                if (!msgs[k]) continue;
                roundtrip((lw_ocpp_version_t)v, msgs[k], "min");
                roundtrip((lw_ocpp_version_t)v, msgs[k], "max");
            }
        }
    }
    /* 78 + 128 + 181 schema files, a min and a max sample each */
    LW_CHECK_INT(files_checked, 2 * (78 + 128 + 181));
}

LW_TEST(action_tables)
{
    size_t n;
    const lw_codec_action_t *a = lw_codec_actions(LW_OCPP_16, &n);
    LW_CHECK_INT(n, 39);
    lw_codec_actions(LW_OCPP_201, &n);
    LW_CHECK_INT(n, 64);
    a = lw_codec_actions(LW_OCPP_21, &n);
    LW_CHECK_INT(n, 91); /* 90 CALL actions + the SEND NotifyPeriodicEventStream */
    LW_CHECK(lw_codec_actions(LW_OCPP_VERSION_COUNT, &n) == NULL);
    LW_CHECK_INT(n, 0);
    for (int v = 0; v < LW_OCPP_VERSION_COUNT; v++) {
        a = lw_codec_actions((lw_ocpp_version_t)v, &n);
        for (size_t i = 0; i < n; i++) {
            LW_CHECK(lw_codec_action_find((lw_ocpp_version_t)v, lw_str_c(a[i].name)) == &a[i]);
            if (i) LW_CHECK(strcmp(a[i - 1].name, a[i].name) < 0);
            LW_CHECK(a[i].dir >= LW_DIR_FROM_STATION && a[i].dir <= LW_DIR_BOTH);
        }
    }
    const lw_codec_action_t *x = lw_codec_action_find(LW_OCPP_16, LW_STR("BootNotification"));
    LW_CHECK(x && x->dir == LW_DIR_FROM_STATION &&
             x->request == &lw_v16_BootNotificationRequest_msg);
    LW_CHECK_STR(lw_codec_msg_name(x->response), "BootNotificationResponse");
    x = lw_codec_action_find(LW_OCPP_201, LW_STR("RequestStartTransaction"));
    LW_CHECK(x && x->dir == LW_DIR_FROM_CSMS);
    x = lw_codec_action_find(LW_OCPP_21, LW_STR("DataTransfer"));
    LW_CHECK(x && x->dir == LW_DIR_BOTH);
    x = lw_codec_action_find(LW_OCPP_21, LW_STR("NotifyPeriodicEventStream"));
    LW_CHECK(x && x->response == NULL && x->dir == LW_DIR_FROM_STATION);
    LW_CHECK(lw_codec_action_find(LW_OCPP_201, LW_STR("StartTransaction")) == NULL);
    LW_CHECK(lw_codec_action_find(LW_OCPP_16, LW_STR("BootNotificatio")) == NULL);
    LW_CHECK(lw_codec_action_find(LW_OCPP_16, LW_STR("BootNotificationX")) == NULL);
    LW_CHECK(lw_codec_action_find(LW_OCPP_16, LW_STR("")) == NULL);
}

LW_TEST(typed_api)
{
    const char *j = "{\"chargePointVendor\":\"V\\u00e9\",\"chargePointModel\":\"M\","
                    "\"firmwareVersion\":\"1.0\"}";
    lw_v16_BootNotificationRequest_t req = {0};
    lw_arena_t arena;
    lw_arena_init(&arena, 0);
    lw_codec_error_t err;
    LW_CHECK_INT(lw_v16_BootNotificationRequest_decode(j, strlen(j), &req, &arena, &err), 0);
    LW_CHECK_STR(req.chargePointVendor, "V\xc3\xa9");
    LW_CHECK_STR(req.firmwareVersion, "1.0");
    LW_CHECK(req.iccid == NULL);
    lw_v16_BootNotificationRequest_free(&req, &arena);
    LW_CHECK(req.chargePointVendor == NULL);

    lw_v201_StatusNotificationRequest_t sn = {0};
    j = "{\"timestamp\":\"2026-01-02T03:04:05Z\",\"connectorStatus\":\"Faulted\",\"evseId\":1,"
        "\"connectorId\":2}";
    LW_CHECK_INT(lw_v201_StatusNotificationRequest_decode(j, strlen(j), &sn, &arena, &err), 0);
    LW_CHECK_INT(sn.connectorStatus, LW_V201_CONNECTOR_STATUS_ENUM_TYPE_FAULTED);
    LW_CHECK_STR(lw_v201_ConnectorStatusEnumType_str(sn.connectorStatus), "Faulted");
    LW_CHECK(lw_v201_ConnectorStatusEnumType_str(0) == NULL);
    LW_CHECK_INT(sn.evseId, 1);
    LW_CHECK_INT(sn.connectorId, 2);

    /* encode: optional scalars only with has_, enum 0 = absent, required enforced */
    lw_v16_MeterValuesRequest_t mv = {0};
    lw_v16_MeterValuesRequest_meterValue_t item = {0};
    lw_v16_MeterValuesRequest_meterValue_sampledValue_t sv = {0};
    sv.value = "12.5";
    sv.measurand =
        LW_V16_METER_VALUES_REQUEST_METER_VALUE_SAMPLED_VALUE_MEASURAND_ENERGY_ACTIVE_IMPORT_REGISTER;
    item.timestamp = "2026-01-02T03:04:05Z";
    item.sampledValue = &sv;
    item.sampledValue_count = 1;
    mv.connectorId = 1;
    mv.meterValue = &item;
    mv.meterValue_count = 1;
    lw_buf_t b;
    lw_buf_init(&b, 4096);
    LW_CHECK_INT(lw_v16_MeterValuesRequest_encode(&mv, &b), 0);
    const char *want = "{\"connectorId\":1,\"meterValue\":[{\"timestamp\":\"2026-01-02T03:04:05Z\","
                       "\"sampledValue\":[{\"value\":\"12.5\",\"measurand\":\"Energy.Active."
                       "Import.Register\"}]}]}";
    LW_CHECK_MEM(b.data, b.len, want, strlen(want));
    mv.transactionId = 7;
    mv.has_transactionId = true;
    lw_buf_reset(&b);
    LW_CHECK_INT(lw_v16_MeterValuesRequest_encode(&mv, &b), 0);
    LW_CHECK_INT(lw_buf_cstr(&b), 0);
    LW_CHECK(strstr(b.data, "\"transactionId\":7") != NULL);
    lw_buf_reset(&b);
    item.timestamp = NULL; /* required */
    LW_CHECK_INT(lw_codec_encode_err(&lw_v16_MeterValuesRequest_msg, &mv, &b, &err), LW_EINVAL);
    LW_CHECK_INT(b.len, 0);
    LW_CHECK_STR(err.path, "meterValue[0].timestamp");
    item.timestamp = "2026-01-02T03:04:05Z";
    sv.measurand = 999;
    LW_CHECK_INT(lw_v16_MeterValuesRequest_encode(&mv, &b), LW_EINVAL);
    lw_buf_free(&b);
    lw_arena_free(&arena);
}

LW_TEST(numbers_encode_shortest)
{
    lw_v16_SetChargingProfileRequest_t m = {0};
    lw_v16_SetChargingProfileRequest_csChargingProfiles_t p = {0};
    lw_v16_SetChargingProfileRequest_csChargingProfiles_chargingSchedule_t s = {0};
    lw_v16_SetChargingProfileRequest_csChargingProfiles_chargingSchedule_chargingSchedulePeriod_t
        per[3] = {{0}};
    double vals[3] = {0.1 + 0.2, 4.35, 1e21};
    for (int i = 0; i < 3; i++)
        per[i].limit = vals[i];
    s.chargingRateUnit = 1;
    s.chargingSchedulePeriod = per;
    s.chargingSchedulePeriod_count = 3;
    p.chargingProfilePurpose = 1;
    p.chargingProfileKind = 1;
    p.chargingSchedule = &s;
    m.csChargingProfiles = &p;
    lw_buf_t b;
    lw_buf_init(&b, 4096);
    LW_CHECK_INT(lw_v16_SetChargingProfileRequest_encode(&m, &b), 0);
    lw_buf_cstr(&b);
    LW_CHECK(strstr(b.data, "\"limit\":0.30000000000000004") != NULL);
    LW_CHECK(strstr(b.data, "\"limit\":4.35") != NULL);
    LW_CHECK(strstr(b.data, "\"limit\":1e+21") != NULL);
    lw_buf_free(&b);
}

int main(void)
{
    LW_RUN(every_message_round_trips);
    LW_RUN(action_tables);
    LW_RUN(typed_api);
    LW_RUN(numbers_encode_shortest);
    return lw_test_done();
}
