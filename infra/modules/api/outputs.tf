output "invoke_url" {
  description = "Base URL of the stage, e.g. https://<id>.execute-api.<region>.amazonaws.com/v1."
  value       = aws_api_gateway_stage.current.invoke_url
}

output "rest_api_id" {
  description = "Id of the REST API."
  value       = aws_api_gateway_rest_api.this.id
}

output "name" {
  description = "Name of the REST API (the ApiName metric dimension)."
  value       = aws_api_gateway_rest_api.this.name
}

output "stage_name" {
  description = "Stage name."
  value       = aws_api_gateway_stage.current.stage_name
}

output "execution_arn" {
  description = "Execution ARN of the API."
  value       = aws_api_gateway_rest_api.this.execution_arn
}

output "web_acl_arn" {
  description = "WAF web ACL ARN, or null when WAF is off."
  value       = var.enable_waf ? aws_wafv2_web_acl.api[0].arn : null
}
