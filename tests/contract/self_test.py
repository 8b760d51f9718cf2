"""Self-tests of check_contract.py (run: check_contract.py --self-test).

Each test lays out a repository in a temporary directory: the fixture under fixtures/good (Rust sources,
compose.yaml, docs/openapi.yaml) plus a copy of the real infra/. The untouched layout must pass; every test
then breaks one fact and asserts that the named check fails.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import unittest
from pathlib import Path

import check_contract

# The alarm of each way an order can stall (check name, "<module dir>/<resource name>").
STALL_ALARMS = [
    ("OutboxOldestAgeSeconds", "observability/outbox_backlog"),
    ("RelayFailures", "observability/relay_failures"),
    ("StalledOrders", "observability/stalled_orders"),
    ("dlq-depth", "queues/dlq_not_empty"),
    ("queue-age", "queues/oldest_message_age"),
    ("throttles", "observability/function_throttles"),
    ("db-connections", "observability/db_connections"),
    ("api-5xx", "observability/api_5xx"),
]

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "fixtures" / "good"
INFRA = HERE.parent.parent / "infra"


class ContractCheckTest(unittest.TestCase):
    def setUp(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="contract-")
        self.root = Path(self._tmp.name)
        shutil.copytree(FIXTURE, self.root, dirs_exist_ok=True)
        shutil.copytree(INFRA, self.root / "infra", ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))

    def tearDown(self) -> None:
        self._tmp.cleanup()

    # -- helpers -----------------------------------------------------------------------------------

    def edit(self, relative: str, old: str, new: str, *, regex: bool = False) -> None:
        """Replaces the first match; a mutation that matches nothing is a broken test, not a pass."""
        path = self.root / relative
        text = path.read_text(encoding="utf-8")
        changed = re.sub(old, new, text, count=1, flags=re.S) if regex else text.replace(old, new, 1)
        self.assertTrue(changed != text, f"mutation did not apply to {relative}: {old!r}")
        path.write_text(changed, encoding="utf-8")

    def run_check(self) -> check_contract.Report:
        return check_contract.run(self.root)

    def assert_fails(self, report: check_contract.Report, check: str, text: str = "") -> None:
        failures = [line for line in report.lines if line.startswith(f"FAIL {check}")]
        self.assertTrue(
            any(text in line for line in failures),
            f"expected FAIL {check} ({text!r}); got:\n" + "\n".join(report.lines),
        )

    # -- the fixture as it is ------------------------------------------------------------------------

    def test_fixture_with_the_real_infra_passes(self) -> None:
        report = self.run_check()
        self.assertEqual(report.failed, 0, "\n".join(report.lines))
        self.assertIn(
            "PASS env.create-order.ORDERS_QUEUE_URL: required by services/create-order/src/main.rs:4; "
            "set in Terraform and compose.yaml",
            report.lines,
        )
        self.assertTrue(any(line.startswith("PASS publish.outbox-relay.STOCK_QUEUE_URL") for line in report.lines))
        self.assertTrue(any(line.startswith("PASS api.POST /orders:") for line in report.lines))
        self.assertTrue(any(line.startswith("PASS api.POST /orders/{id}/cancel:") for line in report.lines))
        self.assertTrue(any(line.startswith("PASS topology.cancel-order:") for line in report.lines))
        for check, _resource in STALL_ALARMS:
            self.assertTrue(any(line.startswith(f"PASS alarms.{check}:") for line in report.lines), check)
        # Read by sqlx itself, not through config: Terraform may set them.
        self.assertFalse(any("PGSSLMODE" in line or "PGSSLROOTCERT" in line for line in report.lines))

    def test_comments_and_test_modules_are_not_reads(self) -> None:
        reads, problems = check_contract.rust_reads(
            self.root, "order-core", check_contract.reader_functions(self.root)
        )
        names = {read.name for read in reads}
        self.assertEqual(problems, [])
        self.assertIn("DB_SECRET_ARN", names)
        self.assertIn("OUTBOX_MIN_AGE_SECONDS", names)  # turbofish call
        self.assertNotIn("NOT_A_READ", names)
        self.assertNotIn("NOT_A_READ_EITHER", names)
        self.assertNotIn("TEST_ONLY_VARIABLE", names)
        self.assertFalse(next(r for r in reads if r.name == "DB_MAX_CONNECTIONS").required)

    # -- 1. environment ------------------------------------------------------------------------------

    def test_function_variable_missing_in_terraform_fails(self) -> None:
        self.edit("services/outbox-relay/src/main.rs", 'config::required("STOCK_QUEUE_URL"),',
                  'config::required("STOCK_QUEUE_URL"),\n        config::required("OUTBOX_BATCH_SIZE"),')
        self.edit("infra/main.tf", r'\n\s*OUTBOX_BATCH_SIZE\s*=[^\n]*', "", regex=True)
        self.assert_fails(self.run_check(), "env.outbox-relay.OUTBOX_BATCH_SIZE", "missing in Terraform")

    def test_shared_variable_missing_in_the_functions_module_fails_for_every_function(self) -> None:
        self.edit("infra/modules/functions/main.tf", r"\n\s*DB_NAME\s*=[^\n]*", "", regex=True)
        report = self.run_check()
        for function in ("create-order", "get-orders", "cancel-order", "process-order", "update-stock", "outbox-relay", "migrate-db"):
            self.assert_fails(report, f"env.{function}.DB_NAME", "missing in Terraform")

    def test_variable_missing_in_compose_fails(self) -> None:
        self.edit("compose.yaml", "      STOCK_QUEUE_URL: http://localstack:4566/queue/stock\n", "")
        self.assert_fails(self.run_check(), "env.process-order.STOCK_QUEUE_URL", "missing in compose.yaml")

    def test_variable_missing_in_a_list_style_compose_environment_fails(self) -> None:
        self.edit("compose.yaml", "      - DB_NAME=orders\n", "")
        self.assert_fails(self.run_check(), "env.update-stock.DB_NAME", "missing in compose.yaml")

    def test_new_required_read_in_code_fails_until_deployed(self) -> None:
        self.edit(
            "services/get-orders/src/main.rs",
            "fn main() {",
            'fn main() {\n    let _ = order_core::config::required("PAYMENT_API_URL");',
        )
        self.assert_fails(self.run_check(), "env.get-orders.PAYMENT_API_URL", "missing in Terraform and compose.yaml")

    def test_missing_compose_service_fails(self) -> None:
        self.edit("compose.yaml", "  update-stock:\n", "  update-stock-renamed:\n")
        self.assert_fails(self.run_check(), "compose.update-stock", "no service named update-stock")

    def test_database_only_function_passes_without_queue_or_route(self) -> None:
        report = self.run_check()
        self.assertEqual(report.failed, 0, "\n".join(report.lines))
        for name in ("DB_SECRET_ARN", "DB_HOST", "DB_PORT", "DB_NAME"):
            self.assertTrue(any(line.startswith(f"PASS env.migrate-db.{name}:") for line in report.lines), name)
        self.assertFalse(any(line.startswith("PASS publish.migrate-db") for line in report.lines))
        self.assertFalse(any("AWS_LAMBDA_RUNTIME_API" in line for line in report.lines))

    def test_migration_job_missing_in_compose_fails(self) -> None:
        self.edit("compose.yaml", "  migrate-db:\n", "  migrate:\n")
        self.assert_fails(self.run_check(), "compose.migrate-db", "no service named migrate-db")

    def test_lambda_crate_that_terraform_does_not_deploy_fails(self) -> None:
        self.edit("services/local-tool/Cargo.toml", 'tokio = "1"', 'tokio = "1"\nlambda_http = "1"')
        self.assert_fails(self.run_check(), "functions.crates", "['local-tool']")

    def test_variable_terraform_sets_but_no_code_reads_fails(self) -> None:
        self.edit(
            "infra/main.tf",
            r'("process-order" = \{\s*description = [^\n]*\n\s*env\s*=\s*)\{\}',
            r'\1{ STOCK_QUEUE_URI = "typo" }',
            regex=True,
        )
        self.assert_fails(self.run_check(), "env.process-order.STOCK_QUEUE_URI", "no code reads it")

    def test_database_url_in_terraform_fails(self) -> None:
        self.edit("infra/main.tf", r"env\s*=\s*\{\}", 'env = { DATABASE_URL = "postgres://x" }', regex=True)
        self.assert_fails(self.run_check(), "env.create-order.DATABASE_URL", "must not set it")

    def test_direct_env_read_bypassing_config_fails(self) -> None:
        self.edit("services/update-stock/src/main.rs", "fn main() {}", 'fn main() { let _ = std::env::var("SNEAKY"); }')
        self.assert_fails(self.run_check(), "env.convention", 'env::var("SNEAKY")')

    def test_no_terraform_functions_fails_loudly(self) -> None:
        self.edit("infra/main.tf", r"\n  functions = \{.*?\n  \}\n", "\n  functions = {}\n", regex=True)
        self.assert_fails(self.run_check(), "terraform", "locals.functions is missing or empty")

    def test_code_without_required_reads_fails_loudly(self) -> None:
        for file in (self.root / "services").rglob("*.rs"):
            file.write_text("fn main() {}\n", encoding="utf-8")
        self.assert_fails(self.run_check(), "env.reads", "no config::required")

    # -- 2. API ----------------------------------------------------------------------------------------

    def test_operation_id_without_a_function_fails(self) -> None:
        self.edit("docs/openapi.yaml", "operationId: create-order", "operationId: place-order")
        self.assert_fails(self.run_check(), "api.POST /orders", "'place-order' is not a function")

    def test_integration_not_taken_from_the_operation_id_fails(self) -> None:
        self.edit(
            "infra/modules/openapi/main.tf",
            r'uri\s*=\s*lookup\(var\.function_invoke_arns, try\(tostring\(operation\.operationId\), ""\), ""\)',
            'uri = var.function_invoke_arns["get-orders"]',
            regex=True,
        )
        self.assert_fails(self.run_check(), "api.wiring", "integration uri")

    def test_unknown_security_scheme_fails(self) -> None:
        self.edit("docs/openapi.yaml", "      security:\n        - cognito: []", "      security:\n        - apiKey: []")
        self.assert_fails(self.run_check(), "api.GET /orders/{id}.security", "'apiKey'")

    # -- 3. publishing -------------------------------------------------------------------------------

    def test_queue_missing_from_send_queues_fails(self) -> None:
        # send_queues comes from the table with the URLs; a map that stops taking it from there fails loudly.
        self.edit("infra/main.tf", "send_queues         = try(local.topology.functions[name].publishes, [])", "send_queues = []")
        self.assert_fails(self.run_check(), "terraform", "not built from the table as expected")

    def test_queue_url_not_from_the_queues_module_fails(self) -> None:
        self.edit(
            "infra/main.tf",
            r'(STOCK_QUEUE_URL|OUTBOX_MIN_AGE_SECONDS)\s*=\s*tostring\(var\.outbox_min_age_seconds\)',
            'STOCK_QUEUE_URL = "https://sqs.example/stock"\n        OUTBOX_MIN_AGE_SECONDS = tostring(var.outbox_min_age_seconds)',
            regex=True,
        )
        self.assert_fails(self.run_check(), "publish.outbox-relay.STOCK_QUEUE_URL", "does not name a queue")
        self.setUp()
        self.edit("infra/main.tf", "=> module.queues.queue_urls[queue]", '=> "https://sqs.example/${queue}"')
        self.assert_fails(self.run_check(), "terraform", "not built from the table as expected")

    def test_policy_not_built_from_send_queues_fails(self) -> None:
        self.edit(
            "infra/modules/functions/main.tf",
            "resources = [for queue in statement.value : var.queue_arns[queue]]",
            "resources = values(var.queue_arns)",
        )
        self.assert_fails(self.run_check(), "terraform", "do not index var.queue_arns")


    # -- 4. topology ---------------------------------------------------------------------------------

    def test_topology_function_missing_in_terraform_fails(self) -> None:
        # The table lists it, so Terraform deploys it; without its spec the plan (and this check) fails.
        self.edit("infra/main.tf", r'\n    "cancel-order" = \{.*?\n    \}\n', "\n", regex=True)
        self.assert_fails(self.run_check(), "terraform", "no entry with env = {...} for 'cancel-order'")

    # A table that says other queues than the code: `cargo xtask topology --check` and xtask's
    # a_topology_file_that_differs_from_the_rust_table_is_stale test catch it; Terraform takes its queues from
    # the file, so Terraform and the file cannot differ. What can still differ is the file and the event
    # sources or the API, below.

    def test_topology_trigger_other_than_terraform_fails(self) -> None:
        self.edit("infra/topology.json", r'("update-stock": \{.*?"queue": )"stock"', r'\1"orders"', regex=True)
        self.assert_fails(self.run_check(), "topology.update-stock", "triggered by queue 'orders'")

    def test_a_topology_file_of_another_shape_fails(self) -> None:
        self.edit("infra/topology.json", '"functions"', '"lambdas"')
        self.assert_fails(self.run_check(), "terraform", "not the table `cargo xtask topology` writes")

    def test_a_function_spec_the_table_does_not_list_fails(self) -> None:
        self.edit("infra/main.tf", '  function_specs = {\n', '  function_specs = {\n    "ship-order" = {\n      description = "x"\n      env         = {}\n    }\n')
        self.assert_fails(self.run_check(), "terraform", "names functions the table does not: ['ship-order']")

    def test_http_function_without_a_route_fails(self) -> None:
        self.edit("docs/openapi.yaml", r"  /orders/\{id\}/cancel:.*?(?=components:)", "", regex=True)
        self.assert_fails(self.run_check(), "topology.cancel-order", "no operation in docs/openapi.yaml")

    def test_queue_url_the_topology_implies_is_required(self) -> None:
        self.edit("services/create-order/src/main.rs", 'config::required("ORDERS_QUEUE_URL")', '"read by the wiring"')
        self.edit("compose.yaml", "      ORDERS_QUEUE_URL: http://localstack:4566/queue/orders\n  get-orders:", "  get-orders:")
        self.assert_fails(self.run_check(), "env.create-order.ORDERS_QUEUE_URL", "topology.json (create-order publishes to orders); missing in compose.yaml")

    # -- 5. alarms -----------------------------------------------------------------------------------

    def test_missing_alarm_for_each_stall_fails(self) -> None:
        for check, resource in STALL_ALARMS:
            with self.subTest(check=check):
                module, name = resource.split("/")
                path = self.root / "infra" / "modules" / module / "main.tf"
                original = path.read_text(encoding="utf-8")
                try:
                    self.edit(f"infra/modules/{module}/main.tf", rf'resource "aws_cloudwatch_metric_alarm" "{name}" \{{.*?\n\}}\n', "", regex=True)
                    self.assert_fails(self.run_check(), f"alarms.{check}", "no aws_cloudwatch_metric_alarm")
                finally:
                    path.write_text(original, encoding="utf-8")

    def test_relay_gauge_alarm_on_another_function_fails(self) -> None:
        self.edit("infra/modules/observability/main.tf", 'relay_metric = { Service = var.service_name, Function = "outbox-relay" }',
                  'relay_metric = { Service = var.service_name, Function = "create-order" }')
        report = self.run_check()
        for check in ("OutboxOldestAgeSeconds", "RelayFailures", "StalledOrders"):
            self.assert_fails(report, f"alarms.{check}", "(relay)")

    def test_throttle_alarm_not_on_every_function_fails(self) -> None:
        self.edit("infra/modules/observability/main.tf",
                  r'(resource "aws_cloudwatch_metric_alarm" "function_throttles" \{\s*)for_each = var\.function_names',
                  r'\1for_each = { create = "orders-dev-create-order" }', regex=True)
        self.assert_fails(self.run_check(), "alarms.throttles", "(every function)")

    def test_alarm_that_names_no_runbook_section_fails(self) -> None:
        self.edit("infra/modules/queues/main.tf", " Runbook: ${var.runbook_url}#queue-age", "")
        self.assert_fails(self.run_check(), "alarms.queue-age", "does not name the runbook section #queue-age")

    def test_runbook_section_missing_fails(self) -> None:
        self.edit("docs/operations.md", "## API 5xx", "## API errors")
        self.assert_fails(self.run_check(), "alarms.api-5xx", "#api-5xx does not exist in docs/operations.md")

    def test_alarm_that_notifies_no_one_fails(self) -> None:
        self.edit("infra/modules/observability/main.tf",
                  r'(resource "aws_cloudwatch_metric_alarm" "db_connections" \{.*?)alarm_actions\s*=\s*\[aws_sns_topic\.alarms\.arn\]',
                  r"\1alarm_actions = []", regex=True)
        self.assert_fails(self.run_check(), "alarms.db-connections", "notifies no one")

    def test_alarm_without_a_missing_data_decision_fails(self) -> None:
        self.edit("infra/modules/observability/main.tf",
                  r'(resource "aws_cloudwatch_metric_alarm" "stalled_orders" \{.*?)\n\s*treat_missing_data\s*=\s*"notBreaching"',
                  r"\1", regex=True)
        self.assert_fails(self.run_check(), "alarms.StalledOrders", "treat_missing_data")

    def test_alarm_that_treats_missing_data_as_breaching_fails(self) -> None:
        self.edit("infra/modules/observability/main.tf",
                  r'(resource "aws_cloudwatch_metric_alarm" "outbox_backlog" \{.*?treat_missing_data\s*=\s*)"notBreaching"',
                  r'\1"breaching"', regex=True)
        self.assert_fails(self.run_check(), "alarms.missing-data.module.observability.outbox_backlog", "'breaching', expected 'notBreaching'")

    def test_any_alarm_without_a_missing_data_decision_fails(self) -> None:
        path = self.root / "infra" / "modules" / "api" / "main.tf"
        path.write_text(path.read_text(encoding="utf-8") + """
