/*
 * log.c — structured logging: one line per event, "ts level module key=value ...", stderr.
 */
#include "ladewerk/base.h"

#include <stdio.h>

static lw_log_level_t g_level = LW_LOG_INFO;

void lw_log_set_level(lw_log_level_t lvl)
{
    g_level = lvl;
}

lw_log_level_t lw_log_get_level(void)
{
    return g_level;
}

void lw_log(lw_log_level_t lvl, const char *module, const char *fmt, ...)
{
    if (lvl < g_level) return;
    static const char *names[] = {"debug", "info", "warn", "error"};
    char ts[32];
    lw_time_format(lw_clock_wall(lw_clock_real()), ts, sizeof ts);
    char line[2048];
    int n = snprintf(line, sizeof line, "ts=%s level=%s module=%s ", ts, names[lvl], module);
    if (n < 0) return;
    va_list ap;
    va_start(ap, fmt);
    if ((size_t)n < sizeof line) vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", line);
}
