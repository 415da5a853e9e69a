variable "project_id" {
  type        = string
  description = "GCP project id."
}

variable "project_number" {
  type        = string
  description = "GCP project number (identifies the Secret Manager service agent)."
  validation {
    condition     = can(regex("^[0-9]{6,20}$", var.project_number))
    error_message = "project_number must be the numeric project number."
  }
}

variable "region" {
  type        = string
  description = "Region of the rotation function."
}

variable "name" {
  type        = string
  description = "Name prefix, e.g. fusionprime-dev."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}$", var.name))
    error_message = "name must be lower-case letters, digits and hyphens."
  }
}

variable "secrets" {
  type = map(object({
    description = string
  }))
  description = "Secret Manager secrets to create, keyed by secret id (values are added out of band or by the rotation function, never in Terraform code)."
  validation {
    condition     = alltrue([for id in keys(var.secrets) : can(regex("^[a-z][a-z0-9-]{1,254}$", id))])
    error_message = "secret ids must be lower-case letters, digits and hyphens."
  }
}

variable "database_url_secret_id" {
  type        = string
  description = "The secret holding DATABASE_URL, rotated on a schedule by the rotation function. Must be a key of secrets."
  default     = "database-url"
}

variable "rotation_period" {
  type        = string
  description = "How often Secret Manager asks for a new database password (seconds, at least 1 day)."
  default     = "2592000s"
  validation {
    condition     = can(regex("^[0-9]+s$", var.rotation_period)) && tonumber(trimsuffix(var.rotation_period, "s")) >= 86400
    error_message = "rotation_period must be at least 86400s."
  }
}

variable "rotation_min_interval_seconds" {
  type        = number
  description = "A rotation is refused if the previous one is younger than this: instances still on the previous user must have been rolled first."
  default     = 3600
  validation {
    condition     = var.rotation_min_interval_seconds >= 600
    error_message = "rotation_min_interval_seconds must be at least 600."
  }
}

variable "cloudsql_instance_name" {
  type        = string
  description = "Cloud SQL instance whose application users are rotated."
}

variable "cloudsql_connection_name" {
  type        = string
  description = "project:region:instance; DATABASE_URL points at /cloudsql/<connection_name>."
}

variable "database_name" {
  type        = string
  description = "Application database name written into DATABASE_URL."
}

variable "database_users" {
  type        = list(string)
  description = "The two application users the rotation alternates between."
  validation {
    condition     = length(var.database_users) == 2
    error_message = "database_users must name exactly two users."
  }
}

variable "restart_resources" {
  type        = list(string)
  description = "Cloud Run services and worker pools (projects/…/locations/…/services|workerPools/…) rolled to a new revision after a rotation, so every instance moves to the new user."
  default     = []
}

variable "runtime_service_account_ids" {
  type        = map(string)
  description = "Full ids of the runtime service accounts of restart_resources; the function may act as them to roll revisions. Keys are static labels."
  default     = {}
}

variable "function_source_dir" {
  type        = string
  description = "Directory of the rotation function's source. null = deploy/functions/secret_rotation of this repository."
  default     = null
}

variable "api_security_policy_name" {
  type        = string
  description = "Name of the Cloud Armor policy attached to the API's backend service."
  default     = "fusionprime-api"
}

variable "admin_allowed_cidrs" {
  type        = list(string)
  description = "Source ranges allowed to reach /admin (office or VPN egress). Everyone else gets 403 there."
  validation {
    condition     = length(var.admin_allowed_cidrs) > 0 && length(var.admin_allowed_cidrs) <= 10 && alltrue([for cidr in var.admin_allowed_cidrs : can(cidrhost(cidr, 0))])
    error_message = "admin_allowed_cidrs must list 1-10 valid CIDRs (one Cloud Armor expression holds at most 10 inIpRange calls)."
  }
}

variable "rate_limit_per_client" {
  type = object({
    requests     = number
    interval_sec = number
    ban_sec      = number
  })
  description = "Per-client rate limit at the edge, keyed by the Authorization header (the API key); a client over it is banned for ban_sec. Set above the app's own API_RATE_LIMIT so the app's 429s stay the normal signal."
  default = {
    requests     = 3000
    interval_sec = 60
    ban_sec      = 300
  }
  validation {
    condition     = var.rate_limit_per_client.requests > 0 && contains([10, 30, 60, 120, 180, 240, 300, 600, 900, 1200, 1800, 2700, 3600], var.rate_limit_per_client.interval_sec) && var.rate_limit_per_client.ban_sec >= 60
    error_message = "requests must be positive, interval_sec one of Cloud Armor's allowed intervals, ban_sec at least 60."
  }
}

variable "rate_limit_per_ip" {
  type        = number
  description = "Requests per minute from one IP address without an API key (admin, docs, schemas, health)."
  default     = 600
  validation {
    condition     = var.rate_limit_per_ip >= 60
    error_message = "rate_limit_per_ip must be at least 60."
  }
}

variable "waf_sensitivity" {
  type        = number
  description = "Sensitivity level of the OWASP preconfigured WAF rules (1 = fewest false positives, 4 = strictest)."
  default     = 1
  validation {
    condition     = var.waf_sensitivity >= 1 && var.waf_sensitivity <= 4
    error_message = "waf_sensitivity must be 1-4."
  }
}

variable "labels" {
  type        = map(string)
  description = "Labels applied to secrets, the bucket and the function."
  default     = {}
}

variable "waf_preview" {
  type        = bool
  description = "Run the OWASP rules in preview (log only) — for the first days of a new environment, to find false positives on legitimate API bodies before enforcing."
  default     = false
}
