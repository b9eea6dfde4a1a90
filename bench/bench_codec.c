/*
 * bench_codec.c — cost of the generated codec per message, next to a plain JSON parse of the
 * same bytes by jsmn (tokens only, no checks) and by cJSON (tree), in the same run:
 *   1.6 MeterValues CALL payload (~600 bytes, 6 sampled values), 2.0.1 TransactionEvent.
 * Prints ns/message for validate, decode (validate + struct in an arena) and encode, and the
 * ratios to the plain parses. Aims: decode <= 1.5x cJSON parse; MeterValues decode < 5 us.
 *   build/bench/bench_codec [--quick]
 */
#define JSMN_STATIC
#include <jsmn.h>

#include "codec/gen/ocpp16.h"
#include "codec/gen/ocpp201.h"
#include "ladewerk/codec.h"

#include "bench_util.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char transaction_event[] =
    "{\"eventType\":\"Updated\",\"timestamp\":\"2026-03-01T12:34:56.789Z\",\"triggerReason\":"
    "\"MeterValuePeriodic\",\"seqNo\":17,\"transactionInfo\":{\"transactionId\":"
    "\"f3a2c1d0-8b7e-4c5d-9e0f-123456789abc\",\"chargingState\":\"Charging\"},\"evse\":{\"id\":1,"
    "\"connectorId\":1},\"idToken\":{\"idToken\":\"04A2B3C4D5E6F7\",\"type\":\"ISO14443\"},"
    "\"meterValue\":[{\"timestamp\":\"2026-03-01T12:34:56.789Z\",\"sampledValue\":["
    "{\"value\":12345.6,\"context\":\"Sample.Periodic\",\"measurand\":"
    "\"Energy.Active.Import.Register\",\"location\":\"Outlet\",\"unitOfMeasure\":{\"unit\":"
    "\"Wh\"}},"
    "{\"value\":7360,\"context\":\"Sample.Periodic\",\"measurand\":\"Power.Active.Import\","
    "\"location\":\"Outlet\",\"unitOfMeasure\":{\"unit\":\"W\"}},"
    "{\"value\":16.02,\"context\":\"Sample.Periodic\",\"measurand\":\"Current.Import\","
    "\"phase\":\"L1\",\"location\":\"Outlet\"},"
    "{\"value\":230.1,\"context\":\"Sample.Periodic\",\"measurand\":\"Voltage\",\"phase\":"
    "\"L1-N\",\"location\":\"Outlet\"}]}]}";

static volatile size_t sink;

typedef struct {
    const char *name;
    const lw_codec_msg_t *msg;
    const char *json;
    size_t len;
} case_t;

/* best of 5 rounds of n iterations, ns per iteration */
#define MEASURE(result, n, body)                                                                   \
    do {                                                                                           \
        double best_ = 1e30;                                                                       \
        for (int r_ = 0; r_ < 5; r_++) {                                                           \
            double t0_ = bench_now_ns();                                                           \
            for (long i_ = 0; i_ < (n); i_++) {                                                    \
                body;                                                                              \
            }                                                                                      \
            double d_ = (bench_now_ns() - t0_) / (double)(n);                                      \
            if (d_ < best_) best_ = d_;                                                            \
        }                                                                                          \
        (result) = best_;                                                                          \
    } while (0)

static int run(const case_t *c, long n)
{
    double t_jsmn, t_cjson, t_val, t_dec, t_enc;
    jsmntok_t toks[256];
    MEASURE(t_jsmn, n, {
        jsmn_parser p;
        jsmn_init(&p);
        sink += (size_t)jsmn_parse(&p, c->json, c->len, toks, 256);
    });
    MEASURE(t_cjson, n, {
        cJSON *j = cJSON_ParseWithLength(c->json, c->len);
        sink += j != NULL;
        cJSON_Delete(j);
    });
    lw_codec_error_t err;
    if (lw_codec_validate(c->msg, c->json, c->len, &err) != 0) {
        fprintf(stderr, "bench_codec: %s does not validate: %s: %s\n", c->name, err.path,
                err.detail);
        return 1;
    }
    MEASURE(t_val, n, { sink += (size_t)lw_codec_validate(c->msg, c->json, c->len, &err); });
    lw_arena_t arena;
    lw_arena_init(&arena, 0);
    size_t sz = lw_codec_msg_size(c->msg);
    void *out = malloc(sz);
    MEASURE(t_dec, n, {
        memset(out, 0, sz);
        sink += (size_t)lw_codec_decode(c->msg, c->json, c->len, out, &arena, &err);
        lw_arena_reset(&arena);
    });
    memset(out, 0, sz);
    lw_codec_decode(c->msg, c->json, c->len, out, &arena, &err);
    lw_buf_t b;
    lw_buf_init(&b, 1 << 20);
    MEASURE(t_enc, n, {
        lw_buf_reset(&b);
        sink += (size_t)lw_codec_encode(c->msg, out, &b);
    });
    printf("%-32s %4zu bytes\n", c->name, c->len);
    printf("  jsmn parse (tokens only)    %8.0f ns\n", t_jsmn);
    printf("  cJSON parse + free          %8.0f ns\n", t_cjson);
    printf("  lw validate                 %8.0f ns   %.2fx cJSON  %.2fx jsmn\n", t_val,
           t_val / t_cjson, t_val / t_jsmn);
    printf("  lw decode (validate+struct) %8.0f ns   %.2fx cJSON  %.2fx jsmn\n", t_dec,
           t_dec / t_cjson, t_dec / t_jsmn);
    printf("  lw encode                   %8.0f ns   (%zu bytes out)\n", t_enc, b.len);
    lw_buf_free(&b);
    lw_arena_free(&arena);
    free(out);
    return 0;
}

int main(int argc, char **argv)
{
    long n = argc > 1 && !strcmp(argv[1], "--quick") ? 2000 : 200000;
    case_t cases[] = {
        {"1.6 MeterValues (6 samples)", &lw_v16_MeterValuesRequest_msg, bench_meter_values,
         sizeof(bench_meter_values) - 1},
        {"2.0.1 TransactionEvent", &lw_v201_TransactionEventRequest_msg, transaction_event,
         sizeof(transaction_event) - 1},
    };
    printf("bench_codec: best of 5 rounds x %ld iterations\n", n);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (run(&cases[i], n)) return 1;
    return 0;
}
