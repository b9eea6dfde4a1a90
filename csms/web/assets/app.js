/*
 * Ladewerk dashboard — plain JavaScript, no build step. Talks to the REST API under /api/v1
 * with the operator's bearer token (kept in localStorage) and follows the live event stream
 * (GET /api/v1/events, Server-Sent Events read through fetch so the token goes in a header).
 * Every value that came from a station is put into the page as text, never as HTML.
 */
'use strict';

const S = {
  token: localStorage.getItem('lw_token') || '',
  role: '',
  stations: new Map(),   // id -> station JSON (with connectors)
  lastEventId: null,
  listeners: new Set(),  // functions(type, data) for the current view
  streamAbort: null,
};

/* ---- DOM helpers ---------------------------------------------------------------------- */
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}
const $ = (sel, root = document) => root.querySelector(sel);
const view = () => $('#view');
const show = (...kids) => view().replaceChildren(...kids.filter((k) => k !== null && k !== undefined));
const fmtTime = (t) => (t ? new Date(t).toLocaleString() : '—');
const badge = (text, cls, attrs) => h('span', Object.assign({ class: 'badge ' + (cls || text) }, attrs || {}), text);

/* ---- API ------------------------------------------------------------------------------ */
async function api(method, path, body, extraHeaders) {
  const headers = Object.assign({ Authorization: 'Bearer ' + S.token }, extraHeaders || {});
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 401) { logout('Your token was refused; log in again.'); throw new Error('unauthorized'); }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = text; }
  if (!res.ok) {
    const msg = data && data.detail ? data.detail : res.status + ' ' + res.statusText;
    const err = new Error(msg);
    err.status = res.status;
    throw err;
  }
  return data;
}

/* ---- login ---------------------------------------------------------------------------- */
function showLogin(message) {
  $('#nav').hidden = true;
  $('#logout').hidden = true;
  $('#whoami').textContent = '';
  const input = h('input', { id: 'token', type: 'password', placeholder: 'API token', size: 48, autocomplete: 'off' });
  const err = h('p', { class: 'error', id: 'login-error' }, message || '');
  const form = h('form', {
    id: 'login', class: 'card',
    onsubmit: async (ev) => {
      ev.preventDefault();
      const token = input.value.trim();
      try {
        const res = await fetch('/api/v1/whoami', { headers: { Authorization: 'Bearer ' + token } });
        const me = await res.json().catch(() => ({}));
        if (!res.ok) throw new Error(me.detail || res.status + ' ' + res.statusText);
        S.token = token;
        localStorage.setItem('lw_token', token);
        start(me.role);
      } catch (e) { err.textContent = 'Login failed: ' + e.message; }
    },
  },
  h('h1', {}, 'Log in'),
  h('p', { class: 'muted' }, 'Paste a token made with: ladewerk token create --role operator'),
  h('div', { class: 'row' }, input, h('button', { class: 'primary', type: 'submit', id: 'login-button' }, 'Log in')),
  err);
  show(form);
  input.focus();
}

function logout(message) {
  localStorage.removeItem('lw_token');
  S.token = '';
  if (S.streamAbort) S.streamAbort.abort();
  S.streamAbort = null;
  showLogin(message);
}

function start(role) {
  S.role = role;
  $('#nav').hidden = false;
  $('#logout').hidden = false;
  $('#whoami').textContent = role;
  openStream();
  route();
}

/* ---- live events ---------------------------------------------------------------------- */
function setLive(on) {
  const el = $('#live');
  el.className = 'live ' + (on ? 'on' : 'off');
  el.textContent = on ? 'live' : 'offline';
}

async function openStream() {
  if (S.streamAbort) S.streamAbort.abort();
  const ctrl = new AbortController();
  S.streamAbort = ctrl;
  const headers = { Authorization: 'Bearer ' + S.token, Accept: 'text/event-stream' };
  if (S.lastEventId !== null) headers['Last-Event-ID'] = S.lastEventId;
  try {
    const res = await fetch('/api/v1/events', { headers, signal: ctrl.signal });
    if (res.status === 401) { logout('Your token was refused; log in again.'); return; }
    if (!res.ok || !res.body) throw new Error('stream ' + res.status);
    setLive(true);
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, i);
        buf = buf.slice(i + 2);
        let id = null, type = 'message', data = '';
        for (const line of frame.split('\n')) {
          if (line.startsWith(':')) continue;
          const c = line.indexOf(':');
          const k = c < 0 ? line : line.slice(0, c);
          const v = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
          if (k === 'id') id = v; else if (k === 'event') type = v; else if (k === 'data') data += v;
        }
        if (id !== null) S.lastEventId = id;
        if (data) { try { onEvent(type, JSON.parse(data)); } catch (e) { console.error(e); } }
      }
    }
  } catch (e) {
    if (ctrl.signal.aborted) return;
  }
  setLive(false);
  if (S.streamAbort === ctrl) setTimeout(() => { if (S.streamAbort === ctrl) openStream(); }, 3000);
}

function onEvent(type, d) {
  if (type === 'resync') { route(); return; }
  const st = d.station_id ? S.stations.get(d.station_id) : null;
  if (type === 'station.connected' || type === 'station.disconnected') {
    if (st) { st.online = type === 'station.connected'; if (d.ocpp_version) st.ocpp_version = d.ocpp_version; }
  } else if (type === 'connector.status' && st) {
    let k = st.connectors.find((c) => c.evse_id === d.evse_id && c.connector_id === d.connector_id);
    if (!k) { k = { evse_id: d.evse_id, connector_id: d.connector_id }; st.connectors.push(k); }
    k.status = d.status; k.error_code = d.error_code; k.updated_at = d.at;
  }
  for (const fn of S.listeners) fn(type, d);
}

