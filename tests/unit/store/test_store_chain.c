/*
 * test_store_chain.c — the append-only journal and meter rows of schema 006 (csms/store):
 * a station's journal is a back-chain from journal_heads, a reply is linked to its CALL by
 * the writer, a transaction's meter rows are a back-chain from tx_meter.last_meter_id.
 * Checks pages and cursors across many interleaved stations, pairs, pruning by age and by
 * count, a transaction's values in arrival order, and the upgrade of a schema-5 file.
 */
#include "store_fixture.h"

#include "store/store_int.h"

#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { NST = 5, PER = 60 };

static const char *sid(int k)
{
    static const char *ids[NST] = {"S0", "S1", "S2", "S3", "S4"};
    return ids[k];
}

/* ---- collecting rows ----------------------------------------------------------------------- */

static int64_t got[4 * NST * PER], got_reply[4 * NST * PER];
static int got_n;

static int take(void *ud, const lw_journal_rec_t *r)
{
    (void)ud;
    got[got_n++] = r->seq;
    return 0;
}

static int take_pair(void *ud, const lw_journal_rec_t *call, const lw_journal_rec_t *reply)
{
    (void)ud;
    got_reply[got_n] = reply ? reply->seq : 0;
    got[got_n++] = call->seq;
    return 0;
}

static int64_t jr(lw_store_t *s, const char *station, bool in, int type, const char *msg_id,
                  int64_t at)
{
    lw_store_write_t w = {.kind = LW_W_JOURNAL, .station_id = lw_str_c(station)};
    w.u.journal.inbound = in;
    w.u.journal.msg_type = type;
    w.u.journal.msg_id = lw_str_c(msg_id);
    w.u.journal.payload = LW_STR("{}");
    w.u.journal.at_ms = at;
    lw_store_result_t r;
    LW_CHECK_INT(lw_store_submit_wait(s, &w, &r), 0);
    return r.row_id;
}

/* The rows written per station, oldest first, and for each CALL the reply expected. */
static int64_t rows_of[NST][PER], reply_of[NST][PER];
static int n_of[NST];
static bool is_call[NST][PER];

/* Station k's journal paged with limit lim must be its rows newest first. */
static void check_pages(lw_store_t *s, int k, size_t lim)
{
    int64_t before = 0;
    int at = n_of[k] - 1;
    for (;;) {
        got_n = 0;
        LW_CHECK_INT(lw_store_journal_list(s, lw_str_c(sid(k)), before, lim, take, NULL), 0);
        if (!got_n) break;
        LW_CHECK(got_n <= (int)lim);
        for (int i = 0; i < got_n; i++, at--) {
            if (at < 0) {
                LW_FAILF("station %s: row %lld beyond its oldest", sid(k), (long long)got[i]);
                return;
            }
            LW_CHECK_INT(got[i], rows_of[k][at]);
        }
        before = got[got_n - 1];
    }
    LW_CHECK_INT(at, -1);
}

/* Writes PER rows per station, interleaved in an irregular order: inbound CALLs answered by
 * the CSMS, outbound CALLs answered by the station a few rows later (another station's rows
 * between), some CALLs never answered, and one reply in the CALL's own direction. */
static void fill(lw_store_t *s)
{
    memset(n_of, 0, sizeof n_of);
    int64_t at = 1000;
    int pending[NST] = {0}; /* outbound CALL waiting for its reply: row index + 1 */
    char msg[NST][32];
    for (int step = 0; step < NST * PER; step++) {
        int k = (step * 7 + step / 3) % NST;
        if (n_of[k] >= PER) {
            for (k = 0; k < NST && n_of[k] >= PER; k++) {
            }
            if (k == NST) break;
        }
        int i = n_of[k];
        char id[32];
        snprintf(id, sizeof id, "%s-%d", sid(k), i);
        if (pending[k] && (i % 3 == 0 || i == PER - 1)) {
            /* the station answers the CSMS's CALL */
            int c = pending[k] - 1;
            rows_of[k][i] = jr(s, sid(k), true, i % 2 ? 3 : 4, msg[k], at++);
            reply_of[k][c] = rows_of[k][i];
            pending[k] = 0;
        } else if (i % 5 == 1 && i + 1 < PER) {
            /* the CSMS sends a CALL */
            snprintf(msg[k], sizeof msg[k], "out-%s-%d", sid(k), i);
            rows_of[k][i] = jr(s, sid(k), false, 2, msg[k], at++);
            is_call[k][i] = true;
            reply_of[k][i] = 0;
            pending[k] = i + 1;
        } else if (i % 11 == 7) {
            /* a CALL left unanswered */
            rows_of[k][i] = jr(s, sid(k), true, 2, id, at++);
            is_call[k][i] = true;
            reply_of[k][i] = 0;
        } else if (i + 1 < PER && !pending[k]) {
            /* a CALL and its reply, sometimes a second reply with that id (not linked) */
            rows_of[k][i] = jr(s, sid(k), true, 2, id, at++);
            is_call[k][i] = true;
            rows_of[k][i + 1] = jr(s, sid(k), false, 3, id, at++);
            reply_of[k][i] = rows_of[k][i + 1];
            is_call[k][i + 1] = false;
            n_of[k] += 2;
            if (i % 4 == 0 && n_of[k] < PER) {
                rows_of[k][n_of[k]] = jr(s, sid(k), false, 3, id, at++);
                is_call[k][n_of[k]] = false;
                n_of[k]++;
            }
            continue;
        } else {
            rows_of[k][i] = jr(s, sid(k), true, 3, "stray", at++);
        }
        n_of[k]++;
    }
}

static void reset_marks(void)
{
    memset(is_call, 0, sizeof is_call);
    memset(reply_of, 0, sizeof reply_of);
}

