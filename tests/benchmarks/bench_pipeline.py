"""Risk pipeline: throughput on one local worker vs a plain-Python loop, and command → BigQuery latency.

1. Throughput. The same generated Pub/Sub messages go through the pipeline's own transforms (parse →
   1-minute windows → exposure per counterparty and asset) on Beam's local runners, batch, and through
   a plain loop calling the same parse and aggregate functions. Both results are checked equal.
2. Latency. Settlements created through the REST API (in-process client, real PostgreSQL), published
   by the outbox publisher to the Pub/Sub emulator, read by the pipeline (its own process, local
   runner, streaming) and written to the BigQuery emulator. Per settlement: command → its event row,
   and command → the first exposure pane counting it. Measured twice: with the runner's stock 30 s
   blocking pulls (the local floor) and with the 1 s pulls of dataflow/risk_pipeline/local_runner.py.
"""

import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.benchmarks.support import ROOT, bench_env, fresh_database, percentile, report
from tests.dataflow.events import envelope
from tests.support.bigquery import BigQueryEmulator
from tests.support.processes import PubSubEmulator, stop

EVENTS = int(os.environ.get("BENCH_PIPELINE_EVENTS", "20000"))
SETTLEMENTS = int(os.environ.get("BENCH_PIPELINE_SETTLEMENTS", "300"))
RATE = float(os.environ.get("BENCH_PIPELINE_RATE", "10"))  # settlements per second
RUNNER = "apache_beam.runners.direct.direct_runner.BundleBasedDirectRunner"
PROJECT = "fusionprime-local"


# --- 1. throughput ------------------------------------------------------------------------------


