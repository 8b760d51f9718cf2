variable "name" {
  type        = string
  description = "Name of the REST API (also the web ACL and log-group names)."
}

variable "body" {
  type        = string
  description = "OpenAPI body with the API Gateway extensions (output body of the openapi module)."
}

variable "operations" {
  type = map(object({
    path         = string
    method       = string
    operation_id = string
    schemes      = list(string)
  }))
  description = "Operations keyed by \"METHOD /path\" (output operations of the openapi module); each gets a Lambda permission."
}

variable "function_names" {
  type        = map(string)
  description = "Deployed Lambda function names by logical function name (operationId)."

  validation {
    condition     = alltrue([for operation in values(var.operations) : contains(keys(var.function_names), operation.operation_id)])
    error_message = "Every operationId must name a function in function_names."
  }
}

variable "stage_name" {
  type        = string
  description = "Stage name; the URL ends in /<stage_name>."
  default     = "v1"
}

variable "enable_xray_tracing" {
  type        = bool
  description = "X-Ray tracing on the stage."
  default     = true
}

variable "logging_level" {
  type        = string
  description = "Execution logging level of every method: OFF, ERROR or INFO."
  default     = "ERROR"

  validation {
    condition     = contains(["OFF", "ERROR", "INFO"], var.logging_level)
    error_message = "logging_level must be OFF, ERROR or INFO."
  }
}

variable "throttling_burst_limit" {
  type        = number
  description = "Stage-wide burst limit (requests)."
  default     = 100
}

variable "throttling_rate_limit" {
  type        = number
  description = "Stage-wide steady-state limit (requests per second)."
  default     = 50
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the access-log, execution-log and WAF log groups."
  default     = 365
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key that encrypts the log groups."
}

variable "create_account_cloudwatch_role" {
  type        = bool
  description = "Set the regional API Gateway account's CloudWatch role (needed once per account and region for logging; turn off if another stack owns it)."
  default     = true
}

variable "enable_waf" {
  type        = bool
  description = "Put a WAF web ACL (rate limit, IP reputation, common and known-bad-input rules) in front of the stage."
  default     = true
}

variable "waf_rate_limit_per_5_minutes" {
  type        = number
  description = "Requests per client IP per 5 minutes before WAF blocks it."
  default     = 2000
}

variable "function_qualifier" {
  type        = string
  description = "Alias (or version) the integrations invoke: the permissions are granted on it, as a permission on the function does not cover its aliases. Null for the unqualified function."
  default     = null
}
