/*
 * tests/unit/api/test_api_files.c — files between operators and stations (csms/api/
 * api_files.c, api_multipart.c): the multipart reader, firmware images (upload, list, get,
 * public download, delete, the UpdateFirmware shortcut with firmware_id), diagnostics / log
 * upload slots (the GetDiagnostics / GetLog shortcut without a location, station uploads as
 * raw and multipart bodies, expiry, listing and download), the station firmware status read
 * and the body limits. Files go to a fresh temporary directory; the shortcuts' payloads are
 * checked by the real codec (lw_api_codec_check). No sockets.
 */
#define _XOPEN_SOURCE 700
#include "api_request.h"
#include "fake_backend.h"
#include "test.h"

#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static lw_manual_clock_t clk;
static fake_t fk;
static lw_api_t *api;
static char tmpdir[256];

#define PUB "http://127.0.0.1:8080"

/* One request with a body of blen bytes; up to two extra headers (name, value pairs). */
static resp_t reqb(const char *method, const char *target, const char *token, const char *body,
                   size_t blen, const char *h1, const char *v1, const char *h2, const char *v2)
{
    return api_request(api, method, target, token, body, blen, h1, v1, h2, v2);
}

static resp_t req(const char *method, const char *target, const char *token, const char *body)
{
    return reqb(method, target, token, body, body ? strlen(body) : 0, NULL, NULL, NULL, NULL);
}

static const char *js(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsString(v)) return v->valuestring;
    if (cJSON_IsNull(v)) return "(null)";
    return v ? "(other)" : "(absent)";
}

static double jnum(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb, (void)flag, (void)f;
    return remove(p);
}

static void setup(bool files)
{
    fk_init(&fk);
    lw_manual_clock_init(&clk, 1700000000000);
    lw_api_backend_t be = fk_backend(&fk);
    be.action_check = lw_api_codec_check;
    api = lw_api_new(&be, &clk.clock);
    fk.api = api;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lw-api-files-XXXXXX");
    LW_CHECK(mkdtemp(tmpdir) != NULL);
    if (files) {
        char d[300];
        snprintf(d, sizeof d, "%s/files", tmpdir);
        LW_CHECK_INT(lw_api_set_files(api, d, PUB "/"), 0);
    }
}

