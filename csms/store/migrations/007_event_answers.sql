-- 007_event_answers.sql — a 2.x TransactionEvent's retry is found on its own row (issue 6:
-- the 2.0.1 transaction path). Until now every TransactionEvent also wrote a `dedupe` row
-- keyed by a hash of (transactionId, seqNo): a random B-tree leaf in every commit, and a
-- random read before it. The (tx_id, seq_no) UNIQUE index of transaction_events already
-- identifies a retry; the answer given the first time now lives next to it.
-- NULL on rows stored before 007: their answers stay in dedupe, where a retry still finds
-- them.
ALTER TABLE transaction_events ADD COLUMN answer TEXT;
