-- 014_tx_meter.sql — a transaction's running meter state in a narrow table of its own.
-- Every MeterValues of a transaction rewrote its row of transactions (latest register
-- reading, energy, the head of its meter chain): a wide row (ids, id token, 2.x trigger
-- lists), so a commit of N MeterValues of N transactions dirtied up to N pages of that
-- table, each written whole to the WAL; in a MeterValues load those pages were most of the
-- bytes written per message. tx_meter keeps the four values that move, ~20 bytes a row, so
-- the same commit dirties a few pages. One row per transaction, made with it and deleted
-- with it; transactions keeps meter_start_wh, meter_stop_wh and the rest.
CREATE TABLE tx_meter (
    tx_id            INTEGER PRIMARY KEY REFERENCES transactions(id) ON DELETE CASCADE,
    last_register_wh INTEGER NOT NULL DEFAULT -1,   -- latest Energy.Active.Import.Register
    energy_wh        INTEGER NOT NULL DEFAULT 0,
    meter_backwards  INTEGER NOT NULL DEFAULT 0,    -- the register went backwards
    last_meter_id    INTEGER NOT NULL DEFAULT 0     -- head of its meter_rows chain (006)
);
INSERT INTO tx_meter (tx_id, last_register_wh, energy_wh, meter_backwards, last_meter_id)
SELECT id, last_register_wh, energy_wh, meter_backwards, last_meter_id FROM transactions
ORDER BY id;
ALTER TABLE transactions DROP COLUMN last_register_wh;
ALTER TABLE transactions DROP COLUMN energy_wh;
ALTER TABLE transactions DROP COLUMN meter_backwards;
ALTER TABLE transactions DROP COLUMN last_meter_id;
