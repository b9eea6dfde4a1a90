/*
 * api/api_multipart.c — the multipart/form-data reader (RFC 7578 over RFC 2046 §5.1) that
 * the upload routes use: chargers commonly send diagnostics and logs as an HTTP POST with one
 * file part, and operators upload firmware with `curl -F file=@image.bin`. Pure functions
 * over (bytes, length): no I/O, no allocation; every result is a view into the input. Fuzzed
 * by tests/fuzz/fuzz_multipart.c.
 */
#include "api/api.h"

#include <string.h>

/* First occurrence of needle in hay, or NULL. */
static const char *find(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
    if (nlen == 0 || hlen < nlen) return NULL;
    const char *end = hay + hlen - nlen;
    for (const char *p = hay; p <= end; p++) {
        p = memchr(p, needle[0], (size_t)(end - p) + 1);
        if (!p) return NULL;
        if (memcmp(p, needle, nlen) == 0) return p;
    }
    return NULL;
}

static bool ci_prefix(lw_str_t s, const char *pre)
{
    size_t n = strlen(pre);
    return s.len >= n && lw_str_case_eq_c((lw_str_t){s.p, n}, pre);
}

static lw_str_t trim(lw_str_t s)
{
    while (s.len && (s.p[0] == ' ' || s.p[0] == '\t'))
        s.p++, s.len--;
    while (s.len && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
        s.len--;
    return s;
}

/* Finds parameter `name` in a header value "type; a=b; c=\"d\"" after its first ';'. A
 * quoted value is returned without its quotes (backslash escapes are kept as sent: a file
 * name with a quote in it gets sanitized by the caller anyway). 1 found, 0 absent, -1 bad. */
static int param(lw_str_t v, const char *name, lw_str_t *out)
{
    size_t i = 0, nlen = strlen(name);
    while (i < v.len && v.p[i] != ';') {
        if (v.p[i] == '"') return -1; /* no quotes in the type itself */
        i++;
    }
    while (i < v.len) {
        i++; /* past ';' */
        while (i < v.len && (v.p[i] == ' ' || v.p[i] == '\t'))
            i++;
        size_t ks = i;
        while (i < v.len && v.p[i] != '=' && v.p[i] != ';')
            i++;
        lw_str_t key = trim((lw_str_t){v.p + ks, i - ks});
        lw_str_t val = LW_STR("");
        if (i < v.len && v.p[i] == '=') {
            i++;
            while (i < v.len && (v.p[i] == ' ' || v.p[i] == '\t'))
                i++;
            if (i < v.len && v.p[i] == '"') {
                size_t vs = ++i;
                while (i < v.len && v.p[i] != '"') {
                    if (v.p[i] == '\\') i++;
                    i++;
                }
                if (i >= v.len) return -1; /* unterminated quote */
                val = (lw_str_t){v.p + vs, i - vs};
                i++;
                while (i < v.len && v.p[i] != ';')
                    i++;
            } else {
                size_t vs = i;
                while (i < v.len && v.p[i] != ';')
                    i++;
                val = trim((lw_str_t){v.p + vs, i - vs});
            }
        }
        if (key.len == nlen && lw_str_case_eq_c(key, name)) {
            *out = val;
            return 1;
        }
    }
    return 0;
}

int lw_api_multipart_boundary(lw_str_t content_type, lw_str_t *out)
{
    lw_str_t ct = trim(content_type);
    if (!ct.p || !ci_prefix(ct, "multipart/form-data")) return LW_ENOTFOUND;
    if (ct.len > 19 && ct.p[19] != ';' && ct.p[19] != ' ' && ct.p[19] != '\t')
        return LW_ENOTFOUND; /* "multipart/form-dataX" */
    lw_str_t b;
    if (param(ct, "boundary", &b) != 1) return LW_EPARSE;
    /* RFC 2046 §5.1.1: 1 to 70 characters from bchars, not ending in a space. */
    if (b.len < 1 || b.len > 70 || b.p[b.len - 1] == ' ') return LW_EPARSE;
    for (size_t i = 0; i < b.len; i++) {
        unsigned char ch = (unsigned char)b.p[i];
        if (ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\') return LW_EPARSE;
    }
    *out = b;
    return 0;
}

/* Parses the header lines of one part (h, up to the empty line). 0 or LW_EPARSE. */
static int part_headers(lw_str_t h, lw_api_part_t *p)
{
    size_t i = 0;
    while (i < h.len) {
        const char *eol = find(h.p + i, h.len - i, "\r\n", 2);
        size_t le = eol ? (size_t)(eol - h.p) : h.len;
        lw_str_t line = {h.p + i, le - i};
        i = eol ? le + 2 : h.len;
        if (line.len == 0) continue;
        const char *colon = memchr(line.p, ':', line.len);
        if (!colon || colon == line.p) return LW_EPARSE;
        lw_str_t name = {line.p, (size_t)(colon - line.p)};
        lw_str_t val = trim((lw_str_t){colon + 1, line.len - name.len - 1});
        for (size_t k = 0; k < line.len; k++)
            if ((unsigned char)line.p[k] < 0x20 && line.p[k] != '\t') return LW_EPARSE;
        if (lw_str_case_eq_c(name, "Content-Disposition")) {
            if (!ci_prefix(val, "form-data") && !ci_prefix(val, "attachment")) return LW_EPARSE;
            lw_str_t v;
            int r = param(val, "name", &v);
            if (r < 0) return LW_EPARSE;
            if (r == 1) p->name = v;
            r = param(val, "filename", &v);
            if (r < 0) return LW_EPARSE;
            if (r == 1) p->filename = v;
        } else if (lw_str_case_eq_c(name, "Content-Type")) {
            p->content_type = val;
        }
    }
    return 0;
}

int lw_api_multipart_file(lw_str_t body, lw_str_t boundary, lw_api_part_t *out)
{
    if (!body.p || boundary.len == 0 || boundary.len > 70) return LW_EPARSE;
    char delim[2 + 2 + 70]; /* "\r\n--" + boundary; the first one may lack the CRLF */
    memcpy(delim, "\r\n--", 4);
    memcpy(delim + 4, boundary.p, boundary.len);
    size_t dlen = 4 + boundary.len;

    /* The first delimiter: at the very start (no preamble) or after a preamble's CRLF. */
    size_t pos;
    if (body.len >= dlen - 2 && memcmp(body.p, delim + 2, dlen - 2) == 0) {
        pos = dlen - 2;
    } else {
        const char *d = find(body.p, body.len, delim, dlen);
        if (!d) return LW_EPARSE;
        pos = (size_t)(d - body.p) + dlen;
    }
    lw_api_part_t first = {LW_STR(""), LW_STR(""), LW_STR(""), LW_STR_NULL};
    bool have_first = false;
    for (int n = 0;; n++) {
        /* After a delimiter: "--" ends the body; else optional LWSP then CRLF. */
        if (body.len - pos >= 2 && body.p[pos] == '-' && body.p[pos + 1] == '-') break;
        while (pos < body.len && (body.p[pos] == ' ' || body.p[pos] == '\t'))
            pos++;
        if (body.len - pos < 2 || body.p[pos] != '\r' || body.p[pos + 1] != '\n') return LW_EPARSE;
        pos += 2;
        if (n >= LW_API_MULTIPART_PARTS_MAX) return LW_EPARSE;
        lw_api_part_t p = {LW_STR(""), LW_STR(""), LW_STR(""), LW_STR_NULL};
        /* Headers end at an empty line; a part with no headers starts with CRLF at once. */
        size_t hend;
        if (body.len - pos >= 2 && body.p[pos] == '\r' && body.p[pos + 1] == '\n') {
            hend = pos;
            pos += 2;
        } else {
            const char *e = find(body.p + pos, body.len - pos, "\r\n\r\n", 4);
            if (!e) return LW_EPARSE;
            hend = (size_t)(e - body.p);
            if (part_headers((lw_str_t){body.p + pos, hend - pos}, &p) != 0) return LW_EPARSE;
            pos = hend + 4;
        }
        const char *d = find(body.p + pos, body.len - pos, delim, dlen);
        if (!d) return LW_EPARSE; /* unterminated part */
        p.data = (lw_str_t){body.p + pos, (size_t)(d - body.p) - pos};
        pos = (size_t)(d - body.p) + dlen;
        if (p.filename.len) {
            *out = p;
            return 0;
        }
        if (!have_first) first = p, have_first = true;
    }
    if (!have_first) return LW_ENOTFOUND;
    *out = first;
    return 0;
}
