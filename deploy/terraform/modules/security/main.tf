locals {
  function_source_dir = coalesce(var.function_source_dir, "${path.module}/../../../functions/secret_rotation")
  secretmanager_agent = "serviceAccount:service-${var.project_number}@gcp-sa-secretmanager.iam.gserviceaccount.com"
  owasp_rules = {
    1000 = "sqli-v33-stable"
    1001 = "xss-v33-stable"
    1002 = "lfi-v33-stable"
    1003 = "rfi-v33-stable"
    1004 = "rce-v33-stable"
    1005 = "methodenforcement-v33-stable"
    1006 = "scannerdetection-v33-stable"
    1007 = "protocolattack-v33-stable"
    1008 = "sessionfixation-v33-stable"
  }
  admin_ranges = join(" || ", [for cidr in var.admin_allowed_cidrs : "inIpRange(origin.ip, '${cidr}')"])
}

# --- Cloud Armor: in front of the web service's serverless NEG ---------------------------------
resource "google_compute_security_policy" "api" {
  project     = var.project_id
  name        = var.api_security_policy_name
  description = "Fusion Prime API/admin edge policy: OWASP rules, per-client rate limits, admin allow-list."
  type        = "CLOUD_ARMOR"

  advanced_options_config {
    json_parsing = "STANDARD"
    log_level    = "NORMAL"
  }

  adaptive_protection_config {
    layer_7_ddos_defense_config {
      enable = true
    }
  }

  rule {
    action      = "deny(403)"
    priority    = 100
    description = "Admin is reachable only from the allow-listed ranges."
    match {
      expr {
        expression = "request.path.matches('^/admin(/|$)') && !(${local.admin_ranges})"
      }
    }
  }

  rule {
    action      = "deny(403)"
    priority    = 900
    description = "Log4j message lookup (CVE-2021-44228) probes."
    match {
      expr {
        expression = "evaluatePreconfiguredWaf('cve-canary')"
      }
    }
  }

  dynamic "rule" {
    for_each = local.owasp_rules
    content {
      action      = "deny(403)"
      priority    = rule.key
      preview     = var.waf_preview
      description = "OWASP CRS: ${rule.value}"
      match {
        expr {
          expression = "evaluatePreconfiguredWaf('${rule.value}', {'sensitivity': ${var.waf_sensitivity}})"
        }
      }
    }
  }

  # Per API key: the Authorization header is the client's identity at the edge.
  rule {
    action      = "rate_based_ban"
    priority    = 2000
    description = "Per-client (API key) rate limit with a temporary ban."
    match {
      expr {
        expression = "has(request.headers['authorization'])"
      }
    }
    rate_limit_options {
      conform_action      = "allow"
      exceed_action       = "deny(429)"
      enforce_on_key      = "HTTP_HEADER"
      enforce_on_key_name = "Authorization"
      ban_duration_sec    = var.rate_limit_per_client.ban_sec
      rate_limit_threshold {
        count        = var.rate_limit_per_client.requests
        interval_sec = var.rate_limit_per_client.interval_sec
      }
    }
  }

  # Everything without an API key (admin, docs, schemas, health) is limited per source IP.
  rule {
    action      = "throttle"
    priority    = 2100
    description = "Per-IP limit for unauthenticated traffic."
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
    rate_limit_options {
      conform_action = "allow"
      exceed_action  = "deny(429)"
      enforce_on_key = "IP"
      rate_limit_threshold {
        count        = var.rate_limit_per_ip
        interval_sec = 60
      }
    }
  }

  rule {
    action      = "allow"
    priority    = 2147483647
    description = "Default: allow what no rule above refused."
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
  }
}

# --- Secret Manager -----------------------------------------------------------------------------
# Secret containers only; values are added by the operator (deploy/README.md) or, for DATABASE_URL,
# by the rotation function. Nothing secret is in Terraform code.
resource "google_pubsub_topic" "secret_rotation" {
  #checkov:skip=CKV_GCP_83:Carries only Secret Manager event notifications (names, no secret values); Google-managed encryption.
  project = var.project_id
  name    = "${var.name}-secret-rotation"
  labels  = var.labels
}

resource "google_pubsub_topic_iam_member" "secretmanager_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.secret_rotation.name
  role    = "roles/pubsub.publisher"
  member  = local.secretmanager_agent
}

resource "google_secret_manager_secret" "secrets" {
  for_each  = var.secrets
  project   = var.project_id
  secret_id = each.key
  labels    = var.labels
  annotations = {
    description = each.value.description
  }

  replication {
    auto {}
  }

  dynamic "rotation" {
    for_each = each.key == var.database_url_secret_id ? [1] : []
    content {
      rotation_period    = var.rotation_period
      next_rotation_time = timeadd(plantimestamp(), "24h")
    }
  }

  dynamic "topics" {
    for_each = each.key == var.database_url_secret_id ? [1] : []
    content {
      name = google_pubsub_topic.secret_rotation.id
    }
  }

  lifecycle {
    # Set once at creation; Secret Manager advances it after every rotation.
    ignore_changes = [rotation[0].next_rotation_time]
  }

  depends_on = [google_pubsub_topic_iam_member.secretmanager_publisher]
}

