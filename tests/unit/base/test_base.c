/* test_base.c — buffers, JSON string escaping, arena, RFC 3339 time. */
#include "ladewerk/base.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

LW_TEST(buf_cap_is_hard)
{
    lw_buf_t b;
    lw_buf_init(&b, 8);
    LW_CHECK_INT(lw_buf_append_c(&b, "12345678"), 0);
    LW_CHECK_INT(lw_buf_putc(&b, 'x'), LW_ETOOBIG);
    LW_CHECK_INT(b.len, 8);
    lw_buf_consume(&b, 3);
    LW_CHECK_MEM(b.data, b.len, "45678", 5);
    lw_buf_free(&b);
}

LW_TEST(buf_json_escape)
{
    lw_buf_t b;
    lw_buf_init(&b, 1024);
    LW_CHECK_INT(lw_buf_append_json_str(&b, LW_STR("a\"b\\c\n\x01")), 0);
    LW_CHECK_MEM(b.data, b.len, "\"a\\\"b\\\\c\\n\\u0001\"", 17);
    /* every byte alone: escaped exactly when lw_json_escape says so (the no-escape fast path
     * and the escaping path agree), UTF-8 bytes pass as they are */
    for (int c = 0; c < 256; c++) {
        char one = (char)c, esc[6], want[8];
        size_t n = lw_json_escape((unsigned char)c, esc);
        want[0] = '"';
        if (n)
            memcpy(want + 1, esc, n);
        else
            want[1] = one, n = 1;
        want[n + 1] = '"';
        b.len = 0;
        LW_CHECK_INT(lw_buf_append_json_str(&b, (lw_str_t){&one, 1}), 0);
        LW_CHECK_MEM(b.data, b.len, want, n + 2);
        LW_CHECK_INT(n > 1, c < 0x20 || c == '"' || c == '\\');
        /* the plain prefix stops at that byte exactly when it is escaped */
        char five[5] = {'a', 'b', one, 'c', 'd'};
        LW_CHECK_INT(lw_json_plain_prefix(five, 5), n > 1 ? 2 : 5);
    }
    LW_CHECK_INT(lw_json_plain_prefix("", 0), 0);
    b.len = 0;
    LW_CHECK_INT(lw_buf_append_json_str(&b, LW_STR("")), 0);
    LW_CHECK_MEM(b.data, b.len, "\"\"", 2);
    LW_CHECK_INT(lw_buf_append_json_str(&b, LW_STR("Energy.Active.Import.Register \xc3\xa4")), 0);
    LW_CHECK_MEM(b.data, b.len, "\"\"\"Energy.Active.Import.Register \xc3\xa4\"", 36);
    lw_buf_free(&b);
    /* the hard cap holds on both paths: nothing half-written is reported as written */
    lw_buf_init(&b, 5);
    LW_CHECK_INT(lw_buf_append_json_str(&b, LW_STR("abcd")), LW_ETOOBIG);
    LW_CHECK_INT(lw_buf_append_json_str(&b, LW_STR("abc")), 0);
    LW_CHECK_INT(b.len, 5);
    lw_buf_free(&b);
}

LW_TEST(copies_numbers_and_addresses)
{
    char d[6];
    LW_CHECK_INT(lw_cstr_copy(d, sizeof d, "abc"), 3);
    LW_CHECK_STR(d, "abc");
    LW_CHECK_INT(lw_cstr_copy(d, sizeof d, "abcdefgh"), 5); /* cut, terminated */
    LW_CHECK_STR(d, "abcde");
    LW_CHECK_INT(lw_cstr_copy(d, sizeof d, NULL), 0);
    LW_CHECK_STR(d, "");
    LW_CHECK_INT(lw_str_copy(d, sizeof d, LW_STR("xyz12345")), 5);
    LW_CHECK_STR(d, "xyz12");
    LW_CHECK_INT(lw_str_copy(d, sizeof d, (lw_str_t){"pqrs", 2}), 2); /* a view: its length */
    LW_CHECK_STR(d, "pq");
    LW_CHECK_INT(lw_str_copy(d, 1, LW_STR("q")), 0);
    LW_CHECK_STR(d, "");

    lw_buf_t b;
    lw_buf_init(&b, 64);
    const uint64_t v[] = {0, 7, 10, 99, 100, 4294967295u, UINT64_MAX};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char want[32];
        snprintf(want, sizeof want, "%llu", (unsigned long long)v[i]);
        lw_buf_reset(&b);
        LW_CHECK_INT(lw_buf_append_u64(&b, v[i]), 0);
        LW_CHECK_INT(lw_buf_cstr(&b), 0);
        LW_CHECK_STR(b.data, want);
    }
    lw_buf_free(&b);

    char ip[16];
    const uint8_t a[][4] = {
        {127, 0, 0, 1}, {10, 200, 3, 45}, {255, 255, 255, 255}, {0, 9, 99, 100}};
    const char *want[] = {"127.0.0.1", "10.200.3.45", "255.255.255.255", "0.9.99.100"};
    for (size_t i = 0; i < 4; i++) {
        LW_CHECK_INT(lw_ip4_text(a[i], ip), strlen(want[i]));
        LW_CHECK_STR(ip, want[i]);
    }
}

