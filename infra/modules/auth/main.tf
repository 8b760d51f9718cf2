locals {
  # Cognito's own sender has a low daily quota (AWS: for testing, not production); SES lifts it.
  use_ses = var.ses_email_source_arn != ""

  # Refresh-token rotation and REFRESH_TOKEN_AUTH exclude each other: with rotation on, clients refresh
  # with GetTokensFromRefreshToken, which needs no explicit auth flow.
  auth_flows = var.enable_refresh_token_rotation ? ["ALLOW_USER_SRP_AUTH"] : ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
}

resource "aws_cognito_user_pool" "this" {
  name                     = var.name
  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]
  deletion_protection      = var.enable_deletion_protection ? "ACTIVE" : "INACTIVE"
  mfa_configuration        = var.mfa_configuration

  username_configuration {
    case_sensitive = false
  }

  password_policy {
    minimum_length                   = var.password_minimum_length
    require_lowercase                = true
    require_uppercase                = true
    require_numbers                  = true
    require_symbols                  = true
    temporary_password_validity_days = 3
  }

  dynamic "software_token_mfa_configuration" {
    for_each = var.mfa_configuration == "OFF" ? [] : [1]

    content {
      enabled = true
    }
  }

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }

  admin_create_user_config {
    allow_admin_create_user_only = !var.enable_self_sign_up
  }

  # Verification and recovery mail through the account's SES identity (DEVELOPER), when one is given.
  dynamic "email_configuration" {
    for_each = local.use_ses ? [1] : []

    content {
      email_sending_account = "DEVELOPER"
      source_arn            = var.ses_email_source_arn
      from_email_address    = var.ses_from_email_address
    }
  }

  schema {
    name                = "email"
    attribute_data_type = "String"
    required            = true
    mutable             = true

    string_attribute_constraints {
      min_length = 3
      max_length = 254
    }
  }
}

resource "aws_cognito_user_pool_client" "app" {
  name         = "${var.name}-app"
  user_pool_id = aws_cognito_user_pool.this.id

  generate_secret               = false
  explicit_auth_flows           = local.auth_flows
  prevent_user_existence_errors = "ENABLED"
  enable_token_revocation       = true

  refresh_token_rotation {
    feature                    = var.enable_refresh_token_rotation ? "ENABLED" : "DISABLED"
    retry_grace_period_seconds = var.enable_refresh_token_rotation ? var.refresh_token_retry_grace_period_seconds : null
  }

  access_token_validity  = var.access_token_validity_minutes
  id_token_validity      = var.access_token_validity_minutes
  refresh_token_validity = var.refresh_token_validity_days

  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "days"
  }
}

resource "aws_cognito_user_group" "admin" {
  name         = "admin"
  user_pool_id = aws_cognito_user_pool.this.id
  description  = "Operators; the API sees membership in the cognito:groups claim"
}
