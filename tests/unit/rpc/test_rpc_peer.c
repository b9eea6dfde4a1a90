/* test_rpc_peer.c — the per-connection call table: one outstanding CALL per direction,
 * matching, CALLERROR delivery, late/unknown responses, timeouts on a manual clock, close,
 * re-entrancy from the callback, counters. */
#include "ladewerk/rpc.h"
#include "test.h"

typedef struct rec {
    int calls;
    int status;
    char id[LW_MSGID_MAX + 1];
    char action[LW_ACTION_MAX + 1];
    lw_ocpp_err_t error;
    char payload[128];
    /* optional re-entrant action */
    lw_rpc_peer_t *peer;
    int begin_rc;
} rec_t;

static void on_done(void *ud, int status, const char *id, const char *action,
                    const lw_rpc_frame_t *f)
{
    rec_t *r = ud;
    r->calls++;
    r->status = status;
    snprintf(r->id, sizeof r->id, "%s", id);
    snprintf(r->action, sizeof r->action, "%s", action);
    r->error = f ? f->error : LW_OCPP_ERR_NONE;
    r->payload[0] = 0;
    if (f && f->payload.p) snprintf(r->payload, sizeof r->payload, "%.*s", LW_STR_FMT(f->payload));
    if (r->peer) r->begin_rc = lw_rpc_peer_begin(r->peer, LW_STR("next"), LW_STR("B"), NULL, NULL);
}

static lw_rpc_frame_t frame(lw_ocpp_version_t v, const char *s)
{
    lw_rpc_frame_t f;
    if (lw_rpc_parse(v, s, strlen(s), &f, NULL) != 0) memset(&f, 0, sizeof f);
    return f;
}

LW_TEST(one_outstanding_and_result)
{
    lw_manual_clock_t mc;
    lw_manual_clock_init(&mc, 0);
    lw_rpc_peer_t p;
    lw_rpc_peer_init(&p, LW_OCPP_201, &mc.clock, 5000, "CP1");
    rec_t r = {0}, r2 = {0};
    LW_CHECK_INT(lw_rpc_peer_begin(&p, LW_STR("c1"), LW_STR("Reset"), on_done, &r), 0);
    LW_CHECK_INT(lw_rpc_peer_begin(&p, LW_STR("c2"), LW_STR("Reset"), on_done, &r2), LW_EBUSY);
    LW_CHECK_INT(r2.calls, 0);
    uint64_t at = 0;
    LW_CHECK(lw_rpc_peer_deadline(&p, &at));
    LW_CHECK_INT(at, mc.mono + 5000);

    /* response to another id: unknown, dropped */
    lw_rpc_frame_t f = frame(LW_OCPP_201, "[3,\"zz\",{}]");
    LW_CHECK_INT(lw_rpc_peer_match(&p, &f), LW_ENOTFOUND);
    LW_CHECK_INT(p.stats.late_or_unknown, 1);
    LW_CHECK_INT(r.calls, 0);

    f = frame(LW_OCPP_201, "[3,\"c1\",{\"status\":\"Accepted\"}]");
    LW_CHECK_INT(lw_rpc_peer_match(&p, &f), 0);
    LW_CHECK_INT(r.calls, 1);
    LW_CHECK_INT(r.status, 0);
    LW_CHECK_STR(r.id, "c1");
    LW_CHECK_STR(r.action, "Reset");
    LW_CHECK_STR(r.payload, "{\"status\":\"Accepted\"}");
    LW_CHECK(!lw_rpc_peer_deadline(&p, NULL));

    /* the same response again is late now */
    LW_CHECK_INT(lw_rpc_peer_match(&p, &f), LW_ENOTFOUND);
    LW_CHECK_INT(r.calls, 1);
    LW_CHECK_INT(p.stats.late_or_unknown, 2);
    /* the slot is free */
    LW_CHECK_INT(lw_rpc_peer_begin(&p, LW_STR("c2"), LW_STR("Reset"), on_done, &r2), 0);
}

