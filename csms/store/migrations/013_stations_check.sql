-- 013_stations_check.sql — stations.reg_status checked with comparisons instead of IN (...).
-- SQLite evaluates an IN list of three or more constants by building a temporary b-tree, and
-- in a CHECK it does so on every INSERT: a third of the work of registering a new station,
-- 16% of the store writer's instructions in a boot storm of new stations (callgrind). A CHECK
-- cannot be altered, so the table is rebuilt with the same columns, defaults and rows. The
-- store runs migrations with foreign keys off (dropping the old table must not cascade to
-- the rows that reference it) and checks every reference before it commits.
CREATE TABLE stations_new (
    id               TEXT PRIMARY KEY,          -- chargeBoxIdentity / identity (1..48)
    security_profile INTEGER NOT NULL DEFAULT 1 CHECK (security_profile BETWEEN 0 AND 3),
    pw_salt          BLOB,                      -- 16 random bytes, NULL = no password
    pw_hash          BLOB,                      -- HMAC-SHA256(salt, password)
    reg_status       TEXT NOT NULL DEFAULT 'Accepted'
                     CHECK (reg_status = 'Accepted' OR reg_status = 'Pending'
                            OR reg_status = 'Rejected'),
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
INSERT INTO stations_new (id, security_profile, pw_salt, pw_hash, reg_status, ocpp_version,
                          vendor, model, serial, firmware, iccid, imsi, meter_type,
                          meter_serial, created_at, last_boot_at, last_seen_at, online)
SELECT id, security_profile, pw_salt, pw_hash, reg_status, ocpp_version, vendor, model, serial,
       firmware, iccid, imsi, meter_type, meter_serial, created_at, last_boot_at, last_seen_at,
       online
FROM stations ORDER BY rowid;
DROP TABLE stations;
ALTER TABLE stations_new RENAME TO stations;
