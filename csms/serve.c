/*
 * serve.c — `ladewerk serve`: reads the configuration, opens the store, starts the station
 * listener loops (session/csms.h) and waits for SIGINT/SIGTERM, then stops gracefully:
 * refuse new stations, finish answers waiting on commits and calls in flight, close the
 * connections, drain the store.
 *
 * The operator listener (--http-listen: REST API, dashboard) is started by the API layer
 * through lw_serve_http_hook when that layer is part of the build.
 */
#include "commands.h"
#include "config.h"
#include "session/csms.h"
#include "store/store.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

/* Hook for the REST API layer: started after the station listener, stopped before it.
 * Weak, so a build without the API simply has no operator listener. */
int lw_serve_http_start(const lw_config_t *cfg, lw_store_t *store, lw_csms_t *csms)
    __attribute__((weak));
void lw_serve_http_stop(void) __attribute__((weak));

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

    lw_csms_t *csms = NULL;
    rc = lw_csms_start(&cfg, store, &csms);
    if (rc) {
        fprintf(stderr, "ladewerk serve: cannot listen on %s:%d: %s\n", cfg.ocpp_host,
                cfg.ocpp_port, lw_strerror(rc));
        lw_store_close(store);
        return 1;
    }
    lw_log(LW_LOG_INFO, "serve", "event=listening ocpp=%s:%d tls=%s threads=%d", cfg.ocpp_host,
           lw_csms_port(csms), cfg.tls_cert[0] ? (cfg.tls_ca[0] ? "mutual" : "server") : "off",
           cfg.threads);
    bool http = false;
    if (lw_serve_http_start) {
        rc = lw_serve_http_start(&cfg, store, csms);
        if (rc) {
            fprintf(stderr, "ladewerk serve: cannot start the operator listener on %s:%d: %s\n",
                    cfg.http_host, cfg.http_port, lw_strerror(rc));
            lw_csms_free(csms);
            lw_store_close(store);
            return 1;
        }
        http = true;
    }
    /* A line tests and scripts can wait for (the port is the bound one, also after :0). */
    printf("ladewerk: serving OCPP on %s:%d\n", cfg.ocpp_host, lw_csms_port(csms));
    fflush(stdout);

    int sig = 0;
    while (sigwait(&set, &sig) != 0 && errno == EINTR) {
    }
    lw_log(LW_LOG_INFO, "serve", "event=stopping signal=%d", sig);
    if (http && lw_serve_http_stop) lw_serve_http_stop();
    lw_csms_stop(csms, SERVE_STOP_WAIT_MS);
    lw_csms_free(csms);
    lw_store_close(store);
    lw_log(LW_LOG_INFO, "serve", "event=stopped");
    return 0;
}
