/*
 * api/api_files.c — files that travel between operators and stations over the operator
 * listener: firmware images operators upload (POST /api/v1/firmware) and stations download
 * (GET /files/firmware/<id>/<name>, public: a station cannot present a bearer token, so the
 * 128-bit random id is the secret), and diagnostics / log files stations upload after a
 * GetDiagnostics or GetLog sent through the API (POST or PUT /files/uploads/<token>/…, one
 * random token per command), which operators list and download. Also the per-station
 * firmware status read (GET /api/v1/stations/{id}/firmware).
 *
 * Everything is kept on disk under the files directory, each record next to its bytes as a
 * small JSON file, so no store schema is needed and a restart loses nothing. Files are
 * written to a temporary name, fsynced and renamed, so a crash never leaves half a file
 * under a served name. One mutex serializes writers; readers read whole files.
 */
#include "api/api_int.h"
#include "auth/auth.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ID_HEX    32 /* 128 random bits */
#define PATH_MAX_ 1024

void api_files_init(lw_api_t *api)
{
    pthread_mutex_init(&api->files_mu, NULL);
}

void api_files_free(lw_api_t *api)
{
    free(api->files_dir);
    free(api->public_url);
    api->files_dir = api->public_url = NULL;
    pthread_mutex_destroy(&api->files_mu);
}

/* ---- small file-system helpers ---------------------------------------------------------- */

/* snprintf for paths, through a wrapper so that a too long path is an error the callers
 * see (LW_ETOOBIG; the path is then cut and names nothing we wrote). */
static int pathf(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int pathf(char *out, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(out, n, fmt, ap);
    va_end(ap);
    return r < 0 || (size_t)r >= n ? LW_ETOOBIG : 0;
}

static int mkdir_p(const char *path)
{
    char tmp[PATH_MAX_];
    if (pathf(tmp, sizeof tmp, "%s", path) != 0) return LW_EINVAL;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST) return LW_EIO;
        *p = '/';
    }
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST) return LW_EIO;
    struct stat sb;
    if (stat(tmp, &sb) != 0 || !S_ISDIR(sb.st_mode)) return LW_EIO;
    return 0;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return LW_EIO;
    int rc = fsync(fd) == 0 ? 0 : LW_EIO;
    close(fd);
    return rc;
}

/* Writes data to dir/name atomically (temporary file, fsync, rename, fsync of dir). */
static int write_atomic(const char *dir, const char *name, const void *data, size_t len)
{
    char path[PATH_MAX_], tmp[PATH_MAX_];
    unsigned char rnd[6];
    if (lw_auth_random(rnd, sizeof rnd) != 0) return LW_EIO;
    if (pathf(path, sizeof path, "%s/%s", dir, name) != 0 ||
        pathf(tmp, sizeof tmp, "%s/.%s.%02x%02x%02x%02x%02x%02x.tmp", dir, name, rnd[0], rnd[1],
              rnd[2], rnd[3], rnd[4], rnd[5]) != 0)
        return LW_ETOOBIG;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return LW_EIO;
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            close(fd);
            unlink(tmp);
            return LW_EIO;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        unlink(tmp);
        return LW_EIO;
    }
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return LW_EIO;
    }
    return fsync_dir(dir);
}

/* Reads a whole file into out (its cap bounds it). LW_ENOTFOUND, LW_ETOOBIG, LW_EIO. */
static int read_all(const char *path, lw_buf_t *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? LW_ENOTFOUND : LW_EIO;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return LW_EIO;
    }
    if ((uint64_t)sb.st_size > out->max) {
        close(fd);
        return LW_ETOOBIG;
    }
    int rc = lw_buf_reserve(out, (size_t)sb.st_size + 1);
    while (rc == 0) {
        if (out->cap - out->len == 0 && (rc = lw_buf_reserve(out, 4096)) != 0) break;
        ssize_t r = read(fd, out->data + out->len, out->cap - out->len);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) rc = LW_EIO;
        if (r <= 0) break;
        if (out->len + (size_t)r > out->max) {
            rc = LW_ETOOBIG;
            break;
        }
        out->len += (size_t)r;
    }
    close(fd);
    return rc;
}

static cJSON *read_json(const char *path)
{
    lw_buf_t b;
    lw_buf_init(&b, 64 * 1024);
    cJSON *j = NULL;
    if (read_all(path, &b) == 0) j = cJSON_ParseWithLength(b.data ? b.data : "", b.len);
    lw_buf_free(&b);
    if (j && !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        j = NULL;
    }
    return j;
}

static int write_json(const char *dir, const char *name, const cJSON *j)
{
    char *text = cJSON_Print(j);
    if (!text) return LW_ENOMEM;
    int rc = write_atomic(dir, name, text, strlen(text));
    free(text);
    return rc;
}

