// tests/integration/boot_storm.test.mjs — boot-storm shedding (config boot-rate-limit): a burst
// of OCPP 1.6 BootNotifications from registered stations (ocpp-rpc, strict mode) against a node
// that accepts 2 boots per second. The rest are answered Pending with a randomized interval in
// 1..boot-retry-interval (OCPP 1.6 §4.2), their registration stays Accepted, and a shed station
// that boots again in a later second is Accepted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { RPCClient } from 'ocpp-rpc';
import { tempDir, stationAdd, startServer, sql, cleanup } from './lib/server.mjs';

const N = 16;
const LIMIT = 2;
const RETRY = 30;
let dir, db, srv;

before(async () => {
  dir = tempDir();
  db = join(dir, 'lw.db');
  for (let i = 0; i < N; i++) stationAdd(db, `STORM${i}`, ['--profile', '0']);
  srv = await startServer(db, ['--boot-rate-limit', String(LIMIT),
    '--boot-retry-interval', String(RETRY), '--heartbeat-interval', '300']);
});

after(async () => {
  if (srv) await srv.stop();
  cleanup(dir);
});

test('a boot burst beyond boot-rate-limit is answered Pending with spread intervals', async () => {
  const clients = [];
  for (let i = 0; i < N; i++) {
    const c = new RPCClient({ endpoint: srv.url, identity: `STORM${i}`, protocols: ['ocpp1.6'],
      strictMode: true, reconnect: false });
    await c.connect();
    clients.push(c);
  }
  const boot = { chargePointVendor: 'Acme', chargePointModel: 'Storm' };
  const t0 = Date.now();
  const answers = await Promise.all(clients.map((c) => c.call('BootNotification', boot)));
  const elapsedS = (Date.now() - t0) / 1000;

  const accepted = answers.filter((a) => a.status === 'Accepted');
  const pending = answers.filter((a) => a.status === 'Pending');
  assert.equal(accepted.length + pending.length, N, JSON.stringify(answers));
  // The budget is per wall-clock second: the burst may span a few of them.
  const seconds = Math.ceil(elapsedS) + 1;
  assert.ok(accepted.length >= 1, JSON.stringify(answers));
  assert.ok(accepted.length <= LIMIT * seconds,
    `accepted ${accepted.length} > ${LIMIT}/s over ${seconds} s: ${JSON.stringify(answers)}`);
  for (const a of accepted) assert.equal(a.interval, 300);
  for (const p of pending) {
    assert.ok(Number.isInteger(p.interval) && p.interval >= 1 && p.interval <= RETRY,
      `interval ${p.interval} not in 1..${RETRY}`);
  }
  // Randomized, so the fleet spreads out (all equal by chance: 30^-(n-1)).
  assert.ok(new Set(pending.map((p) => p.interval)).size > 1,
    `pending intervals all equal: ${JSON.stringify(pending)}`);

  // A shed station is not accepted yet: other messages get SecurityError (1.6 §4.2).
  const shedIdx = answers.findIndex((a) => a.status === 'Pending');
  const shed = clients[shedIdx];
  await assert.rejects(shed.call('Heartbeat', {}), (e) => e.rpcErrorCode === 'SecurityError');
  // Its registration is untouched; every shed boot is stored and logged as such.
  assert.deepEqual(sql(db, `SELECT reg_status FROM stations WHERE id='STORM${shedIdx}'`),
    [{ reg_status: 'Accepted' }]);
  const rows = sql(db, "SELECT COUNT(*) AS n FROM boot_notifications WHERE answered='Pending'");
  assert.equal(rows[0].n, pending.length);
  const logged = (srv.log().match(/event=boot status=Pending reason=boot_rate_limit/g) || []).length;
  assert.equal(logged, pending.length);

  // In a later second the budget is back: the shed station's next boot is Accepted.
  await new Promise((r) => setTimeout(r, 1100));
  const again = await shed.call('BootNotification', boot);
  assert.equal(again.status, 'Accepted');
  const hb = await shed.call('Heartbeat', {});
  assert.ok(Date.parse(hb.currentTime) > 0);
  await Promise.all(clients.map((c) => c.close()));
});