def generate_messages(n: int, *, seed: int = 7) -> list[tuple[bytes, dict]]:
    """Settlement lifecycles over 10 minutes of event time: created, then funded/cancelled/…; 2% duplicates."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    parties = [f"cp-{i:03d}" for i in range(200)]
    assets = [("USD", 2), ("EUR", 2), ("USDC", 6), ("ETH", 18)]
    out: list[tuple[bytes, dict]] = []
    i = 0
    while len(out) < n:
        payer, payee = rng.sample(parties, 2)
        asset, decimals = rng.choice(assets)
        amount = f"{rng.randint(1, 10**6)}.{rng.randint(0, 10**decimals - 1):0{decimals}d}"
        at = start + timedelta(milliseconds=rng.randint(0, 600_000))
        steps = ["created", *rng.choice([[], ["funded"], ["funded", "settled"], ["cancelled"]])]
        for seq, action in enumerate(steps, start=1):
            env = envelope(
                event_id=f"evt_{i}_{seq}",
                action=action,
                settlement_id=f"stl_{i}",
                at=(at - start).total_seconds() + 5 * seq,
                amount=amount,
                payer=payer,
                payee=payee,
                asset=asset,
                sequence=seq,
            )
            when = env["time"]
            message = (json.dumps(env, separators=(",", ":")).encode(), {"event_id": env["id"], "occurred_at": when})
            out.append(message)
            if rng.random() < 0.02:
                out.append(message)
        i += 1
    return out[:n]


def plain_loop(messages) -> dict:
    """The same parse + aggregate, no Beam: dict of (counterparty, asset, window start) → totals."""
    from dataflow.risk_pipeline.transforms import exposure_contributions, parse_settlement_event, summarize

    windows: dict[tuple, dict] = {}
    for payload, attributes in messages:
        event = parse_settlement_event(payload, attributes)
        window = int(event.occurred_at.timestamp()) // 60 * 60
        for (counterparty, asset), contribution in exposure_contributions(event):
            windows.setdefault((counterparty, asset, window), {}).setdefault(contribution[0], contribution)
    return {key: summarize(contributions.values()) for key, contributions in windows.items()}


def beam_run(messages, runner) -> tuple[dict, float]:
    import apache_beam as beam
    from apache_beam.io.gcp.pubsub import PubsubMessage

    from dataflow.risk_pipeline.transforms import ComputeExposures, ParseSettlementEvents

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        with beam.Pipeline(runner=runner) as p:
            _ = (
                (
                    p
                    | beam.Create([PubsubMessage(data, attrs) for data, attrs in messages], reshuffle=False)
                    | beam.ParDo(ParseSettlementEvents()).with_outputs("dead_letter", main="events")
                ).events
                | ComputeExposures(early_firing_seconds=0)
                | beam.Map(json.dumps)
                | beam.io.WriteToText(f"{tmp}/out")
            )
        elapsed = time.perf_counter() - started
        rows = [json.loads(line) for path in Path(tmp).glob("out*") for line in path.read_text().splitlines()]
    result = {}
    for row in rows:
        window = int(datetime.fromisoformat(row["window_start"].replace("Z", "+00:00")).timestamp())
        totals = {
            k: (int(v) if k.endswith(("_gross", "_net")) else v)
            for k, v in row.items()
            if k
            not in ("counterparty", "asset", "window_start", "window_end", "pane_timing", "pane_index", "emitted_at")
        }
        result[(row["counterparty"], row["asset"], window)] = totals
    return result, elapsed


def throughput() -> dict:
    from apache_beam.runners.direct.direct_runner import BundleBasedDirectRunner
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner

    messages = generate_messages(EVENTS)
    started = time.perf_counter()
    expected = plain_loop(messages)
    loop_s = time.perf_counter() - started
    out = {
        "events": len(messages),
        "windows_x_keys": len(expected),
        "plain_loop_events_per_s": round(len(messages) / loop_s, 1),
    }
    for name, runner in (("bundle_based_direct_runner", BundleBasedDirectRunner()), ("fn_api_runner", FnApiRunner())):
        result, elapsed = beam_run(messages, runner)
        assert result == expected, f"{name}: pipeline and plain loop disagree"
        out[f"{name}_events_per_s"] = round(len(messages) / elapsed, 1)
        out[f"{name}_vs_plain_loop"] = round(loop_s / elapsed, 3)
    return out


# --- 2. latency ---------------------------------------------------------------------------------


def latency(mode: str, pull_timeout: float, *, pubsub, bigquery) -> dict:
    from django.core.management import call_command
    from google.cloud import bigquery as bq
    from google.cloud import pubsub_v1
    from rest_framework.test import APIClient

    from dataflow.risk_pipeline import schemas
    from fusionprime.api.services import api_key_create
    from fusionprime.events.models import Event
    from fusionprime.events.services import events_publish_pending

    run = uuid.uuid4().hex[:6]
    dataset = f"bench_{run}"
    client = bigquery.client()
    schemas.bootstrap(client, dataset=dataset)
    table = f"{PROJECT}.{dataset}"
    call_command("pubsub_bootstrap", stdout=open(os.devnull, "w"))
    subscriber = pubsub_v1.SubscriberClient()
    subscription = subscriber.subscription_path(PROJECT, f"bench-{run}")
    subscriber.create_subscription(
        request={"name": subscription, "topic": f"projects/{PROJECT}/topics/settlement.events.v1"}, timeout=10
    )
    log = Path(tempfile.gettempdir()) / f"bench-pipeline-{run}.log"
    args = [
        sys.executable,
        "-m",
        "dataflow.risk_pipeline.main",
        f"--runner={RUNNER}",
        "--streaming",
        f"--project={PROJECT}",
        f"--input_subscription={subscription}",
        f"--output_project={PROJECT}",
        f"--output_dataset={dataset}",
        f"--bigquery_endpoint={bigquery.endpoint}",
        "--id_label=",
        "--early_firing_seconds=2",
        f"--local_pull_timeout_seconds={pull_timeout}",
    ]
    proc = subprocess.Popen(
        args,
        cwd=ROOT,
        env={**os.environ, "PUBSUB_EMULATOR_HOST": pubsub.host},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    api = APIClient(HTTP_HOST="localhost")
    api.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api_key_create(name=f'bench-{run}', scopes=['settlements:write']).raw_key}"
    )
    retry = bq.DEFAULT_RETRY.with_deadline(10)

    def query(sql):
        return list(client.query(sql, retry=retry, job_retry=None, timeout=10).result(timeout=10))

    def create(i: int, prefix: str):
        body = {
            "reference": f"{prefix}-{run}-{i}",
            "payer_reference": f"{prefix}-{run}-{i}",
            "payee_reference": f"house-{run}",
            "amount": "10.00",
            "asset": "USD",
        }
        response = api.post(
            "/v1/settlements",
            data=json.dumps(body),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
        )
        assert response.status_code == 201, response.content
        events_publish_pending()  # what the after-commit kick does
        return response.json()["id"]

    try:
        # warm-up: the pipeline is running once one event made it through
        create(0, "warm")
        deadline = time.monotonic() + 120
        while not query(f"SELECT 1 FROM `{table}.settlement_events` WHERE payer_reference = 'warm-{run}-0'"):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"pipeline did not start: {log.read_text()[-2000:]}")
            time.sleep(0.5)

        sent: dict[str, float] = {}
        seen_event: dict[str, float] = {}
        seen_exposure: dict[str, float] = {}
        done = threading.Event()

        def poll():
            while not done.is_set():
                now = time.monotonic()
                for row in query(
                    f"SELECT payer_reference FROM `{table}.settlement_events` WHERE payer_reference LIKE 'lat-{run}-%'"
                ):
                    seen_event.setdefault(row[0], now)
                for row in query(
                    f"SELECT DISTINCT counterparty FROM `{table}.portfolio_exposures` "
                    f"WHERE counterparty LIKE 'lat-{run}-%'"
                ):
                    seen_exposure.setdefault(row[0], now)
                time.sleep(0.2)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        started = time.monotonic()
        for i in range(SETTLEMENTS):
            time.sleep(max(0.0, started + i / RATE - time.monotonic()))
            sent[f"lat-{run}-{i}"] = time.monotonic()
            create(i, "lat")
        deadline = time.monotonic() + 120
        while (len(seen_event) < SETTLEMENTS or len(seen_exposure) < SETTLEMENTS) and time.monotonic() < deadline:
            time.sleep(0.5)
        done.set()
        poller.join(timeout=30)

        # where the time goes, from the rows themselves
        parts = query(f"""
            SELECT e.payer_reference AS party, e.occurred_at, e.received_at, MIN(x.emitted_at) AS emitted_at
            FROM `{table}.settlement_events` e
            JOIN `{table}.portfolio_exposures` x ON x.counterparty = e.payer_reference
            WHERE e.payer_reference LIKE 'lat-{run}-%' GROUP BY e.payer_reference, e.occurred_at, e.received_at""")
        published = dict(
            Event.objects.filter(data__payer_reference__startswith=f"lat-{run}-").values_list(
                "data__payer_reference", "published_at"
            )
        )
    finally:
        stop(proc, timeout=40)
        subscriber.delete_subscription(subscription=subscription, timeout=10)
        client.delete_dataset(dataset, delete_contents=True, not_found_ok=True)

    def summary(seen):
        values = [seen[k] - sent[k] for k in sent if k in seen]
        return {
            "n": len(values),
            "p50_s": round(percentile(values, 50), 2),
            "p99_s": round(percentile(values, 99), 2),
            "max_s": round(max(values), 2) if values else None,
        }

    def secs(pairs):
        values = [(b - a).total_seconds() for a, b in pairs if a and b]
        return {"p50_s": round(percentile(values, 50), 2), "p99_s": round(percentile(values, 99), 2)}

    return {
        "mode": mode,
        "settlements": SETTLEMENTS,
        "rate_per_s": RATE,
        "command_to_event_row": summary(seen_event),
        "command_to_exposure_row": summary(seen_exposure),
        "breakdown": {
            "occurred_to_published": secs((r["occurred_at"], published.get(r["party"])) for r in parts),
            "occurred_to_pipeline_received": secs((r["occurred_at"], r["received_at"]) for r in parts),
            "received_to_pane_emitted": secs((r["received_at"], r["emitted_at"]) for r in parts),
        },
    }


def run() -> dict:
    result = {"throughput": throughput()}
    print(json.dumps(result["throughput"], indent=2), flush=True)
    db_url = fresh_database("pipeline")
    pubsub = PubSubEmulator().start()
    bigquery = BigQueryEmulator(project=PROJECT).start()
    os.environ.update(bench_env(db_url, PUBSUB_EMULATOR_HOST=pubsub.host, GCP_PROJECT_ID=PROJECT))
    try:
        import django

        django.setup()
        result["latency_short_pulls"] = latency("local runner, 1 s pulls", 1, pubsub=pubsub, bigquery=bigquery)
        print(json.dumps(result["latency_short_pulls"], indent=2), flush=True)
        result["latency_stock_runner"] = latency("local runner, stock 30 s pulls", 0, pubsub=pubsub, bigquery=bigquery)
    finally:
        bigquery.stop()
        pubsub.stop()
    result["note"] = (
        "Local figures. The stock local runner blocks up to 30 s per Pub/Sub pull and nothing else moves while it "
        "waits, so exposure panes wait for the next pull: that is the ~30 s local floor. With 1 s pulls "
        "(local_runner.py) the floor goes. The sprint targets (p99 <= 30 s, lag < 10 s, > 100 events/s per worker) "
        "are for Dataflow, which reads Pub/Sub natively."
    )
    return report("pipeline", result)


if __name__ == "__main__":
    run()
