/*
 * frame.c — the OCPP-J frame parser (ladewerk/rpc.h): a small hand-written scanner over
 * (bytes, length). It reads the frame array's fixed elements (type, id, action or error
 * fields) and only delimits the payload / errorDetails value (string and escape aware,
 * bracket matching with an explicit bounded stack); the codec validates the payload fully.
 *
 * When a frame is malformed the parse error says what the receiver must do. The rules:
 *
 *  - Which code. OCPP 2.0.1 Part 4 §4.2.3 (and 2.1 Part 4) define RpcFrameworkError as
 *    "Content of the call is not a valid RPC Request, for example: MessageId could not be
 *    read", MessageTypeNotSupported as "A message with a Message Type Number received that
 *    is not supported by this implementation" and FormatViolation as "Payload for Action is
 *    syntactically incorrect". So: anything wrong with the frame itself (not an array, type
 *    not a number, id unreadable or too long, element count, action not a string, bad JSON
 *    between the elements, trailing data) is RPC_FRAMEWORK; an unknown type number is
 *    MESSAGE_TYPE_NOT_SUPPORTED; a payload that is not an object, is not well formed or nests
 *    deeper than LW_RPC_DEPTH_MAX is FORMAT. An action longer than LW_ACTION_MAX can name no
 *    action: NOT_IMPLEMENTED ("Requested Action is not known by receiver").
 *    OCPP-J 1.6 §4.2.3 has neither RpcFrameworkError nor MessageTypeNotSupported; ocpp.h
 *    spells RPC_FRAMEWORK as FormationViolation ("Payload for Action is syntactically
 *    incorrect or not conform the PDU structure for Action") and MESSAGE_TYPE_NOT_SUPPORTED
 *    as ProtocolError there. TypeConstraintViolation is defined on payload fields ("at least
 *    one of the fields violates data type constraints"), so it is the codec's, never ours.
 *  - Whom to answer, and with which id. A CALLERROR answers a CALL (OCPP-J 1.6 §4.2.3,
 *    2.0.1 Part 4 §4.2.3): a malformed CALLRESULT or CALLERROR is never answered, only
 *    dropped and counted (answering could make two peers bounce errors forever). 2.1 Part 4
 *    adds CALLRESULTERROR, which a receiver MAY send for a CALLRESULT it cannot process: we
 *    propose it for a CALLRESULT whose id we could read. A SEND is never answered (2.1 Part 4:
 *    unconfirmed). A frame whose type is unknown or unreadable is answered (2.0.1 Part 4 §4.4
 *    extension fallback: MessageTypeNotSupported), since it may be a request. The id is the
 *    frame's id when it was read, else "-1" (2.0.1 Part 4 §4.2.3: messageId "-1" when the
 *    id could not be read); we use "-1" for 1.6 too, which has no rule of its own.
 *  - Ids: strings of 1..LW_MSGID_MAX raw bytes (OCPP-J 1.6 §4.1.1, 2.0.1 Part 4 §4.1.3:
 *    "maximum of 36 characters"). A longer or empty id counts as unreadable.
 *
 * Text frames are valid UTF-8 by the time they get here (RFC 6455 §8.1, checked by the
 * transport); the scanner only checks the JSON string rules (no raw control characters,
 * well-formed escapes).
 */
#include "ladewerk/rpc.h"
#include "rpc/rpc_int.h"

#include <string.h>

const char *lw_rpc_type_name(int type)
{
    switch (type) {
    case LW_RPC_CALL:
        return "CALL";
    case LW_RPC_CALLRESULT:
        return "CALLRESULT";
    case LW_RPC_CALLERROR:
        return "CALLERROR";
    case LW_RPC_CALLRESULTERROR:
        return "CALLRESULTERROR";
    case LW_RPC_SEND:
        return "SEND";
    default:
        return "?";
    }
}

/* ---- scanner primitives -------------------------------------------------------------------- */
typedef struct parser {
    const char *b;
    size_t n, i;
    lw_ocpp_version_t v;
    int type;         /* message type number read, 0 if none */
    bool unsupported; /* type number read but not valid for v */
    lw_str_t id;      /* p == NULL until read */
    lw_rpc_parse_error_t *err;
} parser_t;

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_ws(parser_t *p)
{
    while (p->i < p->n && is_ws(p->b[p->i]))
        p->i++;
}

