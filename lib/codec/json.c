/*
 * json.c — strict one-pass JSON tokenizer for the codec (see json.h for why not jsmn).
 * Recursive descent; recursion depth is bounded by LW_JSON_DEPTH_MAX.
 */
#include "codec/json.h"

#include "ladewerk/base.h"
#include "ladewerk/limits.h"

#include <string.h>

typedef struct parser {
    const unsigned char *s;
    size_t len, pos;
    lw_jtok_t *t;
    size_t max, n;
    int depth;
    lw_json_err_t *err;
} parser_t;

static int fail(parser_t *p, const char *msg)
{
    if (p->err) {
        p->err->pos = p->pos;
        p->err->msg = msg;
    }
    return LW_EPARSE;
}

static void skip_ws(parser_t *p)
{
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

static int new_tok(parser_t *p, lw_jtype_t type, size_t *idx)
{
    if (p->n >= p->max) return LW_ETOOBIG;
    lw_jtok_t *t = &p->t[p->n];
    t->type = (uint8_t)type;
    t->flags = 0;
    t->start = (uint32_t)p->pos;
    t->end = 0;
    t->size = 0;
    *idx = p->n++;
    return 0;
}

static int hex4(const unsigned char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = s[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

/* At the opening quote. Validates escapes and UTF-8 and counts code points. */
static int string(parser_t *p)
{
    size_t idx;
    int rc = new_tok(p, LW_JT_STRING, &idx);
    if (rc) return rc;
    p->pos++;
    p->t[idx].start = (uint32_t)p->pos;
    uint32_t cps = 0;
    uint8_t flags = 0;
    const unsigned char *s = p->s;
    size_t len = p->len;
    for (;;) {
        size_t i = p->pos;
        /* fast path: plain ASCII */
        while (i < len && s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' && s[i] != '\\')
            i++;
        cps += (uint32_t)(i - p->pos);
        p->pos = i;
        if (i >= len) return fail(p, "unterminated string");
        unsigned char c = s[i];
        if (c == '"') break;
        if (c < 0x20) return fail(p, "control character in string");
        if (c == '\\') {
            flags |= LW_JF_ESCAPED;
            if (i + 1 >= len) return fail(p, "unterminated string");
            unsigned char e = s[i + 1];
            if (e == 'u') {
                unsigned u;
                if (i + 6 > len || hex4(s + i + 2, &u)) return fail(p, "bad \\u escape");
                if (u >= 0xDC00 && u <= 0xDFFF) return fail(p, "lone low surrogate escape");
                if (u >= 0xD800 && u <= 0xDBFF) {
                    unsigned lo;
                    if (i + 12 > len || s[i + 6] != '\\' || s[i + 7] != 'u' ||
                        hex4(s + i + 8, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                        return fail(p, "lone high surrogate escape");
                    p->pos = i + 12;
                } else {
                    p->pos = i + 6;
                }
            } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                       e == 'r' || e == 't') {
                p->pos = i + 2;
            } else {
                return fail(p, "bad escape in string");
            }
            cps++;
            continue;
        }
        /* UTF-8 sequence (RFC 3629): no overlongs, no surrogates, at most U+10FFFF */
        size_t need;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF)
            need = 1;
        else if (c == 0xE0)
            need = 2, lo = 0xA0;
        else if (c >= 0xE1 && c <= 0xEC)
            need = 2;
        else if (c == 0xED)
            need = 2, hi = 0x9F;
        else if (c >= 0xEE && c <= 0xEF)
            need = 2;
        else if (c == 0xF0)
            need = 3, lo = 0x90;
        else if (c >= 0xF1 && c <= 0xF3)
            need = 3;
        else if (c == 0xF4)
            need = 3, hi = 0x8F;
        else
            return fail(p, "invalid UTF-8");
        if (i + need >= len) return fail(p, "invalid UTF-8");
        if (s[i + 1] < lo || s[i + 1] > hi) return fail(p, "invalid UTF-8");
        for (size_t k = 2; k <= need; k++)
            if ((s[i + k] & 0xC0) != 0x80) return fail(p, "invalid UTF-8");
        p->pos = i + need + 1;
        cps++;
    }
    p->t[idx].end = (uint32_t)p->pos;
    p->t[idx].size = cps;
    p->t[idx].flags = flags;
    p->t[idx].next = (uint32_t)p->n;
    p->pos++; /* closing quote */
    return 0;
}

static int isdig(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int number(parser_t *p)
{
    size_t idx;
    int rc = new_tok(p, LW_JT_NUMBER, &idx);
    if (rc) return rc;
    const unsigned char *s = p->s;
    size_t i = p->pos, len = p->len;
    if (i < len && s[i] == '-') i++;
    if (i >= len || !isdig(s[i])) return p->pos = i, fail(p, "bad number");
    if (s[i] == '0') {
        i++;
        if (i < len && isdig(s[i])) return p->pos = i, fail(p, "leading zero in number");
    } else {
        while (i < len && isdig(s[i]))
            i++;
    }
    if (i < len && s[i] == '.') {
        i++;
        if (i >= len || !isdig(s[i])) return p->pos = i, fail(p, "bad fraction in number");
        while (i < len && isdig(s[i]))
            i++;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= len || !isdig(s[i])) return p->pos = i, fail(p, "bad exponent in number");
        while (i < len && isdig(s[i]))
            i++;
    }
    p->pos = i;
    p->t[idx].end = (uint32_t)i;
    p->t[idx].next = (uint32_t)p->n;
    return 0;
}

static int literal(parser_t *p, const char *word, size_t n, lw_jtype_t type)
{
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return fail(p, "invalid literal");
    size_t idx;
    int rc = new_tok(p, type, &idx);
    if (rc) return rc;
    p->pos += n;
    p->t[idx].end = (uint32_t)p->pos;
    p->t[idx].next = (uint32_t)p->n;
    return 0;
}

static int value(parser_t *p);

static int container(parser_t *p, int is_obj)
{
    if (++p->depth > LW_JSON_DEPTH_MAX) return fail(p, "nesting too deep");
    size_t idx;
    int rc = new_tok(p, is_obj ? LW_JT_OBJECT : LW_JT_ARRAY, &idx);
    if (rc) return rc;
    char close = is_obj ? '}' : ']';
    p->pos++;
    skip_ws(p);
    uint32_t count = 0;
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
    } else {
        for (;;) {
            if (is_obj) {
                if (p->pos >= p->len || p->s[p->pos] != '"')
                    return fail(p, "expected a key string");
                if ((rc = string(p))) return rc;
                skip_ws(p);
                if (p->pos >= p->len || p->s[p->pos] != ':') return fail(p, "expected ':'");
                p->pos++;
                skip_ws(p);
            }
            if ((rc = value(p))) return rc;
            count++;
            skip_ws(p);
            if (p->pos >= p->len)
                return fail(p, is_obj ? "unterminated object" : "unterminated array");
            unsigned char c = p->s[p->pos];
            if (c == ',') {
                p->pos++;
                skip_ws(p);
                continue;
            }
            if (c == (unsigned char)close) {
                p->pos++;
                break;
            }
            return fail(p, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
        }
    }
    p->t[idx].end = (uint32_t)p->pos;
    p->t[idx].size = count;
    p->t[idx].next = (uint32_t)p->n;
    p->depth--;
    return 0;
}

static int value(parser_t *p)
{
    if (p->pos >= p->len) return fail(p, "unexpected end of input");
    unsigned char c = p->s[p->pos];
    switch (c) {
    case '{':
        return container(p, 1);
    case '[':
        return container(p, 0);
    case '"':
        return string(p);
    case 't':
        return literal(p, "true", 4, LW_JT_TRUE);
    case 'f':
        return literal(p, "false", 5, LW_JT_FALSE);
    case 'n':
        return literal(p, "null", 4, LW_JT_NULL);
    default:
        if (c == '-' || isdig(c)) return number(p);
        return fail(p, "unexpected character");
    }
}

int lw_json_tokenize(const char *s, size_t len, lw_jtok_t *toks, size_t max, size_t *ntok,
                     lw_json_err_t *err)
{
    if (len >= UINT32_MAX) return LW_ETOOBIG;
    parser_t p = {(const unsigned char *)s, len, 0, toks, max, 0, 0, err};
    skip_ws(&p);
    int rc = value(&p);
    if (rc) return rc;
    skip_ws(&p);
    if (p.pos != len) return fail(&p, "trailing bytes after the JSON value");
    *ntok = p.n;
    return 0;
}

static size_t put_utf8(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t lw_json_unescape(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] != '\\') {
            out[o++] = s[i++];
            continue;
        }
        char e = s[i + 1];
        i += 2;
        switch (e) {
        case 'b':
            out[o++] = '\b';
            break;
        case 'f':
            out[o++] = '\f';
            break;
        case 'n':
            out[o++] = '\n';
            break;
        case 'r':
            out[o++] = '\r';
            break;
        case 't':
            out[o++] = '\t';
            break;
        case 'u': {
            unsigned u = 0, lo = 0;
            hex4((const unsigned char *)s + i, &u);
            i += 4;
            if (u >= 0xD800 && u <= 0xDBFF) {
                hex4((const unsigned char *)s + i + 2, &lo);
                i += 6;
                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
            }
            o += put_utf8(out + o, u);
            break;
        }
        default:
            out[o++] = e;
            break; /* " \ / */
        }
    }
    return o;
}
