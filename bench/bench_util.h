/*
 * bench_util.h — pieces the benchmarks share: the monotonic clock they time with, and the
 * 1.6 MeterValues CALL payload (~600 bytes, 6 sampled values) that bench_codec decodes and
 * bench_store journals, so both measure the same message.
 */
#ifndef LW_BENCH_UTIL_H
#define LW_BENCH_UTIL_H

#include <time.h>

/* Seconds on CLOCK_MONOTONIC. */
static inline double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Nanoseconds on CLOCK_MONOTONIC. */
static inline double bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static const char bench_meter_values[] =
    "{\"connectorId\":1,\"transactionId\":123456,\"meterValue\":[{\"timestamp\":"
    "\"2026-03-01T12:34:56.789Z\",\"sampledValue\":["
    "{\"value\":\"12345.6\",\"context\":\"Sample.Periodic\",\"measurand\":"
    "\"Energy.Active.Import.Register\",\"location\":\"Outlet\",\"unit\":\"Wh\"},"
    "{\"value\":\"7360.0\",\"context\":\"Sample.Periodic\",\"measurand\":"
    "\"Power.Active.Import\",\"location\":\"Outlet\",\"unit\":\"W\"},"
    "{\"value\":\"16.02\",\"context\":\"Sample.Periodic\",\"measurand\":\"Current.Import\","
    "\"phase\":\"L1\",\"location\":\"Outlet\",\"unit\":\"A\"},"
    "{\"value\":\"15.98\",\"context\":\"Sample.Periodic\",\"measurand\":\"Current.Import\","
    "\"phase\":\"L2\",\"location\":\"Outlet\",\"unit\":\"A\"},"
    "{\"value\":\"230.1\",\"context\":\"Sample.Periodic\",\"measurand\":\"Voltage\","
    "\"phase\":\"L1-N\",\"location\":\"Outlet\",\"unit\":\"V\"},"
    "{\"value\":\"54\",\"context\":\"Sample.Periodic\",\"measurand\":\"SoC\","
    "\"location\":\"EV\",\"unit\":\"Percent\"}]}]}";

#endif
