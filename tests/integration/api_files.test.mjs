// tests/integration/api_files.test.mjs — files and webhooks of `ladewerk serve`'s operator API,
// end to end: an operator uploads a firmware image through POST /api/v1/firmware, sends the
// `firmware` shortcut with its firmware_id to a station connected with the independent client
// ocpp-rpc (strict mode), and the station downloads the URL it got with node's http module
// (the SHA-256 must match the upload) and reports its progress; the firmware status history
// comes back through GET /api/v1/stations/{id}/firmware. Then the `diagnostics` shortcut
// opens an upload slot, the station POSTs a multipart/form-data file to the location it got,
// and the operator lists and downloads it through the API. A webhook receiver (a node http
// server on 127.0.0.1, configured with --webhook-url) gets the same events, in order, with
// increasing ids. OCPP 1.6 (UpdateFirmware / GetDiagnostics) and 2.0.1 (UpdateFirmware /
// GetLog with requestId).
//
// The simulator (`ladewerk sim`) makes no real HTTP transfers yet, so the station side here
// is ocpp-rpc plus node's http client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { join } from 'node:path';
import { RPCClient } from 'ocpp-rpc';
import { tempDir, tokenCreate, startServer, cleanup } from './lib/server.mjs';

let dir, db, srv, admin, operator, hook;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sha256 = (b) => createHash('sha256').update(b).digest('hex');

async function api(method, path, { token = operator, body, raw, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  const res = await fetch(srv.http + path, {
    method, headers: h, body: raw !== undefined ? raw : body === undefined ? undefined : JSON.stringify(body),
  });
  const buf = Buffer.from(await res.arrayBuffer());
  let json = null;
  try { json = JSON.parse(buf.toString('utf8')); } catch { /* a file */ }
  return { status: res.status, json, text: buf.toString('utf8'), buf, headers: res.headers };
}

// Polls fn until it returns a truthy value (bounded: 15 s), then returns it.
async function until(what, fn) {
  for (let i = 0; i < 300; i++) {
    const v = await fn();
    if (v) return v;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

// The webhook receiver: records every POST body in arrival order, answers 204.
function webhookReceiver() {
  const got = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      got.push({
        method: req.method, url: req.url, type: req.headers['x-ladewerk-event'],
        eventId: req.headers['x-ladewerk-event-id'], contentType: req.headers['content-type'],
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      });
      res.writeHead(204);
      res.end();
    });
  });
  return {
    got,
    start: () => new Promise((r) => server.listen(0, '127.0.0.1', () => r(server.address().port))),
    stop: () => { server.closeAllConnections?.(); return new Promise((r) => server.close(r)); },
  };
}

// GET url with node's http module (what a charger's firmware downloader does): the bytes.
function download(url) {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`GET ${url}: ${res.statusCode}`));
        else resolve(Buffer.concat(chunks));
      });
      res.on('error', reject);
    }).on('error', reject);
  });
}

before(async () => {
  dir = tempDir();
  db = join(dir, 'lw.db');
  hook = webhookReceiver();
  const hookPort = await hook.start();
  srv = await startServer(db, ['--webhook-url', `http://127.0.0.1:${hookPort}/hooks/ladewerk`]);
  admin = tokenCreate(db, 'admin');
  operator = tokenCreate(db, 'operator');
  for (const id of ['FW16', 'FW201']) {
    const r = await api('POST', '/api/v1/stations', { token: admin, body: { id, security_profile: 0 } });
    assert.equal(r.status, 201, r.text);
  }
});

after(async () => {
  if (srv) await srv.stop();
  if (hook) await hook.stop();
  cleanup(dir);
});

async function commandAnswered(id) {
  return until(`command ${id} answered`, async () => {
    const r = await api('GET', `/api/v1/commands/${id}`);
    assert.equal(r.status, 200, r.text);
    if (r.json.status === 'failed' || r.json.status === 'expired') throw new Error(`command ${id}: ${r.text}`);
    return r.json.status === 'answered' ? r.json : null;
  });
}

