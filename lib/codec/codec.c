/*
 * codec.c — the one hand-written runtime behind every generated OCPP codec: decode (tokens ->
 * schema checks -> struct in an arena), validate (the same walk without a struct) and encode
 * (struct -> JSON text), all driven by the descriptor tables in lib/codec/gen/ (codec_int.h).
 * The rules it enforces and the error codes it reports are documented in ladewerk/codec.h.
 */
#include "codec/codec_int.h"
#include "codec/jdoc.h"
#include "codec/json.h"

#include "ladewerk/limits.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- action tables ---------------------------------------------------------------------- */

const lw_codec_action_t *lw_codec_actions(lw_ocpp_version_t v, size_t *count)
{
    switch (v) {
    case LW_OCPP_16:
        *count = lw_v16_action_count;
        return lw_v16_actions;
    case LW_OCPP_201:
        *count = lw_v201_action_count;
        return lw_v201_actions;
    case LW_OCPP_21:
        *count = lw_v21_action_count;
        return lw_v21_actions;
    default:
        *count = 0;
        return NULL;
    }
}

const lw_codec_action_t *lw_codec_action_find(lw_ocpp_version_t v, lw_str_t name)
{
    size_t n;
    const lw_codec_action_t *a = lw_codec_actions(v, &n);
    size_t lo = 0, hi = n;
    while (lo < hi) { /* the tables are sorted by name, byte order */
        size_t mid = (lo + hi) / 2;
        const char *m = a[mid].name;
        size_t ml = strlen(m);
        int c = memcmp(m, name.p, ml < name.len ? ml : name.len);
        if (c == 0) c = ml < name.len ? -1 : ml > name.len ? 1 : 0;
        if (c == 0) return &a[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

size_t lw_codec_msg_size(const lw_codec_msg_t *m)
{
    return m->root->size;
}

const char *lw_codec_msg_name(const lw_codec_msg_t *m)
{
    return m->name;
}

lw_ocpp_version_t lw_codec_msg_version(const lw_codec_msg_t *m)
{
    return m->version;
}

int lw_codec_error_format(const lw_codec_error_t *err, lw_ocpp_version_t v, char *out, size_t outsz)
{
    return snprintf(out, outsz, "%s: %s (%s)", err->path[0] ? err->path : "(payload)", err->detail,
                    lw_ocpp_err_name(v, err->code));
}

/* ---- exact decimal arithmetic on JSON number text ---------------------------------------- */

#define DEC_KEEP 40
typedef struct dec {
    int neg;
    int64_t ntot;     /* significant digits (leading and trailing zeros stripped) */
    int nd;           /* digits kept in d (min(ntot, DEC_KEEP)) */
    char d[DEC_KEEP]; /* the first significant digits */
    int64_t exp;      /* value = 0.d1d2d3... * 10^exp */
} dec_t;

/* s[0..n) is a number the tokenizer accepted. */
static void dec_parse(const char *s, size_t n, dec_t *x)
{
    size_t i = 0;
    x->neg = 0;
    x->nd = 0;
    x->ntot = 0;
    x->exp = 0;
    if (s[0] == '-') x->neg = 1, i = 1;
    /* mantissa digits: int part then fraction; pos counts mantissa digits seen */
    int64_t intlen = 0, pos = 0, first = -1, last = -1;
    int in_frac = 0;
    size_t j = i;
    for (; j < n; j++) {
        char c = s[j];
        if (c == '.') {
            in_frac = 1;
            continue;
        }
        if (c == 'e' || c == 'E') break;
        if (!in_frac) intlen++;
        if (c != '0') {
            if (first < 0) first = pos;
            last = pos;
        }
        if (first >= 0 && x->nd < DEC_KEEP) x->d[x->nd++] = c;
        pos++;
    }
    int64_t e10 = 0;
    if (j < n) {
        j++;
        int eneg = 0;
        if (s[j] == '+' || s[j] == '-') eneg = s[j] == '-', j++;
        for (; j < n; j++)
            if (e10 < 1000000000) e10 = e10 * 10 + (s[j] - '0');
        if (eneg) e10 = -e10;
    }
    if (first < 0) { /* zero, including -0 and 0e5 */
        x->neg = 0;
        x->nd = 0;
        return;
    }
    x->ntot = last - first + 1;
    if (x->nd > x->ntot) x->nd = (int)x->ntot;
    x->exp = intlen - first + e10;
}

/* -1, 0, 1 as a <, ==, > b, exactly (b has at most DEC_KEEP digits). */
static int dec_cmp(const dec_t *a, const dec_t *b)
{
    int az = a->ntot == 0, bz = b->ntot == 0;
    if (az && bz) return 0;
    int as = az ? 0 : a->neg ? -1 : 1, bs = bz ? 0 : b->neg ? -1 : 1;
    if (as != bs) return as < bs ? -1 : 1;
    int mag; /* compare magnitudes */
    if (a->exp != b->exp) {
        mag = a->exp < b->exp ? -1 : 1;
    } else {
        int n = a->nd < b->nd ? a->nd : b->nd;
        int c = memcmp(a->d, b->d, (size_t)n);
        if (c)
            mag = c < 0 ? -1 : 1;
        else
            mag = a->ntot == b->ntot ? 0 : a->ntot < b->ntot ? -1 : 1;
    }
    return as < 0 ? -mag : mag;
}

/* 1 if x is integral and fits int64_t (value in *out); 0 if integral but out of range;
 * -1 if not integral. */
static int dec_int64(const dec_t *x, int64_t *out)
{
    if (x->ntot == 0) {
        *out = 0;
        return 1;
    }
    if (x->exp < x->ntot) return -1;
    if (x->exp > 19) return 0;
    uint64_t v = 0;
    for (int64_t k = 0; k < x->exp; k++) {
        unsigned dgt = k < x->nd ? (unsigned)(x->d[k] - '0') : 0;
        if (v > (UINT64_MAX - dgt) / 10) return 0;
        v = v * 10 + dgt;
    }
    if (x->neg) {
        if (v > (uint64_t)INT64_MAX + 1) return 0;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX) return 0;
        *out = (int64_t)v;
    }
    return 1;
}

/* ---- formats ------------------------------------------------------------------------------ */

static int is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}
static int is_hex(unsigned char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static int is_unreserved(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
static int is_subdelim(unsigned char c)
{
    return c && strchr("!$&'()*+,;=", c) != NULL;
}

/* RFC 3986 §3.2.2 IPv4address = dec-octet 3( "." dec-octet ), dec-octet 0..255 written
 * without leading zeros. */
static int ipv4_ok(const unsigned char *u, size_t n)
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part) {
            if (i >= n || u[i] != '.') return 0;
            i++;
        }
        size_t s = i;
        unsigned v = 0;
        while (i < n && is_digit(u[i]) && i - s < 3)
            v = v * 10 + (unsigned)(u[i++] - '0');
        if (i == s || v > 255 || (i - s > 1 && u[s] == '0')) return 0;
    }
    return i == n;
}

