/*
 * api/api_codec.c — the codec-backed payload check for CSMS-initiated commands: the
 * lw_api_backend_t.action_check that `serve` plugs in. An action qualifies when the
 * generated codec of the station's OCPP version knows it and the CSMS may send it
 * (LW_DIR_FROM_CSMS, from tools/codegen/directions.json); the payload is validated against
 * the action's request schema, and a violation is reported with its JSON path.
 */
#include "api/api.h"
#include "ladewerk/codec.h"

#include <stdio.h>

int lw_api_codec_check(void *ctx, lw_ocpp_version_t v, lw_str_t action, lw_str_t payload,
                       lw_api_check_err_t *err)
{
    (void)ctx;
    const lw_codec_action_t *a = lw_codec_action_find(v, action);
    if (!a || !(a->dir & LW_DIR_FROM_CSMS)) return LW_ENOTFOUND;
    lw_codec_error_t e;
    int rc = lw_codec_validate(a->request, payload.p, payload.len, &e);
    if (rc == LW_ESCHEMA && err) {
        lw_cstr_copy(err->path, sizeof err->path, e.path);
        /* the error code's name first, so truncating a long detail never loses it */
        int n = snprintf(err->detail, sizeof err->detail, "%s: ", lw_ocpp_err_name(v, e.code));
        if (n > 0 && (size_t)n < sizeof err->detail)
            snprintf(err->detail + n, sizeof err->detail - (size_t)n, "%.*s",
                     (int)(sizeof err->detail - (size_t)n - 1), e.detail);
    }
    return rc;
}
