#!/usr/bin/env python3
"""codegen.py — OCA OCPP-J JSON schemas -> C codec tables for Ladewerk (lib/codec/gen/).

Usage (as `make codegen` runs it):
    python3 tools/codegen/codegen.py --schemas ../shared/ocpp-schemas --out lib/codec/gen

For each version (v16, v201, v21) it writes ocppNN.h (structs, enums, typed decode/encode/free
wrappers, descriptor declarations) and ocppNN.c (static const descriptor tables that the
hand-written runtime lib/codec/codec.c interprets, and the action table). Naming rules are in
include/ladewerk/codec.h. Directions (who sends each CALL) come from directions.json beside
this file, because the schemas do not say.

Output is deterministic: no dates, no absolute paths, sorted tables. Python 3.11, stdlib only.
"""

import argparse
import decimal
import json
import os
import re
import sys

VERSIONS = [("v16", "LW_OCPP_16", "ocpp16"), ("v201", "LW_OCPP_201", "ocpp201"), ("v21", "LW_OCPP_21", "ocpp21")]
C_KEYWORDS = {
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum",
    "extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict",
    "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union",
    "unsigned", "void", "volatile", "while", "bool", "true", "false",
}
# Keywords that only document: they do not constrain a value.
IGNORED = {"description", "javaType", "comment", "$comment", "title", "default", "$schema", "$id",
           "definitions", "tsEnumNames"}


class GenError(Exception):
    pass


def upper_snake(s):
    s = re.sub(r"([a-z])([A-Z])", r"\1_\2", s)
    s = re.sub(r"([A-Z])([A-Z][a-z])", r"\1_\2", s)
    s = re.sub(r"[^A-Za-z0-9]+", "_", s).strip("_")
    return s.upper()


def strip_docs(n):
    if isinstance(n, dict):
        return {k: strip_docs(v) for k, v in n.items() if k not in ("description", "javaType", "comment", "$comment")}
    if isinstance(n, list):
        return [strip_docs(x) for x in n]
    return n


class Enum:
    def __init__(self, name, values):
        self.name, self.values = name, list(values)


class Field:
    def __init__(self, name):
        self.name = name
        self.kind = None
        self.array = False
        self.required = False
        self.c = {}  # constraints
        self.target = None  # Obj or Enum


class Obj:
    def __init__(self, name):
        self.name = name
        self.fields = []
        self.open = False


