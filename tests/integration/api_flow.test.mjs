// tests/integration/api_flow.test.mjs — the operator's side of `ladewerk serve` through the
// REST API alone: a station registered over POST /api/v1/stations is connected by the
// independent client ocpp-rpc (strict mode) that answers remote start/stop like a real
// charger; the API shows it online with vendor/model/status, remote start and stop go out as
// commands (202, then answered), the live event stream reports connection, status and the
// transaction with its energy, and the transaction is read back with its meter samples and
// as CSV. Also: a command for an offline station waits and is delivered on reconnect, an
// invalid payload gets 400 with its JSON path, 401/403, and /metrics counts. OCPP 1.6
// (RemoteStartTransaction -> StartTransaction ...) and 2.0.1 (RequestStartTransaction ->
// TransactionEvent ...).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { RPCClient } from 'ocpp-rpc';
import { tempDir, tokenCreate, startServer, cleanup } from './lib/server.mjs';

let dir, db, srv, admin, operator, viewer, sse;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function api(method, path, { token = operator, body, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  const res = await fetch(srv.http + path, {
    method, headers: h, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* CSV, metrics */ }
  return { status: res.status, json, text, headers: res.headers };
}

// Polls fn until it returns a truthy value (bounded: 10 s), then returns it.
async function until(what, fn) {
  for (let i = 0; i < 200; i++) {
    const v = await fn();
    if (v) return v;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

// Reads GET /api/v1/events with fetch (EventSource cannot send Authorization).
function openEvents(token) {
  const events = [];
  const ctl = new AbortController();
  const done = (async () => {
    const res = await fetch(srv.http + '/api/v1/events', {
      headers: { Authorization: `Bearer ${token}` }, signal: ctl.signal,
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /text\/event-stream/);
    const dec = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body) {
        buf += dec.decode(chunk, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = {};
          for (const line of block.split('\n')) {
            const m = /^(\w+): ?(.*)$/.exec(line);
            if (m) ev[m[1]] = m[2];
          }
          if (ev.event && ev.data) events.push({ type: ev.event, data: JSON.parse(ev.data) });
        }
      }
    } catch (e) {
      if (e.name !== 'AbortError') throw e;
    }
  })();
  return {
    events,
    wait: (what, pred) => until(what, () => events.find(pred)),
    close: async () => { ctl.abort(); await done.catch(() => {}); },
  };
}

before(async () => {
  dir = tempDir();
  db = join(dir, 'lw.db');
  srv = await startServer(db);
  admin = tokenCreate(db, 'admin');
  operator = tokenCreate(db, 'operator');
  viewer = tokenCreate(db, 'viewer');
  sse = openEvents(viewer);
  for (const id of ['CP16', 'CP201']) {
    const r = await api('POST', '/api/v1/stations', { token: admin,
      body: { id, security_profile: 0 } });
    assert.equal(r.status, 201, r.text);
  }
  const t = await api('POST', '/api/v1/id-tokens', { body: { id_token: 'TAG1',
    status: 'Accepted' } });
  assert.equal(t.status, 201, t.text);
});

after(async () => {
  if (sse) await sse.close();
  if (srv) await srv.stop();
  cleanup(dir);
});

function client(identity, protocol) {
  return new RPCClient({
    endpoint: srv.url, identity, protocols: [protocol], strictMode: true, reconnect: false,
  });
}

async function commandAnswered(id) {
  return until(`command ${id} answered`, async () => {
    const r = await api('GET', `/api/v1/commands/${id}`, { token: viewer });
    assert.equal(r.status, 200, r.text);
    if (r.json.status === 'failed' || r.json.status === 'expired')
      throw new Error(`command ${id}: ${r.text}`);
    return r.json.status === 'answered' ? r.json : null;
  });
}

test('auth: 401 without a token, 403 for a viewer sending a command', async () => {
  const r = await api('GET', '/api/v1/stations', { token: null });
  assert.equal(r.status, 401);
  assert.match(r.headers.get('www-authenticate') || '', /Bearer/);
  assert.equal((await api('GET', '/api/v1/stations', { token: 'lw_nope' })).status, 401);
  const f = await api('POST', '/api/v1/stations/CP16/commands/Reset', { token: viewer,
    body: { type: 'Soft' } });
  assert.equal(f.status, 403, f.text);
  assert.equal((await api('GET', '/', { token: null })).status, 200); // dashboard, public
});

test('OCPP 1.6: online with vendor/model/status; remote start and stop; energy; offline queue',
  async () => {
    const c = client('CP16', 'ocpp1.6');
    let txId = 0;
    let meter = 1000;
    const received = [];
    c.handle('RemoteStartTransaction', ({ params }) => {
      received.push('RemoteStartTransaction');
      setTimeout(async () => {
        await c.call('StatusNotification', { connectorId: 1, errorCode: 'NoError',
          status: 'Charging' });
        const st = await c.call('StartTransaction', { connectorId: params.connectorId ?? 1,
          idTag: params.idTag, meterStart: meter, timestamp: new Date().toISOString() });
        txId = st.transactionId;
        meter += 2500;
        await c.call('MeterValues', { connectorId: 1, transactionId: txId, meterValue: [{
          timestamp: new Date().toISOString(), sampledValue: [
            { value: String(meter), measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
            { value: '7.4', measurand: 'Power.Active.Import', unit: 'kW' }] }] });
      }, 10);
      return { status: 'Accepted' };
    });
    c.handle('RemoteStopTransaction', ({ params }) => {
      received.push('RemoteStopTransaction');
      setTimeout(async () => {
        meter += 500;
        await c.call('StopTransaction', { transactionId: params.transactionId, idTag: 'TAG1',
          meterStop: meter, timestamp: new Date().toISOString(), reason: 'Remote' });
        await c.call('StatusNotification', { connectorId: 1, errorCode: 'NoError',
          status: 'Available' });
      }, 10);
      return { status: 'Accepted' };
    });
    c.handle('ChangeConfiguration', ({ params }) => {
      received.push(`ChangeConfiguration ${params.key}=${params.value}`);
      return { status: 'Accepted' };
    });
    await c.connect();
    assert.equal((await c.call('BootNotification', { chargePointVendor: 'Acme',
      chargePointModel: 'X1', firmwareVersion: '1.2.3' })).status, 'Accepted');
    await c.call('StatusNotification', { connectorId: 1, errorCode: 'NoError',
      status: 'Available' });

    await sse.wait('station.connected', (e) => e.type === 'station.connected' &&
      e.data.station_id === 'CP16');
    const st = await until('CP16 online', async () => {
      const r = await api('GET', '/api/v1/stations/CP16', { token: viewer });
      return r.json.online && r.json.connectors.length ? r.json : null;
    });
    assert.equal(st.ocpp_version, '1.6');
    assert.equal(st.vendor, 'Acme');
    assert.equal(st.model, 'X1');
    assert.equal(st.firmware_version, '1.2.3');
    assert.deepEqual(st.connectors.map((x) => [x.connector_id, x.status]), [[1, 'Available']]);

    // An invalid payload names the JSON path.
    const bad = await api('POST', '/api/v1/stations/CP16/commands/Reset',
      { body: { type: 'Sideways' } });
    assert.equal(bad.status, 400, bad.text);
    assert.equal(bad.json.error, 'invalid_payload');
    assert.equal(bad.json.path, 'type');

    // Remote start: 202, then answered Accepted; the station starts a transaction.
    const rs = await api('POST', '/api/v1/stations/CP16/remote-start',
      { body: { id_token: 'TAG1', connector_id: 1 } });
    assert.equal(rs.status, 202, rs.text);
    assert.equal(rs.json.action, 'RemoteStartTransaction');
    const rsDone = await commandAnswered(rs.json.id);
    assert.equal(rsDone.response.status, 'Accepted');
    await sse.wait('command.result', (e) => e.type === 'command.result' &&
      e.data.id === rs.json.id && e.data.result_status === 'Accepted');
    const started = await sse.wait('transaction.started', (e) =>
      e.type === 'transaction.started' && e.data.station_id === 'CP16');
    assert.equal(started.data.id, txId);
    assert.equal(started.data.meter_start_wh, 1000);
    await sse.wait('charging status', (e) => e.type === 'connector.status' &&
      e.data.station_id === 'CP16' && e.data.status === 'Charging');
    const upd = await sse.wait('transaction.updated', (e) =>
      e.type === 'transaction.updated' && e.data.id === txId);
    assert.equal(upd.data.energy_wh, 2500);
    assert.equal(upd.data.power_w, 7400);

    // Three more MeterValues at once: transaction.updated is published at most once a second
    // per transaction (LW_CSMS_TX_UPDATE_MIN_MS); the newest values are published when the
    // window ends, not lost.
    const firstUpd = sse.events.indexOf(upd);
    for (const [wh, kw] of [[3510, '7.1'], [3520, '7.2'], [3530, '7.3']]) {
      await c.call('MeterValues', { connectorId: 1, transactionId: txId, meterValue: [{
        timestamp: new Date().toISOString(), sampledValue: [
          { value: String(wh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
          { value: kw, measurand: 'Power.Active.Import', unit: 'kW' }] }] });
    }
    const last = await sse.wait('held transaction.updated', (e) =>
      e.type === 'transaction.updated' && e.data.id === txId && e.data.energy_wh === 2530);
    assert.equal(last.data.power_w, 7300);
    const burst = sse.events.slice(firstUpd + 1).filter((e) =>
      e.type === 'transaction.updated' && e.data.id === txId);
    assert.ok(burst.length <= 2, `updates coalesced: ${burst.length} events for 3 messages`);

    // Remote stop.
    const rstop = await api('POST', '/api/v1/stations/CP16/remote-stop',
      { body: { transaction_id: txId } });
    assert.equal(rstop.status, 202, rstop.text);
    assert.equal((await commandAnswered(rstop.json.id)).response.status, 'Accepted');
    const ended = await sse.wait('transaction.ended', (e) =>
      e.type === 'transaction.ended' && e.data.id === txId);
    assert.equal(ended.data.energy_wh, 3000);
    assert.equal(ended.data.meter_stop_wh, 4000);

    const tx = await api('GET', `/api/v1/transactions/${txId}`, { token: viewer });
    assert.equal(tx.status, 200, tx.text);
    assert.equal(tx.json.station_id, 'CP16');
    assert.equal(tx.json.id_token, 'TAG1');
    assert.equal(tx.json.energy_wh, 3000);
    assert.equal(tx.json.stop_reason, 'Remote');
    assert.ok(tx.json.meter_samples.some((m) => m.measurand === 'Power.Active.Import' &&
      Number(m.value) === 7.4), JSON.stringify(tx.json.meter_samples));
    const list = await api('GET', '/api/v1/transactions?station=CP16', { token: viewer });
    assert.deepEqual(list.json.items.map((t) => t.id), [txId]);
    const csv = await api('GET', '/api/v1/transactions.csv?station=CP16', { token: viewer });
    assert.equal(csv.status, 200);
    const lines = csv.text.trim().split(/\r?\n/);
    assert.equal(lines.length, 2, csv.text);
    assert.ok(lines[1].startsWith(`${txId},`), csv.text);
    assert.ok(lines[1].includes('3000'), csv.text);

    // Offline: the command waits, then is delivered when the station is back.
    await c.close();
    await sse.wait('station.disconnected', (e) => e.type === 'station.disconnected' &&
      e.data.station_id === 'CP16');
    const q = await api('POST', '/api/v1/stations/CP16/config/set',
      { body: { key: 'HeartbeatInterval', value: '120' } });
    assert.equal(q.status, 202, q.text);
    assert.equal(q.json.status, 'queued');
    assert.equal((await api('GET', `/api/v1/commands/${q.json.id}`, { token: viewer }))
      .json.status, 'queued');
    await c.connect(); // a 1.6 station accepted before may go on without a new boot
    const qd = await commandAnswered(q.json.id);
    assert.equal(qd.response.status, 'Accepted');
    assert.deepEqual(received, ['RemoteStartTransaction', 'RemoteStopTransaction',
      'ChangeConfiguration HeartbeatInterval=120']);

    const m = await api('GET', '/metrics', { token: null });
    assert.equal(m.status, 200);
    assert.match(m.text, /ladewerk_stations_connected\{version="1.6"\} 1\n/);
    assert.match(m.text,
      /ladewerk_messages_total\{action="StartTransaction",direction="in",outcome="ok"\} 1\n/);
    assert.match(m.text,
      /ladewerk_messages_total\{action="RemoteStartTransaction",direction="out",outcome="ok"\} 1\n/);
    assert.match(m.text, /ladewerk_call_latency_seconds_count\{action="RemoteStartTransaction"\} 1\n/);
    await c.close();
  });

test('OCPP 2.0.1: RequestStartTransaction -> TransactionEvent; stop; energy', async () => {
  const c = client('CP201', 'ocpp2.0.1');
  const uid = 'tx-' + Date.now();
  let seq = 0;
  const ev = (eventType, triggerReason, wh, extra = {}) => ({
    eventType, timestamp: new Date().toISOString(), triggerReason, seqNo: seq++,
    transactionInfo: { transactionId: uid, ...(extra.info || {}) },
    evse: { id: 1, connectorId: 1 },
    meterValue: [{ timestamp: new Date().toISOString(), sampledValue: [
      { value: wh, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } },
      { value: 11000, measurand: 'Power.Active.Import', unitOfMeasure: { unit: 'W' } }] }],
    ...(extra.top || {}),
  });
  c.handle('RequestStartTransaction', ({ params }) => {
    setTimeout(async () => {
      await c.call('TransactionEvent', ev('Started', 'RemoteStart', 10000, {
        info: { remoteStartId: params.remoteStartId, chargingState: 'Charging' },
        top: { idToken: params.idToken } }));
      await c.call('StatusNotification', { timestamp: new Date().toISOString(),
        connectorStatus: 'Occupied', evseId: 1, connectorId: 1 });
      await c.call('TransactionEvent', ev('Updated', 'MeterValuePeriodic', 12000));
    }, 10);
    return { status: 'Accepted' };
  });
  c.handle('RequestStopTransaction', ({ params }) => {
    assert.equal(params.transactionId, uid);
    setTimeout(async () => {
      await c.call('TransactionEvent', ev('Ended', 'RemoteStop', 15000, {
        info: { stoppedReason: 'Remote' } }));
    }, 10);
    return { status: 'Accepted' };
  });
  await c.connect();
  assert.equal((await c.call('BootNotification', { reason: 'PowerUp',
    chargingStation: { vendorName: 'Volt', model: 'V2' } })).status, 'Accepted');
  await c.call('StatusNotification', { timestamp: new Date().toISOString(),
    connectorStatus: 'Available', evseId: 1, connectorId: 1 });
  const st = await until('CP201 online', async () => {
    const r = await api('GET', '/api/v1/stations/CP201', { token: viewer });
    return r.json.online && r.json.connectors.length ? r.json : null;
  });
  assert.equal(st.ocpp_version, '2.0.1');
  assert.equal(st.vendor, 'Volt');
  assert.deepEqual(st.connectors.map((x) => [x.evse_id, x.connector_id, x.status]),
    [[1, 1, 'Available']]);

  const bad = await api('POST', '/api/v1/stations/CP201/commands/RequestStartTransaction',
    { body: { idToken: { idToken: 'TAG1', type: 'Nope' }, remoteStartId: 1 } });
  assert.equal(bad.status, 400, bad.text);
  assert.equal(bad.json.path, 'idToken.type');

  const rs = await api('POST', '/api/v1/stations/CP201/remote-start',
    { body: { id_token: 'TAG1', evse_id: 1 } });
  assert.equal(rs.status, 202, rs.text);
  assert.equal(rs.json.action, 'RequestStartTransaction');
  assert.equal((await commandAnswered(rs.json.id)).response.status, 'Accepted');
  const started = await sse.wait('transaction.started', (e) =>
    e.type === 'transaction.started' && e.data.transaction_uid === uid);
  const id = started.data.id;
  await sse.wait('transaction.updated', (e) => e.type === 'transaction.updated' &&
    e.data.id === id && e.data.energy_wh === 2000 && e.data.power_w === 11000);
  await sse.wait('occupied', (e) => e.type === 'connector.status' &&
    e.data.station_id === 'CP201' && e.data.status === 'Occupied' && e.data.evse_id === 1);

  const rstop = await api('POST', '/api/v1/stations/CP201/remote-stop',
    { body: { transaction_id: id } });
  assert.equal(rstop.status, 202, rstop.text);
  assert.equal((await commandAnswered(rstop.json.id)).response.status, 'Accepted');
  const ended = await sse.wait('transaction.ended', (e) =>
    e.type === 'transaction.ended' && e.data.id === id);
  assert.equal(ended.data.energy_wh, 5000);

  const tx = await api('GET', `/api/v1/transactions/${id}`, { token: viewer });
  assert.equal(tx.json.transaction_uid, uid);
  assert.equal(tx.json.energy_wh, 5000);
  assert.equal(tx.json.stop_reason, 'Remote');
  assert.ok(tx.json.meter_samples.length >= 6, JSON.stringify(tx.json.meter_samples));

  const m = await api('GET', '/metrics', { token: null });
  assert.match(m.text, /ladewerk_stations_connected\{version="2.0.1"\} 1\n/);
  assert.match(m.text,
    /ladewerk_messages_total\{action="TransactionEvent",direction="in",outcome="ok"\} 3\n/);
  await c.close();
});