LW_TEST(callerror_delivered_as_error)
{
    lw_manual_clock_t mc;
    lw_manual_clock_init(&mc, 0);
    lw_rpc_peer_t p;
    lw_rpc_peer_init(&p, LW_OCPP_16, &mc.clock, 0, NULL);
    LW_CHECK_INT(p.timeout_ms, LW_CALL_TIMEOUT_MS_DEFAULT);
    rec_t r = {0};
    LW_CHECK_INT(lw_rpc_peer_begin(&p, LW_STR("e1"), LW_STR("DataTransfer"), on_done, &r), 0);
    lw_rpc_frame_t f = frame(LW_OCPP_16, "[4,\"e1\",\"NotSupported\",\"nope\",{}]");
    LW_CHECK_INT(lw_rpc_peer_match(&p, &f), 0);
    LW_CHECK_INT(r.calls, 1);
    LW_CHECK_INT(r.status, LW_EPROTO);
    LW_CHECK_INT(r.error, LW_OCPP_ERR_NOT_SUPPORTED);
    LW_CHECK_INT(p.stats.call_errors, 1);

    /* a CALLRESULTERROR never completes our CALL */
    lw_rpc_peer_t q;
    lw_rpc_peer_init(&q, LW_OCPP_21, &mc.clock, 0, NULL);
    rec_t rq = {0};
    LW_CHECK_INT(lw_rpc_peer_begin(&q, LW_STR("x"), LW_STR("A"), on_done, &rq), 0);
    f = frame(LW_OCPP_21, "[5,\"x\",\"FormatViolation\",\"\",{}]");
    LW_CHECK_INT(f.type, LW_RPC_CALLRESULTERROR);
    LW_CHECK_INT(lw_rpc_peer_match(&q, &f), LW_ENOTFOUND);
    LW_CHECK_INT(q.stats.result_errors, 1);
    LW_CHECK_INT(rq.calls, 0);
    LW_CHECK(q.out_active);
    f = frame(LW_OCPP_21, "[2,\"x\",\"A\",{}]");
    LW_CHECK_INT(lw_rpc_peer_match(&q, &f), LW_EINVAL);
}

LW_TEST(timeout_fires_once_not_before)
{
    lw_manual_clock_t mc;
    lw_manual_clock_init(&mc, 0);
    lw_rpc_peer_t p;
    lw_rpc_peer_init(&p, LW_OCPP_201, &mc.clock, 30000, "CP2");
    rec_t r = {0};
    LW_CHECK_INT(lw_rpc_peer_begin(&p, LW_STR("t1"), LW_STR("GetVariables"), on_done, &r), 0);
    LW_CHECK_INT(lw_rpc_peer_tick(&p), 0);
    lw_manual_clock_advance(&mc, 29999);
    LW_CHECK_INT(lw_rpc_peer_tick(&p), 0);
    LW_CHECK_INT(r.calls, 0);
    lw_manual_clock_advance(&mc, 1);
    LW_CHECK_INT(lw_rpc_peer_tick(&p), 1);
    LW_CHECK_INT(r.calls, 1);
    LW_CHECK_INT(r.status, LW_ETIMEDOUT);
    LW_CHECK_STR(r.id, "t1");
    lw_manual_clock_advance(&mc, 100000);
    LW_CHECK_INT(lw_rpc_peer_tick(&p), 0);
    LW_CHECK_INT(r.calls, 1);
    LW_CHECK_INT(p.stats.timeouts, 1);
    /* the answer arrives after the timeout: late, dropped, no second callback */
    lw_rpc_frame_t f = frame(LW_OCPP_201, "[3,\"t1\",{}]");
    LW_CHECK_INT(lw_rpc_peer_match(&p, &f), LW_ENOTFOUND);
    LW_CHECK_INT(r.calls, 1);
    LW_CHECK_INT(p.stats.late_or_unknown, 1);
}

