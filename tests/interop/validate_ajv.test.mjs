// validate_ajv.test.mjs — proves that `ladewerk validate` (the generated C codec) reaches the
// same verdict as an independent JSON Schema validator (ajv) on every OCPP action of 1.6,
// 2.0.1 and 2.1, request and response.
//
// For each schema, tests/interop/lib/instance_gen.mjs generates valid instances (minimal,
// maximal, multi-byte, seeded random, boundary values) and invalid mutations covering every
// constraint kind the schema uses. Each instance is first classified by ajv (configured in
// tests/interop/lib/ocpp_schemas.mjs, which documents where it deliberately departs from stock
// ajv: exact decimal multipleOf, RFC 3339 "T" and "+HH:MM"), and the generator's intent must
// match ajv's verdict. Then `ladewerk validate` runs on each instance (a pool of processes)
// and its exit code must be 0 where ajv says valid and 1 where ajv says invalid — never 2,
// never a signal. All disagreements are collected, printed and counted before failing; the
// full list is written to tests/artefacts/validate_ajv_disagreements.json.
//
// Env: LADEWERK_BIN (binary; the cross-check is skipped without it or when the binary has no
// `validate`), LADEWERK_SRC (schemas at $LADEWERK_SRC/../shared/ocpp-schemas unless
// LADEWERK_SCHEMAS is set), LADEWERK_AJV_SITES (sites per constraint kind and random samples per schema, default 1;
// 2 or more for a longer, deeper run),
// LADEWERK_AJV_JOBS (concurrent processes, default 8), LADEWERK_AJV_ALL=1 (run every instance
// on a sanitizer build too, see below).
import test from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { tmpdir } from "node:os";
import { loadAll, newAjv, isDecimalMultipleOf } from "./lib/ocpp_schemas.mjs";
import { casesFor, constraintKinds, VALID_DATE_TIMES, INVALID_DATE_TIMES, VALID_URIS, INVALID_URIS } from "./lib/instance_gen.mjs";
import { runOne, runPool } from "./lib/run_pool.mjs";

const EXPECTED_ACTIONS = { "1.6": 39, "2.0.1": 64, "2.1": 91 }; // 2.1: 90 + NotifyPeriodicEventStream
const SITES = parseInt(process.env.LADEWERK_AJV_SITES || "1", 10);
const JOBS = parseInt(process.env.LADEWERK_AJV_JOBS || "8", 10);
const BIN = process.env.LADEWERK_BIN ? resolve(process.env.LADEWERK_BIN) : null;
const SRC = resolve(process.env.LADEWERK_SRC || process.cwd());

const data = loadAll();

// Every (version, action, direction) with its schema and generated cases.
function buildSuites() {
  const suites = [];
  for (const v of data.versions) {
    for (const a of v.actions) {
      for (const dir of ["request", "response"]) {
        const s = a[dir];
        if (!s) continue;
        const label = `${v.ocpp} ${a.action} ${dir}`;
        const { cases, kinds } = casesFor(s.schema, label, { sitesPerKind: SITES, randomSamples: SITES });
        suites.push({ ocpp: v.ocpp, action: a.action, dir, schema: s, label, cases, kinds });
      }
    }
  }
  return suites;
}
const suites = buildSuites();

const textOf = (c) => c.text ?? JSON.stringify(c.instance);

// ajv's verdict; text that JSON.parse refuses is invalid before any schema applies.
function ajvVerdict(suite, c) {
  let value;
  try {
    value = JSON.parse(textOf(c));
  } catch (e) {
    return { valid: false, errors: [{ instancePath: "", keyword: "JSON.parse", message: e.message }] };
  }
  const ok = suite.schema.validate(value);
  return { valid: ok, errors: ok ? [] : suite.schema.validate.errors.map((e) => ({ ...e })) };
}

