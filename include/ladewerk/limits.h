/*
 * ladewerk/limits.h — every limit in one place, each with its reason and ceiling.
 * Runtime-configurable limits take these as defaults.
 */
#ifndef LADEWERK_LIMITS_H
#define LADEWERK_LIMITS_H

/* OCPP-J message ids: "maximum of 36 characters, to allow for GUIDs" (OCPP-J 1.6 §4.1.1,
 * OCPP 2.0.1 Part 4 §4.1.3). */
#define LW_MSGID_MAX 36

/* Longest action name in any OCPP version is under 40 characters
 * ("NotifyAllowedEnergyTransferResponse" is a payload, not an action); 64 is ample. */
#define LW_ACTION_MAX 64

/* Largest OCPP-J frame accepted by default. The biggest real messages are 2.x
 * Get15118EVCertificate (exi up to 7500) and certificate chains (10 000 in
 * CertificateSigned); large NotifyReport batches can go beyond. 64 KiB by default,
 * configurable up to LW_FRAME_MAX_CEILING. */
#define LW_FRAME_MAX_DEFAULT (64 * 1024)
#define LW_FRAME_MAX_CEILING (16 * 1024 * 1024)

/* Arena cap for one decoded message: a decoded struct is at most a few times its JSON. */
#define LW_ARENA_DEFAULT_MAX (8 * 1024 * 1024)

/* JSON tokens per message: bounds the tokenizer's work and memory per frame. */
#define LW_JSON_TOKENS_MAX 65536

/* JSON nesting depth accepted by the codec: OCPP schemas nest at most ~10 levels. */
#define LW_JSON_DEPTH_MAX 32

/* Station ids: 1.6 chargeBoxIdentity is CiString[36]... but 2.0.1 allows up to 48
 * (SecurityCtrlr.Identity is string[48]). */
#define LW_STATION_ID_MAX 48

/* Default CALL timeout: OCPP leaves it to configuration; 30 s matches common practice. */
#define LW_CALL_TIMEOUT_MS_DEFAULT 30000

/* ---- rpc ---------------------------------------------------------------------------------- */
/* Nesting depth of an OCPP-J frame's payload or errorDetails as the RPC scanner accepts it
 * (the payload object itself is depth 1). Same bound as the codec's, so a frame the scanner
 * passes is never rejected for depth later, and a hostile 1 MB of '[' costs one linear scan
 * with no recursion. */
#define LW_RPC_DEPTH_MAX LW_JSON_DEPTH_MAX

/* errorDescription is "string[255]" in OCPP 2.0.1 / 2.1 Part 4 (CALLERROR); 1.6 sets no
 * bound, we use the same. Writers cut longer text at a UTF-8 boundary. */
#define LW_RPC_ERROR_DESCRIPTION_MAX 255

#endif
