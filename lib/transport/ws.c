/*
 * ws.c — RFC 6455 WebSocket: the opening handshake on both sides (§4) and the frame
 * decoder/encoder (§5), plus UTF-8 validation for text messages (§8.1). Pure functions and
 * a byte-fed state machine; fuzzed by tests/fuzz/fuzz_ws_frame.c. SHA-1 and base64 come
 * from OpenSSL.
 */
#include "ladewerk/ws.h"

#include <pthread.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

/* ---- handshake ---------------------------------------------------------------------------- */

static const char WS_GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"; /* RFC 6455 §1.3 */

static bool is_b64(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

/* RFC 6455 §4.1: the key is base64 of 16 bytes: 22 characters and "==". */
static bool key_ok(lw_str_t k)
{
    if (k.len != 24 || k.p[22] != '=' || k.p[23] != '=') return false;
    for (size_t i = 0; i < 22; i++)
        if (!is_b64(k.p[i])) return false;
    return true;
}

static bool is_token(lw_str_t s)
{
    if (s.len == 0) return false;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (c <= 0x20 || c >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", c)) return false;
    }
    return true;
}

bool lw_ws_is_upgrade(const lw_http_head_t *req)
{
    return lw_http_head_has_token(req, "Upgrade", "websocket");
}

int lw_ws_upgrade_parse(const lw_http_head_t *req, lw_ws_upgrade_t *out, int *status)
{
    memset(out, 0, sizeof *out);
    *status = 400;
    /* RFC 6455 §4.2.1 items 1-6 */
    if (!lw_str_eq_c(req->method, "GET")) {
        *status = 405;
        return LW_EPROTO;
    }
    if (req->version_minor < 1) return LW_EPROTO;
    if (!lw_http_head_get(req, "Host").p) return LW_EPROTO;
    if (!lw_ws_is_upgrade(req)) return LW_EPROTO;
    if (!lw_http_head_has_token(req, "Connection", "upgrade")) return LW_EPROTO;
    lw_str_t ver = lw_http_head_get(req, "Sec-WebSocket-Version");
    if (!lw_str_eq_c(ver, "13")) {
        *status = 426; /* §4.4: answer with the versions we speak */
        return LW_EPROTO;
    }
    size_t nkeys = 0;
    for (size_t i = 0; i < req->nheaders; i++) {
        const lw_http_header_t *h = &req->headers[i];
        if (lw_str_case_eq_c(h->name, "Sec-WebSocket-Key")) {
            out->key = h->value;
            nkeys++;
        } else if (lw_str_case_eq_c(h->name, "Sec-WebSocket-Protocol")) {
            const char *p = h->value.p, *end = p + h->value.len;
            while (p < end) {
                const char *c = memchr(p, ',', (size_t)(end - p));
                const char *e = c ? c : end, *s = p;
                while (s < e && (*s == ' ' || *s == '\t'))
                    s++;
                while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
                    e--;
                lw_str_t tok = {s, (size_t)(e - s)};
                if (!is_token(tok)) return LW_EPROTO;
                if (out->nprotocols == LW_WS_PROTOCOLS_MAX) return LW_EPROTO;
                out->protocols[out->nprotocols++] = tok;
                p = c ? c + 1 : end;
            }
        }
    }
    if (nkeys != 1 || !key_ok(out->key)) return LW_EPROTO;
    out->target = req->target;
    out->authorization = lw_http_head_get(req, "Authorization");
    out->origin = lw_http_head_get(req, "Origin");
    *status = 101;
    return 0;
}

/* SHA-1 fetched once: EVP_sha1() makes OpenSSL 3 look the algorithm up in its provider store
 * at every digest, a quarter of the cost of an accept value. */
static const EVP_MD *sha1_md;
static pthread_once_t sha1_once = PTHREAD_ONCE_INIT;
static void sha1_fetch(void)
{
    sha1_md = EVP_MD_fetch(NULL, "SHA1", NULL);
}

void lw_ws_accept_key(lw_str_t key, char out[29])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    pthread_once(&sha1_once, sha1_fetch);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || !EVP_DigestInit_ex(ctx, sha1_md ? sha1_md : EVP_sha1(), NULL) ||
        !EVP_DigestUpdate(ctx, key.p, key.len) ||
        !EVP_DigestUpdate(ctx, WS_GUID, sizeof WS_GUID - 1) ||
        !EVP_DigestFinal_ex(ctx, md, &mdlen) || mdlen != 20) {
        /* Only on allocation failure inside OpenSSL: an accept value that never matches. */
        memset(out, '-', 28);
        out[28] = 0;
        EVP_MD_CTX_free(ctx);
        return;
    }
    EVP_MD_CTX_free(ctx);
    EVP_EncodeBlock((unsigned char *)out, md, 20); /* 28 chars + NUL */
}

