# --- Naming and placement -------------------------------------------------------------------------

variable "region" {
  type        = string
  description = "AWS region to deploy to."
  default     = "eu-west-1"
}

variable "name" {
  type        = string
  description = "Project name; resources are named <name>-<environment>-..."
  default     = "orders"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name))
    error_message = "name must be 2-21 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "environment" {
  type        = string
  description = "Environment name (dev, staging, prod...)."
  default     = "dev"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,9}$", var.environment))
    error_message = "environment must be 2-10 lowercase letters or digits, starting with a letter."
  }
}

# --- Images and functions -------------------------------------------------------------------------

variable "image_tag" {
  type        = string
  description = "Image tag (e.g. the git SHA) or digest (sha256:...) deployed for every function."
}

variable "image_tag_overrides" {
  type        = map(string)
  description = "Tag or digest per function name, overriding image_tag."
  default     = {}
}

variable "architecture" {
  type        = string
  description = "Instruction set of the images and functions: arm64 or x86_64."
  default     = "arm64"
}

variable "function_overrides" {
  type = map(object({
    memory_size                    = optional(number)
    timeout                        = optional(number)
    reserved_concurrent_executions = optional(number)
  }))
  description = "Per-function sizing overrides by function name (reserved_concurrent_executions = -1 for unreserved). Defaults are in local.function_defaults."
  default     = {}

  validation {
    condition     = alltrue([for name in keys(var.function_overrides) : contains(["create-order", "get-orders", "process-order", "update-stock", "outbox-relay", "migrate-db"], name)])
    error_message = "function_overrides keys must be function names."
  }
}

variable "enable_migrations_on_apply" {
  type        = bool
  description = "Invoke the migrate-db function during terraform apply whenever its image changes, applying pending migrations (never the seed)."
  default     = true
}

variable "db_max_connections" {
  type        = number
  description = "Database pool size per function instance (DB_MAX_CONNECTIONS). Budget: sum of reserved concurrency x this must stay under the instance's max_connections (or use the proxy)."
  default     = 2
}

variable "db_connection_budget" {
  type        = number
  description = "Connections the functions may hold without RDS Proxy: keep below the instance's max_connections (about 190 on db.t4g.small) minus room for migrations and operators. A plan warns when reserved concurrency x db_max_connections exceeds it."
  default     = 150
}

variable "rust_log" {
  type        = string
  description = "RUST_LOG directive for every function."
  default     = "info"
}

variable "outbox_min_age_seconds" {
  type        = number
  description = "outbox-relay republishes only rows older than this (OUTBOX_MIN_AGE_SECONDS), leaving fresh rows to the writer's own publish."
  default     = 5
}

variable "outbox_batch_size" {
  type        = number
  description = "Most outbox rows one outbox-relay run republishes (OUTBOX_BATCH_SIZE); they are sent 10 per SendMessageBatch call."
  default     = 100

  validation {
    condition     = var.outbox_batch_size >= 1
    error_message = "outbox_batch_size must be at least 1."
  }
}

# --- Queues and event sources ---------------------------------------------------------------------

variable "sqs_max_receive_count" {
  type        = number
  description = "Receives before a message goes to its DLQ."
  default     = 5
}

variable "sqs_batch_size" {
  type        = number
  description = "Messages per batch for the SQS consumers."
  default     = 10
}

variable "sqs_maximum_batching_window_seconds" {
  type        = number
  description = "Batching window of the SQS event sources (needed > 0 for batch sizes above 10)."
  default     = 0
}

variable "sqs_maximum_concurrency" {
  type        = number
  description = "Maximum concurrent invocations per SQS event source (2-1000, at most the consumer's reserved concurrency)."
  default     = 5
}

variable "queue_age_alarm_threshold_seconds" {
  type        = number
  description = "Alarm when a queue's oldest message is older than this for 5 minutes."
  default     = 300
}

# --- Database -------------------------------------------------------------------------------------

variable "db_engine_version" {
  type        = string
  description = "PostgreSQL version."
  default     = "17"
}

variable "db_instance_class" {
  type        = string
  description = "RDS instance class (Graviton, like the functions). Its memory sets max_connections: see db_connection_budget."
  default     = "db.t4g.small"
}

variable "db_allocated_storage" {
  type        = number
  description = "Initial storage in GiB."
  default     = 20
}

