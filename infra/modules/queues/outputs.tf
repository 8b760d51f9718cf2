output "queue_urls" {
  description = "Main queue URLs by logical name."
  value       = { for name, queue in aws_sqs_queue.this : name => queue.url }
}

output "queue_arns" {
  description = "Main queue ARNs by logical name."
  value       = { for name, queue in aws_sqs_queue.this : name => queue.arn }
}

output "queue_names" {
  description = "Main queue names by logical name."
  value       = { for name, queue in aws_sqs_queue.this : name => queue.name }
}

output "dlq_urls" {
  description = "DLQ URLs by logical name of their source queue."
  value       = { for name, queue in aws_sqs_queue.dlq : name => queue.url }
}

output "dlq_names" {
  description = "DLQ names by logical name of their source queue."
  value       = { for name, queue in aws_sqs_queue.dlq : name => queue.name }
}

output "dlq_alarm_names" {
  description = "Name of each DLQ's not-empty alarm, by logical name of its source queue."
  value       = { for name, alarm in aws_cloudwatch_metric_alarm.dlq_not_empty : name => alarm.alarm_name }
}
