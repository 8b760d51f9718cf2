output "application_name" {
  description = "CodeDeploy application (null when create_codedeploy is false)."
  value       = one(aws_codedeploy_app.this[*].name)
}

output "deployment_groups" {
  description = "CodeDeploy deployment group of each function, by logical function name."
  value       = { for name, group in aws_codedeploy_deployment_group.function : name => group.deployment_group_name }
}

output "rollback_alarms" {
  description = "The alarms that stop and roll back each function's release, by logical function name."
  value       = local.rollback_alarms
}

output "latency_alarm_names" {
  description = "p99 latency alarm of each API function, by logical function name."
  value       = { for name, alarm in aws_cloudwatch_metric_alarm.latency_p99 : name => alarm.alarm_name }
}

output "github_role_arns" {
  description = "Roles the workflow assumes (publish, plan, apply); empty when create_github_roles is false."
  value       = { for name, role in aws_iam_role.github : name => role.arn }
}
