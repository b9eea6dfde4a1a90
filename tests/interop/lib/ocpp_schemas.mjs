// ocpp_schemas.mjs — loads the vendored OCA OCPP-J schemas and builds an independent
// validator (ajv) for each of them. Used by validate_ajv.test.mjs to cross-check the
// generated C codec behind `ladewerk validate`.
//
// Where this file deliberately departs from stock ajv, and why:
//  1. multipleOf: ajv divides binary doubles (optionally with a tolerance,
//     `multipleOfPrecision`). The project rule is exact decimal comparison: 0.3 IS a multiple
//     of 0.1, 0.30000000000000004 and 12.35 are NOT. A tolerance would accept
//     0.1000000000001, so ajv's keyword is replaced by an exact decimal check on the number's
//     shortest round-trip text (the test only sends numbers whose JSON text is exactly that
//     text, so the check sees what ladewerk sees).
//  2. date-time: ajv-formats' "full" mode checks the calendar and requires a time zone, but it
//     also accepts a space instead of "T" and offsets written "+0200" or "+02". RFC 3339 §5.6's
//     ABNF (which JSON Schema cites) requires "T"/"t" and "+HH:MM", so both forms are
//     rejected here on top of ajv-formats' check. A leap second (":60") is accepted only at
//     23:59 UTC, as ajv-formats does (RFC 3339 §5.7).
//  3. strict: false — the OCA files carry non-standard keywords (javaType, comment),
//     `additionalProperties` on string types and `additionalItems` next to a single `items`
//     schema; all are annotations to a validator and must not make compilation fail.
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { createRequire } from "node:module";
import Ajv from "ajv";
import Ajv04 from "ajv-draft-04";
import addFormats from "ajv-formats";

const require = createRequire(import.meta.url);
const draft06Meta = require("ajv/dist/refs/json-schema-draft-06.json");

export const VERSIONS = [
  { ocpp: "1.6", dir: "v16" },
  { ocpp: "2.0.1", dir: "v201" },
  { ocpp: "2.1", dir: "v21" },
];

export function schemaRoot() {
  if (process.env.LADEWERK_SCHEMAS) return resolve(process.env.LADEWERK_SCHEMAS);
  const src = process.env.LADEWERK_SRC || process.cwd();
  return resolve(src, "..", "shared", "ocpp-schemas");
}

// Enumerates the actions of one version from its file names.
// v16: <Action>.json (request) / <Action>Response.json; v201, v21: <Action>Request.json /
// <Action>Response.json, plus a bare <Action>.json for a SEND message (NotifyPeriodicEventStream).
// Returns [{ action, request: file|null, response: file|null }], sorted by action.
export function listActions(root, dir) {
  const files = readdirSync(join(root, dir)).filter((f) => f.endsWith(".json"));
  const byAction = new Map();
  const get = (a) => {
    if (!byAction.has(a)) byAction.set(a, { action: a, request: null, response: null });
    return byAction.get(a);
  };
  for (const f of files) {
    const base = f.slice(0, -5);
    if (base.endsWith("Response")) get(base.slice(0, -8)).response = f;
    else if (dir !== "v16" && base.endsWith("Request")) get(base.slice(0, -7)).request = f;
    else get(base).request = f;
  }
  return [...byAction.values()].sort((a, b) => (a.action < b.action ? -1 : 1));
}

// ---- exact decimal multipleOf -------------------------------------------------------------

// Parses a finite JS number's shortest round-trip text into { m: BigInt, e: int } with
// value = m * 10^e exactly.
function toDecimal(x) {
  const s = String(x);
  const mt = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/i.exec(s);
  if (!mt) throw new Error(`not a finite decimal: ${s}`);
  const frac = mt[3] || "";
  const m = BigInt(mt[1] + mt[2] + frac);
  const e = (mt[4] ? parseInt(mt[4], 10) : 0) - frac.length;
  return { m, e };
}

export function isDecimalMultipleOf(x, d) {
  if (!Number.isFinite(x)) return false;
  const a = toDecimal(x);
  const b = toDecimal(d);
  const e = Math.min(a.e, b.e);
  const A = a.m * 10n ** BigInt(a.e - e);
  const B = b.m * 10n ** BigInt(b.e - e);
  return A % B === 0n;
}

// ---- RFC 3339 strictness on top of ajv-formats --------------------------------------------

const RFC3339_SHAPE = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function configure(ajv) {
  addFormats(ajv, { mode: "full", formats: ["date-time", "uri"] });
  const base = ajv.formats["date-time"];
  const baseValidate = typeof base === "function" ? base : base.validate;
  ajv.addFormat("date-time", {
    type: "string",
    validate: (s) => RFC3339_SHAPE.test(s) && baseValidate(s),
  });
  ajv.removeKeyword("multipleOf");
  ajv.addKeyword({
    keyword: "multipleOf",
    type: "number",
    schemaType: "number",
    errors: true,
    validate: function decimalMultipleOf(divisor, data) {
      if (isDecimalMultipleOf(data, divisor)) return true;
      decimalMultipleOf.errors = [
        {
          keyword: "multipleOf",
          message: `must be a multiple of ${divisor} (exact decimal)`,
          params: { multipleOf: divisor },
        },
      ];
      return false;
    },
  });
  return ajv;
}

// A validator configured as described at the top of this file, for draft 4 or 6.
export function newAjv(draft) {
  const opts = { strict: false, allErrors: true, validateFormats: true };
  if (draft === 4) return configure(new Ajv04(opts));
  const ajv = new Ajv(opts);
  ajv.addMetaSchema(draft06Meta);
  return configure(ajv);
}

// Loads every schema of every version and compiles it.
// Returns { root, versions: [{ ocpp, dir, actions: [{ action, request, response }] }] }
// where request/response are { file, schema, validate } or null.
export function loadAll() {
  const root = schemaRoot();
  if (!existsSync(root)) throw new Error(`OCPP schemas not found at ${root}`);
  const out = { root, versions: [] };
  for (const v of VERSIONS) {
    // One ajv per version and draft: $id values are unique within a version.
    const ajvs = { 4: newAjv(4), 6: newAjv(6) };
    const actions = [];
    for (const a of listActions(root, v.dir)) {
      const load = (file) => {
        if (!file) return null;
        const schema = JSON.parse(readFileSync(join(root, v.dir, file), "utf8"));
        const draft = /draft-04/.test(schema.$schema) ? 4 : /draft-06/.test(schema.$schema) ? 6 : 0;
        if (!draft) throw new Error(`${v.dir}/${file}: unexpected $schema ${schema.$schema}`);
        return { file, schema, draft, validate: ajvs[draft].compile(schema) };
      };
      actions.push({ action: a.action, request: load(a.request), response: load(a.response) });
    }
    out.versions.push({ ...v, actions });
  }
  return out;
}
