data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  engine_major = split(".", var.engine_version)[0]
  log_exports  = ["postgresql", "upgrade"]
  secret_arn   = aws_db_instance.this.master_user_secret[0].secret_arn

  function_role_secret_arns = { for function, secret in aws_secretsmanager_secret.function_role : function => secret.arn }
}

# --- Function roles: one role per function (docs/deploy.md#database-roles) -----------------------------
# The migrations create the roles and their grants, each role a NOLOGIN group with two logins (`<role>_user`,
# `<role>_clone`); migrate-db, which alone holds the master secret, sets the password of the login a secret
# names after migrating, and rotates the secrets (infra/rotation.tf). Each function reads only its own secret.

resource "random_password" "function_role" {
  for_each = var.function_roles

  length  = 40
  special = false
}

resource "aws_secretsmanager_secret" "function_role" {
  #checkov:skip=CKV2_AWS_57:Rotation is configured in the root module (infra/rotation.tf: aws_secretsmanager_secret_rotation with migrate-db as the rotation function), which checkov does not link to this module's secret
  for_each = var.function_roles

  name        = "${var.name}/db/${each.key}"
  description = "PostgreSQL login of ${each.key}: a login of role ${each.value} (migrate-db sets its password from here and rotates it)"
  kms_key_id  = var.kms_key_arn
  # A deleted secret keeps its name for this many days: 0 lets a destroyed dev stack be re-created at once.
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret_version" "function_role" {
  for_each = var.function_roles

  # The first login of the role; rotation alternates it with `<role>_clone` and owns the value from then on.
  secret_id = aws_secretsmanager_secret.function_role[each.key].id
  secret_string = jsonencode({
    username = "${each.value}_user"
    password = random_password.function_role[each.key].result
  })

  lifecycle {
    ignore_changes = [secret_string]
  }
}

# Suffix of the final snapshot's identifier: new with every instance, so a destroy followed by a re-create
# does not collide with the snapshot the first destroy left.
resource "random_id" "final_snapshot" {
  byte_length = 4
}

resource "aws_db_subnet_group" "private" {
  name        = var.name
  description = "Private subnets of ${var.name}"
  subnet_ids  = var.subnet_ids
}

resource "aws_db_parameter_group" "postgres" {
  name_prefix = "${var.name}-"
  family      = "postgres${local.engine_major}"
  description = "TLS-only connections, connection budget and slow/DDL statement logging for ${var.name}"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  # Set, not derived from the instance memory, so the connection budget and its alarm have a known ceiling.
  # Static: a change waits for the next reboot.
  parameter {
    name         = "max_connections"
    value        = tostring(var.max_connections)
    apply_method = "pending-reboot"
  }

  # Frozen or superseded Lambda environments keep their sockets open; the server closes them after this.
  parameter {
    name  = "idle_session_timeout"
    value = tostring(var.idle_session_timeout_seconds * 1000)
  }

  parameter {
    name  = "idle_in_transaction_session_timeout"
    value = tostring(var.idle_in_transaction_session_timeout_seconds * 1000)
  }

  # DDL only: logging every statement would write order data into the logs.
  parameter {
    name  = "log_statement"
    value = "ddl"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = tostring(var.log_min_duration_statement_ms)
  }

  lifecycle {
    create_before_destroy = true
  }
}

# Created ahead of RDS so that retention and encryption are ours, not "never expire".
resource "aws_cloudwatch_log_group" "exports" {
  for_each = toset(local.log_exports)

  name              = "/aws/rds/instance/${var.name}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

data "aws_iam_policy_document" "monitoring_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "monitoring" {
  count = var.monitoring_interval > 0 ? 1 : 0

  name               = "${var.name}-rds-monitoring"
  assume_role_policy = data.aws_iam_policy_document.monitoring_assume.json
}

