# Pure module: no provider, so `terraform init && terraform test` work offline.
terraform {
  required_version = ">= 1.9"
}
