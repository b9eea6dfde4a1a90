// sim_journal_crash.test.mjs — the offline journal with a real process: `ladewerk sim`
// (OCPP 2.0.1, --journal DIR) starts a transaction, loses its connection while charging
// goes on (TransactionEvent Updated every second is queued in the journal), and is killed
// with SIGKILL. A new sim process over the same journal reconnects and replays; the CSMS
// (ocpp-rpc, strict mode) must receive every transaction message exactly once, in order,
// the ones from the offline time marked offline, and the transaction ended with PowerLoss.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const { RPCServer } = require('ocpp-rpc');
const BIN = process.env.LADEWERK_BIN || 'build/ladewerk';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('journal: kill -9 while offline, restart, every TransactionEvent exactly once', { timeout: 90000 }, async () => {
  const events = [];
  const failures = [];
  let boots = 0;
  const server = new RPCServer({ protocols: ['ocpp2.0.1'], strictMode: true, callTimeoutMs: 10000 });
  server.on('client', (client) => {
    client.on('strictValidationFailure', (e) => failures.push(`${e.method}: ${e.error?.message}`));
    client.handle(async ({ method, params }) => {
      const now = new Date().toISOString();
      if (method === 'BootNotification') {
        boots++;
        if (boots === 1) {
          // sample every second (persisted by the station in its journal)
          setTimeout(() => client.call('SetVariables', { setVariableData: [{ attributeValue: '1',
            component: { name: 'SampledDataCtrlr' }, variable: { name: 'TxUpdatedInterval' } }] }).catch(() => {}), 50);
        }
        return { status: 'Accepted', currentTime: now, interval: 300 };
      }
      if (method === 'Heartbeat') return { currentTime: now };
      if (method === 'Authorize') return { idTokenInfo: { status: 'Accepted' } };
      if (method === 'TransactionEvent') {
        events.push(params);
        return params.idToken ? { idTokenInfo: { status: 'Accepted' } } : {};
      }
      return {};
    });
  });
  const http = await server.listen(0, '127.0.0.1');
  const port = http.address().port;
  const dir = mkdtempSync(join(tmpdir(), 'lw-crash-'));
  const s1 = join(dir, 'charge.txt'), s2 = join(dir, 'idle.txt');
  writeFileSync(s1, 'wait 1s\nplug 1\nauth 1 CRASH1\ncharge 1 11 2s\noffline 1h\nwait 1h\n');
  writeFileSync(s2, 'wait 1h\n');
  const args = (scen) => ['sim', '--url', `ws://127.0.0.1:${port}/ocpp`, '--id', 'CRASH1', '--ocpp', '2.0.1',
    '--scenario', scen, '--journal', join(dir, 'j'), '--duration', '60'];
  let log = '';
  const run = (scen) => {
    const p = spawn(BIN, args(scen), { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout.on('data', (d) => { log += d; });
    p.stderr.on('data', (d) => { log += d; });
    return p;
  };
  try {
    const first = run(s1);
    // online part: Started (and maybe an Updated) arrive live
    for (let i = 0; i < 100 && !events.some((e) => e.eventType === 'Started'); i++) await sleep(100);
    assert.ok(events.some((e) => e.eventType === 'Started'), 'transaction started');
    await sleep(6000); // offline for a few seconds: Updated events pile up in the journal
    const liveCount = events.length;
    const journal = readFileSync(join(dir, 'j', 'CRASH1.journal'), 'utf8');
    assert.ok(journal.length > 0);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    assert.equal(events.length, liveCount, 'nothing was delivered while offline');

    const second = run(s2);
    for (let i = 0; i < 150 && !events.some((e) => e.eventType === 'Ended'); i++) await sleep(100);
    await sleep(500);
    second.kill('SIGTERM');
    await new Promise((r) => second.once('exit', r));

    const txIds = new Set(events.map((e) => e.transactionInfo.transactionId));
    assert.equal(txIds.size, 1, 'one transaction');
    const seqs = events.map((e) => e.seqNo);
    assert.deepEqual(seqs, [...seqs.keys()], 'seqNo 0..n, each exactly once, in order');
    assert.ok(events.length - liveCount >= 3, `queued while offline: ${events.length - liveCount}`);
    assert.equal(events[0].eventType, 'Started');
    const last = events[events.length - 1];
    assert.equal(last.eventType, 'Ended');
    assert.equal(last.transactionInfo.stoppedReason, 'PowerLoss');
    for (const e of events.slice(liveCount)) assert.equal(e.offline, true, `seqNo ${e.seqNo} marked offline`);
    // the meter only grows
    const energy = events.map((e) => e.meterValue?.[0]?.sampledValue?.find((v) => v.measurand === 'Energy.Active.Import.Register')?.value)
      .filter((v) => v !== undefined);
    for (let i = 1; i < energy.length; i++) assert.ok(energy[i] >= energy[i - 1]);
    assert.deepEqual(failures, []);
  } catch (e) {
    e.message += `\n--- sim output ---\n${log.slice(-3000)}`;
    throw e;
  } finally {
    await server.close({ force: true, awaitPending: false });
    rmSync(dir, { recursive: true, force: true });
  }
});