/* ---- charts --------------------------------------------------------------------------- */
function energyChart(el, title) {
  if (!window.uPlot) {
    el.replaceChildren(h('p', { class: 'muted' }, 'Charts unavailable: this build has no chart library.'));
    return null;
  }
  const data = [[], [], []];
  const opts = {
    title, width: Math.max(320, Math.min(el.clientWidth || 560, 900)), height: 260,
    series: [
      {},
      { label: 'Energy (Wh)', stroke: '#0b5fbf', scale: 'Wh' },
      { label: 'Power (W)', stroke: '#cf222e', scale: 'W' },
    ],
    axes: [{}, { scale: 'Wh', label: 'Wh' }, { scale: 'W', side: 1, label: 'W', grid: { show: false } }],
  };
  el.replaceChildren();
  const plot = new uPlot(opts, data, el);
  return {
    plot,
    points: 0,
    add(tsMs, wh, w) {
      const t = tsMs / 1000;
      const n = data[0].length;
      if (n && data[0][n - 1] === t) {
        if (wh !== null && wh !== undefined) data[1][n - 1] = wh;
        if (w !== null && w !== undefined) data[2][n - 1] = w;
      } else {
        data[0].push(t); data[1].push(wh ?? null); data[2].push(w ?? null);
      }
      this.points = data[0].length;
      el.dataset.points = String(this.points);
      plot.setData(data);
    },
  };
}

/* Energy since start and power from a transaction's meter samples. */
function chartSamples(chart, tx) {
  const start = tx.meter_start_wh ?? null;
  const rows = new Map();
  for (const s of tx.meter_samples || []) {
    const t = Date.parse(s.timestamp);
    if (!rows.has(t)) rows.set(t, { wh: null, w: null });
    const r = rows.get(t);
    const m = s.measurand || 'Energy.Active.Import.Register';
    let v = typeof s.value === 'number' ? s.value : parseFloat(s.value);
    if (Number.isNaN(v)) continue;
    if (s.unit === 'kWh' || s.unit === 'kW') v *= 1000;
    if (m === 'Energy.Active.Import.Register' && !s.phase) r.wh = start !== null ? v - start : v;
    if (m === 'Power.Active.Import' && !s.phase) r.w = v;
  }
  for (const t of [...rows.keys()].sort((a, b) => a - b)) chart.add(t, rows.get(t).wh, rows.get(t).w);
}

/* ---- views ---------------------------------------------------------------------------- */
function connectorChips(st) {
  return (st.connectors || [])
    .filter((c) => c.connector_id !== 0 || (st.connectors || []).length === 1)
    .map((c) => badge(c.status || 'unknown', c.status, {
      class: 'badge conn ' + (c.status || ''), 'data-connector': c.evse_id + ':' + c.connector_id,
      title: 'EVSE ' + c.evse_id + ' connector ' + c.connector_id,
    }));
}

async function viewStations() {
  const q = h('input', { id: 'q', placeholder: 'search id, vendor, model' });
  const status = h('select', { id: 'status-filter' },
    ['', 'online', 'offline', 'Available', 'Charging', 'Faulted', 'Unavailable'].map((s) => h('option', { value: s }, s || 'any status')));
  const tbody = h('tbody');
  const info = h('p', { class: 'muted' });
  const admin = S.role === 'admin' ? addStationForm(() => load()) : null;
  show(h('h1', {}, 'Stations'),
    h('div', { class: 'row' }, q, status, h('button', { onclick: () => load() }, 'Filter')),
    h('table', { id: 'stations' }, h('thead', {}, h('tr', {}, ['Station', 'State', 'OCPP', 'Vendor / model', 'Firmware', 'Connectors', 'Last seen'].map((t) => h('th', {}, t)))), tbody),
    info, admin);
  function row(st) {
    return h('tr', { class: 'click', 'data-station': st.id, onclick: () => { location.hash = '#/stations/' + encodeURIComponent(st.id); } },
      h('td', {}, h('a', { href: '#/stations/' + encodeURIComponent(st.id) }, st.id)),
      h('td', {}, badge(st.online ? 'online' : 'offline', null, { 'data-online': st.online ? 'yes' : 'no' })),
      h('td', {}, st.ocpp_version || '—'),
      h('td', {}, [st.vendor, st.model].filter(Boolean).join(' / ') || '—'),
      h('td', {}, st.firmware_version || '—'),
      h('td', {}, connectorChips(st)),
      h('td', {}, fmtTime(st.last_seen)));
  }
  function render() {
    tbody.replaceChildren(...[...S.stations.values()].filter((s) => s._shown).map(row));
  }
  async function load() {
    const p = new URLSearchParams();
    if (q.value) p.set('q', q.value);
    if (status.value) p.set('status', status.value);
    p.set('limit', '1000');
    const page = await api('GET', '/api/v1/stations?' + p);
    for (const s of S.stations.values()) s._shown = false;
    for (const s of page.items) { s._shown = true; S.stations.set(s.id, s); }
    info.textContent = page.items.length + ' station(s)';
    render();
  }
  S.listeners.add(async (type, d) => {
    if (!d.station_id) return;
    if (!S.stations.has(d.station_id) && type === 'station.connected') {
      try { const s = await api('GET', '/api/v1/stations/' + encodeURIComponent(d.station_id)); s._shown = !q.value && !status.value; S.stations.set(s.id, s); } catch (e) { return; }
    }
    if (type.startsWith('station.') || type === 'connector.status') render();
  });
  await load();
}

