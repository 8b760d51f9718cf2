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

output "api_5xx_alarm_name" {
  description = "Name of the API 5XX alarm (a release rolls back when it fires during the shift)."
  value       = aws_cloudwatch_metric_alarm.api_5xx.alarm_name
}

output "function_error_alarm_names" {
  description = "Name of each function's Errors alarm, by logical function name."
  value       = { for name, alarm in aws_cloudwatch_metric_alarm.function_errors : name => alarm.alarm_name }
}
