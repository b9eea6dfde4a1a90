/*
 * journal.c — the station's durable journal: one record per line, "CRC32HEX JSON\n",
 * appended before the state it describes is acted upon. Records:
 *   q   a transaction message queued (number q, local transaction x, action a, payload p,
 *       and connector c / energy register wh / seqNo seq to continue after a restart)
 *   d   message q delivered (answered) or given up
 *   ts  a transaction started on connector c;   te  it ended
 *   m   1.6 transactionId the CSMS gave local transaction x
 *   cfg a configuration value;  ll  the local authorization list;  av  availability
 *   pr  every installed charging profile;  rs  every reservation (each replaces the last)
 *   ce  certificate slot i installed (type, PEM, hashes) or emptied
 *   reg an energy register (written when compacting)
 * A torn last line (crash during a write) fails its CRC and is ignored. When the journal
 * grows past LW_STATION_JOURNAL_COMPACT and no transaction message is queued, it is
 * replaced atomically by a snapshot of the state it describes.
 *
 * The default file implementation (lw_station_journal_file_*) uses O_APPEND + fdatasync and
 * write-temp-fsync-rename for replace.
 */
#include "station_int.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint32_t crc32(const char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= (uint8_t)p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static int format_line(cJSON *rec, lw_buf_t *out)
{
    char *txt = cJSON_PrintUnformatted(rec);
    if (!txt) return LW_ENOMEM;
    size_t n = strlen(txt);
    int rc = lw_buf_printf(out, "%08x ", crc32(txt, n));
    if (!rc) rc = lw_buf_append(out, txt, n);
    if (!rc) rc = lw_buf_putc(out, '\n');
    free(txt);
    return rc;
}

int jr_append(lw_station_t *st, cJSON *rec)
{
    if (!st->journal) return 0;
    lw_buf_t b;
    lw_buf_init(&b, LW_FRAME_MAX_CEILING);
    int rc = format_line(rec, &b);
    if (!rc) rc = st->journal->append(st->journal->ctx, b.data, b.len);
    if (!rc)
        st->journal_bytes += b.len;
    else
        lw_log(LW_LOG_ERROR, "station", "station=%s event=journal_write_failed err=%s", st->id,
               lw_strerror(rc));
    lw_buf_free(&b);
    return rc;
}

void jr_done(lw_station_t *st, uint64_t qid)
{
    if (!st->journal || !qid) return;
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "t", "d");
    cJSON_AddNumberToObject(rec, "q", (double)qid);
    jr_append(st, rec);
    cJSON_Delete(rec);
}

static cJSON *tx_record(lw_station_t *st, int c)
{
    const tx_t *t = &st->conn[c].tx;
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "t", "ts");
    cJSON_AddNumberToObject(rec, "x", t->local);
    cJSON_AddNumberToObject(rec, "c", c);
    cJSON_AddStringToObject(rec, "tag", t->tag);
    cJSON_AddStringToObject(rec, "tt", t->tag_type);
    cJSON_AddStringToObject(rec, "id", t->id);
    cJSON_AddNumberToObject(rec, "cid", (double)t->csms_id);
    cJSON_AddNumberToObject(rec, "ms", t->meter_start);
    cJSON_AddNumberToObject(rec, "sw", (double)t->start_wall);
    cJSON_AddNumberToObject(rec, "seq", t->seq);
    cJSON_AddNumberToObject(rec, "wh", st->conn[c].energy_wh);
    return rec;
}

void jr_tx_started(lw_station_t *st, int c)
{
    if (!st->journal) return;
    cJSON *rec = tx_record(st, c);
    jr_append(st, rec);
    cJSON_Delete(rec);
}

void jr_tx_ended(lw_station_t *st, uint32_t local)
{
    if (!st->journal) return;
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "t", "te");
    cJSON_AddNumberToObject(rec, "x", local);
    jr_append(st, rec);
    cJSON_Delete(rec);
}

static cJSON *local_list_record(lw_station_t *st)
{
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "t", "ll");
    cJSON_AddNumberToObject(rec, "ver", st->local_version);
    cJSON *arr = cJSON_AddArrayToObject(rec, "l");
    for (size_t i = 0; i < st->local_n; i++) {
        const auth_entry_t *e = &st->local_list[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "tag", e->tag);
        cJSON_AddStringToObject(o, "p", e->parent);
        cJSON_AddStringToObject(o, "s", e->status);
        cJSON_AddNumberToObject(o, "e", (double)e->expiry);
        cJSON_AddItemToArray(arr, o);
    }
    return rec;
}

