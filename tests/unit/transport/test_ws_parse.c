/*
 * test_ws_parse.c — unit tests for the pure transport parsers (lib/transport/http.c, ws.c):
 * HTTP heads, the RFC 6455 handshake on both sides, frame decoding/encoding, UTF-8.
 */
#include "ladewerk/ws.h"
#include "test.h"

#include <stdlib.h>

#define REQ(extra)                                                                                 \
    "GET /ocpp/CP%201 HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"                       \
    "Connection: keep-alive, Upgrade\r\n" extra "\r\n"

static int parse_req(const char *s, lw_http_head_t *h)
{
    return lw_http_parse_request(s, strlen(s), h);
}

LW_TEST(http_request_head)
{
    lw_http_head_t h;
    const char *s = "POST /api/v1/x?y=1 HTTP/1.1\r\nHost: a\r\nContent-Length:  12 \r\n"
                    "X-Empty:\r\n\r\nbody";
    int rc = parse_req(s, &h);
    LW_CHECK_INT(rc, (int)strlen(s) - 4);
    LW_CHECK(lw_str_eq_c(h.method, "POST"));
    LW_CHECK(lw_str_eq_c(h.target, "/api/v1/x?y=1"));
    LW_CHECK_INT(h.version_minor, 1);
    LW_CHECK_INT(h.nheaders, 3);
    LW_CHECK(lw_str_eq_c(lw_http_head_get(&h, "content-length"), "12"));
    LW_CHECK(lw_http_head_get(&h, "x-empty").p != NULL);
    LW_CHECK(lw_http_head_get(&h, "nope").p == NULL);
    uint64_t cl;
    LW_CHECK_INT(lw_http_head_content_length(&h, &cl), 0);
    LW_CHECK_INT(cl, 12);
    LW_CHECK(lw_http_head_keep_alive(&h));

    /* incomplete, then complete with bare LF */
    LW_CHECK_INT(parse_req("GET / HTTP/1.1\r\nHost: a\r\n", &h), LW_EAGAIN);
    LW_CHECK_INT(parse_req("GET / HTTP/1.0\nHost: a\n\n", &h), 24);
    LW_CHECK(!lw_http_head_keep_alive(&h));

    /* malformed */
    LW_CHECK_INT(parse_req("GET / HTTP/2.0\r\n\r\n", &h), LW_EPARSE);
    LW_CHECK_INT(parse_req("GET  / HTTP/1.1\r\n\r\n", &h), LW_EPARSE);
    LW_CHECK_INT(parse_req("GET http://x/ HTTP/1.1\r\n\r\n", &h), LW_EPARSE);
    LW_CHECK_INT(parse_req("G(T / HTTP/1.1\r\n\r\n", &h), LW_EPARSE);
    LW_CHECK_INT(parse_req("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", &h), LW_EPARSE);
    LW_CHECK_INT(parse_req("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", &h), LW_EPARSE);
    LW_CHECK_INT(parse_req("GET / HTTP/1.1\r\nNoColon\r\n\r\n", &h), LW_EPARSE);
    LW_CHECK_INT(parse_req("GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", &h), LW_EPARSE);
    LW_CHECK(parse_req("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", &h) > 0);
    LW_CHECK_INT(lw_http_head_content_length(&h, &cl), LW_EPARSE);
    LW_CHECK(parse_req("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &h) > 0);
    LW_CHECK_INT(lw_http_head_content_length(&h, &cl), LW_ENOTSUP);

    /* limits: too many headers, too long a head */
    lw_buf_t b;
    lw_buf_init(&b, 1 << 20);
    lw_buf_append_c(&b, "GET / HTTP/1.1\r\n");
    for (int i = 0; i <= LW_HTTP_HEADERS_MAX; i++)
        lw_buf_printf(&b, "H%d: v\r\n", i);
    lw_buf_append_c(&b, "\r\n");
    LW_CHECK_INT(lw_http_parse_request(b.data, b.len, &h), LW_ETOOBIG);
    lw_buf_reset(&b);
    lw_buf_append_c(&b, "GET / HTTP/1.1\r\nX: ");
    for (int i = 0; i < LW_HTTP_HEAD_MAX; i++)
        lw_buf_putc(&b, 'a');
    LW_CHECK_INT(lw_http_parse_request(b.data, b.len, &h), LW_ETOOBIG);
    lw_buf_free(&b);
}

/* Every byte in a header name and in a method: accepted exactly when it is an RFC 9110
 * tchar (the parser looks bytes up in a table; the expectation here is the RFC's list). Line
 * ends: CR LF, bare LF and a mix end the head at the right byte, with or without a body
 * after it, and a head cut anywhere before its end is incomplete. */
LW_TEST(http_tchar_and_line_ends)
{
    lw_http_head_t h;
    for (int c = 0; c < 256; c++) {
        if (c == '\r' || c == '\n' || c == ':' || c == ' ') continue; /* they split the line */
        bool want = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c && strchr("!#$%&'*+-.^_`|~", c));
        char req[64];
        int n = snprintf(req, sizeof req, "GET / HTTP/1.1\r\nA%cB: v\r\n\r\n", c);
        req[17] = (char)c; /* also the NUL byte */
        int rc = lw_http_parse_request(req, (size_t)n, &h);
        if (want ? rc != n : rc != LW_EPARSE) LW_FAILF("header name byte 0x%02x: %d", c, rc);
        n = snprintf(req, sizeof req, "G%cT / HTTP/1.1\r\n\r\n", c);
        req[1] = (char)c;
        rc = lw_http_parse_request(req, (size_t)n, &h);
        if (want ? rc != n : rc != LW_EPARSE) LW_FAILF("method byte 0x%02x: %d", c, rc);
    }
    static const char *const heads[] = {
        "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.1\nHost: a\n\n",
        "GET / HTTP/1.1\r\nHost: a\n\r\n",
        "GET / HTTP/1.1\nHost: a\r\n\n",
        "GET / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\n\n",
    };
    for (size_t i = 0; i < sizeof heads / sizeof *heads; i++) {
        char req[128];
        size_t hl = strlen(heads[i]);
        snprintf(req, sizeof req, "%s\r\n\r\nbody\n\n", heads[i]);
        LW_CHECK_INT(lw_http_parse_request(req, strlen(req), &h), (int)hl);
        for (size_t cut = 0; cut < hl; cut++)
            if (lw_http_parse_request(req, cut, &h) != LW_EAGAIN)
                LW_FAILF("head %zu cut at %zu: not incomplete", i, cut);
    }
}

LW_TEST(http_response_head_and_path)
{
    lw_http_head_t h;
    const char *s = "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\n\r\n";
    LW_CHECK_INT(lw_http_parse_response(s, strlen(s), &h), (int)strlen(s));
    LW_CHECK_INT(h.status, 401);
    LW_CHECK(lw_str_eq_c(h.reason, "Unauthorized"));
    s = "HTTP/1.1 200\r\n\r\n";
    LW_CHECK_INT(lw_http_parse_response(s, strlen(s), &h), (int)strlen(s));
    LW_CHECK_INT(h.status, 200);
    s = "HTTP/1.1 2x0 OK\r\n\r\n";
    LW_CHECK_INT(lw_http_parse_response(s, strlen(s), &h), LW_EPARSE);

    char out[32];
    LW_CHECK_INT(lw_http_path_decode(LW_STR("/ocpp/CP%201?x=%41"), out, sizeof out), 10);
    LW_CHECK_STR(out, "/ocpp/CP 1");
    LW_CHECK_INT(lw_http_path_decode(LW_STR("/a%2"), out, sizeof out), LW_EPARSE);
    LW_CHECK_INT(lw_http_path_decode(LW_STR("/a%zz"), out, sizeof out), LW_EPARSE);
    LW_CHECK_INT(lw_http_path_decode(LW_STR("/a%00"), out, sizeof out), LW_EPARSE);
    LW_CHECK_INT(lw_http_path_decode(LW_STR("/abcdef"), out, 4), LW_ETOOBIG);

    lw_buf_t b;
    lw_buf_init(&b, 4096);
    LW_CHECK_INT(lw_http_write_response(&b, 404, "X-A: 1\r\n", "no", 2, false), 0);
    lw_buf_cstr(&b);
    LW_CHECK_STR(
        b.data,
        "HTTP/1.1 404 Not Found\r\nX-A: 1\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno");
    lw_buf_free(&b);
}

LW_TEST(ws_accept_key_rfc_example)
{
    char acc[29];
    lw_ws_accept_key(
        LW_STR("dGhlIHNhbXBsZSBub25jZQ=="),
        acc); /* RFC 6455 §1.3 (the value printed there; checked with `openssl sha1`) */
    LW_CHECK_STR(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

LW_TEST(ws_upgrade_valid_and_protocols)
{
    lw_http_head_t h;
    const char *s = REQ("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        "Sec-WebSocket-Version: 13\r\nAuthorization: Basic Q1AxOnB3\r\n"
                        "Sec-WebSocket-Protocol: ocpp2.0.1, ocpp1.6\r\n"
                        "Sec-WebSocket-Protocol: ocpp2.1\r\n");
    LW_CHECK(parse_req(s, &h) > 0);
    LW_CHECK(lw_ws_is_upgrade(&h));
    lw_ws_upgrade_t up;
    int status = 0;
    LW_CHECK_INT(lw_ws_upgrade_parse(&h, &up, &status), 0);
    LW_CHECK_INT(status, 101);
    LW_CHECK(lw_str_eq_c(up.target, "/ocpp/CP%201"));
    LW_CHECK(lw_str_eq_c(up.authorization, "Basic Q1AxOnB3"));
    LW_CHECK_INT(up.nprotocols, 3);
    LW_CHECK(lw_str_eq_c(up.protocols[0], "ocpp2.0.1"));
    LW_CHECK(lw_str_eq_c(up.protocols[1], "ocpp1.6"));
    LW_CHECK(lw_str_eq_c(up.protocols[2], "ocpp2.1"));

    lw_buf_t b;
    lw_buf_init(&b, 4096);
    LW_CHECK_INT(lw_ws_write_accept(&b, up.key, up.protocols[1], NULL), 0);
    lw_http_head_t r;
    LW_CHECK_INT(lw_http_parse_response(b.data, b.len, &r), (int)b.len);
    LW_CHECK_INT(r.status, 101);
    LW_CHECK(
        lw_str_eq_c(lw_http_head_get(&r, "Sec-WebSocket-Accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    /* the client side check accepts it when ocpp1.6 was offered */
    const char *offer[] = {"ocpp1.6", "ocpp2.0.1"};
    lw_str_t chosen;
    LW_CHECK_INT(lw_ws_check_accept(&r, "dGhlIHNhbXBsZSBub25jZQ==", offer, 2, &chosen), 0);
    LW_CHECK(lw_str_eq_c(chosen, "ocpp1.6"));
    /* ...and refuses it when it was not, or when the key differs */
    LW_CHECK_INT(lw_ws_check_accept(&r, "dGhlIHNhbXBsZSBub25jZQ==", offer + 1, 1, &chosen),
                 LW_EPROTO);
    LW_CHECK_INT(lw_ws_check_accept(&r, "AAAAAAAAAAAAAAAAAAAAAA==", offer, 2, &chosen), LW_EPROTO);
    /* the exact text, with and without a subprotocol and extra headers */
    lw_buf_reset(&b);
    LW_CHECK_INT(lw_ws_write_accept(&b, up.key, LW_STR("ocpp2.0.1"), "X-A: 1\r\nX-B: 2\r\n"), 0);
    LW_CHECK_INT(lw_buf_cstr(&b), 0);
    LW_CHECK_STR(b.data,
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                 "Sec-WebSocket-Protocol: ocpp2.0.1\r\nX-A: 1\r\nX-B: 2\r\n\r\n");
    lw_buf_reset(&b);
    LW_CHECK_INT(lw_ws_write_accept(&b, up.key, LW_STR_NULL, NULL), 0);
    LW_CHECK_INT(lw_buf_cstr(&b), 0);
    LW_CHECK_STR(b.data,
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                 "\r\n");
    lw_buf_free(&b);
}

LW_TEST(ws_upgrade_invalid)
{
    lw_http_head_t h;
    lw_ws_upgrade_t up;
    int status;
    /* missing key */
    LW_CHECK(parse_req(REQ("Sec-WebSocket-Version: 13\r\n"), &h) > 0);
    LW_CHECK_INT(lw_ws_upgrade_parse(&h, &up, &status), LW_EPROTO);
    LW_CHECK_INT(status, 400);
    /* key that is not 16 bytes */
    LW_CHECK(parse_req(REQ("Sec-WebSocket-Key: abc=\r\nSec-WebSocket-Version: 13\r\n"), &h) > 0);
    LW_CHECK_INT(lw_ws_upgrade_parse(&h, &up, &status), LW_EPROTO);
    LW_CHECK_INT(status, 400);
    /* wrong version */
    LW_CHECK(parse_req(REQ("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                           "Sec-WebSocket-Version: 8\r\n"),
                       &h) > 0);
    LW_CHECK_INT(lw_ws_upgrade_parse(&h, &up, &status), LW_EPROTO);
    LW_CHECK_INT(status, 426);
    /* bad subprotocol token */
    LW_CHECK(parse_req(REQ("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                           "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: a b\r\n"),
                       &h) > 0);
    LW_CHECK_INT(lw_ws_upgrade_parse(&h, &up, &status), LW_EPROTO);
    LW_CHECK_INT(status, 400);
    /* POST */
    const char *s =
        "POST / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    LW_CHECK(parse_req(s, &h) > 0);
    LW_CHECK_INT(lw_ws_upgrade_parse(&h, &up, &status), LW_EPROTO);
    LW_CHECK_INT(status, 405);
    /* 426 answer carries the version */
    lw_buf_t b;
    lw_buf_init(&b, 4096);
    LW_CHECK_INT(lw_ws_write_reject(&b, 426, NULL, "version"), 0);
    lw_http_head_t r;
    LW_CHECK(lw_http_parse_response(b.data, b.len, &r) > 0);
    LW_CHECK_INT(r.status, 426);
    LW_CHECK(lw_str_eq_c(lw_http_head_get(&r, "Sec-WebSocket-Version"), "13"));
    lw_str_t chosen;
    LW_CHECK_INT(lw_ws_check_accept(&r, "x", NULL, 0, &chosen), LW_EPROTO);
    lw_buf_reset(&b);
    LW_CHECK_INT(lw_ws_write_reject(&b, 401, "WWW-Authenticate: Basic realm=\"x\"\r\n", NULL), 0);
    LW_CHECK(lw_http_parse_response(b.data, b.len, &r) > 0);
    LW_CHECK_INT(lw_ws_check_accept(&r, "x", NULL, 0, &chosen), LW_EAUTH);
    lw_buf_free(&b);
}

LW_TEST(ws_client_request)
{
    char key[25];
    LW_CHECK_INT(lw_ws_client_key(key), 0);
    LW_CHECK_INT(strlen(key), 24);
    lw_buf_t b;
    lw_buf_init(&b, 4096);
    const char *offer[] = {"ocpp2.0.1", "ocpp1.6"};
    LW_CHECK_INT(lw_ws_write_upgrade(&b, "h:9", "/ocpp/CP1", key, offer, 2, "Basic eDp5"), 0);
    lw_http_head_t h;
    LW_CHECK_INT(lw_http_parse_request(b.data, b.len, &h), (int)b.len);
    lw_ws_upgrade_t up;
    int status;
    LW_CHECK_INT(lw_ws_upgrade_parse(&h, &up, &status), 0);
    LW_CHECK_INT(up.nprotocols, 2);
    LW_CHECK(lw_str_eq_c(up.key, key));
    LW_CHECK(lw_str_eq_c(up.authorization, "Basic eDp5"));
    lw_buf_free(&b);
}

/* Decodes all of in (split into reads of `chunk` bytes), collecting events. */
typedef struct {
    int n;
    lw_ws_event_type_t type[8];
    char *data[8];
    size_t len[8];
    uint16_t code[8];
    int err;
    uint16_t close_code;
} evs_t;

static void decode_all(bool server, size_t max, const uint8_t *src, size_t n, size_t chunk,
                       evs_t *e)
{
    memset(e, 0, sizeof *e);
    uint8_t *in = malloc(n + 1);
    memcpy(in, src, n);
    lw_ws_decoder_t d;
    lw_ws_decoder_init(&d, server, max);
    for (size_t pos = 0; pos < n && !e->err;) {
        size_t len = n - pos < chunk ? n - pos : chunk;
        uint8_t *p = in + pos;
        pos += len;
        while (len && !e->err) {
            size_t used;
            lw_ws_event_t ev;
            int rc = lw_ws_decode(&d, p, len, &used, &ev);
            p += used;
            len -= used;
            if (rc) {
                e->err = rc;
                e->close_code = d.close_code;
            } else if (ev.type != LW_WS_EV_NONE && e->n < 8) {
                e->type[e->n] = ev.type;
                e->data[e->n] = malloc(ev.data.len + 1);
                memcpy(e->data[e->n], ev.data.p, ev.data.len);
                e->len[e->n] = ev.data.len;
                e->code[e->n] = ev.code;
                e->n++;
            }
        }
    }
    lw_ws_decoder_free(&d);
    free(in);
}

static void evs_free(evs_t *e)
{
    for (int i = 0; i < e->n; i++)
        free(e->data[i]);
}

LW_TEST(ws_frames_length_classes)
{
    static const size_t sizes[] = {0, 1, 125, 126, 127, 65535, 65536, 200000};
    static const uint8_t mask[4] = {0x11, 0x22, 0x33, 0x44};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        char *msg = malloc(n + 1);
        for (size_t i = 0; i < n; i++)
            msg[i] = (char)('a' + i % 26);
        for (int masked = 0; masked < 2; masked++) {
            lw_buf_t b;
            lw_buf_init(&b, 1 << 20);
            LW_CHECK_INT(lw_ws_write_frame(&b, true, LW_WS_OP_TEXT, msg, n, masked ? mask : NULL),
                         0);
            size_t want_hdr = (n < 126 ? 2 : n <= 65535 ? 4 : 10) + (masked ? 4 : 0);
            LW_CHECK_INT(b.len, want_hdr + n);
            for (size_t chunk = 1; chunk <= 1 << 20; chunk *= 1024) {
                evs_t e;
                decode_all(masked, 1 << 20, (uint8_t *)b.data, b.len, chunk, &e);
                LW_CHECK_INT(e.err, 0);
                LW_CHECK_INT(e.n, 1);
                if (e.n == 1) {
                    LW_CHECK_INT(e.type[0], LW_WS_EV_MESSAGE);
                    LW_CHECK_MEM(e.data[0], e.len[0], msg, n);
                }
                evs_free(&e);
            }
            /* the wrong masking for the role is a protocol error */
            evs_t e;
            decode_all(!masked, 1 << 20, (uint8_t *)b.data, b.len, b.len, &e);
            LW_CHECK_INT(e.err, LW_EPROTO);
            LW_CHECK_INT(e.close_code, 1002);
            evs_free(&e);
            lw_buf_free(&b);
        }
        free(msg);
    }
}

LW_TEST(ws_frames_fragmented_and_control)
{
    static const uint8_t mask[4] = {1, 2, 3, 4};
    lw_buf_t b;
    lw_buf_init(&b, 1 << 16);
    lw_ws_write_frame(&b, false, LW_WS_OP_TEXT, "Hel", 3, mask);
    lw_ws_write_frame(&b, true, LW_WS_OP_PING, "p", 1, mask); /* interleaved control */
    lw_ws_write_frame(&b, false, LW_WS_OP_CONT, "", 0, mask);
    lw_ws_write_frame(&b, true, LW_WS_OP_CONT, "lo", 2, mask);
    uint8_t cp[125];
    size_t cn = lw_ws_close_payload(cp, 1000, "bye");
    lw_ws_write_frame(&b, true, LW_WS_OP_CLOSE, cp, cn, mask);
    for (size_t chunk = 1; chunk <= 64; chunk *= 4) {
        evs_t e;
        decode_all(true, 0, (uint8_t *)b.data, b.len, chunk, &e);
        LW_CHECK_INT(e.err, 0);
        LW_CHECK_INT(e.n, 3);
        LW_CHECK_INT(e.type[0], LW_WS_EV_PING);
        LW_CHECK_MEM(e.data[0], e.len[0], "p", 1);
        LW_CHECK_INT(e.type[1], LW_WS_EV_MESSAGE);
        LW_CHECK_MEM(e.data[1], e.len[1], "Hello", 5);
        LW_CHECK_INT(e.type[2], LW_WS_EV_CLOSE);
        LW_CHECK_INT(e.code[2], 1000);
        LW_CHECK_MEM(e.data[2], e.len[2], "bye", 3);
        evs_free(&e);
    }
    /* control frame > 125 bytes, fragmented control frame, reserved bits, bad opcode,
     * continuation without start, new message inside a fragmented one */
    struct {
        const char *name;
        uint8_t bytes[10];
        size_t n;
    } bad[] = {
        {"ping 126", {0x89, 126, 0, 126}, 4},
        {"ping !fin", {0x09, 0}, 2},
        {"rsv1", {0xC1, 0}, 2},
        {"rsv3", {0x91, 0}, 2},
        {"opcode 3", {0x83, 0}, 2},
        {"opcode 11", {0x8B, 0}, 2},
        {"cont first", {0x80, 0}, 2},
        {"text in text", {0x01, 0, 0x81, 0}, 4},
        {"close 1 byte", {0x88, 1, 3}, 3},
        {"close 1005", {0x88, 2, 0x03, 0xED}, 4},
        {"close 999", {0x88, 2, 0x03, 0xE7}, 4},
        {"64-bit msb", {0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1}, 10},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        evs_t e;
        decode_all(false, 0, bad[i].bytes, bad[i].n, 100, &e);
        if (e.err != LW_EPROTO || e.close_code != 1002)
            LW_FAILF("%s: err %d code %d, want LW_EPROTO/1002", bad[i].name, e.err, e.close_code);
        evs_free(&e);
    }
    lw_buf_free(&b);
}

LW_TEST(ws_frames_utf8_and_size)
{
    /* invalid UTF-8 in a text message (split over fragments) → 1007 */
    lw_buf_t b;
    lw_buf_init(&b, 1 << 20);
    lw_ws_write_frame(&b, false, LW_WS_OP_TEXT, "\xce", 1, NULL);
    lw_ws_write_frame(&b, true, LW_WS_OP_CONT, "\xba\xe1\xbd", 3, NULL); /* "κ" + cut */
    evs_t e;
    decode_all(false, 0, (uint8_t *)b.data, b.len, 3, &e);
    LW_CHECK_INT(e.err, LW_EPARSE);
    LW_CHECK_INT(e.close_code, 1007);
    evs_free(&e);
    /* the same bytes as binary are fine */
    lw_buf_reset(&b);
    lw_ws_write_frame(&b, true, LW_WS_OP_BINARY, "\xff\xfe", 2, NULL);
    decode_all(false, 0, (uint8_t *)b.data, b.len, 100, &e);
    LW_CHECK_INT(e.err, 0);
    LW_CHECK_INT(e.n, 1);
    evs_free(&e);
    /* invalid UTF-8 close reason → 1007 */
    lw_buf_reset(&b);
    lw_ws_write_frame(&b, true, LW_WS_OP_CLOSE, "\x03\xe8\xc0\xaf", 4, NULL);
    decode_all(false, 0, (uint8_t *)b.data, b.len, 100, &e);
    LW_CHECK_INT(e.close_code, 1007);
    evs_free(&e);
    /* message too big, also when only the fragments add up → 1009 */
    lw_buf_reset(&b);
    char big[200];
    memset(big, 'x', sizeof big);
    lw_ws_write_frame(&b, false, LW_WS_OP_TEXT, big, 60, NULL);
    lw_ws_write_frame(&b, true, LW_WS_OP_CONT, big, 60, NULL);
    decode_all(false, 100, (uint8_t *)b.data, b.len, 7, &e);
    LW_CHECK_INT(e.err, LW_ETOOBIG);
    LW_CHECK_INT(e.close_code, 1009);
    evs_free(&e);
    lw_buf_reset(&b);
    lw_ws_write_frame(&b, true, LW_WS_OP_TEXT, big, 101, NULL);
    decode_all(false, 100, (uint8_t *)b.data, b.len, 1000, &e);
    LW_CHECK_INT(e.close_code, 1009);
    evs_free(&e);
    lw_buf_free(&b);

    LW_CHECK(lw_utf8_valid("plain \xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x8c", 17));
    LW_CHECK(!lw_utf8_valid("\xc0\xaf", 2));         /* overlong */
    LW_CHECK(!lw_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    LW_CHECK(!lw_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    LW_CHECK(!lw_utf8_valid("\xe2\x82", 2));         /* truncated */
    LW_CHECK(!lw_utf8_valid("\x80", 1));             /* stray continuation */

    /* close payload truncation keeps UTF-8 valid */
    char reason[200];
    memset(reason, 'a', sizeof reason);
    memcpy(reason + 122, "\xe2\x82\xac", 3);
    reason[199] = 0;
    uint8_t cp[125];
    size_t cn = lw_ws_close_payload(cp, 1001, reason);
    LW_CHECK(cn <= 125);
    LW_CHECK(lw_utf8_valid(cp + 2, cn - 2));
    LW_CHECK_INT(cn, 124);
}

/* lw_ws_mask and lw_utf8_valid work eight bytes at a time: check them against the byte-wise
 * definitions at every length and offset around the word boundaries. */
/* The cap holds exactly, message after message: the decoder frees its buffer after each
 * message and keeps the cap (msg.max) for the next. Two messages of exactly max bytes (one
 * fragmented, both split across reads) pass; one byte more is 1009, also in fragments. */
LW_TEST(ws_max_message_exact_and_kept)
{
    enum { MAX = 70000 };
    static const uint8_t mask[4] = {9, 8, 7, 6};
    char *big = malloc(MAX + 1);
    for (size_t i = 0; i <= MAX; i++)
        big[i] = (char)('a' + i % 26);
    lw_buf_t b;
    lw_buf_init(&b, 4 * MAX);
    lw_ws_write_frame(&b, true, LW_WS_OP_TEXT, big, MAX, mask);
    lw_ws_write_frame(&b, false, LW_WS_OP_TEXT, big, MAX - 1000, mask);
    lw_ws_write_frame(&b, true, LW_WS_OP_CONT, big + MAX - 1000, 1000, mask);
    for (size_t chunk = 1; chunk <= 4 * MAX; chunk *= 61) {
        evs_t e;
        decode_all(true, MAX, (uint8_t *)b.data, b.len, chunk, &e);
        LW_CHECK_INT(e.err, 0);
        LW_CHECK_INT(e.n, 2);
        for (int i = 0; i < e.n; i++)
            LW_CHECK_MEM(e.data[i], e.len[i], big, MAX);
        evs_free(&e);
    }
    lw_buf_reset(&b);
    lw_ws_write_frame(&b, true, LW_WS_OP_TEXT, big, 5, mask);
    lw_ws_write_frame(&b, false, LW_WS_OP_TEXT, big, MAX, mask);
    lw_ws_write_frame(&b, true, LW_WS_OP_CONT, big, 1, mask);
    evs_t e;
    decode_all(true, MAX, (uint8_t *)b.data, b.len, 4093, &e);
    LW_CHECK_INT(e.n, 1); /* the small one, then the cap */
    LW_CHECK_INT(e.err, LW_ETOOBIG);
    LW_CHECK_INT(e.close_code, 1009);
    evs_free(&e);
    lw_buf_free(&b);
    free(big);
}

LW_TEST(ws_mask_and_utf8_word_paths)
{
    static const uint8_t key[4] = {0x12, 0xa5, 0x3c, 0xf0};
    uint8_t buf[40], ref[40];
    for (size_t off = 0; off < 4; off++)
        for (size_t n = 0; n <= 33; n++) {
            for (size_t i = 0; i < n; i++)
                buf[i] = ref[i] = (uint8_t)(i * 37 + 11);
            lw_ws_mask(buf, n, key, off);
            for (size_t i = 0; i < n; i++)
                ref[i] ^= key[(off + i) & 3];
            if (memcmp(buf, ref, n) != 0) LW_FAILF("mask differs: off %zu n %zu", off, n);
        }
    /* a bad or non-ASCII byte at every position of a long ASCII run, and sequences that
     * straddle an 8-byte word */
    char s[32];
    for (size_t pos = 0; pos < 24; pos++) {
        memset(s, 'a', sizeof s);
        s[pos] = (char)0xff;
        if (lw_utf8_valid(s, 24)) LW_FAILF("0xff at %zu accepted", pos);
        s[pos] = (char)0xc3;
        if (lw_utf8_valid(s, pos + 1)) LW_FAILF("truncated 2-byte at %zu accepted", pos);
        s[pos + 1] = (char)0xa9;
        if (!lw_utf8_valid(s, 26)) LW_FAILF("U+00E9 at %zu refused", pos);
        memcpy(s + pos, "\xf0\x9f\x94\x8c", 4);
        if (!lw_utf8_valid(s, 28)) LW_FAILF("U+1F50C at %zu refused", pos);
        s[pos + 3] = 'a';
        if (lw_utf8_valid(s, 28)) LW_FAILF("broken 4-byte at %zu accepted", pos);
    }
}

LW_TEST(ws_decoder_idle_has_no_heap)
{
    /* after a split message completes, the next call releases the buffer */
    lw_buf_t b;
    lw_buf_init(&b, 4096);
    lw_ws_write_frame(&b, true, LW_WS_OP_TEXT, "hello world", 11, NULL);
    lw_ws_decoder_t d;
    lw_ws_decoder_init(&d, false, 0);
    size_t used;
    lw_ws_event_t ev;
    LW_CHECK_INT(lw_ws_decode(&d, (uint8_t *)b.data, 5, &used, &ev), 0);
    LW_CHECK_INT(ev.type, LW_WS_EV_NONE);
    LW_CHECK(d.msg.data != NULL);
    LW_CHECK_INT(lw_ws_decode(&d, (uint8_t *)b.data + 5, b.len - 5, &used, &ev), 0);
    LW_CHECK_INT(ev.type, LW_WS_EV_MESSAGE);
    LW_CHECK_MEM(ev.data.p, ev.data.len, "hello world", 11);
    LW_CHECK_INT(lw_ws_decode(&d, (uint8_t *)b.data, 0, &used, &ev), 0);
    LW_CHECK(d.msg.data == NULL);
    LW_CHECK(sizeof d <= 128);
    lw_ws_decoder_free(&d);
    lw_buf_free(&b);
}

int main(void)
{
    LW_RUN(http_request_head);
    LW_RUN(http_tchar_and_line_ends);
    LW_RUN(http_response_head_and_path);
    LW_RUN(ws_accept_key_rfc_example);
    LW_RUN(ws_upgrade_valid_and_protocols);
    LW_RUN(ws_upgrade_invalid);
    LW_RUN(ws_client_request);
    LW_RUN(ws_frames_length_classes);
    LW_RUN(ws_frames_fragmented_and_control);
    LW_RUN(ws_frames_utf8_and_size);
    LW_RUN(ws_max_message_exact_and_kept);
    LW_RUN(ws_mask_and_utf8_word_paths);
    LW_RUN(ws_decoder_idle_has_no_heap);
    return lw_test_done();
}
