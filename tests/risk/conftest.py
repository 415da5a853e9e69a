import uuid

import pytest


@pytest.fixture(autouse=True)
def _treasury_risk_permissions(request, _reference_data):
    """A flush also drops the treasury group's risk permissions (a data migration's rows): restore them."""
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or {
        "transactional_db",
        "live_server",
    } & set(request.fixturenames)
    if transactional:
        from django.contrib.auth.models import Group, Permission

        from risk.reference_data import install_treasury_risk_permissions

        install_treasury_risk_permissions(Group, Permission)


@pytest.fixture
def risk_dataset(bigquery_emulator, settings):
    """A fresh risk dataset in the BigQuery emulator, named for this test, dropped after it."""
    from risk.bigquery import bigquery_bootstrap, bigquery_client

    settings.BIGQUERY_DATASET = f"risk_{uuid.uuid4().hex[:10]}"
    bigquery_bootstrap()
    yield settings.BIGQUERY_DATASET
    bigquery_client().delete_dataset(settings.BIGQUERY_DATASET, delete_contents=True, not_found_ok=True)
