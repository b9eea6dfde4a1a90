// instance_gen.mjs — generates JSON instances for one OCPP JSON schema: valid samples
// (minimal, maximal, maximal with multi-byte strings, seeded random ones, boundary values)
// and invalid mutations, one violated constraint each, covering every constraint kind the
// schema uses. validate_ajv.test.mjs classifies each instance with ajv and then checks that
// `ladewerk validate` reaches the same verdict.
//
// Only the keywords the OCA files use are understood: type, properties, required,
// additionalProperties, items, minItems, maxItems, enum, maxLength, minimum, maximum,
// multipleOf, format (date-time, uri), $ref into #/definitions. An unknown keyword with a
// validation meaning makes the generator throw, so a new schema cannot be half-covered.
//
// Everything derives from a seeded Rng: the same seed gives the same instances.
import { Rng, hashString } from "./rng.mjs";

const KNOWN_KEYWORDS = new Set([
  "$schema", "$id", "id", "title", "description", "comment", "javaType", "default",
  "definitions", "type", "properties", "required", "additionalProperties", "items",
  "additionalItems", "minItems", "maxItems", "enum", "maxLength", "minimum", "maximum",
  "multipleOf", "format", "$ref",
]);

// Ceiling on the size of generated valid samples: stays below the codec's default frame
// limit (64 KiB, include/ladewerk/limits.h) so that a size limit never decides a verdict.
const SIZE_BUDGET = 48 * 1024;

export const VALID_DATE_TIMES = [
  "2024-05-01T10:00:00Z",
  "2024-02-29T23:59:59.999Z", // leap day
  "2023-11-05T08:30:00.123456+02:00",
  "2023-12-31T23:00:00-08:00",
  "2000-02-29T00:00:00+05:30", // leap day in a century divisible by 400
  "2024-05-01t10:00:00z", // RFC 3339 §5.6 NOTE: "T" and "Z" may be lower case
  "1999-01-01T00:00:00.5+00:00",
  "2016-12-31T23:59:60Z", // a real leap second (RFC 3339 §5.7: 23:59:60 UTC)
];

// Each invalid date-time carries the reason, reported as the mutation kind.
export const INVALID_DATE_TIMES = [
  ["no-timezone", "2024-05-01T10:00:00"],
  ["impossible-date", "2023-02-30T10:00:00Z"],
  ["garbage", "yesterday at noon"],
  ["non-leap-feb-29", "2023-02-29T10:00:00Z"],
  ["month-13", "2024-13-01T10:00:00Z"],
  ["april-31", "2024-04-31T10:00:00Z"],
  ["hour-24", "2024-05-01T24:00:00Z"],
  ["minute-60", "2024-05-01T10:60:00Z"],
  ["date-only", "2024-05-01"],
  ["empty", ""],
  ["space-separator", "2024-05-01 10:00:00Z"],
  ["offset-without-colon", "2024-05-01T10:00:00+0200"],
  ["offset-hours-only", "2024-05-01T10:00:00+02"],
  ["unpadded", "2024-5-1T10:00:00Z"],
  ["empty-fraction", "2024-05-01T10:00:00.Z"],
  ["epoch-seconds", "1714557600"],
  ["trailing-space", "2024-05-01T10:00:00Z "],
  ["offset-hour-24", "2024-05-01T10:00:00+24:00"],
  ["leap-second-not-at-23:59-utc", "2024-05-01T12:00:60Z"], // RFC 3339 §5.7; ajv-formats agrees
];
const CORE_DATE_TIME_KINDS = ["no-timezone", "impossible-date", "garbage"];

export const VALID_URIS = [
  "https://firmware.example.com/lw22/1.4.2/image.bin",
  "ftp://diag:secret@192.168.10.5:2121/upload/",
  "http://[2001:db8::1]:8080/fw.bin?channel=stable#sig",
  "sftp://logs.example.org/cp/CP0001",
  "http://[v7.lw-host]/fw.bin", // RFC 3986 IPvFuture literal
];
export const INVALID_URIS = [
  ["no-scheme", "firmware.example.com/lw22/image.bin"],
  ["scheme-relative", "//firmware.example.com/image.bin"],
  ["space-in-host", "http://firm ware.example.com/image.bin"],
  ["bad-ipv6-literal", "http://[2001:db8::.1]:8080/fw.bin"],
  ["empty", ""],
];