static int random_id(char out[ID_HEX + 1])
{
    unsigned char r[ID_HEX / 2];
    if (lw_auth_random(r, sizeof r) != 0) return LW_EIO;
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof r; i++) {
        out[2 * i] = hx[r[i] >> 4];
        out[2 * i + 1] = hx[r[i] & 15];
    }
    out[ID_HEX] = 0;
    return 0;
}

static bool id_ok(lw_str_t s)
{
    if (s.len != ID_HEX) return false;
    for (size_t i = 0; i < s.len; i++)
        if (!((s.p[i] >= '0' && s.p[i] <= '9') || (s.p[i] >= 'a' && s.p[i] <= 'f'))) return false;
    return true;
}

static void sha256_hex(lw_str_t data, char out[65])
{
    unsigned char h[32];
    unsigned int hl = 0;
    EVP_Digest(data.p ? data.p : "", data.len, h, &hl, EVP_sha256(), NULL);
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < 32; i++) {
        out[2 * i] = hx[h[i] >> 4];
        out[2 * i + 1] = hx[h[i] & 15];
    }
    out[64] = 0;
}

/* A file name safe on disk and in a URL path: [A-Za-z0-9._-], others become '_', the
 * directory part of a client path ("C:\logs\a.zip", "../x") is dropped, no leading dot.
 * Returns false if nothing usable is left. */
static bool sanitize_name(lw_str_t in, char *out, size_t outsz)
{
    for (size_t i = in.len; i > 0; i--)
        if (in.p[i - 1] == '/' || in.p[i - 1] == '\\') {
            in = (lw_str_t){in.p + i, in.len - i};
            break;
        }
    size_t n = 0;
    for (size_t i = 0; i < in.len && n + 1 < outsz && n < LW_API_FILENAME_MAX; i++) {
        char ch = in.p[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_';
        if (n == 0 && ch == '.') continue;
        out[n++] = ok ? ch : '_';
    }
    out[n] = 0;
    return n > 0;
}

static bool files_on(api_ctx_t *c)
{
    if (c->api->files_dir) return true;
    api_error(c, 501, "not_implemented",
              "file storage is not configured on this server (files-dir)");
    return false;
}

/* ---- configuration ------------------------------------------------------------------------ */

int lw_api_set_files(lw_api_t *api, const char *dir, const char *public_url)
{
    if (!dir || !*dir || strlen(dir) > 512 || !public_url) return LW_EINVAL;
    size_t ul = strlen(public_url);
    while (ul && public_url[ul - 1] == '/')
        ul--;
    if (ul > 256 || !((ul > 7 && !strncmp(public_url, "http://", 7)) ||
                      (ul > 8 && !strncmp(public_url, "https://", 8))))
        return LW_EINVAL;
    char sub[PATH_MAX_];
    int rc = mkdir_p(dir);
    if (rc == 0) rc = pathf(sub, sizeof sub, "%s/firmware", dir);
    if (rc == 0) rc = mkdir_p(sub);
    if (rc == 0) rc = pathf(sub, sizeof sub, "%s/uploads", dir);
    if (rc == 0) rc = mkdir_p(sub);
    if (rc != 0) return rc;
    char *d = lw_str_dup(lw_str_c(dir));
    char *u = lw_str_dup((lw_str_t){public_url, ul});
    if (!d || !u) {
        free(d);
        free(u);
        return LW_ENOMEM;
    }
    free(api->files_dir);
    free(api->public_url);
    api->files_dir = d;
    api->public_url = u;
    return 0;
}

/* ---- firmware ------------------------------------------------------------------------------ */

static void fw_dir(lw_api_t *api, char *out, size_t n)
{
    snprintf(out, n, "%s/firmware", api->files_dir);
}

/* The record of firmware id, or NULL. */
static cJSON *fw_record(lw_api_t *api, lw_str_t id)
{
    if (!id_ok(id)) return NULL;
    char path[PATH_MAX_];
    pathf(path, sizeof path, "%s/firmware/%.*s.json", api->files_dir, LW_STR_FMT(id));
    return read_json(path);
}

/* Adds the public download URL to a record (for the answer, not stored). */
static void fw_add_url(lw_api_t *api, cJSON *rec)
{
    const char *id = api_get_str(rec, "id"), *name = api_get_str(rec, "name");
    if (!id || !name) return;
    char url[1024];
    snprintf(url, sizeof url, "%s/files/firmware/%s/%s", api->public_url, id, name);
    cJSON_AddStringToObject(rec, "url", url);
}

int lw_api_firmware_url(lw_api_t *api, lw_str_t id, char *out, size_t outsz)
{
    if (!api->files_dir) return LW_ENOTSUP;
    cJSON *rec = fw_record(api, id);
    if (!rec) return LW_ENOTFOUND;
    const char *name = api_get_str(rec, "name");
    int n = name ? snprintf(out, outsz, "%s/files/firmware/%.*s/%s", api->public_url,
                            LW_STR_FMT(id), name)
                 : -1;
    cJSON_Delete(rec);
    if (n < 0) return LW_ENOTFOUND;
    return (size_t)n < outsz ? 0 : LW_ETOOBIG;
}

/* Calls each(rec) for every firmware record (parsed; freed after each). Returns the count. */
static size_t fw_scan(lw_api_t *api, void (*each)(void *ud, cJSON *rec), void *ud)
{
    char dir[PATH_MAX_];
    fw_dir(api, dir, sizeof dir);
    DIR *d = opendir(dir);
    if (!d) return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < LW_API_FIRMWARE_FILES_MAX * 2) {
        size_t l = strlen(e->d_name);
        if (l != ID_HEX + 5 || strcmp(e->d_name + ID_HEX, ".json") != 0) continue;
        if (!id_ok((lw_str_t){e->d_name, ID_HEX})) continue;
        char path[PATH_MAX_];
        pathf(path, sizeof path, "%s/%s", dir, e->d_name);
        cJSON *rec = read_json(path);
        if (!rec) continue;
        n++;
        if (each) each(ud, rec);
        cJSON_Delete(rec);
    }
    closedir(d);
    return n;
}

