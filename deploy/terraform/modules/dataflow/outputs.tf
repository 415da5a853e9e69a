output "bucket_name" {
  description = "Bucket for template specs (templates/), staging and temp files."
  value       = google_storage_bucket.dataflow.name
}

output "template_gcs_path" {
  description = "Where Cloud Build writes the Flex Template spec and Terraform launches it from."
  value       = local.template_path
}

output "service_account_email" {
  description = "Service account of the launcher and workers."
  value       = google_service_account.pipeline.email
}

output "service_account_member" {
  description = "IAM member string of the pipeline service account (BigQuery dataEditor is granted by bigquery_risk)."
  value       = google_service_account.pipeline.member
}

output "job_name" {
  description = "Name of the streaming job."
  value       = "${var.name}-risk-pipeline"
}

output "job_id" {
  description = "Id of the job Terraform launched (null until launch_job is true)."
  value       = try(google_dataflow_flex_template_job.risk[0].job_id, null)
}
