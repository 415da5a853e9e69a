#!/usr/bin/env bash
# `make pipeline`: the risk pipeline on Beam's local runner against Google's Pub/Sub emulator and
# the BigQuery emulator (bqemulator). Emulators already running are used as they are
# (PUBSUB_EMULATOR_HOST, BIGQUERY_EMULATOR_HOST); otherwise this starts them on 127.0.0.1 and stops
# them on exit. Creates the topics, the pipeline subscription and the BigQuery tables, then runs
# until Ctrl-C. Extra arguments go to the pipeline (e.g. --early_firing_seconds 2).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
PROJECT="${GCP_PROJECT_ID:-fusionprime-local}"
export GCP_PROJECT_ID="$PROJECT"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-fusionprime.settings.local}"
SUBSCRIPTION="${PUBSUB_PIPELINE_SUBSCRIPTION:-settlement.events.v1.risk-pipeline}"
DATASET="${BIGQUERY_DATASET:-risk}"
# Beam's DirectRunner alias first tries to download the Prism runner; name the local runner instead.
RUNNER=apache_beam.runners.direct.direct_runner.BundleBasedDirectRunner

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {
  for _ in $(seq 1 300); do port_open "$1" && return 0; sleep 0.2; done
  echo "$2 did not open 127.0.0.1:$1 within 60 s (log: $3)" >&2; return 1
}

started=()
cleanup() {
  for pid in "${started[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p var

if [ -z "${PUBSUB_EMULATOR_HOST:-}" ]; then
  port="${PUBSUB_EMULATOR_PORT:-8085}"
  port_open "$port" && { echo "127.0.0.1:$port is taken: set PUBSUB_EMULATOR_HOST to use a running emulator, or PUBSUB_EMULATOR_PORT." >&2; exit 1; }
  sdk_root="$(gcloud info --format='value(installation.sdk_root)' 2>/dev/null || true)"
  launcher="$sdk_root/platform/pubsub-emulator/bin/cloud-pubsub-emulator"
  [ -x "$launcher" ] || { echo "Google's Pub/Sub emulator is missing: install the Google Cloud CLI with its pubsub-emulator component and Java 17." >&2; exit 1; }
  setsid "$launcher" --host=127.0.0.1 --port="$port" >var/pubsub-emulator.log 2>&1 &
  started+=($!)
  wait_port "$port" "Pub/Sub emulator" var/pubsub-emulator.log
  export PUBSUB_EMULATOR_HOST="127.0.0.1:$port"
fi

if [ -z "${BIGQUERY_EMULATOR_HOST:-}" ]; then
  rest="${BIGQUERY_EMULATOR_PORT:-9050}"; grpc="${BIGQUERY_EMULATOR_GRPC_PORT:-9060}"
  port_open "$rest" && { echo "127.0.0.1:$rest is taken: set BIGQUERY_EMULATOR_HOST to use a running emulator, or BIGQUERY_EMULATOR_PORT." >&2; exit 1; }
  bash dataflow/bq_emulator_venv.sh
  mkdir -p var/bqemulator
  # Persistent, so the exposure history outlives a restart.
  setsid .venv-bq/bin/bqemulator start --rest-port "$rest" --grpc-port "$grpc" --project "$PROJECT" \
    --persistent --data-dir var/bqemulator --log-level warning >var/bqemulator.log 2>&1 &
  started+=($!)
  wait_port "$rest" "BigQuery emulator" var/bqemulator.log
  export BIGQUERY_EMULATOR_HOST="http://127.0.0.1:$rest"
fi

"$PY" manage.py pubsub_bootstrap
"$PY" manage.py bigquery_bootstrap --dataset "$DATASET"

cat <<MSG
Risk pipeline on the local runner: projects/$PROJECT/subscriptions/$SUBSCRIPTION → $PROJECT.$DATASET.*
For the web app and the dashboard to use the same emulators, start them with:
  export PUBSUB_EMULATOR_HOST=$PUBSUB_EMULATOR_HOST BIGQUERY_EMULATOR_HOST=$BIGQUERY_EMULATOR_HOST GCP_PROJECT_ID=$PROJECT
The local runner's Pub/Sub read blocks up to 30 s per pull: expect rows ~30 s after a command.
MSG

"$PY" -m dataflow.risk_pipeline.main \
  --runner="$RUNNER" --streaming \
  --project="$PROJECT" \
  --input_subscription="projects/$PROJECT/subscriptions/$SUBSCRIPTION" \
  --output_project="$PROJECT" --output_dataset="$DATASET" \
  --bigquery_endpoint="$BIGQUERY_EMULATOR_HOST" \
  --id_label= \
  "$@"
