// sim_ocpp_rpc.test.mjs — `ladewerk sim` against an independent CSMS built on ocpp-rpc
// (npm, RPCServer with strictMode: every frame both ways is checked against the OCA
// schemas bundled with ocpp-rpc). For OCPP 1.6 and 2.0.1 the CSMS accepts the boot, records
// what the station sends, and runs a script of CSMS-initiated calls (configuration, remote
// start and stop, trigger, availability, local list, reservation, smart charging,
// diagnostics/logs, firmware, reset), checking the answers and the follow-up messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { spawnSim, stopSim } from './lib/sim_proc.mjs';

const require = createRequire(import.meta.url);
const { RPCServer } = require('ocpp-rpc');
const BIN = process.env.LADEWERK_BIN || 'build/ladewerk';

// A CSMS that records everything and lets the script wait for a message.
function makeCsms(protocol) {
  const csms = { received: [], failures: [], client: null, boots: 0, waiters: [], nextTx: 1000 };
  const server = new RPCServer({ protocols: [protocol], strictMode: true, callTimeoutMs: 10000 });
  server.on('client', (client) => {
    csms.client = client;
    client.on('strictValidationFailure', (e) => csms.failures.push(`${e.method}: ${e.error?.message}`));
    client.handle(({ method, params }) => {
      csms.received.push({ method, params });
      if (method === 'BootNotification') csms.boots++;
      setImmediate(() => {
        for (const w of [...csms.waiters]) {
          if (w.pred(method, params)) {
            csms.waiters.splice(csms.waiters.indexOf(w), 1);
            w.resolve(params);
          }
        }
      });
      const now = new Date().toISOString();
      switch (method) {
        case 'BootNotification': return { status: 'Accepted', currentTime: now, interval: 300 };
        case 'Heartbeat': return { currentTime: now };
        case 'Authorize':
          return protocol === 'ocpp1.6' ? { idTagInfo: { status: 'Accepted' } } : { idTokenInfo: { status: 'Accepted' } };
        case 'StartTransaction': return { transactionId: csms.nextTx++, idTagInfo: { status: 'Accepted' } };
        case 'StopTransaction': return {};
        case 'TransactionEvent': return params.idToken ? { idTokenInfo: { status: 'Accepted' } } : {};
        default: return {};
      }
    });
  });
  csms.server = server;
  csms.waitFor = (pred, what, ms = 15000) => {
    const seen = csms.received.find((r) => pred(r.method, r.params) && !r.used);
    if (seen) { seen.used = true; return Promise.resolve(seen.params); }
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
      csms.waiters.push({ pred, resolve: (p) => { clearTimeout(t); const r = csms.received.findLast((x) => x.params === p); if (r) r.used = true; resolve(p); } });
    });
  };
  csms.msg = (m, extra = () => true) => csms.waitFor((method, p) => method === m && extra(p), m);
  csms.call = (method, params) => csms.client.call(method, params);
  return csms;
}