# --- The rotation function (deploy/functions/secret_rotation) -----------------------------------
resource "google_service_account" "rotation" {
  project      = var.project_id
  account_id   = "${substr(var.name, 0, 17)}-db-rotator"
  display_name = "Rotates the application database password"
}

resource "google_secret_manager_secret_iam_member" "rotation_versions" {
  project   = var.project_id
  secret_id = google_secret_manager_secret.secrets[var.database_url_secret_id].secret_id
  role      = "roles/secretmanager.secretVersionManager"
  member    = google_service_account.rotation.member
}

resource "google_secret_manager_secret_iam_member" "rotation_access" {
  project   = var.project_id
  secret_id = google_secret_manager_secret.secrets[var.database_url_secret_id].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.rotation.member
}

# Only what changing a user's password needs, and only on this instance.
resource "google_project_iam_custom_role" "sql_user_rotator" {
  project     = var.project_id
  role_id     = replace("${var.name}_sql_user_rotator", "-", "_")
  title       = "Cloud SQL user password rotator"
  permissions = ["cloudsql.instances.get", "cloudsql.users.list", "cloudsql.users.update"]
}

resource "google_project_iam_member" "rotation_sql" {
  project = var.project_id
  role    = google_project_iam_custom_role.sql_user_rotator.id
  member  = google_service_account.rotation.member

  condition {
    title      = "only-${var.cloudsql_instance_name}"
    expression = "resource.name == 'projects/${var.project_id}/instances/${var.cloudsql_instance_name}'"
  }
}

resource "google_project_iam_custom_role" "revision_roller" {
  project     = var.project_id
  role_id     = replace("${var.name}_revision_roller", "-", "_")
  title       = "Cloud Run revision roller"
  permissions = ["run.services.get", "run.services.update", "run.workerpools.get", "run.workerpools.update", "run.operations.get"]
}

resource "google_project_iam_member" "rotation_run" {
  project = var.project_id
  role    = google_project_iam_custom_role.revision_roller.id
  member  = google_service_account.rotation.member
}

# Deploying a revision runs it as the service's own account: the roller must be allowed to act as it.
resource "google_service_account_iam_member" "rotation_act_as" {
  for_each           = var.runtime_service_account_ids
  service_account_id = each.value
  role               = "roles/iam.serviceAccountUser"
  member             = google_service_account.rotation.member
}

resource "google_storage_bucket" "functions" {
  #checkov:skip=CKV_GCP_62:Holds only the function's source archives, written by Terraform; data-access audit logs cover reads.
  project                     = var.project_id
  name                        = "${var.project_id}-${var.name}-functions"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  labels                      = var.labels

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      num_newer_versions = 5
    }
    action {
      type = "Delete"
    }
  }
}

data "archive_file" "rotation" {
  type        = "zip"
  source_dir  = local.function_source_dir
  output_path = "${path.root}/.build/secret-rotation.zip"
  excludes    = ["__pycache__", "*.pyc"]
}

resource "google_storage_bucket_object" "rotation" {
  name   = "secret-rotation-${data.archive_file.rotation.output_md5}.zip"
  bucket = google_storage_bucket.functions.name
  source = data.archive_file.rotation.output_path
}

resource "google_cloudfunctions2_function" "rotation" {
  project     = var.project_id
  name        = "${var.name}-db-password-rotation"
  location    = var.region
  description = "Rotates the database password on Secret Manager's schedule (two users, no downtime)."
  labels      = var.labels

  build_config {
    runtime     = "python311"
    entry_point = "rotate_handler"
    source {
      storage_source {
        bucket = google_storage_bucket.functions.name
        object = google_storage_bucket_object.rotation.name
      }
    }
  }

  service_config {
    max_instance_count             = 1
    available_memory               = "256M"
    timeout_seconds                = 540
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.rotation.email
    environment_variables = {
      GCP_PROJECT_ID          = var.project_id
      ROTATION_SECRET_ID      = var.database_url_secret_id
      ROTATION_SQL_INSTANCE   = var.cloudsql_instance_name
      ROTATION_SQL_CONNECTION = var.cloudsql_connection_name
      ROTATION_DATABASE       = var.database_name
      ROTATION_USERS          = join(",", var.database_users)
      ROTATION_RESTART        = join(",", var.restart_resources)
      ROTATION_MIN_INTERVAL_S = tostring(var.rotation_min_interval_seconds)
      ROTATION_KEEP_VERSIONS  = "2"
      LOG_EXECUTION_ID        = "true"
    }
  }

  event_trigger {
    trigger_region        = var.region
    event_type            = "google.cloud.pubsub.topic.v1.messagePublished"
    pubsub_topic          = google_pubsub_topic.secret_rotation.id
    service_account_email = google_service_account.rotation.email
    # A failed rotation is alerted on and re-run by hand (runbook): blind retries could race a roll.
    retry_policy = "RETRY_POLICY_DO_NOT_RETRY"
  }
}

resource "google_cloud_run_service_iam_member" "rotation_invoker" {
  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.rotation.name
  role     = "roles/run.invoker"
  member   = google_service_account.rotation.member
}
