/*
 * ladewerk/ws.h — the pure parts of the transport layer: HTTP/1.1 head parsing, the
 * RFC 6455 opening handshake (server and client side) and WebSocket framing.
 *
 * Everything here is a pure function over (bytes, length) or a small state machine fed
 * bytes: no I/O, no globals, no clock. Each parser has a fuzz target
 * (tests/fuzz/fuzz_http_req.c, tests/fuzz/fuzz_ws_frame.c). The libuv connections in
 * ladewerk/net.h are built on these.
 */
#ifndef LADEWERK_WS_H
#define LADEWERK_WS_H

#include "ladewerk/base.h"
#include "ladewerk/limits.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- HTTP/1.1 heads ----------------------------------------------------------------------- */

typedef struct lw_http_header {
    lw_str_t name;  /* as sent; compare case-insensitively */
    lw_str_t value; /* leading/trailing spaces and tabs trimmed */
} lw_http_header_t;

typedef struct lw_http_head {
    /* request line (lw_http_parse_request) */
    lw_str_t method;
    lw_str_t target; /* origin-form "/path?query" as sent (not decoded) */
    /* status line (lw_http_parse_response) */
    int status;
    lw_str_t reason;
    /* both */
    int version_minor; /* HTTP/1.<minor>: 0 or 1 */
    size_t nheaders;
    lw_http_header_t headers[LW_HTTP_HEADERS_MAX];
} lw_http_head_t;

/* Parses a request head (request line, headers, empty line) at the start of buf. Strict:
 * CRLF line ends (bare LF accepted), token methods, origin-form or "*" targets, HTTP/1.0
 * or 1.1 only, no obsolete line folding, no NUL/control bytes in values.
 * Returns the head length (> 0, including the final empty line) when complete,
 * LW_EAGAIN when more bytes are needed (and fewer than LW_HTTP_HEAD_MAX were seen),
 * LW_ETOOBIG when the head exceeds LW_HTTP_HEAD_MAX or LW_HTTP_HEADERS_MAX, LW_EPARSE when
 * malformed. Borrows buf; the views in *out are valid while buf is. */
int lw_http_parse_request(const char *buf, size_t len, lw_http_head_t *out);
/* The same for a response head ("HTTP/1.1 101 Switching Protocols"). */
int lw_http_parse_response(const char *buf, size_t len, lw_http_head_t *out);

/* Returns the value of the first header named name (case-insensitive), or a view with
 * p == NULL when absent. Valid as long as h's buffer is. */
lw_str_t lw_http_head_get(const lw_http_head_t *h, const char *name);
/* True if any header named name holds token in its comma-separated list (case-insensitive),
 * e.g. Connection: keep-alive, Upgrade. */
bool lw_http_head_has_token(const lw_http_head_t *h, const char *name, const char *token);
/* Content-Length: 0 and *len (0 if absent), LW_EPARSE if malformed or repeated with a
 * different value, LW_ENOTSUP if Transfer-Encoding is present (we do not take chunked
 * request bodies). */
int lw_http_head_content_length(const lw_http_head_t *h, uint64_t *len);
/* True if the connection stays open after this message (HTTP/1.1 default, or 1.0 with
 * "Connection: keep-alive"; "Connection: close" ends it). */
bool lw_http_head_keep_alive(const lw_http_head_t *h);

/* Percent-decodes the path part of a request target (stops at '?' or '#'). Writes at most
 * outsz-1 bytes and a NUL. Returns the decoded length, LW_EPARSE for a bad escape or an
 * escaped NUL, LW_ETOOBIG if out is too small. Borrows target. */
int lw_http_path_decode(lw_str_t target, char *out, size_t outsz);

/* Reason phrase for a status code ("Not Found"); static, never NULL. */
const char *lw_http_reason(int status);

/* Appends a complete response with Content-Length to out: status line, extra_headers
 * (NULL or "Name: value\r\n" lines, borrowed), "Connection: close" if !keep_alive, then
 * body. */
int lw_http_write_response(lw_buf_t *out, int status, const char *extra_headers, const void *body,
                           size_t body_len, bool keep_alive);

/* ---- WebSocket opening handshake (RFC 6455 §4) -------------------------------------------- */

