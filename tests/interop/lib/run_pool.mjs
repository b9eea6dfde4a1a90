// run_pool.mjs — runs many short-lived child processes with bounded concurrency, feeding each
// one a payload on stdin and collecting exit status and (capped) output. Used to run
// `ladewerk validate` once per generated instance without forking thousands at once.
import { spawn } from "node:child_process";

const OUTPUT_CAP = 4096; // bytes of stdout/stderr kept per run: enough for a diagnosis

// Runs one process. job: { args, input (Buffer|string|null) }.
// Resolves { code, signal, stdout, stderr, timedOut, error } — never rejects.
export function runOne(bin, job, timeoutMs = 20000) {
  return new Promise((resolvePromise) => {
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    let settled = false;
    const done = (r) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolvePromise({ stdout, stderr, timedOut, ...r });
    };
    let child;
    try {
      child = spawn(bin, job.args, { stdio: ["pipe", "pipe", "pipe"] });
    } catch (error) {
      done({ code: null, signal: null, error: String(error) });
      return;
    }
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.stdout.on("data", (d) => {
      if (stdout.length < OUTPUT_CAP) stdout += d.toString("utf8");
    });
    child.stderr.on("data", (d) => {
      if (stderr.length < OUTPUT_CAP) stderr += d.toString("utf8");
    });
    // The child may exit before reading all of stdin (e.g. a usage error): ignore EPIPE.
    child.stdin.on("error", () => {});
    child.on("error", (error) => done({ code: null, signal: null, error: String(error) }));
    child.on("close", (code, signal) => done({ code, signal, error: null }));
    if (job.input !== null && job.input !== undefined) child.stdin.end(job.input);
    else child.stdin.end();
  });
}

// Runs every job through runOne with at most `concurrency` processes alive.
// Returns results in job order.
export async function runPool(bin, jobs, concurrency = 8, timeoutMs = 20000) {
  const results = new Array(jobs.length);
  let next = 0;
  async function worker() {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await runOne(bin, jobs[i], timeoutMs);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker));
  return results;
}
