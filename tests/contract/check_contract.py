#!/usr/bin/env python3
"""Offline contract check between the Rust code, Terraform (infra/), compose.yaml and docs/openapi.yaml.

Usage:
    check_contract.py REPO_ROOT     run the checks, one line per check, exit 1 on any failure
    check_contract.py --self-test   run the checker against the fixtures in tests/contract/fixtures/

What it proves, from the sources only (no terraform init, no AWS):
  1. env       for each function, every variable its code reads with config::required("NAME") (or that the
               topology table makes it read: the URL of each queue it publishes to) is set for that function
               in Terraform and in compose.yaml's service of the same name;
  2. api       every OpenAPI operationId is a function Terraform defines, and the API body Terraform renders
               takes each integration URI from that function's invoke ARN;
  3. publish   every *_QUEUE_URL a function reads names a queue (in Terraform) that the function's IAM
               policy may sqs:SendMessage to, and that policy is built from the same map as the environment;
  4. topology  infra/topology.json (generated from services/order-contract/src/topology.rs by
               `cargo xtask topology`, which fails CI when stale) and Terraform agree: every function is deployed,
               publishes to the queues it may send to, is fed by the queue (event source) or schedule its
               trigger names, and an HTTP function serves at least one operation (and only HTTP ones do);
  5. alarms    one alarm for each way an order can stall (PLAN.md: the relay gauges and counters, DLQ depth,
               queue age, throttles of every function, database connections, API 5XX), each notifying
               someone and naming a runbook section that exists in docs/operations.md; and every alarm
               treats missing data as notBreaching, or as MISSING_DATA_EXCEPTIONS says with a reason, so
               no alarm is in ALARM after a clean first deploy;
  6. order     the functions module creates every function after var.create_after and every event source
               mapping and schedule target after var.start_after, and the root feeds them the Transaction
               Search destination and the migrate-db invocation; ECR lifecycle rules expire untagged images
               only; API Gateway's execution-log group is created here, with retention and KMS, before the
               method settings.
  7. delivery  every deployable function publishes versions behind an alias its triggers invoke, and has a
               CodeDeploy deployment group (canary, auto rollback) naming the API 5XX, its Errors, the DLQ
               and (HTTP functions) its p99 latency alarms (delivery_check.py).
Plus: Terraform sets no variable the code never reads (typos), no DATABASE_URL, no Lambda-reserved name, no
value from an undeclared variable; every Terraform variable has a type and a description; every Lambda
crate under services/ (a binary depending on lambda_runtime or lambda_http) is deployed; no code reads a
variable around order_core::config (std::env::var("..."), or a non-literal name).

Where the facts come from (the layout infra/ must keep; the check fails loudly when it changes):
  - infra/main.tf `locals.functions`: name => { env = {...}, send_queues = [...] }, built from infra/topology.json
    and the literal `locals.function_specs` (name => { description, env }) as FUNCTIONS_FROM_TABLE says (or,
    older layout, a literal map), passed as
    `functions = local.functions` to a module whose aws_lambda_function (for_each = var.functions) sets
    `environment.variables = merge(<shared locals>, ..., each.value.env)` and whose policy document
    (for_each = var.functions) grants sqs:SendMessage on `var.queue_arns[...]` for `each.value.send_queues`;
  - queue values look like `module.<queues>.queue_urls["<queue>"]`, and the functions module gets
    `queue_arns = module.<queues>.queue_arns` from the same queues module;
  - Rust: shared reads in services/order-contract/src/**.rs and services/order-core/src/**.rs, function
    reads in services/<function>/src/**.rs, through the reader functions of order_contract::config
    (re-exported as order_core::config: required, optional, parsed, parsed_or, ...) with literals;
  - alarms: aws_cloudwatch_metric_alarm resources in infra/ or its local modules, with a literal
    metric_name; docs/operations.md sections are headings (GitHub anchors) or explicit id="..." anchors.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the work tree from --self-test's imports

try:
    import hcl2
    import yaml
except ImportError as missing:  # pragma: no cover - environment problem, not a contract failure
    sys.exit(f"FAIL setup: {missing}; install python-hcl2 and pyyaml (xtask/requirements.txt)")

# Variables read by libraries rather than through order_core::config (tracing's EnvFilter, the
# OpenTelemetry SDK; sqlx's PgConnectOptions reads the libpq TLS variables too, although order_core's
# DbTls now reads them strictly itself): Terraform may set them although no config call names them.
LIBRARY_VARIABLES = re.compile(r"^(RUST_LOG|OTEL_[A-Z0-9_]+|PGSSLMODE|PGSSLROOTCERT)$")
# Set by Lambda itself; CreateFunction rejects them in Environment.
LAMBDA_RESERVED = re.compile(
    r"^(_HANDLER|_X_AMZN_TRACE_ID|AWS_REGION|AWS_DEFAULT_REGION|AWS_EXECUTION_ENV|AWS_LAMBDA_[A-Z0-9_]+"
    r"|AWS_ACCESS_KEY|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|LAMBDA_TASK_ROOT"
    r"|LAMBDA_RUNTIME_DIR|AWS_XRAY_CONTEXT_MISSING|AWS_XRAY_DAEMON_ADDRESS|TZ)$"
)
SHARED_CRATE = "order-core"
# Crates whose reads every function makes: the contract crate (readers, topology) and the shared library.
SHARED_CRATES = ("order-contract", SHARED_CRATE)
TOPOLOGY = Path("infra/topology.json")
RUNBOOK = Path("docs/operations.md")
# A binary crate under services/ that depends on one of these is a Lambda function (local tools are not).
LAMBDA_RUNTIMES = {"lambda_runtime", "lambda_http"}


class ContractError(Exception):
    """The sources are not laid out the way the checker understands: a failure, never a pass."""


# --------------------------------------------------------------------------------------------- report


@dataclass
class Report:
    passed: int = 0
    failed: int = 0
    lines: list[str] = field(default_factory=list)

    def check(self, ok: bool, name: str, message: str) -> bool:
        self.lines.append(f"{'PASS' if ok else 'FAIL'} {name}: {message}")
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        return ok

    def fail(self, name: str, message: str) -> None:
        self.check(False, name, message)


# ----------------------------------------------------------------------------------------- terraform


def _unquote(value):
    """python-hcl2 >= 5 keeps quotes on string literals and keys and wraps expressions in ${...}."""
    if isinstance(value, str):
        if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
            return value[1:-1]
        return value
    return value


def _norm(value):
    if isinstance(value, dict):
        return {
            _unquote(k): _norm(v)
            for k, v in value.items()
            if not (isinstance(k, str) and k.startswith("__") and k.endswith("__"))
        }
    if isinstance(value, list):
        return [_norm(v) for v in value]
    return _unquote(value)


def expr(value) -> str:
    """The expression text of an attribute: `${x}` -> `x`; literals as they are."""
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        return value[2:-1].strip()
    return value if isinstance(value, str) else repr(value)


# Parsed .tf files by their text: the self-test parses the same unchanged files once per test.
_PARSED: dict[str, dict] = {}


@dataclass
class Module:
    """The merged top-level blocks of one Terraform module directory."""

    path: Path
    locals: dict = field(default_factory=dict)
    modules: dict = field(default_factory=dict)
    resources: dict = field(default_factory=dict)  # (type, name) -> body
    data: dict = field(default_factory=dict)  # (type, name) -> body
    outputs: dict = field(default_factory=dict)
    variables: dict = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> "Module":
        files = sorted(path.glob("*.tf"))
        if not files:
            raise ContractError(f"no .tf files in {path}")
        module = cls(path)
        for file in files:
            text = file.read_text(encoding="utf-8")
            parsed = _PARSED.get(text)
            if parsed is None:
                try:
                    parsed = _PARSED[text] = _norm(hcl2.loads(text))
                except Exception as error:  # hcl2 raises lark errors of several kinds
                    raise ContractError(f"cannot parse {file}: {error}") from error
            for block in parsed.get("locals", []):
                module.locals.update(block)
            for block in parsed.get("module", []):
                module.modules.update(block)
            for block in parsed.get("output", []):
                module.outputs.update(block)
            for block in parsed.get("variable", []):
                module.variables.update(block)
            for kind, target in (("resource", module.resources), ("data", module.data)):
                for block in parsed.get(kind, []):
                    for rtype, named in block.items():
                        for name, body in named.items():
                            target[(rtype, name)] = body
        return module

    def child(self, name: str) -> "Module":
        source = self.modules[name].get("source", "")
        if not source.startswith("./") and not source.startswith("../"):
            raise ContractError(f"module {name}: source {source!r} is not a local path")
        return Module.load((self.path / source).resolve())

    def module_with_argument(self, argument: str, value: str) -> str:
        names = [n for n, body in self.modules.items() if expr(body.get(argument, "")) == value]
        if len(names) != 1:
            raise ContractError(f"expected one module block with `{argument} = {value}`, found {names}")
        return names[0]


def split_top_level(text: str, separators: str = ",") -> list[str]:
    """Splits on separators that are outside brackets and string literals."""
    parts, depth, current, quote, escaped = [], 0, [], False, False
    for char in text:
        if quote:
            current.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                quote = False
            continue
        if char == '"':
            quote = True
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        if char in separators and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def object_literal_keys(text: str) -> list[str]:
    """Keys of an HCL object literal `{A = x, "B" = y}` (one level)."""
    text = text.strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise ContractError(f"not an object literal: {text[:80]}")
    keys = []
    for item in split_top_level(text[1:-1], ",\n"):
        match = re.match(r'^"?([A-Za-z_][A-Za-z0-9_]*)"?\s*[=:](?!=)', item)
        if not match:
            raise ContractError(f"cannot read object item {item[:80]!r}")
        keys.append(match.group(1))
    return keys


def conditional_branches(text: str) -> list[str] | None:
    """`cond ? a : b` -> [a, b] (top level only), else None."""
    parts = split_top_level(text, "?")
    if len(parts) != 2:
        return None
    branches = split_top_level(parts[1], ":")
    return branches if len(branches) == 2 else None


@dataclass
class EnvSource:
    """Variable names a function environment gets from one merge() argument."""

    names: set[str]
    conditional: bool
    description: str


@dataclass
class TerraformFacts:
    functions: dict  # name -> {"env": {NAME: expression}, "send_queues": [queue]}
    shared_env: list[EnvSource]  # sources other than each.value.env, in merge order
    queues_module: str
    iam_send_source: str  # how the SendMessage statement gets its queues (for the report)
    root: Module
    functions_module: Module

    def env_names(self, function: str, unconditional_only: bool = True) -> set[str]:
        names = set(self.functions[function]["env"])
        for source in self.shared_env:
            if source.conditional and unconditional_only:
                continue
            names |= source.names
        return names


def _function_resource(module: Module) -> tuple[str, dict]:
    found = [
        (name, body)
        for (rtype, name), body in module.resources.items()
        if rtype == "aws_lambda_function" and expr(body.get("for_each", "")) == "var.functions"
    ]
    if len(found) != 1:
        raise ContractError(f"{module.path}: expected one aws_lambda_function with for_each = var.functions")
    return found[0]


def _env_sources(module: Module, body: dict) -> list[EnvSource]:
    environment = body.get("environment") or []
    if not environment or "variables" not in environment[0]:
        raise ContractError(f"{module.path}: the function resource has no environment.variables")
    variables = environment[0]["variables"]
    if isinstance(variables, dict):
        return [EnvSource(set(variables), False, "literal map")]
    text = expr(variables)
    match = re.fullmatch(r"merge\((.*)\)", text, flags=re.S)
    arguments = split_top_level(match.group(1)) if match else [text]
    sources = []
    for argument in arguments:
        sources.append(_resolve_env_argument(module, argument))
    if not any(s.description == "each.value.env" for s in sources):
        raise ContractError(f"{module.path}: environment.variables does not merge each.value.env")
    return sources


def _resolve_env_argument(module: Module, argument: str) -> EnvSource:
    if argument == "each.value.env":
        return EnvSource(set(), False, "each.value.env")
    if argument.startswith("{"):
        return EnvSource(set(object_literal_keys(argument)), False, f"literal {argument}")
    local = re.fullmatch(r"local\.([A-Za-z_][A-Za-z0-9_]*)", argument)
    if not local or local.group(1) not in module.locals:
        raise ContractError(f"{module.path}: cannot resolve environment source {argument!r}")
    value = module.locals[local.group(1)]
    if isinstance(value, dict):
        return EnvSource(set(value), False, argument)
    branches = conditional_branches(expr(value))
    if branches is None:
        raise ContractError(f"{module.path}: {argument} is neither a map nor `cond ? {{...}} : {{...}}`")
    names = set()
    for branch in branches:
        names |= set(object_literal_keys(branch))
    return EnvSource(names, True, f"{argument} (conditional)")


def _send_message_statement(module: Module) -> str:
    """Proves the SendMessage statement is built from each.value.send_queues; returns its resources text."""
    for (dtype, _name), body in module.data.items():
        if dtype != "aws_iam_policy_document" or expr(body.get("for_each", "")) != "var.functions":
            continue
        statements = [(s, None) for s in body.get("statement", [])]
        for dynamic in body.get("dynamic", []):
            for _label, dyn in dynamic.items():
                for content in dyn.get("content", []):
                    statements.append((content, expr(dyn.get("for_each", ""))))
        for statement, for_each in statements:
            actions = statement.get("actions", [])
            if isinstance(actions, str) or "sqs:SendMessage" not in actions:
                continue
            resources = expr(statement.get("resources", ""))
            if "var.queue_arns[" not in resources:
                raise ContractError(f"{module.path}: sqs:SendMessage resources {resources!r} do not index var.queue_arns")
            from_queues = "each.value.send_queues" in resources or (
                for_each and "each.value.send_queues" in for_each and "statement.value" in resources
            )
            if not from_queues:
                raise ContractError(f"{module.path}: sqs:SendMessage resources are not built from each.value.send_queues")
            return resources
    raise ContractError(f"{module.path}: no policy document (for_each = var.functions) grants sqs:SendMessage")


def _policy_reaches_function_role(module: Module, function_body: dict) -> None:
    """The policy document is attached to the role the function runs as."""
    role = re.search(r"aws_iam_role\.([A-Za-z0-9_]+)\[each\.key\]", expr(function_body.get("role", "")))
    if not role:
        raise ContractError(f"{module.path}: the function's role is not aws_iam_role.<name>[each.key]")
    for (rtype, _name), body in module.resources.items():
        if rtype != "aws_iam_role_policy":
            continue
        if f"aws_iam_role.{role.group(1)}[each.key]" in expr(body.get("role", "")) and re.search(
            r"data\.aws_iam_policy_document\.[A-Za-z0-9_]+\[each\.key\]\.json", expr(body.get("policy", ""))
        ):
            return
    raise ContractError(f"{module.path}: no aws_iam_role_policy attaches the policy document to the function role")


# How infra/main.tf builds locals.functions from the generated table (each part must be in the expression):
# every function of the table plus the deploy-only ones, each publishing queue's URL variable set to the queues
# module's URL, the spec's own env, send_queues and the schedule from the table.
FUNCTIONS_FROM_TABLE = (
    "for name in concat(keys(local.topology.functions), local.deploy_only_functions)",
    "for queue in try(local.topology.functions[name].publishes, []) : "
    "local.topology.queues[queue].url_variable => module.queues.queue_urls[queue]",
    "local.function_specs[name].env",
    "send_queues = try(local.topology.functions[name].publishes, [])",
    "schedule_expression = try(local.topology.functions[name].schedule_expression, null)",
)


def _functions_from_table(root: Path, infra: "Module") -> dict:
    """locals.functions as Terraform evaluates it from infra/topology.json and the literal function_specs."""
    expression = expr(infra.locals.get("functions"))
    missing = [part for part in FUNCTIONS_FROM_TABLE if part not in expression]
    if missing:
        raise ContractError(f"infra/main.tf: locals.functions is not built from the table as expected: {missing}")
    specs, deploy_only = infra.locals.get("function_specs"), infra.locals.get("deploy_only_functions")
    if not isinstance(specs, dict) or not isinstance(deploy_only, list):
        raise ContractError("infra/main.tf: locals.function_specs (map) and deploy_only_functions (list) are needed")
    try:
        table = json.loads((root / TOPOLOGY).read_text(encoding="utf-8"))
        listed, queues = table["functions"], table["queues"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ContractError(f"{TOPOLOGY}: not the table `cargo xtask topology` writes ({error!r})") from error
    names = [*listed, *(_unquote(n) for n in deploy_only)]
    extra = sorted(set(specs) - set(names))
    if extra:
        raise ContractError(f"infra/main.tf: locals.function_specs names functions the table does not: {extra}")
    functions = {}
    for name in names:
        spec, row = specs.get(name), listed.get(name, {})
        if not isinstance(spec, dict) or not isinstance(spec.get("env"), dict):
            raise ContractError(f"infra/main.tf: locals.function_specs has no entry with env = {{...}} for {name!r}")
        env = {queues[q]["url_variable"]: f'module.queues.queue_urls["{q}"]' for q in row.get("publishes", [])}
        env.update({k: expr(v) for k, v in spec["env"].items()})
        functions[name] = {"env": env, "send_queues": list(row.get("publishes", [])),
                           "schedule_expression": row.get("schedule_expression")}
    return functions


def load_terraform(root: Path) -> TerraformFacts:
    infra = Module.load(root / "infra")
    functions_raw = infra.locals.get("functions")
    if isinstance(functions_raw, str) and "local.topology" in functions_raw:
        functions = _functions_from_table(root, infra)
    elif not isinstance(functions_raw, dict) or not functions_raw:
        raise ContractError("infra/*.tf: locals.functions is missing or empty")
    else:
        functions = {}
        for name, spec in functions_raw.items():
            if not isinstance(spec.get("env"), dict) or not isinstance(spec.get("send_queues"), list):
                raise ContractError(f"locals.functions[{name!r}] needs env = {{...}} and send_queues = [...]")
            functions[name] = {
                "env": {k: expr(v) for k, v in spec["env"].items()},
                "send_queues": list(spec["send_queues"]),
                "schedule_expression": spec.get("schedule_expression"),
            }
    module_name = infra.module_with_argument("functions", "local.functions")
    functions_module = infra.child(module_name)
    _name, function_body = _function_resource(functions_module)
    sources = _env_sources(functions_module, function_body)
    iam_resources = _send_message_statement(functions_module)
    _policy_reaches_function_role(functions_module, function_body)
    queue_arns = expr(infra.modules[module_name].get("queue_arns", ""))
    queues = re.fullmatch(r"module\.([A-Za-z0-9_]+)\.queue_arns", queue_arns)
    if not queues:
        raise ContractError(f"module {module_name}: queue_arns = {queue_arns!r}, expected module.<queues>.queue_arns")
    return TerraformFacts(
        functions=functions,
        shared_env=[s for s in sources if s.description != "each.value.env"],
        queues_module=queues.group(1),
        iam_send_source=iam_resources,
        root=infra,
        functions_module=functions_module,
    )


# ---------------------------------------------------------------------------------------------- rust

_RUST_TOKENS = re.compile(
    r'(?P<string>r#*"(?:.|\n)*?"#*|"(?:\\.|[^"\\])*")|(?P<char>\'(?:\\.|[^\'\\])\')'
    r"|(?P<line>//[^\n]*)|(?P<block>/\*(?:.|\n)*?\*/)"
)


def strip_rust(source: str) -> str:
    """Blanks comments (doc examples are not reads) and #[cfg(test)] modules; keeps string literals."""

    def blank(match: re.Match) -> str:
        if match.group("line") or match.group("block"):
            return re.sub(r"[^\n]", " ", match.group(0))
        return match.group(0)

    source = _RUST_TOKENS.sub(blank, source)
    while True:
        test_mod = re.search(r"#\[cfg\(test\)\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*\{", source)
        if not test_mod:
            return source
        depth, index = 0, test_mod.end() - 1
        for index in range(test_mod.end() - 1, len(source)):
            depth += {"{": 1, "}": -1}.get(source[index], 0)
            if depth == 0:
                break
        source = source[: test_mod.start()] + source[index + 1 :]


