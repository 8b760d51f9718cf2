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
  description = "Per-function sizing overrides by function name (reserved_concurrent_executions = -1 for unreserved; ignored when enable_reserved_concurrency is false). Defaults are in local.function_defaults."
  default     = {}

  validation {
    condition     = alltrue([for name in keys(var.function_overrides) : contains(["create-order", "get-orders", "cancel-order", "process-order", "update-stock", "outbox-relay", "migrate-db"], name)])
    error_message = "function_overrides keys must be function names."
  }
}

variable "enable_reserved_concurrency" {
  type        = bool
  description = "Reserve concurrency for every function (local.function_defaults: 38 in all, so the account needs a concurrency limit of at least 138). false, for small accounts (new accounts start at 10): no reservation; the event sources' maximum_concurrency and the API throttles bound the database connections instead (docs/capacity.md, \"Without reservations\")."
  default     = true
}

variable "enable_migrations_on_apply" {
  type        = bool
  description = "Invoke the migrate-db function during terraform apply whenever its image changes, applying pending migrations (never the seed)."
  default     = true
}

variable "db_max_connections" {
  type        = number
  description = "Database pool size per function instance (DB_MAX_CONNECTIONS). Each execution environment handles one event at a time; the pool bounds the connections it holds (see the connection budget)."
  default     = 2

  validation {
    condition     = var.db_max_connections >= 1
    error_message = "db_max_connections must be at least 1."
  }
}

variable "db_instance_max_connections" {
  type        = number
  description = "max_connections set in the database parameter group. Keep it at or below the instance class's memory-based default, LEAST(DBInstanceClassMemory/9531392, 5000): about 189 on db.t4g.small, 410 on db.t4g.medium. Without RDS Proxy, 2 x reserved concurrency x db_max_connections + db_connection_margin must fit in it (docs/deploy.md#connection-budget)."
  default     = 170

  validation {
    condition     = var.db_instance_max_connections >= 25 && var.db_instance_max_connections <= 5000
    error_message = "db_instance_max_connections must be between 25 and 5000."
  }
}

variable "db_connection_margin" {
  type        = number
  description = "Connections kept out of the functions' budget: PostgreSQL's superuser_reserved_connections (3), RDS's rds.rds_superuser_reserved_connections (2), migrations or psql run by hand, and monitoring."
  default     = 15

  validation {
    condition     = var.db_connection_margin >= 5
    error_message = "db_connection_margin must be at least 5 (the reserved superuser slots)."
  }
}

variable "db_idle_session_timeout_seconds" {
  type        = number
  description = "PostgreSQL idle_session_timeout: closes a connection idle this long, so frozen or superseded Lambda environments give their connections back (part of the connection budget). Pools reconnect on next use."
  default     = 300

  validation {
    condition     = var.db_idle_session_timeout_seconds >= 30 && var.db_idle_session_timeout_seconds <= 3600
    error_message = "db_idle_session_timeout_seconds must be between 30 and 3600."
  }
}

variable "db_ssl_mode" {
  type        = string
  description = "PGSSLMODE of every function. verify-full checks the server certificate against db_ssl_root_cert and the host name."
  default     = "verify-full"

  validation {
    condition     = contains(["require", "verify-ca", "verify-full"], var.db_ssl_mode)
    error_message = "db_ssl_mode must be require, verify-ca or verify-full: the database only accepts TLS (rds.force_ssl)."
  }
}

