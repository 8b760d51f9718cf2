# --- Preflight: fail the plan before anything is created ------------------------------------------------
# What `cargo xtask preflight` checks and a data source can see, with the same text and fix command
# (infra/modules/preflight): the account's Lambda concurrency limit against the reservations plus the 100
# Lambda keeps unreserved, and the zones the region offers. The other checks (other functions'
# reservations, VPC/endpoint/RDS quotas against their use, Logs resource policies, Transaction Search) have
# no data source that sees them without false alarms on a re-apply: run `cargo xtask preflight` for those.

# The limit Service Quotas reports for Lambda's concurrent executions (lambda/L-B99A9384).
data "aws_servicequotas_service_quota" "lambda_concurrency" {
  count = var.enable_preflight_checks ? 1 : 0

  service_code = "lambda"
  quota_code   = "L-B99A9384"
}

module "preflight" {
  source = "./modules/preflight"
  count  = var.enable_preflight_checks ? 1 : 0

  region            = var.region
  concurrency_limit = data.aws_servicequotas_service_quota.lambda_concurrency[0].value
  # Unreserved (-1), and null where reservations are switched off, count 0.
  reserved_concurrency = sum([for settings in values(local.function_settings) : try(max(settings.reserved_concurrent_executions, 0), 0)])
  available_zones      = data.aws_availability_zones.available.names
  requested_zones      = var.availability_zones
  zones_needed         = var.availability_zone_count
}