def reader_functions(root: Path) -> dict[str, bool]:
    """config functions that take a variable name (order_contract::config, or order_core::config before it
    moved): name -> is the variable required (`parsed` is: it fails when the variable is absent)."""
    readers = {"required": True, "optional": False}
    for crate in SHARED_CRATES:
        config = root / "services" / crate / "src" / "config.rs"
        if config.exists():
            pattern = r"pub\s+fn\s+([a-z_][a-z0-9_]*)\s*(?:<[^>]*>)?\s*\(\s*\w+\s*:\s*&\s*(?:'static\s+)?str\b"
            for name in re.findall(pattern, strip_rust(config.read_text(encoding="utf-8"))):
                readers[name] = "required" in name or name == "parsed"
    return readers


@dataclass
class Read:
    name: str
    required: bool
    where: str


def rust_reads(root: Path, crate: str, readers: dict[str, bool]) -> tuple[list[Read], list[str]]:
    """Variable reads of one crate's src/, and convention violations (reads the checker cannot see)."""
    reads, problems = [], []
    names = "|".join(sorted(readers, key=len, reverse=True))
    call = re.compile(rf'(?<![.\w])(?:[A-Za-z_]\w*::)*({names})\s*(?:::<[^>]*>)?\s*\(\s*"([A-Z][A-Z0-9_]*)"')
    config_call = re.compile(rf"(?<![.\w])(?:\w+::)*config::({names})\s*\(\s*(?!\")([^,)\s]+)")
    direct = re.compile(r'\benv::var(?:_os)?\s*\(\s*"([A-Za-z0-9_]+)"')
    for file in sorted((root / "services" / crate / "src").rglob("*.rs")) if (root / "services" / crate / "src").is_dir() else []:
        text = strip_rust(file.read_text(encoding="utf-8"))
        relative = file.relative_to(root).as_posix()
        for match in call.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            reads.append(Read(match.group(2), readers[match.group(1)], f"{relative}:{line}"))
        for match in config_call.finditer(text):
            problems.append(f"{relative}: config::{match.group(1)}({match.group(2)}) with a non-literal name")
        for match in direct.finditer(text):
            problems.append(f"{relative}: env::var(\"{match.group(1)}\") bypasses order_core::config")
    return reads, problems


