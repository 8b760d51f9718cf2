# The checks of `cargo xtask preflight` that Terraform's own data sources can see, with the same text:
# xtask/preflight/src/checks/{concurrency,zones}.rs build these strings, and its tests read
# tests/preflight.tftest.hcl to prove both say the same.

locals {
  # Lambda refuses any reservation that leaves fewer than this many executions unreserved.
  min_unreserved     = 100
  needed_concurrency = var.reserved_concurrency + local.min_unreserved
  zones_needed       = length(var.requested_zones) > 0 ? 2 : var.zones_needed
  zones              = sort(var.available_zones)
  missing_zones      = [for zone in var.requested_zones : zone if !contains(var.available_zones, zone)]

  concurrency_failure = join("\n", [
    "The account's Lambda concurrency limit in ${var.region} is ${var.concurrency_limit}; the functions reserve ${var.reserved_concurrency} and Lambda keeps ${local.min_unreserved} unreserved, so the stack needs ${local.needed_concurrency}. Until then every function fails to create (\"decreases account's UnreservedConcurrentExecution below its minimum value\").",
    "Fix: aws service-quotas request-service-quota-increase --service-code lambda --quota-code L-B99A9384 --desired-value ${max(1000, local.needed_concurrency)} --region ${var.region}",
    "Fix: set enable_reserved_concurrency = false in the var-file (deploys without reservations)",
  ])

  too_few_zones_failure = join("\n", [
    "${var.region} offers ${length(local.zones)} available availability zone(s) (${length(local.zones) == 0 ? "none" : join(", ", local.zones)}); the stack needs ${local.zones_needed} (availability_zone_count; the database subnet group needs at least 2).",
    "Fix: deploy to a region with at least ${local.zones_needed} zones: set region = \"<that region>\" in the var-file and run cargo xtask preflight --region <that region>",
  ])

  missing_zones_failure = join("\n", [
    "availability_zones names ${join(", ", local.missing_zones)}, which ${var.region} does not offer (available: ${join(", ", local.zones)}).",
    "Fix: set availability_zones = ${jsonencode(slice(local.zones, 0, min(2, length(local.zones))))} in the var-file",
  ])

  failures = concat(
    var.reserved_concurrency > 0 && var.concurrency_limit < local.needed_concurrency ? [local.concurrency_failure] : [],
    length(local.zones) < local.zones_needed ? [local.too_few_zones_failure] : [],
    length(local.zones) >= local.zones_needed && length(local.missing_zones) > 0 ? [local.missing_zones_failure] : [],
  )
}

# Nothing depends on it and it holds nothing: its precondition is there to stop the plan before any
# resource is created, with the fix in the error.
resource "terraform_data" "this" {
  lifecycle {
    precondition {
      condition     = !var.enforce || length(local.failures) == 0
      error_message = join("\n\n", local.failures)
    }
  }
}
