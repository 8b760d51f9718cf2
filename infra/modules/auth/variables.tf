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
  description = "Let customers sign themselves up (otherwise only administrators create users). Needs SES (ses_email_source_arn): every sign-up sends a verification mail."
  default     = false

  validation {
    condition     = !var.enable_self_sign_up || var.ses_email_source_arn != ""
    error_message = "Self sign-up needs ses_email_source_arn: Cognito's built-in sender's daily quota is too low for sign-up mail."
  }
}

variable "ses_email_source_arn" {
  type        = string
  description = "ARN of a verified SES identity (arn:aws:ses:<region>:<account>:identity/<domain or address>) Cognito sends its mail through (email_sending_account DEVELOPER). Empty: Cognito's built-in sender."
  default     = ""

  validation {
    condition     = var.ses_email_source_arn == "" || can(regex("^arn:aws[a-z-]*:ses:[a-z0-9-]+:[0-9]{12}:identity/.+$", var.ses_email_source_arn))
    error_message = "ses_email_source_arn must be empty or an SES identity ARN (arn:aws:ses:<region>:<account>:identity/<domain or address>)."
  }
}

variable "ses_from_email_address" {
  type        = string
  description = "From address of Cognito's mail through SES, e.g. \"Orders <no-reply@example.com>\"; it must belong to the SES identity. Required with ses_email_source_arn."
  default     = ""

  validation {
    condition     = (var.ses_from_email_address == "") == (var.ses_email_source_arn == "")
    error_message = "Set ses_from_email_address and ses_email_source_arn together, or neither."
  }
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
