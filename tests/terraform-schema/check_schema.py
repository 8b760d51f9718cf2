#!/usr/bin/env python3
"""Offline check that the Terraform under infra/ uses only the real provider schemas (hashicorp/aws, random).

Usage:
    check_schema.py [REPO_ROOT]     check REPO_ROOT/infra (default: this repository); exit 1 on any failure
    check_schema.py --dir DIR       check the .tf files under DIR instead
    check_schema.py --self-test     run the planted-error fixtures in fixtures/ (self_test.py)

`terraform validate` needs the provider binaries, which cannot be downloaded here. This check reads the
schemas rebuilt from the providers' generated bindings (provider-schema.json.gz, see build_schema.py and
README.md) and, for every `resource` and `data` block (also those inside `check` blocks) and every
`provider` block, refuses:
  - a resource or data source type the provider does not have, or of a provider with no schema;
  - an argument or nested block the schema does not have, recursing into nested blocks and into the
    `content` of `dynamic` blocks; an argument written as a block, or a block written as an argument;
  - setting a computed-only attribute;
  - a missing required argument or block (in the resource and in every nested block that is present);
  - more than one of a block that allows at most one; an unknown `lifecycle` argument.
For every `module` block with a local `source`, it refuses inputs the module does not declare as a
`variable`, and missing inputs whose variable has no default. It also refuses a `required_providers`
entry with no schema, or whose constraint the pinned release does not satisfy.
Output: one line `file:address:argument: message` per failure, then
`terraform-schema: N blocks checked, M failed`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the work tree from --self-test's imports

try:
    import hcl2
except ImportError as missing:  # pragma: no cover - environment problem, not a schema failure
    sys.exit(f"FAIL setup: {missing}; install python-hcl2 (xtask/requirements.txt)")

HERE = Path(__file__).resolve().parent
SCHEMA = HERE / "provider-schema.json.gz"
META = {
    "resource": {"count", "for_each", "depends_on", "provider", "lifecycle", "provisioner", "connection"},
    "data": {"count", "for_each", "depends_on", "provider", "lifecycle"},
    "provider": {"alias", "version"},
    "module": {"source", "version", "count", "for_each", "depends_on", "providers"},
}
DYNAMIC_ARGS = {"for_each", "iterator", "labels", "content"}
LIFECYCLE_ARGS = {
    "resource": {"create_before_destroy", "prevent_destroy", "ignore_changes", "replace_triggered_by",
                 "precondition", "postcondition"},
    "data": {"precondition", "postcondition"},
}
# Terraform's built-in provider (terraform.io/builtin/terraform) has no npm bindings; its two types are
# small and stable, so they are written out here (Terraform docs: terraform_data, terraform_remote_state).
BUILTIN = {
    "resource": {"terraform_data": {"a": {"input": "o", "triggers_replace": "o", "id": "c", "output": "c"}}},
    "data": {"terraform_remote_state": {"a": {"backend": "r", "config": "o", "defaults": "o", "workspace": "o",
                                              "outputs": "c"}}},
}
# Resource types are named <provider local name>_<...>.
PROVIDER_OF = re.compile(r"^([a-z0-9]+)_")


def _load_hcl(path: Path) -> dict:
    options = getattr(hcl2, "SerializationOptions", None)
    with path.open(encoding="utf-8") as handle:
        if options is None:  # python-hcl2 < 8
            return hcl2.load(handle)
        return hcl2.load(handle, serialization_options=options(with_comments=False))


# python-hcl2 >= 7 marks blocks with __is_block__; older ones give a block as a list of dicts, like an
# attribute holding a list of objects (the README lists the false failures that would give).
_MARKS_BLOCKS = "__is_block__" in json.dumps(hcl2.loads("a {\n}\n"))


def _is_block(value: object) -> bool:
    if not (isinstance(value, list) and value and all(isinstance(item, dict) for item in value)):
        return False
    return all("__is_block__" in item for item in value) if _MARKS_BLOCKS else True


def _items(body: dict):
    return ((key, value) for key, value in body.items() if not (key.startswith("__") and key.endswith("__")))


def _unquote(text: object) -> str:
    text = str(text)
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


@dataclass
class Report:
    root: Path
    failures: list[str] = field(default_factory=list)
    blocks: int = 0
    failed_blocks: int = 0

    @contextmanager
    def block(self):
        """Counts one checked block, and one failed block if failures were added inside."""
        before = len(self.failures)
        self.blocks += 1
        yield
        if len(self.failures) > before:
            self.failed_blocks += 1

    def fail(self, path: Path, address: str, argument: str, message: str) -> None:
        try:
            shown = path.relative_to(self.root)
        except ValueError:
            shown = path
        self.failures.append(f"{shown}:{address}:{argument or '-'}: {message}")


class Checker:
    def __init__(self, schema: dict, report: Report, sources: dict[str, str]) -> None:
        self.providers = schema["providers"]
        self.report = report
        self.sources = sources  # provider local name -> source, from required_providers

    def provider(self, local: str) -> dict | None:
        return self.providers.get(_source(self.sources.get(local, f"hashicorp/{local}")))

    # -- one resource / data / provider block ------------------------------------------------------

    def block(self, path: Path, kind: str, type_name: str, address: str, body: dict) -> None:
        with self.report.block():
            self._block(path, kind, type_name, address, body)

    def _block(self, path: Path, kind: str, type_name: str, address: str, body: dict) -> None:
        local = type_name if kind == "provider" else (PROVIDER_OF.match(type_name) or [None, "?"])[1]
        schema = self.provider(local)
        if kind == "provider":
            root = schema and schema.get("provider_config", {})
        else:
            root = (schema or {}).get(kind, {}).get(type_name) or BUILTIN[kind].get(type_name)
        if root is None and schema is None:
            self.report.fail(path, address, "", f"no schema for provider {local} (README.md)")
        elif root is None:
            self.report.fail(path, address, "", f"unknown {kind} type {type_name} (schema: {schema['package']})")
        else:
            self._node(path, address, root, root, body, "", META[kind])
        for lifecycle in body.get("lifecycle", []) if kind in LIFECYCLE_ARGS else []:
            for key in dict(_items(lifecycle)).keys() - LIFECYCLE_ARGS[kind]:
                self.report.fail(path, address, f"lifecycle.{key}", "unknown lifecycle argument")

    def _node(self, path: Path, address: str, root: dict, node: dict, body: dict, prefix: str, meta=()) -> None:
        if "*" in node.get("f", ""):
            return  # typed `any` in the bindings: contents unknown
        if "@" in node:
            node = self._resolve(root, node)
        attrs, blocks = node.get("a", {}), node.get("b", {})
        present: set[str] = set()
        for key, value in _items(body):
            where = prefix + key
            if key in meta:
                continue
            if key == "dynamic" and isinstance(value, list):  # labelled: [{"\"name\"": {...}}]
                for dynamic in value:
                    for label, content in _items(dynamic):
                        present.add(_unquote(label))
                        self._dynamic(path, address, root, blocks, _unquote(label), content, prefix)
                continue
            present.add(key)
            self._argument(path, address, root, attrs, blocks, key, value, where)
        for name, flag in attrs.items():
            if flag == "r" and name not in present:
                self.report.fail(path, address, prefix + name, "missing required argument")
        for name, spec in blocks.items():
            if spec["f"].startswith("r") and name not in present:
                self.report.fail(path, address, prefix + name, "missing required block")

    def _argument(self, path, address, root, attrs, blocks, key, value, where) -> None:
        block_syntax = _is_block(value)
        if key in attrs:
            if attrs[key] == "c":
                self.report.fail(path, address, where, "computed-only attribute is set")
            elif block_syntax:
                self.report.fail(path, address, where, f"is an argument, not a block: write {key} = ...")
        elif key in blocks:
            spec = blocks[key]
            if not block_syntax:
                if not ({"x", "*"} & set(spec["f"])):
                    self.report.fail(path, address, where, f"is a block, not an argument: write {key} {{ ... }}")
                return
            if "1" in spec["f"] and len(value) > 1:
                self.report.fail(path, address, where, f"at most one {key} block allowed, found {len(value)}")
            for item in value:
                self._node(path, address, root, spec, item, where + ".")
        else:
            kind = "block" if block_syntax else "argument"
            self.report.fail(path, address, where, f"unknown {kind}")

    def _dynamic(self, path, address, root, blocks, label, body, prefix) -> None:
        where = f"{prefix}dynamic.{label}"
        spec = blocks.get(label)
        if spec is None:
            self.report.fail(path, address, where, f"unknown block {label} in dynamic block")
            return
        for key, value in _items(body):
            if key not in DYNAMIC_ARGS:
                self.report.fail(path, address, f"{where}.{key}", "unknown argument of a dynamic block")
        contents = body.get("content")
        if "for_each" not in body or not _is_block(contents):
            self.report.fail(path, address, where, "dynamic block needs for_each and a content block")
            return
        for content in contents:
            self._node(path, address, root, spec, content, f"{prefix}{label}.")

    def _resolve(self, root: dict, node: dict) -> dict:
        target = root
        for step in node["@"].split("."):
            target = target["b"][step]
        return {**target, "f": node["f"]}


# -- modules and provider pinning ------------------------------------------------------------------


def _variables(directory: Path, parsed: dict[Path, dict]) -> dict[str, bool] | None:
    """A local module's variables -> whether each has a default; None when it has no .tf files."""
    files = [p for p in parsed if p.parent == directory]
    if not files:
        files = sorted(directory.glob("*.tf"))
        for file in files:
            parsed[file] = _load_hcl(file)
    if not files:
        return None
    found: dict[str, bool] = {}
    for file in files:
        for variable in parsed[file].get("variable", []):
            for name, body in _items(variable):
                found[_unquote(name)] = "default" in body
    return found