/* RFC 3986 §3.2.2 IPv6address: colon-separated h16 groups (1-4 hex digits), at most one "::"
 * standing for one or more zero groups, an IPv4address allowed in place of the last two
 * groups. Eight groups without "::", at most seven with it. */
static int ipv6_ok(const unsigned char *u, size_t n)
{
    int groups = 0, gap = 0;
    size_t i = 0;
    if (n >= 2 && u[0] == ':' && u[1] == ':') {
        gap = 1;
        i = 2;
    }
    while (i < n) {
        size_t j = i;
        while (j < n && is_hex(u[j]))
            j++;
        if (j < n && u[j] == '.') { /* ls32 as IPv4address: must be the tail */
            if (!ipv4_ok(u + i, n - i)) return 0;
            groups += 2;
            break;
        }
        if (j == i || j - i > 4) return 0;
        groups++;
        i = j;
        if (i == n) break;
        if (u[i] != ':') return 0;
        i++;
        if (i < n && u[i] == ':') {
            if (gap) return 0;
            gap = 1;
            i++;
        } else if (i == n) {
            return 0; /* a single trailing ':' */
        }
    }
    return gap ? groups <= 7 : groups == 8;
}

/* RFC 3986 §3.2.2 IP-literal = "[" ( IPv6address / IPvFuture ) "]", given without the
 * brackets; IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ). */
static int ip_literal_ok(const unsigned char *u, size_t n)
{
    if (n == 0 || (u[0] != 'v' && u[0] != 'V')) return ipv6_ok(u, n);
    size_t i = 1;
    while (i < n && is_hex(u[i]))
        i++;
    if (i == 1 || i >= n || u[i] != '.' || i + 1 == n) return 0;
    for (i++; i < n; i++)
        if (!is_unreserved(u[i]) && !is_subdelim(u[i]) && u[i] != ':') return 0;
    return 1;
}

/* RFC 3986 §3: URI = scheme ":" hier-part [ "?" query ] [ "#" fragment ]. Checks the scheme,
 * the character set of every part, %-escapes, at most one '#', and an authority's shape
 * (userinfo@host:port, IP-literal in brackets per ip_literal_ok, port digits). */
static int uri_ok(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    if (n == 0 || !is_alpha(u[0])) return 0;
    while (i < n && (is_alpha(u[i]) || is_digit(u[i]) || u[i] == '+' || u[i] == '-' || u[i] == '.'))
        i++;
    if (i >= n || u[i] != ':') return 0;
    i++;
    if (n - i >= 2 && u[i] == '/' && u[i + 1] == '/') {
        i += 2;
        size_t a = i;
        while (i < n && u[i] != '/' && u[i] != '?' && u[i] != '#')
            i++;
        size_t b = i, h = a; /* authority is u[a..b) */
        for (size_t k = a; k < b; k++)
            if (u[k] == '@') h = k + 1;
        for (size_t k = a; k + 1 < h; k++) { /* userinfo */
            if (u[k] == '%') {
                if (k + 2 >= h || !is_hex(u[k + 1]) || !is_hex(u[k + 2])) return 0;
                k += 2;
            } else if (!is_unreserved(u[k]) && !is_subdelim(u[k]) && u[k] != ':') {
                return 0;
            }
        }
        size_t k = h;
        if (k < b && u[k] == '[') {
            size_t lit = ++k;
            while (k < b && u[k] != ']')
                k++;
            if (k >= b || !ip_literal_ok(u + lit, k - lit)) return 0;
            k++;
        } else {
            for (; k < b && u[k] != ':'; k++) {
                if (u[k] == '%') {
                    if (k + 2 >= b || !is_hex(u[k + 1]) || !is_hex(u[k + 2])) return 0;
                    k += 2;
                } else if (!is_unreserved(u[k]) && !is_subdelim(u[k])) {
                    return 0;
                }
            }
        }
        if (k < b) {
            if (u[k] != ':') return 0;
            for (k++; k < b; k++)
                if (!is_digit(u[k])) return 0;
        }
    }
    int hash = 0;
    for (; i < n; i++) {
        unsigned char c = u[i];
        if (c == '%') {
            if (i + 2 >= n || !is_hex(u[i + 1]) || !is_hex(u[i + 2])) return 0;
            i += 2;
        } else if (c == '#') {
            if (hash++) return 0;
        } else if (!is_unreserved(c) && !is_subdelim(c) && c != ':' && c != '@' && c != '/' &&
                   c != '?') {
            return 0;
        }
    }
    return 1;
}

