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
  description = "Deployed function names by logical name."
}

variable "queue_names" {
  type        = map(string)
  description = "Main queue names by logical name."
}

variable "dlq_names" {
  type        = map(string)
  description = "DLQ names by logical name of their source queue."
}
