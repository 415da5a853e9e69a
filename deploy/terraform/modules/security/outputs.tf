output "security_policy_id" {
  description = "Cloud Armor policy to attach to the web backend service."
  value       = google_compute_security_policy.api.id
}

output "secret_ids" {
  description = "Secret Manager secret ids keyed by the same keys as var.secrets."
  value       = { for key, secret in google_secret_manager_secret.secrets : key => secret.secret_id }
}

output "secret_names" {
  description = "Full secret resource names (projects/…/secrets/…), keyed like var.secrets."
  value       = { for key, secret in google_secret_manager_secret.secrets : key => secret.name }
}

output "rotation_function_name" {
  description = "Name of the database password rotation function."
  value       = google_cloudfunctions2_function.rotation.name
}

output "rotation_topic_id" {
  description = "Topic Secret Manager publishes SECRET_ROTATE to (publish to it by hand to rotate now)."
  value       = google_pubsub_topic.secret_rotation.id
}

output "rotation_service_account_email" {
  description = "Service account of the rotation function."
  value       = google_service_account.rotation.email
}
