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
