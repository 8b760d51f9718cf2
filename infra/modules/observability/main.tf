data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.region

  api_dimensions = ["ApiName", var.api_name, "Stage", var.api_stage_name]

  # The functions' EMF metrics (PLAN/README): namespace, and the dimensions every metric carries.
  # [namespace, metric, Service, <service>, Function, <function>] for the dashboard, by "function/metric".
  emf = {
    for pair in [
      "create-order/OrdersAccepted", "update-stock/OrdersFulfilled", "update-stock/FulfilmentLatency", "update-stock/LowStockEvents",
      "outbox-relay/RelayFailures", "outbox-relay/OutboxOldestAgeSeconds", "outbox-relay/StalledOrders", "outbox-relay/OutboxStuckRows",
    ] : pair => [var.metric_namespace, split("/", pair)[1], "Service", var.service_name, "Function", split("/", pair)[0]]
  }
  emf_search   = "{${var.metric_namespace},Service,Function"
  relay        = var.function_names["outbox-relay"]
  relay_metric = { Service = var.service_name, Function = "outbox-relay" }

  # Runbook section of each function's Errors alarm (docs/operations.md).
  error_runbooks = {
    "outbox-relay"  = "relay-errors"
    "create-order"  = "api-5xx"
    "get-orders"    = "api-5xx"
    "cancel-order"  = "api-5xx"
    "process-order" = "queue-age"
    "update-stock"  = "queue-age"
  }

  widget = {
    type   = "metric"
    width  = 12
    height = 6
  }

  widgets = [
    {
      title   = "Orders accepted / fulfilled"
      metrics = [local.emf["create-order/OrdersAccepted"], local.emf["update-stock/OrdersFulfilled"]]
      stat    = "Sum"
    },
    {
      title   = "Orders rejected, by reason"
      metrics = [[{ expression = "SEARCH('${local.emf_search},Reason} MetricName=\"OrdersRejected\"', 'Sum', 60)", id = "rejected" }]]
      stat    = "Sum"
    },
    {
      title   = "Orders cancelled, by reason (customer, expired)"
      metrics = [[{ expression = "SEARCH('${local.emf_search},Reason} MetricName=\"OrdersCancelled\"', 'Sum', 60)", id = "cancelled" }]]
      stat    = "Sum"
    },
    {
      title   = "Fulfilment latency, accept to fulfilled (ms)"
      metrics = [concat(local.emf["update-stock/FulfilmentLatency"], [{ stat = "p50" }]), concat(local.emf["update-stock/FulfilmentLatency"], [{ stat = "p99" }])]
      stat    = "p99"
    },
    {
      title   = "Messages published, by path"
      metrics = [[{ expression = "SEARCH('${local.emf_search},Path} MetricName=\"MessagesPublished\"', 'Sum', 60)", id = "published" }]]
      stat    = "Sum"
    },
    {
      title       = "Relay failures (messages not published)"
      metrics     = [local.emf["outbox-relay/RelayFailures"]]
      stat        = "Sum"
      annotations = { horizontal = [{ label = "alarm", value = 0 }] }
    },
    {
      title       = "Oldest unpublished outbox row (s)"
      metrics     = [local.emf["outbox-relay/OutboxOldestAgeSeconds"]]
      stat        = "Maximum"
      annotations = { horizontal = [{ label = "alarm", value = var.outbox_age_alarm_minutes * 60 }] }
    },
    {
      title       = "Stalled orders (pending/confirmed too long)"
      metrics     = [local.emf["outbox-relay/StalledOrders"]]
      stat        = "Maximum"
      annotations = { horizontal = [{ label = "alarm", value = 0 }] }
    },
    {
      title       = "Outbox rows failing repeatedly (backing off)"
      metrics     = [local.emf["outbox-relay/OutboxStuckRows"]]
      stat        = "Maximum"
      annotations = { horizontal = [{ label = "alarm", value = 0 }] }
    },
    {
      title   = "Low-stock events"
      metrics = [local.emf["update-stock/LowStockEvents"]]
      stat    = "Sum"
    },
    {
      title       = "Database connections"
      metrics     = [["AWS/RDS", "DatabaseConnections", "DBInstanceIdentifier", var.db_instance_identifier]]
      stat        = "Maximum"
      annotations = { horizontal = [{ label = "alarm", value = local.db_connections_threshold }, { label = "max_connections", value = var.db_max_connections }] }
    },
    {
      title   = "API 4XX / 5XX"
      metrics = [concat(["AWS/ApiGateway", "4XXError"], local.api_dimensions), concat(["AWS/ApiGateway", "5XXError"], local.api_dimensions)]
      stat    = "Sum"
    },
    {
      title   = "API requests and p99 latency"
      metrics = [concat(["AWS/ApiGateway", "Count"], local.api_dimensions, [{ stat = "Sum" }]), concat(["AWS/ApiGateway", "Latency"], local.api_dimensions, [{ stat = "p99", yAxis = "right" }])]
      stat    = "Sum"
    },
    {
      title   = "Queue depth (visible messages)"
      metrics = [for name, queue in var.queue_names : ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue, { label = name }]]
      stat    = "Maximum"
    },
    {
      title   = "Age of oldest message (s)"
      metrics = [for name, queue in var.queue_names : ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", queue, { label = name }]]
      stat    = "Maximum"
    },
    {
      title   = "DLQ depth"
      metrics = [for name, queue in var.dlq_names : ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue, { label = "${name} DLQ" }]]
      stat    = "Maximum"
    },
    {
      title   = "Function errors"
      metrics = [for name, function in var.function_names : ["AWS/Lambda", "Errors", "FunctionName", function, { label = name }]]
      stat    = "Sum"
    },
    {
      title   = "Function duration p99 (ms)"
      metrics = [for name, function in var.function_names : ["AWS/Lambda", "Duration", "FunctionName", function, { label = name }]]
      stat    = "p99"
    },
    {
      title   = "Function throttles"
      metrics = [for name, function in var.function_names : ["AWS/Lambda", "Throttles", "FunctionName", function, { label = name }]]
      stat    = "Sum"
    },
  ]

  db_connections_threshold = floor(var.db_max_connections * var.db_connections_alarm_share)
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name

  dashboard_body = jsonencode({
    widgets = [
      for index, widget in local.widgets : merge(local.widget, {
        x = (index % 2) * local.widget.width
        y = floor(index / 2) * local.widget.height
        properties = merge({
          title   = widget.title
          metrics = widget.metrics
          stat    = widget.stat
          region  = local.region
          period  = 60
          view    = "timeSeries"
          stacked = false
        }, can(widget.annotations) ? { annotations = widget.annotations } : {})
      })
    ]
  })
}

