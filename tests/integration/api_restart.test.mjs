// tests/integration/api_restart.test.mjs — operator commands survive a restart of `ladewerk
// serve` as they were: a command queued for an offline station through a shortcut, with an
// Idempotency-Key, is still there after the restart with its `via`; the client's retry with
// the same key and body gets the original command (202, Idempotent-Replayed) instead of a
// 409, a different body with that key is still a conflict, and the station gets the command
// once when it connects. The station is the independent client ocpp-rpc (OCPP 1.6).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { RPCClient } from 'ocpp-rpc';
import { tempDir, tokenCreate, startServer, cleanup } from './lib/server.mjs';

const dir = tempDir();
const db = join(dir, 'lw.db');
let srv;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

after(async () => {
  if (srv) await srv.stop();
  cleanup(dir);
});

async function api(token, method, path, body, headers = {}) {
  const h = { Authorization: `Bearer ${token}`, ...headers };
  if (body !== undefined) h['Content-Type'] = 'application/json';
  const res = await fetch(srv.http + path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text, headers: res.headers };
}

async function until(what, fn) {
  for (let i = 0; i < 300; i++) {
    const v = await fn();
    if (v) return v;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function station(received) {
  const c = new RPCClient({ endpoint: srv.url, identity: 'RS1', protocols: ['ocpp1.6'], strictMode: true, reconnect: false });
  c.handle('Reset', ({ params }) => { received.push(`Reset ${params.type}`); return { status: 'Accepted' }; });
  return c;
}

test('an Idempotency-Key retry after a restart returns the original command, with its via', async () => {
  srv = await startServer(db);
  const admin = tokenCreate(db, 'admin');
  const op = tokenCreate(db, 'operator');
  assert.equal((await api(admin, 'POST', '/api/v1/stations', { id: 'RS1', security_profile: 0 })).status, 201);

  // the station is known (its version decides the payload), then goes away
  const received = [];
  let c = station(received);
  await c.connect();
  await c.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'R' });
  await c.close();
  await until('RS1 offline', async () => (await api(op, 'GET', '/api/v1/stations/RS1')).json?.online === false);

  const key = { 'Idempotency-Key': 'reset-RS1-0001' };
  const first = await api(op, 'POST', '/api/v1/stations/RS1/reset', { type: 'hard' }, key);
  assert.equal(first.status, 202, first.text);
  assert.equal(first.json.status, 'queued');
  assert.equal(first.json.via, 'reset');
  assert.equal(first.json.action, 'Reset');

  await srv.stop();
  srv = await startServer(db);

  const back = await api(op, 'GET', `/api/v1/commands/${first.json.id}`);
  assert.equal(back.status, 200, back.text);
  assert.equal(back.json.status, 'queued');
  assert.equal(back.json.via, 'reset');
  assert.deepEqual(back.json.request, { type: 'Hard' });

  const retry = await api(op, 'POST', '/api/v1/stations/RS1/reset', { type: 'hard' }, key);
  assert.equal(retry.status, 202, retry.text);
  assert.equal(retry.headers.get('idempotent-replayed'), 'true');
  assert.equal(retry.json.id, first.json.id);
  assert.equal(retry.json.via, 'reset');

  const other = await api(op, 'POST', '/api/v1/stations/RS1/reset', { type: 'soft' }, key);
  assert.equal(other.status, 409, other.text);

  // the station comes back and gets the command once
  c = station(received);
  await c.connect();
  await c.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'R' });
  const done = await until('command answered', async () => {
    const r = await api(op, 'GET', `/api/v1/commands/${first.json.id}`);
    return r.json.status === 'answered' ? r.json : null;
  });
  assert.deepEqual(done.response, { status: 'Accepted' });
  await sleep(300);
  assert.deepEqual(received, ['Reset Hard']);
  await c.close();
});
