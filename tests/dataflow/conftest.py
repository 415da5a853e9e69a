import uuid

import pytest

from dataflow.risk_pipeline import schemas


@pytest.fixture
def bq_dataset(bigquery_emulator):
    """A fresh risk dataset (tables from the JSON schemas) in the BigQuery emulator, dropped after."""
    client = bigquery_emulator.client()
    name = f"risk_{uuid.uuid4().hex[:10]}"
    schemas.bootstrap(client, dataset=name)
    yield name
    client.delete_dataset(name, delete_contents=True, not_found_ok=True)


def bq_rows(client, sql: str) -> list[dict]:
    from google.cloud import bigquery

    retry = bigquery.DEFAULT_RETRY.with_deadline(10)
    return [dict(row) for row in client.query(sql, retry=retry, job_retry=None, timeout=10).result(timeout=10)]
