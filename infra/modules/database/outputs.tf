output "host" {
  description = "Host the functions connect to (DB_HOST): the proxy endpoint when the proxy is on, else the instance."
  value       = var.create_proxy ? aws_db_proxy.proxy[0].endpoint : aws_db_instance.this.address
}

output "port" {
  description = "PostgreSQL port (DB_PORT)."
  value       = aws_db_instance.this.port
}

output "db_name" {
  description = "Application database name (DB_NAME)."
  value       = aws_db_instance.this.db_name
}

output "master_user_secret_arn" {
  description = "ARN of the RDS-managed master secret {username, password}: migrate-db's DB_SECRET_ARN only."
  value       = local.secret_arn
}

output "function_role_secret_arns" {
  description = "Function name => ARN of its role's secret {username, password} (that function's DB_SECRET_ARN)."
  value       = local.function_role_secret_arns
}

output "function_role_secret_versions" {
  description = "Function name => version id of its role's secret: a change must re-run migrate-db."
  value       = { for function, version in aws_secretsmanager_secret_version.function_role : function => version.version_id }
}

output "instance_identifier" {
  description = "Identifier of the DB instance."
  value       = aws_db_instance.this.identifier
}

output "instance_address" {
  description = "Address of the instance itself (migrations, bastion access)."
  value       = aws_db_instance.this.address
}

output "proxy_endpoint" {
  description = "RDS Proxy endpoint, or null when the proxy is off."
  value       = var.create_proxy ? aws_db_proxy.proxy[0].endpoint : null
}

output "max_connections" {
  description = "max_connections set on the instance (for the connection budget and its alarm)."
  value       = var.max_connections
}

output "final_snapshot_identifier" {
  description = "Identifier of the snapshot RDS takes when the instance is destroyed."
  value       = aws_db_instance.this.final_snapshot_identifier
}
