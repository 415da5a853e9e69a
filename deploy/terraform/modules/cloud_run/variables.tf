variable "project_id" {
  type        = string
  description = "GCP project id."
}

variable "region" {
  type        = string
  description = "Region of the services, worker pools and the migrate job."
}

variable "name" {
  type        = string
  description = "Name prefix, e.g. fusionprime-dev: services are <name>-web, worker pools <name>-worker and <name>-beat, the job <name>-migrate."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}$", var.name))
    error_message = "name must be lower-case letters, digits and hyphens (3-41)."
  }
}

variable "image" {
  type        = string
  description = "Initial container image (Artifact Registry path with a tag). Cloud Build deploys later images; Terraform ignores image changes after creation."
  validation {
    condition     = can(regex("^[a-z0-9.-]+-docker\\.pkg\\.dev/.+/.+:.+$", var.image))
    error_message = "image must be an Artifact Registry image reference with a tag (REGION-docker.pkg.dev/PROJECT/REPO/IMAGE:TAG)."
  }
}

variable "network" {
  type        = string
  description = "VPC name for direct VPC egress (reaches Cloud SQL's and Memorystore's private IPs)."
}

variable "subnetwork" {
  type        = string
  description = "Subnet name for direct VPC egress."
}

variable "cloudsql_connection_name" {
  type        = string
  description = "project:region:instance, mounted at /cloudsql/<connection_name> in every role."
  validation {
    condition     = can(regex("^[a-z0-9-]+:[a-z0-9-]+:[a-z0-9-]+$", var.cloudsql_connection_name))
    error_message = "cloudsql_connection_name must be project:region:instance."
  }
}

variable "env" {
  type        = map(string)
  description = "Plain environment variables for every role (non-secret settings only). Names must be settings the app reads; tests/deploy checks it."
  default     = {}
  validation {
    condition     = alltrue([for name in keys(var.env) : can(regex("^[A-Z][A-Z0-9_]*$", name))])
    error_message = "env names must be upper-case identifiers."
  }
}

variable "secret_env" {
  type        = map(string)
  description = "Environment variables taken from Secret Manager at instance start (latest version): env name => secret id."
  default     = {}
  validation {
    condition     = alltrue([for name in keys(var.secret_env) : can(regex("^[A-Z][A-Z0-9_]*$", name))])
    error_message = "secret_env names must be upper-case identifiers."
  }
}

variable "secret_files" {
  type = map(object({
    secret_id  = string
    mount_path = string
    file_name  = string
  }))
  description = "Secrets mounted as files (e.g. the Redis server CA): volume name => secret and where it appears."
  default     = {}
}

variable "web_min_instances" {
  type        = number
  description = "Web instances kept warm (no cold start on the first request)."
  default     = 1
  validation {
    condition     = var.web_min_instances >= 0 && var.web_min_instances <= 100
    error_message = "web_min_instances must be 0-100."
  }
}

variable "web_max_instances" {
  type        = number
  description = "Upper bound of web autoscaling; bounds the database connections the web tier can open."
  default     = 10
  validation {
    condition     = var.web_max_instances >= 1 && var.web_max_instances <= 1000
    error_message = "web_max_instances must be 1-1000."
  }
}

variable "gunicorn_workers" {
  type        = number
  description = "Gunicorn worker processes per web instance (GUNICORN_WORKERS); about one per vCPU."
  default     = 2
  validation {
    condition     = var.gunicorn_workers >= 1 && var.gunicorn_workers <= 16
    error_message = "gunicorn_workers must be 1-16."
  }
}

variable "gunicorn_threads" {
  type        = number
  description = "Threads per gunicorn worker (GUNICORN_THREADS); Cloud Run concurrency is workers x threads."
  default     = 8
  validation {
    condition     = var.gunicorn_threads >= 1 && var.gunicorn_threads <= 64
    error_message = "gunicorn_threads must be 1-64."
  }
}

variable "request_timeout_seconds" {
  type        = number
  description = "Per-request timeout, both Cloud Run's and gunicorn's (GUNICORN_TIMEOUT)."
  default     = 60
  validation {
    condition     = var.request_timeout_seconds >= 5 && var.request_timeout_seconds <= 300
    error_message = "request_timeout_seconds must be 5-300."
  }
}

variable "web_cpu" {
  type        = string
  description = "vCPU per web instance."
  default     = "2"
  validation {
    condition     = contains(["1", "2", "4", "8"], var.web_cpu)
    error_message = "web_cpu must be 1, 2, 4 or 8."
  }
}

variable "web_memory" {
  type        = string
  description = "Memory per web instance (e.g. 1Gi)."
  default     = "1Gi"
  validation {
    condition     = can(regex("^[0-9]+(Mi|Gi)$", var.web_memory))
    error_message = "web_memory must look like 512Mi or 2Gi."
  }
}

variable "worker_instances" {
  type        = number
  description = "Celery worker instances (the worker pool scales horizontally on the Redis queue)."
  default     = 2
  validation {
    condition     = var.worker_instances >= 1 && var.worker_instances <= 100
    error_message = "worker_instances must be 1-100."
  }
}

variable "worker_concurrency" {
  type        = number
  description = "Celery processes per worker instance (CELERY_WORKER_CONCURRENCY, read by deploy/entrypoint.sh)."
  default     = 4
  validation {
    condition     = var.worker_concurrency >= 1 && var.worker_concurrency <= 32
    error_message = "worker_concurrency must be 1-32."
  }
}

variable "worker_cpu" {
  type        = string
  description = "vCPU per worker instance."
  default     = "2"
  validation {
    condition     = contains(["1", "2", "4", "8"], var.worker_cpu)
    error_message = "worker_cpu must be 1, 2, 4 or 8."
  }
}

variable "worker_memory" {
  type        = string
  description = "Memory per worker instance."
  default     = "2Gi"
  validation {
    condition     = can(regex("^[0-9]+(Mi|Gi)$", var.worker_memory))
    error_message = "worker_memory must look like 512Mi or 2Gi."
  }
}

variable "publish_topic_ids" {
  type        = map(string)
  description = "Pub/Sub topics the worker publishes the outbox to (roles/pubsub.publisher), keyed by a static label."
  default     = {}
}

variable "extra_project_roles" {
  type        = map(list(string))
  description = "Additional project roles per runtime role (web, worker, beat, migrate), e.g. { web = [\"roles/bigquery.jobUser\"] }."
  default     = {}
  validation {
    condition     = alltrue([for role in keys(var.extra_project_roles) : contains(["web", "worker", "beat", "migrate"], role)])
    error_message = "extra_project_roles keys must be web, worker, beat or migrate."
  }
}

variable "domains" {
  type        = list(string)
  description = "Host names served by the external HTTPS load balancer (Google-managed certificate). Empty = no load balancer (dev without a domain)."
  default     = []
}

variable "security_policy_id" {
  type        = string
  description = "Cloud Armor policy attached to the web backend service."
  default     = null
}

variable "deletion_protection" {
  type        = bool
  description = "Protect the services, worker pools and job from deletion."
  default     = true
}

variable "labels" {
  type        = map(string)
  description = "Labels applied to every resource."
  default     = {}
}

variable "web_liveness_probe" {
  type        = bool
  description = "Add an HTTP liveness probe on /healthz. The probe's Host header must be in DJANGO_ALLOWED_HOSTS (Django answers 400 otherwise), so turn it on after checking one probe in the request logs."
  default     = false
}
