/*
 * test_station.c — the station library against a scripted CSMS in the same process: frames
 * are fed in and read out through the sans-I/O API, time moves only on a manual clock.
 * Covers boot (Pending then Accepted), heartbeat timing, full 1.6 and 2.0.1 transactions
 * with meter values, remote start/stop, reset, trigger, configuration with read-only keys,
 * the device model, GetCompositeSchedule from two profiles, and the offline journal across
 * a simulated crash.
 */
#include "test.h"

#include "ladewerk/codec.h"
#include "ladewerk/station.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */

typedef struct h {
    lw_manual_clock_t clk;
    lw_station_t *st;
    lw_station_journal_ops_t jops;
    lw_station_journal_file_t *jf;
    cJSON *frames[4096]; /* everything the station sent, in order */
    int n, pos;
    int connects, closes;
    long next_txid;
    cJSON *log; /* every CALL the auto-responder answered */
} h_t;

static void drain(h_t *h)
{
    lw_station_out_t o;
    while (lw_station_next_output(h->st, &o) == 0) {
        if (o.kind == LW_STATION_OUT_CONNECT)
            h->connects++;
        else if (o.kind == LW_STATION_OUT_CLOSE)
            h->closes++;
        else if (h->n < 4096)
            h->frames[h->n++] = cJSON_ParseWithLength(o.text.p, o.text.len);
    }
}

static void h_init(h_t *h, lw_ocpp_version_t v, const char *journal)
{
    memset(h, 0, sizeof *h);
    lw_manual_clock_init(&h->clk, T0);
    h->next_txid = 100;
    h->log = cJSON_CreateArray();
    if (journal) h->jf = lw_station_journal_file_open(journal, &h->jops);
    lw_station_config_t cfg = {.id = "CP1",
                               .version = v,
                               .connectors = 2,
                               .seed = 7,
                               .journal = journal ? &h->jops : NULL};
    LW_CHECK_INT(lw_station_new(&cfg, &h->clk.clock, &h->st), 0);
    drain(h);
}

/* the crash: the station object vanishes; only the journal file remains */
static void h_crash_and_restart(h_t *h, lw_ocpp_version_t v)
{
    lw_station_free(h->st);
    lw_station_config_t cfg = {
        .id = "CP1", .version = v, .connectors = 2, .seed = 8, .journal = &h->jops};
    LW_CHECK_INT(lw_station_new(&cfg, &h->clk.clock, &h->st), 0);
    drain(h);
}

static void h_free(h_t *h)
{
    /* every payload the station built passed its schema (a failure is a library bug) */
    lw_station_stats_t stats;
    lw_station_stats(h->st, &stats);
    LW_CHECK_INT(stats.invalid_out, 0);
    lw_station_free(h->st);
    lw_station_journal_file_close(h->jf);
    for (int i = 0; i < h->n; i++)
        if (h->frames[i]) cJSON_Delete(h->frames[i]);
    cJSON_Delete(h->log);
}

static void advance(h_t *h, uint64_t ms)
{
    /* step through every deadline on the way, as a host loop would */
    uint64_t end = h->clk.mono + ms;
    for (;;) {
        uint64_t d = lw_station_next_deadline(h->st);
        if (d > end) break;
        if (d > h->clk.mono) lw_manual_clock_advance(&h->clk, d - h->clk.mono);
        lw_station_tick(h->st);
        drain(h);
        if (d <= h->clk.mono && lw_station_next_deadline(h->st) <= h->clk.mono) {
            lw_manual_clock_advance(&h->clk, 1);
        }
    }
    if (end > h->clk.mono) lw_manual_clock_advance(&h->clk, end - h->clk.mono);
    lw_station_tick(h->st);
    drain(h);
}

static void feed(h_t *h, const char *text)
{
    lw_station_on_message(h->st, text, strlen(text));
    drain(h);
}

/* The next frame the station sent (NULL when none). */
static cJSON *next(h_t *h)
{
    drain(h);
    while (h->pos < h->n && !h->frames[h->pos])
        h->pos++;
    return h->pos < h->n ? h->frames[h->pos++] : NULL;
}

static const char *action_of(cJSON *f)
{
    if (!f || cJSON_GetArrayItem(f, 0)->valueint != 2) return "";
    return cJSON_GetArrayItem(f, 2)->valuestring;
}

static cJSON *payload_of(cJSON *f)
{
    return cJSON_GetArrayItem(f, cJSON_GetArrayItem(f, 0)->valueint == 2 ? 3 : 2);
}

static void reply(h_t *h, cJSON *call, const char *payload)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "[3,\"%s\",%s]", cJSON_GetArrayItem(call, 1)->valuestring, payload);
    feed(h, buf);
}

/* Expects the next frame to be a CALL of action; returns it (owned by h). */
static cJSON *expect_call(h_t *h, const char *action)
{
    cJSON *f = next(h);
    if (strcmp(action_of(f), action) != 0) {
        char *t = f ? cJSON_PrintUnformatted(f) : NULL;
        LW_FAILF("expected a %s CALL, got %s", action, t ? t : "nothing");
        free(t);
        static cJSON *dummy;
        if (!dummy) dummy = cJSON_Parse("[2,\"none\",\"None\",{}]");
        return dummy;
    }
    return f;
}

/* Sends a CSMS CALL and returns the station's CALLRESULT payload. */
static cJSON *csms_call(h_t *h, const char *action, const char *payload)
{
    char buf[8192];
    static int id;
    char want[32];
    snprintf(want, sizeof want, "csms-%d", ++id);
    snprintf(buf, sizeof buf, "[2,\"%s\",\"%s\",%s]", want, action, payload);
    feed(h, buf);
    /* the answer, wherever it is among the frames not yet read (CALLs may follow it) */
    cJSON *f = NULL;
    for (int i = h->pos; i < h->n && !f; i++) {
        cJSON *x = h->frames[i];
        if (x && cJSON_GetArrayItem(x, 0)->valueint != 2 &&
            !strcmp(cJSON_GetArrayItem(x, 1)->valuestring, want)) {
            f = x;
            h->frames[i] = NULL;
            cJSON_AddItemToArray(h->log, f); /* freed with the log */
        }
    }
    if (!f || cJSON_GetArrayItem(f, 0)->valueint != 3) {
        char *s = f ? cJSON_PrintUnformatted(f) : NULL;
        LW_FAILF("%s: no CALLRESULT, got %s", action, s ? s : "nothing");
        free(s);
        return NULL;
    }
    return payload_of(f);
}

/* Sends a CSMS frame and returns the station's CALLERROR for id want (NULL + failure when
 * the answer is not a CALLERROR). */
static cJSON *csms_error(h_t *h, const char *frame, const char *want)
{
    feed(h, frame);
    cJSON *f = NULL;
    for (int i = h->pos; i < h->n && !f; i++) {
        cJSON *x = h->frames[i];
        if (x && cJSON_GetArrayItem(x, 0)->valueint == 4 &&
            !strcmp(cJSON_GetArrayItem(x, 1)->valuestring, want)) {
            f = x;
            h->frames[i] = NULL;
            cJSON_AddItemToArray(h->log, f);
        }
    }
    if (!f) LW_FAILF("%s: no CALLERROR with id %s", frame, want);
    return f;
}

static const char *error_code_of(cJSON *f)
{
    const char *s = f ? cJSON_GetStringValue(cJSON_GetArrayItem(f, 2)) : NULL;
    return s ? s : "(none)";
}

static const char *status_of(cJSON *p)
{
    const char *s = p ? cJSON_GetStringValue(cJSON_GetObjectItem(p, "status")) : NULL;
    return s ? s : "(none)";
}

/* Answers every CALL the station sends with a positive answer until it goes quiet. */
static void auto_answer(h_t *h, bool v16)
{
    cJSON *f;
    while ((f = next(h))) {
        if (cJSON_GetArrayItem(f, 0)->valueint != 2) continue;
        const char *a = action_of(f);
        cJSON_AddItemToArray(h->log, cJSON_Duplicate(f, true));
        char p[256] = "{}";
        if (!strcmp(a, "BootNotification"))
            snprintf(p, sizeof p,
                     "{\"status\":\"Accepted\",\"currentTime\":\"2026-01-01T00:00:00Z\","
                     "\"interval\":300}");
        else if (!strcmp(a, "Heartbeat"))
            snprintf(p, sizeof p, "{\"currentTime\":\"2026-01-01T00:00:00Z\"}");
        else if (!strcmp(a, "Authorize"))
            snprintf(p, sizeof p,
                     v16 ? "{\"idTagInfo\":{\"status\":\"Accepted\"}}"
                         : "{\"idTokenInfo\":{\"status\":\"Accepted\"}}");
        else if (!strcmp(a, "StartTransaction"))
            snprintf(p, sizeof p, "{\"transactionId\":%ld,\"idTagInfo\":{\"status\":\"Accepted\"}}",
                     h->next_txid++);
        reply(h, f, p);
    }
}