// multipleOf 0.1 (the only divisor in the OCA files): values binary floats get wrong.
const MULTIPLE_OF_VALID = [0.3, 1.1, 0.7, 2.3, 4.6, 10.2, 16.1, 32.9, 0, 6, -0.3, 1234.5];
const MULTIPLE_OF_INVALID = [12.35, 0.15, 7.0001, 0.01, 1.05, 0.30000000000000004];

// Multi-byte characters: 2, 3 and 4 bytes of UTF-8 (😀 is a UTF-16 surrogate pair), so a
// length counted in bytes or UTF-16 units differs from the code-point count; and characters
// JSON text must escape (quote, backslash, newline, tab, U+0001), so a length counted on the
// escaped text differs too. (U+0000 is left out: the codec rejects it by design, see
// include/ladewerk/codec.h.)
const MB_CHARS = ["ä", "€", "😀", '"', "ß", "\\", "語", "\n", "x", "\t", "/", "\u0001"];

const WORDS = [
  "alpha", "bravo", "charge", "delta", "energy", "fuse", "grid", "hertz", "joule", "kilo",
  "ladewerk", "meter", "north", "ohm", "phase", "quartz", "relay", "socket", "tariff", "volt",
];

// Realistic values by property name (truncated to maxLength when needed).
const NAMED = {
  idTag: "04E91C5A123456",
  parentIdTag: "04E91C5A000001",
  idToken: "04E91C5A123456",
  vendorId: "com.ladewerk",
  chargePointVendor: "Ladewerk GmbH",
  vendorName: "Ladewerk GmbH",
  chargePointModel: "LW-22",
  model: "LW-22",
  chargePointSerialNumber: "LW22-000123",
  chargeBoxSerialNumber: "LW22-000123",
  serialNumber: "LW22-000123",
  firmwareVersion: "1.4.2",
  iccid: "8949020000001234567",
  imsi: "262011234567890",
  meterType: "EM-340",
  meterSerialNumber: "EM340-77",
  messageId: "TariffUpdate",
  data: "{\"pricePerKWh\":0.39}",
  key: "HeartbeatInterval",
  value: "300",
  status: "Accepted",
  info: "operator note",
  reason: "Local",
  language1: "de",
  language2: "en",
  currency: "EUR",
  csr: "-----BEGIN CERTIFICATE REQUEST-----\nMIIBWjCCAQACAQAwHjEcMBoGA1UEAwwTQ1AwMDAx\n-----END CERTIFICATE REQUEST-----\n",
  certificate: "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUJ2xGZ0\n-----END CERTIFICATE-----\n",
  certificateChain: "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUJ2xGZ0\n-----END CERTIFICATE-----\n",
  issuerNameHash: "6b0a1f6e3c1d5b2e4f7a8c9d0e1f2a3b4c5d6e7f",
  issuerKeyHash: "8c9d0e1f2a3b4c5d6e7f6b0a1f6e3c1d5b2e4f7a",
  serialNumberHash: "01a2b3c4d5",
  responderURL: "http://ocsp.example.com/",
  exiRequest: "gAQAAAAAAAAAAAAAAAAAA==",
  exiResponse: "gAQAAAAAAAAAAAAAAAAAA==",
  location: "https://firmware.example.com/lw22/1.4.2/image.bin",
  remoteAddress: "192.0.2.17",
};

function isObj(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

export function deref(node, root) {
  let n = node;
  for (let guard = 0; n && n.$ref; guard++) {
    if (guard > 16) throw new Error(`$ref loop at ${node.$ref}`);
    const m = /^#\/definitions\/(.+)$/.exec(n.$ref);
    if (!m || !root.definitions || !root.definitions[m[1]]) throw new Error(`unresolvable $ref ${n.$ref}`);
    n = root.definitions[m[1]];
  }
  for (const k of Object.keys(n)) if (!KNOWN_KEYWORDS.has(k)) throw new Error(`unknown schema keyword '${k}'`);
  return n;
}

// The JSON type a schema node demands ("object", "array", "string", "integer", "number",
// "boolean"); a node without "type" but with "properties" is an object; a node with no
// constraint at all (DataTransfer's "data") accepts any JSON value: "any".
function typeOf(n) {
  if (typeof n.type === "string") return n.type;
  if (n.type !== undefined) throw new Error(`unsupported type ${JSON.stringify(n.type)}`);
  if (n.properties) return "object";
  const constraining = Object.keys(n).filter((k) => !["description", "comment", "javaType", "title", "default"].includes(k));
  if (constraining.length === 0) return "any";
  throw new Error(`schema node without type: ${JSON.stringify(n).slice(0, 120)}`);
}

// Values for an unconstrained node: every JSON type, nested.
const ANY_VALUES = [
  "free text",
  { vendor: "Ladewerk", values: [1, -2.5, 1e21, true, null, "ü😀"], nested: { a: { b: [] } } },
  [1, "two", { three: 3 }],
  -0.5,
  0,
  true,
  null,
];

function cp(s) {
  return [...s];
}
function cpLen(s) {
  return cp(s).length;
}
function truncateCp(s, n) {
  return cp(s).slice(0, n).join("");
}
function asciiFill(n, seed = 0) {
  const pat = "Ladewerk-OCPP-0123456789-";
  let s = "";
  while (s.length < n) s += pat;
  return s.slice(seed % pat.length).concat(s).slice(0, n);
}
// n code points; short strings are all multi-byte, long ones ASCII with a multi-byte character
// every 64 positions so that the byte size stays within budget.
export function multibyteFill(n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    if (n <= 512 || i % 64 === 0) out.push(MB_CHARS[i % MB_CHARS.length]);
    else out.push("abcdefgh"[i % 8]);
  }
  return out.join("");
}

