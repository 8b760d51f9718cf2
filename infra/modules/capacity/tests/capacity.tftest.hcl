# The stack's defaults (infra/main.tf, infra/variables.tf): reserved 8/16/8/2/2/1/1, 25 r/s burst 8 per method,
# 250 ms, 2 connections per environment, margin 15, max_connections 170.
variables {
  settings = {
    "create-order"  = { reserved_concurrent_executions = 8, timeout = 10 }
    "get-orders"    = { reserved_concurrent_executions = 16, timeout = 10 }
    "cancel-order"  = { reserved_concurrent_executions = 8, timeout = 10 }
    "process-order" = { reserved_concurrent_executions = 2, timeout = 30 }
    "update-stock"  = { reserved_concurrent_executions = 2, timeout = 30 }
    "outbox-relay"  = { reserved_concurrent_executions = 1, timeout = 50 }
    "migrate-db"    = { reserved_concurrent_executions = 1, timeout = 300 }
  }
  api_routes                  = { "create-order" = 1, "get-orders" = 2, "cancel-order" = 1 }
  queue_consumers             = ["process-order", "update-stock"]
  scheduled                   = ["outbox-relay"]
  applied_once                = ["migrate-db"]
  sqs_maximum_concurrency     = 2
  api_throttling_rate_limit   = 25
  api_throttling_burst_limit  = 8
  api_expected_duration_ms    = 250
  db_max_connections          = 2
  db_connection_margin        = 15
  db_instance_max_connections = 170
}

run "reserved_defaults_fit_the_budget" {
  command = plan

  assert {
    condition     = output.worst_case_db_connections == 167 && output.db_budget_ok
    error_message = "Reserved defaults: expected 2 x 38 x 2 + 15 = 167 <= 170, got ${output.worst_case_db_connections}."
  }

  assert {
    condition     = length(output.api_capacity_shortfalls) == 0 && output.api_required_concurrency["get-orders"] == 16
    error_message = "Reserved defaults: the throttle must fit the reservations (get-orders needs 16)."
  }
}

run "without_reservations_the_invokers_bound_the_same_budget" {
  command = plan

  variables {
    settings = {
      "create-order"  = { reserved_concurrent_executions = -1, timeout = 10 }
      "get-orders"    = { reserved_concurrent_executions = -1, timeout = 10 }
      "cancel-order"  = { reserved_concurrent_executions = -1, timeout = 10 }
      "process-order" = { reserved_concurrent_executions = -1, timeout = 30 }
      "update-stock"  = { reserved_concurrent_executions = -1, timeout = 30 }
      "outbox-relay"  = { reserved_concurrent_executions = -1, timeout = 50 }
      "migrate-db"    = { reserved_concurrent_executions = -1, timeout = 300 }
    }
  }

  assert {
    condition = output.concurrency_bound == {
      "create-order" = 8, "get-orders" = 16, "cancel-order" = 8, "process-order" = 2, "update-stock" = 2,
      "outbox-relay" = 1, "migrate-db" = 1
    }
    error_message = "Unreserved bounds: API by throttle, consumers by maximum_concurrency, relay by schedule, migrate-db once."
  }

  assert {
    condition     = output.worst_case_db_connections == 167 && output.db_budget_ok && length(output.api_capacity_shortfalls) == 0
    error_message = "Unreserved defaults: expected 167 <= 170 and no shortfall, got ${output.worst_case_db_connections}."
  }
}

run "without_reservations_a_higher_throttle_breaks_the_budget" {
  command = plan

  variables {
    settings = {
      "create-order"  = { reserved_concurrent_executions = -1, timeout = 10 }
      "get-orders"    = { reserved_concurrent_executions = -1, timeout = 10 }
      "cancel-order"  = { reserved_concurrent_executions = -1, timeout = 10 }
      "process-order" = { reserved_concurrent_executions = -1, timeout = 30 }
      "update-stock"  = { reserved_concurrent_executions = -1, timeout = 30 }
      "outbox-relay"  = { reserved_concurrent_executions = -1, timeout = 50 }
      "migrate-db"    = { reserved_concurrent_executions = -1, timeout = 300 }
    }
    api_throttling_rate_limit  = 50
    api_throttling_burst_limit = 10
  }

  assert {
    condition     = output.worst_case_db_connections == 247 && !output.db_budget_ok
    error_message = "50 r/s, burst 10: 13 per method, 2 x (13 + 26 + 13 + 2 + 2 + 1 + 1) x 2 + 15 = 247 > 170; got ${output.worst_case_db_connections}."
  }
}

run "a_function_nothing_bounds_breaks_the_budget" {
  command = plan

  variables {
    settings = {
      "create-order"  = { reserved_concurrent_executions = 8, timeout = 10 }
      "get-orders"    = { reserved_concurrent_executions = 16, timeout = 10 }
      "cancel-order"  = { reserved_concurrent_executions = 8, timeout = 10 }
      "process-order" = { reserved_concurrent_executions = 2, timeout = 30 }
      "update-stock"  = { reserved_concurrent_executions = 2, timeout = 30 }
      "outbox-relay"  = { reserved_concurrent_executions = 1, timeout = 50 }
      "migrate-db"    = { reserved_concurrent_executions = 1, timeout = 300 }
      "report"        = { reserved_concurrent_executions = -1, timeout = 60 }
    }
  }

  assert {
    condition     = output.concurrency_bound["report"] == 10000 && !output.db_budget_ok
    error_message = "An unreserved function no invoker bounds must count as unbounded."
  }
}

run "a_schedule_slower_than_its_runs_counts_the_overlap" {
  command = plan

  variables {
    settings = {
      "create-order"  = { reserved_concurrent_executions = 8, timeout = 10 }
      "get-orders"    = { reserved_concurrent_executions = 16, timeout = 10 }
      "cancel-order"  = { reserved_concurrent_executions = 8, timeout = 10 }
      "process-order" = { reserved_concurrent_executions = 2, timeout = 30 }
      "update-stock"  = { reserved_concurrent_executions = 2, timeout = 30 }
      "outbox-relay"  = { reserved_concurrent_executions = -1, timeout = 150 }
      "migrate-db"    = { reserved_concurrent_executions = 1, timeout = 300 }
    }
  }

  assert {
    condition     = output.concurrency_bound["outbox-relay"] == 3
    error_message = "A 150 s relay on a one-minute schedule overlaps 3 runs."
  }
}

run "a_reservation_below_the_throttle_is_a_shortfall" {
  command = plan

  variables {
    api_throttling_burst_limit = 12
  }

  assert {
    condition     = length(output.api_capacity_shortfalls) == 3 && contains(output.api_capacity_shortfalls, "get-orders needs 24 (reserved 16)")
    error_message = "Burst 12 needs 12 per method: every API function falls short."
  }
}

run "rds_proxy_skips_the_budget" {
  command = plan

  variables {
    create_db_proxy             = true
    db_instance_max_connections = 25
  }

  assert {
    condition     = output.db_budget_ok
    error_message = "With RDS Proxy the budget is not checked."
  }
}
