# The identity deploy/cloudbuild.yaml runs as: it pushes images, runs the migrate job, deploys the
# Cloud Run tiers and updates the Dataflow job — nothing else.
resource "google_service_account" "deployer" {
  project      = var.project_id
  account_id   = "${substr(var.name, 0, 20)}-deployer"
  display_name = "Cloud Build release pipeline"
}

resource "google_project_iam_member" "deployer" {
  #checkov:skip=CKV_GCP_49:dataflow.developer lets Cloud Build launch/update the job; acting as the pipeline's account is granted on that one account only (deployer_act_as).
  for_each = toset([
    "roles/run.developer", "roles/dataflow.developer", "roles/logging.logWriter", "roles/cloudsql.client",
  ])
  project = var.project_id
  role    = each.value
  member  = google_service_account.deployer.member
}

resource "google_artifact_registry_repository_iam_member" "deployer" {
  project    = var.project_id
  location   = var.region
  repository = google_artifact_registry_repository.images.name
  role       = "roles/artifactregistry.writer"
  member     = google_service_account.deployer.member
}

resource "google_storage_bucket_iam_member" "deployer_templates" {
  bucket = module.dataflow.bucket_name
  role   = "roles/storage.objectAdmin"
  member = google_service_account.deployer.member
}

# Deploying a revision or launching the pipeline runs it as its own account: act-as on exactly those.
resource "google_service_account_iam_member" "deployer_act_as" {
  for_each = merge(
    { for role, id in module.cloud_run.service_account_ids : role => id },
    { pipeline = "projects/${var.project_id}/serviceAccounts/${module.dataflow.service_account_email}" },
  )
  service_account_id = each.value
  role               = "roles/iam.serviceAccountUser"
  member             = google_service_account.deployer.member
}
