locals {
  roles = toset(["web", "worker", "beat", "migrate"])
  # Every role needs these to run at all.
  base_project_roles = ["roles/cloudsql.client", "roles/logging.logWriter", "roles/monitoring.metricWriter", "roles/cloudtrace.agent"]
  role_bindings = merge([
    for role in local.roles : {
      for project_role in concat(local.base_project_roles, lookup(var.extra_project_roles, role, [])) :
      "${role}/${project_role}" => { role = role, project_role = project_role }
    }
  ]...)
  secret_bindings = merge([
    for role in local.roles : {
      for secret_id in distinct(concat(values(var.secret_env), [for f in values(var.secret_files) : f.secret_id])) :
      "${role}/${secret_id}" => { role = role, secret_id = secret_id }
    }
  ]...)

  # Role-specific settings read by deploy/entrypoint.sh and deploy/gunicorn.conf.py.
  role_env = {
    web = {
      GUNICORN_WORKERS = tostring(var.gunicorn_workers)
      GUNICORN_THREADS = tostring(var.gunicorn_threads)
      GUNICORN_TIMEOUT = tostring(var.request_timeout_seconds)
    }
    worker  = { CELERY_WORKER_CONCURRENCY = tostring(var.worker_concurrency) }
    beat    = {}
    migrate = {}
  }
  cloudsql_mount = "/cloudsql"
}

resource "google_service_account" "runtime" {
  for_each     = local.roles
  project      = var.project_id
  account_id   = "${substr(var.name, 0, 21)}-${each.key}"
  display_name = "Fusion Prime ${each.key} runtime"
}

resource "google_project_iam_member" "runtime" {
  for_each = local.role_bindings
  project  = var.project_id
  role     = each.value.project_role
  member   = google_service_account.runtime[each.value.role].member
}

resource "google_secret_manager_secret_iam_member" "runtime" {
  for_each  = local.secret_bindings
  project   = var.project_id
  secret_id = each.value.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.runtime[each.value.role].member
}

# Only the worker publishes: the outbox sweep runs as a Celery task.
resource "google_pubsub_topic_iam_member" "worker_publisher" {
  for_each = var.publish_topic_ids
  project  = var.project_id
  topic    = each.value
  role     = "roles/pubsub.publisher"
  member   = google_service_account.runtime["worker"].member
}

# --- web: Django behind gunicorn, autoscaled -----------------------------------------------------
resource "google_cloud_run_v2_service" "web" {
  project             = var.project_id
  name                = "${var.name}-web"
  location            = var.region
  ingress             = length(var.domains) > 0 ? "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER" : "INGRESS_TRAFFIC_ALL"
  deletion_protection = var.deletion_protection
  labels              = var.labels

  template {
    service_account                  = google_service_account.runtime["web"].email
    execution_environment            = "EXECUTION_ENVIRONMENT_GEN2"
    max_instance_request_concurrency = var.gunicorn_workers * var.gunicorn_threads
    timeout                          = "${var.request_timeout_seconds}s"
    labels                           = var.labels

    scaling {
      min_instance_count = var.web_min_instances
      max_instance_count = var.web_max_instances
    }

    vpc_access {
      egress = "PRIVATE_RANGES_ONLY"
      network_interfaces {
        network    = var.network
        subnetwork = var.subnetwork
      }
    }

    volumes {
      name = "cloudsql"
      cloud_sql_instance {
        instances = [var.cloudsql_connection_name]
      }
    }

    dynamic "volumes" {
      for_each = var.secret_files
      content {
        name = volumes.key
        secret {
          secret = volumes.value.secret_id
          items {
            version = "latest"
            path    = volumes.value.file_name
          }
        }
      }
    }

    containers {
      image = var.image
      args  = ["web"]

      ports {
        container_port = 8080
      }

      resources {
        limits = {
          cpu    = var.web_cpu
          memory = var.web_memory
        }
        cpu_idle          = true
        startup_cpu_boost = true
      }

      dynamic "env" {
        for_each = merge(var.env, local.role_env.web)
        content {
          name  = env.key
          value = env.value
        }
      }

      dynamic "env" {
        for_each = var.secret_env
        content {
          name = env.key
          value_source {
            secret_key_ref {
              secret  = env.value
              version = "latest"
            }
          }
        }
      }

      volume_mounts {
        name       = "cloudsql"
        mount_path = local.cloudsql_mount
      }

      dynamic "volume_mounts" {
        for_each = var.secret_files
        content {
          name       = volume_mounts.key
          mount_path = volume_mounts.value.mount_path
        }
      }

      # gunicorn preloads the Django app before it binds (deploy/gunicorn.conf.py), so an open port
      # means settings loaded and the app imported.
      startup_probe {
        initial_delay_seconds = 2
        period_seconds        = 3
        failure_threshold     = 20
        timeout_seconds       = 2
        tcp_socket {
          port = 8080
        }
      }

      dynamic "liveness_probe" {
        for_each = var.web_liveness_probe ? [1] : []
        content {
          period_seconds    = 15
          failure_threshold = 3
          timeout_seconds   = 3
          http_get {
            path = "/healthz"
          }
        }
      }
    }
  }

  lifecycle {
    # Releases are deployed by Cloud Build (deploy/cloudbuild.yaml); Terraform owns the shape.
    ignore_changes = [template[0].containers[0].image, client, client_version]
  }

  depends_on = [google_secret_manager_secret_iam_member.runtime, google_project_iam_member.runtime]
}