LW_TEST(journal_pages_across_interleaved_stations)
{
    fresh();
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    reset_marks();
    fill(s);
    for (int k = 0; k < NST; k++) {
        LW_CHECK(n_of[k] > PER / 2);
        check_pages(s, k, 1);
        check_pages(s, k, 7);
        check_pages(s, k, 1000);
    }
    /* a cursor that is another station's row: the rows of S1 below it */
    int64_t cut = rows_of[2][n_of[2] / 2];
    got_n = 0;
    LW_CHECK_INT(lw_store_journal_list(s, LW_STR("S1"), cut, 0, take, NULL), 0);
    int want = 0;
    for (int i = 0; i < n_of[1]; i++)
        want += rows_of[1][i] < cut;
    LW_CHECK_INT(got_n, want);
    for (int i = 0; i < got_n; i++)
        LW_CHECK(got[i] < cut && (i == 0 || got[i] < got[i - 1]));
    /* an unknown station has no rows */
    got_n = 0;
    LW_CHECK_INT(lw_store_journal_list(s, LW_STR("NONE"), 0, 0, take, NULL), 0);
    LW_CHECK_INT(got_n, 0);
    LW_CHECK_INT(sql_int(LW_HEADS_COUNT_ALL), sql_int("SELECT count(*) FROM journal"));
    lw_store_close(s);
    /* closing wrote the heads the writer held */
    LW_CHECK_INT(sql_int("SELECT sum(n) FROM journal_heads"),
                 sql_int("SELECT count(*) FROM journal"));
}

/* A Heartbeat CALL from station (ids and payload borrowed) as a journal write. */
static lw_store_write_t heartbeat_call(const char *station, const char *msg_id, int64_t at)
{
    lw_store_write_t w = {.kind = LW_W_JOURNAL, .station_id = lw_str_c(station)};
    w.u.journal.inbound = true;
    w.u.journal.msg_type = 2;
    w.u.journal.msg_id = lw_str_c(msg_id);
    w.u.journal.action = LW_STR("Heartbeat");
    w.u.journal.payload = LW_STR("{}");
    w.u.journal.at_ms = at;
    return w;
}

/* More stations than the writer caches journal heads for (LW_STORE_HEAD_CACHE), their rows
 * interleaved and queued without waiting, so that batches hold thousands of stations: heads
 * are evicted (dirty ones written back) and read again in the middle of a batch and across
 * batches, and every station's chain must still hold exactly its rows, in order. */
static void chains_of_many_stations(size_t lazy_batch_max)
{
    enum { ST = LW_STORE_HEAD_CACHE * 5 / 2, ROUNDS = 3 };
    fresh();
    lw_store_options_t o = {.queue_max = ST * ROUNDS + 1, .lazy_batch_max = lazy_batch_max};
    lw_store_t *s = open_or_fail(&o);
    if (!s) return;
    char id[32], msg[32];
    int queued = 0;
    for (int r = 0; r < ROUNDS; r++)
        for (int k = 0; k < ST; k++) {
            snprintf(id, sizeof id, "H%05d", k);
            snprintf(msg, sizeof msg, "%d", r);
            lw_store_write_t w = heartbeat_call(id, msg, 1000 + r);
            queued += lw_store_submit(s, &w, NULL, NULL) == 0;
        }
    LW_CHECK_INT(queued, ST * ROUNDS);
    jr(s, "H-last", true, 2, "x", 2000); /* waits for everything queued before it */
    LW_CHECK_INT(sql_int("SELECT count(*) FROM journal"), ST * ROUNDS + 1);
    LW_CHECK_INT(sql_int(LW_HEADS_COUNT_ALL), ST * ROUNDS + 1);
    /* rows were appended in submission order: station k's are k+1, k+1+ST, k+1+2*ST */
    int bad = 0;
    for (int k = 0; k < ST; k++) {
        snprintf(id, sizeof id, "H%05d", k);
        got_n = 0;
        LW_CHECK_INT(lw_store_journal_list(s, lw_str_c(id), 0, 0, take, NULL), 0);
        bool ok = got_n == ROUNDS;
        for (int r = 0; ok && r < ROUNDS; r++)
            ok = got[r] == (int64_t)k + 1 + (int64_t)(ROUNDS - 1 - r) * ST;
        bad += !ok;
    }
    LW_CHECK_INT(bad, 0);
    lw_store_close(s);
    LW_CHECK_INT(sql_int("SELECT sum(n) FROM journal_heads"), ST * ROUNDS + 1);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM journal_heads"), ST + 1);
}

LW_TEST(journal_chains_of_more_stations_than_cached_heads)
{
    chains_of_many_stations(0); /* lazy batches of LW_STORE_LAZY_BATCH_MAX_DEFAULT */
}

/* Batches of up to every queued write: more heads turn dirty within one batch than the
 * writer's list of dirty heads holds (2 x LW_STORE_HEAD_CACHE), which is then written out
 * in the middle of the batch. */
LW_TEST(journal_chains_in_batches_larger_than_the_dirty_list)
{
    chains_of_many_stations((size_t)LW_STORE_HEAD_CACHE * 15 / 2);
}

LW_TEST(journal_chain_survives_a_second_writer)
{
    /* Two stores on one file (serve and a CLI command): each writer's cached heads must not
     * hide the other's rows from the chain. */
    fresh();
    lw_store_t *a = open_or_fail(NULL), *b = open_or_fail(NULL);
    if (!a || !b) return;
    int64_t ids[6];
    ids[0] = jr(a, "W", true, 2, "1", 1);
    ids[1] = jr(a, "W", false, 3, "1", 2);
    ids[2] = jr(b, "W", true, 2, "2", 3);
    ids[3] = jr(a, "W", false, 3, "2", 4);
    ids[4] = jr(b, "W", true, 2, "3", 5);
    ids[5] = jr(a, "W", true, 2, "4", 6);
    got_n = 0;
    LW_CHECK_INT(lw_store_journal_list(a, LW_STR("W"), 0, 0, take, NULL), 0);
    LW_CHECK_INT(got_n, 6);
    for (int i = 0; i < got_n && i < 6; i++)
        LW_CHECK_INT(got[i], ids[5 - i]);
    got_n = 0;
    LW_CHECK_INT(lw_store_journal_pairs(b, LW_STR("W"), 0, 0, take_pair, NULL), 0);
    LW_CHECK_INT(got_n, 4);
    LW_CHECK_INT(got_reply[2], ids[3]); /* a's reply found b's CALL */
    LW_CHECK_INT(sql_int(LW_HEADS_COUNT_OF("W")), 6);
    lw_store_close(b);
    lw_store_close(a);
    LW_CHECK_INT(sql_int("SELECT n FROM journal_heads WHERE station_id = 'W'"), 6);
}

