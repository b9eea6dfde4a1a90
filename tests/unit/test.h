/*
 * test.h — the unit-test harness: each tests/unit/<dir>/test_<name>.c is one executable.
 *
 *   LW_TEST(name) { LW_CHECK_INT(got, want); ... }
 *   int main(void) { LW_RUN(name); ...; return lw_test_done(); }
 *
 * A failed check prints the expression, both values, file and line, and the test goes on
 * to its next check. Every executable is killed by alarm() after LW_TEST_TIMEOUT_S.
 */
#ifndef LW_TEST_H
#define LW_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef LW_TEST_TIMEOUT_S
#define LW_TEST_TIMEOUT_S 120
#endif

static int lw_t_failed_checks, lw_t_tests, lw_t_failed_tests, lw_t_cur_failed;

#define LW_TEST(name) static void name(void)

#define LW_RUN(name)                                                                               \
    do {                                                                                           \
        alarm(LW_TEST_TIMEOUT_S);                                                                  \
        lw_t_cur_failed = 0;                                                                       \
        lw_t_tests++;                                                                              \
        name();                                                                                    \
        if (lw_t_cur_failed) lw_t_failed_tests++;                                                  \
        printf("%s %s\n", lw_t_cur_failed ? "FAIL" : "ok  ", #name);                               \
        fflush(stdout);                                                                            \
    } while (0)

#define LW_FAILF(...)                                                                              \
    do {                                                                                           \
        lw_t_failed_checks++;                                                                      \
        lw_t_cur_failed = 1;                                                                       \
        printf("  %s:%d: ", __FILE__, __LINE__);                                                   \
        printf(__VA_ARGS__);                                                                       \
        printf("\n");                                                                              \
    } while (0)

#define LW_CHECK(cond)                                                                             \
    do {                                                                                           \
        if (!(cond)) LW_FAILF("check failed: %s", #cond);                                          \
    } while (0)

#define LW_CHECK_INT(got, want)                                                                    \
    do {                                                                                           \
        long long g_ = (long long)(got), w_ = (long long)(want);                                   \
        if (g_ != w_) LW_FAILF("%s == %lld, want %s == %lld", #got, g_, #want, w_);                \
    } while (0)

#define LW_CHECK_STR(got, want)                                                                    \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        if (!g_ || !w_ || strcmp(g_, w_) != 0)                                                     \
            LW_FAILF("%s == \"%s\", want \"%s\"", #got, g_ ? g_ : "(null)", w_ ? w_ : "(null)");   \
    } while (0)

#define LW_CHECK_MEM(gotp, gotn, wantp, wantn)                                                     \
    do {                                                                                           \
        size_t gn_ = (gotn), wn_ = (wantn);                                                        \
        if (gn_ != wn_ || memcmp((gotp), (wantp), gn_) != 0)                                       \
            LW_FAILF("%s == \"%.*s\", want \"%.*s\"", #gotp, (int)gn_, (const char *)(gotp),       \
                     (int)wn_, (const char *)(wantp));                                             \
    } while (0)

static inline int lw_test_done(void)
{
    printf("%d tests, %d failed (%d failed checks)\n", lw_t_tests, lw_t_failed_tests,
           lw_t_failed_checks);
    return lw_t_failed_tests ? 1 : 0;
}

#endif