# ------------------------------------------------------------------------------------------- compose


def compose_environment(service: dict) -> dict:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        return dict(item.split("=", 1) if "=" in item else (item, None) for item in environment)
    return dict(environment)


# ---------------------------------------------------------------------------------------------- checks


def _load_compose(root: Path, report: Report) -> dict | None:
    path = root / "compose.yaml"
    if not path.exists():
        report.fail("compose", "compose.yaml is missing")
        return None
    services = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("services") or {}
    report.check(bool(services), "compose", f"compose.yaml has {len(services)} services")
    return services


def lambda_crates(root: Path) -> set[str]:
    """Binary crates under services/ that depend on a Lambda runtime: the functions (local tools do not)."""
    crates = set()
    for main in (root / "services").glob("*/src/main.rs"):
        manifest = main.parent.parent / "Cargo.toml"
        dependencies = tomllib.loads(manifest.read_text(encoding="utf-8")).get("dependencies", {}) if manifest.exists() else {}
        if LAMBDA_RUNTIMES & set(dependencies):
            crates.add(main.parent.parent.name)
    return crates


def _check_crates_are_deployed(root: Path, tf: TerraformFacts, report: Report) -> None:
    crates = lambda_crates(root)
    extra = sorted(crates - set(tf.functions))
    message = f"every Lambda crate under services/ is deployed ({len(crates)})"
    report.check(not extra, "functions.crates", f"Lambda crates Terraform does not deploy: {extra}" if extra else message)


