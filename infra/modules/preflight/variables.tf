variable "region" {
  type        = string
  description = "Region the stack deploys to (named in the messages and the fix commands)."
}

variable "concurrency_limit" {
  type        = number
  description = "The account's Lambda concurrent executions in the region (Service Quotas lambda/L-B99A9384)."
}

variable "reserved_concurrency" {
  type        = number
  description = "Sum of the functions' reserved concurrency (unreserved functions count 0)."
}

variable "available_zones" {
  type        = list(string)
  description = "Names of the region's availability zones in state available."
}

variable "requested_zones" {
  type        = list(string)
  description = "Zones the configuration names (var.availability_zones); empty when Terraform picks them."
  default     = []
}

variable "zones_needed" {
  type        = number
  description = "Zones the network spans when requested_zones is empty (the root's availability_zone_count); RDS needs 2."
  default     = 2
}

variable "enforce" {
  type        = bool
  description = "Fail the plan on any failure (false only in tests, to read the messages from the output)."
  default     = true
}