LW_TEST(journal_pairs_of_ocpp21_frames)
{
    /* 2.1 (rpc.h): a CALLRESULTERROR (5) answers a CALL; a SEND (6) is listed, unanswered,
     * and nothing replies to it */
    fresh();
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    int64_t call = jr(s, "T", false, 2, "c1", 1);
    int64_t send = jr(s, "T", true, 6, "s1", 2);
    int64_t err = jr(s, "T", true, 5, "c1", 3);
    jr(s, "T", false, 3, "s1", 4); /* not a reply to the SEND */
    got_n = 0;
    LW_CHECK_INT(lw_store_journal_pairs(s, LW_STR("T"), 0, 0, take_pair, NULL), 0);
    LW_CHECK_INT(got_n, 2);
    LW_CHECK_INT(got[0], send);
    LW_CHECK_INT(got_reply[0], 0);
    LW_CHECK_INT(got[1], call);
    LW_CHECK_INT(got_reply[1], err);
    lw_store_close(s);
}

/* Schema 008: a station's CALL written with the CSMS's answer as one row. */
static int64_t jr_pair(lw_store_t *s, const char *station, const char *msg_id, int reply_type,
                       const char *reply, int64_t at, int64_t reply_at)
{
    lw_store_write_t w = heartbeat_call(station, msg_id, at);
    w.u.journal.reply_type = reply_type;
    w.u.journal.reply_payload = lw_str_c(reply);
    w.u.journal.reply_at_ms = reply_at;
    lw_store_result_t r;
    LW_CHECK_INT(lw_store_submit_wait(s, &w, &r), 0);
    return r.row_id;
}

static lw_journal_rec_t recs[16];
static char rec_text[16][3][64]; /* msg_id, action, payload copies */

static int take_rec(void *ud, const lw_journal_rec_t *r)
{
    (void)ud;
    if (got_n >= 16) return 1;
    recs[got_n] = *r;
    lw_str_t v[3] = {r->msg_id, r->action, r->payload};
    for (int i = 0; i < 3; i++)
        snprintf(rec_text[got_n][i], sizeof rec_text[got_n][i], "%.*s", (int)v[i].len,
                 v[i].p ? v[i].p : "");
    got_n++;
    return 0;
}

static void check_rec(int i, int64_t seq, bool in, int type, const char *id, const char *payload,
                      int64_t at)
{
    LW_CHECK_INT(recs[i].seq, seq);
    LW_CHECK_INT(recs[i].inbound, in);
    LW_CHECK_INT(recs[i].msg_type, type);
    LW_CHECK_STR(rec_text[i][0], id);
    LW_CHECK_STR(rec_text[i][2], payload);
    LW_CHECK_INT(recs[i].at_ms, at);
}

LW_TEST(journal_call_and_answer_in_one_row)
{
    fresh();
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    int64_t hb = jr_pair(s, "P", "h1", 3, "{\"currentTime\":\"x\"}", 10, 12);
    int64_t bad = jr_pair(s, "P", "h2", 4, "bad payload", 20, 21);
    int64_t lone = jr_pair(s, "P", "h3", 0, "", 30, 0); /* never answered */
    int64_t out = jr(s, "P", false, 2, "c1", 40);       /* a CSMS CALL and its answer */
    int64_t in = jr(s, "P", true, 3, "c1", 41);
    int64_t late = jr(s, "P", false, 4, "h1", 50); /* h1 is answered already: no link */
    LW_CHECK_INT(sql_int("SELECT count(*) FROM journal WHERE station_id = 'P'"), 6);
    LW_CHECK_INT(sql_int(LW_HEADS_COUNT_OF("P")), 6);
    LW_CHECK_INT(sql_int("SELECT call_id FROM journal WHERE msg_id = 'c1' AND inbound = 1"), out);
    LW_CHECK_INT(sql_int("SELECT call_id FROM journal WHERE msg_id = 'h1' AND inbound = 0"), 0);

    /* Every frame, newest first: a paired row gives the answer, then the CALL, one seq. */
    got_n = 0;
    LW_CHECK_INT(lw_store_journal_list(s, LW_STR("P"), 0, 0, take_rec, NULL), 0);
    LW_CHECK_INT(got_n, 8);
    check_rec(0, late, false, 4, "h1", "{}", 50);
    check_rec(1, in, true, 3, "c1", "{}", 41);
    check_rec(2, out, false, 2, "c1", "{}", 40);
    check_rec(3, lone, true, 2, "h3", "{}", 30);
    check_rec(4, bad, false, 4, "h2", "bad payload", 21);
    check_rec(5, bad, true, 2, "h2", "{}", 20);
    check_rec(6, hb, false, 3, "h1", "{\"currentTime\":\"x\"}", 12);
    check_rec(7, hb, true, 2, "h1", "{}", 10);
    LW_CHECK_STR(rec_text[6][1], "Heartbeat");

    /* Pages count rows: limit 1 from before `lone` is the pair of h2, both records. */
    got_n = 0;
    LW_CHECK_INT(lw_store_journal_list(s, LW_STR("P"), lone, 1, take_rec, NULL), 0);
    LW_CHECK_INT(got_n, 2);
    check_rec(0, bad, false, 4, "h2", "bad payload", 21);
    check_rec(1, bad, true, 2, "h2", "{}", 20);

    /* Exchanges: c1 with the station's row, h3 alone, h2 and h1 with the answer in-row. */
    got_n = 0;
    LW_CHECK_INT(lw_store_journal_pairs(s, LW_STR("P"), 0, 0, take_pair, NULL), 0);
    LW_CHECK_INT(got_n, 4);
    LW_CHECK_INT(got[0], out);
    LW_CHECK_INT(got_reply[0], in);
    LW_CHECK_INT(got[1], lone);
    LW_CHECK_INT(got_reply[1], 0);
    LW_CHECK_INT(got[2], bad);
    LW_CHECK_INT(got_reply[2], bad);
    LW_CHECK_INT(got[3], hb);
    LW_CHECK_INT(got_reply[3], hb);
    lw_store_close(s);
}