# --- CloudWatch Transaction Search (account and region wide) -------------------------------------------

# X-Ray writes every span to the aws/spans log group (and Application Signals data) in this account only.
data "aws_iam_policy_document" "transaction_search" {
  statement {
    sid       = "TransactionSearchXRayAccess"
    actions   = ["logs:PutLogEvents"]
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account}:log-group:aws/spans:*", "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/aws/application-signals/data:*"]

    principals {
      type        = "Service"
      identifiers = ["xray.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:xray:${local.region}:${local.account}:*"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_cloudwatch_log_resource_policy" "transaction_search" {
  count = var.enable_transaction_search ? 1 : 0

  policy_name     = "${var.name}-transaction-search"
  policy_document = data.aws_iam_policy_document.transaction_search.json
}

# The OTLP traces endpoint takes spans only with this destination. Removing the resource leaves it as is.
resource "aws_xray_trace_segment_destination" "transaction_search" {
  count = var.enable_transaction_search ? 1 : 0

  destination = "CloudWatchLogs"

  depends_on = [aws_cloudwatch_log_resource_policy.transaction_search]
}

resource "aws_xray_indexing_rule" "default" {
  count = var.enable_transaction_search ? 1 : 0

  name = "Default"

  rule {
    probabilistic {
      desired_sampling_percentage = var.transaction_search_indexing_percentage
    }
  }

  depends_on = [aws_xray_trace_segment_destination.transaction_search]
}

# --- Alarm notifications ------------------------------------------------------------------------------

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = var.kms_key_arn
}

resource "aws_sns_topic_subscription" "email" {
  count = var.alarm_email == "" ? 0 : 1

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

# Missing data is notBreaching for every alarm of the stack (tests/contract/check_contract.py asserts it, alarm
# by alarm). Counters (errors, throttles, failures, 5XX) are only emitted when something happens, so no data is
# good news. The relay's gauges are missing until its first run: on a first apply the schedule starts only
# after migrate-db, and an alarm evaluates the minutes before its creation too, so "breaching" would page
# on-call after every clean first deploy. A relay that fails before it measures pages through its Errors
# alarm (relay-errors), one Lambda throttles through its Throttles alarm; a schedule disabled by hand is not
# alarmed (the dashboard's outbox widgets go blank).

resource "aws_cloudwatch_metric_alarm" "function_errors" {
  for_each = var.function_names

  alarm_name          = "${each.value}-errors"
  alarm_description   = "${each.key} returned errors (failed invocations, not per-message batch failures). Runbook: ${var.runbook_url}#${lookup(local.error_runbooks, each.key, "function-errors")}"
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "function_throttles" {
  for_each = var.function_names

  alarm_name          = "${each.value}-throttles"
  alarm_description   = "${each.key} was throttled: its reserved concurrency (without reservations, the account's) was full. Runbook: ${var.runbook_url}#throttles"
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "outbox_backlog" {
  alarm_name          = "${local.relay}-outbox-backlog"
  alarm_description   = "The oldest unpublished outbox row is older than ${var.outbox_age_alarm_minutes} min: orders are not reaching their queue. Runbook: ${var.runbook_url}#outbox-backlog"
  namespace           = var.metric_namespace
  metric_name         = "OutboxOldestAgeSeconds"
  dimensions          = local.relay_metric
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  threshold           = var.outbox_age_alarm_minutes * 60
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "relay_failures" {
  alarm_name          = "${local.relay}-failures"
  alarm_description   = "The relay could not publish outbox messages (SendMessage refused: IAM, KMS, queue). Runbook: ${var.runbook_url}#relay-failures"
  namespace           = var.metric_namespace
  metric_name         = "RelayFailures"
  dimensions          = local.relay_metric
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "stalled_orders" {
  alarm_name          = "${local.relay}-stalled-orders"
  alarm_description   = "Orders have been pending or confirmed for longer than ORDER_STALL_MINUTES. Runbook: ${var.runbook_url}#stalled-orders"
  namespace           = var.metric_namespace
  metric_name         = "StalledOrders"
  dimensions          = local.relay_metric
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# A row the relay keeps backing off (5+ failed sends) does not block the rows behind it, so the backlog alarm may
# stay quiet: this one names it.
resource "aws_cloudwatch_metric_alarm" "outbox_stuck_rows" {
  alarm_name          = "${local.relay}-outbox-stuck-rows"
  alarm_description   = "Outbox rows failed to publish 5 or more times and are backing off. Runbook: ${var.runbook_url}#outbox-stuck-rows"
  namespace           = var.metric_namespace
  metric_name         = "OutboxStuckRows"
  dimensions          = local.relay_metric
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# RDS reports every minute while the instance runs; a gap is an outage the API and function alarms report.
resource "aws_cloudwatch_metric_alarm" "db_connections" {
  alarm_name          = "${var.db_instance_identifier}-connections"
  alarm_description   = "Database connections above ${floor(var.db_connections_alarm_share * 100)}% of max_connections (${var.db_max_connections}). Runbook: ${var.runbook_url}#db-connections"
  namespace           = "AWS/RDS"
  metric_name         = "DatabaseConnections"
  dimensions          = { DBInstanceIdentifier = var.db_instance_identifier }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = local.db_connections_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "api_5xx" {
  alarm_name          = "${var.api_name}-5xx"
  alarm_description   = "The API answered 5XX. Runbook: ${var.runbook_url}#api-5xx"
  namespace           = "AWS/ApiGateway"
  metric_name         = "5XXError"
  dimensions          = { ApiName = var.api_name, Stage = var.api_stage_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.api_5xx_alarm_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}
