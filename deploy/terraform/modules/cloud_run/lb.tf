# External HTTPS load balancer in front of the web service, created when domains are set. Cloud
# Armor (modules/security) attaches to its backend service.
locals {
  lb_count = length(var.domains) > 0 ? 1 : 0
}

resource "google_compute_region_network_endpoint_group" "web" {
  count                 = local.lb_count
  project               = var.project_id
  name                  = "${var.name}-web-neg"
  region                = var.region
  network_endpoint_type = "SERVERLESS"

  cloud_run {
    service = google_cloud_run_v2_service.web.name
  }
}

resource "google_compute_backend_service" "web" {
  count                 = local.lb_count
  project               = var.project_id
  name                  = "${var.name}-web"
  protocol              = "HTTPS"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  security_policy       = var.security_policy_id

  backend {
    group = google_compute_region_network_endpoint_group.web[0].id
  }

  log_config {
    enable      = true
    sample_rate = 1.0
  }
}

resource "google_compute_url_map" "web" {
  count           = local.lb_count
  project         = var.project_id
  name            = "${var.name}-web"
  default_service = google_compute_backend_service.web[0].id
}

resource "google_compute_managed_ssl_certificate" "web" {
  count   = local.lb_count
  project = var.project_id
  name    = "${var.name}-web"

  managed {
    domains = var.domains
  }
}

resource "google_compute_ssl_policy" "modern" {
  count           = local.lb_count
  project         = var.project_id
  name            = "${var.name}-tls12"
  profile         = "MODERN"
  min_tls_version = "TLS_1_2"
}

resource "google_compute_target_https_proxy" "web" {
  count            = local.lb_count
  project          = var.project_id
  name             = "${var.name}-web"
  url_map          = google_compute_url_map.web[0].id
  ssl_certificates = [google_compute_managed_ssl_certificate.web[0].id]
  ssl_policy       = google_compute_ssl_policy.modern[0].id
}

resource "google_compute_global_address" "web" {
  count   = local.lb_count
  project = var.project_id
  name    = "${var.name}-web"
}

resource "google_compute_global_forwarding_rule" "https" {
  count                 = local.lb_count
  project               = var.project_id
  name                  = "${var.name}-web-https"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  target                = google_compute_target_https_proxy.web[0].id
  ip_address            = google_compute_global_address.web[0].id
  port_range            = "443"
}

# Plain HTTP only redirects to HTTPS.
resource "google_compute_url_map" "redirect" {
  count   = local.lb_count
  project = var.project_id
  name    = "${var.name}-web-redirect"

  default_url_redirect {
    https_redirect         = true
    redirect_response_code = "MOVED_PERMANENTLY_DEFAULT"
    strip_query            = false
  }
}

resource "google_compute_target_http_proxy" "redirect" {
  count   = local.lb_count
  project = var.project_id
  name    = "${var.name}-web-redirect"
  url_map = google_compute_url_map.redirect[0].id
}

resource "google_compute_global_forwarding_rule" "http" {
  count                 = local.lb_count
  project               = var.project_id
  name                  = "${var.name}-web-http"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  target                = google_compute_target_http_proxy.redirect[0].id
  ip_address            = google_compute_global_address.web[0].id
  port_range            = "80"
}
