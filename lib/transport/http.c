/*
 * http.c — a small strict HTTP/1.1 head parser (requests and responses) and response
 * writers. Pure functions over (bytes, length); fuzzed by tests/fuzz/fuzz_http_req.c.
 *
 * Why our own and not Debian's http-parser: upstream http-parser is archived; it is a
 * callback state machine that would make us copy every header into per-connection storage.
 * We only ever need a bounded head (LW_HTTP_HEAD_MAX) that sits in one buffer, so a
 * re-entrant "is it complete yet, then return views" parser is shorter, allocation-free and
 * easier to fuzz. Bodies are Content-Length only (chunked requests are refused with 501).
 */
#include "ladewerk/ws.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* RFC 9110 §5.6.2 tchar, one table lookup per byte of a header name or method. */
static const bool tchar[256] = {
    ['0' ... '9'] = true, ['A' ... 'Z'] = true, ['a' ... 'z'] = true, ['!'] = true,  ['#'] = true,
    ['$'] = true,         ['%'] = true,         ['&'] = true,         ['\''] = true, ['*'] = true,
    ['+'] = true,         ['-'] = true,         ['.'] = true,         ['^'] = true,  ['_'] = true,
    ['`'] = true,         ['|'] = true,         ['~'] = true,
};

static bool is_tchar(unsigned char c)
{
    return tchar[c];
}

/* Finds the end of the head: returns the length including the empty line (CR LF CR LF, or
 * LF LF, or a mix), 0 if not yet. Jumps from line end to line end. */
static size_t head_end(const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len;
    while ((p = memchr(p, '\n', (size_t)(end - p)))) {
        p++; /* just after the LF */
        if (p < end && p[0] == '\n') return (size_t)(p + 1 - buf);
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') return (size_t)(p + 2 - buf);
    }
    return 0;
}

/* Returns the next line (without CR LF) from *p..end, advancing *p. */
static lw_str_t next_line(const char **p, const char *end)
{
    const char *s = *p;
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    if (!nl) nl = end;
    const char *e = nl;
    if (e > s && e[-1] == '\r') e--;
    *p = nl < end ? nl + 1 : end;
    return (lw_str_t){s, (size_t)(e - s)};
}

static int parse_version(const char *p, size_t n, int *minor)
{
    if (n != 8 || memcmp(p, "HTTP/1.", 7) != 0) return LW_EPARSE;
    if (p[7] != '0' && p[7] != '1') return LW_EPARSE;
    *minor = p[7] - '0';
    return 0;
}

static int parse_headers(const char *p, const char *end, lw_http_head_t *out)
{
    out->nheaders = 0;
    for (;;) {
        lw_str_t line = next_line(&p, end);
        if (line.len == 0) return 0;                                 /* the empty line */
        if (line.p[0] == ' ' || line.p[0] == '\t') return LW_EPARSE; /* obs-fold */
        const char *colon = memchr(line.p, ':', line.len);
        if (!colon || colon == line.p) return LW_EPARSE;
        for (const char *q = line.p; q < colon; q++)
            if (!is_tchar((unsigned char)*q)) return LW_EPARSE;
        const char *v = colon + 1, *ve = line.p + line.len;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        for (const char *q = v; q < ve; q++) {
            unsigned char c = (unsigned char)*q;
            if ((c < 0x20 && c != '\t') || c == 0x7f) return LW_EPARSE;
        }
        if (out->nheaders == LW_HTTP_HEADERS_MAX) return LW_ETOOBIG;
        out->headers[out->nheaders].name = (lw_str_t){line.p, (size_t)(colon - line.p)};
        out->headers[out->nheaders].value = (lw_str_t){v, (size_t)(ve - v)};
        out->nheaders++;
    }
}

static int find_head(const char *buf, size_t len, size_t *hl)
{
    size_t scan = len > LW_HTTP_HEAD_MAX ? LW_HTTP_HEAD_MAX : len;
    *hl = head_end(buf, scan);
    if (*hl) return 0;
    return len >= LW_HTTP_HEAD_MAX ? LW_ETOOBIG : LW_EAGAIN;
}

int lw_http_parse_request(const char *buf, size_t len, lw_http_head_t *out)
{
    size_t hl;
    int rc = find_head(buf, len, &hl);
    if (rc) return rc;
    memset(out, 0, offsetof(lw_http_head_t, headers));
    const char *p = buf, *end = buf + hl;
    lw_str_t line = next_line(&p, end);
    /* method SP target SP version */
    const char *sp1 = memchr(line.p, ' ', line.len);
    if (!sp1 || sp1 == line.p) return LW_EPARSE;
    for (const char *q = line.p; q < sp1; q++)
        if (!is_tchar((unsigned char)*q)) return LW_EPARSE;
    const char *t = sp1 + 1, *le = line.p + line.len;
    const char *sp2 = memchr(t, ' ', (size_t)(le - t));
    if (!sp2 || sp2 == t) return LW_EPARSE;
    for (const char *q = t; q < sp2; q++) {
        unsigned char c = (unsigned char)*q;
        if (c <= 0x20 || c >= 0x7f) return LW_EPARSE;
    }
    if (*t != '/' && !(sp2 - t == 1 && *t == '*')) return LW_EPARSE;
    if (parse_version(sp2 + 1, (size_t)(le - sp2 - 1), &out->version_minor)) return LW_EPARSE;
    out->method = (lw_str_t){line.p, (size_t)(sp1 - line.p)};
    out->target = (lw_str_t){t, (size_t)(sp2 - t)};
    rc = parse_headers(p, end, out);
    return rc ? rc : (int)hl;
}