void jr_local_list(lw_station_t *st)
{
    if (!st->journal) return;
    cJSON *rec = local_list_record(st);
    jr_append(st, rec);
    cJSON_Delete(rec);
}

static cJSON *availability_record(lw_station_t *st, int c)
{
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "t", "av");
    cJSON_AddNumberToObject(rec, "c", c);
    cJSON_AddBoolToObject(rec, "op", c == 0 ? st->station_operative : st->conn[c].operative);
    return rec;
}

void jr_availability(lw_station_t *st, int c)
{
    if (!st->journal) return;
    cJSON *rec = availability_record(st, c);
    jr_append(st, rec);
    cJSON_Delete(rec);
}

/* ---- charging profiles, reservations, certificates ------------------------------------ */
static cJSON *profiles_record(lw_station_t *st)
{
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "t", "pr");
    cJSON *arr = cJSON_AddArrayToObject(rec, "l");
    for (int i = 0; st->profiles && i < LW_STATION_PROFILES_MAX; i++) {
        const profile_t *p = &st->profiles[i];
        if (!p->used) continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", p->id);
        cJSON_AddNumberToObject(o, "c", p->conn);
        cJSON_AddNumberToObject(o, "sl", p->stack);
        cJSON_AddNumberToObject(o, "pu", p->purpose);
        cJSON_AddNumberToObject(o, "k", p->kind);
        cJSON_AddNumberToObject(o, "rk", p->recurrency);
        cJSON_AddNumberToObject(o, "vf", (double)p->valid_from);
        cJSON_AddNumberToObject(o, "vt", (double)p->valid_to);
        cJSON_AddStringToObject(o, "tx", p->tx_id);
        cJSON_AddNumberToObject(o, "ss", (double)p->start_schedule);
        cJSON_AddNumberToObject(o, "du", p->duration_s);
        cJSON_AddBoolToObject(o, "w", p->unit_w);
        cJSON_AddNumberToObject(o, "mr", p->min_rate);
        cJSON *per = cJSON_AddArrayToObject(o, "per");
        for (int k = 0; k < p->nperiods; k++) {
            cJSON *q = cJSON_CreateArray();
            cJSON_AddItemToArray(q, cJSON_CreateNumber(p->periods[k].start_s));
            cJSON_AddItemToArray(q, cJSON_CreateNumber(p->periods[k].limit));
            cJSON_AddItemToArray(q, cJSON_CreateNumber(p->periods[k].phases));
            cJSON_AddItemToArray(per, q);
        }
        cJSON_AddItemToArray(arr, o);
    }
    return rec;
}

void jr_profiles(lw_station_t *st)
{
    if (!st->journal) return;
    cJSON *rec = profiles_record(st);
    jr_append(st, rec);
    cJSON_Delete(rec);
}

static void apply_profiles(lw_station_t *st, cJSON *r)
{
    if (!st->profiles) st->profiles = calloc(LW_STATION_PROFILES_MAX, sizeof(profile_t));
    if (!st->profiles) return;
    memset(st->profiles, 0, LW_STATION_PROFILES_MAX * sizeof(profile_t));
    int i = 0;
    double d;
    long v;
    cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(r, "l"))
    {
        if (i == LW_STATION_PROFILES_MAX) break;
        profile_t *p = &st->profiles[i++];
        p->used = true;
        p->id = jint(o, "id", &v) ? (int)v : 0;
        p->conn = jint(o, "c", &v) && v >= 0 && v <= st->nconn ? (int)v : 0;
        p->stack = jint(o, "sl", &v) ? (int)v : 0;
        p->purpose = jint(o, "pu", &v) ? (int)v : 0;
        p->kind = jint(o, "k", &v) ? (int)v : 0;
        p->recurrency = jint(o, "rk", &v) ? (int)v : 0;
        p->valid_from = jnum(o, "vf", &d) ? (int64_t)d : 0;
        p->valid_to = jnum(o, "vt", &d) ? (int64_t)d : 0;
        copy_str(p->tx_id, sizeof p->tx_id, jstr(o, "tx"));
        p->start_schedule = jnum(o, "ss", &d) ? (int64_t)d : 0;
        p->duration_s = jint(o, "du", &v) ? (int)v : 0;
        p->unit_w = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "w"));
        p->min_rate = jnum(o, "mr", &d) ? d : 0;
        cJSON *q;
        cJSON_ArrayForEach(q, cJSON_GetObjectItemCaseSensitive(o, "per"))
        {
            if (p->nperiods == LW_STATION_PERIODS_MAX) break;
            period_t *pp = &p->periods[p->nperiods++];
            pp->start_s = (int)cJSON_GetNumberValue(cJSON_GetArrayItem(q, 0));
            pp->limit = cJSON_GetNumberValue(cJSON_GetArrayItem(q, 1));
            pp->phases = (int)cJSON_GetNumberValue(cJSON_GetArrayItem(q, 2));
        }
    }
}

