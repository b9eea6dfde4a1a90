/*
 * write.c — OCPP-J frame writers and message-id generation (ladewerk/rpc.h).
 * Every writer appends one whole frame or nothing: on any failure buf->len is put back, so
 * a caller batching several frames into one buffer never sends half of one.
 */
#include "ladewerk/rpc.h"
#include "rpc/rpc_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/random.h>

static bool id_ok(lw_str_t id)
{
    return id.p && id.len >= 1 && id.len <= LW_MSGID_MAX && lw_rpc_raw_string_ok(id);
}

static bool action_ok(lw_str_t a)
{
    return a.p && a.len >= 1 && a.len <= LW_ACTION_MAX && lw_rpc_raw_string_ok(a);
}

static int put_raw_str(lw_buf_t *b, lw_str_t s)
{
    int rc = lw_buf_putc(b, '"');
    if (!rc) rc = lw_buf_append_str(b, s);
    if (!rc) rc = lw_buf_putc(b, '"');
    return rc;
}

static int put_json(lw_buf_t *b, lw_str_t json)
{
    return json.len ? lw_buf_append_str(b, json) : lw_buf_append(b, "{}", 2);
}

/* Cuts s to at most max bytes without splitting a UTF-8 sequence. */
static lw_str_t cut_utf8(lw_str_t s, size_t max)
{
    if (s.len <= max) return s;
    size_t n = max;
    while (n > 0 && ((unsigned char)s.p[n] & 0xC0) == 0x80)
        n--;
    return (lw_str_t){s.p, n};
}

static int finish(lw_buf_t *b, size_t start, int rc)
{
    if (rc) b->len = start;
    return rc;
}

/* [type,"id","action",payload] */
static int write_call_like(lw_buf_t *b, int type, lw_str_t id, lw_str_t action, lw_str_t payload)
{
    if (!id_ok(id) || !action_ok(action)) return LW_EINVAL;
    size_t start = b->len;
    int rc = lw_buf_printf(b, "[%d,", type);
    if (!rc) rc = put_raw_str(b, id);
    if (!rc) rc = lw_buf_putc(b, ',');
    if (!rc) rc = put_raw_str(b, action);
    if (!rc) rc = lw_buf_putc(b, ',');
    if (!rc) rc = put_json(b, payload);
    if (!rc) rc = lw_buf_putc(b, ']');
    return finish(b, start, rc);
}

int lw_rpc_write_call(lw_buf_t *buf, lw_str_t id, lw_str_t action, lw_str_t payload_json)
{
    return write_call_like(buf, LW_RPC_CALL, id, action, payload_json);
}

int lw_rpc_write_send(lw_buf_t *buf, lw_str_t id, lw_str_t action, lw_str_t payload_json)
{
    return write_call_like(buf, LW_RPC_SEND, id, action, payload_json);
}

int lw_rpc_write_result(lw_buf_t *buf, lw_str_t id, lw_str_t payload_json)
{
    if (!id_ok(id)) return LW_EINVAL;
    size_t start = buf->len;
    int rc = lw_buf_append_c(buf, "[3,");
    if (!rc) rc = put_raw_str(buf, id);
    if (!rc) rc = lw_buf_putc(buf, ',');
    if (!rc) rc = put_json(buf, payload_json);
    if (!rc) rc = lw_buf_putc(buf, ']');
    return finish(buf, start, rc);
}

/* [type,"id","code","description",details]; description plain text (escaped here). The
 * id may be "-1" (answer to an unreadable id), which id_ok accepts as any other. */
static int write_error_like(lw_buf_t *b, int type, lw_ocpp_version_t v, lw_str_t id,
                            lw_ocpp_err_t code, lw_str_t description, lw_str_t details)
{
    if (!id_ok(id)) return LW_EINVAL;
    if (!description.p) description = LW_STR("");
    size_t start = b->len;
    int rc = lw_buf_printf(b, "[%d,", type);
    if (!rc) rc = put_raw_str(b, id);
    if (!rc) rc = lw_buf_printf(b, ",\"%s\",", lw_ocpp_err_name(v, code));
    /* OCPP 2.0.1 Part 4 §4.2.3: errorDescription is string[255]; "" when there is none. */
    if (!rc) rc = lw_buf_append_json_str(b, cut_utf8(description, LW_RPC_ERROR_DESCRIPTION_MAX));
    if (!rc) rc = lw_buf_putc(b, ',');
    /* ... errorDetails: "If there are no error details you MUST fill in an empty object {}" */
    if (!rc) rc = put_json(b, details);
    if (!rc) rc = lw_buf_putc(b, ']');
    return finish(b, start, rc);
}

