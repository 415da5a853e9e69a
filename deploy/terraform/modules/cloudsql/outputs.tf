output "instance_name" {
  description = "Cloud SQL instance name."
  value       = google_sql_database_instance.main.name
}

output "connection_name" {
  description = "project:region:instance, for the Cloud Run Cloud SQL volume (/cloudsql/<connection_name>)."
  value       = google_sql_database_instance.main.connection_name
}

output "private_ip_address" {
  description = "Private IP of the primary."
  value       = google_sql_database_instance.main.private_ip_address
}

output "database_name" {
  description = "Application database name."
  value       = google_sql_database.app.name
}

output "app_users" {
  description = "The two application login users the rotation function alternates between."
  value       = [for user in google_sql_user.app : user.name]
}

output "max_connections" {
  description = "The max_connections flag, for the connection budget check."
  value       = var.max_connections
}