/* Station k's pairs, paged by lim, must be its CALLs newest first with their replies. */
static void check_pairs(lw_store_t *s, int k, size_t lim)
{
    int64_t before = 0;
    int at = n_of[k] - 1;
    for (;;) {
        got_n = 0;
        LW_CHECK_INT(lw_store_journal_pairs(s, lw_str_c(sid(k)), before, lim, take_pair, NULL), 0);
        if (!got_n) break;
        for (int i = 0; i < got_n; i++) {
            while (at >= 0 && !is_call[k][at])
                at--;
            if (at < 0) {
                LW_FAILF("station %s: pair %lld beyond its oldest CALL", sid(k), (long long)got[i]);
                return;
            }
            LW_CHECK_INT(got[i], rows_of[k][at]);
            LW_CHECK_INT(got_reply[i], reply_of[k][at]);
            at--;
        }
        before = got[got_n - 1];
    }
    while (at >= 0 && !is_call[k][at])
        at--;
    LW_CHECK_INT(at, -1);
}

LW_TEST(journal_pairs_across_interleaved_stations)
{
    fresh();
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    reset_marks();
    fill(s);
    int answered = 0;
    for (int k = 0; k < NST; k++) {
        check_pairs(s, k, 1);
        check_pairs(s, k, 4);
        check_pairs(s, k, 1000);
        for (int i = 0; i < n_of[k]; i++)
            answered += is_call[k][i] && reply_of[k][i];
    }
    LW_CHECK(answered > NST * 5);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM journal WHERE call_id <> 0"), answered);
    lw_store_close(s);
}

LW_TEST(journal_prune_by_age_and_count)
{
    fresh();
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    reset_marks();
    fill(s); /* at 1000 upwards, one per row written, interleaved */
    long long total = sql_int("SELECT count(*) FROM journal");
    /* by age: rows with at < 1100 go, whatever the station */
    lw_store_write_t p = {.kind = LW_W_JOURNAL_PRUNE};
    p.u.prune.older_than_ms = 1100;
    lw_store_result_t r;
    LW_CHECK_INT(lw_store_submit_wait(s, &p, &r), 0);
    LW_CHECK_INT(r.row_id, 100);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM journal"), total - 100);
    for (int k = 0; k < NST; k++) {
        got_n = 0;
        LW_CHECK_INT(lw_store_journal_list(s, lw_str_c(sid(k)), 0, 0, take, NULL), 0);
        char q[128];
        snprintf(q, sizeof q, "SELECT count(*) FROM journal WHERE station_id = '%s'", sid(k));
        LW_CHECK_INT(got_n, sql_int(q));
        for (int i = 0; i < got_n; i++)
            LW_CHECK_INT(got[i], rows_of[k][n_of[k] - 1 - i]);
    }
    /* by count, periodic: stations more than keep/8 over 20 are cut to their newest 20 */
    lw_store_write_t m = {.kind = LW_W_MAINTAIN};
    m.u.maint.now_ms = 1000000;
    m.u.maint.journal_keep_per_station = 20;
    LW_CHECK_INT(lw_store_submit_wait(s, &m, &r), 0);
    for (int k = 0; k < NST; k++) {
        got_n = 0;
        LW_CHECK_INT(lw_store_journal_list(s, lw_str_c(sid(k)), 0, 0, take, NULL), 0);
        LW_CHECK_INT(got_n, 20);
        for (int i = 0; i < got_n; i++)
            LW_CHECK_INT(got[i], rows_of[k][n_of[k] - 1 - i]);
    }
    LW_CHECK_INT(sql_int("SELECT count(*) FROM journal"), NST * 20);
    LW_CHECK_INT(r.pruned_journal, total - 100 - NST * 20);
    LW_CHECK_INT(sql_int("SELECT sum(n) FROM journal_heads"), NST * 20);
    /* 2 more rows for S0: within the slack, the periodic run leaves them */
    int64_t a = jr(s, "S0", true, 2, "late1", 5000), b = jr(s, "S0", true, 2, "late2", 5001);
    LW_CHECK_INT(lw_store_submit_wait(s, &m, &r), 0);
    LW_CHECK_INT(r.pruned_journal, 0);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM journal WHERE station_id = 'S0'"), 22);
    /* the explicit prune is exact */
    p.u.prune.older_than_ms = 0;
    p.u.prune.keep_per_station = 20;
    LW_CHECK_INT(lw_store_submit_wait(s, &p, &r), 0);
    LW_CHECK_INT(r.row_id, 2);
    got_n = 0;
    LW_CHECK_INT(lw_store_journal_list(s, LW_STR("S0"), 0, 3, take, NULL), 0);
    LW_CHECK_INT(got_n, 3);
    LW_CHECK_INT(got[0], b);
    LW_CHECK_INT(got[1], a);
    LW_CHECK_INT(got[2], rows_of[0][n_of[0] - 1]);
    /* a station's own prune leaves the others */
    p.station_id = LW_STR("S3");
    p.u.prune.keep_per_station = 5;
    LW_CHECK_INT(lw_store_submit_wait(s, &p, &r), 0);
    LW_CHECK_INT(r.row_id, 15);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM journal"), NST * 20 - 15);
    lw_store_close(s);
}

