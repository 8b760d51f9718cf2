locals {
  prefix = "${var.name}-${var.environment}"

  # The deployment table: which functions exist, what triggers each, the queues each publishes to, the database
  # role each logs in as. Generated from services/order-contract/src/topology.rs by `cargo xtask topology`; CI
  # fails when it is stale, so the code and Terraform cannot disagree about it.
  topology = jsondecode(file("${path.module}/topology.json"))

  # Functions Terraform deploys that no event reaches (not in the table): terraform apply invokes migrate-db
  # (aws_lambda_invocation below); operators invoke it by hand, e.g. with {"seed": true} for the demo catalogue.
  deploy_only_functions = ["migrate-db"]

  # What only Terraform knows about each function: its description and its own settings (env). The queue URL
  # variables, send_queues and the schedule come from the table.
  function_specs = {
    "create-order" = {
      description = "POST /orders: validates the order and stores it with its outbox row"
      env         = {}
    }
    "get-orders" = {
      description = "GET /orders and GET /orders/{id} for the signed-in customer"
      env         = {}
    }
    "cancel-order" = {
      description = "POST /orders/{id}/cancel: cancels the caller's pending or confirmed order"
      env         = {}
    }
    "process-order" = {
      description = "Consumes orders: reserves stock, confirms or rejects, publishes to stock"
      env         = {}
    }
    "update-stock" = {
      description = "Consumes stock: applies stock movements"
      env         = {}
    }
    "outbox-relay" = {
      description = "Every minute: republishes unpublished outbox rows, expires stale orders, reports the stall gauges"
      env = {
        OUTBOX_MIN_AGE_SECONDS = tostring(var.outbox_min_age_seconds)
        OUTBOX_BATCH_SIZE      = tostring(var.outbox_batch_size)
        ORDER_EXPIRY_MINUTES   = tostring(var.order_expiry_minutes)
        ORDER_STALL_MINUTES    = tostring(var.order_stall_minutes)
      }
    }
    "migrate-db" = {
      description = "Applies pending schema migrations and sets the function roles' passwords; {\"seed\": true} also loads the demo catalogue"
      env = {
        # Role => its secret: migrate-db sets each role's password from it after migrating.
        DB_ROLE_SECRET_ARNS = jsonencode({ for function, role in local.db_roles : role => module.database.function_role_secret_arns[function] })
      }
    }
  }

  # The functions and everything each one needs that differs from the others. The functions module
  # builds both the environment and the IAM policy of each function from this one map:
  #   env          function-specific environment: the URL variable of each queue the table says it publishes
  #                to, plus its spec's env (the shared DB_*/RUST_LOG/OTEL_* variables are added by the module);
  #   send_queues  queues the function may sqs:SendMessage to (SendMessageBatch included): the table's;
  #   schedule_expression  the table's EventBridge schedule, or null.
  # tests/contract/check_contract.py rebuilds this map from topology.json and function_specs the same way.
  functions = {
    for name in concat(keys(local.topology.functions), local.deploy_only_functions) : name => {
      description = local.function_specs[name].description
      env = merge(
        { for queue in try(local.topology.functions[name].publishes, []) : local.topology.queues[queue].url_variable => module.queues.queue_urls[queue] },
        local.function_specs[name].env,
      )
      send_queues         = try(local.topology.functions[name].publishes, [])
      schedule_expression = try(local.topology.functions[name].schedule_expression, null)
    }
  }

  # Function => the PostgreSQL role it logs in as: the migrations create exactly these (FUNCTION_ROLES in
  # migration/, named like the Rust table's db_role). migrate-db keeps the master user.
  db_roles = { for name, function in local.topology.functions : name => function.db_role }

  # Queue (logical name) => the one function that consumes it through an event source mapping.
  queue_consumers = { for queue, spec in local.topology.queues : queue => spec.consumer }

  # Reserved concurrency caps the AWS bill, the database connections and what the API may send (see the
  # capacity checks below and docs/deploy.md): an API function's reservation covers the stage's per-method
  # throttle for each of its routes; the consumers' covers sqs_maximum_concurrency.
  function_defaults = {
    "create-order"  = { memory_size = 256, timeout = 10, reserved_concurrent_executions = 8 }
    "get-orders"    = { memory_size = 256, timeout = 10, reserved_concurrent_executions = 16 } # two routes
    "cancel-order"  = { memory_size = 256, timeout = 10, reserved_concurrent_executions = 8 }
    "process-order" = { memory_size = 256, timeout = 30, reserved_concurrent_executions = 2 }
    "update-stock"  = { memory_size = 256, timeout = 30, reserved_concurrent_executions = 2 }
    # One relay at a time: overlapping runs would only race for the same outbox rows.
    "outbox-relay" = { memory_size = 256, timeout = 50, reserved_concurrent_executions = 1 }
    # One run at a time: sea-orm-migration takes no lock, so two concurrent runs could race on a migration.
    "migrate-db" = { memory_size = 256, timeout = 300, reserved_concurrent_executions = 1 }
  }

  # Small-account mode (enable_reserved_concurrency = false): no reservation at all, -1 = unreserved.
  function_settings = {
    for name, defaults in local.function_defaults : name => {
      memory_size                    = try(coalesce(var.function_overrides[name].memory_size), defaults.memory_size)
      timeout                        = try(coalesce(var.function_overrides[name].timeout), defaults.timeout)
      reserved_concurrent_executions = var.enable_reserved_concurrency ? try(coalesce(var.function_overrides[name].reserved_concurrent_executions), defaults.reserved_concurrent_executions) : -1
    }
  }

  # Sizing (docs/deploy.md#throttling, #connection-budget; docs/capacity.md): module.capacity works out each
  # function's concurrency bound (its reservation, or without one what its invoker allows), what the API
  # throttle needs, and the worst-case database connections; the checks below and output capacity use them.
  api_required_concurrency  = module.capacity.api_required_concurrency
  api_capacity_shortfalls   = module.capacity.api_capacity_shortfalls
  concurrency_bound         = module.capacity.concurrency_bound
  connection_generations    = module.capacity.connection_generations
  worst_case_db_connections = module.capacity.worst_case_db_connections
  db_budget_ok              = module.capacity.db_budget_ok

  # A tag, or a digest ("sha256:...") for a pinned deploy; the pipeline's digests (image_digests) win.
  image_refs = { for name in keys(local.function_defaults) : name => lookup(var.image_digests, name, lookup(var.image_tag_overrides, name, var.image_tag)) }
  image_uris = {
    for name, ref in local.image_refs : name => startswith(ref, "sha256:") ? "${module.registry.repository_urls[name]}@${ref}" : "${module.registry.repository_urls[name]}:${ref}"
  }

  # Released through CodeDeploy (a canary on the live alias, rolled back on alarm): every function with a
  # trigger. migrate-db has none; terraform apply invokes it before the workflow starts the shift.
  gradual_rollout_functions = [for name in keys(local.function_defaults) : name if name != "migrate-db"]
}