int lw_ws_write_accept(lw_buf_t *out, lw_str_t key, lw_str_t protocol, const char *extra_headers)
{
    /* Appended, not printed: one answer per upgrade, on the loop thread in a boot storm. */
    static const char head[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                               "Connection: Upgrade\r\nSec-WebSocket-Accept: ";
    static const char proto[] = "\r\nSec-WebSocket-Protocol: ";
    char acc[29];
    lw_ws_accept_key(key, acc);
    size_t extra = extra_headers ? strlen(extra_headers) : 0;
    int rc = lw_buf_reserve(out, sizeof head + 28 + sizeof proto + protocol.len + extra + 4);
    if (!rc) rc = lw_buf_append(out, head, sizeof head - 1);
    if (!rc) rc = lw_buf_append(out, acc, 28);
    if (!rc && protocol.len) rc = lw_buf_append(out, proto, sizeof proto - 1);
    if (!rc && protocol.len) rc = lw_buf_append_str(out, protocol);
    if (!rc) rc = lw_buf_append(out, "\r\n", 2);
    if (!rc && extra) rc = lw_buf_append(out, extra_headers, extra);
    if (!rc) rc = lw_buf_append(out, "\r\n", 2);
    return rc;
}

int lw_ws_write_reject(lw_buf_t *out, int status, const char *extra_headers, const char *reason)
{
    return lw_buf_printf(
        out,
        "HTTP/1.1 %d %s\r\n%s%sContent-Type: text/plain\r\n"
        "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
        status, lw_http_reason(status), status == 426 ? "Sec-WebSocket-Version: 13\r\n" : "",
        extra_headers ? extra_headers : "", reason ? strlen(reason) : 0, reason ? reason : "");
}

int lw_ws_client_key(char key[25])
{
    unsigned char raw[16];
    if (RAND_bytes(raw, sizeof raw) != 1) return LW_EIO;
    EVP_EncodeBlock((unsigned char *)key, raw, 16);
    return 0;
}

int lw_ws_write_upgrade(lw_buf_t *out, const char *host, const char *target, const char *key,
                        const char *const *protocols, size_t nprotocols, const char *authorization)
{
    int rc = lw_buf_printf(out,
                           "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                           "Sec-WebSocket-Version: 13\r\n",
                           target, host, key);
    for (size_t i = 0; !rc && i < nprotocols; i++)
        rc = lw_buf_printf(out, "%s%s", i ? ", " : "Sec-WebSocket-Protocol: ", protocols[i]);
    if (!rc && nprotocols) rc = lw_buf_append_c(out, "\r\n");
    if (!rc && authorization) rc = lw_buf_printf(out, "Authorization: %s\r\n", authorization);
    if (!rc) rc = lw_buf_append_c(out, "\r\n");
    return rc;
}

int lw_ws_check_accept(const lw_http_head_t *resp, const char *key, const char *const *protocols,
                       size_t nprotocols, lw_str_t *chosen)
{
    *chosen = (lw_str_t){"", 0};
    if (resp->status == 401 || resp->status == 403) return LW_EAUTH;
    if (resp->status != 101) return LW_EPROTO;
    if (!lw_http_head_has_token(resp, "Upgrade", "websocket") ||
        !lw_http_head_has_token(resp, "Connection", "upgrade"))
        return LW_EPROTO;
    char want[29];
    lw_ws_accept_key(lw_str_c(key), want);
    if (!lw_str_eq_c(lw_http_head_get(resp, "Sec-WebSocket-Accept"), want)) return LW_EPROTO;
    lw_str_t proto = lw_http_head_get(resp, "Sec-WebSocket-Protocol");
    if (proto.p) {
        /* §4.1: the server's choice must be one of ours; an empty or unknown one fails. */
        bool ok = false;
        for (size_t i = 0; i < nprotocols && !ok; i++)
            ok = lw_str_eq_c(proto, protocols[i]);
        if (!ok) return LW_EPROTO;
        *chosen = proto;
    }
    return 0;
}

/* ---- UTF-8 -------------------------------------------------------------------------------- */

bool lw_utf8_valid(const void *vp, size_t n)
{
    const unsigned char *p = vp, *end = p + n;
    while (p < end) {
        if (end - p >= 8) { /* ASCII runs (all of OCPP's JSON, nearly) eight bytes at a time */
            uint64_t w;
            memcpy(&w, p, 8);
            if (!(w & 0x8080808080808080ull)) {
                p += 8;
                continue;
            }
        }
        unsigned char c = *p;
        if (c < 0x80) {
            p++;
            continue;
        }
        size_t need;
        unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0) lo = 0xA0; /* overlong */
            if (c == 0xED) hi = 0x9F; /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0) lo = 0x90; /* overlong */
            if (c == 0xF4) hi = 0x8F; /* > U+10FFFF */
        } else {
            return false;
        }
        if ((size_t)(end - p) < need + 1) return false;
        if (p[1] < lo || p[1] > hi) return false;
        for (size_t i = 2; i <= need; i++)
            if ((p[i] & 0xC0) != 0x80) return false;
        p += need + 1;
    }
    return true;
}