/* ---- the decode / validate walk -------------------------------------------------------- */

typedef struct frame {
    const char *name; /* NULL: an array index */
    size_t len;
    uint32_t idx;
} frame_t;

typedef struct walk {
    const char *s;
    const lw_jtok_t *t;
    lw_arena_t *arena; /* NULL: validate only */
    lw_codec_error_t *err;
    int nomem;
    int depth;
    frame_t path[2 * LW_JSON_DEPTH_MAX + 4];
} walk_t;

static void push_name(walk_t *w, const char *name, size_t len)
{
    if (w->depth < (int)(sizeof(w->path) / sizeof(w->path[0])))
        w->path[w->depth] = (frame_t){name, len, 0};
    w->depth++;
}

static void push_idx(walk_t *w, uint32_t idx)
{
    if (w->depth < (int)(sizeof(w->path) / sizeof(w->path[0])))
        w->path[w->depth] = (frame_t){NULL, 0, idx};
    w->depth++;
}

static __attribute__((format(printf, 3, 4))) int fail(walk_t *w, lw_ocpp_err_t code,
                                                      const char *fmt, ...)
{
    lw_codec_error_t *e = w->err;
    if (!e) return LW_ESCHEMA;
    e->code = code;
    size_t o = 0, cap = sizeof(e->path);
    int n = w->depth < (int)(sizeof(w->path) / sizeof(w->path[0]))
                ? w->depth
                : (int)(sizeof(w->path) / sizeof(w->path[0]));
    e->path[0] = 0;
    for (int i = 0; i < n && o < cap; i++) {
        int k;
        if (w->path[i].name)
            k = snprintf(e->path + o, cap - o, "%s%.*s", o ? "." : "", (int)w->path[i].len,
                         w->path[i].name);
        else
            k = snprintf(e->path + o, cap - o, "[%" PRIu32 "]", w->path[i].idx);
        if (k < 0) break;
        o += (size_t)k;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
    va_end(ap);
    return LW_ESCHEMA;
}

static const char *jtype_name(uint8_t t)
{
    switch (t) {
    case LW_JT_OBJECT:
        return "object";
    case LW_JT_ARRAY:
        return "array";
    case LW_JT_STRING:
        return "string";
    case LW_JT_NUMBER:
        return "number";
    case LW_JT_TRUE:
    case LW_JT_FALSE:
        return "boolean";
    default:
        return "null";
    }
}

static int type_fail(walk_t *w, const char *want, const lw_jtok_t *t)
{
    return fail(w, LW_OCPP_ERR_TYPE_CONSTRAINT, "type: expected %s, got %s", want,
                jtype_name(t->type));
}

/* Raw text bounds of a token's value (strings include their quotes). */
static uint32_t raw_start(const lw_jtok_t *t)
{
    return t->type == LW_JT_STRING ? t->start - 1 : t->start;
}
static uint32_t raw_end(const lw_jtok_t *t)
{
    return t->type == LW_JT_STRING ? t->end + 1 : t->end;
}

/* Returns a NUL-terminated, unescaped copy of a string token: in the arena when decoding,
 * otherwise in heap memory the caller frees (*heap set). NULL on ENOMEM. */
static char *str_copy(walk_t *w, const lw_jtok_t *t, size_t *outlen, int *heap)
{
    size_t n = t->end - t->start;
    const char *src = w->s + t->start;
    char *p;
    *heap = 0;
    if (w->arena) {
        p = lw_arena_alloc(w->arena, n + 1);
    } else {
        p = malloc(n + 1);
        *heap = 1;
    }
    if (!p) return NULL;
    size_t k = (t->flags & LW_JF_ESCAPED) ? lw_json_unescape(src, n, p) : (memcpy(p, src, n), n);
    p[k] = 0;
    *outlen = k;
    return p;
}

static int nomem(walk_t *w)
{
    w->nomem = 1;
    if (w->err) {
        w->err->code = LW_OCPP_ERR_INTERNAL;
        w->err->path[0] = 0;
        snprintf(w->err->detail, sizeof(w->err->detail), "out of memory (arena cap)");
    }
    return LW_ENOMEM;
}

typedef struct keyref {
    const char *p;
    size_t n;
} keyref_t;

static int keycmp(const void *a, const void *b)
{
    const keyref_t *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->p, y->p, n);
    return c ? c : (x->n < y->n ? -1 : x->n > y->n);
}

