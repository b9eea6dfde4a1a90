// tests/integration/lib/server.mjs — starts the real `ladewerk serve` on 127.0.0.1 with a temp
// database for integration tests, registers stations through `ladewerk station add`, and
// reads the SQLite file with the sqlite3 CLI. Shared by the *.test.mjs files here.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const BIN = process.env.LADEWERK_BIN || 'build/ladewerk';

export function tempDir() {
  return mkdtempSync(join(tmpdir(), 'lw-it-'));
}

// Runs `ladewerk station add ID ...` against db.
export function stationAdd(db, id, args = []) {
  return execFileSync(BIN, ['station', 'add', id, '--db', `sqlite:${db}`, ...args], {
    encoding: 'utf8',
  });
}

// Runs `ladewerk token create --role ROLE` against db; returns the token (its last line).
export function tokenCreate(db, role) {
  const out = execFileSync(BIN, ['token', 'create', '--role', role, '--db', `sqlite:${db}`], {
    encoding: 'utf8',
  });
  return out.trim().split('\n').pop();
}

export function sql(db, query) {
  const out = execFileSync('sqlite3', ['-json', db, query], { encoding: 'utf8' });
  return out.trim() ? JSON.parse(out) : [];
}

// Starts the server; resolves { proc, port, url, httpPort, http, stop(), kill(), log() } once
// it prints its "serving OCPP on HOST:PORT" line (the HTTP line comes before it). Its files
// (firmware, uploads) go to files/ next to the database, not to the working directory; extra
// flags come last, so they override these.
export function startServer(db, extra = []) {
  const args = ['serve', '--db', `sqlite:${db}`, '--ocpp-listen', '127.0.0.1:0',
    '--http-listen', '127.0.0.1:0', '--threads', '2', '--log-level', 'debug',
    '--files-dir', join(dirname(db), 'files'), ...extra];
  const proc = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}\n${err}`)), 10000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited ${code}:\n${out}\n${err}`));
    });
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /serving OCPP on [^:]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        proc.removeAllListeners('exit');
        const port = Number(m[1]);
        const h = /serving HTTP on [^:]+:(\d+)/.exec(out);
        const httpPort = h ? Number(h[1]) : 0;
        const exited = new Promise((r) => proc.on('exit', (code, sig) => r({ code, sig })));
        resolve({
          proc, port, url: `ws://127.0.0.1:${port}/ocpp`,
          httpPort, http: `http://127.0.0.1:${httpPort}`,
          log: () => err,
          stop: async () => { proc.kill('SIGTERM'); return exited; },
          kill: async () => { proc.kill('SIGKILL'); return exited; },
          exited,
        });
      }
    });
  });
}

export function cleanup(dir) {
  rmSync(dir, { recursive: true, force: true });
}
