-- 016_lazy_journal_heads.sql — journal_heads (006) is written in batches (issue 6): the writer
-- keeps the heads of the stations it appended to in memory and writes them every
-- LW_STORE_HEADS_LAZY_ROWS journal rows instead of at every commit (in a boot storm a station's
-- three messages were three commits, so three upserts of its head). journal_heads_mark.upto
-- says how far journal_heads is complete: every journal row with id <= upto is counted in its
-- station's row (n) and is at or below its last_id. For rows above it, a station's newest row
-- is the newest of its rows above the mark if it has any, else journal_heads.last_id, and a
-- writer that opens the file (or finds that another wrote it) counts those rows in before it
-- appends. The table always had every row counted up to now.
CREATE TABLE journal_heads_mark (
    id   INTEGER PRIMARY KEY CHECK (id = 0),
    upto INTEGER NOT NULL
);
INSERT INTO journal_heads_mark (id, upto) SELECT 0, coalesce(max(id), 0) FROM journal;