LW_TEST(arena_many)
{
    lw_arena_t a;
    lw_arena_init(&a, 1 << 20);
    for (int i = 0; i < 1000; i++) {
        char *p = lw_arena_strdup(&a, "hello", 5);
        LW_CHECK(p && strcmp(p, "hello") == 0);
    }
    LW_CHECK(lw_arena_alloc(&a, 2 << 20) == NULL);
    lw_arena_free(&a);
}

LW_TEST(time_roundtrip)
{
    int64_t t = 0;
    LW_CHECK_INT(lw_time_parse(LW_STR("2026-11-24T10:00:00.250Z"), &t), 0);
    char s[40];
    lw_time_format(t, s, sizeof s);
    LW_CHECK_STR(s, "2026-11-24T10:00:00.250Z");
    LW_CHECK_INT(lw_time_parse(LW_STR("2026-11-24T12:00:00+02:00"), &t), 0);
    lw_time_format(t, s, sizeof s);
    LW_CHECK_STR(s, "2026-11-24T10:00:00.000Z");
    LW_CHECK_INT(lw_time_parse(LW_STR("2026-11-24T10:00:00"), &t), LW_EPARSE); /* no zone */
    LW_CHECK_INT(lw_time_parse(LW_STR("2025-02-29T10:00:00Z"), &t), LW_EPARSE);
    LW_CHECK_INT(lw_time_parse(LW_STR("2024-02-29T10:00:00Z"), &t), 0);
    LW_CHECK_INT(lw_time_parse(LW_STR("2024-13-01T10:00:00Z"), &t), LW_EPARSE);
}

LW_TEST(time_leap_second)
{
    /* RFC 3339 §5.7: second 60 only at 23:59:60 UTC; it reads as 23:59:59.xxx UTC. */
    int64_t t = 0, u = 0;
    char s[40];
    LW_CHECK_INT(lw_time_parse(LW_STR("2016-12-31T23:59:60.250Z"), &t), 0);
    lw_time_format(t, s, sizeof s);
    LW_CHECK_STR(s, "2016-12-31T23:59:59.250Z");
    LW_CHECK_INT(lw_time_parse(LW_STR("2016-12-31T15:59:60.250-08:00"), &u), 0);
    LW_CHECK(u == t);
    LW_CHECK_INT(lw_time_parse(LW_STR("2017-01-01T00:29:60.250+00:30"), &u), 0);
    LW_CHECK(u == t);
    LW_CHECK_INT(lw_time_parse(LW_STR("2024-05-01T12:00:60Z"), &t), LW_EPARSE);
    LW_CHECK_INT(lw_time_parse(LW_STR("2016-12-31T23:59:60+01:00"), &t), LW_EPARSE);
    LW_CHECK_INT(lw_time_parse(LW_STR("2016-12-31T23:58:60Z"), &t), LW_EPARSE);
    LW_CHECK_INT(lw_time_parse(LW_STR("2016-12-31T23:59:61Z"), &t), LW_EPARSE);
}

LW_TEST(manual_clock)
{
    lw_manual_clock_t mc;
    lw_manual_clock_init(&mc, 1000);
    uint64_t m0 = lw_clock_mono(&mc.clock);
    lw_manual_clock_advance(&mc, 5000);
    LW_CHECK_INT(lw_clock_mono(&mc.clock) - m0, 5000);
    LW_CHECK_INT(lw_clock_wall(&mc.clock), 6000);
}

LW_TEST(time_format_cached)
{
    char a[40], b[40];
    /* same second twice (cache hit), then the next second, then a far year (no cache) */
    LW_CHECK_INT(lw_time_format(1764000000123, a, sizeof a), 24);
    LW_CHECK_STR(a, "2025-11-24T16:00:00.123Z");
    LW_CHECK_INT(lw_time_format(1764000000999, b, sizeof b), 24);
    LW_CHECK_STR(b, "2025-11-24T16:00:00.999Z");
    lw_time_format(1764000001005, b, sizeof b);
    LW_CHECK_STR(b, "2025-11-24T16:00:01.005Z");
    lw_time_format(-1, b, sizeof b);
    LW_CHECK_STR(b, "1969-12-31T23:59:59.999Z");
    LW_CHECK_INT(lw_time_format(1764000000123, a, 10), 0); /* too small: nothing written */
    LW_CHECK_STR(a, "");
}

int main(void)
{
    LW_RUN(buf_cap_is_hard);
    LW_RUN(buf_json_escape);
    LW_RUN(copies_numbers_and_addresses);
    LW_RUN(arena_many);
    LW_RUN(time_roundtrip);
    LW_RUN(time_leap_second);
    LW_RUN(manual_clock);
    LW_RUN(time_format_cached);
    return lw_test_done();
}
