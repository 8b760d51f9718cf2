output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "alarm_topic_arn" {
  description = "SNS topic every alarm of the stack notifies."
  value       = aws_sns_topic.alarms.arn
}

output "transaction_search_ids" {
  description = "Id of the Transaction Search trace segment destination (empty when enable_transaction_search is off): the functions are created after it."
  value       = aws_xray_trace_segment_destination.transaction_search[*].id
}
