output "repository_urls" {
  description = "Repository URLs by function name (push <url>:<tag>)."
  value       = { for name, repository in aws_ecr_repository.this : name => repository.repository_url }
}

output "repository_arns" {
  description = "Repository ARNs by function name."
  value       = { for name, repository in aws_ecr_repository.this : name => repository.arn }
}