LW_TEST(close_fails_pending)
{
    lw_manual_clock_t mc;
    lw_manual_clock_init(&mc, 0);
    lw_rpc_peer_t p;
    lw_rpc_peer_init(&p, LW_OCPP_201, &mc.clock, 1000, NULL);
    rec_t r = {0};
    LW_CHECK_INT(lw_rpc_peer_begin(&p, LW_STR("k1"), LW_STR("Reset"), on_done, &r), 0);
    lw_rpc_peer_close(&p);
    LW_CHECK_INT(r.calls, 1);
    LW_CHECK_INT(r.status, LW_ECLOSED);
    lw_rpc_peer_close(&p);
    LW_CHECK_INT(r.calls, 1);
    rec_t r2 = {0};
    LW_CHECK_INT(lw_rpc_peer_begin(&p, LW_STR("k2"), LW_STR("Reset"), on_done, &r2), LW_ECLOSED);
    lw_manual_clock_advance(&mc, 5000);
    LW_CHECK_INT(lw_rpc_peer_tick(&p), 0);
    LW_CHECK_INT(r2.calls, 0);
}

LW_TEST(begin_failures_and_cancel)
{
    lw_manual_clock_t mc;
    lw_manual_clock_init(&mc, 0);
    lw_rpc_peer_t p;
    lw_rpc_peer_init(&p, LW_OCPP_201, &mc.clock, 1000, NULL);
    rec_t r = {0};
    LW_CHECK_INT(lw_rpc_peer_begin(&p, LW_STR(""), LW_STR("A"), on_done, &r), LW_EINVAL);
    LW_CHECK_INT(lw_rpc_peer_begin(&p, LW_STR("1234567890123456789012345678901234567"), LW_STR("A"),
                                   on_done, &r),
                 LW_EINVAL);
    LW_CHECK_INT(lw_rpc_peer_cancel(&p), LW_ENOTFOUND);
    LW_CHECK_INT(lw_rpc_peer_begin(&p, LW_STR("c"), LW_STR("A"), on_done, &r), 0);
    LW_CHECK_INT(lw_rpc_peer_cancel(&p), 0);
    lw_manual_clock_advance(&mc, 5000);
    LW_CHECK_INT(lw_rpc_peer_tick(&p), 0);
    lw_rpc_peer_close(&p);
    LW_CHECK_INT(r.calls, 0);
}

LW_TEST(callback_may_begin_next)
{
    lw_manual_clock_t mc;
    lw_manual_clock_init(&mc, 0);
    lw_rpc_peer_t p;
    lw_rpc_peer_init(&p, LW_OCPP_201, &mc.clock, 1000, NULL);
    rec_t r = {0};
    r.peer = &p;
    r.begin_rc = 99;
    LW_CHECK_INT(lw_rpc_peer_begin(&p, LW_STR("first"), LW_STR("A"), on_done, &r), 0);
    lw_manual_clock_advance(&mc, 1000);
    LW_CHECK_INT(lw_rpc_peer_tick(&p), 1);
    LW_CHECK_INT(r.begin_rc, 0);
    LW_CHECK(p.out_active);
    LW_CHECK_STR(p.out_id, "next");
    LW_CHECK_INT(p.out_deadline, mc.mono + 1000);
}

