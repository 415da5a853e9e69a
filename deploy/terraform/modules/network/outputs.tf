output "network_id" {
  description = "Self link id of the VPC (private_network of Cloud SQL, authorized_network of Memorystore)."
  value       = google_compute_network.vpc.id
}

output "network_name" {
  description = "Name of the VPC."
  value       = google_compute_network.vpc.name
}

output "subnet_id" {
  description = "Id of the application subnet."
  value       = google_compute_subnetwork.app.id
}

output "subnet_name" {
  description = "Name of the application subnet (Cloud Run direct VPC egress)."
  value       = google_compute_subnetwork.app.name
}

output "subnet_self_link" {
  description = "Self link of the application subnet (Dataflow --subnetwork)."
  value       = google_compute_subnetwork.app.self_link
}

output "private_services_connection" {
  description = "The private services peering; depend on it before creating Cloud SQL or Memorystore."
  value       = google_service_networking_connection.private_services.id
}