/* ---- frames ------------------------------------------------------------------------------- */

void lw_ws_decoder_init(lw_ws_decoder_t *d, bool server, size_t max_message)
{
    memset(d, 0, sizeof *d);
    if (max_message == 0) max_message = LW_WS_MESSAGE_MAX_DEFAULT;
    lw_buf_init(&d->msg, max_message); /* msg.max is the reassembled message cap (1009 beyond) */
    lw_buf_init(&d->ctl, LW_WS_CONTROL_MAX);
    d->expect_masked = server;
}

void lw_ws_decoder_free(lw_ws_decoder_t *d)
{
    lw_buf_free(&d->msg);
    lw_buf_free(&d->ctl);
}

static int fail(lw_ws_decoder_t *d, uint16_t code, int err)
{
    d->failed = true;
    d->close_code = code;
    lw_buf_free(&d->msg);
    lw_buf_free(&d->ctl);
    return err;
}

static bool is_control(uint8_t op)
{
    return op >= 8;
}

/* RFC 6455 §7.4: codes a peer may send. */
static bool close_code_ok(uint16_t c)
{
    if (c >= 3000 && c <= 4999) return true;
    return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1011);
}

/* Header complete in d->hdr: validate and enter the payload state. */
static int take_header(lw_ws_decoder_t *d)
{
    uint8_t b0 = d->hdr[0], b1 = d->hdr[1];
    uint64_t n = b1 & 0x7f;
    size_t off = 2;
    if (n == 126) {
        n = ((uint64_t)d->hdr[2] << 8) | d->hdr[3];
        off = 4;
    } else if (n == 127) {
        n = 0;
        for (int i = 0; i < 8; i++)
            n = (n << 8) | d->hdr[2 + i];
        off = 10;
        if (n >> 63) return fail(d, LW_WS_CLOSE_PROTOCOL, LW_EPROTO); /* §5.2: MSB 0 */
    }
    d->fin = b0 & 0x80;
    d->opcode = b0 & 0x0f;
    d->masked = b1 & 0x80;
    if (b0 & 0x70) return fail(d, LW_WS_CLOSE_PROTOCOL, LW_EPROTO); /* RSV without extension */
    if (d->masked != d->expect_masked)                              /* §5.1 */
        return fail(d, LW_WS_CLOSE_PROTOCOL, LW_EPROTO);
    if (d->masked) memcpy(d->mask, d->hdr + off, 4);
    switch (d->opcode) {
    case LW_WS_OP_CONT:
        if (!d->msg_opcode) return fail(d, LW_WS_CLOSE_PROTOCOL, LW_EPROTO);
        break;
    case LW_WS_OP_TEXT:
    case LW_WS_OP_BINARY:
        if (d->msg_opcode) return fail(d, LW_WS_CLOSE_PROTOCOL, LW_EPROTO); /* §5.4 */
        break;
    case LW_WS_OP_CLOSE:
    case LW_WS_OP_PING:
    case LW_WS_OP_PONG:
        if (!d->fin || n > LW_WS_CONTROL_MAX) /* §5.5 */
            return fail(d, LW_WS_CLOSE_PROTOCOL, LW_EPROTO);
        break;
    default:
        return fail(d, LW_WS_CLOSE_PROTOCOL, LW_EPROTO); /* reserved opcodes */
    }
    if (!is_control(d->opcode)) {
        if (n > d->msg.max || d->msg.len > d->msg.max - n)
            return fail(d, LW_WS_CLOSE_TOO_BIG, LW_ETOOBIG);
        if (!d->fin && d->opcode != LW_WS_OP_CONT) d->msg_opcode = d->opcode;
    }
    d->remaining = n;
    d->mask_off = 0;
    d->in_payload = true;
    return 0;
}

