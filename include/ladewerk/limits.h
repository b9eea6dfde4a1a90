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

/* ---- api (csms/api) ------------------------------------------------------------------------ */
/* Rows per page of REST lists: 100 by default (one screen of the dashboard), at most 1000
 * (the store's page size, LW_STORE_PAGE_MAX), so one request's work and body stay bounded. */
#define LW_API_PAGE_DEFAULT 100
#define LW_API_PAGE_MAX     1000
/* Largest REST response body (CSV export of a page of transactions, a journal page of
 * 1000 messages of up to 64 KiB would not fit: journal pages are capped by this too). */
#define LW_API_BODY_MAX (16 * 1024 * 1024)
/* Commands kept in memory (queued, in flight and recently finished ones, for
 * GET /api/v1/commands/{id}): finished ones beyond this are dropped oldest first. */
#define LW_API_COMMANDS_MAX 10000
/* A queued command for an offline station waits this long by default (?ttl= overrides, up to
 * the ceiling): long enough for a reboot or a short outage, short enough that a stale
 * RemoteStart does not fire hours later. */
#define LW_API_COMMAND_TTL_MS_DEFAULT (15 * 60 * 1000)
#define LW_API_COMMAND_TTL_MS_MAX     (7 * 24 * 3600 * 1000LL)
/* Idempotency-Key header: a UUID is 36 characters; 128 leaves room for client schemes. */
#define LW_API_IDEMPOTENCY_KEY_MAX 128
/* Recent events kept for SSE clients (resume with Last-Event-ID, slow readers): at a few
 * hundred events per second in a big network this is several seconds of slack. */
#define LW_API_EVENTS_RING 4096
/* One event's data (JSON): events carry ids, statuses and numbers, never payloads. */
#define LW_API_EVENT_DATA_MAX 4096

#endif