function addStationForm(done) {
  const id = h('input', { placeholder: 'station id', id: 'new-station-id' });
  const prof = h('select', {}, [0, 1, 2, 3].map((p) => h('option', { value: p }, 'profile ' + p)));
  const pw = h('input', { placeholder: 'password (profiles 1, 2)', type: 'password' });
  const out = h('span', { class: 'muted' });
  return h('div', { class: 'card' }, h('h2', {}, 'Add a station'),
    h('div', { class: 'row' }, id, prof, pw, h('button', {
      onclick: async () => {
        const body = { id: id.value.trim(), security_profile: Number(prof.value) };
        if (pw.value) body.password = pw.value;
        try { await api('POST', '/api/v1/stations', body); out.textContent = 'added'; done(); } catch (e) { out.textContent = e.message; }
      },
    }, 'Add'), out));
}

/* Command panel: sends a shortcut and follows its result through the event stream. */
function commandRunner(stationId, results) {
  const pending = new Map();
  const finished = new Set(); // results that arrived before the POST's answer did
  const done = new WeakMap();  // row -> function(command) called once it is answered or failed
  async function run(label, path, body, onDone) {
    const li = h('tr', {}, h('td', {}, new Date().toLocaleTimeString()), h('td', {}, label), h('td', {}, badge('sending', 'queued')), h('td', {}));
    if (onDone) done.set(li, onDone);
    results.prepend(li);
    try {
      const c = await api('POST', '/api/v1/stations/' + encodeURIComponent(stationId) + '/' + path, body || {});
      li.dataset.command = c.id;
      show(li, c);
      if (c.status === 'queued' || c.status === 'sent') {
        pending.set(String(c.id), li);
        if (finished.has(String(c.id))) return (await onResult({ id: c.id })) || c;
      }
      return c;
    } catch (e) {
      li.children[2].replaceChildren(badge('error', 'failed'));
      li.children[3].textContent = e.message;
      return null;
    }
  }
  function show(li, c) {
    li.children[2].replaceChildren(badge(c.status, c.status, { 'data-status': c.status }));
    let txt = '';
    if (c.response) txt = JSON.stringify(c.response);
    else if (c.error) txt = c.error.code + (c.error.detail ? ': ' + c.error.detail : '');
    li.children[3].replaceChildren(h('pre', {}, txt));
    const fn = done.get(li);
    if (fn && c.status !== 'queued' && c.status !== 'sent') { done.delete(li); fn(c); }
  }
  async function onResult(d) {
    const li = pending.get(String(d.id));
    if (!li) { finished.add(String(d.id)); return null; }
    pending.delete(String(d.id));
    const c = await api('GET', '/api/v1/commands/' + d.id);
    show(li, c);
    return c;
  }
  return { run, onResult, pending };
}

/* Station page panels for firmware, diagnostics/logs, local list, reservations and charging
 * profiles. Each button sends a shortcut (or, where there is none, the generic command) through
 * the command runner, so its result shows in the results table like every other command.
 * Returns { cards, onEvent(type, d), load() }. */