// One station's whole flow. v16: 1.6 (no requestIds), else 2.0.1 (requestId = command id).
async function filesFlow(id, v16) {
  const c = new RPCClient({
    endpoint: srv.url, identity: id, protocols: [v16 ? 'ocpp1.6' : 'ocpp2.0.1'], strictMode: true, reconnect: false,
  });
  const image = randomBytes(300 * 1024); // a firmware image
  const diag = Buffer.from(`diagnostics of ${id}\n` + 'log line\n'.repeat(2000));
  const station = { downloaded: null, work: [] };

  // The station's side: answer, then work (download / upload) and report progress.
  c.handle('UpdateFirmware', ({ params }) => {
    const location = v16 ? params.location : params.firmware.location;
    const requestId = v16 ? undefined : params.requestId;
    const st = (status) => c.call('FirmwareStatusNotification', v16 ? { status } : { status, requestId });
    station.work.push((async () => {
      await sleep(50);
      await st('Downloading');
      station.downloaded = await download(location);
      await st('Downloaded');
      await st('Installing');
      await st('Installed');
    })());
    return v16 ? {} : { status: 'Accepted' };
  });
  const upload = async (location) => {
    const form = new FormData();
    form.append('file', new Blob([diag], { type: 'application/gzip' }), 'diag.tar.gz');
    const r = await fetch(location, { method: 'POST', body: form });
    assert.ok(r.status >= 200 && r.status < 300, `upload to ${location}: ${r.status} ${await r.text()}`);
  };
  c.handle(v16 ? 'GetDiagnostics' : 'GetLog', ({ params }) => {
    const location = v16 ? params.location : params.log.remoteLocation;
    station.work.push((async () => {
      await sleep(50);
      if (v16) {
        await c.call('DiagnosticsStatusNotification', { status: 'Uploading' });
        await upload(location);
        await c.call('DiagnosticsStatusNotification', { status: 'Uploaded' });
      } else {
        await c.call('LogStatusNotification', { status: 'Uploading', requestId: params.requestId });
        await upload(location);
        await c.call('LogStatusNotification', { status: 'Uploaded', requestId: params.requestId });
      }
    })());
    return v16 ? { fileName: 'diag.tar.gz' } : { status: 'Accepted', filename: 'diag.tar.gz' };
  });

  await c.connect();
  if (v16) {
    await c.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'FW-1' });
  } else {
    await c.call('BootNotification', { reason: 'PowerUp', chargingStation: { vendorName: 'Acme', model: 'FW-2' } });
  }
  await until(`${id} online`, async () => (await api('GET', `/api/v1/stations/${id}`)).json?.online);

  // 1. the operator uploads the image (raw body, named by ?filename=)
  const up = await api('POST', `/api/v1/firmware?filename=acme-${id}-2.0.bin`, {
    raw: image, headers: { 'Content-Type': 'application/octet-stream' },
  });
  assert.equal(up.status, 201, up.text);
  assert.equal(up.json.sha256, sha256(image));
  assert.equal(up.json.size, image.length);
  assert.ok(up.json.url.startsWith(`${srv.http}/files/firmware/`), up.json.url);
  const list = await api('GET', '/api/v1/firmware');
  assert.ok(list.json.items.some((f) => f.id === up.json.id), list.text);

  // 2. UpdateFirmware with firmware_id: the station gets the image's URL and downloads it
  const fw = await api('POST', `/api/v1/stations/${id}/firmware`, { body: { firmware_id: up.json.id } });
  assert.equal(fw.status, 202, fw.text);
  assert.equal(fw.json.action, 'UpdateFirmware');
  const fwLoc = v16 ? fw.json.request.location : fw.json.request.firmware.location;
  assert.equal(fwLoc, up.json.url);
  if (!v16) assert.equal(fw.json.request.requestId, fw.json.id);
  await commandAnswered(fw.json.id);
  await until('firmware installed', async () => station.downloaded && station.work.length === 1 &&
    (await Promise.all(station.work), true));
  assert.equal(sha256(station.downloaded), sha256(image), 'the station downloaded the uploaded bytes');

  // 3. the firmware status history, newest first
  const hist = await api('GET', `/api/v1/stations/${id}/firmware`);
  assert.equal(hist.status, 200, hist.text);
  assert.equal(hist.json.station_id, id);
  assert.equal(hist.json.firmware_status.status, 'Installed', hist.text);
  const fwRows = hist.json.history.filter((h) => h.what === 'firmware');
  assert.deepEqual(fwRows.map((h) => h.status), ['Installed', 'Installing', 'Downloaded', 'Downloading']);
  for (const h of fwRows) assert.equal(h.request_id, v16 ? null : fw.json.id, JSON.stringify(h));
  const seqs = hist.json.history.map((h) => h.seq);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => b - a), 'newest first');
  const page = await api('GET', `/api/v1/stations/${id}/firmware?limit=2`);
  assert.equal(page.json.history.length, 2);
  assert.ok(page.json.next, 'a cursor to the next page');
  const page2 = await api('GET', `/api/v1/stations/${id}/firmware?limit=2&before=${page.json.next}`);
  assert.deepEqual(page2.json.history.map((h) => h.status), ['Downloaded', 'Downloading']);

  // 4. diagnostics: no location given, so the station uploads here
  const dg = await api('POST', `/api/v1/stations/${id}/diagnostics`, { body: {} });
  assert.equal(dg.status, 202, dg.text);
  assert.equal(dg.json.action, v16 ? 'GetDiagnostics' : 'GetLog');
  const dgLoc = v16 ? dg.json.request.location : dg.json.request.log.remoteLocation;
  assert.ok(dgLoc.startsWith(`${srv.http}/files/uploads/`), dgLoc);
  await commandAnswered(dg.json.id);
  await until('diagnostics uploaded', async () => station.work.length === 2 && (await Promise.all(station.work), true));

  const slots = await api('GET', `/api/v1/stations/${id}/uploads`);
  assert.equal(slots.status, 200, slots.text);
  const slot = slots.json.items.find((u) => u.command_id === dg.json.id);
  assert.ok(slot, slots.text);
  assert.equal(slot.what, v16 ? 'diagnostics' : 'log');
  assert.equal(slot.file.name, 'diag.tar.gz');
  assert.equal(slot.file.size, diag.length);
  assert.equal(slot.file.sha256, sha256(diag));
  const got = await api('GET', `/api/v1/uploads/${slot.token}`);
  assert.equal(got.status, 200);
  assert.ok(got.buf.equals(diag), 'the uploaded file comes back byte for byte');
  const hist2 = await api('GET', `/api/v1/stations/${id}/firmware`);
  assert.equal(hist2.json.upload_status.status, 'Uploaded', hist2.text);
  assert.deepEqual(hist2.json.history.slice(0, 2).map((h) => [h.what, h.status]),
    [[v16 ? 'diagnostics' : 'log', 'Uploaded'], [v16 ? 'diagnostics' : 'log', 'Uploading']]);

  await c.close();
  return { fwCmd: fw.json.id, dgCmd: dg.json.id, token: slot.token };
}

