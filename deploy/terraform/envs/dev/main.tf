# The dev environment: modules/stack at small sizes, scale to zero, no deletion protection, Cloud
# Armor's WAF rules in preview. Everything else is shared with staging/ through the stack.
module "stack" {
  source = "../../modules/stack"

  environment = "dev"
  name        = "fusionprime-dev"

  cloudsql_tier              = "db-custom-1-3840"
  cloudsql_availability_type = "ZONAL"
  cloudsql_max_connections   = 200
  redis_tier                 = "BASIC"
  web_min_instances          = 0
  web_max_instances          = 4
  worker_instances           = 1
  deletion_protection        = false
  waf_preview                = true

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
