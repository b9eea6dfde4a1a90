/* test_domain.c — version-neutral rules: token decisions, meter value flattening, and that
 * every station-initiated action of every version has an answer that is schema-valid (its own
 * handler, or "{}" which must then validate against the response schema). */
#include "domain/domain.h"
#include "ladewerk/codec.h"
#include "session/session.h"
#include "test.h"

#include <string.h>

LW_TEST(token_status)
{
    lw_id_token_rec_t r = {.status = LW_TOKEN_ACCEPTED};
    LW_CHECK_STR(lw_domain_token_status(0, &r, 1000, false), "Accepted");
    r.expiry_ms = 999;
    LW_CHECK_STR(lw_domain_token_status(0, &r, 1000, false), "Expired");
    r.expiry_ms = 0;
    r.status = LW_TOKEN_BLOCKED;
    LW_CHECK_STR(lw_domain_token_status(0, &r, 1000, false), "Blocked");
    LW_CHECK_STR(lw_domain_token_status(LW_ENOTFOUND, NULL, 1000, false), "Invalid");
    LW_CHECK_STR(lw_domain_token_status(LW_ENOTFOUND, NULL, 1000, true), "Accepted");
    LW_CHECK_STR(lw_domain_token_status(LW_ESTORE, NULL, 1000, true), "Invalid");
}

LW_TEST(meter_values_2x_multiplier_and_signed)
{
    const char *j = "[{\"timestamp\":\"2024-01-01T00:00:00Z\",\"sampledValue\":[{\"value\":1.5,"
                    "\"measurand\":\"Energy.Active.Import.Register\",\"unitOfMeasure\":{\"unit\":"
                    "\"kWh\",\"multiplier\":1}},{\"value\":7,\"phase\":\"L2\",\"signedMeterValue\":"
                    "{\"signedMeterData\":\"abc\",\"signingMethod\":\"m\",\"encodingMethod\":\"e\","
                    "\"publicKey\":\"k\"}}]}]";
    lw_jdoc_t d;
    LW_CHECK_INT(lw_jdoc_parse(&d, j, strlen(j)), 0);
    lw_arena_t a;
    lw_arena_init(&a, 0);
    lw_meter_value_t *v;
    size_t n;
    LW_CHECK_INT(lw_domain_meter_values(&d, lw_jdoc_root(&d), LW_OCPP_201, &a, NULL, 0, &v, &n), 0);
    LW_CHECK_INT(n, 2);
    LW_CHECK_MEM(v[0].value.p, v[0].value.len, "15", 2);
    LW_CHECK_MEM(v[0].unit.p, v[0].unit.len, "kWh", 3);
    LW_CHECK_INT(v[0].timestamp_ms, 1704067200000LL);
    LW_CHECK_MEM(v[1].phase.p, v[1].phase.len, "L2", 2);
    const char *sig = "{\"signedMeterData\":\"abc\",\"signingMethod\":\"m\",\"encodingMethod\":"
                      "\"e\",\"publicKey\":\"k\"}";
    LW_CHECK_MEM(v[1].signed_data.p, v[1].signed_data.len, sig, strlen(sig));
    LW_CHECK_MEM(v[1].value.p, v[1].value.len, "7", 1);
    lw_arena_free(&a);
    lw_jdoc_free(&d);
}

LW_TEST(meter_values_16_kept_as_text)
{
    const char *j = "[{\"timestamp\":\"2024-01-01T00:00:01Z\",\"sampledValue\":[{\"value\":"
                    "\"0012.50\",\"unit\":\"kWh\",\"context\":\"Sample.Clock\",\"location\":"
                    "\"Outlet\"}]}]";
    lw_jdoc_t d;
    LW_CHECK_INT(lw_jdoc_parse(&d, j, strlen(j)), 0);
    lw_arena_t a;
    lw_arena_init(&a, 0);
    lw_meter_value_t buf[4], *v;
    size_t n;
    LW_CHECK_INT(lw_domain_meter_values(&d, lw_jdoc_root(&d), LW_OCPP_16, &a, buf, 4, &v, &n), 0);
    LW_CHECK(v == buf); /* fits the caller's buffer */
    LW_CHECK_INT(n, 1);
    LW_CHECK_MEM(v[0].value.p, v[0].value.len, "0012.50", 7);
    LW_CHECK_MEM(v[0].context.p, v[0].context.len, "Sample.Clock", 12);
    LW_CHECK_MEM(v[0].location.p, v[0].location.len, "Outlet", 6);
    lw_arena_free(&a);
    lw_jdoc_free(&d);
}

