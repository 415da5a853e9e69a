#!/usr/bin/env bash
# What `make test` needs beside the virtualenv: PostgreSQL, Redis, Chromium for the admin browser
# tests, and the Pub/Sub emulator (started by the tests themselves). Says clearly what is missing.
set -euo pipefail

PG_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/fusionprime}"
REDIS_HOST=127.0.0.1
REDIS_PORT=6379

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

pg_hostport=$(python3 -c "import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(p.hostname or '127.0.0.1', p.port or 5432)" "$PG_URL")
read -r pg_host pg_port <<<"$pg_hostport"
if ! port_open "$pg_host" "$pg_port"; then
  if command -v pg_ctlcluster >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "Starting PostgreSQL…"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    sleep 2
  fi
  port_open "$pg_host" "$pg_port" || { echo "PostgreSQL is not reachable at $pg_host:$pg_port (set DATABASE_URL)." >&2; exit 1; }
fi

if ! port_open "$REDIS_HOST" "$REDIS_PORT"; then
  if command -v redis-server >/dev/null; then
    echo "Starting Redis…"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no >/dev/null
    sleep 1
  fi
  port_open "$REDIS_HOST" "$REDIS_PORT" || { echo "Redis is not reachable at $REDIS_HOST:$REDIS_PORT." >&2; exit 1; }
fi

if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Debian's Chromium for the admin browser tests…"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || { echo "Could not install chromium." >&2; exit 1; }
  else
    echo "Chromium is missing: install Debian's 'chromium' package (the admin browser tests need it)." >&2
    exit 1
  fi
fi

if ! command -v gcloud >/dev/null || [ ! -x "$(gcloud info --format='value(installation.sdk_root)' 2>/dev/null)/platform/pubsub-emulator/bin/cloud-pubsub-emulator" ]; then
  echo "Google's Pub/Sub emulator is missing: install the Google Cloud CLI with the pubsub-emulator component and Java 17." >&2
  exit 1
fi
