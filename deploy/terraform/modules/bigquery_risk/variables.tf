variable "project_id" {
  type        = string
  description = "GCP project id."
}

variable "location" {
  type        = string
  description = "BigQuery location of the dataset (a region such as europe-west1, or a multi-region EU/US)."
  validation {
    condition     = length(var.location) > 1
    error_message = "location must be set."
  }
}

variable "dataset_id" {
  type        = string
  description = "Dataset id; the pipeline's --dataset and the risk app's reads use it."
  default     = "risk"
  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_]{0,1023}$", var.dataset_id))
    error_message = "dataset_id must contain only letters, digits and underscores."
  }
}

variable "schema_dir" {
  type        = string
  description = "Directory holding tables.json and <table>.json field lists: the repo's single schema source. null = dataflow/risk_pipeline/schemas of this repository."
  default     = null
}

variable "partition_expiration_days" {
  type        = number
  description = "Days a partition of the windowed tables is kept (0 = forever). settlement_events is audit data and is never expired by this."
  default     = 0
  validation {
    condition     = var.partition_expiration_days >= 0
    error_message = "partition_expiration_days must not be negative."
  }
}

variable "writer_members" {
  type        = map(string)
  description = "IAM members that write rows (the Dataflow service account), granted dataEditor on the dataset. Keys are static labels (e.g. dataflow) so plans work before the accounts exist."
  default     = {}
}

variable "reader_members" {
  type        = map(string)
  description = "IAM members that read the dataset (the web/worker service accounts for the exposure dashboard), granted dataViewer. Keys are static labels."
  default     = {}
}

variable "kms_key_name" {
  type        = string
  description = "Optional Cloud KMS key for customer-managed encryption of the dataset; null = Google-managed keys."
  default     = null
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse to delete tables that hold data."
  default     = true
}

variable "labels" {
  type        = map(string)
  description = "Labels applied to the dataset and tables."
  default     = {}
}
