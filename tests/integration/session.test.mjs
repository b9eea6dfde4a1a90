// tests/integration/session.test.mjs — full charging sessions of OCPP 1.6 and 2.0.1 against
// the real `ladewerk serve`, driven by the independent client ocpp-rpc in strict mode (it
// validates every message both ways with its own schemas): boot, status, authorize, start,
// meter values, stop; then the transaction and its energy are read from the SQLite file.
// Also: duplicate transaction messages (same answer, stored once), messages before an
// accepted boot, and unknown id tokens.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { RPCClient } from 'ocpp-rpc';
import { tempDir, stationAdd, startServer, sql, cleanup } from './lib/server.mjs';

let dir, db, srv;

before(async () => {
  dir = tempDir();
  db = join(dir, 'lw.db');
  stationAdd(db, 'CP16', ['--profile', '0']);
  stationAdd(db, 'CP201', ['--profile', '0']);
  stationAdd(db, 'CPPEND', ['--profile', '0', '--status', 'Pending']);
  // Id tokens straight into the store's table (no CLI for them yet).
  sql(db, "INSERT INTO id_tokens(id_token, status, group_id) VALUES ('TAG1','Accepted','GRP');" +
    "INSERT INTO id_tokens(id_token, status) VALUES ('BLOCKED','Blocked');" +
    "INSERT INTO id_tokens(id_token, type, status) VALUES ('RFID201','ISO14443','Accepted');");
  srv = await startServer(db);
});

after(async () => {
  if (srv) await srv.stop();
  cleanup(dir);
});

function client(identity, protocol) {
  return new RPCClient({
    endpoint: srv.url, identity, protocols: [protocol], strictMode: true, reconnect: false,
  });
}

test('OCPP 1.6: boot, status, authorize, start, meter values, stop; energy stored', async () => {
  const c = client('CP16', 'ocpp1.6');
  await c.connect();
  assert.equal(c.protocol, 'ocpp1.6');
  const boot = await c.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'X1',
    firmwareVersion: '1.2.3' });
  assert.equal(boot.status, 'Accepted');
  assert.ok(boot.interval > 0);
  assert.deepEqual(await c.call('StatusNotification', { connectorId: 1, errorCode: 'NoError',
    status: 'Preparing' }), {});
  const auth = await c.call('Authorize', { idTag: 'TAG1' });
  assert.deepEqual(auth.idTagInfo, { status: 'Accepted', parentIdTag: 'GRP' });
  assert.equal((await c.call('Authorize', { idTag: 'NOPE' })).idTagInfo.status, 'Invalid');
  assert.equal((await c.call('Authorize', { idTag: 'BLOCKED' })).idTagInfo.status, 'Blocked');
  const ts = new Date().toISOString();
  const startReq = { connectorId: 1, idTag: 'TAG1', meterStart: 1000, timestamp: ts };
  const start = await c.call('StartTransaction', startReq);
  assert.equal(start.idTagInfo.status, 'Accepted');
  assert.ok(Number.isInteger(start.transactionId));
  // A retry (lost answer) gets the same transactionId and is stored once.
  const again = await c.call('StartTransaction', startReq);
  assert.equal(again.transactionId, start.transactionId);
  const tx = start.transactionId;
  const mv = { connectorId: 1, transactionId: tx, meterValue: [{ timestamp: new Date().toISOString(),
    sampledValue: [
      { value: '1500', measurand: 'Energy.Active.Import.Register', unit: 'Wh', context: 'Sample.Periodic' },
      { value: '16.1', measurand: 'Current.Import', unit: 'A', phase: 'L1', location: 'Outlet' }] }] };
  assert.deepEqual(await c.call('MeterValues', mv), {});
  assert.deepEqual(await c.call('MeterValues', mv), {}); // duplicate
  const stopReq = { transactionId: tx, idTag: 'TAG1', meterStop: 4200,
    timestamp: new Date().toISOString(), reason: 'Local' };
  const stop = await c.call('StopTransaction', stopReq);
  assert.equal(stop.idTagInfo.status, 'Accepted');
  assert.deepEqual(await c.call('StopTransaction', stopReq), stop);
  // Unknown and -1 transactions are acknowledged all the same.
  assert.deepEqual(await c.call('StopTransaction', { transactionId: -1, meterStop: 1,
    timestamp: ts }), {});
  const hb = await c.call('Heartbeat', {});
  assert.ok(Date.parse(hb.currentTime) > 0);
  await c.close();

  const rows = sql(db, `SELECT t.*, m.energy_wh FROM transactions t JOIN tx_meter m ON m.tx_id = t.id
    WHERE station_id='CP16'`);
  assert.equal(rows.length, 1, JSON.stringify(rows));
  assert.equal(rows[0].id, tx);
  assert.equal(rows[0].meter_start_wh, 1000);
  assert.equal(rows[0].meter_stop_wh, 4200);
  assert.equal(rows[0].energy_wh, 3200);
  assert.equal(rows[0].state, 1);
  const mvals = sql(db, `SELECT measurand, phase, location, unit, value FROM meter_values
    WHERE tx_id=${tx} AND measurand='Current.Import'`);
  assert.equal(mvals.length, 1, JSON.stringify(mvals));
  assert.equal(mvals[0].phase, 'L1');
  assert.equal(mvals[0].location, 'Outlet');
  const st = sql(db, `SELECT vendor, model, firmware FROM stations WHERE id='CP16'`);
  assert.deepEqual(st[0], { vendor: 'Acme', model: 'X1', firmware: '1.2.3' });
  // The stop for transaction -1 is kept for reconciliation (issue 3).
  const orphans = sql(db, `SELECT tx_id, meter_stop_wh FROM orphan_stops WHERE station_id='CP16'`);
  assert.deepEqual(orphans, [{ tx_id: -1, meter_stop_wh: 1 }]);
});

