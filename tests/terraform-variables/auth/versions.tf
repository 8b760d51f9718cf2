# infra/modules/auth/variables.tf alone (variables.tf is a symlink to it): its validations need no provider, so
# `terraform test` proves them offline (tests/auth-variables.tftest.hcl).
terraform {
  required_version = ">= 1.9"
}
