"""Stand-in for aws, terraform, docker, cargo, git, curl, uuidgen, python3 (and a venv's pip and python).

check_guide.py links every command name to a small script that runs this module. Each call is appended to
$STUB_LOG as one JSON line; an empty argument fails the call (exit 97), as does any argument the real tool
would act on wrongly (a region other than $AWS_REGION, a Terraform output read before the apply that writes
it, an image tag that is empty, a request to the API without a token). Calls that the guide captures answer
with plausible recorded output. Terraform's progress (init, registries, full apply) lives in $STUB_STATE.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

ACCOUNT = "123456789012"
ORDER_ID = "0193b000-0000-7000-8000-0000000000aa"
FUNCTIONS = ["create-order", "get-orders", "cancel-order", "process-order", "update-stock", "outbox-relay", "migrate-db"]
EMPTY_ARGUMENT = 97
REFUSED = 98


class Refused(Exception):
    """The real tool would fail, or act on the wrong thing."""


def region() -> str:
    return os.environ.get("AWS_REGION", "")


def state() -> dict:
    path = Path(os.environ["STUB_STATE"])
    return json.loads(path.read_text()) if path.exists() else {}


def save(values: dict) -> None:
    Path(os.environ["STUB_STATE"]).write_text(json.dumps(values))


def value_after(args: list[str], flag: str) -> str | None:
    """The value of `--flag value` or `--flag=value`."""
    for index, arg in enumerate(args):
        if arg == flag and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(flag + "="):
            return arg[len(flag) + 1:]
    return None


# ------------------------------------------------------------------------------------------------- aws


def aws(args: list[str], _stdin: str) -> str:
    given = value_after(args, "--region")
    if given is not None and given != region():
        raise Refused(f"--region {given!r} is not AWS_REGION {region()!r}")
    words = [arg for arg in args if not arg.startswith("-")]
    command = " ".join(words[:2])
    if command == "sts get-caller-identity":
        return ACCOUNT if value_after(args, "--query") == "Account" else json.dumps({"Account": ACCOUNT})
    if command == "s3api create-bucket":
        if region() != "us-east-1" and value_after(args, "--create-bucket-configuration") != f"LocationConstraint={region()}":
            raise Refused("outside us-east-1 create-bucket needs LocationConstraint=<region>")
        return json.dumps({"Location": f"http://{value_after(args, '--bucket')}.s3.amazonaws.com/"})
    if command == "ecr get-login-password":
        return "stub-ecr-password"
    if command == "lambda invoke":
        payload = json.loads(value_after(args, "--payload") or "{}")
        result = {"applied": [], "pending_before": 0, "seeded": bool(payload.get("seed"))}
        return json.dumps(result) + "\n" + json.dumps({"StatusCode": 200, "ExecutedVersion": "$LATEST"})
    return "{}"


# ------------------------------------------------------------------------------------------- terraform


def outputs() -> dict:
    prefix = f"orders-{os.environ.get('ENVIRONMENT', 'dev')}"
    registry = f"{ACCOUNT}.dkr.ecr.{region()}.amazonaws.com"
    return {
        "ecr_repository_urls": {fn: f"{registry}/{prefix}/{fn}" for fn in FUNCTIONS},
        "function_names": {fn: f"{prefix}-{fn}" for fn in FUNCTIONS},
        "migrate_db_result": '{"applied":["m20261126_000001_create_product_info"],"pending_before":7,"seeded":false}',
        "user_pool_id": f"{region()}_AbCdEf123",
        "user_pool_client_id": "1example23456789abcdefghij",
        "api_url": f"https://abc123defg.execute-api.{region()}.amazonaws.com/v1",
        "dashboard_name": prefix,
        "region": region(),
    }


def terraform(args: list[str], _stdin: str) -> str:
    chdir = next((arg.split("=", 1)[1] for arg in args if arg.startswith("-chdir=")), ".")
    rest = [arg for arg in args if not arg.startswith("-chdir=")]
    command, done = rest[0] if rest else "", state()
    if command == "init":
        config = value_after(rest, "-backend-config")
        if config is None and done.get("init"):
            return ""  # re-init of an initialised directory keeps its backend settings
        if config is None:
            raise Refused("init without -backend-config: backend \"s3\" {} needs bucket, key and region")
        text = (Path(chdir) / config).read_text()
        for key, pattern in {"bucket": r'"[^"]+"', "key": r'"[^"]+"', "region": f'"{re.escape(region())}"',
                             "encrypt": "true", "use_lockfile": "true"}.items():
            if not re.search(rf"^\s*{key}\s*=\s*{pattern}\s*$", text, flags=re.M):
                raise Refused(f"{config} does not set {key} = {pattern}")
        done["init"] = True
    elif command == "apply":
        if not done.get("init"):
            raise Refused("apply before init")
        tfvars = Path(chdir) / "terraform.tfvars"
        if not tfvars.exists() or not re.search(rf'^region\s*=\s*"{re.escape(region())}"', tfvars.read_text(), flags=re.M):
            raise Refused(f"{tfvars} does not set region = \"{region()}\"")
        tags = [arg.split("=", 1)[1] for arg in rest if arg.startswith("image_tag=")]
        if "-target=module.registry" in rest:
            done["registry"] = True
        elif any(arg.startswith("-target=") for arg in rest):
            pass  # another targeted apply (a later section's own module): recorded, changes no output
        elif not tags or tags[-1] in ("", "none"):
            raise Refused(f"a full apply needs a pushed image_tag, got {tags}")
        else:
            if tags[-1] not in done.get("pushed", []):
                raise Refused(f"image_tag {tags[-1]!r} was never pushed")
            done["applied"] = True
    elif command == "output":
        name = rest[-1]
        needed = "registry" if name == "ecr_repository_urls" else "applied"
        if not done.get(needed):
            raise Refused(f'Output "{name}" not found (a targeted apply writes only outputs of its targets)')
        value = outputs().get(name, f"stub-{name}")
        return value if "-raw" in rest and isinstance(value, str) else json.dumps(value)
    save(done)
    return ""


# ------------------------------------------------------------------------------------ docker and others

IMAGE = re.compile(r"^[0-9]{12}\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com/[a-z0-9/_-]+:([A-Za-z0-9._-]+)$")


def docker(args: list[str], stdin: str) -> str:
    if args[:2] == ["buildx", "version"]:
        return "github.com/docker/buildx v0.19.3 stub"
    if args[:2] == ["buildx", "inspect"]:
        return "Name: default\nPlatforms: linux/amd64, linux/arm64, linux/arm/v7"
    if args[:1] == ["login"]:
        if not stdin.strip() or not re.match(r"^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com$", args[-1]):
            raise Refused(f"docker login to {args[-1]!r} without a password on stdin")
        return "Login Succeeded"
    if args[:2] == ["buildx", "build"]:
        image = IMAGE.match(value_after(args, "-t") or "")
        if not image or image.group(1) != region() or "--push" not in args:
            raise Refused(f"pushes {value_after(args, '-t')!r}: not a tagged image of this region's registry, or no --push")
        done = state()
        done["pushed"] = sorted(set(done.get("pushed", [])) | {image.group(2)})
        save(done)
    return ""


def curl(args: list[str], _stdin: str) -> str:
    url = args[-1]
    if not re.match(r"^https://[a-z0-9]+\.execute-api\.[a-z0-9-]+\.amazonaws\.com/v1/orders(/[0-9a-f-]{36})?$", url):
        raise Refused(f"not an order URL of the API: {url!r}")
    token = next((value.split("Bearer ", 1)[1] for value in args if value.startswith("Authorization: Bearer")), None)
    if token is None:
        return 'HTTP/2 401\ncontent-type: application/problem+json\n\n{"type":"about:blank","title":"Unauthorized","status":401}'
    if not token.strip():
        raise Refused("Authorization: Bearer with an empty token")
    if value_after(args, "-X") == "POST":
        body = json.loads(value_after(args, "-d") or "{}")
        if not all(re.match(r"^[0-9a-f-]{36}$", item.get("product_id", "")) for item in body.get("items", [])):
            raise Refused(f"order body without product ids: {body}")
        return json.dumps({"id": ORDER_ID, "status": "pending"})
    return json.dumps({"id": ORDER_ID, "status": "fulfilled"})


def python3(args: list[str], stdin: str) -> str:
    if args[:2] == ["-m", "venv"]:
        bin_dir = Path(args[2]) / "bin"
        bin_dir.mkdir(parents=True, exist_ok=True)
        for name in ("pip", "python"):
            link = bin_dir / name
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(Path(os.environ["STUB_DIR"]) / f"venv-{name}")
        return ""
    os.execv(sys.executable, [sys.executable, *args])  # anything else: the real interpreter
    return ""


SIMPLE = {
    "cargo": lambda args, _: "preflight: all checks passed" if args[:2] == ["xtask", "preflight"] and value_after(args, "--region") == region() else "",
    "git": lambda args, _: "0123456789ab" if args[:1] == ["rev-parse"] else "",
    "uuidgen": lambda _args, _stdin: "5f0c2a36-4d1e-4f7a-9b8e-2c3d4e5f6a7b",
    "venv-pip": lambda _args, _stdin: "Successfully installed pycognito",
    "venv-python": lambda _args, stdin: "eyJraWQiOiJzdHViIn0.stub-id-token.sig" if "authenticate" in stdin else "",
}


def main() -> int:
    name, args = sys.argv[1], sys.argv[2:]
    stdin = "" if sys.stdin.isatty() else sys.stdin.read()
    with open(os.environ["STUB_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps({"cmd": name, "args": args}) + "\n")
    empty = [index for index, arg in enumerate(args, 1) if arg == ""]
    if empty:
        print(f"stub {name}: argument {empty[0]} is empty: {args}", file=sys.stderr)
        return EMPTY_ARGUMENT
    handler = {"aws": aws, "terraform": terraform, "docker": docker, "curl": curl, "python3": python3}.get(name) or SIMPLE[name]
    try:
        out = handler(args, stdin)
    except Refused as refused:
        print(f"stub {name}: refused: {refused}", file=sys.stderr)
        return REFUSED
    if out:
        print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