/* What a valid upgrade request carries (views into the request head's buffer). */
typedef struct lw_ws_upgrade {
    lw_str_t target;        /* as sent, e.g. "/ocpp/CP%201" */
    lw_str_t key;           /* Sec-WebSocket-Key (base64 of 16 bytes, checked) */
    lw_str_t authorization; /* Authorization header or p == NULL */
    lw_str_t origin;        /* Origin or p == NULL */
    size_t nprotocols;      /* Sec-WebSocket-Protocol tokens, in offer order (all headers) */
    lw_str_t protocols[LW_WS_PROTOCOLS_MAX];
} lw_ws_upgrade_t;

/* RFC 6455 §4.2.1: checks that req is a GET with HTTP/1.1, Host, "Upgrade: websocket",
 * "Connection: upgrade", a Sec-WebSocket-Key of 16 base64-encoded bytes and
 * Sec-WebSocket-Version 13. Returns 0 and fills *out, or LW_EPROTO with *status set to the
 * HTTP status to answer: 400 (malformed), 405 (not GET), 426 (version: answer with
 * "Sec-WebSocket-Version: 13", see lw_ws_write_reject). Borrows req. */
int lw_ws_upgrade_parse(const lw_http_head_t *req, lw_ws_upgrade_t *out, int *status);

/* True if the request asks for a WebSocket upgrade at all (Upgrade: websocket present),
 * so a server can tell upgrades from plain HTTP requests. */
bool lw_ws_is_upgrade(const lw_http_head_t *req);

/* RFC 6455 §1.3/§4.2.2: base64(SHA-1(key + GUID)). out gets 28 characters and a NUL. */
void lw_ws_accept_key(lw_str_t key, char out[29]);

/* Appends the 101 response accepting key; protocol is the chosen subprotocol (one of the
 * offered tokens) or an empty view for none. extra_headers as in lw_http_write_response. */
int lw_ws_write_accept(lw_buf_t *out, lw_str_t key, lw_str_t protocol, const char *extra_headers);
/* Appends a refusal: status (400, 401, 403, 404, 426, 503, ...) with "Connection: close",
 * Sec-WebSocket-Version: 13 for 426, extra_headers (e.g. "WWW-Authenticate: Basic
 * realm=\"ladewerk\"\r\n") and a short text body reason (may be NULL). */
int lw_ws_write_reject(lw_buf_t *out, int status, const char *extra_headers, const char *reason);

/* Client side. Fills key with a fresh random Sec-WebSocket-Key (24 chars + NUL; uses
 * OpenSSL's RAND_bytes, so not pure). Returns 0 or LW_EIO. */
int lw_ws_client_key(char key[25]);
/* Appends the upgrade request. host is "host[:port]", target "/path", protocols an array
 * of n tokens (borrowed), authorization the full header value ("Basic …") or NULL. */
int lw_ws_write_upgrade(lw_buf_t *out, const char *host, const char *target, const char *key,
                        const char *const *protocols, size_t nprotocols, const char *authorization);
/* Checks the server's answer to our upgrade: 101, Upgrade/Connection, the accept value for
 * key, and a subprotocol that is one we offered (or none). Returns 0 and *chosen (view into
 * resp's buffer, len 0 if none); LW_EAUTH for 401/403; LW_EPROTO otherwise (including a
 * non-101 status, which the caller can read from resp->status). */
int lw_ws_check_accept(const lw_http_head_t *resp, const char *key, const char *const *protocols,
                       size_t nprotocols, lw_str_t *chosen);

/* ---- frames (RFC 6455 §5) ------------------------------------------------------------------ */

enum {
    LW_WS_OP_CONT = 0x0,
    LW_WS_OP_TEXT = 0x1,
    LW_WS_OP_BINARY = 0x2,
    LW_WS_OP_CLOSE = 0x8,
    LW_WS_OP_PING = 0x9,
    LW_WS_OP_PONG = 0xA,
};

/* Close codes (RFC 6455 §7.4.1) we send or report. 1006 is never sent on the wire: it is
 * what on_close reports when the TCP connection ended without a close frame (including a
 * keepalive timeout). */
