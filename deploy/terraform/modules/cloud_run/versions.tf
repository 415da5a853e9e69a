terraform {
  required_version = ">= 1.6"
  required_providers {
    google = {
      source = "hashicorp/google"
      # google_cloud_run_v2_worker_pool (worker and beat) arrived in 6.41.
      version = ">= 6.41, < 8.0"
    }
  }
}
