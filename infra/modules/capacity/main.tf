locals {
  # --- API throttle (docs/deploy.md#throttling) ---
  # The stage throttle applies to each method. A method needs as many concurrent executions as its burst
  # (that many requests may arrive at once) and as its rate x expected duration (Little's law); a function
  # serving several routes needs the sum. Counting per method is the conservative reading.
  api_method_concurrency   = max(var.api_throttling_burst_limit, ceil(var.api_throttling_rate_limit * var.api_expected_duration_ms / 1000))
  api_required_concurrency = { for name, routes in var.api_routes : name => local.api_method_concurrency * routes }
  api_capacity_shortfalls = [
    for name, required in local.api_required_concurrency :
    "${name} needs ${required} (reserved ${var.settings[name].reserved_concurrent_executions})"
    if var.settings[name].reserved_concurrent_executions >= 0 && var.settings[name].reserved_concurrent_executions < required
  ]

  # --- Each function's concurrency bound ---
  # A reservation is a hard cap. Without one (-1) the invoker bounds it: an SQS consumer by its event source's
  # maximum_concurrency, a function on a one-minute schedule without retries by ceil(timeout / 60) overlapping
  # runs, a function invoked once per apply (migrate-db; the state lock keeps applies apart) by 1, an API
  # function by the stage throttle of its routes at api_expected_duration_ms. Anything else is unbounded.
  unbounded = 10000
  one_run   = 1
  unreserved_bound = merge(
    { for name in keys(var.settings) : name => local.unbounded },
    { for name in var.queue_consumers : name => var.sqs_maximum_concurrency },
    { for name in var.scheduled : name => ceil(var.settings[name].timeout / 60) },
    { for name in var.applied_once : name => local.one_run },
    local.api_required_concurrency,
  )
  concurrency_bound = {
    for name, settings in var.settings : name => settings.reserved_concurrent_executions >= 0 ? settings.reserved_concurrent_executions : local.unreserved_bound[name]
  }

  # --- Connection budget (docs/deploy.md#connection-budget) ---
  # Without RDS Proxy every execution environment keeps its own pool, so the live connections are at most the
  # sum of the bounds x DB_MAX_CONNECTIONS. After a deploy, or when Lambda replaces environments, the superseded
  # ones are frozen with their sockets open until PostgreSQL's idle_session_timeout closes them: for that long
  # two generations can hold connections at once.
  connection_generations    = 2
  live_db_connections       = var.db_max_connections * sum(values(local.concurrency_bound))
  worst_case_db_connections = local.connection_generations * local.live_db_connections + var.db_connection_margin
  db_budget_ok              = var.create_db_proxy || local.worst_case_db_connections <= var.db_instance_max_connections
}