variable "db_max_allocated_storage" {
  type        = number
  description = "Storage autoscaling ceiling in GiB."
  default     = 100
}

variable "db_name" {
  type        = string
  description = "Application database name (DB_NAME)."
  default     = "orders"
}

variable "db_master_username" {
  type        = string
  description = "Master user name (its password lives in the RDS-managed secret)."
  default     = "orders_admin"
}

variable "db_port" {
  type        = number
  description = "PostgreSQL port (DB_PORT)."
  default     = 5432
}

variable "db_backup_retention_days" {
  type        = number
  description = "Days of automated backups."
  default     = 7
}

variable "enable_db_multi_az" {
  type        = bool
  description = "Multi-AZ standby for the database."
  default     = true
}

variable "enable_db_deletion_protection" {
  type        = bool
  description = "Deletion protection on the database."
  default     = true
}

variable "enable_db_performance_insights" {
  type        = bool
  description = "Performance Insights on the database."
  default     = true
}

variable "enable_db_iam_authentication" {
  type        = bool
  description = "Allow IAM database authentication (in addition to the managed password)."
  default     = true
}

variable "create_db_proxy" {
  type        = bool
  description = "Put RDS Proxy between the functions and the database (DB_HOST becomes the proxy)."
  default     = false
}

# --- Network --------------------------------------------------------------------------------------

variable "vpc_cidr_block" {
  type        = string
  description = "CIDR block of the VPC."
  default     = "10.20.0.0/16"
}

variable "availability_zones" {
  type        = list(string)
  description = "Zone names for the private subnets (at least 2); empty means <region>a and <region>b."
  default     = []
}

variable "enable_vpc_flow_logs" {
  type        = bool
  description = "VPC flow logs to CloudWatch."
  default     = true
}

# --- API and auth ---------------------------------------------------------------------------------

variable "api_stage_name" {
  type        = string
  description = "API Gateway stage name."
  default     = "v1"
}

variable "api_throttling_burst_limit" {
  type        = number
  description = "API burst limit (requests)."
  default     = 100
}

variable "api_throttling_rate_limit" {
  type        = number
  description = "API steady-state limit (requests per second)."
  default     = 50
}

variable "create_api_gateway_account_role" {
  type        = bool
  description = "Set the region's API Gateway CloudWatch role (off if another stack in the account manages it)."
  default     = true
}

variable "enable_waf" {
  type        = bool
  description = "WAF web ACL in front of the API."
  default     = true
}

variable "enable_user_pool_deletion_protection" {
  type        = bool
  description = "Deletion protection on the user pool."
  default     = true
}

variable "mfa_configuration" {
  type        = string
  description = "User pool MFA: OFF, OPTIONAL or ON."
  default     = "OPTIONAL"
}

variable "enable_self_sign_up" {
  type        = bool
  description = "Let customers sign themselves up."
  default     = true
}

variable "enable_refresh_token_rotation" {
  type        = bool
  description = "Rotate refresh tokens (clients then refresh with GetTokensFromRefreshToken, not REFRESH_TOKEN_AUTH)."
  default     = true
}

# --- Observability --------------------------------------------------------------------------------

variable "enable_xray_tracing" {
  type        = bool
  description = "X-Ray active tracing on the functions and the API stage."
  default     = true
}

variable "otel_exporter_otlp_endpoint" {
  type        = string
  description = "OTLP/HTTP endpoint for traces (OTEL_EXPORTER_OTLP_ENDPOINT); empty leaves it unset. It must be reachable from the private subnets."
  default     = ""
}

variable "otel_traces_sampler" {
  type        = string
  description = "OTEL_TRACES_SAMPLER for every function."
  default     = "parentbased_always_on"
}

variable "log_retention_days" {
  type        = number
  description = "Retention of every log group of the stack."
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts."
  }
}

variable "alarm_email" {
  type        = string
  description = "E-mail subscribed to the alarm topic (empty for none)."
  default     = ""
}

# --- Registry -------------------------------------------------------------------------------------

variable "ecr_max_image_count" {
  type        = number
  description = "Images kept per ECR repository."
  default     = 30
}

variable "enable_ecr_force_delete" {
  type        = bool
  description = "Allow destroying ECR repositories that still hold images."
  default     = false
}
