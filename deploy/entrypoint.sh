#!/bin/sh
# Runs one role of the Fusion Prime image, chosen by the first argument (see deploy/Dockerfile).
# Everything is configured by environment variables (Cloud Run injects secrets from Secret Manager).
set -eu

# Overridable only so tests/deploy can run this script outside the image.
APP_DIR="${APP_DIR:-/app}"
BEAM_BOOT="${BEAM_BOOT:-/opt/apache/beam/boot}"
FLEX_LAUNCHER="${FLEX_LAUNCHER:-/opt/google/dataflow/python_template_launcher}"

# Dataflow starts worker containers with Beam's boot flags (--id=…, --logging_endpoint=…).
case "${1:-}" in
  --*) exec "$BEAM_BOOT" "$@" ;;
esac

# The Flex Template spec sets FLEX_TEMPLATE_PYTHON_PY_FILE; on the launcher VM the image is only
# ever started to build the job graph.
if [ -n "${FLEX_TEMPLATE_PYTHON_PY_FILE:-}" ] && [ $# -eq 0 -o "${1:-}" = "web" ]; then
  exec "$FLEX_LAUNCHER"
fi

role="${1:-web}"
[ $# -gt 0 ] && shift

case "$role" in
  web)
    exec gunicorn --config "$APP_DIR/deploy/gunicorn.conf.py" fusionprime.wsgi:application "$@"
    ;;
  worker)
    exec celery --app fusionprime worker \
      --loglevel "${LOG_LEVEL:-INFO}" \
      --concurrency "${CELERY_WORKER_CONCURRENCY:-2}" \
      --max-tasks-per-child "${CELERY_WORKER_MAX_TASKS_PER_CHILD:-1000}" \
      --without-gossip --without-mingle "$@"
    ;;
  beat)
    # Exactly one beat runs (a Cloud Run worker pool with one instance); the schedule lives in the
    # database (django-celery-beat), so a restart loses nothing.
    exec celery --app fusionprime beat --loglevel "${LOG_LEVEL:-INFO}" "$@"
    ;;
  migrate)
    python "$APP_DIR/manage.py" migrate --noinput "$@"
    # Idempotent: creates whatever Pub/Sub/BigQuery objects the app expects that Terraform did not.
    if [ "${BOOTSTRAP_AFTER_MIGRATE:-false}" = "true" ]; then
      python "$APP_DIR/manage.py" pubsub_bootstrap
      python "$APP_DIR/manage.py" bigquery_bootstrap
    fi
    exec python "$APP_DIR/manage.py" check --deploy --fail-level WARNING
    ;;
  beam)
    # Launches the risk pipeline directly (e.g. DataflowRunner from a Cloud Build step, or a local
    # runner); the Flex Template path above is the normal way on Dataflow.
    exec python "$APP_DIR/deploy/dataflow_launcher.py" "$@"
    ;;
  manage)
    exec python "$APP_DIR/manage.py" "$@"
    ;;
  healthcheck)
    # Role-aware: PID 1's command line says which role this container runs.
    cmdline="$(tr '\0' ' ' </proc/1/cmdline 2>/dev/null || true)"
    case "$cmdline" in
      *gunicorn*)
        exec python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8080'), timeout=4)"
        ;;
      *"celery"*"worker"*)
        exec celery --app fusionprime inspect ping --destination "celery@$(hostname)" --timeout 4
        ;;
      *)
        exit 0
        ;;
    esac
    ;;
  *)
    echo "Unknown role '$role'. Use one of: web, worker, beat, migrate, beam, manage, healthcheck." >&2
    exit 64
    ;;
esac
