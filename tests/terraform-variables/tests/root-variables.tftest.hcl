# The validations of infra/variables.tf that issue 19 added, as `terraform plan` evaluates them.
variables {
  image_tag = "0123456789ab"
}

run "defaults_pass" {
  command = plan
}

run "self_sign_up_without_ses_is_refused" {
  command = plan

  variables {
    enable_self_sign_up = true
  }

  expect_failures = [var.enable_self_sign_up]
}

run "self_sign_up_with_ses_passes" {
  command = plan

  variables {
    enable_self_sign_up    = true
    ses_email_source_arn   = "arn:aws:ses:eu-west-1:123456789012:identity/example.com"
    ses_from_email_address = "Orders <no-reply@example.com>"
  }
}

run "a_recovery_window_of_zero_passes" {
  command = plan

  variables {
    secret_recovery_window_days = 0
  }
}

run "a_recovery_window_below_seven_is_refused" {
  command = plan

  variables {
    secret_recovery_window_days = 3
  }

  expect_failures = [var.secret_recovery_window_days]
}

run "one_zone_is_refused" {
  command = plan

  variables {
    availability_zone_count = 1
  }

  expect_failures = [var.availability_zone_count]
}

run "small_account_mode_is_a_plain_switch" {
  command = plan

  variables {
    enable_reserved_concurrency = false
  }
}