check "database_connection_budget" {
  assert {
    condition     = local.db_budget_ok
    error_message = "Up to ${local.worst_case_db_connections} database connections (${local.connection_generations} generations x concurrency (reserved, or bounded by the event sources and API throttles) x db_max_connections + db_connection_margin ${var.db_connection_margin}) exceed db_instance_max_connections (${var.db_instance_max_connections}): lower them, pick a larger db_instance_class and raise db_instance_max_connections, or set create_db_proxy."
  }
}

check "api_throttle_within_reserved_concurrency" {
  assert {
    condition     = length(local.api_capacity_shortfalls) == 0
    error_message = "The API throttle (${var.api_throttling_rate_limit} r/s, burst ${var.api_throttling_burst_limit} per method, ${var.api_expected_duration_ms} ms each) needs more concurrency than is reserved: ${join("; ", local.api_capacity_shortfalls)}. Callers would get 5xx from Lambda throttling instead of API Gateway's 429."
  }
}

# The image trusts the vendored RDS CA bundle (docker/rds-ca-global-bundle.pem, its certificates listed in
# docker/rds-ca-fingerprints.txt). A region whose root CA is not in it cannot pass verify-ca/verify-full:
# refresh the bundle first (docs/deploy.md, "The RDS CA bundle and its pins").
check "rds_ca_bundle_covers_region" {
  assert {
    condition     = !contains(["verify-ca", "verify-full"], var.db_ssl_mode) || strcontains(file("${path.module}/../docker/rds-ca-fingerprints.txt"), " Amazon RDS ${var.region} Root CA ")
    error_message = "The vendored RDS CA bundle (docker/rds-ca-fingerprints.txt) has no root CA for ${var.region}: the functions' verify-full TLS would fail. Refresh the bundle (docs/deploy.md, \"The RDS CA bundle and its pins\") before deploying there."
  }
}