let runs = {};

test('OCPP 1.6: firmware upload, UpdateFirmware with firmware_id, status history; diagnostics upload', async () => {
  runs.FW16 = await filesFlow('FW16', true);
});

test('OCPP 2.0.1: the same with requestIds (UpdateFirmware, GetLog)', async () => {
  runs.FW201 = await filesFlow('FW201', false);
});

test('webhooks: every event POSTed as JSON, in order, the firmware flow among them', async () => {
  assert.ok(runs.FW16 && runs.FW201, 'the flows above ran');
  // the last event of the 2.0.1 flow is its disconnection
  await until('webhook: FW201 disconnected', () =>
    hook.got.find((h) => h.type === 'station.disconnected' && h.body.data.station_id === 'FW201'));
  for (const h of hook.got) {
    assert.equal(h.method, 'POST');
    assert.equal(h.url, '/hooks/ladewerk');
    assert.match(h.contentType, /^application\/json/);
    assert.equal(h.type, h.body.type);
    assert.equal(Number(h.eventId), h.body.id);
  }
  // one request at a time, in order: ids strictly increase with no gap (none were dropped)
  const ids = hook.got.map((h) => h.body.id);
  for (let i = 1; i < ids.length; i++) assert.equal(ids[i], ids[i - 1] + 1, `ids ${ids.join(',')}`);

  for (const [id, v16] of [['FW16', true], ['FW201', false]]) {
    const mine = hook.got.filter((h) => h.body.data.station_id === id).map((h) => h.body);
    const seq = mine.map((e) => {
      if (e.type === 'firmware.status') return `${e.data.what}:${e.data.status}`;
      if (e.type === 'command.result') return `${e.data.action}:${e.data.status}`;
      return e.type;
    });
    const dg = v16 ? 'diagnostics' : 'log';
    assert.deepEqual(seq.filter((s) => s !== 'connector.status'), [
      'station.connected',
      'UpdateFirmware:answered',
      'firmware:Downloading', 'firmware:Downloaded', 'firmware:Installing', 'firmware:Installed',
      `${v16 ? 'GetDiagnostics' : 'GetLog'}:answered`,
      `${dg}:Uploading`, 'upload.received', `${dg}:Uploaded`,
      'station.disconnected',
    ]);
    const fwEvents = mine.filter((e) => e.type === 'firmware.status' && e.data.what === 'firmware');
    for (const e of fwEvents) assert.equal(e.data.request_id, v16 ? null : runs[id].fwCmd, JSON.stringify(e));
    const upl = mine.find((e) => e.type === 'upload.received');
    assert.equal(upl.data.command_id, runs[id].dgCmd);
    assert.equal(upl.data.name, 'diag.tar.gz');
  }
});
