# Fusion Prime — the two commands: `make run` and `make test`. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements/base.txt requirements/dev.txt 2>/dev/null | sha1sum | cut -c1-12)

.PHONY: venv run test test-python test-contracts test-deps bench pipeline migrate lint clean

venv: $(STAMP)

$(STAMP): requirements/base.txt requirements/dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is required"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt
	@rm -f $(VENV)/.installed-*; touch $@

migrate: venv
	$(BIN)/python manage.py migrate --noinput

# The main job on embedded defaults: SQLite, a filesystem broker, events spooled to var/.
run: venv migrate
	$(BIN)/python manage.py seed_demo
	$(BIN)/honcho -f deploy/local/Procfile -d . start

test-deps: venv
	@bash .ci/test-deps.sh
	@bash dataflow/bq_emulator_venv.sh

test-contracts:
	@if [ -f contracts/ci.sh ]; then bash contracts/ci.sh; fi

test-python: test-deps
	$(BIN)/python -m pytest

# Contracts first, so pytest's summary closes the output.
test: test-deps test-contracts test-python

# The risk pipeline on Beam's local runner against the Pub/Sub and BigQuery emulators (Ctrl-C stops).
pipeline: venv
	@bash dataflow/bq_emulator_venv.sh
	bash dataflow/run_local.sh $(ARGS)

bench: venv
	$(BIN)/python -m tests.benchmarks

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .venv-bq .venv-checkov var .pytest_cache .coverage htmlcov
