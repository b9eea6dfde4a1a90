-- 005_command_meta.sql — what the operator API needs to put a command back exactly after a
-- restart: the shortcut it came through ("remote-start", "" = the generic commands route)
-- and the Idempotency-Key fingerprint (route and canonical request body), so that a client
-- retrying its POST with the same key after a restart gets the original command instead of
-- a conflict. Written by LW_W_CMD_META, read by lw_store_cmd_meta_list. Also an index for
-- reading a station's firmware status history (lw_store_fw_status_list).
ALTER TABLE commands ADD COLUMN via TEXT NOT NULL DEFAULT '';
ALTER TABLE commands ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';
-- GET /api/v1/stations/{id}/firmware reads a station's history newest first by row id.
CREATE INDEX fw_status_station_id ON fw_status_history (station_id, id);