typedef struct {
    const char *sha, *name;
    cJSON *found;
} fw_dup_t;

static void fw_dup_each(void *ud, cJSON *rec)
{
    fw_dup_t *d = ud;
    const char *s = api_get_str(rec, "sha256"), *n = api_get_str(rec, "name");
    if (!d->found && s && n && !strcmp(s, d->sha) && !strcmp(n, d->name))
        d->found = cJSON_Duplicate(rec, true);
}

/* The file name of an upload: ?filename=, X-Filename, or the Content-Disposition filename. */
static int upload_name(api_ctx_t *c, lw_str_t fallback, char *out, size_t outsz)
{
    char q[LW_API_FILENAME_MAX * 3 + 1];
    int r = api_query(c, "filename", q, sizeof q);
    if (r < 0) return LW_EINVAL;
    if (r == 1) return sanitize_name(lw_str_c(q), out, outsz) ? 0 : LW_EINVAL;
    lw_str_t h = api_header(c->req, "X-Filename");
    if (h.p) return sanitize_name(h, out, outsz) ? 0 : LW_EINVAL;
    if (fallback.len) return sanitize_name(fallback, out, outsz) ? 0 : LW_EINVAL;
    return LW_ENOTFOUND;
}

/* The uploaded bytes: the body, or its file part when it is multipart/form-data. Returns 0,
 * or answered (nonzero). */
static int upload_body(api_ctx_t *c, lw_str_t *data, lw_str_t *part_name, lw_str_t *ctype)
{
    lw_str_t ct = api_header(c->req, "Content-Type");
    lw_str_t boundary;
    *data = c->req->body;
    *part_name = LW_STR("");
    *ctype = ct.p ? ct : LW_STR("application/octet-stream");
    int rc = ct.p ? lw_api_multipart_boundary(ct, &boundary) : LW_ENOTFOUND;
    if (rc == LW_EPARSE)
        return api_error(c, 400, "invalid_body", "multipart/form-data without a valid boundary"), 1;
    if (rc == 0) {
        lw_api_part_t p;
        rc = lw_api_multipart_file(c->req->body, boundary, &p);
        if (rc != 0)
            return api_error(c, 400, "invalid_body", "the multipart body %s",
                             rc == LW_ENOTFOUND ? "has no part" : "is malformed"),
                   1;
        *data = p.data;
        *part_name = p.filename;
        *ctype = p.content_type.len ? p.content_type : LW_STR("application/octet-stream");
    }
    if (data->len == 0) return api_error(c, 400, "invalid_body", "the file is empty"), 1;
    if (data->len > LW_API_FILE_MAX)
        return api_error(c, 413, "too_large", "files are limited to %d bytes", LW_API_FILE_MAX), 1;
    return 0;
}

