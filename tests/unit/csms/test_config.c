/* test_config.c — `ladewerk serve` configuration: defaults, file syntax, flags overriding
 * the file, and errors that name the key, the file and the line. */
#include "config.h"
#include "store/store.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    LW_CHECK_INT(c.boot_rate_limit, 0);
    LW_CHECK_INT(c.history_retention_s, 90 * 86400);
}

LW_TEST(boot_rate_limit_key)
{
    lw_config_t c;
    lw_config_defaults(&c);
    char err[256] = "";
    LW_CHECK_INT(lw_config_set(&c, "boot-rate-limit", "50", err, sizeof err), 0);
    LW_CHECK_INT(c.boot_rate_limit, 50);
    LW_CHECK_INT(lw_config_set(&c, "boot-rate-limit", "-1", err, sizeof err), LW_EINVAL);
    LW_CHECK_INT(lw_config_set(&c, "boot-rate-limit", "fast", err, sizeof err), LW_EINVAL);
    LW_CHECK_INT(c.boot_rate_limit, 50);
}

LW_TEST(file_syntax)
{
    lw_config_t c;
    lw_config_defaults(&c);
    const char *text = "# comment\n\n  threads = 3   # trailing\nocpp-listen=[::1]:9000\n"
                       "db = \"sqlite:/tmp/a b.db\"\nping-interval = 2m\njournal-retention = 7d\n"
                       "unknown-stations = pending\nhistory-retention = 0\n";
    char err[256] = "";
    LW_CHECK_INT(lw_config_parse_text(&c, text, strlen(text), "x.conf", err, sizeof err), 0);
    LW_CHECK_INT(c.threads, 3);
    LW_CHECK_STR(c.ocpp_host, "::1");
    LW_CHECK_INT(c.ocpp_port, 9000);
    LW_CHECK_STR(c.db, "sqlite:/tmp/a b.db");
    LW_CHECK_INT(c.ping_interval_s, 120);
    LW_CHECK_INT(c.journal_retention_s, 7 * 86400);
    LW_CHECK_INT(c.unknown_stations, LW_UNKNOWN_PENDING);
    LW_CHECK_INT(c.history_retention_s, 0);
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
    const char *hist = "history-retention = 3 months\n";
    LW_CHECK_INT(lw_config_parse_text(&c, hist, strlen(hist), "my.conf", err, sizeof err),
                 LW_EINVAL);
    LW_CHECK(strstr(err, "my.conf:1") != NULL);
    LW_CHECK(strstr(err, "'history-retention'") != NULL);
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

LW_TEST(files_and_webhooks)
{
    lw_config_t c;
    lw_config_defaults(&c);
    char err[256] = "", url[600];
    LW_CHECK_STR(c.files_dir, "./ladewerk-files/");
    LW_CHECK_STR(c.public_url, "");
    LW_CHECK_INT(c.n_webhook_urls, 0);
    /* derived from http-listen; wildcard hosts become loopback */
    LW_CHECK_INT(lw_config_public_url(&c, 8080, url, sizeof url), 0);
    LW_CHECK_STR(url, "http://127.0.0.1:8080");
    LW_CHECK_INT(lw_config_set(&c, "http-listen", "0.0.0.0:9090", err, sizeof err), 0);
    LW_CHECK_INT(lw_config_public_url(&c, 9090, url, sizeof url), 0);
    LW_CHECK_STR(url, "http://127.0.0.1:9090");
    LW_CHECK_INT(lw_config_set(&c, "http-listen", "[::]:9090", err, sizeof err), 0);
    LW_CHECK_INT(lw_config_public_url(&c, 9090, url, sizeof url), 0);
    LW_CHECK_STR(url, "http://[::1]:9090");
    LW_CHECK_INT(lw_config_public_url(&c, 9090, url, 10), LW_ETOOBIG);
    /* public-url wins, without its trailing slashes */
    LW_CHECK_INT(lw_config_set(&c, "public-url", "https://csms.example:8443//", err, sizeof err),
                 0);
    LW_CHECK_INT(lw_config_public_url(&c, 9090, url, sizeof url), 0);
    LW_CHECK_STR(url, "https://csms.example:8443");
    LW_CHECK_INT(lw_config_set(&c, "public-url", "ftp://x", err, sizeof err), LW_EINVAL);
    LW_CHECK_INT(lw_config_set(&c, "public-url", "http://", err, sizeof err), LW_EINVAL);
    LW_CHECK_INT(lw_config_set(&c, "files-dir", "/var/lib/lw", err, sizeof err), 0);
    LW_CHECK_STR(c.files_dir, "/var/lib/lw");
    LW_CHECK_INT(lw_config_set(&c, "files-dir", "", err, sizeof err), LW_EINVAL);
    /* webhook-url: repeatable up to 8, http:// only */
    const char *text =
        "webhook-url = http://127.0.0.1:9000/a\nwebhook-url = http://hooks.example/b\n";
    LW_CHECK_INT(lw_config_parse_text(&c, text, strlen(text), "w.conf", err, sizeof err), 0);
    LW_CHECK_INT(c.n_webhook_urls, 2);
    LW_CHECK_STR(c.webhook_urls[0], "http://127.0.0.1:9000/a");
    LW_CHECK_STR(c.webhook_urls[1], "http://hooks.example/b");
    LW_CHECK_INT(lw_config_set(&c, "webhook-url", "https://hooks.example/", err, sizeof err),
                 LW_EINVAL);
    LW_CHECK_INT(lw_config_set(&c, "webhook-url", "http://", err, sizeof err), LW_EINVAL);
    for (int i = 2; i < 8; i++)
        LW_CHECK_INT(lw_config_set(&c, "webhook-url", "http://h/x", err, sizeof err), 0);
    LW_CHECK_INT(lw_config_set(&c, "webhook-url", "http://h/y", err, sizeof err), LW_EINVAL);
    LW_CHECK(strstr(err, "at most 8") != NULL);
    LW_CHECK_INT(c.n_webhook_urls, 8);
}

/* `serve --db` takes what `station add --db` takes (lw_store_open): a bare path is SQLite. */
LW_TEST(db_bare_path_is_sqlite)
{
    lw_config_t c;
    lw_config_defaults(&c);
    char err[256] = "";
    char dir[] = "/tmp/lw-config-db-XXXXXX";
    LW_CHECK(mkdtemp(dir) != NULL);
    char path[128];
    snprintf(path, sizeof path, "%s/x.db", dir);
    LW_CHECK_INT(lw_config_set(&c, "db", path, err, sizeof err), 0);
    LW_CHECK_STR(c.db, path);
    /* the accepted value opens as a SQLite store */
    lw_store_t *s = NULL;
    LW_CHECK_INT(lw_store_open(c.db, NULL, &s, err, sizeof err), 0);
    LW_CHECK(s != NULL);
    if (s) lw_store_close(s);
    LW_CHECK(access(path, F_OK) == 0);
    LW_CHECK_INT(lw_config_set(&c, "db", "relative/y.db", err, sizeof err), 0);
    LW_CHECK_STR(c.db, "relative/y.db");
    /* from a flag too */
    char *argv[] = {"serve", "--db", path, NULL};
    FILE *devnull = fopen("/dev/null", "w");
    LW_CHECK_INT(lw_config_from_args(&c, 3, argv, devnull, err, sizeof err), 0);
    LW_CHECK_STR(c.db, path);
    fclose(devnull);
    /* still refused: empty, empty sqlite path, other URL schemes */
    LW_CHECK_INT(lw_config_set(&c, "db", "", err, sizeof err), LW_EINVAL);
    LW_CHECK_INT(lw_config_set(&c, "db", "sqlite:", err, sizeof err), LW_EINVAL);
    LW_CHECK_INT(lw_config_set(&c, "db", "sqlite://", err, sizeof err), LW_EINVAL);
    LW_CHECK_INT(lw_config_set(&c, "db", "mysql://h/x", err, sizeof err), LW_EINVAL);
    LW_CHECK(strstr(err, "PATH") != NULL);
    LW_CHECK_INT(lw_config_set(&c, "db", "sqlite:/tmp/z.db", err, sizeof err), 0);
    LW_CHECK_INT(lw_config_set(&c, "db", "postgres://u@h/db", err, sizeof err), 0);
    char f[300];
    snprintf(f, sizeof f, "%s-wal", path);
    remove(f);
    snprintf(f, sizeof f, "%s-shm", path);
    remove(f);
    remove(path);
    rmdir(dir);
}

int main(void)
{
    LW_RUN(defaults);
    LW_RUN(boot_rate_limit_key);
    LW_RUN(file_syntax);
    LW_RUN(errors_name_file_line_key);
    LW_RUN(flags_override_file);
    LW_RUN(files_and_webhooks);
    LW_RUN(db_bare_path_is_sqlite);
    return lw_test_done();
}
