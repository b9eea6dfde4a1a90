/*
 * str.c — non-owning string views (lw_str_t) and the owned growable buffer (lw_buf_t).
 * A buffer never grows beyond its max: that is how every input path stays bounded.
 */
#include "ladewerk/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

lw_str_t lw_str_c(const char *s)
{
    return s ? (lw_str_t){s, strlen(s)} : (lw_str_t){"", 0};
}

bool lw_str_eq(lw_str_t a, lw_str_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

bool lw_str_eq_c(lw_str_t a, const char *c)
{
    return lw_str_eq(a, lw_str_c(c));
}

bool lw_str_case_eq_c(lw_str_t a, const char *c)
{
    size_t n = strlen(c);
    return a.len == n && strncasecmp(a.p, c, n) == 0;
}

char *lw_str_dup(lw_str_t s)
{
    char *r = malloc(s.len + 1);
    if (!r) return NULL;
    if (s.len) memcpy(r, s.p, s.len);
    r[s.len] = 0;
    return r;
}

size_t lw_str_copy(char *dst, size_t size, lw_str_t s)
{
    size_t n = s.p && s.len < size ? s.len : s.p ? size - 1 : 0;
    if (n) memmove(dst, s.p, n);
    dst[n] = 0;
    return n;
}

size_t lw_cstr_copy(char *dst, size_t size, const char *src)
{
    return lw_str_copy(dst, size, src ? (lw_str_t){src, strnlen(src, size)} : LW_STR_NULL);
}

size_t lw_ip4_text(const uint8_t a[4], char out[16])
{
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        if (i) out[n++] = '.';
        if (a[i] >= 100) out[n++] = (char)('0' + a[i] / 100);
        if (a[i] >= 10) out[n++] = (char)('0' + a[i] / 10 % 10);
        out[n++] = (char)('0' + a[i] % 10);
    }
    out[n] = 0;
    return n;
}

void lw_buf_init(lw_buf_t *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max;
}

void lw_buf_free(lw_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void lw_buf_reset(lw_buf_t *b)
{
    b->len = 0;
}

int lw_buf_reserve(lw_buf_t *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra) return LW_ETOOBIG;
    size_t need = b->len + extra + 1; /* room for a terminator */
    if (need <= b->cap) return 0;
    size_t ncap = b->cap ? b->cap : 64;
    while (ncap < need)
        ncap *= 2;
    if (ncap > b->max + 1) ncap = b->max + 1;
    char *n = realloc(b->data, ncap);
    if (!n) return LW_ENOMEM;
    b->data = n;
    b->cap = ncap;
    return 0;
}

int lw_buf_append(lw_buf_t *b, const void *p, size_t n)
{
    int rc = lw_buf_reserve(b, n);
    if (rc) return rc;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int lw_buf_append_str(lw_buf_t *b, lw_str_t s)
{
    return lw_buf_append(b, s.p, s.len);
}

size_t lw_u64_text(uint64_t v, char out[20])
{
    char d[20];
    size_t i = sizeof d;
    do
        d[--i] = (char)('0' + v % 10);
    while (v /= 10);
    memcpy(out, d + i, sizeof d - i);
    return sizeof d - i;
}

int lw_buf_append_u64(lw_buf_t *b, uint64_t v)
{
    char d[20];
    return lw_buf_append(b, d, lw_u64_text(v, d));
}

int lw_buf_append_c(lw_buf_t *b, const char *s)
{
    return lw_buf_append(b, s, strlen(s));
}

int lw_buf_putc(lw_buf_t *b, char c)
{
    return lw_buf_append(b, &c, 1);
}

int lw_buf_vprintf(lw_buf_t *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) return LW_EINVAL;
    int rc = lw_buf_reserve(b, (size_t)n);
    if (rc) return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int lw_buf_printf(lw_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = lw_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

/* 1 for the bytes lw_json_escape escapes: controls, '"' and '\\'. */
static const unsigned char json_esc[256] = {1, 1, 1, 1, 1, 1, 1, 1, 1,         1,         1, 1,
                                            1, 1, 1, 1, 1, 1, 1, 1, 1,         1,         1, 1,
                                            1, 1, 1, 1, 1, 1, 1, 1, ['"'] = 1, ['\\'] = 1};

size_t lw_json_escape(unsigned char c, char esc[6])
{
    static const char hex[] = "0123456789abcdef";
    if (!json_esc[c]) return 0;
    esc[0] = '\\';
    switch (c) {
    case '"':
    case '\\':
        esc[1] = (char)c;
        return 2;
    case '\b':
        esc[1] = 'b';
        return 2;
    case '\f':
        esc[1] = 'f';
        return 2;
    case '\n':
        esc[1] = 'n';
        return 2;
    case '\r':
        esc[1] = 'r';
        return 2;
    case '\t':
        esc[1] = 't';
        return 2;
    default:
        esc[1] = 'u', esc[2] = '0', esc[3] = '0';
        esc[4] = hex[c >> 4], esc[5] = hex[c & 15];
        return 6;
    }
}

size_t lw_json_plain_prefix(const char *p, size_t n)
{
    size_t k = 0;
    while (k < n && !json_esc[(unsigned char)p[k]])
        k++;
    return k;
}

int lw_buf_append_json_str(lw_buf_t *b, lw_str_t s)
{
    /* Most strings need no escape: then one reserve and one copy, quotes included. */
    size_t k = lw_json_plain_prefix(s.p, s.len);
    if (k == s.len) {
        int rc = lw_buf_reserve(b, s.len + 2);
        if (rc) return rc;
        char *d = b->data + b->len;
        d[0] = '"';
        if (s.len) memcpy(d + 1, s.p, s.len);
        d[s.len + 1] = '"';
        b->len += s.len + 2;
        return 0;
    }
    /* s[0..k) needs no escape: the escaping walk starts at the first byte that does */
    int rc = lw_buf_putc(b, '"');
    size_t start = 0;
    for (size_t i = k; i < s.len && !rc; i++) {
        char esc[6];
        size_t n = lw_json_escape((unsigned char)s.p[i], esc);
        if (!n) continue;
        rc = lw_buf_append(b, s.p + start, i - start);
        start = i + 1;
        if (!rc) rc = lw_buf_append(b, esc, n);
    }
    if (!rc) rc = lw_buf_append(b, s.p + start, s.len - start);
    if (!rc) rc = lw_buf_putc(b, '"');
    return rc;
}

int lw_buf_cstr(lw_buf_t *b)
{
    int rc = lw_buf_reserve(b, 0);
    if (rc) return rc;
    b->data[b->len] = 0;
    return 0;
}

void lw_buf_consume(lw_buf_t *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

lw_str_t lw_buf_view(const lw_buf_t *b)
{
    return (lw_str_t){b->data ? b->data : "", b->len};
}