def _check_required(function: str, reads: list[Read], tf: TerraformFacts, compose: dict | None, report: Report) -> int:
    """Check 1 for one function; returns how many required variables it reads."""
    required = {read.name: read for read in reads if read.required}
    service_env = None
    if compose is not None:
        if function in compose:
            service_env = compose_environment(compose[function])
        else:
            report.fail(f"compose.{function}", f"compose.yaml has no service named {function}")
    in_terraform = tf.env_names(function)
    for name, read in sorted(required.items()):
        missing = [place for place, ok in (("Terraform", name in in_terraform),
                                           ("compose.yaml", service_env is not None and name in service_env)) if not ok]
        where = f"required by {read.where}; "
        report.check(not missing, f"env.{function}.{name}",
                     where + (f"missing in {' and '.join(missing)}" if missing else "set in Terraform and compose.yaml"))
    return len(required)


def _check_no_stray_variables(function: str, reads: list[Read], tf: TerraformFacts, report: Report) -> None:
    """Terraform sets nothing the code does not read (a typo would pass check 1 silently otherwise), and no
    value comes from a variable the root module does not declare."""
    for name, value in sorted(tf.functions[function]["env"].items()):
        for variable in re.findall(r"\bvar\.([A-Za-z_][A-Za-z0-9_]*)", value):
            if variable not in tf.root.variables:
                report.fail(f"env.{function}.{name}", f"its value {value!r} uses var.{variable}, which infra/ does not declare")
    read_names = {read.name for read in reads}
    for name in sorted(tf.env_names(function, unconditional_only=False)):
        if LAMBDA_RESERVED.match(name) or name == "DATABASE_URL":
            report.fail(f"env.{function}.{name}", "Terraform must not set it (Lambda-reserved or local-only)")
        elif name not in read_names and not LIBRARY_VARIABLES.match(name):
            report.fail(f"env.{function}.{name}", "Terraform sets it but no code reads it (typo?)")


