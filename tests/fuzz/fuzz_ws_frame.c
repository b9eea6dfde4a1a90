/*
 * fuzz_ws_frame.c — fuzz target for the WebSocket frame decoder (lib/transport/ws.c).
 * The first byte picks the role (server/client) and how the rest is split into reads, so
 * split headers and payloads are exercised; every event must stay within its bounds.
 */
#include "ladewerk/ws.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t ctl = data[0];
    size_t n = size - 1;
    uint8_t *buf = calloc(1, n + 1);
    if (n) memcpy(buf, data + 1, n);
    lw_ws_decoder_t d;
    lw_ws_decoder_init(&d, ctl & 1, 4096);
    size_t chunk = (ctl >> 1) ? (ctl >> 1) : n + 1; /* 1..127 bytes per read, or all */
    size_t pos = 0;
    while (pos < n) {
        size_t len = n - pos < chunk ? n - pos : chunk;
        uint8_t *p = buf + pos;
        size_t left = len;
        while (left) {
            size_t used;
            lw_ws_event_t ev;
            int rc = lw_ws_decode(&d, p, left, &used, &ev);
            if (used > left) abort();
            if (rc < 0) {
                if (d.close_code != 1002 && d.close_code != 1007 && d.close_code != 1009) abort();
                goto out;
            }
            if (ev.type == LW_WS_EV_MESSAGE) {
                if (ev.data.len > 4096) abort();
                if (!ev.binary && !lw_utf8_valid(ev.data.p, ev.data.len)) abort();
                volatile char sink = 0;
                for (size_t i = 0; i < ev.data.len; i++)
                    sink ^= ev.data.p[i];
                (void)sink;
            } else if (ev.type != LW_WS_EV_NONE && ev.data.len > 125) {
                abort();
            }
            if (used == 0 && ev.type == LW_WS_EV_NONE) abort(); /* no progress */
            p += used;
            left -= used;
        }
        pos += len;
    }
out:
    lw_ws_decoder_free(&d);
    free(buf);
    return 0;
}