static int peek(const parser_t *p)
{
    return p->i < p->n ? (unsigned char)p->b[p->i] : -1;
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Checks the escape at s[i] == '\\'; returns its length, or 0 when malformed or cut. */
static size_t escape_len(const char *s, size_t n, size_t i)
{
    if (i + 1 >= n) return 0;
    switch (s[i + 1]) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
        return 2;
    case 'u':
        if (n - i < 6) return 0;
        for (size_t k = 2; k < 6; k++)
            if (!is_hex(s[i + k])) return 0;
        return 6;
    default:
        return 0;
    }
}

/* At b[i] == '"': scans the string, sets *raw to its content and i past the closing quote.
 * Returns false on a raw control character, a bad escape or a missing end quote. */
static bool scan_string(parser_t *p, lw_str_t *raw)
{
    size_t start = ++p->i;
    while (p->i < p->n) {
        unsigned char c = (unsigned char)p->b[p->i];
        if (c == '"') {
            if (raw) *raw = (lw_str_t){p->b + start, p->i - start};
            p->i++;
            return true;
        }
        if (c < 0x20) return false;
        if (c == '\\') {
            size_t e = escape_len(p->b, p->n, p->i);
            if (!e) return false;
            p->i += e;
        } else {
            p->i++;
        }
    }
    return false;
}

typedef enum { SCAN_OK, SCAN_BAD, SCAN_DEEP } scan_rc_t;

/* At b[i] == '{' or '[': finds the matching close bracket with an explicit stack of at most
 * LW_RPC_DEPTH_MAX levels (no recursion), skipping strings. Everything between brackets
 * that is not a string or bracket is left to the codec's full validation. */
static scan_rc_t scan_container(parser_t *p)
{
    char stack[LW_RPC_DEPTH_MAX];
    size_t depth = 0;
    while (p->i < p->n) {
        char c = p->b[p->i];
        if (c == '"') {
            if (!scan_string(p, NULL)) return SCAN_BAD;
            continue;
        }
        if (c == '{' || c == '[') {
            if (depth == LW_RPC_DEPTH_MAX) return SCAN_DEEP;
            stack[depth++] = c == '{' ? '}' : ']';
        } else if (c == '}' || c == ']') {
            if (depth == 0 || stack[depth - 1] != c) return SCAN_BAD;
            if (--depth == 0) {
                p->i++;
                return SCAN_OK;
            }
        } else if ((unsigned char)c < 0x20 && !is_ws(c)) {
            return SCAN_BAD;
        }
        p->i++;
    }
    return SCAN_BAD; /* cut short */
}

/* ---- errors -------------------------------------------------------------------------------- */
static lw_rpc_reply_t reply_for(const parser_t *p)
{
    if (p->type == 0 || p->unsupported) return LW_RPC_REPLY_CALLERROR; /* may be a request */
    switch (p->type) {
    case LW_RPC_CALL:
        return LW_RPC_REPLY_CALLERROR;
    case LW_RPC_CALLRESULT:
        /* OCPP 2.1 Part 4: a CALLRESULT that cannot be processed MAY get a CALLRESULTERROR;
         * without an id there is nothing to refer to. Earlier versions: never answered. */
        return p->v == LW_OCPP_21 && p->id.p ? LW_RPC_REPLY_CALLRESULTERROR : LW_RPC_REPLY_NONE;
    default: /* CALLERROR, CALLRESULTERROR, SEND: never answered */
        return LW_RPC_REPLY_NONE;
    }
}

static int fail(parser_t *p, lw_ocpp_err_t code, const char *reason)
{
    if (p->err) {
        lw_rpc_parse_error_t *e = p->err;
        e->code = p->unsupported ? LW_OCPP_ERR_MESSAGE_TYPE_NOT_SUPPORTED : code;
        e->reason = p->unsupported ? "message type not supported" : reason;
        e->reply = reply_for(p);
        e->reply_id = p->id.p ? p->id : LW_STR("-1");
        e->type = p->type;
        e->offset = p->i;
    }
    return LW_EPARSE;
}

