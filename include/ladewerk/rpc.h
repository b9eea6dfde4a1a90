/*
 * ladewerk/rpc.h — the OCPP-J RPC layer: frames, their writers, message ids, and the
 * per-connection call bookkeeping (one outstanding CALL per direction). Pure: no I/O, time
 * only through an injected lw_clock_t. Sits between transport (WebSocket text messages) and
 * codec (payload structs): it finds the frame's parts and hands the payload's raw JSON text
 * to the codec, which validates it fully.
 *
 * Frames (OCPP-J 1.6 §4, OCPP 2.0.1 Part 4 §4, OCPP 2.1 Part 4 §4):
 *   CALL             [2, "id", "Action", {payload}]
 *   CALLRESULT       [3, "id", {payload}]
 *   CALLERROR        [4, "id", "errorCode", "errorDescription", {errorDetails}]
 *   CALLRESULTERROR  [5, "id", "errorCode", "errorDescription", {errorDetails}]   2.1 only
 *   SEND             [6, "id", "Action", {payload}]                              2.1 only
 *
 * Strings in frames (id, action, errorCode, errorDescription) are exposed RAW: the bytes
 * between the quotes, JSON escapes not decoded (the parser checks they are well formed).
 * Ids are compared and echoed byte for byte, which a JSON peer decodes to the same string;
 * real ids (UUIDs, counters) never contain escapes. The 36-character id limit is applied to
 * the raw length, so an escaped id that is short only once decoded is rejected. Use
 * lw_rpc_unescape() to decode a description for display.
 */
#ifndef LADEWERK_RPC_H
#define LADEWERK_RPC_H

#include "ladewerk/base.h"
#include "ladewerk/limits.h"
#include "ladewerk/ocpp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- frames ------------------------------------------------------------------------------- */
typedef enum lw_rpc_type {
    LW_RPC_NONE = 0,
    LW_RPC_CALL = 2,
    LW_RPC_CALLRESULT = 3,
    LW_RPC_CALLERROR = 4,
    LW_RPC_CALLRESULTERROR = 5, /* OCPP 2.1 */
    LW_RPC_SEND = 6,            /* OCPP 2.1 */
    LW_RPC_TYPE_END = 7         /* array size for per-type counters */
} lw_rpc_type_t;

/* "CALL", "CALLRESULT", ... (static; "?" for others). */
const char *lw_rpc_type_name(int type);

/* A parsed frame: every lw_str_t is a view into the parsed buffer, valid until it changes.
 * Fields that the frame's type does not have are empty views (p == NULL). */
typedef struct lw_rpc_frame {
    lw_rpc_type_t type;
    lw_str_t id;                /* raw, 1..LW_MSGID_MAX bytes */
    lw_str_t action;            /* CALL, SEND: raw */
    lw_str_t payload;           /* CALL, CALLRESULT, SEND: the payload object's exact JSON text */
    lw_str_t error_code;        /* CALLERROR, CALLRESULTERROR: raw errorCode */
    lw_ocpp_err_t error;        /* ... and parsed (unknown spellings: LW_OCPP_ERR_GENERIC) */
    lw_str_t error_description; /* raw (escapes not decoded) */
    lw_str_t error_details;     /* errorDetails object's exact JSON text */
} lw_rpc_frame_t;

/* What the receiver of a malformed frame must do. */
typedef enum lw_rpc_reply {
    LW_RPC_REPLY_NONE = 0,           /* drop it (and count it): responses and SENDs are never
                                        answered */
    LW_RPC_REPLY_CALLERROR = 1,      /* answer with CALLERROR [4, reply_id, code, reason, {}] */
    LW_RPC_REPLY_CALLRESULTERROR = 2 /* 2.1: answer a bad CALLRESULT with [5, reply_id, ...] */
} lw_rpc_reply_t;

typedef struct lw_rpc_parse_error {
    lw_rpc_reply_t reply;
    lw_ocpp_err_t code; /* errorCode to answer with (spell with lw_ocpp_err_name) */
    lw_str_t reply_id;  /* the frame's id (view into buf) or "-1" (static) when unreadable */
    int type; /* message type number if one was read, 0 if none, -1 for a non-integer number */
    const char *reason; /* static English text, fit for errorDescription */
    size_t offset;      /* byte offset in buf where the problem was found */
} lw_rpc_parse_error_t;

/* Parses one OCPP-J frame (one WebSocket text message) of version v. Pure; never reads
 * outside buf[0..len). Borrows buf: on success *out holds views into it. Returns 0, or
 * LW_EPARSE with *err filled in (err may be NULL). The payload is only delimited here
 * (strings, escapes, bracket matching, depth <= LW_RPC_DEPTH_MAX); the codec validates it. */
int lw_rpc_parse(lw_ocpp_version_t v, const char *buf, size_t len, lw_rpc_frame_t *out,
                 lw_rpc_parse_error_t *err);

/* Decodes raw JSON string content (as in lw_rpc_frame_t) and appends it to out as UTF-8.
 * Returns 0, LW_EPARSE (bad escape), or an lw_buf error. Borrows raw. */
