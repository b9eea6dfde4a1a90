-- 015_boot_history_index.sql — one index less on the BootNotification write path (issue 6),
-- as 011 did for status_history. boot_notifications (station_id, at) from 001 has no reader:
-- the API shows a station's boot fields from its stations row, and retention deletes the
-- table's rows as id ranges (012). It cost a B-tree insert on every BootNotification (one per
-- station in a boot storm). Rows are appended in arrival order: a station's rows by id are its
-- rows by time, for anyone querying the file with SQL.
DROP INDEX IF EXISTS boot_notifications_station;
