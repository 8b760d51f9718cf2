#!/usr/bin/env bash
# The pipeline's terraform init: the state lives in S3 (TF_STATE_BUCKET, TF_STATE_KEY, AWS_REGION), locked
# with Terraform's S3 lock file. infra/ itself declares no backend (a manual deploy keeps local state,
# docs/deploy.md), so the backend comes from an override file that exists only on the runner.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${TF_STATE_BUCKET:?set the repository variable TF_STATE_BUCKET}"
: "${TF_STATE_KEY:?set the repository variable TF_STATE_KEY}"
: "${AWS_REGION:?set the repository variable AWS_REGION}"

cat > infra/backend_override.tf <<'HCL'
terraform {
  backend "s3" {}
}
HCL

terraform -chdir=infra init -input=false \
  -backend-config="bucket=${TF_STATE_BUCKET}" \
  -backend-config="key=${TF_STATE_KEY}" \
  -backend-config="region=${AWS_REGION}" \
  -backend-config="encrypt=true" \
  -backend-config="use_lockfile=true"
