"""Check 6 of check_contract.py: every deployable function is released gradually and rolls back on alarm.

From the sources only, it proves that:
  - every function publishes versions (`publish = true`) and the triggers invoke its alias: the event source
    mappings and the schedule target take the alias ARN, the schedule's permission and async settings are
    qualified with it (the API integrations and their permissions: check 2, api.wiring);
  - every function of the topology table (every function with a trigger) has an alias that Terraform leaves
    to CodeDeploy (`ignore_changes = [function_version, ...]`) and a CodeDeploy deployment group;
  - each deployment group shifts 10 % for 5 minutes, rolls back on DEPLOYMENT_FAILURE and
    DEPLOYMENT_STOP_ON_ALARM, and names the alarms a release must stop on: the API's 5XX, the function's
    Errors, the DLQs, and for an HTTP function its p99 Duration.
The names a for_each covers are read through locals, module arguments and simple for-expressions; an
expression it cannot read is a failure, never a pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from check_contract import ContractError, Module, Report, Topology, expr, load_topology, split_top_level

CANARY = "CodeDeployDefault.LambdaCanary10Percent5Minutes"
ROLLBACK_EVENTS = {"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"}
ALARM_KINDS = {"api-5xx": "the API's 5XX", "errors": "the function's Errors", "dlq": "the DLQs", "latency-p99": "its p99 latency"}


@dataclass
class Scope:
    """A module, and the arguments its parent passes it (None for the root)."""

    module: Module
    args: dict | None = None
    parent: "Scope | None" = None

    def child(self, name: str) -> "Scope":
        return Scope(self.module.child(name), self.module.modules[name], self)


def names(scope: Scope, value, routed: set[str]) -> set[str]:
    """The keys or items an expression stands for (a for_each, a list of function names)."""
    if isinstance(value, dict):
        return set(value)
    if isinstance(value, list):
        return {expr(item) for item in value}
    text = expr(value).strip()
    wrapper = re.fullmatch(r"(toset|keys|distinct|compact)\((.*)\)", text, flags=re.S)
    if wrapper:
        return names(scope, wrapper.group(2), routed)
    if re.fullmatch(r'\[\s*(?:"[^"]*"\s*,?\s*)*\]', text):
        return set(re.findall(r'"([^"]*)"', text))
    if re.search(r"module\.\w+\.operations", text) and "operation_id" in text:
        return set(routed)  # the function of every API operation
    branches = split_top_level(text, "?")
    if len(branches) == 2:
        on, off = (split_top_level(branches[1], ":") + ["", ""])[:2]
        if off.strip() not in ("{}", "[]"):
            raise ContractError(f"cannot read the names of {text!r}")
        return names(scope, on, routed)
    variable = re.fullmatch(r"var\.(\w+)", text)
    if variable:
        name = variable.group(1)
        if scope.args is not None and name in scope.args:
            return names(scope.parent, scope.args[name], routed)
        if "default" in scope.module.variables.get(name, {}):
            return names(scope, scope.module.variables[name]["default"], routed)
        raise ContractError(f"{scope.module.path}: var.{name} has no value to read")
    local = re.fullmatch(r"local\.(\w+)", text)
    if local:
        if local.group(1) not in scope.module.locals:
            raise ContractError(f"{scope.module.path}: local.{local.group(1)} is not defined")
        return names(scope, scope.module.locals[local.group(1)], routed)
    loop = re.fullmatch(r"[\[{]\s*for\s+(\w+)(?:\s*,\s*\w+)?\s+in\s+(.+?)\s*:\s*(.*?)[\]}]", text, flags=re.S)
    if loop:
        item, source, body = loop.groups()
        found = names(scope, source, routed)
        condition = re.search(r"\bif\s+(.*)$", body, flags=re.S)
        if condition:
            excluded = re.findall(rf'{item}\s*!=\s*"([^"]+)"', condition.group(1))
            if re.sub(rf'{item}\s*!=\s*"[^"]+"|&&|\s', "", condition.group(1)):
                raise ContractError(f"cannot read the condition of {text!r}")
            found -= set(excluded)
        return found
    raise ContractError(f"cannot read the names of {text!r}")


def literal(scope: Scope, value):
    """A value through var.x (the parent's argument, else the default); other expressions as text."""
    if not isinstance(value, str) or not value.startswith("${"):
        return value
    variable = re.fullmatch(r"var\.(\w+)", expr(value))
    if variable and scope.args is not None and variable.group(1) in scope.args:
        return literal(scope.parent, scope.args[variable.group(1)])
    if variable and "default" in scope.module.variables.get(variable.group(1), {}):
        return literal(scope, scope.module.variables[variable.group(1)]["default"])
    return expr(value)


def alarms_named(scope: Scope, text: str) -> list[dict]:
    """The aws_cloudwatch_metric_alarm bodies an expression names, through module arguments and outputs."""
    found = [scope.module.resources[("aws_cloudwatch_metric_alarm", name)]
             for name in re.findall(r"aws_cloudwatch_metric_alarm\.(\w+)", text)
             if ("aws_cloudwatch_metric_alarm", name) in scope.module.resources]
    for variable in re.findall(r"\bvar\.(\w+)", text):
        if scope.args is None or variable not in scope.args:
            continue
        argument = scope.args[variable]
        for module, output in re.findall(r"module\.(\w+)\.(\w+)", expr(argument) if isinstance(argument, str) else repr(argument)):
            child = scope.parent.child(module)
            value = child.module.outputs.get(output, {}).get("value", "")
            found += alarms_named(child, expr(value) if isinstance(value, str) else repr(value))
    return found


def alarm_kind(body: dict) -> str | None:
    metric, dimensions = expr(body.get("metric_name", "")), repr(body.get("dimensions", ""))
    if metric == "5XXError":
        return "api-5xx"
    if metric == "Errors" and "FunctionName" in dimensions and "function_names" in expr(body.get("for_each", "")):
        return "errors"
    if metric == "ApproximateNumberOfMessagesVisible" and "dlq" in dimensions:
        return "dlq"
    if metric == "Duration" and expr(body.get("extended_statistic", "")) == "p99":
        return "latency-p99"
    return None


def _one(module: Module, rtype: str, test) -> tuple[str, dict]:
    found = [(name, body) for (kind, name), body in module.resources.items() if kind == rtype and test(body)]
    if len(found) != 1:
        raise ContractError(f"{module.path}: expected one {rtype} {'' if found else 'that qualifies'}, found {[n for n, _ in found]}")
    return found[0]


def _check_triggers(functions: Module, report: Report) -> None:
    """Versions are published and every trigger invokes the alias."""
    _name, function = _one(functions, "aws_lambda_function", lambda b: expr(b.get("for_each", "")) == "var.functions")
    report.check(function.get("publish") is True, "delivery.publish",
                 "every function publishes a version per change" if function.get("publish") is True
                 else "aws_lambda_function does not set publish = true: there is no version to shift")
    alias = r"local\.alias_arns\[each\.key\]|aws_lambda_alias\.\w+\[each\.key\]\.arn"
    # The alias resource's name (not the variable): the permission then waits for the alias to exist.
    qualifier = r"local\.aliases\[each\.key\]\.name|aws_lambda_alias\.\w+\[each\.key\]\.name"
    facts = {}
    for rtype, attribute in (("aws_lambda_event_source_mapping", "function_name"), ("aws_cloudwatch_event_target", "arn")):
        for (kind, name), body in functions.resources.items():
            if kind == rtype:
                facts[f"{kind}.{name}.{attribute} is the alias ARN"] = re.fullmatch(alias, expr(body.get(attribute, ""))) is not None
    for rtype in ("aws_lambda_permission", "aws_lambda_function_event_invoke_config"):
        for (kind, name), body in functions.resources.items():
            if kind == rtype:
                facts[f"{kind}.{name} is qualified with the alias"] = re.fullmatch(qualifier, expr(body.get("qualifier", ""))) is not None
    if not facts:
        report.fail("delivery.triggers", "no event source mapping or schedule target found in the functions module")
    for fact, ok in facts.items():
        report.check(ok, "delivery.triggers", fact if ok else f"not true: {fact}")


def _shifted_functions(scope: Scope, routed: set[str]) -> set[str]:
    """Functions with an alias whose version Terraform leaves to CodeDeploy."""
    shifted = set()
    for (kind, _name), body in scope.module.resources.items():
        ignored = [item for block in body.get("lifecycle", []) for item in block.get("ignore_changes", [])]
        if kind == "aws_lambda_alias" and "function_version" in [expr(i) for i in ignored]:
            shifted |= names(scope, body.get("for_each", ""), routed)
    return shifted


def _group_problems(group: dict, scope: Scope, routed: set[str], function: str) -> list[str]:
    problems = []
    config = literal(scope, group.get("deployment_config_name", ""))
    if config != CANARY:
        problems.append(f"shifts with {config!r}, not {CANARY}")
    rollback = (group.get("auto_rollback_configuration") or [{}])[0]
    if rollback.get("enabled") is not True or not ROLLBACK_EVENTS <= set(rollback.get("events") or []):
        problems.append(f"does not roll back on {sorted(ROLLBACK_EVENTS)}")
    alarms = (group.get("alarm_configuration") or [{}])[0]
    text = expr(alarms.get("alarms", ""))
    local = re.fullmatch(r"local\.(\w+)\[each\.key\]", text)
    if local and local.group(1) in scope.module.locals:
        text = expr(scope.module.locals[local.group(1)])
    kinds = {alarm_kind(body) for body in alarms_named(scope, text)}
    wanted = {"api-5xx", "errors", "dlq"} | ({"latency-p99"} if function in routed else set())
    guard = re.search(r"contains\(var\.(\w+),\s*\w+\)\s*\?\s*\[\s*aws_cloudwatch_metric_alarm\.(\w+)", text)
    if guard and function in routed and function not in names(scope, f"var.{guard.group(1)}", routed):
        kinds.discard("latency-p99")
    for body in [scope.module.resources.get(("aws_cloudwatch_metric_alarm", n), {}) for n in re.findall(r"aws_cloudwatch_metric_alarm\.(\w+)", text)]:
        if alarm_kind(body) == "latency-p99" and function in routed and function not in names(scope, body.get("for_each", ""), routed):
            kinds.discard("latency-p99")
    if alarms.get("enabled") is not True:
        problems.append("its alarm configuration is not enabled")
    missing = [ALARM_KINDS[kind] for kind in sorted(wanted - kinds)]
    if missing:
        problems.append(f"names no alarm on {', '.join(missing)}")
    return problems


def check_delivery(root_path, root: Module, functions_module_name: str, report: Report) -> None:
    """Check 6 (see the module docstring)."""
    try:
        topology: Topology | None = load_topology(root_path)
        document_routed = {name for name, facts in (topology.functions if topology else {}).items() if facts["trigger"] == "http"}
        top = Scope(root)
        functions = top.child(functions_module_name)
        _check_triggers(functions.module, report)
        shifted = _shifted_functions(functions, document_routed)
        delivery = [name for name in root.modules
                    if any(kind == "aws_codedeploy_deployment_group" for kind, _ in root.child(name).resources)]
        if len(delivery) != 1:
            raise ContractError(f"expected one module with CodeDeploy deployment groups, found {delivery}")
        scope = top.child(delivery[0])
        _name, group = _one(scope.module, "aws_codedeploy_deployment_group", lambda b: True)
        grouped = names(scope, group.get("for_each", ""), document_routed)
    except ContractError as error:
        report.fail("delivery", str(error))
        return
    deployable = sorted(topology.functions) if topology else []
    report.check(bool(deployable), "delivery", f"{len(deployable)} deployable functions (the topology table)" if deployable
                 else "no topology table: no deployable functions to check")
    for function in deployable:
        problems = []
        if function not in shifted:
            problems.append("has no alias that CodeDeploy shifts (Terraform would move it, or there is none)")
        if function not in grouped:
            problems.append("has no CodeDeploy deployment group")
        else:
            try:
                problems += _group_problems(group, scope, document_routed, function)
            except ContractError as error:
                problems.append(str(error))
        report.check(not problems, f"delivery.{function}", "; ".join(problems) if problems
                     else "live alias, deployment group: canary 10 % / 5 min, rolls back on its alarms")