int api_h_fw_upload(api_ctx_t *c)
{
    lw_api_t *api = c->api;
    if (!files_on(c)) return 0;
    lw_str_t data, part_name, ctype;
    if (upload_body(c, &data, &part_name, &ctype) != 0) return 0;
    char name[LW_API_FILENAME_MAX + 1];
    int rc = upload_name(c, part_name, name, sizeof name);
    if (rc == LW_ENOTFOUND)
        return api_error(c, 400, "missing_filename",
                         "name the file: ?filename=NAME, an X-Filename header or a multipart "
                         "part with a filename");
    if (rc != 0) return api_error(c, 400, "invalid_filename", "the file name is not usable");

    char sha[65];
    sha256_hex(data, sha);
    char dir[PATH_MAX_];
    fw_dir(api, dir, sizeof dir);

    pthread_mutex_lock(&api->files_mu);
    fw_dup_t dup = {sha, name, NULL};
    size_t count = fw_scan(api, fw_dup_each, &dup);
    if (dup.found) {
        /* The same image under the same name: keep the first record (retries are safe). */
        pthread_mutex_unlock(&api->files_mu);
        fw_add_url(api, dup.found);
        return api_json(c, 200, dup.found);
    }
    if (count >= LW_API_FIRMWARE_FILES_MAX) {
        pthread_mutex_unlock(&api->files_mu);
        return api_error(c, 409, "too_many_files",
                         "%d firmware images are stored; delete old ones first",
                         LW_API_FIRMWARE_FILES_MAX);
    }
    char id[ID_HEX + 1], bin[ID_HEX + 8], js[ID_HEX + 8];
    rc = random_id(id);
    snprintf(bin, sizeof bin, "%s.bin", id);
    snprintf(js, sizeof js, "%s.json", id);
    if (rc == 0) rc = write_atomic(dir, bin, data.p, data.len);
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "id", id);
    cJSON_AddStringToObject(rec, "name", name);
    cJSON_AddNumberToObject(rec, "size", (double)data.len);
    cJSON_AddStringToObject(rec, "sha256", sha);
    int64_t now = lw_clock_wall(api->clock);
    api_json_time(rec, "uploaded_at", now);
    cJSON_AddNumberToObject(rec, "uploaded_ms", (double)now);
    if (rc == 0) rc = write_json(dir, js, rec);
    if (rc != 0) {
        char path[PATH_MAX_];
        pathf(path, sizeof path, "%s/%s", dir, bin);
        unlink(path);
    } else {
        api->fw_uploads++;
    }
    pthread_mutex_unlock(&api->files_mu);
    if (rc != 0) {
        cJSON_Delete(rec);
        return api_error(c, 500, "io_error", "could not store the file: %s", lw_strerror(rc));
    }
    fw_add_url(api, rec);
    return api_json(c, 201, rec);
}

static void fw_list_each(void *ud, cJSON *rec)
{
    cJSON_AddItemToArray(ud, cJSON_Duplicate(rec, true));
}

static int by_uploaded_desc(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    double tx = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(x, "uploaded_ms"));
    double ty = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(y, "uploaded_ms"));
    if (tx != ty) return tx < ty ? 1 : -1;
    return strcmp(api_get_str(x, "id") ? api_get_str(x, "id") : "",
                  api_get_str(y, "id") ? api_get_str(y, "id") : "");
}

/* Sorts the items of arr by "uploaded_ms" / "created_ms", newest first. */
static cJSON *sorted(cJSON *arr, int (*cmp)(const void *, const void *))
{
    int n = cJSON_GetArraySize(arr);
    cJSON **v = n ? malloc((size_t)n * sizeof *v) : NULL;
    cJSON *out = cJSON_CreateArray();
    if (n && !v) return arr;
    for (int i = 0; i < n; i++)
        v[i] = cJSON_DetachItemFromArray(arr, 0);
    if (n) qsort(v, (size_t)n, sizeof *v, cmp);
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(out, v[i]);
    free(v);
    cJSON_Delete(arr);
    return out;
}

int api_h_fw_list(api_ctx_t *c)
{
    if (!files_on(c)) return 0;
    cJSON *arr = cJSON_CreateArray();
    fw_scan(c->api, fw_list_each, arr);
    arr = sorted(arr, by_uploaded_desc);
    cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        cJSON_DeleteItemFromObjectCaseSensitive(it, "uploaded_ms");
        fw_add_url(c->api, it);
    }
    cJSON *out = cJSON_CreateObject();
    cJSON_AddItemToObject(out, "items", arr);
    return api_json(c, 200, out);
}

int api_h_fw_get(api_ctx_t *c)
{
    if (!files_on(c)) return 0;
    cJSON *rec = fw_record(c->api, c->params[0]);
    if (!rec) return api_error(c, 404, "not_found", "no firmware image with that id");
    cJSON_DeleteItemFromObjectCaseSensitive(rec, "uploaded_ms");
    fw_add_url(c->api, rec);
    return api_json(c, 200, rec);
}

