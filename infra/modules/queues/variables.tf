variable "name_prefix" {
  type        = string
  description = "Prefix of the queue names (<prefix>-<queue>, <prefix>-<queue>-dlq)."
}

variable "queues" {
  type = map(object({
    visibility_timeout_seconds = number
  }))
  description = "Queues by logical name. The caller derives visibility_timeout_seconds from the consumer's timeout (at least 6x)."

  validation {
    condition     = length(var.queues) > 0
    error_message = "queues must not be empty."
  }

  validation {
    condition     = alltrue([for queue in values(var.queues) : queue.visibility_timeout_seconds >= 0 && queue.visibility_timeout_seconds <= 43200])
    error_message = "visibility_timeout_seconds must be between 0 and 43200."
  }
}

variable "max_receive_count" {
  type        = number
  description = "Receives before a message is moved to the DLQ (redrive maxReceiveCount)."
  default     = 5

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000
    error_message = "max_receive_count must be between 1 and 1000."
  }
}

variable "message_retention_seconds" {
  type        = number
  description = "Retention of the main queues."
  default     = 345600 # 4 days
}

variable "dlq_message_retention_seconds" {
  type        = number
  description = "Retention of the DLQs (the maximum, to leave time for a redrive)."
  default     = 1209600 # 14 days
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key for server-side encryption of every queue."
}

variable "kms_data_key_reuse_period_seconds" {
  type        = number
  description = "How long SQS reuses a data key before calling KMS again."
  default     = 300
}

variable "oldest_message_age_threshold_seconds" {
  type        = number
  description = "Alarm when the oldest message of a main queue is older than this for 5 minutes."
  default     = 300
}

variable "alarm_actions" {
  type        = list(string)
  description = "ARNs notified when an alarm changes state (e.g. an SNS topic)."
  default     = []
}

variable "runbook_url" {
  type        = string
  description = "Where the runbook lives; alarm descriptions append #<section>."
  default     = "docs/operations.md"
}