/* Expects ',' before the next element; ']' means the frame has too few elements. */
static bool expect_comma(parser_t *p)
{
    skip_ws(p);
    if (peek(p) == ',') {
        p->i++;
        skip_ws(p);
        return true;
    }
    if (peek(p) == ']')
        fail(p, LW_OCPP_ERR_RPC_FRAMEWORK, "too few elements in the frame");
    else
        fail(p, LW_OCPP_ERR_RPC_FRAMEWORK, "malformed JSON in the frame");
    return false;
}

/* A string element of the frame (action, errorCode, errorDescription). */
static bool string_elem(parser_t *p, lw_str_t *out, const char *what_not_string)
{
    if (!expect_comma(p)) return false;
    if (peek(p) != '"') {
        fail(p, LW_OCPP_ERR_RPC_FRAMEWORK, what_not_string);
        return false;
    }
    if (!scan_string(p, out)) {
        fail(p, LW_OCPP_ERR_RPC_FRAMEWORK, "malformed JSON string in the frame");
        return false;
    }
    return true;
}

/* An object element (payload or errorDetails): its exact text goes to *out. */
static bool object_elem(parser_t *p, lw_str_t *out, const char *name_not_object)
{
    if (!expect_comma(p)) return false;
    if (peek(p) != '{') {
        fail(p, LW_OCPP_ERR_FORMAT, name_not_object);
        return false;
    }
    size_t start = p->i;
    scan_rc_t rc = scan_container(p);
    if (rc == SCAN_DEEP) {
        fail(p, LW_OCPP_ERR_FORMAT, "payload nested too deeply");
        return false;
    }
    if (rc != SCAN_OK) {
        fail(p, LW_OCPP_ERR_FORMAT, "payload is not well-formed JSON");
        return false;
    }
    *out = (lw_str_t){p->b + start, p->i - start};
    return true;
}

/* The message type: a plain non-negative integer (JSON number without fraction or exponent).
 * Any other number is a type we do not support. */
static bool read_type(parser_t *p)
{
    size_t start = p->i;
    while (p->i < p->n && p->b[p->i] && strchr("0123456789+-.eE", p->b[p->i]))
        p->i++;
    size_t len = p->i - start;
    if (len == 0) {
        fail(p, LW_OCPP_ERR_RPC_FRAMEWORK, "message type is not a number");
        return false;
    }
    const char *s = p->b + start;
    bool plain = len <= 9 && !(len > 1 && s[0] == '0');
    int t = 0;
    for (size_t k = 0; plain && k < len; k++) {
        if (s[k] < '0' || s[k] > '9')
            plain = false;
        else
            t = t * 10 + (s[k] - '0');
    }
    if (!plain) {
        p->type = -1; /* a number, but no message type */
        p->unsupported = true;
        return true;
    }
    p->type = t;
    bool ok = t == LW_RPC_CALL || t == LW_RPC_CALLRESULT || t == LW_RPC_CALLERROR ||
              ((t == LW_RPC_CALLRESULTERROR || t == LW_RPC_SEND) && p->v == LW_OCPP_21);
    p->unsupported = !ok;
    return true;
}