static cJSON *reservations_record(lw_station_t *st)
{
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "t", "rs");
    cJSON *arr = cJSON_AddArrayToObject(rec, "l");
    for (int c = 1; c <= st->nconn; c++) {
        const conn_t *k = &st->conn[c];
        if (!k->reserved) continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "c", c);
        cJSON_AddNumberToObject(o, "id", k->res_id);
        cJSON_AddStringToObject(o, "tag", k->res_tag);
        cJSON_AddStringToObject(o, "p", k->res_parent);
        cJSON_AddNumberToObject(o, "e", (double)k->res_expiry_wall);
        cJSON_AddItemToArray(arr, o);
    }
    return rec;
}

void jr_reservations(lw_station_t *st)
{
    if (!st->journal) return;
    cJSON *rec = reservations_record(st);
    jr_append(st, rec);
    cJSON_Delete(rec);
}

static void apply_reservations(lw_station_t *st, cJSON *r)
{
    for (int c = 1; c <= st->nconn; c++)
        st->conn[c].reserved = false;
    cJSON *o;
    long v;
    double d;
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(r, "l"))
    {
        if (!jint(o, "c", &v) || v < 1 || v > st->nconn) continue;
        conn_t *k = &st->conn[v];
        k->reserved = true;
        k->res_id = jint(o, "id", &v) ? (int)v : 0;
        copy_str(k->res_tag, sizeof k->res_tag, jstr(o, "tag"));
        copy_str(k->res_parent, sizeof k->res_parent, jstr(o, "p"));
        k->res_expiry_wall = jnum(o, "e", &d) ? (int64_t)d : 0;
    }
}

static cJSON *cert_record(lw_station_t *st, int i)
{
    const cert_t *c = &st->certs[i];
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "t", "ce");
    cJSON_AddNumberToObject(rec, "i", i);
    if (c->used) {
        cJSON_AddStringToObject(rec, "ty", c->type);
        cJSON_AddStringToObject(rec, "pem", c->pem ? c->pem : "");
        cJSON_AddStringToObject(rec, "inh", c->issuer_name_hash);
        cJSON_AddStringToObject(rec, "ikh", c->issuer_key_hash);
        cJSON_AddStringToObject(rec, "sn", c->serial);
    }
    return rec;
}

void jr_cert(lw_station_t *st, int slot)
{
    if (!st->journal || slot < 0 || slot >= LW_STATION_CERTS_MAX) return;
    cJSON *rec = cert_record(st, slot);
    jr_append(st, rec);
    cJSON_Delete(rec);
}

static void apply_cert(lw_station_t *st, cJSON *r)
{
    long i;
    if (!jint(r, "i", &i) || i < 0 || i >= LW_STATION_CERTS_MAX) return;
    cert_t *c = &st->certs[i];
    free(c->pem);
    memset(c, 0, sizeof *c);
    const char *pem = jstr(r, "pem");
    if (!pem) return; /* emptied */
    c->used = true;
    c->pem = lw_str_dup(lw_str_c(pem));
    copy_str(c->type, sizeof c->type, jstr(r, "ty"));
    copy_str(c->issuer_name_hash, sizeof c->issuer_name_hash, jstr(r, "inh"));
    copy_str(c->issuer_key_hash, sizeof c->issuer_key_hash, jstr(r, "ikh"));
    copy_str(c->serial, sizeof c->serial, jstr(r, "sn"));
}

