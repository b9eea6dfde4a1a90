// tests/integration/unknown_stations.test.mjs — `--unknown-stations pending` and `accept` with
// ocpp-rpc clients in strict mode. pending: an unregistered station is registered (Pending,
// profile 0), its boots are answered Pending with boot-retry-interval, other CALLs get
// SecurityError (OCPP 1.6 §4.2, 2.0.1 B02.FR.09), and after an operator's
// `ladewerk station set ID --status Accepted` its next boot is Accepted — on the same
// connection and on a new one. accept: registered and Accepted at once, with a warning logged.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { RPCClient } from 'ocpp-rpc';
import { BIN, tempDir, startServer, sql, cleanup } from './lib/server.mjs';

let dir, pendDb, accDb, pendSrv, accSrv;

before(async () => {
  dir = tempDir();
  pendDb = join(dir, 'pending.db');
  accDb = join(dir, 'accept.db');
  pendSrv = await startServer(pendDb, ['--unknown-stations', 'pending',
    '--boot-retry-interval', '17']);
  accSrv = await startServer(accDb, ['--unknown-stations', 'accept']);
});

after(async () => {
  const codes = [];
  if (pendSrv) codes.push(await pendSrv.stop());
  if (accSrv) codes.push(await accSrv.stop());
  cleanup(dir);
  for (const c of codes) assert.equal(c.code, 0, JSON.stringify(c));
});

function client(srv, identity, protocol) {
  return new RPCClient({ endpoint: srv.url, identity, protocols: [protocol], strictMode: true,
    reconnect: false });
}

async function until(what, fn, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const boot16 = { chargePointVendor: 'Acme', chargePointModel: 'New' };

test('pending: registered, answered Pending, other CALLs refused, accepted by the operator',
  async () => {
    const c = client(pendSrv, 'NEW16', 'ocpp1.6');
    await c.connect();
    const boot = await c.call('BootNotification', boot16);
    assert.equal(boot.status, 'Pending');
    assert.equal(boot.interval, 17);
    assert.ok(Date.parse(boot.currentTime) > 0);
    // Registered by the connection: Pending, profile 0.
    const rows = await until('NEW16 registered',
      () => sql(pendDb, "SELECT reg_status, security_profile FROM stations WHERE id='NEW16'")[0]);
    assert.deepEqual(rows, { reg_status: 'Pending', security_profile: 0 });
    for (const [action, body] of [['Heartbeat', {}], ['Authorize', { idTag: 'T' }],
      ['StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' }]]) {
      await assert.rejects(c.call(action, body), (e) => e.rpcErrorCode === 'SecurityError',
        action);
    }
    // Still Pending on a second boot.
    assert.equal((await c.call('BootNotification', boot16)).status, 'Pending');

    // The operator accepts it; the station's next boot (same connection) is Accepted.
    execFileSync(BIN, ['station', 'set', 'NEW16', '--status', 'Accepted', '--db',
      `sqlite:${pendDb}`], { encoding: 'utf8' });
    const ok = await c.call('BootNotification', boot16);
    assert.equal(ok.status, 'Accepted');
    assert.ok(Date.parse((await c.call('Heartbeat', {})).currentTime) > 0);
    await c.close();

    // And after a reconnect.
    const c2 = client(pendSrv, 'NEW16', 'ocpp1.6');
    await c2.connect();
    assert.equal((await c2.call('BootNotification', boot16)).status, 'Accepted');
    await c2.close();
  });

test('pending: a 2.0.1 station is answered Pending too', async () => {
  const c = client(pendSrv, 'NEW201', 'ocpp2.0.1');
  await c.connect();
  const boot = await c.call('BootNotification', { reason: 'PowerUp',
    chargingStation: { model: 'M', vendorName: 'V' } });
  assert.equal(boot.status, 'Pending');
  await assert.rejects(c.call('Heartbeat', {}), (e) => e.rpcErrorCode === 'SecurityError');
  await c.close();
});

test('accept: registered and Accepted, with a warning in the log', async () => {
  const c = client(accSrv, 'BENCH1', 'ocpp1.6');
  await c.connect();
  const boot = await c.call('BootNotification', boot16);
  assert.equal(boot.status, 'Accepted');
  assert.ok(Date.parse((await c.call('Heartbeat', {})).currentTime) > 0);
  await c.close();
  const rows = await until('BENCH1 registered',
    () => sql(accDb, "SELECT reg_status, security_profile FROM stations WHERE id='BENCH1'")[0]);
  assert.deepEqual(rows, { reg_status: 'Accepted', security_profile: 0 });
  const log = accSrv.log();
  assert.match(log, /unknown-stations=accept registers and accepts any station/);
  assert.match(log, /station=BENCH1 event=unknown_station_accepted/);
});
