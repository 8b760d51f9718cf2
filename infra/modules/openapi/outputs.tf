output "body" {
  description = "JSON body for aws_api_gateway_rest_api."
  value       = jsonencode(local.body)

  precondition {
    condition     = length(local.operations) > 0
    error_message = "The OpenAPI document has no operations."
  }

  precondition {
    condition     = length(local.missing_operation_ids) == 0
    error_message = "Operations without an operationId: ${join(", ", local.missing_operation_ids)}."
  }

  precondition {
    condition     = length(local.unknown_operation_ids) == 0
    error_message = "operationIds with no function of that name: ${join(", ", local.unknown_operation_ids)}."
  }

  precondition {
    condition     = length(local.unknown_security_names) == 0
    error_message = "Security schemes other than ${var.security_scheme_name} are not wired: ${join(", ", local.unknown_security_names)}."
  }
}

output "operations" {
  description = "Operations keyed by \"METHOD /path\": path, method, operation_id and security scheme names."
  value       = local.operations
}

output "function_names" {
  description = "Function names referenced by operationIds (the functions API Gateway may invoke)."
  value       = local.operation_ids
}
