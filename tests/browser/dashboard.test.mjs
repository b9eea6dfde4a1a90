// tests/browser/dashboard.test.mjs — the dashboard in a real browser (Debian's chromium driven
// by playwright-core): log in with a token, watch a station come online and its connector
// status change live, start a charge from the station page, see the command's result, the
// transaction and its live chart appear. Screenshots go to tests/artefacts/ (gitignored).
//
// Two backends, one flow:
//  - "real": when $LADEWERK_BIN has `serve` and `sim`, the real server with a SQLite file, an
//    operator token from `ladewerk token create`, and one simulated 1.6 station whose
//    scenario plugs an EV in after it came online (see stationOnline below);
//  - "fake": otherwise (while serve/sim are being written), the real page files from
//    csms/web/assets and uPlot from node_modules, served by a small in-test fake of the REST
//    API and event stream, with the JSON shapes docs/api.md describes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const SRC = process.env.LADEWERK_SRC || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const BIN = process.env.LADEWERK_BIN || path.join(SRC, 'build/ladewerk');
const ARTEFACTS = path.join(SRC, 'tests/artefacts');
const CHROMIUM = '/usr/bin/chromium';

function hasCommand(name) {
  if (!fs.existsSync(BIN)) return false;
  const r = spawnSync(BIN, [name, '--help'], { timeout: 10000 });
  return r.status === 0;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
    s.on('error', reject);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitHttp(url, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try { const r = await fetch(url); if (r.status < 500) return; } catch { /* not yet */ }
    await sleep(100);
  }
  throw new Error('server did not answer at ' + url);
}

/* ---- the fake backend ------------------------------------------------------------------- */
function fakeBackend() {
  const TOKEN = 'fake-operator-token';
  const assets = path.join(SRC, 'csms/web/assets');
  const uplot = path.join(SRC, 'node_modules/uplot/dist');
  const files = {
    '/': [path.join(assets, 'index.html'), 'text/html'],
    '/app.js': [path.join(assets, 'app.js'), 'text/javascript'],
    '/app.css': [path.join(assets, 'app.css'), 'text/css'],
    '/uPlot.iife.min.js': [path.join(uplot, 'uPlot.iife.min.js'), 'text/javascript'],
    '/uPlot.min.css': [path.join(uplot, 'uPlot.min.css'), 'text/css'],
  };
  const now = () => new Date().toISOString();
  const st = {
    id: 'CP1', online: false, ocpp_version: '1.6', vendor: 'Ladewerk', model: 'Sim', serial: null,
    firmware_version: '1.0', last_seen: null, last_boot: null, created_at: now(), security_profile: 0,
    has_password: false, registration: 'Accepted', connectors: [],
  };
  let seq = 0;
  const events = [];
  const streams = new Set();
  const commands = new Map();
  let tx = null;
  function publish(type, data) {
    data.at = now();
    const e = { id: ++seq, type, data };
    events.push(e);
    for (const res of streams) res.write(`id: ${e.id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
  }
  function status(s) {
    st.connectors = [{ evse_id: 0, connector_id: 1, status: s, error_code: 'NoError', updated_at: now() }];
    publish('connector.status', { station_id: 'CP1', evse_id: 0, connector_id: 1, status: s, error_code: 'NoError' });
  }
  const timers = new Set();
  const later = (ms, fn) => { const t = setTimeout(() => { timers.delete(t); fn(); }, ms); timers.add(t); };
  function json(res, code, body) {
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  }
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const p = url.pathname;
    if (req.method === 'GET' && files[p]) {
      res.writeHead(200, { 'Content-Type': files[p][1] });
      res.end(fs.readFileSync(files[p][0]));
      return;
    }
    if (!p.startsWith('/api/v1/')) return json(res, 404, { error: 'not_found', detail: p });
    if (req.headers.authorization !== 'Bearer ' + TOKEN) return json(res, 401, { error: 'unauthorized', detail: 'bad token' });
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      if (p === '/api/v1/whoami') return json(res, 200, { role: 'operator' });
      if (p === '/api/v1/events') {
        res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
        res.write(': fake\n\n');
        streams.add(res);
        res.on('close', () => streams.delete(res));
        return;
      }
      if (p === '/api/v1/stations') return json(res, 200, { items: [st], next: null });
      if (p === '/api/v1/stations/CP1') return json(res, 200, st);
      if (p === '/api/v1/stations/CP1/journal') return json(res, 200, { items: [], unpaired_responses: [], next: null });
      if (p === '/api/v1/stations/CP1/remote-start' && req.method === 'POST') {
        const b = JSON.parse(body || '{}');
        const c = { id: commands.size + 1, station_id: 'CP1', action: 'RemoteStartTransaction', via: 'remote-start', status: 'sent',
          request: { idTag: b.id_token, connectorId: b.connector_id }, response: null, error: null, created_at: now() };
        commands.set(c.id, c);
        later(200, () => {
          c.status = 'answered'; c.response = { status: 'Accepted' };
          publish('command.result', { id: c.id, station_id: 'CP1', action: c.action, status: 'answered', result_status: 'Accepted', error_code: null });
          status('Charging');
          tx = { id: 1, transaction_uid: null, station_id: 'CP1', evse_id: 0, connector_id: 1, id_token: b.id_token, state: 'active',
            started_at: now(), stopped_at: null, meter_start_wh: 0, meter_stop_wh: null, energy_wh: 0, stop_reason: null, meter_samples: [] };
          publish('transaction.started', Object.assign({}, tx, { power_w: 0 }));
          let n = 0;
          const tick = () => {
            if (!tx || n++ >= 8) return;
            tx.energy_wh += 60;
            publish('transaction.updated', Object.assign({}, tx, { power_w: 7200 + n * 10 }));
            later(300, tick);
          };
          later(300, tick);
        });
        return json(res, 202, c);
      }
      const cm = p.match(/^\/api\/v1\/commands\/(\d+)$/);
      if (cm && commands.has(Number(cm[1]))) return json(res, 200, commands.get(Number(cm[1])));
      if (p === '/api/v1/transactions') {
        const items = tx && (!url.searchParams.get('state') || url.searchParams.get('state') === tx.state) ? [tx] : [];
        return json(res, 200, { items, next: null });
      }
      if (p === '/api/v1/transactions/1' && tx) return json(res, 200, tx);
      if (p === '/api/v1/id-tokens') return json(res, 200, { items: [{ id_token: 'TAG1', type: null, status: 'Accepted', expiry: null, group_id: null }], next: null });
      return json(res, 404, { error: 'not_found', detail: p });
    });
  });
  return {
    token: TOKEN,
    async start() {
      const port = await freePort();
      await new Promise((r) => server.listen(port, '127.0.0.1', r));
      this.url = `http://127.0.0.1:${port}/`;
    },
    // the simulated station: connects, then reports Available
    async stationOnline() {
      st.online = true; st.last_seen = now();
      publish('station.connected', { station_id: 'CP1', online: true, ocpp_version: '1.6' });
      later(300, () => status('Available'));
    },
    async stop() {
      for (const t of timers) clearTimeout(t);
      for (const s of streams) s.end();
      server.closeAllConnections?.();
      await new Promise((r) => server.close(r));
    },
  };
}