int api_h_fw_delete(api_ctx_t *c)
{
    lw_api_t *api = c->api;
    if (!files_on(c)) return 0;
    if (!id_ok(c->params[0]))
        return api_error(c, 404, "not_found", "no firmware image with that id");
    char path[PATH_MAX_];
    pthread_mutex_lock(&api->files_mu);
    pathf(path, sizeof path, "%s/firmware/%.*s.json", api->files_dir, LW_STR_FMT(c->params[0]));
    int r = unlink(path);
    int err = errno;
    pathf(path, sizeof path, "%s/firmware/%.*s.bin", api->files_dir, LW_STR_FMT(c->params[0]));
    if (r == 0) unlink(path);
    pthread_mutex_unlock(&api->files_mu);
    if (r != 0)
        return err == ENOENT ? api_error(c, 404, "not_found", "no firmware image with that id")
                             : api_error(c, 500, "io_error", "could not delete the image");
    return api_raw(c, 204, "application/json", NULL, 0);
}

/* Answers 200 with the bytes of path as an attachment called name. */
static int send_file(api_ctx_t *c, const char *path, const char *name, const char *ctype)
{
    lw_api_response_t *res = c->res;
    lw_buf_reset(&res->body);
    lw_buf_reset(&res->headers);
    /* A file answer may be larger than a JSON one: raise this response's cap. */
    res->body.max = LW_API_FILE_MAX;
    int rc = read_all(path, &res->body);
    if (rc != 0) {
        res->body.max = LW_API_BODY_MAX;
        lw_buf_reset(&res->body);
        return rc == LW_ENOTFOUND ? api_error(c, 404, "not_found", "the file is gone")
                                  : api_error(c, 500, "io_error", "could not read the file");
    }
    res->status = 200;
    res->stream = false;
    return lw_buf_printf(&res->headers,
                         "Content-Type: %s\r\nContent-Disposition: attachment; filename=\"%s\"\r\n"
                         "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n",
                         ctype, name);
}

int api_h_fw_download(api_ctx_t *c)
{
    if (!files_on(c)) return 0;
    /* Same answer for a wrong id and a wrong name: nothing to learn by probing. */
    cJSON *rec = fw_record(c->api, c->params[0]);
    const char *name = rec ? api_get_str(rec, "name") : NULL;
    if (!name || !lw_str_eq_c(c->params[1], name)) {
        cJSON_Delete(rec);
        return api_error(c, 404, "not_found", "no such file");
    }
    char path[PATH_MAX_], nm[LW_API_FILENAME_MAX + 1];
    lw_cstr_copy(nm, sizeof nm, name);
    cJSON_Delete(rec);
    pathf(path, sizeof path, "%s/firmware/%.*s.bin", c->api->files_dir, LW_STR_FMT(c->params[0]));
    return send_file(c, path, nm, "application/octet-stream");
}

/* ---- uploads from stations ------------------------------------------------------------------ */

int lw_api_upload_open(lw_api_t *api, lw_str_t station, uint64_t cmd_id, const char *what,
                       char *url, size_t urlsz)
{
    if (!api->files_dir) return LW_ENOTSUP;
    char token[ID_HEX + 1], dir[PATH_MAX_];
    int rc = random_id(token);
    if (rc != 0) return rc;
    int n = snprintf(url, urlsz, "%s/files/uploads/%s/", api->public_url, token);
    if (n < 0 || (size_t)n >= urlsz) return LW_ETOOBIG;
    pathf(dir, sizeof dir, "%s/uploads/%s", api->files_dir, token);
    int64_t now = lw_clock_wall(api->clock);
    char sid[LW_STATION_ID_MAX + 1];
    if (!api_copy(sid, sizeof sid, station)) return LW_EINVAL;
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "token", token);
    cJSON_AddStringToObject(m, "station_id", sid);
    cJSON_AddNumberToObject(m, "command_id", (double)cmd_id);
    cJSON_AddStringToObject(m, "what", what);
    cJSON_AddNumberToObject(m, "created_ms", (double)now);
    cJSON_AddNumberToObject(m, "expires_ms", (double)(now + LW_API_UPLOAD_TTL_MS));
    pthread_mutex_lock(&api->files_mu);
    rc = mkdir(dir, 0700) == 0 ? 0 : LW_EIO;
    if (rc == 0) rc = write_json(dir, "meta.json", m);
    pthread_mutex_unlock(&api->files_mu);
    cJSON_Delete(m);
    return rc;
}

/* The token inside an upload URL we made, or an empty view. */
static lw_str_t token_of_url(lw_api_t *api, const char *url)
{
    size_t pl = strlen(api->public_url);
    const char *mid = "/files/uploads/";
    if (strncmp(url, api->public_url, pl) != 0 || strncmp(url + pl, mid, strlen(mid)) != 0)
        return LW_STR("");
    lw_str_t t = {url + pl + strlen(mid), ID_HEX};
    if (strlen(t.p) < ID_HEX || !id_ok(t)) return LW_STR("");
    return t;
}