def check_module(report: Report, path: Path, name: str, body: dict, parsed: dict[Path, dict]) -> None:
    with report.block():
        _check_module(report, path, f"module.{name}", body, parsed)


def _check_module(report: Report, path: Path, address: str, body: dict, parsed: dict[Path, dict]) -> None:
    source = _unquote(body.get("source", ""))
    if not source.startswith(("./", "../")):
        report.fail(path, address, "source", f"not a local module ({source!r}); its inputs are not checked")
    else:
        variables = _variables((path.parent / source).resolve(), parsed)
        if variables is None:
            report.fail(path, address, "source", f"no .tf files in {source}")
        else:
            given = {key for key, _ in _items(body)} - META["module"]
            for key in sorted(given - set(variables)):
                report.fail(path, address, key, f"module {source} declares no variable {key}")
            for key in sorted(set(variables) - given):
                if not variables[key]:
                    report.fail(path, address, key, f"missing input: variable {key} of {source} has no default")


def _version(text: str) -> tuple[int, ...]:
    parts = [int(part) for part in re.findall(r"\d+", text)[:3]]
    return tuple(parts + [0] * (3 - len(parts)))


def satisfies(version: str, constraints: str) -> bool:
    """Terraform version constraints: =, !=, >, >=, <, <=, ~> (pessimistic), comma-separated."""
    have = _version(version)
    for constraint in filter(None, (c.strip() for c in constraints.split(","))):
        match = re.fullmatch(r"(~>|>=|<=|!=|=|>|<)?\s*v?([\d.]+)", constraint)
        if match is None:
            return False
        op, number = match[1] or "=", match[2]
        want = _version(number)
        if op == "~>":
            parts = len(number.split("."))
            upper = list(want[: max(parts - 1, 1)])
            upper[-1] += 1
            ok = have >= want and have < tuple(upper) + (0,) * (3 - len(upper))
        else:
            ok = {"=": have == want, "!=": have != want, ">": have > want, ">=": have >= want,
                  "<": have < want, "<=": have <= want}[op]
        if not ok:
            return False
    return True


