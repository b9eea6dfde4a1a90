/* test_rpc_frame.c — OCPP-J frame parsing, the answer each malformed frame gets, writers
 * (round trip writer -> parser), unescaping and message ids. */
#include "ladewerk/rpc.h"
#include "test.h"

#include <stdlib.h>

#define ALLV for (int v = 0; v < LW_OCPP_VERSION_COUNT; v++)

static int parse_c(lw_ocpp_version_t v, const char *s, lw_rpc_frame_t *f, lw_rpc_parse_error_t *e)
{
    return lw_rpc_parse(v, s, strlen(s), f, e);
}

#define CHECK_VIEW(view, lit) LW_CHECK_MEM((view).p, (view).len, lit, strlen(lit))

LW_TEST(parse_call_every_version)
{
    ALLV
    {
        lw_rpc_frame_t f;
        lw_rpc_parse_error_t e;
        const char *s = "[2,\"19223201\",\"BootNotification\",{\"a\":\"b\",\"n\":[1,2,{}]}]";
        LW_CHECK_INT(parse_c(v, s, &f, &e), 0);
        LW_CHECK_INT(f.type, LW_RPC_CALL);
        CHECK_VIEW(f.id, "19223201");
        CHECK_VIEW(f.action, "BootNotification");
        CHECK_VIEW(f.payload, "{\"a\":\"b\",\"n\":[1,2,{}]}");
        LW_CHECK(f.error_code.p == NULL);
    }
}

LW_TEST(parse_result_and_error)
{
    ALLV
    {
        lw_rpc_frame_t f;
        LW_CHECK_INT(parse_c(v, "[3,\"x\",{\"status\":\"Accepted\"}]", &f, NULL), 0);
        LW_CHECK_INT(f.type, LW_RPC_CALLRESULT);
        CHECK_VIEW(f.payload, "{\"status\":\"Accepted\"}");
        LW_CHECK(f.action.p == NULL);

        LW_CHECK_INT(
            parse_c(v, "[4,\"x\",\"NotImplemented\",\"no \\\"such\\\"\",{\"k\":1}]", &f, NULL), 0);
        LW_CHECK_INT(f.type, LW_RPC_CALLERROR);
        CHECK_VIEW(f.error_code, "NotImplemented");
        LW_CHECK_INT(f.error, LW_OCPP_ERR_NOT_IMPLEMENTED);
        CHECK_VIEW(f.error_description, "no \\\"such\\\"");
        CHECK_VIEW(f.error_details, "{\"k\":1}");
    }
    lw_rpc_frame_t f;
    /* 1.6 spelling parses to the same code */
    LW_CHECK_INT(parse_c(LW_OCPP_16, "[4,\"x\",\"FormationViolation\",\"\",{}]", &f, NULL), 0);
    LW_CHECK_INT(f.error, LW_OCPP_ERR_FORMAT);
    LW_CHECK_INT(parse_c(LW_OCPP_201, "[4,\"x\",\"SomethingNew\",\"\",{}]", &f, NULL), 0);
    LW_CHECK_INT(f.error, LW_OCPP_ERR_GENERIC);
}

