# One Fusion Prime environment: every module composed. The roots in envs/ call this with their sizes
# and protection; nothing environment-specific is spelled out here.
locals {
  labels = { app = "fusionprime", env = var.environment, managed-by = "terraform" }
  # The pipeline's own schema files: the tables are built from them, never from a copy here.
  schema_dir = "${path.module}/../../../../dataflow/risk_pipeline/schemas"
  redis_ca   = "/etc/redis-tls"

  secrets = merge(
    {
      django-secret-key   = { description = "DJANGO_SECRET_KEY: long random string." }
      database-url        = { description = "DATABASE_URL: written by the rotation function only." }
      celery-broker-url   = { description = "CELERY_BROKER_URL: Memorystore, written by Terraform." }
      cache-url           = { description = "CACHE_URL: Memorystore db 1, written by Terraform." }
      redis-ca            = { description = "Memorystore server CA certificate (PEM), written by Terraform." }
      webhooks-secret-key = { description = "WEBHOOKS_SECRET_KEY: key(s) encrypting webhook endpoint secrets at rest." }
      email-url           = { description = "EMAIL_URL: the SMTP URL with its login, for ops notifications." }
    },
    var.enable_sentry ? { sentry-dsn = { description = "SENTRY_DSN." } } : {}
  )

  # Settings the app reads (fusionprime/settings/*.py); tests/deploy checks every name exists there.
  app_env = {
    DJANGO_ALLOWED_HOSTS           = join(",", concat(var.domains, ["localhost", "127.0.0.1"]))
    DJANGO_CSRF_TRUSTED_ORIGINS    = join(",", [for domain in var.domains : "https://${domain}"])
    DATABASE_CONN_MAX_AGE          = "60"
    GCP_PROJECT_ID                 = var.project_id
    PUBSUB_TOPIC_SETTLEMENT_EVENTS = module.pubsub.topic_names["settlement"]
    PUBSUB_TOPIC_CHAIN_EVENTS      = module.pubsub.topic_names["chain"]
    PUBSUB_PIPELINE_SUBSCRIPTION   = module.pubsub.pipeline_subscription_name
    BIGQUERY_PROJECT_ID            = var.project_id
    BIGQUERY_DATASET               = module.bigquery_risk.dataset_id
    BIGQUERY_LOCATION              = var.region
    SENTRY_ENVIRONMENT             = var.environment
    LOG_LEVEL                      = "INFO"
    LOG_FORMAT                     = "json"
    DEFAULT_FROM_EMAIL             = var.default_from_email
    WEBHOOKS_OPS_EMAILS            = join(",", var.ops_emails)
  }
  # Values are Secret Manager secret ids, not secrets.
  app_secret_env = merge(
    {
      DJANGO_SECRET_KEY   = "django-secret-key" # checkov:skip=CKV_SECRET_6:a secret id, not a secret value
      DATABASE_URL        = "database-url"
      CELERY_BROKER_URL   = "celery-broker-url"
      CACHE_URL           = "cache-url"
      WEBHOOKS_SECRET_KEY = "webhooks-secret-key" # checkov:skip=CKV_SECRET_6:a secret id, not a secret value
      EMAIL_URL           = "email-url"
    },
    var.enable_sentry ? { SENTRY_DSN = "sentry-dsn" } : {}
  )
}