static void teardown(void)
{
    lw_api_free(api);
    fk_free(&fk);
    api = NULL;
    nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- multipart ----------------------------------------------------------------------------- */

LW_TEST(multipart_boundary)
{
    lw_str_t b;
    LW_CHECK_INT(lw_api_multipart_boundary(LW_STR("multipart/form-data; boundary=abc123"), &b), 0);
    LW_CHECK_MEM(b.p, b.len, "abc123", 6);
    LW_CHECK_INT(
        lw_api_multipart_boundary(LW_STR("Multipart/Form-Data;charset=x; boundary=\"a b:c\""), &b),
        0);
    LW_CHECK_MEM(b.p, b.len, "a b:c", 5);
    LW_CHECK_INT(lw_api_multipart_boundary(LW_STR("application/octet-stream"), &b), LW_ENOTFOUND);
    LW_CHECK_INT(lw_api_multipart_boundary(LW_STR("multipart/form-dataX; boundary=a"), &b),
                 LW_ENOTFOUND);
    LW_CHECK_INT(lw_api_multipart_boundary(LW_STR("multipart/form-data"), &b), LW_EPARSE);
    LW_CHECK_INT(lw_api_multipart_boundary(LW_STR("multipart/form-data; boundary="), &b),
                 LW_EPARSE);
    LW_CHECK_INT(lw_api_multipart_boundary(LW_STR("multipart/form-data; boundary=\"abc"), &b),
                 LW_EPARSE);
    char longb[120];
    snprintf(longb, sizeof longb, "multipart/form-data; boundary=%071d", 0);
    LW_CHECK_INT(lw_api_multipart_boundary(lw_str_c(longb), &b), LW_EPARSE);
}

LW_TEST(multipart_file)
{
    lw_api_part_t p;
    /* A form field, then the file; binary data with CRLFs and a near-delimiter inside. */
    static const char body[] = "preamble\r\n"
                               "--XyZ\r\n"
                               "Content-Disposition: form-data; name=\"note\"\r\n"
                               "\r\n"
                               "hello\r\n"
                               "--XyZ\r\n"
                               "Content-Disposition: form-data; name=\"file\"; "
                               "filename=\"diag 1.zip\"\r\n"
                               "Content-Type: application/zip\r\n"
                               "\r\n"
                               "PK\r\n--XY\r\n\0end\r\n"
                               "--XyZ--\r\nepilogue";
    LW_CHECK_INT(lw_api_multipart_file((lw_str_t){body, sizeof body - 1}, LW_STR("XyZ"), &p), 0);
    LW_CHECK_MEM(p.name.p, p.name.len, "file", 4);
    LW_CHECK_MEM(p.filename.p, p.filename.len, "diag 1.zip", 10);
    LW_CHECK_MEM(p.content_type.p, p.content_type.len, "application/zip", 15);
    LW_CHECK_MEM(p.data.p, p.data.len, "PK\r\n--XY\r\n\0end", 14);

    /* No part has a filename: the first part. No preamble. */
    static const char b2[] = "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nAAA\r\n"
                             "--b\r\nContent-Disposition: form-data; name=\"c\"\r\n\r\nC\r\n--b--";
    LW_CHECK_INT(lw_api_multipart_file(lw_str_c(b2), LW_STR("b"), &p), 0);
    LW_CHECK_MEM(p.data.p, p.data.len, "AAA", 3);
    LW_CHECK_INT((int)p.filename.len, 0);

    /* A part without headers. */
    LW_CHECK_INT(lw_api_multipart_file(LW_STR("--b\r\n\r\nraw\r\n--b--"), LW_STR("b"), &p), 0);
    LW_CHECK_MEM(p.data.p, p.data.len, "raw", 3);

    /* Nothing but the close delimiter; malformed bodies. */
    LW_CHECK_INT(lw_api_multipart_file(LW_STR("--b--\r\n"), LW_STR("b"), &p), LW_ENOTFOUND);
    LW_CHECK_INT(lw_api_multipart_file(LW_STR("no delimiter at all"), LW_STR("b"), &p), LW_EPARSE);
    LW_CHECK_INT(lw_api_multipart_file(LW_STR("--b\r\nContent-Disposition: form-data\r\n\r\nx"),
                                       LW_STR("b"), &p),
                 LW_EPARSE); /* unterminated */
    LW_CHECK_INT(
        lw_api_multipart_file(LW_STR("--b\r\nno colon here\r\n\r\nx\r\n--b--"), LW_STR("b"), &p),
        LW_EPARSE);
    LW_CHECK_INT(lw_api_multipart_file(LW_STR("--bjunk"), LW_STR("b"), &p), LW_EPARSE);
    /* Too many parts before a file. */
    lw_buf_t many;
    lw_buf_init(&many, 1 << 16);
    for (int i = 0; i <= LW_API_MULTIPART_PARTS_MAX; i++)
        lw_buf_append_c(&many, "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nv\r\n");
    lw_buf_append_c(&many,
                    "--b\r\nContent-Disposition: form-data; filename=\"f\"\r\n\r\nF\r\n--b--");
    LW_CHECK_INT(lw_api_multipart_file(lw_buf_view(&many), LW_STR("b"), &p), LW_EPARSE);
    lw_buf_free(&many);
}

/* ---- firmware ------------------------------------------------------------------------------ */

LW_TEST(firmware_not_configured)
{
    setup(false);
    resp_t r = req("GET", "/api/v1/firmware", "viewer-tok", "");
    LW_CHECK_INT(r.status, 501);
    resp_free(&r);
    r = req("GET", "/files/firmware/00000000000000000000000000000000/a.bin", NULL, "");
    LW_CHECK_INT(r.status, 501);
    resp_free(&r);
    char url[256];
    LW_CHECK_INT(lw_api_firmware_url(api, LW_STR("x"), url, sizeof url), LW_ENOTSUP);
    LW_CHECK_INT(lw_api_set_files(api, tmpdir, "ftp://x"), LW_EINVAL);
    LW_CHECK_INT(lw_api_set_files(api, "", PUB), LW_EINVAL);
    teardown();
}

LW_TEST(firmware_upload_list_download_delete)
{
    setup(true);
    /* roles, names, empty bodies */
    resp_t r = req("POST", "/api/v1/firmware?filename=a.bin", "viewer-tok", "abc");
    LW_CHECK_INT(r.status, 403);
    resp_free(&r);
    r = req("POST", "/api/v1/firmware", "op-tok", "abc");
    LW_CHECK_INT(r.status, 400);
    LW_CHECK_STR(js(r.json, "error"), "missing_filename");
    resp_free(&r);
    r = req("POST", "/api/v1/firmware?filename=a.bin", "op-tok", "");
    LW_CHECK_INT(r.status, 400);
    resp_free(&r);
    r = req("POST", "/api/v1/firmware?filename=..%2F..", "op-tok", "abc");
    LW_CHECK_INT(r.status, 400);
    LW_CHECK_STR(js(r.json, "error"), "invalid_filename");
    resp_free(&r);

    /* upload: the name is sanitized, the digest and size recorded */
    r = req("POST", "/api/v1/firmware?filename=..%2Ffw%201.0.bin", "op-tok", "abc");
    LW_CHECK_INT(r.status, 201);
    LW_CHECK_STR(js(r.json, "name"), "fw_1.0.bin");
    LW_CHECK(jnum(r.json, "size") == 3);
    LW_CHECK_STR(js(r.json, "sha256"),
                 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    LW_CHECK_STR(js(r.json, "uploaded_at"), "2023-11-14T22:13:20.000Z");
    char id[64], url[256];
    snprintf(id, sizeof id, "%s", js(r.json, "id"));
    LW_CHECK_INT((int)strlen(id), 32);
    snprintf(url, sizeof url, PUB "/files/firmware/%s/fw_1.0.bin", id);
    LW_CHECK_STR(js(r.json, "url"), url);
    resp_free(&r);

    char built[256];
    LW_CHECK_INT(lw_api_firmware_url(api, lw_str_c(id), built, sizeof built), 0);
    LW_CHECK_STR(built, url);
    LW_CHECK_INT(
        lw_api_firmware_url(api, LW_STR("0123456789abcdef0123456789abcdef"), built, sizeof built),
        LW_ENOTFOUND);
    LW_CHECK_INT(lw_api_firmware_url(api, lw_str_c(id), built, 20), LW_ETOOBIG);

    /* the same bytes under the same name: the same record */
    r = reqb("POST", "/api/v1/firmware", "admin-tok", "abc", 3, "X-Filename", "fw 1.0.bin", NULL,
             NULL);
    LW_CHECK_INT(r.status, 200);
    LW_CHECK_STR(js(r.json, "id"), id);
    resp_free(&r);

    /* multipart, as curl -F sends it */
    static const char mp[] =
        "--zz\r\nContent-Disposition: form-data; name=\"file\"; "
        "filename=\"C:\\\\images\\\\v2.img\"\r\n\r\n\x01\x02\x03\r\n--zz--\r\n";
    r = reqb("POST", "/api/v1/firmware", "op-tok", mp, sizeof mp - 1, "Content-Type",
             "multipart/form-data; boundary=zz", NULL, NULL);
    LW_CHECK_INT(r.status, 201);
    LW_CHECK_STR(js(r.json, "name"), "v2.img");
    LW_CHECK(jnum(r.json, "size") == 3);
    char id2[64];
    snprintf(id2, sizeof id2, "%s", js(r.json, "id"));
    resp_free(&r);

    /* list (newest first; same clock: by id), get */
    clk.wall += 1000;
    r = req("GET", "/api/v1/firmware", "viewer-tok", "");
    LW_CHECK_INT(r.status, 200);
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(r.json, "items");
    LW_CHECK_INT(cJSON_GetArraySize(items), 2);
    LW_CHECK_STR(js(cJSON_GetArrayItem(items, 0), "url")[0] ? "ok" : "", "ok");
    LW_CHECK_STR(js(cJSON_GetArrayItem(items, 0), "uploaded_ms"), "(absent)");
    resp_free(&r);
    char path[256];
    snprintf(path, sizeof path, "/api/v1/firmware/%s", id);
    r = req("GET", path, "viewer-tok", "");
    LW_CHECK_INT(r.status, 200);
    LW_CHECK_STR(js(r.json, "name"), "fw_1.0.bin");
    resp_free(&r);

    /* public download: no token; a wrong name or id says nothing more than 404 */
    snprintf(path, sizeof path, "/files/firmware/%s/fw_1.0.bin", id);
    r = req("GET", path, NULL, "");
    LW_CHECK_INT(r.status, 200);
    LW_CHECK_MEM(r.body, r.len, "abc", 3);
    LW_CHECK(strstr(r.headers, "Content-Disposition: attachment; filename=\"fw_1.0.bin\"") != NULL);
    LW_CHECK(strstr(r.headers, "application/octet-stream") != NULL);
    resp_free(&r);
    snprintf(path, sizeof path, "/files/firmware/%s/other.bin", id);
    r = req("GET", path, NULL, "");
    LW_CHECK_INT(r.status, 404);
    resp_free(&r);
    r = req("GET", "/files/firmware/0123456789abcdef0123456789abcdef/fw_1.0.bin", NULL, "");
    LW_CHECK_INT(r.status, 404);
    resp_free(&r);
    r = req("GET", "/files/firmware/..%2F..%2Fetc/passwd", NULL, "");
    LW_CHECK_INT(r.status, 404);
    resp_free(&r);

    /* delete */
    snprintf(path, sizeof path, "/api/v1/firmware/%s", id);
    r = req("DELETE", path, "viewer-tok", "");
    LW_CHECK_INT(r.status, 403);
    resp_free(&r);
    r = req("DELETE", path, "op-tok", "");
    LW_CHECK_INT(r.status, 204);
    resp_free(&r);
    r = req("DELETE", path, "op-tok", "");
    LW_CHECK_INT(r.status, 404);
    resp_free(&r);
    r = req("GET", path, "op-tok", "");
    LW_CHECK_INT(r.status, 404);
    resp_free(&r);
    snprintf(path, sizeof path, "/files/firmware/%s/fw_1.0.bin", id);
    r = req("GET", path, NULL, "");
    LW_CHECK_INT(r.status, 404);
    resp_free(&r);

    r = req("GET", "/metrics", NULL, "");
    LW_CHECK(strstr(r.body, "ladewerk_api_firmware_uploads_total 2\n") != NULL);
    resp_free(&r);
    (void)id2;
    teardown();
}

LW_TEST(firmware_shortcut_uses_the_served_url)
{
    setup(true);
    resp_t r = req("POST", "/api/v1/firmware?filename=img.bin", "op-tok", "IMAGE");
    LW_CHECK_INT(r.status, 201);
    char id[64], url[256], body[128];
    snprintf(id, sizeof id, "%s", js(r.json, "id"));
    snprintf(url, sizeof url, "%s", js(r.json, "url"));
    resp_free(&r);

    snprintf(body, sizeof body, "{\"firmware_id\":\"%s\"}", id);
    r = req("POST", "/api/v1/stations/CP16/firmware", "op-tok", body);
    LW_CHECK_INT(r.status, 202);
    resp_free(&r);
    LW_CHECK_STR(fk.sent_action, "UpdateFirmware");
    cJSON *p = cJSON_Parse(fk.sent_payload);
    LW_CHECK_STR(js(p, "location"), url);
    cJSON_Delete(p);

    r = req("POST", "/api/v1/stations/CP201/firmware", "op-tok", body);
    LW_CHECK_INT(r.status, 202);
    resp_free(&r);
    LW_CHECK_STR(fk.sent_action, "UpdateFirmware");
    p = cJSON_Parse(fk.sent_payload);
    LW_CHECK_STR(js(cJSON_GetObjectItemCaseSensitive(p, "firmware"), "location"), url);
    cJSON_Delete(p);

    r = req("POST", "/api/v1/stations/CP16/firmware", "op-tok",
            "{\"firmware_id\":\"0123456789abcdef0123456789abcdef\"}");
    LW_CHECK_INT(r.status, 400);
    LW_CHECK(strstr(js(r.json, "detail"), "firmware_id") != NULL);
    resp_free(&r);
    r = req("POST", "/api/v1/stations/CP16/firmware", "op-tok", "{}");
    LW_CHECK_INT(r.status, 400);
    resp_free(&r);
    snprintf(body, sizeof body, "{\"firmware_id\":\"%s\",\"location\":\"http://x/y\"}", id);
    r = req("POST", "/api/v1/stations/CP16/firmware", "op-tok", body);
    LW_CHECK_INT(r.status, 400);
    resp_free(&r);
    teardown();
}

/* ---- uploads from stations ---------------------------------------------------------------- */

/* The path part of an upload URL we handed out. */
static const char *path_of(const char *url)
{
    return strncmp(url, PUB, strlen(PUB)) == 0 ? url + strlen(PUB) : "(not ours)";
}

static int count_events(const char *type)
{
    uint64_t cur = 0;
    lw_buf_t b;
    lw_buf_init(&b, 1 << 20);
    lw_api_events_read(api, &cur, &b);
    lw_buf_cstr(&b);
    char pat[64];
    snprintf(pat, sizeof pat, "event: %s\n", type);
    int n = 0;
    for (const char *p = b.data; p && (p = strstr(p, pat)); p++)
        n++;
    lw_buf_free(&b);
    return n;
}

LW_TEST(diagnostics_upload_slot)
{
    setup(true);
    /* 1.6 GetDiagnostics without a location: we make one. */
    resp_t r = req("POST", "/api/v1/stations/CP16/diagnostics", "op-tok", "{}");
    LW_CHECK_INT(r.status, 202);
    double cmd = jnum(r.json, "id");
    resp_free(&r);
    LW_CHECK_STR(fk.sent_action, "GetDiagnostics");
    cJSON *p = cJSON_Parse(fk.sent_payload);
    char loc[256];
    snprintf(loc, sizeof loc, "%s", js(p, "location"));
    cJSON_Delete(p);
    LW_CHECK(strncmp(loc, PUB "/files/uploads/", strlen(PUB "/files/uploads/")) == 0);
    LW_CHECK_INT((int)strlen(loc), (int)strlen(PUB "/files/uploads/") + 33);

    /* listed before anything arrived */
    r = req("GET", "/api/v1/stations/CP16/uploads", "viewer-tok", "");
    LW_CHECK_INT(r.status, 403);
    resp_free(&r);
    r = req("GET", "/api/v1/stations/CP16/uploads", "op-tok", "");
    LW_CHECK_INT(r.status, 200);
    const cJSON *it = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.json, "items"), 0);
    LW_CHECK(jnum(it, "command_id") == cmd);
    LW_CHECK_STR(js(it, "what"), "diagnostics");
    LW_CHECK_STR(js(it, "file"), "(null)");
    char token[64];
    snprintf(token, sizeof token, "%s", js(it, "token"));
    resp_free(&r);

    /* the station POSTs multipart to the location, no token */
    static const char mp[] = "--AaB03x\r\nContent-Disposition: form-data; name=\"file\"; "
                             "filename=\"diag.tar.gz\"\r\nContent-Type: application/gzip\r\n\r\n"
                             "GZDATA\r\n--AaB03x--\r\n";
    r = reqb("POST", path_of(loc), NULL, mp, sizeof mp - 1, "Content-Type",
             "multipart/form-data; boundary=AaB03x", NULL, NULL);
    LW_CHECK_INT(r.status, 201);
    LW_CHECK_STR(js(r.json, "name"), "diag.tar.gz");
    resp_free(&r);
    LW_CHECK_INT(count_events("upload.received"), 1);

    r = req("GET", "/api/v1/stations/CP16/uploads", "op-tok", "");
    it = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.json, "items"), 0);
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(it, "file");
    LW_CHECK_STR(js(f, "name"), "diag.tar.gz");
    LW_CHECK(jnum(f, "size") == 6);
    LW_CHECK_STR(js(f, "content_type"), "application/gzip");
    char dl[128];
    snprintf(dl, sizeof dl, "/api/v1/uploads/%s", token);
    LW_CHECK_STR(js(f, "download"), dl);
    resp_free(&r);

    r = req("GET", dl, "viewer-tok", "");
    LW_CHECK_INT(r.status, 403);
    resp_free(&r);
    r = req("GET", dl, "op-tok", "");
    LW_CHECK_INT(r.status, 200);
    LW_CHECK_MEM(r.body, r.len, "GZDATA", 6);
    LW_CHECK(strstr(r.headers, "filename=\"diag.tar.gz\"") != NULL);
    LW_CHECK(strstr(r.headers, "Content-Type: application/gzip") != NULL);
    resp_free(&r);

    /* a retry with PUT and the name in the path replaces it */
    char put[256];
    snprintf(put, sizeof put, "%sretry.log", path_of(loc));
    r = reqb("PUT", put, NULL, "LOG2", 4, NULL, NULL, NULL, NULL);
    LW_CHECK_INT(r.status, 200);
    resp_free(&r);
    r = req("GET", dl, "op-tok", "");
    LW_CHECK_MEM(r.body, r.len, "LOG2", 4);
    LW_CHECK(strstr(r.headers, "filename=\"retry.log\"") != NULL);
    resp_free(&r);

    /* unknown tokens, empty bodies, expiry */
    r = req("POST", "/files/uploads/0123456789abcdef0123456789abcdef/", NULL, "x");
    LW_CHECK_INT(r.status, 404);
    resp_free(&r);
    r = req("POST", "/files/uploads/nothex/", NULL, "x");
    LW_CHECK_INT(r.status, 404);
    resp_free(&r);
    r = req("POST", path_of(loc), NULL, "");
    LW_CHECK_INT(r.status, 400);
    resp_free(&r);
    lw_manual_clock_advance(&clk, LW_API_UPLOAD_TTL_MS);
    r = req("POST", path_of(loc), NULL, "late");
    LW_CHECK_INT(r.status, 410);
    resp_free(&r);

    /* other stations see none of it; unknown station 404 */
    r = req("GET", "/api/v1/stations/CP201/uploads", "op-tok", "");
    LW_CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "items")), 0);
    resp_free(&r);
    r = req("GET", "/api/v1/stations/NOPE/uploads", "op-tok", "");
    LW_CHECK_INT(r.status, 404);
    resp_free(&r);
    r = req("GET", "/metrics", NULL, "");
    LW_CHECK(strstr(r.body, "ladewerk_api_station_uploads_total 2\n") != NULL);
    resp_free(&r);
    teardown();
}