static void apply(lw_station_t *st, cJSON *r)
{
    const char *t = jstr(r, "t");
    long x = 0, c = 0, v = 0;
    double d = 0;
    if (!t) return;
    jint(r, "x", &x);
    jint(r, "c", &c);
    if (c < 0 || c > st->nconn) c = 0;
    if (!strcmp(t, "q")) {
        double q = 0;
        jnum(r, "q", &q);
        const char *a = jstr(r, "a");
        cJSON *p = cJSON_GetObjectItemCaseSensitive(r, "p");
        cJSON *per = cJSON_GetObjectItemCaseSensitive(r, "per");
        char *txt = p ? cJSON_PrintUnformatted(p) : NULL;
        if (a && txt)
            st_requeue_restored(st, (uint64_t)q, (uint32_t)x, a, txt, cJSON_IsTrue(per));
        else
            free(txt);
        if ((uint64_t)q >= st->next_qid) st->next_qid = (uint64_t)q + 1;
        if (c > 0 && jnum(r, "wh", &d) && d > st->conn[c].energy_wh) st->conn[c].energy_wh = d;
        /* a queued stop ends the transaction even when the "te" record never got written */
        const char *ev = p ? jstr(p, "eventType") : NULL;
        if (c > 0 && st->conn[c].tx.active && st->conn[c].tx.local == (uint32_t)x && a &&
            (!strcmp(a, "StopTransaction") || (ev && !strcmp(ev, "Ended"))))
            st->conn[c].tx.active = false;
        if (c > 0 && st->conn[c].tx.active && st->conn[c].tx.local == (uint32_t)x &&
            jint(r, "seq", &v) && v > st->conn[c].tx.seq)
            st->conn[c].tx.seq = (int)v; /* recorded after the message took its number */
    } else if (!strcmp(t, "d")) {
        double q = 0;
        jnum(r, "q", &q);
        st_unqueue_restored(st, (uint64_t)q);
    } else if (!strcmp(t, "ts") && c > 0) {
        tx_t *tx = &st->conn[c].tx;
        memset(tx, 0, sizeof *tx);
        tx->active = true;
        tx->local = (uint32_t)x;
        copy_str(tx->tag, sizeof tx->tag, jstr(r, "tag"));
        copy_str(tx->tag_type, sizeof tx->tag_type, jstr(r, "tt"));
        copy_str(tx->id, sizeof tx->id, jstr(r, "id"));
        tx->csms_id = jnum(r, "cid", &d) ? (int64_t)d : -1;
        tx->meter_start = jnum(r, "ms", &d) ? d : 0;
        tx->start_wall = jnum(r, "sw", &d) ? (int64_t)d : 0;
        tx->seq = jint(r, "seq", &v) ? (int)v : 0;
        tx->remote_start_id = -1;
        tx->reservation_id = -1;
        if (jnum(r, "wh", &d) && d > st->conn[c].energy_wh) st->conn[c].energy_wh = d;
        if ((uint32_t)x >= st->next_txlocal) st->next_txlocal = (uint32_t)x + 1;
    } else if (!strcmp(t, "te")) {
        for (int i = 1; i <= st->nconn; i++)
            if (st->conn[i].tx.active && st->conn[i].tx.local == (uint32_t)x)
                st->conn[i].tx.active = false;
        if ((uint32_t)x >= st->next_txlocal) st->next_txlocal = (uint32_t)x + 1;
    } else if (!strcmp(t, "m")) {
        if (jnum(r, "id", &d)) {
            st_txmap_set(st, (uint32_t)x, (int64_t)d);
            for (int i = 1; i <= st->nconn; i++)
                if (st->conn[i].tx.active && st->conn[i].tx.local == (uint32_t)x)
                    st->conn[i].tx.csms_id = (int64_t)d;
        }
    } else if (!strcmp(t, "cfg")) {
        const char *val = jstr(r, "val");
        if (jint(r, "v", &v) && v >= 0 && v < V_COUNT && val) cfg_set(st, (int)v, val, true, false);
    } else if (!strcmp(t, "ll")) {
        if (!st->local_list)
            st->local_list = calloc(LW_STATION_LOCAL_LIST_MAX, sizeof(auth_entry_t));
        if (!st->local_list) return;
        st->local_n = 0;
        st->local_version = jint(r, "ver", &v) ? (int)v : 0;
        cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(r, "l"))
        {
            if (st->local_n == LW_STATION_LOCAL_LIST_MAX) break;
            auth_entry_t *a = &st->local_list[st->local_n++];
            copy_str(a->tag, sizeof a->tag, jstr(e, "tag"));
            copy_str(a->parent, sizeof a->parent, jstr(e, "p"));
            copy_str(a->status, sizeof a->status, jstr(e, "s"));
            a->expiry = jnum(e, "e", &d) ? (int64_t)d : 0;
            a->used = true;
        }
    } else if (!strcmp(t, "av")) {
        bool op = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "op"));
        if (c == 0)
            st->station_operative = op;
        else
            st->conn[c].operative = op;
    } else if (!strcmp(t, "pr")) {
        apply_profiles(st, r);
    } else if (!strcmp(t, "rs")) {
        apply_reservations(st, r);
    } else if (!strcmp(t, "ce")) {
        apply_cert(st, r);
    } else if (!strcmp(t, "reg") && c > 0) {
        if (jnum(r, "wh", &d) && d > st->conn[c].energy_wh) st->conn[c].energy_wh = d;
    }
}

