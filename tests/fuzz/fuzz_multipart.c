/*
 * fuzz_multipart.c — fuzz target for the multipart/form-data reader of the upload routes
 * (csms/api/api_multipart.c): any Content-Type and body must give a result code, never a
 * crash, and every returned view must lie inside its input. Input layout: the first line is
 * the Content-Type value, the rest the body.
 */
#include "api/api.h"

#include <stdlib.h>
#include <string.h>

static void inside(lw_str_t s, const char *buf, size_t len)
{
    if (s.len && (!s.p || s.p < buf || s.p + s.len > buf + len)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* copy so that reads past the end are caught by ASan */
    char *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    if (size) memcpy(buf, data, size);
    const char *nl = size ? memchr(buf, '\n', size) : NULL;
    size_t hl = nl ? (size_t)(nl - buf) : size;
    lw_str_t ct = {buf, hl};
    lw_str_t body = nl ? (lw_str_t){nl + 1, size - hl - 1} : (lw_str_t){buf + size, 0};
    lw_str_t boundary;
    if (lw_api_multipart_boundary(ct, &boundary) == 0) {
        inside(boundary, buf, hl);
        if (boundary.len < 1 || boundary.len > 70) abort();
        lw_api_part_t p;
        if (lw_api_multipart_file(body, boundary, &p) == 0) {
            inside(p.name, body.p, body.len);
            inside(p.filename, body.p, body.len);
            inside(p.content_type, body.p, body.len);
            inside(p.data, body.p, body.len);
        }
    }
    /* The body alone against a fixed boundary reaches the part parser more often. */
    lw_api_part_t p;
    if (lw_api_multipart_file((lw_str_t){buf, size}, LW_STR("b"), &p) == 0)
        inside(p.data, buf, size);
    free(buf);
    return 0;
}
