-- 002_operations.sql — what the CSMS and the operator API need beyond 001: 1.6 configuration
-- keys, the operator command queue with per-station idempotency keys, the CSR of issued
-- certificates, and indexes for the new list reads. Same conventions as 001 (times in ms).

-- 1.6 configuration keys as reported by GetConfiguration.conf (latest value per key).
CREATE TABLE config_keys (
    station_id TEXT NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    value      TEXT,                              -- NULL: the station sent no value
    readonly   INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (station_id, key)
) WITHOUT ROWID;

-- Commands: an idempotency key is unique per station (two operators may pick the same key
-- for different stations); the OCPP message id used to send it joins the journal.
DROP INDEX commands_idem;
CREATE UNIQUE INDEX commands_idem ON commands (station_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
ALTER TABLE commands ADD COLUMN error_desc TEXT NOT NULL DEFAULT '';
ALTER TABLE commands ADD COLUMN msg_id TEXT NOT NULL DEFAULT '';
ALTER TABLE commands ADD COLUMN sent_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX commands_expiry ON commands (expires_at) WHERE status IN ('queued', 'sent');

ALTER TABLE certificates ADD COLUMN csr TEXT NOT NULL DEFAULT '';

ALTER TABLE charging_profiles ADD COLUMN connector_id INTEGER NOT NULL DEFAULT 0;

-- The journal's request/response pairs are joined by message id.
CREATE INDEX journal_msg ON journal (station_id, msg_id);
CREATE INDEX transactions_token ON transactions (id_token, id);
CREATE INDEX transactions_start ON transactions (start_at);
CREATE INDEX status_history_station_id ON status_history (station_id, id);
CREATE INDEX reservations_expiry ON reservations (expiry) WHERE status IN ('Requested', 'Accepted');
CREATE INDEX dedupe_at ON dedupe (at);