# Pure arithmetic, tested offline (infra/modules/capacity/tests). API routes per function come from the
# rendered document: operations without a known function are refused by the openapi module itself.
module "capacity" {
  source = "./modules/capacity"

  settings = { for name, settings in local.function_settings : name => {
    reserved_concurrent_executions = settings.reserved_concurrent_executions
    timeout                        = settings.timeout
  } }
  api_routes = {
    for name in distinct([for operation in values(module.openapi.operations) : operation.operation_id if contains(keys(local.function_settings), coalesce(operation.operation_id, "-"))]) :
    name => length([for operation in values(module.openapi.operations) : operation if operation.operation_id == name])
  }
  queue_consumers             = values(local.queue_consumers)
  scheduled                   = [for name, function in local.functions : name if function.schedule_expression != null]
  applied_once                = ["migrate-db"]
  sqs_maximum_concurrency     = var.sqs_maximum_concurrency
  api_throttling_rate_limit   = var.api_throttling_rate_limit
  api_throttling_burst_limit  = var.api_throttling_burst_limit
  api_expected_duration_ms    = var.api_expected_duration_ms
  db_max_connections          = var.db_max_connections
  db_connection_margin        = var.db_connection_margin
  db_instance_max_connections = var.db_instance_max_connections
  create_db_proxy             = var.create_db_proxy
}

# Salt of the hashed customer id on spans (TELEMETRY_HASH_SALT). Generated once and kept in state, so a
# customer's hash stays the same across deploys (traces stay comparable) without anyone choosing a value;
# replace it (terraform apply -replace=random_id.telemetry_hash_salt) to unlink old hashes from new ones.
resource "random_id" "telemetry_hash_salt" {
  byte_length = 32
}

module "kms" {
  source = "./modules/kms"

  name        = local.prefix
  description = "Encrypts queues, logs, images, the database and its secret for ${local.prefix}"
}