def _source(source: str) -> str:
    return _unquote(source).removeprefix("registry.terraform.io/")


def check_required_providers(report: Report, schema: dict, path: Path, terraform: dict) -> None:
    for providers in terraform.get("required_providers", []):
        with report.block():
            for local, spec in _items(providers):
                _check_provider_requirement(report, schema, path, local, spec)


def _check_provider_requirement(report: Report, schema: dict, path: Path, local: str, spec: object) -> None:
    spec = spec if isinstance(spec, dict) else {"version": spec}
    source = _source(spec.get("source", f"hashicorp/{local}"))
    where = f"terraform.required_providers.{local}"
    provider = schema["providers"].get(source)
    if provider is None:
        report.fail(path, where, "source", f"no schema for provider {source} (README.md)")
        return
    constraint = _unquote(spec.get("version", ""))
    if constraint and not satisfies(provider["provider_version"], constraint):
        report.fail(path, where, "version",
                    f"schema is {source} {provider['provider_version']} ({provider['package']}), outside "
                    f"{constraint!r}: rebuild it for the allowed version (README.md)")


def _local_sources(parsed: dict[Path, dict]) -> dict[str, str]:
    sources: dict[str, str] = {}
    for content in parsed.values():
        for terraform in content.get("terraform", []):
            for providers in terraform.get("required_providers", []):
                for local, spec in _items(providers):
                    if isinstance(spec, dict) and "source" in spec:
                        sources[local] = _unquote(spec["source"])
    return sources


