// tests/integration/security.test.mjs — connection rules of `ladewerk serve`: Basic auth
// (profile 1) right and wrong, TLS + Basic (profile 2) and mutual TLS (profile 3) with
// certificates made by openssl at test time, a duplicate connection that replaces the
// first only after it authenticates, bad frames from a raw WebSocket (the right CALLERROR,
// the session goes on), subprotocol refusal, and SignCertificate -> CertificateSigned.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import WebSocket from 'ws';
import { RPCClient } from 'ocpp-rpc';
import { tempDir, stationAdd, startServer, sql, cleanup } from './lib/server.mjs';

let dir, db, srv, tlsSrv, tlsDb;
const PW = 'correct-horse-battery-1';

function openssl(args) {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

function makeCerts() {
  // A CA, a server certificate for 127.0.0.1, and client certificates for CP3 and CPX.
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Test CA']);
  const leaf = (name, cn, ext) => {
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key',
      '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', ...ext]);
  };
  execFileSync('sh', ['-c', 'printf "subjectAltName=IP:127.0.0.1\\n" > san.ext'], { cwd: dir });
  leaf('server', '127.0.0.1', ['-extfile', 'san.ext']);
  leaf('cp3', 'CP3', []);
  leaf('cpx', 'CPX', []);
}

before(async () => {
  dir = tempDir();
  db = join(dir, 'lw.db');
  stationAdd(db, 'CP1', ['--profile', '1', '--password', PW]);
  stationAdd(db, 'CP0', ['--profile', '0']);
  srv = await startServer(db, ['--max-bad-messages', '3']);
  makeCerts();
  tlsDb = join(dir, 'tls.db');
  stationAdd(tlsDb, 'CP2', ['--profile', '2', '--password', PW]);
  stationAdd(tlsDb, 'CP3', ['--profile', '3']);
  tlsSrv = await startServer(tlsDb, ['--tls-cert', join(dir, 'server.pem'), '--tls-key',
    join(dir, 'server.key'), '--tls-ca', join(dir, 'ca.pem'), '--ca-cert', join(dir, 'ca.pem'),
    '--ca-key', join(dir, 'ca.key')]);
});

after(async () => {
  const codes = [];
  if (srv) codes.push(await srv.stop());
  if (tlsSrv) codes.push(await tlsSrv.stop());
  cleanup(dir);
  // Graceful stop exits 0 (under ASan this also means no leak was found).
  for (const c of codes) assert.equal(c.code, 0, JSON.stringify(c));
});

function client(opts) {
  return new RPCClient({ protocols: ['ocpp1.6'], strictMode: true, reconnect: false, ...opts });
}

const boot16 = { chargePointVendor: 'V', chargePointModel: 'M' };

test('profile 1: right password connects, wrong password and no password are refused', async () => {
  const ok = client({ endpoint: srv.url, identity: 'CP1', password: PW });
  await ok.connect();
  assert.equal((await ok.call('BootNotification', boot16)).status, 'Accepted');
  await ok.close();
  await assert.rejects(client({ endpoint: srv.url, identity: 'CP1', password: 'wrong-password-123' }).connect());
  await assert.rejects(client({ endpoint: srv.url, identity: 'CP1' }).connect());
});

