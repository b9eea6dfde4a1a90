// tests/integration/durability.test.mjs — "acknowledged means durable": several OCPP 1.6
// stations (ocpp-rpc, strict mode) run transactions with meter values as fast as they can;
// the server is killed with SIGKILL in the middle; after a restart every StartTransaction,
// MeterValues and StopTransaction whose answer a station received is in the database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { RPCClient } from 'ocpp-rpc';
import { tempDir, stationAdd, startServer, sql, cleanup } from './lib/server.mjs';

const STATIONS = 4;

test('kill -9 under load loses no acknowledged transaction message', async () => {
  const dir = tempDir();
  const db = join(dir, 'lw.db');
  for (let i = 0; i < STATIONS; i++) stationAdd(db, `K${i}`, ['--profile', '0']);
  const srv = await startServer(db, ['--log-level', 'warn']);
  const acked = { starts: [], meters: [], stops: [] };
  let running = true;

  async function station(i) {
    const c = new RPCClient({ endpoint: srv.url, identity: `K${i}`, protocols: ['ocpp1.6'],
      strictMode: true, reconnect: false, callTimeoutMs: 5000 });
    c.on('error', () => {});
    await c.connect();
    await c.call('BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' });
    let wh = 0;
    try {
      while (running) {
        const start = await c.call('StartTransaction', { connectorId: 1, idTag: `T${i}`,
          meterStart: wh, timestamp: new Date().toISOString() });
        acked.starts.push(start.transactionId);
        for (let k = 0; k < 5 && running; k++) {
          wh += 10;
          const tag = `${i}-${wh}`;
          await c.call('MeterValues', { connectorId: 1, transactionId: start.transactionId,
            meterValue: [{ timestamp: new Date().toISOString(), sampledValue: [
              { value: String(wh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
              { value: tag, measurand: 'Power.Active.Import', unit: 'W', context: 'Other' }] }] });
          acked.meters.push({ tx: start.transactionId, tag });
        }
        await c.call('StopTransaction', { transactionId: start.transactionId, meterStop: wh,
          timestamp: new Date().toISOString() });
        acked.stops.push(start.transactionId);
      }
    } catch {
      // the server died under us: calls in flight were never acknowledged
    }
    c.close({ force: true }).catch(() => {});
  }

  const loads = [];
  for (let i = 0; i < STATIONS; i++) loads.push(station(i));
  await new Promise((r) => setTimeout(r, 1500));
  await srv.kill();
  running = false;
  await Promise.all(loads);
  assert.ok(acked.starts.length > 0 && acked.meters.length > 0,
    `load produced ${acked.starts.length} starts, ${acked.meters.length} meter values`);

  // Restart on the same file (recovery of the WAL), then stop it and read.
  const again = await startServer(db, ['--log-level', 'warn']);
  await again.stop();

  const txs = new Map(sql(db, 'SELECT id, state FROM transactions').map((r) => [r.id, r]));
  for (const id of acked.starts) assert.ok(txs.has(id), `acknowledged transaction ${id} missing`);
  for (const id of acked.stops) assert.equal(txs.get(id)?.state, 1, `acknowledged stop of ${id} missing`);
  const tags = new Set(sql(db, "SELECT value FROM meter_values WHERE measurand='Power.Active.Import'")
    .map((r) => r.value));
  const missing = acked.meters.filter((m) => !tags.has(m.tag));
  assert.equal(missing.length, 0, `acknowledged meter values missing: ${JSON.stringify(missing.slice(0, 5))}`);
  cleanup(dir);
});
