variable "name" {
  type        = string
  description = "Name of the user pool; the app client is <name>-app."
}

variable "enable_deletion_protection" {
  type        = bool
  description = "Refuse to delete the user pool until this is turned off."
  default     = true
}

variable "mfa_configuration" {
  type        = string
  description = "OFF, OPTIONAL (users may enrol a TOTP app) or ON (every user must)."
  default     = "OPTIONAL"

  validation {
    condition     = contains(["OFF", "OPTIONAL", "ON"], var.mfa_configuration)
    error_message = "mfa_configuration must be OFF, OPTIONAL or ON."
  }
}

variable "password_minimum_length" {
  type        = number
  description = "Minimum password length."
  default     = 12

  validation {
    condition     = var.password_minimum_length >= 8 && var.password_minimum_length <= 99
    error_message = "password_minimum_length must be between 8 and 99."
  }
}

variable "enable_self_sign_up" {
  type        = bool
  description = "Let customers sign themselves up (otherwise only administrators create users)."
  default     = true
}

variable "enable_refresh_token_rotation" {
  type        = bool
  description = "Issue a new refresh token on every refresh (GetTokensFromRefreshToken); turns off ALLOW_REFRESH_TOKEN_AUTH, which Cognito does not allow together with rotation."
  default     = true
}

variable "refresh_token_retry_grace_period_seconds" {
  type        = number
  description = "How long a rotated-out refresh token stays valid, for client retries (0-60)."
  default     = 10

  validation {
    condition     = var.refresh_token_retry_grace_period_seconds >= 0 && var.refresh_token_retry_grace_period_seconds <= 60
    error_message = "refresh_token_retry_grace_period_seconds must be between 0 and 60."
  }
}

variable "access_token_validity_minutes" {
  type        = number
  description = "Lifetime of ID and access tokens in minutes (5-1440)."
  default     = 60
}

variable "refresh_token_validity_days" {
  type        = number
  description = "Lifetime of refresh tokens in days."
  default     = 30
}
