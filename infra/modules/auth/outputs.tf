output "user_pool_id" {
  description = "Id of the user pool."
  value       = aws_cognito_user_pool.this.id
}

output "user_pool_arn" {
  description = "ARN of the user pool (the API authorizer trusts it)."
  value       = aws_cognito_user_pool.this.arn
}

output "app_client_id" {
  description = "Id of the public app client (no secret)."
  value       = aws_cognito_user_pool_client.app.id
}

output "admin_group_name" {
  description = "Name of the administrators' group."
  value       = aws_cognito_user_group.admin.name
}
