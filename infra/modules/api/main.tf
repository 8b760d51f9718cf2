data "aws_partition" "current" {}

resource "aws_api_gateway_rest_api" "this" {
  name              = var.name
  description       = "Orders API (rendered from docs/openapi.yaml)"
  body              = var.body
  put_rest_api_mode = "overwrite"

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  lifecycle {
    create_before_destroy = true
  }
}

# A new deployment whenever the rendered document changes; the stage then points at it.
resource "aws_api_gateway_deployment" "current" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  description = "OpenAPI body sha1 ${sha1(var.body)}"

  triggers = {
    redeployment = sha1(var.body)
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "access" {
  name              = "/aws/apigateway/${var.name}/access"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

# Execution logs (logging_level): API Gateway writes them to this group by name and creates it itself, without
# retention or encryption, unless it exists. Created first, so it is ours.
resource "aws_cloudwatch_log_group" "execution" {
  name              = "API-Gateway-Execution-Logs_${aws_api_gateway_rest_api.this.id}/${var.stage_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_api_gateway_stage" "current" {
  #checkov:skip=CKV_AWS_120:No response cache: responses are per customer (Cognito identity) and orders change on every write; a cache would risk serving stale or another caller's data
  #checkov:skip=CKV2_AWS_51:Client certificates authenticate API Gateway to HTTP backends; the only integrations are Lambda proxy invocations authorised by resource policy
  rest_api_id          = aws_api_gateway_rest_api.this.id
  deployment_id        = aws_api_gateway_deployment.current.id
  stage_name           = var.stage_name
  xray_tracing_enabled = var.enable_xray_tracing

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      extendedRequestId  = "$context.extendedRequestId"
      requestTime        = "$context.requestTime"
      ip                 = "$context.identity.sourceIp"
      userAgent          = "$context.identity.userAgent"
      httpMethod         = "$context.httpMethod"
      resourcePath       = "$context.resourcePath"
      path               = "$context.path"
      status             = "$context.status"
      protocol           = "$context.protocol"
      responseLength     = "$context.responseLength"
      responseLatency    = "$context.responseLatency"
      integrationStatus  = "$context.integration.status"
      integrationLatency = "$context.integration.latency"
      integrationError   = "$context.integration.error"
      authorizerError    = "$context.authorizer.error"
      customerSub        = "$context.authorizer.claims.sub"
      errorMessage       = "$context.error.message"
      xrayTraceId        = "$context.xrayTraceId"
      wafStatus          = "$context.waf.status"
    })
  }

  depends_on = [aws_api_gateway_account.cloudwatch, aws_cloudwatch_log_group.execution]
}

resource "aws_api_gateway_method_settings" "all" {
  #checkov:skip=CKV_AWS_225:Caching is off on purpose (per-customer responses), see the stage
  rest_api_id = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.current.stage_name
  method_path = "*/*"

  settings {
    metrics_enabled        = true
    logging_level          = var.logging_level
    data_trace_enabled     = false # full request/response logging would put order data in the logs
    throttling_burst_limit = var.throttling_burst_limit
    throttling_rate_limit  = var.throttling_rate_limit
    caching_enabled        = false
    cache_data_encrypted   = true
  }

  depends_on = [aws_cloudwatch_log_group.execution]
}

# --- Lambda permissions: one per operation, limited to its method and path on this stage ------------

resource "aws_lambda_permission" "operation" {
  for_each = var.operations

  statement_id  = format("api-%s-%s", lower(each.value.method), trim(replace(each.value.path, "/[^A-Za-z0-9]+/", "-"), "-"))
  action        = "lambda:InvokeFunction"
  function_name = var.function_names[each.value.operation_id]
  qualifier     = var.function_qualifier
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.this.execution_arn}/${var.stage_name}/${each.value.method}${replace(each.value.path, "/\\{[^}]+\\}/", "*")}"
}

# --- Account-level role that lets API Gateway write execution and access logs -----------------------

data "aws_iam_policy_document" "cloudwatch_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "cloudwatch" {
  count = var.create_account_cloudwatch_role ? 1 : 0

  name               = "${var.name}-apigateway-cloudwatch"
  assume_role_policy = data.aws_iam_policy_document.cloudwatch_assume.json
}

resource "aws_iam_role_policy_attachment" "cloudwatch" {
  count = var.create_account_cloudwatch_role ? 1 : 0

  role       = aws_iam_role.cloudwatch[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

resource "aws_api_gateway_account" "cloudwatch" {
  count = var.create_account_cloudwatch_role ? 1 : 0

  cloudwatch_role_arn = aws_iam_role.cloudwatch[0].arn

  depends_on = [aws_iam_role_policy_attachment.cloudwatch]
}

# --- WAF ----------------------------------------------------------------------------------------------

resource "aws_wafv2_web_acl" "api" {
  count = var.enable_waf ? 1 : 0

  name        = var.name
  description = "Rate limit and AWS managed rules in front of ${var.name}"
  scope       = "REGIONAL"

  default_action {
    allow {}
  }

  rule {
    name     = "rate-limit-per-ip"
    priority = 0

    action {
      block {}
    }

    statement {
      rate_based_statement {
        limit              = var.waf_rate_limit_per_5_minutes
        aggregate_key_type = "IP"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-rate-limit"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "aws-ip-reputation"
    priority = 1

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        name        = "AWSManagedRulesAmazonIpReputationList"
        vendor_name = "AWS"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-ip-reputation"
      sampled_requests_enabled   = true
    }
  }

  # Anonymizers (VPNs, Tor, proxies) are blocked, as is usual for a shop's order API; hosting-provider
  # addresses are only counted, because legitimate server-side clients run in clouds.
  rule {
    name     = "aws-anonymous-ip"
    priority = 2

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        name        = "AWSManagedRulesAnonymousIpList"
        vendor_name = "AWS"

        rule_action_override {
          name = "HostingProviderIPList"

          action_to_use {
            count {}
          }
        }
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-anonymous-ip"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "aws-common"
    priority = 3

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        name        = "AWSManagedRulesCommonRuleSet"
        vendor_name = "AWS"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-common"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "aws-known-bad-inputs"
    priority = 4

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        name        = "AWSManagedRulesKnownBadInputsRuleSet"
        vendor_name = "AWS"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-known-bad-inputs"
      sampled_requests_enabled   = true
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = var.name
    sampled_requests_enabled   = true
  }
}

resource "aws_wafv2_web_acl_association" "api" {
  count = var.enable_waf ? 1 : 0

  resource_arn = aws_api_gateway_stage.current.arn
  web_acl_arn  = aws_wafv2_web_acl.api[0].arn
}

# WAF requires the aws-waf-logs- prefix.
resource "aws_cloudwatch_log_group" "waf" {
  count = var.enable_waf ? 1 : 0

  name              = "aws-waf-logs-${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_wafv2_web_acl_logging_configuration" "api" {
  count = var.enable_waf ? 1 : 0

  resource_arn            = aws_wafv2_web_acl.api[0].arn
  log_destination_configs = [aws_cloudwatch_log_group.waf[0].arn]

  redacted_fields {
    single_header {
      name = "authorization"
    }
  }
}