static void boot_accepted(h_t *h, bool v16)
{
    lw_station_on_connected(h->st);
    auto_answer(h, v16);
    LW_CHECK_INT(lw_station_state(h->st), LW_STATION_ACCEPTED);
}

/* Lookups that never return NULL: a missing item is a number -999 with no string, so a
 * failed check reports instead of crashing. */
static cJSON missing = {.type = cJSON_Number, .valueint = -999, .valuedouble = -999};
static cJSON *G(cJSON *o, const char *k)
{
    cJSON *r = o ? cJSON_GetObjectItem(o, k) : NULL;
    return r ? r : &missing;
}
static cJSON *A(cJSON *o, int i)
{
    cJSON *r = o ? cJSON_GetArrayItem(o, i) : NULL;
    return r ? r : &missing;
}

/* ---- tests ---------------------------------------------------------------------------- */
LW_TEST(boot_pending_then_accepted)
{
    h_t h;
    h_init(&h, LW_OCPP_16, NULL);
    LW_CHECK_INT(h.connects, 1);
    lw_station_on_connected(h.st);
    cJSON *b = expect_call(&h, "BootNotification");
    LW_CHECK_STR(cJSON_GetStringValue(G(payload_of(b), "chargePointVendor")), "Ladewerk");
    reply(&h, b,
          "{\"status\":\"Pending\",\"currentTime\":\"2026-01-01T00:00:00Z\",\"interval\":20}");
    LW_CHECK_INT(lw_station_state(h.st), LW_STATION_PENDING);
    /* while Pending the station sends nothing else, even after a hardware event */
    lw_station_plug(h.st, 1, true);
    advance(&h, 19000);
    LW_CHECK(next(&h) == NULL);
    advance(&h, 1000);
    b = expect_call(&h, "BootNotification");
    reply(&h, b,
          "{\"status\":\"Accepted\",\"currentTime\":\"2026-01-01T00:00:00Z\",\"interval\":60}");
    LW_CHECK_INT(lw_station_state(h.st), LW_STATION_ACCEPTED);
    /* a StatusNotification for connector 0, 1 (Preparing: plugged) and 2 */
    const char *want[] = {"Available", "Preparing", "Available"};
    for (int c = 0; c < 3; c++) {
        cJSON *s = expect_call(&h, "StatusNotification");
        LW_CHECK_INT(G(payload_of(s), "connectorId")->valueint, c);
        LW_CHECK_STR(cJSON_GetStringValue(G(payload_of(s), "status")), want[c]);
        reply(&h, s, "{}");
    }
    h_free(&h);
}

LW_TEST(boot_rejected_answers_nothing)
{
    h_t h;
    h_init(&h, LW_OCPP_201, NULL);
    lw_station_on_connected(h.st);
    cJSON *b = expect_call(&h, "BootNotification");
    LW_CHECK_STR(cJSON_GetStringValue(G(payload_of(b), "reason")), "PowerUp");
    reply(&h, b,
          "{\"status\":\"Rejected\",\"currentTime\":\"2026-01-01T00:00:00Z\",\"interval\":30}");
    LW_CHECK_INT(lw_station_state(h.st), LW_STATION_REJECTED);
    feed(&h, "[2,\"x1\",\"GetVariables\",{\"getVariableData\":[]}]");
    LW_CHECK(next(&h) == NULL);
    advance(&h, 30000);
    expect_call(&h, "BootNotification");
    h_free(&h);
}

LW_TEST(heartbeat_timing)
{
    h_t h;
    h_init(&h, LW_OCPP_16, NULL);
    lw_station_on_connected(h.st);
    cJSON *b = expect_call(&h, "BootNotification");
    reply(&h, b,
          "{\"status\":\"Accepted\",\"currentTime\":\"2026-01-01T00:00:00Z\",\"interval\":60}");
    auto_answer(&h, true);
    int before = cJSON_GetArraySize(h.log);
    advance(&h, 59000);
    LW_CHECK(next(&h) == NULL);
    advance(&h, 1000);
    expect_call(&h, "Heartbeat");
    /* traffic resets the timer: a status change 30 s later pushes the heartbeat back */
    h.pos = h.n;
    advance(&h, 30000);
    lw_station_plug(h.st, 1, true);
    auto_answer(&h, true);
    advance(&h, 31000);
    LW_CHECK(next(&h) == NULL);
    advance(&h, 29000);
    expect_call(&h, "Heartbeat");
    (void)before;
    h_free(&h);
}

LW_TEST(transaction_16)
{
    h_t h;
    h_init(&h, LW_OCPP_16, NULL);
    boot_accepted(&h, true);
    lw_station_set_config(h.st, "MeterValueSampleInterval", "60", false);
    lw_station_plug(h.st, 1, true);
    auto_answer(&h, true);
    LW_CHECK_INT(lw_station_present_token(h.st, 1, "TAG1"), 0);
    cJSON *a = expect_call(&h, "Authorize");
    LW_CHECK_STR(cJSON_GetStringValue(G(payload_of(a), "idTag")), "TAG1");
    reply(&h, a, "{\"idTagInfo\":{\"status\":\"Accepted\"}}");
    cJSON *s = expect_call(&h, "StartTransaction");
    LW_CHECK_INT(G(payload_of(s), "meterStart")->valueint, 0);
    LW_CHECK_INT(G(payload_of(s), "connectorId")->valueint, 1);
    reply(&h, s, "{\"transactionId\":42,\"idTagInfo\":{\"status\":\"Accepted\"}}");
    cJSON *st = expect_call(&h, "StatusNotification"); /* the EV draws nothing yet */
    LW_CHECK_STR(cJSON_GetStringValue(G(payload_of(st), "status")), "SuspendedEV");
    reply(&h, st, "{}");
    lw_station_set_power(h.st, 1, 11000);
    st = expect_call(&h, "StatusNotification");
    LW_CHECK_STR(cJSON_GetStringValue(G(payload_of(st), "status")), "Charging");
    reply(&h, st, "{}");
    advance(&h, 60000);
    cJSON *mv = expect_call(&h, "MeterValues");
    cJSON *mp = payload_of(mv);
    LW_CHECK_INT(G(mp, "transactionId")->valueint, 42);
    cJSON *sv = G(A(G(mp, "meterValue"), 0), "sampledValue");
    LW_CHECK_STR(cJSON_GetStringValue(G(A(sv, 0), "value")), "183.3"); /* 11 kW for 60 s */
    LW_CHECK_STR(cJSON_GetStringValue(G(A(sv, 0), "context")), "Sample.Periodic");
    LW_CHECK_STR(cJSON_GetStringValue(G(A(sv, 1), "measurand")), "Power.Active.Import");
    reply(&h, mv, "{}");
    advance(&h, 60000);
    auto_answer(&h, true);
    LW_CHECK_INT(lw_station_present_token(h.st, 1, "TAG1"), 0);
    cJSON *stop = expect_call(&h, "StopTransaction");
    cJSON *sp = payload_of(stop);
    LW_CHECK_INT(G(sp, "transactionId")->valueint, 42);
    LW_CHECK_INT(G(sp, "meterStop")->valueint, 367);
    LW_CHECK_STR(cJSON_GetStringValue(G(sp, "reason")), "Local");
    reply(&h, stop, "{}");
    st = expect_call(&h, "StatusNotification");
    LW_CHECK_STR(cJSON_GetStringValue(G(payload_of(st), "status")), "Finishing");
    h_free(&h);
}

