#!/usr/bin/env python3
"""samples.py — writes valid sample payloads for every OCPP message, for the codec tests.

    python3 tools/codegen/samples.py --schemas ../shared/ocpp-schemas --out tests/data/samples

For each message (names as in include/ladewerk/codec.h, e.g. BootNotificationRequest) it
writes <out>/<v16|v201|v21>/<Name>.min.json (required properties only, fewest array items)
and <Name>.max.json (every property, arrays with items, strings at their maxLength with
multi-byte characters, bounds at their limits, extra members in open objects). The values
are derived from the schema alone, so the files are deterministic. Python 3.11, stdlib only.
"""

import argparse
import decimal
import json
import os
import sys

FILL = "aé€😀"  # 1-, 2-, 3- and 4-byte UTF-8; each one code point


def text(n, seed):
    s = (seed + FILL * (n // len(FILL) + 2))[:n]
    return s


def resolve(node, defs):
    while "$ref" in node:
        node = defs[node["$ref"].split("/")[-1]]
    return node


def sample(node, defs, full, name, arrays=0):
    node = resolve(node, defs)
    t = node.get("type")
    if t is None:
        return {"k": [1, "x", None, True, {"n": 2.5}]} if full else "s"
    if t == "object":
        out = {}
        props = node.get("properties", {})
        req = node.get("required", [])
        for p, pn in props.items():
            if full or p in req:
                out[p] = sample(pn, defs, full, p, arrays)
        if full and node.get("additionalProperties", True) is not False:
            out["vendorExtra"] = {"a": [1, 2], "b": "é"}
        return out
    if t == "array":
        lo = int(node.get("minItems", 0))
        hi = int(node.get("maxItems", 1000))
        n = max(lo, min(2 if arrays == 0 else 1, hi)) if full else max(lo, 1 if lo else 0)
        if not full and n == 0:
            n = 1  # an empty array says little; one item still is "minimal"
        n = min(n, hi)
        return [sample(node["items"], defs, full, name, arrays + 1) for _ in range(n)]
    if t == "string":
        if "enum" in node:
            return node["enum"][-1 if full else 0]
        fmt = node.get("format")
        if fmt == "date-time":
            return "2026-01-02T03:04:05.678+01:00" if full else "2026-01-02T03:04:05Z"
        if fmt == "uri":
            return "ftp://user@example.com:21/a/b%20c?q=1#frag" if full else "http://example.com"
        lo = int(node.get("minLength", 0))
        hi = int(node.get("maxLength", 50))
        if full:
            return text(min(hi, 30) if hi >= lo else lo, "")
        return text(max(lo, min(hi, 3)), "x")
    if t == "integer":
        lo = node.get("minimum")
        hi = node.get("maximum")
        if full:
            return int(hi) if hi is not None else (int(lo) + 1000000 if lo is not None else -123456789012)
        return int(lo) if lo is not None else 0
    if t == "number":
        lo = node.get("minimum")
        hi = node.get("maximum")
        if full:
            v = decimal.Decimal(hi) if hi is not None else decimal.Decimal("1234.5")
            if lo is not None and v < decimal.Decimal(lo):
                v = decimal.Decimal(lo)
            if "multipleOf" not in node and hi is None:
                v = decimal.Decimal("-0.000123")
                if lo is not None and v < decimal.Decimal(lo):
                    v = decimal.Decimal(lo) + decimal.Decimal("0.25")
            return v
        return decimal.Decimal(lo) if lo is not None else decimal.Decimal("0.5")
    if t == "boolean":
        return bool(full)
    raise SystemExit(f"samples: {name}: unsupported type {t}")


def dumps(v):
    # Decimals are written as their exact text.
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, dict):
        return "{" + ",".join(json.dumps(k) + ":" + dumps(x) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ",".join(dumps(x) for x in v) + "]"
    return json.dumps(v, ensure_ascii=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--schemas", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    for v in ("v16", "v201", "v21"):
        d = os.path.join(a.schemas, v)
        od = os.path.join(a.out, v)
        os.makedirs(od, exist_ok=True)
        for fn in sorted(os.listdir(d)):
            if not fn.endswith(".json"):
                continue
            base = fn[:-5]
            if v == "v16" and not base.endswith("Response"):
                name = base + "Request"
            else:
                name = base if base.endswith(("Request", "Response")) else base + "Request"
            with open(os.path.join(d, fn), encoding="utf-8-sig") as fh:
                sch = json.load(fh, parse_float=decimal.Decimal)
            defs = sch.get("definitions", {})
            for full, suffix in ((False, "min"), (True, "max")):
                with open(os.path.join(od, f"{name}.{suffix}.json"), "w", encoding="utf-8") as fh:
                    fh.write(dumps(sample(sch, defs, full, name)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