resource "aws_iam_role_policy_attachment" "monitoring" {
  count = var.monitoring_interval > 0 ? 1 : 0

  role       = aws_iam_role.monitoring[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

resource "aws_db_instance" "this" {
  identifier     = var.name
  engine         = "postgres"
  engine_version = var.engine_version
  instance_class = var.instance_class

  allocated_storage     = var.allocated_storage
  max_allocated_storage = var.max_allocated_storage
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = var.kms_key_arn

  db_name  = var.db_name
  username = var.master_username
  port     = var.port

  # RDS creates and rotates the password in a Secrets Manager secret ({"username", "password"}).
  manage_master_user_password   = true
  master_user_secret_kms_key_id = var.kms_key_arn

  iam_database_authentication_enabled = var.enable_iam_database_authentication

  db_subnet_group_name   = aws_db_subnet_group.private.name
  vpc_security_group_ids = [var.security_group_id]
  parameter_group_name   = aws_db_parameter_group.postgres.name
  publicly_accessible    = false
  multi_az               = var.enable_multi_az

  backup_retention_period    = var.backup_retention_days
  backup_window              = var.backup_window
  maintenance_window         = var.maintenance_window
  copy_tags_to_snapshot      = true
  delete_automated_backups   = false
  deletion_protection        = var.enable_deletion_protection
  skip_final_snapshot        = false
  final_snapshot_identifier  = "${var.name}-final-${random_id.final_snapshot.hex}"
  auto_minor_version_upgrade = true
  apply_immediately          = var.apply_immediately

  performance_insights_enabled          = var.enable_performance_insights
  performance_insights_kms_key_id       = var.enable_performance_insights ? var.kms_key_arn : null
  performance_insights_retention_period = var.enable_performance_insights ? 7 : null

  monitoring_interval = var.monitoring_interval
  monitoring_role_arn = var.monitoring_interval > 0 ? aws_iam_role.monitoring[0].arn : null

  enabled_cloudwatch_logs_exports = local.log_exports

  depends_on = [aws_cloudwatch_log_group.exports, aws_iam_role_policy_attachment.monitoring]
}

# --- Optional RDS Proxy ---------------------------------------------------------------------------

data "aws_iam_policy_document" "proxy_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["rds.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "proxy" {
  count = var.create_proxy ? 1 : 0

  statement {
    sid       = "ReadDatabaseSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = concat([local.secret_arn], values(local.function_role_secret_arns))
  }

  statement {
    sid       = "DecryptDatabaseSecret"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${data.aws_region.current.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "proxy" {
  count = var.create_proxy ? 1 : 0

  name               = "${var.name}-rds-proxy"
  assume_role_policy = data.aws_iam_policy_document.proxy_assume.json
}

resource "aws_iam_role_policy" "proxy" {
  count = var.create_proxy ? 1 : 0

  name   = "read-database-secret"
  role   = aws_iam_role.proxy[0].id
  policy = data.aws_iam_policy_document.proxy[0].json
}

resource "aws_cloudwatch_log_group" "proxy" {
  count = var.create_proxy ? 1 : 0

  name              = "/aws/rds/proxy/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_db_proxy" "proxy" {
  count = var.create_proxy ? 1 : 0

  name                   = var.name
  engine_family          = "POSTGRESQL"
  role_arn               = aws_iam_role.proxy[0].arn
  vpc_subnet_ids         = var.subnet_ids
  vpc_security_group_ids = [var.security_group_id]
  require_tls            = true
  debug_logging          = false
  idle_client_timeout    = 1800

  auth {
    auth_scheme               = "SECRETS"
    iam_auth                  = "DISABLED"
    client_password_auth_type = "POSTGRES_SCRAM_SHA_256"
    secret_arn                = local.secret_arn
    description               = "RDS-managed master user secret"
  }

  # The proxy logs in as whoever the client is, so it needs every function role's secret too.
  dynamic "auth" {
    for_each = local.function_role_secret_arns

    content {
      auth_scheme               = "SECRETS"
      iam_auth                  = "DISABLED"
      client_password_auth_type = "POSTGRES_SCRAM_SHA_256"
      secret_arn                = auth.value
      description               = "Login of ${auth.key}"
    }
  }

  depends_on = [aws_iam_role_policy.proxy, aws_cloudwatch_log_group.proxy]
}

resource "aws_db_proxy_default_target_group" "proxy" {
  count = var.create_proxy ? 1 : 0

  db_proxy_name = aws_db_proxy.proxy[0].name

  connection_pool_config {
    max_connections_percent      = 90
    max_idle_connections_percent = 50
    connection_borrow_timeout    = 120
  }
}

resource "aws_db_proxy_target" "proxy" {
  count = var.create_proxy ? 1 : 0

  db_proxy_name          = aws_db_proxy.proxy[0].name
  target_group_name      = aws_db_proxy_default_target_group.proxy[0].name
  db_instance_identifier = aws_db_instance.this.identifier
}