LW_TEST(parse_types_5_6_only_in_21)
{
    lw_rpc_frame_t f;
    lw_rpc_parse_error_t e;
    const char *r5 = "[5,\"id5\",\"FormatViolation\",\"bad result\",{}]";
    const char *s6 = "[6,\"id6\",\"NotifyPeriodicEventStream\",{\"id\":1}]";
    LW_CHECK_INT(parse_c(LW_OCPP_21, r5, &f, &e), 0);
    LW_CHECK_INT(f.type, LW_RPC_CALLRESULTERROR);
    LW_CHECK_INT(f.error, LW_OCPP_ERR_FORMAT);
    LW_CHECK_INT(parse_c(LW_OCPP_21, s6, &f, &e), 0);
    LW_CHECK_INT(f.type, LW_RPC_SEND);
    CHECK_VIEW(f.action, "NotifyPeriodicEventStream");
    CHECK_VIEW(f.payload, "{\"id\":1}");

    LW_CHECK_INT(parse_c(LW_OCPP_201, r5, &f, &e), LW_EPARSE);
    LW_CHECK_INT(e.code, LW_OCPP_ERR_MESSAGE_TYPE_NOT_SUPPORTED);
    LW_CHECK_INT(e.reply, LW_RPC_REPLY_CALLERROR);
    CHECK_VIEW(e.reply_id, "id5");
    LW_CHECK_INT(e.type, 5);
    LW_CHECK_STR(lw_ocpp_err_name(LW_OCPP_201, e.code), "MessageTypeNotSupported");

    LW_CHECK_INT(parse_c(LW_OCPP_16, s6, &f, &e), LW_EPARSE);
    LW_CHECK_INT(e.code, LW_OCPP_ERR_MESSAGE_TYPE_NOT_SUPPORTED);
    LW_CHECK_STR(lw_ocpp_err_name(LW_OCPP_16, e.code), "ProtocolError");
    CHECK_VIEW(e.reply_id, "id6");
    LW_CHECK(f.type == LW_RPC_NONE);
}

LW_TEST(parse_whitespace_and_escapes)
{
    lw_rpc_frame_t f;
    const char *s =
        " \r\n\t[ 2 ,\n \"a\\\"b\\u0041\" , \"Heartbeat\"\t, { \"s\": \"]}[{\\\"\" } ] \n ";
    LW_CHECK_INT(parse_c(LW_OCPP_201, s, &f, NULL), 0);
    CHECK_VIEW(f.id, "a\\\"b\\u0041");
    CHECK_VIEW(f.payload, "{ \"s\": \"]}[{\\\"\" }");
    lw_buf_t b;
    lw_buf_init(&b, 100);
    LW_CHECK_INT(lw_rpc_unescape(f.id, &b), 0);
    LW_CHECK_MEM(b.data, b.len, "a\"bA", 4);
    lw_buf_reset(&b);
    LW_CHECK_INT(lw_rpc_unescape(LW_STR("\\u00e9\\ud83d\\ude00\\n\\/"), &b), 0);
    LW_CHECK_MEM(b.data, b.len, "\xc3\xa9\xf0\x9f\x98\x80\n/", 8);
    lw_buf_reset(&b);
    LW_CHECK_INT(lw_rpc_unescape(LW_STR("ab\\x"), &b), LW_EPARSE);
    LW_CHECK_INT(b.len, 0);
    lw_buf_free(&b);
}

LW_TEST(parse_id_lengths)
{
    lw_rpc_frame_t f;
    lw_rpc_parse_error_t e;
    char s[200];
    const char *id36 = "123456789012345678901234567890123456";
    snprintf(s, sizeof s, "[2,\"%s\",\"Heartbeat\",{}]", id36);
    LW_CHECK_INT(parse_c(LW_OCPP_201, s, &f, &e), 0);
    LW_CHECK_INT(f.id.len, 36);
    snprintf(s, sizeof s, "[2,\"%s7\",\"Heartbeat\",{}]", id36);
    ALLV
    {
        LW_CHECK_INT(parse_c(v, s, &f, &e), LW_EPARSE);
        LW_CHECK_INT(e.code, LW_OCPP_ERR_RPC_FRAMEWORK);
        LW_CHECK_INT(e.reply, LW_RPC_REPLY_CALLERROR);
        CHECK_VIEW(e.reply_id, "-1");
    }
    LW_CHECK_STR(lw_ocpp_err_name(LW_OCPP_16, LW_OCPP_ERR_RPC_FRAMEWORK), "FormationViolation");
    LW_CHECK_INT(parse_c(LW_OCPP_201, "[2,\"\",\"Heartbeat\",{}]", &f, &e), LW_EPARSE);
    CHECK_VIEW(e.reply_id, "-1");
}

