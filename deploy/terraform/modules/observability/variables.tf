variable "project_id" {
  type        = string
  description = "GCP project id."
}

variable "name" {
  type        = string
  description = "Name prefix, e.g. fusionprime-dev (dashboard, SLO service and alert names)."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}$", var.name))
    error_message = "name must be lower-case letters, digits and hyphens."
  }
}

variable "audit_dataset_location" {
  type        = string
  description = "BigQuery location of the audit log dataset."
}

variable "audit_log_retention_days" {
  type        = number
  description = "Days audit log partitions are kept in BigQuery."
  default     = 400
  validation {
    condition     = var.audit_log_retention_days >= 90
    error_message = "Keep audit logs at least 90 days."
  }
}

variable "alert_emails" {
  type        = list(string)
  description = "Who is notified by SLO burn-rate and operational alerts."
  validation {
    condition     = length(var.alert_emails) > 0 && alltrue([for e in var.alert_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "alert_emails must list at least one valid e-mail address."
  }
}

variable "web_service_name" {
  type        = string
  description = "Cloud Run service of the API (availability and latency SLOs)."
}

variable "pipeline_job_name" {
  type        = string
  description = "Dataflow job name of the risk pipeline (lag SLO)."
}

variable "pipeline_subscription" {
  type        = string
  description = "Short name of the pipeline's Pub/Sub subscription (backlog alert)."
}

variable "dead_letter_subscriptions" {
  type        = map(string)
  description = "Dead-letter hold subscriptions (short names) keyed by a static label; any message there alerts."
  default     = {}
}

variable "rotation_function_name" {
  type        = string
  description = "Name of the secret rotation function (failure alert)."
}

variable "cloudsql_instance_id" {
  type        = string
  description = "project:instance id of Cloud SQL, as Cloud Monitoring labels it (database_id)."
}

variable "health_check_host" {
  type        = string
  description = "Public host name probed by the uptime check on /healthz; null = no uptime check (no domain yet)."
  default     = null
}

variable "slo_goals" {
  type = object({
    api_availability = number
    api_latency      = number
    webhook_success  = number
    pipeline_lag     = number
    relayer_lag      = number
  })
  description = "SLO targets as fractions of good events or good minutes over 28 days."
  default = {
    api_availability = 0.995
    api_latency      = 0.95
    webhook_success  = 0.99
    pipeline_lag     = 0.95
    relayer_lag      = 0.95
  }
  validation {
    condition     = alltrue([for goal in values(var.slo_goals) : goal > 0.5 && goal < 1])
    error_message = "Every SLO goal must be between 0.5 and 1 (exclusive)."
  }
}

variable "latency_threshold_ms" {
  type        = number
  description = "An API request is good if served within this many milliseconds (p95 < 500 ms)."
  default     = 500
  validation {
    condition     = var.latency_threshold_ms > 0
    error_message = "latency_threshold_ms must be positive."
  }
}

variable "pipeline_lag_threshold_s" {
  type        = number
  description = "A minute is good if the pipeline's mean system lag stays below this many seconds."
  default     = 10
  validation {
    condition     = var.pipeline_lag_threshold_s > 0
    error_message = "pipeline_lag_threshold_s must be positive."
  }
}

variable "relayer_lag_threshold_s" {
  type        = number
  description = "A relayer tick is good if the chain head it reached is less than this many seconds behind."
  default     = 60
  validation {
    condition     = var.relayer_lag_threshold_s > 0
    error_message = "relayer_lag_threshold_s must be positive."
  }
}

variable "webhook_success_log_filter" {
  type        = string
  description = "Cloud Logging filter matching one entry per successful webhook attempt (the app's structured JSON logs)."
  default     = "jsonPayload.message=\"webhook.delivery_succeeded\""
}

variable "webhook_failure_log_filter" {
  type        = string
  description = "Cloud Logging filter matching one entry per failed webhook attempt."
  default     = "jsonPayload.message=\"webhook.delivery_failed\""
}

variable "relayer_lag_log_filter" {
  type        = string
  description = "Cloud Logging filter matching one entry per relayer tick that carries jsonPayload.lag_seconds."
  default     = "jsonPayload.message=\"relayer.tick\" AND jsonPayload.lag_seconds>=0"
}

variable "backlog_age_alert_seconds" {
  type        = number
  description = "Alert when the pipeline subscription's oldest unacked message is older than this."
  default     = 300
  validation {
    condition     = var.backlog_age_alert_seconds >= 60
    error_message = "backlog_age_alert_seconds must be at least 60."
  }
}

variable "cloudsql_max_connections" {
  type        = number
  description = "The instance's max_connections flag; the alert fires at 80 % of it."
  validation {
    condition     = var.cloudsql_max_connections >= 50
    error_message = "cloudsql_max_connections must be at least 50."
  }
}
