-- 001_initial.sql — Ladewerk's first schema (SQLite dialect; a PostgreSQL backend keeps its
-- own migrations with the same tables). Times are integers: milliseconds since the Unix
-- epoch, UTC. Text is stored exactly as the station sent it. Applied once, in a transaction,
-- by store/sqlite.c and recorded in schema_version.

-- Stations: registration (CLI / REST) plus what the station told us about itself.
CREATE TABLE stations (
    id               TEXT PRIMARY KEY,          -- chargeBoxIdentity / identity (1..48)
    security_profile INTEGER NOT NULL DEFAULT 1 CHECK (security_profile BETWEEN 0 AND 3),
    pw_salt          BLOB,                      -- 16 random bytes, NULL = no password
    pw_hash          BLOB,                      -- HMAC-SHA256(salt, password)
    reg_status       TEXT NOT NULL DEFAULT 'Accepted'
                     CHECK (reg_status IN ('Accepted', 'Pending', 'Rejected')),
    ocpp_version     TEXT NOT NULL DEFAULT '',
    vendor           TEXT NOT NULL DEFAULT '',
    model            TEXT NOT NULL DEFAULT '',
    serial           TEXT NOT NULL DEFAULT '',
    firmware         TEXT NOT NULL DEFAULT '',
    iccid            TEXT NOT NULL DEFAULT '',
    imsi             TEXT NOT NULL DEFAULT '',
    meter_type       TEXT NOT NULL DEFAULT '',
    meter_serial     TEXT NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    last_boot_at     INTEGER NOT NULL DEFAULT 0,
    last_seen_at     INTEGER NOT NULL DEFAULT 0,
    online           INTEGER NOT NULL DEFAULT 0
);

-- Current status per connector (1.6: evse_id 0, connector_id 0 = the whole charge point;
-- 2.x: evse_id / connector_id), and its history.
CREATE TABLE connector_status (
    station_id        TEXT NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
    evse_id           INTEGER NOT NULL,
    connector_id      INTEGER NOT NULL,
    status            TEXT NOT NULL,
    error_code        TEXT NOT NULL DEFAULT '',
    info              TEXT NOT NULL DEFAULT '',
    vendor_id         TEXT NOT NULL DEFAULT '',
    vendor_error_code TEXT NOT NULL DEFAULT '',
    at                INTEGER NOT NULL,
    PRIMARY KEY (station_id, evse_id, connector_id)
) WITHOUT ROWID;
CREATE TABLE status_history (
    id                INTEGER PRIMARY KEY,
    station_id        TEXT NOT NULL,
    evse_id           INTEGER NOT NULL,
    connector_id      INTEGER NOT NULL,
    status            TEXT NOT NULL,
    error_code        TEXT NOT NULL DEFAULT '',
    info              TEXT NOT NULL DEFAULT '',
    vendor_id         TEXT NOT NULL DEFAULT '',
    vendor_error_code TEXT NOT NULL DEFAULT '',
    at                INTEGER NOT NULL
);
CREATE INDEX status_history_station ON status_history (station_id, at);

-- Id tokens (1.6 idTag: type ''; 2.x idToken + type).
CREATE TABLE id_tokens (
    id_token   TEXT NOT NULL,
    type       TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL DEFAULT 'Accepted'
               CHECK (status IN ('Accepted', 'Blocked', 'Expired', 'Invalid', 'ConcurrentTx')),
    expiry     INTEGER NOT NULL DEFAULT 0,       -- 0 = never
    group_id   TEXT NOT NULL DEFAULT '',         -- parentIdTag / groupIdToken
    updated_at INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (id_token, type)
) WITHOUT ROWID;

-- Transactions. id is the integer handed to 1.6 stations as transactionId; tx_uid is the
-- 2.x transactionId string (unique per station).
CREATE TABLE transactions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused, even after deletes
    tx_uid          TEXT,
    station_id      TEXT NOT NULL,
    evse_id         INTEGER NOT NULL DEFAULT 0,
    connector_id    INTEGER NOT NULL DEFAULT 0,
    id_token        TEXT NOT NULL DEFAULT '',
    id_token_type   TEXT NOT NULL DEFAULT '',
    state           INTEGER NOT NULL DEFAULT 0,        -- 0 active, 1 ended
    start_at        INTEGER NOT NULL,
    stop_at         INTEGER NOT NULL DEFAULT 0,
    meter_start_wh  INTEGER NOT NULL DEFAULT -1,
    meter_stop_wh   INTEGER NOT NULL DEFAULT -1,
    energy_wh       INTEGER NOT NULL DEFAULT 0,
    last_register_wh INTEGER NOT NULL DEFAULT -1,      -- latest Energy.Active.Import.Register
    stop_reason     TEXT NOT NULL DEFAULT '',
    charging_state  TEXT NOT NULL DEFAULT '',
    last_seq_no     INTEGER NOT NULL DEFAULT -1,
    offline         INTEGER NOT NULL DEFAULT 0,
    meter_backwards INTEGER NOT NULL DEFAULT 0,        -- the register went backwards
    reservation_id  INTEGER NOT NULL DEFAULT -1,
    remote_start_id INTEGER NOT NULL DEFAULT -1,
    last_trigger    TEXT NOT NULL DEFAULT '',
    triggers        TEXT NOT NULL DEFAULT ''           -- comma list of every triggerReason
);
CREATE UNIQUE INDEX transactions_uid ON transactions (station_id, tx_uid) WHERE tx_uid IS NOT NULL;
CREATE INDEX transactions_station ON transactions (station_id, id);
CREATE INDEX transactions_active ON transactions (state, station_id);

