/*
 * test_jdoc.c — member access over a kept token array (codec/jdoc.h): lookups by key (also
 * escaped keys), strings as views and unescaped, integers (plain digits, 1.0 / 1e2 forms,
 * out of range), arrays, raw text, and that lw_jdoc_compact gives cJSON_PrintUnformatted's
 * text exactly when it accepts a value.
 */
#include "test.h"

#include "codec/gen/ocpp16.h"
#include "codec/jdoc.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static lw_jdoc_t parse(const char *j)
{
    lw_jdoc_t d;
    int rc = lw_jdoc_parse(&d, j, strlen(j));
    if (rc) LW_FAILF("parse %s: %d", j, rc);
    return d;
}

LW_TEST(lookup_and_scalars)
{
    lw_jdoc_t d = parse("{\"a\":1,\"b\":{\"c\":[1,2,{\"x\":true}],\"d\":\"s\"},\"e\":-7,"
                        "\"\\u0066\":\"esc\\nval\",\"g\":1.0,\"h\":1e2,\"i\":-2.9,"
                        "\"j\":123456789012345678901,\"k\":null,\"l\":false}");
    lw_jval_t r = lw_jdoc_root(&d);
    LW_CHECK_INT(r, 0);
    LW_CHECK_INT(lw_jdoc_type(&d, r), LW_JT_OBJECT);
    LW_CHECK_INT(lw_jdoc_count(&d, r), 10);
    int64_t v = 0;
    LW_CHECK(lw_jdoc_int(&d, lw_jdoc_get(&d, r, "a"), &v));
    LW_CHECK_INT(v, 1);
    LW_CHECK(lw_jdoc_int(&d, lw_jdoc_get(&d, r, "e"), &v));
    LW_CHECK_INT(v, -7);
    LW_CHECK(lw_jdoc_int(&d, lw_jdoc_get(&d, r, "g"), &v));
    LW_CHECK_INT(v, 1);
    LW_CHECK(lw_jdoc_int(&d, lw_jdoc_get(&d, r, "h"), &v));
    LW_CHECK_INT(v, 100);
    LW_CHECK(lw_jdoc_int(&d, lw_jdoc_get(&d, r, "i"), &v));
    LW_CHECK_INT(v, -2); /* truncated, as (int64_t)-2.9 */
    LW_CHECK(lw_jdoc_int(&d, lw_jdoc_get(&d, r, "j"), &v));
    LW_CHECK(v == INT64_MAX);
    double x = 0;
    LW_CHECK(lw_jdoc_num(&d, lw_jdoc_get(&d, r, "i"), &x));
    LW_CHECK(x == -2.9);
    /* wrong types and absent members read as absent */
    LW_CHECK(!lw_jdoc_int(&d, lw_jdoc_get(&d, r, "k"), &v));
    LW_CHECK(!lw_jdoc_int(&d, lw_jdoc_get(&d, r, "nope"), &v));
    LW_CHECK(lw_jdoc_get(&d, r, "nope") == LW_JNONE);
    LW_CHECK(lw_jdoc_get(&d, lw_jdoc_get(&d, r, "a"), "x") == LW_JNONE);
    LW_CHECK(lw_jdoc_get(&d, LW_JNONE, "x") == LW_JNONE);
    LW_CHECK(lw_jdoc_str(&d, lw_jdoc_get(&d, r, "a")).p == NULL);
    LW_CHECK(!lw_jdoc_is_true(&d, lw_jdoc_get(&d, r, "l")));
    /* nested, views, escaped key and value */
    lw_jval_t b = lw_jdoc_get(&d, r, "b");
    lw_str_t s = lw_jdoc_str(&d, lw_jdoc_get(&d, b, "d"));
    LW_CHECK_MEM(s.p, s.len, "s", 1);
    s = lw_jdoc_str(&d, lw_jdoc_get(&d, r, "f"));
    LW_CHECK_MEM(s.p, s.len, "esc\nval", 7);
    /* arrays: elements in order, a nested object skipped as a whole */
    lw_jval_t c = lw_jdoc_get(&d, b, "c");
    LW_CHECK_INT(lw_jdoc_count(&d, c), 3);
    int k = 0;
    int64_t sum = 0;
    LW_JDOC_EACH(&d, c, e)
    {
        if (k < 2 && lw_jdoc_int(&d, e, &v)) sum += v;
        if (k == 2) LW_CHECK(lw_jdoc_is_true(&d, lw_jdoc_get(&d, e, "x")));
        k++;
    }
    LW_CHECK_INT(k, 3);
    LW_CHECK_INT(sum, 3);
    LW_JDOC_EACH(&d, lw_jdoc_get(&d, r, "a"), e) LW_FAILF("iterated a number (%u)", e);
    lw_str_t raw = lw_jdoc_raw(&d, b);
    LW_CHECK_MEM(raw.p, raw.len, "{\"c\":[1,2,{\"x\":true}],\"d\":\"s\"}", 30);
    raw = lw_jdoc_raw(&d, lw_jdoc_get(&d, b, "d"));
    LW_CHECK_MEM(raw.p, raw.len, "\"s\"", 3);
    lw_jdoc_free(&d);
    lw_jdoc_free(&d); /* harmless twice */
}