static void remove_slot(lw_api_t *api, lw_str_t token)
{
    char path[PATH_MAX_];
    const char *files[] = {"meta.json", "data"};
    for (size_t i = 0; i < 2; i++) {
        pathf(path, sizeof path, "%s/uploads/%.*s/%s", api->files_dir, LW_STR_FMT(token), files[i]);
        unlink(path);
    }
    pathf(path, sizeof path, "%s/uploads/%.*s", api->files_dir, LW_STR_FMT(token));
    rmdir(path);
}

void api_upload_discard(lw_api_t *api, const char *url)
{
    if (!api->files_dir || !url || !*url) return;
    lw_str_t t = token_of_url(api, url);
    if (!t.len) return;
    pthread_mutex_lock(&api->files_mu);
    remove_slot(api, t);
    pthread_mutex_unlock(&api->files_mu);
}

static cJSON *slot_meta(lw_api_t *api, lw_str_t token)
{
    if (!id_ok(token)) return NULL;
    char path[PATH_MAX_];
    pathf(path, sizeof path, "%s/uploads/%.*s/meta.json", api->files_dir, LW_STR_FMT(token));
    return read_json(path);
}

static int64_t jnum(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

int api_h_station_upload(api_ctx_t *c)
{
    lw_api_t *api = c->api;
    if (!files_on(c)) return 0;
    lw_str_t token = c->params[0];
    cJSON *m = slot_meta(api, token);
    if (!m) return api_error(c, 404, "not_found", "no such upload location");
    int64_t now = lw_clock_wall(api->clock);
    if (now >= jnum(m, "expires_ms")) {
        cJSON_Delete(m);
        return api_error(c, 410, "expired", "this upload location has expired");
    }
    lw_str_t data, part_name, ctype;
    if (upload_body(c, &data, &part_name, &ctype) != 0) {
        cJSON_Delete(m);
        return 0;
    }
    /* The name: the last path segment, else the multipart filename, else a generic one. */
    char name[LW_API_FILENAME_MAX + 1];
    if (!(c->params[1].len && sanitize_name(c->params[1], name, sizeof name)) &&
        !(part_name.len && sanitize_name(part_name, name, sizeof name)))
        snprintf(name, sizeof name, "%s.bin",
                 api_get_str(m, "what") ? api_get_str(m, "what") : "upload");
    char ct[128];
    if (!api_copy(ct, sizeof ct, ctype)) snprintf(ct, sizeof ct, "application/octet-stream");
    for (char *p = ct; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == '"') *p = '_';
    char sha[65], dir[PATH_MAX_];
    sha256_hex(data, sha);
    pathf(dir, sizeof dir, "%s/uploads/%.*s", api->files_dir, LW_STR_FMT(token));
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "name", name);
    cJSON_AddNumberToObject(f, "size", (double)data.len);
    cJSON_AddStringToObject(f, "sha256", sha);
    cJSON_AddStringToObject(f, "content_type", ct);
    cJSON_AddNumberToObject(f, "uploaded_ms", (double)now);
    bool replaced = cJSON_GetObjectItemCaseSensitive(m, "file") != NULL;
    cJSON_DeleteItemFromObjectCaseSensitive(m, "file");
    cJSON_AddItemToObject(m, "file", f);

    pthread_mutex_lock(&api->files_mu);
    int rc = write_atomic(dir, "data", data.p, data.len);
    if (rc == 0) rc = write_json(dir, "meta.json", m);
    if (rc == 0) api->station_uploads++;
    pthread_mutex_unlock(&api->files_mu);
    if (rc != 0) {
        cJSON_Delete(m);
        return api_error(c, 500, "io_error", "could not store the upload: %s", lw_strerror(rc));
    }
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "station_id", api_get_str(m, "station_id"));
    cJSON_AddNumberToObject(ev, "command_id", (double)jnum(m, "command_id"));
    cJSON_AddStringToObject(ev, "what", api_get_str(m, "what") ? api_get_str(m, "what") : "");
    cJSON_AddStringToObject(ev, "name", name);
    cJSON_AddNumberToObject(ev, "size", (double)data.len);
    api_json_time(ev, "at", now);
    char *evt = cJSON_PrintUnformatted(ev);
    cJSON_Delete(ev);
    if (evt) lw_api_publish(api, "upload.received", lw_str_c(evt));
    free(evt);
    cJSON_Delete(m);
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "status", "stored");
    cJSON_AddStringToObject(out, "name", name);
    cJSON_AddNumberToObject(out, "size", (double)data.len);
    cJSON_AddStringToObject(out, "sha256", sha);
    return api_json(c, replaced ? 200 : 201, out);
}