/* ---- meter chains -------------------------------------------------------------------------- */

static char vals[2][400][24];
static int vals_n;

static int take_value(void *ud, const lw_meter_value_t *v)
{
    char(*out)[24] = ud;
    snprintf(out[vals_n++], 24, "%.*s@%lld", (int)v->value.len, v->value.p,
             (long long)v->timestamp_ms);
    return 0;
}

LW_TEST(meter_values_of_a_transaction_in_order)
{
    fresh();
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    int64_t tx[2];
    for (int k = 0; k < 2; k++) {
        lw_store_write_t w = {.kind = LW_W_STATION_PUT, .station_id = lw_str_c(sid(k))};
        w.u.station_put.must_not_exist = true;
        LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), 0);
        lw_store_write_t t = {.kind = LW_W_TX_START, .station_id = lw_str_c(sid(k))};
        t.u.tx_start.connector_id = 1;
        t.u.tx_start.id_tag = LW_STR("TAG");
        t.u.tx_start.meter_start_wh = 100;
        t.u.tx_start.at_ms = 1000 + k;
        t.u.tx_start.reservation_id = -1;
        lw_store_result_t r;
        LW_CHECK_INT(lw_store_submit_wait(s, &t, &r), 0);
        tx[k] = r.tx_id;
    }
    /* interleaved: transaction 0 gets 3 values per message, transaction 1 one; a message of
     * station 1 without a transaction between them */
    char want[2][400][24];
    int nw[2] = {0, 0}, unlinked = 0;
    for (int m = 0; m < 120; m++) {
        int k = (m % 3 == 2);
        lw_meter_value_t v[3];
        char txt[3][16];
        int n = k ? 1 : 3;
        for (int j = 0; j < n; j++) {
            snprintf(txt[j], sizeof txt[j], "%d", 200 + m * 10 + j);
            v[j] = (lw_meter_value_t){.timestamp_ms = 5000 + m, .value = lw_str_c(txt[j])};
            snprintf(want[k][nw[k]++], 24, "%s@%d", txt[j], 5000 + m);
        }
        lw_store_write_t w = {.kind = LW_W_METER_VALUES, .station_id = lw_str_c(sid(k))};
        w.u.meter.connector_id = 1;
        w.u.meter.tx_id = tx[k];
        w.u.meter.values = v;
        w.u.meter.n_values = (size_t)n;
        LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), 0);
        if (m % 10 == 5) {
            w.u.meter.tx_id = 0;
            v[0].timestamp_ms = 90000 + m;
            LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), 0);
            unlinked += n;
        }
    }
    for (int k = 0; k < 2; k++) {
        vals_n = 0;
        LW_CHECK_INT(lw_store_meter_list(s, tx[k], 0, take_value, vals[k]), 0);
        LW_CHECK_INT(vals_n, nw[k]);
        for (int i = 0; i < vals_n && i < nw[k]; i++)
            LW_CHECK_STR(vals[k][i], want[k][i]);
    }
    /* a limit gives the oldest values, cutting a row in the middle */
    vals_n = 0;
    LW_CHECK_INT(lw_store_meter_list(s, tx[0], 7, take_value, vals[0]), 0);
    LW_CHECK_INT(vals_n, 7);
    for (int i = 0; i < 7; i++)
        LW_CHECK_STR(vals[0][i], want[0][i]);
    /* the transaction's tx_meter row holds the chain's head; no transaction, no values */
    char q[128];
    snprintf(q, sizeof q,
             "SELECT last_meter_id = (SELECT max(id) FROM meter_rows WHERE tx_id = %lld) "
             "FROM tx_meter WHERE tx_id = %lld",
             (long long)tx[1], (long long)tx[1]);
    LW_CHECK_INT(sql_int(q), 1);
    vals_n = 0;
    LW_CHECK_INT(lw_store_meter_list(s, 9999, 0, take_value, vals[0]), 0);
    LW_CHECK_INT(vals_n, 0);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM meter_values"), nw[0] + nw[1] + unlinked);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM meter_values WHERE tx_id IS NULL"), unlinked);
    lw_store_close(s);
}

static lw_store_write_t meter_write(const char *station, int64_t tx, lw_meter_value_t *v)
{
    lw_store_write_t w = {.kind = LW_W_METER_VALUES, .station_id = lw_str_c(station)};
    w.u.meter.connector_id = 1;
    w.u.meter.tx_id = tx;
    w.u.meter.values = v;
    w.u.meter.n_values = 1;
    return w;
}

