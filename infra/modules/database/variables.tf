variable "name" {
  type        = string
  description = "Identifier of the DB instance (and of the proxy, subnet group, roles)."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets (two or more AZs) for the instance and the proxy."
}

variable "security_group_id" {
  type        = string
  description = "Security group shared by the instance and the proxy (see the network module)."
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key for storage, Performance Insights, the master-user secret and log groups."
}

variable "engine_version" {
  type        = string
  description = "PostgreSQL version; its major part picks the parameter-group family (\"17\" -> postgres17)."
  default     = "17"
}

variable "instance_class" {
  type        = string
  description = "DB instance class (Graviton classes match the arm64 functions)."
  default     = "db.t4g.small"
}

variable "allocated_storage" {
  type        = number
  description = "Initial storage in GiB."
  default     = 20
}

variable "max_allocated_storage" {
  type        = number
  description = "Storage autoscaling ceiling in GiB."
  default     = 100
}

variable "db_name" {
  type        = string
  description = "Name of the application database (DB_NAME)."
  default     = "orders"
}

variable "master_username" {
  type        = string
  description = "Master user name; its password is generated and rotated by RDS in Secrets Manager."
  default     = "orders_admin"
}

variable "port" {
  type        = number
  description = "PostgreSQL port (DB_PORT)."
  default     = 5432
}

variable "enable_multi_az" {
  type        = bool
  description = "Run a synchronous standby in a second AZ."
  default     = true
}

variable "backup_retention_days" {
  type        = number
  description = "Days of automated backups (1-35)."
  default     = 7

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be between 1 and 35: backups stay on."
  }
}

variable "backup_window" {
  type        = string
  description = "Daily backup window (UTC)."
  default     = "02:00-03:00"
}

variable "maintenance_window" {
  type        = string
  description = "Weekly maintenance window (UTC)."
  default     = "sun:03:30-sun:04:30"
}

variable "enable_deletion_protection" {
  type        = bool
  description = "Refuse to delete the instance until this is turned off."
  default     = true
}

variable "enable_performance_insights" {
  type        = bool
  description = "Turn on Performance Insights (7 days, free tier), encrypted with kms_key_arn."
  default     = true
}

variable "enable_iam_database_authentication" {
  type        = bool
  description = "Allow IAM database authentication in addition to passwords (the functions use the secret)."
  default     = true
}

variable "monitoring_interval" {
  type        = number
  description = "Enhanced Monitoring interval in seconds (0 turns it off)."
  default     = 60

  validation {
    condition     = contains([0, 1, 5, 10, 15, 30, 60], var.monitoring_interval)
    error_message = "monitoring_interval must be one of 0, 1, 5, 10, 15, 30, 60."
  }
}

variable "max_connections" {
  type        = number
  description = "max_connections of the instance (parameter group). Keep it at or below the class's memory-based default, LEAST(DBInstanceClassMemory/9531392, 5000)."
  default     = 170

  validation {
    condition     = var.max_connections >= 25 && var.max_connections <= 5000
    error_message = "max_connections must be between 25 and 5000."
  }
}

variable "idle_session_timeout_seconds" {
  type        = number
  description = "idle_session_timeout: the server closes a session idle this long (0 turns it off)."
  default     = 300
}

variable "idle_in_transaction_session_timeout_seconds" {
  type        = number
  description = "idle_in_transaction_session_timeout: the server ends a session idle inside a transaction this long, releasing its row locks (0 turns it off)."
  default     = 60
}

variable "log_min_duration_statement_ms" {
  type        = number
  description = "Log statements slower than this many milliseconds."
  default     = 500
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the exported PostgreSQL and proxy logs."
  default     = 365
}

variable "apply_immediately" {
  type        = bool
  description = "Apply instance changes now instead of in the maintenance window."
  default     = false
}

variable "create_proxy" {
  type        = bool
  description = "Put RDS Proxy in front of the instance; DB_HOST then points at the proxy."
  default     = false
}

variable "function_roles" {
  type        = map(string)
  description = "Function name => the PostgreSQL role it logs in as (created by the migrations); each gets a Secrets Manager secret {username, password} with a generated password."
  default     = {}
}

variable "secret_recovery_window_days" {
  type        = number
  description = "Days a deleted secret stays recoverable, its name reserved (0 deletes at once, 7-30 otherwise)."
  default     = 30

  validation {
    condition     = var.secret_recovery_window_days == 0 || (var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30)
    error_message = "secret_recovery_window_days must be 0 or between 7 and 30."
  }
}
