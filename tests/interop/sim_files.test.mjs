// sim_files.test.mjs — firmware download and diagnostics/log upload over real HTTP:
// `ladewerk sim` against an ocpp-rpc RPCServer (strict mode) as the CSMS and a tiny node
// http server on loopback that serves the firmware and takes the uploads. Checks the
// status walk (Downloading → Downloaded → [SignatureVerified] → Installing → Installed,
// DownloadFailed / InvalidSignature; Uploading → Uploaded / UploadFailed) and what reached
// the file server (the GET, the multipart POST with the generated log, the PUT fallback).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sign } from 'node:crypto';
import { spawnSim, stopSim } from './lib/sim_proc.mjs';

const require = createRequire(import.meta.url);
const { RPCServer } = require('ocpp-rpc');
const BIN = process.env.LADEWERK_BIN || 'build/ladewerk';
const FIRMWARE = Buffer.from(Array.from({ length: 70000 }, (_, i) => (i * 31) & 0xff));

function makeCsms(protocol) {
  const csms = { received: [], failures: [], client: null, boots: 0, waiters: [] };
  const server = new RPCServer({ protocols: [protocol], strictMode: true, callTimeoutMs: 10000 });
  server.on('client', (client) => {
    csms.client = client;
    client.on('strictValidationFailure', (e) => csms.failures.push(`${e.method}: ${e.error?.message}`));
    client.handle(({ method, params }) => {
      const rec = { method, params };
      csms.received.push(rec);
      if (method === 'BootNotification') csms.boots++;
      // each message satisfies at most one waiter, and none once a waitFor took it
      setImmediate(() => {
        if (rec.used) return;
        const w = csms.waiters.find((x) => x.pred(method, params));
        if (!w) return;
        csms.waiters.splice(csms.waiters.indexOf(w), 1);
        rec.used = true;
        w.resolve(params);
      });
      const now = new Date().toISOString();
      if (method === 'BootNotification') return { status: 'Accepted', currentTime: now, interval: 300 };
      if (method === 'Heartbeat') return { currentTime: now };
      return {};
    });
  });
  csms.server = server;
  // the next message matching pred that was not consumed yet
  csms.waitFor = (pred, what, ms = 20000) => {
    const seen = csms.received.find((r) => !r.used && pred(r.method, r.params));
    if (seen) { seen.used = true; return Promise.resolve(seen.params); }
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
      csms.waiters.push({ pred, resolve: (p) => { clearTimeout(t); resolve(p); } });
    });
  };
  csms.statuses = async (action, want, extra = () => true) => {
    for (const s of want) {
      const p = await csms.waitFor((m, q) => m === action && extra(q), `${action} ${s}`);
      assert.equal(p.status, s, `${action}: expected ${s}`);
    }
  };
  csms.call = (method, params) => csms.client.call(method, params);
  return csms;
}

// The file server: GET /fw.bin, /missing (404); POST or PUT /up; /put-only refuses POST.
async function fileServer() {
  const reqs = [];
  const srv = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      reqs.push({ method: req.method, url: req.url, headers: req.headers, body });
      if (req.method === 'GET' && req.url === '/fw.bin') return res.end(FIRMWARE);
      if (req.url === '/put-only' && req.method !== 'PUT') { res.statusCode = 405; return res.end(); }
      if ((req.method === 'POST' || req.method === 'PUT') && (req.url === '/up' || req.url === '/put-only')) return res.end('stored');
      res.statusCode = 404;
      res.end('no such file');
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return { reqs, base: `http://127.0.0.1:${srv.address().port}`, close: () => new Promise((r) => { srv.closeAllConnections?.(); srv.close(r); }) };
}

async function withSim(protocol, version, script) {
  const csms = makeCsms(protocol);
  const files = await fileServer();
  const http = await csms.server.listen(0, '127.0.0.1');
  const sim = spawnSim(BIN, ['--url', `ws://127.0.0.1:${http.address().port}/ocpp`, '--id', 'FILES1',
    '--ocpp', version, '--connectors', '1', '--duration', '100', '-v']);
  try {
    await csms.waitFor((m) => m === 'BootNotification', 'boot');
    await script(csms, files);
    assert.deepEqual(csms.failures, [], 'strict-mode validation failures');
  } catch (e) {
    e.message += `\n--- sim output ---\n${sim.log.slice(-4000)}`;
    throw e;
  } finally {
    await stopSim(sim);
    await csms.server.close({ force: true, awaitPending: false });
    await files.close();
  }
}

// a multipart/form-data body with exactly one file part: its filename and content
function filePart(r) {
  const m = /boundary=([^;]+)/.exec(r.headers['content-type'] || '');
  assert.ok(m, `multipart content type, got ${r.headers['content-type']}`);
  const parts = r.body.toString('latin1').split(`--${m[1]}`);
  assert.equal(parts.at(-1).trim(), '--', 'closing boundary');
  const inner = parts.slice(1, -1);
  assert.equal(inner.length, 1, 'one part');
  const [head, ...rest] = inner[0].split('\r\n\r\n');
  const name = /filename="([^"]+)"/.exec(head);
  assert.ok(name, 'part has a filename');
  return { filename: name[1], content: rest.join('\r\n\r\n').replace(/\r\n$/, '') };
}

