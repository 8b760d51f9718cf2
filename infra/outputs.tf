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

# The sizing arithmetic of docs/deploy.md, and the plan stops when it does not hold (the check blocks in
# main.tf report the same conditions on every plan and health check).
output "capacity" {
  description = "Concurrency each API function needs for the stage throttle vs what is reserved, each function's concurrency bound (reserved, or set by its invoker), and the worst-case database connections vs max_connections."
  value = {
    api_required_concurrency  = local.api_required_concurrency
    reserved_concurrency      = { for name, settings in local.function_settings : name => settings.reserved_concurrent_executions }
    concurrency_bound         = local.concurrency_bound
    worst_case_db_connections = var.create_db_proxy ? null : local.worst_case_db_connections
    db_max_connections        = var.db_instance_max_connections
  }

  precondition {
    condition     = length(local.api_capacity_shortfalls) == 0
    error_message = "The API throttle needs more concurrency than is reserved: ${join("; ", local.api_capacity_shortfalls)} (docs/deploy.md#throttling)."
  }

  precondition {
    condition     = local.db_budget_ok
    error_message = "Up to ${local.worst_case_db_connections} database connections exceed max_connections ${var.db_instance_max_connections} (docs/deploy.md#connection-budget)."
  }
}

output "private_subnet_ids" {
  description = "Private subnets (for a CloudShell VPC environment that reaches the database, see docs/operations.md)."
  value       = module.network.private_subnet_ids
}

output "function_security_group_id" {
  description = "Security group of the functions: it may reach the database and the VPC endpoints."
  value       = module.network.function_security_group_id
}

output "db_final_snapshot_identifier" {
  description = "The snapshot RDS keeps when the stack is destroyed (unique per instance)."
  value       = module.database.final_snapshot_identifier
}

output "db_instance_address" {
  description = "Address of the DB instance itself (operators, migrations by hand)."
  value       = module.database.instance_address
}

# What the workflow's shift step reads (.ci/shift-traffic.sh): per function, the deployment group and the
# version this apply published.
output "delivery" {
  description = "The release: CodeDeploy application, and per function its deployed name, alias, deployment group, the version the apply published and the alarms that roll it back."
  value = {
    application = module.delivery.application_name
    functions = {
      for name, group in module.delivery.deployment_groups : name => {
        function_name    = module.functions.function_names[name]
        alias            = module.functions.alias_name
        deployment_group = group
        target_version   = module.functions.published_versions[name]
        rollback_alarms  = module.delivery.rollback_alarms[name]
      }
    }
  }
}

output "github_role_arns" {
  description = "Roles the workflow assumes (publish, plan, apply): set them as the repository variables AWS_PUBLISH_ROLE_ARN, AWS_PLAN_ROLE_ARN, AWS_APPLY_ROLE_ARN."
  value       = module.delivery.github_role_arns
}