enum {
    LW_WS_CLOSE_NORMAL = 1000,
    LW_WS_CLOSE_GOING_AWAY = 1001,
    LW_WS_CLOSE_PROTOCOL = 1002,
    LW_WS_CLOSE_UNSUPPORTED = 1003,
    LW_WS_CLOSE_NO_STATUS = 1005,
    LW_WS_CLOSE_ABNORMAL = 1006,
    LW_WS_CLOSE_BAD_DATA = 1007, /* invalid UTF-8 in a text message */
    LW_WS_CLOSE_POLICY = 1008,
    LW_WS_CLOSE_TOO_BIG = 1009,
    LW_WS_CLOSE_INTERNAL = 1011,
};

/* Incremental decoder for one direction of one connection. Small when idle (~100 bytes,
 * no heap); it allocates a buffer only while a message is split across reads or frames,
 * and frees it when the message is complete. */
typedef struct lw_ws_decoder {
    lw_buf_t msg;       /* partial data message (fragments / split reads) */
    lw_buf_t ctl;       /* partial control frame payload */
    uint64_t remaining; /* payload bytes left in the current frame */
    uint32_t mask_off;  /* offset into the mask for the current frame */
    uint8_t mask[4];
    uint8_t hdr[14]; /* header bytes while the header is split across reads */
    uint8_t hdr_len;
    uint8_t opcode;     /* current frame's opcode */
    uint8_t msg_opcode; /* TEXT/BINARY of a message in progress, 0 if none */
    bool fin, masked, in_payload;
    bool expect_masked;  /* server: true (client frames must be masked); client: false */
    bool failed;         /* a protocol error was reported; further input is refused */
    uint16_t close_code; /* after an error: the code to send (1002, 1007, 1009) */
} lw_ws_decoder_t;

typedef enum {
    LW_WS_EV_NONE = 0, /* consumed input, nothing complete yet */
    LW_WS_EV_MESSAGE,  /* a complete text or binary message */
    LW_WS_EV_PING,
    LW_WS_EV_PONG,
    LW_WS_EV_CLOSE, /* peer's close frame; code 1005 if it had none */
} lw_ws_event_type_t;

typedef struct lw_ws_event {
    lw_ws_event_type_t type;
    bool binary;   /* MESSAGE: opcode was BINARY */
    uint16_t code; /* CLOSE */
    lw_str_t data; /* MESSAGE/PING/PONG payload, CLOSE reason */
} lw_ws_event_t;

/* server: true for the server side (requires masked frames). max_message 0 = default. */
void lw_ws_decoder_init(lw_ws_decoder_t *d, bool server, size_t max_message);
/* Frees the partial buffers; d may be re-initialized. */
void lw_ws_decoder_free(lw_ws_decoder_t *d);

/* Feeds up to len bytes; stops after one event. Returns 0 with *consumed bytes used and
 * *ev filled (type NONE when all input was used without completing anything), or a
 * negative error (LW_EPROTO, LW_ETOOBIG, LW_EPARSE for bad UTF-8) with d->close_code set to
 * the code to close with. Unmasks in place, hence the mutable buffer. ev->data is valid
 * until the next call on d or until in changes. Text messages and close reasons are
 * checked to be UTF-8. Call again with the rest of the input after each event. */
int lw_ws_decode(lw_ws_decoder_t *d, uint8_t *in, size_t len, size_t *consumed, lw_ws_event_t *ev);

/* Writes a frame header (2..14 bytes) into hdr and returns its length. mask: NULL for an
 * unmasked frame (server), else the 4-byte masking key (client). */
size_t lw_ws_frame_header(uint8_t hdr[14], bool fin, int opcode, uint64_t payload_len,
                          const uint8_t *mask);
/* XORs p with mask, starting at mask offset off (RFC 6455 §5.3). */
void lw_ws_mask(uint8_t *p, size_t n, const uint8_t mask[4], size_t off);
/* Appends one complete frame (header and, if mask, masked payload) to out. Control frames
 * (opcode >= 8) must have n <= 125 and fin (LW_EINVAL otherwise). */
int lw_ws_write_frame(lw_buf_t *out, bool fin, int opcode, const void *p, size_t n,
                      const uint8_t *mask);
/* Builds a close payload (2-byte code + reason truncated to fit 125 bytes at a UTF-8
 * boundary) into out; returns its length. code 0 gives an empty payload. */
size_t lw_ws_close_payload(uint8_t out[LW_WS_CONTROL_MAX], uint16_t code, const char *reason);

/* True if p[0..n) is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
bool lw_utf8_valid(const void *p, size_t n);

#ifdef __cplusplus
}
#endif
#endif
