variable "project_id" {
  type        = string
  description = "GCP project id."
}

variable "region" {
  type        = string
  description = "Dataflow region (same as Pub/Sub consumers and the BigQuery dataset's region)."
}

variable "name" {
  type        = string
  description = "Name prefix, e.g. fusionprime-dev; the job is <name>-risk-pipeline."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}$", var.name))
    error_message = "name must be lower-case letters, digits and hyphens."
  }
}

variable "template_gcs_path" {
  type        = string
  description = "gs:// path of the Flex Template spec written by Cloud Build (gcloud dataflow flex-template build). null = gs://<bucket>/templates/risk-pipeline.json in this module's bucket."
  default     = null
  validation {
    condition     = var.template_gcs_path == null || can(regex("^gs://.+\\.json$", var.template_gcs_path))
    error_message = "template_gcs_path must be a gs:// path to a .json spec."
  }
}

variable "launch_job" {
  type        = bool
  description = "Launch the streaming job from Terraform. False until Cloud Build has written the template spec once (deploy/README.md, step order)."
  default     = false
}

variable "input_subscription_id" {
  type        = string
  description = "Full id (projects/…/subscriptions/…) of the subscription the pipeline reads."
  validation {
    condition     = can(regex("^projects/[^/]+/subscriptions/[^/]+$", var.input_subscription_id))
    error_message = "input_subscription_id must be projects/PROJECT/subscriptions/NAME."
  }
}

variable "output_dataset" {
  type        = string
  description = "BigQuery dataset the pipeline writes (the bigquery_risk module's dataset_id)."
}

variable "subnetwork_self_link" {
  type        = string
  description = "Subnet for workers (no public IPs; Private Google Access reaches Pub/Sub and BigQuery)."
}

variable "sdk_container_image" {
  type        = string
  description = "The application image, also used as the workers' SDK container (it carries Beam's boot binary)."
}

variable "machine_type" {
  type        = string
  description = "Worker machine type."
  default     = "n2-standard-2"
}

variable "min_workers" {
  type        = number
  description = "Workers at start and the autoscaling floor."
  default     = 2
  validation {
    condition     = var.min_workers >= 1 && var.min_workers <= 100
    error_message = "min_workers must be 1-100."
  }
}

variable "max_workers" {
  type        = number
  description = "Autoscaling ceiling."
  default     = 10
  validation {
    condition     = var.max_workers >= 1 && var.max_workers <= 1000
    error_message = "max_workers must be 1-1000."
  }
}

variable "window_seconds" {
  type        = number
  description = "Exposure window size (the pipeline's --window_seconds)."
  default     = 60
  validation {
    condition     = var.window_seconds >= 10 && var.window_seconds <= 86400
    error_message = "window_seconds must be 10-86400."
  }
}

variable "allowed_lateness_seconds" {
  type        = number
  description = "How long late events still update a window (--allowed_lateness_seconds)."
  default     = 600
  validation {
    condition     = var.allowed_lateness_seconds >= 0
    error_message = "allowed_lateness_seconds must not be negative."
  }
}

variable "labels" {
  type        = map(string)
  description = "Labels applied to the bucket and the job."
  default     = {}
}
