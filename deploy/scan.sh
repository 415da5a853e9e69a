#!/usr/bin/env bash
# Security scans for CI (issue 7): checkov over deploy/ and bandit over the Python code.
#   - checkov: Terraform, Dockerfile and secrets; any failed check fails the run (stricter than "no
#     high severity": checkov has no severities offline). Suppressions are inline
#     `#checkov:skip=ID:reason` comments next to the resource they concern.
#   - bandit: no finding of high severity in the application, pipeline and deploy code.
# The scanners live in their own virtualenv (.venv-checkov): checkov pins its own dependency set,
# which must not move the application's pins. Idempotent: a stamp named after the pins skips the
# install on later runs. The Django deploy check runs in pytest (tests/deploy/test_production_settings.py).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${SCAN_VENV:-.venv-checkov}"
PYTHON="${PYTHON:-python3}"
PINS=(checkov==3.3.30 bandit==1.9.4)
STAMP="$VENV/.installed-$(printf '%s\n' "${PINS[@]}" | sha1sum | cut -c1-12)"

if [ ! -f "$STAMP" ]; then
  echo "Creating $VENV (${PINS[*]})…"
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet "${PINS[@]}"
  rm -f "$VENV"/.installed-*
  touch "$STAMP"
fi

start=$(date +%s)
echo "== checkov (deploy/: terraform, dockerfile, secrets)"
"$VENV/bin/checkov" --directory deploy --framework terraform dockerfile secrets \
  --skip-download --quiet --compact --output cli
checkov_done=$(date +%s)

echo "== bandit (application, pipeline and deploy code; high severity fails)"
"$VENV/bin/bandit" --quiet --recursive fusionprime settlements escrow webhooks risk dataflow deploy manage.py \
  --exclude '*/migrations/*,*/node_modules/*' --severity-level high
end=$(date +%s)
echo "scans passed: checkov $((checkov_done - start))s, bandit $((end - checkov_done))s"
