terraform {
  # 1.10: the S3 backend's own lock file (use_lockfile), no DynamoDB table.
  required_version = ">= 1.10"

  # State in S3, encrypted, versioned, locked; bucket, key and region come from backend.hcl at init
  # (docs/deploy.md, "2. Remote state").
  backend "s3" {}

  required_providers {
    # 6.46 added aws_xray_trace_segment_destination and aws_xray_indexing_rule (Transaction Search).
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.46"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.7"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = var.name
      Environment = var.environment
      ManagedBy   = "terraform"
    }
  }
}
