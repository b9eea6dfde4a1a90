/*
 * session/metrics.h — the station side's counters for /metrics (internal to the CSMS):
 * connected stations by version, upgrades, authentication failures, messages by action,
 * direction and outcome, CALLERRORs by code, and the latency of CSMS-initiated CALLs per
 * action. Updated from every loop thread; read as a snapshot by the metrics route
 * (lw_csms_metrics). Tables are small (one row per action seen), guarded by one mutex.
 */
#ifndef LW_CSMS_METRICS_H
#define LW_CSMS_METRICS_H

#include "api/api.h"
#include "ladewerk/ocpp.h"

#include <stdatomic.h>

typedef struct lw_sess_metrics lw_sess_metrics_t;

/* Returns owned (free with lw_sess_metrics_free) or NULL. */
lw_sess_metrics_t *lw_sess_metrics_new(void);
void lw_sess_metrics_free(lw_sess_metrics_t *m);

/* Plain counters (atomic: any thread). */
typedef struct lw_sess_counters {
    atomic_uint_fast64_t connected[LW_OCPP_VERSION_COUNT];
    atomic_uint_fast64_t upgrades, upgrades_rejected, auth_failures;
    atomic_int_fast64_t outbound_queued;
} lw_sess_counters_t;
lw_sess_counters_t *lw_sess_metrics_counters(lw_sess_metrics_t *m);

/* One message: action ("" = unknown, e.g. a malformed frame), inbound = station -> CSMS,
 * outcome "ok" | "callerror" | "invalid" | "timeout". Borrows the strings (copied). */
void lw_sess_metrics_msg(lw_sess_metrics_t *m, const char *action, bool inbound,
                         const char *outcome);
/* One CALLERROR (sent or received) with its errorCode. */
void lw_sess_metrics_callerror(lw_sess_metrics_t *m, const char *code);
/* A CSMS-initiated CALL of action took ms until its answer (or timeout). */
void lw_sess_metrics_latency(lw_sess_metrics_t *m, const char *action, double ms);

/* Fills the session fields of out; arrays owned by m, valid until the next snapshot. */
void lw_sess_metrics_snapshot(lw_sess_metrics_t *m, lw_api_metrics_t *out);

#endif