const now = () => new Date().toISOString();

test('OCPP 1.6: firmware over HTTP GET, diagnostics over HTTP POST/PUT', { timeout: 120000 }, async () => {
  await withSim('ocpp1.6', '1.6', async (csms, files) => {
    // a missing file and a dead server: DownloadFailed
    await csms.call('UpdateFirmware', { location: `${files.base}/missing`, retrieveDate: now() });
    await csms.statuses('FirmwareStatusNotification', ['Downloading', 'DownloadFailed']);
    await csms.call('UpdateFirmware', { location: 'http://127.0.0.1:1/fw.bin', retrieveDate: now() });
    await csms.statuses('FirmwareStatusNotification', ['Downloading', 'DownloadFailed']);

    // diagnostics: a multipart POST holding the generated log
    let r = await csms.call('GetDiagnostics', { location: `${files.base}/up` });
    await csms.statuses('DiagnosticsStatusNotification', ['Uploading', 'Uploaded']);
    const post = files.reqs.find((x) => x.method === 'POST' && x.url === '/up');
    assert.ok(post, 'the log was POSTed');
    const part = filePart(post);
    assert.equal(part.filename, r.fileName);
    assert.match(part.content, /station=FILES1/);
    assert.match(part.content, /ocpp=1\.6/);

    // a server that only takes PUT: the raw file goes up with PUT
    r = await csms.call('GetDiagnostics', { location: `${files.base}/put-only` });
    await csms.statuses('DiagnosticsStatusNotification', ['Uploading', 'Uploaded']);
    const put = files.reqs.find((x) => x.method === 'PUT' && x.url === '/put-only');
    assert.ok(put, 'the log was PUT');
    assert.match(put.body.toString(), /station=FILES1/);

    // nobody listening: UploadFailed
    await csms.call('GetDiagnostics', { location: 'http://127.0.0.1:1/up' });
    await csms.statuses('DiagnosticsStatusNotification', ['Uploading', 'UploadFailed']);

    // the real thing: downloaded, installed, and the station reboots
    const boots = csms.boots;
    await csms.call('UpdateFirmware', { location: `${files.base}/fw.bin`, retrieveDate: now() });
    await csms.statuses('FirmwareStatusNotification', ['Downloading', 'Downloaded', 'Installing', 'Installed']);
    assert.ok(files.reqs.some((x) => x.method === 'GET' && x.url === '/fw.bin'), 'firmware fetched');
    await csms.waitFor((m) => m === 'BootNotification' && csms.boots > boots, 'boot after firmware');
  });
});

test('OCPP 2.0.1: signed firmware verified over the downloaded bytes, log upload', { timeout: 120000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lw-fw-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-subj', '/CN=Ladewerk firmware signer', '-days', '2'], { stdio: 'ignore' });
    const key = readFileSync(join(dir, 'k.pem'), 'utf8');
    const cert = readFileSync(join(dir, 'c.pem'), 'utf8');
    const good = sign('sha256', FIRMWARE, key).toString('base64');
    const bad = sign('sha256', Buffer.from('something else'), key).toString('base64');
    await withSim('ocpp2.0.1', '2.0.1', async (csms, files) => {
      const fw = (requestId, signature) => ({ requestId, firmware: { location: `${files.base}/fw.bin`, retrieveDateTime: now(), signingCertificate: cert, signature } });
      assert.equal((await csms.call('UpdateFirmware', fw(1, bad))).status, 'Accepted');
      await csms.statuses('FirmwareStatusNotification', ['Downloading', 'Downloaded', 'InvalidSignature'], (p) => p.requestId === 1);

      let r = await csms.call('GetLog', { logType: 'DiagnosticsLog', requestId: 7, log: { remoteLocation: `${files.base}/up` } });
      assert.equal(r.status, 'Accepted');
      await csms.statuses('LogStatusNotification', ['Uploading', 'Uploaded'], (p) => p.requestId === 7);
      const part = filePart(files.reqs.find((x) => x.method === 'POST'));
      assert.equal(part.filename, r.filename);
      assert.match(part.content, /ocpp=2\.0\.1/);
      r = await csms.call('GetLog', { logType: 'DiagnosticsLog', requestId: 8, log: { remoteLocation: `${files.base}/missing` } });
      await csms.statuses('LogStatusNotification', ['Uploading', 'UploadFailure'], (p) => p.requestId === 8);

      const boots = csms.boots;
      assert.equal((await csms.call('UpdateFirmware', fw(2, good))).status, 'Accepted');
      await csms.statuses('FirmwareStatusNotification', ['Downloading', 'Downloaded', 'SignatureVerified', 'Installing', 'Installed'], (p) => p.requestId === 2);
      const boot = await csms.waitFor((m) => m === 'BootNotification' && csms.boots > boots, 'boot after firmware');
      assert.equal(boot.reason, 'FirmwareUpdate');
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