LW_TEST(transaction_201)
{
    h_t h;
    h_init(&h, LW_OCPP_201, NULL);
    boot_accepted(&h, false);
    lw_station_plug(h.st, 2, true);
    auto_answer(&h, false);
    lw_station_present_token(h.st, 2, "TAG2");
    cJSON *a = expect_call(&h, "Authorize");
    reply(&h, a, "{\"idTokenInfo\":{\"status\":\"Accepted\"}}");
    cJSON *e = expect_call(&h, "TransactionEvent");
    cJSON *p = payload_of(e);
    LW_CHECK_STR(cJSON_GetStringValue(G(p, "eventType")), "Started");
    LW_CHECK_INT(G(p, "seqNo")->valueint, 0);
    LW_CHECK_STR(cJSON_GetStringValue(G(p, "triggerReason")), "Authorized");
    LW_CHECK_INT(G(G(p, "evse"), "id")->valueint, 2);
    LW_CHECK(cJSON_GetObjectItem(p, "offline") == NULL);
    const char *txid = cJSON_GetStringValue(G(G(p, "transactionInfo"), "transactionId"));
    LW_CHECK(txid && strlen(txid) == 36);
    char id[40];
    snprintf(id, sizeof id, "%s", txid ? txid : "");
    reply(&h, e, "{\"idTokenInfo\":{\"status\":\"Accepted\"}}");
    lw_station_set_power(h.st, 2, 7200);
    auto_answer(&h, false);
    advance(&h, 60000);
    e = expect_call(&h, "TransactionEvent");
    p = payload_of(e);
    LW_CHECK_STR(cJSON_GetStringValue(G(p, "eventType")), "Updated");
    LW_CHECK_STR(cJSON_GetStringValue(G(p, "triggerReason")), "MeterValuePeriodic");
    LW_CHECK_INT(G(p, "seqNo")->valueint, 1);
    cJSON *sv = A(G(A(G(p, "meterValue"), 0), "sampledValue"), 0);
    LW_CHECK_INT((int)(G(sv, "value")->valuedouble * 10), 1200); /* 120.0 Wh */
    reply(&h, e, "{}");
    /* the CSMS stops it remotely */
    char req[128];
    snprintf(req, sizeof req, "{\"transactionId\":\"%s\"}", id);
    LW_CHECK_STR(status_of(csms_call(&h, "RequestStopTransaction", req)), "Accepted");
    e = expect_call(&h, "TransactionEvent");
    p = payload_of(e);
    LW_CHECK_STR(cJSON_GetStringValue(G(p, "eventType")), "Ended");
    LW_CHECK_STR(cJSON_GetStringValue(G(p, "triggerReason")), "RemoteStop");
    LW_CHECK_INT(G(p, "seqNo")->valueint, 2);
    LW_CHECK_STR(cJSON_GetStringValue(G(G(p, "transactionInfo"), "stoppedReason")), "Remote");
    reply(&h, e, "{}");
    LW_CHECK_STR(status_of(csms_call(&h, "RequestStopTransaction", req)), "Rejected");
    h_free(&h);
}

LW_TEST(remote_start_stop_16)
{
    h_t h;
    h_init(&h, LW_OCPP_16, NULL);
    boot_accepted(&h, true);
    LW_CHECK_STR(
        status_of(csms_call(&h, "RemoteStartTransaction", "{\"connectorId\":2,\"idTag\":\"R1\"}")),
        "Accepted");
    auto_answer(&h, true); /* StatusNotification Preparing */
    lw_station_plug(h.st, 2, true);
    cJSON *s = expect_call(&h, "StartTransaction");
    LW_CHECK_STR(cJSON_GetStringValue(G(payload_of(s), "idTag")), "R1");
    reply(&h, s, "{\"transactionId\":7,\"idTagInfo\":{\"status\":\"Accepted\"}}");
    auto_answer(&h, true);
    /* the connector is busy now */
    LW_CHECK_STR(
        status_of(csms_call(&h, "RemoteStartTransaction", "{\"connectorId\":2,\"idTag\":\"R2\"}")),
        "Rejected");
    LW_CHECK_STR(status_of(csms_call(&h, "RemoteStopTransaction", "{\"transactionId\":8}")),
                 "Rejected");
    LW_CHECK_STR(status_of(csms_call(&h, "RemoteStopTransaction", "{\"transactionId\":7}")),
                 "Accepted");
    cJSON *stop = expect_call(&h, "StopTransaction");
    LW_CHECK_STR(cJSON_GetStringValue(G(payload_of(stop), "reason")), "Remote");
    LW_CHECK_INT(G(payload_of(stop), "transactionId")->valueint, 7);
    reply(&h, stop, "{}");
    h_free(&h);
}

LW_TEST(reset_reboots)
{
    h_t h;
    h_init(&h, LW_OCPP_201, NULL);
    boot_accepted(&h, false);
    LW_CHECK_STR(status_of(csms_call(&h, "Reset", "{\"type\":\"Immediate\"}")), "Accepted");
    advance(&h, 100);
    LW_CHECK_INT(h.closes, 1);
    lw_station_on_disconnected(h.st);
    advance(&h, 1000);
    LW_CHECK_INT(h.connects, 2);
    lw_station_on_connected(h.st);
    cJSON *b = expect_call(&h, "BootNotification");
    LW_CHECK_STR(cJSON_GetStringValue(G(payload_of(b), "reason")), "RemoteReset");
    /* OnIdle with a transaction running is Scheduled */
    reply(&h, b,
          "{\"status\":\"Accepted\",\"currentTime\":\"2026-01-01T00:00:00Z\",\"interval\":300}");
    auto_answer(&h, false);
    lw_station_set_config(h.st, "AuthCtrlr.OfflineTxForUnknownIdEnabled", "true", false);
    LW_CHECK_STR(status_of(csms_call(&h, "RequestStartTransaction",
                                     "{\"evseId\":1,\"remoteStartId\":5,\"idToken\":{\"idToken\":"
                                     "\"A\",\"type\":\"Central\"}}")),
                 "Accepted");
    lw_station_plug(h.st, 1, true);
    auto_answer(&h, false);
    LW_CHECK_STR(status_of(csms_call(&h, "Reset", "{\"type\":\"OnIdle\"}")), "Scheduled");
    advance(&h, 20000);
    LW_CHECK_INT(h.closes, 1);
    lw_station_stop_local(h.st, 1);
    auto_answer(&h, false);
    advance(&h, 11000);
    LW_CHECK_INT(h.closes, 2);
    h_free(&h);
}

LW_TEST(trigger_messages)
{
    h_t h;
    h_init(&h, LW_OCPP_16, NULL);
    boot_accepted(&h, true);
    LW_CHECK_STR(
        status_of(csms_call(&h, "TriggerMessage",
                            "{\"requestedMessage\":\"StatusNotification\",\"connectorId\":2}")),
        "Accepted");
    cJSON *s = expect_call(&h, "StatusNotification");
    LW_CHECK_INT(G(payload_of(s), "connectorId")->valueint, 2);
    reply(&h, s, "{}");
    LW_CHECK_STR(status_of(csms_call(&h, "TriggerMessage",
                                     "{\"requestedMessage\":\"MeterValues\",\"connectorId\":1}")),
                 "Accepted");
    cJSON *mv = expect_call(&h, "MeterValues");
    cJSON *sv = A(G(A(G(payload_of(mv), "meterValue"), 0), "sampledValue"), 0);
    LW_CHECK_STR(cJSON_GetStringValue(G(sv, "context")), "Trigger");
    reply(&h, mv, "{}");
    LW_CHECK_STR(status_of(csms_call(&h, "TriggerMessage", "{\"requestedMessage\":\"Heartbeat\"}")),
                 "Accepted");
    reply(&h, expect_call(&h, "Heartbeat"), "{\"currentTime\":\"2026-01-01T00:00:00Z\"}");
    LW_CHECK_STR(
        status_of(csms_call(&h, "TriggerMessage",
                            "{\"requestedMessage\":\"StatusNotification\",\"connectorId\":9}")),
        "Rejected");
    h_free(&h);
}

LW_TEST(configuration_16)
{
    h_t h;
    h_init(&h, LW_OCPP_16, NULL);
    boot_accepted(&h, true);
    LW_CHECK_STR(status_of(csms_call(&h, "ChangeConfiguration",
                                     "{\"key\":\"NumberOfConnectors\",\"value\":\"4\"}")),
                 "Rejected");
    LW_CHECK_STR(status_of(csms_call(&h, "ChangeConfiguration",
                                     "{\"key\":\"HeartbeatInterval\",\"value\":\"abc\"}")),
                 "Rejected");
    LW_CHECK_STR(
        status_of(csms_call(&h, "ChangeConfiguration", "{\"key\":\"NoSuchKey\",\"value\":\"1\"}")),
        "NotSupported");
    LW_CHECK_STR(status_of(csms_call(&h, "ChangeConfiguration",
                                     "{\"key\":\"HeartbeatInterval\",\"value\":\"120\"}")),
                 "Accepted");
    LW_CHECK_STR(status_of(csms_call(&h, "ChangeConfiguration",
                                     "{\"key\":\"MeterValuesSampledData\",\"value\":\"Energy."
                                     "Active.Import.Register,Bogus\"}")),
                 "Rejected");
    cJSON *r = csms_call(
        &h, "GetConfiguration",
        "{\"key\":[\"HeartbeatInterval\",\"NumberOfConnectors\",\"Foo\",\"AuthorizationKey\"]}");
    cJSON *keys = G(r, "configurationKey");
    LW_CHECK_INT(cJSON_GetArraySize(keys), 2);
    LW_CHECK_STR(cJSON_GetStringValue(G(A(keys, 0), "value")), "120");
    LW_CHECK(cJSON_IsFalse(G(A(keys, 0), "readonly")));
    LW_CHECK(cJSON_IsTrue(G(A(keys, 1), "readonly")));
    LW_CHECK_STR(cJSON_GetStringValue(G(A(keys, 1), "value")), "2");
    LW_CHECK_INT(cJSON_GetArraySize(G(r, "unknownKey")), 2);
    /* the new interval is in force: the heartbeat comes after 120 s */
    advance(&h, 119000);
    LW_CHECK(next(&h) == NULL);
    advance(&h, 1000);
    expect_call(&h, "Heartbeat");
    h_free(&h);
}