/* The answer form of a slot's meta (times as RFC 3339, the download path). */
static cJSON *slot_json(const cJSON *m)
{
    cJSON *o = cJSON_CreateObject();
    const char *tok = api_get_str(m, "token");
    cJSON_AddStringToObject(o, "token", tok ? tok : "");
    cJSON_AddNumberToObject(o, "command_id", (double)jnum(m, "command_id"));
    const char *what = api_get_str(m, "what");
    cJSON_AddStringToObject(o, "what", what ? what : "");
    api_json_time(o, "created_at", jnum(m, "created_ms"));
    api_json_time(o, "expires_at", jnum(m, "expires_ms"));
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(m, "file");
    if (cJSON_IsObject(f)) {
        cJSON *fo = cJSON_AddObjectToObject(o, "file");
        const char *n = api_get_str(f, "name"), *s = api_get_str(f, "sha256"),
                   *ct = api_get_str(f, "content_type");
        cJSON_AddStringToObject(fo, "name", n ? n : "");
        cJSON_AddNumberToObject(fo, "size", (double)jnum(f, "size"));
        cJSON_AddStringToObject(fo, "sha256", s ? s : "");
        cJSON_AddStringToObject(fo, "content_type", ct ? ct : "");
        api_json_time(fo, "uploaded_at", jnum(f, "uploaded_ms"));
        char dl[128];
        snprintf(dl, sizeof dl, "/api/v1/uploads/%s", tok ? tok : "");
        cJSON_AddStringToObject(fo, "download", dl);
    } else {
        cJSON_AddNullToObject(o, "file");
    }
    return o;
}

static int by_created_desc(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    int64_t tx = jnum(x, "created_ms"), ty = jnum(y, "created_ms");
    if (tx != ty) return tx < ty ? 1 : -1;
    return (int)(jnum(y, "command_id") - jnum(x, "command_id"));
}

int api_h_uploads_list(api_ctx_t *c)
{
    lw_api_t *api = c->api;
    if (!files_on(c)) return 0;
    if (api->be.station_get) {
        lw_api_station_t st;
        int rc = api->be.station_get(api->be.ctx, c->params[0], &st);
        if (rc != 0) return api_backend_error(c, rc, "station");
    }
    char dir[PATH_MAX_];
    pathf(dir, sizeof dir, "%s/uploads", api->files_dir);
    cJSON *arr = cJSON_CreateArray();
    DIR *d = opendir(dir);
    size_t seen = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL && seen < LW_API_UPLOADS_MAX) {
        lw_str_t tok = lw_str_c(e->d_name);
        if (!id_ok(tok)) continue;
        seen++;
        cJSON *m = slot_meta(api, tok);
        const char *sid = m ? api_get_str(m, "station_id") : NULL;
        if (sid && lw_str_eq_c(c->params[0], sid))
            cJSON_AddItemToArray(arr, m);
        else
            cJSON_Delete(m);
    }
    if (d) closedir(d);
    arr = sorted(arr, by_created_desc);
    cJSON *items = cJSON_CreateArray();
    cJSON *it;
    cJSON_ArrayForEach(it, arr) cJSON_AddItemToArray(items, slot_json(it));
    cJSON_Delete(arr);
    cJSON *out = cJSON_CreateObject();
    cJSON_AddItemToObject(out, "items", items);
    return api_json(c, 200, out);
}

int api_h_upload_download(api_ctx_t *c)
{
    if (!files_on(c)) return 0;
    cJSON *m = slot_meta(c->api, c->params[0]);
    const cJSON *f = m ? cJSON_GetObjectItemCaseSensitive(m, "file") : NULL;
    if (!cJSON_IsObject(f)) {
        cJSON_Delete(m);
        return api_error(c, 404, "not_found", "no file was uploaded there (yet)");
    }
    char name[LW_API_FILENAME_MAX + 1], ct[128], path[PATH_MAX_];
    const char *n = api_get_str(f, "name"), *t = api_get_str(f, "content_type");
    lw_cstr_copy(name, sizeof name, n ? n : "upload.bin");
    lw_cstr_copy(ct, sizeof ct, t && *t ? t : "application/octet-stream");
    cJSON_Delete(m);
    pathf(path, sizeof path, "%s/uploads/%.*s/data", c->api->files_dir, LW_STR_FMT(c->params[0]));
    return send_file(c, path, name, ct);
}

/* ---- firmware status of a station ---------------------------------------------------------- */

typedef struct {
    cJSON *hist;
    cJSON *latest_fw, *latest_up;
    int64_t last_seq;
    size_t n;
} fws_ctx_t;