// ---- instance generation ------------------------------------------------------------------

// mode: "min" (required only), "max" (every property, arrays filled, long strings),
// "maxu" (as max, strings filled with multi-byte characters), "rand" (seeded choices).
// force: a path (array of keys/indices) that must exist in the result (used to build a small
// instance that still contains a given site).
class Gen {
  constructor(root, rng, mode, force = null, caps = {}) {
    this.root = root;
    this.rng = rng;
    this.mode = mode;
    this.force = force;
    this.arrayCap = caps.arrayCap ?? 8; // "max" fills an array to maxItems up to this many
    this.stringCap = caps.stringCap ?? 1024; // "max" fills a string to maxLength up to this
  }

  value(node, name, path) {
    const n = deref(node, this.root);
    const t = typeOf(n);
    const forced = this.force && this.isForcedPrefix(path);
    switch (t) {
      case "object":
        return this.object(n, path, forced);
      case "array":
        return this.array(n, name, path, forced);
      case "string":
        return this.string(n, name);
      case "integer":
        return this.integer(n);
      case "number":
        return this.number(n);
      case "boolean":
        return this.mode === "min" ? false : this.mode === "rand" ? this.rng.chance(0.5) : true;
      case "any":
        if (this.mode === "min") return ANY_VALUES[0];
        if (this.mode === "rand") return this.rng.pick(ANY_VALUES);
        return ANY_VALUES[1];
      default:
        throw new Error(`unsupported type ${t}`);
    }
  }

  isForcedPrefix(path) {
    if (path.length > this.force.length) return false;
    for (let i = 0; i < path.length; i++) if (path[i] !== this.force[i]) return false;
    return true;
  }

  object(n, path, forced) {
    const out = {};
    const req = new Set(n.required || []);
    const props = n.properties || {};
    for (const [k, sub] of Object.entries(props)) {
      const mustForce = forced && path.length < this.force.length && this.force[path.length] === k;
      let include;
      if (req.has(k) || mustForce) include = true;
      else if (this.mode === "max" || this.mode === "maxu") include = true;
      else if (this.mode === "rand") include = this.rng.chance(0.5);
      else include = false;
      if (include) out[k] = this.value(sub, k, path.concat(k));
    }
    for (const k of req) if (!(k in props)) throw new Error(`required '${k}' has no schema`);
    // Where unknown members are allowed (CustomDataType), the maximal sample carries one, so
    // that the codec is seen to skip it.
    if (n.additionalProperties !== false) {
      const addExtra = this.mode === "max" || this.mode === "maxu" || (this.mode === "rand" && this.rng.chance(0.4));
      if (addExtra) out["x-ladewerk-extension"] = { note: "vendor data", n: [1, 2.5, true, null, { deep: ["a"] }] };
    }
    return out;
  }

  array(n, name, path, forced) {
    const lo = n.minItems ?? 0;
    const hi = n.maxItems ?? Infinity;
    let count;
    if (this.mode === "min") count = lo;
    else if (this.mode === "rand") count = this.rng.int(lo, Math.max(lo, Math.min(hi, 3)));
    else count = Math.max(lo, Math.min(hi, this.arrayCap, hi <= 8 ? hi : 3));
    if (forced && path.length < this.force.length) count = Math.max(count, this.force[path.length] + 1);
    const out = [];
    for (let i = 0; i < count; i++) out.push(this.value(n.items, name, path.concat(i)));
    return out;
  }

