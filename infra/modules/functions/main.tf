data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.region

  # CloudWatch's OTLP traces endpoint (SigV4, service xray); it needs Transaction Search on the account.
  otlp_traces_endpoint = "https://xray.${local.region}.${data.aws_partition.current.dns_suffix}/v1/traces"

  # Read by order_core::config in every function. Values are strings: the code parses them.
  shared_env = {
    DB_HOST                  = var.database.host
    DB_PORT                  = tostring(var.database.port)
    DB_NAME                  = var.database.name
    DB_MAX_CONNECTIONS       = tostring(var.db_max_connections)
    RUST_LOG                 = var.rust_log
    OTEL_RESOURCE_ATTRIBUTES = var.otel_resource_attributes
    OTEL_TRACES_SAMPLER      = var.otel_traces_sampler
    # Spans go to CloudWatch (Transaction Search) signed with the role's credentials; a flush is bounded.
    AWS_OTLP_TRACES_ENDPOINT   = local.otlp_traces_endpoint
    OTEL_EXPORTER_OTLP_TIMEOUT = tostring(var.otel_exporter_otlp_timeout_ms)
    # libpq-style TLS settings, read by sqlx: verify the RDS certificate and host name.
    PGSSLMODE     = var.db_ssl_mode
    PGSSLROOTCERT = var.db_ssl_root_cert
  }

  # The salt of the hashed customer id on spans; unset, the code hashes without one.
  telemetry_env = var.telemetry_hash_salt == "" ? {} : {
    TELEMETRY_HASH_SALT = var.telemetry_hash_salt
  }

  # Without an endpoint the exporter stays off (the SDK default would be localhost:4318).
  otlp_env = var.otel_exporter_otlp_endpoint == "" ? {} : {
    OTEL_EXPORTER_OTLP_ENDPOINT = var.otel_exporter_otlp_endpoint
  }

  scheduled = { for name, function in var.functions : name => function.schedule_expression if function.schedule_expression != null }

  # SQS actions the event source mapping needs on the consumed queue.
  consume_actions = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]

  # Functions that publish to or consume a queue; only they may use the key through SQS.
  uses_sqs = {
    for name, function in var.functions : name => length(function.send_queues) > 0 || contains(keys(var.event_sources), name)
  }
}