/* Duplicate keys among the members of object token oi whose key tokens are listed in
 * keys[0..n) (token indexes). Returns 0, LW_ESCHEMA or LW_ENOMEM. */
static int dup_keys(walk_t *w, const uint32_t *keys, size_t n)
{
    if (n < 2) return 0;
    keyref_t *refs = malloc(n * sizeof(*refs));
    char **frees = calloc(n, sizeof(*frees));
    int rc = 0;
    if (!refs || !frees) {
        rc = nomem(w);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const lw_jtok_t *k = &w->t[keys[i]];
        if (k->flags & LW_JF_ESCAPED) {
            size_t len = k->end - k->start;
            char *p = malloc(len + 1);
            if (!p) {
                rc = nomem(w);
                goto out;
            }
            frees[i] = p;
            refs[i] = (keyref_t){p, lw_json_unescape(w->s + k->start, len, p)};
        } else {
            refs[i] = (keyref_t){w->s + k->start, k->end - k->start};
        }
    }
    qsort(refs, n, sizeof(*refs), keycmp);
    for (size_t i = 1; i < n; i++) {
        if (keycmp(&refs[i - 1], &refs[i]) == 0) {
            rc = fail(w, LW_OCPP_ERR_FORMAT, "duplicate key \"%.*s\"", (int)refs[i].n, refs[i].p);
            break;
        }
    }
out:
    if (frees)
        for (size_t i = 0; i < n; i++)
            free(frees[i]);
    free(frees);
    free(refs);
    return rc;
}

/* Checks every object inside the subtree at ti for duplicate keys (values the schema does
 * not describe: "any" values and the extra members of open objects). */
static int any_value(walk_t *w, uint32_t ti)
{
    const lw_jtok_t *t = &w->t[ti];
    if (t->type != LW_JT_OBJECT && t->type != LW_JT_ARRAY) return 0;
    uint32_t stack_keys[16], *keys = stack_keys;
    if (t->type == LW_JT_OBJECT && t->size > 16) {
        keys = malloc(t->size * sizeof(*keys));
        if (!keys) return nomem(w);
    }
    int rc = 0;
    uint32_t k = ti + 1;
    for (uint32_t i = 0; i < t->size && !rc; i++) {
        if (t->type == LW_JT_OBJECT) {
            keys[i] = k;
            k++;
        }
        rc = any_value(w, k);
        k = w->t[k].next;
    }
    if (!rc && t->type == LW_JT_OBJECT) rc = dup_keys(w, keys, t->size);
    if (keys != stack_keys) free(keys);
    return rc;
}

static size_t item_size(const lw_codec_field_t *f)
{
    switch (f->kind) {
    case LW_CK_INT:
        return sizeof(int64_t);
    case LW_CK_NUMBER:
        return sizeof(double);
    case LW_CK_BOOL:
        return sizeof(bool);
    case LW_CK_ENUM:
        return sizeof(int);
    case LW_CK_OBJECT:
        return f->obj->size;
    default:
        return sizeof(char *);
    }
}

static int obj(walk_t *w, const lw_codec_obj_t *o, uint32_t ti, char *out);

static int number_text(walk_t *w, const lw_jtok_t *t, double *out)
{
    char buf[64], *p = buf;
    size_t n = t->end - t->start;
    if (n >= sizeof(buf) && !(p = malloc(n + 1))) return nomem(w);
    memcpy(p, w->s + t->start, n);
    p[n] = 0;
    *out = strtod(p, NULL); /* grammar already checked; out-of-range gives +-HUGE_VAL or 0 */
    if (p != buf) free(p);
    return 0;
}

static int string_value(walk_t *w, const lw_codec_field_t *f, const lw_jtok_t *t, char *dst)
{
    if (t->type != LW_JT_STRING) return type_fail(w, "string", t);
    if ((f->flags & LW_CF_MAXLEN) && t->size > f->max_len)
        return fail(w, LW_OCPP_ERR_PROPERTY_CONSTRAINT,
                    "maxLength: %" PRIu32 " characters, at most %" PRIu32 " allowed", t->size,
                    f->max_len);
    if ((f->flags & LW_CF_MINLEN) && t->size < f->min_len)
        return fail(w, LW_OCPP_ERR_PROPERTY_CONSTRAINT,
                    "minLength: %" PRIu32 " characters, at least %" PRIu32 " required", t->size,
                    f->min_len);
    int need_text = dst || (t->flags & LW_JF_ESCAPED) || (f->flags & (LW_CF_DATETIME | LW_CF_URI));
    if (!need_text) return 0;
    const char *text = w->s + t->start;
    size_t n = t->end - t->start;
    char *copy = NULL;
    int heap = 0;
    if (dst || (t->flags & LW_JF_ESCAPED)) {
        copy = str_copy(w, t, &n, &heap);
        if (!copy) return nomem(w);
        text = copy;
    }
    int rc = 0;
    if (memchr(text, 0, n)) {
        rc = fail(w, LW_OCPP_ERR_PROPERTY_CONSTRAINT,
                  "string contains U+0000, which a C string cannot hold");
    } else if (f->flags & LW_CF_DATETIME) {
        int64_t ms;
        if (lw_time_parse((lw_str_t){text, n}, &ms) != 0)
            rc = fail(w, LW_OCPP_ERR_PROPERTY_CONSTRAINT,
                      "format date-time: \"%.*s\" is not an RFC 3339 date-time with time zone",
                      (int)(n > 64 ? 64 : n), text);
    } else if (f->flags & LW_CF_URI) {
        if (!uri_ok(text, n))
            rc = fail(w, LW_OCPP_ERR_PROPERTY_CONSTRAINT,
                      "format uri: \"%.*s\" is not an absolute URI (RFC 3986)",
                      (int)(n > 64 ? 64 : n), text);
    }
    if (heap)
        free(copy);
    else if (dst && !rc)
        *(char **)dst = copy;
    return rc;
}

