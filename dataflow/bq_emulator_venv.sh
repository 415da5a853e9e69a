#!/usr/bin/env bash
# Creates (or checks) .venv-bq: the BigQuery emulator in its own virtualenv, pinned as the toolchain
# note says — a plain `pip install bqemulator` pulls DuckDB 2.x, which tries to download its
# spatial extension at start-up and fails on machines that reach only PyPI. Idempotent: a stamp
# file named after the pins makes a second run a no-op.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-bq
PYTHON="${PYTHON:-python3}"
PINS=(bqemulator==1.4.0 duckdb==1.5.5 duckdb-extension-spatial==1.5.5 duckdb-extensions==1.5.5 numpy)
STAMP="$VENV/.installed-$(printf '%s\n' "${PINS[@]}" | sha1sum | cut -c1-12)"

if [ -f "$STAMP" ] && [ -x "$VENV/bin/bqemulator" ]; then
  exit 0
fi

echo "Creating $VENV (BigQuery emulator: ${PINS[*]})…"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "${PINS[@]}"
# DuckDB loads spatial from its extension directory; this copies the PyPI-shipped build there once,
# so the emulator never tries to download it.
"$VENV/bin/python" -c "from duckdb_extensions import import_extension; import_extension('spatial')"
"$VENV/bin/bqemulator" --help >/dev/null
rm -f "$VENV"/.installed-*
touch "$STAMP"
echo "$VENV ready."
