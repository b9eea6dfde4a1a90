// tests/integration/shutdown.test.mjs — graceful shutdown: SIGTERM while a CALL waits for its
// commit. The commit is held back by a write lock another process (the sqlite3 CLI) holds on
// the database; SIGTERM comes while the CALL is unanswered, then the lock is released. The
// station still gets its CALLRESULT, then the server closes the connection with 1001 (Going
// Away) and exits 0, and the row is in the database.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import WebSocket from 'ws';
import { tempDir, stationAdd, startServer, sql, cleanup } from './lib/server.mjs';

let dir;

after(() => cleanup(dir));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('SIGTERM: the CALL waiting on its commit is answered, then 1001 and exit 0', async () => {
  dir = tempDir();
  const db = join(dir, 'lw.db');
  stationAdd(db, 'CPS', ['--profile', '0']);
  const srv = await startServer(db);
  const ws = new WebSocket(`${srv.url}/CPS`, ['ocpp1.6']);
  const frames = [];
  const events = [];
  ws.on('message', (d) => { const f = JSON.parse(d); frames.push(f); events.push(['msg', f[1]]); });
  const closed = new Promise((r) => ws.on('close', (code) => { events.push(['close', code]); r(code); }));
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  ws.send(JSON.stringify([2, 'b1', 'BootNotification', { chargePointVendor: 'A', chargePointModel: 'B' }]));
  while (!frames.length) await sleep(20);
  assert.equal(frames[0][2].status, 'Accepted');

  // Another process takes the write lock: the server's writer waits for it (busy timeout).
  const lock = spawn('sqlite3', [db], { stdio: ['pipe', 'pipe', 'inherit'] });
  let lockOut = '';
  lock.stdout.on('data', (d) => { lockOut += d; });
  lock.stdin.write("BEGIN IMMEDIATE;\nSELECT 'locked';\n");
  while (!lockOut.includes('locked')) await sleep(20);

  const ts = new Date().toISOString();
  ws.send(JSON.stringify([2, 's1', 'StatusNotification',
    { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: ts }]));
  await sleep(400);
  // Not answered: it waits for its commit.
  assert.equal(frames.length, 1, JSON.stringify(frames));

  srv.proc.kill('SIGTERM');
  await sleep(400);
  assert.equal(frames.length, 1, 'answered before the commit');
  lock.stdin.end('COMMIT;\n');

  const code = await closed;
  const exit = await srv.exited;
  assert.deepEqual(frames[1], [3, 's1', {}]);
  assert.equal(code, 1001);
  assert.deepEqual(events.map((e) => e[0]), ['msg', 'msg', 'close']);
  assert.equal(exit.code, 0, JSON.stringify(exit) + srv.log());
  const rows = sql(db, "SELECT status FROM connector_status WHERE station_id='CPS' AND connector_id=1");
  assert.ok(rows.length >= 1 && rows[rows.length - 1].status === 'Available', JSON.stringify(rows));
});
