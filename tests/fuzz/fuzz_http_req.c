/*
 * fuzz_http_req.c — fuzz target for the HTTP head parsers and the WebSocket upgrade check
 * (lib/transport/http.c, ws.c): any bytes must give a result code, never a crash, and
 * every returned view must lie inside the input.
 */
#include "ladewerk/ws.h"

#include <stdlib.h>
#include <string.h>

static void check_view(lw_str_t s, const char *buf, size_t len)
{
    if (s.p && s.len && (s.p < buf || s.p + s.len > buf + len)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* copy so that reads past the end are caught by ASan */
    char *buf = calloc(1, size + 1);
    if (size) memcpy(buf, data, size);
    lw_http_head_t h;
    int rc = lw_http_parse_request(buf, size, &h);
    if (rc > 0) {
        if ((size_t)rc > size) abort();
        check_view(h.method, buf, size);
        check_view(h.target, buf, size);
        for (size_t i = 0; i < h.nheaders; i++) {
            check_view(h.headers[i].name, buf, size);
            check_view(h.headers[i].value, buf, size);
        }
        uint64_t cl;
        (void)lw_http_head_content_length(&h, &cl);
        (void)lw_http_head_keep_alive(&h);
        char path[256];
        (void)lw_http_path_decode(h.target, path, sizeof path);
        lw_ws_upgrade_t up;
        int status;
        if (lw_ws_upgrade_parse(&h, &up, &status) == 0) {
            lw_buf_t out;
            lw_buf_init(&out, 4096);
            if (lw_ws_write_accept(&out, up.key, up.nprotocols ? up.protocols[0] : LW_STR_NULL,
                                   NULL) != 0)
                abort();
            lw_buf_free(&out);
        }
    }
    if (lw_http_parse_response(buf, size, &h) > 0) {
        lw_str_t chosen;
        const char *protos[] = {"ocpp1.6", "ocpp2.0.1"};
        (void)lw_ws_check_accept(&h, "dGhlIHNhbXBsZSBub25jZQ==", protos, 2, &chosen);
    }
    free(buf);
    return 0;
}
