variable "name_prefix" {
  type        = string
  description = "Functions, roles and log groups are named <name_prefix>-<function>."
}

variable "functions" {
  type = map(object({
    description         = string
    env                 = map(string)
    send_queues         = list(string)
    schedule_expression = optional(string)
  }))
  description = "Functions by name: function-specific environment, the queues it may sqs:SendMessage to (logical names), and an optional EventBridge schedule."

  validation {
    condition     = length(var.functions) > 0
    error_message = "functions must not be empty."
  }

  validation {
    condition     = !anytrue([for function in values(var.functions) : contains(keys(function.env), "DATABASE_URL")])
    error_message = "DATABASE_URL is for local runs only; deployed functions read DB_SECRET_ARN/DB_HOST/DB_PORT/DB_NAME."
  }
}

variable "settings" {
  type = map(object({
    memory_size                    = number
    timeout                        = number
    reserved_concurrent_executions = number
  }))
  description = "Sizing by function name; reserved_concurrent_executions = -1 leaves the function unreserved."

  validation {
    condition     = alltrue([for name in keys(var.functions) : contains(keys(var.settings), name)])
    error_message = "settings needs an entry for every function."
  }
}

variable "image_uris" {
  type        = map(string)
  description = "Container image URI (repository:tag or repository@sha256:digest) by function name."

  validation {
    condition     = alltrue([for name in keys(var.functions) : contains(keys(var.image_uris), name)])
    error_message = "image_uris needs an entry for every function."
  }
}

variable "event_sources" {
  type        = map(string)
  description = "Consumer function name => logical name of the queue it consumes."
  default     = {}

  validation {
    condition     = alltrue([for name in keys(var.event_sources) : contains(keys(var.functions), name)])
    error_message = "event_sources names a function that is not in functions."
  }
}

variable "queue_arns" {
  type        = map(string)
  description = "Queue ARNs by logical name (send_queues and event_sources refer to these names)."

  validation {
    condition = alltrue(flatten([
      [for function in values(var.functions) : [for queue in function.send_queues : contains(keys(var.queue_arns), queue)]],
      [for queue in values(var.event_sources) : contains(keys(var.queue_arns), queue)],
    ]))
    error_message = "A function sends to or consumes a queue that is not in queue_arns."
  }
}

variable "architecture" {
  type        = string
  description = "Instruction set of the images: arm64 or x86_64."
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets the functions attach to."
}

variable "security_group_ids" {
  type        = list(string)
  description = "Security groups of the functions."
}

variable "kms_key_arn" {
  type        = string
  description = "Stack KMS key: environment variables, log groups, and (via the services) the secret and the queues."
}

variable "database" {
  type = object({
    secret_arns = map(string)
    host        = string
    port        = number
    name        = string
  })
  description = "Connection facts: secret_arns maps every function to the secret it logs in with (its DB_SECRET_ARN, the only secret its role may read); DB_HOST, DB_PORT and DB_NAME are shared."

  validation {
    condition     = length(var.database.secret_arns) > 0
    error_message = "database.secret_arns needs a secret per function."
  }
}

variable "extra_secret_reads" {
  type        = map(list(string))
  description = "Function name => secrets it may read besides its own login (migrate-db: every function role's, to set their passwords)."
  default     = {}
}

variable "db_max_connections" {
  type        = number
  description = "Pool size per execution environment (DB_MAX_CONNECTIONS)."
  default     = 2
}

variable "rust_log" {
  type        = string
  description = "tracing EnvFilter directive (RUST_LOG)."
  default     = "info"
}

variable "otel_exporter_otlp_endpoint" {
  type        = string
  description = "OTLP/HTTP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT); empty leaves the variable unset."
  default     = ""
}

variable "otel_exporter_otlp_timeout_ms" {
  type        = number
  description = "OTEL_EXPORTER_OTLP_TIMEOUT in milliseconds: the bound of one span flush."
  default     = 300
}

variable "telemetry_hash_salt" {
  type        = string
  description = "TELEMETRY_HASH_SALT: salt of the hashed customer id put on spans instead of the sub; empty leaves it unset."
  default     = ""
}

variable "db_ssl_mode" {
  type        = string
  description = "PGSSLMODE (libpq-style TLS mode) of every function."
  default     = "verify-full"

  validation {
    condition     = contains(["disable", "allow", "prefer", "require", "verify-ca", "verify-full"], var.db_ssl_mode)
    error_message = "db_ssl_mode must be a libpq sslmode."
  }
}

variable "db_ssl_root_cert" {
  type        = string
  description = "PGSSLROOTCERT: path of the CA bundle in the image that verifies the database certificate."
  default     = "/opt/rds-ca/global-bundle.pem"
}

variable "otel_traces_sampler" {
  type        = string
  description = "OTEL_TRACES_SAMPLER value: a sampler that records every trace (the root module restricts it)."
  default     = "always_on"
}

variable "otel_resource_attributes" {
  type        = string
  description = "OTEL_RESOURCE_ATTRIBUTES value (key=value pairs, comma separated)."
  default     = ""
}

variable "enable_xray_tracing" {
  type        = bool
  description = "Lambda active X-Ray tracing (otherwise PassThrough). The roles may write traces either way: the code exports its spans over OTLP."
  default     = true
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the function log groups."
  default     = 365
}

variable "sqs_batch_size" {
  type        = number
  description = "Messages per SQS batch handed to a consumer."
  default     = 10

  validation {
    condition     = var.sqs_batch_size >= 1 && var.sqs_batch_size <= 10000
    error_message = "sqs_batch_size must be between 1 and 10000."
  }
}

variable "sqs_maximum_batching_window_seconds" {
  type        = number
  description = "How long the event source waits to fill a batch (required > 0 when sqs_batch_size > 10)."
  default     = 0

  validation {
    condition     = var.sqs_maximum_batching_window_seconds >= 0 && var.sqs_maximum_batching_window_seconds <= 300
    error_message = "sqs_maximum_batching_window_seconds must be between 0 and 300."
  }

  validation {
    condition     = var.sqs_batch_size <= 10 || var.sqs_maximum_batching_window_seconds > 0
    error_message = "A batch size above 10 needs a batching window of at least 1 second."
  }
}

variable "sqs_maximum_concurrency" {
  type        = number
  description = "Most concurrent invocations one SQS event source may drive (scaling_config.maximum_concurrency)."
  default     = 5

  validation {
    condition     = var.sqs_maximum_concurrency >= 2 && var.sqs_maximum_concurrency <= 1000
    error_message = "sqs_maximum_concurrency must be between 2 and 1000."
  }
}

variable "create_after" {
  type        = list(string)
  description = "Ids of resources every function is created after (depends_on): the Transaction Search trace segment destination, so the OTLP endpoint accepts the functions' first spans. Empty: no ordering."
  default     = []
}

variable "start_after" {
  type        = list(string)
  description = "Ids of resources the event source mappings and the schedule targets are created after (depends_on): the migrate-db invocation, so nothing is consumed or relayed before the schema and the function roles exist. Empty: no ordering."
  default     = []
}

variable "alias_name" {
  type        = string
  description = "Name of the alias every trigger (API integration, event source mapping, schedule) invokes."
  default     = "live"
}

variable "gradual_rollout_functions" {
  type        = list(string)
  description = "Functions whose alias CodeDeploy shifts between versions (Terraform creates it, then ignores its version); every other function's alias follows its latest published version."
  default     = []

  validation {
    condition     = alltrue([for name in var.gradual_rollout_functions : contains(keys(var.functions), name)])
    error_message = "gradual_rollout_functions names a function that is not in functions."
  }
}
