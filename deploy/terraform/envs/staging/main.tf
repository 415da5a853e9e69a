# The staging environment: modules/stack at production-like sizes — regional (HA) Cloud SQL, Standard
# HA Redis, a warm web instance, deletion protection and Cloud Armor enforcing. The rest is dev/'s.
module "stack" {
  source = "../../modules/stack"

  environment = "staging"
  name        = "fusionprime-staging"

  cloudsql_tier              = "db-custom-2-7680"
  cloudsql_availability_type = "REGIONAL"
  cloudsql_max_connections   = 400
  redis_tier                 = "STANDARD_HA"
  web_min_instances          = 1
  web_max_instances          = 10
  worker_instances           = 2
  deletion_protection        = true
  waf_preview                = false

  project_id          = var.project_id
  project_number      = var.project_number
  region              = var.region
  image               = var.image
  domains             = var.domains
  admin_allowed_cidrs = var.admin_allowed_cidrs
  alert_emails        = var.alert_emails
  ops_emails          = var.ops_emails
  default_from_email  = var.default_from_email
  enable_sentry       = var.enable_sentry
  launch_pipeline     = var.launch_pipeline
}