LW_TEST(device_model_201)
{
    h_t h;
    h_init(&h, LW_OCPP_201, NULL);
    boot_accepted(&h, false);
    cJSON *r = csms_call(&h, "SetVariables",
                         "{\"setVariableData\":["
                         "{\"attributeValue\":\"30\",\"component\":{\"name\":\"OCPPCommCtrlr\"},"
                         "\"variable\":{\"name\":\"HeartbeatInterval\"}},"
                         "{\"attributeValue\":\"9\",\"component\":{\"name\":\"SmartChargingCtrlr\"}"
                         ",\"variable\":{\"name\":\"ProfileStackLevel\"}},"
                         "{\"attributeValue\":\"9\",\"component\":{\"name\":\"Nope\"},\"variable\":"
                         "{\"name\":\"X\"}},"
                         "{\"attributeValue\":\"9\",\"component\":{\"name\":\"TxCtrlr\"},"
                         "\"variable\":{\"name\":\"X\"}}]}");
    cJSON *res = G(r, "setVariableResult");
    const char *want[] = {"Accepted", "Rejected", "UnknownComponent", "UnknownVariable"};
    for (int i = 0; i < 4; i++)
        LW_CHECK_STR(cJSON_GetStringValue(G(A(res, i), "attributeStatus")), want[i]);
    r = csms_call(&h, "GetVariables",
                  "{\"getVariableData\":[{\"component\":{\"name\":\"OCPPCommCtrlr\"},\"variable\":{"
                  "\"name\":\"HeartbeatInterval\"}},"
                  "{\"component\":{\"name\":\"EVSE\",\"evse\":{\"id\":2}},\"variable\":{\"name\":"
                  "\"AvailabilityState\"}}]}");
    res = G(r, "getVariableResult");
    LW_CHECK_STR(cJSON_GetStringValue(G(A(res, 0), "attributeValue")), "30");
    LW_CHECK_STR(cJSON_GetStringValue(G(A(res, 1), "attributeValue")), "Available");
    LW_CHECK_STR(status_of(csms_call(&h, "GetBaseReport",
                                     "{\"requestId\":3,\"reportBase\":\"FullInventory\"}")),
                 "Accepted");
    int items = 0, msgs = 0;
    cJSON *f;
    while ((f = next(&h))) {
        LW_CHECK_STR(action_of(f), "NotifyReport");
        cJSON *p = payload_of(f);
        LW_CHECK_INT(G(p, "requestId")->valueint, 3);
        LW_CHECK_INT(G(p, "seqNo")->valueint, msgs);
        items += cJSON_GetArraySize(G(p, "reportData"));
        msgs++;
        reply(&h, f, "{}");
    }
    LW_CHECK(items > 60);
    LW_CHECK(msgs >= 1);
    LW_CHECK_STR(
        status_of(csms_call(
            &h, "GetReport",
            "{\"requestId\":4,\"componentVariable\":[{\"component\":{\"name\":\"Nope\"}}]}")),
        "EmptyResultSet");
    h_free(&h);
}

