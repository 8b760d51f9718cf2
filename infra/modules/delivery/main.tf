# Gradual rollout: CodeDeploy shifts each function's live alias from the version that serves today to the one
# the apply just published, 10 % for 5 minutes then all, and moves it back by itself when an alarm fires.
# The workflow (.github/workflows/pipeline.yml, .ci/shift-traffic.sh) starts one deployment per function
# after terraform apply, so migrate-db has already run on the new schema when the shift begins.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.region

  deployed = var.create_codedeploy ? var.function_names : {}

  # What stops a function's release: the API's 5XX, its own errors, the DLQs, and (API functions) its p99.
  # CodeDeploy reads them across the whole function (every version): during the canary 10 % of the calls
  # reach the new version, more than the 1 % tail a p99 reads, so a slow canary moves the p99 by itself.
  rollback_alarms = {
    for name in keys(local.deployed) : name => concat(
      [var.api_5xx_alarm_name, var.function_error_alarm_names[name]],
      var.dlq_alarm_names,
      contains(var.api_functions, name) ? [aws_cloudwatch_metric_alarm.latency_p99[name].alarm_name] : [],
    )
  }
}

resource "aws_codedeploy_app" "this" {
  count = var.create_codedeploy ? 1 : 0

  name             = var.name
  compute_platform = "Lambda"
}

# --- The role CodeDeploy acts as: move the live aliases, read the alarms -----------------------------------

data "aws_iam_policy_document" "codedeploy_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["codedeploy.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "codedeploy" {
  count = var.create_codedeploy ? 1 : 0

  name               = "${var.name}-codedeploy"
  description        = "CodeDeploy shifts the live aliases of ${var.name} and rolls them back on alarm"
  assume_role_policy = data.aws_iam_policy_document.codedeploy_assume.json
}

# What the AWS-managed AWSCodeDeployRoleForLambda grants, minus S3 (the AppSpec is sent inline), SNS (no
# triggers) and hooks (none), and limited to this stack's functions and alarms.
data "aws_iam_policy_document" "codedeploy" {
  statement {
    sid       = "ShiftTheLiveAliases"
    actions   = ["lambda:GetAlias", "lambda:UpdateAlias", "lambda:GetProvisionedConcurrencyConfig"]
    resources = [for function in values(var.function_names) : "arn:${local.partition}:lambda:${local.region}:${local.account}:function:${function}:${var.alias_name}"]
  }

  statement {
    sid       = "ReadTheRollbackAlarms"
    actions   = ["cloudwatch:DescribeAlarms"]
    resources = ["arn:${local.partition}:cloudwatch:${local.region}:${local.account}:alarm:*"]
  }
}

resource "aws_iam_role_policy" "codedeploy" {
  count = var.create_codedeploy ? 1 : 0

  name   = "shift-live-aliases"
  role   = aws_iam_role.codedeploy[0].id
  policy = data.aws_iam_policy_document.codedeploy.json
}

# --- One deployment group per function --------------------------------------------------------------------

resource "aws_codedeploy_deployment_group" "function" {
  for_each = local.deployed

  app_name               = aws_codedeploy_app.this[0].name
  deployment_group_name  = each.key
  service_role_arn       = aws_iam_role.codedeploy[0].arn
  deployment_config_name = var.deployment_config_name

  # The only style CodeDeploy offers Lambda: a new version beside the old one, traffic moved by the alias.
  deployment_style {
    deployment_type   = "BLUE_GREEN"
    deployment_option = "WITH_TRAFFIC_CONTROL"
  }

  auto_rollback_configuration {
    enabled = true
    events  = ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]
  }

  alarm_configuration {
    enabled = true
    alarms  = local.rollback_alarms[each.key]
    # An alarm CodeDeploy cannot read stops the release rather than letting it through unwatched.
    ignore_poll_alarm_failure = false
  }

  depends_on = [aws_iam_role_policy.codedeploy]
}

# --- p99 latency of the API functions -------------------------------------------------------------------

# Duration only has data while the function is called: no data is no traffic, not slowness.
resource "aws_cloudwatch_metric_alarm" "latency_p99" {
  for_each = toset(var.api_functions)

  alarm_name          = "${var.function_names[each.key]}-p99"
  alarm_description   = "${each.key}: p99 duration above ${var.latency_p99_alarm_ms} ms for 3 of the last 5 minutes; a release in progress rolls back. Runbook: ${var.runbook_url}#api-latency"
  namespace           = "AWS/Lambda"
  metric_name         = "Duration"
  dimensions          = { FunctionName = var.function_names[each.key] }
  extended_statistic  = "p99"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = var.latency_p99_alarm_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
}