int lw_rpc_unescape(lw_str_t raw, lw_buf_t *out);

/* ---- writers -------------------------------------------------------------------------------
 * Each appends one complete frame to buf, or on failure appends nothing (buf->len is
 * restored) and returns LW_EINVAL (bad id/action), LW_ETOOBIG or LW_ENOMEM. All arguments are
 * borrowed. Ids and actions are raw JSON string content (as parsed, or plain ASCII): they are
 * checked (1..LW_MSGID_MAX bytes, no quote/control/bad escape) and written verbatim. Payloads
 * and details are JSON text written verbatim (the codec's output); an empty view writes {}.
 * Descriptions are plain text, JSON-escaped by the writer, cut to
 * LW_RPC_ERROR_DESCRIPTION_MAX bytes at a UTF-8 boundary. */
int lw_rpc_write_call(lw_buf_t *buf, lw_str_t id, lw_str_t action, lw_str_t payload_json);
int lw_rpc_write_result(lw_buf_t *buf, lw_str_t id, lw_str_t payload_json);
/* errorCode spelled for version v (lw_ocpp_err_name). */
int lw_rpc_write_error(lw_buf_t *buf, lw_ocpp_version_t v, lw_str_t id, lw_ocpp_err_t code,
                       lw_str_t description, lw_str_t details_json);
/* OCPP 2.1 only (the caller checks the version; these never fail for it). */
int lw_rpc_write_result_error(lw_buf_t *buf, lw_str_t id, lw_ocpp_err_t code, lw_str_t description,
                              lw_str_t details_json);
int lw_rpc_write_send(lw_buf_t *buf, lw_str_t id, lw_str_t action, lw_str_t payload_json);
/* Writes the answer a parse error asks for (err->reply != NONE), description err->reason.
 * Returns LW_EINVAL when the error asks for no reply. */
int lw_rpc_write_parse_error(lw_buf_t *buf, lw_ocpp_version_t v, const lw_rpc_parse_error_t *err);
/* Writes a parsed frame back, every part verbatim (raw strings stay raw). */
int lw_rpc_write_frame(lw_buf_t *buf, const lw_rpc_frame_t *f);

/* ---- message ids ---------------------------------------------------------------------------
 * Writes a fresh id into out (caller-owned, at least LW_MSGID_MAX + 1 bytes): a random UUID v4
 * (36 characters, NUL-terminated) from the kernel's CSPRNG (getrandom), drawn through a
 * per-thread pool, so ids are unique per process in practice (122 random bits) and not
 * predictable. Thread-safe; a fork()ed child never repeats its parent's ids. Returns 0 or
 * LW_EIO. */
int lw_rpc_make_id(char *out);

/* ---- counters ------------------------------------------------------------------------------ */
typedef struct lw_rpc_stats {
    uint64_t rx[LW_RPC_TYPE_END];             /* frames parsed, by type */
    uint64_t tx[LW_RPC_TYPE_END];             /* frames sent, by type (lw_rpc_peer_sent) */
    uint64_t parse_errors[LW_OCPP_ERR_COUNT]; /* malformed frames, by errorCode chosen */
    uint64_t parse_errors_dropped;            /* ... of which were not answered */
    uint64_t late_or_unknown;                 /* responses matching no outstanding CALL */
    uint64_t timeouts;                        /* outgoing CALLs that timed out */
    uint64_t call_errors;                     /* outgoing CALLs answered with CALLERROR */
    uint64_t overlapping_calls;               /* CALLs received while one was unanswered */
    uint64_t result_errors;                   /* CALLRESULTERRORs received (2.1) */
} lw_rpc_stats_t;

/* Adds rc/frame/err of one lw_rpc_parse call to s. */
void lw_rpc_stats_count_parse(lw_rpc_stats_t *s, int rc, const lw_rpc_frame_t *f,
                              const lw_rpc_parse_error_t *err);

/* ---- the per-connection call table ---------------------------------------------------------
 * OCPP-J 1.6 §4.1.1 / 2.0.1 Part 4 §4.1.1: a sender SHOULD NOT send a CALL before the
 * previous one is answered or timed out — one outstanding CALL per direction. The peer keeps
 * that one outgoing CALL (with its deadline) and the one incoming CALL being processed. It
 * allocates nothing and keeps no queue: the session queues what it wants to send and calls
 * lw_rpc_peer_begin again from the completion callback (allowed; the slot is free by then).
 */

/* Completion of an outgoing CALL. status is 0 (CALLRESULT: f->payload), LW_EPROTO (CALLERROR:
 * f->error, f->error_code, f->error_description, f->error_details), LW_ETIMEDOUT or LW_ECLOSED
 * (f is NULL). id/action are the ones given to begin, NUL-terminated; f and its views, id and
 * action are valid only during the callback. The callback may call begin, close or cancel on
 * the same peer; it must not free the peer's memory (mark closing, reap later). */
typedef void (*lw_rpc_done_cb)(void *ud, int status, const char *id, const char *action,
                               const lw_rpc_frame_t *f);