def check_env(root: Path, tf: TerraformFacts, report: Report) -> dict[str, list[Read]]:
    """Check 1; returns every function's reads (shared + own) for check 3."""
    readers = reader_functions(root)
    shared, problems = [], []
    for crate in SHARED_CRATES:
        crate_reads, crate_problems = rust_reads(root, crate, readers)
        shared += crate_reads
        problems += crate_problems
    try:
        topology = load_topology(root)
    except ContractError:
        topology = None  # reported by check_topology
    compose = _load_compose(root, report)
    _check_crates_are_deployed(root, tf, report)
    reads_by_function, total_required = {}, 0
    code_reads = sum(1 for read in shared if read.required)
    for function in tf.functions:
        if not (root / "services" / function / "src").is_dir():
            report.fail(f"env.{function}", f"services/{function}/src does not exist")
            continue
        own, own_problems = rust_reads(root, function, readers)
        problems += own_problems
        code_reads += sum(1 for read in own if read.required)
        if topology and function in topology.functions:
            own = topology.reads(function) + own  # a literal read in the code, if any, is the one reported
        reads_by_function[function] = shared + own
        total_required += _check_required(function, shared + own, tf, compose, report)
        _check_no_stray_variables(function, shared + own, tf, report)
    # The reads the topology implies do not count here: no literal read in the code means a broken scan.
    report.check(total_required > 0 and code_reads > 0, "env.reads",
                 f"{total_required} required reads across {len(reads_by_function)} functions" if total_required and code_reads
                 else 'no config::required("...") read found: the scan is broken or the code is missing')
    for problem in problems:
        report.fail("env.convention", problem)
    return reads_by_function


def _queue_of(tf: TerraformFacts, value: str) -> str | None:
    match = re.fullmatch(rf'module\.{tf.queues_module}\.queue_urls\["([^"]+)"\]', value)
    return match.group(1) if match else None


def check_publish(tf: TerraformFacts, reads: dict[str, list[Read]], report: Report) -> None:
    """Check 3: every queue URL a function reads is a queue its role may send to."""
    outputs = tf.root.child(tf.queues_module).outputs
    urls = expr(outputs.get("queue_urls", {}).get("value", ""))
    arns = expr(outputs.get("queue_arns", {}).get("value", ""))
    sources = {tuple(re.findall(r"\bin\s+(aws_sqs_queue\.\w+)", text)) for text in (urls, arns)}
    same = len(sources) == 1 and len(next(iter(sources))) == 1 and ".url" in urls and ".arn" in arns
    report.check(same, "publish.queues", "queue_urls and queue_arns map the same aws_sqs_queue" if same
                 else f"module {tf.queues_module}: queue_urls/queue_arns are not maps over one aws_sqs_queue")
    report.check(True, "publish.iam", f"sqs:SendMessage resources = {tf.iam_send_source}")
    count = 0
    for function, function_reads in reads.items():
        send_queues = tf.functions[function]["send_queues"]
        for name in sorted({read.name for read in function_reads if read.name.endswith("_QUEUE_URL")}):
            count += 1
            check = f"publish.{function}.{name}"
            value = tf.functions[function]["env"].get(name)
            queue = _queue_of(tf, value) if value else None
            if value is None:
                report.fail(check, "read by the code but not set in locals.functions[...].env")
            elif queue is None:
                report.fail(check, f"value {value!r} does not name a queue of module.{tf.queues_module}")
            elif queue not in send_queues:
                report.fail(check, f"queue {queue!r} is not in send_queues {send_queues}: its role may not sqs:SendMessage to it")
            else:
                report.check(True, check, f"queue {queue!r} is in send_queues: its role may sqs:SendMessage to it")
    report.check(count > 0, "publish.reads", f"{count} queue URLs read" if count
                 else "no *_QUEUE_URL read by any function: the scan is broken or the code is missing")


def check_api(root: Path, tf: TerraformFacts, report: Report) -> None:
    """Check 2: operationIds are functions, and Terraform routes each operation to its function."""
    _check_api_wiring(tf, report)
    path = root / "docs" / "openapi.yaml"
    if not path.exists():
        report.fail("api.document", "docs/openapi.yaml is missing")
        return
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    methods = {"get", "put", "post", "delete", "options", "head", "patch"}
    operations = [(method.upper(), route, operation)
                  for route, item in (document.get("paths") or {}).items()
                  for method, operation in (item or {}).items() if method.lower() in methods]
    report.check(bool(operations), "api.operations",
                 f"{len(operations)} operations in docs/openapi.yaml" if operations else "docs/openapi.yaml has no operations")
    schemes = set((document.get("components") or {}).get("securitySchemes") or {})
    for method, route, operation in operations:
        operation_id = operation.get("operationId")
        known = operation_id in tf.functions
        report.check(known, f"api.{method} {route}", f"operationId {operation_id!r} is a Terraform function" if known
                     else f"operationId {operation_id!r} is not a function in locals.functions")
        for requirement in operation.get("security", document.get("security", [])) or []:
            for scheme in requirement:
                ok = scheme == "cognito" and scheme in schemes
                report.check(ok, f"api.{method} {route}.security",
                             f"uses the {scheme} scheme (Cognito authorizer)" if ok
                             else f"security scheme {scheme!r} is not the cognito scheme defined in components")


