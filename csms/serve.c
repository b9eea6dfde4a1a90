/*
 * serve.c — `ladewerk serve`: reads the configuration, opens the store, starts the station
 * listener loops (session/csms.h) and waits for SIGINT/SIGTERM, then stops gracefully:
 * refuse new stations, finish answers waiting on commits and calls in flight, close the
 * connections, drain the store.
 *
 * The operator side (--http-listen: REST API, live events, dashboard, /metrics) is
 * serve_api.c: created before the station listener, so that sessions publish into it from
 * the first connection, and listening after it.
 */
#include "commands.h"
#include "config.h"
#include "serve_api.h"
#include "session/csms.h"
#include "store/store.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

/* How long a graceful stop waits for in-flight answers and calls. */
#define SERVE_STOP_WAIT_MS 5000

int lw_cmd_serve(int argc, char **argv)
{
    lw_config_t cfg;
    char err[768] = "";
    int rc = lw_config_from_args(&cfg, argc, argv, stdout, err, sizeof err);
    if (rc == 1) return 0;
    if (rc) {
        fprintf(stderr, "ladewerk serve: %s\n", err);
        return 2;
    }
    lw_log_set_level(cfg.log_level);
    if (cfg.unknown_stations == LW_UNKNOWN_ACCEPT)
        lw_log(LW_LOG_WARN, "serve",
               "event=config note=\"unknown-stations=accept registers and accepts any station: "
               "for test benches only\"");

    /* Block the stop signals in every thread; this one waits for them with sigwait. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    lw_store_t *store = NULL;
    rc = lw_store_open(cfg.db, NULL, &store, err, sizeof err);
    if (rc) {
        fprintf(stderr, "ladewerk serve: db %s: %s\n", cfg.db, err[0] ? err : lw_strerror(rc));
        return 1;
    }
    lw_log(LW_LOG_INFO, "serve", "event=store_open db=%s schema=%d", cfg.db,
           lw_store_schema_version(store));

    /* Nobody is connected yet, whatever the store remembers from the last run. */
    int64_t n_offline = 0;
    rc = lw_store_stations_mark_all_offline(store, &n_offline);
    if (rc)
        lw_log(LW_LOG_WARN, "serve", "event=mark_offline_failed err=%s", lw_err_name(rc));
    else if (n_offline)
        lw_log(LW_LOG_INFO, "serve", "event=marked_offline stations=%lld", (long long)n_offline);

    lw_serve_api_t *sa = NULL;
    rc = lw_serve_api_new(&cfg, store, &sa);
    if (rc) {
        fprintf(stderr, "ladewerk serve: cannot start the API: %s\n", lw_strerror(rc));
        lw_store_close(store);
        return 1;
    }

    lw_csms_t *csms = NULL;
    rc = lw_csms_start(&cfg, store, lw_serve_api_api(sa), &csms);
    if (rc) {
        fprintf(stderr, "ladewerk serve: cannot listen on %s:%d: %s\n", cfg.ocpp_host,
                cfg.ocpp_port, lw_strerror(rc));
        lw_serve_api_free(sa);
        lw_store_close(store);
        return 1;
    }
    lw_log(LW_LOG_INFO, "serve", "event=listening ocpp=%s:%d tls=%s threads=%d", cfg.ocpp_host,
           lw_csms_port(csms), cfg.tls_cert[0] ? (cfg.tls_ca[0] ? "mutual" : "server") : "off",
           cfg.threads);
    rc = lw_serve_api_listen(sa, csms);
    if (rc) {
        fprintf(stderr, "ladewerk serve: cannot start the operator listener on %s:%d: %s\n",
                cfg.http_host, cfg.http_port, lw_strerror(rc));
        lw_csms_stop(csms, 0);
        lw_csms_free(csms);
        lw_serve_api_free(sa);
        lw_store_close(store);
        return 1;
    }
    /* Lines tests and scripts can wait for (the ports are the bound ones, also after :0). */
    printf("ladewerk: serving HTTP on %s:%d\n", cfg.http_host, lw_serve_api_port(sa));
    printf("ladewerk: serving OCPP on %s:%d\n", cfg.ocpp_host, lw_csms_port(csms));
    fflush(stdout);

    int sig = 0;
    while (sigwait(&set, &sig) != 0 && errno == EINTR) {
    }
    lw_log(LW_LOG_INFO, "serve", "event=stopping signal=%d", sig);
    lw_serve_api_stop(sa);
    lw_csms_stop(csms, SERVE_STOP_WAIT_MS);
    lw_csms_free(csms);
    lw_serve_api_free(sa); /* after the sessions: their last reports go to the API */
    lw_store_close(store);
    lw_log(LW_LOG_INFO, "serve", "event=stopped");
    return 0;
}
