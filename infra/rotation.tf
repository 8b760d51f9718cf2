# --- Password rotation of the function roles (docs/operations.md#rotating-database-passwords) ----------------
# Secrets Manager's alternating-users scheme: each function role is a NOLOGIN group with two logins
# (`<role>_user`, `<role>_clone`; migration m20261207_000007). migrate-db, which alone holds the master secret and
# reaches the database, is the rotation function: it sets a new password on the login NOT in use, tests it,
# then moves AWSCURRENT to it (services/migrate-db/src/rotation.rs). The login a function holds keeps working,
# so no request fails; after the next rotation its next login is refused and it fetches the secret again.

locals {
  # The secrets to rotate, by function (none when rotation is off).
  rotated_secrets = var.enable_db_password_rotation ? module.database.function_role_secret_arns : {}
  # migrate-db's execution role, by name (the functions module exports ARNs).
  migrate_db_role_name = reverse(split("/", module.functions.role_arns["migrate-db"]))[0]
}

# Secrets Manager may invoke migrate-db for these secrets only.
resource "aws_lambda_permission" "rotate_function_role_secret" {
  for_each = local.rotated_secrets

  statement_id  = "AllowSecretsManagerRotation-${each.key}"
  action        = "lambda:InvokeFunction"
  function_name = module.functions.function_names["migrate-db"]
  principal     = "secretsmanager.amazonaws.com"
  source_arn    = each.value
}

data "aws_iam_policy_document" "rotate_function_role_secrets" {
  statement {
    sid = "RotateFunctionRoleSecrets"
    actions = [
      "secretsmanager:DescribeSecret",
      "secretsmanager:GetSecretValue",
      "secretsmanager:PutSecretValue",
      "secretsmanager:UpdateSecretVersionStage",
    ]
    resources = values(module.database.function_role_secret_arns)
  }

  # GetRandomPassword has no resource: IAM only accepts "*" for it.
  statement {
    sid       = "GeneratePasswords"
    actions   = ["secretsmanager:GetRandomPassword"]
    resources = ["*"]
  }

  # A new secret version is encrypted with the stack's key.
  statement {
    sid       = "EncryptNewSecretVersions"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [module.kms.key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${var.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "rotate_function_role_secrets" {
  count = var.enable_db_password_rotation ? 1 : 0

  name   = "rotate-function-role-secrets"
  role   = local.migrate_db_role_name
  policy = data.aws_iam_policy_document.rotate_function_role_secrets.json
}

resource "aws_secretsmanager_secret_rotation" "function_role" {
  for_each = local.rotated_secrets

  secret_id           = each.value
  rotation_lambda_arn = module.functions.function_arns["migrate-db"]
  # The first rotation waits for the schedule: migrate-db must have created the logins first.
  rotate_immediately = false

  rotation_rules {
    schedule_expression = var.db_password_rotation_schedule
  }

  depends_on = [
    aws_lambda_permission.rotate_function_role_secret,
    aws_iam_role_policy.rotate_function_role_secrets,
    aws_lambda_invocation.migrate_db,
  ]
}
