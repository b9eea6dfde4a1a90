/*
 * jdoc.c — member access over a validated payload's token array (see jdoc.h). The tokens
 * come from the codec's strict tokenizer, so every accessor can trust the grammar; lookups
 * are linear scans, which is what a payload of a few dozen members needs.
 */
#include "codec/jdoc.h"

#include "ladewerk/limits.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

int lw_jdoc_keep(lw_jdoc_t *doc, const char *json, size_t len, const lw_jtok_t *toks, size_t n)
{
    memset(doc, 0, sizeof *doc);
    size_t tb = n * sizeof *toks;
    char *m = malloc(tb + len + 1);
    if (!m) return LW_ENOMEM;
    if (n) memcpy(m, toks, tb);
    doc->t = (lw_jtok_t *)(void *)m;
    doc->text = m + tb;
    if (len) memcpy(doc->text, json, len);
    doc->text[len] = 0;
    doc->len = len;
    doc->n = (uint32_t)n;
    return 0;
}

int lw_jdoc_parse(lw_jdoc_t *doc, const char *json, size_t len)
{
    memset(doc, 0, sizeof *doc);
    if (!json && len) return LW_EINVAL;
    size_t cap = len / 2 + LW_JSON_DEPTH_MAX + 2;
    if (cap > LW_JSON_TOKENS_MAX) cap = LW_JSON_TOKENS_MAX;
    lw_jtok_t *toks = malloc(cap * sizeof *toks);
    if (!toks) return LW_ENOMEM;
    size_t n = 0;
    lw_json_err_t err;
    int rc = lw_json_tokenize(json, len, toks, cap, &n, &err);
    if (rc == 0) rc = lw_jdoc_keep(doc, json, len, toks, n);
    free(toks);
    return rc;
}

void lw_jdoc_free(lw_jdoc_t *doc)
{
    if (!doc) return;
    free(doc->t); /* the text shares the tokens' allocation */
    if (doc->esc) {
        lw_arena_free(doc->esc);
        free(doc->esc);
    }
    memset(doc, 0, sizeof *doc);
}

static const lw_jtok_t *tok(const lw_jdoc_t *d, lw_jval_t v)
{
    return d && v < d->n ? &d->t[v] : NULL;
}

lw_jval_t lw_jdoc_root(const lw_jdoc_t *d)
{
    return d && d->n ? 0 : LW_JNONE;
}

int lw_jdoc_type(const lw_jdoc_t *d, lw_jval_t v)
{
    const lw_jtok_t *t = tok(d, v);
    return t ? t->type : 0;
}

lw_jval_t lw_jdoc_get(const lw_jdoc_t *d, lw_jval_t obj, const char *key)
{
    const lw_jtok_t *o = tok(d, obj);
    if (!o || o->type != LW_JT_OBJECT) return LW_JNONE;
    size_t kl = strlen(key);
    uint32_t k = obj + 1;
    for (uint32_t m = 0; m < o->size; m++) {
        const lw_jtok_t *kt = &d->t[k];
        const char *kp = d->text + kt->start;
        size_t kn = kt->end - kt->start;
        char kbuf[72];
        if ((kt->flags & LW_JF_ESCAPED) && kn <= sizeof kbuf) {
            kn = lw_json_unescape(kp, kn, kbuf);
            kp = kbuf;
        }
        if (kn == kl && memcmp(kp, key, kl) == 0) return k + 1;
        k = d->t[k + 1].next;
    }
    return LW_JNONE;
}

lw_str_t lw_jdoc_str(lw_jdoc_t *d, lw_jval_t v)
{
    const lw_jtok_t *t = tok(d, v);
    if (!t || t->type != LW_JT_STRING) return LW_STR_NULL;
    const char *p = d->text + t->start;
    size_t n = t->end - t->start;
    if (!(t->flags & LW_JF_ESCAPED)) return (lw_str_t){p, n};
    if (!d->esc) {
        d->esc = malloc(sizeof *d->esc);
        if (!d->esc) return LW_STR_NULL;
        lw_arena_init(d->esc, 0);
    }
    char *out = lw_arena_alloc(d->esc, n + 1);
    if (!out) return LW_STR_NULL;
    size_t m = lw_json_unescape(p, n, out);
    out[m] = 0;
    return (lw_str_t){out, m};
}

bool lw_jdoc_num(const lw_jdoc_t *d, lw_jval_t v, double *out)
{
    const lw_jtok_t *t = tok(d, v);
    if (!t || t->type != LW_JT_NUMBER) return false;
    /* The text is NUL-terminated and the token is grammatical: strtod stops at its end. */
    *out = strtod(d->text + t->start, NULL);
    return true;
}