// An ajv error belongs to a mutation when it is at the mutated location, inside it, or at
// an enclosing object (required, additionalProperties).
function errorsRelated(errors, path) {
  if (!path) return true;
  const p = path === "/" ? "" : path;
  return errors.every((e) => e.instancePath === "" || p.startsWith(e.instancePath) || e.instancePath.startsWith(p));
}

function short(s, n = 800) {
  return s.length > n ? s.slice(0, n) + `… (${s.length} bytes)` : s;
}

// ---- 1. action coverage from the schema files ---------------------------------------------

test("schema files enumerate every action of 1.6, 2.0.1 and 2.1", () => {
  for (const v of data.versions) {
    assert.equal(v.actions.length, EXPECTED_ACTIONS[v.ocpp], `${v.ocpp}: action count`);
    for (const a of v.actions) {
      assert.ok(a.request, `${v.ocpp} ${a.action}: request schema`);
      const sendOnly = v.ocpp === "2.1" && a.action === "NotifyPeriodicEventStream";
      assert.equal(!!a.response, !sendOnly, `${v.ocpp} ${a.action}: response schema present`);
    }
  }
  const v16 = data.versions.find((v) => v.ocpp === "1.6");
  const drafts = { 4: 0, 6: 0 };
  for (const a of v16.actions) for (const s of [a.request, a.response]) drafts[s.draft]++;
  assert.deepEqual(drafts, { 4: 56, 6: 22 }, "1.6 draft-04 / draft-06 split");
  // Every action has cases in both directions it has.
  for (const v of data.versions)
    for (const a of v.actions)
      for (const dir of ["request", "response"])
        if (a[dir]) assert.ok(suites.some((s) => s.ocpp === v.ocpp && s.action === a.action && s.dir === dir && s.cases.length > 0));
});

// ---- 2. the independent validator and the generator agree --------------------------------

test("independent validator: exact decimal multipleOf and strict RFC 3339 date-time", () => {
  for (const draft of [4, 6]) {
    const ajv = newAjv(draft);
    const mult = ajv.compile({ type: "number", multipleOf: 0.1 });
    for (const v of [0.3, 1.1, 0.7, 2.3, 16.1, 0, -0.3, 6, 1e21, 1234567.8])
      assert.equal(mult(v), true, `draft-0${draft}: ${v} is a multiple of 0.1`);
    for (const v of [12.35, 0.15, 0.01, 7.0001, 0.30000000000000004, 1.5e-7, 0.1000000000001])
      assert.equal(mult(v), false, `draft-0${draft}: ${v} is not a multiple of 0.1`);
    const dt = ajv.compile({ type: "string", format: "date-time" });
    for (const v of VALID_DATE_TIMES) assert.equal(dt(v), true, `draft-0${draft}: ${v} is an RFC 3339 date-time`);
    for (const [why, v] of INVALID_DATE_TIMES) assert.equal(dt(v), false, `draft-0${draft}: ${v} (${why}) is not`);
    const uri = ajv.compile({ type: "string", format: "uri" });
    for (const v of VALID_URIS) assert.equal(uri(v), true, `draft-0${draft}: ${v} is a URI`);
    for (const [why, v] of INVALID_URIS) assert.equal(uri(v), false, `draft-0${draft}: ${v} (${why}) is not`);
    const len = ajv.compile({ type: "string", maxLength: 3 });
    assert.equal(len("ä€😀"), true, "maxLength counts code points");
    assert.equal(len("ä€😀x"), false, "maxLength counts code points");
  }
  assert.equal(isDecimalMultipleOf(0.3, 0.1), true);
  assert.equal(isDecimalMultipleOf(12.35, 0.1), false);
});


