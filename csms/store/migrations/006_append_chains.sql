-- 006_append_chains.sql — the journal and the meter rows become append-only (issue 6: the
-- durable write path at 30k MeterValues/s). Same conventions as 001 (times in ms).
--
-- Every commit of the MeterValues workload used to dirty one leaf per station in each of the
-- indexes journal_station (station_id, id), journal_msg (station_id, msg_id) and
-- meter_rows_tx (tx_id, id): random B-tree writes that cost more WAL bytes and CPU than the
-- rows themselves. They are replaced by back-chains that cost no index at all:
--   journal.prev_id      the same station's previous journal row (0 = none), whose newest
--                        row is journal_heads.last_id (written in the same transaction);
--   journal.call_id      on a reply (CALLRESULT 3 / CALLERROR 4 / 2.1 CALLRESULTERROR 5),
--                        the CALL (2) it answers (0 = none found), set by the writer; its
--                        index grows at the right edge like the ids it holds;
--   meter_rows.prev_id   the same transaction's previous meter row (0 = none), whose newest
--                        row is transactions.last_meter_id (that row is updated anyway).
-- journal_at (at) stays: rows are appended in time order, so it also grows at its right
-- edge, and it keeps age-based pruning exact and bounded.
ALTER TABLE journal ADD COLUMN prev_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE journal ADD COLUMN call_id INTEGER NOT NULL DEFAULT 0;
-- n: the station's journal rows as counted by the writer (appends add one, the prune that
-- walks the chain sets it exactly; age pruning leaves it high until that walk corrects it).
CREATE TABLE journal_heads (
    station_id TEXT PRIMARY KEY,
    last_id    INTEGER NOT NULL,
    n          INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Existing rows: chain each station's rows in id order, link each CALL's first reply (the
-- pairing journal_msg answered until now, with the 2.1 types read as rpc.h numbers them:
-- 5 CALLRESULTERROR is a reply, 6 SEND is not), and record the heads.
UPDATE journal SET prev_id = p.prev
FROM (SELECT id, lag(id, 1, 0) OVER (PARTITION BY station_id ORDER BY id) AS prev
      FROM journal) AS p
WHERE journal.id = p.id AND p.prev <> 0;
UPDATE journal SET call_id = m.cid
FROM (SELECT rid, max(cid) AS cid
      FROM (SELECT c.id AS cid,
                   (SELECT min(x.id) FROM journal x
                    WHERE x.station_id = c.station_id AND x.msg_id = c.msg_id
                      AND x.inbound <> c.inbound AND x.msg_type IN (3, 4, 5)
                      AND x.id > c.id) AS rid
            FROM journal c WHERE c.msg_type = 2)
      WHERE rid IS NOT NULL GROUP BY rid) AS m
WHERE journal.id = m.rid;
INSERT INTO journal_heads (station_id, last_id, n)
SELECT station_id, max(id), count(*) FROM journal GROUP BY station_id;
DROP INDEX journal_station;
DROP INDEX journal_msg;
CREATE INDEX journal_call ON journal (call_id) WHERE call_id <> 0;

ALTER TABLE meter_rows ADD COLUMN prev_id INTEGER NOT NULL DEFAULT 0;
-- dkey: the retry-dedupe key of a MeterValues linked to a transaction (what dedupe.key held
-- for it): a retry is found among the transaction's newest rows, so this write path no longer
-- inserts into dedupe, whose (station_id, kind, key) order put one random leaf per station
-- into every commit. X'' on rows of other writes; NULL on rows stored before 006 (their keys
-- are still in dedupe, which a retry is then checked against).
ALTER TABLE meter_rows ADD COLUMN dkey BLOB;
ALTER TABLE transactions ADD COLUMN last_meter_id INTEGER NOT NULL DEFAULT 0;
UPDATE meter_rows SET prev_id = p.prev
FROM (SELECT id, lag(id, 1, 0) OVER (PARTITION BY tx_id ORDER BY id) AS prev
      FROM meter_rows WHERE tx_id IS NOT NULL) AS p
WHERE meter_rows.id = p.id AND p.prev <> 0;
UPDATE transactions SET last_meter_id = m.last
FROM (SELECT tx_id, max(id) AS last FROM meter_rows WHERE tx_id IS NOT NULL GROUP BY tx_id) AS m
WHERE transactions.id = m.tx_id;
DROP INDEX meter_rows_tx;
-- The meter_values view (004) names its columns and keeps working over the new column.
