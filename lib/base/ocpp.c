/*
 * ocpp.c — OCPP versions and the per-version spelling of RPC error codes (ladewerk/ocpp.h).
 */
#include "ladewerk/ocpp.h"

static const char *const subprotocols[] = {"ocpp1.6", "ocpp2.0.1", "ocpp2.1"};
static const char *const names[] = {"1.6", "2.0.1", "2.1"};

const char *lw_ocpp_subprotocol(lw_ocpp_version_t v)
{
    return (unsigned)v < LW_OCPP_VERSION_COUNT ? subprotocols[v] : "?";
}

const char *lw_ocpp_version_name(lw_ocpp_version_t v)
{
    return (unsigned)v < LW_OCPP_VERSION_COUNT ? names[v] : "?";
}

int lw_ocpp_version_parse(lw_str_t s, lw_ocpp_version_t *out)
{
    for (int v = 0; v < LW_OCPP_VERSION_COUNT; v++) {
        if (lw_str_eq_c(s, names[v]) || lw_str_eq_c(s, subprotocols[v])) {
            *out = (lw_ocpp_version_t)v;
            return 0;
        }
    }
    return LW_EINVAL;
}

static const char *const err16[] = {"GenericError",
#define E16(name, s16, s2x) s16,
                                    LW_OCPP_ERR_MAP(E16)
#undef E16
};
static const char *const err2x[] = {"GenericError",
#define E2X(name, s16, s2x) s2x,
                                    LW_OCPP_ERR_MAP(E2X)
#undef E2X
};

const char *lw_ocpp_err_name(lw_ocpp_version_t v, lw_ocpp_err_t e)
{
    if (e <= LW_OCPP_ERR_NONE || e >= LW_OCPP_ERR_COUNT) return "GenericError";
    return v == LW_OCPP_16 ? err16[e] : err2x[e];
}

lw_ocpp_err_t lw_ocpp_err_parse(lw_str_t s)
{
    /* 2.x spellings first: they are distinct for every code, and 1.6's aliases follow. */
    for (int e = 1; e < LW_OCPP_ERR_COUNT; e++)
        if (lw_str_eq_c(s, err2x[e])) return (lw_ocpp_err_t)e;
    for (int e = 1; e < LW_OCPP_ERR_COUNT; e++)
        if (lw_str_eq_c(s, err16[e])) return (lw_ocpp_err_t)e;
    return LW_OCPP_ERR_GENERIC;
}