typedef struct lw_rpc_peer {
    lw_ocpp_version_t version;
    const lw_clock_t *clock; /* borrowed, must outlive the peer */
    uint32_t timeout_ms;
    const char *name; /* borrowed, for log lines (station id); may be NULL */
    bool closed;
    /* outgoing CALL */
    bool out_active;
    char out_id[LW_MSGID_MAX + 1];
    char out_action[LW_ACTION_MAX + 1];
    uint64_t out_deadline;          /* mono ms */
    char last_id[LW_MSGID_MAX + 1]; /* last completed CALL, to tell "late" from "unknown" */
    lw_rpc_done_cb out_cb;
    void *out_ud;
    /* incoming CALL being processed */
    bool in_active;
    char in_id[LW_MSGID_MAX + 1];
    char in_action[LW_ACTION_MAX + 1];
    uint64_t in_since; /* mono ms */
    lw_rpc_stats_t stats;
} lw_rpc_peer_t;

/* Initializes p. Borrows clock and name. timeout_ms 0 means LW_CALL_TIMEOUT_MS_DEFAULT. */
void lw_rpc_peer_init(lw_rpc_peer_t *p, lw_ocpp_version_t v, const lw_clock_t *clock,
                      uint32_t timeout_ms, const char *name);

/* Parses like lw_rpc_parse and logs a malformed frame (LW_EPARSE) for station name (borrowed,
 * may be NULL): what lw_rpc_peer_parse does, without a peer or counters. */
int lw_rpc_parse_logged(lw_ocpp_version_t v, const char *name, const char *buf, size_t len,
                        lw_rpc_frame_t *out, lw_rpc_parse_error_t *err);
/* Parses like lw_rpc_parse with p's version and counts the result in p->stats. */
int lw_rpc_peer_parse(lw_rpc_peer_t *p, const char *buf, size_t len, lw_rpc_frame_t *out,
                      lw_rpc_parse_error_t *err);

/* Registers an outgoing CALL (copies id and action; deadline = now + timeout). Call it just
 * before sending the frame. Returns 0, LW_EBUSY (one is outstanding), LW_ECLOSED, or
 * LW_EINVAL (id empty or > LW_MSGID_MAX, action > LW_ACTION_MAX). Never fires cb itself;
 * on failure cb is never fired. */
int lw_rpc_peer_begin(lw_rpc_peer_t *p, lw_str_t id, lw_str_t action, lw_rpc_done_cb cb, void *ud);
/* Forgets the outstanding CALL without firing its callback (e.g. the send failed).
 * Returns 0 or LW_ENOTFOUND. */
int lw_rpc_peer_cancel(lw_rpc_peer_t *p);

/* Delivers a parsed CALLRESULT or CALLERROR. Returns 0 when it answered the outstanding CALL
 * (the callback fired), LW_ENOTFOUND for a late or unknown response (logged, counted in
 * stats.late_or_unknown, dropped), LW_EINVAL for other frame types. A CALLRESULTERROR (2.1)
 * refers to a CALLRESULT we sent, not to our CALL: it is counted (stats.result_errors),
 * logged and returns LW_ENOTFOUND; the outstanding CALL is untouched. */
int lw_rpc_peer_match(lw_rpc_peer_t *p, const lw_rpc_frame_t *f);

/* Fires the outstanding CALL's callback with LW_ETIMEDOUT if its deadline has passed on p's
 * clock. Returns the number of callbacks fired (0 or 1). */
int lw_rpc_peer_tick(lw_rpc_peer_t *p);
/* Returns true and the deadline (mono ms) when a CALL is outstanding. */
bool lw_rpc_peer_deadline(const lw_rpc_peer_t *p, uint64_t *at);

/* Marks p closed and fails the outstanding CALL with LW_ECLOSED. Idempotent. Later begins
 * return LW_ECLOSED. */
void lw_rpc_peer_close(lw_rpc_peer_t *p);

/* Incoming CALLs. Policy (OCPP-J 1.6 §4.1.1, 2.0.1 Part 4 §4.1.1 are SHOULD NOT for the
 * sender): a second CALL while one is unanswered is not a protocol error; it is counted
 * (stats.overlapping_calls) and reported with LW_EBUSY so the session can queue it and answer
 * in order (what common CSMSs do) or reject it. Borrows f. Returns 0 (now tracked), LW_EBUSY
 * (another one is already tracked; nothing changed), LW_EEXISTS (the tracked CALL's id again:
 * a duplicate, which 2.0.1 Part 4 §4.2.3 lists as a CALLERROR case), LW_EINVAL (not a
 * CALL). */
int lw_rpc_peer_incoming(lw_rpc_peer_t *p, const lw_rpc_frame_t *f);
/* The tracked incoming CALL has been answered: clears it. id must match (raw bytes).
 * Returns 0 or LW_ENOTFOUND. */
int lw_rpc_peer_answered(lw_rpc_peer_t *p, lw_str_t id);
/* Counts a frame we sent in p->stats.tx. */
void lw_rpc_peer_sent(lw_rpc_peer_t *p, lw_rpc_type_t type);

#ifdef __cplusplus
}
#endif
#endif
