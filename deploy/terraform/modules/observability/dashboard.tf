locals {
  # One chart per line: what an on-call engineer opens first (deploy/runbooks/incident-response.md).
  charts = [
    { title = "API requests by response class", filter = local.run_requests, aligner = "ALIGN_RATE", reducer = "REDUCE_SUM", group_by = ["metric.label.response_code_class"] },
    { title = "API latency p95 (ms)", filter = local.slos["api-latency"].filter, aligner = "ALIGN_PERCENTILE_95", reducer = "REDUCE_MAX", group_by = [] },
    { title = "Web instances", filter = "metric.type=\"run.googleapis.com/container/instance_count\" resource.type=\"cloud_run_revision\" resource.labels.service_name=\"${var.web_service_name}\"", aligner = "ALIGN_MAX", reducer = "REDUCE_SUM", group_by = ["metric.label.state"] },
    { title = "Webhook attempts succeeded", filter = local.slos["webhook-success"].good, aligner = "ALIGN_RATE", reducer = "REDUCE_SUM", group_by = [] },
    { title = "Webhook attempts failed", filter = local.slos["webhook-success"].bad, aligner = "ALIGN_RATE", reducer = "REDUCE_SUM", group_by = [] },
    { title = "Risk pipeline system lag (s)", filter = local.slos["pipeline-lag"].filter, aligner = "ALIGN_MAX", reducer = "REDUCE_MAX", group_by = [] },
    { title = "Risk pipeline data watermark age (s)", filter = "metric.type=\"dataflow.googleapis.com/job/data_watermark_age\" resource.type=\"dataflow_job\" resource.labels.job_name=\"${var.pipeline_job_name}\"", aligner = "ALIGN_MAX", reducer = "REDUCE_MAX", group_by = [] },
    { title = "Relayer lag p95 (s)", filter = local.slos["relayer-lag"].filter, aligner = "ALIGN_PERCENTILE_95", reducer = "REDUCE_MAX", group_by = [] },
    { title = "Pipeline subscription: oldest unacked (s)", filter = local.threshold_alerts["pipeline-backlog"].filter, aligner = "ALIGN_MAX", reducer = "REDUCE_MAX", group_by = [] },
    { title = "Pipeline subscription: undelivered messages", filter = "metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" resource.type=\"pubsub_subscription\" resource.labels.subscription_id=\"${var.pipeline_subscription}\"", aligner = "ALIGN_MAX", reducer = "REDUCE_SUM", group_by = [] },
    { title = "Cloud SQL connections", filter = local.threshold_alerts["cloudsql-connections"].filter, aligner = "ALIGN_MAX", reducer = "REDUCE_SUM", group_by = [] },
    { title = "Cloud SQL CPU utilization", filter = "metric.type=\"cloudsql.googleapis.com/database/cpu/utilization\" resource.type=\"cloudsql_database\" resource.labels.database_id=\"${var.cloudsql_instance_id}\"", aligner = "ALIGN_MEAN", reducer = "REDUCE_MAX", group_by = [] },
  ]
}

resource "google_monitoring_dashboard" "main" {
  project = var.project_id
  dashboard_json = jsonencode({
    displayName = "Fusion Prime (${var.name})"
    mosaicLayout = {
      columns = 12
      tiles = [
        for index, chart in local.charts : {
          xPos   = (index % 2) * 6
          yPos   = floor(index / 2) * 4
          width  = 6
          height = 4
          widget = {
            title = chart.title
            xyChart = {
              dataSets = [{
                plotType = "LINE"
                timeSeriesQuery = {
                  timeSeriesFilter = {
                    filter = chart.filter
                    aggregation = {
                      alignmentPeriod    = "60s"
                      perSeriesAligner   = chart.aligner
                      crossSeriesReducer = chart.reducer
                      groupByFields      = chart.group_by
                    }
                  }
                }
              }]
            }
          }
        }
      ]
    }
  })
}