test("generator: ajv confirms the intent of every instance, every constraint kind is covered", () => {
  const problems = [];
  let valid = 0;
  let invalid = 0;
  for (const suite of suites) {
    const need = constraintKinds(suite.schema.schema);
    for (const k of need) if (!suite.kinds.includes(k)) problems.push(`${suite.label}: constraint kind '${k}' has no invalid case`);
    const hasValid = (k) => suite.cases.some((c) => c.kind === k);
    for (const k of ["valid:min", "valid:max", "valid:max-utf8", "valid:random"])
      if (!hasValid(k)) problems.push(`${suite.label}: no ${k} sample`);
    for (const c of suite.cases) {
      const v = ajvVerdict(suite, c);
      c.ajv = v;
      if (c.intent === "valid") valid++;
      else invalid++;
      if (v.valid !== (c.intent === "valid"))
        problems.push(`${suite.label} ${c.kind} at ${c.path}: intended ${c.intent}, ajv says ${v.valid ? "valid" : "invalid"} ${JSON.stringify(v.errors).slice(0, 300)}\n  ${short(textOf(c), 300)}`);
      else if (c.kind.startsWith("json-grammar") && v.errors[0].keyword !== "JSON.parse")
        problems.push(`${suite.label} ${c.kind}: the edit left valid JSON ${short(textOf(c), 300)}`);
      else if (!v.valid && !errorsRelated(v.errors, c.path))
        problems.push(`${suite.label} ${c.kind} at ${c.path}: ajv rejects it elsewhere ${JSON.stringify(v.errors).slice(0, 300)}`);
    }
  }
  console.log(`# generated ${valid + invalid} instances over ${suites.length} schemas: ${valid} valid, ${invalid} invalid`);
  assert.deepEqual(problems, [], `generator/ajv disagreements:\n${problems.slice(0, 40).join("\n")}`);
});

// ---- 3. ladewerk validate agrees with ajv -------------------------------------------------

const argsFor = (ocpp, action, dir, file = "-") => {
  const a = ["validate", "--ocpp", ocpp, "--action", action, dir === "request" ? "--request" : "--response"];
  return file === null ? a : a.concat(file);
};

// null when the binary can run `validate`, else the reason to skip the cross-check.
let skipReason = null;
async function checkBinary() {
  if (!BIN) return "LADEWERK_BIN is not set";
  if (!existsSync(BIN)) return `LADEWERK_BIN ${BIN} does not exist`;
  const r = await runOne(BIN, { args: argsFor("1.6", "Heartbeat", "request"), input: "{}" });
  // csms/main.c reports a subcommand whose layer is not linked in with exactly this text.
  if (r.code === 2 && /is not part of this build/.test(r.stderr)) return "this build has no `validate` command";
  return null;
}

function outcome(r) {
  if (r.error) return `spawn error ${r.error}`;
  if (r.timedOut) return "timeout";
  if (r.signal) return `signal ${r.signal}`;
  return `exit ${r.code}`;
}