  string(n, name) {
    if (n.enum) {
      const vals = n.enum;
      if (this.mode === "min") return vals[0];
      if (this.mode === "max" || this.mode === "maxu") return vals[vals.length - 1];
      return vals[this.rng.int(0, vals.length - 1)];
    }
    if (n.format === "date-time") {
      if (this.mode === "min") return VALID_DATE_TIMES[0];
      if (this.mode === "max" || this.mode === "maxu") return VALID_DATE_TIMES[2];
      return this.rng.pick(VALID_DATE_TIMES);
    }
    if (n.format === "uri") {
      if (this.mode === "min") return VALID_URIS[0];
      if (this.mode === "max" || this.mode === "maxu") return VALID_URIS[2];
      return this.rng.pick(VALID_URIS);
    }
    if (n.format !== undefined) throw new Error(`unsupported format ${n.format}`);
    const ml = n.maxLength ?? Infinity;
    const realistic = () => {
      let s = NAMED[name];
      if (s === undefined) {
        const k = this.rng.int(1, 3);
        s = Array.from({ length: k }, () => this.rng.pick(WORDS)).join("-");
      }
      return truncateCp(s, ml);
    };
    if (this.mode === "min") return realistic();
    if (this.mode === "rand") {
      const r = realistic();
      // Sometimes a different length in range, sometimes with multi-byte characters.
      if (this.rng.chance(0.25)) return multibyteFill(Math.min(ml, this.rng.int(1, 40)));
      if (this.rng.chance(0.25) && ml !== Infinity && ml <= 1024) return asciiFill(this.rng.int(1, ml), this.rng.int(0, 9));
      return r;
    }
    if (this.mode === "max") return ml <= this.stringCap ? asciiFill(ml) : ml === Infinity ? asciiFill(Math.min(300, this.stringCap)) : realistic();
    const cap = Math.min(512, this.stringCap);
    return ml <= cap ? multibyteFill(ml) : multibyteFill(Math.min(40, cap));
  }

  integer(n) {
    const lo = n.minimum;
    const hi = n.maximum;
    if (this.mode === "min") return lo ?? (hi !== undefined ? Math.min(hi, 1) : 1);
    if (this.mode === "max" || this.mode === "maxu") return hi ?? 2147483647;
    const a = lo ?? -1000;
    const b = hi ?? 100000;
    return this.rng.int(Math.min(a, b), Math.max(a, b));
  }

  number(n) {
    const lo = n.minimum;
    const hi = n.maximum;
    if (n.multipleOf !== undefined && n.multipleOf !== 0.1) throw new Error(`unsupported multipleOf ${n.multipleOf}`);
    if (this.mode === "min") return lo ?? (hi !== undefined ? Math.min(hi, 0) : 0);
    if (this.mode === "max" || this.mode === "maxu") return hi ?? 12345.6;
    const a = lo ?? -500;
    const b = hi ?? 50000;
    // Tenths (exact decimals like 0.3 that binary floats cannot hold) or hundredths where no
    // multipleOf applies; JSON.stringify writes the shortest round-trip text.
    const scale = n.multipleOf !== undefined || this.rng.chance(0.5) ? 10 : 100;
    const v = this.rng.int(Math.ceil(a * scale), Math.floor(b * scale)) / scale;
    return v;
  }
}

export function generate(root, mode, rng, force = null, caps = {}) {
  return new Gen(root, rng, mode, force, caps).value(root, "", []);
}

// A "max"/"maxu" sample within SIZE_BUDGET: deeply nested arrays filled to maxItems grow
// multiplicatively, so array and string fill are lowered step by step until it fits.
const CAP_STEPS = [
  { arrayCap: 8, stringCap: 1024 },
  { arrayCap: 3, stringCap: 1024 },
  { arrayCap: 2, stringCap: 512 },
  { arrayCap: 2, stringCap: 128 },
  { arrayCap: 1, stringCap: 128 },
  { arrayCap: 1, stringCap: 32 },
];
function generateWithinBudget(root, mode, rng, label, serialize = JSON.stringify) {
  for (const caps of CAP_STEPS) {
    const v = generate(root, mode, rng.fork(mode + caps.arrayCap + "/" + caps.stringCap), null, caps);
    if (Buffer.byteLength(serialize(v)) <= SIZE_BUDGET) return v;
  }
  throw new Error(`${label}: no ${mode} sample fits in ${SIZE_BUDGET} bytes`);
}

