output "api_url" {
  description = "Base URL of the API stage (append /orders)."
  value       = module.api.invoke_url
}

output "user_pool_id" {
  description = "Cognito user pool id."
  value       = module.auth.user_pool_id
}

output "user_pool_client_id" {
  description = "Cognito app client id (public client, no secret)."
  value       = module.auth.app_client_id
}

output "orders_queue_url" {
  description = "URL of queue 1 (orders)."
  value       = module.queues.queue_urls["orders"]
}

output "stock_queue_url" {
  description = "URL of queue 2 (stock)."
  value       = module.queues.queue_urls["stock"]
}

output "dlq_urls" {
  description = "DLQ URLs by source queue."
  value       = module.queues.dlq_urls
}

output "ecr_repository_urls" {
  description = "ECR repository URL by function name."
  value       = module.registry.repository_urls
}

output "db_secret_arn" {
  description = "ARN of the RDS-managed secret with the database credentials (DB_SECRET_ARN)."
  value       = module.database.master_user_secret_arn
}

output "db_host" {
  description = "Database host the functions use (instance or proxy)."
  value       = module.database.host
}

output "function_names" {
  description = "Deployed Lambda function names by function."
  value       = module.functions.function_names
}

output "migrate_db_result" {
  description = "Response of the migrate-db run the last image change triggered ({applied, pending_before, seeded}); null when enable_migrations_on_apply is false."
  value       = one(aws_lambda_invocation.migrate_db[*].result)
}

output "dashboard_name" {
  description = "CloudWatch dashboard."
  value       = module.observability.dashboard_name
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms notify."
  value       = module.observability.alarm_topic_arn
}

output "region" {
  description = "Region the stack is deployed in."
  value       = var.region
}
