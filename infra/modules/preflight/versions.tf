# No provider: the root module reads AWS (infra/preflight.tf) and passes the figures in, so
# `terraform init && terraform test` work offline. terraform_data is built into Terraform.
terraform {
  required_version = ">= 1.9"
}
