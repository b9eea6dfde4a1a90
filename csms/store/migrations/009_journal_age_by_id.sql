-- 009_journal_age_by_id.sql — the journal loses its last index on the write path (issue 6).
-- journal_at (at) cost a B-tree insert and a WAL page per commit for every row. Rows are
-- appended in arrival order, so their ids already order them by time: the age prune finds
-- the first row at or after the cutoff by a binary search over ids (a few dozen point
-- reads) and deletes the ids below it. A CALL written with its answer (008) carries the
-- CALL's time, at most the answer's delay earlier than the rows appended before it.
DROP INDEX journal_at;