# The region's zones that need no opt-in (no Local or Wavelength Zones: RDS and the interface endpoints are not
# offered there). The network takes the first availability_zone_count of them, by name, unless
# availability_zones names them; infra/preflight.tf checks the count before anything is created.
data "aws_availability_zones" "available" {
  #checkov:skip=CKV_AWS_394:Read to choose zones, not to spread over all of them: the network takes the first availability_zone_count names in sorted order (AWS names new zones with later letters) and pins those by name in its own data source; availability_zones pins them explicitly
  state = "available"

  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

module "network" {
  source = "./modules/network"

  name               = local.prefix
  cidr_block         = var.vpc_cidr_block
  availability_zones = length(var.availability_zones) > 0 ? var.availability_zones : slice(sort(data.aws_availability_zones.available.names), 0, min(var.availability_zone_count, length(data.aws_availability_zones.available.names)))
  database_port      = var.db_port
  enable_flow_logs   = var.enable_vpc_flow_logs
  log_retention_days = var.log_retention_days
  kms_key_arn        = module.kms.key_arn
}

module "database" {
  source = "./modules/database"

  name                               = local.prefix
  subnet_ids                         = module.network.private_subnet_ids
  security_group_id                  = module.network.database_security_group_id
  kms_key_arn                        = module.kms.key_arn
  engine_version                     = var.db_engine_version
  instance_class                     = var.db_instance_class
  allocated_storage                  = var.db_allocated_storage
  max_allocated_storage              = var.db_max_allocated_storage
  db_name                            = var.db_name
  master_username                    = var.db_master_username
  port                               = var.db_port
  enable_multi_az                    = var.enable_db_multi_az
  backup_retention_days              = var.db_backup_retention_days
  enable_deletion_protection         = var.enable_db_deletion_protection
  enable_performance_insights        = var.enable_db_performance_insights
  enable_iam_database_authentication = var.enable_db_iam_authentication
  max_connections                    = var.db_instance_max_connections
  idle_session_timeout_seconds       = var.db_idle_session_timeout_seconds
  create_proxy                       = var.create_db_proxy
  log_retention_days                 = var.log_retention_days
  function_roles                     = local.db_roles
  secret_recovery_window_days        = var.secret_recovery_window_days
}

module "queues" {
  source = "./modules/queues"

  name_prefix = local.prefix
  # AWS: a Lambda source queue's visibility timeout should be at least 6x the function timeout
  # (plus the batching window), so a message is not redelivered while a retry is still running.
  queues = {
    for queue, consumer in local.queue_consumers : queue => {
      visibility_timeout_seconds = 6 * local.function_settings[consumer].timeout + var.sqs_maximum_batching_window_seconds
    }
  }
  max_receive_count                    = var.sqs_max_receive_count
  kms_key_arn                          = module.kms.key_arn
  oldest_message_age_threshold_seconds = var.queue_age_alarm_threshold_seconds
  alarm_actions                        = [module.observability.alarm_topic_arn]
  runbook_url                          = var.runbook_url
}

module "registry" {
  source = "./modules/registry"

  name_prefix                = local.prefix
  repositories               = keys(local.function_defaults)
  kms_key_arn                = module.kms.key_arn
  untagged_image_expiry_days = var.ecr_untagged_image_expiry_days
  enable_force_delete        = var.enable_ecr_force_delete
}

module "functions" {
  source = "./modules/functions"

  name_prefix   = local.prefix
  functions     = local.functions
  settings      = local.function_settings
  image_uris    = local.image_uris
  event_sources = { for queue, consumer in local.queue_consumers : consumer => queue }
  queue_arns    = module.queues.queue_arns
  architecture  = var.architecture

  gradual_rollout_functions = local.gradual_rollout_functions

  subnet_ids         = module.network.private_subnet_ids
  security_group_ids = [module.network.function_security_group_id]
  kms_key_arn        = module.kms.key_arn

  # Each function logs in as its own role with its own secret; only migrate-db holds the master secret, and it
  # reads the roles' secrets to set their passwords (docs/deploy.md#database-roles).
  database = {
    secret_arns = merge(module.database.function_role_secret_arns, { "migrate-db" = module.database.master_user_secret_arn })
    host        = module.database.host
    port        = module.database.port
    name        = module.database.db_name
  }
  extra_secret_reads = { "migrate-db" = values(module.database.function_role_secret_arns) }
  db_max_connections = var.db_max_connections
  db_ssl_mode        = var.db_ssl_mode
  db_ssl_root_cert   = var.db_ssl_root_cert

  rust_log                      = var.rust_log
  otel_exporter_otlp_endpoint   = var.otel_exporter_otlp_endpoint
  otel_exporter_otlp_timeout_ms = var.otel_exporter_otlp_timeout_ms
  telemetry_hash_salt           = random_id.telemetry_hash_salt.b64_std
  otel_traces_sampler           = var.otel_traces_sampler
  otel_resource_attributes      = "deployment.environment.name=${var.environment},service.namespace=${var.name}"
  enable_xray_tracing           = var.enable_xray_tracing
  log_retention_days            = var.log_retention_days

  sqs_batch_size                      = var.sqs_batch_size
  sqs_maximum_batching_window_seconds = var.sqs_maximum_batching_window_seconds
  sqs_maximum_concurrency             = var.sqs_maximum_concurrency

  # First apply: the functions after Transaction Search (their first spans are accepted), the consumers and the
  # relay's schedule after migrate-db has run (nothing fails for want of a table or a role).
  create_after = module.observability.transaction_search_ids
  start_after  = aws_lambda_invocation.migrate_db[*].id
}

# Applies pending migrations during terraform apply, each time the migrate-db image changes (a new tag or
# digest), after the functions are updated. A failed migration fails the apply with the function's error;
# the next apply invokes it again. Tables must therefore stay compatible with the code that is already live
# (expand, deploy, then contract), as the other functions run the new image before this runs.
resource "aws_lambda_invocation" "migrate_db" {
  count = var.enable_migrations_on_apply ? 1 : 0

  function_name = module.functions.function_names["migrate-db"]
  input         = jsonencode({ seed = false })

  # Runs again for a new image, and when a role secret's Terraform-written version changes (a new stack, or
  # the first apply after a secret was recreated); rotation itself writes versions Terraform ignores.
  triggers = {
    image_uri    = local.image_uris["migrate-db"]
    role_secrets = jsonencode(module.database.function_role_secret_versions)
  }

  # The function reaches the secret and the database through the VPC endpoints and security group rules.
  depends_on = [module.network, module.database]
}

module "auth" {
  source = "./modules/auth"

  name                          = local.prefix
  enable_deletion_protection    = var.enable_user_pool_deletion_protection
  mfa_configuration             = var.mfa_configuration
  enable_self_sign_up           = coalesce(var.enable_self_sign_up, var.ses_email_source_arn != "")
  ses_email_source_arn          = var.ses_email_source_arn
  ses_from_email_address        = var.ses_from_email_address
  enable_refresh_token_rotation = var.enable_refresh_token_rotation
}

# The API is the same document as docs/openapi.yaml, with the AWS extensions merged in here.
module "openapi" {
  source = "./modules/openapi"

  openapi_document     = file("${path.module}/../docs/openapi.yaml")
  function_invoke_arns = module.functions.alias_invoke_arns
  user_pool_arns       = [module.auth.user_pool_arn]
}

module "api" {
  source = "./modules/api"

  name                           = local.prefix
  body                           = module.openapi.body
  operations                     = module.openapi.operations
  function_names                 = module.functions.function_names
  function_qualifier             = module.functions.alias_name
  stage_name                     = var.api_stage_name
  enable_xray_tracing            = var.enable_xray_tracing
  throttling_burst_limit         = var.api_throttling_burst_limit
  throttling_rate_limit          = var.api_throttling_rate_limit
  log_retention_days             = var.log_retention_days
  kms_key_arn                    = module.kms.key_arn
  create_account_cloudwatch_role = var.create_api_gateway_account_role
  enable_waf                     = var.enable_waf
}

module "observability" {
  source = "./modules/observability"

  name           = local.prefix
  kms_key_arn    = module.kms.key_arn
  alarm_email    = var.alarm_email
  api_name       = module.api.name
  api_stage_name = module.api.stage_name
  function_names = module.functions.function_names
  queue_names    = module.queues.queue_names
  dlq_names      = module.queues.dlq_names

  db_instance_identifier     = module.database.instance_identifier
  db_max_connections         = module.database.max_connections
  db_connections_alarm_share = var.db_connections_alarm_share
  outbox_age_alarm_minutes   = var.outbox_age_alarm_minutes
  runbook_url                = var.runbook_url

  enable_transaction_search              = var.enable_transaction_search
  transaction_search_indexing_percentage = var.transaction_search_indexing_percentage
}

# The release path: CodeDeploy shifts the live aliases (canary, rollback on alarm), and GitHub Actions reaches
# AWS through OIDC roles (docs/deploy.md#the-pipeline-path).
module "delivery" {
  source = "./modules/delivery"

  name           = local.prefix
  function_names = { for name in local.gradual_rollout_functions : name => module.functions.function_names[name] }
  alias_name     = module.functions.alias_name
  api_functions  = compact(distinct([for operation in values(module.openapi.operations) : operation.operation_id]))

  api_5xx_alarm_name         = module.observability.api_5xx_alarm_name
  function_error_alarm_names = module.observability.function_error_alarm_names
  dlq_alarm_names            = values(module.queues.dlq_alarm_names)
  latency_p99_alarm_ms       = var.api_latency_p99_alarm_ms
  alarm_actions              = [module.observability.alarm_topic_arn]
  runbook_url                = var.runbook_url

  create_github_roles         = var.github_repository != ""
  create_github_oidc_provider = var.create_github_oidc_provider
  github_oidc_provider_arn    = var.github_oidc_provider_arn
  github_repository           = var.github_repository
  github_environment          = var.github_environment
  state_bucket                = var.terraform_state_bucket
  state_key                   = var.terraform_state_key
  ecr_repository_arns         = values(module.registry.repository_arns)
  kms_key_arn                 = module.kms.key_arn
}