function stationPanels(id, v16, runner) {
  const sid = encodeURIComponent(id);
  const at = (connector) => (v16 ? { connector_id: connector } : { evse_id: connector });
  const num = (attrs) => h('input', Object.assign({ type: 'number', style: 'width:6em' }, attrs));
  const msg = (idAttr) => h('span', { class: 'muted', id: idAttr });

  /* firmware: pick an uploaded image or upload one, update, and the status history */
  const fwSelect = h('select', { id: 'fw-image' });
  const fwFile = h('input', { type: 'file', id: 'fw-file' });
  const fwMsg = msg('fw-msg');
  const fwHist = h('tbody', { id: 'fw-history' });
  const fwState = h('div', { class: 'muted', id: 'fw-state' });
  async function loadImages(selectId) {
    const page = await api('GET', '/api/v1/firmware');
    fwSelect.replaceChildren(...(page.items.length ? page.items.map((f) => h('option', { value: f.id, selected: String(f.id) === String(selectId) },
      f.name + ' (' + f.size + ' B, ' + String(f.sha256 || '').slice(0, 8) + ')')) : [h('option', { value: '' }, 'no images uploaded')]));
  }
  async function uploadImage() {
    const f = fwFile.files[0];
    if (!f) { fwMsg.textContent = 'choose a file first'; return; }
    fwMsg.textContent = 'uploading…';
    try {
      const res = await fetch('/api/v1/firmware?filename=' + encodeURIComponent(f.name), {
        method: 'POST', headers: { Authorization: 'Bearer ' + S.token, 'Content-Type': 'application/octet-stream' }, body: f,
      });
      const d = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(d.detail || res.status + ' ' + res.statusText);
      fwMsg.textContent = 'uploaded ' + f.name + ' (' + d.size + ' B)';
      fwFile.value = '';
      await loadImages(d.id);
    } catch (e) { fwMsg.textContent = 'upload failed: ' + e.message; }
  }
  async function loadFirmware() {
    const d = await api('GET', '/api/v1/stations/' + sid + '/firmware?limit=20');
    const latest = (e) => h('span', {}, e ? [badge(e.status), ' ', fmtTime(e.at)] : '—');
    fwState.replaceChildren('installed ', d.firmware_version || '—', ' · firmware: ', latest(d.firmware_status), ' · diagnostics/log: ', latest(d.upload_status));
    fwHist.replaceChildren(...(d.history || []).map((e) => h('tr', { 'data-what': e.what, 'data-status': e.status },
      h('td', {}, fmtTime(e.at)), h('td', {}, e.what), h('td', {}, badge(e.status)), h('td', {}, e.request_id ?? ''))));
  }
  const fwCard = h('div', { class: 'card', id: 'firmware-panel' }, h('h2', {}, 'Firmware'),
    h('div', { class: 'row' }, fwSelect, h('button', { id: 'btn-fw-refresh', onclick: () => loadImages(fwSelect.value) }, '↻')),
    h('div', { class: 'row' }, fwFile, h('button', { id: 'btn-fw-upload', onclick: uploadImage }, 'Upload'), fwMsg),
    h('div', { class: 'row' }, h('button', {
      class: 'primary', id: 'btn-fw-update',
      onclick: () => { if (fwSelect.value) runner.run('Update firmware', 'firmware', { firmware_id: fwSelect.value }); else fwMsg.textContent = 'pick or upload an image first'; },
    }, 'Update firmware')),
    fwState,
    h('table', {}, h('thead', {}, h('tr', {}, ['Time', 'What', 'Status', 'Request'].map((t) => h('th', {}, t)))), fwHist));

  /* diagnostics and logs: request one into an upload slot here, list the slots */
  const logType = h('select', { id: 'log-type' }, (v16 ? [['', 'Diagnostics'], ['DiagnosticsLog', 'Log: diagnostics'], ['SecurityLog', 'Log: security']]
    : [['DiagnosticsLog', 'Diagnostics log'], ['SecurityLog', 'Security log']]).map(([v, t]) => h('option', { value: v }, t)));
  const upBody = h('tbody', { id: 'uploads' });
  async function download(token, name) {
    const res = await fetch('/api/v1/uploads/' + encodeURIComponent(token), { headers: { Authorization: 'Bearer ' + S.token } });
    if (!res.ok) return;
    const a = h('a', { href: URL.createObjectURL(await res.blob()), download: name || token });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  }
  async function loadUploads() {
    const page = await api('GET', '/api/v1/stations/' + sid + '/uploads');
    upBody.replaceChildren(...page.items.map((u) => h('tr', { 'data-token': u.token, 'data-has-file': u.file ? 'yes' : 'no' },
      h('td', {}, fmtTime(u.created_at)), h('td', {}, u.what), h('td', {}, u.command_id ?? ''),
      h('td', {}, u.file ? h('a', { href: '#', class: 'download', onclick: (ev) => { ev.preventDefault(); download(u.token, u.file.name); } }, u.file.name)
        : h('span', { class: 'muted' }, 'waiting')),
      h('td', {}, u.file ? u.file.size + ' B' : ''))));
  }
  const diagCard = h('div', { class: 'card', id: 'diagnostics-panel' }, h('h2', {}, 'Diagnostics and logs'),
    h('div', { class: 'row' }, logType, h('button', {
      class: 'primary', id: 'btn-diagnostics',
      onclick: () => runner.run('Request ' + (logType.value || 'diagnostics'), 'diagnostics', logType.value ? { log_type: logType.value } : {}, () => loadUploads()),
    }, 'Request diagnostics/log'), h('button', { onclick: loadUploads }, '↻')),
    h('table', {}, h('thead', {}, h('tr', {}, ['Requested', 'What', 'Command', 'File', 'Size'].map((t) => h('th', {}, t)))), upBody));

  /* local authorization list: read the version, send a full list */
  const llVersion = num({ id: 'll-version', min: 1, value: 1 });
  const llTags = h('textarea', { id: 'll-tags', rows: 3, cols: 30, placeholder: 'TAG1 Accepted\nTAG2 Blocked' }, 'TAG1 Accepted');
  const llMsg = msg('ll-msg');
  function sendList() {
    const tokens = [];
    for (const line of llTags.value.split('\n').map((l) => l.trim()).filter(Boolean)) {
      const [tok, status] = line.split(/\s+/);
      tokens.push({ id_token: tok, status: status || 'Accepted' });
    }
    runner.run('Send local list v' + llVersion.value, 'local-list', { version: Number(llVersion.value), update_type: 'Full', tokens });
  }
  const llCard = h('div', { class: 'card', id: 'local-list-panel' }, h('h2', {}, 'Local list'),
    h('div', { class: 'row' }, h('button', {
      id: 'btn-ll-version',
      onclick: () => runner.run('Local list version', 'commands/GetLocalListVersion', {}, (c) => {
        if (c.response) llMsg.textContent = 'station has version ' + (c.response.listVersion ?? c.response.versionNumber);
      }),
    }, 'Read version'), llMsg),
    h('div', { class: 'row' }, llTags),
    h('div', { class: 'row' }, 'version', llVersion, h('button', { id: 'btn-ll-send', onclick: sendList }, 'Send full list')));

  /* reservations */
  const rvConn = num({ id: 'rv-connector', min: 0, value: 1 });
  const rvTag = h('input', { id: 'rv-token', value: 'TAG1', size: 10 });
  const rvMin = num({ id: 'rv-minutes', min: 1, value: 15 });
  const rvId = num({ id: 'rv-id', min: 1, placeholder: 'id' });
  const rvCard = h('div', { class: 'card', id: 'reservations-panel' }, h('h2', {}, 'Reservations'),
    h('div', { class: 'row' }, v16 ? 'connector' : 'EVSE', rvConn, 'tag', rvTag, 'expires in', rvMin, 'min',
      h('button', {
        id: 'btn-reserve',
        onclick: () => runner.run('Reserve', 'reserve', Object.assign({ id_token: rvTag.value.trim(), expires_at: new Date(Date.now() + Number(rvMin.value) * 60000).toISOString() }, at(Number(rvConn.value))),
          (c) => { const rid = c.request && c.request.reservationId !== undefined ? c.request.reservationId : c.request && c.request.id; if (rid !== undefined) rvId.value = rid; }),
      }, 'Reserve')),
    h('div', { class: 'row' }, 'reservation', rvId, h('button', {
      id: 'btn-cancel-reservation', onclick: () => runner.run('Cancel reservation ' + rvId.value, 'cancel-reservation', { reservation_id: Number(rvId.value) }),
    }, 'Cancel')));

  /* charging profiles: a TxDefaultProfile limit, clear, composite schedule */
  const cpConn = num({ id: 'cp-connector', min: 0, value: 1 });
  const cpUnit = h('select', { id: 'cp-unit' }, ['A', 'W'].map((u) => h('option', {}, u)));
  const cpLimit = num({ id: 'cp-limit', min: 0, step: 'any', value: 16 });
  const cpDur = num({ id: 'cp-duration', min: 1, value: 3600 });
  const cpOut = h('div', { id: 'composite' });
  function profile() {
    const sched = { chargingRateUnit: cpUnit.value, startSchedule: new Date().toISOString(), chargingSchedulePeriod: [{ startPeriod: 0, limit: Number(cpLimit.value) }] };
    return v16
      ? { chargingProfileId: 1, stackLevel: 0, chargingProfilePurpose: 'TxDefaultProfile', chargingProfileKind: 'Absolute', chargingSchedule: sched }
      : { id: 1, stackLevel: 0, chargingProfilePurpose: 'TxDefaultProfile', chargingProfileKind: 'Absolute', chargingSchedule: [Object.assign({ id: 1 }, sched)] };
  }
  function showComposite(c) {
    const r = c.response || {};
    const sched = r.chargingSchedule || r.schedule;
    if (c.status !== 'answered' || !sched) { cpOut.replaceChildren(h('p', { class: 'muted' }, 'No schedule: ' + (r.status || c.status))); return; }
    const start = sched.startSchedule || sched.scheduleStart || r.scheduleStart;
    cpOut.replaceChildren(h('p', { class: 'muted' }, 'Composite schedule', start ? ' from ' + fmtTime(start) : '', ' · ', (sched.duration ?? '?') + ' s · unit ', sched.chargingRateUnit || '—'),
      h('table', { id: 'composite-schedule' }, h('thead', {}, h('tr', {}, ['Start (s)', 'Limit', 'Phases'].map((t) => h('th', {}, t)))),
        h('tbody', {}, (sched.chargingSchedulePeriod || []).map((p) => h('tr', {}, h('td', {}, p.startPeriod), h('td', {}, p.limit), h('td', {}, p.numberPhases ?? ''))))));
  }
  const cpCard = h('div', { class: 'card', id: 'profiles-panel' }, h('h2', {}, 'Charging profiles'),
    h('div', { class: 'row' }, v16 ? 'connector' : 'EVSE', cpConn, 'limit', cpLimit, cpUnit,
      h('button', { class: 'primary', id: 'btn-cp-set', onclick: () => runner.run('Set TxDefault limit ' + cpLimit.value + ' ' + cpUnit.value, 'charging-profile', Object.assign({ profile: profile() }, at(Number(cpConn.value)))) }, 'Set limit'),
      h('button', { id: 'btn-cp-clear', onclick: () => runner.run('Clear charging profiles', 'clear-charging-profile', {}) }, 'Clear profiles')),
    h('div', { class: 'row' }, 'duration', cpDur, 's', h('button', {
      id: 'btn-cp-composite',
      onclick: () => runner.run('Composite schedule', 'commands/GetCompositeSchedule',
        v16 ? { connectorId: Number(cpConn.value), duration: Number(cpDur.value), chargingRateUnit: cpUnit.value }
          : { evseId: Number(cpConn.value), duration: Number(cpDur.value), chargingRateUnit: cpUnit.value }, showComposite),
    }, 'Get composite schedule')),
    cpOut);

  return {
    cards: [h('div', { class: 'grid2' }, fwCard, diagCard), h('div', { class: 'grid2' }, cpCard, h('div', {}, rvCard, llCard))],
    onEvent(type, d) {
      if (type === 'firmware.status') loadFirmware().catch(() => {});
      if (type === 'upload.received') loadUploads().catch(() => {});
    },
    // a panel whose list cannot be read (no files-dir, or a viewer token) says so and leaves
    // the rest of the page working
    load: () => Promise.all([
      loadImages().catch((e) => { fwMsg.textContent = 'images: ' + e.message; }),
      loadFirmware().catch((e) => { fwState.textContent = 'status: ' + e.message; }),
      loadUploads().catch((e) => { upBody.replaceChildren(h('tr', {}, h('td', { class: 'muted', colspan: 5 }, e.message))); })]),
  };
}