LW_TEST(meter_retries_found_on_the_chain)
{
    fresh();
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    lw_store_write_t w = {.kind = LW_W_STATION_PUT, .station_id = LW_STR("R")};
    w.u.station_put.must_not_exist = true;
    LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), 0);
    lw_store_write_t t = {.kind = LW_W_TX_START, .station_id = LW_STR("R")};
    t.u.tx_start.id_tag = LW_STR("TAG");
    t.u.tx_start.meter_start_wh = 0;
    t.u.tx_start.reservation_id = -1;
    lw_store_result_t r;
    LW_CHECK_INT(lw_store_submit_wait(s, &t, &r), 0);
    int64_t tx = r.tx_id;
    lw_meter_value_t v[40];
    char txt[40][8];
    for (int i = 0; i < 40; i++) {
        snprintf(txt[i], sizeof txt[i], "%d", i);
        v[i] = (lw_meter_value_t){.timestamp_ms = 1000 + i, .value = lw_str_c(txt[i])};
    }
    for (int i = 0; i < 10; i++) {
        lw_store_write_t m = meter_write("R", tx, &v[i]);
        LW_CHECK_INT(lw_store_submit_wait(s, &m, &r), 0);
        LW_CHECK(!r.duplicate);
    }
    /* the newest and one a few rows back are retries; nothing is stored for them */
    for (int i = 9; i >= 6; i -= 3) {
        lw_store_write_t m = meter_write("R", tx, &v[i]);
        LW_CHECK_INT(lw_store_submit_wait(s, &m, &r), 0);
        LW_CHECK(r.duplicate);
        LW_CHECK_INT(r.tx_id, tx);
    }
    LW_CHECK_INT(sql_int("SELECT count(*) FROM meter_rows"), 10);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM dedupe"), 1); /* the start's only */
    /* the same content from another station is its own message, kept unlinked */
    lw_store_write_t o = meter_write("OTHER", tx, &v[9]);
    LW_CHECK_INT(lw_store_submit_wait(s, &o, &r), 0);
    LW_CHECK(!r.duplicate);
    LW_CHECK_INT(r.tx_id, 0);
    /* after a restart (nothing in memory) the chain still knows them */
    lw_store_close(s);
    if (!(s = open_or_fail(NULL))) return;
    lw_store_write_t m = meter_write("R", tx, &v[8]);
    LW_CHECK_INT(lw_store_submit_wait(s, &m, &r), 0);
    LW_CHECK(r.duplicate);
    m = meter_write("R", tx, &v[10]);
    LW_CHECK_INT(lw_store_submit_wait(s, &m, &r), 0);
    LW_CHECK(!r.duplicate);
    LW_CHECK_INT(lw_store_submit_wait(s, &m, &r), 0);
    LW_CHECK(r.duplicate);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM meter_rows WHERE tx_id IS NOT NULL"), 11);
    lw_store_close(s);
}

/* ---- upgrade from schema 5 ----------------------------------------------------------------- */