/* One malformed frame, what it must be answered with. */
typedef struct bad_case {
    const char *frame;
    lw_ocpp_err_t code;
    lw_rpc_reply_t reply;
    const char *reply_id;
} bad_case_t;

static void check_bad(lw_ocpp_version_t v, const bad_case_t *c)
{
    lw_rpc_frame_t f;
    lw_rpc_parse_error_t e;
    int rc = parse_c(v, c->frame, &f, &e);
    if (rc != LW_EPARSE || e.code != c->code || e.reply != c->reply ||
        !lw_str_eq_c(e.reply_id, c->reply_id) || !e.reason)
        LW_FAILF("v%s %s: rc=%d code=%s reply=%d id=%.*s reason=%s; want code=%s reply=%d id=%s",
                 lw_ocpp_version_name(v), c->frame, rc, lw_ocpp_err_name(v, e.code), (int)e.reply,
                 LW_STR_FMT(e.reply_id), e.reason ? e.reason : "(null)",
                 lw_ocpp_err_name(v, c->code), (int)c->reply, c->reply_id);
}

#define RF LW_OCPP_ERR_RPC_FRAMEWORK
#define FV LW_OCPP_ERR_FORMAT
#define MT LW_OCPP_ERR_MESSAGE_TYPE_NOT_SUPPORTED
#define CE LW_RPC_REPLY_CALLERROR
#define NO LW_RPC_REPLY_NONE

static const bad_case_t bad_all[] = {
    {"", RF, CE, "-1"},
    {"   ", RF, CE, "-1"},
    {"{\"a\":1}", RF, CE, "-1"},
    {"\"text\"", RF, CE, "-1"},
    {"[", RF, CE, "-1"},
    {"[]", RF, CE, "-1"},
    {"[\"2\",\"id\",\"A\",{}]", RF, CE, "-1"},
    {"[2]", RF, CE, "-1"},
    {"[2,", RF, CE, "-1"},
    {"[2,17,\"A\",{}]", RF, CE, "-1"},
    {"[2,\"unterminated", RF, CE, "-1"},
    {"[2,\"bad\\qescape\",\"A\",{}]", RF, CE, "-1"},
    {"[2,\"ctl\x01\",\"A\",{}]", RF, CE, "-1"},
    {"[2 \"id\",\"A\",{}]", RF, CE, "-1"},
    /* id readable from here on: CALLs are answered with their id */
    {"[2,\"id\"]", RF, CE, "id"},
    {"[2,\"id\",\"A\"]", RF, CE, "id"},
    {"[2,\"id\",7,{}]", RF, CE, "id"},
    {"[2,\"id\",\"A\",[]]", FV, CE, "id"},
    {"[2,\"id\",\"A\",\"{}\"]", FV, CE, "id"},
    {"[2,\"id\",\"A\",null]", FV, CE, "id"},
    {"[2,\"id\",\"A\",{\"a\":[}]", FV, CE, "id"},
    {"[2,\"id\",\"A\",{\"a\":\"x]", FV, CE, "id"},
    {"[2,\"id\",\"A\",{\"a\":1}", RF, CE, "id"},
    {"[2,\"id\",\"A\",{},{}]", RF, CE, "id"},
    {"[2,\"id\",\"A\",{}]]", RF, CE, "id"},
    {"[2,\"id\",\"A\",{}] x", RF, CE, "id"},
    {"[2,\"id\",\"\",{}]", LW_OCPP_ERR_NOT_IMPLEMENTED, CE, "id"},
    {"[2,\"id\",\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",{}]",
     LW_OCPP_ERR_NOT_IMPLEMENTED, CE, "id"},
    /* unknown type numbers: answered (extension fallback), with the id when readable */
    {"[7,\"id\",\"A\",{}]", MT, CE, "id"},
    {"[0,\"id\",\"A\",{}]", MT, CE, "id"},
    {"[2.0,\"id\",\"A\",{}]", MT, CE, "id"},
    {"[-2,\"id\",\"A\",{}]", MT, CE, "id"},
    {"[99999999999999,\"id\"]", MT, CE, "id"},
    {"[7]", MT, CE, "-1"},
    {"[7,{}]", MT, CE, "-1"},
    /* malformed responses are never answered */
    {"[3,\"id\"]", RF, NO, "id"},
    {"[3,\"id\",{},{}]", RF, NO, "id"},
    {"[3]", RF, NO, "-1"},
    {"[3,5,{}]", RF, NO, "-1"},
    {"[4,\"id\",\"GenericError\",\"d\"]", RF, NO, "id"},
    {"[4,\"id\",\"GenericError\",\"d\",[]]", FV, NO, "id"},
    {"[4,\"id\",3,\"d\",{}]", RF, NO, "id"},
    {"[4,\"id\",\"GenericError\",null,{}]", RF, NO, "id"},
    {"[4,\"id\",\"GenericError\",\"d\",{}", RF, NO, "id"},
};

