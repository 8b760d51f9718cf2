variable "name" {
  type        = string
  description = "Name prefix for the VPC and everything in it."
}

variable "cidr_block" {
  type        = string
  description = "CIDR block of the VPC."
  default     = "10.20.0.0/16"

  validation {
    condition     = can(cidrhost(var.cidr_block, 0))
    error_message = "cidr_block must be a valid IPv4 CIDR."
  }
}

variable "availability_zones" {
  type        = list(string)
  description = "Availability zone names with one private subnet each (RDS needs at least 2)."

  validation {
    condition     = length(var.availability_zones) >= 2
    error_message = "availability_zones must name at least 2 zones."
  }
}

variable "subnet_newbits" {
  type        = number
  description = "Bits added to the VPC prefix for each private subnet (16 + 4 = /20 subnets)."
  default     = 4
}

variable "database_port" {
  type        = number
  description = "TCP port the functions use to reach PostgreSQL (or RDS Proxy)."
  default     = 5432
}

variable "enable_flow_logs" {
  type        = bool
  description = "Send VPC flow logs to an encrypted CloudWatch log group."
  default     = true
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the flow-log group."
  default     = 365
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key that encrypts the flow-log group."
}