// ---- sites: every schema location present in an instance ----------------------------------

// Walks an instance with its schema and calls fn({ path, node, value }) for each value that a
// schema node describes (array elements: only the first, which stands for all).
export function walkSites(root, instance, fn) {
  const visit = (node, value, path) => {
    const n = deref(node, root);
    fn({ path, node: n, value });
    if (isObj(value) && n.properties) {
      for (const [k, sub] of Object.entries(n.properties)) if (k in value) visit(sub, value[k], path.concat(k));
    } else if (Array.isArray(value) && n.items && value.length > 0) {
      visit(n.items, value[0], path.concat(0));
    }
  };
  visit(root, instance, []);
}

function clone(v) {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}
function setAt(obj, path, v) {
  if (path.length === 0) return v;
  const out = clone(obj);
  let cur = out;
  for (let i = 0; i < path.length - 1; i++) cur = cur[path[i]];
  cur[path[path.length - 1]] = v;
  return out;
}
function getAt(obj, path) {
  let cur = obj;
  for (const k of path) cur = cur[k];
  return cur;
}
function deleteAt(obj, path) {
  const out = clone(obj);
  let cur = out;
  for (let i = 0; i < path.length - 1; i++) cur = cur[path[i]];
  delete cur[path[path.length - 1]];
  return out;
}