// A loopback file server for firmware downloads and log uploads (the sim does real HTTP).
async function fileServer() {
  const srv = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/fw.bin') res.end(Buffer.alloc(4096, 7));
      else if (req.method === 'POST' || req.method === 'PUT') res.end('ok');
      else { res.statusCode = 404; res.end(); }
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${srv.address().port}`, close: () => new Promise((r) => srv.close(r)) };
}

async function withSim(protocol, version, script) {
  const csms = makeCsms(protocol);
  const files = await fileServer();
  csms.files = files.base;
  const http = await csms.server.listen(0, '127.0.0.1');
  const port = http.address().port;
  const dir = mkdtempSync(join(tmpdir(), 'lw-sim-'));
  const scen = join(dir, 'scenario.txt');
  writeFileSync(scen, '# the EV is plugged in at connector 1 and waits\nplug 1\npower 1 11\nwait 1h\n');
  const sim = spawnSim(BIN, ['--url', `ws://127.0.0.1:${port}/ocpp`, '--id', 'SIM1',
    '--ocpp', version, '--connectors', '2', '--scenario', scen, '--duration', '120', '-v']);
  try {
    let timer;
    const limit = new Promise((_, rej) => { timer = setTimeout(() => rej(new Error('script took over 90 s')), 90000); });
    await Promise.race([(async () => { await csms.msg('BootNotification'); await script(csms); })(), limit]);
    clearTimeout(timer);
    assert.deepEqual(csms.failures, [], 'strict-mode validation failures');
  } catch (e) {
    e.message += `\n--- sim output ---\n${sim.log.slice(-4000)}`;
    throw e;
  } finally {
    await stopSim(sim);
    await csms.server.close({ force: true, awaitPending: false });
    await files.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const inAnHour = () => new Date(Date.now() + 3600e3).toISOString();

test('OCPP 1.6: ocpp-rpc CSMS script against ladewerk sim', { timeout: 120000 }, async () => {
  await withSim('ocpp1.6', '1.6', async (csms) => {
    // the boot is followed by a status for connector 0, 1 and 2
    await csms.msg('StatusNotification', (p) => p.connectorId === 2);

    // configuration: read-write and read-only keys
    let r = await csms.call('GetConfiguration', { key: ['HeartbeatInterval', 'NumberOfConnectors', 'Nope'] });
    assert.equal(r.configurationKey.find((k) => k.key === 'NumberOfConnectors').value, '2');
    assert.equal(r.configurationKey.find((k) => k.key === 'NumberOfConnectors').readonly, true);
    assert.deepEqual(r.unknownKey, ['Nope']);
    assert.equal((await csms.call('ChangeConfiguration', { key: 'HeartbeatInterval', value: '120' })).status, 'Accepted');
    assert.equal((await csms.call('ChangeConfiguration', { key: 'NumberOfConnectors', value: '5' })).status, 'Rejected');
    assert.equal((await csms.call('ChangeConfiguration', { key: 'Unknown', value: '5' })).status, 'NotSupported');
    r = await csms.call('GetConfiguration', { key: ['HeartbeatInterval'] });
    assert.equal(r.configurationKey[0].value, '120');

    // remote start: the EV is plugged, so a transaction starts
    assert.equal((await csms.call('RemoteStartTransaction', { connectorId: 1, idTag: 'RT1' })).status, 'Accepted');
    const start = await csms.msg('StartTransaction');
    assert.equal(start.idTag, 'RT1');
    assert.equal(start.connectorId, 1);
    const txId = csms.nextTx - 1;
    await csms.msg('StatusNotification', (p) => p.connectorId === 1 && p.status === 'Charging');

    // trigger
    assert.equal((await csms.call('TriggerMessage', { requestedMessage: 'MeterValues', connectorId: 1 })).status, 'Accepted');
    const mv = await csms.msg('MeterValues', (p) => p.meterValue[0].sampledValue[0].context === 'Trigger');
    assert.equal(mv.transactionId, txId);
    assert.equal((await csms.call('TriggerMessage', { requestedMessage: 'Heartbeat' })).status, 'Accepted');
    await csms.msg('Heartbeat');

    // smart charging: a TxProfile for the running transaction, then the composite schedule
    assert.equal((await csms.call('SetChargingProfile', {
      connectorId: 1,
      csChargingProfiles: {
        chargingProfileId: 11, transactionId: txId, stackLevel: 0, chargingProfilePurpose: 'TxProfile',
        chargingProfileKind: 'Relative',
        chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 10 }] },
      },
    })).status, 'Accepted');
    r = await csms.call('GetCompositeSchedule', { connectorId: 1, duration: 600, chargingRateUnit: 'A' });
    assert.equal(r.status, 'Accepted');
    assert.equal(r.chargingSchedule.chargingSchedulePeriod[0].limit, 10);
    assert.equal((await csms.call('ClearChargingProfile', { id: 11 })).status, 'Accepted');

    // remote stop
    assert.equal((await csms.call('RemoteStopTransaction', { transactionId: txId })).status, 'Accepted');
    const stop = await csms.msg('StopTransaction');
    assert.equal(stop.transactionId, txId);
    assert.equal(stop.reason, 'Remote');
    assert.equal((await csms.call('RemoteStopTransaction', { transactionId: txId })).status, 'Rejected');

    // availability
    assert.equal((await csms.call('ChangeAvailability', { connectorId: 2, type: 'Inoperative' })).status, 'Accepted');
    await csms.msg('StatusNotification', (p) => p.connectorId === 2 && p.status === 'Unavailable');
    assert.equal((await csms.call('ChangeAvailability', { connectorId: 2, type: 'Operative' })).status, 'Accepted');
    await csms.msg('StatusNotification', (p) => p.connectorId === 2 && p.status === 'Available');

    // local list
    assert.equal((await csms.call('SendLocalList', {
      listVersion: 4, updateType: 'Full',
      localAuthorizationList: [{ idTag: 'L1', idTagInfo: { status: 'Accepted' } }],
    })).status, 'Accepted');
    assert.equal((await csms.call('GetLocalListVersion', {})).listVersion, 4);
    assert.equal((await csms.call('SendLocalList', { listVersion: 3, updateType: 'Differential' })).status, 'VersionMismatch');
    assert.equal((await csms.call('ClearCache', {})).status, 'Accepted');

    // reservation
    assert.equal((await csms.call('ReserveNow', { connectorId: 2, expiryDate: inAnHour(), idTag: 'R1', reservationId: 5 })).status, 'Accepted');
    await csms.msg('StatusNotification', (p) => p.connectorId === 2 && p.status === 'Reserved');
    assert.equal((await csms.call('ReserveNow', { connectorId: 1, expiryDate: inAnHour(), idTag: 'R1', reservationId: 6 })).status, 'Occupied');
    assert.equal((await csms.call('CancelReservation', { reservationId: 5 })).status, 'Accepted');
    assert.equal((await csms.call('CancelReservation', { reservationId: 5 })).status, 'Rejected');

    // others refused the spec's way
    assert.equal((await csms.call('DataTransfer', { vendorId: 'com.example' })).status, 'UnknownVendorId');
    assert.equal((await csms.call('UnlockConnector', { connectorId: 2 })).status, 'Unlocked');

    // diagnostics
    r = await csms.call('GetDiagnostics', { location: `${csms.files}/diag` });
    assert.ok(r.fileName);
    await csms.msg('DiagnosticsStatusNotification', (p) => p.status === 'Uploading');
    await csms.msg('DiagnosticsStatusNotification', (p) => p.status === 'Uploaded');

    // firmware: downloading .. installed, then the station reboots and boots again
    const boots = csms.boots;
    await csms.call('UpdateFirmware', { location: `${csms.files}/fw.bin`, retrieveDate: new Date().toISOString() });
    for (const s of ['Downloading', 'Downloaded', 'Installing', 'Installed'])
      await csms.msg('FirmwareStatusNotification', (p) => p.status === s);
    await csms.waitFor((m) => m === 'BootNotification' && csms.boots > boots, 'boot after firmware');

    // reset: closes, reconnects, boots again
    const boots2 = csms.boots;
    assert.equal((await csms.call('Reset', { type: 'Soft' })).status, 'Accepted');
    await csms.waitFor((m) => m === 'BootNotification' && csms.boots > boots2, 'boot after reset');
  });
});

