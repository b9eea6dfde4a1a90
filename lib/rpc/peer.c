/*
 * peer.c — the per-connection call table (ladewerk/rpc.h): the one outstanding outgoing
 * CALL with its deadline, the one incoming CALL being processed, and the counters.
 *
 * OCPP-J 1.6 §4.1.1 and OCPP 2.0.1 Part 4 §4.1.1 (synchronicity): a Charge Point / Central
 * System SHOULD NOT send a CALL to the other party unless all the CALLs it sent before have
 * been responded to or have timed out. So one slot per direction is the whole table.
 * Responses are matched by message id (OCPP-J 1.6 §4.2.2, 2.0.1 Part 4 §4.2.2: the id of a
 * CALLRESULT/CALLERROR is the id of the CALL it answers); anything else is late or unknown,
 * logged and dropped.
 *
 * Callbacks: the slot is cleared before the callback runs, so the callback may begin the
 * next CALL, cancel or close. The peer owns no heap memory, so nothing can be freed under a
 * running callback by the peer itself.
 */
#include "ladewerk/rpc.h"

#include <string.h>

static void copy_str(char *dst, size_t cap, lw_str_t s)
{
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    if (n) memcpy(dst, s.p, n);
    dst[n] = 0;
}

static const char *pname(const lw_rpc_peer_t *p)
{
    return p->name ? p->name : "-";
}

void lw_rpc_stats_count_parse(lw_rpc_stats_t *s, int rc, const lw_rpc_frame_t *f,
                              const lw_rpc_parse_error_t *err)
{
    if (rc == 0) {
        if (f && (unsigned)f->type < LW_RPC_TYPE_END) s->rx[f->type]++;
        return;
    }
    if (!err) return;
    if ((unsigned)err->code < LW_OCPP_ERR_COUNT) s->parse_errors[err->code]++;
    if (err->reply == LW_RPC_REPLY_NONE) s->parse_errors_dropped++;
}

void lw_rpc_peer_init(lw_rpc_peer_t *p, lw_ocpp_version_t v, const lw_clock_t *clock,
                      uint32_t timeout_ms, const char *name)
{
    memset(p, 0, sizeof *p);
    p->version = v;
    p->clock = clock;
    p->timeout_ms = timeout_ms ? timeout_ms : LW_CALL_TIMEOUT_MS_DEFAULT;
    p->name = name;
}

int lw_rpc_parse_logged(lw_ocpp_version_t v, const char *name, const char *buf, size_t len,
                        lw_rpc_frame_t *out, lw_rpc_parse_error_t *err)
{
    lw_rpc_parse_error_t local;
    if (!err) err = &local;
    int rc = lw_rpc_parse(v, buf, len, out, err);
    if (rc == LW_EPARSE)
        lw_log(LW_LOG_WARN, "rpc",
               "station=%s event=malformed_frame type=%d code=%s reply=%d offset=%zu reason=\"%s\"",
               name ? name : "-", err->type, lw_ocpp_err_name(v, err->code), (int)err->reply,
               err->offset, err->reason ? err->reason : "");
    return rc;
}

int lw_rpc_peer_parse(lw_rpc_peer_t *p, const char *buf, size_t len, lw_rpc_frame_t *out,
                      lw_rpc_parse_error_t *err)
{
    lw_rpc_parse_error_t local;
    if (!err) err = &local;
    int rc = lw_rpc_parse_logged(p->version, p->name, buf, len, out, err);
    lw_rpc_stats_count_parse(&p->stats, rc, out, err);
    return rc;
}

int lw_rpc_peer_begin(lw_rpc_peer_t *p, lw_str_t id, lw_str_t action, lw_rpc_done_cb cb, void *ud)
{
    if (!id.p || id.len == 0 || id.len > LW_MSGID_MAX || action.len > LW_ACTION_MAX)
        return LW_EINVAL;
    if (p->closed) return LW_ECLOSED;
    if (p->out_active) return LW_EBUSY;
    copy_str(p->out_id, sizeof p->out_id, id);
    copy_str(p->out_action, sizeof p->out_action, action);
    p->out_deadline = lw_clock_mono(p->clock) + p->timeout_ms;
    p->out_cb = cb;
    p->out_ud = ud;
    p->out_active = true;
    return 0;
}

int lw_rpc_peer_cancel(lw_rpc_peer_t *p)
{
    if (!p->out_active) return LW_ENOTFOUND;
    p->out_active = false;
    p->out_cb = NULL;
    p->out_ud = NULL;
    return 0;
}

