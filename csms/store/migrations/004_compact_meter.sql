-- 004_compact_meter.sql — a cheaper durable write path (issue 6: MeterValues at 30k msg/s).
-- Same conventions as 001 (times in ms, text as sent).
--
-- Meter values: ONE row per stored message (MeterValues, TransactionEvent, transactionData)
-- instead of one row per sampled value. A 6-value MeterValues used to insert 6 rows and 12
-- index entries; now it inserts one row and one index entry. samples is a JSON array with one
-- array per sampled value, every field kept in this fixed order:
--     [timestamp_ms, value, measurand, phase, unit, context, location, format, signed_data]
-- (timestamp a JSON integer, the others JSON strings, "" = absent). at is the first value's
-- timestamp. JSON so that SQL can read it (json_each) and the migration below can convert.
CREATE TABLE meter_rows (
    id           INTEGER PRIMARY KEY,
    station_id   TEXT NOT NULL,
    evse_id      INTEGER NOT NULL DEFAULT 0,
    connector_id INTEGER NOT NULL DEFAULT 0,
    tx_id        INTEGER,                        -- NULL: not linked to a transaction
    at           INTEGER NOT NULL,
    n            INTEGER NOT NULL,               -- sampled values in samples
    samples      TEXT NOT NULL
);
-- The only read is "values of a transaction, in arrival order". The old (station_id, at)
-- index had no reader and cost a B-tree insert per sampled value.
CREATE INDEX meter_rows_tx ON meter_rows (tx_id, id) WHERE tx_id IS NOT NULL;

-- Existing values move over one row each, in their order, with every field.
INSERT INTO meter_rows (station_id, evse_id, connector_id, tx_id, at, n, samples)
SELECT station_id, evse_id, connector_id, tx_id, at, 1,
       json_array(json_array(at, value, measurand, phase, unit, context, location, format,
                             signed_data))
FROM meter_values ORDER BY id;
DROP TABLE meter_values;

-- The old table's shape stays readable for SQL tools and scripts: one row per sampled value.
CREATE VIEW meter_values AS
SELECT m.id AS row_id, j.key AS idx, m.station_id, m.evse_id, m.connector_id, m.tx_id,
       j.value ->> 0 AS at, j.value ->> 1 AS value, j.value ->> 2 AS measurand,
       j.value ->> 3 AS phase, j.value ->> 4 AS unit, j.value ->> 5 AS context,
       j.value ->> 6 AS location, j.value ->> 7 AS format, j.value ->> 8 AS signed_data
FROM meter_rows m, json_each(m.samples) j;
