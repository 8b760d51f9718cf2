variable "name" {
  type        = string
  description = "Alias of the key, without the alias/ prefix."
}

variable "description" {
  type        = string
  description = "What the key encrypts."
}

variable "deletion_window_in_days" {
  type        = number
  description = "Waiting period before a deleted key is destroyed (7-30 days)."
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be between 7 and 30."
  }
}
