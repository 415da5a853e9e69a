output "web_service_name" {
  description = "Cloud Run service of the web role."
  value       = google_cloud_run_v2_service.web.name
}

output "web_service_id" {
  description = "Full resource name of the web service (rolled by the rotation function)."
  value       = google_cloud_run_v2_service.web.id
}

output "web_url" {
  description = "The service's run.app URL (reachable only through the load balancer when domains are set)."
  value       = google_cloud_run_v2_service.web.uri
}

output "worker_pool_names" {
  description = "Cloud Run worker pools, keyed worker/beat."
  value       = { for key, pool in google_cloud_run_v2_worker_pool.celery : key => pool.name }
}

output "worker_pool_ids" {
  description = "Full resource names of the worker pools, keyed worker/beat."
  value       = { for key, pool in google_cloud_run_v2_worker_pool.celery : key => pool.id }
}

output "migrate_job_name" {
  description = "Cloud Run job that runs migrations (executed by Cloud Build before each deploy)."
  value       = google_cloud_run_v2_job.migrate.name
}

output "service_account_emails" {
  description = "Runtime service accounts keyed by role (web, worker, beat, migrate)."
  value       = { for role, sa in google_service_account.runtime : role => sa.email }
}

output "service_account_members" {
  description = "IAM member strings of the runtime service accounts, keyed by role."
  value       = { for role, sa in google_service_account.runtime : role => sa.member }
}

output "service_account_ids" {
  description = "Full ids of the runtime service accounts, keyed by role."
  value       = { for role, sa in google_service_account.runtime : role => sa.id }
}

output "load_balancer_ip" {
  description = "Global IP to point the domains' DNS A records at (null without domains)."
  value       = try(google_compute_global_address.web[0].address, null)
}

output "backend_service_name" {
  description = "Backend service behind the load balancer (for latency SLOs and logs); null without domains."
  value       = try(google_compute_backend_service.web[0].name, null)
}

output "max_database_connections" {
  description = "Upper bound of connections the tiers can open at full scale (web + worker + beat + migrate), for the Cloud SQL budget."
  value       = var.web_max_instances * var.gunicorn_workers * var.gunicorn_threads + var.worker_instances * var.worker_concurrency + 1 + 1
}
