/*
 * codec/jdoc.h — a validated JSON payload kept as the codec's flat token array, for handlers
 * that read a few members of a message after the codec has checked it (internal to the
 * build, like the codec/gen headers; include as "codec/jdoc.h").
 *
 * Why: the CSMS validates every inbound payload and then reads members by name. Building a
 * cJSON tree for that costs one malloc per value and a second parse; lw_codec_validate_doc
 * keeps the tokens the validation produced (one allocation: text copy + tokens), and the
 * accessors below find members by a scan over the tokens. Strings are views into the kept
 * text (no copy) unless they hold escapes, which are unescaped once into an arena.
 *
 * Values are token indexes (lw_jval_t); LW_JNONE means "absent" and every accessor accepts
 * it (so lookups chain: lw_jdoc_get(d, lw_jdoc_get(d, root, "evse"), "id")).
 */
#ifndef LW_CODEC_JDOC_H
#define LW_CODEC_JDOC_H

#include "codec/json.h"
#include "ladewerk/base.h"
#include "ladewerk/codec.h"

#include <stdbool.h>
#include <stdint.h>

typedef uint32_t lw_jval_t;
#define LW_JNONE UINT32_MAX

typedef struct lw_jdoc {
    char *text;      /* owned, NUL-terminated copy of the JSON text (tokens point into it) */
    size_t len;      /* its length */
    lw_jtok_t *t;    /* tokens (same allocation as text) */
    uint32_t n;      /* token count; 0 = empty document */
    lw_arena_t *esc; /* unescaped strings, created on first need */
} lw_jdoc_t;

/* Validates json[0..len) (borrowed) against m exactly like lw_codec_validate (same verdict,
 * same err), and when it is valid keeps a copy of the text and its tokens in doc (initialised
 * here; free with lw_jdoc_free). On failure doc is empty (freeing it is harmless). Returns 0,
 * LW_ESCHEMA (err filled, may be NULL) or LW_ENOMEM. */
int lw_codec_validate_doc(const lw_codec_msg_t *m, const char *json, size_t len, lw_jdoc_t *doc,
                          lw_codec_error_t *err);
/* Tokenizes json[0..len) (borrowed, strict RFC 8259) into doc without a schema. Returns 0,
 * LW_EPARSE, LW_ETOOBIG or LW_ENOMEM (doc empty on failure). */
int lw_jdoc_parse(lw_jdoc_t *doc, const char *json, size_t len);
void lw_jdoc_free(lw_jdoc_t *doc);
/* For codec.c: initialises doc with a copy of json[0..len) and toks[0..n) (one allocation).
 * Returns 0 or LW_ENOMEM. */
int lw_jdoc_keep(lw_jdoc_t *doc, const char *json, size_t len, const lw_jtok_t *toks, size_t n);

/* The root value (LW_JNONE for an empty document). */
lw_jval_t lw_jdoc_root(const lw_jdoc_t *d);
/* Member key of object obj, or LW_JNONE (obj absent or not an object, key missing). */
lw_jval_t lw_jdoc_get(const lw_jdoc_t *d, lw_jval_t obj, const char *key);
/* lw_jtype_t of v, 0 for LW_JNONE. */
int lw_jdoc_type(const lw_jdoc_t *d, lw_jval_t v);
/* String value as a view valid until lw_jdoc_free; LW_STR_NULL when v is not a string. Not
 * NUL-terminated in general. */
lw_str_t lw_jdoc_str(lw_jdoc_t *d, lw_jval_t v);
/* Number value: *out and true when v is a number (integers: truncated toward zero, as a
 * C cast of the double would, for values that fit int64_t). */
bool lw_jdoc_int(const lw_jdoc_t *d, lw_jval_t v, int64_t *out);
bool lw_jdoc_num(const lw_jdoc_t *d, lw_jval_t v, double *out);
bool lw_jdoc_is_true(const lw_jdoc_t *d, lw_jval_t v);
/* Elements of an array / members of an object; 0 for anything else. */
uint32_t lw_jdoc_count(const lw_jdoc_t *d, lw_jval_t v);
/* First element of array arr (LW_JNONE when empty or not an array), and the element after e
 * in arr (LW_JNONE after the last). */
lw_jval_t lw_jdoc_first(const lw_jdoc_t *d, lw_jval_t arr);
lw_jval_t lw_jdoc_next(const lw_jdoc_t *d, lw_jval_t arr, lw_jval_t e);
/* For each element e of array arr. */
#define LW_JDOC_EACH(d, arr, e)                                                                    \
    for (lw_jval_t e = lw_jdoc_first((d), (arr)); e != LW_JNONE; e = lw_jdoc_next((d), (arr), e))

/* The value's JSON text exactly as received (strings with their quotes). */
lw_str_t lw_jdoc_raw(const lw_jdoc_t *d, lw_jval_t v);
/* Appends v's JSON text without insignificant whitespace to out, in the form cJSON's
 * cJSON_PrintUnformatted gives for the same value. Only for values where that form is the
 * received text minus whitespace: no escaped strings, numbers only plain integers that fit
 * an int. Returns 0, LW_ENOTSUP (v is not such a value: out unchanged), LW_EINVAL (absent)
 * or out's error. */
int lw_jdoc_compact(const lw_jdoc_t *d, lw_jval_t v, lw_buf_t *out);

#endif
