-- 008_paired_journal.sql — one journal row per exchange the station starts (issue 6: the
-- journal row was half of the writer's work per Heartbeat). Same conventions as 001.
--
-- A CALL from the station and the CSMS's answer to it (CALLRESULT 3 or CALLERROR 4) are
-- written as ONE row when the answer is sent: the CALL's columns as before, and
--   reply_type     3 or 4 (0 = the row holds one frame, as every row before 008);
--   reply_payload  what a reply row's payload holds (the result, or the error's text);
--   reply_at       when the answer was sent (ms).
-- The reply's message id is the CALL's, its direction the other one. CSMS-initiated CALLs
-- and the station's answers to them stay one row each, linked by call_id (006), as do frames
-- that were never answered. Existing rows are unchanged.
ALTER TABLE journal ADD COLUMN reply_type INTEGER NOT NULL DEFAULT 0;
ALTER TABLE journal ADD COLUMN reply_payload TEXT NOT NULL DEFAULT '';
ALTER TABLE journal ADD COLUMN reply_at INTEGER NOT NULL DEFAULT 0;
