/*
 * clock.c — the injectable clock (real and manual) and RFC 3339 time text.
 * All timeouts in Ladewerk read time through an lw_clock_t so tests can jump it forward.
 */
#include "ladewerk/base.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static uint64_t real_mono(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int64_t real_wall(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const lw_clock_t real_clock = {real_mono, real_wall, NULL};

const lw_clock_t *lw_clock_real(void)
{
    return &real_clock;
}

static uint64_t manual_mono(void *ctx)
{
    return ((lw_manual_clock_t *)ctx)->mono;
}

static int64_t manual_wall(void *ctx)
{
    return ((lw_manual_clock_t *)ctx)->wall;
}

void lw_manual_clock_init(lw_manual_clock_t *mc, int64_t wall_ms)
{
    mc->clock.mono_ms = manual_mono;
    mc->clock.wall_ms = manual_wall;
    mc->clock.ctx = mc;
    mc->mono = 1000000;
    mc->wall = wall_ms;
}

void lw_manual_clock_advance(lw_manual_clock_t *mc, uint64_t ms)
{
    mc->mono += ms;
    mc->wall += (int64_t)ms;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Howard Hinnant's
 * well-known algorithm, re-derived here). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

size_t lw_time_format(int64_t wall_ms, char *out, size_t outsz)
{
    /* Every answer carries a timestamp, so this runs once per message: the date part is
     * formatted once per second per thread and reused (gmtime_r + snprintf cost ~3k
     * instructions, a fifth of a Heartbeat's whole loop-thread cost). */
    static _Thread_local int64_t cached_secs = INT64_MIN;
    static _Thread_local char cached[20]; /* "YYYY-MM-DDTHH:MM:SS" */
    int64_t secs = wall_ms >= 0 ? wall_ms / 1000 : (wall_ms - 999) / 1000;
    int ms = (int)(wall_ms - secs * 1000);
    if (secs != cached_secs) {
        time_t t = (time_t)secs;
        struct tm tm;
        gmtime_r(&t, &tm);
        int n = snprintf(cached, sizeof cached, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        if (n != 19) { /* a year outside 0..9999: not cached, formatted in full */
            n = snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
            return n < 0 ? 0 : (size_t)n;
        }
        cached_secs = secs;
    }
    if (outsz < 25) {
        if (outsz) out[0] = 0;
        return 0;
    }
    memcpy(out, cached, 19);
    out[19] = '.';
    out[20] = (char)('0' + ms / 100);
    out[21] = (char)('0' + ms / 10 % 10);
    out[22] = (char)('0' + ms % 10);
    out[23] = 'Z';
    out[24] = 0;
    return 24;
}

static int digits(const char *p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 0;
}

int lw_time_parse(lw_str_t s, int64_t *wall_ms)
{
    /* RFC 3339 §5.6: full-date "T" full-time; time-offset is "Z" or +hh:mm. */
    const char *p = s.p;
    size_t n = s.len;
    int Y, M, D, h, mi, sec;
    if (n < 20) return LW_EPARSE;
    if (digits(p, 4, &Y) || p[4] != '-' || digits(p + 5, 2, &M) || p[7] != '-' ||
        digits(p + 8, 2, &D) || (p[10] != 'T' && p[10] != 't') || digits(p + 11, 2, &h) ||
        p[13] != ':' || digits(p + 14, 2, &mi) || p[16] != ':' || digits(p + 17, 2, &sec))
        return LW_EPARSE;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (M < 1 || M > 12 || D < 1 || D > mdays[M - 1]) return LW_EPARSE;
    bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
    if (M == 2 && D == 29 && !leap) return LW_EPARSE;
    if (h > 23 || mi > 59 || sec > 60) return LW_EPARSE;
    size_t i = 19;
    int frac_ms = 0;
    if (i < n && p[i] == '.') {
        i++;
        size_t start = i;
        int scale = 100;
        while (i < n && p[i] >= '0' && p[i] <= '9') {
            frac_ms += (p[i] - '0') * scale;
            scale /= 10;
            i++;
        }
        if (i == start) return LW_EPARSE;
    }
    if (i >= n) return LW_EPARSE; /* timezone required */
    int off_min = 0;
    if ((p[i] == 'Z' || p[i] == 'z') && i + 1 == n) {
        off_min = 0;
    } else if ((p[i] == '+' || p[i] == '-') && i + 6 == n) {
        int oh, om;
        if (digits(p + i + 1, 2, &oh) || p[i + 3] != ':' || digits(p + i + 4, 2, &om) || oh > 23 ||
            om > 59)
            return LW_EPARSE;
        off_min = (oh * 60 + om) * (p[i] == '-' ? -1 : 1);
    } else {
        return LW_EPARSE;
    }
    if (sec == 60) {
        /* RFC 3339 §5.7: a leap second exists only at 23:59:60 UTC, so after the offset the
         * minute of the day must be 23:59 (15:59:60-08:00 is one, 12:00:60Z is not). It is
         * read as 23:59:59 plus the fraction: ms since epoch have no 61st second. */
        int utc_min = ((h * 60 + mi - off_min) % 1440 + 1440) % 1440;
        if (utc_min != 23 * 60 + 59) return LW_EPARSE;
        sec = 59;
    }
    int64_t days = days_from_civil(Y, (unsigned)M, (unsigned)D);
    int64_t t = ((days * 24 + h) * 60 + mi) * 60 + sec - (int64_t)off_min * 60;
    *wall_ms = t * 1000 + frac_ms;
    return 0;
}
