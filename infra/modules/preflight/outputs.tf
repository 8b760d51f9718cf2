output "failures" {
  description = "One text per failed check: what is wrong, then a `Fix:` line per way out (empty when all pass)."
  value       = local.failures
}