# -- driver ----------------------------------------------------------------------------------------


def load_schema(path: Path = SCHEMA) -> dict:
    return json.loads(gzip.decompress(path.read_bytes()))


def check(directory: Path, schema: dict, root: Path | None = None) -> Report:
    report = Report(root or directory)
    parsed: dict[Path, dict] = {}
    files = sorted(p for p in directory.rglob("*.tf") if ".terraform" not in p.parts)
    for file in files:
        try:
            parsed[file] = _load_hcl(file)
        except Exception as error:  # hcl2 raises lark errors of several kinds
            report.fail(file, "-", "", f"cannot parse: {str(error).splitlines()[0]}")
    checker = Checker(schema, report, _local_sources(parsed))
    for file in files:
        content = parsed.get(file)
        if content is None:
            continue
        scopes = [content] + [body for check_block in content.get("check", []) for _, body in _items(check_block)]
        for scope in scopes:
            for kind in ("resource", "data"):
                for entry in scope.get(kind, []):
                    for type_name, named in _items(entry):
                        for name, body in _items(named):
                            type_name, name = _unquote(type_name), _unquote(name)
                            address = f"{'data.' if kind == 'data' else ''}{type_name}.{name}"
                            checker.block(file, kind, type_name, address, body)
        for entry in content.get("provider", []):
            for name, body in _items(entry):
                checker.block(file, "provider", _unquote(name), f"provider.{_unquote(name)}", body)
        for entry in content.get("module", []):
            for name, body in _items(entry):
                check_module(report, file, _unquote(name), body, parsed)
        for terraform in content.get("terraform", []):
            check_required_providers(report, schema, file, terraform)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", type=Path, default=HERE.parent.parent, help="repository root")
    parser.add_argument("--dir", type=Path, help="check this directory instead of ROOT/infra")
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    if args.self_test:
        sys.path.insert(0, str(HERE))
        import self_test

        return self_test.main()
    schema = load_schema()
    directory = (args.dir or args.root / "infra").resolve()
    report = check(directory, schema, root=args.root.resolve() if not args.dir else directory)
    for line in report.failures:
        print(line)
    for provider in schema["providers"].values():
        print(f"schema: {provider['package']} = {provider['provider']} {provider['provider_version']}")
    print(f"terraform-schema: {report.blocks} blocks checked, {report.failed_blocks} failed")
    return 1 if report.failures or report.blocks == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