static int enum_value(walk_t *w, const lw_codec_field_t *f, const lw_jtok_t *t, char *dst)
{
    if (t->type != LW_JT_STRING) return type_fail(w, "string", t);
    const char *text = w->s + t->start;
    size_t n = t->end - t->start;
    char buf[256];
    if (t->flags & LW_JF_ESCAPED) {
        if (n > sizeof(buf))
            n = 0; /* longer than any enum value even after unescaping */
        else
            n = lw_json_unescape(text, n, buf);
        text = buf;
    }
    const lw_codec_enum_t *en = f->en;
    for (uint32_t i = 0; i < en->count; i++) {
        if (en->lens[i] == n && memcmp(en->values[i], text, n) == 0) {
            if (dst) *(int *)dst = (int)i + 1;
            return 0;
        }
    }
    size_t shown = t->end - t->start;
    return fail(w, LW_OCPP_ERR_PROPERTY_CONSTRAINT, "enum: \"%.*s\" is not a value of %s",
                (int)(shown > 64 ? 64 : shown), w->s + t->start, en->name);
}

static int bound_fail(walk_t *w, const char *kw, const lw_jtok_t *t, const char *cmp,
                      const char *bound)
{
    return fail(w, LW_OCPP_ERR_PROPERTY_CONSTRAINT, "%s: %.*s is %s %s", kw,
                (int)(t->end - t->start > 40 ? 40 : t->end - t->start), w->s + t->start, cmp,
                bound);
}

static int num_value(walk_t *w, const lw_codec_field_t *f, const lw_jtok_t *t, char *dst)
{
    if (t->type != LW_JT_NUMBER)
        return type_fail(w, f->kind == LW_CK_INT ? "integer" : "number", t);
    dec_t x;
    dec_parse(w->s + t->start, t->end - t->start, &x);
    if (f->kind == LW_CK_INT) {
        int64_t v;
        int r = dec_int64(&x, &v);
        if (r < 0)
            return fail(w, LW_OCPP_ERR_TYPE_CONSTRAINT, "type: expected integer, got %.*s",
                        (int)(t->end - t->start > 40 ? 40 : t->end - t->start), w->s + t->start);
        if (r == 0)
            return fail(w, LW_OCPP_ERR_PROPERTY_CONSTRAINT,
                        "integer range: %.*s does not fit a 64-bit integer",
                        (int)(t->end - t->start > 40 ? 40 : t->end - t->start), w->s + t->start);
        char b[24];
        if ((f->flags & LW_CF_MIN) && v < f->min_i) {
            snprintf(b, sizeof(b), "%" PRId64, f->min_i);
            return bound_fail(w, "minimum", t, "less than", b);
        }
        if ((f->flags & LW_CF_MAX) && v > f->max_i) {
            snprintf(b, sizeof(b), "%" PRId64, f->max_i);
            return bound_fail(w, "maximum", t, "greater than", b);
        }
        if (dst) *(int64_t *)dst = v;
        return 0;
    }
    if (f->flags & (LW_CF_MIN | LW_CF_MAX)) {
        dec_t b;
        if (f->flags & LW_CF_MIN) {
            dec_parse(f->min_s, strlen(f->min_s), &b);
            if (dec_cmp(&x, &b) < 0) return bound_fail(w, "minimum", t, "less than", f->min_s);
        }
        if (f->flags & LW_CF_MAX) {
            dec_parse(f->max_s, strlen(f->max_s), &b);
            if (dec_cmp(&x, &b) > 0) return bound_fail(w, "maximum", t, "greater than", f->max_s);
        }
    }
    /* multipleOf 10^q: the lowest significant digit of x is at 10^(exp - ntot). */
    if ((f->flags & LW_CF_MULTIPLE) && x.ntot && x.exp - x.ntot < f->mult_exp10)
        return fail(w, LW_OCPP_ERR_PROPERTY_CONSTRAINT,
                    "multipleOf: %.*s is not a multiple of 1e%d",
                    (int)(t->end - t->start > 40 ? 40 : t->end - t->start), w->s + t->start,
                    (int)f->mult_exp10);
    if (dst) return number_text(w, t, (double *)dst);
    return 0;
}

/* One value (not an array) of field f at token vi; dst is where it goes (NULL: validate).
 * inline_obj: objects are stored in place (array items) instead of by pointer. */