int lw_rpc_write_error(lw_buf_t *buf, lw_ocpp_version_t v, lw_str_t id, lw_ocpp_err_t code,
                       lw_str_t description, lw_str_t details_json)
{
    return write_error_like(buf, LW_RPC_CALLERROR, v, id, code, description, details_json);
}

int lw_rpc_write_result_error(lw_buf_t *buf, lw_str_t id, lw_ocpp_err_t code, lw_str_t description,
                              lw_str_t details_json)
{
    return write_error_like(buf, LW_RPC_CALLRESULTERROR, LW_OCPP_21, id, code, description,
                            details_json);
}

int lw_rpc_write_parse_error(lw_buf_t *buf, lw_ocpp_version_t v, const lw_rpc_parse_error_t *err)
{
    lw_str_t desc = lw_str_c(err->reason);
    switch (err->reply) {
    case LW_RPC_REPLY_CALLERROR:
        return lw_rpc_write_error(buf, v, err->reply_id, err->code, desc, LW_STR_NULL);
    case LW_RPC_REPLY_CALLRESULTERROR:
        return lw_rpc_write_result_error(buf, err->reply_id, err->code, desc, LW_STR_NULL);
    default:
        return LW_EINVAL;
    }
}

int lw_rpc_write_frame(lw_buf_t *buf, const lw_rpc_frame_t *f)
{
    switch (f->type) {
    case LW_RPC_CALL:
    case LW_RPC_SEND:
        return write_call_like(buf, f->type, f->id, f->action, f->payload);
    case LW_RPC_CALLRESULT:
        return lw_rpc_write_result(buf, f->id, f->payload);
    case LW_RPC_CALLERROR:
    case LW_RPC_CALLRESULTERROR: {
        /* verbatim: the raw errorCode and description as received */
        if (!id_ok(f->id) || !lw_rpc_raw_string_ok(f->error_code) ||
            !lw_rpc_raw_string_ok(f->error_description))
            return LW_EINVAL;
        size_t start = buf->len;
        int rc = lw_buf_printf(buf, "[%d,", (int)f->type);
        if (!rc) rc = put_raw_str(buf, f->id);
        if (!rc) rc = lw_buf_putc(buf, ',');
        if (!rc) rc = put_raw_str(buf, f->error_code);
        if (!rc) rc = lw_buf_putc(buf, ',');
        if (!rc) rc = put_raw_str(buf, f->error_description);
        if (!rc) rc = lw_buf_putc(buf, ',');
        if (!rc) rc = put_json(buf, f->error_details);
        if (!rc) rc = lw_buf_putc(buf, ']');
        return finish(buf, start, rc);
    }
    default:
        return LW_EINVAL;
    }
}

/* ---- message ids ---------------------------------------------------------------------------
 * Random bytes come from getrandom() (the kernel CSPRNG), 512 at a time into a per-thread
 * pool: one system call per 32 ids. A fork()ed child must not hand out the bytes its parent
 * still holds: the atfork handler bumps a generation and a pool from an older generation is
 * thrown away. */
#define ID_POOL 512

static atomic_uint fork_gen;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void on_fork_child(void)
{
    atomic_fetch_add(&fork_gen, 1);
}

static void register_atfork(void)
{
    pthread_atfork(NULL, NULL, on_fork_child);
}

static _Thread_local struct {
    unsigned char bytes[ID_POOL];
    size_t used; /* == ID_POOL when empty */
    unsigned gen;
    bool init;
} pool;

static int random16(unsigned char out[16])
{
    pthread_once(&atfork_once, register_atfork);
    unsigned gen = atomic_load(&fork_gen);
    if (!pool.init || pool.gen != gen || pool.used + 16 > ID_POOL) {
        size_t got = 0;
        while (got < ID_POOL) {
            ssize_t n = getrandom(pool.bytes + got, ID_POOL - got, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return LW_EIO;
            got += (size_t)n;
        }
        pool.used = 0;
        pool.gen = gen;
        pool.init = true;
    }
    memcpy(out, pool.bytes + pool.used, 16);
    memset(pool.bytes + pool.used, 0, 16); /* handed out bytes do not stay behind */
    pool.used += 16;
    return 0;
}

int lw_rpc_make_id(char *out)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char r[16];
    int rc = random16(r);
    if (rc) return rc;
    r[6] = (unsigned char)((r[6] & 0x0F) | 0x40); /* RFC 9562 §5.4: version 4 */
    r[8] = (unsigned char)((r[8] & 0x3F) | 0x80); /* variant 10 */
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
        out[o++] = hex[r[i] >> 4];
        out[o++] = hex[r[i] & 15];
    }
    out[o] = 0; /* o == 36 == LW_MSGID_MAX */
    return 0;
}
