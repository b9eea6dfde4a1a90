-- 010_event_chain.sql — a transaction's TransactionEvents become an append-only chain, as its
-- meter rows are since 006 (issue 6: the 2.x transaction path). The UNIQUE (tx_id, seq_no)
-- index put one random leaf per open transaction into every commit (2.0.1, 1,000 stations
-- sending TransactionEvent Updated: 7.2 KB written per message against 3.7 KB for 1.6
-- MeterValues). Now:
--   transaction_events.prev_id    the same transaction's previous event (0 = none), whose
--                                 newest is transactions.last_event_id (the writer updates
--                                 that row for every event anyway);
-- and a retry (the same seqNo again) is found among the transaction's newest events
-- (LW_STORE_TXEV_RETRY_ROWS): one CALL is in flight per station (OCPP-J), so the retry of
-- an unanswered event is the newest one. The table is rebuilt without the constraint (SQLite
-- cannot drop it in place); ids, columns and answers are kept.
-- From this version transactions.triggers holds each distinct triggerReason once, in the
-- order first seen (store/sqlite.c), instead of one entry per event: the row was rewritten,
-- larger by ~20 bytes, with every TransactionEvent (1.5 KB after 80 periodic events). Rows
-- written before keep their long lists.
CREATE TABLE transaction_events_new (
    id             INTEGER PRIMARY KEY,
    tx_id          INTEGER NOT NULL REFERENCES transactions(id) ON DELETE CASCADE,
    seq_no         INTEGER NOT NULL,
    event_type     TEXT NOT NULL,
    trigger_reason TEXT NOT NULL DEFAULT '',
    offline        INTEGER NOT NULL DEFAULT 0,
    at             INTEGER NOT NULL,
    answer         TEXT,
    prev_id        INTEGER NOT NULL DEFAULT 0
);
INSERT INTO transaction_events_new (id, tx_id, seq_no, event_type, trigger_reason, offline,
                                    at, answer, prev_id)
SELECT id, tx_id, seq_no, event_type, trigger_reason, offline, at, answer,
       coalesce(lag(id, 1) OVER (PARTITION BY tx_id ORDER BY id), 0)
FROM transaction_events;
DROP TABLE transaction_events;
ALTER TABLE transaction_events_new RENAME TO transaction_events;
ALTER TABLE transactions ADD COLUMN last_event_id INTEGER NOT NULL DEFAULT 0;
UPDATE transactions SET last_event_id = m.last
FROM (SELECT tx_id, max(id) AS last FROM transaction_events GROUP BY tx_id) AS m
WHERE transactions.id = m.tx_id;
