"""The risk dataset on the BigQuery emulator: bootstrap from the JSON schemas, and history reads."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from google.cloud import bigquery

from dataflow.risk_pipeline import schemas
from risk.bigquery import BigQueryUnavailable, bigquery_client, exposure_history, table_id

T = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def exposure_row(counterparty, minute, pane_index, change, *, asset="USD", decimals=2, timing="ON_TIME"):
    start = T + timedelta(minutes=minute)
    zero = {f"{b}_{k}": "0" for b in ("pending", "funded", "settled", "released") for k in ("gross", "net")}
    return {
        "counterparty": counterparty,
        "asset": asset,
        "asset_decimals": decimals,
        "window_start": start.isoformat(),
        "window_end": (start + timedelta(minutes=1)).isoformat(),
        **zero,
        "exposure_change_gross": str(change),
        "exposure_change_net": str(change),
        "event_count": 1,
        "settlement_count": 1,
        "pane_timing": timing,
        "pane_index": pane_index,
        "emitted_at": start.isoformat(),
    }


def insert_exposures(rows):
    assert bigquery_client().insert_rows_json(table_id(schemas.PORTFOLIO_EXPOSURES), rows) == []


def test_bootstrap_creates_every_table_from_the_json_schemas_and_is_idempotent(risk_dataset, capsys):
    client = bigquery_client()
    same = {"INTEGER": "INT64", "BOOLEAN": "BOOL", "FLOAT": "FLOAT64"}  # legacy and standard SQL names
    for name in schemas.table_names():
        table = client.get_table(table_id(name))
        assert [(f.name, same.get(f.field_type, f.field_type), f.mode) for f in table.schema] == [
            (f["name"], f["type"], f["mode"]) for f in schemas.table_fields(name)
        ]
    call_command("bigquery_bootstrap")
    out = capsys.readouterr().out
    assert f"exists   {risk_dataset}.portfolio_exposures" in out
    assert "created" not in out


def test_bootstrap_adds_the_columns_a_newer_schema_has(bigquery_emulator, settings):
    settings.BIGQUERY_DATASET = "risk_upgrade"
    client = bigquery_client()
    client.create_dataset("risk_upgrade", exists_ok=True)
    old = [bigquery.SchemaField.from_api_repr(f) for f in schemas.table_fields("dead_letter")[:3]]
    client.create_table(bigquery.Table(table_id("dead_letter"), schema=old))
    try:
        call_command("bigquery_bootstrap")
        names = [f.name for f in client.get_table(table_id("dead_letter")).schema]
        assert names == schemas.column_names("dead_letter")
    finally:
        client.delete_dataset("risk_upgrade", delete_contents=True, not_found_ok=True)


def test_bootstrap_says_clearly_when_bigquery_is_unreachable(settings):
    from tests.support.processes import free_port

    settings.BIGQUERY_EMULATOR_HOST = f"http://127.0.0.1:{free_port()}"
    settings.BIGQUERY_TIMEOUT_SECONDS = 1.0
    with pytest.raises(CommandError, match="could not be reached"):
        call_command("bigquery_bootstrap")


def test_history_sums_the_final_pane_of_each_window_into_exposure(risk_dataset):
    insert_exposures(
        [
            # before the charted period: 10.00 opened
            exposure_row("acme", 0, 0, 1000),
            # minute 5: an early pane (ignored) then the final one
            exposure_row("acme", 5, 0, 999999, timing="EARLY"),
            exposure_row("acme", 5, 1, 250),
            # minute 6: 2.50 released, in a late pane after the on-time one
            exposure_row("acme", 6, 0, 100),
            exposure_row("acme", 6, 1, -250, timing="LATE"),
            # another asset with 18 decimals: stays exact
            exposure_row("acme", 5, 0, 10**18 + 1, asset="ETH", decimals=18),
        ]
    )

    points = exposure_history(since=T + timedelta(minutes=2), until=T + timedelta(minutes=60))

    assert [(p.asset, p.window_start.minute, p.exposure, p.pane_timing) for p in points] == [
        ("ETH", 5, Decimal("1.000000000000000001"), "ON_TIME"),
        ("USD", 5, Decimal("12.50"), "ON_TIME"),
        ("USD", 6, Decimal("10.00"), "LATE"),
    ]


def test_history_reports_an_unreachable_bigquery_instead_of_hanging(settings):
    from tests.support.processes import free_port

    settings.BIGQUERY_EMULATOR_HOST = f"http://127.0.0.1:{free_port()}"
    settings.BIGQUERY_TIMEOUT_SECONDS = 1.0
    with pytest.raises(BigQueryUnavailable, match="could not be read"):
        exposure_history(since=T, until=T + timedelta(minutes=1))
