/*
 * fuzz_codec.c — libFuzzer target for the codec (lib/codec: tokenizer, decode, validate,
 * encode). Input: byte 0 picks the version (b % 3) and request/response ((b / 3) % 2),
 * byte 1 the action (index into that version's table, modulo its length); the rest is the
 * payload. Properties checked: decode, validate and validate_doc agree; a decoded message
 * encodes, and the encoding decodes again and encodes to the same bytes; every token of a
 * kept document can be read through the jdoc accessors, and raw values stay inside the text.
 */
#include "codec/jdoc.h"
#include "ladewerk/codec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    lw_ocpp_version_t v = (lw_ocpp_version_t)(data[0] % 3);
    int resp = (data[0] / 3) % 2;
    size_t n;
    const lw_codec_action_t *a = lw_codec_actions(v, &n);
    const lw_codec_action_t *act = &a[data[1] % n];
    const lw_codec_msg_t *m = resp && act->response ? act->response : act->request;
    const char *json = (const char *)data + 2;
    size_t len = size - 2;

    lw_codec_error_t e1, e2;
    int rv = lw_codec_validate(m, json, len, &e1);
    lw_arena_t arena;
    lw_arena_init(&arena, 0);
    void *s1 = calloc(1, lw_codec_msg_size(m)), *s2 = calloc(1, lw_codec_msg_size(m));
    int rd = lw_codec_decode(m, json, len, s1, &arena, &e2);
    if (rv != rd || (rv == LW_ESCHEMA && (e1.code != e2.code || strcmp(e1.path, e2.path)))) abort();
    lw_jdoc_t doc;
    int rk = lw_codec_validate_doc(m, json, len, &doc, &e2);
    if (rk != rv || (rv == LW_ESCHEMA && (e1.code != e2.code || strcmp(e1.path, e2.path)))) abort();
    for (lw_jval_t t = 0; t < doc.n; t++) {
        int64_t i;
        double x;
        lw_str_t raw = lw_jdoc_raw(&doc, t), s = lw_jdoc_str(&doc, t);
        if (raw.p < doc.text || raw.p + raw.len > doc.text + doc.len) abort();
        if (s.p && s.len > raw.len) abort();
        lw_jdoc_int(&doc, t, &i);
        lw_jdoc_num(&doc, t, &x);
        if (lw_jdoc_type(&doc, t) == LW_JT_OBJECT) lw_jdoc_get(&doc, t, "id");
        LW_JDOC_EACH(&doc, t, e) lw_jdoc_type(&doc, e);
    }
    if (rk == 0) {
        lw_buf_t c;
        lw_buf_init(&c, len + 1);
        int rc = lw_jdoc_compact(&doc, 0, &c);
        if (rc != 0 && rc != LW_ENOTSUP) abort();
        if (rc == 0 && c.len > len) abort();
        lw_buf_free(&c);
    }
    lw_jdoc_free(&doc);
    if (rd == 0) {
        lw_buf_t b1, b2;
        lw_buf_init(&b1, 1 << 24);
        lw_buf_init(&b2, 1 << 24);
        if (lw_codec_encode(m, s1, &b1) != 0) abort();
        if (lw_codec_decode(m, b1.data, b1.len, s2, &arena, &e2) != 0) abort();
        if (lw_codec_encode(m, s2, &b2) != 0) abort();
        if (b1.len != b2.len || memcmp(b1.data, b2.data, b1.len) != 0) abort();
        lw_buf_free(&b1);
        lw_buf_free(&b2);
    }
    free(s1);
    free(s2);
    lw_arena_free(&arena);
    return 0;
}
