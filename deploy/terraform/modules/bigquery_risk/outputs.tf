output "dataset_id" {
  description = "The risk dataset id."
  value       = google_bigquery_dataset.risk.dataset_id
}

output "table_ids" {
  description = "Full table ids (project:dataset.table) keyed by table name."
  value       = { for name, table in google_bigquery_table.tables : name => "${table.project}:${table.dataset_id}.${table.table_id}" }
}

output "table_names" {
  description = "Names of the tables created from the schema source."
  value       = keys(local.tables)
}