def _check_api_wiring(tf: TerraformFacts, report: Report) -> None:
    """The API body's integration URIs come from the functions module's invoke ARNs, by operationId."""
    root = tf.root
    functions = root.module_with_argument("functions", "local.functions")
    try:
        # The integrations invoke the functions' alias (alias_invoke_arns) or, before aliases, the function.
        output = next((name for name in ("alias_invoke_arns", "invoke_arns") if any(
            expr(body.get("function_invoke_arns", "")) == f"module.{functions}.{name}" for body in root.modules.values())), "invoke_arns")
        renderer = root.module_with_argument("function_invoke_arns", f"module.{functions}.{output}")
        api = root.module_with_argument("body", f"module.{renderer}.body")
        renderer_module, api_module = root.child(renderer), root.child(api)
        lambda_name, _ = _function_resource(tf.functions_module)
    except ContractError as error:
        report.fail("api.wiring", str(error))
        return
    document = expr(root.modules[renderer].get("openapi_document", ""))
    invoke = expr(tf.functions_module.outputs.get(output, {}).get("value", ""))
    aliases = re.search(r"\bin\s+local\.(\w+)", invoke)
    if aliases and aliases.group(1) in tf.functions_module.locals:
        invoke += " " + expr(tf.functions_module.locals[aliases.group(1)])
    renderer_text = " ".join(expr(v) for v in renderer_module.locals.values() if isinstance(v, str))
    uri = r"(lookup\(\s*var\.function_invoke_arns\s*,|var\.function_invoke_arns\[)[^\n]*operationId"
    api_resources = [(rtype, body) for (rtype, _name), body in api_module.resources.items()]
    api_args = root.modules[api]
    facts = {
        f"module {renderer} renders docs/openapi.yaml": "docs/openapi.yaml" in document,
        f"{output} maps {'each aws_lambda_alias' if output == 'alias_invoke_arns' else f'aws_lambda_function.{lambda_name}'} to .invoke_arn":
            (f"aws_lambda_function.{lambda_name}" in invoke or (output == "alias_invoke_arns" and "aws_lambda_alias." in invoke))
            and ".invoke_arn" in invoke,
        "integration uri = var.function_invoke_arns[operationId]": re.search(uri, renderer_text) is not None,
        f"module {api} deploys var.body as the REST API body": any(
            rtype == "aws_api_gateway_rest_api" and expr(body.get("body", "")) == "var.body" for rtype, body in api_resources),
        f"module {api} lets API Gateway invoke each operation's function": any(
            rtype == "aws_lambda_permission" and "each.value.operation_id" in expr(body.get("function_name", ""))
            for rtype, body in api_resources)
        and expr(api_args.get("function_names", "")) == f"module.{functions}.function_names"
        and expr(api_args.get("operations", "")) == f"module.{renderer}.operations",
    }
    if any(rtype == "aws_lambda_alias" for rtype, _name in tf.functions_module.resources):
        facts["the integrations invoke the functions' alias (alias_invoke_arns), not $LATEST"] = output == "alias_invoke_arns"
    if output == "alias_invoke_arns":
        # A permission on the function does not let API Gateway invoke its alias.
        qualifiers = [re.fullmatch(r"var\.(\w+)", expr(body.get("qualifier", ""))) for rtype, body in api_resources if rtype == "aws_lambda_permission"]
        facts[f"module {api}'s permissions are granted on the alias the integrations invoke"] = bool(qualifiers) and all(
            q and expr(api_args.get(q.group(1), "")) == f"module.{functions}.alias_name" for q in qualifiers)
    for fact, ok in facts.items():
        report.check(ok, "api.wiring", fact if ok else f"not true: {fact}")



# ------------------------------------------------------------------------------------------ topology


@dataclass
class Topology:
    """infra/topology.json (generated from order_contract::topology): function -> trigger and queues."""

    functions: dict  # name -> {"trigger": "http" | "queue:<name>" | "schedule", "publishes": [queue name]}
    url_variables: dict  # queue name -> its URL variable
    consumers: dict = field(default_factory=dict)  # queue name -> the function its event source mapping feeds

    def reads(self, function: str) -> list[Read]:
        """The wiring reads the URL of each queue a function publishes to (a required read)."""
        return [Read(self.url_variables[queue], True, f"{TOPOLOGY.as_posix()} ({function} publishes to {queue})")
                for queue in self.functions[function]["publishes"] if queue in self.url_variables]


def load_topology(root: Path) -> Topology | None:
    """The generated table; `cargo xtask topology --check` keeps it equal to the Rust one."""
    path = root / TOPOLOGY
    if not path.exists():
        return None
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
        queues, listed = table["queues"], table["functions"]
        urls = {name: queue["url_variable"] for name, queue in queues.items()}
        consumers = {name: queue["consumer"] for name, queue in queues.items()}
        functions = {}
        for name, function in listed.items():
            trigger = function["trigger"]
            kind = f"queue:{function['queue']}" if trigger == "queue" else trigger
            functions[name] = {"trigger": kind, "publishes": sorted(function["publishes"])}
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ContractError(f"{TOPOLOGY}: not the table `cargo xtask topology` writes ({error!r})") from error
    if not functions:
        raise ContractError(f"{TOPOLOGY}: no functions")
    return Topology(functions, urls, consumers)


def check_topology(root: Path, tf: TerraformFacts, report: Report) -> None:
    """Check 4: the topology table and Terraform (and the OpenAPI routes) describe the same system."""
    try:
        topology = load_topology(root)
    except ContractError as error:
        report.fail("topology", str(error))
        return
    if topology is None:
        report.check(True, "topology", f"{TOPOLOGY} does not exist (nothing to compare)")
        return
    consumers = tf.root.locals.get("queue_consumers")
    if expr(consumers) == "{for queue, spec in local.topology.queues : queue => spec.consumer}":
        consumers = {queue: topology.consumers[queue] for queue in topology.consumers}
    if not isinstance(consumers, dict):
        report.fail("topology", "infra/main.tf: locals.queue_consumers (queue => consumer function) is missing")
        consumers = {}
    document = yaml.safe_load((root / "docs" / "openapi.yaml").read_text(encoding="utf-8")) if (root / "docs" / "openapi.yaml").exists() else {}
    routed = {operation.get("operationId") for item in ((document or {}).get("paths") or {}).values()
              for method, operation in (item or {}).items() if isinstance(operation, dict)}
    for name, facts in topology.functions.items():
        check = f"topology.{name}"
        if name not in tf.functions:
            report.fail(check, "in the topology table but not in infra/main.tf locals.functions")
            continue
        deployed = tf.functions[name]
        problems = []
        if sorted(deployed["send_queues"]) != facts["publishes"]:
            problems.append(f"publishes to {facts['publishes']} but send_queues = {sorted(deployed['send_queues'])}")
        trigger = facts["trigger"]
        fed_by = sorted(queue for queue, consumer in consumers.items() if consumer == name)
        if trigger.startswith("queue:") and fed_by != [trigger[6:]]:
            problems.append(f"is triggered by queue {trigger[6:]!r} but queue_consumers feeds it {fed_by}")
        if not trigger.startswith("queue:") and fed_by:
            problems.append(f"is not a queue consumer but queue_consumers feeds it {fed_by}")
        scheduled = deployed.get("schedule_expression") not in (None, "null", "${null}")
        if (trigger == "schedule") != scheduled:
            problems.append(f"trigger {trigger} but schedule_expression = {deployed.get('schedule_expression')!r}")
        if (trigger == "http") != (name in routed):
            problems.append("is an HTTP function with no operation in docs/openapi.yaml" if trigger == "http"
                            else "serves an operation in docs/openapi.yaml but its trigger is not Http")
        report.check(not problems, check, "; ".join(problems) if problems
                     else f"{trigger}, publishes to {facts['publishes']}: deployed the same way")


