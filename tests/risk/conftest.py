import uuid

import pytest


@pytest.fixture
def risk_dataset(bigquery_emulator, settings):
    """A fresh risk dataset in the BigQuery emulator, named for this test, dropped after it."""
    from risk.bigquery import bigquery_bootstrap, bigquery_client

    settings.BIGQUERY_DATASET = f"risk_{uuid.uuid4().hex[:10]}"
    bigquery_bootstrap()
    yield settings.BIGQUERY_DATASET
    bigquery_client().delete_dataset(settings.BIGQUERY_DATASET, delete_contents=True, not_found_ok=True)
