# The Celery broker (db 0) and the shared cache for API rate limits (db 1). AUTH and TLS are on; the
# auth string and the server CA reach the app only through Secret Manager (see the env root).
resource "google_redis_instance" "broker" {
  project                 = var.project_id
  name                    = var.name
  region                  = var.region
  tier                    = var.tier
  memory_size_gb          = var.memory_size_gb
  redis_version           = var.redis_version
  authorized_network      = var.network_id
  connect_mode            = "PRIVATE_SERVICE_ACCESS"
  auth_enabled            = true
  transit_encryption_mode = "SERVER_AUTHENTICATION"
  labels                  = var.labels

  # A broker must never evict queued messages: refuse writes instead, which alerts and is visible.
  redis_configs = {
    "maxmemory-policy" = "noeviction"
  }

  dynamic "persistence_config" {
    for_each = var.tier == "STANDARD_HA" ? [1] : []
    content {
      persistence_mode    = "RDB"
      rdb_snapshot_period = "ONE_HOUR"
    }
  }

  maintenance_policy {
    weekly_maintenance_window {
      day = "SUNDAY"
      start_time {
        hours   = 3
        minutes = 0
      }
    }
  }
}

locals {
  authority = ":${google_redis_instance.broker.auth_string}@${google_redis_instance.broker.host}:${google_redis_instance.broker.port}"
  tls_query = "ssl_cert_reqs=required&ssl_ca_certs=${var.ca_path}"
}
