output "function_names" {
  description = "Deployed function names by logical function name."
  value       = { for name, function in aws_lambda_function.this : name => function.function_name }
}

output "function_arns" {
  description = "Function ARNs by logical function name."
  value       = { for name, function in aws_lambda_function.this : name => function.arn }
}

output "invoke_arns" {
  description = "Invoke ARNs (for API Gateway integrations) by logical function name."
  value       = { for name, function in aws_lambda_function.this : name => function.invoke_arn }
}

output "role_arns" {
  description = "Execution role ARNs by logical function name."
  value       = { for name, role in aws_iam_role.function : name => role.arn }
}

output "log_group_names" {
  description = "Log group names by logical function name."
  value       = { for name, group in aws_cloudwatch_log_group.function : name => group.name }
}

output "alias_name" {
  description = "Name of the alias the triggers invoke (known once every alias exists)."
  value       = var.alias_name
  depends_on  = [aws_lambda_alias.live, aws_lambda_alias.live_unshifted]
}

output "alias_arns" {
  description = "ARN of each function's live alias, by logical function name."
  value       = local.alias_arns
}

output "alias_invoke_arns" {
  description = "Invoke ARN of each function's live alias (for API Gateway integrations), by logical function name."
  value       = { for name, alias in local.aliases : name => alias.invoke_arn }
}

output "published_versions" {
  description = "Latest published version of each function: what a release shifts the live alias to."
  value       = { for name, function in aws_lambda_function.this : name => function.version }
}
