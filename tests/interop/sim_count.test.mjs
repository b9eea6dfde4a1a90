// sim_count.test.mjs — `ladewerk sim --count N` spread over several processes: with the
// hidden --per-process 10, 30 stations run in 3 forked processes against an ocpp-rpc
// RPCServer (strict mode). Every station must boot (30 distinct ids seen by the CSMS), and
// the parent must print one combined total gathered from its children's pipes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { RPCServer } = require('ocpp-rpc');
const BIN = process.env.LADEWERK_BIN || 'build/ladewerk';

test('--count 30 over 3 processes: all boot, one combined total', { timeout: 120000 }, async () => {
  const booted = new Set();
  const statused = new Set();
  const failures = [];
  let allBooted;
  const done = new Promise((r) => { allBooted = r; });
  const server = new RPCServer({ protocols: ['ocpp2.0.1'], strictMode: true });
  server.on('client', (client) => {
    client.on('strictValidationFailure', (e) => failures.push(`${client.identity} ${e.method}: ${e.error?.message}`));
    client.handle(({ method }) => {
      const now = new Date().toISOString();
      if (method === 'BootNotification') {
        booted.add(client.identity);
        return { status: 'Accepted', currentTime: now, interval: 300 };
      }
      // a status after the boot: the station has taken the Accepted answer
      if (method === 'StatusNotification') {
        statused.add(client.identity);
        if (statused.size === 30) allBooted();
      }
      if (method === 'Heartbeat') return { currentTime: now };
      return {};
    });
  });
  const http = await server.listen(0, '127.0.0.1');
  const sim = spawn(BIN, ['sim', '--url', `ws://127.0.0.1:${http.address().port}/ocpp`, '--id', 'CNT001',
    '--ocpp', '2.0.1', '--connectors', '1', '--count', '30', '--per-process', '10', '--duration', '60'],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  sim.stdout.on('data', (d) => { log += d; });
  sim.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((r) => sim.once('exit', (code) => r(code)));
  try {
    let timer;
    await Promise.race([done, new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`only ${statused.size}/30 booted and reported status`)), 60000); })]);
    clearTimeout(timer);
    // the parent passes SIGTERM on to its children, which stop and report to it
    const children = (log.match(/over (\d+) processes/) || [])[1];
    assert.equal(children, '3', 'three processes');
    process.kill(sim.pid, 'SIGTERM');
    const kill = setTimeout(() => sim.kill('SIGKILL'), 20000);
    await exited;
    clearTimeout(kill);
    assert.equal(booted.size, 30);
    for (let i = 1; i <= 30; i++) assert.ok(booted.has(`CNT${String(i).padStart(3, '0')}`), `CNT${i} booted`);
    const total = /sim: total .*connected=\d+\/30 booted=(\d+) calls=(\d+)/.exec(log);
    assert.ok(total, 'a combined total line');
    assert.equal(total[1], '30', 'the total counts 30 booted stations');
    assert.match(log, /sim: total over 3\/3 processes/);
    assert.ok(Number(total[2]) >= 30, 'at least a boot per station counted');
    assert.deepEqual(failures, []);
  } catch (e) {
    e.message += `\n--- sim output ---\n${log.slice(-3000)}`;
    throw e;
  } finally {
    if (sim.exitCode === null) sim.kill('SIGKILL');
    await server.close({ force: true, awaitPending: false });
  }
});
