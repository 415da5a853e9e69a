terraform {
  required_version = ">= 1.6"

  # State lives in a versioned bucket created once by hand (deploy/README.md, step 2):
  #   terraform init -backend-config="bucket=<project>-tfstate"
  backend "gcs" {
    prefix = "fusionprime/staging"
  }

  # Only the providers this root configures; the modules pin their own (archive: modules/security).
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.41, < 8.0"
    }
    google-beta = {
      source  = "hashicorp/google-beta"
      version = ">= 6.41, < 8.0"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}

provider "google-beta" {
  project = var.project_id
  region  = var.region
}
