// tests/integration/keepalive.test.mjs — WebSocket ping keepalive (ping-interval 1 s,
// pong-timeout 1 s): a raw `ws` station that stops answering pings (autoPong: false) is closed
// by the server and shown offline in /api/v1/stations/{id}, while a station that answers them
// stays connected and online over the same time (so it is the missing pong that counts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import WebSocket from 'ws';
import { tempDir, stationAdd, tokenCreate, startServer, cleanup } from './lib/server.mjs';

let dir, db, srv, viewer;

before(async () => {
  dir = tempDir();
  db = join(dir, 'lw.db');
  stationAdd(db, 'MUTE', ['--profile', '0']);
  stationAdd(db, 'LIVE', ['--profile', '0']);
  viewer = tokenCreate(db, 'viewer');
  srv = await startServer(db, ['--ping-interval', '1', '--pong-timeout', '1']);
});

after(async () => {
  const c = srv ? await srv.stop() : { code: 0 };
  cleanup(dir);
  assert.equal(c.code, 0, JSON.stringify(c));
});

async function station(id) {
  const r = await fetch(`${srv.http}/api/v1/stations/${id}`,
    { headers: { Authorization: `Bearer ${viewer}` } });
  assert.equal(r.status, 200);
  return r.json();
}

async function until(what, fn, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Opens a raw 1.6 connection and boots it; resolves { ws, pings, closed } where closed is a
// promise of the close code.
async function connect(id, autoPong) {
  const ws = new WebSocket(`${srv.url}/${id}`, ['ocpp1.6'], { autoPong });
  const st = { ws, pings: 0 };
  st.closed = new Promise((r) => ws.on('close', (code) => r(code)));
  ws.on('ping', () => { st.pings++; });
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  const answer = new Promise((r) => ws.once('message', (d) => r(JSON.parse(d))));
  ws.send(JSON.stringify([2, 'b1', 'BootNotification',
    { chargePointVendor: 'Acme', chargePointModel: 'K' }]));
  const a = await answer;
  assert.equal(a[0], 3);
  assert.equal(a[2].status, 'Accepted');
  return st;
}

test('a station that stops answering pings is closed and shown offline', async () => {
  const mute = await connect('MUTE', false);
  const live = await connect('LIVE', true);
  await until('both online', async () => (await station('MUTE')).online &&
    (await station('LIVE')).online);
  // Closed by the server (not by us) after at least one unanswered ping; the bound is loose
  // (ping-interval + pong-timeout is 2 s) because the check runs on a timer tick.
  let timer;
  const code = await Promise.race([mute.closed,
    new Promise((r) => { timer = setTimeout(() => r('still open'), 15000); })]);
  clearTimeout(timer);
  assert.notEqual(code, 'still open');
  assert.ok(mute.pings >= 1, `pings seen: ${mute.pings}`);
  await until('MUTE offline', async () => !(await station('MUTE')).online);
  // The station that answers its pings was pinged too and is still there.
  assert.ok(live.pings >= 1, `pings seen: ${live.pings}`);
  assert.equal(live.ws.readyState, WebSocket.OPEN);
  assert.equal((await station('LIVE')).online, true);
  live.ws.close();
  await live.closed;
});