test("ladewerk validate agrees with ajv on every generated instance", async (t) => {
  skipReason = await checkBinary();
  if (skipReason) {
    t.skip(skipReason);
    return;
  }
  // A sanitizer build starts about ten times slower (ASan maps its shadow memory, LSan scans
  // at exit), and the suite (scripts/test) runs the ASan build: there, run a deterministic
  // subset — per schema the first case of every constraint kind, the minimal, maximal and
  // multi-byte samples, every date-time, uri and multipleOf case, and every 8th of the rest. The verdicts come from the same code in
  // both builds; the release build (or LADEWERK_AJV_ALL=1) runs every instance.
  const sanitized = readFileSync(BIN).includes("__asan_init");
  const subset = sanitized && process.env.LADEWERK_AJV_ALL !== "1";
  const jobs = [];
  const refs = [];
  let total = 0;
  for (const suite of suites) {
    const seen = new Set();
    suite.cases.forEach((c, i) => {
      total++;
      const key = c.intent === "valid" ? (["valid:min", "valid:max", "valid:max-utf8"].includes(c.kind) ? c.kind : "valid") : c.kind.split(":")[0];
      const rare = /uri|date-time|multipleOf/.test(c.kind); // format and decimal subtleties: all
      const keep = !subset || rare || !seen.has(key) || i % 8 === 0;
      seen.add(key);
      if (!keep) return;
      if (!c.ajv) c.ajv = ajvVerdict(suite, c);
      jobs.push({ args: argsFor(suite.ocpp, suite.action, suite.dir), input: textOf(c) });
      refs.push({ suite, c });
    });
  }
  if (subset) console.log(`# sanitizer build: running ${jobs.length} of ${total} instances (LADEWERK_AJV_ALL=1 runs all)`);
  const started = Date.now();
  const results = await runPool(BIN, jobs, JOBS);
  const secs = ((Date.now() - started) / 1000).toFixed(1);

  const disagreements = [];
  const byKind = {};
  const byClass = {};
  const actionsSeen = new Set();
  for (let i = 0; i < results.length; i++) {
    const { suite, c } = refs[i];
    const r = results[i];
    actionsSeen.add(`${suite.ocpp} ${suite.action} ${suite.dir}`);
    const want = c.ajv.valid ? 0 : 1;
    if (r.code === want && !r.signal && !r.timedOut) continue;
    let cls;
    if (r.code === 0 || r.code === 1) cls = c.ajv.valid ? "ajv valid, ladewerk rejected" : "ajv invalid, ladewerk accepted";
    else cls = `ladewerk ${outcome(r)}`;
    byClass[cls] = (byClass[cls] || 0) + 1;
    byKind[c.kind] = (byKind[c.kind] || 0) + 1;
    disagreements.push({
      ocpp: suite.ocpp,
      action: suite.action,
      direction: suite.dir,
      kind: c.kind,
      path: c.path ?? null,
      class: cls,
      instance: textOf(c),
      ajvErrors: c.ajv.errors.map((e) => `${e.instancePath || "/"} ${e.keyword}: ${e.message}`),
      ladewerk: { outcome: outcome(r), stdout: r.stdout, stderr: r.stderr },
    });
  }
  console.log(`# ran ladewerk validate ${jobs.length} times in ${secs} s (${JOBS} at a time)`);

  if (disagreements.length) {
    const dir = join(SRC, "tests", "artefacts");
    try {
      mkdirSync(dir, { recursive: true });
      // Full instances for the first 500; the rest truncated, to keep the file small.
      const rows = disagreements.map((d, i) => (i < 500 ? d : { ...d, instance: short(d.instance, 2000) }));
      writeFileSync(join(dir, "validate_ajv_disagreements.json"), JSON.stringify(rows, null, 1));
    } catch {
      /* the printed report below is the primary output */
    }
    const PRINT = 150;
    for (const d of disagreements.slice(0, PRINT)) {
      console.log(
        `\n--- ${d.ocpp} ${d.action} ${d.direction} [${d.kind}] at ${d.path ?? "(whole sample)"}: ${d.class}\n` +
          `instance: ${short(d.instance)}\n` +
          `ajv: ${d.ajvErrors.length ? d.ajvErrors.slice(0, 4).join("; ") : "valid"}\n` +
          `ladewerk (${d.ladewerk.outcome}): ${short((d.ladewerk.stdout + d.ladewerk.stderr).trim(), 400)}`,
      );
    }
    if (disagreements.length > PRINT) console.log(`\n… ${disagreements.length - PRINT} more in tests/artefacts/validate_ajv_disagreements.json`);
    console.log(`\n# disagreements by class: ${JSON.stringify(byClass)}`);
    console.log(`# disagreements by kind: ${JSON.stringify(byKind)}`);
  }
  assert.equal(actionsSeen.size, suites.length, "every action and direction was exercised");
  assert.equal(disagreements.length, 0, `${disagreements.length} of ${jobs.length} instances: ladewerk and ajv disagree; by class ${JSON.stringify(byClass)}; by kind ${JSON.stringify(byKind)}`);
});

// ---- 4. usage errors, garbage, FILE/stdin ---------------------------------------------------

