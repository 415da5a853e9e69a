# --- What makes one environment differ from another (set by the root in envs/<env>) -------------
variable "environment" {
  type        = string
  description = "Environment name: the env label on every resource and SENTRY_ENVIRONMENT."
  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,15}$", var.environment))
    error_message = "environment must be 2-16 lower-case letters and digits (it is a label value)."
  }
}

variable "name" {
  type        = string
  description = "Name prefix of this environment's resources (fusionprime-<environment>)."
  validation {
    # The deployer account id is substr(name, 0, 20)-deployer; service account ids stop at 30.
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}$", var.name))
    error_message = "name must be lower-case letters, digits and hyphens, 3-41 characters."
  }
}

variable "cloudsql_tier" {
  type        = string
  description = "Cloud SQL machine tier (db-custom-CPUS-MEMORY_MB or a db-perf-optimized-* tier)."
  validation {
    condition     = can(regex("^db-[a-z0-9-]+$", var.cloudsql_tier))
    error_message = "cloudsql_tier must be a Cloud SQL tier name such as db-custom-2-7680."
  }
}

variable "cloudsql_availability_type" {
  type        = string
  description = "REGIONAL (HA, a standby in a second zone) or ZONAL."
  validation {
    condition     = contains(["REGIONAL", "ZONAL"], var.cloudsql_availability_type)
    error_message = "cloudsql_availability_type must be REGIONAL or ZONAL."
  }
}

variable "cloudsql_max_connections" {
  type        = number
  description = "PostgreSQL max_connections; must cover the Cloud Run tiers at full scale (checked in main.tf)."
  validation {
    condition     = var.cloudsql_max_connections >= 25 && var.cloudsql_max_connections <= 10000 && floor(var.cloudsql_max_connections) == var.cloudsql_max_connections
    error_message = "cloudsql_max_connections must be a whole number between 25 and 10000."
  }
}

variable "redis_tier" {
  type        = string
  description = "Memorystore tier: BASIC (one node) or STANDARD_HA (replica with automatic failover)."
  validation {
    condition     = contains(["BASIC", "STANDARD_HA"], var.redis_tier)
    error_message = "redis_tier must be BASIC or STANDARD_HA."
  }
}

variable "web_min_instances" {
  type        = number
  description = "Warm web instances (0 = scale to zero)."
  validation {
    condition     = var.web_min_instances >= 0 && floor(var.web_min_instances) == var.web_min_instances
    error_message = "web_min_instances must be a whole number >= 0."
  }
}

variable "web_max_instances" {
  type        = number
  description = "Web autoscaling ceiling; with the gunicorn threads it sets the connection budget."
  validation {
    condition     = var.web_max_instances >= 1 && floor(var.web_max_instances) == var.web_max_instances
    error_message = "web_max_instances must be a whole number >= 1."
  }
}

variable "worker_instances" {
  type        = number
  description = "Celery worker instances (beat always runs exactly one)."
  validation {
    condition     = var.worker_instances >= 1 && floor(var.worker_instances) == var.worker_instances
    error_message = "worker_instances must be a whole number >= 1."
  }
}

variable "deletion_protection" {
  type        = bool
  description = "Protect stateful resources and services from deletion."
}

variable "waf_preview" {
  type        = bool
  description = "Cloud Armor WAF rules only log (true) instead of blocking (false)."
}

# --- Per installation (terraform.tfvars of the root) ---------------------------------------------
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
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]$", var.region))
    error_message = "region must be a GCP region such as europe-west1."
  }
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
  nullable    = false
}

variable "admin_allowed_cidrs" {
  type        = list(string)
  description = "Ranges allowed to reach /admin through Cloud Armor."
  validation {
    condition     = length(var.admin_allowed_cidrs) > 0 && alltrue([for cidr in var.admin_allowed_cidrs : can(cidrhost(cidr, 0))])
    error_message = "Name at least one range (office or VPN egress), each in CIDR notation."
  }
}

variable "alert_emails" {
  type        = list(string)
  description = "Who receives SLO and operational alerts."
  validation {
    condition     = length(var.alert_emails) > 0 && alltrue([for email in var.alert_emails : can(regex("^[^@\\s]+@[^@\\s]+$", email))])
    error_message = "Name at least one alert address; each must be an e-mail address."
  }
}

variable "ops_emails" {
  type        = list(string)
  description = "Addresses the app notifies about failing or disabled webhook endpoints (WEBHOOKS_OPS_EMAILS)."
  default     = []
  nullable    = false
  validation {
    condition     = alltrue([for email in var.ops_emails : can(regex("^[^@\\s]+@[^@\\s]+$", email))])
    error_message = "ops_emails must be e-mail addresses."
  }
}

variable "default_from_email" {
  type        = string
  description = "Sender of the app's e-mails (DEFAULT_FROM_EMAIL)."
  default     = "fusionprime@localhost"
  nullable    = false
}

variable "enable_sentry" {
  type        = bool
  description = "Inject SENTRY_DSN from Secret Manager (add a version to the sentry-dsn secret first)."
  default     = false
  nullable    = false
}

variable "launch_pipeline" {
  type        = bool
  description = "Launch the Dataflow job from Terraform; set after Cloud Build wrote the Flex Template spec once."
  default     = false
  nullable    = false
}
