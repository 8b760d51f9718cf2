#!/usr/bin/env python3
"""Rebuilds provider-schema.json.gz from the generated bindings in the npm packages @cdktn/provider-*.

Usage:
    build_schema.py                     npm pack the pinned packages into a temp dir, rebuild, write the schema
    build_schema.py --tarball PATH ...  rebuild from package tarballs already downloaded (no network)

The compiled lib/<name>/index.js of every resource, data source and nested block carries, per argument,
a line `// <name> - computed: <bool>, optional: <bool>, required: <bool>` (the provider schema's flags) and,
for everything that can be set, an entry in synthesizeHclAttributes()/<struct>ToHclTerraform() naming the
argument in snake_case with `isBlock`, its collection type and the converter of its nested block. A single
block (max_items = 1) is held by an `...OutputReference`, a repeated one by a `...List`. That is all the
check needs, so this script reads the tarballs as text: no node, no cdktn runtime.

Output (compact JSON, gzip): {"providers": {"<namespace>/<name>": {"package", "provider",
"provider_version", "resource": {type: node}, "data": {type: node}, "provider_config": node}}} where
    node  = {"a": {argument: flag}, "b": {block: {"f": flags, "a": ..., "b": ...}}}
    flag  = "r" required | "o" optional | "c" computed only (may not be set)
    flags = "r"/"o" + "1" at most one block + "x" also accepted as an attribute (SDKv2 ConfigModeAttr,
            the binding marks such blocks computed) + "*" opaque: the binding types it `any`, not checked.
    {"f": flags, "@": "a.b"} is a block whose content is that of the enclosing block at path a.b from the
            resource (the binding reuses a struct inside itself, e.g. wafv2 rule statements).
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

# Pinned packages: (name, version, `npm view <name>@<version> dist.integrity`). Each wraps the newest
# release its infra/ versions.tf constraints allow that has bindings; see README.md before changing one.
PACKAGES = [
    # registry.terraform.io/hashicorp/aws 6.66.0 (infra: "~> 6.46", modules ">= 6.0" / ">= 6.46")
    ("@cdktn/provider-aws", "25.7.0",
     "sha512-E/nhu0yVZE4mXMgIPuI8tEFt1BExLkA7ARjihdG+/HmfDfzLr+OEF3dkFRvI6glRt30lrrBWQLwXqCJBxcmyUg=="),
    # registry.terraform.io/hashicorp/random 3.9.1 (infra: "~> 3.7")
    ("@cdktn/provider-random", "15.0.1",
     "sha512-YEP/fbBGsjbaQKyPS/svsVIMAb2sxfYESwyoT4l2ynwiqJWCbXQUrWbjm0MPBzA5R4WxW29Wi4QdykYvmeJCTg=="),
]
HERE = Path(__file__).resolve().parent
OUT = HERE / "provider-schema.json.gz"

MAIN_CLASS = {
    "cdktn.TerraformResource": "resource",
    "cdktn.TerraformDataSource": "data",
    "cdktn.TerraformProvider": "provider",
}
CLASS_RE = re.compile(r"^class (\w+) extends ([\w.]+) \{$", re.M)
FUNC_RE = re.compile(r"^function (\w+)ToHclTerraform\(struct\) \{$", re.M)
TYPE_RE = re.compile(r'static tfResourceType = "(\w+)";')
FLAGS_RE = re.compile(
    r"^ +// (\w+) - computed: (true|false), optional: (true|false), required: (true|false)\n +(.*)$", re.M
)
HOLDER_RE = re.compile(r'^_\w+ = new ([\w.]+)\(this, "(\w+)"')
ENTRY_RE = re.compile(
    r"^ +(\w+): \{\n +value: (.*),\n +isBlock: (true|false),\n +type: \"(\w+)\",\n"
    r" +storageClassType: \"(\w+)\",\n +\},?$",
    re.M,
)
# A block's converter: `fooBarToHclTerraform`, bare or from another file of a split module
# (`index_1.fooBar...`, `structs800_1.fooBar...`: large resources keep their structs in
# lib/<dir>/index-structs/*.js), maybe inside cdktn.listMapperHcl(...); never cdktn's own converters.
CONVERTER_RE = re.compile(r"(?<![.\w])(?:(?!cdktn\.)\w+\.)?([a-z]\w*)ToHclTerraform\b")


class Module:
    """One lib/<dir>: the classes and converters of its .js files, by name."""

    def __init__(self, texts: list[str]) -> None:
        self.classes: dict[str, tuple[str, str]] = {}
        self.converters: dict[str, str] = {}
        for text in texts:
            for match in CLASS_RE.finditer(text):
                self.classes[match[1]] = (match[2], _body(text, match.end()))
            for match in FUNC_RE.finditer(text):
                self.converters[match[1]] = _body(text, match.end())
        self.warnings: list[str] = []
        self.expanding: dict[str, str] = {}  # converter -> path of the block being expanded with it

    def node(self, flags_body: str, hcl_body: str, where: str) -> dict:
        flags = {
            m[1]: (m[2] == "true", m[3] == "true", m[4] == "true", m[5].strip()) for m in FLAGS_RE.finditer(flags_body)
        }
        settable = {m[1]: (m[2], m[3] == "true", m[4], m[5]) for m in ENTRY_RE.finditer(hcl_body)}
        attrs: dict[str, str] = {}
        blocks: dict[str, dict] = {}
        for name in sorted(set(flags) | set(settable)):
            computed, optional, required, holder_line = flags.get(name, (False, True, False, ""))
            if name not in flags:
                self.warnings.append(f"{where}.{name}: settable but no schema flags; taken as optional")
            if name not in settable:
                if optional or required:
                    self.warnings.append(f"{where}.{name}: optional/required but not settable; taken as computed")
                attrs[name] = "c"
                continue
            value, is_block, _kind, storage = settable[name]
            base = "r" if required else "o"
            if storage == "any":
                blocks[name] = {"f": base + "*"}
            elif is_block:
                converter = CONVERTER_RE.search(value)
                if converter is None:
                    self.warnings.append(f"{where}.{name}: block without a converter; left unchecked")
                    blocks[name] = {"f": base + "*"}
                    continue
                holder = HOLDER_RE.match(holder_line)
                single = bool(holder and holder[1].endswith("OutputReference"))
                f = base + ("1" if single else "") + ("x" if computed else "")
                ancestor = self.expanding.get(converter[1])
                if ancestor is not None:
                    # The binding reuses a struct inside itself (wafv2 rule statements): point back at it.
                    blocks[name] = {"f": f, "@": ancestor.split(".", 2)[2]}
                else:
                    blocks[name] = {"f": f, **self.struct(converter[1], f"{where}.{name}")}
            else:
                attrs[name] = base
        node: dict = {}
        if attrs:
            node["a"] = attrs
        if blocks:
            node["b"] = blocks
        return node

    def struct(self, converter: str, where: str) -> dict:
        struct = converter[0].upper() + converter[1:]
        hcl_body = self.converters.get(converter)
        if hcl_body is None:
            self.warnings.append(f"{where}: converter {converter}ToHclTerraform not found; left unchecked")
            return {}
        holder = self.classes.get(struct + "OutputReference")
        if holder is None:
            # No reader class: the flags are unknown, so every argument is taken as optional.
            self.warnings.append(f"{where}: no {struct}OutputReference; arguments taken as optional")
        self.expanding[converter] = where
        try:
            return self.node(holder[1] if holder else "", hcl_body, where)
        finally:
            del self.expanding[converter]


def _body(text: str, start: int) -> str:
    end = text.find("\n}\n", start)
    return text[start : end if end >= 0 else len(text)]


def build(tarball: Path) -> tuple[dict, list[str]]:
    schema: dict = {"resource": {}, "data": {}}
    warnings: list[str] = []
    sources: dict[str, list[str]] = {}  # lib/<dir> -> its .js files (index.js, index-structs/*.js)
    with tarfile.open(tarball, "r:gz") as archive:
        for member in archive:
            parts = member.name.split("/")
            if member.name == "package/package.json":
                meta = json.load(archive.extractfile(member))
                provider = meta["cdktn"]["provider"]
                schema["package"] = f"{meta['name']}@{meta['version']}"
                schema["provider"] = provider["name"]
                schema["provider_version"] = provider["version"]
            elif len(parts) >= 4 and parts[1] == "lib" and member.name.endswith(".js"):
                sources.setdefault(parts[2], []).append(archive.extractfile(member).read().decode("utf-8"))
    for directory in sorted(sources):
        module = Module(sources.pop(directory))
        for base, body in module.classes.values():
            kind = MAIN_CLASS.get(base)
            type_name = TYPE_RE.search(body)
            if kind is None or type_name is None:
                continue
            node = module.node(body, body, f"{kind}.{type_name[1]}")
            if kind == "provider":
                schema["provider_config"] = node
            else:
                schema[kind][type_name[1]] = node
        warnings += module.warnings
    schema["resource"] = dict(sorted(schema["resource"].items()))
    schema["data"] = dict(sorted(schema["data"].items()))
    return schema, warnings


def npm_pack(directory: Path, package: str, version: str) -> Path:
    before = set(directory.glob("*.tgz"))
    subprocess.run(["npm", "pack", "--silent", f"{package}@{version}"], cwd=directory, check=True,
                   stdout=subprocess.DEVNULL)
    return (set(directory.glob("*.tgz")) - before).pop()


def integrity(tarball: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tarball", type=Path, nargs="+", help="the pinned packages' .tgz, already downloaded")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--verbose", action="store_true", help="print every warning")
    args = parser.parse_args()
    providers: dict[str, dict] = {}
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="tf-schema-") as tmp:
        given = {integrity(path): path for path in args.tarball or []}
        for package, version, pinned in PACKAGES:
            tarball = given.pop(pinned, None) if args.tarball else npm_pack(Path(tmp), package, version)
            if tarball is None or integrity(tarball) != pinned:
                sys.exit(f"{package}@{version}: no tarball with integrity {pinned}")
            schema, found = build(tarball)
            if schema.get("package") != f"{package}@{version}":
                sys.exit(f"tarball is {schema.get('package')}, pinned {package}@{version}")
            providers[schema["provider"].removeprefix("registry.terraform.io/")] = schema
            warnings += [f"{package}: {warning}" for warning in found]
            print(f"{schema['package']} = {schema['provider']} {schema['provider_version']}: "
                  f"{len(schema['resource'])} resources, {len(schema['data'])} data sources, "
                  f"{len(found)} warnings")
    # Expected: the aws provider block's nested blocks (assume_role, default_tags, ...) have no reader
    # classes, so their arguments carry no flags and are all taken as optional (README.md).
    expected = [w for w in warnings if ": provider." in w]
    for warning in warnings if args.verbose else [w for w in warnings if w not in expected]:
        print(f"warning: {warning}", file=sys.stderr)
    if expected and not args.verbose:
        print(f"note: {len(expected)} warnings on provider blocks' nested blocks (--verbose)", file=sys.stderr)
    data = json.dumps({"providers": providers}, separators=(",", ":"), sort_keys=True).encode()
    # mtime=0: the same packages give byte-identical output, so a rebuild shows no diff.
    args.out.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    print(f"{len(data)} bytes JSON, {args.out.stat().st_size} bytes gzip -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