static int value(walk_t *w, const lw_codec_field_t *f, uint32_t vi, char *dst, int inline_obj)
{
    const lw_jtok_t *t = &w->t[vi];
    switch (f->kind) {
    case LW_CK_STRING:
        return string_value(w, f, t, dst);
    case LW_CK_ENUM:
        return enum_value(w, f, t, dst);
    case LW_CK_INT:
    case LW_CK_NUMBER:
        return num_value(w, f, t, dst);
    case LW_CK_BOOL:
        if (t->type != LW_JT_TRUE && t->type != LW_JT_FALSE) return type_fail(w, "boolean", t);
        if (dst) *(bool *)dst = t->type == LW_JT_TRUE;
        return 0;
    case LW_CK_OBJECT: {
        if (t->type != LW_JT_OBJECT) return type_fail(w, "object", t);
        char *o = NULL;
        if (dst) {
            if (inline_obj) {
                o = dst;
            } else {
                o = lw_arena_alloc(w->arena, f->obj->size);
                if (!o) return nomem(w);
                memset(o, 0, f->obj->size);
                *(char **)dst = o;
            }
        }
        return obj(w, f->obj, vi, o);
    }
    case LW_CK_ANY: {
        int rc = any_value(w, vi);
        if (rc || !dst) return rc;
        char *p = lw_arena_strdup(w->arena, w->s + raw_start(t), raw_end(t) - raw_start(t));
        if (!p) return nomem(w);
        *(char **)dst = p;
        return 0;
    }
    default:
        return fail(w, LW_OCPP_ERR_INTERNAL, "descriptor: unknown kind %d", f->kind);
    }
}

static int field(walk_t *w, const lw_codec_field_t *f, uint32_t vi, char *out)
{
    if (!(f->flags & LW_CF_ARRAY)) {
        int rc = value(w, f, vi, out ? out + f->off : NULL, 0);
        if (!rc && out && f->aux && !(f->flags & LW_CF_REQUIRED)) *(bool *)(out + f->aux) = true;
        return rc;
    }
    const lw_jtok_t *t = &w->t[vi];
    if (t->type != LW_JT_ARRAY) return type_fail(w, "array", t);
    if ((f->flags & LW_CF_MINITEMS) && t->size < f->min_items)
        return fail(w, LW_OCPP_ERR_OCCURRENCE_CONSTRAINT,
                    "minItems: %" PRIu32 " items, at least %" PRIu32 " required", t->size,
                    f->min_items);
    if ((f->flags & LW_CF_MAXITEMS) && t->size > f->max_items)
        return fail(w, LW_OCPP_ERR_OCCURRENCE_CONSTRAINT,
                    "maxItems: %" PRIu32 " items, at most %" PRIu32 " allowed", t->size,
                    f->max_items);
    size_t isz = item_size(f);
    char *items = NULL;
    if (out) {
        size_t bytes = (size_t)t->size * isz;
        items = lw_arena_alloc(w->arena, bytes ? bytes : 1);
        if (!items) return nomem(w);
        memset(items, 0, bytes);
        *(char **)(out + f->off) = items;
        *(size_t *)(out + f->aux) = t->size;
    }
    uint32_t k = vi + 1;
    for (uint32_t i = 0; i < t->size; i++) {
        push_idx(w, i);
        int rc = value(w, f, k, items ? items + i * isz : NULL, 1);
        if (rc) return rc;
        w->depth--;
        k = w->t[k].next;
    }
    return 0;
}

static const lw_codec_field_t *find_field(const lw_codec_obj_t *o, const char *k, size_t n,
                                          uint32_t *idx)
{
    for (uint32_t i = 0; i < o->nfields; i++) {
        const lw_codec_field_t *f = &o->fields[i];
        if (f->name_len == n && memcmp(f->name, k, n) == 0) {
            *idx = i;
            return f;
        }
    }
    return NULL;
}