async function viewStation(id) {
  const st = await api('GET', '/api/v1/stations/' + encodeURIComponent(id));
  S.stations.set(st.id, Object.assign(S.stations.get(st.id) || {}, st));
  const v16 = st.ocpp_version === '1.6';
  const head = h('div', { class: 'card', id: 'station-head' });
  const conns = h('tbody');
  const results = h('tbody', { id: 'command-results' });
  const runner = commandRunner(id, results);
  const panels = stationPanels(id, v16, runner);
  const cfgBody = h('tbody', { id: 'config' });
  const journal = h('tbody', { id: 'journal' });
  const chartBox = h('div', { class: 'chart', id: 'live-chart' });
  const txInfo = h('p', { id: 'tx-info', class: 'muted' }, 'No transaction in progress.');
  let chart = null, activeTx = null;

  function renderHead() {
    const s = S.stations.get(id);
    head.replaceChildren(h('h1', {}, s.id, ' ', badge(s.online ? 'online' : 'offline', null, { id: 'station-online' })),
      h('div', { class: 'muted' }, 'OCPP ', s.ocpp_version || '—', ' · ', [s.vendor, s.model].filter(Boolean).join(' ') || 'unknown model',
        ' · firmware ', s.firmware_version || '—', ' · security profile ', s.security_profile, ' · last seen ', fmtTime(s.last_seen)));
    conns.replaceChildren(...(s.connectors || []).map((c) => h('tr', { 'data-connector': c.evse_id + ':' + c.connector_id },
      h('td', {}, c.evse_id), h('td', {}, c.connector_id), h('td', {}, badge(c.status || 'unknown', c.status)), h('td', {}, c.error_code || ''), h('td', {}, fmtTime(c.updated_at)),
      h('td', {}, h('button', { onclick: () => runner.run('Unlock ' + c.connector_id, 'unlock', { connector_id: c.connector_id, evse_id: c.evse_id || undefined }) }, 'Unlock')))));
  }

  const tokenIn = h('input', { id: 'rs-token', placeholder: 'id token', value: 'TAG1', size: 12 });
  const connIn = h('input', { id: 'rs-connector', type: 'number', min: 0, value: 1, style: 'width:5em' });
  const trig = h('select', { id: 'trigger-msg' }, ['StatusNotification', 'Heartbeat', 'BootNotification', 'MeterValues', 'FirmwareStatusNotification'].map((m) => h('option', {}, m)));
  const keysIn = h('input', { id: 'config-keys', size: 40, placeholder: v16 ? 'keys (empty = all)' : 'Component.Variable, …',
    value: v16 ? '' : 'OCPPCommCtrlr.HeartbeatInterval, OCPPCommCtrlr.MessageTimeout, AuthCtrlr.LocalPreAuthorize' });
  const buttons = h('div', {},
    h('div', { class: 'row' }, tokenIn, 'connector', connIn,
      h('button', { class: 'primary', id: 'btn-remote-start', onclick: () => runner.run('Remote start', 'remote-start', v16 ? { id_token: tokenIn.value, connector_id: Number(connIn.value) } : { id_token: tokenIn.value, evse_id: Number(connIn.value) }) }, 'Start charge'),
      h('button', { id: 'btn-remote-stop', onclick: () => { if (activeTx) runner.run('Remote stop', 'remote-stop', { transaction_id: activeTx.id }); } }, 'Stop charge')),
    h('div', { class: 'row' },
      h('button', { onclick: () => runner.run('Soft reset', 'reset', { type: 'soft' }) }, 'Soft reset'),
      h('button', { onclick: () => runner.run('Hard reset', 'reset', { type: 'hard' }) }, 'Hard reset'),
      h('button', { onclick: () => runner.run('Inoperative', 'availability', { operative: false, connector_id: Number(connIn.value) }) }, 'Make inoperative'),
      h('button', { onclick: () => runner.run('Operative', 'availability', { operative: true, connector_id: Number(connIn.value) }) }, 'Make operative'),
      h('button', { onclick: () => runner.run('Clear cache', 'clear-cache', {}) }, 'Clear cache')),
    h('div', { class: 'row' }, trig, h('button', { onclick: () => runner.run('Trigger ' + trig.value, 'trigger', { message: trig.value }) }, 'Trigger')));

  async function loadConfig() {
    const keys = keysIn.value.split(',').map((k) => k.trim()).filter(Boolean);
    const c = await runner.run('Get configuration', 'config/get', keys.length ? { keys } : {});
    if (!c) return;
    cfgWanted.add(String(c.id));
    if (c.status === 'answered') showConfig(c);
  }
  const cfgWanted = new Set();
  function showConfig(cmd) {
    const rows = [];
    const r = cmd.response || {};
    for (const k of r.configurationKey || []) rows.push({ key: k.key, value: k.value ?? '', ro: !!k.readonly });
    for (const v of r.getVariableResult || []) rows.push({ key: v.component.name + '.' + v.variable.name, value: v.attributeValue ?? '', ro: v.attributeStatus !== 'Accepted', status: v.attributeStatus });
    cfgBody.replaceChildren(...rows.map((row) => {
      const inp = h('input', { value: row.value, disabled: row.ro, size: 30 });
      return h('tr', {}, h('td', {}, row.key), h('td', {}, inp), h('td', {}, row.ro ? (row.status || 'read-only')
        : h('button', { onclick: () => runner.run('Set ' + row.key, 'config/set', { key: row.key, value: inp.value }) }, 'Save')));
    }));
  }

  async function loadJournal() {
    const page = await api('GET', '/api/v1/stations/' + encodeURIComponent(id) + '/journal?limit=50');
    journal.replaceChildren(...page.items.map((e) => h('tr', {},
      h('td', {}, fmtTime(e.at)), h('td', {}, e.direction === 'in' ? '← station' : '→ station'), h('td', {}, e.action),
      h('td', {}, h('pre', {}, JSON.stringify(e.request))),
      h('td', {}, h('pre', { class: e.error ? 'error' : '' }, e.error ? JSON.stringify(e.error) : e.response ? JSON.stringify(e.response) : '…')))));
  }

  async function loadActiveTx() {
    const page = await api('GET', '/api/v1/transactions?station=' + encodeURIComponent(id) + '&state=active&limit=1');
    if (!page.items.length) return;
    await showTx(page.items[0].id);
  }
  async function showTx(txId) {
    const tx = await api('GET', '/api/v1/transactions/' + txId);
    activeTx = tx;
    txInfo.replaceChildren('Transaction ', h('a', { href: '#/transactions/' + tx.id, id: 'tx-link', 'data-tx': tx.id }, '#' + tx.id),
      ' · token ', tx.id_token || '—', ' · started ', fmtTime(tx.started_at), ' · ', h('span', { id: 'tx-energy' }, (tx.energy_wh ?? 0) + ' Wh'),
      ' · ', h('span', { id: 'tx-state' }, tx.state));
    chart = energyChart(chartBox, 'Transaction #' + tx.id);
    if (chart) chartSamples(chart, tx);
  }

  show(head,
    h('div', { class: 'grid2' },
      h('div', { class: 'card' }, h('h2', {}, 'Connectors'),
        h('table', {}, h('thead', {}, h('tr', {}, ['EVSE', 'Connector', 'Status', 'Error', 'Since', ''].map((t) => h('th', {}, t)))), conns)),
      h('div', { class: 'card' }, h('h2', {}, 'Commands'), buttons,
        h('table', {}, h('thead', {}, h('tr', {}, ['Time', 'Command', 'Status', 'Result'].map((t) => h('th', {}, t)))), results))),
    h('div', { class: 'card' }, h('h2', {}, 'Current transaction'), txInfo, chartBox),
    ...panels.cards,
    h('div', { class: 'card' }, h('h2', {}, v16 ? 'Configuration' : 'Variables'),
      h('div', { class: 'row' }, keysIn, h('button', { id: 'btn-config', onclick: loadConfig }, 'Read from station')),
      h('table', {}, h('thead', {}, h('tr', {}, ['Key', 'Value', ''].map((t) => h('th', {}, t)))), cfgBody)),
    h('div', { class: 'card' }, h('h2', {}, 'Message log'), h('button', { onclick: loadJournal }, 'Refresh'),
      h('table', {}, h('thead', {}, h('tr', {}, ['Time', 'Direction', 'Action', 'Request', 'Response'].map((t) => h('th', {}, t)))), journal)));
  renderHead();

  S.listeners.add(async (type, d) => {
    if (d.station_id !== id) return;
    if (type.startsWith('station.') || type === 'connector.status') renderHead();
    panels.onEvent(type, d);
    if (type === 'command.result') {
      const c = await runner.onResult(d);
      if (c && cfgWanted.has(String(c.id))) showConfig(c);
    }
    if (type === 'transaction.started') await showTx(d.id);
    if (type === 'transaction.updated' || type === 'transaction.ended') {
      if (!activeTx || activeTx.id !== d.id) { await showTx(d.id); return; }
      const wh = d.energy_wh ?? null;
      if (chart) chart.add(Date.parse(d.at), wh, d.power_w);
      const e = $('#tx-energy'); if (e && wh !== null) e.textContent = wh + ' Wh';
      const s = $('#tx-state'); if (s && type === 'transaction.ended') s.textContent = 'ended';
    }
  });
  await Promise.all([loadActiveTx(), loadJournal(), panels.load()]);
}

