/*
 * serve_api.h — the operator side of `ladewerk serve`: the REST API, live events, dashboard
 * and /metrics (csms/api/api.h) glued to the store, the sessions and the operator listener
 * (--http-listen). serve.c creates it before the station listener (the sessions publish
 * into it) and starts its listener after.
 */
#ifndef LW_SERVE_API_H
#define LW_SERVE_API_H

#include "config.h"
#include "session/csms.h"
#include "store/store.h"

typedef struct lw_serve_api lw_serve_api_t;

/* Creates the API over store (borrowed, must outlive it) with its backend, and restores the
 * durable command table from the store. Returns 0 and *out (owned: lw_serve_api_free) or
 * an error. */
int lw_serve_api_new(const lw_config_t *cfg, lw_store_t *store, lw_serve_api_t **out);
/* The API, for lw_csms_start (sessions publish events and flush queued commands). */
lw_api_t *lw_serve_api_api(lw_serve_api_t *sa);
/* Starts the operator listener on its own loop thread: HTTP requests are answered from
 * libuv's thread pool (lw_api_handle blocks on store reads), SSE streams are fed when events
 * are published, lw_api_tick runs every second. csms (borrowed) receives the commands.
 * Returns 0 or the listen error. */
int lw_serve_api_listen(lw_serve_api_t *sa, lw_csms_t *csms);
/* The bound operator port (after port 0). */
int lw_serve_api_port(const lw_serve_api_t *sa);
/* Stops the listener (closes SSE streams, answers nothing more). Call before lw_csms_stop. */
void lw_serve_api_stop(lw_serve_api_t *sa);
/* Frees the API; after lw_csms_free (sessions may report until then). NULL is a no-op. */
void lw_serve_api_free(lw_serve_api_t *sa);

#endif