static int obj(walk_t *w, const lw_codec_obj_t *o, uint32_t ti, char *out)
{
    const lw_jtok_t *t = &w->t[ti];
    if (t->type != LW_JT_OBJECT) return type_fail(w, "object", t);
    uint64_t seen = 0;
    uint32_t k = ti + 1;
    uint32_t extra_stack[8], *extra = extra_stack, nextra = 0, extra_cap = 8;
    int rc = 0;
    for (uint32_t m = 0; m < t->size; m++) {
        const lw_jtok_t *key = &w->t[k];
        uint32_t vi = k + 1;
        const char *kp = w->s + key->start;
        size_t kn = key->end - key->start;
        char kbuf[72];
        if ((key->flags & LW_JF_ESCAPED) && kn <= sizeof(kbuf)) {
            kn = lw_json_unescape(kp, kn, kbuf);
            kp = kbuf;
        }
        uint32_t fi;
        const lw_codec_field_t *f = find_field(o, kp, kn, &fi);
        if (!f) {
            if (!o->open) {
                push_name(w, kp, kn);
                rc = fail(w, LW_OCPP_ERR_FORMAT,
                          "additionalProperties: property \"%.*s\" is not allowed", (int)kn, kp);
                break;
            }
            if (nextra == extra_cap) { /* open objects are rare; grow on the heap */
                uint32_t *n2 = malloc(2 * extra_cap * sizeof(*n2));
                if (!n2) {
                    rc = nomem(w);
                    break;
                }
                memcpy(n2, extra, nextra * sizeof(*n2));
                if (extra != extra_stack) free(extra);
                extra = n2;
                extra_cap *= 2;
            }
            extra[nextra++] = k;
            push_name(w, kp, kn);
            rc = any_value(w, vi);
            if (rc) break;
            w->depth--;
        } else {
            push_name(w, f->name, f->name_len);
            if (seen & (UINT64_C(1) << fi)) {
                rc = fail(w, LW_OCPP_ERR_FORMAT, "duplicate key \"%s\"", f->name);
                break;
            }
            seen |= UINT64_C(1) << fi;
            rc = field(w, f, vi, out);
            if (rc) break;
            w->depth--;
        }
        k = w->t[vi].next;
    }
    if (!rc) {
        uint64_t missing = o->required & ~seen;
        if (missing) {
            const lw_codec_field_t *f = &o->fields[__builtin_ctzll(missing)];
            push_name(w, f->name, f->name_len);
            rc = fail(w, LW_OCPP_ERR_OCCURRENCE_CONSTRAINT, "required: property is missing");
        }
    }
    if (!rc && nextra) rc = dup_keys(w, extra, nextra);
    if (!rc && nextra && out) { /* keep the extra members' text: "k":v,"k2":w */
        size_t total = 0;
        for (uint32_t i = 0; i < nextra; i++) {
            const lw_jtok_t *key = &w->t[extra[i]], *val = &w->t[extra[i] + 1];
            total += raw_end(val) - raw_start(key) + 1;
        }
        char *p = lw_arena_alloc(w->arena, total);
        if (!p) {
            rc = nomem(w);
        } else {
            size_t o2 = 0;
            for (uint32_t i = 0; i < nextra; i++) {
                const lw_jtok_t *key = &w->t[extra[i]], *val = &w->t[extra[i] + 1];
                if (i) p[o2++] = ',';
                size_t n = raw_end(val) - raw_start(key);
                memcpy(p + o2, w->s + raw_start(key), n);
                o2 += n;
            }
            p[o2] = 0;
            *(char **)(out + o->extra_off) = p;
        }
    }
    if (extra != extra_stack) free(extra);
    return rc;
}

static int run(const lw_codec_msg_t *m, const char *json, size_t len, void *out, lw_arena_t *arena,
               lw_codec_error_t *err, lw_jdoc_t *keep)
{
    if (err) {
        err->code = LW_OCPP_ERR_NONE;
        err->path[0] = 0;
        err->detail[0] = 0;
    }
    if (!m || (!json && len)) return LW_EINVAL;
    lw_jtok_t stack_toks[512], *toks = stack_toks;
    size_t ntok = 0;
    lw_json_err_t jerr = {0, ""};
    walk_t w = {.s = json, .arena = out ? arena : NULL, .err = err};
    int rc =
        lw_json_tokenize(json, len, toks, sizeof(stack_toks) / sizeof(stack_toks[0]), &ntok, &jerr);
    if (rc == LW_ETOOBIG && len < UINT32_MAX) {
        /* a token takes at least one byte of input, and its separator another */
        size_t cap = len / 2 + LW_JSON_DEPTH_MAX + 2;
        if (cap > LW_JSON_TOKENS_MAX) cap = LW_JSON_TOKENS_MAX;
        toks = malloc(cap * sizeof(*toks));
        if (!toks) return nomem(&w);
        rc = lw_json_tokenize(json, len, toks, cap, &ntok, &jerr);
    }
    if (rc == LW_ETOOBIG) {
        rc = fail(&w, LW_OCPP_ERR_FORMAT, "JSON: more than %d tokens", LW_JSON_TOKENS_MAX);
    } else if (rc) {
        rc = fail(&w, LW_OCPP_ERR_FORMAT, "JSON: %s at byte %zu", jerr.msg, jerr.pos);
    } else {
        w.t = toks;
        if (toks[0].type != LW_JT_OBJECT)
            rc = fail(&w, LW_OCPP_ERR_FORMAT, "payload: expected a JSON object, got %s",
                      jtype_name(toks[0].type));
        else
            rc = obj(&w, m->root, 0, out);
    }
    /* Valid: the caller keeps the tokens (lw_codec_validate_doc). */
    if (rc == 0 && keep) rc = lw_jdoc_keep(keep, json, len, toks, ntok);
    if (toks != stack_toks) free(toks);
    if (rc && w.nomem) return LW_ENOMEM;
    return rc;
}

int lw_codec_decode(const lw_codec_msg_t *m, const char *json, size_t len, void *out,
                    lw_arena_t *arena, lw_codec_error_t *err)
{
    if (!out || !arena) return LW_EINVAL;
    return run(m, json, len, out, arena, err, NULL);
}

int lw_codec_validate(const lw_codec_msg_t *m, const char *json, size_t len, lw_codec_error_t *err)
{
    return run(m, json, len, NULL, NULL, err, NULL);
}

int lw_codec_validate_doc(const lw_codec_msg_t *m, const char *json, size_t len, lw_jdoc_t *doc,
                          lw_codec_error_t *err)
{
    memset(doc, 0, sizeof *doc);
    return run(m, json, len, NULL, NULL, err, doc);
}

