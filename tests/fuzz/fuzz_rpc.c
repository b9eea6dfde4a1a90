/*
 * fuzz_rpc.c — libFuzzer target for the OCPP-J frame parser (lib/rpc/frame.c). For every
 * version: parse arbitrary bytes (from an exact-size heap copy, so any read past the end is
 * caught by ASan); a parse error must name a reply id and a reason; a parsed frame is written
 * back with lw_rpc_write_frame and must re-parse to the same parts, byte for byte.
 */
#include "ladewerk/rpc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void same(lw_str_t a, lw_str_t b)
{
    if (!lw_str_eq(a, b)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    if (size) memcpy(buf, data, size);
    for (int v = 0; v < LW_OCPP_VERSION_COUNT; v++) {
        lw_rpc_frame_t f, g;
        lw_rpc_parse_error_t e;
        int rc = lw_rpc_parse((lw_ocpp_version_t)v, buf, size, &f, &e);
        if (rc != 0) {
            if (rc != LW_EPARSE || !e.reason || !e.reply_id.p || e.reply_id.len == 0 ||
                e.reply_id.len > LW_MSGID_MAX || e.offset > size)
                abort();
            if (e.reply != LW_RPC_REPLY_NONE) {
                lw_buf_t w;
                lw_buf_init(&w, 4096);
                if (lw_rpc_write_parse_error(&w, (lw_ocpp_version_t)v, &e) != 0) abort();
                if (lw_rpc_parse((lw_ocpp_version_t)v, w.data, w.len, &g, NULL) != 0 &&
                    e.reply == LW_RPC_REPLY_CALLERROR)
                    abort();
                lw_buf_free(&w);
            }
            continue;
        }
        lw_buf_t w;
        lw_buf_init(&w, size + 64);
        if (lw_rpc_write_frame(&w, &f) != 0) abort();
        if (lw_rpc_parse((lw_ocpp_version_t)v, w.data, w.len, &g, NULL) != 0) abort();
        if (f.type != g.type || f.error != g.error) abort();
        same(f.id, g.id);
        same(f.action, g.action);
        same(f.payload, g.payload);
        same(f.error_code, g.error_code);
        same(f.error_description, g.error_description);
        same(f.error_details, g.error_details);
        lw_buf_free(&w);
    }
    free(buf);
    return 0;
}
