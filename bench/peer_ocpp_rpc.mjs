// peer_ocpp_rpc.mjs — the peer baseline of the benchmark suite (bench/run): a small CSMS
// built on ocpp-rpc (npm), strict mode on (every call and response checked against the OCPP
// schemas ocpp-rpc ships), ocpp1.6 and ocpp2.0.1, all state in memory. It answers what the
// load generator (bench/bench_load.c) sends: BootNotification, StatusNotification,
// Heartbeat, Authorize, StartTransaction, MeterValues, StopTransaction and 2.0.1
// TransactionEvent. Nothing is persisted: this is what a typical Node CSMS costs before any
// database.
//
//   node bench/peer_ocpp_rpc.mjs --listen 127.0.0.1:PORT [--tls-cert F --tls-key K]
//
// Prints "listening HOST:PORT" once ready; stops on SIGTERM/SIGINT.
import { RPCServer } from 'ocpp-rpc';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';

const args = process.argv.slice(2);
function opt(name, def) {
    const i = args.indexOf(name);
    return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
}
const [host, portStr] = opt('--listen', '127.0.0.1:18182').split(':');
const port = Number(portStr);
const tlsCert = opt('--tls-cert', null);
const tlsKey = opt('--tls-key', null);
if (host !== '127.0.0.1') {
    console.error('peer: binds 127.0.0.1 only');
    process.exit(2);
}

const server = new RPCServer({
    protocols: ['ocpp1.6', 'ocpp2.0.1'],
    strictMode: true,
    // Keepalive pings off, as for the other servers in the same run: idle means idle.
    pingIntervalMs: 0,
});

// In-memory domain: stations, connector status, transactions, meter samples counted.
const stations = new Map();
let nextTxId = 1;
const transactions = new Map();
let meterSamples = 0;

const now = () => new Date().toISOString();

server.auth((accept, reject, handshake) => accept({ id: handshake.identity }));

server.on('client', (client) => {
    const st = { id: client.identity, boot: null, connectors: new Map(), lastSeen: 0 };
    stations.set(client.identity, st);
    client.on('close', () => stations.delete(client.identity));
    const v16 = client.protocol === 'ocpp1.6';

    client.handle('BootNotification', ({ params }) => {
        st.boot = params;
        return { status: 'Accepted', currentTime: now(), interval: 300 };
    });
    client.handle('Heartbeat', () => {
        st.lastSeen = Date.now();
        return { currentTime: now() };
    });
    client.handle('StatusNotification', ({ params }) => {
        st.connectors.set(v16 ? params.connectorId : `${params.evseId}/${params.connectorId}`,
            v16 ? params.status : params.connectorStatus);
        return {};
    });
    client.handle('Authorize', () => (v16 ? { idTagInfo: { status: 'Accepted' } }
        : { idTokenInfo: { status: 'Accepted' } }));
    client.handle('StartTransaction', ({ params }) => {
        const id = nextTxId++;
        transactions.set(String(id), { station: st.id, start: params.meterStart, samples: 0 });
        return { transactionId: id, idTagInfo: { status: 'Accepted' } };
    });
    client.handle('MeterValues', ({ params }) => {
        const tx = params.transactionId !== undefined ? transactions.get(String(params.transactionId))
            : undefined;
        for (const mv of params.meterValue) {
            meterSamples += mv.sampledValue.length;
            if (tx) tx.samples += mv.sampledValue.length;
        }
        return {};
    });
    client.handle('StopTransaction', ({ params }) => {
        transactions.delete(String(params.transactionId));
        return { idTagInfo: { status: 'Accepted' } };
    });
    client.handle('TransactionEvent', ({ params }) => {
        const key = `${st.id}/${params.transactionInfo.transactionId}`;
        if (params.eventType === 'Started') transactions.set(key, { station: st.id, samples: 0 });
        const tx = transactions.get(key);
        for (const mv of params.meterValue ?? []) {
            meterSamples += mv.sampledValue.length;
            if (tx) tx.samples += mv.sampledValue.length;
        }
        if (params.eventType === 'Ended') transactions.delete(key);
        return params.idToken ? { idTokenInfo: { status: 'Accepted' } } : {};
    });
});

// Both servers are Node's own (ocpp-rpc's documented handleUpgrade), so that the listen
// backlog can be 4096 like the ceiling's: with ocpp-rpc's listen() it is Node's default 511,
// and a boot storm with more connects in flight than that overflows the accept queue (SYNs
// dropped and retried a second later: 2,900 -> 1,270 stations/s at 1,024 in flight).
let httpServer;
if (tlsCert) {
    httpServer = https.createServer({
        cert: fs.readFileSync(tlsCert),
        key: fs.readFileSync(tlsKey),
        minVersion: 'TLSv1.3',
        noDelay: true,
    });
} else {
    httpServer = http.createServer({ noDelay: true }, (req, res) => {
        res.statusCode = 404;
        res.end();
    });
}
httpServer.on('upgrade', server.handleUpgrade);
await new Promise((res) => httpServer.listen(port, host, 4096, res));
console.log(`listening ${host}:${port}`);

let stopping = false;
async function stop() {
    if (stopping) process.exit(0);
    stopping = true;
    setTimeout(() => process.exit(0), 2000).unref();
    httpServer.close();
    await server.close({ awaitPending: false, force: true });
    process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
