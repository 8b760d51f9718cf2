variable "openapi_document" {
  type        = string
  description = "The OpenAPI document (YAML or JSON text), e.g. file(\"../docs/openapi.yaml\")."
}

variable "function_invoke_arns" {
  type        = map(string)
  description = "Lambda invoke ARNs by function name; every operationId must be a key."
}

variable "user_pool_arns" {
  type        = list(string)
  description = "Cognito user pools whose tokens the authorizer accepts."

  validation {
    condition     = length(var.user_pool_arns) > 0
    error_message = "user_pool_arns must name at least one user pool."
  }
}

variable "security_scheme_name" {
  type        = string
  description = "Name of the security scheme operations use for the Cognito authorizer."
  default     = "cognito"
}

variable "integration_timeout_milliseconds" {
  type        = number
  description = "API Gateway integration timeout (50-29000 ms)."
  default     = 29000
}

variable "problem_type_base_url" {
  type        = string
  description = "Prefix of the RFC 9457 problem type URIs (the slug is appended), as in docs/openapi.yaml."
  default     = "https://problems.orders.example/"
}
