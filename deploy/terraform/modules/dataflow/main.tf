locals {
  bucket        = "${var.project_id}-${var.name}-dataflow"
  template_path = coalesce(var.template_gcs_path, "gs://${local.bucket}/templates/risk-pipeline.json")
}

resource "google_storage_bucket" "dataflow" {
  #checkov:skip=CKV_GCP_62:Staging/temp files and template specs only; data-access audit logs cover reads.
  project                     = var.project_id
  name                        = local.bucket
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  labels                      = var.labels

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      age            = 7
      matches_prefix = ["temp/", "staging/"]
    }
    action {
      type = "Delete"
    }
  }
}

resource "google_service_account" "pipeline" {
  project      = var.project_id
  account_id   = "${substr(var.name, 0, 16)}-risk-pipeline"
  display_name = "Risk pipeline (Dataflow workers and launcher)"
}

resource "google_project_iam_member" "pipeline" {
  for_each = toset(["roles/dataflow.worker", "roles/logging.logWriter", "roles/monitoring.metricWriter", "roles/artifactregistry.reader"])
  project  = var.project_id
  role     = each.value
  member   = google_service_account.pipeline.member
}

resource "google_storage_bucket_iam_member" "pipeline" {
  bucket = google_storage_bucket.dataflow.name
  role   = "roles/storage.objectAdmin"
  member = google_service_account.pipeline.member
}

resource "google_pubsub_subscription_iam_member" "pipeline" {
  for_each     = toset(["roles/pubsub.subscriber", "roles/pubsub.viewer"])
  project      = var.project_id
  subscription = var.input_subscription_id
  role         = each.value
  member       = google_service_account.pipeline.member
}

resource "google_dataflow_flex_template_job" "risk" {
  count    = var.launch_job ? 1 : 0
  provider = google-beta

  project                 = var.project_id
  region                  = var.region
  name                    = "${var.name}-risk-pipeline"
  container_spec_gcs_path = local.template_path
  on_delete               = "drain"
  service_account_email   = google_service_account.pipeline.email
  subnetwork              = var.subnetwork_self_link
  ip_configuration        = "WORKER_IP_PRIVATE"
  machine_type            = var.machine_type
  num_workers             = var.min_workers
  max_workers             = var.max_workers
  autoscaling_algorithm   = "THROUGHPUT_BASED"
  enable_streaming_engine = true
  temp_location           = "gs://${local.bucket}/temp"
  staging_location        = "gs://${local.bucket}/staging"
  sdk_container_image     = var.sdk_container_image
  labels                  = var.labels

  parameters = {
    input_subscription       = var.input_subscription_id
    output_project           = var.project_id
    output_dataset           = var.output_dataset
    window_seconds           = tostring(var.window_seconds)
    allowed_lateness_seconds = tostring(var.allowed_lateness_seconds)
    id_label                 = "event_id"
    timestamp_attribute      = "occurred_at"
  }

  lifecycle {
    precondition {
      condition     = var.max_workers >= var.min_workers
      error_message = "max_workers must be at least min_workers."
    }
    # Releases update the running job in place from Cloud Build (gcloud dataflow flex-template run
    # --update) with a new image; Terraform keeps owning its shape.
    ignore_changes = [sdk_container_image, container_spec_gcs_path]
  }

  depends_on = [google_project_iam_member.pipeline, google_storage_bucket_iam_member.pipeline, google_pubsub_subscription_iam_member.pipeline]
}
