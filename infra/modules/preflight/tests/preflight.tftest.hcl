# Offline: the module has no provider. The expected texts are also what xtask/preflight prints for the same
# figures; its test `terraform_prints_the_same_text_as_preflight` finds each of them in this file.

variables {
  region               = "eu-west-1"
  concurrency_limit    = 1000
  reserved_concurrency = 38
  available_zones      = ["eu-west-1c", "eu-west-1a", "eu-west-1b"]
  requested_zones      = []
  enforce              = false
}

run "an_account_at_1000_with_three_zones_passes" {
  command = plan

  variables {
    enforce = true
  }

  assert {
    condition     = length(output.failures) == 0
    error_message = "Nothing should fail: ${jsonencode(output.failures)}"
  }
}

run "a_new_account_at_10_fails_with_the_quota_request_that_fixes_it" {
  command = plan

  variables {
    concurrency_limit = 10
  }

  assert {
    condition     = length(output.failures) == 1 && output.failures[0] == "The account's Lambda concurrency limit in eu-west-1 is 10; the functions reserve 38 and Lambda keeps 100 unreserved, so the stack needs 138. Until then every function fails to create (\"decreases account's UnreservedConcurrentExecution below its minimum value\").\nFix: aws service-quotas request-service-quota-increase --service-code lambda --quota-code L-B99A9384 --desired-value 1000 --region eu-west-1\nFix: set enable_reserved_concurrency = false in the var-file (deploys without reservations)"
    error_message = "Unexpected text: ${jsonencode(output.failures)}"
  }
}

run "the_failure_stops_the_plan" {
  command = plan

  variables {
    concurrency_limit = 10
    enforce           = true
  }

  expect_failures = [terraform_data.this]
}

run "no_reservations_fit_any_account" {
  command = plan

  variables {
    concurrency_limit    = 10
    reserved_concurrency = 0
    enforce              = true
  }

  assert {
    condition     = length(output.failures) == 0
    error_message = "Without reservations the limit does not matter: ${jsonencode(output.failures)}"
  }
}

run "a_one_zone_region_fails" {
  command = plan

  variables {
    region          = "ap-northeast-3"
    available_zones = ["ap-northeast-3a"]
  }

  assert {
    condition     = length(output.failures) == 1 && output.failures[0] == "ap-northeast-3 offers 1 available availability zone(s) (ap-northeast-3a); the stack needs 2 (availability_zone_count; the database subnet group needs at least 2).\nFix: deploy to a region with at least 2 zones: set region = \"<that region>\" in the var-file and run cargo xtask preflight --region <that region>"
    error_message = "Unexpected text: ${jsonencode(output.failures)}"
  }
}

run "a_named_zone_the_region_lacks_fails_with_zones_it_has" {
  command = plan

  variables {
    requested_zones = ["eu-west-1a", "eu-west-1d"]
  }

  assert {
    condition     = length(output.failures) == 1 && output.failures[0] == "availability_zones names eu-west-1d, which eu-west-1 does not offer (available: eu-west-1a, eu-west-1b, eu-west-1c).\nFix: set availability_zones = [\"eu-west-1a\",\"eu-west-1b\"] in the var-file"
    error_message = "Unexpected text: ${jsonencode(output.failures)}"
  }
}

run "three_zones_asked_for_in_a_two_zone_region_fail" {
  command = plan

  variables {
    available_zones = ["eu-west-1a", "eu-west-1b"]
    zones_needed    = 3
  }

  assert {
    condition     = length(output.failures) == 1 && startswith(output.failures[0], "eu-west-1 offers 2 available availability zone(s) (eu-west-1a, eu-west-1b); the stack needs 3 ")
    error_message = "Unexpected text: ${jsonencode(output.failures)}"
  }
}