# -------------------------------------------------------------------------------------------- alarms

# (check name, metric_name, runbook section, what else identifies it) from PLAN.md. "relay" = the dimensions
# name the outbox-relay function; "dlq"/"queue" = the QueueName of a DLQ / main queue; "every function" =
# for_each over the deployed functions.
REQUIRED_ALARMS = [
    ("OutboxOldestAgeSeconds", "OutboxOldestAgeSeconds", "outbox-backlog", "relay"),
    ("RelayFailures", "RelayFailures", "relay-failures", "relay"),
    ("StalledOrders", "StalledOrders", "stalled-orders", "relay"),
    ("OutboxStuckRows", "OutboxStuckRows", "outbox-stuck-rows", "relay"),
    ("dlq-depth", "ApproximateNumberOfMessagesVisible", "dlq-not-empty", "dlq"),
    ("queue-age", "ApproximateAgeOfOldestMessage", "queue-age", "queue"),
    ("throttles", "Throttles", "throttles", "every function"),
    ("db-connections", "DatabaseConnections", "db-connections", ""),
    ("api-5xx", "5XXError", "api-5xx", ""),
]
EMF_NAMESPACE = "OrderBackend"
# Alarm ("<module address>.<resource name>") => (treat_missing_data, why), for an alarm that does not treat
# missing data as notBreaching. Empty: every alarm does. "breaching" pages on every clean first deploy (an
# alarm evaluates the periods before its metric's first datapoint too) and "missing"/"ignore" leave a dead
# metric silent; an entry here has to say why that is right.
MISSING_DATA_EXCEPTIONS: dict[str, tuple[str, str]] = {}