static cJSON *fws_json(const lw_api_fw_status_t *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "seq", (double)s->seq);
    cJSON_AddStringToObject(o, "what", s->what);
    cJSON_AddStringToObject(o, "status", s->status);
    if (s->request_id >= 0)
        cJSON_AddNumberToObject(o, "request_id", s->request_id);
    else
        cJSON_AddNullToObject(o, "request_id");
    api_json_time(o, "at", s->at_ms);
    return o;
}

static int fws_each(void *ud, const lw_api_fw_status_t *s)
{
    fws_ctx_t *x = ud;
    cJSON_AddItemToArray(x->hist, fws_json(s));
    if (!x->latest_fw && (!strcmp(s->what, "firmware") || !strcmp(s->what, "publish")))
        x->latest_fw = fws_json(s);
    if (!x->latest_up && (!strcmp(s->what, "diagnostics") || !strcmp(s->what, "log")))
        x->latest_up = fws_json(s);
    x->last_seq = s->seq;
    x->n++;
    return 0;
}

int api_h_station_firmware(api_ctx_t *c)
{
    lw_api_t *api = c->api;
    if (!api->be.station_get) return api_backend_error(c, LW_ENOTSUP, "station");
    if (!api->be.fw_status_list) return api_backend_error(c, LW_ENOTSUP, "firmware status");
    lw_api_station_t st;
    int rc = api->be.station_get(api->be.ctx, c->params[0], &st);
    if (rc != 0) return api_backend_error(c, rc, "station");
    size_t limit;
    if (api_query_limit(c, &limit) != 0) return 0;
    char bq[32];
    int64_t before = 0;
    if (api_query(c, "before", bq, sizeof bq) != 0 && (!api_parse_i64(bq, &before) || before < 0))
        return api_error(c, 400, "invalid_query", "before must be a non-negative integer");
    fws_ctx_t x = {.hist = cJSON_CreateArray()};
    rc = api->be.fw_status_list(api->be.ctx, c->params[0], before, limit, fws_each, &x);
    if (rc != 0) {
        cJSON_Delete(x.hist);
        cJSON_Delete(x.latest_fw);
        cJSON_Delete(x.latest_up);
        return api_backend_error(c, rc, "firmware status");
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "station_id", st.id);
    api_json_str_or_null(o, "firmware_version", st.firmware_version);
    /* The latest statuses are those of this page; on the first page (no before) they are
     * the station's latest. */
    if (before == 0) {
        cJSON_AddItemToObject(o, "firmware_status", x.latest_fw ? x.latest_fw : cJSON_CreateNull());
        cJSON_AddItemToObject(o, "upload_status", x.latest_up ? x.latest_up : cJSON_CreateNull());
    } else {
        cJSON_Delete(x.latest_fw);
        cJSON_Delete(x.latest_up);
    }
    cJSON_AddItemToObject(o, "history", x.hist);
    if (x.n == limit)
        cJSON_AddNumberToObject(o, "next", (double)x.last_seq);
    else
        cJSON_AddNullToObject(o, "next");
    return api_json(c, 200, o);
}

int lw_api_event_firmware(lw_api_t *api, lw_str_t station, const char *what, lw_str_t status,
                          int request_id)
{
    cJSON *o = cJSON_CreateObject();
    char *sid = lw_str_dup(station), *stt = lw_str_dup(status);
    if (!o || !sid || !stt) {
        cJSON_Delete(o);
        free(sid);
        free(stt);
        return LW_ENOMEM;
    }
    cJSON_AddStringToObject(o, "station_id", sid);
    cJSON_AddStringToObject(o, "what", what ? what : "firmware");
    cJSON_AddStringToObject(o, "status", stt);
    if (request_id >= 0)
        cJSON_AddNumberToObject(o, "request_id", request_id);
    else
        cJSON_AddNullToObject(o, "request_id");
    api_json_time(o, "at", lw_clock_wall(api->clock));
    free(sid);
    free(stt);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text) return LW_ENOMEM;
    int rc = lw_api_publish(api, "firmware.status", lw_str_c(text));
    free(text);
    return rc;
}

int api_files_metrics(lw_api_t *api, lw_buf_t *b)
{
    pthread_mutex_lock(&api->files_mu);
    uint64_t fw = api->fw_uploads, st = api->station_uploads;
    pthread_mutex_unlock(&api->files_mu);
    return lw_buf_printf(b,
                         "# HELP ladewerk_api_firmware_uploads_total Firmware images operators "
                         "uploaded.\n# TYPE ladewerk_api_firmware_uploads_total counter\n"
                         "ladewerk_api_firmware_uploads_total %llu\n"
                         "# HELP ladewerk_api_station_uploads_total Diagnostics and log files "
                         "stations uploaded.\n# TYPE ladewerk_api_station_uploads_total counter\n"
                         "ladewerk_api_station_uploads_total %llu\n",
                         (unsigned long long)fw, (unsigned long long)st);
}