LW_TEST(empty_array_and_object)
{
    lw_jdoc_t d = parse("{\"a\":[],\"o\":{}}");
    LW_CHECK(lw_jdoc_first(&d, lw_jdoc_get(&d, 0, "a")) == LW_JNONE);
    LW_CHECK_INT(lw_jdoc_count(&d, lw_jdoc_get(&d, 0, "o")), 0);
    LW_CHECK(lw_jdoc_get(&d, lw_jdoc_get(&d, 0, "o"), "a") == LW_JNONE);
    lw_jdoc_free(&d);
}

/* compact: accepted only when its text is what cJSON prints. */
static void compact_case(const char *j, bool accepted)
{
    lw_jdoc_t d = parse(j);
    lw_buf_t b;
    lw_buf_init(&b, 4096);
    int rc = lw_jdoc_compact(&d, 0, &b);
    cJSON *c = cJSON_Parse(j);
    char *want = cJSON_PrintUnformatted(c);
    if (accepted) {
        if (rc != 0)
            LW_FAILF("compact refused %s", j);
        else if (strcmp(b.data, want) != 0)
            LW_FAILF("compact %s\n  got  %s\n  want %s", j, b.data, want);
    } else if (rc != LW_ENOTSUP || b.len != 0) {
        LW_FAILF("compact accepted %s (%d)", j, rc);
    }
    cJSON_free(want);
    cJSON_Delete(c);
    lw_buf_free(&b);
    lw_jdoc_free(&d);
}

LW_TEST(compact_matches_cjson)
{
    compact_case("{ \"a\" : [ 1 , -2, 0, 2147483647, -2147483648 ] ,\n\t\"b\":\"x y\\u0020\"}",
                 false);
    compact_case(
        "{ \"a\" : [ 1 , -2, 0, 2147483647, -2147483648 ] ,\n\t\"b\":\"x  y\" , \"c\":null,"
        "\"d\":true,\"e\":false,\"f\":{}, \"g\":[]}",
        true);
    compact_case("{\"a\":1.5}", false);
    compact_case("{\"a\":1e2}", false);
    compact_case("{\"a\":-0}", false);
    compact_case("{\"a\":2147483648}", false);
}

LW_TEST(validate_doc_keeps_tokens)
{
    const char *j = "{\"connectorId\":1,\"errorCode\":\"NoError\",\"status\":\"Available\"}";
    lw_jdoc_t d;
    lw_codec_error_t err;
    LW_CHECK_INT(
        lw_codec_validate_doc(&lw_v16_StatusNotificationRequest_msg, j, strlen(j), &d, &err), 0);
    lw_str_t s = lw_jdoc_str(&d, lw_jdoc_get(&d, 0, "status"));
    LW_CHECK_MEM(s.p, s.len, "Available", 9);
    lw_jdoc_free(&d);
    const char *bad = "{\"connectorId\":1,\"errorCode\":\"NoError\",\"status\":\"Nope\"}";
    LW_CHECK_INT(
        lw_codec_validate_doc(&lw_v16_StatusNotificationRequest_msg, bad, strlen(bad), &d, &err),
        LW_ESCHEMA);
    LW_CHECK_INT(d.n, 0);
    LW_CHECK_STR(err.path, "status");
    lw_jdoc_free(&d);
}

int main(void)
{
    LW_RUN(lookup_and_scalars);
    LW_RUN(empty_array_and_object);
    LW_RUN(compact_matches_cjson);
    LW_RUN(validate_doc_keeps_tokens);
    return lw_test_done();
}
