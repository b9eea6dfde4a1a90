-- 012_history_marks.sql — retention of the history tables by the server's clock
-- (history-retention). status_history and device_events keep the station's own timestamps,
-- which need not grow with the row id and may be years off; no history table has an index on
-- time. Each retention run records, per history table, its newest row id with the server's
-- time ("mark"); the rows up to the newest mark older than the retention are the rows stored
-- before then, deleted as an id range. A mark whose rows are all gone is dropped with them.
CREATE TABLE history_marks (
    tbl    TEXT NOT NULL,       -- status_history, boot_notifications, ...
    at     INTEGER NOT NULL,    -- server time of the retention run, ms since the epoch
    max_id INTEGER NOT NULL,    -- the table's newest row id at that time
    PRIMARY KEY (tbl, at)
) WITHOUT ROWID;
