/*
 * http_client.h — the simulator's small HTTP/1.1 client on libuv: one request per
 * connection (Connection: close), for firmware downloads (GET) and log uploads (POST
 * multipart/form-data or PUT). Responses are parsed with the transport's
 * lw_http_parse_response (include/ladewerk/ws.h); bodies are framed by Content-Length or by
 * the connection closing (chunked transfer coding is refused). Only http:// URLs.
 */
#ifndef LW_SIM_HTTP_CLIENT_H
#define LW_SIM_HTTP_CLIENT_H

#include "ladewerk/base.h"

#include <uv.h>

typedef struct sim_http sim_http_t;

/* Completion: status 0 and the HTTP status code with the body (valid during the call), or a
 * negative LW_E* code (connect/resolve failure, timeout, malformed response, body larger than
 * the cap or shorter than its Content-Length). Fired exactly once unless cancelled. The
 * request is freed after the callback returns. */
typedef void (*sim_http_cb)(void *ud, int status, int http_status, const char *body, size_t len);

/* Starts method url with an optional body (borrowed; copied) and extra header lines
 * ("Name: value\r\n" each, or NULL). max_body caps the response body; timeout_ms bounds
 * the whole exchange. Returns 0 and *out (a handle for sim_http_cancel, valid until the
 * callback fires), or LW_EINVAL (not an http:// URL) / LW_ENOMEM; cb never fires then. */
int sim_http_request(uv_loop_t *loop, const char *method, const char *url, const char *headers,
                     const void *body, size_t len, size_t max_body, uint64_t timeout_ms,
                     sim_http_cb cb, void *ud, sim_http_t **out);
/* Abandons a request: its callback never fires; memory is released once libuv closed it. */
void sim_http_cancel(sim_http_t *h);

#endif
