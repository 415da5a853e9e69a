variable "project_id" {
  type        = string
  description = "GCP project id."
}

variable "region" {
  type        = string
  description = "Region of the instance; the HA standby is placed in another zone of it."
}

variable "name" {
  type        = string
  description = "Instance name, e.g. fusionprime-dev-pg (names cannot be reused for a week after deletion)."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,84}$", var.name))
    error_message = "name must start with a letter and contain only lower-case letters, digits and hyphens."
  }
}

variable "network_id" {
  type        = string
  description = "VPC id with private services access; the instance gets a private IP only."
}

variable "database_version" {
  type        = string
  description = "Cloud SQL PostgreSQL version."
  default     = "POSTGRES_15"
  validation {
    condition     = var.database_version == "POSTGRES_15"
    error_message = "The application is tested on PostgreSQL 15; change this together with the test matrix."
  }
}

variable "tier" {
  type        = string
  description = "Machine tier, e.g. db-custom-2-7680 (2 vCPU, 7.5 GB)."
  default     = "db-custom-2-7680"
  validation {
    condition     = can(regex("^db-(custom-[0-9]+-[0-9]+|perf-optimized-N-[0-9]+)$", var.tier))
    error_message = "tier must be a dedicated-core tier (db-custom-CPU-MEMORY); shared-core tiers have no SLA."
  }
}

variable "availability_type" {
  type        = string
  description = "REGIONAL (HA with automatic failover to a standby in another zone) or ZONAL (dev only)."
  default     = "REGIONAL"
  validation {
    condition     = contains(["REGIONAL", "ZONAL"], var.availability_type)
    error_message = "availability_type must be REGIONAL or ZONAL."
  }
}

variable "disk_size_gb" {
  type        = number
  description = "Initial SSD size; it grows automatically up to disk_autoresize_limit_gb."
  default     = 50
  validation {
    condition     = var.disk_size_gb >= 10 && var.disk_size_gb <= 65536
    error_message = "disk_size_gb must be between 10 and 65536."
  }
}

variable "disk_autoresize_limit_gb" {
  type        = number
  description = "Upper bound for automatic storage growth (0 = no limit)."
  default     = 500
  validation {
    condition     = var.disk_autoresize_limit_gb >= 0
    error_message = "disk_autoresize_limit_gb must not be negative."
  }
}

variable "max_connections" {
  type        = number
  description = "PostgreSQL max_connections. Size it for (web instances x gunicorn workers x threads) + (worker instances x concurrency) + beat + migrations + headroom; see the connection budget check in the environment root."
  default     = 400
  validation {
    condition     = var.max_connections >= 50 && var.max_connections <= 4000
    error_message = "max_connections must be between 50 and 4000."
  }
}

variable "backup_start_time" {
  type        = string
  description = "UTC HH:MM at which the daily automated backup starts."
  default     = "02:00"
  validation {
    condition     = can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]$", var.backup_start_time))
    error_message = "backup_start_time must be HH:MM (24 h, UTC)."
  }
}

variable "retained_backups" {
  type        = number
  description = "Number of daily automated backups kept."
  default     = 14
  validation {
    condition     = var.retained_backups >= 7 && var.retained_backups <= 365
    error_message = "retained_backups must be between 7 and 365."
  }
}

variable "pitr_log_retention_days" {
  type        = number
  description = "Days of write-ahead log kept for point-in-time recovery (Enterprise edition: 1-7)."
  default     = 7
  validation {
    condition     = var.pitr_log_retention_days >= 1 && var.pitr_log_retention_days <= 7
    error_message = "pitr_log_retention_days must be between 1 and 7."
  }
}

variable "maintenance_day" {
  type        = number
  description = "Day of week for maintenance (1 = Monday … 7 = Sunday)."
  default     = 7
  validation {
    condition     = var.maintenance_day >= 1 && var.maintenance_day <= 7
    error_message = "maintenance_day must be 1-7."
  }
}

variable "maintenance_hour" {
  type        = number
  description = "UTC hour for maintenance."
  default     = 3
  validation {
    condition     = var.maintenance_hour >= 0 && var.maintenance_hour <= 23
    error_message = "maintenance_hour must be 0-23."
  }
}

variable "database_name" {
  type        = string
  description = "The application database."
  default     = "fusionprime"
  validation {
    condition     = can(regex("^[a-z_][a-z0-9_]{0,62}$", var.database_name))
    error_message = "database_name must be a plain PostgreSQL identifier."
  }
}

variable "app_users" {
  type        = list(string)
  description = "Exactly two login users the application alternates between, so the secret rotation function can change one password while the other is live (see deploy/README.md)."
  default     = ["fusionprime_a", "fusionprime_b"]
  validation {
    condition     = length(var.app_users) == 2 && length(distinct(var.app_users)) == 2
    error_message = "app_users must name exactly two distinct users."
  }
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse to delete the instance (Terraform and API). Keep true outside throwaway environments."
  default     = true
}

variable "labels" {
  type        = map(string)
  description = "Labels applied to the instance."
  default     = {}
}