static int snapshot(lw_station_t *st)
{
    lw_buf_t b;
    lw_buf_init(&b, LW_FRAME_MAX_CEILING * 4);
    int rc = 0;
    cJSON *rec;
#define PUT(r)                                                                                     \
    do {                                                                                           \
        rec = (r);                                                                                 \
        if (!rc) rc = format_line(rec, &b);                                                        \
        cJSON_Delete(rec);                                                                         \
    } while (0)
    for (int v = 0; v < V_COUNT; v++) {
        if (!st->val[v]) continue;
        rec = cJSON_CreateObject();
        cJSON_AddStringToObject(rec, "t", "cfg");
        cJSON_AddNumberToObject(rec, "v", v);
        cJSON_AddStringToObject(rec, "val", st->val[v]);
        PUT(rec);
    }
    for (int c = 0; c <= st->nconn; c++)
        PUT(availability_record(st, c));
    if (st->local_list) PUT(local_list_record(st));
    if (st->profiles) PUT(profiles_record(st));
    PUT(reservations_record(st));
    for (int i = 0; i < LW_STATION_CERTS_MAX; i++)
        if (st->certs[i].used) PUT(cert_record(st, i));
    for (int c = 1; c <= st->nconn; c++) {
        rec = cJSON_CreateObject();
        cJSON_AddStringToObject(rec, "t", "reg");
        cJSON_AddNumberToObject(rec, "c", c);
        cJSON_AddNumberToObject(rec, "wh", st->conn[c].energy_wh);
        PUT(rec);
        if (st->conn[c].tx.active) PUT(tx_record(st, c));
    }
    for (size_t i = 0; i < st->txmap_n; i++) {
        rec = cJSON_CreateObject();
        cJSON_AddStringToObject(rec, "t", "m");
        cJSON_AddNumberToObject(rec, "x", st->txmap[i].local);
        cJSON_AddNumberToObject(rec, "id", (double)st->txmap[i].csms_id);
        PUT(rec);
    }
    /* the message in flight first, then the queue, so the order is kept */
    qmsg_t *inflight = st->inflight.active ? st->inflight.msg : NULL;
    for (qmsg_t *m = inflight ? inflight : st->qhead; m;
         m = (m == inflight) ? st->qhead : m->next) {
        if (!m->qid) continue;
        rec = cJSON_CreateObject();
        cJSON_AddStringToObject(rec, "t", "q");
        cJSON_AddNumberToObject(rec, "q", (double)m->qid);
        cJSON_AddNumberToObject(rec, "x", m->txlocal);
        cJSON_AddStringToObject(rec, "a", m->action);
        cJSON_AddBoolToObject(rec, "per", m->periodic);
        cJSON_AddItemToObject(rec, "p", cJSON_Parse(m->payload));
        PUT(rec);
    }
#undef PUT
    if (!rc) rc = st->journal->replace(st->journal->ctx, b.data ? b.data : "", b.len);
    if (!rc) st->journal_bytes = b.len;
    lw_buf_free(&b);
    return rc;
}

int jr_restore(lw_station_t *st)
{
    lw_buf_t b;
    lw_buf_init(&b, LW_STATION_JOURNAL_MAX);
    int rc = st->journal->load(st->journal->ctx, &b);
    if (rc) {
        lw_buf_free(&b);
        return rc == LW_ETOOBIG ? LW_EIO : rc;
    }
    size_t pos = 0, good = 0, bad = 0;
    while (pos < b.len) {
        char *nl = memchr(b.data + pos, '\n', b.len - pos);
        if (!nl) break; /* torn last record */
        char *line = b.data + pos;
        size_t n = (size_t)(nl - line);
        pos += n + 1;
        if (n < 10 || line[8] != ' ') {
            bad++;
            continue;
        }
        unsigned crc = (unsigned)strtoul(line, NULL, 16);
        if (crc != crc32(line + 9, n - 9)) {
            bad++;
            continue;
        }
        cJSON *r = cJSON_ParseWithLength(line + 9, n - 9);
        if (r) {
            apply(st, r);
            good++;
        }
        cJSON_Delete(r);
    }
    lw_buf_free(&b);
    if (bad)
        lw_log(LW_LOG_WARN, "station", "station=%s event=journal_bad_records n=%zu", st->id, bad);
    /* transactions that were running when the power went: end them (1.6 reason PowerLoss,
     * 2.0.1 stoppedReason PowerLoss) after the messages still queued */
    for (int c = 1; c <= st->nconn; c++)
        if (st->conn[c].tx.active) tx_restore_powerloss(st, c);
    (void)good;
    return snapshot(st);
}

