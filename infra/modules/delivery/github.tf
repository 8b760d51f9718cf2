# The pipeline reaches AWS through GitHub's OIDC tokens, never stored keys, as three roles:
#   publish  build job on github_branch: push the function images to their ECR repositories;
#   plan     plan job on github_branch: read everything the plan refreshes, and the state;
#   apply    the job of the github_environment (required reviewers): change this stack, invoke migrate-db,
#            start the CodeDeploy deployments.
# A job's token names the branch (sub = repo:<repo>:ref:refs/heads/<branch>), or, for a job that runs in an
# environment, the environment instead (sub = repo:<repo>:environment:<name>): the environment's
# "deployment branches" rule is what keeps apply on github_branch (docs/deploy.md#the-pipeline-path).
# The roles are named gh-<name>-*, outside the <name>-* names the apply role may manage: the pipeline cannot
# widen its own access; changing these roles is an apply by an administrator.

locals {
  github_roles = var.create_github_roles ? {
    publish = "repo:${var.github_repository}:ref:refs/heads/${var.github_branch}"
    plan    = "repo:${var.github_repository}:ref:refs/heads/${var.github_branch}"
    apply   = "repo:${var.github_repository}:environment:${var.github_environment}"
  } : {}
  oidc_provider_arn = var.create_github_oidc_provider ? one(aws_iam_openid_connect_provider.github[*].arn) : var.github_oidc_provider_arn
  arn               = "arn:${local.partition}"
  state_object      = "${local.arn}:s3:::${var.state_bucket}/${var.state_key}"
}

# IAM trusts GitHub's certificate authority itself for this issuer: no thumbprint to keep.
resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_github_roles && var.create_github_oidc_provider ? 1 : 0

  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
}

data "aws_iam_policy_document" "github_assume" {
  for_each = local.github_roles

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = [each.value]
    }
  }
}

resource "aws_iam_role" "github" {
  for_each = local.github_roles

  name                 = "gh-${var.name}-${each.key}"
  description          = "GitHub Actions (${each.value}) ${each.key} for ${var.name}"
  assume_role_policy   = data.aws_iam_policy_document.github_assume[each.key].json
  max_session_duration = 3600

  lifecycle {
    precondition {
      condition     = var.github_repository != "" && var.state_bucket != "" && var.state_key != "" && local.oidc_provider_arn != ""
      error_message = "The GitHub roles need github_repository, the state bucket and key, and an OIDC provider (create_github_oidc_provider or github_oidc_provider_arn)."
    }
  }
}

# --- publish: push images ----------------------------------------------------------------------------

data "aws_iam_policy_document" "publish" {
  # GetAuthorizationToken has no resource: it returns a login for the registry; the repositories decide.
  statement {
    sid       = "LogInToTheRegistry"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  # DescribeImages: a re-run of a commit reuses the digests already pushed under its tag.
  statement {
    sid = "PushFunctionImages"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:DescribeImages",
      "ecr:GetDownloadUrlForLayer",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = length(var.ecr_repository_arns) > 0 ? var.ecr_repository_arns : ["${local.arn}:ecr:${local.region}:${local.account}:repository/${var.name}/*"]
  }
}

# --- plan: read ------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "state" {
  statement {
    sid       = "ListTheStateBucket"
    actions   = ["s3:ListBucket"]
    resources = ["${local.arn}:s3:::${var.state_bucket}"]
  }

  statement {
    sid       = "ReadTheState"
    actions   = ["s3:GetObject"]
    resources = [local.state_object]
  }

  # Terraform's S3 lock file (use_lockfile): plan takes the lock too.
  statement {
    sid       = "LockTheState"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${local.state_object}.tflock"]
  }
}

# The refresh reads the database role passwords Terraform generated (aws_secretsmanager_secret_version).
data "aws_iam_policy_document" "plan" {
  source_policy_documents = [data.aws_iam_policy_document.state.json]

  statement {
    sid       = "ReadTheStacksSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["${local.arn}:secretsmanager:${local.region}:${local.account}:secret:${var.name}/*"]
  }

  statement {
    sid       = "DecryptTheStacksSecrets"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy_attachment" "plan_read_only" {
  count = var.create_github_roles ? 1 : 0

  role       = aws_iam_role.github["plan"].name
  policy_arn = "${local.arn}:iam::aws:policy/ReadOnlyAccess"
}

resource "aws_iam_role_policy" "github" {
  for_each = local.github_roles

  name = each.key
  role = aws_iam_role.github[each.key].id
  policy = {
    publish = data.aws_iam_policy_document.publish.json
    plan    = data.aws_iam_policy_document.plan.json
    apply   = data.aws_iam_policy_document.apply.json
  }[each.key]
}
