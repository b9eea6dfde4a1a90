/*
 * tests/unit/api/test_openapi.c — the OpenAPI document built into the binary
 * (csms/web/assets/openapi.json) and the router's table (lw_api_routes) must agree: every
 * route is documented with its method, every documented operation is routed, public routes
 * say so ("security": []), and each operation states the role the router enforces.
 */
#include "api/api.h"
#include "test.h"
#include "web/assets.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdlib.h>

static cJSON *load_doc(void)
{
    for (const lw_asset_t *a = lw_web_assets; a->name; a++)
        if (!strcmp(a->name, "openapi.json"))
            return cJSON_ParseWithLength((const char *)a->data, a->len);
    return NULL;
}

static void lower(const char *in, char *out, size_t n)
{
    size_t i = 0;
    for (; in[i] && i + 1 < n; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[i] = 0;
}

LW_TEST(document_parses)
{
    cJSON *doc = load_doc();
    LW_CHECK(doc != NULL);
    if (!doc) return;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, "openapi");
    LW_CHECK(cJSON_IsString(v) && !strncmp(v->valuestring, "3.", 2));
    LW_CHECK(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "paths")));
    cJSON_Delete(doc);
}

LW_TEST(every_route_is_documented)
{
    cJSON *doc = load_doc();
    if (!doc) {
        LW_FAILF("no openapi.json asset");
        return;
    }
    const cJSON *paths = cJSON_GetObjectItemCaseSensitive(doc, "paths");
    size_t n;
    const lw_api_route_info_t *r = lw_api_routes(&n);
    LW_CHECK(n > 30);
    for (size_t i = 0; i < n; i++) {
        char m[16];
        lower(r[i].method, m, sizeof m);
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(paths, r[i].path);
        const cJSON *op = p ? cJSON_GetObjectItemCaseSensitive(p, m) : NULL;
        if (!op) {
            LW_FAILF("route %s %s is not in openapi.json", r[i].method, r[i].path);
            continue;
        }
        const cJSON *sec = cJSON_GetObjectItemCaseSensitive(op, "security");
        bool doc_public = cJSON_IsArray(sec) && cJSON_GetArraySize(sec) == 0;
        if (doc_public != r[i].public_)
            LW_FAILF("%s %s: router public=%d, document public=%d", r[i].method, r[i].path,
                     r[i].public_, doc_public);
        const char *desc =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(op, "description"));
        char want[64];
        snprintf(want, sizeof want, "Needs role: %s.", lw_api_role_name(r[i].role));
        if (!r[i].public_ && (!desc || !strstr(desc, want)))
            LW_FAILF("%s %s: description should say \"%s\", says \"%s\"", r[i].method, r[i].path,
                     want, desc ? desc : "(none)");
        /* every {param} of the path is declared */
        for (const char *b = strchr(r[i].path, '{'); b; b = strchr(b + 1, '{')) {
            const char *e = strchr(b, '}');
            char name[32];
            snprintf(name, sizeof name, "%.*s", (int)(e - b - 1), b + 1);
            bool found = false;
            const cJSON *prm;
            cJSON_ArrayForEach(prm, cJSON_GetObjectItemCaseSensitive(op, "parameters"))
            {
                const char *pn =
                    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(prm, "name"));
                const char *in = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(prm, "in"));
                if (pn && in && !strcmp(pn, name) && !strcmp(in, "path")) found = true;
            }
            if (!found)
                LW_FAILF("%s %s: path parameter %s not declared", r[i].method, r[i].path, name);
        }
    }
    cJSON_Delete(doc);
}

LW_TEST(every_documented_operation_is_routed)
{
    cJSON *doc = load_doc();
    if (!doc) {
        LW_FAILF("no openapi.json asset");
        return;
    }
    size_t n;
    const lw_api_route_info_t *r = lw_api_routes(&n);
    const cJSON *p;
    int ops = 0;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(doc, "paths"))
    {
        const cJSON *op;
        cJSON_ArrayForEach(op, p)
        {
            static const char *const methods[] = {"get",    "post", "put",     "patch",
                                                  "delete", "head", "options", NULL};
            bool is_method = false;
            for (const char *const *m = methods; *m; m++)
                if (!strcmp(op->string, *m)) is_method = true;
            if (!is_method) continue;
            ops++;
            bool routed = false;
            for (size_t i = 0; i < n; i++) {
                char m[16];
                lower(r[i].method, m, sizeof m);
                if (!strcmp(r[i].path, p->string) && !strcmp(m, op->string)) routed = true;
            }
            if (!routed) LW_FAILF("documented %s %s has no route", op->string, p->string);
        }
    }
    LW_CHECK_INT(ops, n);
    cJSON_Delete(doc);
}

int main(void)
{
    LW_RUN(document_parses);
    LW_RUN(every_route_is_documented);
    LW_RUN(every_documented_operation_is_routed);
    return lw_test_done();
}