// JSON text with every non-ASCII character written as \uXXXX (surrogate pairs for astral
// characters): the decoded value is unchanged, so the verdict must be too.
export function escapedJson(v) {
  return JSON.stringify(v).replace(/[\u0080-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

export function pathString(path) {
  return "/" + path.map(String).join("/");
}

// ---- the cases for one schema -------------------------------------------------------------

// Returns { cases: [{ kind, intent: "valid"|"invalid", instance, text?, path? }], kinds }
// where kinds lists the constraint kinds the schema uses (each must be covered by at least
// one invalid case). sitesPerKind bounds how many locations one kind is exercised at (more
// sites: a longer, deeper run), randomSamples the number of seeded random valid samples.
export function casesFor(root, label, { randomSamples = 1, sitesPerKind = 1 } = {}) {
  // required and additionalProperties are always tried at the top level and one nested object.
  const structural = Math.max(2, sitesPerKind);
  const rng = new Rng(hashString(label));
  const cases = [];
  const add = (kind, intent, instance, extra = {}) => cases.push({ kind, intent, instance, ...extra });

  // Valid samples.
  const minI = generate(root, "min", rng.fork("min"));
  const maxI = generateWithinBudget(root, "max", rng, label);
  const maxU = generateWithinBudget(root, "maxu", rng, label);
  add("valid:min", "valid", minI);
  add("valid:max", "valid", maxI);
  add("valid:max-utf8", "valid", maxU);
  const maxUE = generateWithinBudget(root, "maxu", rng, label, escapedJson);
  add("valid:max-utf8-escaped", "valid", maxUE, { text: escapedJson(maxUE) });
  for (let i = 0; i < randomSamples; i++) add("valid:random", "valid", generate(root, "rand", rng.fork(`rand${i}`)));

  // Enum sweep: every value of every enum, at every enum site of a compact maximal sample
  // (sample k sets each site to its k-th value, wrapping), so that no enum entry of the
  // generated code goes untested.
  const sweepBase = generate(root, "max", rng.fork("sweep"), null, { arrayCap: 1, stringCap: 32 });
  const enumSites = [];
  walkSites(root, sweepBase, (s) => s.node.enum && enumSites.push(s));
  const sweeps = Math.max(0, ...enumSites.map((s) => s.node.enum.length));
  for (let k = 0; k < sweeps; k++) {
    let inst = sweepBase;
    for (const s of enumSites) inst = setAt(inst, s.path, s.node.enum[k % s.node.enum.length]);
    add("valid:enum-sweep", "valid", inst);
  }

  // Sites, from the maximal sample (it contains every property).
  const sites = [];
  walkSites(root, maxI, (s) => sites.push(s));
  const kinds = new Set();
  const smallBase = (path) => generate(root, "min", rng.fork("force" + pathString(path)), path);
  // Mutations alternate between the maximal sample and a minimal one that contains the site.
  let alt = 0;
  const baseFor = (path) => (alt++ % 2 === 0 ? maxI : smallBase(path));
  // Chooses up to k sites, seeded: one site is a random pick; more start with the shallowest
  // (the top level) and add random picks among the rest (mostly nested).
  const choose = (list, k = sitesPerKind, tag = "") => {
    if (list.length === 0) return [];
    const r = rng.fork("choose" + tag + list.length);
    if (k === 1) return [list[r.int(0, list.length - 1)]];
    const sorted = [...list].sort((a, b) => a.path.length - b.path.length);
    const out = [sorted[0]];
    const rest = sorted.slice(1);
    while (out.length < k && rest.length) out.push(rest.splice(r.int(0, rest.length - 1), 1)[0]);
    return out;
  };
  const mutate = (kind, site, value, extra = {}) => {
    kinds.add(kind.split(":")[0] === "type" ? kind : kind.split(":")[0]);
    const base = extra.base ?? baseFor(site.path);
    add(kind, "invalid", setAt(base, site.path, value), { path: pathString(site.path) });
  };
  const typed = (t) => sites.filter((s) => typeOf(s.node) === t);

  // required property missing
  for (const s of choose(sites.filter((s) => (s.node.required || []).length > 0), structural, "req")) {
    const req = s.node.required;
    const key = req[rng.int(0, req.length - 1)];
    const base = baseFor(s.path);
    kinds.add("required");
    add("required", "invalid", s.path.length ? setAt(base, s.path, deleteAt(getAt(base, s.path), [key])) : deleteAt(base, [key]), {
      path: pathString(s.path.concat(key)),
    });
  }
  // wrong JSON types
  for (const s of choose(typed("string"), sitesPerKind, "s2n")) mutate("type:string-as-number", s, 42);
  for (const s of choose([...typed("integer"), ...typed("number")], sitesPerKind, "n2s")) mutate("type:number-as-string", s, String(s.value));
  for (const s of choose(typed("integer"), sitesPerKind, "frac")) mutate("type:integer-as-fraction", s, 1.5);
  for (const s of choose(typed("object").filter((s) => s.path.length > 0), sitesPerKind, "o2a")) mutate("type:object-as-array", s, [s.value]);
  for (const s of choose(typed("array"), sitesPerKind, "a2o")) mutate("type:array-as-object", s, { 0: getAt(maxI, s.path)[0] ?? {} });
  for (const s of choose(typed("boolean"), 1, "b2s")) mutate("type:boolean-as-string", s, "true");
  for (const s of choose(typed("boolean"), 1, "b2n")) mutate("type:boolean-as-number", s, 1);
  // null (allowed nowhere) at any site, or a boolean where a string belongs: one per schema,
  // alternating between schemas.
  if (hashString(label) % 2 === 0 || typed("string").length === 0) {
    for (const s of choose(sites.filter((s) => s.path.length > 0 && typeOf(s.node) !== "any"), 1, "null")) mutate("type:null", s, null);
  } else {
    for (const s of choose(typed("string"), 1, "s2b")) mutate("type:string-as-boolean", s, true);
  }
  // enum
  for (const s of choose(sites.filter((s) => s.node.enum), sitesPerKind, "enum")) {
    mutate("enum:not-in-list", s, "NotAnEnumValue");
    const lower = s.node.enum[0].toLowerCase() !== s.node.enum[0] ? s.node.enum[0].toLowerCase() : s.node.enum[0].toUpperCase();
    if (!s.node.enum.includes(lower)) mutate("enum:wrong-case", s, lower);
  }
  // maxLength (ASCII and multi-byte: JSON Schema counts code points), with the exact-length
  // multi-byte string as a valid boundary sample.
  for (const s of choose(sites.filter((s) => s.node.maxLength !== undefined), sitesPerKind, "ml")) {
    const ml = s.node.maxLength;
    mutate("maxLength:ascii", s, asciiFill(ml + 1), { base: smallBase(s.path) });
    mutate("maxLength:utf8", s, multibyteFill(ml + 1), { base: smallBase(s.path) });
    const b = smallBase(s.path);
    add("valid:maxLength-exact-utf8", "valid", setAt(b, s.path, multibyteFill(ml)), { path: pathString(s.path) });
    if (ml > 1024) add("valid:maxLength-exact-ascii", "valid", setAt(b, s.path, asciiFill(ml)), { path: pathString(s.path) });
  }
  // The escaped form of an over-long string is still over-long.
  for (const s of choose(sites.filter((s) => s.node.maxLength !== undefined && s.node.maxLength <= 512), 1, "mle")) {
    kinds.add("maxLength");
    const inst = setAt(smallBase(s.path), s.path, multibyteFill(s.node.maxLength + 1));
    add("maxLength:utf8-escaped", "invalid", inst, { text: escapedJson(inst), path: pathString(s.path) });
  }
  // minimum / maximum, with the bounds themselves as valid boundary samples.
  const step = (s) => (typeOf(s.node) === "integer" ? 1 : 0.1);
  for (const s of choose(sites.filter((s) => s.node.minimum !== undefined), sitesPerKind, "min")) {
    mutate("minimum", s, +(s.node.minimum - step(s)).toFixed(1));
    add("valid:minimum-exact", "valid", setAt(maxI, s.path, s.node.minimum), { path: pathString(s.path) });
  }
  for (const s of choose(sites.filter((s) => s.node.maximum !== undefined), sitesPerKind, "max")) {
    mutate("maximum", s, +(s.node.maximum + step(s)).toFixed(1));
    add("valid:maximum-exact", "valid", setAt(maxI, s.path, s.node.maximum), { path: pathString(s.path) });
  }
  // multipleOf: exact decimal arithmetic (see ocpp_schemas.mjs)
  for (const s of sites.filter((s) => s.node.multipleOf !== undefined)) {
    for (const v of MULTIPLE_OF_INVALID) mutate("multipleOf", s, v);
    for (const v of MULTIPLE_OF_VALID) add("valid:multipleOf", "valid", setAt(maxI, s.path, v), { path: pathString(s.path) });
    // The same decimal in exponent notation: "1.23e1" is 12.3.
    const inst = setAt(maxI, s.path, 12.3);
    add("valid:multipleOf-exponent", "valid", inst, { text: JSON.stringify(inst).replace(/(?<=[:\[,])12\.3(?=[,\]}])/, "1.23e1"), path: pathString(s.path) });
  }
  // minItems / maxItems, with exactly maxItems as a valid boundary sample.
  for (const s of choose(sites.filter((s) => (s.node.minItems ?? 0) > 0), sitesPerKind, "mini")) {
    const few = getAt(smallBase(s.path), s.path).slice(0, s.node.minItems - 1);
    mutate("minItems", s, few);
  }
  for (const s of choose(sites.filter((s) => s.node.maxItems !== undefined), sitesPerKind, "maxi")) {
    const b = smallBase(s.path.concat(0));
    const el = getAt(b, s.path)[0];
    mutate("maxItems", s, Array.from({ length: s.node.maxItems + 1 }, () => el), { base: b });
    const exact = setAt(b, s.path, Array.from({ length: s.node.maxItems }, () => el));
    if (JSON.stringify(exact).length <= SIZE_BUDGET) add("valid:maxItems-exact", "valid", exact, { path: pathString(s.path) });
  }
  // additionalProperties: false, at the top and nested
  const closed = sites.filter((s) => typeOf(s.node) === "object" && s.node.additionalProperties === false);
  for (const s of choose(closed, structural, "ap")) {
    const base = baseFor(s.path);
    const obj = { ...getAt(base, s.path), unexpectedProperty: "surprise" };
    mutate("additionalProperties", s, obj, { base });
  }
  // date-time: the core three at one site, the rest rotated over the others
  const dts = sites.filter((s) => s.node.format === "date-time");
  if (dts.length) {
    const r = rng.fork("dt");
    const main = choose(dts, 1, "dt")[0];
    for (const [why, v] of INVALID_DATE_TIMES.filter(([w]) => CORE_DATE_TIME_KINDS.includes(w))) mutate(`date-time:${why}`, main, v);
    const extras = INVALID_DATE_TIMES.filter(([w]) => !CORE_DATE_TIME_KINDS.includes(w));
    for (const s of choose(dts, sitesPerKind + 1, "dt2")) {
      const [why, v] = extras[r.int(0, extras.length - 1)];
      mutate(`date-time:${why}`, s, v);
      const ok = VALID_DATE_TIMES[r.int(0, VALID_DATE_TIMES.length - 1)];
      add("valid:date-time", "valid", setAt(maxI, s.path, ok), { path: pathString(s.path) });
    }
  }
  // uri
  for (const s of sites.filter((s) => s.node.format === "uri")) {
    for (const [why, v] of INVALID_URIS) mutate(`uri:${why}`, s, v);
    for (const v of VALID_URIS) add("valid:uri", "valid", setAt(maxI, s.path, v), { path: pathString(s.path) });
  }
  // Number syntax: the same value written differently ("1.0", "1e0", "-0", "1.23E1") must get
  // the same verdict; the JSON text is edited after serialising, ajv sees the parsed value.
  const numSites = [...typed("integer"), ...typed("number")];
  const h0 = hashString(label);
  if (numSites.length) {
    const s = choose(numSites, 1, "numsyn")[0];
    const base = baseFor(s.path);
    const v = getAt(base, s.path);
    const forms = Number.isInteger(v)
      ? v === 0
        ? ["-0", "0.0", "0e5", "-0.0E-3"]
        : [`${v}.0`, `${v}e0`, `${v}0e-1`, `${v}.000E+0`]
      : [`${v}e0`, `${v}E+0`, `${v}000`, `${v}0e0`];
    const form = forms[h0 % forms.length];
    const marked = JSON.stringify(setAt(base, s.path, "__LW_NUMBER__"));
    kinds.add("number-syntax");
    add("valid:number-syntax", "valid", base, { text: marked.replace('"__LW_NUMBER__"', form), path: pathString(s.path) });
  }
  // JSON grammar violations (not JSON at all: ajv never sees a value, JSON.parse refuses it).
  // Each edit damages an existing value of a valid sample, so nothing but the grammar is wrong.
  const GRAMMAR = [
    ["leading-zero", (t) => t.replace(/":(-?)(\d)/, '":$10$2')],
    ["plus-sign", (t) => t.replace(/":(\d)/, '":+$1')],
    ["bare-fraction", (t) => t.replace(/":(\d+)([,}\]])/, '":.$1$2')],
    ["NaN", (t) => t.replace(/":-?\d[\d.eE+-]*/, '":NaN')],
    ["trailing-comma", (t) => t.replace(/}$/, ",}")],
    ["single-quotes", (t) => t.replace(/"/g, "'")],
    ["raw-control-char", (t) => t.replace(/:"/, ':"\u0001')],
    ["invalid-escape", (t) => t.replace(/:"/, ':"\\q')],
    ["unquoted-key", (t) => t.replace(/^\{"([^"]+)"/, "{$1")],
    ["missing-colon", (t) => t.replace(/^\{("[^"]+"):/, "{$1 ")],
    ["unclosed", (t) => t.slice(0, -1)],
  ];
  {
    const good = JSON.stringify(maxI);
    let [why, edit] = GRAMMAR[h0 % GRAMMAR.length];
    let text = edit(good);
    if (text === good) {
      // The sample has no value of that kind (e.g. no number): cut it short instead.
      why = "unclosed";
      text = good.slice(0, -1);
    }
    kinds.add("json-grammar");
    add(`json-grammar:${why}`, "invalid", null, { text, path: "/" });
  }
  // payload not an object
  const notObjects = [[], "payload", 42, null, true, [minI]];
  kinds.add("not-object");
  add("not-object", "invalid", notObjects[hashString(label) % notObjects.length], { path: "/" });

  return { cases, kinds: [...kinds] };
}

// The constraint kinds a schema uses, read from the schema itself (independent of the
// generator), so the test can check that each one received at least one invalid case.
export function constraintKinds(root) {
  const kinds = new Set(["not-object"]);
  const seen = new Set();
  const visit = (node, depth) => {
    const n = deref(node, root);
    if (seen.has(n)) return;
    seen.add(n);
    const t = typeOf(n);
    if ((n.required || []).length) kinds.add("required");
    if (n.enum) kinds.add("enum");
    if (n.maxLength !== undefined) kinds.add("maxLength");
    if (n.minimum !== undefined) kinds.add("minimum");
    if (n.maximum !== undefined) kinds.add("maximum");
    if (n.multipleOf !== undefined) kinds.add("multipleOf");
    if ((n.minItems ?? 0) > 0) kinds.add("minItems");
    if (n.maxItems !== undefined) kinds.add("maxItems");
    if (t === "object" && n.additionalProperties === false) kinds.add("additionalProperties");
    if (n.format) kinds.add(n.format);
    if (t === "string") kinds.add("type:string-as-number");
    if (t === "integer") kinds.add("type:integer-as-fraction");
    if (t === "integer" || t === "number") kinds.add("type:number-as-string");
    if (t === "boolean") kinds.add("type:boolean-as-string");
    if (t === "array") kinds.add("type:array-as-object");
    if (t === "object" && depth > 0) kinds.add("type:object-as-array");
    for (const sub of Object.values(n.properties || {})) visit(sub, depth + 1);
    if (n.items) visit(n.items, depth + 1);
  };
  visit(root, 0);
  return [...kinds];
}
