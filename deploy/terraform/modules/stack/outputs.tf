output "artifact_registry" {
  description = "Docker repository for the application image (REGION-docker.pkg.dev/PROJECT/fusionprime)."
  value       = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.images.repository_id}"
}

output "web_url" {
  description = "run.app URL of the web service."
  value       = module.cloud_run.web_url
}

output "load_balancer_ip" {
  description = "Point the domains' A records here (null without domains)."
  value       = module.cloud_run.load_balancer_ip
}

output "migrate_job" {
  description = "Cloud Run job running migrations."
  value       = module.cloud_run.migrate_job_name
}

output "worker_pools" {
  description = "Cloud Run worker pools (worker, beat)."
  value       = module.cloud_run.worker_pool_names
}

output "cloudsql_connection_name" {
  description = "Cloud SQL connection name."
  value       = module.cloudsql.connection_name
}

output "dataflow_bucket" {
  description = "Bucket for the Flex Template spec, staging and temp."
  value       = module.dataflow.bucket_name
}

output "dataflow_template_path" {
  description = "Where Cloud Build writes the Flex Template spec."
  value       = module.dataflow.template_gcs_path
}

output "dataflow_service_account" {
  description = "Service account the pipeline runs as."
  value       = module.dataflow.service_account_email
}

output "pipeline_subscription" {
  description = "Full id of the subscription the pipeline reads."
  value       = module.pubsub.pipeline_subscription_ids["settlement"]
}

output "rotation_topic" {
  description = "Publish a SECRET_ROTATE message here to rotate the database password now."
  value       = module.security.rotation_topic_id
}

output "deployer_service_account" {
  description = "Service account for the Cloud Build trigger."
  value       = google_service_account.deployer.email
}

output "dashboard" {
  description = "Cloud Monitoring dashboard id."
  value       = module.observability.dashboard_id
}