int lw_http_parse_response(const char *buf, size_t len, lw_http_head_t *out)
{
    size_t hl;
    int rc = find_head(buf, len, &hl);
    if (rc) return rc;
    memset(out, 0, offsetof(lw_http_head_t, headers));
    const char *p = buf, *end = buf + hl;
    lw_str_t line = next_line(&p, end);
    /* version SP 3DIGIT SP reason */
    if (line.len < 12 || line.p[8] != ' ') return LW_EPARSE;
    if (parse_version(line.p, 8, &out->version_minor)) return LW_EPARSE;
    const char *s = line.p + 9;
    for (int i = 0; i < 3; i++)
        if (s[i] < '0' || s[i] > '9') return LW_EPARSE;
    out->status = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
    if (out->status < 100) return LW_EPARSE;
    if (line.len > 12) {
        if (line.p[12] != ' ') return LW_EPARSE;
        out->reason = (lw_str_t){line.p + 13, line.len - 13};
    }
    rc = parse_headers(p, end, out);
    return rc ? rc : (int)hl;
}

lw_str_t lw_http_head_get(const lw_http_head_t *h, const char *name)
{
    for (size_t i = 0; i < h->nheaders; i++)
        if (lw_str_case_eq_c(h->headers[i].name, name)) return h->headers[i].value;
    return LW_STR_NULL;
}

static bool list_has(lw_str_t v, const char *token)
{
    const char *p = v.p, *end = v.p + v.len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e = comma ? comma : end;
        const char *s = p;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        const char *te = e;
        while (te > s && (te[-1] == ' ' || te[-1] == '\t'))
            te--;
        if (lw_str_case_eq_c((lw_str_t){s, (size_t)(te - s)}, token)) return true;
        p = comma ? comma + 1 : end;
    }
    return false;
}

bool lw_http_head_has_token(const lw_http_head_t *h, const char *name, const char *token)
{
    for (size_t i = 0; i < h->nheaders; i++)
        if (lw_str_case_eq_c(h->headers[i].name, name) && list_has(h->headers[i].value, token))
            return true;
    return false;
}

int lw_http_head_content_length(const lw_http_head_t *h, uint64_t *len)
{
    *len = 0;
    bool seen = false;
    for (size_t i = 0; i < h->nheaders; i++) {
        if (lw_str_case_eq_c(h->headers[i].name, "Transfer-Encoding")) return LW_ENOTSUP;
        if (!lw_str_case_eq_c(h->headers[i].name, "Content-Length")) continue;
        lw_str_t v = h->headers[i].value;
        if (v.len == 0 || v.len > 15) return LW_EPARSE;
        uint64_t n = 0;
        for (size_t k = 0; k < v.len; k++) {
            if (v.p[k] < '0' || v.p[k] > '9') return LW_EPARSE;
            n = n * 10 + (uint64_t)(v.p[k] - '0');
        }
        if (seen && n != *len) return LW_EPARSE; /* RFC 9112 §6.3: conflicting lengths */
        *len = n;
        seen = true;
    }
    return 0;
}

bool lw_http_head_keep_alive(const lw_http_head_t *h)
{
    if (lw_http_head_has_token(h, "Connection", "close")) return false;
    if (h->version_minor == 0) return lw_http_head_has_token(h, "Connection", "keep-alive");
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') return (c | 0x20) - 'a' + 10;
    return -1;
}

int lw_http_path_decode(lw_str_t target, char *out, size_t outsz)
{
    size_t o = 0;
    if (outsz == 0) return LW_ETOOBIG;
    for (size_t i = 0; i < target.len; i++) {
        char c = target.p[i];
        if (c == '?' || c == '#') break;
        if (c == '%') {
            if (i + 2 >= target.len) return LW_EPARSE;
            int hi = hexval(target.p[i + 1]), lo = hexval(target.p[i + 2]);
            if (hi < 0 || lo < 0) return LW_EPARSE;
            c = (char)(hi * 16 + lo);
            if (c == 0) return LW_EPARSE;
            i += 2;
        }
        if (o + 1 >= outsz) return LW_ETOOBIG;
        out[o++] = c;
    }
    out[o] = 0;
    return (int)o;
}

const char *lw_http_reason(int status)
{
    switch (status) {
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 426:
        return "Upgrade Required";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    default:
        return "Unknown";
    }
}

int lw_http_write_response(lw_buf_t *out, int status, const char *extra_headers, const void *body,
                           size_t body_len, bool keep_alive)
{
    int rc = lw_buf_printf(out, "HTTP/1.1 %d %s\r\n%sContent-Length: %zu\r\n%s\r\n", status,
                           lw_http_reason(status), extra_headers ? extra_headers : "", body_len,
                           keep_alive ? "" : "Connection: close\r\n");
    if (!rc && body_len) rc = lw_buf_append(out, body, body_len);
    return rc;
}
