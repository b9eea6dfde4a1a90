/*
 * test_store_cmdmeta.c — the store reads and writes added with schema 005 (csms/store) for the
 * operator API: the id-token list (ordered, paged) and delete, the firmware status history
 * (newest first, paged, per station), and a command's via and Idempotency-Key fingerprint
 * (LW_W_CMD_META, read back with lw_store_cmd_meta_list).
 *
 * Rows read back are rendered into one string per read ("a|b;c|d;") and compared whole, so a
 * failure prints what came back next to what was wanted.
 */
#include "store_fixture.h"
#include "test.h"

#include "store/store.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static lw_store_t *fresh_store(void)
{
    fresh();
    return open_or_fail(NULL);
}

static char out[2048];

static void put(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void put(const char *fmt, ...)
{
    size_t n = strlen(out);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + n, sizeof out - n, fmt, ap);
    va_end(ap);
}

static int token_put(lw_store_t *s, const char *tok, const char *type, lw_token_status_t st)
{
    lw_store_write_t w = {.kind = LW_W_ID_TOKEN_PUT};
    w.u.id_token.id_token = lw_str_c(tok);
    w.u.id_token.type = lw_str_c(type);
    w.u.id_token.status = st;
    return lw_store_submit_wait(s, &w, NULL);
}

static int token_delete(lw_store_t *s, const char *tok)
{
    lw_store_write_t w = {.kind = LW_W_ID_TOKEN_DELETE};
    w.u.id_token.id_token = lw_str_c(tok);
    return lw_store_submit_wait(s, &w, NULL);
}

static int each_token(void *ud, const lw_id_token_rec_t *r)
{
    (void)ud;
    put("%s|%s|%s;", r->id_token, r->type, lw_token_status_name(r->status));
    return 0;
}

static const char *tokens(lw_store_t *s, const char *after, size_t limit)
{
    out[0] = 0;
    int rc = lw_store_id_token_list(s, lw_str_c(after), limit, each_token, NULL);
    if (rc) put("rc=%s", lw_err_name(rc));
    return out;
}

LW_TEST(id_token_list_and_delete)
{
    lw_store_t *s = fresh_store();
    LW_CHECK_STR(tokens(s, "", 0), "");
    LW_CHECK_INT(token_put(s, "TAG2", "", LW_TOKEN_BLOCKED), 0);
    LW_CHECK_INT(token_put(s, "TAG1", "", LW_TOKEN_ACCEPTED), 0);
    LW_CHECK_INT(token_put(s, "TAG3", "ISO14443", LW_TOKEN_ACCEPTED), 0);
    LW_CHECK_STR(tokens(s, "", 0), "TAG1||Accepted;TAG2||Blocked;TAG3|ISO14443|Accepted;");
    LW_CHECK_STR(tokens(s, "", 2), "TAG1||Accepted;TAG2||Blocked;");
    LW_CHECK_STR(tokens(s, "TAG2", 2), "TAG3|ISO14443|Accepted;");
    LW_CHECK_INT(token_delete(s, "TAG2"), 0);
    LW_CHECK_INT(token_delete(s, "TAG2"), LW_ENOTFOUND);
    LW_CHECK_INT(token_delete(s, ""), LW_EINVAL);
    lw_id_token_rec_t r;
    LW_CHECK_INT(lw_store_id_token_get(s, LW_STR("TAG2"), &r), LW_ENOTFOUND);
    LW_CHECK_STR(tokens(s, "", 0), "TAG1||Accepted;TAG3|ISO14443|Accepted;");
    lw_store_close(s);
}

static int fw_put(lw_store_t *s, const char *station, const char *what, const char *status,
                  int request_id, int64_t at)
{
    lw_store_write_t w = {.kind = LW_W_FW_STATUS, .station_id = lw_str_c(station)};
    w.u.fw_status.what = lw_str_c(what);
    w.u.fw_status.status = lw_str_c(status);
    w.u.fw_status.request_id = request_id;
    w.u.fw_status.at_ms = at;
    lw_store_result_t res = {0};
    int rc = lw_store_submit_wait(s, &w, &res);
    return rc ? rc : (int)res.row_id;
}

static int64_t last_seq;
static int each_fw(void *ud, const lw_fw_status_rec_t *r)
{
    (void)ud;
    put("%s|%s|%d|%lld;", r->what, r->status, r->request_id, (long long)r->at_ms);
    last_seq = r->seq;
    return 0;
}

static const char *fw(lw_store_t *s, const char *station, int64_t before, size_t limit)
{
    out[0] = 0;
    int rc = lw_store_fw_status_list(s, lw_str_c(station), before, limit, each_fw, NULL);
    if (rc) put("rc=%s", lw_err_name(rc));
    return out;
}