int lw_rpc_parse(lw_ocpp_version_t v, const char *buf, size_t len, lw_rpc_frame_t *out,
                 lw_rpc_parse_error_t *err)
{
    parser_t p = {.b = buf, .n = buf ? len : 0, .v = v, .err = err};
    if (!out) return LW_EINVAL;
    memset(out, 0, sizeof *out);
    if (err) memset(err, 0, sizeof *err);

    skip_ws(&p);
    if (peek(&p) != '[') return fail(&p, LW_OCPP_ERR_RPC_FRAMEWORK, "frame is not a JSON array");
    p.i++;
    skip_ws(&p);
    if (!read_type(&p)) return LW_EPARSE;

    /* The id. Failures here keep MessageTypeNotSupported for an unknown type (fail()). */
    if (!expect_comma(&p)) return LW_EPARSE;
    if (peek(&p) != '"') return fail(&p, LW_OCPP_ERR_RPC_FRAMEWORK, "message id is not a string");
    lw_str_t id;
    if (!scan_string(&p, &id))
        return fail(&p, LW_OCPP_ERR_RPC_FRAMEWORK, "malformed JSON string in the frame");
    if (id.len == 0) return fail(&p, LW_OCPP_ERR_RPC_FRAMEWORK, "message id is empty");
    if (id.len > LW_MSGID_MAX)
        return fail(&p, LW_OCPP_ERR_RPC_FRAMEWORK, "message id longer than 36 characters");
    p.id = id;
    if (p.unsupported) return fail(&p, LW_OCPP_ERR_MESSAGE_TYPE_NOT_SUPPORTED, NULL);

    out->type = (lw_rpc_type_t)p.type;
    out->id = id;
    switch (p.type) {
    case LW_RPC_CALL:
    case LW_RPC_SEND:
        if (!string_elem(&p, &out->action, "action is not a string")) return LW_EPARSE;
        if (out->action.len == 0 || out->action.len > LW_ACTION_MAX)
            return fail(&p, LW_OCPP_ERR_NOT_IMPLEMENTED, "unknown action");
        if (!object_elem(&p, &out->payload, "payload is not a JSON object")) return LW_EPARSE;
        break;
    case LW_RPC_CALLRESULT:
        if (!object_elem(&p, &out->payload, "payload is not a JSON object")) return LW_EPARSE;
        break;
    default: /* CALLERROR, CALLRESULTERROR */
        if (!string_elem(&p, &out->error_code, "errorCode is not a string") ||
            !string_elem(&p, &out->error_description, "errorDescription is not a string") ||
            !object_elem(&p, &out->error_details, "errorDetails is not a JSON object"))
            return LW_EPARSE;
        out->error = lw_ocpp_err_parse(out->error_code);
        break;
    }
    skip_ws(&p);
    if (peek(&p) != ']') {
        memset(out, 0, sizeof *out);
        if (peek(&p) == ',') return fail(&p, LW_OCPP_ERR_RPC_FRAMEWORK, "too many elements");
        return fail(&p, LW_OCPP_ERR_RPC_FRAMEWORK, "malformed JSON in the frame");
    }
    p.i++;
    skip_ws(&p);
    if (p.i != p.n) {
        memset(out, 0, sizeof *out);
        return fail(&p, LW_OCPP_ERR_RPC_FRAMEWORK, "data after the end of the frame");
    }
    return 0;
}

/* ---- unescape ------------------------------------------------------------------------------ */
static unsigned hex4(const char *s)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[k];
        v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

static int put_utf8(lw_buf_t *out, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return lw_buf_append(out, u, n);
}

int lw_rpc_unescape(lw_str_t raw, lw_buf_t *out)
{
    size_t start_len = out->len;
    int rc = 0;
    for (size_t i = 0; i < raw.len && !rc;) {
        char c = raw.p[i];
        if (c != '\\') {
            size_t j = i;
            while (j < raw.len && raw.p[j] != '\\')
                j++;
            rc = lw_buf_append(out, raw.p + i, j - i);
            i = j;
            continue;
        }
        size_t e = escape_len(raw.p, raw.len, i);
        if (!e) {
            rc = LW_EPARSE;
            break;
        }
        char k = raw.p[i + 1];
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        if (k != 'u') {
            rc = lw_buf_putc(out, to[strchr(from, k) - from]);
            i += 2;
            continue;
        }
        unsigned cp = hex4(raw.p + i + 2);
        i += 6;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 6 <= raw.len && raw.p[i] == '\\' &&
            raw.p[i + 1] == 'u' && escape_len(raw.p, raw.len, i) == 6) {
            unsigned lo = hex4(raw.p + i + 2);
            if (lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            }
        }
        if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD; /* lone surrogate */
        rc = put_utf8(out, cp);
    }
    if (rc) out->len = start_len;
    return rc;
}

bool lw_rpc_raw_string_ok(lw_str_t s)
{
    for (size_t i = 0; i < s.len;) {
        unsigned char c = (unsigned char)s.p[i];
        if (c < 0x20 || c == '"') return false;
        if (c == '\\') {
            size_t e = escape_len(s.p, s.len, i);
            if (!e) return false;
            i += e;
        } else {
            i++;
        }
    }
    return true;
}
