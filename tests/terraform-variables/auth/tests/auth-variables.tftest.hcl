# The Cognito email validations of infra/modules/auth/variables.tf (issue 19 item 7).
variables {
  name = "orders-dev"
}

run "no_ses_and_no_self_sign_up_pass" {
  command = plan
}

run "self_sign_up_without_ses_is_refused" {
  command = plan

  variables {
    enable_self_sign_up = true
  }

  expect_failures = [var.enable_self_sign_up]
}

run "ses_with_a_from_address_and_self_sign_up_pass" {
  command = plan

  variables {
    enable_self_sign_up    = true
    ses_email_source_arn   = "arn:aws:ses:eu-west-1:123456789012:identity/example.com"
    ses_from_email_address = "Orders <no-reply@example.com>"
  }
}

run "ses_without_a_from_address_is_refused" {
  command = plan

  variables {
    ses_email_source_arn = "arn:aws:ses:eu-west-1:123456789012:identity/example.com"
  }

  expect_failures = [var.ses_from_email_address]
}

run "a_source_that_is_not_an_ses_identity_is_refused" {
  command = plan

  variables {
    ses_email_source_arn   = "arn:aws:sns:eu-west-1:123456789012:topic"
    ses_from_email_address = "no-reply@example.com"
  }

  expect_failures = [var.ses_email_source_arn]
}
