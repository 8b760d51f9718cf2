# What terraform apply of this stack changes, and nothing else: each service's write actions on the names
# this stack gives its resources (<name>-*, <name>/*), reads through ReadOnlyAccess (the refresh), and the
# few calls AWS authorises on no resource (creating a VPC, a user pool, a key...), those only in this region.
# Not proven against AWS (nothing here reaches it): docs/deploy.md#the-pipeline-path says how to check it.

locals {
  regional = "${local.arn}:%s:${local.region}:${local.account}:%s"
  # Managed policies the stack attaches to its own roles (functions, RDS monitoring, API Gateway logs).
  attachable_policies = [
    "${local.arn}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
    "${local.arn}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
    "${local.arn}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
  ]
}

data "aws_iam_policy_document" "apply" {
  source_policy_documents = [data.aws_iam_policy_document.state.json]

  statement {
    sid = "StackResourcesByName"
    actions = [
      "lambda:*", "sqs:*", "sns:*", "events:*", "codedeploy:*", "secretsmanager:*", "ecr:*",
      "cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:TagResource", "cloudwatch:UntagResource",
      "cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards", "logs:*", "rds:*", "cognito-idp:*",
    ]
    resources = [
      format(local.regional, "lambda", "function:${var.name}-*"),
      format(local.regional, "lambda", "event-source-mapping:*"),
      format(local.regional, "sqs", "${var.name}-*"),
      format(local.regional, "sns", "${var.name}-*"),
      format(local.regional, "events", "rule/${var.name}-*"),
      format(local.regional, "codedeploy", "application:${var.name}"),
      format(local.regional, "codedeploy", "deploymentgroup:${var.name}/*"),
      format(local.regional, "codedeploy", "deploymentconfig:*"),
      format(local.regional, "secretsmanager", "secret:${var.name}/*"),
      format(local.regional, "secretsmanager", "secret:rds!*"),
      format(local.regional, "ecr", "repository/${var.name}/*"),
      format(local.regional, "cloudwatch", "alarm:${var.name}-*"),
      "${local.arn}:cloudwatch::${local.account}:dashboard/${var.name}",
      format(local.regional, "logs", "log-group:*${var.name}*"),
      format(local.regional, "rds", "db:${var.name}"),
      format(local.regional, "rds", "pg:${var.name}-*"),
      format(local.regional, "rds", "subgrp:${var.name}"),
      format(local.regional, "rds", "snapshot:${var.name}-final"),
      # CreateDBInstance/ModifyDBInstance also authorise on the (default) option group.
      format(local.regional, "rds", "og:*"),
      format(local.regional, "rds", "db-proxy:*"),
      format(local.regional, "rds", "target-group:*"),
      format(local.regional, "cognito-idp", "userpool/*"),
    ]
  }

  # Event source mappings are created on no ARN; the function they feed must be ours.
  statement {
    sid       = "MappingsToTheStacksFunctions"
    actions   = ["lambda:CreateEventSourceMapping"]
    resources = ["*"]

    condition {
      test     = "ArnLike"
      variable = "lambda:FunctionArn"
      values   = [format(local.regional, "lambda", "function:${var.name}-*")]
    }
  }

  statement {
    sid     = "RestApiAndWaf"
    actions = ["apigateway:*", "wafv2:*"]
    resources = [
      "${local.arn}:apigateway:${local.region}::/restapis",
      "${local.arn}:apigateway:${local.region}::/restapis/*",
      "${local.arn}:apigateway:${local.region}::/account",
      "${local.arn}:apigateway:${local.region}::/tags/*",
      format(local.regional, "wafv2", "regional/webacl/${var.name}/*"),
      format(local.regional, "wafv2", "regional/managedruleset/*/*"),
    ]
  }

  statement {
    sid       = "TheStackKey"
    actions   = ["kms:*"]
    resources = [var.kms_key_arn, format(local.regional, "kms", "alias/${var.name}*")]
  }

  statement {
    sid = "TheStacksRoles"
    actions = [
      "iam:CreateRole", "iam:DeleteRole", "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy",
      "iam:TagRole", "iam:UntagRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:PassRole",
    ]
    resources = ["${local.arn}:iam::${local.account}:role/${var.name}-*"]
  }

  statement {
    sid       = "AttachOnlyTheStacksManagedPolicies"
    actions   = ["iam:AttachRolePolicy"]
    resources = ["${local.arn}:iam::${local.account}:role/${var.name}-*"]

    condition {
      test     = "ArnEquals"
      variable = "iam:PolicyARN"
      values   = local.attachable_policies
    }
  }

  statement {
    sid = "UnscopedCreates"
    actions = [
      "ec2:CreateVpc", "ec2:DeleteVpc", "ec2:ModifyVpcAttribute", "ec2:CreateSubnet", "ec2:DeleteSubnet",
      "ec2:ModifySubnetAttribute", "ec2:CreateRouteTable", "ec2:DeleteRouteTable", "ec2:AssociateRouteTable",
      "ec2:DisassociateRouteTable", "ec2:CreateSecurityGroup", "ec2:DeleteSecurityGroup",
      "ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress",
      "ec2:RevokeSecurityGroupEgress", "ec2:ModifySecurityGroupRules", "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
      "ec2:UpdateSecurityGroupRuleDescriptionsEgress", "ec2:CreateVpcEndpoint", "ec2:DeleteVpcEndpoints",
      "ec2:ModifyVpcEndpoint", "ec2:CreateFlowLogs", "ec2:DeleteFlowLogs", "ec2:CreateTags", "ec2:DeleteTags",
      "cognito-idp:CreateUserPool",
      "kms:CreateKey", "logs:PutResourcePolicy", "logs:DeleteResourcePolicy", "logs:CreateLogDelivery",
      "logs:DeleteLogDelivery", "logs:UpdateLogDelivery",
      "xray:UpdateTraceSegmentDestination", "xray:UpdateIndexingRule",
    ]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values   = [local.region]
    }
  }
}

resource "aws_iam_role_policy_attachment" "apply_read_only" {
  count = var.create_github_roles ? 1 : 0

  role       = aws_iam_role.github["apply"].name
  policy_arn = "${local.arn}:iam::aws:policy/ReadOnlyAccess"
}