test("ladewerk validate: an unknown version, action or direction is a usage error (exit 2)", async (t) => {
  if (skipReason === null) skipReason = await checkBinary();
  if (skipReason) {
    t.skip(skipReason);
    return;
  }
  const hb = "{}";
  const cases = [
    ["unknown action", argsFor("1.6", "NoSuchAction", "request"), hb],
    ["unknown version", argsFor("9.9", "Heartbeat", "request"), hb],
    ["version 1.5", argsFor("1.5", "Heartbeat", "request"), hb],
    ["2.x action in 1.6", argsFor("1.6", "TransactionEvent", "request"), hb],
    ["1.6 action in 2.0.1", argsFor("2.0.1", "StartTransaction", "request"), hb],
    ["2.1-only action in 2.0.1", argsFor("2.0.1", "NotifyPeriodicEventStream", "request"), hb],
    ["action name is case-sensitive", argsFor("1.6", "heartbeat", "request"), hb],
    ["file name instead of action", argsFor("2.0.1", "HeartbeatRequest", "request"), hb],
    ["SEND message has no response", argsFor("2.1", "NotifyPeriodicEventStream", "response"), hb],
    ["no direction", ["validate", "--ocpp", "1.6", "--action", "Heartbeat", "-"], hb],
    ["no action", ["validate", "--ocpp", "1.6", "--request", "-"], hb],
  ];
  const bad = [];
  for (const [why, args, input] of cases) {
    const r = await runOne(BIN, { args, input });
    if (r.code !== 2 || r.signal) bad.push(`${why}: ${args.join(" ")} → ${outcome(r)} ${short((r.stdout + r.stderr).trim(), 200)}`);
  }
  assert.deepEqual(bad, []);
});

test("ladewerk validate: garbage input exits 1 and never crashes", async (t) => {
  if (skipReason === null) skipReason = await checkBinary();
  if (skipReason) {
    t.skip(skipReason);
    return;
  }
  const B = (...parts) => Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : Buffer.from(p))));
  const deep = (n) => "[".repeat(n) + "]".repeat(n);
  const deepObj = (n) => '{"a":'.repeat(n) + "1" + "}".repeat(n);
  // 1.6 Authorize request is {"idTag": string, maxLength 20}. The huge numbers go where a
  // bound makes them invalid under any reading: 2.0.1 NotifyEVChargingNeeds
  // chargingNeeds.dcChargingParameters.stateOfCharge, integer 0..100.
  const auth = argsFor("1.6", "Authorize", "request");
  const soc = argsFor("2.0.1", "NotifyEVChargingNeeds", "request");
  const socPayload = (n) =>
    '{"evseId":1,"chargingNeeds":{"requestedEnergyTransfer":"DC","dcChargingParameters":{"evMaxCurrent":125,"evMaxVoltage":400,"stateOfCharge":' + n + "}}}";
  const garbage = [
    ["empty", auth, ""],
    ["whitespace only", auth, " \n\t "],
    ["lone [", auth, "["],
    ["lone {", auth, "{"],
    ["truncated", auth, '{"idTag":"abc"'],
    ["unterminated string", auth, '{"idTag":"abc}'],
    ["trailing garbage", auth, '{"idTag":"abc"} x'],
    ["two values", auth, '{"idTag":"abc"}{"idTag":"abc"}'],
    ["trailing comma", auth, '{"idTag":"abc",}'],
    ["single quotes", auth, "{'idTag':'abc'}"],
    ["bare word", auth, "idTag"],
    ["NaN", auth, '{"idTag":NaN}'],
    ["huge number payload", auth, "1e999999"],
    ["huge negative number payload", auth, "-" + "9".repeat(5000)],
    ["deep array nesting", auth, deep(100000)],
    ["deep object nesting", auth, deepObj(50000)],
    ["deep nesting inside a field", auth, '{"idTag":' + deep(20000) + "}"],
    ["unbalanced deep nesting", auth, "[".repeat(100000)],
    ["invalid UTF-8 byte", auth, B('{"idTag":"a', [0xff, 0xfe], 'b"}')],
    ["overlong UTF-8", auth, B('{"idTag":"a', [0xc0, 0xaf], 'b"}')],
    ["UTF-8 encoded surrogate", auth, B('{"idTag":"a', [0xed, 0xa0, 0x80], 'b"}')],
    ["truncated UTF-8 sequence", auth, B('{"idTag":"a', [0xe2, 0x82], '"}')],
    ["UTF-8 beyond U+10FFFF", auth, B('{"idTag":"a', [0xf4, 0x90, 0x80, 0x80], '"}')],
    ["invalid UTF-8 in a key", auth, B('{"id', [0xff], 'Tag":"abc"}')],
    ["raw NUL in string", auth, B('{"idTag":"a', [0x00], 'b"}')],
    ["raw newline in string", auth, '{"idTag":"a\nb"}'],
    ["invalid escape", auth, '{"idTag":"a\\xb"}'],
    ["short unicode escape", auth, '{"idTag":"a\\u12"}'],
    ["NUL after the value", auth, B('{"idTag":"abc"}', [0x00])],
    ["huge number below minimum", soc, socPayload("-1e999999")],
    ["huge integer below minimum", soc, socPayload("-" + "9".repeat(400))],
    ["huge number above maximum", soc, socPayload("1e999999")],
    ["huge integer above maximum", soc, socPayload("9".repeat(400))],
  ];
  // Self-check: the "huge number" cases are valid JSON that ajv rejects, and the same
  // payloads with sane numbers are valid (so only the number decides).
  const notifySchema = data.versions.find((v) => v.ocpp === "2.0.1").actions.find((a) => a.action === "NotifyEVChargingNeeds").request.validate;
  for (const [why, args, input] of garbage.filter(([, a]) => a === soc)) {
    assert.equal(notifySchema(JSON.parse(input)), false, `${why}: ajv must reject`);
    const sane = input.replace(/-?1e999999|-?9{400}/, "50");
    assert.notEqual(sane, input);
    assert.equal(notifySchema(JSON.parse(sane)), true, `${why}: sane variant must be valid: ${JSON.stringify(notifySchema.errors)}`);
  }
  const results = await runPool(BIN, garbage.map(([, args, input]) => ({ args, input })), JOBS);
  const bad = [];
  garbage.forEach(([why, , input], i) => {
    const r = results[i];
    if (r.code !== 1 || r.signal || r.timedOut) bad.push(`${why}: ${outcome(r)} for ${short(JSON.stringify(input.toString("latin1")), 120)}\n  ${short((r.stdout + r.stderr).trim(), 300)}`);
  });
  assert.deepEqual(bad, [], "garbage inputs must exit 1 without crashing");
});

