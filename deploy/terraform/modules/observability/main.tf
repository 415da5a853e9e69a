# --- Audit logs to BigQuery ----------------------------------------------------------------------
resource "google_bigquery_dataset" "audit" {
  #checkov:skip=CKV_GCP_81:Audit logs are already protected by Google-managed encryption and IAM; CMEK would be an organisation-wide decision, not this module's.
  project                         = var.project_id
  dataset_id                      = replace("${var.name}_audit_logs", "-", "_")
  location                        = var.audit_dataset_location
  description                     = "Cloud Audit Logs (admin activity, data access, system events) exported by a log sink."
  default_partition_expiration_ms = var.audit_log_retention_days * 86400000
  delete_contents_on_destroy      = false
}

resource "google_logging_project_sink" "audit" {
  project                = var.project_id
  name                   = "${var.name}-audit-to-bigquery"
  destination            = "bigquery.googleapis.com/projects/${var.project_id}/datasets/${google_bigquery_dataset.audit.dataset_id}"
  filter                 = "logName:\"cloudaudit.googleapis.com\""
  unique_writer_identity = true

  bigquery_options {
    use_partitioned_tables = true
  }
}

resource "google_bigquery_dataset_iam_member" "audit_sink_writer" {
  project    = var.project_id
  dataset_id = google_bigquery_dataset.audit.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = google_logging_project_sink.audit.writer_identity
}

# Who read which secret, and who touched database users, is data-access audit data (off by default).
resource "google_project_iam_audit_config" "data_access" {
  for_each = toset(["secretmanager.googleapis.com", "cloudsql.googleapis.com"])
  project  = var.project_id
  service  = each.value

  audit_log_config {
    log_type = "ADMIN_READ"
  }
  audit_log_config {
    log_type = "DATA_READ"
  }
  audit_log_config {
    log_type = "DATA_WRITE"
  }
}

# --- Log-based metrics the SLOs need -------------------------------------------------------------
resource "google_logging_metric" "webhook_attempts_ok" {
  project = var.project_id
  name    = "${var.name}/webhook_attempts_ok"
  filter  = var.webhook_success_log_filter
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
  }
}

resource "google_logging_metric" "webhook_attempts_failed" {
  project = var.project_id
  name    = "${var.name}/webhook_attempts_failed"
  filter  = var.webhook_failure_log_filter
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
  }
}

resource "google_logging_metric" "relayer_lag" {
  project         = var.project_id
  name            = "${var.name}/relayer_lag_seconds"
  filter          = var.relayer_lag_log_filter
  value_extractor = "EXTRACT(jsonPayload.lag_seconds)"
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "DISTRIBUTION"
    unit        = "s"
  }
  bucket_options {
    explicit_buckets {
      bounds = [1, 5, 10, 15, 30, 45, 60, 90, 120, 300, 600]
    }
  }
}

resource "google_logging_metric" "rotation_failures" {
  project = var.project_id
  name    = "${var.name}/secret_rotation_failures"
  filter  = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${var.rotation_function_name}\" AND severity>=ERROR"
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
  }
}

# --- SLOs ----------------------------------------------------------------------------------------
resource "google_monitoring_custom_service" "fusionprime" {
  project      = var.project_id
  service_id   = "${var.name}-service"
  display_name = "Fusion Prime (${var.name})"
}

locals {
  run_requests = "metric.type=\"run.googleapis.com/request_count\" resource.type=\"cloud_run_revision\" resource.labels.service_name=\"${var.web_service_name}\""
  # Every entry has the same attributes (unused ones null) so the map has one element type.
  slos = {
    api-availability = {
      name   = "API availability: non-5xx responses"
      goal   = var.slo_goals.api_availability
      kind   = "ratio"
      good   = null
      bad    = "${local.run_requests} metric.labels.response_code_class=\"5xx\""
      total  = local.run_requests
      filter = null
      max    = null
    }
    api-latency = {
      name   = "API latency: requests served within ${var.latency_threshold_ms} ms"
      goal   = var.slo_goals.api_latency
      kind   = "cut"
      good   = null
      bad    = null
      total  = null
      filter = "metric.type=\"run.googleapis.com/request_latencies\" resource.type=\"cloud_run_revision\" resource.labels.service_name=\"${var.web_service_name}\""
      max    = var.latency_threshold_ms
    }
    webhook-success = {
      name   = "Webhook attempts that succeeded"
      goal   = var.slo_goals.webhook_success
      kind   = "ratio"
      good   = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.webhook_attempts_ok.name}\""
      bad    = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.webhook_attempts_failed.name}\""
      total  = null
      filter = null
      max    = null
    }
    pipeline-lag = {
      name   = "Risk pipeline minutes with system lag under ${var.pipeline_lag_threshold_s} s"
      goal   = var.slo_goals.pipeline_lag
      kind   = "window_mean"
      good   = null
      bad    = null
      total  = null
      filter = "metric.type=\"dataflow.googleapis.com/job/system_lag\" resource.type=\"dataflow_job\" resource.labels.job_name=\"${var.pipeline_job_name}\""
      max    = var.pipeline_lag_threshold_s
    }
    relayer-lag = {
      name   = "Relayer ticks less than ${var.relayer_lag_threshold_s} s behind the chain head"
      goal   = var.slo_goals.relayer_lag
      kind   = "cut"
      good   = null
      bad    = null
      total  = null
      filter = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.relayer_lag.name}\""
      max    = var.relayer_lag_threshold_s
    }
  }
  # Multi-window burn-rate alerts (Google SRE workbook): page on a fast burn, ticket on a slow one.
  burn_alerts = {
    page   = { severity = "CRITICAL", long = "3600s", short = "300s", rate = 14.4 }
    ticket = { severity = "WARNING", long = "21600s", short = "1800s", rate = 6 }
  }
  slo_alerts = merge([
    for slo_key, slo in local.slos : {
      for alert_key, alert in local.burn_alerts : "${slo_key}/${alert_key}" => merge(alert, { slo = slo_key, title = slo.name })
    }
  ]...)
}

