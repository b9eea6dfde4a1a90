// sim_proc.mjs — a `ladewerk sim` child for the interop tests (sim_files, sim_ocpp_rpc): spawned
// with stdout and stderr collected into one log (shown when a test fails), and stopped with
// SIGTERM, then SIGKILL if it has not exited 5 s later.
import { spawn } from 'node:child_process';

// Starts `bin sim ...args`; returns { proc, log } where log grows with the child's output.
export function spawnSim(bin, args) {
  const proc = spawn(bin, ['sim', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const sim = { proc, log: '' };
  proc.stdout.on('data', (d) => { sim.log += d; });
  proc.stderr.on('data', (d) => { sim.log += d; });
  return sim;
}

// Stops the child if it still runs and waits for its exit.
export async function stopSim(sim) {
  const p = sim.proc;
  if (p.exitCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  const t = setTimeout(() => { sim.log += '\n(sim did not stop on SIGTERM)'; p.kill('SIGKILL'); }, 5000);
  await exited;
  clearTimeout(t);
}