variable "db_ssl_root_cert" {
  type        = string
  description = "PGSSLROOTCERT of every function: the CA bundle in the image. The default is the RDS global bundle. RDS Proxy presents an ACM (Amazon Trust Services) certificate instead, so with create_db_proxy point this at a bundle holding the Amazon roots."
  default     = "/opt/rds-ca/global-bundle.pem"
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

variable "order_expiry_minutes" {
  type        = number
  description = "outbox-relay cancels orders still pending or confirmed after this many minutes, with reason expired, and releases their reservations (ORDER_EXPIRY_MINUTES)."
  default     = 30

  validation {
    condition     = var.order_expiry_minutes >= 1
    error_message = "order_expiry_minutes must be at least 1."
  }
}

variable "order_stall_minutes" {
  type        = number
  description = "outbox-relay counts orders pending or confirmed for longer than this as stalled (ORDER_STALL_MINUTES, the StalledOrders metric). Below order_expiry_minutes, so the alarm fires before expiry cancels them."
  default     = 10

  validation {
    condition     = var.order_stall_minutes >= 1 && var.order_stall_minutes < var.order_expiry_minutes
    error_message = "order_stall_minutes must be at least 1 and below order_expiry_minutes."
  }
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
  default     = 2
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
  description = "RDS instance class (Graviton, like the functions). Its memory bounds max_connections: see db_instance_max_connections."
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

variable "secret_recovery_window_days" {
  type        = number
  description = "Days a deleted secret of the stack stays recoverable, its name reserved: 0 for throwaway environments (a destroy and re-create reuses the names at once), 7-30 otherwise."
  default     = 30

  validation {
    condition     = var.secret_recovery_window_days == 0 || (var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30)
    error_message = "secret_recovery_window_days must be 0 or between 7 and 30."
  }
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
  description = "Zone names for the private subnets (at least 2); empty means the first availability_zone_count zones of the region that are available and need no opt-in, by name."
  default     = []
}

variable "availability_zone_count" {
  type        = number
  description = "How many zones the private subnets span when availability_zones is empty (RDS needs 2; Multi-AZ uses 2)."
  default     = 2

  validation {
    condition     = var.availability_zone_count >= 2
    error_message = "availability_zone_count must be at least 2: RDS needs subnets in two zones."
  }
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
  description = "Burst limit of each API method (requests). Each request of a burst needs its own execution environment, so the bursts of a function's routes must fit in its reserved concurrency (checked; docs/deploy.md#throttling)."
  default     = 8
}

variable "api_throttling_rate_limit" {
  type        = number
  description = "Steady-state limit of each API method (requests per second). rate x api_expected_duration_ms must fit in the reserved concurrency of the method's function (checked)."
  default     = 25
}

variable "api_expected_duration_ms" {
  type        = number
  description = "Expected duration of an API invocation (warm p99, ms), used to size the throttle against reserved concurrency."
  default     = 250

  validation {
    condition     = var.api_expected_duration_ms > 0 && var.api_expected_duration_ms <= 29000
    error_message = "api_expected_duration_ms must be between 1 and 29000 (the integration timeout)."
  }
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
  description = "Let customers sign themselves up. Unset (null): on exactly when SES is set (ses_email_source_arn), since every sign-up sends a verification mail; true without SES is refused."
  default     = null

  validation {
    condition     = var.enable_self_sign_up != true || var.ses_email_source_arn != ""
    error_message = "enable_self_sign_up = true needs ses_email_source_arn and ses_from_email_address: Cognito's built-in sender allows too few mails a day for sign-up (docs/deploy.md#cognito-email)."
  }
}

variable "ses_email_source_arn" {
  type        = string
  description = "ARN of a verified SES identity Cognito sends verification and recovery mail through (email_sending_account DEVELOPER), e.g. arn:aws:ses:<region>:<account>:identity/example.com. Empty: Cognito's built-in sender, and self sign-up stays off."
  default     = ""
}

variable "ses_from_email_address" {
  type        = string
  description = "From address of Cognito's mail through SES, e.g. \"Orders <no-reply@example.com>\" (an address of the SES identity). Set together with ses_email_source_arn."
  default     = ""
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
  description = "OTLP/HTTP collector endpoint (OTEL_EXPORTER_OTLP_ENDPOINT), unsigned; it wins over the signed CloudWatch endpoint (AWS_OTLP_TRACES_ENDPOINT). Empty leaves it unset. It must be reachable from the private subnets."
  default     = ""
}

variable "enable_transaction_search" {
  type        = bool
  description = "Turn on CloudWatch Transaction Search for the account and region: X-Ray trace segment destination = CloudWatch Logs, the Logs resource policy it needs, and the Default indexing rule. Off for accounts that manage it elsewhere (it is one setting per account and region)."
  default     = true
}

variable "transaction_search_indexing_percentage" {
  type        = number
  description = "Share of spans X-Ray indexes as trace summaries (the Default indexing rule); 1 is free. Every span is searchable in the aws/spans log group regardless."
  default     = 1

  validation {
    condition     = var.transaction_search_indexing_percentage >= 0 && var.transaction_search_indexing_percentage <= 100
    error_message = "transaction_search_indexing_percentage must be between 0 and 100."
  }
}

variable "otel_exporter_otlp_timeout_ms" {
  type        = number
  description = "OTEL_EXPORTER_OTLP_TIMEOUT (ms): the most one span flush may add to an invocation when the endpoint is slow or unreachable."
  default     = 300

  validation {
    condition     = var.otel_exporter_otlp_timeout_ms >= 50 && var.otel_exporter_otlp_timeout_ms <= 5000
    error_message = "otel_exporter_otlp_timeout_ms must be between 50 and 5000: a flush must never use up a function's timeout."
  }
}

variable "otel_traces_sampler" {
  type        = string
  description = "OTEL_TRACES_SAMPLER for every function. Every order is traced: the API functions start each request's trace and the consumers continue it, so only samplers that record every trace are allowed (cost is controlled by the indexing percentage and span attributes, never by dropping spans)."
  default     = "always_on"

  validation {
    condition     = contains(["always_on", "parentbased_always_on"], var.otel_traces_sampler)
    error_message = "otel_traces_sampler must be always_on or parentbased_always_on: a ratio sampler would leave orders without a trace."
  }
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

variable "outbox_age_alarm_minutes" {
  type        = number
  description = "Alarm when the oldest unpublished outbox row (OutboxOldestAgeSeconds) is older than this many minutes."
  default     = 5

  validation {
    condition     = var.outbox_age_alarm_minutes >= 1
    error_message = "outbox_age_alarm_minutes must be at least 1."
  }
}

variable "db_connections_alarm_share" {
  type        = number
  description = "Alarm when RDS DatabaseConnections exceeds this share of db_instance_max_connections."
  default     = 0.8

  validation {
    condition     = var.db_connections_alarm_share > 0 && var.db_connections_alarm_share < 1
    error_message = "db_connections_alarm_share must be between 0 and 1 (exclusive)."
  }
}

variable "runbook_url" {
  type        = string
  description = "Where on-call finds the runbook (e.g. the repository URL of docs/operations.md); alarm descriptions append #<section>."
  default     = "docs/operations.md"
}

variable "alarm_email" {
  type        = string
  description = "E-mail subscribed to the alarm topic (empty for none)."
  default     = ""
}

# --- Registry -------------------------------------------------------------------------------------

variable "ecr_untagged_image_expiry_days" {
  type        = number
  description = "Days after which untagged images expire. Tagged images never expire: any of them may be what a function runs (docs/deploy.md, \"Old images\")."
  default     = 7

  validation {
    condition     = var.ecr_untagged_image_expiry_days >= 1
    error_message = "ecr_untagged_image_expiry_days must be at least 1."
  }
}

variable "enable_ecr_force_delete" {
  type        = bool
  description = "Allow destroying ECR repositories that still hold images."
  default     = false
}

# --- Release pipeline (docs/deploy.md#the-pipeline-path) ------------------------------------------------

variable "image_digests" {
  type        = map(string)
  description = "Image digest (sha256:...) per function name, as the pipeline's build recorded them; wins over image_tag and image_tag_overrides, so a function runs <repository>@<digest>, never a tag."
  default     = {}

  validation {
    condition     = alltrue([for digest in values(var.image_digests) : can(regex("^sha256:[0-9a-f]{64}$", digest))])
    error_message = "image_digests values must be sha256:<64 hex digits>."
  }
}

variable "api_latency_p99_alarm_ms" {
  type        = number
  description = "Alarm when an API function's p99 duration stays above this (ms); a release in progress rolls back."
  default     = 1000
}

variable "github_repository" {
  type        = string
  description = "owner/name of the repository whose GitHub Actions workflow deploys this stack through OIDC; empty creates no pipeline roles."
  default     = ""
}

variable "github_environment" {
  type        = string
  description = "GitHub environment whose jobs may apply (give it required reviewers and deployments from main only)."
  default     = "production"
}

variable "create_github_oidc_provider" {
  type        = bool
  description = "Create the account's GitHub OIDC provider (false when the account already has one: set github_oidc_provider_arn)."
  default     = true
}

variable "github_oidc_provider_arn" {
  type        = string
  description = "Existing GitHub OIDC provider, when create_github_oidc_provider is false."
  default     = ""
}

variable "terraform_state_bucket" {
  type        = string
  description = "S3 bucket holding the state the pipeline plans and applies against (required with github_repository)."
  default     = ""
}

variable "terraform_state_key" {
  type        = string
  description = "Key of the state object in terraform_state_bucket."
  default     = "orders/terraform.tfstate"
}

# --- Database password rotation (infra/rotation.tf) -------------------------------------------------

variable "enable_db_password_rotation" {
  type        = bool
  description = "Rotate the function roles' database passwords on a schedule (Secrets Manager, alternating users, migrate-db as the rotation function)."
  default     = true
}

variable "db_password_rotation_schedule" {
  type        = string
  description = "When Secrets Manager rotates each function role's password: a rate() or cron() expression (the window is the rest of that UTC day)."
  default     = "rate(30 days)"
}

# --- Preflight ------------------------------------------------------------------------------------

variable "enable_preflight_checks" {
  type        = bool
  description = "Fail the plan when the account's Lambda concurrency limit or the region's zones cannot hold the stack (infra/preflight.tf; reads Service Quotas, so the deployer needs servicequotas:GetServiceQuota). cargo xtask preflight checks more."
  default     = true
}