LW_TEST(log_upload_slot_and_discarded_slots)
{
    setup(true);
    /* 2.0.1 GetLog: remoteLocation is ours, what = log */
    resp_t r = req("POST", "/api/v1/stations/CP201/diagnostics", "op-tok", "");
    LW_CHECK_INT(r.status, 202);
    resp_free(&r);
    LW_CHECK_STR(fk.sent_action, "GetLog");
    cJSON *p = cJSON_Parse(fk.sent_payload);
    const char *rl = js(cJSON_GetObjectItemCaseSensitive(p, "log"), "remoteLocation");
    LW_CHECK(strncmp(rl, PUB "/files/uploads/", strlen(PUB "/files/uploads/")) == 0);
    char loc[256];
    snprintf(loc, sizeof loc, "%s", rl);
    cJSON_Delete(p);
    r = reqb("POST", path_of(loc), NULL, "raw log", 7, NULL, NULL, NULL, NULL);
    LW_CHECK_INT(r.status, 201);
    LW_CHECK_STR(js(r.json, "name"), "log.bin");
    resp_free(&r);

    /* An idempotent replay creates no second slot; a refused command keeps none. */
    r = reqb("POST", "/api/v1/stations/CP201/diagnostics", "op-tok", "{}", 2, "Idempotency-Key",
             "k1", NULL, NULL);
    LW_CHECK_INT(r.status, 202);
    resp_free(&r);
    r = reqb("POST", "/api/v1/stations/CP201/diagnostics", "op-tok", "{}", 2, "Idempotency-Key",
             "k1", NULL, NULL);
    LW_CHECK_INT(r.status, 202);
    resp_free(&r);
    r = req("POST", "/api/v1/stations/CP201/diagnostics", "op-tok", "{\"log_type\":\"Bogus\"}");
    LW_CHECK_INT(r.status, 400);
    resp_free(&r);
    r = req("GET", "/api/v1/stations/CP201/uploads", "op-tok", "");
    LW_CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "items")), 2);
    resp_free(&r);

    /* with a location given, no slot is opened */
    r = req("POST", "/api/v1/stations/CP16/diagnostics", "op-tok",
            "{\"location\":\"ftp://logs.example/in/\"}");
    LW_CHECK_INT(r.status, 202);
    resp_free(&r);
    r = req("GET", "/api/v1/stations/CP16/uploads", "op-tok", "");
    LW_CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "items")), 0);
    resp_free(&r);
    teardown();

    /* without file storage a location is required */
    setup(false);
    r = req("POST", "/api/v1/stations/CP16/diagnostics", "op-tok", "{}");
    LW_CHECK_INT(r.status, 400);
    LW_CHECK(strstr(js(r.json, "detail"), "location") != NULL);
    resp_free(&r);
    teardown();
}

