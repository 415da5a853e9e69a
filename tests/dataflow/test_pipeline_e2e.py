"""End to end: REST commands → event outbox → Pub/Sub emulator → the pipeline on Beam's local runner →
rows in the BigQuery emulator, with the exposures asserted and the command → BigQuery latency measured.

The pipeline runs as its own process, exactly as `dataflow/run_local.sh` starts it, with short Pub/Sub
pulls (see dataflow/risk_pipeline/local_runner.py); every wait is bounded.
"""

import json
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from fusionprime.events.models import Event
from fusionprime.events.publisher import get_backend
from fusionprime.events.services import events_publish_pending
from tests.dataflow.conftest import bq_rows
from tests.support.processes import stop

pytestmark = [pytest.mark.pubsub, pytest.mark.django_db]

ROOT = Path(__file__).resolve().parents[2]
RUNNER = "apache_beam.runners.direct.direct_runner.BundleBasedDirectRunner"
PROJECT = "fusionprime-local"


def post(api, path, body):
    response = api.post(
        path, data=json.dumps(body), content_type="application/json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())
    )
    assert response.status_code in (200, 201), response.content
    return response.json()


def wait_for(what: str, probe, *, timeout: float, proc: subprocess.Popen, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(
                f"the pipeline exited with {proc.returncode} while waiting for {what}:\n{log.read_text()[-3000:]}"
            )
        result = probe()
        if result:
            return result
        time.sleep(0.25)
    pytest.fail(f"timed out after {timeout}s waiting for {what}; pipeline log:\n{log.read_text()[-3000:]}")


@pytest.fixture
def pipeline(pubsub_emulator, bigquery_emulator, bq_dataset, settings, tmp_path):
    """The risk pipeline reading a subscription of its own, writing to this test's dataset."""
    from google.cloud import pubsub_v1

    settings.GCP_PROJECT_ID = PROJECT
    call_command("pubsub_bootstrap", stdout=open("/dev/null", "w"))
    subscriber = pubsub_v1.SubscriberClient()
    subscription = subscriber.subscription_path(PROJECT, f"risk-e2e-{uuid.uuid4().hex[:8]}")
    subscriber.create_subscription(
        request={"name": subscription, "topic": f"projects/{PROJECT}/topics/{settings.PUBSUB_TOPIC_SETTLEMENT_EVENTS}"},
        timeout=10,
    )
    log = tmp_path / "pipeline.log"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dataflow.risk_pipeline.main",
            f"--runner={RUNNER}",
            "--streaming",
            f"--project={PROJECT}",
            f"--input_subscription={subscription}",
            f"--output_project={PROJECT}",
            f"--output_dataset={bq_dataset}",
            f"--bigquery_endpoint={bigquery_emulator.endpoint}",
            "--id_label=",
            "--early_firing_seconds=2",
            "--local_pull_timeout_seconds=1",
        ],
        cwd=ROOT,
        env={**__import__("os").environ, "PUBSUB_EMULATOR_HOST": pubsub_emulator.host},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    proc.log = log
    proc.table = f"{PROJECT}.{bq_dataset}"
    yield proc
    stop(proc, timeout=10)
    subscriber.delete_subscription(subscription=subscription, timeout=10)


def final_exposures(client, table: str, counterparties: list[str]) -> dict[str, dict]:
    """Per counterparty: the sum over windows of each window's latest pane (what consumers read)."""
    names = ", ".join(f"'{c}'" for c in counterparties)
    rows = bq_rows(
        client,
        f"""
        SELECT counterparty, pending_gross, released_gross, exposure_change_gross, exposure_change_net, event_count
        FROM `{table}.portfolio_exposures` WHERE counterparty IN ({names})
        QUALIFY ROW_NUMBER() OVER (PARTITION BY counterparty, asset, window_start ORDER BY pane_index DESC) = 1""",
    )
    totals: dict[str, dict] = {}
    for row in rows:
        entry = totals.setdefault(row.pop("counterparty"), {})
        for key, value in row.items():
            entry[key] = entry.get(key, 0) + value
    return totals


