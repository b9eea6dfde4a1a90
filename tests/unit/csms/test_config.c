/* test_config.c — `ladewerk serve` configuration: defaults, file syntax, flags overriding
 * the file, and errors that name the key, the file and the line. */
#include "config.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

LW_TEST(defaults)
{
    lw_config_t c;
    lw_config_defaults(&c);
    LW_CHECK_STR(c.db, "sqlite:./ladewerk.db");
    LW_CHECK_STR(c.ocpp_host, "0.0.0.0");
    LW_CHECK_INT(c.ocpp_port, 8180);
    LW_CHECK_STR(c.http_host, "127.0.0.1");
    LW_CHECK_INT(c.http_port, 8080);
    LW_CHECK_INT(c.unknown_stations, LW_UNKNOWN_REJECT);
}

LW_TEST(file_syntax)
{
    lw_config_t c;
    lw_config_defaults(&c);
    const char *text = "# comment\n\n  threads = 3   # trailing\nocpp-listen=[::1]:9000\n"
                       "db = \"sqlite:/tmp/a b.db\"\nping-interval = 2m\njournal-retention = 7d\n"
                       "unknown-stations = pending\n";
    char err[256] = "";
    LW_CHECK_INT(lw_config_parse_text(&c, text, strlen(text), "x.conf", err, sizeof err), 0);
    LW_CHECK_INT(c.threads, 3);
    LW_CHECK_STR(c.ocpp_host, "::1");
    LW_CHECK_INT(c.ocpp_port, 9000);
    LW_CHECK_STR(c.db, "sqlite:/tmp/a b.db");
    LW_CHECK_INT(c.ping_interval_s, 120);
    LW_CHECK_INT(c.journal_retention_s, 7 * 86400);
    LW_CHECK_INT(c.unknown_stations, LW_UNKNOWN_PENDING);
}

LW_TEST(errors_name_file_line_key)
{
    lw_config_t c;
    lw_config_defaults(&c);
    char err[256] = "";
    const char *bad = "threads = 2\nthreads = lots\n";
    LW_CHECK_INT(lw_config_parse_text(&c, bad, strlen(bad), "my.conf", err, sizeof err), LW_EINVAL);
    LW_CHECK(strstr(err, "my.conf:2") != NULL);
    LW_CHECK(strstr(err, "'threads'") != NULL);
    const char *unknown = "no-such-key = 1\n";
    LW_CHECK_INT(lw_config_parse_text(&c, unknown, strlen(unknown), "my.conf", err, sizeof err),
                 LW_ENOTFOUND);
    LW_CHECK(strstr(err, "my.conf:1: key 'no-such-key'") != NULL);
    const char *noeq = "threads 2\n";
    LW_CHECK_INT(lw_config_parse_text(&c, noeq, strlen(noeq), "f", err, sizeof err), LW_EINVAL);
    LW_CHECK_INT(lw_config_set(&c, "ocpp-listen", "nohost", err, sizeof err), LW_EINVAL);
    LW_CHECK_INT(lw_config_set(&c, "ocpp-listen", "h:70000", err, sizeof err), LW_EINVAL);
    LW_CHECK_INT(lw_config_set(&c, "db", "mysql://x", err, sizeof err), LW_EINVAL);
    LW_CHECK_INT(lw_config_set(&c, "max-frame", "10", err, sizeof err), LW_EINVAL);
    LW_CHECK_INT(lw_config_set(&c, "ping-interval", "5x", err, sizeof err), LW_EINVAL);
}

LW_TEST(flags_override_file)
{
    char path[] = "/tmp/lw-config-test-XXXXXX";
    int fd = mkstemp(path);
    LW_CHECK(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("threads = 4\nheartbeat-interval = 60\n", f);
    fclose(f);
    char *argv[] = {"serve", "--threads", "2", "--config", path, "--call-timeout=5", NULL};
    lw_config_t c;
    char err[256] = "";
    FILE *devnull = fopen("/dev/null", "w");
    LW_CHECK_INT(lw_config_from_args(&c, 6, argv, devnull, err, sizeof err), 0);
    LW_CHECK_INT(c.threads, 2);
    LW_CHECK_INT(c.heartbeat_interval_s, 60);
    LW_CHECK_INT(c.call_timeout_s, 5);
    char *bad[] = {"serve", "--bogus", "1", NULL};
    LW_CHECK(lw_config_from_args(&c, 3, bad, devnull, err, sizeof err) < 0);
    LW_CHECK(strstr(err, "--bogus") != NULL);
    char *half[] = {"serve", "--tls-cert", "a.pem", NULL};
    LW_CHECK(lw_config_from_args(&c, 3, half, devnull, err, sizeof err) < 0);
    char *help[] = {"serve", "--help", NULL};
    LW_CHECK_INT(lw_config_from_args(&c, 2, help, devnull, err, sizeof err), 1);
    fclose(devnull);
    remove(path);
}

int main(void)
{
    LW_RUN(defaults);
    LW_RUN(file_syntax);
    LW_RUN(errors_name_file_line_key);
    LW_RUN(flags_override_file);
    return lw_test_done();
}