/* ---- encode ---------------------------------------------------------------------------- */

typedef struct enc {
    lw_buf_t *b;
    walk_t w; /* for error paths */
} enc_t;

static int put_double(lw_buf_t *b, double v)
{
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    return lw_buf_append_c(b, buf);
}

static int enc_obj(enc_t *e, const lw_codec_obj_t *o, const char *in);

static int enc_value(enc_t *e, const lw_codec_field_t *f, const char *p)
{
    lw_buf_t *b = e->b;
    switch (f->kind) {
    case LW_CK_STRING:
        return lw_buf_append_json_str(b, lw_str_c(*(char *const *)p));
    case LW_CK_ANY:
        return lw_buf_append_c(b, *(char *const *)p);
    case LW_CK_INT:
        return lw_buf_printf(b, "%" PRId64, *(const int64_t *)p);
    case LW_CK_NUMBER: {
        double v = *(const double *)p;
        if (!isfinite(v))
            return fail(&e->w, LW_OCPP_ERR_INTERNAL, "number is not finite"), LW_EINVAL;
        return put_double(b, v);
    }
    case LW_CK_BOOL:
        return lw_buf_append_c(b, *(const bool *)p ? "true" : "false");
    case LW_CK_ENUM: {
        int v = *(const int *)p;
        if (v < 1 || (uint32_t)v > f->en->count)
            return fail(&e->w, LW_OCPP_ERR_INTERNAL, "enum: %d is not a value of %s", v,
                        f->en->name),
                   LW_EINVAL;
        return lw_buf_append_json_str(b, (lw_str_t){f->en->values[v - 1], f->en->lens[v - 1]});
    }
    case LW_CK_OBJECT:
        return enc_obj(e, f->obj, p);
    default:
        return LW_EINVAL;
    }
}

static int present(const lw_codec_field_t *f, const char *in)
{
    const char *p = in + f->off;
    if (f->flags & LW_CF_ARRAY) return *(char *const *)p != NULL;
    switch (f->kind) {
    case LW_CK_STRING:
    case LW_CK_ANY:
    case LW_CK_OBJECT:
        return *(char *const *)p != NULL;
    case LW_CK_ENUM:
        return *(const int *)p != 0;
    default:
        return (f->flags & LW_CF_REQUIRED) || *(const bool *)(in + f->aux);
    }
}

static int enc_obj(enc_t *e, const lw_codec_obj_t *o, const char *in)
{
    lw_buf_t *b = e->b;
    int rc = lw_buf_putc(b, '{');
    int first = 1;
    for (uint32_t i = 0; i < o->nfields && !rc; i++) {
        const lw_codec_field_t *f = &o->fields[i];
        push_name(&e->w, f->name, f->name_len);
        if (!present(f, in)) {
            if (f->flags & LW_CF_REQUIRED)
                return fail(&e->w, LW_OCPP_ERR_OCCURRENCE_CONSTRAINT,
                            "required: property is missing"),
                       LW_EINVAL;
            e->w.depth--;
            continue;
        }
        if (!first) rc = lw_buf_putc(b, ',');
        first = 0;
        if (!rc) rc = lw_buf_append_json_str(b, (lw_str_t){f->name, f->name_len});
        if (!rc) rc = lw_buf_putc(b, ':');
        if (rc) break;
        if (f->flags & LW_CF_ARRAY) {
            const char *items = *(char *const *)(in + f->off);
            size_t n = *(const size_t *)(in + f->aux), isz = item_size(f);
            rc = lw_buf_putc(b, '[');
            for (size_t k = 0; k < n && !rc; k++) {
                if (k) rc = lw_buf_putc(b, ',');
                push_idx(&e->w, (uint32_t)k);
                if (!rc) rc = enc_value(e, f, items + k * isz);
                if (!rc) e->w.depth--;
            }
            if (!rc) rc = lw_buf_putc(b, ']');
        } else {
            const char *p = in + f->off;
            rc = enc_value(e, f, f->kind == LW_CK_OBJECT ? *(char *const *)p : p);
        }
        if (!rc) e->w.depth--;
    }
    if (!rc && o->open) {
        const char *x = *(char *const *)(in + o->extra_off);
        if (x && *x) {
            if (!first) rc = lw_buf_putc(b, ',');
            if (!rc) rc = lw_buf_append_c(b, x);
        }
    }
    if (!rc) rc = lw_buf_putc(b, '}');
    return rc;
}

int lw_codec_encode_err(const lw_codec_msg_t *m, const void *in, lw_buf_t *out,
                        lw_codec_error_t *err)
{
    if (err) {
        err->code = LW_OCPP_ERR_NONE;
        err->path[0] = 0;
        err->detail[0] = 0;
    }
    if (!m || !in || !out) return LW_EINVAL;
    size_t mark = out->len;
    enc_t e = {.b = out, .w = {.err = err}};
    int rc = enc_obj(&e, m->root, in);
    if (rc) out->len = mark;
    return rc;
}

int lw_codec_encode(const lw_codec_msg_t *m, const void *in, lw_buf_t *out)
{
    return lw_codec_encode_err(m, in, out, NULL);
}