LW_TEST(fw_status_history_newest_first_per_station)
{
    lw_store_t *s = fresh_store();
    LW_CHECK(fw_put(s, "CP1", "firmware", "Downloading", 7, 100) > 0);
    LW_CHECK(fw_put(s, "CP2", "diagnostics", "Uploading", -1, 150) > 0);
    LW_CHECK(fw_put(s, "CP1", "firmware", "Downloaded", 7, 200) > 0);
    LW_CHECK(fw_put(s, "CP1", "log", "Uploaded", 9, 300) > 0);
    LW_CHECK_INT(fw_put(s, "CP1", "bogus", "X", -1, 400), LW_EINVAL);
    LW_CHECK_STR(fw(s, "CP1", 0, 0),
                 "log|Uploaded|9|300;firmware|Downloaded|7|200;firmware|Downloading|7|100;");
    LW_CHECK_STR(fw(s, "CP1", 0, 2), "log|Uploaded|9|300;firmware|Downloaded|7|200;");
    LW_CHECK_STR(fw(s, "CP1", last_seq, 2), "firmware|Downloading|7|100;");
    LW_CHECK_STR(fw(s, "CP2", 0, 0), "diagnostics|Uploading|-1|150;");
    LW_CHECK_STR(fw(s, "CP3", 0, 0), "");
    LW_CHECK_STR(fw(s, "", 0, 0), "rc=LW_EINVAL");
    lw_store_close(s);
}

static int each_meta(void *ud, int64_t id, lw_str_t via, lw_str_t fp)
{
    (void)ud;
    put("%lld|%.*s|%.*s;", (long long)id, LW_STR_FMT(via), LW_STR_FMT(fp));
    return 0;
}

static const char *metas(lw_store_t *s, const char *station, int64_t before, size_t limit)
{
    out[0] = 0;
    int rc = lw_store_cmd_meta_list(s, lw_str_c(station), before, limit, each_meta, NULL);
    if (rc) put("rc=%s", lw_err_name(rc));
    return out;
}

static int cmd(lw_store_t *s, const char *station, int64_t id)
{
    lw_store_write_t w = {.kind = LW_W_CMD_INSERT, .station_id = lw_str_c(station)};
    w.u.cmd.action = LW_STR("Reset");
    w.u.cmd.payload = LW_STR("{\"type\":\"Hard\"}");
    w.u.cmd.ttl_s = 60;
    w.u.cmd.id = id;
    return lw_store_submit_wait(s, &w, NULL);
}

static int meta(lw_store_t *s, const char *station, int64_t id, const char *via, const char *fp)
{
    lw_store_write_t w = {.kind = LW_W_CMD_META, .station_id = lw_str_c(station)};
    w.u.cmd_meta.id = id;
    w.u.cmd_meta.via = lw_str_c(via);
    w.u.cmd_meta.fingerprint = lw_str_c(fp);
    return lw_store_submit_wait(s, &w, NULL);
}

LW_TEST(command_via_and_fingerprint)
{
    lw_store_t *s = fresh_store();
    LW_CHECK_INT(cmd(s, "CP1", 5), 0);
    LW_CHECK_INT(cmd(s, "CP2", 6), 0);
    LW_CHECK_INT(cmd(s, "CP1", 7), 0);
    LW_CHECK_STR(metas(s, "", 0, 0), "7||;6||;5||;");
    LW_CHECK_INT(meta(s, "CP1", 5, "reset", "reset:{\"type\":\"hard\"}"), 0);
    LW_CHECK_INT(meta(s, "CP1", 7, "", "commands/Reset:{\"type\":\"Hard\"}"), 0);
    LW_CHECK_INT(meta(s, "CP2", 5, "reset", "x"), LW_ENOTFOUND); /* another station's command */
    LW_CHECK_INT(meta(s, "CP1", 99, "reset", "x"), LW_ENOTFOUND);
    LW_CHECK_INT(meta(s, "CP1", 0, "reset", "x"), LW_EINVAL);
    LW_CHECK_STR(metas(s, "", 0, 0),
                 "7||commands/Reset:{\"type\":\"Hard\"};6||;5|reset|reset:{\"type\":\"hard\"};");
    LW_CHECK_STR(metas(s, "CP1", 7, 0), "5|reset|reset:{\"type\":\"hard\"};");
    LW_CHECK_STR(metas(s, "", 0, 1), "7||commands/Reset:{\"type\":\"Hard\"};");
    lw_store_close(s);
}

int main(void)
{
    if (fixture_begin()) return 1;
    lw_log_set_level(LW_LOG_WARN);
    LW_RUN(id_token_list_and_delete);
    LW_RUN(fw_status_history_newest_first_per_station);
    LW_RUN(command_via_and_fingerprint);
    fixture_end();
    return lw_test_done();
}