LW_TEST(composite_schedule_two_profiles)
{
    h_t h;
    h_init(&h, LW_OCPP_16, NULL);
    boot_accepted(&h, true);
    LW_CHECK_STR(
        status_of(csms_call(
            &h, "SetChargingProfile",
            "{\"connectorId\":0,\"csChargingProfiles\":{\"chargingProfileId\":1,\"stackLevel\":0,"
            "\"chargingProfilePurpose\":\"ChargePointMaxProfile\",\"chargingProfileKind\":"
            "\"Absolute\","
            "\"chargingSchedule\":{\"startSchedule\":\"2026-01-01T00:00:00Z\",\"chargingRateUnit\":"
            "\"A\","
            "\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":16},{\"startPeriod\":900,"
            "\"limit\":20}]}}}")),
        "Accepted");
    LW_CHECK_STR(
        status_of(csms_call(
            &h, "SetChargingProfile",
            "{\"connectorId\":1,\"csChargingProfiles\":{\"chargingProfileId\":2,\"stackLevel\":1,"
            "\"chargingProfilePurpose\":\"TxDefaultProfile\",\"chargingProfileKind\":\"Absolute\","
            "\"chargingSchedule\":{\"startSchedule\":\"2026-01-01T00:00:00Z\",\"chargingRateUnit\":"
            "\"A\","
            "\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":32},{\"startPeriod\":600,"
            "\"limit\":10},"
            "{\"startPeriod\":1200,\"limit\":25}]}}}")),
        "Accepted");
    /* a TxProfile without a transaction is refused; a max profile on a connector too */
    LW_CHECK_STR(
        status_of(csms_call(
            &h, "SetChargingProfile",
            "{\"connectorId\":1,\"csChargingProfiles\":{\"chargingProfileId\":3,\"stackLevel\":0,"
            "\"chargingProfilePurpose\":\"TxProfile\",\"chargingProfileKind\":\"Relative\","
            "\"chargingSchedule\":{\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":[{"
            "\"startPeriod\":0,\"limit\":6}]}}}")),
        "Rejected");
    cJSON *r = csms_call(&h, "GetCompositeSchedule",
                         "{\"connectorId\":1,\"duration\":1800,\"chargingRateUnit\":\"A\"}");
    LW_CHECK_STR(status_of(r), "Accepted");
    cJSON *per = G(G(r, "chargingSchedule"), "chargingSchedulePeriod");
    /* min(max, default): 0-600 16 A, 600-1200 10 A, 1200-1800 min(20, 25) = 20 A */
    int want_start[] = {0, 600, 1200};
    double want_limit[] = {16, 10, 20};
    LW_CHECK_INT(cJSON_GetArraySize(per), 3);
    for (int i = 0; i < 3 && i < cJSON_GetArraySize(per); i++) {
        LW_CHECK_INT(G(A(per, i), "startPeriod")->valueint, want_start[i]);
        LW_CHECK_INT((int)G(A(per, i), "limit")->valuedouble, (int)want_limit[i]);
    }
    LW_CHECK_STR(status_of(csms_call(&h, "ClearChargingProfile", "{\"id\":2}")), "Accepted");
    LW_CHECK_STR(status_of(csms_call(&h, "ClearChargingProfile", "{\"id\":2}")), "Unknown");
    r = csms_call(&h, "GetCompositeSchedule",
                  "{\"connectorId\":1,\"duration\":600,\"chargingRateUnit\":\"W\"}");
    per = G(G(r, "chargingSchedule"), "chargingSchedulePeriod");
    LW_CHECK_INT((int)G(A(per, 0), "limit")->valuedouble, 16 * 230 * 3);
    h_free(&h);
}

static int count_action(cJSON *log, const char *action)
{
    int n = 0;
    cJSON *f;
    cJSON_ArrayForEach(f, log) if (!strcmp(action_of(f), action)) n++;
    return n;
}

LW_TEST(offline_journal_201)
{
    char path[] = "/tmp/lw-station-journal-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    unlink(path);
    h_t h;
    h_init(&h, LW_OCPP_201, path);
    boot_accepted(&h, false);
    lw_station_set_config(h.st, "AuthCtrlr.OfflineTxForUnknownIdEnabled", "true", false);
    lw_station_on_disconnected(h.st);
    drain(&h);
    /* offline: a whole transaction's worth of messages */
    lw_station_plug(h.st, 1, true);
    LW_CHECK_INT(lw_station_present_token(h.st, 1, "OFF1"), 0);
    lw_station_set_power(h.st, 1, 3600);
    for (int i = 0; i < 3; i++) {
        lw_manual_clock_advance(&h.clk, 60000);
        lw_station_tick(h.st);
        drain(&h);
    }
    LW_CHECK_INT(lw_station_queued(h.st), 4);
    h_crash_and_restart(&h, LW_OCPP_201);
    /* the restarted station found the running transaction and ended it: PowerLoss */
    LW_CHECK_INT(lw_station_queued(h.st), 5);
    h.pos = h.n;
    cJSON_Delete(h.log);
    h.log = cJSON_CreateArray();
    lw_station_on_connected(h.st);
    auto_answer(&h, false);
    LW_CHECK_INT(count_action(h.log, "TransactionEvent"), 5);
    int seq = 0;
    const char *txid = NULL;
    cJSON *f;
    cJSON_ArrayForEach(f, h.log)
    {
        if (strcmp(action_of(f), "TransactionEvent") != 0) continue;
        cJSON *p = payload_of(f);
        LW_CHECK_INT(G(p, "seqNo")->valueint, seq);
        LW_CHECK(cJSON_IsTrue(G(p, "offline")));
        const char *id = cJSON_GetStringValue(G(G(p, "transactionInfo"), "transactionId"));
        if (!txid) txid = id;
        LW_CHECK_STR(id, txid);
        const char *want = seq == 0 ? "Started" : seq == 4 ? "Ended" : "Updated";
        LW_CHECK_STR(cJSON_GetStringValue(G(p, "eventType")), want);
        if (seq == 4)
            LW_CHECK_STR(cJSON_GetStringValue(G(G(p, "transactionInfo"), "stoppedReason")),
                         "PowerLoss");
        seq++;
    }
    LW_CHECK_INT(lw_station_queued(h.st), 0);
    /* and once more: nothing is delivered twice after another restart */
    h_crash_and_restart(&h, LW_OCPP_201);
    LW_CHECK_INT(lw_station_queued(h.st), 0);
    h_free(&h);
    unlink(path);
}

LW_TEST(offline_journal_16)
{
    char path[] = "/tmp/lw-station-journal-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    unlink(path);
    h_t h;
    h_init(&h, LW_OCPP_16, path);
    boot_accepted(&h, true);
    lw_station_set_config(h.st, "AllowOfflineTxForUnknownId", "true", false);
    lw_station_on_disconnected(h.st);
    lw_station_plug(h.st, 2, true);
    lw_station_present_token(h.st, 2, "OFF2");
    lw_station_set_power(h.st, 2, 7200);
    for (int i = 0; i < 2; i++) {
        lw_manual_clock_advance(&h.clk, 60000);
        lw_station_tick(h.st);
    }
    lw_station_present_token(h.st, 2, "OFF2"); /* stop */
    drain(&h);
    LW_CHECK_INT(lw_station_queued(h.st), 4);
    h_crash_and_restart(&h, LW_OCPP_16);
    LW_CHECK_INT(lw_station_queued(h.st), 4); /* ended cleanly: no PowerLoss stop */
    h.pos = h.n;
    cJSON_Delete(h.log);
    h.log = cJSON_CreateArray();
    h.next_txid = 555;
    lw_station_on_connected(h.st);
    auto_answer(&h, true);
    const char *order[] = {"StartTransaction", "MeterValues", "MeterValues", "StopTransaction"};
    int i = 0;
    cJSON *f;
    cJSON_ArrayForEach(f, h.log)
    {
        const char *a = action_of(f);
        if (strcmp(a, "StartTransaction") && strcmp(a, "MeterValues") &&
            strcmp(a, "StopTransaction"))
            continue;
        LW_CHECK(i < 4);
        if (i < 4) LW_CHECK_STR(a, order[i]);
        if (i > 0) /* the id the CSMS gave after the replay */
            LW_CHECK_INT(G(payload_of(f), "transactionId")->valueint, 555);
        i++;
    }
    LW_CHECK_INT(i, 4);
    h_free(&h);
    unlink(path);
}

LW_TEST(availability_reservation_local_list)
{
    h_t h;
    h_init(&h, LW_OCPP_16, NULL);
    boot_accepted(&h, true);
    LW_CHECK_STR(status_of(csms_call(&h, "ChangeAvailability",
                                     "{\"connectorId\":1,\"type\":\"Inoperative\"}")),
                 "Accepted");
    cJSON *s = expect_call(&h, "StatusNotification");
    LW_CHECK_STR(cJSON_GetStringValue(G(payload_of(s), "status")), "Unavailable");
    reply(&h, s, "{}");
    LW_CHECK_STR(status_of(csms_call(&h, "ReserveNow",
                                     "{\"connectorId\":1,\"expiryDate\":\"2026-01-01T01:00:00Z\","
                                     "\"idTag\":\"X\",\"reservationId\":1}")),
                 "Unavailable");
    LW_CHECK_STR(status_of(csms_call(&h, "ReserveNow",
                                     "{\"connectorId\":2,\"expiryDate\":\"2026-01-01T01:00:00Z\","
                                     "\"idTag\":\"X\",\"reservationId\":2}")),
                 "Accepted");
    s = expect_call(&h, "StatusNotification");
    LW_CHECK_STR(cJSON_GetStringValue(G(payload_of(s), "status")), "Reserved");
    reply(&h, s, "{}");
    LW_CHECK_INT(lw_station_present_token(h.st, 2, "OTHER"), LW_EBUSY);
    LW_CHECK_STR(status_of(csms_call(&h, "CancelReservation", "{\"reservationId\":2}")),
                 "Accepted");
    LW_CHECK_STR(status_of(csms_call(&h, "CancelReservation", "{\"reservationId\":2}")),
                 "Rejected");
    auto_answer(&h, true);
    LW_CHECK_STR(
        status_of(csms_call(&h, "SendLocalList",
                            "{\"listVersion\":3,\"updateType\":\"Full\",\"localAuthorizationList\":"
                            "[{\"idTag\":\"L1\",\"idTagInfo\":{\"status\":\"Accepted\"}}]}")),
        "Accepted");
    cJSON *r = csms_call(&h, "GetLocalListVersion", "{}");
    LW_CHECK_INT(G(r, "listVersion")->valueint, 3);
    LW_CHECK_STR(status_of(csms_call(&h, "SendLocalList",
                                     "{\"listVersion\":2,\"updateType\":\"Differential\"}")),
                 "VersionMismatch");
    /* a listed tag is accepted offline */
    lw_station_on_disconnected(h.st);
    LW_CHECK_INT(lw_station_present_token(h.st, 2, "L1"), 0);
    LW_CHECK_INT(lw_station_present_token(h.st, 1 + 0 * 2, "UNKNOWN"), LW_EBUSY); /* inoperative */
    LW_CHECK_INT(lw_station_present_token(h.st, 2, "UNKNOWN"), LW_EAUTH);
    h_free(&h);
}

/* Malformed CSMS CALLs get the CALLERROR the schema check names, spelled for the version,
 * and the station carries on. */
LW_TEST(malformed_calls_16)
{
    h_t h;
    h_init(&h, LW_OCPP_16, NULL);
    boot_accepted(&h, true);
    LW_CHECK_STR(error_code_of(csms_error(
                     &h, "[2,\"m1\",\"ChangeConfiguration\",{\"key\":5,\"value\":\"1\"}]", "m1")),
                 "TypeConstraintViolation");
    LW_CHECK_STR(error_code_of(csms_error(&h, "[2,\"m2\",\"Reset\",{\"type\":\"Bogus\"}]", "m2")),
                 "PropertyConstraintViolation");
    LW_CHECK_STR(
        error_code_of(csms_error(&h, "[2,\"m3\",\"ChangeConfiguration\",{\"key\":\"x\"}]", "m3")),
        "OccurenceConstraintViolation"); /* 1.6 spelling (sic) */
    LW_CHECK_STR(
        error_code_of(csms_error(&h, "[2,\"m4\",\"Reset\",{\"type\":\"Soft\",\"x\":1}]", "m4")),
        "FormationViolation");
    LW_CHECK_STR(error_code_of(csms_error(&h, "[2,\"m5\",\"FooBar\",{}]", "m5")), "NotImplemented");
    /* a station-to-CSMS action sent to the station: known, not supported here */
    LW_CHECK_STR(error_code_of(csms_error(&h, "[2,\"m6\",\"Heartbeat\",{}]", "m6")),
                 "NotSupported");
    /* a broken frame: the id is readable, so it is answered */
    LW_CHECK_STR(error_code_of(csms_error(&h, "[2,\"m7\",\"Reset\"]", "m7")), "FormationViolation");
    lw_station_stats_t stats;
    lw_station_stats(h.st, &stats);
    LW_CHECK_INT(stats.invalid_in, 5);
    LW_CHECK_INT(stats.not_implemented, 1);
    /* the station goes on: the next valid call is answered, heartbeats still flow */
    cJSON *r = csms_call(&h, "GetConfiguration", "{\"key\":[\"HeartbeatInterval\"]}");
    LW_CHECK_STR(cJSON_GetStringValue(G(A(G(r, "configurationKey"), 0), "value")), "300");
    advance(&h, 300000);
    expect_call(&h, "Heartbeat");
    LW_CHECK_INT(lw_station_state(h.st), LW_STATION_ACCEPTED);
    h_free(&h);
}

LW_TEST(malformed_calls_201)
{
    h_t h;
    h_init(&h, LW_OCPP_201, NULL);
    boot_accepted(&h, false);
    LW_CHECK_STR(error_code_of(
                     csms_error(&h, "[2,\"n1\",\"Reset\",{\"type\":\"Immediate\",\"x\":1}]", "n1")),
                 "FormatViolation");
    LW_CHECK_STR(error_code_of(csms_error(&h, "[2,\"n2\",\"GetVariables\",{}]", "n2")),
                 "OccurrenceConstraintViolation");
    LW_CHECK_STR(error_code_of(csms_error(&h, "[9,\"n3\",\"Reset\",{}]", "n3")),
                 "MessageTypeNotSupported");
    LW_CHECK_STR(status_of(csms_call(&h, "Reset", "{\"type\":\"OnIdle\"}")), "Accepted");
    h_free(&h);
}

/* A CSMS answer that violates its schema is treated as an error: a boot "accepted" with a
 * bad currentTime does not count, and the station tries again. */
LW_TEST(invalid_response_is_an_error)
{
    h_t h;
    h_init(&h, LW_OCPP_16, NULL);
    lw_station_on_connected(h.st);
    cJSON *b = expect_call(&h, "BootNotification");
    reply(&h, b, "{\"status\":\"Accepted\",\"currentTime\":\"yesterday\",\"interval\":60}");
    LW_CHECK_INT(lw_station_state(h.st), LW_STATION_BOOTING);
    lw_station_stats_t stats;
    lw_station_stats(h.st, &stats);
    LW_CHECK_INT(stats.invalid_in, 1);
    LW_CHECK(next(&h) == NULL); /* 1.6 has no CALLRESULTERROR */
    advance(&h, 10000);
    b = expect_call(&h, "BootNotification");
    reply(&h, b,
          "{\"status\":\"Accepted\",\"currentTime\":\"2026-01-01T00:00:00Z\",\"interval\":60}");
    LW_CHECK_INT(lw_station_state(h.st), LW_STATION_ACCEPTED);
    auto_answer(&h, true);
    /* a StartTransaction answer without transactionId is retried, not taken */
    lw_station_plug(h.st, 1, true);
    auto_answer(&h, true);
    LW_CHECK_INT(lw_station_present_token(h.st, 1, "TAG1"), 0);
    reply(&h, expect_call(&h, "Authorize"), "{\"idTagInfo\":{\"status\":\"Accepted\"}}");
    cJSON *s = expect_call(&h, "StartTransaction");
    reply(&h, s, "{\"idTagInfo\":{\"status\":\"Accepted\"}}");
    lw_station_connector_info_t ci;
    lw_station_connector_info(h.st, 1, &ci);
    LW_CHECK_STR(ci.transaction_id, "");
    /* the retry comes after TransactionMessageRetryInterval; other messages may pass */
    cJSON *f = NULL;
    for (int i = 0; i < 40 && !f; i++) {
        advance(&h, 5000);
        cJSON *x;
        while (!f && (x = next(&h))) {
            if (!strcmp(action_of(x), "StartTransaction"))
                f = x;
            else if (!strcmp(action_of(x), "Heartbeat"))
                reply(&h, x, "{\"currentTime\":\"2026-01-01T00:00:00Z\"}");
            else if (cJSON_GetArrayItem(x, 0)->valueint == 2)
                reply(&h, x, "{}");
        }
    }
    LW_CHECK(f != NULL);
    if (!f) {
        h_free(&h);
        return;
    }
    reply(&h, f, "{\"transactionId\":77,\"idTagInfo\":{\"status\":\"Accepted\"}}");
    lw_station_connector_info(h.st, 1, &ci);
    LW_CHECK_STR(ci.transaction_id, "77");
    h_free(&h);
}

/* 2.1: a CALLRESULT with a schema violation is reported back with CALLRESULTERROR. */
LW_TEST(invalid_response_21_result_error)
{
    h_t h;
    h_init(&h, LW_OCPP_21, NULL);
    lw_station_on_connected(h.st);
    cJSON *b = expect_call(&h, "BootNotification");
    char want[64];
    snprintf(want, sizeof want, "%s", cJSON_GetArrayItem(b, 1)->valuestring);
    reply(&h, b, "{\"status\":\"Maybe\",\"currentTime\":\"2026-01-01T00:00:00Z\",\"interval\":60}");
    cJSON *e = next(&h);
    LW_CHECK_INT(e ? cJSON_GetArrayItem(e, 0)->valueint : -1, 5);
    LW_CHECK_STR(e ? cJSON_GetArrayItem(e, 1)->valuestring : "", want);
    LW_CHECK_STR(error_code_of(e), "PropertyConstraintViolation");
    LW_CHECK_INT(lw_station_state(h.st), LW_STATION_BOOTING);
    h_free(&h);
}

/* A station claiming 2.1: boot, status per EVSE, a remote-started transaction with the
 * 2.1 messages, every payload validated against the 2.1 schemas on the way (h_free checks
 * the station built no invalid one). */
LW_TEST(session_21)
{
    h_t h;
    h_init(&h, LW_OCPP_21, NULL);
    LW_CHECK_STR(lw_station_subprotocol(h.st), "ocpp2.1");
    lw_station_on_connected(h.st);
    cJSON *b = expect_call(&h, "BootNotification");
    LW_CHECK_STR(cJSON_GetStringValue(G(payload_of(b), "reason")), "PowerUp");
    LW_CHECK_STR(cJSON_GetStringValue(G(G(payload_of(b), "chargingStation"), "vendorName")),
                 "Ladewerk");
    reply(&h, b,
          "{\"status\":\"Accepted\",\"currentTime\":\"2026-01-01T00:00:00Z\",\"interval\":120}");
    LW_CHECK_INT(lw_station_state(h.st), LW_STATION_ACCEPTED);
    for (int e = 1; e <= 2; e++) {
        cJSON *sn = expect_call(&h, "StatusNotification");
        LW_CHECK_INT(G(payload_of(sn), "evseId")->valueint, e);
        LW_CHECK_INT(G(payload_of(sn), "connectorId")->valueint, 1);
        LW_CHECK_STR(cJSON_GetStringValue(G(payload_of(sn), "connectorStatus")), "Available");
        reply(&h, sn, "{}");
    }
    LW_CHECK_STR(status_of(csms_call(&h, "RequestStartTransaction",
                                     "{\"evseId\":1,\"remoteStartId\":12,"
                                     "\"idToken\":{\"idToken\":\"R21\",\"type\":\"ISO14443\"}}")),
                 "Accepted");
    auto_answer(&h, false);
    lw_station_plug(h.st, 1, true);
    cJSON *ev = NULL, *f;
    while ((f = next(&h)) && !ev) {
        if (!strcmp(action_of(f), "TransactionEvent"))
            ev = f;
        else
            reply(&h, f, "{}");
    }
    LW_CHECK(ev != NULL);
    cJSON *p = payload_of(ev);
    LW_CHECK_STR(cJSON_GetStringValue(G(p, "eventType")), "Started");
    LW_CHECK_INT(G(p, "seqNo")->valueint, 0);
    LW_CHECK_INT(G(G(p, "transactionInfo"), "remoteStartId")->valueint, 12);
    LW_CHECK_STR(cJSON_GetStringValue(G(G(p, "idToken"), "idToken")), "R21");
    char id[40];
    snprintf(id, sizeof id, "%s",
             cJSON_GetStringValue(G(G(p, "transactionInfo"), "transactionId"))
                 ? cJSON_GetStringValue(G(G(p, "transactionInfo"), "transactionId"))
                 : "");
    reply(&h, ev, "{\"idTokenInfo\":{\"status\":\"Accepted\"}}");
    lw_station_set_power(h.st, 1, 11000);
    auto_answer(&h, false);
    char req[128];
    snprintf(req, sizeof req, "{\"transactionId\":\"%s\"}", id);
    cJSON *ts = csms_call(&h, "GetTransactionStatus", req);
    LW_CHECK(cJSON_IsTrue(G(ts, "ongoingIndicator")));
    for (int m = 0; m < 60; m++) {
        advance(&h, 60000);
        auto_answer(&h, false);
    }
    LW_CHECK_STR(status_of(csms_call(&h, "RequestStopTransaction", req)), "Accepted");
    cJSON *end = expect_call(&h, "TransactionEvent");
    p = payload_of(end);
    LW_CHECK_STR(cJSON_GetStringValue(G(p, "eventType")), "Ended");
    LW_CHECK_STR(cJSON_GetStringValue(G(G(p, "transactionInfo"), "stoppedReason")), "Remote");
    reply(&h, end, "{}");
    lw_station_connector_info_t ci;
    lw_station_connector_info(h.st, 1, &ci);
    LW_CHECK(!ci.in_transaction);
    LW_CHECK((int)ci.energy_wh >= 10900); /* about an hour at 11 kW */
    auto_answer(&h, false);
    h_free(&h);
}

bool calls_handled(lw_ocpp_version_t v, const char *action); /* lib/station internal */

/* 2.1-only CSMS calls this station cannot support get the response the schema offers for
 * it, never NotImplemented; and every CSMS-initiated action of every version has an answer. */
LW_TEST(unsupported_21_actions)
{
    for (int v = 0; v < LW_OCPP_VERSION_COUNT; v++) {
        size_t n;
        const lw_codec_action_t *a = lw_codec_actions((lw_ocpp_version_t)v, &n);
        for (size_t i = 0; i < n; i++)
            if ((a[i].dir & LW_DIR_FROM_CSMS) && !calls_handled((lw_ocpp_version_t)v, a[i].name))
                LW_FAILF("OCPP %s %s has no handler", lw_ocpp_version_name((lw_ocpp_version_t)v),
                         a[i].name);
    }
    h_t h;
    h_init(&h, LW_OCPP_21, NULL);
    boot_accepted(&h, false);
    static const struct {
        const char *action, *payload, *status;
    } cases[] = {
        {"AFRRSignal", "{\"timestamp\":\"2026-01-01T00:00:00Z\",\"signal\":3}", "Rejected"},
        {"AdjustPeriodicEventStream", "{\"id\":1,\"params\":{\"interval\":10}}", "Rejected"},
        {"ChangeTransactionTariff",
         "{\"transactionId\":\"nope\",\"tariff\":{\"tariffId\":\"T1\",\"currency\":\"EUR\"}}",
         "TxNotFound"},
        {"SetDERControl", "{\"isDefault\":true,\"controlId\":\"c1\",\"controlType\":\"FreqDroop\"}",
         "NotSupported"},
        {"GetDERControl", "{\"requestId\":4}", "NotSupported"},
        {"ClearDERControl", "{\"isDefault\":false}", "NotSupported"},
        {"GetTariffs", "{\"evseId\":0}", "NoTariff"},
        {"SetDefaultTariff", "{\"evseId\":0,\"tariff\":{\"tariffId\":\"T1\",\"currency\":\"EUR\"}}",
         "Rejected"},
        {"NotifyAllowedEnergyTransfer",
         "{\"transactionId\":\"x\",\"allowedEnergyTransfer\":[\"AC_single_phase\"]}", "Rejected"},
        {"RequestBatterySwap",
         "{\"requestId\":1,\"idToken\":{\"idToken\":\"B1\",\"type\":\"ISO14443\"}}", "Rejected"},
        {"UpdateDynamicSchedule", "{\"chargingProfileId\":5,\"scheduleUpdate\":{\"limit\":10}}",
         "Rejected"},
        {"UsePriorityCharging", "{\"transactionId\":\"x\",\"activate\":true}", "NoProfile"},
        {"SetDisplayMessage",
         "{\"message\":{\"id\":1,\"priority\":\"NormalCycle\",\"message\":{\"format\":\"UTF8\","
         "\"content\":\"hi\"}}}",
         "Rejected"},
        {"GetMonitoringReport", "{\"requestId\":2}", "NotSupported"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *r = csms_call(&h, cases[i].action, cases[i].payload);
        if (strcmp(status_of(r), cases[i].status) != 0)
            LW_FAILF("%s: status %s, want %s", cases[i].action, status_of(r), cases[i].status);
    }
    cJSON *r = csms_call(&h, "ClearTariffs", "{\"tariffIds\":[\"A\",\"B\"]}");
    LW_CHECK_INT(cJSON_GetArraySize(G(r, "clearTariffsResult")), 2);
    LW_CHECK_STR(status_of(A(G(r, "clearTariffsResult"), 1)), "NoTariff");
    r = csms_call(&h, "NotifyWebPaymentStarted", "{\"evseId\":1,\"timeout\":60}");
    LW_CHECK(r && cJSON_GetArraySize(r) == 0);
    r = csms_call(&h, "GetPeriodicEventStream", "{}");
    LW_CHECK(r && cJSON_GetArraySize(r) == 0);
    lw_station_stats_t stats;
    lw_station_stats(h.st, &stats);
    LW_CHECK_INT(stats.not_implemented, 0);
    LW_CHECK_INT(stats.invalid_in, 0);
    h_free(&h);
}

/* Charging profiles, reservations and installed certificates live in the journal: a station
 * restarted over it (crash, power loss) still has them, and what was removed stays removed. */
static const char test_root_pem[] = /* a throwaway self-signed P-256 test certificate */
    "-----BEGIN "
    "CERTIFICATE-----"
    "\\nMIIBkDCCATegAwIBAgIUMkYgzWon5kzBobKzGWHT6EhqXTIwCgYIKoZIzj0EAwIw\\nHTEbMBkGA1UEAwwSTGFkZXdl"
    "cmsgVGVzdCBSb290MCAXDTI2MTEyNDA5NTY0M1oY\\nDzIxMjYxMDMxMDk1NjQzWjAdMRswGQYDVQQDDBJMYWRld2VyayB"
    "UZXN0IFJvb3Qw\\nWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQr6YCpfdxIJE0rZlfMNdi2WoSgMH7B\\nUjznytNo1km"
    "2pa/jLmES/jR51zJ8uBncGPvkSzejrHJHMg843MJttu8zo1MwUTAd\\nBgNVHQ4EFgQUlxA07txEaGI0qMVbXV/"
    "EcSmMpuEwHwYDVR0jBBgwFoAUlxA07txE\\naGI0qMVbXV/EcSmMpuEwDwYDVR0TAQH/BAUwAwEB/"
    "zAKBggqhkjOPQQDAgNHADBE\\nAiBR3duPjDuXc+obB/"
    "wYJ3hqyj8UqbIXOEp5YO5prouWZwIgNBymKp70gpFW1WUc\\npWy7nd3rouLrLBlgcFTLM92Kuww=\\n-----END "
    "CERTIFICATE-----";

LW_TEST(journal_keeps_profiles_reservations_certificates)
{
    char path[] = "/tmp/lw-station-journal-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    unlink(path);
    h_t h;
    h_init(&h, LW_OCPP_16, path);
    boot_accepted(&h, true);
    LW_CHECK_STR(
        status_of(csms_call(
            &h, "SetChargingProfile",
            "{\"connectorId\":0,\"csChargingProfiles\":{\"chargingProfileId\":1,\"stackLevel\":0,"
            "\"chargingProfilePurpose\":\"ChargePointMaxProfile\",\"chargingProfileKind\":"
            "\"Absolute\",\"chargingSchedule\":{\"startSchedule\":\"2026-01-01T00:00:00Z\","
            "\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":"
            "16},"
            "{\"startPeriod\":7200,\"limit\":20}]}}}")),
        "Accepted");
    LW_CHECK_STR(status_of(csms_call(&h, "ReserveNow",
                                     "{\"connectorId\":2,\"expiryDate\":\"2026-01-02T00:00:00Z\","
                                     "\"idTag\":\"RES1\",\"reservationId\":5}")),
                 "Accepted");
    char req[2048];
    snprintf(req, sizeof req,
             "{\"certificateType\":\"CentralSystemRootCertificate\",\"certificate\":\"%s\"}",
             test_root_pem);
    LW_CHECK_STR(status_of(csms_call(&h, "InstallCertificate", req)), "Accepted");
    auto_answer(&h, true);

    h_crash_and_restart(&h, LW_OCPP_16);
    boot_accepted(&h, true);
    /* the profile: 16 A until 02:00 */
    cJSON *r = csms_call(&h, "GetCompositeSchedule",
                         "{\"connectorId\":1,\"duration\":600,\"chargingRateUnit\":\"A\"}");
    LW_CHECK_STR(status_of(r), "Accepted");
    cJSON *per = G(G(r, "chargingSchedule"), "chargingSchedulePeriod");
    LW_CHECK_INT((int)G(A(per, 0), "limit")->valuedouble, 16);
    /* the reservation: connector 2 reported Reserved at boot, and it can be cancelled */
    bool reserved = false;
    cJSON *f;
    cJSON_ArrayForEach(f, h.log)
    {
        cJSON *p = payload_of(f);
        if (!strcmp(action_of(f), "StatusNotification") && G(p, "connectorId")->valueint == 2 &&
            !strcmp(cJSON_GetStringValue(G(p, "status")) ? cJSON_GetStringValue(G(p, "status"))
                                                         : "",
                    "Reserved"))
            reserved = true;
    }
    LW_CHECK(reserved);
    /* the certificate */
    r = csms_call(&h, "GetInstalledCertificateIds",
                  "{\"certificateType\":\"CentralSystemRootCertificate\"}");
    LW_CHECK_STR(status_of(r), "Accepted");
    LW_CHECK_INT(cJSON_GetArraySize(G(r, "certificateHashData")), 1);
    char del[1024];
    char *hd = cJSON_PrintUnformatted(A(G(r, "certificateHashData"), 0));
    snprintf(del, sizeof del, "{\"certificateHashData\":%s}", hd ? hd : "{}");
    free(hd);
    /* remove all three, restart again: they stay removed */
    LW_CHECK_STR(status_of(csms_call(&h, "CancelReservation", "{\"reservationId\":5}")),
                 "Accepted");
    LW_CHECK_STR(status_of(csms_call(&h, "DeleteCertificate", del)), "Accepted");
    LW_CHECK_STR(status_of(csms_call(&h, "ClearChargingProfile", "{\"id\":1}")), "Accepted");
    auto_answer(&h, true);
    h_crash_and_restart(&h, LW_OCPP_16);
    boot_accepted(&h, true);
    LW_CHECK_STR(status_of(csms_call(&h, "CancelReservation", "{\"reservationId\":5}")),
                 "Rejected");
    LW_CHECK_STR(status_of(csms_call(&h, "GetInstalledCertificateIds",
                                     "{\"certificateType\":\"CentralSystemRootCertificate\"}")),
                 "NotFound");
    LW_CHECK_STR(status_of(csms_call(&h, "ClearChargingProfile", "{\"id\":1}")), "Unknown");
    h_free(&h);
    unlink(path);
}

/* Transfers through the host's ops: the station asks, the host reports. */
typedef struct fake_xfer {
    int downloads, uploads;
    uint32_t last;
    char url[256], filename[128], body[2048];
} fake_xfer_t;

static int fake_download(void *ctx, uint32_t xfer, const char *url)
{
    fake_xfer_t *f = ctx;
    f->downloads++;
    f->last = xfer;
    snprintf(f->url, sizeof f->url, "%s", url);
    return 0;
}

static int fake_upload(void *ctx, uint32_t xfer, const char *url, const char *filename,
                       const void *data, size_t len)
{
    fake_xfer_t *f = ctx;
    f->uploads++;
    f->last = xfer;
    snprintf(f->url, sizeof f->url, "%s", url);
    snprintf(f->filename, sizeof f->filename, "%s", filename);
    snprintf(f->body, sizeof f->body, "%.*s", (int)len, (const char *)data);
    return 0;
}

static const char *next_status(h_t *h, const char *action)
{
    cJSON *f = expect_call(h, action);
    const char *s = cJSON_GetStringValue(G(payload_of(f), "status"));
    reply(h, f, "{}");
    return s ? s : "(none)";
}

LW_TEST(transfers_through_host)
{
    fake_xfer_t fx = {0};
    lw_station_transfer_ops_t ops = {
        .download = fake_download, .upload = fake_upload, .schemes = "http", .ctx = &fx};
    h_t h;
    memset(&h, 0, sizeof h);
    lw_manual_clock_init(&h.clk, T0);
    h.log = cJSON_CreateArray();
    lw_station_config_t cfg = {
        .id = "CP1", .version = LW_OCPP_201, .connectors = 1, .seed = 7, .transfers = &ops};
    LW_CHECK_INT(lw_station_new(&cfg, &h.clk.clock, &h.st), 0);
    drain(&h);
    boot_accepted(&h, false);
    LW_CHECK_STR(status_of(csms_call(&h, "UpdateFirmware",
                                     "{\"requestId\":3,\"firmware\":{\"location\":"
                                     "\"http://127.0.0.1:1/fw.bin\",\"retrieveDateTime\":"
                                     "\"2026-01-01T00:00:00Z\"}}")),
                 "Accepted");
    advance(&h, 100);
    LW_CHECK_STR(next_status(&h, "FirmwareStatusNotification"), "Downloading");
    LW_CHECK_INT(fx.downloads, 1);
    LW_CHECK_STR(fx.url, "http://127.0.0.1:1/fw.bin");
    advance(&h, 60000); /* nothing happens until the host reports */
    LW_CHECK(next(&h) == NULL);
    LW_CHECK_INT(lw_station_download_done(h.st, fx.last + 1, 0, "x", 1), LW_ENOTFOUND);
    LW_CHECK_INT(lw_station_download_done(h.st, fx.last, 0, "firmware", 8), 0);
    LW_CHECK_STR(next_status(&h, "FirmwareStatusNotification"), "Downloaded");
    advance(&h, 1000);
    LW_CHECK_STR(next_status(&h, "FirmwareStatusNotification"), "Installing");
    advance(&h, 3000);
    LW_CHECK_STR(next_status(&h, "FirmwareStatusNotification"), "Installed");
    /* installed: the station reboots into the new firmware */
    auto_answer(&h, false);
    advance(&h, 20000);
    LW_CHECK_INT(h.closes, 1);
    lw_station_on_disconnected(h.st);
    advance(&h, 2000);
    boot_accepted(&h, false);
    /* a failed download; an unsupported scheme fails without asking the host */
    csms_call(&h, "UpdateFirmware",
              "{\"requestId\":4,\"firmware\":{\"location\":\"http://127.0.0.1:1/x\","
              "\"retrieveDateTime\":\"2026-01-01T00:00:00Z\"}}");
    advance(&h, 100);
    LW_CHECK_STR(next_status(&h, "FirmwareStatusNotification"), "Downloading");
    LW_CHECK_INT(lw_station_download_done(h.st, fx.last, LW_EIO, NULL, 0), 0);
    LW_CHECK_STR(next_status(&h, "FirmwareStatusNotification"), "DownloadFailed");
    csms_call(&h, "UpdateFirmware",
              "{\"requestId\":5,\"firmware\":{\"location\":\"ftp://127.0.0.1/x\","
              "\"retrieveDateTime\":\"2026-01-01T00:00:00Z\"}}");
    advance(&h, 100);
    LW_CHECK_STR(next_status(&h, "FirmwareStatusNotification"), "DownloadFailed");
    LW_CHECK_INT(fx.downloads, 2);
    /* a log upload: the generated file goes to the host */
    cJSON *r = csms_call(&h, "GetLog",
                         "{\"requestId\":9,\"logType\":\"DiagnosticsLog\",\"log\":{"
                         "\"remoteLocation\":\"http://127.0.0.1:1/up\"}}");
    LW_CHECK_STR(status_of(r), "Accepted");
    advance(&h, 1000);
    LW_CHECK_STR(next_status(&h, "LogStatusNotification"), "Uploading");
    LW_CHECK_INT(fx.uploads, 1);
    LW_CHECK(strstr(fx.body, "station=CP1") != NULL);
    LW_CHECK(strstr(fx.filename, "CP1-") == fx.filename);
    LW_CHECK_INT(lw_station_upload_done(h.st, fx.last, 0), 0);
    LW_CHECK_STR(next_status(&h, "LogStatusNotification"), "Uploaded");
    h_free(&h);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    LW_RUN(boot_pending_then_accepted);
    LW_RUN(boot_rejected_answers_nothing);
    LW_RUN(heartbeat_timing);
    LW_RUN(transaction_16);
    LW_RUN(transaction_201);
    LW_RUN(remote_start_stop_16);
    LW_RUN(reset_reboots);
    LW_RUN(trigger_messages);
    LW_RUN(configuration_16);
    LW_RUN(device_model_201);
    LW_RUN(composite_schedule_two_profiles);
    LW_RUN(offline_journal_201);
    LW_RUN(offline_journal_16);
    LW_RUN(availability_reservation_local_list);
    LW_RUN(malformed_calls_16);
    LW_RUN(malformed_calls_201);
    LW_RUN(invalid_response_is_an_error);
    LW_RUN(invalid_response_21_result_error);
    LW_RUN(session_21);
    LW_RUN(unsupported_21_actions);
    LW_RUN(journal_keeps_profiles_reservations_certificates);
    LW_RUN(transfers_through_host);
    return lw_test_done();
}
