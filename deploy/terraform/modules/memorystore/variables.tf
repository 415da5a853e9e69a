variable "project_id" {
  type        = string
  description = "GCP project id."
}

variable "region" {
  type        = string
  description = "Region of the instance (same as Cloud Run)."
}

variable "name" {
  type        = string
  description = "Instance id, e.g. fusionprime-dev-broker."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,39}$", var.name))
    error_message = "name must be 1-40 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "network_id" {
  type        = string
  description = "VPC id with private services access."
}

variable "tier" {
  type        = string
  description = "BASIC (single node, dev) or STANDARD_HA (replica with automatic failover)."
  default     = "STANDARD_HA"
  validation {
    condition     = contains(["BASIC", "STANDARD_HA"], var.tier)
    error_message = "tier must be BASIC or STANDARD_HA."
  }
}

variable "memory_size_gb" {
  type        = number
  description = "Memory of the instance in GB."
  default     = 1
  validation {
    condition     = var.memory_size_gb >= 1 && var.memory_size_gb <= 300
    error_message = "memory_size_gb must be between 1 and 300."
  }
}

variable "redis_version" {
  type        = string
  description = "Redis version (Celery 5.7 and kombu support 6.x and 7.x)."
  default     = "REDIS_7_2"
  validation {
    condition     = can(regex("^REDIS_(6_X|7_[0-9])$", var.redis_version))
    error_message = "redis_version must be REDIS_6_X or REDIS_7_x."
  }
}

variable "ca_path" {
  type        = string
  description = "Path at which Cloud Run mounts the instance's server CA certificate; written into the broker and cache URLs."
  default     = "/etc/redis-tls/ca.pem"
  validation {
    condition     = startswith(var.ca_path, "/")
    error_message = "ca_path must be absolute."
  }
}

variable "labels" {
  type        = map(string)
  description = "Labels applied to the instance."
  default     = {}
}