async function viewTransactions() {
  const station = h('input', { id: 'tx-station', placeholder: 'station id' });
  const state = h('select', { id: 'tx-state-filter' }, ['', 'active', 'ended'].map((s) => h('option', { value: s }, s || 'any state')));
  const tbody = h('tbody');
  const detail = h('div', { id: 'tx-detail' });
  function params() {
    const p = new URLSearchParams();
    if (station.value) p.set('station', station.value.trim());
    if (state.value) p.set('state', state.value);
    return p;
  }
  async function load() {
    const p = params(); p.set('limit', '200');
    const page = await api('GET', '/api/v1/transactions?' + p);
    tbody.replaceChildren(...page.items.map((t) => h('tr', { class: 'click', 'data-tx': t.id, onclick: () => { location.hash = '#/transactions/' + t.id; } },
      h('td', {}, t.id), h('td', {}, t.station_id), h('td', {}, t.connector_id), h('td', {}, t.id_token || '—'), h('td', {}, badge(t.state, t.state === 'active' ? 'Charging' : 'ended')),
      h('td', {}, fmtTime(t.started_at)), h('td', {}, fmtTime(t.stopped_at)), h('td', {}, t.energy_wh ?? '—'), h('td', {}, t.stop_reason || ''))));
  }
  async function csv() {
    const res = await fetch('/api/v1/transactions.csv?' + params(), { headers: { Authorization: 'Bearer ' + S.token } });
    const blob = await res.blob();
    const a = h('a', { href: URL.createObjectURL(blob), download: 'transactions.csv' });
    document.body.append(a); a.click(); a.remove();
  }
  show(h('h1', {}, 'Transactions'),
    h('div', { class: 'row' }, station, state, h('button', { onclick: load }, 'Filter'), h('button', { onclick: csv }, 'Export CSV')),
    h('table', { id: 'transactions' }, h('thead', {}, h('tr', {}, ['#', 'Station', 'Connector', 'Token', 'State', 'Started', 'Stopped', 'Energy (Wh)', 'Reason'].map((t) => h('th', {}, t)))), tbody),
    detail);
  S.listeners.add((type) => { if (type.startsWith('transaction.')) load(); });
  await load();
}

