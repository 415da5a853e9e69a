"""Writing rows to BigQuery with the google-cloud-bigquery client (streaming inserts).

One client per DoFn instance, pointed at the emulator when an endpoint is given, so the same code
runs locally and on Dataflow. Rows are buffered per bundle. A row BigQuery refuses goes to the
dead-letter table with the error (as Google's Pub/Sub-to-BigQuery template does) instead of
failing the bundle; only a failure to write the dead letter itself fails it, so the runner
retries rather than lose it.
"""

import json
import logging
import time

import apache_beam as beam

from ..clients import bigquery_client
from ..schemas import DEAD_LETTER
from .parse import dead_letter_row

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
ATTEMPTS = 3


class InsertRows(beam.DoFn):
    def __init__(
        self,
        *,
        project: str,
        dataset: str,
        table: str,
        endpoint: str | None = None,
        row_id_fields: tuple[str, ...] = (),
        timeout: float = 30.0,
    ):
        self.project = project
        self.dataset = dataset
        self.table = table
        self.endpoint = endpoint
        self.row_id_fields = row_id_fields
        self.timeout = timeout
        self.rows: list[dict] = []
        self.client = None
        self.retry = None

    def setup(self):
        import requests
        from google.api_core.retry import Retry, if_exception_type

        self.client = bigquery_client(project=self.project, endpoint=self.endpoint)
        # Connection drops are retried briefly; anything else is classified by the caller (the client's
        # default retry would repeat a 500 — the emulator's answer to a bad row — for ten minutes).
        self.retry = Retry(
            predicate=if_exception_type(requests.exceptions.ConnectionError),
            initial=0.1,
            maximum=2.0,
            timeout=self.timeout,
        )

    def table_id(self, table: str) -> str:
        return f"{self.project}.{self.dataset}.{table}"

    def start_bundle(self):
        self.rows = []

    def process(self, row):
        self.rows.append(row)
        if len(self.rows) >= BATCH_SIZE:
            self._flush()

    def finish_bundle(self):
        self._flush()

    def _row_id(self, row: dict) -> str | None:
        # insertId: real BigQuery drops a retried insert of the same row (the emulator does not).
        if not self.row_id_fields:
            return None
        return "|".join(str(row.get(field)) for field in self.row_id_fields)

    def _insert(self, table: str, rows: list[dict]) -> list[dict]:
        row_ids = [self._row_id(row) for row in rows] if self.row_id_fields and table == self.table else None
        return self.client.insert_rows_json(
            self.table_id(table), rows, row_ids=row_ids, retry=self.retry, timeout=self.timeout
        )

    def _flush(self):
        rows, self.rows = self.rows, []
        if not rows:
            return
        refused = self._insert_with_retries(rows)
        if refused:
            dead = [
                dead_letter_row(
                    payload=json.dumps(row, sort_keys=True, default=str),
                    attributes=None,
                    error=error,
                    stage="insert",
                    event_id=row.get("event_id"),
                    target_table=self.table_id(self.table),
                )
                for row, error in refused
            ]
            logger.warning("risk_pipeline.rows_refused", extra={"table": self.table, "count": len(dead)})
            errors = self._insert(DEAD_LETTER, dead)
            if errors:
                raise RuntimeError(f"dead-letter insert failed: {errors[:3]}")

    def _insert_with_retries(self, rows: list[dict]) -> list[tuple[dict, str]]:
        """Inserts the batch; returns the rows BigQuery refused, with why."""
        last_exc: Exception | None = None
        for attempt in range(ATTEMPTS):
            try:
                errors = self._insert(self.table, rows)
            except Exception as exc:  # noqa: BLE001 - classified below
                last_exc = exc
                time.sleep(0.2 * 2**attempt)
                continue
            return [(rows[e["index"]], json.dumps(e.get("errors"), default=str)) for e in errors]
        # The whole batch failed (the emulator answers a bad row with a 500 for the batch): find
        # the bad rows one by one so the good ones still land.
        logger.warning("risk_pipeline.batch_insert_failed", extra={"table": self.table, "error": str(last_exc)})
        refused = []
        for row in rows:
            try:
                errors = self._insert(self.table, [row])
            except Exception as exc:  # noqa: BLE001 - recorded as the row's dead letter
                refused.append((row, f"{type(exc).__name__}: {exc}"))
                continue
            refused.extend((row, json.dumps(e.get("errors"), default=str)) for e in errors)
        return refused


class WriteToBigQueryTable(beam.PTransform):
    def __init__(
        self,
        *,
        project: str,
        dataset: str,
        table: str,
        endpoint: str | None = None,
        row_id_fields: tuple[str, ...] = (),
    ):
        super().__init__()
        self.fn = InsertRows(
            project=project, dataset=dataset, table=table, endpoint=endpoint, row_id_fields=row_id_fields
        )

    def expand(self, rows):
        return rows | beam.ParDo(self.fn)