test('duplicate connection: a wrong password never displaces; an authenticated one replaces', async () => {
  const first = client({ endpoint: srv.url, identity: 'CP1', password: PW });
  await first.connect();
  await first.call('BootNotification', boot16);
  await assert.rejects(client({ endpoint: srv.url, identity: 'CP1', password: 'not-the-password!' }).connect());
  assert.ok(Date.parse((await first.call('Heartbeat', {})).currentTime) > 0, 'first still served');
  const closed = new Promise((r) => first.once('close', r));
  const second = client({ endpoint: srv.url, identity: 'CP1', password: PW });
  await second.connect();
  await closed; // the old connection was closed by the server
  assert.ok((await second.call('Heartbeat', {})).currentTime);
  await second.close();
  // The security event is written by the store's writer thread without the session waiting
  // for it (nothing is acknowledged to a station), so poll for it instead of reading once.
  let ev = [];
  for (let i = 0; i < 50 && ev.length === 0; i++) {
    ev = sql(db, "SELECT type FROM security_events WHERE station_id='CP1' AND type='ConnectionReplaced'");
    if (ev.length === 0) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(ev.length >= 1, JSON.stringify(ev));
});

function rawSocket(identity, protocol = 'ocpp1.6') {
  const ws = new WebSocket(`${srv.url}/${identity}`, protocol ? [protocol] : []);
  const msgs = [];
  let waiter = null;
  ws.on('message', (d) => { msgs.push(JSON.parse(d.toString())); if (waiter) waiter(); });
  const next = () => new Promise((r) => {
    if (msgs.length) return r(msgs.shift());
    waiter = () => { waiter = null; r(msgs.shift()); };
  });
  return { ws, next, open: new Promise((r, j) => { ws.once('open', r); ws.once('error', j); }) };
}

test('bad frames get the CALLERROR the spec names and the session goes on', async () => {
  const s = rawSocket('CP0');
  await s.open;
  s.ws.send('this is not json');
  let m = await s.next();
  assert.equal(m[0], 4);
  assert.equal(m[1], '-1');
  assert.ok(['FormationViolation', 'ProtocolError'].includes(m[2]), JSON.stringify(m));
  s.ws.send(JSON.stringify([2, 'b1', 'BootNotification', { chargePointVendor: 5, chargePointModel: 'M' }]));
  m = await s.next();
  assert.deepEqual(m.slice(0, 3), [4, 'b1', 'TypeConstraintViolation']);
  s.ws.send(JSON.stringify([2, 'b2', 'NoSuchAction', {}]));
  m = await s.next();
  assert.deepEqual(m.slice(0, 3), [4, 'b2', 'NotImplemented']);
  s.ws.send(JSON.stringify([2, 'b3', 'BootNotification', boot16]));
  m = await s.next();
  assert.equal(m[0], 3);
  assert.equal(m[2].status, 'Accepted');
  // A third malformed message reaches max-bad-messages (3): the server closes with 1008.
  const closed = new Promise((r) => s.ws.once('close', (code) => r(code)));
  s.ws.send(JSON.stringify([2, 'b4', 'Heartbeat', { extra: 1 }]));
  m = await s.next();
  assert.deepEqual(m.slice(0, 3), [4, 'b4', 'FormationViolation']);
  assert.equal(await closed, 1008);
  // Every frame in and out is journaled (5 in, 5 out); journal writes are asynchronous.
  // The four CALLs are kept with their answers, one row each (schema 008); the frame that
  // is not JSON and its CALLERROR are a row each.
  let n = 0;
  for (let i = 0; i < 40 && n < 10; i++) {
    n = sql(db, "SELECT COUNT(*) + SUM(reply_type <> 0) AS n FROM journal WHERE station_id='CP0'")[0].n;
    if (n < 10) await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(n, 10);
  const pairs = sql(db, "SELECT msg_id, reply_type FROM journal WHERE station_id='CP0' AND reply_type <> 0 ORDER BY id");
  assert.deepEqual(pairs.map((r) => [r.msg_id, r.reply_type]), [['b1', 4], ['b2', 4], ['b3', 3], ['b4', 4]]);
});

test('no supported subprotocol: handshake completes without one, then the server closes', async () => {
  // OCPP-J §3.1.2: the server answers without Sec-WebSocket-Protocol (and closes). The ws
  // client itself fails such a handshake, which shows the header was absent.
  const ws = new WebSocket(`${srv.url}/CP0`, ['ocpp1.5']);
  const err = await new Promise((r) => ws.once('error', r));
  assert.match(err.message, /no subprotocol/);
});

function tlsClient(identity, extra = {}) {
  return client({
    endpoint: tlsSrv.url.replace('ws:', 'wss:'), identity,
    wsOpts: { ca: readFileSync(join(dir, 'ca.pem')), ...extra },
  });
}

test('profile 2: TLS + Basic auth; plain ws:// is refused for it', async () => {
  const c = tlsClient('CP2', {});
  c._options.password = PW;
  await c.connect();
  assert.equal((await c.call('BootNotification', boot16)).status, 'Accepted');
  await c.close();
  const bad = tlsClient('CP2');
  bad._options.password = 'wrong-password-xyz';
  await assert.rejects(bad.connect());
});

test('profile 3: mutual TLS with CN = station id; another CN is refused', async () => {
  const c = tlsClient('CP3', { cert: readFileSync(join(dir, 'cp3.pem')), key: readFileSync(join(dir, 'cp3.key')) });
  await c.connect();
  assert.equal((await c.call('BootNotification', boot16)).status, 'Accepted');
  // SignCertificate: Accepted, then the CSMS sends CertificateSigned with a chain it signed.
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', 'new.key', '-out', 'new.csr', '-subj', '/CN=CP3']);
  const got = new Promise((r) => c.handle('CertificateSigned', ({ params }) => {
    r(params.certificateChain);
    return { status: 'Accepted' };
  }));
  const sc = await c.call('SignCertificate', { csr: readFileSync(join(dir, 'new.csr'), 'utf8') });
  assert.equal(sc.status, 'Accepted');
  const chain = await got;
  assert.match(chain, /BEGIN CERTIFICATE/);
  execFileSync('sh', ['-c', 'cat > signed.pem'], { cwd: dir, input: chain });
  const subj = execFileSync('openssl', ['x509', '-in', 'signed.pem', '-noout', '-subject'], { cwd: dir, encoding: 'utf8' });
  assert.match(subj, /CN ?= ?CP3/);
  execFileSync('openssl', ['verify', '-CAfile', 'ca.pem', 'signed.pem'], { cwd: dir });
  await c.close();
  const wrong = tlsClient('CP3', { cert: readFileSync(join(dir, 'cpx.pem')), key: readFileSync(join(dir, 'cpx.key')) });
  await assert.rejects(wrong.connect());
  await assert.rejects(tlsClient('CP3').connect()); // no client certificate
});