/* ---- the real server -------------------------------------------------------------------- */
function realBackend() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-browser-'));
  const db = 'sqlite:' + path.join(dir, 'ladewerk.db');
  const procs = [];
  const run = (args) => {
    const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 20000 });
    if (r.status !== 0) throw new Error(`ladewerk ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };
  return {
    async start() {
      const out = run(['token', 'create', '--role', 'operator', '--db', db]);
      this.token = out.trim().split('\n').pop().trim();
      run(['station', 'add', 'CP1', '--profile', '0', '--db', db]);
      const httpPort = await freePort();
      this.ocppPort = await freePort();
      const p = spawn(BIN, ['serve', '--db', db, '--http-listen', `127.0.0.1:${httpPort}`,
        '--ocpp-listen', `127.0.0.1:${this.ocppPort}`, '--files-dir', path.join(dir, 'files')],
      { stdio: ['ignore', 'inherit', 'inherit'] });
      procs.push(p);
      this.url = `http://127.0.0.1:${httpPort}/`;
      await waitHttp(this.url, 15000);
      const r = await fetch(this.url + 'api/v1/id-tokens', {
        method: 'POST', headers: { Authorization: 'Bearer ' + this.token, 'Content-Type': 'application/json' },
        body: JSON.stringify({ id_token: 'TAG1', status: 'Accepted' }),
      });
      assert.ok(r.status === 201 || r.status === 409, 'id token TAG1: ' + r.status);
    },
    // The simulated 1.6 station behaves like a real charger: a RemoteStartTransaction only
    // authorizes the connector, and the transaction starts once an EV is plugged in (within
    // ConnectionTimeOut). So the driver's side is a scenario: the station comes online
    // Available, an EV is plugged in a little later (Preparing) and draws 7.2 kW once the
    // operator's remote start has begun the transaction. Once the station is online (its OCPP
    // version decides the payload's schema) the operator sends a ChangeConfiguration so that
    // meter values come every 5 s instead of the default 60 s and the live chart fills while
    // we watch.
    async stationOnline() {
      const scenario = path.join(dir, 'ev-arrives.scenario');
      fs.writeFileSync(scenario, [
        '# station online and Available first, then an EV arrives and waits for the remote start',
        'wait 12s',
        'plug 1',
        'power 1 7.2',
        'wait 10m',
      ].join('\n') + '\n');
      const p = spawn(BIN, ['sim', '--url', `ws://127.0.0.1:${this.ocppPort}/ocpp`, '--id', 'CP1', '--ocpp', '1.6',
        '--connectors', '1', '--duration', '150', '--scenario', scenario], { stdio: ['ignore', 'inherit', 'inherit'] });
      procs.push(p);
      const auth = { Authorization: 'Bearer ' + this.token, 'Content-Type': 'application/json' };
      const get = async (u) => (await fetch(this.url + u, { headers: auth })).json();
      const end = Date.now() + 30000;
      while (!(await get('api/v1/stations/CP1')).online && Date.now() < end) await sleep(100);
      const r = await fetch(this.url + 'api/v1/stations/CP1/commands/ChangeConfiguration', {
        method: 'POST', headers: auth, body: JSON.stringify({ key: 'MeterValueSampleInterval', value: '5' }),
      });
      assert.equal(r.status, 202, 'ChangeConfiguration: ' + r.status);
      let c = await r.json();
      while (c.status !== 'answered' && c.status !== 'failed' && Date.now() < end) {
        await sleep(100);
        c = await get('api/v1/commands/' + c.id);
      }
      assert.equal(c.status, 'answered', 'ChangeConfiguration: ' + JSON.stringify(c));
      assert.equal(c.response.status, 'Accepted');
    },
    async stop() {
      for (const p of procs.reverse()) {
        if (p.exitCode === null) {
          p.kill('SIGTERM');
          await Promise.race([new Promise((r) => p.once('exit', r)), sleep(5000)]);
          if (p.exitCode === null) p.kill('SIGKILL');
        }
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// LADEWERK_DASHBOARD_BACKEND=fake|real forces one; by default real when the binary has both.
const forced = process.env.LADEWERK_DASHBOARD_BACKEND;
const real = forced ? forced === 'real' : hasCommand('serve') && hasCommand('sim');

test(`dashboard in chromium (${real ? 'real server and simulator' : 'fake backend'})`, { timeout: 180000, skip: !fs.existsSync(CHROMIUM) && 'no /usr/bin/chromium (scripts/setup installs it)' }, async () => {
  fs.mkdirSync(ARTEFACTS, { recursive: true });
  const be = real ? realBackend() : fakeBackend();
  await be.start();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  let failPage = null;
  const shot = (page, name) => page.screenshot({ path: path.join(ARTEFACTS, `dashboard-${name}.png`), fullPage: true });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') console.error('[page]', m.text()); });
    failPage = page;

    // log in: a wrong token is refused, the right one opens the station list
    await page.goto(be.url);
    await page.fill('#token', 'not-a-token');
    await page.click('#login-button');
    await page.waitForSelector('#login-error:has-text("Login failed")');
    await page.fill('#token', be.token);
    await page.click('#login-button');
    await page.waitForSelector('table#stations');
    await page.waitForSelector('#live.on', { timeout: 10000 });
    await shot(page, '1-logged-in');

    // the station connects: online and its connector status arrive live, without a reload
    await be.stationOnline();
    await page.waitForSelector('tr[data-station="CP1"] [data-online="yes"]', { timeout: 30000 });
    await page.waitForSelector('tr[data-station="CP1"] [data-connector="0:1"]:has-text("Available")', { timeout: 30000 });
    await shot(page, '2-station-online');

    // station page: start a charge
    await page.click('tr[data-station="CP1"] a');
    await page.waitForSelector('#station-head');
    await page.fill('#rs-token', 'TAG1');
    await page.fill('#rs-connector', '1');
    await page.click('#btn-remote-start');
    await page.waitForSelector('#command-results [data-status="answered"]', { timeout: 30000 });
    const result = await page.textContent('#command-results tr:first-child');
    assert.match(result, /Accepted/);

    // the transaction, the connector's new status and the chart appear live
    await page.waitForSelector('#tx-link', { timeout: 30000 });
    await page.waitForSelector('tr[data-connector="0:1"]:has-text("Charging")', { timeout: 30000 });
    await page.waitForSelector('#live-chart .uplot', { timeout: 10000 });
    await page.waitForFunction(() => Number(document.querySelector('#live-chart')?.dataset.points || 0) >= 2, null, { timeout: 60000 });
    const energy = await page.textContent('#tx-energy');
    assert.match(energy, /\d+ Wh/);
    await shot(page, '3-charging');

    // the transactions page lists it
    await page.click('a[href="#/transactions"]');
    await page.waitForSelector('table#transactions tr[data-tx]', { timeout: 10000 });
    await shot(page, '4-transactions');

    if (real) {
      // back on the station page: stop the charge (the sim installs firmware only when no
      // transaction runs), then the panels for the other commands, each through the results table
      await page.click('a[href="#/stations"]');
      await page.click('tr[data-station="CP1"] a');
      await page.waitForSelector('#firmware-panel');
      await page.waitForSelector('#tx-link', { timeout: 10000 });
      const rows = () => page.locator('#command-results tr').count();
      // waits for the newest row of the results table (the command just sent) to settle
      const newest = async (n, label) => {
        await page.waitForFunction((k) => document.querySelectorAll('#command-results tr').length > k, n, { timeout: 10000 });
        const row = page.locator('#command-results tr').first();
        await row.locator('[data-status="answered"], [data-status="failed"], [data-status="expired"]').waitFor({ timeout: 30000 });
        const text = await row.textContent();
        assert.match(text, new RegExp(label), 'newest result row is ' + label + ': ' + text);
        assert.ok(await row.locator('[data-status="answered"]').count(), label + ' answered: ' + text);
        return text;
      };
      let n = await rows();
      await page.click('#btn-remote-stop');
      assert.match(await newest(n, 'Remote stop'), /Accepted/);
      await page.waitForSelector('#tx-state:has-text("ended")', { timeout: 30000 });

      // charging profile: a TxDefaultProfile limit of 16 A on connector 1, then its composite
      n = await rows();
      await page.fill('#cp-connector', '1');
      await page.selectOption('#cp-unit', 'A');
      await page.fill('#cp-limit', '16');
      await page.click('#btn-cp-set');
      assert.match(await newest(n, 'Set TxDefault limit'), /"status":"Accepted"/);
      n = await rows();
      await page.fill('#cp-duration', '600');
      await page.click('#btn-cp-composite');
      assert.match(await newest(n, 'Composite schedule'), /"status":"Accepted"/);
      await page.waitForSelector('#composite-schedule tbody tr', { timeout: 10000 });
      assert.match(await page.textContent('#composite-schedule tbody'), /16/, 'the schedule shows the 16 A limit');

      // local list and reservations: answered by the station (what it answers depends on its
      // configuration and the connector's state, so only that they were answered)
      n = await rows();
      await page.click('#btn-ll-version');
      await newest(n, 'Local list version');
      await page.waitForSelector('#ll-msg:has-text("station has version")', { timeout: 10000 });
      n = await rows();
      await page.fill('#ll-tags', 'TAG1 Accepted\nTAG9 Blocked');
      await page.fill('#ll-version', '3');
      await page.click('#btn-ll-send');
      assert.match(await newest(n, 'Send local list v3'), /"status":"/);
      n = await rows();
      await page.click('#btn-reserve');
      await newest(n, 'Reserve');
      assert.match(await page.inputValue('#rv-id'), /^\d+$/, 'the reservation id is filled in for cancelling');
      n = await rows();
      await page.click('#btn-cancel-reservation');
      await newest(n, 'Cancel reservation');

      // diagnostics: the station uploads into a slot here and the file appears in the list
      n = await rows();
      await page.selectOption('#log-type', '');
      await page.click('#btn-diagnostics');
      assert.match(await newest(n, 'Request diagnostics'), /answered/);
      await page.waitForSelector('#uploads tr[data-has-file="yes"] a.download', { timeout: 30000 });

      // firmware: upload a small image through the file input, update, watch the statuses
      await page.setInputFiles('#fw-file', { name: 'fw-test-1.1.bin', mimeType: 'application/octet-stream', buffer: Buffer.from('LADEWERK-FW 1.1\n'.repeat(64)) });
      await page.click('#btn-fw-upload');
      await page.waitForSelector('#fw-msg:has-text("uploaded fw-test-1.1.bin")', { timeout: 10000 });
      assert.match(await page.locator('#fw-image option:checked').textContent(), /fw-test-1\.1\.bin/);
      n = await rows();
      await page.click('#btn-fw-update');
      assert.match(await newest(n, 'Update firmware'), /answered/);
      for (const st of ['Downloading', 'Downloaded', 'Installed'])
        await page.waitForSelector(`#fw-history tr[data-what="firmware"][data-status="${st}"]`, { timeout: 30000 });
      await page.locator('#firmware-panel').scrollIntoViewIfNeeded();
      await shot(page, '5-station-commands');
    }
    assert.deepEqual(errors, [], 'no JavaScript errors in the page');
  } catch (e) {
    if (failPage) await shot(failPage, 'failure').catch(() => {});
    throw e;
  } finally {
    await browser.close();
    await be.stop();
  }
});
