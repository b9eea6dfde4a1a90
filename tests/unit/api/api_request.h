/*
 * api_request.h — one request through lw_api_handle for the API unit tests (test_api.c,
 * test_api_files.c): builds the lw_api_request_t with an optional bearer token and up to two
 * extra headers, runs it, and keeps a NUL-terminated copy of the answer (body of any bytes,
 * headers, parsed JSON, the event-stream flag and cursor). No sockets.
 */
#ifndef LW_TEST_API_REQUEST_H
#define LW_TEST_API_REQUEST_H

#include "test.h"

#include "api/api.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int status;
    char *body; /* NUL-terminated copy of the len bytes of the body */
    size_t len;
    char *headers;
    cJSON *json; /* parsed body when JSON */
    bool stream;
    uint64_t cursor;
} resp_t;

static inline void resp_free(resp_t *r)
{
    free(r->body);
    free(r->headers);
    cJSON_Delete(r->json);
    memset(r, 0, sizeof *r);
}

/* Performs one request on api with a body of blen bytes; token NULL = no Authorization;
 * h1/v1 and h2/v2 are extra headers (name NULL = none). Free the answer with resp_free. */
static inline resp_t api_request(lw_api_t *api, const char *method, const char *target,
                                 const char *token, const char *body, size_t blen, const char *h1,
                                 const char *v1, const char *h2, const char *v2)
{
    lw_api_header_t h[3];
    size_t nh = 0;
    char auth[128];
    if (token) {
        snprintf(auth, sizeof auth, "Bearer %s", token);
        h[nh++] = (lw_api_header_t){LW_STR("Authorization"), lw_str_c(auth)};
    }
    if (h1) h[nh++] = (lw_api_header_t){lw_str_c(h1), lw_str_c(v1)};
    if (h2) h[nh++] = (lw_api_header_t){lw_str_c(h2), lw_str_c(v2)};
    lw_api_request_t rq = {lw_str_c(method), lw_str_c(target), h, nh, {body, blen}};
    lw_api_response_t res;
    lw_api_response_init(&res);
    LW_CHECK_INT(lw_api_handle(api, &rq, &res), 0);
    resp_t r = {.status = res.status,
                .len = res.body.len,
                .stream = res.stream,
                .cursor = res.event_cursor};
    lw_buf_cstr(&res.headers);
    r.body = malloc(res.body.len + 1);
    if (res.body.len) memcpy(r.body, res.body.data, res.body.len);
    r.body[res.body.len] = 0;
    r.headers = strdup(res.headers.data ? res.headers.data : "");
    r.json = cJSON_ParseWithLength(r.body, r.len);
    lw_api_response_free(&res);
    return r;
}

#endif