LW_TEST(incoming_one_at_a_time)
{
    lw_manual_clock_t mc;
    lw_manual_clock_init(&mc, 0);
    lw_rpc_peer_t p;
    lw_rpc_peer_init(&p, LW_OCPP_16, &mc.clock, 1000, "CP3");
    lw_rpc_frame_t a = frame(LW_OCPP_16, "[2,\"a1\",\"Heartbeat\",{}]");
    lw_rpc_frame_t b = frame(LW_OCPP_16, "[2,\"b1\",\"StatusNotification\",{}]");
    lw_rpc_frame_t res = frame(LW_OCPP_16, "[3,\"a1\",{}]");
    LW_CHECK_INT(lw_rpc_peer_incoming(&p, &res), LW_EINVAL);
    LW_CHECK_INT(lw_rpc_peer_incoming(&p, &a), 0);
    LW_CHECK_STR(p.in_action, "Heartbeat");
    LW_CHECK_INT(lw_rpc_peer_incoming(&p, &b), LW_EBUSY);
    LW_CHECK_INT(lw_rpc_peer_incoming(&p, &a), LW_EEXISTS);
    LW_CHECK_INT(p.stats.overlapping_calls, 2);
    LW_CHECK_STR(p.in_id, "a1");
    LW_CHECK_INT(lw_rpc_peer_answered(&p, LW_STR("b1")), LW_ENOTFOUND);
    LW_CHECK_INT(lw_rpc_peer_answered(&p, LW_STR("a1")), 0);
    LW_CHECK_INT(lw_rpc_peer_answered(&p, LW_STR("a1")), LW_ENOTFOUND);
    LW_CHECK_INT(lw_rpc_peer_incoming(&p, &b), 0);
    /* the two directions are independent */
    rec_t r = {0};
    LW_CHECK_INT(lw_rpc_peer_begin(&p, LW_STR("o1"), LW_STR("Reset"), on_done, &r), 0);
    LW_CHECK(p.in_active && p.out_active);
}

LW_TEST(parse_counters)
{
    lw_manual_clock_t mc;
    lw_manual_clock_init(&mc, 0);
    lw_rpc_peer_t p;
    lw_rpc_peer_init(&p, LW_OCPP_201, &mc.clock, 1000, "CP4");
    lw_rpc_frame_t f;
    lw_rpc_parse_error_t e;
    const char *ok[] = {"[2,\"a\",\"A\",{}]", "[2,\"b\",\"A\",{}]", "[3,\"c\",{}]",
                        "[4,\"d\",\"GenericError\",\"\",{}]"};
    for (int i = 0; i < 4; i++)
        LW_CHECK_INT(lw_rpc_peer_parse(&p, ok[i], strlen(ok[i]), &f, &e), 0);
    LW_CHECK_INT(p.stats.rx[LW_RPC_CALL], 2);
    LW_CHECK_INT(p.stats.rx[LW_RPC_CALLRESULT], 1);
    LW_CHECK_INT(p.stats.rx[LW_RPC_CALLERROR], 1);
    LW_CHECK_INT(lw_rpc_peer_parse(&p, "x", 1, &f, &e), LW_EPARSE);
    LW_CHECK_INT(lw_rpc_peer_parse(&p, "[6,\"s\",\"A\",{}]", 14, &f, NULL), LW_EPARSE);
    LW_CHECK_INT(lw_rpc_peer_parse(&p, "[3,\"c\",[]]", 10, &f, &e), LW_EPARSE);
    LW_CHECK_INT(p.stats.parse_errors[LW_OCPP_ERR_RPC_FRAMEWORK], 1);
    LW_CHECK_INT(p.stats.parse_errors[LW_OCPP_ERR_MESSAGE_TYPE_NOT_SUPPORTED], 1);
    LW_CHECK_INT(p.stats.parse_errors[LW_OCPP_ERR_FORMAT], 1);
    LW_CHECK_INT(p.stats.parse_errors_dropped, 1);
    lw_rpc_peer_sent(&p, LW_RPC_CALLRESULT);
    LW_CHECK_INT(p.stats.tx[LW_RPC_CALLRESULT], 1);
}

int main(void)
{
    lw_log_set_level(LW_LOG_ERROR); /* the drops log warnings by design */
    LW_RUN(one_outstanding_and_result);
    LW_RUN(callerror_delivered_as_error);
    LW_RUN(timeout_fires_once_not_before);
    LW_RUN(close_fails_pending);
    LW_RUN(begin_failures_and_cancel);
    LW_RUN(callback_may_begin_next);
    LW_RUN(incoming_one_at_a_time);
    LW_RUN(parse_counters);
    return lw_test_done();
}
