"""The whole pipeline graph, batch, into the BigQuery emulator: all three tables and the writer's dead letters."""

import json
from decimal import Decimal

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.direct.direct_runner import BundleBasedDirectRunner

from dataflow.risk_pipeline.main import RiskPipelineOptions, build
from dataflow.risk_pipeline.transforms import WriteToBigQueryTable
from tests.dataflow.conftest import bq_rows
from tests.dataflow.events import eid, envelope, message, sid


def options(emulator, dataset):
    return PipelineOptions(
        [
            "--output_project",
            emulator.project,
            "--output_dataset",
            dataset,
            "--bigquery_endpoint",
            emulator.endpoint,
            "--early_firing_seconds",
            "0",  # batch: no processing-time clock
        ]
    )


def test_events_exposures_and_dead_letters_land_in_their_tables(bigquery_emulator, bq_dataset):
    created = envelope(
        event_id=eid("evt_1"),
        action="created",
        settlement_id=sid("stl_1"),
        at=5,
        payer="acme",
        payee="globex",
        amount="1.000000000000000001",
        asset="ETH",
    )
    messages = [
        message(created),
        message(created),  # re-published: recorded twice as a delivery, counted once
        message(
            envelope(
                event_id=eid("evt_2"),
                action="funded",
                settlement_id=sid("stl_1"),
                at=9,
                payer="acme",
                payee="globex",
                amount="1.000000000000000001",
                asset="ETH",
                sequence=2,
            )
        ),
        message(b'{"specversion": "1.0", "id": eid("evt_bad")'),
    ]
    opts = options(bigquery_emulator, bq_dataset)
    with beam.Pipeline(runner=BundleBasedDirectRunner(), options=opts) as p:
        build(p, opts.view_as(RiskPipelineOptions), messages=p | beam.Create(messages, reshuffle=False))

    client, table = bigquery_emulator.client(), f"{bigquery_emulator.project}.{bq_dataset}"
    events = bq_rows(
        client,
        f"SELECT event_id, type, amount, amount_base_units, asset_decimals, "
        f"JSON_VALUE(envelope, '$.data.payer_reference') AS payer FROM `{table}.settlement_events` "
        "ORDER BY event_id",
    )
    assert [(e["event_id"], e["amount_base_units"], e["payer"]) for e in events] == [
        (eid("evt_1"), Decimal(10**18 + 1), "acme"),
        (eid("evt_1"), Decimal(10**18 + 1), "acme"),
        (eid("evt_2"), Decimal(10**18 + 1), "acme"),
    ]
    exposures = bq_rows(client, f"SELECT * FROM `{table}.portfolio_exposures` ORDER BY counterparty")
    assert [
        (
            e["counterparty"],
            e["asset"],
            e["event_count"],
            e["pending_gross"],
            e["funded_net"],
            e["exposure_change_net"],
            e["asset_decimals"],
        )
        for e in exposures
    ] == [
        ("acme", "ETH", 2, Decimal(10**18 + 1), Decimal(-(10**18 + 1)), Decimal(-(10**18 + 1)), 18),
        ("globex", "ETH", 2, Decimal(10**18 + 1), Decimal(10**18 + 1), Decimal(10**18 + 1), 18),
    ]
    dead = bq_rows(client, f"SELECT stage, error, payload, attributes FROM `{table}.dead_letter`")
    assert len(dead) == 1
    assert dead[0]["stage"] == "parse" and dead[0]["error"].startswith("not JSON")
    assert dead[0]["payload"] == '{"specversion": "1.0", "id": eid("evt_bad")'


def test_a_row_bigquery_refuses_goes_to_the_dead_letter_table_and_the_rest_land(bigquery_emulator, bq_dataset):
    good = {"failed_at": "2026-11-28T10:00:00Z", "stage": "parse", "error": "e1", "payload": "p1", "attributes": "{}"}
    bad = {**good, "error": "e2", "failed_at": "not a time"}
    with beam.Pipeline(runner=BundleBasedDirectRunner()) as p:
        _ = (
            p
            | beam.Create([good, bad])
            | WriteToBigQueryTable(
                project=bigquery_emulator.project,
                dataset=bq_dataset,
                table="dead_letter",
                endpoint=bigquery_emulator.endpoint,
            )
        )

    rows = bq_rows(
        bigquery_emulator.client(),
        f"SELECT stage, error, payload, target_table FROM `{bigquery_emulator.project}.{bq_dataset}.dead_letter` "
        "ORDER BY stage",
    )
    assert [r["error"] for r in rows if r["stage"] == "parse"] == ["e1"]
    refused = [r for r in rows if r["stage"] == "insert"]
    assert len(refused) == 1
    assert refused[0]["target_table"].endswith(".dead_letter")
    assert json.loads(refused[0]["payload"])["failed_at"] == "not a time"
    assert refused[0]["error"]  # the emulator's reason, whatever its words
