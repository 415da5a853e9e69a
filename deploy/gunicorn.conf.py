"""Gunicorn settings for the web role, all from the environment (set per service in Terraform)."""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8080')}"
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "25"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))
# Import Django before binding: an open port then means the app loaded (the Cloud Run startup probe
# is a TCP check), and workers share the imported code.
preload_app = True
# Recycle workers now and then so a slow leak cannot take an instance down.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# Cloud Run's front end terminates TLS and sets X-Forwarded-*.
forwarded_allow_ips = "*"
# Heartbeat files on tmpfs: the container filesystem can stall them (gunicorn's advice for containers).
worker_tmp_dir = "/dev/shm"  # noqa: S108  # nosec B108
