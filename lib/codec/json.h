/*
 * json.h — the codec's strict JSON tokenizer (RFC 8259), internal to lib/codec.
 *
 * Why not jsmn: jsmn (even with JSMN_STRICT) accepts `[1 2]`, `[1,,2]`, `{"a":1,}`,
 * `{"a" "b"}` and `[tru]`, and checks neither number grammar, string escapes nor UTF-8, so it
 * would need a second pass over every byte. This tokenizer is one pass, keeps jsmn's idea
 * (a flat array of tokens pointing into the input, no allocation) and rejects everything
 * RFC 8259 rejects, plus lone surrogates, and nesting deeper than LW_JSON_DEPTH_MAX.
 * Pure function over (bytes, length); fuzzed by tests/fuzz/fuzz_codec.c.
 */
#ifndef LW_CODEC_JSON_H
#define LW_CODEC_JSON_H

#include <stddef.h>
#include <stdint.h>

typedef enum lw_jtype {
    LW_JT_OBJECT = 1,
    LW_JT_ARRAY,
    LW_JT_STRING,
    LW_JT_NUMBER,
    LW_JT_TRUE,
    LW_JT_FALSE,
    LW_JT_NULL,
} lw_jtype_t;

enum { LW_JF_ESCAPED = 1 }; /* string contains backslash escapes */

typedef struct lw_jtok {
    uint8_t type;   /* lw_jtype_t */
    uint8_t flags;  /* LW_JF_* */
    uint32_t start; /* strings: first byte after the quote; others: first byte */
    uint32_t end;   /* strings: the closing quote; others: one past the last byte */
    uint32_t size;  /* objects: members; arrays: elements; strings: Unicode code points */
    uint32_t next;  /* index of the first token after this value's subtree */
} lw_jtok_t;
/* An object's member is its key (a string token) followed by the value's subtree. */

typedef struct lw_json_err {
    size_t pos;      /* byte offset of the problem */
    const char *msg; /* static text */
} lw_json_err_t;

/* Tokenizes s[0..len) (borrowed) into toks[0..max). Returns 0 with *ntok set; LW_EPARSE with
 * err filled (bad grammar, depth, trailing bytes); LW_ETOOBIG when more than max tokens are
 * needed. Inputs are limited to 4 GiB - 1 (offsets are 32-bit): LW_ETOOBIG beyond. */
int lw_json_tokenize(const char *s, size_t len, lw_jtok_t *toks, size_t max, size_t *ntok,
                     lw_json_err_t *err);

/* Unescapes the content of a string token s[0..n) (already validated by the tokenizer) into
 * out, which must hold n bytes. Returns the unescaped length (always <= n). */
size_t lw_json_unescape(const char *s, size_t n, char *out);

#endif