resource "aws_cloudwatch_metric_alarm" "latency" {
  alarm_name          = "latency"
  namespace           = "AWS/ApiGateway"
  metric_name         = "Latency"
  statistic           = "Average"
  period              = 60
  evaluation_periods  = 1
  threshold           = 1000
  comparison_operator = "GreaterThanThreshold"
}
""", encoding="utf-8")
        self.assert_fails(self.run_check(), "alarms.missing-data.module.api.latency", "not decided")

    def test_missing_data_from_an_expression_fails(self) -> None:
        self.edit("infra/modules/queues/main.tf",
                  r'(resource "aws_cloudwatch_metric_alarm" "oldest_message_age" \{.*?treat_missing_data\s*=\s*)"notBreaching"',
                  r"\1var.missing_data", regex=True)
        self.assert_fails(self.run_check(), "alarms.missing-data.module.queues.oldest_message_age", "'var.missing_data'")

    def test_breaching_listed_with_a_reason_passes(self) -> None:
        self.edit("infra/modules/observability/main.tf",
                  r'(resource "aws_cloudwatch_metric_alarm" "outbox_backlog" \{.*?treat_missing_data\s*=\s*)"notBreaching"',
                  r'\1"breaching"', regex=True)
        key = "module.observability.outbox_backlog"
        check_contract.MISSING_DATA_EXCEPTIONS[key] = ("breaching", "planted by the self-test")
        try:
            report = self.run_check()
        finally:
            del check_contract.MISSING_DATA_EXCEPTIONS[key]
        self.assertEqual(report.failed, 0, "\n".join(report.lines))

    # -- first apply and leftovers ---------------------------------------------------------------------

    def test_functions_not_ordered_after_transaction_search_fail(self) -> None:
        self.edit("infra/modules/functions/main.tf", "    aws_iam_role_policy_attachment.vpc_access,\n    var.create_after,\n",
                  "    aws_iam_role_policy_attachment.vpc_access,\n")
        self.assert_fails(self.run_check(), "order.aws_lambda_function", "lack depends_on var.create_after")

    def test_event_sources_not_ordered_after_migrate_db_fail(self) -> None:
        self.edit("infra/modules/functions/main.tf", "depends_on = [aws_iam_role_policy.function, var.start_after]",
                  "depends_on = [aws_iam_role_policy.function]")
        self.assert_fails(self.run_check(), "order.aws_lambda_event_source_mapping", "lack depends_on var.start_after")

    def test_start_after_not_fed_by_the_migrate_db_run_fails(self) -> None:
        self.edit("infra/main.tf", "start_after  = aws_lambda_invocation.migrate_db[*].id", "start_after  = []")
        self.assert_fails(self.run_check(), "order.aws_cloudwatch_event_target", "not aws_lambda_invocation.migrate_db")

    def test_ecr_rule_that_expires_tagged_images_fails(self) -> None:
        self.edit("infra/modules/registry/main.tf", 'tagStatus   = "untagged"', 'tagStatus   = "any"')
        self.assert_fails(self.run_check(), "ecr.module.registry.retention", "tagStatus ['any']")

    def test_api_execution_logs_left_to_api_gateway_fail(self) -> None:
        self.edit("infra/modules/api/main.tf", r'resource "aws_cloudwatch_log_group" "execution" \{.*?\n\}\n', "", regex=True)
        self.edit("infra/modules/api/main.tf", ", aws_cloudwatch_log_group.execution]", "]")
        self.edit("infra/modules/api/main.tf", "\n  depends_on = [aws_cloudwatch_log_group.execution]\n", "\n")
        self.assert_fails(self.run_check(), "logs.api-execution", "API Gateway would create it")

    # -- 6. delivery -----------------------------------------------------------------------------------

    def test_fixture_functions_are_all_released_gradually(self) -> None:
        report = self.run_check()
        for function in ("create-order", "get-orders", "cancel-order", "process-order", "update-stock", "outbox-relay"):
            self.assertTrue(any(line.startswith(f"PASS delivery.{function}: live alias, deployment group") for line in report.lines), function)
        self.assertFalse(any(line.startswith("PASS delivery.migrate-db") for line in report.lines))

    def test_function_without_published_versions_fails(self) -> None:
        self.edit("infra/modules/functions/main.tf", r"\n\s*publish = true", "", regex=True)
        self.assert_fails(self.run_check(), "delivery.publish", "publish = true")

    def test_event_source_mapping_on_the_function_not_the_alias_fails(self) -> None:
        self.edit("infra/modules/functions/main.tf", r"(function_name\s*=\s*)local\.alias_arns\[each\.key\]",
                  r"\1aws_lambda_function.this[each.key].arn", regex=True)
        self.assert_fails(self.run_check(), "delivery.triggers", "aws_lambda_event_source_mapping.sqs.function_name is the alias ARN")

    def test_schedule_target_on_the_function_not_the_alias_fails(self) -> None:
        self.edit("infra/modules/functions/main.tf", r"(arn\s*=\s*)local\.alias_arns\[each\.key\]",
                  r"\1aws_lambda_function.this[each.key].arn", regex=True)
        self.assert_fails(self.run_check(), "delivery.triggers", "aws_cloudwatch_event_target.schedule.arn")

    def test_schedule_permission_not_on_the_alias_fails(self) -> None:
        self.edit("infra/modules/functions/main.tf", r"\n\s*qualifier\s*=\s*local\.aliases\[each\.key\]\.name(\n\s*principal)", r"\1", regex=True)
        self.assert_fails(self.run_check(), "delivery.triggers", "aws_lambda_permission.schedule is qualified")

    def test_integrations_on_the_function_not_the_alias_fail(self) -> None:
        self.edit("infra/main.tf", "function_invoke_arns = module.functions.alias_invoke_arns", "function_invoke_arns = module.functions.invoke_arns")
        self.assert_fails(self.run_check(), "api.wiring", "invoke the functions' alias")

    def test_api_permission_not_on_the_alias_fails(self) -> None:
        self.edit("infra/modules/api/main.tf", r"\n\s*qualifier\s*=\s*var\.function_qualifier", "", regex=True)
        self.assert_fails(self.run_check(), "api.wiring", "permissions are granted on the alias")

    def test_function_left_out_of_the_gradual_rollout_fails(self) -> None:
        self.edit("infra/main.tf", 'name if name != "migrate-db"]', 'name if name != "migrate-db" && name != "update-stock"]')
        report = self.run_check()
        self.assert_fails(report, "delivery.update-stock", "has no alias that CodeDeploy shifts")
        self.assert_fails(report, "delivery.update-stock", "has no CodeDeploy deployment group")

    def test_alias_that_terraform_moves_fails(self) -> None:
        self.edit("infra/modules/functions/main.tf", "ignore_changes = [function_version, routing_config]", "ignore_changes = [routing_config]")
        self.assert_fails(self.run_check(), "delivery.process-order", "has no alias that CodeDeploy shifts")

    def test_deployment_group_missing_for_a_function_fails(self) -> None:
        self.edit("infra/main.tf", "for name in local.gradual_rollout_functions : name => module.functions.function_names[name]",
                  'for name in ["create-order", "get-orders"] : name => module.functions.function_names[name]')
        report = self.run_check()
        self.assert_fails(report, "delivery.outbox-relay", "has no CodeDeploy deployment group")
        self.assertTrue(any(line.startswith("PASS delivery.create-order:") for line in report.lines))

    def test_deployment_group_without_each_alarm_fails(self) -> None:
        drifts = [
            ("var.api_5xx_alarm_name, ", "", "the API's 5XX"),
            (", var.function_error_alarm_names[name]", "", "the function's Errors"),
            ("var.dlq_alarm_names,", "", "the DLQs"),
            ('contains(var.api_functions, name) ? [aws_cloudwatch_metric_alarm.latency_p99[name].alarm_name] : [],', "", "its p99 latency"),
        ]
        path = self.root / "infra" / "modules" / "delivery" / "main.tf"
        original = path.read_text(encoding="utf-8")
        for old, new, missing in drifts:
            with self.subTest(missing=missing):
                try:
                    self.edit("infra/modules/delivery/main.tf", old, new)
                    self.assert_fails(self.run_check(), "delivery.create-order", f"names no alarm on {missing}")
                finally:
                    path.write_text(original, encoding="utf-8")

    def test_latency_alarm_missing_for_an_api_function_fails(self) -> None:
        self.edit("infra/main.tf", r"api_functions\s*=\s*compact\([^\n]*\n", 'api_functions = ["create-order", "cancel-order"]\n', regex=True)
        report = self.run_check()
        self.assert_fails(report, "delivery.get-orders", "names no alarm on its p99 latency")
        self.assertTrue(any(line.startswith("PASS delivery.process-order:") for line in report.lines))

    def test_rollback_without_stop_on_alarm_fails(self) -> None:
        self.edit("infra/modules/delivery/main.tf", '["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]', '["DEPLOYMENT_FAILURE"]')
        self.assert_fails(self.run_check(), "delivery.get-orders", "does not roll back on")

    def test_deployment_config_other_than_the_canary_fails(self) -> None:
        self.edit("infra/modules/delivery/variables.tf", 'default     = "CodeDeployDefault.LambdaCanary10Percent5Minutes"',
                  'default     = "CodeDeployDefault.LambdaAllAtOnce"')
        self.assert_fails(self.run_check(), "delivery.update-stock", "shifts with 'CodeDeployDefault.LambdaAllAtOnce'")

    # -- variables -----------------------------------------------------------------------------------

    def test_variable_without_a_description_fails(self) -> None:
        self.edit("infra/variables.tf", r'(variable "order_expiry_minutes" \{\s*type\s*=\s*number)\s*\n\s*description\s*=[^\n]*', r"\1", regex=True)
        self.assert_fails(self.run_check(), "variables.infra.order_expiry_minutes", "no description")

    def test_module_variable_without_a_type_fails(self) -> None:
        self.edit("infra/modules/database/variables.tf", r'(variable "max_connections" \{)\s*\n\s*type\s*=\s*number', r"\1", regex=True)
        self.assert_fails(self.run_check(), "variables.module.database.max_connections", "no type")

    def test_environment_value_from_an_undeclared_variable_fails(self) -> None:
        self.edit("infra/main.tf", "tostring(var.order_stall_minutes)", "tostring(var.order_stall_minute)")
        self.assert_fails(self.run_check(), "env.outbox-relay.ORDER_STALL_MINUTES", "var.order_stall_minute, which infra/ does not declare")

    def test_relay_variable_the_code_does_not_read_fails(self) -> None:
        self.edit("services/order-core/src/config.rs", 'parsed_or("ORDER_EXPIRY_MINUTES", 30)', "30")
        self.assert_fails(self.run_check(), "env.outbox-relay.ORDER_EXPIRY_MINUTES", "no code reads it")


def main() -> int:
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(ContractCheckTest)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors)
    print(f"{result.testsRun - failed} passed, {failed} failed")
    return 0 if result.wasSuccessful() and result.testsRun > 0 else 1