static size_t header_need(const uint8_t *h, size_t have)
{
    if (have < 2) return 2;
    size_t n = 2 + ((h[1] & 0x80) ? 4 : 0);
    uint8_t l = h[1] & 0x7f;
    return n + (l == 126 ? 2 : l == 127 ? 8 : 0);
}

/* A complete frame whose payload is p[0..n): turn it into an event. */
static int frame_done(lw_ws_decoder_t *d, const uint8_t *p, size_t n, lw_ws_event_t *ev)
{
    if (!p) p = (const uint8_t *)""; /* an empty buffer that never allocated */
    d->in_payload = false;
    d->hdr_len = 0;
    switch (d->opcode) {
    case LW_WS_OP_PING:
    case LW_WS_OP_PONG:
        ev->type = d->opcode == LW_WS_OP_PING ? LW_WS_EV_PING : LW_WS_EV_PONG;
        ev->data = (lw_str_t){(const char *)p, n};
        return 0;
    case LW_WS_OP_CLOSE:
        if (n == 1) return fail(d, LW_WS_CLOSE_PROTOCOL, LW_EPROTO);
        ev->type = LW_WS_EV_CLOSE;
        ev->code = LW_WS_CLOSE_NO_STATUS;
        ev->data = (lw_str_t){"", 0};
        if (n >= 2) {
            ev->code = (uint16_t)((p[0] << 8) | p[1]);
            if (!close_code_ok(ev->code)) return fail(d, LW_WS_CLOSE_PROTOCOL, LW_EPROTO);
            if (!lw_utf8_valid(p + 2, n - 2)) return fail(d, LW_WS_CLOSE_BAD_DATA, LW_EPARSE);
            ev->data = (lw_str_t){(const char *)p + 2, n - 2};
        }
        return 0;
    default:
        break;
    }
    if (!d->fin) return 0; /* a fragment: wait for the rest (data is in d->msg) */
    uint8_t op = d->opcode == LW_WS_OP_CONT ? d->msg_opcode : d->opcode;
    d->msg_opcode = 0;
    if (op == LW_WS_OP_TEXT && !lw_utf8_valid(p, n))
        return fail(d, LW_WS_CLOSE_BAD_DATA, LW_EPARSE);
    ev->type = LW_WS_EV_MESSAGE;
    ev->binary = op == LW_WS_OP_BINARY;
    ev->data = (lw_str_t){n ? (const char *)p : "", n};
    return 0;
}

int lw_ws_decode(lw_ws_decoder_t *d, uint8_t *in, size_t len, size_t *consumed, lw_ws_event_t *ev)
{
    memset(ev, 0, sizeof *ev);
    *consumed = 0;
    if (d->failed) return LW_EPROTO;
    /* Buffers that held the previous event are released now, so an idle connection owns
     * no heap. */
    if (!d->msg_opcode && !(d->in_payload && !is_control(d->opcode))) lw_buf_free(&d->msg);
    if (!(d->in_payload && is_control(d->opcode))) lw_buf_free(&d->ctl);
    size_t pos = 0;
    while (pos < len || (d->in_payload && d->remaining == 0)) {
        if (!d->in_payload) {
            if (d->hdr_len == 0 && len - pos >= 2) { /* whole header at hand: one copy */
                size_t hn = header_need(in + pos, 2);
                if (len - pos >= hn) {
                    memcpy(d->hdr, in + pos, hn);
                    d->hdr_len = (uint8_t)hn;
                    pos += hn;
                }
            }
            size_t need = header_need(d->hdr, d->hdr_len);
            while (d->hdr_len < need && pos < len) {
                d->hdr[d->hdr_len++] = in[pos++];
                need = header_need(d->hdr, d->hdr_len);
            }
            if (d->hdr_len < need) break;
            int rc = take_header(d);
            if (rc) {
                *consumed = pos;
                return rc;
            }
            continue;
        }
        bool ctl = is_control(d->opcode);
        lw_buf_t *b = ctl ? &d->ctl : &d->msg;
        size_t avail = len - pos;
        if (avail > d->remaining) avail = (size_t)d->remaining;
        uint8_t *p = in + pos;
        if (d->masked) lw_ws_mask(p, avail, d->mask, d->mask_off);
        d->mask_off = (uint32_t)((d->mask_off + avail) & 3);
        pos += avail;
        d->remaining -= avail;
        if (d->remaining == 0 && b->len == 0 && (ctl || (d->fin && !d->msg_opcode))) {
            /* fast path: the whole message is in this input: no copy */
            int rc = frame_done(d, p, avail, ev);
            *consumed = pos;
            return rc;
        }
        int rc = lw_buf_append(b, p, avail);
        if (rc) {
            *consumed = pos;
            return fail(d, ctl ? LW_WS_CLOSE_PROTOCOL : LW_WS_CLOSE_TOO_BIG,
                        rc == LW_ENOMEM ? LW_ENOMEM : LW_ETOOBIG);
        }
        if (d->remaining == 0) {
            if (!ctl && !d->fin) {
                d->in_payload = false;
                d->hdr_len = 0;
                continue;
            }
            rc = frame_done(d, (const uint8_t *)b->data, b->len, ev);
            *consumed = pos;
            return rc;
        }
    }
    *consumed = pos;
    return 0;
}