-- Every 2.x TransactionEvent as received (seqNo gaps show lost messages).
CREATE TABLE transaction_events (
    id             INTEGER PRIMARY KEY,
    tx_id          INTEGER NOT NULL REFERENCES transactions(id) ON DELETE CASCADE,
    seq_no         INTEGER NOT NULL,
    event_type     TEXT NOT NULL,
    trigger_reason TEXT NOT NULL DEFAULT '',
    offline        INTEGER NOT NULL DEFAULT 0,
    at             INTEGER NOT NULL,
    UNIQUE (tx_id, seq_no)
);

-- Dedupe of retried messages: (station, kind, key) -> the row and the answer given first.
-- key: 1.6 start = SHA-256 of its content; stop = transactionId; 2.x = transactionId:seqNo;
-- MeterValues = SHA-256 of the content.
CREATE TABLE dedupe (
    station_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    key        BLOB NOT NULL,
    tx_id      INTEGER NOT NULL DEFAULT 0,
    answer     TEXT NOT NULL DEFAULT '',
    at         INTEGER NOT NULL,
    PRIMARY KEY (station_id, kind, key)
) WITHOUT ROWID;

-- Meter values: every sampled value with all its fields as sent.
CREATE TABLE meter_values (
    id           INTEGER PRIMARY KEY,
    station_id   TEXT NOT NULL,
    evse_id      INTEGER NOT NULL DEFAULT 0,
    connector_id INTEGER NOT NULL DEFAULT 0,
    tx_id        INTEGER,                        -- NULL: not linked to a transaction
    at           INTEGER NOT NULL,
    value        TEXT NOT NULL,
    measurand    TEXT NOT NULL DEFAULT '',
    phase        TEXT NOT NULL DEFAULT '',
    unit         TEXT NOT NULL DEFAULT '',
    context      TEXT NOT NULL DEFAULT '',
    location     TEXT NOT NULL DEFAULT '',
    format       TEXT NOT NULL DEFAULT '',
    signed_data  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX meter_values_tx ON meter_values (tx_id, id) WHERE tx_id IS NOT NULL;
CREATE INDEX meter_values_station ON meter_values (station_id, at);

-- Per-station message journal (bounded by pruning: age and count per station).
CREATE TABLE journal (
    id         INTEGER PRIMARY KEY,
    station_id TEXT NOT NULL,
    inbound    INTEGER NOT NULL,
    msg_type   INTEGER NOT NULL,
    msg_id     TEXT NOT NULL,
    action     TEXT NOT NULL DEFAULT '',
    payload    TEXT NOT NULL DEFAULT '',
    at         INTEGER NOT NULL
);
CREATE INDEX journal_station ON journal (station_id, id);
CREATE INDEX journal_at ON journal (at);

CREATE TABLE security_events (
    id         INTEGER PRIMARY KEY,
    station_id TEXT NOT NULL,
    type       TEXT NOT NULL,
    tech_info  TEXT NOT NULL DEFAULT '',
    at         INTEGER NOT NULL
);
CREATE INDEX security_events_station ON security_events (station_id, at);

CREATE TABLE boot_notifications (
    id         INTEGER PRIMARY KEY,
    station_id TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    payload    TEXT NOT NULL DEFAULT '',
    answered   TEXT NOT NULL,
    at         INTEGER NOT NULL
);
CREATE INDEX boot_notifications_station ON boot_notifications (station_id, at);

-- Firmware, diagnostics, log upload and publish-firmware status history.
CREATE TABLE fw_status_history (
    id         INTEGER PRIMARY KEY,
    station_id TEXT NOT NULL,
    what       TEXT NOT NULL CHECK (what IN ('firmware', 'diagnostics', 'log', 'publish')),
    status     TEXT NOT NULL,
    request_id INTEGER NOT NULL DEFAULT -1,
    at         INTEGER NOT NULL
);
CREATE INDEX fw_status_station ON fw_status_history (station_id, at);

CREATE TABLE data_transfers (
    id         INTEGER PRIMARY KEY,
    station_id TEXT NOT NULL,
    inbound    INTEGER NOT NULL,
    vendor_id  TEXT NOT NULL,
    message_id TEXT NOT NULL DEFAULT '',
    data       TEXT NOT NULL DEFAULT '',
    at         INTEGER NOT NULL
);

-- 2.x device model (NotifyReport / GetVariables results), latest value per attribute.
CREATE TABLE device_model (
    station_id     TEXT NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
    component      TEXT NOT NULL,
    component_inst TEXT NOT NULL DEFAULT '',
    evse_id        INTEGER NOT NULL DEFAULT -1,
    connector_id   INTEGER NOT NULL DEFAULT -1,
    variable       TEXT NOT NULL,
    variable_inst  TEXT NOT NULL DEFAULT '',
    attr_type      TEXT NOT NULL DEFAULT 'Actual',
    value          TEXT NOT NULL DEFAULT '',
    mutability     TEXT NOT NULL DEFAULT '',
    characteristics TEXT NOT NULL DEFAULT '',     -- JSON as sent
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (station_id, component, component_inst, evse_id, connector_id, variable,
                 variable_inst, attr_type)
) WITHOUT ROWID;

-- 2.x NotifyEvent.
CREATE TABLE device_events (
    id         INTEGER PRIMARY KEY,
    station_id TEXT NOT NULL,
    event_id   INTEGER NOT NULL,
    trigger    TEXT NOT NULL,
    component  TEXT NOT NULL,
    variable   TEXT NOT NULL,
    actual     TEXT NOT NULL DEFAULT '',
    payload    TEXT NOT NULL DEFAULT '',          -- the EventData JSON as sent
    at         INTEGER NOT NULL
);
CREATE INDEX device_events_station ON device_events (station_id, at);

CREATE TABLE reservations (
    id           INTEGER NOT NULL,                -- reservationId (chosen by the CSMS)
    station_id   TEXT NOT NULL,
    evse_id      INTEGER NOT NULL DEFAULT 0,
    connector_id INTEGER NOT NULL DEFAULT 0,
    id_token     TEXT NOT NULL,
    group_id     TEXT NOT NULL DEFAULT '',
    expiry       INTEGER NOT NULL,
    status       TEXT NOT NULL DEFAULT 'Requested', -- Requested/Accepted/Rejected/Used/Expired/Cancelled
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (station_id, id)
);

CREATE TABLE charging_profiles (
    station_id   TEXT NOT NULL,
    profile_id   INTEGER NOT NULL,
    evse_id      INTEGER NOT NULL DEFAULT 0,
    stack_level  INTEGER NOT NULL,
    purpose      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    tx_id        INTEGER,
    valid_from   INTEGER NOT NULL DEFAULT 0,
    valid_to     INTEGER NOT NULL DEFAULT 0,
    profile      TEXT NOT NULL,                   -- the ChargingProfile JSON as sent
    status       TEXT NOT NULL DEFAULT 'Requested',
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (station_id, profile_id)
);

-- Operator API tokens: only the SHA-256 of the token is kept.
CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    hash       BLOB NOT NULL UNIQUE,
    role       TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    name       TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    revoked_at INTEGER NOT NULL DEFAULT 0
);

-- Operator commands to stations (RemoteStart, Reset, …): queued until sent and answered.
CREATE TABLE commands (
    id              INTEGER PRIMARY KEY,
    station_id      TEXT NOT NULL,
    action          TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'sent', 'answered', 'failed', 'expired')),
    response        TEXT NOT NULL DEFAULT '',
    error           TEXT NOT NULL DEFAULT '',
    idempotency_key TEXT,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,             -- created_at + ttl
    updated_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX commands_idem ON commands (idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX commands_station ON commands (station_id, status, id);

-- Certificates signed for stations (SignCertificate -> CertificateSigned).
CREATE TABLE certificates (
    id          INTEGER PRIMARY KEY,
    station_id  TEXT NOT NULL,
    cert_type   TEXT NOT NULL,                    -- ChargingStationCertificate / V2GCertificate
    serial      TEXT NOT NULL,
    subject     TEXT NOT NULL DEFAULT '',
    not_before  INTEGER NOT NULL,
    not_after   INTEGER NOT NULL,
    pem         TEXT NOT NULL,
    issued_at   INTEGER NOT NULL,
    revoked_at  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX certificates_station ON certificates (station_id, issued_at);