async function viewTransaction(id) {
  const tx = await api('GET', '/api/v1/transactions/' + encodeURIComponent(id));
  const box = h('div', { class: 'chart', id: 'tx-chart' });
  show(h('h1', {}, 'Transaction #' + tx.id),
    h('div', { class: 'card' },
      h('p', {}, 'Station ', h('a', { href: '#/stations/' + encodeURIComponent(tx.station_id) }, tx.station_id), ' · connector ', tx.connector_id,
        ' · token ', tx.id_token || '—', ' · ', tx.state),
      h('p', {}, 'Started ', fmtTime(tx.started_at), ' · stopped ', fmtTime(tx.stopped_at), ' · energy ', h('strong', { id: 'tx-energy' }, (tx.energy_wh ?? '—') + ' Wh'),
        ' · meter ', tx.meter_start_wh ?? '—', ' → ', tx.meter_stop_wh ?? '—', ' Wh', tx.stop_reason ? ' · reason ' + tx.stop_reason : '')),
    h('div', { class: 'card' }, h('h2', {}, 'Energy'), box),
    h('p', {}, h('a', { href: '#/transactions' }, '← all transactions')));
  const chart = energyChart(box, 'Transaction #' + tx.id);
  if (chart) chartSamples(chart, tx);
  S.listeners.add((type, d) => {
    if (d.id !== tx.id || !chart || !type.startsWith('transaction.')) return;
    chart.add(Date.parse(d.at), d.energy_wh, d.power_w);
    if (d.energy_wh !== null && d.energy_wh !== undefined) $('#tx-energy').textContent = d.energy_wh + ' Wh';
  });
}