resource "google_monitoring_slo" "slos" {
  for_each            = local.slos
  project             = var.project_id
  service             = google_monitoring_custom_service.fusionprime.service_id
  slo_id              = each.key
  display_name        = each.value.name
  goal                = each.value.goal
  rolling_period_days = 28

  dynamic "request_based_sli" {
    for_each = each.value.kind == "ratio" ? [each.value] : []
    content {
      good_total_ratio {
        good_service_filter  = request_based_sli.value.good
        bad_service_filter   = request_based_sli.value.bad
        total_service_filter = request_based_sli.value.total
      }
    }
  }

  dynamic "request_based_sli" {
    for_each = each.value.kind == "cut" ? [each.value] : []
    content {
      distribution_cut {
        distribution_filter = request_based_sli.value.filter
        range {
          max = request_based_sli.value.max
        }
      }
    }
  }

  dynamic "windows_based_sli" {
    for_each = each.value.kind == "window_mean" ? [each.value] : []
    content {
      window_period = "60s"
      metric_mean_in_range {
        time_series = windows_based_sli.value.filter
        range {
          max = windows_based_sli.value.max
        }
      }
    }
  }
}

resource "google_monitoring_notification_channel" "email" {
  for_each     = toset(var.alert_emails)
  project      = var.project_id
  display_name = "Fusion Prime on-call: ${each.value}"
  type         = "email"
  labels = {
    email_address = each.value
  }
}

resource "google_monitoring_alert_policy" "burn_rate" {
  for_each              = local.slo_alerts
  project               = var.project_id
  display_name          = "[${upper(each.value.severity)}] ${each.value.title}: error budget burning ${each.value.rate}x"
  combiner              = "AND"
  severity              = each.value.severity
  notification_channels = [for channel in google_monitoring_notification_channel.email : channel.id]

  documentation {
    content   = "SLO ${each.value.slo} burns its 28-day error budget at ${each.value.rate}x over ${each.value.long} and ${each.value.short}. Start at deploy/runbooks/incident-response.md."
    mime_type = "text/markdown"
  }

  conditions {
    display_name = "burn rate over ${each.value.long}"
    condition_threshold {
      filter          = "select_slo_burn_rate(\"${google_monitoring_slo.slos[each.value.slo].id}\", \"${each.value.long}\")"
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.rate
      duration        = "0s"
    }
  }

  conditions {
    display_name = "burn rate over ${each.value.short}"
    condition_threshold {
      filter          = "select_slo_burn_rate(\"${google_monitoring_slo.slos[each.value.slo].id}\", \"${each.value.short}\")"
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.rate
      duration        = "0s"
    }
  }
}

# --- Operational alerts the runbooks start from --------------------------------------------------
locals {
  threshold_alerts = merge(
    {
      pipeline-backlog = {
        title     = "Pub/Sub backlog: risk pipeline is not keeping up"
        filter    = "metric.type=\"pubsub.googleapis.com/subscription/oldest_unacked_message_age\" resource.type=\"pubsub_subscription\" resource.labels.subscription_id=\"${var.pipeline_subscription}\""
        threshold = var.backlog_age_alert_seconds
        duration  = "300s"
        runbook   = "pubsub-backlog.md"
      }
      rotation-failed = {
        title     = "Database password rotation failed"
        filter    = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.rotation_failures.name}\" resource.type=\"cloud_run_revision\""
        threshold = 0
        duration  = "0s"
        runbook   = "secret-rotation-failure.md"
      }
      cloudsql-connections = {
        title     = "Cloud SQL connections near max_connections"
        filter    = "metric.type=\"cloudsql.googleapis.com/database/postgresql/num_backends\" resource.type=\"cloudsql_database\" resource.labels.database_id=\"${var.cloudsql_instance_id}\""
        threshold = floor(var.cloudsql_max_connections * 0.8)
        duration  = "300s"
        runbook   = "cloudsql-failover.md"
      }
    },
    {
      for key, subscription in var.dead_letter_subscriptions : "dead-letter-${key}" => {
        title     = "Messages dead-lettered on ${subscription}"
        filter    = "metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" resource.type=\"pubsub_subscription\" resource.labels.subscription_id=\"${subscription}\""
        threshold = 0
        duration  = "0s"
        runbook   = "pubsub-backlog.md"
      }
    }
  )
}

resource "google_monitoring_alert_policy" "operational" {
  for_each              = local.threshold_alerts
  project               = var.project_id
  display_name          = "[${var.name}] ${each.value.title}"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = [for channel in google_monitoring_notification_channel.email : channel.id]

  documentation {
    content   = "Runbook: deploy/runbooks/${each.value.runbook}"
    mime_type = "text/markdown"
  }

  conditions {
    display_name = each.value.title
    condition_threshold {
      filter          = each.value.filter
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.threshold
      duration        = each.value.duration
      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }
}

resource "google_monitoring_uptime_check_config" "healthz" {
  count        = var.health_check_host == null ? 0 : 1
  project      = var.project_id
  display_name = "${var.name} /healthz"
  timeout      = "10s"
  period       = "60s"

  http_check {
    path         = "/healthz"
    port         = 443
    use_ssl      = true
    validate_ssl = true
  }

  monitored_resource {
    type = "uptime_url"
    labels = {
      project_id = var.project_id
      host       = var.health_check_host
    }
  }
}
