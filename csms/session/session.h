/*
 * session/session.h — what a handler sees of the session that received a CALL (internal to
 * the CSMS). A session handles one incoming CALL at a time: later CALLs of the same station
 * wait in order until the current one is answered, so a StartTransaction is stored before
 * the MeterValues that follows it is looked at.
 *
 * A handler answers now (lw_call_reply), or hands work off and answers from a continuation:
 *   lw_call_store()  submits a store write; the continuation runs on the session's loop after
 *                    the commit that holds it ("acknowledged means durable");
 *   lw_call_work()   runs a blocking function (store reads) on libuv's thread pool, then the
 *                    continuation on the loop.
 * If the station disconnected meanwhile, the continuation is not called and the call is
 * dropped (there is nobody to answer).
 */
#ifndef LW_CSMS_SESSION_H
#define LW_CSMS_SESSION_H

#include "codec/jdoc.h"
#include "config.h"
#include "ladewerk/codec.h"
#include "ladewerk/ocpp.h"
#include "session/csms.h"
#include "store/store.h"

#include <cjson/cJSON.h>

typedef struct lw_session lw_session_t;
typedef struct lw_call lw_call_t;
typedef void (*lw_call_cont_fn)(lw_call_t *call);

/* Per-call scratch a handler may use across its continuations. */
#define LW_CALL_SCRATCH 512

struct lw_call {
    lw_session_t *session;
    const lw_codec_action_t *action;
    lw_ocpp_version_t version;
    char msg_id[LW_MSGID_MAX + 1];
    lw_jdoc_t doc;    /* the validated request payload, its tokens (owned by the call) */
    int64_t rx_ms;    /* wall time it arrived */
    lw_str_t station; /* the station id (valid while the call lives) */
    /* results of lw_call_store / lw_call_work */
    lw_store_result_t res; /* res.answer points into answer_copy */
    char *answer_copy;
    lw_id_token_rec_t token;
    int token_rc; /* LW_ENOTFOUND, 0, or an error */
    /* handler state */
    lw_call_cont_fn cont;
    void (*work)(lw_call_t *call);
    lw_buf_t tmp; /* free for the handler (freed with the call) */
    char scratch[LW_CALL_SCRATCH];
    int64_t i64;
};

/* Station state the handlers read and change (loop thread only). */
const lw_config_t *lw_session_config(const lw_session_t *s);
lw_store_t *lw_session_store(const lw_session_t *s);
/* True when the station's last_seen_at is due to be written again (and notes it as written):
 * at most once per LW_CSMS_SEEN_PERSIST_MS per connection; the connect writes it too. */
bool lw_session_seen_due(lw_session_t *s);
const lw_clock_t *lw_session_clock(const lw_session_t *s);
lw_csms_t *lw_session_csms(const lw_session_t *s);
/* Registration as answered to the last BootNotification (or taken over from an earlier
 * connection): accepted sessions may send anything. */
void lw_session_set_registration(lw_session_t *s, lw_reg_status_t reg);
lw_reg_status_t lw_session_policy(const lw_session_t *s); /* the store's reg_status */

/* Boot-storm shedding (config boot-rate-limit): counts one BootNotification the policy would
 * accept against this node's budget for the current second (shared by all loops). Returns 0
 * when it may be Accepted, else the interval in seconds (random in 1..boot-retry-interval,
 * so the shed stations come back spread out) to answer Pending with. Any thread. */
uint32_t lw_session_boot_shed(lw_session_t *s);

/* Answers the call with payload JSON (borrowed), which is validated against the action's
 * response schema first (an invalid answer is our bug: logged, InternalError sent). Frees
 * the call. */
void lw_call_reply(lw_call_t *call, const char *json, size_t len);
/* Answers with a CALLERROR. Frees the call. */
void lw_call_error(lw_call_t *call, lw_ocpp_err_t code, const char *description);
/* Submits w (borrowed); cont runs on the loop after the commit, with call->res filled.
 * On a submit failure answers InternalError itself and returns the error. */
int lw_call_store(lw_call_t *call, const lw_store_write_t *w, lw_call_cont_fn cont);
/* Looks up an id token (borrowed; copied) on the thread pool (fills call->token,
 * call->token_rc), then cont. */
void lw_call_token_lookup(lw_call_t *call, lw_str_t id_token, lw_call_cont_fn cont);
/* Re-reads the station's registration status from the store on the thread pool (an operator
 * may have changed it while the station was connected: `station set ID --status`), updates
 * lw_session_policy, then cont. When the read fails the policy stays as it was. */
void lw_call_policy_refresh(lw_call_t *call, lw_call_cont_fn cont);

/* Sends a CSMS-initiated CALL on this session's loop (CertificateSigned after
 * SignCertificate). Same contract as lw_csms_call. */
int lw_session_call(lw_session_t *s, const char *action, const char *payload, lw_csms_call_cb cb,
                    void *ud);

/* The station's id (NUL-terminated into out) and OCPP version. */
void lw_session_station_id(const lw_session_t *s, char *out, size_t outsz);
lw_ocpp_version_t lw_session_version(const lw_session_t *s);
/* The operator API the session reports to, or NULL. */
lw_api_t *lw_session_api(const lw_session_t *s);
/* Publishes a transaction event ("started", "updated", "ended") for the API: reads the
 * transaction on the thread pool (after the commit that changed it) and publishes it with
 * power_w (< 0 = unknown). No-op without an API. Loop thread. */
void lw_session_publish_tx(lw_session_t *s, const char *kind, int64_t tx_id, double power_w);

/* handlers/handlers.c: keeps what an answered CSMS-initiated CALL changed on the station
 * (1.6 configuration keys, reservations, charging profiles, 2.x variables), as store
 * writes. request/response are the CALL's and CALLRESULT's JSON (borrowed). Loop thread. */
void lw_handle_call_result(lw_session_t *s, const char *action, lw_str_t request,
                           lw_str_t response);

/* handlers/handlers.c: answers call (now or through continuations). */
void lw_handle_call(lw_call_t *call);
/* Whether action of v has its own handler; the others are answered with "{}" (for tests). */
bool lw_handlers_has_route(lw_ocpp_version_t v, const char *action);

#endif
