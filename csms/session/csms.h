/*
 * session/csms.h — the running central system: the station listener on N loops, one session
 * per connected station, the registry of online stations, and the one entry other parts of
 * the server (the REST API, SignCertificate) use to talk to a station: lw_csms_call().
 *
 * Threads: each session lives on the loop thread that accepted its connection. The registry
 * (station id -> session) is shared and locked; anything crossing threads goes through
 * lw_net_loop_post() and is resolved again on the target loop (a session is freed only on
 * its own loop, after it left the registry).
 */
#ifndef LW_CSMS_CSMS_H
#define LW_CSMS_CSMS_H

#include "config.h"
#include "ladewerk/base.h"
#include "ladewerk/ocpp.h"
#include "ladewerk/rpc.h"
#include "store/store.h"

typedef struct lw_csms lw_csms_t;
typedef struct lw_api lw_api_t;
typedef struct lw_api_metrics lw_api_metrics_t;

/* Starts the station listener on cfg->threads loops. Borrows cfg (copied), store and api
 * (both must outlive the csms). api (csms/api/api.h; NULL = none) receives the sessions'
 * events (connected, status, transactions, security events) and hands over queued commands
 * when a station is accepted. Returns 0 and *out (owned: lw_csms_stop then lw_csms_free) or
 * an error with a reason logged. */
int lw_csms_start(const lw_config_t *cfg, lw_store_t *store, lw_api_t *api, lw_csms_t **out);
/* The bound station port (after port 0). */
int lw_csms_port(const lw_csms_t *c);
/* Graceful stop: refuse new upgrades, wait up to wait_ms for answers that wait on a commit
 * and CSMS-initiated calls in flight, then close every connection (1001) and the loops. */
void lw_csms_stop(lw_csms_t *c, uint32_t wait_ms);
void lw_csms_free(lw_csms_t *c);

/* Completion of lw_csms_call, on the station's loop thread. status: 0 (CALLRESULT, payload
 * is its JSON), LW_EPROTO (CALLERROR: error_code and description set, payload = details),
 * LW_ETIMEDOUT, LW_ECLOSED (the station went away or the server stops), LW_EBUSY (the
 * station's call queue was full). Views valid during the call only. */
typedef void (*lw_csms_call_cb)(void *ud, int status, lw_str_t payload, lw_str_t error_code,
                                lw_str_t description);

/* Sends a CALL to the station from any thread. One CALL per station is outstanding at a
 * time; the rest wait in the station's queue (LW_CSMS_CALL_QUEUE_MAX). Borrows every
 * argument (copied). The payload is validated against the action's request schema of the
 * station's OCPP version. Returns 0 (cb fires exactly once), LW_ENOTFOUND (station not
 * connected), LW_ENOTSUP (no such CSMS-initiated action in its version), LW_ESCHEMA
 * (payload invalid), LW_ECLOSED (stopping), LW_ENOMEM. */
int lw_csms_call(lw_csms_t *c, const char *station_id, const char *action, const char *payload,
                 lw_csms_call_cb cb, void *ud);

/* The API given to lw_csms_start (or NULL). */
lw_api_t *lw_csms_api(const lw_csms_t *c);

/* Fills the session part of a metrics snapshot: stations connected by version, upgrades,
 * authentication failures, messages by action/direction/outcome, CALLERRORs by code, CALL
 * latency per action, CALLs waiting to be sent. The arrays are owned by c and valid until
 * the next call (callers serialize: the API does). Any thread. */
void lw_csms_metrics(lw_csms_t *c, lw_api_metrics_t *out);

/* Whether the station is connected now, and with which version. Any thread. */
bool lw_csms_online(lw_csms_t *c, const char *station_id, lw_ocpp_version_t *version);

#endif
