variable "name" {
  type        = string
  description = "Name of the dashboard and prefix of the alarm topic."
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key that encrypts the alarm topic."
}

variable "alarm_email" {
  type        = string
  description = "E-mail address subscribed to the alarm topic; empty for none (subscribe something else to alarm_topic_arn)."
  default     = ""
}

variable "api_name" {
  type        = string
  description = "REST API name (ApiName dimension)."
}

variable "api_stage_name" {
  type        = string
  description = "Stage name (Stage dimension)."
}

variable "api_5xx_alarm_threshold" {
  type        = number
  description = "Alarm when the API answers more than this many 5XX in 5 minutes."
  default     = 5
}

variable "function_names" {
  type        = map(string)
  description = "Deployed function names by logical name (must include outbox-relay, whose gauges are alarmed)."

  validation {
    condition     = contains(keys(var.function_names), "outbox-relay")
    error_message = "function_names must include outbox-relay."
  }
}

variable "queue_names" {
  type        = map(string)
  description = "Main queue names by logical name."
}

variable "dlq_names" {
  type        = map(string)
  description = "DLQ names by logical name of their source queue."
}

variable "db_instance_identifier" {
  type        = string
  description = "RDS instance identifier (DBInstanceIdentifier dimension)."
}

variable "db_max_connections" {
  type        = number
  description = "max_connections of the instance; the connections alarm fires at db_connections_alarm_share of it."
}

variable "db_connections_alarm_share" {
  type        = number
  description = "Share of db_max_connections above which the connections alarm fires."
  default     = 0.8

  validation {
    condition     = var.db_connections_alarm_share > 0 && var.db_connections_alarm_share < 1
    error_message = "db_connections_alarm_share must be between 0 and 1 (exclusive)."
  }
}

variable "metric_namespace" {
  type        = string
  description = "CloudWatch namespace of the functions' EMF metrics."
  default     = "OrderBackend"
}

variable "service_name" {
  type        = string
  description = "Value of the Service dimension every EMF metric carries."
  default     = "order-backend"
}

variable "outbox_age_alarm_minutes" {
  type        = number
  description = "Alarm when the oldest unpublished outbox row is older than this many minutes."
  default     = 5
}

variable "runbook_url" {
  type        = string
  description = "Where the runbook lives; alarm descriptions append #<section>."
  default     = "docs/operations.md"
}

variable "enable_transaction_search" {
  type        = bool
  description = "Set the account's X-Ray trace segment destination to CloudWatch Logs (Transaction Search), with the Logs resource policy it needs and the Default indexing rule."
  default     = true
}

variable "transaction_search_indexing_percentage" {
  type        = number
  description = "Share of spans indexed as X-Ray trace summaries (1 is free)."
  default     = 1

  validation {
    condition     = var.transaction_search_indexing_percentage >= 0 && var.transaction_search_indexing_percentage <= 100
    error_message = "transaction_search_indexing_percentage must be between 0 and 100."
  }
}