async function viewIdTokens() {
  const tbody = h('tbody');
  const out = h('span', { class: 'muted', id: 'idtok-msg' });
  const canEdit = S.role === 'operator' || S.role === 'admin';
  async function call(m, tok, suffix, body) {
    try { await api(m, '/api/v1/id-tokens/' + encodeURIComponent(tok) + suffix, body); await load(); } catch (e) { out.textContent = e.message; }
  }
  async function load() {
    const page = await api('GET', '/api/v1/id-tokens?limit=1000');
    tbody.replaceChildren(...page.items.map((t) => h('tr', { 'data-token': t.id_token },
      h('td', {}, t.id_token), h('td', {}, t.type || '—'), h('td', {}, badge(t.status)), h('td', {}, fmtTime(t.expiry)), h('td', {}, t.group_id || '—'),
      h('td', {}, canEdit ? [
        h('button', { onclick: () => call('POST', t.id_token, '/block') }, 'Block'), ' ',
        h('button', { onclick: () => call('PATCH', t.id_token, '', { status: 'Accepted' }) }, 'Accept'), ' ',
        h('button', { onclick: () => call('DELETE', t.id_token, '') }, 'Delete')] : ''))));
  }
  const tok = h('input', { id: 'new-token', placeholder: 'id token' });
  const status = h('select', {}, ['Accepted', 'Blocked', 'Expired', 'Invalid'].map((s) => h('option', {}, s)));
  const expiry = h('input', { type: 'datetime-local', title: 'expiry (optional)' });
  const group = h('input', { placeholder: 'group / parent id (optional)' });
  const form = canEdit ? h('div', { class: 'card' }, h('h2', {}, 'Add an id token'),
    h('div', { class: 'row' }, tok, status, expiry, group, h('button', {
      class: 'primary', id: 'add-token',
      onclick: async () => {
        const body = { id_token: tok.value.trim(), status: status.value };
        if (expiry.value) body.expiry = new Date(expiry.value).toISOString();
        if (group.value) body.group_id = group.value.trim();
        try { await api('POST', '/api/v1/id-tokens', body); out.textContent = 'added ' + body.id_token; tok.value = ''; load(); } catch (e) { out.textContent = e.message; }
      },
    }, 'Add'), out)) : null;
  show(h('h1', {}, 'Id tokens'), form,
    h('table', { id: 'id-tokens' }, h('thead', {}, h('tr', {}, ['Token', 'Type', 'Status', 'Expiry', 'Group', ''].map((t) => h('th', {}, t)))), tbody));
  await load();
}

/* ---- routing -------------------------------------------------------------------------- */
async function route() {
  if (!S.token) { showLogin(); return; }
  S.listeners.clear();
  const hash = location.hash || '#/stations';
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', hash.startsWith(a.getAttribute('href')));
  const parts = hash.slice(2).split('/').map(decodeURIComponent);
  try {
    if (parts[0] === 'stations' && parts[1]) await viewStation(parts[1]);
    else if (parts[0] === 'transactions' && parts[1]) await viewTransaction(parts[1]);
    else if (parts[0] === 'transactions') await viewTransactions();
    else if (parts[0] === 'id-tokens') await viewIdTokens();
    else await viewStations();
  } catch (e) {
    if (e.message !== 'unauthorized') show(h('p', { class: 'error' }, 'Error: ' + e.message));
  }
}

window.addEventListener('hashchange', route);
$('#logout').addEventListener('click', () => logout());
(async () => {
  if (!S.token) { showLogin(); return; }
  try { const me = await api('GET', '/api/v1/whoami'); start(me.role); } catch (e) { if (e.message !== 'unauthorized') showLogin(e.message); }
})();
