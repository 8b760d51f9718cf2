variable "settings" {
  type = map(object({
    reserved_concurrent_executions = number
    timeout                        = number
  }))
  description = "Function name => its reserved concurrency (-1: none) and timeout in seconds."
}

variable "api_routes" {
  type        = map(number)
  description = "API function name => how many API methods (routes) it serves."
  default     = {}
}

variable "queue_consumers" {
  type        = list(string)
  description = "Functions an SQS event source mapping invokes, at most sqs_maximum_concurrency at a time."
  default     = []
}

variable "scheduled" {
  type        = list(string)
  description = "Functions a one-minute schedule invokes, without retries."
  default     = []
}

variable "applied_once" {
  type        = list(string)
  description = "Functions invoked once per terraform apply (migrate-db)."
  default     = []
}

variable "sqs_maximum_concurrency" {
  type        = number
  description = "scaling_config.maximum_concurrency of every SQS event source."
}

variable "api_throttling_rate_limit" {
  type        = number
  description = "Steady-state limit of each API method (requests per second)."
}

variable "api_throttling_burst_limit" {
  type        = number
  description = "Burst limit of each API method (requests)."
}

variable "api_expected_duration_ms" {
  type        = number
  description = "Expected duration of an API invocation (warm p99, ms)."
}

variable "db_max_connections" {
  type        = number
  description = "Pool size per execution environment (DB_MAX_CONNECTIONS)."
}

variable "db_connection_margin" {
  type        = number
  description = "Connections kept out of the functions' budget (reserved superuser slots, psql, monitoring)."
}

variable "db_instance_max_connections" {
  type        = number
  description = "max_connections of the database."
}

variable "create_db_proxy" {
  type        = bool
  description = "RDS Proxy multiplexes the connections: the budget is then not checked."
  default     = false
}