size_t lw_ws_frame_header(uint8_t hdr[14], bool fin, int opcode, uint64_t payload_len,
                          const uint8_t *mask)
{
    size_t n = 2;
    hdr[0] = (uint8_t)((fin ? 0x80 : 0) | (opcode & 0x0f));
    uint8_t m = mask ? 0x80 : 0;
    if (payload_len < 126) {
        hdr[1] = m | (uint8_t)payload_len;
    } else if (payload_len <= 0xffff) {
        hdr[1] = m | 126;
        hdr[2] = (uint8_t)(payload_len >> 8);
        hdr[3] = (uint8_t)payload_len;
        n = 4;
    } else {
        hdr[1] = m | 127;
        for (int i = 0; i < 8; i++)
            hdr[2 + i] = (uint8_t)(payload_len >> (56 - 8 * i));
        n = 10;
    }
    if (mask) {
        memcpy(hdr + n, mask, 4);
        n += 4;
    }
    return n;
}

void lw_ws_mask(uint8_t *p, size_t n, const uint8_t mask[4], size_t off)
{
    /* eight bytes at a time with the key rotated to this offset (every message in and, on
     * the client, every message out passes here) */
    uint8_t k8[8];
    for (size_t j = 0; j < 8; j++)
        k8[j] = mask[(off + j) & 3];
    uint64_t k;
    memcpy(&k, k8, 8);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        w ^= k;
        memcpy(p + i, &w, 8);
    }
    for (; i < n; i++)
        p[i] ^= mask[(off + i) & 3];
}

int lw_ws_write_frame(lw_buf_t *out, bool fin, int opcode, const void *p, size_t n,
                      const uint8_t *mask)
{
    if (opcode >= 8 && (n > LW_WS_CONTROL_MAX || !fin)) return LW_EINVAL;
    uint8_t hdr[14];
    size_t hl = lw_ws_frame_header(hdr, fin, opcode, n, mask);
    int rc = lw_buf_reserve(out, hl + n);
    if (rc) return rc;
    memcpy(out->data + out->len, hdr, hl);
    if (n) memcpy(out->data + out->len + hl, p, n);
    if (mask) lw_ws_mask((uint8_t *)out->data + out->len + hl, n, mask, 0);
    out->len += hl + n;
    return 0;
}

size_t lw_ws_close_payload(uint8_t out[LW_WS_CONTROL_MAX], uint16_t code, const char *reason)
{
    if (code == 0) return 0;
    out[0] = (uint8_t)(code >> 8);
    out[1] = (uint8_t)code;
    size_t n = reason ? strlen(reason) : 0;
    if (n > LW_WS_CONTROL_MAX - 2) {
        n = LW_WS_CONTROL_MAX - 2;
        /* back up to a UTF-8 boundary so the truncated reason stays valid */
        while (n > 0 && ((unsigned char)reason[n] & 0xC0) == 0x80)
            n--;
    }
    if (n) memcpy(out + 2, reason, n);
    return 2 + n;
}
