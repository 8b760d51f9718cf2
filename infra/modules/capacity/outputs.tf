output "api_required_concurrency" {
  description = "API function => concurrency its routes need under the stage throttle."
  value       = local.api_required_concurrency
}

output "api_capacity_shortfalls" {
  description = "One line per API function whose reservation is below what its routes need (empty: fits)."
  value       = local.api_capacity_shortfalls
}

output "concurrency_bound" {
  description = "Function => the most execution environments it can run at once (reservation, or its invoker's bound)."
  value       = local.concurrency_bound
}

output "connection_generations" {
  description = "Generations of environments that can hold connections at once (a deploy's overlap)."
  value       = local.connection_generations
}

output "worst_case_db_connections" {
  description = "generations x sum(concurrency_bound) x db_max_connections + db_connection_margin."
  value       = local.worst_case_db_connections
}

output "db_budget_ok" {
  description = "worst_case_db_connections fits db_instance_max_connections (or RDS Proxy is on)."
  value       = local.db_budget_ok
}