/* ---- firmware status, events, limits ------------------------------------------------------- */

LW_TEST(station_firmware_status)
{
    setup(true);
    resp_t r = req("GET", "/api/v1/stations/CP16/firmware", "viewer-tok", "");
    LW_CHECK_INT(r.status, 200);
    const cJSON *fs = cJSON_GetObjectItemCaseSensitive(r.json, "firmware_status");
    LW_CHECK_STR(js(fs, "status"), "Installed");
    LW_CHECK(jnum(fs, "request_id") == 7);
    LW_CHECK_STR(js(cJSON_GetObjectItemCaseSensitive(r.json, "upload_status"), "status"),
                 "Uploaded");
    LW_CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "history")), 3);
    LW_CHECK_STR(js(r.json, "next"), "(null)");
    resp_free(&r);
    r = req("GET", "/api/v1/stations/CP16/firmware?limit=2", "viewer-tok", "");
    LW_CHECK(jnum(r.json, "next") == 2);
    resp_free(&r);
    r = req("GET", "/api/v1/stations/CP16/firmware?before=2", "viewer-tok", "");
    LW_CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "history")), 1);
    LW_CHECK_STR(js(r.json, "firmware_status"), "(absent)");
    resp_free(&r);
    r = req("GET", "/api/v1/stations/CP201/firmware", "viewer-tok", "");
    LW_CHECK_INT(r.status, 200);
    LW_CHECK_STR(js(r.json, "firmware_status"), "(null)");
    resp_free(&r);
    r = req("GET", "/api/v1/stations/NOPE/firmware", "viewer-tok", "");
    LW_CHECK_INT(r.status, 404);
    resp_free(&r);

    LW_CHECK_INT(lw_api_event_firmware(api, LW_STR("CP16"), "firmware", LW_STR("Installing"), 7),
                 0);
    LW_CHECK_INT(count_events("firmware.status"), 1);
    teardown();

    fk_init(&fk);
    lw_api_backend_t be = fk_backend(&fk);
    be.fw_status_list = NULL;
    api = lw_api_new(&be, NULL);
    r = req("GET", "/api/v1/stations/CP16/firmware", "viewer-tok", "");
    LW_CHECK_INT(r.status, 501);
    resp_free(&r);
    lw_api_free(api);
    fk_free(&fk);
}