def test_rest_commands_reach_bigquery_as_exposures_through_pubsub_and_the_local_pipeline(
    api, pipeline, bigquery_emulator, record_property
):
    client = bigquery_emulator.client()
    run = uuid.uuid4().hex[:6]
    acme, globex, initech = f"acme-{run}", f"globex-{run}", f"initech-{run}"

    # the pipeline is up once a first event makes it through
    post(
        api,
        "/v1/settlements",
        {
            "reference": f"WARM-{run}",
            "payer_reference": f"warmup-{run}",
            "payee_reference": globex,
            "amount": "1.00",
            "asset": "USD",
        },
    )
    events_publish_pending()
    wait_for(
        "the warm-up event",
        lambda: bq_rows(
            client, f"SELECT event_id FROM `{pipeline.table}.settlement_events` WHERE payer_reference = 'warmup-{run}'"
        ),
        timeout=90,
        proc=pipeline,
        log=pipeline.log,
    )

    # when treasury's integrator opens two settlements and cancels one, each published as the kick would
    started = time.monotonic()
    first = post(
        api,
        "/v1/settlements",
        {
            "reference": f"A-{run}",
            "payer_reference": acme,
            "payee_reference": initech,
            "amount": "100.00",
            "asset": "USD",
        },
    )
    events_publish_pending()
    second = post(
        api,
        "/v1/settlements",
        {
            "reference": f"B-{run}",
            "payer_reference": acme,
            "payee_reference": f"umbrella-{run}",
            "amount": "50.00",
            "asset": "USD",
        },
    )
    post(api, f"/v1/settlements/{second['id']}/cancel", {"reason": "duplicate order"})
    events_publish_pending()
    # and the first event is published again (as a retry after a lost acknowledgement would)
    get_backend().publish([Event.objects.get(aggregate_id=first["id"], type="settlement.created")])

    # then its raw event row lands first ...
    wait_for(
        "the first settlement's event row",
        lambda: bq_rows(
            client, f"SELECT event_id FROM `{pipeline.table}.settlement_events` WHERE settlement_id = '{first['id']}'"
        ),
        timeout=60,
        proc=pipeline,
        log=pipeline.log,
    )
    raw_latency = time.monotonic() - started
    # ... then a pane counting it, for the payee that only the first settlement involves
    wait_for(
        "an exposure row for the first settlement",
        lambda: final_exposures(client, pipeline.table, [initech]),
        timeout=60,
        proc=pipeline,
        log=pipeline.log,
    )
    exposure_latency = time.monotonic() - started

    # and once every event is in, the exposures are exact: the duplicate is not counted twice
    expected = {
        acme: {
            "pending_gross": 15000,
            "released_gross": 5000,
            "exposure_change_gross": 10000,
            "exposure_change_net": -10000,
            "event_count": 3,
        },
        initech: {
            "pending_gross": 10000,
            "released_gross": 0,
            "exposure_change_gross": 10000,
            "exposure_change_net": 10000,
            "event_count": 1,
        },
    }
    totals = wait_for(
        "exact exposures",
        lambda: (
            (t := final_exposures(client, pipeline.table, [acme, initech]))
            and {cp: {k: Decimal(v) for k, v in t.get(cp, {}).items()} == expected[cp] for cp in expected}
            == {acme: True, initech: True}
            and t
        ),
        timeout=90,
        proc=pipeline,
        log=pipeline.log,
    )
    assert totals[acme]["event_count"] == 3
    deliveries = bq_rows(
        client, f"SELECT event_id FROM `{pipeline.table}.settlement_events` WHERE settlement_id = '{first['id']}'"
    )
    assert len(deliveries) == 2  # both deliveries recorded for audit, counted once above

    record_property("command_to_event_row_s", round(raw_latency, 2))
    record_property("command_to_exposure_row_s", round(exposure_latency, 2))
    print(
        f"\ncommand → BigQuery: event row {raw_latency:.2f} s, exposure row {exposure_latency:.2f} s "
        "(local runner, 1 s pulls, 2 s early firings)"
    )


def test_a_malformed_message_on_the_topic_becomes_a_dead_letter_row(pipeline, bigquery_emulator, settings):
    from google.cloud import pubsub_v1

    publisher = pubsub_v1.PublisherClient()
    topic = publisher.topic_path(PROJECT, settings.PUBSUB_TOPIC_SETTLEMENT_EVENTS)
    marker = uuid.uuid4().hex
    publisher.publish(topic, f'{{"oops": "{marker}"'.encode(), event_id=f"evt_{marker}").result(timeout=10)

    rows = wait_for(
        "the dead letter",
        lambda: bq_rows(
            bigquery_emulator.client(),
            f"SELECT stage, error, event_id, JSON_VALUE(attributes, '$.event_id') AS attr "
            f"FROM `{pipeline.table}.dead_letter` WHERE event_id = 'evt_{marker}'",
        ),
        timeout=90,
        proc=pipeline,
        log=pipeline.log,
    )
    assert rows[0]["stage"] == "parse" and rows[0]["error"].startswith("not JSON")
    assert rows[0]["attr"] == f"evt_{marker}"