class Version:
    def __init__(self, key, cver, stem, dirpath, label):
        self.key, self.cver, self.stem, self.dir, self.label = key, cver, stem, dirpath, label
        self.objs = {}  # name -> Obj
        self.enums = {}  # name -> Enum
        self.defs_seen = {}  # definition name -> stripped schema (consistency check)
        self.msgs = []  # (msg name, Obj, file)
        self.actions = []  # (action, req msg, resp msg or None, dir)

    def p(self):
        return "lw_" + self.key

    def P(self):
        return "LW_" + self.key.upper()

    # ---- schema -> model ----------------------------------------------------------------
    def resolve_ref(self, ref, defs, fname):
        if not ref.startswith("#/definitions/"):
            raise GenError(f"{fname}: unsupported $ref {ref}")
        name = ref[len("#/definitions/"):]
        if name not in defs:
            raise GenError(f"{fname}: $ref to missing definition {name}")
        stripped = json.dumps(strip_docs(defs[name]), sort_keys=True, default=str)
        if name in self.defs_seen and self.defs_seen[name] != stripped:
            raise GenError(f"{fname}: definition {name} differs from another file's")
        self.defs_seen[name] = stripped
        return name, defs[name]

    def field_from(self, node, owner, pname, defs, fname, stack):
        f = Field(pname)
        self.fill(f, node, owner + "_" + pname, defs, fname, stack)
        return f

    def fill(self, f, node, inline_name, defs, fname, stack, named=None):
        unknown = set(node) - IGNORED - {"type", "$ref", "properties", "required", "additionalProperties",
                                         "enum", "maxLength", "minLength", "minimum", "maximum",
                                         "multipleOf", "format", "items", "minItems", "maxItems",
                                         "additionalItems"}
        if unknown:
            raise GenError(f"{fname}: {inline_name}: unsupported keywords {sorted(unknown)}")
        if "$ref" in node:
            name, target = self.resolve_ref(node["$ref"], defs, fname)
            if name in stack:
                raise GenError(f"{fname}: recursive definition {name}")
            self.fill(f, target, name, defs, fname, stack + [name], named=name)
            return
        t = node.get("type")
        if isinstance(t, list):
            raise GenError(f"{fname}: {inline_name}: type lists are not supported")
        if t is None:
            if set(node) - IGNORED:
                raise GenError(f"{fname}: {inline_name}: constraints without a type")
            f.kind = "ANY"
        elif t == "array":
            if f.array:
                raise GenError(f"{fname}: {inline_name}: arrays of arrays are not supported")
            if not isinstance(node.get("items"), dict):
                raise GenError(f"{fname}: {inline_name}: array without an items schema")
            f.array = True
            if "minItems" in node:
                f.c["min_items"] = int(node["minItems"])
            if "maxItems" in node:
                f.c["max_items"] = int(node["maxItems"])
            self.fill(f, node["items"], inline_name, defs, fname, stack)
        elif t == "object":
            name = named or inline_name
            f.kind = "OBJECT"
            f.target = self.obj_from(node, name, defs, fname, stack)
        elif t == "string" and "enum" in node:
            name = named or inline_name
            f.kind = "ENUM"
            vals = node["enum"]
            if any(not isinstance(v, str) for v in vals) or len(set(vals)) != len(vals):
                raise GenError(f"{fname}: {name}: enum values must be distinct strings")
            if name in self.enums and self.enums[name].values != vals:
                raise GenError(f"{fname}: enum {name} defined twice differently")
            self.enums.setdefault(name, Enum(name, vals))
            f.target = self.enums[name]
        elif t == "string":
            f.kind = "STRING"
            if "minLength" in node:
                f.c["min_len"] = int(node["minLength"])
            if "maxLength" in node:
                f.c["max_len"] = int(node["maxLength"])
            fmt = node.get("format")
            if fmt not in (None, "date-time", "uri"):
                raise GenError(f"{fname}: {inline_name}: unsupported format {fmt}")
            if fmt:
                f.c["format"] = fmt
        elif t in ("integer", "number"):
            f.kind = "INT" if t == "integer" else "NUMBER"
            for k in ("minimum", "maximum"):
                if k in node:
                    v = decimal.Decimal(str(node[k]))
                    if t == "integer":
                        if v != v.to_integral_value():
                            raise GenError(f"{fname}: {inline_name}: fractional {k} on an integer")
                        f.c[k] = int(v)
                    else:
                        f.c[k] = v
            if "multipleOf" in node:
                m = decimal.Decimal(str(node["multipleOf"])).normalize()
                sign, digits, exp = m.as_tuple()
                if sign or digits != (1,):
                    raise GenError(f"{fname}: {inline_name}: multipleOf must be a power of ten")
                f.c["mult_exp10"] = exp
        elif t == "boolean":
            f.kind = "BOOL"
        else:
            raise GenError(f"{fname}: {inline_name}: unsupported type {t}")

    def obj_from(self, node, name, defs, fname, stack):
        if name in self.objs:
            return self.objs[name]
        o = Obj(name)
        self.objs[name] = o
        props = node.get("properties", {})
        req = node.get("required", [])
        for r in req:
            if r not in props:
                raise GenError(f"{fname}: {name}: required {r} is not a property")
        ap = node.get("additionalProperties", True)
        if ap not in (True, False):
            raise GenError(f"{fname}: {name}: additionalProperties must be a boolean")
        o.open = ap is True
        if len(props) > 64:
            raise GenError(f"{fname}: {name}: more than 64 properties")
        names = set()
        for pname, pnode in props.items():
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", pname) or pname in C_KEYWORDS:
                raise GenError(f"{fname}: {name}: property {pname} is not a C identifier")
            f = self.field_from(pnode, name, pname, defs, fname, stack)
            f.required = pname in req
            o.fields.append(f)
            names.add(pname)
        for f in o.fields:
            for aux in ("has_" + f.name, f.name + "_count"):
                if aux in names:
                    raise GenError(f"{fname}: {name}: member {aux} clashes with a property")
        if o.open and "_extra" in names:
            raise GenError(f"{fname}: {name}: property _extra clashes with the extra members")
        return o

    def load(self, directions):
        files = sorted(f for f in os.listdir(self.dir) if f.endswith(".json"))
        if not files:
            raise GenError(f"{self.dir}: no schema files")
        self.nfiles = len(files)
        schemas = {}
        for fn in files:
            with open(os.path.join(self.dir, fn), encoding="utf-8-sig") as fh:
                schemas[fn[:-5]] = json.load(fh, parse_float=decimal.Decimal)
        pairs = {}
        for base in sorted(schemas):
            if self.key == "v16":
                if base.endswith("Response"):
                    pairs.setdefault(base[: -len("Response")], {})["resp"] = base
                else:
                    pairs.setdefault(base, {})["req"] = base
            else:
                if base.endswith("Request"):
                    pairs.setdefault(base[: -len("Request")], {})["req"] = base
                elif base.endswith("Response"):
                    pairs.setdefault(base[: -len("Response")], {})["resp"] = base
                else:
                    pairs.setdefault(base, {})["req"] = base  # SEND message: request only
        dirs = {}
        for d, names in directions[self.key].items():
            for n in names:
                if n in dirs:
                    raise GenError(f"directions.json: {self.key} {n} listed twice")
                dirs[n] = d
        for action in sorted(pairs):
            pr = pairs[action]
            if "req" not in pr:
                raise GenError(f"{self.key}: {pr['resp']} has no request schema")
            if action not in dirs:
                raise GenError(f"directions.json: {self.key} has no direction for {action}")
            send_only = "resp" not in pr
            if send_only and pr["req"] != action:
                raise GenError(f"{self.key}: {pr['req']} has no response schema")
            msgs = []
            for role, suffix in (("req", "Request"), ("resp", "Response")):
                if role not in pr:
                    msgs.append(None)
                    continue
                fname = pr[role] + ".json"
                sch = schemas[pr[role]]
                if sch.get("type") != "object":
                    raise GenError(f"{fname}: the payload must be an object")
                mname = action + suffix
                defs = sch.get("definitions", {})
                o = self.obj_from(sch, mname, defs, fname, [])
                self.msgs.append((mname, o, fname))
                msgs.append(mname)
            self.actions.append((action, msgs[0], msgs[1], dirs[action]))
        extra = set(dirs) - set(pairs)
        if extra:
            raise GenError(f"directions.json: {self.key} lists unknown actions {sorted(extra)}")
        self.msgs.sort()

    # ---- emit -----------------------------------------------------------------------------
    def ctype(self, f):
        if f.kind in ("STRING", "ANY"):
            return "char *"
        if f.kind == "INT":
            return "int64_t "
        if f.kind == "NUMBER":
            return "double "
        if f.kind == "BOOL":
            return "bool "
        if f.kind == "ENUM":
            return f"{self.p()}_{f.target.name}_t "
        return f"{self.p()}_{f.target.name}_t *"

    def enum_consts(self, e):
        prefix = f"{self.P()}_{upper_snake(e.name)}_"
        out, used = [], set()
        for v in e.values:
            base = prefix + (upper_snake(v) or "EMPTY")
            n, i = base, 2
            while n in used:
                n, i = f"{base}_{i}", i + 1
            used.add(n)
            out.append(n)
        return out

    def banner(self, comment_open="/*", comment_close=" */"):
        return (f"{comment_open}\n * Generated by tools/codegen/codegen.py from {self.label} ({self.nfiles} schema files)"
                f" — DO NOT EDIT.\n * Regenerate with `make codegen`; naming rules are in include/ladewerk/codec.h.\n{comment_close}\n")

    def topo_objs(self):
        order, seen = [], set()

        def visit(o):
            if o.name in seen:
                return
            seen.add(o.name)
            for f in o.fields:
                if f.kind == "OBJECT":
                    visit(f.target)
            order.append(o)

        for name in sorted(self.objs):
            visit(self.objs[name])
        return order

    def emit_h(self):
        p, P = self.p(), self.P()
        guard = f"LW_CODEC_GEN_{self.stem.upper()}_H"
        L = [self.banner()]
        L.append(f"/* OCPP {self.cver} message structs and codecs (see include/ladewerk/codec.h). */")
        L.append(f"#ifndef {guard}\n#define {guard}\n")
        L.append('#include "ladewerk/codec.h"\n\n#include <stdbool.h>\n#include <stdint.h>\n#include <string.h>\n')
        L.append("/* ---- enums ---- */")
        for name in sorted(self.enums):
            e = self.enums[name]
            L.append("typedef enum {")
            for i, c in enumerate(self.enum_consts(e)):
                L.append(f"    {c} = {i + 1}, /* \"{e.values[i]}\" */")
            L.append(f"}} {p}_{name}_t;")
            L.append(f"extern const char *const {p}_{name}_strs[{len(e.values)}];")
            L.append(f"/* The JSON string of v (static), or NULL if v is not a value of the enum. */")
            L.append(f"static inline const char *{p}_{name}_str({p}_{name}_t v)\n{{")
            L.append(f"    return (int)v >= 1 && (int)v <= {len(e.values)} ? {p}_{name}_strs[(int)v - 1] : NULL;\n}}\n")
        L.append("/* ---- structs ---- */")
        for name in sorted(self.objs):
            L.append(f"typedef struct {p}_{name} {p}_{name}_t;")
        L.append("")
        for name in sorted(self.objs):
            o = self.objs[name]
            L.append(f"struct {p}_{name} {{")
            for f in o.fields:
                note = "required" if f.required else "optional"
                if f.array:
                    item = self.ctype(f) if f.kind != "OBJECT" else f"{self.p()}_{f.target.name}_t "
                    L.append(f"    {item}*{f.name}; /* array, {note} */")
                    L.append(f"    size_t {f.name}_count;")
                else:
                    L.append(f"    {self.ctype(f)}{f.name}; /* {note} */")
                    if not f.required and f.kind in ("INT", "NUMBER", "BOOL"):
                        L.append(f"    bool has_{f.name};")
            if o.open:
                L.append("    char *_extra; /* further members' JSON text (`\"k\":v,...`), or NULL */")
            if not o.fields and not o.open:
                L.append("    char _empty; /* the schema has no properties */")
            L.append("};\n")
        L.append("/* ---- messages ---- */")
        for mname, o, fname in self.msgs:
            t = f"{p}_{mname}_t"
            L.append(f"/* {fname} */")
            L.append(f"extern const lw_codec_msg_t {p}_{mname}_msg;")
            L.append(f"static inline int {p}_{mname}_decode(const char *json, size_t len, {t} *out,")
            L.append(f"                                   lw_arena_t *arena, lw_codec_error_t *err)\n{{")
            L.append(f"    return lw_codec_decode(&{p}_{mname}_msg, json, len, out, arena, err);\n}}")
            L.append(f"static inline int {p}_{mname}_encode(const {t} *in, lw_buf_t *out)\n{{")
            L.append(f"    return lw_codec_encode(&{p}_{mname}_msg, in, out);\n}}")
            L.append(f"static inline void {p}_{mname}_free({t} *m, lw_arena_t *arena)\n{{")
            L.append(f"    memset(m, 0, sizeof(*m));\n    if (arena) lw_arena_reset(arena);\n}}\n")
        L.append(f"#endif")
        return "\n".join(L) + "\n"

    def c_str(self, s):
        return json.dumps(s)  # ASCII-only JSON string literal is a valid C literal for these names

    def emit_c(self):
        p = self.p()
        L = [self.banner()]
        L.append(f"/* OCPP {self.cver} descriptor tables read by lib/codec/codec.c. */")
        L.append(f'#include "codec/gen/{self.stem}.h"\n#include "codec/codec_int.h"\n\n#include <stddef.h>\n')
        for name in sorted(self.enums):
            e = self.enums[name]
            vals = ", ".join(self.c_str(v) for v in e.values)
            lens = ", ".join(str(len(v.encode())) for v in e.values)
            if any(len(v.encode()) > 255 for v in e.values):
                raise GenError(f"enum {name}: value longer than 255 bytes")
            L.append(f"const char *const {p}_{name}_strs[{len(e.values)}] = {{{vals}}};")
            L.append(f"static const uint8_t {name}_lens[] = {{{lens}}};")
            L.append(f"static const lw_codec_enum_t enum_{name} = {{\"{name}\", {p}_{name}_strs, {name}_lens, {len(e.values)}}};\n")
        for o in self.topo_objs():
            t = f"{p}_{o.name}_t"
            req_mask = 0
            if o.fields:
                L.append(f"static const lw_codec_field_t fields_{o.name}[] = {{")
            for i, f in enumerate(o.fields):
                flags = []
                if f.required:
                    flags.append("LW_CF_REQUIRED")
                    req_mask |= 1 << i
                if f.array:
                    flags.append("LW_CF_ARRAY")
                c = f.c
                items = [f".name = {self.c_str(f.name)}", f".name_len = {len(f.name)}", f".kind = LW_CK_{f.kind}"]
                items.append(f".off = offsetof({t}, {f.name})")
                if f.array:
                    items.append(f".aux = offsetof({t}, {f.name}_count)")
                elif not f.required and f.kind in ("INT", "NUMBER", "BOOL"):
                    items.append(f".aux = offsetof({t}, has_{f.name})")
                if "min_len" in c:
                    flags.append("LW_CF_MINLEN")
                    items.append(f".min_len = {c['min_len']}")
                if "max_len" in c:
                    flags.append("LW_CF_MAXLEN")
                    items.append(f".max_len = {c['max_len']}")
                if "min_items" in c:
                    flags.append("LW_CF_MINITEMS")
                    items.append(f".min_items = {c['min_items']}")
                if "max_items" in c:
                    flags.append("LW_CF_MAXITEMS")
                    items.append(f".max_items = {c['max_items']}")
                for k, fl, mem in (("minimum", "LW_CF_MIN", "min"), ("maximum", "LW_CF_MAX", "max")):
                    if k in c:
                        flags.append(fl)
                        if f.kind == "INT":
                            items.append(f".{mem}_i = INT64_C({c[k]})")
                        else:
                            items.append(f".{mem}_s = \"{c[k]}\"")
                if "mult_exp10" in c:
                    flags.append("LW_CF_MULTIPLE")
                    items.append(f".mult_exp10 = {c['mult_exp10']}")
                if c.get("format") == "date-time":
                    flags.append("LW_CF_DATETIME")
                if c.get("format") == "uri":
                    flags.append("LW_CF_URI")
                if f.kind == "ENUM":
                    items.append(f".en = &enum_{f.target.name}")
                if f.kind == "OBJECT":
                    items.append(f".obj = &obj_{f.target.name}")
                items.insert(3, ".flags = " + (" | ".join(flags) if flags else "0"))
                L.append("    {" + ", ".join(items) + "},")
            if o.fields:
                L.append("};")
            fields = f"fields_{o.name}" if o.fields else "NULL"
            extra = f"offsetof({t}, _extra)" if o.open else "0"
            L.append(f"static const lw_codec_obj_t obj_{o.name} = {{\"{o.name}\", sizeof({t}), {fields}, {len(o.fields)},"
                     f" UINT64_C(0x{req_mask:x}), {1 if o.open else 0}, {extra}}};\n")
        for mname, o, fname in self.msgs:
            L.append(f"const lw_codec_msg_t {p}_{mname}_msg = {{\"{mname}\", {self.cenum()}, &obj_{o.name}}};")
        L.append("")
        L.append(f"const lw_codec_action_t {p}_actions[] = {{")
        for action, req, resp, d in self.actions:
            r2 = f"&{p}_{resp}_msg" if resp else "NULL"
            L.append(f"    {{\"{action}\", &{p}_{req}_msg, {r2}, LW_DIR_{d}}},")
        L.append("};")
        L.append(f"const size_t {p}_action_count = {len(self.actions)};")
        return "\n".join(L) + "\n"

    def cenum(self):
        return {"v16": "LW_OCPP_16", "v201": "LW_OCPP_201", "v21": "LW_OCPP_21"}[self.key]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--schemas", required=True, help="folder with v16/, v201/, v21/")
    ap.add_argument("--out", required=True, help="output folder (lib/codec/gen)")
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "directions.json"), encoding="utf-8") as fh:
        directions = json.load(fh)
    label_root = os.path.basename(os.path.normpath(args.schemas))
    outputs = {}
    try:
        for key, _, stem in VERSIONS:
            cver = {"v16": "1.6", "v201": "2.0.1", "v21": "2.1"}[key]
            v = Version(key, cver, stem, os.path.join(args.schemas, key), f"{label_root}/{key}")
            v.load(directions)
            outputs[stem + ".h"] = v.emit_h()
            outputs[stem + ".c"] = v.emit_c()
    except (GenError, OSError, ValueError) as e:
        print(f"codegen: {e}", file=sys.stderr)
        return 1
    os.makedirs(args.out, exist_ok=True)
    for name in sorted(outputs):
        path = os.path.join(args.out, name)
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(outputs[name])
    return 0


if __name__ == "__main__":
    sys.exit(main())
