# Per-installation values (terraform.tfvars). Validation and defaults live in modules/stack: null
# here means "the stack's default".
variable "project_id" {
  type        = string
  description = "The GCP project of this environment."
}

variable "project_number" {
  type        = string
  description = "The project's number (gcloud projects describe PROJECT --format='value(projectNumber)')."
}

variable "region" {
  type        = string
  description = "Region of every regional resource (also the providers' default region)."
  default     = "europe-west1"
}

variable "image" {
  type        = string
  description = "Image the services are created with (Cloud Build deploys later tags)."
}

variable "domains" {
  type        = list(string)
  description = "Host names of the API and admin (HTTPS load balancer + Cloud Armor). Empty/null = run.app URL only."
  default     = null
}

variable "admin_allowed_cidrs" {
  type        = list(string)
  description = "Ranges allowed to reach /admin through Cloud Armor."
}

variable "alert_emails" {
  type        = list(string)
  description = "Who receives SLO and operational alerts."
}

variable "ops_emails" {
  type        = list(string)
  description = "Addresses the app notifies about failing or disabled webhook endpoints (WEBHOOKS_OPS_EMAILS)."
  default     = null
}

variable "default_from_email" {
  type        = string
  description = "Sender of the app's e-mails (DEFAULT_FROM_EMAIL)."
  default     = null
}

variable "enable_sentry" {
  type        = bool
  description = "Inject SENTRY_DSN from Secret Manager (add a version to the sentry-dsn secret first)."
  default     = null
}

variable "launch_pipeline" {
  type        = bool
  description = "Launch the Dataflow job from Terraform; set after Cloud Build wrote the Flex Template spec once."
  default     = null
}