/* Empties the outgoing slot, then fires its callback from copies. */
static void complete(lw_rpc_peer_t *p, int status, const lw_rpc_frame_t *f)
{
    char id[LW_MSGID_MAX + 1], action[LW_ACTION_MAX + 1];
    memcpy(id, p->out_id, sizeof id);
    memcpy(action, p->out_action, sizeof action);
    lw_rpc_done_cb cb = p->out_cb;
    void *ud = p->out_ud;
    memcpy(p->last_id, p->out_id, sizeof p->last_id);
    p->out_active = false;
    p->out_cb = NULL;
    p->out_ud = NULL;
    if (cb) cb(ud, status, id, action, f);
}

int lw_rpc_peer_match(lw_rpc_peer_t *p, const lw_rpc_frame_t *f)
{
    if (f->type == LW_RPC_CALLRESULTERROR) {
        /* OCPP 2.1 Part 4: the peer could not process a CALLRESULT we sent. Nothing waits
         * for it; it is worth a log line and a counter. */
        p->stats.result_errors++;
        lw_log(LW_LOG_WARN, "rpc", "station=%s event=callresulterror id=%.*s code=%.*s", pname(p),
               LW_STR_FMT(f->id), LW_STR_FMT(f->error_code));
        return LW_ENOTFOUND;
    }
    if (f->type != LW_RPC_CALLRESULT && f->type != LW_RPC_CALLERROR) return LW_EINVAL;
    if (!p->out_active || !lw_str_eq_c(f->id, p->out_id)) {
        p->stats.late_or_unknown++;
        bool late = p->last_id[0] && lw_str_eq_c(f->id, p->last_id);
        lw_log(LW_LOG_WARN, "rpc", "station=%s event=%s_response type=%s id=%.*s dropped=1",
               pname(p), late ? "late" : "unknown", lw_rpc_type_name(f->type), LW_STR_FMT(f->id));
        return LW_ENOTFOUND;
    }
    if (f->type == LW_RPC_CALLERROR) p->stats.call_errors++;
    complete(p, f->type == LW_RPC_CALLRESULT ? 0 : LW_EPROTO, f);
    return 0;
}

bool lw_rpc_peer_deadline(const lw_rpc_peer_t *p, uint64_t *at)
{
    if (!p->out_active) return false;
    if (at) *at = p->out_deadline;
    return true;
}

int lw_rpc_peer_tick(lw_rpc_peer_t *p)
{
    if (!p->out_active || lw_clock_mono(p->clock) < p->out_deadline) return 0;
    p->stats.timeouts++;
    lw_log(LW_LOG_WARN, "rpc", "station=%s event=call_timeout id=%s action=%s timeout_ms=%u",
           pname(p), p->out_id, p->out_action, p->timeout_ms);
    complete(p, LW_ETIMEDOUT, NULL);
    return 1;
}

void lw_rpc_peer_close(lw_rpc_peer_t *p)
{
    if (p->closed) return;
    p->closed = true;
    p->in_active = false;
    if (p->out_active) complete(p, LW_ECLOSED, NULL);
}

int lw_rpc_peer_incoming(lw_rpc_peer_t *p, const lw_rpc_frame_t *f)
{
    if (f->type != LW_RPC_CALL || f->id.len == 0 || f->id.len > LW_MSGID_MAX) return LW_EINVAL;
    if (p->in_active) {
        p->stats.overlapping_calls++;
        bool dup = lw_str_eq_c(f->id, p->in_id);
        lw_log(LW_LOG_INFO, "rpc",
               "station=%s event=%s id=%.*s action=%.*s pending_id=%s pending_action=%s", pname(p),
               dup ? "duplicate_call" : "overlapping_call", LW_STR_FMT(f->id),
               LW_STR_FMT(f->action), p->in_id, p->in_action);
        return dup ? LW_EEXISTS : LW_EBUSY;
    }
    copy_str(p->in_id, sizeof p->in_id, f->id);
    copy_str(p->in_action, sizeof p->in_action, f->action);
    p->in_since = lw_clock_mono(p->clock);
    p->in_active = true;
    return 0;
}

int lw_rpc_peer_answered(lw_rpc_peer_t *p, lw_str_t id)
{
    if (!p->in_active || !lw_str_eq_c(id, p->in_id)) return LW_ENOTFOUND;
    p->in_active = false;
    return 0;
}

void lw_rpc_peer_sent(lw_rpc_peer_t *p, lw_rpc_type_t type)
{
    if ((unsigned)type < LW_RPC_TYPE_END) p->stats.tx[type]++;
}