bool lw_jdoc_int(const lw_jdoc_t *d, lw_jval_t v, int64_t *out)
{
    const lw_jtok_t *t = tok(d, v);
    if (!t || t->type != LW_JT_NUMBER) return false;
    const char *p = d->text + t->start;
    size_t n = t->end - t->start, i = 0;
    bool neg = p[0] == '-';
    if (neg) i++;
    if (n - i >= 1 && n - i <= 18) {
        int64_t x = 0;
        size_t j = i;
        for (; j < n && p[j] >= '0' && p[j] <= '9'; j++)
            x = x * 10 + (p[j] - '0');
        if (j == n) { /* plain digits: exact */
            *out = neg ? -x : x;
            return true;
        }
    }
    double x = strtod(p, NULL);
    /* What a C cast of the double gives, without its undefined behaviour out of range. */
    if (!(x > -9223372036854775808.0))
        *out = INT64_MIN;
    else if (!(x < 9223372036854775808.0))
        *out = INT64_MAX;
    else
        *out = (int64_t)x;
    return true;
}

bool lw_jdoc_is_true(const lw_jdoc_t *d, lw_jval_t v)
{
    const lw_jtok_t *t = tok(d, v);
    return t && t->type == LW_JT_TRUE;
}

uint32_t lw_jdoc_count(const lw_jdoc_t *d, lw_jval_t v)
{
    const lw_jtok_t *t = tok(d, v);
    return t && (t->type == LW_JT_ARRAY || t->type == LW_JT_OBJECT) ? t->size : 0;
}

lw_jval_t lw_jdoc_first(const lw_jdoc_t *d, lw_jval_t arr)
{
    const lw_jtok_t *t = tok(d, arr);
    return t && t->type == LW_JT_ARRAY && t->size ? arr + 1 : LW_JNONE;
}

lw_jval_t lw_jdoc_next(const lw_jdoc_t *d, lw_jval_t arr, lw_jval_t e)
{
    const lw_jtok_t *a = tok(d, arr), *t = tok(d, e);
    if (!a || !t) return LW_JNONE;
    return t->next < a->next ? t->next : LW_JNONE;
}

static uint32_t raw_start(const lw_jtok_t *t)
{
    return t->type == LW_JT_STRING ? t->start - 1 : t->start;
}

static uint32_t raw_end(const lw_jtok_t *t)
{
    return t->type == LW_JT_STRING ? t->end + 1 : t->end;
}

lw_str_t lw_jdoc_raw(const lw_jdoc_t *d, lw_jval_t v)
{
    const lw_jtok_t *t = tok(d, v);
    if (!t) return LW_STR_NULL;
    uint32_t s = raw_start(t);
    return (lw_str_t){d->text + s, raw_end(t) - s};
}

/* A number cJSON prints back as received: -?digits without a leading zero, within int
 * (cJSON prints such a value with "%d"), and not "-0" (printed "0"). */
static bool plain_int(const char *p, size_t n)
{
    size_t i = p[0] == '-';
    if (i == n || n - i > 10) return false;
    if (p[i] == '0' && n - i > 1) return false;
    long long x = 0;
    for (size_t j = i; j < n; j++) {
        if (p[j] < '0' || p[j] > '9') return false;
        x = x * 10 + (p[j] - '0');
    }
    if (i && x == 0) return false;
    x = i ? -x : x;
    return x >= INT_MIN && x <= INT_MAX;
}

int lw_jdoc_compact(const lw_jdoc_t *d, lw_jval_t v, lw_buf_t *out)
{
    const lw_jtok_t *t = tok(d, v);
    if (!t) return LW_EINVAL;
    uint32_t end = t->type == LW_JT_OBJECT || t->type == LW_JT_ARRAY ? t->next : v + 1;
    for (uint32_t i = v; i < end; i++) {
        const lw_jtok_t *x = &d->t[i];
        if (x->type == LW_JT_STRING && (x->flags & LW_JF_ESCAPED)) return LW_ENOTSUP;
        if (x->type == LW_JT_NUMBER && !plain_int(d->text + x->start, x->end - x->start))
            return LW_ENOTSUP;
    }
    lw_str_t raw = lw_jdoc_raw(d, v);
    size_t mark = out->len;
    int rc = lw_buf_reserve(out, raw.len);
    if (rc) return rc;
    /* No backslash anywhere (no escaped strings): a quote always opens or closes a string. */
    bool in_str = false;
    char *o = out->data + out->len;
    for (size_t i = 0; i < raw.len; i++) {
        char c = raw.p[i];
        if (c == '"') in_str = !in_str;
        if (!in_str && (c == ' ' || c == '\t' || c == '\n' || c == '\r')) continue;
        *o++ = c;
    }
    out->len = mark + (size_t)(o - (out->data + mark));
    out->data[out->len] = 0;
    return 0;
}