/* 2.x numbers rendered as before (integers without a fraction, else %.15g), escaped strings
 * unescaped, a signedMeterValue with escapes printed as cJSON prints it, and more values than
 * the caller's buffer holds go to the arena. */
LW_TEST(meter_values_2x_rendering_and_escapes)
{
    const char *j =
        "[{\"timestamp\":\"2024-01-01T00:00:00Z\",\"sampledValue\":["
        "{\"value\":-42,\"measurand\":\"Power.Active.Import\"},"
        "{\"value\":2.5e3},{\"value\":0.1,\"unitOfMeasure\":{\"multiplier\":-2}},"
        "{\"value\":1,\"location\":\"Out\\u006cet\",\"signedMeterValue\":"
        "{\"signedMeterData\":\"a\\/b\",\"signingMethod\":\"\",\"encodingMethod\":\"e\","
        "\"publicKey\":\"k\"}}]}]";
    lw_jdoc_t d;
    LW_CHECK_INT(lw_jdoc_parse(&d, j, strlen(j)), 0);
    lw_arena_t a;
    lw_arena_init(&a, 0);
    lw_meter_value_t buf[2], *v;
    size_t n;
    LW_CHECK_INT(lw_domain_meter_values(&d, lw_jdoc_root(&d), LW_OCPP_201, &a, buf, 2, &v, &n), 0);
    LW_CHECK_INT(n, 4);
    LW_CHECK(v != buf);
    LW_CHECK_MEM(v[0].value.p, v[0].value.len, "-42", 3);
    LW_CHECK_MEM(v[1].value.p, v[1].value.len, "2500", 4);
    LW_CHECK_MEM(v[2].value.p, v[2].value.len, "0.001", 5);
    LW_CHECK_MEM(v[3].location.p, v[3].location.len, "Outlet", 6);
    const char *sig = "{\"signedMeterData\":\"a/b\",\"signingMethod\":\"\",\"encodingMethod\":"
                      "\"e\",\"publicKey\":\"k\"}";
    LW_CHECK_MEM(v[3].signed_data.p, v[3].signed_data.len, sig, strlen(sig));
    lw_arena_free(&a);
    lw_jdoc_free(&d);
}

LW_TEST(every_station_action_has_an_answer)
{
    for (int v = 0; v < LW_OCPP_VERSION_COUNT; v++) {
        size_t count = 0;
        const lw_codec_action_t *acts = lw_codec_actions((lw_ocpp_version_t)v, &count);
        LW_CHECK(count > 0);
        for (size_t i = 0; i < count; i++) {
            const lw_codec_action_t *a = &acts[i];
            if (!(a->dir & LW_DIR_FROM_STATION) || !a->response) continue;
            if (lw_handlers_has_route((lw_ocpp_version_t)v, a->name)) continue;
            lw_codec_error_t err;
            int rc = lw_codec_validate(a->response, "{}", 2, &err);
            if (rc) printf("  %s %s: {} is not a valid answer\n", lw_ocpp_version_name(v), a->name);
            LW_CHECK_INT(rc, 0);
        }
    }
}

int main(void)
{
    LW_RUN(token_status);
    LW_RUN(meter_values_2x_multiplier_and_signed);
    LW_RUN(meter_values_16_kept_as_text);
    LW_RUN(meter_values_2x_rendering_and_escapes);
    LW_RUN(every_station_action_has_an_answer);
    return lw_test_done();
}