LW_TEST(malformed_frames_all_versions)
{
    ALLV
    {
        for (size_t i = 0; i < sizeof bad_all / sizeof bad_all[0]; i++) {
            bad_case_t c = bad_all[i];
            /* 2.1: a malformed CALLRESULT with a readable id gets a CALLRESULTERROR */
            if (v == LW_OCPP_21 && strncmp(c.frame, "[3,", 3) == 0 && strcmp(c.reply_id, "-1"))
                c.reply = LW_RPC_REPLY_CALLRESULTERROR;
            check_bad((lw_ocpp_version_t)v, &c);
        }
    }
    /* a NUL after the frame is trailing data too (explicit length) */
    lw_rpc_frame_t f;
    lw_rpc_parse_error_t e;
    LW_CHECK_INT(lw_rpc_parse(LW_OCPP_201, "[2,\"id\",\"A\",{}]\0", 16, &f, &e), LW_EPARSE);
    LW_CHECK_INT(e.code, LW_OCPP_ERR_RPC_FRAMEWORK);
    LW_CHECK(lw_str_eq_c(e.reply_id, "id"));
}

LW_TEST(malformed_result_in_21_gets_callresulterror)
{
    static const bad_case_t c[] = {
        {"[3,\"r1\",[]]", FV, LW_RPC_REPLY_CALLRESULTERROR, "r1"},
        {"[3,\"r1\",{}", RF, LW_RPC_REPLY_CALLRESULTERROR, "r1"},
        {"[3,\"r1\"]", RF, LW_RPC_REPLY_CALLRESULTERROR, "r1"},
        {"[3]", RF, NO, "-1"},
        {"[5,\"x\",\"GenericError\",\"\"]", RF, NO, "x"},
        {"[6,\"x\",\"A\",[]]", FV, NO, "x"},
        {"[6,\"x\",\"A\"]", RF, NO, "x"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        check_bad(LW_OCPP_21, &c[i]);
}

LW_TEST(depth_limit)
{
    /* depth LW_RPC_DEPTH_MAX passes, one more fails with FormatViolation; a megabyte of '['
     * fails the same way without recursion */
    lw_buf_t b;
    lw_buf_init(&b, 4 << 20);
    for (int extra = 0; extra <= 1; extra++) {
        lw_buf_reset(&b);
        lw_buf_append_c(&b, "[2,\"d\",\"A\",");
        int depth = LW_RPC_DEPTH_MAX + extra;
        for (int i = 0; i < depth; i++)
            lw_buf_append_c(&b, i % 2 ? "[" : "{\"k\":");
        for (int i = depth - 1; i >= 0; i--)
            lw_buf_append_c(&b, i % 2 ? "]" : "}");
        lw_buf_putc(&b, ']');
        lw_rpc_frame_t f;
        lw_rpc_parse_error_t e;
        int rc = lw_rpc_parse(LW_OCPP_201, b.data, b.len, &f, &e);
        if (extra == 0) {
            LW_CHECK_INT(rc, 0);
        } else {
            LW_CHECK_INT(rc, LW_EPARSE);
            LW_CHECK_INT(e.code, LW_OCPP_ERR_FORMAT);
            CHECK_VIEW(e.reply_id, "d");
        }
    }
    lw_buf_reset(&b);
    lw_buf_append_c(&b, "[2,\"d\",\"A\",{\"k\":");
    while (b.len < (1 << 20))
        lw_buf_putc(&b, '[');
    lw_rpc_frame_t f;
    lw_rpc_parse_error_t e;
    LW_CHECK_INT(lw_rpc_parse(LW_OCPP_16, b.data, b.len, &f, &e), LW_EPARSE);
    LW_CHECK_INT(e.code, LW_OCPP_ERR_FORMAT);
    lw_buf_free(&b);
}

LW_TEST(truncated_prefixes_never_parse)
{
    /* every proper prefix of a valid frame is malformed; parse exactly len bytes of a heap
     * copy so ASan catches any read past the end */
    const char *full = "[2,\"abc\",\"Authorize\",{\"idTag\":\"x\\\"]}\",\"n\":[1,{\"a\":[]}]}]";
    size_t n = strlen(full);
    for (size_t k = 0; k < n; k++) {
        char *p = malloc(k ? k : 1);
        memcpy(p, full, k);
        lw_rpc_frame_t f;
        lw_rpc_parse_error_t e;
        int rc = lw_rpc_parse(LW_OCPP_201, p, k, &f, &e);
        if (rc != LW_EPARSE) LW_FAILF("prefix %zu parsed (rc=%d)", k, rc);
        free(p);
    }
    lw_rpc_frame_t f;
    LW_CHECK_INT(lw_rpc_parse(LW_OCPP_201, full, n, &f, NULL), 0);
}

LW_TEST(writers_round_trip)
{
    lw_buf_t b;
    lw_buf_init(&b, 4096);
    lw_rpc_frame_t f;

    LW_CHECK_INT(lw_rpc_write_call(&b, LW_STR("m1"), LW_STR("Heartbeat"), LW_STR_NULL), 0);
    LW_CHECK_MEM(b.data, b.len, "[2,\"m1\",\"Heartbeat\",{}]", 23);
    LW_CHECK_INT(lw_rpc_parse(LW_OCPP_16, b.data, b.len, &f, NULL), 0);
    CHECK_VIEW(f.action, "Heartbeat");
    CHECK_VIEW(f.payload, "{}");

    lw_buf_reset(&b);
    LW_CHECK_INT(lw_rpc_write_result(&b, LW_STR("m1"), LW_STR("{\"currentTime\":\"x\"}")), 0);
    LW_CHECK_INT(lw_rpc_parse(LW_OCPP_16, b.data, b.len, &f, NULL), 0);
    LW_CHECK_INT(f.type, LW_RPC_CALLRESULT);
    CHECK_VIEW(f.payload, "{\"currentTime\":\"x\"}");

    ALLV
    {
        lw_buf_reset(&b);
        LW_CHECK_INT(lw_rpc_write_error(&b, v, LW_STR("m2"), LW_OCPP_ERR_FORMAT,
                                        LW_STR("bad \"x\"\n"), LW_STR_NULL),
                     0);
        LW_CHECK_INT(lw_rpc_parse(v, b.data, b.len, &f, NULL), 0);
        LW_CHECK_INT(f.type, LW_RPC_CALLERROR);
        LW_CHECK_INT(f.error, LW_OCPP_ERR_FORMAT);
        LW_CHECK(
            lw_str_eq_c(f.error_code, v == LW_OCPP_16 ? "FormationViolation" : "FormatViolation"));
        CHECK_VIEW(f.error_description, "bad \\\"x\\\"\\n");
        CHECK_VIEW(f.error_details, "{}");
    }

    lw_buf_reset(&b);
    LW_CHECK_INT(lw_rpc_write_result_error(&b, LW_STR("m3"), LW_OCPP_ERR_TYPE_CONSTRAINT,
                                           LW_STR(""), LW_STR("{\"field\":\"status\"}")),
                 0);
    LW_CHECK_MEM(b.data, b.len,
                 "[5,\"m3\",\"TypeConstraintViolation\",\"\",{\"field\":\"status\"}]", 56);
    LW_CHECK_INT(lw_rpc_parse(LW_OCPP_21, b.data, b.len, &f, NULL), 0);
    LW_CHECK_INT(f.type, LW_RPC_CALLRESULTERROR);

    lw_buf_reset(&b);
    LW_CHECK_INT(lw_rpc_write_send(&b, LW_STR("m4"), LW_STR("NotifyPeriodicEventStream"),
                                   LW_STR("{\"id\":1}")),
                 0);
    LW_CHECK_INT(lw_rpc_parse(LW_OCPP_21, b.data, b.len, &f, NULL), 0);
    LW_CHECK_INT(f.type, LW_RPC_SEND);
    lw_buf_free(&b);
}

LW_TEST(writers_reject_and_leave_buffer_alone)
{
    lw_buf_t b;
    lw_buf_init(&b, 4096);
    lw_buf_append_c(&b, "keep");
    const char *id37 = "1234567890123456789012345678901234567";
    LW_CHECK_INT(lw_rpc_write_call(&b, lw_str_c(id37), LW_STR("A"), LW_STR_NULL), LW_EINVAL);
    LW_CHECK_INT(lw_rpc_write_call(&b, LW_STR(""), LW_STR("A"), LW_STR_NULL), LW_EINVAL);
    LW_CHECK_INT(lw_rpc_write_call(&b, LW_STR("a\"b"), LW_STR("A"), LW_STR_NULL), LW_EINVAL);
    LW_CHECK_INT(lw_rpc_write_call(&b, LW_STR("a\\"), LW_STR("A"), LW_STR_NULL), LW_EINVAL);
    LW_CHECK_INT(lw_rpc_write_call(&b, LW_STR("ok"), LW_STR("A\n"), LW_STR_NULL), LW_EINVAL);
    LW_CHECK_INT(lw_rpc_write_result(&b, LW_STR("a\x01"), LW_STR_NULL), LW_EINVAL);
    LW_CHECK_MEM(b.data, b.len, "keep", 4);
    /* the hard cap: a frame that does not fit leaves nothing behind */
    lw_buf_t small;
    lw_buf_init(&small, 20);
    lw_buf_append_c(&small, "ab");
    LW_CHECK_INT(lw_rpc_write_call(&small, LW_STR("m1"), LW_STR("Heartbeat"), LW_STR("{\"x\":1}")),
                 LW_ETOOBIG);
    LW_CHECK_MEM(small.data, small.len, "ab", 2);
    lw_buf_free(&small);
    lw_buf_free(&b);
}

LW_TEST(error_description_cut_at_utf8_boundary)
{
    char desc[300];
    /* 254 ASCII bytes then a 2-byte 'é': the cut at 255 must not split it */
    memset(desc, 'a', 254);
    memcpy(desc + 254, "\xc3\xa9zzzz", 6);
    lw_buf_t b;
    lw_buf_init(&b, 4096);
    LW_CHECK_INT(lw_rpc_write_error(&b, LW_OCPP_201, LW_STR("e"), LW_OCPP_ERR_INTERNAL,
                                    (lw_str_t){desc, 260}, LW_STR_NULL),
                 0);
    lw_rpc_frame_t f;
    LW_CHECK_INT(lw_rpc_parse(LW_OCPP_201, b.data, b.len, &f, NULL), 0);
    LW_CHECK_INT(f.error_description.len, 254);
    lw_buf_free(&b);
}

LW_TEST(write_parse_error_answers)
{
    lw_buf_t b;
    lw_buf_init(&b, 4096);
    lw_rpc_frame_t f;
    lw_rpc_parse_error_t e;
    LW_CHECK_INT(parse_c(LW_OCPP_201, "not json", &f, &e), LW_EPARSE);
    LW_CHECK_INT(lw_rpc_write_parse_error(&b, LW_OCPP_201, &e), 0);
    LW_CHECK_INT(lw_rpc_parse(LW_OCPP_201, b.data, b.len, &f, NULL), 0);
    CHECK_VIEW(f.id, "-1");
    CHECK_VIEW(f.error_code, "RpcFrameworkError");
    CHECK_VIEW(f.error_description, "frame is not a JSON array");

    lw_buf_reset(&b);
    LW_CHECK_INT(parse_c(LW_OCPP_21, "[3,\"r9\",7]", &f, &e), LW_EPARSE);
    LW_CHECK_INT(lw_rpc_write_parse_error(&b, LW_OCPP_21, &e), 0);
    LW_CHECK_INT(lw_rpc_parse(LW_OCPP_21, b.data, b.len, &f, NULL), 0);
    LW_CHECK_INT(f.type, LW_RPC_CALLRESULTERROR);
    CHECK_VIEW(f.id, "r9");
    CHECK_VIEW(f.error_code, "FormatViolation");

    lw_buf_reset(&b);
    LW_CHECK_INT(parse_c(LW_OCPP_201, "[3,\"r9\",7]", &f, &e), LW_EPARSE);
    LW_CHECK_INT(lw_rpc_write_parse_error(&b, LW_OCPP_201, &e), LW_EINVAL);
    LW_CHECK_INT(b.len, 0);
    lw_buf_free(&b);
}

LW_TEST(write_frame_verbatim)
{
    const char *in = "[4,\"i\\u0031\",\"X\\\"\",\"d\\n\",{\"a\":[1]}]";
    lw_rpc_frame_t f, g;
    LW_CHECK_INT(parse_c(LW_OCPP_201, in, &f, NULL), 0);
    lw_buf_t b;
    lw_buf_init(&b, 4096);
    LW_CHECK_INT(lw_rpc_write_frame(&b, &f), 0);
    LW_CHECK_MEM(b.data, b.len, in, strlen(in));
    LW_CHECK_INT(lw_rpc_parse(LW_OCPP_201, b.data, b.len, &g, NULL), 0);
    LW_CHECK(lw_str_eq(f.id, g.id) && lw_str_eq(f.error_code, g.error_code));
    lw_buf_free(&b);
}

LW_TEST(make_id_uuid_v4)
{
    char seen[64][LW_MSGID_MAX + 1];
    for (int i = 0; i < 64; i++) {
        char *id = seen[i];
        LW_CHECK_INT(lw_rpc_make_id(id), 0);
        LW_CHECK_INT(strlen(id), 36);
        LW_CHECK(id[8] == '-' && id[13] == '-' && id[18] == '-' && id[23] == '-');
        LW_CHECK(id[14] == '4');
        LW_CHECK(strchr("89ab", id[19]) != NULL);
        for (int j = 0; j < i; j++)
            if (strcmp(seen[j], id) == 0) LW_FAILF("id repeated: %s", id);
        lw_buf_t b;
        lw_buf_init(&b, 256);
        LW_CHECK_INT(lw_rpc_write_call(&b, lw_str_c(id), LW_STR("Heartbeat"), LW_STR_NULL), 0);
        lw_buf_free(&b);
    }
}

int main(void)
{
    LW_RUN(parse_call_every_version);
    LW_RUN(parse_result_and_error);
    LW_RUN(parse_types_5_6_only_in_21);
    LW_RUN(parse_whitespace_and_escapes);
    LW_RUN(parse_id_lengths);
    LW_RUN(malformed_frames_all_versions);
    LW_RUN(malformed_result_in_21_gets_callresulterror);
    LW_RUN(depth_limit);
    LW_RUN(truncated_prefixes_never_parse);
    LW_RUN(writers_round_trip);
    LW_RUN(writers_reject_and_leave_buffer_alone);
    LW_RUN(error_description_cut_at_utf8_boundary);
    LW_RUN(write_parse_error_answers);
    LW_RUN(write_frame_verbatim);
    LW_RUN(make_id_uuid_v4);
    return lw_test_done();
}
