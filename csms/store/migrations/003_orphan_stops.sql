-- 003_orphan_stops.sql — 1.6 StopTransaction messages for a transaction the CSMS does not
-- know (never started here, another station's, or transactionId -1 from a charger that lost
-- its start): always acknowledged (OCPP 1.6 §4.10), kept here for reconciliation with the
-- values as sent. Times in ms since the epoch, like 001.
CREATE TABLE orphan_stops (
    id            INTEGER PRIMARY KEY,
    station_id    TEXT NOT NULL,
    tx_id         INTEGER NOT NULL,                -- the transactionId as sent (-1, unknown id)
    id_tag        TEXT NOT NULL DEFAULT '',
    meter_stop_wh INTEGER NOT NULL,
    stop_at       INTEGER NOT NULL,                -- the message's timestamp
    reason        TEXT NOT NULL DEFAULT '',
    received_at   INTEGER NOT NULL
);
CREATE INDEX orphan_stops_station ON orphan_stops (station_id, id);