test('OCPP 2.0.1: ocpp-rpc CSMS script against ladewerk sim', { timeout: 120000 }, async () => {
  await withSim('ocpp2.0.1', '2.0.1', async (csms) => {
    await csms.msg('StatusNotification', (p) => p.evseId === 2);

    // device model
    let r = await csms.call('GetVariables', { getVariableData: [
      { component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } },
      { component: { name: 'EVSE', evse: { id: 1 } }, variable: { name: 'AvailabilityState' } },
      { component: { name: 'Bogus' }, variable: { name: 'X' } },
    ] });
    assert.equal(r.getVariableResult[0].attributeStatus, 'Accepted');
    assert.equal(r.getVariableResult[1].attributeValue, 'Occupied'); // the EV is plugged
    assert.equal(r.getVariableResult[2].attributeStatus, 'UnknownComponent');
    r = await csms.call('SetVariables', { setVariableData: [
      { attributeValue: '120', component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } },
      { attributeValue: '5', component: { name: 'SmartChargingCtrlr' }, variable: { name: 'PeriodsPerSchedule' } },
    ] });
    assert.equal(r.setVariableResult[0].attributeStatus, 'Accepted');
    assert.equal(r.setVariableResult[1].attributeStatus, 'Rejected');
    assert.equal((await csms.call('GetBaseReport', { requestId: 1, reportBase: 'ConfigurationInventory' })).status, 'Accepted');
    const rep = await csms.msg('NotifyReport', (p) => p.requestId === 1);
    assert.ok(rep.reportData.some((d) => d.variable.name === 'HeartbeatInterval' && d.variableAttribute[0].value === '120'));

    // remote start / stop
    assert.equal((await csms.call('RequestStartTransaction', { evseId: 1, remoteStartId: 77, idToken: { idToken: 'RT1', type: 'Central' } })).status, 'Accepted');
    const started = await csms.msg('TransactionEvent', (p) => p.eventType === 'Started');
    assert.equal(started.transactionInfo.remoteStartId, 77);
    assert.equal(started.triggerReason, 'RemoteStart');
    const txId = started.transactionInfo.transactionId;

    assert.equal((await csms.call('TriggerMessage', { requestedMessage: 'TransactionEvent', evse: { id: 1 } })).status, 'Accepted');
    const trig = await csms.msg('TransactionEvent', (p) => p.triggerReason === 'Trigger');
    assert.equal(trig.seqNo, 1);
    assert.equal((await csms.call('TriggerMessage', { requestedMessage: 'BootNotification' })).status, 'Rejected');

    // smart charging
    assert.equal((await csms.call('SetChargingProfile', { evseId: 1, chargingProfile: {
      id: 21, stackLevel: 0, chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Relative', transactionId: txId,
      chargingSchedule: [{ id: 1, chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit: 7000 }] }],
    } })).status, 'Accepted');
    r = await csms.call('GetCompositeSchedule', { evseId: 1, duration: 300, chargingRateUnit: 'W' });
    assert.equal(r.status, 'Accepted');
    assert.equal(r.schedule.chargingSchedulePeriod[0].limit, 7000);
    assert.equal((await csms.call('GetChargingProfiles', { requestId: 3, chargingProfile: { chargingProfilePurpose: 'TxProfile' } })).status, 'Accepted');
    await csms.msg('ReportChargingProfiles', (p) => p.requestId === 3 && p.chargingProfile[0].id === 21);

    assert.equal((await csms.call('RequestStopTransaction', { transactionId: txId })).status, 'Accepted');
    const ended = await csms.msg('TransactionEvent', (p) => p.eventType === 'Ended');
    assert.equal(ended.transactionInfo.stoppedReason, 'Remote');
    assert.equal(ended.triggerReason, 'RemoteStop');

    // availability
    assert.equal((await csms.call('ChangeAvailability', { operationalStatus: 'Inoperative', evse: { id: 2 } })).status, 'Accepted');
    await csms.msg('StatusNotification', (p) => p.evseId === 2 && p.connectorStatus === 'Unavailable');
    assert.equal((await csms.call('ChangeAvailability', { operationalStatus: 'Operative', evse: { id: 2 } })).status, 'Accepted');
    await csms.msg('StatusNotification', (p) => p.evseId === 2 && p.connectorStatus === 'Available');

    // local list, cache
    assert.equal((await csms.call('SendLocalList', { versionNumber: 2, updateType: 'Full',
      localAuthorizationList: [{ idToken: { idToken: 'L1', type: 'ISO14443' }, idTokenInfo: { status: 'Accepted' } }] })).status, 'Accepted');
    assert.equal((await csms.call('GetLocalListVersion', {})).versionNumber, 2);
    assert.equal((await csms.call('ClearCache', {})).status, 'Accepted');

    // reservation
    assert.equal((await csms.call('ReserveNow', { id: 9, expiryDateTime: inAnHour(), idToken: { idToken: 'R1', type: 'ISO14443' }, evseId: 2 })).status, 'Accepted');
    await csms.msg('StatusNotification', (p) => p.evseId === 2 && p.connectorStatus === 'Reserved');
    assert.equal((await csms.call('CancelReservation', { reservationId: 9 })).status, 'Accepted');

    assert.equal((await csms.call('DataTransfer', { vendorId: 'com.example' })).status, 'UnknownVendorId');
    r = await csms.call('GetTransactionStatus', { transactionId: txId });
    assert.equal(r.ongoingIndicator, false);

    // logs
    r = await csms.call('GetLog', { logType: 'DiagnosticsLog', requestId: 4, log: { remoteLocation: `${csms.files}/logs` } });
    assert.equal(r.status, 'Accepted');
    await csms.msg('LogStatusNotification', (p) => p.requestId === 4 && p.status === 'Uploaded');

    // firmware, then a reboot
    const boots = csms.boots;
    assert.equal((await csms.call('UpdateFirmware', { requestId: 5, firmware: { location: `${csms.files}/fw.bin`, retrieveDateTime: new Date().toISOString() } })).status, 'Accepted');
    for (const s of ['Downloading', 'Downloaded', 'Installing', 'Installed'])
      await csms.msg('FirmwareStatusNotification', (p) => p.status === s && p.requestId === 5);
    const boot = await csms.waitFor((m, p) => m === 'BootNotification' && csms.boots > boots, 'boot after firmware');
    assert.equal(boot.reason, 'FirmwareUpdate');

    // reset
    const boots2 = csms.boots;
    assert.equal((await csms.call('Reset', { type: 'Immediate' })).status, 'Accepted');
    const b2 = await csms.waitFor((m) => m === 'BootNotification' && csms.boots > boots2, 'boot after reset');
    assert.equal(b2.reason, 'RemoteReset');
  });
});
