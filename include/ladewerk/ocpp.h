/*
 * ladewerk/ocpp.h — facts shared by every OCPP layer: protocol versions (one per WebSocket
 * subprotocol) and the RPC error codes with their per-version spelling.
 */
#ifndef LADEWERK_OCPP_H
#define LADEWERK_OCPP_H

#include "ladewerk/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lw_ocpp_version {
    LW_OCPP_16 = 0,  /* subprotocol "ocpp1.6" (with the Security Whitepaper messages) */
    LW_OCPP_201 = 1, /* "ocpp2.0.1" */
    LW_OCPP_21 = 2,  /* "ocpp2.1" */
    LW_OCPP_VERSION_COUNT
} lw_ocpp_version_t;

/* "ocpp1.6", "ocpp2.0.1", "ocpp2.1" (static). */
const char *lw_ocpp_subprotocol(lw_ocpp_version_t v);
/* "1.6", "2.0.1", "2.1" (static). */
const char *lw_ocpp_version_name(lw_ocpp_version_t v);
/* Accepts "1.6", "2.0.1", "2.1" or the subprotocol names. Returns 0 or LW_EINVAL. */
int lw_ocpp_version_parse(lw_str_t s, lw_ocpp_version_t *out);

/* RPC error codes (CALLERROR errorCode). Version-neutral; lw_ocpp_err_name() spells them
 * as the given version's spec does, e.g. FORMAT is "FormationViolation" in 1.6 and
 * "FormatViolation" in 2.x, OCCURRENCE is "OccurenceConstraintViolation" (sic) in 1.6. */
#define LW_OCPP_ERR_MAP(X)                                                                         \
    X(NOT_IMPLEMENTED, "NotImplemented", "NotImplemented")                                         \
    X(NOT_SUPPORTED, "NotSupported", "NotSupported")                                               \
    X(INTERNAL, "InternalError", "InternalError")                                                  \
    X(PROTOCOL, "ProtocolError", "ProtocolError")                                                  \
    X(SECURITY, "SecurityError", "SecurityError")                                                  \
    X(FORMAT, "FormationViolation", "FormatViolation")                                             \
    X(PROPERTY_CONSTRAINT, "PropertyConstraintViolation", "PropertyConstraintViolation")           \
    X(OCCURRENCE_CONSTRAINT, "OccurenceConstraintViolation", "OccurrenceConstraintViolation")      \
    X(TYPE_CONSTRAINT, "TypeConstraintViolation", "TypeConstraintViolation")                       \
    X(GENERIC, "GenericError", "GenericError")                                                     \
    X(MESSAGE_TYPE_NOT_SUPPORTED, "ProtocolError", "MessageTypeNotSupported")                      \
    X(RPC_FRAMEWORK, "FormationViolation", "RpcFrameworkError")

typedef enum lw_ocpp_err {
    LW_OCPP_ERR_NONE = 0,
#define LW_OCPP_ERR_ENUM(name, s16, s2x) LW_OCPP_ERR_##name,
    LW_OCPP_ERR_MAP(LW_OCPP_ERR_ENUM)
#undef LW_OCPP_ERR_ENUM
        LW_OCPP_ERR_COUNT
} lw_ocpp_err_t;

/* The errorCode string for e in version v (static; "GenericError" for unknown values). */
const char *lw_ocpp_err_name(lw_ocpp_version_t v, lw_ocpp_err_t e);
/* Parses an errorCode string of any version; unknown strings give LW_OCPP_ERR_GENERIC. */
lw_ocpp_err_t lw_ocpp_err_parse(lw_str_t s);

#ifdef __cplusplus
}
#endif
#endif
