variable "project_id" {
  type        = string
  description = "The GCP project of this environment."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a valid GCP project id."
  }
}

variable "project_number" {
  type        = string
  description = "The project's number (gcloud projects describe PROJECT --format='value(projectNumber)')."
  validation {
    condition     = can(regex("^[0-9]{6,20}$", var.project_number))
    error_message = "project_number must be numeric."
  }
}

variable "region" {
  type        = string
  description = "Region of every regional resource."
  default     = "europe-west1"
}

variable "name" {
  type        = string
  description = "Name prefix of this environment's resources."
  default     = "fusionprime-staging"
}

variable "image" {
  type        = string
  description = "Image the services are created with (Cloud Build deploys later tags)."
  validation {
    condition     = can(regex("^[a-z0-9.-]+-docker\\.pkg\\.dev/.+/.+:.+$", var.image))
    error_message = "image must be an Artifact Registry image with a tag."
  }
}

variable "domains" {
  type        = list(string)
  description = "Host names of the API and admin (HTTPS load balancer + Cloud Armor). Empty = run.app URL only."
  default     = []
}

variable "admin_allowed_cidrs" {
  type        = list(string)
  description = "Ranges allowed to reach /admin through Cloud Armor."
  validation {
    condition     = length(var.admin_allowed_cidrs) > 0
    error_message = "Name at least one range (office or VPN egress)."
  }
}

variable "alert_emails" {
  type        = list(string)
  description = "Who receives SLO and operational alerts."
}

variable "ops_emails" {
  type        = list(string)
  description = "Addresses the app notifies about failing or disabled webhook endpoints (WEBHOOKS_OPS_EMAILS)."
  default     = []
}

variable "default_from_email" {
  type        = string
  description = "Sender of the app's e-mails (DEFAULT_FROM_EMAIL)."
  default     = "fusionprime@localhost"
}

variable "enable_sentry" {
  type        = bool
  description = "Inject SENTRY_DSN from Secret Manager (add a version to the sentry-dsn secret first)."
  default     = false
}

variable "launch_pipeline" {
  type        = bool
  description = "Launch the Dataflow job from Terraform; set after Cloud Build wrote the Flex Template spec once."
  default     = false
}

variable "cloudsql_tier" {
  type        = string
  description = "Cloud SQL machine tier."
  default     = "db-custom-2-7680"
}

variable "cloudsql_availability_type" {
  type        = string
  description = "REGIONAL (HA) or ZONAL."
  default     = "REGIONAL"
}

variable "cloudsql_max_connections" {
  type        = number
  description = "PostgreSQL max_connections; must cover the Cloud Run tiers at full scale (checked below)."
  default     = 400
}

variable "redis_tier" {
  type        = string
  description = "Memorystore tier (BASIC or STANDARD_HA)."
  default     = "STANDARD_HA"
}

variable "web_min_instances" {
  type        = number
  description = "Warm web instances."
  default     = 1
}

variable "web_max_instances" {
  type        = number
  description = "Web autoscaling ceiling."
  default     = 10
}

variable "worker_instances" {
  type        = number
  description = "Celery worker instances."
  default     = 2
}

variable "deletion_protection" {
  type        = bool
  description = "Protect stateful resources and services from deletion."
  default     = true
}