LW_TEST(body_limits)
{
    setup(true);
    size_t big = LW_HTTP_BODY_MAX_DEFAULT + 10;
    char *b = malloc(big);
    memset(b, 'x', big);
    resp_t r = reqb("POST", "/api/v1/id-tokens", "op-tok", b, big, NULL, NULL, NULL, NULL);
    LW_CHECK_INT(r.status, 413);
    resp_free(&r);
    r = reqb("POST", "/api/v1/firmware?filename=big.bin", "op-tok", b, big, NULL, NULL, NULL, NULL);
    LW_CHECK_INT(r.status, 201);
    LW_CHECK(jnum(r.json, "size") == (double)big);
    char path[256];
    snprintf(path, sizeof path, "/files/firmware/%s/big.bin", js(r.json, "id"));
    resp_free(&r);
    r = req("GET", path, NULL, "");
    LW_CHECK_INT(r.status, 200);
    LW_CHECK(r.len == big);
    resp_free(&r);
    free(b);
    teardown();
}

int main(void)
{
    LW_RUN(multipart_boundary);
    LW_RUN(multipart_file);
    LW_RUN(firmware_not_configured);
    LW_RUN(firmware_upload_list_download_delete);
    LW_RUN(firmware_shortcut_uses_the_served_url);
    LW_RUN(diagnostics_upload_slot);
    LW_RUN(log_upload_slot_and_discarded_slots);
    LW_RUN(station_firmware_status);
    LW_RUN(body_limits);
    return lw_test_done();
}
