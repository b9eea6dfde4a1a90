// retention.test.mjs — the server's retention run on the history tables (history-retention):
// rows stored longer ago than the retention go, newer ones stay, and a backlog larger than
// one run's bound (LW_STORE_MAINT_ROWS_MAX = 20,000 rows) is drained by runs that follow each
// other within seconds, not one per maintain-interval (1 h by default, 60 s here).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir, stationAdd, startServer, sql, cleanup } from './lib/server.mjs';

const dir = tempDir();
after(() => cleanup(dir));

function count(db, table) {
  return sql(db, `SELECT count(*) AS n FROM ${table}`)[0].n;
}

test('history rows stored before the retention go in runs of 20,000; newer ones stay', async () => {
  const db = join(dir, 'r.db');
  stationAdd(db, 'CP-R'); // creates the database with every migration applied
  const day = 86400000;
  const now = Date.now();
  // 45,000 status rows and 3 security events stored "100 days ago" (a mark then covers
  // them: what earlier retention runs would have recorded), then 5 status rows and one
  // security event stored since (no mark covers them). The old rows carry timestamps of
  // today, the new ones of 1970: the station's clock must not matter.
  sql(db, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 45000)
           INSERT INTO status_history (station_id, evse_id, connector_id, status, at)
           SELECT 'CP-R', 0, 1, 'Available', ${now} FROM n;
           INSERT INTO security_events (station_id, type, at)
           VALUES ('CP-R', 'A', ${now}), ('CP-R', 'B', ${now}), ('CP-R', 'C', ${now});
           INSERT INTO history_marks (tbl, at, max_id) VALUES
             ('status_history', ${now - 100 * day}, 45000),
             ('security_events', ${now - 100 * day}, 3);
           WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5)
           INSERT INTO status_history (station_id, evse_id, connector_id, status, at)
           SELECT 'CP-R', 0, 1, 'Charging', 1000 FROM n;
           INSERT INTO security_events (station_id, type, at) VALUES ('CP-R', 'D', 1000);`);
  assert.equal(count(db, 'status_history'), 45005);

  const srv = await startServer(db, ['--history-retention', '90d', '--maintain-interval', '60s']);
  try {
    // the first run is at start; 45,003 rows need three runs of at most 20,000
    const deadline = Date.now() + 20000;
    while (count(db, 'status_history') > 5 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 250));
    assert.equal(count(db, 'status_history'), 5, 'the old rows are gone within seconds');
    assert.deepEqual(sql(db, 'SELECT DISTINCT status, at FROM status_history'),
      [{ status: 'Charging', at: 1000 }]);
    assert.deepEqual(sql(db, 'SELECT type FROM security_events'), [{ type: 'D' }]);
    const runs = srv.log().match(/event=maintain pruned_journal=\d+ pruned_dedupe=\d+ pruned_history=\d+ .*more=\d/g) || [];
    const pruned = runs.map((l) => Number(/pruned_history=(\d+)/.exec(l)[1]));
    assert.ok(runs.length >= 3, `three or more runs logged:\n${runs.join('\n')}`);
    assert.ok(pruned.every((n) => n <= 20000), `each run within its bound: ${pruned}`);
    assert.equal(pruned.reduce((a, b) => a + b, 0), 45003);
    // the marks of the deleted rows are gone; each table's newest row is marked now
    const marks = sql(db, 'SELECT tbl, max_id FROM history_marks ORDER BY tbl');
    assert.deepEqual(marks.map((m) => m.tbl), ['security_events', 'status_history']);
    assert.ok(marks.every((m) => m.max_id > 3), JSON.stringify(marks));
  } finally {
    await srv.stop();
  }
});