def runbook_anchors(root: Path) -> set[str]:
    """Section ids of docs/operations.md: GitHub heading anchors and explicit id="..." anchors."""
    path = root / RUNBOOK
    if not path.exists():
        return set()
    text = path.read_text(encoding="utf-8")
    anchors = set(re.findall(r'id="([A-Za-z0-9_-]+)"', text)) | set(re.findall(r"\{#([A-Za-z0-9_-]+)\}", text))
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*$", text, flags=re.M):
        heading = re.sub(r"\{#[^}]*\}", "", heading)
        anchors.add(re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", heading.strip().lower())))
    return anchors


def _all_modules(root: Module) -> dict[str, Module]:
    modules = {"infra": root}
    for name in root.modules:
        try:
            modules[f"module.{name}"] = root.child(name)
        except ContractError:
            continue
    return modules


def _resolve(module: Module, value) -> str:
    """The text of an attribute, with `local.x`/`var.x` (default) replaced by their value (one level)."""
    text = expr(value) if isinstance(value, str) else repr(value)
    local = re.fullmatch(r"local\.(\w+)", text)
    if local and local.group(1) in module.locals:
        return repr(module.locals[local.group(1)])
    variable = re.fullmatch(r"var\.(\w+)", text)
    if variable and "default" in module.variables.get(variable.group(1), {}):
        return str(module.variables[variable.group(1)]["default"])
    return text


def check_alarms(root: Path, tf: TerraformFacts, report: Report) -> None:
    """Check 5: each stall of PLAN.md has an alarm that notifies and names an existing runbook section."""
    anchors = runbook_anchors(root)
    report.check(bool(anchors), "alarms.runbook", f"{RUNBOOK} has {len(anchors)} sections" if anchors
                 else f"{RUNBOOK} is missing or has no sections")
    alarms = [(where, name, module, body) for where, module in _all_modules(tf.root).items()
              for (rtype, name), body in module.resources.items() if rtype == "aws_cloudwatch_metric_alarm"]
    for check, metric, anchor, scope in REQUIRED_ALARMS:
        candidates = []
        for where, name, module, body in alarms:
            if expr(body.get("metric_name", "")) != metric:
                continue
            dimensions = _resolve(module, body.get("dimensions", ""))
            in_scope = {
                "relay": "outbox-relay" in dimensions and "Service" in dimensions
                and _resolve(module, body.get("namespace", "")) == EMF_NAMESPACE,
                "dlq": "dlq" in dimensions,
                "queue": "QueueName" in dimensions and "dlq" not in dimensions,
                "every function": "FunctionName" in dimensions and re.search(r"var\.function_names|function_names", expr(body.get("for_each", ""))) is not None,
                "": True,
            }[scope]
            if in_scope:
                candidates.append((where, name, body))
        if not candidates:
            report.fail(f"alarms.{check}", f"no aws_cloudwatch_metric_alarm on {metric}" + (f" ({scope})" if scope else ""))
            continue
        where, name, body = candidates[0]
        label = f"{where}.aws_cloudwatch_metric_alarm.{name}"
        actions = expr(body.get("alarm_actions", ""))
        description = expr(body.get("alarm_description", ""))
        problems = []
        if actions in ("", "[]") or (isinstance(body.get("alarm_actions"), list) and not body["alarm_actions"]):
            problems.append("notifies no one (alarm_actions is empty)")
        if f"#{anchor}" not in description:
            problems.append(f"its description does not name the runbook section #{anchor}")
        elif anchor not in anchors:
            problems.append(f"runbook section #{anchor} does not exist in {RUNBOOK}")
        if "treat_missing_data" not in body:
            problems.append("treat_missing_data is not decided")
        report.check(not problems, f"alarms.{check}", f"{label}: " + ("; ".join(problems) if problems
                     else f"{metric}, notifies {actions}, runbook #{anchor}"))
    check_missing_data(alarms, report)


def check_missing_data(alarms: list, report: Report) -> None:
    """Every alarm, not only the stall alarms, decides treat_missing_data with a literal: notBreaching, or the
    value MISSING_DATA_EXCEPTIONS gives it with a reason. So a clean first deploy, whose metrics do not exist
    yet, leaves every alarm OK."""
    report.check(bool(alarms), "alarms.missing-data", f"{len(alarms)} aws_cloudwatch_metric_alarm resources")
    for where, name, _module, body in alarms:
        key = f"{where}.{name}"
        expected, why = MISSING_DATA_EXCEPTIONS.get(key, ("notBreaching", "no data until the metric's first datapoint"))
        value = body.get("treat_missing_data")
        label = f"alarms.missing-data.{key}"
        if value is None:
            report.fail(label, f"treat_missing_data is not decided (expected {expected!r}: {why})")
        elif expr(value) != value or value != expected:
            report.fail(label, f"treat_missing_data = {expr(value)!r}, expected {expected!r} ({why}); "
                        "a deliberate other value goes into MISSING_DATA_EXCEPTIONS with its reason")
        else:
            report.check(True, label, f"treat_missing_data = {value!r} ({why})")


# ------------------------------------------------------------------------ first apply and leftovers


def _depends_on(body: dict) -> list[str]:
    return [expr(item) for item in body.get("depends_on", [])]


def _resources(tf: TerraformFacts, rtype: str) -> list[tuple[str, str, dict]]:
    return [(where, name, body) for where, module in _all_modules(tf.root).items()
            for (kind, name), body in module.resources.items() if kind == rtype]


def check_first_apply(tf: TerraformFacts, report: Report) -> None:
    """Issue 19: the functions after Transaction Search, the triggers after migrate-db, no image Terraform may
    reference expires, API Gateway's execution logs go to a group of ours."""
    functions_module = tf.root.module_with_argument("functions", "local.functions")
    wiring = tf.root.modules[functions_module]
    orders = [
        ("aws_lambda_function", "create_after", "module.observability.transaction_search_ids", "Transaction Search"),
        ("aws_lambda_event_source_mapping", "start_after", "aws_lambda_invocation.migrate_db", "the migrate-db run"),
        ("aws_cloudwatch_event_target", "start_after", "aws_lambda_invocation.migrate_db", "the migrate-db run"),
    ]
    for rtype, variable, source, what in orders:
        resources = [(f"module.{functions_module}", name, body) for (kind, name), body in tf.functions_module.resources.items()
                     if kind == rtype]
        missing = [f"{where}.{rtype}.{name}" for where, name, body in resources if f"var.{variable}" not in _depends_on(body)]
        passed = expr(wiring.get(variable, ""))
        ok = bool(resources) and not missing and source in passed
        report.check(ok, f"order.{rtype}", f"created after {what} (depends_on var.{variable} = {passed})" if ok else
                     f"not ordered after {what}: " + (f"{missing} lack depends_on var.{variable}" if missing or not resources
                                                       else f"module.{functions_module}.{variable} is {passed!r}, not {source}"))
    for where, name, body in _resources(tf, "aws_ecr_lifecycle_policy"):
        statuses = re.findall(r'tagStatus\s*=\s*"(\w+)"', str(body.get("policy", "")))
        ok = bool(statuses) and set(statuses) == {"untagged"}
        report.check(ok, f"ecr.{where}.{name}", "expires untagged images only" if ok else
                     f"a rule selects tagStatus {statuses}: it can expire an image a function runs")
    groups = [(where, name, body) for where, name, body in _resources(tf, "aws_cloudwatch_log_group")
              if str(body.get("name", "")).startswith("API-Gateway-Execution-Logs_")]
    settings = _resources(tf, "aws_api_gateway_method_settings")
    ok = bool(groups) and all("retention_in_days" in body and "kms_key_id" in body for _, _, body in groups) and all(
        any(f"aws_cloudwatch_log_group.{name}" in _depends_on(body) for _, name, _ in groups) for _, _, body in settings)
    report.check(ok, "logs.api-execution", "API-Gateway-Execution-Logs_<api>/<stage> is ours, with retention and KMS, "
                 "before the method settings" if ok else "no API-Gateway-Execution-Logs_ group with retention and KMS that "
                 "the method settings depend on: API Gateway would create it without either")


# ----------------------------------------------------------------------------------------- variables


def check_variables(tf: TerraformFacts, report: Report) -> None:
    """House style: every variable of infra/ and its local modules has a type and a description."""
    count = 0
    for where, module in _all_modules(tf.root).items():
        for name, body in module.variables.items():
            count += 1
            missing = [key for key in ("type", "description") if not body.get(key)]
            if missing:
                report.fail(f"variables.{where}.{name}", f"has no {' and no '.join(missing)}")
    report.check(count > 0, "variables", f"{count} variables, each with a type and a description checked")


def run(root: Path) -> Report:
    report = Report()
    try:
        tf = load_terraform(root)
    except ContractError as error:
        report.fail("terraform", str(error))
        return report
    report.check(True, "terraform.functions", f"{len(tf.functions)} functions: {', '.join(tf.functions)}")
    env_total = sum(len(tf.env_names(function)) for function in tf.functions)
    shared = ", ".join(source.description for source in tf.shared_env)
    report.check(env_total > 0, "terraform.env", f"{env_total} variables set across functions (shared: {shared})")
    reads = check_env(root, tf, report)
    check_publish(tf, reads, report)
    check_api(root, tf, report)
    check_topology(root, tf, report)
    check_alarms(root, tf, report)
    check_first_apply(tf, report)
    from delivery_check import check_delivery  # noqa: PLC0415 - it imports this module

    check_delivery(root, tf.root, tf.root.module_with_argument("functions", "local.functions"), report)
    check_variables(tf, report)
    return report


def main(argv: list[str]) -> int:
    if argv[1:] == ["--self-test"]:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import self_test  # noqa: PLC0415 - only needed for --self-test

        return self_test.main()
    if len(argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    report = run(Path(argv[1]).resolve())
    print("\n".join(report.lines))
    print(f"{report.passed} passed, {report.failed} failed")
    return 1 if report.failed or not report.passed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
