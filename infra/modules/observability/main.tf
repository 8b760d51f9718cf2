data "aws_region" "current" {}

locals {
  region = data.aws_region.current.region

  api_dimensions = ["ApiName", var.api_name, "Stage", var.api_stage_name]

  widget = {
    type   = "metric"
    width  = 12
    height = 6
  }

  widgets = [
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
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name

  dashboard_body = jsonencode({
    widgets = [
      for index, widget in local.widgets : merge(local.widget, {
        x = (index % 2) * local.widget.width
        y = floor(index / 2) * local.widget.height
        properties = {
          title   = widget.title
          metrics = widget.metrics
          stat    = widget.stat
          region  = local.region
          period  = 60
          view    = "timeSeries"
          stacked = false
        }
      })
    ]
  })
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

resource "aws_cloudwatch_metric_alarm" "function_errors" {
  for_each = var.function_names

  alarm_name          = "${each.value}-errors"
  alarm_description   = "${each.key} returned errors (failed invocations, not per-message batch failures)."
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

resource "aws_cloudwatch_metric_alarm" "api_5xx" {
  alarm_name          = "${var.api_name}-5xx"
  alarm_description   = "The API answered 5XX."
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
