variable "project_id" {
  type        = string
  description = "GCP project id that owns the network."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a valid GCP project id (6-30 lower-case letters, digits, hyphens)."
  }
}

variable "region" {
  type        = string
  description = "Region of the subnet (Cloud Run direct VPC egress, Dataflow workers)."
}

variable "name" {
  type        = string
  description = "Name prefix for the VPC, subnet and private services range, e.g. fusionprime-dev."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}$", var.name))
    error_message = "name must be lower-case letters, digits and hyphens, 3-41 characters."
  }
}

variable "subnet_cidr" {
  type        = string
  description = "Primary range of the application subnet (Cloud Run instances and Dataflow workers take addresses from it)."
  default     = "10.10.0.0/20"
  validation {
    condition     = can(cidrhost(var.subnet_cidr, 0)) && tonumber(split("/", var.subnet_cidr)[1]) <= 24
    error_message = "subnet_cidr must be an IPv4 CIDR of /24 or larger (Cloud Run direct VPC egress needs room)."
  }
}

variable "private_services_prefix_length" {
  type        = number
  description = "Prefix length of the range reserved for private services access (Cloud SQL, Memorystore)."
  default     = 20
  validation {
    condition     = var.private_services_prefix_length >= 16 && var.private_services_prefix_length <= 24
    error_message = "private_services_prefix_length must be between 16 and 24."
  }
}
