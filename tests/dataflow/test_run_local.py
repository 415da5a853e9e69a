"""`make pipeline` (dataflow/run_local.sh) bootstraps the emulators' topics and tables and runs the pipeline."""

import json
import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.dataflow.conftest import bq_rows
from tests.dataflow.events import envelope
from tests.support.processes import stop

pytestmark = pytest.mark.pubsub

ROOT = Path(__file__).resolve().parents[2]


def test_run_local_sh_starts_the_pipeline_against_running_emulators(pubsub_emulator, bigquery_emulator, tmp_path):
    from google.cloud import pubsub_v1

    run = uuid.uuid4().hex[:8]
    dataset, subscription = f"risk_local_{run}", f"risk-pipeline-{run}"
    log = tmp_path / "run_local.log"
    env = {
        **os.environ,
        "PUBSUB_EMULATOR_HOST": pubsub_emulator.host,
        "BIGQUERY_EMULATOR_HOST": bigquery_emulator.endpoint,
        "GCP_PROJECT_ID": bigquery_emulator.project,
        "BIGQUERY_DATASET": dataset,
        "PUBSUB_PIPELINE_SUBSCRIPTION": subscription,
        "DJANGO_SETTINGS_MODULE": "fusionprime.settings.local",
    }
    proc = subprocess.Popen(
        ["bash", "dataflow/run_local.sh", "--local_pull_timeout_seconds", "1"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    client = bigquery_emulator.client()
    try:
        deadline = time.monotonic() + 60
        while "Risk pipeline on the local runner" not in log.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.2)
        output = log.read_text()
        assert f"created  {dataset}.portfolio_exposures" in output, output

        env_ = envelope(event_id=f"evt_{run}", action="created", settlement_id=f"stl_{run}", at=0)
        event_id = env_["id"]
        publisher = pubsub_v1.PublisherClient()
        topic = publisher.topic_path(bigquery_emulator.project, "settlement.events.v1")
        publisher.publish(topic, json.dumps(env_).encode(), event_id=event_id).result(timeout=10)

        rows = []
        deadline = time.monotonic() + 90
        while not rows and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()[-3000:]
            rows = bq_rows(client, f"SELECT event_id FROM `{bigquery_emulator.project}.{dataset}.settlement_events`")
            time.sleep(0.5)
        assert rows == [{"event_id": event_id}], log.read_text()[-3000:]
    finally:
        stop(proc, timeout=15)
        client.delete_dataset(dataset, delete_contents=True, not_found_ok=True)
        pubsub_v1.SubscriberClient().delete_subscription(
            subscription=f"projects/{bigquery_emulator.project}/subscriptions/{subscription}", timeout=10
        )