test('OCPP 2.0.1: boot, status, authorize, TransactionEvent Started/Updated/Ended', async () => {
  const c = client('CP201', 'ocpp2.0.1');
  await c.connect();
  const boot = await c.call('BootNotification', { reason: 'PowerUp',
    chargingStation: { model: 'M2', vendorName: 'Acme' } });
  assert.equal(boot.status, 'Accepted');
  assert.deepEqual(await c.call('StatusNotification', { timestamp: new Date().toISOString(),
    connectorStatus: 'Occupied', evseId: 1, connectorId: 1 }), {});
  const idToken = { idToken: 'RFID201', type: 'ISO14443' };
  assert.equal((await c.call('Authorize', { idToken })).idTokenInfo.status, 'Accepted');
  const uid = 'tx-' + Date.now();
  const ev = (eventType, seqNo, triggerReason, wh, more = {}) => ({
    eventType, timestamp: new Date().toISOString(), triggerReason, seqNo,
    transactionInfo: { transactionId: uid, ...(more.info || {}) },
    evse: { id: 1, connectorId: 1 },
    meterValue: [{ timestamp: new Date().toISOString(), sampledValue: [
      { value: wh, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } }] }],
    ...(more.top || {}),
  });
  const started = await c.call('TransactionEvent', ev('Started', 0, 'Authorized', 500,
    { top: { idToken } }));
  assert.equal(started.idTokenInfo.status, 'Accepted');
  const upd = ev('Updated', 1, 'MeterValuePeriodic', 2500);
  assert.deepEqual(await c.call('TransactionEvent', upd), {});
  assert.deepEqual(await c.call('TransactionEvent', upd), {}); // retry: stored once
  assert.deepEqual(await c.call('TransactionEvent', ev('Ended', 2, 'EVCommunicationLost', 3700,
    { info: { stoppedReason: 'EVDisconnected' } })), {});
  await c.close();
  const rows = sql(db, `SELECT t.*, m.energy_wh FROM transactions t JOIN tx_meter m ON m.tx_id = t.id
    WHERE station_id='CP201'`);
  assert.equal(rows.length, 1, JSON.stringify(rows));
  assert.equal(rows[0].tx_uid, uid);
  assert.equal(rows[0].energy_wh, 3200);
  assert.equal(rows[0].state, 1);
  assert.equal(rows[0].last_seq_no, 2);
  const evs = sql(db, `SELECT COUNT(*) AS n FROM transaction_events WHERE tx_id=${rows[0].id}`);
  assert.equal(evs[0].n, 3);
});

test('a Pending station gets Pending, and SecurityError for other messages', async () => {
  const c = client('CPPEND', 'ocpp1.6');
  await c.connect();
  const boot = await c.call('BootNotification', { chargePointVendor: 'A', chargePointModel: 'B' });
  assert.equal(boot.status, 'Pending');
  await assert.rejects(c.call('Heartbeat', {}), (e) => e.rpcErrorCode === 'SecurityError');
  await c.close();
});

test('unknown stations are refused by default', async () => {
  const c = client('NOBODY', 'ocpp1.6');
  await assert.rejects(c.connect());
});