resource "google_project_service" "apis" {
  for_each = toset([
    "artifactregistry.googleapis.com", "bigquery.googleapis.com", "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com", "compute.googleapis.com", "dataflow.googleapis.com",
    "eventarc.googleapis.com", "iam.googleapis.com", "logging.googleapis.com", "monitoring.googleapis.com",
    "pubsub.googleapis.com", "redis.googleapis.com", "run.googleapis.com", "secretmanager.googleapis.com",
    "servicenetworking.googleapis.com", "sqladmin.googleapis.com",
  ])
  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

resource "google_artifact_registry_repository" "images" {
  #checkov:skip=CKV_GCP_84:Images hold code, not data; Google-managed encryption, immutable tags and IAM-scoped writers.
  project       = var.project_id
  location      = var.region
  repository_id = "fusionprime"
  format        = "DOCKER"
  labels        = local.labels

  docker_config {
    immutable_tags = true
  }

  depends_on = [google_project_service.apis]
}

module "network" {
  source     = "../network"
  project_id = var.project_id
  region     = var.region
  name       = var.name

  depends_on = [google_project_service.apis]
}

module "cloudsql" {
  source              = "../cloudsql"
  project_id          = var.project_id
  region              = var.region
  name                = "${var.name}-pg"
  network_id          = module.network.network_id
  tier                = var.cloudsql_tier
  availability_type   = var.cloudsql_availability_type
  max_connections     = var.cloudsql_max_connections
  deletion_protection = var.deletion_protection
  labels              = local.labels

  depends_on = [module.network]
}

module "memorystore" {
  source     = "../memorystore"
  project_id = var.project_id
  region     = var.region
  name       = "${var.name}-broker"
  network_id = module.network.network_id
  tier       = var.redis_tier
  ca_path    = "${local.redis_ca}/ca.pem"
  labels     = local.labels

  depends_on = [module.network]
}

module "pubsub" {
  source         = "../pubsub_settlement"
  project_id     = var.project_id
  project_number = var.project_number
  labels         = local.labels

  depends_on = [google_project_service.apis]
}

module "bigquery_risk" {
  source              = "../bigquery_risk"
  project_id          = var.project_id
  location            = var.region
  schema_dir          = local.schema_dir
  deletion_protection = var.deletion_protection
  writer_members      = { dataflow = module.dataflow.service_account_member }
  reader_members      = { web = module.cloud_run.service_account_members["web"], worker = module.cloud_run.service_account_members["worker"] }
  labels              = local.labels
}

module "security" {
  source                   = "../security"
  project_id               = var.project_id
  project_number           = var.project_number
  region                   = var.region
  name                     = var.name
  secrets                  = local.secrets
  api_security_policy_name = "${var.name}-api"
  admin_allowed_cidrs      = var.admin_allowed_cidrs
  cloudsql_instance_name   = module.cloudsql.instance_name
  cloudsql_connection_name = module.cloudsql.connection_name
  database_name            = module.cloudsql.database_name
  database_users           = module.cloudsql.app_users
  # The rotation rolls every tier onto the new user; the worker pools are rolled too.
  restart_resources           = concat([module.cloud_run.web_service_id], values(module.cloud_run.worker_pool_ids))
  runtime_service_account_ids = { web = module.cloud_run.service_account_ids["web"], worker = module.cloud_run.service_account_ids["worker"], beat = module.cloud_run.service_account_ids["beat"] }
  waf_preview                 = var.waf_preview
  labels                      = local.labels

  depends_on = [google_project_service.apis]
}

# Broker and cache URLs carry the Redis AUTH string: they exist only here and in Secret Manager.
resource "google_secret_manager_secret_version" "redis" {
  for_each = {
    celery-broker-url = module.memorystore.broker_url
    cache-url         = module.memorystore.cache_url
    redis-ca          = module.memorystore.server_ca_pem
  }
  secret      = module.security.secret_names[each.key]
  secret_data = each.value
}

module "cloud_run" {
  source                   = "../cloud_run"
  project_id               = var.project_id
  region                   = var.region
  name                     = var.name
  image                    = var.image
  network                  = module.network.network_name
  subnetwork               = module.network.subnet_name
  cloudsql_connection_name = module.cloudsql.connection_name
  env                      = local.app_env
  secret_env               = local.app_secret_env
  secret_files = {
    redis-ca = { secret_id = "redis-ca", mount_path = local.redis_ca, file_name = "ca.pem" }
  }
  web_min_instances   = var.web_min_instances
  web_max_instances   = var.web_max_instances
  worker_instances    = var.worker_instances
  publish_topic_ids   = { settlement = module.pubsub.settlement_topic_id, chain = module.pubsub.chain_topic_id }
  extra_project_roles = { web = ["roles/bigquery.jobUser"], worker = ["roles/bigquery.jobUser"] }
  domains             = var.domains
  security_policy_id  = module.security.security_policy_id
  deletion_protection = var.deletion_protection
  labels              = local.labels

  depends_on = [google_secret_manager_secret_version.redis]
}

module "dataflow" {
  source                = "../dataflow"
  project_id            = var.project_id
  region                = var.region
  name                  = var.name
  launch_job            = var.launch_pipeline
  input_subscription_id = module.pubsub.pipeline_subscription_ids["settlement"]
  output_dataset        = module.bigquery_risk.dataset_id
  subnetwork_self_link  = module.network.subnet_self_link
  sdk_container_image   = var.image
  labels                = local.labels

  depends_on = [google_project_service.apis]
}

module "observability" {
  source                    = "../observability"
  project_id                = var.project_id
  name                      = var.name
  audit_dataset_location    = var.region
  alert_emails              = var.alert_emails
  web_service_name          = module.cloud_run.web_service_name
  pipeline_job_name         = module.dataflow.job_name
  pipeline_subscription     = module.pubsub.pipeline_subscription_name
  dead_letter_subscriptions = module.pubsub.dead_letter_subscription_names
  rotation_function_name    = module.security.rotation_function_name
  cloudsql_instance_id      = "${var.project_id}:${module.cloudsql.instance_name}"
  cloudsql_max_connections  = module.cloudsql.max_connections
  health_check_host         = length(var.domains) > 0 ? var.domains[0] : null
}

# Fails the plan when the tiers at full scale could open more connections than PostgreSQL allows.
resource "terraform_data" "connection_budget" {
  input = module.cloud_run.max_database_connections

  lifecycle {
    precondition {
      condition     = module.cloud_run.max_database_connections + 10 <= var.cloudsql_max_connections
      error_message = "Cloud Run can open ${module.cloud_run.max_database_connections} connections at full scale; raise cloudsql_max_connections or lower web_max_instances/gunicorn threads (10 are kept for admins and the rotation)."
    }
  }
}