void jr_compact_if_idle(lw_station_t *st)
{
    if (!st->journal || st->journal_bytes < LW_STATION_JOURNAL_COMPACT) return;
    if (st->inflight.active && st->inflight.msg && st->inflight.msg->qid) return;
    for (qmsg_t *m = st->qhead; m; m = m->next)
        if (m->qid) return;
    snapshot(st);
}

/* ---- default file implementation ------------------------------------------------------- */
struct lw_station_journal_file {
    char *path;
    int fd;
};

static int file_append(void *ctx, const void *data, size_t len)
{
    lw_station_journal_file_t *jf = ctx;
    if (jf->fd < 0) {
        jf->fd = open(jf->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (jf->fd < 0) return LW_EIO;
    }
    const char *p = data;
    while (len) {
        ssize_t w = write(jf->fd, p, len);
        if (w < 0) return LW_EIO;
        p += w;
        len -= (size_t)w;
    }
    return fdatasync(jf->fd) == 0 ? 0 : LW_EIO;
}

static int file_load(void *ctx, lw_buf_t *out)
{
    lw_station_journal_file_t *jf = ctx;
    int fd = open(jf->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0; /* no journal yet: empty */
    char tmp[65536];
    for (;;) {
        ssize_t r = read(fd, tmp, sizeof tmp);
        if (r < 0) {
            close(fd);
            return LW_EIO;
        }
        if (r == 0) break;
        int rc = lw_buf_append(out, tmp, (size_t)r);
        if (rc) {
            close(fd);
            return rc;
        }
    }
    close(fd);
    return 0;
}

static int file_replace(void *ctx, const void *data, size_t len)
{
    lw_station_journal_file_t *jf = ctx;
    size_t pl = strlen(jf->path);
    char *tmp = malloc(pl + 5);
    if (!tmp) return LW_ENOMEM;
    memcpy(tmp, jf->path, pl);
    memcpy(tmp + pl, ".tmp", 5);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = fd < 0 ? LW_EIO : 0;
    const char *p = data;
    while (!rc && len) {
        ssize_t w = write(fd, p, len);
        if (w < 0)
            rc = LW_EIO;
        else {
            p += w;
            len -= (size_t)w;
        }
    }
    if (!rc && fsync(fd) != 0) rc = LW_EIO;
    if (fd >= 0) close(fd);
    if (!rc && rename(tmp, jf->path) != 0) rc = LW_EIO;
    if (!rc) {
        /* make the rename durable */
        char *dir = lw_str_dup(lw_str_c(jf->path));
        if (dir) {
            char *slash = strrchr(dir, '/');
            const char *d = ".";
            if (slash) {
                *slash = 0;
                d = slash == dir ? "/" : dir;
            }
            int dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd >= 0) {
                fsync(dfd);
                close(dfd);
            }
            free(dir);
        }
        if (jf->fd >= 0) close(jf->fd);
        jf->fd = -1; /* reopen the new file on the next append */
    }
    if (rc) unlink(tmp);
    free(tmp);
    return rc;
}

lw_station_journal_file_t *lw_station_journal_file_open(const char *path,
                                                        lw_station_journal_ops_t *ops)
{
    lw_station_journal_file_t *jf = calloc(1, sizeof *jf);
    if (!jf) return NULL;
    jf->path = lw_str_dup(lw_str_c(path));
    if (!jf->path) {
        free(jf);
        return NULL;
    }
    jf->fd = -1;
    ops->append = file_append;
    ops->load = file_load;
    ops->replace = file_replace;
    ops->ctx = jf;
    return jf;
}

void lw_station_journal_file_close(lw_station_journal_file_t *jf)
{
    if (!jf) return;
    if (jf->fd >= 0) close(jf->fd);
    free(jf->path);
    free(jf);
}