# --- IAM: one role per function, built from the same map that sets its environment -----------------

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "function" {
  for_each = var.functions

  name               = "${var.name_prefix}-${each.key}"
  description        = "Execution role of ${var.name_prefix}-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

# ENI management for the VPC attachment, and log writing.
resource "aws_iam_role_policy_attachment" "vpc_access" {
  for_each = var.functions

  role       = aws_iam_role.function[each.key].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

data "aws_iam_policy_document" "function" {
  for_each = var.functions

  # The write actions of the AWS-managed AWSXrayWriteOnlyPolicy (OTLP spans to CloudWatch) and what Lambda's
  # active tracing uses; X-Ray has no resource-level permissions. No sampling-rule reads: no X-Ray SDK runs.
  statement {
    sid = "WriteTraces"
    actions = [
      "xray:PutSpans",
      "xray:PutSpansForIndexing",
      "xray:PutTraceSegments",
      "xray:PutTelemetryRecords",
    ]
    resources = ["*"]
  }

  # Its own login only (docs/deploy.md#database-roles); migrate-db also reads the function roles' secrets to
  # set their passwords.
  statement {
    sid       = "ReadDatabaseSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = concat([var.database.secret_arns[each.key]], lookup(var.extra_secret_reads, each.key, []))
  }

  # The secret and the queues are encrypted with the stack key; only those services may use it for us, and
  # SQS only for functions that touch a queue.
  statement {
    sid       = "DecryptSecretAndMessages"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values = concat(
        ["secretsmanager.${local.region}.amazonaws.com"],
        local.uses_sqs[each.key] ? ["sqs.${local.region}.amazonaws.com"] : [],
      )
    }
  }

  # SendMessageBatch is authorised by sqs:SendMessage.
  dynamic "statement" {
    for_each = length(each.value.send_queues) > 0 ? [each.value.send_queues] : []

    content {
      sid       = "PublishToQueues"
      actions   = ["sqs:SendMessage"]
      resources = [for queue in statement.value : var.queue_arns[queue]]
    }
  }

  dynamic "statement" {
    for_each = length(each.value.send_queues) > 0 ? [1] : []

    content {
      sid       = "EncryptPublishedMessages"
      actions   = ["kms:GenerateDataKey"]
      resources = [var.kms_key_arn]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["sqs.${local.region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = contains(keys(var.event_sources), each.key) ? [var.event_sources[each.key]] : []

    content {
      sid       = "ConsumeQueue"
      actions   = local.consume_actions
      resources = [var.queue_arns[statement.value]]
    }
  }
}

resource "aws_iam_role_policy" "function" {
  for_each = var.functions

  name   = "least-privilege"
  role   = aws_iam_role.function[each.key].id
  policy = data.aws_iam_policy_document.function[each.key].json
}

# --- Functions --------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "function" {
  for_each = var.functions

  name              = "/aws/lambda/${var.name_prefix}-${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_272:Code signing applies to .zip packages only; these are container images (ECR scan on push, immutable tags)
  #checkov:skip=CKV_AWS_116:No function DLQ needed: SQS consumers fail into their source queue's redrive DLQ, API functions are invoked synchronously, and the scheduled outbox relay is retried by the next run (unpublished rows stay in the outbox)
  for_each = var.functions

  function_name = "${var.name_prefix}-${each.key}"
  description   = each.value.description
  role          = aws_iam_role.function[each.key].arn
  package_type  = "Image"
  image_uri     = var.image_uris[each.key]
  architectures = [var.architecture]
  # Every change publishes a version; callers invoke the alias (below), never $LATEST.
  publish = true

  memory_size                    = var.settings[each.key].memory_size
  timeout                        = var.settings[each.key].timeout
  reserved_concurrent_executions = var.settings[each.key].reserved_concurrent_executions
  kms_key_arn                    = var.kms_key_arn

  vpc_config {
    subnet_ids         = var.subnet_ids
    security_group_ids = var.security_group_ids
  }

  environment {
    variables = merge(local.shared_env, { DB_SECRET_ARN = var.database.secret_arns[each.key] }, local.otlp_env, local.telemetry_env, { OTEL_SERVICE_NAME = each.key }, each.value.env)
  }

  tracing_config {
    mode = var.enable_xray_tracing ? "Active" : "PassThrough"
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.function[each.key].name
  }

  # create_after: the Transaction Search destination, without which the OTLP endpoint refuses the first spans
  # (migrate-db's during the first apply included).
  depends_on = [
    aws_iam_role_policy.function,
    aws_iam_role_policy_attachment.vpc_access,
    var.create_after,
  ]
}

# --- SQS event sources ------------------------------------------------------------------------------

resource "aws_lambda_event_source_mapping" "sqs" {
  for_each = var.event_sources

  event_source_arn                   = var.queue_arns[each.value]
  function_name                      = local.alias_arns[each.key]
  batch_size                         = var.sqs_batch_size
  maximum_batching_window_in_seconds = var.sqs_maximum_batching_window_seconds
  function_response_types            = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.sqs_maximum_concurrency
  }

  lifecycle {
    precondition {
      condition     = var.settings[each.key].reserved_concurrent_executions < 0 || var.settings[each.key].reserved_concurrent_executions >= var.sqs_maximum_concurrency
      error_message = "${each.key}: reserved concurrency is below sqs_maximum_concurrency; the event source would be throttled."
    }
  }

  # start_after: the migrate-db run, so no message is consumed before the schema and the function roles exist
  # (on a first apply the consumer would otherwise fail every batch into the DLQ).
  depends_on = [aws_iam_role_policy.function, var.start_after]
}

# --- Schedules (outbox relay) -------------------------------------------------------------------------

resource "aws_cloudwatch_event_rule" "schedule" {
  for_each = local.scheduled

  name                = "${var.name_prefix}-${each.key}"
  description         = "Invokes ${var.name_prefix}-${each.key} on ${each.value}"
  schedule_expression = each.value
}

resource "aws_cloudwatch_event_target" "schedule" {
  for_each = local.scheduled

  rule = aws_cloudwatch_event_rule.schedule[each.key].name
  arn  = local.alias_arns[each.key]

  retry_policy {
    maximum_event_age_in_seconds = 60
    maximum_retry_attempts       = 0
  }

  # The first tick only after the migrate-db run (start_after), like the event source mappings.
  depends_on = [var.start_after]
}

resource "aws_lambda_permission" "schedule" {
  for_each = local.scheduled

  statement_id  = "AllowEventBridgeSchedule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this[each.key].function_name
  qualifier     = local.aliases[each.key].name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.schedule[each.key].arn
}

# A missed tick is covered by the next one: do not queue retries that would overlap it.
resource "aws_lambda_function_event_invoke_config" "schedule" {
  for_each = local.scheduled

  function_name                = aws_lambda_function.this[each.key].function_name
  qualifier                    = local.aliases[each.key].name
  maximum_event_age_in_seconds = 60
  maximum_retry_attempts       = 0
}

# --- The live alias: what every trigger invokes -------------------------------------------------------

# Functions released gradually: Terraform creates the alias on the first published version, then leaves its
# version and weights to CodeDeploy (modules/delivery), which shifts it from the current version to the one
# this apply published. Terraform moving it too would undo a canary or a rollback.
resource "aws_lambda_alias" "live" {
  for_each = toset(var.gradual_rollout_functions)

  name             = var.alias_name
  description      = "What the triggers invoke; CodeDeploy moves it"
  function_name    = aws_lambda_function.this[each.key].function_name
  function_version = aws_lambda_function.this[each.key].version

  lifecycle {
    ignore_changes = [function_version, routing_config]
  }
}

# Functions with nothing to shift (migrate-db: terraform apply invokes it once per image): the alias follows
# each published version.
resource "aws_lambda_alias" "live_unshifted" {
  for_each = setsubtract(keys(var.functions), var.gradual_rollout_functions)

  name             = var.alias_name
  description      = "Follows the latest published version (no traffic to shift)"
  function_name    = aws_lambda_function.this[each.key].function_name
  function_version = aws_lambda_function.this[each.key].version
}

locals {
  aliases    = merge(aws_lambda_alias.live, aws_lambda_alias.live_unshifted)
  alias_arns = { for name, alias in local.aliases : name => alias.arn }
}