LW_TEST(upgrade_from_schema_5_builds_the_chains)
{
    fresh();
    sqlite3 *db = db_at_schema(5);
    if (!db) return;
    char *msg = NULL;
    int rc = SQLITE_OK;
    /* journal of two stations, interleaved: A's CALL 1 answered by 4, B's CALL 2 answered by
     * 3, A's outbound CALL 5 answered by 7 (B's 6 between), A's CALL 8 unanswered; meter rows
     * of transactions 7 and 8 interleaved, one unlinked */
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(
            db,
            "INSERT INTO journal (id, station_id, inbound, msg_type, msg_id, action, payload, at) "
            "VALUES (1, 'A', 1, 2, 'a1', 'Heartbeat', '{}', 10),"
            "(2, 'B', 1, 2, 'b1', 'Heartbeat', '{}', 11),"
            "(3, 'B', 0, 3, 'b1', '', '{\"currentTime\":\"x\"}', 12),"
            "(4, 'A', 0, 3, 'a1', '', '{}', 13),"
            "(5, 'A', 0, 2, 'c1', 'Reset', '{}', 14),"
            "(6, 'B', 1, 2, 'b2', 'StatusNotification', '{}', 15),"
            "(7, 'A', 1, 3, 'c1', '', '{\"status\":\"Accepted\"}', 16),"
            "(8, 'A', 1, 2, 'a2', 'MeterValues', '{}', 17);"
            "INSERT INTO transactions (id, station_id, start_at) VALUES (7, 'A', 1), (8, 'B', 1);"
            "INSERT INTO meter_rows (id, station_id, tx_id, at, n, samples) VALUES "
            "(1, 'A', 7, 100, 1, '[[100,\"1\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"]]'),"
            "(2, 'B', 8, 101, 1, '[[101,\"10\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"]]'),"
            "(3, 'A', NULL, 102, 1, '[[102,\"x\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"]]'),"
            "(4, 'A', 7, 103, 2, '[[103,\"2\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"],"
            "[103,\"3\",\"Voltage\",\"\",\"V\",\"\",\"\",\"\",\"\"]]');"
            /* 2.x events of transactions 7 and 8, interleaved (schema 010 chains them) */
            "INSERT INTO transaction_events (id, tx_id, seq_no, event_type, at) VALUES "
            "(1, 7, 0, 'Started', 1), (2, 8, 0, 'Started', 1), (3, 7, 1, 'Updated', 2),"
            "(4, 7, 2, 'Updated', 3), (5, 8, 1, 'Ended', 4);",
            NULL, NULL, &msg);
    /* the dedupe row schema 5 kept for the MeterValues stored as row 4 */
    lw_meter_value_t old[2] = {{.timestamp_ms = 103, .value = LW_STR("2")},
                               {.timestamp_ms = 103,
                                .value = LW_STR("3"),
                                .measurand = LW_STR("Voltage"),
                                .unit = LW_STR("V")}};
    lw_store_write_t ow = meter_write("A", 7, old);
    ow.u.meter.n_values = 2;
    uint8_t okey[64];
    size_t oklen = lw_store_dedupe_key(&ow, okey);
    LW_CHECK(oklen > 0);
    if (rc == SQLITE_OK) {
        sqlite3_stmt *st = NULL;
        rc = sqlite3_prepare_v2(db,
                                "INSERT INTO dedupe (station_id, kind, key, tx_id, answer, at) "
                                "VALUES ('A', 'meter', ?1, 7, '', 103)",
                                -1, &st, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_blob(st, 1, okey, (int)oklen, SQLITE_STATIC);
            rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        }
        sqlite3_finalize(st);
    }
    if (rc != SQLITE_OK) LW_FAILF("setting up schema 5: %s", msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(db);
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    int newest = 0;
    for (const lw_store_migration_t *m = lw_store_migrations; m->sql; m++)
        newest = m->version;
    LW_CHECK_INT(lw_store_schema_version(s), newest);
    got_n = 0;
    LW_CHECK_INT(lw_store_journal_list(s, LW_STR("A"), 0, 0, take, NULL), 0);
    LW_CHECK_INT(got_n, 5);
    int64_t wa[] = {8, 7, 5, 4, 1};
    for (int i = 0; i < got_n && i < 5; i++)
        LW_CHECK_INT(got[i], wa[i]);
    got_n = 0;
    LW_CHECK_INT(lw_store_journal_pairs(s, LW_STR("A"), 0, 0, take_pair, NULL), 0);
    LW_CHECK_INT(got_n, 3);
    int64_t calls[] = {8, 5, 1}, replies[] = {0, 7, 4};
    for (int i = 0; i < got_n && i < 3; i++) {
        LW_CHECK_INT(got[i], calls[i]);
        LW_CHECK_INT(got_reply[i], replies[i]);
    }
    got_n = 0;
    LW_CHECK_INT(lw_store_journal_pairs(s, LW_STR("B"), 0, 0, take_pair, NULL), 0);
    LW_CHECK_INT(got_n, 2);
    LW_CHECK_INT(got[1], 2);
    LW_CHECK_INT(got_reply[1], 3);
    vals_n = 0;
    LW_CHECK_INT(lw_store_meter_list(s, 7, 0, take_value, vals[0]), 0);
    LW_CHECK_INT(vals_n, 3);
    LW_CHECK_STR(vals[0][0], "1@100");
    LW_CHECK_STR(vals[0][1], "2@103");
    LW_CHECK_STR(vals[0][2], "3@103");
    LW_CHECK_INT(sql_int("SELECT count(*) FROM meter_values WHERE measurand = 'Voltage'"), 1);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM sqlite_master WHERE name IN ('journal_station', "
                         "'journal_msg', 'meter_rows_tx')"),
                 0);
    LW_CHECK_INT(sql_int("SELECT n FROM journal_heads WHERE station_id = 'A'"), 5);
    /* new rows continue the chains: a reply to A's CALL 8, a value for transaction 7 */
    int64_t r9 = jr(s, "A", false, 3, "a2", 20);
    LW_CHECK_INT(sql_int("SELECT prev_id FROM journal WHERE id = (SELECT max(id) FROM journal)"),
                 8);
    got_n = 0;
    LW_CHECK_INT(lw_store_journal_pairs(s, LW_STR("A"), 0, 1, take_pair, NULL), 0);
    LW_CHECK_INT(got_n, 1);
    LW_CHECK_INT(got_reply[0], r9);
    lw_meter_value_t v = {.timestamp_ms = 200, .value = LW_STR("4")};
    lw_store_write_t w = {.kind = LW_W_METER_VALUES, .station_id = LW_STR("A")};
    w.u.meter.tx_id = 7;
    w.u.meter.values = &v;
    w.u.meter.n_values = 1;
    LW_CHECK_INT(lw_store_submit_wait(s, &w, NULL), 0);
    vals_n = 0;
    LW_CHECK_INT(lw_store_meter_list(s, 7, 0, take_value, vals[0]), 0);
    LW_CHECK_INT(vals_n, 4);
    LW_CHECK_STR(vals[0][3], "4@200");
    /* a retry of the message stored before the upgrade is still recognised (dedupe) */
    lw_store_result_t rr;
    LW_CHECK_INT(lw_store_submit_wait(s, &ow, &rr), 0);
    LW_CHECK(rr.duplicate);
    LW_CHECK_INT(rr.tx_id, 7);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM meter_rows WHERE tx_id = 7"), 3);
    /* schema 010: the events kept, chained per transaction, the heads recorded */
    LW_CHECK_INT(sql_int("SELECT count(*) FROM transaction_events"), 5);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM transaction_events WHERE (id, prev_id) IN "
                         "(VALUES (1, 0), (2, 0), (3, 1), (4, 3), (5, 2))"),
                 5);
    LW_CHECK_INT(sql_int("SELECT last_event_id FROM transactions WHERE id = 7"), 4);
    LW_CHECK_INT(sql_int("SELECT last_event_id FROM transactions WHERE id = 8"), 5);
    lw_store_close(s);
}

/* ---- journal_heads written in batches (schema 016) ----------------------------------------- */

/* Station k's rows, newest first, as a reader lists them; their count. */
static int listed(lw_store_t *s, const char *station)
{
    got_n = 0;
    LW_CHECK_INT(lw_store_journal_list(s, lw_str_c(station), 0, 0, take, NULL), 0);
    return got_n;
}

/* True when got[] holds want[0..n-1] newest first. */
static bool listed_as(const int64_t *want, int n)
{
    if (got_n != n) return false;
    for (int i = 0; i < n; i++)
        if (got[i] != want[n - 1 - i]) return false;
    return true;
}

/* A writer killed before it wrote the heads it held: the file's journal_heads is behind, a
 * reader still lists every row, and the next writer counts those rows in before it chains
 * new ones after them. */
