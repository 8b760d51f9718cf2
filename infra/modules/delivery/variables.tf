variable "name" {
  type        = string
  description = "Name prefix of the stack (<name>-<environment>): the CodeDeploy application, its role and alarms are named after it, and the pipeline's apply role may manage only resources that carry it."
}

# --- Gradual rollout ------------------------------------------------------------------------------------

variable "create_codedeploy" {
  type        = bool
  description = "Create the CodeDeploy application, its service role and one deployment group per function in function_names."
  default     = true
}

variable "function_names" {
  type        = map(string)
  description = "Deployed name of each function whose live alias CodeDeploy shifts, by logical function name."
}

variable "alias_name" {
  type        = string
  description = "Alias CodeDeploy shifts (the one the triggers invoke)."
}

variable "api_functions" {
  type        = list(string)
  description = "Logical names of the functions behind API Gateway: each gets a p99 latency alarm that stops its release."

  validation {
    condition     = alltrue([for name in var.api_functions : contains(keys(var.function_names), name)])
    error_message = "api_functions names a function that is not in function_names."
  }
}

variable "deployment_config_name" {
  type        = string
  description = "How CodeDeploy shifts traffic to a new version (a CodeDeployDefault.Lambda* configuration)."
  default     = "CodeDeployDefault.LambdaCanary10Percent5Minutes"
}

variable "api_5xx_alarm_name" {
  type        = string
  description = "The API's 5XX alarm: any release stops and rolls back when it fires."
}

variable "function_error_alarm_names" {
  type        = map(string)
  description = "Each function's Errors alarm by logical function name: its release stops and rolls back when it fires."

  validation {
    condition     = alltrue([for name in keys(var.function_names) : contains(keys(var.function_error_alarm_names), name)])
    error_message = "function_error_alarm_names needs an alarm for every function in function_names."
  }
}

variable "dlq_alarm_names" {
  type        = list(string)
  description = "The DLQ alarms: any release stops and rolls back when one fires."
}

variable "latency_p99_alarm_ms" {
  type        = number
  description = "Alarm (and stop a release) when an API function's p99 duration stays above this many milliseconds."
  default     = 1000

  validation {
    condition     = var.latency_p99_alarm_ms > 0
    error_message = "latency_p99_alarm_ms must be positive."
  }
}

variable "alarm_actions" {
  type        = list(string)
  description = "Where the latency alarms notify (the stack's alarm topic)."
}

variable "runbook_url" {
  type        = string
  description = "Where on-call finds the runbook; the latency alarm's description appends #api-latency."
}

# --- The pipeline's access: GitHub Actions OIDC ---------------------------------------------------------

variable "create_github_roles" {
  type        = bool
  description = "Create the three roles GitHub Actions assumes through OIDC (publish images, plan, apply)."
  default     = false
}

variable "create_github_oidc_provider" {
  type        = bool
  description = "Create the account's token.actions.githubusercontent.com OIDC provider (there is one per account: false when another stack owns it, then set github_oidc_provider_arn)."
  default     = true
}

variable "github_oidc_provider_arn" {
  type        = string
  description = "ARN of an existing GitHub OIDC provider, used when create_github_oidc_provider is false."
  default     = ""
}

variable "github_repository" {
  type        = string
  description = "The repository (owner/name) whose workflow may assume the roles."
  default     = ""

  validation {
    condition     = var.github_repository == "" || can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be owner/name."
  }
}

variable "github_branch" {
  type        = string
  description = "The only branch whose jobs may publish images and plan."
  default     = "main"
}

variable "github_environment" {
  type        = string
  description = "The GitHub environment (with required reviewers, deployments from github_branch only) whose jobs may apply."
  default     = "production"
}

variable "state_bucket" {
  type        = string
  description = "S3 bucket of the Terraform state the pipeline uses (created outside this stack)."
  default     = ""
}

variable "state_key" {
  type        = string
  description = "Key of the Terraform state object in state_bucket (its lock file is <key>.tflock)."
  default     = ""
}

variable "ecr_repository_arns" {
  type        = list(string)
  description = "The function image repositories the publish role may push to."
  default     = []
}

variable "kms_key_arn" {
  type        = string
  description = "The stack key (secrets, logs, queues, images): the plan role reads the secrets it encrypts, the apply role administers it."
  default     = ""
}
