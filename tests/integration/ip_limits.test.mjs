// tests/integration/ip_limits.test.mjs — per-IP limits of the station listener with raw `ws`
// upgrades: `upgrades-per-ip` (the N+1-th upgrade in a minute is refused with HTTP 429 and
// Retry-After) and `auth-failures-per-ip` (after N failed authentications even the right
// password is refused with 429). The tests run on loopback, so "another IP" is 127.0.0.2 (all
// of 127.0.0.0/8 is loopback on Linux): it is not affected by 127.0.0.1's count.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import WebSocket from 'ws';
import { tempDir, stationAdd, startServer, cleanup } from './lib/server.mjs';

const PW = 'correct-horse-battery-1';
let dir, upSrv, authSrv;

before(async () => {
  dir = tempDir();
  const upDb = join(dir, 'up.db');
  const authDb = join(dir, 'auth.db');
  stationAdd(upDb, 'CP0', ['--profile', '0']);
  stationAdd(authDb, 'CP1', ['--profile', '1', '--password', PW]);
  upSrv = await startServer(upDb, ['--upgrades-per-ip', '3']);
  authSrv = await startServer(authDb, ['--auth-failures-per-ip', '2']);
  // The counts are per wall-clock minute: do not start just before the minute turns.
  const s = new Date().getSeconds();
  if (s >= 50) await new Promise((r) => setTimeout(r, (61 - s) * 1000));
});

after(async () => {
  const codes = [];
  if (upSrv) codes.push(await upSrv.stop());
  if (authSrv) codes.push(await authSrv.stop());
  cleanup(dir);
  for (const c of codes) assert.equal(c.code, 0, JSON.stringify(c));
});

// One upgrade; resolves { status, headers } (101 when it opened; the socket is closed again).
function upgrade(srv, id, { password, localAddress } = {}) {
  return new Promise((resolve, reject) => {
    const headers = {};
    if (password) headers.Authorization = 'Basic ' + Buffer.from(`${id}:${password}`).toString('base64');
    const ws = new WebSocket(`${srv.url}/${id}`, ['ocpp1.6'], { headers, localAddress });
    let done = false;
    ws.on('open', () => {
      done = true;
      ws.close();
      resolve({ status: 101, headers: {} });
    });
    ws.on('unexpected-response', (req, res) => {
      done = true;
      resolve({ status: res.statusCode, headers: res.headers });
      req.destroy();
    });
    ws.on('error', (e) => { if (!done) reject(e); });
  });
}

test('upgrades-per-ip: the upgrade beyond the limit is refused with 429', async () => {
  for (let i = 1; i <= 3; i++) assert.equal((await upgrade(upSrv, 'CP0')).status, 101, `upgrade ${i}`);
  const r = await upgrade(upSrv, 'CP0');
  assert.equal(r.status, 429);
  assert.equal(r.headers['retry-after'], '60');
  // Every upgrade counts, also one for an unknown path or station.
  assert.equal((await upgrade(upSrv, 'NOBODY')).status, 429);
  assert.match(upSrv.log(), /ip=127\.0\.0\.1 event=refused status=429 reason=per_ip_limit/);
  // Another address has its own count.
  assert.equal((await upgrade(upSrv, 'CP0', { localAddress: '127.0.0.2' })).status, 101);
});

test('auth-failures-per-ip: after N failures even the right password is refused', async () => {
  assert.equal((await upgrade(authSrv, 'CP1', { password: 'wrong-password-1' })).status, 401);
  // One failure is below the limit: the right password still gets in.
  assert.equal((await upgrade(authSrv, 'CP1', { password: PW })).status, 101);
  assert.equal((await upgrade(authSrv, 'CP1', { password: 'wrong-password-2' })).status, 401);
  // Two failures: this address is refused, whatever it sends.
  const r = await upgrade(authSrv, 'CP1', { password: PW });
  assert.equal(r.status, 429);
  assert.equal((await upgrade(authSrv, 'CP1', { password: 'wrong-password-3' })).status, 429);
  assert.equal((await upgrade(authSrv, 'CP1', { password: PW, localAddress: '127.0.0.2' })).status,
    101);
});
