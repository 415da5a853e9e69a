"""The BigQuery emulator (`bqemulator`, DuckDB-backed) as one process the tests own.

It lives in its own virtualenv, `.venv-bq`, made by `dataflow/bq_emulator_venv.sh` with the pins
the toolchain note gives (a plain install pulls a DuckDB that tries to download an extension).
"""

import subprocess
from pathlib import Path

from tests.support.processes import free_port, stop, wait_for_port

REPO_ROOT = Path(__file__).resolve().parents[2]
BQEMULATOR = REPO_ROOT / ".venv-bq" / "bin" / "bqemulator"
PROJECT = "fusionprime-local"


class BigQueryEmulator:
    def __init__(self, project: str = PROJECT):
        if not BQEMULATOR.exists():
            raise RuntimeError(
                f"{BQEMULATOR} is missing: run `bash dataflow/bq_emulator_venv.sh` (make test does) "
                "to create the BigQuery emulator's virtualenv."
            )
        self.project = project
        self.rest_port = free_port()
        self.grpc_port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.rest_port}"
        self.log = Path(f"/tmp/bqemulator-{self.rest_port}.log")
        self.proc: subprocess.Popen | None = None

    def start(self) -> "BigQueryEmulator":
        self.proc = subprocess.Popen(
            [
                str(BQEMULATOR),
                "start",
                "--rest-port",
                str(self.rest_port),
                "--grpc-port",
                str(self.grpc_port),
                "--project",
                self.project,
                "--log-level",
                "warning",
            ],
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for_port(self.rest_port, timeout=60, proc=self.proc, what="BigQuery emulator")
        return self

    def stop(self) -> None:
        if self.proc:
            stop(self.proc)

    def client(self):
        from dataflow.risk_pipeline.clients import bigquery_client

        return bigquery_client(project=self.project, endpoint=self.endpoint)
