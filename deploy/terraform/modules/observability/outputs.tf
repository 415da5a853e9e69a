output "audit_dataset_id" {
  description = "BigQuery dataset receiving the audit log sink."
  value       = google_bigquery_dataset.audit.dataset_id
}

output "slo_ids" {
  description = "Cloud Monitoring SLO resource names keyed by SLO id."
  value       = { for key, slo in google_monitoring_slo.slos : key => slo.id }
}

output "dashboard_id" {
  description = "The operations dashboard."
  value       = google_monitoring_dashboard.main.id
}

output "notification_channel_ids" {
  description = "E-mail notification channels."
  value       = [for channel in google_monitoring_notification_channel.email : channel.id]
}
