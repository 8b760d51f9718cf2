variable "name_prefix" {
  type        = string
  description = "Repositories are named <name_prefix>/<repository>; functions <name_prefix>-<function> may pull."
}

variable "repositories" {
  type        = list(string)
  description = "One repository per function name."

  validation {
    condition     = length(var.repositories) > 0
    error_message = "repositories must not be empty."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key that encrypts the images."
}

variable "untagged_image_expiry_days" {
  type        = number
  description = "Days after which untagged images expire."
  default     = 7
}

variable "enable_force_delete" {
  type        = bool
  description = "Let terraform destroy delete repositories that still hold images."
  default     = false
}
