data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

resource "aws_ecr_repository" "this" {
  for_each = toset(var.repositories)

  name                 = "${var.name_prefix}/${each.key}"
  image_tag_mutability = "IMMUTABLE"
  force_delete         = var.enable_force_delete

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key_arn
  }
}

# Only untagged images expire. Tags are immutable and every deploy names a tag (image_tag) or the digest of
# a tagged push, so an image a function runs, or that Terraform or a rollback may still reference, is never
# untagged and never expires. A count rule ("keep the newest N") could not tell them apart: a pinned older tag
# or image_tag_overrides entry would be expired while a function still runs it, and Lambda then fails the
# function when it next has to pull the image. Untagged ones are pushes that were never tagged (aborted or
# by-digest builds). Old tagged images are removed by hand (docs/deploy.md, "Old images").
resource "aws_ecr_lifecycle_policy" "retention" {
  for_each = aws_ecr_repository.this

  repository = each.value.name

  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Expire untagged images (never referenced by a deploy)"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = var.untagged_image_expiry_days
        }
        action = { type = "expire" }
      },
    ]
  })
}

# Lambda pulls the image with its service principal; only this account's functions may.
data "aws_iam_policy_document" "lambda_pull" {
  statement {
    sid     = "LambdaPullsImagesOfThisAccount"
    actions = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    condition {
      test     = "StringLike"
      variable = "aws:sourceArn"
      values   = ["arn:${data.aws_partition.current.partition}:lambda:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:function:${var.name_prefix}-*"]
    }
  }
}

resource "aws_ecr_repository_policy" "lambda_pull" {
  for_each = aws_ecr_repository.this

  repository = each.value.name
  policy     = data.aws_iam_policy_document.lambda_pull.json
}
