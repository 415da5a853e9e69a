output "host" {
  description = "Private IP of the primary endpoint."
  value       = google_redis_instance.broker.host
}

output "port" {
  description = "TLS port of the instance."
  value       = google_redis_instance.broker.port
}

output "server_ca_pem" {
  description = "PEM of the instance's server CA, mounted into Cloud Run at ca_path."
  value       = try(google_redis_instance.broker.server_ca_certs[0].cert, "")
}

output "broker_url" {
  description = "CELERY_BROKER_URL (db 0, TLS verified against the mounted CA). Contains the auth string: store it in Secret Manager only."
  value       = "rediss://${local.authority}/0?${local.tls_query}"
  sensitive   = true
}

output "cache_url" {
  description = "CACHE_URL for Django's Redis cache (db 1). Contains the auth string: store it in Secret Manager only."
  value       = "rediss://${local.authority}/1?${local.tls_query}"
  sensitive   = true
}

output "ca_path" {
  description = "Where the app expects the CA certificate."
  value       = var.ca_path
}