LW_TEST(journal_heads_recovered_after_a_crash)
{
    fresh();
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    lw_store_close(s);
    enum { ROWS = 40 };
    pid_t pid = fork();
    if (pid == 0) {
        lw_store_t *c = NULL;
        char err[256];
        if (lw_store_open(url, NULL, &c, err, sizeof err)) _exit(2);
        for (int i = 0; i < ROWS; i++) {
            char msg[16];
            snprintf(msg, sizeof msg, "%d", i);
            lw_store_write_t w = heartbeat_call(sid(i % NST), msg, 100 + i);
            if (lw_store_submit_wait(c, &w, NULL)) _exit(3);
        }
        _exit(0); /* acknowledged, heads not written: no lw_store_close */
    }
    int status = -1;
    LW_CHECK_INT(waitpid(pid, &status, 0), pid);
    LW_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM journal"), ROWS);
    /* the case under test: the table misses rows the crashed writer held */
    LW_CHECK(sql_int("SELECT coalesce(sum(n), 0) FROM journal_heads") < ROWS);
    LW_CHECK_INT(sql_int(LW_HEADS_COUNT_ALL), ROWS);

    s = open_or_fail(NULL);
    if (!s) return;
    int64_t want[NST][ROWS / NST + 1];
    for (int k = 0; k < NST; k++) {
        for (int i = 0; i < ROWS / NST; i++)
            want[k][i] = 1 + k + (int64_t)i * NST; /* ids in submission order */
        LW_CHECK_INT(listed(s, sid(k)), ROWS / NST);
        LW_CHECK(listed_as(want[k], ROWS / NST));
    }
    /* new rows chain after the recovered heads */
    for (int k = 0; k < NST; k++)
        want[k][ROWS / NST] = jr(s, sid(k), true, 2, "after", 1000);
    for (int k = 0; k < NST; k++) {
        LW_CHECK_INT(listed(s, sid(k)), ROWS / NST + 1);
        LW_CHECK(listed_as(want[k], ROWS / NST + 1));
    }
    lw_store_close(s);
    LW_CHECK_INT(sql_int("SELECT sum(n) FROM journal_heads"), ROWS + NST);
    LW_CHECK_INT(sql_int("SELECT n FROM journal_heads WHERE station_id = 'S3'"), ROWS / NST + 1);
}

/* The heads are written every LW_STORE_HEADS_LAZY_ROWS rows: what a reader scans above the
 * mark stays bounded under a steady load with no close. */
LW_TEST(journal_heads_written_every_lazy_rows)
{
    fresh();
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    char msg[16];
    for (int i = 0; i < LW_STORE_HEADS_LAZY_ROWS + 50; i++) {
        snprintf(msg, sizeof msg, "%d", i);
        lw_store_write_t w = heartbeat_call(sid(i % NST), msg, 100 + i);
        LW_CHECK_INT(lw_store_submit(s, &w, NULL, NULL), 0);
    }
    jr(s, "S0", true, 2, "last", 9000); /* waits for everything queued before it */
    long long total = sql_int("SELECT count(*) FROM journal");
    LW_CHECK_INT(total, LW_STORE_HEADS_LAZY_ROWS + 51);
    long long above = sql_int("SELECT count(*) FROM journal WHERE id > "
                              "(SELECT upto FROM journal_heads_mark)");
    LW_CHECK(above < total - LW_STORE_HEADS_LAZY_ROWS / 2);
    LW_CHECK(sql_int("SELECT upto FROM journal_heads_mark") <=
             sql_int("SELECT max(id) FROM journal"));
    LW_CHECK_INT(sql_int(LW_HEADS_COUNT_ALL), total);
    lw_store_close(s);
}

/* Pruning by age can take the newest rows: the next rows still get ids above every id used
 * before, or a reused id below a station's stale head would hide its new rows from readers. */
LW_TEST(journal_ids_are_not_reused_after_the_newest_rows_are_pruned)
{
    fresh();
    lw_store_t *s = open_or_fail(NULL);
    if (!s) return;
    int64_t last = 0;
    for (int i = 0; i < 30; i++)
        last = jr(s, sid(i % 2), true, 2, "old", 100 + i);
    lw_store_write_t p = {.kind = LW_W_JOURNAL_PRUNE};
    p.u.prune.older_than_ms = 10000; /* older than every row */
    lw_store_result_t r;
    LW_CHECK_INT(lw_store_submit_wait(s, &p, &r), 0);
    LW_CHECK_INT(r.row_id, 30);
    LW_CHECK_INT(sql_int("SELECT count(*) FROM journal"), 0);
    int64_t fresh_ids[3];
    for (int i = 0; i < 3; i++)
        fresh_ids[i] = jr(s, "S0", true, 2, "new", 20000 + i);
    LW_CHECK(fresh_ids[0] > last);
    LW_CHECK_INT(listed(s, "S0"), 3);
    LW_CHECK(listed_as(fresh_ids, 3));
    lw_store_close(s);
    /* and after a reopen (the next id comes from the mark, not from the empty table) */
    s = open_or_fail(NULL);
    if (!s) return;
    p.u.prune.older_than_ms = 100000;
    LW_CHECK_INT(lw_store_submit_wait(s, &p, &r), 0);
    LW_CHECK_INT(r.row_id, 3);
    lw_store_close(s);
    s = open_or_fail(NULL);
    if (!s) return;
    int64_t again = jr(s, "S1", true, 2, "again", 30000);
    LW_CHECK(again > fresh_ids[2]);
    LW_CHECK_INT(listed(s, "S1"), 1);
    lw_store_close(s);
}

int main(void)
{
    if (fixture_begin()) return 1;
    lw_log_set_level(LW_LOG_ERROR);
    LW_RUN(journal_pages_across_interleaved_stations);
    LW_RUN(journal_pairs_across_interleaved_stations);
    LW_RUN(journal_chains_of_more_stations_than_cached_heads);
    LW_RUN(journal_chains_in_batches_larger_than_the_dirty_list);
    LW_RUN(journal_chain_survives_a_second_writer);
    LW_RUN(journal_pairs_of_ocpp21_frames);
    LW_RUN(journal_call_and_answer_in_one_row);
    LW_RUN(journal_prune_by_age_and_count);
    LW_RUN(meter_values_of_a_transaction_in_order);
    LW_RUN(meter_retries_found_on_the_chain);
    LW_RUN(upgrade_from_schema_5_builds_the_chains);
    LW_RUN(journal_heads_recovered_after_a_crash);
    LW_RUN(journal_heads_written_every_lazy_rows);
    LW_RUN(journal_ids_are_not_reused_after_the_newest_rows_are_pruned);
    fixture_end();
    return lw_test_done();
}