# The API is public by design (API keys and sessions are checked by the app); with a domain the
# service only accepts traffic from the load balancer, where Cloud Armor runs.
resource "google_cloud_run_v2_service_iam_member" "web_public" {
  #checkov:skip=CKV_GCP_102:A public API; callers authenticate with API keys in the app, and ingress is limited to the Cloud Armor load balancer when domains are set.
  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_service.web.name
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# --- worker and beat: Cloud Run worker pools (no HTTP; always-on) --------------------------------
resource "google_cloud_run_v2_worker_pool" "celery" {
  for_each            = { worker = var.worker_instances, beat = 1 }
  project             = var.project_id
  name                = "${var.name}-${each.key}"
  location            = var.region
  deletion_protection = var.deletion_protection
  labels              = var.labels

  # beat is always exactly one instance: two would schedule every periodic task twice.
  scaling {
    manual_instance_count = each.value
  }

  template {
    service_account = google_service_account.runtime[each.key].email
    labels          = var.labels

    vpc_access {
      egress = "PRIVATE_RANGES_ONLY"
      network_interfaces {
        network    = var.network
        subnetwork = var.subnetwork
      }
    }

    volumes {
      name = "cloudsql"
      cloud_sql_instance {
        instances = [var.cloudsql_connection_name]
      }
    }

    dynamic "volumes" {
      for_each = var.secret_files
      content {
        name = volumes.key
        secret {
          secret = volumes.value.secret_id
          items {
            version = "latest"
            path    = volumes.value.file_name
          }
        }
      }
    }

    containers {
      image = var.image
      args  = [each.key]

      resources {
        limits = {
          cpu    = each.key == "worker" ? var.worker_cpu : "1"
          memory = each.key == "worker" ? var.worker_memory : "512Mi"
        }
      }

      dynamic "env" {
        for_each = merge(var.env, local.role_env[each.key])
        content {
          name  = env.key
          value = env.value
        }
      }

      dynamic "env" {
        for_each = var.secret_env
        content {
          name = env.key
          value_source {
            secret_key_ref {
              secret  = env.value
              version = "latest"
            }
          }
        }
      }

      volume_mounts {
        name       = "cloudsql"
        mount_path = local.cloudsql_mount
      }

      dynamic "volume_mounts" {
        for_each = var.secret_files
        content {
          name       = volume_mounts.key
          mount_path = volume_mounts.value.mount_path
        }
      }
    }
  }

  lifecycle {
    ignore_changes = [template[0].containers[0].image, client, client_version]
  }

  depends_on = [google_secret_manager_secret_iam_member.runtime, google_project_iam_member.runtime]
}

# --- migrate: a job Cloud Build executes before every deploy ------------------------------------
resource "google_cloud_run_v2_job" "migrate" {
  project             = var.project_id
  name                = "${var.name}-migrate"
  location            = var.region
  deletion_protection = var.deletion_protection
  labels              = var.labels

  template {
    task_count  = 1
    parallelism = 1

    template {
      service_account = google_service_account.runtime["migrate"].email
      max_retries     = 0
      timeout         = "1800s"

      vpc_access {
        egress = "PRIVATE_RANGES_ONLY"
        network_interfaces {
          network    = var.network
          subnetwork = var.subnetwork
        }
      }

      volumes {
        name = "cloudsql"
        cloud_sql_instance {
          instances = [var.cloudsql_connection_name]
        }
      }

      containers {
        image = var.image
        args  = ["migrate"]

        dynamic "env" {
          for_each = var.env
          content {
            name  = env.key
            value = env.value
          }
        }

        dynamic "env" {
          for_each = var.secret_env
          content {
            name = env.key
            value_source {
              secret_key_ref {
                secret  = env.value
                version = "latest"
              }
            }
          }
        }

        volume_mounts {
          name       = "cloudsql"
          mount_path = local.cloudsql_mount
        }
      }
    }
  }

  lifecycle {
    ignore_changes = [template[0].template[0].containers[0].image, client, client_version]
  }

  depends_on = [google_secret_manager_secret_iam_member.runtime, google_project_iam_member.runtime]
}
