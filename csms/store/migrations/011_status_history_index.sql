-- 011_status_history_index.sql — one index less on the StatusNotification write path (issue 6).
-- status_history had two indexes: (station_id, at) from 001 and (station_id, id) from 002.
-- Every reader (lw_store_status_history_list: a station's rows, newest first by id) uses the
-- second; nothing reads the first, which cost a B-tree insert on every StatusNotification
-- (two per station in a boot storm). Rows are appended in arrival order, so a station's rows
-- by id are also its rows by time, for anyone querying the file with SQL.
DROP INDEX IF EXISTS status_history_station;