test("ladewerk validate: reads FILE, '-' and stdin alike", async (t) => {
  if (skipReason === null) skipReason = await checkBinary();
  if (skipReason) {
    t.skip(skipReason);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "lw-ajv-"));
  try {
    const good = join(dir, "good.json");
    const bad = join(dir, "bad.json");
    writeFileSync(good, '{"idTag":"04E91C5A123456"}');
    writeFileSync(bad, '{"idTag":"04E91C5A1234567890123"}'); // 21 characters, maxLength 20
    const problems = [];
    const expect = async (why, args, input, want) => {
      const r = await runOne(BIN, { args, input });
      if (r.code !== want || r.signal) problems.push(`${why}: want exit ${want}, got ${outcome(r)} ${short((r.stdout + r.stderr).trim(), 200)}`);
    };
    await expect("valid FILE", argsFor("1.6", "Authorize", "request", good), null, 0);
    await expect("invalid FILE", argsFor("1.6", "Authorize", "request", bad), null, 1);
    await expect("valid on stdin, no FILE", argsFor("1.6", "Authorize", "request", null), '{"idTag":"04E91C5A123456"}', 0);
    await expect("invalid on stdin, no FILE", argsFor("1.6", "Authorize", "request", null), '{"idTag":"04E91C5A1234567890123"}', 1);
    await expect("valid on stdin, '-'", argsFor("1.6", "Authorize", "request", "-"), '{"idTag":"04E91C5A123456"}', 0);
    assert.deepEqual(problems, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
