output "vpc_id" {
  description = "Id of the VPC."
  value       = aws_vpc.this.id
}

output "private_subnet_ids" {
  description = "Ids of the private subnets, one per availability zone."
  value       = [for subnet in aws_subnet.private : subnet.id]
}

output "function_security_group_id" {
  description = "Security group for the Lambda functions."
  value       = aws_security_group.function.id
}

output "database_security_group_id" {
  description = "Security group for RDS and RDS Proxy."
  value       = aws_security_group.database.id
}

output "endpoint_security_group_id" {
  description = "Security group of the interface endpoints."
  value       = aws_security_group.endpoints.id
}

output "vpc_endpoint_ids" {
  description = "Interface endpoint ids by service (sqs, secretsmanager, logs, xray)."
  value       = { for service, endpoint in aws_vpc_endpoint.interface : service => endpoint.id }
}
